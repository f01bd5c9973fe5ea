//! Template values: the subset of Go's dynamic types that templates over a `map[string]string`
//! and Sprig can produce.

use std::cell::{Cell, Ref, RefCell, RefMut};
use std::collections::BTreeMap;
use std::rc::Rc;

use zeroize::Zeroizing;

/// A Go string: bytes, usually UTF-8, wiped when the last reference goes.
pub(crate) type Str = Rc<Zeroizing<Vec<u8>>>;

pub(crate) fn new_str(bytes: Vec<u8>) -> Str {
    Rc::new(Zeroizing::new(bytes))
}

pub(crate) fn str_from(text: &str) -> Str {
    new_str(text.as_bytes().to_vec())
}

/// A `map[string]interface{}`, shared and mutable like a Go map.
pub(crate) struct DictCell {
    map: RefCell<BTreeMap<String, Value>>,
    /// Set once the dict is inside a list or dict. `set` then refuses to hang containers below
    /// it, which would deepen its (unknown) ancestors past the nesting limit.
    pub nested: Cell<bool>,
}

impl DictCell {
    pub(crate) fn borrow(&self) -> Ref<'_, BTreeMap<String, Value>> {
        self.map.borrow()
    }

    pub(crate) fn borrow_mut(&self) -> RefMut<'_, BTreeMap<String, Value>> {
        self.map.borrow_mut()
    }
}

#[derive(Clone)]
pub(crate) enum Value {
    /// Go's invalid value / nil interface: a missing map key, `nil`, a function's nil result.
    Nil,
    Str(Str),
    /// Go `int`.
    Int(i64),
    /// Go `int64` (Sprig's arithmetic and `atoi`-like results).
    Int64(i64),
    Float(f64),
    Bool(bool),
    /// `[]interface{}` or `[]string`.
    List(Rc<Vec<Value>>),
    /// `map[string]interface{}`: mutable in place (`set`, `unset`), as Go maps are references.
    Dict(Rc<DictCell>),
    /// `map[string]string`: the dot, and Sprig's `split`.
    StrMap(Rc<BTreeMap<String, Str>>),
}

impl Value {
    pub(crate) fn text(text: &str) -> Self {
        Value::Str(str_from(text))
    }

    pub(crate) fn bytes(bytes: Vec<u8>) -> Self {
        Value::Str(new_str(bytes))
    }

    pub(crate) fn new_dict(map: BTreeMap<String, Value>) -> Self {
        Value::Dict(Rc::new(DictCell { map: RefCell::new(map), nested: Cell::new(false) }))
    }

    /// The Go type name, for error messages (never the value).
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Value::Nil => "<nil>",
            Value::Str(_) => "string",
            Value::Int(_) => "int",
            Value::Int64(_) => "int64",
            Value::Float(_) => "float64",
            Value::Bool(_) => "bool",
            Value::List(_) => "[]interface {}",
            Value::Dict(_) => "map[string]interface {}",
            Value::StrMap(_) => "map[string]string",
        }
    }

    /// `text/template`'s truth: non-zero, non-empty.
    pub(crate) fn truth(&self) -> bool {
        match self {
            Value::Nil => false,
            Value::Str(s) => !s.is_empty(),
            Value::Int(n) | Value::Int64(n) => *n != 0,
            Value::Float(f) => *f != 0.0,
            Value::Bool(b) => *b,
            Value::List(l) => !l.is_empty(),
            Value::Dict(d) => !d.borrow().is_empty(),
            Value::StrMap(m) => !m.is_empty(),
        }
    }

    pub(crate) fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(n) | Value::Int64(n) => Some(*n),
            _ => None,
        }
    }
}
