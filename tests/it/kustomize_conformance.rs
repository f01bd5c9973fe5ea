//! The kustomize conformance suite (issue 4, "Proof"): every case under
//! `tests/data/kustomize/cases/` is built by `kubectl kustomize` — the reference, run here at test
//! time, never stored — and by `sealops build`; both outputs are parsed into object lists that must
//! be equal: the same objects, in the same order, with the same values. Error cases (a file
//! `expect-error` in the case) must make both tools fail. Conventions:
//! `tests/data/kustomize/README.md`.
//!
//! `kubectl` is required: without it the test fails (CI installs it) rather than passing vacuously.
//! `SEALOPS_KUBECTL` names a kubectl other than the one on `PATH`. `SEALOPS_KUSTOMIZE_CANDIDATE`
//! replaces the tool under test by another command line (e.g. `kubectl kustomize`, to check the
//! harness itself); by default it is the `sealops` binary cargo built, run as `sealops build DIR`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::Value;

use crate::support::{self, Sandbox};

/// One build must not take longer than this (kustomize takes well under a second per case).
const BUILD_LIMIT: Duration = Duration::from_secs(60);
/// How many failures get a diff printed under the table.
const DIFFS_SHOWN: usize = 5;

struct Case {
    name: String,
    /// The directory that is built.
    dir: PathBuf,
    expect_error: bool,
    /// `known-difference` in the case: sealops is known to differ (its first line says how and
    /// why; `docs/build.md` lists them). The case must still differ — a fixed difference fails
    /// the test until the file is removed — and is counted apart, never as passed.
    known: Option<String>,
}

struct Failure {
    case: String,
    /// One line for the table.
    summary: String,
    /// Several lines: where the outputs differ, or the tool's error output.
    detail: String,
}

#[test]
fn kustomize_conformance() {
    let kubectl = kubectl();
    let candidate = candidate();
    let cases = cases();
    assert!(cases.len() >= 150, "only {} conformance cases found under tests/data/kustomize/cases", cases.len());

    let sandbox = Sandbox::new();
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    let known = Mutex::new(Vec::new());
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(2, 8);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(case) = cases.get(i) else { break };
                    let scratch = sandbox.tmp.join(format!("case-{i}"));
                    std::fs::create_dir_all(&scratch).expect("scratch directory");
                    let outcome = check(case, &kubectl, &candidate, &sandbox, &scratch);
                    match (&case.known, outcome) {
                        (None, Ok(())) => {}
                        (None, Err(failure)) => failures.lock().unwrap_or_else(|e| e.into_inner()).push(failure),
                        (Some(why), Err(_)) => {
                            known.lock().unwrap_or_else(|e| e.into_inner()).push(format!("{}: {why}", case.name))
                        }
                        (Some(_), Ok(())) => failures.lock().unwrap_or_else(|e| e.into_inner()).push(Failure {
                            case: case.name.clone(),
                            summary: "matches kubectl now: remove its known-difference file".into(),
                            detail: String::new(),
                        }),
                    }
                }
            });
        }
    });

    let mut failures = failures.into_inner().unwrap_or_else(|e| e.into_inner());
    failures.sort_by(|a, b| a.case.cmp(&b.case));
    let mut known = known.into_inner().unwrap_or_else(|e| e.into_inner());
    known.sort();
    let passed = cases.len() - failures.len() - known.len();
    if !known.is_empty() {
        eprintln!("\nknown differences (docs/build.md), not counted as passed:");
        for k in &known {
            eprintln!("  {k}");
        }
    }
    if !failures.is_empty() {
        eprintln!("\nkustomize conformance failures:");
        let width = failures.iter().map(|f| f.case.len()).max().unwrap_or(0);
        for f in &failures {
            eprintln!("  {:width$}  {}", f.case, f.summary);
        }
        for f in failures.iter().take(DIFFS_SHOWN) {
            eprintln!("\n--- {}\n{}", f.case, f.detail);
        }
        if failures.len() > DIFFS_SHOWN {
            eprintln!("\n({} more failures without a diff shown)", failures.len() - DIFFS_SHOWN);
        }
    }
    let reference = kustomize_version(&kubectl);
    eprintln!(
        "\nkustomize conformance: {passed}/{} passed, {} known differences (reference: {reference})",
        cases.len(),
        known.len()
    );
    assert!(failures.is_empty(), "kustomize conformance: {passed}/{} passed", cases.len());
}

