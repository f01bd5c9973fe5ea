//! Which leaves get encrypted: the six mutually exclusive selection rules.
//!
//! `sops.go`, `Tree.shouldBeEncrypted`: suffix and regex rules look at **every key on the path**
//! (so `encrypted_regex: ^data$` encrypts the whole `data:` subtree); comment rules look at the
//! comments that precede the leaf at each nesting level. With no rule, sops assumes
//! `unencrypted_suffix: _unencrypted`; the binary store uses no rule at all.

use regex::Regex;

/// The default rule when none is configured.
pub const DEFAULT_UNENCRYPTED_SUFFIX: &str = "_unencrypted";

/// One selection rule.
#[derive(Clone, Debug)]
pub enum Selection {
    UnencryptedSuffix(String),
    EncryptedSuffix(String),
    UnencryptedRegex(Regex),
    EncryptedRegex(Regex),
    UnencryptedCommentRegex(Regex),
    EncryptedCommentRegex(Regex),
}

/// The metadata field names, in the order sops lists them in its conflict message.
pub const RULE_FIELDS: [&str; 6] = [
    "encrypted_suffix",
    "unencrypted_suffix",
    "encrypted_regex",
    "unencrypted_regex",
    "encrypted_comment_regex",
    "unencrypted_comment_regex",
];

#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error(
        "Cannot use more than one of encrypted_suffix, unencrypted_suffix, encrypted_regex, unencrypted_regex, encrypted_comment_regex, or unencrypted_comment_regex in the same file"
    )]
    Conflict,
    #[error("invalid {field} {pattern:?}: {message}")]
    BadRegex { field: &'static str, pattern: String, message: String },
    #[error("unknown selection rule {0:?}")]
    Unknown(String),
}

impl Selection {
    /// Builds a rule from its metadata field name and value.
    pub fn from_field(field: &str, value: &str) -> Result<Self, RuleError> {
        let regex = |field: &'static str| {
            Regex::new(value).map_err(|e| RuleError::BadRegex {
                field,
                pattern: value.to_owned(),
                message: e.to_string(),
            })
        };
        Ok(match field {
            "unencrypted_suffix" => Selection::UnencryptedSuffix(value.to_owned()),
            "encrypted_suffix" => Selection::EncryptedSuffix(value.to_owned()),
            "unencrypted_regex" => Selection::UnencryptedRegex(regex("unencrypted_regex")?),
            "encrypted_regex" => Selection::EncryptedRegex(regex("encrypted_regex")?),
            "unencrypted_comment_regex" => Selection::UnencryptedCommentRegex(regex("unencrypted_comment_regex")?),
            "encrypted_comment_regex" => Selection::EncryptedCommentRegex(regex("encrypted_comment_regex")?),
            other => return Err(RuleError::Unknown(other.to_owned())),
        })
    }

    /// Picks at most one rule out of `(field, value)` pairs; empty values count as unset.
    pub fn from_fields<'a>(fields: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Option<Self>, RuleError> {
        let mut chosen = None;
        for (field, value) in fields {
            if value.is_empty() {
                continue;
            }
            if chosen.is_some() {
                return Err(RuleError::Conflict);
            }
            chosen = Some(Self::from_field(field, value)?);
        }
        Ok(chosen)
    }

    pub fn default_rule() -> Self {
        Selection::UnencryptedSuffix(DEFAULT_UNENCRYPTED_SUFFIX.to_owned())
    }

    /// The metadata field and value of this rule.
    pub fn field(&self) -> (&'static str, &str) {
        match self {
            Selection::UnencryptedSuffix(s) => ("unencrypted_suffix", s),
            Selection::EncryptedSuffix(s) => ("encrypted_suffix", s),
            Selection::UnencryptedRegex(r) => ("unencrypted_regex", r.as_str()),
            Selection::EncryptedRegex(r) => ("encrypted_regex", r.as_str()),
            Selection::UnencryptedCommentRegex(r) => ("unencrypted_comment_regex", r.as_str()),
            Selection::EncryptedCommentRegex(r) => ("encrypted_comment_regex", r.as_str()),
        }
    }

    /// For a rule on keys: whether a value is encrypted when some key on its path matches
    /// (`Some(true)` for the `encrypted_*` rules, `Some(false)` for the `unencrypted_*` ones).
    /// `None` for the comment rules, which look at comments instead.
    pub fn encrypts_matching_paths(&self) -> Option<bool> {
        match self {
            Selection::EncryptedSuffix(_) | Selection::EncryptedRegex(_) => Some(true),
            Selection::UnencryptedSuffix(_) | Selection::UnencryptedRegex(_) => Some(false),
            Selection::UnencryptedCommentRegex(_) | Selection::EncryptedCommentRegex(_) => None,
        }
    }

    /// Whether one key matches a rule on keys (always false for the comment rules).
    pub fn key_matches(&self, key: &str) -> bool {
        match self {
            Selection::UnencryptedSuffix(s) | Selection::EncryptedSuffix(s) => key.ends_with(s.as_str()),
            Selection::UnencryptedRegex(r) | Selection::EncryptedRegex(r) => r.is_match(key),
            Selection::UnencryptedCommentRegex(_) | Selection::EncryptedCommentRegex(_) => false,
        }
    }

    /// The unencrypted-comment regex, which encryption must not produce a match for.
    pub fn unencrypted_comment_regex(&self) -> Option<&Regex> {
        match self {
            Selection::UnencryptedCommentRegex(r) => Some(r),
            _ => None,
        }
    }
}

