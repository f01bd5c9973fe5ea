//! Sprig's crypto and random functions: `bcrypt`, `htpasswd`, `derivePassword`, `genPrivateKey`, the certificate generators, `encryptAES`/`decryptAES`, `randBytes`, `uuidv4`, `rand*`.
//!
//! Semantics are Sprig v3.2.3's `crypto.go` and `strings.go` (random strings come from
//! `github.com/Masterminds/goutils`' `CryptoRandom*`, `shuffle` from `huandu/xstrings`). Keys and
//! certificates are in [`x509`].

mod x509;

use aws_lc_rs::hmac;
use base64::Engine as _;

use super::super::fmt::decode_rune;
use super::super::funcs::{Ctx, FnError, FnResult, Func, Param, str_of};
use super::super::value::Value;
use crate::crypto::random;

/// The function `name` of this family, if implemented.
pub(super) fn func(name: &str) -> Option<Func> {
    use Param::*;
    let f = |params: &'static [Param], variadic: Option<Param>, call: fn(&Ctx, Vec<Value>) -> FnResult| {
        Some(Func { params, variadic, call })
    };
    match name {
        "randAlphaNum" => f(&[Int], None, |c, a| random_string(c, &a[0], ALPHANUM)),
        "randAlpha" => f(&[Int], None, |c, a| random_string(c, &a[0], ALPHA)),
        "randNumeric" => f(&[Int], None, |c, a| random_string(c, &a[0], NUMERIC)),
        "randAscii" => f(&[Int], None, |c, a| random_string(c, &a[0], ASCII)),
        "randInt" => f(&[Int, Int], None, |_, a| rand_int(&a[0], &a[1])),
        "randBytes" => f(&[Int], None, rand_bytes),
        "uuidv4" => f(&[], None, |c, _| c.bytes(uuidv4().into_bytes())),
        "shuffle" => f(&[Str], None, |c, a| c.bytes(shuffle(&str_of(&a[0])))),
        "bcrypt" => f(&[Str], None, |c, a| c.bytes(bcrypt_hash(&str_of(&a[0]))?)),
        "htpasswd" => f(&[Str, Str], None, htpasswd),
        // The counter is a Go `uint32`, which text/template only fills from a number literal; see
        // [`uint32_arg`].
        "derivePassword" => f(&[Any, Str, Str, Str, Str], None, derive_password),
        "encryptAES" => f(&[Str, Str], None, encrypt_aes),
        "decryptAES" => f(&[Str, Str], None, decrypt_aes),
        _ => x509::func(name),
    }
}

/// `goutils.CryptoRandom` draws runes in `' '..='z'` and keeps letters and digits (alphanumeric,
/// alphabetic, numeric) or everything in `32..127` (ASCII): these are the resulting alphabets.
const ALPHANUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const NUMERIC: &[u8] = b"0123456789";
const ASCII: &[u8] =
    b" !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~";

/// A uniform random number below `n` (`n > 0`), from the OS CSPRNG, without modulo bias.
fn below(n: u64) -> u64 {
    let zone = u64::MAX - (u64::MAX % n);
    loop {
        let v = u64::from_be_bytes(random::array::<8>());
        if v < zone {
            return v % n;
        }
    }
}

/// `randAlphaNum` and friends. Sprig drops goutils' error for a negative count and renders "".
fn random_string(c: &Ctx, count: &Value, alphabet: &[u8]) -> FnResult {
    let count = count.as_int().unwrap_or(0);
    if count <= 0 {
        return Ok(Value::text(""));
    }
    let count = usize::try_from(count).map_err(|_| FnError::Limit("string result too large"))?;
    c.check_len(count)?;
    let out = (0..count).map(|_| alphabet[below(alphabet.len() as u64) as usize]).collect();
    c.bytes(out)
}

/// `randInt min max`: `rand.Intn(max-min) + min`, which panics (a template error) unless
/// `max-min` (wrapping, as Go's `int`) is positive.
fn rand_int(min: &Value, max: &Value) -> FnResult {
    let (min, max) = (min.as_int().unwrap_or(0), max.as_int().unwrap_or(0));
    let span = max.wrapping_sub(min);
    if span <= 0 {
        return Err("invalid argument to Intn".into());
    }
    Ok(Value::Int((below(span as u64) as i64).wrapping_add(min)))
}

