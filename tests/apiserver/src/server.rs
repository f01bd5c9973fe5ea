//! HTTP: routing of the Kubernetes REST paths, discovery documents, request parameters, content
//! negotiation, watch streams and fault injection.
//!
//! Paths follow <https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-uris>.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Body as HttpBody, Frame, Incoming};
use hyper::header::{ACCEPT, CONTENT_TYPE, USER_AGENT};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};

use crate::faults::Faults;
use crate::registry::ResourceType;
use crate::selector::{FieldSelector, LabelSelector};
use crate::store::{ApiError, DeleteOptions, Deleted, PatchType, State, WatchFilter};

/// Response body: a whole document or a watch stream.
pub type Body = UnsyncBoxBody<Bytes, Infallible>;

/// Largest request body accepted (kube-apiserver's limit is 3 MiB per object; patches are
/// smaller).
const MAX_BODY: usize = 16 << 20;
/// kube-apiserver's `--min-request-timeout`: a watch without `timeoutSeconds` ends after it.
const DEFAULT_WATCH_TIMEOUT: Duration = Duration::from_secs(1800);
/// What aggregated discovery answers are labelled with.
const AGGREGATED_V2: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// One request as the log keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestRecord {
    /// `GET`, `POST`...
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The raw query string.
    pub query: String,
    /// The Kubernetes verb (`get`, `list`, `watch`, `create`, `update`, `patch`, `delete`,
    /// `deletecollection`, `discovery`, or `other`).
    pub verb: String,
    /// The request's `Content-Type`.
    pub content_type: Option<String>,
    /// The response status code (200 for a watch that started).
    pub status: u16,
}

/// Everything the handlers share.
pub struct Shared {
    /// The store.
    pub state: Mutex<State>,
    /// The fault switchboard.
    pub faults: Faults,
    /// The request log.
    pub log: Mutex<Vec<RequestRecord>>,
    /// How often a watch that asked for bookmarks gets one.
    pub bookmark_interval: Duration,
    /// Flips to `true` on shutdown; watch streams end then.
    pub shutdown: watch::Receiver<bool>,
    /// Where the server listens (for discovery's serverAddressByClientCIDRs).
    pub addr: SocketAddr,
    /// Endpoints of `services/{name}/proxy` by (namespace, service).
    pub proxies: Mutex<BTreeMap<(String, String), SocketAddr>>,
}

impl Shared {
    /// The store, even after a panicking holder (tests go on to report their own failure).
    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Service proxy targets.
    pub fn proxies(&self) -> MutexGuard<'_, BTreeMap<(String, String), SocketAddr>> {
        self.proxies.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The request log.
    pub fn log(&self) -> MutexGuard<'_, Vec<RequestRecord>> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A watch stream: lines arrive on a channel from the task that follows the store.
struct ChannelBody(mpsc::Receiver<Bytes>);

impl HttpBody for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0.poll_recv(cx).map(|b| b.map(|b| Ok(Frame::data(b))))
    }
}

fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).boxed_unsync()
}

fn json_response(code: u16, value: &Value, content_type: &str) -> Response<Body> {
    let mut resp = Response::new(full(value.to_string()));
    *resp.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = content_type.parse() {
        resp.headers_mut().insert(CONTENT_TYPE, v);
    }
    resp
}

fn ok(code: u16, value: &Value) -> Response<Body> {
    json_response(code, value, "application/json")
}

fn error(e: &ApiError) -> Response<Body> {
    ok(e.code, &e.to_status())
}

/// The error a fault injects, worded like the real one.
fn injected(code: u16) -> ApiError {
    let reason = match code {
        400 => "BadRequest",
        403 => "Forbidden",
        404 => "NotFound",
        409 => "Conflict",
        410 => "Expired",
        422 => "Invalid",
        429 => "TooManyRequests",
        503 => "ServiceUnavailable",
        504 => "Timeout",
        _ => "InternalError",
    };
    let message = match code {
        409 => "Operation cannot be fulfilled: the object has been modified; please apply your changes to the latest version and try again (injected fault)".to_string(),
        429 => "Too many requests, please try again later. (injected fault)".to_string(),
        _ => format!("Internal error occurred: injected fault ({code})"),
    };
    ApiError::new(code, reason, message)
}

