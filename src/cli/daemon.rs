//! `sealops daemon`: the in-cluster controller. Flag names, defaults and the
//! `SEALED_SECRETS_<FLAG>` environment variables are upstream's (`shared/specs/sealed-secrets.md`
//! §3.6), so an existing Deployment's arguments keep working.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use sealops::daemon::keys::{PairKind, parse_pairs};
use sealops::daemon::{self, Config, parse_go_duration, parse_rfc1123z};
use sealops::sealed::keys::KeyOrder;
use tracing_subscriber::fmt::writer::EitherWriter;

/// Go's `strconv.ParseBool` spellings, as upstream's flags accept them.
fn go_bool(s: &str) -> Result<bool, String> {
    match s {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        other => Err(format!("invalid boolean {other:?}")),
    }
}

#[derive(Args)]
pub struct DaemonArgs {
    /// Prefix of the key Secrets' generateName (and the name of a pre-v0.9 single key Secret).
    #[arg(long, env = "SEALED_SECRETS_KEY_PREFIX", default_value = "sealed-secrets-key")]
    pub key_prefix: String,
    /// RSA bits of generated keys.
    #[arg(long, env = "SEALED_SECRETS_KEY_SIZE", default_value_t = 4096)]
    pub key_size: usize,
    /// Validity of generated certificates (Go duration).
    #[arg(long, env = "SEALED_SECRETS_KEY_TTL", default_value = "87600h")]
    pub key_ttl: String,
    /// CN of generated certificates (empty DN by default).
    #[arg(long, env = "SEALED_SECRETS_MY_CN", default_value = "")]
    pub my_cn: String,
    /// Renew the sealing key this often (Go duration; 0 disables).
    #[arg(long, alias = "rotate-period", env = "SEALED_SECRETS_KEY_RENEW_PERIOD", default_value = "720h")]
    pub key_renew_period: String,
    /// Which key counts as the newest: CertNotBefore or SecretCreationTimestamp.
    #[arg(long, env = "SEALED_SECRETS_KEY_ORDER_PRIORITY", default_value = "CertNotBefore")]
    pub key_order_priority: String,
    /// Create a new key at start if the newest is older than this (RFC1123Z, as `date -R`).
    #[arg(long, env = "SEALED_SECRETS_KEY_CUTOFF_TIME", default_value = "")]
    pub key_cutoff_time: String,
    /// Accept SealedSecrets in the deprecated v1 format (`spec.data`).
    #[arg(long, env = "SEALED_SECRETS_ACCEPT_DEPRECATED_V1_DATA", default_value = "true", action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", value_parser = go_bool)]
    pub accept_deprecated_v1_data: bool,
    /// Watch SealedSecrets in all namespaces (else the controller's own plus --additional-namespaces).
    #[arg(long, env = "SEALED_SECRETS_ALL_NAMESPACES", default_value = "true", action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", value_parser = go_bool)]
    pub all_namespaces: bool,
    /// Comma-separated namespaces watched besides the controller's own.
    #[arg(long, env = "SEALED_SECRETS_ADDITIONAL_NAMESPACES", default_value = "")]
    pub additional_namespaces: String,
    /// Only SealedSecrets and Secrets matching this label selector.
    #[arg(long, env = "SEALED_SECRETS_LABEL_SELECTOR", default_value = "")]
    pub label_selector: String,
    /// Requests per second per client on /v1/verify and /v1/rotate.
    #[arg(long, env = "SEALED_SECRETS_RATE_LIMIT", default_value_t = 2.0)]
    pub rate_limit: f64,
    /// Burst of the same limiter.
    #[arg(long, env = "SEALED_SECRETS_RATE_LIMIT_BURST", default_value_t = 2)]
    pub rate_limit_burst: u32,
    /// Comma-separated key=value annotations added to the key Secrets this daemon creates.
    #[arg(long, env = "SEALED_SECRETS_PRIVATEKEY_ANNOTATIONS", default_value = "")]
    pub privatekey_annotations: String,
    /// Comma-separated key=value labels added to the key Secrets this daemon creates.
    #[arg(long, env = "SEALED_SECRETS_PRIVATEKEY_LABELS", default_value = "")]
    pub privatekey_labels: String,
    /// Delete a deleted SealedSecret's same-named Secret here instead of leaving it to the garbage collector.
    #[arg(long, env = "SEALED_SECRETS_OLD_GC_BEHAVIOR", default_value = "false", action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", value_parser = go_bool)]
    pub old_gc_behavior: bool,
    /// HTTP request timeout (Go duration; 0 disables).
    #[arg(long, env = "SEALED_SECRETS_READ_TIMEOUT", default_value = "2m")]
    pub read_timeout: String,
    /// HTTP response timeout (Go duration; 0 disables).
    #[arg(long, env = "SEALED_SECRETS_WRITE_TIMEOUT", default_value = "2m")]
    pub write_timeout: String,
    /// Requests per second to the API server (negative disables throttling; 0 means 5).
    #[arg(long, env = "SEALED_SECRETS_KUBECLIENT_QPS", default_value_t = 5.0, allow_negative_numbers = true)]
    pub kubeclient_qps: f32,
    /// Burst of requests to the API server (0 means 10).
    #[arg(long, env = "SEALED_SECRETS_KUBECLIENT_BURST", default_value_t = 10, allow_negative_numbers = true)]
    pub kubeclient_burst: i32,
    /// Log info and debug to stdout, warnings and errors to stderr (false: everything to stderr).
    #[arg(long, env = "SEALED_SECRETS_LOG_INFO_STDOUT", default_value = "true", action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", value_parser = go_bool)]
    pub log_info_stdout: bool,
    /// Write the SealedSecret status.
    #[arg(long, env = "SEALED_SECRETS_UPDATE_STATUS", default_value = "true", action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", value_parser = go_bool)]
    pub update_status: bool,
    /// Do not recreate Secrets deleted behind the controller's back.
    #[arg(long, env = "SEALED_SECRETS_SKIP_RECREATE", default_value = "false", action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", value_parser = go_bool)]
    pub skip_recreate: bool,
    /// Failed unseals retried before giving up (until the spec changes).
    #[arg(long, env = "SEALED_SECRETS_MAX_UNSEAL_RETRIES", default_value_t = 5)]
    pub max_unseal_retries: u32,
    /// HTTP API address (`:8080` = all interfaces; empty disables).
    #[arg(long, env = "SEALED_SECRETS_LISTEN_ADDR", default_value = ":8080")]
    pub listen_addr: String,
    /// Metrics address (empty disables).
    #[arg(long, alias = "metrics-addr", env = "SEALED_SECRETS_LISTEN_METRICS_ADDR", default_value = ":8081")]
    pub listen_metrics_addr: String,
    /// Log level: error, warn, info, debug, trace (case-insensitive; RUST_LOG overrides).
    #[arg(long, env = "SEALED_SECRETS_LOG_LEVEL", default_value = "info")]
    pub log_level: String,
    /// Elect a leader through a Lease; only the leader writes.
    #[arg(long, env = "SEALED_SECRETS_LEADER_ELECT", default_value = "false", action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", value_parser = go_bool)]
    pub leader_elect: bool,
    /// Name of the Lease.
    #[arg(long, env = "SEALED_SECRETS_LEADER_ELECTION_ID", default_value = "sealops-controller")]
    pub leader_election_id: String,
    /// The controller's namespace (default: $POD_NAMESPACE, else the service account's, else `default`).
    #[arg(long, env = "SEALED_SECRETS_NAMESPACE")]
    pub namespace: Option<String>,
    /// Kubeconfig file (default: in-cluster, else $KUBECONFIG or ~/.kube/config).
    #[arg(long, env = "SEALED_SECRETS_KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,
}

