//! The connection to the API server, made as kubectl makes it: the kubeconfig (`--kubeconfig`,
//! else the `$KUBECONFIG` list merged, else `~/.kube/config`), or the pod's service account when
//! there is none, with kubectl's override flags laid over the selected context, cluster and user
//! (client-go `tools/clientcmd`, `DirectClientConfig.getContext/getCluster/getAuthInfo` and
//! `ConfirmUsable`; `shared/specs/sealed-secrets.md` §5.1). One loader for `seal`, `keys` and
//! the daemon.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::proxy;
use kube::config::{AuthInfo, Cluster, Context, Kubeconfig};

/// kubectl's connection flags (`clientcmd.RecommendedConfigOverrideFlags`). `None`, an empty
/// string and `false` mean "not given", as for pflag's zero values, which clientcmd's merge
/// skips.
#[derive(Default, Clone)]
pub struct Overrides {
    /// `--kubeconfig`: exactly this file (kubectl's explicit path; it must exist).
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub cluster: Option<String>,
    pub user: Option<String>,
    pub namespace: Option<String>,
    pub server: Option<String>,
    pub certificate_authority: Option<String>,
    pub insecure_skip_tls_verify: bool,
    pub tls_server_name: Option<String>,
    pub disable_compression: bool,
    pub token: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub client_certificate: Option<String>,
    pub client_key: Option<String>,
    /// `--as`, `--as-uid`, `--as-group`.
    pub impersonate: Option<String>,
    pub impersonate_uid: Option<String>,
    pub impersonate_groups: Vec<String>,
    /// `--request-timeout`: an integer (seconds) or a Go duration; `0` means none.
    pub request_timeout: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("--kubeconfig {0}: no such file")]
    MissingFile(String),
    #[error("kubeconfig {path}: {message}")]
    Read { path: String, message: String },
    #[error("context {0:?} was not found in the kubeconfig (current-context or --context)")]
    NoContext(String),
    #[error("--cluster {0:?}: no cluster of that name in the kubeconfig")]
    NoCluster(String),
    #[error("--user {0:?}: no user of that name in the kubeconfig")]
    NoUser(String),
    #[error("cluster {0:?}: no server found (set clusters[].cluster.server in the kubeconfig, or --server)")]
    NoServer(String),
    #[error(
        "cluster {0:?}: specifying a root certificates file (certificate-authority) with the insecure flag (insecure-skip-tls-verify) is not allowed"
    )]
    InsecureWithCa(String),
    #[error("user {user:?}: {field}-data and {field} are both specified; give one")]
    PathAndData { user: String, field: &'static str },
    #[error("user {0:?}: more than one authentication method found (token and username/password), only one is allowed")]
    TwoMethods(String),
    #[error(
        "--request-timeout {0:?}: invalid timeout value; it must be a single integer in seconds, or an integer followed by a time unit (e.g. 1s | 2m | 3h)"
    )]
    Timeout(String),
    #[error("{flag}: there is no kubeconfig to select it from (--kubeconfig, $KUBECONFIG, ~/.kube/config)")]
    NothingToSelect { flag: &'static str },
    #[error("no kubeconfig (--kubeconfig, $KUBECONFIG, ~/.kube/config) and no in-cluster service account: {0}")]
    NoConfig(String),
    #[error("kubeconfig: {0}")]
    Config(String),
    #[error("proxy: {0}")]
    Proxy(#[from] proxy::Error),
    #[error(
        "proxy: the API server's SOCKS5 proxy has a user and password, which sealops cannot send (its Kubernetes client speaks SOCKS5 without authentication); use an HTTP proxy or one without credentials"
    )]
    SocksCredentials,
}

