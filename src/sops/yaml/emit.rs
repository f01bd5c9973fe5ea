//! Documents → YAML text, laid out as go-yaml v3 lays out what sops gives it.
//!
//! Matching sops's output byte for byte is not required for compatibility (the MAC covers values,
//! not layout), but it keeps diffs between sops- and sealops-written files small and lets tests
//! compare `decrypt` outputs directly. The rules reproduced here (go-yaml v3 `encode.go` and
//! `emitterc.go`):
//!
//! * indentation: a nested collection starts at the next multiple of the indent (default 4);
//!   entries of a map that is a list item start right after `- `; block scalars indent their
//!   content by the same rule; no line is ever wrapped;
//! * strings are plain unless they would read back as another type (`"123"`, `"true"`, `""`),
//!   are YAML 1.1 booleans (`"yes"`, `"y"`) or sexagesimal numbers, or contain characters plain
//!   style cannot carry; then single quotes, or double quotes when single quotes cannot carry them
//!   either; multi-line strings are literal blocks (`|`, `|-`, `|+`) when possible;
//! * floats in Go's `%g` form (`1e+06`, `.inf`), times in RFC 3339, `null`, `true`;
//! * comments: a run of comments before an entry is written above it, inline comments after the
//!   value on its line, comments at the end of a map or list below its last entry.

use std::borrow::Cow;
use std::fmt::Write;

use base64::Engine;

use super::resolve;
use crate::sops::store::StoreError;
use crate::sops::tree::{Branch, Comment, Element, Item, Key, Scalar, Value};
use crate::sops::{scalar, scan};

pub struct Emitter {
    indent: usize,
    out: String,
    /// Lay comments out so that go-yaml reads each back into the collection it was written
    /// from (encrypted files, where a comment's AAD is that collection's path).
    exact_comments: bool,
}

impl Emitter {
    pub fn new(indent: usize) -> Self {
        Self { indent: indent.max(1), out: String::new(), exact_comments: false }
    }

    /// An emitter for encrypted files: see [`Emitter::exact_comments`] and
    /// [`anchor_list_comments`].
    pub fn for_encrypted(indent: usize) -> Self {
        Self { exact_comments: true, ..Self::new(indent) }
    }

    pub fn finish(self) -> String {
        self.out
    }

    /// Writes documents separated by `---`, as go-yaml's encoder does for repeated `Encode`s.
    pub fn documents(&mut self, docs: &[Branch]) -> Result<(), StoreError> {
        for (i, doc) in docs.iter().enumerate() {
            if i > 0 {
                self.out.push_str("---\n");
            }
            self.document(doc)?;
        }
        Ok(())
    }

    fn document(&mut self, doc: &Branch) -> Result<(), StoreError> {
        if !doc.iter().any(|i| matches!(i, Item::Pair { .. })) {
            let comments: Vec<&Comment> = doc.iter().filter_map(as_comment).collect();
            for c in comments {
                self.comment_line(0, c);
            }
            self.out.push_str("{}\n");
            return Ok(());
        }
        self.map_entries(doc, 0, None)
    }

    /// Writes a single value as its own document (`decrypt --extract`).
    pub fn value(&mut self, value: &Value) -> Result<(), StoreError> {
        match value {
            Value::Map(m) if m.iter().any(|i| matches!(i, Item::Pair { .. })) => self.map_entries(m, 0, None),
            Value::List(l) if l.iter().any(|e| matches!(e, Element::Value(_))) => self.list_entries(l, 0, None),
            other => {
                let text = self.inline_value(other, 0, None)?;
                self.out.push_str(&text);
                self.out.push('\n');
                Ok(())
            }
        }
    }

    fn pad(&mut self, col: usize) {
        self.out.extend(std::iter::repeat_n(' ', col));
    }

