//! The function map: Go's builtins and the Sprig functions sealops implements, with their Go
//! signatures (which decide the argument conversions and type errors, as `reflect` does in Go).

use std::collections::BTreeMap;
use std::rc::Rc;

use base64::Engine as _;
use sha2::Digest as _;

use super::fmt::{self as gofmt, decode_rune, is_print, sprint};
use super::json;
use super::value::{Str, Value, new_str, str_from};

/// A Go parameter type, as far as argument conversion is concerned.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Param {
    /// `interface{}`: anything, a missing value becomes nil.
    Any,
    /// `reflect.Value` (builtins): anything, missing values included.
    Reflect,
    Str,
    Int,
    Bool,
    /// `map[string]interface{}`
    Dict,
}

pub(crate) enum FnError {
    /// The function's own error, as Go's `error calling NAME: ...`.
    Go(String),
    /// A [`super::Limits`] bound.
    Limit(&'static str),
}

impl From<String> for FnError {
    fn from(msg: String) -> Self {
        FnError::Go(msg)
    }
}

impl From<&str> for FnError {
    fn from(msg: &str) -> Self {
        FnError::Go(msg.to_owned())
    }
}

pub(crate) type FnResult = Result<Value, FnError>;

/// The functions whose one call costs milliseconds to seconds of CPU (key generation, bcrypt,
/// scrypt) or tens of MiB (scrypt), far beyond what the step budget accounts for: a loop of
/// `genPrivateKey "dsa"` would otherwise hold the controller for hours. Counted against
/// [`super::Limits::max_costly_calls`]. The `*WithKey` variants only sign, which is cheap.
pub(crate) fn is_costly(name: &str) -> bool {
    matches!(
        name,
        "genPrivateKey" | "genCA" | "genSelfSignedCert" | "genSignedCert" | "bcrypt" | "htpasswd" | "derivePassword"
    )
}

pub(crate) struct Ctx {
    pub max_bytes: usize,
    /// Deepest nesting of lists and dicts built by `list`, `dict`, `set` and `fromJson`.
    pub max_nesting: usize,
    /// Budget of container nodes visited by the nesting checks (shared by the whole render).
    pub work: std::cell::Cell<u64>,
}

impl Ctx {
    /// Refuses to nest `args` in a new container when that would exceed `max_nesting`, so that
    /// printing, encoding and dropping values never recurse deeper than that.
    pub(crate) fn check_nesting(&self, args: &[Value]) -> Result<(), FnError> {
        for a in args {
            if self.depth(a, None)? >= self.max_nesting {
                return Err(FnError::Limit("values nested too deeply"));
            }
        }
        for a in args {
            if let Value::Dict(d) = a {
                d.nested.set(true);
            }
        }
        Ok(())
    }

    /// The nesting depth of `v`; with `target`, an error when `v` contains that dict (a cycle).
    pub(crate) fn depth(&self, v: &Value, target: Option<&Rc<super::value::DictCell>>) -> Result<usize, FnError> {
        let spend = |n: usize| {
            let left = self.work.get().checked_sub(n as u64).ok_or(FnError::Limit("too many evaluation steps"))?;
            self.work.set(left);
            Ok::<(), FnError>(())
        };
        match v {
            Value::List(items) => {
                spend(items.len() + 1)?;
                let mut d = 0;
                for i in items.iter() {
                    d = d.max(self.depth(i, target)?);
                }
                Ok(d + 1)
            }
            Value::Dict(map) => {
                if target.is_some_and(|t| Rc::ptr_eq(t, map)) {
                    return Err(
                        "sealops refuses to put a dict inside itself (Go would recurse forever printing it)".into()
                    );
                }
                let map = map.borrow();
                spend(map.len() + 1)?;
                let mut d = 0;
                for i in map.values() {
                    d = d.max(self.depth(i, target)?);
                }
                Ok(d + 1)
            }
            Value::StrMap(_) => Ok(1),
            _ => Ok(0),
        }
    }

    pub(crate) fn bytes(&self, bytes: Vec<u8>) -> FnResult {
        if bytes.len() > self.max_bytes {
            return Err(FnError::Limit("string result too large"));
        }
        Ok(Value::bytes(bytes))
    }

