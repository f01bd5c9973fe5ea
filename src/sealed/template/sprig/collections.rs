//! Sprig's list, dict, math, type and conversion functions beyond the core set (Sprig v3.2.3
//! `list.go`, `dict.go`, `numeric.go`, `reflect.go`, `defaults.go`; `imdario/mergo` for `merge`).
//!
//! Go's reflection accepts any slice for the list functions; sealops has one list type
//! (`Value::List`), so `typeOf` says `[]interface {}` where Go says `[]int` (`until`) or
//! `[]string` (`splitList`, `toStrings`), and `deepEqual` cannot tell those slice types apart
//! (Go: false across slice types). The non-`must` forms panic in Go where the `must` forms
//! return an error; `text/template` turns both into `error calling NAME`.
//!
//! Bounds (untrusted templates): every list built here is checked against the output limit and
//! charged to the render's step budget BEFORE it is allocated (Go would allocate `until
//! 1000000000`); nesting goes through `Ctx::check_nesting`; the recursive walks (`deepCopy`,
//! `deepEqual`, `merge`) stop at the nesting limit.

mod merge;
mod num;

use std::collections::BTreeMap;
use std::rc::Rc;

use super::super::funcs::{Ctx, FnError, FnResult, Func, Param, empty, key_of, kind_name, str_of, strslice};
use super::super::value::Value;
use num::{Op, to_float64, to_int64};

