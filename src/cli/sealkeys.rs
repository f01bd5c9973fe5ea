//! `keys generate` and `keys list`: sealing keys as the sealed-secrets controller makes and
//! stores them (RSA-4096, a self-signed certificate, a `kubernetes.io/tls` Secret labelled
//! `sealedsecrets.bitnami.com/sealed-secrets-key: active`).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use base64::Engine as _;
use clap::{Args, Subcommand};
use sealops::crypto::rsa::{self, Certificate, PrivateKey};
use sealops::sealed::keys::{ACTIVE, KEY_LABEL};
use sealops::sealed::{KeySet, SealingKey};
use serde_json::json;

use super::io::{self, Input, Output};
use super::kube_out::{self, Format};

#[derive(Args)]
pub struct KeysArgs {
    #[command(subcommand)]
    pub command: KeysCommand,
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Make a sealing key pair as the controller does; prints the key Secret, or writes
    /// tls.crt, tls.key and sealing-key-secret.yaml into --out.
    Generate(GenerateArgs),
    /// Show the fingerprint, validity and age of sealing keys (key Secrets, Lists of them, or certificates).
    List(ListArgs),
    /// Turn an existing key pair (PEM tls.crt + tls.key, e.g. bring-your-own) into the
    /// controller's key Secret, after checking that the two belong together.
    Import(ImportArgs),
    /// In the cluster: create a new sealing key Secret when the newest key is older than
    /// --if-older-than (what the install's key-renewal CronJob runs).
    #[cfg(feature = "daemon")]
    Renew(RenewArgs),
}

#[cfg(feature = "daemon")]
#[derive(Args)]
pub struct RenewArgs {
    /// The controller's namespace (default: $POD_NAMESPACE, the service account's, or default).
    #[arg(long)]
    pub namespace: Option<String>,
    /// generateName of new key Secrets (the daemon's --key-prefix).
    #[arg(long, default_value = "sealed-secrets-key")]
    pub key_prefix: String,
    /// Create a key only when the newest is at least this old (Go duration, e.g. 720h).
    #[arg(long, default_value = "720h")]
    pub if_older_than: String,
    /// RSA bits of the new key.
    #[arg(long, default_value_t = 4096)]
    pub key_size: usize,
    /// Validity of the new certificate (Go duration).
    #[arg(long, default_value = "87600h")]
    pub key_ttl: String,
    /// CN of the new certificate (empty DN by default, as upstream).
    #[arg(long, default_value = "")]
    pub my_cn: String,
    /// Which key counts as the newest: CertNotBefore or SecretCreationTimestamp.
    #[arg(long, default_value = "CertNotBefore")]
    pub key_order_priority: String,
    /// kubeconfig to use (default: in-cluster, then $KUBECONFIG / ~/.kube/config).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
}

#[derive(Args)]
pub struct ImportArgs {
    /// The certificate (PEM; the first certificate counts).
    #[arg(long)]
    pub cert: PathBuf,
    /// The private key (PEM, PKCS#1 or PKCS#8).
    #[arg(long)]
    pub key: PathBuf,
    /// Write the key Secret to this file (atomically) instead of standard output.
    #[arg(short = 'w', long)]
    pub output: Option<PathBuf>,
    /// Namespace of the key Secret (the controller's namespace).
    #[arg(long, default_value = "kube-system")]
    pub namespace: String,
    /// generateName prefix of the key Secret (the controller's --key-prefix).
    #[arg(long, default_value = "sealed-secrets-key")]
    pub key_prefix: String,
}

#[derive(Args)]
pub struct GenerateArgs {
    /// Directory to write tls.crt, tls.key and sealing-key-secret.yaml into (created if needed; existing files are not overwritten).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// RSA key size in bits (the controller's --key-size).
    #[arg(long, default_value_t = rsa::DEFAULT_BITS)]
    pub key_size: usize,
    /// Certificate validity in days (the controller's --key-ttl, 87600h).
    #[arg(long, default_value_t = 3650)]
    pub validity_days: i64,
    /// Common name of the certificate (the controller's --my-cn; empty by default).
    #[arg(long, default_value = "")]
    pub common_name: String,
    /// Namespace of the key Secret (the controller's namespace).
    #[arg(long, default_value = "kube-system")]
    pub namespace: String,
    /// generateName prefix of the key Secret (the controller's --key-prefix).
    #[arg(long, default_value = "sealed-secrets-key")]
    pub key_prefix: String,
}

