//! The YAML/JSON stream parser for manifests from Git: size, alias and depth budgets, errors
//! with file and line and without anything quoted from the input (it can hold plaintext).
//!
//! Scalars resolve as kustomize's YAML library does (checked against `kubectl kustomize`,
//! v5.5): only `true`/`false` are booleans (`yes`, `on` stay strings), `0755` is octal, and an
//! unquoted date becomes the RFC 3339 string kustomize prints ([`super::timestamp`]).

use serde_json::{Map, Value};
use serde_saphyr::{Budget, DuplicateKeyPolicy, Options};

/// Flux's limit for one manifest file (`maxEncryptedFileSize`, flux.md §2.6), also kustomize's
/// order of magnitude for a sane manifest.
pub const MAX_FILE_BYTES: usize = 5 << 20;

/// Nesting deeper than this (block or flow) is refused. CRD schemas are the deepest real
/// manifests and stay well under 64 levels; the limit keeps a hostile file from exhausting the
/// stack of the recursive deserialiser (a 2 MiB thread stack, debug build, holds 64).
pub const MAX_DEPTH: usize = 64;

/// Alias (`*ref`) events per file. Real manifests rarely use anchors at all.
pub const MAX_ALIASES: usize = 10_000;

/// Events replayed through aliases per file: bounds the "billion laughs" expansion.
pub const MAX_ALIAS_REPLAY: usize = 1_000_000;

#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("{file}: file is {size} bytes, over the limit of {limit} bytes")]
    TooLarge { file: String, size: usize, limit: usize },
    #[error("{file}: not valid UTF-8")]
    NotUtf8 { file: String },
    #[error("{file}: line {line}: {message}")]
    Yaml { file: String, line: u64, message: String },
    #[error("{file}: {message}")]
    YamlNoLine { file: String, message: String },
    #[error("{file}: line {line}: {message}")]
    Date { file: String, line: usize, message: String },
    #[error("{file}: document {index}: {message}")]
    NotObject { file: String, index: usize, message: String },
}

impl ParseError {
    pub fn kind(&self) -> &'static str {
        match self {
            ParseError::TooLarge { .. } => "file-too-large",
            ParseError::NotUtf8 { .. } | ParseError::Yaml { .. } | ParseError::YamlNoLine { .. } => "invalid-yaml",
            ParseError::Date { .. } => "unsupported-date",
            ParseError::NotObject { .. } => "invalid-object",
        }
    }
}

/// The parser options every manifest goes through.
fn options() -> Options {
    let mut budget = Budget::default();
    budget.max_depth = MAX_DEPTH;
    budget.flow_nesting_limit = MAX_DEPTH;
    budget.max_aliases = MAX_ALIASES;
    // A 5 MiB file of one-character list items has ~1.3 M nodes; the defaults (250 k nodes,
    // 1 M events) would refuse legitimate large CRD bundles.
    budget.max_nodes = 4_000_000;
    budget.max_events = 8_000_000;
    budget.max_documents = 100_000;
    let mut options = Options::default();
    options.budget = Some(budget);
    options.alias_limits.max_total_replayed_events = MAX_ALIAS_REPLAY;
    // kustomize's YAML library (yaml.v3, YAML 1.2 booleans) and its octal integers.
    options.strict_booleans = true;
    options.legacy_octal_numbers = true;
    // yaml.v3 refuses a mapping key given twice; so do we rather than pick one silently.
    options.duplicate_keys = DuplicateKeyPolicy::Error;
    // The snippet would quote input lines into the error, and input lines can be secrets.
    options.with_snippet = false;
    options
}

fn check_size(file: &str, bytes: &[u8]) -> Result<(), ParseError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(ParseError::TooLarge { file: file.to_owned(), size: bytes.len(), limit: MAX_FILE_BYTES });
    }
    Ok(())
}

/// The YAML (or JSON) documents of a resource file as values, empty documents skipped, unquoted
/// dates rewritten as kustomize writes them. `file` names the source in errors.
pub fn parse_documents(file: &str, bytes: &[u8]) -> Result<Vec<Value>, ParseError> {
    check_size(file, bytes)?;
    let text = std::str::from_utf8(bytes).map_err(|_| ParseError::NotUtf8 { file: file.to_owned() })?;
    // A byte-order mark is legal at the start of a YAML stream; serde-saphyr handles it, but
    // strip it for JSON-looking input too.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    super::timestamp::parse_rewritten(
        text,
        |text| serde_saphyr::from_multiple_with_options::<Value>(text, options()).map_err(|e| yaml_error(file, &e)),
        |refused| match refused.line {
            Some(line) => ParseError::Date { file: file.to_owned(), line, message: refused.message },
            None => ParseError::YamlNoLine { file: file.to_owned(), message: refused.message },
        },
    )
}