    pub(crate) fn check_len(&self, len: usize) -> Result<(), FnError> {
        if len > self.max_bytes { Err(FnError::Limit("string result too large")) } else { Ok(()) }
    }
}

pub(crate) struct Func {
    pub params: &'static [Param],
    pub variadic: Option<Param>,
    pub call: fn(&Ctx, Vec<Value>) -> FnResult,
}

pub(crate) enum Lookup {
    Found,
    /// In the controller's function map, not implemented here.
    Unsupported,
    /// Not in the controller's function map (Go fails the parse).
    Undefined,
}

pub(crate) fn lookup(name: &str) -> Lookup {
    if name == "and" || name == "or" || func(name).is_some() {
        Lookup::Found
    } else if name == "call" || SPRIG_GENERIC.contains(&name) {
        Lookup::Unsupported
    } else {
        Lookup::Undefined
    }
}

/// Every name in Sprig 3.2.3's `GenericFuncMap`, minus `env`, `expandenv` and `getHostByName`
/// (removed by the controller).
const SPRIG_GENERIC: &[&str] = &[
    "hello",
    "ago",
    "date",
    "date_in_zone",
    "date_modify",
    "dateInZone",
    "dateModify",
    "duration",
    "durationRound",
    "htmlDate",
    "htmlDateInZone",
    "must_date_modify",
    "mustDateModify",
    "mustToDate",
    "now",
    "toDate",
    "unixEpoch",
    "abbrev",
    "abbrevboth",
    "trunc",
    "trim",
    "upper",
    "lower",
    "title",
    "untitle",
    "substr",
    "repeat",
    "trimall",
    "trimAll",
    "trimSuffix",
    "trimPrefix",
    "nospace",
    "initials",
    "randAlphaNum",
    "randAlpha",
    "randAscii",
    "randNumeric",
    "swapcase",
    "shuffle",
    "snakecase",
    "camelcase",
    "kebabcase",
    "wrap",
    "wrapWith",
    "contains",
    "hasPrefix",
    "hasSuffix",
    "quote",
    "squote",
    "cat",
    "indent",
    "nindent",
    "replace",
    "plural",
    "sha1sum",
    "sha256sum",
    "adler32sum",
    "toString",
    "atoi",
    "int64",
    "int",
    "float64",
    "seq",
    "toDecimal",
    "split",
    "splitList",
    "splitn",
    "toStrings",
    "until",
    "untilStep",
    "add1",
    "add",
    "sub",
    "div",
    "mod",
    "mul",
    "randInt",
    "add1f",
    "addf",
    "subf",
    "divf",
    "mulf",
    "biggest",
    "max",
    "min",
    "maxf",
    "minf",
    "ceil",
    "floor",
    "round",
    "join",
    "sortAlpha",
    "default",
    "empty",
    "coalesce",
    "all",
    "any",
    "compact",
    "mustCompact",
    "fromJson",
    "toJson",
    "toPrettyJson",
    "toRawJson",
    "mustFromJson",
    "mustToJson",
    "mustToPrettyJson",
    "mustToRawJson",
    "ternary",
    "deepCopy",
    "mustDeepCopy",
    "typeOf",
    "typeIs",
    "typeIsLike",
    "kindOf",
    "kindIs",
    "deepEqual",
    "base",
    "dir",
    "clean",
    "ext",
    "isAbs",
    "osBase",
    "osClean",
    "osDir",
    "osExt",
    "osIsAbs",
    "b64enc",
    "b64dec",
    "b32enc",
    "b32dec",
    "tuple",
    "list",
    "dict",
    "get",
    "set",
    "unset",
    "hasKey",
    "pluck",
    "keys",
    "pick",
    "omit",
    "merge",
    "mergeOverwrite",
    "mustMerge",
    "mustMergeOverwrite",
    "values",
    "append",
    "push",
    "mustAppend",
    "mustPush",
    "prepend",
    "mustPrepend",
    "first",
    "mustFirst",
    "rest",
    "mustRest",
    "last",
    "mustLast",
    "initial",
    "mustInitial",
    "reverse",
    "mustReverse",
    "uniq",
    "mustUniq",
    "without",
    "mustWithout",
    "has",
    "mustHas",
    "slice",
    "mustSlice",
    "concat",
    "dig",
    "chunk",
    "mustChunk",
    "bcrypt",
    "htpasswd",
    "genPrivateKey",
    "derivePassword",
    "buildCustomCert",
    "genCA",
    "genCAWithKey",
    "genSelfSignedCert",
    "genSelfSignedCertWithKey",
    "genSignedCert",
    "genSignedCertWithKey",
    "encryptAES",
    "decryptAES",
    "randBytes",
    "uuidv4",
    "semver",
    "semverCompare",
    "fail",
    "regexMatch",
    "mustRegexMatch",
    "regexFindAll",
    "mustRegexFindAll",
    "regexFind",
    "mustRegexFind",
    "regexReplaceAll",
    "mustRegexReplaceAll",
    "regexReplaceAllLiteral",
    "mustRegexReplaceAllLiteral",
    "regexSplit",
    "mustRegexSplit",
    "regexQuoteMeta",
    "urlParse",
    "urlJoin",
];

/// The implemented functions, by name. `and`/`or` short-circuit and live in the executor.
pub(crate) fn func(name: &str) -> Option<Func> {
    use Param::*;
    let f = |params: &'static [Param], variadic: Option<Param>, call: fn(&Ctx, Vec<Value>) -> FnResult| {
        Some(Func { params, variadic, call })
    };
    match name {
        // ---- text/template builtins
        "not" => f(&[Reflect], None, |_, a| Ok(Value::Bool(!a[0].truth()))),
        "len" => f(&[Reflect], None, builtin_len),
        "index" => f(&[Reflect], Some(Reflect), builtin_index),
        "print" => f(&[], Some(Any), |c, a| c.bytes(sprint(&a))),
        "println" => f(&[], Some(Any), |c, a| c.bytes(gofmt::sprintln(&a))),
        "printf" => f(&[Str], Some(Any), |c, a| c.bytes(gofmt::sprintf(&str_of(&a[0]), &a[1..]))),
        "html" => f(&[], Some(Any), |c, a| c.bytes(html_escape(&eval_args(&a)))),
        "js" => f(&[], Some(Any), |c, a| c.bytes(js_escape(&eval_args(&a)))),
        "urlquery" => f(&[], Some(Any), |c, a| c.bytes(query_escape(&eval_args(&a)))),
        "eq" => f(&[Reflect], Some(Reflect), |_, a| eq(&a[0], &a[1..]).map(Value::Bool)),
        "ne" => f(&[Reflect, Reflect], None, |_, a| eq(&a[0], &a[1..]).map(|b| Value::Bool(!b))),
        "lt" => f(&[Reflect, Reflect], None, |_, a| lt(&a[0], &a[1]).map(Value::Bool)),
        "le" => f(&[Reflect, Reflect], None, |_, a| Ok(Value::Bool(lt(&a[0], &a[1])? || eq(&a[0], &a[1..])?))),
        "gt" => f(&[Reflect, Reflect], None, |_, a| Ok(Value::Bool(!(lt(&a[0], &a[1])? || eq(&a[0], &a[1..])?)))),
        "ge" => f(&[Reflect, Reflect], None, |_, a| Ok(Value::Bool(!lt(&a[0], &a[1])?))),
        // ---- Sprig: strings
        "upper" => f(&[Str], None, |c, a| c.bytes(map_chars(&a[0], upper_char))),
        "lower" => f(&[Str], None, |c, a| c.bytes(map_chars(&a[0], lower_char))),
        "title" => f(&[Str], None, |c, a| c.bytes(title(&str_of(&a[0])))),
        "trim" => f(&[Str], None, |c, a| c.bytes(trim_with(&str_of(&a[0]), |ch| ch.is_whitespace(), true, true))),
        "trimAll" | "trimall" => f(&[Str, Str], None, |c, a| {
            let cutset = String::from_utf8_lossy(&str_of(&a[0])).into_owned();
            c.bytes(trim_with(&str_of(&a[1]), |ch| cutset.contains(ch), true, true))
        }),
        "trimPrefix" => f(&[Str, Str], None, |c, a| {
            let (p, s) = (str_of(&a[0]), str_of(&a[1]));
            c.bytes(s.strip_prefix(&p[..]).unwrap_or(&s).to_vec())
        }),
        "trimSuffix" => f(&[Str, Str], None, |c, a| {
            let (p, s) = (str_of(&a[0]), str_of(&a[1]));
            c.bytes(s.strip_suffix(&p[..]).unwrap_or(&s).to_vec())
        }),
        "nospace" => f(&[Str], None, |c, a| {
            c.bytes(
                String::from_utf8_lossy(&str_of(&a[0]))
                    .chars()
                    .filter(|ch| !ch.is_whitespace())
                    .collect::<String>()
                    .into_bytes(),
            )
        }),
        "replace" => f(&[Str, Str, Str], None, |c, a| {
            let (old, new, src) = (str_of(&a[0]), str_of(&a[1]), str_of(&a[2]));
            let count = if old.is_empty() { src.len() + 1 } else { src.windows(old.len()).count() };
            c.check_len(src.len().saturating_add(count.saturating_mul(new.len())))?;
            c.bytes(replace_all(&src, &old, &new))
        }),
        "quote" => f(&[], Some(Any), |c, a| {
            let parts: Vec<Vec<u8>> =
                a.iter().filter(|v| !matches!(v, Value::Nil)).map(|v| gofmt::quote(&strval(v))).collect();
            c.bytes(parts.join(&b' '))
        }),
        "squote" => f(&[], Some(Any), |c, a| {
            let parts: Vec<Vec<u8>> = a
                .iter()
                .filter(|v| !matches!(v, Value::Nil))
                .map(|v| [b"'".as_slice(), &gofmt::to_v(v), b"'"].concat())
                .collect();
            c.bytes(parts.join(&b' '))
        }),
        "cat" => f(&[], Some(Any), |c, a| {
            let parts: Vec<Vec<u8>> = a.iter().filter(|v| !matches!(v, Value::Nil)).map(gofmt::to_v).collect();
            c.bytes(parts.join(&b' '))
        }),
        "indent" => f(&[Int, Str], None, |c, a| indent(c, &a[0], &a[1], false)),
        "nindent" => f(&[Int, Str], None, |c, a| indent(c, &a[0], &a[1], true)),
        "repeat" => f(&[Int, Str], None, |c, a| {
            let n = a[0].as_int().unwrap_or(0);
            let s = str_of(&a[1]);
            let n = usize::try_from(n).map_err(|_| "strings: negative Repeat count")?;
            c.check_len(n.saturating_mul(s.len()))?;
            c.bytes(s.repeat(n))
        }),
        "substr" => f(&[Int, Int, Str], None, |c, a| {
            let (start, end, s) = (a[0].as_int().unwrap_or(0), a[1].as_int().unwrap_or(0), str_of(&a[2]));
            let len = s.len() as i64;
            let (from, to) = if start < 0 {
                (0, end)
            } else if end < 0 || end > len {
                (start, len)
            } else {
                (start, end)
            };
            if from < 0 || to < from || to > len {
                return Err("runtime error: slice bounds out of range".into());
            }
            c.bytes(s[from as usize..to as usize].to_vec())
        }),
        "trunc" => f(&[Int, Str], None, |c, a| {
            let (n, s) = (a[0].as_int().unwrap_or(0), str_of(&a[1]));
            let len = s.len() as i64;
            let out = if n < 0 && len + n > 0 {
                s[(len + n) as usize..].to_vec()
            } else if n >= 0 && len > n {
                s[..n as usize].to_vec()
            } else {
                s.to_vec()
            };
            c.bytes(out)
        }),
        "contains" => f(&[Str, Str], None, |_, a| Ok(Value::Bool(find(&str_of(&a[1]), &str_of(&a[0])).is_some()))),
        "hasPrefix" => f(&[Str, Str], None, |_, a| Ok(Value::Bool(str_of(&a[1]).starts_with(&str_of(&a[0]))))),
        "hasSuffix" => f(&[Str, Str], None, |_, a| Ok(Value::Bool(str_of(&a[1]).ends_with(&str_of(&a[0]))))),
        "toString" => f(&[Any], None, |c, a| c.bytes(strval(&a[0]))),
        "atoi" => f(&[Str], None, |_, a| {
            Ok(Value::Int(std::str::from_utf8(&str_of(&a[0])).ok().and_then(|s| s.parse().ok()).unwrap_or(0)))
        }),
        "split" => f(&[Str, Str], None, |_, a| {
            let parts = go_split(&str_of(&a[1]), &str_of(&a[0]));
            let map: BTreeMap<String, super::value::Str> =
                parts.into_iter().enumerate().map(|(i, p)| (format!("_{i}"), new_str(p))).collect();
            Ok(Value::StrMap(Rc::new(map)))
        }),
        "splitList" => f(&[Str, Str], None, |_, a| {
            let parts = go_split(&str_of(&a[1]), &str_of(&a[0]));
            Ok(Value::List(Rc::new(parts.into_iter().map(Value::bytes).collect())))
        }),
        "join" => f(&[Str, Any], None, |c, a| c.bytes(strslice(&a[1]).join(&str_of(&a[0])[..]))),
        "sortAlpha" => f(&[Any], None, |_, a| {
            let mut items = match &a[0] {
                Value::List(_) => strslice(&a[0]),
                other => vec![strval(other)],
            };
            items.sort();
            Ok(Value::List(Rc::new(items.into_iter().map(Value::bytes).collect())))
        }),
        "b64enc" => f(&[Str], None, |c, a| {
            c.bytes(base64::engine::general_purpose::STANDARD.encode(&str_of(&a[0])[..]).into_bytes())
        }),
        "b64dec" => f(&[Str], None, |c, a| {
            let input: Vec<u8> = str_of(&a[0]).iter().copied().filter(|&b| b != b'\r' && b != b'\n').collect();
            let engine = base64::engine::GeneralPurpose::new(
                &base64::alphabet::STANDARD,
                base64::engine::GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
            );
            // Go returns the decoder's error text as the result; sealops refuses to render it.
            let out = engine
                .decode(&input)
                .map_err(|_| "b64dec: the input is not valid base64 (Go would render its error text)")?;
            c.bytes(out)
        }),
        "b32enc" => f(&[Str], None, |c, a| c.bytes(b32_encode(&str_of(&a[0])))),
        "b32dec" => f(&[Str], None, |c, a| {
            let out = b32_decode(&str_of(&a[0]))
                .ok_or("b32dec: the input is not valid base32 (Go would render its error text)")?;
            c.bytes(out)
        }),
        "sha256sum" => f(&[Str], None, |c, a| c.bytes(hex(&sha2::Sha256::digest(&str_of(&a[0])[..])))),
        "sha1sum" => f(&[Str], None, |c, a| {
            let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, &str_of(&a[0]));
            c.bytes(hex(d.as_ref()))
        }),
        "adler32sum" => f(&[Str], None, |c, a| c.bytes(adler32(&str_of(&a[0])).to_string().into_bytes())),
        // Go's error is the message itself; a template can compute it from decrypted items, and
        // the error ends up in the SealedSecret's status and Events, so sealops withholds it.
        "fail" => f(&[Str], None, |_, _| {
            Err(FnError::Go("fail was called (its message is withheld: it can contain decrypted values)".into()))
        }),
        // ---- Sprig: defaults, flow, JSON
        "default" => f(&[Any], Some(Any), |_, a| {
            Ok(match a.get(1) {
                Some(given) if !empty(given) => given.clone(),
                _ => a[0].clone(),
            })
        }),
        "empty" => f(&[Any], None, |_, a| Ok(Value::Bool(empty(&a[0])))),
        "coalesce" => f(&[], Some(Any), |_, a| Ok(a.iter().find(|v| !empty(v)).cloned().unwrap_or(Value::Nil))),
        "ternary" => f(&[Any, Any, Bool], None, |_, a| Ok(if a[2].truth() { a[0].clone() } else { a[1].clone() })),
        "toJson" => f(&[Any], None, |c, a| to_json(c, &a[0], true, false, false)),
        "toPrettyJson" => f(&[Any], None, |c, a| to_json(c, &a[0], true, true, false)),
        "toRawJson" => f(&[Any], None, |c, a| to_json(c, &a[0], false, false, false)),
        "mustToJson" => f(&[Any], None, |c, a| to_json(c, &a[0], true, false, true)),
        "mustToPrettyJson" => f(&[Any], None, |c, a| to_json(c, &a[0], true, true, true)),
        "mustToRawJson" => f(&[Any], None, |c, a| to_json(c, &a[0], false, false, true)),
        "fromJson" => f(&[Str], None, |c, a| match json::decode(&str_of(&a[0]), c.max_nesting) {
            Ok(v) => Ok(v),
            Err(json::DecodeError::TooDeep) => Err(FnError::Limit("JSON nested too deeply")),
            Err(json::DecodeError::Syntax(_)) => Ok(Value::Nil),
        }),
        "mustFromJson" => f(&[Str], None, |c, a| match json::decode(&str_of(&a[0]), c.max_nesting) {
            Ok(v) => Ok(v),
            Err(json::DecodeError::TooDeep) => Err(FnError::Limit("JSON nested too deeply")),
            Err(json::DecodeError::Syntax(msg)) => Err(FnError::Go(msg)),
        }),
        // ---- Sprig: integer arithmetic (`int64` results, arguments through `cast.ToInt64`)
        "add" => f(&[], Some(Any), |_, a| Ok(Value::Int64(a.iter().map(to_int64).fold(0i64, i64::wrapping_add)))),
        "add1" => f(&[Any], None, |_, a| Ok(Value::Int64(to_int64(&a[0]).wrapping_add(1)))),
        "sub" => f(&[Any, Any], None, |_, a| Ok(Value::Int64(to_int64(&a[0]).wrapping_sub(to_int64(&a[1]))))),
        "mul" => f(&[Any], Some(Any), |_, a| Ok(Value::Int64(a.iter().map(to_int64).fold(1i64, i64::wrapping_mul)))),
        "div" => f(&[Any, Any], None, |_, a| {
            to_int64(&a[0])
                .checked_div(to_int64(&a[1]))
                .map(Value::Int64)
                .ok_or_else(|| "runtime error: integer divide by zero".into())
        }),
        "mod" => f(&[Any, Any], None, |_, a| {
            to_int64(&a[0])
                .checked_rem(to_int64(&a[1]))
                .map(Value::Int64)
                .ok_or_else(|| "runtime error: integer divide by zero".into())
        }),
        "max" => f(&[Any], Some(Any), |_, a| Ok(Value::Int64(a.iter().map(to_int64).max().unwrap_or(0)))),
        "min" => f(&[Any], Some(Any), |_, a| Ok(Value::Int64(a.iter().map(to_int64).min().unwrap_or(0)))),
        // ---- Sprig: lists and dicts
        "list" => f(&[], Some(Any), |c, a| {
            c.check_nesting(&a)?;
            Ok(Value::List(Rc::new(a)))
        }),
        "dict" => f(&[], Some(Any), |c, a| {
            c.check_nesting(&a)?;
            let mut map = BTreeMap::new();
            for pair in a.chunks(2) {
                let key = String::from_utf8_lossy(&strval(&pair[0])).into_owned();
                map.insert(key, pair.get(1).cloned().unwrap_or_else(|| Value::text("")));
            }
            Ok(Value::new_dict(map))
        }),
        "get" => f(&[Dict, Str], None, |_, a| {
            let Value::Dict(map) = &a[0] else { return Ok(Value::text("")) };
            Ok(map.borrow().get(&key_of(&a[1])).cloned().unwrap_or_else(|| Value::text("")))
        }),
        "set" => f(&[Dict, Str, Any], None, |c, a| {
            let Value::Dict(map) = &a[0] else { return Err("assignment to entry in nil map".into()) };
            if matches!(a[2], Value::List(_) | Value::Dict(_) | Value::StrMap(_)) && map.nested.get() {
                return Err("sealops cannot set a list or dict into a dict that is itself inside a list or dict".into());
            }
            c.depth(&a[2], Some(map))?;
            c.check_nesting(&a[2..])?;
            map.borrow_mut().insert(key_of(&a[1]), a[2].clone());
            Ok(a[0].clone())
        }),
        "unset" => f(&[Dict, Str], None, |_, a| {
            if let Value::Dict(map) = &a[0] {
                map.borrow_mut().remove(&key_of(&a[1]));
            }
            Ok(a[0].clone())
        }),
        "hasKey" => f(&[Dict, Str], None, |_, a| {
            Ok(Value::Bool(matches!(&a[0], Value::Dict(map) if map.borrow().contains_key(&key_of(&a[1])))))
        }),
        // Go's map order is random; sorted is one of the orders Go can produce.
        "keys" => f(&[], Some(Dict), |_, a| {
            let mut keys = Vec::new();
            for d in &a {
                if let Value::Dict(map) = d {
                    keys.extend(map.borrow().keys().map(|k| Value::text(k)));
                }
            }
            Ok(Value::List(Rc::new(keys)))
        }),
        "first" => f(&[Any], None, |_, a| match &a[0] {
            Value::List(l) => Ok(l.first().cloned().unwrap_or(Value::Nil)),
            other => Err(format!("Cannot find first on type {}", kind_name(other)).into()),
        }),
        "last" => f(&[Any], None, |_, a| match &a[0] {
            Value::List(l) => Ok(l.last().cloned().unwrap_or(Value::Nil)),
            other => Err(format!("Cannot find last on type {}", kind_name(other)).into()),
        }),
        _ => super::sprig::func(name),
    }
}

