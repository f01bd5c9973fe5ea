//! `namePrefix:` / `nameSuffix:`.

use super::TransformError;
use crate::manifest::Resource;

pub fn apply(resources: &mut [Resource], prefix: &str, suffix: &str) -> Result<(), TransformError> {
    let _ = (resources, prefix, suffix);
    unimplemented!("transform work package")
}
