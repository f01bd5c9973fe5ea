//! The INI store: sections of `key = value` strings, as sops reads and writes them through
//! gopkg.in/ini.v1.
//!
//! sops (`stores/ini/store.go`; spec §1.7 "INI") maps each section to a top-level key whose value
//! is a map of strings; keys before any section belong to section `DEFAULT`, which is always
//! present (and first) after parsing. Comments become comment items with their leading `;`/`#`
//! and spaces stripped: a section's comment comes first in its map, a key's comment right
//! after the key. Everything else is ini.v1's behaviour, reproduced here:
//!
//! * **Reading** (`LoadSources` with `AllowNonUniqueSections`, other options at their defaults):
//!   `=` or `:` separates key and value; keys and values are trimmed; `#`/`;` anywhere in an
//!   unquoted value starts an inline comment; a value wrapped in `'…'` or `"…"` loses the quotes;
//!   a value in `` `…` `` or `"""…"""` is taken verbatim (the triple form may span lines); a
//!   trailing `\` continues the value on the next line; a key named `-` is numbered `#1`, `#2`…;
//!   a repeated key overwrites the earlier one in place; a repeated section is a new section.
//! * **Writing** (`File.WriteTo` with its pretty defaults): ` = ` aligned per section, a blank
//!   line between sections, comments as `; text`, the first section written without a header
//!   when it is `DEFAULT` (and skipped when it is also empty), values quoted with `"""`, `` ` ``
//!   or `"` when they hold a newline or backtick, a comment character, or surrounding spaces.
//! * **Metadata** is the `[sops]` section, flattened below the top level, newlines written as a
//!   literal `\n` (3.13.2). Reading also takes the `"""…"""` multi-line values of 3.13.0/3.13.1
//!   and the unsorted keys of ≤ 3.12; [`super::store`] handles both.
//!
//! Differences, on purpose: ini.v1's parse errors quote the offending line, which may hold a
//! secret, so these name the line number instead; section and key names must be UTF-8 (the tree's
//! keys are strings); an empty line inside a comment is written as `; ` where ini.v1 panics.

use std::borrow::Cow;
use std::collections::HashMap;

use super::dotenv::val_to_string;
use super::json::{write_go_string, write_scalar};
use super::store::{Format, Limits, MetadataLayout, Store, StoreError, check_size};
use super::tree::{Branch, Comment, Element, Item, Key, Scalar, Value};
use crate::crypto::SecretBytes;

/// INI files, as sops reads and writes them.
#[derive(Clone, Copy, Debug, Default)]
pub struct IniStore;

impl IniStore {
    pub fn new() -> Self {
        Self
    }
}

impl Store for IniStore {
    fn format(&self) -> Format {
        Format::Ini
    }

    fn load_plain(&self, input: &[u8]) -> Result<Vec<Branch>, StoreError> {
        check_size(input, &Limits::default())?;
        let sections = parse_sections(input)?;
        let branch = sections.into_iter().map(section_item).collect::<Result<_, _>>()?;
        Ok(vec![branch])
    }

    fn emit_plain(&self, docs: &[Branch]) -> Result<Vec<u8>, StoreError> {
        let mut sections = Vec::new();
        for doc in docs {
            for item in doc {
                if let Item::Pair { key, value } = item {
                    sections.push(OutSection::from_item(key, value)?);
                }
            }
        }
        Ok(write_sections(&sections))
    }

    /// A map is written as a whole file, as sops's `extract` does for maps. Anything else goes
    /// through sops's INI `EmitValue`, which is Go's `json.Marshal` of the tree value: compact,
    /// with maps as lists of `{"Key":…,"Value":…}` structs.
    fn emit_value(&self, value: &Value) -> Result<Vec<u8>, StoreError> {
        match value {
            Value::Map(map) => self.emit_plain(std::slice::from_ref(map)),
            other => {
                let mut out = Vec::new();
                marshal_go(&mut out, other)?;
                Ok(out)
            }
        }
    }

    fn metadata_layout(&self) -> MetadataLayout {
        MetadataLayout::FlattenBelowTop
    }
}

// ---------------------------------------------------------------------------------------------
// Reading: ini.v1's parser (`parser.go`), then sops's `treeItemFromSection`.

const DEFAULT_SECTION: &str = "DEFAULT";

struct Section {
    name: Vec<u8>,
    comment: Vec<u8>,
    keys: Vec<IniKey>,
    positions: HashMap<Vec<u8>, usize>,
    line: usize,
}

struct IniKey {
    name: Vec<u8>,
    value: Vec<u8>,
    comment: Vec<u8>,
    line: usize,
}

impl Section {
    fn new(name: Vec<u8>, comment: Vec<u8>, line: usize) -> Self {
        Self { name, comment, keys: Vec::new(), positions: HashMap::new(), line }
    }

    /// ini.v1 `Section.NewKey` followed by setting the comment: a repeated name keeps its place
    /// and takes the new value and the new (possibly empty) comment.
    fn set(&mut self, key: IniKey) {
        match self.positions.get(&key.name) {
            Some(&at) => {
                if let Some(existing) = self.keys.get_mut(at) {
                    *existing = key;
                }
            }
            None => {
                self.positions.insert(key.name.clone(), self.keys.len());
                self.keys.push(key);
            }
        }
    }
}

/// ini.v1's line reader (`bufio.Reader.ReadBytes('\n')`): each line keeps its `\n`; the last
/// one may not have it.
struct Lines<'a> {
    input: &'a [u8],
    pos: usize,
    eof: bool,
    number: usize,
}

impl<'a> Lines<'a> {
    fn next_line(&mut self) -> &'a [u8] {
        let rest = self.input.get(self.pos..).unwrap_or_default();
        self.number += 1;
        match rest.iter().position(|&b| b == b'\n') {
            Some(i) => {
                self.pos += i + 1;
                rest.get(..=i).unwrap_or_default()
            }
            None => {
                self.pos = self.input.len();
                self.eof = true;
                rest
            }
        }
    }
}

struct ParseError {
    line: usize,
    message: &'static str,
}

