//! Byte buffers in pages of their own, which the kernel can back with huge pages.
//!
//! Writing to fresh memory costs one page fault for every 4 KiB first touched. On the
//! benchmark machine a fault cost about 2.8 µs, so the 577 faults of reading a 2.3 MB encrypted
//! file were a tenth of a whole JSON decrypt (`tests/bench/README.md`). A large buffer is put
//! instead in an anonymous mapping of its own, and the whole 2 MiB stretches of it that will be
//! written are marked for transparent huge pages (`madvise(MADV_HUGEPAGE)`): the kernel then
//! backs each with one 2 MiB page, taken in one fault. Only stretches that will surely be
//! written are marked, so this never adds to the resident size. Where transparent huge pages
//! are off, the advice does nothing and the mapping is plain memory.

use std::ops::Deref;

use memmap2::{Advice, MmapMut, MmapOptions};
use zeroize::Zeroize;

/// The size of a huge page on x86-64 and arm64 (with 4 KiB base pages).
const HUGE_PAGE: usize = 2 << 20;

/// A byte vector, on the heap or in a mapping of its own (see the module documentation).
pub struct PageVec {
    repr: Repr,
}

enum Repr {
    Heap(Vec<u8>),
    /// The bytes are `map[..len]`; the rest of the mapping has never been written.
    Mapped {
        map: MmapMut,
        len: usize,
    },
}

impl PageVec {
    /// An empty vector with room for `capacity` bytes, of which at least `filled` will be
    /// written. From a huge page's worth of `filled` up, it is a mapping whose whole huge pages
    /// below `filled` are marked as such.
    pub fn with_capacity(capacity: usize, filled: usize) -> Self {
        let heap = || Self { repr: Repr::Heap(Vec::with_capacity(capacity)) };
        if filled < HUGE_PAGE {
            return heap();
        }
        // A length that is a multiple of the huge page size: Linux places such anonymous
        // mappings on a huge page boundary. Room that is never written costs address space only.
        let Ok(map) = MmapOptions::new().len(capacity.max(filled).next_multiple_of(HUGE_PAGE)).map_anon() else {
            return heap();
        };
        let address = map.as_ptr() as usize;
        let start = address.next_multiple_of(HUGE_PAGE) - address;
        let end = (address + filled) / HUGE_PAGE * HUGE_PAGE - address;
        if end > start {
            // Advice only: where it is refused, the bytes are in plain 4 KiB pages.
            let _ = map.advise_range(Advice::HugePage, start, end - start);
        }
        Self { repr: Repr::Mapped { map, len: 0 } }
    }

    /// `len` zero bytes, all of which will be written (a file to read into).
    pub fn zeroed(len: usize) -> Self {
        let mut vec = Self::with_capacity(len, len);
        match &mut vec.repr {
            Repr::Heap(bytes) => bytes.resize(len, 0),
            // A fresh anonymous mapping reads as zeros.
            Repr::Mapped { len: filled, .. } => *filled = len,
        }
        vec
    }

    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        match &mut self.repr {
            Repr::Heap(bytes) => bytes,
            Repr::Mapped { map, len } => &mut map[..*len],
        }
    }

    pub fn extend_from_slice(&mut self, bytes: &[u8]) {
        match &mut self.repr {
            Repr::Heap(vec) => vec.extend_from_slice(bytes),
            Repr::Mapped { map, len } => match map.get_mut(*len..*len + bytes.len()) {
                Some(room) => {
                    room.copy_from_slice(bytes);
                    *len += bytes.len();
                }
                // Full: the bytes move to the heap, which grows as it needs.
                None => {
                    let mut vec = std::mem::take(self).into_vec();
                    vec.extend_from_slice(bytes);
                    *self = vec.into();
                }
            },
        }
    }

    pub fn push(&mut self, byte: u8) {
        self.extend_from_slice(&[byte]);
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

impl Default for PageVec {
    fn default() -> Self {
        Vec::new().into()
    }
}

impl Deref for PageVec {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match &self.repr {
            Repr::Heap(bytes) => bytes,
            Repr::Mapped { map, len } => &map[..*len],
        }
    }
}

impl From<Vec<u8>> for PageVec {
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
            let mut bytes = PageVec::zeroed(len);
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

    #[test]
    fn appending_past_the_mapping_moves_to_the_heap() {
        let mut vec = PageVec::with_capacity(HUGE_PAGE, HUGE_PAGE);
        assert!(vec.is_mapped());
        let block: Vec<u8> = (0..=255).collect();
        let mut expected = Vec::new();
        while expected.len() <= HUGE_PAGE + 1000 {
            vec.extend_from_slice(&block);
            vec.push(b'.');
            expected.extend_from_slice(&block);
            expected.push(b'.');
            assert_eq!(vec.len(), expected.len());
        }
        assert!(!vec.is_mapped(), "past its room, the vector is on the heap");
        assert!(*vec == expected[..]);
    }
}
