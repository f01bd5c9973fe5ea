//! The object store and the semantics of each write: resourceVersion, uid, generation,
//! managedFields, optimistic concurrency, finalizers, garbage collection, namespace and CRD
//! lifecycle, and the event history that watches replay.
//!
//! One lock guards everything and every write happens under it, so events get strictly
//! increasing resourceVersions in commit order, as etcd's revision gives them upstream.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

use base64::Engine as _;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use crate::fields::{self, Scope, Writer};
use crate::patch;
use crate::registry::{Registry, ResourceType, StoreKey};
use crate::selector::{FieldSelector, LabelSelector};

/// A Kubernetes `Status` failure, carried to the client as the response body.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    /// HTTP status code.
    pub code: u16,
    /// `reason` (`NotFound`, `AlreadyExists`, `Conflict`, `Invalid`, ...).
    pub reason: &'static str,
    /// Human-readable message, worded as kube-apiserver words it.
    pub message: String,
    /// `details` (name, group, kind, causes).
    pub details: Option<Value>,
}

impl ApiError {
    /// An error without details.
    pub fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        ApiError { code, reason, message: message.into(), details: None }
    }

    fn about(mut self, rt: &ResourceType, name: &str) -> Self {
        self.details = Some(json!({"name": name, "group": rt.group, "kind": rt.plural}));
        self
    }

    /// `404 NotFound` for an object.
    pub fn not_found(rt: &ResourceType, name: &str) -> Self {
        Self::new(404, "NotFound", format!("{} \"{name}\" not found", rt.qualified())).about(rt, name)
    }

    /// `400 BadRequest`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    /// `422 Invalid` for one field of an object.
    pub fn invalid(rt: &ResourceType, name: &str, field: &str, detail: &str) -> Self {
        let mut e = Self::new(422, "Invalid", format!("{} \"{name}\" is invalid: {field}: {detail}", rt.kind));
        e.details = Some(json!({
            "name": name, "group": rt.group, "kind": rt.kind,
            "causes": [{"reason": "FieldValueInvalid", "message": detail, "field": field}],
        }));
        e
    }

    fn conflict(rt: &ResourceType, name: &str, why: &str) -> Self {
        Self::new(409, "Conflict", format!("Operation cannot be fulfilled on {} \"{name}\": {why}", rt.qualified()))
            .about(rt, name)
    }

    /// The `Status` object.
    pub fn to_status(&self) -> Value {
        let mut s = json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": self.message, "reason": self.reason, "code": self.code,
        });
        if let Some(d) = &self.details {
            s["details"] = d.clone();
        }
        s
    }
}

/// The kind of a watch event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    /// Created (or, for a filtered watch, entered the selection).
    Added,
    /// Changed.
    Modified,
    /// Gone (or left the selection).
    Deleted,
}

impl EventType {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One committed change.
#[derive(Debug)]
pub struct Event {
    /// The resourceVersion of the change.
    pub rv: u64,
    /// What resource.
    pub key: StoreKey,
    /// The object's namespace (`""` when cluster-scoped).
    pub namespace: String,
    /// What happened.
    pub kind: EventType,
    /// The object after the change (the last state for deletions).
    pub object: Value,
    /// The object before, for selector transitions.
    pub old: Option<Value>,
}

/// What a watch follows.
#[derive(Clone, Debug)]
pub struct WatchFilter {
    /// The resource.
    pub key: StoreKey,
    /// One namespace, or all.
    pub namespace: Option<String>,
    /// Label selector.
    pub labels: LabelSelector,
    /// Field selector.
    pub fields: FieldSelector,
}

impl WatchFilter {
    fn selects(&self, obj: &Value) -> bool {
        self.labels.matches(obj) && self.fields.matches(obj)
    }

    /// What a watcher with this filter sees of an event: upstream turns a change that moves an
    /// object into the selection into ADDED and out of it into DELETED.
    pub fn view<'e>(&self, ev: &'e Event) -> Option<(EventType, &'e Value)> {
        if ev.key != self.key || self.namespace.as_ref().is_some_and(|n| *n != ev.namespace) {
            return None;
        }
        let now = self.selects(&ev.object);
        let before = ev.old.as_ref().is_some_and(|o| self.selects(o));
        match (ev.kind, before, now) {
            (EventType::Modified, true, true) => Some((EventType::Modified, &ev.object)),
            (EventType::Modified, false, true) => Some((EventType::Added, &ev.object)),
            (EventType::Modified, true, false) => Some((EventType::Deleted, &ev.object)),
            (EventType::Modified, false, false) => None,
            (kind, _, true) => Some((kind, &ev.object)),
            (_, _, false) => None,
        }
    }
}

/// A registered watch: what happened since the requested version, then the live feed.
pub struct WatchStart {
    /// Events to send first (replayed history, or synthetic ADDED for the current state).
    pub initial: Vec<(EventType, Value)>,
    /// The resourceVersion the initial events bring the watcher to.
    pub rv: u64,
    /// Every later committed event (all resources; the watcher filters).
    pub feed: mpsc::UnboundedReceiver<Arc<Event>>,
}

/// Deletion options (query parameters and the `DeleteOptions` body).
#[derive(Clone, Debug, Default)]
pub struct DeleteOptions {
    /// `Background` (default), `Foreground` or `Orphan`.
    pub propagation: Option<String>,
    /// `preconditions.uid`.
    pub uid: Option<String>,
    /// `preconditions.resourceVersion`.
    pub resource_version: Option<String>,
    /// `dryRun=All`.
    pub dry_run: bool,
}

/// What a DELETE answers.
pub enum Deleted {
    /// The object still exists (finalizers pending); its current state.
    Pending(Value),
    /// The object is gone: a `Status` Success.
    Gone(Value),
}

/// Namespaces that exist when the server starts, as in a fresh cluster.
const INITIAL_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];
const CRD_GROUP: &str = "apiextensions.k8s.io";

type Objects = BTreeMap<(String, String), Value>;

/// The whole server state.
pub struct State {
    /// The resource table.
    pub registry: Registry,
    objects: BTreeMap<StoreKey, Objects>,
    rv: u64,
    history: VecDeque<Arc<Event>>,
    history_limit: usize,
    /// Highest resourceVersion no longer in the history (a watch from before it gets 410).
    compacted: u64,
    watchers: Vec<mpsc::UnboundedSender<Arc<Event>>>,
    terminating: BTreeSet<(StoreKey, String, String)>,
    rng: u64,
}

/// The current time as kube-apiserver writes it (RFC 3339, whole seconds, UTC).
pub fn now() -> String {
    let t = time::OffsetDateTime::now_utc();
    let t = t.replace_nanosecond(0).unwrap_or(t);
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

fn meta_str<'a>(obj: &'a Value, field: &str) -> Option<&'a str> {
    obj.get("metadata")?.get(field)?.as_str()
}

