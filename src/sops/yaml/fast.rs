//! A line scanner for block-style YAML: the shape sops writes, and the shape of most secret
//! files. It produces exactly the events (and start positions) the general parser
//! (`granit-parser`) produces for the same text, and gives up on anything outside its subset;
//! the caller then parses the whole input with the general parser. It exists for speed: on a
//! 1 MB file it is several times faster, and parsing dominates `decrypt`.
//!
//! The subset: block maps and lists (indentation by spaces; lists directly under a key may be
//! indented or not), `key: value` with plain, single- or double-quoted single-line scalars,
//! literal blocks (`|`, `|-`, `|+`), empty `[]`/`{}`, own-line and trailing comments, and `---`
//! / `...` document markers. Tabs, flow collections with content, anchors, aliases, tags,
//! folded or multi-line scalars, explicit keys and directives are all left to the general
//! parser. A test checks, on a corpus and on generated documents, that whenever this scanner
//! accepts an input its events equal the general parser's.

use std::borrow::Cow;

use granit_parser::{Event, Marker, Placement, ScalarStyle, Span, StructureStyle};

pub type Spanned<'a> = (Event<'a>, Span);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Map,
    Seq,
}

#[derive(Clone, Copy)]
struct Open {
    kind: Kind,
    /// Column of the entries: a map's keys, a list's dashes.
    col: usize,
    /// A list whose dashes sit at its parent key's column (`key:\n- a`).
    indentless: bool,
}

/// What the previous line left unfinished.
#[derive(Clone, Copy)]
enum Pending {
    None,
    /// A key (at `col`) whose value was not on its line; `null_at` is where a null value sits.
    Key {
        col: usize,
        null_at: (usize, usize),
    },
    /// A `-` with nothing after it.
    Item {
        col: usize,
        null_at: (usize, usize),
    },
}

struct Scanner<'a> {
    events: Vec<Spanned<'a>>,
    stack: Vec<Open>,
    pending: Pending,
    /// Comments read while a value was pending. The general parser holds them until it knows
    /// whether the value is null (then they follow it) or a nested collection (then they
    /// precede its start), and so does this scanner.
    held: Vec<Spanned<'a>>,
    in_doc: bool,
}

fn span(line: usize, col: usize) -> Span {
    let m = Marker::new(0, line, col);
    Span::new(m, m)
}

/// The span of a scalar written in the source: never zero-width (the general parser gives an
/// absent value a zero-width span, and the tree builder tells the two apart by that).
fn token_span(line: usize, col: usize) -> Span {
    Span::new(Marker::new(0, line, col), Marker::new(0, line, col + 1))
}

/// Columns count characters, as the general parser's do.
fn col_of(line: &str, byte: usize) -> usize {
    let prefix = &line[..byte];
    if prefix.is_ascii() { byte } else { prefix.chars().count() }
}

/// Scans `input` into a list of events, or returns `None` when it is outside the subset.
#[cfg(test)]
pub fn scan(input: &str) -> Option<Vec<Spanned<'_>>> {
    let mut events = Vec::new();
    scan_into(input, &mut |event, span| {
        events.push((event, span));
        true
    })?;
    Some(events)
}

/// Events handed over at a time: the scanner's buffer stays in the cache, and the events of a
/// large file are never all in memory at once (as a list, the events of a 1 MB file took about
/// 4 MB, a third of a YAML encrypt's page faults; `tests/bench/README.md`, "YAML").
const BATCH: usize = 256;

