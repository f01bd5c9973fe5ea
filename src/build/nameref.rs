//! Name references: after renames (prefix/suffix, hash suffix, namespace), rewrite the fields
//! that refer to renamed objects (kustomize's nameReference rules). Owner: the transform work
//! package.
//!
//! This is kustomize's name-reference transformer (v5.5, `api/filters/nameref` and
//! `api/internal/accumulator/namereferencetransformer.go`) over its builtin `nameReference`
//! table. For each object that may refer to another (an HPA to a Deployment, a Pod template
//! to ConfigMaps and Secrets, a RoleBinding to a Role and ServiceAccounts, …), every name at a
//! referrer path is looked up among the objects that
//! 1. had that name among their *previous* names (an object never renamed, and never moved by
//!    a namespace transformer, is never a candidate: its references need no fixing),
//! 2. are of the referral kind (and, for `roleRef/name`, of the roleRef's apiGroup and kind),
//! 3. can be seen from the referrer: cluster-scoped objects, ServiceAccounts, and objects in
//!    the referrer's namespace (for RoleBindings also the namespaces of their ServiceAccount
//!    subjects); a cluster-scoped referrer sees everything;
//! 4. if still several: those whose name prefixes/suffixes end like the referrer's (an empty
//!    list matching anything first, then exactly).
//!
//! One survivor (or several with the same name, and namespace where the field is a map)
//! gives the new name; none leaves the field alone; several different ones are an error.
//! Map-valued fields (`subjects`, webhook `clientConfig.service`) take the namespace too.
//! It runs once at the end of the top-level build, after the hash suffixes.

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::build::fieldspec::{self, FieldSpec, WalkError};
use crate::build::transform::TransformError;
use crate::build::transform::namespace::{effective_namespace, is_cluster_scoped};
use crate::build::transform::scalar_text;
use crate::manifest::{ResId, Resource};

/// Records the object's current id as a previous one, before a transformer renames or moves
/// it (kustomize's `StorePreviousId`). For the generator/patch/hash-suffix steps too.
pub fn store_previous_id(resource: &mut Resource) {
    let id = resource.id();
    resource.meta.previous_ids.push(id);
}

/// Previous ids as kustomize reads them back: the recorded name, namespace and kind, with the
/// object's *current* group and version.
pub fn previous_ids(resource: &Resource) -> Vec<ResId> {
    let (group, version) = fieldspec::object_group_version(&resource.object);
    resource
        .meta
        .previous_ids
        .iter()
        .map(|id| ResId {
            group: group.to_owned(),
            version: version.to_owned(),
            kind: id.kind.clone(),
            namespace: id.namespace.clone(),
            name: id.name.clone(),
        })
        .collect()
}

/// Kustomize's `OrgId`: the first previous id, or the current id if there is none.
pub fn original_id(resource: &Resource) -> ResId {
    previous_ids(resource).into_iter().next().unwrap_or_else(|| resource.id())
}

/// Previous ids then the current id (kustomize's "any id" matching).
pub fn all_ids(resource: &Resource) -> Vec<ResId> {
    let mut ids = previous_ids(resource);
    ids.push(resource.id());
    ids
}

/// A referral kind and the fields of other kinds that name it.
struct BackRef {
    target: FieldSpec,
    referrers: Vec<FieldSpec>,
}

/// Kinds with a pod spec, and where it is, for the ConfigMap and Secret references.
const POD_SPECS_WITH_TEMPLATES: &[(&str, &str, &str)] = &[
    ("v1", "Pod", "spec"),
    ("", "PodTemplate", "template/spec"),
    ("", "Deployment", "spec/template/spec"),
    ("", "ReplicaSet", "spec/template/spec"),
    ("", "DaemonSet", "spec/template/spec"),
    ("", "StatefulSet", "spec/template/spec"),
    ("", "Job", "spec/template/spec"),
    ("", "CronJob", "spec/jobTemplate/spec/template/spec"),
];

