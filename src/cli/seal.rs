//! `seal`: kubeseal's command line, offline. Seals Secrets to a certificate file, seals one raw
//! value, merges items into an existing SealedSecret, and opens SealedSecrets with backed-up
//! private keys (`--recovery-unseal`). Errors are printed as kubeseal prints them
//! (`error: <message>`, exit 1), with upstream's wording where scripts match on it.
//!
//! Without `--cert` the certificate comes from the controller, and `--validate`/`--re-encrypt`
//! ask the controller, through the API server's service proxy as kubeseal does
//! (`seal_cluster.rs`), connected with the kubeconfig and kubectl's flags (`--context`,
//! `--server`, `--token`, …; `sealops::k8s::connect`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use base64::Engine as _;
use clap::Args;
use sealops::crypto::SecretBytes;
use sealops::crypto::rsa::{Certificate, PrivateKey};
use sealops::sealed::scheme::{self, CLUSTER_WIDE_ANNOTATION, NAMESPACE_WIDE_ANNOTATION};
use sealops::sealed::{Scope, SealedSecret, Secret};

use zeroize::Zeroizing;

use super::exit::{Code, Exit};
use super::io::{self, Input, Output};
use super::kube_out::{self, Format};

/// kubeseal's flags (`cmd/kubeseal/main.go`), with its environment overrides.
#[derive(Args)]
pub struct SealArgs {
    /// Certificate / public key file, file:// or http(s):// URL to seal with (instead of fetching it from the controller).
    #[arg(long, env = "SEALED_SECRETS_CERT")]
    pub cert: Option<String>,
    /// Output format: json (default) or yaml.
    #[arg(short = 'o', long = "format", env = "SEALED_SECRETS_FORMAT")]
    pub format: Option<String>,
    /// Scope: strict, namespace-wide or cluster-wide (default: from the input's annotations, else strict).
    #[arg(long, env = "SEALED_SECRETS_SCOPE")]
    pub scope: Option<String>,
    /// Read the input from this file instead of standard input.
    #[arg(short = 'f', long = "secret-file")]
    pub secret_file: Option<PathBuf>,
    /// Write the output to this file (atomically) instead of standard output; a .yaml/.yml name means YAML.
    #[arg(short = 'w', long = "sealed-secret-file")]
    pub sealed_secret_file: Option<PathBuf>,
    /// Seal anyway when the Secret has no data.
    #[arg(long, require_equals = true, num_args = 0..=1, default_missing_value = "true", default_value = "false", action = clap::ArgAction::Set, value_parser = pflag_bool)]
    pub allow_empty_data: bool,
    /// Seal the input into this existing SealedSecret file, adding or replacing items; the file is rewritten atomically.
    #[arg(long)]
    pub merge_into: Option<PathBuf>,
    /// Seal one value (from --from-file or standard input) and print only its base64 ciphertext.
    #[arg(long, require_equals = true, num_args = 0..=1, default_missing_value = "true", default_value = "false", action = clap::ArgAction::Set, value_parser = pflag_bool)]
    pub raw: bool,
    /// Name for --raw with strict scope; otherwise overrides the input Secret's name.
    #[arg(long)]
    pub name: Option<String>,
    /// With --raw: the file holding the value, as [key=]path (exactly one).
    #[arg(long)]
    pub from_file: Vec<String>,
    /// Decrypt a SealedSecret with backed-up private keys and print the Secret.
    #[arg(long, require_equals = true, num_args = 0..=1, default_missing_value = "true", default_value = "false", action = clap::ArgAction::Set, value_parser = pflag_bool)]
    pub recovery_unseal: bool,
    /// Private keys for --recovery-unseal: PEM files, key Secrets or a v1 List of them (repeatable, comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub recovery_private_key: Vec<PathBuf>,
    /// Print the certificate (with --cert: a copy of it; else fetched from the controller).
    #[arg(long, require_equals = true, num_args = 0..=1, default_missing_value = "true", default_value = "false", action = clap::ArgAction::Set, value_parser = pflag_bool)]
    pub fetch_cert: bool,
    /// Namespace for Secrets that declare none, and for --raw.
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// Flags that need a live controller or API server: the controller's Service, and kubectl's
/// connection flags, laid over the kubeconfig as kubectl does (`sealops::k8s::connect`).
#[derive(Args, Default)]
#[command(next_help_heading = "Cluster flags (kubectl's, applied over the kubeconfig)")]
pub struct ClusterArgs {
    /// Name of the sealed-secrets controller Service.
    #[arg(long, env = "SEALED_SECRETS_CONTROLLER_NAME")]
    pub controller_name: Option<String>,
    /// Namespace of the sealed-secrets controller.
    #[arg(long, env = "SEALED_SECRETS_CONTROLLER_NAMESPACE")]
    pub controller_namespace: Option<String>,
    /// Re-encrypt SealedSecrets through the controller (offline: `sealops reseal`).
    #[arg(long, visible_alias = "rotate", require_equals = true, num_args = 0..=1, default_missing_value = "true", default_value = "false", action = clap::ArgAction::Set, value_parser = pflag_bool)]
    pub re_encrypt: bool,
    /// Ask the controller whether the SealedSecret can be unsealed.
    #[arg(long, require_equals = true, num_args = 0..=1, default_missing_value = "true", default_value = "false", action = clap::ArgAction::Set, value_parser = pflag_bool)]
    pub validate: bool,
    /// Path to the kubeconfig file (default: the $KUBECONFIG list, else ~/.kube/config, else in-cluster).
    #[arg(long)]
    pub kubeconfig: Option<String>,
    /// The kubeconfig context to use.
    #[arg(long)]
    pub context: Option<String>,
    /// The kubeconfig cluster to use.
    #[arg(long)]
    pub cluster: Option<String>,
    /// The kubeconfig user to use.
    #[arg(long)]
    pub user: Option<String>,
    /// The address and port of the Kubernetes API server.
    #[arg(short = 's', long)]
    pub server: Option<String>,
    /// Bearer token for authentication to the API server.
    #[arg(long)]
    pub token: Option<String>,
    /// Username to impersonate for the operation.
    #[arg(long = "as")]
    pub as_: Option<String>,
    /// Group to impersonate (repeatable).
    #[arg(long)]
    pub as_group: Vec<String>,
    /// UID to impersonate.
    #[arg(long)]
    pub as_uid: Option<String>,
    /// Path to a cert file for the certificate authority.
    #[arg(long)]
    pub certificate_authority: Option<String>,
    /// Path to a client certificate file for TLS.
    #[arg(long)]
    pub client_certificate: Option<String>,
    /// Path to a client key file for TLS.
    #[arg(long)]
    pub client_key: Option<String>,
    /// Do not check the server's certificate (HTTPS connections become insecure).
    #[arg(long, require_equals = true, num_args = 0..=1, default_missing_value = "true", default_value = "false", action = clap::ArgAction::Set, value_parser = pflag_bool)]
    pub insecure_skip_tls_verify: bool,
    /// Server name for certificate validation (default: the server's host name).
    #[arg(long)]
    pub tls_server_name: Option<String>,
    /// How long to wait for one request: seconds, or with a unit (1s, 2m, 3h); 0 means no limit.
    #[arg(long)]
    pub request_timeout: Option<String>,
    /// Username for basic authentication to the API server.
    #[arg(long)]
    pub username: Option<String>,
    /// Password for basic authentication to the API server.
    #[arg(long)]
    pub password: Option<String>,
    /// Do not ask the API server for compressed responses (sealops never does).
    #[arg(long, require_equals = true, num_args = 0..=1, default_missing_value = "true", default_value = "false", action = clap::ArgAction::Set, value_parser = pflag_bool)]
    pub disable_compression: bool,
}

impl ClusterArgs {
    /// kubectl's overrides for `sealops::k8s::connect`; `namespace` is `-n`.
    #[cfg(feature = "daemon")]
    pub fn overrides(&self, namespace: Option<&str>) -> sealops::k8s::connect::Overrides {
        sealops::k8s::connect::Overrides {
            kubeconfig: self.kubeconfig.as_deref().map(PathBuf::from),
            context: self.context.clone(),
            cluster: self.cluster.clone(),
            user: self.user.clone(),
            namespace: namespace.map(str::to_owned),
            server: self.server.clone(),
            certificate_authority: self.certificate_authority.clone(),
            insecure_skip_tls_verify: self.insecure_skip_tls_verify,
            tls_server_name: self.tls_server_name.clone(),
            disable_compression: self.disable_compression,
            token: self.token.clone(),
            username: self.username.clone(),
            password: self.password.clone(),
            client_certificate: self.client_certificate.clone(),
            client_key: self.client_key.clone(),
            impersonate: self.as_.clone(),
            impersonate_uid: self.as_uid.clone(),
            impersonate_groups: self.as_group.clone(),
            request_timeout: self.request_timeout.clone(),
        }
    }

