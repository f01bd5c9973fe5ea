//! The in-cluster daemon: process wiring around the reconcilers (`shared/specs/sealed-secrets.md`
//! §3–§4, `shared/ARCHITECTURE.md` "daemon"). One [`run`] call loads the sealing keys, serves the
//! HTTP API and metrics, campaigns for the Lease when asked to, and runs the SealedSecret
//! controller while it leads.
//!
//! * [`keys`]: the key registry (labelled key Secrets, generation, renewal, live pick-up).
//! * [`http`]: `/healthz`, `/readyz`, `/v1/cert.pem`, `/v1/verify`, `/v1/rotate`, `/metrics`.
//! * [`metrics`]: upstream's Prometheus metric names, in the text exposition format.
//! * [`leader`]: leader election through a `coordination.k8s.io/v1` Lease.
//! * [`ratelimit`]: client-go's token bucket on requests to the API server (`--kubeclient-qps`).
//!
//! [`run`] also renews the sealing key at once on `SIGUSR1`, as upstream's
//! `signal_notwin.go` does (§3.6), besides the periodic renewal.

pub mod http;
pub mod keys;
pub mod leader;
pub mod metrics;
pub mod ratelimit;

use std::collections::BTreeMap;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::sealed::keys::KeyOrder;

/// Everything `sealops daemon` is configured with (flags in `src/cli/daemon.rs`, spec §3.6).
#[derive(Clone)]
pub struct Config {
    /// How to reach the API server.
    pub kube: kube::Config,
    /// The controller's namespace: key Secrets and the Lease live here.
    pub namespace: String,
    /// `--key-prefix`: generateName of key Secrets, and the name of the legacy single key.
    pub key_prefix: String,
    /// `--key-size`: RSA bits of generated keys.
    pub key_size: usize,
    /// `--key-ttl`: certificate validity.
    pub key_ttl: Duration,
    /// `--my-cn`: the certificate's CN (empty DN when empty).
    pub my_cn: String,
    /// `--key-renew-period`: zero disables automatic renewal.
    pub key_renew_period: Duration,
    /// `--key-order-priority`.
    pub key_order: KeyOrder,
    /// `--key-cutoff-time` as Unix seconds: a latest key older than this is replaced at start.
    pub key_cutoff: Option<i64>,
    /// `--accept-deprecated-v1-data`.
    pub accept_deprecated_v1_data: bool,
    /// `--all-namespaces`; when false, [`Config::namespace`] plus `additional_namespaces`.
    pub all_namespaces: bool,
    /// `--additional-namespaces`.
    pub additional_namespaces: Vec<String>,
    /// `--label-selector` for SealedSecrets and Secrets.
    pub label_selector: Option<String>,
    /// `--rate-limit` (requests per second) of `/v1/verify` and `/v1/rotate`.
    pub rate_limit: f64,
    /// `--rate-limit-burst`.
    pub rate_limit_burst: u32,
    /// `--privatekey-labels`: added to every key Secret this daemon creates (the key label
    /// itself cannot be overridden).
    pub key_labels: BTreeMap<String, String>,
    /// `--privatekey-annotations`: added to every key Secret this daemon creates.
    pub key_annotations: BTreeMap<String, String>,
    /// `--old-gc-behavior`: when a SealedSecret is deleted, delete the same-named Secret here
    /// instead of leaving it to the garbage collector (§3.2).
    pub old_gc_behavior: bool,
    /// `--read-timeout` of both HTTP listeners (zero: none); see [`http`] for what it covers.
    pub read_timeout: Duration,
    /// `--write-timeout` of both HTTP listeners (zero: none).
    pub write_timeout: Duration,
    /// `--kubeclient-qps`: requests per second to the API server; negative turns throttling
    /// off, 0 means client-go's 5 ([`ratelimit`]). [`Config::new`] leaves it off (-1) so that
    /// embedders and tests are not throttled; the command line's default is upstream's 5.
    pub kube_qps: f32,
    /// `--kubeclient-burst` (0 means client-go's 10).
    pub kube_burst: i32,
    /// `--update-status`.
    pub update_status: bool,
    /// `--skip-recreate`: do not recreate Secrets deleted behind the controller's back.
    pub skip_recreate: bool,
    /// `--max-unseal-retries`.
    pub max_unseal_retries: u32,
    /// `--listen-addr`; `None` serves no API.
    pub listen_addr: Option<SocketAddr>,
    /// `--listen-metrics-addr`; `None` serves no metrics.
    pub listen_metrics_addr: Option<SocketAddr>,
    /// `--leader-elect`.
    pub leader_elect: bool,
    /// The Lease's name (`sealops-controller`).
    pub lease_name: String,
    /// This replica's identity in the Lease (the pod name, else the host name plus a random suffix).
    pub identity: String,
    /// Lease timing (client-go's defaults: 15 s lease, renew every 2 s).
    pub lease_duration: Duration,
    /// How often the leader renews and followers retry.
    pub lease_retry: Duration,
    /// How many SealedSecrets are reconciled at once (each unseal keeps a core busy).
    pub concurrency: usize,
}

