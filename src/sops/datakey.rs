//! Getting the data key out of the metadata, and wrapping a data key for every master key.
//!
//! `sops.go`, `GetDataKeyWithKeyServices`: every key group is tried; inside a group the keys are
//! tried in the decryption order (age first by default) and the first success gives the group's
//! part. One group needs its part; several groups need `shamir_threshold` parts, which Shamir
//! combines. Failures are reported per group and per key, as sops does.

use super::metadata::{KeyGroup, MasterKey, Metadata};
use crate::crypto::age::{self, Recipient};
use crate::crypto::{DataKey, Keyring, SecretBytes, shamir};

/// The key types, in the default decryption order (`sops.DefaultDecryptionOrder`).
pub const DEFAULT_DECRYPTION_ORDER: [&str; 2] = ["age", "pgp"];

#[derive(Debug, thiserror::Error)]
pub enum DataKeyError {
    #[error("{}", report(.groups, *.threshold, *.recovered))]
    Recovery { groups: Vec<GroupReport>, threshold: usize, recovered: usize },
    #[error("could not get data key from shamir parts: {0}")]
    Combine(shamir::ShamirError),
    #[error("the recovered data key is {0} bytes, not 32")]
    KeyLength(usize),
    #[error("this file is encrypted only with {kinds} keys; sealops supports age (and ssh-ed25519 through age)")]
    UnsupportedOnly { kinds: String },
    #[error("no key groups provided")]
    NoGroups,
    #[error("empty key group provided")]
    EmptyGroup,
    #[error("could not split data key into parts for Shamir: {0}")]
    Split(shamir::ShamirError),
    #[error("cannot encrypt the data key with {kind} key {key}: sealops can only wrap data keys for age recipients")]
    CannotWrap { kind: &'static str, key: String },
    #[error("failed to encrypt new data key with master key {key:?}: {reason}")]
    Wrap { key: String, reason: String },
    #[error("Duplicate decryption key type: {0}")]
    DuplicateOrder(String),
}

impl DataKeyError {
    pub fn kind(&self) -> &'static str {
        match self {
            DataKeyError::Recovery { .. }
            | DataKeyError::UnsupportedOnly { .. }
            | DataKeyError::Combine(_)
            | DataKeyError::KeyLength(_) => "could_not_retrieve_key",
            DataKeyError::DuplicateOrder(_) => "duplicate_decryption_key_type",
            _ => "could_not_wrap_key",
        }
    }
}

/// The outcome of one group, for the report.
#[derive(Debug)]
pub struct GroupReport {
    pub ok: bool,
    /// (key, reason) for every key that failed.
    pub failures: Vec<(String, String)>,
}

