//! Prometheus metrics under upstream's names (`shared/specs/sealed-secrets.md` §3.4), written
//! in the text exposition format by hand: a few counters and gauges do not need a library.
//! Labels carry namespaces, names, paths and reasons, never values.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

const PREFIX: &str = "sealed_secrets_controller";

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

    pub fn http_request(&self, path: &str, code: u16, method: &str) {
        self.with(|m| *m.http_requests.entry((path.to_owned(), code, method.to_owned())).or_default() += 1);
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
        });
        if let Some(rss) = resident_bytes() {
            let _ = writeln!(out, "# HELP process_resident_memory_bytes Resident memory size in bytes.");
            let _ = writeln!(out, "# TYPE process_resident_memory_bytes gauge");
            let _ = writeln!(out, "process_resident_memory_bytes {rss}");
        }
        out
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
        m.http_request("/v1/verify", 409, "POST");
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
            "sealed_secrets_controller_http_requests_total{code=\"409\",method=\"POST\",path=\"/v1/verify\"} 1\n"
        ));
        m.forget("prod", "db");
        assert!(!m.render().contains("name=\"db\""));
    }
}
