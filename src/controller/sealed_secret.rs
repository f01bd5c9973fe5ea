//! The SealedSecret reconciler (`shared/specs/sealed-secrets.md` §3.1–§3.3, upstream
//! `pkg/controller/controller.go`). For each SealedSecret: unseal with every key →
//! [`reconcile::desired`] → GET the Secret → [`reconcile::plan`] → create or update → an Event
//! with upstream's reason → the `Synced` condition through the status subresource.
//!
//! Triggers, as upstream: a SealedSecret whose `spec` changed (status- and metadata-only updates
//! are ignored), and the deletion of a Secret it controls (or one annotated `managed`), unless
//! `--skip-recreate`. Deleting a SealedSecret leaves nothing behind: its Secret carries an owner
//! reference and is garbage-collected. With `--old-gc-behavior` the controller also deletes the
//! same-named Secret itself, whoever owns it, as upstream's `controller.go` does (§3.2).
//!
//! Retries back off exponentially. Up to `--max-unseal-retries` failures of unsealing or of the
//! ownership check are retried, then the controller gives up until the spec changes; immutable
//! Secrets are never retried. Transient API failures (5xx, conflicts, timeouts) are retried
//! without counting against that limit, so a flaky API server cannot make it give up.
//!
//! Nothing here logs or puts into an Event a Secret, a plaintext or a decrypted item: messages
//! name objects and items only.

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt as _;
use k8s_openapi::api::core::v1::Secret as KubeSecret;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams};
use kube::core::PartialObjectMeta;
use kube::runtime::controller::{Action, Config as ControllerConfig};
use kube::runtime::reflector::{self, ObjectRef};
use kube::runtime::{Controller, PredicateConfig, WatchStreamExt as _, watcher};
use kube::{Api, ResourceExt as _};
use serde_json::{Value, json};
use tokio::sync::{Semaphore, watch};

use crate::daemon::Shared;
use crate::sealed::document::{API_VERSION, DocumentError, KIND, SealedSecret};
use crate::sealed::reconcile::{self, MANAGED_ANNOTATION, Owner, Plan, SecretObject};

/// Errors of one reconcile; the message is what the Event and the condition say.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReconcileError {
    /// The object could not be read as a SealedSecret.
    #[error("{0}")]
    Decode(String),
    /// No key opened it, a template failed, or v1 data was refused.
    #[error("{0}")]
    Unseal(String),
    /// The live Secret belongs to someone else.
    #[error("failed update: {0}")]
    Unmanaged(String),
    /// The live Secret is immutable and differs.
    #[error("{0}")]
    Immutable(String),
    /// The Secret could not be read.
    #[error("cannot get the Secret: {0}")]
    Fetch(#[source] kube::Error),
    /// The Secret could not be written.
    #[error("{0}")]
    Update(#[source] kube::Error),
}

impl ReconcileError {
    /// A stable identifier; also upstream's metric reason.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Decode(_) | Self::Unseal(_) => "unseal",
            Self::Unmanaged(_) => "unmanaged",
            Self::Immutable(_) | Self::Update(_) => "update",
            Self::Fetch(_) => "fetch",
        }
    }

    /// API hiccups: retried without limit (with backoff).
    fn is_transient(&self) -> bool {
        match self {
            Self::Fetch(e) | Self::Update(e) => match e {
                kube::Error::Api(status) => status.code >= 500 || status.code == 409 || status.code == 429,
                _ => true,
            },
            _ => false,
        }
    }
}

/// The SealedSecret API resource (`bitnami.com/v1alpha1`, plural `sealedsecrets`).
pub fn sealed_secret_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk("bitnami.com", "v1alpha1", KIND), "sealedsecrets")
}

struct Context {
    shared: Arc<Shared>,
    resource: ApiResource,
    /// One unseal per core at a time: RSA is the cost, and more would only queue on the cores.
    unseal_slots: Semaphore,
    /// (namespace, name, uid, generation) → failures so far.
    retries: Mutex<HashMap<(String, String, String, i64), u32>>,
}

