//! `cargo test --test daemon`: the daemon, in-process, against the test API server
//! (`tests/apiserver`) with upstream's SealedSecret CRD applied. Expected Secrets come from the
//! upstream-made interop vectors (`tests/data/sealed-secrets-upstream`, see its ORIGIN.md).

mod flags;
mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use kube::api::{DeleteParams, Patch, PatchParams};
use sealops::crypto::rsa::{Certificate, PrivateKey};
use sealops::sealed::document::{ObjectMeta, SealedSecret, Secret};
use serde_json::{Value, json};
use support::{DATA, NS, eventually, http, synced};

fn vector(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(format!("{DATA}/sealed/{name}.json")).expect("vector"))
        .expect("vector JSON")
}

fn upstream_cert(key: &str) -> Certificate {
    Certificate::from_pem(&std::fs::read(format!("{DATA}/keys/{key}/tls.crt")).expect("cert")).expect("cert PEM")
}

/// A SealedSecret made here, sealed to `cert` (strict scope unless annotated).
fn seal(cert: &Certificate, ns: &str, name: &str, items: &[(&str, &str)]) -> Value {
    let metadata = ObjectMeta { name: Some(name.into()), namespace: Some(ns.into()), ..ObjectMeta::default() };
    let data = items
        .iter()
        .map(|(k, v)| ((*k).to_owned(), sealops::crypto::SecretBytes::from_slice(v.as_bytes())))
        .collect::<BTreeMap<_, _>>();
    let secret = Secret { metadata, type_: Some("Opaque".into()), immutable: None, data };
    serde_json::to_value(secret.seal(cert.public_key()).expect("seal")).expect("JSON")
}

fn data_of(secret: &Value, key: &str) -> Option<Vec<u8>> {
    STANDARD.decode(secret["data"][key].as_str()?).ok()
}

/// Every document vector unseals into the expected Secret, or fails with upstream's message.
/// Vectors sharing a namespace/name run in separate rounds (a fresh cluster each).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_document_vector_unseals_as_upstream() {
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{DATA}/vectors.json")).expect("vectors")).expect("JSON");
    let documents = manifest["documents"].as_array().expect("documents").clone();
    let mut rounds: Vec<Vec<Value>> = Vec::new();
    for doc in documents {
        let sealed = vector(doc["name"].as_str().expect("name"));
        let id = (sealed["metadata"]["namespace"].clone(), sealed["metadata"]["name"].clone());
        let round = rounds.iter_mut().find(|r| {
            !r.iter().any(|d| {
                let s = vector(d["name"].as_str().expect("name"));
                (s["metadata"]["namespace"].clone(), s["metadata"]["name"].clone()) == id
            })
        });
        match round {
            Some(r) => r.push(doc),
            None => rounds.push(vec![doc]),
        }
    }
    let mut checked = 0;
    for round in rounds {
        let cluster = support::cluster().await;
        cluster.import_upstream_keys().await;
        let daemon = cluster.daemon(cluster.config()).await;
        assert_eq!(daemon.shared().keys.snapshot().len(), 2, "both upstream keys are loaded");
        let mut uids = BTreeMap::new();
        for doc in &round {
            let name = doc["name"].as_str().expect("name");
            let created = cluster.create(&vector(name)).await;
            uids.insert(name.to_owned(), created.metadata.uid.clone().expect("uid"));
        }
        for doc in &round {
            let name = doc["name"].as_str().expect("name");
            let sealed = vector(name);
            let (ns, obj) = (
                sealed["metadata"]["namespace"].as_str().expect("ns"),
                sealed["metadata"]["name"].as_str().expect("name"),
            );
            if doc["expect"] == "ok" {
                eventually(&format!("{name}: Synced True"), || {
                    synced(&cluster.server, ns, obj).is_some_and(|(s, _)| s == "True")
                })
                .await;
                let got = cluster.secret(ns, obj).expect("Secret exists");
                let expected_path = format!("{DATA}/{}", doc["expected_secret"].as_str().expect("expected"));
                let mut expected: Value =
                    serde_json::from_str(&std::fs::read_to_string(expected_path).expect("expected")).expect("JSON");
                if let Some(refs) = expected["metadata"]["ownerReferences"].as_array_mut() {
                    for r in refs {
                        r["uid"] = json!(uids[name]);
                    }
                }
                assert_eq!(got["data"], expected["data"], "{name}: data");
                assert_eq!(got["type"], expected["type"], "{name}: type");
                assert_eq!(got.get("immutable"), expected.get("immutable"), "{name}: immutable");
                for field in ["labels", "annotations", "ownerReferences"] {
                    assert_eq!(got["metadata"][field], expected["metadata"][field], "{name}: metadata.{field}");
                }
                let events = cluster.events(ns);
                assert!(
                    events.iter().any(|e| e["involvedObject"]["name"] == obj
                        && e["reason"] == "Unsealed"
                        && e["message"] == "SealedSecret unsealed successfully"
                        && e["type"] == "Normal"),
                    "{name}: Unsealed event"
                );
            } else {
                let message = doc["expected_error"].as_str().expect("error");
                eventually(&format!("{name}: Synced False"), || {
                    synced(&cluster.server, ns, obj).is_some_and(|(s, m)| s == "False" && m == message)
                })
                .await;
                assert!(cluster.secret(ns, obj).is_none(), "{name}: no Secret");
                assert!(
                    cluster.events(ns).iter().any(|e| e["involvedObject"]["name"] == obj
                        && e["reason"] == "ErrUnsealFailed"
                        && e["message"] == format!("Failed to unseal: {message}")
                        && e["type"] == "Warning"),
                    "{name}: ErrUnsealFailed event"
                );
            }
            let stored = cluster.server.get("sealedsecrets.bitnami.com", Some(ns), obj).expect("stored");
            assert_eq!(stored["status"]["observedGeneration"], stored["metadata"]["generation"], "{name}");
            checked += 1;
        }
        daemon.shutdown().await;
        cluster.server.shutdown().await;
    }
    assert_eq!(checked, 15, "every document vector was checked");
}

