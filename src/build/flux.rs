//! Flux's build semantics: generate a kustomization for a directory without one, and overlay a
//! Kustomization's spec (targetNamespace, namePrefix/nameSuffix, patches, images, components,
//! commonMetadata). Owner: the generator work package.
//!
//! Follows `fluxcd/pkg` `kustomize/kustomize_generator.go` (`GenerateManifest`,
//! `findOrGenerateKustomization`, `scanManifests`), spec `flux.md` §1.1 and §2.5.
//! `commonMetadata` is not part of the kustomization: Flux sets it on every object after the
//! build and the substitution (`ssa/utils` `SetCommonMetadata`), which is
//! [`apply_common_metadata`].

use std::fs;
use std::path::{Component, Path, PathBuf};

use serde_json::{Map, Value};

use crate::build::patch::Selector;
use crate::build::transform::images::ImageSpec;
use crate::manifest::Resource;

#[derive(Debug, thiserror::Error)]
pub enum FluxError {
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

impl FluxError {
    pub fn kind(&self) -> &'static str {
        match self {
            FluxError::Invalid { .. } => "flux-build",
        }
    }
}

/// One entry of a Flux Kustomization's `spec.patches`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FluxPatch {
    pub patch: String,
    pub target: Option<Selector>,
}

/// The parts of a Flux Kustomization spec that change the build.
#[derive(Clone, Debug, Default)]
pub struct FluxOverlay {
    pub target_namespace: Option<String>,
    pub name_prefix: Option<String>,
    pub name_suffix: Option<String>,
    pub patches: Vec<FluxPatch>,
    pub images: Vec<ImageSpec>,
    pub components: Vec<String>,
    pub common_labels: Vec<(String, String)>,
    pub common_annotations: Vec<(String, String)>,
}

/// The file names kustomize recognises, in its order of preference.
const KUSTOMIZATION_FILES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Flux's limit on one manifest file (flux.md §2.6, ARCHITECTURE "Limits").
const MAX_FILE: u64 = 5 << 20;

/// The kustomization Flux would build for `dir` (inside `root`): the directory's own file
/// overlaid with `overlay`, or one generated from the manifests found under `dir`. The core's
/// `render` takes it as the top-level kustomization instead of reading the file.
pub fn kustomization_for(root: &Path, dir: &Path, overlay: &FluxOverlay) -> Result<Map<String, Value>, FluxError> {
    let root = root.canonicalize().map_err(|e| invalid(root, format!("root: {e}")))?;
    let dir = confined(&root, dir)?;
    let mut kustomization = match existing_file(&dir) {
        Some(file) => {
            let mut map = read_kustomization(&root, &file)?;
            // Flux: a file without resources gets `buildMetadata: [originAnnotations]`, which
            // keeps kustomize from calling a file that only has apiVersion/kind "empty".
            let has_resources = map.get("resources").and_then(Value::as_array).is_some_and(|r| !r.is_empty());
            if !has_resources {
                map.insert("buildMetadata".into(), Value::Array(vec![Value::String("originAnnotations".into())]));
            }
            map
        }
        None => generate(&root, &dir)?,
    };
    overlay_spec(&mut kustomization, overlay, &root, &dir)?;
    Ok(kustomization)
}

fn invalid(path: &Path, message: String) -> FluxError {
    FluxError::Invalid { path: path.display().to_string(), message }
}

/// `dir` resolved (symlinks included) and required to be `root` or below it.
fn confined(root: &Path, dir: &Path) -> Result<PathBuf, FluxError> {
    let joined = if dir.is_absolute() { dir.to_path_buf() } else { root.join(dir) };
    let resolved = joined.canonicalize().map_err(|e| invalid(dir, format!("kustomization path not found: {e}")))?;
    if !resolved.starts_with(root) {
        return Err(invalid(dir, format!("path is not in or below '{}'", root.display())));
    }
    Ok(resolved)
}

fn existing_file(dir: &Path) -> Option<PathBuf> {
    KUSTOMIZATION_FILES.iter().map(|name| dir.join(name)).find(|path| path.is_file())
}

fn read_limited(root: &Path, path: &Path) -> Result<String, FluxError> {
    let resolved = confined(root, path)?;
    let meta = fs::metadata(&resolved).map_err(|e| invalid(path, e.to_string()))?;
    if meta.len() > MAX_FILE {
        return Err(invalid(path, format!("file size ({} bytes) exceeds the limit ({MAX_FILE})", meta.len())));
    }
    let bytes = fs::read(&resolved).map_err(|e| invalid(path, e.to_string()))?;
    String::from_utf8(bytes).map_err(|_| invalid(path, "not UTF-8 text".into()))
}

