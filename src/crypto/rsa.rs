//! RSA for sealed-secrets: RSA-OAEP(SHA-256, MGF1-SHA-256, label) key wrap, key generation,
//! PEM parsing of sealing keys (`tls.key`, PKCS#1 or PKCS#8) and of their certificates
//! (`tls.crt`), and the OpenSSH-style public-key fingerprint the controller indexes keys by.
//!
//! The private-key operation runs in `aws-lc-rs` (constant-time; the daemon decrypts
//! attacker-supplied ciphertext, see RUSTSEC-2023-0071 for why not the `rsa` crate).
//! Spec: `shared/specs/sealed-secrets.md` §1.1, §1.7, §4.

use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
use aws_lc_rs::rsa::{
    KeySize, OAEP_SHA256_MGF1SHA256, OaepPrivateDecryptingKey, OaepPublicEncryptingKey, PrivateDecryptingKey,
    PublicEncryptingKey,
};
use base64::Engine as _;
use sha2::{Digest, Sha256};
use x509_parser::prelude::FromDer;
use x509_parser::public_key::PublicKey as ParsedPublicKey;
use x509_parser::x509::SubjectPublicKeyInfo;
use zeroize::Zeroizing;

use super::der;
use super::secret::SecretBytes;

/// The key size the controller generates by default (`--key-size`).
pub const DEFAULT_BITS: usize = 4096;

/// Errors of this module. Decryption failures are deliberately coarse.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum RsaError {
    #[error("unsupported RSA key size {0} bits (supported: 2048, 3072, 4096, 8192)")]
    KeySize(usize),
    #[error("RSA key generation failed")]
    Generate,
    #[error("private key: {0}")]
    PrivateKey(&'static str),
    #[error("public key: {0}")]
    PublicKey(&'static str),
    #[error("certificate: {0}")]
    Certificate(String),
    #[error("RSA-OAEP encryption failed (plaintext too long for the key?)")]
    Encrypt,
    /// Wrong key, wrong label or a damaged ciphertext; never more specific.
    #[error("RSA-OAEP decryption failed")]
    Decrypt,
}

impl RsaError {
    /// A stable identifier for metrics and event reasons.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::KeySize(_) => "key_size",
            Self::Generate => "generate",
            Self::PrivateKey(_) => "private_key",
            Self::PublicKey(_) => "public_key",
            Self::Certificate(_) => "certificate",
            Self::Encrypt => "encrypt",
            Self::Decrypt => "decrypt",
        }
    }
}

/// An RSA public key, ready for OAEP encryption.
pub struct PublicKey {
    key: OaepPublicEncryptingKey,
    /// The same key, kept so that the type can be cloned (the OAEP wrapper cannot).
    raw: PublicEncryptingKey,
    /// SubjectPublicKeyInfo DER, kept for the fingerprint and for export.
    spki_der: Vec<u8>,
    fingerprint: String,
}

impl Clone for PublicKey {
    fn clone(&self) -> Self {
        Self {
            key: OaepPublicEncryptingKey::new(self.raw.clone()).expect("the key was accepted before"),
            raw: self.raw.clone(),
            spki_der: self.spki_der.clone(),
            fingerprint: self.fingerprint.clone(),
        }
    }
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublicKey").field("bits", &self.bits()).field("fingerprint", &self.fingerprint).finish()
    }
}

