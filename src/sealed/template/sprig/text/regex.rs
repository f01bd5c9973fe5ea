//! Sprig's regex functions (sprig/regex.go) over Go's `regexp` (RE2 syntax, Perl flags), run
//! on the Rust `regex` crate. The two engines agree on leftmost-first matching and submatch
//! positions, but not on syntax, so a Go pattern is parsed here by Go's rules
//! (regexp/syntax/parse.go) and re-emitted in an unambiguous Rust form:
//!
//! - `\d \s \w \b` are ASCII in Go and Unicode in Rust: emitted as explicit ASCII classes and
//!   `(?-u:\b)`;
//! - inside `[...]`, Rust treats `[`, `&&`, `--`, `~~` as set operations: every class item is
//!   emitted as an escaped character, range or nested class;
//! - a `{` that is not a valid repetition is a literal in Go and an error in Rust; `\Q...\E` and
//!   octal escapes exist only in Go; group names are Go's (`[A-Za-z0-9_]+`) and kept here, Rust
//!   gets unnamed groups; `\pC` in Go leaves out unassigned code points; Go accepts only general
//!   categories and scripts in `\p{...}`, by exact name;
//! - Go's nested repetition limit (counts multiplying past 1000 are an error) is checked here.
//!
//! Patterns Go rejects give Go's behaviour (an error, or `false` from `regexMatch`, which drops
//! the error). The few patterns Go accepts that are not reproduced (a repetition right after a
//! flag group, deep nesting, very large compiled programs) are refused with an error naming the
//! function. Inputs that are not valid UTF-8 are refused too: Go matches each invalid byte as
//! U+FFFD, which the Rust engine cannot express.
//!
//! `$1`/`${name}` expansion in `regexReplaceAll` follows Go's `Regexp.Expand`: the longest run of
//! letters, digits and `_` is the name, so `$1x` is the (usually missing) group `1x`.

use std::rc::Rc;

use regex::{Regex, RegexBuilder};

use super::super::super::funcs::{Ctx, FnError, FnResult, str_of};
use super::super::super::value::Value;
use super::{is_digit, is_letter};

/// Bounds on what a pattern may compile to (Rust's defaults are 10 MiB per regex).
const SIZE_LIMIT: usize = 4 << 20;
/// Group nesting deeper than this is refused (Go's own limit is 1000).
const NEST_LIMIT: usize = 100;

/// Why a pattern cannot be used.
enum PatternError {
    /// Go's `regexp.Compile` fails too (the reason, without the pattern).
    Go(&'static str),
    /// Go accepts the pattern; sealops does not reproduce it.
    Unsupported(&'static str),
}

/// A compiled Go pattern.
struct GoRegex {
    re: Regex,
    /// Go's `SubexpNames()`: "" for the whole match and unnamed groups.
    names: Vec<String>,
    /// The pattern was empty (`Split` treats that specially).
    empty: bool,
}

fn compile(pattern: &[u8]) -> Result<GoRegex, PatternError> {
    let pattern = std::str::from_utf8(pattern).map_err(|_| PatternError::Go("invalid UTF-8"))?;
    let (rust, names) = Translator::new(pattern).run()?;
    let re = RegexBuilder::new(&rust)
        .size_limit(SIZE_LIMIT)
        .dfa_size_limit(SIZE_LIMIT)
        .nest_limit(NEST_LIMIT as u32 * 2)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(_) => PatternError::Unsupported("the pattern compiles too large"),
            _ => PatternError::Unsupported("the pattern is not supported by sealops"),
        })?;
    Ok(GoRegex { re, names, empty: pattern.is_empty() })
}

/// Compiles for a function that fails on a bad pattern (Go's `MustCompile` panics, which
/// text/template reports as an error; the `must*` variants return the error).
fn compile_for(name: &str, pattern: &Value) -> Result<GoRegex, FnError> {
    compile(&str_of(pattern)).map_err(|e| pattern_error(name, e))
}

fn pattern_error(name: &str, e: PatternError) -> FnError {
    match e {
        PatternError::Go(why) => FnError::Go(format!("{name}: error parsing regexp: {why}")),
        PatternError::Unsupported(why) => FnError::Go(format!("{name}: {why} (sealops refuses this Go pattern)")),
    }
}

/// The input as UTF-8, or a refusal naming `name` (see the module documentation).
fn input<'a>(name: &str, s: &'a [u8]) -> Result<&'a str, FnError> {
    std::str::from_utf8(s)
        .map_err(|_| FnError::Go(format!("{name}: sealops does not match regular expressions against invalid UTF-8")))
}

