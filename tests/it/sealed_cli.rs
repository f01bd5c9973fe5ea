//! `sealops seal`, `keys`, `reseal` and the `kubeseal` link, through the binary: round trips in
//! every scope, the output layout against upstream's vectors (ciphertext masked), raw values,
//! `--merge-into`, recovery with every key-file form, refusals with upstream's messages, and
//! kubesealpy on the other side (found as in `sealed_interop`; `SEALOPS_REQUIRE_INTEROP=1`
//! makes its absence a failure). Test certificates that must be *foreign* (EC, Ed25519,
//! expired) are made with openssl or Python's `cryptography`, never by sealops.
#![cfg(unix)]

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;

use crate::support::{Run, Sandbox, data, kubesealpy_python, run_with_stdin};

const VECTORS: &str = "sealed-secrets-upstream";
const SCOPES: [&str; 3] = ["strict", "namespace-wide", "cluster-wide"];

fn v(rel: &str) -> String {
    data(&format!("{VECTORS}/{rel}")).to_str().expect("utf-8 path").to_owned()
}

fn cert_b() -> String {
    v("keys/key-b/tls.crt")
}

fn seal(sb: &Sandbox, args: &[&str], stdin: &[u8]) -> Run {
    let mut all = vec!["seal"];
    all.extend_from_slice(args);
    run_with_stdin(&mut sb.cmd(&all), Some(stdin))
}

fn secret_json(name: &str, namespace: &str, annotations: &[(&str, &str)]) -> String {
    let annotations: serde_json::Map<String, Value> =
        annotations.iter().map(|(k, v)| ((*k).to_owned(), Value::from(*v))).collect();
    serde_json::json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace, "annotations": annotations, "labels": {"app": "web"}},
        "type": "Opaque",
        "data": {"bin": B64.encode([0u8, 159, 146, 150, 255])},
        "stringData": {"password": "s3cr3t-marker", "empty": ""},
    })
    .to_string()
}

/// The `data` of a printed Secret (JSON or YAML), decoded.
fn secret_data(printed: &str) -> std::collections::BTreeMap<String, Vec<u8>> {
    let value: Value = if printed.trim_start().starts_with('{') {
        serde_json::from_str(printed).unwrap()
    } else {
        serde_saphyr::from_str(printed.trim_start_matches("---\n")).unwrap()
    };
    assert_eq!(value["kind"], "Secret");
    value["data"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), B64.decode(v.as_str().unwrap()).unwrap()))
        .collect()
}

fn unseal(sb: &Sandbox, keys: &str, sealed: &[u8], format: &str) -> Run {
    seal(sb, &["--recovery-unseal", "--recovery-private-key", keys, "-o", format], sealed)
}

fn mask(text: &str) -> String {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    RE.get_or_init(|| regex::Regex::new(r"A[g-j][A-Za-z0-9+/=]{300,}").unwrap()).replace_all(text, "CIPHERTEXT").into()
}

#[test]
fn seal_and_recovery_unseal_round_trip_in_every_scope() {
    let sb = Sandbox::new();
    let keys_b = [v("keys/key-b/tls.key"), v("keys/key-b/tls-pkcs1.key"), v("keys/key-b/sealing-key-secret.yaml")];
    let backup = v("keys/keys-backup-list.yaml");
    for (i, scope) in SCOPES.iter().enumerate() {
        // The scope from the flag, and the same scope from the input's annotation.
        let by_flag = seal(&sb, &["--cert", &cert_b(), "--scope", scope], secret_json("s", "demo", &[]).as_bytes());
        let annotation = [(format!("sealedsecrets.bitnami.com/{scope}"), "true")];
        let annotated: Vec<(&str, &str)> = annotation.iter().filter(|_| i > 0).map(|(k, v)| (k.as_str(), *v)).collect();
        let by_annotation =
            seal(&sb, &["--cert", &cert_b(), "-o", "yaml"], secret_json("s", "demo", &annotated).as_bytes());
        for (run, format) in [(by_flag, "json"), (by_annotation, "yaml")] {
            let run = run.ok().leaks_nothing("s3cr3t-marker");
            let sealed = run.stdout;
            let doc: Value = if format == "json" {
                serde_json::from_slice(&sealed).unwrap()
            } else {
                assert!(sealed.starts_with(b"---\n"));
                serde_saphyr::from_slice(&sealed[4..]).unwrap()
            };
            let outer = &doc["metadata"]["annotations"];
            assert_eq!(outer.get(format!("sealedsecrets.bitnami.com/{scope}")).is_some(), i > 0, "{scope} {format}");
            assert_eq!(doc["spec"]["template"]["metadata"]["labels"]["app"], "web");
            for key in keys_b.iter().chain([&backup]) {
                let out = unseal(&sb, key, &sealed, "json").ok().out();
                let got = secret_data(&out);
                assert_eq!(got["password"], b"s3cr3t-marker");
                assert_eq!(got["bin"], [0u8, 159, 146, 150, 255]);
                assert_eq!(got["empty"], b"");
            }
            // With every log level on, no plaintext reaches standard error.
            let logged = run_with_stdin(
                sb.cmd(&["--verbose", "seal", "--recovery-unseal", "--recovery-private-key", &keys_b[0]])
                    .env("RUST_LOG", "trace"),
                Some(&sealed),
            )
            .ok();
            assert!(logged.out().contains("czNjcjN0LW1hcmtlcg=="), "the Secret is printed");
            assert!(!logged.stderr.contains("s3cr3t-marker") && !logged.stderr.contains("czNjcjN0LW1hcmtlcg=="));
            // Moved to another namespace and renamed: only cluster-wide still opens.
            let text = String::from_utf8(sealed.clone()).unwrap();
            let moved = text.replace("demo", "elsewhere").replace("name: s\n", "name: t\n").replace("\"s\"", "\"t\"");
            let run = unseal(&sb, &keys_b[0], moved.as_bytes(), "yaml");
            if *scope == "cluster-wide" {
                run.ok();
            } else {
                run.code(1).err_has("no key could decrypt secret (bin, empty, password)");
            }
        }
    }
}

