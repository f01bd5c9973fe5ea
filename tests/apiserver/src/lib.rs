//! An in-process Kubernetes API server for tests.
//!
//! No real kube-apiserver can run where sealops is tested, so this crate serves the parts of its
//! HTTP API that kube-rs (and `kubectl`) use, on `127.0.0.1` over plain HTTP, from memory. Tests
//! start one, build a kube client from [`ApiServerHandle::kubeconfig_yaml`], and assert through
//! the client or straight on the store ([`ApiServerHandle::get`], [`ApiServerHandle::list`],
//! [`ApiServerHandle::requests`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let server = sealops_test_apiserver::TestApiServer::start().await?;
//! let yaml = server.kubeconfig_yaml();
//! // kube::config::Kubeconfig::from_yaml(&yaml) → Config::from_custom_kubeconfig → Client
//! server.faults().conflict_next_writes(1);
//! # Ok(()) }
//! ```
//!
//! # Fidelity
//!
//! Tests may rely on the rows marked *reproduced*. Rows marked *approximated* behave close
//! enough for a client not to notice in ordinary use, but a test must not assert the
//! difference. Rows marked *absent* do not happen at all.
//!
//! | behaviour | here |
//! |---|---|
//! | discovery `/api`, `/api/v1`, `/apis`, `/apis/{g}`, `/apis/{g}/{v}`, `/version` | reproduced (resource lists with singular names, scope, kind, verbs, short names, categories, `…/status`) |
//! | aggregated discovery (`Accept: …;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList`) | reproduced (`Discovery::run_aggregated`); plain JSON otherwise (`Discovery::run`, `pinned_kind`) |
//! | built-in types | the table in `registry.rs` (core, apps, batch, autoscaling/v2, networking, rbac, policy, coordination, events.k8s.io, storage, scheduling, admissionregistration, apiextensions) |
//! | CRDs | reproduced: creating one serves its served versions (plural, kind, scope, short names, categories, status subresource) and sets `Established`/`NamesAccepted`; deleting one deletes its objects and unserves it |
//! | several served versions of one CRD | approximated: one stored object, served under each version with `apiVersion` rewritten (conversion strategy `None`) |
//! | create: uid, creationTimestamp, resourceVersion, generation 1, `generateName`, 409 AlreadyExists, 404 when the namespace does not exist, 403 when it is terminating | reproduced |
//! | resourceVersion | reproduced: one global counter (etcd revision); a no-op write keeps the version and sends no event |
//! | optimistic concurrency | reproduced: 409 Conflict when `metadata.resourceVersion` in a PUT or patch is stale; an empty one is unconditional |
//! | generation | reproduced: bumped when anything outside `metadata` (and `status` for types with the status subresource) changes |
//! | status subresource | reproduced: `/status` changes only `.status`; the main endpoint keeps the stored `.status`; create clears `.status` |
//! | label selectors (`=`, `==`, `!=`, `in`, `notin`, `key`, `!key`) | reproduced; set-based `>`/`<` are absent |
//! | field selectors | approximated: any dotted path with `=`, `==`, `!=` (upstream allows only a few fields per type and answers 400 for others) |
//! | list paging (`limit`, `continue`) | approximated: the continue token is the last key; later pages show the current state, not a snapshot; no `remainingItemCount` |
//! | list `resourceVersion`/`resourceVersionMatch` | approximated: every list is served from the current state |
//! | merge patch, JSON patch | reproduced |
//! | strategic merge patch | approximated as a JSON merge patch: lists are replaced, not merged by key; `$patch` directives ignored |
//! | server-side apply | reproduced: create on apply, `fieldManager` required, managedFields per manager and operation, conflicts → 409 with `FieldManagerConflict` causes, `force` takes ownership, equal values are shared, fields a manager stops applying are removed unless someone else owns them |
//! | managedFields of lists | approximated: every list is atomic (owned as a whole); upstream merges lists of built-in types by key (`k:{"name":…}`) |
//! | managedFields for Update operations | reproduced in form (operation `Update`, the writer takes the changed leaves) |
//! | dryRun=All | reproduced for create, update, patch, apply, delete |
//! | delete with finalizers | reproduced: deletionTimestamp set, object kept until the last finalizer goes |
//! | propagationPolicy Background / Foreground / Orphan | approximated: done at once within the DELETE (upstream's garbage collector runs later); the `orphan`/`foregroundDeletion` finalizers appear in the events |
//! | ownerReference garbage collection | approximated: when an owner is deleted its dependents are deleted at once if no other owner (by uid) is left, otherwise the dangling reference is dropped; dependents whose owner never existed are left alone (upstream deletes them) |
//! | namespace deletion | approximated: Terminating, its objects deleted at once, the namespace goes when empty |
//! | deletecollection | reproduced (returns the list of deleted objects) |
//! | watch: ADDED/MODIFIED/DELETED, selector transitions as ADDED/DELETED, `resourceVersion` resume, `timeoutSeconds`, BOOKMARK (`allowWatchBookmarks`, every `bookmark_interval`), `sendInitialEvents` with the `k8s.io/initial-events-end` bookmark | reproduced |
//! | watch from a compacted version | reproduced: an ERROR event with a 410 Expired Status (history bounded, see [`Builder::history_limit`], or [`ApiServerHandle::compact`]) |
//! | metadata-only responses (`as=PartialObjectMetadata`) | reproduced for get, list, watch and patch |
//! | Status error bodies (kind, status, reason, code, message, details) | reproduced for NotFound, AlreadyExists, Conflict, Invalid, BadRequest, Expired, Forbidden |
//! | default field manager | reproduced: the User-Agent up to the first `/` |
//! | Events (core v1, events.k8s.io/v1), Leases | ordinary resources, as upstream |
//! | admission (mutating/validating webhooks, quota, limit ranges), defaulting, OpenAPI schema validation, pruning unknown fields, immutable fields | absent |
//! | authentication, authorization (RBAC objects are stored, never enforced), impersonation | absent |
//! | protobuf, CBOR, Table output (`kubectl get` falls back to its own printing), `/openapi` | absent: a protobuf body gets 415, so `kubectl create`/`replace` of built-in types fail; `kubectl apply --server-side --validate=false`, `get`, `label`, `patch`, `delete` work |
//! | controllers (Deployments make no ReplicaSets or Pods, Services no Endpoints, ...) | absent |
//! | `services/{name[:port]}/proxy/{path}` | approximated: forwarded over HTTP/1.1 to the address registered with [`ApiServerHandle::proxy_service`] (port ignored; the Service object need not exist, upstream answers 404 without it); 503 when none is registered |
//! | scale subresource, `pods/log`, `exec`, pod proxy, `eviction`, other subresources | absent |
//! | TLS | absent: plain HTTP only |
//!
//! # Fault injection
//!
//! [`ApiServerHandle::faults`] returns the [`Faults`] switchboard: error statuses for the next N
//! matching requests or with a probability, 409 on writes, delays, and watches that end after N
//! events or some time. Rules match by verb and path fragment ([`Matcher`]).
//!
//! kube 5 clients retry 429 and 503 answers by default (`Config::default_retry`), so those
//! codes stay invisible to the caller unless they persist; 500 and 409 surface at once as
//! `kube::Error::Api`.

