//! The JSON store: one object per file, key order kept, written the way sops writes it.
//!
//! sops (`stores/json/store.go`; spec §1.7 "JSON") reads with a token-streaming `encoding/json`
//! decoder and writes with a hand-made encoder followed by `json.Indent`. This module has its own
//! small parser and writer that reproduce both byte for byte:
//!
//! * **Reading.** The top level must be an object. Numbers follow sops 3.13.2 (`UseNumber`): an
//!   integer literal that fits an `i64` is an int, anything else a float; a float out of range is
//!   an error. One exception, in encrypted files only: a cleartext `-0` is the float -0.0, which
//!   keeps their MAC verifiable (see [`JsonStore`]'s `load_encrypted`). Strings decode every JSON escape; lone surrogates and invalid UTF-8 become U+FFFD,
//!   as in Go. Duplicate keys are all kept, in order, as sops appends every pair it reads. Bytes
//!   after the top-level object are ignored, because sops stops reading there. Nesting deeper than
//!   [`Limits::max_depth`] is refused (Go's own limit is 10,000).
//! * **Writing.** `json.Indent` layout with a tab (or `json_indent` spaces) and a trailing
//!   newline; strings escaped as `json.Marshal` does (HTML-safe `\u003c \u003e \u0026`,
//!   `\u2028 \u2029`, control characters as `\b \f \n \r \t` or `\u00XX`, invalid UTF-8 as
//!   `\ufffd`); floats in `encoding/json`'s form; times as RFC 3339 strings; `[]byte` as base64;
//!   comments dropped; empty maps and lists as `{}` and `[]`.
//!
//! Differences from sops, on purpose: error messages carry a line and column but never the text
//! of the input (it may be a secret), so where Go echoes a value (`Got 42 of type int`,
//! `parsing "1e400"`) this store names only its type.

pub(in crate::sops) mod skeleton;

use base64::Engine;

use super::metadata::Metadata;
use super::scalar;
use super::store::{Format, Limits, MetadataLayout, Store, StoreConfig, StoreError, check_size, extract_metadata};
use super::tree::{Branch, Element, Item, Key, Scalar, Value};
use crate::crypto::SecretBytes;

/// JSON files, as sops reads and writes them.
#[derive(Clone, Copy, Debug, Default)]
pub struct JsonStore {
    pub config: StoreConfig,
}

impl JsonStore {
    pub fn new(config: StoreConfig) -> Self {
        Self { config }
    }

    /// `json.Indent`'s indent unit: a tab unless a width is configured.
    fn indent(&self) -> Indent {
        match self.config.json_indent {
            Some(width) => Indent::Spaces(width),
            None => Indent::Tab,
        }
    }

    /// Parses one JSON object (the whole file) into a map.
    pub fn parse(&self, input: &[u8]) -> Result<Branch, StoreError> {
        let limits = Limits::default();
        check_size(input, &limits)?;
        Parser::new(input, limits.max_depth, false).document()
    }

    /// Parses exactly one JSON value of any type, with nothing but whitespace after it. Not
    /// part of sops's store (which reads only a top-level object and ignores what follows it);
    /// for callers that read a bare JSON value, such as `set`.
    pub fn parse_value(&self, input: &[u8]) -> Result<Value, StoreError> {
        let limits = Limits::default();
        check_size(input, &limits)?;
        let mut parser = Parser::new(input, limits.max_depth, false);
        parser.skip_ws();
        if parser.peek().is_none() {
            return Err(parser.error_at(parser.pos, "EOF"));
        }
        let value = parser.value()?;
        parser.skip_ws();
        if parser.peek().is_some() {
            return Err(parser.unexpected("after top-level value"));
        }
        Ok(value)
    }

    /// A value laid out as sops's encoder plus `json.Indent` lays it out, without the final
    /// newline (sops adds that only for whole files).
    fn render(&self, value: &Value) -> Result<Vec<u8>, StoreError> {
        let mut writer = Writer { out: Vec::with_capacity(4096), indent: self.indent() };
        writer.value(value, 0)?;
        Ok(writer.out)
    }
}

impl Store for JsonStore {
    fn format(&self) -> Format {
        Format::Json
    }

    fn as_json(&self) -> Option<&JsonStore> {
        Some(self)
    }

    fn load_plain(&self, input: &[u8]) -> Result<Vec<Branch>, StoreError> {
        Ok(vec![self.parse(input)?])
    }

    /// sops writes only the first document; JSON has no multi-document form.
    fn emit_plain(&self, docs: &[Branch]) -> Result<Vec<u8>, StoreError> {
        let first = docs.first().ok_or_else(|| StoreError::Emit("Error marshaling to json: no document".into()))?;
        let mut writer = Writer { out: Vec::with_capacity(4096), indent: self.indent() };
        writer.map(first, 0)?;
        writer.out.push(b'\n');
        Ok(writer.out)
    }

    /// For `decrypt --extract`. A map is written as a whole file, as sops's `extract` does (it
    /// calls `EmitPlainFile` for maps); lists and scalars as sops's `EmitValue` writes them:
    /// indented, with no trailing newline (a string comes out quoted).
    fn emit_value(&self, value: &Value) -> Result<Vec<u8>, StoreError> {
        match value {
            Value::Map(map) => self.emit_plain(std::slice::from_ref(map)),
            other => self.render(other),
        }
    }

    fn metadata_layout(&self) -> MetadataLayout {
        MetadataLayout::Nested
    }

    /// As [`JsonStore::parse`], except that a cleartext `-0` is the float negative zero, not the
    /// integer 0. In an encrypted file `-0` can only come from a float -0.0 (sops ≤ 3.13.1, which
    /// reads every number as a float64, 3.13.2 and sealops all write that as `-0` and hash "-0"
    /// into the MAC; an integer 0 is written `0`). Reading it back as the integer 0, as 3.13.2
    /// does, hashes "0": the MAC check then fails (exit 51) on such files, including 3.13.2's and
    /// sealops's own (`{"x_unencrypted": -0.0}`).
    fn load_encrypted(&self, input: &[u8]) -> Result<(Vec<Branch>, Metadata), StoreError> {
        let limits = Limits::default();
        check_size(input, &limits)?;
        let parser = Parser::new(input, limits.max_depth, true);
        extract_metadata(vec![parser.document()?], self.metadata_layout())
    }
}

