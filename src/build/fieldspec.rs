//! Field specs: where in which kinds a transformer writes (kustomize's builtin `fieldSpecs`).
//!
//! A field spec is a kind filter plus a `/`-separated path. The walker follows kustomize's
//! `api/filters/fieldspec` rules (v5.5): a sequence met on the way is entered element by
//! element whether or not the path says `[]`; a `[]` suffix only forbids creating that field;
//! `\/` escapes a slash inside one field name (annotation keys); a leading `/` is ignored;
//! missing maps are created only when `create` is set and the transformer says what the leaf
//! is; a scalar in the middle of a path is an error.
//!
//! The builtin tables below are the data of kustomize's `api/internal/konfig/builtinpluginconsts`,
//! in the order kustomize sorts them (its `Gvk.IsLessThan`), because a few transformers
//! (name references) can see each other's writes.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::manifest::Resource;

/// A kind filter and a `/`-separated path (`spec/template/metadata/labels`); `create` makes
/// missing maps on the way.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FieldSpec {
    pub group: Option<String>,
    pub version: Option<String>,
    pub kind: Option<String>,
    pub path: String,
    #[serde(default)]
    pub create: bool,
    /// `path` split once: transformers apply the same spec to every object, and splitting it
    /// each time was a visible share of a large build.
    #[serde(skip)]
    pub(crate) steps: std::sync::OnceLock<Vec<Step>>,
}

impl FieldSpec {
    /// A builtin entry: empty strings mean "any".
    pub fn builtin(group: &str, version: &str, kind: &str, path: &str, create: bool) -> Self {
        let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        FieldSpec {
            group: some(group),
            version: some(version),
            kind: some(kind),
            path: path.to_owned(),
            create,
            steps: std::sync::OnceLock::new(),
        }
    }

    /// The parsed [`Self::path`] (split on first use).
    pub fn steps(&self) -> &[Step] {
        self.steps.get_or_init(|| split_path(&self.path))
    }

    /// Kustomize's `Gvk.IsSelected`: every set part of the filter must be equal.
    pub fn selects(&self, group: &str, version: &str, kind: &str) -> bool {
        let ok = |want: &Option<String>, have: &str| match want.as_deref() {
            None | Some("") => true,
            Some(w) => w == have,
        };
        ok(&self.group, group) && ok(&self.version, version) && ok(&self.kind, kind)
    }

    /// Whether the filter selects the object's current apiVersion/kind (kustomize's
    /// `isMatchGVK`, evaluated on the node).
    pub fn selects_object(&self, object: &Map<String, Value>) -> bool {
        let (group, version) = object_group_version(object);
        self.selects(group, version, object_kind(object))
    }

    /// Kustomize's `FieldSpec.effectivelyEquals`, used when merging user specs into builtin
    /// ones: same path and `self`'s filter selected by `other`'s.
    pub fn effectively_equals(&self, other: &FieldSpec) -> bool {
        let part = |s: &Option<String>| s.clone().unwrap_or_default();
        other.selects(&part(&self.group), &part(&self.version), &part(&self.kind)) && self.path == other.path
    }
}

/// Kustomize's `FsSlice.MergeOne`: add `spec` unless an effectively equal one is there; the
/// same spec with a different `create` is a conflict.
pub fn merge_one(specs: &mut Vec<FieldSpec>, spec: FieldSpec) -> Result<(), WalkError> {
    match specs.iter().find(|s| s.effectively_equals(&spec)) {
        Some(existing) if existing.create != spec.create => Err(WalkError::Conflict(spec.path)),
        Some(_) => Ok(()),
        None => {
            specs.push(spec);
            Ok(())
        }
    }
}

/// `(group, version)` of an object's `apiVersion` (`v1` → `("", "v1")`), split at the first
/// `/` as kustomize's `ParseGroupVersion` does.
pub fn object_group_version(object: &Map<String, Value>) -> (&str, &str) {
    let api = object.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    split_api_version(api)
}

