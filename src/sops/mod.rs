//! The SOPS file format: read and write files that getsops/sops reads and writes.
//!
//! Layout: [`tree`] is the document model; the stores ([`yaml`], [`json`], [`dotenv`], [`ini`],
//! [`binary`]) parse into it and emit from it; [`crypt`] walks it to encrypt, decrypt and MAC;
//! [`metadata`] and [`datakey`] handle the `sops` block; [`ops`] puts them together for the
//! commands, with a faster route for whole JSON files in `stream`. The format itself is described in `docs/formats/sops.md`.

pub mod binary;
pub mod config;
pub mod crypt;
pub mod datakey;
pub mod dotenv;
pub mod gotime;
pub mod identities;
pub mod ini;
pub mod json;
pub mod metadata;
pub mod objects;
pub mod ops;
pub mod path;
pub mod rules;
pub mod scalar;
pub mod scan;
pub mod store;
mod stream;
pub mod tree;
pub mod value;
pub mod yaml;
