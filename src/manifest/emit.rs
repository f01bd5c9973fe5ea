//! The YAML emitter for build output, shaped like `kubectl kustomize`'s (yaml.v3 with its
//! defaults): keys sorted, two-space indent, block sequences not indented under their key,
//! strings quoted only when they would read back as something else, multi-line strings as
//! literal blocks. Long plain strings are not folded at 80 columns as yaml.v3 does; both read
//! back as the same value.

use std::fmt::Write as _;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Number, Value};

/// A stream of objects as kustomize prints it: documents joined by `---`.
pub fn to_yaml_stream<'a>(objects: impl IntoIterator<Item = &'a Map<String, Value>>) -> String {
    let mut out = String::new();
    for (i, object) in objects.into_iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        write_object(&mut out, object);
    }
    out
}

/// One object as a YAML document (without a `---` line).
pub fn to_yaml(object: &Map<String, Value>) -> String {
    let mut out = String::new();
    write_object(&mut out, object);
    out
}

fn write_object(out: &mut String, object: &Map<String, Value>) {
    if object.is_empty() {
        out.push_str("{}\n");
    } else {
        write_map(out, object, 0, false);
    }
}

fn indent(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// The entries of a non-empty mapping at column `col`; with `inline`, the first entry
/// continues the current line (after `- `).
fn write_map(out: &mut String, map: &Map<String, Value>, col: usize, inline: bool) {
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort();
    for (i, key) in keys.into_iter().enumerate() {
        if !(i == 0 && inline) {
            indent(out, col);
        }
        write_key(out, key);
        out.push(':');
        write_after_colon(out, &map[key.as_str()], col);
    }
}

fn write_after_colon(out: &mut String, value: &Value, col: usize) {
    match value {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            write_map(out, m, col + 2, false);
        }
        // yaml.v3 puts a block sequence at its key's column.
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            write_seq(out, a, col, false);
        }
        _ => {
            out.push(' ');
            write_scalar_or_empty(out, value, col + 2);
        }
    }
}

fn write_seq(out: &mut String, items: &[Value], col: usize, inline: bool) {
    for (i, item) in items.iter().enumerate() {
        if !(i == 0 && inline) {
            indent(out, col);
        }
        out.push_str("- ");
        match item {
            Value::Object(m) if !m.is_empty() => write_map(out, m, col + 2, true),
            Value::Array(a) if !a.is_empty() => write_seq(out, a, col + 2, true),
            _ => write_scalar_or_empty(out, item, col + 2),
        }
    }
}

/// A scalar, `{}` or `[]`, ending the line. `block_col` is where a literal block's lines go.
fn write_scalar_or_empty(out: &mut String, value: &Value, block_col: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_string(out, s, block_col),
        Value::Array(_) => out.push_str("[]"),
        Value::Object(_) => out.push_str("{}"),
    }
    out.push('\n');
}

/// Integers as they are; floats as Go's `strconv.FormatFloat(f, 'g', -1, 64)`, which yaml.v3
/// uses: shortest digits, exponent form (two-digit exponent) when the decimal exponent is below
/// -4 or at least 6 (Go decides with precision 6 in shortest mode).
fn write_number(out: &mut String, n: &Number) {
    if n.is_i64() || n.is_u64() {
        let _ = write!(out, "{n}");
        return;
    }
    let Some(f) = n.as_f64() else {
        let _ = write!(out, "{n}");
        return;
    };
    if f == 0.0 {
        out.push_str(if f.is_sign_negative() { "-0" } else { "0" });
        return;
    }
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        let _ = write!(out, "{mantissa}e{sign}{:02}", exp.abs());
    } else {
        let _ = write!(out, "{f}");
    }
}

fn write_key(out: &mut String, key: &str) {
    match style_of(key, false) {
        Style::Plain => out.push_str(key),
        Style::Single => write_single(out, key),
        Style::Double | Style::Literal => write_double(out, key),
    }
}

