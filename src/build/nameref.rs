//! Name references: after renames (prefix/suffix, hash suffix, namespace), rewrite the fields
//! that refer to renamed objects (kustomize's nameReference rules). Owner: the transform work
//! package.

use crate::build::transform::TransformError;
use crate::manifest::Resource;

pub fn fix(resources: &mut [Resource]) -> Result<(), TransformError> {
    let _ = resources;
    unimplemented!("transform work package")
}
