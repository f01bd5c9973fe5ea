//! Shared helpers for the integration tests.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use sealops::crypto::Keyring;

/// `tests/data/…`
pub fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(rel)
}

pub fn read(rel: &str) -> Vec<u8> {
    std::fs::read(data(rel)).unwrap_or_else(|e| panic!("reading tests/data/{rel}: {e}"))
}

/// A keyring holding the identities of the given identity files (under tests/data).
pub fn keyring(files: &[&str]) -> Keyring {
    let mut ring = Keyring::new();
    for f in files {
        let text = String::from_utf8(read(f)).expect("identity files are text");
        ring.add_age_file(*f, &text).unwrap_or_else(|e| panic!("{f}: {e}"));
    }
    ring
}

// ---------------------------------------------------------------------------------------------
// Running the `sealops` binary (cli, bad_input and log_canary tests).
// ---------------------------------------------------------------------------------------------

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The committed public test keys (`keys/README.md`): alice is the usual recipient, bob the
/// second one, carol the key that is not a recipient.
pub const ALICE: &str = "age10x0ecvg02y8w7knjlfzl7q7a3ntxd0hzk85zr4rfxgfr36mxquus84hz98";
pub const BOB: &str = "age1dt83qq63rm2s6az3uj6e3v5epjt0nqcqpalthay93m7jnwh5a50qxk4y05";
pub const CAROL: &str = "age1gpu27caygpwzwt6s7mxhhu3vsf8mxq27jqe0qltsw60vdk0qf5sqfdf94d";

/// `keys/age/<name>.agekey`
pub fn key_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("keys/age").join(format!("{name}.agekey"))
}

/// A private directory tree for one test: the working directory, `HOME`, `XDG_CONFIG_HOME` and
/// `TMPDIR` all live inside it, so no test reads the developer's keys or config.
pub struct Sandbox {
    _dir: tempfile::TempDir,
    pub root: PathBuf,
    pub home: PathBuf,
    pub xdg: PathBuf,
    pub tmp: PathBuf,
}

/// What a run of the binary did.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Run {
    pub fn out(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// Asserts success and returns self.
    #[track_caller]
    pub fn ok(self) -> Self {
        assert_eq!(self.code, Some(0), "expected success; stderr:\n{}\nstdout:\n{}", self.stderr, self.out());
        self
    }

    /// Asserts the exit code and returns self.
    #[track_caller]
    pub fn code(self, code: i32) -> Self {
        assert_eq!(self.code, Some(code), "wrong exit code; stderr:\n{}\nstdout:\n{}", self.stderr, self.out());
        self
    }

    /// Asserts that standard error contains `needle`.
    #[track_caller]
    pub fn err_has(self, needle: &str) -> Self {
        assert!(self.stderr.contains(needle), "stderr lacks {needle:?}:\n{}", self.stderr);
        self
    }

    /// Asserts that a failure was a clean error, not a crash.
    #[track_caller]
    pub fn clean_failure(self) -> Self {
        assert!(self.code.is_some_and(|c| c != 0 && c != 101), "expected a clean error exit, got {:?}", self.code);
        assert!(!self.stderr.contains("panicked"), "panic:\n{}", self.stderr);
        assert!(!self.stderr.trim().is_empty(), "a failure must say why");
        self
    }

    /// Asserts that neither output contains `secret`.
    #[track_caller]
    pub fn leaks_nothing(self, secret: &str) -> Self {
        assert!(!self.out().contains(secret), "stdout contains {secret:?}:\n{}", self.out());
        assert!(!self.stderr.contains(secret), "stderr contains {secret:?}:\n{}", self.stderr);
        self
    }
}

