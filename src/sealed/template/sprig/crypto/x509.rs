//! Sprig's key and certificate functions: `genPrivateKey`, `buildCustomCert`, `genCA`,
//! `genCAWithKey`, `genSelfSignedCert`, `genSelfSignedCertWithKey`, `genSignedCert`,
//! `genSignedCertWithKey`.
//!
//! Certificates are built field by field as Go 1.19's `x509.CreateCertificate` builds them from
//! the template of Sprig v3.2.3's `getBaseCertTemplate` (crypto.go): X.509 v3, a random serial
//! below 2^128, subject `CN=<cn>`, validity now .. now + days × 24 h, KeyUsage
//! digitalSignature|keyEncipherment (+ keyCertSign for a CA, critical), ExtKeyUsage serverAuth and
//! clientAuth, BasicConstraints (critical; CA:TRUE for a CA), a SubjectKeyIdentifier (SHA-1 of the
//! public key bits) for a CA, an AuthorityKeyIdentifier from the issuer's when signed by another
//! certificate, SANs (DNS names, then IPs; critical when the subject is empty). Keys and signatures
//! come from aws-lc-rs (RSA PKCS#1 v1.5 SHA-256, ECDSA with the curve's hash, Ed25519), as Go's
//! `signingParamsForPublicKey` picks them.

use std::rc::Rc;

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _};
use base64::Engine as _;

use super::super::super::funcs::{Ctx, FnResult, Func, Param, str_of};
use super::super::super::json;
use super::super::super::value::{Object, Value};
use crate::crypto::der::{pem_encode, read as der_read, tlv as der_tlv};
use crate::crypto::random;

pub(super) fn func(name: &str) -> Option<Func> {
    use Param::*;
    let f = |params: &'static [Param], variadic: Option<Param>, call: fn(&Ctx, Vec<Value>) -> FnResult| {
        Some(Func { params, variadic, call })
    };
    // `[]interface{}` (IPs, DNS names) and `certificate` parameters arrive as `Any` and are
    // checked here, since the executor's `Param` has no such types (see [`list_arg`]).
    match name {
        "genPrivateKey" => f(&[Str], None, gen_private_key),
        "buildCustomCert" => f(&[Str, Str], None, build_custom_cert),
        "genCA" => f(&[Str, Int], None, |_, a| {
            let key = Key::generate_rsa(2048)?;
            let tpl = Template::new(&a[0], &Value::Nil, &Value::Nil, &a[1], true)?;
            certificate(&tpl, &key, None)
        }),
        "genCAWithKey" => f(&[Str, Int, Str], None, |_, a| {
            let key = Key::from_pem(&str_of(&a[2])).map_err(|e| format!("parsing private key: {e}"))?;
            let tpl = Template::new(&a[0], &Value::Nil, &Value::Nil, &a[1], true)?;
            certificate(&tpl, &key, None)
        }),
        "genSelfSignedCert" => f(&[Str, Any, Any, Int], None, |_, a| {
            let key = Key::generate_rsa(2048)?;
            let tpl = Template::new(&a[0], &a[1], &a[2], &a[3], false)?;
            certificate(&tpl, &key, None)
        }),
        "genSelfSignedCertWithKey" => f(&[Str, Any, Any, Int, Str], None, |_, a| {
            let key = Key::from_pem(&str_of(&a[4])).map_err(|e| format!("parsing private key: {e}"))?;
            let tpl = Template::new(&a[0], &a[1], &a[2], &a[3], false)?;
            certificate(&tpl, &key, None)
        }),
        "genSignedCert" => f(&[Str, Any, Any, Int, Any], None, |_, a| {
            let ca = Issuer::from_arg(&a[4])?;
            let key = Key::generate_rsa(2048)?;
            let tpl = Template::new(&a[0], &a[1], &a[2], &a[3], false)?;
            certificate(&tpl, &key, Some(&ca))
        }),
        "genSignedCertWithKey" => f(&[Str, Any, Any, Int, Any, Str], None, |_, a| {
            let key = Key::from_pem(&str_of(&a[5])).map_err(|e| format!("parsing private key: {e}"))?;
            let ca = Issuer::from_arg(&a[4])?;
            let tpl = Template::new(&a[0], &a[1], &a[2], &a[3], false)?;
            certificate(&tpl, &key, Some(&ca))
        }),
        _ => None,
    }
}

/// Sprig's `certificate` struct: `{Cert, Key string}`, both PEM.
pub(crate) struct Certificate {
    cert: Vec<u8>,
    key: zeroize::Zeroizing<Vec<u8>>,
}

impl Object for Certificate {
    fn type_name(&self) -> &'static str {
        "sprig.certificate"
    }

    fn kind(&self) -> &'static str {
        "struct"
    }

    fn format_v(&self) -> Vec<u8> {
        [b"{".as_slice(), &self.cert, b" ", &self.key, b"}"].concat()
    }

    fn json(&self) -> Option<Vec<u8>> {
        let enc = json::Encoder { escape_html: true, indent: false };
        let cert = enc.encode(&Value::bytes(self.cert.clone())).ok()?;
        let key = enc.encode(&Value::bytes(self.key.to_vec())).ok()?;
        Some([b"{\"Cert\":".as_slice(), &cert, b",\"Key\":", &key, b"}"].concat())
    }

    fn member(&self, name: &str, args: Vec<Value>) -> Option<Result<Value, String>> {
        let v = match name {
            "Cert" => Value::bytes(self.cert.clone()),
            "Key" => Value::bytes(self.key.to_vec()),
            _ => return None,
        };
        if args.is_empty() { Some(Ok(v)) } else { Some(Err(format!("{name} is not a method but has arguments"))) }
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

// ---- keys

#[derive(Clone, Copy)]
enum Curve {
    P256,
    P384,
    P521,
}

impl Curve {
    const fn oid(self) -> &'static [u8] {
        match self {
            Curve::P256 => &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07],
            Curve::P384 => &[0x2b, 0x81, 0x04, 0x00, 0x22],
            Curve::P521 => &[0x2b, 0x81, 0x04, 0x00, 0x23],
        }
    }

    fn signing(self) -> &'static signature::EcdsaSigningAlgorithm {
        match self {
            Curve::P256 => &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            Curve::P384 => &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
            Curve::P521 => &signature::ECDSA_P521_SHA512_ASN1_SIGNING,
        }
    }

    /// `ecdsa-with-SHA256/384/512`, the hash Go pairs with each curve.
    const fn signature_oid(self) -> &'static [u8] {
        match self {
            Curve::P256 => &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02],
            Curve::P384 => &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03],
            Curve::P521 => &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04],
        }
    }
}

