//! Generator tests. Every expected name and value below was captured from `kubectl kustomize`
//! (kustomize v5.5.0) run over the same inputs in a scratch directory outside the repository;
//! each case names the `kustomization.yaml` entry it reproduces.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::*;
use crate::build::hash::apply_suffixes;

/// The scratch directory's files, byte for byte.
fn scratch_files() -> HashMap<String, Vec<u8>> {
    let mut files = HashMap::new();
    files.insert("long.txt".into(), vec![b'x'; 100]);
    files.insert("bin.dat".into(), (0u8..=255).collect());
    files.insert("crlf.env".into(), b"A=1\r\nB=two words \r\n  # c\r\n\tC=\xc3\xa9\n".to_vec());
    files.insert("uni.txt".into(), "ünïcödé ✓ <&> \u{2028} 日本\n".as_bytes().to_vec());
    files.insert("empty.txt".into(), Vec::new());
    files.insert("ctl.txt".into(), b"a\x08b\x0cc\x01d\te\r\n".to_vec());
    files.insert("app.env".into(), b"# comment\n\n  FOO=bar\nBAZ\nQ=\"quoted\"\nE=a=b\n\xef\xbb\xbfX=1\n".to_vec());
    files.insert("bom.env".into(), b"\xef\xbb\xbfBOM=1\n".to_vec());
    files.insert("greet.txt".into(), b"hello\nworld\n".to_vec());
    files.insert("bin2.dat".into(), b"\x00\x01\xff\xfe binary".to_vec());
    files.insert("uni2.txt".into(), "ünïcödé ✓ <&>\n".as_bytes().to_vec());
    files
}

struct Files(HashMap<String, Vec<u8>>);

impl FileSource for Files {
    fn read(&self, path: &str) -> Result<Vec<u8>, String> {
        self.0.get(path).cloned().ok_or_else(|| format!("{path}: no such file"))
    }
}

fn args(value: Value) -> GeneratorArgs {
    serde_json::from_value(value).expect("test generator args parse")
}

fn global() -> GeneratorOptions {
    serde_json::from_value(json!({"labels": {"g": "global", "shared": "global"}, "annotations": {"ga": "1"}}))
        .expect("test options parse")
}

/// Generates one object the way the core does at the top level and returns it hashed.
fn generate(kind: &str, entry: Value) -> Resource {
    let files = Files(scratch_files());
    let g = global();
    let made = match kind {
        "ConfigMap" => config_map(&args(entry), Some(&g), &files),
        _ => secret(&args(entry), Some(&g), &files),
    };
    let mut resources = vec![made.expect("generator succeeds")];
    apply_suffixes(&mut resources).expect("hash");
    resources.pop().expect("one resource")
}

fn data(resource: &Resource, field: &str) -> Value {
    resource.object.get(field).cloned().unwrap_or(Value::Null)
}

// /tmp/gen-scratch/t5: `kubectl kustomize .` with `generatorOptions: {labels: {g: global,
// shared: global}, annotations: {ga: "1"}}` and the entries below.

#[test]
fn c01_literal() {
    let r = generate("ConfigMap", json!({"name": "c01", "literals": ["a=1"]}));
    assert_eq!(r.name(), "c01-h29d89cmmt");
    assert_eq!(data(&r, "data"), json!({"a": "1"}));
    assert_eq!(r.object["metadata"]["labels"], json!({"g": "global", "shared": "global"}));
    assert_eq!(r.object["metadata"]["annotations"], json!({"ga": "1"}));
}

#[test]
fn c02_html_characters_are_go_escaped_in_the_hash() {
    let r = generate("ConfigMap", json!({"name": "c02", "literals": ["k=<html>&amp;</html>"]}));
    assert_eq!(r.name(), "c02-ggmt4bgf82");
}

#[test]
fn c03_unicode_file() {
    let r = generate("ConfigMap", json!({"name": "c03", "files": ["uni.txt"]}));
    assert_eq!(r.name(), "c03-cdc4th528m");
    assert_eq!(data(&r, "data"), json!({"uni.txt": "ünïcödé ✓ <&> \u{2028} 日本\n"}));
}

