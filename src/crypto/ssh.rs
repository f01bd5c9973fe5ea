//! age's `ssh-ed25519` recipient type, implemented on the age traits.
//!
//! The `age` crate has this behind its `ssh` feature, which also pulls `rsa` 0.9 and its open
//! Marvin advisory (RUSTSEC-2023-0071). Ed25519 needs none of that, so it lives here, written
//! from the age specification (<https://github.com/C2SP/C2SP/blob/main/age.md>, "ssh-ed25519"):
//!
//! * stanza `-> ssh-ed25519 <tag> <ephemeral share>`, tag = SHA-256(ssh wire key)[..4];
//! * the X25519 key is the Ed25519 key mapped to Montgomery form (public) or the clamped
//!   SHA-512 of the seed (private);
//! * the shared secret is multiplied once more by `tweak = HKDF(salt = ssh wire key,
//!   info = "age-encryption.org/v1/ssh-ed25519")`, then wrapped like an X25519 stanza.
//!
//! `ssh-rsa` recipients and passphrase-protected private keys are refused with a clear error.

use std::collections::HashSet;

use age::{DecryptError, EncryptError};
use age_core::format::{FileKey, Stanza};
use age_core::primitives::{aead_decrypt, aead_encrypt, hkdf};
use age_core::secrecy::ExposeSecret;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use curve25519_dalek::edwards::CompressedEdwardsY;
use sha2::{Digest, Sha256, Sha512};
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

const STANZA_TAG: &str = "ssh-ed25519";
const KEY_LABEL: &[u8] = b"age-encryption.org/v1/ssh-ed25519";
const ED25519: &str = "ssh-ed25519";
const FILE_KEY_LEN: usize = 16;
const WRAPPED_FILE_KEY_LEN: usize = FILE_KEY_LEN + 16;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SshError {
    #[error("not an ssh public key line")]
    NotPublicKey,
    #[error("ssh key type {0} is not supported (only ssh-ed25519; ssh-rsa needs an RSA library with an open advisory)")]
    Unsupported(String),
    #[error("malformed ssh key: {0}")]
    Malformed(&'static str),
    #[error(
        "passphrase-protected ssh keys are not supported: remove the passphrase with `ssh-keygen -p` into a private location, or use an age key"
    )]
    Encrypted,
}

/// An `ssh-ed25519` public key used as an age recipient.
#[derive(Clone)]
pub struct Recipient {
    wire: Vec<u8>,
    montgomery: PublicKey,
}

/// An unencrypted OpenSSH Ed25519 private key used as an age identity.
#[derive(Clone)]
pub struct Identity {
    wire: Vec<u8>,
    secret: StaticSecret,
    public: PublicKey,
}

fn ssh_tag(wire: &[u8]) -> [u8; 4] {
    let digest = Sha256::digest(wire);
    [digest[0], digest[1], digest[2], digest[3]]
}

/// Reads one SSH wire-format `string` (u32 big-endian length, then bytes).
fn read_string<'a>(input: &mut &'a [u8]) -> Result<&'a [u8], SshError> {
    if input.len() < 4 {
        return Err(SshError::Malformed("truncated length"));
    }
    let len = u32::from_be_bytes([input[0], input[1], input[2], input[3]]) as usize;
    let rest = &input[4..];
    if rest.len() < len {
        return Err(SshError::Malformed("truncated string"));
    }
    let (value, tail) = rest.split_at(len);
    *input = tail;
    Ok(value)
}

fn read_u32(input: &mut &[u8]) -> Result<u32, SshError> {
    if input.len() < 4 {
        return Err(SshError::Malformed("truncated integer"));
    }
    let v = u32::from_be_bytes([input[0], input[1], input[2], input[3]]);
    *input = &input[4..];
    Ok(v)
}

/// The Ed25519 point inside an `ssh-ed25519` wire key, mapped to X25519.
fn montgomery_from_wire(wire: &[u8]) -> Result<PublicKey, SshError> {
    let mut cursor = wire;
    let kind = read_string(&mut cursor)?;
    if kind != ED25519.as_bytes() {
        return Err(SshError::Unsupported(String::from_utf8_lossy(kind).into_owned()));
    }
    let point = read_string(&mut cursor)?;
    let bytes: [u8; 32] = point.try_into().map_err(|_| SshError::Malformed("ed25519 key is not 32 bytes"))?;
    let edwards =
        CompressedEdwardsY(bytes).decompress().ok_or(SshError::Malformed("ed25519 key is not a curve point"))?;
    Ok(PublicKey::from(edwards.to_montgomery().to_bytes()))
}

impl Recipient {
    /// Parses an authorized_keys line: `ssh-ed25519 AAAA… [comment]`.
    pub fn parse(line: &str) -> Result<Self, SshError> {
        let mut fields = line.split_whitespace();
        let kind = fields.next().ok_or(SshError::NotPublicKey)?;
        if !kind.starts_with("ssh-") && !kind.starts_with("ecdsa-") && !kind.starts_with("sk-") {
            return Err(SshError::NotPublicKey);
        }
        if kind != ED25519 {
            return Err(SshError::Unsupported(kind.to_owned()));
        }
        let b64 = fields.next().ok_or(SshError::Malformed("missing key data"))?;
        let wire = STANDARD.decode(b64).map_err(|_| SshError::Malformed("key data is not base64"))?;
        let montgomery = montgomery_from_wire(&wire)?;
        Ok(Self { wire, montgomery })
    }
}