/// Decodes an `application/x-www-form-urlencoded` component.
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Query parameters, decoded.
#[derive(Default)]
struct Query(Vec<(String, String)>);

impl Query {
    fn parse(q: &str) -> Self {
        Query(
            q.split('&')
                .filter(|p| !p.is_empty())
                .map(|p| match p.split_once('=') {
                    Some((k, v)) => (decode(k), decode(v)),
                    None => (decode(p), String::new()),
                })
                .collect(),
        )
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("true" | "1" | ""))
    }
}

/// What a resource path names.
struct Target {
    rt: ResourceType,
    namespace: Option<String>,
    name: Option<String>,
    status: bool,
}

enum Route {
    Discovery(Value, bool),
    Resource(Target),
    Plain(&'static str),
    /// `services/{name}/proxy/{path}`: namespace, service, path (with a leading `/`).
    Proxy(String, String, String),
}

fn not_found_path() -> ApiError {
    ApiError::new(404, "NotFound", "the server could not find the requested resource")
}

/// Kubernetes version ordering: GA before beta before alpha, higher numbers first.
fn version_priority(v: &str) -> (u8, u32, u32) {
    let Some(rest) = v.strip_prefix('v') else { return (0, 0, 0) };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let major = digits.parse().unwrap_or(0);
    let tail = &rest[digits.len()..];
    let (stability, minor) = if tail.is_empty() {
        (3, 0)
    } else if let Some(n) = tail.strip_prefix("beta") {
        (2, n.parse().unwrap_or(0))
    } else if let Some(n) = tail.strip_prefix("alpha") {
        (1, n.parse().unwrap_or(0))
    } else {
        (0, 0)
    };
    (stability, major, minor)
}

fn sorted_versions(mut versions: Vec<String>) -> Vec<String> {
    versions.sort_by(|a, b| version_priority(b).cmp(&version_priority(a)).then(a.cmp(b)));
    versions
}

fn group_entry(group: &str, versions: &[String]) -> Value {
    let vs: Vec<Value> =
        versions.iter().map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v})).collect();
    json!({"name": group, "versions": vs, "preferredVersion": vs.first().cloned().unwrap_or(json!({}))})
}

fn aggregated_group(state: &State, group: &str, versions: &[String]) -> Value {
    let vs: Vec<Value> = versions
        .iter()
        .map(|v| {
            let resources: Vec<Value> = state
                .registry
                .types()
                .iter()
                .filter(|t| t.group == group && t.version == *v)
                .map(ResourceType::aggregated_entry)
                .collect();
            json!({"version": v, "resources": resources, "freshness": "Current"})
        })
        .collect();
    json!({"metadata": {"name": group}, "versions": vs})
}

fn resource_list(state: &State, group: &str, version: &str) -> Option<Value> {
    let resources: Vec<Value> = state
        .registry
        .types()
        .iter()
        .filter(|t| t.group == group && t.version == version)
        .flat_map(ResourceType::discovery_entries)
        .collect();
    if resources.is_empty() {
        return None;
    }
    let gv = if group.is_empty() { version.to_string() } else { format!("{group}/{version}") };
    Some(json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}))
}

fn groups(state: &State) -> Vec<(String, Vec<String>)> {
    state.registry.groups().into_iter().map(|(g, vs)| (g, sorted_versions(vs))).collect()
}

