//! Go's layout-based time formatting and parsing (go1.19 `time/format.go`): the reference time
//! "Mon Jan 2 15:04:05 MST 2006" and every layout element Go knows, and `time.ParseDuration`.
//!
//! Parse errors never quote the value or the layout (either may be a secret), unlike Go's
//! `ParseError`; they only say what did not fit.

use super::clock::{DAY_NAMES, GoTime, MONTH_NAMES, date, days_in, is_leap};
use super::zone::Loc;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Std {
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekDay,
    WeekDay,
    Day,
    UnderDay,
    ZeroDay,
    UnderYearDay,
    ZeroYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    LongYear,
    Year,
    PM,
    Pm,
    TZ,
    ISO8601TZ,
    ISO8601SecondsTZ,
    ISO8601ShortTZ,
    ISO8601ColonTZ,
    ISO8601ColonSecondsTZ,
    NumTZ,
    NumSecondsTz,
    NumShortTZ,
    NumColonTZ,
    NumColonSecondsTZ,
    /// ".000" (digits, separator): trailing zeros kept.
    FracSecond0(usize, u8),
    /// ".999": trailing zeros dropped.
    FracSecond9(usize, u8),
}

impl Std {
    fn is_iso_z(self) -> bool {
        matches!(
            self,
            Std::ISO8601TZ
                | Std::ISO8601SecondsTZ
                | Std::ISO8601ShortTZ
                | Std::ISO8601ColonTZ
                | Std::ISO8601ColonSecondsTZ
        )
    }

    fn is_numeric_zone(self) -> bool {
        self.is_iso_z()
            || matches!(
                self,
                Std::NumTZ | Std::NumSecondsTz | Std::NumShortTZ | Std::NumColonTZ | Std::NumColonSecondsTZ
            )
    }
}

fn is_digit(s: &[u8], i: usize) -> bool {
    s.get(i).is_some_and(u8::is_ascii_digit)
}

fn starts_lower(s: &[u8]) -> bool {
    s.first().is_some_and(u8::is_ascii_lowercase)
}

/// Go's `nextStdChunk`: (prefix, element, suffix); no element when the layout has none left.
fn next_chunk(layout: &[u8]) -> (&[u8], Option<Std>, &[u8]) {
    let at = |i: usize, s: &str| layout.get(i..i + s.len()) == Some(s.as_bytes());
    for i in 0..layout.len() {
        let hit = |std: Std, len: usize| (&layout[..i], Some(std), &layout[i + len..]);
        match layout[i] {
            b'J' if at(i, "Jan") => {
                if at(i, "January") {
                    return hit(Std::LongMonth, 7);
                }
                if !starts_lower(&layout[i + 3..]) {
                    return hit(Std::Month, 3);
                }
            }
            b'M' => {
                if at(i, "Mon") {
                    if at(i, "Monday") {
                        return hit(Std::LongWeekDay, 6);
                    }
                    if !starts_lower(&layout[i + 3..]) {
                        return hit(Std::WeekDay, 3);
                    }
                }
                if at(i, "MST") {
                    return hit(Std::TZ, 3);
                }
            }
            b'0' => {
                if let Some(&c @ b'1'..=b'6') = layout.get(i + 1) {
                    let std =
                        [Std::ZeroMonth, Std::ZeroDay, Std::ZeroHour12, Std::ZeroMinute, Std::ZeroSecond, Std::Year]
                            [usize::from(c - b'1')];
                    return hit(std, 2);
                }
                if at(i, "002") {
                    return hit(Std::ZeroYearDay, 3);
                }
            }
            b'1' => {
                if at(i, "15") {
                    return hit(Std::Hour, 2);
                }
                return hit(Std::NumMonth, 1);
            }
            b'2' => {
                if at(i, "2006") {
                    return hit(Std::LongYear, 4);
                }
                return hit(Std::Day, 1);
            }
            b'_' => {
                if at(i, "_2") {
                    // "_2006" is a literal '_' and then the long year.
                    if at(i + 1, "2006") {
                        return (&layout[..i + 1], Some(Std::LongYear), &layout[i + 5..]);
                    }
                    return hit(Std::UnderDay, 2);
                }
                if at(i, "__2") {
                    return hit(Std::UnderYearDay, 3);
                }
            }
            b'3' => return hit(Std::Hour12, 1),
            b'4' => return hit(Std::Minute, 1),
            b'5' => return hit(Std::Second, 1),
            b'P' if at(i, "PM") => return hit(Std::PM, 2),
            b'p' if at(i, "pm") => return hit(Std::Pm, 2),
            b'-' => {
                for (s, std) in [
                    ("-070000", Std::NumSecondsTz),
                    ("-07:00:00", Std::NumColonSecondsTZ),
                    ("-0700", Std::NumTZ),
                    ("-07:00", Std::NumColonTZ),
                    ("-07", Std::NumShortTZ),
                ] {
                    if at(i, s) {
                        return hit(std, s.len());
                    }
                }
            }
            b'Z' => {
                for (s, std) in [
                    ("Z070000", Std::ISO8601SecondsTZ),
                    ("Z07:00:00", Std::ISO8601ColonSecondsTZ),
                    ("Z0700", Std::ISO8601TZ),
                    ("Z07:00", Std::ISO8601ColonTZ),
                    ("Z07", Std::ISO8601ShortTZ),
                ] {
                    if at(i, s) {
                        return hit(std, s.len());
                    }
                }
            }
            sep @ (b'.' | b',') => {
                if let Some(&ch @ (b'0' | b'9')) = layout.get(i + 1) {
                    let mut j = i + 1;
                    while j < layout.len() && layout[j] == ch {
                        j += 1;
                    }
                    // Only a run of digits ending here is a fractional second.
                    if !is_digit(layout, j) {
                        // Go keeps the count in 12 bits.
                        let n = (j - (i + 1)) & 0xfff;
                        let std = if ch == b'0' { Std::FracSecond0(n, sep) } else { Std::FracSecond9(n, sep) };
                        return (&layout[..i], Some(std), &layout[j..]);
                    }
                }
            }
            _ => {}
        }
    }
    (layout, None, &[])
}