fn read_kustomization(root: &Path, file: &Path) -> Result<Map<String, Value>, FluxError> {
    let text = read_limited(root, file)?;
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_saphyr::from_str::<Value>(&text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(Value::Null) => Ok(Map::new()),
        Ok(_) => Err(invalid(file, "not a YAML map".into())),
        Err(e) => Err(invalid(file, format!("invalid YAML: {e}"))),
    }
}

/// `findOrGenerateKustomization` for a directory without a kustomization file.
fn generate(root: &Path, dir: &Path) -> Result<Map<String, Value>, FluxError> {
    let mut resources = Vec::new();
    scan(root, dir, dir, &mut resources)?;
    let mut map = Map::new();
    map.insert("apiVersion".into(), Value::String("kustomize.config.k8s.io/v1beta1".into()));
    map.insert("kind".into(), Value::String("Kustomization".into()));
    if resources.is_empty() {
        // Flux's placeholder keeps kustomize from refusing an "empty" kustomization.
        map.insert("namespace".into(), Value::String("_placeholder".into()));
    } else {
        map.insert("resources".into(), Value::Array(resources.into_iter().map(Value::String).collect()));
    }
    Ok(map)
}

/// `scanManifests`: a lexical depth-first walk (Go's `filepath.Walk`); a subdirectory with a
/// kustomization file is one resource and is not descended into; every `.yaml`/`.yml` file
/// must parse as Kubernetes YAML. Paths are written `./rel/path`.
fn scan(root: &Path, base: &Path, dir: &Path, out: &mut Vec<String>) -> Result<(), FluxError> {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| invalid(dir, e.to_string()))?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(|e| invalid(dir, e.to_string()))?;
    entries.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    for path in entries {
        let meta = fs::symlink_metadata(&path).map_err(|e| invalid(&path, e.to_string()))?;
        // Walk does not follow directory symlinks (it uses Lstat).
        if meta.is_dir() {
            if existing_file(&path).is_some() {
                out.push(relative(base, &path));
            } else {
                scan(root, base, &path, out)?;
            }
            continue;
        }
        let extension = path.extension().and_then(|e| e.to_str());
        if !matches!(extension, Some("yaml" | "yml")) {
            continue;
        }
        let text = read_limited(root, &path)?;
        check_manifests(&text).map_err(|e| {
            invalid(&path, format!("failed to decode Kubernetes YAML from {}: {e}", relative(base, &path)))
        })?;
        out.push(relative(base, &path));
    }
    Ok(())
}

/// Each document must be empty or a map (a Kubernetes object or a `List`).
fn check_manifests(text: &str) -> Result<(), String> {
    let documents: Vec<Value> = serde_saphyr::from_multiple::<Value>(text).map_err(|e| e.to_string())?;
    for (i, doc) in documents.iter().enumerate() {
        match doc {
            Value::Null => {}
            Value::Object(map) if map.get("kind").and_then(Value::as_str).is_some_and(|k| !k.is_empty()) => {}
            Value::Object(_) => return Err(format!("document {}: missing kind", i + 1)),
            _ => return Err(format!("document {}: not a map", i + 1)),
        }
    }
    Ok(())
}

fn relative(base: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(base).unwrap_or(path);
    let parts: Vec<String> = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    format!("./{}", parts.join("/"))
}

/// The overlay of `GenerateManifest`, in Flux's order.
fn overlay_spec(map: &mut Map<String, Value>, overlay: &FluxOverlay, root: &Path, dir: &Path) -> Result<(), FluxError> {
    if let Some(ns) = overlay.target_namespace.as_ref().filter(|s| !s.is_empty()) {
        map.insert("namespace".into(), Value::String(ns.clone()));
    }
    if let Some(prefix) = overlay.name_prefix.as_ref().filter(|s| !s.is_empty()) {
        map.insert("namePrefix".into(), Value::String(prefix.clone()));
    }
    if let Some(suffix) = overlay.name_suffix.as_ref().filter(|s| !s.is_empty()) {
        map.insert("nameSuffix".into(), Value::String(suffix.clone()));
    }
    if !overlay.patches.is_empty() {
        let patches = list_field(map, "patches", dir)?;
        for patch in &overlay.patches {
            let mut entry = Map::new();
            entry.insert("patch".into(), Value::String(patch.patch.clone()));
            if let Some(target) = &patch.target {
                entry.insert("target".into(), Value::Object(selector_map(target)));
            }
            patches.push(Value::Object(entry));
        }
    }
    if !overlay.components.is_empty() {
        for component in &overlay.components {
            if !is_local_relative(component) {
                return Err(invalid(dir, format!("component path '{component}' must be local and relative")));
            }
            // The core's loader confines what it reads; an escape visible from the path alone
            // is refused here already, naming the field.
            if !lexically_inside(root, &dir.join(component)) {
                return Err(invalid(dir, format!("component path '{component}' leaves the source root")));
            }
        }
        let components = list_field(map, "components", dir)?;
        components.extend(overlay.components.iter().cloned().map(Value::String));
    }
    if !overlay.images.is_empty() {
        let images = list_field(map, "images", dir)?;
        for image in &overlay.images {
            merge_image(images, image);
        }
    }
    Ok(())
}

