//! Strategic merge patch, as kustomize applies it.
//!
//! Kustomize does not use apimachinery's strategicpatch: its PatchTransformer runs kyaml's
//! `merge2.Merge` with `ListIncreaseDirection: prepend` (`api/filters/patchstrategicmerge`),
//! and the outputs differ in ways users see. This is a port of that walk's behaviour onto
//! `serde_json` values (the algorithm, not the code):
//!
//! - maps merge field by field; a `null` in the patch deletes the field; a `null` already in
//!   the target survives when the patch does not mention it; nulls inside subtrees the patch
//!   adds are dropped;
//! - `$patch: delete | replace | merge` on a map, and as a list element `{$patch: …}` on a
//!   list; any other value is an error;
//! - associative lists (see [`super::schema`]) merge element-wise by their keys, patch
//!   elements first in patch order, then the target's remaining elements; elements whose
//!   merge result is empty are removed; every other list is replaced;
//! - kyaml implements no `$retainKeys`, `$setElementOrder/…` or `$deleteFromPrimitiveList/…`:
//!   they are ordinary fields to it and land in the output, and a volume patched from
//!   `emptyDir` to `configMap` keeps both sources. We do the same, so that builds match.

use serde_json::{Map, Value};

use super::PatchError;
use super::schema::{self, Schema};

const DIRECTIVE: &str = "$patch";

/// Merges `patch` into `target` with the merge keys and strategies of the target's type.
/// When the patch deletes the whole object (`$patch: delete` at the top), `target` is left
/// empty: kustomize drops such a resource (`Resource.IsNilOrEmpty`).
pub fn merge(target: &mut Map<String, Value>, patch: &Map<String, Value>) -> Result<(), PatchError> {
    let dest = std::mem::take(target);
    let merged = merge_value(Value::Object(dest), Value::Object(patch.clone()))
        .map_err(|e| PatchError::Merge { path: e.path, message: e.message })?;
    if let Some(Value::Object(map)) = merged {
        *target = map;
    }
    Ok(())
}

/// Merges two documents; `None` means the patch deleted the target.
pub(crate) fn merge_value(dest: Value, patch: Value) -> Result<Option<Value>, MergeError> {
    let mut path = Vec::new();
    Ok(walk(Some(dest), Src::Node(patch), None, &mut path)?.and_then(Out::into_value))
}

#[derive(Debug)]
pub(crate) struct MergeError {
    pub path: String,
    pub message: String,
}

fn fail(path: &[String], message: impl Into<String>) -> MergeError {
    MergeError { path: if path.is_empty() { ".".to_owned() } else { path.join(".") }, message: message.into() }
}

/// The patch side of a walk. `Alias` is kyaml's state after it adopted the patch node as
/// the target (target missing, or `$patch: replace`): both sides are then the same node,
/// and the walk normalises it (drops nulls, applies nested directives).
enum Src {
    Missing,
    Node(Value),
    Alias,
}

impl Src {
    fn get<'a>(&'a self, dest: &'a Option<Value>) -> Option<&'a Value> {
        match self {
            Src::Missing => None,
            Src::Node(v) => Some(v),
            Src::Alias => dest.as_ref(),
        }
    }
}

/// A walk result. `is_dest`: the value is the target node itself, merged in place (kyaml
/// mutates the target; elements merged that way replace themselves in the target list).
/// `keep`: a `null` the target already had, which survives the field setter.
struct Out {
    value: Value,
    is_dest: bool,
    keep: bool,
}

impl Out {
    fn into_value(self) -> Option<Value> {
        (!self.value.is_null() || self.keep).then_some(self.value)
    }
}

fn is_null(v: Option<&Value>) -> bool {
    matches!(v, None | Some(Value::Null))
}

fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Object(_) => "a map",
        Value::Array(_) => "a list",
        Value::Null => "null",
        _ => "a scalar",
    }
}