/// `cast.ToInt64`, errors as 0: numbers truncated, booleans 0/1, decimal or `0x` strings.
fn to_int64(v: &Value) -> i64 {
    match v {
        Value::Int(n) | Value::Int64(n) => *n,
        Value::Float(f) => *f as i64,
        Value::Bool(b) => i64::from(*b),
        Value::Str(s) => {
            let text = String::from_utf8_lossy(s);
            let text = text.strip_suffix(".0").unwrap_or(&text).to_owned();
            let (neg, body) = match text.strip_prefix('-') {
                Some(rest) => (true, rest.to_owned()),
                None => (false, text.strip_prefix('+').unwrap_or(&text).to_owned()),
            };
            let n = if let Some(hex) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
                i64::from_str_radix(hex, 16).ok()
            } else if body.len() > 1 && body.starts_with('0') {
                i64::from_str_radix(&body[1..], 8).ok()
            } else {
                body.parse::<i64>().ok()
            };
            n.map(|n| if neg { -n } else { n }).unwrap_or(0)
        }
        _ => 0,
    }
}

pub(crate) fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Nil => "invalid",
        Value::Str(_) => "string",
        Value::Int(_) => "int",
        Value::Int64(_) => "int64",
        Value::Float(_) => "float64",
        Value::Bool(_) => "bool",
        Value::List(_) => "slice",
        Value::Dict(_) | Value::StrMap(_) => "map",
        Value::Object(o) => o.kind(),
    }
}

