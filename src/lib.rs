//! sealops: GitOps secrets in one program.
//!
//! * [`crypto`]: the shared core (secret containers, AES-GCM, age, Shamir, keyrings).
//! * [`sops`]: the SOPS file format, byte-compatible with getsops/sops for age recipients.
//! * [`sealed`]: the sealed-secrets scheme, wire-compatible with Bitnami's kubeseal and controller.
//! * [`manifest`]: Kubernetes objects as data (stream parse/emit with limits, identity, ordering).
//! * [`pages`]: byte buffers that the kernel can back with huge pages (large files, large outputs).
//! * [`build`]: the native kustomize engine and Flux's build semantics.
//! * [`controller`]: reconcilers (the SealedSecret controller), feature `daemon`.
//! * [`daemon`]: process wiring: key registry, HTTP API, metrics, leader election, feature `daemon`.
//!
//! Layering and the decisions behind it are described in `docs/architecture.md`.
#![forbid(unsafe_code)]

pub mod build;
#[cfg(feature = "daemon")]
pub mod controller;
pub mod crypto;
#[cfg(feature = "daemon")]
pub mod daemon;
#[cfg(feature = "daemon")]
pub mod k8s;
pub mod manifest;
pub mod pages;
pub mod sealed;
pub mod sops;
