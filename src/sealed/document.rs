//! The `bitnami.com/v1alpha1` `SealedSecret` object, and the two conversions the tools make:
//! a `v1` Secret → SealedSecret (kubeseal's `NewSealedSecret`) and SealedSecret → Secret data
//! (the controller's `Unseal`).
//!
//! Scope at unseal time comes from the **outer** `metadata` (name, namespace, annotations), never
//! from `spec.template.metadata`, exactly as upstream; that is what keeps the CVE-2026-22728
//! input shape (a cluster-wide annotation only in the template) strict.
//! Spec: `shared/specs/sealed-secrets.md` §1.3, §2, §3.1; docs: `docs/formats/sealed-secrets.md`.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use zeroize::Zeroize as _;

use super::scheme::{self, Scope};
use crate::crypto::rsa::{PrivateKey, PublicKey};
use crate::crypto::secret::SecretBytes;

/// The API version of every SealedSecret.
pub const API_VERSION: &str = "bitnami.com/v1alpha1";
/// The kind.
pub const KIND: &str = "SealedSecret";
/// Largest document accepted (the Flux per-manifest limit).
pub const MAX_DOCUMENT_BYTES: usize = 5 * 1024 * 1024;
/// Annotations kubeseal strips from the template at seal time (upstream issue #227).
const LAST_APPLIED: [&str; 2] =
    ["kubectl.kubernetes.io/last-applied-configuration", "kubecfg.ksonnet.io/last-applied-configuration"];
/// Metadata fields the API server sets, which kubeseal strips (plus `ownerReferences`, #243).
const SERVER_SET: [&str; 9] = [
    "ownerReferences",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
];

/// Go's `base64.StdEncoding`: padded, but tolerant of non-zero trailing bits.
const GO_STD: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

/// Errors of this module; each names the object (`namespace/name`) and the field.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum DocumentError {
    #[error("{what}: document is {len} bytes, over the {MAX_DOCUMENT_BYTES}-byte limit")]
    TooLarge { what: String, len: usize },
    #[error("{what}: cannot parse as {format}: {message}")]
    Parse { what: String, format: &'static str, message: String },
    #[error("{object}: {field} is {found:?}, expected {expected:?}")]
    WrongType { object: String, field: &'static str, found: String, expected: &'static str },
    #[error("{object}: {field} is missing")]
    Missing { object: String, field: &'static str },
    #[error("{object}: {field}: {message}")]
    Invalid { object: String, field: String, message: String },
    /// One or more items failed; the message is upstream's, e.g.
    /// `no key could decrypt secret (password, username)`.
    #[error("{object}: {message}")]
    Unseal { object: String, message: String },
    /// A `spec.template.data` entry failed to render (the message names the key, line and
    /// column, never a value).
    #[error("{object}: spec.template.data: {source}")]
    Template {
        object: String,
        #[source]
        source: super::template::TemplateError,
    },
    #[error("{object}: {source}")]
    Seal {
        object: String,
        #[source]
        source: scheme::SchemeError,
    },
}

impl DocumentError {
    /// A stable identifier for metrics and event reasons.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "too_large",
            Self::Parse { .. } => "parse",
            Self::WrongType { .. } => "wrong_type",
            Self::Missing { .. } => "missing",
            Self::Invalid { .. } => "invalid",
            Self::Unseal { .. } => "unseal",
            Self::Template { .. } => "template",
            Self::Seal { .. } => "seal",
        }
    }
}

/// The parts of Kubernetes `ObjectMeta` the tools read; everything else is kept in `extra`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Fields this model does not interpret (`creationTimestamp: null`, `uid`, …), kept as they are.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl ObjectMeta {
    /// `namespace/name` for messages (`?` where absent).
    pub fn display_name(&self) -> String {
        format!("{}/{}", self.namespace.as_deref().unwrap_or("?"), self.name.as_deref().unwrap_or("?"))
    }

    /// The scope these annotations express.
    pub fn scope(&self) -> Scope {
        Scope::from_annotations(self.annotations.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }
}

/// `spec.template`: what the controller copies onto the Secret it creates.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretTemplate {
    #[serde(default, deserialize_with = "nullable_meta")]
    pub metadata: ObjectMeta,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub immutable: Option<bool>,
    /// Go `text/template` strings rendered over the decrypted items.
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "BTreeMap::is_empty")]
    pub data: BTreeMap<String, String>,
}