impl Config {
    /// Upstream's defaults, for `namespace`, talking to `kube`.
    pub fn new(kube: kube::Config, namespace: impl Into<String>) -> Self {
        Self {
            kube,
            namespace: namespace.into(),
            key_prefix: "sealed-secrets-key".into(),
            key_size: crate::crypto::rsa::DEFAULT_BITS,
            key_ttl: Duration::from_secs(87_600 * 3600),
            my_cn: String::new(),
            key_renew_period: Duration::from_secs(720 * 3600),
            key_order: KeyOrder::CertNotBefore,
            key_cutoff: None,
            accept_deprecated_v1_data: true,
            all_namespaces: true,
            additional_namespaces: Vec::new(),
            label_selector: None,
            rate_limit: 2.0,
            rate_limit_burst: 2,
            key_labels: BTreeMap::new(),
            key_annotations: BTreeMap::new(),
            old_gc_behavior: false,
            read_timeout: Duration::from_secs(120),
            write_timeout: Duration::from_secs(120),
            kube_qps: -1.0,
            kube_burst: ratelimit::DEFAULT_BURST,
            update_status: true,
            skip_recreate: false,
            max_unseal_retries: 5,
            listen_addr: Some(SocketAddr::from(([0, 0, 0, 0], 8080))),
            listen_metrics_addr: Some(SocketAddr::from(([0, 0, 0, 0], 8081))),
            leader_elect: false,
            lease_name: "sealops-controller".into(),
            identity: default_identity(),
            lease_duration: Duration::from_secs(15),
            lease_retry: Duration::from_secs(2),
            concurrency: std::thread::available_parallelism().map_or(2, |n| n.get()).max(2) * 4,
        }
    }

    /// The namespaces whose SealedSecrets are reconciled; `None` means all.
    pub fn watched_namespaces(&self) -> Option<Vec<String>> {
        if self.all_namespaces && self.additional_namespaces.is_empty() {
            return None;
        }
        let mut out = vec![self.namespace.clone()];
        for ns in &self.additional_namespaces {
            if !out.contains(ns) {
                out.push(ns.clone());
            }
        }
        Some(out)
    }
}

