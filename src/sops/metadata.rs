//! The `sops` metadata block: key groups, `lastmodified`, the MAC, the selection rule.
//!
//! Reading accepts every shape sops has written (`stores/stores.go`, `stores/metadata.go`): any
//! field order, `null`/`[]`/absent lists, unknown fields, and weakly typed scalars (`"2"` for
//! an int, `"true"` for a bool: dotenv and INI metadata are all strings). Writing follows sops
//! 3.13.2, the version Flux pins: every map's keys sorted byte-wise, empty lists omitted at the
//! top level, `age` and `hc_vault` always present inside `key_groups`.
//!
//! Key types other than age (pgp, kms, gcp_kms, hckms, azure_kv, hc_vault) are kept as they
//! are, so a file that also has them survives `set`/`edit`/`updatekeys`; sealops cannot use them.

use super::gotime::GoTime;
use super::rules::{RULE_FIELDS, RuleError, Selection};
use super::scalar;
use super::tree::{Branch, Element, Item, Key, Scalar, Value};
use crate::crypto::SecretBytes;

/// The field holding the metadata.
pub const SOPS_KEY: &str = "sops";
/// The version of the format sealops writes (and the sops version whose output it matches).
pub const FORMAT_VERSION: &str = "3.13.2";

/// A file's encryption metadata.
#[derive(Clone)]
pub struct Metadata {
    pub key_groups: Vec<KeyGroup>,
    /// 0 when not set; with ≥ 2 groups it defaults to the number of groups.
    pub shamir_threshold: usize,
    pub last_modified: GoTime,
    /// `ENC[…]` of the MAC, or `""` in very old files.
    pub mac: String,
    /// The selection rule; `None` only for the binary store.
    pub rule: Option<Selection>,
    pub mac_only_encrypted: bool,
    pub version: String,
}

/// Keys that all wrap the same data key (or the same Shamir share).
#[derive(Clone, Default)]
pub struct KeyGroup {
    pub keys: Vec<MasterKey>,
}

/// One wrapped copy of the data key (or share).
#[derive(Clone)]
pub enum MasterKey {
    Age(AgeKey),
    /// A key type sealops does not implement, kept verbatim.
    Other(OtherKey),
}

#[derive(Clone)]
pub struct AgeKey {
    /// The recipient as written (trimmed); for ssh keys the whole authorized_keys line.
    pub recipient: String,
    /// The armored age file wrapping the data key; empty until wrapped.
    pub enc: String,
}

#[derive(Clone)]
pub struct OtherKey {
    pub kind: KeyKind,
    /// The entry's fields as found (sorted on output).
    pub fields: Branch,
}

/// The non-age key types sops knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    Pgp,
    Kms,
    GcpKms,
    Hckms,
    AzureKv,
    HcVault,
}

impl KeyKind {
    pub const ALL: [KeyKind; 6] =
        [KeyKind::Kms, KeyKind::GcpKms, KeyKind::Hckms, KeyKind::AzureKv, KeyKind::HcVault, KeyKind::Pgp];

    /// The metadata field name.
    pub fn field(self) -> &'static str {
        match self {
            KeyKind::Pgp => "pgp",
            KeyKind::Kms => "kms",
            KeyKind::GcpKms => "gcp_kms",
            KeyKind::Hckms => "hckms",
            KeyKind::AzureKv => "azure_kv",
            KeyKind::HcVault => "hc_vault",
        }
    }

    /// The field that names the key, for messages.
    fn id_field(self) -> &'static str {
        match self {
            KeyKind::Pgp => "fp",
            KeyKind::Kms => "arn",
            KeyKind::GcpKms => "resource_id",
            KeyKind::Hckms => "key_id",
            KeyKind::AzureKv => "vault_url",
            KeyKind::HcVault => "vault_address",
        }
    }
}