#![forbid(unsafe_code)]

mod faults;
mod fields;
mod patch;
mod registry;
mod selector;
mod server;
mod store;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

pub use faults::{Action, Faults, Matcher, Rule};
pub use registry::ResourceType;
pub use server::RequestRecord;

use server::Shared;
use store::State;

/// Errors of starting the server or writing its kubeconfig.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The listening socket could not be opened.
    #[error("test API server: cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The kubeconfig file could not be written.
    #[error("test API server: cannot write the kubeconfig to {path}: {source}")]
    WriteKubeconfig {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// A stable name for the error kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Bind { .. } => "bind",
            Error::WriteKubeconfig { .. } => "write_kubeconfig",
        }
    }
}

/// Entry point: [`TestApiServer::start`] or [`TestApiServer::builder`].
pub struct TestApiServer;

impl TestApiServer {
    /// Starts a server with the defaults on an ephemeral port of 127.0.0.1.
    pub async fn start() -> Result<ApiServerHandle, Error> {
        Self::builder().start().await
    }

    /// Settings before starting.
    pub fn builder() -> Builder {
        Builder::default()
    }
}

/// Server settings.
#[derive(Clone, Debug)]
pub struct Builder {
    port: u16,
    history_limit: usize,
    bookmark_interval: Duration,
    seed: u64,
}

impl Default for Builder {
    fn default() -> Self {
        Builder { port: 0, history_limit: 10_000, bookmark_interval: Duration::from_secs(1), seed: 0x05EA_10B5 }
    }
}

impl Builder {
    /// The port (default 0: any free one).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// How many events the watch history keeps; a watch resuming from an older version gets
    /// 410 Expired (default 10 000).
    pub fn history_limit(mut self, events: usize) -> Self {
        self.history_limit = events.max(1);
        self
    }

    /// How often watches that allow bookmarks get one (default 1 s; upstream: about a minute).
    pub fn bookmark_interval(mut self, every: Duration) -> Self {
        self.bookmark_interval = every.max(Duration::from_millis(10));
        self
    }