impl PublicKey {
    /// From X.509 `SubjectPublicKeyInfo` DER.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, RsaError> {
        let (rest, spki) =
            SubjectPublicKeyInfo::from_der(der).map_err(|_| RsaError::PublicKey("not a DER SubjectPublicKeyInfo"))?;
        if !rest.is_empty() {
            return Err(RsaError::PublicKey("trailing bytes after the SubjectPublicKeyInfo"));
        }
        let fingerprint = match spki.parsed() {
            Ok(ParsedPublicKey::RSA(rsa)) => ssh_fingerprint(rsa.exponent, rsa.modulus),
            Ok(_) => return Err(RsaError::PublicKey("not an RSA key")),
            Err(_) => return Err(RsaError::PublicKey("malformed RSA public key")),
        };
        let public = PublicEncryptingKey::from_der(der)
            .map_err(|_| RsaError::PublicKey("RSA key rejected (size outside 2048..=8192 bits?)"))?;
        let key = OaepPublicEncryptingKey::new(public.clone()).map_err(|_| RsaError::PublicKey("RSA key rejected"))?;
        Ok(Self { key, raw: public, spki_der: der.to_vec(), fingerprint })
    }

    /// From a PEM `PUBLIC KEY` block (SubjectPublicKeyInfo), as `openssl x509 -pubkey` prints it.
    pub fn from_pem(pem_text: &[u8]) -> Result<Self, RsaError> {
        let block = pem::parse(pem_text).map_err(|_| RsaError::PublicKey("not PEM"))?;
        if block.tag() != "PUBLIC KEY" {
            return Err(RsaError::PublicKey("expected a PEM \"PUBLIC KEY\" block"));
        }
        Self::from_spki_der(block.contents())
    }

    /// The modulus size in bits.
    pub fn bits(&self) -> usize {
        self.key.key_size_bits()
    }

    /// The RSA ciphertext length in bytes (the modulus size).
    pub fn ciphertext_len(&self) -> usize {
        self.key.ciphertext_size()
    }

    /// The SubjectPublicKeyInfo DER.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// The OpenSSH SHA-256 fingerprint, `SHA256:<base64, no padding>` (as `ssh-keygen -lf`), which
    /// the controller uses to name keys (spec §1.7).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// RSA-OAEP(SHA-256, MGF1-SHA-256) of `plaintext` with `label` (an empty label is the same as
    /// none).
    pub fn encrypt(&self, plaintext: &[u8], label: &[u8]) -> Result<Vec<u8>, RsaError> {
        let mut out = vec![0u8; self.key.ciphertext_size()];
        let n = self
            .key
            .encrypt(&OAEP_SHA256_MGF1SHA256, plaintext, &mut out, Some(label))
            .map_err(|_| RsaError::Encrypt)?
            .len();
        out.truncate(n);
        Ok(out)
    }
}

/// An RSA private key for OAEP decryption. No `Debug`, `Display` or `Clone`; its serialised
/// forms only ever live in zeroizing buffers.
pub struct PrivateKey {
    key: OaepPrivateDecryptingKey,
    /// The same key, kept for export (the OAEP wrapper does not give it back).
    raw: PrivateDecryptingKey,
    public: PublicKey,
}

impl PrivateKey {
    /// A fresh key of `bits` (2048, 3072, 4096 or 8192; the controller uses [`DEFAULT_BITS`]).
    pub fn generate(bits: usize) -> Result<Self, RsaError> {
        let size = match bits {
            2048 => KeySize::Rsa2048,
            3072 => KeySize::Rsa3072,
            4096 => KeySize::Rsa4096,
            8192 => KeySize::Rsa8192,
            other => return Err(RsaError::KeySize(other)),
        };
        Self::from_aws(PrivateDecryptingKey::generate(size).map_err(|_| RsaError::Generate)?)
    }

