//! Shared helpers for the integration tests.

use std::path::{Path, PathBuf};

use sealops::crypto::Keyring;

/// `tests/data/…`
pub fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(rel)
}

pub fn read(rel: &str) -> Vec<u8> {
    std::fs::read(data(rel)).unwrap_or_else(|e| panic!("reading tests/data/{rel}: {e}"))
}

/// A keyring holding the identities of the given identity files (under tests/data).
pub fn keyring(files: &[&str]) -> Keyring {
    let mut ring = Keyring::new();
    for f in files {
        let text = String::from_utf8(read(f)).expect("identity files are text");
        ring.add_age_file(*f, &text).unwrap_or_else(|e| panic!("{f}: {e}"));
    }
    ring
}
