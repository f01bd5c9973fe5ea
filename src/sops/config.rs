//! `.sops.yaml`: finding it, reading it, and deciding which keys and rules a new file gets.
//!
//! The contract is `shared/specs/sops.md` §3.1 (discovery, schema, rule selection, precedence)
//! and §3.3 (messages, exit codes). Behaviour follows getsops/sops `config/config.go` and the
//! callers in `cmd/sops/main.go` (`findConfigFile`, `loadConfig`, `getEncryptConfig`,
//! `keyGroups`, `shamirThreshold`) and `cmd/sops/subcommand/updatekeys`.
//!
//! The pieces are separate so that each can be tested alone:
//! * [`locate`] / [`lookup_config_file`]: which file. An explicit path (`--config`,
//!   `SOPS_CONFIG`) wins; otherwise `.sops.yaml` is searched from the **current directory**
//!   upward (not from the target file's directory). A `.sops.yml` seen on the way is skipped
//!   with a warning.
//! * [`Config::parse`] → [`Config::from_document`]: YAML → typed config. As in sops (yaml.v3
//!   decoding into structs), a field of the wrong shape fails the whole file, unknown keys are
//!   ignored, and everything sops only checks for the *matching* rule (the `path_regex` of
//!   later rules, recipients, the one-selection-rule check, the string-or-list key fields) is
//!   checked lazily, so a broken rule that never matches does not break other files.
//! * [`Config::rule_for`]: the first matching creation rule → [`RuleConfig`] (sops's
//!   `config.Config`).
//! * [`resolve_encrypt`]: CLI flags + the matched rule → final key groups, Shamir threshold,
//!   selection rule and `mac_only_encrypted`, with sops's precedence rules.
//! * [`Config::updatekeys_rule`] and [`updatekeys_threshold`]: what `updatekeys` compares
//!   the file with.
//!
//! sealops encrypts to age recipients only. pgp, kms, gcp_kms, azure_keyvault,
//! hc_vault_transit_uri and hckms keys are parsed and kept (as [`MasterKey::Other`]) so the
//! config loads and rule matching is unchanged, but producing a file for them fails with
//! [`ConfigError::UnsupportedKeyType`], which names the key type.

use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

use regex::Regex;

use super::metadata::{AgeKey, KeyGroup, KeyKind, MasterKey, OtherKey};
use super::rules::Selection;
use super::store::{Store, StoreConfig, StoreError};
use super::tree::{self, Branch, Element, Item, Key, Scalar, Value};
use super::yaml::YamlStore;
use crate::crypto::age::{AgeError, Recipient};
use crate::crypto::ssh::SshError;

/// The config file name sops looks for.
pub const CONFIG_FILE_NAME: &str = ".sops.yaml";
/// The name sops recognises only to warn that it is ignored (since 3.10.0).
pub const ALTERNATE_CONFIG_NAME: &str = ".sops.yml";
/// How many directories the upward search visits (the start directory included).
pub const MAX_DEPTH: usize = 100;

/// sops's wording for the one-selection-rule check, shared by both of its messages.
const SELECTION_LIST: &str = "encrypted_suffix, unencrypted_suffix, encrypted_regex, unencrypted_regex, encrypted_comment_regex, or unencrypted_comment_regex";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("could not read config file {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("error loading config {}: {source}", path.display())]
    Yaml { path: PathBuf, source: StoreError },
    /// A field of the config has the wrong shape or an invalid value.
    #[error("{}: {field}: {message}", path.display())]
    Field { path: PathBuf, field: String, message: String },
    /// sops's exact message (exit 1).
    #[error("error loading config: no matching creation rules found")]
    NoMatchingRule { path: PathBuf },
    #[error("{}: creation_rules[{index}]: cannot use more than one of {SELECTION_LIST} for the same rule", path.display())]
    RuleConflict { path: PathBuf, index: usize },
    /// sops's exact message after flags and config are merged (exit 8, ErrorConflictingParameters).
    #[error("Error: cannot use more than one of {SELECTION_LIST} in the same file")]
    FlagConflict,
    /// An invalid value given on the command line (`--encrypted-regex '('`).
    #[error("{flag}: {message}")]
    Flag { flag: &'static str, message: String },
    /// A recipient given on the command line; the message is sops's (`failed to parse input,
    /// unknown recipient type: "bogus"`).
    #[error(transparent)]
    Recipient(AgeError),
    /// A key type sealops cannot encrypt to (pgp, kms, …).
    #[error(
        "{origin}: sealops cannot encrypt to {kind} keys ({key}); only age X25519 and ssh-ed25519 recipients are supported"
    )]
    UnsupportedKeyType { origin: String, kind: String, key: String },
    /// sops's exact message when neither flags nor config give keys (exit 1).
    #[error("config file not found, or has no creation rules, and no keys provided through command line options")]
    NoKeys,
    /// `updatekeys` needs a config file.
    #[error("config file not found")]
    NotFound,
    /// `updatekeys` with a config that has no `creation_rules` (sops's message).
    #[error("The config file {} does not contain any creation rule", path.display())]
    NoCreationRules { path: PathBuf },
}

impl ConfigError {
    /// A stable name for the error class.
    pub fn kind(&self) -> &'static str {
        match self {
            ConfigError::Read { .. } => "config_read",
            ConfigError::Yaml { .. } => "config_parse",
            ConfigError::Field { .. } => "config_invalid",
            ConfigError::NoMatchingRule { .. } => "no_matching_rule",
            ConfigError::RuleConflict { .. } => "rule_conflict",
            ConfigError::FlagConflict => "conflicting_parameters",
            ConfigError::Flag { .. } => "invalid_flag",
            ConfigError::Recipient(_) => "invalid_recipient",
            ConfigError::UnsupportedKeyType { .. } => "unsupported_key_type",
            ConfigError::NoKeys => "no_keys",
            ConfigError::NotFound => "config_not_found",
            ConfigError::NoCreationRules { .. } => "no_creation_rules",
        }
    }

    /// The exit code sops uses (`cmd/sops/codes`): 8 for conflicting selection flags,
    /// 1 (ErrorGeneric) for everything else, config errors included.
    pub fn exit_code(&self) -> i32 {
        match self {
            ConfigError::FlagConflict => 8,
            _ => 1,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Discovery
// ---------------------------------------------------------------------------------------------

/// The outcome of looking for a config file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigLookup {
    /// The absolute path of the config file, when there is one.
    pub path: Option<PathBuf>,
    /// The `.sops.yml` warning, when one was seen (already logged by [`locate`]).
    pub warning: Option<String>,
}

impl ConfigLookup {
    /// The path, for commands that need a config (`updatekeys`: `config file not found`).
    pub fn required(&self) -> Result<&Path, ConfigError> {
        self.path.as_deref().ok_or(ConfigError::NotFound)
    }
}

/// sops's `LookupConfigFile`: `.sops.yaml` in `cwd` or one of its parents, visiting at most
/// [`MAX_DEPTH`] directories. A `.sops.yml` seen before the file is found only produces a
/// warning. Pure: nothing is logged.
///
/// `cwd` should be absolute (the process's current directory). sops walks `./..`, `../..`
/// relative to the current directory, which the kernel resolves physically; the current
/// directory from `getcwd` has no symlinks, so walking its lexical parents is the same.
pub fn lookup_config_file(cwd: &Path) -> ConfigLookup {
    let mut dir = cwd.to_path_buf();
    let mut alternate: Option<PathBuf> = None;
    for _ in 0..MAX_DEPTH {
        let candidate = dir.join(CONFIG_FILE_NAME);
        // `Stat` in sops: anything that exists counts, even a directory (reading it fails later).
        if std::fs::metadata(&candidate).is_ok() {
            let warning = alternate.map(|alt| {
                format!(
                    "ignoring {:?} when searching for config file; the config file must be called {CONFIG_FILE_NAME:?}; using {:?} instead",
                    alt.display().to_string(),
                    candidate.display().to_string()
                )
            });
            return ConfigLookup { path: Some(candidate), warning };
        }
        if alternate.is_none() {
            let alt = dir.join(ALTERNATE_CONFIG_NAME);
            if std::fs::metadata(&alt).is_ok() {
                alternate = Some(alt);
            }
        }
        // At the root sops keeps stat-ing "/.sops.yaml" until the depth runs out; stopping
        // here gives the same answer.
        if !dir.pop() {
            break;
        }
    }
    let warning = alternate.map(|alt| {
        format!(
            "ignoring {:?} when searching for config file; the config file must be called {CONFIG_FILE_NAME:?}",
            alt.display().to_string()
        )
    });
    ConfigLookup { path: None, warning }
}

/// Which config file applies: `flag` (`--config`), else `sops_config_env` (`SOPS_CONFIG`),
/// else the upward search from `cwd`. Empty values count as unset, as in sops (urfave/cli
/// gives `""` for both). An explicit path is returned even if it does not exist: loading it
/// then fails, as in sops. The `.sops.yml` warning is logged here (`tracing::warn!`) and also
/// returned; call this once per process, as sops shows the warning once.
pub fn locate(flag: Option<&Path>, sops_config_env: Option<&Path>, cwd: &Path) -> ConfigLookup {
    let explicit = [flag, sops_config_env].into_iter().flatten().find(|p| !p.as_os_str().is_empty());
    if let Some(path) = explicit {
        return ConfigLookup { path: Some(absolute_path(cwd, path)), warning: None };
    }
    let found = lookup_config_file(cwd);
    if let Some(warning) = &found.warning {
        tracing::warn!("{warning}");
    }
    found
}

/// Go's `filepath.Abs`: `path` joined to `cwd` when relative, then cleaned lexically (`.` and
/// `..` removed without looking at the file system). sops computes both the target file's path
/// and the config directory this way before comparing them.
pub fn absolute_path(cwd: &Path, path: &Path) -> PathBuf {
    let joined = if path.is_absolute() { path.to_path_buf() } else { cwd.join(path) };
    let mut out = PathBuf::new();
    for component in joined.components() {
        match component {
            Component::Prefix(_) | Component::RootDir => out.push(component.as_os_str()),
            Component::CurDir => {}
            Component::ParentDir => {
                // `..` at the root stays at the root, as in Go's Clean.
                out.pop();
            }
            Component::Normal(name) => out.push(name),
        }
    }
    out
}

/// The string sops matches `path_regex` against: the target's absolute path with
/// `<config dir>/` removed when it is a prefix (`strings.TrimPrefix`), otherwise the absolute
/// path unchanged. `target` should come from [`absolute_path`] (of `--filename-override` when
/// given, else of the file argument: sops uses the override for config lookup too).
///
/// Quirk kept from sops: with the config in `/`, the prefix is `//`, so nothing is trimmed.
pub fn rule_match_path(config_dir: &Path, target: &Path) -> String {
    let target = target.to_string_lossy();
    let mut prefix = config_dir.to_string_lossy().into_owned();
    prefix.push(std::path::MAIN_SEPARATOR);
    match target.strip_prefix(prefix.as_str()) {
        Some(rest) => rest.to_owned(),
        None => target.into_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// Typed config
// ---------------------------------------------------------------------------------------------

/// A parsed `.sops.yaml`.
#[derive(Clone, Debug)]
pub struct Config {
    /// The file, as loaded (used in messages).
    pub path: PathBuf,
    /// The absolute, cleaned directory of the file (`filepath.Abs(filepath.Dir(path))`).
    pub dir: PathBuf,
    /// `None` when the file has no (or a null) `creation_rules`: sops then behaves as if there
    /// were no config file for encryption. `Some(vec![])` (`creation_rules: []`) is a config
    /// in which no rule matches.
    pub creation_rules: Option<Vec<CreationRule>>,
    /// `stores:` output settings.
    pub stores: StoreConfig,
}

/// One entry of `creation_rules`, as written. Validation that sops does only for the matching
/// rule happens in [`Config::rule_for`].
#[derive(Clone, Debug, Default)]
pub struct CreationRule {
    pub index: usize,
    pub path_regex: String,
    pub age: KeyField,
    pub pgp: KeyField,
    pub kms: KeyField,
    pub gcp_kms: KeyField,
    pub azure_keyvault: KeyField,
    pub hc_vault_transit_uri: KeyField,
    pub hckms: Vec<String>,
    pub key_groups: Vec<KeyGroupSpec>,
    pub shamir_threshold: usize,
    pub selection: SelectionFields,
    pub mac_only_encrypted: bool,
}

/// A key field that may be a comma-separated string or a list (`age`, `pgp`, …).
///
/// sops decodes these into `interface{}` and only checks their type when the rule is used,
/// so a wrong type is kept here as [`KeyField::Invalid`] and reported then.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyField {
    /// From a string: split on `,`, trimmed, empty entries dropped. From a list: the entries
    /// as written (sops joins them with `,` and splits again when it parses them).
    Entries(Vec<String>),
    /// The value had another type; the message says which.
    Invalid(String),
}

impl Default for KeyField {
    fn default() -> Self {
        KeyField::Entries(Vec::new())
    }
}

/// One entry of `key_groups`.
#[derive(Clone, Debug, Default)]
pub struct KeyGroupSpec {
    /// Groups whose keys are added first (recursively), before this group's own keys.
    pub merge: Vec<KeyGroupSpec>,
    pub age: Vec<String>,
    pub pgp: Vec<String>,
    pub kms: Vec<KmsSpec>,
    pub gcp_kms: Vec<String>,
    pub hckms: Vec<String>,
    pub azure_keyvault: Vec<AzureSpec>,
    pub hc_vault: Vec<String>,
}

/// A `kms` entry of a key group.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KmsSpec {
    pub arn: String,
    pub role: String,
    /// Encryption context, sorted by key; `None` values are YAML nulls.
    pub context: Vec<(String, Option<String>)>,
    pub aws_profile: String,
}

/// An `azure_keyvault` entry of a key group.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AzureSpec {
    pub vault_url: String,
    pub key: String,
    pub version: String,
}

