//! Finding the first byte of a class in a long run of ordinary bytes, fast.
//!
//! Parsers and emitters spend most of their time skipping over value bytes that need no
//! attention (base64 in `ENC[…]`, plain text). Classifying 32 bytes at a time without an early
//! exit lets the compiler use vector instructions; only a chunk that contains a hit is looked
//! at byte by byte.

/// The index of the first byte for which `hit` is true.
#[inline(always)]
pub fn position(bytes: &[u8], hit: impl Fn(u8) -> bool) -> Option<usize> {
    let mut offset = 0;
    let mut chunks = bytes.chunks_exact(32);
    for chunk in &mut chunks {
        if chunk.iter().fold(false, |acc, &b| acc | hit(b)) {
            return chunk.iter().position(|&b| hit(b)).map(|i| offset + i);
        }
        offset += 32;
    }
    chunks.remainder().iter().position(|&b| hit(b)).map(|i| offset + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_hit_anywhere() {
        for len in [0usize, 1, 31, 32, 33, 64, 100] {
            for at in 0..len {
                let mut v = vec![b'a'; len];
                v[at] = b'"';
                if at + 1 < len {
                    v[len - 1] = b'"';
                }
                assert_eq!(position(&v, |b| b == b'"'), Some(at), "len {len} at {at}");
            }
            assert_eq!(position(&vec![b'a'; len], |b| b == b'"'), None);
        }
    }
}