/// `regexMatch` (errors read as no match) and `mustRegexMatch`.
pub(super) fn is_match(_: &Ctx, a: Vec<Value>, name: &str, must: bool) -> FnResult {
    let re = match compile(&str_of(&a[0])) {
        Ok(re) => re,
        Err(PatternError::Go(_)) if !must => return Ok(Value::Bool(false)),
        Err(e) => return Err(pattern_error(name, e)),
    };
    let s = str_of(&a[1]);
    Ok(Value::Bool(re.re.is_match(input(name, &s)?)))
}

/// `regexFind`: the leftmost match, or "".
pub(super) fn find(c: &Ctx, a: Vec<Value>, name: &str) -> FnResult {
    let re = compile_for(name, &a[0])?;
    let s = str_of(&a[1]);
    let s = input(name, &s)?;
    c.bytes(re.re.find(s).map_or("", |m| m.as_str()).as_bytes().to_vec())
}

/// Go's `allMatches`: successive matches, an empty match right after a match skipped, at most
/// `n` (all when `n < 0`).
fn all_matches(re: &Regex, s: &str, n: i64) -> Vec<(usize, usize)> {
    let n = if n < 0 { s.len() as u64 + 1 } else { n as u64 };
    let mut out = Vec::new();
    let (mut pos, mut prev_end) = (0usize, None);
    while (out.len() as u64) < n && pos <= s.len() {
        let Some(m) = re.find_at(s, pos) else { break };
        let mut accept = true;
        if m.end() == pos {
            if Some(m.start()) == prev_end {
                accept = false;
            }
            pos += s[pos..].chars().next().map_or(1, char::len_utf8);
        } else {
            pos = m.end();
        }
        prev_end = Some(m.end());
        if accept {
            out.push((m.start(), m.end()));
        }
    }
    out
}

/// A `[]string`; printing one takes at least a byte per item, so the item count is held to the
/// output limit.
fn list(c: &Ctx, parts: Vec<&str>) -> FnResult {
    c.check_len(parts.len())?;
    Ok(Value::List(Rc::new(parts.into_iter().map(Value::text).collect())))
}

/// `regexFindAll regex s n`.
pub(super) fn find_all(c: &Ctx, a: Vec<Value>, name: &str) -> FnResult {
    let re = compile_for(name, &a[0])?;
    let s = str_of(&a[1]);
    let s = input(name, &s)?;
    let n = a[2].as_int().unwrap_or(0);
    list(c, all_matches(&re.re, s, n).into_iter().map(|(b, e)| &s[b..e]).collect())
}

/// `regexSplit regex s n`: Go's `Regexp.Split`.
pub(super) fn split(c: &Ctx, a: Vec<Value>, name: &str) -> FnResult {
    let re = compile_for(name, &a[0])?;
    let s = str_of(&a[1]);
    let s = input(name, &s)?;
    let n = a[2].as_int().unwrap_or(0);
    if n == 0 {
        return list(c, Vec::new());
    }
    if !re.empty && s.is_empty() {
        return list(c, vec![""]);
    }
    let mut parts = Vec::new();
    let (mut beg, mut end) = (0, 0);
    for (ms, me) in all_matches(&re.re, s, n) {
        if n > 0 && parts.len() as i64 >= n - 1 {
            break;
        }
        end = ms;
        if me != 0 {
            parts.push(&s[beg..end]);
        }
        beg = me;
    }
    if end != s.len() {
        parts.push(&s[beg..]);
    }
    list(c, parts)
}

/// `regexReplaceAll` (`expand`: Go's `$` expansion) and `regexReplaceAllLiteral`.
pub(super) fn replace_all(c: &Ctx, a: Vec<Value>, name: &str, expand: bool) -> FnResult {
    let re = compile_for(name, &a[0])?;
    let (s, repl) = (str_of(&a[1]), str_of(&a[2]));
    let s = input(name, &s)?;
    let mut out: Vec<u8> = Vec::new();
    let mut locs = re.re.capture_locations();
    let (mut last_end, mut search) = (0usize, 0usize);
    while search <= s.len() {
        let Some(m) = re.re.captures_read_at(&mut locs, s, search) else { break };
        out.extend_from_slice(&s.as_bytes()[last_end..m.start()]);
        if m.end() > last_end || m.start() == 0 {
            if expand {
                expand_into(&mut out, &repl, s, &locs, &re.names, c.max_bytes)?;
            } else {
                c.check_len(out.len().saturating_add(repl.len()))?;
                out.extend_from_slice(&repl);
            }
        }
        c.check_len(out.len())?;
        last_end = m.end();
        let width = s[search..].chars().next().map_or(0, char::len_utf8);
        search = if search + width > m.end() {
            search + width
        } else if search + 1 > m.end() {
            search + 1
        } else {
            m.end()
        };
    }
    out.extend_from_slice(&s.as_bytes()[last_end..]);
    c.bytes(out)
}