pub(crate) fn str_of(v: &Value) -> Str {
    match v {
        Value::Str(s) => s.clone(),
        other => new_str(gofmt::to_v(other)),
    }
}

pub(crate) fn key_of(v: &Value) -> String {
    String::from_utf8_lossy(&str_of(v)).into_owned()
}

/// Sprig's `strval`: strings as they are, anything else as `%v`.
pub(crate) fn strval(v: &Value) -> Vec<u8> {
    match v {
        Value::Str(s) => s.to_vec(),
        other => gofmt::to_v(other),
    }
}

/// Sprig's `strslice`: list items (nils dropped) as strings, nil as no items, else one item.
pub(crate) fn strslice(v: &Value) -> Vec<Vec<u8>> {
    match v {
        Value::List(items) => items.iter().filter(|i| !matches!(i, Value::Nil)).map(strval).collect(),
        Value::Nil => Vec::new(),
        other => vec![strval(other)],
    }
}

/// Sprig's `empty`.
pub(crate) fn empty(v: &Value) -> bool {
    !v.truth()
}

fn to_json(c: &Ctx, v: &Value, escape_html: bool, indent: bool, must: bool) -> FnResult {
    match (json::Encoder { escape_html, indent }).encode(v) {
        Ok(out) => c.bytes(out),
        Err(e) if must => Err(FnError::Go(e)),
        Err(_) => Ok(Value::text("")),
    }
}

