//! Store-level tests. Expected texts come from sops itself: the `COMMENT_*` cases of
//! `stores/yaml/store_test.go` (sops 3.13.2) and outputs of `sops decrypt` (sops 3.11) recorded
//! in `tests/data/sops-upstream/`.

use super::*;
use crate::sops::tree::{Element, Item, Key, Scalar};

fn store() -> YamlStore {
    YamlStore::default()
}

fn round_trip(input: &str) -> String {
    let docs = store().load_plain(input.as_bytes()).expect("parses");
    String::from_utf8(store().emit_plain(&docs).expect("emits")).expect("utf-8")
}

fn comment_texts(items: &[Item]) -> Vec<String> {
    items
        .iter()
        .filter_map(|i| match i {
            Item::Comment(c) => Some(c.text.as_str().unwrap().to_owned()),
            _ => None,
        })
        .collect()
}

fn child<'a>(items: &'a [Item], key: &str) -> &'a Value {
    crate::sops::tree::get(items, key).unwrap_or_else(|| panic!("no key {key}"))
}

#[test]
fn sops_comment_cases_round_trip() {
    // COMMENT_1, COMMENT_2 and COMMENT_7_IN → COMMENT_7_OUT of sops's store_test.go.
    let c1 = "# test\na:\n    b: null\n    # foo\n";
    assert_eq!(round_trip(c1), c1);
    let c2 = "a:\n    # foo\n    b: null\n";
    assert_eq!(round_trip(c2), c2);
    let c7_in = "a:\n    b:\n        c: d\n    # comment\n\ne:\n    - f\n";
    let c7_out = "a:\n    b:\n        c: d\n    # comment\ne:\n    - f\n";
    assert_eq!(round_trip(c7_in), c7_out);
    let c6 = "a:\n    - a\n    # I no longer get duplicated\n    - {}\n";
    assert_eq!(round_trip(c6), c6);
}

#[test]
fn comment_3_reindents_and_keeps_comments() {
    // COMMENT_3_IN / COMMENT_3_OUT (indent 2 in, sops's default 4 out).
    let input = "## Configuration for prometheus-node-exporter subchart\n##\nprometheus-node-exporter:\n  podLabels:\n    ## Add the 'node-exporter' label\n    ##\n\n    jobLabel: node-exporter\n  extraArgs:\n    - --collector.filesystem.ignored-mount-points=^/(dev|proc|sys|var/lib/docker/.+)($|/)\n";
    let output = "## Configuration for prometheus-node-exporter subchart\n##\nprometheus-node-exporter:\n    podLabels:\n        ## Add the 'node-exporter' label\n        ##\n        jobLabel: node-exporter\n    extraArgs:\n        - --collector.filesystem.ignored-mount-points=^/(dev|proc|sys|var/lib/docker/.+)($|/)\n";
    assert_eq!(round_trip(input), output);
    let two = YamlStore::new(StoreConfig { yaml_indent: Some(2), ..Default::default() });
    let docs = two.load_plain(input.as_bytes()).unwrap();
    let again = String::from_utf8(two.emit_plain(&docs).unwrap()).unwrap();
    assert!(again.contains("\n  podLabels:\n    ## Add"), "{again}");
}

#[test]
fn comments_land_in_the_collection_sops_puts_them_in() {
    let input = "# top\na:\n    b:\n        c: d # inline c\n    # trailing a\n\ne:\n    # before seq\n    - f\n    # mid\n    - g: 1\n      h: 2 # hh\n# head of k\nk: v\n";
    let docs = store().load_plain(input.as_bytes()).unwrap();
    let root = &docs[0];
    assert_eq!(comment_texts(root), [" top", " head of k"]);
    let Value::Map(a) = child(root, "a") else { panic!("a is a map") };
    assert_eq!(comment_texts(a), [" trailing a"]);
    let Value::Map(b) = child(a, "b") else { panic!("b is a map") };
    // The inline comment precedes its entry and is marked inline.
    assert!(matches!(&b[0], Item::Comment(c) if c.inline && c.text.as_str() == Some(" inline c")));
    let Value::List(e) = child(root, "e") else { panic!("e is a list") };
    let list_comments: Vec<_> = e
        .iter()
        .filter_map(|x| match x {
            Element::Comment(c) => Some(c.text.as_str().unwrap().to_owned()),
            _ => None,
        })
        .collect();
    assert_eq!(list_comments, [" before seq", " mid"]);
    // And it writes back in sops 3.13's layout, inline comments kept inline.
    let out = round_trip(input);
    assert_eq!(
        out,
        "# top\na:\n    b:\n        c: d # inline c\n    # trailing a\ne:\n    # before seq\n    - f\n    # mid\n    - g: 1\n      h: 2 # hh\n# head of k\nk: v\n"
    );
}

#[test]
fn types_resolve_like_go_yaml() {
    // gen311_types.plain.yaml → gen311_types.dec.yaml (recorded sops output).
    let input = "hex: 0x1F\noct: 0o17\nexp: 1e3\nflt: 3.0\nneg: -0.0\ninf: .inf\nnan: .nan\nyes_word: yes\non_word: on\ntilde: ~\ndate: 2024-01-02\nquoted_num: \"42\"\nbin: !!binary aGVsbG8=\nmulti: |\n  line1\n  line2\n";
    let expected = "hex: 31\noct: 15\nexp: 1000\nflt: 3\nneg: -0\ninf: .inf\nnan: .nan\nyes_word: \"yes\"\non_word: \"on\"\ntilde: null\ndate: 2024-01-02T00:00:00Z\nquoted_num: \"42\"\nbin: hello\nmulti: |\n    line1\n    line2\n";
    assert_eq!(round_trip(input), expected);
}

