//! Sprig's `semver` and `semverCompare` over Masterminds/semver 3.2.0 (version.go,
//! constraints.go): `semver` returns a `*semver.Version` object with its methods, and
//! `semverCompare` parses constraints with the same regular expressions (leftmost-first, as Go's
//! `regexp`, with Go's ASCII `\s`) and applies the same per-operator rules, prerelease handling
//! included.
//!
//! Divergences: Go's error texts quote the version or constraint; sealops names only the reason.
//! `.Major`, `.Minor` and `.Patch` above 2^63-1 (valid `uint64` in Go) are refused, as template
//! integers are `int64` here; such versions still print and compare.

use std::any::Any;
use std::rc::Rc;
use std::sync::LazyLock;

use regex::bytes::Regex;

use super::super::super::funcs::{Ctx, FnResult, str_of};
use super::super::super::value::{Object, Value};

/// Go's `\s` in these patterns: ASCII white space without `\v`.
macro_rules! s {
    () => {
        r"[\t\n\x0C\r ]"
    };
}

/// `semVerRegex`, anchored (`versionRegex`).
const VERSION_RE: &str = concat!(
    r"^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?",
    r"(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?",
    r"(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?$"
);

/// `cvRegex` (note the literal `|` in Go's character classes).
macro_rules! cv {
    () => {
        concat!(
            r"v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?",
            r"(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?",
            r"(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?"
        )
    };
}

/// The operators, in Go's alternation order (which decides leftmost-first matches).
macro_rules! ops {
    () => {
        r"=||!=|>|<|>=|=>|<=|=<|~|~>|\^"
    };
}

const CONSTRAINT_RE: &str = concat!(r"^", s!(), "*(", ops!(), ")", s!(), "*(", cv!(), ")", s!(), "*$");
const RANGE_RE: &str = concat!(s!(), "*(", cv!(), ")", s!(), r"+-", s!(), "+(", cv!(), ")", s!(), "*");
const FIND_RE: &str = concat!("(", ops!(), ")", s!(), "*(", cv!(), ")");
const VALID_RE: &str = concat!(
    r"^(",
    s!(),
    "*(",
    ops!(),
    ")",
    s!(),
    "*(",
    cv!(),
    ")",
    s!(),
    "*)((?:",
    s!(),
    "+|,",
    s!(),
    "*)(",
    ops!(),
    ")",
    s!(),
    "*(",
    cv!(),
    ")",
    s!(),
    "*)*$"
);

struct Patterns {
    version: Regex,
    constraint: Regex,
    range: Regex,
    find: Regex,
    valid: Regex,
}

static PATTERNS: LazyLock<Option<Patterns>> = LazyLock::new(|| {
    Some(Patterns {
        version: Regex::new(VERSION_RE).ok()?,
        constraint: Regex::new(CONSTRAINT_RE).ok()?,
        range: Regex::new(RANGE_RE).ok()?,
        find: Regex::new(FIND_RE).ok()?,
        valid: Regex::new(VALID_RE).ok()?,
    })
});

fn patterns() -> Result<&'static Patterns, String> {
    PATTERNS.as_ref().ok_or_else(|| "semver: internal pattern failed to compile".to_owned())
}

/// A `semver.Version`; `pointer` for the `*semver.Version` that `semver` returns (methods with
/// pointer receivers are reachable only through it, as in Go templates).
#[derive(Clone)]
pub(super) struct Version {
    major: u64,
    minor: u64,
    patch: u64,
    pre: String,
    metadata: String,
    original: String,
    pointer: bool,
}

