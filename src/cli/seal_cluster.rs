//! `seal`'s conversations with the controller, as kubeseal has them: through the API server's
//! service proxy (`/api/v1/namespaces/<ns>/services/http:<name>:<port>/proxy/…`), where `<port>`
//! is the name of the Service's first port (`shared/specs/sealed-secrets.md` §3.5, §5).
//! The connection comes from the kubeconfig (`--kubeconfig`, `$KUBECONFIG`, `~/.kube/config`,
//! `--context`) or, inside a pod, from the service account.

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow};
use k8s_openapi::api::core::v1::Service;
use kube::Api;
use kube::config::{KubeConfigOptions, Kubeconfig};

use super::seal::ClusterArgs;

/// kubeseal's defaults.
const DEFAULT_NAME: &str = "sealed-secrets-controller";
const DEFAULT_NAMESPACE: &str = "kube-system";

/// The controller behind its Service, reached through the API server.
pub struct Controller {
    runtime: tokio::runtime::Runtime,
    client: kube::Client,
    /// `/api/v1/namespaces/<ns>/services/http:<name>:<port>/proxy`.
    base: String,
}

/// An answer of the controller that is not a success.
pub enum Refused {
    /// The status code and the body's first line.
    Status(u16, String),
}

impl Controller {
    pub fn connect(cluster: &ClusterArgs) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().context("tokio runtime")?;
        let name = cluster.controller_name.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| DEFAULT_NAME.into());
        let namespace =
            cluster.controller_namespace.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| DEFAULT_NAMESPACE.into());
        let (client, port) = runtime.block_on(async {
            let config = kube_config(cluster).await?;
            let client = kube::Client::try_from(config).context("cannot make a Kubernetes client")?;
            let services: Api<Service> = Api::namespaced(client.clone(), &namespace);
            let service = services
                .get(&name)
                .await
                .map_err(|e| anyhow!("cannot fetch certificate: cannot get service {namespace}/{name}: {e}"))?;
            // kubeseal reads the port name from the Service's first port.
            let port = service
                .spec
                .and_then(|s| s.ports)
                .and_then(|p| p.into_iter().next())
                .and_then(|p| p.name)
                .unwrap_or_default();
            Ok::<_, anyhow::Error>((client, port))
        })?;
        let base = format!("/api/v1/namespaces/{namespace}/services/http:{name}:{port}/proxy");
        Ok(Self { runtime, client, base })
    }

    fn call(&self, method: &str, path: &str, body: Vec<u8>) -> Result<std::result::Result<String, Refused>> {
        let request = http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body)
            .context("building the request")?;
        match self.runtime.block_on(self.client.request_text(request)) {
            Ok(text) => Ok(Ok(text)),
            Err(kube::Error::Api(status)) => {
                let message = status.message.lines().next().unwrap_or("").to_owned();
                Ok(Err(Refused::Status(status.code, message)))
            }
            Err(e) => Err(anyhow!("{e}")),
        }
    }

    /// `GET /v1/cert.pem`: the controller's newest certificate.
    pub fn cert_pem(&self) -> Result<Vec<u8>> {
        match self.call("GET", "/v1/cert.pem", Vec::new())? {
            Ok(text) => Ok(text.into_bytes()),
            Err(Refused::Status(code, message)) => {
                Err(anyhow!("cannot fetch certificate: the controller answered {code}: {message}"))
            }
        }
    }

    /// `POST /v1/verify`: true when the controller can open the SealedSecret (200), false when
    /// it cannot (409).
    pub fn verify(&self, sealed_json: Vec<u8>) -> Result<bool> {
        match self.call("POST", "/v1/verify", sealed_json)? {
            Ok(_) => Ok(true),
            Err(Refused::Status(409, _)) => Ok(false),
            Err(Refused::Status(code, message)) => {
                Err(anyhow!("cannot validate sealed secret: the controller answered {code}: {message}"))
            }
        }
    }

    /// `POST /v1/rotate`: the SealedSecret sealed again with the controller's newest key.
    pub fn rotate(&self, sealed_json: Vec<u8>) -> Result<Vec<u8>> {
        match self.call("POST", "/v1/rotate", sealed_json)? {
            Ok(text) => Ok(text.into_bytes()),
            Err(Refused::Status(code, message)) => {
                Err(anyhow!("cannot re-encrypt secret: the controller answered {code}: {message}"))
            }
        }
    }
}

async fn kube_config(cluster: &ClusterArgs) -> Result<kube::Config> {
    let options = KubeConfigOptions { context: cluster.context.clone(), ..KubeConfigOptions::default() };
    // `--kubeconfig` (or $KUBECONFIG) may list several files, as kubectl allows; the first one
    // that exists is read.
    if let Some(paths) = cluster.kubeconfig.as_deref().filter(|p| !p.is_empty()) {
        let path = std::env::split_paths(paths)
            .find(|p| p.is_file())
            .ok_or_else(|| anyhow!("kubeconfig {paths}: no such file"))?;
        let kubeconfig = read(&path)?;
        return kube::Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .map_err(|e| anyhow!("kubeconfig {}: {e}", path.display()));
    }
    if cluster.context.is_some() {
        return kube::Config::from_kubeconfig(&options).await.map_err(|e| anyhow!("kubeconfig: {e}"));
    }
    kube::Config::infer().await.map_err(|e| anyhow!("no kubeconfig and no in-cluster configuration: {e}"))
}

fn read(path: &PathBuf) -> Result<Kubeconfig> {
    Kubeconfig::read_from(path).map_err(|e| anyhow!("kubeconfig {}: {e}", path.display()))
}