/// The function `name` of this family, if implemented.
pub(super) fn func(name: &str) -> Option<Func> {
    use Param::*;
    let f = |params: &'static [Param], variadic: Option<Param>, call: fn(&Ctx, Vec<Value>) -> FnResult| {
        Some(Func { params, variadic, call })
    };
    match name {
        // ---- conversions (spf13/cast, errors as 0)
        "int64" => f(&[Any], None, |_, a| Ok(Value::Int64(to_int64(&a[0])))),
        "int" => f(&[Any], None, |_, a| Ok(Value::Int(to_int64(&a[0])))),
        "float64" => f(&[Any], None, |_, a| Ok(Value::Float(to_float64(&a[0])))),
        "toDecimal" => f(&[Any], None, |_, a| Ok(Value::Int64(num::to_decimal(&a[0])))),
        "toStrings" => f(&[Any], None, |c, a| {
            let items = strslice(&a[0]);
            check_list(c, items.len())?;
            let total = items.iter().fold(0usize, |n, s| n.saturating_add(s.len()));
            if total > c.max_bytes {
                return Err(FnError::Limit("string result too large"));
            }
            Ok(Value::List(Rc::new(items.into_iter().map(Value::bytes).collect())))
        }),
        // ---- integer sequences
        "until" => f(&[Int], None, |c, a| {
            let count = int_arg(&a[0]);
            until_step(c, 0, count, if count < 0 { -1 } else { 1 }).map(int_list)
        }),
        "untilStep" => f(&[Int, Int, Int], None, |c, a| {
            until_step(c, int_arg(&a[0]), int_arg(&a[1]), int_arg(&a[2])).map(int_list)
        }),
        "seq" => f(&[], Some(Int), seq),
        // ---- integer and float arithmetic
        "biggest" => f(&[Any], Some(Any), |_, a| Ok(Value::Int64(a.iter().map(to_int64).max().unwrap_or(0)))),
        "maxf" => f(&[Any], Some(Any), |_, a| {
            Ok(Value::Float(a[1..].iter().map(to_float64).fold(to_float64(&a[0]), num::go_max)))
        }),
        "minf" => f(&[Any], Some(Any), |_, a| {
            Ok(Value::Float(a[1..].iter().map(to_float64).fold(to_float64(&a[0]), num::go_min)))
        }),
        "ceil" => f(&[Any], None, |_, a| Ok(Value::Float(to_float64(&a[0]).ceil()))),
        "floor" => f(&[Any], None, |_, a| Ok(Value::Float(to_float64(&a[0]).floor()))),
        "round" => f(&[Any, Int], Some(Any), |_, a| {
            // Go's parameter is `...float64`: a float constant or value; sealops also takes an
            // int value there (Go refuses a non-constant int), see the module docs.
            let round_on = match a.get(2) {
                None => 0.5,
                Some(Value::Float(x)) => *x,
                Some(Value::Int(n)) => *n as f64,
                Some(other) => {
                    return Err(format!("wrong type for value; expected float64; got {}", other.type_name()).into());
                }
            };
            Ok(Value::Float(num::round(to_float64(&a[0]), int_arg(&a[1]) as f64, round_on)))
        }),
        "add1f" => {
            f(&[Any], None, |_, a| num::decimal_op(to_float64(&a[0]), &[Value::Int(1)], Op::Add).map(Value::Float))
        }
        "addf" => f(&[], Some(Any), |_, a| num::decimal_op(0.0, &a, Op::Add).map(Value::Float)),
        "subf" => f(&[Any], Some(Any), |_, a| num::decimal_op(to_float64(&a[0]), &a[1..], Op::Sub).map(Value::Float)),
        "mulf" => f(&[Any], Some(Any), |_, a| num::decimal_op(to_float64(&a[0]), &a[1..], Op::Mul).map(Value::Float)),
        "divf" => f(&[Any], Some(Any), |_, a| num::decimal_op(to_float64(&a[0]), &a[1..], Op::Div).map(Value::Float)),
        // ---- defaults
        "all" => f(&[], Some(Any), |_, a| Ok(Value::Bool(a.iter().all(|v| !empty(v))))),
        "any" => f(&[], Some(Any), |_, a| Ok(Value::Bool(a.iter().any(|v| !empty(v))))),
        "compact" | "mustCompact" => f(&[Any], None, |c, a| {
            let items = items(&a[0], |k| format!("Cannot compact on type {k}"))?;
            new_list(c, items.iter().filter(|v| !empty(v)).cloned().collect())
        }),
        "deepCopy" | "mustDeepCopy" => f(&[Any], None, |c, a| deep_copy(c, &a[0], 0)),
        // ---- reflection
        "typeOf" => f(&[Any], None, |_, a| Ok(Value::text(a[0].type_name()))),
        "typeIs" => {
            f(&[Str, Any], None, |_, a| Ok(Value::Bool(str_of(&a[0]).as_slice() == a[1].type_name().as_bytes())))
        }
        "typeIsLike" => f(&[Str, Any], None, |_, a| {
            let (target, t) = (str_of(&a[0]), a[1].type_name().as_bytes());
            Ok(Value::Bool(target.as_slice() == t || (t.first() == Some(&b'*') && target.as_slice() == &t[1..])))
        }),
        "kindOf" => f(&[Any], None, |_, a| Ok(Value::text(kind_name(&a[0])))),
        "kindIs" => {
            f(&[Str, Any], None, |_, a| Ok(Value::Bool(str_of(&a[0]).as_slice() == kind_name(&a[1]).as_bytes())))
        }
        "deepEqual" => f(&[Any, Any], None, |c, a| deep_equal(c, &a[0], &a[1], 0).map(Value::Bool)),
        // ---- dicts
        "tuple" => f(&[], Some(Any), new_list),
        "pluck" => f(&[Str], Some(Dict), |c, a| {
            let key = key_of(&a[0]);
            let found = a[1..].iter().filter_map(|d| dict_get(d, &key)).collect();
            new_list(c, found)
        }),
        "pick" => f(&[Dict], Some(Str), |c, a| {
            let mut out = BTreeMap::new();
            for k in &a[1..] {
                let k = key_of(k);
                if let Some(v) = dict_get(&a[0], &k) {
                    out.insert(k, v);
                }
            }
            new_dict(c, out)
        }),
        "omit" => f(&[Dict], Some(Str), |c, a| {
            let omit: Vec<String> = a[1..].iter().map(key_of).collect();
            let mut out = BTreeMap::new();
            if let Value::Dict(d) = &a[0] {
                for (k, v) in d.borrow().iter().filter(|(k, _)| !omit.contains(k)) {
                    out.insert(k.clone(), v.clone());
                }
            }
            new_dict(c, out)
        }),
        "values" => f(&[Dict], None, |c, a| {
            // Go's map order is random; sorted is one of the orders Go can produce.
            let vals = match &a[0] {
                Value::Dict(d) => d.borrow().values().cloned().collect(),
                _ => Vec::new(),
            };
            new_list(c, vals)
        }),
        "merge" | "mustMerge" => f(&[Dict], Some(Dict), |c, a| merge::merge(c, a, false)),
        "mergeOverwrite" | "mustMergeOverwrite" => f(&[Dict], Some(Dict), |c, a| merge::merge(c, a, true)),
        "dig" => f(&[], Some(Any), dig),
        // ---- lists (any slice; the `must` forms return the error the others panic with)
        "append" | "mustAppend" | "push" | "mustPush" => f(&[Any, Any], None, |c, a| {
            let l = items(&a[0], |k| format!("Cannot push on type {k}"))?;
            let mut out = Vec::new();
            check_list(c, l.len().saturating_add(1))?;
            out.extend(l.iter().cloned());
            out.push(a[1].clone());
            new_list(c, out)
        }),
        "prepend" | "mustPrepend" => f(&[Any, Any], None, |c, a| {
            let l = items(&a[0], |k| format!("Cannot prepend on type {k}"))?;
            check_list(c, l.len().saturating_add(1))?;
            let mut out = vec![a[1].clone()];
            out.extend(l.iter().cloned());
            new_list(c, out)
        }),
        "mustFirst" => f(&[Any], None, |_, a| {
            Ok(items(&a[0], |k| format!("Cannot find first on type {k}"))?.first().cloned().unwrap_or(Value::Nil))
        }),
        "mustLast" => f(&[Any], None, |_, a| {
            Ok(items(&a[0], |k| format!("Cannot find last on type {k}"))?.last().cloned().unwrap_or(Value::Nil))
        }),
        "rest" | "mustRest" => f(&[Any], None, |c, a| {
            let l = items(&a[0], |k| format!("Cannot find rest on type {k}"))?;
            new_list(c, l.iter().skip(1).cloned().collect())
        }),
        "initial" | "mustInitial" => f(&[Any], None, |c, a| {
            let l = items(&a[0], |k| format!("Cannot find initial on type {k}"))?;
            new_list(c, l[..l.len().saturating_sub(1)].to_vec())
        }),
        "reverse" | "mustReverse" => f(&[Any], None, |c, a| {
            let l = items(&a[0], |k| format!("Cannot find reverse on type {k}"))?;
            new_list(c, l.iter().rev().cloned().collect())
        }),
        "uniq" | "mustUniq" => f(&[Any], None, |c, a| {
            let l = items(&a[0], |k| format!("Cannot find uniq on type {k}"))?;
            let mut out: Vec<Value> = Vec::new();
            for item in l.iter() {
                if !in_list(c, &out, item)? {
                    out.push(item.clone());
                }
            }
            new_list(c, out)
        }),
        "without" | "mustWithout" => f(&[Any], Some(Any), |c, a| {
            let l = items(&a[0], |k| format!("Cannot find without on type {k}"))?;
            let mut out = Vec::new();
            for item in l.iter() {
                if !in_list(c, &a[1..], item)? {
                    out.push(item.clone());
                }
            }
            new_list(c, out)
        }),
        "has" | "mustHas" => f(&[Any, Any], None, |c, a| {
            if matches!(a[1], Value::Nil) {
                return Ok(Value::Bool(false));
            }
            let l = items(&a[1], |k| format!("Cannot find has on type {k}"))?;
            in_list(c, &l, &a[0]).map(Value::Bool)
        }),
        "slice" | "mustSlice" => f(&[Any], Some(Any), |c, a| {
            let l = items(&a[0], |k| format!("list should be type of slice or array but {k}"))?;
            if l.is_empty() {
                return Ok(Value::Nil);
            }
            let start = a.get(1).map_or(0, to_int64);
            let end = a.get(2).map_or(l.len() as i64, to_int64);
            // reflect.Value.Slice bounds by the capacity; sealops lists have capacity = length.
            if start < 0 || end < start || end > l.len() as i64 {
                return Err("reflect.Value.Slice: slice index out of bounds".into());
            }
            new_list(c, l[start as usize..end as usize].to_vec())
        }),
        "concat" => f(&[], Some(Any), |c, a| {
            let mut total = 0usize;
            let mut lists = Vec::new();
            for v in &a {
                let l = items(v, |k| format!("Cannot concat type {k} as list"))?;
                total = total.saturating_add(l.len());
                lists.push(l);
            }
            check_list(c, total)?;
            new_list(c, lists.iter().flat_map(|l| l.iter().cloned()).collect())
        }),
        "chunk" | "mustChunk" => f(&[Int, Any], None, chunk),
        _ => None,
    }
}

