//! `metadata.managedFields` bookkeeping and server-side apply
//! (<https://kubernetes.io/docs/reference/using-api/server-side-apply/>).
//!
//! A field set is a set of leaf paths (field names from the root). Lists are atomic: a manager
//! owns a whole list, never an element (upstream treats lists of built-in types as associative
//! maps keyed by `name` & co.; CRD lists without `x-kubernetes-list-type` are atomic there too).
//! The object's own `managedFields` (`fieldsV1`) is the only record, so a client that rewrites it
//! is obeyed as upstream obeys it.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

/// A path of field names from the object root.
pub type Path = Vec<String>;

/// Which part of an object a request may change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The main endpoint; `status_owned_elsewhere` when the type has a `/status` subresource,
    /// whose `.status` the main endpoint leaves alone.
    Main { status_owned_elsewhere: bool },
    /// The `/status` subresource: only `.status` changes.
    Status,
}

impl Scope {
    fn subresource(self) -> Option<&'static str> {
        match self {
            Scope::Main { .. } => None,
            Scope::Status => Some("status"),
        }
    }

    /// Whether a leaf path is writable through this endpoint.
    fn covers(self, path: &[String]) -> bool {
        let is_status = path.first().is_some_and(|p| p == "status");
        match self {
            Scope::Main { status_owned_elsewhere } => !(status_owned_elsewhere && is_status),
            Scope::Status => is_status,
        }
    }
}

/// Metadata fields the server sets, never owned by a manager.
const SERVER_METADATA: &[&str] = &[
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
    "generateName",
];

/// One `managedFields` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The field manager name.
    pub manager: String,
    /// `Apply` or `Update`.
    pub operation: String,
    /// The apiVersion the manager wrote with.
    pub api_version: String,
    /// When it last wrote.
    pub time: String,
    /// `status` for writes through the subresource.
    pub subresource: Option<String>,
    /// The leaves it owns.
    pub fields: BTreeSet<Path>,
}

/// The leaf paths of an object, without the server-set identity fields.
pub fn leaves(obj: &Value) -> BTreeSet<Path> {
    let mut out = BTreeSet::new();
    if let Value::Object(m) = obj {
        for (k, v) in m {
            if k == "apiVersion" || k == "kind" {
                continue;
            }
            if k == "metadata" {
                if let Value::Object(meta) = v {
                    for (mk, mv) in meta {
                        if !SERVER_METADATA.contains(&mk.as_str()) {
                            collect(mv, vec![k.clone(), mk.clone()], &mut out);
                        }
                    }
                }
                continue;
            }
            collect(v, vec![k.clone()], &mut out);
        }
    }
    out
}

fn collect(v: &Value, path: Path, out: &mut BTreeSet<Path>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, child) in m {
                let mut p = path.clone();
                p.push(k.clone());
                collect(child, p, out);
            }
        }
        _ => {
            out.insert(path);
        }
    }
}

/// The value at a path.
pub fn value_at<'a>(obj: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(obj, |cur, seg| cur.get(seg))
}

fn remove_path(obj: &mut Value, path: &[String]) {
    let Some((last, parent)) = path.split_last() else {
        return;
    };
    let mut cur = obj;
    for seg in parent {
        match cur.get_mut(seg) {
            Some(next) => cur = next,
            None => return,
        }
    }
    if let Value::Object(m) = cur {
        m.remove(last);
    }
}

/// Whether one path is a prefix of the other (they name overlapping parts of the object).
fn overlaps(a: &[String], b: &[String]) -> bool {
    let n = a.len().min(b.len());
    a[..n] == b[..n]
}

/// The `fieldsV1` tree of a set.
pub fn to_fields_v1(set: &BTreeSet<Path>) -> Value {
    let mut root = Map::new();
    for path in set {
        let mut cur = &mut root;
        for seg in path {
            let next = cur.entry(format!("f:{seg}")).or_insert_with(|| Value::Object(Map::new()));
            match next {
                Value::Object(m) => cur = m,
                _ => break,
            }
        }
    }
    Value::Object(root)
}

