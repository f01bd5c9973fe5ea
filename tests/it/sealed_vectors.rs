//! sealed-secrets interop vectors (`tests/data/sealed-secrets-upstream/`, see its ORIGIN.md):
//! every document and raw value sealed by upstream's own `pkg/crypto` (and by kubesealpy,
//! aes-gcm-rsa-oaep and @linode/kubeseal-encrypt) opens with our code to the recorded plaintext
//! or fails with the recorded error; keys parse with the recorded fingerprints; our sealing
//! round-trips in every scope, and wrong scopes or damaged ciphertext are refused.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use sealops::crypto::rsa::{Certificate, PrivateKey, PublicKey};
use sealops::sealed::document::DocumentError;
use sealops::sealed::keys::{KeyOrder, KeySet, SealingKey};
use sealops::sealed::scheme::{self, CLUSTER_WIDE_ANNOTATION, NAMESPACE_WIDE_ANNOTATION, SchemeError, Scope};
use sealops::sealed::{SealedSecret, Secret};
use serde_json::Value;

use crate::support::read;

const DIR: &str = "sealed-secrets-upstream";

fn vectors() -> &'static Value {
    static V: OnceLock<Value> = OnceLock::new();
    V.get_or_init(|| serde_json::from_slice(&read(&format!("{DIR}/vectors.json"))).expect("vectors.json"))
}

fn key(name: &str) -> &'static SealingKey {
    static KEYS: OnceLock<BTreeMap<String, SealingKey>> = OnceLock::new();
    KEYS.get_or_init(|| {
        ["key-a", "key-b"]
            .into_iter()
            .map(|k| {
                let crt = read(&format!("{DIR}/keys/{k}/tls.crt"));
                let key = read(&format!("{DIR}/keys/{k}/tls.key"));
                (k.to_owned(), SealingKey::from_pem(k, &crt, &key).expect(k))
            })
            .collect()
    })
    .get(name)
    .unwrap_or_else(|| panic!("no key {name}"))
}

fn both_keys() -> Vec<&'static PrivateKey> {
    vec![key("key-a").private_key(), key("key-b").private_key()]
}

fn text(file: &str) -> Vec<u8> {
    read(&format!("{DIR}/{file}"))
}

#[test]
fn keys_parse_with_recorded_fingerprints_in_every_form() {
    for (name, k) in vectors()["keys"].as_object().unwrap() {
        let want = k["fingerprint"].as_str().unwrap();
        assert_eq!(key(name).fingerprint(), want, "{name}");
        // The key Secret as the controller stores it.
        let from_secret = KeySet::parse_secrets(&text(&format!("keys/{name}/sealing-key-secret.yaml")), name).unwrap();
        assert_eq!(from_secret.len(), 1);
        assert_eq!(from_secret[0].fingerprint(), want);
        let suffix = if name == "key-a" { "aaaaa" } else { "bbbbb" };
        assert_eq!(from_secret[0].name(), Some(format!("sealed-secrets-key{suffix}").as_str()));
    }
    // key-b also as PKCS#1 and as a bare SPKI public key.
    let pkcs1 = PrivateKey::from_pem(&text("keys/key-b/tls-pkcs1.key")).unwrap();
    assert_eq!(pkcs1.public_key().fingerprint(), key("key-b").fingerprint());
    let spki = PublicKey::from_pem(&text("keys/key-b/pubkey-spki.pem")).unwrap();
    assert_eq!(spki.fingerprint(), key("key-b").fingerprint());
    assert_eq!(key("key-a").certificate().public_key().bits(), 4096);
    // The backup List holds both keys.
    let listed = KeySet::parse_secrets(&text("keys/keys-backup-list.yaml"), "keys-backup-list.yaml").unwrap();
    let mut fps: Vec<_> = listed.iter().map(|k| k.fingerprint().to_owned()).collect();
    fps.sort();
    let mut want = vec![key("key-a").fingerprint().to_owned(), key("key-b").fingerprint().to_owned()];
    want.sort();
    assert_eq!(fps, want);
}