fn indent(c: &Ctx, n: &Value, s: &Value, newline: bool) -> FnResult {
    let n = usize::try_from(n.as_int().unwrap_or(0)).map_err(|_| "strings: negative Repeat count")?;
    let s = str_of(s);
    let lines = 1 + s.iter().filter(|&&b| b == b'\n').count();
    c.check_len(s.len().saturating_add(lines.saturating_mul(n.saturating_add(1))))?;
    let pad = vec![b' '; n];
    let mut out = Vec::new();
    if newline {
        out.push(b'\n');
    }
    out.extend_from_slice(&pad);
    for &b in s.iter() {
        out.push(b);
        if b == b'\n' {
            out.extend_from_slice(&pad);
        }
    }
    c.bytes(out)
}

/// Go's simple (one rune to one rune) case mapping; invalid UTF-8 becomes U+FFFD as in
/// `strings.Map`.
fn map_chars(v: &Value, f: fn(char) -> char) -> Vec<u8> {
    String::from_utf8_lossy(&str_of(v)).chars().map(f).collect::<String>().into_bytes()
}

pub(crate) fn upper_char(c: char) -> char {
    let mut up = c.to_uppercase();
    match (up.next(), up.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

pub(crate) fn lower_char(c: char) -> char {
    // The one character whose full lowercase differs from its simple one in length.
    if c == '\u{130}' {
        return 'i';
    }
    let mut low = c.to_lowercase();
    match (low.next(), low.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// `strings.Title`.
fn title(s: &[u8]) -> Vec<u8> {
    let is_sep = |c: char| {
        if c.is_ascii() {
            return !(c.is_ascii_alphanumeric() || c == '_');
        }
        if c.is_alphanumeric() {
            return false;
        }
        c.is_whitespace()
    };
    let mut prev = ' ';
    String::from_utf8_lossy(s)
        .chars()
        .map(|c| {
            let out = if is_sep(prev) { upper_char(c) } else { c };
            prev = c;
            out
        })
        .collect::<String>()
        .into_bytes()
}

/// Trims characters matching `cut` from the ends of a byte string; invalid UTF-8 stops trimming.
fn trim_with(s: &[u8], cut: impl Fn(char) -> bool, left: bool, right: bool) -> Vec<u8> {
    let mut start = 0;
    if left {
        while start < s.len() {
            match decode_rune(&s[start..]) {
                (Some(c), len) if cut(c) => start += len,
                _ => break,
            }
        }
    }
    let mut end = s.len();
    if right {
        while end > start {
            // Step back to the start of the last character.
            let mut k = end - 1;
            while k > start && (s[k] & 0xc0) == 0x80 && end - k < 4 {
                k -= 1;
            }
            match decode_rune(&s[k..end]) {
                (Some(c), len) if len == end - k && cut(c) => end = k,
                _ => break,
            }
        }
    }
    s[start..end].to_vec()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

fn replace_all(src: &[u8], old: &[u8], new: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    if old.is_empty() {
        // Go inserts `new` before every character and at the end.
        let mut rest = src;
        out.extend_from_slice(new);
        while !rest.is_empty() {
            let (_, len) = decode_rune(rest);
            out.extend_from_slice(&rest[..len]);
            out.extend_from_slice(new);
            rest = &rest[len..];
        }
        return out;
    }
    let mut rest = src;
    while let Some(i) = find(rest, old) {
        out.extend_from_slice(&rest[..i]);
        out.extend_from_slice(new);
        rest = &rest[i + old.len()..];
    }
    out.extend_from_slice(rest);
    out
}

/// `strings.Split`: an empty separator splits into UTF-8 sequences.
fn go_split(s: &[u8], sep: &[u8]) -> Vec<Vec<u8>> {
    if sep.is_empty() {
        let mut parts = Vec::new();
        let mut rest = s;
        while !rest.is_empty() {
            let (_, len) = decode_rune(rest);
            parts.push(rest[..len].to_vec());
            rest = &rest[len..];
        }
        return parts;
    }
    let mut parts = Vec::new();
    let mut rest = s;
    while let Some(i) = find(rest, sep) {
        parts.push(rest[..i].to_vec());
        rest = &rest[i + sep.len()..];
    }
    parts.push(rest.to_vec());
    parts
}

fn hex(bytes: &[u8]) -> Vec<u8> {
    bytes.iter().flat_map(|b| format!("{b:02x}").into_bytes()).collect()
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &d in data {
        a = (a + u32::from(d)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn b32_encode(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in data.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..chunk.len()].copy_from_slice(chunk);
        let n = buf.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        let chars = match chunk.len() {
            1 => 2,
            2 => 4,
            3 => 5,
            4 => 7,
            _ => 8,
        };
        for i in 0..8 {
            if i < chars {
                out.push(B32[((n >> (35 - 5 * i)) & 31) as usize]);
            } else {
                out.push(b'=');
            }
        }
    }
    out
}

fn b32_decode(input: &[u8]) -> Option<Vec<u8>> {
    let input: Vec<u8> = input.iter().copied().filter(|&b| b != b'\r' && b != b'\n').collect();
    if !input.len().is_multiple_of(8) {
        return None;
    }
    let mut out = Vec::new();
    let blocks = input.len() / 8;
    for (bi, block) in input.chunks(8).enumerate() {
        let data_len = block.iter().position(|&b| b == b'=').unwrap_or(8);
        if block[data_len..].iter().any(|&b| b != b'=') || (data_len < 8 && bi + 1 != blocks) {
            return None;
        }
        let bytes = match data_len {
            8 => 5,
            7 => 4,
            5 => 3,
            4 => 2,
            2 => 1,
            _ => return None,
        };
        let mut n = 0u64;
        for (i, &c) in block.iter().enumerate() {
            let v = if i < data_len { B32.iter().position(|&x| x == c)? as u64 } else { 0 };
            n = (n << 5) | v;
        }
        for i in 0..bytes {
            out.push((n >> (32 - 8 * i)) as u8);
        }
    }
    Some(out)
}

/// html/js/urlquery take their arguments as `fmt.Sprint`, or the one string argument as is.
fn eval_args(args: &[Value]) -> Vec<u8> {
    match args {
        [Value::Str(s)] => s.to_vec(),
        _ => sprint(args),
    }
}

fn html_escape(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for &b in s {
        match b {
            b'"' => out.extend_from_slice(b"&#34;"),
            b'\'' => out.extend_from_slice(b"&#39;"),
            b'&' => out.extend_from_slice(b"&amp;"),
            b'<' => out.extend_from_slice(b"&lt;"),
            b'>' => out.extend_from_slice(b"&gt;"),
            0 => out.extend_from_slice("\u{fffd}".as_bytes()),
            b => out.push(b),
        }
    }
    out
}

fn js_escape(s: &[u8]) -> Vec<u8> {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\'' => out.extend_from_slice(b"\\'"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'<' => out.extend_from_slice(b"\\u003C"),
            b'>' => out.extend_from_slice(b"\\u003E"),
            b'&' => out.extend_from_slice(b"\\u0026"),
            b'=' => out.extend_from_slice(b"\\u003D"),
            b if b < b' ' => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 15)]);
            }
            b if b < 0x80 => out.push(b),
            _ => {
                let (c, len) = decode_rune(&s[i..]);
                match c {
                    Some(c) if is_print(c) => out.extend_from_slice(&s[i..i + len]),
                    Some(c) => out.extend_from_slice(format!("\\u{:04X}", c as u32).as_bytes()),
                    None => out.extend_from_slice(b"\\uFFFD"),
                }
                i += len;
                continue;
            }
        }
        i += 1;
    }
    out
}

fn query_escape(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for &b in s {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b),
            b' ' => out.push(b'+'),
            b => out.extend_from_slice(format!("%{b:02X}").as_bytes()),
        }
    }
    out
}