impl Error {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::MissingFile(_) | Self::Read { .. } => "kubeconfig_read",
            Self::NoContext(_) | Self::NoCluster(_) | Self::NoUser(_) | Self::NothingToSelect { .. } => {
                "kubeconfig_selection"
            }
            Self::NoServer(_)
            | Self::InsecureWithCa(_)
            | Self::PathAndData { .. }
            | Self::TwoMethods(_)
            | Self::Config(_) => "kubeconfig_invalid",
            Self::Timeout(_) => "flag_invalid",
            Self::NoConfig(_) => "no_configuration",
            Self::Proxy(e) => e.kind(),
            Self::SocksCredentials => "proxy_unsupported",
        }
    }
}

/// The client configuration for `o`: the kubeconfig with the overrides laid over it, or the
/// service account when no kubeconfig file exists and no `--server` is given (kubectl's
/// deferred loading falls back to in-cluster the same way).
pub async fn config(o: &Overrides) -> Result<kube::Config, Error> {
    let mut config = match load(o)? {
        Some(kubeconfig) => {
            let (context, cluster, user) = select(kubeconfig, o)?;
            from_entries(context, cluster, user)?
        }
        None => {
            let mut config = in_cluster(o)?;
            config.proxy_url = proxy_url(None, &config.cluster_url)?;
            config
        }
    };
    // client-go reads the user's credentials only when the transport is TLS
    // (`DirectClientConfig.ClientConfig`: "only try to read the auth information if we are
    // secure"); impersonation is kept.
    if config.cluster_url.scheme_str() == Some("http") {
        let keep = AuthInfo {
            impersonate: config.auth_info.impersonate.take(),
            impersonate_uid: config.auth_info.impersonate_uid.take(),
            impersonate_groups: config.auth_info.impersonate_groups.take(),
            impersonate_user_extra: config.auth_info.impersonate_user_extra.take(),
            ..AuthInfo::default()
        };
        config.auth_info = keep;
    }
    if let Some(timeout) = request_timeout(o.request_timeout.as_deref())? {
        // client-go's `rest.Config.Timeout` bounds the whole request; kube bounds connect, write
        // and read separately, each to the same value, and restarts the read clock per request.
        config.connect_timeout = Some(timeout);
        config.read_timeout = Some(timeout);
        config.write_timeout = Some(timeout);
        config.reset_reader_on_write = true;
    }
    if o.disable_compression {
        config.disable_compression = true;
    }
    Ok(config)
}

/// kube's `Config` for the selected entries, as kube's kubeconfig loader builds it, except for
/// the proxy (see [`proxy_url`]): kube's loader reads `HTTPS_PROXY` and `NO_PROXY` itself and
/// fails on a `NO_PROXY` Go accepts (an empty entry, as in a trailing comma).
fn from_entries(context: Context, cluster: Cluster, mut user: AuthInfo) -> Result<kube::Config, Error> {
    let server = cluster.server.as_deref().unwrap_or_default();
    let url: http::Uri = server.parse().map_err(|e| Error::Config(format!("cluster server {server:?}: {e}")))?;
    let mut config = kube::Config::new(url);
    if let Some(namespace) = context.namespace.filter(|n| !n.is_empty()) {
        config.default_namespace = namespace;
    }
    config.root_cert = certificate_authority(&cluster)?;
    config.accept_invalid_certs = cluster.insecure_skip_tls_verify.unwrap_or(false);
    config.disable_compression = cluster.disable_compression.unwrap_or(false);
    config.tls_server_name.clone_from(&cluster.tls_server_name);
    let explicit_proxy = cluster.proxy_url.as_deref().filter(|url| !url.is_empty());
    config.proxy_url = proxy_url(explicit_proxy, &config.cluster_url)?;
    if let Some(exec) = user.exec.as_mut().filter(|exec| exec.provide_cluster_info) {
        // The exec plugin's `KUBERNETES_EXEC_INFO` carries the cluster (client-go's
        // `provideClusterInfo`).
        exec.cluster = Some((&cluster).try_into().map_err(|e| Error::Config(first_line(&e)))?);
    }
    config.auth_info = user;
    Ok(config)
}

