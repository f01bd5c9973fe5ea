//! Merge keys and patch strategies of the builtin Kubernetes types.
//!
//! Kustomize merges with kyaml (`kyaml/yaml/merge2`), which reads the strategies from the
//! Kubernetes v1.21.2 OpenAPI document compiled into it (`kyaml/openapi/kubernetesapi`), so
//! this table is that document reduced to what changes a merge: kyaml treats a list as
//! associative only when its `x-kubernetes-patch-strategy` contains `merge`, keyed by
//! `x-kubernetes-list-map-keys` when present (that is how container ports merge on
//! `containerPort`+`protocol` and Service ports on `port`+`protocol`), else by
//! `x-kubernetes-patch-merge-key`, else by the primitive values themselves (finalizers).
//! Every other list is replaced, maps always merge, and kyaml ignores `retainKeys`, so
//! types that contain no such list anywhere below them need no entry. Lists without a merge
//! strategy (tolerations, RBAC rules and subjects, HPA metrics, Ingress rules, NetworkPolicy
//! rules) are replaced, as in kustomize. Kinds missing here (CRDs, and API versions v1.21
//! did not serve, such as `autoscaling/v2`) have no schema: their lists are replaced.

/// A schema node: the fields of an object type that hold associative lists somewhere
/// below. A field not listed is known but uninteresting (lists below it are replaced).
pub struct Type(&'static [(&'static str, Node)]);

pub enum Node {
    Object(&'static Type),
    /// An associative list with its merge keys (empty for a list of primitives) and the
    /// element type when that type itself has associative lists.
    List(&'static [&'static str], Option<&'static Type>),
}

/// Where a merge stands in the schema.
#[derive(Clone, Copy)]
pub enum Schema {
    Object(&'static Type),
    List {
        keys: &'static [&'static str],
        elements: Option<&'static Type>,
    },
    /// Known to the schema, with no associative list below.
    Leaf,
}

impl Schema {
    pub fn field(self, name: &str) -> Schema {
        match self {
            Schema::Object(ty) => match ty.0.iter().find(|(field, _)| *field == name) {
                Some((_, Node::Object(inner))) => Schema::Object(inner),
                Some((_, Node::List(keys, elements))) => Schema::List { keys, elements: *elements },
                None => Schema::Leaf,
            },
            Schema::List { .. } | Schema::Leaf => Schema::Leaf,
        }
    }

    pub fn elements(self) -> Schema {
        match self {
            Schema::List { elements: Some(ty), .. } => Schema::Object(ty),
            _ => Schema::Leaf,
        }
    }

    /// Merge keys when this is an associative list (`Some(&[])` for primitives).
    pub fn merge_keys(self) -> Option<&'static [&'static str]> {
        match self {
            Schema::List { keys, .. } => Some(keys),
            _ => None,
        }
    }
}

/// The schema of a builtin kind, looked up as kyaml does: by exact `apiVersion` and `kind`.
pub fn for_kind(api_version: &str, kind: &str) -> Option<Schema> {
    if let Some((_, _, ty)) = KINDS.iter().find(|(api, k, _)| *api == api_version && *k == kind) {
        return Some(Schema::Object(ty));
    }
    META_ONLY_KINDS.iter().any(|(api, k)| *api == api_version && *k == kind).then_some(Schema::Object(&META_ONLY))
}

/// Kinds the v1.21.2 OpenAPI document serves without a namespace (kustomize's
/// `precomputedIsNamespaceScoped` false entries): their ids ignore the namespace.
pub fn is_cluster_scoped(api_version: &str, kind: &str) -> bool {
    CLUSTER_SCOPED.iter().any(|(api, k)| *api == api_version && *k == kind)
}

const NAME: &[&str] = &["name"];
const TYPE: &[&str] = &["type"];

static OBJECT_META: Type =
    Type(&[("finalizers", Node::List(&[], None)), ("ownerReferences", Node::List(&["uid"], None))]);
static META_ONLY: Type = Type(&[("metadata", Node::Object(&OBJECT_META))]);
static CONDITIONS: Type = Type(&[("conditions", Node::List(TYPE, None))]);
static WITH_STATUS_CONDITIONS: Type =
    Type(&[("metadata", Node::Object(&OBJECT_META)), ("status", Node::Object(&CONDITIONS))]);