fn default_identity() -> String {
    let host = std::env::var("POD_NAME")
        .or_else(|_| std::env::var("HOSTNAME"))
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok().map(|s| s.trim().to_owned()))
        .unwrap_or_else(|| "sealops".into());
    let suffix: [u8; 4] = crate::crypto::random::array();
    format!("{host}_{}", suffix.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// Errors that stop the daemon.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DaemonError {
    #[error("cannot build a Kubernetes client: {0}")]
    Client(#[source] kube::Error),
    #[error("cannot listen on {addr} ({what}): {source}")]
    Listen {
        what: &'static str,
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("key registry: {0}")]
    Keys(#[from] keys::KeysError),
    #[error("{0}")]
    RateLimit(#[from] ratelimit::RateLimitError),
    #[error("cannot listen for SIGUSR1 (key renewal): {0}")]
    Signal(#[source] std::io::Error),
}

impl DaemonError {
    /// A stable identifier for metrics and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Client(_) => "client",
            Self::Listen { .. } => "listen",
            Self::Keys(e) => e.kind(),
            Self::RateLimit(e) => e.kind(),
            Self::Signal(_) => "signal",
        }
    }
}

/// What every part of the daemon shares.
pub struct Shared {
    pub config: Config,
    pub client: kube::Client,
    pub keys: keys::KeyRegistry,
    pub metrics: metrics::Metrics,
    /// Set once the keys are loaded and the controller (or the campaign for the Lease) runs.
    pub ready: AtomicBool,
    /// True while this replica holds the Lease (always true without leader election).
    pub leading: AtomicBool,
    /// Wakes the leader's renewal loop for a key now (SIGUSR1).
    renew_now: tokio::sync::Notify,
}

impl Shared {
    /// Asks for a new sealing key now, besides the periodic renewal (upstream's SIGUSR1).
    /// Only the leader creates keys, so a follower refuses and returns false.
    pub fn renew_key_now(&self) -> bool {
        if !self.leading.load(Ordering::SeqCst) {
            tracing::warn!("key renewal requested, but this replica does not hold the Lease; ignored");
            return false;
        }
        tracing::info!("key renewal requested");
        // A permit is kept when the loop is busy, so a request during a renewal is not lost.
        self.renew_now.notify_one();
        true
    }
}

/// A running daemon, for tests and for [`run`].
pub struct DaemonHandle {
    http_addr: Option<SocketAddr>,
    metrics_addr: Option<SocketAddr>,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl DaemonHandle {
    /// Where the HTTP API listens (the bound address: port 0 in the config picks one).
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http_addr
    }

    /// Where `/metrics` listens.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// True once keys are loaded and the controller loop runs.
    pub fn is_ready(&self) -> bool {
        self.shared.ready.load(Ordering::SeqCst)
    }

    /// True while this replica holds the Lease.
    pub fn is_leader(&self) -> bool {
        self.shared.leading.load(Ordering::SeqCst)
    }

    /// The shared state (key registry, metrics).
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Stops every task and waits for them (in-flight reconciles finish; the Lease is released).
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        let deadline = tokio::time::sleep(Duration::from_secs(20));
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                next = self.tasks.join_next() => if next.is_none() { break },
                () = &mut deadline => {
                    tracing::warn!("shutdown: tasks still running after 20s, aborting them");
                    self.tasks.abort_all();
                    break;
                }
            }
        }
    }
}

/// Starts the daemon and returns once it listens; the work continues in background tasks.
pub async fn start(config: Config) -> Result<DaemonHandle, DaemonError> {
    let client = client(&config)?;
    let (stop, stopped) = watch::channel(false);
    let shared = Arc::new(Shared {
        keys: keys::KeyRegistry::new(config.key_order),
        metrics: metrics::Metrics::new(),
        ready: AtomicBool::new(false),
        leading: AtomicBool::new(!config.leader_elect),
        renew_now: tokio::sync::Notify::new(),
        client,
        config,
    });
    let mut tasks = JoinSet::new();
    let http_addr = match shared.config.listen_addr {
        Some(addr) => Some(http::serve(&mut tasks, addr, http::Role::Api, shared.clone(), stopped.clone()).await?),
        None => None,
    };
    let metrics_addr = match shared.config.listen_metrics_addr {
        Some(addr) => Some(http::serve(&mut tasks, addr, http::Role::Metrics, shared.clone(), stopped.clone()).await?),
        None => None,
    };
    tasks.spawn(main_loop(shared.clone(), stopped));
    Ok(DaemonHandle { http_addr, metrics_addr, shared, stop, tasks })
}

/// kube's client, behind client-go's throttle unless `--kubeclient-qps` is negative.
fn client(config: &Config) -> Result<kube::Client, DaemonError> {
    let builder = kube::client::ClientBuilder::try_from(config.kube.clone()).map_err(DaemonError::Client)?;
    Ok(match ratelimit::client_go_limits(config.kube_qps, config.kube_burst)? {
        Some((rate, burst)) => builder.with_layer(&ratelimit::ThrottleLayer::new(rate, burst)).build(),
        None => builder.build(),
    })
}

