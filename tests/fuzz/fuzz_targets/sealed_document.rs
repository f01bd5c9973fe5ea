//! The SealedSecret and Secret document parsers on arbitrary bytes (JSON or YAML).
//!
//! Key: key-b of `tests/data/sealed-secrets-upstream` (public test material). Invariants:
//! * parsing returns an error or a document; it never panics or hangs;
//! * a SealedSecret that parses is written as kubeseal's JSON, which parses again and writes the
//!   same bytes; unsealing it returns (an error or a Secret) without panicking;
//! * a Secret that parses seals to key-b, and the SealedSecret unseals to the same items.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealops::sealed::{SealedSecret, Secret};
use sealops_fuzz::sealing_key as key;

fuzz_target!(|data: &[u8]| {
    if let Ok(doc) = SealedSecret::parse(data, "fuzz input") {
        let json = doc.to_json();
        let again = SealedSecret::parse(json.as_bytes(), "written JSON")
            .unwrap_or_else(|e| panic!("written JSON does not parse again: {e}\n{json}"));
        assert_eq!(again.to_json(), json, "JSON changed on a round trip");
        let _ = doc.unseal(&[key()]);
    }
    if let Ok(secret) = Secret::parse(data, "fuzz input")
        && let Ok(sealed) = secret.seal(key().public_key())
    {
        let items = sealed.unseal_items(&[key()]).expect("what was sealed unseals");
        assert_eq!(items.len(), secret.data.len(), "items lost");
        for (name, value) in &secret.data {
            assert_eq!(items[name].expose(), value.expose(), "item {name} changed");
        }
    }
});