/// The set a `fieldsV1` tree describes. Keys of list elements (`k:`, `v:`, `i:`) make the list
/// itself the owned leaf, matching our atomic-list model.
pub fn from_fields_v1(v: &Value) -> BTreeSet<Path> {
    fn walk(v: &Value, path: &mut Path, out: &mut BTreeSet<Path>) {
        let Value::Object(m) = v else { return };
        if m.is_empty() && !path.is_empty() {
            out.insert(path.clone());
            return;
        }
        for (k, child) in m {
            if let Some(name) = k.strip_prefix("f:") {
                path.push(name.to_string());
                walk(child, path, out);
                path.pop();
            } else if !path.is_empty() {
                // ".", "k:{…}", "v:…", "i:…": this node is owned as a whole.
                out.insert(path.clone());
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(v, &mut Vec::new(), &mut out);
    out
}

/// The entries recorded in an object.
pub fn read_entries(obj: &Value) -> Vec<Entry> {
    let Some(list) = obj.pointer("/metadata/managedFields").and_then(Value::as_array) else {
        return Vec::new();
    };
    let text = |e: &Value, k: &str| e.get(k).and_then(Value::as_str).map(str::to_string);
    list.iter()
        .filter_map(|e| {
            Some(Entry {
                manager: text(e, "manager")?,
                operation: text(e, "operation").unwrap_or_else(|| "Update".into()),
                api_version: text(e, "apiVersion").unwrap_or_default(),
                time: text(e, "time").unwrap_or_default(),
                subresource: text(e, "subresource"),
                fields: e.get("fieldsV1").map(from_fields_v1).unwrap_or_default(),
            })
        })
        .collect()
}

/// Writes the entries into `metadata.managedFields`, dropping empty ones (as upstream does).
pub fn write_entries(obj: &mut Value, entries: &[Entry]) {
    let list: Vec<Value> = entries
        .iter()
        .filter(|e| !e.fields.is_empty())
        .map(|e| {
            let mut v = json!({
                "manager": e.manager,
                "operation": e.operation,
                "apiVersion": e.api_version,
                "time": e.time,
                "fieldsType": "FieldsV1",
                "fieldsV1": to_fields_v1(&e.fields),
            });
            if let Some(s) = &e.subresource {
                v["subresource"] = json!(s);
            }
            v
        })
        .collect();
    if list.is_empty() {
        if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("managedFields");
        }
    } else if obj.is_object() {
        if !obj.get("metadata").is_some_and(Value::is_object) {
            obj["metadata"] = json!({});
        }
        obj["metadata"]["managedFields"] = Value::Array(list);
    }
}

/// Who writes, and how.
#[derive(Clone, Debug)]
pub struct Writer<'a> {
    /// The field manager.
    pub manager: &'a str,
    /// The apiVersion of the request.
    pub api_version: &'a str,
    /// The time to record.
    pub time: &'a str,
    /// What the endpoint may change.
    pub scope: Scope,
}

fn entry_mut<'e>(entries: &'e mut Vec<Entry>, w: &Writer<'_>, operation: &str) -> &'e mut Entry {
    let sub = w.scope.subresource().map(str::to_string);
    let pos = entries.iter().position(|e| e.manager == w.manager && e.operation == operation && e.subresource == sub);
    let idx = match pos {
        Some(i) => i,
        None => {
            entries.push(Entry {
                manager: w.manager.to_string(),
                operation: operation.to_string(),
                api_version: w.api_version.to_string(),
                time: w.time.to_string(),
                subresource: sub,
                fields: BTreeSet::new(),
            });
            entries.len() - 1
        }
    };
    let e = &mut entries[idx];
    e.api_version = w.api_version.to_string();
    e.time = w.time.to_string();
    e
}

/// Records a create/update/patch (operation `Update`): the writer takes the leaves that changed
/// between `old` and `new`, other managers lose them. `new` keeps its own managedFields if the
/// client sent some, otherwise inherits `old`'s.
pub fn record_update(old: Option<&Value>, new: &mut Value, w: &Writer<'_>) {
    let mut entries = if new.pointer("/metadata/managedFields").is_some() {
        read_entries(new)
    } else {
        old.map(read_entries).unwrap_or_default()
    };
    let empty = Value::Null;
    let before = old.unwrap_or(&empty);
    let changed: BTreeSet<Path> = leaves(before)
        .union(&leaves(new))
        .filter(|p| w.scope.covers(p) && value_at(before, p) != value_at(new, p))
        .cloned()
        .collect();
    if changed.is_empty() {
        write_entries(new, &entries);
        return;
    }
    for e in entries.iter_mut() {
        e.fields.retain(|f| !changed.iter().any(|c| overlaps(c, f)));
    }
    let present: Vec<Path> = changed.into_iter().filter(|p| value_at(new, p).is_some()).collect();
    entry_mut(&mut entries, w, "Update").fields.extend(present);
    write_entries(new, &entries);
}

/// A field another manager owns that an apply would change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    /// The owner, as upstream prints it (`"name"` or `"name" using apps/v1`).
    pub manager: String,
    /// The field (`.spec.replicas`).
    pub field: String,
}

