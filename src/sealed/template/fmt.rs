//! The parts of Go's `fmt` and `strconv` that templates reach: `%v` printing, `Sprint`,
//! `Sprintln`, `Sprintf` with the common verbs, and `strconv.Quote`.

use super::value::Value;

/// Appends Go's `%v` of `v`.
pub(crate) fn write_v(v: &Value, out: &mut Vec<u8>) {
    write_verb(v, b'v', &Spec::default(), out);
}

pub(crate) fn to_v(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write_v(v, &mut out);
    out
}

/// `fmt.Sprint`: operands printed with `%v`, a space between two operands when neither is a string.
pub(crate) fn sprint(args: &[Value]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 && !matches!(a, Value::Str(_)) && !matches!(args[i - 1], Value::Str(_)) {
            out.push(b' ');
        }
        write_v(a, &mut out);
    }
    out
}

/// `fmt.Sprintln`: spaces between all operands, then a newline.
pub(crate) fn sprintln(args: &[Value]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        write_v(a, &mut out);
    }
    out.push(b'\n');
    out
}

/// Go's `%v` of a float64 (`strconv.FormatFloat(f, 'g', -1, 64)` with fmt's exponent rule).
pub(crate) fn format_float_v(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    // Shortest round-trip digits from Rust's `{:e}`, then Go's %g layout.
    let e = format!("{f:e}");
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        return go_exp(mant, exp);
    }
    format!("{f}")
}

fn go_exp(mant: &str, exp: i32) -> String {
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mant}e{sign}{:02}", exp.abs())
}

/// Go's `strconv.Quote`: a double-quoted literal, printable Unicode kept, the rest escaped.
pub(crate) fn quote(bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![b'"'];
    let mut rest = bytes;
    while !rest.is_empty() {
        let (ch, len) = decode_rune(rest);
        match ch {
            None => {
                out.extend_from_slice(format!("\\x{:02x}", rest[0]).as_bytes());
            }
            Some(c) => match c {
                '"' => out.extend_from_slice(b"\\\""),
                '\\' => out.extend_from_slice(b"\\\\"),
                '\x07' => out.extend_from_slice(b"\\a"),
                '\x08' => out.extend_from_slice(b"\\b"),
                '\x0c' => out.extend_from_slice(b"\\f"),
                '\n' => out.extend_from_slice(b"\\n"),
                '\r' => out.extend_from_slice(b"\\r"),
                '\t' => out.extend_from_slice(b"\\t"),
                '\x0b' => out.extend_from_slice(b"\\v"),
                c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                    out.extend_from_slice(format!("\\x{:02x}", c as u32).as_bytes());
                }
                c if is_print(c) => {
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                c if (c as u32) < 0x10000 => out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes()),
                c => out.extend_from_slice(format!("\\U{:08x}", c as u32).as_bytes()),
            },
        }
        rest = &rest[len..];
    }
    out.push(b'"');
    out
}

/// An approximation of Go's `unicode.IsPrint` (letters, marks, numbers, punctuation, symbols and
/// the ASCII space).
pub(crate) fn is_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    !(c.is_control()
        || c.is_whitespace()
        || matches!(c as u32, 0xad | 0x200b..=0x200f | 0x2028..=0x202e | 0xfeff | 0xfff9..=0xfffb | 0xe000..=0xf8ff)
        || (c as u32) >= 0xf0000)
}

/// Decodes one UTF-8 character; `None` (length 1) for an invalid byte, as Go's `utf8.DecodeRune`.
pub(crate) fn decode_rune(bytes: &[u8]) -> (Option<char>, usize) {
    let len = match bytes[0] {
        0x00..=0x7f => 1,
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return (None, 1),
    };
    match bytes.get(..len).and_then(|b| std::str::from_utf8(b).ok()) {
        Some(s) => (s.chars().next(), len),
        None => (None, 1),
    }
}