/// `spec`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SealedSecretSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<SecretTemplate>,
    /// Item name → base64 of one hybrid-encrypted value.
    #[serde(default, deserialize_with = "nullable")]
    pub encrypted_data: BTreeMap<String, String>,
    /// The deprecated v1 single blob.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
}

/// A `bitnami.com/v1alpha1` `SealedSecret`. Only ciphertext: `Debug` is safe.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SealedSecret {
    pub kind: String,
    pub api_version: String,
    #[serde(default, deserialize_with = "nullable_meta")]
    pub metadata: ObjectMeta,
    pub spec: SealedSecretSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<serde_json::Value>,
}

/// A plaintext `v1` Secret: input of sealing, output of unsealing. No `Debug`.
#[derive(Clone, Default)]
pub struct Secret {
    pub metadata: ObjectMeta,
    pub type_: Option<String>,
    pub immutable: Option<bool>,
    pub data: BTreeMap<String, SecretBytes>,
}

/// The wire shape of a Secret (base64 `data`, plain `stringData`), used only while parsing.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SecretWire {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default, deserialize_with = "nullable_meta")]
    metadata: ObjectMeta,
    #[serde(default, rename = "type")]
    type_: Option<String>,
    #[serde(default)]
    immutable: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    data: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "nullable")]
    string_data: BTreeMap<String, String>,
}

impl Secret {
    /// Parses a `v1` Secret from JSON or YAML. `what` names the input in errors. `stringData`
    /// entries win over `data` entries of the same key, as in the API server.
    pub fn parse(input: &[u8], what: &str) -> Result<Self, DocumentError> {
        let mut wire: SecretWire = parse_object(input, what)?;
        let object = format!("Secret {}", wire.metadata.display_name());
        if let Some(kind) = wire.kind.as_deref().filter(|k| *k != "Secret") {
            return Err(DocumentError::WrongType { object, field: "kind", found: kind.to_owned(), expected: "Secret" });
        }
        let mut data = BTreeMap::new();
        for (key, mut b64) in std::mem::take(&mut wire.data) {
            let decoded = decode_b64(&b64).map_err(|message| DocumentError::Invalid {
                object: object.clone(),
                field: format!("data.{key}"),
                message,
            });
            b64.zeroize();
            data.insert(key, SecretBytes::new(decoded?));
        }
        for (key, mut text) in std::mem::take(&mut wire.string_data) {
            data.insert(key, SecretBytes::from_slice(text.as_bytes()));
            text.zeroize();
        }
        Ok(Self { metadata: wire.metadata, type_: wire.type_, immutable: wire.immutable, data })
    }

    /// Seals this Secret to `public` as kubeseal does (`NewSealedSecret`): the scope comes from
    /// this Secret's annotations; the outer metadata gets name, namespace and the scope
    /// annotation; the template is a copy of this Secret's metadata without
    /// `last-applied-configuration`, `ownerReferences`, and server-set fields.
    pub fn seal(&self, public: &PublicKey) -> Result<SealedSecret, DocumentError> {
        let object = format!("Secret {}", self.metadata.display_name());
        let name = self
            .metadata
            .name
            .clone()
            .ok_or(DocumentError::Missing { object: object.clone(), field: "metadata.name" })?;
        let scope = self.metadata.scope();
        let namespace = match (&self.metadata.namespace, scope) {
            (Some(ns), _) => ns.clone(),
            (None, Scope::ClusterWide) => String::new(),
            (None, _) => return Err(DocumentError::Missing { object, field: "metadata.namespace" }),
        };
        let label = scope.label(&namespace, &name);
        let mut encrypted_data = BTreeMap::new();
        for (key, value) in &self.data {
            let blob = scheme::hybrid_encrypt(public, value.expose(), &label)
                .map_err(|source| DocumentError::Seal { object: object.clone(), source })?;
            encrypted_data.insert(key.clone(), base64::engine::general_purpose::STANDARD.encode(blob));
        }
        let mut template_meta = self.metadata.clone();
        for annotation in LAST_APPLIED {
            template_meta.annotations.remove(annotation);
        }
        for server_set in SERVER_SET {
            template_meta.extra.remove(server_set);
        }
        let mut outer =
            ObjectMeta { name: Some(name), namespace: self.metadata.namespace.clone(), ..ObjectMeta::default() };
        if let Some(annotation) = scope.annotation() {
            outer.annotations.insert(annotation.to_owned(), "true".to_owned());
        }
        Ok(SealedSecret {
            kind: KIND.to_owned(),
            api_version: API_VERSION.to_owned(),
            metadata: outer,
            spec: SealedSecretSpec {
                template: Some(SecretTemplate {
                    metadata: template_meta,
                    type_: self.type_.clone(),
                    immutable: self.immutable,
                    data: BTreeMap::new(),
                }),
                encrypted_data,
                data: None,
            },
            status: None,
        })
    }
}

