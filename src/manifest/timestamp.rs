//! Unquoted YAML timestamps in resource files, rewritten as kustomize prints them.
//!
//! kustomize reads resources with yaml.v3 and writes them out through JSON (`Resource.AsYAML`
//! → `RNode.MarshalJSON`). yaml.v3 resolves a plain scalar that parses as a timestamp
//! (`resolve.go`, `parseTimestamp`: four digits and `-`, then one of the layouts
//! `2006-1-2T15:4:5.999999999Z07:00`, the same with `t`, `2006-1-2 15:4:5.999999999` and
//! `2006-1-2`) to Go's `time.Time`, whose JSON form is RFC 3339 with nanoseconds. So
//! `date: 2024-01-01` comes out as `date: "2024-01-01T00:00:00Z"` on every build. Checked
//! against `kubectl kustomize` (v5.5), the rules are:
//!
//! * only plain scalars, untagged or tagged `!` or `!!timestamp`; quoted, block and `!!str`
//!   scalars stay as written;
//! * the values of the object's own `metadata.annotations` stay as written: kustomize rewrites
//!   that map as strings before the output (`RemoveBuildAnnotations`). Everywhere else they are
//!   converted, including the items of a `…List` (converted when the list is expanded) and the
//!   annotations of an object in pod templates;
//! * an alias takes the form of the place it is used in, not of its anchor;
//! * a timestamp as a mapping key makes kustomize fail (`json: unsupported type`), and so does
//!   an offset of 24 hours (`Time.MarshalJSON: timezone hour outside of range`): both are
//!   refused here.
//!
//! Not modelled: a JSON 6902 patch round-trips its target through JSON in the middle of the
//! build, after which kustomize converts that object's annotations too (docs/build.md).
//!
//! The rewrite works on the text: each converted scalar is replaced by the double-quoted RFC 3339
//! form before the document is deserialised, so anchors, aliases and merge keys behave as they do
//! for any other string. Files without a `dddd-d` sequence anywhere (nearly all) are not touched.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;

use granit_parser::{Event, Parser, ScalarStyle, Span, Tag};

use crate::sops::gotime::GoTime;

/// Why a file cannot be rendered as kustomize renders it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// 1-based line of the offending node, `None` when the YAML itself is broken.
    pub line: Option<usize>,
    pub message: String,
}

/// True when `text` holds four digits, `-` and a digit with no digit before the four: the
/// shortest beginning of a yaml.v3 timestamp. Everything else skips the event pass.
pub fn may_hold_timestamp(text: &str) -> bool {
    let b = text.as_bytes();
    let mut from = 4;
    while let Some(found) = b.get(from..).and_then(|rest| rest.iter().position(|&c| c == b'-')) {
        let dash = from + found;
        from = dash + 1;
        let year = &b[dash - 4..dash];
        if year.iter().all(u8::is_ascii_digit)
            && b.get(dash + 1).is_some_and(u8::is_ascii_digit)
            && (dash == 4 || !b[dash - 5].is_ascii_digit())
        {
            return true;
        }
    }
    false
}

/// `text` with every plain timestamp value replaced by its quoted RFC 3339 form (see the module
/// docs); borrowed unchanged when there is none.
pub fn rewrite(text: &str) -> Result<Cow<'_, str>, Refused> {
    if !may_hold_timestamp(text) {
        return Ok(Cow::Borrowed(text));
    }
    let edits = Walker::default().run(text)?;
    if edits.is_empty() {
        return Ok(Cow::Borrowed(text));
    }
    let mut out = String::with_capacity(text.len() + edits.len() * 16);
    let mut at = 0;
    for edit in edits {
        out.push_str(&text[at..edit.range.start]);
        out.push_str(&edit.text);
        // A plain scalar can run over several lines; keep the line count so that later errors
        // still name the right line. Blank lines after a value are insignificant in YAML.
        let newlines = text[edit.range.clone()].matches('\n').count();
        out.extend(std::iter::repeat_n('\n', newlines));
        at = edit.range.end;
    }
    out.push_str(&text[at..]);
    Ok(Cow::Owned(out))
}

