//! Size classes: which block a request of `n` bytes gets.
//!
//! Requests of 1..=512 bytes are rounded up to a multiple of 16 and served
//! from pools of that block size; class `c` holds blocks of `16 * (c + 1)`
//! bytes:
//!
//! ```text
//!   request bytes   block size   class
//!        1 ..  16         16        0
//!       17 ..  32         32        1
//!       33 ..  48         48        2
//!          ...           ...      ...
//!      497 .. 512        512       31
//! ```
//!
//! Every block is 16-byte aligned, as malloc's are on x86-64. With the
//! `debug` feature every request also carries [`GUARD_BYTES`] guard bytes, so
//! the block a request needs is `request + GUARD_BYTES` rounded up.

use crate::debug::GUARD_BYTES;

/// Alignment of every block, and the step between size classes.
pub const ALIGNMENT: usize = 16;
/// The largest block served from pools; bigger ones go to the large-block allocator.
pub const MAX_SMALL_SIZE: usize = 512;
/// Number of size classes: 16, 32, ..., 512.
pub const NUM_SIZE_CLASSES: usize = MAX_SMALL_SIZE / ALIGNMENT;

/// Block size of class `class`.
#[inline]
pub const fn class_size(class: usize) -> usize {
    (class + 1) * ALIGNMENT
}

/// Bytes a request of `size` occupies, guard bytes included, or `None` on overflow.
#[inline]
pub(crate) const fn footprint(size: usize) -> Option<usize> {
    size.checked_add(GUARD_BYTES)
}

/// The class serving a block of `footprint` bytes (`footprint <= MAX_SMALL_SIZE`).
#[inline]
pub(crate) const fn class_of_footprint(footprint: usize) -> usize {
    let n = if footprint == 0 { 1 } else { footprint };
    n.div_ceil(ALIGNMENT) - 1
}

/// The size class a request of `size` bytes is served from, or `None` when it
/// goes to the large-block allocator.
#[inline]
pub const fn size_class_of(size: usize) -> Option<usize> {
    match footprint(size) {
        Some(f) if f <= MAX_SMALL_SIZE => Some(class_of_footprint(f)),
        _ => None,
    }
}

/// The largest request that is still served from pools (512 bytes, less the
/// guard bytes in debug builds).
pub const MAX_POOLED_REQUEST: usize = MAX_SMALL_SIZE - GUARD_BYTES;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_request_size_maps_to_the_smallest_class_that_fits() {
        for size in 0..=MAX_POOLED_REQUEST {
            let class = size_class_of(size).expect("pooled");
            let need = size + GUARD_BYTES;
            assert!(class_size(class) >= need, "size {size}");
            assert!(class == 0 || class_size(class - 1) < need, "size {size}");
        }
        assert_eq!(size_class_of(MAX_POOLED_REQUEST + 1), None);
        assert_eq!(size_class_of(usize::MAX), None);
    }

    #[test]
    fn classes_cover_16_to_512_in_steps_of_16() {
        assert_eq!(class_size(0), 16);
        assert_eq!(class_size(NUM_SIZE_CLASSES - 1), 512);
        assert_eq!(NUM_SIZE_CLASSES, 32);
    }
}
