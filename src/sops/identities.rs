//! Where sops finds age identities for decryption, as a [`Keyring`].
//!
//! The contract is `shared/specs/sops.md` §2.2; behaviour follows getsops/sops
//! `age/keysource.go` (`loadIdentities`, `loadAgeSSHIdentities`, `getOutputFromCmd`),
//! `age/encrypted_keys.go` (`unwrapIdentities`) and `age/ssh_parse.go`.
//!
//! **Every** source is read and the identities are pooled; it is not "first found wins":
//! 1. SSH keys: `SOPS_AGE_SSH_PRIVATE_KEY_FILE`, the output of `SOPS_AGE_SSH_PRIVATE_KEY_CMD`,
//!    then `~/.ssh/id_ed25519` and `~/.ssh/id_rsa` when they exist;
//! 2. `SOPS_AGE_KEY` (identities separated by newlines or, since sops 3.13, any whitespace);
//! 3. the file named by `SOPS_AGE_KEY_FILE`;
//! 4. the output of `SOPS_AGE_KEY_CMD`;
//! 5. `<user config dir>/sops/age/keys.txt`, always read when it exists.
//!
//! Commands are split with google/shlex's rules ([`split_command`]), not run by a shell, and
//! get `SOPS_AGE_RECIPIENT=<recipient>` in their environment when the caller knows which
//! recipient it is decrypting for.
//!
//! Every location consulted is recorded with [`Keyring::note_location`] under the names sops
//! uses in "Did not find keys in locations …"; [`Discovered::unused_locations`] is exactly
//! sops's list of locations that gave no key (see [`did_not_find_keys`]).
//!
//! Deliberate differences from sops, decided for sealops:
//! * A source that is configured but broken (unreadable file, failing command, a line that is
//!   not an identity, wrong passphrase) fails the whole discovery with an error naming the
//!   source. sops 3.11+ collects such errors and only shows them when decryption fails.
//! * The default SSH files are only used when they work: `~/.ssh/id_rsa` (RSA is not
//!   implemented), a passphrase-protected `~/.ssh/id_ed25519`, or one that does not parse are
//!   skipped with a warning. Explicitly named SSH keys (`SOPS_AGE_SSH_PRIVATE_KEY_FILE`/`_CMD`)
//!   that cannot be used are errors.
//! * Passphrase-protected age identity files are opened during discovery, through the
//!   caller's [`DiscoveryOptions::passphrase`] callback (sops asks lazily, and first tries
//!   gpg-agent). Without a callback they are an error.
//! * `SOPS_AGE_SSH_PRIVATE_KEY_FILE`, `SOPS_AGE_KEY_FILE` and the two `_CMD` variables set to
//!   the empty string are treated as unset, with a warning (sops records an error).
//!
//! Secret text read from the environment, files and commands is held in [`SecretString`] /
//! [`SecretBytes`] and dropped as soon as it is parsed; errors never contain it (a command
//! is named by its variable and program name only, since its arguments may hold a key).

use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::crypto::Keyring;
use crate::crypto::age::{self, AgeError, Identity, ParsedIdentities};
use crate::crypto::secret::{SecretBytes, SecretString};
use crate::crypto::ssh::{self, SshError};

/// Identities, one per line or separated by whitespace.
pub const SOPS_AGE_KEY: &str = "SOPS_AGE_KEY";
/// Path of an age identity file.
pub const SOPS_AGE_KEY_FILE: &str = "SOPS_AGE_KEY_FILE";
/// Command printing age identities.
pub const SOPS_AGE_KEY_CMD: &str = "SOPS_AGE_KEY_CMD";
/// Path of an OpenSSH private key.
pub const SOPS_AGE_SSH_PRIVATE_KEY_FILE: &str = "SOPS_AGE_SSH_PRIVATE_KEY_FILE";
/// Command printing an OpenSSH private key.
pub const SOPS_AGE_SSH_PRIVATE_KEY_CMD: &str = "SOPS_AGE_SSH_PRIVATE_KEY_CMD";
/// Set for the commands: the recipient whose identity is wanted.
pub const SOPS_AGE_RECIPIENT: &str = "SOPS_AGE_RECIPIENT";
/// The default identity file, below the user config directory.
pub const KEYS_TXT: &str = "sops/age/keys.txt";
/// The largest identity source read (sops's limit for encrypted identity files).
pub const MAX_SOURCE_LEN: usize = 16 << 20;

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// sops's wording: `failed to parse '<location>' age identities: …`.
    #[error("failed to parse '{location}' age identities: {source}")]
    Parse { location: String, source: AgeError },
    #[error("failed to open {location} file {}: {source}", path.display())]
    Read { location: String, path: PathBuf, source: std::io::Error },
    #[error("'{location}' is larger than {MAX_SOURCE_LEN} bytes")]
    TooLarge { location: String },
    #[error("'{location}' is not UTF-8 text")]
    NotText { location: String },
    #[error("failed to parse the command in {location}: {message}")]
    CommandSyntax { location: String, message: &'static str },
    #[error("{location} is set but holds no command")]
    EmptyCommand { location: String },
    /// The command could not be started or exited unsuccessfully; `reason` is the OS error or
    /// the exit status. The command line is not shown: it may hold a key.
    #[error("failed to execute command {location} (program {program:?}): {reason}")]
    Command { location: String, program: String, reason: String },
    #[error("failed to load the SSH identity from {location}{}: {source}", path.as_ref().map(|p| format!(" ({})", p.display())).unwrap_or_default())]
    Ssh { location: String, path: Option<PathBuf>, source: SshError },
    #[error(
        "'{location}' is a passphrase-protected age identity file and no passphrase prompt is available (run in a terminal, or decrypt it with `age -d`)"
    )]
    PassphraseRequired { location: String },
    #[error("could not read the passphrase for '{location}': {message}")]
    PassphraseUnavailable { location: String, message: String },
    #[error("failed to decrypt the passphrase-protected identity file '{location}' (wrong passphrase?): {source}")]
    Decrypt { location: String, source: AgeError },
}