impl SealedSecret {
    /// Parses one SealedSecret from JSON or YAML (a leading `---` is fine), refusing anything
    /// that is not `bitnami.com/v1alpha1` `SealedSecret`. `what` names the input in errors.
    pub fn parse(input: &[u8], what: &str) -> Result<Self, DocumentError> {
        let doc: Self = parse_object(input, what)?;
        let object = format!("SealedSecret {}", doc.metadata.display_name());
        if doc.kind != KIND {
            return Err(DocumentError::WrongType { object, field: "kind", found: doc.kind, expected: KIND });
        }
        if doc.api_version != API_VERSION {
            return Err(DocumentError::WrongType {
                object,
                field: "apiVersion",
                found: doc.api_version,
                expected: API_VERSION,
            });
        }
        Ok(doc)
    }

    /// `SealedSecret namespace/name`, for messages.
    pub fn object_name(&self) -> String {
        format!("SealedSecret {}", self.metadata.display_name())
    }

    /// The scope of this object, from the **outer** annotations.
    pub fn scope(&self) -> Scope {
        self.metadata.scope()
    }

    /// The OAEP label every item must have been sealed with.
    pub fn label(&self) -> Vec<u8> {
        self.scope().label(
            self.metadata.namespace.as_deref().unwrap_or_default(),
            self.metadata.name.as_deref().unwrap_or_default(),
        )
    }

    /// Decrypts every `encryptedData` item with the first key that opens it (pass keys newest
    /// first). Failures are grouped by message and name the items, as upstream:
    /// `no key could decrypt secret (password, username)`.
    pub fn unseal_items(&self, keys: &[&PrivateKey]) -> Result<BTreeMap<String, SecretBytes>, DocumentError> {
        let object = self.object_name();
        if self.spec.data.is_some() {
            if !self.spec.encrypted_data.is_empty() {
                return Err(DocumentError::Invalid {
                    object,
                    field: "spec".into(),
                    message: "cannot use the field 'encryptedData' and the deprecated field 'data' at the same time"
                        .into(),
                });
            }
            return Ok(self.unseal_legacy(keys)?.data);
        }
        let label = self.label();
        let open = |b64: &String| {
            decode_b64(b64)
                .and_then(|blob| scheme::hybrid_decrypt(keys.iter().copied(), &blob, &label).map_err(|e| e.to_string()))
        };
        // Each item costs one RSA private-key operation (~7 ms at 4096 bits): spread them over
        // the cores, keeping document order for the results.
        let items: Vec<(&String, &String)> = self.spec.encrypted_data.iter().collect();
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(items.len()).max(1);
        let opened: Vec<Result<SecretBytes, String>> = if threads == 1 {
            items.iter().map(|(_, b64)| open(b64)).collect()
        } else {
            let chunk = items.len().div_ceil(threads);
            std::thread::scope(|scope| {
                let workers: Vec<_> = items
                    .chunks(chunk)
                    .map(|part| scope.spawn(|| part.iter().map(|(_, b64)| open(b64)).collect::<Vec<_>>()))
                    .collect();
                workers.into_iter().flat_map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect()
            })
        };
        let mut out = BTreeMap::new();
        let mut failures: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for ((key, _), opened) in items.into_iter().zip(opened) {
            match opened {
                Ok(plain) => {
                    out.insert(key.clone(), plain);
                }
                Err(message) => failures.entry(message).or_default().push(key),
            }
        }
        if failures.is_empty() {
            return Ok(out);
        }
        let message = failures
            .into_iter()
            .map(|(message, items)| format!("{message} ({})", items.join(", ")))
            .collect::<Vec<_>>()
            .join("\n");
        Err(DocumentError::Unseal { object, message })
    }

