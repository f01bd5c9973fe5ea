//! `decrypt`: a sops file in, plaintext out (all of it, or one `--extract`ed value).

use anyhow::Result;
use sealops::sops::ops;
use sealops::sops::path;
use sealops::sops::store::Format;

use super::args::{DecryptArgs, Global};
use super::exit::{Code, Exit, op_error};
use super::{files, io, keys};

pub fn run(global: &Global, a: DecryptArgs) -> Result<()> {
    super::reject_keyservice(global)?;
    let file = a.file.as_deref();
    let (in_fmt, out_fmt) = files::formats(&a.types, file)?;
    let config = files::load_config(global)?;
    let sc = files::store_config(global, config.as_ref());
    let output = files::output(&a.output, file)?;
    let extract = match &a.extract {
        Some(text) => Some(
            path::parse(text)
                .map_err(|e| Exit::new(Code::InvalidTreePathFormat, format!("error parsing --extract path: {e}")))?,
        ),
        None => None,
    };
    let options = ops::OpenOptions { keep_ivs: false, ..super::open_options(&a.keys)? };
    let input = io::read_input(&files::input(file), io::input_limit(in_fmt == Format::Binary))?;
    let keyring = keys::keyring()?;
    let out_store = files::store(out_fmt, sc);
    let output_kind = match &extract {
        Some(at) => ops::Output::Extract(at),
        None => ops::Output::Whole,
    };
    let plain = ops::decrypt(&*files::store(in_fmt, sc), &input, &keyring, &options, &*out_store, output_kind)
        .map_err(|e| match e {
            // sops reports a path that is not in the file as a plain error (exit 1); only a
            // malformed path is InvalidTreePathFormat (91).
            ops::OpError::Extract(_) => Exit::new(Code::Generic, e.to_string()).into(),
            e => op_error(e),
        })?;
    tracing::info!(file = %file.map(|p| p.display().to_string()).unwrap_or_else(|| "-".into()), "decrypted");
    io::write_output(&output, plain.expose())
}
