//! Which file, which format, which store, and where the result goes.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use sealops::sops::config::{self, Config};
use sealops::sops::store::{self, Format, Store, StoreConfig};

use super::args::{Global, OutputArgs, TypeArgs};
use super::exit::{Code, Exit};
use super::io::{Input, Output};

/// The loaded `.sops.yaml`, if any.
pub fn load_config(global: &Global) -> Result<Option<Config>> {
    let cwd = std::env::current_dir()?;
    let env_path = std::env::var_os("SOPS_CONFIG").map(PathBuf::from);
    // clap already folded SOPS_CONFIG into --config; `locate` treats them the same.
    let found = config::locate(global.config.as_deref(), env_path.as_deref(), &cwd);
    match found.path {
        None => Ok(None),
        Some(path) => Config::load(&path, &cwd).map(Some).map_err(|e| Exit::new(config_code(&e), e.to_string()).into()),
    }
}

pub fn config_code(e: &config::ConfigError) -> Code {
    match e.exit_code() {
        8 => Code::ConflictingParameters,
        5 => Code::ErrorReadingConfig,
        _ => Code::Generic,
    }
}

/// Output settings: the config's `stores:` section, then `--indent`.
pub fn store_config(global: &Global, config: Option<&Config>) -> StoreConfig {
    let mut sc = config.map(|c| c.stores).unwrap_or_default();
    if let Some(indent) = global.indent {
        sc.yaml_indent = Some(indent);
        sc.json_indent = Some(indent);
        sc.json_binary_indent = Some(indent);
    }
    sc
}

fn parse_type(flag: &str, name: &str) -> Result<Format> {
    Format::from_name(name).ok_or_else(|| {
        Exit::new(Code::Generic, format!("invalid {flag} {name:?}: use one of yaml, json, dotenv, ini, binary")).into()
    })
}

/// The input and output formats: flags first, then the (overridden) file name's extension.
pub fn formats(types: &TypeArgs, file: Option<&Path>) -> Result<(Format, Format)> {
    let named = types.filename_override.as_deref().or(file);
    let input = match &types.input_type {
        Some(t) => parse_type("--input-type", t)?,
        None => named.map(Format::from_path).unwrap_or(Format::Binary),
    };
    let output = match &types.output_type {
        Some(t) => parse_type("--output-type", t)?,
        None => match (&types.input_type, named) {
            (None, Some(path)) => Format::from_path(path),
            _ => input,
        },
    };
    Ok((input, output))
}

pub fn store(format: Format, config: StoreConfig) -> Box<dyn Store> {
    store::for_format(format, config)
}

/// The input of a single-file command.
pub fn input(file: Option<&Path>) -> Input<'_> {
    match file {
        Some(p) if p != Path::new("-") => Input::File(p),
        _ => Input::Stdin,
    }
}

/// Where the result goes: `--output`, the input file (`--in-place`), or standard output.
pub fn output(args: &OutputArgs, file: Option<&Path>) -> Result<Output> {
    match (args.in_place, &args.output, file) {
        (true, Some(_), _) => {
            bail!(Exit::new(Code::ConflictingParameters, "Error: cannot operate on both --output and --in-place"))
        }
        (true, None, Some(f)) if f != Path::new("-") => Ok(Output::File(f.to_path_buf())),
        (true, None, _) => {
            bail!(Exit::new(Code::ConflictingParameters, "Error: --in-place needs a file, not standard input"))
        }
        (false, Some(out), _) => Ok(Output::File(out.clone())),
        (false, None, _) => Ok(Output::Stdout),
    }
}
