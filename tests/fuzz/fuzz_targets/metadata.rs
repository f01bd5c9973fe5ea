//! The `sops` metadata block: `Metadata::from_branch` on arbitrary trees.
//!
//! The tree is built from the fuzz input by a small deterministic builder (below) whose keys
//! and values lean towards the real metadata fields, so the fuzzer reaches the parsing of each
//! field instead of stopping at "no keys". Once the JSON store exists this target should feed
//! the input through it instead (a `sops` object parsed from JSON).
//!
//! Invariants: `from_branch` never panics; metadata it accepts survives `to_branch` →
//! `from_branch` (what sealops writes, it reads back).
#![no_main]

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use sealops::crypto::SecretBytes;
use sealops::sops::metadata::Metadata;
use sealops::sops::tree::{Branch, Comment, Element, Item, Key, Scalar, Value};

/// Field names sops writes in the metadata block (top level, key groups and key entries).
const KEYS: &[&str] = &[
    "age",
    "recipient",
    "enc",
    "key_groups",
    "shamir_threshold",
    "lastmodified",
    "mac",
    "version",
    "unencrypted_suffix",
    "encrypted_suffix",
    "unencrypted_regex",
    "encrypted_regex",
    "unencrypted_comment_regex",
    "encrypted_comment_regex",
    "mac_only_encrypted",
    "pgp",
    "kms",
    "gcp_kms",
    "hckms",
    "azure_kv",
    "hc_vault",
    "fp",
    "arn",
    "created_at",
];

/// Plausible scalar texts: times, recipients, an envelope, booleans and numbers as strings.
const TEXTS: &[&str] = &[
    "2026-08-21T08:28:40Z",
    "2026-08-21T08:28:40.123456789+02:00",
    "age1w9awh6q3uwp4syyn6kcgalkqhxncjjkd62ffffh782juvvyj4g2qwqy2yn",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAID+Wi8WZw2bXfBpcs/WECttCzP39OkenS6pHWHWGFJvN Test",
    "-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n-----END AGE ENCRYPTED FILE-----\n",
    "ENC[AES256_GCM,data:AAAA,iv:AAAA,tag:AAAA,type:str]",
    "3.13.2",
    "_unencrypted",
    "^(password|secret)$",
    "true",
    "2",
    "",
];

const MAX_DEPTH: u32 = 4;
const MAX_ITEMS: usize = 8;

fn text(u: &mut Unstructured<'_>) -> Result<String> {
    Ok(if u.ratio(3, 4)? { (*u.choose(TEXTS)?).to_owned() } else { u.arbitrary::<&str>()?.to_owned() })
}

fn key(u: &mut Unstructured<'_>) -> Result<Key> {
    Ok(match u.int_in_range(0..=9u8)? {
        0 => Key::Other { text: "1".to_owned(), kind: "int" },
        1 => Key::Str(u.arbitrary::<&str>()?.to_owned()),
        _ => Key::Str((*u.choose(KEYS)?).to_owned()),
    })
}

fn comment(u: &mut Unstructured<'_>) -> Result<Comment> {
    Ok(Comment::new(SecretBytes::from(text(u)?)))
}

fn scalar(u: &mut Unstructured<'_>) -> Result<Scalar> {
    Ok(match u.int_in_range(0..=5u8)? {
        0 => Scalar::Int(u.arbitrary()?),
        1 => Scalar::Uint(u.arbitrary()?),
        2 => Scalar::Float(u.arbitrary()?),
        3 => Scalar::Bool(u.arbitrary()?),
        4 => Scalar::Bytes(SecretBytes::from(text(u)?)),
        _ => Scalar::Str(SecretBytes::from(text(u)?)),
    })
}

fn value(u: &mut Unstructured<'_>, depth: u32) -> Result<Value> {
    let nested = depth < MAX_DEPTH;
    Ok(match u.int_in_range(0..=5u8)? {
        0 => Value::Null,
        1 | 2 if nested => Value::Map(branch(u, depth + 1)?),
        3 if nested => {
            let mut elements = Vec::new();
            for _ in 0..u.int_in_range(0..=MAX_ITEMS)? {
                elements.push(if u.ratio(1, 8)? {
                    Element::Comment(comment(u)?)
                } else {
                    Element::Value(value(u, depth + 1)?)
                });
            }
            Value::List(elements)
        }
        _ => Value::Scalar(scalar(u)?),
    })
}

fn branch(u: &mut Unstructured<'_>, depth: u32) -> Result<Branch> {
    let mut items = Vec::new();
    for _ in 0..u.int_in_range(0..=MAX_ITEMS)? {
        items.push(if u.ratio(1, 8)? {
            Item::Comment(comment(u)?)
        } else {
            Item::Pair { key: key(u)?, value: value(u, depth)? }
        });
    }
    Ok(items)
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(tree) = branch(&mut u, 0) else { return };
    let Ok(metadata) = Metadata::from_branch(&tree) else { return };
    let written = metadata.to_branch();
    if let Err(e) = Metadata::from_branch(&written) {
        panic!("metadata sealops wrote does not read back: {e}");
    }
});