    /// From PKCS#8 `PrivateKeyInfo` DER.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, RsaError> {
        let key = PrivateDecryptingKey::from_pkcs8(der)
            .map_err(|_| RsaError::PrivateKey("not an RSA PKCS#8 key of 2048..=8192 bits"))?;
        Self::from_aws(key)
    }

    /// From PKCS#1 `RSAPrivateKey` DER (what the controller writes).
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, RsaError> {
        Self::from_pkcs8_der(&pkcs1_to_pkcs8(der))
    }

    /// From the first PEM block of a `tls.key`: `RSA PRIVATE KEY` (PKCS#1) or `PRIVATE KEY`
    /// (PKCS#8). Other blocks (`EC PRIVATE KEY`, encrypted keys) are refused, as by the controller.
    pub fn from_pem(pem_text: &[u8]) -> Result<Self, RsaError> {
        let blocks = pem::parse_many(pem_text).map_err(|_| RsaError::PrivateKey("not PEM"))?;
        let block = blocks
            .into_iter()
            .find(|b| b.tag().ends_with("PRIVATE KEY"))
            .ok_or(RsaError::PrivateKey("no PEM private key block"))?;
        let tag = block.tag().to_owned();
        let der = Zeroizing::new(block.into_contents());
        match tag.as_str() {
            "RSA PRIVATE KEY" => Self::from_pkcs1_der(&der),
            "PRIVATE KEY" => Self::from_pkcs8_der(&der),
            _ => Err(RsaError::PrivateKey("not an RSA private key (PKCS#1 or PKCS#8)")),
        }
    }

    fn from_aws(key: PrivateDecryptingKey) -> Result<Self, RsaError> {
        let spki: PublicKeyX509Der<'static> =
            key.public_key().as_der().map_err(|_| RsaError::PrivateKey("cannot derive the public key"))?;
        let public = PublicKey::from_spki_der(spki.as_ref())?;
        let oaep = OaepPrivateDecryptingKey::new(key.clone()).map_err(|_| RsaError::PrivateKey("RSA key rejected"))?;
        Ok(Self { key: oaep, raw: key, public })
    }

    /// The public half.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// The key as PKCS#8 PEM (`PRIVATE KEY`), in a zeroizing buffer.
    pub fn to_pkcs8_pem(&self) -> Result<SecretBytes, RsaError> {
        let der = self.raw.as_der().map_err(|_| RsaError::PrivateKey("cannot encode the key"))?;
        let der = Zeroizing::new(der.as_ref().to_vec());
        Ok(SecretBytes::from_slice(&der::pem_encode("PRIVATE KEY", &der)))
    }

    /// The key as PKCS#1 PEM (`RSA PRIVATE KEY`), the form the controller writes to `tls.key`, in
    /// a zeroizing buffer.
    pub fn to_pkcs1_pem(&self) -> Result<SecretBytes, RsaError> {
        let der = self.raw.as_der().map_err(|_| RsaError::PrivateKey("cannot encode the key"))?;
        let pkcs1 = pkcs8_to_pkcs1(der.as_ref()).ok_or(RsaError::PrivateKey("unexpected PKCS#8 layout"))?;
        Ok(SecretBytes::from_slice(&der::pem_encode("RSA PRIVATE KEY", pkcs1)))
    }

    /// A self-signed certificate for this key, made the way the controller's
    /// `GeneratePrivateKeyAndCert` makes it (spec §4.1): X.509 v3, a random 128-bit serial,
    /// subject = issuer = `CN=<common_name>` (an empty DN when `common_name` is empty), KeyUsage
    /// EncipherOnly (critical), BasicConstraints CA:TRUE (critical), a SubjectKeyIdentifier as Go
    /// computes it (SHA-1 of the public key bits), signed with SHA-256 RSA PKCS#1 v1.5; valid
    /// from `not_before` (Unix seconds) for `valid_for_secs`.
    pub fn self_signed_certificate(
        &self,
        common_name: &str,
        not_before: i64,
        valid_for_secs: i64,
    ) -> Result<Certificate, RsaError> {
        let time = |t: i64| {
            time::OffsetDateTime::from_unix_timestamp(t)
                .map_err(|_| RsaError::Certificate(format!("validity time {t} out of range")))
        };
        let mut params = rcgen::CertificateParams::default();
        params.not_before = time(not_before)?;
        params.not_after = time(not_before.saturating_add(valid_for_secs))?;
        params.serial_number = Some(rcgen::SerialNumber::from_slice(&super::random::array::<16>()));
        params.distinguished_name = rcgen::DistinguishedName::new();
        if !common_name.is_empty() {
            params.distinguished_name.push(rcgen::DnType::CommonName, common_name);
        }
        params.key_usages = vec![rcgen::KeyUsagePurpose::EncipherOnly];
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let (_, spki) = SubjectPublicKeyInfo::from_der(&self.public.spki_der)
            .map_err(|_| RsaError::Certificate("cannot re-read our own public key".into()))?;
        let skid =
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, &spki.subject_public_key.data);
        params.key_identifier_method = rcgen::KeyIdMethod::PreSpecified(skid.as_ref().to_vec());
        let pem_text = self.to_pkcs8_pem()?;
        let pem_text = pem_text.as_str().ok_or(RsaError::PrivateKey("PEM is not UTF-8"))?;
        let signer = rcgen::KeyPair::from_pem_and_sign_algo(pem_text, &rcgen::PKCS_RSA_SHA256)
            .map_err(|e| RsaError::Certificate(format!("cannot sign: {e}")))?;
        let cert = params.self_signed(&signer).map_err(|e| RsaError::Certificate(format!("cannot sign: {e}")))?;
        Certificate::from_der(cert.der())
    }

    /// RSA-OAEP(SHA-256, MGF1-SHA-256) decryption with `label`.
    pub fn decrypt(&self, ciphertext: &[u8], label: &[u8]) -> Result<SecretBytes, RsaError> {
        let mut out = Zeroizing::new(vec![0u8; self.key.min_output_size()]);
        let n = self
            .key
            .decrypt(&OAEP_SHA256_MGF1SHA256, ciphertext, &mut out, Some(label))
            .map_err(|_| RsaError::Decrypt)?
            .len();
        Ok(SecretBytes::from_slice(&out[..n]))
    }
}

