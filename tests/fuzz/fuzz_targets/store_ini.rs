//! The INI store on arbitrary bytes.
//!
//! Invariants (see `sealops_fuzz::store_round_trip`): `load_plain`, `load_encrypted`,
//! `emit_value` never panic; parsed documents are written, the written text parses again to the
//! same documents (values are strings; trimming, quote removal, continuation lines and repeated
//! keys are resolved by the *first* parse, and the writer quotes what needs quoting), and writing
//! them again gives the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealops::sops::store::Format;
use sealops_fuzz::store_round_trip;

fuzz_target!(|data: &[u8]| {
    store_round_trip(Format::Ini, data);
});
