//! Command-line syntax. Flag names, short forms and environment variables are sops's own
//! (`cmd/sops/main.go`), so existing scripts keep working.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "sealops",
    version,
    about = "GitOps secrets: sops-compatible file encryption (age), and more to come",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Parses a command line. One that names a sops command first (`sealops decrypt …`, the
    /// common case, and the one the benchmarks time) is parsed by a parser that holds only that
    /// subcommand: building the parsers of every subcommand took about 0.4 ms, a fifth of
    /// start-up (`tests/bench/README.md`). Whatever that parser does not take (help, a mistake,
    /// a global flag before the subcommand, any other command) is parsed again by the whole
    /// parser, so every message and help text is the whole parser's.
    pub fn parse_args(argv: &[std::ffi::OsString]) -> Result<Self, clap::Error> {
        match Self::one_subcommand(argv).and_then(|parser| parser.try_get_matches_from(argv).ok()) {
            Some(matches) => <Self as clap::FromArgMatches>::from_arg_matches(&matches),
            None => <Self as Parser>::try_parse_from(argv),
        }
    }

    /// The root parser with only the subcommand that `argv` names first, when it is a sops
    /// command.
    fn one_subcommand(argv: &[std::ffi::OsString]) -> Option<clap::Command> {
        type Augment = fn(clap::Command) -> clap::Command;
        const SOPS_COMMANDS: [(&str, Augment); 10] = [
            ("encrypt", EncryptArgs::augment_args),
            ("decrypt", DecryptArgs::augment_args),
            ("rotate", RotateArgs::augment_args),
            ("updatekeys", UpdatekeysArgs::augment_args),
            ("set", SetArgs::augment_args),
            ("unset", UnsetArgs::augment_args),
            ("edit", EditArgs::augment_args),
            ("exec-env", ExecEnvArgs::augment_args),
            ("exec-file", ExecFileArgs::augment_args),
            ("filestatus", FilestatusArgs::augment_args),
        ];
        let typed = argv.get(1)?.to_str()?;
        let (name, augment) = SOPS_COMMANDS.into_iter().find(|(name, _)| *name == typed)?;
        let sub = augment(clap::Command::new(name));
        let root = clap::Command::new("sealops").subcommand_required(true).subcommand(sub);
        Some(Global::augment_args(root))
    }
}

/// Flags every command accepts.
#[derive(Args, Clone, Debug)]
pub struct Global {
    /// Path to the sops configuration file (default: .sops.yaml found from the current directory up).
    #[arg(long, global = true, env = "SOPS_CONFIG")]
    pub config: Option<PathBuf>,
    /// Indentation of YAML and JSON output (overrides the config's `stores:` settings).
    #[arg(long, global = true)]
    pub indent: Option<usize>,
    /// Log progress to standard error.
    #[arg(long, global = true)]
    pub verbose: bool,
    /// Log format on standard error: `text` (default) or `json`.
    #[arg(long = "log-format", global = true, env = "SEALOPS_LOG_FORMAT")]
    pub log_format: Option<String>,
    /// Accepted for sops compatibility; sealops never checks for updates.
    #[arg(
        long,
        global = true,
        env = "SOPS_DISABLE_VERSION_CHECK",
        hide = true,
        action = clap::ArgAction::Set,
        num_args = 0..=1,
        default_value = "false",
        default_missing_value = "true",
        value_parser = go_bool,
    )]
    pub disable_version_check: bool,
    /// Accepted for sops compatibility; keys are always used locally.
    #[arg(long, global = true, hide = true, num_args = 0..=1, default_missing_value = "true")]
    pub enable_local_keyservice: Option<String>,
    /// Remote sops key services are not supported; giving one is an error.
    #[arg(long, global = true, env = "SOPS_KEYSERVICE", hide = true)]
    pub keyservice: Vec<String>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Encrypt a file (sops-compatible).
    Encrypt(EncryptArgs),
    /// Decrypt a file (sops-compatible).
    Decrypt(DecryptArgs),
    /// Generate a new data key and re-encrypt (files or whole directories).
    Rotate(RotateArgs),
    /// Re-wrap data keys for the keys the config now lists (files or whole directories).
    Updatekeys(UpdatekeysArgs),
    /// Set one value in an encrypted file.
    Set(SetArgs),
    /// Remove one value from an encrypted file.
    Unset(UnsetArgs),
    /// Edit an encrypted file in $EDITOR.
    Edit(EditArgs),
    /// Run a command with the decrypted values in its environment.
    #[command(name = "exec-env")]
    ExecEnv(ExecEnvArgs),
    /// Run a command with the decrypted file available as a temporary file.
    #[command(name = "exec-file")]
    ExecFile(ExecFileArgs),
    /// Tell whether a file is encrypted (prints {"encrypted":true|false}).
    Filestatus(FilestatusArgs),
    /// Seal Secrets into SealedSecrets (kubeseal-compatible; also as a link named `kubeseal`).
    Seal(Box<super::seal::SealArgs>),
    /// Sealing keys: generate a key pair as the controller does, list fingerprints and ages.
    Keys(super::sealkeys::KeysArgs),
    /// Re-encrypt every SealedSecret under a directory to a new certificate, offline.
    Reseal(super::reseal::ResealArgs),
    /// Render a kustomization directory as `kubectl kustomize` does (native engine).
    Build(super::build::BuildArgs),
    /// Run the in-cluster controller: unseal SealedSecrets, serve the sealing certificate.
    #[cfg(feature = "daemon")]
    Daemon(Box<super::daemon::DaemonArgs>),
}