/// Runs the controller over every watched namespace until `stopped`.
pub async fn run(shared: Arc<Shared>, stopped: watch::Receiver<bool>) {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let context = Arc::new(Context {
        shared: shared.clone(),
        resource: sealed_secret_resource(),
        unseal_slots: Semaphore::new(cores),
        retries: Mutex::new(HashMap::new()),
    });
    let scopes: Vec<Option<String>> = match shared.config.watched_namespaces() {
        None => vec![None],
        Some(list) => list.into_iter().map(Some).collect(),
    };
    let mut tasks = tokio::task::JoinSet::new();
    for scope in scopes {
        tasks.spawn(run_scope(context.clone(), scope, stopped.clone()));
    }
    while tasks.join_next().await.is_some() {}
}

/// Hash of `spec`: upstream queues an update only when the spec changed (`reflect.DeepEqual`).
fn spec_hash(object: &DynamicObject) -> Option<u64> {
    let mut hasher = DefaultHasher::new();
    serde_json::to_string(&object.data.get("spec")).unwrap_or_default().hash(&mut hasher);
    Some(hasher.finish())
}

async fn run_scope(context: Arc<Context>, namespace: Option<String>, mut stopped: watch::Receiver<bool>) {
    let shared = &context.shared;
    let client = shared.client.clone();
    let resource = context.resource.clone();
    let sealed_api: Api<DynamicObject> = match &namespace {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &resource),
        None => Api::all_with(client.clone(), &resource),
    };
    let mut watch_config = watcher::Config::default();
    if let Some(selector) = &shared.config.label_selector {
        watch_config = watch_config.labels(selector);
    }
    let writer = reflector::store::Writer::new(resource.clone());
    let reader = writer.as_reader();
    let metrics_shared = shared.clone();
    let sealed_stream = watcher(sealed_api, watch_config.clone())
        .default_backoff()
        .reflect(writer)
        .inspect({
            let mut vanished = Vanished::default();
            move |event| {
                let Ok(event) = event else { return };
                for (namespace, name) in vanished.observe(event) {
                    metrics_shared.metrics.unseal_request();
                    metrics_shared.metrics.forget(&namespace, &name);
                    if metrics_shared.config.old_gc_behavior {
                        tokio::spawn(delete_secret(metrics_shared.clone(), namespace, name));
                    }
                }
            }
        })
        .applied_objects()
        .predicate_filter(spec_hash, PredicateConfig::default());

    let mut controller = Controller::for_stream_with(sealed_stream, reader, resource.clone())
        .with_config(ControllerConfig::default().concurrency(u16::try_from(shared.config.concurrency).unwrap_or(8)));
    if !shared.config.skip_recreate {
        // Metadata only: the controller never needs other Secrets' data to notice a delete.
        let secret_api: Api<PartialObjectMeta<KubeSecret>> = match &namespace {
            Some(ns) => Api::namespaced(client.clone(), ns),
            None => Api::all(client.clone()),
        };
        let owner_resource = resource.clone();
        let deleted = watcher(secret_api, watch_config).default_backoff().filter_map(move |event| {
            let found = match event {
                Ok(watcher::Event::Delete(meta)) => owner_of_deleted(&meta.metadata, &owner_resource),
                _ => None,
            };
            std::future::ready(found)
        });
        controller = controller.reconcile_on(deleted);
    }
    controller
        .graceful_shutdown_on(async move {
            let _ = stopped.changed().await;
        })
        .run(reconcile, error_policy, context)
        .for_each(|_| std::future::ready(()))
        .await;
}

/// Which SealedSecrets are gone: those the watch reports deleted, and those missing from the
/// re-list after a watch gap (the watcher reports no delete for them; client-go's informer
/// hands upstream a `DeletedFinalStateUnknown` then, which it treats as a delete).
#[derive(Default)]
struct Vanished {
    known: std::collections::HashSet<(String, String)>,
    relisted: std::collections::HashSet<(String, String)>,
}

impl Vanished {
    /// Feeds one watch event; returns the (namespace, name) of SealedSecrets now gone.
    fn observe(&mut self, event: &watcher::Event<DynamicObject>) -> Vec<(String, String)> {
        let id = |o: &DynamicObject| (o.namespace().unwrap_or_default(), o.name_any());
        match event {
            watcher::Event::Apply(object) => {
                self.known.insert(id(object));
                Vec::new()
            }
            watcher::Event::Delete(object) => {
                let gone = id(object);
                self.known.remove(&gone);
                vec![gone]
            }
            watcher::Event::Init => {
                self.relisted.clear();
                Vec::new()
            }
            watcher::Event::InitApply(object) => {
                self.relisted.insert(id(object));
                Vec::new()
            }
            watcher::Event::InitDone => {
                let listed = std::mem::take(&mut self.relisted);
                let mut gone: Vec<_> = self.known.difference(&listed).cloned().collect();
                gone.sort();
                self.known = listed;
                gone
            }
        }
    }
}

