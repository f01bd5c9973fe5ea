//! The document model every store parses into and emits from.
//!
//! It mirrors sops's own (`sops.go`: `TreeBranches` → `TreeBranch` → `TreeItem`): a document is
//! an ordered list of items; an item is a key/value pair or a comment; list elements are values
//! or comments. Comments are items because sops encrypts them in place and their position decides
//! their AAD (the path of the map or list that holds them).
//!
//! Scalars hold plaintext (or, before decryption, `ENC[…]` envelopes) in [`SecretBytes`], so the
//! tree has no `Debug` that could print a value: its `Debug` shows the shape only.

use std::fmt;

use super::gotime::GoTime;
use crate::crypto::SecretBytes;

/// One document: a YAML document, or the whole file for the other formats.
pub type Branch = Vec<Item>;

/// An entry of a map.
#[derive(Clone)]
pub enum Item {
    Pair { key: Key, value: Value },
    Comment(Comment),
}

/// A map key. sops only supports string keys; others are kept so the error can name them.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Key {
    Str(String),
    /// A non-string YAML key (`1: a`, `true: b`); refused when the tree is encrypted.
    Other {
        text: String,
        kind: &'static str,
    },
}

impl Key {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Key::Str(s) => Some(s),
            Key::Other { .. } => None,
        }
    }
}

impl From<&str> for Key {
    fn from(s: &str) -> Self {
        Key::Str(s.to_owned())
    }
}

/// A comment line (text after `#`, leading space kept).
#[derive(Clone)]
pub struct Comment {
    pub text: SecretBytes,
    /// A YAML line comment (`key: value # text`), kept on its line on output (sops ≥ 3.13).
    pub inline: bool,
}

impl Comment {
    pub fn new(text: impl Into<SecretBytes>) -> Self {
        Self { text: text.into(), inline: false }
    }
}

/// A value in the tree.
#[derive(Clone)]
pub enum Value {
    /// YAML `null`/`~`/empty, JSON `null`: neither encrypted nor hashed.
    Null,
    Scalar(Scalar),
    Map(Branch),
    List(Vec<Element>),
}

/// A list element.
#[derive(Clone)]
pub enum Element {
    Value(Value),
    Comment(Comment),
}

/// A leaf value with its sops type.
#[derive(Clone)]
pub enum Scalar {
    /// `type:str`. Bytes, because Go strings are: the binary and dotenv stores carry any byte.
    Str(SecretBytes),
    /// `type:int`.
    Int(i64),
    /// A YAML integer above `i64::MAX`. sops cannot encrypt it (`unknown type: uint64`); kept
    /// so the error is the same.
    Uint(u64),
    /// `type:float`.
    Float(f64),
    /// `type:bool`.
    Bool(bool),
    /// `type:time` (YAML timestamps, sops ≥ 3.10).
    Time(GoTime),
    /// `type:bytes`: decrypt-only, from very old files.
    Bytes(SecretBytes),
}

impl Scalar {
    pub fn str(text: &str) -> Self {
        Scalar::Str(SecretBytes::from(text))
    }

    /// The name used in errors (Go's `%T`-ish).
    pub fn type_name(&self) -> &'static str {
        match self {
            Scalar::Str(_) => "string",
            Scalar::Int(_) => "int",
            Scalar::Uint(_) => "uint64",
            Scalar::Float(_) => "float64",
            Scalar::Bool(_) => "bool",
            Scalar::Time(_) => "time.Time",
            Scalar::Bytes(_) => "[]uint8",
        }
    }

    /// Structural equality (used by `set` to decide whether anything changed).
    pub fn same_as(&self, other: &Scalar) -> bool {
        match (self, other) {
            (Scalar::Str(a), Scalar::Str(b)) | (Scalar::Bytes(a), Scalar::Bytes(b)) => a == b,
            (Scalar::Int(a), Scalar::Int(b)) => a == b,
            (Scalar::Uint(a), Scalar::Uint(b)) => a == b,
            (Scalar::Float(a), Scalar::Float(b)) => a.to_bits() == b.to_bits(),
            (Scalar::Bool(a), Scalar::Bool(b)) => a == b,
            (Scalar::Time(a), Scalar::Time(b)) => a == b,
            _ => false,
        }
    }
}

impl Value {
    pub fn str(text: &str) -> Self {
        Value::Scalar(Scalar::str(text))
    }

    /// Deep structural equality, comments included (sops `equals`).
    pub fn same_as(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Scalar(a), Value::Scalar(b)) => a.same_as(b),
            (Value::Map(a), Value::Map(b)) => branches_equal(a, b),
            (Value::List(a), Value::List(b)) => {
                a.len() == b.len()
                    && a.iter().zip(b).all(|(x, y)| match (x, y) {
                        (Element::Value(x), Element::Value(y)) => x.same_as(y),
                        (Element::Comment(x), Element::Comment(y)) => x.text == y.text,
                        _ => false,
                    })
            }
            _ => false,
        }
    }
}

/// Deep structural equality of two maps.
pub fn branches_equal(a: &[Item], b: &[Item]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| match (x, y) {
            (Item::Pair { key: k1, value: v1 }, Item::Pair { key: k2, value: v2 }) => k1 == k2 && v1.same_as(v2),
            (Item::Comment(x), Item::Comment(y)) => x.text == y.text,
            _ => false,
        })
}

/// Looks a key up in a map.
pub fn get<'a>(branch: &'a [Item], key: &str) -> Option<&'a Value> {
    branch.iter().find_map(|item| match item {
        Item::Pair { key: Key::Str(k), value } if k == key => Some(value),
        _ => None,
    })
}

/// One step of a path into the tree: a map key or a list index (`["a"][0]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathStep {
    Key(String),
    Index(usize),
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Scalar(s) => write!(f, "<{}>", s.type_name()),
            Value::Map(items) => f.debug_list().entries(items.iter()).finish(),
            Value::List(elements) => f.debug_list().entries(elements.iter()).finish(),
        }
    }
}

impl fmt::Debug for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Item::Pair { key, value } => write!(f, "{key:?}: {value:?}"),
            Item::Comment(_) => f.write_str("#<comment>"),
        }
    }
}

impl fmt::Debug for Element {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Element::Value(v) => v.fmt(f),
            Element::Comment(_) => f.write_str("#<comment>"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_values() {
        let doc: Branch = vec![
            Item::Comment(Comment::new("canary-comment")),
            Item::Pair { key: "password".into(), value: Value::str("canary-value") },
        ];
        let shown = format!("{:?}", Value::Map(doc));
        assert!(!shown.contains("canary"), "{shown}");
        assert!(shown.contains("password"));
    }

    #[test]
    fn equality_is_structural() {
        let a = Value::List(vec![Element::Value(Value::str("x")), Element::Comment(Comment::new("c"))]);
        let b = a.clone();
        assert!(a.same_as(&b));
        let c = Value::List(vec![Element::Value(Value::str("y")), Element::Comment(Comment::new("c"))]);
        assert!(!a.same_as(&c));
        assert!(Value::Scalar(Scalar::Float(f64::NAN)).same_as(&Value::Scalar(Scalar::Float(f64::NAN))));
    }
}
