//! File access for a build: confined to the build root, kustomize's load restrictor, the 5 MiB
//! per-file limit, remote resources refused. Owner: the core work package.
//!
//! Every path a kustomization names is joined to the kustomization's directory and
//! canonicalised (so `..` and symbolic links are resolved) before it is checked against the
//! build root: nothing outside the root is opened, whatever the links say (flux.md §2.6/§2.7,
//! Flux's secure FS).

use std::fs;
use std::path::{Path, PathBuf};

use crate::build::generator::FileSource;
use crate::manifest::MAX_FILE_BYTES;

/// kustomize's `--load-restrictor`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LoadRestrictor {
    /// `LoadRestrictionsRootOnly` (kustomize's default): a kustomization loads files only in or
    /// below its own directory; other kustomization directories may be anywhere in the root.
    #[default]
    RootOnly,
    /// `LoadRestrictionsNone` (what Flux uses): files anywhere inside the build root.
    None,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{file}: {field}: remote resources are not supported: {target}")]
    Remote { file: String, field: String, target: String },
    #[error("{file}: {field}: '{target}' is not in or below the build root")]
    OutsideRoot { file: String, field: String, target: String },
    #[error(
        "{file}: {field}: security; file '{target}' is not in or below '{dir}' (the load restrictor is LoadRestrictionsRootOnly)"
    )]
    Restricted { file: String, field: String, target: String, dir: String },
    #[error("{file}: {field}: '{target}': {message}")]
    Missing { file: String, field: String, target: String, message: String },
    #[error("{path}: file is {size} bytes, over the limit of {limit} bytes")]
    TooLarge { path: String, size: u64, limit: usize },
    #[error("{path}: not a regular file")]
    Irregular { path: String },
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("{path}: the build root cannot be opened: {message}")]
    Root { path: String, message: String },
}

impl LoadError {
    pub fn kind(&self) -> &'static str {
        match self {
            LoadError::Remote { .. } => "remote-not-supported",
            LoadError::OutsideRoot { .. } | LoadError::Restricted { .. } => "load-restricted",
            LoadError::Missing { .. } => "not-found",
            LoadError::TooLarge { .. } => "file-too-large",
            LoadError::Irregular { .. } | LoadError::Io { .. } | LoadError::Root { .. } => "io",
        }
    }
}

/// Where a path came from, for errors: the kustomization file (root-relative) and the field
/// (`resources[2]`).
#[derive(Clone, Copy)]
pub struct Origin<'a> {
    pub file: &'a str,
    pub field: &'a str,
}

/// What a `resources:` entry turned out to be.
pub enum Entry {
    File(PathBuf),
    Dir(PathBuf),
}

/// The file access of one build. Cheap to share between threads (no interior state).
#[derive(Clone, Debug)]
pub struct Loader {
    root: PathBuf,
    restrictor: LoadRestrictor,
}