/// First start with no keys: one key Secret is generated (upstream's format), served as
/// /v1/cert.pem; a restart does not generate another; probes answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_is_generated_on_first_start_and_served() {
    let cluster = support::cluster().await;
    let mut config = cluster.config();
    config.key_renew_period = Duration::from_secs(720 * 3600);
    config.my_cn = "sealops-test".into();
    let daemon = cluster.daemon(config.clone()).await;
    eventually("a key Secret", || cluster.key_secrets().len() == 1).await;
    let key = cluster.key_secrets().remove(0);
    assert_eq!(key["type"], "kubernetes.io/tls");
    assert!(key["metadata"]["name"].as_str().expect("name").starts_with("sealed-secrets-key"));
    let tls_key = data_of(&key, "tls.key").expect("tls.key");
    assert!(tls_key.starts_with(b"-----BEGIN RSA PRIVATE KEY-----"), "PKCS#1 as upstream");
    let crt = data_of(&key, "tls.crt").expect("tls.crt");
    let addr = daemon.http_addr().expect("http");
    eventually("the cert is served", || daemon.shared().keys.snapshot().len() == 1).await;
    let (code, head, body) = http(addr, "GET", "/v1/cert.pem", b"").await;
    assert_eq!(code, 200);
    assert!(head.to_ascii_lowercase().contains("content-type: application/x-pem-file"));
    assert_eq!(
        Certificate::from_pem(&body).expect("PEM").public_key().fingerprint(),
        Certificate::from_pem(&crt).expect("PEM").public_key().fingerprint()
    );
    assert_eq!(http(addr, "GET", "/healthz", b"").await.2, b"ok\n");
    assert_eq!(http(addr, "GET", "/readyz", b"").await.0, 200);
    let metrics = daemon.metrics_addr().expect("metrics");
    let (code, _, text) = http(metrics, "GET", "/metrics", b"").await;
    assert_eq!(code, 200);
    let text = String::from_utf8(text).expect("UTF-8");
    assert!(text.contains("sealed_secrets_controller_build_info"));
    assert!(text.contains("sealed_secrets_controller_http_requests_total"), "{text}");
    daemon.shutdown().await;
    let again = cluster.daemon(config).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(cluster.key_secrets().len(), 1, "a restart reuses the key");
    again.shutdown().await;
}

