//! Sprig's numeric conversions and float arithmetic: `spf13/cast`'s `ToInt64`/`ToInt`/`ToFloat64`
//! (errors become 0), Go's `strconv.ParseInt`/`ParseFloat` syntax, `shopspring/decimal` for
//! `addf`/`subf`/`mulf`/`divf`, and `math.Pow`/`Max`/`Min` exactly as Go computes them.

use num_bigint::BigInt;

use super::super::super::fmt as gofmt;
use super::super::super::funcs::FnError;
use super::super::super::value::Value;

/// `cast.ToInt64` (and `cast.ToInt`: Go's `int` is 64 bits here), errors as 0.
pub(super) fn to_int64(v: &Value) -> i64 {
    match v {
        Value::Int(n) | Value::Int64(n) => *n,
        Value::Float(f) => f64_to_i64(*f),
        Value::Bool(b) => i64::from(*b),
        Value::Str(s) => std::str::from_utf8(s).ok().and_then(|s| parse_int(trim_zero_decimal(s), 0)).unwrap_or(0),
        // cast has no case for maps, slices or named types (time.Duration included): an error, so 0.
        _ => 0,
    }
}

/// `cast.ToFloat64`, errors as 0.
pub(super) fn to_float64(v: &Value) -> f64 {
    match v {
        Value::Int(n) | Value::Int64(n) => *n as f64,
        Value::Float(f) => *f,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Str(s) => std::str::from_utf8(s).ok().and_then(parse_float).unwrap_or(0.0),
        _ => 0.0,
    }
}

/// Sprig's `toDecimal`: `strconv.ParseInt(fmt.Sprint(v), 8, 64)`, errors as 0.
pub(super) fn to_decimal(v: &Value) -> i64 {
    let text = gofmt::to_v(v);
    std::str::from_utf8(&text).ok().and_then(|s| parse_int(s, 8)).unwrap_or(0)
}

/// 2^63, exactly.
const TWO_63: f64 = 9_223_372_036_854_775_808.0;

/// Go's `int64(f)` on amd64: truncation, and the "integer indefinite" value for NaN and out of
/// range (CVTTSD2SQ).
pub(super) fn f64_to_i64(f: f64) -> i64 {
    if f.is_nan() || !(-TWO_63..TWO_63).contains(&f) { i64::MIN } else { f as i64 }
}

/// cast's `trimZeroDecimal`: "12.000" becomes "12"; anything else stays.
fn trim_zero_decimal(s: &str) -> &str {
    let bytes = s.as_bytes();
    let mut found_zero = false;
    for i in (1..=bytes.len()).rev() {
        match bytes[i - 1] {
            b'.' if found_zero => return &s[..i - 1],
            b'.' => {}
            b'0' => found_zero = true,
            _ => return s,
        }
    }
    s
}

/// `strconv.ParseInt(s, base, 64)` for base 0 (Go literal prefixes and underscores) or 8.
pub(super) fn parse_int(s: &str, base: u32) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if body.is_empty() {
        return None;
    }
    let (radix, digits, allow_underscore) = if base == 0 {
        let b = body.as_bytes();
        if b[0] == b'0' && b.len() >= 3 && matches!(b[1], b'x' | b'X') {
            (16, &body[2..], true)
        } else if b[0] == b'0' && b.len() >= 3 && matches!(b[1], b'o' | b'O') {
            (8, &body[2..], true)
        } else if b[0] == b'0' && b.len() >= 3 && matches!(b[1], b'b' | b'B') {
            (2, &body[2..], true)
        } else if b[0] == b'0' {
            (8, &body[1..], true)
        } else {
            (10, body, true)
        }
    } else {
        (base, body, false)
    };
    if digits.contains('_') && !(allow_underscore && underscore_ok(s)) {
        return None;
    }
    let mut n: u64 = 0;
    for ch in digits.chars().filter(|&c| c != '_') {
        let d = ch.to_digit(radix)?;
        n = n.checked_mul(u64::from(radix))?.checked_add(u64::from(d))?;
    }
    if neg {
        if n > 1 << 63 {
            return None;
        }
        Some((n as i64).wrapping_neg())
    } else {
        i64::try_from(n).ok()
    }
}

/// strconv's `underscoreOK`: underscores only between digits (a base prefix counts as a digit).
fn underscore_ok(s: &str) -> bool {
    let mut b = s.as_bytes();
    if let Some(b'+' | b'-') = b.first() {
        b = &b[1..];
    }
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if b.len() >= 2 && b[0] == b'0' && matches!(b[1].to_ascii_lowercase(), b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = b[1].eq_ignore_ascii_case(&b'x');
    }
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
        i += 1;
    }
    saw != b'_'
}