impl Loader {
    pub fn new(root: &Path, restrictor: LoadRestrictor) -> Result<Self, LoadError> {
        let root = fs::canonicalize(root)
            .map_err(|e| LoadError::Root { path: root.display().to_string(), message: e.to_string() })?;
        Ok(Self { root, restrictor })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn restrictor(&self) -> LoadRestrictor {
        self.restrictor
    }

    /// `path` relative to the build root for messages (`.` for the root itself).
    pub fn display(&self, path: &Path) -> String {
        match path.strip_prefix(&self.root) {
            Ok(rel) if rel.as_os_str().is_empty() => ".".to_owned(),
            Ok(rel) => rel.display().to_string(),
            Err(_) => path.display().to_string(),
        }
    }

    /// Canonicalises a directory inside the root (the directory being built).
    pub fn confine_dir(&self, dir: &Path) -> Result<PathBuf, LoadError> {
        let canonical = fs::canonicalize(dir)
            .map_err(|e| LoadError::Io { path: dir.display().to_string(), message: e.to_string() })?;
        if !canonical.starts_with(&self.root) {
            return Err(LoadError::OutsideRoot {
                file: dir.display().to_string(),
                field: "path".to_owned(),
                target: dir.display().to_string(),
            });
        }
        if !canonical.is_dir() {
            return Err(LoadError::Io { path: self.display(&canonical), message: "not a directory".to_owned() });
        }
        Ok(canonical)
    }

    /// Resolves `target` as written in the kustomization in `dir`: refuses remote targets and
    /// anything outside the root; does not apply the load restrictor.
    fn resolve(&self, dir: &Path, target: &str, origin: Origin<'_>) -> Result<PathBuf, LoadError> {
        if looks_remote_scheme(target) {
            return Err(remote(target, origin));
        }
        let joined = dir.join(target);
        let canonical = match fs::canonicalize(&joined) {
            Ok(p) => p,
            Err(e) => {
                if looks_remote_host(target) {
                    return Err(remote(target, origin));
                }
                return Err(LoadError::Missing {
                    file: origin.file.to_owned(),
                    field: origin.field.to_owned(),
                    target: target.to_owned(),
                    message: io_message(&e),
                });
            }
        };
        if !canonical.starts_with(&self.root) {
            return Err(LoadError::OutsideRoot {
                file: origin.file.to_owned(),
                field: origin.field.to_owned(),
                target: target.to_owned(),
            });
        }
        Ok(canonical)
    }

    /// A `resources:` entry: a file (load restrictor applies) or a directory (a kustomization;
    /// kustomize lets those live anywhere).
    pub fn resource(&self, dir: &Path, target: &str, origin: Origin<'_>) -> Result<Entry, LoadError> {
        let path = self.resolve(dir, target, origin)?;
        if path.is_dir() {
            return Ok(Entry::Dir(path));
        }
        self.restrict(dir, &path, target, origin)?;
        Ok(Entry::File(path))
    }

    /// A directory entry (`components:`).
    pub fn directory(&self, dir: &Path, target: &str, origin: Origin<'_>) -> Result<PathBuf, LoadError> {
        let path = self.resolve(dir, target, origin)?;
        if !path.is_dir() {
            return Err(LoadError::Missing {
                file: origin.file.to_owned(),
                field: origin.field.to_owned(),
                target: target.to_owned(),
                message: "not a directory".to_owned(),
            });
        }
        Ok(path)
    }

    /// A file a kustomization names (patch, generator input): resolved, restricted and read.
    pub fn file(&self, dir: &Path, target: &str, origin: Origin<'_>) -> Result<Vec<u8>, LoadError> {
        let path = self.resolve(dir, target, origin)?;
        self.restrict(dir, &path, target, origin)?;
        self.read(&path)
    }

    fn restrict(&self, dir: &Path, path: &Path, target: &str, origin: Origin<'_>) -> Result<(), LoadError> {
        if self.restrictor == LoadRestrictor::RootOnly && !path.starts_with(dir) {
            return Err(LoadError::Restricted {
                file: origin.file.to_owned(),
                field: origin.field.to_owned(),
                target: target.to_owned(),
                dir: self.display(dir),
            });
        }
        Ok(())
    }

    /// Reads a canonical path inside the root: a regular file of at most 5 MiB.
    pub fn read(&self, path: &Path) -> Result<Vec<u8>, LoadError> {
        let shown = self.display(path);
        let meta = fs::metadata(path).map_err(|e| LoadError::Io { path: shown.clone(), message: io_message(&e) })?;
        if !meta.is_file() {
            return Err(LoadError::Irregular { path: shown });
        }
        if meta.len() > MAX_FILE_BYTES as u64 {
            return Err(LoadError::TooLarge { path: shown, size: meta.len(), limit: MAX_FILE_BYTES });
        }
        let bytes = fs::read(path).map_err(|e| LoadError::Io { path: shown.clone(), message: io_message(&e) })?;
        // The file may have grown between the two calls.
        if bytes.len() > MAX_FILE_BYTES {
            return Err(LoadError::TooLarge { path: shown, size: bytes.len() as u64, limit: MAX_FILE_BYTES });
        }
        Ok(bytes)
    }

    /// The kustomization file of `dir`: `kustomization.yaml`, `kustomization.yml` or
    /// `Kustomization`; `None` if there is none; an error if there are several (as kustomize).
    pub fn kustomization_file(&self, dir: &Path) -> Result<Option<PathBuf>, LoadError> {
        let mut found = Vec::new();
        for name in KUSTOMIZATION_FILE_NAMES {
            let candidate = dir.join(name);
            if fs::symlink_metadata(&candidate).is_ok() {
                found.push(candidate);
            }
        }
        match found.len() {
            0 => Ok(None),
            1 => {
                let path = found.remove(0);
                let canonical = fs::canonicalize(&path)
                    .map_err(|e| LoadError::Io { path: self.display(&path), message: io_message(&e) })?;
                if !canonical.starts_with(&self.root) {
                    let shown = self.display(&path);
                    return Err(LoadError::OutsideRoot {
                        file: shown.clone(),
                        field: "kustomization".to_owned(),
                        target: shown,
                    });
                }
                Ok(Some(canonical))
            }
            _ => {
                Err(LoadError::Io { path: self.display(dir), message: "found multiple kustomization files".to_owned() })
            }
        }
    }
}

/// kustomize's `RecognizedKustomizationFileNames`.
pub const KUSTOMIZATION_FILE_NAMES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

fn remote(target: &str, origin: Origin<'_>) -> LoadError {
    LoadError::Remote { file: origin.file.to_owned(), field: origin.field.to_owned(), target: target.to_owned() }
}

fn io_message(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_owned(),
        _ => e.to_string(),
    }
}

