//! The sealed-secrets scheme (Bitnami `kubeseal` and its controller), wire-compatible.
//!
//! See `docs/formats/sealed-secrets.md`.

pub mod template;
