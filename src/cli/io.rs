//! Reading inputs and writing outputs, safely.
//!
//! Every file write goes to a temporary file in the destination's directory, is flushed to disk
//! and then renamed over the destination, so a crash or an error leaves either the old content
//! or the new one, never a half-written file. In-place rewrites keep the file's permissions.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::exit::{Code, Exit};
use sealops::pages::PageVec;

/// Largest input the structured stores accept by default (`SEALOPS_MAX_INPUT_BYTES` overrides).
pub const DEFAULT_MAX_INPUT: usize = 64 << 20;
/// Largest input the binary store accepts by default.
pub const DEFAULT_MAX_BINARY_INPUT: usize = 2 << 30;

/// Where a command reads from.
pub enum Input<'a> {
    File(&'a Path),
    Stdin,
}

impl Input<'_> {
    pub fn is_stdin(&self) -> bool {
        matches!(self, Input::Stdin)
    }
}

/// Reads the input, refusing anything larger than `limit` before reading it all.
pub fn read_input(input: &Input<'_>, limit: usize) -> Result<PageVec> {
    match input {
        Input::File(path) => {
            let meta = fs::metadata(path).map_err(|e| {
                if e.kind() == io::ErrorKind::NotFound {
                    let shown = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
                    anyhow::Error::new(Exit::new(
                        Code::NoFileSpecified,
                        format!("Error: cannot operate on non-existent file \"{}\"", shown.display()),
                    ))
                } else {
                    anyhow::Error::new(e).context(format!("reading {}", path.display()))
                }
            })?;
            if meta.is_dir() {
                bail!(Exit::new(Code::CouldNotReadInputFile, format!("{} is a directory", path.display())));
            }
            if meta.len() > limit as u64 {
                bail!(too_large(&path.display().to_string(), meta.len(), limit));
            }
            let buf = read_file(path).with_context(|| format!("reading {}", path.display()))?;
            if buf.len() > limit {
                bail!(too_large(&path.display().to_string(), buf.len() as u64, limit));
            }
            Ok(buf)
        }
        Input::Stdin => {
            let mut buf = Vec::new();
            io::stdin().lock().take(limit as u64 + 1).read_to_end(&mut buf).context("reading standard input")?;
            if buf.len() > limit {
                bail!(too_large("standard input", buf.len() as u64, limit));
            }
            Ok(buf.into())
        }
    }
}

/// Files at least this large are read by two threads, a half each: the kernel's copy into
/// fresh pages was a tenth of the time of a large decrypt, and it divides.
const PARALLEL_READ_MIN: u64 = 1 << 20;

/// Reads a whole file, as [`fs::read`] does.
fn read_file(path: &Path) -> io::Result<PageVec> {
    use std::os::unix::fs::FileExt as _;

    let mut file = fs::File::open(path)?;
    let meta = file.metadata()?;
    let len = meta.len();
    if meta.is_file() && len >= PARALLEL_READ_MIN {
        let len = usize::try_from(len).map_err(io::Error::other)?;
        // Zeroed fresh pages, so each thread's half is first touched by that thread's read.
        let mut buf = PageVec::zeroed(len);
        let (first, second) = buf.as_mut_slice().split_at_mut(len / 2);
        let at = first.len() as u64;
        let (read_first, read_second) = std::thread::scope(|scope| {
            let second = scope.spawn(|| file.read_exact_at(second, at));
            (file.read_exact_at(first, 0), second.join())
        });
        let read_second = read_second.unwrap_or_else(|_| Err(io::Error::other("reading thread panicked")));
        match read_first.and(read_second) {
            Ok(()) => {
                // Whatever was appended meanwhile is read too, as a single read would.
                io::Seek::seek(&mut file, io::SeekFrom::Start(len as u64))?;
                let mut appended = Vec::new();
                file.read_to_end(&mut appended)?;
                buf.extend_from_slice(&appended);
                return Ok(buf);
            }
            // Shrunk meanwhile: read it again from the start.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                io::Seek::seek(&mut file, io::SeekFrom::Start(0))?;
            }
            Err(e) => return Err(e),
        }
    }
    let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.read_to_end(&mut buf)?;
    Ok(buf.into())
}

fn too_large(what: &str, size: u64, limit: usize) -> Exit {
    Exit::new(
        Code::CouldNotReadInputFile,
        format!(
            "{what} is {size} bytes, more than the limit of {limit} bytes for this format (set SEALOPS_MAX_INPUT_BYTES to raise it)"
        ),
    )
}

/// The input limit for a format, from the environment or the defaults.
pub fn input_limit(binary: bool) -> usize {
    std::env::var("SEALOPS_MAX_INPUT_BYTES").ok().and_then(|v| v.trim().parse().ok()).unwrap_or(if binary {
        DEFAULT_MAX_BINARY_INPUT
    } else {
        DEFAULT_MAX_INPUT
    })
}