#[derive(Args)]
pub struct ListArgs {
    /// Key Secret files (JSON/YAML, a v1 List, several documents) or PEM certificates.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

pub fn run(a: KeysArgs) -> Result<()> {
    match a.command {
        KeysCommand::Generate(g) => generate(g),
        KeysCommand::List(l) => list(l),
        KeysCommand::Import(i) => import(i),
        #[cfg(feature = "daemon")]
        KeysCommand::Renew(r) => renew(r),
    }
}

#[cfg(feature = "daemon")]
fn renew(a: RenewArgs) -> Result<()> {
    use sealops::daemon::{keys, parse_go_duration};
    use sealops::sealed::keys::KeyOrder;
    let older_than = parse_go_duration(&a.if_older_than).map_err(|e| anyhow::anyhow!("--if-older-than: {e}"))?;
    let key_ttl = parse_go_duration(&a.key_ttl).map_err(|e| anyhow::anyhow!("--key-ttl: {e}"))?;
    let order = match a.key_order_priority.as_str() {
        "CertNotBefore" => KeyOrder::CertNotBefore,
        "SecretCreationTimestamp" => KeyOrder::SecretCreationTimestamp,
        other => bail!("--key-order-priority: {other:?} is not CertNotBefore or SecretCreationTimestamp"),
    };
    let namespace = super::daemon::controller_namespace(a.namespace.clone());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().context("tokio runtime")?;
    runtime.block_on(async {
        let config = super::daemon::kube_config(a.kubeconfig.as_ref()).await?;
        let client = kube::Client::try_from(config).context("kube client")?;
        let spec = keys::KeySpec {
            namespace: &namespace,
            key_prefix: &a.key_prefix,
            key_size: a.key_size,
            key_ttl,
            my_cn: &a.my_cn,
        };
        match keys::renew_if_older(&client, &spec, order, older_than).await? {
            Some(name) => println!("created sealing key Secret {namespace}/{name}"),
            None => {
                println!("the newest sealing key in {namespace} is younger than {}: nothing to do", a.if_older_than)
            }
        }
        Ok(())
    })
}

const FILES: [&str; 3] = ["tls.crt", "tls.key", "sealing-key-secret.yaml"];

fn generate(a: GenerateArgs) -> Result<()> {
    if a.validity_days <= 0 {
        bail!("--validity-days must be positive");
    }
    if let Some(dir) = &a.out {
        for f in FILES {
            if dir.join(f).exists() {
                bail!("{} already exists; refusing to overwrite a sealing key", dir.join(f).display());
            }
        }
    }
    let key = PrivateKey::generate(a.key_size)?;
    let now = unix_now();
    let cert = key.self_signed_certificate(&a.common_name, now, a.validity_days * 86_400)?;
    let crt_pem = cert.to_pem();
    let key_pem = key.to_pkcs1_pem()?;
    let yaml = key_secret_yaml(&a.key_prefix, &a.namespace, crt_pem.as_bytes(), key_pem.expose());
    match &a.out {
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            io::write_atomic(&dir.join("tls.crt"), crt_pem.as_bytes())?;
            io::write_atomic(&dir.join("tls.key"), key_pem.expose())?;
            io::write_atomic(&dir.join("sealing-key-secret.yaml"), yaml.as_bytes())?;
            eprintln!(
                "sealing key {} (valid until {}) written to {}: tls.crt, tls.key, sealing-key-secret.yaml",
                cert.public_key().fingerprint(),
                rfc3339(cert.not_after()),
                dir.display()
            );
        }
        None => io::write_output(&Output::Stdout, yaml.as_bytes())?,
    }
    Ok(())
}