/// Resolves a path to discovery or a resource.
fn route(shared: &Shared, path: &str, aggregated: bool) -> Result<Route, ApiError> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    let state = shared.state();
    let (group, version, rest) = match segs.as_slice() {
        ["healthz" | "livez" | "readyz", ..] => return Ok(Route::Plain("ok")),
        ["version"] => {
            return Ok(Route::Discovery(
                json!({
                    "major": "1", "minor": "33", "gitVersion": "v1.33.0-sealops-test",
                    "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
                    "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.24", "compiler": "gc",
                    "platform": "linux/amd64",
                }),
                false,
            ));
        }
        ["api"] => {
            if aggregated {
                let core = aggregated_group(&state, "", &["v1".to_string()]);
                return Ok(Route::Discovery(
                    json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": [core]}),
                    true,
                ));
            }
            return Ok(Route::Discovery(
                json!({
                    "kind": "APIVersions", "versions": ["v1"],
                    "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": shared.addr.to_string()}],
                }),
                false,
            ));
        }
        ["apis"] => {
            let gs = groups(&state);
            if aggregated {
                let items: Vec<Value> = gs.iter().map(|(g, vs)| aggregated_group(&state, g, vs)).collect();
                return Ok(Route::Discovery(
                    json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items}),
                    true,
                ));
            }
            let items: Vec<Value> = gs.iter().map(|(g, vs)| group_entry(g, vs)).collect();
            return Ok(Route::Discovery(json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": items}), false));
        }
        ["apis", g] => {
            let gs = groups(&state);
            let (name, vs) = gs.iter().find(|(n, _)| n == g).ok_or_else(not_found_path)?;
            let mut entry = group_entry(name, vs);
            entry["kind"] = json!("APIGroup");
            entry["apiVersion"] = json!("v1");
            return Ok(Route::Discovery(entry, false));
        }
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return Err(not_found_path()),
    };
    let (namespace, plural, tail) = match rest {
        [] => {
            let list = resource_list(&state, group, version).ok_or_else(not_found_path)?;
            return Ok(Route::Discovery(list, false));
        }
        ["namespaces", ns, plural, tail @ ..] if !matches!(*plural, "status" | "finalize") => {
            (Some(decode(ns)), *plural, tail)
        }
        [plural, tail @ ..] => (None, *plural, tail),
    };
    let rt = state.registry.find(group, version, plural).cloned().ok_or_else(not_found_path)?;
    if namespace.is_some() && !rt.namespaced {
        return Err(not_found_path());
    }
    if rt.group.is_empty()
        && rt.plural == "services"
        && let (Some(ns), [name, "proxy", rest @ ..]) = (&namespace, tail)
    {
        // `name`, `name:port` or `scheme:name:port`.
        let name = decode(name);
        let parts: Vec<&str> = name.split(':').collect();
        let service = if parts.len() == 3 { parts[1] } else { parts[0] };
        return Ok(Route::Proxy(ns.clone(), service.to_string(), format!("/{}", rest.join("/"))));
    }
    let (name, status) = match tail {
        [] => (None, false),
        [name] => (Some(decode(name)), false),
        [name, "status"] if rt.status => (Some(decode(name)), true),
        _ => return Err(not_found_path()),
    };
    Ok(Route::Resource(Target { rt, namespace, name, status }))
}

fn verb_of(method: &Method, route: &Result<Route, ApiError>, query: &Query) -> &'static str {
    let Ok(Route::Resource(t)) = route else {
        return match route {
            Ok(Route::Discovery(..)) => "discovery",
            Ok(Route::Proxy(..)) => "proxy",
            _ => "other",
        };
    };
    match (method, t.name.is_some()) {
        (&Method::GET, false) if query.flag("watch") => "watch",
        (&Method::GET, false) => "list",
        (&Method::GET, true) => "get",
        (&Method::POST, false) => "create",
        (&Method::PUT, true) => "update",
        (&Method::PATCH, true) => "patch",
        (&Method::DELETE, true) => "delete",
        (&Method::DELETE, false) => "deletecollection",
        _ => "other",
    }
}

/// The default field manager: the user agent up to its first `/`, as upstream derives it.
fn default_manager(user_agent: Option<&str>) -> String {
    user_agent.and_then(|ua| ua.split('/').next()).filter(|s| !s.is_empty()).unwrap_or("unknown").to_string()
}

fn partial_metadata(obj: &Value) -> Value {
    json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata").cloned().unwrap_or(json!({}))})
}

