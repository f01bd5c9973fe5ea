//! `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]` envelopes: any UTF-8 string.
//!
//! Invariants: `parse` never panics; an envelope it accepts, written back with `format`, parses
//! to the same fields.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealops::sops::value;

fuzz_target!(|data: &[u8]| {
    // Raw bytes rather than `&str: Arbitrary`, so corpus files are plain envelope text.
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(envelope) = value::parse(text) else { return };
    // `format` cannot express empty fields (`data:,iv:…` does not parse); nothing to compare.
    // (The tag is a fixed-size array, never empty.)
    if envelope.data.is_empty() || envelope.iv().is_empty() {
        return;
    }
    let written = value::format(&envelope.data, envelope.iv(), &envelope.tag, envelope.kind);
    let again = value::parse(&written).expect("a formatted envelope parses");
    assert!(again.data == envelope.data && again.iv() == envelope.iv() && again.tag == envelope.tag);
    assert_eq!(again.kind, envelope.kind);
});
