//! AES-256-GCM, in the two shapes the formats need.
//!
//! * sops encrypts every value with the file's data key and a **32-byte** random IV
//!   (`aes/cipher.go`, `nonceSize = 32`); GCM then derives its counter block by GHASHing the IV
//!   (NIST SP 800-38D §7.1). On decrypt sops accepts whatever IV length the file carries.
//! * sealed-secrets encrypts one payload per fresh session key with a 12-byte all-zero nonce.
//!
//! See `docs/formats/sops.md` for the value envelope.

use aes_gcm::aead::consts::{U12, U16, U32};
use aes_gcm::aead::{Aead, AeadInOut, KeyInit, Payload};
use aes_gcm::{AesGcm, aes::Aes256};

use super::secret::{DataKey, SecretBytes};

/// The GCM tag length for both formats.
pub const TAG_LEN: usize = 16;
/// The IV length sops writes.
pub const SOPS_IV_LEN: usize = 32;

type Gcm32 = AesGcm<Aes256, U32>;
type Gcm16 = AesGcm<Aes256, U16>;
type Gcm12 = AesGcm<Aes256, U12>;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AeadError {
    /// Wrong key, wrong AAD, or tampered ciphertext; deliberately not more specific.
    #[error("cipher: message authentication failed")]
    Authentication,
    #[error("unsupported GCM IV length {0} (supported: 12, 16, 32)")]
    IvLength(usize),
    #[error("GCM tag must be {TAG_LEN} bytes, got {0}")]
    TagLength(usize),
}

/// AES-256-GCM keyed once with a sops data key, reused for every value of a file.
pub struct SopsCipher {
    gcm32: Gcm32,
    key: DataKey,
}

impl SopsCipher {
    pub fn new(key: &DataKey) -> Self {
        Self { gcm32: Gcm32::new(key.expose().into()), key: key.clone() }
    }

    /// Encrypts with a 32-byte IV; returns `(ciphertext, tag)`.
    pub fn seal(&self, iv: &[u8; SOPS_IV_LEN], plaintext: &[u8], aad: &[u8]) -> (Vec<u8>, [u8; TAG_LEN]) {
        let mut out = self
            .gcm32
            .encrypt(iv.into(), Payload { msg: plaintext, aad })
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        split_tag(&mut out)
    }

    /// Encrypts `buf` in place with a 32-byte IV and returns the tag.
    pub fn seal_in_place(&self, iv: &[u8; SOPS_IV_LEN], buf: &mut [u8], aad: &[u8]) -> [u8; TAG_LEN] {
        let tag = self
            .gcm32
            .encrypt_inout_detached(iv.into(), aad, buf.into())
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        tag.into()
    }

    /// Decrypts `buf` (the ciphertext) in place. The tag is checked before anything is
    /// decrypted, so on failure `buf` still holds only ciphertext.
    pub fn open_in_place(
        &self,
        iv: &[u8],
        mut buf: Vec<u8>,
        tag: &[u8; TAG_LEN],
        aad: &[u8],
    ) -> Result<SecretBytes, AeadError> {
        self.open_slice(iv, &mut buf, tag, aad)?;
        Ok(SecretBytes::new(buf))
    }

    /// Decrypts `buf` in place, as [`SopsCipher::open_in_place`], for callers that own the
    /// buffer (and wipe it).
    pub fn open_slice(&self, iv: &[u8], buf: &mut [u8], tag: &[u8; TAG_LEN], aad: &[u8]) -> Result<(), AeadError> {
        let tag = tag.into();
        let opened = match iv.len() {
            32 => self.gcm32.decrypt_inout_detached(nonce(iv), aad, buf.into(), tag),
            16 => Gcm16::new(self.key.expose().into()).decrypt_inout_detached(nonce(iv), aad, buf.into(), tag),
            12 => Gcm12::new(self.key.expose().into()).decrypt_inout_detached(nonce(iv), aad, buf.into(), tag),
            n => return Err(AeadError::IvLength(n)),
        };
        opened.map_err(|_| AeadError::Authentication)
    }

