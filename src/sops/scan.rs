//! Finding the first byte of a class in a long run of ordinary bytes, fast.
//!
//! Parsers and emitters spend most of their time skipping over value bytes that need no
//! attention (base64 in `ENC[…]`, plain text). Classifying 32 bytes at a time without an early
//! exit lets the compiler use vector instructions; only a chunk that contains a hit is looked
//! at byte by byte.

/// The index of the first byte for which `hit` is true.
#[inline(always)]
pub fn position(bytes: &[u8], hit: impl Fn(u8) -> bool) -> Option<usize> {
    let in_chunk = |chunk: &[u8]| chunk.iter().fold(false, |acc, &b| acc | hit(b));
    let mut offset = 0;
    let mut chunks = bytes.chunks_exact(32);
    for chunk in &mut chunks {
        if in_chunk(chunk) {
            return chunk.iter().position(|&b| hit(b)).map(|i| offset + i);
        }
        offset += 32;
    }
    // The tail is classified 32 bytes at a time too: a byte-by-byte loop over it took most of
    // the time for short strings (keys, typical values). With 32 bytes before it, the last 32
    // bytes are looked at again; those before `offset` are known misses, so the first hit in
    // that window is the first hit. Otherwise the tail is padded with the first byte, which
    // then must be a miss.
    let tail = chunks.remainder();
    if tail.is_empty() {
        return None;
    }
    let (window, start) = match bytes.len().checked_sub(32) {
        Some(start) => (<[u8; 32]>::try_from(bytes.get(start..)?).ok()?, start),
        None => {
            let &first = bytes.first()?;
            if hit(first) {
                return Some(0);
            }
            let mut padded = [first; 32];
            padded.get_mut(..tail.len())?.copy_from_slice(tail);
            (padded, 0)
        }
    };
    if !in_chunk(&window) {
        return None;
    }
    window.iter().position(|&b| hit(b)).map(|i| start + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_hit_anywhere() {
        // Every length up to three chunks and a tail, so each tail length is met both on its
        // own and after whole chunks.
        for len in 0usize..=100 {
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

    proptest::proptest! {
        /// Agrees with a plain search on any bytes, for a class that is empty, one byte, or a
        /// range.
        #[test]
        fn agrees_with_a_plain_search(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
            low in proptest::prelude::any::<u8>(),
            width in 0u8..8,
        ) {
            let hit = |b: u8| b.wrapping_sub(low) < width;
            proptest::prop_assert_eq!(position(&bytes, hit), bytes.iter().position(|&b| hit(b)));
        }
    }
}