/// Scans `input`, handing each event to `sink` once it is final, in order. Returns `None` when
/// the input is outside the subset, or when `sink` returns `false`; some events may have been
/// handed over by then, and the caller starts again with the general parser.
pub fn scan_into<'a>(input: &'a str, sink: &mut dyn FnMut(Event<'a>, Span) -> bool) -> Option<()> {
    if input.starts_with('\u{feff}') || input.contains('\t') || input.contains('\r') {
        return None;
    }
    let mut s = Scanner {
        events: Vec::with_capacity(2 * BATCH),
        stack: Vec::new(),
        pending: Pending::None,
        held: Vec::new(),
        in_doc: false,
    };
    s.events.push((Event::StreamStart, span(1, 0)));
    let lines: Vec<&str> = input.split('\n').collect();
    // A trailing newline yields one empty last element; it is not a line.
    let count = if input.ends_with('\n') { lines.len() - 1 } else { lines.len() };
    let mut i = 0;
    while i < count {
        let line = lines[i];
        let number = i + 1;
        i += 1;
        let indent = line.len() - line.trim_start_matches(' ').len();
        let rest = &line[indent..];
        if rest.is_empty() {
            continue;
        }
        if let Some(text) = rest.strip_prefix('#') {
            let comment = (Event::Comment(Cow::Borrowed(text), Placement::Above), span(number, indent));
            if matches!(s.pending, Pending::None) {
                s.events.push(comment);
            } else {
                s.held.push(comment);
            }
            continue;
        }
        if indent == 0 && (rest == "---" || rest.starts_with("--- ")) {
            if rest.len() > 3 && !rest[3..].trim().is_empty() {
                return None;
            }
            if s.in_doc {
                s.end_document(number)?;
            }
            let m = Marker::new(0, number, 0);
            s.events.push((Event::DocumentStart(true, None), Span::new(m, Marker::new(0, number, 3))));
            s.in_doc = true;
            if !s.next_is_content(&lines[i..count]) {
                return None;
            }
            continue;
        }
        if indent == 0 && (rest == "..." || rest.starts_with("... ") || rest.starts_with("%")) {
            return None;
        }
        if !s.in_doc {
            s.events.push((Event::DocumentStart(false, None), span(number, indent)));
            s.in_doc = true;
        }
        i += s.content_line(line, number, indent, &lines[i..count])?;
        if s.events.len() >= BATCH {
            s.hand_over(sink)?;
        }
    }
    if s.in_doc {
        s.end_document(count + 1)?;
    }
    s.events.push((Event::StreamEnd, span(count + 1, 0)));
    s.hand_over(sink)
}

impl<'a> Scanner<'a> {
    /// Hands the events scanned so far to `sink`: they are final, since events are only ever
    /// appended.
    fn hand_over(&mut self, sink: &mut dyn FnMut(Event<'a>, Span) -> bool) -> Option<()> {
        for (event, span) in self.events.drain(..) {
            if !sink(event, span) {
                return None;
            }
        }
        Some(())
    }

    /// An explicit document must have content: empty documents are left to the general parser.
    fn next_is_content(&self, rest: &[&str]) -> bool {
        rest.iter()
            .map(|l| l.trim_start_matches(' '))
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .is_some_and(|l| !l.starts_with("---") && !l.starts_with("..."))
    }

    fn end_document(&mut self, line: usize) -> Option<()> {
        self.resolve_pending_as_null();
        if self.stack.is_empty() {
            return None;
        }
        while let Some(open) = self.stack.pop() {
            self.push_end(open.kind, line, 0);
        }
        self.events.push((Event::DocumentEnd, span(line, 0)));
        self.in_doc = false;
        Some(())
    }

    fn push_end(&mut self, kind: Kind, line: usize, col: usize) {
        let event = match kind {
            Kind::Map => Event::MappingEnd,
            Kind::Seq => Event::SequenceEnd,
        };
        self.events.push((event, span(line, col)));
    }

    fn resolve_pending_as_null(&mut self) {
        match std::mem::replace(&mut self.pending, Pending::None) {
            Pending::Key { null_at, .. } | Pending::Item { null_at, .. } => {
                self.events
                    .push((Event::Scalar(Cow::Borrowed("~"), ScalarStyle::Plain, 0, None), span(null_at.0, null_at.1)));
            }
            Pending::None => {}
        }
        self.events.append(&mut self.held);
    }

    /// Processes one content line; returns how many following lines it consumed (block
    /// scalars), or `None` to give up.
    fn content_line(&mut self, line: &'a str, number: usize, indent: usize, after: &[&'a str]) -> Option<usize> {
        let rest = &line[indent..];
        let is_item = rest == "-" || rest.starts_with("- ");
        // For a list item: where its text starts (the general parser places an indentless
        // list there).
        let body_col = is_item.then(|| col_of(line, line.len() - rest[1..].trim_start_matches(' ').len()));
        self.place(number, indent, is_item, body_col)?;
        if is_item { self.item(line, number, indent, after) } else { self.key_line(line, number, indent, after) }
    }

