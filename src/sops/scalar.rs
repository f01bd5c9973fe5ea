//! The plaintext bytes of each sops value type, exactly as Go sops produces and parses them.
//!
//! `aes/cipher.go` switches on the Go type: strings are their bytes, ints `strconv.Itoa`,
//! floats `strconv.FormatFloat(v, 'f', -1, 64)`, bools `True`/`False` (a Python-era spelling),
//! times `MarshalText` (RFC 3339 with nanoseconds). The MAC hashes the same bytes
//! (`sops.go`, `ToBytes`). See `docs/formats/sops.md`.

use std::borrow::Cow;

use super::gotime::GoTime;
use super::tree::Scalar;
use crate::crypto::SecretBytes;

/// The `type:` tag of an encrypted value.
pub fn type_tag(scalar: &Scalar) -> Result<&'static str, ScalarError> {
    Ok(match scalar {
        Scalar::Str(_) => "str",
        Scalar::Int(_) => "int",
        Scalar::Float(_) => "float",
        Scalar::Bool(_) => "bool",
        Scalar::Time(_) => "time",
        // sops never writes `bytes`; a []byte leaf is walked as a string.
        Scalar::Bytes(_) => "str",
        Scalar::Uint(_) => return Err(ScalarError::Unsupported("uint64")),
    })
}

/// The type tags an envelope can carry, as static strings (`comment` for comments).
pub fn static_tag(tag: &str) -> Option<&'static str> {
    ["str", "bytes", "int", "float", "bool", "time", "comment"].into_iter().find(|t| *t == tag)
}

/// The bytes that are encrypted (and hashed into the MAC) for a value.
pub fn plaintext(scalar: &Scalar) -> Result<Cow<'_, [u8]>, ScalarError> {
    Ok(match scalar {
        Scalar::Str(s) | Scalar::Bytes(s) => Cow::Borrowed(s.expose()),
        Scalar::Int(i) => Cow::Owned(i.to_string().into_bytes()),
        Scalar::Float(f) => Cow::Owned(format_float_f(*f).into_bytes()),
        Scalar::Bool(b) => Cow::Borrowed(if *b { b"True" } else { b"False" }),
        Scalar::Time(t) => Cow::Owned(t.marshal_text().ok_or(ScalarError::TimeRange)?.into_bytes()),
        Scalar::Uint(_) => return Err(ScalarError::Unsupported("uint64")),
    })
}

/// Rebuilds a value from its decrypted bytes and `type:` tag.
pub fn from_plaintext(tag: &str, bytes: SecretBytes) -> Result<Scalar, ScalarError> {
    let text = || bytes.as_str().ok_or(ScalarError::Parse { tag: "text" });
    Ok(match tag {
        "str" => Scalar::Str(bytes),
        "bytes" => Scalar::Bytes(bytes),
        "int" => Scalar::Int(text()?.parse().map_err(|_| ScalarError::Parse { tag: "int" })?),
        "float" => Scalar::Float(parse_float(text()?).ok_or(ScalarError::Parse { tag: "float" })?),
        "bool" => Scalar::Bool(parse_bool(text()?).ok_or(ScalarError::Parse { tag: "bool" })?),
        "time" => Scalar::Time(GoTime::parse_rfc3339(text()?).ok_or(ScalarError::Parse { tag: "time" })?),
        other => return Err(ScalarError::UnknownType(other.to_owned())),
    })
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ScalarError {
    #[error("Cannot walk value, unknown type: {0}")]
    Unsupported(&'static str),
    #[error("Unknown datatype: {0}")]
    UnknownType(String),
    /// Never includes the text: it is decrypted plaintext.
    #[error("decrypted value is not a valid {tag}")]
    Parse { tag: &'static str },
    #[error("Time.MarshalText: year outside of range [0,9999]")]
    TimeRange,
}

/// Go `strconv.ParseBool`.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Go `strconv.ParseFloat(s, 64)` for the forms sops writes: decimal with optional exponent,
/// and Go's spellings of infinity and NaN.
pub fn parse_float(s: &str) -> Option<f64> {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let lower = body.to_ascii_lowercase();
    if lower == "inf" || lower == "infinity" {
        return Some(if s.starts_with('-') { f64::NEG_INFINITY } else { f64::INFINITY });
    }
    if lower == "nan" {
        return (body.len() == s.len()).then_some(f64::NAN);
    }
    if !body.bytes().all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-')) {
        return None;
    }
    let value: f64 = s.parse().ok()?;
    // Go reports overflow to ±Inf as an error.
    value.is_finite().then_some(value)
}

/// Go `strconv.FormatFloat(v, 'f', -1, 64)`: shortest round-trip digits, never an exponent.
pub fn format_float_f(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else {
        // Rust's `Display` for f64 prints the shortest round-trip digits without an exponent,
        // as Go does for 'f' with precision -1 (and "-0" for negative zero).
        format!("{v}")
    }
}

/// Shortest digits and decimal-point position of a finite, non-zero |v|: v = 0.d₁d₂… × 10^dp.
fn shortest_digits(v: f64) -> (String, i32) {
    let sci = format!("{:e}", v.abs());
    let (mantissa, exp) = sci.split_once('e').expect("{:e} always has an exponent");
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let exp: i32 = exp.parse().expect("{:e} exponent is an integer");
    (digits, exp + 1)
}

/// Go `strconv.FormatFloat(v, 'g', -1, 64)` (how yaml.v3 writes floats, before it maps the
/// infinities and NaN to `.inf`/`.nan`): `%e` when the exponent is < −4 or ≥ 6.
pub fn format_float_g(v: f64) -> String {
    if !v.is_finite() {
        return format_float_f(v);
    }
    let neg = v.is_sign_negative();
    if v == 0.0 {
        return if neg { "-0" } else { "0" }.to_owned();
    }
    let (digits, dp) = shortest_digits(v);
    let exp = dp - 1;
    let mut out = String::with_capacity(24);
    if neg {
        out.push('-');
    }
    if !(-4..6).contains(&exp) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let abs = exp.unsigned_abs();
        if abs < 10 {
            out.push('0');
        }
        out.push_str(&abs.to_string());
    } else {
        out.push_str(&format_positional(&digits, dp));
    }
    out
}

/// Go `strconv.FormatFloat(v, 'e', -1, 64)`-style exponent cleanup for encoding/json: the
/// shortest digits with an exponent of at least one digit (`1e-7`, `1e+21`).
pub fn format_float_json(v: f64) -> String {
    let abs = v.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let (digits, dp) = shortest_digits(v);
        let exp = dp - 1;
        let mut out = String::new();
        if v < 0.0 {
            out.push('-');
        }
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&exp.unsigned_abs().to_string());
        out
    } else {
        format_float_f(v)
    }
}