// ---------------------------------------------------------------------------------------------
// Reading

#[derive(Clone, Copy)]
struct Parser<'a> {
    input: &'a [u8],
    pos: usize,
    depth: usize,
    max_depth: usize,
    /// `-0` is the float -0.0 rather than the integer 0 (encrypted files; see `load_encrypted`).
    negative_zero_is_float: bool,
    /// The whole input is valid UTF-8 (checked once up front, which is several times faster
    /// than checking each string), so strings are copied without being checked again.
    utf8: bool,
}

const TOP_LEVEL_ARRAY: &str = "SOPS only supports JSON files with a top-level object (starting with '{'), not arrays \
     or other types. Got delimiter [ instead. To encrypt this file, wrap it in an object, e.g., {\"data\": [...]}";

impl<'a> Parser<'a> {
    fn new(input: &'a [u8], max_depth: usize, negative_zero_is_float: bool) -> Self {
        let utf8 = std::str::from_utf8(input).is_ok();
        Parser { input, pos: 0, depth: 0, max_depth, negative_zero_is_float, utf8 }
    }
}

impl Parser<'_> {
    fn document(mut self) -> Result<Branch, StoreError> {
        self.skip_ws();
        match self.peek() {
            // Go's decoder reports a bare `io.EOF` for empty input.
            None => Err(self.error_at(self.pos, "EOF")),
            Some(b'{') => {
                self.pos += 1;
                // sops stops after the top-level object: whatever follows is never read.
                self.object()
            }
            Some(b'[') => Err(self.error_at(self.pos, TOP_LEVEL_ARRAY)),
            Some(_) => {
                let start = self.pos;
                let kind = match self.value()? {
                    Value::Null => "<nil>",
                    Value::Scalar(s) => s.type_name(),
                    Value::Map(_) | Value::List(_) => "object",
                };
                Err(self.error_at(
                    start,
                    format!(
                        "SOPS only supports JSON files with a top-level object (starting with '{{'), not other JSON \
                         types. Got a value of type {kind} instead"
                    ),
                ))
            }
        }
    }

    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// A parse error at byte `at`, located by line and column (in characters). The message must
    /// never contain input text.
    fn error_at(&self, at: usize, message: impl Into<String>) -> StoreError {
        let before = self.input.get(..at).unwrap_or(self.input);
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let column = before.get(line_start..).unwrap_or_default().iter().filter(|&&b| b & 0xC0 != 0x80).count() + 1;
        StoreError::parse("JSON", Some(format!("line {line}, column {column}")), message)
    }

    fn unexpected(&self, context: &str) -> StoreError {
        match self.peek() {
            None => self.error_at(self.pos, "unexpected end of JSON input"),
            Some(_) => self.error_at(self.pos, format!("invalid character {context}")),
        }
    }

    fn enter(&mut self) -> Result<(), StoreError> {
        self.depth += 1;
        if self.depth > self.max_depth {
            return Err(self.error_at(self.pos, format!("exceeded max depth of {}", self.max_depth)));
        }
        Ok(())
    }

    fn value(&mut self) -> Result<Value, StoreError> {
        self.skip_ws();
        match self.peek() {
            Some(b'{') => {
                self.pos += 1;
                Ok(Value::Map(self.object()?))
            }
            Some(b'[') => {
                self.pos += 1;
                Ok(Value::List(self.array()?))
            }
            Some(b'"') => {
                self.pos += 1;
                Ok(Value::Scalar(Scalar::Str(SecretBytes::new(self.string()?))))
            }
            Some(b't') => self.literal(b"true", Value::Scalar(Scalar::Bool(true))),
            Some(b'f') => self.literal(b"false", Value::Scalar(Scalar::Bool(false))),
            Some(b'n') => self.literal(b"null", Value::Null),
            Some(b'-' | b'0'..=b'9') => Ok(Value::Scalar(self.number()?)),
            _ => Err(self.unexpected("looking for beginning of value")),
        }
    }

    /// The members of an object whose `{` has been consumed.
    fn object(&mut self) -> Result<Branch, StoreError> {
        self.enter()?;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(items);
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.unexpected("looking for beginning of object key string"));
            }
            self.pos += 1;
            let key_start = self.pos;
            let key = String::from_utf8(self.string()?)
                .map_err(|_| self.error_at(key_start, "object key is not valid UTF-8"))?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.unexpected("after object key"));
            }
            self.pos += 1;
            let value = self.value()?;
            items.push(Item::Pair { key: Key::Str(key), value });
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    self.depth -= 1;
                    return Ok(items);
                }
                _ => return Err(self.unexpected("after object key:value pair")),
            }
        }
    }

    /// The elements of an array whose `[` has been consumed.
    fn array(&mut self) -> Result<Vec<Element>, StoreError> {
        self.enter()?;
        let mut elements = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(elements);
        }
        loop {
            elements.push(Element::Value(self.value()?));
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    self.depth -= 1;
                    return Ok(elements);
                }
                _ => return Err(self.unexpected("after array element")),
            }
        }
    }

    fn literal(&mut self, word: &[u8], value: Value) -> Result<Value, StoreError> {
        let rest = self.input.get(self.pos..).unwrap_or_default();
        let matched = rest.iter().zip(word).take_while(|(a, b)| a == b).count();
        // On a mismatch, point at the first byte that differs, as Go's scanner does.
        self.pos += matched;
        if matched == word.len() { Ok(value) } else { Err(self.unexpected("in literal")) }
    }

    /// A number, typed as sops 3.13.2 types it: int when the literal is an integer that fits
    /// `i64` (`json.Number.Int64`), otherwise float64.
    fn number(&mut self) -> Result<Scalar, StoreError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.unexpected("in numeric literal")),
        }
        let mut integer = true;
        if self.peek() == Some(b'.') {
            integer = false;
            self.pos += 1;
            self.required_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            integer = false;
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            self.required_digits()?;
        }
        // The literal is ASCII by construction.
        let text = std::str::from_utf8(self.input.get(start..self.pos).unwrap_or_default()).unwrap_or_default();
        if integer && let Ok(i) = text.parse::<i64>() {
            if i == 0 && self.negative_zero_is_float && text.starts_with('-') {
                return Ok(Scalar::Float(-0.0));
            }
            return Ok(Scalar::Int(i));
        }
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Scalar::Float(f)),
            _ => Err(self.error_at(start, "number is out of range for a float64")),
        }
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }

    fn required_digits(&mut self) -> Result<(), StoreError> {
        if !matches!(self.peek(), Some(b'0'..=b'9')) {
            return Err(self.unexpected("in numeric literal"));
        }
        self.digits();
        Ok(())
    }

    /// The contents of a string whose opening quote has been consumed, as UTF-8.
    fn string(&mut self) -> Result<Vec<u8>, StoreError> {
        let start = self.pos;
        let mut out = Vec::new();
        loop {
            let run = self.pos;
            let rest = self.input.get(run..).unwrap_or_default();
            self.pos += super::scan::position(rest, |b| (b == b'"') | (b == b'\\') | (b < 0x20)).unwrap_or(rest.len());
            if out.capacity() == 0 {
                // One exact allocation for the whole string: a buffer that grows leaves copies of
                // what it held (a decrypted value, say) in freed memory.
                out.reserve_exact(match self.peek() {
                    // The common case, no escapes.
                    Some(b'"') if self.utf8 => self.pos - run,
                    Some(b'"' | b'\\') => self.decoded_bound(start),
                    _ => 0,
                });
            }
            let raw = self.input.get(run..self.pos).unwrap_or_default();
            if self.utf8 {
                out.extend_from_slice(raw);
            } else {
                push_utf8_go(&mut out, raw);
            }
            match self.peek() {
                None => return Err(self.error_at(start, "unexpected end of JSON input in string literal")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    self.escape(&mut out)?;
                }
                Some(_) => return Err(self.unexpected("in string literal")),
            }
        }
    }

    /// Where the string whose contents start at `from` stops, without decoding it: at its
    /// closing quote, at a control character (an error), or at the end of the input; and
    /// whether it has escapes (skipped here, checked when the string is decoded).
    #[inline]
    fn string_end(&self, from: usize) -> (usize, bool) {
        let (mut pos, mut escaped) = (from, false);
        loop {
            let Some(rest) = self.input.get(pos..) else { return (self.input.len(), escaped) };
            pos += super::scan::position(rest, |b| (b == b'"') | (b == b'\\') | (b < 0x20)).unwrap_or(rest.len());
            if self.input.get(pos) != Some(&b'\\') {
                return (pos, escaped);
            }
            escaped = true;
            pos += 2;
        }
    }

    /// At most how many bytes the string starting at `start` decodes to: its raw length up to
    /// where it stops, as no escape decodes to more than it takes, or three times that when
    /// invalid UTF-8 is replaced (a byte becomes U+FFFD).
    fn decoded_bound(&self, start: usize) -> usize {
        let raw = self.string_end(start).0 - start;
        if self.utf8 { raw } else { raw * 3 }
    }

    /// One escape sequence after its backslash.
    fn escape(&mut self, out: &mut Vec<u8>) -> Result<(), StoreError> {
        let Some(c) = self.peek() else {
            return Err(self.unexpected("in string escape code"));
        };
        self.pos += 1;
        let byte = match c {
            b'"' | b'\\' | b'/' => c,
            b'b' => 0x08,
            b'f' => 0x0C,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                let unit = self.hex4().ok_or_else(|| self.unexpected("in \\u hexadecimal character escape"))?;
                let ch = self.utf16_unit(unit);
                out.extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes());
                return Ok(());
            }
            _ => {
                self.pos -= 1;
                return Err(self.unexpected("in string escape code"));
            }
        };
        out.push(byte);
        Ok(())
    }

    /// Completes a `\uXXXX` escape. A surrogate pair is joined only when the next escape is its
    /// low half; a lone surrogate becomes U+FFFD and the next escape is read on its own (Go's
    /// `unquote`).
    fn utf16_unit(&mut self, unit: u32) -> char {
        if !(0xD800..0xE000).contains(&unit) {
            return char::from_u32(unit).unwrap_or(char::REPLACEMENT_CHARACTER);
        }
        if (0xD800..0xDC00).contains(&unit) && self.input.get(self.pos..self.pos + 2) == Some(b"\\u") {
            let saved = self.pos;
            self.pos += 2;
            match self.hex4() {
                Some(low) if (0xDC00..0xE000).contains(&low) => {
                    let joined = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                    return char::from_u32(joined).unwrap_or(char::REPLACEMENT_CHARACTER);
                }
                _ => self.pos = saved,
            }
        }
        char::REPLACEMENT_CHARACTER
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.input.get(self.pos..self.pos + 4)?;
        let mut value = 0;
        for &d in digits {
            value = value * 16 + char::from(d).to_digit(16)?;
        }
        self.pos += 4;
        Some(value)
    }
}