    /// Without the Kubernetes client (no `daemon` feature): the first connection flag given.
    #[cfg(not(feature = "daemon"))]
    fn connection_flag(&self) -> Option<&'static str> {
        let given: [(&'static str, bool); 17] = [
            ("--context", self.context.is_some()),
            ("--cluster", self.cluster.is_some()),
            ("--user", self.user.is_some()),
            ("--server", self.server.is_some()),
            ("--token", self.token.is_some()),
            ("--as", self.as_.is_some()),
            ("--as-group", !self.as_group.is_empty()),
            ("--as-uid", self.as_uid.is_some()),
            ("--certificate-authority", self.certificate_authority.is_some()),
            ("--client-certificate", self.client_certificate.is_some()),
            ("--client-key", self.client_key.is_some()),
            ("--insecure-skip-tls-verify", self.insecure_skip_tls_verify),
            ("--tls-server-name", self.tls_server_name.is_some()),
            ("--request-timeout", self.request_timeout.is_some()),
            ("--username", self.username.is_some()),
            ("--password", self.password.is_some()),
            ("--disable-compression", self.disable_compression),
        ];
        given.into_iter().find(|(_, set)| *set).map(|(flag, _)| flag)
    }
}

/// A boolean flag as pflag reads one: bare (`--raw`) or with `=` and Go's `strconv.ParseBool`
/// spellings (`--raw=true`, `--raw=0`).
fn pflag_bool(text: &str) -> Result<bool, String> {
    match text {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        other => Err(format!("strconv.ParseBool: parsing {other:?}: invalid syntax")),
    }
}

/// `--validate` and `--re-encrypt`: each input SealedSecret goes to the controller
/// (`/v1/verify`, `/v1/rotate`); re-encrypted ones are printed in the output format.
#[cfg(feature = "daemon")]
fn through_controller(a: &SealArgs, format: Format, output: &Output) -> Result<()> {
    let controller = super::seal_cluster::Controller::connect(&a.cluster).map_err(fail)?;
    let input = read(a)?;
    let mut values = Vec::new();
    for (i, doc) in documents(&input)?.iter().enumerate() {
        let sealed = SealedSecret::parse(doc, &format!("input document {}", i + 1)).map_err(fail)?;
        let body = sealed.to_json().into_bytes();
        if a.cluster.validate {
            if !controller.verify(body).map_err(fail)? {
                bail!(fail(format!(
                    "unable to decrypt sealed secret: {}",
                    sealed.metadata.name.as_deref().unwrap_or("")
                )));
            }
        } else {
            let rotated = controller.rotate(body).map_err(fail)?;
            let resealed = SealedSecret::parse(&rotated, "the controller's answer").map_err(fail)?;
            values.push(kube_out::sealed_value(&resealed));
        }
    }
    if a.cluster.re_encrypt {
        return io::write_output(output, kube_out::render(&values, format).as_bytes());
    }
    Ok(())
}

/// kubeseal prints every error as `error: <message>` and exits 1.
fn fail(message: impl std::fmt::Display) -> anyhow::Error {
    Exit::new(Code::Generic, format!("error: {message}")).into()
}

#[cfg(not(feature = "daemon"))]
fn no_api_server(flag: &str) -> anyhow::Error {
    fail(format!(
        "{flag} needs a connection to the Kubernetes API server, and this sealops was built without one \
         (cargo feature `daemon`); work offline with --cert FILE (and `sealops reseal` instead of --re-encrypt)"
    ))
}

pub fn run(a: SealArgs) -> Result<()> {
    run_inner(a).map_err(|e| match e.downcast::<Exit>() {
        Ok(exit) if exit.message.starts_with("error: ") => exit.into(),
        // The shared readers word a missing file as sops does ("Error: cannot operate on …").
        Ok(exit) => fail(exit.message.strip_prefix("Error: ").unwrap_or(&exit.message)),
        Err(e) => fail(format!("{e:#}")),
    })
}

fn run_inner(a: SealArgs) -> Result<()> {
    #[cfg(not(feature = "daemon"))]
    if let Some(flag) = a.cluster.connection_flag() {
        return Err(no_api_server(flag));
    }
    #[cfg(not(feature = "daemon"))]
    if a.cluster.re_encrypt {
        return Err(no_api_server("--re-encrypt"));
    }
    #[cfg(not(feature = "daemon"))]
    if a.cluster.validate {
        return Err(no_api_server("--validate"));
    }
    let scope = a
        .scope
        .as_deref()
        .map(|s| {
            s.parse::<Scope>().map_err(|_| {
                fail(format!(
                    "invalid argument {s:?} for \"--scope\" flag: must be one of: strict, namespace-wide, cluster-wide"
                ))
            })
        })
        .transpose()?;
    let mut format = Format::parse(a.format.as_deref().unwrap_or("json")).map_err(fail)?;
    if let Some(ext) = a.sealed_secret_file.as_deref().and_then(Path::extension)
        && (ext == "yaml" || ext == "yml")
    {
        format = Format::Yaml;
    }
    let output = a.sealed_secret_file.clone().map_or(Output::Stdout, Output::File);
    if !a.from_file.is_empty() && !a.raw {
        bail!(fail("--from-file requires --raw"));
    }
    if !a.recovery_private_key.is_empty() && !a.recovery_unseal {
        eprintln!("warning: ignoring --recovery-private-key because unseal command not chosen with --recovery-unseal");
    }
    if a.recovery_unseal {
        return recovery_unseal(&a, format, &output);
    }
    #[cfg(feature = "daemon")]
    if a.cluster.validate || a.cluster.re_encrypt {
        return through_controller(&a, format, &output);
    }
    #[cfg(not(feature = "daemon"))]
    let needs_controller = || {
        let flag = if a.cluster.controller_name.is_some() {
            "--controller-name"
        } else if a.cluster.controller_namespace.is_some() {
            "--controller-namespace"
        } else {
            "fetching the certificate from the controller (no --cert given)"
        };
        no_api_server(flag)
    };
    let cert = match a.cert.as_deref() {
        Some(location) => load_cert(location)?,
        #[cfg(feature = "daemon")]
        None => {
            let pem = super::seal_cluster::Controller::connect(&a.cluster).map_err(fail)?.cert_pem().map_err(fail)?;
            parse_cert(&pem, "the controller's certificate")?
        }
        #[cfg(not(feature = "daemon"))]
        None => return Err(needs_controller()),
    };
    if a.fetch_cert {
        return io::write_output(&output, cert.to_pem().as_bytes());
    }
    if a.raw {
        return seal_raw(&a, scope, &cert, &output);
    }
    let input = read(&a)?;
    let mut secrets = parse_secrets(&input)?;
    if secrets.is_empty() {
        bail!(fail("no secrets found. Ensure the input is valid and UTF-8 encoded"));
    }
    if let Some(file) = &a.merge_into {
        return merge_into(&a, file, scope, secrets, &cert);
    }
    let mut values = Vec::with_capacity(secrets.len());
    for secret in &mut secrets {
        prepare(&a, scope, secret)?;
        let sealed = secret.seal(cert.public_key()).map_err(fail)?;
        values.push(kube_out::sealed_value(&sealed));
    }
    io::write_output(&output, kube_out::render(&values, format).as_bytes())
}

/// `--cert`: a path, a `file://` URL or an `http(s)://` URL (kubeseal's `openCert`). The first
/// certificate counts; it must hold an RSA key and must not have expired (kubeseal's `ParseKey`).
fn load_cert(location: &str) -> Result<Certificate> {
    if location.starts_with("http://") || location.starts_with("https://") {
        #[cfg(feature = "daemon")]
        return parse_cert(&super::seal_cluster::fetch_url(location).map_err(fail)?, location);
        #[cfg(not(feature = "daemon"))]
        bail!(fail(format!(
            "--cert {location}: this sealops was built without an HTTP client (cargo feature `daemon`); download it and pass a file"
        )));
    }
    let path = location.strip_prefix("file://").unwrap_or(location);
    let text = std::fs::read(path).map_err(|e| fail(format!("cannot read certificate {path}: {e}")))?;
    parse_cert(&text, path)
}

fn parse_cert(text: &[u8], what: &str) -> Result<Certificate> {
    let blocks = pem::parse_many(text).unwrap_or_default();
    let Some(block) = blocks.iter().find(|b| b.tag() == "CERTIFICATE") else {
        bail!(fail("failed to read any certificates"));
    };
    let cert = match Certificate::from_der(block.contents()) {
        Ok(cert) => cert,
        Err(e) => {
            let found = match x509_parser::parse_x509_certificate(block.contents()) {
                Ok((_, parsed)) => match parsed.public_key().parsed() {
                    Ok(x509_parser::public_key::PublicKey::EC(_)) => "*ecdsa.PublicKey",
                    Ok(x509_parser::public_key::PublicKey::DSA(_)) => "*dsa.PublicKey",
                    Ok(x509_parser::public_key::PublicKey::RSA(_)) => "",
                    _ if parsed.public_key().algorithm.algorithm.to_id_string() == "1.3.101.112" => "ed25519.PublicKey",
                    _ => "an unsupported key type",
                },
                Err(_) => "",
            };
            if found.is_empty() {
                bail!(fail(format!("{what}: {e}")));
            }
            bail!(fail(format!("expected RSA public key but found {found}")));
        }
    };
    let now = now();
    if cert.is_expired_at(now) {
        bail!(fail(format!("failed to encrypt using an expired certificate on {}", go_date(cert.not_after()))));
    }
    Ok(cert)
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// Go's `"January 2, 2006"` layout, in UTC.
fn go_date(unix: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(unix) {
        Ok(t) => format!("{} {}, {}", t.month(), t.day(), t.year()),
        Err(_) => unix.to_string(),
    }
}

fn read(a: &SealArgs) -> Result<Zeroizing<Vec<u8>>> {
    let input = match &a.secret_file {
        Some(path) => Input::File(path),
        None => Input::Stdin,
    };
    if input.is_stdin() && io::stdin_is_terminal() {
        let what = if a.recovery_unseal { "json/yaml k8s resource" } else { "a secret to encrypt" };
        eprintln!("(tty detected: expecting {what} in stdin)");
    }
    let bytes = io::read_input(&input, io::input_limit(false)).map_err(|e| {
        match (&a.secret_file, e.downcast_ref::<Exit>()) {
            (Some(_), Some(exit)) if exit.code == Code::NoFileSpecified => {
                fail("Could not read file specified with --secret-file")
            }
            _ => e,
        }
    })?;
    Ok(Zeroizing::new(bytes.into_vec()))
}

/// The objects of a YAML stream (`---`-separated; empty and comment-only documents skipped) or
/// of concatenated JSON, as slices of `input` (no copies of what may be plaintext).
pub(super) fn documents(input: &[u8]) -> Result<Vec<&[u8]>> {
    let mut out = Vec::new();
    let first = input.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'{') {
        let mut stream = serde_json::Deserializer::from_slice(input).into_iter::<serde::de::IgnoredAny>();
        let mut start = 0;
        while let Some(next) = stream.next() {
            next.map_err(|e| fail(format!("cannot parse input as JSON: {e}")))?;
            let end = stream.byte_offset();
            out.push(&input[start..end]);
            start = end;
        }
        return Ok(out);
    }
    if std::str::from_utf8(input).is_err() {
        bail!(fail("no secrets found. Ensure the input is valid and UTF-8 encoded"));
    }
    let meaningful = |doc: &[u8]| {
        doc.split(|b| *b == b'\n').any(|l| {
            let t = l.trim_ascii();
            !t.is_empty() && !t.starts_with(b"#") && t != b"..."
        })
    };
    let (mut start, mut at) = (0, 0);
    for line in input.split_inclusive(|b| *b == b'\n') {
        let bare = line.trim_ascii_end();
        if bare == b"---" || bare.starts_with(b"--- ") {
            if meaningful(&input[start..at]) {
                out.push(&input[start..at]);
            }
            start = at + line.len();
        }
        at += line.len();
    }
    if meaningful(&input[start..]) {
        out.push(&input[start..]);
    }
    Ok(out)
}

fn parse_secrets(input: &[u8]) -> Result<Vec<Secret>> {
    documents(input)?
        .iter()
        .enumerate()
        .map(|(i, doc)| Secret::parse(doc, &format!("input document {}", i + 1)).map_err(fail))
        .collect()
}

/// kubeseal's preparation of an input Secret: `--name`, the namespace, the `--scope`
/// annotations, and the empty-data check.
fn prepare(a: &SealArgs, scope: Option<Scope>, secret: &mut Secret) -> Result<()> {
    if let Some(name) = &a.name {
        secret.metadata.name = Some(name.clone());
    }
    if secret.metadata.name.as_deref().unwrap_or_default().is_empty() {
        bail!(fail("missing metadata.name in input Secret"));
    }
    if secret.data.is_empty() && !a.allow_empty_data {
        bail!(fail(
            "secret.data is empty in input Secret, assuming this is an error and aborting. To work with empty data, --allow-empty-data can be used"
        ));
    }
    if let Some(scope) = scope.filter(|s| *s != Scope::Strict) {
        set_scope(secret, scope);
    }
    if secret.metadata.scope() != Scope::ClusterWide {
        match (&secret.metadata.namespace, &a.namespace) {
            (Some(ns), Some(flag)) if !ns.is_empty() && ns != flag => {
                bail!(fail(format!(
                    "namespace mismatch: input secret is in namespace {ns:?} but {flag:?} was specified"
                )))
            }
            (Some(ns), _) if !ns.is_empty() => {}
            _ => secret.metadata.namespace = Some(default_namespace(a)?),
        }
        if secret.metadata.namespace.as_deref().unwrap_or_default().is_empty() {
            bail!(fail("secret must declare a namespace"));
        }
    }
    Ok(())
}

/// upstream's `UpdateScopeAnnotations`: both scope annotations removed, the one for `scope` set.
fn set_scope(secret: &mut Secret, scope: Scope) {
    let annotations = &mut secret.metadata.annotations;
    annotations.remove(NAMESPACE_WIDE_ANNOTATION);
    annotations.remove(CLUSTER_WIDE_ANNOTATION);
    if let Some(annotation) = scope.annotation() {
        annotations.insert(annotation.to_owned(), "true".to_owned());
    }
}

/// `-n`, else the namespace of the kubeconfig's current (or `--context`) context, else `default`.
fn default_namespace(a: &SealArgs) -> Result<String> {
    if let Some(ns) = &a.namespace {
        return Ok(ns.clone());
    }
    kubeconfig_namespace(a.cluster.kubeconfig.as_deref(), a.cluster.context.as_deref())
        .map(|ns| ns.unwrap_or_else(|| "default".to_owned()))
}

/// Reads only `current-context` and `contexts[].context.namespace`, merging a `KUBECONFIG`
/// list as kubectl does (the first file that sets a value wins).
fn kubeconfig_namespace(paths: Option<&str>, context: Option<&str>) -> Result<Option<String>> {
    #[derive(serde::Deserialize, Default)]
    #[serde(rename_all = "kebab-case")]
    struct Config {
        #[serde(default)]
        current_context: Option<String>,
        #[serde(default)]
        contexts: Option<Vec<Named>>,
    }
    #[derive(serde::Deserialize)]
    struct Named {
        name: String,
        #[serde(default)]
        context: Option<Ctx>,
    }
    #[derive(serde::Deserialize)]
    struct Ctx {
        #[serde(default)]
        namespace: Option<String>,
    }
    let files: Vec<PathBuf> = match paths.filter(|p| !p.is_empty()) {
        Some(list) => std::env::split_paths(list).collect(),
        None => match std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
            Some(list) => std::env::split_paths(&list).collect(),
            None => std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".kube/config")).into_iter().collect(),
        },
    };
    let mut current = context.map(str::to_owned);
    let mut namespaces: BTreeMap<String, Option<String>> = BTreeMap::new();
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else { continue };
        let config: Config = serde_saphyr::from_str(&text)
            .map_err(|e| fail(format!("cannot read kubeconfig {}: {}", file.display(), first_line(&e))))?;
        if current.as_deref().is_none_or(str::is_empty) {
            current = config.current_context;
        }
        for c in config.contexts.unwrap_or_default() {
            namespaces.entry(c.name).or_insert_with(|| c.context.and_then(|c| c.namespace));
        }
    }
    Ok(current.and_then(|c| namespaces.remove(&c).flatten()).filter(|ns| !ns.is_empty()))
}

