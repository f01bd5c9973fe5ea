//! `build`: render a kustomization directory like `kubectl kustomize DIR`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use sealops::build::{LoadRestrictor, RenderOptions, render};

use super::exit::{Code, Exit};
use super::io::{self, Output};

#[derive(Args)]
pub struct BuildArgs {
    /// The kustomization directory to build.
    pub dir: PathBuf,
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
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Restrictor {
    #[value(name = "LoadRestrictionsRootOnly")]
    RootOnly,
    #[value(name = "LoadRestrictionsNone")]
    None,
}

pub fn run(a: BuildArgs) -> Result<()> {
    if !a.dir.is_dir() {
        bail!(Exit::new(Code::CouldNotReadInputFile, format!("{}: not a directory", a.dir.display())));
    }
    let dir = std::fs::canonicalize(&a.dir).with_context(|| format!("{}", a.dir.display()))?;
    let root = match &a.root {
        Some(root) => root.clone(),
        None => default_root(&dir),
    };
    let options = RenderOptions {
        load_restrictor: match a.load_restrictor {
            Restrictor::RootOnly => LoadRestrictor::RootOnly,
            Restrictor::None => LoadRestrictor::None,
        },
        top: None,
    };
    let resources = render(&root, &dir, &options).map_err(|e| Exit::new(Code::Generic, e.to_string()))?;
    let text = sealops::manifest::to_yaml_stream(resources.iter().map(|r| &r.object));
    let output = match a.output {
        Some(path) => Output::File(path),
        None => Output::Stdout,
    };
    io::write_output(&output, text.as_bytes())
}

/// The nearest ancestor of `dir` with a `.git` entry (a repository's work tree), else `/`:
/// like `kubectl kustomize`, a build outside Git may use any directory on the machine.
fn default_root(dir: &Path) -> PathBuf {
    dir.ancestors()
        .find(|p| p.join(".git").exists())
        .or_else(|| dir.ancestors().last())
        .map_or_else(|| dir.to_path_buf(), Path::to_path_buf)
}