impl Command {
    /// True for `sealops daemon`, which initialises logging itself.
    pub fn is_daemon(&self) -> bool {
        #[cfg(feature = "daemon")]
        if matches!(self, Self::Daemon(_)) {
            return true;
        }
        false
    }
}

/// `--input-type`, `--output-type`, `--filename-override`.
#[derive(Args, Clone, Debug, Default)]
pub struct TypeArgs {
    /// Input format: yaml, json, dotenv, ini or binary (default: from the file extension).
    #[arg(long)]
    pub input_type: Option<String>,
    /// Output format: yaml, json, dotenv, ini or binary (default: the input format).
    #[arg(long)]
    pub output_type: Option<String>,
    /// The file name to use for format detection and config rules (required to encrypt stdin).
    #[arg(long)]
    pub filename_override: Option<PathBuf>,
}

/// `--in-place`, `--output`.
#[derive(Args, Clone, Debug, Default)]
pub struct OutputArgs {
    /// Write the result back to the input file.
    #[arg(short = 'i', long)]
    pub in_place: bool,
    /// Write the result to this file instead of standard output.
    #[arg(long)]
    pub output: Option<PathBuf>,
}

/// How the data key is recovered.
#[derive(Args, Clone, Debug, Default)]
pub struct KeyArgs {
    /// Do not check the file's MAC.
    #[arg(long)]
    pub ignore_mac: bool,
    /// Comma-separated key types, in the order to try them (default: age,pgp).
    #[arg(long, env = "SOPS_DECRYPTION_ORDER")]
    pub decryption_order: Option<String>,
}