/// The cluster's CA certificates: `certificate-authority-data` (base64 of PEM), else the
/// `certificate-authority` file (already absolute: `Kubeconfig::read_from` resolves it).
fn certificate_authority(cluster: &Cluster) -> Result<Option<Vec<Vec<u8>>>, Error> {
    use base64::Engine as _;
    let pem = match (&cluster.certificate_authority_data, &cluster.certificate_authority) {
        (Some(data), _) => base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .map_err(|e| Error::Config(format!("cluster certificate-authority-data: not base64: {e}")))?,
        (None, Some(file)) => {
            std::fs::read(file).map_err(|e| Error::Config(format!("cluster certificate-authority {file}: {e}")))?
        }
        (None, None) => return Ok(None),
    };
    pem_certificates(&pem).map(Some).map_err(|e| Error::Config(format!("cluster certificate-authority: {e}")))
}

/// The DER of each `CERTIFICATE` block of a PEM bundle.
fn pem_certificates(pem: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let certs: Vec<Vec<u8>> = pem::parse_many(pem)
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|p| p.tag() == "CERTIFICATE")
        .map(pem::Pem::into_contents)
        .collect();
    Ok(certs)
}

/// The proxy to the API server as client-go chooses it: the cluster's `proxy-url` for every
/// request when the kubeconfig sets one, else Go's environment rules for the server's URL
/// (`k8s::proxy`). kube's own choice is replaced: it takes `HTTPS_PROXY` for http servers too,
/// proxies loopback addresses, and checks `NO_PROXY` against the proxy instead of the server.
fn proxy_url(explicit: Option<&str>, server: &http::Uri) -> Result<Option<http::Uri>, Error> {
    let proxy = match explicit {
        Some(url) => Some(proxy::Proxy::parse("cluster proxy-url", url)?),
        None => proxy::Environment::from_env().proxy_for(server)?,
    };
    if let Some(p) = &proxy
        && p.protocol() == proxy::Protocol::Socks5
        && p.credentials().is_some()
    {
        // kube's client dials SOCKS5 without authentication; refuse rather than fail later with
        // a bare connection error.
        return Err(Error::SocksCredentials);
    }
    Ok(proxy.map(|p| p.uri_with_credentials()))
}

/// The kubeconfig files as kubectl's loading rules find them; `None` when there is none.
fn load(o: &Overrides) -> Result<Option<Kubeconfig>, Error> {
    let read = |path: &Path| {
        Kubeconfig::read_from(path)
            .map_err(|e| Error::Read { path: path.display().to_string(), message: first_line(&e) })
    };
    if let Some(path) = o.kubeconfig.as_deref().filter(|p| !p.as_os_str().is_empty()) {
        if !path.is_file() {
            return Err(Error::MissingFile(path.display().to_string()));
        }
        return read(path).map(Some);
    }
    let files: Vec<PathBuf> = match std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        Some(list) => std::env::split_paths(&list).filter(|p| !p.as_os_str().is_empty()).collect(),
        None => std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".kube/config")).into_iter().collect(),
    };
    let mut merged: Option<Kubeconfig> = None;
    // A `$KUBECONFIG` entry that does not exist is skipped, as kubectl does; the first file to
    // set a value wins (`Kubeconfig::merge`).
    for file in files.iter().filter(|f| f.is_file()) {
        let next = read(file)?;
        merged = Some(match merged {
            Some(m) => {
                m.merge(next).map_err(|e| Error::Read { path: file.display().to_string(), message: first_line(&e) })?
            }
            None => next,
        });
    }
    Ok(merged)
}