/// The first line of a parser error: serde-saphyr appends the offending source lines, which
/// must not be printed from a kubeconfig (tokens) or a key file.
fn first_line(e: &impl std::fmt::Display) -> String {
    e.to_string().lines().next().unwrap_or_default().to_owned()
}

/// `--raw`: one value, sealed for `--scope` with `--name`/`--namespace`; base64 without newline.
fn seal_raw(a: &SealArgs, scope: Option<Scope>, cert: &Certificate, output: &Output) -> Result<()> {
    let scope = scope.unwrap_or_default();
    let namespace = match scope {
        Scope::ClusterWide => String::new(),
        _ => default_namespace(a)?,
    };
    if namespace.is_empty() && scope != Scope::ClusterWide {
        bail!(fail(format!("must provide the --namespace flag with --raw and --scope {}", scope.as_str())));
    }
    let name = a.name.clone().unwrap_or_default();
    if name.is_empty() && scope == Scope::Strict {
        bail!(fail("must provide the --name flag with --raw and --scope strict"));
    }
    if a.from_file.len() > 1 {
        bail!(fail("must provide only one --from-file when encrypting a single item with --raw"));
    }
    let value = match a.from_file.first() {
        Some(spec) => {
            let path = spec.split_once('=').map_or(spec.as_str(), |(_, p)| p);
            SecretBytes::new(io::read_input(&Input::File(Path::new(path)), io::input_limit(false))?.into_vec())
        }
        None => SecretBytes::new(io::read_input(&Input::Stdin, io::input_limit(false))?.into_vec()),
    };
    let blob =
        scheme::hybrid_encrypt(cert.public_key(), value.expose(), &scope.label(&namespace, &name)).map_err(fail)?;
    io::write_output(output, base64::engine::general_purpose::STANDARD.encode(blob).as_bytes())
}

