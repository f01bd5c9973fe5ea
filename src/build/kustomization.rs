//! The kustomization file model (`kustomize.config.k8s.io/v1beta1` Kustomization and
//! `v1alpha1` Component); fields the engine does not implement are errors naming them.
//! Owner: the core work package.
//!
//! Parsed field by field from the YAML value so every error names its field; the legacy
//! fields are folded in as kustomize's `FixKustomization` does (`bases` → `resources`,
//! `imageTags` → `images`, generator `env` → `envs` is left to the generator package).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::build::fieldspec::FieldSpec;
use crate::build::generator::{GeneratorArgs, GeneratorOptions};
use crate::build::patch::{PatchOptions, Selector};
use crate::build::transform::images::ImageSpec;
use crate::build::transform::replicas::ReplicaSpec;

pub const KUSTOMIZATION_API_VERSION: &str = "kustomize.config.k8s.io/v1beta1";
pub const COMPONENT_API_VERSION: &str = "kustomize.config.k8s.io/v1alpha1";

#[derive(Debug, thiserror::Error)]
pub enum KustomizationError {
    #[error("{file}: {field}: {message}")]
    Field { file: String, field: String, message: String },
    #[error("{file}: {field}: not supported by sealops build ({why})")]
    Unsupported { file: String, field: String, why: &'static str },
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
}

impl KustomizationError {
    pub fn kind(&self) -> &'static str {
        match self {
            KustomizationError::Field { .. } | KustomizationError::Invalid { .. } => "invalid-kustomization",
            KustomizationError::Unsupported { .. } => "unsupported-field",
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Kind {
    #[default]
    Kustomization,
    Component,
}

/// One `labels:` entry.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Label {
    #[serde(default)]
    pub pairs: BTreeMap<String, String>,
    #[serde(default)]
    pub include_selectors: bool,
    #[serde(default)]
    pub include_templates: bool,
    #[serde(default)]
    pub fields: Vec<FieldSpec>,
}

/// One `patches:` entry: a file (`path`) or inline text (`patch`), optionally with a target.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Patch {
    pub path: Option<String>,
    pub patch: Option<String>,
    pub target: Option<Selector>,
    #[serde(default)]
    pub options: PatchOptions,
}

/// One legacy `patchesJson6902:` entry (target required).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LegacyJsonPatch {
    pub target: Option<Selector>,
    pub path: Option<String>,
    pub patch: Option<String>,
    /// Accepted as kustomize does (`Patch.options`), though the JSON patcher ignores it.
    #[serde(default)]
    pub options: PatchOptions,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LegacySortOptions {
    #[serde(default)]
    pub order_first: Vec<String>,
    #[serde(default)]
    pub order_last: Vec<String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SortOptions {
    pub order: Option<String>,
    pub legacy_sort_options: Option<LegacySortOptions>,
}

/// The resolved sort order of a top-level kustomization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SortOrder {
    Fifo,
    Legacy { order_first: Vec<String>, order_last: Vec<String> },
}

/// `buildMetadata:` switches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BuildMetadata {
    pub origin_annotations: bool,
    pub transformer_annotations: bool,
    pub managed_by_label: bool,
}

/// A parsed kustomization.
#[derive(Clone, Debug, Default)]
pub struct Kustomization {
    pub kind: Kind,
    /// `resources` followed by the legacy `bases`.
    pub resources: Vec<String>,
    pub components: Vec<String>,
    pub namespace: Option<String>,
    pub name_prefix: Option<String>,
    pub name_suffix: Option<String>,
    pub common_labels: BTreeMap<String, String>,
    pub labels: Vec<Label>,
    pub common_annotations: BTreeMap<String, String>,
    pub patches_strategic_merge: Vec<String>,
    pub patches_json6902: Vec<LegacyJsonPatch>,
    pub patches: Vec<Patch>,
    /// `images` followed by the legacy `imageTags`.
    pub images: Vec<ImageSpec>,
    pub replicas: Vec<ReplicaSpec>,
    pub config_map_generator: Vec<GeneratorArgs>,
    pub secret_generator: Vec<GeneratorArgs>,
    pub generator_options: Option<GeneratorOptions>,
    pub sort_options: Option<SortOrder>,
    pub build_metadata: BuildMetadata,
}

