//! Sprig's date functions (sprig v3.2.3 `date.go`): `now`, `date`, `dateInZone`, `htmlDate`,
//! `htmlDateInZone`, `toDate`, `mustToDate`, `dateModify`, `mustDateModify`, `ago`,
//! `duration`, `durationRound`, `unixEpoch` and their snake_case aliases; the `time.Time`,
//! `time.Duration`, `time.Month` and `time.Weekday` values they produce, with the methods
//! templates may call on them.
//!
//! Divergences from Go, all of which only turn Go's output into an error:
//! * parse and duration errors (`mustToDate`, `mustDateModify`) do not quote the value;
//! * `time.Time` methods that take or return types templates cannot build or print sensibly
//!   (`In`, `Location`, `Zone`, `Date`, `Clock`, `ISOWeek`, `Marshal*`, ...) are refused, naming
//!   the method;
//! * `printf "%d"` of a `time.Month` and `eq` on these values are errors in sealops (the shared
//!   printer and comparisons only know the basic kinds).
//!
//! One leniency: a `time.Duration` parameter (`.Add`, `.Round`, `.Truncate`) also accepts an
//! `int`, because the executor cannot tell an untyped constant (which Go converts) from an `int`
//! variable (which Go refuses).
//!
//! `now` carries a monotonic clock reading as Go's `time.Now` does, so printing it shows Go's
//! ` m=+S.NNNNNNNNN` suffix; sealops counts it from the first clock read of the process (Go from
//! process start). `dateModify` and `Add` keep it, `date`, `UTC`, `Local` and `Round` drop it.
//!
//! Time zones are Go's `time.LoadLocation`: "UTC", "Local" (`$TZ`, else `/etc/localtime`) and
//! the system zoneinfo files; Sprig falls back to UTC for a zone it cannot load, and so do we.

mod clock;
mod layout;
mod zone;

use std::rc::Rc;
use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::super::funcs::{Ctx, FnError, FnResult, Func, Param, str_of};
use super::super::value::{Object, Value};
use clock::{GoTime, NANOS_PER_SEC, duration_round, duration_string};
use zone::Loc;

/// The function `name` of this family, if implemented.
pub(super) fn func(name: &str) -> Option<Func> {
    use Param::*;
    let f =
        |params: &'static [Param], call: fn(&Ctx, Vec<Value>) -> FnResult| Some(Func { params, variadic: None, call });
    match name {
        "now" => f(&[], |_, _| Ok(time_value(now()))),
        "date" => f(&[Str, Any], |c, a| date_in_zone(c, &a[0], &a[1], b"Local")),
        "dateInZone" | "date_in_zone" => f(&[Str, Any, Str], |c, a| date_in_zone(c, &a[0], &a[1], &str_of(&a[2]))),
        "htmlDate" => f(&[Any], |c, a| date_in_zone(c, &Value::text("2006-01-02"), &a[0], b"Local")),
        "htmlDateInZone" => f(&[Any, Str], |c, a| date_in_zone(c, &Value::text("2006-01-02"), &a[0], &str_of(&a[1]))),
        "toDate" => f(&[Str, Str], |_, a| {
            let t = layout::parse(&str_of(&a[0]), &str_of(&a[1]), &local()).unwrap_or_else(|_| GoTime::zero());
            Ok(time_value(t))
        }),
        "mustToDate" => f(&[Str, Str], |_, a| {
            let t = layout::parse(&str_of(&a[0]), &str_of(&a[1]), &local()).map_err(FnError::Go)?;
            Ok(time_value(t))
        }),
        "dateModify" | "date_modify" => f(&[Str, Any], |_, a| {
            let t = time_arg(&a[1])?;
            Ok(time_value(match layout::parse_duration(&str_of(&a[0])) {
                Ok(d) => t.add(d),
                Err(_) => t,
            }))
        }),
        "mustDateModify" | "must_date_modify" => f(&[Str, Any], |_, a| {
            let t = time_arg(&a[1])?;
            let d = layout::parse_duration(&str_of(&a[0])).map_err(FnError::Go)?;
            Ok(time_value(t.add(d)))
        }),
        "ago" => f(&[Any], |_, a| {
            let t = match &a[0] {
                Value::Object(o) if o.as_any().is::<TimeObj>() => time_arg(&a[0])?,
                Value::Int(n) | Value::Int64(n) => GoTime::unix(*n, 0, local()),
                _ => now(),
            };
            Ok(Value::text(&duration_string(duration_round(since(&t), NANOS_PER_SEC))))
        }),
        "duration" => f(&[Any], |_, a| {
            let n = match &a[0] {
                Value::Str(s) => parse_int(&String::from_utf8_lossy(s)),
                Value::Int64(n) => *n,
                _ => 0,
            };
            Ok(Value::text(&duration_string(n.wrapping_mul(NANOS_PER_SEC))))
        }),
        "durationRound" => f(&[Any], |_, a| {
            let d = match &a[0] {
                Value::Str(s) => layout::parse_duration(s).unwrap_or(0),
                Value::Int64(n) => *n,
                Value::Object(o) if o.as_any().is::<TimeObj>() => since(&time_arg(&a[0])?),
                _ => 0,
            };
            Ok(Value::text(&round_coarse(d)))
        }),
        "unixEpoch" => f(&[Any], |_, a| Ok(Value::text(&time_arg(&a[0])?.sec.to_string()))),
        _ => None,
    }
}

