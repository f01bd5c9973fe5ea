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
//!
//! Timeouts (`--read-timeout`, `--write-timeout`, 2 min each) follow Go's `http.Server` as
//! upstream configures it (`ReadTimeout = ReadHeaderTimeout = --read-timeout`,
//! `WriteTimeout = --write-timeout`, no `IdleTimeout`, so idle keep-alive falls back to
//! `ReadTimeout`), on both listeners; zero disables one, as in Go:
//!
//! * read: hyper's header-read timer, which runs from the moment the connection waits for a
//!   request head (a new connection, or an idle keep-alive one) until the head is in: Go's
//!   idle and header timeouts. The body must then be in by the same time after the head: Go
//!   counts the whole request from its first byte, so this is slightly more lenient. A body
//!   that is late gets `400`, as upstream's handlers answer a failed body read, when the write
//!   timeout is longer; with equal timeouts (the defaults) the write deadline has passed by
//!   then and the connection just closes (in Go the header's transfer time decides that race).
//! * write: Go sets a write deadline on the connection when a request head has been read;
//!   writing the response after it fails and the connection is closed, so the client gets no
//!   answer. Here the same deadline fails the connection's writes, and the handler is also
//!   stopped at that deadline (Go lets it run to the end only to discard its answer).
//!
//! `/metrics` counts requests and their handling time on `/v1/cert.pem`, `/v1/verify` and
//! `/v1/rotate`, the handlers upstream wraps with `Instrument`; other paths are not counted,
//! so that arbitrary request paths cannot grow the metric without bound.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
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
            let timeouts = Timeouts { read: shared.config.read_timeout, write: shared.config.write_timeout };
            tokio::spawn(serve_connection(stream, timeouts, move |req, body_deadline| {
                let (shared, limiter) = (shared.clone(), limiter.clone());
                async move { handle(req, role, &shared, &limiter, peer, body_deadline).await }
            }));
        }
    });
    Ok(bound)
}

/// `--read-timeout` and `--write-timeout`; zero means none.
#[derive(Clone, Copy)]
pub struct Timeouts {
    pub read: Duration,
    pub write: Duration,
}

fn nonzero(d: Duration) -> Option<Duration> {
    (!d.is_zero()).then_some(d)
}

fn timed_out(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::TimedOut, format!("{what} timeout"))
}

/// Serves one HTTP/1 connection with Go's timeouts (module docs). `handler` gets each request
/// and the time by which its body must be read.
async fn serve_connection<IO, H, F>(io: IO, timeouts: Timeouts, handler: H)
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    H: Fn(Request<Incoming>, Option<tokio::time::Instant>) -> F + Send + Sync + 'static,
    F: Future<Output = Reply> + Send + 'static,
{
    let deadline = Arc::new(Mutex::new(None));
    let io = WriteDeadline { io, deadline: deadline.clone(), sleep: None };
    let handler = Arc::new(handler);
    let service = service_fn(move |req| {
        let head_read = tokio::time::Instant::now();
        let write_deadline = nonzero(timeouts.write).map(|d| head_read + d);
        *deadline.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = write_deadline;
        let answer = handler(req, nonzero(timeouts.read).map(|d| head_read + d));
        async move {
            match write_deadline {
                // Past the deadline the answer could not be written anyway: stop the handler.
                Some(at) => tokio::time::timeout_at(at, answer).await.map_err(|_| timed_out("write")),
                None => Ok(answer.await),
            }
        }
    });
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(nonzero(timeouts.read));
    if let Err(e) = builder.serve_connection(TokioIo::new(io), service).await {
        tracing::debug!(error = %e, "HTTP connection ended with an error");
    }
}

