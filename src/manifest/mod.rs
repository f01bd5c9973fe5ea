//! Kubernetes objects as data: the YAML/JSON stream parser with limits for untrusted Git content,
//! the emitter, object identity and kustomize's output ordering. No client, no IO beyond reading
//! the bytes it is handed.
//!
//! Objects are `serde_json` maps (insertion order kept). Plaintext can sit in them (generated or
//! decrypted Secrets), so [`Resource`] has no `Debug` and zeroizes its strings on drop.

pub mod emit;
pub mod order;
pub mod parse;
mod resource;
pub mod timestamp;

pub use emit::{to_yaml, to_yaml_stream};
pub use parse::{MAX_FILE_BYTES, ParseError, parse_documents, parse_kustomization, parse_objects, parse_single};
pub use resource::{BuildMeta, ResId, Resource};
