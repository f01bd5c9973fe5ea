//! Which proxy a connection goes through, decided as Go decides it: kubectl, kubeseal and the
//! controller all use `http.ProxyFromEnvironment` (golang.org/x/net/http/httpproxy) unless a
//! kubeconfig cluster names its own `proxy-url` (`docs/kubeseal-migration.md`, "Proxies").
//!
//! The rules, all Go's:
//! - `HTTPS_PROXY` (else `https_proxy`) for `https://` targets, `HTTP_PROXY` (else `http_proxy`)
//!   for `http://` ones; the first non-empty spelling wins. There is no `ALL_PROXY`.
//! - A value without a scheme `http`, `https` or `socks5` is read as `http://<value>`; a proxy
//!   without a port gets its scheme's (80, 443, 1080).
//! - `localhost` and loopback addresses are never proxied.
//! - `NO_PROXY` (else `no_proxy`): comma-separated; `*` turns proxies off; an IP, a CIDR, or a
//!   domain, each optionally with `:port`. `example.com` matches it and its subdomains,
//!   `.example.com` and `*.example.com` only the subdomains. Case-insensitive.
//! - In a CGI process (`REQUEST_METHOD` set) `HTTP_PROXY` is refused: there it can be set by a
//!   request header (httpoxy).
//!
//! One difference: Go silently drops a proxy value it cannot parse; here using it is an error
//! naming the variable.
//!
//! Also the one connector Go's transport has and hyper-util lacks: [`Forward`], for `http://`
//! targets, which Go sends to an HTTP proxy as absolute-form requests instead of tunnelling.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::Uri;
use http::uri::{Authority, Scheme};
use hyper_util::client::legacy::connect::{Connected, Connection};
use secrecy::{ExposeSecret as _, SecretString};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The value never appears: it can hold a password.
    #[error("{variable}: not a proxy URL (expected http://, https:// or socks5://host[:port])")]
    Invalid { variable: &'static str },
    #[error("{variable}: unsupported proxy scheme {scheme:?} (http, https or socks5)")]
    Scheme { variable: &'static str, scheme: String },
    #[error("refusing to use HTTP_PROXY in a CGI environment (REQUEST_METHOD is set); see golang.org/s/cgihttpproxy")]
    Cgi,
}

impl Error {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Invalid { .. } | Self::Scheme { .. } => "proxy_invalid",
            Self::Cgi => "proxy_refused",
        }
    }
}

/// How a proxy is spoken to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Protocol {
    /// HTTP: CONNECT tunnels for https targets, absolute-form requests for http ones.
    Http,
    /// The same, over TLS to the proxy.
    Https,
    /// SOCKS5, the target's name resolved by the proxy (as Go's dialer does).
    Socks5,
}

/// One proxy: where it is, and the user and password of its URL, if any.
#[derive(Clone)]
pub struct Proxy {
    protocol: Protocol,
    /// `scheme://host:port/`, without credentials.
    uri: Uri,
    credentials: Option<(String, SecretString)>,
}

