//! The content-hash name suffix of generated ConfigMaps and Secrets, exactly as kustomize
//! computes it. Owner: the generator work package.
//!
//! Kustomize (`api/hasher/hasher.go`, v5.5) hashes a small JSON document built from the object:
//! `{"data":…,"kind":"ConfigMap","name":…}` (plus `binaryData` when it is a map) for a ConfigMap
//! and `{"data":…,"kind":"Secret","name":…,"type":…}` (plus `stringData` when it is a map) for a
//! Secret, encoded the way Go's `encoding/json` encodes a `map[string]interface{}`: keys sorted,
//! no spaces, `<`, `>`, `&`, U+2028 and U+2029 escaped. The suffix is the first ten hex digits of
//! the SHA-256 of that text with `0 1 3 a e` replaced by `g h k m t` (no vowels, no look-alikes).
//!
//! One quirk is kept on purpose: kustomize looks the name up as a single field literally called
//! `metadata/name`, which no object has, so the name hashed is always `""`. Hashing the real name
//! would give every generated object a different suffix from kustomize's.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::build::generator::GeneratorError;
use crate::manifest::Resource;

/// Appends `-<hash>` to the name of every resource with `meta.needs_hash`, recording the old
/// id in `meta.previous_ids` (run once, at the end of the top-level build).
pub fn apply_suffixes(resources: &mut [Resource]) -> Result<(), GeneratorError> {
    for resource in resources.iter_mut().filter(|r| r.meta.needs_hash) {
        let suffix = content_hash(&resource.object).ok_or_else(|| GeneratorError::Invalid {
            generator: format!("{}/{}", resource.kind(), resource.name()),
            message: "kind: only a ConfigMap or a Secret can get a content-hash name suffix".into(),
        })?;
        let old_id = resource.id();
        let new_name = format!("{}-{suffix}", old_id.name);
        let metadata = resource.object.entry("metadata").or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(metadata) = metadata else {
            return Err(GeneratorError::Invalid {
                generator: format!("{}/{}", old_id.kind, old_id.name),
                message: "metadata: not a map".into(),
            });
        };
        metadata.insert("name".into(), Value::String(new_name));
        resource.meta.previous_ids.push(old_id);
        // Kustomize hashes once; a second pass must not append a second suffix.
        resource.meta.needs_hash = false;
    }
    Ok(())
}

/// The ten-character suffix kustomize gives `object`, or `None` for kinds other than ConfigMap
/// and Secret (kustomize hashes those as a whole node, but no generator makes them).
pub fn content_hash(object: &Map<String, Value>) -> Option<String> {
    let kind = object.get("kind").and_then(Value::as_str)?;
    let mut doc: BTreeMap<&str, Value> = BTreeMap::new();
    doc.insert("kind", Value::String(kind.to_owned()));
    // See the module docs: kustomize's lookup of `metadata/name` never finds the name.
    doc.insert("name", lookup(object, "metadata/name"));
    doc.insert("data", lookup(object, "data"));
    let extra = match kind {
        "ConfigMap" => "binaryData",
        "Secret" => {
            doc.insert("type", lookup(object, "type"));
            "stringData"
        }
        _ => return None,
    };
    // Included only when the field is a map ("to avoid a useless key"); a sequence there
    // becomes Go's nil map, which is still a map and encodes as `null`.
    match object.get(extra) {
        Some(Value::Object(map)) => {
            doc.insert(extra, Value::Object(map.clone()));
        }
        Some(Value::Array(_)) => {
            doc.insert(extra, Value::Null);
        }
        _ => {}
    }
    // The document holds a Secret's (base64) values: both copies are wiped after hashing.
    let mut text = zeroize::Zeroizing::new(String::new());
    text.push('{');
    for (i, (key, value)) in doc.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        go_json_string(&mut text, key);
        text.push(':');
        go_json(&mut text, value);
    }
    text.push('}');
    for value in doc.values_mut() {
        crate::crypto::secret::wipe_json(value);
    }
    Some(encode(&Sha256::digest(text.as_bytes())))
}

/// What kustomize's `getNodeValues` yields for one top-level field: `""` when absent, a scalar's
/// text, a map as a map, and a sequence as Go's nil map (`null`).
fn lookup(object: &Map<String, Value>, field: &str) -> Value {
    match object.get(field) {
        None | Some(Value::Null) => Value::String(String::new()),
        Some(Value::String(s)) => Value::String(s.clone()),
        Some(Value::Number(n)) => Value::String(n.to_string()),
        Some(Value::Bool(b)) => Value::String(b.to_string()),
        Some(Value::Object(map)) => Value::Object(map.clone()),
        Some(Value::Array(_)) => Value::Null,
    }
}

