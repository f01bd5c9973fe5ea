//! YAML text → documents, with comments placed where go-yaml v3 (and so sops) puts them.
//!
//! Where a comment lands matters: its AAD is the path of the map or list that holds it, so a
//! comment attached to the wrong level would not decrypt. go-yaml attaches comments to nodes as
//! head, line and foot comments and sops turns those into items (`stores/yaml/store.go`); the
//! rules below reproduce the outcome from positions:
//!
//! * an own-line comment before an entry belongs to the collection the entry is added to;
//! * own-line comments after the last entry of a block collection belong to it when they are
//!   indented at least as far as its entries (and further than its parent's entries), and to an
//!   outer collection otherwise;
//! * a comment on the same line as a scalar value is an *inline* comment placed just before that
//!   entry (sops ≥ 3.13 writes it back on the same line); after a key with no value on its line,
//!   it is an ordinary comment of the map; after a flow collection, it belongs inside it.
//!
//! Aliases are expanded into copies, as sops does (each copy gets its own path and IV), under a
//! node budget so an alias bomb fails instead of exhausting memory.

use std::borrow::Cow;
use std::collections::HashMap;

use granit_parser::{Event, Parser, Placement, ScalarStyle, Span, StructureStyle};

use super::resolve::{self, ResolveError};
use crate::crypto::SecretBytes;
use crate::sops::store::{Limits, StoreError};
use crate::sops::tree::{Branch, Comment, Element, Item, Key, Scalar, Value};

fn err(at: Option<(usize, usize)>, message: impl Into<String>) -> StoreError {
    StoreError::parse("YAML", at.map(|(l, c)| format!("line {l}, column {}", c + 1)), message)
}

struct PendingComment {
    text: String,
    col: usize,
    line: usize,
    /// The indentation of the innermost collection open when the comment was read.
    open_indent: usize,
    /// Read after a key whose value is null: go-yaml makes such comments heads of whatever
    /// comes next, never feet of the collection that ends.
    head_only: bool,
    /// The foot of a sequence nested in a sequence, handed to the outer one (see
    /// [`Parser::seq_foot_goes_up`]): it may go further up from there whatever its column.
    handed_up: bool,
}

impl PendingComment {
    fn new(text: String, at: (usize, usize), open_indent: usize, head_only: bool) -> Self {
        Self { text, col: at.1, line: at.0, open_indent, head_only, handed_up: false }
    }
}

enum Body {
    Map {
        items: Branch,
        /// The key read so far, waiting for its value.
        key: Option<Key>,
        /// Comments that go before the pair being built.
        before_pair: Vec<Item>,
        /// The line of each key, in order, for go-yaml's duplicate-key check at the end.
        key_lines: Vec<usize>,
    },
    Seq {
        elements: Vec<Element>,
    },
}

struct Frame {
    body: Body,
    indent: usize,
    anchor: usize,
    nodes: usize,
}

/// What the last event completed, to place a same-line comment.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Last {
    Nothing,
    Key,
    /// The null value of a key written without one (`key:` followed by a sibling or nothing).
    NullValue,
    ValueScalar,
    ItemScalar,
    ClosedCollection,
}

struct Builder<'l> {
    limits: &'l Limits,
    text: &'l str,
    /// Byte offset of each line's start, built when the first comment needs it.
    line_starts: std::cell::OnceCell<Vec<usize>>,
    docs: Vec<Branch>,
    stack: Vec<Frame>,
    pending: Vec<PendingComment>,
    anchors: HashMap<usize, (Value, usize)>,
    /// Anchors on scalars also keep their raw text, for aliases used as keys.
    anchor_text: HashMap<usize, String>,
    total_nodes: usize,
    last: Last,
    in_document: bool,
    /// The current document's root, once complete.
    root: Option<Branch>,
}