/// clientcmd's `getContext`, `getCluster` and `getAuthInfo` with the overrides merged in, and
/// its `ConfirmUsable` checks: the selected entries.
fn select(kubeconfig: Kubeconfig, o: &Overrides) -> Result<(Context, Cluster, AuthInfo), Error> {
    let context_name = given(&o.context).or(kubeconfig.current_context.as_deref().filter(|c| !c.is_empty()));
    let mut context = match context_name {
        Some(name) => kubeconfig
            .contexts
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.context.clone().unwrap_or_default())
            .ok_or_else(|| Error::NoContext(name.to_owned()))?,
        None => Context::default(),
    };
    if let Some(cluster) = given(&o.cluster) {
        cluster.clone_into(&mut context.cluster);
    }
    if let Some(user) = given(&o.user) {
        context.user = Some(user.to_owned());
    }
    if let Some(namespace) = given(&o.namespace) {
        context.namespace = Some(namespace.to_owned());
    }

    let cluster_name = context.cluster.clone();
    let mut cluster = match kubeconfig.clusters.iter().find(|c| c.name == cluster_name) {
        Some(named) => named.cluster.clone().unwrap_or_default(),
        None if given(&o.cluster).is_some() => return Err(Error::NoCluster(cluster_name)),
        None => Cluster::default(),
    };
    overlay_cluster(&mut cluster, o);
    if cluster.server.as_deref().is_none_or(str::is_empty) {
        return Err(Error::NoServer(cluster_name));
    }
    if cluster.insecure_skip_tls_verify == Some(true)
        && (cluster.certificate_authority.is_some() || cluster.certificate_authority_data.is_some())
    {
        return Err(Error::InsecureWithCa(cluster_name));
    }

    let user_name = context.user.clone().unwrap_or_default();
    let mut user = match kubeconfig.auth_infos.iter().find(|u| u.name == user_name) {
        Some(named) => named.auth_info.clone().unwrap_or_default(),
        None if given(&o.user).is_some() => return Err(Error::NoUser(user_name)),
        None => AuthInfo::default(),
    };
    overlay_user(&mut user, o);
    check_user(&user, &user_name)?;

    Ok((context, cluster, user))
}

/// clientcmd's cluster merge: a non-empty flag replaces the kubeconfig's value; a CA or
/// `--insecure-skip-tls-verify=true` replaces all three of CA file, CA data and the insecure
/// bit; `--server` or `--tls-server-name` replaces the kubeconfig's TLS server name (so a new
/// `--server` drops a stale one).
fn overlay_cluster(cluster: &mut Cluster, o: &Overrides) {
    if let Some(server) = given(&o.server) {
        cluster.server = Some(server.to_owned());
    }
    let ca = given(&o.certificate_authority);
    if o.insecure_skip_tls_verify || ca.is_some() {
        cluster.insecure_skip_tls_verify = Some(o.insecure_skip_tls_verify);
        cluster.certificate_authority = ca.map(str::to_owned);
        cluster.certificate_authority_data = None;
    }
    if given(&o.server).is_some() || given(&o.tls_server_name).is_some() {
        cluster.tls_server_name = given(&o.tls_server_name).map(str::to_owned);
    }
    if o.disable_compression {
        cluster.disable_compression = Some(true);
    }
}

/// clientcmd's user merge: each non-empty flag replaces the kubeconfig's field.
fn overlay_user(user: &mut AuthInfo, o: &Overrides) {
    if let Some(token) = given(&o.token) {
        user.token = Some(token.to_owned().into());
    }
    if let Some(username) = given(&o.username) {
        user.username = Some(username.to_owned());
    }
    if let Some(password) = given(&o.password) {
        user.password = Some(password.to_owned().into());
    }
    if let Some(cert) = given(&o.client_certificate) {
        user.client_certificate = Some(cert.to_owned());
    }
    if let Some(key) = given(&o.client_key) {
        user.client_key = Some(key.to_owned());
    }
    if let Some(name) = given(&o.impersonate) {
        user.impersonate = Some(name.to_owned());
    }
    if let Some(uid) = given(&o.impersonate_uid) {
        user.impersonate_uid = Some(uid.to_owned());
    }
    if !o.impersonate_groups.is_empty() {
        user.impersonate_groups = Some(o.impersonate_groups.clone());
    }
}

