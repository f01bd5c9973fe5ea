//! Interop against **kubesealpy** (PyPI, an independent implementation of the sealed-secrets
//! format, itself checked against upstream's Go code): random Secrets in every scope sealed by
//! sealops open in kubesealpy's `Unsealer`, and SealedSecrets made by kubesealpy's `Sealer` open
//! in sealops, with identical bytes; a renamed strict object is refused on both sides.
//!
//! The Python is found through `$SEALOPS_KUBESEALPY_PYTHON`, then `/opt/sopsvenv/bin/python`,
//! then `target/interop-venv/bin/python`, then `python3` on `PATH`; the first that can
//! `import kubesealpy` is used. Without one the tests print a note and pass, unless
//! `SEALOPS_REQUIRE_INTEROP=1` (CI), where they fail. Keys: key-b of the vectors (its
//! certificate and PKCS#8 key), so no certificate has to be made here.
#![cfg(unix)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use proptest::prelude::*;
use sealops::crypto::SecretBytes;
use sealops::crypto::rsa::PrivateKey;
use sealops::sealed::keys::SealingKey;
use sealops::sealed::{Scope, SealedSecret, Secret};

use crate::support::{data, kubesealpy_python};

/// Runs a Python snippet with `args`; returns stdout, or stderr on failure.
fn run(python: &Path, script: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(python)
        .arg("-c")
        .arg(script)
        .args(args)
        .env_clear()
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("spawn python");
    if out.status.success() {
        Ok(String::from_utf8(out.stdout).expect("utf-8"))
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

const UNSEAL: &str = r#"
import sys, json
from kubesealpy.unsealer import Unsealer
from kubesealpy.models import SealedSecret
u = Unsealer.from_private_key_file(sys.argv[1])
s = u.unseal(SealedSecret.from_yaml(open(sys.argv[2]).read()))
print(json.dumps(s.data or {}))
"#;

const SEAL: &str = r#"
import sys, json, base64
from kubesealpy.sealer import Sealer
from kubesealpy.scopes import SealingScope as S
scope = {"strict": S.STRICT, "namespace-wide": S.NAMESPACE_WIDE, "cluster-wide": S.CLUSTER_WIDE}[sys.argv[3]]
data = {k: base64.b64decode(v) for k, v in json.load(open(sys.argv[2])).items()}
s = Sealer.from_certificate_file(sys.argv[1]).seal(name="mysecret", namespace="demo", data=data, scope=scope)
print(s.to_yaml())
"#;

fn key_b() -> &'static SealingKey {
    static KEY: OnceLock<SealingKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let dir = "sealed-secrets-upstream/keys/key-b";
        let read = |f: &str| crate::support::read(&format!("{dir}/{f}"));
        SealingKey::from_pem("key-b", &read("tls.crt"), &read("tls.key")).unwrap()
    })
}

const SCOPES: [Scope; 3] = [Scope::Strict, Scope::NamespaceWide, Scope::ClusterWide];

