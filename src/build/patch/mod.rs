//! Patches: strategic merge (schema-aware merge keys of the builtin types), JSON 6902, and the
//! target selectors both use. Owner: the patch work package.

pub mod json6902;
pub mod schema;
pub mod select;
pub mod smp;

use serde::Deserialize;

use crate::manifest::Resource;

pub use select::Selector;

#[derive(Debug, thiserror::Error)]
pub enum PatchError {
    #[error("{source_name}: {message}")]
    Invalid { source_name: String, message: String },
}

impl PatchError {
    pub fn kind(&self) -> &'static str {
        match self {
            PatchError::Invalid { .. } => "invalid-patch",
        }
    }
}

/// `options:` of a `patches:` entry.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PatchOptions {
    #[serde(default)]
    pub allow_name_change: bool,
    #[serde(default)]
    pub allow_kind_change: bool,
}

/// One `patches:` entry with its text already loaded. `source` names it in errors (the file
/// path, or `patches[3]` for an inline patch).
pub struct PatchInput<'a> {
    pub source: &'a str,
    pub text: &'a str,
    pub target: Option<&'a Selector>,
    pub options: &'a PatchOptions,
}

/// Kustomize's PatchTransformer: the text is a JSON 6902 op list or a strategic-merge patch
/// (one or more documents); applied to every resource the target selects (or, for an SMP
/// without a target, the resource with the patch's own id). `$patch: delete` removes resources.
pub fn apply(resources: &mut Vec<Resource>, input: &PatchInput<'_>) -> Result<(), PatchError> {
    let _ = (resources, input);
    unimplemented!("patch work package")
}

/// The legacy `patchesStrategicMerge:` entry (file contents or inline text).
pub fn apply_strategic_merge_legacy(resources: &mut Vec<Resource>, source: &str, text: &str) -> Result<(), PatchError> {
    let _ = (resources, source, text);
    unimplemented!("patch work package")
}

/// The legacy `patchesJson6902:` entry.
pub fn apply_json6902_legacy(
    resources: &mut [Resource],
    target: &Selector,
    source: &str,
    text: &str,
) -> Result<(), PatchError> {
    let _ = (resources, target, source, text);
    unimplemented!("patch work package")
}