/// Where a command writes.
#[derive(Clone, Debug)]
pub enum Output {
    Stdout,
    File(PathBuf),
}

/// Writes `bytes` to the output: stdout directly, files atomically.
pub fn write_output(output: &Output, bytes: &[u8]) -> Result<()> {
    match output {
        Output::Stdout => {
            let mut out = io::stdout().lock();
            out.write_all(bytes)
                .and_then(|_| out.flush())
                .or_else(ignore_broken_pipe)
                .context("writing to standard output")
        }
        Output::File(path) => write_atomic(path, bytes),
    }
}

fn ignore_broken_pipe(e: io::Error) -> io::Result<()> {
    if e.kind() == io::ErrorKind::BrokenPipe { Ok(()) } else { Err(e) }
}

/// Replaces `path` with `bytes` through a temporary file and a rename. The new file keeps the
/// old one's permissions; a new file is created readable by its owner only.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    // Through a symbolic link, replace its target as sops does (it writes through the link):
    // renaming over the link itself would leave the target, possibly plaintext, as it was.
    let resolved = match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => fs::canonicalize(path).ok(),
        _ => None,
    };
    let path = resolved.as_deref().unwrap_or(path);
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new().prefix(".sealops-").suffix(".tmp").tempfile_in(dir).map_err(|e| {
        Exit::new(Code::CouldNotWriteOutputFile, format!("could not create a temporary file in {}: {e}", dir.display()))
    })?;
    let permissions = match fs::metadata(path) {
        Ok(meta) => Some(meta.permissions()),
        Err(_) => owner_only(),
    };
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .and_then(|_| permissions.map_or(Ok(()), |p| fs::set_permissions(tmp.path(), p)))
        .map_err(|e| Exit::new(Code::CouldNotWriteOutputFile, format!("could not write {}: {e}", path.display())))?;
    tmp.persist(path).map_err(|e| {
        Exit::new(Code::CouldNotWriteOutputFile, format!("could not replace {}: {}", path.display(), e.error))
    })?;
    Ok(())
}

/// Permissions for a file that did not exist: owner read/write only (it may hold plaintext).
#[cfg(unix)]
fn owner_only() -> Option<fs::Permissions> {
    use std::os::unix::fs::PermissionsExt;
    Some(fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn owner_only() -> Option<fs::Permissions> {
    None
}

/// True when standard error is a terminal (progress bars, prompts).
pub fn stderr_is_terminal() -> bool {
    use std::io::IsTerminal;
    io::stderr().is_terminal()
}

/// True when standard input is a terminal (prompts).
pub fn stdin_is_terminal() -> bool {
    use std::io::IsTerminal;
    io::stdin().is_terminal()
}

/// Asks a yes/no question on the terminal.
pub fn confirm(question: &str) -> Result<bool> {
    let mut err = io::stderr().lock();
    write!(err, "{question} (y/n): ")?;
    err.flush()?;
    let mut answer = String::new();
    io::stdin().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_files_read_in_halves_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let min = PARALLEL_READ_MIN as usize;
        // Around the threshold of reading in halves, and of reading into a mapping (2 MiB).
        for len in [min - 1, min, min + 3, (2 << 20) - 1, 2 << 20, (4 << 20) + 3] {
            let path = dir.path().join(format!("f{len}"));
            let bytes: Vec<u8> = (0..len).map(|i| (i * 7 + i / 4096) as u8).collect();
            fs::write(&path, &bytes).unwrap();
            let read = read_input(&Input::File(&path), DEFAULT_MAX_INPUT).unwrap();
            assert!(*read == bytes[..], "a {len}-byte file reads back whole");
            let err = read_input(&Input::File(&path), len - 1).map(drop).unwrap_err().to_string();
            assert!(err.contains(&format!("{len} bytes")), "{err}");
        }
    }

    #[test]
    fn atomic_write_replaces_and_keeps_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.yaml");
        fs::write(&path, b"old").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        }
        write_atomic(&path, b"new").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o640);
        }
        let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
    }

    #[cfg(unix)]
    #[test]
    fn atomic_write_goes_through_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("real.yaml");
        let link = dir.path().join("link.yaml");
        fs::write(&target, b"old").unwrap();
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write_atomic(&link, b"new").unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link stays a link");
        assert_eq!(fs::read(&target).unwrap(), b"new");
    }

    #[test]
    fn missing_and_oversized_inputs() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.yaml");
        let err = read_input(&Input::File(&missing), 10).map(drop).unwrap_err();
        assert_eq!(err.downcast_ref::<Exit>().map(|e| e.code), Some(Code::NoFileSpecified));
        let big = dir.path().join("big.yaml");
        fs::write(&big, vec![b'a'; 11]).unwrap();
        let err = read_input(&Input::File(&big), 10).map(drop).unwrap_err();
        assert_eq!(err.downcast_ref::<Exit>().map(|e| e.code), Some(Code::CouldNotReadInputFile));
    }
}