/// Parses every document of a YAML stream.
pub fn parse(input: &str, limits: &Limits) -> Result<Vec<Branch>, StoreError> {
    let mut options = granit_parser::Options::default();
    options.max_buffered_comment_events = 100_000;
    let new_builder = || Builder {
        limits,
        text: input,
        line_starts: std::cell::OnceCell::new(),
        docs: Vec::new(),
        stack: Vec::new(),
        pending: Vec::new(),
        anchors: HashMap::new(),
        anchor_text: HashMap::new(),
        total_nodes: 0,
        last: Last::Nothing,
        in_document: false,
        root: None,
    };
    // The line scanner's events go to the builder as they come. Where it gives up, or the
    // builder refuses an event, the general parser starts again on a fresh builder: its
    // events are the scanner's where both take the input, so an error is the one it reports.
    let mut builder = new_builder();
    if super::fast::scan_into(input, &mut |event, span| builder.event(event, span).is_ok()).is_none() {
        builder = new_builder();
        for event in Parser::new_from_str_with_options(input, options) {
            let (event, span) = event.map_err(|e| err(Some((e.marker().line(), e.marker().col())), e.info()))?;
            builder.event(event, span)?;
        }
    }
    // Comments after the last document belong to it.
    if !builder.pending.is_empty() {
        if let Some(last) = builder.docs.last_mut() {
            last.extend(builder.pending.drain(..).map(|c| Item::Comment(Comment::new(c.text))));
        } else {
            builder.docs.push(builder.pending.drain(..).map(|c| Item::Comment(Comment::new(c.text))).collect());
        }
    }
    Ok(builder.docs)
}

fn position(span: &Span) -> (usize, usize) {
    (span.start.line(), span.start.col())
}

fn tag_text(tag: &Option<Cow<'_, granit_parser::Tag>>) -> String {
    match tag {
        Some(t) => resolve::short_tag(t.handle(), t.suffix()),
        None => String::new(),
    }
}

