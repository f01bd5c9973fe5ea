//! Sprig's `base`, `dir`, `clean`, `ext`, `isAbs` (Go's `path`) and their `os*` twins (Go's
//! `path/filepath`, which on Linux, where the controller runs, is the same slash-separated logic).

use super::super::super::funcs::{Ctx, FnResult, str_of};
use super::super::super::value::Value;

/// `path.Base`: the last element, trailing slashes dropped; "." for "" and "/" for slashes only.
pub(super) fn base(c: &Ctx, a: Vec<Value>) -> FnResult {
    let s = str_of(&a[0]);
    if s.is_empty() {
        return Ok(Value::text("."));
    }
    let mut p: &[u8] = &s;
    while let [rest @ .., b'/'] = p {
        p = rest;
    }
    if let Some(i) = p.iter().rposition(|&b| b == b'/') {
        p = &p[i + 1..];
    }
    if p.is_empty() {
        return Ok(Value::text("/"));
    }
    c.bytes(p.to_vec())
}

/// `path.Dir`: everything up to the last slash, cleaned.
pub(super) fn dir(c: &Ctx, a: Vec<Value>) -> FnResult {
    let s = str_of(&a[0]);
    let cut = s.iter().rposition(|&b| b == b'/').map_or(0, |i| i + 1);
    c.bytes(clean_path(&s[..cut]))
}

/// `path.Clean`.
pub(super) fn clean(c: &Ctx, a: Vec<Value>) -> FnResult {
    c.bytes(clean_path(&str_of(&a[0])))
}

/// `path.Ext`: from the last dot of the last element, or "".
pub(super) fn ext(c: &Ctx, a: Vec<Value>) -> FnResult {
    let s = str_of(&a[0]);
    for i in (0..s.len()).rev() {
        match s[i] {
            b'/' => break,
            b'.' => return c.bytes(s[i..].to_vec()),
            _ => {}
        }
    }
    Ok(Value::text(""))
}

/// `path.IsAbs`.
pub(super) fn is_abs(_: &Ctx, a: Vec<Value>) -> FnResult {
    Ok(Value::Bool(str_of(&a[0]).first() == Some(&b'/')))
}

/// `path.Clean`'s lexical rules: one slash between elements, no "." elements, ".." elements
/// resolved against the element before them (or dropped at the root), no trailing slash, and
/// "." for an empty result.
fn clean_path(p: &[u8]) -> Vec<u8> {
    if p.is_empty() {
        return b".".to_vec();
    }
    let rooted = p[0] == b'/';
    let mut parts: Vec<&[u8]> = Vec::new();
    // Leading ".." elements of a relative path that cannot be resolved.
    let mut ups = 0usize;
    for elem in p.split(|&b| b == b'/') {
        match elem {
            b"" | b"." => {}
            b".." => {
                if parts.pop().is_none() && !rooted {
                    ups += 1;
                }
            }
            _ => parts.push(elem),
        }
    }
    let mut out = Vec::with_capacity(p.len());
    if rooted {
        out.push(b'/');
    }
    let mut first = true;
    for elem in std::iter::repeat_n(b"..".as_slice(), ups).chain(parts) {
        if !first {
            out.push(b'/');
        }
        out.extend_from_slice(elem);
        first = false;
    }
    if out.is_empty() {
        out.push(b'.');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_follows_go_path_clean() {
        // From Go's path/path_test.go cleantests.
        let cases = [
            ("", "."),
            ("abc", "abc"),
            ("abc/def", "abc/def"),
            ("a/b/c", "a/b/c"),
            (".", "."),
            ("..", ".."),
            ("../..", "../.."),
            ("../../abc", "../../abc"),
            ("/abc", "/abc"),
            ("/", "/"),
            ("abc/", "abc"),
            ("abc/def/", "abc/def"),
            ("a/b/c/", "a/b/c"),
            ("./", "."),
            ("../", ".."),
            ("../../", "../.."),
            ("/abc/", "/abc"),
            ("abc//def//ghi", "abc/def/ghi"),
            ("//abc", "/abc"),
            ("///abc", "/abc"),
            ("//abc//", "/abc"),
            ("abc//", "abc"),
            ("abc/./def", "abc/def"),
            ("/./abc/def", "/abc/def"),
            ("abc/.", "abc"),
            ("abc/def/ghi/../jkl", "abc/def/jkl"),
            ("abc/def/../ghi/../jkl", "abc/jkl"),
            ("abc/def/..", "abc"),
            ("abc/def/../..", "."),
            ("/abc/def/../..", "/"),
            ("abc/def/../../..", ".."),
            ("/abc/def/../../..", "/"),
            ("abc/def/../../../ghi/jkl/../../../mno", "../../mno"),
            ("abc/./../def", "def"),
            ("abc//./../def", "def"),
            ("abc/../../././../def", "../../def"),
        ];
        for (input, want) in cases {
            assert_eq!(clean_path(input.as_bytes()), want.as_bytes(), "{input}");
        }
    }
}