fn append_int(b: &mut Vec<u8>, x: i64, width: usize) {
    if x < 0 {
        b.push(b'-');
    }
    let digits = x.unsigned_abs().to_string();
    for _ in digits.len()..width {
        b.push(b'0');
    }
    b.extend_from_slice(digits.as_bytes());
}

/// Go's `Time.Format`. The output grows by a bounded amount per layout byte (at most a zone
/// name or a month name per element), so it is at most a small multiple of the layout.
pub(crate) fn format(t: &GoTime, layout: &[u8]) -> Vec<u8> {
    let c = t.civil();
    let mut b = Vec::with_capacity(layout.len() + 10);
    let mut layout = layout;
    loop {
        let (prefix, std, suffix) = next_chunk(layout);
        b.extend_from_slice(prefix);
        let Some(std) = std else { break };
        layout = suffix;
        let yday = c.yday + 1;
        match std {
            Std::Year => append_int(&mut b, c.year.unsigned_abs().rem_euclid(100) as i64, 2),
            Std::LongYear => append_int(&mut b, c.year, 4),
            Std::Month => b.extend_from_slice(&month_name(c.month).as_bytes()[..3]),
            Std::LongMonth => b.extend_from_slice(month_name(c.month).as_bytes()),
            Std::NumMonth => append_int(&mut b, c.month, 0),
            Std::ZeroMonth => append_int(&mut b, c.month, 2),
            Std::WeekDay => b.extend_from_slice(&day_name(c.weekday).as_bytes()[..3]),
            Std::LongWeekDay => b.extend_from_slice(day_name(c.weekday).as_bytes()),
            Std::Day => append_int(&mut b, c.day, 0),
            Std::UnderDay => {
                if c.day < 10 {
                    b.push(b' ');
                }
                append_int(&mut b, c.day, 0);
            }
            Std::ZeroDay => append_int(&mut b, c.day, 2),
            Std::UnderYearDay => {
                if yday < 100 {
                    b.push(b' ');
                    if yday < 10 {
                        b.push(b' ');
                    }
                }
                append_int(&mut b, yday, 0);
            }
            Std::ZeroYearDay => append_int(&mut b, yday, 3),
            Std::Hour => append_int(&mut b, c.hour, 2),
            Std::Hour12 | Std::ZeroHour12 => {
                let hr = if c.hour % 12 == 0 { 12 } else { c.hour % 12 };
                append_int(&mut b, hr, if std == Std::ZeroHour12 { 2 } else { 0 });
            }
            Std::Minute => append_int(&mut b, c.min, 0),
            Std::ZeroMinute => append_int(&mut b, c.min, 2),
            Std::Second => append_int(&mut b, c.sec, 0),
            Std::ZeroSecond => append_int(&mut b, c.sec, 2),
            Std::PM => b.extend_from_slice(if c.hour >= 12 { b"PM" } else { b"AM" }),
            Std::Pm => b.extend_from_slice(if c.hour >= 12 { b"pm" } else { b"am" }),
            Std::TZ => {
                if !c.zone_name.is_empty() {
                    b.extend_from_slice(c.zone_name.as_bytes());
                } else {
                    // No zone name known: Go prints the -0700 form.
                    let zone = c.offset / 60;
                    b.push(if zone < 0 { b'-' } else { b'+' });
                    append_int(&mut b, i64::from(zone.abs() / 60), 2);
                    append_int(&mut b, i64::from(zone.abs() % 60), 2);
                }
            }
            std if std.is_numeric_zone() => {
                if c.offset == 0 && std.is_iso_z() {
                    b.push(b'Z');
                    continue;
                }
                let zone = c.offset / 60;
                b.push(if zone < 0 { b'-' } else { b'+' });
                let (zone, abs_offset) = (zone.abs(), c.offset.abs());
                append_int(&mut b, i64::from(zone / 60), 2);
                if matches!(
                    std,
                    Std::ISO8601ColonTZ | Std::NumColonTZ | Std::ISO8601ColonSecondsTZ | Std::NumColonSecondsTZ
                ) {
                    b.push(b':');
                }
                if !matches!(std, Std::NumShortTZ | Std::ISO8601ShortTZ) {
                    append_int(&mut b, i64::from(zone % 60), 2);
                }
                if matches!(
                    std,
                    Std::ISO8601SecondsTZ | Std::NumSecondsTz | Std::NumColonSecondsTZ | Std::ISO8601ColonSecondsTZ
                ) {
                    if matches!(std, Std::NumColonSecondsTZ | Std::ISO8601ColonSecondsTZ) {
                        b.push(b':');
                    }
                    append_int(&mut b, i64::from(abs_offset % 60), 2);
                }
            }
            Std::FracSecond0(n, sep) | Std::FracSecond9(n, sep) => {
                let digits = format!("{:09}", t.nsec);
                let mut n = n.min(9);
                if matches!(std, Std::FracSecond9(..)) {
                    while n > 0 && digits.as_bytes()[n - 1] == b'0' {
                        n -= 1;
                    }
                    if n == 0 {
                        continue;
                    }
                }
                b.push(sep);
                b.extend_from_slice(&digits.as_bytes()[..n]);
            }
            _ => {}
        }
    }
    b
}