impl Proxy {
    /// Reads a proxy URL as Go's `httpproxy.parseProxy` does. `variable` names its source in
    /// errors (the value itself is never shown).
    pub fn parse(variable: &'static str, value: &str) -> Result<Self, Error> {
        let value = value.trim();
        let (scheme, rest) = match value.split_once("://") {
            Some((scheme, rest)) if ["http", "https", "socks5", "socks5h"].contains(&scheme) => (scheme, rest),
            Some((scheme, _))
                if !scheme.is_empty() && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b)) =>
            {
                // Go would prepend "http://" here and get a host named after the scheme, which
                // cannot be meant.
                return Err(Error::Scheme { variable, scheme: scheme.to_owned() });
            }
            _ => ("http", value),
        };
        let protocol = match scheme {
            "http" => Protocol::Http,
            "https" => Protocol::Https,
            _ => Protocol::Socks5,
        };
        // The authority ends at the first '/', '?' or '#'; a path is ignored, as Go ignores it.
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let (credentials, host_port) = match authority.rsplit_once('@') {
            Some((userinfo, host_port)) => {
                let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
                let decode = |s: &str| percent_decode(s).ok_or(Error::Invalid { variable });
                (Some((decode(user)?, SecretString::from(decode(password)?))), host_port)
            }
            None => (None, authority),
        };
        let authority: Authority = host_port.parse().map_err(|_| Error::Invalid { variable })?;
        if authority.host().is_empty() {
            return Err(Error::Invalid { variable });
        }
        let port = authority.port_u16().unwrap_or(match protocol {
            Protocol::Http => 80,
            Protocol::Https => 443,
            Protocol::Socks5 => 1080,
        });
        let scheme = match protocol {
            Protocol::Http => "http",
            Protocol::Https => "https",
            Protocol::Socks5 => "socks5",
        };
        let uri =
            format!("{scheme}://{}:{port}/", authority.host()).parse().map_err(|_| Error::Invalid { variable })?;
        Ok(Proxy { protocol, uri, credentials })
    }

    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// `scheme://host:port/`, without credentials: what a connector dials.
    pub fn uri(&self) -> &Uri {
        &self.uri
    }

    /// The user and password of the proxy URL.
    pub fn credentials(&self) -> Option<(&str, &str)> {
        self.credentials.as_ref().map(|(user, password)| (user.as_str(), password.expose_secret()))
    }

    /// `Proxy-Authorization: Basic …` for HTTP(S) proxies with credentials (Go sends it on
    /// CONNECT and on forwarded requests). Marked sensitive, so hyper never logs it.
    pub fn basic_auth(&self) -> Option<http::HeaderValue> {
        use base64::Engine as _;
        let (user, password) = self.credentials()?;
        let token = zeroize::Zeroizing::new(format!("{user}:{password}"));
        let header = zeroize::Zeroizing::new(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(token.as_bytes())
        ));
        let mut value = http::HeaderValue::from_str(&header).ok()?;
        value.set_sensitive(true);
        Some(value)
    }

    /// The URL with its credentials, for kube's client, which dials `proxy_url` and turns its
    /// user info into `Proxy-Authorization` itself.
    pub fn uri_with_credentials(&self) -> Uri {
        let Some((user, password)) = self.credentials() else {
            return self.uri.clone();
        };
        let authority = self.uri.authority().map(Authority::as_str).unwrap_or_default();
        let scheme = self.uri.scheme_str().unwrap_or("http");
        let text = zeroize::Zeroizing::new(format!(
            "{scheme}://{}:{}@{authority}/",
            percent_encode(user),
            percent_encode(password)
        ));
        text.parse().unwrap_or_else(|_| self.uri.clone())
    }
}

/// The proxy settings of the environment (`HTTP_PROXY`, `HTTPS_PROXY`, `NO_PROXY`,
/// `REQUEST_METHOD`), read once.
pub struct Environment {
    http: Option<String>,
    https: Option<String>,
    no_proxy: NoProxy,
    cgi: bool,
}

impl Environment {
    pub fn from_env() -> Self {
        let any = |names: [&str; 2]| names.iter().find_map(|n| std::env::var(n).ok().filter(|v| !v.is_empty()));
        Environment::new(
            any(["HTTP_PROXY", "http_proxy"]),
            any(["HTTPS_PROXY", "https_proxy"]),
            any(["NO_PROXY", "no_proxy"]).as_deref().unwrap_or(""),
            std::env::var_os("REQUEST_METHOD").is_some_and(|v| !v.is_empty()),
        )
    }

    /// Settings from explicit values (tests; the same rules as [`Environment::from_env`]).
    pub fn new(http: Option<String>, https: Option<String>, no_proxy: &str, cgi: bool) -> Self {
        Environment { http, https, no_proxy: NoProxy::parse(no_proxy), cgi }
    }

    /// The proxy for a connection to `target`, or `None` to connect directly.
    pub fn proxy_for(&self, target: &Uri) -> Result<Option<Proxy>, Error> {
        let (variable, value) = match target.scheme_str() {
            Some("https") => ("HTTPS_PROXY", &self.https),
            Some("http") => {
                if self.http.is_some() && self.cgi {
                    return Err(Error::Cgi);
                }
                ("HTTP_PROXY", &self.http)
            }
            _ => return Ok(None),
        };
        let Some(value) = value else { return Ok(None) };
        let host = target.host().unwrap_or_default();
        let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host).to_ascii_lowercase();
        let port = target.port_u16().unwrap_or(if target.scheme() == Some(&Scheme::HTTPS) { 443 } else { 80 });
        if !self.no_proxy.uses_proxy(&host, port) {
            return Ok(None);
        }
        Proxy::parse(variable, value).map(Some)
    }
}