impl age::Recipient for Recipient {
    fn wrap_file_key(&self, file_key: &FileKey) -> Result<(Vec<Stanza>, HashSet<String>), EncryptError> {
        let esk = StaticSecret::from(super::random::array::<32>());
        let epk = PublicKey::from(&esk);
        let tweak = StaticSecret::from(hkdf(&self.wire, KEY_LABEL, &[]));
        let shared = esk.diffie_hellman(&self.montgomery);
        let tweaked = tweak.diffie_hellman(&PublicKey::from(*shared.as_bytes()));

        let mut salt = [0u8; 64];
        salt[..32].copy_from_slice(epk.as_bytes());
        salt[32..].copy_from_slice(self.montgomery.as_bytes());
        let wrap_key = Zeroizing::new(hkdf(&salt, KEY_LABEL, tweaked.as_bytes()));
        let body = aead_encrypt(&wrap_key, file_key.expose_secret());
        Ok((
            vec![Stanza {
                tag: STANZA_TAG.to_owned(),
                args: vec![STANDARD_NO_PAD.encode(ssh_tag(&self.wire)), STANDARD_NO_PAD.encode(epk.as_bytes())],
                body,
            }],
            HashSet::new(),
        ))
    }
}

impl Identity {
    /// Parses an OpenSSH private key file (`-----BEGIN OPENSSH PRIVATE KEY-----`).
    ///
    /// Returns `Ok(None)` when the text is not an OpenSSH private key at all.
    pub fn parse_openssh(text: &str) -> Result<Option<Self>, SshError> {
        const BEGIN: &str = "-----BEGIN OPENSSH PRIVATE KEY-----";
        const END: &str = "-----END OPENSSH PRIVATE KEY-----";
        let Some(start) = text.find(BEGIN) else {
            return Ok(None);
        };
        let body = &text[start + BEGIN.len()..];
        let end = body.find(END).ok_or(SshError::Malformed("missing END line"))?;
        let b64: String = body[..end].split_whitespace().collect();
        let raw = Zeroizing::new(STANDARD.decode(b64).map_err(|_| SshError::Malformed("body is not base64"))?);

        const MAGIC: &[u8] = b"openssh-key-v1\0";
        let mut cursor: &[u8] = raw.strip_prefix(MAGIC).ok_or(SshError::Malformed("not openssh-key-v1"))?;
        let cipher = read_string(&mut cursor)?;
        let _kdf = read_string(&mut cursor)?;
        let _kdf_options = read_string(&mut cursor)?;
        let public_wire = {
            let count = read_u32(&mut cursor)?;
            if count != 1 {
                return Err(SshError::Malformed("expected exactly one key"));
            }
            read_string(&mut cursor)?.to_vec()
        };
        if cipher != b"none" {
            // Still tell the user which type it is when it is not Ed25519.
            montgomery_from_wire(&public_wire)?;
            return Err(SshError::Encrypted);
        }
        let mut private = read_string(&mut cursor)?;
        let check1 = read_u32(&mut private)?;
        let check2 = read_u32(&mut private)?;
        if check1 != check2 {
            return Err(SshError::Malformed("check bytes differ"));
        }
        let kind = read_string(&mut private)?;
        if kind != ED25519.as_bytes() {
            return Err(SshError::Unsupported(String::from_utf8_lossy(kind).into_owned()));
        }
        let _public = read_string(&mut private)?;
        let keypair = read_string(&mut private)?;
        if keypair.len() != 64 {
            return Err(SshError::Malformed("ed25519 private key is not 64 bytes"));
        }
        // The X25519 scalar of an Ed25519 key is the (clamped) first half of SHA-512(seed).
        let digest = Zeroizing::new(Sha512::digest(&keypair[..32]));
        let mut scalar = Zeroizing::new([0u8; 32]);
        scalar.copy_from_slice(&digest[..32]);
        let secret = StaticSecret::from(*scalar);
        let public = PublicKey::from(&secret);
        Ok(Some(Self { wire: public_wire, secret, public }))
    }

    /// The authorized_keys form of the public half (`ssh-ed25519 AAAA…`), without comment.
    pub fn recipient_line(&self) -> String {
        format!("{ED25519} {}", STANDARD.encode(&self.wire))
    }
}

impl age::Identity for Identity {
    fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, DecryptError>> {
        if stanza.tag != STANZA_TAG || stanza.args.len() != 2 {
            return None;
        }
        let tag = STANDARD_NO_PAD.decode(&stanza.args[0]).ok()?;
        if tag != ssh_tag(&self.wire) {
            return None;
        }
        if stanza.body.len() != WRAPPED_FILE_KEY_LEN {
            return Some(Err(DecryptError::InvalidHeader));
        }
        let epk: [u8; 32] = match STANDARD_NO_PAD.decode(&stanza.args[1]).ok().and_then(|v| v.try_into().ok()) {
            Some(epk) => epk,
            None => return Some(Err(DecryptError::InvalidHeader)),
        };
        let epk = PublicKey::from(epk);
        let tweak = StaticSecret::from(hkdf(&self.wire, KEY_LABEL, &[]));
        let shared = self.secret.diffie_hellman(&epk);
        let tweaked = tweak.diffie_hellman(&PublicKey::from(*shared.as_bytes()));

        let mut salt = [0u8; 64];
        salt[..32].copy_from_slice(epk.as_bytes());
        salt[32..].copy_from_slice(self.public.as_bytes());
        let wrap_key = Zeroizing::new(hkdf(&salt, KEY_LABEL, tweaked.as_bytes()));
        // The 4-byte tag matched, so a failure here is a real error, not "someone else's stanza".
        Some(aead_decrypt(&wrap_key, FILE_KEY_LEN, &stanza.body).map_err(DecryptError::from).map(|plain| {
            let plain = Zeroizing::new(plain);
            FileKey::init_with_mut(|key| key.copy_from_slice(&plain))
        }))
    }
}
