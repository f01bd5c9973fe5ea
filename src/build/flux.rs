//! Flux's build semantics: generate a kustomization for a directory without one, and overlay a
//! Kustomization's spec (targetNamespace, namePrefix/nameSuffix, patches, images, components,
//! commonMetadata). Owner: the generator work package.

use std::path::Path;

use serde_json::{Map, Value};

use crate::build::patch::Selector;
use crate::build::transform::images::ImageSpec;

#[derive(Debug, thiserror::Error)]
pub enum FluxError {
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

impl FluxError {
    pub fn kind(&self) -> &'static str {
        match self {
            FluxError::Invalid { .. } => "flux-build",
        }
    }
}

/// One entry of a Flux Kustomization's `spec.patches`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FluxPatch {
    pub patch: String,
    pub target: Option<Selector>,
}

/// The parts of a Flux Kustomization spec that change the build.
#[derive(Clone, Debug, Default)]
pub struct FluxOverlay {
    pub target_namespace: Option<String>,
    pub name_prefix: Option<String>,
    pub name_suffix: Option<String>,
    pub patches: Vec<FluxPatch>,
    pub images: Vec<ImageSpec>,
    pub components: Vec<String>,
    pub common_labels: Vec<(String, String)>,
    pub common_annotations: Vec<(String, String)>,
}

/// The kustomization Flux would build for `dir` (inside `root`): the directory's own file
/// overlaid with `overlay`, or one generated from the manifests found under `dir`. The core's
/// `render` takes it as the top-level kustomization instead of reading the file.
pub fn kustomization_for(root: &Path, dir: &Path, overlay: &FluxOverlay) -> Result<Map<String, Value>, FluxError> {
    let _ = (root, dir, overlay);
    unimplemented!("generator work package")
}
