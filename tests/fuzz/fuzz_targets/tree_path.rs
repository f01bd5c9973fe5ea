//! Tree paths (`["a"][0]['b']`): `path::parse` on any UTF-8, then `get`, `set` and `unset` on a
//! small fixed document.
//!
//! Invariants:
//! * nothing panics;
//! * parsed steps, written back as `["key"]`/`[index]`, parse to the same steps (for keys
//!   without `[`, which the syntax cannot express: components are split at every `[`);
//! * after a successful `set`, the path reads back the leaf whenever it can be read (an index
//!   past the end of a list appends, so that path may not exist), always when the path has no
//!   index; setting the same leaf again reports no change;
//! * after a successful `unset` of an index-free path, the path is gone;
//! * `get`, `set` and `unset` on the fixed document agree: `get` succeeds exactly when `unset`
//!   does, for index-free paths.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealops::sops::path;
use sealops::sops::tree::{Branch, Comment, Element, Item, PathStep, Scalar, Value, branches_equal};

fn doc() -> Branch {
    let list = Value::List(vec![
        Element::Comment(Comment::new(" first")),
        Element::Value(Value::str("a")),
        Element::Value(Value::Map(vec![Item::Pair { key: "k".into(), value: Value::Scalar(Scalar::Int(1)) }])),
        Element::Comment(Comment::new(" between")),
        Element::Value(Value::List(vec![Element::Value(Value::Null)])),
    ]);
    vec![
        Item::Comment(Comment::new(" top")),
        Item::Pair {
            key: "a".into(),
            value: Value::Map(vec![
                Item::Pair { key: "b".into(), value: Value::str("x") },
                Item::Comment(Comment::new(" in a")),
                Item::Pair { key: "list".into(), value: list },
                Item::Pair { key: "".into(), value: Value::Map(Vec::new()) },
            ]),
        },
        Item::Pair { key: "n".into(), value: Value::Null },
        Item::Pair { key: "s".into(), value: Value::str("scalar") },
        Item::Pair { key: "e".into(), value: Value::List(Vec::new()) },
    ]
}

fn text(steps: &[PathStep]) -> String {
    steps
        .iter()
        .map(|s| match s {
            PathStep::Key(k) => format!("[\"{k}\"]"),
            PathStep::Index(i) => format!("[{i}]"),
        })
        .collect()
}

fn same(a: &Value, b: &Value) -> bool {
    a.same_as(b)
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else { return };
    let Ok(steps) = path::parse(input) else { return };

    if steps.iter().all(|s| !matches!(s, PathStep::Key(k) if k.contains('['))) {
        let written = text(&steps);
        assert_eq!(path::parse(&written).as_ref(), Ok(&steps), "path {input:?} written as {written:?}");
    }
    let index_free = steps.iter().all(|s| matches!(s, PathStep::Key(_)));

    let original = doc();
    let got = path::get(&original, &steps);

    // unset on the original
    let mut d = original.clone();
    let unset = path::unset(&mut d, &steps);
    if index_free && !steps.is_empty() {
        assert_eq!(got.is_ok(), unset.is_ok(), "get and unset disagree on {input:?}");
    }
    if unset.is_ok() {
        if index_free {
            assert!(path::get(&d, &steps).is_err(), "{input:?} still there after unset");
        }
    } else {
        // A failed unset leaves the document alone.
        assert!(branches_equal(&d, &original), "failed unset changed {input:?}");
    }

    // set on the original
    let leaf = Value::Scalar(Scalar::str("leaf"));
    let mut d = original.clone();
    match path::set(&mut d, &steps, leaf.clone()) {
        Ok(changed) => {
            if let Ok(old) = &got {
                assert_eq!(changed, !same(old, &leaf), "set of {input:?} reports changed={changed}");
            }
            match path::get(&d, &steps) {
                Ok(now) => {
                    assert!(same(&now, &leaf), "{input:?} does not read back the leaf after set");
                    assert_eq!(
                        path::set(&mut d, &steps, leaf.clone()),
                        Ok(false),
                        "second set of {input:?} changed something"
                    );
                }
                Err(e) => assert!(!index_free, "{input:?} does not read back after set: {e}"),
            }
        }
        Err(_) => {
            assert!(branches_equal(&d, &original), "failed set changed {input:?}");
        }
    }
});
