//! `replicas:`.

use serde::Deserialize;

use super::TransformError;
use crate::manifest::Resource;

/// One `replicas:` entry.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ReplicaSpec {
    pub name: String,
    pub count: i64,
}

pub fn apply(resources: &mut [Resource], replicas: &[ReplicaSpec]) -> Result<(), TransformError> {
    let _ = (resources, replicas);
    unimplemented!("transform work package")
}