impl Builder<'_> {
    fn event(&mut self, event: Event<'_>, span: Span) -> Result<(), StoreError> {
        let at = position(&span);
        match event {
            Event::StreamStart | Event::StreamEnd | Event::Anchor(..) => {}
            // go-yaml reads YAML 1.1 only and refuses a document declaring another version.
            Event::DocumentStart(_, Some(v)) if (v.major, v.minor) != (1, 1) => {
                return Err(err(Some(at), format!("found incompatible YAML document (%YAML {}.{})", v.major, v.minor)));
            }
            Event::DocumentStart(..) => {
                self.in_document = true;
                self.root = None;
                self.last = Last::Nothing;
            }
            Event::DocumentEnd => self.end_document(at)?,
            Event::Comment(text, placement) => self.comment(text.into_owned(), placement, at),
            Event::Scalar(value, style, anchor, tag) => {
                let tag = tag_text(&tag);
                // The parser writes an absent value as a zero-width `~`.
                let implicit_null = value == "~"
                    && style == ScalarStyle::Plain
                    && (span.end.line(), span.end.col()) == (span.start.line(), span.start.col());
                self.scalar(&value, style, anchor, &tag, at)?;
                if implicit_null && self.last == Last::ValueScalar {
                    self.last = Last::NullValue;
                }
            }
            Event::Alias(id) => self.alias(id, at)?,
            Event::UnresolvedAlias(name) => return Err(err(Some(at), format!("unknown anchor {name:?} referenced"))),
            Event::MappingStart(style, anchor, _) => self.open(true, style, anchor, at)?,
            Event::SequenceStart(style, anchor, _) => self.open(false, style, anchor, at)?,
            Event::MappingEnd | Event::SequenceEnd => self.close(at)?,
            // The event type is non-exhaustive; new kinds are presentation metadata.
            _ => {}
        }
        Ok(())
    }

    fn count(&mut self, nodes: usize, at: (usize, usize)) -> Result<(), StoreError> {
        self.total_nodes = self.total_nodes.saturating_add(nodes);
        if self.total_nodes > self.limits.max_nodes {
            return Err(err(
                Some(at),
                format!("the document expands to more than {} nodes (an alias bomb?)", self.limits.max_nodes),
            ));
        }
        Ok(())
    }

    fn comment(&mut self, text: String, placement: Placement, at: (usize, usize)) {
        let open_indent = self.stack.last().map_or(0, |f| f.indent);
        if placement != Placement::Right {
            let head_only = self.last == Last::NullValue;
            self.pending.push(PendingComment::new(text, at, open_indent, head_only));
            return;
        }
        let Some(frame) = self.stack.last_mut() else {
            self.pending.push(PendingComment::new(text, at, open_indent, false));
            return;
        };
        let comment = |inline| Comment { text: SecretBytes::from(text.as_str()), inline };
        match (self.last, &mut frame.body) {
            (Last::ValueScalar, Body::Map { items, .. }) => {
                let at = items.len().saturating_sub(1);
                items.insert(at, Item::Comment(comment(true)));
            }
            (Last::ItemScalar, Body::Seq { elements }) => {
                let at = elements.len().saturating_sub(1);
                elements.insert(at, Element::Comment(comment(true)));
            }
            (Last::Key, Body::Map { before_pair, .. }) => before_pair.push(Item::Comment(comment(false))),
            (Last::ClosedCollection, body) => {
                let target = match body {
                    Body::Map { items, .. } => match items.last_mut() {
                        Some(Item::Pair { value, .. }) => Some(value),
                        _ => None,
                    },
                    Body::Seq { elements } => match elements.last_mut() {
                        Some(Element::Value(value)) => Some(value),
                        _ => None,
                    },
                };
                match target {
                    Some(Value::Map(m)) => m.push(Item::Comment(comment(false))),
                    Some(Value::List(l)) => l.push(Element::Comment(comment(false))),
                    _ => self.pending.push(PendingComment::new(text, at, open_indent, false)),
                }
            }
            _ => self.pending.push(PendingComment::new(text, at, open_indent, false)),
        }
    }

    /// Moves pending comments into the current collection, before whatever comes next.
    fn flush_pending_here(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let comments: Vec<Comment> = self.pending.drain(..).map(|c| Comment::new(c.text)).collect();
        match self.stack.last_mut().map(|f| &mut f.body) {
            Some(Body::Map { items, key, before_pair, .. }) => {
                if key.is_some() {
                    before_pair.extend(comments.into_iter().map(Item::Comment));
                } else {
                    items.extend(comments.into_iter().map(Item::Comment));
                }
            }
            Some(Body::Seq { elements }) => elements.extend(comments.into_iter().map(Element::Comment)),
            None => {}
        }
    }

    fn scalar(
        &mut self,
        value: &str,
        style: ScalarStyle,
        anchor: usize,
        tag: &str,
        at: (usize, usize),
    ) -> Result<(), StoreError> {
        self.flush_pending_here();
        self.count(1, at)?;
        let quoted_or_block = style != ScalarStyle::Plain;
        let resolved = resolve::resolve(value, tag, quoted_or_block).map_err(|e| match e {
            ResolveError::Mismatch { .. } | ResolveError::Binary => err(Some(at), e.to_string()),
        })?;
        if anchor != 0 {
            self.anchor_text.insert(anchor, value.to_owned());
        }
        let as_value = match resolved {
            None => Value::Null,
            Some(s) => Value::Scalar(s),
        };
        if self.expecting_key() {
            let key = key_from(&as_value, value);
            if anchor != 0 {
                self.anchors.insert(anchor, (as_value, 1));
            }
            return self.set_key(key, at);
        }
        if anchor != 0 {
            self.anchors.insert(anchor, (as_value.clone(), 1));
        }
        let in_map = matches!(self.stack.last().map(|f| &f.body), Some(Body::Map { .. }));
        self.add_value(as_value, 1, at)?;
        self.last = if in_map { Last::ValueScalar } else { Last::ItemScalar };
        Ok(())
    }

    fn alias(&mut self, id: usize, at: (usize, usize)) -> Result<(), StoreError> {
        self.flush_pending_here();
        let (value, nodes) =
            self.anchors.get(&id).cloned().ok_or_else(|| err(Some(at), "alias to an unknown anchor"))?;
        self.count(nodes, at)?;
        if self.expecting_key() {
            let raw = self
                .anchor_text
                .get(&id)
                .cloned()
                .ok_or_else(|| err(Some(at), "an alias used as a key must point at a scalar"))?;
            let key = key_from(&value, &raw);
            return self.set_key(key, at);
        }
        let scalar = matches!(value, Value::Scalar(_) | Value::Null);
        let in_map = matches!(self.stack.last().map(|f| &f.body), Some(Body::Map { .. }));
        self.add_value(value, nodes, at)?;
        self.last = match (scalar, in_map) {
            (true, true) => Last::ValueScalar,
            (true, false) => Last::ItemScalar,
            (false, _) => Last::ClosedCollection,
        };
        Ok(())
    }

    /// The top collection is a map with a key read and its value still to come.
    fn expecting_value(&self) -> bool {
        matches!(self.stack.last().map(|f| &f.body), Some(Body::Map { key: Some(_), .. }))
    }

    fn in_sequence(&self) -> bool {
        matches!(self.stack.last().map(|f| &f.body), Some(Body::Seq { .. }))
    }

    fn expecting_key(&self) -> bool {
        matches!(self.stack.last().map(|f| &f.body), Some(Body::Map { key: None, .. }))
    }

    fn set_key(&mut self, key: Key, at: (usize, usize)) -> Result<(), StoreError> {
        let Some(Frame { body: Body::Map { key: slot, key_lines, .. }, .. }) = self.stack.last_mut() else {
            return Err(err(Some(at), "internal: key outside a mapping"));
        };
        key_lines.push(at.0);
        *slot = Some(key);
        self.last = Last::Key;
        Ok(())
    }

    fn open(&mut self, map: bool, style: StructureStyle, anchor: usize, at: (usize, usize)) -> Result<(), StoreError> {
        if self.stack.is_empty() {
            if !map {
                return Err(err(Some(at), "YAML documents that are sequences are not supported"));
            }
        } else if self.expecting_key() {
            return Err(err(Some(at), "complex (non-scalar) mapping keys are not supported"));
        }
        if self.stack.len() >= self.limits.max_depth {
            return Err(err(Some(at), format!("nesting deeper than {} levels", self.limits.max_depth)));
        }
        self.count(1, at)?;
        let indent = at.1;
        // Comments between a key and its (block) value are heads of the value's first entry,
        // wherever they are indented (go-yaml). Elsewhere, those indented at least as far as
        // the new collection's entries open it and the others belong to the one around it.
        let block = style == StructureStyle::Block;
        let value_of_key = self.expecting_value();
        let (inner, outer): (Vec<_>, Vec<_>) =
            self.pending.drain(..).partition(|c| self.stack.is_empty() || (block && (value_of_key || c.col >= indent)));
        self.pending = outer;
        self.flush_pending_here();
        let mut body = if map {
            Body::Map { items: Vec::new(), key: None, before_pair: Vec::new(), key_lines: Vec::new() }
        } else {
            Body::Seq { elements: Vec::new() }
        };
        match &mut body {
            Body::Map { items, .. } => items.extend(inner.into_iter().map(|c| Item::Comment(Comment::new(c.text)))),
            Body::Seq { elements } => {
                elements.extend(inner.into_iter().map(|c| Element::Comment(Comment::new(c.text))))
            }
        }
        self.stack.push(Frame { body, indent, anchor, nodes: 1 });
        self.last = Last::Nothing;
        Ok(())
    }

    fn close(&mut self, at: (usize, usize)) -> Result<(), StoreError> {
        let parent_indent = self.stack.len().checked_sub(2).and_then(|i| self.stack.get(i)).map(|f| f.indent);
        let Some(mut frame) = self.stack.pop() else {
            return Err(err(Some(at), "internal: unbalanced collection end"));
        };
        // Trailing comments that belong to the collection being closed.
        let foot_of_last_scalar = self.foot_of_last_scalar(&frame);
        let own_foot = self.own_foot();
        let (mine, rest): (Vec<_>, Vec<_>) = self.pending.drain(..).partition(|c| match parent_indent {
            None => !c.head_only,
            Some(_) if foot_of_last_scalar => true,
            Some(parent) => {
                (!c.head_only || own_foot) && c.col >= frame.indent && (frame.indent > parent || c.col > parent)
            }
        });
        self.pending = rest;
        let mut mine = mine;
        if self.seq_foot_goes_up(&frame, &mine) {
            // go-yaml makes these the foot of the sequence, which it hands to the key holding
            // the sequence: they belong to the map around it. A sequence that is an item hands
            // them to the outer sequence, which passes them on if it ends here too.
            if self.in_sequence() {
                mine.iter_mut().for_each(|c| c.handed_up = true);
            }
            mine.append(&mut self.pending);
            self.pending = mine;
            mine = Vec::new();
        }
        let value = match frame.body {
            Body::Map { mut items, key, before_pair, key_lines } => {
                if key.is_some() {
                    return Err(err(Some(at), "internal: mapping ended after a key"));
                }
                check_duplicates(&items, &key_lines)?;
                items.extend(before_pair);
                items.extend(mine.into_iter().map(|c| Item::Comment(Comment::new(c.text))));
                Value::Map(items)
            }
            Body::Seq { mut elements } => {
                elements.extend(mine.into_iter().map(|c| Element::Comment(Comment::new(c.text))));
                Value::List(elements)
            }
        };
        if frame.anchor != 0 {
            self.anchors.insert(frame.anchor, (value.clone(), frame.nodes));
        }
        frame.nodes = frame.nodes.max(1);
        if self.stack.is_empty() {
            let Value::Map(items) = value else {
                return Err(err(Some(at), "YAML documents that are sequences are not supported"));
            };
            self.root = Some(items);
        } else {
            self.add_value(value, frame.nodes, at)?;
            self.last = Last::ClosedCollection;
        }
        Ok(())
    }

    /// Whether a line (1-based) is empty or past the end of the input.
    fn blank_line(&self, line: usize) -> bool {
        let starts = self
            .line_starts
            .get_or_init(|| std::iter::once(0).chain(self.text.match_indices('\n').map(|(i, _)| i + 1)).collect());
        let Some(&start) = line.checked_sub(1).and_then(|i| starts.get(i)) else {
            return true;
        };
        let end = starts.get(line).copied().unwrap_or(self.text.len());
        self.text[start..end].trim().is_empty()
    }

    /// The first indentation of a line (1-based), or `None` when it is blank, a comment, or past
    /// the end.
    fn content_col(&self, line: usize) -> Option<usize> {
        let starts = self
            .line_starts
            .get_or_init(|| std::iter::once(0).chain(self.text.match_indices('\n').map(|(i, _)| i + 1)).collect());
        let start = *line.checked_sub(1).and_then(|i| starts.get(i))?;
        let end = starts.get(line).copied().unwrap_or(self.text.len());
        let text = &self.text[start..end];
        let col = text.len() - text.trim_start_matches(' ').len();
        match text[col..].chars().next() {
            None | Some('\n' | '\r' | '#') => None,
            Some(_) => Some(col),
        }
    }

    /// Comments right after a scalar that ends the collection being closed, all at one column
    /// left of its entries, and directly followed by content further left: go-yaml makes them
    /// the foot of that scalar, so they stay in its collection however far they are dedented
    /// (`scannerc.go`, `yaml_parser_scan_comments`: the comment is split off at the dedented
    /// line and keeps the prior token's mark).
    fn foot_of_last_scalar(&self, frame: &Frame) -> bool {
        if !matches!(self.last, Last::ValueScalar | Last::ItemScalar) {
            return false;
        }
        let (Some(first), Some(last)) = (self.pending.first(), self.pending.last()) else { return false };
        let one_run = last.line == first.line + self.pending.len() - 1;
        let same_col = self.pending.iter().all(|c| c.col == first.col);
        one_run
            && same_col
            && first.col < frame.indent
            && !self.blank_line(first.line.saturating_sub(1))
            && self.content_col(last.line + 1).is_some_and(|next| next < first.col)
    }

    /// Pending comments that start right after a line of content and end at a blank line or the
    /// end of the input: go-yaml splits them off as a foot that keeps its own position, taken by
    /// the end of the collection indented like it, even after a key with no value.
    fn own_foot(&self) -> bool {
        let (Some(first), Some(last)) = (self.pending.first(), self.pending.last()) else { return false };
        last.line == first.line + self.pending.len() - 1
            && first.col < first.open_indent
            && !self.blank_line(first.line.saturating_sub(1))
            && self.blank_line(last.line + 1)
    }

    /// Own-line comments closing a block sequence that is a map value, whose last item is a
    /// collection: when aligned with the items, right after the last line of content and
    /// followed by a blank line or the end, go-yaml reads them as the sequence's foot
    /// (`scannerc.go`, `yaml_parser_scan_comments`: a dedented foot keeps its own position and
    /// the matching BLOCK-END takes it).
    fn seq_foot_goes_up(&self, frame: &Frame, mine: &[PendingComment]) -> bool {
        let Body::Seq { elements } = &frame.body else { return false };
        let (Some(first), Some(last)) = (mine.first(), mine.last()) else { return false };
        let nested_last = match elements.iter().rev().find_map(|e| match e {
            Element::Value(v) => Some(v),
            Element::Comment(_) => None,
        }) {
            Some(Value::Map(m)) => m.iter().any(|i| matches!(i, Item::Pair { .. })),
            Some(Value::List(l)) => l.iter().any(|e| matches!(e, Element::Value(_))),
            _ => false,
        };
        (self.expecting_value() || self.in_sequence())
            && nested_last
            && (first.col == frame.indent || first.handed_up)
            && !self.blank_line(first.line.saturating_sub(1))
            && last.line == first.line + mine.len() - 1
            && self.blank_line(last.line + 1)
    }

    /// Adds a finished value to the collection on top of the stack.
    fn add_value(&mut self, value: Value, nodes: usize, at: (usize, usize)) -> Result<(), StoreError> {
        let Some(frame) = self.stack.last_mut() else {
            // A document whose root is a scalar: only null (an empty document) is allowed.
            return match value {
                Value::Null => {
                    self.root = Some(Vec::new());
                    Ok(())
                }
                _ => Err(err(Some(at), "YAML documents that are values are not supported")),
            };
        };
        frame.nodes = frame.nodes.saturating_add(nodes);
        match &mut frame.body {
            Body::Map { items, key, before_pair, .. } => {
                let Some(k) = key.take() else {
                    return Err(err(Some(at), "complex (non-scalar) mapping keys are not supported"));
                };
                items.append(before_pair);
                items.push(Item::Pair { key: k, value });
            }
            Body::Seq { elements } => elements.push(Element::Value(value)),
        }
        Ok(())
    }

    fn end_document(&mut self, at: (usize, usize)) -> Result<(), StoreError> {
        if !self.stack.is_empty() {
            return Err(err(Some(at), "internal: document ended inside a collection"));
        }
        let mut root = self.root.take().unwrap_or_default();
        root.extend(self.pending.drain(..).map(|c| Item::Comment(Comment::new(c.text))));
        self.docs.push(root);
        self.in_document = false;
        self.anchors.clear();
        self.anchor_text.clear();
        Ok(())
    }
}

