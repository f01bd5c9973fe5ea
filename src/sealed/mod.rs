//! The sealed-secrets scheme (Bitnami `kubeseal` and its controller), wire-compatible.
//!
//! * [`scheme`]: the hybrid RSA-OAEP + AES-GCM value format and the scope → label rule.
//! * [`document`]: the `SealedSecret` object, sealing a Secret and unsealing into one.
//! * [`keys`]: sealing-key Secrets and the ordered key set.
//!
//! See `docs/formats/sealed-secrets.md`.

pub mod document;
pub mod keys;
pub mod reconcile;
pub mod scheme;
pub mod template;

pub use document::{SealedSecret, Secret};
pub use keys::{KeySet, SealingKey};
pub use scheme::Scope;