/// The comments seen since the last value, per nesting level (sops's `commentsStack`).
#[derive(Default)]
pub struct CommentStack {
    levels: Vec<Vec<String>>,
}

impl CommentStack {
    pub fn push_level(&mut self) {
        self.levels.push(Vec::new());
    }

    pub fn pop_level(&mut self) {
        self.levels.pop();
    }

    /// Records a comment at the current level (its current text: ciphertext when decrypting).
    pub fn push_comment(&mut self, text: String) {
        if let Some(level) = self.levels.last_mut() {
            level.push(text);
        }
    }

    /// A value was seen at the current level: its comments no longer apply.
    pub fn clear_current(&mut self) {
        if let Some(level) = self.levels.last_mut() {
            level.clear();
        }
    }

    pub fn is_tracking(&self) -> bool {
        !self.levels.is_empty()
    }
}

/// `shouldBeEncrypted`: `path` holds every key from the root to the leaf; `is_comment` is true
/// when the leaf is itself a comment (the last comment of the innermost level).
pub fn should_encrypt<P: AsRef<str>>(
    rule: Option<&Selection>,
    path: &[P],
    comments: &CommentStack,
    is_comment: bool,
) -> bool {
    let Some(rule) = rule else { return true };
    let any_key_matches = || path.iter().any(|p| rule.key_matches(p.as_ref()));
    match rule {
        Selection::UnencryptedSuffix(_) | Selection::UnencryptedRegex(_) => !any_key_matches(),
        Selection::EncryptedSuffix(_) | Selection::EncryptedRegex(_) => any_key_matches(),
        Selection::UnencryptedCommentRegex(r) => !comments.levels.iter().flatten().any(|c| r.is_match(c)),
        Selection::EncryptedCommentRegex(r) => {
            let last_level = comments.levels.len().saturating_sub(1);
            comments.levels.iter().enumerate().any(|(i, level)| {
                level.iter().enumerate().any(|(j, c)| {
                    // The marker comment itself stays readable: skip the leaf's own line.
                    let is_self = is_comment && i == last_level && j + 1 == level.len();
                    !is_self && r.is_match(c)
                })
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack(levels: &[&[&str]]) -> CommentStack {
        CommentStack { levels: levels.iter().map(|l| l.iter().map(|s| s.to_string()).collect()).collect() }
    }

    #[test]
    fn path_rules_look_at_every_component() {
        let none = CommentStack::default();
        let rule = Selection::from_field("encrypted_regex", "^data$").unwrap();
        assert!(should_encrypt(Some(&rule), &["data", "password"], &none, false));
        assert!(!should_encrypt(Some(&rule), &["metadata", "name"], &none, false));
        assert!(!should_encrypt(Some(&rule), &[] as &[&str], &none, true), "top-level comments stay clear");
        let rule = Selection::default_rule();
        assert!(!should_encrypt(Some(&rule), &["a_unencrypted", "b"], &none, false));
        assert!(should_encrypt(Some(&rule), &["a", "b"], &none, false));
        assert!(should_encrypt(None, &[] as &[&str], &none, true));
    }

    #[test]
    fn comment_rules() {
        let rule = Selection::from_field("encrypted_comment_regex", "sops:enc").unwrap();
        assert!(should_encrypt(Some(&rule), &["k"], &stack(&[&[" sops:enc"]]), false));
        assert!(!should_encrypt(Some(&rule), &["k"], &stack(&[&[" other"]]), false));
        // The marker itself is not encrypted, but a comment after it is.
        assert!(!should_encrypt(Some(&rule), &[] as &[&str], &stack(&[&[" sops:enc"]]), true));
        assert!(should_encrypt(Some(&rule), &[] as &[&str], &stack(&[&[" sops:enc", " next"]]), true));
        let rule = Selection::from_field("unencrypted_comment_regex", "plain").unwrap();
        assert!(!should_encrypt(Some(&rule), &["k"], &stack(&[&[" plain"], &[]]), false));
    }

    #[test]
    fn at_most_one_rule() {
        let two = Selection::from_fields([("encrypted_regex", "a"), ("unencrypted_suffix", "_x")]);
        assert!(matches!(two, Err(RuleError::Conflict)));
        assert!(Selection::from_fields([("encrypted_regex", ""), ("unencrypted_suffix", "")]).unwrap().is_none());
        assert!(matches!(Selection::from_field("encrypted_regex", "("), Err(RuleError::BadRegex { .. })));
    }
}
