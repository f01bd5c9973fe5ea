//! Patches: strategic merge (schema-aware merge keys of the builtin types), JSON 6902, and the
//! target selectors both use. Owner: the patch work package.
//!
//! The behaviour follows kustomize v5.5 (`api/internal/builtins/PatchTransformer.go`,
//! `PatchStrategicMergeTransformer.go`, `PatchJson6902Transformer.go`); where kustomize's
//! merge differs from apimachinery's strategic merge, we do what kustomize does (see
//! [`smp`]).
//!
//! Kustomize behaviours kept on purpose: a strategic-merge patch that changes `name` or
//! `kind` without `allowNameChange`/`allowKindChange` is not an error, the name and kind are
//! silently restored (`Resource.ApplySmPatch`), and the namespace always is. Differences that
//! remain: a JSON 6902 patch written as YAML reads `y`/`yes`/`on` as strings (kustomize's
//! YAML 1.1 reader makes them booleans); a bare `key:` null in a patched resource survives
//! (kyaml drops it, keeping only `null`/`~`; the parsed value cannot tell them apart); a
//! multi-document patch whose `$patch: delete` precedes another document removes the object
//! (kustomize v5.5 crashes on it).

pub mod json6902;
pub mod schema;
pub mod select;
pub mod smp;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::manifest::{ResId, Resource};

pub use select::Selector;

#[derive(Debug, thiserror::Error)]
pub enum PatchError {
    #[error("{source_name}: {message}")]
    Invalid { source_name: String, message: String },
    /// A strategic merge that cannot be applied; `path` is the dotted field path.
    #[error("field {path}: {message}")]
    Merge { path: String, message: String },
    #[error("target selector `{field}`: {message}")]
    Selector { field: String, message: String },
    #[error("{source_name}: {resource}: {error}")]
    Json6902 { source_name: String, resource: String, error: Box<json6902::Json6902Error> },
    #[error("{source_name}: {message}")]
    NoTarget { source_name: String, message: String },
    #[error("{source_name}: {resource}: {error}")]
    Apply { source_name: String, resource: String, error: Box<PatchError> },
}

impl PatchError {
    pub fn kind(&self) -> &'static str {
        match self {
            PatchError::Invalid { .. } => "invalid-patch",
            PatchError::Merge { .. } => "patch-merge",
            PatchError::Selector { .. } => "invalid-selector",
            PatchError::Json6902 { .. } => "json6902",
            PatchError::NoTarget { .. } => "patch-no-target",
            PatchError::Apply { error, .. } => error.kind(),
        }
    }
}

/// `options:` of a `patches:` entry.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PatchOptions {
    #[serde(default)]
    pub allow_name_change: bool,
    #[serde(default)]
    pub allow_kind_change: bool,
}

/// One `patches:` entry with its text already loaded. `source` names it in errors (the file
/// path, or `patches[3]` for an inline patch).
pub struct PatchInput<'a> {
    pub source: &'a str,
    pub text: &'a str,
    pub target: Option<&'a Selector>,
    pub options: &'a PatchOptions,
}

/// Kustomize's PatchTransformer: the text is a JSON 6902 op list or a strategic-merge patch
/// (one or more documents); applied to every resource the target selects (or, for an SMP
/// without a target, the resource with the patch's own id). `$patch: delete` removes resources.
pub fn apply(resources: &mut Vec<Resource>, input: &PatchInput<'_>) -> Result<(), PatchError> {
    let source = input.source;
    let text = input.text.trim();
    // Kustomize tries both readings and wants exactly one to succeed.
    let smp = parse_smp(text);
    let json = json6902::parse(text);
    let patches = match (smp, json) {
        (Ok(patches), Err(_)) => patches,
        (Err(_), Ok(ops)) => return apply_json6902(resources, input.target, source, &ops, true),
        (Ok(_), Ok(_)) => return Err(invalid(source, "illegally qualifies as both an SM and JSON patch")),
        (Err(smp), Err(json)) => {
            return Err(invalid(
                source,
                format!("unable to parse SM or JSON patch (as strategic merge: {smp}; as JSON 6902: {json})"),
            ));
        }
    };
    if patches.is_empty() {
        return Err(invalid(source, "the patch is empty"));
    }
    let options = input.options;
    let Some(target) = input.target else {
        for patch in &patches {
            let index = find_by_id(resources, patch, source, true)?;
            apply_smp_at(resources, index, patch, options, source)?;
        }
        return Ok(());
    };
    if patches.len() > 1 {
        return Err(invalid(
            source,
            "Multiple Strategic-Merge Patches in one `patches` entry is not allowed to set `patches.target` field",
        ));
    }
    let patch = &patches[0];
    let mut selected = Vec::new();
    for (i, resource) in resources.iter().enumerate() {
        if target.matches(resource)? {
            selected.push(i);
        }
    }
    // The patch takes the group/version of each resource it is applied to and keeps its
    // own kind and name (kustomize's resWrangler.ApplySmPatch).
    let mut deleted = Vec::new();
    for &index in &selected {
        let mut copy = patch.clone();
        if let Some(api) = resources[index].object.get("apiVersion").cloned() {
            copy.insert("apiVersion".to_owned(), api);
        }
        if apply_smp(&mut resources[index], &copy, options).map_err(|e| wrap(source, &resources[index], e))? {
            deleted.push(index);
        }
    }
    remove_indices(resources, &deleted);
    Ok(())
}

