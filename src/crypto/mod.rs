//! The shared crypto core: secret containers, AES-GCM, age, Shamir, keyrings.
//!
//! Pure computation: no file or network IO, no async, no Kubernetes. Both file formats (sops,
//! sealed-secrets) and the daemon build on these pieces.

pub mod aead;
pub mod age;
pub mod der;
pub mod keyring;
pub mod random;
pub mod rsa;
pub mod secret;
pub mod shamir;
pub mod ssh;

pub use keyring::Keyring;
pub use secret::{DataKey, SecretBytes, SecretString};
