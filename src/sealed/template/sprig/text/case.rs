//! Sprig's `camelcase`, `snakecase` and `kebabcase`: huandu/xstrings 1.3.3's `ToCamelCase`,
//! `ToSnakeCase` and `ToKebabCase` (convert.go), step by step, because their word splitting has
//! many special cases (digits, acronyms such as "HTTPServer", punctuation, CJK, invalid UTF-8).

use super::super::super::fmt::decode_rune;
use super::super::super::funcs::{Ctx, FnResult, str_of};
use super::super::super::value::Value;
use super::{is_letter, is_number, is_punct, is_space, is_upper, to_lower, to_upper};

/// Go's `utf8.DecodeRuneInString`: U+FFFD (Go's `RuneError`) for an invalid byte.
fn decode(s: &[u8]) -> (char, usize) {
    let (c, len) = decode_rune(s);
    (c.unwrap_or(ERR), len)
}

const ERR: char = '\u{FFFD}';

/// xstrings' `isConnector`.
fn is_connector(c: char) -> bool {
    c == '-' || c == '_' || is_space(c)
}

/// xstrings' `isAlphabet`: letters, except the common CJK ideograph blocks.
fn is_alphabet(c: char) -> bool {
    if !is_letter(c) {
        return false;
    }
    !matches!(c, '\u{4E00}'..='\u{9FCC}' | '\u{3400}'..='\u{4D85}' | '\u{20000}'..='\u{2B81D}')
}

/// `camelcase`: xstrings `ToCamelCase`.
pub(super) fn camel(c: &Ctx, a: Vec<Value>) -> FnResult {
    let s = str_of(&a[0]);
    let mut rest: &[u8] = &s;
    if rest.is_empty() {
        return c.bytes(Vec::new());
    }
    let mut out = String::new();
    let mut r0 = ERR;
    let mut size = 0;
    // Leading connectors are kept; the first other character is raised.
    while !rest.is_empty() {
        (r0, size) = decode(rest);
        rest = &rest[size..];
        if !is_connector(r0) {
            r0 = to_upper(r0);
            break;
        }
        out.push(r0);
    }
    if rest.is_empty() {
        // Go writes the last character again even when it was a connector already written.
        if size != 0 {
            out.push(r0);
        }
        return c.bytes(out.into_bytes());
    }
    while !rest.is_empty() {
        let r1 = r0;
        (r0, size) = decode(rest);
        rest = &rest[size..];
        if is_connector(r0) && is_connector(r1) {
            out.push(r1);
            continue;
        }
        if is_connector(r1) {
            r0 = to_upper(r0);
        } else {
            r0 = to_lower(r0);
            out.push(r1);
        }
    }
    out.push(r0);
    c.bytes(out.into_bytes())
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Word {
    Invalid,
    Number,
    UpperCase,
    Alphabet,
    Connector,
    Punct,
    Other,
}

/// xstrings' `nextValidRune`: the next valid character, skipping invalid bytes (their length is
/// counted); `prev` when nothing valid is left.
fn next_valid(s: &[u8], prev: char) -> (char, usize) {
    let mut size = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let (r, sz) = decode(rest);
        size += sz;
        if r != ERR {
            return (r, size);
        }
        rest = &rest[sz..];
    }
    (prev, size)
}

