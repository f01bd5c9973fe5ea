//! The build itself: accumulate resources through bases, overlays and components, run
//! generators and transformers in kustomize's order, hash suffixes and name references at the
//! end, then kustomize's output order. Owner: the core work package.
//!
//! The steps follow kustomize v5.5 `api/internal/target/kusttarget.go` (`accumulateTarget`,
//! `configureBuiltinTransformers`) and `api/krusty/kustomizer.go` (`Run`). A build keeps all
//! its state on the stack, so any number of builds can run on different threads at once.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::BuildError;
use super::generator;
use super::hash;
use super::kustomization::{Kind, Kustomization, SortOrder};
use super::loader::{DirFiles, Entry, LoadRestrictor, Loader, Origin};
use super::nameref;
use super::patch::{self, PatchInput};
use super::transform::{self, labels::LabelOptions};
use crate::manifest::{self, Resource, order};

/// How to build.
#[derive(Clone, Debug, Default)]
pub struct RenderOptions {
    pub load_restrictor: LoadRestrictor,
    /// A kustomization to use for `dir` instead of its file (Flux's generated or overlaid one).
    pub top: Option<Map<String, Value>>,
}

/// kustomize's `config.kubernetes.io/local-config`: objects annotated with it (unless
/// `"false"`) are dropped from the output.
const LOCAL_CONFIG: &str = "config.kubernetes.io/local-config";
const ORIGIN_ANNOTATION: &str = "config.kubernetes.io/origin";
const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// What kubectl's embedded kustomize v5.5 writes for `buildMetadata: [managedByLabel]`.
const MANAGED_BY_VALUE: &str = "kustomize-(devel)";

/// Builds the kustomization in `dir` (inside `root`, which confines every file access).
pub fn render(root: &Path, dir: &Path, options: &RenderOptions) -> Result<Vec<Resource>, BuildError> {
    let loader = Loader::new(root, options.load_restrictor)?;
    let dir = loader.confine_dir(dir)?;
    let (kust, kfile) = match &options.top {
        Some(map) => {
            let kfile = join_display(&loader.display(&dir), "kustomization.yaml");
            (Kustomization::from_map(&kfile, map)?, kfile)
        }
        None => load_kustomization(&loader, &dir, None)?,
    };
    if kust.kind == Kind::Component {
        return Err(BuildError::Render {
            file: kfile,
            field: "kind".to_owned(),
            message: "a Component cannot be built on its own; list it under components:".to_owned(),
        });
    }
    let mut build = Build {
        loader: &loader,
        stack: vec![dir.clone()],
        origins: kust.build_metadata.origin_annotations,
        transformations: kust.build_metadata.transformer_annotations,
    };
    let mut resources = build.accumulate(&dir, &kust, &kfile, "", Vec::new())?;

    // The steps kustomize runs once, after the recursion (`makeCustomizedResMap`).
    // Both only have work when a generator asked for a hash or an object was renamed; a
    // build of plain resources skips them.
    if resources.iter().any(|r| r.meta.needs_hash) {
        hash::apply_suffixes(&mut resources)?;
    }
    if resources.iter().any(|r| !r.meta.previous_ids.is_empty()) {
        nameref::fix(&mut resources)?;
    }
    resources.retain(|r| annotation(r, LOCAL_CONFIG).is_none_or(|v| v == "false"));

    // `Kustomizer.Run`: only the top-level kustomization's sortOptions count.
    match &kust.sort_options {
        Some(SortOrder::Fifo) => {}
        Some(SortOrder::Legacy { order_first, order_last }) => {
            order::sort_legacy(&mut resources, order_first, order_last)
        }
        None => order::sort_default(&mut resources),
    }
    if kust.build_metadata.managed_by_label {
        for r in &mut resources {
            set_metadata_entry(r, "labels", MANAGED_BY_LABEL, MANAGED_BY_VALUE.to_owned());
        }
    }
    if kust.build_metadata.transformer_annotations {
        for r in &mut resources {
            if let Some(text) = transformations_annotation(&r.meta) {
                set_metadata_entry(r, "annotations", TRANSFORMATIONS_ANNOTATION, text);
            }
        }
    }
    if kust.build_metadata.origin_annotations {
        for r in &mut resources {
            if let Some(origin) = origin_annotation(&r.meta) {
                set_metadata_entry(r, "annotations", ORIGIN_ANNOTATION, origin);
            }
        }
    }
    Ok(resources)
}

