//! Lexer and parser for Go's `text/template` syntax (`text/template/parse`).

use std::collections::BTreeMap;

use super::ErrorKind;
use super::funcs;

pub(crate) type PResult<T> = Result<T, (usize, ErrorKind)>;

/// 1-based line and column of a byte offset, as Go reports them.
pub(crate) fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let before = &src.as_bytes()[..offset];
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    let start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    (line, offset - start)
}

fn syntax(offset: usize, msg: impl Into<String>) -> (usize, ErrorKind) {
    (offset, ErrorKind::Syntax(msg.into()))
}

// ---- tree ------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub(crate) enum Node {
    Text(String),
    Action(Pipe),
    If { pipe: Pipe, list: Vec<Node>, else_list: Vec<Node> },
    Range { pipe: Pipe, list: Vec<Node>, else_list: Vec<Node> },
    With { pipe: Pipe, list: Vec<Node>, else_list: Vec<Node> },
    Template { name: String, pipe: Option<Pipe>, pos: usize },
    Break,
    Continue,
}

#[derive(Debug, Clone)]
pub(crate) struct Pipe {
    pub pos: usize,
    pub decl: Vec<String>,
    pub is_assign: bool,
    pub cmds: Vec<Cmd>,
}

#[derive(Debug, Clone)]
pub(crate) struct Cmd {
    pub pos: usize,
    pub args: Vec<Arg>,
}

#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Dot,
    Nil,
    Bool(bool),
    Str(String),
    Num(Number),
    /// `.a.b`
    Field(Vec<String>),
    /// `$x.a.b` (`$` alone for the root)
    Var(String, Vec<String>),
    /// A function name.
    Ident(String),
    /// `(pipeline)` with an optional field chain after it.
    Paren(Box<Pipe>, Vec<String>),
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Number {
    pub int: Option<i64>,
    pub float: Option<f64>,
    /// Written as a float (`1.5`, `1e3`): an untyped float constant, `float64` when stored.
    pub is_float: bool,
}

pub(crate) struct Tree {
    pub root: Vec<Node>,
    pub defines: BTreeMap<String, Vec<Node>>,
}