/// Sprig's `dateInZone`: a `time.Time` or Unix seconds (`int`, `int64`), anything else meaning
/// now, shown in `zone` (UTC when Go cannot load it).
fn date_in_zone(c: &Ctx, layout_arg: &Value, when: &Value, zone_name: &[u8]) -> FnResult {
    let t = match when {
        Value::Object(o) if o.as_any().is::<TimeObj>() => time_arg(when)?,
        Value::Int(n) | Value::Int64(n) => GoTime::unix(*n, 0, Loc::Utc),
        _ => now(),
    };
    let loc = std::str::from_utf8(zone_name).ok().and_then(zone::load).unwrap_or(Loc::Utc);
    c.bytes(layout::format(&t.with_loc(loc), &str_of(layout_arg)))
}

/// `strconv.ParseInt(s, 10, 64)` as Sprig's `duration` uses it: 0 on a syntax error, the
/// nearest bound when out of range.
fn parse_int(s: &str) -> i64 {
    match s.parse::<i64>() {
        Ok(n) => n,
        Err(e) => match e.kind() {
            std::num::IntErrorKind::PosOverflow => i64::MAX,
            std::num::IntErrorKind::NegOverflow => i64::MIN,
            _ => 0,
        },
    }
}

/// Sprig's `durationRound`: the largest whole unit (years of 365 days, months of 30) strictly
/// below the duration, or "0s".
fn round_coarse(d: i64) -> String {
    let u = d.unsigned_abs();
    const SECOND: u64 = 1_000_000_000;
    const UNITS: [(u64, &str); 6] = [
        (SECOND * 3600 * 24 * 365, "y"),
        (SECOND * 3600 * 24 * 30, "mo"),
        (SECOND * 3600 * 24, "d"),
        (SECOND * 3600, "h"),
        (SECOND * 60, "m"),
        (SECOND, "s"),
    ];
    UNITS
        .iter()
        .find(|(unit, _)| u > *unit)
        .map_or_else(|| "0s".to_owned(), |(unit, name)| format!("{}{name}", u / unit))
}

fn local() -> Loc {
    zone::local().unwrap_or(Loc::Utc)
}

/// The monotonic clock's origin: Go measures `m=` from process start; sealops from the first
/// time a template asks for the time, so the first `now` prints a reading close to zero.
fn mono_now() -> i64 {
    static START: OnceLock<Instant> = OnceLock::new();
    let start = *START.get_or_init(Instant::now);
    i64::try_from(start.elapsed().as_nanos()).unwrap_or(i64::MAX)
}

