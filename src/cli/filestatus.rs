//! `filestatus`: `{"encrypted":true}` when the file carries sops metadata with a MAC.

use anyhow::Result;
use sealops::sops::ops;
use sealops::sops::store::Format;

use super::args::{FilestatusArgs, Global, TypeArgs};
use super::exit::op_error;
use super::{files, io};

pub fn run(global: &Global, a: FilestatusArgs) -> Result<()> {
    let types = TypeArgs { input_type: a.input_type.clone(), ..TypeArgs::default() };
    let (in_fmt, _) = files::formats(&types, Some(&a.file))?;
    let config = files::load_config(global)?;
    let sc = files::store_config(global, config.as_ref());
    let input = io::read_input(&files::input(Some(&a.file)), io::input_limit(in_fmt == Format::Binary))?;
    let encrypted = ops::is_encrypted(&*files::store(in_fmt, sc), &input).map_err(op_error)?;
    io::write_output(&io::Output::Stdout, format!("{{\"encrypted\":{encrypted}}}\n").as_bytes())
}