/// Field order and layout as kubeseal prints them, compared with upstream's sealed vectors
/// (made from the same Secrets) with the ciphertexts masked.
#[test]
fn output_layout_matches_the_upstream_vectors() {
    let sb = Sandbox::new();
    for name in ["binary-and-empty", "cluster-wide", "multi-key", "namespace-wide", "skip-owner-refs", "strict"] {
        let input = std::fs::read(v(&format!("secrets/{name}.json"))).unwrap();
        let json = seal(&sb, &["--cert", &cert_b()], &input).ok().out();
        let want = std::fs::read_to_string(v(&format!("sealed/{name}.json"))).unwrap();
        assert!(json.ends_with("}\n"), "kubeseal ends JSON with a newline");
        assert_eq!(mask(&json).trim_end(), mask(&want).trim_end(), "{name}.json");
        let yaml = seal(&sb, &["--cert", &cert_b(), "-o", "YAML"], &input).ok().out();
        // The vectors' YAML went through PyYAML, which single-quotes 'true'; go-yaml v2
        // (sigs.k8s.io/yaml, kubeseal) double-quotes it.
        let want = std::fs::read_to_string(v(&format!("sealed/{name}.yaml"))).unwrap().replace("'true'", "\"true\"");
        assert_eq!(mask(&yaml).trim_end(), mask(&want).trim_end(), "{name}.yaml");
    }
}

#[test]
fn output_file_and_formats() {
    let sb = Sandbox::new();
    let input = sb.write("in.json", secret_json("s", "demo", &[]));
    let input = input.to_str().unwrap();
    seal(&sb, &["--cert", &cert_b(), "-f", input, "-w", "out.yml"], b"").ok();
    assert!(sb.read_str("out.yml").starts_with("---\napiVersion: bitnami.com/v1alpha1\n"), "a .yml name means YAML");
    assert_eq!(crate::support::mode(&sb.path("out.yml")) & 0o777, 0o600);
    seal(
        &sb,
        &["--cert", &format!("file://{}", cert_b()), "--secret-file", input, "--sealed-secret-file", "out.json"],
        b"",
    )
    .ok();
    assert!(sb.read_str("out.json").starts_with("{\n  \"kind\": \"SealedSecret\",\n  \"apiVersion\""));
    seal(&sb, &["--cert", &cert_b(), "-o", "toml"], b"").code(1).err_has("error: unsupported output format: toml");
    seal(&sb, &["--cert", &cert_b(), "-f", "missing.json"], b"")
        .code(1)
        .err_has("error: Could not read file specified with --secret-file");
    // Two Secrets in one YAML stream: two documents out.
    let stream = "apiVersion: v1\nkind: Secret\nmetadata: {name: a, namespace: team}\nstringData: {k: v}\n---\n# c\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: b}\ndata: {k: dg==}\n";
    let out = seal(&sb, &["--cert", &cert_b(), "-o", "yaml", "-n", "team"], stream.as_bytes()).ok().out();
    assert_eq!(out.matches("---\n").count(), 2);
    assert_eq!(out.matches("namespace: team\n").count(), 4, "-n fills in the missing namespace:\n{out}");
    seal(&sb, &["--cert", &cert_b()], b"# nothing\n").code(1).err_has("error: no secrets found");
    seal(&sb, &["--cert", &cert_b(), "--merge-into", "missing.yaml"], secret_json("s", "demo", &[]).as_bytes())
        .code(1)
        .err_has("error: cannot operate on non-existent file");
}

