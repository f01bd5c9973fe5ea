//! The YAML store (being written; the API below is what other modules call).

use super::store::{Format, Store, StoreConfig, StoreError};
use super::tree::{Branch, Value};

/// YAML documents, comments and key order kept, as sops's yaml.v3 store reads and writes them.
#[derive(Clone, Copy, Debug, Default)]
pub struct YamlStore {
    pub config: StoreConfig,
}

impl Store for YamlStore {
    fn format(&self) -> Format {
        Format::Yaml
    }

    fn load_plain(&self, _input: &[u8]) -> Result<Vec<Branch>, StoreError> {
        Err(StoreError::parse("YAML", None, "the YAML store is not written yet"))
    }

    fn emit_plain(&self, _docs: &[Branch]) -> Result<Vec<u8>, StoreError> {
        Err(StoreError::Emit("the YAML store is not written yet".into()))
    }

    fn emit_value(&self, _value: &Value) -> Result<Vec<u8>, StoreError> {
        Err(StoreError::Emit("the YAML store is not written yet".into()))
    }
}
