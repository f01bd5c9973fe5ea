//! `configMapGenerator:` / `secretGenerator:` and `generatorOptions:`. Owner: the generator work
//! package.
//!
//! Semantics follow kustomize v5.5 (`api/kv/kv.go`, `api/internal/generators/`,
//! `api/types/generatoroptions.go`, `api/resmap/reswrangler.go` `appendReplaceOrMerge`), checked
//! against `kubectl kustomize`:
//!
//! - pairs come from `envs` (then the legacy `env`), then `literals`, then `files`; a key given
//!   twice is an error;
//! - keys are not validated: kustomize's field validator accepts anything (`a b` included), and
//!   the API server is the one that refuses bad keys;
//! - env files: one `KEY=VALUE` per line, leading whitespace and a first-line BOM dropped, `#`
//!   comments and blank lines skipped, values kept verbatim (quotes included); a bare `KEY`
//!   gives an empty value: kustomize does **not** read the process environment;
//! - a literal's value loses one pair of matching surrounding quotes (`"v"` or `'v'`);
//! - file content that is not UTF-8 goes to a ConfigMap's `binaryData`; Secret values and
//!   `binaryData` are base64 cut into 70-character lines, each ending in `\n`, when longer than
//!   one line, exactly as kustomize writes them (the content hash sees those newlines).

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use crate::crypto::secret::wipe_json;
use crate::manifest::{ResId, Resource};

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

/// The options that apply to one generator: kustomize's `MergeGlobalOptionsIntoLocal`. Local
/// labels and annotations win over global ones with the same key; a `true` anywhere wins for the
/// two flags (a local `false` cannot switch off a global `true`).
pub fn merged_options(local: Option<&GeneratorOptions>, global: Option<&GeneratorOptions>) -> GeneratorOptions {
    let mut merged = local.cloned().unwrap_or_default();
    if let Some(global) = global {
        for (key, value) in &global.labels {
            merged.labels.entry(key.clone()).or_insert_with(|| value.clone());
        }
        for (key, value) in &global.annotations {
            merged.annotations.entry(key.clone()).or_insert_with(|| value.clone());
        }
        if global.disable_name_suffix_hash == Some(true) {
            merged.disable_name_suffix_hash = Some(true);
        }
        if global.immutable == Some(true) {
            merged.immutable = Some(true);
        }
    }
    merged
}

/// A key and its raw value; the value may be Secret plaintext, so it is wiped on drop.
struct Pair {
    key: String,
    value: Zeroizing<Vec<u8>>,
}

pub fn config_map(
    args: &GeneratorArgs,
    global: Option<&GeneratorOptions>,
    files: &dyn FileSource,
) -> Result<Resource, GeneratorError> {
    let (name, label) = name_of(args, "configMapGenerator")?;
    let pairs = load_pairs(args, files, &label)?;
    let mut data = Map::new();
    let mut binary = Map::new();
    for pair in &pairs {
        match std::str::from_utf8(&pair.value) {
            Ok(text) => data.insert(pair.key.clone(), Value::String(text.to_owned())),
            Err(_) => binary.insert(pair.key.clone(), Value::String(kustomize_base64(&pair.value))),
        };
    }
    let mut object = base_object("ConfigMap", &name, args.namespace.as_deref());
    // Kustomize creates `data`/`binaryData` only when a value goes there.
    if !data.is_empty() {
        object.insert("data".into(), Value::Object(data));
    }
    if !binary.is_empty() {
        object.insert("binaryData".into(), Value::Object(binary));
    }
    finish(object, args, global, "ConfigMapGenerator", &label)
}

pub fn secret(
    args: &GeneratorArgs,
    global: Option<&GeneratorOptions>,
    files: &dyn FileSource,
) -> Result<Resource, GeneratorError> {
    let (name, label) = name_of(args, "secretGenerator")?;
    let pairs = load_pairs(args, files, &label)?;
    let mut object = base_object("Secret", &name, args.namespace.as_deref());
    let secret_type = args.type_.as_deref().filter(|t| !t.is_empty()).unwrap_or("Opaque");
    object.insert("type".into(), Value::String(secret_type.to_owned()));
    let data: Map<String, Value> =
        pairs.iter().map(|pair| (pair.key.clone(), Value::String(kustomize_base64(&pair.value)))).collect();
    // A Secret always gets `data`, even `data: {}` (it enters the hash).
    object.insert("data".into(), Value::Object(data));
    finish(object, args, global, "SecretGenerator", &label)
}