/// Go's `Regexp.expand`: `$$` is `$`, `$name`/`${name}` a group by number or name (missing or
/// unmatched groups give ""), a malformed `$` is kept.
/// `max` bounds the output (each group reference can copy the whole input).
fn expand_into(
    out: &mut Vec<u8>,
    template: &[u8],
    s: &str,
    locs: &regex::CaptureLocations,
    names: &[String],
    max: usize,
) -> Result<(), FnError> {
    let too_large = |len: usize| if len > max { Err(FnError::Limit("string result too large")) } else { Ok(()) };
    let mut t = template;
    while let Some(i) = t.iter().position(|&b| b == b'$') {
        out.extend_from_slice(&t[..i]);
        t = &t[i + 1..];
        if t.first() == Some(&b'$') {
            out.push(b'$');
            t = &t[1..];
            continue;
        }
        let Some((name, num, rest)) = extract(t) else {
            out.push(b'$');
            continue;
        };
        t = rest;
        let group = match num {
            Some(n) => locs.get(n),
            None => names.iter().enumerate().filter(|(_, g)| g.as_bytes() == name).find_map(|(i, _)| locs.get(i)),
        };
        if let Some((b, e)) = group {
            too_large(out.len().saturating_add(e - b))?;
            out.extend_from_slice(&s.as_bytes()[b..e]);
        }
    }
    too_large(out.len().saturating_add(t.len()))?;
    out.extend_from_slice(t);
    Ok(())
}

/// Go's `extract`: the name after a `$` (braced or not), its number when it is a decimal without
/// leading zeros below 1e8, and the rest.
fn extract(t: &[u8]) -> Option<(&[u8], Option<usize>, &[u8])> {
    let (brace, body) = match t.first() {
        None => return None,
        Some(b'{') => (true, &t[1..]),
        Some(_) => (false, t),
    };
    let mut i = 0;
    while i < body.len() {
        let (ch, len) = super::super::super::fmt::decode_rune(&body[i..]);
        let ch = ch.unwrap_or('\u{FFFD}');
        if !(is_letter(ch) || is_digit(ch) || ch == '_') {
            break;
        }
        i += len;
    }
    if i == 0 {
        return None;
    }
    let name = &body[..i];
    let mut rest_at = i;
    if brace {
        if body.get(i) != Some(&b'}') {
            return None;
        }
        rest_at += 1;
    }
    let mut num: Option<usize> = Some(0);
    for &d in name {
        num = match num {
            Some(n) if d.is_ascii_digit() && n < 100_000_000 => Some(n * 10 + usize::from(d - b'0')),
            _ => None,
        };
    }
    if name[0] == b'0' && name.len() > 1 {
        num = None;
    }
    Some((name, num, &body[rest_at..]))
}

/// `regexQuoteMeta`: Go's `QuoteMeta`, a backslash before each of `\.+*?()|[]{}^$`.
pub(super) fn quote_meta(c: &Ctx, a: Vec<Value>) -> FnResult {
    let s = str_of(&a[0]);
    let mut out = Vec::with_capacity(s.len());
    for &b in s.iter() {
        if br"\.+*?()|[]{}^$".contains(&b) {
            out.push(b'\\');
        }
        out.push(b);
    }
    c.bytes(out)
}

