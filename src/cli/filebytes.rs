//! A file's bytes in memory, in pages the kernel can back with huge pages.
//!
//! Reading a file into fresh heap memory costs one page fault for every 4 KiB the copy touches.
//! On the benchmark machine a fault cost about 2.8 µs, so the 577 faults of reading a 2.3 MB
//! encrypted file were a tenth of a whole JSON decrypt (`tests/bench/README.md`). A large file is
//! read instead into an anonymous mapping of its own, and the whole 2 MiB stretches of it that
//! the file fills are marked for transparent huge pages (`madvise(MADV_HUGEPAGE)`): the kernel
//! then backs each with one 2 MiB page, taken in one fault. Only stretches the file fills are
//! marked, so this never adds to the resident size. Where transparent huge pages are off, the
//! advice does nothing and the mapping is plain memory.

use std::io;
use std::ops::Deref;

use memmap2::{Advice, MmapMut, MmapOptions};
use zeroize::Zeroize;

/// The size of a huge page on x86-64 and arm64 (with 4 KiB base pages).
const HUGE_PAGE: usize = 2 << 20;

/// A file's bytes: on the heap, or in a mapping of their own (see the module documentation).
pub struct FileBytes {
    repr: Repr,
}

enum Repr {
    Heap(Vec<u8>),
    Mapped { map: MmapMut, len: usize },
}

impl FileBytes {
    /// `len` zero bytes, to read a file of that size into. At least a huge page's worth goes to
    /// a mapping whose whole huge pages are marked as such.
    pub fn zeroed(len: usize) -> io::Result<Self> {
        if len < HUGE_PAGE {
            return Ok(Self { repr: Repr::Heap(vec![0; len]) });
        }
        // A length that is a multiple of the huge page size: Linux places such anonymous
        // mappings on a huge page boundary, so a file of 2n MiB fills n whole huge pages. The
        // room past `len` is never touched, so it costs address space only.
        let map = MmapOptions::new().len(len.next_multiple_of(HUGE_PAGE)).map_anon()?;
        let address = map.as_ptr() as usize;
        let start = address.next_multiple_of(HUGE_PAGE) - address;
        let end = (address + len) / HUGE_PAGE * HUGE_PAGE - address;
        if end > start {
            // Advice only: where it is refused, the bytes are plain 4 KiB pages.
            let _ = map.advise_range(Advice::HugePage, start, end - start);
        }
        Ok(Self { repr: Repr::Mapped { map, len } })
    }

    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        match &mut self.repr {
            Repr::Heap(bytes) => bytes,
            Repr::Mapped { map, len } => &mut map[..*len],
        }
    }

    /// The bytes as a vector: free for bytes on the heap; mapped ones are copied, and wiped
    /// where they were, since the caller may treat the vector as a secret to wipe.
    pub fn into_vec(self) -> Vec<u8> {
        match self.repr {
            Repr::Heap(bytes) => bytes,
            Repr::Mapped { mut map, len } => {
                let bytes = map[..len].to_vec();
                map[..len].zeroize();
                bytes
            }
        }
    }

    /// Whether the bytes are in a mapping of their own.
    #[cfg(test)]
    fn is_mapped(&self) -> bool {
        matches!(self.repr, Repr::Mapped { .. })
    }
}

impl Deref for FileBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match &self.repr {
            Repr::Heap(bytes) => bytes,
            Repr::Mapped { map, len } => &map[..*len],
        }
    }
}

impl From<Vec<u8>> for FileBytes {
    fn from(bytes: Vec<u8>) -> Self {
        Self { repr: Repr::Heap(bytes) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_sizes_stay_on_the_heap_and_large_ones_are_mapped() {
        for (len, mapped) in [(0, false), (HUGE_PAGE - 1, false), (HUGE_PAGE, true), (HUGE_PAGE * 2 + 17, true)] {
            let mut bytes = FileBytes::zeroed(len).unwrap();
            assert_eq!(bytes.is_mapped(), mapped, "{len}");
            assert_eq!(bytes.len(), len);
            assert!(bytes.iter().all(|&b| b == 0), "{len}: zeroed");
            if len > 0 {
                bytes.as_mut_slice()[len - 1] = 7;
            }
            let vec = bytes.into_vec();
            assert_eq!(vec.len(), len);
            assert_eq!(vec.last().copied(), (len > 0).then_some(7));
        }
    }
}
