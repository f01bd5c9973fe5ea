//! Where comments go, against the real sops: the comment's AAD is the path of the map that holds
//! it, so sealops must put every comment of a plaintext file in the map sops (through go-yaml)
//! puts it in, or files would not decrypt across the two tools.
//!
//! The oracle is exact: sops encrypts the plaintext, we open the data key of its output with our
//! own code, and find for each encrypted comment the path whose AAD opens it. That is compared
//! with the path of the same comment in the tree sealops parses from the same plaintext.
#![cfg(unix)]

use std::collections::BTreeMap;
use std::process::Command;

use proptest::prelude::*;
use sealops::crypto::age::Identity;
use sealops::crypto::{DataKey, Keyring};
use sealops::sops::datakey;
use sealops::sops::store::Store;
use sealops::sops::tree::{Branch, Element, Item, Key, Value};
use sealops::sops::value::ValueCipher;
use sealops::sops::yaml::YamlStore;

use crate::sops_interop::interop;

/// Comment text → the AAD path of the map or list holding it, as sealops parses `plain`.
fn ours(plain: &str) -> BTreeMap<String, String> {
    let docs = YamlStore::default().load_plain(plain.as_bytes()).expect("parses");
    let mut out = BTreeMap::new();
    for doc in &docs {
        walk_map(doc, &mut Vec::new(), &mut |text, path| {
            out.insert(text, path);
        });
    }
    out
}

fn aad(path: &[String]) -> String {
    if path.is_empty() { ":".into() } else { format!("{}:", path.join(":")) }
}

fn walk_map(items: &Branch, path: &mut Vec<String>, found: &mut impl FnMut(String, String)) {
    for item in items {
        match item {
            Item::Comment(c) => found(c.text.as_str().unwrap_or("").to_owned(), aad(path)),
            Item::Pair { key, value } => {
                let Key::Str(k) = key else { continue };
                path.push(k.clone());
                walk_value(value, path, found);
                path.pop();
            }
        }
    }
}

fn walk_value(value: &Value, path: &mut Vec<String>, found: &mut impl FnMut(String, String)) {
    match value {
        Value::Map(m) => walk_map(m, path, found),
        Value::List(l) => {
            for e in l {
                match e {
                    Element::Comment(c) => found(c.text.as_str().unwrap_or("").to_owned(), aad(path)),
                    Element::Value(v) => walk_value(v, path, found),
                }
            }
        }
        _ => {}
    }
}

