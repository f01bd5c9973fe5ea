//! JSON patch (RFC 6902), with the behaviour of the library kustomize uses
//! (`evanphx/json-patch` v4): `add`/`remove` accept a negative array index counted from the
//! end, `add` without `value` adds `null`, and `remove`/`replace` need the target to exist.

use serde_json::{Map, Value};

/// One operation of a patch. `value` is kept as given (it may be absent).
#[derive(Clone, Debug)]
pub struct Operation {
    pub op: String,
    pub path: String,
    pub from: Option<String>,
    pub value: Option<Value>,
}

#[derive(Debug, thiserror::Error)]
pub enum Json6902Error {
    #[error("not a JSON 6902 patch: {0}")]
    Parse(String),
    #[error("operation {index} ({op} {path}): {message}")]
    Op { index: usize, op: String, path: String, message: String },
}

impl Json6902Error {
    pub fn kind(&self) -> &'static str {
        match self {
            Json6902Error::Parse(_) => "json6902-parse",
            Json6902Error::Op { .. } => "json6902-op",
        }
    }
}

/// Parses an operation list written as JSON (text starting with `[`) or YAML (the first
/// document, as `yaml.YAMLToJSON` reads it), as kustomize's `jsonPatchFromBytes` does.
pub fn parse(text: &str) -> Result<Vec<Operation>, Json6902Error> {
    if text.is_empty() {
        return Err(Json6902Error::Parse("empty json patch operations".to_owned()));
    }
    let doc: Value = if text.starts_with('[') {
        serde_json::from_str(text).map_err(|e| Json6902Error::Parse(e.to_string()))?
    } else {
        let docs: Vec<Value> =
            serde_saphyr::from_multiple(text).map_err(|e| Json6902Error::Parse(first_line(&e.to_string())))?;
        docs.into_iter().next().unwrap_or(Value::Null)
    };
    let Value::Array(items) = doc else {
        return Err(Json6902Error::Parse("expected a list of operations".to_owned()));
    };
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| {
            let Value::Object(mut map) = item else {
                return Err(Json6902Error::Parse(format!("operation {index} is not a map")));
            };
            let text = |map: &mut Map<String, Value>, field: &str| match map.remove(field) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s)),
                Some(_) => Err(Json6902Error::Parse(format!("operation {index}: `{field}` must be a string"))),
            };
            Ok(Operation {
                op: text(&mut map, "op")?.unwrap_or_default(),
                path: text(&mut map, "path")?.unwrap_or_default(),
                from: text(&mut map, "from")?,
                value: map.remove("value"),
            })
        })
        .collect()
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().to_owned()
}

/// Applies the operations in order; the document is unchanged when one fails.
pub fn apply(doc: &mut Value, ops: &[Operation]) -> Result<(), Json6902Error> {
    let mut work = doc.clone();
    for (index, op) in ops.iter().enumerate() {
        apply_one(&mut work, op).map_err(|message| Json6902Error::Op {
            index,
            op: op.op.clone(),
            path: op.path.clone(),
            message,
        })?;
    }
    *doc = work;
    Ok(())
}

fn apply_one(doc: &mut Value, op: &Operation) -> Result<(), String> {
    match op.op.as_str() {
        "add" => add(doc, &op.path, op.value.clone().unwrap_or(Value::Null)),
        "remove" => remove(doc, &op.path).map(drop),
        "replace" => {
            let target = get_mut(doc, &op.path)?
                .ok_or_else(|| "replace operation does not apply: doc is missing key".to_owned())?;
            *target = op.value.clone().unwrap_or(Value::Null);
            Ok(())
        }
        "move" => {
            let from = op.from.as_deref().ok_or("missing `from`")?;
            if op.path.starts_with(from) && op.path[from.len()..].starts_with('/') {
                return Err(format!("cannot move {from} into its own child"));
            }
            let value = remove(doc, from)?;
            add(doc, &op.path, value)
        }
        "copy" => {
            let from = op.from.as_deref().ok_or("missing `from`")?;
            let value = get_mut(doc, from)?
                .ok_or_else(|| format!("copy operation does not apply: doc is missing from path {from}"))?
                .clone();
            add(doc, &op.path, value)
        }
        "test" => {
            let want = op.value.clone().unwrap_or(Value::Null);
            match get_mut(doc, &op.path)? {
                Some(found) if *found == want => Ok(()),
                Some(_) => Err("test failed: the value differs".to_owned()),
                None if want.is_null() => Ok(()),
                None => Err("test failed: the path does not exist".to_owned()),
            }
        }
        "" => Err("missing `op`".to_owned()),
        other => Err(format!("unknown operation `{other}`")),
    }
}