/// Upstream's `:8080` form: an empty host means all interfaces.
fn listen(flag: &str, value: &str) -> Result<Option<SocketAddr>> {
    if value.is_empty() {
        return Ok(None);
    }
    let full = if value.starts_with(':') { format!("0.0.0.0{value}") } else { value.to_owned() };
    full.parse()
        .map(Some)
        .with_context(|| format!("--{flag}: {value:?} is not an address like :8080 or 127.0.0.1:8080"))
}

pub(super) fn controller_namespace(flag: Option<String>) -> String {
    if let Some(ns) = flag.filter(|n| !n.is_empty()) {
        return ns;
    }
    if let Ok(ns) = std::env::var("POD_NAMESPACE")
        && !ns.is_empty()
    {
        return ns;
    }
    std::fs::read_to_string("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "default".into())
}

pub(super) async fn kube_config(path: Option<&PathBuf>) -> Result<kube::Config> {
    // The one loader `seal` uses too: `--kubeconfig`, else $KUBECONFIG / ~/.kube/config, else
    // the service account.
    let overrides = sealops::k8s::connect::Overrides { kubeconfig: path.cloned(), ..Default::default() };
    Ok(sealops::k8s::connect::config(&overrides).await?)
}

/// `--log-info-stdout` (upstream `pkg/log.MultiStreamHandler`): records up to INFO go to
/// stdout, WARN and ERROR to stderr; without the flag everything goes to stderr.
#[derive(Clone, Copy)]
struct SplitWriter {
    info_stdout: bool,
}

/// tracing orders levels by verbosity (ERROR < WARN < INFO < DEBUG < TRACE).
fn to_stdout(level: &tracing::Level, info_stdout: bool) -> bool {
    info_stdout && *level > tracing::Level::WARN
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for SplitWriter {
    type Writer = EitherWriter<std::io::Stdout, std::io::Stderr>;

    fn make_writer(&'a self) -> Self::Writer {
        EitherWriter::B(std::io::stderr())
    }

    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> Self::Writer {
        if to_stdout(meta.level(), self.info_stdout) {
            EitherWriter::A(std::io::stdout())
        } else {
            EitherWriter::B(std::io::stderr())
        }
    }
}

fn init_logging(level: &str, format: Option<&str>, info_stdout: bool) -> Result<()> {
    let level = level.to_ascii_lowercase();
    if !matches!(level.as_str(), "error" | "warn" | "info" | "debug" | "trace") {
        bail!("--log-level: {level:?} is not one of error, warn, info, debug, trace");
    }
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("{level},hyper=warn,kube=warn,tower=warn")));
    let builder =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(SplitWriter { info_stdout }).with_ansi(false);
    let _ = match format {
        Some("json") => builder.json().flatten_event(true).try_init(),
        Some("text") | None => builder.try_init(),
        Some(other) => bail!("--log-format: {other:?} is not text or json"),
    };
    Ok(())
}