/// The text of a YAML scalar as kyaml compares it (`yaml.Node.Value`); maps and lists have
/// none.
pub(crate) fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_owned(),
        Value::Array(_) | Value::Object(_) => String::new(),
    }
}

/// kyaml's `GetSchema`: the given schema, else the schema of a builtin kind named by the
/// node's own `apiVersion`/`kind` (which also types objects embedded in custom resources).
fn schema_of(given: Option<Schema>, dest: Option<&Value>, origin: Option<&Value>) -> Option<Schema> {
    if given.is_some() {
        return given;
    }
    [dest, origin].into_iter().flatten().find_map(|node| {
        let map = node.as_object()?;
        let api = map.get("apiVersion")?.as_str().filter(|s| !s.is_empty())?;
        let kind = map.get("kind")?.as_str().filter(|s| !s.is_empty())?;
        schema::for_kind(api, kind)
    })
}

fn walk(
    dest: Option<Value>,
    origin: Src,
    schema: Option<Schema>,
    path: &mut Vec<String>,
) -> Result<Option<Out>, MergeError> {
    let schema = schema_of(schema, dest.as_ref(), origin.get(&dest));
    let first = [dest.as_ref(), origin.get(&dest)].into_iter().flatten().find(|v| !v.is_null());
    let expected = match first {
        None => return walk_map(dest, origin, schema, path),
        Some(v) => std::mem::discriminant(v),
    };
    for side in [dest.as_ref(), origin.get(&dest)].into_iter().flatten() {
        let same = std::mem::discriminant(side) == expected || {
            // Strings, numbers and booleans are all YAML scalars.
            let scalar = |v: &Value| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_));
            first.is_some_and(scalar) && scalar(side)
        };
        if !side.is_null() && !same {
            let (want, got) = (first.map_or("null", kind_name), kind_name(side));
            return Err(fail(path, format!("cannot merge {got} with {want}")));
        }
    }
    match first {
        Some(Value::Object(_)) => walk_map(dest, origin, schema, path),
        Some(Value::Array(_)) => walk_list(dest, origin, schema, path),
        _ => Ok(Some(match origin {
            Src::Node(v) => Out { value: v, is_dest: false, keep: false },
            Src::Alias | Src::Missing => Out { value: dest.unwrap_or(Value::Null), is_dest: true, keep: false },
        })),
    }
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum Directive {
    Merge,
    Replace,
    Delete,
}

fn parse_directive(v: &Value, path: &[String]) -> Result<Directive, MergeError> {
    match v.as_str() {
        Some("merge") => Ok(Directive::Merge),
        Some("replace") => Ok(Directive::Replace),
        Some("delete") => Ok(Directive::Delete),
        _ => Err(fail(path, format!("unknown patch strategy '{}'", scalar_text(v)))),
    }
}

/// `$patch` of a map; a recognised directive is removed from the patch.
fn map_directive(map: &mut Map<String, Value>, path: &[String]) -> Result<Directive, MergeError> {
    let Some(value) = map.get(DIRECTIVE) else { return Ok(Directive::Merge) };
    let directive = parse_directive(value, path)?;
    map.shift_remove(DIRECTIVE);
    Ok(directive)
}

