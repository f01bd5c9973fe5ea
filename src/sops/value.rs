//! The `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]` envelope, and encrypting one value into it.
//!
//! Format (`aes/cipher.go`): standard base64 with padding; the parser is the regex
//! `^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]`, greedy and unanchored at the end.
//! [`parse`] finds the same fields without a regex engine (a test checks the two agree).
//!
//! Empty plaintext is never encrypted: sops writes `""` and reads `""` back as empty.
//! Re-encrypting a value that was decrypted by the same [`ValueCipher`] reuses its IV (sops's
//! "stash"), so `set`, `edit` and `rotate` leave unchanged values byte-identical (or, for
//! `rotate`, with the same IV under the new key).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use sha2::{Digest, Sha256};
use zeroize::Zeroize;

use super::scalar::{self, ScalarError};
use super::scan;
use super::tree::Scalar;
use crate::crypto::aead::{AeadError, SOPS_IV_LEN, SopsCipher, TAG_LEN};
use crate::crypto::{DataKey, SecretBytes, random};

/// Go's `base64.StdEncoding`: padding required, non-zero trailing bits tolerated.
const GO_STD: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

const PREFIX: &str = "ENC[AES256_GCM,data:";

/// The fields of an envelope, base64-decoded.
pub struct Envelope<'a> {
    pub data: Vec<u8>,
    iv: [u8; MAX_IV_LEN],
    iv_len: usize,
    pub tag: [u8; TAG_LEN],
    pub kind: &'a str,
}

/// The longest IV accepted (sops writes 32; the AEAD supports 12, 16 and 32).
const MAX_IV_LEN: usize = 32;

