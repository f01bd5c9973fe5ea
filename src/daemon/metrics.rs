//! Prometheus metrics under upstream's names (`shared/specs/sealed-secrets.md` §3.4), written
//! in the text exposition format by hand: a few counters and gauges do not need a library.
//! Labels carry namespaces, names, paths and reasons, never values.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

const PREFIX: &str = "sealed_secrets_controller";

/// `prometheus.DefBuckets`, upstream's buckets for `http_request_duration_seconds`, with the
/// `le` text Go's client writes for each.
const DURATION_BUCKETS: [(f64, &str); 11] = [
    (0.005, "0.005"),
    (0.01, "0.01"),
    (0.025, "0.025"),
    (0.05, "0.05"),
    (0.1, "0.1"),
    (0.25, "0.25"),
    (0.5, "0.5"),
    (1.0, "1"),
    (2.5, "2.5"),
    (5.0, "5"),
    (10.0, "10"),
];

/// One histogram series: a count per bucket (not cumulative), the sum and the count.
#[derive(Default)]
struct Histogram {
    buckets: [u64; DURATION_BUCKETS.len()],
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        if let Some(i) = DURATION_BUCKETS.iter().position(|(bound, _)| seconds <= *bound) {
            self.buckets[i] += 1;
        }
        self.sum += seconds;
        self.count += 1;
    }
}

/// The daemon's metrics.
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    unseal_requests: u64,
    /// (reason, namespace) → count.
    unseal_errors: BTreeMap<(String, String), u64>,
    /// (namespace, name) → -1 False / 1 True.
    conditions: BTreeMap<(String, String), i64>,
    /// (path, code, method) → count.
    http_requests: BTreeMap<(String, u16, String), u64>,
    /// (method, path) → request durations.
    http_durations: BTreeMap<(String, String), Histogram>,
}

impl Metrics {
    pub fn new() -> Self {
        Self::default()
    }

    fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        f(&mut self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// One SealedSecret processed (upstream also counts deletes).
    pub fn unseal_request(&self) {
        self.with(|m| m.unseal_requests += 1);
    }

    /// `reason` is one of `fetch`, `unseal`, `update`, `unmanaged`, `status`.
    pub fn unseal_error(&self, reason: &str, namespace: &str) {
        self.with(|m| *m.unseal_errors.entry((reason.to_owned(), namespace.to_owned())).or_default() += 1);
    }

    /// The `Synced` condition of one SealedSecret.
    pub fn condition(&self, namespace: &str, name: &str, synced: bool) {
        self.with(|m| m.conditions.insert((namespace.to_owned(), name.to_owned()), if synced { 1 } else { -1 }));
    }

    /// A SealedSecret is gone: its condition series goes too.
    pub fn forget(&self, namespace: &str, name: &str) {
        self.with(|m| m.conditions.remove(&(namespace.to_owned(), name.to_owned())));
    }

    /// One request to an instrumented path, as promhttp's `InstrumentHandlerCounter` and
    /// `InstrumentHandlerDuration` record it: the method label is promhttp's lower-case form
    /// (`get`, `post`), the duration is the handler's.
    pub fn http_request(&self, path: &str, code: u16, method: &str, seconds: f64) {
        let method = method.to_ascii_lowercase();
        self.with(|m| {
            *m.http_requests.entry((path.to_owned(), code, method.clone())).or_default() += 1;
            m.http_durations.entry((method, path.to_owned())).or_default().observe(seconds);
        });
    }

    /// The text exposition (`text/plain; version=0.0.4`).
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# HELP {PREFIX}_build_info Build information.");
        let _ = writeln!(out, "# TYPE {PREFIX}_build_info gauge");
        let _ = writeln!(out, "{PREFIX}_build_info{{revision=\"{}\"}} 1", env!("CARGO_PKG_VERSION"));
        self.with(|m| {
            let _ = writeln!(out, "# HELP {PREFIX}_unseal_requests_total Total number of sealed secret unseal requests");
            let _ = writeln!(out, "# TYPE {PREFIX}_unseal_requests_total counter");
            let _ = writeln!(out, "{PREFIX}_unseal_requests_total {}", m.unseal_requests);
            let _ = writeln!(out, "# HELP {PREFIX}_unseal_errors_total Total number of sealed secret unseal errors by reason");
            let _ = writeln!(out, "# TYPE {PREFIX}_unseal_errors_total counter");
            for ((reason, ns), n) in &m.unseal_errors {
                let _ = writeln!(
                    out,
                    "{PREFIX}_unseal_errors_total{{namespace=\"{}\",reason=\"{}\"}} {n}",
                    escape(ns),
                    escape(reason)
                );
            }
            let _ = writeln!(out, "# HELP {PREFIX}_condition_info Current SealedSecret condition status. Values are -1 (false), 0 (unknown or absent), 1 (true)");
            let _ = writeln!(out, "# TYPE {PREFIX}_condition_info gauge");
            for ((ns, name), v) in &m.conditions {
                let _ = writeln!(
                    out,
                    "{PREFIX}_condition_info{{condition=\"Synced\",name=\"{}\",namespace=\"{}\",ss_app_kubernetes_io_instance=\"\"}} {v}",
                    escape(name),
                    escape(ns)
                );
            }
            let _ = writeln!(out, "# HELP {PREFIX}_http_requests_total Total number of HTTP requests by path, status code and method");
            let _ = writeln!(out, "# TYPE {PREFIX}_http_requests_total counter");
            for ((path, code, method), n) in &m.http_requests {
                let _ = writeln!(
                    out,
                    "{PREFIX}_http_requests_total{{code=\"{code}\",method=\"{}\",path=\"{}\"}} {n}",
                    escape(method),
                    escape(path)
                );
            }
            render_durations(&mut out, &m.http_durations);
        });
        if let Some(rss) = resident_bytes() {
            let _ = writeln!(out, "# HELP process_resident_memory_bytes Resident memory size in bytes.");
            let _ = writeln!(out, "# TYPE process_resident_memory_bytes gauge");
            let _ = writeln!(out, "process_resident_memory_bytes {rss}");
        }
        out
    }
}

