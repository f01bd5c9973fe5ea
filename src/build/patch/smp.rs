//! Strategic merge patch.

use serde_json::{Map, Value};

use super::PatchError;

/// Merges `patch` into `target` with the merge keys and strategies of the target's type.
pub fn merge(target: &mut Map<String, Value>, patch: &Map<String, Value>) -> Result<(), PatchError> {
    let _ = (target, patch);
    unimplemented!("patch work package")
}
