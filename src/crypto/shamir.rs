//! Shamir secret sharing over GF(2⁸), compatible with sops key groups.
//!
//! sops forked HashiCorp Vault's `shamir` package (`shamir/shamir.go`): the field is GF(2⁸)
//! with the AES polynomial x⁸+x⁴+x³+x+1, each secret byte is the constant term of a random
//! polynomial of degree `threshold − 1`, share *i* is evaluated at x = i + 1, and a share is laid
//! out as `y₀ … yₙ₋₁ ‖ x`. Multiplication here is branch-free, as in sops ≥ 3.10.

use zeroize::Zeroizing;

use super::random;
use super::secret::SecretBytes;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ShamirError {
    #[error("parts cannot be less than threshold")]
    PartsBelowThreshold,
    #[error("parts cannot exceed 255")]
    TooManyParts,
    #[error("threshold must be at least 2")]
    ThresholdTooSmall,
    #[error("cannot split an empty secret")]
    EmptySecret,
    #[error("less than two parts cannot be used to reconstruct the secret")]
    TooFewParts,
    #[error("parts must be at least two bytes")]
    PartTooShort,
    #[error("all parts must be the same length")]
    UnequalParts,
    #[error("duplicate part detected")]
    DuplicatePart,
}

/// Multiplication in GF(2⁸) mod 0x11B without data-dependent branches.
fn mul(a: u8, b: u8) -> u8 {
    let mut acc: u8 = 0;
    for i in (0..8).rev() {
        let bit = (b >> i) & 1;
        let a_or_zero = bit.wrapping_neg() & a;
        let reduce = (acc >> 7).wrapping_neg() & 0x1B;
        acc = a_or_zero ^ (reduce ^ acc.wrapping_add(acc));
    }
    acc
}

/// a²⁵⁴ = a⁻¹ in GF(2⁸) (and 0 for 0, which callers never pass).
fn inverse(a: u8) -> u8 {
    let mut b = mul(a, a); // a^2
    let mut c = mul(a, b); // a^3
    b = mul(c, c); // a^6
    b = mul(b, b); // a^12
    c = mul(b, c); // a^15
    b = mul(b, b); // a^24
    b = mul(b, b); // a^48
    b = mul(b, c); // a^63
    b = mul(b, b); // a^126
    b = mul(a, b); // a^127
    mul(b, b) // a^254
}

/// Splits `secret` into `parts` shares of which any `threshold` recover it.
pub fn split(secret: &[u8], parts: usize, threshold: usize) -> Result<Vec<SecretBytes>, ShamirError> {
    if parts < threshold {
        return Err(ShamirError::PartsBelowThreshold);
    }
    if parts > 255 {
        return Err(ShamirError::TooManyParts);
    }
    if threshold < 2 {
        return Err(ShamirError::ThresholdTooSmall);
    }
    if secret.is_empty() {
        return Err(ShamirError::EmptySecret);
    }
    let mut shares: Vec<Zeroizing<Vec<u8>>> = (0..parts)
        .map(|i| {
            let mut share = Zeroizing::new(vec![0u8; secret.len() + 1]);
            share[secret.len()] = (i + 1) as u8;
            share
        })
        .collect();
    let mut coefficients = Zeroizing::new(vec![0u8; threshold]);
    for (idx, &byte) in secret.iter().enumerate() {
        coefficients[0] = byte;
        random::fill(&mut coefficients[1..]);
        for (i, share) in shares.iter_mut().enumerate() {
            let x = (i + 1) as u8;
            // Horner's rule from the highest coefficient down.
            let mut y = 0u8;
            for &c in coefficients.iter().rev() {
                y = mul(y, x) ^ c;
            }
            share[idx] = y;
        }
    }
    Ok(shares.into_iter().map(|s| SecretBytes::from_slice(&s)).collect())
}

/// Recombines shares by Lagrange interpolation at x = 0.
pub fn combine(parts: &[SecretBytes]) -> Result<SecretBytes, ShamirError> {
    if parts.len() < 2 {
        return Err(ShamirError::TooFewParts);
    }
    let len = parts[0].len();
    if len < 2 {
        return Err(ShamirError::PartTooShort);
    }
    if parts.iter().any(|p| p.len() != len) {
        return Err(ShamirError::UnequalParts);
    }
    let xs: Vec<u8> = parts.iter().map(|p| p.expose()[len - 1]).collect();
    for (i, x) in xs.iter().enumerate() {
        if xs[..i].contains(x) {
            return Err(ShamirError::DuplicatePart);
        }
    }
    let mut secret = Zeroizing::new(vec![0u8; len - 1]);
    for (idx, out) in secret.iter_mut().enumerate() {
        let mut result = 0u8;
        for (i, part) in parts.iter().enumerate() {
            let mut basis = 1u8;
            for (j, &xj) in xs.iter().enumerate() {
                if i != j {
                    // (0 − xj) / (xi − xj); subtraction is XOR in GF(2⁸).
                    basis = mul(basis, mul(xj, inverse(xs[i] ^ xj)));
                }
            }
            result ^= mul(part.expose()[idx], basis);
        }
        *out = result;
    }
    Ok(SecretBytes::from_slice(&secret))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn field_arithmetic() {
        // 0x53 · 0xCA = 1 in the AES field (FIPS-197 §4.2 example of an inverse pair).
        assert_eq!(mul(0x53, 0xCA), 1);
        assert_eq!(inverse(0x53), 0xCA);
        assert_eq!(mul(0x57, 0x83), 0xC1); // FIPS-197 §4.2
        for a in 1..=255u8 {
            assert_eq!(mul(a, inverse(a)), 1, "inverse of {a}");
        }
    }

    #[test]
    fn shares_carry_x_last() {
        let shares = split(&[9u8; 32], 3, 2).expect("split");
        let xs: Vec<u8> = shares.iter().map(|s| s.expose()[32]).collect();
        assert_eq!(xs, vec![1, 2, 3]);
        assert!(shares.iter().all(|s| s.len() == 33));
    }

    #[test]
    fn parameter_errors() {
        assert_eq!(split(b"k", 1, 2).err(), Some(ShamirError::PartsBelowThreshold));
        assert_eq!(split(b"k", 3, 1).err(), Some(ShamirError::ThresholdTooSmall));
        assert_eq!(split(b"", 3, 2).err(), Some(ShamirError::EmptySecret));
        let one = split(b"k", 2, 2).expect("split");
        assert_eq!(combine(&one[..1]).err(), Some(ShamirError::TooFewParts));
        assert_eq!(combine(&[one[0].clone(), one[0].clone()]).err(), Some(ShamirError::DuplicatePart));
    }

    proptest! {
        #[test]
        fn any_threshold_subset_recovers(secret in proptest::collection::vec(any::<u8>(), 1..40),
                                         parts in 2usize..6, extra in 0usize..4) {
            let threshold = 2 + extra % (parts - 1);
            let shares = split(&secret, parts, threshold).unwrap();
            // The last `threshold` shares, in reverse order.
            let subset: Vec<_> = shares.iter().rev().take(threshold).cloned().collect();
            let recovered = combine(&subset).unwrap();
            prop_assert_eq!(recovered.expose(), &secret[..]);
        }
    }
}
