//! What the controller does with one unsealed SealedSecret, as pure functions over the Secret
//! objects it reads and writes (`shared/specs/sealed-secrets.md` §3.1, §3.2; upstream
//! `pkg/controller/controller.go`, `unseal`). The daemon does the IO around them: GET the
//! Secret, then CREATE or UPDATE what [`plan`] says, then write the status [`synced`] returns.
//!
//! Secret objects here hold base64 plaintext, so they live in [`SecretObject`], which has no
//! `Debug` and wipes its strings on drop.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};
use zeroize::Zeroizing;

use crate::crypto::secret::wipe_json;

use super::document::{API_VERSION, KIND, Secret};

/// On the Secret (from the template): the SealedSecret may take over an existing Secret.
pub const MANAGED_ANNOTATION: &str = "sealedsecrets.bitnami.com/managed";
/// On the Secret: merge items, labels and annotations into it instead of replacing them.
pub const PATCH_ANNOTATION: &str = "sealedsecrets.bitnami.com/patch";
/// On the template: do not make the SealedSecret the Secret's owner.
pub const SKIP_OWNER_REFERENCES_ANNOTATION: &str = "sealedsecrets.bitnami.com/skip-set-owner-references";

/// Upstream's event reasons (component `sealed-secrets`).
pub const REASON_UNSEALED: &str = "Unsealed";
pub const REASON_UNSEAL_FAILED: &str = "ErrUnsealFailed";
pub const REASON_UPDATE_FAILED: &str = "ErrUpdateFailed";
pub const MESSAGE_UNSEALED: &str = "SealedSecret unsealed successfully";

/// A Secret as a JSON object. Its `data` is base64 plaintext: no `Debug`, wiped on drop.
pub struct SecretObject(Map<String, Value>);

impl SecretObject {
    pub fn from_map(map: Map<String, Value>) -> Self {
        Self(map)
    }

    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    /// The JSON body for a create or update request.
    pub fn to_json(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(serde_json::to_vec(&self.0).unwrap_or_default())
    }

    fn annotation(&self, name: &str) -> Option<&str> {
        self.0.get("metadata")?.get("annotations")?.get(name)?.as_str()
    }

    fn meta_mut(&mut self) -> &mut Map<String, Value> {
        let meta = self.0.entry("metadata").or_insert_with(|| Value::Object(Map::new()));
        if !meta.is_object() {
            *meta = Value::Object(Map::new());
        }
        meta.as_object_mut().expect("just made an object")
    }

    /// True when the Secret's controller owner reference names the SealedSecret with `uid`
    /// (apimachinery's `IsControlledBy`).
    pub fn is_controlled_by(&self, uid: &str) -> bool {
        self.0
            .get("metadata")
            .and_then(|m| m.get("ownerReferences"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|r| {
                r.get("controller").and_then(Value::as_bool) == Some(true)
                    && r.get("uid").and_then(Value::as_str) == Some(uid)
            })
    }
}

impl Drop for SecretObject {
    fn drop(&mut self) {
        self.0.values_mut().for_each(wipe_json);
    }
}

/// The SealedSecret that owns the Secret.
pub struct Owner<'a> {
    pub name: &'a str,
    pub uid: &'a str,
}

/// The Secret the controller wants (§3.1 steps 1–5): the unsealed Secret (template metadata,
/// type, immutable, items) with the owner reference unless the template says
/// `skip-set-owner-references: "true"`.
pub fn desired(unsealed: &Secret, owner: &Owner<'_>) -> SecretObject {
    let mut meta = Map::new();
    for (key, value) in &unsealed.metadata.extra {
        meta.insert(key.clone(), value.clone());
    }
    if let Some(name) = &unsealed.metadata.name {
        meta.insert("name".into(), json!(name));
    }
    if let Some(namespace) = &unsealed.metadata.namespace {
        meta.insert("namespace".into(), json!(namespace));
    }
    if !unsealed.metadata.labels.is_empty() {
        meta.insert("labels".into(), json!(unsealed.metadata.labels));
    }
    if !unsealed.metadata.annotations.is_empty() {
        meta.insert("annotations".into(), json!(unsealed.metadata.annotations));
    }
    let skip = unsealed.metadata.annotations.get(SKIP_OWNER_REFERENCES_ANNOTATION).map(String::as_str) == Some("true");
    if skip {
        meta.remove("ownerReferences");
    } else {
        meta.insert(
            "ownerReferences".into(),
            json!([{ "apiVersion": API_VERSION, "kind": KIND, "name": owner.name, "uid": owner.uid, "controller": true }]),
        );
    }
    let mut object = Map::new();
    object.insert("apiVersion".into(), json!("v1"));
    object.insert("kind".into(), json!("Secret"));
    object.insert("metadata".into(), Value::Object(meta));
    if let Some(type_) = &unsealed.type_ {
        object.insert("type".into(), json!(type_));
    }
    if let Some(immutable) = unsealed.immutable {
        object.insert("immutable".into(), json!(immutable));
    }
    let data: Map<String, Value> =
        unsealed.data.iter().map(|(k, v)| (k.clone(), Value::String(STANDARD.encode(v.expose())))).collect();
    if !data.is_empty() {
        object.insert("data".into(), Value::Object(data));
    }
    SecretObject(object)
}