/// `sealops keys renew` (the install's CronJob): a key when there is none, nothing while the
/// newest is younger than the threshold, a new one once it is older.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_renew_creates_a_key_only_when_the_newest_is_old() {
    use sealops::daemon::keys::{KeySpec, renew_if_older};
    use sealops::sealed::keys::KeyOrder;
    let cluster = support::cluster().await;
    let spec = KeySpec {
        namespace: NS,
        key_prefix: "sealed-secrets-key",
        key_size: 2048,
        key_ttl: Duration::from_secs(3600),
        my_cn: "",
    };
    let day = Duration::from_secs(24 * 3600);
    let first = renew_if_older(&cluster.client, &spec, KeyOrder::CertNotBefore, day).await.expect("renew");
    assert!(first.is_some_and(|n| n.starts_with("sealed-secrets-key")), "no key yet: one is made");
    assert_eq!(cluster.key_secrets().len(), 1);
    let second = renew_if_older(&cluster.client, &spec, KeyOrder::CertNotBefore, day).await.expect("renew");
    assert!(second.is_none(), "the newest key is minutes old");
    assert_eq!(cluster.key_secrets().len(), 1);
    let third = renew_if_older(&cluster.client, &spec, KeyOrder::CertNotBefore, Duration::ZERO).await.expect("renew");
    assert!(third.is_some(), "a zero threshold always renews");
    assert_eq!(cluster.key_secrets().len(), 2, "old keys stay");
}

/// kubeseal's cluster path: `sealops seal` without `--cert` fetches the certificate through the
/// API server's service proxy (Service `kube-system/sealed-secrets-controller`, first port named
/// `http`), and `--validate`/`--re-encrypt` ask the controller, as kubeseal does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seal_fetch_cert_validate_and_re_encrypt_through_the_api_server() {
    let cluster = support::cluster().await;
    let daemon = cluster.daemon(cluster.config()).await;
    eventually("a key", || daemon.shared().keys.snapshot().len() == 1).await;
    cluster
        .create(&json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "sealed-secrets-controller", "namespace": NS},
            "spec": {"ports": [{"name": "http", "port": 8080}]}
        }))
        .await;
    cluster.server.proxy_service(NS, "sealed-secrets-controller", daemon.http_addr().expect("http"));
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    cluster.server.write_kubeconfig(&kubeconfig).expect("kubeconfig");
    let run = move |args: Vec<String>, stdin: Vec<u8>| {
        tokio::task::spawn_blocking(move || {
            use std::io::Write as _;
            let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sealops"))
                .args(&args)
                .env_remove("KUBECONFIG")
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("sealops runs");
            child.stdin.take().expect("stdin").write_all(&stdin).expect("stdin written");
            let out = child.wait_with_output().expect("sealops finishes");
            (out.status.code(), out.stdout, String::from_utf8_lossy(&out.stderr).into_owned())
        })
    };
    let kc = format!("--kubeconfig={}", kubeconfig.display());

    let (code, pem, err) = run(vec!["seal".into(), "--fetch-cert".into(), kc.clone()], Vec::new()).await.expect("run");
    assert_eq!(code, Some(0), "{err}");
    let latest = daemon.shared().keys.snapshot().latest().expect("key").fingerprint().to_owned();
    assert_eq!(Certificate::from_pem(&pem).expect("PEM").public_key().fingerprint(), latest);

    let secret = br#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"db","namespace":"prod"},"stringData":{"password":"hunter2"}}"#;
    let (code, sealed, err) = run(vec!["seal".into(), kc.clone()], secret.to_vec()).await.expect("run");
    assert_eq!(code, Some(0), "sealing with the fetched certificate: {err}");
    let (code, _, err) = run(vec!["seal".into(), "--validate".into(), kc.clone()], sealed.clone()).await.expect("run");
    assert_eq!(code, Some(0), "the controller opens what was sealed to its certificate: {err}");

    // Sealed to another key: the controller cannot open it.
    let stranger = PrivateKey::generate(2048).expect("key");
    let other = Secret::parse(secret, "secret").expect("secret").seal(stranger.public_key()).expect("seal");
    let (code, _, err) =
        run(vec!["seal".into(), "--validate".into(), kc.clone()], other.to_json().into_bytes()).await.expect("run");
    assert_eq!(code, Some(1));
    assert!(err.contains("error: unable to decrypt sealed secret: db"), "{err}");

    let (code, rotated, err) =
        run(vec!["seal".into(), "--re-encrypt".into(), kc.clone()], sealed.clone()).await.expect("run");
    assert_eq!(code, Some(0), "{err}");
    let rotated = SealedSecret::parse(&rotated, "re-encrypted").expect("a SealedSecret");
    let original = SealedSecret::parse(&sealed, "sealed").expect("a SealedSecret");
    assert_ne!(rotated.spec.encrypted_data["password"], original.spec.encrypted_data["password"]);
    let keys = daemon.shared().keys.snapshot();
    let opened = rotated.unseal(&keys.private_keys()).expect("opens with the controller's key");
    assert_eq!(opened.data["password"].expose(), b"hunter2");
    daemon.shutdown().await;
}