    /// The Secret the controller would create: template metadata, type and immutability, name
    /// and namespace forced to this object's, and the decrypted items. Owner references are the
    /// controller's business and are not added here. `spec.template.data` entries are Go
    /// templates over the decrypted items (docs/formats/sealed-secrets-templates.md); each one
    /// sets (or overrides) the item of its name, as the controller does.
    pub fn unseal(&self, keys: &[&PrivateKey]) -> Result<Secret, DocumentError> {
        if self.spec.data.is_some() && self.spec.encrypted_data.is_empty() {
            return self.unseal_legacy(keys);
        }
        let template = self.spec.template.clone().unwrap_or_default();
        let mut data = self.unseal_items(keys)?;
        if !template.data.is_empty() {
            // Every template sees the same items: the decrypted ones, not earlier renderings.
            let items: super::template::TemplateData = data.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            let renderer = super::template::Renderer::new(super::template::Limits::default());
            for (key, text) in &template.data {
                let rendered = renderer
                    .render(key, text, &items)
                    .map_err(|source| DocumentError::Template { object: self.object_name(), source })?;
                data.insert(key.clone(), rendered);
            }
        }
        let mut metadata = template.metadata;
        metadata.name.clone_from(&self.metadata.name);
        metadata.namespace.clone_from(&self.metadata.namespace);
        Ok(Secret { metadata, type_: template.type_, immutable: template.immutable, data })
    }

    /// The deprecated v1 format (`shared/specs/sealed-secrets.md` §1.6): `spec.data` is one
    /// hybrid-encrypted blob holding a whole `v1` Secret as JSON, under the same scope label.
    /// The template is ignored on this path; name and namespace are forced to this object's, as
    /// upstream's controller does. (Upstream accepts it unless `--accept-deprecated-v1-data=false`;
    /// the daemon applies that switch before calling this.)
    fn unseal_legacy(&self, keys: &[&PrivateKey]) -> Result<Secret, DocumentError> {
        let object = self.object_name();
        let b64 = self.spec.data.as_deref().unwrap_or_default();
        let blob = decode_b64(b64).map_err(|message| DocumentError::Invalid {
            object: object.clone(),
            field: "spec.data".into(),
            message,
        })?;
        let plain = scheme::hybrid_decrypt(keys.iter().copied(), &blob, &self.label())
            .map_err(|e| DocumentError::Unseal { object: object.clone(), message: format!("{e} (spec.data)") })?;
        let mut secret = Secret::parse(plain.expose(), &format!("{object} spec.data"))?;
        secret.metadata.name.clone_from(&self.metadata.name);
        secret.metadata.namespace.clone_from(&self.metadata.namespace);
        Ok(secret)
    }

    /// JSON as kubeseal prints it: two-space indent and a trailing newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a SealedSecret always serialises");
        s.push('\n');
        s
    }
}

/// Go `base64.StdEncoding` decoding, which skips `\r` and `\n`. The error text is Go's, with
/// the offset into the original input (for a short final group, where that group starts).
fn decode_b64(text: &str) -> Result<Vec<u8>, String> {
    let raw_offsets: Vec<usize> =
        text.bytes().enumerate().filter(|(_, b)| !matches!(b, b'\r' | b'\n')).map(|(i, _)| i).collect();
    let cleaned: Vec<u8> = raw_offsets.iter().map(|&i| text.as_bytes()[i]).collect();
    let raw = |at: usize| raw_offsets.get(at).copied().unwrap_or(text.len());
    GO_STD.decode(&cleaned).map_err(|e| {
        let at = match e {
            base64::DecodeError::InvalidByte(at, _) | base64::DecodeError::InvalidLastSymbol(at, _) => raw(at),
            _ => raw(cleaned.len() - cleaned.len() % 4),
        };
        format!("illegal base64 data at input byte {at}")
    })
}