fn items() -> impl Strategy<Value = BTreeMap<String, Vec<u8>>> {
    prop::collection::btree_map("[a-zA-Z0-9._-]{1,20}", prop::collection::vec(any::<u8>(), 0..200), 1..4)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, ..ProptestConfig::default() })]

    #[test]
    fn sealops_seals_kubesealpy_unseals(data in items()) {
        let Some(py) = kubesealpy_python() else { return Ok(()) };
        let tmp = tempfile::tempdir().unwrap();
        for scope in SCOPES {
        let mut secret = Secret::default();
        secret.metadata.name = Some("mysecret".into());
        secret.metadata.namespace = Some("demo".into());
        if let Some(a) = scope.annotation() {
            secret.metadata.annotations.insert(a.into(), "true".into());
        }
        secret.data = data.iter().map(|(k, v)| (k.clone(), SecretBytes::from_slice(v))).collect();
        let sealed = secret.seal(key_b().certificate().public_key()).unwrap();
        let file = tmp.path().join("sealed.json");
        std::fs::write(&file, sealed.to_json()).unwrap();
        let key = data_path("sealed-secrets-upstream/keys/key-b/tls.key");
        let out = run(py, UNSEAL, &[&key, file.to_str().unwrap()]).map_err(TestCaseError::fail)?;
        let got: BTreeMap<String, String> = serde_json::from_str(&out).unwrap();
        let got: BTreeMap<String, Vec<u8>> = got.into_iter().map(|(k, v)| (k, B64.decode(v).unwrap())).collect();
        prop_assert_eq!(&got, &data);

        // Renamed: kubesealpy must refuse a strict or namespace-wide object moved away.
        if scope != Scope::ClusterWide {
            let mut moved = sealed.clone();
            moved.metadata.namespace = Some("elsewhere".into());
            std::fs::write(&file, moved.to_json()).unwrap();
            prop_assert!(run(py, UNSEAL, &[&key, file.to_str().unwrap()]).is_err());
        }
        }
    }

    #[test]
    fn kubesealpy_seals_sealops_unseals(data in items()) {
        let Some(py) = kubesealpy_python() else { return Ok(()) };
        let tmp = tempfile::tempdir().unwrap();
        let input = tmp.path().join("data.json");
        let b64: BTreeMap<&String, String> = data.iter().map(|(k, v)| (k, B64.encode(v))).collect();
        std::fs::write(&input, serde_json::to_vec(&b64).unwrap()).unwrap();
        let cert = data_path("sealed-secrets-upstream/keys/key-b/tls.crt");
        for scope in SCOPES {
        let yaml = run(py, SEAL, &[&cert, input.to_str().unwrap(), scope.as_str()]).map_err(TestCaseError::fail)?;
        let doc = SealedSecret::parse(yaml.as_bytes(), "kubesealpy output").unwrap();
        prop_assert_eq!(doc.scope(), scope);
        let keys: [&PrivateKey; 1] = [key_b().private_key()];
        let secret = doc.unseal(&keys).unwrap();
        let got: BTreeMap<String, Vec<u8>> = secret.data.iter().map(|(k, v)| (k.clone(), v.expose().to_vec())).collect();
        prop_assert_eq!(&got, &data);

        let mut renamed = doc.clone();
        renamed.metadata.name = Some("other".into());
        prop_assert_eq!(renamed.unseal(&keys).is_ok(), scope != Scope::Strict);
        }
    }
}

fn data_path(rel: &str) -> String {
    data(rel).to_str().expect("utf-8 path").to_owned()
}

/// A key pair and certificate made by sealops as the controller makes them: Python's
/// `cryptography` (through kubesealpy's `Sealer`) accepts the certificate, and what it seals to
/// it opens with the key.
#[test]
fn kubesealpy_seals_to_a_certificate_sealops_made() {
    let Some(py) = kubesealpy_python() else { return };
    let key = PrivateKey::generate(2048).unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let cert = key.self_signed_certificate("", now - 60, 10 * 365 * 86_400).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (crt, input) = (tmp.path().join("tls.crt"), tmp.path().join("data.json"));
    std::fs::write(&crt, cert.to_pem()).unwrap();
    std::fs::write(&input, br#"{"k": "c2VhbGVkIGJ5IGt1YmVzZWFscHk="}"#).unwrap();
    for scope in SCOPES {
        let yaml = run(py, SEAL, &[crt.to_str().unwrap(), input.to_str().unwrap(), scope.as_str()])
            .unwrap_or_else(|e| panic!("kubesealpy refused our certificate: {e}"));
        let secret = SealedSecret::parse(yaml.as_bytes(), "kubesealpy output").unwrap().unseal(&[&key]).unwrap();
        assert_eq!(secret.data["k"].expose(), b"sealed by kubesealpy", "{scope:?}");
    }
}
