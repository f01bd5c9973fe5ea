//! The operations behind the commands: encrypt, open (decrypt + verify), re-encrypt, rotate,
//! update keys, set, unset, extract, status. Bytes in, bytes out: reading and writing files is
//! the caller's business (the CLI writes atomically).

use super::crypt::{self, CryptError};
use super::datakey::{self, DataKeyError};
use super::metadata::{AgeKey, KeyGroup, MasterKey, Metadata, MetadataError};
use super::path::{self, PathError};
use super::rules::Selection;
use super::store::{Format, Store, StoreError};
use super::tree::{Branch, PathStep, Value};
use super::value::ValueCipher;
use crate::crypto::{DataKey, Keyring, SecretBytes};
use crate::pages::PageVec;

#[derive(Debug, thiserror::Error)]
pub enum OpError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Crypt(#[from] CryptError),
    #[error(transparent)]
    DataKey(#[from] DataKeyError),
    #[error(transparent)]
    Path(#[from] PathError),
    #[error(
        "The file you have provided contains a top-level entry called 'sops', or for flat file formats top-level entries starting with 'sops_'. This is generally due to the file already being encrypted. SOPS uses a top-level entry called 'sops' to store the metadata required to decrypt the file. For this reason, SOPS can not encrypt files that already contain such an entry.\n\nIf this is an unencrypted file, rename the 'sops' entry.\n\nIf this is an encrypted file and you want to edit it, use the editor mode, for example: `sops edit my_file.yaml`"
    )]
    AlreadyEncrypted,
    #[error("no key groups: give recipients with --age, or a .sops.yaml creation rule")]
    NoKeys,
    #[error("error truncating tree: {0}")]
    Extract(PathError),
}

impl OpError {
    /// A stable name for metrics, events and exit-code mapping.
    pub fn kind(&self) -> &'static str {
        match self {
            OpError::Store(e) => e.kind(),
            OpError::Crypt(e) => e.kind(),
            OpError::DataKey(e) => e.kind(),
            OpError::Path(_) => "invalid_tree_path",
            OpError::AlreadyEncrypted => "file_already_encrypted",
            OpError::NoKeys => "no_encryption_key",
            OpError::Extract(_) => "invalid_tree_path",
        }
    }
}

impl From<MetadataError> for OpError {
    fn from(e: MetadataError) -> Self {
        OpError::Store(StoreError::Metadata(e))
    }
}

/// What a new file is encrypted to.
#[derive(Clone)]
pub struct EncryptParams {
    pub key_groups: Vec<KeyGroup>,
    pub shamir_threshold: usize,
    pub rule: Option<Selection>,
    pub mac_only_encrypted: bool,
}

impl EncryptParams {
    /// One group of age recipients, the default rule.
    pub fn age(recipients: &[&str]) -> Self {
        Self {
            key_groups: vec![KeyGroup {
                keys: recipients
                    .iter()
                    .map(|r| MasterKey::Age(AgeKey { recipient: r.trim().to_owned(), enc: String::new() }))
                    .collect(),
            }],
            shamir_threshold: 0,
            rule: None,
            mac_only_encrypted: false,
        }
    }
}

/// How to open a file.
#[derive(Clone)]
pub struct OpenOptions {
    pub ignore_mac: bool,
    /// Remember each value's IV so that re-encrypting leaves unchanged values byte-identical
    /// (needed by set/unset/edit/rotate; plain decryption skips the bookkeeping).
    pub keep_ivs: bool,
    /// Key types in the order to try them (`--decryption-order`).
    pub order: Vec<String>,
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self {
            ignore_mac: false,
            keep_ivs: true,
            order: datakey::DEFAULT_DECRYPTION_ORDER.iter().map(|s| (*s).to_owned()).collect(),
        }
    }
}

/// A decrypted file, ready to be read, changed and encrypted again with the same data key.
pub struct Opened {
    pub docs: Vec<Branch>,
    pub meta: Metadata,
    key: DataKey,
    cipher: ValueCipher,
}

/// Encrypts a plaintext file.
pub fn encrypt(store: &dyn Store, output: &dyn Store, input: &[u8], params: EncryptParams) -> Result<PageVec, OpError> {
    if let (Some(_), Some(json)) = (store.as_json(), output.as_json())
        && let Some(sealed) = super::stream::encrypt(json, input, &params)
    {
        return Ok(sealed);
    }
    encrypt_tree(store, output, input, params).map(PageVec::from)
}

/// [`encrypt`] through the tree: every format, and every error.
pub(super) fn encrypt_tree(
    store: &dyn Store,
    output: &dyn Store,
    input: &[u8],
    params: EncryptParams,
) -> Result<Vec<u8>, OpError> {
    let docs = store.load_plain(input)?;
    if store.has_sops_key(&docs) {
        return Err(OpError::AlreadyEncrypted);
    }
    if docs.is_empty() {
        return Err(StoreError::Empty.into());
    }
    if params.key_groups.iter().all(|g| g.keys.is_empty()) {
        return Err(OpError::NoKeys);
    }
    // The binary store has no selection rule: its single value is always encrypted.
    let rule =
        if store.format() == Format::Binary { None } else { params.rule.or_else(|| Some(Selection::default_rule())) };
    let mut meta = Metadata::new(params.key_groups, params.shamir_threshold, rule, params.mac_only_encrypted);
    let key = DataKey::generate();
    datakey::wrap(&mut meta, &key)?;
    let cipher = ValueCipher::new(&key);
    seal(output, docs, meta, &cipher)
}