/// Keys and rules for a new file.
#[derive(Args, Clone, Debug, Default)]
pub struct CreateArgs {
    /// Comma-separated age recipients (age1… or ssh-ed25519 public keys).
    #[arg(short = 'a', long, env = "SOPS_AGE_RECIPIENTS")]
    pub age: Option<String>,
    /// PGP fingerprints (not supported by sealops: an error if given).
    #[arg(short = 'p', long, env = "SOPS_PGP_FP")]
    pub pgp: Option<String>,
    /// AWS KMS ARNs (not supported by sealops).
    #[arg(short = 'k', long, env = "SOPS_KMS_ARN")]
    pub kms: Option<String>,
    /// GCP KMS resource IDs (not supported by sealops).
    #[arg(long, env = "SOPS_GCP_KMS_IDS")]
    pub gcp_kms: Option<String>,
    /// HuaweiCloud KMS key IDs (not supported by sealops).
    #[arg(long, env = "SOPS_HUAWEICLOUD_KMS_IDS")]
    pub hckms: Option<String>,
    /// Azure Key Vault URLs (not supported by sealops).
    #[arg(long, env = "SOPS_AZURE_KEYVAULT_URLS")]
    pub azure_kv: Option<String>,
    /// HashiCorp Vault transit URIs (not supported by sealops).
    #[arg(long, env = "SOPS_VAULT_URIS")]
    pub hc_vault_transit: Option<String>,
    /// Leave keys ending in this suffix unencrypted.
    #[arg(long)]
    pub unencrypted_suffix: Option<String>,
    /// Encrypt only keys ending in this suffix.
    #[arg(long)]
    pub encrypted_suffix: Option<String>,
    /// Leave keys matching this regex unencrypted.
    #[arg(long)]
    pub unencrypted_regex: Option<String>,
    /// Encrypt only keys matching this regex.
    #[arg(long)]
    pub encrypted_regex: Option<String>,
    /// Leave values after a comment matching this regex unencrypted.
    #[arg(long)]
    pub unencrypted_comment_regex: Option<String>,
    /// Encrypt only values after a comment matching this regex.
    #[arg(long)]
    pub encrypted_comment_regex: Option<String>,
    /// Compute the MAC over encrypted values only.
    #[arg(long)]
    pub mac_only_encrypted: bool,
    /// Number of key groups needed to recover the data key.
    #[arg(long)]
    pub shamir_secret_sharing_threshold: Option<usize>,
    /// KMS encryption context (not supported by sealops).
    #[arg(long, hide = true)]
    pub encryption_context: Option<String>,
    /// AWS profile for KMS (accepted, unused).
    #[arg(long, hide = true)]
    pub aws_profile: Option<String>,
}

#[derive(Args)]
pub struct EncryptArgs {
    /// The file to encrypt (standard input when omitted; then --filename-override is required).
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub types: TypeArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub create: CreateArgs,
}

#[derive(Args)]
pub struct DecryptArgs {
    /// The file to decrypt (standard input when omitted).
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub types: TypeArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub keys: KeyArgs,
    /// Print only this part of the file, e.g. '["app"]["password"]'.
    #[arg(long)]
    pub extract: Option<String>,
}

#[derive(Args)]
pub struct RotateArgs {
    /// Files or directories (directories are walked; their files are rotated in place).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub types: TypeArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub keys: KeyArgs,
    /// Add these age recipients (comma-separated) to the first key group.
    #[arg(long)]
    pub add_age: Option<String>,
    /// Remove these age recipients (comma-separated).
    #[arg(long)]
    pub rm_age: Option<String>,
    /// Add or remove keys of types sealops cannot use (an error if given).
    #[arg(long, hide = true)]
    pub add_pgp: Option<String>,
    #[arg(long, hide = true)]
    pub rm_pgp: Option<String>,
    #[arg(long, hide = true)]
    pub add_kms: Option<String>,
    #[arg(long, hide = true)]
    pub rm_kms: Option<String>,
    #[arg(long, hide = true)]
    pub add_gcp_kms: Option<String>,
    #[arg(long, hide = true)]
    pub rm_gcp_kms: Option<String>,
    #[arg(long, hide = true)]
    pub add_azure_kv: Option<String>,
    #[arg(long, hide = true)]
    pub rm_azure_kv: Option<String>,
    #[arg(long, hide = true)]
    pub add_hc_vault_transit: Option<String>,
    #[arg(long, hide = true)]
    pub rm_hc_vault_transit: Option<String>,
    #[arg(long, hide = true)]
    pub add_hckms: Option<String>,
    #[arg(long, hide = true)]
    pub rm_hckms: Option<String>,
}

