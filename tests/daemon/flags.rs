//! Upstream's controller flags beyond the core ones (`shared/specs/sealed-secrets.md` §3.6):
//! SIGUSR1 renewal with `--privatekey-labels`/`--privatekey-annotations` and
//! `--log-info-stdout` (through the real `sealops daemon` process), `--old-gc-behavior`,
//! `--read-timeout`, and the request-duration histogram.

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::time::{Duration, Instant};

use kube::api::DeleteParams;
use sealops::crypto::rsa::Certificate;
use sealops::sealed::document::{ObjectMeta, Secret};
use serde_json::Value;

use crate::support::{self, NS, eventually, http};

const SKIP_OWNER: &str = "sealedsecrets.bitnami.com/skip-set-owner-references";
const MANAGED: &str = "sealedsecrets.bitnami.com/managed";

/// A SealedSecret whose Secret gets no owner reference (and is `managed`, so the controller
/// may update it): only the controller itself can then delete that Secret.
fn sealed_without_owner(cert: &Certificate, ns: &str, name: &str) -> Value {
    let metadata = ObjectMeta {
        name: Some(name.into()),
        namespace: Some(ns.into()),
        annotations: [(SKIP_OWNER.to_owned(), "true".to_owned()), (MANAGED.to_owned(), "true".to_owned())].into(),
        ..ObjectMeta::default()
    };
    let data: BTreeMap<_, _> =
        [("password".to_owned(), sealops::crypto::SecretBytes::from_slice(b"not-a-real-password"))].into();
    let secret = Secret { metadata, type_: Some("Opaque".into()), immutable: None, data };
    serde_json::to_value(secret.seal(cert.public_key()).expect("seal")).expect("JSON")
}

/// Runs `sealops daemon` with `args` against `cluster` and kills it with SIGTERM on drop.
struct DaemonProcess(Option<std::process::Child>);

impl DaemonProcess {
    fn start(kubeconfig: &std::path::Path, args: &[&str]) -> Self {
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_sealops"))
            .arg("daemon")
            .arg(format!("--kubeconfig={}", kubeconfig.display()))
            .args(["--namespace", NS, "--key-size=2048", "--key-renew-period=0"])
            .args(["--listen-addr=127.0.0.1:0", "--listen-metrics-addr="])
            .args(args)
            .env_remove("RUST_LOG")
            .env_remove("KUBECONFIG")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("sealops daemon runs");
        Self(Some(child))
    }

    fn signal(&self, signal: rustix::process::Signal) {
        let child = self.0.as_ref().expect("running");
        rustix::process::kill_process(rustix::process::Pid::from_child(child), signal).expect("signal sent");
    }

    /// SIGTERM, then (exit status, stdout, stderr).
    fn stop(mut self) -> (Option<i32>, String, String) {
        self.signal(rustix::process::Signal::TERM);
        let mut child = self.0.take().expect("running");
        let (mut out, mut err) = (String::new(), String::new());
        child.stdout.take().expect("stdout").read_to_string(&mut out).expect("stdout read");
        child.stderr.take().expect("stderr").read_to_string(&mut err).expect("stderr read");
        let status = child.wait().expect("daemon exits");
        (status.code(), out, err)
    }
}

impl Drop for DaemonProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// SIGUSR1 makes the daemon create a second key Secret at once; both carry the labels and
/// annotations of the flags, and the key label stays `active`. Info logs went to stdout and
/// warnings to stderr (`--log-info-stdout`, default true).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigusr1_renews_the_key_with_the_flags_labels_and_annotations() {
    let cluster = support::cluster().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    cluster.server.write_kubeconfig(&kubeconfig).expect("kubeconfig");
    let daemon = DaemonProcess::start(
        &kubeconfig,
        &[
            "--privatekey-labels=team=platform,env=test,sealedsecrets.bitnami.com/sealed-secrets-key=compromised",
            "--privatekey-annotations=example.com/owner=ops,link=https://example.com/?a=b",
            "--kubeclient-qps=50",
            "--kubeclient-burst=20",
        ],
    );
    eventually("the first key Secret", || cluster.key_secrets().len() == 1).await;
    daemon.signal(rustix::process::Signal::USR1);
    eventually("a second key Secret after SIGUSR1", || cluster.key_secrets().len() == 2).await;
    // One signal, one key.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(cluster.key_secrets().len(), 2);
    for key in cluster.key_secrets() {
        let labels = &key["metadata"]["labels"];
        assert_eq!(labels["sealedsecrets.bitnami.com/sealed-secrets-key"], "active", "{labels}");
        assert_eq!(labels["team"], "platform");
        assert_eq!(labels["env"], "test");
        let annotations = &key["metadata"]["annotations"];
        assert_eq!(annotations["example.com/owner"], "ops");
        assert_eq!(annotations["link"], "https://example.com/?a=b");
    }
    let (code, out, err) = daemon.stop();
    assert_eq!(code, Some(0), "graceful exit on SIGTERM; stderr: {err}");
    assert!(out.contains("sealops daemon started"), "info on stdout: {out}");
    assert!(out.contains("key renewal requested"), "{out}");
    assert!(err.contains("no sealing keys"), "the warning on stderr: {err}");
    assert!(!out.contains("no sealing keys") && !err.contains("sealops daemon started"));
}

/// `--log-info-stdout=false`: everything on stderr.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_info_stdout_false_logs_everything_to_stderr() {
    let cluster = support::cluster().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    cluster.server.write_kubeconfig(&kubeconfig).expect("kubeconfig");
    let daemon = DaemonProcess::start(&kubeconfig, &["--log-info-stdout=false"]);
    eventually("a key Secret", || cluster.key_secrets().len() == 1).await;
    let (code, out, err) = daemon.stop();
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "");
    assert!(err.contains("sealops daemon started") && err.contains("no sealing keys"), "{err}");
}