/// `--old-gc-behavior`: the SealedSecret `namespace/name` is gone, so its Secret goes too.
/// Upstream deletes the same-named Secret without looking at it (no ownership check) and
/// ignores NotFound; a failure is retried like a failed unseal, up to `--max-unseal-retries`.
async fn delete_secret(shared: Arc<Shared>, namespace: String, name: String) {
    let secrets: Api<DynamicObject> =
        Api::namespaced_with(shared.client.clone(), &namespace, &ApiResource::erase::<KubeSecret>(&()));
    let mut failures = 0;
    loop {
        match secrets.delete(&name, &kube::api::DeleteParams::default()).await {
            Ok(_) => {
                tracing::info!(namespace = %namespace, name = %name, "SealedSecret has gone, Secret deleted (--old-gc-behavior)");
                return;
            }
            Err(kube::Error::Api(status)) if status.code == 404 => return,
            Err(e) => {
                failures += 1;
                if failures > shared.config.max_unseal_retries {
                    tracing::warn!(namespace = %namespace, name = %name, error = %e, "giving up deleting the Secret of a deleted SealedSecret");
                    return;
                }
                tracing::warn!(namespace = %namespace, name = %name, error = %e, "cannot delete the Secret of a deleted SealedSecret; retrying");
                tokio::time::sleep(backoff(failures)).await;
            }
        }
    }
}

/// The SealedSecret to re-queue when this Secret is deleted (§3.2): the same-named one, when it
/// controlled the Secret or the Secret was annotated `managed`.
fn owner_of_deleted(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    resource: &ApiResource,
) -> Option<ObjectRef<DynamicObject>> {
    let name = meta.name.as_deref()?;
    let controlled = meta
        .owner_references
        .iter()
        .flatten()
        .any(|r| r.controller == Some(true) && r.kind == KIND && r.api_version == API_VERSION && r.name == name);
    let managed = meta.annotations.as_ref().and_then(|a| a.get(MANAGED_ANNOTATION)).map(String::as_str) == Some("true");
    if !(controlled || managed) {
        return None;
    }
    let reference = ObjectRef::new_with(name, resource.clone());
    Some(match meta.namespace.as_deref() {
        Some(ns) => reference.within(ns),
        None => reference,
    })
}

fn retry_key(object: &DynamicObject) -> (String, String, String, i64) {
    (
        object.namespace().unwrap_or_default(),
        object.name_any(),
        object.uid().unwrap_or_default(),
        object.metadata.generation.unwrap_or_default(),
    )
}

async fn reconcile(object: Arc<DynamicObject>, context: Arc<Context>) -> Result<Action, ReconcileError> {
    if object.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let shared = &context.shared;
    let namespace = object.namespace().unwrap_or_default();
    let name = object.name_any();
    shared.metrics.unseal_request();
    let outcome = unseal_into_secret(&object, &context).await;
    let error_text = outcome.as_ref().err().map(ToString::to_string);
    match &outcome {
        Ok(()) => tracing::info!(namespace = %namespace, name = %name, "SealedSecret unsealed"),
        Err(e) => {
            shared.metrics.unseal_error(e.kind(), &namespace);
            tracing::warn!(namespace = %namespace, name = %name, reason = e.kind(), error = %e, "SealedSecret not unsealed");
        }
    }
    if shared.config.update_status {
        write_status(&object, &context, error_text.as_deref()).await;
    }
    shared.metrics.condition(&namespace, &name, outcome.is_ok());
    match outcome {
        Ok(()) => {
            context.retries.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&retry_key(&object));
            Ok(Action::await_change())
        }
        // Upstream does not retry these: only deleting and recreating the Secret helps.
        Err(ReconcileError::Immutable(_)) => Ok(Action::await_change()),
        Err(e) => Err(e),
    }
}