#[test]
fn kubeconfig_namespace_is_the_default() {
    let sb = Sandbox::new();
    let kubeconfig = sb.write(
        "kubeconfig",
        "apiVersion: v1\nkind: Config\ncurrent-context: dev\ncontexts:\n- name: dev\n  context: {cluster: c, namespace: team-a}\n- name: prod\n  context: {cluster: c}\n",
    );
    let input = r#"{"kind":"Secret","metadata":{"name":"s"},"stringData":{"k":"v"}}"#;
    let out =
        run_with_stdin(sb.cmd(&["seal", "--cert", &cert_b()]).env("KUBECONFIG", &kubeconfig), Some(input.as_bytes()))
            .ok()
            .out();
    assert!(out.contains("\"namespace\": \"team-a\""), "{out}");
    let out = run_with_stdin(
        sb.cmd(&["seal", "--cert", &cert_b(), "--context", "prod"]).env("KUBECONFIG", &kubeconfig),
        Some(input.as_bytes()),
    )
    .ok()
    .out();
    assert!(out.contains("\"namespace\": \"default\""), "{out}");
}

#[test]
fn raw_values() {
    let sb = Sandbox::new();
    let value = sb.write("value.txt", "raw-marker-value");
    let from_file = format!("password={}", value.display());
    for scope in SCOPES {
        let raw = seal(
            &sb,
            &["--raw", "--cert", &cert_b(), "--scope", scope, "--name", "s", "-n", "demo", "--from-file", &from_file],
            b"",
        )
        .ok()
        .out();
        assert!(!raw.ends_with('\n') && raw.starts_with("Ag"), "{raw}");
        let annotations = match scope {
            "strict" => String::new(),
            s => format!("  annotations: {{sealedsecrets.bitnami.com/{s}: \"true\"}}\n"),
        };
        let doc = format!(
            "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: s\n  namespace: demo\n{annotations}spec:\n  encryptedData:\n    password: {raw}\n"
        );
        let out = unseal(&sb, &v("keys/key-b/tls.key"), doc.as_bytes(), "json").ok().out();
        assert_eq!(secret_data(&out)["password"], b"raw-marker-value");
    }
    // From standard input, cluster-wide needs neither name nor namespace.
    let raw = seal(&sb, &["--raw", "--cert", &cert_b(), "--scope", "cluster-wide"], b"stdin-value").ok().out();
    assert!(B64.decode(&raw).unwrap().len() == 2 + 512 + 11 + 16);
    seal(&sb, &["--raw", "--cert", &cert_b(), "-n", "demo"], b"x")
        .code(1)
        .err_has("error: must provide the --name flag with --raw and --scope strict");
    seal(&sb, &["--cert", &cert_b(), "--from-file", &from_file], b"")
        .code(1)
        .err_has("error: --from-file requires --raw");
    seal(&sb, &["--raw", "--cert", &cert_b(), "--name", "s", "--from-file", "a", "--from-file", "b"], b"")
        .code(1)
        .err_has("error: must provide only one --from-file when encrypting a single item with --raw");
}