fn write_string(out: &mut String, s: &str, block_col: usize) {
    match style_of(s, true) {
        Style::Plain => out.push_str(s),
        Style::Single => write_single(out, s),
        Style::Double => write_double(out, s),
        Style::Literal => write_literal(out, s, block_col),
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

/// libyaml's scalar analysis (`yaml_emitter_analyze_scalar`) in block context, plus yaml.v3's
/// rule that a string which would resolve to another type is double-quoted.
fn style_of(s: &str, block_allowed: bool) -> Style {
    if s.is_empty() {
        return Style::Double;
    }
    let chars: Vec<char> = s.chars().collect();
    let mut special = false;
    let mut has_break = false;
    let mut space_break = false;
    let mut indicator = false;
    for (i, &c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied();
        let prev = if i == 0 { None } else { Some(chars[i - 1]) };
        let followed_by_blank = next.is_none_or(|n| n == ' ' || n == '\t' || n == '\n');
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"' | '%' | '@' | '`' => {
                    indicator = true
                }
                '-' | '?' | ':' if followed_by_blank => indicator = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_blank => indicator = true,
                '#' if prev.is_some_and(|p| p == ' ' || p == '\t') => indicator = true,
                _ => {}
            }
        }
        if c == '\n' {
            has_break = true;
            if prev == Some(' ') {
                space_break = true;
            }
        } else if !printable(c) {
            special = true;
        }
    }
    let leading_space = chars[0] == ' ';
    let trailing_space = chars[chars.len() - 1] == ' ';
    if special || space_break {
        return Style::Double;
    }
    if has_break {
        if block_allowed && !trailing_space {
            return Style::Literal;
        }
        return Style::Double;
    }
    if leading_space || trailing_space || indicator {
        return Style::Single;
    }
    if resolves_to_non_string(s) {
        return Style::Double;
    }
    Style::Plain
}

/// libyaml's `IS_PRINTABLE`, minus the line break we handle separately.
fn printable(c: char) -> bool {
    matches!(c, ' '..='~' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
        && c != '\u{feff}'
}

static NUMBER_LIKE: LazyLock<Regex> = LazyLock::new(|| {
    // Spellings YAML 1.1 or 1.2 would read as a number, a timestamp or a sexagesimal: yaml.v3
    // quotes all of them so older parsers read the string back.
    Regex::new(concat!(
        r"^(?:[-+]?(?:\.[0-9_]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?",
        r"|[-+]?0x[0-9a-fA-F_]+|[-+]?0o[0-7_]+|[-+]?0b[01_]+",
        r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?",
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)",
        r"|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt ].*)?)$",
    ))
    .expect("static regex")
});

fn resolves_to_non_string(s: &str) -> bool {
    const WORDS: &[&str] = &[
        "~", "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE", "y", "Y", "yes", "Yes", "YES",
        "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF", "<<", "=",
    ];
    WORDS.contains(&s) || NUMBER_LIKE.is_match(s)
}

fn write_single(out: &mut String, s: &str) {
    out.push('\'');
    out.push_str(&s.replace('\'', "''"));
    out.push('\'');
}

fn write_double(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{b}' => out.push_str("\\v"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '\u{1b}' => out.push_str("\\e"),
            '\u{85}' => out.push_str("\\N"),
            '\u{a0}' => out.push_str("\\_"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if printable(c) => out.push(c),
            c if (c as u32) <= 0xff => {
                let _ = write!(out, "\\x{:02X}", c as u32);
            }
            c if (c as u32) <= 0xffff => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08X}", c as u32);
            }
        }
    }
    out.push('"');
}