fn error_policy(object: Arc<DynamicObject>, error: &ReconcileError, context: Arc<Context>) -> Action {
    let mut retries = context.retries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let count = retries.entry(retry_key(&object)).or_insert(0);
    if !error.is_transient() {
        *count += 1;
        if *count > context.shared.config.max_unseal_retries {
            tracing::warn!(
                namespace = %object.namespace().unwrap_or_default(),
                name = %object.name_any(),
                retries = context.shared.config.max_unseal_retries,
                "giving up on this SealedSecret until its spec changes"
            );
            return Action::await_change();
        }
    }
    Action::requeue(backoff(*count))
}

/// 200 ms doubling per counted failure, at most one minute.
fn backoff(failures: u32) -> Duration {
    Duration::from_millis(200).saturating_mul(1u32 << failures.min(9)).min(Duration::from_secs(60))
}

/// A message fit for an Event: decryption failures name items only; a parse error of
/// decrypted v1 data could quote plaintext, so only its kind is shown.
fn safe_message(error: &DocumentError, legacy: bool) -> String {
    match error {
        DocumentError::Unseal { message, .. } => message.clone(),
        DocumentError::Template { .. } => error.to_string(),
        _ if legacy => format!("cannot decode the deprecated v1 data in spec.data ({})", error.kind()),
        _ => error.to_string(),
    }
}

async fn unseal_into_secret(object: &DynamicObject, context: &Context) -> Result<(), ReconcileError> {
    let shared = &context.shared;
    let namespace = object.namespace().unwrap_or_default();
    let name = object.name_any();
    let uid = object.uid().unwrap_or_default();
    let mut value = serde_json::to_value(object).map_err(|e| ReconcileError::Decode(e.to_string()))?;
    if let Some(map) = value.as_object_mut() {
        map.insert("apiVersion".into(), json!(API_VERSION));
        map.insert("kind".into(), json!(KIND));
        map.remove("status");
    }
    let sealed: SealedSecret = match serde_json::from_value(value) {
        Ok(s) => s,
        Err(e) => {
            let message = format!("SealedSecret {namespace}/{name}: {e}");
            event(context, object, "Warning", reconcile::REASON_UNSEAL_FAILED, &format!("Failed to unseal: {message}"))
                .await;
            return Err(ReconcileError::Decode(message));
        }
    };
    let legacy = sealed.spec.data.is_some();
    if legacy && !shared.config.accept_deprecated_v1_data {
        let message = "spec.data: the deprecated v1 format is refused (--accept-deprecated-v1-data=false)".to_owned();
        event(context, object, "Warning", reconcile::REASON_UNSEAL_FAILED, &format!("Failed to unseal: {message}"))
            .await;
        return Err(ReconcileError::Unseal(message));
    }
    let keys = shared.keys.snapshot();
    let unsealed = {
        let _slot = context.unseal_slots.acquire().await;
        tokio::task::spawn_blocking(move || sealed.unseal(&keys.private_keys()))
            .await
            .map_err(|_| ReconcileError::Unseal("the unseal task failed".into()))?
    };
    let secret = match unsealed {
        Ok(secret) => secret,
        Err(e) => {
            let message = safe_message(&e, legacy);
            event(context, object, "Warning", reconcile::REASON_UNSEAL_FAILED, &format!("Failed to unseal: {message}"))
                .await;
            return Err(ReconcileError::Unseal(message));
        }
    };
    let desired = reconcile::desired(&secret, &Owner { name: &name, uid: &uid });
    drop(secret);
    let secrets: Api<DynamicObject> =
        Api::namespaced_with(shared.client.clone(), &namespace, &ApiResource::erase::<KubeSecret>(&()));
    let existing = secrets.get_opt(&name).await.map_err(ReconcileError::Fetch)?;
    let existing = existing.map(|live| match serde_json::to_value(live) {
        Ok(Value::Object(map)) => SecretObject::from_map(map),
        _ => SecretObject::from_map(serde_json::Map::new()),
    });
    let write = match reconcile::plan(desired, existing.as_ref(), &uid) {
        Plan::Unchanged => Ok(()),
        Plan::Unmanaged(message) => {
            event(context, object, "Warning", reconcile::REASON_UPDATE_FAILED, &message).await;
            return Err(ReconcileError::Unmanaged(message));
        }
        Plan::Create(body) => match to_dynamic(&body) {
            // The cache may still hold a SealedSecret just deleted (its Secret's deletion by the
            // garbage collector triggers this run): creating would leave an orphan behind.
            Some(_) if !still_exists(context, &namespace, &name, &uid).await? => return Ok(()),
            Some(body) => secrets.create(&PostParams::default(), &body).await.map(drop),
            None => return Err(ReconcileError::Decode("cannot build the Secret".into())),
        },
        Plan::Update(body) => match to_dynamic(&body) {
            Some(body) => secrets.replace(&name, &PostParams::default(), &body).await.map(drop),
            None => return Err(ReconcileError::Decode("cannot build the Secret".into())),
        },
    };
    if let Err(e) = write {
        let text = e.to_string();
        if reconcile::is_immutable_error(&text) {
            let message = reconcile::immutable_message(&format!("{namespace}/{name}"));
            event(context, object, "Warning", reconcile::REASON_UPDATE_FAILED, &message).await;
            return Err(ReconcileError::Immutable(message));
        }
        event(context, object, "Warning", reconcile::REASON_UPDATE_FAILED, &text).await;
        return Err(ReconcileError::Update(e));
    }
    event(context, object, "Normal", reconcile::REASON_UNSEALED, reconcile::MESSAGE_UNSEALED).await;
    Ok(())
}