static CONTAINER: Type = Type(&[
    ("env", Node::List(NAME, None)),
    ("ports", Node::List(&["containerPort", "protocol"], None)),
    ("volumeDevices", Node::List(&["devicePath"], None)),
    ("volumeMounts", Node::List(&["mountPath"], None)),
]);
static EPHEMERAL_CONTAINER: Type = Type(&[
    ("env", Node::List(NAME, None)),
    ("volumeDevices", Node::List(&["devicePath"], None)),
    ("volumeMounts", Node::List(&["mountPath"], None)),
]);
static VOLUME: Type = Type(&[("ephemeral", Node::Object(&EPHEMERAL_VOLUME_SOURCE))]);
static EPHEMERAL_VOLUME_SOURCE: Type = Type(&[("volumeClaimTemplate", Node::Object(&META_ONLY))]);
static POD_SPEC: Type = Type(&[
    ("containers", Node::List(NAME, Some(&CONTAINER))),
    ("ephemeralContainers", Node::List(NAME, Some(&EPHEMERAL_CONTAINER))),
    ("hostAliases", Node::List(&["ip"], None)),
    ("imagePullSecrets", Node::List(NAME, None)),
    ("initContainers", Node::List(NAME, Some(&CONTAINER))),
    ("topologySpreadConstraints", Node::List(&["topologyKey", "whenUnsatisfiable"], None)),
    ("volumes", Node::List(NAME, Some(&VOLUME))),
]);
static POD_TEMPLATE_SPEC: Type = Type(&[("metadata", Node::Object(&OBJECT_META)), ("spec", Node::Object(&POD_SPEC))]);
/// DaemonSet, Deployment, ReplicaSet, StatefulSet, ReplicationController and Job specs:
/// `template` is a PodTemplateSpec.
static WORKLOAD_SPEC: Type = Type(&[("template", Node::Object(&POD_TEMPLATE_SPEC))]);
static WORKLOAD: Type = Type(&[
    ("metadata", Node::Object(&OBJECT_META)),
    ("spec", Node::Object(&WORKLOAD_SPEC)),
    ("status", Node::Object(&CONDITIONS)),
]);
static JOB_TEMPLATE_SPEC: Type =
    Type(&[("metadata", Node::Object(&OBJECT_META)), ("spec", Node::Object(&WORKLOAD_SPEC))]);
static CRON_JOB: Type = Type(&[
    ("metadata", Node::Object(&OBJECT_META)),
    ("spec", Node::Object(&Type(&[("jobTemplate", Node::Object(&JOB_TEMPLATE_SPEC))]))),
]);
static POD: Type = Type(&[
    ("metadata", Node::Object(&OBJECT_META)),
    ("spec", Node::Object(&POD_SPEC)),
    ("status", Node::Object(&Type(&[("conditions", Node::List(TYPE, None)), ("podIPs", Node::List(&["ip"], None))]))),
]);
static POD_TEMPLATE: Type =
    Type(&[("metadata", Node::Object(&OBJECT_META)), ("template", Node::Object(&POD_TEMPLATE_SPEC))]);
static SERVICE: Type = Type(&[
    ("metadata", Node::Object(&OBJECT_META)),
    ("spec", Node::Object(&Type(&[("ports", Node::List(&["port", "protocol"], None))]))),
    ("status", Node::Object(&CONDITIONS)),
]);
static SERVICE_ACCOUNT: Type = Type(&[("metadata", Node::Object(&OBJECT_META)), ("secrets", Node::List(NAME, None))]);
static WEBHOOK_CONFIGURATION: Type =
    Type(&[("metadata", Node::Object(&OBJECT_META)), ("webhooks", Node::List(NAME, None))]);
static NODE: Type = Type(&[
    ("metadata", Node::Object(&OBJECT_META)),
    ("spec", Node::Object(&Type(&[("podCIDRs", Node::List(&[], None))]))),
    ("status", Node::Object(&Type(&[("addresses", Node::List(TYPE, None)), ("conditions", Node::List(TYPE, None))]))),
]);
static CSI_NODE: Type = Type(&[
    ("metadata", Node::Object(&OBJECT_META)),
    ("spec", Node::Object(&Type(&[("drivers", Node::List(NAME, None))]))),
]);
static COMPONENT_STATUS: Type =
    Type(&[("conditions", Node::List(TYPE, None)), ("metadata", Node::Object(&OBJECT_META))]);