/// `time.Now()`: in `Local`, with a monotonic reading.
fn now() -> GoTime {
    let mono = mono_now();
    let (sec, nsec) = match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => (i64::try_from(d.as_secs()).unwrap_or(i64::MAX), d.subsec_nanos()),
        Err(e) => {
            let d = e.duration();
            let (s, n) = (i64::try_from(d.as_secs()).unwrap_or(i64::MAX), d.subsec_nanos());
            if n == 0 { (-s, 0) } else { (-s - 1, 1_000_000_000 - n) }
        }
    };
    GoTime { mono: Some(mono), ..GoTime::unix(sec, nsec, local()) }
}

/// `time.Since(t)`.
fn since(t: &GoTime) -> i64 {
    now().sub(t)
}

fn time_value(t: GoTime) -> Value {
    Value::Object(Rc::new(TimeObj(t)))
}

/// A `time.Time` parameter, checked as Go's reflect call does.
fn time_arg(v: &Value) -> Result<GoTime, FnError> {
    match v {
        Value::Object(o) => match o.as_any().downcast_ref::<TimeObj>() {
            Some(t) => Ok(t.0.clone()),
            None => Err(wrong_type("time.Time", v).into()),
        },
        Value::Nil => Err("invalid value; expected time.Time".into()),
        other => Err(wrong_type("time.Time", other).into()),
    }
}

fn wrong_type(want: &str, got: &Value) -> String {
    format!("wrong type for value; expected {want}; got {}", got.type_name())
}

fn arity(method: &str, args: &[Value], want: usize) -> Result<(), String> {
    if args.len() != want {
        return Err(format!("wrong number of args for {method}: want {want} got {}", args.len()));
    }
    Ok(())
}

fn string_param(v: &Value) -> Result<Vec<u8>, String> {
    match v {
        Value::Str(s) => Ok(s.to_vec()),
        other => Err(wrong_type("string", other)),
    }
}

fn int_param(v: &Value) -> Result<i64, String> {
    match v {
        Value::Int(n) => Ok(*n),
        other => Err(wrong_type("int", other)),
    }
}

/// A `time.Duration` parameter; an `int` is accepted too (see the module comment).
fn duration_param(v: &Value) -> Result<i64, String> {
    match v {
        Value::Int(n) => Ok(*n),
        Value::Object(o) => {
            o.as_any().downcast_ref::<DurationObj>().map(|d| d.0).ok_or_else(|| wrong_type("time.Duration", v))
        }
        other => Err(wrong_type("time.Duration", other)),
    }
}

fn time_param(v: &Value) -> Result<GoTime, String> {
    match v {
        Value::Object(o) => {
            o.as_any().downcast_ref::<TimeObj>().map(|t| t.0.clone()).ok_or_else(|| wrong_type("time.Time", v))
        }
        other => Err(wrong_type("time.Time", other)),
    }
}

/// A Go `time.Time`.
struct TimeObj(GoTime);

/// `time.Time`'s exported methods that sealops does not offer: they take a `*time.Location`,
/// return several results, or return bytes Go would print as a list of numbers.
const UNSUPPORTED_TIME_METHODS: &[&str] = &[
    "AppendFormat",
    "Clock",
    "Date",
    "GoString",
    "GobDecode",
    "GobEncode",
    "ISOWeek",
    "In",
    "Location",
    "MarshalBinary",
    "MarshalJSON",
    "MarshalText",
    "UnmarshalBinary",
    "UnmarshalJSON",
    "UnmarshalText",
    "Zone",
    "ZoneBounds",
];