/// Runs the daemon until `shutdown` completes (e.g. SIGTERM), then stops gracefully. `SIGUSR1`
/// renews the sealing key meanwhile.
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> Result<(), DaemonError> {
    // Listen before starting, so that an early SIGUSR1 cannot kill the process (its default).
    let mut renewals = RenewalSignal::listen()?;
    let handle = start(config).await?;
    tracing::info!(
        http = ?handle.http_addr(),
        metrics = ?handle.metrics_addr(),
        "sealops daemon started"
    );
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            () = renewals.recv() => {
                handle.shared().renew_key_now();
            }
        }
    }
    tracing::info!("shutting down");
    handle.shutdown().await;
    Ok(())
}

/// `SIGUSR1`, upstream's trigger for an immediate key renewal (`signal_notwin.go`; none on
/// Windows, as upstream).
pub struct RenewalSignal {
    #[cfg(unix)]
    signal: tokio::signal::unix::Signal,
}

impl RenewalSignal {
    /// Installs the handler; from then on SIGUSR1 no longer terminates the process.
    pub fn listen() -> Result<Self, DaemonError> {
        #[cfg(unix)]
        {
            let kind = tokio::signal::unix::SignalKind::user_defined1();
            Ok(Self { signal: tokio::signal::unix::signal(kind).map_err(DaemonError::Signal)? })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    /// Waits for the next SIGUSR1.
    pub async fn recv(&mut self) {
        #[cfg(unix)]
        if self.signal.recv().await.is_some() {
            return;
        }
        std::future::pending::<()>().await;
    }
}

/// Loads the keys, keeps them current, and runs the controller while this replica leads.
async fn main_loop(shared: Arc<Shared>, mut stopped: watch::Receiver<bool>) {
    // Key loading retries until it works: the API server may not be reachable yet.
    let mut delay = Duration::from_millis(200);
    loop {
        match shared.keys.load(&shared.client, &shared.config).await {
            Ok(()) => break,
            Err(e) => {
                tracing::warn!(error = %e, "cannot load sealing keys; retrying");
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    _ = stopped.changed() => return,
                }
                delay = (delay * 2).min(Duration::from_secs(30));
            }
        }
    }
    let mut tasks = JoinSet::new();
    tasks.spawn(keys::watch_keys(shared.clone(), stopped.clone()));
    if shared.config.leader_elect {
        let (leading_tx, leading_rx) = watch::channel(false);
        tasks.spawn(leader::campaign(shared.clone(), leading_tx, stopped.clone()));
        shared.ready.store(true, Ordering::SeqCst);
        leader_gated(shared.clone(), leading_rx, stopped.clone()).await;
    } else {
        shared.ready.store(true, Ordering::SeqCst);
        lead(shared.clone(), stopped.clone()).await;
    }
    tasks.shutdown().await;
}

/// Runs [`lead`] whenever `leading` turns true and stops it when it turns false.
async fn leader_gated(shared: Arc<Shared>, mut leading: watch::Receiver<bool>, mut stopped: watch::Receiver<bool>) {
    loop {
        while !*leading.borrow_and_update() {
            tokio::select! {
                changed = leading.changed() => if changed.is_err() { return },
                _ = stopped.changed() => return,
            }
        }
        if *stopped.borrow() {
            return;
        }
        // A stop channel of its own, so that losing the Lease stops the work of this term only.
        let (term_stop, term_stopped) = watch::channel(false);
        let work = tokio::spawn(lead(shared.clone(), term_stopped));
        loop {
            tokio::select! {
                changed = leading.changed() => {
                    if changed.is_err() || !*leading.borrow_and_update() { break }
                }
                _ = stopped.changed() => break,
            }
        }
        let _ = term_stop.send(true);
        let _ = work.await;
        if *stopped.borrow() {
            return;
        }
    }
}

/// The leader's work: key renewal and the SealedSecret controller.
async fn lead(shared: Arc<Shared>, stopped: watch::Receiver<bool>) {
    let mut tasks = JoinSet::new();
    tasks.spawn(keys::renew(shared.clone(), stopped.clone()));
    tasks.spawn(crate::controller::sealed_secret::run(shared.clone(), stopped));
    while tasks.join_next().await.is_some() {}
}

/// Parses a Go `time.Duration` string as the upstream flags take it: `720h`, `1h30m`, `90s`,
/// `1.5h`, `500ms`, or `0`.
pub fn parse_go_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    if text.is_empty() {
        return Err("empty duration".into());
    }
    let mut total = 0f64;
    let mut rest = text;
    while !rest.is_empty() {
        let number_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        if number_len == 0 {
            return Err(format!("invalid duration {text:?}"));
        }
        let number: f64 = rest[..number_len].parse().map_err(|_| format!("invalid duration {text:?}"))?;
        rest = &rest[number_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "" => return Err(format!("missing unit in duration {text:?}")),
            unit => return Err(format!("unknown unit {unit:?} in duration {text:?}")),
        };
        total += number * scale;
        rest = &rest[unit_len..];
    }
    Duration::try_from_secs_f64(total).map_err(|_| format!("duration {text:?} out of range"))
}

