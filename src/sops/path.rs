//! Paths into a document (`["app"]["users"][0]`): parsing, reading, setting, removing.
//!
//! Syntax and semantics follow sops (`cmd/sops/main.go` `parseTreePath`; `sops.go` `Set`,
//! `Unset`, `Truncate`): components are `["key"]`/`['key']` or `[index]`; setting a missing key
//! appends it (creating intermediate maps/lists); setting past the end of a list appends.

use super::tree::{Branch, Element, Item, Key, PathStep, Value, branches_equal};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PathError {
    #[error("error parsing path: component {0} doesn't end with ]")]
    Unterminated(String),
    #[error("error parsing path: component {0} is neither a quoted key nor an index")]
    BadIndex(String),
    #[error("component ['{0}'] not found")]
    KeyNotFound(String),
    #[error("component [{0}] accesses out of bounds")]
    OutOfBounds(usize),
    #[error("component [{0}] is integer, but tree part is not a slice")]
    NotAList(usize),
    #[error("component ['{0}'] is a key, but tree part is not a map")]
    NotAMap(String),
    #[error("Key not found: {0}")]
    UnsetMissing(String),
    #[error("Index {0} out of bounds")]
    UnsetOutOfBounds(usize),
    #[error("the path is empty")]
    Empty,
}

/// Parses `["a"][0]['b']`.
pub fn parse(text: &str) -> Result<Vec<PathStep>, PathError> {
    let mut steps = Vec::new();
    for component in text.split('[').filter(|c| !c.is_empty()) {
        let inner = component.strip_suffix(']').ok_or_else(|| PathError::Unterminated(component.to_owned()))?;
        let quoted = inner.len() >= 2
            && ((inner.starts_with('"') && inner.ends_with('"')) || (inner.starts_with('\'') && inner.ends_with('\'')));
        if quoted {
            steps.push(PathStep::Key(inner[1..inner.len() - 1].to_owned()));
        } else {
            let index = inner.parse::<usize>().map_err(|_| PathError::BadIndex(component.to_owned()))?;
            steps.push(PathStep::Index(index));
        }
    }
    Ok(steps)
}

/// The value at `path` in a document (`Truncate`).
pub fn get(doc: &Branch, path: &[PathStep]) -> Result<Value, PathError> {
    let Some((first, rest)) = path.split_first() else {
        return Ok(Value::Map(doc.clone()));
    };
    let start = match first {
        PathStep::Key(k) => crate::sops::tree::get(doc, k).ok_or_else(|| PathError::KeyNotFound(k.clone()))?,
        PathStep::Index(i) => return Err(PathError::NotAList(*i)),
    };
    rest.iter().try_fold(start, step_into).cloned()
}

fn step_into<'a>(current: &'a Value, step: &PathStep) -> Result<&'a Value, PathError> {
    match (step, current) {
        (PathStep::Key(k), Value::Map(items)) => {
            crate::sops::tree::get(items, k).ok_or_else(|| PathError::KeyNotFound(k.clone()))
        }
        (PathStep::Key(k), _) => Err(PathError::NotAMap(k.clone())),
        (PathStep::Index(i), Value::List(elements)) => elements
            .iter()
            .filter_map(|e| match e {
                Element::Value(v) => Some(v),
                Element::Comment(_) => None,
            })
            .nth(*i)
            .ok_or(PathError::OutOfBounds(*i)),
        (PathStep::Index(i), _) => Err(PathError::NotAList(*i)),
    }
}

/// A value holding `leaf` at `path` (`valueFromPathAndLeaf`).
fn build(path: &[PathStep], leaf: Value) -> Value {
    match path.split_first() {
        None => leaf,
        Some((PathStep::Key(k), rest)) => {
            Value::Map(vec![Item::Pair { key: Key::Str(k.clone()), value: build(rest, leaf) }])
        }
        Some((PathStep::Index(_), rest)) => Value::List(vec![Element::Value(build(rest, leaf))]),
    }
}

/// Sets `path` to `leaf`; returns whether anything changed.
pub fn set(doc: &mut Branch, path: &[PathStep], leaf: Value) -> Result<bool, PathError> {
    let Some((first, rest)) = path.split_first() else {
        return Err(PathError::Empty);
    };
    match first {
        PathStep::Key(k) => Ok(set_in_map(doc, k, rest, leaf)),
        PathStep::Index(i) => Err(PathError::NotAList(*i)),
    }
}

fn set_in_map(items: &mut Branch, key: &str, rest: &[PathStep], leaf: Value) -> bool {
    for item in items.iter_mut() {
        if let Item::Pair { key: Key::Str(k), value } = item
            && k == key
        {
            return set_value(value, rest, leaf);
        }
    }
    items.push(Item::Pair { key: Key::Str(key.to_owned()), value: build(rest, leaf) });
    true
}

