//! age recipients and identities, and the one-file-per-recipient wrapping sops uses.
//!
//! sops wraps its data key (or a Shamir share) as a complete, ASCII-armored age file for each
//! recipient separately (`age/keysource.go`, `MasterKey.Encrypt`), so every `sops.age[]` entry
//! can be opened on its own. X25519 goes through the `age` crate; `ssh-ed25519` through
//! [`super::ssh`].

use std::io::{Read, Write};
use std::str::FromStr;

use age::armor::{ArmoredReader, ArmoredWriter, Format};
use age::secrecy::ExposeSecret;

use super::secret::{SecretBytes, SecretString};
use super::ssh;

#[derive(Debug, thiserror::Error)]
pub enum AgeError {
    #[error("failed to parse input, unknown recipient type: {0:?}")]
    UnknownRecipient(String),
    #[error("invalid age recipient {0:?}")]
    InvalidRecipient(String),
    #[error("{kind} recipients are not supported: {why}")]
    UnsupportedRecipient { kind: &'static str, why: &'static str },
    #[error("ssh recipient: {0}")]
    Ssh(#[from] ssh::SshError),
    #[error("unknown identity type on line {line}")]
    UnknownIdentity { line: usize },
    #[error("invalid age identity on line {line}")]
    InvalidIdentity { line: usize },
    #[error("failed to encrypt to age recipient: {0}")]
    Encrypt(String),
    /// Decryption failures stay coarse: which step failed is not the caller's business.
    #[error("{0}")]
    Decrypt(String),
}

/// Where an age recipient points.
#[derive(Clone)]
pub enum Recipient {
    X25519(age::x25519::Recipient),
    SshEd25519(ssh::Recipient),
}

impl Recipient {
    /// Parses one recipient the way sops does (`parseRecipient`): trimmed, `age1…` for X25519,
    /// `ssh-…` for SSH keys. Post-quantum (`age1pq1…`) and plugin recipients are recognised and
    /// refused.
    pub fn parse(text: &str) -> Result<Self, AgeError> {
        let text = text.trim();
        if let Some(rest) = text.strip_prefix("age1") {
            if rest.starts_with("pq1") {
                return Err(AgeError::UnsupportedRecipient {
                    kind: "post-quantum (age1pq1…)",
                    why: "the age library used here has no ML-KEM hybrid recipient yet",
                });
            }
            // Bech32 data never contains '1', so a second '1' marks a plugin name (age1name1…).
            if rest.contains('1') {
                return Err(AgeError::UnsupportedRecipient {
                    kind: "age plugin",
                    why: "running age-plugin-* programs is not enabled in sealops",
                });
            }
            return age::x25519::Recipient::from_str(text)
                .map(Recipient::X25519)
                .map_err(|_| AgeError::InvalidRecipient(text.to_owned()));
        }
        if text.starts_with("ssh-") {
            return Ok(Recipient::SshEd25519(ssh::Recipient::parse(text)?));
        }
        Err(AgeError::UnknownRecipient(text.to_owned()))
    }

    fn as_dyn(&self) -> &dyn age::Recipient {
        match self {
            Recipient::X25519(r) => r,
            Recipient::SshEd25519(r) => r,
        }
    }
}

/// A private key that can open age stanzas.
#[derive(Clone)]
pub enum Identity {
    X25519(age::x25519::Identity),
    SshEd25519(ssh::Identity),
}

impl Identity {
    /// A fresh X25519 identity.
    pub fn generate() -> Self {
        Identity::X25519(age::x25519::Identity::generate())
    }

    /// The `AGE-SECRET-KEY-1…` form (X25519 only).
    pub fn to_secret_string(&self) -> Option<SecretString> {
        match self {
            Identity::X25519(id) => Some(SecretString::new(id.to_string().expose_secret().to_owned())),
            Identity::SshEd25519(_) => None,
        }
    }

    /// The recipient string that encrypts to this identity.
    pub fn recipient(&self) -> String {
        match self {
            Identity::X25519(id) => id.to_public().to_string(),
            Identity::SshEd25519(id) => id.recipient_line(),
        }
    }