    fn comment_line(&mut self, col: usize, c: &Comment) {
        self.pad(col);
        self.out.push('#');
        self.out.push_str(&String::from_utf8_lossy(c.text.expose()));
        self.out.push('\n');
    }

    /// Whether a block scalar whose lines go at `block_col` may carry an indentation indicator:
    /// go-yaml writes the indent as the indicator wherever the lines go, and a reader adds it
    /// to the column of the entries holding the scalar (`parent_col`). In a list item (lines
    /// two columns past the dash) and in a map that is a list item (keys two columns past the
    /// dash) the sum misses the lines unless the indent is 2, and go-yaml writes text that
    /// neither it nor sealops can read back.
    fn indicator_fits(&self, block_col: usize, parent_col: usize) -> bool {
        block_col == parent_col + self.indent
    }

    /// Indentation of a collection nested under something at `col` (go-yaml's
    /// `increase_indent`: the next multiple of the indent).
    fn nested(&self, col: usize) -> usize {
        self.indent * ((col + self.indent) / self.indent)
    }

    /// Writes the entries of a non-empty map whose keys sit at `col`. With `first_inline`, the
    /// first key continues the current line (after `- `) and the others go at `col`.
    fn map_entries(&mut self, items: &[Item], col: usize, first_inline: Option<()>) -> Result<(), StoreError> {
        let mut head: Vec<&Comment> = Vec::new();
        let mut inline: Vec<&Comment> = Vec::new();
        let mut first = first_inline.is_some();
        for item in items {
            match item {
                Item::Comment(c) if c.inline => inline.push(c),
                Item::Comment(c) => head.push(c),
                Item::Pair { key, value } => {
                    if !first {
                        for c in head.drain(..) {
                            self.comment_line(col, c);
                        }
                        self.pad(col);
                    }
                    first = false;
                    if let Key::Str(k) = key
                        && needs_explicit_key(k)
                    {
                        self.explicit_pair(k, value, col, std::mem::take(&mut inline))?;
                    } else {
                        self.key(key)?;
                        self.out.push(':');
                        self.pair_value(value, col, std::mem::take(&mut inline))?;
                    }
                }
            }
        }
        head.extend(inline);
        let nested_last = items.iter().rev().find_map(|i| match i {
            Item::Pair { value, .. } => Some(value),
            Item::Comment(_) => None,
        });
        self.trailing_comments(col, &head, nested_last);
        Ok(())
    }

    /// Own-line comments after the last entry of a collection at `col`. When that entry's value
    /// is itself a block collection, go-yaml gives comments followed by a dedent to the inner
    /// collection, whatever their indentation; in an encrypted file a blank line after them
    /// keeps them in this one, where their AAD says they are (sops writes the same layout
    /// without it, and then cannot decrypt such a comment in its own file). Plaintext is
    /// written as sops writes it.
    fn trailing_comments(&mut self, col: usize, comments: &[&Comment], last: Option<&Value>) {
        for c in comments {
            self.comment_line(col, c);
        }
        let nested = match last {
            Some(Value::Map(m)) => has_pairs(m),
            Some(Value::List(l)) => has_values(l),
            _ => false,
        };
        if self.exact_comments && col > 0 && nested && !comments.is_empty() {
            self.out.push('\n');
        }
    }

    fn key(&mut self, key: &Key) -> Result<(), StoreError> {
        match key {
            Key::Str(k) => {
                let text = string_scalar(k.as_bytes(), true, 0, self.indent, false);
                self.out.push_str(&text);
            }
            Key::Other { text, .. } => self.out.push_str(text),
        }
        Ok(())
    }

