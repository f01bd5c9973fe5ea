//! Go's `time.Time` text forms, as far as sops uses them.
//!
//! * YAML timestamps are parsed with yaml.v3's layouts (`resolve.go`, `allowedTimestampFormats`)
//!   and become `type:time` values whose plaintext is `MarshalText` = RFC 3339 with nanoseconds.
//! * `lastmodified` is written as RFC 3339 in UTC, and the MAC's AAD is that timestamp re-parsed
//!   and re-formatted (`time.Parse(RFC3339, s).Format(RFC3339)`), which drops fractional seconds
//!   and turns a zero offset into `Z`.
//!
//! Go prints `Z` for any zero offset when formatting with `Z07:00`, whatever the location.

use std::fmt::Write;
use std::time::{SystemTime, UNIX_EPOCH};

/// An instant plus the UTC offset it was written with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GoTime {
    /// Seconds since the Unix epoch (UTC).
    unix: i64,
    nanos: u32,
    /// Offset from UTC in seconds, as written.
    offset: i32,
}

impl GoTime {
    /// Now, in UTC, truncated to whole seconds (what `lastmodified` holds).
    pub fn now_utc() -> Self {
        let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        Self { unix: since.as_secs() as i64, nanos: 0, offset: 0 }
    }

    pub fn from_unix(unix: i64, nanos: u32, offset: i32) -> Self {
        Self { unix, nanos, offset }
    }

    pub fn unix(&self) -> i64 {
        self.unix
    }

    /// `Format(time.RFC3339)`: no fractional seconds.
    pub fn rfc3339(&self) -> String {
        self.format(false)
    }

    /// `Format(time.RFC3339Nano)`: fractional seconds with trailing zeros removed.
    pub fn rfc3339_nano(&self) -> String {
        self.format(true)
    }

    /// `MarshalText`: RFC 3339 with nanoseconds; Go refuses years outside 0000–9999.
    pub fn marshal_text(&self) -> Option<String> {
        let (year, ..) = self.civil();
        (0..=9999).contains(&year).then(|| self.rfc3339_nano())
    }

    fn civil(&self) -> (i64, u32, u32, u32, u32, u32) {
        let local = self.unix + i64::from(self.offset);
        let days = local.div_euclid(86_400);
        let secs = local.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        (y, m, d, (secs / 3600) as u32, ((secs / 60) % 60) as u32, (secs % 60) as u32)
    }

    fn format(&self, nano: bool) -> String {
        let (y, mo, d, h, mi, s) = self.civil();
        let mut out = String::with_capacity(35);
        if y < 0 {
            let _ = write!(out, "-{:04}", -y);
        } else {
            let _ = write!(out, "{y:04}");
        }
        let _ = write!(out, "-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}");
        if nano && self.nanos != 0 {
            let frac = format!("{:09}", self.nanos);
            out.push('.');
            out.push_str(frac.trim_end_matches('0'));
        }
        if self.offset == 0 {
            out.push('Z');
        } else {
            let sign = if self.offset < 0 { '-' } else { '+' };
            let abs = self.offset.unsigned_abs();
            let _ = write!(out, "{sign}{:02}:{:02}", abs / 3600, (abs / 60) % 60);
        }
        out
    }

    /// `time.Parse(time.RFC3339, s)` as Go ≥ 1.20 does it: two-digit fields, optional
    /// fractional seconds (`.` or `,`), `Z` or `±hh:mm`.
    pub fn parse_rfc3339(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        let mut p = Cursor { b, i: 0 };
        let year = p.digits(4, 4)?;
        p.lit(b'-')?;
        let month = p.digits(2, 2)?;
        p.lit(b'-')?;
        let day = p.digits(2, 2)?;
        p.lit(b'T')?;
        let hour = p.digits(2, 2)?;
        p.lit(b':')?;
        let min = p.digits(2, 2)?;
        p.lit(b':')?;
        let sec = p.digits(2, 2)?;
        let nanos = p.fraction()?;
        let offset = p.zone()?;
        if p.i != b.len() {
            return None;
        }
        Self::assemble(year as i64, month, day, hour, min, sec, nanos, offset)
    }

