//! Target selectors (`target:` of `patches:`, legacy `patchesJson6902`, Flux `spec.patches`).

use serde::Deserialize;

use super::PatchError;
use crate::manifest::Resource;

/// Kustomize's `types.Selector`. Group/version/kind/name/namespace are anchored regular
/// expressions; `labelSelector`/`annotationSelector` use Kubernetes label-selector syntax.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Selector {
    pub group: Option<String>,
    pub version: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub label_selector: Option<String>,
    pub annotation_selector: Option<String>,
}

impl Selector {
    pub fn matches(&self, resource: &Resource) -> Result<bool, PatchError> {
        let _ = resource;
        unimplemented!("patch work package")
    }
}
