//! `edit`: decrypt into a private temporary file, run the editor, validate, and encrypt again
//! with the same data key (unchanged values keep their ciphertext).
//!
//! The plaintext has to touch the disk for the editor to see it: it goes into a directory only
//! the user can read, and is overwritten and removed as soon as the editor returns. A file that
//! no longer parses is never saved: on a terminal the editor reopens with the error shown;
//! otherwise the command fails and the encrypted file is left as it was.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};
use sealops::crypto::SecretBytes;
use sealops::sops::datakey;
use sealops::sops::identities::split_command;
use sealops::sops::ops::{self, Opened};
use sealops::sops::store::{Format, Store};
use sealops::sops::tree::{Branch, Comment, Element, Item, Scalar, Value};

use super::args::{EditArgs, Global};
use super::exit::{Code, Exit, op_error};
use super::{encrypt, files, io, keys};

pub fn run(global: &Global, a: EditArgs) -> Result<()> {
    super::reject_keyservice(global)?;
    let file = a.file.as_path();
    let (in_fmt, _) = files::formats(&a.types, Some(file))?;
    let config = files::load_config(global)?;
    let sc = files::store_config(global, config.as_ref());
    let store = files::store(in_fmt, sc);

    if !file.exists() {
        let params = encrypt::params_for(
            &a.create,
            config.as_ref(),
            Some(a.types.filename_override.as_deref().unwrap_or(file)),
            in_fmt,
        )?;
        let example = store.emit_plain(&example_documents(in_fmt)).map_err(|e| op_error(e.into()))?;
        let edited = edit_until_valid(&*store, file, &example, false, |_| Ok(()))?;
        let sealed = ops::encrypt(&*store, &*store, edited.expose(), params).map_err(op_error)?;
        return io::write_atomic(file, &sealed);
    }

    let options = super::open_options(&a.keys)?;
    let input = io::read_input(&files::input(Some(file)), io::input_limit(in_fmt == Format::Binary))?;
    let keyring = keys::keyring()?;
    let mut opened = ops::open(&*store, &input, &keyring, &options).map_err(op_error)?;
    let shown = if a.show_master_keys {
        SecretBytes::new(store.emit_encrypted(&opened.docs, &opened.meta).map_err(|e| op_error(e.into()))?)
    } else {
        opened.emit_plain(&*store).map_err(op_error)?
    };
    let show = a.show_master_keys;
    let edited = edit_until_valid(&*store, file, shown.expose(), show, |bytes| {
        apply(&*store, &mut opened, bytes, show).map(|_| ())
    })?;
    apply(&*store, &mut opened, edited.expose(), show)?;
    let sealed = opened.reencrypt(&*store).map_err(op_error)?;
    io::write_atomic(file, &sealed)
}

/// Puts the edited text into `opened`: new documents and, with `--show-master-keys`, new
/// key groups (the data key is wrapped again for them).
fn apply(store: &dyn Store, opened: &mut Opened, bytes: &[u8], with_metadata: bool) -> Result<()> {
    let docs = if with_metadata {
        let (docs, meta) = store.load_encrypted(bytes).map_err(|e| op_error(e.into()))?;
        let recipients = |m: &sealops::sops::metadata::Metadata| -> Vec<Vec<String>> {
            m.key_groups.iter().map(|g| g.keys.iter().map(|k| k.describe()).collect()).collect()
        };
        if recipients(&meta) != recipients(&opened.meta) {
            opened.meta.key_groups = meta.key_groups;
            opened.meta.shamir_threshold = meta.shamir_threshold;
            let key = opened.data_key().clone();
            datakey::wrap(&mut opened.meta, &key).map_err(|e| op_error(e.into()))?;
        }
        docs
    } else {
        let docs = store.load_plain(bytes).map_err(|e| op_error(e.into()))?;
        if store.has_sops_key(&docs) {
            bail!(Exit::new(
                Code::FileAlreadyEncrypted,
                "the edited file contains a top-level 'sops' entry, which is reserved for metadata"
            ));
        }
        docs
    };
    opened.replace_documents(docs);
    Ok(())
}