/// `strconv.ParseFloat(s, 64)`; `None` for a syntax error or overflow (where Go errs).
pub(super) fn parse_float(s: &str) -> Option<f64> {
    let lower = s.to_ascii_lowercase();
    let (neg, body) = match lower.as_bytes().first()? {
        b'-' => (true, &lower[1..]),
        b'+' => (false, &lower[1..]),
        _ => (false, &lower[..]),
    };
    let sign = if neg { -1.0 } else { 1.0 };
    match body {
        "inf" | "infinity" => return Some(sign * f64::INFINITY),
        "nan" if body.len() == lower.len() => return Some(f64::NAN),
        _ => {}
    }
    if body.contains('_') && !underscore_ok(&lower) {
        return None;
    }
    let body: String = body.chars().filter(|&c| c != '_').collect();
    let v = if let Some(hex) = body.strip_prefix("0x") { parse_hex_float(hex)? } else { parse_dec_float(&body)? };
    if v.is_infinite() {
        return None;
    }
    Some(sign * v)
}

/// A decimal float body (no sign): digits with at most one '.', at least one digit, then an
/// optional exponent.
fn parse_dec_float(body: &str) -> Option<f64> {
    let (mant, exp) = match body.find('e') {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let digits = mant.bytes().filter(u8::is_ascii_digit).count();
    let dots = mant.bytes().filter(|&b| b == b'.').count();
    if digits == 0 || dots > 1 || digits + dots != mant.len() {
        return None;
    }
    if let Some(e) = exp {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        if e.is_empty() || !e.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    body.parse::<f64>().ok()
}

/// A hexadecimal float body after "0x": hex digits with at most one '.', and a mandatory `p`
/// exponent, as Go requires.
fn parse_hex_float(hex: &str) -> Option<f64> {
    let (mant, exp) = hex.split_once('p')?;
    let exp_digits = exp.strip_prefix(['+', '-']).unwrap_or(exp);
    if exp_digits.is_empty() || !exp_digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let exp: i64 = exp.parse().unwrap_or(if exp.starts_with('-') { -100_000 } else { 100_000 });
    let (int_part, frac_part) = mant.split_once('.').unwrap_or((mant, ""));
    if int_part.len() + frac_part.len() == 0 || frac_part.contains('.') {
        return None;
    }
    let mut m = BigInt::from(0u8);
    for c in int_part.chars().chain(frac_part.chars()) {
        m = m * 16u8 + c.to_digit(16)?;
    }
    let scale = exp.saturating_sub(4 * frac_part.len() as i64);
    Some(big_times_pow2(&m, scale))
}

/// `m * 2^scale` rounded once to the nearest float.
fn big_times_pow2(m: &BigInt, scale: i64) -> f64 {
    if m.bits() == 0 {
        return 0.0;
    }
    // Through a decimal string, which Rust's parser rounds correctly; bounded because the
    // template bounds the literal.
    if scale >= 0 {
        if scale > 2000 {
            return f64::INFINITY;
        }
        let v: BigInt = m << (scale as usize);
        v.to_string().parse().unwrap_or(f64::INFINITY)
    } else {
        if scale < -2000 - m.bits() as i64 {
            return 0.0;
        }
        // m / 2^k = m * 5^k / 10^k
        let k = scale.unsigned_abs() as u32;
        let v: BigInt = m * BigInt::from(5u8).pow(k);
        format!("{v}e-{k}").parse().unwrap_or(0.0)
    }
}

/// Go's `math.Pow(10, y)` for an integral `y`: Go squares `frexp(10)` (it does not call libm),
/// so results for large `|y|` differ from `powi`.
pub(super) fn pow10(y: f64) -> f64 {
    if y == 0.0 {
        return 1.0;
    }
    if y == 1.0 {
        return 10.0;
    }
    if y.is_nan() {
        return f64::NAN;
    }
    if y.is_infinite() {
        return if y > 0.0 { f64::INFINITY } else { 0.0 };
    }
    let yi = y.abs().trunc();
    if yi >= TWO_63 {
        return if y > 0.0 { f64::INFINITY } else { 0.0 };
    }
    let mut a1 = 1.0f64;
    let mut ae: i64 = 0;
    let (mut x1, mut xe) = (0.625f64, 4i64); // frexp(10)
    let mut i = yi as i64;
    while i != 0 {
        if !(-(1 << 12)..=(1 << 12)).contains(&xe) {
            ae += xe;
            break;
        }
        if i & 1 == 1 {
            a1 *= x1;
            ae += xe;
        }
        x1 *= x1;
        xe <<= 1;
        if x1 < 0.5 {
            x1 += x1;
            xe -= 1;
        }
        i >>= 1;
    }
    if y < 0.0 {
        a1 = 1.0 / a1;
        ae = -ae;
    }
    ldexp(a1, ae)
}

/// `frac * 2^exp`, stepping so that no intermediate power of two overflows.
fn ldexp(mut frac: f64, mut exp: i64) -> f64 {
    while exp > 1000 {
        frac *= 2f64.powi(1000);
        exp -= 1000;
        if frac.is_infinite() {
            return frac;
        }
    }
    while exp < -1000 {
        frac *= 2f64.powi(-1000);
        exp += 1000;
        if frac == 0.0 {
            return frac;
        }
    }
    frac * 2f64.powi(exp as i32)
}

/// Go's `math.Max`.
pub(super) fn go_max(x: f64, y: f64) -> f64 {
    if x == f64::INFINITY || y == f64::INFINITY {
        return f64::INFINITY;
    }
    if x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    if x == 0.0 && y == 0.0 {
        return if x.is_sign_negative() { y } else { x };
    }
    if x > y { x } else { y }
}

/// Go's `math.Min`.
pub(super) fn go_min(x: f64, y: f64) -> f64 {
    if x == f64::NEG_INFINITY || y == f64::NEG_INFINITY {
        return f64::NEG_INFINITY;
    }
    if x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    if x == 0.0 && y == 0.0 {
        return if x.is_sign_negative() { x } else { y };
    }
    if x < y { x } else { y }
}

/// Sprig's `round(a, places, roundOn)`.
pub(super) fn round(val: f64, places: f64, round_on: f64) -> f64 {
    let pow = pow10(places);
    let digit = pow * val;
    // math.Modf: the fraction keeps the sign; Modf(±Inf) has a NaN fraction.
    let frac = if digit.is_infinite() { f64::NAN } else { digit.fract() };
    let r = if frac >= round_on { digit.ceil() } else { digit.floor() };
    r / pow
}

/// A `shopspring/decimal` value: `coef * 10^exp`.
#[derive(Clone)]
pub(super) struct Decimal {
    coef: BigInt,
    exp: i64,
}

/// Exponents stay far inside decimal's int32 (Go panics past it); the bound also keeps the
/// big integers small.
const MAX_EXP: i64 = 100_000;

/// `shopspring/decimal`'s `DivisionPrecision`.
const DIVISION_PRECISION: i64 = 16;

pub(super) enum Op {
    Add,
    Sub,
    Mul,
    Div,
}

impl Decimal {
    /// `decimal.NewFromFloat`: the shortest decimal that reads back as `f` (Go panics on NaN/Inf).
    pub(super) fn from_f64(f: f64) -> Result<Self, FnError> {
        if !f.is_finite() {
            return Err(FnError::Go(format!(
                "Cannot create a Decimal from {}",
                String::from_utf8_lossy(&gofmt::to_v(&Value::Float(f)))
            )));
        }
        if f == 0.0 {
            return Ok(Decimal { coef: BigInt::from(0u8), exp: 0 });
        }
        let e = format!("{f:e}");
        let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
        let exp: i64 = exp.parse().unwrap_or(0);
        let frac_digits = mant.split_once('.').map_or(0, |(_, fr)| fr.len()) as i64;
        let digits: String = mant.chars().filter(|&c| c != '.').collect();
        let coef: BigInt = digits.parse().unwrap_or_default();
        Ok(Decimal { coef, exp: exp - frac_digits })
    }

    pub(super) fn apply(self, op: &Op, other: Decimal) -> Result<Self, FnError> {
        let out = match op {
            Op::Add | Op::Sub => {
                let e = self.exp.min(other.exp);
                let a = self.coef * pow10_big(self.exp - e);
                let b = other.coef * pow10_big(other.exp - e);
                Decimal { coef: if matches!(op, Op::Add) { a + b } else { a - b }, exp: e }
            }
            Op::Mul => Decimal { coef: self.coef * other.coef, exp: self.exp + other.exp },
            Op::Div => {
                if other.coef.bits() == 0 {
                    return Err("decimal division by 0".into());
                }
                // The quotient at 16 decimal places, rounded half away from zero (`DivRound`).
                let k = self.exp - other.exp + DIVISION_PRECISION;
                if k.abs() > MAX_EXP {
                    return Err("overflow in decimal QuoRem".into());
                }
                let (n, d) = if k >= 0 {
                    (self.coef * pow10_big(k), other.coef)
                } else {
                    (self.coef, other.coef * pow10_big(-k))
                };
                let q = &n / &d;
                let r = &n % &d;
                let twice_r: BigInt = r.magnitude().clone().into();
                let twice_r = twice_r * 2u8;
                let d_abs: BigInt = d.magnitude().clone().into();
                let q = if twice_r < d_abs {
                    q
                } else if (n.sign() == num_bigint::Sign::Minus) != (d.sign() == num_bigint::Sign::Minus) {
                    q - 1u8
                } else {
                    q + 1u8
                };
                Decimal { coef: q, exp: -DIVISION_PRECISION }
            }
        };
        if out.exp.abs() > MAX_EXP {
            return Err(FnError::Go(format!("exponent {} overflows an int32!", out.exp)));
        }
        Ok(out)
    }

    /// `Decimal.Float64`: the nearest float (big.Rat's rounding), ±Inf past the range.
    pub(super) fn to_f64(&self) -> f64 {
        if self.coef.bits() == 0 {
            return 0.0;
        }
        format!("{}e{}", self.coef, self.exp).parse().unwrap_or(0.0)
    }
}

fn pow10_big(n: i64) -> BigInt {
    BigInt::from(10u8).pow(u32::try_from(n).unwrap_or(0))
}

/// Sprig's `execDecimalOp`: the first operand, then each of the rest, through decimals.
pub(super) fn decimal_op(first: f64, rest: &[Value], op: Op) -> Result<f64, FnError> {
    let mut acc = Decimal::from_f64(first)?;
    for x in rest {
        acc = acc.apply(&op, Decimal::from_f64(to_float64(x))?)?;
    }
    Ok(acc.to_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_int_follows_go_base_zero() {
        assert_eq!(parse_int("0x1f", 0), Some(31));
        assert_eq!(parse_int("0o17", 0), Some(15));
        assert_eq!(parse_int("017", 0), Some(15));
        assert_eq!(parse_int("08", 0), None);
        assert_eq!(parse_int("0b101", 0), Some(5));
        assert_eq!(parse_int("1_000", 0), Some(1000));
        assert_eq!(parse_int("1__0", 0), None);
        assert_eq!(parse_int("-9223372036854775808", 0), Some(i64::MIN));
        assert_eq!(parse_int("9223372036854775808", 0), None);
        assert_eq!(parse_int("0", 0), Some(0));
        assert_eq!(parse_int("0x", 0), None);
        assert_eq!(parse_int("1_0", 8), None);
    }

    #[test]
    fn cast_trims_zero_decimals_only() {
        assert_eq!(to_int64(&Value::text("12.000")), 12);
        assert_eq!(to_int64(&Value::text("12.5")), 0);
        assert_eq!(to_int64(&Value::text("5.")), 0);
        assert_eq!(to_int64(&Value::Float(f64::NAN)), i64::MIN);
    }

    #[test]
    fn parse_float_follows_go_syntax() {
        assert_eq!(parse_float("1_000.5"), Some(1000.5));
        assert_eq!(parse_float("0x1p-2"), Some(0.25));
        assert_eq!(parse_float("0x1.8p1"), Some(3.0));
        assert_eq!(parse_float("1e400"), None);
        assert_eq!(parse_float("-Inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_float("."), None);
        assert_eq!(parse_float("1e"), None);
        assert_eq!(parse_float("5."), Some(5.0));
    }

    #[test]
    fn decimal_ops_match_shopspring() {
        // 0.1 + 0.2 is exactly 0.3 in decimal arithmetic.
        assert_eq!(decimal_op(0.1, &[Value::Float(0.2)], Op::Add).ok(), Some(0.3));
        // 1/3 at 16 places.
        assert_eq!(decimal_op(1.0, &[Value::Int(3)], Op::Div).ok(), Some(0.3333333333333333));
        assert_eq!(decimal_op(2.0, &[Value::Int(3)], Op::Div).ok(), Some(0.6666666666666667));
        assert!(decimal_op(1.0, &[Value::Int(0)], Op::Div).is_err());
    }

    #[test]
    fn pow10_and_round() {
        assert_eq!(pow10(2.0), 100.0);
        assert_eq!(pow10(-2.0), 0.01);
        assert_eq!(round(1.23456, 2.0, 0.5), 1.23);
        assert_eq!(round(-1.5, 0.0, 0.5), -2.0);
        assert_eq!(round(2.5, 0.0, 0.5), 3.0);
    }
}