/// True when the SealedSecret `namespace/name` with `uid` is still in the API server.
async fn still_exists(context: &Context, namespace: &str, name: &str, uid: &str) -> Result<bool, ReconcileError> {
    let api: Api<DynamicObject> = Api::namespaced_with(context.shared.client.clone(), namespace, &context.resource);
    let live = api.get_opt(name).await.map_err(ReconcileError::Fetch)?;
    Ok(live.is_some_and(|o| o.uid().as_deref() == Some(uid) && o.metadata.deletion_timestamp.is_none()))
}

/// The request body for a Secret (its data stays out of logs: `DynamicObject` is never printed).
fn to_dynamic(secret: &SecretObject) -> Option<DynamicObject> {
    serde_json::from_slice(&secret.to_json()).ok()
}

/// Writes the `Synced` condition when it changed or the generation is new (§3.2).
async fn write_status(object: &DynamicObject, context: &Context, error: Option<&str>) {
    let generation = object.metadata.generation.unwrap_or_default();
    let (status, needed) =
        reconcile::synced(object.data.get("status"), error, generation, &crate::daemon::now_rfc3339());
    if !needed {
        return;
    }
    let namespace = object.namespace().unwrap_or_default();
    let api: Api<DynamicObject> = Api::namespaced_with(context.shared.client.clone(), &namespace, &context.resource);
    let patch = json!({ "status": status });
    if let Err(e) = api.patch_status(&object.name_any(), &PatchParams::default(), &Patch::Merge(&patch)).await {
        context.shared.metrics.unseal_error("status", &namespace);
        tracing::warn!(namespace = %namespace, name = %object.name_any(), error = %e, "cannot update the SealedSecret status");
    }
}