/// An `int` parameter's value (the executor has converted it already).
fn int_arg(v: &Value) -> i64 {
    v.as_int().unwrap_or(0)
}

fn int_list(items: Vec<i64>) -> Value {
    Value::List(Rc::new(items.into_iter().map(Value::Int).collect()))
}

/// The items of any slice; anything else is Go's `Cannot ... on type KIND` (`reflect.TypeOf(nil)`
/// has no kind: Go dereferences a nil pointer).
fn items(v: &Value, msg: impl Fn(&str) -> String) -> Result<Rc<Vec<Value>>, FnError> {
    match v {
        Value::List(l) => Ok(l.clone()),
        Value::Nil => Err("runtime error: invalid memory address or nil pointer dereference".into()),
        other => Err(FnError::Go(msg(kind_name(other)))),
    }
}

/// Refuses a list of `len` items before it is built: at most the output limit in items, and
/// charged to the render's step budget (sealops' bound; Go allocates whatever is asked).
fn check_list(c: &Ctx, len: usize) -> Result<(), FnError> {
    if len > c.max_bytes {
        return Err(FnError::Limit("list too long"));
    }
    spend(c, len)
}

fn spend(c: &Ctx, n: usize) -> Result<(), FnError> {
    let left = c.work.get().checked_sub(n as u64).ok_or(FnError::Limit("too many evaluation steps"))?;
    c.work.set(left);
    Ok(())
}

