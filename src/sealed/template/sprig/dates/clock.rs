//! Go's `time.Time` and `time.Duration` arithmetic (go1.19 `time/time.go`): the calendar
//! computed from "absolute" seconds with Go's own wrapping integer arithmetic, so that every
//! field (also of absurd times such as `toDate` of year 0 or `AddDate` by huge counts) comes out
//! as Go's does, without panicking.

use super::zone::Loc;

pub(crate) const SECONDS_PER_DAY: u64 = 86_400;
const ABSOLUTE_ZERO_YEAR: i64 = -292_277_022_399;
/// `unixToInternal`: seconds from year 1 to 1970.
pub(crate) const UNIX_TO_INTERNAL: i64 = (1969 * 365 + 1969 / 4 - 1969 / 100 + 1969 / 400) * 86_400;
/// `absoluteToInternal`: `(absoluteZeroYear - 1) * 365.2425 * secondsPerDay`.
const ABSOLUTE_TO_INTERNAL: i64 = (ABSOLUTE_ZERO_YEAR - 1) * 31_556_952;
const DAYS_PER_400_YEARS: u64 = 365 * 400 + 97;
const DAYS_PER_100_YEARS: u64 = 365 * 100 + 24;
const DAYS_PER_4_YEARS: u64 = 365 * 4 + 1;
const DAYS_BEFORE: [i64; 13] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];

pub(crate) const NANOS_PER_SEC: i64 = 1_000_000_000;

pub(crate) const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
pub(crate) const DAY_NAMES: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/// A Go `time.Time`: Unix seconds and nanoseconds, a location, and the monotonic clock reading
/// that `time.Now` attaches (nanoseconds since the process started; `Time.String` prints it).
#[derive(Clone)]
pub(crate) struct GoTime {
    pub sec: i64,
    pub nsec: u32,
    pub loc: Loc,
    pub mono: Option<i64>,
}

/// A date and clock in a location, as `Time.Date` and `Time.Clock` give them.
pub(crate) struct Civil {
    pub year: i64,
    pub month: i64,
    pub day: i64,
    /// Day of the year, 0-based (Go's internal `yday`).
    pub yday: i64,
    pub hour: i64,
    pub min: i64,
    pub sec: i64,
    pub weekday: i64,
    pub zone_name: String,
    pub offset: i32,
}

impl GoTime {
    pub(crate) fn unix(sec: i64, nsec: u32, loc: Loc) -> Self {
        GoTime { sec, nsec, loc, mono: None }
    }

    /// The zero `time.Time`: January 1, year 1, 00:00:00 UTC.
    pub(crate) fn zero() -> Self {
        Self::unix(UNIX_TO_INTERNAL.wrapping_neg(), 0, Loc::Utc)
    }

    /// Go's `locabs`: zone name, offset and absolute seconds.
    fn locabs(&self) -> (String, i32, u64) {
        let z = self.loc.lookup(self.sec);
        let abs = self
            .sec
            .wrapping_add(i64::from(z.offset))
            .wrapping_add(UNIX_TO_INTERNAL)
            .wrapping_sub(ABSOLUTE_TO_INTERNAL) as u64;
        (z.name, z.offset, abs)
    }

    pub(crate) fn civil(&self) -> Civil {
        let (zone_name, offset, abs) = self.locabs();
        let (year, month, day, yday) = abs_date(abs);
        let (hour, min, sec) = abs_clock(abs);
        Civil { year, month, day, yday, hour, min, sec, weekday: abs_weekday(abs), zone_name, offset }
    }

    pub(crate) fn is_zero(&self) -> bool {
        self.sec.wrapping_add(UNIX_TO_INTERNAL) == 0 && self.nsec == 0
    }

    /// `t.In(loc)`, `t.UTC()`, `t.Local()`: the same instant elsewhere, without the monotonic
    /// reading.
    pub(crate) fn with_loc(&self, loc: Loc) -> Self {
        GoTime { loc, mono: None, ..self.clone() }
    }

    /// `Time.Add`.
    pub(crate) fn add(&self, d: i64) -> Self {
        let mut dsec = d / NANOS_PER_SEC;
        let mut nsec = i64::from(self.nsec) + d % NANOS_PER_SEC;
        if nsec >= NANOS_PER_SEC {
            dsec += 1;
            nsec -= NANOS_PER_SEC;
        } else if nsec < 0 {
            dsec -= 1;
            nsec += NANOS_PER_SEC;
        }
        let mono = self.mono.and_then(|m| m.checked_add(d));
        GoTime { sec: self.sec.wrapping_add(dsec), nsec: nsec as u32, loc: self.loc.clone(), mono }
    }

    /// `Time.Sub`, saturating at the Duration range as Go does.
    pub(crate) fn sub(&self, u: &GoTime) -> i64 {
        if let (Some(a), Some(b)) = (self.mono, u.mono) {
            return a.checked_sub(b).unwrap_or(if a > b { i64::MAX } else { i64::MIN });
        }
        let d = (i128::from(self.sec) - i128::from(u.sec)) * i128::from(NANOS_PER_SEC)
            + (i128::from(self.nsec) - i128::from(u.nsec));
        d.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }

    /// Go's ordering of instants (`Before`, `After`, `Equal`): by the monotonic readings when
    /// both have one, else by wall time.
    pub(crate) fn cmp(&self, u: &GoTime) -> std::cmp::Ordering {
        if let (Some(a), Some(b)) = (self.mono, u.mono) {
            return a.cmp(&b);
        }
        (self.sec, self.nsec).cmp(&(u.sec, u.nsec))
    }

    /// `Time.AddDate`.
    pub(crate) fn add_date(&self, years: i64, months: i64, days: i64) -> Self {
        let c = self.civil();
        date(
            c.year.wrapping_add(years),
            c.month.wrapping_add(months),
            c.day.wrapping_add(days),
            c.hour,
            c.min,
            c.sec,
            i64::from(self.nsec),
            self.loc.clone(),
        )
    }

    /// Seconds since the zero time, as Go's `Truncate`/`Round` measure.
    fn internal(&self) -> i64 {
        self.sec.wrapping_add(UNIX_TO_INTERNAL)
    }

    /// Go's `div(t, d)`: the remainder of `t` (since the zero time) modulo `d`, `d > 0`.
    fn rem(&self, d: i64) -> i64 {
        let sec = i128::from(self.internal());
        let total = sec * i128::from(NANOS_PER_SEC) + i128::from(self.nsec);
        total.rem_euclid(i128::from(d)) as i64
    }

    /// `Time.Truncate`.
    pub(crate) fn truncate(&self, d: i64) -> Self {
        let t = GoTime { mono: None, ..self.clone() };
        if d <= 0 {
            return t;
        }
        let r = t.rem(d);
        t.add(-r)
    }

    /// `Time.Round`: halves round up.
    pub(crate) fn round(&self, d: i64) -> Self {
        let t = GoTime { mono: None, ..self.clone() };
        if d <= 0 {
            return t;
        }
        let r = t.rem(d);
        if (r as u64).wrapping_add(r as u64) < d as u64 { t.add(-r) } else { t.add(d - r) }
    }
}

pub(crate) fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

pub(crate) fn days_in(month: i64, year: i64) -> i64 {
    if month == 2 && is_leap(year) {
        return 29;
    }
    let m = month.clamp(1, 12) as usize;
    DAYS_BEFORE[m] - DAYS_BEFORE[m - 1]
}

/// Go's `absDate`: year, month (1-12), day (1-31), 0-based day of the year.
fn abs_date(abs: u64) -> (i64, i64, i64, i64) {
    let mut d = abs / SECONDS_PER_DAY;
    let mut n = d / DAYS_PER_400_YEARS;
    let mut y = 400 * n;
    d -= DAYS_PER_400_YEARS * n;
    n = d / DAYS_PER_100_YEARS;
    n -= n >> 2;
    y += 100 * n;
    d -= DAYS_PER_100_YEARS * n;
    n = d / DAYS_PER_4_YEARS;
    y += 4 * n;
    d -= DAYS_PER_4_YEARS * n;
    n = d / 365;
    n -= n >> 2;
    y += n;
    d -= 365 * n;
    let year = (y as i64).wrapping_add(ABSOLUTE_ZERO_YEAR);
    let yday = d as i64;
    let mut day = yday;
    if is_leap(year) {
        if day == 31 + 29 - 1 {
            return (year, 2, 29, yday);
        }
        if day > 31 + 29 - 1 {
            day -= 1;
        }
    }
    let mut month = (day / 31) as usize;
    let end = DAYS_BEFORE[month + 1];
    let begin = if day >= end {
        month += 1;
        end
    } else {
        DAYS_BEFORE[month]
    };
    (year, month as i64 + 1, day - begin + 1, yday)
}

fn abs_clock(abs: u64) -> (i64, i64, i64) {
    let sec = (abs % SECONDS_PER_DAY) as i64;
    (sec / 3600, sec % 3600 / 60, sec % 60)
}

fn abs_weekday(abs: u64) -> i64 {
    // January 1 of the absolute year was a Monday.
    let sec = abs.wrapping_add(SECONDS_PER_DAY) % (7 * SECONDS_PER_DAY);
    (sec / SECONDS_PER_DAY) as i64
}

/// Go's `norm`: `hi*base + lo` with `0 <= lo < base`.
fn norm(hi: i64, lo: i64, base: i64) -> (i64, i64) {
    let (mut hi, mut lo) = (hi, lo);
    if lo < 0 {
        let n = (lo.wrapping_neg().wrapping_sub(1)) / base + 1;
        hi = hi.wrapping_sub(n);
        lo = lo.wrapping_add(n.wrapping_mul(base));
    }
    if lo >= base {
        let n = lo / base;
        hi = hi.wrapping_add(n);
        lo = lo.wrapping_sub(n.wrapping_mul(base));
    }
    (hi, lo)
}

