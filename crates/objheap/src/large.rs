//! Large blocks: requests too big for a pool, from mimalloc (feature
//! `mimalloc`, the default) or else the system allocator.
//!
//! Each large block carries a 32-byte header that links it into its heap's
//! list, so statistics count it and dropping the heap frees it:
//!
//! ```text
//!  +------+------+------+-------+------------------------+--------------+
//!  | prev | next | size | magic | request (size bytes)   | guard (debug)|
//!  +------+------+------+-------+------------------------+--------------+
//!  ^ from the backend           ^ returned to the caller (16-aligned)
//! ```
//!
//! A zeroed block is asked of the backend zeroed (`mi_zalloc`, `calloc`),
//! which knows fresh pages from the system are zero already and leaves
//! them untouched: a gigabyte costs no memory until it is used.

use core::alloc::{GlobalAlloc, Layout};
use core::ptr;

use crate::debug::GUARD_BYTES;
use crate::size_class::ALIGNMENT;

#[cfg(all(feature = "mimalloc", not(miri)))]
pub(crate) static BACKEND: mimalloc::MiMalloc = mimalloc::MiMalloc;
#[cfg(not(all(feature = "mimalloc", not(miri))))]
pub(crate) static BACKEND: std::alloc::System = std::alloc::System;

/// Marks a live large-block header (ASCII "objheap!").
const MAGIC: usize = usize::from_le_bytes(*b"objheap!");

/// The header in front of every large block.
#[repr(C, align(16))]
pub(crate) struct LargeHeader {
    pub(crate) prev: *mut LargeHeader,
    pub(crate) next: *mut LargeHeader,
    /// The size requested by the caller.
    pub(crate) size: usize,
    magic: usize,
}

/// Bytes in front of the caller's block.
pub(crate) const LARGE_HEADER_SIZE: usize = size_of::<LargeHeader>();
const _: () = assert!(LARGE_HEADER_SIZE % ALIGNMENT == 0);

/// Bytes taken from the backend for a request of `size`, or `None` on overflow.
pub(crate) fn reserved_for(size: usize) -> Option<usize> {
    size.checked_add(LARGE_HEADER_SIZE + GUARD_BYTES)
}

fn layout(reserved: usize) -> Option<Layout> {
    Layout::from_size_align(reserved, ALIGNMENT).ok()
}

/// Allocates a large block (its request zero if `zeroed`) and links it
/// after `*head`; returns the caller's pointer.
///
/// # Safety
/// `*head` is the head of a well-formed list of live headers.
pub(crate) unsafe fn alloc(
    head: &mut *mut LargeHeader,
    size: usize,
    reserved: usize,
    zeroed: bool,
) -> Option<*mut u8> {
    let layout = layout(reserved)?;
    // SAFETY: the layout has a non-zero size (at least the header).
    let header = unsafe {
        if zeroed {
            BACKEND.alloc_zeroed(layout)
        } else {
            BACKEND.alloc(layout)
        }
    }
    .cast::<LargeHeader>();
    if header.is_null() {
        return None;
    }
    // For `heap::reclaim`: the caller's pointer may not cover the header.
    let _ = header.expose_provenance();
    // SAFETY: the backend gave us `reserved` bytes, 16-aligned; the old head
    // is live by the caller's guarantee.
    unsafe {
        header.write(LargeHeader {
            prev: ptr::null_mut(),
            next: *head,
            size,
            magic: MAGIC,
        });
        if !(*head).is_null() {
            (**head).prev = header;
        }
        *head = header;
        Some(header.cast::<u8>().add(LARGE_HEADER_SIZE))
    }
}

/// The header of the large block `block`.
pub(crate) fn header_of(block: *mut u8) -> *mut LargeHeader {
    block.wrapping_sub(LARGE_HEADER_SIZE).cast()
}

/// Whether `header` is in the list starting at `head` (debug checks).
///
/// # Safety
/// The list is well formed.
pub(crate) unsafe fn list_contains(head: *mut LargeHeader, header: *mut LargeHeader) -> bool {
    let mut p = head;
    while !p.is_null() {
        if p == header {
            // SAFETY: `p` is a live header of the list.
            return unsafe { (*p).magic } == MAGIC;
        }
        // SAFETY: as above.
        p = unsafe { (*p).next };
    }
    false
}

/// Unlinks and frees the large block with header `header`.
///
/// # Safety
/// `header` is a live header in the list at `*head`, no longer used.
pub(crate) unsafe fn free(head: &mut *mut LargeHeader, header: *mut LargeHeader) {
    // SAFETY: the caller guarantees the header and its neighbours are live.
    unsafe {
        let (prev, next) = ((*header).prev, (*header).next);
        if prev.is_null() {
            *head = next;
        } else {
            (*prev).next = next;
        }
        if !next.is_null() {
            (*next).prev = prev;
        }
        (*header).magic = 0;
        let reserved = reserved_for((*header).size).expect("size was checked at allocation");
        BACKEND.dealloc(
            header.cast(),
            layout(reserved).expect("layout was checked at allocation"),
        );
    }
}