#[test]
fn merge_into_adds_items_and_a_failure_changes_nothing() {
    let sb = Sandbox::new();
    let first = seal(
        &sb,
        &["--cert", &cert_b(), "-o", "yaml", "--scope", "namespace-wide"],
        secret_json("s", "demo", &[]).as_bytes(),
    )
    .ok()
    .stdout;
    let file = sb.write("sealed.yaml", &first);
    let file = file.to_str().unwrap();
    let before: Value = serde_saphyr::from_slice(&first[4..]).unwrap();
    let update = r#"{"kind":"Secret","metadata":{"name":"ignored","labels":{"tier":"db"}},"stringData":{"added":"new-value","password":"replaced"}}"#;
    seal(&sb, &["--cert", &cert_b(), "--merge-into", file], update.as_bytes()).ok();
    let merged_text = sb.read("sealed.yaml");
    assert!(merged_text.starts_with(b"---\napiVersion"), "stays YAML");
    let after: Value = serde_saphyr::from_slice(&merged_text[4..]).unwrap();
    assert_eq!(after["metadata"], before["metadata"]);
    assert_eq!(after["spec"]["encryptedData"]["bin"], before["spec"]["encryptedData"]["bin"], "untouched items stay");
    assert_ne!(after["spec"]["encryptedData"]["password"], before["spec"]["encryptedData"]["password"]);
    assert_eq!(after["spec"]["template"]["metadata"]["labels"]["tier"], "db");
    let got = secret_data(&unseal(&sb, &v("keys/key-b/tls.key"), &merged_text, "json").ok().out());
    assert_eq!(got["added"], b"new-value");
    assert_eq!(got["password"], b"replaced");
    assert_eq!(got["bin"], [0u8, 159, 146, 150, 255]);

    // Failures: a conflicting scope, an expired/foreign certificate, garbage input, a file that
    // is not a SealedSecret. The file stays byte-identical each time.
    let not_sealed = sb.write("plain.yaml", "apiVersion: v1\nkind: ConfigMap\n");
    let ec = openssl_cert(&sb, "ec");
    let cert = cert_b();
    for (args, stdin, needle) in [
        (vec!["--cert", &cert, "--scope", "strict", "--merge-into", file], update, "differs from the scope"),
        (vec!["--cert", &ec, "--merge-into", file], update, "expected RSA public key"),
        (vec!["--cert", &cert, "--merge-into", file], "{not json", "cannot parse"),
        (
            vec!["--cert", &cert, "--merge-into", file],
            r#"{"kind":"Secret","metadata":{"name":"x"}}"#,
            "secret.data is empty",
        ),
    ] {
        seal(&sb, &args, stdin.as_bytes()).code(1).err_has(needle);
        assert_eq!(sb.read("sealed.yaml"), merged_text, "{needle}");
    }
    seal(&sb, &["--cert", &cert_b(), "--merge-into", not_sealed.to_str().unwrap()], update.as_bytes())
        .code(1)
        .err_has("plain.yaml: cannot parse");
    assert_eq!(sb.read("plain.yaml"), b"apiVersion: v1\nkind: ConfigMap\n");
}

/// An openssl-made certificate of `kind` (ec, ed25519) in the sandbox.
fn openssl_cert(sb: &Sandbox, kind: &str) -> String {
    let crt = sb.path(&format!("{kind}.crt"));
    let key = sb.path(&format!("{kind}.key"));
    let mut cmd = Command::new("openssl");
    cmd.args(["req", "-x509", "-days", "30", "-nodes", "-subj", "/CN=test", "-newkey", kind]);
    if kind == "ec" {
        cmd.args(["-pkeyopt", "ec_paramgen_curve:P-256"]);
    }
    let out = cmd.arg("-keyout").arg(&key).arg("-out").arg(&crt).output().expect("openssl");
    assert!(out.status.success(), "openssl: {}", String::from_utf8_lossy(&out.stderr));
    crt.to_str().unwrap().to_owned()
}

