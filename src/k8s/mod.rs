//! Kubernetes glue: the custom resource types the controllers serve, and the connection to the
//! API server as kubectl makes it (`connect`) (`docs/architecture.md`, layer `k8s`).

pub mod connect;
pub mod crd;