    fn as_dyn(&self) -> &dyn age::Identity {
        match self {
            Identity::X25519(i) => i,
            Identity::SshEd25519(i) => i,
        }
    }
}

/// What an identity file held.
pub struct ParsedIdentities {
    pub identities: Vec<Identity>,
    /// Lines with a known but unsupported identity type (plugin, post-quantum), by line number.
    pub skipped: Vec<(usize, &'static str)>,
}

/// Parses an age identity file as sops does (`parseIdentities`): blank lines and `#` comments
/// are ignored; `AGE-SECRET-KEY-1…` is X25519; any unknown line fails the whole source.
/// Plugin (`AGE-PLUGIN-…`) and post-quantum (`AGE-SECRET-KEY-PQ-1…`) identities are skipped and
/// reported rather than failing the file, so a mixed keys.txt still works for X25519.
pub fn parse_identities(text: &str) -> Result<ParsedIdentities, AgeError> {
    let mut out = ParsedIdentities { identities: Vec::new(), skipped: Vec::new() };
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        let number = n + 1;
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with("AGE-SECRET-KEY-PQ-1") {
            out.skipped.push((number, "post-quantum"));
        } else if line.starts_with("AGE-PLUGIN-") {
            out.skipped.push((number, "plugin"));
        } else if line.starts_with("AGE-SECRET-KEY-1") {
            let id = age::x25519::Identity::from_str(line).map_err(|_| AgeError::InvalidIdentity { line: number })?;
            out.identities.push(Identity::X25519(id));
        } else {
            return Err(AgeError::UnknownIdentity { line: number });
        }
    }
    Ok(out)
}

/// True when `text` is an age-encrypted (passphrase-protected) identity file.
pub fn is_encrypted_identity_file(text: &[u8]) -> bool {
    text.starts_with(b"age-encryption.org/") || text.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----")
}

/// Opens a passphrase-protected identity file and parses what it holds.
pub fn decrypt_identity_file(data: &[u8], passphrase: SecretString) -> Result<ParsedIdentities, AgeError> {
    let identity = age::scrypt::Identity::new(passphrase.expose().to_owned().into());
    let plain = decrypt_with(data, std::iter::once(&identity as &dyn age::Identity))?;
    let text = plain.as_str().ok_or_else(|| AgeError::Decrypt("identity file is not UTF-8".into()))?;
    parse_identities(text)
}

/// Encrypts `payload` to one recipient as an armored age file (sops's `enc` field).
pub fn encrypt(payload: &[u8], recipient: &Recipient) -> Result<String, AgeError> {
    let encryptor = age::Encryptor::with_recipients(std::iter::once(recipient.as_dyn()))
        .map_err(|e| AgeError::Encrypt(e.to_string()))?;
    let mut out = Vec::with_capacity(512);
    let armored =
        ArmoredWriter::wrap_output(&mut out, Format::AsciiArmor).map_err(|e| AgeError::Encrypt(e.to_string()))?;
    let mut writer = encryptor.wrap_output(armored).map_err(|e| AgeError::Encrypt(e.to_string()))?;
    writer.write_all(payload).map_err(|e| AgeError::Encrypt(e.to_string()))?;
    writer.finish().and_then(|armor| armor.finish()).map_err(|e| AgeError::Encrypt(e.to_string()))?;
    String::from_utf8(out).map_err(|e| AgeError::Encrypt(e.to_string()))
}

/// Opens an armored (or binary) age file with any of `identities`.
pub fn decrypt(data: &[u8], identities: &[Identity]) -> Result<SecretBytes, AgeError> {
    decrypt_with(data, identities.iter().map(Identity::as_dyn))
}

fn decrypt_with<'a>(
    data: &[u8],
    identities: impl Iterator<Item = &'a dyn age::Identity>,
) -> Result<SecretBytes, AgeError> {
    let decryptor = age::Decryptor::new(ArmoredReader::new(data)).map_err(describe)?;
    let mut reader = decryptor.decrypt(identities).map_err(describe)?;
    let mut plain = Vec::with_capacity(64);
    let read = reader.read_to_end(&mut plain);
    let plain = SecretBytes::new(plain);
    read.map_err(|e| AgeError::Decrypt(format!("failed to read age payload: {e}")))?;
    Ok(plain)
}

fn describe(err: age::DecryptError) -> AgeError {
    AgeError::Decrypt(match err {
        // Go age's wording, which sops shows and users search for.
        age::DecryptError::NoMatchingKeys => {
            "identity did not match any of the recipients: incorrect identity for recipient block".to_owned()
        }
        other => other.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipient_kinds() {
        assert!(matches!(Recipient::parse("bogus"), Err(AgeError::UnknownRecipient(_))));
        assert!(matches!(Recipient::parse("age1pq1qqqq"), Err(AgeError::UnsupportedRecipient { .. })));
        assert!(matches!(Recipient::parse("age1yubikey1qqqqq"), Err(AgeError::UnsupportedRecipient { .. })));
        assert!(matches!(Recipient::parse("age1qqqq"), Err(AgeError::InvalidRecipient(_))));
        assert!(matches!(
            Recipient::parse("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ x"),
            Err(AgeError::Ssh(ssh::SshError::Unsupported(_)))
        ));
    }

    #[test]
    fn x25519_round_trip_and_wrong_key() {
        let id = Identity::generate();
        let recipient = Recipient::parse(&id.recipient()).expect("own recipient parses");
        let armored = encrypt(b"0123456789abcdef0123456789abcdef", &recipient).expect("encrypts");
        assert!(armored.starts_with("-----BEGIN AGE ENCRYPTED FILE-----\n"));
        assert!(armored.ends_with("-----END AGE ENCRYPTED FILE-----\n"));
        let plain = decrypt(armored.as_bytes(), std::slice::from_ref(&id)).expect("decrypts");
        assert_eq!(plain.expose(), b"0123456789abcdef0123456789abcdef");
        assert!(decrypt(armored.as_bytes(), &[Identity::generate()]).is_err());
    }

    #[test]
    fn identity_file_rules() {
        let id = Identity::generate();
        let secret = id.to_secret_string().expect("x25519");
        let text = format!("# created: now\n\n{}\nAGE-PLUGIN-YUBIKEY-1QQQ\n", secret.expose());
        let parsed = parse_identities(&text).expect("parses");
        assert_eq!(parsed.identities.len(), 1);
        assert_eq!(parsed.skipped, vec![(4, "plugin")]);
        assert!(matches!(parse_identities("hello\n"), Err(AgeError::UnknownIdentity { line: 1 })));
    }
}
