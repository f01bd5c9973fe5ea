//! `namespace:`.
//!
//! Kustomize's NamespaceTransformer (`api/filters/namespace`, v5.5) as the `namespace:` field
//! configures it: `metadata.namespace` on every namespaced object (only the kinds kustomize's
//! built-in OpenAPI data knows as cluster-scoped are skipped — an unknown kind counts as
//! namespaced), the builtin `namespace` field specs (a `v1` Namespace object is *renamed* to
//! the namespace, APIService and CRD conversion-webhook service namespaces), and the
//! `defaultOnly` rule for (Cluster)RoleBinding subjects: a subject whose `name` is exactly
//! `default` gets the namespace, whatever its kind. Every object's id is recorded before, so
//! that name references can follow the move.

use std::collections::HashMap;

use serde_json::Value;

use super::{TransformError, set_scalar};
use crate::build::fieldspec::{self, Leaf, NAMESPACE};
use crate::build::nameref;
use crate::manifest::Resource;

/// Whether kustomize is certain the type is cluster-scoped.
/// kustomize's precomputed OpenAPI scope table, exact on apiVersion; one table, kept with the
/// merge keys in `patch::schema`.
pub fn is_cluster_scoped(api_version: &str, kind: &str) -> bool {
    crate::build::patch::schema::is_cluster_scoped(api_version, kind)
}

/// Kustomize's `ResId.EffectiveNamespace`: cluster-scoped objects share one pseudo-namespace,
/// an unset namespace is `default`.
pub fn effective_namespace(api_version: &str, kind: &str, namespace: Option<&str>) -> String {
    if is_cluster_scoped(api_version, kind) {
        return "_non_namespaceable_".to_owned();
    }
    match namespace {
        None | Some("") => "default".to_owned(),
        Some(ns) => ns.to_owned(),
    }
}

fn api_version(resource: &Resource) -> &str {
    resource.object.get("apiVersion").and_then(Value::as_str).unwrap_or("")
}

pub fn apply(resources: &mut [Resource], namespace: &str) -> Result<(), TransformError> {
    if namespace.is_empty() {
        return Ok(());
    }
    let specs = fieldspec::from_rows(NAMESPACE);
    let new_value = || Value::String(namespace.to_owned());
    for res in resources.iter_mut() {
        if res.object.is_empty() {
            continue;
        }
        // Kustomize stores the previous id of every object, renamed or not; name references
        // use it to carry the namespace into RBAC subjects and webhook service refs.
        nameref::store_previous_id(res);
        let api = api_version(res).to_owned();
        let kind = res.kind().to_owned();

        if !is_cluster_scoped(&api, &kind) {
            let spec = fieldspec::FieldSpec::builtin("", "", "", "metadata/namespace", true);
            fieldspec::apply_spec(&mut res.object, &spec, Some(Leaf::Scalar), &mut |v| set_scalar(v, new_value()))
                .map_err(|e| TransformError::at(res, "metadata/namespace", e))?;
        }

        if kind == "RoleBinding" || kind == "ClusterRoleBinding" {
            set_default_subjects(res, namespace)?;
        }

        for spec in &specs {
            // Kustomize keeps `metadata/name` specs only for `apiVersion: v1` objects.
            if spec.path == "metadata/name" && api != "v1" {
                continue;
            }
            fieldspec::apply_spec(&mut res.object, spec, Some(Leaf::Scalar), &mut |v| set_scalar(v, new_value()))
                .map_err(|e| TransformError::at(res, &spec.path, e))?;
        }
    }
    check_conflicts(resources)
}

/// The `defaultOnly` subject rule: every subject named `default` gets the namespace.
fn set_default_subjects(res: &mut Resource, namespace: &str) -> Result<(), TransformError> {
    let object = fieldspec::describe(res);
    let Some(subjects) = res.object.get_mut("subjects") else {
        return Ok(());
    };
    let subjects = match subjects {
        Value::Null => return Ok(()),
        Value::Array(items) => items,
        _ => {
            return Err(TransformError::Field {
                object,
                field: "subjects".to_owned(),
                message: "expected a sequence".to_owned(),
            });
        }
    };
    for subject in subjects {
        let Value::Object(subject) = subject else {
            return Err(TransformError::Field {
                object,
                field: "subjects".to_owned(),
                message: "expected each subject to be a mapping".to_owned(),
            });
        };
        if subject.get("name").and_then(Value::as_str) == Some("default") {
            subject.insert("namespace".to_owned(), Value::String(namespace.to_owned()));
        }
    }
    Ok(())
}