#[test]
fn bad_input_is_refused_clearly() {
    let sb = Sandbox::new();
    let input = secret_json("s", "demo", &[]);
    // Certificates: not RSA, not a certificate at all.
    seal(&sb, &["--cert", &openssl_cert(&sb, "ec")], input.as_bytes())
        .code(1)
        .err_has("error: expected RSA public key but found *ecdsa.PublicKey");
    seal(&sb, &["--cert", &openssl_cert(&sb, "ed25519")], input.as_bytes())
        .code(1)
        .err_has("error: expected RSA public key but found ed25519.PublicKey");
    seal(&sb, &["--cert", &v("keys/key-b/tls.key")], input.as_bytes())
        .code(1)
        .err_has("error: failed to read any certificates");
    // `.invalid` never resolves (RFC 2606); the error names the URL.
    seal(&sb, &["--cert", "https://example.invalid/cert.pem"], input.as_bytes())
        .code(1)
        .err_has("error: cannot fetch \"https://example.invalid/cert.pem\": ");

    // An empty Secret: refused, unless --allow-empty-data.
    let empty = r#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"e","namespace":"demo"}}"#;
    seal(&sb, &["--cert", &cert_b()], empty.as_bytes()).code(1).err_has(
        "error: secret.data is empty in input Secret, assuming this is an error and aborting. To work with empty data, --allow-empty-data can be used",
    );
    let out = seal(&sb, &["--cert", &cert_b(), "--allow-empty-data"], empty.as_bytes()).ok().out();
    assert!(out.contains("\"encryptedData\": {}"), "{out}");
    // pflag's `--flag=value` spellings of booleans.
    seal(&sb, &["--cert", &cert_b(), "--allow-empty-data=true"], empty.as_bytes()).ok();
    seal(&sb, &["--cert", &cert_b(), "--allow-empty-data=0"], empty.as_bytes()).code(1).err_has("secret.data is empty");
    let out = seal(&sb, &["--cert", &cert_b(), "--raw=false"], input.as_bytes()).ok().out();
    assert!(out.starts_with("{\n  \"kind\": \"SealedSecret\""), "{out}");
    seal(&sb, &["--cert", &cert_b()], br#"{"kind":"Secret","metadata":{"namespace":"d"},"stringData":{"k":"v"}}"#)
        .code(1)
        .err_has("error: missing metadata.name in input Secret");
    seal(&sb, &["--cert", &cert_b(), "-n", "other"], input.as_bytes())
        .code(1)
        .err_has("error: namespace mismatch: input secret is in namespace \"demo\" but \"other\" was specified");
    seal(&sb, &["--cert", &cert_b(), "--scope", "wide"], input.as_bytes())
        .code(1)
        .err_has("must be one of: strict, namespace-wide, cluster-wide");
    seal(
        &sb,
        &["--cert", &cert_b()],
        br#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s","namespace":"d"},"data":{"k":"%%%"}}"#,
    )
    .code(1)
    .err_has("data.k: illegal base64 data at input byte 0");

    // Parse errors do not repeat the input (a Secret's or a key file's).
    seal(&sb, &["--cert", &cert_b()], b"kind: Secret\nmetadata: {name: a}\nstringData: {password: \"leak-marker}\n")
        .code(1)
        .err_has("error: input document 1: cannot parse as YAML")
        .leaks_nothing("leak-marker");
    let key_file = sb.write("bad-key.yaml", "kind: Secret\ndata: {tls.key: [leak-marker\n");
    seal(&sb, &["--recovery-unseal", "--recovery-private-key", key_file.to_str().unwrap()], b"")
        .code(1)
        .err_has("bad-key.yaml: cannot parse")
        .leaks_nothing("leak-marker");

    // A 1 MB value seals and opens intact; a document over the 5 MiB limit is refused.
    let big: String = (0..1_000_000).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
    let doc = serde_json::json!({"kind": "Secret", "metadata": {"name": "big", "namespace": "demo"}, "stringData": {"v": big}});
    let sealed = seal(&sb, &["--cert", &cert_b()], doc.to_string().as_bytes()).ok().stdout;
    let got = secret_data(&unseal(&sb, &v("keys/key-b/tls.key"), &sealed, "json").ok().out());
    assert_eq!(got["v"], big.as_bytes());
    let huge = serde_json::json!({"kind": "Secret", "metadata": {"name": "big", "namespace": "demo"}, "stringData": {"v": big.repeat(6)}});
    seal(&sb, &["--cert", &cert_b()], huge.to_string().as_bytes()).code(1).err_has("over the 5242880-byte limit");

    // Unsealing: garbage base64, truncated ciphertext, a wrong key.
    let good =
        String::from_utf8(seal(&sb, &["--cert", &cert_b(), "-o", "yaml"], input.as_bytes()).ok().stdout).unwrap();
    let garbage = good.replacen("bin: Ag", "bin: A*g", 1);
    unseal(&sb, &v("keys/key-b/tls.key"), garbage.as_bytes(), "json")
        .code(1)
        .err_has("illegal base64 data at input byte 1 (bin)");
    let truncated =
        regex::Regex::new(r"password: (Ag[A-Za-z0-9+/]{42})[A-Za-z0-9+/=]+").unwrap().replace(&good, "password: $1");
    unseal(&sb, &v("keys/key-b/tls.key"), truncated.as_bytes(), "json")
        .code(1)
        .err_has("SealedSecret data is too short (password)");
    unseal(&sb, &v("keys/key-a/tls.key"), good.as_bytes(), "json")
        .code(1)
        .err_has("no key could decrypt secret (bin, empty, password)")
        .leaks_nothing("s3cr3t-marker");
    seal(&sb, &["--recovery-unseal"], good.as_bytes())
        .code(1)
        .err_has("--recovery-unseal requires --recovery-private-key");
    seal(&sb, &["--recovery-unseal", "--recovery-private-key", &cert_b()], good.as_bytes())
        .code(1)
        .err_has("expected a PEM private key, a Secret or a List of Secrets");
}

#[test]
fn an_expired_certificate_is_refused() {
    let Some(py) = kubesealpy_python() else { return };
    let sb = Sandbox::new();
    let crt = sb.path("expired.crt");
    let script = r#"
import sys, datetime
from cryptography import x509
from cryptography.x509.oid import NameOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "expired")])
cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(datetime.datetime(2020, 1, 1))
        .not_valid_after(datetime.datetime(2021, 6, 18, 12, 0, 0)).sign(key, hashes.SHA256()))