struct Build<'a> {
    loader: &'a Loader,
    /// Kustomization directories being built, outermost first (cycle detection).
    stack: Vec<PathBuf>,
    /// `buildMetadata: [originAnnotations]` at the top: record where objects come from.
    origins: bool,
    /// `buildMetadata: [transformerAnnotations]` at the top: record which transformers ran.
    transformations: bool,
}

impl Build<'_> {
    /// kustomize's `accumulateTarget`: `acc` is empty for a Kustomization and the parent's
    /// objects for a Component. `origin` is the directory relative to the top kustomization,
    /// for origin annotations.
    fn accumulate(
        &mut self,
        dir: &Path,
        kust: &Kustomization,
        kfile: &str,
        origin: &str,
        mut acc: Vec<Resource>,
    ) -> Result<Vec<Resource>, BuildError> {
        for (i, target) in kust.resources.iter().enumerate() {
            let field = format!("resources[{i}]");
            let at = Origin { file: kfile, field: &field };
            match self.loader.resource(dir, target, at)? {
                Entry::File(path) => {
                    let shown = self.loader.display(&path);
                    let bytes = self.loader.read(&path)?;
                    let mut objects = Vec::new();
                    for object in manifest::parse_objects(&shown, &bytes)? {
                        let mut r = Resource::new(object);
                        if self.origins {
                            r.meta.origin_path = Some(join_display(origin, target));
                        }
                        objects.push(r);
                    }
                    append_all(&mut acc, objects, kfile, &field)?;
                }
                Entry::Dir(path) => {
                    let child =
                        self.child(dir, &path, kfile, &field, target, Kind::Kustomization, origin, Vec::new())?;
                    append_all(&mut acc, child, kfile, &field)?;
                }
            }
        }

        let options = kust.generator_options.as_ref();
        for (i, args) in kust.config_map_generator.iter().enumerate() {
            let field = format!("configMapGenerator[{i}]");
            let files = DirFiles { loader: self.loader, dir, file: kfile, field: &field };
            let mut made = generator::config_map(args, options, &files)?;
            self.mark_generated(&mut made, origin, kfile, "ConfigMapGenerator");
            generator::add(&mut acc, made)?;
        }
        for (i, args) in kust.secret_generator.iter().enumerate() {
            let field = format!("secretGenerator[{i}]");
            let files = DirFiles { loader: self.loader, dir, file: kfile, field: &field };
            let mut made = generator::secret(args, options, &files)?;
            self.mark_generated(&mut made, origin, kfile, "SecretGenerator");
            generator::add(&mut acc, made)?;
        }

        // Components see everything accumulated so far, generators included
        // (kustomize PR 5170).
        for (i, target) in kust.components.iter().enumerate() {
            let field = format!("components[{i}]");
            let path = self.loader.directory(dir, target, Origin { file: kfile, field: &field })?;
            acc = self.child(dir, &path, kfile, &field, target, Kind::Component, origin, acc)?;
        }

        self.transform(dir, kust, kfile, origin, &mut acc)?;
        Ok(acc)
    }

    /// Builds the kustomization in `path` (a resource directory or a component).
    #[allow(clippy::too_many_arguments)]
    fn child(
        &mut self,
        dir: &Path,
        path: &Path,
        kfile: &str,
        field: &str,
        target: &str,
        expected: Kind,
        origin: &str,
        acc: Vec<Resource>,
    ) -> Result<Vec<Resource>, BuildError> {
        // kustomize's loader refuses a new root that is, or contains, the current one; a
        // directory already on the stack is a cycle through siblings.
        if dir.starts_with(path) || self.stack.iter().any(|p| p == path) {
            return Err(BuildError::Cycle {
                file: kfile.to_owned(),
                field: field.to_owned(),
                target: target.to_owned(),
                previous: self.loader.display(dir),
            });
        }
        let (kust, child_file) = load_kustomization(self.loader, path, Some((kfile, field, target)))?;
        match (expected, kust.kind) {
            (Kind::Component, Kind::Kustomization) => {
                return Err(BuildError::Render {
                    file: kfile.to_owned(),
                    field: field.to_owned(),
                    message: format!("expected kind 'Component' for path '{target}' but got 'Kustomization'"),
                });
            }
            (Kind::Kustomization, Kind::Component) => {
                return Err(BuildError::Render {
                    file: kfile.to_owned(),
                    field: field.to_owned(),
                    message: format!("expected kind != 'Component' for path '{target}' (list it under components:)"),
                });
            }
            _ => {}
        }
        self.stack.push(path.to_path_buf());
        let child_origin = join_display(origin, target);
        let result = self.accumulate(path, &kust, &child_file, &child_origin, acc);
        self.stack.pop();
        result
    }

    fn mark_generated(&self, r: &mut Resource, origin: &str, kfile: &str, by: &str) {
        if self.origins {
            let name =
                Path::new(kfile).file_name().map_or_else(|| kfile.to_owned(), |n| n.to_string_lossy().into_owned());
            r.meta.origin_path = Some(join_display(origin, &name));
            r.meta.generated_by = Some(by.to_owned());
        }
    }

    /// kustomize's `configureBuiltinTransformers` order (v5.5): patchesStrategicMerge,
    /// patches, namespace, namePrefix/nameSuffix, labels (then commonLabels),
    /// commonAnnotations, patchesJson6902, replicas, images.
    fn transform(
        &self,
        dir: &Path,
        kust: &Kustomization,
        kfile: &str,
        origin: &str,
        acc: &mut Vec<Resource>,
    ) -> Result<(), BuildError> {
        // kustomize records every configured transformer instance on every object present
        // when it runs, whether or not it changed that object.
        let configured_in = join_display(origin, Path::new(kfile).file_name().and_then(|n| n.to_str()).unwrap_or(""));
        let record = |acc: &mut Vec<Resource>, kind: &'static str| {
            if self.transformations {
                for r in acc.iter_mut() {
                    r.meta.transformations.push((configured_in.clone(), kind));
                }
            }
        };
        if !kust.patches_strategic_merge.is_empty() {
            record(acc, "PatchStrategicMergeTransformer");
        }
        for (i, entry) in kust.patches_strategic_merge.iter().enumerate() {
            let field = format!("patchesStrategicMerge[{i}]");
            if Kustomization::is_inline_patch(entry) {
                patch::apply_strategic_merge_legacy(acc, &format!("{kfile}: {field}"), entry)?;
            } else {
                let text = self.patch_text(dir, entry, kfile, &field)?;
                patch::apply_strategic_merge_legacy(acc, &self.shown(dir, entry), &text)?;
            }
        }
        for (i, p) in kust.patches.iter().enumerate() {
            let field = format!("patches[{i}]");
            let (source, text) = match (&p.path, &p.patch) {
                (Some(path), _) => (self.shown(dir, path), self.patch_text(dir, path, kfile, &field)?),
                (None, Some(text)) => (format!("{kfile}: {field}"), text.clone()),
                (None, None) => continue,
            };
            patch::apply(
                acc,
                &PatchInput { source: &source, text: &text, target: p.target.as_ref(), options: &p.options },
            )?;
            record(acc, "PatchTransformer");
        }
        if let Some(ns) = &kust.namespace {
            transform::namespace::apply(acc, ns)?;
            record(acc, "NamespaceTransformer");
        }
        if kust.name_prefix.is_some() || kust.name_suffix.is_some() {
            transform::prefix_suffix::apply(
                acc,
                kust.name_prefix.as_deref().unwrap_or(""),
                kust.name_suffix.as_deref().unwrap_or(""),
            )?;
            if kust.name_prefix.is_some() {
                record(acc, "PrefixTransformer");
            }
            if kust.name_suffix.is_some() {
                record(acc, "SuffixTransformer");
            }
        }
        for label in &kust.labels {
            let pairs: Vec<(String, String)> = label.pairs.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            let options = LabelOptions {
                include_selectors: label.include_selectors,
                include_templates: label.include_templates,
                fields: label.fields.clone(),
            };
            transform::labels::apply(acc, &pairs, &options)?;
            record(acc, "LabelTransformer");
        }
        if !kust.common_labels.is_empty() {
            let pairs: Vec<(String, String)> = kust.common_labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            let options = LabelOptions { include_selectors: true, include_templates: false, fields: Vec::new() };
            transform::labels::apply(acc, &pairs, &options)?;
            record(acc, "LabelTransformer");
        }
        if !kust.common_annotations.is_empty() {
            let pairs: Vec<(String, String)> =
                kust.common_annotations.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            transform::annotations::apply(acc, &pairs)?;
            record(acc, "AnnotationsTransformer");
        }
        for (i, p) in kust.patches_json6902.iter().enumerate() {
            let field = format!("patchesJson6902[{i}]");
            let Some(target) = &p.target else { continue };
            let (source, text) = match (&p.path, &p.patch) {
                (Some(path), _) => (self.shown(dir, path), self.patch_text(dir, path, kfile, &field)?),
                (None, Some(text)) => (format!("{kfile}: {field}"), text.clone()),
                (None, None) => continue,
            };
            patch::apply_json6902_legacy(acc, target, &source, &text)?;
            record(acc, "PatchJson6902Transformer");
        }
        if !kust.replicas.is_empty() {
            transform::replicas::apply(acc, &kust.replicas)?;
            for _ in &kust.replicas {
                record(acc, "ReplicaCountTransformer");
            }
        }
        if !kust.images.is_empty() {
            transform::images::apply(acc, &kust.images)?;
            for _ in &kust.images {
                record(acc, "ImageTagTransformer");
            }
        }
        Ok(())
    }

    fn patch_text(&self, dir: &Path, path: &str, kfile: &str, field: &str) -> Result<String, BuildError> {
        let bytes = self.loader.file(dir, path, Origin { file: kfile, field })?;
        String::from_utf8(bytes).map_err(|_| BuildError::Render {
            file: kfile.to_owned(),
            field: field.to_owned(),
            message: format!("{path}: not valid UTF-8"),
        })
    }

    fn shown(&self, dir: &Path, path: &str) -> String {
        join_display(&self.loader.display(dir), path)
    }
}