    /// A pair whose key cannot be a simple key (longer than 128 characters, or spanning lines):
    /// `? key` on one line, `: value` on the next, as go-yaml writes it.
    fn explicit_pair(&mut self, key: &str, value: &Value, col: usize, inline: Vec<&Comment>) -> Result<(), StoreError> {
        let child = self.nested(col);
        self.out.push_str("? ");
        let text = string_scalar(key.as_bytes(), false, child, self.indent, self.indicator_fits(child, col));
        self.out.push_str(&text);
        if !text.ends_with('\n') {
            self.out.push('\n');
        }
        self.pad(col);
        self.out.push(':');
        let mut opening = Vec::new();
        hoisted(value, &mut opening);
        match value {
            Value::Map(m) if has_pairs(m) => {
                self.open_explicit_value(&opening, col, child);
                self.map_entries(after_hoisted_items(m), child, Some(()))
            }
            Value::List(l) if has_values(l) => {
                self.open_explicit_value(&opening, col, child);
                self.list_entries(after_hoisted_elements(l), child, Some(()))
            }
            other => self.pair_value(other, col, inline),
        }
    }

    /// Pads after the `:` of an explicit pair to the column of its collection value, whose first
    /// entry follows on the same line. Comments opening the value come first, as go-yaml writes
    /// them: the first after the colon, the others at `child`, then the first entry at `child`.
    /// go-yaml reads a comment after the colon back as one of the outer map, before the key, so
    /// in an encrypted file (where that would be the wrong AAD) the colon ends its line and all
    /// of them go at `child`.
    fn open_explicit_value(&mut self, opening: &[&Comment], col: usize, child: usize) {
        let Some((first, rest)) = opening.split_first() else {
            self.pad(child - col - 1);
            return;
        };
        if self.exact_comments {
            self.out.push('\n');
            self.comment_line(child, first);
        } else {
            self.pad(child - col - 1);
            self.out.push('#');
            self.out.push_str(&String::from_utf8_lossy(first.text.expose()));
            self.out.push('\n');
        }
        for c in rest {
            self.comment_line(child, c);
        }
        self.pad(child);
    }

    /// The value after `key:` (the colon is written), then its line comments.
    fn pair_value(&mut self, value: &Value, col: usize, inline: Vec<&Comment>) -> Result<(), StoreError> {
        match value {
            Value::Map(m) if has_pairs(m) => {
                self.line_end(&inline, col);
                let child = self.nested(col);
                self.map_entries(m, child, None)
            }
            Value::List(l) if has_values(l) => {
                self.line_end(&inline, col);
                let child = self.nested(col);
                self.list_entries(l, child, None)
            }
            other => {
                self.out.push(' ');
                let text = self.inline_value(other, self.nested(col), Some(col))?;
                self.out.push_str(&text);
                self.scalar_end(&text, &inline, col);
                Ok(())
            }
        }
    }

    /// Ends the line of a value, with the first inline comment on it. Further inline comments
    /// go on their own lines at `col`, which keeps them in the same map or list.
    fn line_end(&mut self, inline: &[&Comment], col: usize) {
        match inline.split_first() {
            Some((first, rest)) => {
                self.out.push_str(" #");
                self.out.push_str(&String::from_utf8_lossy(first.text.expose()));
                self.out.push('\n');
                for c in rest {
                    self.comment_line(col, c);
                }
            }
            None => self.out.push('\n'),
        }
    }

    fn scalar_end(&mut self, text: &str, inline: &[&Comment], col: usize) {
        if text.ends_with('\n') {
            // A block scalar already ended its lines; comments cannot follow on its last line.
            for c in inline {
                self.comment_line(col, c);
            }
            return;
        }
        self.line_end(inline, col);
    }