/// `|`, `|-` or `|+` by the trailing newlines, `2` when the first line starts with a space
/// (the content indent could not be told otherwise); lines at `col`.
fn write_literal(out: &mut String, s: &str, col: usize) {
    out.push('|');
    if s.starts_with(' ') || s.starts_with('\n') {
        out.push('2');
    }
    let body = s.trim_end_matches('\n');
    let trailing = s.len() - body.len();
    match trailing {
        0 => out.push('-'),
        1 => {}
        _ => out.push('+'),
    }
    out.push('\n');
    for line in body.split('\n') {
        if !line.is_empty() {
            indent(out, col);
            out.push_str(line);
        }
        out.push('\n');
    }
    // `|+` keeps the extra newlines as empty lines; the caller ends the last one.
    for _ in 1..trailing {
        out.push('\n');
    }
    // The caller appends the final newline after every scalar.
    out.pop();
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn emit(v: Value) -> String {
        to_yaml(v.as_object().unwrap())
    }

    #[test]
    fn keys_sorted_and_sequences_at_the_key_column() {
        // Shape from `kubectl kustomize` (v5.5) output of a Deployment.
        let got = emit(json!({
            "spec": {"containers": [{"name": "c", "args": ["a", 1], "env": []}], "x": {}},
            "apiVersion": "apps/v1",
        }));
        assert_eq!(
            got,
            "apiVersion: apps/v1\nspec:\n  containers:\n  - args:\n    - a\n    - 1\n    env: []\n    name: c\n  x: {}\n"
        );
    }

    #[test]
    fn strings_quoted_as_kustomize_does() {
        // Each expected spelling is what `kubectl kustomize` printed for the string.
        let cases: &[(&str, &str)] = &[
            ("yes", "\"yes\""),
            ("NO", "\"NO\""),
            ("on", "\"on\""),
            ("0755", "\"0755\""),
            ("1.5", "\"1.5\""),
            ("1e3", "\"1e3\""),
            ("0x1F", "\"0x1F\""),
            ("0o17", "\"0o17\""),
            ("1_000", "\"1_000\""),
            ("1:20", "\"1:20\""),
            (".5", "\".5\""),
            ("+1", "\"+1\""),
            ("-.inf", "\"-.inf\""),
            (".nan", "\".nan\""),
            ("null", "\"null\""),
            ("Null", "\"Null\""),
            ("True", "\"True\""),
            ("~", "\"~\""),
            ("", "\"\""),
            ("2001-12-14", "\"2001-12-14\""),
            ("`x", "'`x'"),
            ("%x", "'%x'"),
            ("!x", "'!x'"),
            ("trail ", "'trail '"),
            (" lead", "' lead'"),
            ("{a}", "'{a}'"),
            ("[a]", "'[a]'"),
            ("*x", "'*x'"),
            ("#x", "'#x'"),
            ("@foo", "'@foo'"),
            ("a: b", "'a: b'"),
            (": x", "': x'"),
            ("- a", "'- a'"),
            ("-", "'-'"),
            ("x:", "'x:'"),
            ("a #b", "'a #b'"),
            ("tab\there", "\"tab\\there\""),
            ("ab\u{1}", "\"ab\\x01\""),
            ("a'b\tc", "\"a'b\\tc\""),
            ("é", "é"),
            ("-a", "-a"),
            ("?x", "?x"),
            ("a:b", "a:b"),
            ("a#b", "a#b"),
            ("it's", "it's"),
            ("=x", "=x"),
            ("x,y", "x,y"),
            ("12abc", "12abc"),
        ];
        for (input, want) in cases {
            let got = emit(json!({ "k": input }));
            assert_eq!(got, format!("k: {want}\n"), "for {input:?}");
        }
    }

    #[test]
    fn keys_are_quoted_too() {
        assert_eq!(emit(json!({"n": "a", "y": "b", "on": "c"})), "\"n\": a\n\"on\": c\n\"y\": b\n");
    }

    #[test]
    fn multi_line_strings_are_literal_blocks() {
        // From `kubectl kustomize`: "  lead\nx\n", "x\n\n", "x\ny", "trail \nx".
        assert_eq!(emit(json!({"a": "  lead\nx\n"})), "a: |2\n    lead\n  x\n");
        assert_eq!(emit(json!({"b": "x\n\n"})), "b: |+\n  x\n\n");
        assert_eq!(emit(json!({"c": "x\ny"})), "c: |-\n  x\n  y\n");
        assert_eq!(emit(json!({"d": "trail \nx"})), "d: \"trail \\nx\"\n");
        assert_eq!(emit(json!({"e": ["a\nb\n"]})), "e:\n- |\n  a\n  b\n");
        assert_eq!(emit(json!({"m": {"t": "multi\n\nline\n"}})), "m:\n  t: |\n    multi\n\n    line\n");
    }

    #[test]
    fn numbers_print_like_go() {
        // From `kubectl kustomize`: 1.50 → 1.5, 1e3 → 1000, 1.0e-7 → 1e-07, 1.0e+25 → 1e+25.
        assert_eq!(
            emit(json!({"a": 1.5, "b": 1000.0, "c": 1.0e-7, "d": 1.0e25, "e": 0.1, "f": 493})),
            "a: 1.5\nb: 1000\nc: 1e-07\nd: 1e+25\ne: 0.1\nf: 493\n"
        );
        assert_eq!(emit(json!({"a": 12345678901234567890u64})), "a: 12345678901234567890\n");
    }

    #[test]
    fn nested_sequences_and_stream() {
        let a = json!({"k": [["a", "b"], [], {}]});
        let b = json!({"kind": "B"});
        let got = to_yaml_stream([a.as_object().unwrap(), b.as_object().unwrap()]);
        assert_eq!(got, "k:\n- - a\n  - b\n- []\n- {}\n---\nkind: B\n");
    }

    #[test]
    fn output_reads_back_as_the_same_value() {
        let v = json!({"a": ["yes", "0755", " x", "a\n b\n", "\u{1}", "'q'", "\"d\"", "x: y", 1, 2.5, null, true],
            "m": {"": "empty key", "k k": {"n": [{"a": 1, "b": [1, 2]}]}}});
        let text = emit(v.clone());
        let back = crate::manifest::parse::parse_documents("t", text.as_bytes()).unwrap();
        assert_eq!(back, vec![v], "{text}");
    }
}