    /// yaml.v3's timestamp resolution (`parseTimestamp`): `2006-1-2T15:4:5.999999999Z07:00`
    /// (also with `t`), `2006-1-2 15:4:5.999999999` (UTC) and `2006-1-2` (UTC midnight).
    pub fn parse_yaml(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        // Quick check shared by every layout: exactly four digits, then '-'.
        if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
            return None;
        }
        let mut p = Cursor { b, i: 0 };
        let year = p.digits(4, 4)?;
        p.lit(b'-')?;
        let month = p.digits(1, 2)?;
        p.lit(b'-')?;
        let day = p.digits(1, 2)?;
        if p.i == b.len() {
            return Self::assemble(year as i64, month, day, 0, 0, 0, 0, 0);
        }
        let zoned = match b[p.i] {
            b'T' | b't' => true,
            b' ' => false,
            _ => return None,
        };
        if zoned {
            p.i += 1;
        } else {
            // A space in a Go layout matches one or more spaces.
            while p.i < b.len() && b[p.i] == b' ' {
                p.i += 1;
            }
        }
        let hour = p.digits(1, 2)?;
        p.lit(b':')?;
        let min = p.digits(1, 2)?;
        p.lit(b':')?;
        let sec = p.digits(1, 2)?;
        let nanos = p.fraction()?;
        let offset = if zoned { p.zone()? } else { 0 };
        if p.i != b.len() {
            return None;
        }
        Self::assemble(year as i64, month, day, hour, min, sec, nanos, offset)
    }

    #[allow(clippy::too_many_arguments)]
    fn assemble(
        year: i64,
        month: u32,
        day: u32,
        hour: u32,
        min: u32,
        sec: u32,
        nanos: u32,
        offset: i32,
    ) -> Option<Self> {
        if !(1..=12).contains(&month)
            || day < 1
            || day > days_in_month(year, month)
            || hour > 23
            || min > 59
            || sec > 59
        {
            return None;
        }
        let days = days_from_civil(year, month, day);
        let local = days * 86_400 + i64::from(hour) * 3600 + i64::from(min) * 60 + i64::from(sec);
        Some(Self { unix: local - i64::from(offset), nanos, offset })
    }
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, min: usize, max: usize) -> Option<u32> {
        let start = self.i;
        while self.i < self.b.len() && self.i - start < max && self.b[self.i].is_ascii_digit() {
            self.i += 1;
        }
        if self.i - start < min {
            return None;
        }
        std::str::from_utf8(&self.b[start..self.i]).ok()?.parse().ok()
    }

    fn lit(&mut self, c: u8) -> Option<()> {
        (self.b.get(self.i) == Some(&c)).then(|| self.i += 1)
    }

    /// Optional `.ddd` (or `,ddd`): Go keeps the first nine digits and ignores the rest.
    fn fraction(&mut self) -> Option<u32> {
        match (self.b.get(self.i), self.b.get(self.i + 1)) {
            (Some(b'.' | b','), Some(d)) if d.is_ascii_digit() => {}
            _ => return Some(0),
        }
        self.i += 1;
        let start = self.i;
        while self.i < self.b.len() && self.b[self.i].is_ascii_digit() {
            self.i += 1;
        }
        let digits = &self.b[start..self.i];
        let mut nanos = 0u32;
        for k in 0..9 {
            nanos = nanos * 10 + digits.get(k).map_or(0, |d| u32::from(d - b'0'));
        }
        Some(nanos)
    }

    /// `Z` or `±hh:mm`.
    fn zone(&mut self) -> Option<i32> {
        match self.b.get(self.i)? {
            b'Z' => {
                self.i += 1;
                Some(0)
            }
            sign @ (b'+' | b'-') => {
                let negative = *sign == b'-';
                self.i += 1;
                let h = self.digits(2, 2)?;
                self.lit(b':')?;
                let m = self.digits(2, 2)?;
                if h > 24 || m > 60 {
                    return None;
                }
                let off = (h * 3600 + m * 60) as i32;
                Some(if negative { -off } else { off })
            }
            _ => None,
        }
    }
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_layouts() {
        let t = GoTime::parse_yaml("2024-01-02T03:04:05Z").expect("rfc3339");
        assert_eq!(t.rfc3339_nano(), "2024-01-02T03:04:05Z");
        assert_eq!(GoTime::parse_yaml("2024-01-02").expect("date").rfc3339_nano(), "2024-01-02T00:00:00Z");
        assert_eq!(GoTime::parse_yaml("2024-1-2 3:4:5.5").expect("spaced").rfc3339_nano(), "2024-01-02T03:04:05.5Z");
        assert_eq!(
            GoTime::parse_yaml("2001-12-14t21:59:43.10-05:00").expect("lower t").rfc3339_nano(),
            "2001-12-14T21:59:43.1-05:00"
        );
        assert_eq!(
            GoTime::parse_yaml("2024-01-02T03:04:05+00:00").expect("zero offset").rfc3339(),
            "2024-01-02T03:04:05Z"
        );
        for bad in
            ["2024-13-01", "2024-02-30", "24-01-02", "2024-01-02T03:04", "2024-01-02x", "2001-12-14 21:59:43.10 -5"]
        {
            assert!(GoTime::parse_yaml(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn rfc3339_is_strict() {
        assert!(GoTime::parse_rfc3339("2024-1-02T03:04:05Z").is_none());
        let t = GoTime::parse_rfc3339("2026-11-23T21:20:02.987+00:00").expect("fraction and offset");
        assert_eq!(t.rfc3339(), "2026-11-23T21:20:02Z");
        let t = GoTime::parse_rfc3339("2026-11-23T22:20:02+01:00").expect("offset");
        assert_eq!(t.rfc3339(), "2026-11-23T22:20:02+01:00");
        assert_eq!(t.unix(), GoTime::parse_rfc3339("2026-11-23T21:20:02Z").unwrap().unix());
    }

    #[test]
    fn civil_round_trip() {
        for days in [-800_000i64, -1, 0, 1, 11_016, 19_724, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(GoTime::from_unix(0, 0, 0).rfc3339(), "1970-01-01T00:00:00Z");
    }
}
