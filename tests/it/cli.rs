//! End-to-end tests of the `sealops` binary's sops-compatible command line: every command and
//! its important flags, sops's exit codes, the `sops` argv[0] mode, and atomic writes.
//!
//! Each test runs the real binary in its own sandbox (`support::Sandbox`): a clean environment,
//! `HOME`/`XDG_CONFIG_HOME`/`TMPDIR` inside a temporary directory, and the committed public test
//! keys (`keys/age/`), so nothing touches the developer's own keys or config.

use std::path::Path;

use sealops::crypto::age::Identity;

use crate::support::{
    ALICE, BOB, CAROL, Run, Sandbox, data, enc_field, inode, key_file, mode, run, run_with_stdin, script, tamper,
};

/// A small YAML file in sops's own layout (4-space indent), so decrypting gives it back byte
/// for byte.
const PLAIN: &str = "\
# top comment
app:
    user: admin
    password: hunter2
    port: 8080
list:
    - one
    - 2
";

/// Runs `sealops args…` with `SOPS_AGE_KEY_FILE` set to `keys/age/<key>.agekey`.
fn run_as(sb: &Sandbox, key: &str, args: &[&str]) -> Run {
    run(sb.cmd(args).env("SOPS_AGE_KEY_FILE", key_file(key)))
}

/// Decrypts `rel` with the given test key.
fn decrypt_as(sb: &Sandbox, key: &str, rel: &str) -> Run {
    run_as(sb, key, &["decrypt", rel])
}

/// The `recipient:` values of a YAML sops file.
fn recipients(text: &str) -> Vec<String> {
    text.lines().filter_map(|l| l.trim().strip_prefix("recipient: ")).map(str::to_owned).collect()
}

/// Writes a `.sops.yaml` in the sandbox root with one catch-all rule.
fn config_with(sb: &Sandbox, age: &str) {
    sb.write(".sops.yaml", format!("creation_rules:\n  - age: {age}\n"));
}

/// `(iv, tag, data)` of every encrypted value and comment of a YAML sops file, the MAC excluded.
fn value_envelopes(text: &str) -> Vec<(String, String, String)> {
    text.lines()
        .filter(|l| l.contains("ENC[AES256_GCM") && !l.trim_start().starts_with("mac:"))
        .map(|l| {
            let f = |name| enc_field(l, name).unwrap_or_else(|| panic!("{name} in {l}")).to_owned();
            (f("iv"), f("tag"), f("data"))
        })
        .collect()
}

/// The armored `enc` blocks (one per recipient) of a YAML sops file.
fn enc_blocks(text: &str) -> Vec<String> {
    text.split("-----BEGIN AGE ENCRYPTED FILE-----")
        .skip(1)
        .map(|b| b.split("-----END AGE ENCRYPTED FILE-----").next().unwrap().to_owned())
        .collect()
}

// --- encrypt ---------------------------------------------------------------------------------

#[test]
fn encrypt_a_file_to_stdout_and_decrypt_it_back() {
    let sb = Sandbox::new();
    sb.write("s.yaml", PLAIN);
    let enc = sb.run(&["encrypt", "--age", ALICE, "s.yaml"]).ok().out();
    assert!(!enc.contains("hunter2") && !enc.contains("top comment"), "values and comments are encrypted:\n{enc}");
    assert!(enc.contains("    password: ENC[AES256_GCM,data:"), "{enc}");
    assert!(enc.contains("type:int]"), "the type is recorded:\n{enc}");
    assert_eq!(recipients(&enc), [ALICE]);
    assert_eq!(sb.read_str("s.yaml"), PLAIN, "encrypting to stdout leaves the input alone");
    sb.write("s.enc.yaml", &enc);
    assert_eq!(sb.run(&["decrypt", "s.enc.yaml"]).ok().out(), PLAIN);
}

#[test]
fn encrypt_from_stdin_needs_filename_override() {
    let sb = Sandbox::new();
    let r = run_with_stdin(&mut sb.cmd(&["encrypt", "--age", ALICE]), Some(PLAIN.as_bytes()));
    let r = r.code(8).err_has("--filename-override");
    assert!(r.stdout.is_empty());

    // The override names the format (JSON here) and the creation rule.
    let json = r#"{"user": "admin", "password": "hunter2"}"#;
    let r = run_with_stdin(
        &mut sb.cmd(&["encrypt", "--age", ALICE, "--filename-override", "x.json"]),
        Some(json.as_bytes()),
    )
    .ok();
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).expect("JSON output");
    assert!(v["password"].as_str().unwrap().starts_with("ENC[AES256_GCM,data:"), "{v}");
    assert_eq!(v["sops"]["age"][0]["recipient"], ALICE);
    sb.write("x.json", &r.stdout);
    let back: serde_json::Value = serde_json::from_slice(&sb.run(&["decrypt", "x.json"]).ok().stdout).unwrap();
    assert_eq!(back, serde_json::from_str::<serde_json::Value>(json).unwrap());
}

#[test]
fn encrypt_with_output_and_in_place() {
    let sb = Sandbox::new();
    let src = sb.write("s.yaml", PLAIN);

    let r = sb.run(&["encrypt", "--age", ALICE, "--output", "enc.yaml", "s.yaml"]).ok();
    assert!(r.stdout.is_empty(), "--output writes nothing to stdout");
    assert_eq!(mode(&sb.path("enc.yaml")), 0o600, "a new output file is private");
    assert_eq!(sb.read_str("s.yaml"), PLAIN);
    assert_eq!(sb.run(&["decrypt", "enc.yaml"]).ok().out(), PLAIN);

    sb.run(&["encrypt", "--age", ALICE, "-i", "--output", "other.yaml", "s.yaml"])
        .code(8)
        .err_has("cannot operate on both --output and --in-place");
    assert!(!sb.path("other.yaml").exists());
    assert_eq!(sb.read_str("s.yaml"), PLAIN);

    std::fs::set_permissions(&src, std::os::unix::fs::PermissionsExt::from_mode(0o640)).unwrap();
    let r = sb.run(&["encrypt", "--age", ALICE, "--in-place", "s.yaml"]).ok();
    assert!(r.stdout.is_empty());
    let enc = sb.read_str("s.yaml");
    assert!(enc.contains("\nsops:\n") && !enc.contains("hunter2"), "{enc}");
    assert_eq!(mode(&src), 0o640, "an in-place rewrite keeps the file's mode");
    assert_eq!(sb.run(&["decrypt", "s.yaml"]).ok().out(), PLAIN);
    assert_eq!(Sandbox::files_under(&sb.root), ["enc.yaml", "s.yaml"], "no temporary file is left");
}