const ALL_CURVES: [Curve; 3] = [Curve::P256, Curve::P384, Curve::P521];
const OID_RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_SHA256_WITH_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];

/// A private key as Sprig holds one (`crypto.PrivateKey`).
enum Key {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair, Curve),
    Ed(Ed25519KeyPair),
    /// `DSA PRIVATE KEY`: parsed (as Sprig's `DSAKeyFormat`) but never usable for certificates,
    /// since Go's `*dsa.PrivateKey` is not a `crypto.Signer` and x509 cannot marshal DSA keys.
    Dsa,
}

impl Key {
    fn generate_rsa(bits: usize) -> Result<Key, String> {
        let size = if bits == 4096 { KeySize::Rsa4096 } else { KeySize::Rsa2048 };
        RsaKeyPair::generate(size).map(Key::Rsa).map_err(|_| "error generating rsa key".to_owned())
    }

    /// Sprig's `parsePrivateKeyPEM`: the first PEM block, by its type.
    fn from_pem(text: &[u8]) -> Result<Key, String> {
        let block = pem_decode(text).ok_or("no PEM data in input")?;
        let der = zeroize::Zeroizing::new(block.contents().to_vec());
        let tag = block.tag();
        if tag == "PRIVATE KEY" {
            return Key::from_pkcs8(&der).ok_or_else(|| "decoding PEM as PKCS#8: not a supported key".to_owned());
        }
        let Some(kind) = tag.strip_suffix(" PRIVATE KEY") else {
            return Err("no private key data in PEM block (wrong block type)".to_owned());
        };
        match kind {
            "RSA" => RsaKeyPair::from_der(&der).map(Key::Rsa).map_err(|_| {
                "parsing RSA private key from PEM: invalid or unsupported key (sealops needs 2048..=8192 bits)"
                    .to_owned()
            }),
            "EC" => {
                parse_sec1(&der).ok_or_else(|| "parsing EC private key from PEM: invalid or unsupported key".to_owned())
            }
            "DSA" => parse_dsa(&der)
                .then_some(Key::Dsa)
                .ok_or_else(|| "parsing DSA private key from PEM: invalid".to_owned()),
            _ => Err("invalid private key type (unknown PEM block type)".to_owned()),
        }
    }

    /// Go 1.19's `ParsePKCS8PrivateKey`: RSA, ECDSA or Ed25519.
    fn from_pkcs8(der: &[u8]) -> Option<Key> {
        let (alg_oid, params) = pkcs8_algorithm(der)?;
        match alg_oid {
            OID_RSA_ENCRYPTION => RsaKeyPair::from_pkcs8(der).ok().map(Key::Rsa),
            OID_EC_PUBLIC_KEY => {
                let curve = ALL_CURVES.into_iter().find(|c| params.is_some_and(|p| p == c.oid()))?;
                EcdsaKeyPair::from_pkcs8(curve.signing(), der).ok().map(|k| Key::Ec(k, curve))
            }
            OID_ED25519 => Ed25519KeyPair::from_pkcs8_maybe_unchecked(der).ok().map(Key::Ed),
            _ => None,
        }
    }

    /// `SubjectPublicKeyInfo` DER.
    fn spki(&self) -> Result<Vec<u8>, String> {
        let der = match self {
            Key::Rsa(k) => k.public_key().as_der().map(|d| d.as_ref().to_vec()),
            Key::Ec(k, _) => k.public_key().as_der().map(|d| d.as_ref().to_vec()),
            Key::Ed(k) => k.public_key().as_der().map(|d| d.as_ref().to_vec()),
            Key::Dsa => return Err("x509: unsupported public key type: *dsa.PublicKey".to_owned()),
        };
        der.map_err(|_| "cannot encode the public key".to_owned())
    }

    /// The `AlgorithmIdentifier` Go signs with for this key (`signingParamsForPublicKey`).
    fn algorithm(&self) -> Result<Vec<u8>, String> {
        match self {
            Key::Rsa(_) => Ok(der_seq(&[&der_oid(OID_SHA256_WITH_RSA), &[0x05, 0x00]])),
            Key::Ec(_, curve) => Ok(der_seq(&[&der_oid(curve.signature_oid())])),
            Key::Ed(_) => Ok(der_seq(&[&der_oid(OID_ED25519)])),
            Key::Dsa => {
                Err("error creating certificate: x509: certificate private key does not implement crypto.Signer"
                    .to_owned())
            }
        }
    }

    /// The signature over `tbs` with [`Key::algorithm`].
    fn sign(&self, tbs: &[u8]) -> Result<Vec<u8>, String> {
        let failed = |_| "error creating certificate: signing failed".to_owned();
        match self {
            Key::Rsa(k) => {
                let mut sig = vec![0u8; k.public_modulus_len()];
                k.sign(&signature::RSA_PKCS1_SHA256, &SystemRandom::new(), tbs, &mut sig).map_err(failed)?;
                Ok(sig)
            }
            Key::Ec(k, _) => Ok(k.sign(&SystemRandom::new(), tbs).map_err(failed)?.as_ref().to_vec()),
            Key::Ed(k) => Ok(k.sign(tbs).as_ref().to_vec()),
            Key::Dsa => Err(self.algorithm().err().unwrap_or_default()),
        }
    }

