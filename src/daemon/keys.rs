//! The key registry (`shared/specs/sealed-secrets.md` §4.3): the sealing keys are the Secrets
//! labelled `sealedsecrets.bitnami.com/sealed-secrets-key=active` in the controller namespace,
//! plus the pre-v0.9 Secret named exactly `--key-prefix`. The newest key seals; all keys unseal.
//!
//! Unlike upstream (§4.3 step 6), the label is watched: a key Secret created, relabelled or
//! deleted while the daemon runs is picked up (or dropped) without a restart. Renewal (§4.3
//! step 4) runs on the leader only, so two replicas never both mint a key; SIGUSR1
//! ([`super::Shared::renew_key_now`]) asks it for a key at once. Generated key Secrets carry
//! `--privatekey-labels` and `--privatekey-annotations` ([`parse_pairs`], §4.2).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use base64::Engine as _;
use futures::StreamExt as _;
use k8s_openapi::api::core::v1::Secret as KubeSecret;
use kube::Api;
use kube::api::{ListParams, PostParams};
use kube::runtime::{WatchStreamExt as _, watcher};
use serde_json::json;
use tokio::sync::watch;

use super::{Config, Shared};
use crate::crypto::rsa::PrivateKey;
use crate::sealed::document::Secret;
use crate::sealed::keys::{ACTIVE, KEY_LABEL, KeyOrder, KeySet, SealingKey};

/// Errors of the key registry.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeysError {
    #[error("cannot list key Secrets in namespace {namespace} (label {KEY_LABEL}={ACTIVE}): {source}")]
    List {
        namespace: String,
        #[source]
        source: kube::Error,
    },
    #[error("cannot read the legacy key Secret {namespace}/{name}: {source}")]
    Legacy {
        namespace: String,
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("cannot generate a sealing key: {0}")]
    Generate(#[source] crate::crypto::rsa::RsaError),
    #[error("cannot create the key Secret {namespace}/{prefix}…: {source}")]
    Create {
        namespace: String,
        prefix: String,
        #[source]
        source: kube::Error,
    },
    #[error("--{flag}: {entry:?} {reason}")]
    Flag { flag: &'static str, entry: String, reason: String },
}

impl KeysError {
    /// A stable identifier for metrics and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::List { .. } => "list",
            Self::Legacy { .. } => "legacy",
            Self::Generate(_) => "generate",
            Self::Create { .. } => "create",
            Self::Flag { .. } => "flag",
        }
    }
}

/// The current key set, shared by the controller and the HTTP API. Readers take a cheap
/// snapshot (`Arc<KeySet>`) and never block a reload.
pub struct KeyRegistry {
    order: KeyOrder,
    current: RwLock<Arc<KeySet>>,
    /// Key Secrets by name: the labelled ones (from the list and the watch) and the legacy one.
    secrets: Mutex<Sources>,
    loaded: watch::Sender<bool>,
}

#[derive(Default)]
struct Sources {
    labelled: BTreeMap<String, KubeSecret>,
    legacy: Option<KubeSecret>,
}

impl KeyRegistry {
    pub fn new(order: KeyOrder) -> Self {
        Self {
            order,
            current: RwLock::new(Arc::new(KeySet::default())),
            secrets: Mutex::new(Sources::default()),
            loaded: watch::channel(false).0,
        }
    }

    /// The keys as they are now.
    pub fn snapshot(&self) -> Arc<KeySet> {
        self.current.read().map_or_else(|p| p.into_inner().clone(), |g| g.clone())
    }

    /// True once the first load finished.
    pub fn is_loaded(&self) -> bool {
        *self.loaded.borrow()
    }

    /// §4.3 steps 1–3: list the labelled key Secrets and the legacy one, and build the set.
    pub async fn load(&self, client: &kube::Client, config: &Config) -> Result<(), KeysError> {
        self.load_from(client, &config.namespace, &config.key_prefix).await
    }