/// xstrings' `nextWord`: the kind of the next word, the word and the rest.
fn next_word(s: &[u8]) -> (Word, &[u8], &[u8]) {
    if s.is_empty() {
        return (Word::Invalid, s, s);
    }
    let (mut r, mut size) = next_valid(s, ERR);
    let mut offset = size;
    if r == ERR {
        return (Word::Invalid, &s[..offset], &s[offset..]);
    }
    let mut rest = &s[size..];
    // Extends the word while `keep` holds for the next valid character.
    let extend = |r: &mut char, rest: &mut &[u8], offset: &mut usize, keep: &dyn Fn(char) -> bool| {
        while !rest.is_empty() {
            let (nr, sz) = next_valid(rest, *r);
            *r = nr;
            if !keep(nr) {
                break;
            }
            *offset += sz;
            *rest = &rest[sz..];
        }
    };
    let kind = if is_connector(r) {
        extend(&mut r, &mut rest, &mut offset, &is_connector);
        Word::Connector
    } else if is_punct(r) {
        extend(&mut r, &mut rest, &mut offset, &is_punct);
        Word::Punct
    } else if is_upper(r) {
        if !rest.is_empty() {
            (r, size) = next_valid(rest, r);
            if is_upper(r) {
                let mut prev_size = size;
                offset += size;
                rest = &rest[size..];
                while !rest.is_empty() {
                    (r, size) = next_valid(rest, r);
                    if !is_upper(r) {
                        break;
                    }
                    prev_size = size;
                    offset += size;
                    rest = &rest[size..];
                }
                // "HTTPStatus" splits as "HTTP" and "Status": the last capital starts the next
                // word when a letter follows it.
                if !rest.is_empty() && is_alphabet(r) {
                    offset -= prev_size;
                    rest = &s[offset..];
                }
            } else if is_alphabet(r) {
                offset += size;
                rest = &rest[size..];
                extend(&mut r, &mut rest, &mut offset, &|c| is_alphabet(c) && !is_upper(c));
            }
        }
        Word::UpperCase
    } else if is_alphabet(r) {
        extend(&mut r, &mut rest, &mut offset, &|c| is_alphabet(c) && !is_upper(c));
        Word::Alphabet
    } else if is_number(r) {
        extend(&mut r, &mut rest, &mut offset, &is_number);
        Word::Number
    } else {
        // Go also stops on `size == 0`, which cannot happen for a non-empty rest.
        extend(&mut r, &mut rest, &mut offset, &|c| {
            !(is_connector(c) || is_alphabet(c) || is_number(c) || is_punct(c))
        });
        Word::Other
    };
    (kind, &s[..offset], rest)
}

/// xstrings' `toLower`: upper-case and connector words are rewritten character by character
/// (connectors become `connector`), other words are copied.
fn to_lower_word(out: &mut String, kind: Word, word: &[u8], connector: char) {
    if kind != Word::UpperCase && kind != Word::Connector {
        out.push_str(&String::from_utf8_lossy(word));
        return;
    }
    let mut rest = word;
    while !rest.is_empty() {
        let (r, size) = decode(rest);
        rest = &rest[size..];
        if is_connector(r) {
            out.push(connector);
        } else if is_upper(r) {
            out.push(to_lower(r));
        } else {
            out.push(r);
        }
    }
}

/// `snakecase` (`connector` '_') and `kebabcase` ('-'): xstrings `camelCaseToLowerCase`.
pub(super) fn snake_or_kebab(c: &Ctx, v: &Value, connector: char) -> FnResult {
    let s = str_of(v);
    let out = lower_case_words(&s, connector);
    c.bytes(out)
}

fn lower_case_words(s: &[u8], connector: char) -> Vec<u8> {
    if s.is_empty() {
        return Vec::new();
    }
    // Words are copied as bytes where Go copies them (invalid UTF-8 included), so the output is
    // assembled from byte pieces.
    let mut out = Bytes::default();
    let (mut wt, mut word, mut remaining) = next_word(s);
    while !remaining.is_empty() {
        if wt != Word::Connector {
            out.lower(wt, word, connector);
        }
        let prev = wt;
        let last = word;
        (wt, word, remaining) = next_word(remaining);
        match prev {
            Word::Number => {
                while wt == Word::Alphabet || wt == Word::Number {
                    out.lower(wt, word, connector);
                    (wt, word, remaining) = next_word(remaining);
                }
                if wt != Word::Invalid && wt != Word::Punct && wt != Word::Connector {
                    out.push(connector);
                }
            }
            Word::Connector => out.lower(prev, last, connector),
            Word::Punct => {}
            _ => {
                if wt != Word::Number {
                    if wt != Word::Connector && wt != Word::Punct {
                        out.push(connector);
                    }
                    continue;
                }
                if remaining.is_empty() {
                    continue;
                }
                let last = word;
                (wt, word, remaining) = next_word(remaining);
                if wt != Word::Alphabet {
                    out.lower(Word::Number, last, connector);
                    if wt != Word::Connector && wt != Word::Punct {
                        out.push(connector);
                    }
                    continue;
                }
                out.push(connector);
                out.lower(Word::Number, last, connector);
                while wt == Word::Alphabet || wt == Word::Number {
                    out.lower(wt, word, connector);
                    (wt, word, remaining) = next_word(remaining);
                }
                if wt != Word::Invalid && wt != Word::Connector && wt != Word::Punct {
                    out.push(connector);
                }
            }
        }
    }
    out.lower(wt, word, connector);
    out.0
}

