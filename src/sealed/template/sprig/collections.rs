//! Sprig's list, dict, math, type and conversion functions beyond the core set.

use super::super::funcs::Func;

/// The function `name` of this family, if implemented.
pub(super) fn func(name: &str) -> Option<Func> {
    match name {
        _ => None,
    }
}
