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

/// Randomness fetched from the OS in blocks, for hot paths that need many small values (one
/// IV per encrypted value): one system call per 4 KiB instead of one per value. The bytes
/// are the OS CSPRNG's, served once each, and wiped when the pool is dropped.
pub struct Pool {
    buf: zeroize::Zeroizing<[u8; 4096]>,
    used: usize,
}

impl Default for Pool {
    fn default() -> Self {
        Self { buf: zeroize::Zeroizing::new([0u8; 4096]), used: 4096 }
    }
}

impl Pool {
    /// The next `N` fresh random bytes.
    pub fn take<const N: usize>(&mut self) -> [u8; N] {
        assert!(N <= 4096, "pool requests are small");
        if self.used + N > self.buf.len() {
            fill(&mut self.buf[..]);
            self.used = 0;
        }
        let mut out = [0u8; N];
        out.copy_from_slice(&self.buf[self.used..self.used + N]);
        // Served bytes are not served again.
        self.buf[self.used..self.used + N].fill(0);
        self.used += N;
        out
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
}