/// Go's Unicode class names: `unicode.Categories`, `unicode.Scripts` (Go 1.19) and `Any`.
const UNICODE_NAMES: &[&str] = &[
    "Adlam",
    "Ahom",
    "Anatolian_Hieroglyphs",
    "Any",
    "Arabic",
    "Armenian",
    "Avestan",
    "Balinese",
    "Bamum",
    "Bassa_Vah",
    "Batak",
    "Bengali",
    "Bhaiksuki",
    "Bopomofo",
    "Brahmi",
    "Braille",
    "Buginese",
    "Buhid",
    "C",
    "Canadian_Aboriginal",
    "Carian",
    "Caucasian_Albanian",
    "Cc",
    "Cf",
    "Chakma",
    "Cham",
    "Cherokee",
    "Chorasmian",
    "Co",
    "Common",
    "Coptic",
    "Cs",
    "Cuneiform",
    "Cypriot",
    "Cyrillic",
    "Deseret",
    "Devanagari",
    "Dives_Akuru",
    "Dogra",
    "Duployan",
    "Egyptian_Hieroglyphs",
    "Elbasan",
    "Elymaic",
    "Ethiopic",
    "Georgian",
    "Glagolitic",
    "Gothic",
    "Grantha",
    "Greek",
    "Gujarati",
    "Gunjala_Gondi",
    "Gurmukhi",
    "Han",
    "Hangul",
    "Hanifi_Rohingya",
    "Hanunoo",
    "Hatran",
    "Hebrew",
    "Hiragana",
    "Imperial_Aramaic",
    "Inherited",
    "Inscriptional_Pahlavi",
    "Inscriptional_Parthian",
    "Javanese",
    "Kaithi",
    "Kannada",
    "Katakana",
    "Kayah_Li",
    "Kharoshthi",
    "Khitan_Small_Script",
    "Khmer",
    "Khojki",
    "Khudawadi",
    "L",
    "Lao",
    "Latin",
    "Lepcha",
    "Limbu",
    "Linear_A",
    "Linear_B",
    "Lisu",
    "Ll",
    "Lm",
    "Lo",
    "Lt",
    "Lu",
    "Lycian",
    "Lydian",
    "M",
    "Mahajani",
    "Makasar",
    "Malayalam",
    "Mandaic",
    "Manichaean",
    "Marchen",
    "Masaram_Gondi",
    "Mc",
    "Me",
    "Medefaidrin",
    "Meetei_Mayek",
    "Mende_Kikakui",
    "Meroitic_Cursive",
    "Meroitic_Hieroglyphs",
    "Miao",
    "Mn",
    "Modi",
    "Mongolian",
    "Mro",
    "Multani",
    "Myanmar",
    "N",
    "Nabataean",
    "Nandinagari",
    "Nd",
    "New_Tai_Lue",
    "Newa",
    "Nko",
    "Nl",
    "No",
    "Nushu",
    "Nyiakeng_Puachue_Hmong",
    "Ogham",
    "Ol_Chiki",
    "Old_Hungarian",
    "Old_Italic",
    "Old_North_Arabian",
    "Old_Permic",
    "Old_Persian",
    "Old_Sogdian",
    "Old_South_Arabian",
    "Old_Turkic",
    "Oriya",
    "Osage",
    "Osmanya",
    "P",
    "Pahawh_Hmong",
    "Palmyrene",
    "Pau_Cin_Hau",
    "Pc",
    "Pd",
    "Pe",
    "Pf",
    "Phags_Pa",
    "Phoenician",
    "Pi",
    "Po",
    "Ps",
    "Psalter_Pahlavi",
    "Rejang",
    "Runic",
    "S",
    "Samaritan",
    "Saurashtra",
    "Sc",
    "Sharada",
    "Shavian",
    "Siddham",
    "SignWriting",
    "Sinhala",
    "Sk",
    "Sm",
    "So",
    "Sogdian",
    "Sora_Sompeng",
    "Soyombo",
    "Sundanese",
    "Syloti_Nagri",
    "Syriac",
    "Tagalog",
    "Tagbanwa",
    "Tai_Le",
    "Tai_Tham",
    "Tai_Viet",
    "Takri",
    "Tamil",
    "Tangut",
    "Telugu",
    "Thaana",
    "Thai",
    "Tibetan",
    "Tifinagh",
    "Tirhuta",
    "Ugaritic",
    "Vai",
    "Wancho",
    "Warang_Citi",
    "Yezidi",
    "Yi",
    "Z",
    "Zanabazar_Square",
    "Zl",
    "Zp",
    "Zs",
];

/// Go's POSIX class names inside `[...]`.
const POSIX_NAMES: &[&str] = &[
    "alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower", "print", "punct", "space", "upper", "word",
    "xdigit",
];

/// One group being parsed.
struct Frame {
    /// The largest product of nested `{n,m}` counts among the finished atoms of this group
    /// (1 when none).
    inner: u64,
}

/// What precedes the current position, for repetition operators.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Prev {
    /// Start of pattern, `(` or `|`: a repetition here is an error in Go.
    Nothing,
    /// An atom; its nested repetition product.
    Atom(u64),
    /// An atom followed by a repetition operator (another is an error in Go).
    Repeated,
    /// A flag group such as `(?i)`: Go repeats the atom before it; not reproduced.
    Flags,
}

struct Translator<'a> {
    rest: &'a str,
    out: String,
    names: Vec<String>,
    frames: Vec<Frame>,
    prev: Prev,
}

type PResult<T> = Result<T, PatternError>;

impl<'a> Translator<'a> {
    fn new(pattern: &'a str) -> Self {
        Translator {
            rest: pattern,
            out: String::with_capacity(pattern.len() * 2),
            names: vec![String::new()],
            frames: vec![Frame { inner: 1 }],
            prev: Prev::Nothing,
        }
    }

