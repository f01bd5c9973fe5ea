//! The controller's HTTP API (`shared/specs/sealed-secrets.md` §3.5, upstream
//! `pkg/controller/server.go`) on `--listen-addr`, and `/metrics` on `--listen-metrics-addr`.
//!
//! | path | answer |
//! |---|---|
//! | `/healthz` | `200 ok\n` |
//! | `/readyz` | `200 ok\n` once keys are loaded and the controller runs, else `503` |
//! | `GET /v1/cert.pem` | the newest certificate, `application/x-pem-file`; `500` without keys |
//! | `POST /v1/verify` | `200` opens with the current keys, `409` does not, `400` unreadable body, `500` not a SealedSecret |
//! | `POST /v1/rotate` | `200` + the SealedSecret resealed to the newest key; `400` when the template's scope is wider than the object's; `500` otherwise |
//!
//! `/v1/verify` and `/v1/rotate` share a GCRA limiter keyed by path and `X-Forwarded-For`
//! (`--rate-limit`/`--rate-limit-burst`): upstream limited only `/v1/verify` until
//! GHSA-jpp5-6cf2-prqh. Rotate never widens scope: the outer annotations decide the scope of
//! the result (the CVE-2026-22728 fix copies the outer metadata over the template; here a wider
//! template is refused and template labels and annotations are kept).

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::{DaemonError, Shared};
use crate::sealed::document::{MAX_DOCUMENT_BYTES, SealedSecret};
use crate::sealed::scheme::Scope;

/// Which listener this is.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Api,
    Metrics,
}

/// Binds `addr` and serves `role` on it until `stopped` turns true. Returns the bound address.
pub async fn serve(
    tasks: &mut JoinSet<()>,
    addr: SocketAddr,
    role: Role,
    shared: Arc<Shared>,
    mut stopped: watch::Receiver<bool>,
) -> Result<SocketAddr, DaemonError> {
    let what = if role == Role::Api { "http" } else { "metrics" };
    let listener = TcpListener::bind(addr).await.map_err(|source| DaemonError::Listen { what, addr, source })?;
    let bound = listener.local_addr().map_err(|source| DaemonError::Listen { what, addr, source })?;
    let limiter = Arc::new(Limiter::new(shared.config.rate_limit, shared.config.rate_limit_burst));
    tasks.spawn(async move {
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                _ = stopped.changed() => return,
            };
            let Ok((stream, peer)) = accepted else { continue };
            let (shared, limiter) = (shared.clone(), limiter.clone());
            tokio::spawn(async move {
                let service = service_fn(move |req| {
                    let (shared, limiter) = (shared.clone(), limiter.clone());
                    async move { Ok::<_, Infallible>(handle(req, role, &shared, &limiter, peer).await) }
                });
                if let Err(e) = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await {
                    tracing::debug!(error = %e, "HTTP connection ended with an error");
                }
            });
        }
    });
    Ok(bound)
}

type Reply = Response<Full<Bytes>>;