fn days_since_epoch(year: i64) -> u64 {
    let mut y = year.wrapping_sub(ABSOLUTE_ZERO_YEAR) as u64;
    let mut n = y / 400;
    y -= 400 * n;
    let mut d = DAYS_PER_400_YEARS.wrapping_mul(n);
    n = y / 100;
    y -= 100 * n;
    d = d.wrapping_add(DAYS_PER_100_YEARS * n);
    n = y / 4;
    y -= 4 * n;
    d = d.wrapping_add(DAYS_PER_4_YEARS * n);
    d.wrapping_add(365 * y)
}

/// Go's `time.Date`: normalises out-of-range fields, then finds the zone offset in effect.
#[allow(clippy::too_many_arguments)]
pub(crate) fn date(year: i64, month: i64, day: i64, hour: i64, min: i64, sec: i64, nsec: i64, loc: Loc) -> GoTime {
    let (year, m) = norm(year, month.wrapping_sub(1), 12);
    let month = m + 1;
    let (sec, nsec) = norm(sec, nsec, NANOS_PER_SEC);
    let (min, sec) = norm(min, sec, 60);
    let (hour, min) = norm(hour, min, 60);
    let (day, hour) = norm(day, hour, 24);
    let mut d = days_since_epoch(year);
    d = d.wrapping_add(DAYS_BEFORE[(month - 1) as usize] as u64);
    if is_leap(year) && month >= 3 {
        d = d.wrapping_add(1);
    }
    d = d.wrapping_add(day.wrapping_sub(1) as u64);
    let mut abs = d.wrapping_mul(SECONDS_PER_DAY);
    abs = abs.wrapping_add((hour * 3600 + min * 60 + sec) as u64);
    let mut unix = (abs as i64).wrapping_add(ABSOLUTE_TO_INTERNAL).wrapping_sub(UNIX_TO_INTERNAL);
    let z = loc.lookup(unix);
    if z.offset != 0 {
        let utc = unix.wrapping_sub(i64::from(z.offset));
        let offset = if utc < z.start || utc >= z.end { loc.lookup(utc).offset } else { z.offset };
        unix = unix.wrapping_sub(i64::from(offset));
    }
    GoTime::unix(unix, nsec as u32, loc)
}

/// Go's `Duration.String`: "72h3m0.5s", "1.5ms", "0s".
pub(crate) fn duration_string(d: i64) -> String {
    let neg = d < 0;
    let mut u = d.unsigned_abs();
    let mut buf: Vec<u8> = Vec::with_capacity(32);
    // Built backwards, as Go does.
    if u < 1_000_000_000 {
        let prec;
        buf.push(b's');
        if u == 0 {
            return "0s".into();
        } else if u < 1_000 {
            prec = 0;
            buf.push(b'n');
        } else if u < 1_000_000 {
            prec = 3;
            // 'µ' (U+00B5), its two UTF-8 bytes reversed.
            buf.extend_from_slice(&[0xb5, 0xc2]);
        } else {
            prec = 6;
            buf.push(b'm');
        }
        u = frac(&mut buf, u, prec);
        int(&mut buf, u);
    } else {
        buf.push(b's');
        u = frac(&mut buf, u, 9);
        int(&mut buf, u % 60);
        u /= 60;
        if u > 0 {
            buf.push(b'm');
            int(&mut buf, u % 60);
            u /= 60;
            if u > 0 {
                buf.push(b'h');
                int(&mut buf, u);
            }
        }
    }
    if neg {
        buf.push(b'-');
    }
    buf.reverse();
    String::from_utf8(buf).unwrap_or_default()
}

/// Go's `fmtFrac`, appending reversed digits.
fn frac(buf: &mut Vec<u8>, mut v: u64, prec: usize) -> u64 {
    let mut print = false;
    for _ in 0..prec {
        let digit = (v % 10) as u8;
        print = print || digit != 0;
        if print {
            buf.push(b'0' + digit);
        }
        v /= 10;
    }
    if print {
        buf.push(b'.');
    }
    v
}

fn int(buf: &mut Vec<u8>, mut v: u64) {
    if v == 0 {
        buf.push(b'0');
    }
    while v > 0 {
        buf.push(b'0' + (v % 10) as u8);
        v /= 10;
    }
}

/// Go's `Duration.Round`.
pub(crate) fn duration_round(d: i64, m: i64) -> i64 {
    if m <= 0 {
        return d;
    }
    let mut r = d % m;
    let less_than_half = |x: i64, y: i64| (x as u64).wrapping_add(x as u64) < y as u64;
    if d < 0 {
        r = -r;
        if less_than_half(r, m) {
            return d + r;
        }
        let d1 = d.wrapping_sub(m).wrapping_add(r);
        return if d1 < d { d1 } else { i64::MIN };
    }
    if less_than_half(r, m) {
        return d - r;
    }
    let d1 = d.wrapping_add(m - r);
    if d1 > d { d1 } else { i64::MAX }
}