/// Builds one case with both tools and compares.
fn check(case: &Case, kubectl: &Path, candidate: &[String], sandbox: &Sandbox, scratch: &Path) -> Result<(), Failure> {
    let fail = |summary: String, detail: String| Failure { case: case.name.clone(), summary, detail };
    let dir = case.dir.to_str().ok_or_else(|| fail("case path is not UTF-8".into(), String::new()))?;

    let reference = build(sandbox.cmd_via(kubectl, &["kustomize", dir]), scratch, "kubectl")
        .map_err(|e| fail("kubectl did not finish".into(), e))?;
    let mut cmd = sandbox.cmd_via(Path::new(&candidate[0]), &[]);
    cmd.args(&candidate[1..]).arg(dir);
    let ours = build(cmd, scratch, "candidate").map_err(|e| fail("the candidate did not finish".into(), e))?;

    if case.expect_error {
        if reference.code == Some(0) {
            return Err(fail(
                "kubectl succeeded on an expect-error case (the case is wrong)".into(),
                head(&reference.out(), 20),
            ));
        }
        if ours.code == Some(0) {
            return Err(fail(
                "expected an error, the build succeeded".into(),
                format!(
                    "kubectl failed with:\n{}\nthe candidate printed:\n{}",
                    head(&reference.stderr, 5),
                    head(&ours.out(), 20)
                ),
            ));
        }
        if ours.code.is_none() || ours.code == Some(101) || ours.stderr.contains("panicked") {
            return Err(fail("crashed instead of a clean error".into(), head(&ours.stderr, 10)));
        }
        if ours.stderr.trim().is_empty() {
            return Err(fail("failed without saying why".into(), String::new()));
        }
        return Ok(());
    }

    if reference.code != Some(0) {
        return Err(fail("kubectl failed on a success case (the case is wrong)".into(), head(&reference.stderr, 10)));
    }
    if ours.code != Some(0) {
        return Err(fail(format!("build failed: {}", first_line(&ours.stderr)), head(&ours.stderr, 10)));
    }
    let expected =
        parse(&reference.out()).map_err(|e| fail(format!("cannot parse kubectl's output: {e}"), String::new()))?;
    let actual =
        parse(&ours.out()).map_err(|e| fail(format!("cannot parse the output: {e}"), head(&ours.out(), 20)))?;
    compare(&expected, &actual).map_err(|(summary, detail)| fail(summary, detail))
}

fn build(mut cmd: Command, scratch: &Path, who: &str) -> Result<support::Run, String> {
    let scratch = scratch.join(who);
    std::fs::create_dir_all(&scratch).map_err(|e| format!("scratch directory: {e}"))?;
    support::run_with_timeout(&mut cmd, &scratch, BUILD_LIMIT).ok_or_else(|| format!("killed after {BUILD_LIMIT:?}"))
}

/// A multi-document YAML stream as a list of objects (empty documents skipped, as kustomize
/// itself reads streams).
fn parse(text: &str) -> Result<Vec<Value>, String> {
    serde_saphyr::from_multiple::<Value>(text).map_err(|e| first_line(&e.to_string()).to_owned())
}