fn new_list(c: &Ctx, items: Vec<Value>) -> FnResult {
    check_list(c, items.len())?;
    c.check_nesting(&items)?;
    Ok(Value::List(Rc::new(items)))
}

fn new_dict(c: &Ctx, map: BTreeMap<String, Value>) -> FnResult {
    let vals: Vec<Value> = map.values().cloned().collect();
    c.check_nesting(&vals)?;
    Ok(Value::new_dict(map))
}

fn dict_get(d: &Value, key: &str) -> Option<Value> {
    match d {
        Value::Dict(d) => d.borrow().get(key).cloned(),
        _ => None,
    }
}

/// Sprig's `untilStep`, counted before anything is allocated. Where Go's `i += step` would
/// overflow, Go loops until memory runs out; sealops hits the list bound instead.
fn until_step(c: &Ctx, start: i64, stop: i64, step: i64) -> Result<Vec<i64>, FnError> {
    let (start, stop, step) = (i128::from(start), i128::from(stop), i128::from(step));
    let count = if stop < start {
        if step >= 0 { 0 } else { (start - stop + (-step) - 1) / (-step) }
    } else if step <= 0 {
        0
    } else {
        (stop - start + step - 1) / step
    };
    if count > 0 {
        let after_last = start + count * step;
        if after_last > i128::from(i64::MAX) || after_last < i128::from(i64::MIN) {
            return Err(FnError::Limit("list too long"));
        }
    }
    let count = usize::try_from(count).map_err(|_| FnError::Limit("list too long"))?;
    check_list(c, count)?;
    Ok((0..count).map(|i| (start + i as i128 * step) as i64).collect())
}