open(sys.argv[1], "wb").write(cert.public_bytes(serialization.Encoding.PEM))
"#;
    let out = Command::new(py).arg("-c").arg(script).arg(&crt).env_clear().output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    seal(&sb, &["--cert", crt.to_str().unwrap()], secret_json("s", "demo", &[]).as_bytes())
        .code(1)
        .err_has("error: failed to encrypt using an expired certificate on June 18, 2021");
}

/// kubectl's connection flags are accepted; with a certificate file nothing connects, so they
/// change nothing (their effect on the wire is tested in `seal_connect`).
#[test]
#[cfg(feature = "daemon")]
fn connection_flags_are_accepted_with_a_cert_file() {
    let sb = Sandbox::new();
    let input = secret_json("s", "demo", &[]);
    let sealed =
        seal(&sb, &["--cert", &cert_b(), "-s", "https://k8s:6443", "--token", "t", "--as", "jane"], input.as_bytes())
            .ok()
            .stdout;
    let out = unseal(&sb, &v("keys/keys-backup-list.yaml"), &sealed, "json").ok().out();
    assert_eq!(secret_data(&out)["password"], b"s3cr3t-marker");
    // With a certificate file, --fetch-cert prints it.
    let out = seal(&sb, &["--fetch-cert", "--cert", &cert_b()], b"").ok().out();
    assert_eq!(out, std::fs::read_to_string(cert_b()).unwrap());
}

/// Without `--cert` (and for `--validate`/`--re-encrypt`) the controller is asked through the
/// kubeconfig; with none (the sandbox has no kubeconfig and is not in a pod) that fails clearly.
/// The working path is tested against the daemon in `tests/daemon`.
#[test]
fn cluster_paths_without_a_kubeconfig_fail_clearly() {
    let sb = Sandbox::new();
    let input = secret_json("s", "demo", &[]);
    for args in [
        vec!["--fetch-cert"],
        vec![],
        vec!["--controller-name", "sealed-secrets", "--controller-namespace", "kube-system"],
        vec!["--validate"],
        vec!["--re-encrypt"],
        vec!["--kubeconfig", "/nonexistent/kubeconfig", "--fetch-cert"],
    ] {
        seal(&sb, &args, input.as_bytes()).code(1).err_has("error: ").err_has("kubeconfig");
    }
}

#[test]
fn kubeseal_link_takes_kubeseal_command_lines() {
    let sb = Sandbox::new();
    let link = sb.home.join("bin/kubeseal");
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_sealops"), &link).unwrap();
    let version = run_with_stdin(&mut sb.cmd_via(&link, &["--version"]), None).ok().out();
    assert!(version.starts_with("kubeseal version: "), "{version}");
    let sealed = run_with_stdin(
        sb.cmd_via(&link, &["--format", "yaml", "--scope", "cluster-wide"]).env("SEALED_SECRETS_CERT", cert_b()),
        Some(secret_json("s", "demo", &[]).as_bytes()),
    )
    .ok()
    .stdout;
    assert!(sealed.starts_with(b"---\napiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\n"));
    let out = run_with_stdin(
        &mut sb.cmd_via(&link, &["--recovery-unseal", "--recovery-private-key", &v("keys/keys-backup-list.yaml")]),
        Some(&sealed),
    )
    .ok()
    .out();
    assert_eq!(secret_data(&out)["password"], b"s3cr3t-marker");
    // --validate asks the controller: the sandbox has neither a kubeconfig nor a pod.
    run_with_stdin(&mut sb.cmd_via(&link, &["--cert", &cert_b(), "--validate", "--token", "t"]), Some(b""))
        .code(1)
        .err_has("error: ")
        .err_has("no kubeconfig");
}

