//! JSON merge patch (RFC 7386) and JSON patch (RFC 6902) on `serde_json::Value`.
//!
//! Strategic merge patch is served as a merge patch: lists are replaced, not merged by key, and
//! `$patch`/`$retainKeys` directives are not interpreted (see the table in the crate docs).

use serde_json::Value;

/// Applies an RFC 7386 merge patch in place: objects merge, `null` deletes, anything else
/// replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    if let Value::Object(t) = target {
        for (k, v) in p {
            if v.is_null() {
                t.remove(k);
            } else {
                merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

/// Unescapes one RFC 6901 reference token.
fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

/// Splits a JSON pointer into its parent pointer and last token.
fn split_last(path: &str) -> Result<(&str, String), String> {
    let idx = path.rfind('/').ok_or_else(|| format!("invalid JSON pointer \"{path}\""))?;
    Ok((&path[..idx], unescape(&path[idx + 1..])))
}

fn remove_at(doc: &mut Value, path: &str) -> Result<Value, String> {
    let (parent, last) = split_last(path)?;
    match doc.pointer_mut(parent) {
        Some(Value::Object(m)) => m.remove(&last).ok_or_else(|| format!("unable to remove nonexistent key: {last}")),
        Some(Value::Array(a)) => {
            let i: usize = last.parse().map_err(|_| format!("invalid array index \"{last}\" in \"{path}\""))?;
            if i < a.len() { Ok(a.remove(i)) } else { Err(format!("index {i} out of bounds in \"{path}\"")) }
        }
        _ => Err(format!("doc is missing path: \"{path}\"")),
    }
}

fn add_at(doc: &mut Value, path: &str, value: Value) -> Result<(), String> {
    if path.is_empty() {
        *doc = value;
        return Ok(());
    }
    let (parent, last) = split_last(path)?;
    match doc.pointer_mut(parent) {
        Some(Value::Object(m)) => {
            m.insert(last, value);
            Ok(())
        }
        Some(Value::Array(a)) => {
            let i = if last == "-" {
                a.len()
            } else {
                last.parse().map_err(|_| format!("invalid array index \"{last}\" in \"{path}\""))?
            };
            if i > a.len() {
                return Err(format!("index {i} out of bounds in \"{path}\""));
            }
            a.insert(i, value);
            Ok(())
        }
        _ => Err(format!("doc is missing path: \"{path}\"")),
    }
}

/// Applies an RFC 6902 JSON patch (an array of operations); all or nothing.
pub fn json_patch(doc: &mut Value, patch: &Value) -> Result<(), String> {
    let ops = patch.as_array().ok_or("a JSON patch must be an array of operations")?;
    let mut work = doc.clone();
    for (i, op) in ops.iter().enumerate() {
        let name = op.get("op").and_then(Value::as_str).ok_or_else(|| format!("operation {i}: missing \"op\""))?;
        let path = op.get("path").and_then(Value::as_str).ok_or_else(|| format!("operation {i}: missing \"path\""))?;
        let value = || op.get("value").cloned().ok_or_else(|| format!("operation {i} ({name}): missing \"value\""));
        let from = || {
            op.get("from").and_then(Value::as_str).ok_or_else(|| format!("operation {i} ({name}): missing \"from\""))
        };
        match name {
            "add" => add_at(&mut work, path, value()?)?,
            "remove" => {
                remove_at(&mut work, path)?;
            }
            "replace" => {
                if work.pointer(path).is_none() {
                    return Err(format!("replace operation does not apply: doc is missing key: {path}"));
                }
                let v = value()?;
                if let Some(slot) = work.pointer_mut(path) {
                    *slot = v;
                }
            }
            "move" => {
                let v = remove_at(&mut work, from()?)?;
                add_at(&mut work, path, v)?;
            }
            "copy" => {
                let v = work
                    .pointer(from()?)
                    .cloned()
                    .ok_or_else(|| format!("copy operation: doc is missing from path {path}"))?;
                add_at(&mut work, path, v)?;
            }
            "test" => {
                if work.pointer(path) != Some(&value()?) {
                    return Err(format!("testing value {path} failed"));
                }
            }
            other => return Err(format!("Unexpected kind: {other}")),
        }
    }
    *doc = work;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // Cases from RFC 7386 appendix A.
    #[test]
    fn merge_patch_rfc_examples() {
        let cases = [
            (json!({"a": "b"}), json!({"a": "c"}), json!({"a": "c"})),
            (json!({"a": "b"}), json!({"b": "c"}), json!({"a": "b", "b": "c"})),
            (json!({"a": "b"}), json!({"a": null}), json!({})),
            (json!({"a": [{"b": "c"}]}), json!({"a": [1]}), json!({"a": [1]})),
            (json!({"e": null}), json!({"a": 1}), json!({"e": null, "a": 1})),
            (json!([1, 2]), json!({"a": "b", "c": null}), json!({"a": "b"})),
            (json!({}), json!({"a": {"bb": {"ccc": null}}}), json!({"a": {"bb": {}}})),
        ];
        for (mut target, patch, want) in cases {
            merge_patch(&mut target, &patch);
            assert_eq!(target, want, "patch {patch}");
        }
    }

    // Cases from RFC 6902 appendix A.
    #[test]
    fn json_patch_rfc_examples() {
        let mut doc = json!({"foo": ["bar", "baz"], "a/b": 1});
        json_patch(
            &mut doc,
            &json!([
                {"op": "add", "path": "/foo/1", "value": "qux"},
                {"op": "remove", "path": "/a~1b"},
                {"op": "replace", "path": "/foo/0", "value": "x"},
                {"op": "copy", "from": "/foo/0", "path": "/c"},
                {"op": "move", "from": "/c", "path": "/d"},
                {"op": "add", "path": "/foo/-", "value": "end"},
                {"op": "test", "path": "/d", "value": "x"},
            ]),
        )
        .expect("applies");
        assert_eq!(doc, json!({"foo": ["x", "qux", "baz", "end"], "d": "x"}));
    }

    #[test]
    fn failed_json_patch_leaves_the_document_unchanged() {
        let mut doc = json!({"a": 1});
        let err = json_patch(
            &mut doc,
            &json!([{"op": "add", "path": "/b", "value": 2}, {"op": "test", "path": "/a", "value": 5}]),
        )
        .expect_err("test op fails");
        assert!(err.contains("/a"), "{err}");
        assert_eq!(doc, json!({"a": 1}));
    }
}