/// Update → Secret updated; Secret deleted → recreated; SealedSecret deleted → Secret gone;
/// an unmanaged Secret is refused with upstream's condition and left alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_deletes_and_unmanaged_secrets() {
    let cluster = support::cluster().await;
    cluster.import_upstream_keys().await;
    let daemon = cluster.daemon(cluster.config()).await;
    let cert = upstream_cert("key-a");
    cluster.create(&seal(&cert, "apps", "db", &[("password", "one")])).await;
    eventually("Secret created", || cluster.secret("apps", "db").is_some()).await;
    assert_eq!(data_of(&cluster.secret("apps", "db").expect("secret"), "password").as_deref(), Some(&b"one"[..]));

    let api = cluster.sealed_api("apps");
    let next = seal(&cert, "apps", "db", &[("password", "two"), ("user", "u")]);
    api.patch("db", &PatchParams::default(), &Patch::Merge(&json!({"spec": next["spec"]}))).await.expect("patched");
    eventually("Secret updated", || {
        cluster.secret("apps", "db").and_then(|s| data_of(&s, "password")).as_deref() == Some(&b"two"[..])
    })
    .await;
    let secret = cluster.secret("apps", "db").expect("secret");
    assert_eq!(data_of(&secret, "user").as_deref(), Some(&b"u"[..]));

    let secrets: kube::Api<k8s_openapi::api::core::v1::Secret> = kube::Api::namespaced(cluster.client.clone(), "apps");
    secrets.delete("db", &DeleteParams::default()).await.expect("deleted");
    eventually("Secret recreated", || cluster.secret("apps", "db").is_some()).await;

    api.delete("db", &DeleteParams::default()).await.expect("deleted");
    eventually("Secret garbage-collected", || cluster.secret("apps", "db").is_none()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(cluster.secret("apps", "db").is_none(), "nothing recreates it");

    // Unmanaged: a Secret of the same name that nobody owns.
    cluster
        .create(&json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "mine", "namespace": "apps"},
                         "data": {"k": "b3JpZ2luYWw="}}))
        .await;
    cluster.create(&seal(&cert, "apps", "mine", &[("k", "sealed")])).await;
    let message = "failed update: Resource \"mine\" already exists and is not managed by SealedSecret";
    eventually("unmanaged condition", || {
        synced(&cluster.server, "apps", "mine").is_some_and(|(s, m)| s == "False" && m == message)
    })
    .await;
    assert_eq!(data_of(&cluster.secret("apps", "mine").expect("secret"), "k").as_deref(), Some(&b"original"[..]));
    assert!(cluster.events("apps").iter().any(|e| e["reason"] == "ErrUpdateFailed"
        && e["message"] == "Resource \"mine\" already exists and is not managed by SealedSecret"));
    daemon.shutdown().await;
}

