//! `decrypt` and `encrypt` of a whole JSON file without building its tree.
//!
//! The result is byte for byte what the tree path ([`super::ops`]) gives; only the route is
//! different. The file is scanned once into a [`Skeleton`](super::json::skeleton): the output
//! text with a hole for each value. The values are then decrypted (or encrypted) straight from
//! the input into the output, in chunks on all cores, and the MAC is hashed as the chunks come
//! in. For the 10,000-value file of the benchmark this removes about 20,000 allocations, copies,
//! wipes and frees (`tests/bench/README.md`, "JSON").
//!
//! This path takes only the common case. Whenever it meets anything else (a parse error, no
//! key that opens the data key, a value that does not decrypt, a MAC mismatch, a `comment`-typed
//! value, a file that is already encrypted…) it returns `None` and the caller runs the tree
//! path, which also produces the error. So every error message comes from one place, and the
//! tests check that the two paths give the same bytes.

use zeroize::{Zeroize, Zeroizing};

use super::crypt;
use super::datakey;
use super::gotime::GoTime;
use super::json::JsonStore;
use super::json::skeleton::{Leaf, Skeleton, Text, Token};
use super::metadata::Metadata;
use super::ops::{EncryptParams, OpenOptions};
use super::rules::Selection;
use super::scalar;
use super::tree::{Scalar, Value};
use super::value::{self, ValueCipher};
use crate::crypto::{DataKey, Keyring, SecretBytes};
use crate::pages::PageVec;

/// Decrypts a whole JSON file to JSON laid out by `output`, checking the MAC unless told not
/// to. `None`: use the tree path.
pub(super) fn decrypt(
    output: &JsonStore,
    input: &[u8],
    keyring: &Keyring,
    options: &OpenOptions,
) -> Option<SecretBytes> {
    let mut skeleton = output.skeleton(input, true)?;
    let Some(Value::Map(raw)) = skeleton.take_sops() else { return None };
    let meta = Metadata::from_branch(&raw).ok()?;
    let key = datakey::unwrap(&meta, keyring, &options.order).ok()?;
    let cipher = ValueCipher::read_only(&key);
    skeleton.select(meta.rule.as_ref());
    let mut hasher = (!options.ignore_mac).then(|| crypt::new_hasher(&meta));
    let values = Values { skeleton: &skeleton, cipher: &cipher, mac_only_encrypted: meta.mac_only_encrypted };
    let tail = skeleton.closing();
    let out = SecretBytes::with_capacity(skeleton.output_room(tail.len()));
    let plain = skeleton.fill(out, |leaf, out, mac| values.decrypt(leaf, out, mac), hasher.as_mut(), tail)?;
    if let Some(hasher) = hasher {
        crypt::verify_mac(&meta, &cipher, &crypt::finish_mac(hasher)).ok()?;
    }
    Some(plain)
}

/// What turning one leaf into its output takes, besides the leaf.
struct Values<'a, 's> {
    skeleton: &'a Skeleton<'s>,
    cipher: &'a ValueCipher,
    mac_only_encrypted: bool,
}

impl Values<'_, '_> {
    /// Whether `leaf` is encrypted (in the file, or once encrypted), and whether the MAC
    /// covers it.
    fn selection(&self, leaf: &Leaf) -> (bool, bool) {
        let encrypted = self.skeleton.is_encrypted(leaf);
        (encrypted, encrypted || !self.mac_only_encrypted)
    }