/// Every AAD a comment of `plain` could have: the paths of all its maps and lists.
fn candidate_paths(plain: &str) -> Vec<String> {
    let docs = YamlStore::default().load_plain(plain.as_bytes()).expect("parses");
    fn collect(value: &Value, path: &mut Vec<String>, out: &mut Vec<String>) {
        match value {
            Value::Map(m) => {
                out.push(aad(path));
                for item in m {
                    if let Item::Pair { key: Key::Str(k), value } = item {
                        path.push(k.clone());
                        collect(value, path, out);
                        path.pop();
                    }
                }
            }
            Value::List(l) => {
                out.push(aad(path));
                for e in l {
                    if let Element::Value(v) = e {
                        collect(v, path, out);
                    }
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for doc in docs {
        collect(&Value::Map(doc), &mut Vec::new(), &mut out);
    }
    out.sort();
    out.dedup();
    out
}

/// Comment text → path, as sops decided: encrypt with sops, then find the AAD of each comment.
fn theirs(plain: &str) -> Result<BTreeMap<String, String>, String> {
    let Some(interop) = interop() else { return Err("skip".into()) };
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let id = Identity::generate();
    std::fs::write(dir.path().join("keys.txt"), id.to_secret_string().expect("x25519").expose()).unwrap();
    std::fs::write(dir.path().join("p.yaml"), plain).unwrap();
    let out = Command::new(&interop.sops)
        .args(["encrypt", "--age", &id.recipient(), "p.yaml"])
        .current_dir(dir.path())
        .env_clear()
        .env("HOME", dir.path())
        .env("SOPS_DISABLE_VERSION_CHECK", "true")
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("sops refused the input: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let store = YamlStore::default();
    let (docs, meta) = store.load_encrypted(&out.stdout).map_err(|e| e.to_string())?;
    let mut ring = Keyring::new();
    ring.add_age("test", [id]);
    let key: DataKey = datakey::unwrap(&meta, &ring, &["age".to_owned()]).map_err(|e| e.to_string())?;
    let cipher = ValueCipher::read_only(&key);
    let candidates = candidate_paths(plain);
    let mut found = BTreeMap::new();
    let mut encrypted = Vec::new();
    for doc in &docs {
        walk_map(doc, &mut Vec::new(), &mut |text, _| encrypted.push(text));
        collect_comment_items(&Value::Map(doc.clone()), &mut encrypted);
    }
    for envelope in encrypted.iter().filter(|e| e.starts_with("ENC[")) {
        let opened = candidates.iter().find_map(|aad| cipher.decrypt_bytes(envelope, aad).ok().map(|(p, _)| (p, aad)));
        match opened {
            Some((plainbytes, aad)) => {
                found.insert(String::from_utf8_lossy(plainbytes.expose()).into_owned(), aad.clone());
            }
            None => return Err(format!("no path opens a comment sops wrote: {envelope}")),
        }
    }
    Ok(found)
}

/// sops 3.11 writes comments inside lists as `- ENC[…,type:comment]` items.
fn collect_comment_items(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Map(m) => {
            for item in m {
                if let Item::Pair { value, .. } = item {
                    collect_comment_items(value, out);
                }
            }
        }
        Value::List(l) => {
            for e in l {
                if let Element::Value(v) = e {
                    if let Value::Scalar(sealops::sops::tree::Scalar::Str(s)) = v
                        && let Some(text) = s.as_str()
                        && text.ends_with(",type:comment]")
                    {
                        out.push(text.to_owned());
                    }
                    collect_comment_items(v, out);
                }
            }
        }
        _ => {}
    }
}

fn check(plain: &str) {
    let theirs = match theirs(plain) {
        Ok(t) => t,
        Err(e) if e == "skip" => return,
        Err(e) => panic!("{e}\n--- input ---\n{plain}"),
    };
    let ours = ours(plain);
    // sops sometimes drops a comment entirely (a go-yaml bug); only what it kept is compared.
    let ours: BTreeMap<_, _> = ours.into_iter().filter(|(k, _)| theirs.contains_key(k)).collect();
    assert_eq!(ours, theirs, "comment placement differs (left: sealops, right: sops)\n--- input ---\n{plain}");
}

#[test]
fn comment_placement_known_shapes() {
    for plain in [
        // The foot of a sequence nested in a sequence goes up as far as the sequences end.
        "a:\n    -\n        - k0: v0\n        # c1\n",
        "a:\n    -\n        - k0: v0\n        # c1\n\nb: 1\n",
        "a:\n    -\n        - k0: v0\n        # c1\nb: 1\n",
        "a:\n    -\n        - v0\n        # c1\n",
        "a:\n    -\n        -\n            - k0: v0\n            # c1\n",
        "a:\n    -\n        - k0: v0\n        # c1\n\n    - y\n",
        "# top\na: 1 # inline\n# between\nb: 2\n# end\n",
        "a:\n    b: 1\n    # trailing a\nc: 2\n",
        "a:\n    b:\n        c: 1\n    # after nested\nd: 1\n",
        "a:\n    b:\n        c: d\n    # comment\n\ne:\n    - f\n",
        "a:\n  a:\n  # a\n",
        "a:\n  - b:\n    # x\n",
        "a:\n    # head of b\n    b: 1\n",
        "a:\n    - x\n    # in list\n    - y\n",
        "k: # after key\n    n: 1\n",
        "a:\n    b: 1\n\n    # after blank\n    c: 2\n",
        "a:\n    b: 1\n# dedented before sibling\n    c: 2\n",
        "a:\n  b: 1\n    # over-indented\nc: 1\n",
        "a: 1\n\n# alone\n\nb: 2\n",
    ] {
        check(plain);
    }
}

/// A YAML writer that puts comments in every kind of place.
#[derive(Clone, Debug)]
enum Node {
    Leaf(u8),
    Null,
    Map(Vec<(Node, Place)>),
    List(Vec<(Node, Place)>),
}

/// Comments to put before an entry: (column offset relative to the entry: -2/0/+2, blank
/// before, blank after).
#[derive(Clone, Debug)]
struct Place {
    before: Option<(i8, bool, bool)>,
    inline: bool,
}

/// With `aligned`, a comment before an entry sits at the entry's column, as people write them;
/// otherwise also 2 or 4 columns left of it or 2 right.
fn place(aligned: bool) -> impl Strategy<Value = Place> {
    let offset = if aligned { Just(0i8).boxed() } else { prop_oneof![Just(-4i8), Just(-2), Just(0), Just(2)].boxed() };
    (proptest::option::weighted(0.4, (offset, any::<bool>(), any::<bool>())), prop::bool::weighted(0.2))
        .prop_map(|(before, inline)| Place { before, inline })
}

fn node(aligned: bool) -> impl Strategy<Value = Node> {
    let leaf = prop_oneof![4 => (0u8..10).prop_map(Node::Leaf), 1 => Just(Node::Null)];
    leaf.prop_recursive(3, 20, 4, move |inner| {
        prop_oneof![
            proptest::collection::vec((inner.clone(), place(aligned)), 1..4).prop_map(Node::Map),
            proptest::collection::vec((inner, place(aligned)), 1..4).prop_map(Node::List),
        ]
    })
}

struct Writer {
    out: String,
    counter: usize,
    step: usize,
}

impl Writer {
    fn comment(&mut self, col: usize) {
        self.counter += 1;
        self.out.push_str(&format!("{}# c{}\n", " ".repeat(col), self.counter));
    }

    fn before(&mut self, place: &Place, col: usize) {
        if let Some((offset, blank_before, blank_after)) = place.before {
            if blank_before {
                self.out.push('\n');
            }
            let c = (col as i64 + i64::from(offset)).max(0) as usize;
            self.comment(c);
            if blank_after {
                self.out.push('\n');
            }
        }
    }

    fn inline(&mut self, place: &Place) {
        if place.inline {
            self.counter += 1;
            let n = self.counter;
            self.out.push_str(&format!(" # i{n}"));
        }
    }

    fn map(&mut self, entries: &[(Node, Place)], col: usize, key_prefix: &str) {
        for (i, (value, place)) in entries.iter().enumerate() {
            self.before(place, col);
            self.out.push_str(&" ".repeat(col));
            self.out.push_str(&format!("{key_prefix}k{i}:"));
            self.value_after_key(value, place, col);
        }
    }

    fn value_after_key(&mut self, value: &Node, place: &Place, col: usize) {
        match value {
            Node::Leaf(n) => {
                self.out.push_str(&format!(" v{n}"));
                self.inline(place);
                self.out.push('\n');
            }
            Node::Null => {
                self.inline(place);
                self.out.push('\n');
            }
            Node::Map(m) => {
                self.inline(place);
                self.out.push('\n');
                self.map(m, col + self.step, "");
            }
            Node::List(l) => {
                self.inline(place);
                self.out.push('\n');
                self.list(l, col + self.step);
            }
        }
    }

    fn list(&mut self, items: &[(Node, Place)], col: usize) {
        for (value, place) in items {
            self.before(place, col);
            self.out.push_str(&" ".repeat(col));
            self.out.push_str("- ");
            match value {
                Node::Leaf(n) => {
                    self.out.push_str(&format!("x{n}"));
                    self.inline(place);
                    self.out.push('\n');
                }
                Node::Null => {
                    self.out.push_str("null\n");
                }
                Node::Map(m) => {
                    // First entry on the dash's line, the others under it.
                    let mut inner = Writer { out: String::new(), counter: self.counter, step: self.step };
                    inner.map(m, col + 2, "");
                    self.counter = inner.counter;
                    self.out.push_str(inner.out.trim_start_matches(' '));
                }
                Node::List(l) => {
                    self.out.push('\n');
                    self.list(l, col + self.step);
                }
            }
        }
    }
}

fn render(root: &[(Node, Place)], step: usize, tail: Option<usize>) -> String {
    let mut w = Writer { out: String::new(), counter: 0, step };
    w.map(root, 0, "top");
    if let Some(col) = tail {
        w.comment(col);
    }
    w.out
}

/// A whole generated document: entries, indentation step, and an optional comment at the end
/// at one of several columns.
fn document(aligned: bool) -> impl Strategy<Value = String> {
    (
        proptest::collection::vec((node(aligned), place(aligned)), 1..4),
        prop_oneof![Just(2usize), Just(4usize)],
        proptest::option::of(prop_oneof![Just(0usize), Just(2), Just(4), Just(8)]),
    )
        .prop_map(|(root, step, tail)| render(&root, step, tail))
}

fn cases() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("SEALOPS_COMMENT_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(40),
        failure_persistence: None,
        max_shrink_iters: 300,
        ..ProptestConfig::default()
    }
}

/// Runs `program args…` in `dir` with only the given key file; returns (exit ok, stdout, stderr).
fn run(program: &std::path::Path, dir: &std::path::Path, args: &[&str]) -> (bool, Vec<u8>, String) {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("HOME", dir)
        .env("SOPS_AGE_KEY_FILE", dir.join("keys.txt"))
        .env("SOPS_DISABLE_VERSION_CHECK", "true")
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", program.display()));
    (out.status.success(), out.stdout, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Whatever the layout, every comment opens across the two tools: sops opens each comment of
/// the file sealops writes, and sealops opens each comment of the file sops writes (including
/// the ones sops cannot open in its own file, where go-yaml reads a comment back elsewhere).
fn comments_open_both_ways(plain: &str) -> Result<(), TestCaseError> {
    let Some(io) = interop() else { return Ok(()) };
    let dir = tempfile::tempdir().unwrap();
    let id = Identity::generate();
    std::fs::write(dir.path().join("keys.txt"), id.to_secret_string().expect("x25519").expose()).unwrap();
    std::fs::write(dir.path().join("p.yaml"), plain).unwrap();
    let recipient = id.recipient();
    let ours = std::path::Path::new(env!("CARGO_BIN_EXE_sealops"));
    let context = move |what: &str, stderr: &str, file: &[u8]| {
        format!("{what}\n--- input ---\n{plain}--- file ---\n{}--- stderr ---\n{stderr}", String::from_utf8_lossy(file))
    };

    let (ok, ours_enc, stderr) = run(ours, dir.path(), &["encrypt", "--age", &recipient, "p.yaml"]);
    prop_assert!(ok, "{}", context("sealops encrypt failed", &stderr, b""));
    std::fs::write(dir.path().join("ours.yaml"), &ours_enc).unwrap();
    let (ok, _, stderr) = run(&io.sops, dir.path(), &["decrypt", "ours.yaml"]);
    prop_assert!(
        ok && stderr.is_empty(),
        "{}",
        context("sops does not open every comment sealops wrote", &stderr, &ours_enc)
    );

    let (ok, theirs_enc, _) = run(&io.sops, dir.path(), &["encrypt", "--age", &recipient, "p.yaml"]);
    if !ok {
        // Not an input sops takes: nothing to compare.
        return Ok(());
    }
    std::fs::write(dir.path().join("theirs.yaml"), &theirs_enc).unwrap();
    let (ok, _, stderr) = run(ours, dir.path(), &["decrypt", "theirs.yaml"]);
    prop_assert!(
        ok && !stderr.contains("unencrypted comment"),
        "{}",
        context("sealops does not open every comment sops wrote", &stderr, &theirs_enc)
    );
    Ok(())
}

proptest! {
    #![proptest_config(cases())]
    #[test]
    fn comments_land_where_sops_puts_them(plain in document(true)) {
        // The input must be YAML sops accepts; generated shapes always are, but be explicit.
        if YamlStore::default().load_plain(plain.as_bytes()).is_err() {
            return Ok(());
        }
        check(&plain);
    }

    #[test]
    fn comments_anywhere_open_in_both_tools(plain in document(false)) {
        if YamlStore::default().load_plain(plain.as_bytes()).is_err() {
            return Ok(());
        }
        comments_open_both_ways(&plain)?;
    }
}