/// A sealing certificate (`tls.crt`): the public key plus the validity the key order uses.
#[derive(Clone, Debug)]
pub struct Certificate {
    public: PublicKey,
    /// Unix seconds.
    not_before: i64,
    /// Unix seconds.
    not_after: i64,
    der: Vec<u8>,
}

impl Certificate {
    /// From DER.
    pub fn from_der(der: &[u8]) -> Result<Self, RsaError> {
        let (_, cert) =
            x509_parser::parse_x509_certificate(der).map_err(|e| RsaError::Certificate(format!("not X.509: {e}")))?;
        let spki = cert.tbs_certificate.subject_pki.raw;
        let public = PublicKey::from_spki_der(spki).map_err(|e| RsaError::Certificate(e.to_string()))?;
        let validity = cert.validity();
        Ok(Self {
            public,
            not_before: validity.not_before.timestamp(),
            not_after: validity.not_after.timestamp(),
            der: der.to_vec(),
        })
    }

    /// From the **first** `CERTIFICATE` block of a PEM bundle, as the controller reads `tls.crt`.
    pub fn from_pem(pem_text: &[u8]) -> Result<Self, RsaError> {
        let blocks = pem::parse_many(pem_text).map_err(|e| RsaError::Certificate(format!("not PEM: {e}")))?;
        let block = blocks
            .iter()
            .find(|b| b.tag() == "CERTIFICATE")
            .ok_or_else(|| RsaError::Certificate("no PEM CERTIFICATE block".into()))?;
        Self::from_der(block.contents())
    }

    /// The certified public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// `NotBefore`, Unix seconds.
    pub fn not_before(&self) -> i64 {
        self.not_before
    }

    /// `NotAfter`, Unix seconds.
    pub fn not_after(&self) -> i64 {
        self.not_after
    }

    /// True when `now` (Unix seconds) is after `NotAfter` (kubeseal refuses such certificates).
    pub fn is_expired_at(&self, now: i64) -> bool {
        now > self.not_after
    }

    /// The certificate DER.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The certificate as PEM.
    pub fn to_pem(&self) -> String {
        String::from_utf8(der::pem_encode("CERTIFICATE", &self.der).to_vec()).expect("PEM is ASCII")
    }
}

