//! Sprig's `merge`/`mergeOverwrite`: `mergo.Merge(&dst, src)` (with `WithOverride`), which
//! mutates `dst` in place and returns it. The rules below are mergo v0.3's `deepMerge` for
//! `map[string]interface{}` values (merge.go, `case reflect.Map`):
//!
//! * a nil source value is copied only with overwrite;
//! * a map source value is merged into a destination map (recursively), and copied (shared, not
//!   cloned) when the destination key is missing or holds an empty value; a non-empty
//!   destination is kept even with overwrite;
//! * a slice or any other source value replaces the destination with overwrite, or when the
//!   destination key is missing or empty.
//!
//! Nesting: inserting a list or dict deepens the destination and its ancestors. sealops allows
//! that only where it can see every ancestor (dicts reached through this merge and held nowhere
//! else) and the result stays within the nesting limit; otherwise it refuses with an error
//! (a divergence: Go merges anything).

use std::collections::BTreeMap;
use std::rc::Rc;

use super::super::super::funcs::{Ctx, FnError, FnResult, empty};
use super::super::super::value::{DictCell, Value};
use super::spend;

pub(super) fn merge(c: &Ctx, a: Vec<Value>, overwrite: bool) -> FnResult {
    let dst = match &a[0] {
        Value::Dict(d) => d.clone(),
        // A nil destination map: mergo makes a new map (a nil one prints the same, `map[]`).
        _ => match Value::new_dict(BTreeMap::new()) {
            Value::Dict(d) => d,
            _ => return Err("sealops: internal error making a dict".into()),
        },
    };
    for src in &a[1..] {
        if let Value::Dict(_) = src {
            let mut path = vec![dst.clone()];
            merge_map(c, &mut path, entries(c, src)?, overwrite)?;
        }
    }
    Ok(Value::Dict(dst))
}

/// A snapshot of a source map's entries (the source may be the destination itself).
fn entries(c: &Ctx, src: &Value) -> Result<Vec<(String, Value)>, FnError> {
    let out: Vec<(String, Value)> = match src {
        Value::Dict(d) => d.borrow().iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        Value::StrMap(m) => m.iter().map(|(k, v)| (k.clone(), Value::Str(v.clone()))).collect(),
        _ => Vec::new(),
    };
    spend(c, out.len())?;
    Ok(out)
}

/// Merges `src` into the last dict of `path` (the dicts from the top destination down).
fn merge_map(c: &Ctx, path: &mut Vec<Rc<DictCell>>, src: Vec<(String, Value)>, overwrite: bool) -> Result<(), FnError> {
    if path.len() > c.max_nesting {
        return Err(FnError::Limit("values nested too deeply"));
    }
    let Some(dst) = path.last().cloned() else { return Ok(()) };
    for (key, sv) in src {
        let dv = dst.borrow().get(&key).cloned();
        match &sv {
            Value::Nil => {
                if overwrite {
                    dst.borrow_mut().insert(key, Value::Nil);
                }
                continue;
            }
            Value::Dict(_) | Value::StrMap(_) => {
                let dst_empty = dv.as_ref().is_none_or(empty);
                match dv {
                    Some(Value::Dict(child)) => {
                        let inner = entries(c, &sv)?;
                        path.push(child);
                        let merged = merge_map(c, path, inner, overwrite);
                        path.pop();
                        merged?;
                    }
                    // Go would write into (or panic on) a map[string]string such as the dot;
                    // sealops never mutates the template's data.
                    Some(Value::StrMap(_)) if !entries(c, &sv)?.is_empty() => {
                        return Err("sealops does not merge into a map[string]string".into());
                    }
                    _ => {}
                }
                if !dst_empty {
                    continue;
                }
            }
            _ => {
                if !(overwrite || dv.as_ref().is_none_or(empty)) {
                    continue;
                }
            }
        }
        insert(c, path, key, sv)?;
    }
    Ok(())
}

/// `dst[key] = value` for the last dict of `path`, within the nesting rules (module docs).
fn insert(c: &Ctx, path: &[Rc<DictCell>], key: String, value: Value) -> Result<(), FnError> {
    let Some(dst) = path.last() else { return Ok(()) };
    if matches!(value, Value::List(_) | Value::Dict(_) | Value::StrMap(_)) {
        for p in path {
            c.depth(&value, Some(p))?;
        }
        let need = c.depth(&value, None)? + 1;
        let last = path.len() - 1;
        for j in (0..path.len()).rev() {
            let cand = need + (last - j);
            if cand <= c.depth(&Value::Dict(path[j].clone()), None)? {
                break;
            }
            // Held elsewhere too (another container or a variable): its other ancestors are
            // unknown. Three references are expected: its parent's, `path`'s, and the `dst` of its
            // own `merge_map` frame.
            let shared = if j == 0 { path[0].nested.get() } else { Rc::strong_count(&path[j]) > 3 };
            if shared {
                return Err("sealops cannot deepen a dict that is also inside another list or dict".into());
            }
            if j == 0 && cand > c.max_nesting {
                return Err(FnError::Limit("values nested too deeply"));
            }
        }
        if let Value::Dict(d) = &value {
            d.nested.set(true);
        }
    }
    dst.borrow_mut().insert(key, value);
    Ok(())
}