fn set_value(slot: &mut Value, path: &[PathStep], leaf: Value) -> bool {
    match (path.split_first(), &mut *slot) {
        (None, current) => {
            let changed = !current.same_as(&leaf);
            *current = leaf;
            changed
        }
        (Some((PathStep::Key(k), rest)), Value::Map(items)) => set_in_map(items, k, rest, leaf),
        (Some((PathStep::Index(i), rest)), Value::List(elements)) => {
            let positions: Vec<usize> =
                elements.iter().enumerate().filter(|(_, e)| matches!(e, Element::Value(_))).map(|(n, _)| n).collect();
            match positions.get(*i) {
                Some(&at) => match &mut elements[at] {
                    Element::Value(v) => set_value(v, rest, leaf),
                    Element::Comment(_) => unreachable!("positions only index values"),
                },
                None => {
                    elements.push(Element::Value(build(rest, leaf)));
                    true
                }
            }
        }
        (Some(_), current) => {
            let replacement = build(path, leaf);
            let changed = !current.same_as(&replacement);
            *current = replacement;
            changed
        }
    }
}

/// Removes the entry at `path`.
pub fn unset(doc: &mut Branch, path: &[PathStep]) -> Result<(), PathError> {
    let Some((first, rest)) = path.split_first() else {
        return Err(PathError::Empty);
    };
    match first {
        PathStep::Key(k) => unset_in_map(doc, k, rest),
        PathStep::Index(i) => Err(PathError::NotAList(*i)),
    }
}

fn unset_in_map(items: &mut Branch, key: &str, rest: &[PathStep]) -> Result<(), PathError> {
    let at = items
        .iter()
        .position(|i| matches!(i, Item::Pair { key: Key::Str(k), .. } if k == key))
        .ok_or_else(|| PathError::UnsetMissing(key.to_owned()))?;
    if rest.is_empty() {
        items.remove(at);
        return Ok(());
    }
    match &mut items[at] {
        Item::Pair { value, .. } => unset_value(value, rest),
        Item::Comment(_) => unreachable!("position matched a pair"),
    }
}

fn unset_value(value: &mut Value, path: &[PathStep]) -> Result<(), PathError> {
    let Some((first, rest)) = path.split_first() else {
        return Err(PathError::Empty);
    };
    match (first, value) {
        (PathStep::Key(k), Value::Map(items)) => unset_in_map(items, k, rest),
        (PathStep::Index(i), Value::List(elements)) => {
            let at = elements
                .iter()
                .enumerate()
                .filter(|(_, e)| matches!(e, Element::Value(_)))
                .map(|(n, _)| n)
                .nth(*i)
                .ok_or(PathError::UnsetOutOfBounds(*i))?;
            if rest.is_empty() {
                elements.remove(at);
                Ok(())
            } else {
                match &mut elements[at] {
                    Element::Value(v) => unset_value(v, rest),
                    Element::Comment(_) => unreachable!("only values are counted"),
                }
            }
        }
        (PathStep::Key(k), _) => Err(PathError::UnsetMissing(k.clone())),
        (PathStep::Index(i), _) => Err(PathError::UnsetOutOfBounds(*i)),
    }
}

/// True when two documents are equal (comments included).
pub fn same_documents(a: &[Branch], b: &[Branch]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| branches_equal(x, y))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sops::tree::Scalar;

    fn doc() -> Branch {
        vec![Item::Pair {
            key: "app".into(),
            value: Value::Map(vec![
                Item::Pair { key: "user".into(), value: Value::str("root") },
                Item::Pair {
                    key: "list".into(),
                    value: Value::List(vec![Element::Value(Value::str("a")), Element::Value(Value::str("b"))]),
                },
            ]),
        }]
    }

    #[test]
    fn parses_sops_paths() {
        assert_eq!(
            parse(r#"["app"][0]['x']"#).unwrap(),
            vec![PathStep::Key("app".into()), PathStep::Index(0), PathStep::Key("x".into())]
        );
        assert!(matches!(parse(r#"["app""#), Err(PathError::Unterminated(_))));
        assert!(matches!(parse("[x]"), Err(PathError::BadIndex(_))));
    }

    #[test]
    fn get_set_unset() {
        let mut d = doc();
        let p = parse(r#"["app"]["list"][1]"#).unwrap();
        assert!(get(&d, &p).unwrap().same_as(&Value::str("b")));
        assert!(!set(&mut d, &parse(r#"["app"]["user"]"#).unwrap(), Value::str("root")).unwrap());
        assert!(set(&mut d, &parse(r#"["app"]["user"]"#).unwrap(), Value::Scalar(Scalar::Int(1))).unwrap());
        assert!(set(&mut d, &parse(r#"["new"]["deep"][0]"#).unwrap(), Value::str("x")).unwrap());
        assert!(get(&d, &parse(r#"["new"]["deep"][0]"#).unwrap()).unwrap().same_as(&Value::str("x")));
        unset(&mut d, &parse(r#"["app"]["list"][0]"#).unwrap()).unwrap();
        assert!(get(&d, &p).is_err());
        assert_eq!(unset(&mut d, &parse(r#"["nope"]"#).unwrap()), Err(PathError::UnsetMissing("nope".into())));
        assert!(matches!(get(&d, &parse(r#"["app"]["user"][0]"#).unwrap()), Err(PathError::NotAList(0))));
    }
}
