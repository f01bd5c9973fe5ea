//! The native kustomize engine: resources, overlays, components, generators, patches and the
//! builtin transformers, with Flux's build semantics and postBuild substitution on top.
//! Checked against `kubectl kustomize` (kustomize v5.5); see `docs/build.md`.

pub mod fieldspec;
pub mod flux;
pub mod generator;
pub mod hash;
pub mod kustomization;
pub mod loader;
pub mod nameref;
pub mod patch;
pub mod render;
pub mod substitute;
pub mod transform;

pub use loader::LoadRestrictor;
pub use render::{RenderOptions, render};

/// Everything a build can fail with. Each variant's message names the file (root-relative)
/// and the field or object.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Parse(#[from] crate::manifest::ParseError),
    #[error(transparent)]
    Load(#[from] loader::LoadError),
    #[error(transparent)]
    Kustomization(#[from] kustomization::KustomizationError),
    #[error(transparent)]
    Patch(#[from] patch::PatchError),
    #[error(transparent)]
    Transform(#[from] transform::TransformError),
    #[error(transparent)]
    Generator(#[from] generator::GeneratorError),
    #[error(transparent)]
    Flux(#[from] flux::FluxError),
    #[error(transparent)]
    Substitute(#[from] substitute::SubstituteError),
    /// Two objects with the same id in one accumulation (kustomize's "may not add resource
    /// with an already registered id").
    #[error("{file}: {field}: may not add resource with an already registered id: {id}")]
    Conflict { file: String, field: String, id: String },
    /// Recursion through kustomization directories that comes back to itself.
    #[error(
        "{file}: {field}: cycle detected: '{target}' contains or is a kustomization already being built ('{previous}')"
    )]
    Cycle { file: String, field: String, target: String, previous: String },
    #[error("{file}: {field}: {message}")]
    Render { file: String, field: String, message: String },
}

impl BuildError {
    pub fn kind(&self) -> &'static str {
        match self {
            BuildError::Parse(e) => e.kind(),
            BuildError::Load(e) => e.kind(),
            BuildError::Kustomization(e) => e.kind(),
            BuildError::Patch(e) => e.kind(),
            BuildError::Transform(e) => e.kind(),
            BuildError::Generator(e) => e.kind(),
            BuildError::Flux(e) => e.kind(),
            BuildError::Substitute(e) => e.kind(),
            BuildError::Conflict { .. } => "id-conflict",
            BuildError::Cycle { .. } => "cycle",
            BuildError::Render { .. } => "build",
        }
    }
}