#[test]
fn upstream_test_certificate_parses_to_its_recorded_fingerprint_and_dates() {
    let cert = Certificate::from_pem(&text("testCert.pem")).unwrap();
    assert_eq!(cert.public_key().fingerprint(), "SHA256:GGkvu+e9oSv0lC5zQgZeFDtW/h7L0lSIV4QFz6+0tcI");
    assert_eq!(cert.public_key().bits(), 4096);
    assert_eq!(cert.not_before(), 1_497_933_165); // 2017-06-20T04:32:45Z
    assert_eq!(cert.not_after(), 1_813_293_165); // 2027-06-18T04:32:45Z
    assert!(cert.is_expired_at(1_813_293_166));
    assert!(!cert.is_expired_at(1_813_293_165));
}

#[test]
fn mismatched_cert_and_key_are_refused() {
    let err =
        SealingKey::from_pem("Secret kube-system/mixed", &text("keys/key-a/tls.crt"), &text("keys/key-b/tls.key"))
            .err()
            .expect("mismatch must fail");
    assert_eq!(err.kind(), "mismatch");
    assert!(err.to_string().starts_with("Secret kube-system/mixed: tls.crt holds key SHA256:oJPI"), "{err}");
}

#[test]
fn every_raw_vector_opens_with_its_key_and_label_only() {
    let raw = vectors()["raw"].as_array().unwrap();
    assert_eq!(raw.len(), 51);
    for (i, v) in raw.iter().enumerate() {
        let ctx = format!("raw[{i}] sealer={} key={} scope={}", v["sealer"], v["key"], v["scope"]);
        let blob = B64.decode(v["ciphertext_b64"].as_str().unwrap()).unwrap();
        let want = B64.decode(v["plaintext_b64"].as_str().unwrap()).unwrap();
        let label = v["oaep_label_utf8"].as_str().unwrap().as_bytes();
        let scope: Scope = v["scope"].as_str().unwrap().parse().unwrap();
        assert_eq!(scope.label(v["namespace"].as_str().unwrap(), v["name"].as_str().unwrap()), label, "{ctx}");
        let got = scheme::hybrid_decrypt(both_keys(), &blob, label).unwrap_or_else(|e| panic!("{ctx}: {e}"));
        assert_eq!(got.expose(), want.as_slice(), "{ctx}");
        // With only the other key, or another label, it must not open.
        let other = if v["key"] == "key-a" { "key-b" } else { "key-a" };
        assert_eq!(
            scheme::hybrid_decrypt([key(other).private_key()], &blob, label).err(),
            Some(SchemeError::NoKeyCouldDecrypt),
            "{ctx}"
        );
        let wrong_label: &[u8] = if label.is_empty() { b"demo" } else { b"" };
        assert_eq!(
            scheme::hybrid_decrypt(both_keys(), &blob, wrong_label).err(),
            Some(SchemeError::NoKeyCouldDecrypt),
            "{ctx}"
        );
    }
}