/// A connection whose writes fail once the deadline set for the current response has passed
/// (Go's `SetWriteDeadline`). Reads are untouched; a write that blocks is woken at the deadline.
struct WriteDeadline<IO> {
    io: IO,
    deadline: Arc<Mutex<Option<tokio::time::Instant>>>,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<IO: AsyncWrite + Unpin> WriteDeadline<IO> {
    fn guard<T>(
        &mut self,
        cx: &mut Context<'_>,
        op: impl FnOnce(Pin<&mut IO>, &mut Context<'_>) -> Poll<std::io::Result<T>>,
    ) -> Poll<std::io::Result<T>> {
        let deadline = *self.deadline.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if deadline.is_some_and(|at| tokio::time::Instant::now() >= at) {
            return Poll::Ready(Err(timed_out("write")));
        }
        let polled = op(Pin::new(&mut self.io), cx);
        if polled.is_pending()
            && let Some(at) = deadline
        {
            let sleep = self.sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at)));
            sleep.as_mut().reset(at);
            if sleep.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Err(timed_out("write")));
            }
        }
        polled
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for WriteDeadline<IO> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for WriteDeadline<IO> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        self.get_mut().guard(cx, |io, cx| io.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        self.get_mut().guard(cx, |io, cx| io.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        // Not guarded: hyper flushes idle connections too, where Go's deadline has no effect
        // (nothing is written), and a socket's flush writes nothing itself.
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        // Closing is always allowed: it is what a missed deadline leads to.
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
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

async fn handle(
    req: Request<Incoming>,
    role: Role,
    shared: &Shared,
    limiter: &Limiter,
    peer: SocketAddr,
    body_deadline: Option<tokio::time::Instant>,
) -> Reply {
    let started = Instant::now();
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
                match read_body(req, body_deadline).await {
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
    if role == Role::Api && INSTRUMENTED.contains(&path.as_str()) {
        let seconds = started.elapsed().as_secs_f64();
        shared.metrics.http_request(&path, response.status().as_u16(), method.as_str(), seconds);
    }
    response
}

/// The handlers upstream wraps with `Instrument` (`server.go`).
const INSTRUMENTED: [&str; 3] = ["/v1/verify", "/v1/rotate", "/v1/cert.pem"];

async fn read_body(req: Request<Incoming>, deadline: Option<tokio::time::Instant>) -> Result<Bytes, String> {
    let collect = Limited::new(req.into_body(), MAX_DOCUMENT_BYTES).collect();
    let collected = match deadline {
        Some(at) => tokio::time::timeout_at(at, collect)
            .await
            .map_err(|_| "cannot read the request body: read timeout (--read-timeout)\n".to_owned())?,
        None => collect.await,
    };
    collected.map(http_body_util::Collected::to_bytes).map_err(|e| format!("cannot read the request body: {e}\n"))
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

    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    const SECOND: Duration = Duration::from_secs(1);

    /// Serves `handler` on one end of an in-memory pipe with a 1 s read and a 2 s write
    /// timeout; returns the other end.
    fn connection<F>(handler: impl Fn() -> F + Send + Sync + 'static) -> tokio::io::DuplexStream
    where
        F: Future<Output = Reply> + Send + 'static,
    {
        connection_with(Timeouts { read: SECOND, write: 2 * SECOND }, handler)
    }

    fn connection_with<F>(
        timeouts: Timeouts,
        handler: impl Fn() -> F + Send + Sync + 'static,
    ) -> tokio::io::DuplexStream
    where
        F: Future<Output = Reply> + Send + 'static,
    {
        let (client, server) = tokio::io::duplex(64 * 1024);
        tokio::spawn(serve_connection(server, timeouts, move |req, deadline| {
            let work = handler();
            async move {
                match read_body(req, deadline).await {
                    Ok(_) => work.await,
                    Err(message) => text(StatusCode::BAD_REQUEST, message),
                }
            }
        }));
        client
    }

    /// Reads until the server closes; returns what came and when the close came.
    async fn until_closed(client: &mut tokio::io::DuplexStream) -> (String, Duration) {
        let started = tokio::time::Instant::now();
        let mut out = Vec::new();
        let _ = client.read_to_end(&mut out).await;
        (String::from_utf8_lossy(&out).into_owned(), started.elapsed())
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_within_the_timeouts_is_answered() {
        let mut client = connection(|| async { text(StatusCode::OK, "ok\n") });
        client.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.expect("write");
        let (answer, _) = until_closed(&mut client).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_head_not_in_within_the_read_timeout_closes_the_connection() {
        let mut client = connection(|| async { text(StatusCode::OK, "ok\n") });
        client.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.expect("write");
        let (answer, waited) = until_closed(&mut client).await;
        assert!(!answer.contains("200"), "{answer}");
        assert!(waited >= SECOND && waited < 2 * SECOND, "closed after {waited:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_keep_alive_connection_is_closed_after_the_read_timeout() {
        let mut client = connection(|| async { text(StatusCode::OK, "ok\n") });
        client.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.expect("write");
        let (answer, waited) = until_closed(&mut client).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(waited >= SECOND && waited < 2 * SECOND, "closed after {waited:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_not_in_within_the_read_timeout_gets_400() {
        let mut client = connection(|| async { text(StatusCode::OK, "ok\n") });
        client
            .write_all(b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 10\r\n\r\nab")
            .await
            .expect("write");
        let (answer, waited) = until_closed(&mut client).await;
        assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
        assert!(answer.contains("read timeout"), "{answer}");
        assert!(waited >= SECOND && waited < 2 * SECOND, "answered after {waited:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn an_answer_not_ready_within_the_write_timeout_is_never_sent() {
        let mut client = connection(|| async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            text(StatusCode::OK, "late\n")
        });
        client.write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.expect("write");
        let (answer, waited) = until_closed(&mut client).await;
        assert_eq!(answer, "", "Go closes the connection without an answer");
        assert!(waited >= 2 * SECOND && waited < 3 * SECOND, "closed after {waited:?}");
    }

    /// Go's write deadline only fails writes: a keep-alive connection idle past it (but within
    /// the read timeout) still answers its next request.
    #[tokio::test(start_paused = true)]
    async fn a_keep_alive_connection_outlives_the_previous_write_deadline() {
        let timeouts = Timeouts { read: 10 * SECOND, write: SECOND };
        let mut client = connection_with(timeouts, || async { text(StatusCode::OK, "ok\n") });
        let mut buf = vec![0u8; 4096];
        client.write_all(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n").await.expect("write");
        let n = client.read(&mut buf).await.expect("read");
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
        tokio::time::sleep(3 * SECOND).await;
        client.write_all(b"GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.expect("write");
        let (answer, _) = until_closed(&mut client).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn writes_after_the_deadline_fail() {
        let (mut client, server) = tokio::io::duplex(16);
        let deadline = Arc::new(Mutex::new(Some(tokio::time::Instant::now() + SECOND)));
        let mut io = WriteDeadline { io: server, deadline, sleep: None };
        io.write_all(b"0123456789abcdef").await.expect("room for 16 bytes before the deadline");
        // The pipe is full and nobody reads: the blocked write fails at the deadline.
        let started = tokio::time::Instant::now();
        let e = io.write_all(b"more").await.expect_err("deadline");
        assert_eq!(e.kind(), std::io::ErrorKind::TimedOut);
        assert_eq!(started.elapsed(), SECOND);
        let mut first = [0u8; 16];
        client.read_exact(&mut first).await.expect("read");
        assert!(io.write_all(b"x").await.is_err(), "past the deadline even with room");
    }

    #[test]
    fn one_document_only() {
        let doc = "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {name: a, namespace: b}\nspec: {encryptedData: {}}\n";
        assert!(parse_one(doc.as_bytes()).is_ok());
        assert!(parse_one(format!("---\n{doc}").as_bytes()).is_ok());
        assert!(parse_one(format!("{doc}---\n{doc}").as_bytes()).is_err());
    }
}