/// The key Secret as the controller writes it (`writeKey`), in kubeseal's YAML layout.
fn key_secret_yaml(prefix: &str, namespace: &str, tls_crt: &[u8], tls_key: &[u8]) -> zeroize::Zeroizing<String> {
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut secret = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "generateName": prefix,
            "namespace": namespace,
            "labels": { KEY_LABEL: ACTIVE },
        },
        "type": "kubernetes.io/tls",
        "data": { "tls.crt": b64(tls_crt), "tls.key": b64(tls_key) },
    });
    let yaml = zeroize::Zeroizing::new(kube_out::render(std::slice::from_ref(&secret), Format::Yaml));
    sealops::crypto::secret::wipe_json(&mut secret);
    yaml
}

fn import(a: ImportArgs) -> Result<()> {
    let crt = io::read_input(&Input::File(&a.cert), io::input_limit(false))?;
    let key = zeroize::Zeroizing::new(io::read_input(&Input::File(&a.key), io::input_limit(false))?.into_vec());
    let pair = SealingKey::from_pem(&format!("{} + {}", a.cert.display(), a.key.display()), &crt, &key)?;
    let cert = pair.certificate();
    if cert.is_expired_at(unix_now()) {
        bail!(
            "{}: the certificate expired on {}; kubeseal refuses to seal to it",
            a.cert.display(),
            rfc3339(cert.not_after())
        );
    }
    let yaml = key_secret_yaml(&a.key_prefix, &a.namespace, &crt, &key);
    let output = a.output.clone().map_or(Output::Stdout, Output::File);
    io::write_output(&output, yaml.as_bytes())?;
    eprintln!("sealing key {} (valid until {})", pair.fingerprint(), rfc3339(cert.not_after()));
    Ok(())
}

fn list(a: ListArgs) -> Result<()> {
    let now = unix_now();
    let mut rows =
        vec![["FINGERPRINT".to_owned(), "NOT BEFORE".into(), "NOT AFTER".into(), "AGE".into(), "SOURCE".into()]];
    for file in &a.files {
        let text = zeroize::Zeroizing::new(io::read_input(&Input::File(file), io::input_limit(false))?.into_vec());
        for (source, cert) in certificates(file, &text)? {
            let mut after = rfc3339(cert.not_after());
            if cert.is_expired_at(now) {
                after.push_str(" (expired)");
            }
            rows.push([
                cert.public_key().fingerprint().to_owned(),
                rfc3339(cert.not_before()),
                after,
                age(now - cert.not_before()),
                source,
            ]);
        }
    }
    let widths: Vec<usize> = (0..5).map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for row in &rows {
        let line: Vec<String> = row.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    io::write_output(&Output::Stdout, out.as_bytes())
}

/// The certificates in a file: PEM `CERTIFICATE` blocks, else key Secrets (one per document,
/// or a List), each checked against its private key.
fn certificates(file: &Path, text: &[u8]) -> Result<Vec<(String, Certificate)>> {
    let shown = file.display().to_string();
    let blocks = pem::parse_many(text).unwrap_or_default();
    let certs: Vec<_> = blocks.iter().filter(|b| b.tag() == "CERTIFICATE").collect();
    if !certs.is_empty() {
        return certs
            .into_iter()
            .map(|b| Certificate::from_der(b.contents()).map(|c| (shown.clone(), c)).with_context(|| shown.clone()))
            .collect();
    }
    let mut out = Vec::new();
    for doc in super::seal::documents(text)? {
        for key in KeySet::parse_secrets(doc, &shown)? {
            let source = match key.name() {
                Some(name) => format!("{shown} ({name})"),
                None => shown.clone(),
            };
            out.push((source, key.certificate().clone()));
        }
    }
    if out.is_empty() {
        bail!("{shown}: no certificate or key Secret found");
    }
    Ok(out)
}

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// `2026-01-02T03:04:05Z`.
pub fn rfc3339(unix: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(unix) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        Err(_) => unix.to_string(),
    }
}

/// kubectl-style age: `45s`, `12m`, `5h`, `30d`, `2y`.
fn age(secs: i64) -> String {
    match secs {
        s if s < 0 => "not yet valid".into(),
        s if s < 120 => format!("{s}s"),
        s if s < 7_200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3_600),
        s if s < 2 * 365 * 86_400 => format!("{}d", s / 86_400),
        s => format!("{}y", s / (365 * 86_400)),
    }
}