    fn list_entries(&mut self, elements: &[Element], col: usize, first_inline: Option<()>) -> Result<(), StoreError> {
        let mut head: Vec<&Comment> = Vec::new();
        let mut inline: Vec<&Comment> = Vec::new();
        let mut first = first_inline.is_some();
        for element in elements {
            match element {
                Element::Comment(c) if c.inline => inline.push(c),
                Element::Comment(c) => head.push(c),
                Element::Value(v) => {
                    // Comments at the start of a collection item go above its dash: the item's
                    // first entry shares the dash's line. On a line that an outer dash already
                    // opened, the outer list wrote them (same path: list items do not extend it).
                    if !first {
                        hoisted(v, &mut head);
                        for c in head.drain(..) {
                            self.comment_line(col, c);
                        }
                        self.pad(col);
                    }
                    first = false;
                    self.out.push_str("- ");
                    self.list_item(v, col, std::mem::take(&mut inline))?;
                }
            }
        }
        head.extend(inline);
        let nested_last = elements.iter().rev().find_map(|e| match e {
            Element::Value(v) => Some(v),
            Element::Comment(_) => None,
        });
        self.trailing_comments(col, &head, nested_last);
        Ok(())
    }

    fn list_item(&mut self, value: &Value, col: usize, inline: Vec<&Comment>) -> Result<(), StoreError> {
        let inner = col + 2;
        match value {
            Value::Map(m) if has_pairs(m) => {
                self.map_entries(after_hoisted_items(m), inner, Some(()))?;
                for c in inline {
                    self.comment_line(inner, c);
                }
                Ok(())
            }
            Value::List(l) if has_values(l) => {
                self.list_entries(after_hoisted_elements(l), inner, Some(()))?;
                for c in inline {
                    self.comment_line(inner, c);
                }
                Ok(())
            }
            other => {
                // A block scalar in a list item is indented past the dash.
                let text = self.inline_value(other, col + 2, Some(col))?;
                self.out.push_str(&text);
                self.scalar_end(&text, &inline, col);
                Ok(())
            }
        }
    }

    /// A scalar, or an empty collection, as it appears after `key: ` or `- `. Block scalars
    /// return their header, a newline and their lines at `block_col`; `parent_col` is the
    /// column of the entries of the collection holding the value (see
    /// [`Emitter::indicator_fits`]).
    fn inline_value<'v>(
        &mut self,
        value: &'v Value,
        block_col: usize,
        parent_col: Option<usize>,
    ) -> Result<Cow<'v, str>, StoreError> {
        Ok(match value {
            Value::Null => Cow::Borrowed("null"),
            Value::Map(m) => {
                let comments: Vec<&Comment> = m.iter().filter_map(as_comment).collect();
                Cow::Owned(empty_collection("{}", &comments)?)
            }
            Value::List(l) => {
                let comments: Vec<&Comment> = l
                    .iter()
                    .filter_map(|e| match e {
                        Element::Comment(c) => Some(c),
                        Element::Value(_) => None,
                    })
                    .collect();
                Cow::Owned(empty_collection("[]", &comments)?)
            }
            Value::Scalar(s) => match s {
                Scalar::Str(b) | Scalar::Bytes(b) => {
                    let indicator_ok = parent_col.is_none_or(|parent| self.indicator_fits(block_col, parent));
                    string_scalar(b.expose(), false, block_col, self.indent, indicator_ok)
                }
                Scalar::Int(i) => Cow::Owned(i.to_string()),
                Scalar::Uint(u) => Cow::Owned(u.to_string()),
                Scalar::Float(f) => Cow::Owned(float_text(*f)),
                Scalar::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
                Scalar::Time(t) => Cow::Owned(t.rfc3339_nano()),
            },
        })
    }
}

/// Moves the own-line comments that end a list whose last item is a non-empty collection into
/// that item. go-yaml hands such comments to whatever follows the list (a foot of the key that
/// holds it), so sops would look for them under the wrong path; inside the last item they keep
/// their path, because list items do not extend it, and sit after a scalar or in a map, where
/// go-yaml keeps them.
pub fn anchor_list_comments(items: &mut Branch) {
    for item in items {
        if let Item::Pair { value, .. } = item {
            anchor_in_value(value);
        }
    }
}