#[test]
fn keys_generate_and_list() {
    let sb = Sandbox::new();
    let run = sb.run(&["keys", "generate", "--out", "k"]).ok();
    assert!(run.stderr.starts_with("sealing key SHA256:"), "{}", run.stderr);
    let secret = sb.read_str("k/sealing-key-secret.yaml");
    assert!(secret.contains("  labels:\n    sealedsecrets.bitnami.com/sealed-secrets-key: active\n"), "{secret}");
    assert!(secret.contains("\ntype: kubernetes.io/tls\n") && secret.contains("generateName: sealed-secrets-key\n"));
    for f in ["tls.crt", "tls.key", "sealing-key-secret.yaml"] {
        assert_eq!(crate::support::mode(&sb.path(&format!("k/{f}"))) & 0o777, 0o600, "{f}");
    }
    // openssl reads what we wrote: a 4096-bit RSA key, a CA certificate with EncipherOnly.
    let text =
        Command::new("openssl").args(["x509", "-noout", "-text", "-in"]).arg(sb.path("k/tls.crt")).output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("Public-Key: (4096 bit)") && text.contains("CA:TRUE") && text.contains("Encipher Only"),
        "{text}"
    );
    let check =
        Command::new("openssl").args(["rsa", "-check", "-noout", "-in"]).arg(sb.path("k/tls.key")).output().unwrap();
    assert!(check.status.success());
    // Refuses to overwrite a key.
    sb.run(&["keys", "generate", "--out", "k"]).clean_failure().err_has("refusing to overwrite");
    // Seal to it; open with the key Secret.
    let crt = sb.path("k/tls.crt");
    let sealed = seal(&sb, &["--cert", crt.to_str().unwrap()], secret_json("s", "demo", &[]).as_bytes()).ok().stdout;
    let key_secret = sb.path("k/sealing-key-secret.yaml");
    let out = unseal(&sb, key_secret.to_str().unwrap(), &sealed, "yaml").ok().out();
    assert_eq!(secret_data(&out)["password"], b"s3cr3t-marker");

    let list = sb
        .run(&["keys", "list", key_secret.to_str().unwrap(), &v("keys/keys-backup-list.yaml"), &v("testCert.pem")])
        .ok()
        .out();
    let lines: Vec<&str> = list.lines().collect();
    assert!(lines[0].starts_with("FINGERPRINT") && lines[0].contains("NOT AFTER") && lines[0].contains("AGE"));
    assert_eq!(lines.len(), 5, "{list}");
    let fingerprint = run.stderr.split_whitespace().nth(2).unwrap();
    assert!(lines[1].starts_with(fingerprint), "{list}");
    assert!(list.contains("(sealed-secrets-keyaaaaa)") && list.contains("(sealed-secrets-keybbbbb)"));
    assert!(
        list.contains("SHA256:GGkvu+e9oSv0lC5zQgZeFDtW/h7L0lSIV4QFz6+0tcI  2017-06-20T04:32:45Z  2027-06-18T04:32:45Z")
    );
}

#[test]
fn keys_import_checks_the_pair() {
    let sb = Sandbox::new();
    let key_b = v("keys/key-b/tls.key");
    sb.run(&["keys", "import", "--cert", &cert_b(), "--key", &key_b, "-w", "imported.yaml"])
        .ok()
        .err_has("sealing key SHA256:P4IUgGyX2fGnwfJA0mV/9P6xGN2rWqHSevigN7Rp9dY");
    let imported = sb.path("imported.yaml");
    let sealed = seal(&sb, &["--cert", &cert_b()], secret_json("s", "demo", &[]).as_bytes()).ok().stdout;
    let out = unseal(&sb, imported.to_str().unwrap(), &sealed, "json").ok().out();
    assert_eq!(secret_data(&out)["password"], b"s3cr3t-marker");
    sb.run(&["keys", "import", "--cert", &cert_b(), "--key", &v("keys/key-a/tls.key")])
        .clean_failure()
        .err_has("but tls.key is key SHA256:");
}

#[test]
fn reseal_keeps_scope_and_template_and_leaves_failures_alone() {
    let sb = Sandbox::new();
    sb.run(&["keys", "generate", "--out", "new", "--key-size", "2048"]).ok();
    let dir = sb.path("repo");
    let names = ["strict.yaml", "cluster-wide.json", "template.yaml", "strict-with-cluster-wide-only-in-template.yaml"];
    for name in names {
        sb.write(&format!("repo/apps/{name}"), std::fs::read(v(&format!("sealed/{name}"))).unwrap());
    }
    let bad = std::fs::read(v("sealed/strict-renamed.yaml")).unwrap();
    sb.write("repo/apps/broken.yaml", &bad);
    sb.write("repo/other.yaml", "kind: ConfigMap\n");
    let before: Vec<Value> = names.iter().map(|n| parse(&sb.path(&format!("repo/apps/{n}")))).collect();
    let keys = format!("{},{}", v("keys/key-a/tls.key"), v("keys/key-b/tls.key"));
    let run = sb.run(&["reseal", dir.to_str().unwrap(), "--recovery-private-key", &keys, "--cert", "new/tls.crt"]);
    let run = run.code(1).err_has("broken.yaml: SealedSecret demo/renamed: no key could decrypt secret");
    assert!(run.stderr.contains("resealed 4 SealedSecret(s) in 4 file(s)"), "{}", run.stderr);
    assert!(run.stderr.contains("1 file(s) without SealedSecrets skipped; 1 failed"), "{}", run.stderr);
    assert_eq!(sb.read("repo/apps/broken.yaml"), bad, "a failing file is left byte-identical");
    assert_eq!(sb.read("repo/other.yaml"), b"kind: ConfigMap\n");
    for (name, before) in names.iter().zip(&before) {
        let path = sb.path(&format!("repo/apps/{name}"));
        let after = parse(&path);
        assert_eq!(after["metadata"], before["metadata"], "{name}");
        assert_eq!(after["spec"]["template"], before["spec"]["template"], "{name}");
        assert_ne!(after["spec"]["encryptedData"], before["spec"]["encryptedData"], "{name}");
        let text = std::fs::read(&path).unwrap();
        if *name != "template.yaml" {
            // Only the new key opens it now.
            let out = unseal(&sb, sb.path("new/tls.key").to_str().unwrap(), &text, "json").ok().out();
            assert!(!secret_data(&out).is_empty());
            unseal(&sb, &keys, &text, "json").code(1).err_has("no key could decrypt secret");
        }
    }
    // The CVE-2026-22728 shape stays strict: renamed, it no longer opens.
    let cve = sb.read_str("repo/apps/strict-with-cluster-wide-only-in-template.yaml");
    let renamed = cve.replacen("  name: mysecret\n", "  name: other\n", 1);
    assert_ne!(renamed, cve);
    unseal(&sb, sb.path("new/tls.key").to_str().unwrap(), renamed.as_bytes(), "json")
        .code(1)
        .err_has("no key could decrypt secret");
}