#[derive(Args)]
pub struct UpdatekeysArgs {
    /// Files or directories (directories are walked).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Apply the changes without asking.
    #[arg(short = 'y', long)]
    pub yes: bool,
    #[arg(long)]
    pub input_type: Option<String>,
    /// Override the Shamir threshold of the matching creation rule.
    #[arg(long)]
    pub shamir_secret_sharing_threshold: Option<usize>,
    #[command(flatten)]
    pub keys: KeyArgs,
}

#[derive(Args)]
pub struct SetArgs {
    pub file: PathBuf,
    /// Where to set the value, e.g. '["app"]["password"]'.
    pub path: String,
    /// The value as JSON (omit with --value-file or --value-stdin).
    pub value: Option<String>,
    /// Read the value from the file named by the third argument.
    #[arg(long)]
    pub value_file: bool,
    /// Read the value from standard input.
    #[arg(long)]
    pub value_stdin: bool,
    /// Do nothing (and succeed) when the value is already set.
    #[arg(long)]
    pub idempotent: bool,
    #[command(flatten)]
    pub types: TypeArgs,
    #[command(flatten)]
    pub keys: KeyArgs,
}

#[derive(Args)]
pub struct UnsetArgs {
    pub file: PathBuf,
    /// What to remove, e.g. '["app"]["password"]'.
    pub path: String,
    /// Succeed when the value is already absent.
    #[arg(long)]
    pub idempotent: bool,
    #[command(flatten)]
    pub types: TypeArgs,
    #[command(flatten)]
    pub keys: KeyArgs,
}

#[derive(Args)]
pub struct EditArgs {
    pub file: PathBuf,
    /// Show the master keys (the `sops` metadata) in the editor too.
    #[arg(short = 's', long)]
    pub show_master_keys: bool,
    #[command(flatten)]
    pub types: TypeArgs,
    #[command(flatten)]
    pub keys: KeyArgs,
    #[command(flatten)]
    pub create: CreateArgs,
}

#[derive(Args)]
pub struct ExecEnvArgs {
    pub file: PathBuf,
    /// The command, run by /bin/sh.
    pub command: String,
    /// Pass only the decrypted values, not the current environment.
    #[arg(long)]
    pub pristine: bool,
    /// Replace this process with the command instead of starting a child.
    #[arg(long)]
    pub same_process: bool,
    /// Do not wait for the command (deprecated in sops).
    #[arg(long)]
    pub background: bool,
    /// Run the command as this user (needs the privilege to switch).
    #[arg(long)]
    pub user: Option<String>,
    #[arg(long)]
    pub input_type: Option<String>,
    #[command(flatten)]
    pub keys: KeyArgs,
}

#[derive(Args)]
pub struct ExecFileArgs {
    pub file: PathBuf,
    /// The command, run by /bin/sh; `{}` is replaced by the temporary file's path.
    pub command: String,
    /// Use a regular file instead of a FIFO.
    #[arg(long)]
    pub no_fifo: bool,
    /// Do not wait for the command (deprecated in sops).
    #[arg(long)]
    pub background: bool,
    /// Run the command as this user (needs the privilege to switch).
    #[arg(long)]
    pub user: Option<String>,
    /// Name of the temporary file (default: tmp-file).
    #[arg(long)]
    pub filename: Option<String>,
    #[command(flatten)]
    pub types: TypeArgs,
    #[command(flatten)]
    pub keys: KeyArgs,
}

#[derive(Args)]
pub struct FilestatusArgs {
    pub file: PathBuf,
    #[arg(long)]
    pub input_type: Option<String>,
}