impl Envelope<'_> {
    pub fn iv(&self) -> &[u8] {
        &self.iv[..self.iv_len]
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ValueError {
    /// The value is not an envelope. The value itself is not included: it may be plaintext.
    #[error("Input string does not match sops' data format")]
    NotEnvelope,
    #[error("Error base64-decoding {0}")]
    Base64(&'static str),
    #[error("Could not decrypt with AES_GCM: {0}")]
    Aead(#[from] AeadError),
    #[error(transparent)]
    Scalar(#[from] ScalarError),
}

/// True when `s` looks like an envelope (what `filestatus`-style checks need).
pub fn looks_encrypted(s: &[u8]) -> bool {
    s.starts_with(PREFIX.as_bytes())
}

/// An envelope as text, `None` for the empty one (an empty value stays empty).
fn envelope_text(envelope: Vec<u8>) -> Option<String> {
    (!envelope.is_empty()).then(|| String::from_utf8(envelope).expect("an envelope is ASCII: base64 and a type tag"))
}

/// The four raw fields of an envelope, with the regex's greedy semantics.
fn split_fields(s: &str) -> Option<[&str; 4]> {
    let rest = s.strip_prefix(PREFIX)?;
    // The regex's `.` stops at a newline, so a match lies before the first one (only the
    // unanchored end may go past it).
    let rest = rest.get(..scan::position(rest.as_bytes(), |b| b == b'\n').unwrap_or(rest.len()))?;
    // Greedy groups: each field ends at the *last* delimiter that still leaves a non-empty
    // match for the rest, so search from the right: the last ']', then the last ",type:" at
    // least a byte before it, and so on. The delimiters sit a few bytes from the end: a plain
    // backwards loop finds them sooner than the vectorised searchers, whose set-up dominated
    // for such short distances.
    let close = rest.bytes().rposition(|b| b == b']')?;
    let type_at = rfind_short(&rest[..close.checked_sub(1)?], ",type:")?;
    let (iv_at, tag_at) = match usual_layout(&rest.as_bytes()[..type_at]) {
        Some(at) => at,
        None => {
            let tag_at = rfind_short(&rest[..type_at.checked_sub(1)?], ",tag:")?;
            (rfind_short(&rest[..tag_at.checked_sub(1)?], ",iv:")?, tag_at)
        }
    };
    let fields = [&rest[..iv_at], &rest[iv_at + 4..tag_at], &rest[tag_at + 5..type_at], &rest[type_at + 6..close]];
    fields.iter().all(|f| !f.is_empty()).then_some(fields)
}

/// Where `,iv:` and `,tag:` start in `head` (an envelope up to `,type:`) when its IV and tag
/// have the lengths sops writes (32 and 16 bytes in base64). The greedy search above would
/// find the same places exactly when neither field holds a comma; two vectorised searches
/// check that instead of a walk back over both fields byte by byte.
fn usual_layout(head: &[u8]) -> Option<(usize, usize)> {
    const IV_TEXT: usize = 44;
    const TAG_TEXT: usize = 24;
    let tag_at = head.len().checked_sub(TAG_TEXT + ",tag:".len())?;
    let iv_at = tag_at.checked_sub(IV_TEXT + ",iv:".len())?;
    let fields = head.get(iv_at + ",iv:".len()..)?;
    let usual = head.get(iv_at..)?.starts_with(b",iv:")
        && head.get(tag_at..)?.starts_with(b",tag:")
        && scan::position(fields, |b| b == b',') == Some(IV_TEXT)
        && scan::position(fields.get(IV_TEXT + 1..)?, |b| b == b',').is_none();
    usual.then_some((iv_at, tag_at))
}

/// `rfind` for the short delimiters, which sit a few bytes from the end: a plain backwards
/// scan beats the general substring searcher here.
fn rfind_short(hay: &str, needle: &str) -> Option<usize> {
    // Every delimiter starts with ','; walk the commas from the right.
    let bytes = hay.as_bytes();
    let mut end = bytes.len();
    while let Some(i) = bytes[..end].iter().rposition(|&b| b == b',') {
        if bytes[i..].starts_with(needle.as_bytes()) {
            return Some(i);
        }
        end = i;
    }
    None
}

/// Decodes standard base64 into `out`. The vectorised decoder takes canonical input, which is
/// what every encoder writes; anything it refuses goes through the Go-compatible one, so the
/// accepted set is exactly Go's.
fn decode_into(text: &str, out: &mut [u8]) -> Result<usize, base64::DecodeSliceError> {
    if let Ok(len) = base64_simd::STANDARD.decoded_length(text.as_bytes())
        && len <= out.len()
        && let Ok(decoded) = base64_simd::STANDARD.decode(text.as_bytes(), base64_simd::Out::from_slice(out))
    {
        return Ok(decoded.len());
    }
    GO_STD.decode_slice(text, out)
}

/// Decodes standard base64 into a new vector, as [`decode_into`].
fn decode_vec(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    match base64_simd::STANDARD.decode_to_vec(text.as_bytes()) {
        Ok(bytes) => Ok(bytes),
        Err(_) => GO_STD.decode(text),
    }
}

/// Splits an envelope into its fields and decodes them.
pub fn parse(s: &str) -> Result<Envelope<'_>, ValueError> {
    let [data, iv, tag, kind] = split_fields(s).ok_or(ValueError::NotEnvelope)?;
    // Decoded in sops's order, so the same field is blamed first.
    let data = decode_vec(data).map_err(|_| ValueError::Base64("data"))?;
    let (iv, iv_len) = decode_iv(iv)?;
    let tag = decode_tag(tag)?;
    Ok(Envelope { data, iv, iv_len, tag, kind })
}

/// Ciphertexts up to this long are decoded on the stack by [`ValueCipher::decrypt_in_place`].
const INLINE_DATA: usize = 512;

/// Room for the decoded data field: padded base64 decodes to at most three bytes per four
/// characters.
fn data_room(data: &str) -> usize {
    data.len() / 4 * 3
}

/// What [`ValueCipher::open_fields`] found: the plaintext's length, its type tag, its IV.
struct Opened {
    len: usize,
    kind: &'static str,
    iv: [u8; MAX_IV_LEN],
    iv_len: usize,
}

impl Opened {
    fn iv(&self) -> &[u8] {
        &self.iv[..self.iv_len]
    }
}

fn decode_iv(iv: &str) -> Result<([u8; MAX_IV_LEN], usize), ValueError> {
    let mut iv_buf = [0u8; MAX_IV_LEN];
    let iv_len = decode_into(iv, &mut iv_buf).map_err(|e| match e {
        base64::DecodeSliceError::OutputSliceTooSmall => ValueError::Aead(AeadError::IvLength(iv.len() * 3 / 4)),
        base64::DecodeSliceError::DecodeError(_) => ValueError::Base64("iv"),
    })?;
    Ok((iv_buf, iv_len))
}

fn decode_tag(tag: &str) -> Result<[u8; TAG_LEN], ValueError> {
    let mut tag_buf = [0u8; TAG_LEN + 3];
    let tag_len = decode_into(tag, &mut tag_buf).map_err(|_| ValueError::Base64("tag"))?;
    if tag_len != TAG_LEN {
        return Err(ValueError::Aead(AeadError::TagLength(tag_len)));
    }
    let mut tag_out = [0u8; TAG_LEN];
    tag_out.copy_from_slice(&tag_buf[..TAG_LEN]);
    Ok(tag_out)
}

/// The length of the envelope of `len` plaintext bytes with a 32-byte IV.
pub fn envelope_len(len: usize, kind: &str) -> usize {
    let b64 = |n: usize| n.div_ceil(3) * 4;
    PREFIX.len() + b64(len) + b64(SOPS_IV_LEN) + b64(TAG_LEN) + kind.len() + 16
}

/// Writes an envelope.
pub fn format(data: &[u8], iv: &[u8], tag: &[u8], kind: &str) -> String {
    let mut out = Vec::with_capacity(envelope_len(data.len(), kind));
    format_into(&mut out, data, iv, tag, kind);
    String::from_utf8(out).expect("an envelope is ASCII: base64 and a type tag")
}

/// Appends an envelope to `out`.
fn format_into(out: &mut Vec<u8>, data: &[u8], iv: &[u8], tag: &[u8], kind: &str) {
    let e = &base64_simd::STANDARD;
    out.extend_from_slice(PREFIX.as_bytes());
    e.encode_append(data, out);
    out.extend_from_slice(b",iv:");
    e.encode_append(iv, out);
    out.extend_from_slice(b",tag:");
    e.encode_append(tag, out);
    out.extend_from_slice(b",type:");
    out.extend_from_slice(kind.as_bytes());
    out.push(b']');
}

/// AES-GCM for the values of one file, with the IV stash.
pub struct ValueCipher {
    aead: SopsCipher,
    /// (type, plaintext, AAD) fingerprint → IV of a value this cipher decrypted. Keyed by a
    /// SHA-256 fingerprint so the map itself holds no plaintext.
    stash: Mutex<HashMap<[u8; 32], [u8; SOPS_IV_LEN]>>,
    /// Whether decryption records IVs; only worth it when the values will be encrypted again.
    recording: bool,
    /// Fresh IVs.
    /// Whether the stash holds anything: encrypting a new file never takes its lock.
    stashed: AtomicBool,
}

thread_local! {
    /// Fresh IVs, one pool per thread, so that values encrypted on several threads take no
    /// shared lock. A pool only ever hands out bytes it has not handed out before.
    static IVS: std::cell::RefCell<random::Pool> = std::cell::RefCell::default();
}

fn fingerprint(kind: &str, plain: &[u8], aad: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    for part in [kind.as_bytes(), plain, aad] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    h.finalize().into()
}

impl ValueCipher {
    pub fn new(key: &DataKey) -> Self {
        Self {
            aead: SopsCipher::new(key),
            stash: Mutex::new(HashMap::new()),
            recording: true,
            stashed: AtomicBool::new(false),
        }
    }

    /// A cipher for read-only decryption: it does not remember IVs.
    pub fn read_only(key: &DataKey) -> Self {
        Self { recording: false, ..Self::new(key) }
    }

    /// A cipher for a new key that reuses the IVs `previous` saw (sops `rotate`).
    pub fn with_stash_of(key: &DataKey, previous: ValueCipher) -> Self {
        Self { aead: SopsCipher::new(key), stash: previous.stash, recording: true, stashed: previous.stashed }
    }

    /// Encrypts a value; empty strings stay empty (returns `None`).
    pub fn encrypt(&self, value: &Scalar, aad: &str) -> Result<Option<String>, ValueError> {
        Ok(envelope_text(self.encrypt_to_bytes(value, aad)?))
    }

    /// [`ValueCipher::encrypt`] as bytes, empty for an empty value: for callers that keep the
    /// envelope as bytes, which then need no UTF-8 check of every envelope.
    pub fn encrypt_to_bytes(&self, value: &Scalar, aad: &str) -> Result<Vec<u8>, ValueError> {
        let kind = scalar::type_tag(value)?;
        let plain = scalar::plaintext(value)?;
        Ok(self.envelope(kind, &plain, aad.as_bytes()))
    }

    /// Encrypts raw bytes under a type tag (comments use `comment`).
    pub fn encrypt_bytes(&self, kind: &str, plain: &[u8], aad: &str) -> Option<String> {
        envelope_text(self.envelope(kind, plain, aad.as_bytes()))
    }

    /// The envelope of `plain` in a buffer of its own size; empty for an empty plaintext.
    fn envelope(&self, kind: &str, plain: &[u8], aad: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(envelope_len(plain.len(), kind));
        self.encrypt_append(kind, plain, aad, &mut out);
        out
    }

    /// Encrypts raw bytes under a type tag and appends the envelope to `out`; appends nothing
    /// for an empty plaintext (sops leaves empty values as they are). For callers that write
    /// many values into one buffer.
    pub fn encrypt_append(&self, kind: &str, plain: &[u8], aad: &[u8], out: &mut Vec<u8>) {
        if plain.is_empty() {
            return;
        }
        let stashed = self.stash_lookup(kind, plain, aad);
        let iv = stashed.unwrap_or_else(|| IVS.with_borrow_mut(|pool| pool.take::<SOPS_IV_LEN>()));
        // Sealed in place in a copy: on the stack for the usual short value. After sealing the
        // copy holds ciphertext only, so it needs no wiping; a panic in between cannot happen
        // (sealing an in-memory buffer does not fail).
        let mut stack = [0u8; INLINE_DATA];
        let mut heap: zeroize::Zeroizing<Vec<u8>>;
        let buf: &mut [u8] = match stack.get_mut(..plain.len()) {
            Some(buf) => {
                buf.copy_from_slice(plain);
                buf
            }
            None => {
                heap = zeroize::Zeroizing::new(plain.to_vec());
                &mut heap[..]
            }
        };
        let tag = self.aead.seal_in_place(&iv, buf, aad);
        format_into(out, buf, &iv, &tag, kind);
    }

    /// Decrypts an envelope to its plaintext bytes and type tag. `""` decrypts to an empty
    /// string without being parsed.
    pub fn decrypt_bytes<'a>(&self, envelope: &'a str, aad: &str) -> Result<(SecretBytes, &'a str), ValueError> {
        if envelope.is_empty() {
            return Ok((SecretBytes::default(), "str"));
        }
        let Envelope { data, iv, iv_len, tag, kind } = parse(envelope)?;
        let env_kind = kind;
        let plain = self.aead.open_in_place(&iv[..iv_len], data, &tag, aad.as_bytes())?;
        if !self.recording {
            return Ok((plain, env_kind));
        }
        if let Ok(iv) = <[u8; SOPS_IV_LEN]>::try_from(&iv[..iv_len]) {
            let stash_kind = if env_kind == "bytes" { "str" } else { env_kind };
            self.stash.lock().expect("stash lock").insert(fingerprint(stash_kind, plain.expose(), aad.as_bytes()), iv);
            self.stashed.store(true, Ordering::Release);
        }
        Ok((plain, env_kind))
    }

    /// Decrypts the envelope held in `text` into `text` itself and returns its type tag: the
    /// plaintext is never longer than the envelope, so the buffer is reused and a file's worth
    /// of values costs no allocation (on several threads, allocating and freeing per value is
    /// what bounded the speed-up). On error `text` is left as it was.
    pub fn decrypt_in_place(&self, text: &mut SecretBytes, aad: &str) -> Result<&'static str, ValueError> {
        if text.is_empty() {
            return Ok("str");
        }
        let envelope = std::str::from_utf8(text.expose()).map_err(|_| ValueError::NotEnvelope)?;
        let fields = split_fields(envelope).ok_or(ValueError::NotEnvelope)?;
        // Only the decoded part is wiped (below), not the whole array: zeroize writes byte by
        // byte, and a 512-byte wipe per value showed in profiles.
        let mut stack = [0u8; INLINE_DATA];
        let mut heap: Vec<u8>;
        let room = data_room(fields[0]);
        let buf: &mut [u8] = match stack.get_mut(..room) {
            Some(buf) => buf,
            None => {
                heap = vec![0; room];
                &mut heap[..]
            }
        };
        let opened = self.open_fields(fields, aad.as_bytes(), buf)?;
        let plain = &mut buf[..opened.len];
        text.replace_envelope(plain);
        plain.zeroize();
        if self.recording
            && let Ok(iv) = <[u8; SOPS_IV_LEN]>::try_from(opened.iv())
        {
            let kind = opened.kind;
            let stash_kind = if kind == "bytes" { "str" } else { kind };
            self.stash.lock().expect("stash lock").insert(fingerprint(stash_kind, text.expose(), aad.as_bytes()), iv);
            self.stashed.store(true, Ordering::Release);
        }
        Ok(opened.kind)
    }

    /// Decrypts an envelope and appends its plaintext to `out`; returns the type tag. For
    /// callers that collect many values in one buffer: no allocation per value. Does not
    /// record IVs. On error `out` is as it was.
    pub fn decrypt_append(&self, envelope: &str, aad: &[u8], out: &mut Vec<u8>) -> Result<&'static str, ValueError> {
        if envelope.is_empty() {
            return Ok("str");
        }
        let fields = split_fields(envelope).ok_or(ValueError::NotEnvelope)?;
        let start = out.len();
        out.resize(start + data_room(fields[0]), 0);
        match self.open_fields(fields, aad, &mut out[start..]) {
            Ok(opened) => {
                out.truncate(start + opened.len);
                Ok(opened.kind)
            }
            Err(e) => {
                out.truncate(start);
                Err(e)
            }
        }
    }

    /// Decodes an envelope's fields and decrypts its data in `buf`, which needs
    /// [`data_room`] bytes. The fields are checked in sops's order (data, iv, tag), then the
    /// tag, then the type. On error `buf` holds no plaintext: the tag is checked before
    /// anything is decrypted, and a bad type wipes what was.
    fn open_fields(&self, [data, iv, tag, kind]: [&str; 4], aad: &[u8], buf: &mut [u8]) -> Result<Opened, ValueError> {
        let len = decode_into(data, buf).map_err(|_| ValueError::Base64("data"))?;
        let (iv, iv_len) = decode_iv(iv)?;
        let tag = decode_tag(tag)?;
        let plain = &mut buf[..len];
        self.aead.open_slice(&iv[..iv_len], plain, &tag, aad)?;
        let Some(kind) = scalar::static_tag(kind) else {
            plain.zeroize();
            return Err(ScalarError::UnknownType(kind.to_owned()).into());
        };
        Ok(Opened { len, kind, iv, iv_len })
    }

    /// Decrypts an envelope into a typed value.
    pub fn decrypt(&self, envelope: &str, aad: &str) -> Result<Scalar, ValueError> {
        let (plain, kind) = self.decrypt_bytes(envelope, aad)?;
        Ok(scalar::from_plaintext(kind, plain)?)
    }

    fn stash_lookup(&self, kind: &str, plain: &[u8], aad: &[u8]) -> Option<[u8; SOPS_IV_LEN]> {
        if !self.stashed.load(Ordering::Acquire) {
            return None;
        }
        let stash = self.stash.lock().expect("stash lock");
        if stash.is_empty() {
            return None;
        }
        stash.get(&fingerprint(kind, plain, aad)).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn round_trip_and_iv_reuse() {
        let key = DataKey::generate();
        let cipher = ValueCipher::new(&key);
        let enc = cipher.encrypt(&Scalar::str("hunter2"), "app:password:").unwrap().unwrap();
        assert!(enc.starts_with(PREFIX) && enc.ends_with(",type:str]"));
        let again = cipher.encrypt(&Scalar::str("hunter2"), "app:password:").unwrap().unwrap();
        assert_ne!(enc, again, "fresh IVs until the value has been decrypted");
        let value = cipher.decrypt(&enc, "app:password:").unwrap();
        assert!(value.same_as(&Scalar::str("hunter2")));
        let reused = cipher.encrypt(&Scalar::str("hunter2"), "app:password:").unwrap().unwrap();
        assert_eq!(enc, reused, "the stash reuses the IV of a decrypted value");
        assert!(cipher.decrypt(&enc, "app:other:").is_err(), "AAD binds the path");
        assert!(cipher.encrypt(&Scalar::str(""), "a:").unwrap().is_none());
        assert!(cipher.decrypt("", "a:").unwrap().same_as(&Scalar::str("")));
    }

    #[test]
    fn decrypt_in_place_reuses_the_buffer_and_keeps_it_on_failure() {
        let key = DataKey::generate();
        let cipher = ValueCipher::read_only(&key);
        let long = "x".repeat(INLINE_DATA + 10);
        for (plain, value) in
            [("hunter2", Scalar::str("hunter2")), ("42", Scalar::Int(42)), (long.as_str(), Scalar::str(&long))]
        {
            let enc = cipher.encrypt(&value, "a:b:").unwrap().unwrap();
            let mut text = SecretBytes::from(enc.as_str());
            assert!(cipher.decrypt_in_place(&mut text, "a:c:").is_err(), "wrong AAD");
            assert_eq!(text.expose(), enc.as_bytes(), "a failed decryption leaves the envelope");
            let kind = cipher.decrypt_in_place(&mut text, "a:b:").unwrap();
            assert_eq!((kind, text.expose()), (scalar::type_tag(&value).unwrap(), plain.as_bytes()));
        }
        let mut bad = SecretBytes::from("ENC[AES256_GCM,data:!!!!,iv:AA==,tag:AA==,type:str]");
        assert!(matches!(cipher.decrypt_in_place(&mut bad, "a:"), Err(ValueError::Base64("data"))));
        let mut empty = SecretBytes::default();
        assert_eq!(cipher.decrypt_in_place(&mut empty, "a:").unwrap(), "str");
    }

    #[test]
    fn parse_errors() {
        assert!(matches!(parse("hello"), Err(ValueError::NotEnvelope)));
        assert!(matches!(parse("ENC[AES256_GCM,data:,iv:a,tag:b,type:str]"), Err(ValueError::NotEnvelope)));
        assert!(matches!(
            parse("ENC[AES256_GCM,data:!!!!,iv:AA==,tag:AA==,type:str]"),
            Err(ValueError::Base64("data"))
        ));
        // A delimiter that would leave the next field empty is not the one the regex takes:
        // it backtracks to the one before.
        assert_eq!(split_fields("ENC[AES256_GCM,data:a,iv:b,tag:c,tag:,type:str]"), Some(["a", "b", "c,tag:", "str"]));
        assert_eq!(split_fields("ENC[AES256_GCM,data:a,iv:b,tag:c,type:]x]"), Some(["a", "b", "c", "]x"]));
        // `.` stops at a newline.
        assert_eq!(split_fields("ENC[AES256_GCM,data:a\n,iv:b,tag:c,type:str]"), None);
        // Trailing text after the last ']' is accepted, as by the unanchored regex.
        let e = parse("ENC[AES256_GCM,data:AA==,iv:AA==,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]trailing").unwrap();
        assert_eq!(e.kind, "str");
    }

    proptest! {
        /// The hand-written splitter agrees with sops's own regex on arbitrary strings built
        /// from the delimiter alphabet.
        #[test]
        fn matches_the_sops_regex(body in "[a-zA-Z0-9+/=,:\\]\\[\n]{0,40}") {
            let re = regex::Regex::new(r"^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]").unwrap();
            let s = format!("{PREFIX}{body}");
            let ours = split_fields(&s).map(|f| f.map(str::to_owned));
            let theirs = re.captures(&s).map(|c| [1, 2, 3, 4].map(|n| c[n].to_owned()));
            prop_assert_eq!(ours, theirs);
        }

        /// The same near the lengths sops writes, where the fast layout check decides: IVs
        /// and tags of about the usual lengths, some with a delimiter's character (or a whole
        /// delimiter) written over one of theirs.
        #[test]
        fn matches_the_sops_regex_near_the_usual_layout(
            data in "[A-Za-z0-9+/=,:]{0,12}",
            iv_len in prop_oneof![3 => Just(44usize), 1 => 40usize..48],
            tag_len in prop_oneof![3 => Just(24usize), 1 => 20usize..28],
            edits in proptest::collection::vec((any::<prop::sample::Index>(), "[,:\n]|,iv:|,tag:|,type:"), 0..3),
            kind in "str|int|[a-z,:]{1,6}",
        ) {
            let re = regex::Regex::new(r"^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]").unwrap();
            let mut s = format!("{PREFIX}{data},iv:{},tag:{},type:{kind}]", "A".repeat(iv_len), "B".repeat(tag_len));
            for (at, text) in edits {
                let at = PREFIX.len() + at.index(s.len() - PREFIX.len());
                s.replace_range(at..(at + text.len()).min(s.len()), &text);
            }
            let ours = split_fields(&s).map(|f| f.map(str::to_owned));
            let theirs = re.captures(&s).map(|c| [1, 2, 3, 4].map(|n| c[n].to_owned()));
            prop_assert_eq!(ours, theirs, "{}", s);
        }

        /// The vectorised path accepts and decodes exactly what the Go-compatible decoder
        /// does: canonical base64 of any length, plus the odd shapes (non-canonical trailing
        /// bits, bad padding, stray characters).
        #[test]
        fn fast_base64_agrees_with_go_semantics(
            bytes in proptest::collection::vec(any::<u8>(), 0..80),
            edit in proptest::option::of((any::<prop::sample::Index>(), prop::sample::select(&b"A=+/_-\n ."[..]))),
        ) {
            let mut text = base64::engine::general_purpose::STANDARD.encode(&bytes).into_bytes();
            if let Some((at, c)) = edit && !text.is_empty() {
                let i = at.index(text.len());
                text[i] = c;
            }
            let text = String::from_utf8(text).unwrap();
            prop_assert_eq!(decode_vec(&text).ok(), GO_STD.decode(&text).ok());
            let (mut a, mut b) = ([0u8; 64], [0u8; 64]);
            let ours = decode_into(&text, &mut a[..32]).map(|n| a[..n].to_vec()).ok();
            let theirs = GO_STD.decode_slice(&text, &mut b[..32]).map(|n| b[..n].to_vec()).ok();
            prop_assert_eq!(ours, theirs);
        }
    }
}