impl IdentityError {
    /// A stable name for the error class. sops reports identity-loading failures as part of
    /// "Failed to get the data key" (exit 128, CouldNotRetrieveKey).
    pub fn kind(&self) -> &'static str {
        match self {
            IdentityError::Parse { .. } | IdentityError::NotText { .. } => "identity_parse",
            IdentityError::Read { .. } | IdentityError::TooLarge { .. } => "identity_read",
            IdentityError::CommandSyntax { .. }
            | IdentityError::EmptyCommand { .. }
            | IdentityError::Command { .. } => "identity_command",
            IdentityError::Ssh { .. } => "ssh_identity",
            IdentityError::PassphraseRequired { .. }
            | IdentityError::PassphraseUnavailable { .. }
            | IdentityError::Decrypt { .. } => "identity_passphrase",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Environment
// ---------------------------------------------------------------------------------------------

/// What discovery needs from the outside world, so tests can fake it.
pub trait Environment {
    /// An environment variable; `Some("")` when set to the empty string (sops uses
    /// `os.LookupEnv`, so set-but-empty is not unset).
    fn var(&self, name: &str) -> Option<OsString>;

    /// Runs `program` with `args` (no shell), stdin closed, and the current environment plus
    /// `extra_env`; returns its stdout, or why it failed (not started, or exit status).
    fn run(&self, program: &str, args: &[String], extra_env: &[(&str, &str)]) -> Result<SecretBytes, String>;

    /// A secret environment variable (`SOPS_AGE_KEY`). The value moves into the secret
    /// container without a copy.
    fn secret_var(&self, name: &str) -> Option<SecretBytes> {
        self.var(name).map(|v| SecretBytes::new(v.into_encoded_bytes()))
    }

    /// Go's `os.UserHomeDir` on Unix: `$HOME`, when set and non-empty.
    fn home_dir(&self) -> Option<PathBuf> {
        self.var("HOME").filter(|h| !h.is_empty()).map(PathBuf::from)
    }

    /// The user config directory sops uses for `keys.txt` (`getUserConfigDir`):
    /// * macOS: `$XDG_CONFIG_HOME` if set, else `~/Library/Application Support`;
    /// * Windows: `%AppData%`;
    /// * other Unix (Go's `os.UserConfigDir`): `$XDG_CONFIG_HOME` if set (and absolute:
    ///   Go refuses a relative one), else `~/.config`.
    fn config_dir(&self) -> Option<PathBuf> {
        let xdg = self.var("XDG_CONFIG_HOME").filter(|v| !v.is_empty()).map(PathBuf::from);
        if cfg!(target_os = "macos") {
            return xdg.or_else(|| self.home_dir().map(|h| h.join("Library").join("Application Support")));
        }
        if cfg!(windows) {
            return self.var("AppData").filter(|v| !v.is_empty()).map(PathBuf::from);
        }
        match xdg {
            Some(dir) if dir.is_absolute() => Some(dir),
            Some(_) => None,
            None => self.home_dir().map(|h| h.join(".config")),
        }
    }

    /// Whether a path exists (sops: `os.Stat` succeeds).
    fn exists(&self, path: &Path) -> bool {
        std::fs::metadata(path).is_ok()
    }

    /// Reads a whole file, at most [`MAX_SOURCE_LEN`] bytes (`Ok(None)` when larger).
    fn read_file(&self, path: &Path) -> std::io::Result<Option<SecretBytes>> {
        let file = std::fs::File::open(path)?;
        // Sized from the file's length so that reading does not reallocate and leave unwiped
        // copies behind (unless the file grows meanwhile).
        let hint = file.metadata().map(|m| m.len()).unwrap_or(0);
        let capacity = usize::try_from(hint).unwrap_or(MAX_SOURCE_LEN).min(MAX_SOURCE_LEN) + 1;
        let mut buffer = Vec::with_capacity(capacity);
        let read = file.take(MAX_SOURCE_LEN as u64 + 1).read_to_end(&mut buffer);
        // Into the secret container before looking at the result, so that an error wipes it too.
        let data = SecretBytes::new(buffer);
        read?;
        Ok((data.len() <= MAX_SOURCE_LEN).then_some(data))
    }
}

/// The real process environment.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemEnv;

impl Environment for SystemEnv {
    fn var(&self, name: &str) -> Option<OsString> {
        std::env::var_os(name)
    }

    fn run(&self, program: &str, args: &[String], extra_env: &[(&str, &str)]) -> Result<SecretBytes, String> {
        run_process(program, args, extra_env)
    }
}

/// Runs a program the way sops's `getOutputFromCmd` does (`exec.Command(...).Output()`): no
/// shell, stdin from /dev/null, stdout captured. stderr goes to the terminal so that the
/// command's own diagnostics are visible; it is never copied into an error.
pub fn run_process(program: &str, args: &[String], extra_env: &[(&str, &str)]) -> Result<SecretBytes, String> {
    let output = Command::new(program)
        .args(args)
        .envs(extra_env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| e.to_string())?;
    let stdout = SecretBytes::new(output.stdout);
    if output.status.success() {
        Ok(stdout)
    } else {
        // Go prints "exit status N" (or "signal: …" on Unix).
        Err(match output.status.code() {
            Some(code) => format!("exit status {code}"),
            None => output.status.to_string(),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Discovery
// ---------------------------------------------------------------------------------------------

/// Passphrase callback: gets the location of the encrypted identity file (for the prompt, see
/// [`passphrase_prompt`]) and returns the passphrase, or why it could not get one.
pub type PassphraseFn<'a> = &'a dyn Fn(&str) -> Result<SecretString, String>;

/// Options for [`discover`].
#[derive(Clone, Copy, Default)]
pub struct DiscoveryOptions<'a> {
    /// The recipient whose identity is wanted: passed to the `_CMD` commands as
    /// `SOPS_AGE_RECIPIENT` (sops runs discovery once per age key of the file, with that
    /// key's recipient). `None` leaves the variable unset.
    pub recipient: Option<&'a str>,
    /// Asked for the passphrase of passphrase-protected age identity files.
    pub passphrase: Option<PassphraseFn<'a>>,
}

/// sops's prompt for an encrypted identity file.
pub fn passphrase_prompt(location: &str) -> String {
    format!("Enter passphrase for identity '{location}':")
}

/// The result of [`discover`].
pub struct Discovered {
    /// Every identity found, in source order, with every location consulted.
    pub keyring: Keyring,
    /// The locations that gave no key, in sops's order: what sops lists after "Did not find
    /// keys in locations" (see [`did_not_find_keys`]).
    pub unused_locations: Vec<String>,
}

/// sops's `formatError` suffix: `Did not find keys in location 'a'.`, `… locations 'a' and
/// 'b'.`, `… locations 'a', 'b', and 'c'.`; `None` for an empty list.
pub fn did_not_find_keys(locations: &[String]) -> Option<String> {
    let list = match locations {
        [] => return None,
        [one] => format!(" '{one}'"),
        [a, b] => format!("s '{a}' and '{b}'"),
        [init @ .., last] => format!("s '{}', and '{last}'", init.join("', '")),
    };
    Some(format!("Did not find keys in location{list}."))
}

/// Tracks consulted and unused locations together.
struct Collector {
    keyring: Keyring,
    unused: Vec<String>,
}

impl Collector {
    fn nothing_at(&mut self, location: impl Into<String>) {
        let location = location.into();
        self.keyring.note_location(location.clone());
        self.unused.push(location);
    }

    fn found(&mut self, location: impl Into<String>, identities: Vec<Identity>) {
        if identities.is_empty() {
            self.nothing_at(location);
        } else {
            self.keyring.add_age(location, identities);
        }
    }
}

/// One age identity source waiting to be parsed.
struct Reader {
    location: String,
    data: SecretBytes,
    /// `SOPS_AGE_KEY` only: several identities per line, separated by whitespace.
    words: bool,
}

/// Collects age identities from every source sops reads (see the module docs for the order,
/// the location names and where sealops differs).
pub fn discover(env: &dyn Environment, options: &DiscoveryOptions<'_>) -> Result<Discovered, IdentityError> {
    let mut out = Collector { keyring: Keyring::new(), unused: Vec::new() };

    // 1. SSH keys.
    match non_empty_var(env, SOPS_AGE_SSH_PRIVATE_KEY_FILE) {
        None => out.nothing_at(SOPS_AGE_SSH_PRIVATE_KEY_FILE),
        Some(path) => {
            let path = PathBuf::from(path);
            let data = read_source(env, SOPS_AGE_SSH_PRIVATE_KEY_FILE, &path)?;
            let identity = parse_ssh(&data).map_err(|source| IdentityError::Ssh {
                location: SOPS_AGE_SSH_PRIVATE_KEY_FILE.to_owned(),
                path: Some(path.clone()),
                source,
            })?;
            out.found(SOPS_AGE_SSH_PRIVATE_KEY_FILE, vec![identity]);
        }
    }
    match non_empty_var(env, SOPS_AGE_SSH_PRIVATE_KEY_CMD) {
        None => out.nothing_at(SOPS_AGE_SSH_PRIVATE_KEY_CMD),
        Some(command) => {
            let data = run_command(env, SOPS_AGE_SSH_PRIVATE_KEY_CMD, &command, options.recipient)?;
            let identity = parse_ssh(&data).map_err(|source| IdentityError::Ssh {
                location: SOPS_AGE_SSH_PRIVATE_KEY_CMD.to_owned(),
                path: None,
                source,
            })?;
            out.found(SOPS_AGE_SSH_PRIVATE_KEY_CMD, vec![identity]);
        }
    }
    match env.home_dir() {
        Some(home) => {
            for name in ["id_ed25519", "id_rsa"] {
                let path = home.join(".ssh").join(name);
                let location = path.display().to_string();
                if !env.exists(&path) {
                    out.nothing_at(location);
                    continue;
                }
                match read_source(env, &location, &path).and_then(|data| {
                    parse_ssh(&data).map_err(|source| IdentityError::Ssh {
                        location: location.clone(),
                        path: None,
                        source,
                    })
                }) {
                    Ok(identity) => out.found(location, vec![identity]),
                    Err(e) => {
                        // Not asked for explicitly: an unusable default key must not block
                        // the other sources.
                        tracing::warn!("skipping {location}: {e}");
                        out.nothing_at(location);
                    }
                }
            }
        }
        None => tracing::debug!("no home directory ($HOME unset): not looking for ~/.ssh keys"),
    }

    // 2–4. The environment sources; read now, parsed below (as sops does).
    let mut readers = Vec::new();
    match env.secret_var(SOPS_AGE_KEY) {
        None => out.nothing_at(SOPS_AGE_KEY),
        Some(data) => readers.push(Reader { location: SOPS_AGE_KEY.to_owned(), data, words: true }),
    }
    match non_empty_var(env, SOPS_AGE_KEY_FILE) {
        None => out.nothing_at(SOPS_AGE_KEY_FILE),
        Some(path) => {
            let data = read_source(env, SOPS_AGE_KEY_FILE, Path::new(&path))?;
            readers.push(Reader { location: SOPS_AGE_KEY_FILE.to_owned(), data, words: false });
        }
    }
    match non_empty_var(env, SOPS_AGE_KEY_CMD) {
        None => out.nothing_at(SOPS_AGE_KEY_CMD),
        Some(command) => {
            let data = run_command(env, SOPS_AGE_KEY_CMD, &command, options.recipient)?;
            readers.push(Reader { location: SOPS_AGE_KEY_CMD.to_owned(), data, words: false });
        }
    }

    // 5. keys.txt. sops lists it as unused only when nothing else was configured or found.
    match env.config_dir() {
        Some(dir) => {
            let path = dir.join(KEYS_TXT);
            let location = path.display().to_string();
            if env.exists(&path) {
                let data = read_source(env, &location, &path)?;
                readers.push(Reader { location, data, words: false });
            } else if readers.is_empty() && out.keyring.is_empty() {
                out.nothing_at(location);
            }
        }
        None => tracing::debug!("no user config directory: not looking for {KEYS_TXT}"),
    }

    for reader in readers {
        let identities = unwrap_identities(&reader, options.passphrase)?;
        // `reader.data` is dropped (and wiped) here, before the next source is parsed.
        out.found(reader.location, identities);
    }
    Ok(Discovered { keyring: out.keyring, unused_locations: out.unused })
}

/// A path or command variable; set-but-empty counts as unset (with a warning).
fn non_empty_var(env: &dyn Environment, name: &str) -> Option<OsString> {
    let value = env.var(name)?;
    if value.is_empty() {
        tracing::warn!("{name} is set to the empty string; ignoring it");
        return None;
    }
    Some(value)
}

fn read_source(env: &dyn Environment, location: &str, path: &Path) -> Result<SecretBytes, IdentityError> {
    match env.read_file(path) {
        Ok(Some(data)) => Ok(data),
        Ok(None) => Err(IdentityError::TooLarge { location: location.to_owned() }),
        Err(source) => Err(IdentityError::Read { location: location.to_owned(), path: path.to_path_buf(), source }),
    }
}

fn run_command(
    env: &dyn Environment,
    location: &str,
    command: &OsString,
    recipient: Option<&str>,
) -> Result<SecretBytes, IdentityError> {
    let command = command.to_string_lossy();
    let argv = split_command(&command)
        .map_err(|message| IdentityError::CommandSyntax { location: location.to_owned(), message })?;
    let Some((program, args)) = argv.split_first() else {
        // sops indexes args[0] here and panics.
        return Err(IdentityError::EmptyCommand { location: location.to_owned() });
    };
    let extra: Vec<(&str, &str)> = recipient.map(|r| (SOPS_AGE_RECIPIENT, r)).into_iter().collect();
    let output = env.run(program, args, &extra).map_err(|reason| IdentityError::Command {
        location: location.to_owned(),
        program: program.clone(),
        reason,
    })?;
    if output.len() > MAX_SOURCE_LEN {
        return Err(IdentityError::TooLarge { location: location.to_owned() });
    }
    Ok(output)
}

/// An OpenSSH Ed25519 private key, as an age identity. Other formats are named in the error.
fn parse_ssh(data: &SecretBytes) -> Result<Identity, SshError> {
    let text = data.as_str().ok_or(SshError::Malformed("not UTF-8 text"))?;
    // PEM keys (`ssh-keygen -m PEM`, old defaults) are never Ed25519.
    for (marker, kind) in [
        ("-----BEGIN RSA PRIVATE KEY-----", "ssh-rsa"),
        ("-----BEGIN EC PRIVATE KEY-----", "ecdsa"),
        ("-----BEGIN DSA PRIVATE KEY-----", "ssh-dss"),
    ] {
        if text.contains(marker) {
            return Err(SshError::Unsupported(kind.to_owned()));
        }
    }
    match ssh::Identity::parse_openssh(text)? {
        Some(identity) => Ok(Identity::SshEd25519(identity)),
        None => Err(SshError::Malformed("no OpenSSH private key found")),
    }
}

/// sops's `unwrapIdentities`: a passphrase-protected identity file (`age-encryption.org/…` or
/// armored), else identity lines.
fn unwrap_identities(reader: &Reader, passphrase: Option<PassphraseFn<'_>>) -> Result<Vec<Identity>, IdentityError> {
    let location = reader.location.as_str();
    let parsed = if age::is_encrypted_identity_file(reader.data.expose()) {
        let prompt = passphrase.ok_or_else(|| IdentityError::PassphraseRequired { location: location.to_owned() })?;
        let secret = prompt(location)
            .map_err(|message| IdentityError::PassphraseUnavailable { location: location.to_owned(), message })?;
        age::decrypt_identity_file(reader.data.expose(), secret)
            .map_err(|source| IdentityError::Decrypt { location: location.to_owned(), source })?
    } else {
        let text = reader.data.as_str().ok_or_else(|| IdentityError::NotText { location: location.to_owned() })?;
        let parsed = if reader.words { parse_words(text) } else { age::parse_identities(text) };
        parsed.map_err(|source| IdentityError::Parse { location: location.to_owned(), source })?
    };
    for (line, kind) in &parsed.skipped {
        tracing::warn!("'{location}' line {line}: skipping a {kind} identity, which sealops does not support");
    }
    Ok(parsed.identities)
}

/// `SOPS_AGE_KEY` (sops 3.13): blank lines and lines starting with `#` are skipped, every other
/// line is split on whitespace and each word must be an identity. Errors keep the line number.
fn parse_words(text: &str) -> Result<ParsedIdentities, AgeError> {
    let mut out = ParsedIdentities { identities: Vec::new(), skipped: Vec::new() };
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        for word in line.split_whitespace() {
            // A word is parsed as a one-line identity file, where `#…` would be a comment; for
            // sops it is an unknown identity.
            if word.starts_with('#') {
                return Err(AgeError::UnknownIdentity { line: number });
            }
            let parsed = age::parse_identities(word).map_err(|e| match e {
                AgeError::UnknownIdentity { .. } => AgeError::UnknownIdentity { line: number },
                AgeError::InvalidIdentity { .. } => AgeError::InvalidIdentity { line: number },
                other => other,
            })?;
            out.identities.extend(parsed.identities);
            out.skipped.extend(parsed.skipped.into_iter().map(|(_, kind)| (number, kind)));
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Command splitting
// ---------------------------------------------------------------------------------------------

/// Splits a command line into words with the rules of github.com/google/shlex (the version
/// sops pins, `e7afc7f`), which sops uses for the `_CMD` variables:
/// * space, tab, CR and LF separate words;
/// * `'…'` is literal; `"…"` is literal except that `\` takes the next character as is;
/// * outside quotes `\` takes the next character as is (a space, a quote, a newline);
/// * quotes may be glued to other text (`a"b c"d` is one word); `""` is an empty word;
/// * `#` at the start of a word starts a comment up to the end of the line; inside a word it is
///   literal.
///
/// Errors are shlex's: `EOF found after escape character`, `EOF found when expecting closing
/// quote`.
pub fn split_command(input: &str) -> Result<Vec<String>, &'static str> {
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum State {
        Start,
        Word,
        Escape,
        DoubleQuoted,
        DoubleQuotedEscape,
        SingleQuoted,
        Comment,
    }
    fn is_space(c: char) -> bool {
        matches!(c, ' ' | '\t' | '\r' | '\n')
    }

    let mut words = Vec::new();
    let mut word = String::new();
    let mut state = State::Start;
    for c in input.chars() {
        state = match state {
            State::Start => match c {
                _ if is_space(c) => State::Start,
                '"' => State::DoubleQuoted,
                '\'' => State::SingleQuoted,
                '\\' => State::Escape,
                '#' => State::Comment,
                _ => {
                    word.push(c);
                    State::Word
                }
            },
            State::Word => match c {
                _ if is_space(c) => {
                    words.push(std::mem::take(&mut word));
                    State::Start
                }
                '"' => State::DoubleQuoted,
                '\'' => State::SingleQuoted,
                '\\' => State::Escape,
                _ => {
                    word.push(c);
                    State::Word
                }
            },
            State::Escape => {
                word.push(c);
                State::Word
            }
            State::DoubleQuoted => match c {
                '"' => State::Word,
                '\\' => State::DoubleQuotedEscape,
                _ => {
                    word.push(c);
                    State::DoubleQuoted
                }
            },
            State::DoubleQuotedEscape => {
                word.push(c);
                State::DoubleQuoted
            }
            State::SingleQuoted => match c {
                '\'' => State::Word,
                _ => {
                    word.push(c);
                    State::SingleQuoted
                }
            },
            State::Comment => {
                if c == '\n' {
                    State::Start
                } else {
                    State::Comment
                }
            }
        };
    }
    match state {
        State::Start | State::Comment => {}
        State::Word => words.push(word),
        State::Escape | State::DoubleQuotedEscape => return Err("EOF found after escape character"),
        State::DoubleQuoted | State::SingleQuoted => return Err("EOF found when expecting closing quote"),
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::HashMap;

    use super::*;

    // age identities from sops's age/keysource_test.go, via shared/interop/sops-upstream
    // (ageunit_identity.txt = mockIdentity, ageunit_other_identity.txt = mockOtherIdentity).
    const ID1: &str = "AGE-SECRET-KEY-1G0Q5K9TV4REQ3ZSQRMTMG8NSWQGYT0T7TZ33RAZEE0GZYVZN0APSU24RK7";
    const ID1_RECIPIENT: &str = "age1lzd99uklcjnc0e7d860axevet2cz99ce9pq6tzuzd05l5nr28ams36nvun";
    const ID2: &str = "AGE-SECRET-KEY-1432K5YRNSC44GC4986NXMX6GVZ52WTMT9C79CLUVWYY4DKDHD5JSNDP4MC";

    // shared/interop/sops-upstream/ageunit_ssh_ed25519: sops's mockSshIdentity, an unencrypted
    // OpenSSH Ed25519 key published as test material; its public key is the recipient below.
    const SSH_KEY: &str = "-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACA/lovFmcNm13waXLP1hArbQsz9/TpHp0uqR1h1hhSbzQAAAIgCXDMIAlwz
CAAAAAtzc2gtZWQyNTUxOQAAACA/lovFmcNm13waXLP1hArbQsz9/TpHp0uqR1h1hhSbzQ
AAAEBJdWTJ8dC0OnMcwy4gQ96sp6KG8GE9EiyhFGhKldKiST+Wi8WZw2bXfBpcs/WECttC
zP39OkenS6pHWHWGFJvNAAAABFRlc3QB
-----END OPENSSH PRIVATE KEY-----
";
    const SSH_RECIPIENT: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAID+Wi8WZw2bXfBpcs/WECttCzP39OkenS6pHWHWGFJvN";

    // shared/interop/sops-upstream/ageunit_encrypted_identity.age: sops's mockEncryptedIdentity,
    // passphrase "passphrase", holding ID1.
    const ENCRYPTED_ID1: &str = "-----BEGIN AGE ENCRYPTED FILE-----
YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IHNjcnlwdCBMN2FXZW9xSFViYjdNeW5D
dy9iSHFnIDE4Ck9zV0ZoNldmci9rL3VXd3BtZmQvK3VZWEpBQjdhZ0UrcmhqR2lF
YThFMzAKLS0tIGVEQ0xwODI1TlNYeHNHaHZKWHoyLzYwMTMvTGhaZG1oa203cSs0
VUpBL1kKsaTnt+H/z8mkL21UYKIt3YMpWSV/oYqTm1cSSUnF9InZEYU9HndK9rc8
ni+MTJCmYf4mgvvGPMf7oIQvs6ijaTdlQb+zeQsL4eif20w+CWgvPNrS6iXUIs8W
w5/fHsxwmrkG96nDkMErJKhmjmLpC+YdbiMe6P/KIpas09m08RTIqcz7ua0Xm3ey
ndU+8ILJOhcnWV55W43nTw/UUFse7f+qY61n7kcd1sGd7ZfSEdEIqS3K2vEtA3ER
fn0s3cyXVEBxL9OZqcAk45bCFVOl13Fp/DBfquHEjvAyeg0=
-----END AGE ENCRYPTED FILE-----
";

    /// One recorded command: program, arguments, extra environment.
    type Call = (String, Vec<String>, Vec<(String, String)>);

    /// A fake environment: variables from a map, HOME and XDG_CONFIG_HOME in a temp dir,
    /// commands either run for real (`cat <file>`) or answered from a table, with every call
    /// recorded.
    struct FakeEnv {
        _tmp: tempfile::TempDir,
        root: PathBuf,
        vars: HashMap<String, String>,
        canned: HashMap<String, Result<String, String>>,
        calls: RefCell<Vec<Call>>,
    }

    impl FakeEnv {
        fn new() -> Self {
            let tmp = tempfile::tempdir().expect("temp dir");
            let root = tmp.path().to_path_buf();
            std::fs::create_dir_all(root.join("home")).unwrap();
            std::fs::create_dir_all(root.join("config")).unwrap();
            let vars = HashMap::from([
                ("HOME".to_owned(), root.join("home").display().to_string()),
                ("XDG_CONFIG_HOME".to_owned(), root.join("config").display().to_string()),
            ]);
            Self { _tmp: tmp, root, vars, canned: HashMap::new(), calls: RefCell::new(Vec::new()) }
        }

        fn set(&mut self, name: &str, value: &str) -> &mut Self {
            self.vars.insert(name.to_owned(), value.to_owned());
            self
        }

        fn unset(&mut self, name: &str) -> &mut Self {
            self.vars.remove(name);
            self
        }

        /// Writes a file below the temp root and returns its path.
        fn file(&self, relative: &str, contents: &str) -> PathBuf {
            let path = self.root.join(relative);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, contents).unwrap();
            path
        }

        fn home(&self) -> PathBuf {
            self.root.join("home")
        }

        fn keys_txt(&self) -> PathBuf {
            self.config_dir().unwrap().join(KEYS_TXT)
        }

        /// sops's list when nothing is configured, with this env's paths.
        fn all_locations(&self) -> Vec<String> {
            vec![
                SOPS_AGE_SSH_PRIVATE_KEY_FILE.to_owned(),
                SOPS_AGE_SSH_PRIVATE_KEY_CMD.to_owned(),
                self.home().join(".ssh/id_ed25519").display().to_string(),
                self.home().join(".ssh/id_rsa").display().to_string(),
                SOPS_AGE_KEY.to_owned(),
                SOPS_AGE_KEY_FILE.to_owned(),
                SOPS_AGE_KEY_CMD.to_owned(),
                self.keys_txt().display().to_string(),
            ]
        }
    }

    impl Environment for FakeEnv {
        fn var(&self, name: &str) -> Option<OsString> {
            self.vars.get(name).map(OsString::from)
        }

        fn run(&self, program: &str, args: &[String], extra_env: &[(&str, &str)]) -> Result<SecretBytes, String> {
            self.calls.borrow_mut().push((
                program.to_owned(),
                args.to_vec(),
                extra_env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            ));
            match self.canned.get(program) {
                Some(answer) => answer.clone().map(SecretBytes::from),
                None => run_process(program, args, extra_env),
            }
        }
    }

    fn run(env: &FakeEnv) -> Result<Discovered, IdentityError> {
        discover(env, &DiscoveryOptions::default())
    }

    fn recipients(found: &Discovered) -> Vec<String> {
        found.keyring.age_identities().iter().map(Identity::recipient).collect()
    }

    fn err_text(result: Result<Discovered, IdentityError>) -> (String, &'static str) {
        match result {
            Ok(_) => panic!("expected an error"),
            Err(e) => (e.to_string(), e.kind()),
        }
    }

    // ---- locations -----------------------------------------------------------------------------

    #[test]
    fn nothing_configured_lists_all_eight_locations_in_sops_order() {
        let env = FakeEnv::new();
        let found = run(&env).unwrap();
        assert!(found.keyring.is_empty());
        assert_eq!(found.unused_locations, env.all_locations());
        assert_eq!(found.keyring.locations(), env.all_locations());
        let message = did_not_find_keys(&found.unused_locations).unwrap();
        assert!(message.starts_with("Did not find keys in locations 'SOPS_AGE_SSH_PRIVATE_KEY_FILE', "), "{message}");
        assert!(message.ends_with(&format!("'SOPS_AGE_KEY_CMD', and '{}'.", env.keys_txt().display())), "{message}");
    }

    #[test]
    fn did_not_find_keys_wording() {
        let l = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(did_not_find_keys(&[]), None);
        assert_eq!(did_not_find_keys(&l(&["a"])).unwrap(), "Did not find keys in location 'a'.");
        assert_eq!(did_not_find_keys(&l(&["a", "b"])).unwrap(), "Did not find keys in locations 'a' and 'b'.");
        assert_eq!(
            did_not_find_keys(&l(&["a", "b", "c"])).unwrap(),
            "Did not find keys in locations 'a', 'b', and 'c'."
        );
    }

    #[test]
    fn keys_txt_is_not_listed_when_something_else_was_configured() {
        // sops keysource_test.go: SOPS_AGE_KEY set → 6 unused locations.
        let mut env = FakeEnv::new();
        env.set(SOPS_AGE_KEY, ID1);
        let found = run(&env).unwrap();
        assert_eq!(recipients(&found), [ID1_RECIPIENT]);
        assert_eq!(found.unused_locations.len(), 6);
        assert!(!found.unused_locations.contains(&env.keys_txt().display().to_string()));
        // The keyring records the used location too.
        assert!(found.keyring.locations().contains(&SOPS_AGE_KEY.to_owned()));
    }

    #[test]
    fn set_but_empty_sources_are_listed_last() {
        // SOPS_AGE_KEY="" is a source that gave nothing: listed after the unset ones, and
        // keys.txt (missing) is not listed because a source was configured.
        let mut env = FakeEnv::new();
        env.set(SOPS_AGE_KEY, "");
        let found = run(&env).unwrap();
        let mut want = env.all_locations();
        want.retain(|l| l != SOPS_AGE_KEY && *l != env.keys_txt().display().to_string());
        want.push(SOPS_AGE_KEY.to_owned());
        assert_eq!(found.unused_locations, want);
    }

    // ---- each source ---------------------------------------------------------------------------

    #[test]
    fn sops_age_key_accepts_newlines_comments_and_whitespace() {
        let mut env = FakeEnv::new();
        env.set(SOPS_AGE_KEY, &format!("# comment\n\n{ID1}\r\n  {ID2}\t{ID1}\n"));
        let found = run(&env).unwrap();
        assert_eq!(found.keyring.age_identities().len(), 3);
    }

    #[test]
    fn sops_age_key_parse_errors_name_the_source_not_the_key() {
        let mut env = FakeEnv::new();
        env.set(SOPS_AGE_KEY, "invalid");
        let (text, kind) = err_text(run(&env));
        assert_eq!(text, "failed to parse 'SOPS_AGE_KEY' age identities: unknown identity type on line 1");
        assert_eq!(kind, "identity_parse");
        // A damaged key on line 2: named by line, never printed.
        let broken = format!("{}X", &ID2[..ID2.len() - 1]);
        env.set(SOPS_AGE_KEY, &format!("{ID1}\n{ID1} {broken}"));
        let (text, _) = err_text(run(&env));
        assert_eq!(text, "failed to parse 'SOPS_AGE_KEY' age identities: invalid age identity on line 2");
        assert!(!text.contains("AGE-SECRET-KEY"));
        // A '#' word after a key is not a comment for sops.
        env.set(SOPS_AGE_KEY, &format!("{ID1} # mine"));
        let (text, _) = err_text(run(&env));
        assert_eq!(text, "failed to parse 'SOPS_AGE_KEY' age identities: unknown identity type on line 1");
    }

    #[test]
    fn sops_age_key_file() {
        let mut env = FakeEnv::new();
        let path = env.file("elsewhere/keys.txt", &format!("# created\n{ID2}\n"));
        env.set(SOPS_AGE_KEY_FILE, path.to_str().unwrap());
        let found = run(&env).unwrap();
        assert_eq!(found.keyring.age_identities().len(), 1);
        assert_eq!(found.unused_locations.len(), 6);
        // One identity per line: two on a line is an error for a file.
        let path = env.file("elsewhere/two.txt", &format!("{ID1} {ID2}\n"));
        env.set(SOPS_AGE_KEY_FILE, path.to_str().unwrap());
        assert_eq!(err_text(run(&env)).1, "identity_parse");
        // A missing file is an error naming the variable and the path.
        let missing = env.root.join("missing.txt");
        env.set(SOPS_AGE_KEY_FILE, missing.to_str().unwrap());
        let (text, kind) = err_text(run(&env));
        assert!(text.starts_with(&format!("failed to open SOPS_AGE_KEY_FILE file {}: ", missing.display())), "{text}");
        assert_eq!(kind, "identity_read");
    }

    #[test]
    fn default_keys_txt_is_always_read() {
        let mut env = FakeEnv::new();
        env.file("config/sops/age/keys.txt", &format!("{ID1}\n"));
        let other = env.file("other.txt", &format!("{ID2}\n"));
        env.set(SOPS_AGE_KEY_FILE, other.to_str().unwrap());
        // sops keysource_test.go "multiple identities": both files are used.
        let found = run(&env).unwrap();
        assert_eq!(found.keyring.age_identities().len(), 2);
        assert_eq!(found.unused_locations.len(), 6);
        assert_eq!(
            found.keyring.locations().last().unwrap(),
            &env.keys_txt().display().to_string(),
            "keys.txt comes last"
        );
        // Only keys.txt: 7 unused locations.
        env.unset(SOPS_AGE_KEY_FILE);
        let found = run(&env).unwrap();
        assert_eq!(recipients(&found), [ID1_RECIPIENT]);
        assert_eq!(found.unused_locations.len(), 7);
        // A broken keys.txt fails discovery, naming its path.
        env.file("config/sops/age/keys.txt", "garbage\n");
        let (text, _) = err_text(run(&env));
        assert_eq!(
            text,
            format!("failed to parse '{}' age identities: unknown identity type on line 1", env.keys_txt().display())
        );
    }

    #[test]
    fn config_dir_rules() {
        let mut env = FakeEnv::new();
        let xdg = env.root.join("config");
        if cfg!(target_os = "macos") {
            assert_eq!(env.config_dir(), Some(xdg));
            env.unset("XDG_CONFIG_HOME");
            assert_eq!(env.config_dir(), Some(env.home().join("Library/Application Support")));
        } else if !cfg!(windows) {
            assert_eq!(env.config_dir(), Some(xdg));
            env.unset("XDG_CONFIG_HOME");
            assert_eq!(env.config_dir(), Some(env.home().join(".config")));
            env.set("XDG_CONFIG_HOME", "relative/dir");
            assert_eq!(env.config_dir(), None, "Go refuses a relative XDG_CONFIG_HOME");
            env.set("XDG_CONFIG_HOME", "");
            assert_eq!(env.config_dir(), Some(env.home().join(".config")));
        }
        env.unset("XDG_CONFIG_HOME").unset("HOME");
        assert_eq!(env.home_dir(), None);
        // No home and no config dir: only the environment sources are listed.
        let found = run(&env).unwrap();
        if !cfg!(windows) {
            assert_eq!(
                found.unused_locations,
                [
                    SOPS_AGE_SSH_PRIVATE_KEY_FILE,
                    SOPS_AGE_SSH_PRIVATE_KEY_CMD,
                    SOPS_AGE_KEY,
                    SOPS_AGE_KEY_FILE,
                    SOPS_AGE_KEY_CMD
                ]
            );
        }
    }

    #[test]
    fn sops_age_key_cmd_runs_without_a_shell() {
        let mut env = FakeEnv::new();
        // A file name with a space, quoted: only a real word splitter gets this right.
        let path = env.file("dir with space/keys.txt", &format!("{ID1}\n"));
        env.set(SOPS_AGE_KEY_CMD, &format!("cat '{}'", path.display()));
        let found = run(&env).unwrap();
        assert_eq!(recipients(&found), [ID1_RECIPIENT]);
        let calls = env.calls.borrow();
        assert_eq!(calls[0].0, "cat");
        assert_eq!(calls[0].1, [path.display().to_string()]);
        assert!(calls[0].2.is_empty(), "no recipient known: SOPS_AGE_RECIPIENT not set");
    }

    #[test]
    fn commands_get_the_recipient() {
        let mut env = FakeEnv::new();
        env.canned.insert("key-helper".into(), Ok(format!("{ID1}\n")));
        env.canned.insert("ssh-helper".into(), Ok(SSH_KEY.to_owned()));
        env.set(SOPS_AGE_KEY_CMD, "key-helper --for \"$SOPS_AGE_RECIPIENT\"");
        env.set(SOPS_AGE_SSH_PRIVATE_KEY_CMD, "ssh-helper");
        let options = DiscoveryOptions { recipient: Some(ID1_RECIPIENT), passphrase: None };
        let found = discover(&env, &options).unwrap();
        // SSH identities come first.
        assert_eq!(recipients(&found), [SSH_RECIPIENT, ID1_RECIPIENT]);
        let calls = env.calls.borrow();
        assert_eq!(calls.len(), 2);
        for (_, _, extra) in calls.iter() {
            assert_eq!(extra, &[(SOPS_AGE_RECIPIENT.to_owned(), ID1_RECIPIENT.to_owned())]);
        }
        // No shell: "$SOPS_AGE_RECIPIENT" reaches the program literally.
        assert_eq!(calls[1].1, ["--for", "$SOPS_AGE_RECIPIENT"]);
    }

    #[test]
    fn command_with_no_output_is_an_unused_location() {
        // sops keysource_test.go SOPS_AGE_RECIPIENT: a command that prints nothing.
        let mut env = FakeEnv::new();
        env.canned.insert("helper".into(), Ok(String::new()));
        env.set(SOPS_AGE_KEY_CMD, "helper");
        let found = run(&env).unwrap();
        assert!(found.keyring.is_empty());
        assert_eq!(found.unused_locations.len(), 7);
        assert_eq!(found.unused_locations.last().unwrap(), SOPS_AGE_KEY_CMD);
    }

    #[test]
    fn real_process_sees_the_extra_environment() {
        let out =
            run_process("printenv", &[SOPS_AGE_RECIPIENT.to_owned()], &[(SOPS_AGE_RECIPIENT, "age1xyz")]).unwrap();
        assert_eq!(out.as_str(), Some("age1xyz\n"));
        assert_eq!(run_process("false", &[], &[]).err().unwrap(), "exit status 1");
    }

    #[test]
    fn command_failures_name_the_variable_not_the_command_line() {
        // sops keysource_test.go "cmd error": `meow` does not exist.
        let mut env = FakeEnv::new();
        env.set(SOPS_AGE_KEY_CMD, "meow AGE-SECRET-KEY-1SECRET");
        let (text, kind) = err_text(run(&env));
        assert!(text.starts_with("failed to execute command SOPS_AGE_KEY_CMD (program \"meow\"): "), "{text}");
        assert!(!text.contains("AGE-SECRET-KEY"));
        assert_eq!(kind, "identity_command");
        env.set(SOPS_AGE_KEY_CMD, "false");
        let (text, _) = err_text(run(&env));
        assert_eq!(text, "failed to execute command SOPS_AGE_KEY_CMD (program \"false\"): exit status 1");
        env.set(SOPS_AGE_KEY_CMD, "cat 'unterminated");
        let (text, _) = err_text(run(&env));
        assert_eq!(text, "failed to parse the command in SOPS_AGE_KEY_CMD: EOF found when expecting closing quote");
        env.set(SOPS_AGE_KEY_CMD, "  # only a comment");
        let (text, _) = err_text(run(&env));
        assert_eq!(text, "SOPS_AGE_KEY_CMD is set but holds no command");
        env.set(SOPS_AGE_SSH_PRIVATE_KEY_CMD, "meow");
        let (text, _) = err_text(run(&env));
        assert!(text.starts_with("failed to execute command SOPS_AGE_SSH_PRIVATE_KEY_CMD"), "{text}");
    }

    #[test]
    fn empty_path_and_command_variables_are_ignored() {
        let mut env = FakeEnv::new();
        for name in [SOPS_AGE_KEY_FILE, SOPS_AGE_KEY_CMD, SOPS_AGE_SSH_PRIVATE_KEY_FILE, SOPS_AGE_SSH_PRIVATE_KEY_CMD] {
            env.set(name, "");
        }
        let found = run(&env).unwrap();
        assert_eq!(found.unused_locations, env.all_locations());
    }

    // ---- SSH -----------------------------------------------------------------------------------

    #[test]
    fn ssh_private_key_file() {
        let mut env = FakeEnv::new();
        let path = env.file("keys/id_test", SSH_KEY);
        env.set(SOPS_AGE_SSH_PRIVATE_KEY_FILE, path.to_str().unwrap());
        let found = run(&env).unwrap();
        assert_eq!(recipients(&found), [SSH_RECIPIENT]);
        // sops keysource_test.go: 6 unused locations (keys.txt not listed).
        assert_eq!(found.unused_locations.len(), 6);
        assert!(!found.unused_locations.contains(&SOPS_AGE_SSH_PRIVATE_KEY_FILE.to_owned()));
    }

    #[test]
    fn explicit_ssh_sources_that_cannot_be_used_are_errors() {
        let mut env = FakeEnv::new();
        let rsa = env.file("keys/rsa", "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n");
        env.set(SOPS_AGE_SSH_PRIVATE_KEY_FILE, rsa.to_str().unwrap());
        let (text, kind) = err_text(run(&env));
        assert!(text.starts_with(&format!("failed to load the SSH identity from SOPS_AGE_SSH_PRIVATE_KEY_FILE ({}): ssh key type ssh-rsa is not supported", rsa.display())), "{text}");
        assert_eq!(kind, "ssh_identity");
        let garbage = env.file("keys/garbage", "hello\n");
        env.set(SOPS_AGE_SSH_PRIVATE_KEY_FILE, garbage.to_str().unwrap());
        assert!(err_text(run(&env)).0.ends_with("malformed ssh key: no OpenSSH private key found"));
        env.unset(SOPS_AGE_SSH_PRIVATE_KEY_FILE);
        env.canned.insert("ssh-helper".into(), Ok("not a key".into()));
        env.set(SOPS_AGE_SSH_PRIVATE_KEY_CMD, "ssh-helper");
        let (text, _) = err_text(run(&env));
        assert_eq!(
            text,
            "failed to load the SSH identity from SOPS_AGE_SSH_PRIVATE_KEY_CMD: malformed ssh key: no OpenSSH private key found"
        );
    }

    #[test]
    fn default_ssh_keys_are_used_when_they_work_and_skipped_otherwise() {
        let env = FakeEnv::new();
        env.file("home/.ssh/id_ed25519", SSH_KEY);
        env.file("home/.ssh/id_rsa", "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n");
        let found = run(&env).unwrap();
        assert_eq!(recipients(&found), [SSH_RECIPIENT]);
        let rsa = env.home().join(".ssh/id_rsa").display().to_string();
        let ed = env.home().join(".ssh/id_ed25519").display().to_string();
        assert!(found.unused_locations.contains(&rsa), "the skipped RSA key gave nothing");
        assert!(!found.unused_locations.contains(&ed));
        // A broken default key is skipped too, not fatal.
        env.file(
            "home/.ssh/id_ed25519",
            "-----BEGIN OPENSSH PRIVATE KEY-----\n!!!\n-----END OPENSSH PRIVATE KEY-----\n",
        );
        let found = run(&env).unwrap();
        assert!(found.keyring.is_empty());
        assert!(found.unused_locations.contains(&ed));
    }

    /// An OpenSSH key container claiming `aes256-ctr` encryption, around the test key's public
    /// half: enough for the parser to see a passphrase-protected Ed25519 key.
    fn encrypted_ssh_key() -> String {
        use base64::Engine;
        use base64::engine::general_purpose::STANDARD;
        fn string(out: &mut Vec<u8>, bytes: &[u8]) {
            out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
            out.extend_from_slice(bytes);
        }
        let public = STANDARD.decode(SSH_RECIPIENT.split(' ').nth(1).unwrap()).unwrap();
        let mut blob = b"openssh-key-v1\0".to_vec();
        string(&mut blob, b"aes256-ctr");
        string(&mut blob, b"bcrypt");
        string(&mut blob, &[0u8; 24]);
        blob.extend_from_slice(&1u32.to_be_bytes());
        string(&mut blob, &public);
        string(&mut blob, &[0u8; 64]);
        format!("-----BEGIN OPENSSH PRIVATE KEY-----\n{}\n-----END OPENSSH PRIVATE KEY-----\n", STANDARD.encode(blob))
    }

    #[test]
    fn passphrase_protected_ssh_keys_error_only_when_named() {
        let mut env = FakeEnv::new();
        // Default location: skipped with a warning, other sources still work.
        env.file("home/.ssh/id_ed25519", &encrypted_ssh_key());
        env.set(SOPS_AGE_KEY, ID1);
        let found = run(&env).unwrap();
        assert_eq!(recipients(&found), [ID1_RECIPIENT]);
        assert!(found.unused_locations.contains(&env.home().join(".ssh/id_ed25519").display().to_string()));
        // Named explicitly: a clear error.
        let path = env.file("keys/protected", &encrypted_ssh_key());
        env.set(SOPS_AGE_SSH_PRIVATE_KEY_FILE, path.to_str().unwrap());
        let (text, kind) = err_text(run(&env));
        assert_eq!(
            text,
            format!(
                "failed to load the SSH identity from SOPS_AGE_SSH_PRIVATE_KEY_FILE ({}): {}",
                path.display(),
                SshError::Encrypted
            )
        );
        assert_eq!(kind, "ssh_identity");
        // From a command: also an error.
        env.unset(SOPS_AGE_SSH_PRIVATE_KEY_FILE);
        env.canned.insert("ssh-helper".into(), Ok(encrypted_ssh_key()));
        env.set(SOPS_AGE_SSH_PRIVATE_KEY_CMD, "ssh-helper");
        assert!(err_text(run(&env)).0.contains("passphrase-protected ssh keys are not supported"));
    }

    // ---- passphrase-protected identity files ---------------------------------------------------

    #[test]
    fn encrypted_identity_file_uses_the_callback() {
        let mut env = FakeEnv::new();
        let path = env.file("enc.age", ENCRYPTED_ID1);
        env.set(SOPS_AGE_KEY_FILE, path.to_str().unwrap());
        let asked = RefCell::new(Vec::new());
        let prompt = |location: &str| {
            asked.borrow_mut().push(passphrase_prompt(location));
            Ok(SecretString::new("passphrase".to_owned()))
        };
        let found = discover(&env, &DiscoveryOptions { recipient: None, passphrase: Some(&prompt) }).unwrap();
        assert_eq!(recipients(&found), [ID1_RECIPIENT]);
        assert_eq!(asked.borrow().as_slice(), ["Enter passphrase for identity 'SOPS_AGE_KEY_FILE':"]);

        // SOPS_AGE_KEY may hold an encrypted identity file too (sops keysource_test.go).
        env.unset(SOPS_AGE_KEY_FILE).set(SOPS_AGE_KEY, ENCRYPTED_ID1);
        let found = discover(&env, &DiscoveryOptions { recipient: None, passphrase: Some(&prompt) }).unwrap();
        assert_eq!(recipients(&found), [ID1_RECIPIENT]);
    }

    #[test]
    fn encrypted_identity_file_errors() {
        let env = FakeEnv::new();
        env.file("config/sops/age/keys.txt", ENCRYPTED_ID1);
        let location = env.keys_txt().display().to_string();
        let (text, kind) = err_text(run(&env));
        assert_eq!(
            text,
            format!(
                "'{location}' is a passphrase-protected age identity file and no passphrase prompt is available (run in a terminal, or decrypt it with `age -d`)"
            )
        );
        assert_eq!(kind, "identity_passphrase");
        let wrong = |_: &str| Ok(SecretString::new("wrong".to_owned()));
        let (text, _) = err_text(discover(&env, &DiscoveryOptions { recipient: None, passphrase: Some(&wrong) }));
        assert!(
            text.starts_with(&format!(
                "failed to decrypt the passphrase-protected identity file '{location}' (wrong passphrase?)"
            )),
            "{text}"
        );
        let refuse = |_: &str| Err("no terminal".to_owned());
        let (text, _) = err_text(discover(&env, &DiscoveryOptions { recipient: None, passphrase: Some(&refuse) }));
        assert_eq!(text, format!("could not read the passphrase for '{location}': no terminal"));
    }

    // ---- all sources together ------------------------------------------------------------------

    #[test]
    fn all_sources_are_collected_in_order() {
        let mut env = FakeEnv::new();
        let ssh_file = env.file("keys/ssh", SSH_KEY);
        let key_file = env.file("keys/file.txt", &format!("{ID2}\n"));
        let cmd_file = env.file("keys/cmd.txt", &format!("{ID1}\n"));
        env.file("config/sops/age/keys.txt", &format!("{ID2}\n{ID1}\n"));
        env.set(SOPS_AGE_SSH_PRIVATE_KEY_FILE, ssh_file.to_str().unwrap())
            .set(SOPS_AGE_KEY, ID1)
            .set(SOPS_AGE_KEY_FILE, key_file.to_str().unwrap())
            .set(SOPS_AGE_KEY_CMD, &format!("cat {}", cmd_file.display()));
        let found = run(&env).unwrap();
        let id2_recipient = {
            let parsed = age::parse_identities(ID2).unwrap();
            parsed.identities[0].recipient()
        };
        assert_eq!(
            recipients(&found),
            [SSH_RECIPIENT, ID1_RECIPIENT, &id2_recipient, ID1_RECIPIENT, &id2_recipient, ID1_RECIPIENT]
        );
        let keys_txt = env.keys_txt().display().to_string();
        assert_eq!(
            found.unused_locations,
            [
                SOPS_AGE_SSH_PRIVATE_KEY_CMD.to_owned(),
                env.home().join(".ssh/id_ed25519").display().to_string(),
                env.home().join(".ssh/id_rsa").display().to_string(),
            ]
        );
        let used: Vec<&str> = found
            .keyring
            .locations()
            .iter()
            .map(String::as_str)
            .filter(|l| !found.unused_locations.iter().any(|u| u == l))
            .collect();
        assert_eq!(used, [SOPS_AGE_SSH_PRIVATE_KEY_FILE, SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, SOPS_AGE_KEY_CMD, &keys_txt]);
    }

    #[test]
    fn one_broken_source_fails_everything() {
        let mut env = FakeEnv::new();
        env.file("config/sops/age/keys.txt", &format!("{ID1}\n"));
        env.set(SOPS_AGE_KEY, ID2);
        let bad = env.file("bad.txt", "not a key\n");
        env.set(SOPS_AGE_KEY_FILE, bad.to_str().unwrap());
        let (text, _) = err_text(run(&env));
        assert_eq!(text, "failed to parse 'SOPS_AGE_KEY_FILE' age identities: unknown identity type on line 1");
    }

    #[test]
    fn unsupported_identity_kinds_are_skipped() {
        let mut env = FakeEnv::new();
        env.set(SOPS_AGE_KEY, &format!("AGE-PLUGIN-YUBIKEY-1QQQQQ {ID1}"));
        let found = run(&env).unwrap();
        assert_eq!(recipients(&found), [ID1_RECIPIENT]);
    }

    // ---- splitting -----------------------------------------------------------------------------

    #[test]
    fn split_matches_google_shlex() {
        // github.com/google/shlex shlex_test.go testString.
        let input = "one two \"three four\" \"five \\\"six\\\"\" seven#eight # nine # ten\n eleven 'twelve\\'";
        assert_eq!(
            split_command(input).unwrap(),
            ["one", "two", "three four", "five \"six\"", "seven#eight", "eleven", "twelve\\"]
        );
    }

    #[test]
    fn split_edge_cases() {
        let split = |s: &str| split_command(s);
        assert_eq!(split("").unwrap(), Vec::<String>::new());
        assert_eq!(split("  \t\n ").unwrap(), Vec::<String>::new());
        assert_eq!(split("a\"b c\"d").unwrap(), ["ab cd"]);
        assert_eq!(split("cmd \"\" ''").unwrap(), ["cmd", "", ""]);
        assert_eq!(split("a\\ b c").unwrap(), ["a b", "c"]);
        assert_eq!(split("\"a\\x\"").unwrap(), ["ax"], "shlex drops the backslash before any character in \"…\"");
        assert_eq!(split("'a\\x'").unwrap(), ["a\\x"]);
        assert_eq!(split("# all comment\nnext").unwrap(), ["next"]);
        assert_eq!(split("pass show age/key").unwrap(), ["pass", "show", "age/key"]);
        assert_eq!(split("x \\").err().unwrap(), "EOF found after escape character");
        assert_eq!(split("\"x\\").err().unwrap(), "EOF found after escape character");
        assert_eq!(split("\"x").err().unwrap(), "EOF found when expecting closing quote");
        assert_eq!(split("'x").err().unwrap(), "EOF found when expecting closing quote");
    }
}
