//! The sealed-secrets hybrid scheme (upstream `pkg/crypto` `HybridEncrypt`/`HybridDecrypt`), byte
//! for byte:
//!
//! ```text
//! u16be(L) ‖ RSA-OAEP(SHA-256, MGF1-SHA-256, label)(session_key[32]) [L bytes] ‖ AES-GCM(session_key, nonce = 0¹², no AAD)(plaintext) ‖ tag[16]
//! ```
//!
//! A fresh session key per item is what makes the all-zero nonce safe. The OAEP label binds the
//! item to its scope: strict = `namespace/name`, namespace-wide = `namespace`, cluster-wide =
//! empty. Spec: `shared/specs/sealed-secrets.md` §1; docs: `docs/formats/sealed-secrets.md`.

use aes_gcm::AesGcm;
use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::aes::{Aes128, Aes192};

use crate::crypto::aead;
use crate::crypto::rsa::{PrivateKey, PublicKey, RsaError};
use crate::crypto::secret::{DataKey, SecretBytes};

/// Annotation that makes a SealedSecret namespace-wide when its value is exactly `"true"`.
pub const NAMESPACE_WIDE_ANNOTATION: &str = "sealedsecrets.bitnami.com/namespace-wide";
/// Annotation that makes a SealedSecret cluster-wide when its value is exactly `"true"`.
pub const CLUSTER_WIDE_ANNOTATION: &str = "sealedsecrets.bitnami.com/cluster-wide";

/// Errors of the hybrid scheme. Opening failures say nothing about which step failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum SchemeError {
    /// Upstream's `ErrTooShort` text.
    #[error("SealedSecret data is too short")]
    TooShort,
    /// Upstream's text when every key failed (wrong key, wrong scope, or damage).
    #[error("no key could decrypt secret")]
    NoKeyCouldDecrypt,
    #[error(transparent)]
    Rsa(#[from] RsaError),
    #[error("RSA ciphertext of {0} bytes does not fit the 2-byte length prefix")]
    KeyTooLarge(usize),
}

impl SchemeError {
    /// A stable identifier for metrics and event reasons.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::TooShort => "too_short",
            Self::NoKeyCouldDecrypt => "no_key",
            Self::Rsa(e) => e.kind(),
            Self::KeyTooLarge(_) => "key_too_large",
        }
    }
}

/// Who may open a sealed value: it decides the OAEP label.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Only a Secret with this exact namespace and name (the default).
    #[default]
    Strict,
    /// Any name in this namespace.
    NamespaceWide,
    /// Any namespace, any name.
    ClusterWide,
}

impl Scope {
    /// The scope a set of annotations expresses, as upstream's `SecretScope`: cluster-wide wins
    /// over namespace-wide, and only the exact value `"true"` counts.
    pub fn from_annotations<'a>(annotations: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let (mut cluster, mut namespace) = (false, false);
        for (k, v) in annotations {
            cluster |= k == CLUSTER_WIDE_ANNOTATION && v == "true";
            namespace |= k == NAMESPACE_WIDE_ANNOTATION && v == "true";
        }
        match (cluster, namespace) {
            (true, _) => Self::ClusterWide,
            (false, true) => Self::NamespaceWide,
            (false, false) => Self::Strict,
        }
    }

    /// The OAEP label for an object with this scope.
    pub fn label(self, namespace: &str, name: &str) -> Vec<u8> {
        match self {
            Self::Strict => format!("{namespace}/{name}").into_bytes(),
            Self::NamespaceWide => namespace.as_bytes().to_vec(),
            Self::ClusterWide => Vec::new(),
        }
    }

    /// The annotation that expresses this scope (none for strict).
    pub fn annotation(self) -> Option<&'static str> {
        match self {
            Self::Strict => None,
            Self::NamespaceWide => Some(NAMESPACE_WIDE_ANNOTATION),
            Self::ClusterWide => Some(CLUSTER_WIDE_ANNOTATION),
        }
    }

    /// kubeseal's `--scope` spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Strict => "strict",
            Self::NamespaceWide => "namespace-wide",
            Self::ClusterWide => "cluster-wide",
        }
    }
}

impl std::str::FromStr for Scope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "strict" => Ok(Self::Strict),
            "namespace-wide" => Ok(Self::NamespaceWide),
            "cluster-wide" => Ok(Self::ClusterWide),
            other => Err(format!("unknown scope {other:?} (strict, namespace-wide, cluster-wide)")),
        }
    }
}

/// Seals `plaintext` to `public` under `label`, with a fresh random session key.
pub fn hybrid_encrypt(public: &PublicKey, plaintext: &[u8], label: &[u8]) -> Result<Vec<u8>, SchemeError> {
    let session = DataKey::generate();
    let wrapped = public.encrypt(session.expose(), label)?;
    let len = u16::try_from(wrapped.len()).map_err(|_| SchemeError::KeyTooLarge(wrapped.len()))?;
    let payload = aead::seal_zero_nonce(&session, plaintext);
    let mut out = Vec::with_capacity(2 + wrapped.len() + payload.len());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&wrapped);
    out.extend_from_slice(&payload);
    Ok(out)
}