fn name_of(args: &GeneratorArgs, field: &str) -> Result<(String, String), GeneratorError> {
    match args.name.as_deref() {
        Some(name) if !name.is_empty() => Ok((name.to_owned(), format!("{field} '{name}'"))),
        // Kustomize says "a configmap must have a name" for both kinds.
        _ => Err(GeneratorError::Invalid {
            generator: field.to_owned(),
            message: "name: a generator must have a name".into(),
        }),
    }
}

fn base_object(kind: &str, name: &str, namespace: Option<&str>) -> Map<String, Value> {
    let mut metadata = Map::new();
    metadata.insert("name".into(), Value::String(name.to_owned()));
    if let Some(ns) = namespace.filter(|ns| !ns.is_empty()) {
        metadata.insert("namespace".into(), Value::String(ns.to_owned()));
    }
    let mut object = Map::new();
    object.insert("apiVersion".into(), Value::String("v1".into()));
    object.insert("kind".into(), Value::String(kind.to_owned()));
    object.insert("metadata".into(), Value::Object(metadata));
    object
}

fn finish(
    mut object: Map<String, Value>,
    args: &GeneratorArgs,
    global: Option<&GeneratorOptions>,
    generated_by: &str,
    label: &str,
) -> Result<Resource, GeneratorError> {
    let behavior = match args.behavior.as_deref() {
        None | Some("") | Some("create") => "create",
        Some("merge") => "merge",
        Some("replace") => "replace",
        // Kustomize silently treats an unknown value as `create`; a typo here would hide a
        // merge, so it is refused.
        Some(other) => {
            return Err(invalid(label, format!("behavior: '{other}' is not one of create, merge, replace")));
        }
    };
    let options = merged_options(args.options.as_ref(), global);
    if let Some(Value::Object(metadata)) = object.get_mut("metadata") {
        if !options.labels.is_empty() {
            metadata.insert("labels".into(), string_map(&options.labels));
        }
        if !options.annotations.is_empty() {
            metadata.insert("annotations".into(), string_map(&options.annotations));
        }
    }
    if options.immutable == Some(true) {
        object.insert("immutable".into(), Value::Bool(true));
    }
    let mut resource = Resource::new(object);
    resource.meta.needs_hash = options.disable_name_suffix_hash != Some(true);
    resource.meta.behavior = Some(behavior.to_owned());
    resource.meta.generated_by = Some(generated_by.to_owned());
    Ok(resource)
}

fn string_map(map: &BTreeMap<String, String>) -> Value {
    Value::Object(map.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect())
}

fn invalid(label: &str, message: String) -> GeneratorError {
    GeneratorError::Invalid { generator: label.to_owned(), message }
}

/// All pairs in kustomize's order (envs, literals, files), refusing repeated keys.
fn load_pairs(args: &GeneratorArgs, files: &dyn FileSource, label: &str) -> Result<Vec<Pair>, GeneratorError> {
    let mut pairs = Vec::new();
    let env_files = args.envs.iter().chain(args.env.iter().filter(|e| !e.is_empty()));
    for path in env_files {
        let content = Zeroizing::new(files.read(path).map_err(|e| invalid(label, format!("envs: {e}")))?);
        parse_env_file(&content, &mut pairs).map_err(|e| invalid(label, format!("envs: {path}: {e}")))?;
    }
    for literal in &args.literals {
        let (key, value) = parse_literal(literal).map_err(|e| invalid(label, format!("literals: {e}")))?;
        pairs.push(Pair { key, value });
    }
    for source in &args.files {
        let (key, path) = parse_file_source(source).map_err(|e| invalid(label, format!("files: {e}")))?;
        let content = files.read(&path).map_err(|e| invalid(label, format!("files: {e}")))?;
        pairs.push(Pair { key, value: Zeroizing::new(content) });
    }
    let mut seen = std::collections::HashSet::new();
    for pair in &pairs {
        if !seen.insert(pair.key.as_str()) {
            return Err(invalid(label, format!("illegally repeats the key `{}`", pair.key)));
        }
    }
    Ok(pairs)
}