pub fn run(log_format: Option<&str>, a: DaemonArgs) -> Result<()> {
    let env_format = std::env::var("SEALED_SECRETS_LOG_FORMAT").ok();
    init_logging(&a.log_level, log_format.or(env_format.as_deref()), a.log_info_stdout)?;
    let key_order = match a.key_order_priority.as_str() {
        "CertNotBefore" => KeyOrder::CertNotBefore,
        "SecretCreationTimestamp" => KeyOrder::SecretCreationTimestamp,
        other => bail!("--key-order-priority: {other:?} is not CertNotBefore or SecretCreationTimestamp"),
    };
    if a.key_prefix.is_empty()
        || a.key_prefix.len() > 245
        || !a.key_prefix.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        bail!("--key-prefix: {:?} must be 1–245 characters of [a-z0-9-]", a.key_prefix);
    }
    let duration = |flag: &str, v: &str| parse_go_duration(v).map_err(|e| anyhow::anyhow!("--{flag}: {e}"));
    let key_ttl = duration("key-ttl", &a.key_ttl)?;
    let key_renew_period = duration("key-renew-period", &a.key_renew_period)?;
    let key_cutoff = if a.key_cutoff_time.is_empty() {
        None
    } else {
        Some(parse_rfc1123z(&a.key_cutoff_time).map_err(|e| anyhow::anyhow!("--key-cutoff-time: {e}"))?)
    };
    let read_timeout = duration("read-timeout", &a.read_timeout)?;
    let write_timeout = duration("write-timeout", &a.write_timeout)?;
    let key_labels = parse_pairs(PairKind::Labels, &a.privatekey_labels)?;
    let key_annotations = parse_pairs(PairKind::Annotations, &a.privatekey_annotations)?;
    // Checked here too, so that a bad value stops the daemon before it starts anything.
    daemon::ratelimit::client_go_limits(a.kubeclient_qps, a.kubeclient_burst)?;
    let listen_addr = listen("listen-addr", &a.listen_addr)?;
    let listen_metrics_addr = listen("listen-metrics-addr", &a.listen_metrics_addr)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")?;
    runtime.block_on(async move {
        let kube = kube_config(a.kubeconfig.as_ref()).await?;
        let mut config = Config::new(kube, controller_namespace(a.namespace));
        config.key_prefix = a.key_prefix;
        config.key_size = a.key_size;
        config.key_ttl = key_ttl;
        config.my_cn = a.my_cn;
        config.key_renew_period = key_renew_period;
        config.key_order = key_order;
        config.key_cutoff = key_cutoff;
        config.accept_deprecated_v1_data = a.accept_deprecated_v1_data;
        config.all_namespaces = a.all_namespaces;
        config.additional_namespaces =
            a.additional_namespaces.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
        config.label_selector = Some(a.label_selector).filter(|s| !s.is_empty());
        config.rate_limit = a.rate_limit;
        config.rate_limit_burst = a.rate_limit_burst;
        config.key_labels = key_labels;
        config.key_annotations = key_annotations;
        config.old_gc_behavior = a.old_gc_behavior;
        config.read_timeout = read_timeout;
        config.write_timeout = write_timeout;
        config.kube_qps = a.kubeclient_qps;
        config.kube_burst = a.kubeclient_burst;
        config.update_status = a.update_status;
        config.skip_recreate = a.skip_recreate;
        config.max_unseal_retries = a.max_unseal_retries;
        config.listen_addr = listen_addr;
        config.listen_metrics_addr = listen_metrics_addr;
        config.leader_elect = a.leader_elect;
        config.lease_name = a.leader_election_id;
        daemon::run(config, shutdown_signal()).await.map_err(anyhow::Error::from)
    })
}

/// SIGTERM (Kubernetes stopping the pod) or SIGINT.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_addresses_take_upstreams_colon_form() {
        assert_eq!(listen("x", ":8080").expect("ok"), Some(SocketAddr::from(([0, 0, 0, 0], 8080))));
        assert_eq!(listen("x", "127.0.0.1:9").expect("ok"), Some(SocketAddr::from(([127, 0, 0, 1], 9))));
        assert_eq!(listen("x", "").expect("ok"), None);
        assert!(listen("x", "localhost").is_err());
    }

    #[test]
    fn info_goes_to_stdout_and_warnings_to_stderr_as_upstream() {
        use tracing::Level;
        assert!(to_stdout(&Level::INFO, true));
        assert!(to_stdout(&Level::DEBUG, true));
        assert!(!to_stdout(&Level::WARN, true));
        assert!(!to_stdout(&Level::ERROR, true));
        assert!(!to_stdout(&Level::INFO, false), "--log-info-stdout=false: all to stderr");
    }

    #[test]
    fn go_booleans() {
        assert_eq!(go_bool("T"), Ok(true));
        assert_eq!(go_bool("0"), Ok(false));
        assert!(go_bool("yes").is_err());
    }
}