    /// Opens and closes collections so that a line at `col` fits: the value of a pending key or
    /// item, the next entry of an open collection, or a return to an outer one.
    fn place(&mut self, number: usize, col: usize, is_item: bool, body_col: Option<usize>) -> Option<()> {
        match self.pending {
            Pending::Key { col: key_col, .. } if col > key_col || (is_item && col == key_col) => {
                self.pending = Pending::None;
                let kind = if is_item { Kind::Seq } else { Kind::Map };
                let indentless = is_item && col == key_col;
                // The general parser places an indentless list at its first entry's text.
                let at = if indentless { body_col.filter(|b| *b > col + 1)? } else { col };
                self.open(kind, number, col, at, indentless);
                return Some(());
            }
            Pending::Item { col: dash_col, .. } if col > dash_col => {
                self.pending = Pending::None;
                let kind = if is_item { Kind::Seq } else { Kind::Map };
                self.open(kind, number, col, col, false);
                return Some(());
            }
            _ => self.resolve_pending_as_null(),
        }
        if self.stack.is_empty() {
            // The document's root.
            if is_item {
                return None;
            }
            self.open(Kind::Map, number, col, col, false);
            return Some(());
        }
        loop {
            let top = *self.stack.last()?;
            // Whether the line stays inside `top` (possibly to be refused by the check below).
            let keeps = match (top.kind, is_item) {
                (Kind::Map, _) | (Kind::Seq, true) => col >= top.col,
                // A key at the column of an indentless list's dashes ends the list.
                (Kind::Seq, false) => col > top.col || (col == top.col && !top.indentless),
            };
            if keeps {
                break;
            }
            self.stack.pop();
            self.push_end(top.kind, number, col);
            if self.stack.is_empty() {
                return None;
            }
        }
        let top = *self.stack.last()?;
        let fits = top.col == col && matches!((top.kind, is_item), (Kind::Map, false) | (Kind::Seq, true));
        fits.then_some(())
    }

    fn open(&mut self, kind: Kind, number: usize, col: usize, at: usize, indentless: bool) {
        self.events.append(&mut self.held);
        let event = match kind {
            Kind::Map => Event::MappingStart(StructureStyle::Block, 0, None),
            Kind::Seq => Event::SequenceStart(StructureStyle::Block, 0, None),
        };
        self.events.push((event, span(number, at)));
        self.stack.push(Open { kind, col, indentless });
    }