fn anchor_in_value(value: &mut Value) {
    match value {
        Value::Map(m) => anchor_list_comments(m),
        Value::List(l) => {
            let last_value = l.iter().rposition(|e| matches!(e, Element::Value(_)));
            if let Some(at) = last_value {
                let nested = match &l[at] {
                    Element::Value(Value::Map(m)) => has_pairs(m),
                    Element::Value(Value::List(inner)) => has_values(inner),
                    _ => false,
                };
                let trailing = l.len() - at - 1;
                if nested && trailing > 0 {
                    let moved: Vec<Element> = l.drain(at + 1..).collect();
                    match &mut l[at] {
                        Element::Value(Value::Map(m)) => m.extend(moved.into_iter().filter_map(|e| match e {
                            Element::Comment(c) => Some(Item::Comment(c)),
                            Element::Value(_) => None,
                        })),
                        Element::Value(Value::List(inner)) => inner.extend(moved),
                        _ => {}
                    }
                }
            }
            for e in l.iter_mut() {
                if let Element::Value(v) = e {
                    anchor_in_value(v);
                }
            }
        }
        _ => {}
    }
}

/// The own-line comments that open a collection item, written above its dash: those of a map
/// before its first entry, those of a list before its first item, and, when that item is a
/// collection too (`- - a`), its own.
fn hoisted<'v>(value: &'v Value, out: &mut Vec<&'v Comment>) {
    match value {
        Value::Map(m) if has_pairs(m) => {
            out.extend(m.iter().map_while(as_comment).take_while(|c| !c.inline));
        }
        Value::List(l) if has_values(l) => {
            let rest = after_hoisted_elements(l);
            out.extend(l[..l.len() - rest.len()].iter().filter_map(|e| match e {
                Element::Comment(c) => Some(c),
                Element::Value(_) => None,
            }));
            if let Some(Element::Value(first)) = rest.first() {
                hoisted(first, out);
            }
        }
        _ => {}
    }
}

fn after_hoisted_items(m: &[Item]) -> &[Item] {
    let n = m.iter().take_while(|i| as_comment(i).is_some_and(|c| !c.inline)).count();
    &m[n..]
}

fn after_hoisted_elements(l: &[Element]) -> &[Element] {
    let n = l.iter().take_while(|e| matches!(e, Element::Comment(c) if !c.inline)).count();
    &l[n..]
}

fn as_comment(item: &Item) -> Option<&Comment> {
    match item {
        Item::Comment(c) => Some(c),
        Item::Pair { .. } => None,
    }
}

fn has_pairs(m: &[Item]) -> bool {
    m.iter().any(|i| matches!(i, Item::Pair { .. }))
}

fn has_values(l: &[Element]) -> bool {
    l.iter().any(|e| matches!(e, Element::Value(_)))
}

fn empty_collection(text: &str, comments: &[&Comment]) -> Result<String, StoreError> {
    match comments {
        [] => Ok(text.to_owned()),
        [only] => Ok(format!("{text} #{}", String::from_utf8_lossy(only.text.expose()))),
        _ => Err(StoreError::Emit("cannot write several comments inside an empty map or list".into())),
    }
}

/// go-yaml's float form: `%g`, with `.inf`, `-.inf` and `.nan`.
fn float_text(f: f64) -> String {
    if f.is_nan() {
        ".nan".to_owned()
    } else if f == f64::INFINITY {
        ".inf".to_owned()
    } else if f == f64::NEG_INFINITY {
        "-.inf".to_owned()
    } else {
        scalar::format_float_g(f)
    }
}

/// YAML 1.1 booleans, which go-yaml quotes so older readers keep them strings.
fn is_old_bool(s: &str) -> bool {
    matches!(
        s,
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF"
    )
}