fn month_name(m: i64) -> &'static str {
    usize::try_from(m - 1).ok().and_then(|i| MONTH_NAMES.get(i)).copied().unwrap_or("%!Month")
}

fn day_name(d: i64) -> &'static str {
    usize::try_from(d).ok().and_then(|i| DAY_NAMES.get(i)).copied().unwrap_or("%!Weekday")
}

/// Why `time.Parse` failed, without the value or layout (see the module comment).
pub(crate) fn parse_error(why: &str) -> String {
    format!("parsing time: {why}")
}

/// Go's case-insensitive name match (`lookup` in format.go): the index and the rest.
fn lookup_name<'a>(tab: &[&str], val: &'a [u8]) -> Option<(usize, &'a [u8])> {
    tab.iter().enumerate().find_map(|(i, name)| {
        let n = name.as_bytes();
        let head = val.get(..n.len())?;
        let same = head.iter().zip(n).all(|(&a, &b)| {
            a == b || {
                let (la, lb) = (a | 0x20, b | 0x20);
                la == lb && la.is_ascii_lowercase()
            }
        });
        same.then(|| (i, &val[n.len()..]))
    })
}

/// `getnum`: one or two digits (`fixed`: exactly two).
fn getnum(s: &[u8], fixed: bool) -> Option<(i64, &[u8])> {
    if !is_digit(s, 0) {
        return None;
    }
    if !is_digit(s, 1) {
        if fixed {
            return None;
        }
        return Some((i64::from(s[0] - b'0'), &s[1..]));
    }
    Some((i64::from(s[0] - b'0') * 10 + i64::from(s[1] - b'0'), &s[2..]))
}