/// Reads and parses the kustomization file of `dir`. `from` names the referring field for
/// the error when there is none.
fn load_kustomization(
    loader: &Loader,
    dir: &Path,
    from: Option<(&str, &str, &str)>,
) -> Result<(Kustomization, String), BuildError> {
    let Some(path) = loader.kustomization_file(dir)? else {
        let message = format!(
            "unable to find one of 'kustomization.yaml', 'kustomization.yml' or 'Kustomization' in directory '{}'",
            loader.display(dir)
        );
        return Err(match from {
            Some((file, field, _)) => BuildError::Render { file: file.to_owned(), field: field.to_owned(), message },
            None => BuildError::Render { file: loader.display(dir), field: "path".to_owned(), message },
        });
    };
    let shown = loader.display(&path);
    let bytes = loader.read(&path)?;
    let kust = Kustomization::parse(&shown, &bytes)?;
    Ok((kust, shown))
}

/// kustomize's `ResAccumulator.AppendAll`: refuses an object whose id is already there.
fn append_all(acc: &mut Vec<Resource>, new: Vec<Resource>, kfile: &str, field: &str) -> Result<(), BuildError> {
    for r in new {
        if acc.iter().any(|have| same_id(have, &r)) {
            return Err(BuildError::Conflict { file: kfile.to_owned(), field: field.to_owned(), id: id_string(&r) });
        }
        acc.push(r);
    }
    Ok(())
}