/// Appends `bytes`, replacing every byte of an invalid UTF-8 sequence with U+FFFD, as Go's
/// decoder does (one replacement per byte, unlike Rust's `from_utf8_lossy`).
fn push_utf8_go(out: &mut Vec<u8>, mut bytes: &[u8]) {
    loop {
        match std::str::from_utf8(bytes) {
            Ok(valid) => {
                out.extend_from_slice(valid.as_bytes());
                return;
            }
            Err(e) => {
                let (valid, rest) = bytes.split_at(e.valid_up_to());
                out.extend_from_slice(valid);
                let bad = e.error_len().unwrap_or(rest.len()).min(rest.len());
                for _ in 0..bad {
                    out.extend_from_slice("\u{FFFD}".as_bytes());
                }
                bytes = rest.get(bad..).unwrap_or_default();
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Writing

#[derive(Clone, Copy)]
enum Indent {
    Tab,
    Spaces(usize),
}

struct Writer {
    out: Vec<u8>,
    indent: Indent,
}

impl Writer {
    fn newline(&mut self, depth: usize) {
        self.out.push(b'\n');
        match self.indent {
            Indent::Tab => self.out.resize(self.out.len() + depth, b'\t'),
            Indent::Spaces(width) => self.out.resize(self.out.len() + depth * width, b' '),
        }
    }

    fn value(&mut self, value: &Value, depth: usize) -> Result<(), StoreError> {
        match value {
            Value::Null => self.out.extend_from_slice(b"null"),
            Value::Scalar(s) => write_scalar(&mut self.out, s)?,
            Value::Map(items) => self.map(items, depth)?,
            Value::List(elements) => self.list(elements, depth)?,
        }
        Ok(())
    }

    /// `{` … `}` with one member per line; comments are skipped, so a map of only comments
    /// is `{}` (json.Indent keeps empty containers on one line).
    fn map(&mut self, items: &[Item], depth: usize) -> Result<(), StoreError> {
        self.out.push(b'{');
        let mut empty = true;
        for item in items {
            let Item::Pair { key, value } = item else { continue };
            let Key::Str(key) = key else {
                return Err(StoreError::Emit("Error marshaling to json: Error encoding key: not a string".into()));
            };
            if !empty {
                self.out.push(b',');
            }
            empty = false;
            self.newline(depth + 1);
            write_go_string(&mut self.out, key.as_bytes());
            self.out.extend_from_slice(b": ");
            self.value(value, depth + 1)?;
        }
        if !empty {
            self.newline(depth);
        }
        self.out.push(b'}');
        Ok(())
    }

    fn list(&mut self, elements: &[Element], depth: usize) -> Result<(), StoreError> {
        self.out.push(b'[');
        let mut empty = true;
        for element in elements {
            let Element::Value(value) = element else { continue };
            if !empty {
                self.out.push(b',');
            }
            empty = false;
            self.newline(depth + 1);
            self.value(value, depth + 1)?;
        }
        if !empty {
            self.newline(depth);
        }
        self.out.push(b']');
        Ok(())
    }
}

/// A scalar as `json.Marshal` writes it.
pub(crate) fn write_scalar(out: &mut Vec<u8>, scalar: &Scalar) -> Result<(), StoreError> {
    match scalar {
        Scalar::Str(s) => write_go_string(out, s.expose()),
        Scalar::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Scalar::Uint(u) => out.extend_from_slice(u.to_string().as_bytes()),
        Scalar::Float(f) if f.is_finite() => out.extend_from_slice(scalar::format_float_json(*f).as_bytes()),
        Scalar::Float(f) => {
            return Err(StoreError::Emit(format!(
                "Error marshaling to json: json: unsupported value: {}",
                scalar::format_float_f(*f)
            )));
        }
        Scalar::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Scalar::Time(t) => {
            let text = t.marshal_text().ok_or_else(|| {
                StoreError::Emit(
                    "Error marshaling to json: json: error calling MarshalJSON for type time.Time: \
                     Time.MarshalJSON: year outside of range [0,9999]"
                        .into(),
                )
            })?;
            out.push(b'"');
            out.extend_from_slice(text.as_bytes());
            out.push(b'"');
        }
        // `json.Marshal` of a `[]byte` is its standard base64.
        Scalar::Bytes(b) => {
            out.push(b'"');
            out.extend_from_slice(base64::engine::general_purpose::STANDARD.encode(b.expose()).as_bytes());
            out.push(b'"');
        }
    }
    Ok(())
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A quoted string as Go's `json.Marshal` writes it (`encodeState.string` with HTML escaping).
pub(crate) fn write_go_string(out: &mut Vec<u8>, s: &[u8]) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    let mut rest = s;
    loop {
        // Copy the run of bytes that need no escaping in one go.
        let safe = super::scan::position(rest, |b| !is_html_safe(b)).unwrap_or(rest.len());
        let (run, tail) = rest.split_at(safe);
        out.extend_from_slice(run);
        let Some(&b) = tail.first() else { break };
        let used = if b < 0x80 {
            write_ascii_escape(out, b);
            1
        } else {
            match decode_first(tail) {
                None => {
                    out.extend_from_slice(b"\\ufffd");
                    1
                }
                Some(('\u{2028}', len)) => {
                    out.extend_from_slice(b"\\u2028");
                    len
                }
                Some(('\u{2029}', len)) => {
                    out.extend_from_slice(b"\\u2029");
                    len
                }
                Some((_, len)) => {
                    out.extend_from_slice(tail.get(..len).unwrap_or_default());
                    len
                }
            }
        };
        rest = tail.get(used..).unwrap_or_default();
    }
    out.push(b'"');
}

/// Go's `htmlSafeSet`: printable ASCII (DEL included) except `"`, `\`, `<`, `>` and `&`.
#[inline(always)]
fn is_html_safe(b: u8) -> bool {
    (b.wrapping_sub(0x20) < 0x60) & (b != b'"') & (b != b'\\') & (b != b'<') & (b != b'>') & (b != b'&')
}

fn write_ascii_escape(out: &mut Vec<u8>, b: u8) {
    match b {
        b'"' | b'\\' => out.extend_from_slice(&[b'\\', b]),
        b'\n' => out.extend_from_slice(b"\\n"),
        b'\r' => out.extend_from_slice(b"\\r"),
        b'\t' => out.extend_from_slice(b"\\t"),
        0x08 => out.extend_from_slice(b"\\b"),
        0x0C => out.extend_from_slice(b"\\f"),
        // Other control characters, and `<`, `>`, `&` (HTML-safe escaping).
        _ => {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0xF)]);
        }
    }
}

/// The first character of `bytes` and its length, or `None` when they do not start with valid
/// UTF-8.
fn decode_first(bytes: &[u8]) -> Option<(char, usize)> {
    let head = bytes.get(..bytes.len().min(4))?;
    let valid = match std::str::from_utf8(head) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(head.get(..e.valid_up_to())?).ok()?,
    };
    let c = valid.chars().next()?;
    Some((c, c.len_utf8()))
}