fn meta_mut(obj: &mut Value) -> &mut Map<String, Value> {
    if !obj.get("metadata").is_some_and(Value::is_object) {
        obj["metadata"] = json!({});
    }
    match obj.get_mut("metadata") {
        Some(Value::Object(m)) => m,
        // Unreachable: set to an object just above.
        _ => unreachable!("metadata was just made an object"),
    }
}

fn finalizers(obj: &Value) -> Vec<String> {
    obj.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

fn set_finalizers(obj: &mut Value, list: &[String]) {
    let meta = meta_mut(obj);
    if list.is_empty() {
        meta.remove("finalizers");
    } else {
        meta.insert("finalizers".into(), json!(list));
    }
}

/// The object without metadata (and status when `status_separate`), for generation bumps.
fn spec_part(obj: &Value, status_separate: bool) -> Value {
    let mut v = obj.clone();
    if let Value::Object(m) = &mut v {
        m.remove("metadata");
        if status_separate {
            m.remove("status");
        }
    }
    v
}

/// Serves a stored object under the version of the request (no conversion: the apiVersion
/// changes, the body does not, as with a CRD whose conversion strategy is `None`).
pub fn serve_as(obj: &Value, rt: &ResourceType) -> Value {
    let mut out = obj.clone();
    out["apiVersion"] = json!(rt.api_version());
    out["kind"] = json!(rt.kind);
    out
}

impl State {
    /// A fresh cluster: built-in types and the initial namespaces.
    pub fn new(history_limit: usize, seed: u64) -> Self {
        let mut s = State {
            registry: Registry::builtin(),
            objects: BTreeMap::new(),
            rv: 1,
            history: VecDeque::new(),
            history_limit,
            compacted: 0,
            watchers: Vec::new(),
            terminating: BTreeSet::new(),
            rng: seed | 1,
        };
        let ns_type = s.registry.find("", "v1", "namespaces").cloned();
        if let Some(rt) = ns_type {
            for name in INITIAL_NAMESPACES {
                let body = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
                // Cannot fail: a fresh store, a valid body.
                let _ = s.create(&rt, None, body, "kube-apiserver", false);
            }
        }
        s
    }

    /// The latest resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.rv
    }

    /// Forgets the event history: watches resuming from any earlier version get 410 Gone.
    pub fn compact(&mut self) {
        self.history.clear();
        self.compacted = self.rv;
    }

    fn random(&mut self) -> u64 {
        // xorshift64*: deterministic per seed, good enough for names and uids.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn uid(&mut self) -> String {
        let (a, b) = (self.random(), self.random());
        format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            b >> 52,
            b & 0xffff_ffff_ffff
        )
    }

    /// The suffix `generateName` gets: five characters of kube-apiserver's alphabet.
    fn name_suffix(&mut self) -> String {
        const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
        let mut r = self.random();
        (0..5)
            .map(|_| {
                let c = ALPHABET[(r % ALPHABET.len() as u64) as usize] as char;
                r /= ALPHABET.len() as u64;
                c
            })
            .collect()
    }

    /// One object, as stored.
    pub fn get_raw(&self, key: &StoreKey, namespace: &str, name: &str) -> Option<&Value> {
        self.objects.get(key)?.get(&(namespace.to_string(), name.to_string()))
    }

    /// All objects of a resource, optionally in one namespace, ordered by namespace and name.
    pub fn list_raw(&self, key: &StoreKey, namespace: Option<&str>) -> Vec<&Value> {
        self.objects
            .get(key)
            .map(|m| m.iter().filter(|((ns, _), _)| namespace.is_none_or(|n| n == ns)).map(|(_, v)| v).collect())
            .unwrap_or_default()
    }

    fn ns_key(rt: &ResourceType, namespace: Option<&str>) -> String {
        if rt.namespaced { namespace.unwrap_or_default().to_string() } else { String::new() }
    }

    /// GET one object.
    pub fn get(&self, rt: &ResourceType, namespace: Option<&str>, name: &str) -> Result<Value, ApiError> {
        self.get_raw(&rt.store_key(), &Self::ns_key(rt, namespace), name)
            .map(|o| serve_as(o, rt))
            .ok_or_else(|| ApiError::not_found(rt, name))
    }

    /// LIST, with selectors and `limit`/`continue` paging (the token is the last key served).
    pub fn list(
        &self,
        rt: &ResourceType,
        namespace: Option<&str>,
        labels: &LabelSelector,
        fields: &FieldSelector,
        limit: Option<usize>,
        continue_after: Option<&str>,
    ) -> Result<Value, ApiError> {
        let after = match continue_after {
            Some(token) => Some(
                token
                    .split_once('/')
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .ok_or_else(|| ApiError::bad_request(format!("invalid continue token \"{token}\"")))?,
            ),
            None => None,
        };
        let mut items = Vec::new();
        let mut next = None;
        if let Some(map) = self.objects.get(&rt.store_key()) {
            for ((ns, name), obj) in map {
                if namespace.is_some_and(|n| n != ns) {
                    continue;
                }
                if after.as_ref().is_some_and(|(a_ns, a_name)| (ns, name) <= (a_ns, a_name)) {
                    continue;
                }
                if !(labels.matches(obj) && fields.matches(obj)) {
                    continue;
                }
                if limit.is_some_and(|l| l > 0 && items.len() == l) {
                    next = items.last().map(|o: &Value| {
                        format!(
                            "{}/{}",
                            meta_str(o, "namespace").unwrap_or_default(),
                            meta_str(o, "name").unwrap_or_default()
                        )
                    });
                    break;
                }
                items.push(serve_as(obj, rt));
            }
        }
        let mut metadata = json!({"resourceVersion": self.rv.to_string()});
        if let Some(token) = next {
            metadata["continue"] = json!(token);
        }
        Ok(json!({
            "kind": format!("{}List", rt.kind),
            "apiVersion": rt.api_version(),
            "metadata": metadata,
            "items": items,
        }))
    }

    fn check_body(rt: &ResourceType, body: &Value, namespace: Option<&str>) -> Result<(), ApiError> {
        if !body.is_object() {
            return Err(ApiError::bad_request("the body of the request was not a JSON object"));
        }
        if let Some(kind) = body.get("kind").and_then(Value::as_str)
            && kind != rt.kind
        {
            return Err(ApiError::bad_request(format!(
                "the kind of the provided object ({kind}) does not match the kind of the request ({})",
                rt.kind
            )));
        }
        if let Some(av) = body.get("apiVersion").and_then(Value::as_str)
            && av != rt.api_version()
        {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({av}) does not match the expected API version ({})",
                rt.api_version()
            )));
        }
        if rt.namespaced
            && let (Some(url), Some(inbody)) = (namespace, meta_str(body, "namespace"))
            && url != inbody
            && !inbody.is_empty()
        {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        Ok(())
    }

    fn check_namespace(&self, rt: &ResourceType, namespace: &str) -> Result<(), ApiError> {
        if !rt.namespaced {
            return Ok(());
        }
        let key = StoreKey { group: String::new(), plural: "namespaces".into() };
        match self.get_raw(&key, "", namespace) {
            None => {
                Err(ApiError::new(404, "NotFound", format!("namespaces \"{namespace}\" not found")).about_ns(namespace))
            }
            Some(ns) if ns.pointer("/metadata/deletionTimestamp").is_some() => Err(ApiError::new(
                403,
                "Forbidden",
                format!(
                    "{} is forbidden: unable to create new content in namespace {namespace} because it is being terminated",
                    rt.qualified()
                ),
            )),
            Some(_) => Ok(()),
        }
    }

    /// POST: create an object.
    pub fn create(
        &mut self,
        rt: &ResourceType,
        namespace: Option<&str>,
        body: Value,
        manager: &str,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        self.create_with(rt, namespace, body, dry_run, |old, new, time| {
            let w = Writer { manager, api_version: &rt.api_version(), time, scope: main_scope(rt) };
            fields::record_update(old, new, &w);
            Ok(())
        })
    }

    fn create_with(
        &mut self,
        rt: &ResourceType,
        namespace: Option<&str>,
        mut body: Value,
        dry_run: bool,
        manage: impl FnOnce(Option<&Value>, &mut Value, &str) -> Result<(), ApiError>,
    ) -> Result<Value, ApiError> {
        Self::check_body(rt, &body, namespace)?;
        let ns = Self::ns_key(rt, namespace);
        if rt.namespaced && ns.is_empty() {
            return Err(ApiError::bad_request(
                "the server could not find the requested resource: a namespace is required",
            ));
        }
        let mut name = meta_str(&body, "name").unwrap_or_default().to_string();
        if name.is_empty() {
            let Some(prefix) = meta_str(&body, "generateName").map(str::to_string) else {
                return Err(ApiError::invalid(
                    rt,
                    "",
                    "metadata.name",
                    "Required value: name or generateName is required",
                ));
            };
            name = format!("{prefix}{}", self.name_suffix());
        }
        self.check_namespace(rt, &ns)?;
        if self.get_raw(&rt.store_key(), &ns, &name).is_some() {
            return Err(ApiError::new(409, "AlreadyExists", format!("{} \"{name}\" already exists", rt.qualified()))
                .about(rt, &name));
        }
        let time = now();
        body["apiVersion"] = json!(rt.api_version());
        body["kind"] = json!(rt.kind);
        if rt.status
            && let Value::Object(m) = &mut body
        {
            // The status strategy clears status on create.
            m.remove("status");
        }
        let uid = self.uid();
        {
            let meta = meta_mut(&mut body);
            meta.insert("name".into(), json!(name));
            if rt.namespaced {
                meta.insert("namespace".into(), json!(ns));
            } else {
                meta.remove("namespace");
            }
            meta.insert("uid".into(), json!(uid));
            meta.insert("creationTimestamp".into(), json!(time));
            for f in ["resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"] {
                meta.remove(f);
            }
            if rt.generation {
                meta.insert("generation".into(), json!(1));
            } else {
                meta.remove("generation");
            }
        }
        manage(None, &mut body, &time)?;
        fold_string_data(rt, &mut body);
        self.defaults_on_create(rt, &mut body)?;
        if dry_run {
            return Ok(body);
        }
        let stored = self.commit(rt, &ns, &name, body, EventType::Added, None);
        self.after_write(rt, &stored)?;
        Ok(serve_as(&stored, rt))
    }

    /// What kube-apiserver and its controllers add at creation for a few built-ins.
    fn defaults_on_create(&self, rt: &ResourceType, obj: &mut Value) -> Result<(), ApiError> {
        match (rt.group.as_str(), rt.plural.as_str()) {
            ("", "namespaces") => {
                let name = meta_str(obj, "name").unwrap_or_default().to_string();
                let labels = meta_mut(obj).entry("labels").or_insert_with(|| json!({}));
                labels["kubernetes.io/metadata.name"] = json!(name);
                obj["spec"] = json!({"finalizers": ["kubernetes"]});
                obj["status"] = json!({"phase": "Active"});
            }
            (CRD_GROUP, "customresourcedefinitions") => {
                let name = meta_str(obj, "name").unwrap_or_default().to_string();
                Registry::types_from_crd(obj).map_err(|e| {
                    let (field, detail) = e.split_once(": ").unwrap_or(("spec", e.as_str()));
                    ApiError::invalid(rt, &name, field, detail)
                })?;
                obj["status"] = crd_status(obj);
            }
            _ => {}
        }
        Ok(())
    }

    /// Registers CRD types after a CRD write.
    fn after_write(&mut self, rt: &ResourceType, obj: &Value) -> Result<(), ApiError> {
        if rt.group == CRD_GROUP && rt.plural == "customresourcedefinitions" {
            let types = Registry::types_from_crd(obj)
                .map_err(|e| ApiError::invalid(rt, meta_str(obj, "name").unwrap_or_default(), "spec", &e))?;
            if let Some(first) = types.first() {
                let (group, plural) = (first.group.clone(), first.plural.clone());
                self.registry.set_custom(&group, &plural, types);
            }
        }
        Ok(())
    }

    /// Stores an object under a new resourceVersion and records the event.
    fn commit(
        &mut self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        mut obj: Value,
        kind: EventType,
        old: Option<Value>,
    ) -> Value {
        self.rv += 1;
        meta_mut(&mut obj).insert("resourceVersion".into(), json!(self.rv.to_string()));
        self.objects.entry(rt.store_key()).or_default().insert((ns.to_string(), name.to_string()), obj.clone());
        if obj.pointer("/metadata/deletionTimestamp").is_some() {
            self.terminating.insert((rt.store_key(), ns.to_string(), name.to_string()));
        }
        self.emit(rt.store_key(), ns, kind, obj.clone(), old);
        obj
    }

    fn emit(&mut self, key: StoreKey, ns: &str, kind: EventType, object: Value, old: Option<Value>) {
        let ev = Arc::new(Event { rv: self.rv, key, namespace: ns.to_string(), kind, object, old });
        self.history.push_back(ev.clone());
        while self.history.len() > self.history_limit {
            if let Some(dropped) = self.history.pop_front() {
                self.compacted = dropped.rv;
            }
        }
        self.watchers.retain(|w| w.send(ev.clone()).is_ok());
    }

    /// Removes an object for good: DELETED event, then garbage collection of its dependents.
    fn remove(&mut self, key: &StoreKey, ns: &str, name: &str) {
        let Some(mut obj) = self.objects.get_mut(key).and_then(|m| m.remove(&(ns.to_string(), name.to_string())))
        else {
            return;
        };
        self.terminating.remove(&(key.clone(), ns.to_string(), name.to_string()));
        self.rv += 1;
        meta_mut(&mut obj).insert("resourceVersion".into(), json!(self.rv.to_string()));
        let uid = meta_str(&obj, "uid").unwrap_or_default().to_string();
        self.emit(key.clone(), ns, EventType::Deleted, obj.clone(), None);
        if key.group == CRD_GROUP
            && key.plural == "customresourcedefinitions"
            && let Ok(types) = Registry::types_from_crd(&obj)
            && let Some(t) = types.first()
        {
            let (g, p) = (t.group.clone(), t.plural.clone());
            self.registry.set_custom(&g, &p, Vec::new());
            self.objects.remove(&StoreKey { group: g, plural: p });
        }
        self.collect_garbage(&uid);
    }

    /// The garbage collector, run at once instead of eventually: dependents whose every owner
    /// is gone are deleted (background); the others lose the dangling reference.
    fn collect_garbage(&mut self, uid: &str) {
        if uid.is_empty() {
            return;
        }
        let live: BTreeSet<String> = self
            .objects
            .values()
            .flat_map(|m| m.values())
            .filter_map(|o| meta_str(o, "uid").map(str::to_string))
            .collect();
        let mut dependents = Vec::new();
        for (key, map) in &self.objects {
            for ((ns, name), obj) in map {
                let refs = obj.pointer("/metadata/ownerReferences").and_then(Value::as_array);
                if refs.is_some_and(|r| r.iter().any(|o| o.get("uid").and_then(Value::as_str) == Some(uid))) {
                    dependents.push((key.clone(), ns.clone(), name.clone()));
                }
            }
        }
        for (key, ns, name) in dependents {
            let Some(obj) = self.get_raw(&key, &ns, &name).cloned() else { continue };
            let refs: Vec<Value> =
                obj.pointer("/metadata/ownerReferences").and_then(Value::as_array).cloned().unwrap_or_default();
            let remaining: Vec<Value> = refs
                .into_iter()
                .filter(|r| r.get("uid").and_then(Value::as_str).is_some_and(|u| u != uid && live.contains(u)))
                .collect();
            let Some(rt) = self.registry.find_any_version(&key.group, &key.plural).cloned() else { continue };
            if remaining.is_empty() {
                // Cannot fail: the object exists and no preconditions are given.
                let _ = self.delete(&rt, Some(&ns), &name, &DeleteOptions::default());
            } else {
                let mut new = obj.clone();
                meta_mut(&mut new).insert("ownerReferences".into(), Value::Array(remaining));
                self.commit(&rt, &ns, &name, new, EventType::Modified, Some(obj));
            }
        }
    }

    /// Removes objects whose deletion is complete: deletionTimestamp set, no finalizers left,
    /// and for namespaces and CRDs nothing left inside.
    fn settle(&mut self) {
        loop {
            let mut done = None;
            for (key, ns, name) in &self.terminating {
                let Some(obj) = self.get_raw(key, ns, name) else { continue };
                if !finalizers(obj).is_empty() {
                    continue;
                }
                let empty = if key.group.is_empty() && key.plural == "namespaces" {
                    !self.objects.values().any(|m| m.keys().any(|(n, _)| n == name))
                } else if key.group == CRD_GROUP && key.plural == "customresourcedefinitions" {
                    let types = Registry::types_from_crd(obj).unwrap_or_default();
                    types.first().is_none_or(|t| self.objects.get(&t.store_key()).is_none_or(BTreeMap::is_empty))
                } else {
                    true
                };
                if empty {
                    done = Some((key.clone(), ns.clone(), name.clone()));
                    break;
                }
            }
            match done {
                Some((key, ns, name)) => self.remove(&key, &ns, &name),
                None => break,
            }
        }
    }

    fn check_rv(rt: &ResourceType, name: &str, current: &Value, given: Option<&str>) -> Result<(), ApiError> {
        match given {
            Some(rv) if !rv.is_empty() && Some(rv) != meta_str(current, "resourceVersion") => Err(ApiError::conflict(
                rt,
                name,
                "the object has been modified; please apply your changes to the latest version and try again",
            )),
            _ => Ok(()),
        }
    }

    /// Carries the server-owned parts of `old` into `new`, per endpoint.
    fn carry_over(rt: &ResourceType, old: &Value, new: &mut Value, scope: Scope) {
        match scope {
            Scope::Status => {
                // Only .status may change through the subresource (and the bookkeeping of who
                // changed it).
                let status = new.get("status").cloned();
                let managed = new.pointer("/metadata/managedFields").cloned();
                *new = old.clone();
                if let Some(mf) = managed {
                    meta_mut(new).insert("managedFields".into(), mf);
                }
                match status {
                    Some(s) => new["status"] = s,
                    None => {
                        if let Value::Object(m) = new {
                            m.remove("status");
                        }
                    }
                }
            }
            Scope::Main { status_owned_elsewhere } => {
                if status_owned_elsewhere {
                    match old.get("status") {
                        Some(s) => new["status"] = s.clone(),
                        None => {
                            if let Value::Object(m) = new {
                                m.remove("status");
                            }
                        }
                    }
                }
                new["apiVersion"] = json!(rt.api_version());
                new["kind"] = json!(rt.kind);
                let keep = [
                    "name",
                    "namespace",
                    "uid",
                    "creationTimestamp",
                    "deletionTimestamp",
                    "deletionGracePeriodSeconds",
                    "generation",
                ];
                let old_meta = old.get("metadata").and_then(Value::as_object).cloned().unwrap_or_default();
                let meta = meta_mut(new);
                for k in keep {
                    match old_meta.get(k) {
                        Some(v) => {
                            meta.insert(k.into(), v.clone());
                        }
                        None => {
                            meta.remove(k);
                        }
                    }
                }
            }
        }
    }

    /// Shared tail of update, patch and apply: rv precondition, carry-over, generation,
    /// managedFields, commit, finalization.
    #[allow(clippy::too_many_arguments)]
    fn write_existing(
        &mut self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        old: Value,
        mut new: Value,
        scope: Scope,
        dry_run: bool,
        manage: impl FnOnce(&Value, &mut Value, &str) -> Result<(), ApiError>,
    ) -> Result<Value, ApiError> {
        Self::check_rv(rt, name, &old, meta_str(&new, "resourceVersion"))?;
        Self::carry_over(rt, &old, &mut new, scope);
        let time = now();
        manage(&old, &mut new, &time)?;
        fold_string_data(rt, &mut new);
        check_immutable(rt, name, &old, &new)?;
        if rt.generation && spec_part(&old, rt.status) != spec_part(&new, rt.status) {
            let g = old.pointer("/metadata/generation").and_then(Value::as_i64).unwrap_or(0);
            meta_mut(&mut new).insert("generation".into(), json!(g + 1));
        }
        if rt.group == CRD_GROUP && rt.plural == "customresourcedefinitions" && scope != Scope::Status {
            Registry::types_from_crd(&new).map_err(|e| {
                let (field, detail) = e.split_once(": ").unwrap_or(("spec", e.as_str()));
                ApiError::invalid(rt, name, field, detail)
            })?;
            let current = new.pointer("/status/acceptedNames") == new.pointer("/spec/names")
                && new.pointer("/status/conditions").is_some();
            if !current {
                new["status"] = crd_status(&new);
            }
        }
        // Resource version is the server's: equal objects compare equal without it.
        meta_mut(&mut new).insert("resourceVersion".into(), old["metadata"]["resourceVersion"].clone());
        if new == old {
            // A no-op write commits nothing and keeps the resourceVersion, as upstream.
            return Ok(serve_as(&old, rt));
        }
        if dry_run {
            return Ok(serve_as(&new, rt));
        }
        let stored = self.commit(rt, ns, name, new, EventType::Modified, Some(old));
        self.after_write(rt, &stored)?;
        self.settle();
        Ok(serve_as(&stored, rt))
    }

    fn existing(&self, rt: &ResourceType, ns: &str, name: &str) -> Result<Value, ApiError> {
        self.get_raw(&rt.store_key(), ns, name).cloned().ok_or_else(|| ApiError::not_found(rt, name))
    }

    /// PUT, on the main endpoint or `/status`.
    #[allow(clippy::too_many_arguments)]
    pub fn update(
        &mut self,
        rt: &ResourceType,
        namespace: Option<&str>,
        name: &str,
        body: Value,
        manager: &str,
        status: bool,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        Self::check_body(rt, &body, namespace)?;
        if meta_str(&body, "name").is_some_and(|n| n != name) {
            return Err(ApiError::bad_request("the name of the object does not match the name on the URL"));
        }
        let ns = Self::ns_key(rt, namespace);
        let old = self.existing(rt, &ns, name)?;
        let scope = if status { Scope::Status } else { main_scope(rt) };
        let api_version = rt.api_version();
        self.write_existing(rt, &ns, name, old, body, scope, dry_run, |old, new, time| {
            let w = Writer { manager, api_version: &api_version, time, scope };
            fields::record_update(Some(old), new, &w);
            Ok(())
        })
    }

    /// PATCH with a merge, strategic-merge or JSON patch.
    #[allow(clippy::too_many_arguments)]
    pub fn patch(
        &mut self,
        rt: &ResourceType,
        namespace: Option<&str>,
        name: &str,
        content_type: PatchType,
        body: &Value,
        manager: &str,
        status: bool,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        let ns = Self::ns_key(rt, namespace);
        let old = self.existing(rt, &ns, name)?;
        let mut new = old.clone();
        match content_type {
            PatchType::Merge | PatchType::StrategicMerge => patch::merge_patch(&mut new, body),
            PatchType::Json => patch::json_patch(&mut new, body).map_err(|e| {
                ApiError::new(
                    422,
                    "Invalid",
                    format!("the server rejected our request due to an error in our request: {e}"),
                )
            })?,
        }
        Self::check_body(rt, &new, namespace)?;
        let scope = if status { Scope::Status } else { main_scope(rt) };
        let api_version = rt.api_version();
        self.write_existing(rt, &ns, name, old, new, scope, dry_run, |old, new, time| {
            let w = Writer { manager, api_version: &api_version, time, scope };
            fields::record_update(Some(old), new, &w);
            Ok(())
        })
    }

    /// PATCH with `application/apply-patch+yaml`: server-side apply, creating if absent.
    #[allow(clippy::too_many_arguments)]
    pub fn apply(
        &mut self,
        rt: &ResourceType,
        namespace: Option<&str>,
        name: &str,
        config: &Value,
        manager: &str,
        force: bool,
        status: bool,
        dry_run: bool,
    ) -> Result<(Value, bool), ApiError> {
        Self::check_body(rt, config, namespace)?;
        if config.get("apiVersion").is_none() || config.get("kind").is_none() {
            return Err(ApiError::bad_request("apiVersion and kind are required in a server-side apply configuration"));
        }
        if meta_str(config, "name").is_some_and(|n| n != name) {
            return Err(ApiError::bad_request("the name of the object does not match the name on the URL"));
        }
        let ns = Self::ns_key(rt, namespace);
        let scope = if status { Scope::Status } else { main_scope(rt) };
        let api_version = rt.api_version();
        let conflict = |conflicts: Vec<fields::Conflict>| {
            let (message, causes) = fields::conflict_status_parts(&conflicts);
            let mut e = ApiError::new(409, "Conflict", message);
            e.details = Some(json!({"name": name, "group": rt.group, "kind": rt.plural, "causes": causes}));
            e
        };
        match self.get_raw(&rt.store_key(), &ns, name).cloned() {
            None => {
                if status {
                    return Err(ApiError::not_found(rt, name));
                }
                let mut body = config.clone();
                meta_mut(&mut body).insert("name".into(), json!(name));
                let created = self.create_with(rt, namespace, body, dry_run, |_, new, time| {
                    let w = Writer { manager, api_version: &api_version, time, scope };
                    let mut bare = new.clone();
                    meta_mut(&mut bare).remove("managedFields");
                    let out = fields::apply(None, &bare, &w, force).map_err(conflict)?;
                    if let Some(mf) = out.pointer("/metadata/managedFields") {
                        meta_mut(new).insert("managedFields".into(), mf.clone());
                    }
                    Ok(())
                })?;
                Ok((created, true))
            }
            Some(old) => {
                let w = Writer { manager, api_version: &api_version, time: &now(), scope };
                let merged = fields::apply(Some(&old), config, &w, force).map_err(conflict)?;
                let updated = self.write_existing(rt, &ns, name, old, merged, scope, dry_run, |_, _, _| Ok(()))?;
                Ok((updated, false))
            }
        }
    }

    /// DELETE one object, honouring finalizers and the propagation policy.
    pub fn delete(
        &mut self,
        rt: &ResourceType,
        namespace: Option<&str>,
        name: &str,
        opts: &DeleteOptions,
    ) -> Result<Deleted, ApiError> {
        let ns = Self::ns_key(rt, namespace);
        let old = self.existing(rt, &ns, name)?;
        if let Some(uid) = &opts.uid
            && Some(uid.as_str()) != meta_str(&old, "uid")
        {
            return Err(ApiError::conflict(
                rt,
                name,
                &format!(
                    "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                    meta_str(&old, "uid").unwrap_or_default()
                ),
            ));
        }
        if let Some(rv) = &opts.resource_version
            && Some(rv.as_str()) != meta_str(&old, "resourceVersion")
        {
            return Err(ApiError::conflict(
                rt,
                name,
                &format!(
                    "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}",
                    meta_str(&old, "resourceVersion").unwrap_or_default()
                ),
            ));
        }
        if opts.dry_run {
            return Ok(Deleted::Pending(serve_as(&old, rt)));
        }
        let mut fins = finalizers(&old);
        let policy = opts.propagation.as_deref().unwrap_or("Background");
        let special = fins.is_empty()
            && ((rt.group.is_empty() && rt.plural == "namespaces")
                || (rt.group == CRD_GROUP && rt.plural == "customresourcedefinitions"));
        match policy {
            "Orphan" if !fins.iter().any(|f| f == "orphan") => fins.push("orphan".into()),
            "Foreground" if !fins.iter().any(|f| f == "foregroundDeletion") => fins.push("foregroundDeletion".into()),
            "Orphan" | "Foreground" | "Background" => {}
            other => {
                return Err(ApiError::bad_request(format!(
                    "DeleteOptions.propagationPolicy: Unsupported value: \"{other}\""
                )));
            }
        }
        if fins.is_empty() && !special {
            let uid = meta_str(&old, "uid").unwrap_or_default().to_string();
            self.remove(&rt.store_key(), &ns, name);
            self.settle();
            let mut details = json!({"name": name, "group": rt.group, "kind": rt.plural});
            details["uid"] = json!(uid);
            return Ok(Deleted::Gone(json!({
                "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                "details": details,
            })));
        }
        // Graceful: mark, let finalizers run, remove when they are all gone.
        let mut marked = old.clone();
        set_finalizers(&mut marked, &fins);
        if old.pointer("/metadata/deletionTimestamp").is_none() {
            let meta = meta_mut(&mut marked);
            meta.insert("deletionTimestamp".into(), json!(now()));
            meta.insert("deletionGracePeriodSeconds".into(), json!(0));
        }
        if rt.group.is_empty() && rt.plural == "namespaces" {
            marked["status"]["phase"] = json!("Terminating");
        }
        let marked =
            if marked != old { self.commit(rt, &ns, name, marked, EventType::Modified, Some(old)) } else { old };
        let reply = serve_as(&marked, rt);
        self.run_deletion_controllers(rt, &ns, name, &marked);
        self.settle();
        Ok(Deleted::Pending(reply))
    }

    /// What the garbage collector, the namespace controller and the CRD finalizer do once an
    /// object is marked for deletion, done at once.
    fn run_deletion_controllers(&mut self, rt: &ResourceType, ns: &str, name: &str, obj: &Value) {
        let uid = meta_str(obj, "uid").unwrap_or_default().to_string();
        let fins = finalizers(obj);
        if fins.iter().any(|f| f == "orphan") {
            self.orphan_dependents(&uid);
            self.drop_finalizer(rt, ns, name, "orphan");
        }
        if fins.iter().any(|f| f == "foregroundDeletion") {
            for (key, dns, dname) in self.dependents_of(&uid) {
                if let Some(drt) = self.registry.find_any_version(&key.group, &key.plural).cloned() {
                    let _ = self.delete(&drt, Some(&dns), &dname, &DeleteOptions::default());
                }
            }
            self.drop_finalizer(rt, ns, name, "foregroundDeletion");
        }
        if rt.group.is_empty() && rt.plural == "namespaces" {
            let inside: Vec<(StoreKey, String)> = self
                .objects
                .iter()
                .flat_map(|(k, m)| m.keys().filter(|(n, _)| n == name).map(|(_, o)| (k.clone(), o.clone())))
                .collect();
            for (key, oname) in inside {
                if let Some(ort) = self.registry.find_any_version(&key.group, &key.plural).cloned() {
                    let _ = self.delete(&ort, Some(name), &oname, &DeleteOptions::default());
                }
            }
        }
        if rt.group == CRD_GROUP && rt.plural == "customresourcedefinitions" {
            let types = Registry::types_from_crd(obj).unwrap_or_default();
            if let Some(crt) = types.first() {
                let names: Vec<(String, String)> =
                    self.objects.get(&crt.store_key()).map(|m| m.keys().cloned().collect()).unwrap_or_default();
                for (cns, cname) in names {
                    let _ = self.delete(crt, Some(&cns), &cname, &DeleteOptions::default());
                }
            }
        }
    }

    fn dependents_of(&self, uid: &str) -> Vec<(StoreKey, String, String)> {
        let mut out = Vec::new();
        for (key, map) in &self.objects {
            for ((ns, name), obj) in map {
                let refs = obj.pointer("/metadata/ownerReferences").and_then(Value::as_array);
                if refs.is_some_and(|r| r.iter().any(|o| o.get("uid").and_then(Value::as_str) == Some(uid))) {
                    out.push((key.clone(), ns.clone(), name.clone()));
                }
            }
        }
        out
    }

    fn orphan_dependents(&mut self, uid: &str) {
        for (key, ns, name) in self.dependents_of(uid) {
            let Some(old) = self.get_raw(&key, &ns, &name).cloned() else { continue };
            let Some(rt) = self.registry.find_any_version(&key.group, &key.plural).cloned() else { continue };
            let mut new = old.clone();
            let refs: Vec<Value> = old
                .pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter(|o| o.get("uid").and_then(Value::as_str) != Some(uid)).cloned().collect())
                .unwrap_or_default();
            let meta = meta_mut(&mut new);
            if refs.is_empty() {
                meta.remove("ownerReferences");
            } else {
                meta.insert("ownerReferences".into(), Value::Array(refs));
            }
            self.commit(&rt, &ns, &name, new, EventType::Modified, Some(old));
        }
    }

    fn drop_finalizer(&mut self, rt: &ResourceType, ns: &str, name: &str, finalizer: &str) {
        let Some(old) = self.get_raw(&rt.store_key(), ns, name).cloned() else { return };
        let mut new = old.clone();
        let fins: Vec<String> = finalizers(&old).into_iter().filter(|f| f != finalizer).collect();
        set_finalizers(&mut new, &fins);
        self.commit(rt, ns, name, new, EventType::Modified, Some(old));
    }

    /// DELETE on a collection: every selected object, returned as a list.
    pub fn delete_collection(
        &mut self,
        rt: &ResourceType,
        namespace: Option<&str>,
        labels: &LabelSelector,
        fields: &FieldSelector,
        opts: &DeleteOptions,
    ) -> Result<Value, ApiError> {
        let list = self.list(rt, namespace, labels, fields, None, None)?;
        let mut items = Vec::new();
        for obj in list["items"].as_array().cloned().unwrap_or_default() {
            let ns = meta_str(&obj, "namespace").map(str::to_string);
            let name = meta_str(&obj, "name").unwrap_or_default().to_string();
            match self.delete(rt, ns.as_deref(), &name, opts)? {
                Deleted::Pending(o) => items.push(o),
                Deleted::Gone(_) => items.push(obj),
            }
        }
        Ok(json!({
            "kind": format!("{}List", rt.kind),
            "apiVersion": rt.api_version(),
            "metadata": {"resourceVersion": self.rv.to_string()},
            "items": items,
        }))
    }

    /// Registers a watch. `since`: `None` or `Some(0)` start with the current state as ADDED
    /// events; a later version replays the history after it (410 Gone once compacted).
    pub fn watch(
        &mut self,
        rt: &ResourceType,
        filter: &WatchFilter,
        since: Option<u64>,
        send_initial: bool,
    ) -> Result<WatchStart, ApiError> {
        let mut initial = Vec::new();
        match since {
            Some(rv) if rv > 0 && !send_initial => {
                if rv < self.compacted {
                    return Err(ApiError::new(
                        410,
                        "Expired",
                        format!("too old resource version: {rv} ({})", self.compacted + 1),
                    ));
                }
                for ev in self.history.iter().filter(|e| e.rv > rv) {
                    if let Some((kind, obj)) = filter.view(ev) {
                        initial.push((kind, serve_as(obj, rt)));
                    }
                }
            }
            _ => {
                for obj in self.list_raw(&filter.key, filter.namespace.as_deref()) {
                    if filter.selects(obj) {
                        initial.push((EventType::Added, serve_as(obj, rt)));
                    }
                }
            }
        }
        let (tx, feed) = mpsc::unbounded_channel();
        self.watchers.push(tx);
        Ok(WatchStart { initial, rv: self.rv, feed })
    }
}

