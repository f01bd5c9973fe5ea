//! Sprig's `urlParse` and `urlJoin` (sprig/url.go) over Go 1.19's `net/url`: `Parse` with its
//! percent-decoding rules and errors, and `URL.String` with its escaping rules.
//!
//! Divergence: Go's errors quote the URL (sprig panics with `unable to parse url: ...`); sealops
//! gives the reason only, as the URL may hold a secret.

use std::collections::BTreeMap;

use super::super::super::funcs::{Ctx, FnResult, str_of};
use super::super::super::value::Value;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Path,
    Host,
    Zone,
    UserPassword,
    Fragment,
}

#[derive(Default)]
struct Url {
    scheme: Vec<u8>,
    opaque: Vec<u8>,
    /// Username and optional password, decoded.
    user: Option<(Vec<u8>, Option<Vec<u8>>)>,
    host: Vec<u8>,
    path: Vec<u8>,
    raw_path: Vec<u8>,
    omit_host: bool,
    force_query: bool,
    raw_query: Vec<u8>,
    fragment: Vec<u8>,
    raw_fragment: Vec<u8>,
}

fn should_escape(c: u8, mode: Mode) -> bool {
    if c.is_ascii_alphanumeric() {
        return false;
    }
    if matches!(mode, Mode::Host | Mode::Zone)
        && matches!(
            c,
            b'!' | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'['
                | b']'
                | b'<'
                | b'>'
                | b'"'
        )
    {
        return false;
    }
    match c {
        b'-' | b'_' | b'.' | b'~' => return false,
        b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'?' | b'@' => match mode {
            Mode::Path => return c == b'?',
            Mode::UserPassword => return matches!(c, b'@' | b'/' | b'?' | b':'),
            Mode::Fragment => return false,
            Mode::Host | Mode::Zone => {}
        },
        _ => {}
    }
    if mode == Mode::Fragment && matches!(c, b'!' | b'(' | b')' | b'*') {
        return false;
    }
    true
}

fn unhex(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => 0,
    }
}

/// `url.unescape` (never in query-component mode here).
fn unescape(s: &[u8], mode: Mode) -> Result<Vec<u8>, &'static str> {
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'%' => {
                if i + 2 >= s.len() || !s[i + 1].is_ascii_hexdigit() || !s[i + 2].is_ascii_hexdigit() {
                    return Err("invalid URL escape");
                }
                let is_25 = &s[i..i + 3] == b"%25";
                if mode == Mode::Host && unhex(s[i + 1]) < 8 && !is_25 {
                    return Err("invalid URL escape");
                }
                if mode == Mode::Zone {
                    let v = unhex(s[i + 1]) << 4 | unhex(s[i + 2]);
                    if !is_25 && v != b' ' && should_escape(v, Mode::Host) {
                        return Err("invalid URL escape");
                    }
                }
                i += 3;
            }
            c => {
                if matches!(mode, Mode::Host | Mode::Zone) && c < 0x80 && should_escape(c, mode) {
                    return Err("invalid character in host name");
                }
                i += 1;
            }
        }
    }
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' {
            out.push(unhex(s[i + 1]) << 4 | unhex(s[i + 2]));
            i += 3;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    Ok(out)
}

/// `url.escape`.
fn escape(s: &[u8], mode: Mode) -> Vec<u8> {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = Vec::with_capacity(s.len());
    for &c in s {
        if should_escape(c, mode) {
            out.extend_from_slice(&[b'%', HEX[usize::from(c >> 4)], HEX[usize::from(c & 15)]]);
        } else {
            out.push(c);
        }
    }
    out
}

fn cut(s: &[u8], sep: u8) -> (&[u8], Option<&[u8]>) {
    match s.iter().position(|&b| b == sep) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    }
}

/// `url.Parse`.
fn parse(raw: &[u8]) -> Result<Url, &'static str> {
    let (u, frag) = cut(raw, b'#');
    let mut url = parse_no_fragment(u)?;
    if let Some(f) = frag
        && !f.is_empty()
    {
        url.fragment = unescape(f, Mode::Fragment)?;
        url.raw_fragment = if escape(&url.fragment, Mode::Fragment) == f { Vec::new() } else { f.to_vec() };
    }
    Ok(url)
}

