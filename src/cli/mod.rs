//! The command-line front end: argument parsing and one file per command. The only module that
//! prints, and (with `main`) the only one that uses `anyhow`.

mod args;
mod build;
mod build_post;
#[cfg(feature = "daemon")]
mod daemon;
mod decrypt;
mod edit;
mod encrypt;
mod exec;
mod exit;
mod files;
mod filestatus;
mod io;
mod keys;
mod kube_out;
mod reseal;
mod rotate;
mod seal;
#[cfg(feature = "daemon")]
mod seal_cluster;
mod sealkeys;
mod set;
mod sops_compat;
mod telemetry;
mod updatekeys;
mod walk;

use std::ffi::OsString;
use std::process::ExitCode;

pub use args::{Cli, Command};

/// Runs the program and returns its exit code.
pub fn main() -> ExitCode {
    let argv: Vec<OsString> = std::env::args_os().collect();
    let argv = sops_compat::translate(argv);
    let argv = seal::translate_kubeseal(argv);
    let cli = match Cli::parse_args(&argv) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // clap's usage errors exit 2, as urfave/cli's do for sops.
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    // The daemon sets up its own logging (`--log-level`, JSON for log collectors).
    if !cli.command.is_daemon() {
        telemetry::init(cli.global.verbose, cli.global.log_format.as_deref());
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("{}", render(&err));
            ExitCode::from(exit::code_for(&err))
        }
    }
}

fn render(err: &anyhow::Error) -> String {
    // An `Exit` carries a complete, user-facing message; other errors show their chain. Only
    // an `Exit` at the top counts: `downcast_ref` also finds one under a `.context(…)`, and
    // printing just the inner message would drop what the context says (e.g. that an edit
    // was not saved).
    if let Some(exit) = err.chain().next().and_then(|e| e.downcast_ref::<exit::Exit>()) {
        return exit.message.clone();
    }
    format!("{err:#}")
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let global = &cli.global;
    match cli.command {
        Command::Encrypt(a) => encrypt::run(global, a),
        Command::Decrypt(a) => decrypt::run(global, a),
        Command::Rotate(a) => rotate::run(global, a),
        Command::Updatekeys(a) => updatekeys::run(global, a),
        Command::Set(a) => set::run_set(global, a),
        Command::Unset(a) => set::run_unset(global, a),
        Command::Edit(a) => edit::run(global, a),
        Command::ExecEnv(a) => exec::run_env(global, a),
        Command::ExecFile(a) => exec::run_file(global, a),
        Command::Filestatus(a) => filestatus::run(global, a),
        Command::Seal(a) => seal::run(*a),
        Command::Keys(a) => sealkeys::run(a),
        Command::Reseal(a) => reseal::run(a),
        Command::Build(a) => build::run(a),
        #[cfg(feature = "daemon")]
        Command::Daemon(a) => daemon::run(global.log_format.as_deref(), *a),
    }
}

/// Remote key services are a sops feature sealops does not have: refuse rather than ignore.
fn reject_keyservice(global: &args::Global) -> anyhow::Result<()> {
    if global.keyservice.iter().any(|k| !k.is_empty()) {
        anyhow::bail!(exit::Exit::new(
            exit::Code::Generic,
            "remote key services (--keyservice) are not supported by sealops"
        ));
    }
    Ok(())
}

/// How to recover a data key, from `--ignore-mac` and `--decryption-order`.
fn open_options(keys: &args::KeyArgs) -> anyhow::Result<sealops::sops::ops::OpenOptions> {
    let mut options = sealops::sops::ops::OpenOptions { ignore_mac: keys.ignore_mac, ..Default::default() };
    if let Some(order) = keys.decryption_order.as_deref().filter(|o| !o.trim().is_empty()) {
        options.order = sealops::sops::datakey::parse_decryption_order(order)
            .map_err(|e| exit::Exit::new(exit::Code::DuplicateDecryptionKeyType, e.to_string()))?;
    }
    Ok(options)
}
