//! Every upstream fixture an age key opens decrypts to the output the real sops recorded
//! (`tests/data/sops-upstream/ORIGIN.md` says where each file comes from).

use std::path::Path;

use sealops::sops::ops::{self, OpenOptions};
use sealops::sops::store::{self, Format, Store, StoreConfig};
use sealops::sops::yaml::YamlStore;

use crate::support::{keyring, read};

fn decrypt_with(store: &dyn Store, enc: &str, keys: &[&str]) -> Result<Vec<u8>, ops::OpError> {
    let ring = keyring(keys);
    let opened = ops::open(store, &read(enc), &ring, &OpenOptions::default())?;
    opened.emit_plain(store).map(|plain| plain.expose().to_vec())
}

fn assert_decrypts_to(store: &dyn Store, enc: &str, keys: &[&str], dec: &str) {
    let got = decrypt_with(store, enc, keys).unwrap_or_else(|e| panic!("{enc}: {e}"));
    let want = read(dec);
    assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(&want), "{enc} vs {dec}");
}

const KEY: &str = "sops-upstream/gen311_age_key.txt";

#[test]
fn yaml_fixtures_written_by_sops() {
    let yaml = YamlStore::default();
    for name in ["basic", "multidoc", "anchors", "types", "two_recipients", "regex_maconly"] {
        assert_decrypts_to(
            &yaml,
            &format!("sops-upstream/gen311_{name}.enc.yaml"),
            &[KEY],
            &format!("sops-upstream/gen311_{name}.dec.yaml"),
        );
    }
    assert_decrypts_to(
        &yaml,
        "sops-upstream/gen311_two_recipients.enc.yaml",
        &["sops-upstream/gen311_age_key_b.txt"],
        "sops-upstream/gen311_two_recipients.dec.yaml",
    );
}

#[test]
fn historical_age_fixture_from_sops_repository() {
    assert_decrypts_to(
        &YamlStore::default(),
        "sops-upstream/pr1031_example.enc.yaml",
        &["sops-upstream/age_keys_historical.txt"],
        "sops-upstream/pr1031_example.dec.yaml",
    );
}

#[test]
fn shamir_needs_any_two_of_three() {
    let yaml = YamlStore::default();
    let k = |n: u8| format!("sops-upstream/gen311_shamir_key{n}.txt");
    for pair in [[1, 2], [1, 3], [2, 3]] {
        let (a, b) = (k(pair[0]), k(pair[1]));
        assert_decrypts_to(
            &yaml,
            "sops-upstream/gen311_shamir_2of3.enc.yaml",
            &[&a, &b],
            "sops-upstream/gen311_shamir_2of3.dec.yaml",
        );
    }
    let one = k(2);
    let err =
        decrypt_with(&yaml, "sops-upstream/gen311_shamir_2of3.enc.yaml", &[&one]).expect_err("one share is not enough");
    assert_eq!(err.kind(), "could_not_retrieve_key");
}

#[test]
fn ssh_ed25519_recipient() {
    // sops's own ssh test key (public test material); our ssh-ed25519 implementation opens
    // what Go age wrapped for it.
    let mut ring = sealops::crypto::Keyring::new();
    let text = String::from_utf8(read("sops-upstream/gen311_ssh_ed25519")).unwrap();
    let id = sealops::crypto::ssh::Identity::parse_openssh(&text).unwrap().expect("an openssh key");
    ring.add_age("test ssh key", [sealops::crypto::age::Identity::SshEd25519(id)]);
    let yaml = YamlStore::default();
    let opened = ops::open(&yaml, &read("sops-upstream/gen311_ssh.enc.yaml"), &ring, &OpenOptions::default()).unwrap();
    assert_eq!(opened.emit_plain(&yaml).unwrap().expose(), read("sops-upstream/gen311_ssh.dec.yaml"));
}

#[test]
fn tampered_mac_is_refused_and_ignore_mac_skips_the_check() {
    let yaml = YamlStore::default();
    let err = decrypt_with(&yaml, "sops-upstream/gen311_tampered_mac.enc.yaml", &[KEY]).expect_err("tampered");
    assert_eq!(err.kind(), "mac_mismatch");
    let text = err.to_string();
    assert!(text.starts_with("MAC mismatch. File has 96B253D6"), "{text}");
    let ring = keyring(&[KEY]);
    let opts = OpenOptions { ignore_mac: true, ..OpenOptions::default() };
    ops::open(&yaml, &read("sops-upstream/gen311_tampered_mac.enc.yaml"), &ring, &opts).expect("--ignore-mac opens it");
}