/// What to do with the live Secret.
pub enum Plan {
    Create(SecretObject),
    Update(SecretObject),
    Unchanged,
    /// The live Secret belongs to someone else: upstream's message, for the event and the
    /// `failed update: …` error.
    Unmanaged(String),
}

/// Upstream's update rules (§3.1 steps 6–8). `existing` is the live Secret, if any.
pub fn plan(desired: SecretObject, existing: Option<&SecretObject>, owner_uid: &str) -> Plan {
    let Some(existing) = existing else {
        return Plan::Create(desired);
    };
    let managed = existing.annotation(MANAGED_ANNOTATION) == Some("true");
    let patch = existing.annotation(PATCH_ANNOTATION) == Some("true");
    if !existing.is_controlled_by(owner_uid) && !managed && !patch {
        let name = existing.0.get("metadata").and_then(|m| m.get("name")).and_then(Value::as_str).unwrap_or("");
        return Plan::Unmanaged(format!("Resource {name:?} already exists and is not managed by SealedSecret"));
    }
    let mut next = SecretObject(existing.0.clone());
    let wanted_meta = desired.0.get("metadata").and_then(Value::as_object);
    let wanted = |field: &str| wanted_meta.and_then(|m| m.get(field)).cloned();
    if patch {
        merge_into(next.0.entry("data").or_insert_with(|| json!({})), desired.0.get("data"));
        let meta = next.meta_mut();
        merge_into(meta.entry("labels").or_insert_with(|| json!({})), wanted("labels").as_ref());
        merge_into(meta.entry("annotations").or_insert_with(|| json!({})), wanted("annotations").as_ref());
        if managed {
            set_or_remove(meta, "ownerReferences", wanted("ownerReferences"));
        }
    } else {
        set_or_remove(&mut next.0, "data", desired.0.get("data").cloned());
        let meta = next.meta_mut();
        for field in ["annotations", "labels", "ownerReferences"] {
            set_or_remove(meta, field, wanted(field));
        }
    }
    set_or_remove(&mut next.0, "type", desired.0.get("type").cloned());
    if semantically_equal(&existing.0, &next.0) { Plan::Unchanged } else { Plan::Update(next) }
}

fn merge_into(target: &mut Value, from: Option<&Value>) {
    if !target.is_object() {
        *target = json!({});
    }
    if let (Some(target), Some(Value::Object(from))) = (target.as_object_mut(), from) {
        for (k, v) in from {
            target.insert(k.clone(), v.clone());
        }
    }
}

fn set_or_remove(map: &mut Map<String, Value>, field: &str, value: Option<Value>) {
    match value {
        Some(v) => {
            map.insert(field.to_owned(), v);
        }
        None => {
            map.remove(field);
        }
    }
}

/// apimachinery's `Semantic.DeepEqual` treats nil and empty maps and lists as equal.
fn semantically_equal(a: &Map<String, Value>, b: &Map<String, Value>) -> bool {
    fn normal(v: &Value) -> Option<Value> {
        match v {
            Value::Object(m) => {
                let kept: Map<String, Value> =
                    m.iter().filter_map(|(k, v)| normal(v).map(|v| (k.clone(), v))).collect();
                (!kept.is_empty()).then_some(Value::Object(kept))
            }
            Value::Array(items) if items.is_empty() => None,
            Value::Null => None,
            other => Some(other.clone()),
        }
    }
    let wrap = |m: &Map<String, Value>| normal(&Value::Object(m.clone()));
    wrap(a) == wrap(b)
}

/// The message an update of an immutable Secret gets (upstream `formatImmutableError`).
pub fn immutable_message(key: &str) -> String {
    format!(
        "Error updating {key}: the target Secret is immutable. Once a Secret is marked as immutable, it is not possible to revert this change nor to mutate the contents of the data field. You can only delete and recreate the Secret."
    )
}

/// True for the API server's refusal to change an immutable Secret: not worth retrying.
pub fn is_immutable_error(message: &str) -> bool {
    message.ends_with("field is immutable when `immutable` is set")
}

