//! Flux's envsubst (`fluxcd/pkg/envsubst`, a fork of drone/envsubst): the parser's grammar and
//! quirks, re-implemented from its behaviour.
//!
//! What the upstream scanner does, and this one too:
//! - `$$` anywhere in text is one literal `$` (so `$${x}` is the literal `${x}`); a `$` not
//!   followed by `{` is text (`$var` is never substituted);
//! - `${name}` where the name is a run of letters, digits and `_`; `${var-d}`, `${var+d}`,
//!   `${var?d}` (no colon) are "missing closing brace" errors;
//! - `${var:-d}`, `${var:=d}`, `${var=d}`, `${var:+d}`, `${var:?d}` all mean "the value, or `d`
//!   when the value is empty"; the default may contain nested `${…}`, evaluated first (so an
//!   unset variable inside a default fails strict mode even when the outer one is set);
//! - `${#var}` (byte length), `${var^}` `${var^^}` `${var,}` `${var,,}`, `${var:off[:len]}`
//!   (byte offsets), `${var#glob}` `${var##glob}` `${var%glob}` `${var%%glob}`,
//!   `${var/str/rep}` `${var//str/rep}` `${var/#str/rep}` `${var/%str/rep}` (plain strings;
//!   `\/` and `\\` escape inside them);
//! - strict mode: a variable the mapper does not know fails unless a default operator is used.

/// Parse errors carry upstream's texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EnvsubstError {
    BadSubstitution,
    MissingClosingBrace,
    VariableName,
    FuncSubstitution,
    DefaultFunction,
    /// Strict mode: the variable's name.
    NotSet(String),
}

impl std::fmt::Display for EnvsubstError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EnvsubstError::BadSubstitution => f.write_str("bad substitution"),
            EnvsubstError::MissingClosingBrace => f.write_str("missing closing brace"),
            EnvsubstError::VariableName => f.write_str("unable to parse variable name"),
            EnvsubstError::FuncSubstitution => f.write_str("unable to parse substitution within function"),
            EnvsubstError::DefaultFunction => f.write_str("unable to parse default function"),
            EnvsubstError::NotSet(name) => write!(f, "variable not set (strict mode): \"{name}\""),
        }
    }
}

#[derive(Debug)]
enum Node {
    Text(String),
    Func { param: String, name: String, args: Vec<Node> },
    List(Vec<Node>),
}

