//! Sprig's string, regex, semver, URL and path functions beyond the core set (Sprig v3.2.3
//! `functions.go`, with `Masterminds/goutils` 1.1.1, `huandu/xstrings` 1.3.3 and
//! `Masterminds/semver` 3.2.0 behind them). Each function follows its Go source; where Go's
//! behaviour cannot be reproduced safely the function refuses, naming itself, and the golden case
//! (`tests/data/gotemplate/cases-text.in.json`) is marked `"sealops": "error"`.

mod case;
mod path;
mod regex;
mod semver;
mod strings;
mod url;

use std::sync::LazyLock;

use ::regex::Regex;

use super::super::funcs::{Ctx, FnResult, Func, Param, lower_char, upper_char};
use super::super::value::Value;

/// The function `name` of this family, if implemented.
pub(super) fn func(name: &str) -> Option<Func> {
    use Param::*;
    let f = |params: &'static [Param], variadic: Option<Param>, call: fn(&Ctx, Vec<Value>) -> FnResult| {
        Some(Func { params, variadic, call })
    };
    match name {
        "hello" => f(&[], None, |_, _| Ok(Value::text("Hello!"))),
        "abbrev" => f(&[Int, Str], None, strings::abbrev),
        "abbrevboth" => f(&[Int, Int, Str], None, strings::abbrevboth),
        "untitle" => f(&[Str], None, strings::untitle),
        "initials" => f(&[Str], None, strings::initials),
        "swapcase" => f(&[Str], None, strings::swapcase),
        "wrap" => f(&[Int, Str], None, strings::wrap),
        "wrapWith" => f(&[Int, Str, Str], None, strings::wrap_with),
        "plural" => f(&[Str, Str, Int], None, strings::plural),
        "splitn" => f(&[Str, Int, Str], None, strings::splitn),
        "snakecase" => f(&[Str], None, |c, a| case::snake_or_kebab(c, &a[0], '_')),
        "kebabcase" => f(&[Str], None, |c, a| case::snake_or_kebab(c, &a[0], '-')),
        "camelcase" => f(&[Str], None, case::camel),
        "base" | "osBase" => f(&[Str], None, path::base),
        "dir" | "osDir" => f(&[Str], None, path::dir),
        "clean" | "osClean" => f(&[Str], None, path::clean),
        "ext" | "osExt" => f(&[Str], None, path::ext),
        "isAbs" | "osIsAbs" => f(&[Str], None, path::is_abs),
        "regexMatch" => f(&[Str, Str], None, |c, a| regex::is_match(c, a, "regexMatch", false)),
        "mustRegexMatch" => f(&[Str, Str], None, |c, a| regex::is_match(c, a, "mustRegexMatch", true)),
        "regexFind" => f(&[Str, Str], None, |c, a| regex::find(c, a, "regexFind")),
        "mustRegexFind" => f(&[Str, Str], None, |c, a| regex::find(c, a, "mustRegexFind")),
        "regexFindAll" => f(&[Str, Str, Int], None, |c, a| regex::find_all(c, a, "regexFindAll")),
        "mustRegexFindAll" => f(&[Str, Str, Int], None, |c, a| regex::find_all(c, a, "mustRegexFindAll")),
        "regexReplaceAll" => f(&[Str, Str, Str], None, |c, a| regex::replace_all(c, a, "regexReplaceAll", true)),
        "mustRegexReplaceAll" => {
            f(&[Str, Str, Str], None, |c, a| regex::replace_all(c, a, "mustRegexReplaceAll", true))
        }
        "regexReplaceAllLiteral" => {
            f(&[Str, Str, Str], None, |c, a| regex::replace_all(c, a, "regexReplaceAllLiteral", false))
        }
        "mustRegexReplaceAllLiteral" => {
            f(&[Str, Str, Str], None, |c, a| regex::replace_all(c, a, "mustRegexReplaceAllLiteral", false))
        }
        "regexSplit" => f(&[Str, Str, Int], None, |c, a| regex::split(c, a, "regexSplit")),
        "mustRegexSplit" => f(&[Str, Str, Int], None, |c, a| regex::split(c, a, "mustRegexSplit")),
        "regexQuoteMeta" => f(&[Str], None, regex::quote_meta),
        "semver" => f(&[Str], None, semver::semver),
        "semverCompare" => f(&[Str, Str], None, semver::semver_compare),
        "urlParse" => f(&[Str], None, url::url_parse),
        "urlJoin" => f(&[Dict], None, url::url_join),
        _ => None,
    }
}