/// `getScheme`: the scheme before the first `:` when it is `[A-Za-z][A-Za-z0-9+.-]*`.
fn get_scheme(raw: &[u8]) -> Result<(&[u8], &[u8]), &'static str> {
    for (i, &c) in raw.iter().enumerate() {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' if i > 0 => {}
            b':' if i == 0 => return Err("missing protocol scheme"),
            b':' => return Ok((&raw[..i], &raw[i + 1..])),
            _ => return Ok((b"", raw)),
        }
    }
    Ok((b"", raw))
}

/// Go's `parse(rawURL, false)`.
fn parse_no_fragment(raw: &[u8]) -> Result<Url, &'static str> {
    if raw.iter().any(|&b| b < b' ' || b == 0x7f) {
        return Err("net/url: invalid control character in URL");
    }
    let mut url = Url::default();
    if raw == b"*" {
        url.path = b"*".to_vec();
        return Ok(url);
    }
    let (scheme, rest) = get_scheme(raw)?;
    url.scheme = scheme.to_ascii_lowercase();
    let mut rest = rest;
    if rest.last() == Some(&b'?') && rest.iter().filter(|&&b| b == b'?').count() == 1 {
        url.force_query = true;
        rest = &rest[..rest.len() - 1];
    } else {
        let (r, q) = cut(rest, b'?');
        rest = r;
        url.raw_query = q.unwrap_or_default().to_vec();
    }
    if !rest.starts_with(b"/") {
        if !url.scheme.is_empty() {
            url.opaque = rest.to_vec();
            return Ok(url);
        }
        if cut(rest, b'/').0.contains(&b':') {
            return Err("first path segment in URL cannot contain colon");
        }
    }
    if (!url.scheme.is_empty() || !rest.starts_with(b"///")) && rest.starts_with(b"//") {
        let mut authority = &rest[2..];
        rest = b"";
        if let Some(i) = authority.iter().position(|&b| b == b'/') {
            rest = &authority[i..];
            authority = &authority[..i];
        }
        let (user, host) = parse_authority(authority)?;
        url.user = user;
        url.host = host;
    } else if !url.scheme.is_empty() && rest.starts_with(b"/") {
        url.omit_host = true;
    }
    url.path = unescape(rest, Mode::Path)?;
    url.raw_path = if escape(&url.path, Mode::Path) == rest { Vec::new() } else { rest.to_vec() };
    Ok(url)
}

type User = Option<(Vec<u8>, Option<Vec<u8>>)>;

fn parse_authority(authority: &[u8]) -> Result<(User, Vec<u8>), &'static str> {
    let at = authority.iter().rposition(|&b| b == b'@');
    let host = parse_host(at.map_or(authority, |i| &authority[i + 1..]))?;
    let Some(i) = at else { return Ok((None, host)) };
    let userinfo = &authority[..i];
    let valid = String::from_utf8_lossy(userinfo).chars().all(|r| {
        r.is_ascii_alphanumeric()
            || matches!(
                r,
                '-' | '.'
                    | '_'
                    | ':'
                    | '~'
                    | '!'
                    | '$'
                    | '&'
                    | '\''
                    | '('
                    | ')'
                    | '*'
                    | '+'
                    | ','
                    | ';'
                    | '='
                    | '%'
                    | '@'
            )
    });
    if !valid {
        return Err("net/url: invalid userinfo");
    }
    let user = match cut(userinfo, b':') {
        (name, None) => (unescape(name, Mode::UserPassword)?, None),
        (name, Some(pass)) => (unescape(name, Mode::UserPassword)?, Some(unescape(pass, Mode::UserPassword)?)),
    };
    Ok((Some(user), host))
}

fn valid_optional_port(port: &[u8]) -> bool {
    match port.split_first() {
        None => true,
        Some((b':', digits)) => digits.iter().all(u8::is_ascii_digit),
        Some(_) => false,
    }
}

fn parse_host(host: &[u8]) -> Result<Vec<u8>, &'static str> {
    if host.starts_with(b"[") {
        let i = host.iter().rposition(|&b| b == b']').ok_or("missing ']' in host")?;
        if !valid_optional_port(&host[i + 1..]) {
            return Err("invalid port after host");
        }
        if let Some(zone) = host[..i].windows(3).position(|w| w == b"%25") {
            let mut out = unescape(&host[..zone], Mode::Host)?;
            out.extend(unescape(&host[zone..i], Mode::Zone)?);
            out.extend(unescape(&host[i..], Mode::Host)?);
            return Ok(out);
        }
    } else if let Some(i) = host.iter().rposition(|&b| b == b':')
        && !valid_optional_port(&host[i..])
    {
        return Err("invalid port after host");
    }
    unescape(host, Mode::Host)
}

