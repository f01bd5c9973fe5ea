//! Flux `postBuild` variable substitution (`${var}`, `${var:=default}`, `${var:-default}`,
//! `$${escape}`), strict mode, and the `kustomize.toolkit.fluxcd.io/substitute: disabled`
//! annotation. Owner: the generator work package.
//!
//! Flux (`fluxcd/pkg` `kustomize/kustomize_varsub.go`, spec `flux.md` §2.8) turns each object
//! into YAML with `sigs.k8s.io/yaml` (JSON → go-yaml v2, keys sorted, quotes only where needed),
//! runs envsubst ([`flux_envsubst`]) over the whole text and parses the result back with YAML 1.1
//! rules. We substitute each string (map keys and values) on its own and then re-type it the
//! way that round trip would:
//!
//! - a string go-yaml would have written as a *plain* scalar is read back as a plain scalar:
//!   `3` becomes a number, `true`/`yes`/`on` a boolean, `""`/`~`/`null` null, `2024-01-02` the
//!   timestamp string `2024-01-02T00:00:00Z`; a text after ` #` is a comment and dropped; a
//!   result in quotes (`${quote}${v}${quote}`, Flux's documented workaround) is a string; a
//!   result that would change the YAML structure (`a: b`, `[x]`, `- x`, `*x`, …) is refused
//!   with an error, where Flux would fail to parse or build something else;
//! - a string go-yaml would have quoted (it already looked like a number or boolean, had
//!   leading/trailing spaces, `: `, ` #`, a leading indicator, control characters, or several
//!   lines) stays a string.
//!
//! Known difference: inside a string go-yaml quotes, Flux inserts the value into the quoted
//! text, so a value containing `"`, `\` or `'` there can end or escape the quote; we insert it
//! literally. Map keys are always kept as strings.

#[path = "flux_envsubst.rs"]
mod flux_envsubst;

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{Map, Number, Value};
use zeroize::Zeroizing;

use crate::manifest::Resource;

/// Variable values can come from Secrets, so they are wiped on drop.
pub type Vars = BTreeMap<String, Zeroizing<String>>;

#[derive(Debug, thiserror::Error)]
pub enum SubstituteError {
    #[error("{object}: {message}")]
    Invalid { object: String, message: String },
}

impl SubstituteError {
    pub fn kind(&self) -> &'static str {
        match self {
            SubstituteError::Invalid { .. } => "substitute",
        }
    }
}

/// The opt-out label/annotation and its one value (compared exactly, as Flux does).
pub const DISABLE_KEY: &str = "kustomize.toolkit.fluxcd.io/substitute";
pub const DISABLED: &str = "disabled";

/// Flux's variable-name rule, quoted in its error message.
const NAME_RULE: &str = "^[_[:alpha:]][_[:alpha:][:digit:]]*$";

/// Substitutes `vars` in every resource not annotated `kustomize.toolkit.fluxcd.io/substitute:
/// disabled`, as Flux does (on the object's YAML text, then parsed back).
///
/// Like Flux's default `substituteStrategy: WithVariables`, nothing happens when `vars` is
/// empty; [`apply_always`] is `substituteStrategy: Always`.
pub fn apply(resources: &mut [Resource], vars: &Vars, strict: bool) -> Result<(), SubstituteError> {
    if vars.is_empty() {
        return Ok(());
    }
    apply_always(resources, vars, strict)
}