    /// `- …` at `indent`.
    fn item(&mut self, line: &'a str, number: usize, indent: usize, after: &[&'a str]) -> Option<usize> {
        let body_start = indent + 1 + (line.len() - indent - 1 - line[indent + 1..].trim_start_matches(' ').len());
        let body = &line[body_start..];
        if body.is_empty() {
            self.pending = Pending::Item { col: indent, null_at: (number, col_of(line, indent + 1)) };
            return Some(0);
        }
        // `- # comment` and `- - x` are left to the general parser.
        if body.starts_with('#') || body == "-" || body.starts_with("- ") {
            return None;
        }
        if find_key_end(body).is_some() {
            // A map as the item: its first key is on the dash's line.
            let col = col_of(line, body_start);
            self.open(Kind::Map, number, col, col, false);
            return self.key_line(line, number, body_start, after);
        }
        self.value(line, number, body_start, after)
    }

    /// `key: value` starting at byte `start` of `line`.
    fn key_line(&mut self, line: &'a str, number: usize, start: usize, after: &[&'a str]) -> Option<usize> {
        let text = &line[start..];
        let key_end = find_key_end(text)?;
        let (key, style) = key_scalar(&text[..key_end])?;
        self.events.push((Event::Scalar(key, style, 0, None), token_span(number, col_of(line, start))));
        let colon = start + key_end;
        let value_start = colon + 1 + (line.len() - colon - 1 - line[colon + 1..].trim_start_matches(' ').len());
        let value = &line[value_start..];
        if value.is_empty() {
            self.pending = Pending::Key { col: col_of(line, start), null_at: (number, col_of(line, colon)) };
            return Some(0);
        }
        if let Some(comment) = value.strip_prefix('#') {
            self.pending = Pending::Key { col: col_of(line, start), null_at: (number, col_of(line, colon)) };
            self.events.push((
                Event::Comment(Cow::Borrowed(comment), Placement::Right),
                span(number, col_of(line, value_start)),
            ));
            return Some(0);
        }
        self.value(line, number, value_start, after)
    }

    /// A value starting at byte `start`: a scalar, a literal block, or an empty flow collection.
    fn value(&mut self, line: &'a str, number: usize, start: usize, after: &[&'a str]) -> Option<usize> {
        let text = &line[start..];
        let col = col_of(line, start);
        let first = text.as_bytes()[0];
        let (consumed, tail) = match first {
            b'"' => {
                let (value, end) = double_quoted(text)?;
                self.events.push((Event::Scalar(value, ScalarStyle::DoubleQuoted, 0, None), token_span(number, col)));
                (0, &text[end..])
            }
            b'\'' => {
                let (value, end) = single_quoted(text)?;
                self.events.push((Event::Scalar(value, ScalarStyle::SingleQuoted, 0, None), token_span(number, col)));
                (0, &text[end..])
            }
            b'|' => return self.literal(text, number, after),
            b'[' | b'{' => {
                let close = if first == b'[' { ']' } else { '}' };
                let inner_end = text[1..].find(close)? + 1;
                if !text[1..inner_end].trim_matches(' ').is_empty() {
                    return None;
                }
                let (start_ev, end_ev) = if first == b'[' {
                    (Event::SequenceStart(StructureStyle::Flow, 0, None), Event::SequenceEnd)
                } else {
                    (Event::MappingStart(StructureStyle::Flow, 0, None), Event::MappingEnd)
                };
                self.events.push((start_ev, span(number, col)));
                self.events.push((end_ev, span(number, col_of(line, start + inner_end))));
                (0, &text[inner_end + 1..])
            }
            b'>' | b'&' | b'*' | b'!' | b'%' | b'@' | b'`' | b'?' | b']' | b'}' | b',' => return None,
            b'-' if text.len() == 1 || text.as_bytes()[1] == b' ' => return None,
            b':' if text.len() == 1 || text.as_bytes()[1] == b' ' => return None,
            _ => {
                let end = plain_end(text);
                let value = text[..end].trim_end_matches(' ');
                if !plain_ok(value) {
                    return None;
                }
                self.events
                    .push((Event::Scalar(Cow::Borrowed(value), ScalarStyle::Plain, 0, None), token_span(number, col)));
                (0, &text[value.len()..])
            }
        };
        self.trailing(line, number, tail)?;
        Some(consumed)
    }

    /// What may follow a value on its line: spaces and a comment.
    fn trailing(&mut self, line: &'a str, number: usize, tail: &'a str) -> Option<()> {
        let trimmed = tail.trim_start_matches(' ');
        if trimmed.is_empty() {
            return Some(());
        }
        if trimmed.len() == tail.len() {
            return None;
        }
        let comment = trimmed.strip_prefix('#')?;
        let at = line.len() - trimmed.len();
        self.events.push((Event::Comment(Cow::Borrowed(comment), Placement::Right), span(number, col_of(line, at))));
        Some(())
    }

    /// A literal block scalar; returns how many lines its body took.
    fn literal(&mut self, header: &'a str, number: usize, after: &[&'a str]) -> Option<usize> {
        let chomp = match header.trim_end_matches(' ') {
            "|" => Chomp::Clip,
            "|-" => Chomp::Strip,
            "|+" => Chomp::Keep,
            _ => return None,
        };
        // Entries of the collection holding this value sit at `parent`; the body must be deeper.
        let parent = self.stack.last().map(|o| o.col)?;
        let first = after.first()?;
        let content_indent = first.len() - first.trim_start_matches(' ').len();
        if first.trim().is_empty() || content_indent <= parent {
            return None;
        }
        let mut body: Vec<&str> = Vec::new();
        for l in after {
            let ind = l.len() - l.trim_start_matches(' ').len();
            if l.trim_start_matches(' ').is_empty() {
                body.push("");
            } else if ind >= content_indent {
                body.push(&l[content_indent..]);
            } else {
                break;
            }
        }
        let used = body.len();
        let content_lines = body.iter().rposition(|l| !l.is_empty()).map_or(0, |p| p + 1);
        let trailing_blank = used - content_lines;
        let mut value = body[..content_lines].join("\n");
        match chomp {
            Chomp::Strip => {}
            Chomp::Clip => value.push('\n'),
            Chomp::Keep => value.push_str(&"\n".repeat(1 + trailing_blank)),
        }
        self.events.push((
            Event::Scalar(Cow::Owned(value), ScalarStyle::Literal, 0, None),
            token_span(number + 1, content_indent),
        ));
        Some(used)
    }
}