impl MasterKey {
    /// The key type as sops names it (`age`, `pgp`, …).
    pub fn type_name(&self) -> &'static str {
        match self {
            MasterKey::Age(_) => "age",
            MasterKey::Other(o) => o.kind.field(),
        }
    }

    /// A human-readable identifier (recipient, fingerprint, ARN …).
    pub fn describe(&self) -> String {
        match self {
            MasterKey::Age(a) => a.recipient.clone(),
            MasterKey::Other(o) => match super::tree::get(&o.fields, o.kind.id_field()) {
                Some(Value::Scalar(Scalar::Str(s))) => String::from_utf8_lossy(s.expose()).into_owned(),
                _ => o.kind.field().to_owned(),
            },
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    #[error("sops metadata not found")]
    NotFound,
    #[error("Found duplicate sops entry")]
    Duplicate,
    #[error("Found sops entry that is not a mapping")]
    NotAMap,
    #[error("No keys found in file")]
    NoKeys,
    #[error("metadata field {field}: {message}")]
    Field { field: String, message: String },
    #[error(transparent)]
    Rule(#[from] RuleError),
    #[error("Error while unflattening {key:?}: {message}")]
    Unflatten { key: String, message: String },
    #[error("Found key collision {0:?} while flattening")]
    FlattenCollision(String),
}

fn field_err(field: &str, message: impl Into<String>) -> MetadataError {
    MetadataError::Field { field: field.to_owned(), message: message.into() }
}

/// A metadata scalar as text, with mapstructure's weak typing.
fn weak_string(field: &str, value: &Value) -> Result<String, MetadataError> {
    match value {
        Value::Null => Ok(String::new()),
        Value::Scalar(Scalar::Str(s)) => {
            String::from_utf8(s.expose().to_vec()).map_err(|_| field_err(field, "is not UTF-8"))
        }
        Value::Scalar(Scalar::Int(i)) => Ok(i.to_string()),
        Value::Scalar(Scalar::Uint(u)) => Ok(u.to_string()),
        Value::Scalar(Scalar::Float(f)) => Ok(scalar::format_float_f(*f)),
        Value::Scalar(Scalar::Bool(b)) => Ok(if *b { "1" } else { "0" }.to_owned()),
        Value::Scalar(Scalar::Time(t)) => Ok(t.rfc3339_nano()),
        Value::Scalar(Scalar::Bytes(b)) => Ok(String::from_utf8_lossy(b.expose()).into_owned()),
        Value::Map(_) | Value::List(_) => Err(field_err(field, "expected a string, found a collection")),
    }
}

fn weak_int(field: &str, value: &Value) -> Result<usize, MetadataError> {
    let bad = || field_err(field, "expected a non-negative integer");
    match value {
        Value::Null => Ok(0),
        Value::Scalar(Scalar::Int(i)) => usize::try_from(*i).map_err(|_| bad()),
        Value::Scalar(Scalar::Float(f)) if f.fract() == 0.0 && *f >= 0.0 => Ok(*f as usize),
        Value::Scalar(Scalar::Bool(b)) => Ok(usize::from(*b)),
        Value::Scalar(Scalar::Str(s)) => {
            let text = s.as_str().ok_or_else(bad)?;
            if text.is_empty() { Ok(0) } else { text.parse().map_err(|_| bad()) }
        }
        _ => Err(bad()),
    }
}

fn weak_bool(field: &str, value: &Value) -> Result<bool, MetadataError> {
    let bad = || field_err(field, "expected a boolean");
    match value {
        Value::Null => Ok(false),
        Value::Scalar(Scalar::Bool(b)) => Ok(*b),
        Value::Scalar(Scalar::Int(i)) => Ok(*i != 0),
        Value::Scalar(Scalar::Float(f)) => Ok(*f != 0.0),
        Value::Scalar(Scalar::Str(s)) => {
            let text = s.as_str().ok_or_else(bad)?;
            if text.is_empty() { Ok(false) } else { scalar::parse_bool(text).ok_or_else(bad) }
        }
        _ => Err(bad()),
    }
}

/// The map entries of a list field (`null` and absent are empty lists).
fn list_of_maps<'a>(field: &str, value: Option<&'a Value>) -> Result<Vec<&'a Branch>, MetadataError> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::List(elements)) => elements
            .iter()
            .filter_map(|e| match e {
                Element::Value(v) => Some(v),
                Element::Comment(_) => None,
            })
            .map(|v| match v {
                Value::Map(m) => Ok(m),
                _ => Err(field_err(field, "list entries must be maps")),
            })
            .collect(),
        Some(Value::Map(m)) if m.is_empty() => Ok(Vec::new()),
        Some(_) => Err(field_err(field, "expected a list")),
    }
}

