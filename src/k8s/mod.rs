//! Kubernetes glue: the custom resource types the controllers serve, and the connection to the
//! API server as kubectl makes it (`connect`), through the proxy Go would choose (`proxy`)
//! (`docs/architecture.md`, layer `k8s`).

pub mod connect;
pub mod crd;
pub mod proxy;