pub fn split_api_version(api: &str) -> (&str, &str) {
    match api.split_once('/') {
        Some((group, version)) => (group, version),
        None => ("", api),
    }
}

pub fn object_kind(object: &Map<String, Value>) -> &str {
    object.get("kind").and_then(Value::as_str).unwrap_or("")
}

/// Why a walk stopped. The transformer wraps it with the object and the field spec's path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WalkError {
    #[error("expected a sequence or a mapping at `{0}`")]
    NotContainer(String),
    #[error("empty field name in the path")]
    EmptyField,
    #[error("conflicting field specs for path `{0}` (same path, different `create`)")]
    Conflict(String),
    #[error("{0}")]
    Set(String),
}

impl WalkError {
    pub fn kind(&self) -> &'static str {
        match self {
            WalkError::NotContainer(_) => "fieldspec_not_container",
            WalkError::EmptyField => "fieldspec_empty_field",
            WalkError::Conflict(_) => "fieldspec_conflict",
            WalkError::Set(_) => "fieldspec_set",
        }
    }
}

/// What the transformer puts at the end of a path it may create.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Leaf {
    /// A scalar (names, namespaces, replica counts): created as `null` for the setter to fill.
    Scalar,
    /// A map (labels, annotations): created as `{}`.
    Map,
}

/// One step of a parsed path: the field name and whether it carried `[]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub field: String,
    pub sequence: bool,
}

/// Kustomize's `PathSplitter` with `/` followed by the `[]` check of each part.
pub fn split_path(path: &str) -> Vec<Step> {
    let mut parts: Vec<&str> = path.split('/').collect();
    if parts.len() > 1 && parts[0].is_empty() {
        parts.remove(0);
    }
    let mut joined: Vec<String> = Vec::with_capacity(parts.len());
    for part in parts {
        match joined.last_mut() {
            Some(last) if last.ends_with('\\') => {
                last.pop();
                last.push('/');
                last.push_str(part);
            }
            _ => joined.push(part.to_owned()),
        }
    }
    joined
        .into_iter()
        .map(|field| match field.strip_suffix("[]") {
            Some(short) => Step { field: short.to_owned(), sequence: true },
            None => Step { field, sequence: false },
        })
        .collect()
}

/// Visits every value at `steps` under `value`, calling `set` on each. `create` is the leaf
/// kind the transformer creates when the spec allows it (`None`: never create).
pub fn walk(
    value: &mut Value,
    steps: &[Step],
    create: Option<Leaf>,
    set: &mut dyn FnMut(&mut Value) -> Result<(), WalkError>,
) -> Result<(), WalkError> {
    let Some((step, rest)) = steps.split_first() else {
        return set(value);
    };
    match value {
        Value::Null => Ok(()),
        Value::Array(items) => {
            for item in items {
                walk(item, steps, create, set)?;
            }
            Ok(())
        }
        Value::Object(map) => match descend(map, step, rest.is_empty(), create)? {
            Some(child) => walk(child, rest, create, set),
            None => Ok(()),
        },
        _ => Err(WalkError::NotContainer(step.field.clone())),
    }
}

fn empty(leaf: Leaf) -> Value {
    match leaf {
        Leaf::Scalar => Value::Null,
        Leaf::Map => Value::Object(Map::new()),
    }
}

/// One step into a map: the child at `step`, created (or a `null` retyped, as kustomize
/// retags a null node) when the transformer creates and the step has no `[]`.
fn descend<'m>(
    map: &'m mut Map<String, Value>,
    step: &Step,
    last: bool,
    create: Option<Leaf>,
) -> Result<Option<&'m mut Value>, WalkError> {
    if step.field.is_empty() {
        return Err(WalkError::EmptyField);
    }
    let make = match create {
        Some(leaf) if !step.sequence => Some(if last { leaf } else { Leaf::Map }),
        _ => None,
    };
    if !map.contains_key(&step.field) {
        match make {
            Some(leaf) => {
                map.insert(step.field.clone(), empty(leaf));
            }
            None => return Ok(None),
        }
    }
    let child = map.get_mut(&step.field);
    if let Some(child) = child {
        if child.is_null()
            && let Some(leaf) = make
        {
            *child = empty(leaf);
        }
        return Ok(Some(child));
    }
    Ok(None)
}