/// Opens a sealed value with the first of `keys` that works (pass them newest first: the
/// newest key is the likeliest). Every failure after the length checks is the same
/// [`SchemeError::NoKeyCouldDecrypt`].
pub fn hybrid_decrypt<'k>(
    keys: impl IntoIterator<Item = &'k PrivateKey>,
    blob: &[u8],
    label: &[u8],
) -> Result<SecretBytes, SchemeError> {
    let Some((len, rest)) = blob.split_first_chunk::<2>() else {
        return Err(SchemeError::TooShort);
    };
    let len = usize::from(u16::from_be_bytes(*len));
    if rest.len() < len {
        return Err(SchemeError::TooShort);
    }
    let (wrapped, payload) = rest.split_at(len);
    for key in keys {
        let Ok(session) = key.decrypt(wrapped, label) else { continue };
        if let Some(plain) = open_payload(session.expose(), payload) {
            return Ok(plain);
        }
    }
    Err(SchemeError::NoKeyCouldDecrypt)
}

/// AES-GCM open with a zero nonce. Go's `aes.NewCipher` takes 16, 24 and 32-byte keys, so a
/// foreign sealer using AES-128 or AES-192 still opens upstream; we accept the same.
fn open_payload(session: &[u8], payload: &[u8]) -> Option<SecretBytes> {
    let nonce = [0u8; 12].into();
    match session.len() {
        32 => aead::open_zero_nonce(&DataKey::from_slice(session)?, payload).ok(),
        16 => AesGcm::<Aes128, U12>::new_from_slice(session).ok()?.decrypt(&nonce, payload).ok().map(SecretBytes::new),
        24 => AesGcm::<Aes192, U12>::new_from_slice(session).ok()?.decrypt(&nonce, payload).ok().map(SecretBytes::new),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    fn keys() -> &'static [PrivateKey; 2] {
        static KEYS: OnceLock<[PrivateKey; 2]> = OnceLock::new();
        KEYS.get_or_init(|| [PrivateKey::generate(2048).unwrap(), PrivateKey::generate(2048).unwrap()])
    }

    #[test]
    fn layout_and_round_trip() {
        let [a, b] = keys();
        let blob = hybrid_encrypt(b.public_key(), b"hello", b"demo/mysecret").unwrap();
        assert_eq!(&blob[..2], &[0x01, 0x00]);
        assert_eq!(blob.len(), 2 + 256 + 5 + 16);
        assert_eq!(hybrid_decrypt([a, b], &blob, b"demo/mysecret").unwrap().expose(), b"hello");
        assert_eq!(hybrid_decrypt([a], &blob, b"demo/mysecret").err(), Some(SchemeError::NoKeyCouldDecrypt));
        assert_eq!(hybrid_decrypt([a, b], &blob, b"demo").err(), Some(SchemeError::NoKeyCouldDecrypt));
    }

    #[test]
    fn short_input() {
        let [a, _] = keys();
        assert_eq!(hybrid_decrypt([a], &[1], b"").err(), Some(SchemeError::TooShort));
        assert_eq!(hybrid_decrypt([a], &[1, 0, 5], b"").err(), Some(SchemeError::TooShort));
        // A length that fits but is garbage: no key opens it.
        assert_eq!(hybrid_decrypt([a], &[0, 1, 5], b"").err(), Some(SchemeError::NoKeyCouldDecrypt));
    }

    #[test]
    fn short_session_keys_open_like_go() {
        let [a, _] = keys();
        for len in [16usize, 24] {
            let session = vec![7u8; len];
            let wrapped = a.public_key().encrypt(&session, b"").unwrap();
            let ct = match len {
                16 => AesGcm::<Aes128, U12>::new_from_slice(&session).unwrap().encrypt(&[0u8; 12].into(), &b"x"[..]),
                _ => AesGcm::<Aes192, U12>::new_from_slice(&session).unwrap().encrypt(&[0u8; 12].into(), &b"x"[..]),
            }
            .unwrap();
            let mut blob = (wrapped.len() as u16).to_be_bytes().to_vec();
            blob.extend_from_slice(&wrapped);
            blob.extend_from_slice(&ct);
            assert_eq!(hybrid_decrypt([a], &blob, b"").unwrap().expose(), b"x", "AES-{}", len * 8);
        }
    }

    #[test]
    fn scope_rules() {
        let s = |pairs: &[(&'static str, &'static str)]| Scope::from_annotations(pairs.iter().copied());
        assert_eq!(s(&[]), Scope::Strict);
        assert_eq!(s(&[(NAMESPACE_WIDE_ANNOTATION, "true")]), Scope::NamespaceWide);
        assert_eq!(s(&[(NAMESPACE_WIDE_ANNOTATION, "True")]), Scope::Strict);
        assert_eq!(s(&[(CLUSTER_WIDE_ANNOTATION, "1")]), Scope::Strict);
        assert_eq!(s(&[(NAMESPACE_WIDE_ANNOTATION, "true"), (CLUSTER_WIDE_ANNOTATION, "true")]), Scope::ClusterWide);
        assert_eq!(Scope::Strict.label("demo", "x"), b"demo/x");
        assert_eq!(Scope::NamespaceWide.label("demo", "x"), b"demo");
        assert_eq!(Scope::ClusterWide.label("demo", "x"), b"");
    }
}
