//! Checks shared by the fuzz targets (each target in `fuzz_targets/` is a thin wrapper).
//!
//! The main one is [`store_round_trip`]: parse arbitrary bytes with a store, write the documents
//! back, parse them again, and require (1) that the second parse succeeds, (2) that it gives the
//! same documents up to the format's *documented* normalisations ([`Normalisations`]), and (3)
//! that one more write gives the same bytes: `emit(parse(emit(parse(x)))) == emit(parse(x))`.
//! The same is done for the encrypted side (`load_encrypted` → `emit_encrypted` →
//! `load_encrypted`), with the metadata compared as a tree.
//!
//! Panic messages print the values involved. They are fuzz inputs, not secrets.

use std::fmt::Write as _;

use sealops::sops::store::{Format, Store, StoreConfig, StoreError, for_format};
use sealops::sops::tree::{Branch, Comment, Element, Item, Key, Scalar, Value, branches_equal};

/// The differences a store's documented normalisations allow between `parse(x)` and
/// `parse(emit(parse(x)))`. Every difference not listed here is a finding.
#[derive(Clone, Copy, Debug, Default)]
pub struct Normalisations {
    /// An integral float is written without a fraction or exponent and reads back as an integer
    /// (`docs/formats/sops.md`: YAML `3.0` "comes back as `3` (and is an int the next time)";
    /// JSON writes floats in `encoding/json` form, so `1.0` is written `1`, an int once read).
    pub integral_float_becomes_int: bool,
    /// YAML: comments at the start of a map or list that is a list element are written before
    /// its `-` and read back as comments of the outer list, just before that element (finding
    /// F4 in README.md; sops 3.11 writes the same text).
    pub list_map_leading_comments_move_to_list: bool,
    /// YAML: an inline comment on a value written as a literal block (`|-`) is written on its
    /// own line after the block and read back as a comment after the entry (finding F5; sops
    /// 3.11 writes it above the key instead).
    pub inline_comment_of_block_scalar_moves_after: bool,
    /// INI, as ini.v1 (and so sops 3.11, checked) writes comments: an empty comment is not
    /// written; in a comment of several lines each line after the first, which still starts with
    /// its `;`/`#`, is written as that marker, one space and the trimmed rest (`#b` → `# b`); the
    /// lines of a key's comment are trimmed with Go's `strings.TrimSpace` (`\x0c`, U+205F…).
    pub ini_comment_layout: bool,
}

/// The documented normalisations of each store.
pub fn normalisations(format: Format) -> Normalisations {
    match format {
        Format::Yaml => Normalisations {
            integral_float_becomes_int: true,
            list_map_leading_comments_move_to_list: true,
            inline_comment_of_block_scalar_moves_after: true,
            ini_comment_layout: false,
        },
        Format::Json => Normalisations { integral_float_becomes_int: true, ..Normalisations::default() },
        Format::Ini => Normalisations { ini_comment_layout: true, ..Normalisations::default() },
        // Strings only (dotenv), or raw bytes (binary): nothing may change.
        Format::Dotenv | Format::Binary => Normalisations::default(),
    }
}

/// The stores exactly as the CLI builds them (default `StoreConfig`).
pub fn store(format: Format) -> Box<dyn Store> {
    for_format(format, StoreConfig::default())
}