/// Equal lists, or a one-line summary and a short diff.
fn compare(expected: &[Value], actual: &[Value]) -> Result<(), (String, String)> {
    let ids = |list: &[Value]| list.iter().map(object_id).collect::<Vec<_>>();
    if expected.len() != actual.len() {
        let detail = format!("kubectl:\n  {}\ncandidate:\n  {}", ids(expected).join("\n  "), ids(actual).join("\n  "));
        return Err((format!("{} objects, kubectl has {}", actual.len(), expected.len()), detail));
    }
    let (expected_ids, actual_ids) = (ids(expected), ids(actual));
    if expected_ids != actual_ids {
        let at = expected_ids.iter().zip(&actual_ids).position(|(a, b)| a != b).unwrap_or(0);
        let detail = format!("kubectl:\n  {}\ncandidate:\n  {}", expected_ids.join("\n  "), actual_ids.join("\n  "));
        return Err((
            format!("objects differ from position {at}: {} where kubectl has {}", actual_ids[at], expected_ids[at]),
            detail,
        ));
    }
    for (i, (e, a)) in expected.iter().zip(actual).enumerate() {
        if let Some(diff) = first_difference(e, a, String::new()) {
            let id = &expected_ids[i];
            let detail = format!("object {i} ({id}):\n{diff}");
            return Err((format!("{id}: {}", first_line(&diff)), detail));
        }
    }
    Ok(())
}

/// `Kind namespace/name` of an object, for tables and diffs.
fn object_id(v: &Value) -> String {
    let kind = v.get("kind").and_then(Value::as_str).unwrap_or("?");
    let meta = v.get("metadata");
    let name = meta.and_then(|m| m.get("name")).and_then(Value::as_str).unwrap_or("?");
    match meta.and_then(|m| m.get("namespace")).and_then(Value::as_str) {
        Some(ns) => format!("{kind} {ns}/{name}"),
        None => format!("{kind} {name}"),
    }
}

/// The first place (a JSON pointer) where two values differ, with both sides shown.
fn first_difference(expected: &Value, actual: &Value, path: String) -> Option<String> {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let here = format!("{path}/{}", k.replace('~', "~0").replace('/', "~1"));
                match a.get(k) {
                    Some(av) => {
                        if let Some(d) = first_difference(ev, av, here) {
                            return Some(d);
                        }
                    }
                    None => return Some(format!("{here}: missing; kubectl has {}", show(ev))),
                }
            }
            a.iter()
                .find(|(k, _)| !e.contains_key(*k))
                .map(|(k, av)| format!("{path}/{k}: not in kubectl's output; the candidate has {}", show(av)))
        }
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => {
            e.iter().zip(a).enumerate().find_map(|(i, (ev, av))| first_difference(ev, av, format!("{path}/{i}")))
        }
        (e, a) if e == a => None,
        (e, a) => Some(format!(
            "{}: the candidate has {}\n    kubectl has   {}",
            if path.is_empty() { "/" } else { &path },
            show(a),
            show(e)
        )),
    }
}