impl Version {
    /// `semver.NewVersion`.
    fn parse(v: &[u8]) -> Result<Version, &'static str> {
        let p = PATTERNS.as_ref().ok_or("internal pattern failed to compile")?;
        let caps = p.version.captures(v).ok_or("Invalid Semantic Version")?;
        let text = |i: usize| caps.get(i).map_or("", |m| std::str::from_utf8(m.as_bytes()).unwrap_or(""));
        let seg = |i: usize| -> Result<u64, &'static str> {
            let t = text(i).trim_start_matches('.');
            if t.is_empty() {
                return Ok(0);
            }
            parse_u64(t).ok_or("Error parsing version segment: value out of range")
        };
        let version = Version {
            major: seg(1)?,
            minor: seg(2)?,
            patch: seg(3)?,
            pre: text(5).to_owned(),
            metadata: text(8).to_owned(),
            // The whole input matched an ASCII pattern.
            original: String::from_utf8_lossy(v).into_owned(),
            pointer: true,
        };
        if !version.pre.is_empty() {
            validate_prerelease(&version.pre)?;
        }
        Ok(version)
    }

    /// `Version.String()`.
    fn string(&self) -> String {
        let mut s = format!("{}.{}.{}", self.major, self.minor, self.patch);
        if !self.pre.is_empty() {
            s.push('-');
            s.push_str(&self.pre);
        }
        if !self.metadata.is_empty() {
            s.push('+');
            s.push_str(&self.metadata);
        }
        s
    }

    /// `Version.Compare`: -1, 0 or 1; metadata is ignored.
    fn compare(&self, o: &Version) -> i64 {
        let by_number = (self.major, self.minor, self.patch).cmp(&(o.major, o.minor, o.patch));
        if by_number != std::cmp::Ordering::Equal {
            return by_number as i64;
        }
        match (self.pre.is_empty(), o.pre.is_empty()) {
            (true, true) => 0,
            (true, false) => 1,
            (false, true) => -1,
            (false, false) => compare_prerelease(&self.pre, &o.pre),
        }
    }

    /// A value (not pointer) copy with `original` rebuilt as Go's `Inc*`/`Set*` do.
    fn derived(&self, change: impl FnOnce(&mut Version)) -> Version {
        let mut next = self.clone();
        change(&mut next);
        let v = if self.original.starts_with('v') { "v" } else { "" };
        next.original = format!("{v}{}", next.string());
        next.pointer = false;
        next
    }
}

/// `strconv.ParseUint(s, 10, 64)`: decimal digits only, `None` on overflow.
fn parse_u64(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn validate_prerelease(p: &str) -> Result<(), &'static str> {
    for part in p.split('.') {
        if part.bytes().all(|b| b.is_ascii_digit()) {
            if part.len() > 1 && part.starts_with('0') {
                return Err("Version segment starts with 0");
            }
        } else if !part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err("Invalid Prerelease string");
        }
    }
    Ok(())
}

fn validate_metadata(m: &str) -> Result<(), &'static str> {
    if m.split('.').all(|part| part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')) {
        Ok(())
    } else {
        Err("Invalid Metadata string")
    }
}

/// `comparePrerelease`: dot-separated parts compared in turn, a missing part lower.
fn compare_prerelease(v: &str, o: &str) -> i64 {
    let (sp, op): (Vec<&str>, Vec<&str>) = (v.split('.').collect(), o.split('.').collect());
    for i in 0..sp.len().max(op.len()) {
        let d = compare_pre_part(sp.get(i).copied().unwrap_or(""), op.get(i).copied().unwrap_or(""));
        if d != 0 {
            return d;
        }
    }
    0
}

/// `comparePrePart`: numbers below words, numbers by value, words by bytes; two different
/// spellings of one number (`01`, `1`) compare as less, as in Go.
fn compare_pre_part(s: &str, o: &str) -> i64 {
    if s == o {
        return 0;
    }
    if s.is_empty() {
        return -1;
    }
    if o.is_empty() {
        return 1;
    }
    match (parse_u64(s), parse_u64(o)) {
        (None, None) => {
            if s > o {
                1
            } else {
                -1
            }
        }
        (Some(_), None) => -1,
        (None, Some(_)) => 1,
        (Some(si), Some(oi)) => {
            if si > oi {
                1
            } else {
                -1
            }
        }
    }
}