fn pairs(branch: &Branch) -> impl Iterator<Item = (&str, &Value)> {
    branch.iter().filter_map(|item| match item {
        Item::Pair { key: Key::Str(k), value } => Some((k.as_str(), value)),
        _ => None,
    })
}

fn get<'a>(branch: &'a Branch, field: &str) -> Option<&'a Value> {
    super::tree::get(branch, field)
}

fn parse_group(prefix: &str, branch: &Branch) -> Result<KeyGroup, MetadataError> {
    let mut group = KeyGroup::default();
    // sops's internal order: kms, gcp_kms, hckms, azure_kv, hc_vault, pgp, then age.
    for kind in KeyKind::ALL {
        let field = format!("{prefix}{}", kind.field());
        for entry in list_of_maps(&field, get(branch, kind.field()))? {
            if let Some(created) = get(entry, "created_at") {
                let text = weak_string(&format!("{field}.created_at"), created)?;
                if GoTime::parse_rfc3339(&text).is_none() {
                    return Err(field_err(&format!("{field}.created_at"), format!("{text:?} is not an RFC 3339 time")));
                }
            }
            let fields = entry.iter().filter(|i| matches!(i, Item::Pair { .. })).cloned().collect();
            group.keys.push(MasterKey::Other(OtherKey { kind, fields }));
        }
    }
    let field = format!("{prefix}age");
    for entry in list_of_maps(&field, get(branch, "age"))? {
        let recipient = get(entry, "recipient").map(|v| weak_string(&field, v)).transpose()?.unwrap_or_default();
        let enc = get(entry, "enc").map(|v| weak_string(&field, v)).transpose()?.unwrap_or_default();
        group.keys.push(MasterKey::Age(AgeKey { recipient, enc }));
    }
    Ok(group)
}

impl Metadata {
    /// New metadata for a file about to be encrypted.
    pub fn new(
        key_groups: Vec<KeyGroup>,
        shamir_threshold: usize,
        rule: Option<Selection>,
        mac_only_encrypted: bool,
    ) -> Self {
        Self {
            key_groups,
            shamir_threshold,
            last_modified: GoTime::now_utc(),
            mac: String::new(),
            rule,
            mac_only_encrypted,
            version: FORMAT_VERSION.to_owned(),
        }
    }

    /// Reads the metadata map (already unflattened for dotenv/INI).
    pub fn from_branch(branch: &Branch) -> Result<Self, MetadataError> {
        let last_modified_text =
            get(branch, "lastmodified").map(|v| weak_string("lastmodified", v)).transpose()?.unwrap_or_default();
        let last_modified = GoTime::parse_rfc3339(&last_modified_text)
            .ok_or_else(|| field_err("lastmodified", format!("{last_modified_text:?} is not an RFC 3339 time")))?;

        let flat = parse_group("", branch)?;
        let key_groups = if !flat.keys.is_empty() {
            vec![flat]
        } else {
            let groups = list_of_maps("key_groups", get(branch, "key_groups"))?;
            let groups = groups
                .iter()
                .enumerate()
                .map(|(i, g)| parse_group(&format!("key_groups[{i}]."), g))
                .collect::<Result<Vec<_>, _>>()?;
            if groups.iter().all(|g| g.keys.is_empty()) {
                return Err(MetadataError::NoKeys);
            }
            groups
        };

        let mut rule_values = Vec::new();
        for field in RULE_FIELDS {
            if let Some(v) = get(branch, field) {
                rule_values.push((field, weak_string(field, v)?));
            }
        }
        let rule = Selection::from_fields(rule_values.iter().map(|(f, v)| (*f, v.as_str())))?
            .or_else(|| Some(Selection::default_rule()));

        Ok(Self {
            key_groups,
            shamir_threshold: get(branch, "shamir_threshold")
                .map(|v| weak_int("shamir_threshold", v))
                .transpose()?
                .unwrap_or(0),
            last_modified,
            mac: get(branch, "mac").map(|v| weak_string("mac", v)).transpose()?.unwrap_or_default(),
            rule,
            mac_only_encrypted: get(branch, "mac_only_encrypted")
                .map(|v| weak_bool("mac_only_encrypted", v))
                .transpose()?
                .unwrap_or(false),
            version: get(branch, "version").map(|v| weak_string("version", v)).transpose()?.unwrap_or_default(),
        })
    }

