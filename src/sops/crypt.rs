//! Encrypting and decrypting a whole tree, and the MAC over it.
//!
//! The walk follows `sops.go` (`walkBranch`/`walkSlice`/`walkValue`) exactly, because both the
//! per-value AAD and the MAC depend on it: leaves are visited in document order; a map entry
//! extends the path by its key, a list element does not; a comment's AAD is the path of the map
//! or list holding it; `null` is skipped. The MAC is SHA-512 over the plaintext bytes of every
//! value (only the encrypted ones with `mac_only_encrypted`, after a fixed 32-byte prefix),
//! printed as upper-case hex and stored encrypted with `lastmodified` as AAD.

use sha2::{Digest, Sha512};

use super::metadata::Metadata;
use super::rules::{CommentStack, Selection, should_encrypt};
use super::scalar::{self, ScalarError};
use super::tree::{Branch, Comment, Element, Item, Key, Scalar, Value};
use super::value::{ValueCipher, ValueError};
use crate::crypto::SecretBytes;

/// SHA-256("sops"): the MAC's prefix when `mac_only_encrypted` is set, so the two kinds of MAC
/// can never collide (`sops.go`, `MACOnlyEncryptedInitialization`).
const MAC_ONLY_ENCRYPTED_PREFIX: [u8; 32] = [
    0x8a, 0x3f, 0xd2, 0xad, 0x54, 0xce, 0x66, 0x52, 0x7b, 0x10, 0x34, 0xf3, 0xd1, 0x47, 0xbe, 0x0b, 0x0b, 0x97, 0x5b,
    0x3b, 0xf4, 0x4f, 0x72, 0xc6, 0xfd, 0xad, 0xec, 0x81, 0x76, 0xf2, 0x7d, 0x69,
];

#[derive(Debug, thiserror::Error)]
pub enum CryptError {
    #[error("Tree contains a non-string key (type {kind}): {text}. Only string keys are supported")]
    NonStringKey { kind: &'static str, text: String },
    #[error(transparent)]
    Scalar(#[from] ScalarError),
    /// A value failed to decrypt: tampered, moved to another key, or the wrong data key.
    #[error("Could not decrypt value at {}: {source}", shown(path))]
    Decrypt { path: String, source: ValueError },
    #[error("Could not encrypt value at {}: {source}", shown(path))]
    Encrypt { path: String, source: ValueError },
    #[error("Expected encrypted value as string, but got {kind} at {}", shown(path))]
    NotEncrypted { path: String, kind: &'static str },
    #[error(
        "Encrypted comment {0:?} matches UnencryptedCommentRegex! Make sure that UnencryptedCommentRegex cannot match an encrypted comment."
    )]
    CommentMatchesRegex(String),
    #[error("Cannot decrypt MAC: {0}")]
    MacDecrypt(ValueError),
    #[error("MAC mismatch. File has {stored}, computed {computed}")]
    MacMismatch { stored: String, computed: String },
}

/// A leaf's path for messages: the AAD without its trailing `:` (the top level is `(top)`).
fn shown(aad: &str) -> &str {
    match aad.strip_suffix(':') {
        Some("") | None => "(top)",
        Some(p) => p,
    }
}

impl CryptError {
    pub fn kind(&self) -> &'static str {
        match self {
            CryptError::NonStringKey { .. }
            | CryptError::Scalar(_)
            | CryptError::Encrypt { .. }
            | CryptError::CommentMatchesRegex(_) => "encrypt_tree",
            CryptError::Decrypt { .. } | CryptError::NotEncrypted { .. } => "decrypt_tree",
            CryptError::MacDecrypt(_) | CryptError::MacMismatch { .. } => "mac_mismatch",
        }
    }
}