/// Serves one request: faults first, then routing and the handler; logs the outcome.
pub async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let raw_query = req.uri().query().unwrap_or_default().to_string();
    let query = Query::parse(&raw_query);
    let (content_type, accept, user_agent) = {
        let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        (header(CONTENT_TYPE), header(ACCEPT).unwrap_or_default(), header(USER_AGENT))
    };
    let aggregated = accept.contains("as=APIGroupDiscoveryList");
    let metadata_only = accept.contains("as=PartialObjectMetadata");

    let routed = route(&shared, &path, aggregated);
    let verb = verb_of(&method, &routed, &query);
    let decision = shared.faults.decide(verb, &path);
    if !decision.delay.is_zero() {
        tokio::time::sleep(decision.delay).await;
    }
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let response = if let Some(code) = decision.fail {
        error(&injected(code))
    } else {
        match routed {
            Err(e) => error(&e),
            Ok(Route::Plain(text)) => {
                let mut r = Response::new(full(text));
                r.headers_mut().insert(CONTENT_TYPE, hyper::header::HeaderValue::from_static("text/plain"));
                r
            }
            Ok(Route::Proxy(ns, service, target_path)) => {
                let target = shared.proxies().get(&(ns.clone(), service.clone())).copied();
                match target {
                    None => error(&ApiError::new(
                        503,
                        "ServiceUnavailable",
                        format!("no endpoints available for service \"{service}\""),
                    )),
                    Some(addr) => {
                        let upstream = ForwardRequest {
                            method: method.clone(),
                            path: target_path,
                            query: raw_query.clone(),
                            content_type: content_type.clone(),
                            body: body.clone(),
                        };
                        forward(addr, upstream).await.unwrap_or_else(|e| {
                            error(&ApiError::new(
                                503,
                                "ServiceUnavailable",
                                format!("error trying to reach service: {e}"),
                            ))
                        })
                    }
                }
            }
            Ok(Route::Discovery(doc, agg)) => {
                json_response(200, &doc, if agg { AGGREGATED_V2 } else { "application/json" })
            }
            Ok(Route::Resource(target)) => {
                let ctx = Ctx {
                    shared: &shared,
                    query: &query,
                    body: &body,
                    content_type: content_type.as_deref().unwrap_or_default(),
                    manager: query
                        .get("fieldManager")
                        .map(str::to_string)
                        .unwrap_or_else(|| default_manager(user_agent.as_deref())),
                    metadata_only,
                    drop_watch: decision.drop_watch,
                };
                match resource(&ctx, verb, target) {
                    Ok(r) => r,
                    Err(e) => error(&e),
                }
            }
        }
    };
    shared.log().push(RequestRecord {
        method: method.to_string(),
        path,
        query: raw_query,
        verb: verb.to_string(),
        content_type,
        status: response.status().as_u16(),
    });
    Ok(response)
}

/// What the service proxy sends on.
struct ForwardRequest {
    method: Method,
    path: String,
    query: String,
    content_type: Option<String>,
    body: Bytes,
}

/// Forwards one request to a registered service endpoint over plain HTTP/1.1 (the apiserver's
/// service proxy, minus the pod network).
async fn forward(addr: SocketAddr, req: ForwardRequest) -> Result<Response<Body>, String> {
    let stream = tokio::net::TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await.map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let uri = if req.query.is_empty() { req.path } else { format!("{}?{}", req.path, req.query) };
    let mut builder = Request::builder().method(req.method).uri(uri).header(hyper::header::HOST, addr.to_string());
    if let Some(ct) = req.content_type {
        builder = builder.header(CONTENT_TYPE, ct);
    }
    let request = builder.body(Full::new(req.body)).map_err(|e| e.to_string())?;
    let response = sender.send_request(request).await.map_err(|e| e.to_string())?;
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
    Ok(Response::from_parts(parts, full(bytes)))
}

struct Ctx<'a> {
    shared: &'a Arc<Shared>,
    query: &'a Query,
    body: &'a Bytes,
    content_type: &'a str,
    manager: String,
    metadata_only: bool,
    drop_watch: Option<(Option<u32>, Option<Duration>)>,
}