/// [`apply`] even with no variables (so `${x:=default}` still expands).
pub fn apply_always(resources: &mut [Resource], vars: &Vars, strict: bool) -> Result<(), SubstituteError> {
    // Flux removes every newline from values when it loads them.
    let vars: BTreeMap<&str, Zeroizing<String>> =
        vars.iter().map(|(k, v)| (k.as_str(), Zeroizing::new(v.replace('\n', "")))).collect();
    let lookup = |name: &str| match vars.get(name) {
        Some(value) => Some(value.to_string()),
        None if strict => None,
        None => Some(String::new()),
    };
    for resource in resources.iter_mut() {
        if is_disabled(resource) {
            continue;
        }
        let object_label = gvk_name(resource);
        if let Some(bad) = vars.keys().find(|name| !valid_name(name)) {
            return Err(SubstituteError::Invalid {
                object: object_label,
                message: format!("envsubst error: '{bad}' var name is invalid, must match '{NAME_RULE}'"),
            });
        }
        let object = std::mem::take(&mut resource.object);
        let mut path = Vec::new();
        match substitute_map(object, &lookup, &mut path) {
            Ok(object) => resource.object = object,
            Err((message, at)) => {
                return Err(SubstituteError::Invalid {
                    object: object_label,
                    message: format!("envsubst error: variable substitution failed: {message} (at {at})"),
                });
            }
        }
    }
    Ok(())
}

/// `post build failed for '<gvk>/<name>'`, with kustomize's `Gvk.String()` form.
fn gvk_name(resource: &Resource) -> String {
    let (group, version) = resource.group_version();
    let group = if group.is_empty() { "[noGrp]" } else { group };
    format!("post build failed for '{}.{version}.{group}/{}'", resource.kind(), resource.name())
}

fn is_disabled(resource: &Resource) -> bool {
    ["labels", "annotations"].iter().any(|field| {
        resource
            .object
            .get("metadata")
            .and_then(|m| m.get(*field))
            .and_then(|m| m.get(DISABLE_KEY))
            .and_then(Value::as_str)
            == Some(DISABLED)
    })
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

type Failure = (String, String);

fn substitute_map(
    map: Map<String, Value>,
    lookup: &dyn Fn(&str) -> Option<String>,
    path: &mut Vec<String>,
) -> Result<Map<String, Value>, Failure> {
    let mut out = Map::with_capacity(map.len());
    for (key, value) in map {
        path.push(key.clone());
        let key = if key.contains('$') { expand(&key, lookup, path)? } else { key };
        let value = substitute_value(value, lookup, path)?;
        path.pop();
        out.insert(key, value);
    }
    Ok(out)
}

fn substitute_value(
    value: Value,
    lookup: &dyn Fn(&str) -> Option<String>,
    path: &mut Vec<String>,
) -> Result<Value, Failure> {
    match value {
        Value::String(text) if text.contains('$') => {
            let expanded = expand(&text, lookup, path)?;
            if !plain_style(&text) {
                return Ok(Value::String(expanded));
            }
            read_plain(&expanded).map_err(|message| (message, path.join(".")))
        }
        Value::Object(map) => substitute_map(map, lookup, path).map(Value::Object),
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                path.push(i.to_string());
                out.push(substitute_value(item, lookup, path)?);
                path.pop();
            }
            Ok(Value::Array(out))
        }
        other => Ok(other),
    }
}

fn expand(text: &str, lookup: &dyn Fn(&str) -> Option<String>, path: &[String]) -> Result<String, Failure> {
    flux_envsubst::eval(text, lookup).map_err(|e| (e.to_string(), path.join(".")))
}

/// Whether go-yaml v2 writes `s` as a plain scalar in a block mapping or sequence: it must read
/// back as a string (not a number, boolean, null, timestamp or base-60 number) and pass libyaml's
/// plain-scalar analysis.
fn plain_style(s: &str) -> bool {
    if s.is_empty() || !matches!(resolve_plain(s), Value::String(ref r) if r == s) || is_base60(s) {
        return false;
    }
    let first = s.chars().next().unwrap_or(' ');
    let second = s.chars().nth(1);
    let followed_by_space = |c: Option<char>| c.is_none_or(|c| c == ' ' || c == '\t');
    if s.starts_with("---") || s.starts_with("...") {
        return false;
    }
    if "#,[]{}&*!|>'\"%@`".contains(first) || (matches!(first, '-' | '?' | ':') && followed_by_space(second)) {
        return false;
    }
    if s.starts_with([' ', '\t']) || s.ends_with([' ', '\t']) || s.ends_with(':') {
        return false;
    }
    if s.contains(": ") || s.contains(":\t") || s.contains(" #") || s.contains("\t#") {
        return false;
    }
    // libyaml's printable set (tab and line breaks are not plain; 4-byte characters are
    // escaped by go-yaml v2).
    s.chars().all(|c| {
        matches!(c, '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}')
            && c != '\u{feff}'
            && c != '\u{2028}'
            && c != '\u{2029}'
    })
}