    /// The metadata as a map, laid out as sops 3.13.2 writes it.
    pub fn to_branch(&self) -> Branch {
        let mut out: Vec<(String, Value)> = Vec::new();
        let str_value = |s: &str| Value::Scalar(Scalar::Str(SecretBytes::from(s)));
        if self.key_groups.len() == 1 {
            group_fields(&self.key_groups[0], false, &mut out);
        } else {
            let groups = self
                .key_groups
                .iter()
                .map(|g| {
                    let mut fields = Vec::new();
                    group_fields(g, true, &mut fields);
                    Element::Value(Value::Map(sorted(fields)))
                })
                .collect();
            out.push(("key_groups".to_owned(), Value::List(groups)));
        }
        out.push(("lastmodified".to_owned(), str_value(&self.last_modified.rfc3339())));
        out.push(("mac".to_owned(), str_value(&self.mac)));
        if self.mac_only_encrypted {
            out.push(("mac_only_encrypted".to_owned(), Value::Scalar(Scalar::Bool(true))));
        }
        if self.shamir_threshold != 0 {
            out.push(("shamir_threshold".to_owned(), Value::Scalar(Scalar::Int(self.shamir_threshold as i64))));
        }
        if let Some(rule) = &self.rule {
            let (field, value) = rule.field();
            out.push((field.to_owned(), str_value(value)));
        }
        out.push(("version".to_owned(), str_value(&self.version)));
        sorted(out)
    }

    /// Every master key, group by group.
    pub fn master_keys(&self) -> impl Iterator<Item = &MasterKey> {
        self.key_groups.iter().flat_map(|g| g.keys.iter())
    }
}

fn group_fields(group: &KeyGroup, in_key_groups: bool, out: &mut Vec<(String, Value)>) {
    let age: Vec<Element> = group
        .keys
        .iter()
        .filter_map(|k| match k {
            MasterKey::Age(a) => Some(Element::Value(Value::Map(vec![
                Item::Pair { key: Key::from("enc"), value: Value::str(&a.enc) },
                Item::Pair { key: Key::from("recipient"), value: Value::str(&a.recipient) },
            ]))),
            MasterKey::Other(_) => None,
        })
        .collect();
    if !age.is_empty() || in_key_groups {
        out.push(("age".to_owned(), Value::List(age)));
    }
    for kind in KeyKind::ALL {
        let entries: Vec<Element> = group
            .keys
            .iter()
            .filter_map(|k| match k {
                MasterKey::Other(o) if o.kind == kind => {
                    Some(Element::Value(Value::Map(sort_branch(o.fields.clone()))))
                }
                _ => None,
            })
            .collect();
        if !entries.is_empty() || (in_key_groups && kind == KeyKind::HcVault) {
            out.push((kind.field().to_owned(), Value::List(entries)));
        }
    }
}

fn sorted(mut fields: Vec<(String, Value)>) -> Branch {
    fields.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    fields.into_iter().map(|(k, v)| Item::Pair { key: Key::Str(k), value: v }).collect()
}

fn sort_branch(branch: Branch) -> Branch {
    let fields = branch
        .into_iter()
        .filter_map(|i| match i {
            Item::Pair { key: Key::Str(k), value: Value::Map(m) } => Some((k, Value::Map(sort_branch(m)))),
            Item::Pair { key: Key::Str(k), value } => Some((k, value)),
            _ => None,
        })
        .collect();
    sorted(fields)
}

const MAP_SEP: &str = "__map_";
const LIST_SEP: &str = "__list_";

/// Flattens a map into `prefix` + `a__map_b__list_0`-style keys (`stores/flatten.go`), for the
/// dotenv and INI stores. Empty maps and lists disappear, as in sops.
pub fn flatten(branch: &Branch, prefix: &str) -> Result<Vec<(String, Value)>, MetadataError> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    flatten_map(branch, prefix, &mut out, &mut seen)?;
    Ok(out)
}

