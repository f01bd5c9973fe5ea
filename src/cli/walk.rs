//! Running a command over many files: directory walking, parallel workers, a progress bar on a
//! terminal, and a summary at the end. sops itself works on one file at a time.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::Result;

/// The files named by `paths`: files as given, directories walked recursively (sorted; hidden
/// directories such as `.git` and symbolic links are skipped).
pub fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        let meta = fs::symlink_metadata(p).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
        if meta.is_dir() {
            walk(p, &mut out)?;
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let kind = entry.file_type()?;
        let path = entry.path();
        if kind.is_symlink() {
            continue;
        }
        if kind.is_dir() {
            if !entry.file_name().to_string_lossy().starts_with('.') {
                walk(&path, out)?;
            }
        } else if kind.is_file() {
            out.push(path);
        }
    }
    Ok(())
}

/// What happened to one file.
pub enum Outcome {
    Changed,
    /// Not a sops file (or not ours to touch), with why.
    Skipped(&'static str),
}

/// The tally of a run.
#[derive(Default)]
pub struct Summary {
    pub changed: Vec<PathBuf>,
    pub unchanged: Vec<PathBuf>,
    pub skipped: Vec<(PathBuf, &'static str)>,
    pub failed: Vec<(PathBuf, anyhow::Error)>,
}

impl Summary {
    /// One line per failure, then the counts: `rotated 12 files, 3 skipped, 1 failed`.
    pub fn report(&self, verb: &str) -> String {
        let mut out = String::new();
        for (path, err) in &self.failed {
            out.push_str(&format!("{}: {}\n", path.display(), super::render(err)));
        }
        out.push_str(&format!(
            "{verb} {} file{}, {} unchanged, {} skipped (not sops files), {} failed",
            self.changed.len(),
            if self.changed.len() == 1 { "" } else { "s" },
            self.unchanged.len(),
            self.skipped.len(),
            self.failed.len()
        ));
        out
    }
}

/// Runs `job` on every item, on all cores, with a progress bar when standard error is a
/// terminal. Each file succeeds or fails on its own; a failure changes nothing in that file.
pub fn run_all<T, F>(items: Vec<T>, label: &str, path_of: fn(&T) -> PathBuf, job: F) -> Summary
where
    T: Send,
    F: Fn(T) -> Result<Outcome> + Sync,
{
    let total = items.len();
    let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(total).max(1);
    let queue = Mutex::new(items.into_iter());
    let summary = Mutex::new(Summary::default());
    let bar = super::io::stderr_is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(total as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {wide_msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_prefix(label.to_owned());
        bar
    });
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let next = queue.lock().unwrap_or_else(|p| p.into_inner()).next();
                    let Some(item) = next else { break };
                    let path = path_of(&item);
                    if let Some(bar) = &bar {
                        bar.set_message(path.display().to_string());
                    }
                    let result = job(item);
                    let mut s = summary.lock().unwrap_or_else(|p| p.into_inner());
                    match result {
                        Ok(Outcome::Changed) => s.changed.push(path),
                        Ok(Outcome::Skipped(why)) => s.skipped.push((path, why)),
                        Err(e) => s.failed.push((path, e)),
                    }
                    drop(s);
                    if let Some(bar) = &bar {
                        bar.inc(1);
                    }
                }
            });
        }
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let mut summary = summary.into_inner().unwrap_or_else(|p| p.into_inner());
    summary.changed.sort();
    summary.failed.sort_by(|a, b| a.0.cmp(&b.0));
    summary
}

/// A cheap test before parsing: could this file be a sops file at all? (Skips large binaries
/// and plain files without reading them twice.)
pub fn may_be_sops(bytes: &[u8]) -> bool {
    let needle: &[u8] = b"sops";
    bytes.windows(needle.len()).any(|w| w == needle)
}