    /// One leaf of [`decrypt`]: its JSON text to `out`, the bytes the MAC covers to `mac`.
    fn decrypt(&self, leaf: &Leaf, out: &mut Vec<u8>, mac: &mut Vec<u8>) -> Option<()> {
        let (skeleton, cipher) = (self.skeleton, self.cipher);
        let (encrypted, covered) = self.selection(leaf);
        match (skeleton.token(leaf)?, encrypted) {
            (Token::Str { text, escaped }, true) => {
                let text = skeleton.text(&text, escaped)?;
                let envelope = text.as_str()?;
                let start = mac.len();
                match cipher.decrypt_append(envelope, skeleton.aad(leaf), mac).ok()? {
                    "str" => super::json::write_go_string(out, &mac[start..]),
                    // A comment in a list (sops 3.11): the tree path drops it from the list.
                    "comment" => return None,
                    kind => {
                        // Other types are written, and hashed, as their parsed value.
                        let value = scalar::from_plaintext(kind, SecretBytes::from_slice(&mac[start..])).ok()?;
                        wipe_from(mac, start);
                        super::json::write_scalar(out, &value).ok()?;
                        mac.extend_from_slice(&scalar::plaintext(&value).ok()?);
                    }
                }
            }
            // Only a string can hold an envelope: the tree path reports the value.
            (Token::Scalar(_), true) => return None,
            (Token::Str { text, escaped }, false) => {
                let text = skeleton.text(&text, escaped)?;
                super::json::write_go_string(out, &text);
                if covered {
                    mac.extend_from_slice(&text);
                }
            }
            (Token::Scalar(value), false) => {
                super::json::write_scalar(out, value).ok()?;
                if covered {
                    mac.extend_from_slice(&scalar::plaintext(value).ok()?);
                }
            }
        }
        Some(())
    }
}

/// Wipes and drops `buf[start..]`.
fn wipe_from(buf: &mut Vec<u8>, start: usize) {
    if let Some(tail) = buf.get_mut(start..) {
        tail.zeroize();
    }
    buf.truncate(start);
}

/// Encrypts a whole JSON file to JSON laid out by `output`. `None`: use the tree path.
pub(super) fn encrypt(output: &JsonStore, input: &[u8], params: &EncryptParams) -> Option<PageVec> {
    let mut skeleton = output.skeleton(input, false)?;
    if skeleton.has_sops() || params.key_groups.iter().all(|g| g.keys.is_empty()) {
        return None;
    }
    let rule = params.rule.clone().or_else(|| Some(Selection::default_rule()));
    let mut meta = Metadata::new(params.key_groups.clone(), params.shamir_threshold, rule, params.mac_only_encrypted);
    let key = DataKey::generate();
    datakey::wrap(&mut meta, &key).ok()?;
    let cipher = ValueCipher::new(&key);
    skeleton.select(meta.rule.as_ref());
    let mut hasher = crypt::new_hasher(&meta);
    let values = Values { skeleton: &skeleton, cipher: &cipher, mac_only_encrypted: meta.mac_only_encrypted };
    // The metadata closes the file, and it holds the MAC of every value: so the values come
    // first, then the metadata, rendered by the store as the tree path renders it.
    // Envelopes, and the values the rule leaves in the clear: nothing secret. Ciphertext of
    // 2 MiB and more goes in huge pages (see `crate::pages`), as far as it surely reaches: the
    // skeleton, and each value at least as its envelope, or in the clear as its decoded bytes.
    let least = skeleton.text_len()
        + (skeleton.leaves().iter())
            .map(|leaf| match skeleton.is_encrypted(leaf) {
                true => value::envelope_len(leaf.decoded_len_at_least(), "str"),
                false => leaf.decoded_len_at_least(),
            })
            .sum::<usize>();
    let out = PageVec::with_capacity(skeleton.output_room(0), least);
    let mut sealed = skeleton.fill(out, |leaf, out, mac| values.encrypt(leaf, out, mac), Some(&mut hasher), b"")?;
    meta.last_modified = GoTime::now_utc();
    meta.mac = crypt::seal_mac(&crypt::finish_mac(hasher), &meta, &cipher);
    let metadata = super::store::Store::emit_encrypted_owned(output, vec![Vec::new()], &meta).ok()?;
    // `{` + the `sops` entry + the closing; the entry follows the file's own entries.
    if skeleton.top_entries() > 0 {
        sealed.push(b',');
    }
    sealed.extend_from_slice(metadata.get(1..)?);
    Some(sealed)
}

