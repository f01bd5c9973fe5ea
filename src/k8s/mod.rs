//! Kubernetes glue for the daemon: the custom resource types the controllers serve
//! (`docs/architecture.md`, layer `k8s`).

pub mod connect;
pub mod crd;
