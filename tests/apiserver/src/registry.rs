//! The table of resource types the server knows: the built-in ones at start, plus every served
//! version of each CustomResourceDefinition stored since.
//!
//! Discovery documents (`/api/v1`, `/apis/{g}/{v}`, the aggregated v2 form) and request routing both
//! read this table, so a type is either fully served or absent.

use serde_json::{Value, json};

/// One resource type at one group/version, as discovery describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceType {
    /// API group, `""` for the core group.
    pub group: String,
    /// Version within the group (`v1`, `v2`, `v1alpha1`).
    pub version: String,
    /// Lower-case plural, the URL segment (`deployments`).
    pub plural: String,
    /// Lower-case singular (`deployment`).
    pub singular: String,
    /// The object kind (`Deployment`).
    pub kind: String,
    /// Whether objects live in a namespace.
    pub namespaced: bool,
    /// `kubectl` short names (`deploy`).
    pub short_names: Vec<String>,
    /// Categories (`all`).
    pub categories: Vec<String>,
    /// Whether a `/status` subresource exists: it alone writes `.status` and the main endpoint
    /// ignores `.status` (kube-apiserver's status strategy).
    pub status: bool,
    /// Whether `metadata.generation` is kept (bumped on changes outside metadata and status).
    pub generation: bool,
    /// Whether the type comes from a CustomResourceDefinition.
    pub custom: bool,
}

impl ResourceType {
    /// `apps/v1`, or `v1` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() { self.version.clone() } else { format!("{}/{}", self.group, self.version) }
    }

    /// The resource as kube-apiserver names it in messages: `deployments.apps`, `secrets`.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() { self.plural.clone() } else { format!("{}.{}", self.plural, self.group) }
    }

    /// Storage key: objects are kept per group and plural, whatever version they came through
    /// (kube-apiserver stores one version and converts; we serve the stored JSON under each
    /// version, as a CRD with conversion strategy `None` does).
    pub fn store_key(&self) -> StoreKey {
        StoreKey { group: self.group.clone(), plural: self.plural.clone() }
    }

    fn verbs() -> Value {
        json!(["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"])
    }

    /// The entries of an `APIResourceList.resources` for this type (the type and its `/status`).
    pub fn discovery_entries(&self) -> Vec<Value> {
        let mut main = json!({
            "name": self.plural,
            "singularName": self.singular,
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": Self::verbs(),
        });
        if !self.short_names.is_empty() {
            main["shortNames"] = json!(self.short_names);
        }
        if !self.categories.is_empty() {
            main["categories"] = json!(self.categories);
        }
        let mut out = vec![main];
        if self.status {
            out.push(json!({
                "name": format!("{}/status", self.plural),
                "singularName": "",
                "namespaced": self.namespaced,
                "kind": self.kind,
                "verbs": ["get", "patch", "update"],
            }));
        }
        out
    }

    /// This type as an `APIResourceDiscovery` of aggregated discovery v2.
    pub fn aggregated_entry(&self) -> Value {
        let kind = json!({"group": self.group, "version": self.version, "kind": self.kind});
        let mut entry = json!({
            "resource": self.plural,
            "responseKind": kind,
            "scope": if self.namespaced { "Namespaced" } else { "Cluster" },
            "singularResource": self.singular,
            "verbs": Self::verbs(),
        });
        if !self.short_names.is_empty() {
            entry["shortNames"] = json!(self.short_names);
        }
        if !self.categories.is_empty() {
            entry["categories"] = json!(self.categories);
        }
        if self.status {
            entry["subresources"] = json!([{
                "subresource": "status",
                "responseKind": kind,
                "verbs": ["get", "patch", "update"],
            }]);
        }
        entry
    }
}

/// Where the objects of one resource live, whatever version serves them.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StoreKey {
    /// API group, `""` for core.
    pub group: String,
    /// Lower-case plural.
    pub plural: String,
}

/// One row of [`BUILTINS`]: (group, version, plural, kind, namespaced, short names, status
/// subresource, generation).
type Builtin = (&'static str, &'static str, &'static str, &'static str, bool, &'static [&'static str], bool, bool);