/// `parse` applied to `text` after [`rewrite`]. A text `parse` refuses is reported with `parse`'s
/// error whatever the date pass found; only a valid text is refused for its dates, through
/// `refused`.
pub fn parse_rewritten<T, E>(
    text: &str,
    parse: impl Fn(&str) -> Result<T, E>,
    refused: impl FnOnce(Refused) -> E,
) -> Result<T, E> {
    match rewrite(text) {
        Ok(rewritten) => parse(&rewritten),
        Err(why) => {
            parse(text)?;
            Err(refused(why))
        }
    }
}

/// yaml.v3's reading of a plain scalar as a timestamp, and Go's JSON form of it. `Err` when Go
/// parses it but cannot write it as JSON.
fn convert(value: &str) -> Option<Result<String, &'static str>> {
    let time = GoTime::parse_yaml(value)?;
    // Go's MarshalJSON refuses years outside 0000–9999 (unreachable from a four-digit year
    // with its own offset, but checked) and offsets of 24 hours or more, which Parse accepts.
    let Some(text) = time.marshal_text() else {
        return Some(Err("its year is outside 0000-9999"));
    };
    let zone = text.len().checked_sub(6).and_then(|i| text.get(i..)).unwrap_or("");
    if (zone.starts_with('+') || zone.starts_with('-')) && zone.get(1..3).is_some_and(|h| h >= "24") {
        return Some(Err("its UTC offset is 24 hours or more"));
    }
    Some(Ok(text))
}

/// yaml.v3 resolves untagged plain scalars, and those tagged `!` (non-specific) or
/// `!!timestamp`.
fn resolvable(tag: Option<&Tag>) -> bool {
    match tag {
        None => true,
        Some(t) => {
            // granit-parser gives the non-specific `!` as an empty handle and the suffix `!`.
            (t.handle().is_empty() && t.suffix() == "!")
                || (t.handle() == "tag:yaml.org,2002:" && t.suffix() == "timestamp")
                || (t.handle().is_empty() && t.suffix() == "tag:yaml.org,2002:timestamp")
        }
    }
}

struct Edit {
    range: Range<usize>,
    text: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum KeyName {
    Metadata,
    Annotations,
    Other,
}

enum Frame {
    Map {
        /// The next node is a key (else a value).
        expect_key: bool,
        last_key: KeyName,
        /// This mapping is the document's `metadata.annotations`.
        annotations: bool,
    },
    Seq,
}

/// A converted scalar with an anchor: what an alias to it must become.
struct Anchored {
    original: String,
    /// `Err` when Go cannot write it as JSON (see [`convert`]).
    converted: Result<String, &'static str>,
    /// The anchored scalar itself was rewritten (it is not an annotation value).
    rewritten: bool,
}

#[derive(Default)]
struct Walker {
    stack: Vec<Frame>,
    anchors: HashMap<usize, Anchored>,
    edits: Vec<Edit>,
    /// End of the previous event, to find a tag written before a scalar.
    last_end: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Key,
    /// A value; `true` inside the document's `metadata.annotations`.
    Value(bool),
}

impl Walker {
    fn run(mut self, text: &str) -> Result<Vec<Edit>, Refused> {
        let mut options = granit_parser::Options::default();
        options.emit_comments = false;
        for event in Parser::new_from_str_with_options(text, options) {
            let (event, span) = event
                .map_err(|e| Refused { line: None, message: format!("line {}: {}", e.marker().line(), e.info()) })?;
            // Only node contents move the start of the gap a tag is looked for in: the spans of
            // end events are not needed and may sit anywhere around the next token.
            let content = matches!(event, Event::Scalar(..) | Event::Alias(_) | Event::DocumentStart(..));
            self.event(text, event, span)?;
            if content && let Some(end) = span.end.byte_offset() {
                self.last_end = self.last_end.max(end);
            }
            // The manifest parser refuses this depth anyway, with its own message.
            if self.stack.len() > super::parse::MAX_DEPTH + 1 {
                return Err(Refused { line: None, message: "too deeply nested".to_owned() });
            }
        }
        Ok(self.edits)
    }

    /// Whether the node that starts now is a key or a value, moving the parent mapping on.
    fn role(&mut self) -> Role {
        match self.stack.last_mut() {
            Some(Frame::Map { expect_key, last_key, annotations }) => {
                let role = if *expect_key {
                    // Set again by a scalar key; a collection or alias key names nothing.
                    *last_key = KeyName::Other;
                    Role::Key
                } else {
                    Role::Value(*annotations)
                };
                *expect_key = !*expect_key;
                role
            }
            _ => Role::Value(false),
        }
    }