impl Sandbox {
    pub fn new() -> Self {
        let dir = tempfile::Builder::new().prefix("sealops-it-").tempdir().expect("temp dir");
        // Canonical, so paths the binary prints compare equal to ours.
        let base = dir.path().canonicalize().expect("canonical temp dir");
        let (root, home, tmp) = (base.join("work"), base.join("home"), base.join("tmp"));
        let xdg = home.join(".config");
        for d in [&root, &xdg, &tmp] {
            std::fs::create_dir_all(d).expect("sandbox dirs");
        }
        Sandbox { _dir: dir, root, home, xdg, tmp }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// Writes `bytes` to `rel` (creating directories) and returns the full path.
    pub fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("parent dir");
        }
        std::fs::write(&p, bytes).expect("writing a sandbox file");
        p
    }

    pub fn read(&self, rel: &str) -> Vec<u8> {
        std::fs::read(self.path(rel)).unwrap_or_else(|e| panic!("reading {rel}: {e}"))
    }

    pub fn read_str(&self, rel: &str) -> String {
        String::from_utf8(self.read(rel)).expect("utf-8")
    }

    /// A command for the binary with a clean environment: nothing inherited but `PATH` (so no
    /// `SOPS_*`, `EDITOR`, `RUST_LOG`, `SEALOPS_*` of the developer's); `HOME`,
    /// `XDG_CONFIG_HOME` and `TMPDIR` in the sandbox; `SOPS_AGE_KEY_FILE` = alice's key.
    pub fn cmd(&self, args: &[&str]) -> Command {
        self.cmd_via(Path::new(env!("CARGO_BIN_EXE_sealops")), args)
    }

    /// Like [`Sandbox::cmd`], running `program` (e.g. a link named `sops`).
    pub fn cmd_via(&self, program: &Path, args: &[&str]) -> Command {
        let mut c = Command::new(program);
        c.args(args)
            .current_dir(&self.root)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()))
            .env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", &self.xdg)
            .env("TMPDIR", &self.tmp)
            .env("SOPS_AGE_KEY_FILE", key_file("alice"));
        c
    }

    /// Runs `sealops args…`.
    pub fn run(&self, args: &[&str]) -> Run {
        run(&mut self.cmd(args))
    }

    /// A link named `sops` to the binary (sops's command line).
    pub fn sops_link(&self) -> PathBuf {
        let link = self.home.join("bin/sops");
        if !link.exists() {
            std::fs::create_dir_all(link.parent().unwrap()).unwrap();
            std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_sealops"), &link).expect("symlink");
        }
        link
    }

    /// Encrypts `plain` (a file name decides the format) to `recipients`, writing `rel`.
    pub fn encrypt(&self, rel: &str, plain: &str, recipients: &str) -> PathBuf {
        let src = format!("{rel}.plain-src");
        let src_path = self.write(&src, plain);
        let run = self.run(&["encrypt", "--age", recipients, "--filename-override", rel, "--output", rel, &src]).ok();
        assert!(run.stdout.is_empty());
        std::fs::remove_file(src_path).unwrap();
        self.path(rel)
    }

    /// Every file under `dir` (relative names, sorted), hidden ones included.
    pub fn files_under(dir: &Path) -> Vec<String> {
        fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() && !p.is_symlink() {
                    walk(base, &p, out);
                } else {
                    out.push(p.strip_prefix(base).unwrap().display().to_string());
                }
            }
        }
        let mut out = Vec::new();
        walk(dir, dir, &mut out);
        out.sort();
        out
    }
}

/// Runs a command to completion with no standard input.
pub fn run(cmd: &mut Command) -> Run {
    run_with_stdin(cmd, None)
}

pub fn run_with_stdin(cmd: &mut Command, stdin: Option<&[u8]>) -> Run {
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("starting sealops");
    if let Some(bytes) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        let bytes = bytes.to_vec();
        // A writer thread: the child may exit (or fill its stdout) before reading everything.
        std::thread::spawn(move || {
            let _ = pipe.write_all(&bytes);
        });
    }
    let out = child.wait_with_output().expect("waiting for sealops");
    Run { code: out.status.code(), stdout: out.stdout, stderr: String::from_utf8_lossy(&out.stderr).into_owned() }
}

