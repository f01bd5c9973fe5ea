//! `spec.template.data` rendering against Go: every case in `tests/data/gotemplate/cases*.json`
//! (rendered by real `text/template` + Sprig, see its ORIGIN.md) gives Go's output, or fails
//! where Go fails. Cases marked `"sealops": "error"` are documented divergences where sealops
//! refuses what Go renders (an unimplemented function, Go's error text rendered as output).

use sealops::crypto::SecretBytes;
use sealops::sealed::template::{ErrorKind, Limits, Renderer, TemplateData, TemplateError, render, render_named};
use serde_json::Value;

use crate::support::read;

/// The error of a render that must fail (`SecretBytes` has no `Debug`, so no `expect_err`).
fn must_fail(result: Result<SecretBytes, TemplateError>, what: &str) -> TemplateError {
    match result {
        Ok(_) => panic!("{what}: rendered, expected an error"),
        Err(e) => e,
    }
}

fn data_of(case: &Value) -> TemplateData {
    let mut data = TemplateData::new();
    if let Some(items) = case["data"].as_object() {
        for (k, v) in items {
            data.insert(k.clone(), SecretBytes::from(v.as_str().expect("string item")));
        }
    }
    data
}

/// Every golden file: `cases.json` and one `cases-<family>.json` per Sprig family (each the Go
/// oracle's output for the `.in.json` beside it).
fn golden_cases() -> Vec<Value> {
    let dir = crate::support::data("gotemplate");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("tests/data/gotemplate")
        .map(|e| e.expect("dir entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("cases") && n.ends_with(".json") && !n.ends_with(".in.json"))
        .collect();
    files.sort();
    let mut cases = Vec::new();
    for f in &files {
        let more: Vec<Value> =
            serde_json::from_slice(&read(&format!("gotemplate/{f}"))).unwrap_or_else(|e| panic!("{f}: {e}"));
        cases.extend(more);
    }
    cases
}

#[test]
fn golden_cases_match_go() {
    let cases = golden_cases();
    assert!(cases.len() >= 100, "expected the full golden set, got {}", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let name = case["name"].as_str().expect("name");
        let template = case["template"].as_str().expect("template");
        let got = render_named(name, template, &data_of(case), Limits::default());
        let must_error = case.get("error").is_some() || case.get("sealops").and_then(Value::as_str) == Some("error");
        match (&got, must_error) {
            (Ok(out), false) => {
                let want = case["result"].as_str().expect("result");
                if out.expose() != want.as_bytes() {
                    failures
                        .push(format!("{name}: got {:?}, Go renders {want:?}", String::from_utf8_lossy(out.expose())));
                }
            }
            (Ok(out), true) => failures
                .push(format!("{name}: rendered {:?}, expected an error", String::from_utf8_lossy(out.expose()))),
            (Err(e), false) => failures.push(format!("{name}: failed ({e}), Go renders {:?}", case["result"])),
            (Err(_), true) => {}
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from Go:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn unsupported_function_is_named() {
    // Go's `call` builtin: sealops has no function values to call.
    let err = must_fail(render("{{ call .a }}", &TemplateData::new()), "call is not implemented");
    assert_eq!(err.kind, ErrorKind::Unsupported("call".into()));
    assert!(err.to_string().contains("\"call\""), "{err}");
    let err = must_fail(render("{{ env \"HOME\" }}", &TemplateData::new()), "env is removed by the controller");
    assert!(matches!(err.kind, ErrorKind::Syntax(_)), "{err}");
}

#[test]
fn errors_never_contain_plaintext() {
    const SECRET: &str = "hunter2-very-secret";
    let mut data = TemplateData::new();
    data.insert("password", SecretBytes::from(SECRET));
    for template in [
        "{{ .password.x }}",
        "{{ range .password }}{{ end }}",
        "{{ eq .password 1 }}",
        "{{ index .password 99 }}",
        "{{ ternary 1 2 .password }}",
        "{{ mustFromJson .password }}",
        "{{ hasKey . .password }}",
        "{{ .password 1 }}",
    ] {
        let err = must_fail(render_named("config", template, &data, Limits::default()), template);
        let text = format!("{err} {err:?}");
        assert!(!text.contains(SECRET), "{template}: {text}");
        assert!(text.contains("config"), "{template}: error names the key: {text}");
    }
}

#[test]
fn limits_stop_untrusted_templates() {
    let data = TemplateData::new();
    let small =
        Limits { max_template_bytes: 64, max_output_bytes: 1000, max_steps: 10_000, max_depth: 8, max_costly_calls: 8 };
    let limit = |template: &str| match render_named("t", template, &data, small) {
        Err(e) => matches!(e.kind, ErrorKind::Limit(_)),
        Ok(_) => false,
    };
    assert!(limit(&"x".repeat(65)), "template size");
    assert!(limit("{{ repeat 1001 \"x\" }}"), "function result size");
    assert!(limit("{{ range $i := list 1 2 3 }}{{ repeat 400 \"x\" }}{{ end }}"), "output size");
    assert!(limit("{{define \"r\"}}{{template \"r\" .}}{{end}}{{template \"r\" .}}"), "recursion");
    assert!(limit("{{((((((((((1))))))))))}}"), "nesting");
    let loops = "{{ range list 1 2 3 4 5 6 7 8 9 10 }}{{ range list 1 2 3 4 5 6 7 8 9 10 }}{{ range list 1 2 3 4 5 6 7 8 9 10 }}{{ range list 1 2 3 4 5 6 7 8 9 10 }}{{ end }}{{ end }}{{ end }}{{ end }}";
    let steps = Limits { max_template_bytes: 4096, ..small };
    assert!(matches!(render_named("t", loops, &data, steps), Err(e) if matches!(e.kind, ErrorKind::Limit(_))), "steps");
    assert!(render_named("t", "{{ repeat 1000 \"x\" }}", &data, small).is_ok(), "exactly at the cap is fine");
}

#[test]
fn costly_calls_are_counted_over_all_the_templates_of_an_object() {
    let data = TemplateData::new();
    // ed25519 keys are cheap to make, but count as key generation all the same.
    let key = "{{ genPrivateKey \"ed25519\" }}";
    let two = Limits { max_costly_calls: 2, ..Limits::default() };
    let renderer = Renderer::new(two);
    assert!(renderer.render("a", key, &data).is_ok());
    assert!(renderer.render("b", key, &data).is_ok());
    let third = must_fail(renderer.render("c", key, &data), "third key of the object");
    assert!(matches!(third.kind, ErrorKind::Limit(_)), "{third}");
    assert_eq!(third.key, "c");
    // A fresh object has its own allowance; a loop inside one template counts every call.
    assert!(Renderer::new(two).render("a", key, &data).is_ok());
    let looped = "{{ range until 9 }}{{ genPrivateKey \"ed25519\" }}{{ end }}";
    let e = must_fail(render_named("t", looped, &data, Limits::default()), "nine keys");
    assert!(e.to_string().contains("too many key generations and password hashes in one object"), "{e}");
    assert!(
        render_named("t", "{{ range until 8 }}{{ genPrivateKey \"ed25519\" }}{{ end }}", &data, Limits::default())
            .is_ok()
    );
    // The signing-only variants and cheap functions are not counted.
    let cheap = "{{ range until 20 }}{{ sha256sum \"x\" }}{{ end }}";
    assert!(render_named("t", cheap, &data, Limits { max_costly_calls: 0, ..Limits::default() }).is_ok());
}

#[test]
fn nesting_and_cycles_are_refused() {
    let data = TemplateData::new();
    let limited = |template: &str| match render_named("t", template, &data, Limits::default()) {
        Err(e) => matches!(e.kind, ErrorKind::Limit(_)),
        Ok(_) => false,
    };
    // A dict inside itself: Go would recurse forever when printing it.
    let err = must_fail(render(r#"{{ $d := dict }}{{ $_ := set $d "self" $d }}{{ $d }}"#, &data), "cycle");
    assert!(err.to_string().contains("inside itself"), "{err}");
    let err = must_fail(
        render(r#"{{ $a := dict }}{{ $b := dict "a" $a }}{{ $_ := set $a "b" $b }}"#, &data),
        "indirect cycle",
    );
    assert!(matches!(err.kind, ErrorKind::Exec(_)), "{err}");
    // Deep structures built in a loop stop at the nesting limit instead of overflowing the stack.
    assert!(limited(
        r#"{{ $d := dict }}{{ range splitList "" (repeat 10000 "x") }}{{ $d = dict "a" $d }}{{ end }}{{ $d }}"#
    ));
    assert!(limited(
        r#"{{ $l := list }}{{ range splitList "" (repeat 10000 "x") }}{{ $l = list $l }}{{ end }}{{ $l }}"#
    ));
    assert!(limited(&format!("{{{{ fromJson {:?} }}}}", "[".repeat(100) + &"]".repeat(100))));
    let ok = render(
        r#"{{ $d := dict }}{{ range splitList "" (repeat 10 "x") }}{{ $d = dict "a" $d }}{{ end }}{{ toJson $d }}"#,
        &data,
    );
    assert!(ok.is_ok(), "shallow nesting is fine");
}

#[test]
fn binary_values_pass_through() {
    let mut data = TemplateData::new();
    data.insert("blob", SecretBytes::new(vec![0xff, 0x00, 0xfe]));
    let out = render("<{{ .blob }}>", &data).expect("renders");
    assert_eq!(out.expose(), b"<\xff\x00\xfe>");
    let out = render("{{ .blob | b64enc }}", &data).expect("renders");
    assert_eq!(out.expose(), b"/wD+");
}

mod never_panics {
    use proptest::prelude::*;
    use sealops::crypto::SecretBytes;
    use sealops::sealed::template::{Limits, TemplateData, render_named};

    /// Fragments that combine into valid, nearly valid and broken templates.
    const PIECES: &[&str] = &[
        "{{",
        "}}",
        "{{- ",
        " -}}",
        "{{/*",
        "*/}}",
        " ",
        "\n",
        ".",
        ".a",
        ".b.c",
        "$",
        "$x",
        ":=",
        "=",
        ",",
        "|",
        "(",
        ")",
        "\"s\"",
        "\"\\",
        "`r`",
        "'c'",
        "'",
        "1",
        "-2",
        "1.5e3",
        "0x",
        "if",
        "else",
        "end",
        "range",
        "with",
        "define",
        "template",
        "block",
        "break",
        "continue",
        "\"t\"",
        "and",
        "or",
        "not",
        "len",
        "index",
        "printf",
        "\"%s%d%q%x%5.2f%\"",
        "eq",
        "lt",
        "upper",
        "quote",
        "indent",
        "repeat",
        "substr",
        "trunc",
        "dict",
        "list",
        "set",
        "get",
        "keys",
        "toJson",
        "fromJson",
        "\"{\\\"a\\\":[1]}\"",
        "b64dec",
        "b32dec",
        "default",
        "coalesce",
        "ternary",
        "nil",
        "true",
        "é",
        "\u{3000}",
        "\u{ff}",
        "x",
    ];

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]
        #[test]
        fn random_templates_render_or_fail_cleanly(picks in prop::collection::vec(0..PIECES.len(), 0..40)) {
            let template: String = picks.iter().map(|&i| PIECES[i]).collect();
            let mut data = TemplateData::new();
            data.insert("a", SecretBytes::from("value"));
            data.insert("b", SecretBytes::new(vec![0xff, b'{', b'}']));
            let limits = Limits { max_steps: 10_000, max_output_bytes: 64 * 1024, ..Limits::default() };
            let _ = render_named("fuzz", &template, &data, limits);
        }
    }
}