fn uint(n: u64) -> Result<Value, String> {
    i64::try_from(n).map(Value::Int64).map_err(|_| "sealops cannot return version numbers above 2^63-1".to_owned())
}

fn no_args(name: &str, args: &[Value]) -> Result<(), String> {
    if args.is_empty() { Ok(()) } else { Err(format!("wrong number of args for {name}: want 0 got {}", args.len())) }
}

fn one_arg<'a>(name: &str, args: &'a [Value]) -> Result<&'a Value, String> {
    match args {
        [a] => Ok(a),
        _ => Err(format!("wrong number of args for {name}: want 1 got {}", args.len())),
    }
}

fn version_arg<'a>(name: &str, args: &'a [Value]) -> Result<&'a Version, String> {
    let a = one_arg(name, args)?;
    let got = || format!("wrong type for value; expected *semver.Version; got {}", a.type_name());
    match a {
        Value::Object(o) => match o.as_any().downcast_ref::<Version>() {
            Some(v) if v.pointer => Ok(v),
            _ => Err(got()),
        },
        _ => Err(got()),
    }
}

fn string_arg(name: &str, args: &[Value]) -> Result<String, String> {
    match one_arg(name, args)? {
        Value::Str(s) => Ok(String::from_utf8_lossy(s).into_owned()),
        other => Err(format!("wrong type for value; expected string; got {}", other.type_name())),
    }
}