#[cfg(test)]
pub(in crate::sops) mod tests {
    use super::*;
    use crate::sops::tree::{Comment, branches_equal};
    use proptest::prelude::*;

    fn store() -> JsonStore {
        JsonStore::default()
    }

    fn parse(text: &str) -> Branch {
        store().parse(text.as_bytes()).unwrap_or_else(|e| panic!("{e}"))
    }

    fn parse_err(text: &[u8]) -> String {
        match store().parse(text) {
            Ok(_) => panic!("expected an error"),
            Err(e) => e.to_string(),
        }
    }

    fn emit(doc: &Branch) -> String {
        String::from_utf8(store().emit_plain(std::slice::from_ref(doc)).unwrap()).unwrap()
    }

    fn pair(key: &str, value: Value) -> Item {
        Item::Pair { key: key.into(), value }
    }

    fn int(i: i64) -> Value {
        Value::Scalar(Scalar::Int(i))
    }

    fn text_of(value: &Value) -> Vec<u8> {
        match value {
            Value::Scalar(Scalar::Str(s)) => s.expose().to_vec(),
            other => panic!("not a string: {other:?}"),
        }
    }

    /// `stores/json/store_test.go` TestIndentDefault / TestIndentTwoSpaces / TestNoIndent.
    #[test]
    fn indentation_matches_sops() {
        let doc = vec![pair(
            "foo",
            Value::List(vec![
                Element::Value(Value::Map(vec![pair("foo", int(3)), pair("bar", Value::Scalar(Scalar::Bool(false)))])),
                Element::Value(int(2)),
            ]),
        )];
        assert_eq!(
            emit(&doc),
            "{\n\t\"foo\": [\n\t\t{\n\t\t\t\"foo\": 3,\n\t\t\t\"bar\": false\n\t\t},\n\t\t2\n\t]\n}\n"
        );
        let two = JsonStore::new(StoreConfig { json_indent: Some(2), ..Default::default() });
        let out = two.emit_plain(std::slice::from_ref(&doc)).unwrap();
        assert_eq!(out, b"{\n  \"foo\": [\n    {\n      \"foo\": 3,\n      \"bar\": false\n    },\n    2\n  ]\n}\n");
        let zero = JsonStore::new(StoreConfig { json_indent: Some(0), ..Default::default() });
        let out = zero.emit_plain(std::slice::from_ref(&doc)).unwrap();
        assert_eq!(out, b"{\n\"foo\": [\n{\n\"foo\": 3,\n\"bar\": false\n},\n2\n]\n}\n");
    }

