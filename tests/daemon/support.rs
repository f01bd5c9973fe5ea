//! A test cluster (the in-process test API server with the upstream SealedSecret CRD applied)
//! and a daemon running against it in-process.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use kube::api::{ApiResource, DynamicObject, GroupVersionKind, PostParams};
use kube::{Api, Client};
use sealops::daemon::{self, DaemonHandle};
use sealops_test_apiserver::{ApiServerHandle, TestApiServer};
use serde_json::{Value, json};

pub const NS: &str = "kube-system";
pub const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/sealed-secrets-upstream");

/// Every log line any test's daemon wrote (the log-canary test reads it).
pub fn log_buffer() -> Arc<Mutex<Vec<u8>>> {
    static BUFFER: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    BUFFER
        .get_or_init(|| {
            let buffer = Arc::new(Mutex::new(Vec::new()));
            let writer = Capture(buffer.clone());
            let _ = tracing_subscriber::fmt()
                .json()
                .with_env_filter(tracing_subscriber::EnvFilter::new("debug,sealops=trace"))
                .with_writer(move || writer.clone())
                .try_init();
            buffer
        })
        .clone()
}

#[derive(Clone)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub struct Cluster {
    pub server: ApiServerHandle,
    pub client: Client,
    pub kube: kube::Config,
}

pub async fn cluster() -> Cluster {
    log_buffer();
    let server = TestApiServer::start().await.expect("test API server starts");
    let kubeconfig = kube::config::Kubeconfig::from_yaml(&server.kubeconfig_yaml()).expect("kubeconfig");
    let kube = kube::Config::from_custom_kubeconfig(kubeconfig, &kube::config::KubeConfigOptions::default())
        .await
        .expect("kube config");
    let client = Client::try_from(kube.clone()).expect("client");
    let crd_text = include_str!("data/bitnami.com_sealedsecrets.yaml");
    let crd: DynamicObject = serde_saphyr::from_str(crd_text).expect("CRD YAML");
    let crds: Api<DynamicObject> = Api::all_with(
        client.clone(),
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("apiextensions.k8s.io", "v1", "CustomResourceDefinition"),
            "customresourcedefinitions",
        ),
    );
    crds.create(&PostParams::default(), &crd).await.expect("CRD created");
    eventually("the SealedSecret CRD is served", || server.serves("sealedsecrets.bitnami.com")).await;
    Cluster { server, client, kube }
}

impl Cluster {
    pub async fn namespace(&self, name: &str) {
        let api: Api<DynamicObject> =
            Api::all_with(self.client.clone(), &ApiResource::erase::<k8s_openapi::api::core::v1::Namespace>(&()));
        let ns: DynamicObject =
            serde_json::from_value(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}))
                .expect("namespace");
        let _ = api.create(&PostParams::default(), &ns).await;
    }

    /// Creates any object from JSON in its namespace.
    pub async fn create(&self, object: &Value) -> DynamicObject {
        let (api_version, kind) =
            (object["apiVersion"].as_str().expect("apiVersion"), object["kind"].as_str().expect("kind"));
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let plural = match kind {
            "SealedSecret" => "sealedsecrets".to_owned(),
            other => format!("{}s", other.to_ascii_lowercase()),
        };
        let resource = ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), &plural);
        let ns = object["metadata"]["namespace"].as_str().unwrap_or("default");
        self.namespace(ns).await;
        let api: Api<DynamicObject> = Api::namespaced_with(self.client.clone(), ns, &resource);
        let body: DynamicObject = serde_json::from_value(object.clone()).expect("object");
        api.create(&PostParams::default(), &body).await.expect("created")
    }

    pub fn sealed_api(&self, ns: &str) -> Api<DynamicObject> {
        Api::namespaced_with(self.client.clone(), ns, &sealops::controller::sealed_secret::sealed_secret_resource())
    }

    /// Imports the upstream test keys (key-a, key-b) as the controller stores them.
    pub async fn import_upstream_keys(&self) {
        for key in ["key-a", "key-b"] {
            let text = std::fs::read_to_string(format!("{DATA}/keys/{key}/sealing-key-secret.yaml")).expect("key");
            let mut secret: Value = serde_saphyr::from_str(&text).expect("key YAML");
            secret["metadata"]["namespace"] = json!(NS);
            if secret["metadata"]["name"].is_null() {
                secret["metadata"]["name"] = json!(format!("imported-{key}"));
            }
            secret["metadata"].as_object_mut().expect("meta").remove("generateName");
            self.create(&secret).await;
        }
    }

    pub fn secret(&self, ns: &str, name: &str) -> Option<Value> {
        self.server.get("secrets", Some(ns), name)
    }

    pub fn key_secrets(&self) -> Vec<Value> {
        self.server
            .list("secrets", Some(NS))
            .into_iter()
            .filter(|s| s["metadata"]["labels"]["sealedsecrets.bitnami.com/sealed-secrets-key"] == "active")
            .collect()
    }

    pub fn events(&self, ns: &str) -> Vec<Value> {
        self.server.list("events", Some(ns))
    }

    /// A daemon config for this cluster: loopback ports, 2048-bit keys, no renewal.
    pub fn config(&self) -> daemon::Config {
        let mut config = daemon::Config::new(self.kube.clone(), NS);
        config.listen_addr = Some("127.0.0.1:0".parse().expect("addr"));
        config.listen_metrics_addr = Some("127.0.0.1:0".parse().expect("addr"));
        config.key_size = 2048;
        config.key_renew_period = Duration::ZERO;
        config.rate_limit = 1000.0;
        config.rate_limit_burst = 1000;
        config.lease_duration = Duration::from_secs(2);
        config.lease_retry = Duration::from_millis(200);
        config
    }

    pub async fn daemon(&self, config: daemon::Config) -> DaemonHandle {
        let handle = daemon::start(config).await.expect("daemon starts");
        let started = Instant::now();
        while !handle.is_ready() {
            assert!(started.elapsed() < Duration::from_secs(30), "daemon not ready after 30s");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        handle
    }
}

/// Waits up to 60 s for `cond`.
pub async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let started = Instant::now();
    while !cond() {
        assert!(started.elapsed() < Duration::from_secs(60), "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// A minimal HTTP/1.1 client for the daemon's API (one request per connection).
pub async fn http(addr: std::net::SocketAddr, method: &str, path: &str, body: &[u8]) -> (u16, String, Vec<u8>) {
    let (method, path, body) = (method.to_owned(), path.to_owned(), body.to_vec());
    tokio::task::spawn_blocking(move || http_blocking(addr, &method, &path, &body)).await.expect("HTTP task")
}

fn http_blocking(addr: std::net::SocketAddr, method: &str, path: &str, body: &[u8]) -> (u16, String, Vec<u8>) {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("write");
    stream.write_all(body).expect("write");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read");
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("header end");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let code: u16 = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).expect("status");
    let mut body = raw[split + 4..].to_vec();
    if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    (code, head, body)
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = raw.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&raw[..end]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&raw[end + 2..end + 2 + size]);
        raw = &raw[end + 2 + size + 2..];
    }
    out
}

/// The Synced condition of a SealedSecret, as stored.
pub fn synced(server: &ApiServerHandle, ns: &str, name: &str) -> Option<(String, String)> {
    let object = server.get("sealedsecrets.bitnami.com", Some(ns), name)?;
    let condition = object["status"]["conditions"].as_array()?.iter().find(|c| c["type"] == "Synced")?.clone();
    Some((condition["status"].as_str()?.to_owned(), condition["message"].as_str().unwrap_or("").to_owned()))
}