fn getnum3(s: &[u8], fixed: bool) -> Option<(i64, &[u8])> {
    let mut n = 0;
    let mut i = 0;
    while i < 3 && is_digit(s, i) {
        n = n * 10 + i64::from(s[i] - b'0');
        i += 1;
    }
    if i == 0 || (fixed && i != 3) {
        return None;
    }
    Some((n, &s[i..]))
}

/// `skip`: the literal `prefix`, runs of spaces matching runs of spaces.
fn skip<'a>(mut value: &'a [u8], mut prefix: &[u8]) -> Option<&'a [u8]> {
    while let Some(&p) = prefix.first() {
        if p == b' ' {
            if value.first().is_some_and(|&v| v != b' ') {
                return None;
            }
            while prefix.first() == Some(&b' ') {
                prefix = &prefix[1..];
            }
            while value.first() == Some(&b' ') {
                value = &value[1..];
            }
            continue;
        }
        if value.first() != Some(&p) {
            return None;
        }
        prefix = &prefix[1..];
        value = &value[1..];
    }
    Some(value)
}

/// `leadingInt`: the leading digits, `None` on overflow past 2^63.
fn leading_int(s: &[u8]) -> Option<(u64, &[u8])> {
    let mut x: u64 = 0;
    let mut i = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        if x > (1 << 63) / 10 {
            return None;
        }
        x = x * 10 + u64::from(s[i] - b'0');
        if x > 1 << 63 {
            return None;
        }
        i += 1;
    }
    Some((x, &s[i..]))
}

/// Go's `atoi` in format.go: optional sign, digits, nothing else.
fn atoi(s: &[u8]) -> Option<i64> {
    let (neg, s) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (q, rem) = leading_int(s)?;
    if !rem.is_empty() {
        return None;
    }
    let x = q as i64;
    Some(if neg { x.wrapping_neg() } else { x })
}

/// `parseNanoseconds`: `value[0]` is the separator, then `nbytes - 1` digits.
fn parse_nanos(value: &[u8], nbytes: usize) -> Result<i64, &'static str> {
    if !matches!(value.first(), Some(b'.' | b',')) {
        return Err("bad fractional second");
    }
    let nbytes = nbytes.min(10);
    let ns = atoi(value.get(1..nbytes).ok_or("bad fractional second")?).ok_or("bad fractional second")?;
    if ns < 0 {
        return Err("fractional second out of range");
    }
    let mut ns = ns;
    for _ in 0..10 - nbytes {
        ns *= 10;
    }
    Ok(ns)
}

/// `parseTimeZone`: the length of a zone abbreviation at the start of `value`.
fn parse_time_zone(value: &[u8]) -> Option<usize> {
    if value.len() < 3 {
        return None;
    }
    if value.starts_with(b"ChST") || value.starts_with(b"MeST") {
        return Some(4);
    }
    if value.starts_with(b"GMT") {
        return Some(3 + if value.len() == 3 { 0 } else { parse_signed_offset(&value[3..]) });
    }
    if value[0] == b'+' || value[0] == b'-' {
        let n = parse_signed_offset(value);
        return (n > 0).then_some(n);
    }
    let upper = value.iter().take(6).take_while(|c| c.is_ascii_uppercase()).count();
    match upper {
        5 if value[4] == b'T' => Some(5),
        4 if value[3] == b'T' || value.starts_with(b"WITA") => Some(4),
        3 => Some(3),
        _ => None,
    }
}

fn parse_signed_offset(value: &[u8]) -> usize {
    if !matches!(value.first(), Some(b'+' | b'-')) {
        return 0;
    }
    match leading_int(&value[1..]) {
        Some((x, rem)) if rem.len() != value.len() - 1 && x <= 23 => value.len() - rem.len(),
        _ => 0,
    }
}

