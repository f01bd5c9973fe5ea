//! The binary on bad input: tampered, truncated, hostile or simply wrong files. Each case checks
//! the exit code (sops's, where sops has one), a message that names the problem, that a failure
//! is an error and not a crash, and that a failed decryption prints no plaintext.

use std::time::Duration;

use crate::support::{ALICE, BOB, Run, Sandbox, run, run_with_timeout, tamper};

/// Values that must never show up when decryption fails.
const SECRETS: [&str; 3] = ["hunter2-value", "admin-value", "comment-text"];

const PLAIN: &str = "\
# comment-text
app:
    user: admin-value
    password: hunter2-value
list:
    - 1
";

/// A sandbox with `s.yaml` encrypted to alice.
fn encrypted() -> Sandbox {
    let sb = Sandbox::new();
    sb.encrypt("s.yaml", PLAIN, ALICE);
    sb
}

/// Asserts a clean failure that leaks no plaintext.
#[track_caller]
fn refused(run: Run) -> Run {
    let mut run = run.clean_failure();
    for s in SECRETS {
        run = run.leaks_nothing(s);
    }
    assert!(run.stdout.is_empty(), "nothing on stdout: {}", run.out());
    run
}

/// A limit for inputs built to be slow: generous for a debug build on a busy machine; the
/// point is "finishes", not "is fast".
const BOUNDED: Duration = Duration::from_secs(20);

#[test]
fn tampered_value_exits_25_and_names_the_field() {
    let sb = encrypted();
    sb.write("t.yaml", tamper(&sb.read_str("s.yaml"), "password: ENC[AES256_GCM,data:"));
    refused(sb.run(&["decrypt", "t.yaml"]))
        .code(25)
        .err_has("Error decrypting tree")
        .err_has("password")
        .err_has("message authentication failed");
    // --ignore-mac does not skip the per-value authentication.
    refused(sb.run(&["decrypt", "--ignore-mac", "t.yaml"])).code(25);
    // A comment that does not decrypt is kept as it is, with a warning: sops's rule for files
    // from versions that left comments in the clear (comments are not in the MAC either). The
    // envelope comes out, never the comment's plaintext.
    sb.write("c.yaml", tamper(&sb.read_str("s.yaml"), "#ENC[AES256_GCM,data:"));
    let r = sb.run(&["decrypt", "c.yaml"]).ok().err_has("Found possibly unencrypted comment");
    assert!(r.out().starts_with("#ENC[AES256_GCM,data:"), "{}", r.out());
    assert!(!r.out().contains("comment-text") && !r.stderr.contains("comment-text"));
}

#[test]
fn tampered_mac_exits_51() {
    let sb = encrypted();
    sb.write("t.yaml", tamper(&sb.read_str("s.yaml"), "mac: ENC[AES256_GCM,data:"));
    refused(sb.run(&["decrypt", "t.yaml"])).code(51).err_has("MAC");
    // The upstream negative vector: a MAC that decrypts but does not match.
    sb.write("u.yaml", crate::support::read("sops-upstream/gen311_tampered_mac.enc.yaml"));
    let key = crate::support::data("sops-upstream/gen311_age_key.txt");
    let r = run(sb.cmd(&["decrypt", "u.yaml"]).env("SOPS_AGE_KEY_FILE", &key));
    r.clean_failure().code(51).err_has("MAC mismatch. File has ");
}

#[test]
fn tampered_lastmodified_exits_51() {
    let sb = encrypted();
    let text = sb.read_str("s.yaml");
    let line = text.lines().find(|l| l.trim_start().starts_with("lastmodified:")).unwrap();
    sb.write("t.yaml", text.replace(line, "    lastmodified: \"2001-02-03T04:05:06Z\""));
    refused(sb.run(&["decrypt", "t.yaml"])).code(51).err_has("MAC");
}

#[test]
fn wrong_key_exits_128() {
    let sb = encrypted();
    let r = run(sb.cmd(&["decrypt", "s.yaml"]).env("SOPS_AGE_KEY_FILE", crate::support::key_file("carol")));
    refused(r)
        .code(128)
        .err_has("Failed to get the data key required to decrypt the SOPS file.")
        .err_has(&format!("{ALICE}: FAILED"));
}

