//! `configMapGenerator:` / `secretGenerator:` and `generatorOptions:`. Owner: the generator work
//! package.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::manifest::Resource;

#[derive(Debug, thiserror::Error)]
pub enum GeneratorError {
    #[error("{generator}: {message}")]
    Invalid { generator: String, message: String },
}

impl GeneratorError {
    pub fn kind(&self) -> &'static str {
        match self {
            GeneratorError::Invalid { .. } => "generator",
        }
    }
}

/// `generatorOptions:` (also allowed per generator as `options:`).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GeneratorOptions {
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    pub disable_name_suffix_hash: Option<bool>,
    pub immutable: Option<bool>,
}

/// One `configMapGenerator:` or `secretGenerator:` entry.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GeneratorArgs {
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub behavior: Option<String>,
    #[serde(default)]
    pub literals: Vec<String>,
    #[serde(default)]
    pub files: Vec<String>,
    #[serde(default)]
    pub envs: Vec<String>,
    /// Deprecated single-file form of `envs`.
    pub env: Option<String>,
    pub options: Option<GeneratorOptions>,
    /// Secret type (secretGenerator only).
    #[serde(rename = "type")]
    pub type_: Option<String>,
}

/// Reads a file a generator names, relative to the kustomization directory, through the
/// build's load restrictor. The error is a ready-to-print message.
pub trait FileSource {
    fn read(&self, path: &str) -> Result<Vec<u8>, String>;
}

pub fn config_map(
    args: &GeneratorArgs,
    global: Option<&GeneratorOptions>,
    files: &dyn FileSource,
) -> Result<Resource, GeneratorError> {
    let _ = (args, global, files);
    unimplemented!("generator work package")
}

pub fn secret(
    args: &GeneratorArgs,
    global: Option<&GeneratorOptions>,
    files: &dyn FileSource,
) -> Result<Resource, GeneratorError> {
    let _ = (args, global, files);
    unimplemented!("generator work package")
}

/// Adds generator output to the resources of a level, honouring `behavior` (create: must not
/// exist; merge/replace: must exist, matched by kind/name/namespace).
pub fn add(resources: &mut Vec<Resource>, generated: Resource) -> Result<(), GeneratorError> {
    let _ = (resources, generated);
    unimplemented!("generator work package")
}