fn builtin_len(_: &Ctx, a: Vec<Value>) -> FnResult {
    let n = match &a[0] {
        Value::Str(s) => s.len(),
        Value::List(l) => l.len(),
        Value::Dict(d) => d.borrow().len(),
        Value::StrMap(m) => m.len(),
        Value::Nil => return Err("len of nil pointer".into()),
        other => return Err(format!("len of type {}", other.type_name()).into()),
    };
    Ok(Value::Int(n as i64))
}

fn builtin_index(_: &Ctx, a: Vec<Value>) -> FnResult {
    let mut item = a[0].clone();
    if matches!(item, Value::Nil) {
        return Err("index of untyped nil".into());
    }
    for idx in &a[1..] {
        item = match (&item, idx) {
            (Value::Str(s), i) => {
                let i = index_int(i, s.len())?;
                Value::Int(i64::from(s[i]))
            }
            (Value::List(l), i) => l[index_int(i, l.len())?].clone(),
            (Value::Dict(d), Value::Str(k)) => {
                d.borrow().get(&*String::from_utf8_lossy(k)).cloned().unwrap_or(Value::Nil)
            }
            (Value::StrMap(m), Value::Str(k)) => {
                Value::Str(m.get(&*String::from_utf8_lossy(k)).cloned().unwrap_or_else(|| str_from("")))
            }
            (Value::Dict(_) | Value::StrMap(_), other) => {
                return Err(format!("value has type {}; should be string", other.type_name()).into());
            }
            (Value::Nil, _) => return Err("index of untyped nil".into()),
            (other, _) => return Err(format!("can't index item of type {}", other.type_name()).into()),
        };
    }
    Ok(item)
}