    fn next(&mut self) -> Option<char> {
        let c = self.rest.chars().next()?;
        self.rest = &self.rest[c.len_utf8()..];
        Some(c)
    }

    /// Ends the previous atom (its repetition product counts for the enclosing group).
    fn commit(&mut self) {
        if let Prev::Atom(p) = self.prev
            && let Some(f) = self.frames.last_mut()
        {
            f.inner = f.inner.max(p);
        }
    }

    fn atom(&mut self, product: u64) {
        self.commit();
        self.prev = Prev::Atom(product);
    }

    fn run(mut self) -> PResult<(String, Vec<String>)> {
        while let Some(c) = self.next() {
            match c {
                '(' => self.open()?,
                ')' => {
                    if self.frames.len() < 2 {
                        return Err(PatternError::Go("unexpected )"));
                    }
                    self.commit();
                    let inner = self.frames.pop().map_or(1, |f| f.inner);
                    self.out.push(')');
                    // The group is an atom of the enclosing group.
                    self.prev = Prev::Atom(inner);
                }
                '|' => {
                    self.commit();
                    self.prev = Prev::Nothing;
                    self.out.push('|');
                }
                '*' | '+' | '?' => {
                    self.repeat_check()?;
                    self.out.push(c);
                    self.lazy();
                }
                '{' => match parse_repeat(self.rest) {
                    None => {
                        self.atom(1);
                        self.out.push_str(r"\{");
                    }
                    Some((min, max, rest)) => {
                        if !(0..=1000).contains(&min) || max > 1000 || (max >= 0 && min > max) {
                            return Err(PatternError::Go("invalid repeat count"));
                        }
                        let inner = match self.prev {
                            Prev::Atom(p) => p,
                            _ => {
                                self.repeat_check()?;
                                1
                            }
                        };
                        let m = if max >= 0 { max } else { min } as u64;
                        let product = if m == 0 { 1 } else { inner.saturating_mul(m) };
                        if product > 1000 {
                            return Err(PatternError::Go("invalid repeat count"));
                        }
                        self.out.push('{');
                        self.out.push_str(&min.to_string());
                        if max != min {
                            self.out.push(',');
                            if max >= 0 {
                                self.out.push_str(&max.to_string());
                            }
                        }
                        self.out.push('}');
                        self.rest = rest;
                        self.prev = Prev::Atom(product);
                        self.commit();
                        self.prev = Prev::Repeated;
                        self.lazy();
                    }
                },
                '[' => {
                    self.atom(1);
                    self.class()?;
                }
                '\\' => self.escape()?,
                '^' | '$' | '.' => {
                    self.atom(1);
                    self.out.push(c);
                }
                _ => {
                    self.atom(1);
                    push_literal(&mut self.out, c);
                }
            }
        }
        if self.frames.len() > 1 {
            return Err(PatternError::Go("missing closing )"));
        }
        Ok((self.out, self.names))
    }

    /// A repetition operator is allowed only right after an atom.
    fn repeat_check(&mut self) -> PResult<()> {
        match self.prev {
            Prev::Atom(p) => {
                // `*`, `+`, `?` keep the nested product of their operand.
                self.prev = Prev::Atom(p);
                self.commit();
                self.prev = Prev::Repeated;
                Ok(())
            }
            Prev::Nothing => Err(PatternError::Go("missing argument to repetition operator")),
            Prev::Repeated => Err(PatternError::Go("invalid nested repetition operator")),
            Prev::Flags => Err(PatternError::Unsupported("a repetition right after a flag group")),
        }
    }

    /// A `?` after a repetition makes it non-greedy.
    fn lazy(&mut self) {
        if let Some(r) = self.rest.strip_prefix('?') {
            self.rest = r;
            self.out.push('?');
        }
    }

