//! What `sealops build` does after the kustomize build, in Flux's order
//! (`shared/specs/flux.md` §2.8): check each object's identity, decrypt SOPS content
//! (`--decrypt`), then substitute postBuild variables (`--substitute`, `--substitute-from`).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use sealops::build::substitute::{self, Vars};
use sealops::crypto::Keyring;
use sealops::manifest::Resource;
use sealops::sops::objects;

/// The post-build switches of `sealops build`.
#[derive(clap::Args, Debug, Default)]
pub struct PostBuildArgs {
    /// Decrypt SOPS-encrypted objects and Secret entries after the build, as Flux does with
    /// `spec.decryption.provider: sops` (identities are found as `sealops decrypt` finds them).
    #[arg(long)]
    pub decrypt: bool,
    /// A postBuild variable, `KEY=VALUE` (repeatable; wins over --substitute-from).
    #[arg(long = "substitute", value_name = "KEY=VALUE")]
    pub substitute: Vec<String>,
    /// postBuild variables from a ConfigMap or Secret manifest, or a `KEY=VALUE` file
    /// (repeatable; later files win).
    #[arg(long = "substitute-from", value_name = "FILE")]
    pub substitute_from: Vec<PathBuf>,
    /// Substitute even when no variable is given (Flux's `substituteStrategy: Always`), so that
    /// `${var:=default}` forms are expanded.
    #[arg(long)]
    pub substitute_always: bool,
    /// Fail on a `${var}` with no value and no default (Flux's default since v1.9).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub strict_substitute: bool,
}

/// The post-build steps, ready to run on each build's objects (from any thread).
pub struct PostBuild {
    keyring: Option<Keyring>,
    vars: Vars,
    always: bool,
    strict: bool,
}

impl PostBuild {
    pub fn new(args: &PostBuildArgs, keyring: Option<Keyring>) -> Result<Self> {
        Ok(Self { keyring, vars: variables(args)?, always: args.substitute_always, strict: args.strict_substitute })
    }

    pub fn run(&self, resources: &mut [Resource]) -> Result<()> {
        for resource in resources.iter() {
            validate(resource)?;
        }
        if let Some(keyring) = &self.keyring {
            for resource in resources.iter_mut() {
                objects::decrypt_object(&mut resource.object, keyring)?;
            }
        }
        // Flux's default strategy substitutes only when at least one variable is known.
        if self.always {
            substitute::apply_always(resources, &self.vars, self.strict)?;
        } else {
            substitute::apply(resources, &self.vars, self.strict)?;
        }
        Ok(())
    }
}

/// Flux refuses objects without apiVersion, kind and name before anything else.
fn validate(resource: &Resource) -> Result<()> {
    let (_, version) = resource.group_version();
    if resource.kind().is_empty() || version.is_empty() || resource.name().is_empty() {
        bail!(
            "failed to decode Kubernetes apiVersion, kind and name from: object {:?} of kind {:?}",
            resource.name(),
            resource.kind(),
        );
    }
    Ok(())
}

fn variables(args: &PostBuildArgs) -> Result<Vars> {
    let mut vars = Vars::new();
    for file in &args.substitute_from {
        let content = std::fs::read(file).with_context(|| format!("--substitute-from {}", file.display()))?;
        substitute::vars_from_file(&file.display().to_string(), &content, &mut vars)?;
    }
    for pair in &args.substitute {
        let (key, value) = substitute::parse_substitute_arg(pair)?;
        vars.insert(key, value);
    }
    Ok(vars)
}