fn walk_map(
    dest: Option<Value>,
    origin: Src,
    schema: Option<Schema>,
    path: &mut Vec<String>,
) -> Result<Option<Out>, MergeError> {
    let aliased = matches!(origin, Src::Alias);
    // kyaml's VisitMap: decide which node the fields are merged into.
    let (mut node, mut origin, is_dest) = if is_null(dest.as_ref()) {
        let mut origin = match origin {
            Src::Node(v) => Some(v),
            Src::Alias => dest.clone(),
            Src::Missing => None,
        };
        // kyaml ignores a bad directive here; the self-merge below reports it.
        let directive = match origin.as_mut() {
            Some(Value::Object(map)) => map_directive(map, path).unwrap_or(Directive::Merge),
            _ => Directive::Merge,
        };
        if directive == Directive::Delete {
            return Ok(None);
        }
        match origin {
            None => {
                return Ok(dest.map(|value| Out { value, is_dest: true, keep: true }));
            }
            Some(v) => (v, Src::Alias, aliased),
        }
    } else {
        let mut dest = dest.unwrap_or(Value::Null);
        match origin {
            Src::Node(Value::Null) => return Ok(None),
            Src::Missing => (dest, Src::Missing, true),
            Src::Alias => {
                let directive = match &mut dest {
                    Value::Object(map) => map_directive(map, path)?,
                    _ => Directive::Merge,
                };
                if directive == Directive::Delete {
                    return Ok(None);
                }
                (dest, Src::Alias, true)
            }
            Src::Node(mut patch) => {
                let directive = match &mut patch {
                    Value::Object(map) => map_directive(map, path)?,
                    _ => Directive::Merge,
                };
                match directive {
                    Directive::Delete => return Ok(None),
                    Directive::Replace => (patch, Src::Alias, false),
                    Directive::Merge => (dest, Src::Node(patch), true),
                }
            }
        }
    };
    let Value::Object(map) = &mut node else {
        // A null adopted from the patch: the field setter drops it.
        return Ok(Some(Out { value: node, is_dest, keep: false }));
    };
    let mut fields: Vec<String> = map.keys().cloned().collect();
    if let Src::Node(Value::Object(patch)) = &origin {
        fields.extend(patch.keys().cloned());
    }
    fields.sort();
    fields.dedup();
    for field in fields {
        let child_dest = map.get_mut(&field).map(Value::take);
        let child_origin = match &mut origin {
            Src::Node(Value::Object(patch)) => patch.shift_remove(&field).map_or(Src::Missing, Src::Node),
            Src::Alias => Src::Alias,
            _ => Src::Missing,
        };
        let child_schema = schema.map(|s| s.field(&field));
        path.push(field.clone());
        let result = walk(child_dest, child_origin, child_schema, path)?;
        path.pop();
        match result.and_then(Out::into_value) {
            Some(value) => {
                map.insert(field, value);
            }
            None => {
                map.shift_remove(&field);
            }
        }
    }
    Ok(Some(Out { value: node, is_dest, keep: false }))
}

fn walk_list(
    dest: Option<Value>,
    origin: Src,
    schema: Option<Schema>,
    path: &mut Vec<String>,
) -> Result<Option<Out>, MergeError> {
    let keys = match schema.and_then(Schema::merge_keys) {
        Some(keys) => keys,
        // Not associative: the patch's list replaces the target's.
        None => {
            return Ok(Some(match origin {
                Src::Node(v) => Out { value: v, is_dest: false, keep: false },
                Src::Alias | Src::Missing => Out { value: dest.unwrap_or(Value::Null), is_dest: true, keep: false },
            }));
        }
    };
    let (dest, origin): (Vec<Value>, Option<Vec<Value>>) = if is_null(dest.as_ref()) {
        match origin {
            Src::Node(Value::Array(items)) => (items, None),
            _ => return Ok(None),
        }
    } else {
        let Some(Value::Array(mut dest)) = dest else { return Ok(None) };
        match origin {
            Src::Node(Value::Null) => return Ok(None),
            Src::Missing => (dest, Some(Vec::new())),
            Src::Alias => match list_directive(&mut dest, path)? {
                Directive::Delete => return Ok(None),
                _ => (dest, None),
            },
            Src::Node(Value::Array(mut patch)) => match list_directive(&mut patch, path)? {
                Directive::Delete => return Ok(None),
                Directive::Replace => (patch, None),
                Directive::Merge => (dest, Some(patch)),
            },
            Src::Node(_) => return Ok(None),
        }
    };
    let mut lists = Lists { dest, origin };
    let element_schema = schema.map(Schema::elements);
    let values = if keys.is_empty() { Vec::new() } else { lists.element_values(keys) };
    let result = if !values.is_empty() || !keys.is_empty() {
        lists.set_elements(values, keys, element_schema, path)?
    } else {
        let primitives = lists.primitive_values();
        lists.set_elements(primitives, &[""], element_schema, path)?
    };
    Ok(result.map(|items| Out { value: Value::Array(items), is_dest: false, keep: false }))
}

