//! Sprig's `abbrev`, `abbrevboth`, `untitle`, `initials`, `swapcase`, `wrap`, `wrapWith`,
//! `plural` and `splitn` (sprig/strings.go and functions.go, over goutils' `stringutils.go` and
//! `wordutils.go`). goutils works on bytes where its Java original works on chars; that is kept,
//! so multi-byte characters can be cut, as in Go.

use std::collections::BTreeMap;
use std::rc::Rc;

use super::super::super::fmt::decode_rune;
use super::super::super::funcs::{Ctx, FnError, FnResult, str_of};
use super::super::super::value::{Value, new_str};
use super::{is_lower, is_space, is_title, is_upper, runes, to_lower, to_title, to_upper};

fn int(v: &Value) -> i64 {
    v.as_int().unwrap_or(0)
}

/// `abbrev width s`: goutils `Abbreviate` with its error (width below 4) rendered as the input.
pub(super) fn abbrev(c: &Ctx, a: Vec<Value>) -> FnResult {
    let (width, s) = (int(&a[0]), str_of(&a[1]));
    if width < 4 {
        return c.bytes(s.to_vec());
    }
    c.bytes(abbreviate_full(&s, 0, width).unwrap_or_default())
}

/// `abbrevboth left right s`: goutils `AbbreviateFull`; its errors give "".
pub(super) fn abbrevboth(c: &Ctx, a: Vec<Value>) -> FnResult {
    let (left, right, s) = (int(&a[0]), int(&a[1]), str_of(&a[2]));
    if right < 4 || left > 0 && right < 7 {
        return c.bytes(s.to_vec());
    }
    c.bytes(abbreviate_full(&s, left, right).unwrap_or_default())
}

/// goutils `AbbreviateFull(str, offset, maxWidth)`; `None` for its errors.
fn abbreviate_full(s: &[u8], offset: i64, max_width: i64) -> Option<Vec<u8>> {
    const MARKER: &[u8] = b"...";
    if s.is_empty() {
        return Some(Vec::new());
    }
    if max_width < 4 {
        return None;
    }
    let len = s.len() as i64;
    if len <= max_width {
        return Some(s.to_vec());
    }
    // From here max_width < len, so every index below is within 0..=len.
    let mut offset = offset.min(len);
    // Go's int arithmetic wraps for offsets near the minimum; so does this.
    if len.wrapping_sub(offset) < max_width - 3 {
        offset = len - (max_width - 3);
    }
    if offset <= 4 {
        return Some([&s[..(max_width - 3) as usize], MARKER].concat());
    }
    if max_width < 7 {
        return None;
    }
    if offset + max_width - 3 < len {
        // `Abbreviate(str[offset:], maxWidth-3)`: that call's offset is 0, so it cuts the head.
        let rest = &s[offset as usize..];
        let inner = if rest.len() as i64 <= max_width - 3 {
            rest.to_vec()
        } else {
            [&rest[..(max_width - 6) as usize], MARKER].concat()
        };
        return Some([MARKER, &inner].concat());
    }
    Some([MARKER, &s[(len - (max_width - 3)) as usize..]].concat())
}

/// goutils `Uncapitalize` with whitespace delimiters: the first character of each word lowered.
pub(super) fn untitle(c: &Ctx, a: Vec<Value>) -> FnResult {
    let s = str_of(&a[0]);
    if s.is_empty() {
        return c.bytes(Vec::new());
    }
    let mut next = true;
    let out: String = runes(&s)
        .into_iter()
        .map(|ch| {
            if is_space(ch) {
                next = true;
                ch
            } else if next {
                next = false;
                to_lower(ch)
            } else {
                ch
            }
        })
        .collect();
    c.bytes(out.into_bytes())
}

/// goutils `Initials`: it reads the string byte by byte, each byte taken as the character of that
/// code point (so UTF-8 sequences come out as Latin-1 mojibake, and the bytes 0x85 and 0xA0 count
/// as spaces), exactly as Go's `rune(str[i])` does.
pub(super) fn initials(c: &Ctx, a: Vec<Value>) -> FnResult {
    let s = str_of(&a[0]);
    let mut out = String::new();
    let mut gap = true;
    for &b in s.iter() {
        let ch = char::from(b);
        if is_space(ch) {
            gap = true;
        } else if gap {
            out.push(ch);
            gap = false;
        }
    }
    c.bytes(out.into_bytes())
}

/// goutils `SwapCase`: upper and title case lowered, lower case raised (to title case at the
/// start of a word).
pub(super) fn swapcase(c: &Ctx, a: Vec<Value>) -> FnResult {
    let s = str_of(&a[0]);
    let mut word_start = true;
    let out: String = runes(&s)
        .into_iter()
        .map(|ch| {
            if is_upper(ch) || is_title(ch) {
                word_start = false;
                to_lower(ch)
            } else if is_lower(ch) {
                if word_start {
                    word_start = false;
                    to_title(ch)
                } else {
                    to_upper(ch)
                }
            } else {
                word_start = is_space(ch);
                ch
            }
        })
        .collect();
    c.bytes(out.into_bytes())
}

/// `wrap width s`: goutils `Wrap` (long words kept whole, "\n" between lines).
pub(super) fn wrap(c: &Ctx, a: Vec<Value>) -> FnResult {
    wrap_custom(c, &str_of(&a[1]), int(&a[0]), b"", false)
}

/// `wrapWith width sep s`: goutils `WrapCustom` with long words cut.
pub(super) fn wrap_with(c: &Ctx, a: Vec<Value>) -> FnResult {
    wrap_custom(c, &str_of(&a[2]), int(&a[0]), &str_of(&a[1]), true)
}