/// go-yaml refuses a mapping whose keys repeat (compared by their text). Sorting finds the
/// repeats in O(n log n) without hashing attacker-chosen keys; the one reported is the
/// earliest repeat in the document, as go-yaml reports it.
fn check_duplicates(items: &[Item], lines: &[usize]) -> Result<(), StoreError> {
    let mut keys: Vec<(&str, usize)> = items
        .iter()
        .filter_map(|i| match i {
            Item::Pair { key: Key::Str(k), .. } => Some(k.as_str()),
            Item::Pair { key: Key::Other { text, .. }, .. } => Some(text.as_str()),
            Item::Comment(_) => None,
        })
        .zip(lines.iter().copied())
        .collect();
    if keys.len() < 2 {
        return Ok(());
    }
    keys.sort_unstable();
    let repeat = keys.windows(2).filter(|w| w[0].0 == w[1].0).min_by_key(|w| w[1].1);
    match repeat {
        None => Ok(()),
        Some(w) => {
            let first = keys.iter().filter(|k| k.0 == w[0].0).map(|k| k.1).min().unwrap_or(w[0].1);
            Err(err(Some((w[1].1, 0)), format!("mapping key {:?} already defined at line {first}", w[0].0)))
        }
    }
}

/// A map key from its resolved value; sops only accepts strings, others are kept for the error.
fn key_from(value: &Value, raw: &str) -> Key {
    match value {
        Value::Scalar(Scalar::Str(s)) => match s.as_str() {
            Some(text) => Key::Str(text.to_owned()),
            None => Key::Other { text: raw.to_owned(), kind: "[]uint8" },
        },
        Value::Null => Key::Other { text: raw.to_owned(), kind: "<nil>" },
        Value::Scalar(s) => Key::Other { text: raw.to_owned(), kind: s.type_name() },
        _ => Key::Other { text: raw.to_owned(), kind: "map" },
    }
}