/// Records a core `v1` Event on the SealedSecret (component `sealed-secrets`, §3.3). Failing to
/// record one is logged, never fatal.
async fn event(context: &Context, object: &DynamicObject, type_: &str, reason: &str, message: &str) {
    let namespace = object.namespace().unwrap_or_default();
    let name = object.name_any();
    let now = crate::daemon::now_rfc3339();
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let body = json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": { "name": format!("{name}.{nanos:x}"), "namespace": namespace },
        "involvedObject": {
            "apiVersion": API_VERSION,
            "kind": KIND,
            "name": name,
            "namespace": namespace,
            "uid": object.uid().unwrap_or_default(),
            "resourceVersion": object.resource_version().unwrap_or_default(),
        },
        "reason": reason,
        "message": message,
        "type": type_,
        "source": { "component": "sealed-secrets" },
        "reportingComponent": "sealed-secrets",
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
    });
    let Ok(body) = serde_json::from_value::<DynamicObject>(body) else { return };
    let events: Api<DynamicObject> = Api::namespaced_with(
        context.shared.client.clone(),
        &namespace,
        &ApiResource::erase::<k8s_openapi::api::core::v1::Event>(&()),
    );
    if let Err(e) = events.create(&PostParams::default(), &body).await {
        tracing::warn!(namespace = %namespace, name = %name, reason, error = %e, "cannot record an Event");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

    fn owner(kind: &str, name: &str) -> OwnerReference {
        OwnerReference {
            api_version: API_VERSION.into(),
            kind: kind.into(),
            name: name.into(),
            uid: "u".into(),
            controller: Some(true),
            block_owner_deletion: None,
        }
    }

    #[test]
    fn deleting_a_controlled_or_managed_secret_requeues_its_sealed_secret() {
        let resource = sealed_secret_resource();
        let controlled = ObjectMeta {
            name: Some("db".into()),
            namespace: Some("prod".into()),
            owner_references: Some(vec![owner(KIND, "db")]),
            ..ObjectMeta::default()
        };
        let found = owner_of_deleted(&controlled, &resource).expect("requeued");
        assert_eq!(found.name, "db");
        assert_eq!(found.namespace.as_deref(), Some("prod"));
        let managed = ObjectMeta {
            name: Some("db".into()),
            namespace: Some("prod".into()),
            annotations: Some([(MANAGED_ANNOTATION.to_owned(), "true".to_owned())].into()),
            ..ObjectMeta::default()
        };
        assert!(owner_of_deleted(&managed, &resource).is_some());
        let foreign = ObjectMeta {
            name: Some("db".into()),
            owner_references: Some(vec![owner("Deployment", "db")]),
            ..ObjectMeta::default()
        };
        assert!(owner_of_deleted(&foreign, &resource).is_none());
    }

    #[test]
    fn spec_changes_trigger_and_status_changes_do_not() {
        let mut a: DynamicObject = serde_json::from_value(json!({
            "apiVersion": API_VERSION, "kind": KIND, "metadata": {"name": "x"},
            "spec": {"encryptedData": {"k": "AgA"}}
        }))
        .expect("object");
        let before = spec_hash(&a);
        a.data["status"] = json!({"observedGeneration": 1});
        a.metadata.labels = Some([("l".to_owned(), "v".to_owned())].into());
        assert_eq!(spec_hash(&a), before);
        a.data["spec"]["encryptedData"]["k"] = json!("AgB");
        assert_ne!(spec_hash(&a), before);
    }

    #[test]
    fn sealed_secrets_missing_from_a_relist_count_as_deleted() {
        let object = |ns: &str, name: &str| -> DynamicObject {
            serde_json::from_value(json!({
                "apiVersion": API_VERSION, "kind": KIND, "metadata": {"name": name, "namespace": ns}
            }))
            .expect("object")
        };
        let id = |ns: &str, name: &str| (ns.to_owned(), name.to_owned());
        let mut vanished = Vanished::default();
        // The first list: nothing was known, so nothing is gone.
        assert!(vanished.observe(&watcher::Event::Init).is_empty());
        for name in ["a", "b", "c"] {
            assert!(vanished.observe(&watcher::Event::InitApply(object("p", name))).is_empty());
        }
        assert!(vanished.observe(&watcher::Event::InitDone).is_empty());
        assert!(vanished.observe(&watcher::Event::Apply(object("q", "d"))).is_empty());
        assert_eq!(vanished.observe(&watcher::Event::Delete(object("p", "a"))), vec![id("p", "a")]);
        // The watch drops; b and d were deleted meanwhile, e was created.
        vanished.observe(&watcher::Event::Init);
        vanished.observe(&watcher::Event::InitApply(object("p", "c")));
        vanished.observe(&watcher::Event::InitApply(object("p", "e")));
        assert_eq!(vanished.observe(&watcher::Event::InitDone), vec![id("p", "b"), id("q", "d")]);
        vanished.observe(&watcher::Event::Init);
        assert_eq!(vanished.observe(&watcher::Event::InitDone), vec![id("p", "c"), id("p", "e")]);
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(0), Duration::from_millis(200));
        assert_eq!(backoff(3), Duration::from_millis(1600));
        assert_eq!(backoff(30), Duration::from_secs(60));
    }

    #[test]
    fn legacy_parse_errors_do_not_quote_the_plaintext() {
        let e = DocumentError::Parse { what: "x".into(), format: "JSON", message: "near 'hunter2'".into() };
        assert!(!safe_message(&e, true).contains("hunter2"));
    }
}