enum Chomp {
    Clip,
    Strip,
    Keep,
}

/// Where a key ends: the first `:` followed by a space or the end of the line, outside quotes.
fn find_key_end(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    match b.first()? {
        b'"' => {
            let (_, end) = double_quoted(text)?;
            (b.get(end) == Some(&b':') && (end + 1 == b.len() || b[end + 1] == b' ')).then_some(end)
        }
        b'\'' => {
            let (_, end) = single_quoted(text)?;
            (b.get(end) == Some(&b':') && (end + 1 == b.len() || b[end + 1] == b' ')).then_some(end)
        }
        _ => {
            let mut i = 0;
            while i < b.len() {
                match b[i] {
                    b':' if i + 1 == b.len() || b[i + 1] == b' ' => return (i > 0).then_some(i),
                    b'#' if i > 0 && b[i - 1] == b' ' => return None,
                    _ => i += 1,
                }
            }
            None
        }
    }
}

/// A key's scalar from its text (before the colon).
fn key_scalar(text: &str) -> Option<(Cow<'_, str>, ScalarStyle)> {
    match text.as_bytes().first()? {
        b'"' => double_quoted(text).map(|(v, _)| (v, ScalarStyle::DoubleQuoted)),
        b'\'' => single_quoted(text).map(|(v, _)| (v, ScalarStyle::SingleQuoted)),
        _ => {
            let key = text.trim_end_matches(' ');
            plain_ok(key).then_some((Cow::Borrowed(key), ScalarStyle::Plain))
        }
    }
}

/// Where a plain value ends on its line: at ` #` or the end.
fn plain_end(text: &str) -> usize {
    let b = text.as_bytes();
    let mut from = 0;
    // `find` on a single byte is a fast memchr; most values have no '#' at all.
    while let Some(off) = text[from..].find('#') {
        let i = from + off;
        if i > 0 && b[i - 1] == b' ' {
            return i;
        }
        from = i + 1;
    }
    b.len()
}

/// Plain scalars the general parser reads the same way: no indicator first, no `: ` inside.
fn plain_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let Some(&first) = b.first() else { return false };
    if matches!(
        first,
        b'#' | b',' | b'[' | b']' | b'{' | b'}' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\'' | b'"' | b'%' | b'@' | b'`'
    ) {
        return false;
    }
    if matches!(first, b'-' | b'?' | b':') && (b.len() == 1 || b[1] == b' ') {
        return false;
    }
    if s == "---" || s == "..." || s.starts_with("--- ") || s.starts_with("... ") {
        return false;
    }
    if s.ends_with(':') {
        return false;
    }
    // `: ` and ` #` both need a space; most values (every `ENC[…]`) have none.
    !s.contains(' ') || !b.windows(2).any(|w| w == b": " || w == b" #")
}