#[test]
fn c04_binary_file_goes_to_binary_data_in_70_column_lines() {
    let r = generate("ConfigMap", json!({"name": "c04", "files": ["bin.dat"]}));
    assert_eq!(r.name(), "c04-4t8d2c8m6f");
    assert_eq!(data(&r, "data"), Value::Null);
    let expected = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMz\n\
                    Q1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdo\n\
                    aWprbG1ub3BxcnN0dXZ3eHl6e3x9fn+AgYKDhIWGh4iJiouMjY6PkJGSk5SVlpeYmZqbnJ\n\
                    2en6ChoqOkpaanqKmqq6ytrq+wsbKztLW2t7i5uru8vb6/wMHCw8TFxsfIycrLzM3Oz9DR\n\
                    0tPU1dbX2Nna29zd3t/g4eLj5OXm5+jp6uvs7e7v8PHy8/T19vf4+fr7/P3+/w==\n";
    assert_eq!(data(&r, "binaryData"), json!({"bin.dat": expected}));
}

#[test]
fn c05_long_and_empty_files() {
    let r = generate("ConfigMap", json!({"name": "c05", "files": ["long.txt", "e=empty.txt"]}));
    assert_eq!(r.name(), "c05-58kfc994k8");
    assert_eq!(data(&r, "data"), json!({"e": "", "long.txt": "x".repeat(100)}));
}

#[test]
fn c06_env_file_with_crlf_comments_and_indent() {
    let r = generate("ConfigMap", json!({"name": "c06", "envs": ["crlf.env"]}));
    assert_eq!(r.name(), "c06-87465d22b4");
    assert_eq!(data(&r, "data"), json!({"A": "1", "B": "two words ", "C": "é"}));
}

#[test]
fn c07_control_characters() {
    let r = generate("ConfigMap", json!({"name": "c07", "files": ["ctl.txt"]}));
    assert_eq!(r.name(), "c07-87bfc54hhf");
}

#[test]
fn c08_local_options_win_and_immutable() {
    let r = generate(
        "ConfigMap",
        json!({"name": "c08", "literals": ["n=1e21", "b=true", "q='x'"],
               "options": {"labels": {"shared": "local"}, "immutable": true}}),
    );
    assert_eq!(r.name(), "c08-bg49g8h429");
    assert_eq!(data(&r, "data"), json!({"b": "true", "n": "1e21", "q": "x"}));
    assert_eq!(r.object["metadata"]["labels"], json!({"g": "global", "shared": "local"}));
    assert_eq!(r.object.get("immutable"), Some(&Value::Bool(true)));
}

#[test]
fn c09_no_hash_and_namespace() {
    let r = generate(
        "ConfigMap",
        json!({"name": "c09", "namespace": "team", "literals": ["x=y"], "options": {"disableNameSuffixHash": true}}),
    );
    assert_eq!(r.name(), "c09");
    assert_eq!(r.namespace(), Some("team"));
    assert!(r.meta.previous_ids.is_empty());
}

#[test]
fn c10_emoji_and_tab() {
    let r = generate("ConfigMap", json!({"name": "c10", "literals": ["emoji=😀", "tab=a\tb"]}));
    assert_eq!(r.name(), "c10-89g84b45k6");
}

#[test]
fn s01_secret_literal() {
    let r = generate("Secret", json!({"name": "s01", "literals": ["password=hunter2"]}));
    assert_eq!(r.name(), "s01-cf85kd65mm");
    assert_eq!(data(&r, "data"), json!({"password": "aHVudGVyMg=="}));
    assert_eq!(data(&r, "type"), json!("Opaque"));
}

#[test]
fn s02_tls_secret_from_files() {
    let r = generate(
        "Secret",
        json!({"name": "s02", "type": "kubernetes.io/tls", "files": ["tls.crt=uni.txt", "tls.key=long.txt"]}),
    );
    assert_eq!(r.name(), "s02-4dkddgd899");
    assert_eq!(
        data(&r, "data"),
        json!({
            "tls.crt": "w7xuw69jw7Zkw6kg4pyTIDwmPiDigKgg5pel5pysCg==",
            "tls.key": "eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eH\n\
                        h4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eA==\n"
        })
    );
}