/// Parses `--key-cutoff-time`: RFC 1123 with a numeric zone, as `date -R` prints it
/// (`Mon, 02 Jan 2006 15:04:05 -0700`). Returns Unix seconds.
pub fn parse_rfc1123z(text: &str) -> Result<i64, String> {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] [offset_hour sign:mandatory][offset_minute]"
    );
    time::OffsetDateTime::parse(text.trim(), &format)
        .map(|t| t.unix_timestamp())
        .map_err(|e| format!("{text:?} is not an RFC1123Z time (like `date -R`): {e}"))
}

/// Now as RFC 3339 with seconds (`metav1.Time`).
pub(crate) fn now_rfc3339() -> String {
    rfc3339(time::OffsetDateTime::now_utc(), false)
}

/// Now as RFC 3339 with microseconds (`metav1.MicroTime`, Lease times).
pub(crate) fn now_micro() -> String {
    rfc3339(time::OffsetDateTime::now_utc(), true)
}

fn rfc3339(t: time::OffsetDateTime, micros: bool) -> String {
    let base = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    if micros { format!("{base}.{:06}Z", t.microsecond()) } else { format!("{base}Z") }
}

/// Parses an RFC 3339 time to Unix seconds (fractional).
pub(crate) fn parse_rfc3339(text: &str) -> Option<f64> {
    let t = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    Some(t.unix_timestamp_nanos() as f64 / 1e9)
}

pub(crate) fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_parse_as_go_does() {
        assert_eq!(parse_go_duration("720h"), Ok(Duration::from_secs(720 * 3600)));
        assert_eq!(parse_go_duration("87600h"), Ok(Duration::from_secs(87_600 * 3600)));
        assert_eq!(parse_go_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_go_duration("1.5h"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_go_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_go_duration("0"), Ok(Duration::ZERO));
        assert!(parse_go_duration("10").is_err(), "Go requires a unit except for 0");
        assert!(parse_go_duration("3d").is_err(), "Go has no day unit");
        assert!(parse_go_duration("").is_err());
    }

    #[test]
    fn cutoff_time_is_date_dash_r() {
        // `date -R -d @1700000000` prints "Tue, 14 Nov 2023 22:13:20 +0000".
        assert_eq!(parse_rfc1123z("Tue, 14 Nov 2023 22:13:20 +0000"), Ok(1_700_000_000));
        assert_eq!(parse_rfc1123z("Wed, 15 Nov 2023 00:13:20 +0200"), Ok(1_700_000_000));
        assert!(parse_rfc1123z("2023-11-14T22:13:20Z").is_err());
    }

    #[test]
    fn scope_is_own_namespace_plus_additional_when_not_all() {
        let kube = kube::Config::new("http://127.0.0.1:1".parse().expect("uri"));
        let mut config = Config::new(kube, "kube-system");
        assert_eq!(config.watched_namespaces(), None);
        config.all_namespaces = false;
        config.additional_namespaces = vec!["a".into(), "kube-system".into()];
        assert_eq!(config.watched_namespaces(), Some(vec!["kube-system".to_owned(), "a".to_owned()]));
    }

    #[test]
    fn rfc3339_round_trips() {
        let t = time::OffsetDateTime::from_unix_timestamp(1_700_000_000).expect("time");
        assert_eq!(rfc3339(t, false), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(t, true), "2023-11-14T22:13:20.000000Z");
        assert_eq!(parse_rfc3339("2023-11-14T22:13:20.000000Z"), Some(1_700_000_000.0));
    }
}