/// A leaf of the tree, borrowed for the crypto pass.
enum Leaf<'a> {
    Value(&'a mut Scalar),
    /// A scalar list element. Held as the element because sops 3.11 writes a comment inside a
    /// list as an item (`- ENC[…,type:comment]`), which decrypts back into a comment.
    Item(&'a mut Element),
    Comment(&'a mut Comment),
}

/// The scalar of a list element (always one for a [`Leaf::Item`] before decryption).
fn item_scalar(element: &Element) -> Option<&Scalar> {
    match element {
        Element::Value(Value::Scalar(s)) => Some(s),
        _ => None,
    }
}

impl Leaf<'_> {
    /// The value this leaf holds, if it is one.
    fn scalar(&self) -> Option<&Scalar> {
        match self {
            Leaf::Value(v) => Some(v),
            Leaf::Item(e) => item_scalar(e),
            Leaf::Comment(_) => None,
        }
    }
}

/// One leaf with what the walk decided about it.
struct Job<'a> {
    leaf: Leaf<'a>,
    /// Where its AAD (the path joined by `:` plus a trailing `:`) sits in [`Collected::aads`].
    aad: std::ops::Range<usize>,
    encrypt: bool,
}

/// The leaves of a tree and, in one buffer, their AADs.
struct Collected<'a> {
    jobs: Vec<Job<'a>>,
    aads: String,
}

/// Collects the leaves in document order, deciding for each whether it is encrypted and with
/// which AAD. Deciding everything before any value changes matters for the comment rules:
/// sops keeps the comment text as it was when it walked past it.
struct Collector<'r, 'a> {
    rule: Option<&'r Selection>,
    path: Vec<&'a str>,
    comments: CommentStack,
    jobs: Vec<Job<'a>>,
    aads: String,
}

impl<'a> Collector<'_, 'a> {
    fn branch(&mut self, items: &'a mut Branch) -> Result<(), CryptError> {
        self.comments.push_level();
        for item in items.iter_mut() {
            match item {
                Item::Comment(c) => {
                    self.comments.push_comment(lossy(&c.text));
                    self.leaf(Leaf::Comment(c));
                }
                Item::Pair { key, value } => {
                    let key: &'a Key = key;
                    let key = match key {
                        Key::Str(k) => k.as_str(),
                        Key::Other { text, kind } => return Err(CryptError::NonStringKey { kind, text: text.clone() }),
                    };
                    self.path.push(key);
                    let walked = self.value(value);
                    self.path.pop();
                    walked?;
                    self.comments.clear_current();
                }
            }
        }
        self.comments.pop_level();
        Ok(())
    }

    fn list(&mut self, elements: &'a mut [Element]) -> Result<(), CryptError> {
        self.comments.push_level();
        for element in elements.iter_mut() {
            match element {
                Element::Comment(c) => {
                    self.comments.push_comment(lossy(&c.text));
                    self.leaf(Leaf::Comment(c));
                }
                Element::Value(Value::Scalar(s)) if !matches!(s, Scalar::Uint(_)) => {
                    self.leaf(Leaf::Item(element));
                    self.comments.clear_current();
                }
                Element::Value(v) => {
                    self.value(v)?;
                    self.comments.clear_current();
                }
            }
        }
        self.comments.pop_level();
        Ok(())
    }

    fn value(&mut self, value: &'a mut Value) -> Result<(), CryptError> {
        match value {
            Value::Null => Ok(()),
            Value::Scalar(Scalar::Uint(_)) => Err(ScalarError::Unsupported("uint64").into()),
            Value::Scalar(s) => {
                self.leaf(Leaf::Value(s));
                Ok(())
            }
            Value::Map(m) => self.branch(m),
            Value::List(l) => self.list(l),
        }
    }

    fn leaf(&mut self, leaf: Leaf<'a>) {
        let is_comment = matches!(leaf, Leaf::Comment(_));
        let encrypt = should_encrypt(self.rule, &self.path, &self.comments, is_comment);
        let start = self.aads.len();
        push_aad(&mut self.aads, &self.path);
        self.jobs.push(Job { leaf, aad: start..self.aads.len(), encrypt });
    }
}

fn collect<'a>(docs: &'a mut [Branch], meta: &Metadata) -> Result<Collected<'a>, CryptError> {
    let mut c = Collector {
        rule: meta.rule.as_ref(),
        path: Vec::new(),
        comments: CommentStack::default(),
        jobs: Vec::new(),
        aads: String::new(),
    };
    for doc in docs.iter_mut() {
        c.branch(doc)?;
    }
    Ok(Collected { jobs: c.jobs, aads: c.aads })
}

/// Below this many leaves, threads cost more than they save.
const PARALLEL_MIN: usize = 512;