#[test]
fn s03_binary_secret() {
    let r = generate("Secret", json!({"name": "s03", "files": ["bin.dat"]}));
    assert_eq!(r.name(), "s03-hk2b57fddb");
}

#[test]
fn s04_dockerconfigjson() {
    let r = generate(
        "Secret",
        json!({"name": "s04", "type": "kubernetes.io/dockerconfigjson",
               "literals": [".dockerconfigjson={\"auths\":{}}"]}),
    );
    assert_eq!(r.name(), "s04-bm4mtdbm8c");
    assert_eq!(data(&r, "data"), json!({".dockerconfigjson": "eyJhdXRocyI6e319"}));
}

#[test]
fn s05_secret_from_env_file_immutable() {
    let r = generate("Secret", json!({"name": "s05", "envs": ["crlf.env"], "options": {"immutable": true}}));
    assert_eq!(r.name(), "s05-kkgmdkmd7g");
    assert_eq!(data(&r, "data"), json!({"A": "MQ==", "B": "dHdvIHdvcmRzIA==", "C": "w6k="}));
}

// /tmp/gen-scratch/t1 and t3: `kubectl kustomize .`, no generatorOptions.

fn generate_plain(kind: &str, entry: Value) -> Resource {
    let files = Files(scratch_files());
    let made = match kind {
        "ConfigMap" => config_map(&args(entry), None, &files),
        _ => secret(&args(entry), None, &files),
    };
    let mut resources = vec![made.expect("generator succeeds")];
    apply_suffixes(&mut resources).expect("hash");
    resources.pop().expect("one resource")
}

#[test]
fn t1_literal_quotes() {
    let r = generate_plain(
        "ConfigMap",
        json!({"name": "cm", "literals": ["a=1", "b=\"quoted\"", "c='single'", "d=\"mismatch'", "e=with spaces "]}),
    );
    assert_eq!(r.name(), "cm-8ddb7m24h4");
    assert_eq!(
        data(&r, "data"),
        json!({"a": "1", "b": "quoted", "c": "single", "d": "\"mismatch'", "e": "with spaces "})
    );
}

#[test]
fn t1_empty_generators() {
    let cm = generate_plain("ConfigMap", json!({"name": "empty"}));
    assert_eq!(cm.name(), "empty-6ct58987ht");
    assert!(cm.object.get("data").is_none());
    let secret = generate_plain("Secret", json!({"name": "emptysec"}));
    assert_eq!(secret.name(), "emptysec-46f8b28mk5");
    assert_eq!(data(&secret, "data"), json!({}));
}

#[test]
fn t1_tls_literals() {
    let r = generate_plain(
        "Secret",
        json!({"name": "tls", "type": "kubernetes.io/tls", "literals": ["tls.crt=abc", "tls.key=def"]}),
    );
    assert_eq!(r.name(), "tls-td2b65gdb7");
}

#[test]
fn t3_env_files_bom_bare_key_and_quotes() {
    let r = generate_plain("ConfigMap", json!({"name": "envs", "envs": ["app.env", "bom.env"]}));
    assert_eq!(r.name(), "envs-284m2286bk");
    // A BOM is dropped only on a file's first line; a bare key is empty, not the environment.
    assert_eq!(
        data(&r, "data"),
        json!({"\u{feff}X": "1", "BAZ": "", "BOM": "1", "E": "a=b", "FOO": "bar", "Q": "\"quoted\""})
    );
}

#[test]
fn t3_files_text_and_binary() {
    let r = generate_plain(
        "ConfigMap",
        json!({"name": "files", "files": ["greet.txt", "other=uni2.txt", "bin.dat=bin2.dat"]}),
    );
    assert_eq!(r.name(), "files-h5tcdk699m");
    assert_eq!(data(&r, "binaryData"), json!({"bin.dat": "AAH//iBiaW5hcnk="}));
    assert_eq!(data(&r, "data"), json!({"greet.txt": "hello\nworld\n", "other": "ünïcödé ✓ <&>\n"}));
}