/// Kinds with a pod spec for the ServiceAccount, PVC and PriorityClass references (kustomize
/// lists ReplicationController here but not ReplicaSet or PodTemplate).
const POD_SPECS_WORKLOADS: &[(&str, &str, &str)] = &[
    ("", "Pod", "spec"),
    ("", "StatefulSet", "spec/template/spec"),
    ("", "Deployment", "spec/template/spec"),
    ("", "ReplicationController", "spec/template/spec"),
    ("", "CronJob", "spec/jobTemplate/spec/template/spec"),
    ("", "Job", "spec/template/spec"),
    ("", "DaemonSet", "spec/template/spec"),
];

const CONFIGMAP_IN_POD: &[&str] = &[
    "volumes/configMap/name",
    "containers/env/valueFrom/configMapKeyRef/name",
    "initContainers/env/valueFrom/configMapKeyRef/name",
    "containers/envFrom/configMapRef/name",
    "initContainers/envFrom/configMapRef/name",
    "volumes/projected/sources/configMap/name",
];

const SECRET_IN_POD: &[&str] = &[
    "volumes/secret/secretName",
    "containers/env/valueFrom/secretKeyRef/name",
    "initContainers/env/valueFrom/secretKeyRef/name",
    "containers/envFrom/secretRef/name",
    "initContainers/envFrom/secretRef/name",
    "imagePullSecrets/name",
    "volumes/projected/sources/secret/name",
];

fn spec(group: &str, version: &str, kind: &str, path: &str) -> FieldSpec {
    FieldSpec::builtin(group, version, kind, path, false)
}

fn in_pods(owners: &[(&str, &str, &str)], paths: &[&str]) -> Vec<FieldSpec> {
    let mut out = Vec::new();
    for &(version, kind, base) in owners {
        for path in paths {
            out.push(spec("", version, kind, &format!("{base}/{path}")));
        }
    }
    out
}