/// `SHA256:` + unpadded base64 of SHA-256 over the SSH wire form `string "ssh-rsa", mpint e,
/// mpint n` (RFC 4253 §6.6).
fn ssh_fingerprint(exponent: &[u8], modulus: &[u8]) -> String {
    fn put_string(out: &mut Vec<u8>, bytes: &[u8]) {
        out.extend_from_slice(&u32::try_from(bytes.len()).expect("short").to_be_bytes());
        out.extend_from_slice(bytes);
    }
    fn put_mpint(out: &mut Vec<u8>, unsigned_be: &[u8]) {
        let start = unsigned_be.iter().position(|&b| b != 0).unwrap_or(unsigned_be.len());
        let digits = &unsigned_be[start..];
        let mut v = Vec::with_capacity(digits.len() + 1);
        if digits.first().is_some_and(|&b| b & 0x80 != 0) {
            v.push(0);
        }
        v.extend_from_slice(digits);
        put_string(out, &v);
    }
    let mut wire = Vec::new();
    put_string(&mut wire, b"ssh-rsa");
    put_mpint(&mut wire, exponent);
    put_mpint(&mut wire, modulus);
    let digest = Sha256::digest(&wire);
    format!("SHA256:{}", base64::engine::general_purpose::STANDARD_NO_PAD.encode(digest))
}