/// `randBytes n`: base64 of `n` random bytes; a negative `n` panics in Go's `make`.
fn rand_bytes(c: &Ctx, a: Vec<Value>) -> FnResult {
    let n = a[0].as_int().unwrap_or(0);
    let n = usize::try_from(n).map_err(|_| FnError::from("runtime error: makeslice: len out of range"))?;
    c.check_len(n.div_ceil(3).saturating_mul(4))?;
    let mut buf = zeroize::Zeroizing::new(vec![0u8; n]);
    random::fill(&mut buf);
    c.bytes(base64::engine::general_purpose::STANDARD.encode(&buf[..]).into_bytes())
}

/// A random (version 4, RFC 4122 variant) UUID in its canonical lower-case form, as
/// `github.com/google/uuid`'s `New().String()`.
fn uuidv4() -> String {
    let mut b = random::array::<16>();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

/// `xstrings.Shuffle`: the runes (invalid UTF-8 bytes become U+FFFD, as Go's `[]rune(s)`) in a
/// Fisher-Yates order. Go uses `math/rand`; any uniform source gives the same distribution.
fn shuffle(s: &[u8]) -> Vec<u8> {
    let mut runes = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        let (ch, size) = decode_rune(rest);
        runes.push(ch.unwrap_or(char::REPLACEMENT_CHARACTER));
        rest = &rest[size.max(1)..];
    }
    for i in (1..runes.len()).rev() {
        let j = below(i as u64 + 1) as usize;
        runes.swap(i, j);
    }
    runes.into_iter().collect::<String>().into_bytes()
}

/// `bcrypt_lib.GenerateFromPassword(input, DefaultCost)`: `$2a$10$...`. Like Go's `bcrypt`
/// package of that era, only the first 72 bytes of the password count.
fn bcrypt_hash(password: &[u8]) -> Result<Vec<u8>, FnError> {
    let parts = bcrypt::hash_with_result(password, 10).map_err(|_| "bcrypt: hashing failed")?;
    Ok(parts.format_for_version(bcrypt::Version::TwoA).into_bytes())
}

/// `htpasswd user password`: `user:<bcrypt>`; a user name with ':' renders Sprig's message.
fn htpasswd(c: &Ctx, a: Vec<Value>) -> FnResult {
    let (user, password) = (str_of(&a[0]), str_of(&a[1]));
    if user.contains(&b':') {
        return c.bytes([b"invalid username: ".as_slice(), &user].concat());
    }
    c.bytes([&user[..], b":", &bcrypt_hash(&password)?].concat())
}

/// A Go `uint32` parameter. text/template converts only a non-negative number literal (or a
/// value of type `uint32`, which no template function returns) to it, keeping the low 32 bits
/// (`reflect.Value.SetUint` truncates). sealops' executor passes such literals as `int`, so any
/// non-negative `int` is accepted (a divergence: Go refuses an `int` computed by a function or
/// held in a variable).
fn uint32_arg(v: &Value) -> Result<u32, FnError> {
    match v {
        Value::Int(n) if *n >= 0 => Ok(*n as u32),
        Value::Float(f) if f.fract() == 0.0 && *f >= 0.0 && *f < 18_446_744_073_709_551_616.0 => Ok(*f as u64 as u32),
        Value::Int(_) | Value::Float(_) => {
            Err("expected unsigned integer; found a negative or fractional number".into())
        }
        other => Err(format!("wrong type for value; expected uint32; got {}", other.type_name()).into()),
    }
}

