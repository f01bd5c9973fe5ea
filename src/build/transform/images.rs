//! `images:`.

use serde::Deserialize;

use super::TransformError;
use crate::manifest::Resource;

/// One `images:` entry.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImageSpec {
    pub name: String,
    pub new_name: Option<String>,
    pub new_tag: Option<String>,
    pub digest: Option<String>,
}

pub fn apply(resources: &mut [Resource], images: &[ImageSpec]) -> Result<(), TransformError> {
    let _ = (resources, images);
    unimplemented!("transform work package")
}