impl From<ParseError> for StoreError {
    fn from(e: ParseError) -> Self {
        StoreError::parse("INI", Some(format!("line {}", e.line)), e.message)
    }
}

fn parse_sections(input: &[u8]) -> Result<Vec<Section>, StoreError> {
    let mut lines = Lines { input: strip_bom(input), pos: 0, eof: false, number: 0 };
    let mut sections = vec![Section::new(DEFAULT_SECTION.into(), Vec::new(), 0)];
    // Comment lines seen since the last key or section; they belong to the next one.
    let mut comment = Vec::new();
    let mut auto_number = 1;
    while !lines.eof {
        let line = trim_left(lines.next_line());
        let number = lines.number;
        let error = |message| ParseError { line: number, message };
        match line.first() {
            None => continue,
            Some(b'#' | b';') => {
                comment.extend_from_slice(line);
                continue;
            }
            Some(b'[') => {
                let close = line.iter().rposition(|&b| b == b']').ok_or(error("unclosed section"))?;
                let name = line.get(1..close).unwrap_or_default();
                if name.is_empty() {
                    return Err(error("empty section name").into());
                }
                if let Some(tail) = clean_comment(line.get(close + 1..).unwrap_or_default()) {
                    comment.extend_from_slice(tail);
                }
                sections.push(Section::new(name.to_vec(), trim(&comment).to_vec(), number));
                comment.clear();
                auto_number = 1;
                continue;
            }
            Some(_) => {}
        }
        let (mut name, offset) = read_key_name(line).map_err(error)?;
        if name == b"-" {
            name = format!("#{auto_number}").into_bytes();
            auto_number += 1;
        }
        let value = read_value(line.get(offset..).unwrap_or_default(), &mut lines, &mut comment).map_err(error)?;
        if name.is_empty() {
            return Err(error("error creating new key: empty key name").into());
        }
        let key = IniKey { name, value, comment: trim(&comment).to_vec(), line: number };
        comment.clear();
        if let Some(section) = sections.last_mut() {
            section.set(key);
        }
    }
    Ok(sections)
}

/// ini.v1 skips a UTF-16 byte-order mark's two bytes and a UTF-8 one's three.
fn strip_bom(input: &[u8]) -> &[u8] {
    match input {
        [0xFE, 0xFF, rest @ ..] | [0xFF, 0xFE, rest @ ..] | [0xEF, 0xBB, 0xBF, rest @ ..] => rest,
        _ => input,
    }
}

/// ini.v1 `cleanComment`: from the first `#` or `;` on.
fn clean_comment(text: &[u8]) -> Option<&[u8]> {
    let start = text.iter().position(|&b| b == b'#' || b == b';')?;
    text.get(start..)
}

/// ini.v1 `readKeyName`: the trimmed key and the offset just past its delimiter.
fn read_key_name(line: &[u8]) -> Result<(Vec<u8>, usize), &'static str> {
    let quote: &[u8] = match line {
        [b'"', b'"', b'"', ..] if line.len() > 6 => b"\"\"\"",
        [b'"', ..] => b"\"",
        [b'`', ..] => b"`",
        _ => b"",
    };
    if !quote.is_empty() {
        let start = quote.len();
        let close = find(line.get(start..).unwrap_or_default(), quote).ok_or("missing closing key quote")? + start;
        let after = close + start;
        let delimiter =
            position_of_any(line.get(after..).unwrap_or_default(), b"=:").ok_or("key-value delimiter not found")?;
        return Ok((trim(line.get(start..close).unwrap_or_default()).to_vec(), after + delimiter + 1));
    }
    match position_of_any(line, b"=:") {
        None => Err("key-value delimiter not found"),
        Some(0) => Err("empty key name"),
        Some(end) => Ok((trim(line.get(..end).unwrap_or_default()).to_vec(), end + 1)),
    }
}

/// ini.v1 `readValue` with sops's options: no Python multi-lines, no escaped double quotes,
/// inline comments on, continuation lines on, surrounding quotes removed.
fn read_value(input: &[u8], lines: &mut Lines<'_>, comment: &mut Vec<u8>) -> Result<Vec<u8>, &'static str> {
    let line = trim_left(input);
    let quote: &[u8] = match line {
        [b'"', b'"', b'"', _, ..] => b"\"\"\"",
        [b'`', ..] => b"`",
        [] => return Ok(Vec::new()),
        _ => b"",
    };
    if !quote.is_empty() {
        let rest = line.get(quote.len()..).unwrap_or_default();
        return match rfind(rest, quote) {
            Some(end) => Ok(rest.get(..end).unwrap_or_default().to_vec()),
            None => read_multiline(rest.to_vec(), quote, lines, comment),
        };
    }
    let mut line = trim(line);
    if let Some(body) = line.strip_suffix(b"\\") {
        return Ok(read_continuation(body.to_vec(), lines));
    }
    if let Some(start) = position_of_any(line, b"#;") {
        comment.extend_from_slice(line.get(start..).unwrap_or_default());
        line = trim(line.get(..start).unwrap_or_default());
    }
    if let Some(inner) = surrounded_by(line, b'\'').or_else(|| surrounded_by(line, b'"')) {
        line = inner;
    }
    Ok(line.to_vec())
}

/// The rest of a quoted value that did not close on its first line: lines are taken verbatim
/// up to the last quote on the closing line; a comment after it belongs to the key.
fn read_multiline(
    mut value: Vec<u8>,
    quote: &[u8],
    lines: &mut Lines<'_>,
    comment: &mut Vec<u8>,
) -> Result<Vec<u8>, &'static str> {
    loop {
        let next = lines.next_line();
        if let Some(end) = rfind(next, quote) {
            value.extend_from_slice(next.get(..end).unwrap_or_default());
            if let Some(tail) = clean_comment(next.get(end..).unwrap_or_default()) {
                comment.extend_from_slice(trim(tail));
            }
            return Ok(value);
        }
        value.extend_from_slice(next);
        if lines.eof {
            return Err("missing closing key quote");
        }
    }
}