    async fn load_from(&self, client: &kube::Client, namespace: &str, key_prefix: &str) -> Result<(), KeysError> {
        let api: Api<KubeSecret> = Api::namespaced(client.clone(), namespace);
        let listed = api
            .list(&ListParams::default().labels(&format!("{KEY_LABEL}={ACTIVE}")))
            .await
            .map_err(|source| KeysError::List { namespace: namespace.to_owned(), source })?;
        let legacy = api.get_opt(key_prefix).await.map_err(|source| KeysError::Legacy {
            namespace: namespace.to_owned(),
            name: key_prefix.to_owned(),
            source,
        })?;
        {
            let mut sources = self.lock();
            sources.labelled = listed.items.into_iter().filter_map(|s| Some((s.metadata.name.clone()?, s))).collect();
            sources.legacy = legacy;
        }
        self.rebuild();
        self.loaded.send_replace(true);
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Sources> {
        self.secrets.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Re-reads every key Secret into a new set. A Secret that does not hold a usable key is
    /// skipped with a warning (upstream panics there, fixed in PR #2034).
    fn rebuild(&self) {
        let keys: Vec<SealingKey> = {
            let sources = self.lock();
            let legacy = sources.legacy.iter().filter(|l| {
                // The legacy Secret may also carry the label; count it once.
                !l.metadata.name.as_ref().is_some_and(|n| sources.labelled.contains_key(n))
            });
            sources.labelled.values().chain(legacy).filter_map(key_from_secret).collect()
        };
        let set = Arc::new(KeySet::new(keys, self.order));
        if let Some(latest) = set.latest() {
            tracing::info!(keys = set.len(), latest = latest.fingerprint(), "sealing keys loaded");
        } else {
            tracing::warn!("no sealing keys");
        }
        match self.current.write() {
            Ok(mut guard) => *guard = set,
            Err(poisoned) => *poisoned.into_inner() = set,
        }
    }

    fn apply(&self, secret: KubeSecret) {
        if let Some(name) = secret.metadata.name.clone() {
            self.lock().labelled.insert(name, secret);
        }
    }

    fn remove(&self, name: &str) {
        self.lock().labelled.remove(name);
    }

    fn replace_all(&self, secrets: Vec<KubeSecret>) {
        self.lock().labelled = secrets.into_iter().filter_map(|s| Some((s.metadata.name.clone()?, s))).collect();
    }
}

fn key_from_secret(secret: &KubeSecret) -> Option<SealingKey> {
    let name = secret.metadata.name.as_deref().unwrap_or("?");
    let parsed = serde_json::to_vec(secret)
        .map_err(|e| e.to_string())
        .and_then(|json| Secret::parse(&json, &format!("key Secret {name}")).map_err(|e| e.to_string()))
        .and_then(|s| SealingKey::from_secret(&s).map_err(|e| e.to_string()));
    match parsed {
        Ok(key) => Some(key),
        Err(message) => {
            // The messages name the Secret and the field, never key bytes.
            tracing::warn!(secret = name, error = %message, "skipping a key Secret that holds no usable key");
            None
        }
    }
}

/// Watches the labelled key Secrets and rebuilds the set on every change, so new, relabelled and
/// deleted keys take effect without a restart.
pub async fn watch_keys(shared: Arc<Shared>, mut stopped: watch::Receiver<bool>) {
    let api: Api<KubeSecret> = Api::namespaced(shared.client.clone(), &shared.config.namespace);
    let config = watcher::Config::default().labels(&format!("{KEY_LABEL}={ACTIVE}"));
    let mut stream = std::pin::pin!(watcher(api, config).default_backoff());
    let mut initial: Vec<KubeSecret> = Vec::new();
    loop {
        let event = tokio::select! {
            event = stream.next() => event,
            _ = stopped.changed() => return,
        };
        let Some(event) = event else { return };
        match event {
            Ok(watcher::Event::Init) => initial.clear(),
            Ok(watcher::Event::InitApply(secret)) => initial.push(secret),
            Ok(watcher::Event::InitDone) => {
                shared.keys.replace_all(std::mem::take(&mut initial));
                shared.keys.rebuild();
            }
            Ok(watcher::Event::Apply(secret)) => {
                shared.keys.apply(secret);
                shared.keys.rebuild();
            }
            Ok(watcher::Event::Delete(secret)) => {
                if let Some(name) = secret.metadata.name.as_deref() {
                    shared.keys.remove(name);
                    shared.keys.rebuild();
                }
            }
            Err(e) => tracing::warn!(error = %e, "key Secret watch failed; retrying"),
        }
    }
}

/// The ordering time of the newest key (Unix seconds), as `--key-order-priority` defines it.
fn latest_time(keys: &KeySet, order: KeyOrder) -> Option<i64> {
    let latest = keys.latest()?;
    match order {
        KeyOrder::CertNotBefore => Some(latest.certificate().not_before()),
        KeyOrder::SecretCreationTimestamp => {
            latest.created().and_then(super::parse_rfc3339).map(|t| t as i64).or(Some(i64::MIN))
        }
    }
}

/// When the next key is due (Unix seconds): now when there is none or the newest is older than
/// the cutoff; `latest + period` otherwise; never when the period is zero (§4.3 step 4).
fn next_due(latest: Option<i64>, cutoff: Option<i64>, period: Duration, now: i64) -> Option<i64> {
    let Some(latest) = latest else { return Some(now) };
    if cutoff.is_some_and(|c| latest < c) {
        return Some(now);
    }
    if period.is_zero() {
        return None;
    }
    Some(latest.saturating_add(i64::try_from(period.as_secs()).unwrap_or(i64::MAX)))
}

/// Generates keys when due, for as long as this replica leads.
pub async fn renew(shared: Arc<Shared>, mut stopped: watch::Receiver<bool>) {
    let config = &shared.config;
    loop {
        let now = super::unix_now();
        let keys = shared.keys.snapshot();
        let due = next_due(latest_time(&keys, config.key_order), config.key_cutoff, config.key_renew_period, now);
        // Re-check at least every 30 s: a key may appear or vanish through the watch.
        let wait = match due {
            Some(due) if due <= now => Duration::ZERO,
            Some(due) => Duration::from_secs(u64::try_from(due - now).unwrap_or(0)).min(Duration::from_secs(30)),
            None => Duration::from_secs(30),
        };
        let now_requested = if wait.is_zero() {
            false
        } else {
            tokio::select! {
                () = tokio::time::sleep(wait) => false,
                () = shared.renew_now.notified() => true,
                _ = stopped.changed() => return,
            }
        };
        if !(wait.is_zero() || now_requested) {
            continue;
        }
        match generate(&shared).await {
            Ok(name) => tracing::info!(secret = %name, "new sealing key created"),
            Err(e) => {
                tracing::error!(error = %e, "cannot create a sealing key; retrying in 10s");
                if now_requested {
                    // A failed SIGUSR1 renewal is not repeated by itself (upstream logs it too).
                    continue;
                }
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(10)) => {}
                    _ = stopped.changed() => return,
                }
            }
        }
    }
}