/// Sprig's `seq`: the numbers joined by spaces.
fn seq(c: &Ctx, a: Vec<Value>) -> FnResult {
    let p: Vec<i64> = a.iter().map(int_arg).collect();
    let nums = match p[..] {
        [end] => {
            let inc = if end < 1 { -1 } else { 1 };
            until_step(c, 1, end.wrapping_add(inc), inc)?
        }
        [start, end] => {
            let step = if end < start { -1 } else { 1 };
            until_step(c, start, end.wrapping_add(step), step)?
        }
        [start, step, end] => {
            let mut inc = 1;
            if end < start {
                inc = -1;
                if step > 0 {
                    return Ok(Value::text(""));
                }
            }
            until_step(c, start, end.wrapping_add(inc), step)?
        }
        _ => Vec::new(),
    };
    let mut out = Vec::new();
    for (i, n) in nums.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        out.extend_from_slice(n.to_string().as_bytes());
        if out.len() > c.max_bytes {
            return Err(FnError::Limit("string result too large"));
        }
    }
    c.bytes(out)
}

/// Sprig's `chunk`, with Go's float arithmetic for the chunk count (a size of zero or less
/// makes Go panic in `make` or index out of range, except where the count comes out 0).
fn chunk(c: &Ctx, a: Vec<Value>) -> FnResult {
    let size = int_arg(&a[0]);
    let l = items(&a[1], |k| format!("Cannot chunk type {k}"))?;
    let len = l.len() as i64;
    let cs = num::f64_to_i64(((len - 1) as f64 / size as f64).floor() + 1.0);
    if cs < 0 {
        return Err("runtime error: makeslice: len out of range".into());
    }
    check_list(c, usize::try_from(cs).unwrap_or(usize::MAX))?;
    let mut out = Vec::new();
    for i in 0..cs {
        let mut clen = size;
        if i == cs - 1 {
            clen = num::f64_to_i64((len as f64 % size as f64).floor());
            if clen == 0 {
                clen = size;
            }
        }
        if clen < 0 {
            return Err("runtime error: makeslice: len out of range".into());
        }
        check_list(c, usize::try_from(clen).unwrap_or(usize::MAX))?;
        let mut part = Vec::new();
        for j in 0..clen {
            let ix = i.wrapping_mul(size).wrapping_add(j);
            let item = usize::try_from(ix).ok().and_then(|ix| l.get(ix)).ok_or("reflect: slice index out of range")?;
            part.push(item.clone());
        }
        out.push(new_list(c, part)?);
    }
    new_list(c, out)
}

/// Sprig's `dig`: keys, a default, then a dict; Go's type assertions panic on anything else.
fn dig(c: &Ctx, a: Vec<Value>) -> FnResult {
    if a.len() < 3 {
        return Err("dig needs at least three arguments".into());
    }
    let Value::Dict(mut dict) = a[a.len() - 1].clone() else {
        return Err(FnError::Go(format!(
            "interface conversion: interface {{}} is {}, not map[string]interface {{}}",
            a[a.len() - 1].type_name()
        )));
    };
    let default = a[a.len() - 2].clone();
    let mut keys = Vec::new();
    for k in &a[..a.len() - 2] {
        match k {
            Value::Str(s) => keys.push(String::from_utf8_lossy(s).into_owned()),
            other => {
                return Err(FnError::Go(format!(
                    "interface conversion: interface {{}} is {}, not string",
                    other.type_name()
                )));
            }
        }
    }
    spend(c, keys.len())?;
    for (i, k) in keys.iter().enumerate() {
        let step = dict.borrow().get(k).cloned();
        let Some(step) = step else { return Ok(default) };
        if i + 1 == keys.len() {
            return Ok(step);
        }
        match step {
            Value::Dict(d) => dict = d,
            other => {
                return Err(FnError::Go(format!(
                    "interface conversion: interface {{}} is {}, not map[string]interface {{}}",
                    other.type_name()
                )));
            }
        }
    }
    Ok(default)
}