#[test]
fn truncated_files_fail_cleanly() {
    let sb = Sandbox::new();
    sb.write("plain.yaml", PLAIN);
    sb.run(&["encrypt", "--age", ALICE, "--output-type", "json", "--output", "s.json", "plain.yaml"]).ok();
    sb.run(&["encrypt", "--age", ALICE, "--output", "s.yaml", "plain.yaml"]).ok();
    for name in ["s.yaml", "s.json"] {
        let bytes = sb.read(name);
        for eighth in 1..8 {
            let cut = format!("cut-{eighth}-{name}");
            sb.write(&cut, &bytes[..bytes.len() * eighth / 8]);
            let r = refused(sb.run(&["decrypt", &cut]));
            let named = ["Error unmarshalling input", "metadata", "MAC"].iter().any(|w| r.stderr.contains(w));
            assert!(named, "{cut}: the error names a parse or metadata problem:\n{}", r.stderr);
        }
    }
    // Cut before its sops block, the YAML is a plain file; cut in the block, a field is missing.
    let text = sb.read_str("s.yaml");
    sb.write("nosops.yaml", &text[..text.find("\nsops:").unwrap()]);
    refused(sb.run(&["decrypt", "nosops.yaml"])).code(1).err_has("sops metadata not found");
    sb.write("nolastmodified.yaml", &text[..text.find("    lastmodified:").unwrap()]);
    refused(sb.run(&["decrypt", "nolastmodified.yaml"])).code(1).err_has("lastmodified");
}

/// Deterministic "random" bytes (xorshift), so the test never changes under us.
fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

#[test]
fn garbage_bytes_in_every_format() {
    let sb = Sandbox::new();
    let junk = noise(4096);
    for (ext, format) in [("yaml", "YAML"), ("json", "JSON"), ("env", "dotenv"), ("ini", "INI")] {
        let name = format!("junk.{ext}");
        sb.write(&name, &junk);
        let unmarshalling = format!("Error unmarshalling input {format}");
        refused(sb.run(&["encrypt", "--age", ALICE, &name])).code(2).err_has(&unmarshalling);
        refused(sb.run(&["decrypt", &name])).code(2).err_has(&unmarshalling);
        assert_eq!(sb.read(&name), junk);
    }
    // The binary store takes any bytes to encrypt, but only its JSON envelope to decrypt.
    sb.write("junk.bin", &junk);
    refused(sb.run(&["decrypt", "junk.bin"])).code(2);
    assert_eq!(Sandbox::files_under(&sb.root).len(), 5, "nothing written");
}

#[test]
fn yaml_alias_bomb_is_refused() {
    let sb = Sandbox::new();
    // Billion laughs: 9 levels of 10 aliases each, 10^9 leaves when expanded.
    let mut doc = String::from(
        "a0: &a0 [\"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\"]\n",
    );
    for i in 1..=9 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        doc.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    sb.write("bomb.yaml", &doc);
    for args in [&["encrypt", "--age", ALICE, "bomb.yaml"][..], &["decrypt", "bomb.yaml"][..]] {
        let r = run_with_timeout(&mut sb.cmd(args), &sb.home, BOUNDED).expect("refused in bounded time");
        r.clean_failure().code(2).err_has("alias");
    }
}

#[test]
fn hundred_megabyte_input_is_refused_before_reading() {
    let sb = Sandbox::new();
    // Sparse: 100 MB of size, almost no disk, created instantly.
    let path = sb.write("big.yaml", "a: b\n");
    std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(100 << 20).unwrap();
    for args in [&["encrypt", "--age", ALICE, "big.yaml"][..], &["decrypt", "big.yaml"][..]] {
        let r = run_with_timeout(&mut sb.cmd(args), &sb.home, BOUNDED).expect("finishes");
        r.clean_failure()
            .code(2)
            .err_has("104857600 bytes")
            .err_has(&format!("limit of {} bytes", 64 << 20))
            .err_has("SEALOPS_MAX_INPUT_BYTES");
    }
    // The limit is configurable (and applies to standard input too).
    let r = run(sb.cmd(&["encrypt", "--age", ALICE, "big.yaml"]).env("SEALOPS_MAX_INPUT_BYTES", "1000"));
    r.code(2).err_has("limit of 1000 bytes");
    let r = crate::support::run_with_stdin(
        sb.cmd(&["encrypt", "--age", ALICE, "--filename-override", "x.yaml"]).env("SEALOPS_MAX_INPUT_BYTES", "1000"),
        Some(&vec![b'#'; 5000]),
    );
    r.code(2).err_has("standard input").err_has("limit of 1000 bytes");
}

#[test]
fn non_string_keys_exit_23() {
    let sb = Sandbox::new();
    sb.write("ns.yaml", "1: a\n");
    sb.run(&["encrypt", "--age", ALICE, "ns.yaml"])
        .clean_failure()
        .code(23)
        .err_has("Error encrypting tree")
        .err_has("Tree contains a non-string key (type int): 1. Only string keys are supported");
    sb.write("nested.yaml", "outer:\n    true: b\n");
    sb.run(&["encrypt", "--age", ALICE, "nested.yaml"]).code(23).err_has("non-string key (type bool)");
}

