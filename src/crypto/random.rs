//! The one source of randomness: the operating system's CSPRNG, used directly or (for many
//! small values) as the seed of a fast key erasure generator.

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

/// Random bytes for hot paths that need many small values (one IV per encrypted value).
///
/// Asking the kernel for each 4 KiB cost a twelfth of a large encrypt (its ChaCha is not
/// vectorised). Instead the pool is a "fast key erasure" generator
/// (<https://blog.cr.yp.to/20170723-random.html>): a 256-bit key from the OS CSPRNG, then
/// AES-256 in counter mode; each refill makes 4 KiB of output plus the next key, and the old
/// key is wiped at once, so bytes already served cannot be recomputed from the pool's memory.
/// The OS stays the only source of entropy. Bytes are served once each and wiped when served.
pub struct Pool {
    key: Option<zeroize::Zeroizing<[u8; 32]>>,
    buf: zeroize::Zeroizing<[u8; POOL_BYTES]>,
    used: usize,
}

const POOL_BYTES: usize = 4096;

impl Default for Pool {
    fn default() -> Self {
        Self { key: None, buf: zeroize::Zeroizing::new([0u8; POOL_BYTES]), used: POOL_BYTES }
    }
}

impl Pool {
    /// The next `N` fresh random bytes.
    pub fn take<const N: usize>(&mut self) -> [u8; N] {
        assert!(N <= POOL_BYTES, "pool requests are small");
        if self.used + N > self.buf.len() {
            self.refill();
        }
        let mut out = [0u8; N];
        out.copy_from_slice(&self.buf[self.used..self.used + N]);
        // Served bytes are not served again.
        self.buf[self.used..self.used + N].fill(0);
        self.used += N;
        out
    }

    fn refill(&mut self) {
        use aes::cipher::{BlockEncrypt as _, KeyInit as _};
        use zeroize::Zeroize as _;
        type Block = aes::cipher::generic_array::GenericArray<u8, aes::cipher::consts::U16>;

        let key = self.key.get_or_insert_with(|| zeroize::Zeroizing::new(array()));
        let cipher = aes::Aes256::new(&(**key).into());
        // Every key is used for one refill only, so the counter starts at zero each time.
        let mut counter = 0u128;
        let mut blocks = [Block::default(); 8];
        let mut encrypt_next = |blocks: &mut [Block; 8]| {
            for block in blocks.iter_mut() {
                block.copy_from_slice(&counter.to_le_bytes());
                counter += 1;
            }
            cipher.encrypt_blocks(blocks);
        };
        for out in self.buf.chunks_exact_mut(8 * 16) {
            encrypt_next(&mut blocks);
            for (out, block) in out.chunks_exact_mut(16).zip(&blocks) {
                out.copy_from_slice(block);
            }
        }
        encrypt_next(&mut blocks);
        for (key, block) in key.chunks_exact_mut(16).zip(&blocks) {
            key.copy_from_slice(block);
        }
        blocks.iter_mut().for_each(|block| block.as_mut_slice().zeroize());
        self.used = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_never_repeats_a_block() {
        let mut pool = Pool::default();
        let values: Vec<[u8; 32]> = (0..300).map(|_| pool.take()).collect();
        for (i, a) in values.iter().enumerate() {
            assert!(values[i + 1..].iter().all(|b| a != b), "value {i} repeated");
        }
    }

    /// Known answers from `openssl enc -aes-256-ecb -nopad` on little-endian counter blocks:
    /// under an all-zero first key, the first output block is block 0's encryption, the last
    /// block of the first refill is block 255's, and the next refill runs under the key made
    /// of blocks 256 and 257.
    #[test]
    fn pool_is_aes_256_ctr_with_fast_key_erasure() {
        let hex = |s: &str| {
            (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect::<Vec<_>>()
        };
        let mut pool = Pool { key: Some(zeroize::Zeroizing::new([0u8; 32])), ..Pool::default() };
        assert_eq!(pool.take::<16>().to_vec(), hex("dc95c078a2408989ad48a21492842087"));
        for _ in 1..255 {
            pool.take::<16>();
        }
        assert_eq!(pool.take::<16>().to_vec(), hex("49af6b372135acef10132e548f217b17"));
        let next_key = hex("2846526d67387539c89314de9e0c2d024868248d1e421dcb0f062a1d3460e803");
        assert_eq!(pool.key.as_deref().map(|key| key.to_vec()), Some(next_key));
        assert_eq!(pool.take::<32>().to_vec(), hex("edb05c1d0ffea902bef61eb8faa449089466da401793b02c690e36ad433c3ae3"));
    }

    #[test]
    fn pools_are_seeded_apart() {
        let (mut a, mut b) = (Pool::default(), Pool::default());
        assert_ne!(a.take::<32>(), b.take::<32>());
    }
}
