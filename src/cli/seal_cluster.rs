//! `seal`'s conversations with the controller, as kubeseal has them: through the API server's
//! service proxy (`/api/v1/namespaces/<ns>/services/http:<name>:<port>/proxy/…`), where `<port>`
//! is the name of the Service's first port (`shared/specs/sealed-secrets.md` §3.5, §5).
//! The connection comes from the kubeconfig (`--kubeconfig`, `$KUBECONFIG`, `~/.kube/config`)
//! with kubectl's flags over it, or, inside a pod, from the service account
//! (`sealops::k8s::connect`). Also `--cert http(s)://…` (kubeseal's `openCert`).

use anyhow::{Context, Result, anyhow, bail};
use k8s_openapi::api::core::v1::Service;
use kube::Api;
use sealops::k8s::{connect, proxy};

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
            let config = connect::config(&cluster.overrides(None)).await?;
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

/// kubeseal's `openCert` for `http://` and `https://` URLs: one GET, as Go's default client
/// makes it (https verified against the system's roots, `HTTP(S)_PROXY` and `NO_PROXY`
/// honoured), bounded in size and time; the body is the PEM.
pub fn fetch_url(url: &str) -> Result<Vec<u8>> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().context("tokio runtime")?;
    runtime.block_on(async {
        tokio::time::timeout(CERT_FETCH_TIMEOUT, get_bounded(url))
            .await
            .map_err(|_| anyhow!("cannot fetch {url:?}: no complete answer within {}s", CERT_FETCH_TIMEOUT.as_secs()))?
    })
}

/// A certificate (chain) is a few KiB; anything much larger is not one.
const CERT_MAX_BYTES: usize = 1 << 20;
const CERT_FETCH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

type Request = http::Request<http_body_util::Empty<bytes::Bytes>>;
type Response = http::Response<hyper::body::Incoming>;

async fn get_bounded(url: &str) -> Result<Vec<u8>> {
    use http_body_util::BodyExt as _;

    let uri: http::Uri = url.parse().map_err(|e| anyhow!("cannot fetch {url:?}: not a URL: {e}"))?;
    let proxy = proxy::Environment::from_env().proxy_for(&uri).map_err(|e| anyhow!("cannot fetch {url:?}: {e}"))?;
    let request = http::Request::get(uri.clone())
        .header(http::header::USER_AGENT, concat!("sealops/", env!("CARGO_PKG_VERSION")))
        .body(http_body_util::Empty::new())
        .with_context(|| format!("cannot fetch {url:?}: building the request"))?;
    let response = send(&uri, proxy, request).await.map_err(|e| anyhow!("cannot fetch {url:?}: {e}"))?;
    let status = response.status();
    if status != http::StatusCode::OK {
        // kubeseal: `cannot fetch %q: %s` with Go's status text ("404 Not Found").
        bail!("cannot fetch {url:?}: {} {}", status.as_u16(), status.canonical_reason().unwrap_or(""));
    }
    let limited = http_body_util::Limited::new(response.into_body(), CERT_MAX_BYTES);
    let body = limited.collect().await.map_err(|e| {
        if e.is::<http_body_util::LengthLimitError>() {
            anyhow!(
                "cannot fetch {url:?}: the answer is larger than {} KiB, too large for a certificate",
                CERT_MAX_BYTES >> 10
            )
        } else {
            anyhow!("cannot fetch {url:?}: reading the answer: {e}")
        }
    })?;
    Ok(body.to_bytes().to_vec())
}

/// Sends `request` to `target` directly or through `proxy` the way Go's transport does: https
/// targets through a CONNECT tunnel (HTTP(S) proxies) or SOCKS5, with TLS to the target on top;
/// http targets as absolute-form requests to an HTTP(S) proxy, or through SOCKS5.
async fn send(target: &http::Uri, proxy: Option<proxy::Proxy>, mut request: Request) -> Result<Response> {
    use hyper_util::client::legacy::connect::HttpConnector;
    use hyper_util::client::legacy::connect::proxy::{SocksV5, Tunnel};
    use kube::client::ConfigExt as _;

    // A kube `Config` with only a URL has no CA of its own, so its TLS connector verifies with
    // the platform's trust store (rustls-platform-verifier), as Go's default client does; it
    // speaks plain TCP to http URLs. The same holds for TLS to an https proxy.
    let tls = kube::Config::new(target.clone());
    let tls_error = |e: kube::Error| anyhow!("TLS setup: {e}");
    let Some(proxy) = proxy else {
        return request_with(tls.rustls_https_connector().map_err(tls_error)?, request).await;
    };
    let proxy_name = proxy.uri().authority().map(|a| a.to_string()).unwrap_or_default();
    let through = |e: anyhow::Error| anyhow!("through proxy {proxy_name}: {e}");
    // To an HTTP(S) proxy: TCP, or TLS verified as for the target.
    let to_proxy = || kube::Config::new(proxy.uri().clone()).rustls_https_connector().map_err(tls_error);
    match (proxy.protocol(), target.scheme_str()) {
        (proxy::Protocol::Socks5, _) => {
            let mut dialer = HttpConnector::new();
            dialer.enforce_http(false);
            let mut socks = SocksV5::new(proxy.uri().clone(), dialer);
            if let Some((user, password)) = proxy.credentials() {
                socks = socks.with_auth(user.to_owned(), password.to_owned());
            }
            let connector = tls.rustls_https_connector_with_connector(proxy::ExplicitPort(socks)).map_err(tls_error)?;
            request_with(connector, request).await.map_err(through)
        }
        (_, Some("https")) => {
            let mut tunnel = Tunnel::new(proxy.uri().clone(), to_proxy()?);
            if let Some(auth) = proxy.basic_auth() {
                tunnel = tunnel.with_auth(auth);
            }
            let connector =
                tls.rustls_https_connector_with_connector(proxy::ExplicitPort(tunnel)).map_err(tls_error)?;
            request_with(connector, request).await.map_err(through)
        }
        _ => {
            if let Some(auth) = proxy.basic_auth() {
                request.headers_mut().insert(http::header::PROXY_AUTHORIZATION, auth);
            }
            request_with(proxy::Forward::new(proxy.uri().clone(), to_proxy()?), request).await.map_err(through)
        }
    }
}

async fn request_with<C>(connector: C, request: Request) -> Result<Response>
where
    C: hyper_util::client::legacy::connect::Connect + Clone + Send + Sync + 'static,
{
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector);
    client.request(request).await.map_err(|e| anyhow!("{}", chain(&e)))
}

/// An error with its causes (hyper's own message is only "client error (Connect)").
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