#[derive(Default, Clone)]
struct Spec {
    minus: bool,
    plus: bool,
    sharp: bool,
    zero: bool,
    space: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

/// `fmt.Sprintf` for the verbs templates use: `%v %s %d %q %x %X %t %c %f %T %%`.
pub(crate) fn sprintf(format: &[u8], args: &[Value]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut next_arg = 0;
    let mut i = 0;
    while i < format.len() {
        if format[i] != b'%' {
            out.push(format[i]);
            i += 1;
            continue;
        }
        i += 1;
        let mut spec = Spec::default();
        while i < format.len() {
            match format[i] {
                b'-' => spec.minus = true,
                b'+' => spec.plus = true,
                b'#' => spec.sharp = true,
                b'0' => spec.zero = true,
                b' ' => spec.space = true,
                _ => break,
            }
            i += 1;
        }
        let num = |i: &mut usize| {
            let start = *i;
            while *i < format.len() && format[*i].is_ascii_digit() {
                *i += 1;
            }
            std::str::from_utf8(&format[start..*i]).ok().and_then(|s| s.parse::<usize>().ok())
        };
        spec.width = num(&mut i);
        if i < format.len() && format[i] == b'.' {
            i += 1;
            spec.prec = Some(num(&mut i).unwrap_or(0));
        }
        if i >= format.len() {
            out.extend_from_slice(b"%!(NOVERB)");
            break;
        }
        let (verb, len) = decode_rune(&format[i..]);
        i += len;
        let verb = verb.unwrap_or('\u{fffd}');
        if verb == '%' {
            out.push(b'%');
            continue;
        }
        let Some(arg) = args.get(next_arg) else {
            out.extend_from_slice(format!("%!{verb}(MISSING)").as_bytes());
            continue;
        };
        next_arg += 1;
        let mut piece = Vec::new();
        if verb.is_ascii() {
            write_verb(arg, verb as u8, &spec, &mut piece);
        } else {
            bad_verb(arg, verb, &mut piece);
        }
        pad(&spec, piece, &mut out, verb);
    }
    if next_arg < args.len() {
        out.extend_from_slice(b"%!(EXTRA ");
        for (n, a) in args[next_arg..].iter().enumerate() {
            if n > 0 {
                out.extend_from_slice(b", ");
            }
            out.extend_from_slice(a.type_name().as_bytes());
            out.push(b'=');
            write_v(a, &mut out);
        }
        out.push(b')');
    }
    out
}

fn pad(spec: &Spec, piece: Vec<u8>, out: &mut Vec<u8>, verb: char) {
    let width = spec.width.unwrap_or(0);
    let chars = String::from_utf8_lossy(&piece).chars().count();
    if chars >= width {
        out.extend_from_slice(&piece);
        return;
    }
    let fill = width - chars;
    if spec.minus {
        out.extend_from_slice(&piece);
        out.extend(std::iter::repeat_n(b' ', fill));
    } else if spec.zero && matches!(verb, 'd' | 'f' | 'x' | 'X' | 'e' | 'g') && !piece.is_empty() {
        let sign = matches!(piece[0], b'-' | b'+');
        if sign {
            out.push(piece[0]);
        }
        out.extend(std::iter::repeat_n(b'0', fill));
        out.extend_from_slice(&piece[usize::from(sign)..]);
    } else {
        out.extend(std::iter::repeat_n(b' ', fill));
        out.extend_from_slice(&piece);
    }
}

fn bad_verb(arg: &Value, verb: char, out: &mut Vec<u8>) {
    out.extend_from_slice(format!("%!{verb}(").as_bytes());
    if matches!(arg, Value::Nil) {
        out.extend_from_slice(b"<nil>");
    } else {
        out.extend_from_slice(arg.type_name().as_bytes());
        out.push(b'=');
        write_v(arg, out);
    }
    out.push(b')');
}

fn write_verb(arg: &Value, verb: u8, spec: &Spec, out: &mut Vec<u8>) {
    match (arg, verb) {
        (Value::Nil, b'v' | b'T') => out.extend_from_slice(b"<nil>"),
        (_, b'T') => out.extend_from_slice(arg.type_name().as_bytes()),
        // Go's fmt calls `String()` for %v and %s on a Stringer; types without one print their
        // own `%v` form (see `Object::format_v`).
        (Value::Object(o), b'v' | b's') => out.extend_from_slice(&o.format_v()),
        (Value::Str(s), b'v' | b's') => {
            let s: &[u8] = s;
            match spec.prec {
                Some(p) => {
                    let text = String::from_utf8_lossy(s);
                    out.extend(text.chars().take(p).collect::<String>().bytes());
                }
                None => out.extend_from_slice(s),
            }
        }
        (Value::Str(s), b'q') => out.extend_from_slice(&quote(s)),
        (Value::Str(s), b'x' | b'X') => {
            for (n, b) in s.iter().enumerate() {
                if spec.space && n > 0 {
                    out.push(b' ');
                }
                let h = if verb == b'x' { format!("{b:02x}") } else { format!("{b:02X}") };
                out.extend_from_slice(h.as_bytes());
            }
        }
        (Value::Int(n) | Value::Int64(n), b'v' | b'd') => {
            if spec.plus && *n >= 0 {
                out.push(b'+');
            }
            out.extend_from_slice(n.to_string().as_bytes());
        }
        (Value::Int(n) | Value::Int64(n), b'x' | b'X') => {
            let h = if verb == b'x' { format!("{:x}", n.unsigned_abs()) } else { format!("{:X}", n.unsigned_abs()) };
            if *n < 0 {
                out.push(b'-');
            }
            out.extend_from_slice(h.as_bytes());
        }
        (Value::Int(n) | Value::Int64(n), b'c') => {
            let c = u32::try_from(*n).ok().and_then(char::from_u32).unwrap_or('\u{fffd}');
            out.extend_from_slice(c.to_string().as_bytes());
        }
        (Value::Int(n) | Value::Int64(n), b'q') => {
            let c = u32::try_from(*n).ok().and_then(char::from_u32).unwrap_or('\u{fffd}');
            let q = quote(c.to_string().as_bytes());
            out.push(b'\'');
            out.extend_from_slice(&q[1..q.len() - 1]);
            out.push(b'\'');
        }
        (Value::Float(f), b'v' | b'g') if spec.prec.is_none() => out.extend_from_slice(format_float_v(*f).as_bytes()),
        (Value::Float(f), b'f') => out.extend_from_slice(format!("{:.*}", spec.prec.unwrap_or(6), f).as_bytes()),
        (Value::Bool(b), b'v' | b't') => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        (Value::List(items), _) => {
            out.push(b'[');
            for (n, item) in items.iter().enumerate() {
                if n > 0 {
                    out.push(b' ');
                }
                write_verb(item, verb, spec, out);
            }
            out.push(b']');
        }
        (Value::Dict(map), _) => {
            out.extend_from_slice(b"map[");
            for (n, (k, v)) in map.borrow().iter().enumerate() {
                if n > 0 {
                    out.push(b' ');
                }
                write_verb(&Value::text(k), verb, spec, out);
                out.push(b':');
                write_verb(v, verb, spec, out);
            }
            out.push(b']');
        }
        (Value::StrMap(map), _) => {
            out.extend_from_slice(b"map[");
            for (n, (k, v)) in map.iter().enumerate() {
                if n > 0 {
                    out.push(b' ');
                }
                write_verb(&Value::text(k), verb, spec, out);
                out.push(b':');
                write_verb(&Value::Str(v.clone()), verb, spec, out);
            }
            out.push(b']');
        }
        _ => bad_verb(arg, verb as char, out),
    }
}