/// Lines after a trailing backslash are trimmed and joined, up to an empty line or one that
/// does not end in a backslash. ini.v1 applies neither comment nor quote rules to the result.
fn read_continuation(mut value: Vec<u8>, lines: &mut Lines<'_>) -> Vec<u8> {
    loop {
        let next = trim(lines.next_line());
        if next.is_empty() {
            return value;
        }
        value.extend_from_slice(next);
        if value.last() != Some(&b'\\') {
            return value;
        }
        value.pop();
    }
}

/// ini.v1 `hasSurroundedQuote`: the quote opens and closes the value and appears nowhere else.
fn surrounded_by(value: &[u8], quote: u8) -> Option<&[u8]> {
    let inner = value.strip_prefix(&[quote])?.strip_suffix(&[quote])?;
    (!inner.contains(&quote)).then_some(inner)
}

/// sops's `stripCommentChar`: drops the leading run of `;`/space (or `#`/space).
fn strip_comment_char(comment: &[u8]) -> &[u8] {
    let set: &[u8] = match comment.first() {
        Some(b';') => b"; ",
        Some(b'#') => b"# ",
        _ => return comment,
    };
    let skip = comment.iter().take_while(|b| set.contains(b)).count();
    comment.get(skip..).unwrap_or_default()
}

fn section_item(section: Section) -> Result<Item, StoreError> {
    let name = utf8(section.name, section.line, "section name is not valid UTF-8")?;
    let mut items = Vec::with_capacity(section.keys.len() + 1);
    if !section.comment.is_empty() {
        items.push(Item::Comment(Comment::new(SecretBytes::from_slice(strip_comment_char(&section.comment)))));
    }
    for key in section.keys {
        let name = utf8(key.name, key.line, "key name is not valid UTF-8")?;
        items.push(Item::Pair { key: Key::Str(name), value: Value::Scalar(Scalar::Str(key.value.into())) });
        if !key.comment.is_empty() {
            items.push(Item::Comment(Comment::new(SecretBytes::from_slice(strip_comment_char(&key.comment)))));
        }
    }
    Ok(Item::Pair { key: Key::Str(name), value: Value::Map(items) })
}

fn utf8(bytes: Vec<u8>, line: usize, message: &'static str) -> Result<String, StoreError> {
    String::from_utf8(bytes).map_err(|_| ParseError { line, message }.into())
}

// ---------------------------------------------------------------------------------------------
// Writing: sops's `encodeTree` into an ini.v1 file, then ini.v1's `writeToBuffer`.

struct OutSection<'a> {
    name: &'a str,
    comment: &'a [u8],
    keys: Vec<OutKey<'a>>,
}

struct OutKey<'a> {
    name: &'a str,
    value: Cow<'a, [u8]>,
    comment: &'a [u8],
}

impl<'a> OutSection<'a> {
    /// One top-level item as a section. Its map's first item, when a comment, is the section's
    /// comment; a later comment belongs to the key before it (the last one wins, and one before
    /// any key is lost), as in sops.
    fn from_item(key: &'a Key, value: &'a Value) -> Result<Self, StoreError> {
        let emit = |m: &str| StoreError::Emit(format!("Error marshaling to ini: {m}"));
        let Key::Str(name) = key else {
            return Err(emit("Error encoding section: section names must be strings"));
        };
        if name.is_empty() {
            return Err(emit("Error encoding section : empty section name"));
        }
        let Value::Map(items) = value else {
            return Err(emit("Error encoding section: Section values should always be TreeBranches"));
        };
        let mut section = OutSection { name, comment: &[], keys: Vec::with_capacity(items.len()) };
        let mut rest = items.as_slice();
        if let Some((Item::Comment(c), tail)) = rest.split_first() {
            section.comment = c.text.expose();
            rest = tail;
        }
        let mut positions: HashMap<&str, usize> = HashMap::with_capacity(rest.len());
        let mut last: Option<usize> = None;
        for item in rest {
            match item {
                Item::Comment(c) => {
                    if let Some(key) = last.and_then(|at| section.keys.get_mut(at)) {
                        key.comment = c.text.expose();
                    }
                }
                Item::Pair { key, value } => {
                    let Key::Str(key) = key else {
                        return Err(emit("Error encoding key: key names must be strings"));
                    };
                    if key.is_empty() {
                        return Err(emit("Error encoding key: error creating new key: empty key name"));
                    }
                    let value = match value {
                        Value::Scalar(Scalar::Str(text)) => Cow::Borrowed(text.expose()),
                        other => Cow::Owned(val_to_string(other)),
                    };
                    let at = *positions.entry(key.as_str()).or_insert(section.keys.len());
                    match section.keys.get_mut(at) {
                        // ini.v1 `NewKey` on an existing name replaces the value in place.
                        Some(existing) => existing.value = value,
                        None => section.keys.push(OutKey { name: key, value, comment: &[] }),
                    }
                    last = Some(at);
                }
            }
        }
        Ok(section)
    }
}