fn seal(
    store: &dyn Store,
    mut docs: Vec<Branch>,
    mut meta: Metadata,
    cipher: &ValueCipher,
) -> Result<Vec<u8>, OpError> {
    let mac = crypt::encrypt_tree(&mut docs, &meta, cipher)?;
    meta.last_modified = super::gotime::GoTime::now_utc();
    meta.mac = crypt::seal_mac(&mac, &meta, cipher);
    Ok(store.emit_encrypted_owned(docs, &meta)?)
}

/// Loads and decrypts a file, checking its MAC unless told not to.
pub fn open(store: &dyn Store, input: &[u8], keyring: &Keyring, options: &OpenOptions) -> Result<Opened, OpError> {
    let (opened, decrypted) = decrypt_unverified(store, input, keyring, options)?;
    if !options.ignore_mac {
        let mac = crypt::mac(&opened.docs, &decrypted, &opened.meta)?;
        crypt::verify_mac(&opened.meta, &opened.cipher, &mac)?;
    }
    Ok(opened)
}

fn decrypt_unverified(
    store: &dyn Store,
    input: &[u8],
    keyring: &Keyring,
    options: &OpenOptions,
) -> Result<(Opened, crypt::Decrypted), OpError> {
    let (mut docs, meta) = store.load_encrypted(input)?;
    let key = datakey::unwrap(&meta, keyring, &options.order)?;
    let cipher = if options.keep_ivs { ValueCipher::new(&key) } else { ValueCipher::read_only(&key) };
    let decrypted = crypt::decrypt_tree(&mut docs, &meta, &cipher)?;
    Ok((Opened { docs, meta, key, cipher }, decrypted))
}

/// What `decrypt` prints: the whole file, or one extracted part.
pub enum Output<'p> {
    Whole,
    Extract(&'p [PathStep]),
}

/// `decrypt`: opens a file and writes its plaintext in `output_store`'s format. The MAC is
/// checked on one thread while the plaintext is written on another; nothing is returned unless
/// the MAC matches (or `ignore_mac` is set).
pub fn decrypt(
    store: &dyn Store,
    input: &[u8],
    keyring: &Keyring,
    options: &OpenOptions,
    output_store: &dyn Store,
    output: Output<'_>,
) -> Result<SecretBytes, OpError> {
    if let (Some(_), Some(json), Output::Whole) = (store.as_json(), output_store.as_json(), &output)
        && let Some(plain) = super::stream::decrypt(json, input, keyring, options)
    {
        return Ok(plain);
    }
    decrypt_tree(store, input, keyring, options, output_store, output)
}

/// [`decrypt`] through the tree: every format, `--extract`, and every error.
pub(super) fn decrypt_tree(
    store: &dyn Store,
    input: &[u8],
    keyring: &Keyring,
    options: &OpenOptions,
    output_store: &dyn Store,
    output: Output<'_>,
) -> Result<SecretBytes, OpError> {
    let (opened, decrypted) = decrypt_unverified(store, input, keyring, options)?;
    let emit = || match output {
        Output::Whole => opened.emit_plain(output_store),
        Output::Extract(at) => opened.extract(output_store, at),
    };
    if options.ignore_mac {
        return emit();
    }
    let (mac, emitted) = std::thread::scope(|scope| {
        let hasher = scope.spawn(|| crypt::mac(&opened.docs, &decrypted, &opened.meta));
        let emitted = emit();
        (hasher.join().unwrap_or_else(|p| std::panic::resume_unwind(p)), emitted)
    });
    crypt::verify_mac(&opened.meta, &opened.cipher, &mac?)?;
    emitted
}

impl Opened {
    /// Encrypts again with the same data key; unchanged values keep their IVs.
    pub fn reencrypt(self, store: &dyn Store) -> Result<Vec<u8>, OpError> {
        seal(store, self.docs, self.meta, &self.cipher)
    }

    /// Writes the plaintext in `store`'s format.
    pub fn emit_plain(&self, store: &dyn Store) -> Result<SecretBytes, OpError> {
        Ok(SecretBytes::new(store.emit_plain(&self.docs)?))
    }

    /// `decrypt --extract`: a string value as its raw bytes, a map as a document, anything
    /// else in the output format.
    pub fn extract(&self, store: &dyn Store, at: &[PathStep]) -> Result<SecretBytes, OpError> {
        let first = self.docs.first().cloned().unwrap_or_default();
        let value = path::get(&first, at).map_err(OpError::Extract)?;
        Ok(match value {
            Value::Map(m) => SecretBytes::new(store.emit_plain(&[m])?),
            Value::Scalar(super::tree::Scalar::Str(s)) => s,
            other => SecretBytes::new(store.emit_value(&other)?),
        })
    }