impl Ctx<'_> {
    fn json_body(&self) -> Result<Value, ApiError> {
        if self.content_type.contains("protobuf") {
            return Err(ApiError::new(
                415,
                "UnsupportedMediaType",
                "the test API server speaks JSON only, not protobuf (kubectl: use `apply --server-side`)",
            ));
        }
        serde_json::from_slice(self.body)
            .map_err(|e| ApiError::bad_request(format!("error decoding the request body as JSON: {e}")))
    }

    fn dry_run(&self) -> bool {
        self.query.get("dryRun") == Some("All")
    }

    fn selectors(&self) -> Result<(LabelSelector, FieldSelector), ApiError> {
        let labels =
            LabelSelector::parse(self.query.get("labelSelector").unwrap_or_default()).map_err(ApiError::bad_request)?;
        let fields =
            FieldSelector::parse(self.query.get("fieldSelector").unwrap_or_default()).map_err(ApiError::bad_request)?;
        Ok((labels, fields))
    }

    fn shape(&self, obj: Value) -> Value {
        if self.metadata_only { partial_metadata(&obj) } else { obj }
    }
}

fn resource(ctx: &Ctx<'_>, verb: &str, t: Target) -> Result<Response<Body>, ApiError> {
    let ns = t.namespace.as_deref();
    let name = t.name.as_deref().unwrap_or_default();
    let rt = &t.rt;
    match verb {
        "get" => {
            let obj = ctx.shared.state().get(rt, ns, name)?;
            Ok(ok(200, &ctx.shape(obj)))
        }
        "list" => {
            let (labels, fields) = ctx.selectors()?;
            let limit = ctx.query.get("limit").and_then(|l| l.parse().ok());
            let mut list = ctx.shared.state().list(rt, ns, &labels, &fields, limit, ctx.query.get("continue"))?;
            if ctx.metadata_only {
                let items: Vec<Value> =
                    list["items"].as_array().map(|a| a.iter().map(partial_metadata).collect()).unwrap_or_default();
                list["items"] = Value::Array(items);
                list["kind"] = json!("PartialObjectMetadataList");
                list["apiVersion"] = json!("meta.k8s.io/v1");
            }
            Ok(ok(200, &list))
        }
        "watch" => start_watch(ctx, t),
        "create" => {
            let obj = ctx.shared.state().create(rt, ns, ctx.json_body()?, &ctx.manager, ctx.dry_run())?;
            Ok(ok(201, &obj))
        }
        "update" => {
            let obj =
                ctx.shared.state().update(rt, ns, name, ctx.json_body()?, &ctx.manager, t.status, ctx.dry_run())?;
            Ok(ok(200, &obj))
        }
        "patch" => patch(ctx, &t),
        "delete" => {
            let opts = delete_options(ctx)?;
            match ctx.shared.state().delete(rt, ns, name, &opts)? {
                Deleted::Pending(obj) => Ok(ok(200, &obj)),
                Deleted::Gone(status) => Ok(ok(200, &status)),
            }
        }
        "deletecollection" => {
            let opts = delete_options(ctx)?;
            let (labels, fields) = ctx.selectors()?;
            let list = ctx.shared.state().delete_collection(rt, ns, &labels, &fields, &opts)?;
            Ok(ok(200, &list))
        }
        _ => Err(ApiError::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )),
    }
}