fn reply(code: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Reply {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = code;
    if let Ok(value) = content_type.parse() {
        response.headers_mut().insert(hyper::header::CONTENT_TYPE, value);
    }
    response
}

fn text(code: StatusCode, body: impl Into<String>) -> Reply {
    reply(code, "text/plain; charset=utf-8", body.into())
}

async fn handle(req: Request<Incoming>, role: Role, shared: &Shared, limiter: &Limiter, peer: SocketAddr) -> Reply {
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    let response = match (role, path.as_str()) {
        (_, "/healthz") => text(StatusCode::OK, "ok\n"),
        (Role::Metrics, "/metrics") => {
            reply(StatusCode::OK, "text/plain; version=0.0.4; charset=utf-8", shared.metrics.render())
        }
        (Role::Api, "/readyz") => {
            if shared.ready.load(std::sync::atomic::Ordering::SeqCst) && shared.keys.is_loaded() {
                text(StatusCode::OK, "ok\n")
            } else {
                text(StatusCode::SERVICE_UNAVAILABLE, "not ready\n")
            }
        }
        (Role::Api, "/v1/cert.pem") if method == Method::GET => cert(shared),
        (Role::Api, "/v1/verify" | "/v1/rotate") if method == Method::POST => {
            let forwarded = req.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok()).unwrap_or("");
            // Without a proxy in front, the peer address stands in for X-Forwarded-For.
            let client = if forwarded.is_empty() { peer.ip().to_string() } else { forwarded.to_owned() };
            if !limiter.allow(&format!("{path}|{client}"), Instant::now()) {
                text(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests\n")
            } else {
                match read_body(req).await {
                    Err(message) => text(StatusCode::BAD_REQUEST, message),
                    Ok(body) if path == "/v1/verify" => verify(shared, &body).await,
                    Ok(body) => rotate(shared, &body).await,
                }
            }
        }
        (Role::Api, "/v1/cert.pem" | "/v1/verify" | "/v1/rotate") => {
            text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n")
        }
        _ => text(StatusCode::NOT_FOUND, "404 page not found\n"),
    };
    if role == Role::Api {
        shared.metrics.http_request(&path, response.status().as_u16(), method.as_str());
    }
    response
}

async fn read_body(req: Request<Incoming>) -> Result<Bytes, String> {
    Limited::new(req.into_body(), MAX_DOCUMENT_BYTES)
        .collect()
        .await
        .map(http_body_util::Collected::to_bytes)
        .map_err(|e| format!("cannot read the request body: {e}\n"))
}

fn cert(shared: &Shared) -> Reply {
    match shared.keys.snapshot().latest() {
        Some(key) => reply(StatusCode::OK, "application/x-pem-file", key.certificate().to_pem()),
        None => text(StatusCode::INTERNAL_SERVER_ERROR, "cannot get certificate\n"),
    }
}

/// One SealedSecret, JSON or YAML; a stream of several is refused (upstream decodes one object).
fn parse_one(body: &[u8]) -> Result<SealedSecret, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the request body is not UTF-8\n".to_owned())?;
    let documents = text
        .split("\n---")
        .filter(|d| {
            let d = d.trim_start_matches('-');
            d.lines().any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        })
        .count();
    if documents > 1 {
        return Err("expected one SealedSecret, got several documents\n".into());
    }
    SealedSecret::parse(body, "request body").map_err(|e| format!("{e}\n"))
}

fn check_v1(shared: &Shared, sealed: &SealedSecret) -> Result<(), String> {
    if sealed.spec.data.is_some() && !shared.config.accept_deprecated_v1_data {
        return Err(format!(
            "{}: spec.data: the deprecated v1 format is refused (--accept-deprecated-v1-data=false)\n",
            sealed.object_name()
        ));
    }
    Ok(())
}

async fn verify(shared: &Shared, body: &[u8]) -> Reply {
    let sealed = match parse_one(body) {
        Ok(s) => s,
        Err(message) => return text(StatusCode::INTERNAL_SERVER_ERROR, message),
    };
    if let Err(message) = check_v1(shared, &sealed) {
        return text(StatusCode::CONFLICT, message);
    }
    let keys = shared.keys.snapshot();
    let opened =
        tokio::task::spawn_blocking(move || sealed.unseal(&keys.private_keys()).map(|_| ())).await.unwrap_or_else(
            |_| Err(crate::sealed::document::DocumentError::Missing { object: "request".into(), field: "unseal" }),
        );
    match opened {
        Ok(()) => text(StatusCode::OK, ""),
        // Decryption errors name items, never values.
        Err(e) => text(StatusCode::CONFLICT, format!("{e}\n")),
    }
}

fn breadth(scope: Scope) -> u8 {
    match scope {
        Scope::Strict => 0,
        Scope::NamespaceWide => 1,
        Scope::ClusterWide => 2,
    }
}

async fn rotate(shared: &Shared, body: &[u8]) -> Reply {
    let sealed = match parse_one(body) {
        Ok(s) => s,
        Err(message) => return text(StatusCode::INTERNAL_SERVER_ERROR, message),
    };
    if let Err(message) = check_v1(shared, &sealed) {
        return text(StatusCode::INTERNAL_SERVER_ERROR, message);
    }
    let outer = sealed.scope();
    let template = sealed.spec.template.as_ref().map(|t| t.metadata.scope()).unwrap_or_default();
    if breadth(template) > breadth(outer) {
        return text(
            StatusCode::BAD_REQUEST,
            format!(
                "{}: spec.template.metadata.annotations ask for scope {} but the SealedSecret's own annotations say {}; re-encrypting would widen the scope. Please align your Sealed Secret metadata.\n",
                sealed.object_name(),
                template.as_str(),
                outer.as_str()
            ),
        );
    }
    let keys = shared.keys.snapshot();
    let resealed = tokio::task::spawn_blocking(move || reseal(&sealed, &keys)).await;
    match resealed {
        Ok(Ok(json)) => reply(StatusCode::OK, "application/json", json),
        Ok(Err(message)) => text(StatusCode::INTERNAL_SERVER_ERROR, format!("error decrypting secret. {message}\n")),
        Err(_) => text(StatusCode::INTERNAL_SERVER_ERROR, "error decrypting secret.\n"),
    }
}