fn index_int(i: &Value, len: usize) -> Result<usize, FnError> {
    let Some(n) = i.as_int() else {
        return Err(format!("cannot index slice/array with type {}", i.type_name()).into());
    };
    if n < 0 || n as u64 >= len as u64 {
        return Err(format!("index out of range: {n}").into());
    }
    Ok(n as usize)
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum Kind {
    Invalid,
    Bool,
    Int,
    Float,
    Str,
    Other,
}

fn basic_kind(v: &Value) -> Kind {
    match v {
        Value::Nil => Kind::Invalid,
        Value::Bool(_) => Kind::Bool,
        Value::Int(_) | Value::Int64(_) => Kind::Int,
        Value::Float(_) => Kind::Float,
        Value::Str(_) => Kind::Str,
        _ => Kind::Other,
    }
}

/// text/template's `eq`: true when `a` equals any of `others`.
fn eq(a: &Value, others: &[Value]) -> Result<bool, FnError> {
    if matches!(a, Value::List(_) | Value::Dict(_) | Value::StrMap(_)) {
        return Err(format!("uncomparable type {}", a.type_name()).into());
    }
    if others.is_empty() {
        return Err("missing argument for comparison".into());
    }
    let k1 = basic_kind(a);
    for b in others {
        let k2 = basic_kind(b);
        let truth = if k1 != k2 {
            if k1 != Kind::Invalid && k2 != Kind::Invalid {
                return Err("incompatible types for comparison".into());
            }
            false
        } else {
            match (a, b) {
                (Value::Bool(x), Value::Bool(y)) => x == y,
                (Value::Str(x), Value::Str(y)) => x == y,
                (Value::Float(x), Value::Float(y)) => x == y,
                (Value::Nil, Value::Nil) => true,
                _ => match (a.as_int(), b.as_int()) {
                    (Some(x), Some(y)) => x == y,
                    _ => return Err(format!("non-comparable type {}", b.type_name()).into()),
                },
            }
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

fn lt(a: &Value, b: &Value) -> Result<bool, FnError> {
    let (k1, k2) = (basic_kind(a), basic_kind(b));
    if matches!(k1, Kind::Invalid | Kind::Other) || matches!(k2, Kind::Invalid | Kind::Other) {
        return Err("invalid type for comparison".into());
    }
    if k1 != k2 {
        return Err("incompatible types for comparison".into());
    }
    Ok(match (a, b) {
        (Value::Str(x), Value::Str(y)) => x.as_slice() < y.as_slice(),
        (Value::Float(x), Value::Float(y)) => x < y,
        (Value::Bool(_), _) => return Err("invalid type for comparison".into()),
        _ => a.as_int() < b.as_int(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every function of the controller's map is implemented; the only refusals left are inside
    /// functions (e.g. P-224 keys in `genCAWithKey`), which their own tests cover.
    #[test]
    fn every_sprig_function_of_the_controller_is_implemented() {
        let missing: Vec<&str> = SPRIG_GENERIC.iter().copied().filter(|name| func(name).is_none()).collect();
        assert!(missing.is_empty(), "not implemented: {missing:?}");
        assert!(matches!(lookup("call"), Lookup::Unsupported));
        for removed in ["env", "expandenv", "getHostByName"] {
            assert!(matches!(lookup(removed), Lookup::Undefined), "{removed} is removed by the controller");
        }
    }
}