/// Runs `f` on every job, split across the machine's cores. The error reported is the one of
/// the first failing job in document order, as a sequential walk would report it.
fn for_each_job<'a, F>(jobs: &mut [Job<'a>], f: F) -> Result<(), CryptError>
where
    F: Fn(&mut Job<'a>) -> Result<(), CryptError> + Sync,
{
    let threads =
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(jobs.len() / PARALLEL_MIN).max(1);
    if threads == 1 {
        return jobs.iter_mut().try_for_each(f);
    }
    let chunk = jobs.len().div_ceil(threads);
    let results: Vec<Result<(), CryptError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .chunks_mut(chunk)
            .map(|part| {
                let f = &f;
                scope.spawn(move || part.iter_mut().try_for_each(f))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect()
    });
    // Chunks are in document order, so the first error found is the first in the document.
    results.into_iter().collect()
}

fn lossy(text: &SecretBytes) -> String {
    String::from_utf8_lossy(text.expose()).into_owned()
}

/// Appends the AAD of a leaf: the path joined by `:`, plus a trailing `:`.
fn push_aad<P: AsRef<str>>(out: &mut String, path: &[P]) {
    for p in path {
        out.push_str(p.as_ref());
        out.push(':');
    }
    if path.is_empty() {
        out.push(':');
    }
}

/// A hasher for the MAC of a file with `meta`'s settings, before any value.
pub fn new_hasher(meta: &Metadata) -> Sha512 {
    let mut h = Sha512::new();
    if meta.mac_only_encrypted {
        h.update(MAC_ONLY_ENCRYPTED_PREFIX);
    }
    h
}

/// The MAC as sops stores it: the digest in upper-case hex.
pub fn finish_mac(hasher: Sha512) -> String {
    hex_upper(&hasher.finalize())
}

fn hex_upper(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 15)] as char);
    }
    out
}

/// Hashes the values the MAC covers, in document order.
fn mac_of(jobs: &[Job<'_>], meta: &Metadata) -> Result<String, CryptError> {
    let mut hasher = new_hasher(meta);
    for job in jobs {
        if let Some(value) = job.leaf.scalar()
            && (!meta.mac_only_encrypted || job.encrypt)
        {
            hasher.update(scalar::plaintext(value)?);
        }
    }
    Ok(hex_upper(&hasher.finalize()))
}

/// Maps `f` over `items` on all cores, keeping the order. The error reported is the first in
/// document order.
fn par_map<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(&T) -> Result<R, CryptError> + Sync,
) -> Result<Vec<R>, CryptError> {
    let threads =
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(items.len() / PARALLEL_MIN).max(1);
    if threads == 1 {
        return items.iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let parts: Vec<Result<Vec<R>, CryptError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| {
                let f = &f;
                scope.spawn(move || part.iter().map(f).collect::<Result<Vec<R>, CryptError>>())
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect()
    });
    let mut out = Vec::with_capacity(items.len());
    for part in parts {
        out.extend(part?);
    }
    Ok(out)
}

/// Encrypts every selected leaf in place and returns the MAC (hex) of the plaintext.
///
/// The MAC is hashed on its own thread while the values are encrypted on the others: both only
/// read the plaintext, and the ciphertexts are put in place once both are done.
pub fn encrypt_tree(docs: &mut [Branch], meta: &Metadata, cipher: &ValueCipher) -> Result<String, CryptError> {
    let Collected { mut jobs, aads } = collect(docs, meta)?;
    let unencrypted_comment_regex = meta.rule.as_ref().and_then(Selection::unencrypted_comment_regex);
    let seal = |job: &Job<'_>| -> Result<Option<Vec<u8>>, CryptError> {
        if !job.encrypt {
            return Ok(None);
        }
        let aad = &aads[job.aad.clone()];
        match &job.leaf {
            Leaf::Value(_) | Leaf::Item(_) => {
                let value =
                    job.leaf.scalar().ok_or_else(|| CryptError::NotEncrypted { path: aad.to_owned(), kind: "list" })?;
                let sealed = cipher
                    .encrypt_to_bytes(value, aad)
                    .map_err(|source| CryptError::Encrypt { path: aad.to_owned(), source })?;
                Ok(Some(sealed))
            }
            Leaf::Comment(comment) => {
                let sealed = cipher.encrypt_bytes("comment", comment.text.expose(), aad).unwrap_or_default();
                if let Some(re) = unencrypted_comment_regex
                    && re.is_match(&sealed)
                {
                    return Err(CryptError::CommentMatchesRegex(sealed));
                }
                Ok(Some(sealed.into_bytes()))
            }
        }
    };
    let (mac, sealed) = std::thread::scope(|scope| {
        let jobs = &jobs;
        let hasher = scope.spawn(move || mac_of(jobs, meta));
        let sealed = par_map(jobs, seal);
        (hasher.join().unwrap_or_else(|p| std::panic::resume_unwind(p)), sealed)
    });
    let (mac, sealed) = (mac?, sealed?);
    for (job, sealed) in jobs.iter_mut().zip(sealed) {
        let Some(sealed) = sealed else { continue };
        match &mut job.leaf {
            Leaf::Value(value) => **value = Scalar::Str(SecretBytes::from(sealed)),
            Leaf::Item(element) => **element = Element::Value(Value::Scalar(Scalar::Str(SecretBytes::from(sealed)))),
            Leaf::Comment(comment) => comment.text = SecretBytes::from(sealed),
        }
    }
    Ok(mac)
}