    /// `store_test.go` TestComments: comments vanish, in maps and in lists.
    #[test]
    fn comments_are_dropped() {
        let c = |t: &str| Comment::new(t);
        let inner = vec![
            Item::Comment(c(" comment 1")),
            pair("foo", int(3)),
            Item::Comment(c(" comment 2")),
            pair("bar", Value::Scalar(Scalar::Bool(false))),
            Item::Comment(c(" comment 4")),
        ];
        let doc = vec![pair(
            "foo",
            Value::List(vec![
                Element::Comment(c(" comment 0")),
                Element::Value(Value::Map(inner)),
                Element::Comment(c(" comment 6")),
                Element::Value(int(2)),
                Element::Comment(c(" comment 8")),
            ]),
        )];
        let two = JsonStore::new(StoreConfig { json_indent: Some(2), ..Default::default() });
        let out = two.emit_plain(&[doc]).unwrap();
        assert_eq!(out, b"{\n  \"foo\": [\n    {\n      \"foo\": 3,\n      \"bar\": false\n    },\n    2\n  ]\n}\n");
        let only_comments = vec![Item::Comment(c("x")), pair("m", Value::Map(vec![Item::Comment(c("y"))]))];
        assert_eq!(emit(&only_comments), "{\n\t\"m\": {}\n}\n");
    }