/// Fields kustomize has that this engine does not implement, and why.
const UNSUPPORTED: &[(&str, &str)] = &[
    ("helmCharts", "Helm charts are not supported"),
    ("helmGlobals", "Helm charts are not supported"),
    ("helmChartInflationGenerator", "Helm charts are not supported"),
    ("replacements", "replacements are not implemented"),
    ("vars", "vars are not implemented"),
    ("openapi", "custom OpenAPI schemas are not implemented"),
    ("crds", "CRD transformer configurations are not implemented"),
    ("configurations", "transformer configurations are not implemented"),
    ("generators", "generator plugins are not supported"),
    ("transformers", "transformer plugins are not supported"),
    ("validators", "validator plugins are not supported"),
];

impl Kustomization {
    /// Parses a kustomization file's bytes; `file` (root-relative) names it in errors.
    pub fn parse(file: &str, bytes: &[u8]) -> Result<Self, crate::build::BuildError> {
        let value = crate::manifest::parse_kustomization(file, bytes)?;
        let map = match value {
            None => Map::new(),
            Some(Value::Object(map)) => map,
            Some(_) => {
                return Err(KustomizationError::Invalid {
                    file: file.to_owned(),
                    message: "expected a mapping".to_owned(),
                }
                .into());
            }
        };
        Ok(Self::from_map(file, &map)?)
    }

    /// Builds the model from an already parsed mapping (a file's, or one Flux generated).
    pub fn from_map(file: &str, map: &Map<String, Value>) -> Result<Self, KustomizationError> {
        let mut k = Kustomization::default();
        let mut api_version: Option<String> = None;
        let mut kind: Option<String> = None;
        let mut images_legacy = Vec::new();
        let mut bases = Vec::new();
        let mut anything = false;
        for (key, value) in map {
            let f = Field { file, name: key };
            if let Some((_, why)) = UNSUPPORTED.iter().find(|(name, _)| name == key) {
                if is_empty(value) {
                    continue;
                }
                return Err(KustomizationError::Unsupported { file: file.to_owned(), field: key.clone(), why });
            }
            if key != "apiVersion" && key != "kind" {
                anything = true;
            }
            match key.as_str() {
                "apiVersion" => api_version = f.get::<Option<String>>(value)?,
                "kind" => kind = f.get::<Option<String>>(value)?,
                // Names the kustomization; no effect on the build.
                "metadata" => {
                    f.get::<Option<Map<String, Value>>>(value)?;
                }
                "resources" => k.resources = f.list(value)?,
                "bases" => bases = f.list(value)?,
                "components" => k.components = f.list(value)?,
                "namespace" => k.namespace = f.non_empty(value)?,
                "namePrefix" => k.name_prefix = f.non_empty(value)?,
                "nameSuffix" => k.name_suffix = f.non_empty(value)?,
                "commonLabels" => k.common_labels = f.get::<Option<_>>(value)?.unwrap_or_default(),
                "labels" => k.labels = f.list(value)?,
                "commonAnnotations" => k.common_annotations = f.get::<Option<_>>(value)?.unwrap_or_default(),
                "patchesStrategicMerge" => k.patches_strategic_merge = f.list(value)?,
                "patchesJson6902" => k.patches_json6902 = f.list(value)?,
                "patches" => k.patches = f.list(value)?,
                "images" => k.images = f.list(value)?,
                "imageTags" => images_legacy = f.list(value)?,
                "replicas" => k.replicas = f.list(value)?,
                "configMapGenerator" => k.config_map_generator = f.list(value)?,
                "secretGenerator" => k.secret_generator = f.list(value)?,
                "generatorOptions" => k.generator_options = f.get(value)?,
                "sortOptions" => {
                    k.sort_options = f.get::<Option<SortOptions>>(value)?.map(|s| f.sort(s)).transpose()?
                }
                "buildMetadata" => k.build_metadata = f.build_metadata(value)?,
                _ => {
                    return Err(KustomizationError::Field {
                        file: file.to_owned(),
                        field: key.clone(),
                        message: "unknown field".to_owned(),
                    });
                }
            }
        }
        k.resources.extend(bases);
        k.images.extend(images_legacy);
        k.kind = match kind.as_deref() {
            None | Some("") | Some("Kustomization") => Kind::Kustomization,
            Some("Component") => Kind::Component,
            Some(other) => {
                return Err(KustomizationError::Field {
                    file: file.to_owned(),
                    field: "kind".to_owned(),
                    message: format!("kind should be Kustomization or Component, not {other:?}"),
                });
            }
        };
        let required = match k.kind {
            Kind::Kustomization => KUSTOMIZATION_API_VERSION,
            Kind::Component => COMPONENT_API_VERSION,
        };
        if let Some(v) = api_version.as_deref().filter(|v| !v.is_empty() && *v != required) {
            return Err(KustomizationError::Field {
                file: file.to_owned(),
                field: "apiVersion".to_owned(),
                message: format!("apiVersion should be {required}, not {v:?}"),
            });
        }
        if !anything {
            // kustomize's CheckEmpty.
            return Err(KustomizationError::Invalid {
                file: file.to_owned(),
                message: "kustomization is empty".to_owned(),
            });
        }
        k.validate(file)?;
        Ok(k)
    }