fn is_base60(s: &str) -> bool {
    // go-yaml v2 `isBase60Float`: `[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?`
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (int_part, frac) = body.split_once('.').unwrap_or((body, ""));
    let mut parts = int_part.split(':');
    let head = parts.next().unwrap_or("");
    let tail: Vec<&str> = parts.collect();
    !tail.is_empty()
        && head.starts_with(|c: char| c.is_ascii_digit())
        && head.chars().all(|c| c.is_ascii_digit() || c == '_')
        && tail.iter().all(|p| {
            (p.len() == 1 || p.len() == 2)
                && p.chars().all(|c| c.is_ascii_digit())
                && (p.len() == 1 || p.as_bytes()[0] <= b'5')
        })
        && frac.chars().all(|c| c.is_ascii_digit() || c == '_')
}

/// Reads substituted text the way YAML reads a plain scalar in a block mapping value: spaces
/// trimmed, a ` #` comment dropped, quotes honoured, YAML 1.1 types resolved.
fn read_plain(text: &str) -> Result<Value, String> {
    let mut text = text.trim_matches([' ', '\t']);
    if let Some(at) = comment_start(text) {
        text = text[..at].trim_end_matches([' ', '\t']);
    }
    let first = text.chars().next();
    match first {
        Some('"') => return read_double_quoted(text).map(Value::String),
        Some('\'') => return read_single_quoted(text).map(Value::String),
        _ => {}
    }
    let second = text.chars().nth(1);
    let structural = matches!(first, Some('[' | '{' | '*' | '&' | '!' | '|' | '>' | '%' | '@' | '`'))
        || (matches!(first, Some('-' | '?' | ':')) && second.is_none_or(|c| c == ' ' || c == '\t'))
        || text.contains(": ")
        || text.contains(":\t")
        || (text.ends_with(':') && text.len() > 1);
    if structural {
        // The text can hold a Secret's value: the message never quotes it.
        return Err(
            "the substituted value is not a plain YAML scalar (Flux would parse it as YAML structure or fail)".into()
        );
    }
    Ok(resolve_plain(text))
}

fn comment_start(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    (1..bytes.len()).find(|&i| bytes[i] == b'#' && (bytes[i - 1] == b' ' || bytes[i - 1] == b'\t'))
}

fn read_single_quoted(text: &str) -> Result<String, String> {
    let inner = &text[1..];
    let mut out = String::new();
    let mut chars = inner.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\'' {
            if chars.peek().map(|(_, c)| *c) == Some('\'') {
                out.push('\'');
                chars.next();
                continue;
            }
            return if inner[i + 1..].trim().is_empty() {
                Ok(out)
            } else {
                Err("the substituted value has text after its closing quote".into())
            };
        }
        out.push(c);
    }
    Err("the substituted value has no closing quote".into())
}

