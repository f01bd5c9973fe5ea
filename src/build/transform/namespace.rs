//! `namespace:`.

use super::TransformError;
use crate::manifest::Resource;

pub fn apply(resources: &mut [Resource], namespace: &str) -> Result<(), TransformError> {
    let _ = (resources, namespace);
    unimplemented!("transform work package")
}