/// The six selection-rule fields as plain strings; `""` means unset (as in sops, where flags and
/// config fields are compared with `""`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SelectionFields {
    pub unencrypted_suffix: String,
    pub encrypted_suffix: String,
    pub unencrypted_regex: String,
    pub encrypted_regex: String,
    pub unencrypted_comment_regex: String,
    pub encrypted_comment_regex: String,
}

impl SelectionFields {
    /// `(metadata field, CLI flag, value)` for each of the six.
    fn entries(&self) -> [(&'static str, &'static str, &str); 6] {
        [
            ("unencrypted_suffix", "--unencrypted-suffix", &self.unencrypted_suffix),
            ("encrypted_suffix", "--encrypted-suffix", &self.encrypted_suffix),
            ("unencrypted_regex", "--unencrypted-regex", &self.unencrypted_regex),
            ("encrypted_regex", "--encrypted-regex", &self.encrypted_regex),
            ("unencrypted_comment_regex", "--unencrypted-comment-regex", &self.unencrypted_comment_regex),
            ("encrypted_comment_regex", "--encrypted-comment-regex", &self.encrypted_comment_regex),
        ]
    }

    fn field_mut(&mut self, field: &str) -> Option<&mut String> {
        Some(match field {
            "unencrypted_suffix" => &mut self.unencrypted_suffix,
            "encrypted_suffix" => &mut self.encrypted_suffix,
            "unencrypted_regex" => &mut self.unencrypted_regex,
            "encrypted_regex" => &mut self.encrypted_regex,
            "unencrypted_comment_regex" => &mut self.unencrypted_comment_regex,
            "encrypted_comment_regex" => &mut self.encrypted_comment_regex,
            _ => return None,
        })
    }

    /// How many of the six are set.
    pub fn count(&self) -> usize {
        self.entries().iter().filter(|(_, _, v)| !v.is_empty()).count()
    }
}

impl Config {
    /// Reads and parses the config at `path` (made absolute against `cwd`).
    pub fn load(path: &Path, cwd: &Path) -> Result<Self, ConfigError> {
        let path = absolute_path(cwd, path);
        let bytes = std::fs::read(&path).map_err(|source| ConfigError::Read { path: path.clone(), source })?;
        Self::parse(&path, &bytes)
    }

    /// Parses config text with the project's YAML store (which expands anchors and aliases).
    /// `path` should be absolute; its directory is the base for `path_regex` matching. Only the
    /// first YAML document is used, as `yaml.Unmarshal` does; an empty file is an empty config.
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Self, ConfigError> {
        let docs = match YamlStore::default().load_plain(bytes) {
            Ok(docs) => docs,
            Err(StoreError::Empty) => Vec::new(),
            Err(source) => return Err(ConfigError::Yaml { path: path.to_path_buf(), source }),
        };
        let empty = Branch::new();
        Self::from_document(path, docs.first().unwrap_or(&empty))
    }

    /// Builds the typed config from the first YAML document.
    pub fn from_document(path: &Path, doc: &Branch) -> Result<Self, ConfigError> {
        let p = Parser { path };
        let creation_rules = match tree::get(doc, "creation_rules") {
            None | Some(Value::Null) => None,
            Some(value) => Some(
                p.list("creation_rules", value)?
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| p.creation_rule(i, v))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };
        // Parsed only to reject what yaml.v3 would reject; `publish` is not implemented.
        if let Some(value) = tree::get(doc, "destination_rules") {
            for (i, rule) in p.list("destination_rules", value)?.into_iter().enumerate() {
                p.map(&format!("destination_rules[{i}]"), rule)?;
            }
        }
        let stores = match tree::get(doc, "stores") {
            None => StoreConfig::default(),
            Some(value) => p.stores(value)?,
        };
        let dir = absolute_path(Path::new("/"), path.parent().unwrap_or(Path::new("/")));
        Ok(Self { path: path.to_path_buf(), dir, creation_rules, stores })
    }

    /// sops's `parseCreationRuleForFile`: the first rule whose `path_regex` is empty or matches
    /// (RE2 `MatchString`, unanchored) the target path relative to the config directory
    /// ([`rule_match_path`]). `target` is the absolute path from [`absolute_path`].
    ///
    /// `Ok(None)` when the config has no `creation_rules` (sops: "assume it does not exist").
    /// Regexes are compiled in order until one matches, so an invalid pattern after the match
    /// is never reported, as in sops. The matching rule is then validated and its keys parsed
    /// (sops's `configFromRule`), even if CLI key flags will override them later.
    pub fn rule_for(&self, target: &Path) -> Result<Option<RuleConfig>, ConfigError> {
        let Some(rules) = &self.creation_rules else {
            return Ok(None);
        };
        let relative = rule_match_path(&self.dir, target);
        for rule in rules {
            if rule.path_regex.is_empty() {
                return self.resolve_rule(rule).map(Some);
            }
            let regex = Regex::new(&rule.path_regex).map_err(|e| {
                self.field_err(format!("creation_rules[{}].path_regex", rule.index), format!("invalid regex: {e}"))
            })?;
            if regex.is_match(&relative) {
                return self.resolve_rule(rule).map(Some);
            }
        }
        Err(ConfigError::NoMatchingRule { path: self.path.clone() })
    }

    /// What `updatekeys` compares a file with: the matching rule, which must exist (sops
    /// errors when the config has no `creation_rules`). `target` is the file's absolute path;
    /// `updatekeys` has no `--filename-override`.
    ///
    /// The rule may hold key types sealops cannot wrap for ([`MasterKey::Other`]); they are
    /// returned so the caller can diff them. Since `updatekeys` keeps the data key, a key
    /// already in the file keeps its `enc`; only *new* ones need wrapping, and
    /// [`RuleConfig::check_encryptable`] reports those the caller cannot produce.
    pub fn updatekeys_rule(&self, target: &Path) -> Result<RuleConfig, ConfigError> {
        self.rule_for(target)?.ok_or_else(|| ConfigError::NoCreationRules { path: self.path.clone() })
    }

    fn field_err(&self, field: String, message: String) -> ConfigError {
        ConfigError::Field { path: self.path.clone(), field, message }
    }

    /// sops's `configFromRule` and `getKeyGroupsFromCreationRule`.
    fn resolve_rule(&self, rule: &CreationRule) -> Result<RuleConfig, ConfigError> {
        if rule.selection.count() > 1 {
            return Err(ConfigError::RuleConflict { path: self.path.clone(), index: rule.index });
        }
        let at = |field: &str| format!("creation_rules[{}].{field}", rule.index);
        let key_groups = if !rule.key_groups.is_empty() {
            rule.key_groups
                .iter()
                .enumerate()
                .map(|(g, spec)| self.extract_group(spec, &at(&format!("key_groups[{g}]"))))
                .collect::<Result<Vec<_>, _>>()?
        } else {
            // The flat fields make exactly one group, in sops's order: age, pgp, kms, gcp_kms,
            // hckms, azure_keyvault, hc_vault. No de-duplication here (sops has none either).
            let mut group = KeyGroup::default();
            let entries = |field: &KeyField, name: &str| match field {
                KeyField::Entries(e) => Ok(e.clone()),
                KeyField::Invalid(message) => Err(self.field_err(at(name), message.clone())),
            };
            let age = entries(&rule.age, "age")?;
            if !age.is_empty() {
                group.keys.extend(
                    parse_recipients_lenient(&age.join(",")).map_err(|e| self.field_err(at("age"), e.to_string()))?,
                );
            }
            for entry in split_list(&entries(&rule.pgp, "pgp")?) {
                group.keys.push(other(KeyKind::Pgp, &[("fp", &entry)]));
            }
            for entry in split_list(&entries(&rule.kms, "kms")?) {
                group.keys.push(kms_from_arn(&entry));
            }
            for entry in split_list(&entries(&rule.gcp_kms, "gcp_kms")?) {
                group.keys.push(other(KeyKind::GcpKms, &[("resource_id", &entry)]));
            }
            for entry in split_list(&rule.hckms) {
                group.keys.push(other(KeyKind::Hckms, &[("key_id", &entry)]));
            }
            for entry in split_list(&entries(&rule.azure_keyvault, "azure_keyvault")?) {
                group.keys.push(azure_from_url(&entry));
            }
            for entry in split_list(&entries(&rule.hc_vault_transit_uri, "hc_vault_transit_uri")?) {
                group.keys.push(vault_from_uri(&entry));
            }
            vec![group]
        };
        Ok(RuleConfig {
            config_path: self.path.clone(),
            index: rule.index,
            key_groups,
            shamir_threshold: rule.shamir_threshold,
            selection: rule.selection.clone(),
            mac_only_encrypted: rule.mac_only_encrypted,
        })
    }

    /// sops's `extractMasterKeys`: merged groups first, then age, pgp, kms, gcp_kms, hckms,
    /// azure_keyvault, hc_vault; then duplicates (same type and identifier) are dropped,
    /// keeping the first.
    fn extract_group(&self, spec: &KeyGroupSpec, at: &str) -> Result<KeyGroup, ConfigError> {
        let mut keys = Vec::new();
        for (m, merged) in spec.merge.iter().enumerate() {
            keys.extend(self.extract_group(merged, &format!("{at}.merge[{m}]"))?.keys);
        }
        for (i, entry) in spec.age.iter().enumerate() {
            // Each list entry may itself be a comma-separated list (MasterKeysFromRecipients).
            keys.extend(
                parse_recipients_lenient(entry).map_err(|e| self.field_err(format!("{at}.age[{i}]"), e.to_string()))?,
            );
        }
        keys.extend(spec.pgp.iter().map(|fp| other(KeyKind::Pgp, &[("fp", fp)])));
        for kms in &spec.kms {
            keys.push(kms_key(kms));
        }
        keys.extend(spec.gcp_kms.iter().map(|id| other(KeyKind::GcpKms, &[("resource_id", id)])));
        keys.extend(spec.hckms.iter().map(|id| other(KeyKind::Hckms, &[("key_id", id)])));
        keys.extend(spec.azure_keyvault.iter().map(|a| {
            other(KeyKind::AzureKv, &[("vault_url", &a.vault_url), ("name", &a.key), ("version", &a.version)])
        }));
        keys.extend(spec.hc_vault.iter().map(|uri| vault_from_uri(uri)));
        Ok(KeyGroup { keys: dedup(keys) })
    }
}