/// Kustomize's builtin `nameReference` table, in the order kustomize sorts it.
fn table() -> Vec<BackRef> {
    let rbac = "rbac.authorization.k8s.io";
    let hpa = |kind: &str| BackRef {
        target: spec("", "", kind, "metadata/name"),
        referrers: vec![spec("", "", "HorizontalPodAutoscaler", "spec/scaleTargetRef/name")],
    };
    let mut config_map = in_pods(POD_SPECS_WITH_TEMPLATES, CONFIGMAP_IN_POD);
    config_map.extend([
        spec("", "", "Node", "spec/configSource/configMap"),
        spec("", "", "Role", "rules/resourceNames"),
        spec("", "", "ClusterRole", "rules/resourceNames"),
        spec("", "", "Ingress", "metadata/annotations/nginx.ingress.kubernetes.io\\/fastcgi-params-configmap"),
    ]);
    let mut secret = in_pods(POD_SPECS_WITH_TEMPLATES, SECRET_IN_POD);
    secret.extend([
        spec("", "", "Ingress", "spec/tls/secretName"),
        spec("", "", "Ingress", "metadata/annotations/ingress.kubernetes.io\\/auth-secret"),
        spec("", "", "Ingress", "metadata/annotations/nginx.ingress.kubernetes.io\\/auth-secret"),
        spec("", "", "Ingress", "metadata/annotations/nginx.ingress.kubernetes.io\\/auth-tls-secret"),
        spec("", "", "Ingress", "spec/tls/secretName"),
        spec("", "", "ServiceAccount", "imagePullSecrets/name"),
        spec("", "", "StorageClass", "parameters/secretName"),
        spec("", "", "StorageClass", "parameters/adminSecretName"),
        spec("", "", "StorageClass", "parameters/userSecretName"),
        spec("", "", "StorageClass", "parameters/secretRef"),
        spec("", "", "Role", "rules/resourceNames"),
        spec("", "", "ClusterRole", "rules/resourceNames"),
        spec("serving.knative.dev", "v1", "Service", "spec/template/spec/containers/env/valueFrom/secretKeyRef/name"),
        spec("", "", "PersistentVolume", "spec/azureFile/secretName"),
    ]);
    let mut service_account =
        vec![spec(rbac, "", "RoleBinding", "subjects"), spec(rbac, "", "ClusterRoleBinding", "subjects")];
    service_account.extend(in_pods(POD_SPECS_WORKLOADS, &["serviceAccountName"]));
    vec![
        BackRef {
            target: spec("storage.k8s.io", "v1", "StorageClass", ""),
            referrers: vec![
                spec("", "", "PersistentVolume", "spec/storageClassName"),
                spec("", "", "PersistentVolumeClaim", "spec/storageClassName"),
                spec("", "", "StatefulSet", "spec/volumeClaimTemplates/spec/storageClassName"),
            ],
        },
        BackRef { target: spec("", "v1", "ServiceAccount", ""), referrers: service_account },
        BackRef { target: spec(rbac, "", "Role", ""), referrers: vec![spec(rbac, "", "RoleBinding", "roleRef/name")] },
        BackRef {
            target: spec(rbac, "", "ClusterRole", ""),
            referrers: vec![
                spec(rbac, "", "RoleBinding", "roleRef/name"),
                spec(rbac, "", "ClusterRoleBinding", "roleRef/name"),
            ],
        },
        BackRef { target: spec("", "v1", "ConfigMap", ""), referrers: config_map },
        BackRef { target: spec("", "v1", "Secret", ""), referrers: secret },
        BackRef {
            target: spec("", "v1", "Service", ""),
            referrers: vec![
                spec("apps", "", "StatefulSet", "spec/serviceName"),
                spec("", "", "Ingress", "spec/rules/http/paths/backend/serviceName"),
                spec("", "", "Ingress", "spec/backend/serviceName"),
                spec("", "", "Ingress", "spec/rules/http/paths/backend/service/name"),
                spec("", "", "Ingress", "spec/defaultBackend/service/name"),
                spec("apiregistration.k8s.io", "", "APIService", "spec/service/name"),
                spec(
                    "admissionregistration.k8s.io",
                    "",
                    "ValidatingWebhookConfiguration",
                    "webhooks/clientConfig/service",
                ),
                spec(
                    "admissionregistration.k8s.io",
                    "",
                    "MutatingWebhookConfiguration",
                    "webhooks/clientConfig/service",
                ),
            ],
        },
        BackRef {
            target: spec("scheduling.k8s.io", "v1", "PriorityClass", ""),
            referrers: in_pods(POD_SPECS_WORKLOADS, &["priorityClassName"]),
        },
        BackRef {
            target: spec("", "v1", "PersistentVolume", ""),
            referrers: vec![
                spec("", "", "PersistentVolumeClaim", "spec/volumeName"),
                spec("", "", "ClusterRole", "rules/resourceNames"),
            ],
        },
        BackRef {
            target: spec("", "v1", "PersistentVolumeClaim", ""),
            referrers: in_pods(POD_SPECS_WORKLOADS, &["volumes/persistentVolumeClaim/claimName"]),
        },
        hpa("Deployment"),
        hpa("StatefulSet"),
        BackRef {
            target: spec("admissionregistration.k8s.io", "", "ValidatingAdmissionPolicy", ""),
            referrers: vec![spec(
                "admissionregistration.k8s.io",
                "",
                "ValidatingAdmissionPolicyBinding",
                "spec/policyName",
            )],
        },
        // Kustomize's table gives IngressClass the group `networking.k8s.io/v1`, which no
        // object has: Ingress `spec.ingressClassName` is never rewritten. Kept as it is.
        BackRef {
            target: spec("networking.k8s.io/v1", "v1", "IngressClass", ""),
            referrers: vec![spec("", "", "Ingress", "spec/ingressClassName")],
        },
        hpa("ReplicaSet"),
        hpa("ReplicationController"),
    ]
}

/// What the selection needs to know about one object, read once before any field changes
/// (the transformer only writes referrer fields, never names or namespaces of objects).
struct Info {
    group: String,
    version: String,
    kind: String,
    name: String,
    /// `metadata.namespace` as written ("" if unset).
    namespace: String,
    cluster_scoped: bool,
    effective_ns: String,
    original_effective_ns: String,
    previous: Vec<ResId>,
    original_kind: String,
    prefixes: Vec<String>,
    suffixes: Vec<String>,
}

