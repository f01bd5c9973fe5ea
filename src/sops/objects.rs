//! SOPS content inside built Kubernetes objects, decrypted after the build the way Flux's
//! kustomize-controller does it ("SOPS phase B", `shared/specs/flux.md` §2.8 step 2):
//!
//! * an object with a top-level `sops` map and a non-empty `sops.mac` is a whole SOPS document
//!   (`sops -e --encrypted-regex '^(data|stringData)$' secret.yaml`), decrypted as JSON whatever
//!   its kind;
//! * otherwise, each `data` entry of a Secret that base64-decodes to a SOPS file (a
//!   `secretGenerator` file encrypted as a whole) is decrypted in the format its key's extension
//!   names and encoded again.
//!
//! The MAC is not checked, as in Flux: the build changes objects after encryption (namespace,
//! labels), which would break it. Objects annotated `kustomize.toolkit.fluxcd.io/decrypt:
//! disabled` are left alone.
//!
//! Objects are `serde_json` maps so this stays below the `manifest` layer.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use super::ops::{self, OpError, OpenOptions, Output};
use super::store::{self, Format, StoreConfig};
use crate::crypto::Keyring;

/// Flux's opt-out annotation.
pub const DECRYPT_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/decrypt";

#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    /// Flux's wording: `decryption failed for '<gvk>/<name>': failed to decrypt and format
    /// '<ns>/<name>' Secret data: …` (`Secret field '<key>'` for one entry).
    #[error("decryption failed for '{gvk}/{name}': failed to decrypt and format '{namespace}/{name}' {what}: {source}")]
    Decrypt {
        gvk: String,
        namespace: String,
        name: String,
        what: String,
        #[source]
        source: Box<OpError>,
    },
    #[error("decryption failed for '{gvk}/{name}': the decrypted document is not a JSON object: {message}")]
    NotAnObject { gvk: String, name: String, message: String },
}

impl ObjectError {
    pub fn kind(&self) -> &'static str {
        match self {
            ObjectError::Decrypt { source, .. } => source.kind(),
            ObjectError::NotAnObject { .. } => "decrypted_not_object",
        }
    }
}

/// Decrypts `object` in place if it carries SOPS content; returns whether it did.
pub fn decrypt_object(object: &mut Map<String, Value>, keyring: &Keyring) -> Result<bool, ObjectError> {
    if annotation(object, DECRYPT_ANNOTATION) == Some("disabled") {
        return Ok(false);
    }
    if is_whole_document(object) {
        decrypt_whole(object, keyring)?;
        return Ok(true);
    }
    if object.get("kind").and_then(Value::as_str) == Some("Secret") {
        return decrypt_entries(object, keyring);
    }
    Ok(false)
}

fn options() -> OpenOptions {
    OpenOptions { ignore_mac: true, keep_ivs: false, ..OpenOptions::default() }
}

fn is_whole_document(object: &Map<String, Value>) -> bool {
    object
        .get(super::metadata::SOPS_KEY)
        .and_then(Value::as_object)
        .and_then(|sops| sops.get("mac"))
        .and_then(Value::as_str)
        .is_some_and(|mac| !mac.is_empty())
}

fn decrypt_whole(object: &mut Map<String, Value>, keyring: &Keyring) -> Result<(), ObjectError> {
    let json = store::for_format(Format::Json, StoreConfig::default());
    // The object is still ciphertext here; only the output below holds plaintext.
    let input = serde_json::to_vec(&*object).unwrap_or_default();
    let plain = ops::decrypt(&*json, &input, keyring, &options(), &*json, Output::Whole)
        .map_err(|source| decrypt_error(object, "Secret data".to_owned(), source))?;
    match serde_json::from_slice::<Value>(plain.expose()) {
        Ok(Value::Object(map)) => {
            *object = map;
            Ok(())
        }
        // serde_json's messages carry positions, never the input text.
        Ok(_) => Err(not_an_object(object, "not a map".to_owned())),
        Err(e) => Err(not_an_object(object, e.to_string())),
    }
}