    fn open(&mut self) -> PResult<()> {
        self.commit();
        if self.frames.len() > NEST_LIMIT {
            return Err(PatternError::Unsupported("groups nested too deeply"));
        }
        if let Some(r) = self.rest.strip_prefix('?') {
            if let Some(r) = r.strip_prefix("P<") {
                let end = r.find('>').ok_or(PatternError::Go("invalid named capture"))?;
                let name = &r[..end];
                if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                    return Err(PatternError::Go("invalid named capture"));
                }
                self.names.push(name.to_owned());
                self.rest = &r[end + 1..];
                self.out.push('(');
                self.frames.push(Frame { inner: 1 });
                self.prev = Prev::Nothing;
                return Ok(());
            }
            // Flags: `(?flags)` or `(?flags:...)`, flags from `imsU` with at most one `-`.
            let mut flags = String::new();
            let mut negated = false;
            let mut saw_flag = false;
            let mut t = r.chars();
            loop {
                match t.next() {
                    Some(f @ ('i' | 'm' | 's' | 'U')) => {
                        flags.push(f);
                        saw_flag = true;
                    }
                    Some('-') if !negated => {
                        flags.push('-');
                        negated = true;
                        saw_flag = false;
                    }
                    Some(end @ (':' | ')')) => {
                        if negated && !saw_flag {
                            return Err(PatternError::Go("invalid or unsupported Perl syntax"));
                        }
                        self.rest = t.as_str();
                        if end == ':' {
                            self.out.push_str("(?");
                            self.out.push_str(&flags);
                            self.out.push(':');
                            self.frames.push(Frame { inner: 1 });
                            self.prev = Prev::Nothing;
                        } else {
                            if !flags.is_empty() {
                                self.out.push_str("(?");
                                self.out.push_str(&flags);
                                self.out.push(')');
                            }
                            self.prev = match self.prev {
                                Prev::Nothing => Prev::Nothing,
                                _ => Prev::Flags,
                            };
                        }
                        return Ok(());
                    }
                    _ => return Err(PatternError::Go("invalid or unsupported Perl syntax")),
                }
            }
        }
        self.names.push(String::new());
        self.out.push('(');
        self.frames.push(Frame { inner: 1 });
        self.prev = Prev::Nothing;
        Ok(())
    }

    /// An escape outside a class.
    fn escape(&mut self) -> PResult<()> {
        let Some(c) = self.rest.chars().next() else {
            return Err(PatternError::Go("trailing backslash at end of expression"));
        };
        match c {
            'A' | 'z' => {
                self.next();
                self.atom(1);
                self.out.push('\\');
                self.out.push(c);
            }
            'b' | 'B' => {
                self.next();
                self.atom(1);
                self.out.push_str(if c == 'b' { r"(?-u:\b)" } else { r"(?-u:\B)" });
            }
            'C' => return Err(PatternError::Go("invalid escape sequence")),
            'Q' => {
                self.next();
                let (lit, rest) = match self.rest.find(r"\E") {
                    Some(i) => (&self.rest[..i], &self.rest[i + 2..]),
                    None => (self.rest, ""),
                };
                self.rest = rest;
                for ch in lit.chars() {
                    self.atom(1);
                    push_literal(&mut self.out, ch);
                }
            }
            _ => {
                self.atom(1);
                if let Some(class) = self.class_escape()? {
                    self.out.push_str(&class);
                } else {
                    let ch = self.char_escape()?;
                    push_literal(&mut self.out, ch);
                }
            }
        }
        Ok(())
    }

    /// `\d \s \w \p{..}` and their negations (after the backslash), as a Rust class; `None` when
    /// the escape is not a class.
    fn class_escape(&mut self) -> PResult<Option<String>> {
        let mut t = self.rest.chars();
        let Some(c) = t.next() else { return Ok(None) };
        let perl = match c {
            'd' => Some(r"[0-9]"),
            'D' => Some(r"[^0-9]"),
            's' => Some(r"[\t\n\x0C\r ]"),
            'S' => Some(r"[^\t\n\x0C\r ]"),
            'w' => Some(r"[0-9A-Za-z_]"),
            'W' => Some(r"[^0-9A-Za-z_]"),
            _ => None,
        };
        if let Some(p) = perl {
            self.rest = t.as_str();
            return Ok(Some(p.to_owned()));
        }
        if c != 'p' && c != 'P' {
            return Ok(None);
        }
        let mut negate = c == 'P';
        let name = match t.next() {
            None => return Err(PatternError::Go("invalid character class range")),
            Some('{') => {
                let body = t.as_str();
                let end = body.find('}').ok_or(PatternError::Go("invalid character class range"))?;
                self.rest = &body[end + 1..];
                let mut name = &body[..end];
                if let Some(n) = name.strip_prefix('^') {
                    negate = !negate;
                    name = n;
                }
                name.to_owned()
            }
            Some(one) => {
                self.rest = t.as_str();
                one.to_string()
            }
        };
        if !UNICODE_NAMES.contains(&name.as_str()) {
            return Err(PatternError::Go("invalid character class range"));
        }
        let caret = if negate { "^" } else { "" };
        // Go's C is Cc, Cf, Co and Cs; Rust's adds the unassigned code points. Surrogates (Cs)
        // never occur in UTF-8 text, and Rust has no name for them: an empty class.
        Ok(Some(match name.as_str() {
            "C" => format!(r"[{caret}\p{{Cc}}\p{{Cf}}\p{{Co}}]"),
            "Cs" if negate => r"[\x{0}-\x{10FFFF}]".to_owned(),
            "Cs" => r"[^\x{0}-\x{10FFFF}]".to_owned(),
            _ => format!(r"[{caret}\p{{{name}}}]"),
        }))
    }

    /// Go's `parseEscape` (after the backslash): one character.
    fn char_escape(&mut self) -> PResult<char> {
        const BAD: PatternError = PatternError::Go("invalid escape sequence");
        let c = self.next().ok_or(PatternError::Go("trailing backslash at end of expression"))?;
        let octal = |c: char| c.to_digit(8);
        match c {
            '1'..='7' | '0' => {
                if c != '0' && self.rest.chars().next().is_none_or(|d| octal(d).is_none()) {
                    return Err(BAD);
                }
                let mut r = octal(c).unwrap_or(0);
                for _ in 1..3 {
                    match self.rest.chars().next().and_then(octal) {
                        Some(d) => {
                            r = r * 8 + d;
                            self.next();
                        }
                        None => break,
                    }
                }
                char::from_u32(r).ok_or(BAD)
            }
            'x' => {
                let c = self.next().ok_or(BAD)?;
                if c == '{' {
                    let mut r: u32 = 0;
                    let mut digits = 0;
                    loop {
                        let d = self.next().ok_or(BAD)?;
                        if d == '}' {
                            break;
                        }
                        r = r * 16 + d.to_digit(16).ok_or(BAD)?;
                        if r > 0x10FFFF {
                            return Err(BAD);
                        }
                        digits += 1;
                    }
                    if digits == 0 {
                        return Err(BAD);
                    }
                    // Surrogates are accepted by Go (they never match UTF-8 text).
                    return char::from_u32(r).ok_or(PatternError::Unsupported("a surrogate code point"));
                }
                let x = c.to_digit(16).ok_or(BAD)?;
                let y = self.next().and_then(|d| d.to_digit(16)).ok_or(BAD)?;
                char::from_u32(x * 16 + y).ok_or(BAD)
            }
            'a' => Ok('\u{7}'),
            'f' => Ok('\u{C}'),
            'n' => Ok('\n'),
            'r' => Ok('\r'),
            't' => Ok('\t'),
            'v' => Ok('\u{B}'),
            c if c.is_ascii() && !c.is_ascii_alphanumeric() => Ok(c),
            _ => Err(BAD),
        }
    }

    /// A bracketed class (after the `[`), Go's `parseClass`, emitted item by item.
    fn class(&mut self) -> PResult<()> {
        const MISSING: PatternError = PatternError::Go("missing closing ]");
        self.out.push('[');
        if let Some(r) = self.rest.strip_prefix('^') {
            self.rest = r;
            self.out.push('^');
        }
        let mut first = true;
        loop {
            if self.rest.is_empty() {
                return Err(MISSING);
            }
            if self.rest.starts_with(']') && !first {
                self.next();
                break;
            }
            first = false;
            if let Some(body) = self.rest.strip_prefix("[:")
                && let Some(end) = body.find(":]")
            {
                let name = &body[..end];
                let bare = name.strip_prefix('^').unwrap_or(name);
                if !POSIX_NAMES.contains(&bare) {
                    return Err(PatternError::Go("invalid character class range"));
                }
                self.out.push_str(&format!("[:{name}:]"));
                self.rest = &body[end + 2..];
                continue;
            }
            if self.rest.starts_with('\\')
                && let Some(class) = {
                    let saved = self.rest;
                    self.rest = &self.rest[1..];
                    let class = self.class_escape()?;
                    if class.is_none() {
                        self.rest = saved;
                    }
                    class
                }
            {
                self.out.push_str(&class);
                continue;
            }
            let lo = self.class_char()?;
            let mut hi = lo;
            let mut ahead = self.rest.chars();
            if ahead.next() == Some('-') && ahead.next().is_some_and(|c| c != ']') {
                self.next();
                hi = self.class_char()?;
                if hi < lo {
                    return Err(PatternError::Go("invalid character class range"));
                }
            }
            push_class_char(&mut self.out, lo);
            if hi != lo {
                self.out.push('-');
                push_class_char(&mut self.out, hi);
            }
        }
        self.out.push(']');
        Ok(())
    }

    /// Go's `parseClassChar`: an escape or one character.
    fn class_char(&mut self) -> PResult<char> {
        match self.next() {
            None => Err(PatternError::Go("missing closing ]")),
            Some('\\') => self.char_escape(),
            Some(c) => Ok(c),
        }
    }
}