#[test]
fn anchors_are_expanded_like_sops() {
    // gen311_anchors.plain.yaml → gen311_anchors.dec.yaml.
    let input =
        "base: &b\n    x: 1\n    y: two\nderived:\n    <<: *b\n    y: three\nref: *b\nscalar: &s hello\nref2: *s\n";
    let expected = "base:\n    x: 1\n    \"y\": two\nderived:\n    !!merge <<:\n        x: 1\n        \"y\": two\n    \"y\": three\nref:\n    x: 1\n    \"y\": two\nscalar: hello\nref2: hello\n";
    assert_eq!(round_trip(input), expected);
}

#[test]
fn multiple_documents() {
    let docs = store().load_plain(b"a: 1\n---\nb: 2\n").unwrap();
    assert_eq!(docs.len(), 2);
    assert_eq!(round_trip("a: 1\n---\nb: 2\n"), "a: 1\n---\nb: 2\n");
    assert_eq!(store().load_plain(b"").unwrap().len(), 0);
    assert_eq!(store().load_plain(b"---\n").unwrap().len(), 1);
}

#[test]
fn non_string_keys_are_kept_for_the_error() {
    let docs = store().load_plain(b"1: a\ntrue: b\n").unwrap();
    let keys: Vec<&Key> = docs[0]
        .iter()
        .filter_map(|i| match i {
            Item::Pair { key, .. } => Some(key),
            _ => None,
        })
        .collect();
    assert_eq!(keys[0], &Key::Other { text: "1".into(), kind: "int" });
    assert_eq!(keys[1], &Key::Other { text: "true".into(), kind: "bool" });
}

#[test]
fn bad_input_is_refused_with_a_position() {
    let dup = store().load_plain(b"a: 1\nb: 2\na: 3\n").unwrap_err().to_string();
    assert!(dup.contains("mapping key \"a\" already defined at line 1"), "{dup}");
    assert!(dup.contains("line 3"), "{dup}");
    let seq = store().load_plain(b"- a\n- b\n").unwrap_err().to_string();
    assert!(seq.contains("sequences are not supported"), "{seq}");
    let scalar = store().load_plain(b"hello\n").unwrap_err().to_string();
    assert!(scalar.contains("values are not supported"), "{scalar}");
    let broken = store().load_plain(b"a: [1, 2\n").unwrap_err().to_string();
    assert!(broken.contains("line"), "{broken}");
    assert!(store().load_plain(&[0xff, 0xfe]).is_err());
    let tag = store().load_plain(b"a: !!int abc\n").unwrap_err().to_string();
    assert!(!tag.contains("abc"), "errors never echo values: {tag}");
}

#[test]
fn alias_bomb_is_refused() {
    let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    let names: Vec<char> = "bcdefghij".chars().collect();
    let mut prev = 'a';
    for n in &names {
        bomb.push_str(&format!(
            "{n}: &{n} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
        ));
        prev = *n;
    }
    let err = store().load_plain(bomb.as_bytes()).unwrap_err().to_string();
    assert!(err.contains("alias bomb"), "{err}");
}

#[test]
fn deep_nesting_is_refused_without_overflow() {
    let deep = format!("a: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    assert!(store().load_plain(deep.as_bytes()).is_err());
}

#[test]
fn strings_quote_like_go_yaml() {
    let docs = vec![vec![
        Item::Pair { key: "n".into(), value: Value::str("123") },
        Item::Pair { key: "y".into(), value: Value::str("x") },
        Item::Pair { key: "e".into(), value: Value::str("") },
        Item::Pair { key: "c".into(), value: Value::str("a: b") },
        Item::Pair { key: "t".into(), value: Value::Scalar(Scalar::Int(7)) },
        Item::Pair { key: "m".into(), value: Value::Map(vec![]) },
        Item::Pair { key: "l".into(), value: Value::List(vec![]) },
        Item::Pair { key: "z".into(), value: Value::Null },
    ]];
    let out = String::from_utf8(store().emit_plain(&docs).unwrap()).unwrap();
    assert_eq!(out, "\"n\": \"123\"\n\"y\": x\ne: \"\"\nc: 'a: b'\nt: 7\nm: {}\nl: []\nz: null\n");
}

#[test]
fn lists_of_maps_and_block_scalars_indent_like_sops() {
    // The layout of sops's metadata: list items of maps, and a literal block inside them.
    let input = "sops:\n    age:\n        - recipient: age1x\n          enc: |\n            -----BEGIN AGE ENCRYPTED FILE-----\n            YWJj\n            -----END AGE ENCRYPTED FILE-----\n    lastmodified: \"2026-11-23T21:29:33Z\"\n";
    assert_eq!(round_trip(input), input);
}

#[test]
fn only_yaml_1_1_documents_are_read() {
    // go-yaml (and so sops 3.13.2) refuses `%YAML 1.2` with "found incompatible YAML document".
    assert!(store().load_plain(b"%YAML 1.1\n---\na: 1\n").is_ok());
    let e = store().load_plain(b"%YAML 1.2\n---\na: 1\n").unwrap_err().to_string();
    assert!(e.contains("incompatible YAML document") && e.contains("line 2"), "{e}");
}