/// Labels and annotations added to generated key Secrets (`--privatekey-labels`,
/// `--privatekey-annotations`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyMetadata {
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

/// Which of the two flags is parsed: label values are checked as Kubernetes label values,
/// annotation values are free text.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum PairKind {
    Labels,
    Annotations,
}

/// Parses `--privatekey-labels` / `--privatekey-annotations`: `k=v,k2=v2` (§4.2, upstream
/// `writeKey`). As upstream, an entry repeated later wins and the key label
/// `sealedsecrets.bitnami.com/sealed-secrets-key` is never replaced; empty entries (a trailing
/// comma) are skipped. Where upstream panics (an entry without `=`) or keeps only the text
/// between the first and second `=`, this refuses the entry or keeps everything after the
/// first `=`. Keys must be Kubernetes qualified names, so a typo fails at start instead of at
/// the first renewal.
pub fn parse_pairs(kind: PairKind, text: &str) -> Result<BTreeMap<String, String>, KeysError> {
    let flag = match kind {
        PairKind::Labels => "privatekey-labels",
        PairKind::Annotations => "privatekey-annotations",
    };
    let fail = |entry: &str, reason: String| KeysError::Flag { flag, entry: entry.to_owned(), reason };
    let mut out = BTreeMap::new();
    for entry in text.split(',').filter(|e| !e.is_empty()) {
        let Some((key, value)) = entry.split_once('=') else {
            return Err(fail(entry, "is not key=value".into()));
        };
        qualified_name(key).map_err(|reason| fail(entry, format!("has an invalid key: {reason}")))?;
        if kind == PairKind::Labels {
            label_value(value).map_err(|reason| fail(entry, format!("has an invalid label value: {reason}")))?;
            if key == KEY_LABEL {
                continue;
            }
        }
        out.insert(key.to_owned(), value.to_owned());
    }
    Ok(out)
}