#[test]
fn encrypt_yaml_in_json_out_and_types_override_extensions() {
    let sb = Sandbox::new();
    sb.write("s.yaml", PLAIN);
    let r = sb.run(&["encrypt", "--age", ALICE, "--output-type", "json", "s.yaml"]).ok();
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).expect("JSON output");
    assert!(v["app"]["password"].as_str().unwrap().starts_with("ENC[AES256_GCM"), "{v}");
    assert!(v["list"][1].as_str().unwrap().ends_with("type:int]"), "{v}");
    assert_eq!(v["sops"]["age"][0]["recipient"], ALICE);

    // A name that says nothing: the types come from the flags.
    sb.write("s.dat", &r.stdout);
    let back = sb.run(&["decrypt", "--input-type", "json", "--output-type", "yaml", "s.dat"]).ok().out();
    // JSON has no comments: the top comment is gone, the rest is the same document.
    assert_eq!(back, PLAIN.replace("# top comment\n", ""));
    let json = sb.run(&["decrypt", "--input-type", "json", "s.dat"]).ok();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("the output type follows the input type");
    assert_eq!(v["app"]["port"], 8080);

    sb.run(&["encrypt", "--age", ALICE, "--input-type", "toml", "s.yaml"]).code(1).err_has("--input-type");
}