fn decrypt_entries(object: &mut Map<String, Value>, keyring: &Keyring) -> Result<bool, ObjectError> {
    let keys: Vec<String> = match object.get("data").and_then(Value::as_object) {
        Some(data) => data.keys().cloned().collect(),
        None => return Ok(false),
    };
    let mut changed = false;
    for key in keys {
        let Some(encoded) = object.get("data").and_then(|d| d.get(&key)).and_then(Value::as_str) else {
            continue;
        };
        // Values that are not base64 are skipped, as Flux does.
        let Ok(raw) = STANDARD.decode(encoded).map(Zeroizing::new) else {
            continue;
        };
        let format = entry_format(&key);
        if !has_marker(format, &raw) {
            continue;
        }
        let store = store::for_format(format, StoreConfig::default());
        let plain = ops::decrypt(&*store, &raw, keyring, &options(), &*store, Output::Whole)
            .map_err(|source| decrypt_error(object, format!("Secret field '{key}'"), source))?;
        let reencoded = STANDARD.encode(plain.expose());
        if let Some(Value::String(slot)) = object.get_mut("data").and_then(|d| d.get_mut(&key)) {
            *slot = reencoded;
            changed = true;
        }
    }
    Ok(changed)
}

/// The format of a Secret entry, from its key's extension (Flux: `.dockerconfigjson` is JSON,
/// unknown extensions are binary).
fn entry_format(key: &str) -> Format {
    if key.ends_with(".dockerconfigjson") {
        return Format::Json;
    }
    Format::from_path(std::path::Path::new(key))
}

/// Only entries that carry their format's SOPS marker are decrypted; plain ones stay as they are.
fn has_marker(format: Format, raw: &[u8]) -> bool {
    let marker: &[u8] = match format {
        Format::Yaml => b"mac: ENC[",
        Format::Json | Format::Binary => b"\"mac\": \"ENC[",
        Format::Dotenv => b"sops_mac=ENC[",
        Format::Ini => b"[sops]",
    };
    raw.windows(marker.len()).any(|w| w == marker)
}

fn annotation<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    object.get("metadata")?.get("annotations")?.get(name)?.as_str()
}

/// kustomize's `Gvk.String()`: `Secret.v1.[noGrp]`, `Deployment.v1.apps`.
fn gvk(object: &Map<String, Value>) -> String {
    let api = object.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
    let (group, version) = api.rsplit_once('/').unwrap_or(("", api));
    let group = if group.is_empty() { "[noGrp]" } else { group };
    format!("{kind}.{version}.{group}")
}

fn meta_str(object: &Map<String, Value>, field: &str) -> String {
    object.get("metadata").and_then(|m| m.get(field)).and_then(Value::as_str).unwrap_or("").to_owned()
}

fn decrypt_error(object: &Map<String, Value>, what: String, source: OpError) -> ObjectError {
    ObjectError::Decrypt {
        gvk: gvk(object),
        namespace: meta_str(object, "namespace"),
        name: meta_str(object, "name"),
        what,
        source: Box::new(source),
    }
}