/// The legacy `patchesStrategicMerge:` entry (file contents or inline text).
pub fn apply_strategic_merge_legacy(resources: &mut Vec<Resource>, source: &str, text: &str) -> Result<(), PatchError> {
    let patches = parse_smp(text).map_err(|e| invalid(source, e))?;
    if patches.is_empty() {
        return Err(invalid(source, "patch appears to be empty"));
    }
    let options = PatchOptions::default();
    for patch in &patches {
        let index = find_by_id(resources, patch, source, false)?;
        apply_smp_at(resources, index, patch, &options, source)?;
    }
    Ok(())
}

/// The legacy `patchesJson6902:` entry.
pub fn apply_json6902_legacy(
    resources: &mut [Resource],
    target: &Selector,
    source: &str,
    text: &str,
) -> Result<(), PatchError> {
    if target.name.as_deref().is_none_or(str::is_empty) {
        return Err(invalid(source, "must specify the target name"));
    }
    let ops = json6902::parse(text).map_err(|e| invalid(source, e.to_string()))?;
    if ops.is_empty() {
        return Err(invalid(source, "patch appears to be empty"));
    }
    apply_json6902(resources, Some(target), source, &ops, false)
}

fn invalid(source: &str, message: impl Into<String>) -> PatchError {
    PatchError::Invalid { source_name: source.to_owned(), message: message.into() }
}

fn wrap(source: &str, resource: &Resource, error: PatchError) -> PatchError {
    PatchError::Apply { source_name: source.to_owned(), resource: id_string(&resource.id()), error: Box::new(error) }
}

/// A kustomize ResId as its error messages print it: `Kind.version.group/name.namespace`.
fn id_string(id: &ResId) -> String {
    let or = |s: &str, missing: &str| if s.is_empty() { missing.to_owned() } else { s.to_owned() };
    format!(
        "{}.{}.{}/{}.{}",
        or(&id.kind, "[noKind]"),
        or(&id.version, "[noVer]"),
        or(&id.group, "[noGrp]"),
        or(&id.name, "[noName]"),
        or(id.namespace.as_deref().unwrap_or(""), "[noNs]"),
    )
}

/// Parses strategic-merge patch documents the way kustomize loads resources: empty
/// documents are skipped, each needs `kind` and `metadata.name` (a `…List` only `kind`),
/// `…List` documents with `items` are expanded, and no list may hold a null.
/// Unquoted dates become RFC 3339 strings, as in resource files (`manifest::timestamp`).
fn parse_smp(text: &str) -> Result<Vec<Map<String, Value>>, String> {
    let docs = crate::manifest::timestamp::parse_rewritten(
        text,
        |text| {
            serde_saphyr::from_multiple::<Value>(text)
                .map_err(|e| e.to_string().lines().next().unwrap_or_default().to_owned())
        },
        |refused| match refused.line {
            Some(line) => format!("line {line}: {}", refused.message),
            None => refused.message,
        },
    )?;
    let mut queue: std::collections::VecDeque<Value> = docs.into();
    let mut out = Vec::new();
    while let Some(doc) = queue.pop_front() {
        let map = match doc {
            Value::Null => continue,
            Value::Object(map) if map.is_empty() => continue,
            Value::Object(map) => map,
            other => return Err(format!("a patch document is {}, not a map", value_kind(&other))),
        };
        let kind = map.get("kind").and_then(Value::as_str).unwrap_or_default();
        if kind.is_empty() {
            return Err("missing kind in a patch document".to_owned());
        }
        let is_list = kind.ends_with("List");
        let name = map.get("metadata").and_then(|m| m.get("name")).and_then(Value::as_str).unwrap_or_default();
        if !is_list && name.is_empty() {
            return Err(format!("missing metadata.name in a patch document of kind {kind}"));
        }
        if let Some(path) = null_in_list(&Value::Object(map.clone())) {
            return Err(format!("empty item at {path} in a patch document of kind {kind}"));
        }
        if is_list {
            match map.get("items") {
                Some(Value::Array(items)) => {
                    queue.extend(items.iter().cloned());
                    continue;
                }
                Some(Value::Null) => continue,
                Some(_) => return Err(format!("expected array in {kind}/items")),
                None => {}
            }
        }
        out.push(map);
    }
    Ok(out)
}

fn value_kind(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
        _ => "a scalar",
    }
}

fn null_in_list(v: &Value) -> Option<String> {
    match v {
        Value::Object(map) => map.iter().find_map(|(k, v)| null_in_list(v).map(|p| format!("{k}/{p}"))),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
            if item.is_null() { Some(String::new()) } else { null_in_list(item).map(|p| format!("[{i}]/{p}")) }
        }),
        _ => None,
    }
}

