//! `exec-env` and `exec-file`: hand decrypted values to another program without writing them
//! to a regular file (exec-file uses a FIFO unless `--no-fifo`).

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};

use anyhow::{Context, Result, bail};
use sealops::crypto::SecretBytes;
use sealops::sops::ops::{self, Opened};
use sealops::sops::store::Format;
use sealops::sops::tree::{Item, Key, Value};

use super::args::{ExecEnvArgs, ExecFileArgs, Global, KeyArgs, TypeArgs};
use super::exit::{Code, Exit, op_error};
use super::{files, io, keys};

/// The name sops gives the temporary file.
const FALLBACK_FILENAME: &str = "tmp-file";

fn open(
    global: &Global,
    file: &Path,
    types: &TypeArgs,
    keys_args: &KeyArgs,
) -> Result<(Opened, sealops::sops::store::StoreConfig, Format)> {
    super::reject_keyservice(global)?;
    let (in_fmt, out_fmt) = files::formats(types, Some(file))?;
    let config = files::load_config(global)?;
    let sc = files::store_config(global, config.as_ref());
    let options = super::open_options(keys_args)?;
    let input = io::read_input(&files::input(Some(file)), io::input_limit(in_fmt == Format::Binary))?;
    let keyring = keys::keyring()?;
    let opened = ops::open(&*files::store(in_fmt, sc), &input, &keyring, &options).map_err(op_error)?;
    Ok((opened, sc, out_fmt))
}

pub fn run_env(global: &Global, a: ExecEnvArgs) -> Result<()> {
    if a.background && a.same_process {
        bail!(Exit::new(
            Code::ConflictingParameters,
            "Error: The --same-process flag cannot be used with --background"
        ));
    }
    let types = TypeArgs { input_type: a.input_type.clone(), ..TypeArgs::default() };
    let (opened, _, _) = open(global, &a.file, &types, &a.keys)?;
    let vars = environment(&opened)?;
    let mut cmd = shell(&a.command);
    if a.pristine {
        cmd.env_clear();
    }
    for (k, v) in &vars {
        cmd.env(k, v);
    }
    if let Some(user) = &a.user {
        as_user(&mut cmd, user)?;
    }
    if a.same_process {
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            let err = cmd.exec();
            bail!(Exit::new(Code::Generic, format!("could not run {:?}: {err}", a.command)));
        }
    }
    exit_like(finish(cmd, a.background)?)
}

/// Top-level keys and scalar values as environment variables (sops's rules).
fn environment(opened: &Opened) -> Result<Vec<(String, OsString)>> {
    let mut vars = Vec::new();
    for item in opened.docs.first().map(Vec::as_slice).unwrap_or_default() {
        let Item::Pair { key, value } = item else { continue };
        let name = match key {
            Key::Str(k) => k.clone(),
            Key::Other { kind, .. } => {
                bail!(Exit::new(Code::Generic, format!("cannot use non-string keys in environment, got {kind}")))
            }
        };
        if matches!(value, Value::Map(_) | Value::List(_)) {
            bail!(Exit::new(Code::Generic, format!("cannot use complex value in environment; offending key {name}")));
        }
        if name.contains('=') || name.is_empty() {
            bail!(Exit::new(Code::Generic, format!("cannot use keys with '=' in environment: {name}")));
        }
        let text = SecretBytes::new(sealops::sops::dotenv::val_to_string(value));
        if text.expose().contains(&0) {
            bail!(Exit::new(
                Code::Generic,
                format!("the value of {name} contains a NUL byte and cannot be an environment variable")
            ));
        }
        vars.push((name, os_string(text.expose())));
    }
    Ok(vars)
}

#[cfg(unix)]
fn os_string(bytes: &[u8]) -> OsString {
    use std::os::unix::ffi::OsStringExt;
    OsString::from_vec(bytes.to_vec())
}

#[cfg(not(unix))]
fn os_string(bytes: &[u8]) -> OsString {
    OsString::from(String::from_utf8_lossy(bytes).into_owned())
}

pub fn run_file(global: &Global, a: ExecFileArgs) -> Result<()> {
    if let Some(name) = &a.filename {
        let p = Path::new(name);
        if p.is_absolute() || p.components().count() != 1 || name == ".." || name == "." {
            bail!(Exit::new(Code::Generic, "The provided filename is not a local path."));
        }
    }
    let (opened, sc, out_fmt) = open(global, &a.file, &a.types, &a.keys)?;
    let plain = opened.emit_plain(&*files::store(out_fmt, sc)).map_err(op_error)?;
    drop(opened);

    let dir = tempfile::Builder::new().prefix(".sops").tempdir().context("creating a private temporary directory")?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))?;
    }
    let path = dir.path().join(a.filename.as_deref().unwrap_or(FALLBACK_FILENAME));
    let command = a.command.replace("{}", &path.to_string_lossy());
    let mut cmd = shell(&command);
    if let Some(user) = &a.user {
        as_user(&mut cmd, user)?;
    }
    let code = if a.no_fifo || !cfg!(unix) {
        std::fs::write(&path, plain.expose()).context("writing the temporary file")?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        }
        let result = finish(cmd, a.background);
        if !a.background {
            let _ = std::fs::write(&path, vec![0u8; plain.len()]);
        }
        result
    } else {
        fifo::serve(&path, plain, cmd, a.background)
    };
    // Remove the temporary directory before taking on the command's exit code:
    // `std::process::exit` runs no destructors, and a failing command must not leave the
    // plaintext behind.
    drop(dir);
    exit_like(code?)
}