/// Kustomize's env-file reader (`kv.keyValuesFromLines`): Go's line scanner (which drops a
/// `\r` before each `\n`), left-trimmed lines, `#` comments, first `=` splits.
fn parse_env_file(content: &[u8], pairs: &mut Vec<Pair>) -> Result<(), String> {
    let mut lines: Vec<&[u8]> = content.split(|b| *b == b'\n').collect();
    if content.ends_with(b"\n") || content.is_empty() {
        lines.pop();
    }
    for (number, raw) in lines.into_iter().enumerate() {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let mut line = std::str::from_utf8(raw).map_err(|_| format!("line {}: not valid UTF-8", number + 1))?;
        if number == 0 {
            line = line.strip_prefix('\u{feff}').unwrap_or(line);
        }
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line.split_once('=').unwrap_or((line, ""));
        // An empty key (`=x`) is skipped like a comment, as kustomize does.
        if key.is_empty() {
            continue;
        }
        pairs.push(Pair { key: key.to_owned(), value: Zeroizing::new(value.as_bytes().to_vec()) });
    }
    Ok(())
}

/// `KEY=VALUE`, value without one pair of surrounding matching quotes.
fn parse_literal(source: &str) -> Result<(String, Zeroizing<Vec<u8>>), String> {
    let Some((key, value)) = source.split_once('=').filter(|(key, _)| !key.is_empty()) else {
        // The literal may be a secret: name only its key part.
        let key = source.split('=').next().unwrap_or("");
        return Err(format!("invalid literal source '{key}=…', expected key=value"));
    };
    let bytes = value.as_bytes();
    let unquoted = match (bytes.first(), bytes.last()) {
        (Some(&first), Some(&last)) if bytes.len() >= 2 && first == last && (first == b'"' || first == b'\'') => {
            &value[1..value.len() - 1]
        }
        _ => value,
    };
    Ok((key.to_owned(), Zeroizing::new(unquoted.as_bytes().to_vec())))
}

/// `path` (key = the file's base name) or `key=path`.
fn parse_file_source(source: &str) -> Result<(String, String), String> {
    match source.matches('=').count() {
        0 => Ok((go_path_base(source), source.to_owned())),
        1 => {
            let (key, path) = source.split_once('=').unwrap_or((source, ""));
            if key.is_empty() {
                Err(format!("missing key name for file path \"{path}\" in source \"{source}\""))
            } else if path.is_empty() {
                Err(format!("missing file path for key name \"{key}\" in source \"{source}\""))
            } else {
                Ok((key.to_owned(), path.to_owned()))
            }
        }
        _ => Err(format!("source \"{source}\" key name or file path contains '='")),
    }
}

/// Go's `path.Base`: the last slash-separated element, trailing slashes ignored.
fn go_path_base(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/".into();
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed).to_owned()
}

/// Kustomize's `encodeBase64`: standard base64; when the text is 70 characters or longer it
/// is cut into 70-character lines, each followed by `\n`.
pub fn kustomize_base64(bytes: &[u8]) -> String {
    const LINE: usize = 70;
    // Secret values are base64 of plaintext: the intermediate copy is wiped too.
    let encoded = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(bytes));
    if encoded.len() < LINE {
        return encoded.to_string();
    }
    let mut out = String::with_capacity(encoded.len() + encoded.len() / LINE + 1);
    for chunk in encoded.as_bytes().chunks(LINE) {
        // base64 output is ASCII, so every chunk is valid UTF-8.
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out
}