static KINDS: &[(&str, &str, &Type)] = &[
    ("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration", &WEBHOOK_CONFIGURATION),
    ("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", &WEBHOOK_CONFIGURATION),
    ("admissionregistration.k8s.io/v1beta1", "MutatingWebhookConfiguration", &WEBHOOK_CONFIGURATION),
    ("admissionregistration.k8s.io/v1beta1", "ValidatingWebhookConfiguration", &WEBHOOK_CONFIGURATION),
    ("apiregistration.k8s.io/v1", "APIService", &WITH_STATUS_CONDITIONS),
    ("apiregistration.k8s.io/v1beta1", "APIService", &WITH_STATUS_CONDITIONS),
    ("apps/v1", "DaemonSet", &WORKLOAD),
    ("apps/v1", "Deployment", &WORKLOAD),
    ("apps/v1", "ReplicaSet", &WORKLOAD),
    ("apps/v1", "StatefulSet", &WORKLOAD),
    ("batch/v1", "CronJob", &CRON_JOB),
    ("batch/v1", "Job", &WORKLOAD),
    ("batch/v1beta1", "CronJob", &CRON_JOB),
    ("policy/v1", "PodDisruptionBudget", &WITH_STATUS_CONDITIONS),
    ("policy/v1beta1", "PodDisruptionBudget", &WITH_STATUS_CONDITIONS),
    ("storage.k8s.io/v1", "CSINode", &CSI_NODE),
    ("storage.k8s.io/v1beta1", "CSINode", &CSI_NODE),
    ("v1", "ComponentStatus", &COMPONENT_STATUS),
    ("v1", "Namespace", &WITH_STATUS_CONDITIONS),
    ("v1", "Node", &NODE),
    ("v1", "PersistentVolumeClaim", &WITH_STATUS_CONDITIONS),
    ("v1", "Pod", &POD),
    ("v1", "PodTemplate", &POD_TEMPLATE),
    ("v1", "ReplicationController", &WORKLOAD),
    ("v1", "Service", &SERVICE),
    ("v1", "ServiceAccount", &SERVICE_ACCOUNT),
];

