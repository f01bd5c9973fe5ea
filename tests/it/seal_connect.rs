//! `seal`'s connections: `--cert` over plain HTTP (a local one-thread server) against the same
//! certificate as a file, the failures (404, an oversized answer, nobody listening), and
//! kubectl's connection flags reaching the wire (`--server` over the kubeconfig's, no token over
//! plain http as client-go, impersonation headers), and proxies as Go picks them (the same server
//! plays an HTTP and a SOCKS5 proxy).
#![cfg(all(unix, feature = "daemon"))]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;

use crate::support::{Run, Sandbox, data, run_with_stdin};

fn cert_b() -> String {
    data("sealed-secrets-upstream/keys/key-b/tls.crt").to_str().expect("utf-8 path").to_owned()
}

fn key_b() -> String {
    data("sealed-secrets-upstream/keys/key-b/tls.key").to_str().expect("utf-8 path").to_owned()
}

const SECRET: &str = r#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s","namespace":"demo"},"stringData":{"password":"over-http"}}"#;

fn seal(sb: &Sandbox, args: &[&str], stdin: &[u8]) -> Run {
    let mut all = vec!["seal"];
    all.extend_from_slice(args);
    run_with_stdin(&mut sb.cmd(&all), Some(stdin))
}

/// A local HTTP/1.1 server on its own thread: `/cert.pem` is key B's certificate, `/big.pem`
/// two MiB, anything else 404. Every request head is recorded.
struct Server {
    port: u16,
    heads: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("local addr").port();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let recorded = heads.clone();
        let cert = std::fs::read(cert_b()).expect("key B's certificate");
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                answer(stream, &cert, &recorded);
            }
        });
        Server { port, heads }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The server as a proxy URL, `http://[userinfo@]127.0.0.1:port`.
    fn proxy(&self, scheme: &str, userinfo: &str) -> String {
        format!("{scheme}://{userinfo}127.0.0.1:{}", self.port)
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

/// Answers the requests of one connection. The server is also an HTTP proxy: an absolute-form
/// request (`GET http://host/path`) is answered as its path, and `CONNECT host:port` opens a
/// tunnel to the server itself (closed at once for port 443: there is no TLS here). A SOCKS5
/// greeting gets the same tunnel.
fn answer(mut stream: TcpStream, cert: &[u8], heads: &Mutex<Vec<String>>) {
    let mut first = [0u8; 1];
    if stream.peek(&mut first).is_ok_and(|n| n == 1) && first[0] == 5 && socks5_handshake(&mut stream, heads).is_none()
    {
        return;
    }
    loop {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            match stream.read(&mut byte) {
                Ok(1) => head.push(byte[0]),
                _ => return,
            }
        }
        let head = String::from_utf8_lossy(&head).into_owned();
        let mut words = head.split_whitespace();
        let method = words.next().unwrap_or_default().to_owned();
        let target = words.next().unwrap_or_default().to_owned();
        heads.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(head);
        if method == "CONNECT" {
            if target.ends_with(":443") {
                return;
            }
            let _ = stream.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
            continue;
        }
        let path = match target.strip_prefix("http://") {
            Some(rest) => rest.find('/').map(|i| rest[i..].to_owned()).unwrap_or_default(),
            None => target,
        };
        let (status, body) = match path.as_str() {
            "/cert.pem" => ("200 OK", cert.to_vec()),
            "/big.pem" => ("200 OK", vec![b'A'; 2 << 20]),
            _ => ("404 Not Found", b"{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":\"NotFound\",\"code\":404,\"message\":\"not here\"}".to_vec()),
        };
        let _ = write!(stream, "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
        let _ = stream.write_all(&body);
        return;
    }
}

/// RFC 1928 without authentication: records `SOCKS5 host:port` and connects the client to the
/// server itself.
fn socks5_handshake(stream: &mut TcpStream, heads: &Mutex<Vec<String>>) -> Option<()> {
    let mut greeting = [0u8; 2];
    stream.read_exact(&mut greeting).ok()?;
    let mut methods = vec![0u8; usize::from(greeting[1])];
    stream.read_exact(&mut methods).ok()?;
    stream.write_all(&[5, 0]).ok()?;
    let mut request = [0u8; 4];
    stream.read_exact(&mut request).ok()?;
    let host = match request[3] {
        3 => {
            let mut len = [0u8; 1];
            stream.read_exact(&mut len).ok()?;
            let mut name = vec![0u8; usize::from(len[0])];
            stream.read_exact(&mut name).ok()?;
            String::from_utf8_lossy(&name).into_owned()
        }
        1 => {
            let mut ip = [0u8; 4];
            stream.read_exact(&mut ip).ok()?;
            std::net::Ipv4Addr::from(ip).to_string()
        }
        _ => return None,
    };
    let mut port = [0u8; 2];
    stream.read_exact(&mut port).ok()?;
    let port = u16::from_be_bytes(port);
    heads.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(format!("SOCKS5 {host}:{port}"));
    stream.write_all(&[5, 0, 0, 1, 0, 0, 0, 0, 0, 0]).ok()
}

fn unsealed_password(sb: &Sandbox, sealed: &[u8]) -> Vec<u8> {
    let out = seal(sb, &["--recovery-unseal", "--recovery-private-key", &key_b()], sealed).ok().out();
    let secret: Value = serde_json::from_str(&out).expect("a JSON Secret");
    B64.decode(secret["data"]["password"].as_str().expect("data.password")).expect("base64")
}

#[test]
fn cert_over_http_seals_as_the_file_does() {
    let sb = Sandbox::new();
    let server = Server::start();
    let over_http = seal(&sb, &["--cert", &server.url("/cert.pem")], SECRET.as_bytes()).ok().stdout;
    let from_file = seal(&sb, &["--cert", &cert_b()], SECRET.as_bytes()).ok().stdout;
    let file_url = seal(&sb, &["--cert", &format!("file://{}", cert_b())], SECRET.as_bytes()).ok().stdout;
    for sealed in [&over_http, &from_file, &file_url] {
        assert_eq!(unsealed_password(&sb, sealed), b"over-http");
    }
    // The same document apart from the (random) ciphertext.
    let shape = |sealed: &[u8]| {
        let mut v: Value = serde_json::from_slice(sealed).expect("JSON output");
        v["spec"]["encryptedData"]["password"] = Value::Null;
        v
    };
    assert_eq!(shape(&over_http), shape(&from_file));
    // --fetch-cert prints the fetched certificate unchanged.
    let fetched = seal(&sb, &["--fetch-cert", "--cert", &server.url("/cert.pem")], b"").ok().out();
    assert_eq!(fetched, std::fs::read_to_string(cert_b()).expect("cert"));
    let head = &server.heads()[0];
    assert!(head.starts_with("GET /cert.pem HTTP/1.1\r\n"), "{head}");
}

#[test]
fn cert_url_failures_name_the_url() {
    let sb = Sandbox::new();
    let server = Server::start();
    let missing = server.url("/missing.pem");
    seal(&sb, &["--cert", &missing], SECRET.as_bytes())
        .code(1)
        .err_has(&format!("error: cannot fetch \"{missing}\": 404 Not Found"));
    let big = server.url("/big.pem");
    seal(&sb, &["--cert", &big], SECRET.as_bytes())
        .code(1)
        .err_has(&format!("cannot fetch \"{big}\""))
        .err_has("too large for a certificate");
    // Nobody listens on a port just released.
    let port = TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let closed = format!("http://127.0.0.1:{port}/cert.pem");
    seal(&sb, &["--cert", &closed], SECRET.as_bytes()).code(1).err_has(&format!("error: cannot fetch \"{closed}\": "));
    seal(&sb, &["--cert", "http://127.0.0.1:1/a b"], SECRET.as_bytes()).code(1).err_has("not a URL");
}

#[test]
fn connection_flags_reach_the_api_server() {
    let sb = Sandbox::new();
    let server = Server::start();
    // The kubeconfig points elsewhere; --server replaces its URL for the selected cluster.
    let kubeconfig = sb.write(
        "kubeconfig",
        "apiVersion: v1\nkind: Config\ncurrent-context: c\ncontexts:\n- name: c\n  context: {cluster: k, user: u}\n\
         clusters:\n- name: k\n  cluster: {server: 'https://unreachable.invalid:6443'}\nusers:\n- name: u\n  user: {}\n",
    );
    let args = [
        "--kubeconfig",
        kubeconfig.to_str().expect("utf-8"),
        "-s",
        &server.url(""),
        "--token",
        "flag-token-marker",
        "--as",
        "jane",
        "--as-group",
        "devs",
        "--request-timeout",
        "20s",
    ];
    let run = seal(&sb, &args, SECRET.as_bytes()).code(1);
    assert!(
        run.stderr
            .contains("error: cannot fetch certificate: cannot get service kube-system/sealed-secrets-controller"),
        "{}",
        run.stderr
    );
    let heads = server.heads();
    let head = heads.first().expect("one request reached the server");
    assert!(head.starts_with("GET /api/v1/namespaces/kube-system/services/sealed-secrets-controller"), "{head}");
    let lower = head.to_ascii_lowercase();
    assert!(lower.contains("\r\nimpersonate-user: jane\r\n"), "{head}");
    assert!(lower.contains("\r\nimpersonate-group: devs\r\n"), "{head}");
    // client-go sends credentials only over TLS.
    assert!(!head.contains("flag-token-marker") && !lower.contains("authorization:"), "{head}");
    // A name the kubeconfig lacks is an error naming it; so is a bad timeout.
    seal(&sb, &["--kubeconfig", kubeconfig.to_str().expect("utf-8"), "--context", "nope"], SECRET.as_bytes())
        .code(1)
        .err_has("context \"nope\" was not found");
    seal(&sb, &["--kubeconfig", kubeconfig.to_str().expect("utf-8"), "--request-timeout", "soon"], SECRET.as_bytes())
        .code(1)
        .err_has("--request-timeout \"soon\"");
}

#[test]
fn cert_urls_go_through_the_environment_proxy_as_go_sends_them() {
    let sb = Sandbox::new();
    let proxy = Server::start();
    // Not a resolvable name: only the proxy can answer for it.
    let url = "http://certs.example.invalid/cert.pem";
    let sealed = seal_env(&sb, &["--cert", url], &[("HTTP_PROXY", &proxy.proxy("http", "us%40er:pw@"))]).ok().stdout;
    assert_eq!(unsealed_password(&sb, &sealed), b"over-http");
    let heads = proxy.heads();
    // An http URL is forwarded in absolute form, with the URL's credentials, decoded.
    assert!(heads[0].starts_with("GET http://certs.example.invalid/cert.pem HTTP/1.1\r\n"), "{}", heads[0]);
    assert!(heads[0].to_ascii_lowercase().contains("\r\nproxy-authorization: basic dxnazxi6chc=\r\n"), "{}", heads[0]);
    // An https URL is tunnelled: CONNECT with the credentials (this proxy then hangs up).
    let secure = "https://certs.example.invalid/cert.pem";
    let run = seal_env(&sb, &["--cert", secure], &[("https_proxy", &proxy.proxy("http", "us%40er:pw@"))]).code(1);
    assert!(
        run.stderr.contains(&format!("cannot fetch \"{secure}\": through proxy 127.0.0.1:{}", proxy.port)),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("pw"), "{}", run.stderr);
    let connect = &proxy.heads()[1];
    assert!(connect.starts_with("CONNECT certs.example.invalid:443 HTTP/1.1\r\n"), "{connect}");
    assert!(connect.to_ascii_lowercase().contains("\r\nproxy-authorization: basic dxnazxi6chc=\r\n"), "{connect}");
    // Through SOCKS5 the proxy resolves the name.
    let socks = seal_env(&sb, &["--fetch-cert", "--cert", url], &[("HTTP_PROXY", &proxy.proxy("socks5", ""))]).ok();
    assert_eq!(socks.out(), std::fs::read_to_string(cert_b()).expect("cert"));
    assert_eq!(proxy.heads()[2], "SOCKS5 certs.example.invalid:80");
}

#[test]
fn loopback_no_proxy_and_bad_proxy_values() {
    let sb = Sandbox::new();
    let server = Server::start();
    // Nobody listens there: a request that went to the proxy would fail.
    let port = TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let dead = format!("http://127.0.0.1:{port}");
    // Loopback targets are never proxied (Go's rule).
    seal_env(&sb, &["--fetch-cert", "--cert", &server.url("/cert.pem")], &[("HTTP_PROXY", &dead)]).ok();
    // Any other name goes to the (dead) proxy, and the error names it.
    let url = "http://certs.example.invalid/cert.pem";
    let via_dead = seal_env(&sb, &["--fetch-cert", "--cert", url], &[("HTTP_PROXY", &dead)]).code(1);
    assert!(via_dead.stderr.contains(&format!("through proxy 127.0.0.1:{port}")), "{}", via_dead.stderr);
    // A proxy value that is not a URL is an error naming the variable, never the value.
    seal_env(&sb, &["--cert", url], &[("HTTP_PROXY", "ftp://secret-marker@p:21")])
        .code(1)
        .err_has("HTTP_PROXY: unsupported proxy scheme \"ftp\"");
    let run = seal_env(&sb, &["--cert", url], &[("http_proxy", "http://user:secret-marker@bad host")]).code(1);
    assert!(
        run.stderr.contains("HTTP_PROXY: not a proxy URL") && !run.stderr.contains("secret-marker"),
        "{}",
        run.stderr
    );
    // In a CGI process HTTP_PROXY is refused (httpoxy).
    seal_env(&sb, &["--cert", url], &[("HTTP_PROXY", &dead), ("REQUEST_METHOD", "GET")])
        .code(1)
        .err_has("refusing to use HTTP_PROXY in a CGI environment");
}

#[test]
fn the_api_server_is_reached_through_proxies() {
    let sb = Sandbox::new();
    let proxy = Server::start();
    let kubeconfig = |extra: &str| {
        sb.write(
            "kubeconfig",
            format!(
                "apiVersion: v1\nkind: Config\ncurrent-context: c\ncontexts:\n- name: c\n  context: {{cluster: k, user: u}}\n\
                 clusters:\n- name: k\n  cluster: {{server: 'http://kube.example.invalid:8080'{extra}}}\nusers:\n- name: u\n  user: {{}}\n"
            ),
        )
    };
    let expect_404 = |run: Run| {
        assert!(
            run.stderr.contains("cannot fetch certificate: cannot get service kube-system/sealed-secrets-controller"),
            "{}",
            run.stderr
        );
    };
    // From the environment: the server is http, so HTTP_PROXY (kube tunnels with CONNECT).
    let plain = kubeconfig("");
    let path = plain.to_str().expect("utf-8");
    expect_404(seal_env(&sb, &["--kubeconfig", path], &[("HTTP_PROXY", &proxy.proxy("http", ""))]).code(1));
    let heads = proxy.heads();
    assert!(heads[0].starts_with("CONNECT kube.example.invalid:8080 HTTP/1.1\r\n"), "{}", heads[0]);
    assert!(
        heads[1].starts_with("GET /api/v1/namespaces/kube-system/services/sealed-secrets-controller"),
        "{}",
        heads[1]
    );
    // HTTPS_PROXY is for https servers only, and NO_PROXY wins: both leave this server direct,
    // which cannot be reached.
    for env in [
        [("HTTPS_PROXY", proxy.proxy("http", "")), ("X", String::new())],
        [("HTTP_PROXY", proxy.proxy("http", "")), ("NO_PROXY", ".example.invalid".to_owned())],
    ] {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let run = seal_env(&sb, &["--kubeconfig", path, "--request-timeout", "5s"], &env).code(1);
        assert!(run.stderr.contains("client error (Connect)"), "{}", run.stderr);
        assert_eq!(proxy.heads().len(), 2, "{env:?}");
    }
    // The kubeconfig's proxy-url is used whatever the environment says, here SOCKS5.
    let socks = kubeconfig(&format!(", proxy-url: '{}'", proxy.proxy("socks5", "")));
    let run = seal_env(&sb, &["--kubeconfig", socks.to_str().expect("utf-8")], &[("NO_PROXY", "*")]).code(1);
    expect_404(run);
    let heads = proxy.heads();
    assert_eq!(heads[2], "SOCKS5 kube.example.invalid:8080");
    assert!(
        heads[3].starts_with("GET /api/v1/namespaces/kube-system/services/sealed-secrets-controller"),
        "{}",
        heads[3]
    );
}

fn seal_env(sb: &Sandbox, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut all = vec!["seal"];
    all.extend_from_slice(args);
    let mut cmd = sb.cmd(&all);
    for (key, value) in env {
        cmd.env(key, value);
    }
    run_with_stdin(&mut cmd, Some(SECRET.as_bytes()))
}