/// Unseals with any key and seals again to the newest, keeping `spec.template.data` as
/// templates (upstream renders them into items, which freezes the rendered values).
fn reseal(sealed: &SealedSecret, keys: &crate::sealed::keys::KeySet) -> Result<String, String> {
    let latest = keys.latest().ok_or_else(|| "no sealing key".to_owned())?;
    let private = keys.private_keys();
    let template = sealed.spec.template.clone().unwrap_or_default();
    let mut secret = if sealed.spec.data.is_some() {
        sealed.unseal(&private).map_err(|e| e.to_string())?
    } else {
        let data = sealed.unseal_items(&private).map_err(|e| e.to_string())?;
        let mut metadata = template.metadata.clone();
        metadata.name.clone_from(&sealed.metadata.name);
        metadata.namespace.clone_from(&sealed.metadata.namespace);
        crate::sealed::document::Secret { metadata, type_: template.type_.clone(), immutable: template.immutable, data }
    };
    // The outer annotations decide the scope of the result.
    let annotations = &mut secret.metadata.annotations;
    for scope in [Scope::NamespaceWide, Scope::ClusterWide] {
        if let Some(a) = scope.annotation() {
            annotations.remove(a);
        }
    }
    if let Some(a) = sealed.scope().annotation() {
        annotations.insert(a.to_owned(), "true".to_owned());
    }
    let mut out = secret.seal(latest.certificate().public_key()).map_err(|e| e.to_string())?;
    if sealed.spec.data.is_none()
        && let Some(t) = out.spec.template.as_mut()
    {
        t.data = template.data;
    }
    Ok(out.to_json())
}

/// A GCRA limiter (upstream uses throttled's GCRA): each key may send `burst` requests at once,
/// then one every `1/rate` seconds.
pub struct Limiter {
    interval: Duration,
    tolerance: Duration,
    /// key → theoretical arrival time.
    state: Mutex<HashMap<String, Instant>>,
}

impl Limiter {
    pub fn new(rate: f64, burst: u32) -> Self {
        let interval = if rate > 0.0 { Duration::from_secs_f64(1.0 / rate) } else { Duration::ZERO };
        Self { interval, tolerance: interval * burst.max(1), state: Mutex::new(HashMap::new()) }
    }

    /// True when a request for `key` at `now` may go ahead.
    pub fn allow(&self, key: &str, now: Instant) -> bool {
        if self.interval.is_zero() {
            return true;
        }
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if state.len() > 10_000 {
            // Forget keys whose budget is full again, so the map cannot grow without bound.
            state.retain(|_, tat| *tat > now);
        }
        let tat = state.get(key).copied().filter(|t| *t > now).unwrap_or(now);
        let next = tat + self.interval;
        if next.saturating_duration_since(now) > self.tolerance {
            return false;
        }
        state.insert(key.to_owned(), next);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcra_allows_the_burst_then_the_rate() {
        let limiter = Limiter::new(2.0, 2);
        let t0 = Instant::now();
        assert!(limiter.allow("/v1/verify|a", t0));
        assert!(limiter.allow("/v1/verify|a", t0));
        assert!(!limiter.allow("/v1/verify|a", t0), "a third request at once is over the burst");
        assert!(limiter.allow("/v1/verify|b", t0), "another client has its own budget");
        assert!(limiter.allow("/v1/rotate|a", t0), "another path has its own budget");
        assert!(limiter.allow("/v1/verify|a", t0 + Duration::from_millis(500)), "one more after 1/rate");
        assert!(!limiter.allow("/v1/verify|a", t0 + Duration::from_millis(600)));
    }

    #[test]
    fn one_document_only() {
        let doc = "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {name: a, namespace: b}\nspec: {encryptedData: {}}\n";
        assert!(parse_one(doc.as_bytes()).is_ok());
        assert!(parse_one(format!("---\n{doc}").as_bytes()).is_ok());
        assert!(parse_one(format!("{doc}---\n{doc}").as_bytes()).is_err());
    }
}
