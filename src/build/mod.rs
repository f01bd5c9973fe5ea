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