impl Values<'_, '_> {
    /// One leaf of [`encrypt`]: its JSON text (an envelope, or the clear value) to `out`, its
    /// plaintext to `mac` when the MAC covers it.
    fn encrypt(&self, leaf: &Leaf, out: &mut Vec<u8>, mac: &mut Vec<u8>) -> Option<()> {
        let (skeleton, cipher) = (self.skeleton, self.cipher);
        let (encrypted, covered) = self.selection(leaf);
        let (kind, plain, clear): (&str, _, Option<&Scalar>) = match skeleton.token(leaf)? {
            Token::Str { text, escaped } => ("str", skeleton.text(&text, escaped)?, None),
            Token::Scalar(value) => (
                scalar::type_tag(value).ok()?,
                Text::Owned(Zeroizing::new(scalar::plaintext(value).ok()?.into_owned())),
                Some(value),
            ),
        };
        if covered {
            mac.extend_from_slice(&plain);
        }
        match (encrypted, clear) {
            (true, _) => {
                out.reserve(value::envelope_len(plain.len(), kind) + 2);
                out.push(b'"');
                cipher.encrypt_append(kind, &plain, skeleton.aad(leaf), out);
                out.push(b'"');
            }
            (false, Some(value)) => super::json::write_scalar(out, value).ok()?,
            (false, None) => super::json::write_go_string(out, &plain),
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::crypto::age::Identity;
    use crate::sops::json::tests::{key_strategy, value_strategy};
    use crate::sops::ops::{self, Output};
    use crate::sops::store::{Store, StoreConfig};
    use crate::sops::tree::{Branch, Item, Key};

    fn keyring(id: &Identity) -> Keyring {
        let mut ring = Keyring::new();
        ring.add_age("test", [id.clone()]);
        ring
    }

    fn params(id: &Identity, rule: Option<Selection>, mac_only_encrypted: bool) -> EncryptParams {
        EncryptParams { rule, mac_only_encrypted, ..EncryptParams::age(&[&id.recipient()]) }
    }

    /// The rules a file can carry; `None` is sops's default (`_unencrypted` suffix).
    fn rule_strategy() -> impl Strategy<Value = Option<Selection>> {
        prop_oneof![
            Just(None),
            Just(Some(Selection::from_field("encrypted_regex", "^(data|stringData)$").unwrap())),
            Just(Some(Selection::from_field("encrypted_regex", "^[a-m]").unwrap())),
            Just(Some(Selection::from_field("unencrypted_regex", "^[a-m]").unwrap())),
            Just(Some(Selection::from_field("encrypted_suffix", "a").unwrap())),
            Just(Some(Selection::from_field("unencrypted_suffix", "_").unwrap())),
            Just(Some(Selection::from_field("unencrypted_comment_regex", "x").unwrap())),
        ]
    }

    /// Keys that the rules above pick out, mixed with arbitrary ones.
    fn doc_strategy() -> impl Strategy<Value = Branch> {
        let key = prop_oneof![key_strategy(), Just("data".to_owned()), Just("x_unencrypted".to_owned())];
        prop::collection::vec((key, value_strategy()), 0..8)
            .prop_map(|items| items.into_iter().map(|(k, v)| Item::Pair { key: Key::Str(k), value: v }).collect())
    }

    /// A document, its rule, `mac_only_encrypted`, and the output's indentation.
    fn case_strategy() -> impl Strategy<Value = (Branch, Option<Selection>, bool, Option<usize>)> {
        (doc_strategy(), rule_strategy(), any::<bool>(), prop::option::of(0usize..4))
    }

    fn json(indent: Option<usize>) -> JsonStore {
        JsonStore::new(StoreConfig { json_indent: indent, ..Default::default() })
    }

    fn tree_decrypt(input: &[u8], ring: &Keyring, options: &OpenOptions, out: &JsonStore) -> Result<Vec<u8>, String> {
        ops::decrypt_tree(&json(None), input, ring, options, out, Output::Whole)
            .map(|plain| plain.expose().to_vec())
            .map_err(|e| e.to_string())
    }

    /// [`decrypt`], its plaintext as bytes to compare.
    fn fast_decrypt(output: &JsonStore, input: &[u8], keyring: &Keyring, options: &OpenOptions) -> Option<Vec<u8>> {
        decrypt(output, input, keyring, options).map(|plain| plain.expose().to_vec())
    }

    fn encrypted(doc: &Branch, id: &Identity) -> Vec<u8> {
        let plain = json(None).emit_plain(std::slice::from_ref(doc)).unwrap();
        ops::encrypt_tree(&json(None), &json(None), &plain, params(id, None, false)).unwrap()
    }

    /// [`super::encrypt`], its result as bytes to compare.
    fn encrypt(output: &JsonStore, input: &[u8], params: &EncryptParams) -> Option<Vec<u8>> {
        super::encrypt(output, input, params).map(PageVec::into_vec)
    }

    fn ignoring_mac() -> OpenOptions {
        OpenOptions { ignore_mac: true, ..OpenOptions::default() }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whatever the rule, the indentation and the values, decrypting through the skeleton
        /// gives the bytes the tree gives.
        #[test]
        fn decrypt_is_the_tree_s((doc, rule, mac_only, indent) in case_strategy()) {
            let id = Identity::generate();
            let plain = json(None).emit_plain(std::slice::from_ref(&doc)).unwrap();
            let sealed = ops::encrypt_tree(&json(None), &json(None), &plain, params(&id, rule, mac_only)).unwrap();
            let options = OpenOptions::default();
            let fast = fast_decrypt(&json(indent), &sealed, &keyring(&id), &options);
            prop_assert!(fast.is_some(), "the skeleton gave up on a well-formed file");
            prop_assert_eq!(fast, tree_decrypt(&sealed, &keyring(&id), &options, &json(indent)).ok());
        }

        /// Encrypting through the skeleton lays the file out as the tree does, encrypts the
        /// values the rule selects (and only those: the tree's decryption checks), and stores a
        /// MAC the tree verifies.
        #[test]
        fn encrypt_is_the_tree_s((doc, rule, mac_only, indent) in case_strategy()) {
            let id = Identity::generate();
            let plain = json(None).emit_plain(std::slice::from_ref(&doc)).unwrap();
            let out = json(indent);
            let sealed = encrypt(&out, &plain, &params(&id, rule, mac_only));
            prop_assert!(sealed.is_some(), "the skeleton gave up on a well-formed file");
            let sealed = sealed.unwrap();
            let (docs, meta) = out.load_encrypted(&sealed).unwrap();
            prop_assert_eq!(&out.emit_encrypted(&docs, &meta).unwrap(), &sealed);
            let expected = out.emit_plain(&json(None).load_plain(&plain).unwrap()).unwrap();
            prop_assert_eq!(tree_decrypt(&sealed, &keyring(&id), &OpenOptions::default(), &out), Ok(expected));
        }
    }

    /// Enough values to be filled on several threads, in many chunks.
    #[test]
    fn large_files_match_the_tree() {
        let id = Identity::generate();
        let doc: Branch = (0..3000)
            .map(|i| Item::Pair {
                key: Key::Str(format!("k{i}")),
                value: match i % 4 {
                    0 => Value::Scalar(Scalar::Int(i)),
                    1 => Value::Map(vec![Item::Pair { key: "x_unencrypted".into(), value: Value::str("clear") }]),
                    _ => Value::str(&"v<".repeat(i as usize % 50)),
                },
            })
            .collect();
        let plain = json(None).emit_plain(std::slice::from_ref(&doc)).unwrap();
        let sealed = encrypt(&json(None), &plain, &params(&id, None, false)).expect("fast path");
        let options = OpenOptions::default();
        let tree = tree_decrypt(&sealed, &keyring(&id), &options, &json(None)).unwrap();
        assert_eq!(tree, plain);
        assert_eq!(fast_decrypt(&json(None), &sealed, &keyring(&id), &options), Some(plain));
        // A value that fails in a late chunk stops every thread and leaves the file to the tree.
        let text = String::from_utf8(sealed).unwrap();
        let at = text[..text.find("\"sops\"").unwrap()].rfind("data:").unwrap();
        let tampered = format!("{}AA{}", &text[..at + 5], &text[at + 5..]);
        assert_eq!(fast_decrypt(&json(None), tampered.as_bytes(), &keyring(&id), &options), None);
    }

    #[test]
    fn escapes_and_other_types_take_the_fast_path() {
        let id = Identity::generate();
        let plain =
            br#"{"k\u00e9y\"": "v\u003c\ud83d\ude00\n", "n": -0, "f": 1.50, "b": [true, null, {}, []], "e": ""}"#;
        let sealed = encrypt(&json(None), plain, &params(&id, None, false)).expect("fast path");
        let tree = tree_decrypt(&sealed, &keyring(&id), &OpenOptions::default(), &json(None)).unwrap();
        assert_eq!(fast_decrypt(&json(None), &sealed, &keyring(&id), &OpenOptions::default()), Some(tree.clone()));
        let text = String::from_utf8(tree).unwrap();
        assert!(text.contains("\"kéy\\\"\": \"v\\u003c😀\\n\""), "{text}");
        assert!(text.contains("\"n\": 0,\n\t\"f\": 1.5,"), "{text}");
    }

    /// Everything the skeleton does not take goes to the tree, which reports it.
    #[test]
    fn gives_up_where_the_tree_reports() {
        let id = Identity::generate();
        let ring = keyring(&id);
        let doc: Branch = vec![
            Item::Pair { key: "a".into(), value: Value::str("secret") },
            Item::Pair {
                key: "list".into(),
                value: Value::List(vec![crate::sops::tree::Element::Value(Value::str("x"))]),
            },
        ];
        let sealed = String::from_utf8(encrypted(&doc, &id)).unwrap();
        let options = OpenOptions::default();
        let unchecked = ignoring_mac();
        let cases: Vec<(&str, String, &OpenOptions)> = vec![
            ("tampered value", sealed.replacen("data:", "data:AA", 1), &options),
            (
                "tampered MAC",
                sealed.replacen("\"mac\": \"ENC[AES256_GCM,data:", "\"mac\": \"ENC[AES256_GCM,data:AA", 1),
                &options,
            ),
            // A list item whose envelope says `comment` (the type is not authenticated): the
            // tree drops it from the list.
            ("comment item", sealed.replacen(",type:str]\"\n\t]", ",type:comment]\"\n\t]", 1), &unchecked),
            ("truncated", sealed[..sealed.len() / 2].to_owned(), &options),
            ("top-level array", format!("[{sealed}]"), &options),
            ("two sops entries", sealed.replacen("{", "{\"sops\": {},", 1), &options),
            ("no sops entry", "{\"a\": 1}".to_owned(), &options),
            ("control character", sealed.replacen("\"a\"", "\"a\u{1}\"", 1), &options),
        ];
        for (name, input, options) in cases {
            assert_ne!(input, sealed, "{name}: the case must change the file");
            assert_eq!(fast_decrypt(&json(None), input.as_bytes(), &ring, options), None, "{name}");
            let tree = ops::decrypt(&json(None), input.as_bytes(), &ring, options, &json(None), Output::Whole);
            match name {
                "comment item" => assert!(
                    String::from_utf8(tree.unwrap().expose().to_vec()).unwrap().contains("\"list\": []"),
                    "{name}"
                ),
                _ => assert!(tree.is_err(), "{name}: the tree path must report it"),
            }
        }
        assert_eq!(fast_decrypt(&json(None), sealed.as_bytes(), &keyring(&Identity::generate()), &options), None);
        let mut latin1 = sealed.clone().into_bytes();
        latin1.splice(1..1, *b"\"k\xe9\": 1,");
        assert_eq!(fast_decrypt(&json(None), &latin1, &ring, &options), None);
        // A tampered MAC is fine when it is not checked.
        let tampered = sealed.replacen("\"mac\": \"ENC[AES256_GCM,data:", "\"mac\": \"ENC[AES256_GCM,data:AA", 1);
        assert!(fast_decrypt(&json(None), tampered.as_bytes(), &ring, &ignoring_mac()).is_some());
        // Encryption: a file that is already encrypted, no keys, bad JSON.
        let p = params(&id, None, false);
        assert_eq!(encrypt(&json(None), sealed.as_bytes(), &p), None);
        let none = EncryptParams { key_groups: Vec::new(), ..p.clone() };
        assert_eq!(encrypt(&json(None), b"{\"a\": 1}", &none), None);
        assert_eq!(encrypt(&json(None), b"{\"a\": 1,}", &p), None);
    }

    /// The nesting limit is the tree's: what it parses, the skeleton takes.
    #[test]
    fn nesting_limit_is_the_tree_s() {
        let id = Identity::generate();
        let limit = crate::sops::store::Limits::default().max_depth;
        for depth in [limit, limit + 1] {
            let plain = format!("{}1{}", "{\"a\": ".repeat(depth), "}".repeat(depth));
            let tree = ops::encrypt_tree(&json(None), &json(None), plain.as_bytes(), params(&id, None, false));
            let fast = encrypt(&json(None), plain.as_bytes(), &params(&id, None, false));
            assert_eq!(tree.is_ok(), fast.is_some(), "depth {depth}");
        }
    }
}