    /// Sprig's `pemBlockForKey`: PKCS#1 for RSA, SEC 1 for ECDSA, PKCS#8 otherwise.
    fn to_pem(&self) -> Result<zeroize::Zeroizing<Vec<u8>>, String> {
        let failed = |_| "cannot encode the private key".to_owned();
        match self {
            Key::Rsa(k) => {
                let pkcs8 = k.as_der().map_err(failed)?;
                let pkcs1 = pkcs8_private_key(pkcs8.as_ref()).ok_or("cannot encode the private key")?;
                Ok(pem_encode("RSA PRIVATE KEY", pkcs1))
            }
            Key::Ec(k, _) => {
                let sec1 = k.private_key().as_der().map_err(failed)?;
                Ok(pem_encode("EC PRIVATE KEY", sec1.as_ref()))
            }
            Key::Ed(k) => {
                let pkcs8 = k.to_pkcs8v1().map_err(failed)?;
                Ok(pem_encode("PRIVATE KEY", pkcs8.as_ref()))
            }
            Key::Dsa => Err("DSA keys are not supported here".to_owned()),
        }
    }
}

/// `genPrivateKey "rsa"|"ecdsa"|"ed25519"|"dsa"` (and "" for RSA): a PEM private key. Unknown
/// types render Sprig's "Unknown type X".
fn gen_private_key(c: &Ctx, a: Vec<Value>) -> FnResult {
    let kind = str_of(&a[0]);
    let key = match &kind[..] {
        b"" | b"rsa" => Key::generate_rsa(4096)?,
        b"ecdsa" => EcdsaKeyPair::generate(Curve::P256.signing())
            .map(|k| Key::Ec(k, Curve::P256))
            .map_err(|_| "failed to generate private key")?,
        b"ed25519" => Ed25519KeyPair::generate().map(Key::Ed).map_err(|_| "failed to generate private key")?,
        // Sprig v3.2.3 (crypto.go, generatePrivateKey): fresh L2048N256 parameters, then a key.
        b"dsa" => return c.bytes(generate_dsa_pem()?.to_vec()),
        _ => return c.bytes([b"Unknown type ".as_slice(), &kind].concat()),
    };
    c.bytes(key.to_pem()?.to_vec())
}

/// The operating system's generator, in the `rand_core` shape the `dsa` crate draws from.
struct DsaRng;

impl dsa::signature::rand_core::TryRng for DsaRng {
    type Error = std::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(u32::from_le_bytes(random::array()))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(u64::from_le_bytes(random::array()))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        random::fill(dst);
        Ok(())
    }
}

impl dsa::signature::rand_core::TryCryptoRng for DsaRng {}

/// `genPrivateKey "dsa"`: Go's `dsa.GenerateParameters(.., dsa.L2048N256)` and `dsa.GenerateKey`,
/// written as Sprig's `pemBlockForKey` writes a `*dsa.PrivateKey`: a `DSA PRIVATE KEY` block
/// holding `asn1.Marshal(DSAKeyFormat{Version: 0, P, Q, G, Y, X})`.
fn generate_dsa_pem() -> Result<zeroize::Zeroizing<Vec<u8>>, String> {
    let failed = |_| "failed to generate dsa params".to_owned();
    let components = dsa::Components::try_generate_from_rng_with_key_size(&mut DsaRng, dsa::KeySize::DSA_2048_256)
        .map_err(failed)?;
    let key = dsa::SigningKey::try_generate_from_rng_with_components(&mut DsaRng, components).map_err(failed)?;
    let public = key.verifying_key();
    let params = public.components();
    let x = zeroize::Zeroizing::new(key.x().to_be_bytes());
    let x = zeroize::Zeroizing::new(der_uint(&x));
    let der = zeroize::Zeroizing::new(der_seq(&[
        &der_uint(&[0]),
        &der_uint(&params.p().to_be_bytes()),
        &der_uint(&params.q().to_be_bytes()),
        &der_uint(&params.g().to_be_bytes()),
        &der_uint(&public.y().to_be_bytes()),
        &x,
    ]));
    Ok(pem_encode("DSA PRIVATE KEY", &der))
}

/// `buildCustomCert b64cert b64key`: checks that the first is base64 of a PEM certificate and the
/// second base64 of a PEM private key, and returns them (decoded) as a `certificate`.
fn build_custom_cert(_: &Ctx, a: Vec<Value>) -> FnResult {
    let cert = b64_decode(&str_of(&a[0])).ok_or("unable to decode base64 certificate")?;
    let key = zeroize::Zeroizing::new(b64_decode(&str_of(&a[1])).ok_or("unable to decode base64 private key")?);
    let block = pem_decode(&cert).ok_or("unable to decode certificate")?;
    parse_certificate(block.contents()).map_err(|e| format!("error parsing certificate: decodedCert.Bytes: {e}"))?;
    Key::from_pem(&key).map_err(|e| format!("error parsing private key: {e}"))?;
    Ok(Value::Object(Rc::new(Certificate { cert, key })))
}

/// Go's `base64.StdEncoding.DecodeString`: padding required, '\r' and '\n' skipped.
fn b64_decode(text: &[u8]) -> Option<Vec<u8>> {
    let input: Vec<u8> = text.iter().copied().filter(|&b| b != b'\r' && b != b'\n').collect();
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
    );
    engine.decode(&input).ok()
}

// ---- certificates

/// The parts of Sprig's `getBaseCertTemplate` that vary.
struct Template {
    subject: Vec<u8>,
    ips: Vec<Vec<u8>>,
    dns: Vec<Vec<u8>>,
    days: i64,
    is_ca: bool,
}