/// clientcmd's `validateAuthInfo`: a file and inline data for the same item, or a token
/// together with basic auth, are errors rather than a silent choice.
fn check_user(user: &AuthInfo, name: &str) -> Result<(), Error> {
    let both = |field| Error::PathAndData { user: name.to_owned(), field };
    if user.client_certificate.is_some() && user.client_certificate_data.is_some() {
        return Err(both("client-certificate"));
    }
    if user.client_key.is_some() && user.client_key_data.is_some() {
        return Err(both("client-key"));
    }
    let token = user.token.is_some() || user.token_file.is_some();
    let basic = user.username.is_some() || user.password.is_some();
    if token && basic {
        return Err(Error::TwoMethods(name.to_owned()));
    }
    Ok(())
}

/// The service account, with the flags that make sense without a kubeconfig applied on top.
fn in_cluster(o: &Overrides) -> Result<kube::Config, Error> {
    for (flag, value) in [("--context", &o.context), ("--cluster", &o.cluster), ("--user", &o.user)] {
        if given(value).is_some() {
            return Err(Error::NothingToSelect { flag });
        }
    }
    let mut config = kube::Config::incluster().map_err(|e| Error::NoConfig(first_line(&e)))?;
    if let Some(namespace) = given(&o.namespace) {
        namespace.clone_into(&mut config.default_namespace);
    }
    if let Some(ca) = given(&o.certificate_authority) {
        config.root_cert_file = Some(PathBuf::from(ca));
        let pem = std::fs::read(ca).map_err(|e| Error::Config(format!("--certificate-authority {ca}: {e}")))?;
        let certs = pem_certificates(&pem).map_err(|e| Error::Config(format!("--certificate-authority {ca}: {e}")))?;
        config.root_cert = Some(certs);
    }
    if o.insecure_skip_tls_verify {
        if given(&o.certificate_authority).is_some() {
            return Err(Error::InsecureWithCa("in-cluster".into()));
        }
        config.accept_invalid_certs = true;
    }
    if let Some(name) = given(&o.tls_server_name) {
        config.tls_server_name = Some(name.to_owned());
    }
    overlay_user(&mut config.auth_info, o);
    if given(&o.token).is_some() {
        // An explicit token replaces the mounted one.
        config.auth_info.token_file = None;
    }
    check_user(&config.auth_info, "in-cluster")?;
    Ok(config)
}

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

/// kubectl's `ParseTimeout`: `0` or empty is no timeout, a bare integer is seconds, anything else
/// a Go duration (`1m30s`, `500ms`, `1.5h`).
fn request_timeout(text: Option<&str>) -> Result<Option<Duration>, Error> {
    let Some(text) = text.filter(|t| !t.is_empty() && *t != "0") else { return Ok(None) };
    let invalid = || Error::Timeout(text.to_owned());
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse::<u64>().map(|s| Some(Duration::from_secs(s))).map_err(|_| invalid());
    }
    let mut rest = text.strip_prefix('+').unwrap_or(text);
    let mut total = 0f64;
    while !rest.is_empty() {
        let number_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let number: f64 = rest[..number_len].parse().map_err(|_| invalid())?;
        rest = &rest[number_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let seconds = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(invalid()),
        };
        rest = &rest[unit_len..];
        total += number * seconds;
    }
    if total == 0.0 {
        return Ok(None);
    }
    Duration::try_from_secs_f64(total).map(Some).map_err(|_| invalid())
}