/// Parses one object from JSON (if it starts with `{`) or YAML, under [`MAX_DOCUMENT_BYTES`]
/// and serde-saphyr's default alias/depth budget.
pub(crate) fn parse_object<T: DeserializeOwned>(input: &[u8], what: &str) -> Result<T, DocumentError> {
    if input.len() > MAX_DOCUMENT_BYTES {
        return Err(DocumentError::TooLarge { what: what.to_owned(), len: input.len() });
    }
    let parse_error =
        |format, message: String| DocumentError::Parse { what: what.to_owned(), format, message: redact(&message) };
    let first = input.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'{') {
        serde_json::from_slice(input).map_err(|e| parse_error("JSON", e.to_string()))
    } else {
        let text = std::str::from_utf8(input).map_err(|e| parse_error("YAML", e.to_string()))?;
        serde_saphyr::from_str(text).map_err(|e| parse_error("YAML", e.to_string()))
    }
}

/// A parser message without anything it quoted from the input: the first line only (serde-saphyr
/// appends the offending source lines), and every `"…"` emptied (serde quotes the values it
/// rejects). A Secret's input is plaintext; its parse errors must not repeat it.
fn redact(message: &str) -> String {
    let first = message.lines().next().unwrap_or_default();
    let mut out = String::with_capacity(first.len());
    let mut quoted = false;
    for c in first.chars() {
        if c == '"' {
            if !quoted {
                out.push_str("\"…");
            }
            quoted = !quoted;
            if !quoted {
                out.push('"');
            }
        } else if !quoted {
            out.push(c);
        }
    }
    out
}

/// A map field that may be `null` (Kubernetes writes `annotations: null` at times).
fn nullable<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    Ok(Option::<BTreeMap<String, String>>::deserialize(d)?.unwrap_or_default())
}

