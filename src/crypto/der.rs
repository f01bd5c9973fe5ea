//! The few DER and PEM encoders the crate writes by hand, and the one DER element reader it
//! needs: PKCS#8 wrapping of sealing keys (`crypto::rsa`) and Sprig's certificate and key
//! functions (`sealed::template::sprig::crypto`).
//! Definite-length DER only (X.690 §8.1.3); PEM as Go's `pem.EncodeToMemory` writes it.

use base64::Engine as _;
use zeroize::Zeroizing;

/// Appends a DER length: short form below 128, else the minimal long form.
pub fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len() - 1);
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

/// One tag-length-value.
pub fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 6);
    out.push(tag);
    push_len(&mut out, body.len());
    out.extend_from_slice(body);
    out
}

/// One DER element off the front of `input`: (tag, contents, rest). Definite lengths of at most
/// four bytes only; `None` when the element does not fit.
pub fn read(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n].iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// PEM with 64-column base64 lines and `\n` endings, as Go's `pem.EncodeToMemory`. Zeroizing,
/// since private keys go through it.
pub fn pem_encode(tag: &str, der: &[u8]) -> Zeroizing<Vec<u8>> {
    let b64 = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(der));
    let mut out = Zeroizing::new(Vec::with_capacity(b64.len() + b64.len() / 64 + 2 * tag.len() + 40));
    out.extend_from_slice(format!("-----BEGIN {tag}-----\n").as_bytes());
    for line in b64.as_bytes().chunks(64) {
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    out.extend_from_slice(format!("-----END {tag}-----\n").as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_lengths() {
        for (len, want) in [(5usize, vec![5u8]), (0x80, vec![0x81, 0x80]), (0x1234, vec![0x82, 0x12, 0x34])] {
            let mut v = Vec::new();
            push_len(&mut v, len);
            assert_eq!(v, want, "{len}");
        }
        assert_eq!(tlv(0x04, &[1, 2]), vec![0x04, 0x02, 1, 2]);
    }

    #[test]
    fn read_inverts_tlv() {
        let long = vec![7u8; 0x1234];
        let mut two = tlv(0x04, &long);
        two.extend(tlv(0x02, &[1]));
        let (tag, body, rest) = read(&two).unwrap();
        assert_eq!((tag, body.len(), rest), (0x04, 0x1234, &[0x02, 0x01, 1][..]));
        assert_eq!(read(&two[..100]), None, "truncated");
        assert_eq!(read(&[0x30, 0x80]), None, "indefinite length");
    }
}