/// goutils `WrapCustom`: breaks lines at the last space within `width` bytes.
fn wrap_custom(c: &Ctx, s: &[u8], width: i64, newline: &[u8], long_words: bool) -> FnResult {
    if s.is_empty() {
        return c.bytes(Vec::new());
    }
    let newline = if newline.is_empty() { b"\n".as_slice() } else { newline };
    // Widths past the input length never wrap; clamping keeps the arithmetic in range.
    let width = width.clamp(1, s.len() as i64 + 1) as usize;
    let len = s.len();
    let mut out = Vec::new();
    let push = |out: &mut Vec<u8>, part: &[u8]| {
        c.check_len(out.len().saturating_add(part.len()))?;
        out.extend_from_slice(part);
        Ok::<(), FnError>(())
    };
    let mut offset = 0;
    while len - offset > width {
        if s[offset] == b' ' {
            offset += 1;
            continue;
        }
        let end = width + offset + 1;
        match s[offset..end].iter().rposition(|&b| b == b' ') {
            // The character at `offset` is not a space, so a space found is past it.
            Some(i) if i > 0 => {
                push(&mut out, &s[offset..offset + i])?;
                push(&mut out, newline)?;
                offset += i + 1;
            }
            _ if long_words => {
                push(&mut out, &s[offset..offset + width])?;
                push(&mut out, newline)?;
                offset += width;
            }
            _ => {
                let end = width + offset;
                match s[end..].iter().position(|&b| b == b' ') {
                    None => {
                        push(&mut out, &s[offset..])?;
                        offset = len;
                    }
                    Some(i) => {
                        push(&mut out, &s[offset..end + i])?;
                        push(&mut out, newline)?;
                        offset = end + i + 1;
                    }
                }
            }
        }
    }
    push(&mut out, &s[offset..])?;
    c.bytes(out)
}

/// `plural one many count`.
pub(super) fn plural(_: &Ctx, a: Vec<Value>) -> FnResult {
    Ok(if int(&a[2]) == 1 { a[0].clone() } else { a[1].clone() })
}

/// `splitn sep n s`: `strings.SplitN` as a `map[string]string` with keys `_0`, `_1`, ...
pub(super) fn splitn(c: &Ctx, a: Vec<Value>) -> FnResult {
    let (sep, n, s) = (str_of(&a[0]), int(&a[1]), str_of(&a[2]));
    let parts = split_n(&s, &sep, n);
    // Printing the map takes a few bytes per item; the count is held to the output limit.
    c.check_len(parts.len())?;
    let map: BTreeMap<String, _> = parts.into_iter().enumerate().map(|(i, p)| (format!("_{i}"), new_str(p))).collect();
    Ok(Value::StrMap(Rc::new(map)))
}

/// `strings.SplitN`: at most `n` parts (all when `n < 0`, none when 0); an empty separator splits
/// after each UTF-8 sequence.
fn split_n(s: &[u8], sep: &[u8], n: i64) -> Vec<Vec<u8>> {
    if n == 0 {
        return Vec::new();
    }
    let limit = if n < 0 { usize::MAX } else { usize::try_from(n).unwrap_or(usize::MAX) };
    let mut parts = Vec::new();
    let mut rest = s;
    if sep.is_empty() {
        while !rest.is_empty() {
            if parts.len() + 1 == limit {
                break;
            }
            let (_, len) = decode_rune(rest);
            parts.push(rest[..len].to_vec());
            rest = &rest[len..];
        }
        if !rest.is_empty() {
            parts.push(rest.to_vec());
        }
        return parts;
    }
    while parts.len() + 1 < limit {
        let Some(i) = rest.windows(sep.len()).position(|w| w == sep) else { break };
        parts.push(rest[..i].to_vec());
        rest = &rest[i + sep.len()..];
    }
    parts.push(rest.to_vec());
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abbreviate_full_matches_goutils_examples() {
        // The examples in goutils' own documentation of AbbreviateFull.
        let s = b"abcdefghijklmno";
        let cases: &[(i64, i64, &str)] = &[
            (-1, 10, "abcdefg..."),
            (0, 10, "abcdefg..."),
            (1, 10, "abcdefg..."),
            (4, 10, "abcdefg..."),
            (5, 10, "...fghi..."),
            (6, 10, "...ghij..."),
            (8, 10, "...ijklmno"),
            (10, 10, "...ijklmno"),
            (12, 10, "...ijklmno"),
        ];
        for (offset, width, want) in cases {
            assert_eq!(abbreviate_full(s, *offset, *width).as_deref(), Some(want.as_bytes()), "{offset}");
        }
        assert_eq!(abbreviate_full(b"abcdefghij", 5, 6), None);
        // len - offset wraps in Go, which moves the offset to the end.
        assert_eq!(abbreviate_full(s, i64::MIN, 10).as_deref(), Some(b"...ijklmno".as_slice()));
    }

    #[test]
    fn split_n_follows_strings_split_n() {
        assert_eq!(split_n(b"a,b,c", b",", 2), vec![b"a".to_vec(), b"b,c".to_vec()]);
        assert_eq!(split_n(b"a,b,c", b",", -1).len(), 3);
        assert!(split_n(b"a,b", b",", 0).is_empty());
        assert_eq!(split_n("héllo".as_bytes(), b"", 3), vec![b"h".to_vec(), "é".as_bytes().to_vec(), b"llo".to_vec()]);
        assert_eq!(split_n(b"", b"", -1), Vec::<Vec<u8>>::new());
        assert_eq!(split_n(b"", b",", -1), vec![Vec::<u8>::new()]);
    }
}