/// Go's `time.ParseInLocation(layout, value, loc)` (Sprig's `toDate` passes `time.Local`).
pub(crate) fn parse(layout: &[u8], value: &[u8], loc: &Loc) -> Result<GoTime, String> {
    let bad = || parse_error("the value does not match the layout");
    let (mut layout, mut value) = (layout, value);
    let (mut am, mut pm) = (false, false);
    let (mut year, mut month, mut day, mut yday) = (0i64, -1i64, -1i64, -1i64);
    let (mut hour, mut min, mut sec, mut nsec) = (0i64, 0i64, 0i64, 0i64);
    let mut utc = false;
    let mut zone_offset: Option<i64> = None;
    let mut zone_name: Vec<u8> = Vec::new();
    loop {
        let (prefix, std, suffix) = next_chunk(layout);
        value = skip(value, prefix).ok_or_else(bad)?;
        let Some(std) = std else {
            if !value.is_empty() {
                return Err(parse_error("extra text after the layout"));
            }
            break;
        };
        layout = suffix;
        let mut range_err: Option<&str> = None;
        let ok: Option<()> = (|| {
            match std {
                Std::Year => {
                    let p = value.get(..2)?;
                    year = atoi(p)?;
                    value = &value[2..];
                    year += if year >= 69 { 1900 } else { 2000 };
                }
                Std::LongYear => {
                    if value.len() < 4 || !is_digit(value, 0) {
                        return None;
                    }
                    year = atoi(&value[..4])?;
                    value = &value[4..];
                }
                Std::Month | Std::LongMonth => {
                    let names: Vec<&str> = if std == Std::Month {
                        MONTH_NAMES.iter().map(|m| &m[..3]).collect()
                    } else {
                        MONTH_NAMES.to_vec()
                    };
                    let (i, rest) = lookup_name(&names, value)?;
                    month = i as i64 + 1;
                    value = rest;
                }
                Std::NumMonth | Std::ZeroMonth => {
                    let (m, rest) = getnum(value, std == Std::ZeroMonth)?;
                    (month, value) = (m, rest);
                    if !(1..=12).contains(&month) {
                        range_err = Some("month out of range");
                    }
                }
                Std::WeekDay | Std::LongWeekDay => {
                    let names: Vec<&str> = if std == Std::WeekDay {
                        DAY_NAMES.iter().map(|d| &d[..3]).collect()
                    } else {
                        DAY_NAMES.to_vec()
                    };
                    value = lookup_name(&names, value)?.1;
                }
                Std::Day | Std::UnderDay | Std::ZeroDay => {
                    if std == Std::UnderDay && value.first() == Some(&b' ') {
                        value = &value[1..];
                    }
                    (day, value) = getnum(value, std == Std::ZeroDay)?;
                }
                Std::UnderYearDay | Std::ZeroYearDay => {
                    for _ in 0..2 {
                        if std == Std::UnderYearDay && value.first() == Some(&b' ') {
                            value = &value[1..];
                        }
                    }
                    (yday, value) = getnum3(value, std == Std::ZeroYearDay)?;
                }
                Std::Hour => {
                    (hour, value) = getnum(value, false)?;
                    if !(0..24).contains(&hour) {
                        range_err = Some("hour out of range");
                    }
                }
                Std::Hour12 | Std::ZeroHour12 => {
                    (hour, value) = getnum(value, std == Std::ZeroHour12)?;
                    if !(0..=12).contains(&hour) {
                        range_err = Some("hour out of range");
                    }
                }
                Std::Minute | Std::ZeroMinute => {
                    (min, value) = getnum(value, std == Std::ZeroMinute)?;
                    if !(0..60).contains(&min) {
                        range_err = Some("minute out of range");
                    }
                }
                Std::Second | Std::ZeroSecond => {
                    (sec, value) = getnum(value, std == Std::ZeroSecond)?;
                    if !(0..60).contains(&sec) {
                        range_err = Some("second out of range");
                        return Some(());
                    }
                    // A fractional second in the value that the layout does not have.
                    if value.len() >= 2 && matches!(value[0], b'.' | b',') && is_digit(value, 1) {
                        if matches!(next_chunk(layout).1, Some(Std::FracSecond0(..) | Std::FracSecond9(..))) {
                            return Some(());
                        }
                        let mut n = 2;
                        while is_digit(value, n) {
                            n += 1;
                        }
                        match parse_nanos(value, n) {
                            Ok(ns) => nsec = ns,
                            Err(e) if e.ends_with("range") => range_err = Some(e),
                            Err(_) => return None,
                        }
                        value = &value[n..];
                    }
                }
                Std::PM | Std::Pm => {
                    let p = value.get(..2)?;
                    let (up, low) = if std == Std::PM { (b"PM", b"AM") } else { (b"pm", b"am") };
                    if p == up {
                        pm = true;
                    } else if p == low {
                        am = true;
                    } else {
                        return None;
                    }
                    value = &value[2..];
                }
                std if std.is_numeric_zone() => {
                    if matches!(std, Std::ISO8601TZ | Std::ISO8601ShortTZ | Std::ISO8601ColonTZ)
                        && value.first() == Some(&b'Z')
                    {
                        value = &value[1..];
                        utc = true;
                        return Some(());
                    }
                    let (sign, hh, mm, ss, rest): (u8, &[u8], &[u8], &[u8], &[u8]) = match std {
                        Std::ISO8601ColonTZ | Std::NumColonTZ => {
                            if value.len() < 6 || value[3] != b':' {
                                return None;
                            }
                            (value[0], &value[1..3], &value[4..6], b"00", &value[6..])
                        }
                        Std::NumShortTZ | Std::ISO8601ShortTZ => {
                            if value.len() < 3 {
                                return None;
                            }
                            (value[0], &value[1..3], b"00", b"00", &value[3..])
                        }
                        Std::ISO8601ColonSecondsTZ | Std::NumColonSecondsTZ => {
                            if value.len() < 9 || value[3] != b':' || value[6] != b':' {
                                return None;
                            }
                            (value[0], &value[1..3], &value[4..6], &value[7..9], &value[9..])
                        }
                        Std::ISO8601SecondsTZ | Std::NumSecondsTz => {
                            if value.len() < 7 {
                                return None;
                            }
                            (value[0], &value[1..3], &value[3..5], &value[5..7], &value[7..])
                        }
                        _ => {
                            if value.len() < 5 {
                                return None;
                            }
                            (value[0], &value[1..3], &value[3..5], b"00", &value[5..])
                        }
                    };
                    value = rest;
                    let (h, m, s) = (atoi(hh)?, atoi(mm)?, atoi(ss)?);
                    let off = (h * 60 + m) * 60 + s;
                    zone_offset = Some(match sign {
                        b'+' => off,
                        b'-' => -off,
                        _ => return None,
                    });
                }
                Std::TZ => {
                    if value.starts_with(b"UTC") {
                        utc = true;
                        value = &value[3..];
                        return Some(());
                    }
                    let n = parse_time_zone(value)?;
                    zone_name = value[..n].to_vec();
                    value = &value[n..];
                }
                Std::FracSecond0(digits, _) => {
                    let n = 1 + digits;
                    if value.len() < n {
                        return None;
                    }
                    match parse_nanos(value, n) {
                        Ok(ns) => nsec = ns,
                        Err(e) if e.ends_with("range") => range_err = Some(e),
                        Err(_) => return None,
                    }
                    value = &value[n..];
                }
                Std::FracSecond9(..) => {
                    if value.len() < 2 || !matches!(value[0], b'.' | b',') || !value[1].is_ascii_digit() {
                        return Some(());
                    }
                    let mut i = 0;
                    while i < 9 && i + 1 < value.len() && value[i + 1].is_ascii_digit() {
                        i += 1;
                    }
                    match parse_nanos(value, 1 + i) {
                        Ok(ns) => nsec = ns,
                        Err(e) if e.ends_with("range") => range_err = Some(e),
                        Err(_) => return None,
                    }
                    value = &value[1 + i..];
                }
                _ => {}
            }
            Some(())
        })();
        if let Some(why) = range_err {
            return Err(parse_error(why));
        }
        ok.ok_or_else(bad)?;
    }
    if pm && hour < 12 {
        hour += 12;
    } else if am && hour == 12 {
        hour = 0;
    }
    if yday >= 0 {
        let mut d = 0;
        let mut m = 0;
        if is_leap(year) {
            if yday == 31 + 29 {
                m = 2;
                d = 29;
            } else if yday > 31 + 29 {
                yday -= 1;
            }
        }
        if !(1..=365).contains(&yday) {
            return Err(parse_error("day-of-year out of range"));
        }
        if m == 0 {
            const BEFORE: [i64; 13] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];
            m = (yday - 1) / 31 + 1;
            if BEFORE[m as usize] < yday {
                m += 1;
            }
            d = yday - BEFORE[(m - 1) as usize];
        }
        if month >= 0 && month != m {
            return Err(parse_error("day-of-year does not match month"));
        }
        month = m;
        if day >= 0 && day != d {
            return Err(parse_error("day-of-year does not match day"));
        }
        day = d;
    } else {
        if month < 0 {
            month = 1;
        }
        if day < 0 {
            day = 1;
        }
    }
    if day < 1 || day > days_in(month, year) {
        return Err(parse_error("day out of range"));
    }
    if utc {
        return Ok(date(year, month, day, hour, min, sec, nsec, Loc::Utc));
    }
    let name = String::from_utf8_lossy(&zone_name).into_owned();
    if let Some(off) = zone_offset {
        let mut t = date(year, month, day, hour, min, sec, nsec, Loc::Utc);
        t.sec = t.sec.wrapping_sub(off);
        // The local zone when it has this offset (and name) at that time, else a fixed zone.
        let z = loc.lookup(t.sec);
        if i64::from(z.offset) == off && (name.is_empty() || z.name == name) {
            t.loc = loc.clone();
            return Ok(t);
        }
        t.loc = Loc::Fixed { abbr: name.into(), offset: off as i32 };
        return Ok(t);
    }
    if !name.is_empty() {
        let mut t = date(year, month, day, hour, min, sec, nsec, Loc::Utc);
        if let Some(off) = loc.lookup_name(&name, t.sec) {
            t.sec = t.sec.wrapping_sub(i64::from(off));
            t.loc = loc.clone();
            return Ok(t);
        }
        // An unknown abbreviation: offset zero, except "GMT+h" (checked by parse_time_zone).
        let offset = if name.len() > 3 && name.starts_with("GMT") {
            atoi(&name.as_bytes()[3..]).unwrap_or(0).wrapping_mul(3600) as i32
        } else {
            0
        };
        t.loc = Loc::Fixed { abbr: name.into(), offset };
        return Ok(t);
    }
    Ok(date(year, month, day, hour, min, sec, nsec, loc.clone()))
}

