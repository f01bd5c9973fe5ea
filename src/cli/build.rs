//! `build`: render a kustomization directory like `kubectl kustomize DIR`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use sealops::build::{LoadRestrictor, RenderOptions, render};

use super::exit::{Code, Exit};
use super::io::{self, Output};

#[derive(Args)]
pub struct BuildArgs {
    /// The kustomization directories to build. Several are built in parallel on all cores and
    /// printed in the order given, one stream after the other (separated by `---`).
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Write the output to this file instead of standard output.
    #[arg(short = 'o', long = "output")]
    pub output: Option<PathBuf>,
    /// kustomize's load restrictor: files only below each kustomization's own directory
    /// (RootOnly, kustomize's default) or anywhere inside the build root (None, what Flux uses).
    #[arg(long, value_enum, default_value = "LoadRestrictionsRootOnly")]
    pub load_restrictor: Restrictor,
    /// No file outside this directory is read, whatever the kustomizations or symbolic links
    /// say (default: the Git work tree holding DIR, or the filesystem root outside Git).
    #[arg(long)]
    pub root: Option<PathBuf>,
    #[command(flatten)]
    pub post: super::build_post::PostBuildArgs,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Restrictor {
    #[value(name = "LoadRestrictionsRootOnly")]
    RootOnly,
    #[value(name = "LoadRestrictionsNone")]
    None,
}

pub fn run(a: BuildArgs) -> Result<()> {
    for dir in &a.dirs {
        if !dir.is_dir() {
            bail!(Exit::new(Code::CouldNotReadInputFile, format!("{}: not a directory", dir.display())));
        }
    }
    let options = RenderOptions {
        load_restrictor: match a.load_restrictor {
            Restrictor::RootOnly => LoadRestrictor::RootOnly,
            Restrictor::None => LoadRestrictor::None,
        },
        top: None,
    };
    // Identities are looked up (and a passphrase asked for) once, before the parallel part.
    let keyring = if a.post.decrypt { Some(super::keys::keyring()?) } else { None };
    let post = super::build_post::PostBuild::new(&a.post, keyring)?;
    let build_one = |dir: &PathBuf| -> Result<String> {
        let dir = std::fs::canonicalize(dir).with_context(|| format!("{}", dir.display()))?;
        let root = match &a.root {
            Some(root) => root.clone(),
            None => default_root(&dir),
        };
        let mut resources = render(&root, &dir, &options).map_err(|e| Exit::new(Code::Generic, e.to_string()))?;
        post.run(&mut resources)?;
        Ok(sealops::manifest::to_yaml_stream(resources.iter().map(|r| &r.object)))
    };
    let texts = in_parallel(&a.dirs, build_one)?;
    let mut text = String::new();
    for (i, part) in texts.iter().enumerate() {
        if i > 0 && !part.is_empty() {
            text.push_str("---\n");
        }
        text.push_str(part);
    }
    let output = match a.output {
        Some(path) => Output::File(path),
        None => Output::Stdout,
    };
    io::write_output(&output, text.as_bytes())
}

/// Builds every directory, spreading them over the cores; results keep the input order and the
/// first failure (in input order) is the error.
fn in_parallel<T: Send>(dirs: &[PathBuf], f: impl Fn(&PathBuf) -> Result<T> + Sync) -> Result<Vec<T>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(dirs.len()).max(1);
    if threads == 1 {
        return dirs.iter().map(&f).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<Option<Result<T>>> = (0..dirs.len()).map(|_| None).collect();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(dir) = dirs.get(i) else { break };
                        done.push((i, f(dir)));
                    }
                    done
                })
            })
            .collect();
        for worker in workers {
            for (i, result) in worker.join().unwrap_or_else(|p| std::panic::resume_unwind(p)) {
                results[i] = Some(result);
            }
        }
    });
    results.into_iter().map(|r| r.expect("every index is taken by one worker")).collect()
}

/// The nearest ancestor of `dir` with a `.git` entry (a repository's work tree), else `/`:
/// like `kubectl kustomize`, a build outside Git may use any directory on the machine.
fn default_root(dir: &Path) -> PathBuf {
    dir.ancestors()
        .find(|p| p.join(".git").exists())
        .or_else(|| dir.ancestors().last())
        .map_or_else(|| dir.to_path_buf(), Path::to_path_buf)
}