/// `--merge-into FILE`: the input Secret is sealed under FILE's name, namespace and scope, and
/// its items and template labels, annotations and data are added to FILE, which is rewritten
/// atomically (in `-o` format when given, else in FILE's own format). Unlike kubeseal, the
/// scope is FILE's (the controller opens every item with the outer scope, so a different
/// `--scope` would make the new items unreadable); a conflicting `--scope` is an error.
fn merge_into(a: &SealArgs, file: &Path, scope: Option<Scope>, secrets: Vec<Secret>, cert: &Certificate) -> Result<()> {
    let [mut secret] = <[Secret; 1]>::try_from(secrets)
        .map_err(|v| fail(format!("--merge-into takes exactly one input Secret, found {}", v.len())))?;
    let text = io::read_input(&Input::File(file), io::input_limit(false))?;
    let what = file.display().to_string();
    let mut orig = SealedSecret::parse(&text, &what).map_err(fail)?;
    let file_scope = orig.scope();
    if let Some(s) = scope.filter(|s| *s != file_scope) {
        bail!(fail(format!(
            "--scope {} differs from the scope of {what} ({}): every item of a SealedSecret must have its scope",
            s.as_str(),
            file_scope.as_str()
        )));
    }
    secret.metadata.name.clone_from(&orig.metadata.name);
    secret.metadata.namespace.clone_from(&orig.metadata.namespace);
    set_scope(&mut secret, file_scope);
    if secret.data.is_empty() && !a.allow_empty_data {
        bail!(fail(
            "secret.data is empty in input Secret, assuming this is an error and aborting. To work with empty data, --allow-empty-data can be used"
        ));
    }
    let update = secret.seal(cert.public_key()).map_err(fail)?;
    orig.spec.encrypted_data.extend(update.spec.encrypted_data);
    if let Some(new) = update.spec.template {
        let template = orig.spec.template.get_or_insert_with(Default::default);
        template.metadata.labels.extend(new.metadata.labels);
        template.metadata.annotations.extend(new.metadata.annotations);
        template.data.extend(new.data);
    }
    let format = match a.format.as_deref() {
        Some(f) => Format::parse(f).map_err(fail)?,
        None if text.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') => Format::Json,
        None => Format::Yaml,
    };
    let mut rendered = kube_out::render(&[kube_out::sealed_value(&orig)], format);
    if format == Format::Yaml && !text.starts_with(b"---") {
        rendered.replace_range(..4, "");
    }
    io::write_atomic(file, rendered.as_bytes())
}

