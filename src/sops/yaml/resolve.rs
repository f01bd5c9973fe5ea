//! YAML scalar resolution exactly as go-yaml v3 does it, because sops's types (and so the
//! `type:` tags and the MAC bytes of clear values) come from it.
//!
//! Rules (`resolve.go`, `decode.go` in go-yaml v3): quoted and block scalars are strings; plain
//! scalars go through a first-character hint: `~`/`null`/empty are null, `true`/`True`/`TRUE`
//! and the `false` forms are booleans (`yes`/`on` stay strings: YAML 1.2), numbers are tried as
//! timestamp, then Go `ParseInt(s, 0, 64)` (so `0x1F`, `0o17`, `0b11`, and the YAML 1.1 octal
//! `017`), then `ParseUint`, then a decimal float; `.inf`/`.nan` spellings are floats. Explicit
//! tags force a type or fail; unknown tags leave the text a string; `!!binary` is base64.

use base64::Engine;

use crate::crypto::SecretBytes;
use crate::sops::gotime::GoTime;
use crate::sops::tree::Scalar;

/// A resolved scalar: `None` is null.
pub type Resolved = Option<Scalar>;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ResolveError {
    /// The value is not included: it may be a secret.
    #[error("cannot decode {found} as a {wanted}")]
    Mismatch { found: &'static str, wanted: String },
    #[error("!!binary value contains invalid base64 data")]
    Binary,
}

/// The short form of a tag as go-yaml names it (`!!str`, `!custom`), `""` for none.
pub fn short_tag(handle: &str, suffix: &str) -> String {
    if handle == "tag:yaml.org,2002:" || handle == "!!" { format!("!!{suffix}") } else { format!("{handle}{suffix}") }
}

/// The node's text was written quoted or as a block scalar.
pub fn resolve(value: &str, tag: &str, quoted_or_block: bool) -> Result<Resolved, ResolveError> {
    // `indicatedString`: an explicit !!str, or no/non-specific tag with a non-plain style.
    if tag == "!!str" || ((tag.is_empty() || tag == "!") && quoted_or_block) {
        return Ok(Some(Scalar::str(value)));
    }
    if tag == "!!binary" {
        let clean: String = value.chars().filter(|c| !c.is_whitespace()).collect();
        let bytes = base64::engine::general_purpose::STANDARD.decode(clean).map_err(|_| ResolveError::Binary)?;
        return Ok(Some(Scalar::Str(SecretBytes::new(bytes))));
    }
    let resolvable = matches!(tag, "" | "!!str" | "!!bool" | "!!int" | "!!float" | "!!null" | "!!timestamp");
    if !resolvable {
        // Custom and non-specific tags: the text is kept as a string, the tag is dropped.
        return Ok(Some(Scalar::str(value)));
    }
    let resolved = resolve_plain(value, tag);
    check_tag(tag, resolved)
}

/// What the tag of a resolved value is, for the explicit-tag check.
fn tag_of(r: &Resolved) -> &'static str {
    match r {
        None => "!!null",
        Some(Scalar::Bool(_)) => "!!bool",
        Some(Scalar::Int(_) | Scalar::Uint(_)) => "!!int",
        Some(Scalar::Float(_)) => "!!float",
        Some(Scalar::Time(_)) => "!!timestamp",
        Some(_) => "!!str",
    }
}

fn check_tag(tag: &str, resolved: Resolved) -> Result<Resolved, ResolveError> {
    let found = tag_of(&resolved);
    if tag.is_empty() || tag == found {
        return Ok(resolved);
    }
    // An explicit !!float accepts an integer and converts it.
    if tag == "!!float" {
        match resolved {
            Some(Scalar::Int(i)) => return Ok(Some(Scalar::Float(i as f64))),
            Some(Scalar::Uint(u)) => return Ok(Some(Scalar::Float(u as f64))),
            _ => {}
        }
    }
    Err(ResolveError::Mismatch { found, wanted: tag.to_owned() })
}

/// What a plain scalar resolves to, without copying strings.
enum Class {
    Null,
    Scalar(Scalar),
    Str,
}

fn resolve_plain(input: &str, tag: &str) -> Resolved {
    match classify(input, tag) {
        Class::Null => None,
        Class::Scalar(s) => Some(s),
        Class::Str => Some(Scalar::str(input)),
    }
}

/// True when `s`, written plain, reads back as the same string (the emitter's question).
pub fn is_plain_string(s: &str) -> bool {
    matches!(classify(s, ""), Class::Str)
}