fn in_list(c: &Ctx, haystack: &[Value], needle: &Value) -> Result<bool, FnError> {
    for h in haystack {
        if deep_equal(c, needle, h, 0)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// `reflect.DeepEqual` over template values: same dynamic type, then equal contents. Objects
/// (times, versions, certificates) compare by identity or by type and printed form.
fn deep_equal(c: &Ctx, a: &Value, b: &Value, depth: usize) -> Result<bool, FnError> {
    spend(c, 1)?;
    if depth > c.max_nesting {
        return Err(FnError::Limit("values nested too deeply"));
    }
    Ok(match (a, b) {
        (Value::Nil, Value::Nil) => true,
        (Value::Str(x), Value::Str(y)) => x.as_slice() == y.as_slice(),
        (Value::Int(x), Value::Int(y)) | (Value::Int64(x), Value::Int64(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::List(x), Value::List(y)) => {
            if Rc::ptr_eq(x, y) {
                return Ok(true);
            }
            if x.len() != y.len() {
                return Ok(false);
            }
            for (p, q) in x.iter().zip(y.iter()) {
                if !deep_equal(c, p, q, depth + 1)? {
                    return Ok(false);
                }
            }
            true
        }
        (Value::Dict(x), Value::Dict(y)) => {
            if Rc::ptr_eq(x, y) {
                return Ok(true);
            }
            let (x, y) = (x.borrow(), y.borrow());
            if x.len() != y.len() {
                return Ok(false);
            }
            for (k, p) in x.iter() {
                let Some(q) = y.get(k) else { return Ok(false) };
                if !deep_equal(c, p, q, depth + 1)? {
                    return Ok(false);
                }
            }
            true
        }
        (Value::StrMap(x), Value::StrMap(y)) => {
            spend(c, x.len())?;
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| w.as_slice() == v.as_slice()))
        }
        (Value::Object(x), Value::Object(y)) => {
            Rc::ptr_eq(x, y) || (x.type_name() == y.type_name() && x.format_v() == y.format_v())
        }
        _ => false,
    })
}

/// `copystructure.Copy`: new lists and dicts all the way down; strings, numbers and objects are
/// immutable here, so they are shared.
fn deep_copy(c: &Ctx, v: &Value, depth: usize) -> FnResult {
    spend(c, 1)?;
    if depth > c.max_nesting {
        return Err(FnError::Limit("values nested too deeply"));
    }
    Ok(match v {
        // copystructure asks reflect for the type of the nil interface, which panics.
        Value::Nil if depth == 0 => return Err("reflect: call of reflect.Value.Type on zero Value".into()),
        Value::List(l) => {
            let mut out = Vec::with_capacity(l.len());
            for i in l.iter() {
                out.push(deep_copy(c, i, depth + 1)?);
            }
            mark_nested(&out);
            Value::List(Rc::new(out))
        }
        Value::Dict(d) => {
            let mut out = BTreeMap::new();
            for (k, i) in d.borrow().iter() {
                out.insert(k.clone(), deep_copy(c, i, depth + 1)?);
            }
            mark_nested(&out.values().cloned().collect::<Vec<_>>());
            Value::new_dict(out)
        }
        Value::StrMap(m) => Value::StrMap(Rc::new((**m).clone())),
        other => other.clone(),
    })
}

/// The copies sit inside a container: `set` must treat them as nested (see `DictCell::nested`).
fn mark_nested(items: &[Value]) {
    for i in items {
        if let Value::Dict(d) = i {
            d.nested.set(true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::{ErrorKind, Limits, TemplateData, render_named};

    fn run(template: &str) -> Result<String, ErrorKind> {
        render_named("t", template, &TemplateData::new(), Limits::default())
            .map(|out| String::from_utf8_lossy(out.expose()).into_owned())
            .map_err(|e| e.kind)
    }

    // Expected outputs below were rendered by Go text/template + Sprig v3.2.3
    // (tests/data/gotemplate/cases-collections.json).

    #[test]
    fn sequences_are_bounded_before_allocation() {
        assert_eq!(run("{{ until 5 }} {{ untilStep 10 0 -3 }}").ok().as_deref(), Some("[0 1 2 3 4] [10 7 4 1]"));
        assert!(matches!(run("{{ len (until 2000000000) }}"), Err(ErrorKind::Limit(_))));
        assert!(matches!(
            run("{{ len (untilStep -9223372036854775807 9223372036854775807 1) }}"),
            Err(ErrorKind::Limit(_))
        ));
        // Go's `i += step` wraps around here and never ends; sealops stops at the bound.
        assert!(matches!(run("{{ untilStep 0 9223372036854775807 4611686018427387905 }}"), Err(ErrorKind::Limit(_))));
        assert!(matches!(run("{{ seq 2000000 }}"), Err(ErrorKind::Limit(_))));
        assert_eq!(run("[{{ seq 10 -3 0 }}] [{{ seq 10 3 0 }}]").ok().as_deref(), Some("[10 7 4 1] []"));
    }

    #[test]
    fn repeated_appends_spend_the_step_budget() {
        let t = "{{ $l := until 100000 }}{{ range until 20 }}{{ $l = append $l 1 }}{{ end }}{{ len $l }}";
        assert!(matches!(run(t), Err(ErrorKind::Limit(_))));
    }

    #[test]
    fn non_must_and_must_forms_both_fail_on_wrong_kinds() {
        for t in [
            "{{ append \"abc\" 1 }}",
            "{{ mustAppend (dict) 1 }}",
            "{{ rest 1 }}",
            "{{ mustRest 1 }}",
            "{{ chunk 0 (list 1 2) }}",
        ] {
            assert!(matches!(run(t), Err(ErrorKind::Exec(_))), "{t}");
        }
        assert_eq!(run("{{ chunk -2 (list 1 2 3) }}").ok().as_deref(), Some("[]"));
    }

    #[test]
    fn merge_mutates_destination_and_keeps_nesting_bounded() {
        let t = "{{ $d := dict \"db\" (dict \"host\" \"h1\") }}{{ $_ := mergeOverwrite $d (dict \"db\" (dict \"host\" \"h2\" \"u\" 1)) }}{{ toJson $d }}";
        assert_eq!(run(t).ok().as_deref(), Some(r#"{"db":{"host":"h2","u":1}}"#));
        // The inner dict is also inside a list: deepening it could exceed the limit unseen.
        let t = "{{ $in := dict \"a\" 1 }}{{ $o := list $in }}{{ $_ := merge $in (dict \"b\" (dict \"c\" 1)) }}";
        assert!(run(t).is_err());
        // A dict merged into itself cannot become a cycle.
        let t = "{{ $d := dict \"a\" (dict) }}{{ $_ := merge $d (dict \"a\" (dict \"x\" $d)) }}{{ len $d }}";
        assert!(run(t).is_err());
    }

    #[test]
    fn deep_copy_and_equal_follow_reflect() {
        let t = "{{ $a := dict \"in\" (dict \"k\" 1) }}{{ $b := deepCopy $a }}{{ $_ := set $b.in \"k\" 2 }}{{ $a.in.k }} {{ $b.in.k }} {{ deepEqual $a $b }}";
        assert_eq!(run(t).ok().as_deref(), Some("1 2 false"));
        assert_eq!(run("{{ deepEqual 1 (int64 1) }} {{ uniq (list 1 \"1\" 1) }}").ok().as_deref(), Some("false [1 1]"));
        assert!(run("{{ deepCopy nil }}").is_err());
    }

    #[test]
    fn float_math_goes_through_decimals() {
        assert_eq!(
            run("{{ addf 0.1 0.2 }} {{ mulf 1.1 3 }} {{ divf 1 7 }}").ok().as_deref(),
            Some("0.3 3.3 0.1428571428571429")
        );
        assert_eq!(run("{{ round 2.675 2 }} {{ round 1234.5 -2 }}").ok().as_deref(), Some("2.68 1200"));
        assert!(run("{{ divf 1 0 }}").is_err());
    }
}
