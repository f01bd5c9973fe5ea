//! Integration tests: one binary, modules by topic.

mod sops_vectors;
mod support;