/// Applies one field spec to an object: GVK filter on the object's current type, then the
/// walk. `create` is honoured only if the spec says `create: true`.
pub fn apply_spec(
    object: &mut Map<String, Value>,
    spec: &FieldSpec,
    leaf: Option<Leaf>,
    set: &mut dyn FnMut(&mut Value) -> Result<(), WalkError>,
) -> Result<(), WalkError> {
    if !spec.selects_object(object) {
        return Ok(());
    }
    let steps = spec.steps();
    let create = if spec.create { leaf } else { None };
    let Some((first, rest)) = steps.split_first() else {
        return Ok(());
    };
    match descend(object, first, rest.is_empty(), create)? {
        Some(child) => walk(child, rest, create, set),
        None => Ok(()),
    }
}

/// A human name for an object in error messages: `Kind namespace/name`. Identifiers only —
/// never field values, which can be Secret plaintext.
pub fn describe(resource: &Resource) -> String {
    match resource.namespace() {
        Some(ns) if !ns.is_empty() => format!("{} {}/{}", resource.kind(), ns, resource.name()),
        _ => format!("{} {}", resource.kind(), resource.name()),
    }
}

/// A builtin table row: `(group, version, kind, path, create)`.
pub type Row = (&'static str, &'static str, &'static str, &'static str, bool);

pub fn from_rows(rows: &[Row]) -> Vec<FieldSpec> {
    rows.iter().map(|&(g, v, k, path, create)| FieldSpec::builtin(g, v, k, path, create)).collect()
}

/// `metadataLabelsFieldSpecs`: object labels plus the pod/job/claim templates' labels
/// (kustomize's `templateLabels` set, and the tail of `commonLabels`).
pub const TEMPLATE_LABELS: &[Row] = &[
    ("", "", "", "metadata/labels", true),
    ("", "v1", "ReplicationController", "spec/template/metadata/labels", true),
    ("", "", "Deployment", "spec/template/metadata/labels", true),
    ("", "", "ReplicaSet", "spec/template/metadata/labels", true),
    ("", "", "DaemonSet", "spec/template/metadata/labels", true),
    ("apps", "", "StatefulSet", "spec/template/metadata/labels", true),
    ("apps", "", "StatefulSet", "spec/volumeClaimTemplates[]/metadata/labels", true),
    ("batch", "", "Job", "spec/template/metadata/labels", true),
    ("batch", "", "CronJob", "spec/jobTemplate/metadata/labels", true),
    ("batch", "", "CronJob", "spec/jobTemplate/spec/template/metadata/labels", true),
];