    /// Sets a value in the first document; returns whether it changed.
    pub fn set(&mut self, at: &[PathStep], value: Value) -> Result<bool, OpError> {
        let doc = self.first_doc();
        Ok(path::set(doc, at, value)?)
    }

    /// Removes a value from the first document.
    pub fn unset(&mut self, at: &[PathStep]) -> Result<(), OpError> {
        let doc = self.first_doc();
        Ok(path::unset(doc, at)?)
    }

    fn first_doc(&mut self) -> &mut Branch {
        if self.docs.is_empty() {
            self.docs.push(Vec::new());
        }
        &mut self.docs[0]
    }

    /// Replaces the documents (after an edit) and bumps the format version, as `sops edit` does.
    pub fn replace_documents(&mut self, docs: Vec<Branch>) {
        self.docs = docs;
        self.meta.version = super::metadata::FORMAT_VERSION.to_owned();
    }

    /// A new data key: adds and removes age recipients, wraps the new key for every master
    /// key, and re-encrypts every value (reusing IVs, as sops does).
    pub fn rotate(mut self, store: &dyn Store, add_age: &[String], rm_age: &[String]) -> Result<Vec<u8>, OpError> {
        if let Some(first) = self.meta.key_groups.first_mut() {
            for r in add_age {
                first.keys.push(MasterKey::Age(AgeKey { recipient: r.trim().to_owned(), enc: String::new() }));
            }
        }
        for r in rm_age {
            for group in &mut self.meta.key_groups {
                group.keys.retain(|k| !matches!(k, MasterKey::Age(a) if a.recipient == r.trim()));
            }
        }
        let key = DataKey::generate();
        datakey::wrap(&mut self.meta, &key)?;
        let cipher = ValueCipher::with_stash_of(&key, self.cipher);
        seal(store, self.docs, self.meta, &cipher)
    }

    /// The data key (for `updatekeys` and `exec-*`).
    pub fn data_key(&self) -> &DataKey {
        &self.key
    }
}

/// A change of key groups, as `updatekeys` reports it.
pub struct KeyDiff {
    pub group: usize,
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

/// A pending `updatekeys`: what would change, before the data key is touched.
pub struct KeyUpdate {
    docs: Vec<Branch>,
    meta: Metadata,
    groups: Vec<KeyGroup>,
    pub threshold: usize,
    pub old_threshold: usize,
    pub diffs: Vec<KeyDiff>,
}

/// Compares a file's key groups with `groups` (`updatekeys`). The threshold is the flag's when
/// given, else the file's, capped at the number of groups (sops's rule). `None`: up to date.
pub fn plan_key_update(
    store: &dyn Store,
    input: &[u8],
    groups: Vec<KeyGroup>,
    threshold_flag: usize,
) -> Result<Option<KeyUpdate>, OpError> {
    let (docs, meta) = store.load_encrypted(input)?;
    let diffs = key_diff(&meta.key_groups, &groups);
    let wanted = if threshold_flag != 0 { threshold_flag } else { meta.shamir_threshold };
    let threshold = wanted.min(groups.len());
    let keys_change = diffs.iter().any(|d| !d.added.is_empty() || !d.removed.is_empty());
    if !keys_change && threshold == meta.shamir_threshold {
        return Ok(None);
    }
    Ok(Some(KeyUpdate { docs, old_threshold: meta.shamir_threshold, meta, groups, threshold, diffs }))
}

impl KeyUpdate {
    /// Re-wraps the existing data key for the new groups. Values, MAC and `lastmodified` stay
    /// as they are.
    pub fn apply(mut self, store: &dyn Store, keyring: &Keyring, options: &OpenOptions) -> Result<Vec<u8>, OpError> {
        let key = datakey::unwrap(&self.meta, keyring, &options.order)?;
        self.meta.key_groups = self.groups;
        self.meta.shamir_threshold = self.threshold;
        datakey::wrap(&mut self.meta, &key)?;
        Ok(store.emit_encrypted(&self.docs, &self.meta)?)
    }
}

fn key_diff(old: &[KeyGroup], new: &[KeyGroup]) -> Vec<KeyDiff> {
    let names = |g: Option<&KeyGroup>| -> Vec<String> {
        g.map(|g| g.keys.iter().map(MasterKey::describe).collect()).unwrap_or_default()
    };
    (0..old.len().max(new.len()))
        .map(|i| {
            let (before, after) = (names(old.get(i)), names(new.get(i)));
            KeyDiff {
                group: i,
                added: after.iter().filter(|k| !before.contains(k)).cloned().collect(),
                removed: before.iter().filter(|k| !after.contains(k)).cloned().collect(),
            }
        })
        .collect()
}

/// `filestatus`: encrypted means sops metadata with a version and a MAC.
pub fn is_encrypted(store: &dyn Store, input: &[u8]) -> Result<bool, OpError> {
    match store.load_encrypted(input) {
        Ok((_, meta)) => Ok(!meta.version.is_empty() && !meta.mac.is_empty()),
        Err(StoreError::Metadata(MetadataError::NotFound)) => Ok(false),
        Err(e) => Err(e.into()),
    }
}
