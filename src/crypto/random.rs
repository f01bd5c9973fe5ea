//! The one source of randomness: the operating system's CSPRNG.

/// Fills `buf` from the OS CSPRNG.
///
/// # Panics
/// When the operating system cannot provide randomness. There is no safe fallback for key and
/// nonce generation, so this is treated like an allocation failure.
pub fn fill(buf: &mut [u8]) {
    getrandom::getrandom(buf).expect("the operating system's random number generator failed");
}

/// A fresh random array.
pub fn array<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    fill(&mut out);
    out
}