/// The selector half of `commonLabels` (used with `includeSelectors: true`); the full set is
/// this plus [`TEMPLATE_LABELS`].
pub const SELECTOR_LABELS: &[Row] = &[
    ("", "v1", "Service", "spec/selector", true),
    ("", "v1", "ReplicationController", "spec/selector", true),
    ("", "", "Deployment", "spec/selector/matchLabels", true),
    ("apps", "", "Deployment", AFFINITY_PREFERRED, false),
    ("apps", "", "Deployment", AFFINITY_REQUIRED, false),
    ("apps", "", "Deployment", ANTI_AFFINITY_PREFERRED, false),
    ("apps", "", "Deployment", ANTI_AFFINITY_REQUIRED, false),
    ("apps", "", "Deployment", TOPOLOGY_SPREAD, false),
    ("", "", "ReplicaSet", "spec/selector/matchLabels", true),
    ("", "", "DaemonSet", "spec/selector/matchLabels", true),
    ("apps", "", "StatefulSet", "spec/selector/matchLabels", true),
    ("apps", "", "StatefulSet", AFFINITY_PREFERRED, false),
    ("apps", "", "StatefulSet", AFFINITY_REQUIRED, false),
    ("apps", "", "StatefulSet", ANTI_AFFINITY_PREFERRED, false),
    ("apps", "", "StatefulSet", ANTI_AFFINITY_REQUIRED, false),
    ("apps", "", "StatefulSet", TOPOLOGY_SPREAD, false),
    ("batch", "", "Job", "spec/selector/matchLabels", false),
    ("batch", "", "CronJob", "spec/jobTemplate/spec/selector/matchLabels", false),
    ("policy", "", "PodDisruptionBudget", "spec/selector/matchLabels", false),
    ("networking.k8s.io", "", "NetworkPolicy", "spec/podSelector/matchLabels", false),
    ("networking.k8s.io", "", "NetworkPolicy", "spec/ingress/from/podSelector/matchLabels", false),
    ("networking.k8s.io", "", "NetworkPolicy", "spec/egress/to/podSelector/matchLabels", false),
];

const AFFINITY_PREFERRED: &str = "spec/template/spec/affinity/podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels";
const AFFINITY_REQUIRED: &str =
    "spec/template/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels";
const ANTI_AFFINITY_PREFERRED: &str = "spec/template/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels";
const ANTI_AFFINITY_REQUIRED: &str = "spec/template/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels";
const TOPOLOGY_SPREAD: &str = "spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels";

/// `commonLabels` field specs (kustomize's `commonLabelFieldSpecs`).
pub fn common_labels() -> Vec<FieldSpec> {
    let mut specs = from_rows(SELECTOR_LABELS);
    specs.extend(from_rows(TEMPLATE_LABELS));
    specs
}

/// `commonAnnotations` field specs.
pub const COMMON_ANNOTATIONS: &[Row] = &[
    ("", "", "", "metadata/annotations", true),
    ("", "v1", "ReplicationController", "spec/template/metadata/annotations", true),
    ("", "", "Deployment", "spec/template/metadata/annotations", true),
    ("", "", "ReplicaSet", "spec/template/metadata/annotations", true),
    ("", "", "DaemonSet", "spec/template/metadata/annotations", true),
    ("", "", "StatefulSet", "spec/template/metadata/annotations", true),
    ("batch", "", "Job", "spec/template/metadata/annotations", true),
    ("batch", "", "CronJob", "spec/jobTemplate/metadata/annotations", true),
    ("batch", "", "CronJob", "spec/jobTemplate/spec/template/metadata/annotations", true),
];

/// `namespace` field specs besides `metadata/namespace` (which the namespace transformer
/// handles itself, for namespaced kinds only).
pub const NAMESPACE: &[Row] = &[
    ("", "", "Namespace", "metadata/name", true),
    (
        "apiextensions.k8s.io",
        "",
        "CustomResourceDefinition",
        "spec/conversion/webhook/clientConfig/service/namespace",
        false,
    ),
    ("apiregistration.k8s.io", "", "APIService", "spec/service/namespace", true),
];

/// `images` field specs (the image transformer also walks every `containers` and
/// `initContainers` list anywhere, kustomize's legacy filter).
pub const IMAGES: &[Row] = &[
    ("", "", "", "spec/containers[]/image", true),
    ("", "", "", "spec/initContainers[]/image", true),
    ("", "", "", "spec/template/spec/containers[]/image", true),
    ("", "", "", "spec/template/spec/initContainers[]/image", true),
];

