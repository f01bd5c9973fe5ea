//! `ops::open` (decrypt and verify) on arbitrary bytes, with the YAML and JSON stores.
//!
//! The keyring holds a fresh identity plus the public *test* identities of
//! `tests/data/sops-upstream` (`gen311_age_key.txt`, `gen311_shamir_key{1,2}.txt`,
//! `age_keys_historical.txt`), so the seeds (real sops files encrypted to them) decrypt and their
//! mutations reach value decryption, Shamir recombination and the MAC check.
//!
//! Invariants:
//! * `open` returns (an error or a file); it never panics or hangs;
//! * a file that opens can be written as plaintext, re-encrypted with its data key, and the
//!   re-encrypted text opens again to the same documents (what sealops writes, it reads back);
//! * a file with a MAC mismatch opens with `ignore_mac` (the MAC is the only thing that failed);
//! * input with no sops metadata that parses as plaintext is encrypted to the fresh identity, and
//!   that ciphertext opens to the parsed documents (encryption keeps every type; the store's
//!   documented normalisations, `sealops_fuzz::normalisations`, apply to what stays cleartext
//!   and to comment placement).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sealops::crypto::Keyring;
use sealops::crypto::age::Identity;
use sealops::sops::crypt::CryptError;
use sealops::sops::metadata::MetadataError;
use sealops::sops::ops::{self, EncryptParams, OpError, OpenOptions};
use sealops::sops::store::{Format, Store, StoreError};
use sealops_fuzz::{explained_difference, lossy, map_has_negative_zero, normalisations, store};

struct Fixture {
    keyring: Keyring,
    recipient: String,
    yaml: Box<dyn Store>,
    json: Box<dyn Store>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let fresh = Identity::generate();
        let recipient = fresh.recipient();
        let mut keyring = Keyring::new();
        keyring.add_age("fuzz", [fresh]);
        // Public test keys only (see tests/data/sops-upstream/ORIGIN.md).
        for (name, text) in [
            ("gen311_age_key.txt", include_str!("../../data/sops-upstream/gen311_age_key.txt")),
            ("gen311_shamir_key1.txt", include_str!("../../data/sops-upstream/gen311_shamir_key1.txt")),
            ("gen311_shamir_key2.txt", include_str!("../../data/sops-upstream/gen311_shamir_key2.txt")),
            ("age_keys_historical.txt", include_str!("../../data/sops-upstream/age_keys_historical.txt")),
        ] {
            keyring.add_age_file(name, text).expect("test identity parses");
        }
        Fixture { keyring, recipient, yaml: store(Format::Yaml), json: store(Format::Json) }
    })
}

fn check(store: &dyn Store, input: &[u8], f: &Fixture) {
    let options = OpenOptions::default();
    match ops::open(store, input, &f.keyring, &options) {
        Ok(opened) => {
            let _ = opened.emit_plain(store);
            let docs = opened.docs.clone();
            let sealed = match opened.reencrypt(store) {
                Ok(bytes) => bytes,
                // A `sops` key in a later YAML document, or a value type sops cannot encrypt
                // (`uint64`), is refused on the way out.
                Err(OpError::Store(StoreError::ReservedKey(_)) | OpError::Crypt(CryptError::Scalar(_))) => return,
                Err(e) => panic!(
                    "{:?}: an opened file cannot be re-encrypted: {e}\ninput: {:?}",
                    store.format(),
                    lossy(input)
                ),
            };
            let again = ops::open(store, &sealed, &f.keyring, &options).unwrap_or_else(|e| {
                panic!(
                    "{:?}: a re-encrypted file does not open: {e}\ninput: {:?}\nsealed: {:?}",
                    store.format(),
                    lossy(input),
                    lossy(&sealed)
                )
            });
            if let Some(diff) = explained_difference(&docs, &again.docs, normalisations(store.format())) {
                panic!(
                    "{:?}: re-encrypted file opens to other documents: {diff}\ninput: {:?}",
                    store.format(),
                    lossy(input)
                );
            }
        }
        Err(OpError::Crypt(CryptError::MacMismatch { .. })) => {
            let ignore = OpenOptions { ignore_mac: true, ..OpenOptions::default() };
            if let Err(e) = ops::open(store, input, &f.keyring, &ignore) {
                panic!("{:?}: MAC mismatch, but ignore_mac fails with: {e}\ninput: {:?}", store.format(), lossy(input));
            }
        }
        Err(OpError::Store(StoreError::Metadata(MetadataError::NotFound))) => encrypt_then_open(store, input, f),
        Err(_) => {}
    }
}

fn encrypt_then_open(store: &dyn Store, input: &[u8], f: &Fixture) {
    let Ok(plain) = store.load_plain(input) else { return };
    // Finding F2 (README.md): a cleartext float -0.0 is hashed as "-0" but written `-0`, which
    // reads back as the int 0 ("0"), so the file fails its own MAC. Skipped so the run goes on.
    // (The JSON store reads a cleartext `-0` in an encrypted file as -0.0, so it is not affected.)
    if store.format() == Format::Yaml && plain.iter().any(|d| map_has_negative_zero(d)) {
        return;
    }
    let params = EncryptParams::age(&[&f.recipient]);
    let Ok(sealed) = ops::encrypt(store, store, input, params) else { return };
    let opened = ops::open(store, &sealed, &f.keyring, &OpenOptions::default()).unwrap_or_else(|e| {
        panic!(
            "{:?}: a file sealops encrypted does not open: {e}\ninput: {:?}\nsealed: {:?}",
            store.format(),
            lossy(input),
            lossy(&sealed)
        )
    });
    if let Some(diff) = explained_difference(&plain, &opened.docs, normalisations(store.format())) {
        panic!("{:?}: encrypt → open changed the documents: {diff}\ninput: {:?}", store.format(), lossy(input));
    }
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    check(&*f.yaml, data, f);
    check(&*f.json, data, f);
});