impl TimeObj {
    fn string(&self) -> Vec<u8> {
        let t = &self.0;
        let mut s = layout::format(t, b"2006-01-02 15:04:05.999999999 -0700 MST");
        // Go's `Time.String` adds the monotonic reading as " m=±s.nnnnnnnnn".
        if let Some(m) = t.mono {
            let sign = if m < 0 { '-' } else { '+' };
            let m = m.unsigned_abs();
            s.extend_from_slice(format!(" m={sign}{}.{:09}", m / 1_000_000_000, m % 1_000_000_000).as_bytes());
        }
        s
    }

    fn call(&self, name: &str, args: &[Value]) -> Result<Value, String> {
        let t = &self.0;
        let civil = || t.civil();
        let no_args = |v: Value| arity(name, args, 0).map(|_| v);
        match name {
            "Format" => {
                arity(name, args, 1)?;
                Ok(Value::bytes(layout::format(t, &string_param(&args[0])?)))
            }
            "String" => {
                arity(name, args, 0)?;
                Ok(Value::bytes(self.string()))
            }
            "Unix" => no_args(Value::Int64(t.sec)),
            "UnixMilli" => no_args(Value::Int64(t.sec.wrapping_mul(1000).wrapping_add(i64::from(t.nsec / 1_000_000)))),
            "UnixMicro" => no_args(Value::Int64(t.sec.wrapping_mul(1_000_000).wrapping_add(i64::from(t.nsec / 1000)))),
            "UnixNano" => no_args(Value::Int64(t.sec.wrapping_mul(NANOS_PER_SEC).wrapping_add(i64::from(t.nsec)))),
            "UTC" => no_args(time_value(t.with_loc(Loc::Utc))),
            "Local" => no_args(time_value(t.with_loc(local()))),
            "Year" => no_args(Value::Int(civil().year)),
            "Month" => no_args(Value::Object(Rc::new(MonthObj(civil().month)))),
            "Day" => no_args(Value::Int(civil().day)),
            "Hour" => no_args(Value::Int(civil().hour)),
            "Minute" => no_args(Value::Int(civil().min)),
            "Second" => no_args(Value::Int(civil().sec)),
            "Nanosecond" => no_args(Value::Int(i64::from(t.nsec))),
            "Weekday" => no_args(Value::Object(Rc::new(WeekdayObj(civil().weekday)))),
            "YearDay" => no_args(Value::Int(civil().yday + 1)),
            "IsZero" => no_args(Value::Bool(t.is_zero())),
            "IsDST" => no_args(Value::Bool(t.loc.lookup(t.sec).dst)),
            "Add" => {
                arity(name, args, 1)?;
                Ok(time_value(t.add(duration_param(&args[0])?)))
            }
            "Truncate" | "Round" => {
                arity(name, args, 1)?;
                let d = duration_param(&args[0])?;
                Ok(time_value(if name == "Round" { t.round(d) } else { t.truncate(d) }))
            }
            "AddDate" => {
                arity(name, args, 3)?;
                let (y, m, d) = (int_param(&args[0])?, int_param(&args[1])?, int_param(&args[2])?);
                Ok(time_value(t.add_date(y, m, d)))
            }
            "Sub" => {
                arity(name, args, 1)?;
                Ok(Value::Object(Rc::new(DurationObj(t.sub(&time_param(&args[0])?)))))
            }
            "Before" | "After" | "Equal" => {
                arity(name, args, 1)?;
                let ord = t.cmp(&time_param(&args[0])?);
                Ok(Value::Bool(match name {
                    "Before" => ord.is_lt(),
                    "After" => ord.is_gt(),
                    _ => ord.is_eq(),
                }))
            }
            _ => Err(format!("method {name} of time.Time is not supported by sealops")),
        }
    }
}