/// The built-in types. Extend by adding a row; singular names are the lower-cased kind, as
/// upstream.
#[rustfmt::skip]
const BUILTINS: &[Builtin] = &[
    ("", "v1", "namespaces", "Namespace", false, &["ns"], true, false),
    ("", "v1", "secrets", "Secret", true, &[], false, false),
    ("", "v1", "configmaps", "ConfigMap", true, &["cm"], false, false),
    ("", "v1", "services", "Service", true, &["svc"], true, false),
    ("", "v1", "serviceaccounts", "ServiceAccount", true, &["sa"], false, false),
    ("", "v1", "events", "Event", true, &["ev"], false, false),
    ("", "v1", "pods", "Pod", true, &["po"], true, true),
    ("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", true, &["pvc"], true, false),
    ("", "v1", "persistentvolumes", "PersistentVolume", false, &["pv"], true, false),
    ("", "v1", "endpoints", "Endpoints", true, &["ep"], false, false),
    ("", "v1", "nodes", "Node", false, &["no"], true, false),
    ("", "v1", "limitranges", "LimitRange", true, &["limits"], false, false),
    ("", "v1", "resourcequotas", "ResourceQuota", true, &["quota"], true, false),
    ("apps", "v1", "deployments", "Deployment", true, &["deploy"], true, true),
    ("apps", "v1", "statefulsets", "StatefulSet", true, &["sts"], true, true),
    ("apps", "v1", "daemonsets", "DaemonSet", true, &["ds"], true, true),
    ("apps", "v1", "replicasets", "ReplicaSet", true, &["rs"], true, true),
    ("batch", "v1", "jobs", "Job", true, &[], true, true),
    ("batch", "v1", "cronjobs", "CronJob", true, &["cj"], true, true),
    ("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", true, &["hpa"], true, true),
    ("networking.k8s.io", "v1", "ingresses", "Ingress", true, &["ing"], true, true),
    ("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", true, &["netpol"], false, true),
    ("networking.k8s.io", "v1", "ingressclasses", "IngressClass", false, &[], false, true),
    ("rbac.authorization.k8s.io", "v1", "roles", "Role", true, &[], false, false),
    ("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true, &[], false, false),
    ("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", false, &[], false, false),
    ("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", false, &[], false, false),
    ("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", true, &["pdb"], true, true),
    ("coordination.k8s.io", "v1", "leases", "Lease", true, &[], false, false),
    ("events.k8s.io", "v1", "events", "Event", true, &["ev"], false, false),
    ("storage.k8s.io", "v1", "storageclasses", "StorageClass", false, &["sc"], false, false),
    ("scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", false, &["pc"], false, false),
    ("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations", "ValidatingWebhookConfiguration", false, &[], false, true),
    ("admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations", "MutatingWebhookConfiguration", false, &[], false, true),
    ("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", false, &["crd", "crds"], true, true),
];

/// Types in the `all` category, as upstream lists them for `kubectl get all`.
const CATEGORY_ALL: &[&str] = &[
    "pods",
    "services",
    "deployments",
    "statefulsets",
    "daemonsets",
    "replicasets",
    "jobs",
    "cronjobs",
    "horizontalpodautoscalers",
];

/// The resource table.
#[derive(Clone, Debug)]
pub struct Registry {
    types: Vec<ResourceType>,
}

impl Registry {
    /// The built-in types only.
    pub fn builtin() -> Self {
        let types = BUILTINS
            .iter()
            .map(|&(group, version, plural, kind, namespaced, short, status, generation)| ResourceType {
                group: group.into(),
                version: version.into(),
                plural: plural.into(),
                singular: kind.to_ascii_lowercase(),
                kind: kind.into(),
                namespaced,
                short_names: short.iter().map(|s| (*s).to_string()).collect(),
                categories: if CATEGORY_ALL.contains(&plural) { vec!["all".into()] } else { Vec::new() },
                status,
                generation,
                custom: false,
            })
            .collect();
        Registry { types }
    }

    /// All types, in registration order.
    pub fn types(&self) -> &[ResourceType] {
        &self.types
    }

    /// The type served at `group`/`version` under `plural`.
    pub fn find(&self, group: &str, version: &str, plural: &str) -> Option<&ResourceType> {
        self.types.iter().find(|t| t.group == group && t.version == version && t.plural == plural)
    }

    /// Any served version of a group and plural (for store inspection by `plural.group`).
    pub fn find_any_version(&self, group: &str, plural: &str) -> Option<&ResourceType> {
        self.types.iter().find(|t| t.group == group && t.plural == plural)
    }

    /// Groups other than core, each with its versions in registration order.
    pub fn groups(&self) -> Vec<(String, Vec<String>)> {
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for t in self.types.iter().filter(|t| !t.group.is_empty()) {
            match out.iter_mut().find(|(g, _)| *g == t.group) {
                Some((_, versions)) => {
                    if !versions.contains(&t.version) {
                        versions.push(t.version.clone());
                    }
                }
                None => out.push((t.group.clone(), vec![t.version.clone()])),
            }
        }
        out
    }

    /// Replaces every type of `group`/`plural` by `types` (a CRD's served versions); an empty
    /// `types` removes the resource.
    pub fn set_custom(&mut self, group: &str, plural: &str, types: Vec<ResourceType>) {
        self.types.retain(|t| !(t.custom && t.group == group && t.plural == plural));
        self.types.extend(types);
    }

    /// The types a CustomResourceDefinition object declares (its served versions), or a message
    /// naming the missing field.
    pub fn types_from_crd(crd: &Value) -> Result<Vec<ResourceType>, String> {
        let spec = crd.get("spec").ok_or("spec: Required value")?;
        let text = |v: &Value, field: &str| -> Result<String, String> {
            v.get(field)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| format!("spec.{field}: Required value"))
        };
        let group = text(spec, "group")?;
        let names = spec.get("names").ok_or("spec.names: Required value")?;
        let plural =
            names.get("plural").and_then(Value::as_str).ok_or("spec.names.plural: Required value")?.to_string();
        let kind = names.get("kind").and_then(Value::as_str).ok_or("spec.names.kind: Required value")?.to_string();
        let singular =
            names.get("singular").and_then(Value::as_str).map_or_else(|| kind.to_ascii_lowercase(), str::to_string);
        let strings = |v: Option<&Value>| -> Vec<String> {
            v.and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
                .unwrap_or_default()
        };
        let short_names = strings(names.get("shortNames"));
        let categories = strings(names.get("categories"));
        let namespaced = match spec.get("scope").and_then(Value::as_str) {
            Some("Namespaced") => true,
            Some("Cluster") => false,
            _ => return Err("spec.scope: Unsupported value (Namespaced or Cluster)".into()),
        };
        let crd_name = crd.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
        if crd_name != format!("{plural}.{group}") {
            return Err(format!(
                "metadata.name: Invalid value: \"{crd_name}\": must be spec.names.plural+\".\"+spec.group"
            ));
        }
        let versions = spec.get("versions").and_then(Value::as_array).ok_or("spec.versions: Required value")?;
        let mut out = Vec::new();
        for (i, v) in versions.iter().enumerate() {
            let name = v
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("spec.versions[{i}].name: Required value"))?;
            if v.get("served").and_then(Value::as_bool) != Some(true) {
                continue;
            }
            out.push(ResourceType {
                group: group.clone(),
                version: name.to_string(),
                plural: plural.clone(),
                singular: singular.clone(),
                kind: kind.clone(),
                namespaced,
                short_names: short_names.clone(),
                categories: categories.clone(),
                status: v.pointer("/subresources/status").is_some(),
                // Custom resources always carry metadata.generation.
                generation: true,
                custom: true,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crd_versions_become_types_and_unserved_ones_are_skipped() {
        let crd = json!({
            "metadata": {"name": "widgets.example.com"},
            "spec": {
                "group": "example.com", "scope": "Namespaced",
                "names": {"plural": "widgets", "kind": "Widget", "shortNames": ["wd"]},
                "versions": [
                    {"name": "v1", "served": true, "storage": true, "subresources": {"status": {}}},
                    {"name": "v0", "served": false, "storage": false},
                ],
            },
        });
        let types = Registry::types_from_crd(&crd).expect("valid CRD");
        assert_eq!(types.len(), 1);
        assert_eq!(types[0].singular, "widget");
        assert!(types[0].status && types[0].namespaced && types[0].custom);
        assert_eq!(types[0].short_names, ["wd"]);
    }

    #[test]
    fn crd_name_must_match_plural_and_group() {
        let crd = json!({
            "metadata": {"name": "wrong.example.com"},
            "spec": {"group": "example.com", "scope": "Cluster",
                     "names": {"plural": "widgets", "kind": "Widget"}, "versions": []},
        });
        let err = Registry::types_from_crd(&crd).expect_err("name mismatch");
        assert!(err.starts_with("metadata.name"), "{err}");
    }

    #[test]
    fn groups_list_each_group_once() {
        let reg = Registry::builtin();
        let groups = reg.groups();
        let apps: Vec<_> = groups.iter().filter(|(g, _)| g == "apps").collect();
        assert_eq!(apps.len(), 1);
        assert_eq!(apps[0].1, ["v1"]);
        assert!(reg.find("", "v1", "secrets").is_some_and(|t| t.namespaced));
    }
}