/// Bad values stop the daemon before it starts, naming the flag.
#[test]
fn bad_flag_values_name_the_flag() {
    for (arg, flag) in [
        ("--privatekey-labels=team", "--privatekey-labels"),
        ("--privatekey-annotations=Bad_Prefix/x=1", "--privatekey-annotations"),
        ("--kubeclient-burst=-1", "--kubeclient-burst"),
        ("--read-timeout=2", "--read-timeout"),
        ("--write-timeout=1d", "--write-timeout"),
        ("--old-gc-behavior=yes", "--old-gc-behavior"),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_sealops"))
            .args(["daemon", "--kubeconfig=/nonexistent", arg])
            .output()
            .expect("sealops runs");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{arg} accepted");
        assert!(err.contains(flag), "{arg}: {err}");
    }
}

/// Without `--old-gc-behavior` a Secret without owner reference outlives its SealedSecret
/// (deletion is the garbage collector's job); with it, the controller deletes the Secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_gc_behavior_deletes_the_secret_of_a_deleted_sealed_secret() {
    let cluster = support::cluster().await;
    let ns = "gc";
    for (old_gc, name) in [(false, "kept"), (true, "deleted")] {
        let mut config = cluster.config();
        config.old_gc_behavior = old_gc;
        let daemon = cluster.daemon(config).await;
        eventually("a sealing key", || daemon.shared().keys.snapshot().latest().is_some()).await;
        let cert = daemon.shared().keys.snapshot().latest().expect("key").certificate().clone();
        cluster.create(&sealed_without_owner(&cert, ns, name)).await;
        eventually("the Secret", || cluster.secret(ns, name).is_some()).await;
        let secret = cluster.secret(ns, name).expect("secret");
        assert!(secret["metadata"]["ownerReferences"].as_array().is_none_or(Vec::is_empty), "{secret}");
        cluster.sealed_api(ns).delete(name, &DeleteParams::default()).await.expect("deleted");
        if old_gc {
            eventually("the Secret deleted by the controller", || cluster.secret(ns, name).is_none()).await;
        } else {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            assert!(cluster.secret(ns, name).is_some(), "nothing deletes a Secret without owner");
        }
        daemon.shutdown().await;
    }
}

/// `sealed_secrets_controller_http_request_duration_seconds` appears in /metrics after a
/// request, with upstream's buckets and labels; uninstrumented paths are not counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_duration_histogram_appears_after_a_request() {
    let cluster = support::cluster().await;
    let daemon = cluster.daemon(cluster.config()).await;
    eventually("a sealing key", || daemon.shared().keys.snapshot().latest().is_some()).await;
    let addr = daemon.http_addr().expect("http");
    assert_eq!(http(addr, "GET", "/v1/cert.pem", b"").await.0, 200);
    assert_eq!(http(addr, "GET", "/healthz", b"").await.0, 200);
    let (code, _, text) = http(daemon.metrics_addr().expect("metrics"), "GET", "/metrics", b"").await;
    assert_eq!(code, 200);
    let text = String::from_utf8(text).expect("UTF-8");
    let name = "sealed_secrets_controller_http_request_duration_seconds";
    assert!(text.contains(&format!("# TYPE {name} histogram\n")), "{text}");
    let series = "method=\"get\",path=\"/v1/cert.pem\"";
    for le in ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10"] {
        assert!(text.contains(&format!("{name}_bucket{{{series},le=\"{le}\"}} ")), "le={le}: {text}");
    }
    assert!(text.contains(&format!("{name}_bucket{{{series},le=\"+Inf\"}} 1\n")), "{text}");
    assert!(text.contains(&format!("{name}_count{{{series}}} 1\n")), "{text}");
    assert!(text.contains(&format!("{name}_sum{{{series}}} ")), "{text}");
    assert!(!text.contains("path=\"/healthz\""), "{text}");
    daemon.shutdown().await;
}

/// `--read-timeout`: a client that never finishes its request head is disconnected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_request_head_is_cut_off_after_the_read_timeout() {
    let cluster = support::cluster().await;
    let mut config = cluster.config();
    config.read_timeout = Duration::from_millis(300);
    let daemon = cluster.daemon(config).await;
    let addr = daemon.http_addr().expect("http");
    let (answer, waited) = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
        stream.write_all(b"GET /v1/cert.pem HTTP/1.1\r\nHost: test\r\n").expect("write");
        let started = Instant::now();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        (String::from_utf8_lossy(&answer).into_owned(), started.elapsed())
    })
    .await
    .expect("client");
    assert!(!answer.contains("200 OK"), "{answer}");
    assert!(waited >= Duration::from_millis(250) && waited < Duration::from_secs(5), "closed after {waited:?}");
    daemon.shutdown().await;
}

/// `--kubeclient-qps`/`--kubeclient-burst`: the daemon's client to the API server waits for
/// tokens (20 requests at 20/s with a burst of 1 take about a second).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubeclient_qps_throttles_requests_to_the_api_server() {
    let cluster = support::cluster().await;
    let mut config = cluster.config();
    config.kube_qps = 20.0;
    config.kube_burst = 1;
    let daemon = cluster.daemon(config).await;
    let secrets: kube::Api<k8s_openapi::api::core::v1::Secret> =
        kube::Api::namespaced(daemon.shared().client.clone(), NS);
    let started = Instant::now();
    for _ in 0..20 {
        secrets.list_metadata(&kube::api::ListParams::default()).await.expect("list");
    }
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(900), "20 requests at 20/s took {took:?}");
    daemon.shutdown().await;
}