fn read_double_quoted(text: &str) -> Result<String, String> {
    let inner = &text[1..];
    let mut out = String::new();
    let mut chars = inner.char_indices();
    let bad = |what: &str| format!("the substituted value {what}");
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                return if inner[i + 1..].trim().is_empty() {
                    Ok(out)
                } else {
                    Err(bad("has text after its closing quote"))
                };
            }
            '\\' => {
                let Some((_, e)) = chars.next() else { break };
                let simple = match e {
                    '0' => Some('\0'),
                    'a' => Some('\u{7}'),
                    'b' => Some('\u{8}'),
                    't' | '\t' => Some('\t'),
                    'n' => Some('\n'),
                    'v' => Some('\u{b}'),
                    'f' => Some('\u{c}'),
                    'r' => Some('\r'),
                    'e' => Some('\u{1b}'),
                    ' ' => Some(' '),
                    '"' => Some('"'),
                    '/' => Some('/'),
                    '\\' => Some('\\'),
                    'N' => Some('\u{85}'),
                    '_' => Some('\u{a0}'),
                    'L' => Some('\u{2028}'),
                    'P' => Some('\u{2029}'),
                    _ => None,
                };
                if let Some(c) = simple {
                    out.push(c);
                    continue;
                }
                let width = match e {
                    'x' => 2,
                    'u' => 4,
                    'U' => 8,
                    _ => return Err(bad("has an unknown escape")),
                };
                let hex: String = chars.by_ref().take(width).map(|(_, c)| c).collect();
                let code = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32);
                match code {
                    Some(c) if hex.len() == width => out.push(c),
                    _ => return Err(bad("has a bad escape")),
                }
            }
            c => out.push(c),
        }
    }
    Err(bad("has no closing quote"))
}

/// go-yaml v2's `resolve` for a plain scalar, then what `sigs.k8s.io/yaml` makes of it in JSON.
fn resolve_plain(s: &str) -> Value {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "true" | "True" | "TRUE" => return Value::Bool(true),
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "false" | "False" | "FALSE" => {
            return Value::Bool(false);
        }
        _ => {}
    }
    let first = s.as_bytes()[0];
    if first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'.') {
        let plain = s.replace('_', "");
        if let Some(n) = go_parse_int(&plain) {
            return Value::Number(n);
        }
        if is_yaml_float(&plain)
            && let Ok(f) = plain.parse::<f64>()
            && f.is_finite()
        {
            return float_value(f);
        }
        if let Some(date) = yaml_date(s) {
            return Value::String(date);
        }
    }
    Value::String(s.to_owned())
}

/// Go's `strconv.ParseInt(s, 0, 64)` (then `ParseUint`): decimal, `0x`, `0o`, `0b`, and a
/// leading `0` for octal; go-yaml v2 also reads `0b…` itself.
fn go_parse_int(s: &str) -> Option<Number> {
    let (negative, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (radix, digits) = if let Some(d) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        (16, d)
    } else if let Some(d) = body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
        (8, d)
    } else if let Some(d) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
        (2, d)
    } else if body.len() > 1 && body.starts_with('0') {
        (8, &body[1..])
    } else {
        (10, body)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(digits, radix).ok()?;
    if negative {
        if magnitude <= i64::MAX as u64 + 1 {
            return Some(Number::from((magnitude as i128).wrapping_neg() as i64));
        }
        return None;
    }
    Some(Number::from(magnitude))
}

/// go-yaml v2's float syntax: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_float(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(at) => (&body[..at], Some(&body[at + 1..])),
        None => (body, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => !frac.is_empty() && frac.chars().all(|c| c.is_ascii_digit()),
        Some((int, frac)) => {
            !int.is_empty() && int.chars().all(|c| c.is_ascii_digit()) && frac.chars().all(|c| c.is_ascii_digit())
        }
        None => !mantissa.is_empty() && mantissa.chars().all(|c| c.is_ascii_digit()),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
        !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
    });
    mantissa_ok && exponent_ok
}

/// A float64 as Go's JSON writes it: integral values without a fraction.
fn float_value(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        return Value::Number(Number::from(f as i64));
    }
    Number::from_f64(f).map_or(Value::Null, Value::Number)
}

/// A date-only YAML 1.1 timestamp (`2006-1-2`) becomes Go's `time.Time` and then its JSON
/// form. Timestamps with a time part are left as strings (a known difference).
fn yaml_date(s: &str) -> Option<String> {
    let mut parts = s.split('-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || year.len() != 4 || !(1..=2).contains(&month.len()) || !(1..=2).contains(&day.len()) {
        return None;
    }
    let all_digits = |p: &str| p.chars().all(|c| c.is_ascii_digit());
    if !(all_digits(year) && all_digits(month) && all_digits(day)) {
        return None;
    }
    let (m, d): (u32, u32) = (month.parse().ok()?, day.parse().ok()?);
    let y: i32 = year.parse().ok()?;
    let date =
        time::Date::from_calendar_date(y, time::Month::try_from(u8::try_from(m).ok()?).ok()?, u8::try_from(d).ok()?)
            .ok()?;
    Some(format!("{:04}-{:02}-{:02}T00:00:00Z", date.year(), u8::from(date.month()), date.day()))
}