/// Builtin kinds whose only associative lists are the ObjectMeta ones.
static META_ONLY_KINDS: &[(&str, &str)] = &[
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
    ("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition"),
    ("apps/v1", "ControllerRevision"),
    ("authentication.k8s.io/v1", "TokenRequest"),
    ("authentication.k8s.io/v1", "TokenReview"),
    ("authentication.k8s.io/v1beta1", "TokenReview"),
    ("authorization.k8s.io/v1", "LocalSubjectAccessReview"),
    ("authorization.k8s.io/v1", "SelfSubjectAccessReview"),
    ("authorization.k8s.io/v1", "SelfSubjectRulesReview"),
    ("authorization.k8s.io/v1", "SubjectAccessReview"),
    ("authorization.k8s.io/v1beta1", "LocalSubjectAccessReview"),
    ("authorization.k8s.io/v1beta1", "SelfSubjectAccessReview"),
    ("authorization.k8s.io/v1beta1", "SelfSubjectRulesReview"),
    ("authorization.k8s.io/v1beta1", "SubjectAccessReview"),
    ("autoscaling/v1", "HorizontalPodAutoscaler"),
    ("autoscaling/v1", "Scale"),
    ("autoscaling/v2beta1", "HorizontalPodAutoscaler"),
    ("autoscaling/v2beta2", "HorizontalPodAutoscaler"),
    ("certificates.k8s.io/v1", "CertificateSigningRequest"),
    ("certificates.k8s.io/v1beta1", "CertificateSigningRequest"),
    ("coordination.k8s.io/v1", "Lease"),
    ("coordination.k8s.io/v1beta1", "Lease"),
    ("discovery.k8s.io/v1", "EndpointSlice"),
    ("discovery.k8s.io/v1beta1", "EndpointSlice"),
    ("events.k8s.io/v1", "Event"),
    ("events.k8s.io/v1beta1", "Event"),
    ("extensions/v1beta1", "Ingress"),
    ("flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema"),
    ("flowcontrol.apiserver.k8s.io/v1beta1", "PriorityLevelConfiguration"),
    ("networking.k8s.io/v1", "Ingress"),
    ("networking.k8s.io/v1", "IngressClass"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
    ("networking.k8s.io/v1beta1", "Ingress"),
    ("networking.k8s.io/v1beta1", "IngressClass"),
    ("node.k8s.io/v1", "RuntimeClass"),
    ("node.k8s.io/v1beta1", "RuntimeClass"),
    ("policy/v1beta1", "Eviction"),
    ("policy/v1beta1", "PodSecurityPolicy"),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
    ("rbac.authorization.k8s.io/v1", "Role"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"),
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRoleBinding"),
    ("rbac.authorization.k8s.io/v1beta1", "Role"),
    ("rbac.authorization.k8s.io/v1beta1", "RoleBinding"),
    ("scheduling.k8s.io/v1", "PriorityClass"),
    ("scheduling.k8s.io/v1beta1", "PriorityClass"),
    ("storage.k8s.io/v1", "CSIDriver"),
    ("storage.k8s.io/v1", "StorageClass"),
    ("storage.k8s.io/v1", "VolumeAttachment"),
    ("storage.k8s.io/v1beta1", "CSIDriver"),
    ("storage.k8s.io/v1beta1", "CSIStorageCapacity"),
    ("storage.k8s.io/v1beta1", "StorageClass"),
    ("storage.k8s.io/v1beta1", "VolumeAttachment"),
    ("v1", "Binding"),
    ("v1", "ConfigMap"),
    ("v1", "Endpoints"),
    ("v1", "Event"),
    ("v1", "LimitRange"),
    ("v1", "PersistentVolume"),
    ("v1", "ResourceQuota"),
    ("v1", "Secret"),
];

static CLUSTER_SCOPED: &[(&str, &str)] = &[
    ("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration"),
    ("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration"),
    ("admissionregistration.k8s.io/v1beta1", "MutatingWebhookConfiguration"),
    ("admissionregistration.k8s.io/v1beta1", "ValidatingWebhookConfiguration"),
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
    ("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition"),
    ("apiregistration.k8s.io/v1", "APIService"),
    ("apiregistration.k8s.io/v1beta1", "APIService"),
    ("certificates.k8s.io/v1", "CertificateSigningRequest"),
    ("certificates.k8s.io/v1beta1", "CertificateSigningRequest"),
    ("flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema"),
    ("flowcontrol.apiserver.k8s.io/v1beta1", "PriorityLevelConfiguration"),
    ("networking.k8s.io/v1", "IngressClass"),
    ("networking.k8s.io/v1beta1", "IngressClass"),
    ("node.k8s.io/v1", "RuntimeClass"),
    ("node.k8s.io/v1beta1", "RuntimeClass"),
    ("policy/v1beta1", "PodSecurityPolicy"),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRoleBinding"),
    ("scheduling.k8s.io/v1", "PriorityClass"),
    ("scheduling.k8s.io/v1beta1", "PriorityClass"),
    ("storage.k8s.io/v1", "CSIDriver"),
    ("storage.k8s.io/v1", "CSINode"),
    ("storage.k8s.io/v1", "StorageClass"),
    ("storage.k8s.io/v1", "VolumeAttachment"),
    ("storage.k8s.io/v1beta1", "CSIDriver"),
    ("storage.k8s.io/v1beta1", "CSINode"),
    ("storage.k8s.io/v1beta1", "StorageClass"),
    ("storage.k8s.io/v1beta1", "VolumeAttachment"),
    ("v1", "ComponentStatus"),
    ("v1", "Namespace"),
    ("v1", "Node"),
    ("v1", "NodeProxyOptions"),
    ("v1", "PersistentVolume"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployment_containers_merge_by_name_and_ports_by_port_and_protocol() {
        let pod = for_kind("apps/v1", "Deployment")
            .map(|s| s.field("spec").field("template").field("spec"))
            .expect("Deployment is builtin");
        assert_eq!(pod.field("containers").merge_keys(), Some(&["name"][..]));
        let ports = pod.field("containers").elements().field("ports");
        assert_eq!(ports.merge_keys(), Some(&["containerPort", "protocol"][..]));
        assert_eq!(pod.field("tolerations").merge_keys(), None);
    }

    #[test]
    fn cronjob_reaches_the_pod_spec_through_job_template() {
        let pod = for_kind("batch/v1", "CronJob")
            .map(|s| s.field("spec").field("jobTemplate").field("spec").field("template").field("spec"))
            .expect("CronJob is builtin");
        assert_eq!(pod.field("volumes").merge_keys(), Some(&["name"][..]));
    }

    #[test]
    fn unknown_kinds_and_unserved_versions_have_no_schema() {
        assert!(for_kind("example.com/v1", "Widget").is_none());
        assert!(for_kind("autoscaling/v2", "HorizontalPodAutoscaler").is_none());
        let finalizers = for_kind("v1", "ConfigMap").map(|s| s.field("metadata").field("finalizers"));
        assert_eq!(finalizers.and_then(Schema::merge_keys), Some(&[][..]));
    }
}
