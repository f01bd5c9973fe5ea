//! kustomize's output order: `legacy` (the default; kinds with no dependencies first,
//! webhooks last, then by group/version/kind and namespace/name) or `fifo` (as accumulated).
//! Source: kustomize v5.5 `api/internal/builtins/SortOrderTransformer.go`.

use std::cmp::Ordering;
use std::collections::HashMap;

use super::{ResId, Resource};

/// kustomize's `defaultOrderFirst` ("DO NOT CHANGE!" upstream).
pub const DEFAULT_ORDER_FIRST: &[&str] = &[
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
];

/// kustomize's `defaultOrderLast`.
pub const DEFAULT_ORDER_LAST: &[&str] = &["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"];

/// Sorts `resources` in kustomize's legacy order with the given kind lists (kustomize's
/// `legacySortOptions.orderFirst`/`orderLast`; the defaults above when not configured).
pub fn sort_legacy(resources: &mut [Resource], order_first: &[String], order_last: &[String]) {
    let mut rank: HashMap<&str, i64> = HashMap::new();
    // Listed-first kinds get negative ranks, listed-last positive ones, the rest 0; a kind in
    // both lists takes its last-list rank, as the Go map assignment order does.
    let first_len = i64::try_from(order_first.len()).unwrap_or(i64::MAX);
    for (i, kind) in (0i64..).zip(order_first) {
        rank.insert(kind.as_str(), i - first_len);
    }
    for (i, kind) in (1i64..).zip(order_last) {
        rank.insert(kind.as_str(), i);
    }
    let mut keyed: Vec<(ResId, usize)> = resources.iter().enumerate().map(|(i, r)| (r.id(), i)).collect();
    keyed.sort_by(|(a, _), (b, _)| compare(a, b, &rank));
    apply_permutation(resources, keyed.into_iter().map(|(_, i)| i).collect());
}

/// The default legacy order.
pub fn sort_default(resources: &mut [Resource]) {
    let first: Vec<String> = DEFAULT_ORDER_FIRST.iter().map(|s| (*s).to_owned()).collect();
    let last: Vec<String> = DEFAULT_ORDER_LAST.iter().map(|s| (*s).to_owned()).collect();
    sort_legacy(resources, &first, &last);
}

fn compare(a: &ResId, b: &ResId, rank: &HashMap<&str, i64>) -> Ordering {
    let gvk_equal = a.group == b.group && a.version == b.version && a.kind == b.kind;
    if !gvk_equal {
        let ra = rank.get(a.kind.as_str()).copied().unwrap_or(0);
        let rb = rank.get(b.kind.as_str()).copied().unwrap_or(0);
        if ra != rb {
            return ra.cmp(&rb);
        }
        let (ga, gb) = (gvk_sort_string(a), gvk_sort_string(b));
        // Upstream quirk (`gvkLessThan`): two Namespace kinds where one is in the core group
        // compare in reverse.
        if a.kind == "Namespace" && b.kind == "Namespace" && (a.group.is_empty() || b.group.is_empty()) {
            return gb.cmp(&ga);
        }
        return ga.cmp(&gb);
    }
    id_sort_string(a).cmp(&id_sort_string(b))
}

fn or<'a>(s: &'a str, empty: &'a str) -> &'a str {
    if s.is_empty() { empty } else { s }
}

/// `legacyGVKSortString`: `group_version_kind` with `~G`/`~V`/`~K` for empty parts.
fn gvk_sort_string(id: &ResId) -> String {
    format!("{}_{}_{}", or(&id.group, "~G"), or(&id.version, "~V"), or(&id.kind, "~K"))
}

/// `legacyResIDSortString`: `kind_version_group|namespace|name` (the GVK in `Gvk.String()`
/// order), `~X`/`~N` for an empty namespace/name.
fn id_sort_string(id: &ResId) -> String {
    format!(
        "{}_{}_{}|{}|{}",
        or(&id.kind, "~K"),
        or(&id.version, "~V"),
        or(&id.group, "~G"),
        or(id.namespace.as_deref().unwrap_or(""), "~X"),
        or(&id.name, "~N")
    )
}

/// Reorders `items` so that position `k` holds the element that was at `order[k]`.
fn apply_permutation<T>(items: &mut [T], order: Vec<usize>) {
    let mut target_of = vec![0; order.len()];
    for (k, &from) in order.iter().enumerate() {
        target_of[from] = k;
    }
    for i in 0..items.len() {
        while target_of[i] != i {
            let j = target_of[i];
            items.swap(i, j);
            target_of.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn res(api: &str, kind: &str, ns: Option<&str>, name: &str) -> Resource {
        let mut meta = json!({"name": name});
        if let Some(ns) = ns {
            meta["namespace"] = json!(ns);
        }
        let v = json!({"apiVersion": api, "kind": kind, "metadata": meta});
        Resource::new(v.as_object().cloned().unwrap())
    }

    fn names(rs: &[Resource]) -> Vec<String> {
        rs.iter().map(|r| format!("{}/{}", r.kind(), r.name())).collect()
    }

    #[test]
    fn legacy_order_matches_kustomize() {
        // Expected order from `kubectl kustomize` (v5.5) over these objects given in reverse.
        let mut rs = vec![
            res("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", None, "v"),
            res("example.com/v1", "Widget", Some("a"), "w"),
            res("apps/v1", "Deployment", Some("b"), "d2"),
            res("apps/v1", "Deployment", Some("a"), "d1"),
            res("v1", "Service", Some("a"), "s"),
            res("v1", "ConfigMap", None, "c"),
            res("batch/v1", "Job", Some("a"), "j"),
            res("v1", "Namespace", None, "ns"),
        ];
        sort_default(&mut rs);
        assert_eq!(
            names(&rs),
            [
                "Namespace/ns",
                "ConfigMap/c",
                "Service/s",
                "Deployment/d1",
                "Deployment/d2",
                "Job/j",
                "Widget/w",
                "ValidatingWebhookConfiguration/v"
            ]
        );
    }

    #[test]
    fn unranked_kinds_sort_by_group_then_version_then_kind() {
        let mut rs =
            vec![res("z.io/v1", "A", None, "a"), res("batch/v1", "Job", None, "j"), res("v1", "Pod", None, "p")];
        sort_default(&mut rs);
        assert_eq!(names(&rs), ["Job/j", "A/a", "Pod/p"]);
    }

    #[test]
    fn custom_order_first_and_last() {
        let mut rs =
            vec![res("v1", "ConfigMap", None, "c"), res("v1", "Service", None, "s"), res("v1", "Pod", None, "p")];
        sort_legacy(&mut rs, &["Service".to_owned()], &["ConfigMap".to_owned()]);
        assert_eq!(names(&rs), ["Service/s", "Pod/p", "ConfigMap/c"]);
    }

    #[test]
    fn permutation_is_applied() {
        let mut v = vec!['a', 'b', 'c', 'd'];
        apply_permutation(&mut v, vec![2, 0, 3, 1]);
        assert_eq!(v, ['c', 'a', 'd', 'b']);
    }
}