/// Parse → emit → parse → emit, plaintext and encrypted sides. Panics on any broken invariant.
pub fn store_round_trip(format: Format, input: &[u8]) {
    let allowed = normalisations(format);
    let store = store(format);
    encrypted_round_trip(&*store, input, allowed);

    let Ok(first) = store.load_plain(input) else { return };
    // `emit_value` (used by `decrypt --extract`) on every top-level value: must not panic.
    for doc in &first {
        for item in doc {
            if let Item::Pair { value, .. } = item {
                let _ = store.emit_value(value);
            }
        }
    }
    let written = match store.emit_plain(&first) {
        Ok(bytes) => bytes,
        Err(e) if emit_refusal_is_by_design(format, &first, &e) => return,
        Err(e) => panic!("{format:?}: parsed input cannot be written: {e}\ninput: {:?}", lossy(input)),
    };
    let second = store.load_plain(&written).unwrap_or_else(|e| {
        panic!("{format:?}: written text does not parse again: {e}\nwritten: {:?}", lossy(&written))
    });
    if let Some(diff) = explained_difference(&first, &second, allowed) {
        panic!(
            "{format:?}: documents changed on a round trip: {diff}\ninput:   {:?}\nwritten: {:?}",
            lossy(input),
            lossy(&written)
        );
    }
    let again = store.emit_plain(&second).unwrap_or_else(|e| {
        panic!(
            "{format:?}: documents read back from written text cannot be written: {e}\nwritten: {:?}",
            lossy(&written)
        )
    });
    assert!(
        again == written || negative_zero_explains(&first, &again, allowed, |d| store.emit_plain(d)),
        "{format:?}: emit is not a fixed point\ninput:  {:?}\nfirst:  {:?}\nsecond: {:?}",
        lossy(input),
        lossy(&written),
        lossy(&again)
    );
}

/// `load_encrypted` must not panic; what it accepts must survive `emit_encrypted` →
/// `load_encrypted` with the same documents (up to `allowed`) and the same metadata tree, and a
/// second `emit_encrypted` must give the same bytes.
fn encrypted_round_trip(store: &dyn Store, input: &[u8], allowed: Normalisations) {
    let format = store.format();
    let Ok((docs, meta)) = store.load_encrypted(input) else { return };
    let written = match store.emit_encrypted(&docs, &meta) {
        Ok(bytes) => bytes,
        // A `sops` key in a later YAML document is dropped on load (sops #2224), never re-added;
        // a reserved key left in the documents is refused on the way out, as sops refuses it.
        Err(StoreError::ReservedKey(_)) => return,
        Err(e) if emit_refusal_is_by_design(format, &docs, &e) => return,
        Err(e) => panic!("{format:?}: loaded encrypted file cannot be written: {e}\ninput: {:?}", lossy(input)),
    };
    let (docs2, meta2) = store.load_encrypted(&written).unwrap_or_else(|e| {
        panic!(
            "{format:?}: written encrypted file does not load: {e}\ninput: {:?}\nwritten: {:?}",
            lossy(input),
            lossy(&written)
        )
    });
    if let Some(diff) = explained_difference(&docs, &docs2, allowed) {
        panic!(
            "{format:?}: encrypted documents changed on a round trip: {diff}\ninput:   {:?}\nwritten: {:?}",
            lossy(input),
            lossy(&written)
        );
    }
    let (m1, m2) = (meta.to_branch(), meta2.to_branch());
    if let Some(diff) =
        first_difference(std::slice::from_ref(&m1), std::slice::from_ref(&m2), Normalisations::default())
    {
        panic!(
            "{format:?}: metadata changed on a round trip: {diff}\ninput:   {:?}\nwritten: {:?}",
            lossy(input),
            lossy(&written)
        );
    }
    let again = store.emit_encrypted(&docs2, &meta2).unwrap_or_else(|e| {
        panic!("{format:?}: re-loaded encrypted file cannot be written: {e}\nwritten: {:?}", lossy(&written))
    });
    assert!(
        again == written || negative_zero_explains(&docs, &again, allowed, |d| store.emit_encrypted(d, &meta2)),
        "{format:?}: emit_encrypted is not a fixed point\ninput:  {:?}\nfirst:  {:?}\nsecond: {:?}",
        lossy(input),
        lossy(&written),
        lossy(&again)
    );
}