/// One YAML document (a patch): `None` if the text holds no document.
pub fn parse_single(file: &str, bytes: &[u8]) -> Result<Option<Value>, ParseError> {
    single(file, parse_documents(file, bytes)?)
}

/// A kustomization file. kustomize decodes these through sigs.k8s.io/yaml, i.e. YAML 1.1, where
/// `y`, `yes`, `on`, `off` … are booleans: `commonLabels: {x: y}` is a boolean label value and
/// the build fails, unlike in resource files (kyaml, YAML 1.2). Same limits otherwise.
pub fn parse_kustomization(file: &str, bytes: &[u8]) -> Result<Option<Value>, ParseError> {
    check_size(file, bytes)?;
    let text = std::str::from_utf8(bytes).map_err(|_| ParseError::NotUtf8 { file: file.to_owned() })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut options = options();
    options.strict_booleans = false;
    let docs = serde_saphyr::from_multiple_with_options::<Value>(text, options).map_err(|e| yaml_error(file, &e))?;
    single(file, docs)
}

fn single(file: &str, mut docs: Vec<Value>) -> Result<Option<Value>, ParseError> {
    match docs.len() {
        0 => Ok(None),
        1 => Ok(docs.pop()),
        n => Err(ParseError::YamlNoLine {
            file: file.to_owned(),
            message: format!("expected one YAML document, found {n}"),
        }),
    }
}