/// Expands `text`. `lookup` returns `None` for an unknown variable; in non-strict mode the
/// caller's lookup returns `Some("")` for those, as Flux's mapper does.
pub(crate) fn eval(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, EnvsubstError> {
    let chars: Vec<char> = text.chars().collect();
    let mut parser = Parser { chars, pos: 0 };
    let root = parser.parse_any()?;
    let mut out = String::new();
    eval_node(&root, lookup, &mut out)?;
    Ok(out)
}

fn eval_node(node: &Node, lookup: &dyn Fn(&str) -> Option<String>, out: &mut String) -> Result<(), EnvsubstError> {
    match node {
        Node::Text(text) => out.push_str(text),
        Node::List(nodes) => {
            for node in nodes {
                eval_node(node, lookup, out)?;
            }
        }
        Node::Func { param, name, args } => {
            let mut values = Vec::with_capacity(args.len());
            for arg in args {
                let mut buf = String::new();
                eval_node(arg, lookup, &mut buf)?;
                values.push(buf);
            }
            let value = match lookup(param) {
                Some(value) => value,
                None if is_default_op(name) => String::new(),
                None => return Err(EnvsubstError::NotSet(param.clone())),
            };
            out.push_str(&apply_func(name, &value, &values));
        }
    }
    Ok(())
}

fn is_default_op(name: &str) -> bool {
    matches!(name, "-" | "+" | "=" | "?" | ":-" | ":+" | ":=" | ":?")
}

fn apply_func(name: &str, value: &str, args: &[String]) -> String {
    match name {
        "," => map_first(value, |c| c.to_lowercase().collect()),
        ",," => value.chars().map(|c| simple_case(c, true)).collect(),
        "^" => map_first(value, |c| c.to_uppercase().collect()),
        "^^" => value.chars().map(|c| simple_case(c, false)).collect(),
        "#" if args.is_empty() => value.len().to_string(),
        "#" => trim_prefix(value, &args[0], false),
        "##" => args.first().map_or_else(|| value.to_owned(), |p| trim_prefix(value, p, true)),
        "%" => args.first().map_or_else(|| value.to_owned(), |p| trim_suffix(value, p, false)),
        "%%" => args.first().map_or_else(|| value.to_owned(), |p| trim_suffix(value, p, true)),
        ":" => substring(value, args),
        "/" | "//" => match args {
            [] => value.to_owned(),
            [pattern] => replace(value, pattern, "", name == "//"),
            [pattern, replacement, ..] => replace(value, pattern, replacement, name == "//"),
        },
        "/#" => match args {
            [pattern, replacement] if value.starts_with(pattern.as_str()) => {
                format!("{replacement}{}", &value[pattern.len()..])
            }
            _ => value.to_owned(),
        },
        "/%" => match args {
            [pattern, replacement] if value.ends_with(pattern.as_str()) => {
                format!("{}{replacement}", &value[..value.len() - pattern.len()])
            }
            _ => value.to_owned(),
        },
        // `toDefault`: the value, or the arguments joined when the value is empty.
        _ if value.is_empty() && !args.is_empty() => args.concat(),
        _ => value.to_owned(),
    }
}

/// Go's `unicode.ToLower/ToUpper` map one rune to one rune; where Rust's full mapping gives
/// several characters (`ß` → `SS`), the rune stays as it is.
fn simple_case(c: char, lower: bool) -> char {
    let mut mapped: Vec<char> = if lower { c.to_lowercase().collect() } else { c.to_uppercase().collect() };
    if mapped.len() == 1 { mapped.pop().unwrap_or(c) } else { c }
}

fn map_first(value: &str, f: impl Fn(char) -> String) -> String {
    let mut chars = value.chars();
    match chars.next() {
        Some(first) => {
            let mapped = f(first);
            let first = if mapped.chars().count() == 1 { mapped } else { first.to_string() };
            format!("{first}{}", chars.as_str())
        }
        None => String::new(),
    }
}

fn replace(value: &str, pattern: &str, replacement: &str, all: bool) -> String {
    if all { value.replace(pattern, replacement) } else { value.replacen(pattern, replacement, 1) }
}

/// `${var:pos}` / `${var:pos:len}` with Go's `strconv.Atoi` and byte offsets; a cut inside a
/// UTF-8 sequence is repaired lossily instead of producing invalid text.
fn substring(value: &str, args: &[String]) -> String {
    let bytes = value.as_bytes();
    let len = bytes.len() as i64;
    let Some(Ok(mut pos)) = args.first().map(|a| go_atoi(a)) else { return value.to_owned() };
    if pos < 0 {
        pos = (len + pos).max(0);
    }
    let slice = |from: i64, to: i64| String::from_utf8_lossy(&bytes[from as usize..to as usize]).into_owned();
    if args.len() == 1 {
        return if pos < len { slice(pos, len) } else { String::new() };
    }
    let Ok(length) = go_atoi(&args[1]) else { return value.to_owned() };
    if pos + length >= len {
        return if pos < len { slice(pos, len) } else { String::new() };
    }
    if length < 0 {
        // Go would panic on a negative slice; Flux's controller recovers nothing here, so
        // keep the value.
        return value.to_owned();
    }
    slice(pos, pos + length)
}

fn go_atoi(text: &str) -> Result<i64, ()> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(());
    }
    text.parse::<i64>().map_err(|_| ())
}

/// `trimShortest`/`trimLongest`: the shortest/longest non-empty proper-or-whole prefix matching
/// the glob is removed (the empty prefix is never tried).
fn trim_prefix(value: &str, pattern: &str, longest: bool) -> String {
    let ends: Vec<usize> = value.char_indices().map(|(i, c)| i + c.len_utf8()).collect();
    let mut found: Option<usize> = None;
    // From the longest prefix down, as upstream does.
    for &end in ends.iter().rev() {
        match glob_match(pattern, &value[..end]) {
            Err(()) => return value.to_owned(),
            Ok(true) => {
                found = Some(end);
                if longest {
                    break;
                }
            }
            Ok(false) => {}
        }
    }
    match found {
        Some(end) => value[end..].to_owned(),
        None => value.to_owned(),
    }
}

/// Upstream trims a suffix by reversing both the value and the pattern (character by
/// character, so `[a-z]` reads `]z-a[`), trimming a prefix and reversing back.
fn trim_suffix(value: &str, pattern: &str, longest: bool) -> String {
    let reversed: String = value.chars().rev().collect();
    let pattern: String = pattern.chars().rev().collect();
    trim_prefix(&reversed, &pattern, longest).chars().rev().collect()
}