/// Runs the editor on `initial` until the result parses (`validate`), or fails.
fn edit_until_valid(
    store: &dyn Store,
    original: &Path,
    initial: &[u8],
    with_metadata: bool,
    mut validate: impl FnMut(&[u8]) -> Result<()>,
) -> Result<SecretBytes> {
    let dir = tempfile::Builder::new()
        .prefix(".sealops-edit-")
        .tempdir()
        .context("creating a private temporary directory")?;
    restrict(dir.path(), 0o700)?;
    let name = original.file_name().map(|n| n.to_os_string()).unwrap_or_else(|| "file".into());
    let path = dir.path().join(name);
    write_private(&path, initial)?;
    let result = loop {
        run_editor(&path)?;
        let edited = SecretBytes::new(std::fs::read(&path).context("reading the edited file")?);
        if edited.expose() == initial {
            break Err(Exit::new(Code::FileHasNotBeenModified, "File has not changed, exiting.").into());
        }
        let checked = if with_metadata {
            store.load_encrypted(edited.expose()).map(|_| ()).map_err(|e| op_error(e.into()))
        } else {
            store.load_plain(edited.expose()).map(|_| ()).map_err(|e| op_error(e.into()))
        }
        .and_then(|_| validate(edited.expose()));
        match checked {
            Ok(()) => break Ok(edited),
            Err(e) if io::stdin_is_terminal() && io::stderr_is_terminal() => {
                eprintln!("{}", super::render(&e));
                if !io::confirm("The file is not valid and was not saved. Return to the editor?")? {
                    break Err(Exit::new(Code::Generic, "edit abandoned; the encrypted file is unchanged").into());
                }
            }
            Err(e) => break Err(e.context("the edited file is not valid; nothing was saved")),
        }
    };
    // Best effort: overwrite the plaintext before the directory is removed.
    if let Ok(meta) = std::fs::metadata(&path) {
        let _ = std::fs::write(&path, vec![0u8; meta.len() as usize]);
    }
    drop(dir);
    result
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))?;
    restrict(path, 0o600)
}

#[cfg(unix)]
fn restrict(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("restricting {}", path.display()))
}

#[cfg(not(unix))]
fn restrict(_: &Path, _: u32) -> Result<()> {
    Ok(())
}

/// `$SOPS_EDITOR`, then `$EDITOR` (split like a shell would), then vim, nano, vi.
fn run_editor(path: &Path) -> Result<()> {
    let configured =
        ["SOPS_EDITOR", "EDITOR"].iter().find_map(|v| std::env::var(v).ok().filter(|e| !e.trim().is_empty()));
    let mut words = match configured {
        Some(editor) => split_command(&editor)
            .map_err(|e| Exit::new(Code::NoEditorFound, format!("invalid editor command: {e}")))?,
        None => vec![
            ["vim", "nano", "vi"]
                .iter()
                .find(|e| which(e))
                .ok_or_else(|| Exit::new(Code::NoEditorFound, "Could not find any editors"))?
                .to_string(),
        ],
    };
    if words.is_empty() {
        bail!(Exit::new(Code::NoEditorFound, "Could not find any editors"));
    }
    let program = words.remove(0);
    let status = Command::new(&program)
        .args(&words)
        .arg(path)
        .status()
        .map_err(|e| Exit::new(Code::NoEditorFound, format!("could not run editor {program}: {e}")))?;
    if !status.success() {
        bail!(Exit::new(Code::Generic, format!("editor {program} exited with {status}; nothing was saved")));
    }
    Ok(())
}

fn which(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// The template a new file starts from (sops's example trees, per format).
fn example_documents(format: Format) -> Vec<Branch> {
    let pair = |k: &str, v: Value| Item::Pair { key: k.into(), value: v };
    let welcome = "Welcome to SOPS! Edit this file as you please!";
    let doc = match format {
        Format::Yaml | Format::Json => vec![
            pair("hello", Value::str(welcome)),
            pair("example_key", Value::str("example_value")),
            Item::Comment(Comment::new(" Example comment")),
            pair(
                "example_array",
                Value::List(vec![
                    Element::Value(Value::str("example_value1")),
                    Element::Value(Value::str("example_value2")),
                ]),
            ),
            pair("example_number", Value::Scalar(Scalar::Float(1234.56789))),
            pair(
                "example_booleans",
                Value::List(vec![
                    Element::Value(Value::Scalar(Scalar::Bool(true))),
                    Element::Value(Value::Scalar(Scalar::Bool(false))),
                ]),
            ),
        ],
        Format::Ini => vec![pair(
            "Welcome!",
            Value::Map(vec![
                Item::Comment(Comment::new(" This is an example file.")),
                pair("hello", Value::str(welcome)),
                pair("example_key", Value::str("example_value")),
            ]),
        )],
        Format::Dotenv => vec![
            Item::Comment(Comment::new(" This is an example file.")),
            pair("hello", Value::str(welcome)),
            pair("example_key", Value::str("example_value")),
            pair("example_multiline", Value::str("foo\nbar\nbaz")),
        ],
        Format::Binary => vec![pair("data", Value::str(welcome))],
    };
    vec![doc]
}
