//! `encrypt`: a plaintext file in, a sops file out.

use anyhow::{Result, bail};
use sealops::sops::config::{self, EncryptFlags, SelectionFields};
use sealops::sops::ops::{self, EncryptParams};
use sealops::sops::store::Format;

use super::args::{CreateArgs, EncryptArgs, Global};
use super::exit::{Code, Exit, op_error};
use super::{files, io};

pub fn run(global: &Global, a: EncryptArgs) -> Result<()> {
    super::reject_keyservice(global)?;
    let file = a.file.as_deref();
    if files::input(file).is_stdin() && a.types.filename_override.is_none() {
        bail!(Exit::new(
            Code::ConflictingParameters,
            "Error: when reading from standard input, --filename-override is required to choose the format and the creation rule"
        ));
    }
    let (in_fmt, out_fmt) = files::formats(&a.types, file)?;
    let config = files::load_config(global)?;
    let sc = files::store_config(global, config.as_ref());
    let output = files::output(&a.output, file)?;
    let input = io::read_input(&files::input(file), io::input_limit(in_fmt == Format::Binary))?;
    let params = params_for(&a.create, config.as_ref(), a.types.filename_override.as_deref().or(file), in_fmt)?;
    let sealed =
        ops::encrypt(&*files::store(in_fmt, sc), &*files::store(out_fmt, sc), &input, params).map_err(op_error)?;
    io::write_output(&output, &sealed)
}

/// The keys and rules for a new file: flags over the matching creation rule (sops's
/// precedence, `config::resolve_encrypt`).
pub fn params_for(
    create: &CreateArgs,
    config: Option<&config::Config>,
    target: Option<&std::path::Path>,
    in_fmt: Format,
) -> Result<EncryptParams> {
    let cwd = std::env::current_dir()?;
    let rule = match (config, target) {
        (Some(c), Some(t)) => {
            c.rule_for(&config::absolute_path(&cwd, t)).map_err(|e| Exit::new(files::config_code(&e), e.to_string()))?
        }
        _ => None,
    };
    let flags = flags_from(create, in_fmt == Format::Binary);
    let settings =
        config::resolve_encrypt(&flags, rule.as_ref()).map_err(|e| Exit::new(files::config_code(&e), e.to_string()))?;
    Ok(EncryptParams {
        key_groups: settings.key_groups,
        shamir_threshold: settings.shamir_threshold,
        rule: settings.selection,
        mac_only_encrypted: settings.mac_only_encrypted,
    })
}

fn flags_from(c: &CreateArgs, single_value_store: bool) -> EncryptFlags {
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    EncryptFlags {
        age: s(&c.age),
        pgp: s(&c.pgp),
        kms: s(&c.kms),
        gcp_kms: s(&c.gcp_kms),
        hckms: s(&c.hckms),
        azure_kv: s(&c.azure_kv),
        hc_vault_transit: s(&c.hc_vault_transit),
        selection: SelectionFields {
            unencrypted_suffix: s(&c.unencrypted_suffix),
            encrypted_suffix: s(&c.encrypted_suffix),
            unencrypted_regex: s(&c.unencrypted_regex),
            encrypted_regex: s(&c.encrypted_regex),
            unencrypted_comment_regex: s(&c.unencrypted_comment_regex),
            encrypted_comment_regex: s(&c.encrypted_comment_regex),
        },
        mac_only_encrypted: c.mac_only_encrypted,
        shamir_threshold: c.shamir_secret_sharing_threshold.unwrap_or(0),
        single_value_store,
    }
}