/// Runs a command, killing it after `limit`; `None` when it had to be killed. Output goes
/// through files, so a child that writes a lot cannot block on a full pipe.
pub fn run_with_timeout(cmd: &mut Command, scratch: &Path, limit: Duration) -> Option<Run> {
    let (out_path, err_path) = (scratch.join("timeout.stdout"), scratch.join("timeout.stderr"));
    cmd.stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap());
    let mut child = cmd.spawn().expect("starting sealops");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Some(Run {
        code: status.code(),
        stdout: std::fs::read(&out_path).unwrap(),
        stderr: String::from_utf8_lossy(&std::fs::read(&err_path).unwrap()).into_owned(),
    })
}

/// Writes an executable shell script (editors, key commands).
pub fn script(path: &Path, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.to_path_buf()
}

/// One field (`iv`, `data`, `tag`, `type`) of the `ENC[…]` envelope on `line`.
pub fn enc_field<'a>(line: &'a str, field: &str) -> Option<&'a str> {
    let start = line.find(&format!("{field}:"))? + field.len() + 1;
    let rest = &line[start..];
    Some(&rest[..rest.find([',', ']']).unwrap_or(rest.len())])
}

/// File mode bits (permissions only).
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The inode: an atomic rewrite (temporary file + rename) changes it; no write leaves it.
pub fn inode(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).unwrap().ino()
}

/// Flips the first base64 character after `marker` (inside an `ENC[…]` or the MAC).
pub fn tamper(text: &str, marker: &str) -> String {
    let at = text.find(marker).unwrap_or_else(|| panic!("{marker} not in the file")) + marker.len();
    let new = if text.as_bytes()[at] == b'A' { 'B' } else { 'A' };
    format!("{}{new}{}", &text[..at], &text[at + 1..])
}

/// A Python that can `import kubesealpy`: `$SEALOPS_KUBESEALPY_PYTHON`, then
/// `/opt/sopsvenv/bin/python`, then `target/interop-venv/bin/python`, then `python3` on `PATH`.
/// `None` (the test skips) when there is none, unless `SEALOPS_REQUIRE_INTEROP=1` (CI): then it
/// panics.
pub fn kubesealpy_python() -> Option<&'static Path> {
    static PY: OnceLock<Option<PathBuf>> = OnceLock::new();
    PY.get_or_init(|| {
        let required = std::env::var("SEALOPS_REQUIRE_INTEROP").is_ok_and(|v| v == "1");
        if let Some(explicit) = std::env::var_os("SEALOPS_KUBESEALPY_PYTHON").filter(|v| !v.is_empty()) {
            let p = PathBuf::from(explicit);
            // An explicit choice that does not work is a configuration error, never a skip.
            assert!(has_kubesealpy(&p), "SEALOPS_KUBESEALPY_PYTHON={}: cannot import kubesealpy", p.display());
            return Some(p);
        }
        let mut candidates = vec![
            PathBuf::from("/opt/sopsvenv/bin/python"),
            Path::new(env!("CARGO_MANIFEST_DIR")).join("target/interop-venv/bin/python"),
        ];
        if let Some(path) = std::env::var_os("PATH") {
            candidates.extend(std::env::split_paths(&path).map(|d| d.join("python3")));
        }
        match candidates.into_iter().find(|c| c.is_file() && has_kubesealpy(c)) {
            Some(p) => Some(p),
            None if required => panic!("SEALOPS_REQUIRE_INTEROP=1 but no Python with kubesealpy was found"),
            None => {
                eprintln!("skipping: no Python with kubesealpy (set SEALOPS_KUBESEALPY_PYTHON)");
                None
            }
        }
    })
    .as_deref()
}

fn has_kubesealpy(python: &Path) -> bool {
    Command::new(python).args(["-c", "import kubesealpy"]).env_clear().output().is_ok_and(|o| o.status.success())
}