#[derive(Default)]
struct Bytes(Vec<u8>);

impl Bytes {
    fn push(&mut self, c: char) {
        let mut buf = [0u8; 4];
        self.0.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    }

    fn lower(&mut self, kind: Word, word: &[u8], connector: char) {
        if kind != Word::UpperCase && kind != Word::Connector {
            self.0.extend_from_slice(word);
            return;
        }
        let mut s = String::new();
        to_lower_word(&mut s, kind, word, connector);
        self.0.extend_from_slice(s.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snake(s: &str) -> String {
        String::from_utf8(lower_case_words(s.as_bytes(), '_')).unwrap_or_default()
    }

    #[test]
    fn snake_case_matches_xstrings_tests() {
        // Cases from xstrings 1.3.3's convert_test.go.
        let cases = [
            ("HTTPServer", "http_server"),
            ("_camelCase", "_camel_case"),
            ("NoHTTPS", "no_https"),
            ("Wi_thF", "wi_th_f"),
            ("_AnotherTES_TCaseP", "_another_tes_t_case_p"),
            ("ALL", "all"),
            ("_HELLO_WORLD_", "_hello_world_"),
            ("HELLO_WORLD", "hello_world"),
            ("HELLO____WORLD", "hello____world"),
            ("TW", "tw"),
            ("_C", "_c"),
            ("http2xx", "http_2xx"),
            ("HTTP2XX", "http2_xx"),
            ("HTTP20xOK", "http_20x_ok"),
            ("HTTP20xStatus", "http_20x_status"),
            ("HTTP-20xStatus", "http_20x_status"),
            ("a", "a"),
            ("Duration2m3s", "duration_2m3s"),
            ("Bld4Floor3rd", "bld4_floor_3rd"),
            (" _-_ ", "_____"),
            ("a1b2c3d", "a_1b2c3d"),
            ("A//B%%2c", "a//b%%2c"),
            ("HTTP状态码404/502Error", "http_状态码404/502_error"),
            ("中文(字符)", "中文(字符)"),
            ("混合ABCWords与123数字456", "混合_abc_words_与123_数字456"),
            ("  sentence case  ", "__sentence_case__"),
            (
                " Mixed-hyphen case _and SENTENCE_case and UPPER-case",
                "_mixed_hyphen_case__and_sentence_case_and_upper_case",
            ),
            ("FROM CamelCase to snake/kebab-case", "from_camel_case_to_snake/kebab_case"),
            (
                "Abc\u{FFFD}E\u{FFFD}f\u{FFFD}d\u{FFFD}2\u{FFFD}00z\u{FFFD}ZZ\u{FFFD}ZZ",
                "abc_\u{FFFD}e\u{FFFD}f\u{FFFD}d_\u{FFFD}2\u{FFFD}00z_\u{FFFD}zz\u{FFFD}zz",
            ),
            ("\u{FFFD}\u{FFFD}\u{FFFD}", "\u{FFFD}\u{FFFD}\u{FFFD}"),
            ("abc_123_def", "abc_123_def"),
            ("", ""),
        ];
        for (input, want) in cases {
            assert_eq!(snake(input), want, "{input}");
        }
    }

    #[test]
    fn camel_case_matches_xstrings_tests() {
        let ctx = Ctx { max_bytes: 1 << 20, max_nesting: 10, work: std::cell::Cell::new(1000) };
        let cases = [
            ("http_server", "HttpServer"),
            ("_camel_case", "_CamelCase"),
            ("no_https", "NoHttps"),
            ("_complex__case_", "_Complex_Case_"),
            (" complex -case ", " Complex Case "),
            ("GOLANG_IS_GREAT", "GolangIsGreat"),
            ("a", "A"),
            ("好", "好"),
            ("FROM CamelCase to snake/kebab-case", "FromCamelcaseToSnake/kebabCase"),
            ("", ""),
        ];
        for (input, want) in cases {
            let Ok(Value::Str(got)) = camel(&ctx, vec![Value::text(input)]) else { panic!("{input}") };
            assert_eq!(got.as_slice(), want.as_bytes(), "{input}");
        }
    }
}