impl ApiError {
    fn about_ns(mut self, namespace: &str) -> Self {
        self.details = Some(json!({"name": namespace, "kind": "namespaces"}));
        self
    }
}

/// The patch flavours of PATCH (apply is separate).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchType {
    /// `application/merge-patch+json`.
    Merge,
    /// `application/strategic-merge-patch+json`, served as a merge patch.
    StrategicMerge,
    /// `application/json-patch+json`.
    Json,
}

/// Secrets: `stringData` is write-only; kube-apiserver folds it into `data` (base64) on every
/// write, `stringData` winning over `data` for the same key.
fn fold_string_data(rt: &ResourceType, obj: &mut Value) {
    if !(rt.group.is_empty() && rt.plural == "secrets") {
        return;
    }
    let Some(Value::Object(strings)) = obj.as_object_mut().and_then(|m| m.remove("stringData")) else {
        return;
    };
    if !obj.get("data").is_some_and(Value::is_object) {
        obj["data"] = json!({});
    }
    for (k, v) in strings {
        let text = match v {
            Value::String(s) => s,
            other => other.to_string(),
        };
        obj["data"][k] = json!(base64::engine::general_purpose::STANDARD.encode(text));
    }
}

/// Secrets and ConfigMaps marked `immutable: true` refuse changes to their payload and to the
/// flag itself (kube-apiserver's validation of both types).
fn check_immutable(rt: &ResourceType, name: &str, old: &Value, new: &Value) -> Result<(), ApiError> {
    let payload: &[&str] = match (rt.group.as_str(), rt.plural.as_str()) {
        ("", "secrets") => &["data", "type"],
        ("", "configmaps") => &["data", "binaryData"],
        _ => return Ok(()),
    };
    if old.get("immutable") != Some(&Value::Bool(true)) {
        return Ok(());
    }
    if new.get("immutable") != Some(&Value::Bool(true)) {
        return Err(ApiError::invalid(rt, name, "immutable", "Forbidden: field is immutable when `immutable` is set"));
    }
    for field in payload {
        if old.get(*field) != new.get(*field) {
            return Err(ApiError::invalid(rt, name, field, "Forbidden: field is immutable when `immutable` is set"));
        }
    }
    Ok(())
}