/// The Master Password algorithm (v3) as Sprig implements it: an scrypt key from the password
/// and the user name, an HMAC-SHA256 seed from the site name and counter, and a template of
/// character classes chosen and filled from that seed.
fn derive_password(c: &Ctx, a: Vec<Value>) -> FnResult {
    const SEED: &[u8] = b"com.lyndir.masterpassword";
    let counter = uint32_arg(&a[0])?;
    let (kind, password, user, site) = (str_of(&a[1]), str_of(&a[2]), str_of(&a[3]), str_of(&a[4]));
    let Some(templates) = password_templates(&kind) else {
        return c.bytes([b"cannot find password template ".as_slice(), &kind].concat());
    };
    // Go writes the lengths with binary.BigEndian as uint32: longer names are truncated there.
    let len32 = |s: &[u8]| (s.len() as u32).to_be_bytes();
    let salt = [SEED, &len32(&user), &user].concat();
    let params = scrypt::Params::new(15, 8, 2, 64).map_err(|_| "failed to derive password: bad scrypt parameters")?;
    let mut key = zeroize::Zeroizing::new([0u8; 64]);
    scrypt::scrypt(&password, &salt, &params, &mut key[..]).map_err(|_| "failed to derive password")?;
    let hkey = hmac::Key::new(hmac::HMAC_SHA256, &key[..]);
    let message = [SEED, &len32(&site), &site, &counter.to_be_bytes()].concat();
    let seed = hmac::sign(&hkey, &message);
    let seed = seed.as_ref();
    let template = templates[usize::from(seed[0]) % templates.len()];
    let out = template
        .bytes()
        .enumerate()
        .map(|(i, class)| {
            let chars = template_characters(class);
            chars[usize::from(seed[i + 1]) % chars.len()]
        })
        .collect();
    c.bytes(out)
}

fn password_templates(kind: &[u8]) -> Option<&'static [&'static str]> {
    Some(match kind {
        b"maximum" => &["anoxxxxxxxxxxxxxxxxx", "axxxxxxxxxxxxxxxxxno"],
        b"long" => &[
            "CvcvnoCvcvCvcv",
            "CvcvCvcvnoCvcv",
            "CvcvCvcvCvcvno",
            "CvccnoCvcvCvcv",
            "CvccCvcvnoCvcv",
            "CvccCvcvCvcvno",
            "CvcvnoCvccCvcv",
            "CvcvCvccnoCvcv",
            "CvcvCvccCvcvno",
            "CvcvnoCvcvCvcc",
            "CvcvCvcvnoCvcc",
            "CvcvCvcvCvccno",
            "CvccnoCvccCvcv",
            "CvccCvccnoCvcv",
            "CvccCvccCvcvno",
            "CvcvnoCvccCvcc",
            "CvcvCvccnoCvcc",
            "CvcvCvccCvccno",
            "CvccnoCvcvCvcc",
            "CvccCvcvnoCvcc",
            "CvccCvcvCvccno",
        ],
        b"medium" => &["CvcnoCvc", "CvcCvcno"],
        b"short" => &["Cvcn"],
        b"basic" => &["aaanaaan", "aannaaan", "aaannaaa"],
        b"pin" => &["nnnn"],
        _ => return None,
    })
}

fn template_characters(class: u8) -> &'static [u8] {
    match class {
        b'V' => b"AEIOU",
        b'C' => b"BCDFGHJKLMNPQRSTVWXYZ",
        b'v' => b"aeiou",
        b'c' => b"bcdfghjklmnpqrstvwxyz",
        b'A' => b"AEIOUBCDFGHJKLMNPQRSTVWXYZ",
        b'a' => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz",
        b'n' => b"0123456789",
        b'o' => b"@&%?,=[]_:-+*$#!'^~;()/.",
        _ => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()",
    }
}

/// Sprig's AES key: the password's first 32 bytes, zero-padded (AES-256).
fn aes_key(password: &[u8]) -> aes::Aes256 {
    use aes::cipher::KeyInit as _;
    let mut key = zeroize::Zeroizing::new([0u8; 32]);
    let n = password.len().min(32);
    key[..n].copy_from_slice(&password[..n]);
    aes::Aes256::new(&(*key).into())
}

/// `encryptAES password plaintext`: base64 of a random IV and the AES-256-CBC ciphertext of the
/// PKCS#7-padded plaintext; "" for "".
fn encrypt_aes(c: &Ctx, a: Vec<Value>) -> FnResult {
    use aes::cipher::BlockEncrypt as _;
    let (password, plain) = (str_of(&a[0]), str_of(&a[1]));
    if plain.is_empty() {
        return Ok(Value::text(""));
    }
    let padded_len = (plain.len() / 16 + 1) * 16;
    c.check_len((padded_len + 16).div_ceil(3).saturating_mul(4))?;
    let cipher = aes_key(&password);
    let mut buf = zeroize::Zeroizing::new(Vec::with_capacity(16 + padded_len));
    buf.extend_from_slice(&random::array::<16>());
    buf.extend_from_slice(&plain);
    let pad = padded_len - plain.len();
    buf.resize(16 + padded_len, pad as u8);
    for i in (16..buf.len()).step_by(16) {
        let (prev, cur) = buf.split_at_mut(i);
        let block = &mut cur[..16];
        for (b, p) in block.iter_mut().zip(&prev[i - 16..]) {
            *b ^= p;
        }
        cipher.encrypt_block(block.into());
    }
    c.bytes(base64::engine::general_purpose::STANDARD.encode(&buf[..]).into_bytes())
}