#[test]
fn t3_keys_are_not_validated() {
    let r = generate_plain("ConfigMap", json!({"name": "weird", "literals": ["a b=space key", "x=<&>\u{2028}"]}));
    assert_eq!(r.name(), "weird-fhfdgt4bfc");
}

#[test]
fn errors_name_the_generator_and_field() {
    let files = Files(scratch_files());
    let err = |entry: Value| config_map(&args(entry), None, &files).err().map(|e| e.to_string());
    assert_eq!(
        err(json!({"name": "d", "literals": ["k=1", "k=2"]})).as_deref(),
        Some("configMapGenerator 'd': illegally repeats the key `k`")
    );
    assert_eq!(
        err(json!({"name": "d", "literals": ["=1"]})).as_deref(),
        Some("configMapGenerator 'd': literals: invalid literal source '=…', expected key=value")
    );
    assert_eq!(
        err(json!({"name": "d", "files": ["a=b=c"]})).as_deref(),
        Some("configMapGenerator 'd': files: source \"a=b=c\" key name or file path contains '='")
    );
    assert_eq!(
        err(json!({"name": "d", "files": ["missing.txt"]})).as_deref(),
        Some("configMapGenerator 'd': files: missing.txt: no such file")
    );
    assert_eq!(
        err(json!({"name": "d", "behavior": "merg"})).as_deref(),
        Some("configMapGenerator 'd': behavior: 'merg' is not one of create, merge, replace")
    );
    assert_eq!(err(json!({})).as_deref(), Some("configMapGenerator: name: a generator must have a name"));
}

#[test]
fn a_secret_literal_never_appears_in_an_error() {
    let files = Files(scratch_files());
    let err = secret(&args(json!({"name": "s", "literals": ["nokeyhunter2"]})), None, &files)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("literals"), "{err}");
    // The whole literal is the key part here; what must never show is text after an `=`.
    let err = secret(&args(json!({"name": "s", "literals": ["=hunter2"]})), None, &files)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(!err.contains("hunter2"), "{err}");
}

// /tmp/gen-scratch/t4: base (plain ConfigMap `plain`, generated `gen` and Secret `s`) and an
// overlay with `namePrefix: pre-` merging into `plain` and `s` and replacing `gen`;
// `kubectl kustomize ov`.

fn object(value: Value) -> Resource {
    Resource::new(value.as_object().cloned().unwrap_or_default())
}

#[test]
fn t4_merge_replace_behaviors() {
    let files = Files(scratch_files());
    let mut level = vec![object(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "plain", "labels": {"a": "base", "b": "base"}, "annotations": {"x": "base"}},
        "data": {"k1": "base", "k2": "base"}
    }))];
    let base_gen = config_map(
        &args(json!({"name": "gen", "literals": ["k1=base", "k2=base"], "options": {"labels": {"a": "base"}}})),
        None,
        &files,
    )
    .expect("gen");
    add(&mut level, base_gen).expect("add gen");
    add(&mut level, secret(&args(json!({"name": "s", "literals": ["p=base"]})), None, &files).expect("s"))
        .expect("add s");

    let merge_plain = config_map(
        &args(json!({"name": "plain", "behavior": "merge", "literals": ["k2=ov", "k3=ov"],
                     "options": {"labels": {"b": "ov", "c": "ov"}}})),
        None,
        &files,
    )
    .expect("merge");
    add(&mut level, merge_plain).expect("merge plain");
    let replace_gen =
        config_map(&args(json!({"name": "gen", "behavior": "replace", "literals": ["k9=ov"]})), None, &files)
            .expect("replace");
    add(&mut level, replace_gen).expect("replace gen");
    let merge_s = secret(
        &args(json!({"name": "s", "behavior": "merge", "type": "kubernetes.io/tls", "literals": ["q=ov"]})),
        None,
        &files,
    )
    .expect("merge s");
    add(&mut level, merge_s).expect("merge s");
    assert_eq!(level.len(), 3, "merge and replace keep the count");

    // The prefix transformer's effect on names (the hash does not see the name).
    for r in &mut level {
        let name = format!("pre-{}", r.name());
        r.object["metadata"]["name"] = Value::String(name);
    }
    apply_suffixes(&mut level).expect("hash");

    assert_eq!(level[0].name(), "pre-plain", "merged into a non-generated object: no hash");
    assert_eq!(data(&level[0], "data"), json!({"k1": "base", "k2": "ov", "k3": "ov"}));
    assert_eq!(level[0].object["metadata"]["labels"], json!({"a": "base", "b": "ov", "c": "ov"}));
    assert_eq!(level[0].object["metadata"]["annotations"], json!({"x": "base"}));

    assert_eq!(level[1].name(), "pre-gen-b4468bk77k");
    assert_eq!(data(&level[1], "data"), json!({"k9": "ov"}));
    assert_eq!(level[1].object["metadata"]["labels"], json!({"a": "base"}));

    assert_eq!(level[2].name(), "pre-s-5t77bbftf7");
    assert_eq!(data(&level[2], "data"), json!({"p": "YmFzZQ==", "q": "b3Y="}));
    assert_eq!(data(&level[2], "type"), json!("kubernetes.io/tls"));
}

