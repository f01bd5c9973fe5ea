//! `reseal`: re-encrypt every SealedSecret under a directory to a new certificate, offline.
//!
//! Each item is opened with the backed-up keys under the label of the object's **outer**
//! metadata (what the controller uses) and sealed again under that same label, so the scope can
//! never change, and in particular never widen (the CVE-2026-22728 shape, a cluster-wide
//! annotation only in the template, stays strict). Metadata and template are left as they are;
//! only `spec.encryptedData` values change. Each file is rewritten atomically, and only when
//! every SealedSecret in it was resealed: a file that fails is left byte-identical.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use base64::Engine as _;
use clap::Args;
use sealops::crypto::rsa::{Certificate, PrivateKey};
use sealops::sealed::SealedSecret;
use sealops::sealed::scheme;

use super::exit::{Code, Exit};
use super::io::{self, Input};
use super::kube_out::{self, Format};
use super::walk::{self, Outcome};

#[derive(Args)]
pub struct ResealArgs {
    /// Directories (walked recursively; hidden directories and symbolic links are skipped) or files.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Keys that open the current SealedSecrets: PEM files, key Secrets or a v1 List (repeatable, comma-separated).
    #[arg(long, value_delimiter = ',', required = true)]
    pub recovery_private_key: Vec<PathBuf>,
    /// The new sealing certificate (file or file:// URL).
    #[arg(long, required = true)]
    pub cert: String,
}

pub fn run(a: ResealArgs) -> Result<()> {
    let keys = super::seal::load_private_keys(&a.recovery_private_key)?;
    let cert = super::seal::certificate(&a.cert)?;
    let refs: Vec<&PrivateKey> = keys.iter().collect();
    let files: Vec<PathBuf> = walk::expand(&a.paths)?
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml" || e == "json"))
        .collect();
    let resealed = std::sync::atomic::AtomicUsize::new(0);
    let summary = walk::run_all(files, "resealing", PathBuf::clone, |path| {
        let n = reseal_file(&path, &refs, &cert)?;
        if n == 0 {
            return Ok(Outcome::Skipped("no SealedSecret"));
        }
        resealed.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        Ok(Outcome::Changed)
    });
    for (path, err) in &summary.failed {
        eprintln!("{}: {}", path.display(), super::render(err));
    }
    eprintln!(
        "resealed {} SealedSecret(s) in {} file(s) to {}; {} file(s) without SealedSecrets skipped; {} failed",
        resealed.into_inner(),
        summary.changed.len(),
        cert.public_key().fingerprint(),
        summary.skipped.len(),
        summary.failed.len()
    );
    match summary.failed.len() {
        0 => Ok(()),
        n => bail!(Exit::new(Code::Generic, format!("{n} file(s) could not be resealed; they were left unchanged"))),
    }
}

/// Reseals the SealedSecrets of one file (other documents are kept as they are); returns how
/// many there were. Writes nothing unless all of them succeed.
fn reseal_file(path: &Path, keys: &[&PrivateKey], cert: &Certificate) -> Result<usize> {
    let text = io::read_input(&Input::File(path), io::input_limit(false))?;
    if !text.windows(b"SealedSecret".len()).any(|w| w == b"SealedSecret") {
        return Ok(0);
    }
    let what = path.display().to_string();
    let json = text.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    let docs = super::seal::documents(&text)?;
    let mut out = String::new();
    let mut count = 0;
    for doc in &docs {
        let kind: Option<String> = doc_kind(doc);
        if kind.as_deref() != Some("SealedSecret") {
            if !json {
                out.push_str("---\n");
            }
            out.push_str(std::str::from_utf8(doc)?);
            continue;
        }
        let mut sealed = SealedSecret::parse(doc, &what)?;
        let items = sealed.unseal_items(keys)?;
        let label = sealed.label();
        for (name, value) in &items {
            let blob = scheme::hybrid_encrypt(cert.public_key(), value.expose(), &label)
                .map_err(|e| anyhow::anyhow!("{}: {e}", sealed.object_name()))?;
            sealed.spec.encrypted_data.insert(name.clone(), base64::engine::general_purpose::STANDARD.encode(blob));
        }
        let format = if json { Format::Json } else { Format::Yaml };
        out.push_str(&kube_out::render(&[kube_out::sealed_value(&sealed)], format));
        count += 1;
    }
    if count == 0 {
        return Ok(0);
    }
    // A single YAML document that did not start with `---` keeps that shape.
    if !json && !text.starts_with(b"---") && out.starts_with("---\n") {
        out.replace_range(..4, "");
    }
    io::write_atomic(path, out.as_bytes())?;
    tracing::info!(file = %what, count, "resealed");
    Ok(count)
}

/// The `kind` of one document, if it parses at all.
fn doc_kind(doc: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Probe {
        kind: Option<String>,
    }
    let probe: Probe = if doc.first() == Some(&b'{') {
        serde_json::from_slice(doc).ok()?
    } else {
        serde_saphyr::from_str(std::str::from_utf8(doc).ok()?).ok()?
    };
    probe.kind
}
