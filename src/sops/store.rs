//! File formats: what a store is, which store a file uses, and where metadata goes in each.
//!
//! A store turns bytes into documents ([`Branch`]es) and back, plaintext or encrypted. The
//! metadata travels differently per format (`stores/metadata.go`, `MetadataFlatten`): nested
//! under a top-level `sops` key (YAML, JSON, binary), flattened into `sops_*` keys (dotenv), or
//! flattened below a `[sops]` section with escaped newlines (INI).

use std::path::Path;

use super::metadata::{self, Metadata, MetadataError, SOPS_KEY};
use super::tree::{Branch, Item, Key, Value};

/// The five formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
    Dotenv,
    Ini,
    Binary,
}

impl Format {
    /// By file extension, as sops does: unknown extensions are binary.
    pub fn from_path(path: &Path) -> Self {
        match path.extension().and_then(|e| e.to_str()) {
            Some("yaml" | "yml") => Format::Yaml,
            Some("json") => Format::Json,
            Some("env") => Format::Dotenv,
            Some("ini") => Format::Ini,
            _ => Format::Binary,
        }
    }

    /// From `--input-type`/`--output-type`. sops silently treats unknown names as binary;
    /// sealops refuses them instead of guessing.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "yaml" => Format::Yaml,
            "json" => Format::Json,
            "dotenv" => Format::Dotenv,
            "ini" => Format::Ini,
            "binary" => Format::Binary,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Yaml => "yaml",
            Format::Json => "json",
            Format::Dotenv => "dotenv",
            Format::Ini => "ini",
            Format::Binary => "binary",
        }
    }
}

/// Output settings from `.sops.yaml` (`stores:`) or `--indent`.
#[derive(Clone, Copy, Debug, Default)]
pub struct StoreConfig {
    /// YAML indentation; `None` means sops's default of 4.
    pub yaml_indent: Option<usize>,
    /// JSON indentation in spaces; `None` means a tab (sops's default).
    pub json_indent: Option<usize>,
    /// Indentation of the binary store's JSON envelope; `None` means a tab.
    pub json_binary_indent: Option<usize>,
}

/// Limits applied while parsing untrusted input.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest input accepted, in bytes.
    pub max_input: usize,
    /// Deepest nesting of maps and lists.
    pub max_depth: usize,
    /// Most nodes an input may expand to through YAML aliases (an alias bomb guard).
    pub max_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_input: 64 << 20, max_depth: 256, max_nodes: 4_000_000 }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The input could not be parsed; `at` is a line (and column) when known.
    #[error("Error unmarshalling input {format}{}: {message}", at.as_ref().map(|a| format!(" at {a}")).unwrap_or_default())]
    Parse { format: &'static str, at: Option<String>, message: String },
    #[error("Error dumping file: {0}")]
    Emit(String),
    #[error("input is {size} bytes, more than the limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    #[error("File cannot be completely empty, it must contain at least one document")]
    Empty,
    #[error(transparent)]
    Metadata(#[from] MetadataError),
    #[error("Found key {0:?} in encrypted data, which is a reserved key used for SOPS metadata")]
    ReservedKey(String),
}

impl StoreError {
    pub fn kind(&self) -> &'static str {
        match self {
            StoreError::Parse { .. } | StoreError::TooLarge { .. } => "could_not_read_input",
            StoreError::Emit(_) | StoreError::ReservedKey(_) => "error_dumping_tree",
            StoreError::Empty => "need_at_least_one_document",
            StoreError::Metadata(MetadataError::NotFound) => "metadata_not_found",
            StoreError::Metadata(_) => "invalid_metadata",
        }
    }

    pub fn parse(format: &'static str, at: Option<String>, message: impl Into<String>) -> Self {
        StoreError::Parse { format, at, message: message.into() }
    }
}

/// A file format.
pub trait Store: Send + Sync {
    fn format(&self) -> Format;

    /// Parses a plaintext file into documents.
    fn load_plain(&self, input: &[u8]) -> Result<Vec<Branch>, StoreError>;

    /// Writes plaintext documents.
    fn emit_plain(&self, docs: &[Branch]) -> Result<Vec<u8>, StoreError>;