#[test]
fn behavior_errors() {
    let files = Files(scratch_files());
    let mut level = Vec::new();
    let merge = config_map(&args(json!({"name": "m", "behavior": "merge"})), None, &files).expect("m");
    let err = add(&mut level, merge).err().map(|e| e.to_string());
    assert_eq!(err.as_deref(), Some("ConfigMap/m: behavior: merge: no ConfigMap named 'm' in the namespace to merge"));
    add(&mut level, config_map(&args(json!({"name": "c"})), None, &files).expect("c")).expect("first");
    let again = config_map(&args(json!({"name": "c"})), None, &files).expect("c");
    let err = add(&mut level, again).err().map(|e| e.to_string());
    assert_eq!(
        err.as_deref(),
        Some("ConfigMap/c: behavior: already exists; behavior must be merge or replace (it is create)")
    );
    // `default` and no namespace are the same namespace.
    let in_default =
        config_map(&args(json!({"name": "c", "namespace": "default", "behavior": "replace"})), None, &files)
            .expect("c");
    add(&mut level, in_default).expect("default namespace matches an unset one");
    assert_eq!(level[0].namespace(), None, "replace keeps the old namespace");
}

#[test]
fn global_options_merge() {
    let local: GeneratorOptions =
        serde_json::from_value(json!({"labels": {"a": "local"}, "disableNameSuffixHash": false})).expect("local");
    let global: GeneratorOptions = serde_json::from_value(
        json!({"labels": {"a": "global", "b": "global"}, "disableNameSuffixHash": true, "immutable": true}),
    )
    .expect("global");
    let merged = merged_options(Some(&local), Some(&global));
    assert_eq!(merged.labels.get("a").map(String::as_str), Some("local"));
    assert_eq!(merged.labels.get("b").map(String::as_str), Some("global"));
    assert_eq!(merged.disable_name_suffix_hash, Some(true));
    assert_eq!(merged.immutable, Some(true));
}

/// /tmp/gen-scratch/t6: base generates `a` and `b` (`x=1`); the overlay merges `y=2` into both,
/// `a` with `disableNameSuffixHash: true`; `kubectl kustomize ov` prints `a` and `b-gc87g97b68`.
#[test]
fn t6_merge_hash_needs_both_sides() {
    let files = Files(scratch_files());
    let make = |entry: Value| config_map(&args(entry), None, &files).expect("generator");
    let mut level =
        vec![make(json!({"name": "a", "literals": ["x=1"]})), make(json!({"name": "b", "literals": ["x=1"]}))];
    add(
        &mut level,
        make(json!({"name": "a", "behavior": "merge", "literals": ["y=2"],
                    "options": {"disableNameSuffixHash": true}})),
    )
    .expect("merge a");
    add(&mut level, make(json!({"name": "b", "behavior": "merge", "literals": ["y=2"]}))).expect("merge b");
    apply_suffixes(&mut level).expect("hash");
    assert_eq!(level[0].name(), "a");
    assert_eq!(level[1].name(), "b-gc87g97b68");
    assert_eq!(data(&level[1], "data"), json!({"x": "1", "y": "2"}));
    assert_eq!(level[1].meta.previous_ids.last().map(|id| id.name.as_str()), Some("b"));
}