/// Adds generator output to the resources of a level, honouring `behavior` (create: must not
/// exist; merge/replace: must exist, matched by kind/name/namespace).
pub fn add(resources: &mut Vec<Resource>, generated: Resource) -> Result<(), GeneratorError> {
    let id = generated.id();
    let behavior = generated.meta.behavior.clone().unwrap_or_else(|| "create".into());
    let matches: Vec<usize> = resources
        .iter()
        .enumerate()
        .filter(|(_, r)| same_id(&r.id(), &id) || r.meta.previous_ids.iter().any(|p| same_id(p, &id)))
        .map(|(i, _)| i)
        .collect();
    let label = format!("{}/{}", id.kind, id.name);
    match matches.as_slice() {
        [] if behavior == "create" => {
            resources.push(generated);
            Ok(())
        }
        [] => Err(invalid(
            &label,
            format!("behavior: {behavior}: no {} named '{}' in the namespace to {behavior}", id.kind, id.name),
        )),
        [index] => {
            let index = *index;
            if behavior == "create" {
                return Err(invalid(
                    &label,
                    format!("behavior: already exists; behavior must be merge or replace (it is {behavior})"),
                ));
            }
            let merged = combine(&resources[index], generated, behavior == "merge");
            resources[index] = merged;
            Ok(())
        }
        _ => Err(invalid(&label, "behavior: more than one object could accept the merge".into())),
    }
}

/// Kustomize's `ResId.Equals` for namespaced kinds: same group/version/kind and name, and the
/// same namespace where unset means `default`.
fn same_id(a: &ResId, b: &ResId) -> bool {
    let ns = |id: &ResId| match id.namespace.as_deref() {
        None | Some("") => "default".to_owned(),
        Some(ns) => ns.to_owned(),
    };
    a.group == b.group && a.version == b.version && a.kind == b.kind && a.name == b.name && ns(a) == ns(b)
}

/// `replace`/`merge` of `new` onto `old` (`CopyMergeMetaDataFieldsFrom`, `MergeDataMapFrom`):
/// labels and annotations merged with the new values winning, name and namespace and the build
/// bookkeeping taken from the old object, and the hash suffix only when both wanted it. `merge`
/// also merges `data` and `binaryData` (new keys win, sorted) and keeps the old origin.
fn combine(old: &Resource, mut new: Resource, merge: bool) -> Resource {
    for field in ["labels", "annotations"] {
        let mut merged = string_fields(old, field);
        for (k, v) in string_fields(&new, field) {
            merged.insert(k, v);
        }
        set_metadata(&mut new, field, (!merged.is_empty()).then(|| Value::Object(merged)));
    }
    set_metadata(&mut new, "name", Some(Value::String(old.name().to_owned())));
    set_metadata(&mut new, "namespace", old.namespace().map(|ns| Value::String(ns.to_owned())));
    if merge {
        for field in ["data", "binaryData"] {
            let mut merged: BTreeMap<String, Value> = match old.object.get(field) {
                Some(Value::Object(map)) => map.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                _ => BTreeMap::new(),
            };
            if let Some(Value::Object(map)) = new.object.get(field) {
                merged.extend(map.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            // Kustomize clears the field and writes it again, so it moves to the end.
            if let Some(mut removed) = new.object.shift_remove(field) {
                wipe_json(&mut removed);
            }
            if !merged.is_empty() {
                new.object.insert(field.into(), Value::Object(merged.into_iter().collect()));
            }
        }
    }
    let needs_hash = old.meta.needs_hash && new.meta.needs_hash;
    let mut meta = old.meta.clone();
    meta.needs_hash = needs_hash;
    if !merge {
        meta.origin_path = new.meta.origin_path.take();
        meta.generated_by = new.meta.generated_by.take();
    }
    new.meta = meta;
    new
}

fn string_fields(resource: &Resource, field: &str) -> Map<String, Value> {
    match resource.object.get("metadata").and_then(|m| m.get(field)) {
        Some(Value::Object(map)) => map.clone(),
        _ => Map::new(),
    }
}

fn set_metadata(resource: &mut Resource, field: &str, value: Option<Value>) {
    let metadata = resource.object.entry("metadata").or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(metadata) = metadata {
        match value {
            Some(value) => {
                metadata.insert(field.into(), value);
            }
            None => {
                metadata.shift_remove(field);
            }
        }
    }
}

#[cfg(test)]
#[path = "generator_tests.rs"]
mod tests;