/// What decryption found besides the plaintext.
pub struct Decrypted {
    /// For each value, in document order: whether the MAC covers it.
    mac_plan: Vec<bool>,
    /// Comments in encrypted positions that were not encrypted (files from old sops versions);
    /// they are kept as they are.
    pub plaintext_comments: usize,
}

/// Decrypts every selected leaf in place. The MAC is computed separately ([`mac`]), so that a
/// caller can hash and write the plaintext at the same time.
pub fn decrypt_tree(docs: &mut [Branch], meta: &Metadata, cipher: &ValueCipher) -> Result<Decrypted, CryptError> {
    let Collected { mut jobs, aads } = collect(docs, meta)?;
    let plaintext_comments = std::sync::atomic::AtomicUsize::new(0);
    let other_paths = std::sync::OnceLock::new();
    let job_aads: Vec<std::ops::Range<usize>> = jobs.iter().map(|j| j.aad.clone()).collect();
    for_each_job(&mut jobs, |job| {
        if !job.encrypt {
            return Ok(());
        }
        let aad = &aads[job.aad.clone()];
        let failed = |source: ValueError| CryptError::Decrypt { path: aad.to_owned(), source };
        let open = |text: &mut SecretBytes| cipher.decrypt_in_place(text, aad).map_err(failed);
        // A value whose envelope says another type than `str` is parsed back into that type.
        let typed =
            |kind, text: &mut SecretBytes| scalar::from_plaintext(kind, text.take()).map_err(|e| failed(e.into()));
        match &mut job.leaf {
            Leaf::Value(value) => {
                let Scalar::Str(text) = &mut **value else {
                    return Err(CryptError::NotEncrypted { path: aad.to_owned(), kind: value.type_name() });
                };
                let kind = open(text)?;
                if kind != "str" {
                    **value = typed(kind, text)?;
                }
            }
            Leaf::Item(element) => {
                let Element::Value(Value::Scalar(Scalar::Str(text))) = &mut **element else {
                    let kind = item_scalar(element).map_or("list", Scalar::type_name);
                    return Err(CryptError::NotEncrypted { path: aad.to_owned(), kind });
                };
                let kind = open(text)?;
                if kind == "comment" {
                    **element = Element::Comment(Comment { text: text.take(), inline: false });
                } else if kind != "str" {
                    **element = Element::Value(Value::Scalar(typed(kind, text)?));
                }
            }
            Leaf::Comment(comment) => {
                let opened = cipher.decrypt_in_place(&mut comment.text, aad).is_ok() || {
                    // go-yaml does not always put a comment back where it was when the file
                    // was written (sops cannot open some of its own such comments); try the
                    // other collections of the document before giving up.
                    let paths = other_paths.get_or_init(|| collection_paths(&aads, &job_aads));
                    paths.iter().any(|p| cipher.decrypt_in_place(&mut comment.text, p).is_ok())
                };
                if !opened {
                    // Assume the comment was never encrypted (files from old sops versions).
                    plaintext_comments.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }
        Ok(())
    })?;
    // A list item that decrypted to a comment is no longer a value: it is not hashed (sops 3.11
    // hashes only what decrypts to a value, which is how its own such files verify).
    let mac_plan =
        jobs.iter().filter(|j| j.leaf.scalar().is_some()).map(|j| !meta.mac_only_encrypted || j.encrypt).collect();
    let plaintext_comments = plaintext_comments.into_inner();
    if plaintext_comments > 0 {
        // The comment text is deliberately not logged: it may be plaintext.
        tracing::warn!(
            count = plaintext_comments,
            "Found possibly unencrypted comment in file. This is to be expected if the file being decrypted was created with an older version of SOPS."
        );
    }
    Ok(Decrypted { mac_plan, plaintext_comments })
}

/// Every collection path of a document, from the AADs of its leaves: each AAD and each of its
/// `:`-ended prefixes (the root is `:`), deduplicated.
fn collection_paths<'a>(aads: &'a str, ranges: &[std::ops::Range<usize>]) -> Vec<&'a str> {
    let mut paths: Vec<&str> = vec![":"];
    for range in ranges {
        let aad = &aads[range.clone()];
        paths.extend(aad.match_indices(':').map(|(i, _)| &aad[..=i]));
    }
    paths.sort_unstable();
    paths.dedup();
    paths
}