/// The `Synced` condition after a run (§2.1, upstream `updateSealedSecretsStatusConditions`):
/// returns the new `status` and whether it must be written (the condition's status flipped or
/// `observedGeneration` is behind). `now` is an RFC 3339 time.
pub fn synced(status: Option<&Value>, error: Option<&str>, generation: i64, now: &str) -> (Value, bool) {
    let mut status = status.filter(|s| s.is_object()).cloned().unwrap_or_else(|| json!({}));
    let map = status.as_object_mut().expect("checked above");
    let conditions = map.entry("conditions").or_insert_with(|| json!([]));
    if !conditions.is_array() {
        *conditions = json!([]);
    }
    let list = conditions.as_array_mut().expect("checked above");
    let index = match list.iter().position(|c| c.get("type").and_then(Value::as_str) == Some("Synced")) {
        Some(i) => i,
        None => {
            list.push(json!({ "type": "Synced" }));
            list.len() - 1
        }
    };
    let cond = list[index].as_object_mut().expect("conditions are objects");
    let wanted = if error.is_none() { "True" } else { "False" };
    cond.insert("message".into(), json!(error.unwrap_or("")));
    cond.insert("lastUpdateTime".into(), json!(now));
    let flipped = cond.get("status").and_then(Value::as_str) != Some(wanted);
    if flipped {
        cond.insert("lastTransitionTime".into(), json!(now));
        cond.insert("status".into(), json!(wanted));
    }
    let behind = map.get("observedGeneration").and_then(Value::as_i64) != Some(generation);
    map.insert("observedGeneration".into(), json!(generation));
    (status, flipped || behind)
}