/// The one case where the *text* needs two rounds to settle although the documents compare equal
/// after one (finding F1 in README.md): a float `-0.0` is written `-0` (Go's `%g`), which reads
/// back as the *int* 0 and is then written `0`. Narrowly: the second output must be exactly what
/// the first documents give with every `-0.0` replaced by the int 0.
fn negative_zero_explains(
    first: &[Branch],
    second_output: &[u8],
    allowed: Normalisations,
    emit: impl Fn(&[Branch]) -> Result<Vec<u8>, StoreError>,
) -> bool {
    if !allowed.integral_float_becomes_int || !first.iter().any(|d| map_has_negative_zero(d)) {
        return false;
    }
    let replaced: Vec<Branch> = first.iter().map(|d| map_without_negative_zero(d)).collect();
    emit(&replaced).is_ok_and(|bytes| bytes == second_output)
}

fn is_negative_zero(s: &Scalar) -> bool {
    matches!(s, Scalar::Float(f) if *f == 0.0 && f.is_sign_negative())
}

/// True when a document holds a float `-0.0` anywhere.
pub fn map_has_negative_zero(items: &[Item]) -> bool {
    items.iter().any(|i| matches!(i, Item::Pair { value, .. } if value_has_negative_zero(value)))
}

fn value_has_negative_zero(v: &Value) -> bool {
    match v {
        Value::Scalar(s) => is_negative_zero(s),
        Value::Map(m) => map_has_negative_zero(m),
        Value::List(l) => l.iter().any(|e| matches!(e, Element::Value(v) if value_has_negative_zero(v))),
        Value::Null => false,
    }
}

fn map_without_negative_zero(items: &[Item]) -> Branch {
    items
        .iter()
        .map(|i| match i {
            Item::Pair { key, value } => Item::Pair { key: key.clone(), value: value_without_negative_zero(value) },
            other => other.clone(),
        })
        .collect()
}