/// Parses `--substitute KEY=VALUE`.
pub fn parse_substitute_arg(arg: &str) -> Result<(String, Zeroizing<String>), SubstituteError> {
    let Some((key, value)) = arg.split_once('=') else {
        return Err(SubstituteError::Invalid {
            object: "--substitute".into(),
            message: format!("'{}' is not KEY=VALUE", arg.split('=').next().unwrap_or("")),
        });
    };
    if !valid_name(key) {
        return Err(SubstituteError::Invalid {
            object: "--substitute".into(),
            message: format!("'{key}' var name is invalid, must match '{NAME_RULE}'"),
        });
    }
    Ok((key.to_owned(), Zeroizing::new(value.replace('\n', ""))))
}

/// Reads `--substitute-from FILE`: a ConfigMap manifest (its `data`), a Secret manifest (its
/// `data`, base64-decoded, and `stringData`, which wins as the API server would merge it), or a
/// `KEY=VALUE` env file. Later entries overwrite earlier ones, as Flux's `substituteFrom` list
/// does; newlines are removed from values.
pub fn vars_from_file(path: &str, content: &[u8], vars: &mut Vars) -> Result<(), SubstituteError> {
    let err = |message: String| SubstituteError::Invalid { object: format!("--substitute-from {path}"), message };
    let text = std::str::from_utf8(content).map_err(|_| err("not UTF-8 text".into()))?;
    let document: Option<Value> = serde_saphyr::from_str::<Value>(text).ok();
    let kind = document.as_ref().and_then(|d| d.get("kind")).and_then(Value::as_str).map(str::to_owned);
    match (kind.as_deref(), document) {
        (Some("ConfigMap"), Some(doc)) => {
            for (key, value) in string_entries(&doc, "data").map_err(err)? {
                vars.insert(key, Zeroizing::new(value.replace('\n', "")));
            }
        }
        (Some("Secret"), Some(doc)) => {
            for (key, value) in string_entries(&doc, "data").map_err(err)? {
                let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
                let bytes = Zeroizing::new(
                    base64::engine::general_purpose::STANDARD
                        .decode(compact.as_bytes())
                        .map_err(|_| err(format!("data.{key}: not base64")))?,
                );
                let decoded = std::str::from_utf8(&bytes).map_err(|_| err(format!("data.{key}: not UTF-8")))?;
                vars.insert(key, Zeroizing::new(decoded.replace('\n', "")));
            }
            for (key, value) in string_entries(&doc, "stringData").map_err(err)? {
                vars.insert(key, Zeroizing::new(value.replace('\n', "")));
            }
        }
        (Some(other), _) => return Err(err(format!("kind: {other} is neither a ConfigMap nor a Secret"))),
        _ => {
            for (number, line) in text.lines().enumerate() {
                let line = line.trim_start();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let Some((key, value)) = line.split_once('=') else {
                    return Err(err(format!("line {}: not KEY=VALUE", number + 1)));
                };
                if !valid_name(key) {
                    return Err(err(format!(
                        "line {}: '{key}' var name is invalid, must match '{NAME_RULE}'",
                        number + 1
                    )));
                }
                vars.insert(key.to_owned(), Zeroizing::new(value.to_owned()));
            }
        }
    }
    Ok(())
}

fn string_entries(doc: &Value, field: &str) -> Result<Vec<(String, Zeroizing<String>)>, String> {
    match doc.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), Zeroizing::new(s.clone()))),
                _ => Err(format!("{field}.{k}: not a string")),
            })
            .collect(),
        Some(_) => Err(format!("{field}: not a map")),
    }
}

#[cfg(test)]
#[path = "flux_substitute_tests.rs"]
mod tests;