/// `$patch` of a list: an element that is a one-field map `{$patch: …}`. A recognised
/// directive's elements are removed from the patch (with kyaml's element setter, which also
/// drops null and empty-map elements).
fn list_directive(list: &mut Vec<Value>, path: &[String]) -> Result<Directive, MergeError> {
    let Some(element) = list.iter().find_map(|e| e.as_object().filter(|m| m.contains_key(DIRECTIVE))) else {
        return Ok(Directive::Merge);
    };
    if element.len() > 1 {
        return Ok(Directive::Merge);
    }
    let value = element.get(DIRECTIVE).cloned().unwrap_or(Value::Null);
    let directive = parse_directive(&value, path)?;
    set_element(list, None, &[DIRECTIVE], &[scalar_text(&value)], path)?;
    Ok(directive)
}

/// The target list and the patch list of an associative merge; `origin: None` when both
/// are the same node.
struct Lists {
    dest: Vec<Value>,
    origin: Option<Vec<Value>>,
}

impl Lists {
    fn origin(&self) -> &[Value] {
        self.origin.as_deref().unwrap_or(&self.dest)
    }

    /// Key tuples of every element, patch first (kyaml's prepend order), deduplicated.
    fn element_values(&self, keys: &[&str]) -> Vec<Vec<String>> {
        let mut out: Vec<Vec<String>> = Vec::new();
        for list in [self.origin(), &self.dest[..]] {
            for element in list {
                let tuple: Vec<String> = keys
                    .iter()
                    .map(|key| match element.as_object().and_then(|m| m.get(*key)) {
                        Some(v) if !is_empty_node(v) => scalar_text(v),
                        _ => String::new(),
                    })
                    .collect();
                if !tuple.is_empty() && !out.contains(&tuple) {
                    out.push(tuple);
                }
            }
        }
        out
    }

    fn primitive_values(&self) -> Vec<Vec<String>> {
        let mut out: Vec<Vec<String>> = Vec::new();
        for list in [self.origin(), &self.dest[..]] {
            for element in list {
                let tuple = vec![node_text(element)];
                if !out.contains(&tuple) {
                    out.push(tuple);
                }
            }
        }
        out
    }

