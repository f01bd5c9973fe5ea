//! Log canary: a random marker in the values and comments of a file must come out where the
//! user asked for plaintext (decrypt's stdout, the child of exec-env) and nowhere else: not in
//! the logs at their most verbose, not in error messages, not in the tree's `Debug`.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::process::Command;

use sealops::sops::ops::{self, OpenOptions};
use sealops::sops::yaml::YamlStore;

use crate::support::{ALICE, Run, Sandbox, key_file, run, script, tamper};

/// 32 random hex digits, new for every run.
fn marker() -> String {
    let half = || RandomState::new().build_hasher().finish();
    format!("{:016x}{:016x}", half(), half())
}

/// A file with the marker in values, a nested value, a list element, and in comments (a
/// top-level one, a nested one and an inline one).
fn plaintext(m: &str) -> String {
    format!(
        "# top comment {m}\nUSER: admin\nPASSWORD: pw-{m} # inline {m}\nnested:\n    # nested comment {m}\n    token: tok-{m}\nlist:\n    - item-{m}\n"
    )
}

/// The loudest logging: `--verbose`, `RUST_LOG=trace`, JSON records.
fn loud(sb: &Sandbox, args: &[&str]) -> Command {
    let mut all = vec!["--verbose"];
    all.extend_from_slice(args);
    let mut c = sb.cmd(&all);
    c.env("RUST_LOG", "trace").env("SEALOPS_LOG_FORMAT", "json");
    c
}

/// stderr must not carry the marker; every line of it is a JSON log record or, at the end, the
/// error message.
#[track_caller]
fn quiet_about(r: &Run, m: &str) {
    assert!(!r.stderr.contains(m), "the marker reached stderr:\n{}", r.stderr);
}