fn value_without_negative_zero(v: &Value) -> Value {
    match v {
        Value::Scalar(s) if is_negative_zero(s) => Value::Scalar(Scalar::Int(0)),
        Value::Map(m) => Value::Map(map_without_negative_zero(m)),
        Value::List(l) => Value::List(
            l.iter()
                .map(|e| match e {
                    Element::Value(v) => Element::Value(value_without_negative_zero(v)),
                    other => other.clone(),
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Refusals to write that are documented, for trees a store's own parser produced.
fn emit_refusal_is_by_design(format: Format, _docs: &[Branch], e: &StoreError) -> bool {
    let message = e.to_string();
    match format {
        // The binary store writes exactly one `data` string; `load_encrypted` of a JSON envelope
        // can give anything.
        Format::Binary => message.contains("error emitting binary store"),
        // JSON has no multi-document form and no empty file (`load_encrypted` always gives one
        // document, so this cannot happen from a parse).
        _ => false,
    }
}

/// [`first_difference`], unless some combination of the tree-level normalisations in `allowed`,
/// applied to `a`, explains it. The difference reported is the one against `a` as it was.
pub fn explained_difference(a: &[Branch], b: &[Branch], allowed: Normalisations) -> Option<String> {
    let diff = first_difference(a, b, allowed)?;
    let hoist = [false, allowed.list_map_leading_comments_move_to_list];
    let block = [false, allowed.inline_comment_of_block_scalar_moves_after];
    let ini = allowed.ini_comment_layout;
    for h in hoist {
        for k in block {
            let r = Rewrite { hoist: h, block: k, ini };
            if (h || k || ini) && first_difference(&rewrite_docs(a, r), b, allowed).is_none() {
                return None;
            }
        }
    }
    Some(diff)
}

/// Which normalisations a [`rewrite_docs`] applies.
#[derive(Clone, Copy)]
struct Rewrite {
    /// `a: [{# c, k: v}]` → `a: [# c, {k: v}]`, and the same for a list in a list (F4).
    hoist: bool,
    /// `{# c (inline), k: "x\ny"}` → `{k: "x\ny", # c}`, in maps and lists (F5).
    block: bool,
    /// INI comment layout (see [`Normalisations::ini_comment_layout`]).
    ini: bool,
}

fn rewrite_docs(docs: &[Branch], r: Rewrite) -> Vec<Branch> {
    docs.iter().map(|d| rewrite_map(d, r)).collect()
}

/// Go's `unicode.IsSpace`, which ini.v1's `strings.TrimSpace` uses.
fn go_space(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\u{B}' | '\u{C}' | '\r' | ' ' | '\u{85}' | '\u{A0}' | '\u{1680}')
        || matches!(c, '\u{2000}'..='\u{200A}' | '\u{2028}' | '\u{2029}' | '\u{202F}' | '\u{205F}' | '\u{3000}')
}

fn go_trim(line: &[u8]) -> &[u8] {
    // Comments are UTF-8 here only when they were in the input; trim what can be decoded.
    match std::str::from_utf8(line) {
        Ok(text) => text.trim_matches(go_space).as_bytes(),
        Err(_) => line,
    }
}

/// A comment as ini.v1 (and sops) writes and then reads it; `None` when it is not written at
/// all. Lines after the first still start with their `;`/`#`: written as that marker, a space
/// and the trimmed rest. With `trim_lines` (a key's comment, not a section's) every other line
/// is trimmed as well (`strings.TrimSpace`).
fn ini_comment(c: &Comment, trim_lines: bool) -> Option<Comment> {
    let text = c.text.expose();
    if text.is_empty() {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() + 8);
    let lines = text.split(|&b| b == b'\n').count();
    for (n, line) in text.split(|&b| b == b'\n').enumerate() {
        if n > 0 {
            out.push(b'\n');
        }
        match line.split_first() {
            Some((&marker @ (b'#' | b';'), rest)) => {
                // (Read back, a last line `; ` with nothing after it is just `;`: the whole
                // comment is trimmed.)
                out.push(marker);
                let rest = go_trim(rest);
                if !rest.is_empty() || n + 1 < lines {
                    out.push(b' ');
                }
                out.extend_from_slice(rest);
            }
            _ if trim_lines => out.extend_from_slice(go_trim(line)),
            _ => out.extend_from_slice(line),
        }
    }
    Some(Comment { text: out.into(), inline: c.inline })
}

/// Leading comments of a map or list that is a list element, taken out (F4). Only when entries
/// follow: an all-comment collection is written `{} # c` / `[] # c`.
fn split_leading_comments(v: Value) -> (Vec<Comment>, Value) {
    match v {
        Value::Map(mut m) => {
            let lead = m.iter().take_while(|i| matches!(i, Item::Comment(_))).count();
            if lead == 0 || lead == m.len() {
                return (Vec::new(), Value::Map(m));
            }
            let comments = m
                .drain(..lead)
                .filter_map(|i| match i {
                    Item::Comment(c) => Some(c),
                    Item::Pair { .. } => None,
                })
                .collect();
            (comments, Value::Map(m))
        }
        Value::List(mut l) => {
            let lead = l.iter().take_while(|e| matches!(e, Element::Comment(_))).count();
            if lead == 0 || lead == l.len() {
                return (Vec::new(), Value::List(l));
            }
            let comments = l
                .drain(..lead)
                .filter_map(|e| match e {
                    Element::Comment(c) => Some(c),
                    Element::Value(_) => None,
                })
                .collect();
            (comments, Value::List(l))
        }
        other => (Vec::new(), other),
    }
}

/// A string the YAML emitter may write as a literal block (`|`), ending its line.
fn multi_line(v: &Value) -> bool {
    matches!(v, Value::Scalar(Scalar::Str(s)) if s.expose().contains(&b'\n'))
}

fn rewrite_map(items: &[Item], r: Rewrite) -> Branch {
    let mut out: Branch = Vec::with_capacity(items.len());
    let mut inline: Vec<Item> = Vec::new();
    for item in items {
        match item {
            Item::Comment(c) if r.block && c.inline => inline.push(item.clone()),
            Item::Pair { key, value } => {
                let moves = multi_line(value);
                if !moves {
                    out.append(&mut inline);
                }
                out.push(Item::Pair { key: key.clone(), value: rewrite_value(value, r) });
                out.append(&mut inline);
            }
            Item::Comment(c) if r.ini => {
                out.append(&mut inline);
                // A section's comment is the first item of its map; a key's comment follows it.
                let trim_lines = !out.is_empty();
                out.extend(ini_comment(c, trim_lines).map(Item::Comment));
            }
            Item::Comment(_) => {
                out.append(&mut inline);
                out.push(item.clone());
            }
        }
    }
    out.append(&mut inline);
    out
}

fn rewrite_value(v: &Value, r: Rewrite) -> Value {
    match v {
        Value::Map(m) => Value::Map(rewrite_map(m, r)),
        Value::List(l) => {
            let mut out = Vec::with_capacity(l.len());
            let mut inline: Vec<Element> = Vec::new();
            for e in l {
                match e {
                    Element::Comment(c) if r.block && c.inline => inline.push(e.clone()),
                    Element::Comment(_) => {
                        out.append(&mut inline);
                        out.push(e.clone());
                    }
                    Element::Value(v) => {
                        let moves = multi_line(v);
                        if !moves {
                            out.append(&mut inline);
                        }
                        let v = rewrite_value(v, r);
                        let (lead, rest) = if r.hoist { split_leading_comments(v) } else { (Vec::new(), v) };
                        out.extend(lead.into_iter().map(Element::Comment));
                        out.push(Element::Value(rest));
                        out.append(&mut inline);
                    }
                }
            }
            out.append(&mut inline);
            Value::List(out)
        }
        other => other.clone(),
    }
}

/// The first difference between two document lists, up to `allowed`; `None` when they match.
pub fn first_difference(a: &[Branch], b: &[Branch], allowed: Normalisations) -> Option<String> {
    if a.len() != b.len() {
        return Some(format!("{} documents vs {}", a.len(), b.len()));
    }
    for (n, (x, y)) in a.iter().zip(b).enumerate() {
        // The library's own equality first; the tolerant walk only explains or excuses.
        if branches_equal(x, y) {
            continue;
        }
        let mut at = format!("document {n}: ");
        if let Some(diff) = map_difference(x, y, allowed, &mut at) {
            return Some(diff);
        }
        if !allowed.integral_float_becomes_int {
            return Some(format!("{at}branches_equal is false but no difference was found"));
        }
    }
    None
}

fn map_difference(a: &[Item], b: &[Item], allowed: Normalisations, at: &mut String) -> Option<String> {
    for (n, pair) in a.iter().zip(b.iter()).enumerate() {
        let len = at.len();
        match pair {
            (Item::Pair { key: k1, value: v1 }, Item::Pair { key: k2, value: v2 }) => {
                let _ = write!(at, "[{}]", key_text(k1));
                if k1 != k2 {
                    return Some(format!("{at}: key {k1:?} vs {k2:?}"));
                }
                if let Some(d) = value_difference(v1, v2, allowed, at) {
                    return Some(d);
                }
            }
            (Item::Comment(c1), Item::Comment(c2)) => {
                if c1.text != c2.text {
                    return Some(format!(
                        "{at}(item {n}): comment {:?} vs {:?}",
                        lossy(c1.text.expose()),
                        lossy(c2.text.expose())
                    ));
                }
            }
            (x, y) => return Some(format!("{at}(item {n}): {} vs {}", item_text(x), item_text(y))),
        }
        at.truncate(len);
    }
    (a.len() != b.len()).then(|| {
        format!(
            "{at}: {} items vs {} ({})",
            a.len(),
            b.len(),
            if a.len() > b.len() { item_text(&a[b.len()]) } else { item_text(&b[a.len()]) }
        )
    })
}

fn value_difference(a: &Value, b: &Value, allowed: Normalisations, at: &mut String) -> Option<String> {
    match (a, b) {
        (Value::Null, Value::Null) => None,
        (Value::Scalar(x), Value::Scalar(y)) => (!x.same_as(y) && !allowed_scalar_change(x, y, allowed))
            .then(|| format!("{at}: {} vs {}", scalar_text(x), scalar_text(y))),
        (Value::Map(x), Value::Map(y)) => map_difference(x, y, allowed, at),
        (Value::List(x), Value::List(y)) => {
            for (n, pair) in x.iter().zip(y).enumerate() {
                let len = at.len();
                let _ = write!(at, "[{n}]");
                match pair {
                    (Element::Value(v1), Element::Value(v2)) => {
                        if let Some(d) = value_difference(v1, v2, allowed, at) {
                            return Some(d);
                        }
                    }
                    (Element::Comment(c1), Element::Comment(c2)) => {
                        if c1.text != c2.text {
                            return Some(format!(
                                "{at}: comment {:?} vs {:?}",
                                lossy(c1.text.expose()),
                                lossy(c2.text.expose())
                            ));
                        }
                    }
                    (Element::Comment(_), Element::Value(v)) => return Some(format!("{at}: comment vs {v:?}")),
                    (Element::Value(v), Element::Comment(_)) => return Some(format!("{at}: {v:?} vs comment")),
                }
                at.truncate(len);
            }
            (x.len() != y.len()).then(|| format!("{at}: list of {} vs {}", x.len(), y.len()))
        }
        (x, y) => Some(format!("{at}: {} vs {}", value_text(x), value_text(y))),
    }
}

fn allowed_scalar_change(a: &Scalar, b: &Scalar, allowed: Normalisations) -> bool {
    match (a, b) {
        (Scalar::Float(f), Scalar::Int(i)) => allowed.integral_float_becomes_int && *f == *i as f64,
        (Scalar::Float(f), Scalar::Uint(u)) => allowed.integral_float_becomes_int && *f == *u as f64,
        _ => false,
    }
}

fn key_text(k: &Key) -> String {
    match k {
        Key::Str(s) => format!("{s:?}"),
        Key::Other { text, kind } => format!("{text}:{kind}"),
    }
}

fn item_text(i: &Item) -> String {
    match i {
        Item::Pair { key, value } => format!("{}: {}", key_text(key), value_text(value)),
        Item::Comment(c) => format!("comment {:?}", lossy(c.text.expose())),
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::Scalar(s) => scalar_text(s),
        other => format!("{other:?}"),
    }
}

/// A scalar with its type and its value (fuzz data, so printing it is fine).
pub fn scalar_text(s: &Scalar) -> String {
    match s {
        Scalar::Str(b) => format!("str {:?}", lossy(b.expose())),
        Scalar::Bytes(b) => format!("bytes {:?}", lossy(b.expose())),
        Scalar::Int(i) => format!("int {i}"),
        Scalar::Uint(u) => format!("uint {u}"),
        Scalar::Float(f) => format!("float {f:?}"),
        Scalar::Bool(b) => format!("bool {b}"),
        Scalar::Time(t) => format!("time {}", t.rfc3339_nano()),
    }
}

/// Bytes as text for messages.
pub fn lossy(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

/// Key-b of `tests/data/sealed-secrets-upstream` (public test material), parsed once: the key
/// the sealed targets seal to and open with.
pub fn sealing_key() -> &'static sealops::crypto::rsa::PrivateKey {
    static KEY: std::sync::OnceLock<sealops::crypto::rsa::PrivateKey> = std::sync::OnceLock::new();
    KEY.get_or_init(|| {
        sealops::crypto::rsa::PrivateKey::from_pem(include_bytes!(
            "../../data/sealed-secrets-upstream/keys/key-b/tls.key"
        ))
        .expect("key-b")
    })
}