/// `[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?`, at most 63 characters (a label value may be empty).
fn label_value(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Ok(());
    }
    let bytes = value.as_bytes();
    let edge_ok = |b: &u8| b.is_ascii_alphanumeric();
    if value.len() > 63 {
        return Err(format!("{value:?} is longer than 63 characters"));
    }
    if !bytes.first().is_some_and(edge_ok)
        || !bytes.last().is_some_and(edge_ok)
        || !bytes.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(format!("{value:?} must be alphanumerics, '-', '_' or '.', starting and ending alphanumeric"));
    }
    Ok(())
}

/// A Kubernetes qualified name: an optional DNS-subdomain prefix and `/`, then a name shaped
/// like a non-empty label value.
fn qualified_name(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if name.is_empty() {
        return Err(format!("{key:?} has an empty name"));
    }
    label_value(name)?;
    if let Some(prefix) = prefix {
        let dns_label = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if prefix.is_empty() || prefix.len() > 253 || !prefix.split('.').all(dns_label) {
            return Err(format!("the prefix {prefix:?} is not a DNS subdomain"));
        }
    }
    Ok(())
}

/// Where and how a new sealing key is made (the daemon's flags, or `sealops keys renew`'s).
pub struct KeySpec<'a> {
    pub namespace: &'a str,
    pub key_prefix: &'a str,
    pub key_size: usize,
    pub key_ttl: Duration,
    pub my_cn: &'a str,
}

/// §4.1–4.2: a new RSA key and self-signed certificate, stored as a `kubernetes.io/tls` Secret
/// (generateName `--key-prefix`, PKCS#1 `tls.key`). Returns the created Secret.
pub async fn create_key(client: &kube::Client, spec: &KeySpec<'_>) -> Result<KubeSecret, KeysError> {
    create_key_with(client, spec, &KeyMetadata::default()).await
}

/// [`create_key`] with extra labels and annotations on the Secret (the key label stays
/// `active` whatever `extra` says).
pub async fn create_key_with(
    client: &kube::Client,
    spec: &KeySpec<'_>,
    extra: &KeyMetadata,
) -> Result<KubeSecret, KeysError> {
    let (bits, cn, ttl) = (spec.key_size, spec.my_cn.to_owned(), spec.key_ttl);
    let made = tokio::task::spawn_blocking(move || {
        let key = PrivateKey::generate(bits)?;
        let cert =
            key.self_signed_certificate(&cn, super::unix_now(), i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX))?;
        Ok::<_, crate::crypto::rsa::RsaError>((cert.to_pem(), key.to_pkcs1_pem()?))
    })
    .await
    .map_err(|_| KeysError::Generate(crate::crypto::rsa::RsaError::PrivateKey("key generation task failed")))?
    .map_err(KeysError::Generate)?;
    let (crt, key) = made;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut labels = extra.labels.clone();
    labels.insert(KEY_LABEL.to_owned(), ACTIVE.to_owned());
    let body = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "generateName": spec.key_prefix,
            "namespace": spec.namespace,
            "labels": labels,
            "annotations": extra.annotations,
        },
        "type": "kubernetes.io/tls",
        "data": { "tls.crt": b64(crt.as_bytes()), "tls.key": b64(key.expose()) },
    });
    let secret: KubeSecret = serde_json::from_value(body)
        .map_err(|_| KeysError::Generate(crate::crypto::rsa::RsaError::PrivateKey("cannot build the key Secret")))?;
    let api: Api<KubeSecret> = Api::namespaced(client.clone(), spec.namespace);
    api.create(&PostParams::default(), &secret).await.map_err(|source| KeysError::Create {
        namespace: spec.namespace.to_owned(),
        prefix: spec.key_prefix.to_owned(),
        source,
    })
}

/// The daemon's renewal: a new key, registered at once. Returns the Secret's name.
pub async fn generate(shared: &Shared) -> Result<String, KeysError> {
    let config = &shared.config;
    let spec = KeySpec {
        namespace: &config.namespace,
        key_prefix: &config.key_prefix,
        key_size: config.key_size,
        key_ttl: config.key_ttl,
        my_cn: &config.my_cn,
    };
    let extra = KeyMetadata { labels: config.key_labels.clone(), annotations: config.key_annotations.clone() };
    let created = create_key_with(&shared.client, &spec, &extra).await?;
    let name = created.metadata.name.clone().unwrap_or_default();
    shared.keys.apply(created);
    shared.keys.rebuild();
    Ok(name)
}

