//! `updatekeys`: re-wrap each file's data key for the keys its creation rule lists now.
//! Values, MAC and `lastmodified` are untouched. Works on files and whole directories.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use sealops::sops::config;
use sealops::sops::ops::{self, KeyUpdate};
use sealops::sops::store::{Format, Store};

use super::args::{Global, TypeArgs, UpdatekeysArgs};
use super::exit::{Code, Exit, op_error};
use super::walk::{self, Outcome};
use super::{files, io, keys};

struct Planned {
    path: PathBuf,
    store: Box<dyn Store>,
    update: KeyUpdate,
}

pub fn run(global: &Global, a: UpdatekeysArgs) -> Result<()> {
    super::reject_keyservice(global)?;
    let options = super::open_options(&a.keys)?;
    let config = files::load_config(global)?.ok_or_else(|| Exit::new(Code::Generic, "config file not found"))?;
    let sc = files::store_config(global, Some(&config));
    let cwd = std::env::current_dir()?;
    let types = TypeArgs { input_type: a.input_type.clone(), ..TypeArgs::default() };
    let threshold_flag = a.shamir_secret_sharing_threshold.unwrap_or(0);
    let walked = a.paths.iter().any(|p| p.is_dir()) || a.paths.len() > 1;
    let files = walk::expand(&a.paths)?;

    // First what would change, for every file; nothing is written in this pass.
    let mut planned = Vec::new();
    let mut summary = walk::Summary::default();
    for path in files {
        match plan(&path, &types, sc, &config, &cwd, threshold_flag, walked) {
            Ok(Some(update)) => {
                planned.push(Planned { store: files::store(files::formats(&types, Some(&path))?.0, sc), path, update })
            }
            Ok(None) => summary.unchanged.push(path),
            Err(Skip::NotSops) => summary.skipped.push((path, "not a sops file")),
            Err(Skip::Failed(e)) if walked => summary.failed.push((path, e)),
            Err(Skip::Failed(e)) => return Err(e),
        }
    }
    if planned.is_empty() && !walked {
        eprintln!("File {} already up to date", a.paths[0].display());
    }
    for p in &planned {
        print_diff(&p.path, &p.update);
    }
    if !planned.is_empty() && !a.yes {
        let question = if planned.len() == 1 {
            "Is this okay?".to_owned()
        } else {
            format!("Apply these changes to {} files?", planned.len())
        };
        if !io::stdin_is_terminal() {
            bail!(Exit::new(Code::Generic, "not a terminal: pass --yes to apply the changes without asking"));
        }
        if !io::confirm(&question)? {
            eprintln!("Files left unchanged");
            return Ok(());
        }
    }
    if !planned.is_empty() {
        let keyring = keys::keyring()?;
        let applied = walk::run_all(
            planned,
            "updating keys",
            |p: &Planned| p.path.clone(),
            |job| {
                let sealed = job.update.apply(&*job.store, &keyring, &options).map_err(op_error)?;
                io::write_atomic(&job.path, &sealed)?;
                tracing::info!(file = %job.path.display(), "synced with new keys");
                Ok(Outcome::Changed)
            },
        );
        summary.changed = applied.changed;
        summary.failed.extend(applied.failed);
    }
    if walked {
        eprintln!("{}", summary.report("updated"));
    } else if let Some(p) = summary.changed.first() {
        eprintln!("File {} synced with new keys", p.display());
    }
    match summary.failed.len() {
        0 => Ok(()),
        _ if !walked => Err(summary.failed.remove(0).1),
        n => bail!(Exit::new(Code::Generic, format!("{n} file(s) could not be updated; they were left unchanged"))),
    }
}

enum Skip {
    NotSops,
    Failed(anyhow::Error),
}

fn plan(
    path: &Path,
    types: &TypeArgs,
    sc: sealops::sops::store::StoreConfig,
    config: &config::Config,
    cwd: &Path,
    threshold_flag: usize,
    walked: bool,
) -> Result<Option<KeyUpdate>, Skip> {
    let fail = |e: anyhow::Error| Skip::Failed(e);
    let (in_fmt, _) = files::formats(types, Some(path)).map_err(fail)?;
    let input = io::read_input(&files::input(Some(path)), io::input_limit(in_fmt == Format::Binary)).map_err(fail)?;
    let store = files::store(in_fmt, sc);
    if walked && (!walk::may_be_sops(&input) || !ops::is_encrypted(&*store, &input).unwrap_or(false)) {
        return Err(Skip::NotSops);
    }
    let rule = config
        .updatekeys_rule(&config::absolute_path(cwd, path))
        .and_then(|r| r.check_encryptable().map(|_| r))
        .map_err(|e| fail(Exit::new(files::config_code(&e), e.to_string()).into()))?;
    ops::plan_key_update(&*store, &input, rule.key_groups, threshold_flag).map_err(|e| fail(op_error(e)))
}

fn print_diff(path: &Path, update: &KeyUpdate) {
    let mut out = format!("The following changes will be made to the file's groups ({}):\n", path.display());
    if update.threshold != update.old_threshold {
        out.push_str(&format!("Shamir threshold: {} -> {}\n", update.old_threshold, update.threshold));
    }
    for d in &update.diffs {
        out.push_str(&format!("Group {}\n", d.group + 1));
        for k in &d.added {
            out.push_str(&format!("    +++ {k}\n"));
        }
        for k in &d.removed {
            out.push_str(&format!("    --- {k}\n"));
        }
    }
    print!("{out}");
}