fn write_sections(sections: &[OutSection<'_>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(sections.iter().map(|s| s.keys.len() * 64 + 32).sum());
    let last = sections.len().saturating_sub(1);
    for (i, section) in sections.iter().enumerate() {
        write_comment(&mut out, section.comment, false);
        // ini.v1 compares `strings.ToUpper(name)`; no non-ASCII letter upper-cases into DEFAULT.
        if i > 0 || !section.name.eq_ignore_ascii_case(DEFAULT_SECTION) {
            out.push(b'[');
            out.extend_from_slice(section.name.as_bytes());
            out.extend_from_slice(b"]\n");
        } else if section.keys.is_empty() {
            // A leading DEFAULT with no keys is not written at all, blank line included.
            continue;
        }
        let align = section.keys.iter().map(|k| quoted_key(k.name).1).max().unwrap_or(0);
        for key in &section.keys {
            write_comment(&mut out, key.comment, true);
            let (quote, width) = quoted_key(key.name);
            out.extend_from_slice(quote.as_bytes());
            out.extend_from_slice(key.name.as_bytes());
            out.extend_from_slice(quote.as_bytes());
            out.resize(out.len() + align.saturating_sub(width), b' ');
            out.extend_from_slice(b" = ");
            write_value(&mut out, &key.value);
            out.push(b'\n');
        }
        if i != last {
            out.push(b'\n');
        }
    }
    out
}

/// The quote ini.v1 puts around a key name, and the name's written width.
fn quoted_key(name: &str) -> (&'static str, usize) {
    let quote = if name.contains(['"', '=', ':']) {
        "`"
    } else if name.contains('`') {
        "\"\"\""
    } else {
        ""
    };
    (quote, name.len() + 2 * quote.len())
}

fn write_value(out: &mut Vec<u8>, value: &[u8]) {
    let quote: &[u8] = if value.iter().any(|&b| b == b'\n' || b == b'`') {
        b"\"\"\""
    } else if value.iter().any(|&b| b == b'#' || b == b';') {
        b"`"
    } else if trim(value).len() != value.len() {
        b"\""
    } else {
        b""
    };
    out.extend_from_slice(quote);
    out.extend_from_slice(value);
    out.extend_from_slice(quote);
}

/// A comment, one `; ` line per line of text. A line that already starts with `#` or `;` keeps
/// that character; key comments (not section comments) are trimmed, as in ini.v1.
fn write_comment(out: &mut Vec<u8>, comment: &[u8], trim_lines: bool) {
    if comment.is_empty() {
        return;
    }
    for line in comment.split(|&b| b == b'\n') {
        match line.split_first() {
            Some((&mark @ (b'#' | b';'), rest)) => {
                out.push(mark);
                out.push(b' ');
                out.extend_from_slice(trim(rest));
            }
            _ => {
                out.extend_from_slice(b"; ");
                out.extend_from_slice(if trim_lines { trim(line) } else { line });
            }
        }
        out.push(b'\n');
    }
}

/// Go's `json.Marshal` of a tree value, which is what sops's INI `EmitValue` returns.
fn marshal_go(out: &mut Vec<u8>, value: &Value) -> Result<(), StoreError> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Scalar(s) => write_scalar(out, s)?,
        // The stores build empty maps and lists as Go nil slices, which marshal as `null`.
        Value::Map(items) if items.is_empty() => out.extend_from_slice(b"null"),
        Value::List(elements) if elements.is_empty() => out.extend_from_slice(b"null"),
        Value::Map(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(b"{\"Key\":");
                match item {
                    Item::Pair { key, value } => {
                        let text = match key {
                            Key::Str(s) => s,
                            Key::Other { text, .. } => text,
                        };
                        write_go_string(out, text.as_bytes());
                        out.extend_from_slice(b",\"Value\":");
                        marshal_go(out, value)?;
                    }
                    Item::Comment(c) => {
                        marshal_comment(out, c);
                        out.extend_from_slice(b",\"Value\":null");
                    }
                }
                out.push(b'}');
            }
            out.push(b']');
        }
        Value::List(elements) => {
            out.push(b'[');
            for (i, element) in elements.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                match element {
                    Element::Value(v) => marshal_go(out, v)?,
                    Element::Comment(c) => marshal_comment(out, c),
                }
            }
            out.push(b']');
        }
    }
    Ok(())
}

fn marshal_comment(out: &mut Vec<u8>, comment: &Comment) {
    out.extend_from_slice(b"{\"Value\":");
    write_go_string(out, comment.text.expose());
    out.extend_from_slice(if comment.inline { b",\"Inline\":true}" } else { b",\"Inline\":false}" });
}

// ---------------------------------------------------------------------------------------------
// Byte-string helpers with Go's semantics.

/// The UTF-8 encodings of the non-ASCII characters Go's `unicode.IsSpace` accepts.
const WIDE_SPACES: &[&[u8]] = &[
    "\u{85}".as_bytes(),
    "\u{A0}".as_bytes(),
    "\u{1680}".as_bytes(),
    "\u{2000}".as_bytes(),
    "\u{2001}".as_bytes(),
    "\u{2002}".as_bytes(),
    "\u{2003}".as_bytes(),
    "\u{2004}".as_bytes(),
    "\u{2005}".as_bytes(),
    "\u{2006}".as_bytes(),
    "\u{2007}".as_bytes(),
    "\u{2008}".as_bytes(),
    "\u{2009}".as_bytes(),
    "\u{200A}".as_bytes(),
    "\u{2028}".as_bytes(),
    "\u{2029}".as_bytes(),
    "\u{202F}".as_bytes(),
    "\u{205F}".as_bytes(),
    "\u{3000}".as_bytes(),
];

/// Go's `bytes.TrimLeftFunc(s, unicode.IsSpace)`; invalid UTF-8 is never a space.
fn trim_left(mut s: &[u8]) -> &[u8] {
    loop {
        match s.first() {
            Some(b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' ') => s = s.get(1..).unwrap_or_default(),
            Some(&b) if b >= 0x80 => match WIDE_SPACES.iter().find(|w| s.starts_with(w)) {
                Some(w) => s = s.get(w.len()..).unwrap_or_default(),
                None => return s,
            },
            _ => return s,
        }
    }
}

/// Go's `strings.TrimSpace`.
fn trim(s: &[u8]) -> &[u8] {
    let mut s = trim_left(s);
    loop {
        match s.last() {
            Some(b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' ') => s = s.get(..s.len() - 1).unwrap_or_default(),
            Some(&b) if b >= 0x80 => match WIDE_SPACES.iter().find(|w| s.ends_with(w)) {
                Some(w) => s = s.get(..s.len() - w.len()).unwrap_or_default(),
                None => return s,
            },
            _ => return s,
        }
    }
}

