//! Integration tests: one binary, modules by topic.

mod support;
mod sops_vectors;