fn nullable_meta<'de, D: Deserializer<'de>>(d: D) -> Result<ObjectMeta, D::Error> {
    Ok(Option::<ObjectMeta>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_base64_rules() {
        assert_eq!(decode_b64("aGVs\r\nbG8=").unwrap(), b"hello");
        // Go's StdEncoding is not strict about the unused bits of the last symbol.
        assert_eq!(decode_b64("aGVsbG9=").unwrap(), b"hello");
        assert_eq!(decode_b64("aGVsbG8").unwrap_err(), "illegal base64 data at input byte 4");
        assert_eq!(decode_b64("NOTVALIDBASE64").unwrap_err(), "illegal base64 data at input byte 12");
        assert_eq!(decode_b64("aGV*bG8=").unwrap_err(), "illegal base64 data at input byte 3");
    }

    #[test]
    fn refuses_other_kinds_and_big_input() {
        let e = SealedSecret::parse(br#"{"kind":"Secret","apiVersion":"v1","spec":{}}"#, "x").unwrap_err();
        assert_eq!(e.kind(), "wrong_type");
        let big = vec![b' '; MAX_DOCUMENT_BYTES + 1];
        assert_eq!(SealedSecret::parse(&big, "x").unwrap_err().kind(), "too_large");
        let e = SealedSecret::parse(b"kind: SealedSecret\napiVersion: bitnami.com/v1alpha1\n", "in.yaml").unwrap_err();
        assert!(e.to_string().starts_with("in.yaml: cannot parse as YAML"), "{e}");
    }

    #[test]
    fn parse_errors_do_not_repeat_the_input() {
        for input in [
            &b"kind: Secret\nstringData: {password: \"hunter2-marker}\n"[..],
            b"kind: Secret\nstringData: {password: [hunter2-marker]}\n",
            br#"{"kind":"Secret","stringData":{"password":["hunter2-marker"]}}"#,
            br#"{"kind":"Secret","stringData":"hunter2-marker"}"#,
        ] {
            let Err(e) = Secret::parse(input, "in") else { panic!("must fail") };
            let text = e.to_string();
            assert!(text.starts_with("in: cannot parse as"), "{text}");
            assert!(!text.contains("hunter2"), "{text}");
        }
        assert_eq!(
            redact("invalid type: string \"x y\", expected a map\n  | more"),
            "invalid type: string \"…\", expected a map"
        );
    }

    #[test]
    fn sealing_strips_server_set_fields() {
        let input = br#"{"kind":"Secret","metadata":{"name":"a","namespace":"b","uid":"u","selfLink":"/x",
            "generation":3,"resourceVersion":"9","creationTimestamp":"2026-01-01T00:00:00Z",
            "deletionTimestamp":"2026-01-02T00:00:00Z","deletionGracePeriodSeconds":30,"ownerReferences":[],
            "managedFields":[],"generateName":"keep-",
            "annotations":{"kubecfg.ksonnet.io/last-applied-configuration":"{}",
            "kubectl.kubernetes.io/last-applied-configuration":"{}","keep":"yes"}},"stringData":{"k":"v"}}"#;
        let key = PrivateKey::generate(2048).unwrap();
        let sealed = Secret::parse(input, "x").unwrap().seal(key.public_key()).unwrap();
        let meta = sealed.spec.template.unwrap().metadata;
        assert_eq!(meta.extra.keys().collect::<Vec<_>>(), ["generateName"]);
        assert_eq!(meta.annotations.keys().collect::<Vec<_>>(), ["keep"]);
    }

    #[test]
    fn null_maps_and_unknown_fields_are_accepted() {
        let doc = SealedSecret::parse(
            b"apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: a\n  namespace: b\n  annotations: null\n  creationTimestamp: null\nspec:\n  encryptedData: {}\n  template:\n    metadata: null\n",
            "x",
        )
        .unwrap();
        assert_eq!(doc.scope(), Scope::Strict);
        assert_eq!(doc.label(), b"b/a");
        assert!(doc.metadata.extra.contains_key("creationTimestamp"));
    }

    /// A v1 object as upstream's `NewSealedSecretV1` made them: the whole Secret as JSON, sealed
    /// as one blob under the scope label, base64 in `spec.data`.
    fn legacy(key: &PrivateKey, secret_json: &str, name: &str, namespace: &str) -> SealedSecret {
        let label = format!("{namespace}/{name}");
        let blob = scheme::hybrid_encrypt(key.public_key(), secret_json.as_bytes(), label.as_bytes()).unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode(blob);
        let text = format!(
            "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: {name}\n  namespace: {namespace}\nspec:\n  encryptedData: {{}}\n  template:\n    type: ignored/on-this-path\n  data: {b64}\n"
        );
        SealedSecret::parse(text.as_bytes(), "legacy.yaml").unwrap()
    }

    #[test]
    fn legacy_v1_data_unseals_with_name_and_namespace_forced() {
        let key = PrivateKey::generate(2048).unwrap();
        let json = r#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"other","namespace":"elsewhere","labels":{"app":"db"}},"type":"kubernetes.io/basic-auth","data":{"password":"aHVudGVyMg=="},"stringData":{"username":"admin"}}"#;
        let doc = legacy(&key, json, "db", "prod");
        let secret = doc.unseal(&[&key]).unwrap();
        assert_eq!(secret.metadata.name.as_deref(), Some("db"));
        assert_eq!(secret.metadata.namespace.as_deref(), Some("prod"));
        assert_eq!(secret.metadata.labels.get("app").map(String::as_str), Some("db"));
        assert_eq!(secret.type_.as_deref(), Some("kubernetes.io/basic-auth"));
        assert_eq!(secret.data["password"].expose(), b"hunter2");
        assert_eq!(secret.data["username"].expose(), b"admin");
        assert_eq!(doc.unseal_items(&[&key]).unwrap().len(), 2);
    }

    #[test]
    fn legacy_v1_data_is_bound_to_its_label_and_exclusive() {
        let key = PrivateKey::generate(2048).unwrap();
        let json = r#"{"kind":"Secret","data":{"k":"dg=="}}"#;
        let mut moved = legacy(&key, json, "db", "prod");
        moved.metadata.namespace = Some("staging".into());
        let e = moved.unseal(&[&key]).err().expect("wrong label must fail");
        assert_eq!(e.kind(), "unseal");
        assert!(e.to_string().contains("spec.data"), "{e}");
        let mut both = legacy(&key, json, "db", "prod");
        both.spec.encrypted_data.insert("k".into(), "AAAA".into());
        let e = both.unseal(&[&key]).err().expect("both fields");
        assert!(
            e.to_string()
                .contains("cannot use the field 'encryptedData' and the deprecated field 'data' at the same time"),
            "{e}"
        );
    }
}
