//! The binary store: any file, encrypted whole, inside a JSON envelope.
//!
//! sops uses it for every extension it does not know (`stores/json/store.go`, `BinaryStore`;
//! spec §1.7 "Binary"). The plain side is the file's bytes, unchanged and not necessarily UTF-8,
//! as one string under the key `data`, so its AAD is `data:` and its type `str`. The encrypted
//! side is a JSON file `{"data": "ENC[…]", "sops": {…}}` written by [`JsonStore`] with the
//! `json_binary_indent` setting.
//!
//! When encrypting, sops clears every selection rule for this store (`--encrypted-regex` and
//! friends are ignored with a warning), so a fresh file's metadata carries no
//! `unencrypted_suffix`. Building that metadata is not this store's job: whoever does it must
//! leave `Metadata::rule` empty for binary files. Loading is like any other store: sops defaults
//! the missing rule to `_unencrypted`, so a file it re-writes later (`edit`, `rotate`) gains one.

use super::json::JsonStore;
use super::metadata::Metadata;
use super::store::{Format, Limits, MetadataLayout, Store, StoreConfig, StoreError, check_size};
use super::tree::{Branch, Item, Key, Scalar, Value};
use crate::crypto::SecretBytes;

/// The key holding the file's bytes.
pub const DATA_KEY: &str = "data";

/// Added to every plain-output error by sops's `decrypt` (`cmd/sops/decrypt.go`).
const NOT_BINARY_HINT: &str =
    "This is likely not an encrypted binary file? If not, use --output-type to select the correct output type.";

/// Whole files of any content, as sops's binary store handles them.
#[derive(Clone, Copy, Debug, Default)]
pub struct BinaryStore {
    pub config: StoreConfig,
}

impl BinaryStore {
    pub fn new(config: StoreConfig) -> Self {
        Self { config }
    }

    /// The JSON store that reads and writes the envelope.
    fn envelope(&self) -> JsonStore {
        JsonStore::new(StoreConfig { json_indent: self.config.json_binary_indent, ..self.config })
    }
}

fn emit_error(detail: &str) -> StoreError {
    StoreError::Emit(format!("error emitting binary store: {detail}\n\n{NOT_BINARY_HINT}"))
}

impl Store for BinaryStore {
    fn format(&self) -> Format {
        Format::Binary
    }

    fn load_plain(&self, input: &[u8]) -> Result<Vec<Branch>, StoreError> {
        check_size(input, &Limits::default())?;
        let data = Value::Scalar(Scalar::Str(SecretBytes::from_slice(input)));
        Ok(vec![vec![Item::Pair { key: Key::Str(DATA_KEY.to_owned()), value: data }]])
    }

    /// The bytes of the first `data` item, exactly as stored.
    fn emit_plain(&self, docs: &[Branch]) -> Result<Vec<u8>, StoreError> {
        let [doc] = docs else {
            return Err(emit_error("there must be exactly one tree branch"));
        };
        let data = doc.iter().find_map(|item| match item {
            Item::Pair { key: Key::Str(k), value } if k == DATA_KEY => Some(value),
            _ => None,
        });
        match data {
            Some(Value::Scalar(Scalar::Str(bytes))) => Ok(bytes.expose().to_vec()),
            Some(_) => Err(emit_error("'data' key in tree does not have a string value")),
            None => Err(emit_error("no binary data found in tree")),
        }
    }

    fn emit_value(&self, _value: &Value) -> Result<Vec<u8>, StoreError> {
        Err(StoreError::Emit("Binary files are not structured and extracting a single value is not possible".into()))
    }

    fn metadata_layout(&self) -> MetadataLayout {
        MetadataLayout::Nested
    }

    fn load_encrypted(&self, input: &[u8]) -> Result<(Vec<Branch>, Metadata), StoreError> {
        self.envelope().load_encrypted(input)
    }

