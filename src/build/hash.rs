//! The content-hash name suffix of generated ConfigMaps and Secrets, exactly as kustomize
//! computes it. Owner: the generator work package.

use crate::manifest::Resource;

/// Appends `-<hash>` to the name of every resource with `meta.needs_hash`, recording the old
/// id in `meta.previous_ids` (run once, at the end of the top-level build).
pub fn apply_suffixes(resources: &mut [Resource]) -> Result<(), crate::build::generator::GeneratorError> {
    let _ = resources;
    unimplemented!("generator work package")
}
