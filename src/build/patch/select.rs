//! Target selectors (`target:` of `patches:`, legacy `patchesJson6902`, Flux `spec.patches`).

use regex::Regex;
use serde::Deserialize;
use serde_json::Value;

use super::PatchError;
use crate::manifest::{ResId, Resource};

/// Kustomize's `types.Selector`. Group/version/kind/name/namespace are anchored regular
/// expressions; `labelSelector`/`annotationSelector` use Kubernetes label-selector syntax.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Selector {
    pub group: Option<String>,
    pub version: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub label_selector: Option<String>,
    pub annotation_selector: Option<String>,
}

impl Selector {
    /// kustomize's `resWrangler.Select`: name and namespace match the resource's original id
    /// (before any prefix, suffix or namespace change) or its current one; the effective
    /// namespace of a namespaced object without one is `default`.
    pub fn matches(&self, resource: &Resource) -> Result<bool, PatchError> {
        let current = resource.id();
        let original = resource.meta.previous_ids.first().unwrap_or(&current);
        if let Some(pattern) = non_empty(&self.namespace) {
            let re = anchored(pattern, "namespace")?;
            let api = api_version(resource);
            if !re.is_match(&effective_namespace(original, &api)) && !re.is_match(&effective_namespace(&current, &api))
            {
                return Ok(false);
            }
        }
        if let Some(pattern) = non_empty(&self.name) {
            let re = anchored(pattern, "name")?;
            if !re.is_match(&original.name) && !re.is_match(&current.name) {
                return Ok(false);
            }
        }
        for (pattern, field, value) in [
            (&self.group, "group", &current.group),
            (&self.version, "version", &current.version),
            (&self.kind, "kind", &current.kind),
        ] {
            if let Some(pattern) = non_empty(pattern)
                && !anchored(pattern, field)?.is_match(value)
            {
                return Ok(false);
            }
        }
        if let Some(selector) = non_empty(&self.label_selector)
            && !LabelSelector::parse(selector, "labelSelector")?.matches(metadata_map(resource, "labels"))
        {
            return Ok(false);
        }
        if let Some(selector) = non_empty(&self.annotation_selector)
            && !LabelSelector::parse(selector, "annotationSelector")?.matches(metadata_map(resource, "annotations"))
        {
            return Ok(false);
        }
        Ok(true)
    }
}

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.is_empty())
}

/// Selectors are matched against every resource of a level, so each pattern is compiled once
/// per thread and kept (compiling dominated large builds: patches × resources compilations).
/// The cache is per thread so parallel builds never contend; it is dropped when it grows past
/// a bound, so hostile input cannot make it grow without limit.
fn anchored(pattern: &str, field: &str) -> Result<Regex, PatchError> {
    const MAX_CACHED: usize = 4096;
    thread_local! {
        static CACHE: std::cell::RefCell<std::collections::HashMap<String, Regex>> =
            std::cell::RefCell::new(std::collections::HashMap::new());
    }
    if let Some(hit) = CACHE.with(|c| c.borrow().get(pattern).cloned()) {
        return Ok(hit);
    }
    let re = Regex::new(&format!("^(?:{pattern})$")).map_err(|e| PatchError::Selector {
        field: field.to_owned(),
        message: format!("invalid regular expression {pattern:?}: {e}"),
    })?;
    CACHE.with(|c| {
        let mut cache = c.borrow_mut();
        if cache.len() >= MAX_CACHED {
            cache.clear();
        }
        cache.insert(pattern.to_owned(), re.clone());
    });
    Ok(re)
}

fn api_version(resource: &Resource) -> String {
    resource.object.get("apiVersion").and_then(Value::as_str).unwrap_or_default().to_owned()
}

/// kustomize's `ResId.EffectiveNamespace`.
pub(crate) fn effective_namespace(id: &ResId, api_version: &str) -> String {
    crate::build::transform::namespace::effective_namespace(api_version, &id.kind, id.namespace.as_deref())
}

fn metadata_map<'a>(resource: &'a Resource, field: &str) -> Option<&'a serde_json::Map<String, Value>> {
    resource.object.get("metadata")?.as_object()?.get(field)?.as_object()
}

/// A Kubernetes label selector (`k8s.io/apimachinery/pkg/labels.Parse`): comma-separated
/// requirements `k`, `!k`, `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k>n`, `k<n`.
#[derive(Debug)]
struct LabelSelector(Vec<Requirement>);

#[derive(Debug)]
enum Requirement {
    Exists(String),
    NotExists(String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Gt(String, i64),
    Lt(String, i64),
}

impl LabelSelector {
    fn parse(text: &str, field: &str) -> Result<Self, PatchError> {
        let err = |message: String| PatchError::Selector { field: field.to_owned(), message };
        let mut reqs = Vec::new();
        let mut rest = text.trim();
        while !rest.is_empty() {
            let (req, tail) = parse_requirement(rest).map_err(|m| err(format!("{m} in {text:?}")))?;
            reqs.push(req);
            rest = tail.trim_start();
            if let Some(after) = rest.strip_prefix(',') {
                rest = after.trim_start();
                if rest.is_empty() {
                    return Err(err(format!("trailing comma in {text:?}")));
                }
            } else if !rest.is_empty() {
                return Err(err(format!("expected `,` before {rest:?} in {text:?}")));
            }
        }
        Ok(LabelSelector(reqs))
    }