/// The first line of a loader error: YAML errors append source lines, which in a kubeconfig may
/// hold tokens.
fn first_line(e: &impl std::fmt::Display) -> String {
    e.to_string().lines().next().unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret as _;

    const KUBECONFIG: &str = "\
apiVersion: v1
kind: Config
current-context: dev
contexts:
- name: dev
  context: {cluster: dev-cluster, user: dev-user, namespace: team-a}
- name: prod
  context: {cluster: prod-cluster, user: prod-user}
clusters:
- name: dev-cluster
  cluster:
    server: https://dev.example:6443
    certificate-authority-data: Y2E=
    tls-server-name: dev-internal
- name: prod-cluster
  cluster: {server: 'https://prod.example:6443', insecure-skip-tls-verify: true}
- name: plain
  cluster: {server: 'http://127.0.0.1:8001'}
users:
- name: dev-user
  user: {token: dev-token}
- name: prod-user
  user: {username: admin, password: hunter2}
- name: cert-user
  user: {client-certificate-data: Y2VydA==, client-key-data: a2V5}
";

    /// The kubeconfig in a temp dir, passed as `--kubeconfig`, selected with `o`.
    fn resolve(o: Overrides) -> Result<(Context, Cluster, AuthInfo), Error> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(&path, KUBECONFIG).unwrap();
        let o = Overrides { kubeconfig: Some(path), ..o };
        select(load(&o)?.expect("a kubeconfig"), &o)
    }

    fn s(v: &str) -> Option<String> {
        Some(v.to_owned())
    }

    #[test]
    fn the_current_context_without_flags() {
        let (context, cluster, user) = resolve(Overrides::default()).unwrap();
        assert_eq!(context.namespace.as_deref(), Some("team-a"));
        assert_eq!(cluster.server.as_deref(), Some("https://dev.example:6443"));
        assert_eq!(cluster.certificate_authority_data.as_deref(), Some("Y2E="));
        assert_eq!(cluster.tls_server_name.as_deref(), Some("dev-internal"));
        assert_eq!(user.token.unwrap().expose_secret(), "dev-token");
    }

    #[test]
    fn context_cluster_and_user_flags_select_entries() {
        let (context, cluster, user) =
            resolve(Overrides { context: s("prod"), cluster: s("plain"), user: s("cert-user"), ..Default::default() })
                .unwrap();
        assert_eq!(context.namespace, None);
        assert_eq!(cluster.server.as_deref(), Some("http://127.0.0.1:8001"));
        assert_eq!(user.client_certificate_data.as_deref(), Some("Y2VydA=="));
        assert!(user.token.is_none() && user.username.is_none());
    }

    #[test]
    fn server_replaces_the_url_and_drops_the_tls_server_name() {
        let (_, cluster, _) = resolve(Overrides { server: s("https://other:443"), ..Default::default() }).unwrap();
        assert_eq!(cluster.server.as_deref(), Some("https://other:443"));
        assert_eq!(cluster.tls_server_name, None);
        // The CA stays: only a CA flag or --insecure-skip-tls-verify replaces it.
        assert_eq!(cluster.certificate_authority_data.as_deref(), Some("Y2E="));
        let (_, cluster, _) =
            resolve(Overrides { server: s("https://other:443"), tls_server_name: s("api"), ..Default::default() })
                .unwrap();
        assert_eq!(cluster.tls_server_name.as_deref(), Some("api"));
    }

    #[test]
    fn ca_and_insecure_flags_replace_each_other() {
        let (_, cluster, _) = resolve(Overrides { insecure_skip_tls_verify: true, ..Default::default() }).unwrap();
        assert_eq!(cluster.insecure_skip_tls_verify, Some(true));
        assert_eq!(cluster.certificate_authority_data, None);
        let (_, cluster, _) =
            resolve(Overrides { context: s("prod"), certificate_authority: s("/etc/ca.pem"), ..Default::default() })
                .unwrap();
        assert_eq!(cluster.insecure_skip_tls_verify, Some(false));
        assert_eq!(cluster.certificate_authority.as_deref(), Some("/etc/ca.pem"));
        let both =
            Overrides { certificate_authority: s("/etc/ca.pem"), insecure_skip_tls_verify: true, ..Default::default() };
        assert_eq!(resolve(both).err().map(|e| e.kind()), Some("kubeconfig_invalid"));
    }

    #[test]
    fn auth_flags_override_the_user() {
        let (context, _, user) = resolve(Overrides {
            token: s("flag-token"),
            impersonate: s("jane"),
            impersonate_uid: s("1234"),
            impersonate_groups: vec!["devs".into(), "ops".into()],
            client_certificate: s("/c.pem"),
            client_key: s("/k.pem"),
            namespace: s("flag-ns"),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(context.namespace.as_deref(), Some("flag-ns"));
        assert_eq!(user.token.unwrap().expose_secret(), "flag-token");
        assert_eq!(user.impersonate.as_deref(), Some("jane"));
        assert_eq!(user.impersonate_uid.as_deref(), Some("1234"));
        assert_eq!(user.impersonate_groups, Some(vec!["devs".to_owned(), "ops".to_owned()]));
        assert_eq!(user.client_certificate.as_deref(), Some("/c.pem"));
        assert_eq!(user.client_key.as_deref(), Some("/k.pem"));
    }

    #[test]
    fn conflicts_and_unknown_names_are_errors_naming_them() {
        let cases = [
            (Overrides { context: s("nope"), ..Default::default() }, "\"nope\""),
            (Overrides { cluster: s("nope"), ..Default::default() }, "--cluster \"nope\""),
            (Overrides { user: s("nope"), ..Default::default() }, "--user \"nope\""),
            // kubectl refuses a token together with basic auth …
            (Overrides { context: s("prod"), token: s("t"), ..Default::default() }, "prod-user"),
            // … and a file together with inline data.
            (Overrides { user: s("cert-user"), client_key: s("/k.pem"), ..Default::default() }, "client-key"),
            (Overrides { request_timeout: s("5 parsecs"), ..Default::default() }, "--request-timeout"),
        ];
        for (o, needle) in cases {
            let message = match resolve(o.clone()) {
                Err(e) => e.to_string(),
                Ok(_) => request_timeout(o.request_timeout.as_deref()).err().map(|e| e.to_string()).unwrap_or_default(),
            };
            assert!(message.contains(needle), "{message:?} lacks {needle:?}");
        }
    }

    #[test]
    fn a_server_alone_is_enough_without_a_context() {
        let kubeconfig = Kubeconfig::default();
        let o = Overrides { server: s("https://10.0.0.1"), token: s("t"), ..Default::default() };
        let (_, cluster, _) = select(kubeconfig.clone(), &o).unwrap();
        assert_eq!(cluster.server.as_deref(), Some("https://10.0.0.1"));
        let missing = select(kubeconfig, &Overrides::default()).unwrap_err();
        assert_eq!(missing.kind(), "kubeconfig_invalid");
        assert!(missing.to_string().contains("--server"));
    }

    #[test]
    fn request_timeouts_as_kubectl_parses_them() {
        assert_eq!(request_timeout(None).unwrap(), None);
        assert_eq!(request_timeout(Some("0")).unwrap(), None);
        assert_eq!(request_timeout(Some("30")).unwrap(), Some(Duration::from_secs(30)));
        assert_eq!(request_timeout(Some("1m30s")).unwrap(), Some(Duration::from_secs(90)));
        assert_eq!(request_timeout(Some("1.5h")).unwrap(), Some(Duration::from_secs(5400)));
        assert_eq!(request_timeout(Some("250ms")).unwrap(), Some(Duration::from_millis(250)));
        assert!(request_timeout(Some("-1s")).is_err());
        assert!(request_timeout(Some("10x")).is_err());
        assert!(request_timeout(Some("s")).is_err());
    }

    #[tokio::test]
    async fn the_kube_config_carries_url_auth_namespace_and_timeouts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(&path, KUBECONFIG).unwrap();
        let o = Overrides {
            kubeconfig: Some(path.clone()),
            context: s("prod"),
            user: s("dev-user"),
            namespace: s("ns1"),
            request_timeout: s("7s"),
            ..Default::default()
        };
        let built = config(&o).await.unwrap();
        assert_eq!(built.cluster_url.to_string(), "https://prod.example:6443/");
        assert_eq!(built.default_namespace, "ns1");
        assert!(built.accept_invalid_certs);
        assert_eq!(built.auth_info.token.as_ref().unwrap().expose_secret(), "dev-token");
        assert_eq!(built.read_timeout, Some(Duration::from_secs(7)));
        assert_eq!(built.connect_timeout, Some(Duration::from_secs(7)));

        // Over plain http, kubectl sends no credentials; impersonation stays.
        let o = Overrides { kubeconfig: Some(path), cluster: s("plain"), impersonate: s("jane"), ..Default::default() };
        let built = config(&o).await.unwrap();
        assert_eq!(built.cluster_url.to_string(), "http://127.0.0.1:8001/");
        assert!(built.auth_info.token.is_none());
        assert_eq!(built.auth_info.impersonate.as_deref(), Some("jane"));
        assert_eq!(built.default_namespace, "team-a");
    }

    #[test]
    fn ca_data_files_and_proxy_url_reach_the_kube_config() {
        use base64::Engine as _;
        let pem = pem::encode_many(&[
            pem::Pem::new("CERTIFICATE", vec![1, 2, 3]),
            pem::Pem::new("PRIVATE KEY", vec![9]),
            pem::Pem::new("CERTIFICATE", vec![4, 5]),
        ]);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ca.pem");
        std::fs::write(&file, &pem).unwrap();
        let base = Cluster { server: Some("https://api.example:6443".into()), ..Cluster::default() };
        let context = Context { namespace: Some("team-b".into()), ..Context::default() };
        let with_data = Cluster {
            certificate_authority_data: Some(base64::engine::general_purpose::STANDARD.encode(&pem)),
            tls_server_name: Some("kubernetes".into()),
            proxy_url: Some("socks5://jump.example".into()),
            ..base.clone()
        };
        let built = from_entries(context.clone(), with_data, AuthInfo::default()).unwrap();
        assert_eq!(built.root_cert, Some(vec![vec![1, 2, 3], vec![4, 5]]));
        assert_eq!(built.tls_server_name.as_deref(), Some("kubernetes"));
        assert_eq!(built.default_namespace, "team-b");
        // The kubeconfig's proxy wins over any environment, credentials kept for kube.
        assert_eq!(built.proxy_url.unwrap().to_string(), "socks5://jump.example:1080/");
        let http_with_user = Cluster { proxy_url: Some("http://user:p%40w@jump.example".into()), ..base.clone() };
        let built = from_entries(Context::default(), http_with_user, AuthInfo::default()).unwrap();
        assert_eq!(built.proxy_url.unwrap().to_string(), "http://user:p%40w@jump.example:80/");
        let socks_with_user = Cluster { proxy_url: Some("socks5://user:pw@jump.example".into()), ..base.clone() };
        let e = from_entries(Context::default(), socks_with_user, AuthInfo::default()).unwrap_err();
        assert_eq!(e.kind(), "proxy_unsupported");
        let with_file = Cluster { certificate_authority: Some(file.display().to_string()), ..base.clone() };
        let built = from_entries(Context::default(), with_file, AuthInfo::default()).unwrap();
        assert_eq!(built.root_cert, Some(vec![vec![1, 2, 3], vec![4, 5]]));
        assert_eq!(built.default_namespace, "default");
        let bad = Cluster { certificate_authority_data: Some("not base64!".into()), ..base.clone() };
        let e = from_entries(Context::default(), bad, AuthInfo::default()).unwrap_err();
        assert!(e.to_string().contains("certificate-authority-data"), "{e}");
        let bad_proxy = Cluster { proxy_url: Some("gopher://p".into()), ..base };
        let e = from_entries(Context::default(), bad_proxy, AuthInfo::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "proxy: cluster proxy-url: unsupported proxy scheme \"gopher\" (http, https or socks5)"
        );
    }

    #[test]
    fn a_missing_explicit_kubeconfig_is_named() {
        let o = Overrides { kubeconfig: Some("/nonexistent/kubeconfig".into()), ..Default::default() };
        let e = load(&o).unwrap_err();
        assert_eq!(e.to_string(), "--kubeconfig /nonexistent/kubeconfig: no such file");
    }
}