    /// Decrypts a value whose IV may have any supported length (sops writes 32).
    pub fn open(&self, iv: &[u8], ciphertext: &[u8], tag: &[u8], aad: &[u8]) -> Result<SecretBytes, AeadError> {
        if tag.len() != TAG_LEN {
            return Err(AeadError::TagLength(tag.len()));
        }
        let mut joined = Vec::with_capacity(ciphertext.len() + TAG_LEN);
        joined.extend_from_slice(ciphertext);
        joined.extend_from_slice(tag);
        let payload = Payload { msg: &joined, aad };
        let plain = match iv.len() {
            32 => self.gcm32.decrypt(nonce(iv), payload),
            16 => Gcm16::new(self.key.expose().into()).decrypt(nonce(iv), payload),
            12 => Gcm12::new(self.key.expose().into()).decrypt(nonce(iv), payload),
            n => return Err(AeadError::IvLength(n)),
        };
        plain.map(SecretBytes::new).map_err(|_| AeadError::Authentication)
    }
}

/// sealed-secrets' payload encryption: a one-time session key and a 12-byte zero nonce.
/// Returns `ciphertext ‖ tag`, as Go's `gcm.Seal` does.
pub fn seal_zero_nonce(key: &DataKey, plaintext: &[u8]) -> Vec<u8> {
    Gcm12::new(key.expose().into())
        .encrypt(&[0u8; 12].into(), plaintext)
        .expect("AES-GCM encryption of an in-memory buffer cannot fail")
}

/// Opens `ciphertext ‖ tag` made by [`seal_zero_nonce`].
pub fn open_zero_nonce(key: &DataKey, sealed: &[u8]) -> Result<SecretBytes, AeadError> {
    Gcm12::new(key.expose().into())
        .decrypt(&[0u8; 12].into(), sealed)
        .map(SecretBytes::new)
        .map_err(|_| AeadError::Authentication)
}

/// A length-checked view of `iv` as a GCM nonce of size `N`.
fn nonce<N: aes_gcm::aead::array::ArraySize>(iv: &[u8]) -> &aes_gcm::aead::array::Array<u8, N> {
    iv.try_into().expect("IV length checked by the caller")
}

fn split_tag(out: &mut Vec<u8>) -> (Vec<u8>, [u8; TAG_LEN]) {
    let at = out.len() - TAG_LEN;
    let mut tag = [0u8; TAG_LEN];
    tag.copy_from_slice(&out[at..]);
    out.truncate(at);
    (std::mem::take(out), tag)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::{Engine, engine::general_purpose::STANDARD};

    /// Known-answer vector made with Python `cryptography` (AESGCM, 32-byte IV) for the crate
    /// evaluation: key 00..1f, IV 00 07 0e … (step 7), AAD `data:password:`.
    #[test]
    fn matches_reference_vector_with_32_byte_iv() {
        let key = DataKey::from_slice(&(0u8..32).collect::<Vec<_>>()).expect("32 bytes");
        let mut iv = [0u8; 32];
        for (i, b) in iv.iter_mut().enumerate() {
            *b = (i * 7) as u8;
        }
        let cipher = SopsCipher::new(&key);
        let (ct, tag) = cipher.seal(&iv, b"hello world", b"data:password:");
        assert_eq!(STANDARD.encode(&ct), "joDKM+65gocZ2Cg=");
        assert_eq!(STANDARD.encode(tag), "o3poaH5x3DwhISVAphYywg==");
        assert_eq!(STANDARD.encode(iv), "AAcOFRwjKjE4P0ZNVFtiaXB3foWMk5qhqK+2vcTL0tk=");
        let plain = cipher.open(&iv, &ct, &tag, b"data:password:").expect("opens");
        assert_eq!(plain.expose(), b"hello world");
    }

    #[test]
    fn wrong_aad_or_tampering_fails() {
        let key = DataKey::generate();
        let cipher = SopsCipher::new(&key);
        let iv = [1u8; 32];
        let (mut ct, tag) = cipher.seal(&iv, b"secret", b"a:");
        assert_eq!(cipher.open(&iv, &ct, &tag, b"b:").err(), Some(AeadError::Authentication));
        ct[0] ^= 1;
        assert_eq!(cipher.open(&iv, &ct, &tag, b"a:").err(), Some(AeadError::Authentication));
        assert_eq!(cipher.open(&[0u8; 7], &ct, &tag, b"a:").err(), Some(AeadError::IvLength(7)));
    }

    #[test]
    fn zero_nonce_round_trip() {
        let key = DataKey::generate();
        let sealed = seal_zero_nonce(&key, b"payload");
        assert_eq!(sealed.len(), 7 + TAG_LEN);
        assert_eq!(open_zero_nonce(&key, &sealed).expect("opens").expose(), b"payload");
        assert!(open_zero_nonce(&DataKey::generate(), &sealed).is_err());
    }
}