/// A single-line double-quoted scalar starting at `text[0]`; returns the value and the byte
/// just after the closing quote.
fn double_quoted(text: &str) -> Option<(Cow<'_, str>, usize)> {
    let b = text.as_bytes();
    let mut i = 1;
    let mut owned: Option<String> = None;
    let mut run_start = 1;
    while i < b.len() {
        match b[i] {
            b'"' => {
                let value = match owned {
                    None => Cow::Borrowed(&text[1..i]),
                    Some(mut o) => {
                        o.push_str(&text[run_start..i]);
                        Cow::Owned(o)
                    }
                };
                return Some((value, i + 1));
            }
            b'\\' => {
                let o = owned.get_or_insert_with(String::new);
                o.push_str(&text[run_start..i]);
                let esc = *b.get(i + 1)?;
                let (ch, len) = match esc {
                    b'\\' => ('\\', 2),
                    b'"' => ('"', 2),
                    b'/' => ('/', 2),
                    b'n' => ('\n', 2),
                    b't' => ('\t', 2),
                    b'r' => ('\r', 2),
                    b'0' => ('\0', 2),
                    b' ' => (' ', 2),
                    b'x' | b'u' | b'U' => {
                        let n = match esc {
                            b'x' => 2,
                            b'u' => 4,
                            _ => 8,
                        };
                        let hex = text.get(i + 2..i + 2 + n)?;
                        let code = u32::from_str_radix(hex, 16).ok()?;
                        (char::from_u32(code)?, 2 + n)
                    }
                    _ => return None,
                };
                o.push(ch);
                i += len;
                run_start = i;
            }
            _ => i += 1,
        }
    }
    None
}