/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$` (YAML 1.1 sexagesimal numbers).
fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    if !b.get(i).is_some_and(u8::is_ascii_digit) || !s.contains(':') {
        return false;
    }
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while b.get(i) == Some(&b':') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() && i - start < 2 {
            i += 1;
        }
        let group = &b[start..i];
        let ok = match group {
            [d] => d.is_ascii_digit(),
            [a, b] => (b'0'..=b'5').contains(a) && b.is_ascii_digit(),
            _ => false,
        };
        if !ok {
            return false;
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

/// What go-yaml's scalar analysis allows for a string.
struct Analysis {
    multiline: bool,
    block_plain: bool,
    single_quoted: bool,
    block: bool,
}

fn is_printable(c: char) -> bool {
    matches!(c, '\n' | '\u{20}'..='\u{7E}' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}') && c != '\u{FEFF}'
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

#[cfg(test)]
fn is_inert(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(b, b'+' | b'/' | b'=' | b'_' | b'.' | b',' | b':' | b'[' | b']' | b'(' | b')' | b'-')
}

/// Bytes that never change a scalar's analysis away from "plain is fine" when the scalar
/// starts with a letter or digit, has no spaces and does not end with ':' (every `ENC[…]`
/// envelope and most keys), checked over a whole string by [`scan::position`], which the
/// compiler vectorises.
fn all_inert(bytes: &[u8]) -> bool {
    /// [`is_inert`] in few comparisons, by ASCII ranges: `(` to `:` but `*` holds `()+,-./`,
    /// the digits and `:`; `b | 0x20` folds upper-case letters onto lower-case ones (and moves
    /// no other byte into `a..=z`).
    #[inline(always)]
    fn inert(b: u8) -> bool {
        ((b | 0x20).wrapping_sub(b'a') < 26)
            | ((b.wrapping_sub(b'(') <= b':' - b'(') & (b != b'*'))
            | (b == b'=')
            | (b == b'[')
            | (b == b']')
            | (b == b'_')
    }
    scan::position(bytes, |b| !inert(b)).is_none()
}

fn analyze(s: &str) -> Analysis {
    if s.is_empty() {
        return Analysis { multiline: false, block_plain: true, single_quoted: true, block: false };
    }
    let b = s.as_bytes();
    if b[0].is_ascii_alphanumeric() && b[b.len() - 1] != b':' && all_inert(b) {
        return Analysis { multiline: false, block_plain: true, single_quoted: true, block: true };
    }
    let mut block_indicators = s.starts_with("---") || s.starts_with("...");
    let (mut line_breaks, mut special, mut tabs) = (false, false, false);
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) = (false, false, false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut prev_space, mut prev_break) = (false, false);
    let mut preceded_by_ws = true;
    let mut chars = s.chars().enumerate().peekable();
    while let Some((i, c)) = chars.next() {
        let next = chars.peek().map(|(_, n)| *n);
        let followed_by_ws = next.is_none_or(|n| matches!(n, ' ' | '\t') || is_break(n));
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"' | '%' | '@' | '`' => {
                    block_indicators = true
                }
                '?' | ':' | '-' if followed_by_ws => block_indicators = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_ws => block_indicators = true,
                '#' if preceded_by_ws => block_indicators = true,
                _ => {}
            }
        }
        if c == '\t' {
            tabs = true;
        } else if !is_printable(c) {
            special = true;
        }
        let last = next.is_none();
        if c == ' ' {
            leading_space |= i == 0;
            trailing_space |= last;
            break_space |= prev_break;
            prev_space = true;
            prev_break = false;
        } else if is_break(c) {
            line_breaks = true;
            leading_break |= i == 0;
            trailing_break |= last;
            space_break |= prev_space;
            prev_space = false;
            prev_break = true;
        } else {
            prev_space = false;
            prev_break = false;
        }
        preceded_by_ws = matches!(c, ' ' | '\t') || is_break(c);
    }
    let mut a = Analysis { multiline: line_breaks, block_plain: true, single_quoted: true, block: true };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.block_plain = false;
    }
    if trailing_space {
        a.block = false;
    }
    if break_space {
        a.block_plain = false;
        a.single_quoted = false;
    }
    if space_break || tabs || special {
        a.block_plain = false;
        a.single_quoted = false;
    }
    if space_break || special {
        a.block = false;
    }
    if line_breaks || block_indicators {
        a.block_plain = false;
    }
    a
}