    /// Writes one value on its own (`decrypt --extract` of a map or list).
    fn emit_value(&self, value: &Value) -> Result<Vec<u8>, StoreError>;

    /// Where this format keeps its metadata.
    fn metadata_layout(&self) -> MetadataLayout {
        MetadataLayout::Nested
    }

    /// This store as the JSON store, for the operations that have a faster route for JSON
    /// ([`super::stream`]).
    fn as_json(&self) -> Option<&super::json::JsonStore> {
        None
    }

    /// Parses an encrypted file: its documents (without metadata) and its metadata.
    fn load_encrypted(&self, input: &[u8]) -> Result<(Vec<Branch>, Metadata), StoreError> {
        let docs = self.load_plain(input)?;
        extract_metadata(docs, self.metadata_layout())
    }

    /// Writes encrypted documents with their metadata.
    fn emit_encrypted(&self, docs: &[Branch], meta: &Metadata) -> Result<Vec<u8>, StoreError> {
        self.emit_encrypted_owned(docs.to_vec(), meta)
    }

    /// [`Store::emit_encrypted`] for documents the caller is done with: the metadata is
    /// appended to them rather than to a copy (a copy of a large file costs more than writing it).
    fn emit_encrypted_owned(&self, mut docs: Vec<Branch>, meta: &Metadata) -> Result<Vec<u8>, StoreError> {
        embed_metadata(&mut docs, meta, self.metadata_layout())?;
        self.emit_plain(&docs)
    }

    /// True when the documents already carry sops metadata (exit 203 on encrypt).
    fn has_sops_key(&self, docs: &[Branch]) -> bool {
        let Some(first) = docs.first() else {
            return false;
        };
        first.iter().any(|item| match item {
            Item::Pair { key: Key::Str(k), .. } => match self.metadata_layout() {
                MetadataLayout::FlattenFull => k.starts_with(FLAT_PREFIX),
                _ => k == SOPS_KEY,
            },
            _ => false,
        })
    }
}

/// How a format carries metadata.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetadataLayout {
    /// Under a top-level `sops` map in the first document.
    Nested,
    /// Flattened into a `sops` section, with newlines written as `\n` (INI).
    FlattenBelowTop,
    /// Flattened into top-level `sops_…` keys (dotenv).
    FlattenFull,
}

const FLAT_PREFIX: &str = "sops_";

/// Takes the metadata out of parsed documents (`stores.ExtractMetadata`).
pub fn extract_metadata(mut docs: Vec<Branch>, layout: MetadataLayout) -> Result<(Vec<Branch>, Metadata), StoreError> {
    let mut found: Option<Branch> = None;
    match layout {
        MetadataLayout::Nested | MetadataLayout::FlattenBelowTop => {
            // Only the first document's `sops` key counts; later ones are dropped (sops #2224).
            for (index, doc) in docs.iter_mut().enumerate() {
                let mut kept = Vec::with_capacity(doc.len());
                for item in doc.drain(..) {
                    match item {
                        Item::Pair { key: Key::Str(k), value } if k == SOPS_KEY => {
                            if index == 0 {
                                if found.is_some() {
                                    return Err(MetadataError::Duplicate.into());
                                }
                                match value {
                                    Value::Map(m) => found = Some(m),
                                    _ => return Err(MetadataError::NotAMap.into()),
                                }
                            }
                        }
                        other => kept.push(other),
                    }
                }
                *doc = kept;
            }
        }
        MetadataLayout::FlattenFull => {
            if let Some(first) = docs.first_mut() {
                let mut flat = Vec::new();
                let mut kept = Vec::with_capacity(first.len());
                for item in first.drain(..) {
                    match item {
                        Item::Pair { key: Key::Str(k), value } if k.starts_with(FLAT_PREFIX) => {
                            flat.push((k[FLAT_PREFIX.len()..].to_owned(), value));
                        }
                        other => kept.push(other),
                    }
                }
                *first = kept;
                if !flat.is_empty() {
                    found = Some(flat.into_iter().map(|(k, v)| Item::Pair { key: Key::Str(k), value: v }).collect());
                }
            }
        }
    }
    let raw = found.ok_or(MetadataError::NotFound)?;
    let raw = match layout {
        MetadataLayout::Nested => raw,
        MetadataLayout::FlattenBelowTop | MetadataLayout::FlattenFull => {
            let unescape = layout == MetadataLayout::FlattenBelowTop;
            let items = raw
                .into_iter()
                .filter_map(|item| match item {
                    Item::Pair { key: Key::Str(k), value } => {
                        Some((k, if unescape { unescape_newlines(value) } else { value }))
                    }
                    _ => None,
                })
                .collect();
            metadata::unflatten(items)?
        }
    };
    let meta = Metadata::from_branch(&raw)?;
    Ok((docs, meta))
}