    /// Seed of uids and `generateName` suffixes (runs are reproducible per seed).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Binds and starts serving on the current tokio runtime.
    pub async fn start(self) -> Result<ApiServerHandle, Error> {
        let want = format!("127.0.0.1:{}", self.port);
        let listener = TcpListener::bind(&want).await.map_err(|source| Error::Bind { addr: want.clone(), source })?;
        let addr = listener.local_addr().map_err(|source| Error::Bind { addr: want, source })?;
        let (stop, stopped) = watch::channel(false);
        let shared = Arc::new(Shared {
            state: Mutex::new(State::new(self.history_limit, self.seed)),
            faults: Faults::default(),
            log: Mutex::new(Vec::new()),
            bookmark_interval: self.bookmark_interval,
            shutdown: stopped.clone(),
            addr,
            proxies: Mutex::new(std::collections::BTreeMap::new()),
        });
        let task = tokio::spawn(serve(listener, shared.clone(), stopped));
        Ok(ApiServerHandle { shared, addr, stop, task: Some(task) })
    }
}

async fn serve(listener: TcpListener, shared: Arc<Shared>, mut stopped: watch::Receiver<bool>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let shared = shared.clone();
                connections.spawn(async move {
                    let service = service_fn(move |req| server::handle(shared.clone(), req));
                    // A client hanging up mid-request is not the server's failure.
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = stopped.changed() => break,
        }
    }
    connections.shutdown().await;
}

/// A running server. Dropping it stops the server.
pub struct ApiServerHandle {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

/// Splits `plural[.group]` (`secrets`, `deployments.apps`, `sealedsecrets.bitnami.com`).
fn split_resource(resource: &str) -> (&str, &str) {
    resource.split_once('.').map_or((resource, ""), |(p, g)| (p, g))
}

impl ApiServerHandle {
    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A kubeconfig for this server (context `sealops-test`, namespace `default`, no
    /// credentials), as kube-rs and kubectl read it.
    pub fn kubeconfig_yaml(&self) -> String {
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: sealops-test\n  cluster:\n    server: {url}\n\
             contexts:\n- name: sealops-test\n  context:\n    cluster: sealops-test\n    user: sealops-test\n    namespace: default\n\
             current-context: sealops-test\nusers:\n- name: sealops-test\n  user: {{}}\npreferences: {{}}\n",
            url = self.url()
        )
    }

    /// Writes [`Self::kubeconfig_yaml`] to `path`.
    pub fn write_kubeconfig(&self, path: &Path) -> Result<(), Error> {
        std::fs::write(path, self.kubeconfig_yaml())
            .map_err(|source| Error::WriteKubeconfig { path: path.display().to_string(), source })
    }

    /// One stored object by `plural[.group]`, namespace (`None` for cluster-scoped) and name.
    pub fn get(&self, resource: &str, namespace: Option<&str>, name: &str) -> Option<Value> {
        let (plural, group) = split_resource(resource);
        let state = self.shared.state();
        let rt = state.registry.find_any_version(group, plural)?;
        let ns = if rt.namespaced { namespace.unwrap_or_default() } else { "" };
        state.get_raw(&rt.store_key(), ns, name).cloned()
    }

    /// Every stored object of `plural[.group]`, in one namespace or all, by namespace and name.
    pub fn list(&self, resource: &str, namespace: Option<&str>) -> Vec<Value> {
        let (plural, group) = split_resource(resource);
        let state = self.shared.state();
        let Some(rt) = state.registry.find_any_version(group, plural) else {
            return Vec::new();
        };
        state.list_raw(&rt.store_key(), namespace).into_iter().cloned().collect()
    }

    /// Whether `plural[.group]` is served (built in, or from an established CRD).
    pub fn serves(&self, resource: &str) -> bool {
        let (plural, group) = split_resource(resource);
        self.shared.state().registry.find_any_version(group, plural).is_some()
    }

    /// The latest resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.shared.state().resource_version()
    }

    /// Forgets the watch history: a watch resuming from an earlier version gets 410 Expired.
    pub fn compact(&self) {
        self.shared.state().compact();
    }

    /// Every request served so far, oldest first.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.log().clone()
    }

    /// How many requests served so far satisfy `pred`.
    pub fn count_requests(&self, pred: impl Fn(&RequestRecord) -> bool) -> usize {
        self.shared.log().iter().filter(|r| pred(r)).count()
    }

    /// Empties the request log.
    pub fn clear_requests(&self) {
        self.shared.log().clear();
    }

    /// Sends `services/{service}/proxy/…` in `namespace` to `target` (a local HTTP server, e.g.
    /// the daemon's), as the apiserver's service proxy would reach the Service's pods. Without a
    /// target the proxy answers 503 "no endpoints available".
    pub fn proxy_service(&self, namespace: &str, service: &str, target: SocketAddr) {
        self.shared.proxies().insert((namespace.to_string(), service.to_string()), target);
    }

    /// Removes a service proxy target.
    pub fn unproxy_service(&self, namespace: &str, service: &str) {
        self.shared.proxies().remove(&(namespace.to_string(), service.to_string()));
    }

    /// The fault switchboard.
    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// Stops accepting, ends watch streams and closes connections.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for ApiServerHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