#[test]
fn creation_rules_are_found_from_the_cwd_upwards_and_path_regex_picks_the_rule() {
    let sb = Sandbox::new();
    sb.write(
        ".sops.yaml",
        format!(
            "creation_rules:\n  - path_regex: prod/.*\\.yaml$\n    age: {BOB}\n  - path_regex: \\.yaml$\n    age: {ALICE}\n    encrypted_regex: ^pass\n"
        ),
    );
    let doc = "user: u\npassword: p\n";
    sb.write("prod/a.yaml", doc);
    sb.write("dev/deeper/a.yaml", doc);

    // Two levels below the config: it is still found; the second rule applies.
    let out = run(sb.cmd(&["encrypt", "a.yaml"]).current_dir(sb.path("dev/deeper"))).ok().out();
    assert_eq!(recipients(&out), [ALICE]);
    assert!(out.starts_with("user: u\npassword: ENC["), "encrypted_regex from the rule:\n{out}");
    assert!(out.contains("encrypted_regex: ^pass"), "{out}");

    // prod/ matches the first rule.
    let out = sb.run(&["encrypt", "prod/a.yaml"]).ok().out();
    assert_eq!(recipients(&out), [BOB]);
    assert!(out.starts_with("user: ENC["), "{out}");

    // The search starts at the working directory, not at the file: from outside the tree
    // there is no config, hence no keys.
    let target = sb.path("prod/a.yaml");
    run(sb.cmd(&["encrypt", target.to_str().unwrap()]).current_dir(&sb.home))
        .code(1)
        .err_has("no keys provided through command line options");

    // No rule matches: sops's error.
    sb.write("dev/a.json", r#"{"a": "b"}"#);
    sb.run(&["encrypt", "dev/a.json"]).code(1).err_has("no matching creation rules found");
}

#[test]
fn config_flag_and_sops_config_replace_discovery() {
    let sb = Sandbox::new();
    config_with(&sb, ALICE);
    sb.write("conf/rules.yaml", format!("creation_rules:\n  - age: {BOB}\n"));
    sb.write("a.yaml", "k: v\n");
    let who = |r: Run| recipients(&r.ok().out());
    assert_eq!(who(sb.run(&["encrypt", "a.yaml"])), [ALICE]);
    assert_eq!(who(sb.run(&["--config", "conf/rules.yaml", "encrypt", "a.yaml"])), [BOB]);
    assert_eq!(who(sb.run(&["encrypt", "--config", "conf/rules.yaml", "a.yaml"])), [BOB]);
    assert_eq!(who(run(sb.cmd(&["encrypt", "a.yaml"]).env("SOPS_CONFIG", "conf/rules.yaml"))), [BOB]);
    // Key flags override the config's keys entirely.
    assert_eq!(who(sb.run(&["encrypt", "--age", CAROL, "a.yaml"])), [CAROL]);
}

#[test]
fn selection_flags_choose_what_is_encrypted() {
    let sb = Sandbox::new();
    let doc = "name_pub: visible\npassword: hunter2\nsecret_token: t0k3n\n";
    sb.write("s.yaml", doc);
    let cases: [(&str, &str, &[&str]); 4] = [
        ("--unencrypted-suffix", "_pub", &["name_pub"]),
        ("--encrypted-suffix", "_token", &["name_pub", "password"]),
        ("--encrypted-regex", "^pass", &["name_pub", "secret_token"]),
        ("--unencrypted-regex", "^(name|secret)", &["name_pub", "secret_token"]),
    ];
    for (flag, value, clear) in cases {
        let out = sb.run(&["encrypt", "--age", ALICE, flag, value, "s.yaml"]).ok().out();
        for line in doc.lines() {
            let key = line.split(':').next().unwrap();
            let stored = out.lines().find(|l| l.starts_with(&format!("{key}:"))).unwrap();
            if clear.contains(&key) {
                assert_eq!(stored, line, "{flag} {value}: {key} stays in the clear");
            } else {
                assert!(stored.starts_with(&format!("{key}: ENC[")), "{flag} {value}: {key} is encrypted: {stored}");
            }
        }
        let field = format!("{}: {value}", flag.trim_start_matches("--").replace('-', "_"));
        assert!(out.contains(&field), "the metadata records {field}:\n{out}");
        sb.write("enc.yaml", &out);
        assert_eq!(sb.run(&["decrypt", "enc.yaml"]).ok().out(), doc, "{flag}");
    }
    let out = sb.run(&["encrypt", "--age", ALICE, "--mac-only-encrypted", "s.yaml"]).ok().out();
    assert!(out.contains("mac_only_encrypted: true"), "{out}");
    sb.run(&["encrypt", "--age", ALICE, "--encrypted-regex", "^p", "--unencrypted-suffix", "_pub", "s.yaml"])
        .code(8)
        .err_has("cannot use more than one");
}

#[test]
fn encrypt_refusals_use_sops_exit_codes() {
    let sb = Sandbox::new();
    sb.encrypt("enc.yaml", PLAIN, ALICE);
    sb.run(&["encrypt", "--age", ALICE, "enc.yaml"])
        .code(203)
        .err_has("contains a top-level entry called 'sops'")
        .err_has("already being encrypted");
    sb.write("empty.yaml", "");
    sb.run(&["encrypt", "--age", ALICE, "empty.yaml"]).code(92).err_has("File cannot be completely empty");
    sb.write("plain.yaml", PLAIN);
    sb.run(&["encrypt", "plain.yaml"])
        .code(1)
        .err_has("config file not found, or has no creation rules, and no keys provided through command line options");
    let missing = sb.path("missing.yaml");
    sb.run(&["encrypt", "--age", ALICE, "missing.yaml"])
        .code(100)
        .err_has(&format!("cannot operate on non-existent file \"{}\"", missing.display()));
    sb.run(&["encrypt", "--age", "bogus", "plain.yaml"]).code(1).err_has("unknown recipient type: \"bogus\"");
}

// --- decrypt ---------------------------------------------------------------------------------

#[test]
fn decrypt_to_stdout_output_file_in_place_and_from_stdin() {
    let sb = Sandbox::new();
    sb.encrypt("s.yaml", PLAIN, ALICE);
    let enc = sb.read("s.yaml");
    assert_eq!(sb.run(&["decrypt", "s.yaml"]).ok().out(), PLAIN);

    let r = sb.run(&["decrypt", "--output", "plain.yaml", "s.yaml"]).ok();
    assert!(r.stdout.is_empty());
    assert_eq!(sb.read_str("plain.yaml"), PLAIN);
    assert_eq!(mode(&sb.path("plain.yaml")), 0o600, "decrypted output is private");

    let fed = |args: &[&str]| run_with_stdin(&mut sb.cmd(args), Some(&enc));
    assert_eq!(fed(&["decrypt", "--input-type", "yaml"]).ok().out(), PLAIN);
    assert_eq!(fed(&["decrypt", "--filename-override", "x.yaml"]).ok().out(), PLAIN);
    fed(&["decrypt", "-i", "--input-type", "yaml"]).code(8);

    sb.run(&["decrypt", "-i", "--output", "x.yaml", "s.yaml"]).code(8);
    assert_eq!(sb.read("s.yaml"), enc);
    let r = sb.run(&["decrypt", "-i", "s.yaml"]).ok();
    assert!(r.stdout.is_empty());
    assert_eq!(sb.read_str("s.yaml"), PLAIN);
    assert_eq!(mode(&sb.path("s.yaml")), 0o600);
    assert_eq!(Sandbox::files_under(&sb.root), ["plain.yaml", "s.yaml"]);
}

#[test]
fn decrypt_extract() {
    let sb = Sandbox::new();
    sb.encrypt("s.yaml", PLAIN, ALICE);
    let ex = |path: &str| sb.run(&["decrypt", "--extract", path, "s.yaml"]);
    assert_eq!(ex(r#"["app"]["password"]"#).ok().stdout, b"hunter2", "a string is printed raw, no newline");
    assert_eq!(ex(r#"["list"][0]"#).ok().stdout, b"one");
    assert_eq!(ex(r#"["app"]"#).ok().out(), "user: admin\npassword: hunter2\nport: 8080\n");
    assert_eq!(ex(r#"["list"]"#).ok().out(), "- one\n- 2\n");
    assert_eq!(ex(r#"["app"]["port"]"#).ok().out(), "8080\n");
    let json = sb.run(&["decrypt", "--output-type", "json", "--extract", r#"["app"]"#, "s.yaml"]).ok();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("a map in the output format");
    assert_eq!(v, serde_json::json!({"user": "admin", "password": "hunter2", "port": 8080}));

    ex(r#"["app""#).code(91).err_has("error parsing --extract path");
    ex("app").code(91).err_has("error parsing --extract path");
    // A well-formed path that is not in the file is a plain error in sops (exit 1).
    let r = ex(r#"["app"]["nope"]"#).code(1).err_has("error truncating tree").err_has("nope");
    assert!(r.stdout.is_empty());
}

#[test]
fn ignore_mac_skips_the_mac_check() {
    let sb = Sandbox::new();
    sb.encrypt("s.yaml", PLAIN, ALICE);
    sb.write("t.yaml", tamper(&sb.read_str("s.yaml"), "mac: ENC[AES256_GCM,data:"));
    let r = sb.run(&["decrypt", "t.yaml"]).code(51).err_has("MAC");
    assert!(r.stdout.is_empty());
    assert_eq!(sb.run(&["decrypt", "--ignore-mac", "t.yaml"]).ok().out(), PLAIN);
}

#[test]
fn decryption_order_flag_and_environment() {
    let sb = Sandbox::new();
    sb.encrypt("s.yaml", PLAIN, ALICE);
    sb.run(&["decrypt", "--decryption-order", "age,age", "s.yaml"])
        .code(112)
        .err_has("Duplicate decryption key type: age");
    assert_eq!(sb.run(&["decrypt", "--decryption-order", "pgp,age", "s.yaml"]).ok().out(), PLAIN);
    run(sb.cmd(&["decrypt", "s.yaml"]).env("SOPS_DECRYPTION_ORDER", "age,age")).code(112);
}

#[test]
fn identities_from_every_sops_source() {
    let sb = Sandbox::new();
    // Fresh keys from the library: `right` is the file's recipient, `other` is not.
    let (right, other) = (Identity::generate(), Identity::generate());
    sb.encrypt("s.yaml", PLAIN, &right.recipient());
    let secret = |id: &Identity| id.to_secret_string().expect("x25519").expose().to_owned();
    let (right_key, other_key) = (secret(&right), secret(&other));
    // Decrypts with SOPS_AGE_KEY_FILE unset and `vars` set (`None`: removed).
    let dec = |vars: &[(&str, Option<&str>)]| {
        let mut c = sb.cmd(&["decrypt", "s.yaml"]);
        c.env_remove("SOPS_AGE_KEY_FILE");
        for (k, v) in vars {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        run(&mut c)
    };

    assert_eq!(dec(&[("SOPS_AGE_KEY", Some(&right_key))]).ok().out(), PLAIN);
    let several = format!("# comment line\n{other_key}\n{right_key}\n");
    assert_eq!(dec(&[("SOPS_AGE_KEY", Some(&several))]).ok().out(), PLAIN, "several keys, one a line");
    let spaced = format!("{other_key} {right_key}");
    assert_eq!(dec(&[("SOPS_AGE_KEY", Some(&spaced))]).ok().out(), PLAIN, "separated by whitespace");
    dec(&[("SOPS_AGE_KEY", Some(&other_key))]).code(128);

    let file = sb.write("keys.txt", format!("{other_key}\n{right_key}\n"));
    assert_eq!(dec(&[("SOPS_AGE_KEY_FILE", file.to_str())]).ok().out(), PLAIN);

    let cmd = script(&sb.home.join("keycmd.sh"), &format!("echo '{right_key}'"));
    assert_eq!(dec(&[("SOPS_AGE_KEY_CMD", cmd.to_str())]).ok().out(), PLAIN);

    // The default file: $XDG_CONFIG_HOME/sops/age/keys.txt …
    let xdg = sb.path("xdg");
    std::fs::create_dir_all(xdg.join("sops/age")).unwrap();
    std::fs::write(xdg.join("sops/age/keys.txt"), &right_key).unwrap();
    assert_eq!(dec(&[("XDG_CONFIG_HOME", xdg.to_str())]).ok().out(), PLAIN);
    // … or ~/.config/sops/age/keys.txt without XDG_CONFIG_HOME.
    dec(&[("XDG_CONFIG_HOME", None)]).code(128);
    let home_keys = sb.home.join(".config/sops/age/keys.txt");
    std::fs::create_dir_all(home_keys.parent().unwrap()).unwrap();
    std::fs::write(&home_keys, &right_key).unwrap();
    assert_eq!(dec(&[("XDG_CONFIG_HOME", None)]).ok().out(), PLAIN);
}

#[test]
fn no_identities_fail_with_sops_report() {
    let sb = Sandbox::new();
    sb.encrypt("s.yaml", PLAIN, ALICE);
    let r = run(sb.cmd(&["decrypt", "s.yaml"]).env_remove("SOPS_AGE_KEY_FILE")).code(128);
    assert!(r.stdout.is_empty());
    // sops word-wraps the report ("      | " continuation lines); undo that before searching.
    let flat = r.stderr.replace("\n      | ", " ");
    let keys_txt = sb.xdg.join("sops/age/keys.txt");
    for needle in [
        "Failed to get the data key required to decrypt the SOPS file.",
        "Group 0: FAILED",
        &format!("{ALICE}: FAILED"),
        "failed to load age identities. Did not find keys in",
        "'SOPS_AGE_KEY',",
        "'SOPS_AGE_KEY_FILE',",
        "'SOPS_AGE_KEY_CMD', and",
        &format!("'{}'.", keys_txt.display()),
        "Recovery failed because no master key was able to decrypt the file.",
    ] {
        assert!(flat.contains(needle), "missing {needle:?} in:\n{}", r.stderr);
    }
}

// --- rotate ----------------------------------------------------------------------------------

#[test]
fn rotate_changes_the_data_key_and_keeps_the_ivs() {
    let sb = Sandbox::new();
    sb.encrypt("s.yaml", PLAIN, ALICE);
    let before = sb.read_str("s.yaml");
    let after = sb.run(&["rotate", "s.yaml"]).ok().out();
    assert_eq!(sb.read_str("s.yaml"), before, "without -i the file is not touched");

    assert_ne!(enc_blocks(&before), enc_blocks(&after), "a new data key is wrapped");
    let (old, new) = (value_envelopes(&before), value_envelopes(&after));
    assert_eq!(old.len(), 6, "5 values and a comment: {old:?}");
    assert_eq!(old.len(), new.len());
    for ((iv0, tag0, _), (iv1, tag1, _)) in old.iter().zip(&new) {
        assert_eq!(iv0, iv1, "unchanged values keep their IVs");
        assert_ne!(tag0, tag1, "… but are encrypted with the new key");
    }
    let data = |v: &[(String, String, String)]| v.iter().map(|e| e.2.clone()).collect::<Vec<_>>();
    assert_ne!(data(&old), data(&new));
    sb.write("r.yaml", &after);
    assert_eq!(sb.run(&["decrypt", "r.yaml"]).ok().out(), PLAIN);

    let r = sb.run(&["rotate", "-i", "s.yaml"]).ok();
    assert!(r.stdout.is_empty());
    assert_ne!(sb.read_str("s.yaml"), before);
    assert_eq!(sb.run(&["decrypt", "s.yaml"]).ok().out(), PLAIN);
}

#[test]
fn rotate_adds_and_removes_age_recipients() {
    let sb = Sandbox::new();
    sb.encrypt("s.yaml", PLAIN, ALICE);
    sb.run(&["rotate", "-i", "--add-age", BOB, "s.yaml"]).ok();
    assert_eq!(recipients(&sb.read_str("s.yaml")), [ALICE, BOB]);
    assert_eq!(decrypt_as(&sb, "alice", "s.yaml").ok().out(), PLAIN);
    assert_eq!(decrypt_as(&sb, "bob", "s.yaml").ok().out(), PLAIN);
    decrypt_as(&sb, "carol", "s.yaml").code(128);

    sb.run(&["rotate", "-i", "--rm-age", ALICE, "s.yaml"]).ok();
    assert_eq!(recipients(&sb.read_str("s.yaml")), [BOB]);
    decrypt_as(&sb, "alice", "s.yaml").code(128);
    assert_eq!(decrypt_as(&sb, "bob", "s.yaml").ok().out(), PLAIN);

    let before = sb.read("s.yaml");
    run_as(&sb, "bob", &["rotate", "-i", "--add-age", "bogus", "s.yaml"]).code(1).err_has("unknown recipient type");
    assert_eq!(sb.read("s.yaml"), before);
}

#[test]
fn rotate_a_directory_tree() {
    let sb = Sandbox::new();
    sb.encrypt("tree/a.yaml", PLAIN, ALICE);
    sb.encrypt("tree/sub/b.json", r#"{"user": "admin", "password": "hunter2"}"#, ALICE);
    sb.encrypt("tree/c.env", "USER=admin\nPASSWORD=hunter2\n", ALICE);
    sb.encrypt("tree/sub/d.ini", "[db]\nuser = admin\npassword = hunter2\n", ALICE);
    sb.encrypt("tree/e.bin", "raw secret bytes", ALICE);
    sb.encrypt("tree/.git/hidden.yaml", PLAIN, ALICE);
    sb.encrypt("tree/sub/wrong.yaml", PLAIN, BOB);
    sb.write("tree/plain.yaml", "plain: file\n");

    let files = Sandbox::files_under(&sb.path("tree"));
    let read_all = || files.iter().map(|f| sb.read(&format!("tree/{f}"))).collect::<Vec<_>>();
    let before = read_all();
    let rotated = ["a.yaml", "c.env", "e.bin", "sub/b.json", "sub/d.ini"];
    let plain_before: Vec<_> = rotated.iter().map(|f| sb.run(&["decrypt", &format!("tree/{f}")]).ok().stdout).collect();

    let r = sb.run(&["rotate", "tree"]);
    let r = r.code(1).err_has("sub/wrong.yaml: Failed to get the data key");
    assert!(
        r.stderr.contains("rotated 5 files, 0 unchanged, 1 skipped (not sops files), 1 failed"),
        "summary line:\n{}",
        r.stderr
    );
    assert_eq!(Sandbox::files_under(&sb.path("tree")), files, "no file added or removed");
    for (f, old) in files.iter().zip(&before) {
        let now = sb.read(&format!("tree/{f}"));
        if rotated.contains(&f.as_str()) {
            assert_ne!(&now, old, "{f} is rotated");
        } else {
            assert_eq!(&now, old, "{f} is left byte-identical");
        }
    }
    for (f, plain) in rotated.iter().zip(&plain_before) {
        assert_eq!(&sb.run(&["decrypt", &format!("tree/{f}")]).ok().stdout, plain, "{f} decrypts as before");
    }
}

// --- updatekeys ------------------------------------------------------------------------------

/// Lines that `updatekeys` must not change: the values, the MAC and `lastmodified`.
fn values_mac_and_time(text: &str) -> Vec<&str> {
    text.lines().filter(|l| l.contains("ENC[") || l.contains("lastmodified:") || !l.starts_with(' ')).collect()
}

#[test]
fn updatekeys_rewraps_for_the_configured_recipients() {
    let sb = Sandbox::new();
    config_with(&sb, ALICE);
    sb.encrypt("s.yaml", PLAIN, ALICE);
    let before = sb.read_str("s.yaml");
    config_with(&sb, &format!("{ALICE},{BOB}"));
    let r = sb.run(&["updatekeys", "-y", "s.yaml"]).ok().err_has("File s.yaml synced with new keys");
    assert!(r.out().contains(&format!("+++ {BOB}")), "the diff is shown:\n{}", r.out());
    let after = sb.read_str("s.yaml");
    assert_eq!(recipients(&after), [ALICE, BOB]);
    assert_eq!(values_mac_and_time(&before), values_mac_and_time(&after), "values, MAC and lastmodified stay");
    assert_eq!(decrypt_as(&sb, "bob", "s.yaml").ok().out(), PLAIN);
    assert_eq!(decrypt_as(&sb, "alice", "s.yaml").ok().out(), PLAIN);

    config_with(&sb, BOB);
    sb.run(&["updatekeys", "--yes", "s.yaml"]).ok();
    assert_eq!(recipients(&sb.read_str("s.yaml")), [BOB]);
    decrypt_as(&sb, "alice", "s.yaml").code(128);
}

#[test]
fn updatekeys_leaves_an_up_to_date_file_alone() {
    let sb = Sandbox::new();
    config_with(&sb, ALICE);
    let path = sb.encrypt("s.yaml", PLAIN, ALICE);
    let (bytes, ino, mtime) = (sb.read("s.yaml"), inode(&path), std::fs::metadata(&path).unwrap().modified().unwrap());
    sb.run(&["updatekeys", "-y", "s.yaml"]).ok().err_has("File s.yaml already up to date");
    assert_eq!(sb.read("s.yaml"), bytes);
    assert_eq!(inode(&path), ino, "not rewritten");
    assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), mtime);
}

#[test]
fn updatekeys_without_yes_and_without_a_terminal_writes_nothing() {
    let sb = Sandbox::new();
    config_with(&sb, ALICE);
    let path = sb.encrypt("s.yaml", PLAIN, ALICE);
    config_with(&sb, &format!("{ALICE},{BOB}"));
    let (bytes, ino) = (sb.read("s.yaml"), inode(&path));
    sb.run(&["updatekeys", "s.yaml"]).clean_failure().err_has("not a terminal").err_has("--yes");
    assert_eq!(sb.read("s.yaml"), bytes);
    assert_eq!(inode(&path), ino);
}

#[test]
fn updatekeys_a_directory() {
    let sb = Sandbox::new();
    config_with(&sb, ALICE);
    sb.encrypt("secrets/a.yaml", PLAIN, ALICE);
    sb.encrypt("secrets/sub/b.json", r#"{"k": "v"}"#, ALICE);
    sb.encrypt("secrets/c.env", "K=v\n", ALICE);
    sb.write("secrets/plain.yaml", "plain: x\n");
    config_with(&sb, &format!("{ALICE},{BOB}"));
    sb.run(&["updatekeys", "-y", "secrets"])
        .ok()
        .err_has("updated 3 files, 0 unchanged, 1 skipped (not sops files), 0 failed");
    for f in ["secrets/a.yaml", "secrets/sub/b.json", "secrets/c.env"] {
        decrypt_as(&sb, "bob", f).ok();
    }
    assert_eq!(sb.read_str("secrets/plain.yaml"), "plain: x\n");
    sb.run(&["updatekeys", "-y", "secrets"]).ok().err_has("updated 0 files, 3 unchanged");
}

// --- set / unset -----------------------------------------------------------------------------

/// Asserts that only lines matching `touched` (and `lastmodified`/`mac`) differ.
#[track_caller]
fn only_changed(before: &str, after: &str, touched: &[&str]) {
    let (b, a): (Vec<_>, Vec<_>) = (before.lines().collect(), after.lines().collect());
    assert_eq!(b.len(), a.len(), "same number of lines:\n{before}\n---\n{after}");
    let mut changed = Vec::new();
    for (x, y) in b.iter().zip(&a) {
        if x != y {
            let t = x.trim_start();
            let allowed = t.starts_with("lastmodified:")
                || t.starts_with("mac:")
                || touched.iter().any(|k| t.starts_with(&format!("{k}:")));
            assert!(allowed, "unexpected change:\n- {x}\n+ {y}");
            changed.push(t.split(':').next().unwrap().to_owned());
        }
    }
    for k in touched {
        assert!(changed.iter().any(|c| c == k), "{k} should have changed");
    }
}

#[test]
fn set_changes_only_the_touched_value() {
    let sb = Sandbox::new();
    sb.encrypt("s.yaml", PLAIN, ALICE);
    let before = sb.read_str("s.yaml");
    sb.run(&["set", "s.yaml", r#"["app"]["password"]"#, r#""s3cret""#]).ok();
    let after = sb.read_str("s.yaml");
    only_changed(&before, &after, &["password"]);
    assert_eq!(sb.run(&["decrypt", "s.yaml"]).ok().out(), PLAIN.replace("hunter2", "s3cret"));
}

#[test]
fn set_numbers_booleans_and_maps() {
    let sb = Sandbox::new();
    sb.encrypt("s.yaml", PLAIN, ALICE);
    // sops reads the value with Go's encoding/json: every number is a float64.
    sb.run(&["set", "s.yaml", r#"["app"]["port"]"#, "9090"]).ok();
    let text = sb.read_str("s.yaml");
    let port = text.lines().find(|l| l.trim_start().starts_with("port:")).unwrap();
    assert_eq!(enc_field(port, "type"), Some("float"), "{port}");
    assert_eq!(sb.run(&["decrypt", "--extract", r#"["app"]["port"]"#, "s.yaml"]).ok().out(), "9090\n");

    sb.run(&["set", "s.yaml", r#"["app"]["enabled"]"#, "true"]).ok();
    let text = sb.read_str("s.yaml");
    let line = text.lines().find(|l| l.trim_start().starts_with("enabled:")).unwrap();
    assert_eq!(enc_field(line, "type"), Some("bool"), "{line}");

    sb.run(&["set", "s.yaml", r#"["db"]"#, r#"{"host": "db.local", "opts": {"tls": "on"}}"#]).ok();
    assert_eq!(
        sb.run(&["decrypt", "--extract", r#"["db"]"#, "s.yaml"]).ok().out(),
        "host: db.local\nopts:\n    tls: \"on\"\n",
        "a JSON map becomes a branch"
    );
    sb.run(&["set", "s.yaml", r#"["list"][1]"#, r#""two""#]).ok();
    assert_eq!(sb.run(&["decrypt", "--extract", r#"["list"]"#, "s.yaml"]).ok().out(), "- one\n- two\n");
}

#[test]
fn set_idempotent_writes_only_on_change() {
    let sb = Sandbox::new();
    let path = sb.encrypt("s.yaml", PLAIN, ALICE);
    let (bytes, ino) = (sb.read("s.yaml"), inode(&path));
    sb.run(&["set", "--idempotent", "s.yaml", r#"["app"]["user"]"#, r#""admin""#]).ok();
    assert_eq!(sb.read("s.yaml"), bytes);
    assert_eq!(inode(&path), ino, "--idempotent: the same value is not written");
    // Without --idempotent sops writes the file anyway (an atomic rewrite: a new inode).
    sb.run(&["set", "s.yaml", r#"["app"]["user"]"#, r#""admin""#]).ok();
    assert_ne!(inode(&path), ino);
    sb.run(&["set", "--idempotent", "s.yaml", r#"["app"]["user"]"#, r#""root""#]).ok();
    assert_eq!(sb.run(&["decrypt", "--extract", r#"["app"]["user"]"#, "s.yaml"]).ok().stdout, b"root");
}

#[test]
fn set_value_from_stdin_and_from_a_file() {
    let sb = Sandbox::new();
    sb.encrypt("s.yaml", PLAIN, ALICE);
    run_with_stdin(&mut sb.cmd(&["set", "--value-stdin", "s.yaml", r#"["a"]"#]), Some(b"\"from stdin\"\n")).ok();
    sb.write("value.json", r#"{"nested": "from file"}"#);
    sb.run(&["set", "--value-file", "s.yaml", r#"["b"]"#, "value.json"]).ok();
    let ex = |p: &str| sb.run(&["decrypt", "--extract", p, "s.yaml"]).ok().out();
    assert_eq!(ex(r#"["a"]"#), "from stdin");
    assert_eq!(ex(r#"["b"]["nested"]"#), "from file");
    sb.run(&["set", "--value-file", "--value-stdin", "s.yaml", r#"["c"]"#, "value.json"]).code(8);
}

#[test]
fn set_and_unset_errors_and_unset() {
    let sb = Sandbox::new();
    let path = sb.encrypt("s.yaml", PLAIN, ALICE);
    let (bytes, ino) = (sb.read("s.yaml"), inode(&path));
    sb.run(&["set", "s.yaml", r#"["a"]"#, "not json"]).code(7).err_has("Value for --set is not valid JSON");
    sb.run(&["set", "s.yaml", r#"["a"]"#, "[1, 2]"]).code(7).err_has("Invalid --set value format");
    sb.run(&["set", "s.yaml", r#"["a""#, r#""v""#]).code(7).err_has("Invalid set index format");
    sb.run(&["unset", "s.yaml", "a"]).code(7).err_has("Invalid unset index format");
    sb.run(&["unset", "s.yaml", r#"["app"]["nope"]"#]).code(1).err_has("Key not found: nope");
    sb.run(&["unset", "--idempotent", "s.yaml", r#"["app"]["nope"]"#]).ok();
    assert_eq!(sb.read("s.yaml"), bytes, "failed and idempotent no-op commands write nothing");
    assert_eq!(inode(&path), ino);

    let before = sb.read_str("s.yaml");
    sb.run(&["unset", "s.yaml", r#"["app"]["port"]"#]).ok();
    let after = sb.read_str("s.yaml");
    assert_eq!(sb.run(&["decrypt", "s.yaml"]).ok().out(), PLAIN.replace("    port: 8080\n", ""));
    let kept: Vec<_> = before.lines().filter(|l| !l.trim_start().starts_with("port:")).collect();
    for line in kept.iter().filter(|l| l.contains("ENC[") && !l.contains("mac:")) {
        assert!(after.contains(*line), "unset keeps the other values' ciphertext: {line}");
    }
}

// --- edit ------------------------------------------------------------------------------------

/// `EDITOR` for the tests: a shell script that runs `body` with the file as `$1`.
fn editor(sb: &Sandbox, body: &str) -> std::path::PathBuf {
    script(&sb.home.join(format!("editor-{}.sh", body.len())), body)
}

#[test]
fn edit_reencrypts_keeps_unchanged_ciphertext_and_bumps_the_version() {
    let sb = Sandbox::new();
    // A file the real sops 3.11 wrote.
    let fixture = String::from_utf8(crate::support::read("sops-upstream/gen311_basic.enc.yaml")).unwrap();
    sb.write("g.yaml", &fixture);
    let key = data("sops-upstream/gen311_age_key.txt");
    let ed = editor(&sb, r#"sed -i 's/hunter2/hunter3/' "$1""#);
    run(sb.cmd(&["edit", "g.yaml"]).env("EDITOR", &ed).env("SOPS_AGE_KEY_FILE", &key)).ok();

    let after = sb.read_str("g.yaml");
    assert!(fixture.contains("version: 3.11.0"));
    let version = format!("version: {}", sealops::sops::metadata::FORMAT_VERSION);
    assert!(after.contains(&version), "edit bumps the version to {version}:\n{after}");
    let body = |t: &str| t.split("\nsops:\n").next().unwrap().lines().map(str::to_owned).collect::<Vec<_>>();
    let (old, new) = (body(&fixture), body(&after));
    assert_eq!(old.len(), new.len());
    for (o, n) in old.iter().zip(&new) {
        if o.trim_start().starts_with("password:") {
            assert_ne!(o, n);
        } else {
            assert_eq!(o, n, "unchanged values keep their ciphertext");
        }
    }
    let pw = run(sb.cmd(&["decrypt", "--extract", r#"["app"]["password"]"#, "g.yaml"]).env("SOPS_AGE_KEY_FILE", &key));
    assert_eq!(pw.ok().stdout, b"hunter3");
    assert!(
        Sandbox::files_under(&sb.tmp).is_empty(),
        "the plaintext copy is gone: {:?}",
        Sandbox::files_under(&sb.tmp)
    );
    assert_eq!(Sandbox::files_under(&sb.root), ["g.yaml"]);
}

#[test]
fn edit_without_changes_exits_200() {
    let sb = Sandbox::new();
    let path = sb.encrypt("s.yaml", PLAIN, ALICE);
    let (bytes, ino) = (sb.read("s.yaml"), inode(&path));
    let ed = editor(&sb, "true");
    run(sb.cmd(&["edit", "s.yaml"]).env("EDITOR", &ed)).code(200).err_has("File has not changed, exiting.");
    assert_eq!(sb.read("s.yaml"), bytes);
    assert_eq!(inode(&path), ino);
    assert!(Sandbox::files_under(&sb.tmp).is_empty());
}

#[test]
fn edit_that_breaks_the_file_saves_nothing() {
    let sb = Sandbox::new();
    let path = sb.encrypt("s.yaml", PLAIN, ALICE);
    let (bytes, ino) = (sb.read("s.yaml"), inode(&path));
    let ed = editor(&sb, r#"echo "$1" > "$HOME/edited-path"; echo 'broken: [unclosed' >> "$1""#);
    run(sb.cmd(&["edit", "s.yaml"]).env("EDITOR", &ed)).clean_failure().err_has("YAML").err_has("nothing was saved");
    let edited = std::path::PathBuf::from(std::fs::read_to_string(sb.home.join("edited-path")).unwrap().trim());
    assert!(edited.starts_with(&sb.tmp), "the plaintext copy is under TMPDIR: {}", edited.display());
    assert!(!edited.exists());
    assert_eq!(sb.read("s.yaml"), bytes);
    assert_eq!(inode(&path), ino);
    assert!(Sandbox::files_under(&sb.tmp).is_empty(), "no temporary file: {:?}", Sandbox::files_under(&sb.tmp));
    assert_eq!(Sandbox::files_under(&sb.root), ["s.yaml"]);

    // An editor that fails: nothing saved either.
    let ed = editor(&sb, r#"sed -i 's/hunter2/x/' "$1"; exit 3"#);
    run(sb.cmd(&["edit", "s.yaml"]).env("EDITOR", &ed)).clean_failure();
    assert_eq!(sb.read("s.yaml"), bytes);
    assert!(Sandbox::files_under(&sb.tmp).is_empty());
}

#[test]
fn edit_a_new_file_starts_from_the_example_and_uses_the_creation_rule() {
    let sb = Sandbox::new();
    sb.write(".sops.yaml", format!("creation_rules:\n  - path_regex: ^new/\n    age: {BOB}\n  - age: {ALICE}\n"));
    std::fs::create_dir_all(sb.path("new")).unwrap();
    let ed = editor(&sb, r#"sed -i 's/example_value/my_value/' "$1""#);
    run(sb.cmd(&["edit", "new/x.yaml"]).env("EDITOR", &ed)).ok();
    let text = sb.read_str("new/x.yaml");
    assert_eq!(mode(&sb.path("new/x.yaml")), 0o600);
    assert_eq!(recipients(&text), [BOB]);
    assert!(!text.contains("my_value"));
    let plain = decrypt_as(&sb, "bob", "new/x.yaml").ok().out();
    assert!(
        plain.starts_with("hello: Welcome to SOPS! Edit this file as you please!\nexample_key: my_value\n"),
        "{plain}"
    );

    // Leaving the example as it is creates nothing.
    let ed = editor(&sb, "true");
    run(sb.cmd(&["edit", "new/y.yaml"]).env("EDITOR", &ed)).code(200);
    assert!(!sb.path("new/y.yaml").exists());
}

// --- exec-env, exec-file, filestatus ---------------------------------------------------------

#[test]
fn exec_env_passes_values_and_the_exit_code() {
    let sb = Sandbox::new();
    sb.encrypt("env.yaml", "FOO: bar\nNUM: 3\n", ALICE);
    let show = r#"echo "$FOO $NUM ${FROM_PARENT:-unset}""#;
    let r = run(sb.cmd(&["exec-env", "env.yaml", show]).env("FROM_PARENT", "yes")).ok();
    assert_eq!(r.out(), "bar 3 yes\n");
    let r = run(sb.cmd(&["exec-env", "--pristine", "env.yaml", show]).env("FROM_PARENT", "yes")).ok();
    assert_eq!(r.out(), "bar 3 unset\n", "--pristine: only the file's values");
    sb.run(&["exec-env", "env.yaml", "exit 42"]).code(42);

    sb.encrypt("nested.yaml", PLAIN, ALICE);
    sb.run(&["exec-env", "nested.yaml", "touch ran"]).code(1).err_has("complex value").err_has("app");
    assert!(!sb.path("ran").exists(), "the command does not run");
}

#[test]
fn exec_file_hands_over_a_temporary_file() {
    let sb = Sandbox::new();
    sb.encrypt("s.yaml", PLAIN, ALICE);
    let r = sb.run(&["exec-file", "s.yaml", r#"test -p {} && echo fifo; cat {}; echo "path={}""#]).ok();
    let out = r.out();
    let rest = out.strip_prefix("fifo\n").unwrap_or_else(|| panic!("a FIFO by default:\n{out}"));
    let (content, path) = rest.split_once("path=").unwrap();
    assert_eq!(content, PLAIN);
    let path = Path::new(path.trim());
    assert!(path.starts_with(&sb.tmp), "{} is under TMPDIR", path.display());
    assert!(!path.exists());

    let r = sb.run(&["exec-file", "--no-fifo", "s.yaml", "test -f {} && ! test -p {} && ls -l {} && cat {}"]).ok();
    let (listing, content) = r.out().split_once('\n').map(|(a, b)| (a.to_owned(), b.to_owned())).unwrap();
    assert!(listing.starts_with("-rw-------"), "a private regular file: {listing}");
    assert_eq!(content, PLAIN);
    let r = sb.run(&["exec-file", "--filename", "x.json", "--output-type", "json", "s.yaml", "basename {}; cat {}"]);
    let out = r.ok().out();
    let (name, json) = out.split_once('\n').unwrap();
    assert_eq!(name, "x.json");
    assert_eq!(serde_json::from_str::<serde_json::Value>(json).unwrap()["app"]["password"], "hunter2");
    assert!(Sandbox::files_under(&sb.tmp).is_empty());
}

#[test]
fn exec_file_cleans_up_when_the_command_fails() {
    let sb = Sandbox::new();
    sb.encrypt("s.yaml", PLAIN, ALICE);
    sb.run(&["exec-file", "--no-fifo", "s.yaml", "cat {} > /dev/null; exit 3"]).code(3);
    assert!(Sandbox::files_under(&sb.tmp).is_empty(), "plaintext left behind: {:?}", Sandbox::files_under(&sb.tmp));
    // The command never opens the FIFO: we still finish, and clean up.
    sb.run(&["exec-file", "s.yaml", "exit 4"]).code(4);
    assert!(Sandbox::files_under(&sb.tmp).is_empty(), "FIFO left behind: {:?}", Sandbox::files_under(&sb.tmp));
}

#[test]
fn filestatus_tells_encrypted_from_plain() {
    let sb = Sandbox::new();
    sb.encrypt("enc.yaml", PLAIN, ALICE);
    sb.write("plain.yaml", PLAIN);
    assert_eq!(sb.run(&["filestatus", "enc.yaml"]).ok().out(), "{\"encrypted\":true}\n");
    assert_eq!(sb.run(&["filestatus", "plain.yaml"]).ok().out(), "{\"encrypted\":false}\n");
    // sops metadata without a MAC is not "encrypted".
    let no_mac: String = sb
        .read_str("enc.yaml")
        .lines()
        .filter(|l| !l.trim_start().starts_with("mac:"))
        .map(|l| format!("{l}\n"))
        .collect();
    sb.write("nomac.yaml", no_mac);
    assert_eq!(sb.run(&["filestatus", "nomac.yaml"]).ok().out(), "{\"encrypted\":false}\n");
    sb.encrypt("enc.json", r#"{"a": "b"}"#, ALICE);
    assert_eq!(sb.run(&["filestatus", "enc.json"]).ok().out(), "{\"encrypted\":true}\n");
}

// --- the `sops` command line -----------------------------------------------------------------

#[test]
fn sops_command_lines_through_a_link_named_sops() {
    let sb = Sandbox::new();
    let sops = sb.sops_link();
    let s = |args: &[&str]| run(&mut sb.cmd_via(&sops, args));
    sb.write("s.yaml", PLAIN);

    let enc = s(&["-e", "--age", ALICE, "s.yaml"]).ok().out();
    assert_eq!(recipients(&enc), [ALICE]);
    sb.write("e.yaml", &enc);
    assert_eq!(s(&["-d", "e.yaml"]).ok().out(), PLAIN);
    assert_eq!(s(&["decrypt", "e.yaml"]).ok().out(), PLAIN);
    assert_eq!(s(&["--decrypt", "--extract", r#"["app"]["user"]"#, "e.yaml"]).ok().stdout, b"admin");
    assert!(s(&["--version"]).ok().out().starts_with("sops 3."));

    s(&["--set", r#"["k"] "v""#, "e.yaml"]).ok();
    assert_eq!(s(&["-d", "--extract", r#"["k"]"#, "e.yaml"]).ok().stdout, b"v");
    // sops splits at the first "] ": the value may hold brackets. `-i` is accepted (and moot).
    s(&["-i", "--set", r#"["m"] {"a": [1, 2]}"#, "e.yaml"]).ok();
    assert_eq!(s(&["-d", "--extract", r#"["m"]["a"][1]"#, "e.yaml"]).ok().out(), "2\n");

    let before = sb.read_str("e.yaml");
    let r = s(&["-r", "-i", "e.yaml"]).ok();
    assert!(r.stdout.is_empty());
    let after = sb.read_str("e.yaml");
    assert_ne!(enc_blocks(&before), enc_blocks(&after));
    assert_eq!(s(&["-d", "--extract", r#"["k"]"#, "e.yaml"]).ok().stdout, b"v");

    s(&["-e", "-i", "--age", ALICE, "s.yaml"]).ok();
    assert!(sb.read_str("s.yaml").contains("\nsops:\n"));
    assert_eq!(s(&["-d", "s.yaml"]).ok().out(), PLAIN);
    // `sops file` is edit.
    let ed = editor(&sb, r#"sed -i 's/admin/root/' "$1""#);
    run(sb.cmd_via(&sops, &["s.yaml"]).env("EDITOR", &ed)).ok();
    assert_eq!(s(&["-d", "--extract", r#"["app"]["user"]"#, "s.yaml"]).ok().stdout, b"root");
}

// --- atomicity -------------------------------------------------------------------------------

#[test]
fn failed_operations_leave_the_input_byte_identical() {
    let sb = Sandbox::new();
    let path = sb.encrypt("s.yaml", PLAIN, ALICE);
    let (bytes, ino) = (sb.read("s.yaml"), inode(&path));
    run_as(&sb, "carol", &["decrypt", "-i", "s.yaml"]).code(128);
    run_as(&sb, "carol", &["rotate", "-i", "s.yaml"]).code(128);
    run_as(&sb, "carol", &["set", "s.yaml", r#"["a"]"#, r#""b""#]).code(128);
    run_as(&sb, "carol", &["unset", "s.yaml", r#"["app"]"#]).code(128);
    assert_eq!(sb.read("s.yaml"), bytes);
    assert_eq!(inode(&path), ino);

    sb.write("ns.yaml", "1: a\nb: c\n");
    sb.run(&["encrypt", "-i", "--age", ALICE, "ns.yaml"]).code(23).err_has("non-string key");
    assert_eq!(sb.read_str("ns.yaml"), "1: a\nb: c\n");
    assert_eq!(Sandbox::files_under(&sb.root), ["ns.yaml", "s.yaml"], "no stray temporary files");
    assert!(Sandbox::files_under(&sb.tmp).is_empty());
}

#[test]
fn in_place_writes_go_through_symlinks() {
    let sb = Sandbox::new();
    let real = sb.write("real/s.yaml", PLAIN);
    std::os::unix::fs::symlink("real/s.yaml", sb.path("link.yaml")).unwrap();
    sb.run(&["encrypt", "-i", "--age", ALICE, "link.yaml"]).ok();
    assert!(std::fs::symlink_metadata(sb.path("link.yaml")).unwrap().file_type().is_symlink(), "still a link");
    let text = std::fs::read_to_string(&real).unwrap();
    assert!(text.contains("\nsops:\n") && !text.contains("hunter2"), "the target is encrypted:\n{text}");
    assert_eq!(sb.run(&["decrypt", "link.yaml"]).ok().out(), PLAIN);
}