/// Go's `parseRepeat` (after the `{`): `(min, max, rest)`, max -1 for `{n,}`; `None` when the
/// text is not a repetition (then `{` is a literal).
fn parse_repeat(s: &str) -> Option<(i64, i64, &str)> {
    let (min, s) = parse_int(s)?;
    let (max, s) = match s.strip_prefix(',') {
        None => (min, s),
        Some(s) if s.starts_with('}') => (-1, s),
        Some(s) => parse_int(s)?,
    };
    let min = if max < -1 { -1 } else { min };
    Some((min, max, s.strip_prefix('}')?))
}

/// Go's `parseInt`: decimal digits without a leading zero; -1 for 1e8 or more.
fn parse_int(s: &str) -> Option<(i64, &str)> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || (digits >= 2 && s.starts_with('0')) {
        return None;
    }
    let mut n: i64 = 0;
    for d in s[..digits].bytes() {
        if n >= 100_000_000 {
            n = -2;
            break;
        }
        n = n * 10 + i64::from(d - b'0');
    }
    Some((n, &s[digits..]))
}

/// A literal character outside a class: letters, digits and non-ASCII as they are, the rest as
/// a hex escape (never a Rust metacharacter).
fn push_literal(out: &mut String, c: char) {
    if c.is_ascii_alphanumeric() || !c.is_ascii() {
        out.push(c);
    } else {
        out.push_str(&format!(r"\x{{{:X}}}", c as u32));
    }
}