/// Ids compare with an empty namespace equal to `default`, as kustomize's `IsNsEquals`.
fn same_id(a: &Resource, b: &Resource) -> bool {
    let ns = |r: &Resource| match r.namespace() {
        None | Some("") => "default".to_owned(),
        Some(ns) => ns.to_owned(),
    };
    a.kind() == b.kind() && a.name() == b.name() && a.group_version() == b.group_version() && ns(a) == ns(b)
}

/// kustomize's `ResId.String()`: `Kind.version.group/name.namespace`.
fn id_string(r: &Resource) -> String {
    let (group, version) = r.group_version();
    let group = if group.is_empty() { "[noGrp]" } else { group };
    let ns = r.namespace().filter(|n| !n.is_empty()).unwrap_or("[noNs]");
    format!("{}.{}.{}/{}.{}", r.kind(), version, group, r.name(), ns)
}

fn annotation<'a>(r: &'a Resource, key: &str) -> Option<&'a str> {
    r.object.get("metadata")?.get("annotations")?.get(key)?.as_str()
}

/// Sets `metadata.<map>.<key>`, creating the maps on the way.
fn set_metadata_entry(r: &mut Resource, map: &str, key: &str, value: String) {
    let metadata = r.object.entry("metadata").or_insert_with(|| Value::Object(Map::new()));
    if !metadata.is_object() {
        *metadata = Value::Object(Map::new());
    }
    if let Value::Object(metadata) = metadata {
        let inner = metadata.entry(map).or_insert_with(|| Value::Object(Map::new()));
        if !inner.is_object() {
            *inner = Value::Object(Map::new());
        }
        if let Value::Object(inner) = inner {
            inner.insert(key.to_owned(), Value::String(value));
        }
    }
}

