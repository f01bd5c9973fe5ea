//! The builtin transformers kustomize runs for a kustomization's fields, each a function over
//! the resources of one kustomization level. Owner: the transform work package.
//!
//! Kustomize (v5.5, `api/internal/target/kusttarget_configplugin.go`) runs them in this order
//! within one level: patches, `namespace`, `namePrefix`, `nameSuffix`, `labels` (each entry,
//! then `commonLabels`), `commonAnnotations`, JSON 6902 patches, `replicas`, `images`. Name
//! references are fixed once at the end of the top-level build ([`crate::build::nameref`]).

pub mod annotations;
pub mod images;
pub mod labels;
pub mod namespace;
pub mod prefix_suffix;
pub mod replicas;

use serde_json::Value;

use crate::build::fieldspec::{self, WalkError};
use crate::manifest::Resource;

#[derive(Debug, thiserror::Error)]
pub enum TransformError {
    /// A field of one object could not be transformed.
    #[error("{object}: {field}: {message}")]
    Field { object: String, field: String, message: String },
    /// A transformer's configuration is unusable (bad regex, conflicting field specs, a
    /// `replicas` entry that matches nothing).
    #[error("{field}: {message}")]
    Config { field: String, message: String },
    /// Two objects end up with the same identity (namespace transformation).
    #[error("{field}: {message}")]
    Conflict { field: String, message: String },
    /// A name reference matches several renamed objects and kustomize refuses to guess.
    #[error("{object}: {field}: {message}")]
    Ambiguous { object: String, field: String, message: String },
}

impl TransformError {
    pub fn kind(&self) -> &'static str {
        match self {
            TransformError::Field { .. } => "transform",
            TransformError::Config { .. } => "transform_config",
            TransformError::Conflict { .. } => "transform_conflict",
            TransformError::Ambiguous { .. } => "transform_ambiguous_reference",
        }
    }

    /// Wraps a walk error with the object it happened in and the path being transformed.
    pub(crate) fn at(resource: &Resource, path: &str, err: WalkError) -> Self {
        TransformError::Field {
            object: fieldspec::describe(resource),
            field: path.to_owned(),
            message: err.to_string(),
        }
    }
}

/// The text of a scalar as kustomize's YAML nodes see it (`Value` of the node); `None` for
/// maps, sequences and null.
pub(crate) fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// A setter that writes one scalar, refusing maps and sequences as kustomize's `SetScalar`
/// does (`ErrorIfInvalid(node, ScalarNode)`).
pub(crate) fn set_scalar(target: &mut Value, new: Value) -> Result<(), WalkError> {
    match target {
        Value::Array(_) | Value::Object(_) => {
            Err(WalkError::Set("expected a scalar, found a sequence or mapping".to_owned()))
        }
        _ => {
            *target = new;
            Ok(())
        }
    }
}

/// A setter that adds `key: value` to a map (labels, annotations). An explicit `null` at the
/// end of a path that is not created stays `null`: kustomize's field setter appends to the
/// null node, which the YAML emitter then drops.
pub(crate) fn set_entry(target: &mut Value, key: &str, value: &str) -> Result<(), WalkError> {
    match target {
        Value::Object(map) => {
            map.insert(key.to_owned(), Value::String(value.to_owned()));
            Ok(())
        }
        Value::Null => Ok(()),
        _ => Err(WalkError::Set(format!("cannot set `{key}`: expected a mapping"))),
    }
}

/// Helpers for the transformer tests: parse the YAML a test case holds, and compare results
/// with `kubectl kustomize` output object by object (kustomize's output order is the
/// engine's business, not the transformers').
#[cfg(test)]
pub(crate) mod testutil {
    use std::collections::BTreeMap;

    use serde_json::Value;

    use crate::manifest::Resource;

    pub(crate) fn parse(yaml: &str) -> Vec<Resource> {
        let docs: Vec<Value> = serde_saphyr::from_multiple(yaml).expect("test YAML parses");
        docs.into_iter()
            .filter_map(|doc| match doc {
                Value::Object(map) => Some(Resource::new(map)),
                _ => None,
            })
            .collect()
    }

    fn key(object: &serde_json::Map<String, Value>) -> String {
        let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_owned();
        let meta = object.get("metadata").and_then(Value::as_object);
        format!(
            "{} {} {}/{}",
            text(object.get("apiVersion")),
            text(object.get("kind")),
            text(meta.and_then(|m| m.get("namespace"))),
            text(meta.and_then(|m| m.get("name"))),
        )
    }

    /// Asserts that the resources equal the expected stream, ignoring document order.
    pub(crate) fn assert_same(resources: &[Resource], expected: &str) {
        let got: BTreeMap<String, Value> =
            resources.iter().map(|r| (key(&r.object), Value::Object(r.object.clone()))).collect();
        let want: BTreeMap<String, Value> =
            parse(expected).iter().map(|r| (key(&r.object), Value::Object(r.object.clone()))).collect();
        assert_eq!(got.keys().collect::<Vec<_>>(), want.keys().collect::<Vec<_>>());
        for (k, w) in &want {
            assert_eq!(&got[k], w, "object {k}");
        }
    }
}