/// A single-line single-quoted scalar (`''` is a quote).
fn single_quoted(text: &str) -> Option<(Cow<'_, str>, usize)> {
    let b = text.as_bytes();
    let mut i = 1;
    let mut owned: Option<String> = None;
    let mut run_start = 1;
    while i < b.len() {
        if b[i] == b'\'' {
            if b.get(i + 1) == Some(&b'\'') {
                let o = owned.get_or_insert_with(String::new);
                o.push_str(&text[run_start..=i]);
                i += 2;
                run_start = i;
                continue;
            }
            let value = match owned {
                None => Cow::Borrowed(&text[1..i]),
                Some(mut o) => {
                    o.push_str(&text[run_start..i]);
                    Cow::Owned(o)
                }
            };
            return Some((value, i + 1));
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use granit_parser::Parser;
    use proptest::prelude::*;

    /// What the tree builder looks at in an event: its kind, payload and, for node starts and
    /// comments, where it starts.
    fn normalise(events: impl Iterator<Item = (Event<'static>, Span)>) -> Vec<String> {
        events
            .map(|(e, s)| {
                let at = format!("@{}:{}", s.start.line(), s.start.col());
                match e {
                    Event::Scalar(v, style, a, t) => {
                        format!(
                            "scalar {v:?} {style:?} {a} {t:?} {at} implicit={}",
                            (s.end.line(), s.end.col()) == (s.start.line(), s.start.col())
                        )
                    }
                    Event::Comment(t, p) => format!("comment {t:?} right={} {at}", p == Placement::Right),
                    Event::MappingStart(st, a, t) => format!("map {st:?} {a} {t:?} {at}"),
                    Event::SequenceStart(st, a, t) => format!("seq {st:?} {a} {t:?} {at}"),
                    Event::DocumentStart(explicit, _) => format!("doc {explicit}"),
                    other => format!("{other:?}"),
                }
            })
            .collect()
    }

    fn general(input: &str) -> Option<Vec<String>> {
        let events: Result<Vec<_>, _> =
            Parser::new_from_str(input).map(|r| r.map(|(e, s)| (into_static(e), s))).collect();
        events.ok().map(|e| normalise(e.into_iter()))
    }

    fn into_static(e: Event<'_>) -> Event<'static> {
        match e {
            Event::Scalar(v, st, a, t) => {
                Event::Scalar(Cow::Owned(v.into_owned()), st, a, t.map(|t| Cow::Owned(t.into_owned())))
            }
            Event::Comment(t, p) => Event::Comment(Cow::Owned(t.into_owned()), p),
            Event::MappingStart(st, a, t) => Event::MappingStart(st, a, t.map(|t| Cow::Owned(t.into_owned()))),
            Event::SequenceStart(st, a, t) => Event::SequenceStart(st, a, t.map(|t| Cow::Owned(t.into_owned()))),
            Event::StreamStart => Event::StreamStart,
            Event::StreamEnd => Event::StreamEnd,
            Event::DocumentStart(x, v) => Event::DocumentStart(x, v),
            Event::DocumentEnd => Event::DocumentEnd,
            Event::MappingEnd => Event::MappingEnd,
            Event::SequenceEnd => Event::SequenceEnd,
            Event::Alias(id) => Event::Alias(id),
            other => panic!("unexpected event {other:?}"),
        }
    }

    /// When the scanner accepts an input, it must agree with the general parser.
    fn check(input: &str) -> bool {
        let Some(fast) = scan(input) else { return false };
        let fast = normalise(fast.into_iter().map(|(e, s)| (into_static(e), s)));
        let general = general(input).unwrap_or_else(|| panic!("scanner accepted what the parser refuses:\n{input}"));
        assert_eq!(fast, general, "event streams differ for:\n{input}");
        true
    }

    #[test]
    fn agrees_on_the_corpus() {
        let accepted = [
            "a: 1\n",
            "# top\na:\n    b:\n        c: d # inline c\n    # trailing a\n\ne:\n    # before seq\n    - f\n    # mid\n    - g: 1\n      h: 2 # hh\n# head of k\nk: v\n",
            "a:\nb: 1\nc:\n  - x\n  -\n  - y # r\nd:\n- p\n- q\ne: \"q\\\"x\" # c\nf: |\n  l1\n\n  l2\n\ng: z\n# end1\n  # end2\n",
            "---\n# c\na: 1\n---\nb: [ ]\nc: {}\n",
            "k: # c\n  n: 1\nl:  v  \nm: a#b\n",
            "a: 1\n---\nb: 2\n",
            "x: |-\n    one\n    two\ny: |+\n    keep\n\n\nz: 'it''s'\n",
            "list:\n    - a\n    - nested: x\n      more: y\n    - \"q\"\n",
            "é: ü\nkey with spaces: value with spaces\n\"quoted key\": 'v'\n",
            "a:\n- x # one\n# between\n- y\nb:\n  - \"\\u00e9\\t\\\\\"\n  -\n  - z\nc: ok\n",
            "k:\n  # held\nnext: 1\nlist:\n  -\n  # held too\n  - 2\n",
            "'single '' quote': \"double \\\" quote\"\nüñï: çødé # ĉ\n",
            include_str!("../../../tests/data/sops-upstream/gen311_basic.enc.yaml"),
            include_str!("../../../tests/data/sops-upstream/gen311_multidoc.enc.yaml"),
            include_str!("../../../tests/data/sops-upstream/gen311_shamir_2of3.enc.yaml"),
            include_str!("../../../tests/data/sops-upstream/gen311_regex_maconly.enc.yaml"),
            include_str!("../../../tests/data/sops-upstream/gen311_two_recipients.enc.yaml"),
            include_str!("../../../tests/data/sops-upstream/pr1031_example.enc.yaml"),
            include_str!("../../../tests/data/sops-upstream/head_example.enc.yaml"),
            include_str!("../../../tests/data/sops-upstream/ft_comments.enc.yaml"),
        ];
        for input in accepted {
            assert!(check(input), "the scanner should accept:\n{input}");
        }
        // Outside the subset: the scanner declines and the general parser takes over.
        for input in [
            "a: &x 1\nb: *x\n",
            "a: {b: 1}\n",
            "a: >\n  folded\n",
            "a: \"multi\n  line\"\n",
            "a: b\n  continued\n",
            "? complex\n: value\n",
            "a:\tb\n",
            "- a\n- b\n",
            "a: !!str 1\n",
            "%YAML 1.2\n---\na: 1\n",
            "---\n",
            "a: 1\n...\n",
            "a: [1, 2\n",
        ] {
            assert!(scan(input).is_none(), "the scanner should decline:\n{input}");
        }
    }

    /// A small writer of block YAML with the variations the scanner must handle.
    fn render(node: &Node, indent: usize, col: usize, out: &mut String) {
        match node {
            Node::Map(entries) => {
                for (key, value, comment) in entries {
                    if let Some(c) = comment {
                        out.push_str(&format!("{}#{c}\n", " ".repeat(col)));
                    }
                    out.push_str(&" ".repeat(col));
                    out.push_str(key);
                    out.push(':');
                    match value {
                        Node::Scalar(s) => {
                            out.push(' ');
                            out.push_str(s);
                            out.push('\n');
                        }
                        Node::Empty => out.push('\n'),
                        Node::Literal(body) => {
                            out.push_str(" |\n");
                            for l in body.lines() {
                                out.push_str(&format!("{}{l}\n", " ".repeat(col + indent)));
                            }
                        }
                        Node::Map(m) if m.is_empty() => out.push_str(" {}\n"),
                        Node::List(l) if l.is_empty() => out.push_str(" []\n"),
                        child => {
                            out.push('\n');
                            render(child, indent, col + indent, out);
                        }
                    }
                }
            }
            Node::List(items) => {
                for item in items {
                    out.push_str(&" ".repeat(col));
                    out.push_str("- ");
                    match item {
                        Node::Scalar(s) => {
                            out.push_str(s);
                            out.push('\n');
                        }
                        Node::Map(m) if !m.is_empty() => {
                            let mut first = String::new();
                            render(item, indent, col + 2, &mut first);
                            out.push_str(first.trim_start_matches(' '));
                        }
                        _ => out.push_str("x\n"),
                    }
                }
            }
            _ => {}
        }
    }

    #[derive(Clone, Debug)]
    enum Node {
        Scalar(String),
        Empty,
        Literal(String),
        Map(Vec<(String, Node, Option<String>)>),
        List(Vec<Node>),
    }

    fn scalar() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z][a-z0-9_.-]{0,8}",
            "[0-9]{1,5}",
            "-?[0-9]{1,3}\\.[0-9]{1,3}",
            Just("true".to_owned()),
            Just("null".to_owned()),
            "\"[a-z #:]{0,6}\"",
            "'[a-z #:]{0,6}'",
            "[a-z]{1,4} # [a-z]{1,4}",
            "ENC\\[AES256_GCM,data:[A-Za-z0-9+/]{4,12}=,iv:[A-Za-z0-9+/]{8}=,tag:[A-Za-z0-9+/]{8}==,type:str\\]",
        ]
    }

    fn node() -> impl Strategy<Value = Node> {
        let leaf = prop_oneof![
            8 => scalar().prop_map(Node::Scalar),
            1 => Just(Node::Empty),
            1 => "[a-z ]{1,10}\n[a-z]{1,10}".prop_map(Node::Literal),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(
                    ("[a-z][a-z0-9_]{0,6}", inner.clone(), proptest::option::of("[ a-z]{0,8}")),
                    0..4
                )
                .prop_map(|entries| {
                    let mut seen = std::collections::HashSet::new();
                    Node::Map(entries.into_iter().filter(|(k, _, _)| seen.insert(k.clone())).collect())
                }),
                proptest::collection::vec(inner, 0..4).prop_map(Node::List),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]
        #[test]
        fn agrees_on_generated_documents(
            entries in proptest::collection::vec(("[a-z][a-z0-9_]{0,6}", node(), proptest::option::of("[ a-z]{0,8}")), 1..5),
            indent in prop_oneof![Just(2usize), Just(4usize)],
        ) {
            let mut seen = std::collections::HashSet::new();
            let root = Node::Map(entries.into_iter().filter(|(k, _, _)| seen.insert(k.clone())).collect());
            let mut text = String::new();
            render(&root, indent, 0, &mut text);
            check(&text);
        }
    }
}