fn classify(input: &str, tag: &str) -> Class {
    let hint = match input.as_bytes().first() {
        None => b'N',
        Some(b'+' | b'-') => b'S',
        Some(b'0'..=b'9') => b'D',
        Some(b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~') => b'M',
        Some(b'.') => b'.',
        Some(_) => 0,
    };
    if hint == 0 || tag == "!!str" {
        return Class::Str;
    }
    match input {
        "true" | "True" | "TRUE" => return Class::Scalar(Scalar::Bool(true)),
        "false" | "False" | "FALSE" => return Class::Scalar(Scalar::Bool(false)),
        "" | "~" | "null" | "Null" | "NULL" => return Class::Null,
        ".nan" | ".NaN" | ".NAN" => return Class::Scalar(Scalar::Float(f64::NAN)),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Class::Scalar(Scalar::Float(f64::INFINITY)),
        "-.inf" | "-.Inf" | "-.INF" => return Class::Scalar(Scalar::Float(f64::NEG_INFINITY)),
        _ => {}
    }
    match hint {
        b'.' => {
            if let Some(f) = go_parse_float(input) {
                return Class::Scalar(Scalar::Float(f));
            }
        }
        b'D' | b'S' => {
            if (tag.is_empty() || tag == "!!timestamp")
                && let Some(t) = GoTime::parse_yaml(input)
            {
                return Class::Scalar(Scalar::Time(t));
            }
            let stripped;
            let plain = if input.contains('_') {
                stripped = input.replace('_', "");
                stripped.as_str()
            } else {
                input
            };
            if let Some(i) = go_parse_int_base0(plain) {
                return Class::Scalar(Scalar::Int(i));
            }
            if let Some(u) = go_parse_uint_base0(plain) {
                return Class::Scalar(Scalar::Uint(u));
            }
            if is_yaml_style_float(plain)
                && let Some(f) = go_parse_float(plain)
            {
                return Class::Scalar(Scalar::Float(f));
            }
            // go-yaml also tries "-0b…" and "-0o…" by hand; ParseInt with base 0 already
            // accepts both, so they were handled above.
        }
        _ => {}
    }
    Class::Str
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Go `strconv.ParseFloat(s, 64)` for decimal input: overflow to ±Inf is an error.
fn go_parse_float(s: &str) -> Option<f64> {
    if s.contains('_') || !s.bytes().all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-')) {
        return None;
    }
    let f: f64 = s.parse().ok()?;
    f.is_finite().then_some(f)
}

/// Splits Go's base prefix (`0x`, `0o`, `0b`, legacy `0`) for `ParseInt(s, 0, 64)`.
fn base_and_digits(s: &str) -> (u32, &str) {
    let lower = |p: &str| s.len() > 2 && s.get(..2).is_some_and(|head| head.eq_ignore_ascii_case(p));
    if lower("0x") {
        (16, &s[2..])
    } else if lower("0o") {
        (8, &s[2..])
    } else if lower("0b") {
        (2, &s[2..])
    } else if s.len() > 1 && s.starts_with('0') {
        (8, &s[1..])
    } else {
        (10, s)
    }
}

fn go_parse_uint_base0(s: &str) -> Option<u64> {
    if s.is_empty() || s.starts_with(['+', '-']) {
        return None;
    }
    let (base, digits) = base_and_digits(s);
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(base)) {
        return None;
    }
    u64::from_str_radix(digits, base).ok()
}

fn go_parse_int_base0(s: &str) -> Option<i64> {
    let (negative, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let magnitude = go_parse_uint_base0(body)?;
    if negative {
        if magnitude <= i64::MAX as u64 + 1 { Some((magnitude as i128).wrapping_neg() as i64) } else { None }
    } else {
        i64::try_from(magnitude).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(s: &str) -> String {
        describe(&resolve(s, "", false).unwrap())
    }

    fn describe(r: &Resolved) -> String {
        match r {
            None => "null".into(),
            Some(Scalar::Str(s)) => format!("str:{}", s.as_str().unwrap()),
            Some(Scalar::Int(i)) => format!("int:{i}"),
            Some(Scalar::Uint(u)) => format!("uint:{u}"),
            Some(Scalar::Float(f)) => format!("float:{}", crate::sops::scalar::format_float_f(*f)),
            Some(Scalar::Bool(b)) => format!("bool:{b}"),
            Some(Scalar::Time(t)) => format!("time:{}", t.rfc3339_nano()),
            Some(Scalar::Bytes(_)) => "bytes".into(),
        }
    }

    /// The cases of the spec's type zoo (`gen311_types.plain.yaml`, decoded by sops 3.11).
    #[test]
    fn go_yaml_type_zoo() {
        let cases = [
            ("0x1F", "int:31"),
            ("0o17", "int:15"),
            ("017", "int:15"),
            ("09", "float:9"),
            ("1e3", "float:1000"),
            ("3.0", "float:3"),
            ("-0.0", "float:-0"),
            (".inf", "float:+Inf"),
            ("-.Inf", "float:-Inf"),
            (".5", "float:0.5"),
            ("yes", "str:yes"),
            ("on", "str:on"),
            ("True", "bool:true"),
            ("tRUE", "str:tRUE"),
            ("~", "null"),
            ("", "null"),
            ("2024-01-02", "time:2024-01-02T00:00:00Z"),
            ("1_000", "int:1000"),
            ("+12", "int:12"),
            ("-0b101", "int:-5"),
            ("18446744073709551615", "uint:18446744073709551615"),
            ("-99999999999999999999", "float:-100000000000000000000"),
            ("1e400", "str:1e400"),
            ("12:30", "str:12:30"),
            ("0x", "str:0x"),
            ("hello", "str:hello"),
            ("<<", "str:<<"),
            ("0é", "str:0é"),
            ("-日本", "str:-日本"),
        ];
        for (input, want) in cases {
            assert_eq!(plain(input), want, "{input:?}");
        }
    }

    #[test]
    fn styles_and_tags() {
        assert_eq!(describe(&resolve("123", "", true).unwrap()), "str:123");
        assert_eq!(describe(&resolve("123", "!!str", false).unwrap()), "str:123");
        assert_eq!(describe(&resolve("3", "!!float", false).unwrap()), "float:3");
        assert_eq!(describe(&resolve("x", "!env", false).unwrap()), "str:x");
        assert_eq!(describe(&resolve("aGVsbG8=", "!!binary", false).unwrap()), "str:hello");
        assert!(matches!(resolve("abc", "!!int", false), Err(ResolveError::Mismatch { .. })));
        assert!(matches!(resolve("!!!", "!!binary", false), Err(ResolveError::Binary)));
    }
}