impl Object for Version {
    fn type_name(&self) -> &'static str {
        if self.pointer { "*semver.Version" } else { "semver.Version" }
    }

    fn kind(&self) -> &'static str {
        if self.pointer { "ptr" } else { "struct" }
    }

    fn format_v(&self) -> Vec<u8> {
        self.string().into_bytes()
    }

    fn json(&self) -> Option<Vec<u8>> {
        Some(super::super::super::fmt::quote(self.string().as_bytes()))
    }

    fn member(&self, name: &str, args: Vec<Value>) -> Option<Result<Value, String>> {
        let obj = |v: Version| Value::Object(Rc::new(v));
        let result = match name {
            "Major" => no_args(name, &args).and_then(|()| uint(self.major)),
            "Minor" => no_args(name, &args).and_then(|()| uint(self.minor)),
            "Patch" => no_args(name, &args).and_then(|()| uint(self.patch)),
            "Prerelease" => no_args(name, &args).map(|()| Value::text(&self.pre)),
            "Metadata" => no_args(name, &args).map(|()| Value::text(&self.metadata)),
            "String" => no_args(name, &args).map(|()| Value::text(&self.string())),
            "IncMajor" => no_args(name, &args).map(|()| {
                obj(self.derived(|v| {
                    v.major = v.major.wrapping_add(1);
                    (v.minor, v.patch, v.pre, v.metadata) = (0, 0, String::new(), String::new());
                }))
            }),
            "IncMinor" => no_args(name, &args).map(|()| {
                obj(self.derived(|v| {
                    v.minor = v.minor.wrapping_add(1);
                    (v.patch, v.pre, v.metadata) = (0, String::new(), String::new());
                }))
            }),
            "IncPatch" => no_args(name, &args).map(|()| {
                obj(self.derived(|v| {
                    // A prerelease is dropped instead: 1.2.3-beta's next patch is 1.2.3.
                    if v.pre.is_empty() {
                        v.patch = v.patch.wrapping_add(1);
                    }
                    (v.pre, v.metadata) = (String::new(), String::new());
                }))
            }),
            "SetPrerelease" => string_arg(name, &args).and_then(|pre| {
                if !pre.is_empty() {
                    validate_prerelease(&pre)?;
                }
                Ok(obj(self.derived(|v| v.pre = pre)))
            }),
            "SetMetadata" => string_arg(name, &args).and_then(|meta| {
                if !meta.is_empty() {
                    validate_metadata(&meta)?;
                }
                Ok(obj(self.derived(|v| v.metadata = meta)))
            }),
            // Pointer-receiver methods: not reachable on the values `Inc*`/`Set*` return.
            "Original" | "LessThan" | "GreaterThan" | "Equal" | "Compare" if !self.pointer => return None,
            "Original" => no_args(name, &args).map(|()| Value::text(&self.original)),
            "LessThan" => version_arg(name, &args).map(|o| Value::Bool(self.compare(o) < 0)),
            "GreaterThan" => version_arg(name, &args).map(|o| Value::Bool(self.compare(o) > 0)),
            "Equal" => version_arg(name, &args).map(|o| Value::Bool(self.compare(o) == 0)),
            "Compare" => version_arg(name, &args).map(|o| Value::Int(self.compare(o))),
            "MarshalJSON" | "MarshalText" | "UnmarshalJSON" | "UnmarshalText" | "Scan" | "Value" => {
                Err(format!("sealops does not support the semver.Version method {name} in templates"))
            }
            _ => return None,
        };
        Some(result)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// `semver version`.
pub(super) fn semver(_: &Ctx, a: Vec<Value>) -> FnResult {
    let v = Version::parse(&str_of(&a[0])).map_err(|e| format!("semver: {e}"))?;
    Ok(Value::Object(Rc::new(v)))
}

/// `semverCompare constraint version`.
pub(super) fn semver_compare(_: &Ctx, a: Vec<Value>) -> FnResult {
    let constraints = parse_constraints(&str_of(&a[0])).map_err(|e| format!("semverCompare: {e}"))?;
    let v = Version::parse(&str_of(&a[1])).map_err(|e| format!("semverCompare: {e}"))?;
    Ok(Value::Bool(constraints.iter().any(|all| all.iter().all(|c| c.check(&v)))))
}

/// One parsed constraint (Masterminds' `constraint`).
struct Constraint {
    con: Version,
    op: Vec<u8>,
    dirty: bool,
    minor_dirty: bool,
    patch_dirty: bool,
}

/// `NewConstraint`: `||`-separated groups of constraints that must all hold.
fn parse_constraints(c: &[u8]) -> Result<Vec<Vec<Constraint>>, String> {
    let p = patterns()?;
    let c = rewrite_range(p, c);
    let mut groups = Vec::new();
    for part in split_bytes(&c, b"||") {
        if !p.valid.is_match(part) {
            return Err("improper constraint".to_owned());
        }
        let mut group = Vec::new();
        for m in p.find.find_iter(part) {
            group.push(parse_constraint(p, m.as_bytes())?);
        }
        if group.is_empty() {
            group.push(parse_constraint(p, part)?);
        }
        groups.push(group);
    }
    Ok(groups)
}

fn split_bytes<'a>(s: &'a [u8], sep: &[u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.windows(sep.len()).position(|w| w == sep) {
        parts.push(&rest[..i]);
        rest = &rest[i + sep.len()..];
    }
    parts.push(rest);
    parts
}

/// `rewriteRange`: each `a - b` becomes `>= a, <= b` (the first occurrence of the matched text,
/// as Go's `strings.Replace(o, m, t, 1)`).
fn rewrite_range(p: &Patterns, c: &[u8]) -> Vec<u8> {
    let mut out = c.to_vec();
    for caps in p.range.captures_iter(c) {
        let (Some(all), Some(a), Some(b)) = (caps.get(0), caps.get(1), caps.get(11)) else { continue };
        let replacement = [b">= ", a.as_bytes(), b", <= ", b.as_bytes()].concat();
        let needle = all.as_bytes();
        if needle.is_empty() {
            continue;
        }
        if let Some(i) = out.windows(needle.len()).position(|w| w == needle) {
            out.splice(i..i + needle.len(), replacement);
        }
    }
    out
}

fn is_x(s: &[u8]) -> bool {
    matches!(s, b"x" | b"X" | b"*")
}

/// `parseConstraint`: wildcards and missing parts make the constraint "dirty".
fn parse_constraint(p: &Patterns, c: &[u8]) -> Result<Constraint, String> {
    if c.is_empty() {
        return Ok(Constraint {
            con: Version::parse(b"0.0.0").map_err(str::to_owned)?,
            op: Vec::new(),
            dirty: true,
            minor_dirty: false,
            patch_dirty: false,
        });
    }
    let m = p.constraint.captures(c).ok_or("improper constraint")?;
    let g = |i: usize| m.get(i).map_or(&b""[..], |x| x.as_bytes());
    let minor = g(4).strip_prefix(b".").unwrap_or(g(4));
    let patch = g(5).strip_prefix(b".").unwrap_or(g(5));
    let (mut dirty, mut minor_dirty, mut patch_dirty) = (false, false, false);
    let ver: Vec<u8> = if is_x(g(3)) || g(3).is_empty() {
        dirty = true;
        [b"0.0.0", g(6)].concat()
    } else if is_x(minor) || g(4).is_empty() {
        dirty = true;
        minor_dirty = true;
        [g(3), b".0.0", g(6)].concat()
    } else if is_x(patch) || g(5).is_empty() {
        dirty = true;
        patch_dirty = true;
        [g(3), g(4), b".0", g(6)].concat()
    } else {
        g(2).to_vec()
    };
    let con = Version::parse(&ver).map_err(|_| "constraint Parser Error")?;
    Ok(Constraint { con, op: g(1).to_vec(), dirty, minor_dirty, patch_dirty })
}

impl Constraint {
    /// The operator's rule (Masterminds' `constraintOps`); Go's explanatory errors read as false.
    fn check(&self, v: &Version) -> bool {
        let c = &self.con;
        // A prerelease version only satisfies constraints that name a prerelease (for `!=`, only
        // when the constraint has wildcards).
        if !v.pre.is_empty() && c.pre.is_empty() && (self.op != b"!=" || self.dirty) {
            return false;
        }
        match self.op.as_slice() {
            b"" | b"=" => {
                if self.dirty {
                    self.tilde(v)
                } else {
                    v.compare(c) == 0
                }
            }
            b"!=" => self.not_equal(v),
            b">" => {
                if !self.dirty {
                    return v.compare(c) == 1;
                }
                if v.major != c.major {
                    v.major > c.major
                } else if self.minor_dirty {
                    false
                } else if self.patch_dirty {
                    v.minor > c.minor
                } else {
                    v.compare(c) == 1
                }
            }
            b"<" => v.compare(c) < 0,
            b">=" | b"=>" => v.compare(c) >= 0,
            b"<=" | b"=<" => {
                if !self.dirty {
                    return v.compare(c) <= 0;
                }
                !(v.major > c.major || (v.major == c.major && v.minor > c.minor && !self.minor_dirty))
            }
            b"~" | b"~>" => self.tilde(v),
            b"^" => self.caret(v),
            _ => false,
        }
    }

    fn tilde(&self, v: &Version) -> bool {
        let c = &self.con;
        if v.compare(c) < 0 {
            return false;
        }
        if c.major == 0 && c.minor == 0 && c.patch == 0 && !self.minor_dirty && !self.patch_dirty {
            return true;
        }
        v.major == c.major && (v.minor == c.minor || self.minor_dirty)
    }

    fn caret(&self, v: &Version) -> bool {
        let c = &self.con;
        if v.compare(c) < 0 {
            return false;
        }
        if c.major > 0 || self.minor_dirty {
            return v.major == c.major;
        }
        if v.major > 0 {
            return false;
        }
        if c.minor > 0 || self.patch_dirty {
            return v.minor == c.minor;
        }
        if v.minor > 0 {
            return false;
        }
        c.patch == v.patch
    }

    fn not_equal(&self, v: &Version) -> bool {
        let c = &self.con;
        if self.dirty {
            if c.major != v.major {
                return true;
            }
            if c.minor != v.minor && !self.minor_dirty {
                return true;
            } else if self.minor_dirty {
                return false;
            } else if c.patch != v.patch && !self.patch_dirty {
                return true;
            } else if self.patch_dirty {
                if !v.pre.is_empty() || !c.pre.is_empty() {
                    return compare_prerelease(&v.pre, &c.pre) != 0;
                }
                return false;
            }
        }
        v.compare(c) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(c: &str, v: &str) -> bool {
        let Ok(cs) = parse_constraints(c.as_bytes()) else { panic!("constraint {c}") };
        let Ok(v) = Version::parse(v.as_bytes()) else { panic!("version {v}") };
        cs.iter().any(|all| all.iter().all(|x| x.check(&v)))
    }

    #[test]
    fn constraints_match_masterminds_tests() {
        // From Masterminds/semver 3.2.0 constraints_test.go TestConstraintsCheck.
        let cases = [
            ("*", "1.2.3", true),
            ("~0.0.0", "1.2.3", true),
            ("0.x.x", "1.2.3", false),
            ("0.0.x", "1.2.3", false),
            ("0.0.0", "1.2.3", false),
            ("*", "1.2.3", true),
            ("^0.0.0", "1.2.3", false),
            ("= 2.0", "1.2.3", false),
            ("= 2.0", "2.0.0", true),
            ("4.1", "4.1.0", true),
            ("4.1.x", "4.1.3", true),
            ("1.x", "1.4", true),
            ("!=4.1", "4.1.0", false),
            ("!=4.1-alpha", "4.1.0-alpha", false),
            ("!=4.1-alpha", "4.1.1-alpha", false),
            ("!=4.1-alpha", "4.1.0", true),
            ("!=4.1", "5.1.0", true),
            ("!=4.x", "5.1.0", true),
            ("!=4.x", "4.1.0", false),
            ("!=4.1.x", "4.2.0", true),
            ("!=4.2.x", "4.2.3", false),
            (">1.1", "4.1.0", true),
            (">1.1", "1.1.0", false),
            ("<1.1", "0.1.0", true),
            ("<1.1", "1.1.0", false),
            ("<1.1", "1.1.1", false),
            ("<1.x", "1.1.1", false),
            ("<1.x", "0.1.1", true),
            ("<1.x", "2.0.0", false),
            ("<1.1.x", "1.2.1", false),
            ("<1.1.x", "1.1.500", false),
            ("<1.1.x", "1.0.500", true),
            ("<1.2.x", "1.1.1", true),
            (">=1.1", "4.1.0", true),
            (">=1.1", "4.1.0-beta", false),
            (">=1.1", "1.1.0", true),
            (">=1.1", "0.0.9", false),
            ("<=1.1", "0.1.0", true),
            ("<=1.1", "0.1.0-alpha", false),
            ("<=1.1-a", "0.1.0-alpha", true),
            ("<=1.1", "1.1.0", true),
            ("<=1.x", "1.1.0", true),
            ("<=2.x", "3.0.0", false),
            ("<=1.1", "1.1.1", true),
            ("<=1.1.x", "1.2.500", false),
            ("<=4.5", "3.4.0", true),
            ("<=4.5", "3.7.0", true),
            ("<=4.5", "4.6.3", false),
            (">1.1, <2", "1.1.1", false),
            (">1.1, <2", "1.2.1", true),
            (">1.1, <3", "4.3.2", false),
            (">=1.1, <2, !=1.2.3", "1.2.3", false),
            (">1.1 <2", "1.1.1", false),
            (">1.1 <2", "1.2.1", true),
            (">1.1    <3", "4.3.2", false),
            (">=1.1    <2    !=1.2.3", "1.2.3", false),
            (">=1.1, <2, !=1.2.3 || > 3", "4.1.2", true),
            (">=1.1, <2, !=1.2.3 || > 3", "3.1.2", false),
            (">=1.1, <2, !=1.2.3 || >= 3", "3.0.0", true),
            (">=1.1, <2, !=1.2.3 || > 3", "3.0.0", false),
            (">=1.1, <2, !=1.2.3 || > 3", "1.2.3", false),
            (">=1.1 <2 !=1.2.3", "1.2.3", false),
            (">=1.1 <2 !=1.2.3 || > 3", "4.1.2", true),
            (">=1.1 <2 !=1.2.3 || > 3", "3.1.2", false),
            (">=1.1 <2 !=1.2.3 || >= 3", "3.0.0", true),
            (">=1.1 <2 !=1.2.3 || > 3", "3.0.0", false),
            (">=1.1 <2 !=1.2.3 || > 3", "1.2.3", false),
            ("> 1.1, <     2", "1.1.1", false),
            (">   1.1, <2", "1.2.1", true),
            (">1.1, <  3", "4.3.2", false),
            (">= 1.1, <     2, !=1.2.3", "1.2.3", false),
            ("> 1.1 < 2", "1.1.1", false),
            (">1.1 < 2", "1.2.1", true),
            ("> 1.1    <3", "4.3.2", false),
            (">=1.1    < 2    != 1.2.3", "1.2.3", false),
            (">= 1.1, <2, !=1.2.3 || > 3", "4.1.2", true),
            (">= 1.1, <2, != 1.2.3 || > 3", "3.1.2", false),
            (">= 1.1, <2, != 1.2.3 || >= 3", "3.0.0", true),
            (">= 1.1, <2, !=1.2.3 || > 3", "3.0.0", false),
            (">= 1.1, <2, !=1.2.3 || > 3", "1.2.3", false),
            (">= 1.1 <2 != 1.2.3", "1.2.3", false),
            (">= 1.1 <2 != 1.2.3 || > 3", "4.1.2", true),
            (">= 1.1 <2 != 1.2.3 || > 3", "3.1.2", false),
            (">= 1.1 <2 != 1.2.3 || >= 3", "3.0.0", true),
            (">= 1.1 < 2 !=1.2.3 || > 3", "3.0.0", false),
            (">=1.1 < 2 !=1.2.3 || > 3", "1.2.3", false),
            ("1.1 - 2", "1.1.1", true),
            ("1.5.0 - 4.5", "3.7.0", true),
            ("1.1-3", "4.3.2", false),
            ("^1.1", "1.1.1", true),
            ("^1.1", "4.3.2", false),
            ("^1.x", "1.1.1", true),
            ("^2.x", "1.1.1", false),
            ("^1.x", "2.1.1", false),
            ("^1.x", "1.1.1-beta1", false),
            ("^1.1.2-alpha", "1.2.1-beta1", true),
            ("^1.2.x-alpha", "1.1.1-beta1", false),
            ("^0.0.1", "0.0.1", true),
            ("^0.0.1", "0.3.1", false),
            ("~*", "2.1.1", true),
            ("~1", "2.1.1", false),
            ("~1", "1.3.5", true),
            ("~1", "1.4", true),
            ("~1.x", "2.1.1", false),
            ("~1.x", "1.3.5", true),
            ("~1.x", "1.4", true),
            ("~1.1", "1.1.1", true),
            ("~1.1", "1.1.1-alpha", false),
            ("~1.1-alpha", "1.1.1-beta", true),
            ("~1.1.1-beta", "1.1.1-alpha", false),
            ("~1.1.1-beta", "1.1.1", true),
            ("~1.2.3", "1.2.5", true),
            ("~1.2.3", "1.2.2", false),
            ("~1.2.3", "1.3.2", false),
            ("~1.1", "1.2.3", false),
        ];
        for (c, v, want) in cases {
            assert_eq!(check(c, v), want, "{c} {v}");
        }
    }

    #[test]
    fn prerelease_order_follows_semver() {
        let order = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0"];
        for w in order.windows(2) {
            let (Ok(a), Ok(b)) = (Version::parse(w[0].as_bytes()), Version::parse(w[1].as_bytes())) else { panic!() };
            assert_eq!(a.compare(&b), -1, "{} < {}", w[0], w[1]);
        }
    }
}
