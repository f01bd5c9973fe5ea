//! `commonAnnotations:`.

use super::TransformError;
use crate::manifest::Resource;

pub fn apply(resources: &mut [Resource], pairs: &[(String, String)]) -> Result<(), TransformError> {
    let _ = (resources, pairs);
    unimplemented!("transform work package")
}