/// Splits an RFC 6901 pointer into unescaped tokens (`~1` is `/`, `~0` is `~`).
fn tokens(pointer: &str) -> Result<Vec<String>, String> {
    if pointer.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = pointer.strip_prefix('/') else {
        return Err(format!("path {pointer:?} does not start with /"));
    };
    Ok(rest.split('/').map(|t| t.replace("~1", "/").replace("~0", "~")).collect())
}

fn index(token: &str, len: usize, allow_end: bool) -> Result<usize, String> {
    let bound = if allow_end { len + 1 } else { len };
    let parsed: i64 = token.parse().map_err(|_| format!("{token:?} is not an array index"))?;
    let resolved = if parsed < 0 { parsed + len as i64 } else { parsed };
    if parsed < -(bound as i64) || resolved < 0 || resolved as usize >= bound {
        return Err(format!("array index {token} out of bounds"));
    }
    Ok(resolved as usize)
}

/// The container of the pointer's last token, and that token.
fn parent<'a>(doc: &'a mut Value, pointer: &str) -> Result<(&'a mut Value, String), String> {
    let mut toks = tokens(pointer)?;
    let last = toks.pop().ok_or("the operation needs a path inside the document")?;
    let mut cur = doc;
    for tok in &toks {
        cur = match cur {
            Value::Object(map) => map.get_mut(tok),
            Value::Array(items) => {
                let i = index(tok, items.len(), false)?;
                items.get_mut(i)
            }
            _ => None,
        }
        .ok_or_else(|| format!("doc is missing path {pointer}"))?;
    }
    Ok((cur, last))
}

fn get_mut<'a>(doc: &'a mut Value, pointer: &str) -> Result<Option<&'a mut Value>, String> {
    if pointer.is_empty() {
        return Ok(Some(doc));
    }
    let (container, last) = match parent(doc, pointer) {
        Ok(found) => found,
        Err(_) => return Ok(None),
    };
    Ok(match container {
        Value::Object(map) => map.get_mut(&last),
        Value::Array(items) => match index(&last, items.len(), false) {
            Ok(i) => items.get_mut(i),
            Err(_) => None,
        },
        _ => None,
    })
}

fn add(doc: &mut Value, pointer: &str, value: Value) -> Result<(), String> {
    if pointer.is_empty() {
        *doc = value;
        return Ok(());
    }
    let (container, last) = parent(doc, pointer).map_err(|e| format!("add operation does not apply: {e}"))?;
    match container {
        Value::Object(map) => {
            map.insert(last, value);
            Ok(())
        }
        Value::Array(items) => {
            let i = if last == "-" { items.len() } else { index(&last, items.len(), true)? };
            items.insert(i, value);
            Ok(())
        }
        _ => Err(format!("add operation does not apply: {pointer} is inside a scalar")),
    }
}