#[test]
fn pgp_only_files_get_a_clear_error() {
    let yaml = YamlStore::default();
    for f in ["head_example.enc.yaml", "ft_format.enc.yaml", "ft_comments.enc.yaml", "ft_multiple_keys.enc.yaml"] {
        let err = decrypt_with(&yaml, &format!("sops-upstream/{f}"), &[KEY]).expect_err("pgp only");
        let text = err.to_string();
        assert!(text.contains("only with pgp keys"), "{f}: {text}");
    }
}

#[test]
fn wrong_key_fails_like_sops() {
    let err = decrypt_with(
        &YamlStore::default(),
        "sops-upstream/gen311_basic.enc.yaml",
        &["sops-upstream/gen311_shamir_key1.txt"],
    )
    .expect_err("wrong key");
    assert_eq!(err.kind(), "could_not_retrieve_key");
    assert!(err.to_string().starts_with("Failed to get the data key required to decrypt the SOPS file."));
}

fn store_for(file: &str) -> Box<dyn Store> {
    store::for_format(Format::from_path(Path::new(file)), StoreConfig::default())
}

#[test]
fn every_age_fixture_in_every_format() {
    let cases: &[(&str, &[&str], &str)] = &[
        ("gen311_basic.enc.json", &[KEY], "gen311_basic.dec.json"),
        ("gen311_basic.enc.env", &[KEY], "gen311_basic.dec.env"),
        ("gen311_basic.enc.ini", &[KEY], "gen311_basic.dec.ini"),
        ("gen311_binary.enc.bin", &[KEY], "gen311_binary.dec.bin"),
        ("pr1031_example.enc.json", &["sops-upstream/age_keys_historical.txt"], "pr1031_example.dec.json"),
        ("pr1031_example.enc.ini", &["sops-upstream/age_keys_historical.txt"], "pr1031_example.dec.ini"),
        ("pr1031_example.enc.txt", &["sops-upstream/age_keys_historical.txt"], "pr1031_example.dec.txt"),
    ];
    for (enc, keys, dec) in cases {
        let enc = format!("sops-upstream/{enc}");
        let store = store_for(&enc);
        assert_decrypts_to(&*store, &enc, keys, &format!("sops-upstream/{dec}"));
    }
}

#[test]
fn pgp_only_fixtures_in_every_format_name_their_key_types() {
    let files = [
        "head_example.enc.json",
        "head_example.enc.ini",
        "head_example.enc.txt",
        "examples_all_in_one_secret.enc.json",
        "examples_per_file_static_github.enc.json",
        "ft_format.enc.json",
        "ft_format.enc.env",
        "ft_format.enc.ini",
        "ft_format-2.enc.ini",
        "ft_no_mac.enc.yaml",
        "ft_comments_unencrypted_comments.enc.yaml",
    ];
    for f in files {
        let enc = format!("sops-upstream/{f}");
        let store = store_for(&enc);
        let err = decrypt_with(&*store, &enc, &[KEY]).expect_err("pgp only");
        assert_eq!(err.kind(), "could_not_retrieve_key", "{f}");
        assert!(err.to_string().contains("only with pgp keys"), "{f}: {err}");
    }
}

#[test]
fn parse_only_legacy_files_load_their_metadata() {
    // sops 1.13-era files: yaml.v2 list style, legacy `attention:` field, KMS + PGP keys.
    for f in ["parseonly_config_example_v1.13.enc.yaml", "parseonly_stores_ini_example_v1.13.enc.json"] {
        let enc = format!("sops-upstream/{f}");
        let (docs, meta) = store_for(&enc).load_encrypted(&read(&enc)).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(!docs.is_empty(), "{f}");
        assert!(meta.master_keys().any(|k| k.type_name() == "pgp"), "{f}");
        assert!(ops::is_encrypted(&*store_for(&enc), &read(&enc)).unwrap(), "{f}");
    }
}