#[test]
fn every_document_vector_gives_its_expected_result_in_json_and_yaml() {
    let docs = vectors()["documents"].as_array().unwrap();
    assert_eq!(docs.len(), 15);
    let mut checked = 0;
    for d in docs {
        let name = d["name"].as_str().unwrap();
        for file in [d["sealed_json"].as_str().unwrap(), d["sealed_yaml"].as_str().unwrap()] {
            let doc = SealedSecret::parse(&text(file), file).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                String::from_utf8(doc.label()).unwrap(),
                d["oaep_label_utf8_at_unseal"].as_str().unwrap(),
                "{file}"
            );
            match d["expect"].as_str().unwrap() {
                "ok" => check_ok(d, &doc, file),
                "error" => {
                    let err = doc.unseal_items(&both_keys()).err().unwrap_or_else(|| panic!("{file}: opened"));
                    let want = d["expected_error"].as_str().unwrap();
                    match &err {
                        DocumentError::Unseal { message, .. } => assert_eq!(message, want, "{file}"),
                        other => panic!("{file}: {other}"),
                    }
                    assert!(err.to_string().starts_with("SealedSecret "), "{file}: {err}");
                }
                other => panic!("{name}: unknown expectation {other}"),
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 30);
}

fn check_ok(d: &Value, doc: &SealedSecret, file: &str) {
    let want: BTreeMap<String, Vec<u8>> = d["expected_data_b64"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), B64.decode(v.as_str().unwrap()).unwrap()))
        .collect();
    let expected: Value = serde_json::from_slice(&text(d["expected_secret"].as_str().unwrap())).unwrap();
    let secret = doc.unseal(&both_keys()).unwrap_or_else(|e| panic!("{e}"));
    let got: BTreeMap<String, Vec<u8>> = secret.data.iter().map(|(k, v)| (k.clone(), v.expose().to_vec())).collect();
    assert_eq!(got, want, "{file}");
    let meta = &expected["metadata"];
    assert_eq!(secret.metadata.name.as_deref(), meta["name"].as_str(), "{file}");
    assert_eq!(secret.metadata.namespace.as_deref(), meta["namespace"].as_str(), "{file}");
    assert_eq!(secret.type_.as_deref(), expected["type"].as_str(), "{file}");
    assert_eq!(secret.immutable, expected["immutable"].as_bool(), "{file}");
    let labels: BTreeMap<String, String> = serde_json::from_value(meta["labels"].clone()).unwrap_or_default();
    assert_eq!(secret.metadata.labels, labels, "{file}");
    let annotations: BTreeMap<String, String> = serde_json::from_value(meta["annotations"].clone()).unwrap_or_default();
    assert_eq!(secret.metadata.annotations, annotations, "{file}");
}

fn demo_secret(name: &str, namespace: &str, scope: Scope) -> Secret {
    let mut s = Secret::default();
    s.metadata.name = Some(name.into());
    s.metadata.namespace = Some(namespace.into());
    if let Some(a) = scope.annotation() {
        s.metadata.annotations.insert(a.into(), "true".into());
    }
    s.metadata.labels.insert("app".into(), "web".into());
    s.type_ = Some("Opaque".into());
    let binary: Vec<u8> = (0..=255u8).collect();
    s.data.insert("bin".into(), sealops::crypto::SecretBytes::new(binary));
    s.data.insert("empty".into(), sealops::crypto::SecretBytes::new(Vec::new()));
    s.data.insert("text".into(), sealops::crypto::SecretBytes::from_slice("pässwörd ✓".as_bytes()));
    s
}

fn reparse(doc: &SealedSecret) -> SealedSecret {
    SealedSecret::parse(doc.to_json().as_bytes(), "round trip").unwrap()
}