/// `--recovery-unseal`: every SealedSecret of the input, opened with the given keys, printed as
/// the Secret the controller would make.
fn recovery_unseal(a: &SealArgs, format: Format, output: &Output) -> Result<()> {
    if a.recovery_private_key.is_empty() {
        bail!(fail("--recovery-unseal requires --recovery-private-key"));
    }
    let keys = load_private_keys(&a.recovery_private_key)?;
    let refs: Vec<&PrivateKey> = keys.iter().collect();
    let input = read(a)?;
    let docs = documents(&input)?;
    if docs.is_empty() {
        bail!(fail("no sealed secrets found in the input"));
    }
    let mut values = Vec::with_capacity(docs.len());
    for (i, doc) in docs.iter().enumerate() {
        let sealed = SealedSecret::parse(doc, &format!("input document {}", i + 1)).map_err(fail)?;
        let secret = sealed.unseal(&refs).map_err(fail)?;
        values.push(kube_out::secret_value(&secret));
    }
    let mut rendered = Zeroizing::new(kube_out::render(&values, format));
    values.iter_mut().for_each(sealops::crypto::secret::wipe_json);
    let result = io::write_output(output, rendered.as_bytes());
    use zeroize::Zeroize as _;
    rendered.zeroize();
    result
}

/// `--recovery-private-key` files: PEM private keys (PKCS#1 or PKCS#8, several per file), or
/// key Secrets (JSON/YAML, several documents) or a `v1` `List` of them, whose `tls.key` counts.
pub fn load_private_keys(paths: &[PathBuf]) -> Result<Vec<PrivateKey>> {
    let mut keys = Vec::new();
    for path in paths.iter().filter(|p| !p.as_os_str().is_empty()) {
        let what = path.display().to_string();
        let text = Zeroizing::new(io::read_input(&Input::File(path), io::input_limit(false))?.into_vec());
        let blocks = pem::parse_many(&text[..]).unwrap_or_default();
        let pem_keys: Vec<_> = blocks.iter().filter(|b| b.tag().ends_with("PRIVATE KEY")).collect();
        if !pem_keys.is_empty() {
            for block in pem_keys {
                let der = Zeroizing::new(block.contents().to_vec());
                let key = match block.tag() {
                    "RSA PRIVATE KEY" => PrivateKey::from_pkcs1_der(&der),
                    "PRIVATE KEY" => PrivateKey::from_pkcs8_der(&der),
                    other => bail!(fail(format!("{what}: unexpected private key type {other}"))),
                };
                keys.push(key.map_err(|e| fail(format!("{what}: {e}")))?);
            }
            continue;
        }
        for (i, doc) in documents(&text)?.iter().enumerate() {
            let value: serde_json::Value = if doc.first() == Some(&b'{') {
                serde_json::from_slice(doc).map_err(|e| fail(format!("{what}: {e}")))?
            } else {
                let doc = std::str::from_utf8(doc).map_err(|e| fail(format!("{what}: {e}")))?;
                serde_saphyr::from_str(doc).map_err(|e| fail(format!("{what}: cannot parse: {}", first_line(&e))))?
            };
            let items = match value.get("kind").and_then(|k| k.as_str()) {
                Some("List" | "SecretList") => {
                    value.get("items").and_then(|v| v.as_array()).cloned().unwrap_or_default()
                }
                Some("Secret") => vec![value],
                other => bail!(fail(format!(
                    "{what}: document {}: expected a PEM private key, a Secret or a List of Secrets, found kind {:?}",
                    i + 1,
                    other.unwrap_or_default()
                ))),
            };
            for item in items {
                let json = Zeroizing::new(serde_json::to_vec(&item).expect("a parsed value serialises"));
                let secret = Secret::parse(&json, &what).map_err(fail)?;
                let Some(pem_text) = secret.data.get("tls.key") else {
                    bail!(fail(format!("{what}: secret must contain a 'tls.key' key")));
                };
                keys.push(PrivateKey::from_pem(pem_text.expose()).map_err(|e| fail(format!("{what}: tls.key: {e}")))?);
            }
        }
    }
    if keys.is_empty() {
        bail!(fail("no private keys found in --recovery-private-key"));
    }
    Ok(keys)
}