    fn emit_encrypted_owned(&self, docs: Vec<Branch>, meta: &Metadata) -> Result<Vec<u8>, StoreError> {
        self.envelope().emit_encrypted_owned(docs, meta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sops::tree::branches_equal;
    use proptest::prelude::*;

    fn data(bytes: &[u8]) -> Branch {
        vec![Item::Pair { key: DATA_KEY.into(), value: Value::Scalar(Scalar::Str(SecretBytes::from_slice(bytes))) }]
    }

    /// `gen311_binary.plain.bin`: text, a NUL and an 0xFF byte; sops decrypted it back unchanged.
    #[test]
    fn any_bytes_round_trip() {
        let plain = b"hello\nbinary\x00\xff";
        let docs = BinaryStore::default().load_plain(plain).unwrap();
        assert!(branches_equal(&docs[0], &data(plain)));
        assert_eq!(BinaryStore::default().emit_plain(&docs).unwrap(), plain);
        // JSON is data too (`TestLoadJSONFormattedBinaryFile`).
        let docs = BinaryStore::default().load_plain(br#"{"hello": 2}"#).unwrap();
        assert!(branches_equal(&docs[0], &data(br#"{"hello": 2}"#)));
    }

    /// `store_test.go` TestEmitBinaryFile* cases, with sops's `decrypt` hint.
    #[test]
    fn emit_errors() {
        let store = BinaryStore::default();
        let err = |docs: &[Branch]| store.emit_plain(docs).err().unwrap().to_string();
        let no_data = err(&[vec![Item::Pair { key: "foo".into(), value: Value::str("bar") }]]);
        assert!(no_data.contains("error emitting binary store: no binary data found in tree"), "{no_data}");
        assert!(no_data.contains(NOT_BINARY_HINT));
        assert!(err(&[data(b"a"), data(b"b")]).contains("there must be exactly one tree branch"));
        assert!(err(&[]).contains("there must be exactly one tree branch"));
        let wrong = vec![Item::Pair { key: DATA_KEY.into(), value: Value::Map(vec![]) }];
        assert!(err(&[wrong]).contains("'data' key in tree does not have a string value"));
        assert!(store.emit_value(&Value::str("x")).is_err());
        assert_eq!(store.emit_plain(&[data(b"foo")]).unwrap(), b"foo");
    }

    /// `gen311_binary.enc.bin` (3.11, age): the envelope loads; written back the 3.13.2 way it
    /// is identical apart from the age entry's field order (`enc` before `recipient`).
    #[test]
    fn envelope_round_trip() {
        let recipient = "age1w9awh6q3uwp4syyn6kcgalkqhxncjjkd62ffffh782juvvyj4g2qwqy2yn";
        let enc = "-----BEGIN AGE ENCRYPTED FILE-----\\nYWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBweDN4bkxNVElYU21TdDQr\\n-----END AGE ENCRYPTED FILE-----\\n";
        let mac = "ENC[AES256_GCM,data:Danbyosyr+4Ib9uI8gA7htX+g8iyuv32XpgOLy1uVALb,iv:FY4fuMbdZW/1TsnwD5Hwm0/Tsb9zC8ReXECuSQS0UG8=,tag:xQvjwlgBvCwtDgB+bnCtgg==,type:str]";
        let head = "{\n\t\"data\": \"ENC[AES256_GCM,data:VLxXRYs7jF4S4P9e9aI=,iv:YKP+teOtjztMm34NteH1PpWZr/SOyyhEKz1McpjUmMM=,tag:G2xEtxuG2ljKAOsaqtZ0lA==,type:str]\",\n\t\"sops\": {\n\t\t\"age\": [\n\t\t\t{\n";
        let tail = format!(
            "\t\t\t}}\n\t\t],\n\t\t\"lastmodified\": \"2026-11-23T21:29:34Z\",\n\t\t\"mac\": \"{mac}\",\n\t\t\"version\": \"3.11.0\"\n\t}}\n}}\n"
        );
        // gen311_binary.enc.bin (shortened armor and MAC)
        let observed = format!("{head}\t\t\t\t\"recipient\": \"{recipient}\",\n\t\t\t\t\"enc\": \"{enc}\"\n{tail}");
        let store = BinaryStore::default();
        let (docs, mut meta) = store.load_encrypted(observed.as_bytes()).unwrap();
        assert_eq!(docs[0].len(), 1);
        // As at encryption time: no selection rule for binary files. (Loading defaults it, as
        // sops's `ToInternal` does.)
        assert!(meta.rule.is_some());
        meta.rule = None;
        let out = String::from_utf8(store.emit_encrypted(&docs, &meta).unwrap()).unwrap();
        let expected = format!("{head}\t\t\t\t\"enc\": \"{enc}\",\n\t\t\t\t\"recipient\": \"{recipient}\"\n{tail}");
        assert_eq!(out, expected);
        // The envelope honours json_binary_indent, not json_indent.
        let spaced =
            BinaryStore::new(StoreConfig { json_binary_indent: Some(2), json_indent: Some(7), ..Default::default() });
        let out = spaced.emit_encrypted(&docs, &meta).unwrap();
        assert!(out.starts_with(b"{\n  \"data\": \"ENC["));
    }

    #[test]
    fn has_no_sops_key_when_plain() {
        let store = BinaryStore::default();
        let docs = store.load_plain(br#"{"sops": {}}"#).unwrap();
        assert!(!store.has_sops_key(&docs));
    }

    proptest! {
        #[test]
        fn round_trip(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let store = BinaryStore::default();
            let docs = store.load_plain(&bytes).unwrap();
            prop_assert_eq!(store.emit_plain(&docs).unwrap(), bytes);
        }
    }
}