impl Info {
    fn of(res: &Resource) -> Self {
        let (group, version) = fieldspec::object_group_version(&res.object);
        let api = res.object.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        let kind = res.kind().to_owned();
        let namespace = res.namespace().unwrap_or("").to_owned();
        let previous = previous_ids(res);
        let original_effective_ns = match res.meta.previous_ids.first() {
            Some(id) => {
                let api = if id.group.is_empty() { id.version.clone() } else { format!("{}/{}", id.group, id.version) };
                effective_namespace(&api, &id.kind, id.namespace.as_deref())
            }
            None => effective_namespace(api, &kind, Some(namespace.as_str())),
        };
        Info {
            group: group.to_owned(),
            version: version.to_owned(),
            cluster_scoped: is_cluster_scoped(api, &kind),
            effective_ns: effective_namespace(api, &kind, Some(namespace.as_str())),
            original_effective_ns,
            original_kind: previous.first().map_or_else(|| kind.clone(), |id| id.kind.clone()),
            previous,
            kind,
            name: res.name().to_owned(),
            namespace,
            prefixes: res.meta.prefixes.clone(),
            suffixes: res.meta.suffixes.clone(),
        }
    }
}

/// Kustomize's `SameEndingSubSlice`: the shorter list is the tail of the longer one.
fn same_ending(a: &[String], b: &[String]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if short.is_empty() {
        return long.is_empty();
    }
    long[long.len() - short.len()..] == *short
}

fn affixes_equal(a: &Info, b: &Info, allow_empty: bool) -> bool {
    let prefixes =
        (allow_empty && (a.prefixes.is_empty() || b.prefixes.is_empty())) || same_ending(&a.prefixes, &b.prefixes);
    let suffixes =
        (allow_empty && (a.suffixes.is_empty() || b.suffixes.is_empty())) || same_ending(&a.suffixes, &b.suffixes);
    prefixes && suffixes
}

pub fn fix(resources: &mut [Resource]) -> Result<(), TransformError> {
    let infos: Vec<Info> = resources.iter().map(Info::of).collect();
    let table = table();
    for (i, res) in resources.iter_mut().enumerate() {
        let me = &infos[i];
        let filters: Vec<(&FieldSpec, &FieldSpec)> = table
            .iter()
            .flat_map(|b| b.referrers.iter().map(move |r| (&b.target, r)))
            .filter(|(_, r)| r.selects(&me.group, &me.version, &me.original_kind))
            .collect();
        if filters.is_empty() {
            continue;
        }
        let visible = visible_from(i, &infos, &res.object).map_err(|message| TransformError::Field {
            object: fieldspec::describe(res),
            field: "subjects".to_owned(),
            message,
        })?;
        for (target, referrer) in filters {
            let selection = Selection {
                referrer: me,
                infos: &infos,
                target,
                role_ref: role_ref_filter(&referrer.path, &res.object),
            };
            let mut ambiguous = None;
            let steps = referrer.steps();
            let walked = match steps.split_first() {
                Some((first, rest)) => match res.object.get_mut(&first.field) {
                    Some(child) => {
                        fieldspec::walk(child, rest, None, &mut |v| selection.set(v, &visible, &mut ambiguous))
                    }
                    None => Ok(()),
                },
                None => Ok(()),
            };
            if let Some(message) = ambiguous {
                return Err(TransformError::Ambiguous {
                    object: fieldspec::describe(res),
                    field: referrer.path.clone(),
                    message,
                });
            }
            walked.map_err(|e| TransformError::at(res, &referrer.path, e))?;
        }
    }
    Ok(())
}

/// Kustomize's `SubsetThatCouldBeReferencedByResource`.
fn visible_from(i: usize, infos: &[Info], object: &Map<String, Value>) -> Result<Vec<usize>, String> {
    let me = &infos[i];
    if me.cluster_scoped {
        return Ok((0..infos.len()).collect());
    }
    let mut binding_namespaces = HashSet::new();
    if me.kind == "RoleBinding"
        && let Some(Value::Array(subjects)) = object.get("subjects")
    {
        for subject in subjects.iter().filter_map(Value::as_object) {
            let (Some(ns), Some(kind)) = (subject.get("namespace"), subject.get("kind")) else {
                continue;
            };
            if kind.as_str() == Some("ServiceAccount") {
                match ns.as_str() {
                    Some(ns) => {
                        binding_namespaces.insert(ns.to_owned());
                    }
                    None => return Err("a ServiceAccount subject's namespace is not a string".into()),
                }
            }
        }
    }
    Ok((0..infos.len())
        .filter(|&j| {
            let other = &infos[j];
            other.cluster_scoped
                || other.effective_ns == me.effective_ns
                || binding_namespaces.contains(&other.namespace)
        })
        .collect())
}