fn unescape_newlines(value: Value) -> Value {
    match value {
        Value::Scalar(super::tree::Scalar::Str(s)) => match s.as_str() {
            Some(text) if text.contains("\\n") => Value::str(&text.replace("\\n", "\n")),
            _ => Value::Scalar(super::tree::Scalar::Str(s)),
        },
        other => other,
    }
}

/// Puts the metadata into documents to be written (`stores.SerializeMetadata`): appended to
/// every document, as sops does for multi-document YAML.
pub fn embed_metadata(docs: &mut [Branch], meta: &Metadata, layout: MetadataLayout) -> Result<(), StoreError> {
    let tree = meta.to_branch();
    let extra: Vec<Item> = match layout {
        MetadataLayout::Nested => vec![Item::Pair { key: Key::Str(SOPS_KEY.to_owned()), value: Value::Map(tree) }],
        MetadataLayout::FlattenBelowTop => {
            let flat = metadata::flatten(&tree, "")?
                .into_iter()
                .map(|(k, v)| Item::Pair { key: Key::Str(k), value: escape_newlines(v) })
                .collect();
            vec![Item::Pair { key: Key::Str(SOPS_KEY.to_owned()), value: Value::Map(flat) }]
        }
        MetadataLayout::FlattenFull => metadata::flatten(&tree, FLAT_PREFIX)?
            .into_iter()
            .map(|(k, v)| Item::Pair { key: Key::Str(k), value: v })
            .collect(),
    };
    for doc in docs.iter() {
        for item in doc {
            if let Item::Pair { key: Key::Str(k), .. } = item {
                let reserved = match layout {
                    MetadataLayout::FlattenFull => k.starts_with(FLAT_PREFIX),
                    _ => k == SOPS_KEY,
                };
                if reserved {
                    return Err(StoreError::ReservedKey(k.clone()));
                }
            }
        }
    }
    for doc in docs.iter_mut() {
        doc.extend(extra.iter().cloned());
    }
    Ok(())
}

fn escape_newlines(value: Value) -> Value {
    match value {
        Value::Scalar(super::tree::Scalar::Str(s)) => match s.as_str() {
            Some(text) if text.contains('\n') => Value::str(&text.replace('\n', "\\n")),
            _ => Value::Scalar(super::tree::Scalar::Str(s)),
        },
        other => other,
    }
}

/// The store for a format.
pub fn for_format(format: Format, config: StoreConfig) -> Box<dyn Store> {
    match format {
        Format::Yaml => Box::new(super::yaml::YamlStore::new(config)),
        Format::Json => Box::new(super::json::JsonStore::new(config)),
        Format::Dotenv => Box::new(super::dotenv::DotenvStore::new()),
        Format::Ini => Box::new(super::ini::IniStore::new()),
        Format::Binary => Box::new(super::binary::BinaryStore::new(config)),
    }
}

/// Checks an input against the size limit before any parsing.
pub fn check_size(input: &[u8], limits: &Limits) -> Result<(), StoreError> {
    if input.len() > limits.max_input {
        return Err(StoreError::TooLarge { size: input.len(), limit: limits.max_input });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_extension() {
        assert_eq!(Format::from_path(Path::new("a/b.yml")), Format::Yaml);
        assert_eq!(Format::from_path(Path::new("x.env")), Format::Dotenv);
        assert_eq!(Format::from_path(Path::new("x.txt")), Format::Binary);
        assert_eq!(Format::from_path(Path::new("noext")), Format::Binary);
        assert_eq!(Format::from_name("dotenv"), Some(Format::Dotenv));
        assert_eq!(Format::from_name("toml"), None);
    }
}
