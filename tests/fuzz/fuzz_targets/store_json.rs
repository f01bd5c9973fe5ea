//! The JSON store on arbitrary bytes.
//!
//! Invariants (see `sealops_fuzz::store_round_trip`): `load_plain`, `load_encrypted`,
//! `emit_value` never panic; parsed documents are written, and the written text parses again to
//! the same documents, except that an integral float (`1.0`, `-0.0`) is written without a
//! fraction and comes back as an int; writing those documents again gives the same bytes. Big
//! integers (≥ 2^63) and invalid UTF-8 are normalised by the *first* parse.
//!
//! Also: a non-map value written by `emit_value` (`decrypt --extract`) reads back with
//! `JsonStore::parse_value` as the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealops::sops::json::JsonStore;
use sealops::sops::store::{Format, Store, StoreConfig};
use sealops::sops::tree::{Item, Value};
use sealops_fuzz::{first_difference, lossy, normalisations, store_round_trip};

fuzz_target!(|data: &[u8]| {
    store_round_trip(Format::Json, data);

    let store = JsonStore::new(StoreConfig::default());
    let Ok(docs) = store.load_plain(data) else { return };
    for item in docs.iter().flatten() {
        let Item::Pair { value, .. } = item else { continue };
        if matches!(value, Value::Map(_)) {
            continue;
        }
        let Ok(written) = store.emit_value(value) else { continue };
        let back = store.parse_value(&written).unwrap_or_else(|e| {
            panic!("emit_value output does not parse with parse_value: {e}\nwritten: {:?}", lossy(&written))
        });
        // Compare as one-entry maps, to reuse the document comparison.
        let wrap = |v: &Value| vec![vec![Item::Pair { key: "v".into(), value: v.clone() }]];
        if let Some(diff) = first_difference(&wrap(value), &wrap(&back), normalisations(Format::Json)) {
            panic!("emit_value → parse_value changed a value: {diff}\nwritten: {:?}", lossy(&written));
        }
    }
});