/// The `(apiGroup, kind)` a `roleRef/name` field narrows the candidates to; `None` for other
/// fields, or when the roleRef lacks either (kustomize then accepts all).
fn role_ref_filter(path: &str, object: &Map<String, Value>) -> Option<(String, String)> {
    if !path.ends_with("roleRef/name") {
        return None;
    }
    let role_ref = object.get("roleRef")?.as_object()?;
    let group = scalar_text(role_ref.get("apiGroup")?)?;
    let kind = scalar_text(role_ref.get("kind")?)?;
    Some((group, kind))
}

struct Selection<'a> {
    referrer: &'a Info,
    infos: &'a [Info],
    target: &'a FieldSpec,
    role_ref: Option<(String, String)>,
}

impl Selection<'_> {
    /// The setter at the end of a referrer path: a name, a `{name, namespace}` map, or a
    /// sequence of either.
    fn set(&self, value: &mut Value, visible: &[usize], ambiguous: &mut Option<String>) -> Result<(), WalkError> {
        match value {
            Value::Null => Ok(()),
            Value::Object(map) => self.set_map(map, visible, ambiguous),
            Value::Array(items) => {
                for item in items.iter_mut() {
                    match item {
                        Value::Null => {}
                        Value::Object(map) => self.set_map(map, visible, ambiguous)?,
                        Value::Array(_) => {
                            return Err(WalkError::Set("expected a name or a map with a name".into()));
                        }
                        scalar => self.set_name(scalar, visible, ambiguous)?,
                    }
                }
                Ok(())
            }
            scalar => self.set_name(scalar, visible, ambiguous),
        }
    }

    fn set_name(&self, value: &mut Value, visible: &[usize], ambiguous: &mut Option<String>) -> Result<(), WalkError> {
        let Some(old) = scalar_text(value) else {
            return Ok(());
        };
        let Some(j) = self.select(&old, visible.to_vec(), false, ambiguous)? else {
            return Ok(());
        };
        if self.infos[j].name != old {
            *value = Value::String(self.infos[j].name.clone());
        }
        Ok(())
    }

    fn set_map(
        &self,
        map: &mut Map<String, Value>,
        visible: &[usize],
        ambiguous: &mut Option<String>,
    ) -> Result<(), WalkError> {
        let Some(old) = map.get("name").map(|v| scalar_text(v).unwrap_or_default()) else {
            return Err(WalkError::Set("no `name` field in the reference".into()));
        };
        let candidates = match map.get("namespace") {
            None => visible.to_vec(),
            Some(ns) => {
                let ns = scalar_text(ns).unwrap_or_default();
                let by_original: Vec<usize> = visible
                    .iter()
                    .copied()
                    .filter(|&j| {
                        let info = &self.infos[j];
                        info.original_effective_ns == ns && !is_pseudo(&info.original_effective_ns)
                    })
                    .collect();
                if by_original.is_empty() {
                    visible
                        .iter()
                        .copied()
                        .filter(|&j| {
                            let info = &self.infos[j];
                            info.effective_ns == ns && !is_pseudo(&info.effective_ns)
                        })
                        .collect()
                } else {
                    by_original
                }
            }
        };
        let Some(j) = self.select(&old, candidates, true, ambiguous)? else {
            return Ok(());
        };
        let referral = &self.infos[j];
        if referral.name == old && referral.namespace.is_empty() {
            return Ok(());
        }
        map.insert("name".to_owned(), Value::String(referral.name.clone()));
        // An empty namespace is a wildcard here, not `default`: leave the field alone.
        if !referral.namespace.is_empty() {
            map.insert("namespace".to_owned(), Value::String(referral.namespace.clone()));
        }
        Ok(())
    }

    /// Kustomize's `selectReferral`.
    fn select(
        &self,
        old: &str,
        mut candidates: Vec<usize>,
        with_namespace: bool,
        ambiguous: &mut Option<String>,
    ) -> Result<Option<usize>, WalkError> {
        let infos = self.infos;
        let me = self.referrer;
        candidates.retain(|&j| {
            let info = &infos[j];
            info.previous.iter().any(|id| id.name == old)
                && info.previous.iter().any(|id| self.target.selects(&id.group, &id.version, &id.kind))
                && self.role_ref.as_ref().is_none_or(|(group, kind)| {
                    info.previous
                        .iter()
                        .any(|id| (group.is_empty() || *group == id.group) && (kind.is_empty() || *kind == id.kind))
                })
                && (me.cluster_scoped
                    || info.cluster_scoped
                    || info.kind == "ServiceAccount"
                    || info.effective_ns == me.effective_ns)
        });
        if candidates.len() == 1 {
            return Ok(candidates.first().copied());
        }
        candidates.retain(|&j| affixes_equal(&infos[j], me, true));
        if candidates.len() > 1 {
            candidates.retain(|&j| affixes_equal(&infos[j], me, false));
        }
        let Some(&first) = candidates.first() else {
            return Ok(None);
        };
        if candidates.len() == 1 {
            return Ok(Some(first));
        }
        let identical = candidates.iter().all(|&j| {
            infos[j].name == infos[first].name && (!with_namespace || infos[j].namespace == infos[first].namespace)
        });
        if identical {
            return Ok(Some(first));
        }
        let ids: Vec<String> = candidates
            .iter()
            .map(|&j| format!("{} {}/{}", infos[j].kind, infos[j].effective_ns, infos[j].name))
            .collect();
        let message = format!("`{old}` could refer to several objects: {}", ids.join(", "));
        *ambiguous = Some(message.clone());
        Err(WalkError::Set(message))
    }
}

