//! The binary store on arbitrary bytes.
//!
//! Invariants: the plain side is the identity (`emit_plain(load_plain(x)) == x`, byte for
//! byte), plus everything `sealops_fuzz::store_round_trip` checks; `load_encrypted` reads the
//! bytes as a JSON envelope and must not panic, and an envelope it accepts survives
//! `emit_encrypted` → `load_encrypted`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealops::sops::store::Format;
use sealops_fuzz::{lossy, store, store_round_trip};

fuzz_target!(|data: &[u8]| {
    let binary = store(Format::Binary);
    let docs = binary.load_plain(data).expect("the binary store reads any bytes under the size limit");
    let written = binary.emit_plain(&docs).expect("the binary store writes what it read");
    assert!(written == data, "binary plain round trip changed the bytes: {:?}", lossy(data));
    store_round_trip(Format::Binary, data);
});
