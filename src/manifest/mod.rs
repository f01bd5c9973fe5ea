//! Kubernetes objects as data: the YAML/JSON stream parser with limits for untrusted Git content,
//! the emitter, object identity and kustomize's output ordering. No client, no IO beyond reading
//! the bytes it is handed.
//!
//! Objects are `serde_json` maps (insertion order kept). Plaintext can sit in them (generated or
//! decrypted Secrets), so [`Resource`] has no `Debug` and zeroizes its strings on drop.

mod resource;

pub use resource::{BuildMeta, ResId, Resource};