/// `NO_PROXY`, parsed as httpproxy's `config.init`.
#[derive(Default)]
struct NoProxy {
    all: bool,
    rules: Vec<Rule>,
}

enum Rule {
    Cidr(IpAddr, u8),
    Ip(IpAddr, Option<u16>),
    /// `.suffix` (always with the dot), whether the bare name matches too, and the port.
    Domain(String, bool, Option<u16>),
}

impl NoProxy {
    fn parse(text: &str) -> Self {
        let mut rules = Vec::new();
        for entry in text.split(',') {
            let entry = entry.trim().to_ascii_lowercase();
            if entry.is_empty() {
                continue;
            }
            if entry == "*" {
                return NoProxy { all: true, rules: Vec::new() };
            }
            if let Some(cidr) = parse_cidr(&entry) {
                rules.push(cidr);
                continue;
            }
            let (host, port) = split_host_port(&entry);
            if let Ok(ip) = host.parse::<IpAddr>() {
                rules.push(Rule::Ip(ip, port));
                continue;
            }
            if host.is_empty() {
                continue;
            }
            let host = host.strip_prefix('*').filter(|h| h.starts_with('.')).unwrap_or(host);
            match host.strip_prefix('.') {
                Some(_) => rules.push(Rule::Domain(host.to_owned(), false, port)),
                None => rules.push(Rule::Domain(format!(".{host}"), true, port)),
            }
        }
        NoProxy { all: false, rules }
    }

    /// httpproxy's `useProxy` for a lower-case host (no brackets) and port.
    fn uses_proxy(&self, host: &str, port: u16) -> bool {
        if host == "localhost" {
            return false;
        }
        let ip = host.parse::<IpAddr>().ok();
        if ip.is_some_and(|ip| ip.is_loopback() || ip.to_canonical().is_loopback()) {
            return false;
        }
        if self.all {
            return false;
        }
        let port_ok = |p: &Option<u16>| p.is_none_or(|p| p == port);
        !self.rules.iter().any(|rule| match rule {
            Rule::Cidr(net, bits) => ip.is_some_and(|ip| in_cidr(ip, *net, *bits)),
            Rule::Ip(rule_ip, p) => ip.is_some_and(|ip| ip.to_canonical() == rule_ip.to_canonical()) && port_ok(p),
            Rule::Domain(suffix, bare, p) => {
                (host.ends_with(suffix.as_str()) || (*bare && host == &suffix[1..])) && port_ok(p)
            }
        })
    }
}

/// Go's `net.SplitHostPort` where it succeeds (brackets removed), else the whole entry.
fn split_host_port(entry: &str) -> (&str, Option<u16>) {
    if let Some(rest) = entry.strip_prefix('[') {
        if let Some((host, tail)) = rest.split_once(']') {
            return (host, tail.strip_prefix(':').and_then(|p| p.parse().ok()));
        }
        return (entry, None);
    }
    match entry.rsplit_once(':') {
        // One colon only: two or more means a bare IPv6 address, which SplitHostPort rejects.
        Some((host, port)) if !host.contains(':') => match port.parse() {
            Ok(port) => (host, Some(port)),
            Err(_) => (entry, None),
        },
        _ => (entry, None),
    }
}

fn parse_cidr(entry: &str) -> Option<Rule> {
    let (ip, bits) = entry.split_once('/')?;
    let ip: IpAddr = ip.parse().ok()?;
    let bits: u8 = bits.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    (bits <= max).then_some(Rule::Cidr(ip, bits))
}