fn format_positional(digits: &str, dp: i32) -> String {
    let nd = digits.len() as i32;
    if dp <= 0 {
        format!("0.{}{}", "0".repeat((-dp) as usize), digits)
    } else if dp >= nd {
        format!("{}{}", digits, "0".repeat((dp - nd) as usize))
    } else {
        format!("{}.{}", &digits[..dp as usize], &digits[dp as usize..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_f_format() {
        let cases = [
            (1e21, "1000000000000000000000"),
            (1e-7, "0.0000001"),
            (3.0, "3"),
            (-0.0, "-0"),
            (1.5, "1.5"),
            (1234567.0, "1234567"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
            (0.1 + 0.2, "0.30000000000000004"),
        ];
        for (v, want) in cases {
            assert_eq!(format_float_f(v), want, "{v}");
        }
    }

    #[test]
    fn go_g_format() {
        let cases = [
            (1234567.0, "1.234567e+06"),
            (100000.0, "100000"),
            (1000000.0, "1e+06"),
            (1.234568e9, "1.234568e+09"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (3.0, "3"),
            (-2.5, "-2.5"),
            (0.0, "0"),
            (1e100, "1e+100"),
        ];
        for (v, want) in cases {
            assert_eq!(format_float_g(v), want, "{v}");
        }
    }

    #[test]
    fn json_float_format() {
        assert_eq!(format_float_json(1e21), "1e+21");
        assert_eq!(format_float_json(1e-7), "1e-7");
        assert_eq!(format_float_json(25.4), "25.4");
        assert_eq!(format_float_json(1e20), "100000000000000000000");
    }

    #[test]
    fn plaintext_forms() {
        assert_eq!(&*plaintext(&Scalar::Bool(true)).unwrap(), b"True");
        assert_eq!(&*plaintext(&Scalar::Int(-42)).unwrap(), b"-42");
        assert_eq!(plaintext(&Scalar::Uint(u64::MAX)).err(), Some(ScalarError::Unsupported("uint64")));
        let t = GoTime::parse_yaml("2024-01-02").unwrap();
        assert_eq!(&*plaintext(&Scalar::Time(t)).unwrap(), b"2024-01-02T00:00:00Z");
    }

    #[test]
    fn parse_round_trips() {
        for tag in ["int", "float", "bool", "time", "str"] {
            let sample = match tag {
                "int" => Scalar::Int(i64::MIN),
                "float" => Scalar::Float(-1.25e-300),
                "bool" => Scalar::Bool(false),
                "time" => Scalar::Time(GoTime::parse_yaml("2001-12-14t21:59:43.10-05:00").unwrap()),
                _ => Scalar::str("x"),
            };
            let bytes = SecretBytes::from_slice(&plaintext(&sample).unwrap());
            assert!(from_plaintext(tag, bytes).unwrap().same_as(&sample), "{tag}");
        }
        assert!(matches!(from_plaintext("weird", SecretBytes::default()), Err(ScalarError::UnknownType(_))));
        assert_eq!(parse_bool("T"), Some(true));
        assert_eq!(parse_bool("yes"), None);
        assert_eq!(parse_float("+Inf"), Some(f64::INFINITY));
        assert_eq!(parse_float("1e400"), None);
    }
}