/// A URL or go-getter spelling: never a local path.
fn looks_remote_scheme(target: &str) -> bool {
    let lower = target.to_ascii_lowercase();
    ["https://", "http://", "ssh://", "git::", "git@", "file://", "s3::", "gcs::", "hg::"]
        .iter()
        .any(|p| lower.starts_with(p))
}

/// What kustomize would try to clone when no local path of that name exists: a known Git
/// host, or a ref/version query.
fn looks_remote_host(target: &str) -> bool {
    let lower = target.to_ascii_lowercase();
    ["github.com/", "gitlab.com/", "bitbucket.org/", "dev.azure.com/", "ssh.dev.azure.com/"]
        .iter()
        .any(|p| lower.starts_with(p))
        || lower.contains("?ref=")
        || lower.contains("?version=")
        || lower.contains(".git//")
}

/// Generator inputs of one kustomization, read through the loader (restrictor included).
pub struct DirFiles<'a> {
    pub loader: &'a Loader,
    pub dir: &'a Path,
    /// The kustomization file, root-relative, for errors.
    pub file: &'a str,
    /// The generator field (`configMapGenerator[0]`), for errors.
    pub field: &'a str,
}

impl FileSource for DirFiles<'_> {
    fn read(&self, path: &str) -> Result<Vec<u8>, String> {
        self.loader.file(self.dir, path, Origin { file: self.file, field: self.field }).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> Origin<'static> {
        Origin { file: "app/kustomization.yaml", field: "resources[0]" }
    }

    fn tree() -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("root");
        fs::create_dir_all(root.join("app/sub")).unwrap();
        fs::create_dir_all(root.join("other")).unwrap();
        fs::write(root.join("app/a.yaml"), "kind: A\n").unwrap();
        fs::write(root.join("app/sub/b.yaml"), "kind: B\n").unwrap();
        fs::write(root.join("other/c.yaml"), "kind: C\n").unwrap();
        fs::write(t.path().join("outside.yaml"), "kind: X\n").unwrap();
        t
    }

    #[test]
    fn files_below_the_kustomization_load() {
        let t = tree();
        let l = Loader::new(&t.path().join("root"), LoadRestrictor::RootOnly).unwrap();
        let app = l.root().join("app");
        assert_eq!(l.file(&app, "a.yaml", origin()).unwrap(), b"kind: A\n");
        assert_eq!(l.file(&app, "./sub/../sub/b.yaml", origin()).unwrap(), b"kind: B\n");
    }

    #[test]
    fn root_only_refuses_sibling_files_none_allows_them() {
        let t = tree();
        let l = Loader::new(&t.path().join("root"), LoadRestrictor::RootOnly).unwrap();
        let app = l.root().join("app");
        let err = l.file(&app, "../other/c.yaml", origin()).unwrap_err();
        assert_eq!(err.kind(), "load-restricted");
        assert!(err.to_string().starts_with("app/kustomization.yaml: resources[0]: security; file '../other/c.yaml'"));
        let l = Loader::new(&t.path().join("root"), LoadRestrictor::None).unwrap();
        assert_eq!(l.file(&app, "../other/c.yaml", origin()).unwrap(), b"kind: C\n");
        // Directories are allowed anywhere in the root, even with RootOnly.
        let l = Loader::new(&t.path().join("root"), LoadRestrictor::RootOnly).unwrap();
        assert!(matches!(l.resource(&app, "../other", origin()).unwrap(), Entry::Dir(_)));
    }

    #[test]
    fn dot_dot_and_symlinks_cannot_leave_the_root() {
        let t = tree();
        let l = Loader::new(&t.path().join("root"), LoadRestrictor::None).unwrap();
        let app = l.root().join("app");
        let err = l.file(&app, "../../outside.yaml", origin()).unwrap_err();
        assert_eq!(err.kind(), "load-restricted");
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(t.path().join("outside.yaml"), l.root().join("app/link.yaml")).unwrap();
            let err = l.file(&app, "link.yaml", origin()).unwrap_err();
            assert_eq!(
                err.to_string(),
                "app/kustomization.yaml: resources[0]: 'link.yaml' is not in or below the build root"
            );
            std::os::unix::fs::symlink(t.path(), l.root().join("app/up")).unwrap();
            assert!(l.resource(&app, "up", origin()).is_err());
        }
    }

    #[test]
    fn remote_targets_are_refused_with_field_and_file() {
        let t = tree();
        let l = Loader::new(&t.path().join("root"), LoadRestrictor::None).unwrap();
        let app = l.root().join("app");
        for target in [
            "https://github.com/org/repo//base?ref=v1",
            "git::https://example.com/repo.git",
            "github.com/org/repo/base?ref=main",
            "git@github.com:org/repo.git",
        ] {
            let err =
                l.resource(&app, target, Origin { file: "kustomization.yaml", field: "resources[2]" }).err().unwrap();
            assert_eq!(err.kind(), "remote-not-supported");
            assert_eq!(
                err.to_string(),
                format!("kustomization.yaml: resources[2]: remote resources are not supported: {target}")
            );
        }
    }

    #[test]
    fn size_limit_and_irregular_files() {
        let t = tree();
        let l = Loader::new(&t.path().join("root"), LoadRestrictor::None).unwrap();
        let big = l.root().join("app/big.yaml");
        fs::write(&big, vec![b' '; MAX_FILE_BYTES + 1]).unwrap();
        let err = l.file(&l.root().join("app"), "big.yaml", origin()).unwrap_err();
        assert_eq!(err.kind(), "file-too-large");
        assert!(err.to_string().starts_with("app/big.yaml: file is 5242881 bytes"));
        assert_eq!(l.read(&l.root().join("app")).unwrap_err().kind(), "io");
    }

    #[test]
    fn missing_files_name_the_target() {
        let t = tree();
        let l = Loader::new(&t.path().join("root"), LoadRestrictor::None).unwrap();
        let err = l.file(&l.root().join("app"), "nope.yaml", origin()).unwrap_err();
        assert_eq!(err.to_string(), "app/kustomization.yaml: resources[0]: 'nope.yaml': no such file or directory");
    }

    #[test]
    fn several_kustomization_files_are_an_error() {
        let t = tree();
        let l = Loader::new(&t.path().join("root"), LoadRestrictor::None).unwrap();
        let app = l.root().join("app");
        assert!(l.kustomization_file(&app).unwrap().is_none());
        fs::write(app.join("kustomization.yaml"), "resources: []\n").unwrap();
        assert!(l.kustomization_file(&app).unwrap().is_some());
        fs::write(app.join("Kustomization"), "resources: []\n").unwrap();
        assert!(l.kustomization_file(&app).is_err());
    }
}