fn patch(ctx: &Ctx<'_>, t: &Target) -> Result<Response<Body>, ApiError> {
    let ns = t.namespace.as_deref();
    let name = t.name.as_deref().unwrap_or_default();
    let mime = ctx.content_type.split(';').next().unwrap_or_default().trim();
    let kind = match mime {
        "application/apply-patch+yaml" => None,
        "application/merge-patch+json" => Some(PatchType::Merge),
        "application/strategic-merge-patch+json" => Some(PatchType::StrategicMerge),
        "application/json-patch+json" => Some(PatchType::Json),
        other => {
            return Err(ApiError::new(
                415,
                "UnsupportedMediaType",
                format!(
                    "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got \"{other}\")"
                ),
            ));
        }
    };
    let force = ctx.query.flag("force");
    match kind {
        None => {
            let Some(manager) = ctx.query.get("fieldManager").filter(|m| !m.is_empty()) else {
                return Err(ApiError::new(
                    422,
                    "Invalid",
                    "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
                ));
            };
            let text =
                std::str::from_utf8(ctx.body).map_err(|_| ApiError::bad_request("apply configuration is not UTF-8"))?;
            // kube-rs sends JSON (a subset of YAML); kubectl sends YAML.
            let config: Value = match serde_json::from_str(text) {
                Ok(v) => v,
                Err(_) => serde_saphyr::from_str(text)
                    .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?,
            };
            let (obj, created) =
                ctx.shared.state().apply(&t.rt, ns, name, &config, manager, force, t.status, ctx.dry_run())?;
            Ok(ok(if created { 201 } else { 200 }, &ctx.shape(obj)))
        }
        Some(kind) => {
            if force {
                return Err(ApiError::new(
                    422,
                    "Invalid",
                    "force: Forbidden: may not be specified for non-apply patch",
                ));
            }
            let body = ctx.json_body()?;
            let obj = ctx.shared.state().patch(&t.rt, ns, name, kind, &body, &ctx.manager, t.status, ctx.dry_run())?;
            Ok(ok(200, &ctx.shape(obj)))
        }
    }
}

fn delete_options(ctx: &Ctx<'_>) -> Result<DeleteOptions, ApiError> {
    let body: Value = if ctx.body.is_empty() { json!({}) } else { ctx.json_body()? };
    let dry_run_body = body.get("dryRun").and_then(Value::as_array).is_some_and(|a| a.iter().any(|v| v == "All"));
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    Ok(DeleteOptions {
        propagation: ctx
            .query
            .get("propagationPolicy")
            .map(str::to_string)
            .or_else(|| text(body.get("propagationPolicy")))
            .or_else(|| match body.get("orphanDependents").and_then(Value::as_bool) {
                Some(true) => Some("Orphan".into()),
                _ => None,
            }),
        uid: text(body.pointer("/preconditions/uid")),
        resource_version: text(body.pointer("/preconditions/resourceVersion")),
        dry_run: ctx.dry_run() || dry_run_body,
    })
}

fn line(kind: &str, object: &Value) -> Bytes {
    let mut s = json!({"type": kind, "object": object}).to_string();
    s.push('\n');
    Bytes::from(s)
}