#[test]
fn marker_only_on_stdout_with_json_trace_logs() {
    let m = marker();
    let sb = Sandbox::new();
    sb.encrypt("s.yaml", &plaintext(&m), ALICE);
    assert!(!sb.read_str("s.yaml").contains(&m), "the encrypted file holds no marker");

    let r = run(&mut loud(&sb, &["decrypt", "s.yaml"])).ok();
    assert_eq!(r.out(), plaintext(&m), "decrypt prints the plaintext, comments included");
    quiet_about(&r, &m);
    assert!(r.stderr.contains("\"level\":\"INFO\""), "the logs are on (else this test proves nothing):\n{}", r.stderr);
    for line in r.stderr.lines() {
        assert!(line.starts_with('{') && line.ends_with('}'), "a JSON record per line: {line}");
    }

    let r = run(&mut loud(&sb, &["decrypt", "--extract", r#"["nested"]"#, "s.yaml"])).ok();
    assert!(r.out().contains(&format!("tok-{m}")));
    quiet_about(&r, &m);

    let r = run(&mut loud(&sb, &["rotate", "-i", "s.yaml"])).ok();
    quiet_about(&r, &m);
    let r = run(&mut loud(&sb, &["set", "s.yaml", r#"["USER"]"#, &format!("\"set-{m}\"")])).ok();
    quiet_about(&r, &m);
    let r = run(&mut loud(&sb, &["unset", "s.yaml", r#"["list"]"#])).ok();
    quiet_about(&r, &m);

    let ed = script(&sb.home.join("ed.sh"), r#"sed -i 's/pw-/PW-/' "$1""#);
    let r = run(loud(&sb, &["edit", "s.yaml"]).env("EDITOR", &ed)).ok();
    quiet_about(&r, &m);
    // An edit that breaks the file: the parse error must not quote the edited text.
    let bad = script(&sb.home.join("bad.sh"), &format!(r#"echo 'broken: ["{m}' >> "$1""#));
    let r = run(loud(&sb, &["edit", "s.yaml"]).env("EDITOR", &bad)).clean_failure();
    quiet_about(&r, &m);
    let bad = script(&sb.home.join("bad2.sh"), &format!(r#"echo '{m}: [' >> "$1""#));
    run(loud(&sb, &["edit", "s.yaml"]).env("EDITOR", &bad)).clean_failure();

    let r = run(&mut loud(&sb, &["decrypt", "s.yaml"])).ok();
    assert!(r.out().contains(&format!("PW-{m}")) && r.out().contains(&format!("set-{m}")));
    quiet_about(&r, &m);

    let r = run(&mut loud(&sb, &["exec-file", "s.yaml", "cat {}"])).ok();
    assert!(r.out().contains(&format!("PW-{m}")));
    quiet_about(&r, &m);
}

#[test]
fn exec_env_child_sees_the_marker_but_logs_do_not() {
    let m = marker();
    let sb = Sandbox::new();
    sb.encrypt("env.yaml", &format!("# comment {m}\nPASSWORD: pw-{m}\nUSER: admin\n"), ALICE);
    let r = run(&mut loud(&sb, &["exec-env", "env.yaml", r#"echo "$PASSWORD""#])).ok();
    assert_eq!(r.out(), format!("pw-{m}\n"));
    quiet_about(&r, &m);
    // A failing child: our own messages still say nothing about the values.
    let r = run(&mut loud(&sb, &["exec-env", "env.yaml", "exit 9"])).code(9);
    quiet_about(&r, &m);
    // A value that cannot be an environment variable is named by its key only.
    sb.encrypt("nested.yaml", &plaintext(&m), ALICE);
    let r = run(&mut loud(&sb, &["exec-env", "nested.yaml", "true"])).clean_failure();
    quiet_about(&r, &m);
}

#[test]
fn marker_stays_out_of_text_logs() {
    let m = marker();
    let sb = Sandbox::new();
    sb.encrypt("s.yaml", &plaintext(&m), ALICE);
    let mut c = sb.cmd(&["--verbose", "--log-format", "text", "decrypt", "s.yaml"]);
    c.env("RUST_LOG", "trace");
    let r = run(&mut c).ok();
    assert_eq!(r.out(), plaintext(&m));
    quiet_about(&r, &m);
    assert!(r.stderr.contains("decrypted"), "the logs are on:\n{}", r.stderr);
    assert!(!r.stderr.contains('\u{1b}'), "no colour codes when stderr is not a terminal:\n{:?}", r.stderr);

    let mut c = sb.cmd(&["--verbose", "rotate", "-i", "s.yaml"]);
    c.env("RUST_LOG", "trace");
    quiet_about(&run(&mut c).ok(), &m);
}

#[test]
fn failures_print_no_marker() {
    let m = marker();
    let sb = Sandbox::new();
    sb.encrypt("s.yaml", &plaintext(&m), ALICE);
    let text = sb.read_str("s.yaml");

    sb.write("mac.yaml", tamper(&text, "mac: ENC[AES256_GCM,data:"));
    let r = run(&mut loud(&sb, &["decrypt", "mac.yaml"])).code(51);
    assert!(r.stdout.is_empty());
    quiet_about(&r, &m);
    let r = run(&mut loud(&sb, &["decrypt", "--ignore-mac", "mac.yaml"])).ok();
    assert_eq!(r.out(), plaintext(&m));
    quiet_about(&r, &m);

    sb.write("value.yaml", tamper(&text, "PASSWORD: ENC[AES256_GCM,data:"));
    let r = run(&mut loud(&sb, &["decrypt", "value.yaml"])).code(25);
    assert!(!r.out().contains(&m), "no partial plaintext on stdout");
    quiet_about(&r, &m);

    let r = run(loud(&sb, &["decrypt", "s.yaml"]).env("SOPS_AGE_KEY_FILE", key_file("carol"))).code(128);
    assert!(r.stdout.is_empty());
    quiet_about(&r, &m);

    let r = run(&mut loud(&sb, &["set", "s.yaml", r#"["PASSWORD"]"#, &format!("not json {m}")])).code(7);
    quiet_about(&r, &m);
}

#[test]
fn debug_of_the_decrypted_tree_shows_no_marker() {
    let m = marker();
    let sb = Sandbox::new();
    let path = sb.encrypt("s.yaml", &plaintext(&m), ALICE);
    let mut ring = sealops::crypto::Keyring::new();
    ring.add_age_file("alice", &std::fs::read_to_string(key_file("alice")).unwrap()).unwrap();
    let yaml = YamlStore::default();
    let opened = ops::open(&yaml, &std::fs::read(path).unwrap(), &ring, &OpenOptions::default()).unwrap();
    assert!(
        String::from_utf8(opened.emit_plain(&yaml).unwrap().expose().to_vec()).unwrap().contains(&format!("pw-{m}")),
        "the tree does hold the marker"
    );
    let shown = format!("{:?}", opened.docs);
    assert!(!shown.contains(&m), "Debug shows a value: {shown}");
    assert!(shown.contains("PASSWORD") && shown.contains("nested"), "Debug still shows the shape: {shown}");
    let pretty = format!("{:#?}", opened.docs);
    assert!(!pretty.contains(&m), "{pretty}");
}