    fn validate(&self, file: &str) -> Result<(), KustomizationError> {
        let err = |field: String, message: &str| KustomizationError::Field {
            file: file.to_owned(),
            field,
            message: message.to_owned(),
        };
        for (i, p) in self.patches.iter().enumerate() {
            match (&p.path, &p.patch) {
                (Some(_), Some(_)) => {
                    return Err(err(format!("patches[{i}]"), "patch and path can't be set at the same time"));
                }
                (None, None) => return Err(err(format!("patches[{i}]"), "must specify one of patch and path")),
                _ => {}
            }
        }
        for (i, p) in self.patches_json6902.iter().enumerate() {
            if p.target.is_none() {
                return Err(err(format!("patchesJson6902[{i}]"), "must specify a target"));
            }
            match (&p.path, &p.patch) {
                (Some(_), Some(_)) => {
                    return Err(err(format!("patchesJson6902[{i}]"), "patch and path can't be set at the same time"));
                }
                (None, None) => return Err(err(format!("patchesJson6902[{i}]"), "must specify one of patch and path")),
                _ => {}
            }
        }
        for key in self.common_labels.keys() {
            if self.labels.iter().any(|l| l.pairs.contains_key(key)) {
                return Err(err(
                    "commonLabels".to_owned(),
                    &format!("label name '{key}' exists in both commonLabels and labels"),
                ));
            }
        }
        Ok(())
    }

    /// Whether an entry of `patchesStrategicMerge:` is inline YAML rather than a file name
    /// (kustomize tries the file first; a file name never holds a newline or `: `).
    pub fn is_inline_patch(entry: &str) -> bool {
        entry.contains('\n') || entry.contains(": ") || entry.trim_start().starts_with('{')
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
        Value::String(s) => s.is_empty(),
        _ => false,
    }
}

struct Field<'a> {
    file: &'a str,
    name: &'a str,
}

