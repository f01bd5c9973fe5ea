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

/// A value of a named Go type that templates reach through fields and methods: `time.Time` and
/// `time.Duration` (Sprig's date functions), `*semver.Version`, Sprig's `certificate` struct.
/// Each Sprig family implements its own types; the executor only dispatches `.Name args...`.
pub(crate) trait Object {
    /// The Go type name, as `%T` and error messages print it (never the value).
    fn type_name(&self) -> &'static str;

    /// The `reflect.Kind` name (`kindOf`): "struct" for `time.Time`, "int64" for
    /// `time.Duration`, "ptr" for `*semver.Version`.
    fn kind(&self) -> &'static str;

    /// `text/template`'s truth: structs are always true; a zero `time.Duration` is false.
    fn truth(&self) -> bool {
        true
    }

    /// Go's `%v` (and `print`, `toString`) form. For a type with a `String()` method, that.
    fn format_v(&self) -> Vec<u8>;

    /// `encoding/json`'s form, for `toJson`; `None` marshals as Go marshals a struct with no
    /// exported fields, `{}`.
    fn json(&self) -> Option<Vec<u8>> {
        None
    }

    /// `.name args...`: a field (no arguments) or a method. `None` when the type has neither, so
    /// the executor reports Go's "can't evaluate field". Arguments arrive untyped (as `interface{}`);
    /// a method checks them and returns Go's error text.
    fn member(&self, name: &str, args: Vec<Value>) -> Option<Result<Value, String>>;

    /// For functions that take this type (`dateModify` takes a `time.Time`): downcast with
    /// `as_any().downcast_ref::<T>()`.
    fn as_any(&self) -> &dyn std::any::Any;
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
    /// A named Go type with fields or methods (see [`Object`]).
    Object(Rc<dyn Object>),
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
            Value::Object(o) => o.type_name(),
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
            Value::Object(o) => o.truth(),
        }
    }

    pub(crate) fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(n) | Value::Int64(n) => Some(*n),
            _ => None,
        }
    }
}