fn parse(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    if text.trim_start().starts_with('{') {
        serde_json::from_str(&text).unwrap()
    } else {
        serde_saphyr::from_str(text.trim_start_matches("---\n")).unwrap()
    }
}

// ---------------------------------------------------------------------------------------------
// kubesealpy on the other side, through the CLI.
// ---------------------------------------------------------------------------------------------

fn py(python: &Path, script: &str, args: &[&str]) -> String {
    let out = Command::new(python).arg("-c").arg(script).args(args).env_clear().output().expect("python");
    assert!(out.status.success(), "python failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn kubesealpy_opens_what_the_cli_seals_and_the_cli_opens_what_kubesealpy_seals() {
    let Some(python) = kubesealpy_python() else { return };
    let sb = Sandbox::new();
    const UNSEAL: &str = r#"
import sys, json
from kubesealpy.unsealer import Unsealer
from kubesealpy.models import SealedSecret
u = Unsealer.from_private_key_file(sys.argv[1])
print(json.dumps(u.unseal(SealedSecret.from_yaml(open(sys.argv[2]).read())).data or {}))
"#;
    const SEAL: &str = r#"
import sys
from kubesealpy.sealer import Sealer
from kubesealpy.scopes import SealingScope as S
scope = {"strict": S.STRICT, "namespace-wide": S.NAMESPACE_WIDE, "cluster-wide": S.CLUSTER_WIDE}[sys.argv[2]]
s = Sealer.from_certificate_file(sys.argv[1]).seal(name="mysecret", namespace="demo", data={"k": b"from-kubesealpy\x00\xff"}, scope=scope)
print(s.to_yaml())
"#;
    for scope in SCOPES {
        let sealed =
            seal(&sb, &["--cert", &cert_b(), "--scope", scope, "-o", "yaml"], secret_json("s", "demo", &[]).as_bytes())
                .ok()
                .stdout;
        let file = sb.write("by-sealops.yaml", &sealed);
        let out = py(python, UNSEAL, &[&v("keys/key-b/tls.key"), file.to_str().unwrap()]);
        let got: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(B64.decode(got["password"].as_str().unwrap()).unwrap(), b"s3cr3t-marker", "{scope}");
        assert_eq!(B64.decode(got["bin"].as_str().unwrap()).unwrap(), [0u8, 159, 146, 150, 255], "{scope}");

        let yaml = py(python, SEAL, &[&cert_b(), scope]);
        let out = unseal(&sb, &v("keys/key-b/tls.key"), yaml.as_bytes(), "json").ok().out();
        assert_eq!(secret_data(&out)["k"], b"from-kubesealpy\x00\xff", "{scope}");
    }
    // kubesealpy seals to a certificate `sealops keys generate` made; the CLI opens it.
    sb.run(&["keys", "generate", "--out", "gen"]).ok();
    let yaml = py(python, SEAL, &[sb.path("gen/tls.crt").to_str().unwrap(), "strict"]);
    let out = unseal(&sb, sb.path("gen/sealing-key-secret.yaml").to_str().unwrap(), yaml.as_bytes(), "yaml").ok().out();
    assert_eq!(secret_data(&out)["k"], b"from-kubesealpy\x00\xff");
}