fn remove(doc: &mut Value, pointer: &str) -> Result<Value, String> {
    let (container, last) = parent(doc, pointer).map_err(|e| format!("remove operation does not apply: {e}"))?;
    match container {
        Value::Object(map) => {
            map.shift_remove(&last).ok_or_else(|| format!("Unable to remove nonexistent key: {last}"))
        }
        Value::Array(items) => {
            let i = index(&last, items.len(), false)?;
            Ok(items.remove(i))
        }
        _ => Err(format!("remove operation does not apply: {pointer} is inside a scalar")),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn run(doc: Value, patch: &str) -> Result<Value, Json6902Error> {
        let mut doc = doc;
        apply(&mut doc, &parse(patch)?)?;
        Ok(doc)
    }

    /// RFC 6901 §5: `~1` is `/` and `~0` is `~`; the order of unescaping matters (`~01`).
    #[test]
    fn pointer_tokens_unescape_in_rfc_order() {
        let doc = json!({"a/b": 1, "m~n": 2, "~1": 3});
        assert_eq!(run(doc.clone(), r#"[{"op":"test","path":"/a~1b","value":1}]"#).ok(), Some(doc.clone()));
        assert_eq!(run(doc.clone(), r#"[{"op":"test","path":"/m~0n","value":2}]"#).ok(), Some(doc.clone()));
        assert_eq!(run(doc.clone(), r#"[{"op":"test","path":"/~01","value":3}]"#).ok(), Some(doc));
    }

    /// RFC 6902 appendix A.2, A.4, A.6, A.7, A.16 (array insert, remove, move, append).
    #[test]
    fn rfc_examples() {
        let out = run(json!({"foo": ["bar", "baz"]}), r#"[{"op":"add","path":"/foo/1","value":"qux"}]"#);
        assert_eq!(out.ok(), Some(json!({"foo": ["bar", "qux", "baz"]})));
        let out = run(json!({"foo": ["bar", "qux", "baz"]}), r#"[{"op":"remove","path":"/foo/1"}]"#);
        assert_eq!(out.ok(), Some(json!({"foo": ["bar", "baz"]})));
        let doc = json!({"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}});
        let out = run(doc, r#"[{"op":"move","from":"/foo/waldo","path":"/qux/thud"}]"#);
        assert_eq!(out.ok(), Some(json!({"foo": {"bar": "baz"}, "qux": {"corge": "grault", "thud": "fred"}})));
        let out = run(json!({"foo": ["bar"]}), r#"[{"op":"add","path":"/foo/-","value":["abc","def"]}]"#);
        assert_eq!(out.ok(), Some(json!({"foo": ["bar", ["abc", "def"]]})));
    }

    /// RFC 6902 A.9 (failed test) and A.12 (add to a nonexistent target): the error names
    /// the operation's index and path, and the document is left as it was.
    #[test]
    fn errors_name_the_operation_and_leave_the_document() {
        let mut doc = json!({"baz": "qux", "foo": ["a", 2, "c"]});
        let ops =
            parse("- op: add\n  path: /new\n  value: 1\n- op: test\n  path: /baz\n  value: bar\n").expect("parses");
        let err = apply(&mut doc, &ops).expect_err("test fails");
        assert!(matches!(&err, Json6902Error::Op { index: 1, path, .. } if path == "/baz"), "{err}");
        assert_eq!(doc, json!({"baz": "qux", "foo": ["a", 2, "c"]}));
        let err =
            run(json!({"foo": "bar"}), r#"[{"op":"add","path":"/baz/bat","value":"qux"}]"#).expect_err("no parent");
        assert!(err.to_string().contains("operation 0 (add /baz/bat)"), "{err}");
        let err = run(json!({"a": [1]}), r#"[{"op":"replace","path":"/a/5","value":0}]"#).expect_err("out of range");
        assert!(err.to_string().contains("/a/5"), "{err}");
        let err = run(json!({}), r#"[{"op":"frobnicate","path":"/a"}]"#).expect_err("unknown op");
        assert!(err.to_string().contains("frobnicate"), "{err}");
    }

    #[test]
    fn parse_rejects_what_kustomize_rejects() {
        assert!(parse("").is_err());
        assert!(parse("kind: ConfigMap\n").is_err());
        assert!(parse("[1, 2]").is_err());
        assert_eq!(parse("[]").map(|ops| ops.len()).ok(), Some(0));
    }
}
