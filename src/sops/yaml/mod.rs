//! The YAML store: multi-document, key order and comments kept, types resolved as go-yaml v3
//! resolves them, output laid out as sops writes it.
//!
//! See `docs/formats/sops.md` for what is kept and what sops itself normalises (aliases are
//! expanded, `1.50` becomes `1.5`, dates become timestamps).

mod emit;
mod fast;
mod parse;
mod resolve;

use super::metadata::Metadata;
use super::store::{Format, Limits, Store, StoreConfig, StoreError, check_size, embed_metadata};
use super::tree::{Branch, Value};

/// sops's default YAML indentation.
pub const DEFAULT_INDENT: usize = 4;

/// YAML documents, read and written the way sops's go-yaml v3 store does.
#[derive(Clone, Copy, Debug, Default)]
pub struct YamlStore {
    pub config: StoreConfig,
    pub limits: Limits,
}

impl YamlStore {
    pub fn new(config: StoreConfig) -> Self {
        Self { config, limits: Limits::default() }
    }

    /// go-yaml's encoder replaces an indent outside 2–9 with 2 (`emitterc.go`).
    fn indent(&self) -> usize {
        match self.config.yaml_indent {
            None | Some(0) => DEFAULT_INDENT,
            Some(n @ 2..=9) => n,
            Some(_) => 2,
        }
    }
}

impl Store for YamlStore {
    fn format(&self) -> Format {
        Format::Yaml
    }

    fn load_plain(&self, input: &[u8]) -> Result<Vec<Branch>, StoreError> {
        check_size(input, &self.limits)?;
        let text = std::str::from_utf8(input)
            .map_err(|e| StoreError::parse("YAML", None, format!("invalid UTF-8 at byte {}", e.valid_up_to())))?;
        parse::parse(text, &self.limits)
    }

    fn emit_plain(&self, docs: &[Branch]) -> Result<Vec<u8>, StoreError> {
        let mut emitter = emit::Emitter::new(self.indent());
        emitter.documents(docs)?;
        Ok(emitter.finish().into_bytes())
    }

    /// Like [`Store::emit_plain`], with comments that go-yaml would read back into another
    /// collection moved to an equivalent place (see [`emit::anchor_list_comments`]): their AAD
    /// must be the path sops finds them at.
    fn emit_encrypted_owned(&self, mut docs: Vec<Branch>, meta: &Metadata) -> Result<Vec<u8>, StoreError> {
        embed_metadata(&mut docs, meta, self.metadata_layout())?;
        for doc in &mut docs {
            emit::anchor_list_comments(doc);
        }
        let mut emitter = emit::Emitter::for_encrypted(self.indent());
        emitter.documents(&docs)?;
        Ok(emitter.finish().into_bytes())
    }

    fn emit_value(&self, value: &Value) -> Result<Vec<u8>, StoreError> {
        let mut emitter = emit::Emitter::new(self.indent());
        emitter.value(value)?;
        Ok(emitter.finish().into_bytes())
    }
}

#[cfg(test)]
mod tests;
