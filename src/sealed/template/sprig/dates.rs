//! Sprig's date functions: `now`, `date`, `dateInZone`, `toDate`, `ago`, `duration`, `durationRound`, `htmlDate`, `unixEpoch`, `dateModify` and their aliases; `time.Time` and `time.Duration` values.

use super::super::funcs::Func;

/// The function `name` of this family, if implemented.
pub(super) fn func(name: &str) -> Option<Func> {
    match name {
        _ => None,
    }
}
