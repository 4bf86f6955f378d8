//! [`ObjHeapAlloc`]: objheap as a whole program's `#[global_allocator]`.
//!
//! One heap behind a mutex serves every thread, so any thread may free any
//! block directly (no delayed frees are needed). The heap is created on the
//! first allocation and never dropped. Requests aligned to more than 16 bytes
//! bypass the pools and go straight to the large-block backend.
//!
//! Debug builds (feature `debug`) report misuse by panicking; a panic inside
//! the global allocator cannot allocate its message, so use the debug checks
//! through [`crate::Heap`] rather than here.

use core::alloc::{GlobalAlloc, Layout};
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::heap::HeapCore;
use crate::large::BACKEND;
use crate::size_class::ALIGNMENT;
use crate::stats::HeapStats;

/// A `GlobalAlloc` over one shared objheap heap.
///
/// ```no_run
/// use objheap::ObjHeapAlloc;
///
/// #[global_allocator]
/// static ALLOC: ObjHeapAlloc = ObjHeapAlloc::new();
///
/// fn main() {
///     let v: Vec<u32> = (0..100).collect();
///     println!("{} blocks in use", ALLOC.stats().blocks_in_use);
///     drop(v);
/// }
/// ```
pub struct ObjHeapAlloc {
    heap: Mutex<Option<HeapCore>>,
}

impl ObjHeapAlloc {
    /// An allocator whose heap is created on first use.
    pub const fn new() -> Self {
        Self {
            heap: Mutex::new(None),
        }
    }

    fn heap(&self) -> MutexGuard<'_, Option<HeapCore>> {
        self.heap.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The shared heap's statistics (excluding over-aligned requests).
    pub fn stats(&self) -> HeapStats {
        self.heap().get_or_insert_with(HeapCore::new).stats()
    }

    /// Bounds the bytes the shared heap reserves; `None` lifts the bound.
    pub fn set_memory_limit(&self, max_bytes: Option<usize>) {
        self.heap()
            .get_or_insert_with(HeapCore::new)
            .set_memory_limit(max_bytes);
    }
}

impl Default for ObjHeapAlloc {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: blocks are 16-aligned, so any layout with align <= 16 is honoured
// by the heap; larger alignments go to a GlobalAlloc that honours them. A
// block is freed through the same path it was allocated by, chosen by the
// same layout.
unsafe impl GlobalAlloc for ObjHeapAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() > ALIGNMENT {
            // SAFETY: forwarded from the caller.
            return unsafe { BACKEND.alloc(layout) };
        }
        let mut heap = self.heap();
        heap.get_or_insert_with(HeapCore::new)
            .alloc(layout.size())
            .map_or(core::ptr::null_mut(), |p| p.as_ptr())
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if layout.align() > ALIGNMENT {
            // SAFETY: forwarded from the caller; it was allocated by BACKEND.
            return unsafe { BACKEND.dealloc(ptr, layout) };
        }
        let mut heap = self.heap();
        let heap = heap
            .as_mut()
            .expect("a block is freed only after the heap allocated it");
        // SAFETY: the caller guarantees `ptr` came from `alloc` with this layout.
        unsafe { heap.free(core::ptr::NonNull::new_unchecked(ptr), layout.size()) }
    }
}