/// A value in one line, cut to a readable length.
fn show(v: &Value) -> String {
    let text = v.to_string();
    match text.char_indices().nth(160) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

fn first_line(text: &str) -> &str {
    text.lines().find(|l| !l.trim().is_empty()).unwrap_or("")
}

fn head(text: &str, lines: usize) -> String {
    text.lines().take(lines).map(|l| format!("    {l}\n")).collect()
}

/// Every case directory, sorted by name.
fn cases() -> Vec<Case> {
    let root = support::data("kustomize/cases");
    let entries = std::fs::read_dir(&root).unwrap_or_else(|e| panic!("reading {}: {e}", root.display()));
    let mut cases: Vec<Case> = entries
        .map(|e| e.expect("listing the cases").path())
        .filter(|p| p.is_dir())
        .map(|case_dir| {
            let name = case_dir.file_name().expect("a case directory has a name").to_string_lossy().into_owned();
            let dir = match std::fs::read_to_string(case_dir.join("build-path")) {
                Ok(rel) => {
                    let target = case_dir.join(rel.trim());
                    target.canonicalize().unwrap_or_else(|e| panic!("{name}/build-path: {}: {e}", target.display()))
                }
                Err(_) => case_dir.clone(),
            };
            let known = std::fs::read_to_string(case_dir.join("known-difference"))
                .ok()
                .map(|text| text.lines().next().unwrap_or("").trim().to_owned());
            Case { expect_error: case_dir.join("expect-error").is_file(), name, dir, known }
        })
        .collect();
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    cases
}

/// The reference: `$SEALOPS_KUBECTL`, else `kubectl` on `PATH`. Missing is a failure, not a skip:
/// a conformance suite that passes without its reference proves nothing.
fn kubectl() -> PathBuf {
    if let Some(explicit) = std::env::var_os("SEALOPS_KUBECTL").filter(|v| !v.is_empty()) {
        let p = PathBuf::from(explicit);
        assert!(p.is_file(), "SEALOPS_KUBECTL={}: no such file", p.display());
        return p;
    }
    std::env::var_os("PATH")
        .and_then(|path| std::env::split_paths(&path).map(|d| d.join("kubectl")).find(|p| p.is_file()))
        .unwrap_or_else(|| {
            panic!(
                "kubectl not found on PATH (set SEALOPS_KUBECTL): the kustomize conformance suite needs \
                 `kubectl kustomize` (kustomize v5.5) as its reference; install kubectl v1.32"
            )
        })
}

/// The command line under test, to which the case directory is appended.
fn candidate() -> Vec<String> {
    match std::env::var("SEALOPS_KUSTOMIZE_CANDIDATE") {
        Ok(line) if !line.trim().is_empty() => line.split_whitespace().map(str::to_owned).collect(),
        _ => vec![env!("CARGO_BIN_EXE_sealops").to_owned(), "build".to_owned()],
    }
}

/// "Kustomize Version: v5.5.0" from `kubectl version --client`, for the summary line.
fn kustomize_version(kubectl: &Path) -> String {
    let out = Command::new(kubectl).args(["version", "--client"]).output();
    out.ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .find_map(|l| l.strip_prefix("Kustomize Version: ").map(|v| format!("kustomize {v}")))
        })
        .unwrap_or_else(|| "kubectl kustomize, version unknown".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Vec<Value> {
        parse(text).unwrap()
    }

    #[test]
    fn key_order_does_not_matter_but_list_order_does() {
        let a = yaml("kind: A\nmetadata: {name: x}\ndata: {a: '1', b: '2'}\n---\nkind: B\nmetadata: {name: y}\n");
        let b = yaml("metadata: {name: x}\nkind: A\ndata: {b: '2', a: '1'}\n---\nkind: B\nmetadata: {name: y}\n");
        assert!(compare(&a, &b).is_ok());
        let reversed: Vec<Value> = b.iter().rev().cloned().collect();
        let (summary, _) = compare(&a, &reversed).unwrap_err();
        assert!(summary.contains("position 0"), "{summary}");
    }

    #[test]
    fn a_string_is_not_a_number() {
        let a = yaml("kind: A\nmetadata: {name: x}\ndata: {port: '8080'}\n");
        let b = yaml("kind: A\nmetadata: {name: x}\ndata: {port: 8080}\n");
        let (summary, detail) = compare(&a, &b).unwrap_err();
        assert!(summary.contains("/data/port"), "{summary}");
        assert!(detail.contains("\"8080\""), "{detail}");
    }

    #[test]
    fn missing_and_extra_fields_are_named() {
        let a = yaml("kind: A\nmetadata: {name: x, labels: {a: b}}\n");
        let b = yaml("kind: A\nmetadata: {name: x}\nspec: {}\n");
        let (summary, _) = compare(&a, &b).unwrap_err();
        assert!(summary.contains("/metadata/labels: missing"), "{summary}");
        let (summary, _) = compare(&b, &a).unwrap_err();
        assert!(summary.contains("/metadata/labels: not in kubectl's output"), "{summary}");
        let (summary, _) = compare(&a, &[]).unwrap_err();
        assert!(summary.contains("0 objects, kubectl has 1"), "{summary}");
    }

    #[test]
    fn empty_documents_are_skipped() {
        assert_eq!(yaml("---\n---\nkind: A\n---\n").len(), 1);
    }
}