    /// kyaml's `setAssociativeSequenceElements`, including its quirks: elements are
    /// matched by the keys that have a value anywhere in the list; the merged elements are
    /// collected in patch order and the target's elements are then set into that list.
    fn set_elements(
        &mut self,
        mut values_list: Vec<Vec<String>>,
        keys: &[&str],
        element_schema: Option<Schema>,
        path: &mut Vec<String>,
    ) -> Result<Option<Vec<Value>>, MergeError> {
        let mut added: Vec<Value> = Vec::new();
        if keys.len() > 1 {
            merge_values(&mut values_list);
        }
        let mut valid_keys: Vec<&str> = Vec::new();
        let mut valid_values: Vec<String>;
        for values in &values_list {
            if values.is_empty() {
                continue;
            }
            (valid_keys, valid_values) = validate_keys(&values_list, values, keys);
            let (lookup_keys, lookup_values) =
                validate_keys(std::slice::from_ref(&valid_values), &valid_values, &valid_keys);
            let dest_index = find_element(&self.dest, &lookup_keys, &lookup_values);
            let origin_index = find_element(self.origin(), &lookup_keys, &lookup_values);
            let dest_element = dest_index.map(|i| self.dest[i].clone());
            let origin_element = match (&self.origin, origin_index) {
                (None, Some(o)) if Some(o) == dest_index => Src::Alias,
                (_, Some(o)) => Src::Node(self.origin()[o].clone()),
                (_, None) => Src::Missing,
            };
            path.push(format!("[{}]", lookup_values.join(",")));
            let walked = walk(dest_element, origin_element, element_schema, path)?;
            path.pop();
            let value = match walked {
                Some(out) if !(out.value.is_null() || out.value.as_object().is_some_and(Map::is_empty)) => {
                    if out.is_dest
                        && let Some(i) = dest_index
                    {
                        self.dest[i] = out.value.clone();
                    } else if !out.is_dest
                        && let (Some(origin), Some(o)) = (self.origin.as_mut(), origin_index)
                        && dest_index.is_none()
                    {
                        // The patch element became the target element (kyaml adopts it).
                        origin[o] = out.value.clone();
                    }
                    out.value
                }
                _ => {
                    set_element(&mut self.dest, None, &valid_keys, &valid_values, path)?;
                    continue;
                }
            };
            let mut value = value;
            if let Value::Object(map) = &mut value {
                for (key, v) in valid_keys.iter().zip(&valid_values) {
                    if !key.is_empty() && !map.contains_key(*key) && !v.is_empty() {
                        map.insert((*key).to_owned(), Value::String(v.clone()));
                    }
                }
            }
            set_element(&mut added, Some(value), &valid_keys, &valid_values, path)?;
        }
        let result = if values_list.is_empty() {
            std::mem::take(&mut self.dest)
        } else {
            let dest = std::mem::take(&mut self.dest);
            append_list(added, dest, &valid_keys, path)?
        };
        Ok(Some(result))
    }
}

/// `IsNilOrEmpty` of a key field: null, `{}` or `[]` count as no value.
fn is_empty_node(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// `yaml.Node.Value` of a list element: the scalar text, empty for maps and lists, and
/// empty for a null (kyaml's empty-null spelling is the one that survives parsing here).
fn node_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        other => scalar_text(other),
    }
}

/// kyaml's `mergeValues`: key tuples that agree wherever both have a value (and share at
/// least one) are unified, so a port without `protocol` matches the same port with one.
fn merge_values(list: &mut [Vec<String>]) {
    for i in 0..list.len() {
        let first = list[i].clone();
        for j in 0..list.len() {
            let second = list[j].clone();
            if let Some(merged) = match_values(&first, &second) {
                list[i] = merged.clone();
                list[j] = merged;
            }
        }
    }
}

fn match_values(a: &[String], b: &[String]) -> Option<Vec<String>> {
    if a.len() != b.len() {
        return None;
    }
    let mut common = false;
    let mut out = Vec::with_capacity(a.len());
    for (x, y) in a.iter().zip(b) {
        if x == y {
            common = true;
            out.push(x.clone());
        } else if !x.is_empty() && !y.is_empty() {
            return None;
        } else if x.is_empty() {
            out.push(y.clone());
        } else {
            out.push(x.clone());
        }
    }
    common.then_some(out)
}

/// kyaml's `validateKeys`: keep only the keys that have a value in some tuple.
fn validate_keys<'k>(list: &[Vec<String>], values: &[String], keys: &[&'k str]) -> (Vec<&'k str>, Vec<String>) {
    let present: Vec<bool> =
        (0..keys.len()).map(|i| list.iter().any(|tuple| tuple.get(i).is_some_and(|v| !v.is_empty()))).collect();
    if !present.contains(&true) {
        return (keys.to_vec(), values.to_vec());
    }
    let valid_keys = keys.iter().zip(&present).filter(|(_, p)| **p).map(|(k, _)| *k).collect();
    let valid_values =
        values.iter().zip(&present).filter(|(v, p)| !v.is_empty() || **p).map(|(v, _)| v.clone()).collect();
    (valid_keys, valid_values)
}

