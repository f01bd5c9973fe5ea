//! The sealed-secrets ciphertext decoder (`sealed::scheme::hybrid_decrypt`) on arbitrary bytes.
//!
//! Key: key-b of `tests/data/sealed-secrets-upstream` (public test material). Invariants:
//! * decrypting arbitrary bytes returns an error or a value; it never panics;
//! * the input, sealed to key-b under a label taken from its first bytes, opens again to itself
//!   under that label, and not under another one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealops::sealed::scheme::{hybrid_decrypt, hybrid_encrypt};
use sealops_fuzz::sealing_key as key;

fuzz_target!(|data: &[u8]| {
    let rest = data.get(1..).unwrap_or_default();
    let label_len = data.first().map_or(0, |&b| usize::from(b % 16)).min(rest.len());
    let (label, body) = rest.split_at(label_len);
    let _ = hybrid_decrypt([key()], data, label);
    let sealed = hybrid_encrypt(key().public_key(), body, label).expect("sealing to a 4096-bit key");
    let opened = hybrid_decrypt([key()], &sealed, label).expect("what was sealed opens");
    assert_eq!(opened.expose(), body, "round trip changed the value");
    let mut other = label.to_vec();
    other.push(b'x');
    assert!(hybrid_decrypt([key()], &sealed, &other).is_err(), "opened under another label");
});