impl Object for TimeObj {
    fn type_name(&self) -> &'static str {
        "time.Time"
    }

    fn kind(&self) -> &'static str {
        "struct"
    }

    fn format_v(&self) -> Vec<u8> {
        self.string()
    }

    /// `Time.MarshalJSON`: RFC 3339 with nanoseconds. Go fails for years outside 0..=9999;
    /// there `None` makes the encoder write `{}`.
    fn json(&self) -> Option<Vec<u8>> {
        let year = self.0.civil().year;
        if !(0..10000).contains(&year) {
            return None;
        }
        let mut out = b"\"".to_vec();
        out.extend(layout::format(&self.0, b"2006-01-02T15:04:05.999999999Z07:00"));
        out.push(b'"');
        Some(out)
    }

    fn member(&self, name: &str, args: Vec<Value>) -> Option<Result<Value, String>> {
        let known = UNSUPPORTED_TIME_METHODS.contains(&name)
            || matches!(
                name,
                "Format"
                    | "String"
                    | "Unix"
                    | "UnixMilli"
                    | "UnixMicro"
                    | "UnixNano"
                    | "UTC"
                    | "Local"
                    | "Year"
                    | "Month"
                    | "Day"
                    | "Hour"
                    | "Minute"
                    | "Second"
                    | "Nanosecond"
                    | "Weekday"
                    | "YearDay"
                    | "IsZero"
                    | "IsDST"
                    | "Add"
                    | "Truncate"
                    | "Round"
                    | "AddDate"
                    | "Sub"
                    | "Before"
                    | "After"
                    | "Equal"
            );
        known.then(|| self.call(name, &args))
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// A Go `time.Duration` (nanoseconds), as `Time.Sub` returns.
struct DurationObj(i64);

impl Object for DurationObj {
    fn type_name(&self) -> &'static str {
        "time.Duration"
    }

    fn kind(&self) -> &'static str {
        "int64"
    }

    fn truth(&self) -> bool {
        self.0 != 0
    }

    fn format_v(&self) -> Vec<u8> {
        duration_string(self.0).into_bytes()
    }

    fn json(&self) -> Option<Vec<u8>> {
        Some(self.0.to_string().into_bytes())
    }

    fn member(&self, name: &str, args: Vec<Value>) -> Option<Result<Value, String>> {
        let d = self.0;
        let no_args = |v: Value| arity(name, &args, 0).map(|_| v);
        // Go computes these from the whole and fractional parts separately for precision.
        let split = |unit: i64| (d / unit) as f64 + (d % unit) as f64 / unit as f64;
        Some(match name {
            "String" => no_args(Value::bytes(self.format_v())),
            "Nanoseconds" => no_args(Value::Int64(d)),
            "Microseconds" => no_args(Value::Int64(d / 1000)),
            "Milliseconds" => no_args(Value::Int64(d / 1_000_000)),
            "Seconds" => no_args(Value::Float(split(NANOS_PER_SEC))),
            "Minutes" => no_args(Value::Float(split(60 * NANOS_PER_SEC))),
            "Hours" => no_args(Value::Float(split(3600 * NANOS_PER_SEC))),
            "Abs" => no_args(duration_value(if d == i64::MIN { i64::MAX } else { d.abs() })),
            "Round" | "Truncate" => arity(name, &args, 1).and_then(|_| {
                let m = duration_param(&args[0])?;
                Ok(duration_value(match name {
                    "Round" => duration_round(d, m),
                    _ if m <= 0 => d,
                    _ => d - d % m,
                }))
            }),
            _ => return None,
        })
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

fn duration_value(d: i64) -> Value {
    Value::Object(Rc::new(DurationObj(d)))
}

/// Go's `time.Month`: prints its English name.
struct MonthObj(i64);

/// Go's `time.Weekday`: prints its English name; Sunday is 0 (and so false).
struct WeekdayObj(i64);

/// `Month.String`/`Weekday.String`: the name, or Go's `%!Month(13)` for a value out of range.
fn enum_name(names: &[&str], value: i64, base: i64, type_name: &str) -> Vec<u8> {
    match usize::try_from(value - base).ok().and_then(|i| names.get(i)) {
        Some(name) => name.as_bytes().to_vec(),
        None => format!("%!{type_name}({value})").into_bytes(),
    }
}

macro_rules! int_enum {
    ($ty:ident, $go:literal, $short:literal, $names:expr, $base:expr) => {
        impl Object for $ty {
            fn type_name(&self) -> &'static str {
                $go
            }

            fn kind(&self) -> &'static str {
                "int"
            }

            fn truth(&self) -> bool {
                self.0 != 0
            }

            fn format_v(&self) -> Vec<u8> {
                enum_name(&$names, self.0, $base, $short)
            }

            fn json(&self) -> Option<Vec<u8>> {
                Some(self.0.to_string().into_bytes())
            }

            fn member(&self, name: &str, args: Vec<Value>) -> Option<Result<Value, String>> {
                (name == "String").then(|| arity(name, &args, 0).map(|_| Value::bytes(self.format_v())))
            }

            fn as_any(&self) -> &dyn std::any::Any {
                self
            }
        }
    };
}