/// The Kubernetes objects of a manifest file: every document must be a mapping; empty ones are
/// skipped, and `*List` objects with `items` are replaced by their items, which kustomize
/// queues after the file's other documents (`inlineAnyEmbeddedLists`).
pub fn parse_objects(file: &str, bytes: &[u8]) -> Result<Vec<Map<String, Value>>, ParseError> {
    let docs = parse_documents(file, bytes)?;
    let mut queue: std::collections::VecDeque<(usize, Value)> = docs.into_iter().enumerate().collect();
    let mut out = Vec::new();
    while let Some((index, doc)) = queue.pop_front() {
        let Value::Object(map) = doc else {
            return Err(ParseError::NotObject {
                file: file.to_owned(),
                index: index + 1,
                message: format!("expected a mapping (a Kubernetes object), found {}", type_name(&doc)),
            });
        };
        if map.is_empty() {
            continue;
        }
        let is_list = map.get("kind").and_then(Value::as_str).is_some_and(|k| k.ends_with("List"));
        if is_list && map.contains_key("items") {
            let mut map = map;
            match map.remove("items") {
                Some(Value::Array(items)) => queue.extend(items.into_iter().map(|item| (index, item))),
                Some(Value::Null) | None => {}
                Some(other) => {
                    return Err(ParseError::NotObject {
                        file: file.to_owned(),
                        index: index + 1,
                        message: format!("items: expected a list, found {}", type_name(&other)),
                    });
                }
            }
            continue;
        }
        out.push(map);
    }
    Ok(out)
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn yaml_error(file: &str, e: &serde_saphyr::Error) -> ParseError {
    let text = e.to_string();
    // The first line is the message; later lines (if any) quote the input.
    let message = text.lines().next().unwrap_or("invalid YAML").to_owned();
    match e.location().map(|l| l.line()).filter(|&l| l > 0) {
        Some(line) => ParseError::Yaml { file: file.to_owned(), line, message: strip_position(&message) },
        None => ParseError::YamlNoLine { file: file.to_owned(), message },
    }
}

/// serde-saphyr ends some messages with its own ` at line L column C`; we print the line
/// ourselves.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objects(text: &str) -> Result<Vec<Map<String, Value>>, ParseError> {
        parse_objects("f.yaml", text.as_bytes())
    }

    #[test]
    fn multi_document_stream_skips_empty_documents() {
        let got = objects("---\n---\napiVersion: v1\nkind: A\n---\n# only a comment\n---\n{}\n---\nkind: B\n").unwrap();
        let kinds: Vec<_> = got.iter().map(|o| o["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["A", "B"]);
    }

    #[test]
    fn lists_are_flattened_after_the_other_documents() {
        let text = "kind: List\nitems:\n- kind: A\n- kind: B\n---\nkind: C\n---\nkind: EmptyList\nitems: null\n---\nkind: NoItemsList\n";
        let got = objects(text).unwrap();
        let kinds: Vec<_> = got.iter().map(|o| o["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["C", "NoItemsList", "A", "B"]);
    }

    #[test]
    fn json_parses_too() {
        let got = objects(r#"{"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "1"}}"#).unwrap();
        assert_eq!(got[0]["data"]["a"], "1");
    }

    #[test]
    fn scalars_resolve_like_kustomize() {
        // Expected values: `kubectl kustomize` prints these as "yes", 493, 15, true, null, 1000.
        let got = objects("kind: A\nv: [yes, 0755, 0o17, true, null, 1e3, on, '0755']\n").unwrap();
        let v = got[0]["v"].as_array().unwrap();
        assert_eq!(v[0], "yes");
        assert_eq!(v[1], 493);
        assert_eq!(v[2], 15);
        assert_eq!(v[3], true);
        assert_eq!(v[4], Value::Null);
        assert_eq!(v[5].as_f64(), Some(1000.0));
        assert_eq!(v[6], "on");
        assert_eq!(v[7], "0755");
    }

    #[test]
    fn unquoted_dates_are_written_as_kustomize_writes_them() {
        // Expected values: `kubectl kustomize` on the same resource.
        let got =
            objects("kind: A\nmetadata:\n  annotations: {a: 2024-01-01}\nv: [2024-01-01, '2024-01-01']\n").unwrap();
        assert_eq!(got[0]["metadata"]["annotations"]["a"], "2024-01-01");
        assert_eq!(got[0]["v"][0], "2024-01-01T00:00:00Z");
        assert_eq!(got[0]["v"][1], "2024-01-01");
        let err = objects("kind: A\ndata:\n  2024-01-01: x\n").unwrap_err();
        assert_eq!(err.kind(), "unsupported-date");
        assert!(err.to_string().starts_with("f.yaml: line 3: "), "{err}");
        // Broken YAML is reported by the YAML parser, dates or not.
        assert_eq!(objects("kind: A\nd: 2024-01-01\nx: [\n").unwrap_err().kind(), "invalid-yaml");
    }

    #[test]
    fn oversized_file_is_refused_before_parsing() {
        let big = vec![b'a'; MAX_FILE_BYTES + 1];
        let err = parse_objects("big.yaml", &big).unwrap_err();
        assert_eq!(err.kind(), "file-too-large");
        assert!(err.to_string().starts_with("big.yaml: file is 5242881 bytes"), "{err}");
    }

    #[test]
    fn alias_bomb_is_refused() {
        let mut text = String::from("kind: A\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let prev = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        let err = objects(&text).unwrap_err();
        assert_eq!(err.kind(), "invalid-yaml");
        assert!(err.to_string().starts_with("f.yaml"), "{err}");
    }

    #[test]
    fn deep_nesting_is_refused() {
        let flow = |depth: usize| format!("kind: A\nv: {}{}\n", "[".repeat(depth), "]".repeat(depth));
        let block = |depth: usize| {
            let mut text = String::from("kind: A\n");
            for i in 0..depth {
                text.push_str(&" ".repeat(i));
                text.push_str("k:\n");
            }
            text
        };
        assert!(objects(&flow(MAX_DEPTH + 10)).is_err());
        assert!(objects(&block(MAX_DEPTH + 10)).is_err());
        assert!(objects(&flow(10_000)).is_err());
        assert!(objects(&flow(MAX_DEPTH - 4)).is_ok());
        assert!(objects(&block(MAX_DEPTH - 4)).is_ok());
    }

    #[test]
    fn errors_name_file_and_line_without_quoting_input() {
        let err = objects("kind: A\nmetadata:\n  name: secret-value\n  bad: [unclosed\n").unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("f.yaml: line "), "{msg}");
        assert!(!msg.contains("secret-value"), "{msg}");
        let err = objects("kind: A\nkind: B\n").unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
    }

    #[test]
    fn non_mapping_documents_are_errors() {
        let err = objects("kind: A\n---\n- a\n- b\n").unwrap_err();
        assert_eq!(err.to_string(), "f.yaml: document 2: expected a mapping (a Kubernetes object), found a list");
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        assert_eq!(parse_objects("f.yaml", b"kind: \xff\n").unwrap_err().kind(), "invalid-yaml");
    }
}