// ---- lexer -----------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Text(String),
    /// `{{` (the trim marker already applied to the text before it).
    Open,
    Close,
    LParen,
    RParen,
    Pipe,
    Declare,
    Assign,
    Comma,
    Str(String),
    Num(String),
    Char(i64),
    Dot,
    Field(String),
    Var(String),
    Ident(String),
    Bool(bool),
    Nil,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    pos: usize,
    /// Whitespace came right before this token (separates arguments from field chains).
    space_before: bool,
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_alnum(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

fn lex(src: &str) -> PResult<Vec<Token>> {
    let b = src.as_bytes();
    let mut toks = Vec::new();
    let mut i = 0;
    let mut trim_next_text = false;
    while i <= b.len() {
        // text up to the next "{{"
        let next = src[i..].find("{{").map(|n| i + n);
        let end = next.unwrap_or(b.len());
        let mut text = &src[i..end];
        if trim_next_text {
            text = text.trim_start_matches([' ', '\t', '\r', '\n']);
        }
        let Some(open) = next else {
            if !text.is_empty() {
                toks.push(Token { tok: Tok::Text(text.to_owned()), pos: i, space_before: false });
            }
            break;
        };
        let mut j = open + 2;
        if b.len() >= j + 2 && b[j] == b'-' && is_space(b[j + 1]) {
            text = text.trim_end_matches([' ', '\t', '\r', '\n']);
            j += 2;
        }
        if !text.is_empty() {
            toks.push(Token { tok: Tok::Text(text.to_owned()), pos: i, space_before: false });
        }
        // A comment: `{{/* ... */}}`, with optional trim markers around it.
        let mut k = j;
        while k < b.len() && is_space(b[k]) && j != open + 2 {
            k += 1;
        }
        if src[k..].starts_with("/*") {
            let Some(close) = src[k + 2..].find("*/") else {
                return Err(syntax(open, "unclosed comment"));
            };
            let mut m = k + 2 + close + 2;
            trim_next_text = false;
            if src[m..].starts_with(" -}}")
                || (m < b.len() && is_space(b[m]) && src[m..].trim_start().starts_with("-}}"))
            {
                while is_space(b[m]) {
                    m += 1;
                }
                m += 3;
                trim_next_text = true;
            } else if src[m..].starts_with("}}") {
                m += 2;
            } else {
                return Err(syntax(open, "comment ends before closing delimiter"));
            }
            i = m;
            continue;
        }
        toks.push(Token { tok: Tok::Open, pos: open, space_before: false });
        let (after, trim) = lex_action(src, j, &mut toks)?;
        trim_next_text = trim;
        i = after;
    }
    Ok(toks)
}

/// Lexes one action's contents from `i`; returns the offset after `}}` and whether it was `-}}`.
fn lex_action(src: &str, mut i: usize, toks: &mut Vec<Token>) -> PResult<(usize, bool)> {
    let b = src.as_bytes();
    let mut space = true;
    let mut depth = 0usize;
    loop {
        if i >= b.len() {
            return Err(syntax(i, "unclosed action"));
        }
        let c = b[i];
        if is_space(c) {
            // ` -}}` closes with a trim marker.
            let mut k = i;
            while k < b.len() && is_space(b[k]) {
                k += 1;
            }
            if src[k..].starts_with("-}}") {
                if depth > 0 {
                    return Err(syntax(k, "unclosed left paren"));
                }
                toks.push(Token { tok: Tok::Close, pos: k, space_before: true });
                return Ok((k + 3, true));
            }
            i = k;
            space = true;
            continue;
        }
        if src[i..].starts_with("}}") {
            if depth > 0 {
                return Err(syntax(i, "unclosed left paren"));
            }
            toks.push(Token { tok: Tok::Close, pos: i, space_before: space });
            return Ok((i + 2, false));
        }
        let start = i;
        let tok = match c {
            b'(' => {
                depth += 1;
                i += 1;
                Tok::LParen
            }
            b')' => {
                if depth == 0 {
                    return Err(syntax(i, "unexpected right paren"));
                }
                depth -= 1;
                i += 1;
                Tok::RParen
            }
            b'|' => {
                i += 1;
                Tok::Pipe
            }
            b',' => {
                i += 1;
                Tok::Comma
            }
            b'=' => {
                i += 1;
                Tok::Assign
            }
            b':' => {
                if b.get(i + 1) != Some(&b'=') {
                    return Err(syntax(i, "expected :="));
                }
                i += 2;
                Tok::Declare
            }
            b'"' => {
                let (s, n) = lex_quoted(src, i)?;
                i = n;
                Tok::Str(s)
            }
            b'`' => {
                let Some(close) = src[i + 1..].find('`') else {
                    return Err(syntax(i, "unterminated raw quoted string"));
                };
                let s = src[i + 1..i + 1 + close].to_owned();
                i += close + 2;
                Tok::Str(s)
            }
            b'\'' => {
                let (s, n) = lex_char(src, i)?;
                i = n;
                Tok::Char(s)
            }
            b'$' => {
                let n = ident_end(src, i + 1);
                let name = src[i..n].to_owned();
                i = n;
                Tok::Var(name)
            }
            b'.' => {
                if b.get(i + 1).is_some_and(u8::is_ascii_digit) {
                    let n = number_end(src, i);
                    let t = src[i..n].to_owned();
                    i = n;
                    Tok::Num(t)
                } else {
                    let n = ident_end(src, i + 1);
                    if n == i + 1 {
                        i += 1;
                        Tok::Dot
                    } else {
                        let name = src[i + 1..n].to_owned();
                        i = n;
                        Tok::Field(name)
                    }
                }
            }
            b'0'..=b'9' | b'+' | b'-' => {
                let n = number_end(src, i);
                if n == i || (n == i + 1 && !c.is_ascii_digit()) {
                    return Err(syntax(i, format!("bad character {:?}", c as char)));
                }
                let t = src[i..n].to_owned();
                i = n;
                Tok::Num(t)
            }
            _ => {
                let ch = src[i..].chars().next().unwrap_or('\0');
                if !is_alnum(ch) {
                    return Err(syntax(i, format!("unexpected {ch:?} in command")));
                }
                let n = ident_end(src, i);
                let word = &src[i..n];
                i = n;
                match word {
                    "true" => Tok::Bool(true),
                    "false" => Tok::Bool(false),
                    "nil" => Tok::Nil,
                    _ => Tok::Ident(word.to_owned()),
                }
            }
        };
        // A word must be followed by a delimiter: space, `)`, `|`, `.` (chain), `}}`, `,`, `=`, `:`.
        if matches!(tok, Tok::Ident(_) | Tok::Field(_) | Tok::Var(_) | Tok::Num(_) | Tok::Bool(_) | Tok::Nil)
            && let Some(&next) = b.get(i)
            && !(is_space(next)
                || matches!(next, b')' | b'|' | b'.' | b',' | b'=' | b':' | b'(')
                || src[i..].starts_with("}}"))
        {
            return Err(syntax(i, format!("bad character {:?}", src[i..].chars().next().unwrap_or('\0'))));
        }
        toks.push(Token { tok, pos: start, space_before: space });
        space = false;
    }
}

fn ident_end(src: &str, from: usize) -> usize {
    src[from..].char_indices().find(|&(_, c)| !is_alnum(c)).map_or(src.len(), |(n, _)| from + n)
}

fn number_end(src: &str, from: usize) -> usize {
    let b = src.as_bytes();
    let mut i = from;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    while i < b.len() {
        let c = b[i];
        let prev = if i > from { b[i - 1] } else { 0 };
        let ok = c.is_ascii_alphanumeric()
            || c == b'.'
            || c == b'_'
            || ((c == b'+' || c == b'-') && matches!(prev, b'e' | b'E' | b'p' | b'P'));
        if !ok {
            break;
        }
        i += 1;
    }
    i
}

fn lex_quoted(src: &str, start: usize) -> PResult<(String, usize)> {
    let mut out = String::new();
    let mut chars = src[start + 1..].char_indices();
    while let Some((n, c)) = chars.next() {
        match c {
            '"' => return Ok((out, start + 1 + n + 1)),
            '\n' => break,
            '\\' => {
                let Some((_, e)) = chars.next() else { break };
                let simple = match e {
                    'n' => Some('\n'),
                    't' => Some('\t'),
                    'r' => Some('\r'),
                    '\\' => Some('\\'),
                    '"' => Some('"'),
                    'a' => Some('\x07'),
                    'b' => Some('\x08'),
                    'f' => Some('\x0c'),
                    'v' => Some('\x0b'),
                    _ => None,
                };
                if let Some(s) = simple {
                    out.push(s);
                    continue;
                }
                let digits = match e {
                    'x' => 2,
                    'u' => 4,
                    'U' => 8,
                    '0'..='7' => 2,
                    _ => return Err(syntax(start, "invalid syntax in quoted string")),
                };
                let mut text = String::new();
                if e.is_ascii_digit() {
                    text.push(e);
                }
                for _ in 0..digits {
                    text.push(chars.next().map(|(_, c)| c).ok_or_else(|| syntax(start, "invalid escape"))?);
                }
                let radix = if e.is_ascii_digit() { 8 } else { 16 };
                let code = u32::from_str_radix(&text, radix).map_err(|_| syntax(start, "invalid escape"))?;
                if matches!(e, 'x' | '0'..='7') && code > 0x7f {
                    // A raw byte; only representable here when it is ASCII.
                    return Err((start, ErrorKind::Unsupported("non-ASCII byte escapes in string literals".into())));
                }
                out.push(char::from_u32(code).ok_or_else(|| syntax(start, "invalid escape"))?);
            }
            _ => out.push(c),
        }
    }
    Err(syntax(start, "unterminated quoted string"))
}

fn lex_char(src: &str, start: usize) -> PResult<(i64, usize)> {
    let rest = &src[start + 1..];
    let end = rest.find('\'').ok_or_else(|| syntax(start, "unterminated character constant"))?;
    let body = &rest[..end];
    let value = if let Some(esc) = body.strip_prefix('\\') {
        match esc {
            "n" => '\n',
            "t" => '\t',
            "r" => '\r',
            "\\" => '\\',
            "'" => '\'',
            "0" => '\0',
            _ => return Err(syntax(start, "unsupported character escape")),
        }
    } else {
        let mut it = body.chars();
        match (it.next(), it.next()) {
            (Some(c), None) => c,
            _ => return Err(syntax(start, "malformed character constant")),
        }
    };
    Ok((value as i64, start + 1 + end + 1))
}

fn parse_number(text: &str, pos: usize) -> PResult<Number> {
    let clean: String = text.chars().filter(|&c| c != '_').collect();
    let (neg, body) = match clean.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, clean.strip_prefix('+').unwrap_or(&clean)),
    };
    let lower = body.to_ascii_lowercase();
    let int = if let Some(hex) = lower.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()
    } else if let Some(oct) = lower.strip_prefix("0o") {
        i64::from_str_radix(oct, 8).ok()
    } else if let Some(bin) = lower.strip_prefix("0b") {
        i64::from_str_radix(bin, 2).ok()
    } else if lower.len() > 1 && lower.starts_with('0') && lower.bytes().all(|c| c.is_ascii_digit()) {
        i64::from_str_radix(&lower[1..], 8).ok()
    } else {
        lower.parse::<i64>().ok()
    }
    .map(|n| if neg { -n } else { n });
    let is_hex = lower.starts_with("0x");
    let is_float = !is_hex && (lower.contains('.') || lower.contains('e'));
    let float = if is_hex { int.map(|n| n as f64) } else { clean.parse::<f64>().ok() };
    let int = int.or_else(|| float.filter(|f| f.fract() == 0.0 && f.abs() < 9.2e18).map(|f| f as i64));
    if int.is_none() && float.is_none() {
        return Err(syntax(pos, format!("illegal number syntax: {text:?}")));
    }
    Ok(Number { int, float, is_float })
}