/// `URL.Hostname()`: the host without port and IPv6 brackets.
fn hostname(host: &[u8]) -> &[u8] {
    let mut h = host;
    if let Some(i) = h.iter().rposition(|&b| b == b':')
        && valid_optional_port(&h[i..])
    {
        h = &h[..i];
    }
    if h.starts_with(b"[") && h.ends_with(b"]") && h.len() >= 2 {
        h = &h[1..h.len() - 1];
    }
    h
}

fn user_string(user: &User) -> Vec<u8> {
    let Some((name, pass)) = user else { return Vec::new() };
    let mut s = escape(name, Mode::UserPassword);
    if let Some(p) = pass {
        s.push(b':');
        s.extend(escape(p, Mode::UserPassword));
    }
    s
}

/// Go's `validEncoded`: only characters that may appear unescaped (or `%`).
fn valid_encoded(s: &[u8], mode: Mode) -> bool {
    s.iter().all(|&c| {
        matches!(
            c,
            b'!' | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'@'
                | b'['
                | b']'
                | b'%'
        ) || !should_escape(c, mode)
    })
}

impl Url {
    fn escaped_path(&self) -> Vec<u8> {
        if !self.raw_path.is_empty()
            && valid_encoded(&self.raw_path, Mode::Path)
            && unescape(&self.raw_path, Mode::Path).is_ok_and(|p| p == self.path)
        {
            return self.raw_path.clone();
        }
        if self.path == b"*" {
            return b"*".to_vec();
        }
        escape(&self.path, Mode::Path)
    }

    fn escaped_fragment(&self) -> Vec<u8> {
        if !self.raw_fragment.is_empty()
            && valid_encoded(&self.raw_fragment, Mode::Fragment)
            && unescape(&self.raw_fragment, Mode::Fragment).is_ok_and(|f| f == self.fragment)
        {
            return self.raw_fragment.clone();
        }
        escape(&self.fragment, Mode::Fragment)
    }

    /// `URL.String()`.
    fn string(&self) -> Vec<u8> {
        let mut buf = Vec::new();
        if !self.scheme.is_empty() {
            buf.extend_from_slice(&self.scheme);
            buf.push(b':');
        }
        if !self.opaque.is_empty() {
            buf.extend_from_slice(&self.opaque);
        } else {
            let no_authority = self.host.is_empty() && self.user.is_none();
            // Go writes the authority part for a scheme, host or user, unless the parsed URL had
            // an empty one (`OmitHost`).
            if !no_authority || (!self.scheme.is_empty() && !self.omit_host) {
                if !self.host.is_empty() || !self.path.is_empty() || self.user.is_some() {
                    buf.extend_from_slice(b"//");
                }
                if self.user.is_some() {
                    buf.extend(user_string(&self.user));
                    buf.push(b'@');
                }
                if !self.host.is_empty() {
                    buf.extend(escape(&self.host, Mode::Host));
                }
            }
            let path = self.escaped_path();
            if !path.is_empty() && path[0] != b'/' && !self.host.is_empty() {
                buf.push(b'/');
            }
            if buf.is_empty() && cut(&path, b'/').0.contains(&b':') {
                buf.extend_from_slice(b"./");
            }
            buf.extend(path);
        }
        if self.force_query || !self.raw_query.is_empty() {
            buf.push(b'?');
            buf.extend_from_slice(&self.raw_query);
        }
        if !self.fragment.is_empty() {
            buf.push(b'#');
            buf.extend(self.escaped_fragment());
        }
        buf
    }
}