#[test]
fn seal_then_unseal_in_every_scope_and_refuse_what_the_scope_forbids() {
    let public = key("key-b").certificate().public_key();
    for scope in [Scope::Strict, Scope::NamespaceWide, Scope::ClusterWide] {
        let secret = demo_secret("mysecret", "demo", scope);
        let sealed = reparse(&secret.seal(public).unwrap());
        assert_eq!(sealed.scope(), scope);
        for blob in sealed.spec.encrypted_data.values() {
            assert!(
                blob.starts_with("AgA")
                    || blob.starts_with("AgB")
                    || blob.starts_with("AgC")
                    || blob.starts_with("AgD")
            );
        }
        let opened = sealed.unseal(&both_keys()).unwrap();
        assert_eq!(opened.data.len(), 3);
        for (k, v) in &secret.data {
            assert_eq!(opened.data[k].expose(), v.expose(), "{scope:?} {k}");
        }
        assert_eq!(opened.metadata.labels, secret.metadata.labels);
        // Only key-a: no item opens.
        assert!(sealed.unseal(&[key("key-a").private_key()]).is_err());

        let mut renamed = sealed.clone();
        renamed.metadata.name = Some("other".into());
        let mut moved = sealed.clone();
        moved.metadata.namespace = Some("elsewhere".into());
        let mut widened = sealed.clone();
        widened.metadata.annotations.insert(CLUSTER_WIDE_ANNOTATION.into(), "true".into());
        let mut narrowed = sealed.clone();
        narrowed.metadata.annotations.clear();
        let outcome = |d: &SealedSecret| d.unseal_items(&both_keys()).is_ok();
        match scope {
            Scope::Strict => {
                assert!(!outcome(&renamed) && !outcome(&moved) && !outcome(&widened));
                // A cluster-wide annotation in the template alone changes nothing.
                let mut template_only = sealed.clone();
                let t = template_only.spec.template.as_mut().unwrap();
                t.metadata.annotations.insert(CLUSTER_WIDE_ANNOTATION.into(), "true".into());
                assert!(outcome(&template_only));
            }
            Scope::NamespaceWide => {
                assert!(outcome(&renamed) && !outcome(&moved) && !outcome(&widened) && !outcome(&narrowed));
                let secret = renamed.unseal(&both_keys()).unwrap();
                assert_eq!(secret.metadata.name.as_deref(), Some("other"), "the Secret takes the outer name");
            }
            Scope::ClusterWide => {
                assert!(outcome(&renamed) && outcome(&moved) && !outcome(&narrowed));
                let mut ns_only = sealed.clone();
                ns_only.metadata.annotations.clear();
                ns_only.metadata.annotations.insert(NAMESPACE_WIDE_ANNOTATION.into(), "true".into());
                assert!(!outcome(&ns_only));
            }
        }
    }
}

#[test]
fn tampered_or_truncated_ciphertext_is_refused() {
    let public = key("key-a").certificate().public_key();
    let blob = scheme::hybrid_encrypt(public, b"s3cr3t!", b"demo/mysecret").unwrap();
    assert_eq!(blob.len(), 2 + 512 + 7 + 16);
    assert_eq!(&blob[..2], &[0x02, 0x00]);
    assert_eq!(scheme::hybrid_decrypt(both_keys(), &blob, b"demo/mysecret").unwrap().expose(), b"s3cr3t!");
    for at in [0, 1, 2, 300, 2 + 512, blob.len() - 1] {
        let mut bad = blob.clone();
        bad[at] ^= 0x01;
        assert!(scheme::hybrid_decrypt(both_keys(), &bad, b"demo/mysecret").is_err(), "flip at {at}");
    }
    for len in [0, 1, 2, 513, 2 + 512, blob.len() - 1] {
        assert!(scheme::hybrid_decrypt(both_keys(), &blob[..len], b"demo/mysecret").is_err(), "cut at {len}");
    }
    assert_eq!(scheme::hybrid_decrypt(both_keys(), &blob[..1], b"").err(), Some(SchemeError::TooShort));
    assert_eq!(scheme::hybrid_decrypt(both_keys(), &blob[..100], b"").err(), Some(SchemeError::TooShort));
}

#[test]
fn key_set_orders_by_certificate_or_creation_and_seals_with_the_newest() {
    let load =
        |k: &str| KeySet::parse_secrets(&text(&format!("keys/{k}/sealing-key-secret.yaml")), k).unwrap().pop().unwrap();
    // key-a's certificate is one second younger (NotBefore 21:14:36 vs 21:14:35); key-b's Secret
    // was created later (2026-02-01 vs 2026-01-01). The two orders therefore disagree.
    let (a, b) = (key("key-a").fingerprint(), key("key-b").fingerprint());
    let by_cert = KeySet::new(vec![load("key-b"), load("key-a"), load("key-a")], KeyOrder::CertNotBefore);
    assert_eq!(by_cert.len(), 2, "one entry per fingerprint");
    assert_eq!(by_cert.latest().unwrap().fingerprint(), a);
    assert_eq!(by_cert.newest_first().map(SealingKey::fingerprint).collect::<Vec<_>>(), [a, b]);
    let by_creation = KeySet::new(vec![load("key-b"), load("key-a")], KeyOrder::SecretCreationTimestamp);
    assert_eq!(by_creation.latest().unwrap().fingerprint(), b);
    assert_eq!(by_creation.latest().unwrap().created(), Some("2026-02-01T00:00:00Z"));
    assert_eq!(by_creation.private_keys().len(), 2);
    assert!(by_cert.get(b).is_some());
    assert!(by_cert.get("SHA256:nope").is_none());
}

