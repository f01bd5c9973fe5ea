//! `rotate`: a new data key for a file (or every sops file under a directory), re-encrypting
//! every value; `--add-age`/`--rm-age` change the recipients on the way.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use sealops::crypto::Keyring;
use sealops::sops::ops::{self, OpenOptions};
use sealops::sops::store::Format;

use super::args::{Global, RotateArgs};
use super::exit::{Code, Exit, op_error};
use super::walk::{self, Outcome};
use super::{files, io, keys};

pub fn run(global: &Global, a: RotateArgs) -> Result<()> {
    super::reject_keyservice(global)?;
    let unsupported = [
        ("--add-pgp", &a.add_pgp),
        ("--rm-pgp", &a.rm_pgp),
        ("--add-kms", &a.add_kms),
        ("--rm-kms", &a.rm_kms),
        ("--add-gcp-kms", &a.add_gcp_kms),
        ("--rm-gcp-kms", &a.rm_gcp_kms),
        ("--add-azure-kv", &a.add_azure_kv),
        ("--rm-azure-kv", &a.rm_azure_kv),
        ("--add-hc-vault-transit", &a.add_hc_vault_transit),
        ("--rm-hc-vault-transit", &a.rm_hc_vault_transit),
        ("--add-hckms", &a.add_hckms),
        ("--rm-hckms", &a.rm_hckms),
    ];
    if let Some((flag, _)) = unsupported.iter().find(|(_, v)| v.is_some()) {
        bail!(Exit::new(Code::Generic, format!("{flag}: sealops only supports age keys (use --add-age/--rm-age)")));
    }
    let split = |v: &Option<String>| -> Vec<String> {
        v.as_deref().unwrap_or("").split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
    };
    let (add, rm) = (split(&a.add_age), split(&a.rm_age));
    for r in &add {
        sealops::crypto::age::Recipient::parse(r).map_err(|e| Exit::new(Code::Generic, e.to_string()))?;
    }
    let options = super::open_options(&a.keys)?;
    let config = files::load_config(global)?;
    let sc = files::store_config(global, config.as_ref());
    let keyring = keys::keyring()?;

    let single = a.paths.len() == 1 && !a.paths[0].is_dir();
    if single {
        let file = a.paths[0].as_path();
        let (in_fmt, out_fmt) = files::formats(&a.types, Some(file))?;
        let output = files::output(&a.output, Some(file))?;
        let input = io::read_input(&files::input(Some(file)), io::input_limit(in_fmt == Format::Binary))?;
        let opened = ops::open(&*files::store(in_fmt, sc), &input, &keyring, &options).map_err(op_error)?;
        let sealed = opened.rotate(&*files::store(out_fmt, sc), &add, &rm).map_err(op_error)?;
        return io::write_output(&output, &sealed);
    }
    if a.output.output.is_some() {
        bail!(Exit::new(Code::ConflictingParameters, "--output works with one file; directories are rotated in place"));
    }
    let files = walk::expand(&a.paths)?;
    let summary = walk::run_all(files, "rotating", PathBuf::clone, |path| {
        rotate_in_place(&path, &a.types, sc, &keyring, &options, &add, &rm)
    });
    eprintln!("{}", summary.report("rotated"));
    match summary.failed.len() {
        0 => Ok(()),
        n => bail!(Exit::new(Code::Generic, format!("{n} file(s) could not be rotated; they were left unchanged"))),
    }
}

fn rotate_in_place(
    path: &Path,
    types: &super::args::TypeArgs,
    sc: sealops::sops::store::StoreConfig,
    keyring: &Keyring,
    options: &OpenOptions,
    add: &[String],
    rm: &[String],
) -> Result<Outcome> {
    let (in_fmt, _) = files::formats(types, Some(path))?;
    let input = io::read_input(&files::input(Some(path)), io::input_limit(in_fmt == Format::Binary))?;
    if !walk::may_be_sops(&input) {
        return Ok(Outcome::Skipped("not a sops file"));
    }
    let store = files::store(in_fmt, sc);
    if !ops::is_encrypted(&*store, &input).unwrap_or(false) {
        return Ok(Outcome::Skipped("not a sops file"));
    }
    let opened = ops::open(&*store, &input, keyring, options).map_err(op_error)?;
    let sealed = opened.rotate(&*store, add, rm).map_err(op_error)?;
    io::write_atomic(path, &sealed)?;
    tracing::info!(file = %path.display(), "rotated");
    Ok(Outcome::Changed)
}