fn not_an_object(object: &Map<String, Value>, message: String) -> ObjectError {
    ObjectError::NotAnObject { gvk: gvk(object), name: meta_str(object, "name"), message }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::age::Identity;
    use crate::sops::ops::EncryptParams;
    use crate::sops::rules::Selection;

    fn identity() -> Identity {
        Identity::generate()
    }

    fn keyring(id: &Identity) -> Keyring {
        let mut ring = Keyring::new();
        ring.add_age("test", [id.clone()]);
        ring
    }

    fn encrypt(format: Format, text: &str, id: &Identity, regex: Option<&str>) -> Vec<u8> {
        let recipient = id.recipient();
        let mut params = EncryptParams::age(&[recipient.as_str()]);
        if let Some(regex) = regex {
            params.rule = Some(Selection::EncryptedRegex(regex::Regex::new(regex).expect("regex")));
        }
        let store = store::for_format(format, StoreConfig::default());
        ops::encrypt(&*store, &*store, text.as_bytes(), params).expect("encrypt").into_vec()
    }

    fn secret_yaml() -> &'static str {
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: prod\ntype: Opaque\nstringData:\n  password: hunter2\n"
    }

    fn as_object(bytes: &[u8], format: Format) -> Map<String, Value> {
        let text = std::str::from_utf8(bytes).expect("utf8");
        let value: Value = match format {
            Format::Json => serde_json::from_str(text).expect("json"),
            _ => serde_saphyr::from_str(text).expect("yaml"),
        };
        match value {
            Value::Object(map) => map,
            _ => panic!("not a map"),
        }
    }

    #[test]
    fn whole_document_is_decrypted_and_loses_its_sops_block() {
        let id = identity();
        let enc = encrypt(Format::Yaml, secret_yaml(), &id, Some("^(data|stringData)$"));
        let mut object = as_object(&enc, Format::Yaml);
        assert_ne!(object["stringData"]["password"], "hunter2");
        // The build adds labels after encryption; the MAC no longer matches and must not matter.
        object["metadata"]["labels"] = serde_json::json!({"env": "prod"});
        assert!(decrypt_object(&mut object, &keyring(&id)).expect("decrypt"));
        assert_eq!(object["stringData"]["password"], "hunter2");
        assert_eq!(object["metadata"]["labels"]["env"], "prod");
        assert!(!object.contains_key("sops"));
    }

    #[test]
    fn disabled_annotation_leaves_the_object_alone() {
        let id = identity();
        let enc = encrypt(Format::Yaml, secret_yaml(), &id, Some("^(data|stringData)$"));
        let mut object = as_object(&enc, Format::Yaml);
        object["metadata"]["annotations"] = serde_json::json!({DECRYPT_ANNOTATION: "disabled"});
        let before = object.clone();
        assert!(!decrypt_object(&mut object, &keyring(&id)).expect("decrypt"));
        assert_eq!(object, before);
    }

    #[test]
    fn secret_entries_holding_sops_files_are_decrypted_by_extension() {
        let id = identity();
        let env = encrypt(Format::Dotenv, "USER=admin\nPASS=s3cret\n", &id, None);
        let json = encrypt(Format::Json, "{\"token\": \"abc\"}", &id, None);
        let mut object = serde_json::json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "creds"},
            "data": {
                "app.env": STANDARD.encode(&env),
                "auth.json": STANDARD.encode(&json),
                "plain.txt": STANDARD.encode(b"not encrypted"),
                "junk": "***not base64***",
            }
        });
        let map = object.as_object_mut().expect("map");
        assert!(decrypt_object(map, &keyring(&id)).expect("decrypt"));
        let decoded = |k: &str| String::from_utf8(STANDARD.decode(map["data"][k].as_str().unwrap()).unwrap()).unwrap();
        assert_eq!(decoded("app.env"), "USER=admin\nPASS=s3cret\n");
        let auth: Value = serde_json::from_str(&decoded("auth.json")).unwrap();
        assert_eq!(auth["token"], "abc");
        assert_eq!(decoded("plain.txt"), "not encrypted");
        assert_eq!(map["data"]["junk"], "***not base64***");
    }

    #[test]
    fn a_wrong_key_names_the_object_in_flux_words() {
        let id = identity();
        let enc = encrypt(Format::Yaml, secret_yaml(), &id, Some("^(data|stringData)$"));
        let mut object = as_object(&enc, Format::Yaml);
        let err = decrypt_object(&mut object, &keyring(&identity())).expect_err("wrong key");
        let text = err.to_string();
        assert!(
            text.starts_with(
                "decryption failed for 'Secret.v1.[noGrp]/db': failed to decrypt and format 'prod/db' Secret data: "
            ),
            "{text}"
        );
        assert!(!text.contains("hunter2"));
    }

    #[test]
    fn plain_objects_are_untouched() {
        let mut object =
            serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}});
        let map = object.as_object_mut().expect("map");
        assert!(!decrypt_object(map, &Keyring::new()).expect("nothing to do"));
        assert_eq!(gvk(map), "Deployment.v1.apps");
    }
}