#[test]
fn duplicate_keys_exit_2() {
    let sb = Sandbox::new();
    sb.write("dup.yaml", "a: 1\nb: 2\na: 3\n");
    sb.run(&["encrypt", "--age", ALICE, "dup.yaml"])
        .clean_failure()
        .code(2)
        .err_has("Error unmarshalling input YAML")
        .err_has("line 3")
        .err_has("\"a\" already defined");
}

#[test]
fn top_level_yaml_list_exits_2() {
    let sb = Sandbox::new();
    sb.write("list.yaml", "- a\n- b\n");
    sb.run(&["encrypt", "--age", ALICE, "list.yaml"]).clean_failure().code(2).err_has("sequences are not supported");
}

#[test]
fn top_level_json_array_exits_2() {
    let sb = Sandbox::new();
    sb.write("list.json", "[1, 2]");
    sb.run(&["encrypt", "--age", ALICE, "list.json"]).clean_failure().code(2).err_has("top-level object");
}

#[test]
fn invalid_utf8_in_yaml_exits_2() {
    let sb = Sandbox::new();
    sb.write("bad.yaml", b"a: \"\xff\xfe\"\n");
    sb.run(&["encrypt", "--age", ALICE, "bad.yaml"]).clean_failure().code(2).err_has("invalid UTF-8");
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let sb = Sandbox::new();
    let depth = 100_000;
    let brackets = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    sb.write("deep.yaml", format!("a: {brackets}\n"));
    sb.write("deep-bare.yaml", format!("{brackets}\n"));
    sb.write("deep.json", format!("{{\"a\": {brackets}}}"));
    sb.write("deep-map.json", format!("{}{}", "{\"a\": ".repeat(depth), "}".repeat(depth)));
    for f in ["deep.yaml", "deep-bare.yaml", "deep.json", "deep-map.json"] {
        for args in [&["encrypt", "--age", ALICE, f][..], &["decrypt", f][..]] {
            let r = run_with_timeout(&mut sb.cmd(args), &sb.home, BOUNDED).expect("finishes");
            assert!(r.code.is_some(), "{f}: killed by a signal (stack overflow?):\n{}", r.stderr);
            r.clean_failure().code(2).err_has("Error unmarshalling input");
        }
    }
}

#[test]
fn invalid_enc_in_the_metadata_exits_128() {
    let sb = encrypted();
    let text = sb.read_str("s.yaml");
    // Replace the first line of the armored data key with garbage.
    let begin = "-----BEGIN AGE ENCRYPTED FILE-----\n";
    let at = text.find(begin).unwrap() + begin.len();
    let line_end = at + text[at..].find('\n').unwrap();
    let indent = &text[at..line_end][..text[at..line_end].len() - text[at..line_end].trim_start().len()];
    sb.write("t.yaml", format!("{}{indent}garbage!{}", &text[..at], &text[line_end..]));
    refused(sb.run(&["decrypt", "t.yaml"]))
        .code(128)
        .err_has("Failed to get the data key")
        .err_has(&format!("{ALICE}: FAILED"))
        .err_has("failed to create reader for decrypting sops data key with");
    // A key of a type the metadata does not know is a parse error, not a crash.
    sb.write("u.yaml", text.replace("    age:\n", "    age: 5\n    x:\n"));
    refused(sb.run(&["decrypt", "u.yaml"]));
}

#[test]
fn invalid_recipient_in_the_metadata() {
    let sb = encrypted();
    let text = sb.read_str("s.yaml");
    let bogus = ALICE.replacen("age1", "bogus1", 1);
    sb.write("t.yaml", text.replace(ALICE, &bogus));
    // Decryption does not use the recipient (the identities are tried on `enc`), as in sops.
    assert_eq!(sb.run(&["decrypt", "t.yaml"]).ok().out(), PLAIN);
    // Wrapping a new data key for it fails, naming it, and changes nothing.
    let before = sb.read("t.yaml");
    sb.run(&["rotate", "-i", "t.yaml"]).clean_failure().err_has(&format!("unknown recipient type: \"{bogus}\""));
    assert_eq!(sb.read("t.yaml"), before);
    let r = sb.run(&["rotate", "-i", "--add-age", BOB, "t.yaml"]);
    r.clean_failure();
    assert_eq!(sb.read("t.yaml"), before);
}

#[test]
fn plain_file_has_no_metadata() {
    let sb = Sandbox::new();
    sb.write("plain.yaml", PLAIN);
    sb.run(&["decrypt", "plain.yaml"]).clean_failure().code(1).err_has("sops metadata not found");
    sb.run(&["decrypt", "missing.yaml"]).code(100).err_has("non-existent file");
    std::fs::create_dir(sb.path("dir.yaml")).unwrap();
    sb.run(&["decrypt", "dir.yaml"]).clean_failure().err_has("is a directory");
}
