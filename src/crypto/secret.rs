//! Containers for plaintext and key material.
//!
//! Every byte that was, or will be, encrypted lives in one of these types while it is in memory.
//! They wipe their buffer when dropped, and deliberately implement neither `Debug`, `Display`
//! nor `Serialize`: printing or logging a secret has to go through [`SecretBytes::expose`] or
//! [`SecretString::expose`], which is easy to find in review.

use zeroize::{Zeroize, Zeroizing};

/// Secret bytes: a decrypted value, a data key, a key share.
///
/// Usually valid UTF-8 (a sops string value), but sops strings are Go strings, which are byte
/// strings: the binary and dotenv stores can carry any byte.
#[derive(Clone, Default)]
pub struct SecretBytes {
    bytes: Vec<u8>,
    /// The spare capacity has never held a byte (see [`SecretBytes::with_capacity`]), so
    /// dropping wipes the bytes alone instead of the whole capacity.
    spare_unused: bool,
}

impl SecretBytes {
    /// Takes ownership of `bytes`; the buffer, spare capacity included, is wiped when the value
    /// is dropped.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self { bytes, spare_unused: false }
    }

    /// An empty buffer with room for `capacity` bytes, which is only ever appended to
    /// ([`SecretBytes::append`]): dropping it wipes the bytes written, not the whole capacity,
    /// so a generous reservation that is never written costs nothing (wiping the 5 MB reserved
    /// for a decrypted 1 MB file touched every page of it).
    pub fn with_capacity(capacity: usize) -> Self {
        Self { bytes: Vec::with_capacity(capacity), spare_unused: true }
    }

    /// Copies `bytes` into a new secret buffer.
    pub fn from_slice(bytes: &[u8]) -> Self {
        Self::new(bytes.to_vec())
    }

    /// Appends `bytes`, growing as [`reserve_wiping`] does.
    pub fn append(&mut self, bytes: &[u8]) {
        reserve_wiping(&mut self.bytes, bytes.len());
        self.bytes.extend_from_slice(bytes);
    }

    /// The secret bytes. Call sites are the audit trail: keep them few.
    pub fn expose(&self) -> &[u8] {
        &self.bytes
    }

    /// Gives up the secrecy of bytes that turned out not to be secret (ciphertext made in a
    /// buffer shared with plaintext code): the buffer is no longer wiped. An audit point, like
    /// [`SecretBytes::expose`].
    pub fn declassify(mut self) -> Vec<u8> {
        std::mem::take(&mut self.bytes)
    }

    /// The bytes as text when they are valid UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.bytes).ok()
    }

    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Replaces an encrypted envelope held here with its plaintext `bytes`, reusing the buffer
    /// when it is large enough. The old contents are ciphertext, so they are not wiped now; the
    /// whole buffer, spare capacity included, is wiped on drop.
    pub fn replace_envelope(&mut self, bytes: &[u8]) {
        self.bytes.clear();
        self.spare_unused = false;
        self.bytes.extend_from_slice(bytes);
    }

    /// Takes the contents, leaving this empty.
    pub fn take(&mut self) -> SecretBytes {
        std::mem::take(self)
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

/// Makes room for `room` more bytes in a buffer that may hold secrets. A buffer that has to grow
/// is moved by hand and the old one wiped, spare capacity included: a reallocation would leave
/// a copy behind. It at least doubles, so a buffer that is reused soon stops growing.
pub fn reserve_wiping(bytes: &mut Vec<u8>, room: usize) {
    if bytes.capacity() - bytes.len() < room {
        let mut grown = Vec::with_capacity((bytes.len() + room).max(bytes.capacity() * 2));
        grown.extend_from_slice(bytes);
        bytes.zeroize();
        *bytes = grown;
    }
}

impl Drop for SecretBytes {
    fn drop(&mut self) {
        if self.spare_unused {
            self.bytes.as_mut_slice().zeroize();
        } else {
            self.bytes.zeroize();
        }
    }
}

impl PartialEq for SecretBytes {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}

impl Eq for SecretBytes {}

impl From<Vec<u8>> for SecretBytes {
    fn from(bytes: Vec<u8>) -> Self {
        Self::new(bytes)
    }
}

impl From<String> for SecretBytes {
    fn from(text: String) -> Self {
        Self::new(text.into_bytes())
    }
}

impl From<&str> for SecretBytes {
    fn from(text: &str) -> Self {
        Self::from_slice(text.as_bytes())
    }
}

/// Secret text: an identity file, an age secret key, a passphrase.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretString(Zeroizing<String>);

impl SecretString {
    pub fn new(text: String) -> Self {
        Self(Zeroizing::new(text))
    }

    /// The secret text. Call sites are the audit trail: keep them few.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for SecretString {
    fn from(text: String) -> Self {
        Self::new(text)
    }
}

/// A 32-byte AES-256 key: the sops data key or a sealed-secrets session key.
#[derive(Clone)]
pub struct DataKey(Zeroizing<[u8; 32]>);

impl DataKey {
    pub const LEN: usize = 32;

    /// A fresh key from the operating system's CSPRNG.
    pub fn generate() -> Self {
        let mut key = Zeroizing::new([0u8; 32]);
        crate::crypto::random::fill(&mut key[..]);
        Self(key)
    }

    /// Wraps exactly 32 bytes; anything else is refused.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != Self::LEN {
            return None;
        }
        let mut key = Zeroizing::new([0u8; 32]);
        key.copy_from_slice(bytes);
        Some(Self(key))
    }

    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl PartialEq for DataKey {
    fn eq(&self, other: &Self) -> bool {
        // Constant-time enough for 32 bytes compared in tests and key-group checks: fold all
        // differences before deciding.
        self.0.iter().zip(other.0.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }
}

impl Eq for DataKey {}

/// Overwrites every string of a JSON value before it is dropped. Secrets carried as JSON
/// objects (generated, decrypted or unsealed ones, their data as base64 plaintext) cannot live
/// in [`SecretBytes`], so their holders call this from `Drop` or before letting a part go.
pub fn wipe_json(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(s) => s.zeroize(),
        serde_json::Value::Array(items) => items.iter_mut().for_each(wipe_json),
        serde_json::Value::Object(map) => map.values_mut().for_each(wipe_json),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_key_requires_32_bytes() {
        assert!(DataKey::from_slice(&[0u8; 31]).is_none());
        assert!(DataKey::from_slice(&[0u8; 33]).is_none());
        let key = DataKey::from_slice(&[7u8; 32]).expect("32 bytes");
        assert_eq!(key.expose(), &[7u8; 32]);
    }

    #[test]
    fn generated_keys_differ() {
        assert!(DataKey::generate() != DataKey::generate());
    }

    #[test]
    fn secret_bytes_text_view() {
        assert_eq!(SecretBytes::from("hé").as_str(), Some("hé"));
        assert_eq!(SecretBytes::new(vec![0xff]).as_str(), None);
    }

    /// Appending keeps every byte in order, past the reserved capacity too (where the buffer
    /// is moved by hand), and equality looks at the bytes only.
    #[test]
    fn appended_buffers_keep_their_bytes() {
        let mut out = SecretBytes::with_capacity(4);
        let mut expected = Vec::new();
        for piece in [&b"ab"[..], b"cd", b"efghij", b"", b"k"] {
            out.append(piece);
            expected.extend_from_slice(piece);
            assert_eq!(out.expose(), expected.as_slice());
        }
        assert!(out == SecretBytes::from_slice(&expected));
        assert_eq!(out.declassify(), expected);
    }
}
