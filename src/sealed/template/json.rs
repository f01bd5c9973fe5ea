//! Go's `encoding/json` for template values: `Marshal`/`MarshalIndent` (Sprig's `toJson`,
//! `toPrettyJson`, `toRawJson`) and `Unmarshal` into `interface{}` (`fromJson`). Written here
//! rather than through serde so that decoded secrets stay in zeroizing buffers.

use std::collections::BTreeMap;

use super::fmt::decode_rune;
use super::value::{Str, Value, new_str};

pub(crate) struct Encoder {
    pub escape_html: bool,
    pub indent: bool,
}

impl Encoder {
    pub(crate) fn encode(&self, v: &Value) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        self.value(v, 0, &mut out)?;
        Ok(out)
    }

    fn newline(&self, depth: usize, out: &mut Vec<u8>) {
        if self.indent {
            out.push(b'\n');
            out.extend(std::iter::repeat_n(b' ', depth * 2));
        }
    }

    fn value(&self, v: &Value, depth: usize, out: &mut Vec<u8>) -> Result<(), String> {
        if depth > 1000 {
            return Err("json: value nested too deeply".into());
        }
        match v {
            Value::Nil => out.extend_from_slice(b"null"),
            Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Value::Int(n) | Value::Int64(n) => out.extend_from_slice(n.to_string().as_bytes()),
            Value::Float(f) => {
                if !f.is_finite() {
                    return Err("json: unsupported value: a non-finite float".into());
                }
                out.extend_from_slice(float(*f).as_bytes());
            }
            Value::Str(s) => self.string(s, out),
            Value::List(items) => {
                out.push(b'[');
                for (n, item) in items.iter().enumerate() {
                    if n > 0 {
                        out.push(b',');
                    }
                    self.newline(depth + 1, out);
                    self.value(item, depth + 1, out)?;
                }
                if !items.is_empty() {
                    self.newline(depth, out);
                }
                out.push(b']');
            }
            Value::Dict(map) => {
                let map = map.borrow();
                self.object(map.iter().map(|(k, v)| (k.as_str(), v.clone())), map.is_empty(), depth, out)?;
            }
            Value::StrMap(map) => {
                self.object(map.iter().map(|(k, v)| (k.as_str(), Value::Str(v.clone()))), map.is_empty(), depth, out)?;
            }
            Value::Object(o) => match o.json() {
                Some(encoded) => out.extend_from_slice(&encoded),
                None => out.extend_from_slice(b"{}"),
            },
        }
        Ok(())
    }

    fn object<'a>(
        &self,
        entries: impl Iterator<Item = (&'a str, Value)>,
        empty: bool,
        depth: usize,
        out: &mut Vec<u8>,
    ) -> Result<(), String> {
        out.push(b'{');
        for (n, (k, v)) in entries.enumerate() {
            if n > 0 {
                out.push(b',');
            }
            self.newline(depth + 1, out);
            self.string(k.as_bytes(), out);
            out.push(b':');
            if self.indent {
                out.push(b' ');
            }
            self.value(&v, depth + 1, out)?;
        }
        if !empty {
            self.newline(depth, out);
        }
        out.push(b'}');
        Ok(())
    }

    fn string(&self, s: &[u8], out: &mut Vec<u8>) {
        out.push(b'"');
        let mut rest = s;
        while !rest.is_empty() {
            let (c, len) = decode_rune(rest);
            match c {
                None => out.extend_from_slice(b"\\ufffd"),
                Some('"') => out.extend_from_slice(b"\\\""),
                Some('\\') => out.extend_from_slice(b"\\\\"),
                Some('\n') => out.extend_from_slice(b"\\n"),
                Some('\r') => out.extend_from_slice(b"\\r"),
                Some('\t') => out.extend_from_slice(b"\\t"),
                Some(c) if (c as u32) < 0x20 => out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes()),
                Some(c @ ('<' | '>' | '&')) if self.escape_html => {
                    out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes())
                }
                Some(c @ ('\u{2028}' | '\u{2029}')) => out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes()),
                Some(_) => out.extend_from_slice(&rest[..len]),
            }
            rest = &rest[len..];
        }
        out.push(b'"');
    }
}

/// Go's float64 JSON form: `%f`-like shortest digits, exponent form outside [1e-6, 1e21).
fn float(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let e = format!("{f:e}");
        let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mant}e{sign}{:02}", exp.abs()).replace("e-0", "e-").replace("e+0", "e+");
    }
    format!("{f}")
}

pub(crate) enum DecodeError {
    /// Not JSON (Go's `fromJson` gives nil, `mustFromJson` an error).
    Syntax(String),
    /// Nested deeper than the renderer allows (Go would accept it): always an error here.
    TooDeep,
}

/// `json.Unmarshal` into `interface{}`: objects are `map[string]interface{}`, numbers `float64`.
pub(crate) fn decode(input: &[u8], max_depth: usize) -> Result<Value, DecodeError> {
    let mut p = Decoder { b: input, i: 0, max_depth, too_deep: false };
    p.ws();
    let v = p.value(0).map_err(|e| if p.too_deep { DecodeError::TooDeep } else { DecodeError::Syntax(e) })?;
    p.ws();
    if p.i != p.b.len() {
        return Err(DecodeError::Syntax("invalid character after top-level value".into()));
    }
    Ok(v)
}