fn patch_id(patch: &Map<String, Value>) -> ResId {
    Resource::new(patch.clone()).id()
}

/// kustomize's `ResId.Equals`: same group, version, kind and name, and the same effective
/// namespace (unset and `default` are equal; cluster-scoped kinds have none).
fn same_id(a: &ResId, b: &ResId, api_version: &str) -> bool {
    a.group == b.group
        && a.version == b.version
        && a.kind == b.kind
        && a.name == b.name
        && select::effective_namespace(a, api_version) == select::effective_namespace(b, api_version)
}

/// `resWrangler.GetById`: the one resource whose current or any previous id is the patch's.
fn find_by_id(
    resources: &[Resource],
    patch: &Map<String, Value>,
    source: &str,
    prefixed: bool,
) -> Result<usize, PatchError> {
    let id = patch_id(patch);
    let api = patch.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
    let matches: Vec<usize> = resources
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            let current = r.id();
            r.meta.previous_ids.iter().chain(std::iter::once(&current)).any(|prev| same_id(prev, &id, api))
        })
        .map(|(i, _)| i)
        .collect();
    if let [one] = matches[..] {
        return Ok(one);
    }
    let id = id_string(&patch_id(patch));
    let count = if matches.is_empty() { "no matches" } else { "multiple matches" };
    let detail = format!("{count} for Id {id}; failed to find unique target for patch {id}");
    let message =
        if prefixed { format!("no resource matches strategic merge patch \"{id}\": {detail}") } else { detail };
    Err(PatchError::NoTarget { source_name: source.to_owned(), message })
}

fn apply_smp_at(
    resources: &mut Vec<Resource>,
    index: usize,
    patch: &Map<String, Value>,
    options: &PatchOptions,
    source: &str,
) -> Result<(), PatchError> {
    if apply_smp(&mut resources[index], patch, options).map_err(|e| wrap(source, &resources[index], e))? {
        resources.remove(index);
    }
    Ok(())
}

/// kustomize's `Resource.ApplySmPatch`: merge, then restore the name, kind and namespace
/// unless the options allow a change (namespace never changes). Returns true when the patch
/// deleted the resource.
fn apply_smp(resource: &mut Resource, patch: &Map<String, Value>, options: &PatchOptions) -> Result<bool, PatchError> {
    let before = resource.id();
    if options.allow_name_change || options.allow_kind_change {
        resource.meta.previous_ids.push(before.clone());
    }
    smp::merge(&mut resource.object, patch)?;
    if resource.object.is_empty() {
        return Ok(true);
    }
    if !options.allow_kind_change {
        resource.object.insert("kind".to_owned(), Value::String(before.kind.clone()));
    }
    let metadata = resource.object.entry("metadata").or_insert_with(|| Value::Object(Map::new()));
    if !metadata.is_object() {
        *metadata = Value::Object(Map::new());
    }
    if let Value::Object(meta) = metadata {
        if !options.allow_name_change {
            meta.insert("name".to_owned(), Value::String(before.name.clone()));
        }
        match &before.namespace {
            Some(ns) => {
                meta.insert("namespace".to_owned(), Value::String(ns.clone()));
            }
            None => {
                meta.shift_remove("namespace");
            }
        }
    }
    Ok(false)
}

fn apply_json6902(
    resources: &mut [Resource],
    target: Option<&Selector>,
    source: &str,
    ops: &[json6902::Operation],
    store_previous_id: bool,
) -> Result<(), PatchError> {
    let Some(target) = target else {
        return Err(invalid(source, "must specify a target for JSON patch"));
    };
    for resource in resources.iter_mut() {
        if !target.matches(resource)? {
            continue;
        }
        let id = resource.id();
        if store_previous_id {
            resource.meta.previous_ids.push(id.clone());
        }
        let mut doc = Value::Object(std::mem::take(&mut resource.object));
        // Kustomize patches the object with its build annotations still in it, so
        // `metadata.annotations` always exists for the patch; we keep those annotations out
        // of the object and stand in an empty map while the patch runs.
        let added_annotations = match doc.get_mut("metadata") {
            Some(Value::Object(meta)) if !meta.contains_key("annotations") => {
                meta.insert("annotations".to_owned(), Value::Object(Map::new()));
                true
            }
            _ => false,
        };
        let result = json6902::apply(&mut doc, ops);
        if added_annotations
            && let Some(Value::Object(meta)) = doc.get_mut("metadata")
            && meta.get("annotations").is_some_and(|a| a.as_object().is_some_and(Map::is_empty))
        {
            meta.shift_remove("annotations");
        }
        resource.object = match doc {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        result.map_err(|error| PatchError::Json6902 {
            source_name: source.to_owned(),
            resource: id_string(&id),
            error: Box::new(error),
        })?;
    }
    Ok(())
}

fn remove_indices(resources: &mut Vec<Resource>, indices: &[usize]) {
    for &i in indices.iter().rev() {
        resources.remove(i);
    }
}

#[cfg(test)]
mod tests;