// ---- parser ----------------------------------------------------------------------------------

struct Parser {
    toks: Vec<Token>,
    i: usize,
    defines: BTreeMap<String, Vec<Node>>,
    vars: Vec<String>,
    range_depth: usize,
    depth: usize,
    max_depth: usize,
    end: usize,
}

/// What ended a list of nodes.
enum Stop {
    End,
    Else(usize),
    Eof,
}

pub(crate) fn parse(src: &str, max_depth: usize) -> PResult<Tree> {
    let toks = lex(src)?;
    let mut p = Parser {
        toks,
        i: 0,
        defines: BTreeMap::new(),
        vars: vec!["$".into()],
        range_depth: 0,
        depth: 0,
        max_depth,
        end: src.len(),
    };
    let (root, stop) = p.list()?;
    match stop {
        Stop::Eof => {}
        Stop::End => return Err(syntax(p.prev_pos(), "unexpected {{end}}")),
        Stop::Else(pos) => return Err(syntax(pos, "unexpected {{else}}")),
    }
    Ok(Tree { root, defines: p.defines })
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.i)
    }

    fn next(&mut self) -> PResult<Token> {
        let t = self.toks.get(self.i).cloned().ok_or_else(|| syntax(self.end, "unexpected EOF"))?;
        self.i += 1;
        Ok(t)
    }

    fn prev_pos(&self) -> usize {
        self.toks.get(self.i.saturating_sub(1)).map_or(self.end, |t| t.pos)
    }

    fn expect_close(&mut self, context: &str) -> PResult<()> {
        let t = self.next()?;
        if t.tok != Tok::Close {
            return Err(syntax(t.pos, format!("unexpected {:?} in {context}", t.tok)));
        }
        Ok(())
    }

    fn enter(&mut self, pos: usize) -> PResult<()> {
        self.depth += 1;
        if self.depth > self.max_depth {
            return Err((pos, ErrorKind::Limit("template nesting too deep")));
        }
        Ok(())
    }

    /// Nodes up to `{{end}}`, `{{else}}` or the end of input.
    fn list(&mut self) -> PResult<(Vec<Node>, Stop)> {
        let mut nodes = Vec::new();
        while let Some(t) = self.peek().cloned() {
            self.i += 1;
            match t.tok {
                Tok::Text(s) => nodes.push(Node::Text(s)),
                Tok::Open => {
                    let kw = match self.peek() {
                        Some(Token { tok: Tok::Ident(w), .. }) => Some(w.clone()),
                        _ => None,
                    };
                    match kw.as_deref() {
                        Some("end") => {
                            self.i += 1;
                            self.expect_close("end")?;
                            return Ok((nodes, Stop::End));
                        }
                        Some("else") => {
                            self.i += 1;
                            return Ok((nodes, Stop::Else(t.pos)));
                        }
                        Some("if") | Some("range") | Some("with") => {
                            self.i += 1;
                            nodes.push(self.control(kw.as_deref().unwrap_or_default(), t.pos)?);
                        }
                        Some("define") => {
                            self.i += 1;
                            self.define(t.pos)?;
                        }
                        Some("template") | Some("block") => {
                            self.i += 1;
                            nodes.push(self.template(kw.as_deref() == Some("block"), t.pos)?);
                        }
                        Some("break") | Some("continue") => {
                            self.i += 1;
                            if self.range_depth == 0 {
                                return Err(syntax(
                                    t.pos,
                                    format!("{{{{{}}}}} outside {{{{range}}}}", kw.unwrap_or_default()),
                                ));
                            }
                            self.expect_close("break")?;
                            nodes.push(if kw.as_deref() == Some("break") { Node::Break } else { Node::Continue });
                        }
                        _ => {
                            let pipe = self.pipeline("command", true)?;
                            nodes.push(Node::Action(pipe));
                        }
                    }
                }
                _ => return Err(syntax(t.pos, "unexpected token")),
            }
        }
        Ok((nodes, Stop::Eof))
    }

    fn control(&mut self, kw: &str, pos: usize) -> PResult<Node> {
        self.enter(pos)?;
        let mark = self.vars.len();
        let pipe = self.pipeline(kw, kw == "range")?;
        if kw == "range" {
            self.range_depth += 1;
        }
        let (list, stop) = self.list()?;
        if kw == "range" {
            self.range_depth -= 1;
        }
        let else_list = match stop {
            Stop::End => Vec::new(),
            Stop::Eof => return Err(syntax(self.end, format!("unexpected EOF in {kw}"))),
            Stop::Else(epos) => {
                // `{{else if ...}}` is an `if` nested in the else branch, sharing its `{{end}}`.
                if kw == "if" && matches!(self.peek(), Some(Token { tok: Tok::Ident(w), .. }) if w == "if") {
                    self.i += 1;
                    vec![self.control("if", epos)?]
                } else {
                    self.expect_close("else")?;
                    let (list, stop) = self.list()?;
                    match stop {
                        Stop::End => list,
                        Stop::Else(p) => return Err(syntax(p, "expected end; found {{else}}")),
                        Stop::Eof => return Err(syntax(self.end, format!("unexpected EOF in {kw}"))),
                    }
                }
            }
        };
        self.vars.truncate(mark);
        self.depth -= 1;
        Ok(match kw {
            "if" => Node::If { pipe, list, else_list },
            "range" => Node::Range { pipe, list, else_list },
            _ => Node::With { pipe, list, else_list },
        })
    }

    fn string_arg(&mut self, context: &str) -> PResult<String> {
        let t = self.next()?;
        match t.tok {
            Tok::Str(s) => Ok(s),
            _ => Err(syntax(t.pos, format!("unexpected token in {context} clause"))),
        }
    }

    fn define(&mut self, pos: usize) -> PResult<()> {
        self.enter(pos)?;
        let name = self.string_arg("define")?;
        self.expect_close("define")?;
        let saved = std::mem::replace(&mut self.vars, vec!["$".into()]);
        let saved_range = std::mem::take(&mut self.range_depth);
        let (list, stop) = self.list()?;
        self.vars = saved;
        self.range_depth = saved_range;
        if !matches!(stop, Stop::End) {
            return Err(syntax(pos, "unexpected EOF or {{else}} in define"));
        }
        self.add_define(name, list, pos)?;
        self.depth -= 1;
        Ok(())
    }

    fn add_define(&mut self, name: String, list: Vec<Node>, pos: usize) -> PResult<()> {
        // Go lets a non-empty definition replace an empty one, and refuses two non-empty ones.
        let empty = list.iter().all(|n| matches!(n, Node::Text(t) if t.trim().is_empty()));
        match self.defines.get(&name) {
            Some(old) if !empty && !old.iter().all(|n| matches!(n, Node::Text(t) if t.trim().is_empty())) => {
                Err(syntax(pos, format!("template: multiple definition of template {name:?}")))
            }
            Some(_) if empty => Ok(()),
            _ => {
                self.defines.insert(name, list);
                Ok(())
            }
        }
    }

    fn template(&mut self, block: bool, pos: usize) -> PResult<Node> {
        let ctx = if block { "block" } else { "template" };
        let name = self.string_arg(ctx)?;
        let pipe = if matches!(self.peek(), Some(Token { tok: Tok::Close, .. })) {
            self.i += 1;
            None
        } else {
            Some(self.pipeline(ctx, false)?)
        };
        if block {
            if pipe.is_none() {
                return Err(syntax(pos, "missing pipeline in block clause"));
            }
            self.enter(pos)?;
            let saved = std::mem::replace(&mut self.vars, vec!["$".into()]);
            let saved_range = std::mem::take(&mut self.range_depth);
            let (list, stop) = self.list()?;
            self.vars = saved;
            self.range_depth = saved_range;
            self.depth -= 1;
            if !matches!(stop, Stop::End) {
                return Err(syntax(pos, "unexpected EOF or {{else}} in block"));
            }
            self.add_define(name.clone(), list, pos)?;
        }
        Ok(Node::Template { name, pipe, pos })
    }

    /// A pipeline up to `}}` (or `)` when `paren`).
    fn pipeline(&mut self, context: &str, allow_two_decls: bool) -> PResult<Pipe> {
        self.pipeline_until(context, allow_two_decls, false)
    }

    fn pipeline_until(&mut self, context: &str, allow_two_decls: bool, paren: bool) -> PResult<Pipe> {
        let pos = self.peek().map_or(self.end, |t| t.pos);
        let mut decl = Vec::new();
        let mut is_assign = false;
        // Declarations: `$x :=`, `$x =`, `$i, $v :=`.
        if let Some(Token { tok: Tok::Var(v), .. }) = self.peek().cloned() {
            let save = self.i;
            self.i += 1;
            match self.peek().map(|t| t.tok.clone()) {
                Some(Tok::Declare) | Some(Tok::Assign) => {
                    is_assign = self.peek().map(|t| t.tok == Tok::Assign).unwrap_or(false);
                    self.i += 1;
                    decl.push(v);
                }
                Some(Tok::Comma) if allow_two_decls => {
                    self.i += 1;
                    let t = self.next()?;
                    let Tok::Var(v2) = t.tok else {
                        return Err(syntax(t.pos, "range can only initialize variables"));
                    };
                    let t = self.next()?;
                    if t.tok != Tok::Declare && t.tok != Tok::Assign {
                        return Err(syntax(t.pos, "expected := or = after range variables"));
                    }
                    is_assign = t.tok == Tok::Assign;
                    decl.push(v);
                    decl.push(v2);
                }
                _ => self.i = save,
            }
            for v in &decl {
                if is_assign {
                    if !self.vars.contains(v) {
                        return Err(syntax(pos, format!("undefined variable {v:?}")));
                    }
                } else {
                    self.vars.push(v.clone());
                }
            }
        }
        let mut cmds = Vec::new();
        loop {
            let cmd = self.command(paren)?;
            cmds.push(cmd);
            let t = self.next()?;
            match t.tok {
                Tok::Pipe => continue,
                Tok::Close if !paren => break,
                Tok::RParen if paren => break,
                _ => return Err(syntax(t.pos, format!("unexpected token in {context}"))),
            }
        }
        if cmds.is_empty() || cmds.iter().any(|c| c.args.is_empty()) {
            return Err(syntax(pos, format!("missing value for {context}")));
        }
        for (n, cmd) in cmds.iter().enumerate().skip(1) {
            if matches!(cmd.args[0], Arg::Bool(_) | Arg::Dot | Arg::Nil | Arg::Num(_) | Arg::Str(_)) {
                return Err(syntax(cmds[n].pos, "non executable command in pipeline stage"));
            }
        }
        Ok(Pipe { pos, decl, is_assign, cmds })
    }

    fn command(&mut self, paren: bool) -> PResult<Cmd> {
        let pos = self.peek().map_or(self.end, |t| t.pos);
        let mut args = Vec::new();
        loop {
            let Some(t) = self.peek().cloned() else {
                return Err(syntax(self.end, "unexpected EOF"));
            };
            match t.tok {
                Tok::Pipe | Tok::Close => break,
                Tok::RParen if paren => break,
                _ => {}
            }
            if !args.is_empty() && !t.space_before && !matches!(t.tok, Tok::LParen) {
                return Err(syntax(t.pos, "missing space between arguments"));
            }
            args.push(self.operand()?);
        }
        if args.is_empty() {
            return Err(syntax(pos, "missing command"));
        }
        Ok(Cmd { pos, args })
    }

    fn chain(&mut self) -> Vec<String> {
        let mut fields = Vec::new();
        while let Some(Token { tok: Tok::Field(f), space_before: false, .. }) = self.peek().cloned() {
            self.i += 1;
            fields.push(f);
        }
        fields
    }

    fn operand(&mut self) -> PResult<Arg> {
        let t = self.next()?;
        let arg = match t.tok {
            Tok::Dot => Arg::Dot,
            Tok::Nil => Arg::Nil,
            Tok::Bool(b) => Arg::Bool(b),
            Tok::Str(s) => Arg::Str(s),
            Tok::Char(c) => Arg::Num(Number { int: Some(c), float: Some(c as f64), is_float: false }),
            Tok::Num(n) => Arg::Num(parse_number(&n, t.pos)?),
            Tok::Field(f) => {
                let mut fields = vec![f];
                fields.extend(self.chain());
                Arg::Field(fields)
            }
            Tok::Var(v) => {
                if !self.vars.contains(&v) {
                    return Err(syntax(t.pos, format!("undefined variable {v:?}")));
                }
                let fields = self.chain();
                Arg::Var(v, fields)
            }
            Tok::Ident(name) => {
                match funcs::lookup(&name) {
                    funcs::Lookup::Found => {}
                    funcs::Lookup::Unsupported => return Err((t.pos, ErrorKind::Unsupported(name))),
                    funcs::Lookup::Undefined => {
                        return Err(syntax(t.pos, format!("function {name:?} not defined")));
                    }
                }
                let fields = self.chain();
                if fields.is_empty() {
                    Arg::Ident(name)
                } else {
                    // Go's chain node over an identifier: the function called without arguments,
                    // then the fields, so `now.Year` is `(now).Year` (text/template/parse
                    // `operand`, exec `evalChainNode`).
                    let cmd = Cmd { pos: t.pos, args: vec![Arg::Ident(name)] };
                    Arg::Paren(
                        Box::new(Pipe { pos: t.pos, decl: Vec::new(), is_assign: false, cmds: vec![cmd] }),
                        fields,
                    )
                }
            }
            Tok::LParen => {
                self.enter(t.pos)?;
                let pipe = self.pipeline_until("parenthesized pipeline", false, true)?;
                self.depth -= 1;
                let fields = self.chain();
                Arg::Paren(Box::new(pipe), fields)
            }
            _ => return Err(syntax(t.pos, "unexpected token in operand")),
        };
        if matches!(arg, Arg::Dot | Arg::Nil | Arg::Bool(_) | Arg::Str(_) | Arg::Num(_) | Arg::Ident(_))
            && let Some(Token { tok: Tok::Field(_), space_before: false, pos }) = self.peek()
        {
            return Err(syntax(*pos, "unexpected . after term"));
        }
        Ok(arg)
    }
}