    /// `metadata.annotations` of the document's root mapping.
    fn opens_annotations(&self) -> bool {
        matches!(
            self.stack.as_slice(),
            [
                Frame::Map { last_key: KeyName::Metadata, .. },
                Frame::Map { last_key: KeyName::Annotations, expect_key: false, .. }
            ]
        )
    }

    fn event(&mut self, text: &str, event: Event<'_>, span: Span) -> Result<(), Refused> {
        let line = span.start.line();
        match event {
            Event::DocumentStart(..) => self.stack.clear(),
            Event::MappingStart(..) => {
                let annotations = self.opens_annotations();
                self.role();
                self.stack.push(Frame::Map { expect_key: true, last_key: KeyName::Other, annotations });
            }
            Event::SequenceStart(..) => {
                self.role();
                self.stack.push(Frame::Seq);
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
            }
            Event::Scalar(value, style, anchor, tag) => {
                let role = self.role();
                if role == Role::Key
                    && let Some(Frame::Map { last_key, .. }) = self.stack.last_mut()
                {
                    *last_key = match value.as_ref() {
                        "metadata" => KeyName::Metadata,
                        "annotations" => KeyName::Annotations,
                        _ => KeyName::Other,
                    };
                }
                if style != ScalarStyle::Plain || !resolvable(tag.as_deref()) {
                    return Ok(());
                }
                let Some(converted) = convert(&value) else {
                    return Ok(());
                };
                let Role::Value(in_annotations) = role else {
                    return Err(key_refused(line));
                };
                if !in_annotations {
                    let replacement = quoted(converted.as_deref().map_err(|why| unwritable(line, why))?);
                    let range = span.byte_range().ok_or_else(|| no_offsets(line))?;
                    if tag.is_some() {
                        let tag_range = find_tag(text, self.last_end..range.start).ok_or_else(|| Refused {
                            line: Some(line),
                            message: "a tagged unquoted date whose tag cannot be located; quote it".to_owned(),
                        })?;
                        self.edits.push(Edit { text: " ".repeat(tag_range.len()), range: tag_range });
                    }
                    self.edits.push(Edit { range, text: replacement });
                }
                if anchor != 0 {
                    self.anchors.insert(
                        anchor,
                        Anchored { original: value.into_owned(), converted, rewritten: !in_annotations },
                    );
                }
            }
            Event::Alias(id) => {
                let role = self.role();
                if let Some(anchored) = self.anchors.get(&id) {
                    let Role::Value(in_annotations) = role else {
                        return Err(key_refused(line));
                    };
                    if anchored.rewritten == in_annotations {
                        let range = span.byte_range().ok_or_else(|| no_offsets(line))?;
                        let text = if in_annotations {
                            quoted(&anchored.original)
                        } else {
                            quoted(anchored.converted.as_deref().map_err(|why| unwritable(line, why))?)
                        };
                        self.edits.push(Edit { range, text });
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

fn unwritable(line: usize, why: &str) -> Refused {
    Refused {
        line: Some(line),
        message: format!(
            "an unquoted date cannot be written as kustomize writes it: {why} (kustomize fails too); quote it"
        ),
    }
}

fn key_refused(line: usize) -> Refused {
    Refused {
        line: Some(line),
        message: "an unquoted date as a mapping key is not supported (kustomize fails on it too); quote it".to_owned(),
    }
}

fn no_offsets(line: usize) -> Refused {
    Refused { line: Some(line), message: "no source offsets for a date value".to_owned() }
}

/// The text of a timestamp (digits, `-`, `:`, `.`, `T`, `Z`, `+`, spaces) needs no escapes.
fn quoted(s: &str) -> String {
    format!("\"{s}\"")
}

/// The tag token (`!`, `!!timestamp`, `!<…>`) in the text between the previous event and a
/// scalar, for blanking it out.
fn find_tag(text: &str, gap: Range<usize>) -> Option<Range<usize>> {
    let between = text.get(gap.clone())?;
    let bang = between.rfind('!')?;
    let is_token_char = |c: char| !c.is_whitespace() && !matches!(c, '[' | '{' | ',');
    let start = between[..bang].rfind(|c: char| !is_token_char(c)).map_or(0, |i| i + 1);
    let end = between[bang..].find(|c: char| !is_token_char(c)).map_or(between.len(), |i| bang + i);
    between[start..].starts_with('!').then(|| gap.start + start..gap.start + end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(text: &str) -> String {
        rewrite(text).expect("rewrites").into_owned()
    }

    #[test]
    fn precheck_finds_only_date_shapes() {
        assert!(may_hold_timestamp("date: 2024-01-01\n"));
        assert!(may_hold_timestamp("2024-1-4"));
        assert!(!may_hold_timestamp("d5: 20011-1-4\n"));
        assert!(!may_hold_timestamp("name: web-1234-x\nimage: nginx:1.25\n"));
        assert!(!may_hold_timestamp("-2024-"));
        assert!(!may_hold_timestamp(""));
    }

    // Expected values in the tests below: `kubectl kustomize` (v5.5) on the same values in a
    // ConfigMap's `data`.

    #[test]
    fn the_measured_forms() {
        let cases = [
            ("2024-01-01", "\"2024-01-01T00:00:00Z\""),
            ("2001-12-14t21:59:43.10-05:00", "\"2001-12-14T21:59:43.1-05:00\""),
            ("2001-12-14 21:59:43.10", "\"2001-12-14T21:59:43.1Z\""),
            ("2001-1-4", "\"2001-01-04T00:00:00Z\""),
            ("20011-1-4", "20011-1-4"),
            ("2001-13-4", "2001-13-4"),
            ("\"2024-01-01\"", "\"2024-01-01\""),
            ("!!str 2024-01-01", "!!str 2024-01-01"),
            ("2024-01-01T10:00:00+02:00", "\"2024-01-01T10:00:00+02:00\""),
            ("2024-02-29", "\"2024-02-29T00:00:00Z\""),
            ("2023-02-29", "2023-02-29"),
            ("2024-01-01T24:00:00Z", "2024-01-01T24:00:00Z"),
            ("2024-01-01T23:59:60Z", "2024-01-01T23:59:60Z"),
            ("2024-01-01T01:02:03.123456789123Z", "\"2024-01-01T01:02:03.123456789Z\""),
            ("2024-01-01T01:02:03.000Z", "\"2024-01-01T01:02:03Z\""),
            ("2024-01-01T01:02:03,5Z", "\"2024-01-01T01:02:03.5Z\""),
            ("2024-01-01T01:02:03+05", "2024-01-01T01:02:03+05"),
            ("2024-01-01T01:02:03+05:60", "\"2024-01-01T01:02:03+06:00\""),
            ("2024-01-01T01:02:03+25:00", "2024-01-01T01:02:03+25:00"),
            ("2024-01-01T01:02:03-00:00", "\"2024-01-01T01:02:03Z\""),
            ("2024-01-01  1:2:3", "\"2024-01-01T01:02:03Z\""),
            ("2024-1-1T1:2:3Z", "\"2024-01-01T01:02:03Z\""),
            ("0000-01-01", "\"0000-01-01T00:00:00Z\""),
            ("2024-01-01T01:02Z", "2024-01-01T01:02Z"),
            ("2024-01-01T01:02:03.Z", "2024-01-01T01:02:03.Z"),
            ("2024-01-01 01:02:03Z", "2024-01-01 01:02:03Z"),
            ("!custom 2024-01-01", "!custom 2024-01-01"),
        ];
        for (input, want) in cases {
            assert_eq!(out(&format!("k: {input}\n")), format!("k: {want}\n"), "{input}");
        }
        // Explicit `!!timestamp` and the non-specific `!` resolve too; the tag is blanked.
        assert_eq!(out("t1: !!timestamp 2024-01-01\n"), format!("t1: {} \"2024-01-01T00:00:00Z\"\n", " ".repeat(11)));
        assert_eq!(out("t3: ! 2024-01-01\n"), "t3:   \"2024-01-01T00:00:00Z\"\n");
    }

    #[test]
    fn block_scalars_and_flow_collections() {
        assert_eq!(out("lit: |\n  2024-01-01\n"), "lit: |\n  2024-01-01\n");
        assert_eq!(
            out("fl: [2024-01-01, \"2024-01-01\", {a: 2024-01-01}]\n"),
            "fl: [\"2024-01-01T00:00:00Z\", \"2024-01-01\", {a: \"2024-01-01T00:00:00Z\"}]\n"
        );
    }

    #[test]
    fn a_plain_scalar_over_two_lines_keeps_the_line_count() {
        // kubectl: `e: 2001-12-14\n    21:59:43.10` -> "2001-12-14T21:59:43.1Z".
        assert_eq!(out("e: 2001-12-14\n  21:59:43.10\nf: 1\n"), "e: \"2001-12-14T21:59:43.1Z\"\n\nf: 1\n");
    }

    #[test]
    fn root_annotations_stay_but_nested_ones_do_not() {
        let text = "metadata:\n  annotations: {a: 2024-01-01}\n  labels: {l: 2024-01-01}\nspec:\n  template:\n    metadata:\n      annotations:\n        pa: 2024-01-01\n";
        let want = "metadata:\n  annotations: {a: 2024-01-01}\n  labels: {l: \"2024-01-01T00:00:00Z\"}\nspec:\n  template:\n    metadata:\n      annotations:\n        pa: \"2024-01-01T00:00:00Z\"\n";
        assert_eq!(out(text), want);
        // A `…List` is expanded through JSON: its items' annotations are converted.
        let list = "kind: List\nitems:\n- metadata:\n    annotations: {a: 2024-01-01}\n";
        assert_eq!(out(list), "kind: List\nitems:\n- metadata:\n    annotations: {a: \"2024-01-01T00:00:00Z\"}\n");
        // Each document of a stream has its own root.
        assert_eq!(
            out("metadata: {annotations: {a: 2024-01-01}}\n---\nmetadata: {annotations: {a: 2024-01-02}}\n"),
            "metadata: {annotations: {a: 2024-01-01}}\n---\nmetadata: {annotations: {a: 2024-01-02}}\n"
        );
    }

    #[test]
    fn aliases_take_the_form_of_where_they_are_used() {
        // kubectl: anchor in data, alias in the root annotations -> the annotation keeps the
        // text; anchor in the annotations, alias in data -> data is converted.
        assert_eq!(
            out("data: {d: &x 2024-01-01}\nmetadata: {annotations: {a: *x}}\n"),
            "data: {d: &x \"2024-01-01T00:00:00Z\"}\nmetadata: {annotations: {a: \"2024-01-01\"}}\n"
        );
        assert_eq!(
            out("metadata: {annotations: {a: &x 2024-01-01}}\ndata: {d: *x}\n"),
            "metadata: {annotations: {a: &x 2024-01-01}}\ndata: {d: \"2024-01-01T00:00:00Z\"}\n"
        );
        assert_eq!(out("a: &y 2024-01-02\nb: *y\n"), "a: &y \"2024-01-02T00:00:00Z\"\nb: *y\n");
    }

    #[test]
    fn refusals_where_kustomize_fails() {
        let err = rewrite("data:\n  2024-01-03: k\n").unwrap_err();
        assert_eq!(err.line, Some(2));
        assert!(err.message.contains("mapping key"), "{}", err.message);
        // Even inside the root annotations (kubectl: `json: unsupported type`).
        assert!(rewrite("metadata:\n  annotations: {2024-01-01: a}\n").is_err());
        let err = rewrite("a: 2024-01-01T01:02:03+24:00\n").unwrap_err();
        assert!(err.message.contains("24 hours"), "{}", err.message);
        // In the root annotations the text is kept, so kustomize writes it (kubectl: unchanged),
        // but not through an alias elsewhere.
        let annotated = "metadata:\n  annotations: {a: &t 2024-01-01T01:02:03+24:00}\n";
        assert_eq!(out(annotated), annotated);
        assert!(rewrite(&format!("{annotated}data: {{d: *t}}\n")).is_err());
        // Quoted keys are fine.
        assert_eq!(out("\"2024-01-02\": k\n"), "\"2024-01-02\": k\n");
    }

    #[test]
    fn json_is_untouched() {
        let text = r#"{"kind": "ConfigMap", "data": {"d": "2024-01-01"}}"#;
        assert!(matches!(rewrite(text), Ok(Cow::Borrowed(_))));
    }
}
