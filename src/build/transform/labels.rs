//! `labels:` and `commonLabels:`.

use super::TransformError;
use crate::build::fieldspec::FieldSpec;
use crate::manifest::Resource;

/// One `labels:` entry's switches (`commonLabels:` is `include_selectors: true`).
#[derive(Clone, Debug, Default)]
pub struct LabelOptions {
    pub include_selectors: bool,
    pub include_templates: bool,
    pub fields: Vec<FieldSpec>,
}

pub fn apply(
    resources: &mut [Resource],
    pairs: &[(String, String)],
    options: &LabelOptions,
) -> Result<(), TransformError> {
    let _ = (resources, pairs, options);
    unimplemented!("transform work package")
}
