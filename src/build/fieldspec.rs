//! Field specs: where in which kinds a transformer writes (kustomize's builtin `fieldSpecs`).
//! Owner: the transform work package.

use serde::Deserialize;

/// A kind filter and a `/`-separated path (`spec/template/metadata/labels`); `create` makes
/// missing maps on the way.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FieldSpec {
    pub group: Option<String>,
    pub version: Option<String>,
    pub kind: Option<String>,
    pub path: String,
    #[serde(default)]
    pub create: bool,
}