    fn matches(&self, labels: Option<&serde_json::Map<String, Value>>) -> bool {
        let get = |key: &str| {
            labels.and_then(|m| m.get(key)).map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
        };
        self.0.iter().all(|req| match req {
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::NotExists(k) => get(k).is_none(),
            Requirement::In(k, vs) => get(k).is_some_and(|v| vs.contains(&v)),
            Requirement::NotIn(k, vs) => get(k).is_none_or(|v| !vs.contains(&v)),
            Requirement::Gt(k, n) => get(k).and_then(|v| v.parse::<i64>().ok()).is_some_and(|v| v > *n),
            Requirement::Lt(k, n) => get(k).and_then(|v| v.parse::<i64>().ok()).is_some_and(|v| v < *n),
        })
    }
}

fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/')
}

fn split_word(s: &str) -> (&str, &str) {
    let end = s.find(|c: char| !is_key_char(c)).unwrap_or(s.len());
    s.split_at(end)
}

fn parse_requirement(s: &str) -> Result<(Requirement, &str), String> {
    if let Some(rest) = s.strip_prefix('!') {
        let (key, tail) = split_word(rest.trim_start());
        if key.is_empty() {
            return Err("missing key after `!`".to_owned());
        }
        return Ok((Requirement::NotExists(key.to_owned()), tail));
    }
    let (key, tail) = split_word(s);
    if key.is_empty() {
        return Err(format!("expected a key at {s:?}"));
    }
    let key = key.to_owned();
    let tail = tail.trim_start();
    if tail.is_empty() || tail.starts_with(',') {
        return Ok((Requirement::Exists(key), tail));
    }
    for (op, negate) in [("==", false), ("!=", true), ("=", false)] {
        if let Some(rest) = tail.strip_prefix(op) {
            let (value, rest) = split_word(rest.trim_start());
            let req = if negate {
                Requirement::NotIn(key, vec![value.to_owned()])
            } else {
                Requirement::In(key, vec![value.to_owned()])
            };
            return Ok((req, rest));
        }
    }
    for (op, gt) in [(">", true), ("<", false)] {
        if let Some(rest) = tail.strip_prefix(op) {
            let (value, rest) = split_word(rest.trim_start());
            let n: i64 = value.parse().map_err(|_| format!("{value:?} is not an integer"))?;
            return Ok((if gt { Requirement::Gt(key, n) } else { Requirement::Lt(key, n) }, rest));
        }
    }
    let (word, rest) = split_word(tail);
    let negate = match word {
        "in" => false,
        "notin" => true,
        _ => return Err(format!("unexpected {tail:?} after key {key:?}")),
    };
    let rest = rest.trim_start().strip_prefix('(').ok_or_else(|| format!("expected `(` after {word}"))?;
    let close = rest.find(')').ok_or_else(|| format!("missing `)` after {word}"))?;
    let values: Vec<String> = rest[..close].split(',').map(|v| v.trim().to_owned()).collect();
    if values.iter().any(|v| v.is_empty() || !v.chars().all(is_key_char))
        && !(values.len() == 1 && values[0].is_empty())
    {
        return Err(format!("invalid value list after {word}"));
    }
    let req = if negate { Requirement::NotIn(key, values) } else { Requirement::In(key, values) };
    Ok((req, &rest[close + 1..]))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn resource(value: Value) -> Resource {
        match value {
            Value::Object(map) => Resource::new(map),
            _ => unreachable!("test objects are maps"),
        }
    }

    fn selector(yaml: &str) -> Selector {
        serde_saphyr::from_str(yaml).expect("test selector parses")
    }

    fn web() -> Resource {
        resource(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "prod-web", "labels": {"app": "web", "tier": "fe"}, "annotations": {"team": "a"}}
        }))
    }

    /// Label-selector syntax of `k8s.io/apimachinery/pkg/labels` (`labels.Parse`).
    #[test]
    fn label_and_annotation_selectors() {
        let r = web();
        for (sel, want) in [
            ("{labelSelector: app=web}", true),
            ("{labelSelector: app==web}", true),
            ("{labelSelector: app!=web}", false),
            ("{labelSelector: 'app in (api, web)'}", true),
            ("{labelSelector: 'app notin (api, web)'}", false),
            ("{labelSelector: 'missing notin (x)'}", true),
            ("{labelSelector: 'missing!=x'}", true),
            ("{labelSelector: 'tier'}", true),
            ("{labelSelector: '!tier'}", false),
            ("{labelSelector: 'app=web,tier=be'}", false),
            ("{annotationSelector: team=a}", true),
            ("{annotationSelector: team=b}", false),
        ] {
            assert_eq!(selector(sel).matches(&r).ok(), Some(want), "{sel}");
        }
        assert!(selector("{labelSelector: 'app in web'}").matches(&r).is_err());
    }

    /// kustomize anchors the patterns (`^(?:…)$`) and matches the name against the original
    /// id as well as the current one; an unset namespace is `default`.
    #[test]
    fn regexes_are_anchored_and_names_match_original_ids() {
        let mut r = web();
        assert_eq!(selector("{kind: Deploy}").matches(&r).ok(), Some(false));
        assert_eq!(selector("{kind: 'Deploy.*', group: apps, version: v1}").matches(&r).ok(), Some(true));
        assert_eq!(selector("{name: web}").matches(&r).ok(), Some(false));
        r.meta.previous_ids.push(ResId {
            group: "apps".into(),
            version: "v1".into(),
            kind: "Deployment".into(),
            namespace: None,
            name: "web".into(),
        });
        assert_eq!(selector("{name: web}").matches(&r).ok(), Some(true));
        assert_eq!(selector("{namespace: default}").matches(&r).ok(), Some(true));
        assert_eq!(selector("{namespace: prod}").matches(&r).ok(), Some(false));
        assert!(selector("{name: '('}").matches(&r).is_err());
    }
}