/// Go's `unicode` predicates by general category. Rust's `char::is_uppercase` and friends use the
/// derived properties (which add `Other_Uppercase` etc.), so the categories come from the regex
/// crate's Unicode tables instead.
struct Category(LazyLock<Regex>);

impl Category {
    fn has(&self, c: char) -> bool {
        let mut buf = [0u8; 4];
        self.0.is_match(c.encode_utf8(&mut buf))
    }
}

macro_rules! category {
    ($name:ident, $class:literal) => {
        static $name: Category = Category(LazyLock::new(|| {
            #[allow(clippy::expect_used)] // a constant pattern, covered by the unit tests
            Regex::new(concat!(r"\A", $class, r"\z")).expect("category pattern")
        }));
    };
}

category!(UPPER, r"\p{Lu}");
category!(LOWER, r"\p{Ll}");
category!(TITLE, r"\p{Lt}");
category!(LETTER, r"\p{L}");
category!(NUMBER, r"\p{N}");
category!(DIGIT, r"\p{Nd}");
category!(PUNCT, r"\p{P}");

/// `unicode.IsUpper`.
fn is_upper(c: char) -> bool {
    UPPER.has(c)
}

/// `unicode.IsLower`.
fn is_lower(c: char) -> bool {
    LOWER.has(c)
}

/// `unicode.IsTitle`.
fn is_title(c: char) -> bool {
    TITLE.has(c)
}

/// `unicode.IsLetter`.
fn is_letter(c: char) -> bool {
    LETTER.has(c)
}

/// `unicode.IsNumber`.
fn is_number(c: char) -> bool {
    NUMBER.has(c)
}

/// `unicode.IsDigit`.
fn is_digit(c: char) -> bool {
    DIGIT.has(c)
}

/// `unicode.IsPunct`.
fn is_punct(c: char) -> bool {
    PUNCT.has(c)
}

/// `unicode.IsSpace`: the `White_Space` property, which is what Rust's `is_whitespace` tests.
fn is_space(c: char) -> bool {
    c.is_whitespace()
}

/// `unicode.ToUpper` (simple mapping).
fn to_upper(c: char) -> char {
    upper_char(c)
}

/// `unicode.ToLower` (simple mapping).
fn to_lower(c: char) -> char {
    lower_char(c)
}

/// `unicode.ToTitle`: the uppercase mapping except for the digraphs that have a title-case form,
/// and Georgian Mkhedruli, whose uppercase (Mtavruli) is not used for title case.
fn to_title(c: char) -> char {
    match c {
        '\u{1C4}'..='\u{1C6}' => '\u{1C5}',
        '\u{1C7}'..='\u{1C9}' => '\u{1C8}',
        '\u{1CA}'..='\u{1CC}' => '\u{1CB}',
        '\u{1F1}'..='\u{1F3}' => '\u{1F2}',
        '\u{10D0}'..='\u{10FA}' | '\u{10FD}'..='\u{10FF}' => c,
        _ => upper_char(c),
    }
}

/// Go's `[]rune(s)`: invalid UTF-8 bytes become U+FFFD, one each.
fn runes(s: &[u8]) -> Vec<char> {
    let mut out = Vec::with_capacity(s.len());
    let mut rest = s;
    while !rest.is_empty() {
        let (c, len) = super::super::fmt::decode_rune(rest);
        out.push(c.unwrap_or('\u{FFFD}'));
        rest = &rest[len..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_follow_go_not_rust_derived_properties() {
        // Ⓐ is Other_Uppercase (Rust's is_uppercase) but category So (Go's IsUpper is false).
        assert!('Ⓐ'.is_uppercase());
        assert!(!is_upper('Ⓐ'));
        // ª is Other_Lowercase but category Lo.
        assert!(!is_lower('ª'));
        assert!(is_letter('ª'));
        assert!(is_title('ǅ'));
        assert!(is_number('½') && !is_digit('½'));
        assert!(is_punct('¿') && !is_punct('+'));
    }

    #[test]
    fn title_case_differs_from_upper_case() {
        assert_eq!(to_title('ǆ'), 'ǅ');
        assert_eq!(to_upper('ǆ'), 'Ǆ');
        assert_eq!(to_title('ა'), 'ა');
        assert_eq!(to_title('a'), 'A');
        assert_eq!(to_lower('İ'), 'i');
    }

    #[test]
    fn runes_replace_each_invalid_byte() {
        assert_eq!(runes(b"a\xff\xfeb"), vec!['a', '\u{FFFD}', '\u{FFFD}', 'b']);
    }
}