/// A boolean as sops reads one from its environment (Go's `strconv.ParseBool` through
/// urfave/cli, which ignores a value it cannot parse): `1 t T TRUE true True` and their
/// false counterparts; anything else counts as unset.
fn go_bool(text: &str) -> Result<bool, std::convert::Infallible> {
    Ok(matches!(text, "1" | "t" | "T" | "TRUE" | "true" | "True"))
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;

    use clap::CommandFactory;

    use super::*;

    /// Every argument a parse matched, with its values and where they came from, at the root
    /// and in the subcommand.
    fn summary(matches: &clap::ArgMatches) -> Vec<String> {
        let level = |m: &clap::ArgMatches| -> Vec<String> {
            let mut ids: Vec<String> = m
                .ids()
                .map(|id| {
                    let values: Vec<_> = m.get_raw(id.as_str()).map(|v| v.collect()).unwrap_or_default();
                    format!("{id}={values:?} from {:?}", m.value_source(id.as_str()))
                })
                .collect();
            ids.sort();
            ids
        };
        let mut out = level(matches);
        if let Some((name, sub)) = matches.subcommand() {
            out.push(format!("subcommand {name}"));
            out.extend(level(sub));
        }
        out
    }

    fn argv(line: &[&str]) -> Vec<OsString> {
        std::iter::once("sealops").chain(line.iter().copied()).map(OsString::from).collect()
    }

    /// A command line the one-subcommand parser takes gives the whole parser's matches.
    #[test]
    fn the_one_subcommand_parser_matches_the_whole_parser() {
        let lines: &[&[&str]] = &[
            &["decrypt", "f.yaml"],
            &["decrypt"],
            &["decrypt", "--extract", "[\"a\"]", "--output-type", "json", "--ignore-mac", "f.yaml"],
            &["decrypt", "--config", "c.yaml", "--indent", "4", "--verbose", "f.yaml", "--output", "o"],
            &["encrypt", "--age", "age1x", "--encrypted-regex", "^data$", "-i", "f.yaml"],
            &["encrypt", "-a", "age1x", "--mac-only-encrypted", "--filename-override", "x.json"],
            &["rotate", "-i", "--add-age", "age1y", "a.yaml", "b.yaml"],
            &["updatekeys", "-y", "--shamir-secret-sharing-threshold", "2", "dir"],
            &["set", "f.yaml", "[\"a\"]", "1", "--idempotent"],
            &["unset", "f.yaml", "[\"a\"]"],
            &["edit", "-s", "f.yaml"],
            &["exec-env", "--pristine", "f.yaml", "env"],
            &["exec-file", "f.yaml", "cat {}"],
            &["filestatus", "f.yaml"],
            &["decrypt", "--disable-version-check", "f.yaml"],
            &["decrypt", "--keyservice", "tcp://x", "--keyservice", "tcp://y", "f.yaml"],
        ];
        for line in lines {
            let argv = argv(line);
            let whole = Cli::command().try_get_matches_from(&argv).unwrap_or_else(|e| panic!("{line:?}: {e}"));
            let one = Cli::one_subcommand(&argv).expect("a sops command").try_get_matches_from(&argv);
            let one = one.unwrap_or_else(|e| panic!("{line:?}: the one-subcommand parser refused: {e}"));
            assert_eq!(summary(&one), summary(&whole), "{line:?}");
            assert!(Cli::parse_args(&argv).is_ok(), "{line:?}");
        }
    }

    /// What the one-subcommand parser does not take goes to the whole parser: its errors,
    /// its help, and every other command.
    #[test]
    fn everything_else_is_the_whole_parser_s() {
        for line in [&["--verbose", "decrypt", "f.yaml"][..], &["build", "dir"], &["keys", "list", "c.pem"]] {
            let argv = argv(line);
            assert!(Cli::one_subcommand(&argv).is_none_or(|p| p.try_get_matches_from(&argv).is_err()), "{line:?}");
            assert!(Cli::parse_args(&argv).is_ok(), "{line:?}: the whole parser takes it");
        }
        for line in [&["decrypt", "--help"][..], &["decrypt", "--bogus"], &["encrypt", "a", "b"], &["--version"]] {
            let argv = argv(line);
            let expected = Cli::command().try_get_matches_from(&argv).map(drop).unwrap_err().to_string();
            let got = Cli::parse_args(&argv).map(drop).unwrap_err().to_string();
            assert_eq!(got, expected, "{line:?}");
        }
    }
}