/// 500s, 409s and dropped watches, plus a daemon restart midway: every Secret ends correct,
/// exactly one per SealedSecret, and no second key is minted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_and_a_restart_end_with_every_secret_correct() {
    let cluster = support::cluster().await;
    let mut config = cluster.config();
    config.key_renew_period = Duration::from_secs(720 * 3600);
    let first = cluster.daemon(config.clone()).await;
    eventually("key generated", || first.shared().keys.snapshot().len() == 1).await;
    let cert = first.shared().keys.snapshot().latest().expect("key").certificate().clone();
    let mut first = Some(first);
    let faults = cluster.server.faults();
    faults.fail_randomly(0.15, 500, sealops_test_apiserver::Matcher::any());
    faults.conflict_next_writes(5);
    faults.drop_watches_after_events(7);
    const N: usize = 20;
    for i in 0..N {
        let value = format!("value-{i}");
        let doc = seal(&cert, "faulty", &format!("s{i}"), &[("v", value.as_str())]);
        // The test's own writes may hit an injected fault too: retry them.
        loop {
            let api = cluster.sealed_api("faulty");
            cluster.namespace("faulty").await;
            let body: kube::api::DynamicObject = serde_json::from_value(doc.clone()).expect("object");
            match api.create(&Default::default(), &body).await {
                Ok(_) => break,
                Err(kube::Error::Api(s)) if s.code == 409 && s.reason == "AlreadyExists" => break,
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
        if i == N / 2
            && let Some(daemon) = first.take()
        {
            daemon.shutdown().await;
        }
    }
    let second = cluster.daemon(config).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    faults.clear();
    eventually("every Secret correct", || {
        (0..N).all(|i| {
            cluster
                .secret("faulty", &format!("s{i}"))
                .and_then(|s| data_of(&s, "v"))
                .is_some_and(|v| v == format!("value-{i}").as_bytes())
        })
    })
    .await;
    assert_eq!(cluster.server.list("secrets", Some("faulty")).len(), N, "one Secret per SealedSecret");
    assert_eq!(cluster.key_secrets().len(), 1, "no second key");
    second.shutdown().await;
}

/// A new key Secret is picked up without a restart: it seals from then on, and SealedSecrets
/// sealed to the old key still open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_key_is_picked_up_live_and_old_sealed_secrets_still_open() {
    let cluster = support::cluster().await;
    cluster.import_upstream_keys().await;
    let daemon = cluster.daemon(cluster.config()).await;
    let addr = daemon.http_addr().expect("http");
    let before = daemon.shared().keys.snapshot().latest().expect("key").fingerprint().to_owned();

    let key = PrivateKey::generate(2048).expect("key");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let cert = key.self_signed_certificate("", now, 3600).expect("cert");
    cluster
        .create(&json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
            "metadata": {"name": "rotated", "namespace": NS, "labels": {"sealedsecrets.bitnami.com/sealed-secrets-key": "active"}},
            "data": {"tls.crt": STANDARD.encode(cert.to_pem()), "tls.key": STANDARD.encode(key.to_pkcs1_pem().expect("pem").expose())}}))
        .await;
    eventually("the new key seals", || {
        daemon.shared().keys.snapshot().latest().map(|k| k.fingerprint().to_owned())
            == Some(cert.public_key().fingerprint().to_owned())
    })
    .await;
    assert_ne!(before, cert.public_key().fingerprint());
    let (_, _, pem) = http(addr, "GET", "/v1/cert.pem", b"").await;
    assert_eq!(Certificate::from_pem(&pem).expect("PEM").public_key().fingerprint(), cert.public_key().fingerprint());

    cluster.create(&seal(&upstream_cert("key-a"), "rot", "old", &[("a", "1")])).await;
    cluster.create(&seal(&cert, "rot", "new", &[("b", "2")])).await;
    eventually("both open", || cluster.secret("rot", "old").is_some() && cluster.secret("rot", "new").is_some()).await;
    daemon.shutdown().await;
}