fn describe(e: &Entry) -> String {
    let mut s = format!("{:?}", e.manager);
    if e.operation == "Update" {
        s.push_str(&format!(" using {}", e.api_version));
    }
    if let Some(sub) = &e.subresource {
        s.push_str(&format!(" with subresource {sub:?}"));
    }
    s
}

fn drop_nulls(v: &mut Value) {
    if let Value::Object(m) = v {
        m.retain(|_, x| !x.is_null());
        m.values_mut().for_each(drop_nulls);
    }
}

/// Deep-merges `config` into `target`: objects merge, everything else (lists too) replaces.
fn merge_into(target: &mut Value, config: &Value) {
    match (target, config) {
        (Value::Object(t), Value::Object(c)) => {
            for (k, v) in c {
                match t.get_mut(k) {
                    Some(slot) => merge_into(slot, v),
                    None => {
                        t.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (t, c) => *t = c.clone(),
    }
}

/// Whether applying `want` over `have` changes nothing (an empty map in a config asks only for
/// the map to exist).
fn same(want: Option<&Value>, have: Option<&Value>) -> bool {
    match (want, have) {
        (Some(Value::Object(w)), Some(Value::Object(_))) if w.is_empty() => true,
        (w, h) => w == h,
    }
}

/// Server-side apply of `config` by `w.manager` over `old` (`None`: create). Returns the new
/// object with its managedFields, or the conflicts when `force` is off.
pub fn apply(old: Option<&Value>, config: &Value, w: &Writer<'_>, force: bool) -> Result<Value, Vec<Conflict>> {
    let mut config = config.clone();
    drop_nulls(&mut config);
    let applied: BTreeSet<Path> = leaves(&config).into_iter().filter(|p| w.scope.covers(p)).collect();
    let mut entries = old.map(read_entries).unwrap_or_default();
    let sub = w.scope.subresource().map(str::to_string);
    let is_mine = |e: &Entry| e.manager == w.manager && e.operation == "Apply" && e.subresource == sub;

    // Conflicts: a leaf this apply would change that someone else owns.
    let mut conflicts = Vec::new();
    let mut taken: BTreeSet<Path> = BTreeSet::new();
    for p in &applied {
        let have = old.and_then(|o| value_at(o, p));
        if same(value_at(&config, p), have) {
            continue;
        }
        for e in entries.iter().filter(|e| e.manager != w.manager) {
            for f in e.fields.iter().filter(|f| overlaps(f, p)) {
                let c = Conflict { manager: describe(e), field: format!(".{}", f.join(".")) };
                if !conflicts.contains(&c) {
                    conflicts.push(c);
                }
                taken.insert(f.clone());
            }
        }
    }
    if !conflicts.is_empty() && !force {
        return Err(conflicts);
    }
    // Forced: the others lose what this apply takes. Values that stay equal stay shared.
    for e in entries.iter_mut().filter(|e| !is_mine(e)) {
        e.fields.retain(|f| !taken.contains(f));
    }

    let mut out = old.cloned().unwrap_or_else(|| json!({}));
    let mut scoped = config.clone();
    if let Value::Object(m) = &mut scoped {
        match w.scope {
            Scope::Status => m.retain(|k, _| k == "status"),
            Scope::Main { status_owned_elsewhere: true } => {
                m.remove("status");
            }
            Scope::Main { .. } => {}
        }
    }
    merge_into(&mut out, &scoped);

    // Fields this manager applied before, no longer applies, and nobody else owns: removed.
    let previous = entries.iter().find(|e| is_mine(e)).map(|e| e.fields.clone()).unwrap_or_default();
    for gone in previous.iter().filter(|p| !applied.iter().any(|a| overlaps(a, p))) {
        let owned_elsewhere =
            entries.iter().filter(|e| !is_mine(e)).any(|e| e.fields.iter().any(|f| overlaps(f, gone)));
        if !owned_elsewhere {
            remove_path(&mut out, gone);
            prune_empty_parents(&mut out, gone, &entries, &applied);
        }
    }

    entry_mut(&mut entries, w, "Apply").fields = applied;
    write_entries(&mut out, &entries);
    Ok(out)
}

/// After removing `path`, removes parent maps that became empty unless someone owns them.
fn prune_empty_parents(obj: &mut Value, path: &[String], entries: &[Entry], applied: &BTreeSet<Path>) {
    for len in (2..path.len()).rev() {
        let parent = &path[..len];
        let owned = applied.iter().any(|a| a.as_slice() == parent)
            || entries.iter().any(|e| e.fields.iter().any(|f| f.as_slice() == parent));
        let empty = value_at(obj, parent).is_some_and(|v| v.as_object().is_some_and(Map::is_empty));
        if empty && !owned {
            remove_path(obj, parent);
        } else {
            break;
        }
    }
}

/// The message and causes of a 409 for apply conflicts, worded as upstream
/// (`k8s.io/apiserver/pkg/endpoints/handlers/fieldmanager`).
pub fn conflict_status_parts(conflicts: &[Conflict]) -> (String, Vec<Value>) {
    let causes = conflicts
        .iter()
        .map(|c| {
            json!({
                "reason": "FieldManagerConflict",
                "message": format!("conflict with {}", c.manager),
                "field": c.field,
            })
        })
        .collect();
    let message = if let [one] = conflicts {
        format!("Apply failed with 1 conflict: conflict with {}: {}", one.manager, one.field)
    } else {
        let mut by_manager: Vec<(&str, Vec<&str>)> = Vec::new();
        for c in conflicts {
            match by_manager.iter_mut().find(|(m, _)| *m == c.manager) {
                Some((_, fields)) => fields.push(&c.field),
                None => by_manager.push((&c.manager, vec![&c.field])),
            }
        }
        let mut s = format!("Apply failed with {} conflicts:", conflicts.len());
        for (m, fields) in by_manager {
            s.push_str(&format!(" conflicts with {m}:"));
            for f in fields {
                s.push_str(&format!("\n- {f}"));
            }
        }
        s
    };
    (message, causes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writer(manager: &str) -> Writer<'_> {
        Writer {
            manager,
            api_version: "v1",
            time: "2026-01-01T00:00:00Z",
            scope: Scope::Main { status_owned_elsewhere: false },
        }
    }

    fn p(s: &str) -> Path {
        s.split('.').map(str::to_string).collect()
    }

    #[test]
    fn fields_v1_round_trips_and_reads_upstream_list_keys() {
        let set: BTreeSet<Path> = [p("data.a"), p("metadata.labels.x"), p("spec.list")].into();
        let v = to_fields_v1(&set);
        assert_eq!(v["f:data"]["f:a"], json!({}));
        assert_eq!(from_fields_v1(&v), set);
        // An upstream associative-list entry is read as owning the list.
        let upstream = json!({"f:spec": {"f:containers": {"k:{\"name\":\"c\"}": {".": {}, "f:image": {}}}}});
        assert_eq!(from_fields_v1(&upstream), [p("spec.containers")].into());
    }

    #[test]
    fn apply_conflicts_only_when_a_value_would_change() {
        let first = apply(None, &json!({"data": {"a": "1", "b": "2"}}), &writer("one"), false).expect("create");
        // Same value: shared ownership, no conflict.
        let shared = apply(Some(&first), &json!({"data": {"a": "1"}}), &writer("two"), false).expect("same value");
        let owners: Vec<_> =
            read_entries(&shared).into_iter().filter(|e| e.fields.contains(&p("data.a"))).map(|e| e.manager).collect();
        assert_eq!(owners, ["one", "two"]);
        let err =
            apply(Some(&shared), &json!({"data": {"b": "3"}}), &writer("two"), false).expect_err("b is owned by one");
        assert_eq!(err, [Conflict { manager: "\"one\"".into(), field: ".data.b".into() }]);
        let forced = apply(Some(&shared), &json!({"data": {"b": "3"}}), &writer("two"), true).expect("forced");
        assert_eq!(forced["data"]["b"], "3");
        let one = read_entries(&forced).into_iter().find(|e| e.manager == "one").expect("one");
        assert_eq!(one.fields, [p("data.a")].into());
    }

    #[test]
    fn apply_removes_fields_the_manager_stopped_applying() {
        let first = apply(None, &json!({"data": {"a": "1", "b": "2"}}), &writer("one"), false).expect("create");
        let second = apply(Some(&first), &json!({"data": {"a": "1"}}), &writer("one"), false).expect("ok");
        assert_eq!(second["data"], json!({"a": "1"}));
        // A field another manager also owns survives.
        let shared = apply(Some(&second), &json!({"data": {"a": "1"}}), &writer("two"), false).expect("ok");
        let third = apply(Some(&shared), &json!({"data": {}}), &writer("one"), false).expect("ok");
        assert_eq!(third["data"], json!({"a": "1"}));
    }

    #[test]
    fn update_takes_changed_fields_from_other_managers() {
        let first = apply(None, &json!({"data": {"a": "1"}}), &writer("applier"), false).expect("create");
        let mut edited = first.clone();
        edited["data"]["a"] = json!("2");
        record_update(Some(&first), &mut edited, &writer("editor"));
        let entries = read_entries(&edited);
        assert_eq!(entries.len(), 1, "applier lost its only field");
        assert_eq!((entries[0].manager.as_str(), entries[0].operation.as_str()), ("editor", "Update"));
        let err = apply(Some(&edited), &json!({"data": {"a": "3"}}), &writer("applier"), false).expect_err("conflict");
        let (message, causes) = conflict_status_parts(&err);
        assert_eq!(message, "Apply failed with 1 conflict: conflict with \"editor\" using v1: .data.a");
        assert_eq!(causes[0]["reason"], "FieldManagerConflict");
    }

    #[test]
    fn status_scope_ignores_everything_else() {
        let w = Writer { scope: Scope::Status, ..writer("st") };
        let old = json!({"spec": {"x": 1}});
        let out = apply(Some(&old), &json!({"spec": {"x": 2}, "status": {"ok": true}}), &w, false).expect("ok");
        assert_eq!(out["spec"]["x"], 1);
        assert_eq!(out["status"]["ok"], true);
        assert_eq!(read_entries(&out)[0].subresource.as_deref(), Some("status"));
    }
}
