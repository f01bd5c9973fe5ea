//! `bitnami.com/v1alpha1 SealedSecret`, wire-compatible with Bitnami's CRD
//! (`helm/sealed-secrets/crds/bitnami.com_sealedsecrets.yaml`, shared/specs/sealed-secrets.md §2).
//!
//! The object carries only ciphertext, so `Debug` is safe here; the unsealed Secret never uses
//! these types.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};

/// A Secret sealed (encrypted) with the controller's public key; only the controller can open it.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "bitnami.com",
    version = "v1alpha1",
    kind = "SealedSecret",
    plural = "sealedsecrets",
    singular = "sealedsecret",
    namespaced,
    status = "SealedSecretStatus",
    derive = "PartialEq",
    doc = "A Secret sealed (encrypted) with the controller's public key; only the controller can open it.",
    printcolumn(name = "Status", type_ = "string", json_path = ".status.conditions[0].message"),
    printcolumn(name = "Synced", type_ = "string", json_path = ".status.conditions[0].status"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
pub struct SealedSecretSpec {
    /// The shape of the Secret to create (metadata, type, immutability, templated keys).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<SecretTemplateSpec>,

    /// Item name → base64 of one hybrid-encrypted value (sealed-secrets.md §1.2).
    ///
    /// Upstream's decoder drops values that are not strings instead of failing the object
    /// (sealed-secrets.md §2.1 notes); so does ours, so that one odd object cannot break a watch.
    #[serde(deserialize_with = "lenient_string_map")]
    #[schemars(extend("x-kubernetes-preserve-unknown-fields" = true))]
    pub encrypted_data: BTreeMap<String, String>,

    /// Deprecated single-blob format: a whole Secret sealed as one value (sealed-secrets.md §1.6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "byte"))]
    pub data: Option<String>,
}

/// What the created Secret looks like, apart from the decrypted data.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretTemplateSpec {
    /// Metadata copied to the Secret (its name and namespace are forced to the SealedSecret's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "template_metadata_schema")]
    pub metadata: Option<ObjectMeta>,

    /// The Secret's `type`, e.g. `kubernetes.io/tls`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,

    /// Copied to the Secret's `immutable`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub immutable: Option<bool>,

    /// Secret keys rendered as Go templates over the decrypted items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<BTreeMap<String, String>>,
}

/// The controller's last observation of a SealedSecret.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SealedSecretStatus {
    /// The generation of the SealedSecret the conditions describe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,

    /// Upstream writes exactly one condition, `Synced`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<SealedSecretCondition>>,
}

/// One condition of a SealedSecret (upstream's own shape, not `metav1.Condition`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SealedSecretCondition {
    /// `Synced`, the only type upstream writes.
    #[serde(rename = "type")]
    pub type_: String,

    /// `"True"`, `"False"` or `"Unknown"`.
    pub status: String,

    /// Refreshed on every status write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_update_time: Option<Time>,

    /// Changed only when `status` flips.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<Time>,

    /// Never set by upstream's controller; kept for round-trips.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,

    /// Empty on success, else the unseal or update error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The value of the `Synced` condition type.
pub const CONDITION_SYNCED: &str = "Synced";

/// Upstream's template metadata schema: the common fields typed, everything else kept as-is
/// (controller-gen `generateEmbeddedObjectMeta`), so `creationTimestamp: null` from older kubeseal
/// passes validation.
fn template_metadata_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let string_map = serde_json::json!({"type": "object", "additionalProperties": {"type": "string"}});
    schemars::json_schema!({
        "description": "Metadata copied to the Secret (its name and namespace are forced to the SealedSecret's).",
        "type": "object",
        "nullable": true,
        "x-kubernetes-preserve-unknown-fields": true,
        "properties": {
            "annotations": string_map.clone(),
            "labels": string_map,
            "finalizers": {"type": "array", "items": {"type": "string"}},
            "name": {"type": "string"},
            "namespace": {"type": "string"},
        },
    })
}

/// Keeps the string values of a map and drops the rest (see `encrypted_data`).
fn lenient_string_map<'de, D: Deserializer<'de>>(de: D) -> Result<BTreeMap<String, String>, D::Error> {
    let raw = Option::<BTreeMap<String, serde_json::Value>>::deserialize(de)?.unwrap_or_default();
    Ok(raw
        .into_iter()
        .filter_map(|(k, v)| match v {
            serde_json::Value::String(s) => Some((k, s)),
            _ => None,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_string_items_are_dropped_not_fatal() {
        let obj: SealedSecret = serde_json::from_value(serde_json::json!({
            "apiVersion": "bitnami.com/v1alpha1",
            "kind": "SealedSecret",
            "metadata": {"name": "s", "namespace": "demo"},
            "spec": {"encryptedData": {"a": "AgA=", "b": 3, "c": null}},
        }))
        .expect("object with a non-string item still parses");
        assert_eq!(obj.spec.encrypted_data.keys().collect::<Vec<_>>(), ["a"]);
    }

    #[test]
    fn template_accepts_null_creation_timestamp() {
        let spec: SealedSecretSpec = serde_json::from_value(serde_json::json!({
            "encryptedData": {},
            "template": {"metadata": {"name": "x", "creationTimestamp": null}, "type": "Opaque", "immutable": true},
        }))
        .expect("old kubeseal output parses");
        let template = spec.template.expect("template");
        assert_eq!(template.type_.as_deref(), Some("Opaque"));
        assert_eq!(template.metadata.and_then(|m| m.name).as_deref(), Some("x"));
    }

    #[test]
    fn encrypted_data_is_required() {
        let err = serde_json::from_value::<SealedSecretSpec>(serde_json::json!({"data": "AAAA"}));
        assert!(err.is_err(), "upstream's CRD requires spec.encryptedData");
    }
}
