//! The Sprig families beyond the core set in `funcs.rs`, one file per family, each with its own
//! function table. `funcs::func` falls back to [`func`] for any name it does not know; a name no
//! family implements stays [`super::funcs::Lookup::Unsupported`] (refused at parse time, naming
//! the function).
//!
//! Semantics are Sprig v3.2.3's (the controller's `GenericFuncMap`), checked against Go itself:
//! each family has its golden file `tests/data/gotemplate/cases-<family>.json` made by
//! `tests/gotemplate-oracle` (see that folder's ORIGIN.md).

mod collections;
mod crypto;
mod dates;
mod text;

use super::funcs::Func;

/// The Sprig function `name` from one of the families, if implemented.
pub(crate) fn func(name: &str) -> Option<Func> {
    dates::func(name).or_else(|| crypto::func(name)).or_else(|| text::func(name)).or_else(|| collections::func(name))
}