/// The MAC (hex) of decrypted documents: SHA-512 over the values the plan marks, in document
/// order. Only reads the tree.
pub fn mac(docs: &[Branch], decrypted: &Decrypted, meta: &Metadata) -> Result<String, CryptError> {
    let mut values = Vec::with_capacity(decrypted.mac_plan.len());
    for doc in docs {
        collect_values(doc, &mut values);
    }
    let mut hasher = new_hasher(meta);
    for (value, covered) in values.into_iter().zip(&decrypted.mac_plan) {
        if *covered {
            hasher.update(scalar::plaintext(value)?);
        }
    }
    Ok(hex_upper(&hasher.finalize()))
}

/// The scalar values of a map, in the walk's order (comments and nulls skipped).
fn collect_values<'a>(items: &'a [Item], out: &mut Vec<&'a Scalar>) {
    for item in items {
        if let Item::Pair { value, .. } = item {
            collect_value(value, out);
        }
    }
}

fn collect_value<'a>(value: &'a Value, out: &mut Vec<&'a Scalar>) {
    match value {
        Value::Null => {}
        Value::Scalar(s) => out.push(s),
        Value::Map(m) => collect_values(m, out),
        Value::List(l) => {
            for e in l {
                if let Element::Value(v) = e {
                    collect_value(v, out);
                }
            }
        }
    }
}

/// Encrypts a MAC for storage, bound to `lastmodified`.
pub fn seal_mac(mac: &str, meta: &Metadata, cipher: &ValueCipher) -> String {
    cipher.encrypt_bytes("str", mac.as_bytes(), &meta.last_modified.rfc3339()).unwrap_or_default()
}

/// Decrypts the stored MAC (`""` for a file without one).
pub fn open_mac(meta: &Metadata, cipher: &ValueCipher) -> Result<String, CryptError> {
    let (plain, _) = cipher.decrypt_bytes(&meta.mac, &meta.last_modified.rfc3339()).map_err(CryptError::MacDecrypt)?;
    Ok(String::from_utf8_lossy(plain.expose()).into_owned())
}