impl Field<'_> {
    fn error(&self, message: impl Into<String>) -> KustomizationError {
        KustomizationError::Field { file: self.file.to_owned(), field: self.name.to_owned(), message: message.into() }
    }

    fn get<T: DeserializeOwned>(&self, value: &Value) -> Result<T, KustomizationError> {
        T::deserialize(value).map_err(|e| self.error(e.to_string()))
    }

    /// A list; each entry deserialised on its own so the error names its index.
    fn list<T: DeserializeOwned>(&self, value: &Value) -> Result<Vec<T>, KustomizationError> {
        match value {
            Value::Null => Ok(Vec::new()),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    T::deserialize(item).map_err(|e| KustomizationError::Field {
                        file: self.file.to_owned(),
                        field: format!("{}[{i}]", self.name),
                        message: e.to_string(),
                    })
                })
                .collect(),
            _ => Err(self.error("expected a list")),
        }
    }

    fn non_empty(&self, value: &Value) -> Result<Option<String>, KustomizationError> {
        Ok(self.get::<Option<String>>(value)?.filter(|s| !s.is_empty()))
    }

    /// kustomize's SortOrderTransformer validation.
    fn sort(&self, s: SortOptions) -> Result<SortOrder, KustomizationError> {
        match s.order.as_deref() {
            Some("legacy") => {
                let o = s.legacy_sort_options.unwrap_or_else(|| LegacySortOptions {
                    order_first: crate::manifest::order::DEFAULT_ORDER_FIRST.iter().map(|s| (*s).to_owned()).collect(),
                    order_last: crate::manifest::order::DEFAULT_ORDER_LAST.iter().map(|s| (*s).to_owned()).collect(),
                });
                Ok(SortOrder::Legacy { order_first: o.order_first, order_last: o.order_last })
            }
            Some("fifo") | None if s.legacy_sort_options.is_some() => Err(self.error(
                "the field 'sortOptions.legacySortOptions' is set but the selected sort order is 'fifo', not 'legacy'",
            )),
            Some("fifo") | None => Ok(SortOrder::Fifo),
            Some(_) => Err(self.error("the field 'sortOptions.order' must be one of [fifo, legacy]")),
        }
    }

    fn build_metadata(&self, value: &Value) -> Result<BuildMetadata, KustomizationError> {
        let mut m = BuildMetadata::default();
        for option in self.list::<String>(value)? {
            match option.as_str() {
                "originAnnotations" => m.origin_annotations = true,
                "transformerAnnotations" => m.transformer_annotations = true,
                "managedByLabel" => m.managed_by_label = true,
                other => {
                    return Err(self.error(format!(
                        "unknown option {other:?} (expected originAnnotations, transformerAnnotations or managedByLabel)"
                    )));
                }
            }
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Kustomization, String> {
        Kustomization::parse("k/kustomization.yaml", text.as_bytes()).map_err(|e| e.to_string())
    }

    #[test]
    fn full_model_parses_and_folds_legacy_fields() {
        let k = parse(
            r#"
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
metadata: {name: x}
resources: [a.yaml, ../base]
bases: [../old]
components: [../comp]
namespace: ns
namePrefix: p-
nameSuffix: -s
commonLabels: {app: x}
labels:
- pairs: {team: a}
  includeSelectors: true
  fields: [{kind: Deployment, path: spec/x, create: true}]
commonAnnotations: {note: "1"}
patchesStrategicMerge: [p.yaml]
patchesJson6902: [{target: {kind: Deployment, name: d}, path: j.yaml}]
patches:
- path: p2.yaml
  target: {kind: Service, labelSelector: "a=b"}
  options: {allowNameChange: true}
- patch: "- op: remove\n  path: /x"
images: [{name: nginx, newTag: "1.2"}]
imageTags: [{name: redis, newTag: "7"}]
replicas: [{name: d, count: 3}]
configMapGenerator: [{name: c, literals: [a=b]}]
secretGenerator: [{name: s, files: [f.txt], type: Opaque}]
generatorOptions: {disableNameSuffixHash: true}
sortOptions: {order: fifo}
buildMetadata: [originAnnotations, managedByLabel]
"#,
        )
        .unwrap();
        assert_eq!(k.resources, ["a.yaml", "../base", "../old"]);
        assert_eq!(k.images.len(), 2);
        assert_eq!(k.images[1].name, "redis");
        assert_eq!(k.labels[0].fields[0].path, "spec/x");
        assert!(k.patches[0].options.allow_name_change);
        assert_eq!(k.sort_options, Some(SortOrder::Fifo));
        assert!(k.build_metadata.origin_annotations && k.build_metadata.managed_by_label);
        assert_eq!(k.namespace.as_deref(), Some("ns"));
    }

    #[test]
    fn unsupported_fields_are_errors_naming_field_and_file() {
        for field in
            ["helmCharts", "replacements", "vars", "generators", "transformers", "validators", "crds", "configurations"]
        {
            let err = parse(&format!("resources: [a.yaml]\n{field}: [x]\n")).unwrap_err();
            assert!(err.starts_with(&format!("k/kustomization.yaml: {field}: not supported")), "{err}");
        }
        let err = parse("resources: [a.yaml]\nopenapi: {path: x.json}\n").unwrap_err();
        assert!(err.starts_with("k/kustomization.yaml: openapi: not supported"), "{err}");
        let err = parse("resources: [a.yaml]\nhelmGlobals: {chartHome: x}\n").unwrap_err();
        assert!(err.starts_with("k/kustomization.yaml: helmGlobals: not supported"), "{err}");
    }

    #[test]
    fn unknown_fields_and_bad_entries_name_their_place() {
        assert_eq!(
            parse("resources: [a]\nresource: [b]\n").unwrap_err(),
            "k/kustomization.yaml: resource: unknown field"
        );
        let err = parse("images:\n- name: a\n- name: b\n  newTagg: x\n").unwrap_err();
        assert!(err.starts_with("k/kustomization.yaml: images[1]: unknown field `newTagg`"), "{err}");
        let err = parse("resources: a.yaml\n").unwrap_err();
        assert_eq!(err, "k/kustomization.yaml: resources: expected a list");
        let err = parse("patches:\n- {path: a.yaml, patch: x}\n").unwrap_err();
        assert_eq!(err, "k/kustomization.yaml: patches[0]: patch and path can't be set at the same time");
    }

    #[test]
    fn kind_and_api_version_are_checked() {
        assert_eq!(
            parse("kind: Component\napiVersion: kustomize.config.k8s.io/v1alpha1\nresources: [a]\n").unwrap().kind,
            Kind::Component
        );
        assert!(parse("kind: Component\napiVersion: kustomize.config.k8s.io/v1beta1\nresources: [a]\n").is_err());
        assert!(parse("kind: Other\nresources: [a]\n").is_err());
    }

    #[test]
    fn empty_kustomization_is_an_error_like_kustomize() {
        // `kubectl kustomize` fails with "kustomization.yaml is empty" here.
        assert!(
            parse("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n").unwrap_err().contains("empty")
        );
        assert!(parse("").is_err());
        assert!(parse("namespace: _placeholder\n").is_ok());
    }

    #[test]
    fn sort_options_are_validated() {
        let k = parse("resources: [a]\nsortOptions: {order: legacy}\n").unwrap();
        assert!(
            matches!(k.sort_options, Some(SortOrder::Legacy { ref order_first, .. }) if order_first[0] == "Namespace")
        );
        assert!(parse("resources: [a]\nsortOptions: {order: random}\n").is_err());
        assert!(parse("resources: [a]\nsortOptions: {order: fifo, legacySortOptions: {orderFirst: [A]}}\n").is_err());
        let k = parse("resources: [a]\nsortOptions: {order: legacy, legacySortOptions: {orderFirst: [A]}}\n").unwrap();
        assert_eq!(k.sort_options, Some(SortOrder::Legacy { order_first: vec!["A".into()], order_last: vec![] }));
    }

    #[test]
    fn common_labels_conflicting_with_labels_is_an_error() {
        assert!(parse("commonLabels: {a: x}\nlabels: [{pairs: {a: y}}]\n").is_err());
    }
}
