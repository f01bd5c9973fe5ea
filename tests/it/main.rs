//! Integration tests: one binary, modules by topic.

mod bad_input;
mod build_core;
mod cli;
mod crds;
mod kustomize_conformance;
mod log_canary;
mod seal_connect;
mod sealed_cli;
mod sealed_interop;
mod sealed_template;
mod sealed_vectors;
mod sops_comments;
mod sops_interop;
mod sops_vectors;
mod support;