/// A string value or key in go-yaml's style. `block_col` is where a block scalar's lines go.
/// `indicator_ok`: a literal block may carry an indentation indicator here (where go-yaml's
/// indicator is wrong, text starting with a space or a line break is quoted, unless it has no
/// line the indicator could misplace: only line breaks, which go-yaml writes as `|4+`).
fn string_scalar(bytes: &[u8], is_key: bool, block_col: usize, indent: usize, indicator_ok: bool) -> Cow<'_, str> {
    if bytes == b"<<" {
        // go-yaml resolves a plain `<<` to the merge tag and writes the string with that tag.
        return Cow::Borrowed("!!merge <<");
    }
    // The common case in one pass: ASCII letters, digits and inert punctuation (every `ENC[…]`
    // envelope, most keys) are plain unless they would read back as another type.
    if !bytes.is_empty()
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1] != b':'
        && all_inert(bytes)
        && let Ok(s) = std::str::from_utf8(bytes)
        && resolve::is_plain_string(s)
        && !is_base60_float(s)
        && !is_old_bool(s)
    {
        return Cow::Borrowed(s);
    }
    let Ok(s) = std::str::from_utf8(bytes) else {
        // go-yaml writes invalid UTF-8 as !!binary (base64, broken into lines when long).
        return Cow::Owned(format!("!!binary {}", base64::engine::general_purpose::STANDARD.encode(bytes)));
    };
    let can_plain = resolve::is_plain_string(s) && !is_base60_float(s) && !is_old_bool(s);
    let a = analyze(s);
    // Line breaks other than '\n' (CR, NEL, LS, PS) are double-quoted. go-yaml writes LS and PS
    // raw in single quotes and literal blocks, followed by the indentation (`'x<LS>    y'`),
    // which only readers that take them for line breaks (go-yaml) read back as the same string;
    // YAML 1.2 readers keep the indentation, and a literal line after a raw LS that is not
    // indented would end the block for go-yaml. (CR and NEL are never written raw by go-yaml.)
    if s.contains(['\r', '\u{85}', '\u{2028}', '\u{2029}']) {
        return Cow::Owned(double_quoted(s));
    }
    let needs_indicator = s.starts_with(' ') || s.starts_with('\n');
    let only_breaks = s.bytes().all(|b| b == b'\n');
    if s.contains('\n') && !is_key && a.block && (indicator_ok || !needs_indicator || only_breaks) {
        return Cow::Owned(literal(s, block_col, indent));
    }
    let multiline_key = is_key && a.multiline;
    if can_plain && !s.contains('\n') && a.block_plain && !multiline_key && !(s.is_empty() && is_key) {
        return Cow::Borrowed(s);
    }
    if can_plain && !s.contains('\n') && a.single_quoted && !multiline_key {
        return Cow::Owned(single_quoted(s));
    }
    Cow::Owned(double_quoted(s))
}

fn single_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\'' {
            out.push('\'');
        }
        out.push(c);
    }
    out.push('\'');
    out
}

fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\0' => out.push_str("\\0"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{B}' => out.push_str("\\v"),
            '\u{C}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '\u{1B}' => out.push_str("\\e"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{85}' => out.push_str("\\N"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            '\u{FEFF}' => out.push_str("\\uFEFF"),
            c if is_printable(c) => out.push(c),
            c if (c as u32) <= 0xFF => {
                let _ = write!(out, "\\x{:02X}", c as u32);
            }
            c if (c as u32) <= 0xFFFF => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08X}", c as u32);
            }
        }
    }
    out.push('"');
    out
}