struct Decoder<'a> {
    b: &'a [u8],
    i: usize,
    max_depth: usize,
    too_deep: bool,
}

impl Decoder<'_> {
    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn eat(&mut self, lit: &[u8]) -> bool {
        if self.b[self.i..].starts_with(lit) {
            self.i += lit.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, String> {
        if depth >= self.max_depth {
            self.too_deep = true;
            return Err("exceeded max depth".into());
        }
        let Some(&c) = self.b.get(self.i) else {
            return Err("unexpected end of JSON input".into());
        };
        match c {
            b'{' => {
                self.i += 1;
                let mut map = BTreeMap::new();
                self.ws();
                if self.eat(b"}") {
                    return Ok(Value::new_dict(map));
                }
                loop {
                    self.ws();
                    if self.b.get(self.i) != Some(&b'"') {
                        return Err("invalid character looking for beginning of object key string".into());
                    }
                    let key = self.string()?;
                    let key = String::from_utf8_lossy(&key).into_owned();
                    self.ws();
                    if !self.eat(b":") {
                        return Err("invalid character after object key".into());
                    }
                    self.ws();
                    let v = self.value(depth + 1)?;
                    if let Value::Dict(d) = &v {
                        d.nested.set(true);
                    }
                    map.insert(key, v);
                    self.ws();
                    if self.eat(b",") {
                        continue;
                    }
                    if self.eat(b"}") {
                        return Ok(Value::new_dict(map));
                    }
                    return Err("invalid character after object key:value pair".into());
                }
            }
            b'[' => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.eat(b"]") {
                    return Ok(Value::List(items.into()));
                }
                loop {
                    self.ws();
                    let v = self.value(depth + 1)?;
                    if let Value::Dict(d) = &v {
                        d.nested.set(true);
                    }
                    items.push(v);
                    self.ws();
                    if self.eat(b",") {
                        continue;
                    }
                    if self.eat(b"]") {
                        return Ok(Value::List(items.into()));
                    }
                    return Err("invalid character after array element".into());
                }
            }
            b'"' => Ok(Value::Str(self.string()?)),
            b't' if self.eat(b"true") => Ok(Value::Bool(true)),
            b'f' if self.eat(b"false") => Ok(Value::Bool(false)),
            b'n' if self.eat(b"null") => Ok(Value::Nil),
            b'-' | b'0'..=b'9' => {
                let start = self.i;
                self.i += 1;
                while self.i < self.b.len() && matches!(self.b[self.i], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')
                {
                    self.i += 1;
                }
                let text = std::str::from_utf8(&self.b[start..self.i]).map_err(|_| "invalid number")?;
                let valid = {
                    let t = text.strip_prefix('-').unwrap_or(text);
                    !t.is_empty()
                        && t.as_bytes()[0].is_ascii_digit()
                        && !(t.len() > 1 && t.starts_with('0') && t.as_bytes()[1].is_ascii_digit())
                };
                match text.parse::<f64>() {
                    Ok(f) if valid && !text.ends_with('.') => Ok(Value::Float(f)),
                    _ => Err("invalid number literal".into()),
                }
            }
            _ => Err("invalid character looking for beginning of value".into()),
        }
    }

    fn string(&mut self) -> Result<Str, String> {
        self.i += 1;
        let mut out = Vec::new();
        loop {
            let Some(&c) = self.b.get(self.i) else {
                return Err("unexpected end of JSON input".into());
            };
            self.i += 1;
            match c {
                b'"' => return Ok(new_str(out)),
                b'\\' => {
                    let Some(&e) = self.b.get(self.i) else {
                        return Err("unexpected end of JSON input".into());
                    };
                    self.i += 1;
                    let simple = match e {
                        b'"' => Some(b'"'),
                        b'\\' => Some(b'\\'),
                        b'/' => Some(b'/'),
                        b'b' => Some(8),
                        b'f' => Some(12),
                        b'n' => Some(b'\n'),
                        b'r' => Some(b'\r'),
                        b't' => Some(b'\t'),
                        _ => None,
                    };
                    if let Some(s) = simple {
                        out.push(s);
                        continue;
                    }
                    if e != b'u' {
                        return Err("invalid character in string escape code".into());
                    }
                    let mut code = self.hex4()?;
                    if (0xd800..0xdc00).contains(&code) && self.b[self.i..].starts_with(b"\\u") {
                        let save = self.i;
                        self.i += 2;
                        let low = self.hex4()?;
                        if (0xdc00..0xe000).contains(&low) {
                            code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
                        } else {
                            self.i = save;
                        }
                    }
                    let ch = char::from_u32(code).unwrap_or('\u{fffd}');
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                c if c < 0x20 => return Err("invalid character in string literal".into()),
                _ => {
                    let (ch, len) = decode_rune(&self.b[self.i - 1..]);
                    match ch {
                        Some(_) => out.extend_from_slice(&self.b[self.i - 1..self.i - 1 + len]),
                        None => out.extend_from_slice("\u{fffd}".as_bytes()),
                    }
                    self.i += len - 1;
                }
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let digits = self.b.get(self.i..self.i + 4).ok_or("unexpected end of JSON input")?;
        let text = std::str::from_utf8(digits).map_err(|_| "invalid escape")?;
        let code =
            u32::from_str_radix(text, 16).map_err(|_| "invalid character in \\u hexadecimal character escape")?;
        self.i += 4;
        Ok(code)
    }
}