fn in_cidr(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    // Go's IPNet.Contains compares an IPv4 address with a v4 network even when written as
    // an IPv4-mapped IPv6 address.
    match (ip.to_canonical(), net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A connector for `http://` targets through an HTTP(S) proxy: it dials the proxy with `inner`
/// whatever the target, and marks the connection proxied, so hyper-util's client writes
/// absolute-form request lines (`GET http://host/path HTTP/1.1`), as Go's transport does for
/// http URLs (it tunnels only https ones, which [`hyper_util`]'s `Tunnel` does).
#[derive(Clone)]
pub struct Forward<C> {
    inner: C,
    proxy: Uri,
}

impl<C> Forward<C> {
    pub fn new(proxy: Uri, inner: C) -> Self {
        Forward { inner, proxy }
    }
}

impl<C> tower_service::Service<Uri> for Forward<C>
where
    C: tower_service::Service<Uri>,
    C::Future: Send + 'static,
{
    type Response = Proxied<C::Response>;
    type Error = C::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, _target: Uri) -> Self::Future {
        let connecting = self.inner.call(self.proxy.clone());
        Box::pin(async move { connecting.await.map(Proxied) })
    }
}

/// Gives the target URI its scheme's port before `inner` sees it: hyper-util's SOCKS5 and
/// CONNECT connectors assume 443 for a URI without one, even for `http://`.
#[derive(Clone)]
pub struct ExplicitPort<C>(pub C);

impl<C: tower_service::Service<Uri>> tower_service::Service<Uri> for ExplicitPort<C> {
    type Response = C::Response;
    type Error = C::Error;
    type Future = C::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, target: Uri) -> Self::Future {
        self.0.call(with_port(target))
    }
}

fn with_port(target: Uri) -> Uri {
    if target.port().is_some() {
        return target;
    }
    let port = if target.scheme() == Some(&Scheme::HTTPS) { 443 } else { 80 };
    let Some(host) = target.host() else { return target };
    let authority = format!("{host}:{port}");
    let mut parts = target.clone().into_parts();
    match authority.parse() {
        Ok(authority) => {
            parts.authority = Some(authority);
            Uri::from_parts(parts).unwrap_or(target)
        }
        Err(_) => target,
    }
}

/// A connection to a forwarding proxy (see [`Forward`]).
pub struct Proxied<T>(T);

impl<T: Connection> Connection for Proxied<T> {
    fn connected(&self) -> Connected {
        self.0.connected().proxy(true)
    }
}

impl<T: hyper::rt::Read + Unpin> hyper::rt::Read for Proxied<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_read(cx, buf)
    }
}