fn bookmark(rt: &ResourceType, rv: u64, initial_end: bool) -> Value {
    let mut meta = json!({"resourceVersion": rv.to_string()});
    if initial_end {
        meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    json!({"kind": rt.kind, "apiVersion": rt.api_version(), "metadata": meta})
}

fn start_watch(ctx: &Ctx<'_>, t: Target) -> Result<Response<Body>, ApiError> {
    let (labels, fields) = ctx.selectors()?;
    let rt = t.rt;
    let filter = WatchFilter { key: rt.store_key(), namespace: t.namespace, labels, fields };
    let since = match ctx.query.get("resourceVersion") {
        None | Some("") => None,
        Some(rv) => {
            Some(rv.parse::<u64>().map_err(|_| ApiError::bad_request(format!("invalid resource version \"{rv}\"")))?)
        }
    };
    let send_initial = ctx.query.flag("sendInitialEvents");
    let bookmarks = ctx.query.flag("allowWatchBookmarks");
    let timeout =
        ctx.query.get("timeoutSeconds").and_then(|s| s.parse().ok()).map_or(DEFAULT_WATCH_TIMEOUT, Duration::from_secs);
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let started = ctx.shared.state().watch(&rt, &filter, since, send_initial);
    let shared = ctx.shared.clone();
    let metadata_only = ctx.metadata_only;
    let drop_watch = ctx.drop_watch;
    match started {
        // Upstream answers 200 and then an ERROR event for an expired version.
        Err(e) => {
            tokio::spawn(async move {
                let _ = tx.send(line("ERROR", &e.to_status())).await;
            });
        }
        Ok(start) => {
            tokio::spawn(async move {
                let opts = StreamOpts { bookmarks, send_initial, timeout, metadata_only, drop_watch };
                follow(shared, rt, filter, start, tx, opts).await;
            });
        }
    }
    let mut resp = Response::new(ChannelBody(rx).boxed_unsync());
    resp.headers_mut().insert(CONTENT_TYPE, hyper::header::HeaderValue::from_static("application/json"));
    Ok(resp)
}

struct StreamOpts {
    bookmarks: bool,
    send_initial: bool,
    timeout: Duration,
    metadata_only: bool,
    drop_watch: Option<(Option<u32>, Option<Duration>)>,
}

/// Feeds one watch stream until timeout, a dropped-watch fault, shutdown or client hang-up.
async fn follow(
    shared: Arc<Shared>,
    rt: ResourceType,
    filter: WatchFilter,
    start: crate::store::WatchStart,
    tx: mpsc::Sender<Bytes>,
    opts: StreamOpts,
) {
    let shape = |v: &Value| if opts.metadata_only { partial_metadata(v) } else { v.clone() };
    let (max_events, max_time) = opts.drop_watch.unwrap_or((None, None));
    let mut sent = 0u32;
    let mut last_rv = start.rv;
    let mut feed = start.feed;
    let mut shutdown = shared.shutdown.clone();
    let deadline = tokio::time::Instant::now() + max_time.map_or(opts.timeout, |d| d.min(opts.timeout));
    let mut ticker = tokio::time::interval(shared.bookmark_interval);
    ticker.tick().await;

    for (kind, obj) in &start.initial {
        if max_events.is_some_and(|m| sent >= m) || tx.send(line(kind.as_str(), &shape(obj))).await.is_err() {
            return;
        }
        sent += 1;
    }
    if opts.send_initial && tx.send(line("BOOKMARK", &bookmark(&rt, last_rv, true))).await.is_err() {
        return;
    }
    loop {
        if max_events.is_some_and(|m| sent >= m) {
            return;
        }
        tokio::select! {
            ev = feed.recv() => {
                let Some(ev) = ev else { return };
                last_rv = last_rv.max(ev.rv);
                if let Some((kind, obj)) = filter.view(&ev) {
                    let obj = crate::store::serve_as(obj, &rt);
                    if tx.send(line(kind.as_str(), &shape(&obj))).await.is_err() {
                        return;
                    }
                    sent += 1;
                }
            }
            _ = ticker.tick(), if opts.bookmarks => {
                // Every event up to `current` is already in `feed`: drain it first, so the
                // bookmark never claims a version whose events were not sent.
                let current = shared.state().resource_version();
                while let Ok(ev) = feed.try_recv() {
                    last_rv = last_rv.max(ev.rv);
                    if let Some((kind, obj)) = filter.view(&ev) {
                        let obj = crate::store::serve_as(obj, &rt);
                        if tx.send(line(kind.as_str(), &shape(&obj))).await.is_err() {
                            return;
                        }
                        sent += 1;
                    }
                }
                last_rv = last_rv.max(current);
                if tx.send(line("BOOKMARK", &bookmark(&rt, last_rv, false))).await.is_err() {
                    return;
                }
            }
            _ = tokio::time::sleep_until(deadline) => return,
            _ = shutdown.changed() => return,
            _ = tx.closed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_decoding_handles_plus_and_percent() {
        let q = Query::parse("labelSelector=app%20in%20(a%2Cb)&fieldSelector=metadata.name%3Dx&watch=true&x=a+b");
        assert_eq!(q.get("labelSelector"), Some("app in (a,b)"));
        assert_eq!(q.get("fieldSelector"), Some("metadata.name=x"));
        assert_eq!(q.get("x"), Some("a b"));
        assert!(q.flag("watch"));
        assert_eq!(decode("100%"), "100%");
    }

    #[test]
    fn versions_sort_like_kubernetes() {
        let v = sorted_versions(vec!["v1alpha1".into(), "v1".into(), "v2beta1".into(), "v1beta2".into(), "v2".into()]);
        assert_eq!(v, ["v2", "v1", "v2beta1", "v1beta2", "v1alpha1"]);
    }

    #[test]
    fn manager_defaults_to_the_user_agent_program() {
        assert_eq!(default_manager(Some("kubectl/v1.33.0 (linux/amd64)")), "kubectl");
        assert_eq!(default_manager(None), "unknown");
    }
}