impl Template {
    fn new(cn: &Value, ips: &Value, dns: &Value, days: &Value, is_ca: bool) -> Result<Template, String> {
        let ips = list_arg(ips)?
            .iter()
            .map(|ip| match ip {
                Value::Str(s) => parse_ip(s).ok_or_else(|| "error parsing ip: not an IP address".to_owned()),
                other => Err(format!("error parsing ip: a {} is not a string", other.type_name())),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let dns = list_arg(dns)?
            .iter()
            .map(|name| match name {
                Value::Str(s) if s.is_ascii() => Ok(s.to_vec()),
                // Go's marshalSANs: "x509: %q cannot be encoded as an IA5String" (sealops omits the name).
                Value::Str(_) => {
                    Err("error creating certificate: x509: a DNS name cannot be encoded as an IA5String".to_owned())
                }
                other => Err(format!("error processing alternate dns name: a {} is not a string", other.type_name())),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Template { subject: subject_cn(&str_of(cn))?, ips, dns, days: days.as_int().unwrap_or(0), is_ca })
    }
}

/// A `[]interface{}` parameter: a list, or nil for none. Divergence: sealops' lists also stand
/// for Go's `[]string` (from `splitList`, `sortAlpha`...), which Go refuses here.
fn list_arg(v: &Value) -> Result<Vec<Value>, String> {
    match v {
        Value::Nil => Ok(Vec::new()),
        Value::List(items) => Ok(items.to_vec()),
        other => Err(format!("wrong type for value; expected []interface {{}}; got {}", other.type_name())),
    }
}

/// Go's `net.ParseIP` then `To4()` where possible: 4 bytes for IPv4 (and IPv4-mapped IPv6), 16
/// otherwise.
fn parse_ip(s: &[u8]) -> Option<Vec<u8>> {
    let s = std::str::from_utf8(s).ok()?;
    if let Ok(v4) = s.parse::<std::net::Ipv4Addr>() {
        return Some(v4.octets().to_vec());
    }
    let v6 = s.parse::<std::net::Ipv6Addr>().ok()?;
    Some(match v6.to_ipv4_mapped() {
        Some(v4) => v4.octets().to_vec(),
        None => v6.octets().to_vec(),
    })
}

/// `pkix.Name{CommonName: cn}` as Go marshals it: no attribute for "", PrintableString when every
/// byte is printable (Go allows '*'), UTF8String otherwise.
fn subject_cn(cn: &[u8]) -> Result<Vec<u8>, String> {
    if cn.is_empty() {
        return Ok(der_seq(&[]));
    }
    if std::str::from_utf8(cn).is_err() {
        return Err("error creating certificate: asn1: string not valid UTF-8".to_owned());
    }
    let printable = cn.iter().all(|&b| {
        b.is_ascii_alphanumeric()
            || matches!(b, b'\'' | b'(' | b')' | b'+' | b',' | b'-' | b'.' | b'/' | b' ' | b':' | b'=' | b'?' | b'*')
    });
    let value = der_tlv(if printable { 0x13 } else { 0x0c }, cn);
    let atv = der_seq(&[&der_oid(&[0x55, 0x04, 0x03]), &value]);
    Ok(der_seq(&[&der_tlv(0x31, &atv)]))
}

/// The signing side of `genSignedCert`: the CA certificate's subject, key identifier and public
/// key, and its private key.
struct Issuer {
    subject: Vec<u8>,
    key_id: Option<Vec<u8>>,
    spki: Vec<u8>,
    key: Key,
}

impl Issuer {
    fn from_arg(v: &Value) -> Result<Issuer, String> {
        let ca = match v {
            Value::Object(o) => o.as_any().downcast_ref::<Certificate>(),
            _ => None,
        }
        .ok_or_else(|| format!("wrong type for value; expected sprig.certificate; got {}", v.type_name()))?;
        let block = pem_decode(&ca.cert).ok_or("unable to decode certificate")?;
        let parsed = parse_certificate(block.contents())
            .map_err(|e| format!("error parsing certificate: decodedSignerCert.Bytes: {e}"))?;
        let key = Key::from_pem(&ca.key).map_err(|e| format!("error parsing private key: {e}"))?;
        Ok(Issuer { subject: parsed.subject, key_id: parsed.key_id, spki: parsed.spki, key })
    }
}

struct ParsedCert {
    subject: Vec<u8>,
    key_id: Option<Vec<u8>>,
    spki: Vec<u8>,
}

/// Go's `x509.ParseCertificate` (as far as x509-parser checks): the raw subject, the subject key
/// identifier and the raw public key info.
fn parse_certificate(der: &[u8]) -> Result<ParsedCert, &'static str> {
    use x509_parser::extensions::ParsedExtension;
    let (rest, cert) = x509_parser::parse_x509_certificate(der).map_err(|_| "malformed certificate")?;
    if !rest.is_empty() {
        return Err("x509: trailing data");
    }
    let tbs = &cert.tbs_certificate;
    let key_id = tbs.extensions().iter().find_map(|e| match e.parsed_extension() {
        ParsedExtension::SubjectKeyIdentifier(id) => Some(id.0.to_vec()),
        _ => None,
    });
    Ok(ParsedCert { subject: tbs.subject.as_raw().to_vec(), key_id, spki: tbs.subject_pki.raw.to_vec() })
}

/// Go's `CreateCertificate(template, parent, signee.Public(), signer)` followed by Sprig's PEM
/// encoding of the certificate and of the signee key.
fn certificate(tpl: &Template, signee: &Key, issuer: Option<&Issuer>) -> FnResult {
    let spki = signee.spki().map_err(|e| format!("error creating certificate: {e}"))?;
    let signer = issuer.map_or(signee, |i| &i.key);
    if let Some(i) = issuer {
        let signer_spki = signer.spki().map_err(|e| format!("error creating certificate: {e}"))?;
        if signer_spki != i.spki {
            return Err("error creating certificate: x509: provided PrivateKey doesn't match parent's PublicKey".into());
        }
    }
    let sig_alg = signer.algorithm()?;
    let tbs = tbs_certificate(tpl, &spki, issuer, &sig_alg)?;
    let sig = signer.sign(&tbs)?;
    let cert = der_seq(&[&tbs, &sig_alg, &der_bit_string(&sig)]);
    let key = signee.to_pem()?;
    Ok(Value::Object(Rc::new(Certificate { cert: pem_encode("CERTIFICATE", &cert).to_vec(), key })))
}

fn tbs_certificate(tpl: &Template, spki: &[u8], issuer: Option<&Issuer>, sig_alg: &[u8]) -> Result<Vec<u8>, String> {
    // Any value below 2^128, as `rand.Int(rand.Reader, 1<<128)`.
    let serial = random::array::<16>();
    let issuer_name = issuer.map_or(tpl.subject.as_slice(), |i| i.subject.as_slice());
    let now = time::OffsetDateTime::now_utc();
    // `time.Hour * 24 * time.Duration(daysValid)` wraps like Go's int64 nanoseconds.
    let span = 86_400_000_000_000i64.wrapping_mul(tpl.days);
    let not_after =
        now.checked_add(time::Duration::nanoseconds(span)).ok_or("error creating certificate: time out of range")?;
    let validity = der_seq(&[&der_time(now)?, &der_time(not_after)?]);
    let key_bits = spki_key_bits(spki).ok_or("error creating certificate: bad public key")?;

    let mut exts: Vec<Vec<u8>> = Vec::new();
    // KeyUsage: digitalSignature(0) | keyEncipherment(2) [| keyCertSign(5)], DER-trimmed.
    let ku: &[u8] = if tpl.is_ca { &[0x03, 0x02, 0x02, 0xa4] } else { &[0x03, 0x02, 0x05, 0xa0] };
    exts.push(extension(&[0x55, 0x1d, 0x0f], true, ku));
    let eku = der_seq(&[
        &der_oid(&[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01]),
        &der_oid(&[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02]),
    ]);
    exts.push(extension(&[0x55, 0x1d, 0x25], false, &eku));
    let bc = if tpl.is_ca { der_seq(&[&[0x01, 0x01, 0xff]]) } else { der_seq(&[]) };
    exts.push(extension(&[0x55, 0x1d, 0x13], true, &bc));
    if tpl.is_ca {
        let ski = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, key_bits);
        exts.push(extension(&[0x55, 0x1d, 0x0e], false, &der_tlv(0x04, ski.as_ref())));
    }
    if let Some(i) = issuer
        && i.subject != tpl.subject
        && let Some(id) = i.key_id.as_ref().filter(|id| !id.is_empty())
    {
        exts.push(extension(&[0x55, 0x1d, 0x23], false, &der_seq(&[&der_tlv(0x80, id)])));
    }
    if !tpl.dns.is_empty() || !tpl.ips.is_empty() {
        let names: Vec<Vec<u8>> =
            tpl.dns.iter().map(|d| der_tlv(0x82, d)).chain(tpl.ips.iter().map(|ip| der_tlv(0x87, ip))).collect();
        let refs: Vec<&[u8]> = names.iter().map(Vec::as_slice).collect();
        // Critical when the subject is empty (RFC 5280 §4.2.1.6), as Go marks it.
        exts.push(extension(&[0x55, 0x1d, 0x11], tpl.subject == der_seq(&[]), &der_seq(&refs)));
    }
    let ext_refs: Vec<&[u8]> = exts.iter().map(Vec::as_slice).collect();
    Ok(der_seq(&[
        &[0xa0, 0x03, 0x02, 0x01, 0x02],
        &der_uint(&serial),
        sig_alg,
        issuer_name,
        &validity,
        &tpl.subject,
        spki,
        &der_tlv(0xa3, &der_seq(&ext_refs)),
    ]))
}

fn extension(oid: &[u8], critical: bool, value: &[u8]) -> Vec<u8> {
    let oid = der_oid(oid);
    let value = der_tlv(0x04, value);
    if critical { der_seq(&[&oid, &[0x01, 0x01, 0xff], &value]) } else { der_seq(&[&oid, &value]) }
}

/// Go's `validity` times: UTCTime for 1950..=2049, GeneralizedTime otherwise, in whole seconds.
fn der_time(t: time::OffsetDateTime) -> Result<Vec<u8>, String> {
    let (y, mo, d, h, mi, s) = (t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute(), t.second());
    if (1950..2050).contains(&y) {
        Ok(der_tlv(0x17, format!("{:02}{mo:02}{d:02}{h:02}{mi:02}{s:02}Z", y % 100).as_bytes()))
    } else if (0..=9999).contains(&y) {
        Ok(der_tlv(0x18, format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}Z").as_bytes()))
    } else {
        Err("error creating certificate: asn1: cannot represent time as GeneralizedTime".to_owned())
    }
}

// ---- DER and PEM

fn der_seq(parts: &[&[u8]]) -> Vec<u8> {
    der_tlv(0x30, &parts.concat())
}

fn der_oid(body: &[u8]) -> Vec<u8> {
    der_tlv(0x06, body)
}

fn der_bit_string(bytes: &[u8]) -> Vec<u8> {
    der_tlv(0x03, &[&[0u8][..], bytes].concat())
}

/// A non-negative INTEGER from big-endian bytes (minimal, with a 0 byte before a high bit).
fn der_uint(be: &[u8]) -> Vec<u8> {
    let skip = be.iter().take_while(|&&b| b == 0).count();
    let digits = &be[skip..];
    match digits.first() {
        None => der_tlv(0x02, &[0]),
        Some(&b) if b & 0x80 != 0 => der_tlv(0x02, &[&[0u8][..], digits].concat()),
        Some(_) => der_tlv(0x02, digits),
    }
}

/// The algorithm OID and its OID parameter (the curve), if any, of a PKCS#8 `PrivateKeyInfo`.
fn pkcs8_algorithm(der: &[u8]) -> Option<(&[u8], Option<&[u8]>)> {
    let (0x30, body, _) = der_read(der)? else { return None };
    let (0x02, _, rest) = der_read(body)? else { return None };
    let (0x30, alg, _) = der_read(rest)? else { return None };
    let (0x06, oid, rest) = der_read(alg)? else { return None };
    let params = der_read(rest).and_then(|(tag, p, _)| (tag == 0x06).then_some(p));
    Some((oid, params))
}

/// The `privateKey` OCTET STRING of a PKCS#8 `PrivateKeyInfo` (PKCS#1 for RSA).
fn pkcs8_private_key(der: &[u8]) -> Option<&[u8]> {
    let (0x30, body, _) = der_read(der)? else { return None };
    let (0x02, _, rest) = der_read(body)? else { return None };
    let (0x30, _, rest) = der_read(rest)? else { return None };
    let (0x04, key, _) = der_read(rest)? else { return None };
    Some(key)
}

/// The subjectPublicKey bits of a `SubjectPublicKeyInfo` (what Go hashes for a key identifier).
fn spki_key_bits(spki: &[u8]) -> Option<&[u8]> {
    let (0x30, body, _) = der_read(spki)? else { return None };
    let (0x30, _, rest) = der_read(body)? else { return None };
    let (0x03, bits, _) = der_read(rest)? else { return None };
    bits.get(1..)
}

/// Go's `ParseECPrivateKey` (SEC 1 `ECPrivateKey`, version 1, a named curve Go knows and aws-lc-rs
/// signs with). A PKCS#8 key in an `EC PRIVATE KEY` block is refused, as Go refuses it.
fn parse_sec1(der: &[u8]) -> Option<Key> {
    let (0x30, body, _) = der_read(der)? else { return None };
    let (0x02, [1], rest) = der_read(body)? else { return None };
    let (0x04, _, mut rest) = der_read(rest)? else { return None };
    let mut curve = None;
    while let Some((tag, inner, more)) = der_read(rest) {
        if tag == 0xa0 {
            let (0x06, oid, _) = der_read(inner)? else { return None };
            curve = ALL_CURVES.into_iter().find(|c| c.oid() == oid);
        }
        rest = more;
    }
    let curve = curve?;
    EcdsaKeyPair::from_private_key_der(curve.signing(), der).ok().map(|k| Key::Ec(k, curve))
}

/// Sprig's `DSAKeyFormat`: a SEQUENCE of six INTEGERs (version, P, Q, G, Y, X).
fn parse_dsa(der: &[u8]) -> bool {
    let Some((0x30, mut body, _)) = der_read(der) else { return false };
    for _ in 0..6 {
        match der_read(body) {
            Some((0x02, int, rest)) if !int.is_empty() => body = rest,
            _ => return false,
        }
    }
    true
}

/// Go's `pem.Decode`: the first block.
fn pem_decode(text: &[u8]) -> Option<pem::Pem> {
    pem::parse(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use x509_parser::extensions::{GeneralName, ParsedExtension};

    fn ctx() -> Ctx {
        Ctx { max_bytes: 1 << 20, max_nesting: 100, work: std::cell::Cell::new(1_000_000) }
    }

    fn call(name: &str, args: Vec<Value>) -> FnResult {
        let Some(f) = func(name) else { panic!("{name} is not implemented") };
        (f.call)(&ctx(), args)
    }

    fn cert_of(v: &Value) -> (Vec<u8>, Vec<u8>) {
        let Value::Object(o) = v else { panic!("expected a certificate") };
        let c = o.as_any().downcast_ref::<Certificate>().expect("certificate");
        (c.cert.clone(), c.key.to_vec())
    }

    fn text(v: FnResult) -> Vec<u8> {
        match v {
            Ok(Value::Str(s)) => s.to_vec(),
            _ => panic!("expected a string"),
        }
    }

    /// Checks `cert`'s signature with the issuer's public key info (DER).
    fn verify(
        cert: &x509_parser::certificate::X509Certificate<'_>,
        issuer_spki: &[u8],
        alg: &'static dyn signature::VerificationAlgorithm,
    ) -> bool {
        let bits = spki_key_bits(issuer_spki).expect("public key bits");
        signature::UnparsedPublicKey::new(alg, bits)
            .verify(cert.tbs_certificate.as_ref(), &cert.signature_value.data)
            .is_ok()
    }

    fn list(items: &[&str]) -> Value {
        Value::List(Rc::new(items.iter().map(|s| Value::text(s)).collect()))
    }

    #[test]
    fn private_keys_use_go_pem_block_types() {
        let ec = text(call("genPrivateKey", vec![Value::text("ecdsa")]));
        assert!(ec.starts_with(b"-----BEGIN EC PRIVATE KEY-----\n") && ec.ends_with(b"-----END EC PRIVATE KEY-----\n"));
        let block = pem_decode(&ec).expect("pem");
        // SEC 1: version 1, 32-byte key, [0] prime256v1, [1] public point (Go's MarshalECPrivateKey).
        let (_, body, _) = der_read(block.contents()).expect("seq");
        let (_, version, rest) = der_read(body).expect("version");
        assert_eq!(version, [1]);
        let (tag, key, rest) = der_read(rest).expect("key");
        assert_eq!((tag, key.len()), (0x04, 32));
        let (tag, oid, rest) = der_read(rest).expect("params");
        assert_eq!((tag, oid), (0xa0, der_oid(Curve::P256.oid()).as_slice()));
        assert_eq!(der_read(rest).expect("public key").0, 0xa1);

        let ed = text(call("genPrivateKey", vec![Value::text("ed25519")]));
        let block = pem_decode(&ed).expect("pem");
        assert_eq!(block.tag(), "PRIVATE KEY");
        // Go's MarshalPKCS8PrivateKey for Ed25519: version 0, no public key.
        assert_eq!(block.contents().len(), 48);
        assert!(block.contents().starts_with(&[
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20
        ]));

        assert_eq!(text(call("genPrivateKey", vec![Value::text("x")])), b"Unknown type x");
    }

    /// `genPrivateKey "dsa"` as Go's `dsa.GenerateParameters(L2048N256)` + `GenerateKey` and
    /// Sprig's `DSAKeyFormat` define the key (FIPS 186-4 §4.1-4.2): version 0; P prime of 2048
    /// bits; Q of 256 bits dividing P-1; G of order Q; Y = G^X mod P with 0 < X < Q. Checked with
    /// num-bigint, independently of the `dsa` crate that made the key.
    #[test]
    fn dsa_private_key_is_a_valid_l2048n256_key() {
        use num_bigint::BigUint;
        let pem = text(call("genPrivateKey", vec![Value::text("dsa")]));
        assert!(pem.starts_with(b"-----BEGIN DSA PRIVATE KEY-----\n"));
        let block = pem_decode(&pem).expect("pem");
        assert_eq!(block.tag(), "DSA PRIVATE KEY");
        let (0x30, mut body, []) = der_read(block.contents()).expect("sequence") else { panic!("not one SEQUENCE") };
        let mut ints = Vec::new();
        while !body.is_empty() {
            let (0x02, int, rest) = der_read(body).expect("integer") else { panic!("not an INTEGER") };
            // DER: minimal and non-negative, as Go's asn1.Marshal writes a big.Int.
            assert!(int[0] & 0x80 == 0);
            assert!(int.len() == 1 || int[0] != 0 || int[1] & 0x80 != 0);
            ints.push(BigUint::from_bytes_be(int));
            body = rest;
        }
        let [version, p, q, g, y, x] = &ints[..] else { panic!("{} integers, not 6", ints.len()) };
        let one = BigUint::from(1u8);
        assert_eq!(*version, BigUint::from(0u8));
        assert_eq!(p.bits(), 2048);
        assert_eq!(q.bits(), 256);
        assert_eq!((p - &one) % q, BigUint::from(0u8));
        assert!(*g > one && g < p);
        assert_eq!(g.modpow(q, p), one);
        assert!(x > &BigUint::from(0u8) && x < q);
        assert_eq!(g.modpow(x, p), *y);
        // Fermat witnesses: P and Q are (probable) primes.
        for base in [2u8, 3, 5, 7] {
            let a = BigUint::from(base);
            assert_eq!(a.modpow(&(p - &one), p), one);
            assert_eq!(a.modpow(&(q - &one), q), one);
        }
        // The key is usable where Sprig can use one: parsed back, and refused for certificates
        // as Go refuses a *dsa.PrivateKey (not a crypto.Signer).
        assert!(matches!(Key::from_pem(&pem), Ok(Key::Dsa)));
        assert!(call("genCAWithKey", vec![Value::text("x"), Value::Int(1), Value::bytes(pem.clone())]).is_err());
        // Fresh parameters every call, as Go's.
        let again = text(call("genPrivateKey", vec![Value::text("dsa")]));
        assert_ne!(pem, again);
    }

    #[test]
    fn pem_lines_are_64_columns() {
        let out = pem_encode("X", &[7u8; 100]);
        let text = String::from_utf8(out.to_vec()).expect("ascii");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "-----BEGIN X-----");
        assert_eq!(lines[1].len(), 64);
        assert_eq!(lines[3].len(), 8);
        assert_eq!(lines[4], "-----END X-----");
        assert!(text.ends_with("-----\n"));
    }

    /// The CA and a certificate it signs, both RSA 2048 as Sprig makes them, checked field by
    /// field against Sprig's template and Go's CreateCertificate.
    #[test]
    fn ca_and_signed_certificate_match_sprig_template() {
        let ca = call("genCA", vec![Value::text("my-ca"), Value::Int(30)]).ok().expect("genCA");
        let (ca_pem, ca_key) = cert_of(&ca);
        assert!(ca_key.starts_with(b"-----BEGIN RSA PRIVATE KEY-----\n"));
        let block = pem_decode(&ca_pem).expect("pem");
        assert_eq!(block.tag(), "CERTIFICATE");
        let (_, c) = x509_parser::parse_x509_certificate(block.contents()).expect("x509");
        assert_eq!(c.version().0, 2);
        assert_eq!(c.subject().to_string(), "CN=my-ca");
        assert_eq!(c.issuer().to_string(), "CN=my-ca");
        assert!(c.raw_serial().len() <= 17);
        let days = (c.validity().not_after.timestamp() - c.validity().not_before.timestamp()) / 86_400;
        assert_eq!(days, 30);
        assert_eq!(c.signature_algorithm.algorithm.to_id_string(), "1.2.840.113549.1.1.11");
        assert_eq!(c.public_key().raw.len(), 294, "RSA 2048 SPKI");
        let bc = c.basic_constraints().expect("ok").expect("present");
        assert!(bc.critical && bc.value.ca && bc.value.path_len_constraint.is_none());
        let ku = c.key_usage().expect("ok").expect("present");
        assert!(ku.critical && ku.value.digital_signature() && ku.value.key_encipherment() && ku.value.key_cert_sign());
        assert!(!ku.value.crl_sign());
        let eku = c.extended_key_usage().expect("ok").expect("present");
        assert!(!eku.critical && eku.value.server_auth && eku.value.client_auth && eku.value.other.is_empty());
        let ski = c
            .extensions()
            .iter()
            .find_map(|e| match e.parsed_extension() {
                ParsedExtension::SubjectKeyIdentifier(id) => Some(id.0.to_vec()),
                _ => None,
            })
            .expect("a CA has a subject key id");
        assert_eq!(ski.len(), 20);
        assert!(verify(&c, c.public_key().raw, &signature::RSA_PKCS1_2048_8192_SHA256));

        let ec_key = text(call("genPrivateKey", vec![Value::text("ecdsa")]));
        let signed = call(
            "genSignedCertWithKey",
            vec![
                Value::text("leaf.example"),
                list(&["10.0.0.1", "::1", "::ffff:1.2.3.4"]),
                list(&["a.example", "b.example"]),
                Value::Int(7),
                ca.clone(),
                Value::bytes(ec_key.clone()),
            ],
        )
        .ok()
        .expect("genSignedCertWithKey");
        let (leaf_pem, leaf_key) = cert_of(&signed);
        assert_eq!(leaf_key, ec_key, "the key comes back re-encoded the same way");
        let block = pem_decode(&leaf_pem).expect("pem");
        let (_, l) = x509_parser::parse_x509_certificate(block.contents()).expect("x509");
        assert_eq!(l.subject().to_string(), "CN=leaf.example");
        assert_eq!(l.issuer().as_raw(), c.subject().as_raw());
        assert!(verify(&l, c.public_key().raw, &signature::RSA_PKCS1_2048_8192_SHA256));
        assert_eq!(l.public_key().algorithm.algorithm.to_id_string(), "1.2.840.10045.2.1");
        let bc = l.basic_constraints().expect("ok").expect("present");
        assert!(bc.critical && !bc.value.ca);
        let ku = l.key_usage().expect("ok").expect("present");
        assert!(ku.value.digital_signature() && ku.value.key_encipherment() && !ku.value.key_cert_sign());
        let san = l.subject_alternative_name().expect("ok").expect("present");
        assert!(!san.critical);
        let names: Vec<String> = san
            .value
            .general_names
            .iter()
            .map(|n| match n {
                GeneralName::DNSName(d) => d.to_string(),
                GeneralName::IPAddress(ip) => format!("{ip:?}"),
                _ => "other".to_owned(),
            })
            .collect();
        assert_eq!(
            names,
            [
                "a.example",
                "b.example",
                "[10, 0, 0, 1]",
                "[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]",
                "[1, 2, 3, 4]"
            ]
        );
        let aki = l
            .extensions()
            .iter()
            .find_map(|e| match e.parsed_extension() {
                ParsedExtension::AuthorityKeyIdentifier(a) => a.key_identifier.as_ref().map(|k| k.0.to_vec()),
                _ => None,
            })
            .expect("AKI from the CA");
        assert_eq!(aki, ski);
        assert!(
            !l.extensions().iter().any(|e| matches!(e.parsed_extension(), ParsedExtension::SubjectKeyIdentifier(_)))
        );

        // A CA whose key does not match its certificate is refused, as Go refuses it.
        let other = text(call("genPrivateKey", vec![Value::text("ed25519")]));
        let bad = Certificate { cert: ca_pem.clone(), key: zeroize::Zeroizing::new(other.clone()) };
        let err = call(
            "genSignedCertWithKey",
            vec![
                Value::text("x"),
                Value::Nil,
                Value::Nil,
                Value::Int(1),
                Value::Object(Rc::new(bad)),
                Value::bytes(other),
            ],
        );
        assert!(err.is_err());
    }

    #[test]
    fn self_signed_ed25519_with_empty_subject_has_critical_sans() {
        let key = text(call("genPrivateKey", vec![Value::text("ed25519")]));
        let v = call(
            "genSelfSignedCertWithKey",
            vec![Value::text(""), Value::Nil, list(&["only.example"]), Value::Int(1), Value::bytes(key.clone())],
        )
        .ok()
        .expect("self-signed");
        let (pem_text, key_out) = cert_of(&v);
        assert_eq!(key_out, key);
        let block = pem_decode(&pem_text).expect("pem");
        let (_, c) = x509_parser::parse_x509_certificate(block.contents()).expect("x509");
        assert_eq!(c.subject().as_raw(), [0x30, 0x00]);
        assert!(c.subject_alternative_name().expect("ok").expect("present").critical);
        assert_eq!(c.signature_algorithm.algorithm.to_id_string(), "1.3.101.112");
        assert!(verify(&c, c.public_key().raw, &signature::ED25519));
        assert!(
            !c.extensions().iter().any(|e| matches!(e.parsed_extension(), ParsedExtension::SubjectKeyIdentifier(_)))
        );

        let b64 = |b: &[u8]| Value::text(&base64::engine::general_purpose::STANDARD.encode(b));
        let built = call("buildCustomCert", vec![b64(&pem_text), b64(&key)]).ok().expect("buildCustomCert");
        assert_eq!(cert_of(&built), (pem_text.clone(), key.clone()));
        assert!(call("buildCustomCert", vec![b64(&pem_text), b64(b"junk")]).is_err());
        assert!(call("buildCustomCert", vec![b64(b"junk"), b64(&key)]).is_err());
    }

    #[test]
    fn bad_arguments_are_errors() {
        let key = text(call("genPrivateKey", vec![Value::text("ecdsa")]));
        let with = |ips: Value, dns: Value| {
            call("genSelfSignedCertWithKey", vec![Value::text("x"), ips, dns, Value::Int(1), Value::bytes(key.clone())])
        };
        assert!(with(list(&["300.1.1.1"]), Value::Nil).is_err());
        assert!(with(Value::List(Rc::new(vec![Value::Int(1)])), Value::Nil).is_err());
        assert!(with(Value::text("1.2.3.4"), Value::Nil).is_err());
        assert!(with(Value::Nil, list(&["héllo"])).is_err());
        assert!(with(Value::Nil, Value::Nil).is_ok());
        assert!(call("genCAWithKey", vec![Value::text("x"), Value::Int(1), Value::text("not pem")]).is_err());
        let dsa = pem_encode(
            "DSA PRIVATE KEY",
            &der_seq(&[
                &der_uint(&[0]),
                &der_uint(&[23]),
                &der_uint(&[11]),
                &der_uint(&[4]),
                &der_uint(&[8]),
                &der_uint(&[3]),
            ]),
        );
        assert!(matches!(Key::from_pem(&dsa), Ok(Key::Dsa)));
        assert!(call("genCAWithKey", vec![Value::text("x"), Value::Int(1), Value::bytes(dsa.to_vec())]).is_err());
        assert!(
            call(
                "genSignedCert",
                vec![Value::text("x"), Value::Nil, Value::Nil, Value::Int(1), Value::new_dict(Default::default())]
            )
            .is_err()
        );
    }
}