/// kubectl's `hash.encode`: ten hex digits with the letters that could spell words or look like
/// other characters replaced.
fn encode(digest: &[u8]) -> String {
    let mut hex = String::with_capacity(10);
    for byte in &digest[..5] {
        let _ = write!(hex, "{byte:02x}");
    }
    hex.chars()
        .map(|c| match c {
            '0' => 'g',
            '1' => 'h',
            '3' => 'k',
            'a' => 'm',
            'e' => 't',
            other => other,
        })
        .collect()
}

/// Go's `json.Marshal` of a value decoded into `interface{}`: maps with sorted keys, numbers as
/// float64.
fn go_json(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => go_float(out, n.as_f64().unwrap_or(0.0)),
        Value::String(s) => go_json_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let sorted: BTreeMap<&String, &Value> = map.iter().collect();
            out.push('{');
            for (i, (key, item)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json_string(out, key);
                out.push(':');
                go_json(out, item);
            }
            out.push('}');
        }
    }
}

/// Go's float64 JSON form: shortest digits, exponent form below 1e-6 and from 1e21 on.
fn go_float(out: &mut String, f: f64) {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let text = format!("{f:e}");
        match text.split_once('e') {
            Some((mantissa, exp)) if !exp.starts_with('-') => {
                let _ = write!(out, "{mantissa}e+{exp}");
            }
            _ => out.push_str(&text),
        }
    } else {
        let _ = write!(out, "{f}");
    }
}

/// Go's `encoding/json` string escaping with HTML escaping on (the default of `json.Marshal`).
fn go_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn hash(value: Value) -> String {
        let Value::Object(map) = value else { panic!("test input is a map") };
        content_hash(&map).expect("ConfigMap or Secret")
    }

    /// The vectors of kustomize's own `api/hasher/hasher_test.go` (v5.5).
    #[test]
    fn kustomize_hasher_vectors() {
        assert_eq!(hash(json!({"apiVersion": "v1", "kind": "ConfigMap"})), "6ct58987ht");
        assert_eq!(hash(json!({"kind": "ConfigMap", "data": {"one": ""}})), "9g67k2htb6");
        assert_eq!(hash(json!({"kind": "ConfigMap", "data": {"two": 2, "one": "", "three": 3}})), "7757f9kkct");
        assert_eq!(hash(json!({"kind": "ConfigMap", "binaryData": {"one": ""}})), "6mtk2m274t");
        assert_eq!(hash(json!({"kind": "ConfigMap", "binaryData": {"two": 2, "one": "", "three": 3}})), "9th7kc28dg");
        assert_eq!(hash(json!({"kind": "ConfigMap", "data": {"one": ""}, "binaryData": {"two": ""}})), "698h7c7t9m");
        assert_eq!(hash(json!({"kind": "Secret", "type": "my-type"})), "5gmgkf8578");
        assert_eq!(hash(json!({"kind": "Secret", "type": "my-type", "data": {"one": ""}})), "74bd68bm66");
        assert_eq!(
            hash(json!({"kind": "Secret", "type": "my-type", "data": {"two": 2, "one": "", "three": 3}})),
            "4gf75c7476"
        );
    }

    /// The name never enters the hash (kustomize's `metadata/name` lookup quirk).
    #[test]
    fn name_is_not_hashed() {
        let a = hash(json!({"kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": "v"}}));
        let b = hash(json!({"kind": "ConfigMap", "metadata": {"name": "b"}, "data": {"k": "v"}}));
        assert_eq!(a, b);
    }

    #[test]
    fn go_escaping() {
        let mut out = String::new();
        go_json_string(&mut out, "<&>\u{2028}\"\\\n\u{1}é");
        assert_eq!(out, r#""\u003c\u0026\u003e\u2028\"\\\n\u0001é""#);
        let mut f = String::new();
        go_float(&mut f, 1e21);
        assert_eq!(f, "1e+21");
    }

    #[test]
    fn other_kinds_are_refused() {
        let mut resources = vec![Resource::new(
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        )];
        resources[0].meta.needs_hash = true;
        let err = apply_suffixes(&mut resources).err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("Service/s: kind: only a ConfigMap or a Secret can get a content-hash name suffix")
        );
    }
}
