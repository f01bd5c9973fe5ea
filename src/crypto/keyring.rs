//! An ordered set of private keys, with a record of where each came from.
//!
//! The CLI fills it from the sops environment (`sops::identities`); the daemon will fill it from
//! a Kustomization's decryption Secret, whose `*.agekey` entries are age identity files (Flux's
//! convention, `shared/specs/flux.md`). Either way the rest of the code only sees a `Keyring`.

use super::age::{self, AgeError, Identity};

/// Private keys available for unwrapping data keys.
#[derive(Default, Clone)]
pub struct Keyring {
    age: Vec<Identity>,
    /// Every location that was consulted, in order, whether or not it held keys; error messages
    /// list them the way sops does ("Did not find keys in locations …").
    locations: Vec<String>,
}

impl Keyring {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `location` was consulted.
    pub fn note_location(&mut self, location: impl Into<String>) {
        let location = location.into();
        if !self.locations.contains(&location) {
            self.locations.push(location);
        }
    }

    /// Adds identities found at `location`.
    pub fn add_age(&mut self, location: impl Into<String>, identities: impl IntoIterator<Item = Identity>) {
        self.note_location(location);
        self.age.extend(identities);
    }

    /// Adds an age identity file's contents.
    pub fn add_age_file(&mut self, location: impl Into<String>, text: &str) -> Result<(), AgeError> {
        let parsed = age::parse_identities(text)?;
        self.add_age(location, parsed.identities);
        Ok(())
    }

    /// Builds a keyring from Secret-style entries, taking the `*.agekey` ones (Flux's decryption
    /// Secret layout). Other entries are ignored here; the daemon handles them per key type.
    pub fn from_agekey_entries<'a>(
        entries: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    ) -> Result<Self, KeyringError> {
        let mut ring = Self::new();
        for (name, data) in entries {
            if !name.ends_with(".agekey") {
                continue;
            }
            let text = std::str::from_utf8(data).map_err(|_| KeyringError::NotText(name.to_owned()))?;
            ring.add_age_file(name, text).map_err(|source| KeyringError::Entry { name: name.to_owned(), source })?;
        }
        Ok(ring)
    }

    pub fn age_identities(&self) -> &[Identity] {
        &self.age
    }

    pub fn locations(&self) -> &[String] {
        &self.locations
    }

    pub fn is_empty(&self) -> bool {
        self.age.is_empty()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    #[error("entry {0:?} is not UTF-8 text")]
    NotText(String),
    #[error("entry {name:?}: {source}")]
    Entry { name: String, source: AgeError },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_only_agekey_entries() {
        let id = Identity::generate();
        let secret = id.to_secret_string().expect("x25519");
        let ring = Keyring::from_agekey_entries([
            ("identity.agekey", secret.expose().as_bytes()),
            ("ignored.asc", b"not an age key".as_slice()),
        ])
        .expect("valid entries");
        assert_eq!(ring.age_identities().len(), 1);
        assert_eq!(ring.locations(), ["identity.agekey"]);
        let bad = Keyring::from_agekey_entries([("bad.agekey", b"garbage".as_slice())]);
        assert!(matches!(bad, Err(KeyringError::Entry { .. })));
    }
}