    /// Functional test golden (`functional-tests/src/lib.rs`): `{\n\t"foo": "bar"\n}\n`.
    #[test]
    fn functional_test_golden() {
        let doc = parse(r#"{"foo":"bar"}"#);
        assert_eq!(emit(&doc), "{\n\t\"foo\": \"bar\"\n}\n");
    }

    /// Parse of `gen311_basic.plain.json`, written out as sops 3.13.2 would: identical to the
    /// observed `gen311_basic.dec.json` except the big integer, which 3.11 rounded through a
    /// float64 and 3.13.2 keeps exact (`TestLargeIntegerRoundtrip` covers that).
    #[test]
    fn gen311_basic_fixture() {
        // gen311_basic.plain.json
        let plain = "{\n  \"a\": 1,\n  \"b\": 1.5,\n  \"c\": true,\n  \"d\": null,\n  \"e\": \"\",\n  \
                     \"f\": [1, \"x\", {\"g\": \"h\"}],\n  \"big\": 12345678901234567890\n}\n";
        // gen311_basic.dec.json
        let observed = "{\n\t\"a\": 1,\n\t\"b\": 1.5,\n\t\"c\": true,\n\t\"d\": null,\n\t\"e\": \"\",\n\t\"f\": [\n\t\t1,\n\
                        \t\t\"x\",\n\t\t{\n\t\t\t\"g\": \"h\"\n\t\t}\n\t],\n\t\"big\": 12345678901234567000\n}\n";
        let doc = parse(plain);
        assert!(matches!(tree_get(&doc, "a"), Value::Scalar(Scalar::Int(1))));
        // 12345678901234567890 overflows i64, so it is a float (and prints as Go does).
        assert!(matches!(tree_get(&doc, "big"), Value::Scalar(Scalar::Float(_))));
        assert!(matches!(tree_get(&doc, "d"), Value::Null));
        assert_eq!(emit(&doc), observed);
    }

    fn tree_get<'a>(doc: &'a Branch, key: &str) -> &'a Value {
        crate::sops::tree::get(doc, key).unwrap_or_else(|| panic!("no {key}"))
    }

    /// `head_example.dec.json` and `examples_per_file_static_github.dec.json` (empty map) are
    /// fixed points of parse → emit.
    #[test]
    fn observed_outputs_are_fixed_points() {
        let head = "{\n\t\"firstName\": \"John\",\n\t\"lastName\": \"Smith\",\n\t\"age\": 25.4,\n\t\"address\": {\n\
                    \t\t\"city\": \"New York\",\n\t\t\"postalCode\": \"10021-3100\",\n\t\t\"state\": \"NY\",\n\
                    \t\t\"streetAddress\": \"21 2nd Street\"\n\t},\n\t\"phoneNumbers\": [\n\t\t{\n\
                    \t\t\t\"number\": \"212 555-1234\",\n\t\t\t\"type\": \"home\"\n\t\t},\n\t\t{\n\
                    \t\t\t\"number\": \"646 555-4567\",\n\t\t\t\"type\": \"office\"\n\t\t}\n\t],\n\
                    \t\"anEmptyValue\": \"\"\n}\n";
        assert_eq!(emit(&parse(head)), head);
        let github = "{\n\t\"common\": {\n\t\t\"github_username_unencrypted\": \"twolfson-dev\",\n\
                      \t\t\"github_password\": \"0xDEADBEEF\"\n\t},\n\t\"development\": {},\n\t\"test\": {\n\
                      \t\t\"github_username_unencrypted\": \"test-user\"\n\t}\n}\n";
        assert_eq!(emit(&parse(github)), github);
    }

    /// `store_test.go` TestLargeIntegerRoundtrip and TestIntegerBoundaries.
    #[test]
    fn integers_keep_full_precision() {
        for lit in ["1234567890123456789", "-1234567890123456789", "-9223372036854775808", "9223372036854775807", "0"] {
            let text = format!("{{\n\t\"v\": {lit}\n}}\n");
            let doc = parse(&text);
            assert!(matches!(tree_get(&doc, "v"), Value::Scalar(Scalar::Int(_))), "{lit}");
            assert_eq!(emit(&doc), text);
        }
        // Go's ParseInt takes "-0"; fractions and exponents are floats.
        assert!(matches!(tree_get(&parse(r#"{"v": -0}"#), "v"), Value::Scalar(Scalar::Int(0))));
        // In an encrypted file `-0` is what a float -0.0 was written as (see `load_encrypted`).
        let file = br#"{"v": -0, "w": 0, "sops": {"lastmodified": "2024-01-02T03:04:05Z", "mac": "", "version": "3.11.0", "age": [{"recipient": "age1x", "enc": "x"}]}}"#;
        let (docs, _) = store().load_encrypted(file).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            matches!(tree_get(&docs[0], "v"), Value::Scalar(Scalar::Float(f)) if *f == 0.0 && f.is_sign_negative())
        );
        assert!(matches!(tree_get(&docs[0], "w"), Value::Scalar(Scalar::Int(0))));
        assert!(matches!(tree_get(&parse(r#"{"v": 1.0}"#), "v"), Value::Scalar(Scalar::Float(_))));
        assert!(matches!(tree_get(&parse(r#"{"v": 1e2}"#), "v"), Value::Scalar(Scalar::Float(_))));
        assert!(matches!(tree_get(&parse(r#"{"v": 1e-400}"#), "v"), Value::Scalar(Scalar::Float(_))));
    }

    #[test]
    fn float_forms() {
        let doc = parse(r#"{"a": 1.0, "b": 1e21, "c": 1e-7, "d": 0.000001, "e": -2.5E+3, "f": 25.4}"#);
        let out = emit(&doc);
        assert_eq!(
            out,
            "{\n\t\"a\": 1,\n\t\"b\": 1e+21,\n\t\"c\": 1e-7,\n\t\"d\": 0.000001,\n\t\"e\": -2500,\n\t\"f\": 25.4\n}\n"
        );
        let nan = vec![pair("x", Value::Scalar(Scalar::Float(f64::NAN)))];
        let err = store().emit_plain(&[nan]).err().unwrap().to_string();
        assert!(err.contains("json: unsupported value: NaN"), "{err}");
    }

    /// Go `json.Marshal` escaping (encoding/json `appendString`, Go ≥ 1.22: `\b` and `\f`).
    #[test]
    fn string_escaping_is_gos() {
        let mut out = Vec::new();
        write_go_string(&mut out, "<a href=\"x\">&</a>\\\u{7f}".as_bytes());
        assert_eq!(out, expected_html());
        let mut out = Vec::new();
        write_go_string(&mut out, b"\x00\x01\x08\x0c\n\r\t\x1f");
        assert_eq!(out, br#""\u0000\u0001\b\f\n\r\t\u001f""#);
        let mut out = Vec::new();
        write_go_string(&mut out, "a\u{2028}b\u{2029}é😀".as_bytes());
        assert_eq!(out, "\"a\\u2028b\\u2029é😀\"".as_bytes());
        let mut out = Vec::new();
        write_go_string(&mut out, b"x\xffy\xe2\x82");
        assert_eq!(out, br#""x\ufffdy\ufffd\ufffd""#);
    }

    fn expected_html() -> Vec<u8> {
        let mut v = br#""\u003ca href=\"x\"\u003e\u0026\u003c/a\u003e\\"#.to_vec();
        v.push(0x7f);
        v.push(b'"');
        v
    }

    #[test]
    fn string_decoding_is_gos() {
        let doc = parse(r#"{"k": "a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00\u2028"}"#);
        assert_eq!(text_of(tree_get(&doc, "k")), "a\"\\/\u{8}\u{c}\n\r\té😀\u{2028}".as_bytes());
        // A lone surrogate is U+FFFD and the following escape is read on its own.
        let doc = parse(r#"{"k": "\ud800\u0041\udc00x"}"#);
        assert_eq!(text_of(tree_get(&doc, "k")), "\u{FFFD}A\u{FFFD}x".as_bytes());
        // Invalid UTF-8: one U+FFFD per bad byte (Go), not per maximal subpart (Rust's lossy).
        let doc = store().parse(b"{\"k\": \"a\xf0\x9f\x98b\xffc\"}").unwrap();
        assert_eq!(text_of(tree_get(&doc, "k")), "a\u{FFFD}\u{FFFD}\u{FFFD}b\u{FFFD}c".as_bytes());
        let doc = store().parse(b"{\"k\xff\": 1}").unwrap();
        assert!(matches!(&doc[0], Item::Pair { key: Key::Str(k), .. } if k == "k\u{FFFD}"));
    }

    /// Strings are decoded into one allocation of exactly the bound, never grown: growing would
    /// leave copies of a decrypted value in freed memory. Escapes, surrogates (paired and lone)
    /// and invalid UTF-8 are mixed in so that each case's bound is tried.
    #[test]
    fn strings_decode_into_one_allocation() {
        let pieces: [&[u8]; 10] = [
            b"a",
            b"\\n",
            b"\\\"",
            b"\\u00e9",
            b"\\ud83d\\ude00",
            b"\\ud800",
            b"\xff",
            b"\xf0\x9f\x98",
            b"\xe2\x82\xac",
            b"\\/",
        ];
        proptest!(|(picks in proptest::collection::vec(0..pieces.len(), 0..24))| {
            let mut input = b"\"".to_vec();
            for &i in &picks {
                input.extend_from_slice(pieces[i]);
            }
            input.extend_from_slice(b"\" tail");
            let mut parser = Parser::new(&input, 8, false);
            parser.pos = 1;
            let bound = parser.decoded_bound(1);
            let out = parser.string().unwrap();
            prop_assert!(out.len() <= bound, "{} > {bound} for {:?}", out.len(), input);
            prop_assert_eq!(out.capacity(), bound);
        });
    }

    /// `store_test.go` TestDecodeJSON (nesting, lists, order) in miniature, plus duplicates,
    /// which sops keeps (TestConflictingAttributes loads them without error).
    #[test]
    fn structure_and_duplicates() {
        let doc = parse(r#"{"foo": [[["foo", {"bar": "foo"}]]], "x": {}, "x": [], "x": null}"#);
        let keys: Vec<_> = doc
            .iter()
            .map(|i| match i {
                Item::Pair { key: Key::Str(k), .. } => k.as_str(),
                _ => "#",
            })
            .collect();
        assert_eq!(keys, ["foo", "x", "x", "x"]);
        assert_eq!(
            emit(&doc),
            "{\n\t\"foo\": [\n\t\t[\n\t\t\t[\n\t\t\t\t\"foo\",\n\t\t\t\t{\n\t\t\t\t\t\"bar\": \"foo\"\n\t\t\t\t}\n\t\t\t]\n\t\t]\n\t],\n\t\"x\": {},\n\t\"x\": [],\n\t\"x\": null\n}\n"
        );
    }

    #[test]
    fn top_level_must_be_an_object() {
        assert!(parse_err(b" [42] ").contains("Got delimiter [ instead. To encrypt this file, wrap it in an object"));
        let e = parse_err(b"42");
        assert!(e.contains("not other JSON types. Got a value of type int instead"), "{e}");
        let e = parse_err(b"\"hunter2\"");
        assert!(e.contains("type string") && !e.contains("hunter2"), "{e}");
        assert!(parse_err(b"").contains("EOF"));
        assert!(parse_err(b"  \n ").contains("EOF"));
        // sops stops reading after the top-level object.
        assert_eq!(parse("{\"a\": 1} trailing ] garbage").len(), 1);
    }

    #[test]
    fn syntax_errors_have_positions_and_no_content() {
        let cases: &[(&[u8], &str)] = &[
            (b"{\"a\": 1,}", "line 1, column 9"),
            (b"{\n  \"pw\": hunter2\n}", "line 2, column 9"),
            (b"{\"a\" 1}", "after object key"),
            (b"{\"a\": 1 \"b\": 2}", "after object key:value pair"),
            (b"{\"a\": [1 2]}", "after array element"),
            (b"{\"a\": [1,]}", "looking for beginning of value"),
            (b"{\"a\": 01}", "after object key:value pair"),
            (b"{\"a\": -}", "in numeric literal"),
            (b"{\"a\": 1.}", "in numeric literal"),
            (b"{\"a\": 1e}", "in numeric literal"),
            (b"{\"a\": tru}", "in literal"),
            (b"{\"a\": nulL}", "in literal"),
            (b"{\"a\": \"sec\x01ret\"}", "in string literal"),
            (b"{\"a\": \"secret\\q\"}", "in string escape code"),
            (b"{\"a\": \"secret\\u12G4\"}", "hexadecimal"),
            (b"{\"a\": \"secret", "unexpected end"),
            (b"{\"a\": 1", "unexpected end"),
            (b"{\"a\": 1e400}", "out of range"),
            (b"{1: 2}", "beginning of object key string"),
        ];
        for (input, want) in cases {
            let e = parse_err(input);
            assert!(e.contains(want), "{:?}: {e}", String::from_utf8_lossy(input));
            for secret in ["hunter2", "secret", "sec", "1e400"] {
                assert!(!e.contains(secret), "{e}");
            }
        }
        let e = parse_err("{\"é\": x}".as_bytes());
        assert!(e.contains("line 1, column 7"), "{e}");
    }

    #[test]
    fn deep_nesting_fails_cleanly() {
        for open in [b'[', b'{'] {
            let mut input = b"{\"a\": ".to_vec();
            for _ in 0..100_000 {
                input.push(open);
                if open == b'{' {
                    input.extend_from_slice(b"\"a\": ");
                }
            }
            assert!(parse_err(&input).contains("exceeded max depth"));
        }
        let limit = Limits::default().max_depth;
        let ok = format!("{}{}", "{\"a\": ".repeat(limit), "1".to_owned() + &"}".repeat(limit));
        assert!(store().parse(ok.as_bytes()).is_ok());
    }

    #[test]
    fn parse_value_is_strict() {
        assert!(matches!(store().parse_value(b" 5 "), Ok(Value::Scalar(Scalar::Int(5)))));
        assert!(matches!(store().parse_value(b"[1, {}]"), Ok(Value::List(l)) if l.len() == 2));
        assert!(matches!(store().parse_value(b"\"x\""), Ok(Value::Scalar(Scalar::Str(_)))));
        assert!(store().parse_value(b"{\"a\": 1} x").err().unwrap().to_string().contains("after top-level value"));
        assert!(store().parse_value(b"1 2").is_err());
        assert!(store().parse_value(b"").is_err());
    }

    /// sops's EmitValue (`TestEmitValueString`): quoted, no newline; lists indented. A map is a
    /// whole file, as `extract` writes it.
    #[test]
    fn emit_value_forms() {
        assert_eq!(store().emit_value(&Value::str("hello")).unwrap(), b"\"hello\"");
        let list = Value::List(vec![Element::Value(int(1)), Element::Value(Value::Map(vec![]))]);
        assert_eq!(store().emit_value(&list).unwrap(), b"[\n\t1,\n\t{}\n]");
        assert_eq!(store().emit_value(&Value::List(vec![])).unwrap(), b"[]");
        let map = Value::Map(vec![pair("a", Value::Null)]);
        assert_eq!(store().emit_value(&map).unwrap(), b"{\n\t\"a\": null\n}\n");
    }

    #[test]
    fn other_scalars() {
        let t = crate::sops::gotime::GoTime::parse_rfc3339("2024-01-02T03:04:05.5+01:00").unwrap();
        let doc = vec![
            pair("t", Value::Scalar(Scalar::Time(t))),
            pair("b", Value::Scalar(Scalar::Bytes(SecretBytes::from("hi")))),
            pair("u", Value::Scalar(Scalar::Uint(u64::MAX))),
        ];
        assert_eq!(
            emit(&doc),
            "{\n\t\"t\": \"2024-01-02T03:04:05.5+01:00\",\n\t\"b\": \"aGk=\",\n\t\"u\": 18446744073709551615\n}\n"
        );
    }

    /// `ft_format.enc.json` (written by 3.13.1): loads, and its metadata comes out.
    #[test]
    fn loads_encrypted_fixture() {
        // ft_format.enc.json, with the PGP `enc` shortened.
        let input = r#"{
	"foo": "ENC[AES256_GCM,data:fvD/,iv:k3Mzfy+W8e3JGCaehDIOwoJDFGOWGoV+peBYbWdmb70=,tag:FeziVN+GUFROjEiQl+RsSw==,type:str]",
	"sops": {
		"lastmodified": "2026-05-22T20:16:18Z",
		"mac": "ENC[AES256_GCM,data:5ISl,iv:NsFPBoAsI1Nog0781MtAlPWFs7kveSvE+JMGUdekMRA=,tag:NX+MlNcRnCGPAq58ewLfHQ==,type:str]",
		"pgp": [
			{
				"created_at": "2026-05-22T20:16:08Z",
				"enc": "-----BEGIN PGP MESSAGE-----\n\nwcBMAyUpShfNkFB\n=7UUe\n-----END PGP MESSAGE-----",
				"fp": "FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4"
			}
		],
		"unencrypted_suffix": "_unencrypted",
		"version": "3.13.1"
	}
}
"#;
        let (docs, meta) = store().load_encrypted(input.as_bytes()).unwrap();
        assert_eq!(docs[0].len(), 1);
        assert_eq!(meta.version, "3.13.1");
        assert_eq!(meta.master_keys().next().unwrap().describe(), "FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4");
        // Written back the 3.13.2 way: same document, metadata sorted, `sops` last.
        let out = String::from_utf8(store().emit_encrypted(&docs, &meta).unwrap()).unwrap();
        assert_eq!(out, input);
    }

    /// sops 1.13-era file (`parseonly_stores_ini_example_v1.13.enc.json`): four-space indent,
    /// `", \n"` separators, legacy `attention` field.
    #[test]
    fn loads_v1_13_file() {
        let input = "{\n    \"example_key\": \"ENC[AES256_GCM,data:Xjen3YMQYCBfTU8VjA==,iv:1NUK,tag:ZO+A,type:str]\", \n    \
                     \"example_array\": [\n        \"ENC[AES256_GCM,data:XJR0,iv:QUkw,tag:LGdw,type:str]\"\n    ], \n    \
                     \"sops\": {\n        \"lastmodified\": \"2016-08-04T23:30:35Z\", \n        \
                     \"attention\": \"This section contains key material that should only be modified with extra care. See `sops -h`.\", \n        \
                     \"unencrypted_suffix\": \"_unencrypted\", \n        \"mac\": \"ENC[AES256_GCM,data:EK1L,iv:xbNK,tag:vT4a,type:str]\", \n        \
                     \"version\": \"1.13\", \n        \"pgp\": [\n            {\n                \
                     \"fp\": \"E5297818703249D0C60E19E6824612478D1A4CCD\", \n                \
                     \"created_at\": \"2016-08-04T23:30:35Z\", \n                \
                     \"enc\": \"-----BEGIN PGP MESSAGE-----\\nVersion: GnuPG v1\\n\\nhQIMA2X8\\n-----END PGP MESSAGE-----\\n\"\n            }\n        ]\n    }\n}";
        let (docs, meta) = store().load_encrypted(input.as_bytes()).unwrap();
        assert_eq!(docs[0].len(), 2);
        assert_eq!(meta.version, "1.13");
    }

    pub(in crate::sops) fn key_strategy() -> impl Strategy<Value = String> {
        prop_oneof![any::<String>(), "[a-z_<>&]{0,8}"]
    }

    fn leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<String>().prop_map(|s| Value::str(&s)),
            any::<i64>().prop_map(|i| Value::Scalar(Scalar::Int(i))),
            any::<bool>().prop_map(|b| Value::Scalar(Scalar::Bool(b))),
            // Integral floats print without a fraction and come back as ints, so only
            // non-integral or huge ones keep their type.
            any::<f64>()
                .prop_filter("float that stays a float", |f| f.is_finite() && (f.fract() != 0.0 || f.abs() >= 1e21))
                .prop_map(|f| Value::Scalar(Scalar::Float(f))),
        ]
    }

    pub(in crate::sops) fn value_strategy() -> impl Strategy<Value = Value> {
        leaf().prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec((key_strategy(), inner.clone()), 0..6).prop_map(|kv| Value::Map(
                    kv.into_iter().map(|(k, v)| Item::Pair { key: Key::Str(k), value: v }).collect()
                )),
                prop::collection::vec(inner, 0..6)
                    .prop_map(|vs| Value::List(vs.into_iter().map(Element::Value).collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn round_trip(items in prop::collection::vec((key_strategy(), value_strategy()), 0..8), indent in prop::option::of(0usize..5)) {
            let doc: Branch = items.into_iter().map(|(k, v)| Item::Pair { key: Key::Str(k), value: v }).collect();
            let s = JsonStore::new(StoreConfig { json_indent: indent, ..Default::default() });
            let out = s.emit_plain(std::slice::from_ref(&doc)).unwrap();
            let back = s.load_plain(&out).unwrap();
            prop_assert!(branches_equal(&back[0], &doc));
            // The output is valid JSON that serde_json agrees on.
            prop_assert!(serde_json::from_slice::<serde_json::Value>(&out).is_ok());
        }

        #[test]
        fn never_panics(input in prop::collection::vec(any::<u8>(), 0..200)) {
            let _ = store().parse(&input);
        }

        #[test]
        fn never_panics_on_near_json(input in r#"[{}\[\]",:0-9a-z\\ .eE+-]{0,60}"#) {
            let _ = store().parse(input.as_bytes());
        }
    }
}