fn position_of_any(s: &[u8], set: &[u8]) -> Option<usize> {
    s.iter().position(|b| set.contains(b))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sops::metadata::MasterKey;
    use crate::sops::tree::{branches_equal, get};
    use proptest::prelude::*;

    fn load(text: &str) -> Branch {
        IniStore.load_plain(text.as_bytes()).unwrap_or_else(|e| panic!("{e}")).remove(0)
    }

    fn emit(doc: &Branch) -> String {
        String::from_utf8(IniStore.emit_plain(std::slice::from_ref(doc)).unwrap()).unwrap()
    }

    fn pair(key: &str, value: Value) -> Item {
        Item::Pair { key: key.into(), value }
    }

    fn comment(text: &str) -> Item {
        Item::Comment(Comment::new(text))
    }

    fn section(name: &str, items: Vec<Item>) -> Item {
        pair(name, Value::Map(items))
    }

    fn s(text: &str) -> Value {
        Value::str(text)
    }

    /// `stores/ini/store_test.go` TestDecodeIni: the exact tree sops builds.
    #[test]
    fn decode_like_sops() {
        let input = "\n; last modified 1 April 2001 by John Doe\n[owner]\nname=John Doe\norganization=Acme Widgets Inc.\n\n\
                     [database]\n; use IP address in case network name resolution is not working\nserver=192.0.2.62     \n\
                     port=143\nfile=\"payroll.dat\"\n";
        let want = vec![
            section("DEFAULT", vec![]),
            section(
                "owner",
                vec![
                    comment("last modified 1 April 2001 by John Doe"),
                    pair("name", s("John Doe")),
                    pair("organization", s("Acme Widgets Inc.")),
                ],
            ),
            section(
                "database",
                vec![
                    pair("server", s("192.0.2.62")),
                    comment("use IP address in case network name resolution is not working"),
                    pair("port", s("143")),
                    pair("file", s("payroll.dat")),
                ],
            ),
        ];
        assert!(branches_equal(&load(input), &want));
    }

    /// `gen311_basic.plain.ini` decrypts to `gen311_basic.dec.ini` (observed, sops 3.11): the
    /// `#` comment becomes `;`, blank lines appear between sections.
    #[test]
    fn gen311_basic_fixture() {
        // gen311_basic.plain.ini
        let plain = "toplevel = yes\n; section comment\n[db]\nuser = admin\n# key comment\npass = secret\nport = 5432\n[empty]\n";
        // gen311_basic.dec.ini
        let observed = "toplevel = yes\n\n; section comment\n[db]\nuser = admin\n; key comment\npass = secret\nport = 5432\n\n[empty]\n";
        let doc = load(plain);
        let Some(Value::Map(db)) = get(&doc, "db") else { panic!("db") };
        assert!(matches!(&db[0], Item::Comment(c) if c.text.expose() == b"section comment"));
        // The key comment sits after `pass`, the key it was written above.
        assert!(matches!(&db[3], Item::Comment(c) if c.text.expose() == b"key comment"));
        assert_eq!(emit(&doc), observed);
        assert_eq!(emit(&load(observed)), observed);
    }

    /// `head_example.dec.ini` (observed): `=` aligned per section; a fixed point.
    #[test]
    fn head_example_alignment() {
        let text = "; An example file for use with sops!\n[name]\nfirstName = John\nlastName  = Smith\nage       = 25.4\n\n\
                    [address]\ncity          = New York\npostalCode    = 10021-3100\nstate         = NY\n\
                    streetAddress = 21 2nd Street\n\n[phoneNumbers]\nhome   = 212 555-1234\noffice = 646 555-4567\n\n\
                    [not private]\nnotsecret_unencrypted = hi there!\n";
        assert_eq!(emit(&load(text)), text);
    }

    /// Functional-test golden `[foo]\nbar = baz\n` (`ft_format.dec.ini`).
    #[test]
    fn functional_test_golden() {
        assert_eq!(emit(&load("[foo]\nbar=baz")), "[foo]\nbar = baz\n");
        assert_eq!(emit(&vec![section("foo", vec![pair("bar", s("baz"))])]), "[foo]\nbar = baz\n");
    }

    #[test]
    fn default_section_rules() {
        // A later DEFAULT gets a header; a leading lowercase `default` does not.
        let doc = vec![section("a", vec![pair("k", s("v"))]), section("DEFAULT", vec![pair("x", s("1"))])];
        assert_eq!(emit(&doc), "[a]\nk = v\n\n[DEFAULT]\nx = 1\n");
        let doc = vec![section("default", vec![pair("x", s("1"))]), section("b", vec![])];
        assert_eq!(emit(&doc), "x = 1\n\n[b]\n");
        // An explicit [DEFAULT] header is a second section (non-unique sections are allowed).
        let doc = load("[DEFAULT]\nx = 1\n");
        assert_eq!(doc.len(), 2);
        assert_eq!(emit(&doc), "[DEFAULT]\nx = 1\n");
        assert_eq!(emit(&vec![]), "");
        assert_eq!(emit(&load("")), "");
    }

    #[test]
    fn duplicate_keys_and_sections() {
        let doc = load("[s]\na = 1\nb = 2\n; again\na = 3\n[s]\nc = 4\n");
        let want = vec![
            section("DEFAULT", vec![]),
            section("s", vec![pair("a", s("3")), comment("again"), pair("b", s("2"))]),
            section("s", vec![pair("c", s("4"))]),
        ];
        assert!(branches_equal(&doc, &want));
        // Writing: a repeated key keeps its first place and takes the last value.
        let doc = vec![section("s", vec![pair("a", s("1")), pair("b", s("2")), pair("a", s("3"))])];
        assert_eq!(emit(&doc), "[s]\na = 3\nb = 2\n");
    }

    #[test]
    fn value_syntax() {
        let input = "[v]\n\
                     colon: c\n\
                     inline = text ; comment\n\
                     hash = a#b\n\
                     squote = ' padded '\n\
                     dquote = \"x\"\n\
                     inner = \"a\"b\"\n\
                     back = `a;b#c`  ; dropped\n\
                     tri = \"\"\"one\ntwo\"\"\" ; kept\n\
                     cont = first \\\n  second \\\n  third\n\
                     empty =\n\
                     - = auto\n\
                     - = auto2\n\
                     \"quoted key\" = q\n\
                     `a=b` = tick\n";
        let doc = load(input);
        let Some(Value::Map(v)) = get(&doc, "v") else { panic!() };
        let want = vec![
            pair("colon", s("c")),
            pair("inline", s("text")),
            comment("comment"),
            pair("hash", s("a")),
            comment("b"),
            pair("squote", s(" padded ")),
            pair("dquote", s("x")),
            pair("inner", s("\"a\"b\"")),
            pair("back", s("a;b#c")),
            pair("tri", s("one\ntwo")),
            comment("kept"),
            pair("cont", s("first second third")),
            pair("empty", s("")),
            pair("#1", s("auto")),
            pair("#2", s("auto2")),
            pair("quoted key", s("q")),
            pair("a=b", s("tick")),
        ];
        assert!(branches_equal(v, &want), "{v:?}");
    }

    #[test]
    fn value_quoting_on_write() {
        let doc = vec![section(
            "q",
            vec![
                pair("plain", s("a b")),
                pair("comment", s("a;b")),
                pair("space", s(" x")),
                pair("nl", s("a\nb")),
                pair("tick", s("a`b")),
                pair("empty", s("")),
                pair("k=v", s("1")),
                pair("k`", s("2")),
            ],
        )];
        // Alignment counts the quotes ini.v1 adds: `"""k`"""` is 8 wide.
        let want = "[q]\nplain    = a b\ncomment  = `a;b`\nspace    = \" x\"\nnl       = \"\"\"a\nb\"\"\"\n\
                    tick     = \"\"\"a`b\"\"\"\nempty    = \n`k=v`    = 1\n\"\"\"k`\"\"\" = 2\n";
        assert_eq!(emit(&doc), want);
        let back = load(want);
        assert!(branches_equal(&back[1..], &doc));
    }

    #[test]
    fn comments_on_write() {
        let doc = vec![
            section("DEFAULT", vec![comment("lost"), pair("k", s("v"))]),
            section(
                "s",
                vec![
                    comment("top\n# second\n;third"),
                    comment("before any key: lost"),
                    pair("a", s("1")),
                    comment("first"),
                    comment("  last wins  "),
                    pair("b", s("2")),
                    comment(""),
                ],
            ),
        ];
        assert_eq!(emit(&doc), "; lost\nk = v\n\n; top\n# second\n; third\n[s]\n; last wins\na = 1\nb = 2\n");
    }

    #[test]
    fn numbers_and_other_values_use_val_to_string() {
        let doc = vec![section(
            "n",
            vec![
                pair("f", Value::Scalar(Scalar::Float(3.0))),
                pair("i", Value::Scalar(Scalar::Int(2))),
                pair("b", Value::Scalar(Scalar::Bool(false))),
                pair("z", Value::Null),
                pair("l", Value::List(vec![Element::Value(s("x")), Element::Value(s("y"))])),
            ],
        )];
        assert_eq!(emit(&doc), "[n]\nf = 3.0\ni = 2\nb = false\nz = <nil>\nl = [x y]\n");
    }

    #[test]
    fn write_errors() {
        let err = |doc: Branch| IniStore.emit_plain(&[doc]).err().unwrap().to_string();
        assert!(err(vec![pair("s", s("x"))]).contains("Section values should always be TreeBranches"));
        assert!(err(vec![section("", vec![])]).contains("empty section name"));
        assert!(err(vec![section("s", vec![pair("", s("x"))])]).contains("empty key name"));
    }

    #[test]
    fn parse_errors_name_lines_not_content() {
        let cases = [
            ("[ok]\nhunter2\n", "line 2", "delimiter not found"),
            ("a = 1\n[unclosed hunter2\n", "line 2", "unclosed section"),
            ("[]\n", "line 1", "empty section name"),
            ("=hunter2\n", "line 1", "empty key name"),
            ("\"hunter2 = x\n", "line 1", "missing closing key quote"),
            ("\"\" = hunter2\n", "line 1", "empty key name"),
            ("a = \"\"\"hunter2\nmore\n", "line 1", "missing closing key quote"),
        ];
        for (input, at, what) in cases {
            let e = IniStore.load_plain(input.as_bytes()).err().unwrap().to_string();
            assert!(e.contains(at) && e.contains(what), "{input:?}: {e}");
            assert!(!e.contains("hunter2"), "{e}");
        }
    }

    #[test]
    fn bytes_and_bom() {
        let doc = IniStore.load_plain(b"\xEF\xBB\xBFk = \xff\xfe\n").unwrap().remove(0);
        let Some(Value::Map(d)) = get(&doc, "DEFAULT") else { panic!() };
        assert!(matches!(&d[0], Item::Pair { value: Value::Scalar(Scalar::Str(v)), .. } if v.expose() == b"\xff\xfe"));
        // Unicode spaces are trimmed like Go's TrimSpace does.
        let doc = load("k =\u{3000}v\u{a0}\n");
        let Some(Value::Map(d)) = get(&doc, "DEFAULT") else { panic!() };
        assert!(matches!(&d[0], Item::Pair { value: Value::Scalar(Scalar::Str(v)), .. } if v.expose() == b"v"));
        assert!(IniStore.load_plain(b"[\xff]\n").is_err());
    }

    #[test]
    fn emit_value_is_go_json() {
        let list = Value::List(vec![
            Element::Value(s("<a>")),
            Element::Comment(Comment::new(" c")),
            Element::Value(Value::Map(vec![pair("k", Value::Scalar(Scalar::Int(1))), comment("x")])),
        ]);
        assert_eq!(
            IniStore.emit_value(&list).unwrap(),
            br#"["\u003ca\u003e",{"Value":" c","Inline":false},[{"Key":"k","Value":1},{"Key":{"Value":"x","Inline":false},"Value":null}]]"#
        );
        assert_eq!(IniStore.emit_value(&s("x")).unwrap(), b"\"x\"");
        let map = Value::Map(vec![section("s", vec![pair("a", s("b"))])]);
        assert_eq!(IniStore.emit_value(&map).unwrap(), b"[s]\na = b\n");
    }

    /// `ft_format.enc.ini`, written by 3.13.2: loads, and writes back byte for byte.
    const FT_FORMAT_ENC: &str = "[foo]\n\
        bar = ENC[AES256_GCM,data:Upwq,iv:PjRmKlK3MuUzTjIwr6HX2t5kMXkTFwJw2cdL9/zXQYk=,tag:LASj5iJpy+8UJshqSV3ICg==,type:str]\n\
        \n\
        [sops]\n\
        lastmodified                = 2026-05-22T20:15:58Z\n\
        mac                         = ENC[AES256_GCM,data:sdSD,iv:5h0uMZ7mJLXepf9QtT9QSKmdt15TCcawy7cAt4k5rq0=,tag:iQO1nKpJDvpw5vpT44HF4A==,type:str]\n\
        pgp__list_0__map_created_at = 2026-05-22T20:15:53Z\n\
        pgp__list_0__map_enc        = -----BEGIN PGP MESSAGE-----\\n\\nwcBMAyUpShfNkFB\\n=Axgz\\n-----END PGP MESSAGE-----\n\
        pgp__list_0__map_fp         = FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4\n\
        unencrypted_suffix          = _unencrypted\n\
        version                     = 3.13.2\n";

    #[test]
    fn encrypted_round_trip_313() {
        let (docs, meta) = IniStore.load_encrypted(FT_FORMAT_ENC.as_bytes()).unwrap();
        let MasterKey::Other(pgp) = meta.master_keys().next().unwrap() else { panic!() };
        let Some(Value::Scalar(Scalar::Str(enc))) = get(&pgp.fields, "enc") else { panic!() };
        assert_eq!(enc.expose(), b"-----BEGIN PGP MESSAGE-----\n\nwcBMAyUpShfNkFB\n=Axgz\n-----END PGP MESSAGE-----");
        let out = IniStore.emit_encrypted(&docs, &meta).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), FT_FORMAT_ENC);
    }

    /// `ft_format-2.enc.ini` (3.13.1): the `"""…"""` multi-line form reads to the same key.
    #[test]
    fn reads_313_1_multiline_metadata() {
        let input = "[foo]\n\
            bar = ENC[AES256_GCM,data:sYUq,iv:IFRjAFMJoylEg0HWkxWi118rZhHDX0NCWW9V2UcnyjI=,tag:vZ1xH/wvEEBUqItnwNYaFw==,type:str]\n\
            \n\
            [sops]\n\
            lastmodified                = 2026-05-22T20:15:23Z\n\
            mac                         = ENC[AES256_GCM,data:h2dz,iv:lDrw5xKxV4kDSKpJWf0z+XWaHt8An70xt2OZZhueUzg=,tag:vstWUHF5KIMpA8EM9B5kyg==,type:str]\n\
            pgp__list_0__map_created_at = 2026-05-22T20:15:17Z\n\
            pgp__list_0__map_enc        = \"\"\"-----BEGIN PGP MESSAGE-----\n\
            \n\
            wcBMAyUpShfNkFB/AQf/eLAAHlnmaYZGuitpb7FU3tarxgRLHKoRSYCXBWg1CSPJ\n\
            =j3Rn\n\
            -----END PGP MESSAGE-----\"\"\"\n\
            pgp__list_0__map_fp         = FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4\n\
            unencrypted_suffix          = _unencrypted\n\
            version                     = 3.13.1\n";
        let (docs, meta) = IniStore.load_encrypted(input.as_bytes()).unwrap();
        assert_eq!(docs[0].len(), 2); // DEFAULT and foo
        assert_eq!(meta.version, "3.13.1");
        let MasterKey::Other(pgp) = meta.master_keys().next().unwrap() else { panic!() };
        let Some(Value::Scalar(Scalar::Str(enc))) = get(&pgp.fields, "enc") else { panic!() };
        assert_eq!(
            enc.expose(),
            b"-----BEGIN PGP MESSAGE-----\n\nwcBMAyUpShfNkFB/AQf/eLAAHlnmaYZGuitpb7FU3tarxgRLHKoRSYCXBWg1CSPJ\n=j3Rn\n-----END PGP MESSAGE-----"
        );
        // Written back in the 3.13.2 form.
        let out = String::from_utf8(IniStore.emit_encrypted(&docs, &meta).unwrap()).unwrap();
        assert!(out.contains("pgp__list_0__map_enc        = -----BEGIN PGP MESSAGE-----\\n\\nwcBM"), "{out}");
    }

    /// `head_example.enc.ini` (3.5.0) has its `[sops]` keys in random order, and
    /// `gen311_basic.enc.ini` (3.11) a DEFAULT key, encrypted comments and an empty section.
    #[test]
    fn reads_older_encrypted_files() {
        let head = "; ENC[AES256_GCM,data:EexY,iv:/wd7bCxSkJ85eG69NMq2RH70Dlw5q/diL42GcdTbRYs=,tag:8W4B3JjLYAtJgG3Zi6Hu+A==,type:comment]\n\
            [name]\n\
            firstName = ENC[AES256_GCM,data:7cWtsg==,iv:rh/1l0yiOE3JmmSJB9CXp4Ctb5en0FcNUZZkLyWsX3c=,tag:d7We6RtSs3AYhA6jan/CoA==,type:str]\n\
            \n\
            [sops]\n\
            pgp__list_0__map_fp         = FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4\n\
            pgp__list_1__map_created_at = 2019-12-10T22:45:52Z\n\
            pgp__list_1__map_fp         = D7229043384BCC60326C6FB9D8720D957C3D3074\n\
            lastmodified                = 2019-12-10T22:45:52Z\n\
            pgp__list_0__map_created_at = 2019-12-10T22:45:52Z\n\
            pgp__list_0__map_enc        = -----BEGIN PGP MESSAGE-----\\n\\nwcBMAyUp\\n=RaGg\\n-----END PGP MESSAGE-----\n\
            mac                         = ENC[AES256_GCM,data:5Nou,iv:em3/lIV7eYA46u2kM0bR1/3O6Ga2vRfS5/r2qh0jges=,tag:ow9277u7mFNcs4IdsU4YUQ==,type:str]\n\
            pgp__list_1__map_enc        = -----BEGIN PGP MESSAGE-----\\n\\nwYwDXFUl\\n=XdTd\\n-----END PGP MESSAGE-----\n\
            unencrypted_suffix          = _unencrypted\n\
            version                     = 3.5.0\n\
            \n";
        let (docs, meta) = IniStore.load_encrypted(head.as_bytes()).unwrap();
        assert_eq!(meta.master_keys().count(), 2);
        let Some(Value::Map(name)) = get(&docs[0], "name") else { panic!() };
        assert!(matches!(&name[0], Item::Comment(c) if c.text.expose().starts_with(b"ENC[AES256_GCM,data:EexY")));

        let basic = "toplevel = ENC[AES256_GCM,data:EDL+,iv:0WA0ch6Ei5cSBCK69RE2G1hVFvc4VdBMZVrB9w4Jj4M=,tag:tkaGnYErZFPeELBZ46Axkg==,type:str]\n\
            \n\
            ; ENC[AES256_GCM,data:Blu2NKh5+6unHi9H4yHC,iv:h0tIM01LEQ/UH/L/Xhw8hEDNN+MtJ5A4tIoWlOkY4A0=,tag:hmWc6q6wz06Y5TNF0gOxIw==,type:comment]\n\
            [db]\n\
            user = ENC[AES256_GCM,data:Z3DLBAY=,iv:vHIDK3F7wDvm1D1JNThgW4TbOqxAwj3apYbVE+95Q58=,tag:mM8sKlgmwFl6OiZL+7tsqw==,type:str]\n\
            \n\
            [empty]\n\
            \n\
            [sops]\n\
            mac                        = ENC[AES256_GCM,data:JkQy,iv:Qrk1/Wptttv/bO/PrcSifb3/ego/x/D+yhEEeojDA+c=,tag:wyPAyKpcelVBTswD9iq9FQ==,type:str]\n\
            unencrypted_suffix         = _unencrypted\n\
            version                    = 3.11.0\n\
            age__list_0__map_enc       = -----BEGIN AGE ENCRYPTED FILE-----\\nYWdl\\n-----END AGE ENCRYPTED FILE-----\\n\n\
            age__list_0__map_recipient = age1w9awh6q3uwp4syyn6kcgalkqhxncjjkd62ffffh782juvvyj4g2qwqy2yn\n\
            lastmodified               = 2026-11-23T21:29:33Z\n";
        let (docs, meta) = IniStore.load_encrypted(basic.as_bytes()).unwrap();
        let MasterKey::Age(age) = meta.master_keys().next().unwrap() else { panic!() };
        assert_eq!(age.enc, "-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n-----END AGE ENCRYPTED FILE-----\n");
        let names: Vec<_> = docs[0]
            .iter()
            .filter_map(|i| match i {
                Item::Pair { key: Key::Str(k), .. } => Some(k.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(names, ["DEFAULT", "db", "empty"]);
        // Written back the 3.13.2 way: the data part is unchanged, the metadata sorted.
        let out = String::from_utf8(IniStore.emit_encrypted(&docs, &meta).unwrap()).unwrap();
        let data_end = basic.find("[sops]").unwrap();
        assert_eq!(&out[..data_end], &basic[..data_end]);
        assert!(out[data_end..].starts_with("[sops]\nage__list_0__map_enc       = -----BEGIN AGE"), "{out}");
    }

    fn name_strategy() -> impl Strategy<Value = String> {
        // Names that ini.v1 writes and reads back unchanged: no surrounding space, no line
        // break, `"`/backtick (quoting), `#`/`;`/`[` at the start, nor the auto-number `-`.
        "[A-Za-z0-9_.][A-Za-z0-9_. =:]{0,8}".prop_map(|s| s.trim_end().to_owned())
    }

    fn value_strategy() -> impl Strategy<Value = String> {
        // ini.v1 cannot carry every string: `"` and `\` are excluded (surrounding-quote and
        // continuation rules), and a value wrapped in single quotes loses them.
        prop::collection::vec(
            prop_oneof![
                "[a-z0-9]",
                Just(" ".to_owned()),
                Just("\t".to_owned()),
                Just("#".to_owned()),
                Just(";".to_owned()),
                Just("=".to_owned()),
                Just(":".to_owned()),
                Just("`".to_owned()),
                Just("\n".to_owned()),
                Just("'".to_owned()),
                Just("é".to_owned()),
                Just("\u{a0}".to_owned()),
            ],
            0..10,
        )
        .prop_map(|parts| parts.concat())
        .prop_filter("not wrapped in single quotes", |v| !(v.len() >= 2 && v.starts_with('\'') && v.ends_with('\'')))
    }

    fn comment_strategy() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9][a-zA-Z0-9 ;#=]{0,10}".prop_map(|s| s.trim_end().to_owned())
    }

    fn section_items() -> impl Strategy<Value = Vec<Item>> {
        (
            prop::option::of(comment_strategy()),
            prop::collection::vec((name_strategy(), value_strategy(), prop::option::of(comment_strategy())), 0..6),
        )
            .prop_map(|(head, keys)| {
                let mut items = Vec::new();
                if let Some(text) = head {
                    items.push(comment(&text));
                }
                let mut seen = std::collections::HashSet::new();
                for (name, value, note) in keys {
                    if !seen.insert(name.clone()) {
                        continue;
                    }
                    items.push(pair(&name, s(&value)));
                    if let Some(text) = note {
                        items.push(comment(&text));
                    }
                }
                items
            })
    }

    proptest! {
        #[test]
        fn round_trip(
            default_keys in section_items(),
            sections in prop::collection::vec(("[a-z][a-z0-9 ._-]{0,8}", section_items()), 0..5),
        ) {
            // The implicit DEFAULT section cannot carry a comment of its own.
            let default_keys: Vec<Item> = match default_keys.first() {
                Some(Item::Comment(_)) => default_keys.into_iter().skip(1).collect(),
                _ => default_keys,
            };
            let mut doc = vec![section("DEFAULT", default_keys)];
            doc.extend(sections.iter().map(|(name, items)| section(name, items.clone())));
            let out = emit(&doc);
            let back = IniStore.load_plain(out.as_bytes()).unwrap().remove(0);
            prop_assert!(branches_equal(&back, &doc), "{}", out);
        }

        #[test]
        fn never_panics(input in prop::collection::vec(any::<u8>(), 0..200)) {
            let _ = IniStore.load_plain(&input);
        }

        #[test]
        fn never_panics_on_near_ini(input in "[\\[\\]=:;#`\"' a-c\n\\\\-]{0,80}") {
            if let Ok(docs) = IniStore.load_plain(input.as_bytes()) {
                let _ = IniStore.emit_plain(&docs);
            }
        }
    }
}
