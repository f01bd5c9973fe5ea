//! The YAML store on arbitrary bytes.
//!
//! Invariants (see `sealops_fuzz::store_round_trip`): `load_plain`, `load_encrypted`,
//! `emit_value` never panic; parsed documents are written, and the written text parses again to
//! the same documents, except that an integral float comes back as an int (the documented
//! `3.0` → `3`); writing those documents again gives the same bytes. Aliases, `1.50` → `1.5` and
//! dates → timestamps are normalised by the *first* parse, so they need no exception.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealops::sops::store::Format;
use sealops_fuzz::{Normalisations, store_round_trip};

fuzz_target!(|data: &[u8]| {
    store_round_trip(Format::Yaml, data, Normalisations { integral_float_becomes_int: true });
});