fn is_pseudo(namespace: &str) -> bool {
    namespace == "_non_namespaceable_"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::transform::testutil::{assert_same, parse};
    use crate::build::transform::{namespace, prefix_suffix};

    // refs/kustomization.yaml:
    //   namePrefix: p-
    //   nameSuffix: -s
    //   resources:
    //   - res.yaml
    const REFS_INPUT: &str = r#"
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
---
apiVersion: v1
kind: Secret
metadata:
  name: pull
type: kubernetes.io/dockerconfigjson
---
apiVersion: v1
kind: Secret
metadata:
  name: tls
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: runner
imagePullSecrets:
- name: pull
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      serviceAccountName: runner
      imagePullSecrets:
      - name: pull
      - name: not-ours
      containers:
      - name: app
        image: nginx
        env:
        - name: A
          valueFrom:
            configMapKeyRef:
              name: cfg
              key: a
        - name: B
          valueFrom:
            secretKeyRef:
              name: tls
              key: b
        envFrom:
        - configMapRef:
            name: cfg
        - secretRef:
            name: unknown
      volumes:
      - name: c
        configMap:
          name: cfg
      - name: d
        persistentVolumeClaim:
          claimName: data
      - name: p
        projected:
          sources:
          - configMap:
              name: cfg
          - secret:
              name: tls
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: web
  minReplicas: 1
  maxReplicas: 3
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  annotations:
    nginx.ingress.kubernetes.io/auth-secret: tls
spec:
  ingressClassName: nginx
  defaultBackend:
    service:
      name: web
      port:
        number: 80
  tls:
  - secretName: tls
  rules:
  - http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: web
            port:
              number: 80
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: reader
rules:
- apiGroups: [""]
  resources: ["configmaps"]
  resourceNames: ["cfg", "other"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: reader
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: reader
subjects:
- kind: ServiceAccount
  name: runner
- kind: User
  name: runner
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
---
apiVersion: v1
kind: Namespace
metadata:
  name: team
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  serviceName: web
  template:
    spec:
      containers:
      - name: db
        image: postgres
"#;

    // `kubectl kustomize refs` (kustomize v5.5.0), scratch tree under /tmp/xform-scratch
    const REFS_EXPECTED: &str = r#"
apiVersion: v1
kind: Namespace
metadata:
  name: team
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
---
apiVersion: v1
imagePullSecrets:
- name: p-pull-s
kind: ServiceAccount
metadata:
  name: p-runner-s
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: p-reader-s
rules:
- apiGroups:
  - ""
  resourceNames:
  - p-cfg-s
  - other
  resources:
  - configmaps
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: p-reader-s
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: p-reader-s
subjects:
- kind: ServiceAccount
  name: p-runner-s
- kind: User
  name: p-runner-s
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: p-cfg-s
---
apiVersion: v1
kind: Secret
metadata:
  name: p-pull-s
type: kubernetes.io/dockerconfigjson
---
apiVersion: v1
kind: Secret
metadata:
  name: p-tls-s
---
apiVersion: v1
kind: Service
metadata:
  name: p-web-s
spec:
  selector:
    app: web
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: p-data-s
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: p-web-s
spec:
  template:
    spec:
      containers:
      - env:
        - name: A
          valueFrom:
            configMapKeyRef:
              key: a
              name: p-cfg-s
        - name: B
          valueFrom:
            secretKeyRef:
              key: b
              name: p-tls-s
        envFrom:
        - configMapRef:
            name: p-cfg-s
        - secretRef:
            name: unknown
        image: nginx
        name: app
      imagePullSecrets:
      - name: p-pull-s
      - name: not-ours
      serviceAccountName: p-runner-s
      volumes:
      - configMap:
          name: p-cfg-s
        name: c
      - name: d
        persistentVolumeClaim:
          claimName: p-data-s
      - name: p
        projected:
          sources:
          - configMap:
              name: p-cfg-s
          - secret:
              name: p-tls-s
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: p-db-s
spec:
  serviceName: p-web-s
  template:
    spec:
      containers:
      - image: postgres
        name: db
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: p-web-s
spec:
  maxReplicas: 3
  minReplicas: 1
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: p-web-s
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  annotations:
    nginx.ingress.kubernetes.io/auth-secret: p-tls-s
  name: p-web-s
spec:
  defaultBackend:
    service:
      name: p-web-s
      port:
        number: 80
  ingressClassName: nginx
  rules:
  - http:
      paths:
      - backend:
          service:
            name: p-web-s
            port:
              number: 80
        path: /
        pathType: Prefix
  tls:
  - secretName: p-tls-s
"#;

    /// ConfigMap env/envFrom/volume/projected refs, Secret imagePullSecrets/env/tls/annotation
    /// refs, ServiceAccount refs (also a `User` subject of the same name, as kustomize does),
    /// PVC claims, HPA scale target, Ingress backends, StatefulSet serviceName, Role
    /// resourceNames and roleRef; CRDs and Namespaces are not renamed; unknown names stay.
    #[test]
    fn prefix_suffix_references_match_kubectl_kustomize() {
        let mut resources = parse(REFS_INPUT);
        prefix_suffix::apply(&mut resources, "p-", "-s").unwrap();
        fix(&mut resources).unwrap();
        assert_same(&resources, REFS_EXPECTED);
    }

    // scope/a/kustomization.yaml:
    //   namePrefix: a-
    //   resources:
    //   - res.yaml
    // scope/b/kustomization.yaml:
    //   namePrefix: b-
    //   resources:
    //   - res.yaml
    const SCOPE_BASE: &str = r#"
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: app
        envFrom:
        - configMapRef:
            name: cfg
"#;

    // scope/top/kustomization.yaml:
    //   namePrefix: top-
    //   namespace: prod
    //   resources:
    //   - ../a
    //   - ../b
    //   - hpa.yaml
    const SCOPE_HPA: &str = r#"
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: a-web
  maxReplicas: 2
"#;

    // `kubectl kustomize scope/top` (kustomize v5.5.0), scratch tree under /tmp/xform-scratch
    const SCOPE_EXPECTED: &str = r#"
apiVersion: v1
kind: ConfigMap
metadata:
  name: top-a-cfg
  namespace: prod
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: top-b-cfg
  namespace: prod
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: top-a-web
  namespace: prod
spec:
  template:
    spec:
      containers:
      - envFrom:
        - configMapRef:
            name: top-a-cfg
        name: app
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: top-b-web
  namespace: prod
spec:
  template:
    spec:
      containers:
      - envFrom:
        - configMapRef:
            name: top-b-cfg
        name: app
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: top-web
  namespace: prod
spec:
  maxReplicas: 2
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: top-a-web
"#;

    /// Two bases with the same ConfigMap name under different prefixes: each Deployment keeps
    /// pointing at its own base's ConfigMap (prefix scope), and an HPA in the overlay naming
    /// a base's renamed Deployment follows it.
    #[test]
    fn prefix_scope_across_bases_matches_kubectl_kustomize() {
        let mut a = parse(SCOPE_BASE);
        prefix_suffix::apply(&mut a, "a-", "").unwrap();
        let mut b = parse(SCOPE_BASE);
        prefix_suffix::apply(&mut b, "b-", "").unwrap();
        let mut resources: Vec<Resource> = a.into_iter().chain(b).collect();
        resources.extend(parse(SCOPE_HPA));
        namespace::apply(&mut resources, "prod").unwrap();
        prefix_suffix::apply(&mut resources, "top-", "").unwrap();
        fix(&mut resources).unwrap();
        assert_same(&resources, SCOPE_EXPECTED);
    }

    // rbac/kustomization.yaml:
    //   namePrefix: p-
    //   resources:
    //   - res.yaml
    const RBAC_INPUT: &str = r#"
apiVersion: v1
kind: ServiceAccount
metadata:
  name: sa
  namespace: other
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: bot
  namespace: team
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: rb
  namespace: team
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: view
subjects:
- kind: ServiceAccount
  name: sa
  namespace: other
- kind: ServiceAccount
  name: bot
- kind: Group
  name: devs
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: view
  namespace: team
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: edit
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: rb2
  namespace: team
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: edit
subjects:
- kind: ServiceAccount
  name: bot
  namespace: team
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata:
  name: mwc
webhooks:
- name: m.example.com
  clientConfig:
    service:
      name: hook
      namespace: team
---
apiVersion: v1
kind: Service
metadata:
  name: hook
  namespace: team
"#;

    // `kubectl kustomize rbac` (kustomize v5.5.0), scratch tree under /tmp/xform-scratch
    const RBAC_EXPECTED: &str = r#"
apiVersion: v1
kind: ServiceAccount
metadata:
  name: p-sa
  namespace: other
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: p-bot
  namespace: team
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: p-view
  namespace: team
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: p-edit
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: p-rb
  namespace: team
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: view
subjects:
- kind: ServiceAccount
  name: p-sa
  namespace: other
- kind: ServiceAccount
  name: p-bot
  namespace: team
- kind: Group
  name: devs
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: p-rb2
  namespace: team
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: p-edit
subjects:
- kind: ServiceAccount
  name: p-bot
  namespace: team
---
apiVersion: v1
kind: Service
metadata:
  name: p-hook
  namespace: team
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata:
  name: p-mwc
webhooks:
- clientConfig:
    service:
      name: p-hook
      namespace: team
  name: m.example.com
"#;

    /// RBAC: a subject with a namespace finds the ServiceAccount there, one without takes the
    /// ServiceAccount's namespace; `roleRef` to a ClusterRole is not confused with a renamed
    /// Role of the same name; a webhook's service reference is renamed.
    #[test]
    fn rbac_and_webhook_references_match_kubectl_kustomize() {
        let mut resources = parse(RBAC_INPUT);
        prefix_suffix::apply(&mut resources, "p-", "").unwrap();
        fix(&mut resources).unwrap();
        assert_same(&resources, RBAC_EXPECTED);
    }

    /// `kubectl kustomize` of two ConfigMaps `cfg` in namespaces `a` and `b`, renamed by JSON
    /// patches to `x` and `y`, and a ClusterRole naming `cfg` in `resourceNames` fails with
    /// "found multiple possible referrals" (tree /tmp/xform-scratch/amb).
    #[test]
    fn ambiguous_reference_is_an_error() {
        let mut resources = parse(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  namespace: a\n---\n\
             apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  namespace: b\n---\n\
             apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: r\n\
             rules:\n- resourceNames: [cfg]\n",
        );
        for (res, name) in resources.iter_mut().zip(["x", "y"]) {
            store_previous_id(res);
            res.object["metadata"]["name"] = Value::from(name);
        }
        let err = fix(&mut resources).unwrap_err();
        assert_eq!(err.kind(), "transform_ambiguous_reference");
    }

    #[test]
    fn never_renamed_objects_are_not_candidates() {
        let mut resources = parse(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n---\n\
             apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  volumes:\n  - configMap:\n      name: cfg\n",
        );
        fix(&mut resources).unwrap();
        assert_eq!(resources[1].object["spec"]["volumes"][0]["configMap"]["name"], "cfg");
    }
}