/// Kustomize refuses a namespace change that makes two objects the same.
fn check_conflicts(resources: &[Resource]) -> Result<(), TransformError> {
    let mut seen: HashMap<(String, String, String, String), usize> = HashMap::new();
    for res in resources.iter().filter(|r| !r.object.is_empty()) {
        let api = api_version(res);
        let key = (
            api.to_owned(),
            res.kind().to_owned(),
            effective_namespace(api, res.kind(), res.namespace()),
            res.name().to_owned(),
        );
        *seen.entry(key).or_default() += 1;
    }
    if let Some(((_, kind, ns, name), _)) = seen.into_iter().find(|(_, n)| *n > 1) {
        return Err(TransformError::Conflict {
            field: "namespace".to_owned(),
            message: format!(
                "namespace transformation produces an id conflict: two {kind} objects named {name} in {ns}"
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::nameref;
    use crate::build::transform::testutil::{assert_same, parse};

    // ns/kustomization.yaml:
    //   namespace: prod
    //   resources:
    //   - res.yaml
    const NS_INPUT: &str = r#"
apiVersion: v1
kind: Namespace
metadata:
  name: old
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: reader
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: read-all
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: reader
subjects:
- kind: ServiceAccount
  name: default
  namespace: kube-system
- kind: ServiceAccount
  name: app
- kind: User
  name: default
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: rb
  namespace: other
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: reader
subjects:
- kind: ServiceAccount
  name: default
- kind: ServiceAccount
  name: stranger
  namespace: elsewhere
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: app
---
apiVersion: v1
kind: Service
metadata:
  name: hook
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: vwc
webhooks:
- name: check.example.com
  clientConfig:
    service:
      name: hook
      namespace: default
      path: /check
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata:
  name: v1.metrics.example.com
spec:
  service:
    name: hook
    namespace: default
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  conversion:
    strategy: Webhook
    webhook:
      clientConfig:
        service:
          name: hook
          namespace: default
---
apiVersion: example.com/v1
kind: ClusterWidget
metadata:
  name: cw
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: pv1
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: fast
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: moved
  namespace: somewhere
"#;

    // `kubectl kustomize ns` (kustomize v5.5.0), scratch tree under /tmp/xform-scratch
    const NS_EXPECTED: &str = r#"
apiVersion: v1
kind: Namespace
metadata:
  name: prod
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: fast
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  conversion:
    strategy: Webhook
    webhook:
      clientConfig:
        service:
          name: hook
          namespace: prod
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: app
  namespace: prod
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: reader
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: rb
  namespace: prod
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: reader
subjects:
- kind: ServiceAccount
  name: default
  namespace: prod
- kind: ServiceAccount
  name: stranger
  namespace: elsewhere
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: read-all
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: reader
subjects:
- kind: ServiceAccount
  name: default
  namespace: prod
- kind: ServiceAccount
  name: app
  namespace: prod
- kind: User
  name: default
  namespace: prod
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: moved
  namespace: prod
---
apiVersion: v1
kind: Service
metadata:
  name: hook
  namespace: prod
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: pv1
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata:
  name: v1.metrics.example.com
spec:
  service:
    name: hook
    namespace: prod
---
apiVersion: example.com/v1
kind: ClusterWidget
metadata:
  name: cw
  namespace: prod
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: vwc
webhooks:
- clientConfig:
    service:
      name: hook
      namespace: prod
      path: /check
  name: check.example.com
"#;

    /// Cluster-scoped kinds keep no namespace (an unknown cluster-scoped CRD kind gets one, as
    /// in kustomize), the Namespace object is renamed, subjects named `default` are moved, and
    /// the name-reference pass carries the namespace into the ServiceAccount subject and the
    /// webhook's service reference.
    #[test]
    fn namespace_matches_kubectl_kustomize() {
        let mut resources = parse(NS_INPUT);
        apply(&mut resources, "prod").unwrap();
        nameref::fix(&mut resources).unwrap();
        assert_same(&resources, NS_EXPECTED);
    }

    #[test]
    fn namespace_records_every_previous_id() {
        let mut resources = parse(NS_INPUT);
        apply(&mut resources, "prod").unwrap();
        assert!(resources.iter().all(|r| r.meta.previous_ids.len() == 1));
        let moved = resources.iter().find(|r| r.name() == "moved").unwrap();
        assert_eq!(moved.meta.previous_ids[0].namespace.as_deref(), Some("somewhere"));
    }

    #[test]
    fn namespace_conflict_is_an_error() {
        let mut resources = parse(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n\
             apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: x\n",
        );
        let err = apply(&mut resources, "x").unwrap_err();
        assert_eq!(err.kind(), "transform_conflict");
    }

    #[test]
    fn scope_table_is_exact_on_api_version() {
        assert!(is_cluster_scoped("rbac.authorization.k8s.io/v1", "ClusterRole"));
        assert!(!is_cluster_scoped("rbac.authorization.k8s.io/v1alpha1", "ClusterRole"));
        assert!(!is_cluster_scoped("example.com/v1", "ClusterWidget"));
        assert_eq!(effective_namespace("v1", "ConfigMap", None), "default");
    }
}