/// Go's `path.Match`: `*` (any run without `/`), `?` (one non-`/` character), `[...]` classes
/// with `^` negation and ranges, `\` escapes. `Err` for a malformed pattern.
fn glob_match(pattern: &str, name: &str) -> Result<bool, ()> {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    glob_at(&p, &n)
}

fn glob_at(p: &[char], n: &[char]) -> Result<bool, ()> {
    let Some((&first, rest)) = p.split_first() else { return Ok(n.is_empty()) };
    match first {
        '*' => {
            // Try every split that does not cross a `/`.
            for i in 0..=n.len() {
                if i > 0 && n[i - 1] == '/' {
                    break;
                }
                if glob_at(rest, &n[i..])? {
                    return Ok(true);
                }
            }
            // A malformed rest of the pattern is still an error upstream.
            check_pattern(rest)?;
            Ok(false)
        }
        '?' => match n.split_first() {
            Some((&c, tail)) if c != '/' => glob_at(rest, tail),
            _ => check_pattern(rest).map(|_| false),
        },
        '[' => {
            let (matched, after) = class(rest, n.first().copied())?;
            match (matched, n.split_first()) {
                (true, Some((_, tail))) => glob_at(after, tail),
                _ => check_pattern(after).map(|_| false),
            }
        }
        '\\' => {
            let Some((&escaped, after)) = rest.split_first() else { return Err(()) };
            match n.split_first() {
                Some((&c, tail)) if c == escaped => glob_at(after, tail),
                _ => check_pattern(after).map(|_| false),
            }
        }
        literal => match n.split_first() {
            Some((&c, tail)) if c == literal => glob_at(rest, tail),
            _ => check_pattern(rest).map(|_| false),
        },
    }
}

/// Validates the rest of a pattern (Go reports a bad pattern even when the match already
/// failed).
fn check_pattern(p: &[char]) -> Result<(), ()> {
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            '\\' => {
                if i + 1 >= p.len() {
                    return Err(());
                }
                i += 2;
            }
            '[' => {
                let (_, after) = class(&p[i + 1..], None)?;
                i = p.len() - after.len();
            }
            _ => i += 1,
        }
    }
    Ok(())
}

/// A `[...]` class after the `[`: whether `c` matches, and the pattern after the `]`.
fn class(p: &[char], c: Option<char>) -> Result<(bool, &[char]), ()> {
    let mut i = 0;
    let negated = p.first() == Some(&'^');
    if negated {
        i += 1;
    }
    let mut matched = false;
    let mut count = 0;
    loop {
        if i < p.len() && p[i] == ']' && count > 0 {
            i += 1;
            break;
        }
        let (lo, next) = class_char(p, i)?;
        i = next;
        let mut hi = lo;
        if i < p.len() && p[i] == '-' {
            let (h, next) = class_char(p, i + 1)?;
            hi = h;
            i = next;
        }
        if let Some(c) = c
            && lo <= c
            && c <= hi
        {
            matched = true;
        }
        count += 1;
    }
    let hit = c.is_some_and(|c| c != '/') && matched != negated;
    Ok((hit, &p[i..]))
}

fn class_char(p: &[char], i: usize) -> Result<(char, usize), ()> {
    match p.get(i) {
        None | Some('-') | Some(']') => Err(()),
        Some('\\') => p.get(i + 1).map(|&c| (c, i + 2)).ok_or(()),
        Some(&c) => Ok((c, i + 1)),
    }
}