/// Checks the stored MAC against one computed over the decrypted values.
pub fn verify_mac(meta: &Metadata, cipher: &ValueCipher, computed: &str) -> Result<(), CryptError> {
    let stored = open_mac(meta, cipher)?;
    if stored != computed {
        return Err(CryptError::MacMismatch {
            stored: if stored.is_empty() { "no MAC".to_owned() } else { stored },
            computed: computed.to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::DataKey;
    use crate::sops::metadata::{AgeKey, KeyGroup, MasterKey};

    fn meta(rule: Option<Selection>, mac_only: bool) -> Metadata {
        Metadata::new(
            vec![KeyGroup { keys: vec![MasterKey::Age(AgeKey { recipient: "age1x".into(), enc: String::new() })] }],
            0,
            rule,
            mac_only,
        )
    }

    fn pair(k: &str, v: Value) -> Item {
        Item::Pair { key: k.into(), value: v }
    }

    /// The worked example of the spec: `gen311_basic.plain.yaml` hashes, in order, `admin`,
    /// `hunter2`, `8080`, `1.5`, `True`, ``, `2024-01-02T03:04:05Z`, `a`, `2`, `x`, `visible`,
    /// and sops stored `96B253D6…CAC02D` as its MAC.
    #[test]
    fn mac_over_values_in_walk_order() {
        let when = crate::sops::gotime::GoTime::parse_yaml("2024-01-02T03:04:05Z").unwrap();
        let app = Value::Map(vec![
            pair("user", Value::str("admin")),
            Item::Comment(Comment::new(" inline comment")),
            pair("password", Value::str("hunter2")),
            pair("port", Value::Scalar(Scalar::Int(8080))),
            pair("ratio", Value::Scalar(Scalar::Float(1.5))),
            pair("enabled", Value::Scalar(Scalar::Bool(true))),
            pair("nothing", Value::Null),
            pair("empty", Value::str("")),
            pair("when", Value::Scalar(Scalar::Time(when))),
            pair(
                "list",
                Value::List(vec![
                    Element::Value(Value::str("a")),
                    Element::Value(Value::Scalar(Scalar::Int(2))),
                    Element::Value(Value::Map(vec![pair("nested", Value::str("x"))])),
                ]),
            ),
        ]);
        let mut docs = vec![vec![
            Item::Comment(Comment::new(" top comment")),
            pair("app", app),
            pair("public_unencrypted", Value::str("visible")),
        ]];
        let m = meta(Some(Selection::default_rule()), false);
        let cipher = ValueCipher::new(&DataKey::generate());
        let mac = encrypt_tree(&mut docs, &m, &cipher).unwrap();
        assert!(mac.starts_with("96B253D6DEA28DDE"), "{mac}");
        assert!(mac.ends_with("CAC02D"), "{mac}");
        let decrypted = decrypt_tree(&mut docs, &m, &cipher).unwrap();
        assert_eq!(super::mac(&docs, &decrypted, &m).unwrap(), mac);
        assert_eq!(decrypted.plaintext_comments, 0);
    }

    #[test]
    fn non_string_keys_are_refused() {
        let mut docs =
            vec![vec![Item::Pair { key: Key::Other { text: "1".into(), kind: "int" }, value: Value::str("a") }]];
        let err = encrypt_tree(&mut docs, &meta(None, false), &ValueCipher::new(&DataKey::generate())).unwrap_err();
        assert_eq!(err.to_string(), "Tree contains a non-string key (type int): 1. Only string keys are supported");
    }

    #[test]
    fn moved_value_fails_to_decrypt() {
        let cipher = ValueCipher::new(&DataKey::generate());
        let m = meta(None, false);
        let mut docs = vec![vec![pair("a", Value::str("secret")), pair("b", Value::str("other"))]];
        encrypt_tree(&mut docs, &m, &cipher).unwrap();
        // Swap the two encrypted values: each now sits under the wrong AAD.
        let doc = &mut docs[0];
        let (left, right) = doc.split_at_mut(1);
        if let (Item::Pair { value: a, .. }, Item::Pair { value: b, .. }) = (&mut left[0], &mut right[0]) {
            std::mem::swap(a, b);
        }
        assert!(matches!(decrypt_tree(&mut docs, &m, &cipher), Err(CryptError::Decrypt { .. })));
    }

    #[test]
    fn mac_only_encrypted_ignores_clear_values() {
        let rule = Selection::from_field("encrypted_regex", "^password$").unwrap();
        let m = meta(Some(rule), true);
        let cipher = ValueCipher::new(&DataKey::generate());
        let mut a = vec![vec![pair("password", Value::str("s")), pair("user", Value::str("x"))]];
        let mut b = vec![vec![pair("password", Value::str("s")), pair("user", Value::str("changed"))]];
        assert_eq!(encrypt_tree(&mut a, &m, &cipher).unwrap(), encrypt_tree(&mut b, &m, &cipher).unwrap());
        // Without the flag the clear value counts, and the prefix keeps the two MACs apart.
        let full = meta(Some(Selection::from_field("encrypted_regex", "^password$").unwrap()), false);
        let mut c = vec![vec![pair("password", Value::str("s")), pair("user", Value::str("x"))]];
        let mut d = vec![vec![pair("password", Value::str("s")), pair("user", Value::str("x"))]];
        assert_ne!(encrypt_tree(&mut c, &full, &cipher).unwrap(), encrypt_tree(&mut d, &m, &cipher).unwrap());
    }
}