impl<T: hyper::rt::Write + Unpin> hyper::rt::Write for Proxied<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write_vectored(cx, bufs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(http: Option<&str>, https: Option<&str>, no_proxy: &str) -> Environment {
        Environment::new(http.map(Into::into), https.map(Into::into), no_proxy, false)
    }

    fn proxy_of(e: &Environment, target: &str) -> Option<String> {
        e.proxy_for(&target.parse().expect("target URL")).expect("a decision").map(|p| p.uri().to_string())
    }

    #[test]
    fn each_scheme_has_its_variable() {
        let e = env(Some("http://plain:3128"), Some("https://secure:8443"), "");
        assert_eq!(proxy_of(&e, "http://example.com/x").as_deref(), Some("http://plain:3128/"));
        assert_eq!(proxy_of(&e, "https://example.com/x").as_deref(), Some("https://secure:8443/"));
        let only_https = env(None, Some("proxy:3128"), "");
        assert_eq!(proxy_of(&only_https, "http://example.com"), None);
        // No scheme means http; no port means the scheme's.
        assert_eq!(proxy_of(&only_https, "https://example.com").as_deref(), Some("http://proxy:3128/"));
        let ports = env(Some("http://p"), Some("socks5://s"), "");
        assert_eq!(proxy_of(&ports, "http://a.example").as_deref(), Some("http://p:80/"));
        assert_eq!(proxy_of(&ports, "https://a.example").as_deref(), Some("socks5://s:1080/"));
        let https_default = env(None, Some("https://p"), "");
        assert_eq!(proxy_of(&https_default, "https://a.example").as_deref(), Some("https://p:443/"));
    }

    #[test]
    fn localhost_and_loopback_are_never_proxied() {
        let e = env(Some("http://p:1"), Some("http://p:1"), "");
        for target in [
            "http://localhost:8080/",
            "https://localhost/",
            "http://127.0.0.1:9/",
            "http://127.9.9.9/",
            "https://[::1]:6443/",
            "http://[::ffff:127.0.0.1]/",
        ] {
            assert_eq!(proxy_of(&e, target), None, "{target}");
        }
        // A name that only looks local is proxied: Go decides by the text, not by DNS.
        assert!(proxy_of(&e, "http://localhost.example/").is_some());
    }

    #[test]
    fn no_proxy_entries_as_go_matches_them() {
        // From httpproxy's proxy_test.go cases.
        let e = env(
            Some("http://p:1"),
            Some("http://p:1"),
            " Example.COM, .svc.local, *.wild.test ,10.0.0.0/8, 192.168.1.1, 172.16.0.1:8443, only-port.test:8080, [2001:db8::1]:443,,",
        );
        let direct = [
            "http://example.com/",
            "http://www.example.com/",
            "http://a.svc.local/",
            "http://x.wild.test/",
            "http://10.1.2.3/",
            "http://192.168.1.1:9090/",
            "https://172.16.0.1:8443/",
            "http://only-port.test:8080/",
            "https://[2001:db8::1]/",
        ];
        for target in direct {
            assert_eq!(proxy_of(&e, target), None, "{target}");
        }
        let proxied = [
            "http://notexample.com/",
            "http://svc.local/",
            "http://wild.test/",
            "http://11.0.0.1/",
            "https://172.16.0.1/",
            "http://only-port.test/",
            "http://[2001:db8::2]/",
        ];
        for target in proxied {
            assert!(proxy_of(&e, target).is_some(), "{target}");
        }
        let star = env(Some("http://p:1"), None, " * ");
        assert_eq!(proxy_of(&star, "http://anything.example/"), None);
    }

    #[test]
    fn credentials_become_basic_auth_and_stay_out_of_the_uri() {
        let p = Proxy::parse("HTTPS_PROXY", "http://us%40er:pa%3Ass@proxy.example:3128").expect("proxy");
        assert_eq!(p.uri().to_string(), "http://proxy.example:3128/");
        assert_eq!(p.credentials(), Some(("us@er", "pa:ss")));
        let header = p.basic_auth().expect("basic auth");
        assert!(header.is_sensitive());
        // base64("us@er:pa:ss")
        assert_eq!(header.to_str().expect("ascii"), "Basic dXNAZXI6cGE6c3M=");
        assert_eq!(p.uri_with_credentials().to_string(), "http://us%40er:pa%3Ass@proxy.example:3128/");
        let socks = Proxy::parse("HTTPS_PROXY", "socks5h://s.example").expect("socks proxy");
        assert_eq!(socks.protocol(), Protocol::Socks5);
        assert_eq!(socks.uri().to_string(), "socks5://s.example:1080/");
    }

    #[test]
    fn targets_get_their_scheme_port() {
        let port = |t: &str| with_port(t.parse().expect("uri")).to_string();
        assert_eq!(port("http://a.example/x?y"), "http://a.example:80/x?y");
        assert_eq!(port("https://a.example/"), "https://a.example:443/");
        assert_eq!(port("http://a.example:8080/"), "http://a.example:8080/");
        assert_eq!(port("http://[2001:db8::1]/"), "http://[2001:db8::1]:80/");
    }

    #[test]
    fn bad_values_are_errors_that_name_the_variable_not_the_value() {
        for value in ["ftp://proxy:21", "http://", "http://pass:word-marker@bad host"] {
            let e = env(None, Some(value), "");
            let err = e.proxy_for(&"https://example.com".parse().expect("uri")).err().expect("an error");
            let text = err.to_string();
            assert!(text.starts_with("HTTPS_PROXY: "), "{text}");
            assert!(!text.contains("word-marker"), "{text}");
        }
        let cgi = Environment::new(Some("http://p:1".into()), None, "", true);
        let err = cgi.proxy_for(&"http://example.com".parse().expect("uri")).err().expect("refused");
        assert_eq!(err.kind(), "proxy_refused");
        // CGI refuses HTTP_PROXY only.
        let cgi_https = Environment::new(Some("http://p:1".into()), Some("http://p:2".into()), "", true);
        assert!(cgi_https.proxy_for(&"https://example.com".parse().expect("uri")).expect("https is fine").is_some());
    }
}