int_enum!(MonthObj, "time.Month", "Month", clock::MONTH_NAMES, 1);
int_enum!(WeekdayObj, "time.Weekday", "Weekday", clock::DAY_NAMES, 0);

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Ctx {
        Ctx { max_bytes: 1 << 20, max_nesting: 64, work: std::cell::Cell::new(1_000_000) }
    }

    fn call(name: &str, args: Vec<Value>) -> Result<Value, String> {
        let f = func(name).unwrap_or_else(|| panic!("{name} is in the table"));
        (f.call)(&ctx(), args).map_err(|e| match e {
            FnError::Go(m) => m,
            FnError::Limit(m) => m.to_owned(),
        })
    }

    fn text(v: &Value) -> String {
        String::from_utf8_lossy(&super::super::super::fmt::to_v(v)).into_owned()
    }

    fn time_of(v: &Value) -> GoTime {
        time_arg(v).unwrap_or_else(|_| panic!("a time.Time"))
    }

    #[test]
    fn now_is_current_and_formats_parse_back() {
        let now = call("now", vec![]).expect("now");
        let t = time_of(&now);
        assert!(t.civil().year >= 2026, "year {}", t.civil().year);
        assert!(t.mono.is_some(), "time.Now carries a monotonic reading");
        // Go prints the monotonic reading after the zone: "... m=+0.000012345".
        let shown = text(&now);
        let (_, m) = shown.rsplit_once(" m=+").expect("monotonic suffix");
        let (secs, nanos) = m.split_once('.').expect("seconds.nanoseconds");
        assert!(secs.parse::<u64>().is_ok() && nanos.len() == 9, "{shown}");
        // RFC 3339 with nanoseconds round-trips through mustToDate, without the monotonic part.
        let layout = "2006-01-02T15:04:05.999999999Z07:00";
        let s = call("dateInZone", vec![Value::text(layout), now.clone(), Value::text("UTC")]).expect("format");
        let back = call("mustToDate", vec![Value::text(layout), s]).expect("parse back");
        let back = time_of(&back);
        assert_eq!((back.sec, back.nsec), (t.sec, t.nsec));
        assert!(!text(&Value::Object(Rc::new(TimeObj(back)))).contains(" m="));
    }

    #[test]
    fn ago_and_duration_round_measure_from_now() {
        let hour_ago = Value::Int(time_of(&call("now", vec![]).expect("now")).sec - 3600 - 30);
        let ago = text(&call("ago", vec![hour_ago.clone()]).expect("ago"));
        assert!(ago == "1h0m30s" || ago == "1h0m31s", "{ago}");
        let old = call("toDate", vec![Value::text("2006"), Value::text("2001")]).expect("toDate");
        let rounded = text(&call("durationRound", vec![old.clone()]).expect("durationRound"));
        let years: u64 = rounded.strip_suffix('y').and_then(|y| y.parse().ok()).expect("years");
        assert!(years >= 25, "{rounded}");
        assert!(text(&call("ago", vec![old]).expect("ago")).ends_with('s'));
    }

    #[test]
    fn duration_string_matches_go() {
        for (d, want) in [
            (0, "0s"),
            (1, "1ns"),
            (1_100, "1.1µs"),
            (2_200_000, "2.2ms"),
            (3_300_000_000, "3.3s"),
            (-4_000_000_000 - 60_000_000_000 * 5, "-5m4s"),
            (3_600_000_000_000 * 25 + 1, "25h0m0.000000001s"),
            (i64::MIN, "-2562047h47m16.854775808s"),
            (i64::MAX, "2562047h47m16.854775807s"),
        ] {
            assert_eq!(duration_string(d), want, "{d}");
        }
    }

    #[test]
    fn parse_duration_matches_go() {
        for (s, want) in [
            ("1h10m10s", Ok(4_210_000_000_000)),
            ("-1.5h", Ok(-5_400_000_000_000)),
            ("1.5us", Ok(1_500)),
            ("1µs", Ok(1_000)),
            ("1μs", Ok(1_000)),
            (".5s", Ok(500_000_000)),
            ("-9223372036854775808ns", Ok(i64::MIN)),
            ("9223372036854775808ns", Err(())),
            ("1", Err(())),
            ("1d", Err(())),
            ("", Err(())),
        ] {
            assert_eq!(layout::parse_duration(s.as_bytes()).map_err(|_| ()), want, "{s}");
        }
    }

    #[test]
    fn duration_round_saturates_like_go() {
        assert_eq!(duration_round(i64::MAX, 3_600_000_000_000), i64::MAX);
        assert_eq!(duration_round(i64::MIN, 3_600_000_000_000), i64::MIN);
        assert_eq!(duration_round(1_499_999_999, NANOS_PER_SEC), NANOS_PER_SEC);
        assert_eq!(duration_round(-1_500_000_000, NANOS_PER_SEC), -2 * NANOS_PER_SEC);
    }

    #[test]
    fn unknown_or_unsafe_zones_fall_back_to_utc() {
        for zone in ["Nowhere/Special", "../../etc/passwd", "/etc/localtime", "Asia", ""] {
            let out =
                call("dateInZone", vec![Value::text("MST -0700"), Value::Int(0), Value::text(zone)]).expect("date");
            assert_eq!(text(&out), "UTC +0000", "{zone}");
        }
        let tokyo = call("dateInZone", vec![Value::text("MST -0700"), Value::Int(0), Value::text("Asia/Tokyo")]);
        assert_eq!(text(&tokyo.expect("date")), "JST +0900");
    }

    #[test]
    fn errors_do_not_quote_values() {
        let secret = "hunter2-2024-99-99";
        let err = call("mustToDate", vec![Value::text("2006-01-02"), Value::text(secret)]).err().expect("fails");
        assert!(!err.contains("hunter2"), "{err}");
        let t = call("toDate", vec![Value::text("2006"), Value::text("2024")]).expect("toDate");
        let err = call("mustDateModify", vec![Value::text(secret), t]).err().expect("fails");
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn unsupported_methods_are_named() {
        let t = TimeObj(GoTime::zero());
        let err = t.member("Location", vec![]).expect("known method").err().expect("refused");
        assert!(err.contains("Location") && err.contains("not supported by sealops"), "{err}");
        assert!(t.member("NoSuchField", vec![]).is_none(), "Go's can't evaluate field");
    }

    #[test]
    fn absurd_dates_do_not_panic() {
        let t = GoTime::unix(i64::MAX, 999_999_999, Loc::Utc);
        let _ = layout::format(&t, b"2006-01-02 15:04:05.999999999 Z07:00 MST");
        let t = GoTime::unix(i64::MIN, 0, zone::load("America/New_York").expect("zoneinfo"));
        let _ = layout::format(&t, b"Mon Jan _2 __2 2006");
        let _ = t.add_date(i64::MAX, i64::MIN, i64::MAX);
        let _ = t.add(i64::MIN).sub(&t.add(i64::MAX));
        let _ = t.round(i64::MAX).truncate(7);
    }
}