#[cfg(unix)]
mod fifo {
    use super::*;

    /// Creates a FIFO, feeds it from a thread while the command runs, and makes sure the
    /// feeding thread ends even when the command never opens the file.
    pub fn serve(path: &Path, plain: SecretBytes, cmd: Command, background: bool) -> Result<i32> {
        make(path).with_context(|| format!("creating the FIFO {}", path.display()))?;
        let target: PathBuf = path.to_path_buf();
        let writer = std::thread::spawn(move || {
            // Opening for writing blocks until a reader opens the FIFO.
            if let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(&target) {
                let _ = f.write_all(plain.expose());
            }
        });
        let result = finish(cmd, background);
        release(path, &writer);
        let _ = writer.join();
        result
    }

    /// Creates a FIFO only the owner can open.
    fn make(path: &Path) -> rustix::io::Result<()> {
        rustix::fs::mknodat(
            rustix::fs::CWD,
            path,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
    }

    /// Makes sure `writer` ends when the command did not read the FIFO. The writer may not even
    /// have reached its `open` yet (a busy machine), so a read end is held open until it is
    /// done, and what it writes is drained and dropped. Opening the read end and closing it at
    /// once raced with a late writer, whose `open` then waited for a reader forever.
    fn release(path: &Path, writer: &std::thread::JoinHandle<()>) {
        if writer.is_finished() {
            return;
        }
        let Ok(mut reader) =
            std::fs::OpenOptions::new().read(true).custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32).open(path)
        else {
            return;
        };
        let mut drained = zeroize::Zeroizing::new([0u8; 8192]);
        while !writer.is_finished() {
            match reader.read(&mut drained[..]) {
                Ok(n) if n > 0 => {}
                _ => std::thread::sleep(std::time::Duration::from_millis(1)),
            }
        }
    }

    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;

    #[cfg(test)]
    mod tests {
        use super::*;

        /// A writer that reaches its `open` only after the command is done still ends, and
        /// so does one that writes more than a pipe holds.
        #[test]
        fn a_late_writer_is_released() {
            for size in [16, 1 << 20] {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("fifo");
                make(&path).unwrap();
                let target = path.clone();
                let writer = std::thread::spawn(move || {
                    std::thread::sleep(std::time::Duration::from_millis(200));
                    if let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(&target) {
                        let _ = f.write_all(&vec![b'x'; size]);
                    }
                });
                release(&path, &writer);
                assert!(writer.is_finished(), "the writer of {size} bytes is still blocked");
                writer.join().unwrap();
            }
        }
    }
}

#[cfg(not(unix))]
mod fifo {
    use super::*;
    pub fn serve(_: &Path, _: SecretBytes, _: Command, _: bool) -> Result<i32> {
        bail!("FIFOs need a Unix system: use --no-fifo")
    }
}

fn shell(command: &str) -> Command {
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c").arg(command);
    cmd
}

/// Runs the command and returns its exit code (0 when started in the background). The caller
/// cleans up, then ends with that code ([`exit_like`]).
fn finish(mut cmd: Command, background: bool) -> Result<i32> {
    if background {
        tracing::warn!("--background is deprecated in sops and will be removed in a future version");
        cmd.spawn().context("starting the command")?;
        return Ok(0);
    }
    let status: ExitStatus = cmd.status().context("running the command")?;
    Ok(if status.success() { 0 } else { status.code().unwrap_or(1) })
}

/// The command's exit code becomes ours, as in sops.
fn exit_like(code: i32) -> Result<()> {
    if code != 0 {
        std::process::exit(code);
    }
    Ok(())
}

/// `--user`: run as another user (needs the privilege to switch), with HOME/USER set.
#[cfg(unix)]
fn as_user(cmd: &mut Command, user: &str) -> Result<()> {
    use std::os::unix::process::CommandExt;
    let passwd = std::fs::read_to_string("/etc/passwd").context("reading /etc/passwd to look up --user")?;
    let entry = passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.len() >= 7 && f[0] == user)
        .ok_or_else(|| Exit::new(Code::Generic, format!("user {user:?} not found")))?;
    let uid: u32 = entry[2].parse().context("uid in /etc/passwd")?;
    let gid: u32 = entry[3].parse().context("gid in /etc/passwd")?;
    cmd.uid(uid).gid(gid).env("HOME", entry[5]).env("USER", user).env("LOGNAME", user);
    Ok(())
}

#[cfg(not(unix))]
fn as_user(_: &mut Command, _: &str) -> Result<()> {
    bail!("--user needs a Unix system")
}