/// The matching creation rule, validated, with its keys parsed (sops's `config.Config`).
#[derive(Clone)]
pub struct RuleConfig {
    /// The config file it came from, for messages.
    pub config_path: PathBuf,
    /// Its position in `creation_rules`.
    pub index: usize,
    /// Age keys have an empty `enc`. Other key types are [`MasterKey::Other`].
    pub key_groups: Vec<KeyGroup>,
    /// 0 when not set.
    pub shamir_threshold: usize,
    /// At most one of the six is set (checked).
    pub selection: SelectionFields,
    pub mac_only_encrypted: bool,
}

impl RuleConfig {
    fn origin(&self) -> String {
        format!("{}: creation_rules[{}]", self.config_path.display(), self.index)
    }

    /// Fails unless sealops can wrap a data key for every key of the rule: every age
    /// recipient must be one sealops implements (X25519, ssh-ed25519) and no other key type
    /// may appear.
    pub fn check_encryptable(&self) -> Result<(), ConfigError> {
        check_groups(&self.key_groups, &self.origin())
    }
}

fn check_groups(groups: &[KeyGroup], origin: &str) -> Result<(), ConfigError> {
    for key in groups.iter().flat_map(|g| g.keys.iter()) {
        match key {
            MasterKey::Age(age) => {
                if let Err(e) = Recipient::parse(&age.recipient) {
                    let kind = match &e {
                        AgeError::UnsupportedRecipient { kind, .. } => (*kind).to_owned(),
                        AgeError::Ssh(SshError::Unsupported(ssh_kind)) => ssh_kind.clone(),
                        // Not reachable for rules (other errors are refused when the rule is
                        // resolved), but keep the parser's own words if it happens.
                        other => format!("invalid age recipient ({other})"),
                    };
                    return Err(ConfigError::UnsupportedKeyType {
                        origin: origin.to_owned(),
                        kind,
                        key: age.recipient.clone(),
                    });
                }
            }
            MasterKey::Other(_) => {
                return Err(ConfigError::UnsupportedKeyType {
                    origin: origin.to_owned(),
                    kind: key.type_name().to_owned(),
                    key: key.describe(),
                });
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------------------------

/// sops's `MasterKeysFromRecipients` for a comma-separated list, strictly: every entry is
/// trimmed and must be a recipient sealops can encrypt to. `""` gives no keys; an empty entry
/// (`a,,b`, a trailing comma) is an error, as in sops. Usable for `--age`, `--add-age`.
pub fn parse_recipients(list: &str) -> Result<Vec<MasterKey>, AgeError> {
    if list.is_empty() {
        return Ok(Vec::new());
    }
    list.split(',')
        .map(|entry| {
            let entry = entry.trim();
            Recipient::parse(entry)?;
            Ok(age_key(entry))
        })
        .collect()
}

/// As [`parse_recipients`], but recipient kinds that sops accepts and sealops cannot use
/// (post-quantum, plugins, ssh-rsa) are kept: a rule that lists them must still load, since
/// key flags may override its keys. They are refused when the keys are actually used
/// ([`RuleConfig::check_encryptable`]).
fn parse_recipients_lenient(list: &str) -> Result<Vec<MasterKey>, AgeError> {
    if list.is_empty() {
        return Ok(Vec::new());
    }
    list.split(',')
        .map(|entry| {
            let entry = entry.trim();
            match Recipient::parse(entry) {
                Ok(_) | Err(AgeError::UnsupportedRecipient { .. }) | Err(AgeError::Ssh(SshError::Unsupported(_))) => {
                    Ok(age_key(entry))
                }
                Err(e) => Err(e),
            }
        })
        .collect()
}

fn age_key(recipient: &str) -> MasterKey {
    MasterKey::Age(AgeKey { recipient: recipient.to_owned(), enc: String::new() })
}

/// Comma-split of the non-age flat key lists (`pgp: "a, b"` and lists alike), trimmed,
/// empty entries dropped: sealops never uses these keys, so only their identity matters.
fn split_list(entries: &[String]) -> Vec<String> {
    entries.iter().flat_map(|e| e.split(',')).map(str::trim).filter(|e| !e.is_empty()).map(str::to_owned).collect()
}

fn other(kind: KeyKind, fields: &[(&str, &str)]) -> MasterKey {
    let fields = fields
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| Item::Pair { key: Key::from(*k), value: Value::str(v) });
    MasterKey::Other(OtherKey { kind, fields: fields.collect() })
}

/// A flat `kms:` entry: `arn[+role]` (sops's `NewMasterKeyFromArn`).
fn kms_from_arn(entry: &str) -> MasterKey {
    let entry: String = entry.chars().filter(|c| *c != ' ').collect();
    match entry.split_once("+arn:") {
        Some((arn, role)) => other(KeyKind::Kms, &[("arn", arn), ("role", &format!("arn:{role}"))]),
        None => other(KeyKind::Kms, &[("arn", &entry)]),
    }
}

fn kms_key(spec: &KmsSpec) -> MasterKey {
    let mut key = other(KeyKind::Kms, &[("arn", &spec.arn), ("role", &spec.role), ("aws_profile", &spec.aws_profile)]);
    if let MasterKey::Other(o) = &mut key
        && !spec.context.is_empty()
    {
        let context = spec
            .context
            .iter()
            .map(|(k, v)| Item::Pair {
                key: Key::from(k.as_str()),
                value: v.as_deref().map(Value::str).unwrap_or(Value::Null),
            })
            .collect();
        o.fields.push(Item::Pair { key: Key::from("context"), value: Value::Map(context) });
    }
    key
}

/// A flat `azure_keyvault:` URL, `https://<vault>/keys/<name>[/<version>]`.
fn azure_from_url(url: &str) -> MasterKey {
    match url.split_once("/keys/") {
        Some((vault, rest)) => {
            let (name, version) = rest.split_once('/').unwrap_or((rest, ""));
            other(KeyKind::AzureKv, &[("vault_url", vault), ("name", name), ("version", version)])
        }
        None => other(KeyKind::AzureKv, &[("vault_url", url)]),
    }
}

/// A Vault transit URI, `<address>/v1/<engine path>/keys/<key name>`.
fn vault_from_uri(uri: &str) -> MasterKey {
    if let Some((address, rest)) = uri.split_once("/v1/")
        && let Some((engine, name)) = rest.rsplit_once("/keys/")
    {
        return other(KeyKind::HcVault, &[("vault_address", address), ("engine_path", engine), ("key_name", name)]);
    }
    other(KeyKind::HcVault, &[("vault_address", uri)])
}

/// An identity string for de-duplication: the key type and every field, in order (sops uses
/// `%T/ToString()`, which is equally injective for the fields it keeps).
fn identity_of(key: &MasterKey) -> String {
    match key {
        MasterKey::Age(a) => format!("age/{}", a.recipient),
        MasterKey::Other(o) => {
            let mut out = format!("{}/", o.kind.field());
            fn walk(out: &mut String, branch: &Branch) {
                for item in branch {
                    if let Item::Pair { key: Key::Str(k), value } = item {
                        let _ = write!(out, "{k}=");
                        match value {
                            Value::Scalar(Scalar::Str(s)) => out.push_str(&String::from_utf8_lossy(s.expose())),
                            Value::Map(m) => {
                                out.push('{');
                                walk(out, m);
                                out.push('}');
                            }
                            _ => out.push('~'),
                        }
                        out.push('\u{0}');
                    }
                }
            }
            walk(&mut out, &o.fields);
            out
        }
    }
}

fn dedup(keys: Vec<MasterKey>) -> Vec<MasterKey> {
    let mut seen = std::collections::HashSet::new();
    keys.into_iter().filter(|k| seen.insert(identity_of(k))).collect()
}

// ---------------------------------------------------------------------------------------------
// Precedence (CLI flags + config)
// ---------------------------------------------------------------------------------------------

/// The command-line options that decide a new file's keys and rules. Plain data; `""` and 0
/// mean "not given", as urfave/cli reports them to sops.
#[derive(Clone, Debug, Default)]
pub struct EncryptFlags {
    /// `--age` / `SOPS_AGE_RECIPIENTS`: comma-separated recipients.
    pub age: String,
    /// `--pgp` / `SOPS_PGP_FP`. Any non-age key flag makes config keys ignored, as in sops,
    /// and then fails: sealops cannot encrypt to these.
    pub pgp: String,
    /// `--kms` / `SOPS_KMS_ARN`.
    pub kms: String,
    /// `--gcp-kms` / `SOPS_GCP_KMS_IDS`.
    pub gcp_kms: String,
    /// `--hckms` / `SOPS_HUAWEICLOUD_KMS_IDS`.
    pub hckms: String,
    /// `--azure-kv` / `SOPS_AZURE_KEYVAULT_URLS`.
    pub azure_kv: String,
    /// `--hc-vault-transit` / `SOPS_VAULT_URIS`.
    pub hc_vault_transit: String,
    /// `--unencrypted-suffix` … `--encrypted-comment-regex`.
    pub selection: SelectionFields,
    /// `--mac-only-encrypted`.
    pub mac_only_encrypted: bool,
    /// `--shamir-secret-sharing-threshold`; 0 = not given.
    pub shamir_threshold: usize,
    /// The input store holds a single value (the binary store): selection rules and
    /// `mac_only_encrypted` are dropped with a warning, and no default rule applies.
    pub single_value_store: bool,
}

impl EncryptFlags {
    /// The non-age key flags, in sops's order, as `(flag, key type, value)`.
    fn other_key_flags(&self) -> [(&'static str, &'static str, &str); 6] {
        [
            ("--kms", "kms", &self.kms),
            ("--gcp-kms", "gcp_kms", &self.gcp_kms),
            ("--hckms", "hckms", &self.hckms),
            ("--azure-kv", "azure_kv", &self.azure_kv),
            ("--pgp", "pgp", &self.pgp),
            ("--hc-vault-transit", "hc_vault", &self.hc_vault_transit),
        ]
    }

    /// True when any key flag is given: config keys are then ignored entirely.
    pub fn has_key_flags(&self) -> bool {
        !self.age.is_empty() || self.other_key_flags().iter().any(|(_, _, v)| !v.is_empty())
    }
}

/// What a new file is encrypted with.
#[derive(Clone)]
pub struct EncryptSettings {
    /// Age keys only (checked), each with an empty `enc`.
    pub key_groups: Vec<KeyGroup>,
    /// 0 when not set (with ≥ 2 groups the data-key code uses the number of groups).
    pub shamir_threshold: usize,
    /// `None` only for a single-value store.
    pub selection: Option<Selection>,
    pub mac_only_encrypted: bool,
}

/// sops's `getEncryptConfig` (+ `keyGroups`, `shamirThreshold`): merges the CLI flags with
/// the matched rule (`rule`, from [`Config::rule_for`]; `None` without a config or without
/// `creation_rules`).
///
/// * Each selection flag overrides the same config field only; then more than one set field
///   is [`ConfigError::FlagConflict`] (exit 8), so `--unencrypted-suffix` plus a config
///   `encrypted_regex` conflict, as in sops. None set: `unencrypted_suffix: _unencrypted`.
/// * `--mac-only-encrypted` ORs with the config.
/// * Any key flag (`--age`, …) replaces the config's keys completely (one group). No key flag:
///   the rule's groups; no rule: [`ConfigError::NoKeys`].
/// * `--shamir-secret-sharing-threshold` (non-zero) overrides `shamir_threshold`.
/// * Every resulting key must be one sealops can encrypt to
///   ([`ConfigError::UnsupportedKeyType`], [`ConfigError::Recipient`]).
///
/// Empty groups are passed through: the data-key code reports them as sops does
/// (`empty key group provided`).
///
/// Call [`Config::rule_for`] first even when key flags are given: sops loads the creation
/// rule unconditionally, so "no matching creation rules found" and an invalid matching rule
/// are errors even with `--age`.
pub fn resolve_encrypt(flags: &EncryptFlags, rule: Option<&RuleConfig>) -> Result<EncryptSettings, ConfigError> {
    // Selection rule: per field, the flag if given, else the config.
    let mut merged = flags.selection.clone();
    let mut from_config = [false; 6];
    if let Some(rule) = rule {
        for (i, (field, _, value)) in rule.selection.entries().into_iter().enumerate() {
            if let Some(slot) = merged.field_mut(field)
                && slot.is_empty()
                && !value.is_empty()
            {
                *slot = value.to_owned();
                from_config[i] = true;
            }
        }
    }
    let mut mac_only_encrypted = flags.mac_only_encrypted || rule.is_some_and(|r| r.mac_only_encrypted);
    if flags.single_value_store {
        warn_single_value_store(&merged);
        merged = SelectionFields::default();
        mac_only_encrypted = false;
    }
    if merged.count() > 1 {
        return Err(ConfigError::FlagConflict);
    }
    let selection = match merged.entries().into_iter().enumerate().find(|(_, (_, _, v))| !v.is_empty()) {
        Some((i, (field, flag, value))) => Some(Selection::from_field(field, value).map_err(|e| {
            let message = e.to_string();
            match rule {
                Some(rule) if from_config[i] => ConfigError::Field {
                    path: rule.config_path.clone(),
                    field: format!("creation_rules[{}].{field}", rule.index),
                    message,
                },
                _ => ConfigError::Flag { flag, message },
            }
        })?),
        None if flags.single_value_store => None,
        None => Some(Selection::default_rule()),
    };

    // Keys.
    let key_groups = if flags.has_key_flags() {
        if let Some((flag, kind, value)) = flags.other_key_flags().into_iter().find(|(_, _, v)| !v.is_empty()) {
            return Err(ConfigError::UnsupportedKeyType {
                origin: flag.to_owned(),
                kind: kind.to_owned(),
                key: value.to_owned(),
            });
        }
        vec![KeyGroup { keys: parse_recipients(&flags.age).map_err(ConfigError::Recipient)? }]
    } else {
        let rule = rule.ok_or(ConfigError::NoKeys)?;
        rule.check_encryptable()?;
        rule.key_groups.clone()
    };

    let shamir_threshold =
        if flags.shamir_threshold != 0 { flags.shamir_threshold } else { rule.map_or(0, |r| r.shamir_threshold) };

    Ok(EncryptSettings { key_groups, shamir_threshold, selection, mac_only_encrypted })
}

fn warn_single_value_store(fields: &SelectionFields) {
    let what = [
        (&fields.unencrypted_suffix, "an unencrypted suffix"),
        (&fields.encrypted_suffix, "an encrypted suffix"),
        (&fields.encrypted_regex, "an encrypted regex"),
        (&fields.unencrypted_regex, "an unencrypted regex"),
    ];
    for (value, name) in what {
        if !value.is_empty() {
            tracing::warn!(
                "Using {name} does not make sense with the input store (the binary store produces one key that should always be encrypted) and will be ignored."
            );
        }
    }
    // sops says nothing about the unencrypted comment regex and mac_only_encrypted: they
    // cannot have any effect.
    if !fields.encrypted_comment_regex.is_empty() {
        tracing::warn!(
            "Using an encrypted comment regex does not make sense with the input store (the binary store never produces comments) and will be ignored."
        );
    }
}

/// The Shamir threshold `updatekeys` writes: the file's own threshold, or the flag when
/// non-zero, capped at the number of groups. sops deliberately does **not** take the rule's
/// `shamir_threshold` here (a TODO in `updatekeys.go`); [`RuleConfig::shamir_threshold`] is
/// there for callers that choose otherwise.
pub fn updatekeys_threshold(file_threshold: usize, flag: usize, groups: usize) -> usize {
    let wanted = if flag != 0 { flag } else { file_threshold };
    wanted.min(groups)
}

// ---------------------------------------------------------------------------------------------
// Parsing from the document tree
// ---------------------------------------------------------------------------------------------

/// Turns tree values into typed fields, with yaml.v3's decoding rules for struct fields.
struct Parser<'a> {
    path: &'a Path,
}

fn shape(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Map(_) => "a map",
        Value::List(_) => "a list",
        Value::Scalar(Scalar::Str(_)) => "a string",
        Value::Scalar(Scalar::Int(_) | Scalar::Uint(_)) => "an integer",
        Value::Scalar(Scalar::Float(_)) => "a float",
        Value::Scalar(Scalar::Bool(_)) => "a boolean",
        Value::Scalar(Scalar::Time(_)) => "a timestamp",
        Value::Scalar(Scalar::Bytes(_)) => "binary data",
    }
}

/// Go's type name of what yaml.v3 puts in an `interface{}` (for sops's key-field messages).
fn go_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "<nil>",
        Value::Map(_) => "map[string]interface {}",
        Value::List(_) => "[]interface {}",
        // yaml.v3 keeps timestamps as strings in an interface{}.
        Value::Scalar(Scalar::Str(_) | Scalar::Time(_)) => "string",
        Value::Scalar(Scalar::Int(_)) => "int",
        Value::Scalar(Scalar::Uint(_)) => "uint64",
        Value::Scalar(Scalar::Float(_)) => "float64",
        Value::Scalar(Scalar::Bool(_)) => "bool",
        Value::Scalar(Scalar::Bytes(_)) => "[]uint8",
    }
}