fn flatten_value(
    value: &Value,
    key: String,
    out: &mut Vec<(String, Value)>,
    seen: &mut std::collections::HashSet<String>,
) -> Result<(), MetadataError> {
    match value {
        Value::Map(m) => flatten_map(m, &format!("{key}{MAP_SEP}"), out, seen),
        Value::List(list) => {
            let values = list.iter().filter_map(|e| match e {
                Element::Value(v) => Some(v),
                Element::Comment(_) => None,
            });
            for (i, v) in values.enumerate() {
                flatten_value(v, format!("{key}{LIST_SEP}{i}"), out, seen)?;
            }
            Ok(())
        }
        scalar => {
            if !seen.insert(key.clone()) {
                return Err(MetadataError::FlattenCollision(key));
            }
            out.push((key, scalar.clone()));
            Ok(())
        }
    }
}

fn flatten_map(
    branch: &Branch,
    prefix: &str,
    out: &mut Vec<(String, Value)>,
    seen: &mut std::collections::HashSet<String>,
) -> Result<(), MetadataError> {
    for (k, v) in pairs(branch) {
        flatten_value(v, format!("{prefix}{k}"), out, seen)?;
    }
    Ok(())
}

enum Token {
    Key(String),
    Index(usize),
}

fn tokenize(path: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut state: Option<bool> = None; // None: first, Some(true): map, Some(false): list
    let mut start = 0;
    let mut i = 0;
    let finish = |tokens: &mut Vec<Token>, state: Option<bool>, start: usize, end: usize| {
        tokens.push(match state {
            None => Token::Key(path[start..end].to_owned()),
            Some(true) => Token::Key(path[start + MAP_SEP.len()..end].to_owned()),
            // sops ignores the Atoi error (index 0).
            Some(false) => Token::Index(path[start + LIST_SEP.len()..end].parse().unwrap_or(0)),
        });
    };
    while i < path.len() {
        if path[i..].starts_with(MAP_SEP) {
            finish(&mut tokens, state, start, i);
            start = i;
            state = Some(true);
            i += MAP_SEP.len();
        } else if path[i..].starts_with(LIST_SEP) {
            finish(&mut tokens, state, start, i);
            start = i;
            state = Some(false);
            i += LIST_SEP.len();
        } else {
            i += path[i..].chars().next().map_or(1, char::len_utf8);
        }
    }
    finish(&mut tokens, state, start, path.len());
    tokens
}

#[derive(Default)]
struct Node {
    value: Option<Value>,
    keys: std::collections::BTreeMap<String, Node>,
    indices: std::collections::BTreeMap<usize, Node>,
}

/// Rebuilds nested metadata from flattened keys (the inverse of [`flatten`]).
pub fn unflatten(items: Vec<(String, Value)>) -> Result<Branch, MetadataError> {
    let mut root = Node::default();
    for (key, value) in items {
        let mut node = &mut root;
        for token in tokenize(&key) {
            node = match token {
                Token::Key(k) => node.keys.entry(k).or_default(),
                Token::Index(i) => node.indices.entry(i).or_default(),
            };
        }
        if node.value.is_some() {
            return Err(MetadataError::Unflatten { key, message: "Duplicate value".into() });
        }
        node.value = Some(value);
    }
    match convert(root)? {
        Value::Map(m) => Ok(m),
        _ => Err(MetadataError::Unflatten { key: String::new(), message: "Internal error: cannot find root".into() }),
    }
}

