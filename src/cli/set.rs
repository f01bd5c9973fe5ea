//! `set` and `unset`: change one value of an encrypted file in place. Unchanged values keep
//! their ciphertext (the IVs are reused), so the diff shows only what changed.

use std::path::Path;

use anyhow::{Result, bail};
use sealops::crypto::Keyring;
use sealops::sops::json::JsonStore;
use sealops::sops::ops::{self, OpenOptions, Opened};
use sealops::sops::path::{self, PathError};
use sealops::sops::store::{Format, Store, StoreConfig};
use sealops::sops::tree::{Scalar, Value};

use super::args::{Global, KeyArgs, SetArgs, TypeArgs, UnsetArgs};
use super::exit::{Code, Exit, op_error};
use super::{files, io, keys};

pub fn run_set(global: &Global, a: SetArgs) -> Result<()> {
    super::reject_keyservice(global)?;
    let at = parse_path(&a.path, "Invalid set index format")?;
    let json = match (a.value_file, a.value_stdin, &a.value) {
        (true, true, _) => {
            bail!(Exit::new(Code::ConflictingParameters, "Error: cannot use both --value-file and --value-stdin"))
        }
        (true, false, Some(file)) => {
            let bytes = io::read_input(&io::Input::File(Path::new(file)), io::input_limit(false))?;
            String::from_utf8(bytes.into_vec())
                .map_err(|_| Exit::new(Code::InvalidSetFormat, "Value for --set is not valid JSON"))?
        }
        (false, true, None) => {
            let bytes = io::read_input(&io::Input::Stdin, io::input_limit(false))?;
            String::from_utf8(bytes.into_vec())
                .map_err(|_| Exit::new(Code::InvalidSetFormat, "Value for --set is not valid JSON"))?
        }
        (false, false, Some(v)) => v.clone(),
        (true, false, None) => {
            bail!(Exit::new(Code::Generic, "Error: --value-file needs the file name as the third argument"))
        }
        (false, true, Some(_)) => {
            bail!(Exit::new(Code::Generic, "Error: with --value-stdin, give only the file and the path"))
        }
        (false, false, None) => bail!(Exit::new(Code::Generic, "Error: no value specified")),
    };
    let value = json_value(&json)?;
    with_opened(global, &a.file, &a.types, &a.keys, |opened| {
        let changed = opened.set(&at, value).map_err(op_error)?;
        Ok(changed || !a.idempotent)
    })
}

pub fn run_unset(global: &Global, a: UnsetArgs) -> Result<()> {
    super::reject_keyservice(global)?;
    let at = parse_path(&a.path, "Invalid unset index format")?;
    with_opened(global, &a.file, &a.types, &a.keys, |opened| match opened.unset(&at) {
        Ok(()) => Ok(true),
        Err(ops::OpError::Path(PathError::UnsetMissing(_) | PathError::UnsetOutOfBounds(_))) if a.idempotent => {
            Ok(false)
        }
        // sops passes "Key not found" on as a plain error: exit 1, not InvalidTreePathFormat.
        Err(e @ ops::OpError::Path(PathError::UnsetMissing(_) | PathError::UnsetOutOfBounds(_))) => {
            Err(Exit::new(Code::Generic, e.to_string()).into())
        }
        Err(e) => Err(op_error(e)),
    })
}

/// The path argument of `set`/`unset`. A malformed one is sops's `ErrorInvalidSetFormat` (7),
/// with sops's message (`what`) in front of the parser's detail.
fn parse_path(text: &str, what: &str) -> Result<Vec<sealops::sops::tree::PathStep>> {
    let at = path::parse(text).map_err(|e| Exit::new(Code::InvalidSetFormat, format!("{what}: {e}")))?;
    if at.is_empty() {
        bail!(Exit::new(Code::InvalidSetFormat, format!("{what}: the path is empty")));
    }
    Ok(at)
}

/// Opens the file, applies `change`, and writes it back when `change` says so.
fn with_opened(
    global: &Global,
    file: &Path,
    types: &TypeArgs,
    keys_args: &KeyArgs,
    change: impl FnOnce(&mut Opened) -> Result<bool>,
) -> Result<()> {
    let (in_fmt, out_fmt) = files::formats(types, Some(file))?;
    let config = files::load_config(global)?;
    let sc: StoreConfig = files::store_config(global, config.as_ref());
    let options: OpenOptions = super::open_options(keys_args)?;
    let input = io::read_input(&files::input(Some(file)), io::input_limit(in_fmt == Format::Binary))?;
    let keyring: Keyring = keys::keyring()?;
    let mut opened = ops::open(&*files::store(in_fmt, sc), &input, &keyring, &options).map_err(op_error)?;
    if !change(&mut opened)? {
        return Ok(());
    }
    let out_store = files::store(out_fmt, sc);
    let sealed = opened.reencrypt(&*out_store).map_err(op_error)?;
    io::write_atomic(file, &sealed)
}

/// A `set` value: JSON, read as sops reads it. Scalars go through Go's `encoding/json`, so
/// every number is a float64 (`5` is stored as `type:float`); maps go through the JSON store;
/// a top-level list is refused, as in sops.
fn json_value(json: &str) -> Result<Value> {
    let text = json.trim();
    let store = JsonStore::new(StoreConfig::default());
    if text.starts_with('{') {
        let mut docs = store
            .load_plain(text.as_bytes())
            .map_err(|_| Exit::new(Code::InvalidSetFormat, "Invalid --set value format"))?;
        return Ok(Value::Map(docs.pop().unwrap_or_default()));
    }
    if text.starts_with('[') {
        bail!(Exit::new(Code::InvalidSetFormat, "Invalid --set value format"));
    }
    let value = store
        .parse_value(text.as_bytes())
        .map_err(|_| Exit::new(Code::InvalidSetFormat, "Value for --set is not valid JSON"))?;
    Ok(match value {
        Value::Scalar(Scalar::Int(i)) => Value::Scalar(Scalar::Float(i as f64)),
        Value::Scalar(Scalar::Uint(u)) => Value::Scalar(Scalar::Float(u as f64)),
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_values_follow_go_json() {
        assert!(matches!(json_value("5").unwrap(), Value::Scalar(Scalar::Float(f)) if f == 5.0));
        assert!(matches!(json_value("\"a\\nb\"").unwrap(), Value::Scalar(Scalar::Str(s)) if s.expose() == b"a\nb"));
        assert!(matches!(json_value("true").unwrap(), Value::Scalar(Scalar::Bool(true))));
        assert!(matches!(json_value("null").unwrap(), Value::Null));
        assert!(matches!(json_value("{\"a\": 1}").unwrap(), Value::Map(_)));
        assert!(json_value("[1]").is_err());
        assert!(json_value("not json").is_err());
    }
}