/// For `reseal`: the certificate at `location` with kubeseal's checks.
pub fn certificate(location: &str) -> Result<Certificate> {
    load_cert(location)
}

/// kubeseal's own command line, for when the binary is invoked through a link named
/// `kubeseal`: everything is `seal`'s flags; `--version` prints kubeseal's version line.
pub fn translate_kubeseal(argv: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let invoked_as_kubeseal = argv.first().and_then(|a| Path::new(a).file_stem()).is_some_and(|n| n == "kubeseal");
    if !invoked_as_kubeseal {
        return argv;
    }
    if argv.iter().skip(1).any(|a| a == "--version") {
        println!("kubeseal version: sealops-{}", env!("CARGO_PKG_VERSION"));
        std::process::exit(0);
    }
    let mut out = vec![std::ffi::OsString::from("kubeseal"), "seal".into()];
    out.extend(argv.into_iter().skip(1));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_split_yaml_streams_and_json_sequences() {
        let yaml = b"---\na: 1\n--- # two\nb: 2\n---\n# only a comment\n...\n---\nc: 3";
        assert_eq!(documents(yaml).unwrap(), [&b"a: 1\n"[..], b"b: 2\n", b"c: 3"]);
        let json = b" {\"a\": 1}\n{\"b\": [2]} ";
        let docs = documents(json).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(serde_json::from_slice::<serde_json::Value>(docs[1]).unwrap()["b"][0], 2);
        assert!(documents(b"{\"a\": ").is_err());
        assert!(documents(b"# nothing\n").unwrap().is_empty());
    }

    #[test]
    fn go_dates_and_bools() {
        assert_eq!(go_date(1813293165), "June 18, 2027");
        assert_eq!(pflag_bool("T"), Ok(true));
        assert_eq!(pflag_bool("0"), Ok(false));
        assert!(pflag_bool("yes").is_err());
    }
}