fn convert(node: Node) -> Result<Value, MetadataError> {
    let kinds =
        usize::from(node.value.is_some()) + usize::from(!node.keys.is_empty()) + usize::from(!node.indices.is_empty());
    if kinds > 1 {
        return Err(MetadataError::Unflatten { key: String::new(), message: "Type mismatch".into() });
    }
    if let Some(v) = node.value {
        return Ok(v);
    }
    if node.keys.is_empty() && node.indices.is_empty() {
        return Ok(Value::Map(Vec::new()));
    }
    if !node.keys.is_empty() {
        let items = node
            .keys
            .into_iter()
            .map(|(k, n)| Ok(Item::Pair { key: Key::Str(k), value: convert(n)? }))
            .collect::<Result<_, MetadataError>>()?;
        return Ok(Value::Map(items));
    }
    let count = node.indices.len();
    if node.indices.keys().enumerate().any(|(i, k)| i != *k) {
        return Err(MetadataError::Unflatten {
            key: String::new(),
            message: format!("Incomplete list of {count} entries"),
        });
    }
    let elements =
        node.indices.into_values().map(|n| Ok(Element::Value(convert(n)?))).collect::<Result<_, MetadataError>>()?;
    Ok(Value::List(elements))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(v: &Value) -> String {
        match v {
            Value::Scalar(Scalar::Str(s)) => s.as_str().unwrap().to_owned(),
            Value::Scalar(Scalar::Int(i)) => i.to_string(),
            other => format!("{other:?}"),
        }
    }

    fn sample() -> Metadata {
        let mut m = Metadata::new(
            vec![KeyGroup {
                keys: vec![MasterKey::Age(AgeKey { recipient: "age1abc".into(), enc: "-----BEGIN\nx\n".into() })],
            }],
            0,
            Some(Selection::default_rule()),
            false,
        );
        m.mac = "ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]".into();
        m.last_modified = GoTime::parse_rfc3339("2026-11-23T21:29:33Z").unwrap();
        m
    }

    #[test]
    fn writes_sorted_313_layout() {
        let branch = sample().to_branch();
        let keys: Vec<&str> = pairs(&branch).map(|(k, _)| k).collect();
        assert_eq!(keys, ["age", "lastmodified", "mac", "unencrypted_suffix", "version"]);
        let Some(Value::List(age)) = get(&branch, "age") else { panic!("age list") };
        let Element::Value(Value::Map(entry)) = &age[0] else { panic!("entry") };
        let fields: Vec<&str> = pairs(entry).map(|(k, _)| k).collect();
        assert_eq!(fields, ["enc", "recipient"]);
        assert_eq!(text(get(&branch, "lastmodified").unwrap()), "2026-11-23T21:29:33Z");
    }

    #[test]
    fn reads_back_and_defaults_rule() {
        let mut branch = sample().to_branch();
        branch.retain(|i| !matches!(i, Item::Pair { key: Key::Str(k), .. } if k == "unencrypted_suffix"));
        let m = Metadata::from_branch(&branch).unwrap();
        assert_eq!(m.rule.as_ref().unwrap().field(), ("unencrypted_suffix", "_unencrypted"));
        assert_eq!(m.key_groups.len(), 1);
        assert_eq!(m.master_keys().next().unwrap().describe(), "age1abc");
    }

    #[test]
    fn weak_typing_and_errors() {
        let mut branch = sample().to_branch();
        branch.push(Item::Pair { key: "shamir_threshold".into(), value: Value::str("2") });
        branch.push(Item::Pair { key: "mac_only_encrypted".into(), value: Value::str("true") });
        let m = Metadata::from_branch(&branch).unwrap();
        assert_eq!(m.shamir_threshold, 2);
        assert!(m.mac_only_encrypted);

        let no_keys: Branch =
            vec![Item::Pair { key: "lastmodified".into(), value: Value::str("2026-11-23T21:29:33Z") }];
        assert!(matches!(Metadata::from_branch(&no_keys), Err(MetadataError::NoKeys)));
        let mut bad_time = sample().to_branch();
        for item in &mut bad_time {
            if let Item::Pair { key: Key::Str(k), value } = item
                && k == "lastmodified"
            {
                *value = Value::str("yesterday");
            }
        }
        assert!(matches!(Metadata::from_branch(&bad_time), Err(MetadataError::Field { .. })));
    }

    #[test]
    fn flatten_round_trip() {
        let branch = sample().to_branch();
        let flat = flatten(&branch, "sops_").unwrap();
        let keys: Vec<&str> = flat.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "sops_age__list_0__map_enc",
                "sops_age__list_0__map_recipient",
                "sops_lastmodified",
                "sops_mac",
                "sops_unencrypted_suffix",
                "sops_version"
            ]
        );
        let unprefixed = flat.into_iter().map(|(k, v)| (k["sops_".len()..].to_owned(), v)).collect();
        let back = unflatten(unprefixed).unwrap();
        let m = Metadata::from_branch(&back).unwrap();
        assert_eq!(m.master_keys().next().unwrap().describe(), "age1abc");
        let gaps = unflatten(vec![("a__list_1".into(), Value::str("x"))]);
        assert!(matches!(gaps, Err(MetadataError::Unflatten { .. })));
    }
}