/// `decryptAES password base64`: the inverse of [`encrypt_aes`]. Sprig checks nothing, so input
/// Go panics on (shorter than an IV, not whole blocks, a pad byte longer than the text) is an
/// error; a wrong key gives garbage, as in Go.
fn decrypt_aes(c: &Ctx, a: Vec<Value>) -> FnResult {
    use aes::cipher::BlockDecrypt as _;
    let (password, text) = (str_of(&a[0]), str_of(&a[1]));
    if text.is_empty() {
        return Ok(Value::text(""));
    }
    // Go's base64.StdEncoding skips '\r' and '\n' and allows non-zero trailing bits.
    let input: Vec<u8> = text.iter().copied().filter(|&b| b != b'\r' && b != b'\n').collect();
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
    );
    let crypt = zeroize::Zeroizing::new(engine.decode(&input).map_err(|_| "illegal base64 data")?);
    if crypt.len() < 16 {
        return Err("runtime error: slice bounds out of range".into());
    }
    if crypt.len() % 16 != 0 {
        return Err("crypto/cipher: input not full blocks".into());
    }
    if crypt.len() == 16 {
        return Err("runtime error: index out of range [-1]".into());
    }
    let cipher = aes_key(&password);
    let mut plain = zeroize::Zeroizing::new(crypt[16..].to_vec());
    for (i, block) in plain.chunks_exact_mut(16).enumerate() {
        cipher.decrypt_block(block.into());
        for (b, p) in block.iter_mut().zip(&crypt[i * 16..i * 16 + 16]) {
            *b ^= p;
        }
    }
    let pad = usize::from(plain[plain.len() - 1]);
    let Some(end) = plain.len().checked_sub(pad) else {
        return Err("runtime error: slice bounds out of range".into());
    };
    c.bytes(plain[..end].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Ctx {
        Ctx { max_bytes: 1 << 20, max_nesting: 100, work: std::cell::Cell::new(1_000_000) }
    }

    fn text(v: FnResult) -> String {
        match v {
            Ok(Value::Str(s)) => String::from_utf8(s.to_vec()).expect("utf-8"),
            _ => panic!("expected a string"),
        }
    }

    fn call(name: &str, args: Vec<Value>) -> FnResult {
        let Some(f) = func(name) else { panic!("{name} is not implemented") };
        (f.call)(&ctx(), args)
    }

    #[test]
    fn random_strings_use_goutils_alphabets() {
        for (name, alphabet) in
            [("randAlphaNum", ALPHANUM), ("randAlpha", ALPHA), ("randNumeric", NUMERIC), ("randAscii", ASCII)]
        {
            let s = text(call(name, vec![Value::Int(2000)]));
            assert_eq!(s.len(), 2000, "{name}");
            assert!(s.bytes().all(|b| alphabet.contains(&b)), "{name}: {s}");
            // 2000 draws from >= 10 symbols: every symbol shows up.
            assert!(alphabet.iter().all(|b| s.as_bytes().contains(b)), "{name} misses symbols");
            assert_eq!(text(call(name, vec![Value::Int(-3)])), "", "{name}: Sprig drops the error");
            assert_eq!(text(call(name, vec![Value::Int(0)])), "");
        }
        assert_eq!(ASCII.len(), 95);
        assert_ne!(text(call("randAlphaNum", vec![Value::Int(32)])), text(call("randAlphaNum", vec![Value::Int(32)])));
    }

    #[test]
    fn random_string_over_the_limit_is_refused_before_allocating() {
        let f = func("randAlpha").expect("randAlpha");
        let c = Ctx { max_bytes: 10, max_nesting: 10, work: std::cell::Cell::new(10) };
        assert!(matches!((f.call)(&c, vec![Value::Int(i64::MAX)]), Err(FnError::Limit(_))));
        assert!(matches!((f.call)(&c, vec![Value::Int(11)]), Err(FnError::Limit(_))));
    }

    #[test]
    fn rand_int_stays_in_range() {
        for _ in 0..200 {
            let Ok(Value::Int(n)) = call("randInt", vec![Value::Int(-3), Value::Int(4)]) else { panic!("int") };
            assert!((-3..4).contains(&n), "{n}");
        }
        assert!(call("randInt", vec![Value::Int(5), Value::Int(5)]).is_err());
        assert!(call("randInt", vec![Value::Int(6), Value::Int(5)]).is_err());
    }

    #[test]
    fn rand_bytes_is_base64_of_n_bytes() {
        let s = text(call("randBytes", vec![Value::Int(33)]));
        let raw = base64::engine::general_purpose::STANDARD.decode(&s).expect("base64");
        assert_eq!(raw.len(), 33);
        assert_eq!(text(call("randBytes", vec![Value::Int(0)])), "");
        assert!(call("randBytes", vec![Value::Int(-1)]).is_err());
    }

    #[test]
    fn uuidv4_has_version_and_variant_bits() {
        let a = text(call("uuidv4", vec![]));
        assert_eq!(a.len(), 36);
        let groups: Vec<&str> = a.split('-').collect();
        assert_eq!(groups.iter().map(|g| g.len()).collect::<Vec<_>>(), [8, 4, 4, 4, 12]);
        assert!(a.bytes().all(|b| b == b'-' || b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        assert_eq!(&groups[2][..1], "4");
        assert!("89ab".contains(&groups[3][..1]), "{a}");
        assert_ne!(a, text(call("uuidv4", vec![])));
    }

    #[test]
    fn shuffle_permutes_runes() {
        let s = text(call("shuffle", vec![Value::text("héllo wörld ß")]));
        let mut got: Vec<char> = s.chars().collect();
        let mut want: Vec<char> = "héllo wörld ß".chars().collect();
        got.sort_unstable();
        want.sort_unstable();
        assert_eq!(got, want);
        assert_eq!(text(call("shuffle", vec![Value::bytes(vec![0xff])])), "\u{fffd}");
    }

    #[test]
    fn bcrypt_and_htpasswd_verify() {
        let h = text(call("bcrypt", vec![Value::text("hunter2")]));
        assert!(h.starts_with("$2a$10$"), "{h}");
        assert_eq!(h.len(), 60);
        assert!(bcrypt::verify("hunter2", &h).expect("verify"));
        let line = text(call("htpasswd", vec![Value::text("admin"), Value::text("pw")]));
        let (user, hash) = line.split_once(':').expect("user:hash");
        assert_eq!(user, "admin");
        assert!(bcrypt::verify("pw", hash).expect("verify"));
        assert_eq!(text(call("htpasswd", vec![Value::text("a:b"), Value::text("pw")])), "invalid username: a:b");
    }

    #[test]
    fn aes_round_trips_and_rejects_bad_input() {
        for plain in ["x", "exactly sixteen!", "a longer secret value spanning blocks"] {
            let ct = text(call("encryptAES", vec![Value::text("pw"), Value::text(plain)]));
            assert_eq!(base64::engine::general_purpose::STANDARD.decode(&ct).expect("b64").len() % 16, 0);
            assert_eq!(text(call("decryptAES", vec![Value::text("pw"), Value::text(&ct)])), plain);
        }
        assert_eq!(text(call("encryptAES", vec![Value::text("pw"), Value::text("")])), "");
        for bad in ["AAAA", "not base64!", "AAAAAAAAAAAAAAAAAAAAAA==", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="] {
            assert!(call("decryptAES", vec![Value::text("pw"), Value::text(bad)]).is_err(), "{bad}");
        }
    }

    #[test]
    fn derive_password_counter_is_a_uint32() {
        let args = |n: Value| vec![n, Value::text("long"), Value::text("pw"), Value::text("user"), Value::text("site")];
        assert!(call("derivePassword", args(Value::Int(-1))).is_err());
        assert!(call("derivePassword", args(Value::text("1"))).is_err());
        assert!(call("derivePassword", args(Value::Float(1.5))).is_err());
    }
}