/// A certificate sealops makes for key-a has the same shape as the one upstream's
/// `GeneratePrivateKeyAndCert` made for it: same extensions, criticality, key identifier (Go's
/// SHA-1 of the key bits), empty DN, signature algorithm and a 10-year validity.
#[test]
fn self_signed_certificate_matches_the_upstream_made_one() {
    let upstream = key("key-a").certificate();
    let ours = key("key-a")
        .private_key()
        .self_signed_certificate("", upstream.not_before(), upstream.not_after() - upstream.not_before())
        .unwrap();
    assert_eq!((ours.not_before(), ours.not_after()), (upstream.not_before(), upstream.not_after()));
    let (_, theirs) = x509_parser::parse_x509_certificate(upstream.der()).unwrap();
    let (_, mine) = x509_parser::parse_x509_certificate(ours.der()).unwrap();
    let shape = |c: &x509_parser::certificate::X509Certificate<'_>| {
        let exts: Vec<(String, bool, Vec<u8>)> =
            c.extensions().iter().map(|e| (e.oid.to_id_string(), e.critical, e.value.to_vec())).collect();
        (
            c.version(),
            c.signature_algorithm.algorithm.to_id_string(),
            c.subject().as_raw().to_vec(),
            c.issuer().as_raw().to_vec(),
            exts,
        )
    };
    let (mut a, mut b) = (shape(&theirs), shape(&mine));
    a.4.sort();
    b.4.sort();
    assert_eq!(a, b);
    assert_ne!(theirs.raw_serial(), mine.raw_serial(), "serials are random");
}

/// `tls.key` as the controller writes it (PKCS#1 PEM): byte-identical to upstream's key-a file
/// and to openssl's PKCS#1 form of key-b.
#[test]
fn pkcs1_export_matches_upstream_and_openssl_files() {
    assert_eq!(key("key-a").private_key().to_pkcs1_pem().unwrap().expose(), text("keys/key-a/tls.key").as_slice());
    assert_eq!(
        key("key-b").private_key().to_pkcs1_pem().unwrap().expose(),
        text("keys/key-b/tls-pkcs1.key").as_slice()
    );
}

/// A template that fails (here: a Sprig function sealops does not implement) refuses the whole
/// Secret; the error names the object and the key and carries no decrypted value.
#[test]
fn failing_template_refuses_the_secret_without_leaking_values() {
    let mut doc = SealedSecret::parse(&text("sealed/template.json"), "template.json").unwrap();
    let template = doc.spec.template.as_mut().unwrap();
    // `fail` with a decrypted value as its message: Go's error would be the value itself.
    template.data.insert("broken".into(), "{{ .password | fail }}".into());
    let Err(err) = doc.unseal(&both_keys()) else { panic!("fail renders nothing") };
    assert_eq!(err.kind(), "template");
    let message = err.to_string();
    assert!(message.contains("templated") && message.contains("broken") && message.contains("fail"), "{message}");
    let items = doc.unseal_items(&both_keys()).unwrap();
    for value in items.values() {
        let value = String::from_utf8_lossy(value.expose());
        assert!(!message.contains(value.as_ref()), "the error shows a decrypted value: {message}");
    }
}