/// kyaml's `ElementMatcher` with values: the first element whose key fields have exactly
/// these texts (a missing field never matches, even an empty value).
fn find_element(list: &[Value], keys: &[&str], values: &[String]) -> Option<usize> {
    let first_key = keys.first().copied().unwrap_or("");
    let empty = String::new();
    if first_key.is_empty() {
        let want = values.first().unwrap_or(&empty);
        return list.iter().position(|e| &node_text(e) == want);
    }
    list.iter().position(|element| {
        let Some(map) = element.as_object() else { return false };
        keys.iter().enumerate().all(|(i, key)| {
            let want = values.get(i).unwrap_or(&empty);
            map.get(*key).is_some_and(|v| &field_text(v) == want)
        })
    })
}

/// The text of a map field's value node, where kyaml's null keeps its spelling ("null").
fn field_text(v: &Value) -> String {
    scalar_text(v)
}

/// kyaml's `ElementSetter`: replace every element matching the keys (an empty value
/// matches any element that has the field) with `element`, or delete them when `element`
/// is `None`; append when nothing matched. Null and empty-map elements are dropped on the way.
fn set_element(
    list: &mut Vec<Value>,
    element: Option<Value>,
    keys: &[&str],
    values: &[String],
    path: &[String],
) -> Result<(), MergeError> {
    let keys: &[&str] = if keys.is_empty() { &[""] } else { keys };
    let mapping_setter = !keys[0].is_empty() && values.first().is_some_and(|v| !v.is_empty());
    let mut out = Vec::with_capacity(list.len() + 1);
    let mut found = false;
    for item in list.drain(..) {
        if item.is_null() || item.as_object().is_some_and(Map::is_empty) {
            continue;
        }
        if !item.is_object() && mapping_setter {
            out.push(item);
            continue;
        }
        let mut matched = true;
        let mut last: Option<bool> = None;
        for (j, key) in keys.iter().enumerate() {
            if let Some(want) = values.get(j) {
                last = Some(field_matches(&item, key, want).map_err(|m| fail(path, m))?);
            }
            if last != Some(true) {
                matched = false;
                break;
            }
        }
        if !matched {
            if !values.is_empty() {
                out.push(item);
            }
            continue;
        }
        found = true;
        if let Some(element) = &element {
            out.push(element.clone());
        }
    }
    *list = out;
    if let Some(element) = element
        && !element.is_null()
        && !found
    {
        list.push(element);
    }
    Ok(())
}

/// kyaml's `FieldMatcher{Name, StringValue}`.
fn field_matches(item: &Value, key: &str, want: &str) -> Result<bool, String> {
    if key.is_empty() {
        return match item {
            Value::Object(_) | Value::Array(_) => Err("a list of scalars holds a map or a list".to_owned()),
            other => Ok(want.is_empty() && other.is_null() || node_text(other) == want),
        };
    }
    let Value::Object(map) = item else {
        return Err(format!("list elements must be maps to merge on `{key}`"));
    };
    Ok(match map.get(key) {
        None => false,
        Some(_) if want.is_empty() => true,
        Some(v) => field_text(v) == want,
    })
}

/// kyaml's `appendListNode`: set each target element into the merged list.
fn append_list(mut dst: Vec<Value>, src: Vec<Value>, keys: &[&str], path: &[String]) -> Result<Vec<Value>, MergeError> {
    let first_key = keys.first().copied().unwrap_or("");
    for element in src {
        if first_key.is_empty() {
            let text = node_text(&element);
            set_element(&mut dst, Some(element), &[""], &[text], path)?;
            continue;
        }
        let Some(map) = element.as_object() else {
            return Err(fail(path, format!("list elements must be maps to merge on `{first_key}`")));
        };
        let mut values = Vec::new();
        for key in keys {
            match map.get(*key) {
                // kyaml appends an element that lacks a key and carries on with the next key.
                None => dst.push(element.clone()),
                Some(v) => values.push(field_text(v)),
            }
        }
        if keys.len() > 1 {
            set_element(&mut dst, None, keys, &values, path)?;
        }
        set_element(&mut dst, Some(element), keys, &values, path)?;
    }
    Ok(dst)
}