/// A scalar's text, as yaml.v3 stores any scalar into a string field.
fn scalar_text(scalar: &Scalar) -> String {
    match scalar {
        Scalar::Str(s) | Scalar::Bytes(s) => String::from_utf8_lossy(s.expose()).into_owned(),
        Scalar::Int(i) => i.to_string(),
        Scalar::Uint(u) => u.to_string(),
        Scalar::Float(f) => super::scalar::format_float_f(*f),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Time(t) => t.rfc3339_nano(),
    }
}

fn pairs(branch: &Branch) -> impl Iterator<Item = (&str, &Value)> {
    branch.iter().filter_map(|item| match item {
        Item::Pair { key: Key::Str(k), value } => Some((k.as_str(), value)),
        _ => None,
    })
}

impl Parser<'_> {
    fn err(&self, field: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::Field { path: self.path.to_path_buf(), field: field.to_owned(), message: message.into() }
    }

    fn expected(&self, field: &str, what: &str, value: &Value) -> ConfigError {
        self.err(field, format!("expected {what}, found {}", shape(value)))
    }

    /// A struct-typed field: a map, or null (the zero value).
    fn map<'v>(&self, field: &str, value: &'v Value) -> Result<Option<&'v Branch>, ConfigError> {
        match value {
            Value::Null => Ok(None),
            Value::Map(m) => Ok(Some(m)),
            other => Err(self.expected(field, "a map", other)),
        }
    }

    /// A slice-typed field: a list, or null (empty).
    fn list<'v>(&self, field: &str, value: &'v Value) -> Result<Vec<&'v Value>, ConfigError> {
        match value {
            Value::Null => Ok(Vec::new()),
            Value::List(elements) => Ok(elements
                .iter()
                .filter_map(|e| match e {
                    Element::Value(v) => Some(v),
                    Element::Comment(_) => None,
                })
                .collect()),
            other => Err(self.expected(field, "a list", other)),
        }
    }

    /// A string field: any scalar (as its text), or null (`""`).
    fn string(&self, field: &str, value: &Value) -> Result<String, ConfigError> {
        match value {
            Value::Null => Ok(String::new()),
            Value::Scalar(s) => Ok(scalar_text(s)),
            other => Err(self.expected(field, "a string", other)),
        }
    }

    /// A `[]string` field.
    fn strings(&self, field: &str, value: &Value) -> Result<Vec<String>, ConfigError> {
        self.list(field, value)?
            .into_iter()
            .enumerate()
            .map(|(i, v)| self.string(&format!("{field}[{i}]"), v))
            .collect()
    }

    /// An `int` field; sealops also refuses negative values (a negative threshold means
    /// nothing).
    fn int(&self, field: &str, value: &Value) -> Result<usize, ConfigError> {
        let negative = || self.err(field, "must not be negative");
        match value {
            Value::Null => Ok(0),
            Value::Scalar(Scalar::Int(i)) => usize::try_from(*i).map_err(|_| negative()),
            Value::Scalar(Scalar::Uint(u)) => usize::try_from(*u).map_err(|_| self.err(field, "is too large")),
            // yaml.v3 accepts a float that fits an int.
            Value::Scalar(Scalar::Float(f)) if f.fract() == 0.0 && f.is_finite() => {
                if *f < 0.0 {
                    Err(negative())
                } else if *f < usize::MAX as f64 {
                    Ok(*f as usize)
                } else {
                    Err(self.err(field, "is too large"))
                }
            }
            other => Err(self.expected(field, "an integer", other)),
        }
    }

    /// A `bool` field: a boolean, yaml.v3's YAML 1.1 spellings (`yes`, `off`, …) or null.
    fn bool(&self, field: &str, value: &Value) -> Result<bool, ConfigError> {
        match value {
            Value::Null => Ok(false),
            Value::Scalar(Scalar::Bool(b)) => Ok(*b),
            Value::Scalar(Scalar::Str(s)) => match s.as_str() {
                Some("y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON") => Ok(true),
                Some("n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF") => Ok(false),
                _ => Err(self.expected(field, "a boolean", value)),
            },
            other => Err(self.expected(field, "a boolean", other)),
        }
    }

    /// An `interface{}` key field: checked later, when its rule is used (see [`KeyField`]).
    fn key_field(&self, name: &str, value: &Value) -> KeyField {
        match value {
            Value::Null => KeyField::default(),
            Value::Scalar(Scalar::Str(s)) => {
                let text = String::from_utf8_lossy(s.expose());
                KeyField::Entries(text.split(',').map(str::trim).filter(|e| !e.is_empty()).map(str::to_owned).collect())
            }
            Value::List(_) => {
                let mut entries = Vec::new();
                for element in self.list(name, value).unwrap_or_default() {
                    match element {
                        Value::Scalar(Scalar::Str(s)) => entries.push(String::from_utf8_lossy(s.expose()).into_owned()),
                        other => {
                            return KeyField::Invalid(format!(
                                "invalid {name} key configuration: expected string in list, got {}",
                                go_type(other)
                            ));
                        }
                    }
                }
                KeyField::Entries(entries)
            }
            other => KeyField::Invalid(format!(
                "invalid {name} key configuration: expected string, []string, or nil, got {}",
                go_type(other)
            )),
        }
    }

    fn creation_rule(&self, index: usize, value: &Value) -> Result<CreationRule, ConfigError> {
        let at = format!("creation_rules[{index}]");
        let mut rule = CreationRule { index, ..CreationRule::default() };
        let Some(map) = self.map(&at, value)? else {
            // A null entry decodes to the zero rule: no path_regex, so it matches everything.
            return Ok(rule);
        };
        for (key, value) in pairs(map) {
            let field = format!("{at}.{key}");
            match key {
                "path_regex" => rule.path_regex = self.string(&field, value)?,
                "age" => rule.age = self.key_field("age", value),
                "pgp" => rule.pgp = self.key_field("pgp", value),
                "kms" => rule.kms = self.key_field("kms", value),
                "gcp_kms" => rule.gcp_kms = self.key_field("gcp_kms", value),
                "azure_keyvault" => rule.azure_keyvault = self.key_field("azure_keyvault", value),
                "hc_vault_transit_uri" => rule.hc_vault_transit_uri = self.key_field("hc_vault_transit_uri", value),
                "hckms" => rule.hckms = self.strings(&field, value)?,
                "aws_profile" => {
                    self.string(&field, value)?;
                }
                "key_groups" => {
                    rule.key_groups = self
                        .list(&field, value)?
                        .into_iter()
                        .enumerate()
                        .map(|(g, v)| self.key_group(&format!("{field}[{g}]"), v))
                        .collect::<Result<_, _>>()?
                }
                "shamir_threshold" => rule.shamir_threshold = self.int(&field, value)?,
                "mac_only_encrypted" => rule.mac_only_encrypted = self.bool(&field, value)?,
                other => {
                    if let Some(slot) = rule.selection.field_mut(other) {
                        *slot = self.string(&field, value)?;
                    }
                    // Anything else is ignored, as yaml.v3 does for unknown struct fields.
                }
            }
        }
        Ok(rule)
    }

    fn key_group(&self, at: &str, value: &Value) -> Result<KeyGroupSpec, ConfigError> {
        let mut group = KeyGroupSpec::default();
        let Some(map) = self.map(at, value)? else {
            return Ok(group);
        };
        for (key, value) in pairs(map) {
            let field = format!("{at}.{key}");
            match key {
                "merge" => {
                    group.merge = self
                        .list(&field, value)?
                        .into_iter()
                        .enumerate()
                        .map(|(m, v)| self.key_group(&format!("{field}[{m}]"), v))
                        .collect::<Result<_, _>>()?
                }
                "age" => group.age = self.strings(&field, value)?,
                "pgp" => group.pgp = self.strings(&field, value)?,
                "hc_vault" => group.hc_vault = self.strings(&field, value)?,
                "kms" => {
                    group.kms = self.struct_list(&field, value, |entry_at, entry| {
                        let mut kms = KmsSpec::default();
                        for (k, v) in pairs(entry) {
                            let f = format!("{entry_at}.{k}");
                            match k {
                                "arn" => kms.arn = self.string(&f, v)?,
                                "role" => kms.role = self.string(&f, v)?,
                                "aws_profile" => kms.aws_profile = self.string(&f, v)?,
                                "context" => {
                                    if let Some(ctx) = self.map(&f, v)? {
                                        for (ck, cv) in pairs(ctx) {
                                            let cv = match cv {
                                                Value::Null => None,
                                                other => Some(self.string(&format!("{f}.{ck}"), other)?),
                                            };
                                            kms.context.push((ck.to_owned(), cv));
                                        }
                                        kms.context.sort();
                                    }
                                }
                                _ => {}
                            }
                        }
                        Ok(kms)
                    })?
                }
                "gcp_kms" => {
                    group.gcp_kms = self.struct_list(&field, value, |a, e| self.one_field(a, e, "resource_id"))?
                }
                "hckms" => group.hckms = self.struct_list(&field, value, |a, e| self.one_field(a, e, "key_id"))?,
                "azure_keyvault" => {
                    group.azure_keyvault = self.struct_list(&field, value, |entry_at, entry| {
                        let mut azure = AzureSpec::default();
                        for (k, v) in pairs(entry) {
                            let f = format!("{entry_at}.{k}");
                            match k {
                                "vaultUrl" => azure.vault_url = self.string(&f, v)?,
                                "key" => azure.key = self.string(&f, v)?,
                                "version" => azure.version = self.string(&f, v)?,
                                _ => {}
                            }
                        }
                        Ok(azure)
                    })?
                }
                _ => {}
            }
        }
        Ok(group)
    }

    /// A list of structs; null entries are zero values.
    fn struct_list<T: Default>(
        &self,
        field: &str,
        value: &Value,
        each: impl Fn(&str, &Branch) -> Result<T, ConfigError>,
    ) -> Result<Vec<T>, ConfigError> {
        self.list(field, value)?
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                let at = format!("{field}[{i}]");
                match self.map(&at, v)? {
                    Some(entry) => each(&at, entry),
                    None => Ok(T::default()),
                }
            })
            .collect()
    }

    fn one_field(&self, at: &str, entry: &Branch, name: &str) -> Result<String, ConfigError> {
        match tree::get(entry, name) {
            Some(v) => self.string(&format!("{at}.{name}"), v),
            None => Ok(String::new()),
        }
    }

    /// `stores:`. YAML indent: > 0 is used, 0 means sops's default (4), negative is refused
    /// (sops refuses it when emitting). JSON indents: −1 (the default) means a tab, ≥ 0 that
    /// many spaces, < −1 is refused (as sops does when emitting).
    fn stores(&self, value: &Value) -> Result<StoreConfig, ConfigError> {
        let mut config = StoreConfig::default();
        let Some(map) = self.map("stores", value)? else {
            return Ok(config);
        };
        for (key, value) in pairs(map) {
            let field = format!("stores.{key}");
            let Some(store) = self.map(&field, value)? else {
                continue;
            };
            let Some(indent_value) = tree::get(store, "indent") else {
                continue;
            };
            let indent_field = format!("{field}.indent");
            let indent = match indent_value {
                Value::Null => None,
                Value::Scalar(Scalar::Int(i)) => Some(*i),
                Value::Scalar(Scalar::Float(f)) if f.fract() == 0.0 && f.abs() < 1e9 => Some(*f as i64),
                other => return Err(self.expected(&indent_field, "an integer", other)),
            };
            match key {
                "yaml" => {
                    config.yaml_indent = match indent {
                        None | Some(0) => None,
                        Some(n) if n > 0 => usize::try_from(n).ok(),
                        Some(_) => return Err(self.err(&indent_field, "YAML Negative indentation not accepted")),
                    }
                }
                "json" | "json_binary" => {
                    let parsed = match indent {
                        None | Some(-1) => None,
                        Some(n) if n >= 0 => usize::try_from(n).ok(),
                        Some(_) => {
                            return Err(
                                self.err(&indent_field, "JSON Indentation parameter smaller than -1 is not accepted")
                            );
                        }
                    };
                    if key == "json" {
                        config.json_indent = parsed;
                    } else {
                        config.json_binary_indent = parsed;
                    }
                }
                // dotenv and ini have no settings; unknown stores are ignored.
                _ => {}
            }
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // ---- tree builders -----------------------------------------------------------------------

    fn s(text: &str) -> Value {
        Value::str(text)
    }

    fn map(entries: Vec<(&str, Value)>) -> Value {
        Value::Map(entries.into_iter().map(|(k, v)| Item::Pair { key: Key::from(k), value: v }).collect())
    }

    fn list(values: Vec<Value>) -> Value {
        Value::List(values.into_iter().map(Element::Value).collect())
    }

    fn doc(entries: Vec<(&str, Value)>) -> Branch {
        match map(entries) {
            Value::Map(m) => m,
            _ => unreachable!(),
        }
    }

    fn rules(rules: Vec<Value>) -> Branch {
        doc(vec![("creation_rules", list(rules))])
    }

    const CONF: &str = "/repo/.sops.yaml";

    fn config(d: &Branch) -> Config {
        Config::from_document(Path::new(CONF), d).expect("valid config")
    }

    // Recipients from shared/interop/sops-upstream: gen311_sops_config.yaml (X25519 keys made
    // for the interop fixtures) and ageunit_ssh_ed25519.pub (sops's age/keysource_test.go).
    const ALICE: &str = "age1w9awh6q3uwp4syyn6kcgalkqhxncjjkd62ffffh782juvvyj4g2qwqy2yn";
    const BOB: &str = "age1jhdcl2h42qs2yul8t5fs23d6kqte09vdxydvlr909g2z7msa4e8szqy82k";
    const CAROL: &str = "age1h9xmqt724f23mjg4t5jytjhfvec8caw3lwfnue6dgncx3eadwurqch7ea8";
    const DAVE: &str = "age1dq9dunftpwwveaknd7uthja939u8yf9094staasnrvevjj3e2aqqd8cn4w";
    const SSH: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAID+Wi8WZw2bXfBpcs/WECttCzP39OkenS6pHWHWGFJvN Test";

    fn ids(group: &KeyGroup) -> Vec<String> {
        group.keys.iter().map(|k| format!("{}: {}", k.type_name(), k.describe())).collect()
    }

    fn rule_for(c: &Config, target: &str) -> Result<Option<RuleConfig>, ConfigError> {
        c.rule_for(Path::new(target))
    }

    fn matched(c: &Config, target: &str) -> RuleConfig {
        rule_for(c, target).expect("no error").expect("a rule")
    }

    // ---- discovery ---------------------------------------------------------------------------

    #[test]
    fn lookup_finds_nearest_config_upward() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let deep = root.join("a/b/c");
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::write(root.join(".sops.yaml"), "").unwrap();
        std::fs::write(root.join("a/.sops.yaml"), "").unwrap();
        let found = lookup_config_file(&deep);
        assert_eq!(found.path, Some(root.join("a/.sops.yaml")));
        assert_eq!(found.warning, None);
        // The start directory itself is searched first.
        std::fs::write(deep.join(".sops.yaml"), "").unwrap();
        assert_eq!(lookup_config_file(&deep).path, Some(deep.join(".sops.yaml")));
    }

    #[test]
    fn lookup_skips_sops_yml_with_a_warning() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let sub = root.join("sub");
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(sub.join(".sops.yml"), "").unwrap();
        let none = lookup_config_file(&sub);
        // Another .sops.yaml further up (outside the temp dir) cannot be ruled out, so only
        // check the path when nothing was found.
        let warning = none.warning.expect("warning");
        assert!(warning.starts_with(&format!("ignoring {:?} when searching for config file", sub.join(".sops.yml"))));
        if none.path.is_none() {
            assert!(warning.ends_with("the config file must be called \".sops.yaml\""));
        }

        std::fs::write(root.join(".sops.yaml"), "").unwrap();
        let found = lookup_config_file(&sub);
        assert_eq!(found.path, Some(root.join(".sops.yaml")));
        assert_eq!(
            found.warning.unwrap(),
            format!(
                "ignoring {:?} when searching for config file; the config file must be called \".sops.yaml\"; using {:?} instead",
                sub.join(".sops.yml").display().to_string(),
                root.join(".sops.yaml").display().to_string()
            )
        );
    }

    #[test]
    fn lookup_depth_is_limited_to_100_directories() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::write(root.join(".sops.yaml"), "").unwrap();
        let mut at_99 = root.to_path_buf();
        for _ in 0..99 {
            at_99.push("d");
        }
        std::fs::create_dir_all(&at_99).unwrap();
        // 99 levels down: the root is the 100th directory visited.
        assert_eq!(lookup_config_file(&at_99).path, Some(root.join(".sops.yaml")));
        let at_100 = at_99.join("d");
        std::fs::create_dir_all(&at_100).unwrap();
        assert_ne!(lookup_config_file(&at_100).path, Some(root.join(".sops.yaml")));
    }

    #[test]
    fn explicit_config_wins_and_is_made_absolute() {
        let cwd = Path::new("/work/repo/sub");
        let flag = locate(Some(Path::new("../conf.yaml")), Some(Path::new("/env.yaml")), cwd);
        assert_eq!(flag.path, Some(PathBuf::from("/work/repo/conf.yaml")));
        let env = locate(Some(Path::new("")), Some(Path::new("/env.yaml")), cwd);
        assert_eq!(env.path, Some(PathBuf::from("/env.yaml")));
        assert_eq!(env.required().unwrap(), Path::new("/env.yaml"));
        let err = ConfigLookup::default().required().unwrap_err();
        assert_eq!((err.to_string().as_str(), err.kind()), ("config file not found", "config_not_found"));
    }

    #[test]
    fn explicit_config_that_does_not_exist_fails_to_load() {
        let tmp = tempfile::tempdir().unwrap();
        let err = Config::load(Path::new("missing.yaml"), tmp.path()).unwrap_err();
        assert_eq!(err.kind(), "config_read");
        assert!(
            err.to_string()
                .starts_with(&format!("could not read config file {}", tmp.path().join("missing.yaml").display()))
        );
    }

    #[test]
    fn absolute_path_is_lexical_like_go() {
        let cwd = Path::new("/a/b");
        assert_eq!(absolute_path(cwd, Path::new("c/./d/../e")), PathBuf::from("/a/b/c/e"));
        assert_eq!(absolute_path(cwd, Path::new("../../../x")), PathBuf::from("/x"));
        assert_eq!(absolute_path(cwd, Path::new("/abs//y/")), PathBuf::from("/abs/y"));
        assert_eq!(absolute_path(cwd, Path::new("")), PathBuf::from("/a/b"));
    }

    // ---- rule selection ----------------------------------------------------------------------

    #[test]
    fn match_path_is_relative_to_the_config_directory() {
        let dir = Path::new("/repo");
        assert_eq!(rule_match_path(dir, Path::new("/repo/secrets/a.yaml")), "secrets/a.yaml");
        // Outside the config directory: the absolute path is matched.
        assert_eq!(rule_match_path(dir, Path::new("/elsewhere/a.yaml")), "/elsewhere/a.yaml");
        // A sibling sharing the prefix is not "inside".
        assert_eq!(rule_match_path(dir, Path::new("/repository/a.yaml")), "/repository/a.yaml");
        // sops quirk: a config in / trims nothing.
        assert_eq!(rule_match_path(Path::new("/"), Path::new("/x/a.yaml")), "/x/a.yaml");
    }

    #[test]
    fn first_matching_rule_wins_and_regexes_are_unanchored() {
        // After sops config/config_test.go sampleConfigWithComplicatedRegexp.
        let c = config(&rules(vec![
            map(vec![("path_regex", s("stage/dev/feature-.*")), ("age", s(ALICE))]),
            map(vec![("path_regex", s("stage/dev/.*")), ("age", s(BOB))]),
            map(vec![("path_regex", s("stage/staging/.*")), ("age", s(CAROL))]),
            map(vec![("path_regex", s("stage/.*/.*")), ("age", s(DAVE))]),
        ]));
        for (file, want, index) in [
            ("/repo/stage/prod/api.yml", DAVE, 3),
            ("/repo/stage/dev/feature-foo.yml", ALICE, 0),
            ("/repo/stage/dev/api.yml", BOB, 1),
            ("/repo/x/stage/staging/y", CAROL, 2), // unanchored: matches in the middle
        ] {
            let rule = matched(&c, file);
            assert_eq!(rule.index, index, "{file}");
            assert_eq!(ids(&rule.key_groups[0]), [format!("age: {want}")], "{file}");
        }
    }

    #[test]
    fn path_regex_sees_the_path_relative_to_the_config() {
        // sops config_test.go TestLoadConfigFileWithAmbiguousPath: config in /foo.
        let c = Config::from_document(
            Path::new("/foo/config"),
            &rules(vec![map(vec![("path_regex", s("foo/*")), ("age", s(ALICE))])]),
        )
        .unwrap();
        assert!(rule_for(&c, "/foo/foo/bar").is_ok());
        let err = rule_for(&c, "/foo/fuu/bar").err().expect("no match");
        assert_eq!(err.to_string(), "error loading config: no matching creation rules found");
        assert_eq!(err.kind(), "no_matching_rule");
        // Anchored patterns rely on the prefix being removed.
        let c = config(&rules(vec![map(vec![("path_regex", s("^secrets/")), ("age", s(ALICE))])]));
        assert!(rule_for(&c, "/repo/secrets/a.yaml").is_ok());
        assert!(rule_for(&c, "/other/secrets/a.yaml").is_err());
    }

    #[test]
    fn empty_path_regex_and_null_rule_match_everything() {
        let c = config(&rules(vec![
            map(vec![("path_regex", s("\\.env$")), ("age", s(BOB))]),
            map(vec![("age", s(ALICE))]),
        ]));
        assert_eq!(matched(&c, "/repo/a.yaml").index, 1);
        assert_eq!(matched(&c, "/repo/a.env").index, 0);
        let c = config(&rules(vec![Value::Null]));
        let rule = matched(&c, "/anything");
        assert_eq!(rule.key_groups.len(), 1);
        assert!(rule.key_groups[0].keys.is_empty());
    }

    #[test]
    fn config_without_creation_rules_is_absent() {
        for d in [
            Branch::new(),
            doc(vec![("creation_rules", Value::Null)]),
            doc(vec![("stores", map(vec![("yaml", map(vec![("indent", Value::Scalar(Scalar::Int(2)))]))]))]),
            doc(vec![("destination_rules", list(vec![map(vec![("path_regex", s("")), ("s3_bucket", s("b"))])]))]),
        ] {
            let c = config(&d);
            assert!(c.creation_rules.is_none());
            assert!(rule_for(&c, "/repo/x").unwrap().is_none());
            let err = c.updatekeys_rule(Path::new("/repo/x")).err().unwrap();
            assert_eq!(err.to_string(), "The config file /repo/.sops.yaml does not contain any creation rule");
        }
        // An empty list is a config in which nothing matches.
        let c = config(&doc(vec![("creation_rules", list(vec![]))]));
        assert_eq!(rule_for(&c, "/repo/x").err().unwrap().kind(), "no_matching_rule");
    }

    #[test]
    fn invalid_regex_is_reported_only_when_reached() {
        let c = config(&rules(vec![
            map(vec![("path_regex", s("ok")), ("age", s(ALICE))]),
            map(vec![("path_regex", s("([")), ("age", s(ALICE))]),
            map(vec![("path_regex", s("")), ("age", s(ALICE))]),
        ]));
        assert_eq!(matched(&c, "/repo/ok.yaml").index, 0);
        let err = rule_for(&c, "/repo/other.yaml").err().unwrap();
        assert_eq!(err.kind(), "config_invalid");
        assert!(err.to_string().starts_with("/repo/.sops.yaml: creation_rules[1].path_regex: invalid regex"), "{err}");
    }

    #[test]
    fn unknown_top_level_and_rule_keys_are_ignored() {
        let c = config(&doc(vec![
            ("keys", list(vec![s(ALICE)])),
            ("creation_rules", list(vec![map(vec![("age", s(ALICE)), ("comment", s("x")), ("aws_profile", s("p"))])])),
        ]));
        assert_eq!(matched(&c, "/repo/a").key_groups[0].keys.len(), 1);
    }

    // ---- key fields ----------------------------------------------------------------------------

    #[test]
    fn age_as_comma_string_or_list() {
        let c = config(&rules(vec![
            map(vec![("path_regex", s("str")), ("age", s(&format!(" {ALICE} ,, {BOB},\n")))]),
            map(vec![("path_regex", s("list")), ("age", list(vec![s(ALICE), s(&format!("  {BOB}  "))]))]),
            map(vec![("path_regex", s("ssh")), ("age", s(SSH))]),
        ]));
        let want = [format!("age: {ALICE}"), format!("age: {BOB}")];
        assert_eq!(ids(&matched(&c, "/repo/str").key_groups[0]), want);
        assert_eq!(ids(&matched(&c, "/repo/list").key_groups[0]), want);
        // The whole authorized_keys line, comment included, is the recipient.
        assert_eq!(ids(&matched(&c, "/repo/ssh").key_groups[0]), [format!("age: {SSH}")]);
    }

    #[test]
    fn empty_list_entry_is_an_error_like_sops() {
        // sops joins list entries with "," and splits again: an empty entry becomes a recipient "".
        let c = config(&rules(vec![map(vec![("age", list(vec![s(ALICE), s("")]))])]));
        let err = rule_for(&c, "/repo/a").err().unwrap();
        assert_eq!(
            err.to_string(),
            "/repo/.sops.yaml: creation_rules[0].age: failed to parse input, unknown recipient type: \"\""
        );
    }

    #[test]
    fn bad_recipient_in_matching_rule() {
        let c = config(&rules(vec![
            map(vec![("path_regex", s("good")), ("age", s(ALICE))]),
            map(vec![("age", s("bogus"))]),
        ]));
        assert!(rule_for(&c, "/repo/good").is_ok(), "a bad rule that does not match is not checked");
        let err = rule_for(&c, "/repo/bad").err().unwrap();
        assert_eq!(
            err.to_string(),
            "/repo/.sops.yaml: creation_rules[1].age: failed to parse input, unknown recipient type: \"bogus\""
        );
    }

    #[test]
    fn key_field_of_wrong_type_fails_only_when_used() {
        let c = config(&rules(vec![
            map(vec![("path_regex", s("a")), ("age", Value::Scalar(Scalar::Int(5)))]),
            map(vec![("path_regex", s("b")), ("pgp", list(vec![map(vec![])]))]),
            map(vec![("age", s(ALICE))]),
        ]));
        assert!(rule_for(&c, "/repo/c").is_ok());
        assert_eq!(
            rule_for(&c, "/repo/a").err().unwrap().to_string(),
            "/repo/.sops.yaml: creation_rules[0].age: invalid age key configuration: expected string, []string, or nil, got int"
        );
        assert_eq!(
            rule_for(&c, "/repo/b").err().unwrap().to_string(),
            "/repo/.sops.yaml: creation_rules[1].pgp: invalid pgp key configuration: expected string in list, got map[string]interface {}"
        );
    }

    #[test]
    fn flat_key_order_is_age_pgp_kms_gcp_hckms_azure_vault() {
        let c = config(&rules(vec![map(vec![
            ("hc_vault_transit_uri", s("https://v:8200/v1/transit/keys/k")),
            ("azure_keyvault", s("https://az.vault.azure.net/keys/name/ver")),
            ("hckms", list(vec![s("tr-west-1:key")])),
            ("gcp_kms", s("projects/p/keys/k")),
            ("kms", s("arn:aws:kms:1,arn:aws:kms:2+arn:aws:iam::role")),
            ("pgp", list(vec![s("FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4")])),
            ("age", s(ALICE)),
        ])]));
        let rule = matched(&c, "/repo/x");
        assert_eq!(
            ids(&rule.key_groups[0]),
            [
                format!("age: {ALICE}"),
                "pgp: FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4".to_owned(),
                "kms: arn:aws:kms:1".to_owned(),
                "kms: arn:aws:kms:2".to_owned(),
                "gcp_kms: projects/p/keys/k".to_owned(),
                "hckms: tr-west-1:key".to_owned(),
                "azure_kv: https://az.vault.azure.net".to_owned(),
                "hc_vault: https://v:8200".to_owned(),
            ]
        );
        // Accepted in the config, refused when used.
        let err = rule.check_encryptable().err().unwrap();
        assert_eq!(err.kind(), "unsupported_key_type");
        assert_eq!(
            err.to_string(),
            "/repo/.sops.yaml: creation_rules[0]: sealops cannot encrypt to pgp keys (FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4); only age X25519 and ssh-ed25519 recipients are supported"
        );
    }

    #[test]
    fn key_groups_win_over_flat_keys_when_non_empty() {
        let c = config(&rules(vec![
            map(vec![
                ("path_regex", s("groups")),
                ("age", s(DAVE)),
                (
                    "key_groups",
                    list(vec![map(vec![("age", list(vec![s(ALICE)]))]), map(vec![("age", list(vec![s(BOB)]))])]),
                ),
            ]),
            // `key_groups: []` falls back to the flat keys (sops checks len > 0).
            map(vec![("path_regex", s("zero")), ("age", s(DAVE)), ("key_groups", list(vec![]))]),
            // `key_groups: [{}]` is one empty group (refused later: "empty key group provided").
            map(vec![("path_regex", s("empty")), ("key_groups", list(vec![map(vec![])]))]),
        ]));
        let groups = matched(&c, "/repo/groups").key_groups;
        assert_eq!(groups.iter().map(ids).collect::<Vec<_>>(), [[format!("age: {ALICE}")], [format!("age: {BOB}")]]);
        assert_eq!(ids(&matched(&c, "/repo/zero").key_groups[0]), [format!("age: {DAVE}")]);
        let empty = matched(&c, "/repo/empty").key_groups;
        assert_eq!(empty.len(), 1);
        assert!(empty[0].keys.is_empty());
    }

    #[test]
    fn merge_flattens_and_dedups_within_a_group_only() {
        // After sops config_test.go sampleConfigWithMergeType, with age keys added.
        let inner = map(vec![
            ("merge", list(vec![map(vec![("pgp", list(vec![s("foo")])), ("age", list(vec![s(ALICE)]))])])),
            ("pgp", list(vec![s("baz")])),
            ("age", list(vec![s(&format!("{BOB},{ALICE}"))])),
            ("hc_vault", list(vec![s("https://foo.vault:8200/v1/foo/keys/foo-key")])),
        ]);
        let c = config(&rules(vec![map(vec![(
            "key_groups",
            list(vec![
                map(vec![("hc_vault", list(vec![s("https://foo.vault:8200/v1/foo/keys/foo-key")]))]),
                map(vec![
                    ("merge", list(vec![inner, map(vec![("pgp", list(vec![s("qux"), s("foo")]))])])),
                    ("age", list(vec![s(ALICE), s(CAROL)])),
                    ("pgp", list(vec![s("bar")])),
                    (
                        "kms",
                        list(vec![
                            map(vec![("arn", s("k")), ("aws_profile", s("p"))]),
                            map(vec![("arn", s("k")), ("aws_profile", s("p"))]),
                            map(vec![("arn", s("k")), ("context", map(vec![("a", s("b"))]))]),
                        ]),
                    ),
                    ("gcp_kms", list(vec![map(vec![("resource_id", s("r"))]), map(vec![("resource_id", s("r"))])])),
                    (
                        "azure_keyvault",
                        list(vec![
                            map(vec![("vaultUrl", s("https://a")), ("key", s("k")), ("version", s("1"))]),
                            map(vec![("vaultUrl", s("https://a")), ("key", s("k")), ("version", s("2"))]),
                        ]),
                    ),
                ]),
            ]),
        )])]));
        let groups = matched(&c, "/repo/x").key_groups;
        assert_eq!(ids(&groups[0]), ["hc_vault: https://foo.vault:8200"]);
        assert_eq!(
            ids(&groups[1]),
            [
                // merged (recursively) first, in order; inside each group age comes first …
                format!("age: {ALICE}"),
                "pgp: foo".to_owned(),
                format!("age: {BOB}"),
                "pgp: baz".to_owned(),
                // … the vault key duplicates group 0's, but that is another group: kept.
                "hc_vault: https://foo.vault:8200".to_owned(),
                "pgp: qux".to_owned(),
                // then the group's own keys; ALICE and foo were already there.
                format!("age: {CAROL}"),
                "pgp: bar".to_owned(),
                "kms: k".to_owned(),
                "kms: k".to_owned(), // different context: a different key
                "gcp_kms: r".to_owned(),
                "azure_kv: https://a".to_owned(),
                "azure_kv: https://a".to_owned(), // different version
            ]
        );
    }

    #[test]
    fn key_group_age_must_be_a_list() {
        let err = Config::from_document(
            Path::new(CONF),
            &rules(vec![map(vec![("key_groups", list(vec![map(vec![("age", s(ALICE))])]))])]),
        )
        .err()
        .unwrap();
        assert_eq!(
            err.to_string(),
            "/repo/.sops.yaml: creation_rules[0].key_groups[0].age: expected a list, found a string"
        );
    }

    #[test]
    fn structural_errors_fail_the_whole_file() {
        let cases: Vec<(Branch, &str)> = vec![
            (doc(vec![("creation_rules", s("x"))]), "creation_rules: expected a list, found a string"),
            (rules(vec![s("x")]), "creation_rules[0]: expected a map, found a string"),
            (
                rules(vec![map(vec![("path_regex", list(vec![]))])]),
                "creation_rules[0].path_regex: expected a string, found a list",
            ),
            (
                rules(vec![map(vec![("shamir_threshold", s("two"))])]),
                "creation_rules[0].shamir_threshold: expected an integer, found a string",
            ),
            (
                rules(vec![map(vec![("shamir_threshold", Value::Scalar(Scalar::Int(-1)))])]),
                "creation_rules[0].shamir_threshold: must not be negative",
            ),
            (
                rules(vec![map(vec![("mac_only_encrypted", s("maybe"))])]),
                "creation_rules[0].mac_only_encrypted: expected a boolean, found a string",
            ),
            (rules(vec![map(vec![("hckms", s("a"))])]), "creation_rules[0].hckms: expected a list, found a string"),
            (
                rules(vec![map(vec![("key_groups", list(vec![map(vec![("kms", list(vec![s("arn")]))])]))])]),
                "creation_rules[0].key_groups[0].kms[0]: expected a map, found a string",
            ),
            (doc(vec![("stores", s("x"))]), "stores: expected a map, found a string"),
            (doc(vec![("destination_rules", s("x"))]), "destination_rules: expected a list, found a string"),
        ];
        for (d, want) in cases {
            let err = Config::from_document(Path::new(CONF), &d).expect_err(want);
            assert_eq!(err.to_string(), format!("{CONF}: {want}"));
            assert_eq!(err.kind(), "config_invalid");
        }
    }

    #[test]
    fn scalar_fields_take_yaml_v3_forms() {
        let c = config(&rules(vec![map(vec![
            ("path_regex", Value::Scalar(Scalar::Int(123))),
            ("age", s(ALICE)),
            ("shamir_threshold", Value::Scalar(Scalar::Float(2.0))),
            ("mac_only_encrypted", s("yes")),
        ])]));
        let rule = &c.creation_rules.as_ref().unwrap()[0];
        assert_eq!(rule.path_regex, "123");
        assert_eq!(rule.shamir_threshold, 2);
        assert!(rule.mac_only_encrypted);
    }

    #[test]
    fn only_one_selection_rule_per_creation_rule() {
        // sops config_test.go sampleConfigWithInvalidParameters.
        let c = config(&rules(vec![
            map(vec![("path_regex", s("ok")), ("age", s(ALICE)), ("encrypted_regex", s("^data$"))]),
            map(vec![("age", s(ALICE)), ("unencrypted_suffix", s("_unencrypted")), ("encrypted_suffix", s("_enc"))]),
        ]));
        assert_eq!(matched(&c, "/repo/ok").selection.encrypted_regex, "^data$");
        let err = rule_for(&c, "/repo/x").err().unwrap();
        assert_eq!(err.kind(), "rule_conflict");
        assert_eq!(
            err.to_string(),
            "/repo/.sops.yaml: creation_rules[1]: cannot use more than one of encrypted_suffix, unencrypted_suffix, encrypted_regex, unencrypted_regex, encrypted_comment_regex, or unencrypted_comment_regex for the same rule"
        );
    }

    #[test]
    fn stores_section() {
        let int = |i| Value::Scalar(Scalar::Int(i));
        let c = config(&doc(vec![(
            "stores",
            map(vec![
                ("yaml", map(vec![("indent", int(2))])),
                ("json", map(vec![("indent", int(0))])),
                ("json_binary", map(vec![("indent", int(-1))])),
                ("dotenv", map(vec![])),
                ("ini", Value::Null),
            ]),
        )]));
        assert_eq!(c.stores.yaml_indent, Some(2));
        assert_eq!(c.stores.json_indent, Some(0));
        assert_eq!(c.stores.json_binary_indent, None);
        let c = config(&doc(vec![("stores", map(vec![("yaml", map(vec![("indent", int(0))]))]))]));
        assert_eq!(c.stores.yaml_indent, None, "0 means sops's default");
        for (store, indent, message) in [
            ("yaml", -1, "YAML Negative indentation not accepted"),
            ("json", -2, "JSON Indentation parameter smaller than -1 is not accepted"),
        ] {
            let d = doc(vec![("stores", map(vec![(store, map(vec![("indent", int(indent))]))]))]);
            let err = Config::from_document(Path::new(CONF), &d).err().unwrap();
            assert_eq!(err.to_string(), format!("{CONF}: stores.{store}.indent: {message}"));
        }
    }

    // ---- precedence ----------------------------------------------------------------------------

    fn rule_with(entries: Vec<(&str, Value)>) -> RuleConfig {
        matched(&config(&rules(vec![map(entries)])), "/repo/x")
    }

    fn selection_field(settings: &EncryptSettings) -> Option<(&'static str, String)> {
        settings.selection.as_ref().map(|s| {
            let (f, v) = s.field();
            (f, v.to_owned())
        })
    }

    #[test]
    fn no_config_and_no_flags_is_the_sops_error() {
        let err = resolve_encrypt(&EncryptFlags::default(), None).err().unwrap();
        assert_eq!(
            err.to_string(),
            "config file not found, or has no creation rules, and no keys provided through command line options"
        );
        assert_eq!(err.kind(), "no_keys");
        assert_eq!(err.exit_code(), 1);
    }

    #[test]
    fn config_keys_are_used_without_key_flags() {
        let rule = rule_with(vec![("age", s(ALICE)), ("shamir_threshold", Value::Scalar(Scalar::Int(3)))]);
        let out = resolve_encrypt(&EncryptFlags::default(), Some(&rule)).unwrap();
        assert_eq!(out.key_groups.iter().map(ids).collect::<Vec<_>>(), [[format!("age: {ALICE}")]]);
        assert_eq!(out.shamir_threshold, 3);
        assert_eq!(selection_field(&out), Some(("unencrypted_suffix", "_unencrypted".to_owned())));
        assert!(!out.mac_only_encrypted);
    }

    #[test]
    fn any_key_flag_replaces_config_keys_entirely() {
        let rule = rule_with(vec![(
            "key_groups",
            list(vec![map(vec![("age", list(vec![s(ALICE)]))]), map(vec![("pgp", list(vec![s("FP")]))])]),
        )]);
        let flags = EncryptFlags { age: format!("{BOB}, {SSH}"), ..Default::default() };
        let out = resolve_encrypt(&flags, Some(&rule)).unwrap();
        // One group; the config's unsupported pgp key does not matter any more.
        assert_eq!(
            out.key_groups.iter().map(ids).collect::<Vec<_>>(),
            [[format!("age: {BOB}"), format!("age: {SSH}")]]
        );
        // Without a config the flag alone is enough.
        let out = resolve_encrypt(&flags, None).unwrap();
        assert_eq!(out.key_groups[0].keys.len(), 2);
        // A non-age key flag also replaces the config keys, and then fails clearly.
        let flags = EncryptFlags { pgp: "FBC7".into(), ..Default::default() };
        let err = resolve_encrypt(&flags, Some(&rule_with(vec![("age", s(ALICE))]))).err().unwrap();
        assert_eq!(
            err.to_string(),
            "--pgp: sealops cannot encrypt to pgp keys (FBC7); only age X25519 and ssh-ed25519 recipients are supported"
        );
    }

    #[test]
    fn bad_recipient_flags_give_sops_messages() {
        for (age, want) in [
            ("bogus", "failed to parse input, unknown recipient type: \"bogus\""),
            (&format!("{ALICE},")[..], "failed to parse input, unknown recipient type: \"\""),
        ] {
            let flags = EncryptFlags { age: age.to_owned(), ..Default::default() };
            let err = resolve_encrypt(&flags, None).err().unwrap();
            assert_eq!(err.to_string(), want);
            assert_eq!(err.kind(), "invalid_recipient");
        }
    }

    #[test]
    fn unsupported_age_kinds_load_but_fail_when_used() {
        // A plugin recipient is valid for sops: the rule loads, and --age overrides it.
        let rule = rule_with(vec![("age", s("age1yubikey1qwertyuiop"))]);
        let flags = EncryptFlags { age: ALICE.into(), ..Default::default() };
        assert!(resolve_encrypt(&flags, Some(&rule)).is_ok());
        let err = resolve_encrypt(&EncryptFlags::default(), Some(&rule)).err().unwrap();
        assert_eq!(err.kind(), "unsupported_key_type");
        assert!(err.to_string().contains("age1yubikey1qwertyuiop"), "{err}");
    }

    #[test]
    fn selection_flags_override_per_field() {
        let rule = rule_with(vec![("age", s(ALICE)), ("encrypted_regex", s("^data$"))]);
        // Same field: the flag wins.
        let flags = EncryptFlags {
            selection: SelectionFields { encrypted_regex: "^stringData$".into(), ..Default::default() },
            ..Default::default()
        };
        let out = resolve_encrypt(&flags, Some(&rule)).unwrap();
        assert_eq!(selection_field(&out), Some(("encrypted_regex", "^stringData$".to_owned())));
        // Another field: both are set, which is sops's conflict (exit 8).
        let flags = EncryptFlags {
            selection: SelectionFields { unencrypted_suffix: "_plain".into(), ..Default::default() },
            ..Default::default()
        };
        let err = resolve_encrypt(&flags, Some(&rule)).err().unwrap();
        assert_eq!(
            err.to_string(),
            "Error: cannot use more than one of encrypted_suffix, unencrypted_suffix, encrypted_regex, unencrypted_regex, encrypted_comment_regex, or unencrypted_comment_regex in the same file"
        );
        assert_eq!(err.exit_code(), 8);
        // No flag: the config's rule.
        let out = resolve_encrypt(&EncryptFlags::default(), Some(&rule)).unwrap();
        assert_eq!(selection_field(&out), Some(("encrypted_regex", "^data$".to_owned())));
    }

    #[test]
    fn invalid_regex_names_its_origin() {
        let rule = rule_with(vec![("age", s(ALICE)), ("unencrypted_comment_regex", s("("))]);
        let err = resolve_encrypt(&EncryptFlags::default(), Some(&rule)).err().unwrap();
        assert!(
            err.to_string().starts_with("/repo/.sops.yaml: creation_rules[0].unencrypted_comment_regex: invalid"),
            "{err}"
        );
        let flags = EncryptFlags {
            age: ALICE.into(),
            selection: SelectionFields { encrypted_regex: "(".into(), ..Default::default() },
            ..Default::default()
        };
        let err = resolve_encrypt(&flags, None).err().unwrap();
        assert!(err.to_string().starts_with("--encrypted-regex: invalid encrypted_regex"), "{err}");
        assert_eq!(err.kind(), "invalid_flag");
    }

    #[test]
    fn mac_only_encrypted_ors_and_threshold_flag_overrides() {
        let on = rule_with(vec![("age", s(ALICE)), ("mac_only_encrypted", Value::Scalar(Scalar::Bool(true)))]);
        let off = rule_with(vec![("age", s(ALICE)), ("shamir_threshold", Value::Scalar(Scalar::Int(2)))]);
        let flag_on = EncryptFlags { mac_only_encrypted: true, ..Default::default() };
        assert!(resolve_encrypt(&EncryptFlags::default(), Some(&on)).unwrap().mac_only_encrypted);
        assert!(resolve_encrypt(&flag_on, Some(&off)).unwrap().mac_only_encrypted);
        assert!(!resolve_encrypt(&EncryptFlags::default(), Some(&off)).unwrap().mac_only_encrypted);
        assert_eq!(resolve_encrypt(&EncryptFlags::default(), Some(&off)).unwrap().shamir_threshold, 2);
        let flags = EncryptFlags { shamir_threshold: 5, ..Default::default() };
        assert_eq!(resolve_encrypt(&flags, Some(&off)).unwrap().shamir_threshold, 5);
        // The rule's threshold applies even when key flags replace its keys (sops's
        // shamirThreshold does not look at key flags).
        let flags = EncryptFlags { age: BOB.into(), ..Default::default() };
        assert_eq!(resolve_encrypt(&flags, Some(&off)).unwrap().shamir_threshold, 2);
    }

    #[test]
    fn single_value_store_drops_rules() {
        let rule = rule_with(vec![
            ("age", s(ALICE)),
            ("encrypted_regex", s("x")),
            ("mac_only_encrypted", Value::Scalar(Scalar::Bool(true))),
        ]);
        let flags = EncryptFlags {
            single_value_store: true,
            mac_only_encrypted: true,
            selection: SelectionFields { unencrypted_suffix: "_u".into(), ..Default::default() },
            ..Default::default()
        };
        // Two rules set, but they are dropped before the conflict check, as in sops.
        let out = resolve_encrypt(&flags, Some(&rule)).unwrap();
        assert!(out.selection.is_none());
        assert!(!out.mac_only_encrypted);
    }

    #[test]
    fn updatekeys_threshold_follows_sops() {
        assert_eq!(updatekeys_threshold(2, 0, 3), 2);
        assert_eq!(updatekeys_threshold(2, 3, 3), 3);
        assert_eq!(updatekeys_threshold(3, 0, 2), 2, "capped at the number of groups");
        assert_eq!(updatekeys_threshold(0, 0, 1), 0);
    }

    #[test]
    fn updatekeys_rule_keeps_other_key_types() {
        let c = config(&rules(vec![map(vec![
            ("age", s(ALICE)),
            ("pgp", s("FP")),
            ("shamir_threshold", Value::Scalar(Scalar::Int(1))),
        ])]));
        let rule = c.updatekeys_rule(Path::new("/repo/a.yaml")).unwrap();
        assert_eq!(ids(&rule.key_groups[0]), [format!("age: {ALICE}"), "pgp: FP".to_owned()]);
        assert_eq!(rule.shamir_threshold, 1);
        assert!(rule.check_encryptable().is_err());
    }

    // ---- end to end from YAML text ------------------------------------------------------------

    fn parse_yaml(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new(CONF), text.as_bytes())
    }

    #[test]
    fn yaml_spec_example_with_anchors() {
        // shared/specs/sops.md §3.1 example, with real recipients.
        let text = format!(
            "keys:                                   # ignored by sops; only holds anchors
  - &alice {ALICE}
creation_rules:
  - path_regex: secrets/prod/.*\\.ya?ml$
    encrypted_regex: ^(data|stringData)$
    key_groups:
      - age: [*alice]
      - age: [{BOB}]
    shamir_threshold: 2
  - path_regex: \\.env$
    age: >-
      {CAROL}, {DAVE}
  - age: *alice                         # fallback (no path_regex = match all)
stores:
  yaml: {{indent: 2}}
"
        );
        let parsed = parse_yaml(&text);
        let c = parsed.expect("valid config");
        assert_eq!(c.stores.yaml_indent, Some(2));
        let prod = matched(&c, "/repo/secrets/prod/db.yaml");
        assert_eq!(
            prod.key_groups.iter().map(ids).collect::<Vec<_>>(),
            [[format!("age: {ALICE}")], [format!("age: {BOB}")]]
        );
        assert_eq!(prod.shamir_threshold, 2);
        assert_eq!(prod.selection.encrypted_regex, "^(data|stringData)$");
        assert_eq!(
            ids(&matched(&c, "/repo/app/.env").key_groups[0]),
            [format!("age: {CAROL}"), format!("age: {DAVE}")]
        );
        assert_eq!(ids(&matched(&c, "/repo/other.json").key_groups[0]), [format!("age: {ALICE}")]);
    }

    #[test]
    fn yaml_gen311_config() {
        // shared/interop/sops-upstream/gen311_sops_config.yaml (used with sops 3.11 to make the
        // gen311_ fixtures).
        let text = format!(
            "creation_rules:
  - path_regex: shamir
    shamir_threshold: 2
    key_groups:
      - age: [{BOB}]
      - age: [{CAROL}]
      - age: [{DAVE}]
  - path_regex: regex_maconly
    encrypted_regex: ^(password|secret)$
    mac_only_encrypted: true
    age: {ALICE}
"
        );
        let parsed = parse_yaml(&text);
        let c = parsed.expect("valid config");
        let shamir = matched(&c, "/repo/gen311_shamir_2of3.plain.yaml");
        assert_eq!(shamir.key_groups.len(), 3);
        assert_eq!(shamir.shamir_threshold, 2);
        let maconly =
            resolve_encrypt(&EncryptFlags::default(), Some(&matched(&c, "/repo/gen311_regex_maconly.plain.yaml")))
                .unwrap();
        assert!(maconly.mac_only_encrypted);
        assert_eq!(selection_field(&maconly), Some(("encrypted_regex", "^(password|secret)$".to_owned())));
        assert_eq!(rule_for(&c, "/repo/basic.yaml").err().unwrap().kind(), "no_matching_rule");
    }

    #[test]
    fn yaml_ft_config_with_pgp_and_destination_rules() {
        // shared/interop/sops-upstream/ft_sops_config.yaml (sops functional tests), abridged.
        let text = "creation_rules:
    - path_regex: test_roundtrip_keygroups.yaml
      key_groups:
      - pgp:
        - FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4
      - pgp:
        - D7229043384BCC60326C6FB9D8720D957C3D3074
    - path_regex: test_no_keygroups.yaml
    - path_regex: test_zero_keygroups.yaml
      key_groups: []
    - path_regex: test_empty_keygroup.yaml
      key_groups:
        - {}
    - pgp: FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4
destination_rules:
    - s3_bucket: \"sops-publish-functional-tests\"
      s3_prefix: \"functional-test/\"
      path_regex: test_encrypt_publish_s3.json
      reencryption_rule:
        pgp: B611A2F9F11D0FF82568805119F9B5DAEA91FF86
";
        let parsed = parse_yaml(text);
        let c = parsed.expect("valid config");
        assert_eq!(matched(&c, "/repo/test_roundtrip_keygroups.yaml").key_groups.len(), 2);
        for file in ["test_no_keygroups.yaml", "test_zero_keygroups.yaml", "test_empty_keygroup.yaml"] {
            let rule = matched(&c, &format!("/repo/{file}"));
            assert_eq!(rule.key_groups.len(), 1, "{file}");
            assert!(rule.key_groups[0].keys.is_empty(), "{file}");
        }
        let fallback = matched(&c, "/repo/anything.yaml");
        assert_eq!(
            resolve_encrypt(&EncryptFlags::default(), Some(&fallback)).err().unwrap().kind(),
            "unsupported_key_type"
        );
    }

    #[test]
    fn yaml_syntax_error_names_the_file() {
        let err = parse_yaml("creation_rules: [\n").expect_err("unclosed flow sequence");
        assert_eq!(err.kind(), "config_parse");
        assert!(err.to_string().starts_with("error loading config /repo/.sops.yaml: "), "{err}");
    }

    #[test]
    fn yaml_empty_file_is_an_empty_config() {
        let parsed = parse_yaml("");
        assert!(parsed.expect("empty config").creation_rules.is_none());
        let parsed = parse_yaml("# only a comment\n");
        assert!(parsed.expect("empty config").creation_rules.is_none());
    }
}
