//! `namePrefix:` / `nameSuffix:`.
//!
//! Kustomize's PrefixTransformer and SuffixTransformer (v5.5) with the builtin field spec
//! `metadata/name`: every object is renamed except CustomResourceDefinitions, APIServices and
//! Namespaces (matched on the object's original id). Each pass records the id before the
//! rename and the affix itself, which later scope name references
//! ([`crate::build::nameref`]). The prefix pass runs over all objects before the suffix pass,
//! as kustomize runs the two transformers one after the other.

use serde_json::Value;

use super::{TransformError, scalar_text, set_scalar};
use crate::build::fieldspec::{self, FieldSpec};
use crate::build::nameref;
use crate::manifest::Resource;

#[derive(Clone, Copy)]
enum Affix<'a> {
    Prefix(&'a str),
    Suffix(&'a str),
}

pub fn apply(resources: &mut [Resource], prefix: &str, suffix: &str) -> Result<(), TransformError> {
    if !prefix.is_empty() {
        rename(resources, Affix::Prefix(prefix))?;
    }
    if !suffix.is_empty() {
        rename(resources, Affix::Suffix(suffix))?;
    }
    Ok(())
}

/// Kinds kustomize never renames (`prefixFieldSpecsToSkip`): `(group, kind)`, empty = any.
const SKIP: &[(&str, &str)] =
    &[("", "CustomResourceDefinition"), ("apiregistration.k8s.io", "APIService"), ("", "Namespace")];

fn rename(resources: &mut [Resource], affix: Affix<'_>) -> Result<(), TransformError> {
    let spec = FieldSpec::builtin("", "", "", "metadata/name", false);
    for res in resources.iter_mut() {
        let original = nameref::original_id(res);
        let skipped =
            SKIP.iter().any(|&(group, kind)| (group.is_empty() || group == original.group) && kind == original.kind);
        if skipped {
            continue;
        }
        match affix {
            Affix::Prefix(p) => res.meta.prefixes.push(p.to_owned()),
            Affix::Suffix(s) => res.meta.suffixes.push(s.to_owned()),
        }
        nameref::store_previous_id(res);
        let mut set = |v: &mut Value| {
            let old = scalar_text(v).unwrap_or_default();
            let new = match affix {
                Affix::Prefix(p) => format!("{p}{old}"),
                Affix::Suffix(s) => format!("{old}{s}"),
            };
            set_scalar(v, Value::String(new))
        };
        fieldspec::apply_spec(&mut res.object, &spec, None, &mut set)
            .map_err(|e| TransformError::at(res, &spec.path, e))?;
    }
    Ok(())
}