/// A character inside a class, always escaped (so `[`, `&`, `-`, `~` never form Rust set
/// operators).
fn push_class_char(out: &mut String, c: char) {
    if c.is_alphanumeric() {
        out.push(c);
    } else {
        out.push_str(&format!(r"\x{{{:X}}}", c as u32));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rust(p: &str) -> String {
        match Translator::new(p).run() {
            Ok((r, _)) => r,
            Err(PatternError::Go(e)) => format!("go error: {e}"),
            Err(PatternError::Unsupported(e)) => format!("unsupported: {e}"),
        }
    }

    #[test]
    fn translation_keeps_go_meaning() {
        assert_eq!(rust(r"\d+"), r"[0-9]+");
        assert_eq!(rust(r"a{2}"), r"a{2}");
        assert_eq!(rust(r"a{,2}"), r"a\{\x{2C}2\x{7D}");
        assert_eq!(rust(r"[[a&&b]"), r"[\x{5B}a\x{26}\x{26}b]");
        assert_eq!(rust(r"[a-b-c]"), r"[a-b\x{2D}c]");
        assert_eq!(rust(r"\Q.*\E+"), r"\x{2E}\x{2A}+");
        assert_eq!(rust(r"(?P<x>a)"), r"(a)");
        assert_eq!(rust(r"\101"), "A");
        assert_eq!(rust(r"[]a]"), r"[\x{5D}a]");
    }

    #[test]
    fn go_errors_are_detected() {
        for p in [r"(", r")", r"a**", r"*", r"a{1001}", r"(a{100}){11}", r"\8", r"\1", r"[a", r"\p{Foo}", r"(?x)"] {
            assert!(rust(p).starts_with("go error"), "{p}: {}", rust(p));
        }
        // Go accepts these (the product stays within 1000, a zero count ends the chain).
        assert!(!rust(r"(a{100}){10}").starts_with("go"));
        assert!(!rust(r"((a{100}){0}){20}").starts_with("go"));
    }

    #[test]
    fn every_translation_compiles() {
        for p in [
            r"\bfoo\b",
            r"[\d\S]",
            r"[[:alpha:]\pL]",
            r"\PC",
            r"\p{Cs}",
            r"[^\P{Cs}]",
            r"\p{^Greek}",
            r"(?i)k",
            r"(?U)a+",
            r"\x{10FFFF}",
            r"[^\W]",
        ] {
            assert!(compile(p.as_bytes()).is_ok(), "{p}: {}", rust(p));
        }
    }

    #[test]
    fn expansion_follows_go() {
        let re = compile(br"(?P<first>\w+) (\w+)").ok().map(|r| r.re).into_iter().next();
        let Some(re) = re else { panic!("compile") };
        let s = "hello world";
        let mut locs = re.capture_locations();
        re.captures_read(&mut locs, s);
        let names = vec![String::new(), "first".to_owned(), String::new()];
        let mut out = Vec::new();
        assert!(expand_into(&mut out, b"$2 ${first} $1x $$ $ ${2}x $01", s, &locs, &names, 100).is_ok());
        assert_eq!(String::from_utf8_lossy(&out), "world hello  $ $ worldx ");
        // Each `$0` copies the match: the bound stops the expansion before it grows.
        let mut big = Vec::new();
        assert!(expand_into(&mut big, b"$0$0$0$0$0$0$0$0$0$0", s, &locs, &names, 50).is_err());
        assert!(big.len() <= 50);
    }
}