fn list_field<'a>(map: &'a mut Map<String, Value>, field: &str, dir: &Path) -> Result<&'a mut Vec<Value>, FluxError> {
    let value = map.entry(field).or_insert_with(|| Value::Array(Vec::new()));
    if value.is_null() {
        *value = Value::Array(Vec::new());
    }
    value.as_array_mut().ok_or_else(|| invalid(dir, format!("{field}: not a list in the kustomization file")))
}

fn selector_map(selector: &Selector) -> Map<String, Value> {
    let fields = [
        ("group", &selector.group),
        ("version", &selector.version),
        ("kind", &selector.kind),
        ("name", &selector.name),
        ("namespace", &selector.namespace),
        ("labelSelector", &selector.label_selector),
        ("annotationSelector", &selector.annotation_selector),
    ];
    fields
        .into_iter()
        .filter_map(|(key, value)| {
            value.as_ref().filter(|v| !v.is_empty()).map(|v| (key.to_owned(), Value::String(v.clone())))
        })
        .collect()
}

/// Flux v1.9.4's image merge: an entry with the same `name` gets a non-empty `newName`, and a
/// non-empty `newTag` or `digest` replaces both (the digest wins at pull time, so a stale one
/// must not survive a new tag); otherwise the image is appended.
fn merge_image(images: &mut Vec<Value>, image: &ImageSpec) {
    let non_empty = |v: &Option<String>| v.as_ref().filter(|s| !s.is_empty()).cloned();
    let existing = images.iter_mut().find(|e| e.get("name").and_then(Value::as_str) == Some(image.name.as_str()));
    match existing.and_then(Value::as_object_mut) {
        Some(entry) => {
            if let Some(new_name) = non_empty(&image.new_name) {
                entry.insert("newName".into(), Value::String(new_name));
            }
            if non_empty(&image.new_tag).is_some() || non_empty(&image.digest).is_some() {
                for (key, value) in [("newTag", &image.new_tag), ("digest", &image.digest)] {
                    match non_empty(value) {
                        Some(v) => {
                            entry.insert(key.into(), Value::String(v));
                        }
                        None => {
                            entry.shift_remove(key);
                        }
                    }
                }
            }
        }
        None => {
            let mut entry = Map::new();
            entry.insert("name".into(), Value::String(image.name.clone()));
            for (key, value) in [("newName", &image.new_name), ("newTag", &image.new_tag), ("digest", &image.digest)] {
                if let Some(v) = non_empty(value) {
                    entry.insert(key.into(), Value::String(v));
                }
            }
            images.push(Value::Object(entry));
        }
    }
}

/// `path` with `.` and `..` folded away (no filesystem access) is `root` or below it.
fn lexically_inside(root: &Path, path: &Path) -> bool {
    let mut parts: Vec<Component> = Vec::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if matches!(parts.last(), Some(Component::Normal(_))) {
                    parts.pop();
                } else {
                    return false;
                }
            }
            other => parts.push(other),
        }
    }
    parts.iter().collect::<PathBuf>().starts_with(root)
}

/// kustomize's `IsLocalRelativePath` as Flux uses it for `spec.components`.
fn is_local_relative(path: &str) -> bool {
    let lower = path.to_lowercase();
    let remote = ["git::", "gh:", "ssh://", "https://", "http://", "git@", "github.com:", "github.com/"];
    if remote.iter().any(|p| p.len() < path.len() && lower.starts_with(p)) {
        return false;
    }
    !(Path::new(path).is_absolute() || Path::new(lower.trim_start_matches("file://")).is_absolute())
}

/// `spec.commonMetadata`: labels and annotations set on every object after the build (values
/// overwrite the object's own), as Flux's `SetCommonMetadata` does.
pub fn apply_common_metadata(resources: &mut [Resource], overlay: &FluxOverlay) {
    if overlay.common_labels.is_empty() && overlay.common_annotations.is_empty() {
        return;
    }
    for resource in resources.iter_mut() {
        let metadata = resource.object.entry("metadata").or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(metadata) = metadata else { continue };
        for (field, pairs) in [("labels", &overlay.common_labels), ("annotations", &overlay.common_annotations)] {
            if pairs.is_empty() {
                continue;
            }
            let target = metadata.entry(field).or_insert_with(|| Value::Object(Map::new()));
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            if let Value::Object(target) = target {
                for (key, value) in pairs {
                    target.insert(key.clone(), Value::String(value.clone()));
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "flux_tests.rs"]
mod tests;