/// `sealops keys renew` (the install's CronJob): lists the key Secrets in the namespace and
/// creates a new key only when there is none or the newest is at least `older_than` old.
/// Returns the new Secret's name, or `None` when the newest key is recent enough.
pub async fn renew_if_older(
    client: &kube::Client,
    spec: &KeySpec<'_>,
    order: KeyOrder,
    older_than: Duration,
) -> Result<Option<String>, KeysError> {
    let registry = KeyRegistry::new(order);
    registry.load_from(client, spec.namespace, spec.key_prefix).await?;
    let now = super::unix_now();
    let age = latest_time(&registry.snapshot(), order).map(|t| now.saturating_sub(t));
    let due = match age {
        None => true,
        Some(age) => u64::try_from(age).unwrap_or(0) >= older_than.as_secs(),
    };
    if !due {
        return Ok(None);
    }
    let created = create_key(client, spec).await?;
    Ok(created.metadata.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: u64 = 86_400;

    #[test]
    fn a_key_is_due_at_once_without_keys_or_past_the_cutoff() {
        assert_eq!(next_due(None, None, Duration::from_secs(30 * DAY), 1000), Some(1000));
        assert_eq!(next_due(Some(500), Some(600), Duration::ZERO, 1000), Some(1000));
        // A key newer than the cutoff is kept.
        assert_eq!(next_due(Some(700), Some(600), Duration::ZERO, 1000), None);
    }

    #[test]
    fn renewal_is_scheduled_from_the_latest_key() {
        assert_eq!(next_due(Some(100), None, Duration::from_secs(DAY), 1000), Some(100 + 86_400));
        assert_eq!(next_due(Some(100), None, Duration::ZERO, 1000), None, "period 0 disables renewal");
    }

    #[test]
    fn key_labels_and_annotations_parse_as_upstream_writes_them() {
        let labels = parse_pairs(PairKind::Labels, "team=platform,env=prod,team=sec,").expect("labels");
        assert_eq!(labels, [("env".to_owned(), "prod".to_owned()), ("team".to_owned(), "sec".to_owned())].into());
        let labels = parse_pairs(PairKind::Labels, "sealedsecrets.bitnami.com/sealed-secrets-key=compromised,a=b")
            .expect("labels");
        assert_eq!(labels.len(), 1, "the key label is never replaced");
        let notes = parse_pairs(PairKind::Annotations, "example.com/owner=team a,link=https://x.example/?q=1")
            .expect("annotations");
        assert_eq!(notes["link"], "https://x.example/?q=1");
        assert_eq!(notes["example.com/owner"], "team a");
        assert!(parse_pairs(PairKind::Labels, "").expect("empty").is_empty());
    }

    #[test]
    fn bad_key_labels_and_annotations_name_the_flag_and_the_entry() {
        let e = parse_pairs(PairKind::Labels, "a=b,novalue").expect_err("no =");
        assert_eq!(e.to_string(), "--privatekey-labels: \"novalue\" is not key=value");
        let e = parse_pairs(PairKind::Labels, "team=two words").expect_err("space in label value");
        assert!(e.to_string().starts_with("--privatekey-labels: \"team=two words\" has an invalid label value"), "{e}");
        let e = parse_pairs(PairKind::Annotations, "Bad_Prefix/x=1").expect_err("prefix");
        assert!(e.to_string().starts_with("--privatekey-annotations: \"Bad_Prefix/x=1\" has an invalid key"), "{e}");
        let e = parse_pairs(PairKind::Annotations, "=v").expect_err("empty key");
        assert!(e.to_string().starts_with("--privatekey-annotations:"), "{e}");
        assert_eq!(e.kind(), "flag");
    }

    #[test]
    fn upstream_key_secrets_are_read_and_bad_ones_skipped() {
        let text = include_str!("../../tests/data/sealed-secrets-upstream/keys/key-a/sealing-key-secret.yaml");
        let secret: KubeSecret = serde_saphyr::from_str(text).expect("key Secret YAML");
        let key = key_from_secret(&secret).expect("key-a opens");
        assert_eq!(key.fingerprint(), "SHA256:oJPIbGntUq+3CbWaXvAr+jxc6otWrWip83ZTdkghCp8");
        let mut broken = secret.clone();
        broken.data.as_mut().expect("data").remove("tls.key");
        assert!(key_from_secret(&broken).is_none());
    }
}