/// Which characters the scanner's ident mode accepts (`unicode.IsLetter || IsDigit || '_'`).
fn is_ident(c: char) -> bool {
    c.is_alphabetic() || c.is_numeric() || c == '_'
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn at_lbrack(&self) -> bool {
        self.chars.get(self.pos) == Some(&'$') && self.chars.get(self.pos + 1) == Some(&'{')
    }

    /// Top level: text up to the next unescaped `${`, with `$$` → `$`.
    fn parse_any(&mut self) -> Result<Node, EnvsubstError> {
        let mut nodes = Vec::new();
        loop {
            if self.pos >= self.chars.len() {
                break;
            }
            if self.at_lbrack() {
                self.pos += 2;
                nodes.push(self.parse_func()?);
                continue;
            }
            let mut text = String::new();
            while let Some(c) = self.peek() {
                if self.at_lbrack() {
                    break;
                }
                if c == '$' && self.chars.get(self.pos + 1) == Some(&'$') {
                    // The escaped `$` is text and is not looked at again (so `$${` is text).
                    text.push('$');
                    self.pos += 2;
                    continue;
                }
                text.push(c);
                self.pos += 1;
            }
            nodes.push(Node::Text(text));
        }
        Ok(if nodes.len() == 1 { nodes.pop().unwrap_or(Node::List(Vec::new())) } else { Node::List(nodes) })
    }

    /// After `${`.
    fn parse_func(&mut self) -> Result<Node, EnvsubstError> {
        if self.peek() == Some('#') {
            return self.parse_len();
        }
        let name = self.take_while(is_ident);
        if name.is_empty() {
            return Err(EnvsubstError::VariableName);
        }
        match self.peek() {
            Some(':') => {
                if matches!(self.chars.get(self.pos + 1), Some('=' | '-' | '?' | '+')) {
                    self.parse_default(name)
                } else {
                    self.parse_substr(name)
                }
            }
            Some('=') => self.parse_default(name),
            Some(',' | '^') => {
                let op = self.take_op(|c, i| (c == ',' || c == '^') && i < 3);
                self.consume_rbrack()?;
                Ok(Node::Func { param: name, name: op, args: Vec::new() })
            }
            Some('/') => self.parse_replace(name),
            Some(c @ ('#' | '%')) => {
                let op = self.take_op(|x, i| x == c && i < 3);
                let arg = self.parse_param(|c| c != '}', false)?;
                self.consume_rbrack()?;
                Ok(Node::Func { param: name, name: op, args: vec![arg] })
            }
            Some('}') => {
                self.pos += 1;
                Ok(Node::Func { param: name, name: String::new(), args: Vec::new() })
            }
            _ => Err(EnvsubstError::MissingClosingBrace),
        }
    }

    fn take_while(&mut self, accept: impl Fn(char) -> bool) -> String {
        let start = self.pos;
        while self.peek().is_some_and(&accept) {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    /// An operator token: `accept(c, i)` with upstream's 1-based position.
    fn take_op(&mut self, accept: impl Fn(char, usize) -> bool) -> String {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if !accept(c, self.pos - start + 1) {
                break;
            }
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    fn consume_rbrack(&mut self) -> Result<(), EnvsubstError> {
        if self.peek() == Some('}') {
            self.pos += 1;
            Ok(())
        } else {
            Err(EnvsubstError::BadSubstitution)
        }
    }

    fn parse_len(&mut self) -> Result<Node, EnvsubstError> {
        self.pos += 1; // '#'
        let param = self.take_while(is_ident);
        if param.is_empty() {
            return Err(EnvsubstError::BadSubstitution);
        }
        self.consume_rbrack()?;
        Ok(Node::Func { param, name: "#".into(), args: Vec::new() })
    }

    /// One function argument: a nested `${…}` or text accepted by `accept`, stopping before a
    /// `${`. With `escapes`, `$$` → `$` and `\/`, `\\` → the escaped character.
    fn parse_param(&mut self, accept: impl Fn(char) -> bool, escapes: bool) -> Result<Node, EnvsubstError> {
        if self.at_lbrack() {
            self.pos += 2;
            return self.parse_func();
        }
        let mut text = String::new();
        let mut first = true;
        while let Some(c) = self.peek() {
            if !first && self.at_lbrack() {
                break;
            }
            let next = self.chars.get(self.pos + 1).copied();
            let escaped =
                escapes && ((c == '$' && next == Some('$')) || (c == '\\' && matches!(next, Some('/' | '\\'))));
            if escaped {
                text.push(next.unwrap_or(c));
                self.pos += 2;
            } else if accept(c) {
                text.push(c);
                self.pos += 1;
            } else {
                break;
            }
            first = false;
        }
        if first {
            return Err(EnvsubstError::FuncSubstitution);
        }
        Ok(Node::Text(text))
    }

    fn parse_default(&mut self, name: String) -> Result<Node, EnvsubstError> {
        let op = if self.peek() == Some('=') {
            self.take_op(|c, i| i == 1 && c == '=')
        } else {
            self.take_op(|c, i| (i == 1 && c == ':') || (i == 2 && matches!(c, '=' | '-' | '?' | '+')))
        };
        if op.is_empty() {
            return Err(EnvsubstError::DefaultFunction);
        }
        let mut args = Vec::new();
        loop {
            if self.peek() == Some('}') {
                self.pos += 1;
                return Ok(Node::Func { param: name, name: op, args });
            }
            args.push(self.parse_param(|c| c != '}', false)?);
        }
    }

    fn parse_substr(&mut self, name: String) -> Result<Node, EnvsubstError> {
        self.pos += 1; // ':'
        let mut args = vec![self.parse_param(|c| c != ':' && c != '}', false)?];
        match self.peek() {
            Some('}') => {
                self.pos += 1;
                return Ok(Node::Func { param: name, name: ":".into(), args });
            }
            Some(':') => {
                self.take_while(|c| c == ':');
            }
            _ => return Err(EnvsubstError::BadSubstitution),
        }
        args.push(self.parse_param(|c| c != '}', false)?);
        self.consume_rbrack()?;
        Ok(Node::Func { param: name, name: ":".into(), args })
    }

    fn parse_replace(&mut self, name: String) -> Result<Node, EnvsubstError> {
        let op = self.take_op(|c, i| (i == 1 && c == '/') || (i == 2 && matches!(c, '/' | '#' | '%')));
        let mut args = vec![self.parse_param(|c| c != '/', true)?];
        if self.take_while(|c| c == '/').is_empty() {
            return Err(EnvsubstError::BadSubstitution);
        }
        if self.peek() == Some('}') {
            self.pos += 1;
            return Ok(Node::Func { param: name, name: op, args });
        }
        args.push(self.parse_param(|c| c != '}', true)?);
        self.consume_rbrack()?;
        Ok(Node::Func { param: name, name: op, args })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str, strict: bool) -> Result<String, String> {
        let lookup = move |name: &str| match name {
            "NAME" => Some("World".to_owned()),
            "EMPTY" => Some(String::new()),
            "PATH" => Some("/usr/local/bin.tar.gz".to_owned()),
            "UNI" => Some("ünï".to_owned()),
            _ if strict => None,
            _ => Some(String::new()),
        };
        eval(text, &lookup).map_err(|e| e.to_string())
    }

    fn ok(text: &str) -> String {
        run(text, true).unwrap_or_else(|e| format!("error: {e}"))
    }

    /// Cases from fluxcd/pkg `envsubst/eval_test.go` and the README table (Flux's documented
    /// behaviour), with this module's variables.
    #[test]
    fn documented_forms() {
        assert_eq!(ok("hello ${NAME}"), "hello World");
        assert_eq!(ok("${#NAME}"), "5");
        assert_eq!(ok("${NAME^}|${NAME^^}|${NAME,}|${NAME,,}"), "World|WORLD|world|world");
        assert_eq!(ok("${NAME:1}|${NAME:1:2}|${NAME:-2}|${NAME:10}"), "orld|or|World|");
        // Go's `path.Match`: `*` never crosses a `/`, unlike bash.
        assert_eq!(ok("${PATH#*/}|${PATH##*/}"), "usr/local/bin.tar.gz|usr/local/bin.tar.gz");
        assert_eq!(ok("${PATH%.*}|${PATH%%.*}"), "/usr/local/bin.tar|/usr/local/bin");
        assert_eq!(
            ok("${NAME/o/0}|${PATH//\\//_}|${NAME/#W/w}|${NAME/%d/D}"),
            "W0rld|_usr_local_bin.tar.gz|world|WorlD"
        );
        assert_eq!(ok("${UNSET:-fallback}|${UNSET:=x}|${UNSET=y}|${EMPTY:-e}"), "fallback|x|y|e");
        assert_eq!(ok("${UNSET:-${NAME}}"), "World");
        assert_eq!(ok("${UNI^^}|${#UNI}"), "ÜNÏ|5");
    }

    #[test]
    fn escapes_and_bare_dollars() {
        assert_eq!(ok("$${NAME}"), "${NAME}");
        assert_eq!(ok("$NAME and $ and $"), "$NAME and $ and $");
        assert_eq!(ok("pa$$word"), "pa$word");
        assert_eq!(ok("$$$${NAME}"), "$${NAME}");
        assert_eq!(ok("$$${NAME}"), "$World");
    }

    #[test]
    fn strict_mode() {
        assert_eq!(ok("${MISSING}"), "error: variable not set (strict mode): \"MISSING\"");
        assert_eq!(ok("${#MISSING}"), "error: variable not set (strict mode): \"MISSING\"");
        assert_eq!(ok("${NAME:-${MISSING}}"), "error: variable not set (strict mode): \"MISSING\"");
        assert_eq!(run("${MISSING}x", false).as_deref(), Ok("x"));
    }

    #[test]
    fn parse_errors() {
        assert_eq!(ok("${NAME"), "error: missing closing brace");
        assert_eq!(ok("${NAME-x}"), "error: missing closing brace");
        assert_eq!(ok("${}"), "error: unable to parse variable name");
        assert_eq!(ok("${NAME:-x"), "error: unable to parse substitution within function");
        assert_eq!(ok("${NAME:}"), "error: unable to parse substitution within function");
        assert_eq!(ok("${#}"), "error: bad substitution");
    }
}
