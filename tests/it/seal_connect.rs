//! `seal`'s connections: `--cert` over plain HTTP (a local one-thread server) against the same
//! certificate as a file, the failures (404, an oversized answer, nobody listening), and
//! kubectl's connection flags reaching the wire (`--server` over the kubeconfig's, no token over
//! plain http as client-go, impersonation headers).
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

    fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

fn answer(mut stream: TcpStream, cert: &[u8], heads: &Mutex<Vec<String>>) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let path = head.split_whitespace().nth(1).unwrap_or_default().to_owned();
    heads.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(head);
    let (status, body) = match path.as_str() {
        "/cert.pem" => ("200 OK", cert.to_vec()),
        "/big.pem" => ("200 OK", vec![b'A'; 2 << 20]),
        _ => ("404 Not Found", b"{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":\"NotFound\",\"code\":404,\"message\":\"not here\"}".to_vec()),
    };
    let _ = write!(stream, "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
    let _ = stream.write_all(&body);
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