const TRANSFORMATIONS_ANNOTATION: &str = "alpha.config.kubernetes.io/transformations";

/// The `alpha.config.kubernetes.io/transformations` value kustomize writes: a YAML list of
/// `configuredIn`/`configuredBy` entries, oldest first.
fn transformations_annotation(meta: &manifest::BuildMeta) -> Option<String> {
    if meta.transformations.is_empty() {
        return None;
    }
    let mut text = String::new();
    for (configured_in, kind) in &meta.transformations {
        text.push_str(&format!(
            "- configuredIn: {configured_in}\n  configuredBy:\n    apiVersion: builtin\n    kind: {kind}\n"
        ));
    }
    Some(text)
}

/// The `config.kubernetes.io/origin` value kustomize writes: `path:` for objects from files,
/// `configuredIn:`/`configuredBy:` for generator output.
fn origin_annotation(meta: &manifest::BuildMeta) -> Option<String> {
    let path = meta.origin_path.as_deref()?;
    Some(match &meta.generated_by {
        Some(kind) => format!("configuredIn: {path}\nconfiguredBy:\n  apiVersion: builtin\n  kind: {kind}\n"),
        None => format!("path: {path}\n"),
    })
}

/// Go's `filepath.Join` of two slash paths, cleaned (`a/b/../c` → `a/c`); `.` is dropped.
fn join_display(base: &str, rel: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    let joined = if base.is_empty() || base == "." { rel.to_owned() } else { format!("{base}/{rel}") };
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    if parts.is_empty() { ".".to_owned() } else { parts.join("/") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_display_cleans_like_go() {
        assert_eq!(join_display("", "c.yaml"), "c.yaml");
        assert_eq!(join_display("../base", "c.yaml"), "../base/c.yaml");
        assert_eq!(join_display("a/b", "../c/./d.yaml"), "a/c/d.yaml");
        assert_eq!(join_display("..", "../x"), "../../x");
        assert_eq!(join_display(".", "./x"), "x");
    }

    #[test]
    fn ids_conflict_with_default_namespace_equal_to_none() {
        let mk = |ns: Option<&str>| {
            let mut v = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}});
            if let Some(ns) = ns {
                v["metadata"]["namespace"] = ns.into();
            }
            Resource::new(v.as_object().cloned().unwrap_or_default())
        };
        let mut acc = vec![mk(None)];
        let err =
            append_all(&mut acc, vec![mk(Some("default"))], "k.yaml", "resources[1]").err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some(
                "k.yaml: resources[1]: may not add resource with an already registered id: ConfigMap.v1.[noGrp]/a.default"
            )
        );
        assert!(append_all(&mut acc, vec![mk(Some("other"))], "k.yaml", "resources[1]").is_ok());
    }

    #[test]
    fn origin_annotation_text() {
        let meta = manifest::BuildMeta { origin_path: Some("../base/c.yaml".into()), ..Default::default() };
        assert_eq!(origin_annotation(&meta).as_deref(), Some("path: ../base/c.yaml\n"));
        let meta = manifest::BuildMeta {
            origin_path: Some("kustomization.yaml".into()),
            generated_by: Some("ConfigMapGenerator".into()),
            ..Default::default()
        };
        assert_eq!(
            origin_annotation(&meta).as_deref(),
            Some(
                "configuredIn: kustomization.yaml\nconfiguredBy:\n  apiVersion: builtin\n  kind: ConfigMapGenerator\n"
            )
        );
    }
}
