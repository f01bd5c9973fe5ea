//! Sealing keys as the controller stores them: `kubernetes.io/tls` Secrets with `tls.crt` (the
//! first certificate counts) and `tls.key` (PKCS#1 or PKCS#8), labelled
//! `sealedsecrets.bitnami.com/sealed-secrets-key: active`; and the ordered set of them. The
//! newest key seals; every key unseals. Keys are identified by their OpenSSH SHA-256
//! fingerprint. Spec: `shared/specs/sealed-secrets.md` §1.7, §4.

use serde::Deserialize;

use super::document::{DocumentError, Secret, parse_object};
use crate::crypto::rsa::{Certificate, PrivateKey, RsaError};

/// The label that marks key Secrets; only the value [`ACTIVE`] is loaded by the controller.
pub const KEY_LABEL: &str = "sealedsecrets.bitnami.com/sealed-secrets-key";
/// The label value of keys in use.
pub const ACTIVE: &str = "active";

/// Errors of this module; each names the key Secret and the field.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    #[error(transparent)]
    Document(#[from] DocumentError),
    #[error("{object}: {field} is missing")]
    Missing { object: String, field: &'static str },
    #[error("{object}: {field}: {source}")]
    Rsa {
        object: String,
        field: &'static str,
        #[source]
        source: RsaError,
    },
    #[error("{object}: tls.crt holds key {cert} but tls.key is key {key}")]
    Mismatch { object: String, cert: String, key: String },
    #[error("{what}: expected a Secret or a List of Secrets, found kind {kind:?}")]
    Kind { what: String, kind: String },
}

impl KeyError {
    /// A stable identifier for metrics and event reasons.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Document(e) => e.kind(),
            Self::Missing { .. } => "missing",
            Self::Rsa { source, .. } => source.kind(),
            Self::Mismatch { .. } => "mismatch",
            Self::Kind { .. } => "kind",
        }
    }
}

/// One sealing key pair. No `Debug`: it holds a private key.
pub struct SealingKey {
    name: Option<String>,
    created: Option<String>,
    certificate: Certificate,
    private: PrivateKey,
}

impl SealingKey {
    /// From the PEM texts of `tls.crt` and `tls.key`; the two must hold the same key.
    pub fn from_pem(object: &str, tls_crt: &[u8], tls_key: &[u8]) -> Result<Self, KeyError> {
        let rsa = |field| move |source| KeyError::Rsa { object: object.to_owned(), field, source };
        let certificate = Certificate::from_pem(tls_crt).map_err(rsa("tls.crt"))?;
        let private = PrivateKey::from_pem(tls_key).map_err(rsa("tls.key"))?;
        let (cert, key) = (certificate.public_key().fingerprint(), private.public_key().fingerprint());
        if cert != key {
            return Err(KeyError::Mismatch { object: object.to_owned(), cert: cert.to_owned(), key: key.to_owned() });
        }
        Ok(Self { name: None, created: None, certificate, private })
    }

    /// From a key Secret (its labels are not checked: a caller that lists Secrets selects them).
    pub fn from_secret(secret: &Secret) -> Result<Self, KeyError> {
        let object = format!("Secret {}", secret.metadata.display_name());
        let field = |name: &'static str| {
            secret.data.get(name).ok_or_else(|| KeyError::Missing { object: object.clone(), field: name })
        };
        let mut key = Self::from_pem(&object, field("tls.crt")?.expose(), field("tls.key")?.expose())?;
        key.name.clone_from(&secret.metadata.name);
        key.created = secret.metadata.extra.get("creationTimestamp").and_then(|v| v.as_str()).map(str::to_owned);
        Ok(key)
    }

    /// The Secret's name, when the key came from one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The Secret's `creationTimestamp` (RFC 3339), when known.
    pub fn created(&self) -> Option<&str> {
        self.created.as_deref()
    }

    /// `SHA256:…`, as `ssh-keygen -lf` prints it for this public key.
    pub fn fingerprint(&self) -> &str {
        self.certificate.public_key().fingerprint()
    }

    /// The certificate (public).
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    /// The private key.
    pub fn private_key(&self) -> &PrivateKey {
        &self.private
    }
}

/// Which key counts as the newest (`--key-order-priority`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum KeyOrder {
    /// The certificate's `NotBefore` (the controller's default).
    #[default]
    CertNotBefore,
    /// The key Secret's `creationTimestamp`.
    SecretCreationTimestamp,
}

/// Sealing keys ordered oldest → newest, one per fingerprint.
#[derive(Default)]
pub struct KeySet {
    keys: Vec<SealingKey>,
}

impl KeySet {
    /// Orders `keys` and drops repeated fingerprints (the first one seen stays).
    pub fn new(keys: Vec<SealingKey>, order: KeyOrder) -> Self {
        let mut unique: Vec<SealingKey> = Vec::with_capacity(keys.len());
        for key in keys {
            if !unique.iter().any(|k| k.fingerprint() == key.fingerprint()) {
                unique.push(key);
            }
        }
        match order {
            KeyOrder::CertNotBefore => unique.sort_by_key(|k| k.certificate.not_before()),
            // RFC 3339 UTC timestamps, as the API server writes them, sort as strings.
            KeyOrder::SecretCreationTimestamp => unique.sort_by(|a, b| a.created.cmp(&b.created)),
        }
        Self { keys: unique }
    }

    /// Reads key Secrets from JSON or YAML: one `Secret`, or a `v1` `List` of them (what
    /// `kubectl get secret -l sealedsecrets.bitnami.com/sealed-secrets-key -o yaml` prints).
    pub fn parse_secrets(input: &[u8], what: &str) -> Result<Vec<SealingKey>, KeyError> {
        #[derive(Deserialize)]
        struct Probe {
            #[serde(default)]
            kind: Option<String>,
            #[serde(default)]
            items: Vec<serde_json::Value>,
        }
        let probe: Probe = parse_object(input, what)?;
        match probe.kind.as_deref() {
            Some("Secret") => Ok(vec![SealingKey::from_secret(&Secret::parse(input, what)?)?]),
            Some("List" | "SecretList") => probe
                .items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let json = serde_json::to_vec(item).expect("a parsed value serialises");
                    SealingKey::from_secret(&Secret::parse(&json, &format!("{what}: items[{i}]"))?)
                })
                .collect(),
            other => Err(KeyError::Kind { what: what.to_owned(), kind: other.unwrap_or_default().to_owned() }),
        }
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when there are no keys.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The sealing key: the newest.
    pub fn latest(&self) -> Option<&SealingKey> {
        self.keys.last()
    }

    /// Keys newest first: the order to try them in when unsealing.
    pub fn newest_first(&self) -> impl Iterator<Item = &SealingKey> {
        self.keys.iter().rev()
    }

    /// The private keys, newest first, for [`SealedSecret::unseal`](super::document::SealedSecret::unseal).
    pub fn private_keys(&self) -> Vec<&PrivateKey> {
        self.newest_first().map(SealingKey::private_key).collect()
    }

    /// The key with this fingerprint.
    pub fn get(&self, fingerprint: &str) -> Option<&SealingKey> {
        self.keys.iter().find(|k| k.fingerprint() == fingerprint)
    }
}