fn render_durations(out: &mut String, series: &BTreeMap<(String, String), Histogram>) {
    let name = format!("{PREFIX}_http_request_duration_seconds");
    let _ = writeln!(out, "# HELP {name} A histogram of latencies for requests.");
    let _ = writeln!(out, "# TYPE {name} histogram");
    for ((method, path), h) in series {
        let labels = format!("method=\"{}\",path=\"{}\"", escape(method), escape(path));
        let mut cumulative = 0;
        for ((_, le), n) in DURATION_BUCKETS.iter().zip(h.buckets) {
            cumulative += n;
            let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{le}\"}} {cumulative}");
        }
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {}", h.count);
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", h.sum);
        let _ = writeln!(out, "{name}_count{{{labels}}} {}", h.count);
    }
}

/// Label values escape `\`, `"` and newlines.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Resident set size from `/proc/self/statm` (Linux; pages of 4 KiB assumed there).
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_uses_upstream_names_and_escapes_labels() {
        let m = Metrics::new();
        m.unseal_request();
        m.unseal_request();
        m.unseal_error("unmanaged", "prod");
        m.condition("prod", "db", false);
        m.condition("prod", "web\"x", true);
        m.http_request("/v1/verify", 409, "POST", 0.003);
        let text = m.render();
        assert!(text.contains("sealed_secrets_controller_unseal_requests_total 2\n"));
        assert!(
            text.contains("sealed_secrets_controller_unseal_errors_total{namespace=\"prod\",reason=\"unmanaged\"} 1\n")
        );
        assert!(text.contains(
            "sealed_secrets_controller_condition_info{condition=\"Synced\",name=\"db\",namespace=\"prod\",ss_app_kubernetes_io_instance=\"\"} -1\n"
        ));
        assert!(text.contains("name=\"web\\\"x\""));
        assert!(text.contains(
            "sealed_secrets_controller_http_requests_total{code=\"409\",method=\"post\",path=\"/v1/verify\"} 1\n"
        ));
        m.forget("prod", "db");
        assert!(!m.render().contains("name=\"db\""));
    }

    /// The exposition Go's client writes for a `HistogramVec` with `DefBuckets` and labels
    /// `path`, `method` after two observations (names sorted, `le` last, cumulative buckets).
    #[test]
    fn request_durations_are_a_histogram_with_go_default_buckets() {
        let m = Metrics::new();
        // Binary fractions, so that the sum is exact.
        m.http_request("/v1/cert.pem", 200, "GET", 0.003_906_25);
        m.http_request("/v1/cert.pem", 200, "GET", 0.25);
        m.http_request("/v1/cert.pem", 200, "GET", 11.0);
        let text = m.render();
        let name = "sealed_secrets_controller_http_request_duration_seconds";
        assert!(
            text.contains(&format!("# HELP {name} A histogram of latencies for requests.\n# TYPE {name} histogram\n"))
        );
        let expected = [
            ("0.005", 1),
            ("0.01", 1),
            ("0.025", 1),
            ("0.05", 1),
            ("0.1", 1),
            ("0.25", 2),
            ("0.5", 2),
            ("1", 2),
            ("2.5", 2),
            ("5", 2),
            ("10", 2),
            ("+Inf", 3),
        ];
        let lines: Vec<&str> = text.lines().filter(|l| l.starts_with(&format!("{name}_bucket"))).collect();
        assert_eq!(lines.len(), expected.len());
        for (line, (le, n)) in lines.iter().zip(expected) {
            assert_eq!(*line, format!("{name}_bucket{{method=\"get\",path=\"/v1/cert.pem\",le=\"{le}\"}} {n}"));
        }
        assert!(text.contains(&format!("{name}_sum{{method=\"get\",path=\"/v1/cert.pem\"}} 11.25390625\n")), "{text}");
        assert!(text.contains(&format!("{name}_count{{method=\"get\",path=\"/v1/cert.pem\"}} 3\n")));
    }
}