/// Go's `time.ParseDuration`: "300ms", "-1.5h", "2h45m". Errors do not quote the input.
pub(crate) fn parse_duration(s: &[u8]) -> Result<i64, String> {
    let invalid = || "time: invalid duration".to_owned();
    let mut s = s;
    let mut neg = false;
    if let Some(&c @ (b'-' | b'+')) = s.first() {
        neg = c == b'-';
        s = &s[1..];
    }
    if s == b"0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut d: u64 = 0;
    while !s.is_empty() {
        if !(s[0] == b'.' || s[0].is_ascii_digit()) {
            return Err(invalid());
        }
        let before = s.len();
        let (v, rest) = leading_int(s).ok_or_else(invalid)?;
        s = rest;
        let pre = before != s.len();
        let (mut f, mut scale, mut post) = (0u64, 1f64, false);
        if s.first() == Some(&b'.') {
            s = &s[1..];
            let before = s.len();
            // `leadingFraction`: stops gaining precision on overflow.
            let mut overflow = false;
            let mut i = 0;
            while i < s.len() && s[i].is_ascii_digit() {
                if !overflow {
                    if f > (i64::MAX as u64) / 10 {
                        overflow = true;
                    } else {
                        let y = f * 10 + u64::from(s[i] - b'0');
                        if y > 1 << 63 {
                            overflow = true;
                        } else {
                            f = y;
                            scale *= 10.0;
                        }
                    }
                }
                i += 1;
            }
            s = &s[i..];
            post = before != s.len();
        }
        if !pre && !post {
            return Err(invalid());
        }
        let i = s.iter().position(|&c| c == b'.' || c.is_ascii_digit()).unwrap_or(s.len());
        if i == 0 {
            return Err("time: missing unit in duration".into());
        }
        let unit: u64 = match &s[..i] {
            b"ns" => 1,
            // "µs" (micro sign) and "μs" (Greek mu), as UTF-8.
            b"us" | b"\xc2\xb5s" | b"\xce\xbcs" => 1_000,
            b"ms" => 1_000_000,
            b"s" => 1_000_000_000,
            b"m" => 60_000_000_000,
            b"h" => 3_600_000_000_000,
            _ => return Err("time: unknown unit in duration".into()),
        };
        s = &s[i..];
        if v > (1u64 << 63) / unit {
            return Err(invalid());
        }
        let mut v = v * unit;
        if f > 0 {
            v += (f as f64 * (unit as f64 / scale)) as u64;
            if v > 1 << 63 {
                return Err(invalid());
            }
        }
        d = d.checked_add(v).filter(|&d| d <= 1 << 63).ok_or_else(invalid)?;
    }
    if neg {
        return Ok((d as i64).wrapping_neg());
    }
    if d > i64::MAX as u64 {
        return Err(invalid());
    }
    Ok(d as i64)
}