/// go-yaml writes a key as an explicit `? key` when it is longer than 128 characters or spans
/// lines (`yaml_emitter_check_simple_key`).
fn needs_explicit_key(key: &str) -> bool {
    key.len() > 128 || key.contains(['\n', '\r', '\u{85}', '\u{2028}', '\u{2029}'])
}

/// A literal block scalar: header with chomping (and an indentation indicator when the text
/// starts with a space or line break), then the lines at `col`.
fn literal(s: &str, col: usize, indent: usize) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    out.push('|');
    if s.starts_with(' ') || s.starts_with('\n') {
        let _ = write!(out, "{indent}");
    }
    let chomp = if !s.ends_with('\n') {
        "-"
    } else if s.len() == 1 || s[..s.len() - 1].ends_with('\n') {
        "+"
    } else {
        ""
    };
    out.push_str(chomp);
    out.push('\n');
    let body = s.strip_suffix('\n').unwrap_or(s);
    for line in body.split('\n') {
        if !line.is_empty() {
            out.extend(std::iter::repeat_n(' ', col));
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(s: &str) -> String {
        string_scalar(s.as_bytes(), false, 4, 4, true).into_owned()
    }

    #[test]
    fn quoting_follows_go_yaml() {
        let cases = [
            ("hello", "hello"),
            ("123", "\"123\""),
            ("true", "\"true\""),
            ("y", "\"y\""),
            ("yes", "\"yes\""),
            ("", "\"\""),
            ("null", "\"null\""),
            ("a: b", "'a: b'"),
            ("- x", "'- x'"),
            ("#x", "'#x'"),
            ("a #b", "'a #b'"),
            (" lead", "' lead'"),
            ("tab\there", "\"tab\\there\""),
            ("1:20", "\"1:20\""),
            ("2024-01-02", "\"2024-01-02\""),
            ("héllo", "héllo"),
            ("emoji 😀", "\"emoji \\U0001F600\""),
            ("it's", "it's"),
            ("<<", "!!merge <<"),
            ("?x", "?x"),
            (":x", ":x"),
            ("x: ", "'x: '"),
            ("\u{85}x", "\"\\Nx\""),
            ("\u{a0}x", "\u{a0}x"),
            ("@x", "'@x'"),
            ("ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]", "ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]"),
        ];
        for (input, want) in cases {
            assert_eq!(plain(input), want, "{input:?}");
        }
    }

    #[test]
    fn literal_blocks() {
        assert_eq!(plain("line1\nline2\n"), "|\n    line1\n    line2\n");
        assert_eq!(plain("a\nb"), "|-\n    a\n    b\n");
        assert_eq!(plain("a\n\n"), "|+\n    a\n\n");
        assert_eq!(plain(" a\nb\n"), "|4\n     a\n    b\n");
        assert_eq!(plain("trailing \nspace"), "\"trailing \\nspace\"");
    }

    #[test]
    fn floats() {
        assert_eq!(float_text(1.234568e9), "1.234568e+09");
        assert_eq!(float_text(3.0), "3");
        assert_eq!(float_text(f64::NEG_INFINITY), "-.inf");
    }

    #[test]
    fn vectorised_inert_check_matches_the_table() {
        for b in 0..=255u8 {
            assert_eq!(all_inert(&[b]), is_inert(b), "byte {b}");
            // In a whole chunk, in a tail shorter than a chunk, and in a tail after one.
            for len in [2, 31, 32, 33, 63, 70] {
                for at in [0, len / 2, len - 1] {
                    let mut text = vec![b'a'; len];
                    text[at] = b;
                    assert_eq!(all_inert(&text), is_inert(b), "byte {b} at {at} of {len}");
                }
            }
        }
    }

    #[test]
    fn base60() {
        assert!(is_base60_float("1:20"));
        assert!(is_base60_float("-190:20:30.15"));
        assert!(!is_base60_float("1:60"));
        assert!(!is_base60_float("a:1"));
    }
}