fn main_scope(rt: &ResourceType) -> Scope {
    Scope::Main { status_owned_elsewhere: rt.status }
}

/// The status kube-apiserver's CRD controllers set once names are accepted.
fn crd_status(crd: &Value) -> Value {
    let time = now();
    let condition = |kind: &str, reason: &str, message: &str| json!({"type": kind, "status": "True", "lastTransitionTime": time, "reason": reason, "message": message});
    let stored: Vec<Value> = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .map(|vs| {
            vs.iter()
                .filter(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
                .filter_map(|v| v.get("name").cloned())
                .collect()
        })
        .unwrap_or_default();
    json!({
        "conditions": [
            condition("NamesAccepted", "NoConflicts", "no conflicts found"),
            condition("Established", "InitialNamesAccepted", "the initial names have been accepted"),
        ],
        "acceptedNames": crd.pointer("/spec/names").cloned().unwrap_or(json!({})),
        "storedVersions": stored,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> State {
        State::new(100, 7)
    }

    fn rt(s: &State, group: &str, version: &str, plural: &str) -> ResourceType {
        s.registry.find(group, version, plural).cloned().expect("registered")
    }

    fn cm(name: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"a": "1"}})
    }

    #[test]
    fn create_sets_server_fields_and_refuses_duplicates_and_missing_namespaces() {
        let mut s = state();
        let t = rt(&s, "", "v1", "configmaps");
        let made = s.create(&t, Some("default"), cm("x"), "test", false).expect("created");
        assert_eq!(made["metadata"]["namespace"], "default");
        assert!(made["metadata"]["uid"].as_str().is_some_and(|u| u.len() == 36));
        assert!(made["metadata"].get("generation").is_none(), "ConfigMaps carry no generation");
        let dup = s.create(&t, Some("default"), cm("x"), "test", false).expect_err("dup");
        assert_eq!((dup.code, dup.reason), (409, "AlreadyExists"));
        assert_eq!(dup.message, "configmaps \"x\" already exists");
        let missing = s.create(&t, Some("nope"), cm("x"), "test", false).expect_err("no ns");
        assert_eq!((missing.code, missing.message.as_str()), (404, "namespaces \"nope\" not found"));
    }

    #[test]
    fn stale_update_conflicts_and_no_op_keeps_the_version() {
        let mut s = state();
        let t = rt(&s, "", "v1", "configmaps");
        let made = s.create(&t, Some("default"), cm("x"), "test", false).expect("created");
        let mut changed = made.clone();
        changed["data"]["a"] = json!("2");
        let updated = s.update(&t, Some("default"), "x", changed.clone(), "test", false, false).expect("ok");
        assert_ne!(updated["metadata"]["resourceVersion"], made["metadata"]["resourceVersion"]);
        let stale = s.update(&t, Some("default"), "x", changed, "test", false, false).expect_err("stale");
        assert_eq!((stale.code, stale.reason), (409, "Conflict"));
        let same = s.update(&t, Some("default"), "x", updated.clone(), "test", false, false).expect("no-op");
        assert_eq!(same["metadata"]["resourceVersion"], updated["metadata"]["resourceVersion"]);
    }

    #[test]
    fn generation_moves_with_spec_not_status_or_metadata() {
        let mut s = state();
        let t = rt(&s, "apps", "v1", "deployments");
        let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
                       "spec": {"replicas": 1}, "status": {"replicas": 9}});
        let made = s.create(&t, Some("default"), d, "test", false).expect("created");
        assert_eq!(made["metadata"]["generation"], 1);
        assert!(made.get("status").is_none(), "status is cleared on create");
        let labelled = s
            .patch(
                &t,
                Some("default"),
                "d",
                PatchType::Merge,
                &json!({"metadata": {"labels": {"a": "b"}}}),
                "t",
                false,
                false,
            )
            .expect("ok");
        assert_eq!(labelled["metadata"]["generation"], 1);
        let status = s
            .patch(&t, Some("default"), "d", PatchType::Merge, &json!({"status": {"replicas": 1}}), "t", true, false)
            .expect("ok");
        assert_eq!(
            (status["metadata"]["generation"].clone(), status["status"]["replicas"].clone()),
            (json!(1), json!(1))
        );
        let ignored = s
            .patch(&t, Some("default"), "d", PatchType::Merge, &json!({"status": {"replicas": 5}}), "t", false, false)
            .expect("ok");
        assert_eq!(ignored["status"]["replicas"], 1, "main endpoint ignores status");
        let spec = s
            .patch(&t, Some("default"), "d", PatchType::Merge, &json!({"spec": {"replicas": 3}}), "t", false, false)
            .expect("ok");
        assert_eq!(spec["metadata"]["generation"], 2);
    }

    #[test]
    fn secrets_fold_string_data_and_immutable_ones_refuse_changes() {
        let mut s = state();
        let t = rt(&s, "", "v1", "secrets");
        let body = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                          "immutable": true, "data": {"a": "eA=="}, "stringData": {"b": "hello"}});
        let made = s.create(&t, Some("default"), body, "t", false).expect("created");
        assert_eq!(made["data"], json!({"a": "eA==", "b": "aGVsbG8="}));
        assert!(made.get("stringData").is_none());
        let err = s
            .patch(&t, Some("default"), "s", PatchType::Merge, &json!({"data": {"a": null}}), "t", false, false)
            .expect_err("immutable");
        assert_eq!((err.code, err.reason), (422, "Invalid"));
    }

    #[test]
    fn finalizers_hold_deletion_until_removed() {
        let mut s = state();
        let t = rt(&s, "", "v1", "configmaps");
        let mut body = cm("f");
        body["metadata"]["finalizers"] = json!(["example.com/hold"]);
        s.create(&t, Some("default"), body, "test", false).expect("created");
        let Ok(Deleted::Pending(obj)) = s.delete(&t, Some("default"), "f", &DeleteOptions::default()) else {
            panic!("expected a pending deletion");
        };
        assert!(obj["metadata"]["deletionTimestamp"].is_string());
        assert!(s.get(&t, Some("default"), "f").is_ok());
        s.patch(
            &t,
            Some("default"),
            "f",
            PatchType::Merge,
            &json!({"metadata": {"finalizers": null}}),
            "t",
            false,
            false,
        )
        .expect("ok");
        assert!(s.get(&t, Some("default"), "f").is_err());
    }

    #[test]
    fn garbage_collection_follows_owner_uids() {
        let mut s = state();
        let t = rt(&s, "", "v1", "configmaps");
        let owner = s.create(&t, Some("default"), cm("owner"), "t", false).expect("owner");
        let other = s.create(&t, Some("default"), cm("other"), "t", false).expect("other");
        let oref = |o: &Value| json!({"apiVersion": "v1", "kind": "ConfigMap", "name": o["metadata"]["name"], "uid": o["metadata"]["uid"]});
        let mut dep = cm("dep");
        dep["metadata"]["ownerReferences"] = json!([oref(&owner)]);
        s.create(&t, Some("default"), dep, "t", false).expect("dep");
        let mut shared = cm("shared");
        shared["metadata"]["ownerReferences"] = json!([oref(&owner), oref(&other)]);
        s.create(&t, Some("default"), shared, "t", false).expect("shared");
        s.delete(&t, Some("default"), "owner", &DeleteOptions::default()).expect("deleted");
        assert!(s.get(&t, Some("default"), "dep").is_err(), "sole dependent collected");
        let kept = s.get(&t, Some("default"), "shared").expect("still owned by other");
        assert_eq!(kept["metadata"]["ownerReferences"].as_array().map(Vec::len), Some(1));
    }

    #[test]
    fn watch_replays_history_and_expires_after_compaction() {
        let mut s = state();
        let t = rt(&s, "", "v1", "configmaps");
        let filter = WatchFilter {
            key: t.store_key(),
            namespace: Some("default".into()),
            labels: LabelSelector::default(),
            fields: FieldSelector::default(),
        };
        let from = s.resource_version();
        s.create(&t, Some("default"), cm("a"), "t", false).expect("a");
        s.delete(&t, Some("default"), "a", &DeleteOptions::default()).expect("gone");
        let w = s.watch(&t, &filter, Some(from), false).expect("watch");
        let kinds: Vec<_> = w.initial.iter().map(|(k, _)| *k).collect();
        assert_eq!(kinds, [EventType::Added, EventType::Deleted]);
        s.compact();
        let err = s.watch(&t, &filter, Some(from), false).err().expect("expired");
        assert_eq!(err.code, 410);
    }
}
