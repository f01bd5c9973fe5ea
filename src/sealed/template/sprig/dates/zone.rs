//! Go's `*time.Location` as far as templates reach it: UTC, `Local`, IANA zones read from the
//! system zoneinfo (as Go's `time.LoadLocation` does on Linux, go1.19 `time/zoneinfo_read.go`),
//! and the fixed zones `time.Parse` fabricates. The TZif data is decoded by `jiff`; the lookup
//! contract (`name, offset, start, end`) is Go's `Location.lookup`.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// Where Go looks for zoneinfo files on Linux (`platformZoneSources`), after `$ZONEINFO`.
const ZONE_SOURCES: &[&str] = &["/usr/share/zoneinfo/", "/usr/share/lib/zoneinfo/", "/usr/lib/locale/TZ/"];

/// Go refuses zone files larger than this (`maxFileSize` in `time/sys_unix.go`).
const MAX_FILE: u64 = 10 << 20;

/// Zones kept per thread, so that a `date` inside a loop does not read the file each time.
const CACHE_MAX: usize = 64;

#[derive(Clone)]
pub(crate) enum Loc {
    Utc,
    /// A zone from a TZif file (an IANA name, or the local zone).
    Zone(TimeZone),
    /// `time.FixedZone(abbr, offset)`, as `time.Parse` makes for an offset or abbreviation it
    /// does not find in the local zone.
    Fixed {
        abbr: Rc<str>,
        offset: i32,
    },
}

/// One answer of Go's `Location.lookup(sec)`: the zone in effect at `sec` and the range
/// `[start, end)` of seconds where it stays in effect.
pub(crate) struct Lookup {
    pub name: String,
    pub offset: i32,
    pub start: i64,
    pub end: i64,
    pub dst: bool,
}

fn clamp(sec: i64) -> Timestamp {
    let sec = sec.clamp(Timestamp::MIN.as_second(), Timestamp::MAX.as_second());
    Timestamp::from_second(sec).unwrap_or(Timestamp::UNIX_EPOCH)
}

impl Loc {
    pub(crate) fn lookup(&self, sec: i64) -> Lookup {
        match self {
            Loc::Utc => Lookup { name: "UTC".into(), offset: 0, start: i64::MIN, end: i64::MAX, dst: false },
            Loc::Fixed { abbr, offset } => {
                Lookup { name: abbr.to_string(), offset: *offset, start: i64::MIN, end: i64::MAX, dst: false }
            }
            Loc::Zone(tz) => {
                let ts = clamp(sec);
                let info = tz.to_offset_info(ts);
                // `preceding` is strictly before its argument: ask from one second later so a
                // transition exactly at `sec` counts as the start, as in Go.
                let start = tz
                    .preceding(clamp(sec.saturating_add(1)))
                    .next()
                    .map(|t| t.timestamp().as_second())
                    .unwrap_or(i64::MIN);
                let end = tz.following(ts).next().map(|t| t.timestamp().as_second()).unwrap_or(i64::MAX);
                Lookup {
                    name: info.abbreviation().to_owned(),
                    offset: info.offset().seconds(),
                    start,
                    end,
                    dst: info.dst().is_dst(),
                }
            }
        }
    }

    /// Go's `Location.lookupName`: the offset of the zone abbreviated `name`, preferring one in
    /// effect around `unix`.
    pub(crate) fn lookup_name(&self, name: &str, unix: i64) -> Option<i32> {
        let zones = self.zones();
        for (zname, zoff) in &zones {
            if zname == name {
                let found = self.lookup(unix.wrapping_sub(i64::from(*zoff)));
                if found.name == *zname {
                    return Some(found.offset);
                }
            }
        }
        zones.iter().find(|(zname, _)| zname == name).map(|(_, off)| *off)
    }

    /// The zone types (abbreviation, offset) a location uses, in order of first use. For a TZif
    /// zone they are read off its transitions (bounded: real zones have a few hundred).
    fn zones(&self) -> Vec<(String, i32)> {
        let mut out: Vec<(String, i32)> = Vec::new();
        let mut add = |name: &str, off: i32| {
            if !out.iter().any(|(n, o)| n == name && *o == off) {
                out.push((name.to_owned(), off));
            }
        };
        match self {
            Loc::Utc => add("UTC", 0),
            Loc::Fixed { abbr, offset } => add(abbr, *offset),
            Loc::Zone(tz) => {
                let first = tz.to_offset_info(Timestamp::MIN);
                add(first.abbreviation(), first.offset().seconds());
                for t in tz.following(Timestamp::MIN).take(2000) {
                    add(t.abbreviation(), t.offset().seconds());
                }
            }
        }
        out
    }
}

thread_local! {
    static CACHE: RefCell<BTreeMap<String, Option<Loc>>> = const { RefCell::new(BTreeMap::new()) };
}

/// Go's `time.LoadLocation(name)`; `None` where Go returns an error (Sprig then uses UTC).
pub(crate) fn load(name: &str) -> Option<Loc> {
    if name.is_empty() || name == "UTC" {
        return Some(Loc::Utc);
    }
    if name == "Local" {
        return local();
    }
    // Go's `containsDotDot` (any "..", not only a path element) and absolute-path checks.
    if name.contains("..") || name.starts_with('/') || name.starts_with('\\') {
        return None;
    }
    cached(&format!("zone:{name}"), || {
        let zoneinfo = std::env::var("ZONEINFO").ok().filter(|z| !z.is_empty());
        let dirs = zoneinfo.iter().map(|z| format!("{z}/")).chain(ZONE_SOURCES.iter().map(|d| (*d).to_owned()));
        for dir in dirs {
            if let Some(tz) = read_tzif(name, &format!("{dir}{name}")) {
                return Some(Loc::Zone(tz));
            }
        }
        None
    })
}

/// Go's `Local`: `$TZ` when set (empty means UTC, a leading ':' is dropped, a path is read as
/// is), else `/etc/localtime`; UTC when the zone cannot be read (`time/zoneinfo_unix.go`).
pub(crate) fn local() -> Option<Loc> {
    cached("local", || {
        let tz = match std::env::var("TZ") {
            Err(_) => read_tzif("Local", "/etc/localtime"),
            Ok(tz) => {
                let tz = tz.strip_prefix(':').unwrap_or(&tz).to_owned();
                if tz.is_empty() || tz == "UTC" {
                    None
                } else if tz.starts_with('/') {
                    read_tzif("Local", &tz)
                } else if tz.split('/').any(|p| p == "..") {
                    None
                } else {
                    ZONE_SOURCES.iter().find_map(|d| read_tzif("Local", &format!("{d}{tz}")))
                }
            }
        };
        Some(match tz {
            Some(tz) => Loc::Zone(tz),
            None => Loc::Utc,
        })
    })
}

fn cached(key: &str, make: impl FnOnce() -> Option<Loc>) -> Option<Loc> {
    if let Some(hit) = CACHE.with(|c| c.borrow().get(key).cloned()) {
        return hit;
    }
    let loc = make();
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= CACHE_MAX {
            c.clear();
        }
        c.insert(key.to_owned(), loc.clone());
    });
    loc
}

fn read_tzif(name: &str, path: &str) -> Option<TimeZone> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > MAX_FILE {
        return None;
    }
    let data = std::fs::read(path).ok()?;
    TimeZone::tzif(name, &data).ok()
}