/// Labels and annotations of a Secret, for callers that only need to look (e.g. the key
/// registry's label check).
pub fn labels(object: &Map<String, Value>) -> BTreeMap<String, String> {
    object
        .get("metadata")
        .and_then(|m| m.get("labels"))
        .and_then(Value::as_object)
        .map(|m| m.iter().filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned()))).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SecretBytes;
    use crate::sealed::document::ObjectMeta;

    const UID: &str = "6d1c-uid";
    const OWNER: Owner<'static> = Owner { name: "db", uid: UID };

    fn unsealed(annotations: &[(&str, &str)]) -> Secret {
        let mut metadata =
            ObjectMeta { name: Some("db".into()), namespace: Some("prod".into()), ..ObjectMeta::default() };
        metadata.labels.insert("app".into(), "db".into());
        for (k, v) in annotations {
            metadata.annotations.insert((*k).into(), (*v).into());
        }
        let mut data = BTreeMap::new();
        data.insert("password".to_owned(), SecretBytes::from_slice(b"hunter2"));
        Secret { metadata, type_: Some("Opaque".into()), immutable: None, data }
    }

    fn live(value: Value) -> SecretObject {
        SecretObject(value.as_object().expect("object").clone())
    }

    fn get<'a>(o: &'a SecretObject, path: &[&str]) -> Option<&'a Value> {
        let mut cur = o.0.get(path[0])?;
        for p in &path[1..] {
            cur = cur.get(*p)?;
        }
        Some(cur)
    }

    #[test]
    fn desired_secret_has_the_owner_reference_and_base64_items() {
        let d = desired(&unsealed(&[]), &OWNER);
        assert_eq!(get(&d, &["data", "password"]), Some(&json!("aHVudGVyMg==")));
        assert_eq!(
            get(&d, &["metadata", "ownerReferences"]),
            Some(
                &json!([{"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret", "name": "db", "uid": UID, "controller": true}])
            )
        );
        assert!(d.is_controlled_by(UID));
        let skip = desired(&unsealed(&[(SKIP_OWNER_REFERENCES_ANNOTATION, "true")]), &OWNER);
        assert!(get(&skip, &["metadata", "ownerReferences"]).is_none());
    }

    #[test]
    fn missing_secret_is_created() {
        assert!(matches!(plan(desired(&unsealed(&[]), &OWNER), None, UID), Plan::Create(_)));
    }

    #[test]
    fn unmanaged_secret_is_refused_with_upstreams_message() {
        let existing = live(
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "prod"}, "data": {"x": "eQ=="}}),
        );
        match plan(desired(&unsealed(&[]), &OWNER), Some(&existing), UID) {
            Plan::Unmanaged(m) => assert_eq!(m, "Resource \"db\" already exists and is not managed by SealedSecret"),
            _ => panic!("must refuse"),
        }
        // Owned by another SealedSecret (other uid) is just as unmanaged.
        let other =
            live(json!({"metadata": {"name": "db", "ownerReferences": [{"uid": "other", "controller": true}]}}));
        assert!(matches!(plan(desired(&unsealed(&[]), &OWNER), Some(&other), UID), Plan::Unmanaged(_)));
    }

    #[test]
    fn owned_secret_is_replaced_wholesale_and_unchanged_is_left_alone() {
        let d = desired(&unsealed(&[]), &OWNER);
        let mut before = d.0.clone();
        before["data"] = json!({"password": "b2xk", "stale": "eA=="});
        before["metadata"]["labels"] = json!({"old": "x"});
        before["metadata"]["resourceVersion"] = json!("42");
        let existing = SecretObject(before);
        match plan(desired(&unsealed(&[]), &OWNER), Some(&existing), UID) {
            Plan::Update(next) => {
                assert_eq!(get(&next, &["data"]), Some(&json!({"password": "aHVudGVyMg=="})));
                assert_eq!(get(&next, &["metadata", "labels"]), Some(&json!({"app": "db"})));
                assert_eq!(get(&next, &["metadata", "resourceVersion"]), Some(&json!("42")));
            }
            _ => panic!("must update"),
        }
        let mut same = d.0.clone();
        same["metadata"]["resourceVersion"] = json!("43");
        same["metadata"]["annotations"] = json!({});
        assert!(matches!(plan(desired(&unsealed(&[]), &OWNER), Some(&SecretObject(same)), UID), Plan::Unchanged));
    }

    #[test]
    fn patch_annotation_merges_and_keeps_foreign_items() {
        let existing = live(json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": "db", "annotations": {PATCH_ANNOTATION: "true"}, "labels": {"team": "a"},
                         "ownerReferences": [{"uid": "someone-else"}]},
            "data": {"extra": "eA==", "password": "b2xk"}}));
        match plan(desired(&unsealed(&[]), &OWNER), Some(&existing), UID) {
            Plan::Update(next) => {
                assert_eq!(get(&next, &["data"]), Some(&json!({"extra": "eA==", "password": "aHVudGVyMg=="})));
                assert_eq!(get(&next, &["metadata", "labels"]), Some(&json!({"team": "a", "app": "db"})));
                // Without `managed`, patching does not take ownership.
                assert_eq!(get(&next, &["metadata", "ownerReferences"]), Some(&json!([{"uid": "someone-else"}])));
            }
            _ => panic!("must update"),
        }
    }

    #[test]
    fn managed_annotation_takes_over() {
        let existing = live(
            json!({"metadata": {"name": "db", "annotations": {MANAGED_ANNOTATION: "true"}}, "data": {"a": "YQ=="}}),
        );
        match plan(desired(&unsealed(&[(MANAGED_ANNOTATION, "true")]), &OWNER), Some(&existing), UID) {
            Plan::Update(next) => {
                assert!(next.is_controlled_by(UID));
                assert_eq!(get(&next, &["data"]), Some(&json!({"password": "aHVudGVyMg=="})));
            }
            _ => panic!("must update"),
        }
    }

    #[test]
    fn synced_condition_flips_and_tracks_generation() {
        let (status, write) = synced(None, None, 1, "2026-01-01T00:00:00Z");
        assert!(write);
        assert_eq!(status["observedGeneration"], 1);
        assert_eq!(status["conditions"][0]["status"], "True");
        assert_eq!(status["conditions"][0]["lastTransitionTime"], "2026-01-01T00:00:00Z");
        let (again, write) = synced(Some(&status), None, 1, "2026-01-02T00:00:00Z");
        assert!(!write, "same status, same generation: nothing to write");
        assert_eq!(again["conditions"][0]["lastTransitionTime"], "2026-01-01T00:00:00Z");
        let (failed, write) =
            synced(Some(&again), Some("no key could decrypt secret (password)"), 1, "2026-01-03T00:00:00Z");
        assert!(write);
        assert_eq!(failed["conditions"][0]["status"], "False");
        assert_eq!(failed["conditions"][0]["message"], "no key could decrypt secret (password)");
        let (_, write) =
            synced(Some(&failed), Some("no key could decrypt secret (password)"), 2, "2026-01-04T00:00:00Z");
        assert!(write, "a new generation must be observed");
    }

    #[test]
    fn immutable_errors_are_recognised() {
        assert!(is_immutable_error(
            "Secret \"db\" is invalid: data: Forbidden: field is immutable when `immutable` is set"
        ));
        assert!(!is_immutable_error("conflict"));
        assert!(immutable_message("prod/db").starts_with("Error updating prod/db: the target Secret is immutable."));
    }
}