/// /v1/verify, /v1/rotate (never widening scope), the rate limiter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_and_rotate() {
    let cluster = support::cluster().await;
    cluster.import_upstream_keys().await;
    let mut config = cluster.config();
    config.rate_limit = 2.0;
    config.rate_limit_burst = 2;
    let daemon = cluster.daemon(config).await;
    let addr = daemon.http_addr().expect("http");
    let strict = serde_json::to_vec(&vector("strict")).expect("JSON");
    assert_eq!(http(addr, "POST", "/v1/verify", &strict).await.0, 200);
    let renamed = serde_json::to_vec(&vector("strict-renamed")).expect("JSON");
    assert_eq!(http(addr, "POST", "/v1/verify", &renamed).await.0, 409);
    assert_eq!(http(addr, "POST", "/v1/verify", &strict).await.0, 429, "third at once is over the burst");
    tokio::time::sleep(Duration::from_millis(600)).await;
    let yaml = std::fs::read(format!("{DATA}/sealed/strict.yaml")).expect("YAML");
    assert_eq!(http(addr, "POST", "/v1/verify", &yaml).await.0, 200, "YAML body");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(http(addr, "POST", "/v1/verify", b"{not json").await.0, 500);

    let latest = daemon.shared().keys.snapshot().latest().expect("key").fingerprint().to_owned();
    let (code, _, body) =
        http(addr, "POST", "/v1/rotate", &serde_json::to_vec(&vector("template")).expect("JSON")).await;
    assert_eq!(code, 200, "{}", String::from_utf8_lossy(&body));
    let rotated = SealedSecret::parse(&body, "rotated").expect("a SealedSecret");
    let keys = daemon.shared().keys.snapshot();
    let key = keys.get(&latest).expect("latest");
    let opened = rotated.unseal(&[key.private_key()]).expect("opens with the latest key alone");
    assert_eq!(opened.data["username"].expose(), b"svc-user");
    assert_eq!(
        rotated.spec.template.as_ref().expect("template").metadata.labels.get("app").map(String::as_str),
        Some("web")
    );

    tokio::time::sleep(Duration::from_millis(1100)).await;
    let widen = serde_json::to_vec(&vector("strict-with-cluster-wide-only-in-template")).expect("JSON");
    let (code, _, body) = http(addr, "POST", "/v1/rotate", &widen).await;
    assert_eq!(code, 400, "{}", String::from_utf8_lossy(&body));
    assert!(String::from_utf8_lossy(&body).contains("widen"));
    daemon.shutdown().await;
}

/// Two daemons with --leader-elect: exactly one leads; when it stops the other takes over and
/// reconciles.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leader_election_with_two_daemons() {
    let cluster = support::cluster().await;
    cluster.import_upstream_keys().await;
    let mut config = cluster.config();
    config.leader_elect = true;
    let mut a_config = config.clone();
    a_config.identity = "a".into();
    let mut b_config = config;
    b_config.identity = "b".into();
    let a = cluster.daemon(a_config).await;
    let b = cluster.daemon(b_config).await;
    eventually("one leader", || a.is_leader() || b.is_leader()).await;
    for _ in 0..20 {
        assert!(!(a.is_leader() && b.is_leader()), "never two leaders");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let cert = upstream_cert("key-a");
    cluster.create(&seal(&cert, "le", "one", &[("a", "1")])).await;
    eventually("leader reconciles", || cluster.secret("le", "one").is_some()).await;
    let (leader, follower) = if a.is_leader() { (a, b) } else { (b, a) };
    assert_eq!(http(follower.http_addr().expect("http"), "GET", "/v1/cert.pem", b"").await.0, 200, "followers serve");
    leader.shutdown().await;
    eventually("the follower takes over", || follower.is_leader()).await;
    cluster.create(&seal(&cert, "le", "two", &[("b", "2")])).await;
    eventually("new leader reconciles", || cluster.secret("le", "two").is_some()).await;
    let lease = cluster.server.get("leases.coordination.k8s.io", Some(NS), "sealops-controller").expect("lease");
    assert!(lease["spec"]["leaseTransitions"].as_i64().unwrap_or(0) >= 1);
    follower.shutdown().await;
}