fn wrap_lines(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

fn report(groups: &[GroupReport], threshold: usize, recovered: usize) -> String {
    let mut out = String::from("Failed to get the data key required to decrypt the SOPS file.\n");
    for (i, g) in groups.iter().enumerate() {
        out.push_str(&format!("\nGroup {i}: {}\n", if g.ok { "SUCCESS" } else { "FAILED" }));
        for (key, reason) in &g.failures {
            out.push_str(&format!("  {key}: FAILED\n"));
            for (n, line) in wrap_lines(reason, 60).iter().enumerate() {
                out.push_str(if n == 0 { "    - | " } else { "      | " });
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out.push('\n');
    let summary = if groups.len() > 1 {
        format!(
            "Recovery failed because the file was encrypted with a Shamir threshold of {threshold}, but only {recovered} part(s) were successfully recovered, one for each successful key group. In order to recover the key, at least {threshold} groups have to be successful. In order for a group to be successful, decryption has to succeed with any of the keys in that key group."
        )
    } else {
        "Recovery failed because no master key was able to decrypt the file. In order for SOPS to recover the file, at least one key has to be successful, but none were.".to_owned()
    };
    out.push_str(&wrap_lines(&summary, 75).join("\n"));
    out
}

/// Parses `--decryption-order` / `SOPS_DECRYPTION_ORDER` (comma-separated key types).
pub fn parse_decryption_order(text: &str) -> Result<Vec<String>, DataKeyError> {
    let mut order: Vec<String> = Vec::new();
    for kind in text.split(',').map(str::trim).filter(|k| !k.is_empty()) {
        if order.iter().any(|k| k == kind) {
            return Err(DataKeyError::DuplicateOrder(kind.to_owned()));
        }
        order.push(kind.to_owned());
    }
    Ok(order)
}

/// Recovers the data key with the identities in `keyring`.
pub fn unwrap(meta: &Metadata, keyring: &Keyring, order: &[String]) -> Result<DataKey, DataKeyError> {
    if !meta.master_keys().any(|k| matches!(k, MasterKey::Age(_))) {
        let mut kinds: Vec<&str> = meta.master_keys().map(MasterKey::type_name).collect();
        kinds.dedup();
        return Err(DataKeyError::UnsupportedOnly { kinds: kinds.join(", ") });
    }
    let mut parts: Vec<SecretBytes> = Vec::new();
    let mut reports = Vec::new();
    for group in &meta.key_groups {
        let (part, failures) = unwrap_group(group, keyring, order);
        reports.push(GroupReport { ok: part.is_some(), failures });
        parts.extend(part);
    }
    let key_bytes = if meta.key_groups.len() > 1 {
        let threshold = if meta.shamir_threshold == 0 { meta.key_groups.len() } else { meta.shamir_threshold };
        if parts.len() < threshold {
            return Err(DataKeyError::Recovery { groups: reports, threshold, recovered: parts.len() });
        }
        shamir::combine(&parts).map_err(DataKeyError::Combine)?
    } else {
        match parts.pop() {
            Some(part) => part,
            None => {
                return Err(DataKeyError::Recovery { groups: reports, threshold: 1, recovered: 0 });
            }
        }
    };
    DataKey::from_slice(key_bytes.expose()).ok_or(DataKeyError::KeyLength(key_bytes.len()))
}

fn unwrap_group(group: &KeyGroup, keyring: &Keyring, order: &[String]) -> (Option<SecretBytes>, Vec<(String, String)>) {
    let rank = |k: &MasterKey| order.iter().position(|t| t == k.type_name()).unwrap_or(order.len());
    let mut keys: Vec<&MasterKey> = group.keys.iter().collect();
    keys.sort_by_key(|k| rank(k)); // stable, as sops's sort.SliceStable
    let mut failures = Vec::new();
    for key in keys {
        match key {
            MasterKey::Age(age_key) => {
                if keyring.age_identities().is_empty() {
                    failures.push((age_key.recipient.clone(), no_identities_reason(keyring)));
                    continue;
                }
                match age::decrypt(age_key.enc.as_bytes(), keyring.age_identities()) {
                    Ok(part) => return (Some(part), failures),
                    Err(e) => failures.push((
                        age_key.recipient.clone(),
                        format!("failed to create reader for decrypting sops data key with age: {e}"),
                    )),
                }
            }
            MasterKey::Other(other) => {
                failures.push((key.describe(), format!("{} keys are not supported by sealops", other.kind.field())))
            }
        }
    }
    (None, failures)
}

fn no_identities_reason(keyring: &Keyring) -> String {
    let locations: Vec<String> = keyring.locations().iter().map(|l| format!("'{l}'")).collect();
    let listed = match locations.len() {
        0 => String::from("any location"),
        1 => format!("location {}", locations[0]),
        n => format!("locations {}, and {}", locations[..n - 1].join(", "), locations[n - 1]),
    };
    format!("failed to load age identities. Did not find keys in {listed}.")
}

/// Wraps `key` for every master key, splitting it with Shamir when there are several groups.
/// Fills in `shamir_threshold` when it is unset and there are ≥ 2 groups, as sops does.
pub fn wrap(meta: &mut Metadata, key: &DataKey) -> Result<(), DataKeyError> {
    let groups = meta.key_groups.len();
    if groups == 0 {
        return Err(DataKeyError::NoGroups);
    }
    if meta.key_groups.iter().any(|g| g.keys.is_empty()) {
        return Err(DataKeyError::EmptyGroup);
    }
    let parts: Vec<SecretBytes> = if groups == 1 {
        vec![SecretBytes::from_slice(key.expose())]
    } else {
        if meta.shamir_threshold == 0 {
            meta.shamir_threshold = groups;
        }
        shamir::split(key.expose(), groups, meta.shamir_threshold).map_err(DataKeyError::Split)?
    };
    for (group, part) in meta.key_groups.iter_mut().zip(parts.iter()) {
        for master in group.keys.iter_mut() {
            match master {
                MasterKey::Age(age_key) => {
                    let recipient = Recipient::parse(&age_key.recipient)
                        .map_err(|e| DataKeyError::Wrap { key: age_key.recipient.clone(), reason: e.to_string() })?;
                    age_key.enc = age::encrypt(part.expose(), &recipient)
                        .map_err(|e| DataKeyError::Wrap { key: age_key.recipient.clone(), reason: e.to_string() })?;
                }
                MasterKey::Other(other) => {
                    return Err(DataKeyError::CannotWrap {
                        kind: other.kind.field(),
                        key: MasterKey::Other(other.clone()).describe(),
                    });
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::age::Identity;
    use crate::sops::metadata::AgeKey;
    use crate::sops::rules::Selection;

    fn group_for(ids: &[&Identity]) -> KeyGroup {
        KeyGroup {
            keys: ids
                .iter()
                .map(|id| MasterKey::Age(AgeKey { recipient: id.recipient(), enc: String::new() }))
                .collect(),
        }
    }

    fn ring(ids: &[&Identity]) -> Keyring {
        let mut r = Keyring::new();
        r.add_age("test", ids.iter().map(|i| (*i).clone()));
        r
    }

    #[test]
    fn single_group_round_trip() {
        let (a, b) = (Identity::generate(), Identity::generate());
        let mut meta = Metadata::new(vec![group_for(&[&a, &b])], 0, Some(Selection::default_rule()), false);
        let key = DataKey::generate();
        wrap(&mut meta, &key).unwrap();
        let order: Vec<String> = DEFAULT_DECRYPTION_ORDER.iter().map(|s| s.to_string()).collect();
        assert!(unwrap(&meta, &ring(&[&b]), &order).unwrap() == key);
        let Err(err) = unwrap(&meta, &ring(&[&Identity::generate()]), &order) else { panic!("a wrong key must fail") };
        let text = err.to_string();
        assert!(text.starts_with("Failed to get the data key required to decrypt the SOPS file."), "{text}");
        assert!(text.contains("Group 0: FAILED"), "{text}");
        assert!(text.contains("did not match any of the recipients"), "{text}");
    }

    #[test]
    fn shamir_two_of_three() {
        let ids = [Identity::generate(), Identity::generate(), Identity::generate()];
        let groups = ids.iter().map(|i| group_for(&[i])).collect();
        let mut meta = Metadata::new(groups, 2, Some(Selection::default_rule()), false);
        let key = DataKey::generate();
        wrap(&mut meta, &key).unwrap();
        let order = vec!["age".to_owned()];
        assert!(unwrap(&meta, &ring(&[&ids[0], &ids[2]]), &order).unwrap() == key);
        let Err(err) = unwrap(&meta, &ring(&[&ids[1]]), &order) else { panic!("one share is not enough") };
        let err = err.to_string().split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(err.contains("Shamir threshold of 2, but only 1 part(s)"), "{err}");
    }

    #[test]
    fn threshold_defaults_to_group_count() {
        let ids = [Identity::generate(), Identity::generate()];
        let mut meta = Metadata::new(ids.iter().map(|i| group_for(&[i])).collect(), 0, None, false);
        wrap(&mut meta, &DataKey::generate()).unwrap();
        assert_eq!(meta.shamir_threshold, 2);
    }

    #[test]
    fn decryption_order_rejects_duplicates() {
        assert_eq!(parse_decryption_order("age, pgp").unwrap(), vec!["age", "pgp"]);
        assert!(matches!(parse_decryption_order("age,age"), Err(DataKeyError::DuplicateOrder(_))));
    }
}