/// `urlParse url`: a dict of the URL's parts, as Sprig builds it.
pub(super) fn url_parse(_: &Ctx, a: Vec<Value>) -> FnResult {
    let u = parse(&str_of(&a[0])).map_err(|e| format!("urlParse: unable to parse url: {e}"))?;
    let mut d = BTreeMap::new();
    let mut put = |k: &str, v: &[u8]| d.insert(k.to_owned(), Value::bytes(v.to_vec()));
    put("scheme", &u.scheme);
    put("host", &u.host);
    put("hostname", hostname(&u.host));
    put("path", &u.path);
    put("query", &u.raw_query);
    put("opaque", &u.opaque);
    put("fragment", &u.fragment);
    put("userinfo", &user_string(&u.user));
    Ok(Value::new_dict(d))
}

/// `urlJoin dict`: a URL built from the dict's string fields (missing ones empty).
pub(super) fn url_join(c: &Ctx, a: Vec<Value>) -> FnResult {
    let field = |key: &str| -> Result<Vec<u8>, String> {
        let Value::Dict(d) = &a[0] else { return Ok(Vec::new()) };
        match d.borrow().get(key) {
            None => Ok(Vec::new()),
            Some(Value::Str(s)) => Ok(s.to_vec()),
            Some(other) => Err(format!(
                "urlJoin: unable to parse {key} key, must be of type string, but {} found",
                super::super::super::funcs::kind_name(other)
            )),
        }
    };
    let mut url = Url {
        scheme: field("scheme")?,
        host: field("host")?,
        path: field("path")?,
        raw_query: field("query")?,
        opaque: field("opaque")?,
        fragment: field("fragment")?,
        ..Url::default()
    };
    let userinfo = field("userinfo")?;
    if !userinfo.is_empty() {
        let temp = parse(&[b"proto://".as_slice(), &userinfo, b"@host"].concat())
            .map_err(|e| format!("urlJoin: unable to parse userinfo in dict: {e}"))?;
        url.user = temp.user;
    }
    c.bytes(url.string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(s: &str) -> String {
        match parse(s.as_bytes()) {
            Ok(u) => String::from_utf8_lossy(&u.string()).into_owned(),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn parse_and_string_follow_net_url() {
        // Inputs from Go's net/url url_test.go; expected strings from Go 1.19's `url.Parse(s).String()`.
        let cases = [
            ("http://www.google.com", "http://www.google.com"),
            ("http://www.google.com/", "http://www.google.com/"),
            ("http://www.google.com/file%20one%26two", "http://www.google.com/file%20one%26two"),
            ("http://www.google.com/#file%20one%26two", "http://www.google.com/#file%20one%26two"),
            ("ftp://webmaster@www.google.com/", "ftp://webmaster@www.google.com/"),
            ("ftp://john%20doe@www.google.com/", "ftp://john%20doe@www.google.com/"),
            ("http://www.google.com/?", "http://www.google.com/?"),
            ("http://www.google.com/?foo=bar?", "http://www.google.com/?foo=bar?"),
            ("http://www.google.com/?q=go+language", "http://www.google.com/?q=go+language"),
            ("http://www.google.com/a%20b?q=c+d", "http://www.google.com/a%20b?q=c+d"),
            ("http:www.google.com/?q=go+language", "http:www.google.com/?q=go+language"),
            ("mailto:/webmaster@golang.org", "mailto:/webmaster@golang.org"),
            ("mailto:webmaster@golang.org", "mailto:webmaster@golang.org"),
            ("/foo?query=http://bad", "/foo?query=http://bad"),
            ("//foo", "//foo"),
            ("//user@foo/path?a=b", "//user@foo/path?a=b"),
            ("///threeslashes", "///threeslashes"),
            ("http://user:password@google.com", "http://user:password@google.com"),
            ("http://j@ne:password@google.com", "http://j%40ne:password@google.com"),
            ("http://[fe80::1%25en0]/", "http://[fe80::1%25en0]/"),
            ("http://[fe80::1%25%65%6e%301-._~]:8080/", "http://[fe80::1%25en01-._~]:8080/"),
            ("http://example.com/oid/[order_id]", "http://example.com/oid/[order_id]"),
            ("http://%41:8080/", "error: invalid URL escape"),
            ("mysql://a,b,c/bar", "mysql://a,b,c/bar"),
            ("a:b", "a:b"),
            (":foo", "error: missing protocol scheme"),
            ("a/b:c", "a/b:c"),
            ("x:y/z", "x:y/z"),
            ("1:2", "error: first path segment in URL cannot contain colon"),
        ];
        for (input, want) in cases {
            assert_eq!(round_trip(input), want, "{input}");
        }
    }
}