/// The log canary: a SealedSecret whose plaintext is a unique marker (also under a template and
/// in a failing case) is processed; the marker is in no log line and no Event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_plaintext_in_logs_or_events() {
    let marker = "CANARY-7f3a9c1e-plaintext-never-logged";
    let logs = support::log_buffer();
    let cluster = support::cluster().await;
    cluster.import_upstream_keys().await;
    let daemon = cluster.daemon(cluster.config()).await;
    let cert = upstream_cert("key-a");
    cluster.create(&seal(&cert, "canary", "ok", &[("secret", marker)])).await;
    let mut templated = seal(&cert, "canary", "tmpl", &[("secret", marker)]);
    templated["spec"]["template"]["data"] = json!({"bad": "{{ .secret | nosuchfunc }}", "good": "x{{ .secret }}"});
    cluster.create(&templated).await;
    // Sealed for another name: cannot open.
    let mut wrong = seal(&cert, "canary", "elsewhere", &[("secret", marker)]);
    wrong["metadata"]["name"] = json!("wrong");
    cluster.create(&wrong).await;
    // Unmanaged target.
    cluster
        .create(&json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "taken", "namespace": "canary"},
                        "data": {"x": STANDARD.encode(marker)}}))
        .await;
    cluster.create(&seal(&cert, "canary", "taken", &[("secret", marker)])).await;
    eventually("all processed", || {
        ["ok", "tmpl", "wrong", "taken"].iter().all(|n| synced(&cluster.server, "canary", n).is_some())
    })
    .await;
    assert!(cluster.secret("canary", "ok").is_some());
    daemon.shutdown().await;
    let encoded = STANDARD.encode(marker);
    let text = String::from_utf8_lossy(&logs.lock().expect("logs")).into_owned();
    assert!(!text.is_empty(), "logs were captured");
    assert!(!text.contains(marker), "plaintext in the logs");
    assert!(!text.contains(&encoded), "base64 plaintext in the logs");
    for event in cluster.events("canary") {
        let e = event.to_string();
        assert!(!e.contains(marker) && !e.contains(&encoded), "plaintext in an Event: {}", event["reason"]);
    }
    for ss in cluster.server.list("sealedsecrets.bitnami.com", Some("canary")) {
        assert!(!ss["status"].to_string().contains(marker), "plaintext in a status");
    }
}

/// The benchmark (run with `--ignored --nocapture`): 1,000 SealedSecrets of 3 values each,
/// created at once; time until every Secret exists. The daemon runs in this process, so the
/// peak RSS printed includes the test API server and the sealing done by the test: the script
/// `tests/bench/daemon_bench.sh` measures the daemon alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark"]
async fn bench_thousand_sealed_secrets() {
    let cluster = support::cluster().await;
    cluster.import_upstream_keys().await;
    let cert = upstream_cert("key-a");
    const N: usize = 1000;
    let docs: Vec<Value> = (0..N)
        .map(|i| seal(&cert, "bench", &format!("s{i}"), &[("a", "alpha"), ("b", "bravo"), ("c", "charlie")]))
        .collect();
    cluster.namespace("bench").await;
    let daemon = cluster.daemon(cluster.config()).await;
    let started = std::time::Instant::now();
    let api = cluster.sealed_api("bench");
    let mut creates = tokio::task::JoinSet::new();
    for doc in docs {
        let api = api.clone();
        creates.spawn(async move {
            let body: kube::api::DynamicObject = serde_json::from_value(doc).expect("object");
            api.create(&Default::default(), &body).await.map(drop)
        });
    }
    while let Some(r) = creates.join_next().await {
        r.expect("task").expect("created");
    }
    let created = started.elapsed();
    let mut last = std::time::Instant::now();
    loop {
        let n = cluster.server.list("secrets", Some("bench")).len();
        if n == N {
            break;
        }
        if last.elapsed() > Duration::from_secs(5) {
            eprintln!("{n}/{N} Secrets after {:?}", started.elapsed());
            last = std::time::Instant::now();
        }
        assert!(started.elapsed() < Duration::from_secs(300), "too slow: {n}/{N}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let total = started.elapsed();
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let hwm = status.lines().find(|l| l.starts_with("VmHWM")).unwrap_or("VmHWM: ?").to_owned();
    eprintln!(
        "bench: {N} SealedSecrets x 3 values: created in {created:?}, all Secrets after {total:?}; process {hwm}"
    );
    daemon.shutdown().await;
}