/// Wraps a PKCS#1 `RSAPrivateKey` in a PKCS#8 `PrivateKeyInfo` (RFC 5208):
/// `SEQUENCE { INTEGER 0, SEQUENCE { OID rsaEncryption, NULL }, OCTET STRING pkcs1 }`.
/// The PKCS#1 body is validated by aws-lc when the result is parsed.
fn pkcs1_to_pkcs8(pkcs1: &[u8]) -> Zeroizing<Vec<u8>> {
    const VERSION_AND_ALGORITHM: &[u8] = &[
        0x02, 0x01, 0x00, // INTEGER 0
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    let mut octets = Zeroizing::new(Vec::with_capacity(pkcs1.len() + 8));
    octets.push(0x04);
    der::push_len(&mut octets, pkcs1.len());
    octets.extend_from_slice(pkcs1);
    let mut out = Zeroizing::new(Vec::with_capacity(octets.len() + 32));
    out.push(0x30);
    der::push_len(&mut out, VERSION_AND_ALGORITHM.len() + octets.len());
    out.extend_from_slice(VERSION_AND_ALGORITHM);
    out.extend_from_slice(&octets);
    out
}

/// The PKCS#1 body of an RSA PKCS#8 `PrivateKeyInfo`: the inverse of [`pkcs1_to_pkcs8`]. Returns
/// `None` for any other layout (attributes, another algorithm).
fn pkcs8_to_pkcs1(pkcs8: &[u8]) -> Option<&[u8]> {
    /// Splits one DER element with tag `tag` off the front: (contents, rest).
    fn tlv(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
        der::read(input).and_then(|(t, contents, rest)| (t == tag).then_some((contents, rest)))
    }
    const VERSION_AND_ALGORITHM: &[u8] =
        &[0x02, 0x01, 0x00, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00];
    let (body, rest) = tlv(pkcs8, 0x30)?;
    let octets = body.strip_prefix(VERSION_AND_ALGORITHM)?;
    let (pkcs1, after) = tlv(octets, 0x04)?;
    (rest.is_empty() && after.is_empty()).then_some(pkcs1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    fn key() -> &'static PrivateKey {
        static KEY: OnceLock<PrivateKey> = OnceLock::new();
        KEY.get_or_init(|| PrivateKey::generate(2048).expect("keygen"))
    }

    #[test]
    fn oaep_round_trip_with_label() {
        let ct = key().public_key().encrypt(b"session key", b"demo/mysecret").unwrap();
        assert_eq!(ct.len(), 256);
        assert_eq!(key().decrypt(&ct, b"demo/mysecret").unwrap().expose(), b"session key");
        assert_eq!(key().decrypt(&ct, b"demo/other").err(), Some(RsaError::Decrypt));
        assert_eq!(key().decrypt(&ct, b"").err(), Some(RsaError::Decrypt));
    }

    #[test]
    fn pkcs8_pem_round_trip_keeps_the_key() {
        let pem_text = key().to_pkcs8_pem().unwrap();
        let again = PrivateKey::from_pem(pem_text.expose()).unwrap();
        assert_eq!(again.public_key().fingerprint(), key().public_key().fingerprint());
        let ct = key().public_key().encrypt(b"x", b"").unwrap();
        assert_eq!(again.decrypt(&ct, b"").unwrap().expose(), b"x");
    }

    #[test]
    fn pkcs1_pem_round_trip_and_wrapping_inverse() {
        let pem_text = key().to_pkcs1_pem().unwrap();
        assert!(pem_text.expose().starts_with(b"-----BEGIN RSA PRIVATE KEY-----\n"));
        let again = PrivateKey::from_pem(pem_text.expose()).unwrap();
        assert_eq!(again.public_key().fingerprint(), key().public_key().fingerprint());
        let body = [0x30, 0x03, 0x02, 0x01, 0x00];
        assert_eq!(pkcs8_to_pkcs1(&pkcs1_to_pkcs8(&body)), Some(&body[..]));
        let long = vec![0xabu8; 1300];
        assert_eq!(pkcs8_to_pkcs1(&pkcs1_to_pkcs8(&long)), Some(&long[..]));
        assert_eq!(pkcs8_to_pkcs1(&[0x30, 0x00]), None);
        let mut trailing = pkcs1_to_pkcs8(&body).to_vec();
        trailing.push(0);
        assert_eq!(pkcs8_to_pkcs1(&trailing), None);
    }

    #[test]
    fn refuses_odd_sizes_and_garbage() {
        assert_eq!(PrivateKey::generate(1024).err(), Some(RsaError::KeySize(1024)));
        assert!(PrivateKey::from_pem(b"hello").is_err());
        assert!(PrivateKey::from_pkcs1_der(&[0x30, 0x03, 0x02, 0x01, 0x00]).is_err());
        assert!(Certificate::from_pem(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").is_err());
    }

    #[test]
    fn self_signed_certificate_like_the_controllers() {
        let now = 1_800_000_000;
        let cert = key().self_signed_certificate("", now, 10 * 365 * 86_400).unwrap();
        assert_eq!(cert.public_key().fingerprint(), key().public_key().fingerprint());
        assert_eq!((cert.not_before(), cert.not_after()), (now, now + 10 * 365 * 86_400));
        let (_, x509) = x509_parser::parse_x509_certificate(cert.der()).unwrap();
        assert_eq!(x509.version(), x509_parser::x509::X509Version::V3);
        assert!(x509.subject().iter().next().is_none(), "empty subject DN");
        assert_eq!(x509.subject().as_raw(), x509.issuer().as_raw());
        let ku = x509.key_usage().unwrap().unwrap();
        assert!(ku.critical && ku.value.encipher_only() && !ku.value.digital_signature());
        let bc = x509.basic_constraints().unwrap().unwrap();
        assert!(bc.critical && bc.value.ca && bc.value.path_len_constraint.is_none());
        assert!(x509.raw_serial().len() <= 17);
        let public = aws_lc_rs::signature::UnparsedPublicKey::new(
            &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
            x509.public_key().subject_public_key.data.to_vec(),
        );
        assert!(public.verify(x509.tbs_certificate.as_ref(), &x509.signature_value.data).is_ok(), "self-signed");
        let named = key().self_signed_certificate("sealed-secret", now, 60).unwrap();
        let (_, x509) = x509_parser::parse_x509_certificate(named.der()).unwrap();
        assert_eq!(x509.subject().to_string(), "CN=sealed-secret");
        // The PEM form reads back to the same certificate.
        assert_eq!(Certificate::from_pem(named.to_pem().as_bytes()).unwrap().der(), named.der());
    }
}