/// `replicas` field specs.
pub const REPLICAS: &[Row] = &[
    ("", "", "Deployment", "spec/replicas", true),
    ("", "", "StatefulSet", "spec/replicas", true),
    ("", "", "ReplicaSet", "spec/replicas", true),
    ("", "", "ReplicationController", "spec/replicas", true),
];

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn split_path_handles_escapes_leading_slash_and_sequences() {
        let steps = split_path("/metadata/annotations/nginx.ingress.kubernetes.io\\/auth-secret");
        let fields: Vec<&str> = steps.iter().map(|s| s.field.as_str()).collect();
        assert_eq!(fields, ["metadata", "annotations", "nginx.ingress.kubernetes.io/auth-secret"]);
        let steps = split_path("spec/containers[]/image");
        assert_eq!(steps[1], Step { field: "containers".into(), sequence: true });
        assert!(!steps[2].sequence);
    }

    #[test]
    fn walk_enters_sequences_without_brackets_and_creates_only_when_asked() {
        let mut obj = json!({
            "kind": "NetworkPolicy", "apiVersion": "networking.k8s.io/v1",
            "spec": {"ingress": [{"from": [{"podSelector": {"matchLabels": {"a": "b"}}}, {"ipBlock": {}}]}]}
        });
        let Value::Object(map) = &mut obj else { unreachable!() };
        let spec = FieldSpec::builtin(
            "networking.k8s.io",
            "",
            "NetworkPolicy",
            "spec/ingress/from/podSelector/matchLabels",
            false,
        );
        let mut seen = 0;
        apply_spec(map, &spec, Some(Leaf::Map), &mut |v| {
            seen += 1;
            v.as_object_mut().map(|m| m.insert("x".into(), json!("y")));
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, 1);
        assert_eq!(obj["spec"]["ingress"][0]["from"][1], json!({"ipBlock": {}}));
        assert_eq!(obj["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"]["x"], "y");
    }

    #[test]
    fn walk_creates_maps_but_not_bracketed_fields() {
        let mut map = json!({"kind": "Deployment", "apiVersion": "apps/v1", "spec": {}});
        let Value::Object(map) = &mut map else { unreachable!() };
        let spec = FieldSpec::builtin("", "", "Deployment", "spec/template/metadata/labels", true);
        apply_spec(map, &spec, Some(Leaf::Map), &mut |_| Ok(())).unwrap();
        assert_eq!(map["spec"]["template"]["metadata"]["labels"], json!({}));
        let spec = FieldSpec::builtin("", "", "", "spec/containers[]/image", true);
        apply_spec(map, &spec, Some(Leaf::Scalar), &mut |_| Ok(())).unwrap();
        assert!(map["spec"].get("containers").is_none());
    }

    #[test]
    fn walk_errors_on_scalar_in_the_middle() {
        let mut map = json!({"kind": "Service", "apiVersion": "v1", "spec": {"selector": "oops"}});
        let Value::Object(map) = &mut map else { unreachable!() };
        let spec = FieldSpec::builtin("", "", "", "spec/selector/matchLabels", false);
        let err = apply_spec(map, &spec, Some(Leaf::Map), &mut |_| Ok(())).unwrap_err();
        assert_eq!(err, WalkError::NotContainer("matchLabels".into()));
    }

    #[test]
    fn gvk_filter_and_merge_conflicts() {
        let spec = FieldSpec::builtin("apps", "", "Deployment", "spec/replicas", true);
        assert!(spec.selects("apps", "v1", "Deployment"));
        assert!(!spec.selects("extensions", "v1beta1", "Deployment"));
        let mut specs = from_rows(TEMPLATE_LABELS);
        let before = specs.len();
        let any_kind = FieldSpec::builtin("", "", "", "spec/template/metadata/labels", true);
        merge_one(&mut specs, any_kind).unwrap();
        assert_eq!(specs.len(), before, "selects the Deployment row: merged away");
        merge_one(&mut specs, FieldSpec::builtin("", "", "Deployment", "metadata/labels", true)).unwrap();
        assert_eq!(specs.len(), before + 1, "does not select the kind-less row: added");
        let err = merge_one(&mut specs, FieldSpec::builtin("", "", "", "metadata/labels", false));
        assert!(matches!(err, Err(WalkError::Conflict(_))));
    }
}
