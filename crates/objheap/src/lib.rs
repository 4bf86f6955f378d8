//! # objheap: a small-object pool allocator
//!
//! The memory objects live in, managed the way CPython's obmalloc does it,
//! with mimalloc's delayed cross-thread frees. Each [`Heap`] owns its memory;
//! several heaps are independent, and dropping one releases all of it.
//!
//! ## Example
//!
//! ```
//! let mut heap = objheap::Heap::new();
//! let block = heap.alloc(40).expect("memory");
//! // SAFETY: 40 bytes were allocated and are 16-aligned.
//! unsafe { block.as_ptr().cast::<u64>().write(7) };
//! assert_eq!(heap.stats().blocks_in_use, 1);
//! // SAFETY: allocated above with size 40 and not used after this.
//! unsafe { heap.free(block, 40) };
//! assert_eq!(heap.stats().blocks_in_use, 0);
//! ```
//!
//! ## Layers
//!
//! ```text
//!  Heap ──owns──► arenas (1 MiB from mmap, 1 MiB-aligned)
//!                   └─ 64 pools (16 KiB, one size class each)
//!                        └─ blocks (16, 32, ..., 512 bytes)
//!       ──owns──► large blocks (> 512 bytes, from mimalloc or the system)
//! ```
//!
//! A block's pool header is found by masking its address (`pool.rs`), so
//! freeing is a push on that pool's free list. Allocation pops from the
//! first pool of the size class that has room ([`size_class_of`] says which
//! class): in the common case a load, a store and two counter updates.
//!
//! ## Fragmentation
//!
//! New pools come from the arena with the fewest empty pools, so lightly used
//! arenas empty out; a wholly empty arena goes back to the OS, except one
//! spare kept to absorb churn (`heap.rs` has the transitions and invariants).
//!
//! ## Limits, threads, debugging
//!
//! - [`Heap::set_memory_limit`] bounds the bytes taken from the system;
//!   past it, [`Heap::alloc`] returns an [`AllocError`] and the heap stays usable.
//! - [`Heap::remote`] gives a [`RemoteFree`] handle that other threads use to
//!   free blocks; the owner reclaims them on its next allocation (`delayed.rs`).
//! - Feature `debug`: fill patterns, guard bytes, double-free and
//!   foreign-pointer detection (`debug.rs`); feature `valgrind`: memcheck
//!   tracks pooled blocks as it tracks `malloc`'s (`valgrind.rs`).
//! - [`ObjHeapAlloc`] makes objheap a program's global allocator.

#![deny(unsafe_op_in_unsafe_fn)]

mod arena;
pub mod debug;
mod delayed;
mod global;
mod heap;
mod large;
mod os;
mod pool;
mod size_class;
mod stats;
mod sync;
mod valgrind;

use core::fmt;
use core::ptr::NonNull;

pub use arena::{ARENA_SIZE, POOL_SIZE, POOLS_PER_ARENA};
pub use global::ObjHeapAlloc;
pub use size_class::{
    ALIGNMENT, MAX_POOLED_REQUEST, MAX_SMALL_SIZE, NUM_SIZE_CLASSES, class_size, size_class_of,
};
pub use stats::{ArenaOccupancy, ClassStats, HeapStats, PoolOccupancy};

use delayed::DelayedFreeList;
use heap::HeapCore;

/// A heap of blocks, owned by one thread at a time.
///
/// `Heap` is `Send` but not `Sync`: the thread holding it allocates and
/// frees; other threads free through a [`RemoteFree`] handle.
pub struct Heap {
    // Boxed so the delayed-free list has a stable address for RemoteFree.
    core: Box<HeapCore>,
}

impl Heap {
    /// An empty heap. It maps no memory until the first allocation.
    pub fn new() -> Self {
        Self {
            core: Box::new(HeapCore::new()),
        }
    }

    /// Bounds `bytes_reserved` (all memory taken from the system) to
    /// `max_bytes`; `None` removes the bound. A limit below the current
    /// reservation makes growing allocations fail until memory is freed.
    pub fn set_memory_limit(&mut self, max_bytes: Option<usize>) {
        self.core.set_memory_limit(max_bytes);
    }

    /// The current memory limit.
    pub fn memory_limit(&self) -> Option<usize> {
        self.core.memory_limit()
    }

    /// Fault injection: the `n`th allocation from now (1: the next one)
    /// fails with [`AllocErrorKind::Injected`], once; `None` cancels. For
    /// tests that every allocating path of a program handles failure.
    pub fn fail_allocation(&mut self, n: Option<u64>) {
        self.core.fail_countdown = n.unwrap_or(0);
    }

    /// Whether the failure set by [`Heap::fail_allocation`] is still to come.
    pub fn allocation_failure_pending(&self) -> bool {
        self.core.fail_countdown != 0
    }

    /// Allocates `size` bytes, 16-aligned. The contents are unspecified
    /// (in debug builds, filled with [`debug::FRESH_BYTE`]).
    ///
    /// Fails, leaving the heap unchanged and usable, when the memory limit
    /// would be exceeded or the system refuses memory.
    #[inline]
    pub fn alloc(&mut self, size: usize) -> Result<NonNull<u8>, AllocError> {
        self.core.alloc(size)
    }

    /// [`Heap::alloc`] with the contents zero. A large block comes zeroed
    /// from the backend, which leaves fresh pages from the system untouched:
    /// its memory is committed only as it is used.
    #[inline]
    pub fn alloc_zeroed(&mut self, size: usize) -> Result<NonNull<u8>, AllocError> {
        self.core.alloc_zeroed(size)
    }

    /// Frees a block.
    ///
    /// # Safety
    /// `block` was returned by `alloc(size)` on this heap, with this same
    /// `size`, and is neither used nor freed again afterwards. Debug builds
    /// detect double frees, foreign pointers, wrong sizes and overflows of
    /// the block with a panic; release builds do not.
    #[inline]
    pub unsafe fn free(&mut self, block: NonNull<u8>, size: usize) {
        // SAFETY: forwarded from the caller.
        unsafe { self.core.free(block, size) }
    }

    /// A handle for freeing this heap's blocks from other threads.
    pub fn remote(&self) -> RemoteFree {
        RemoteFree {
            list: NonNull::from(&self.core.delayed),
        }
    }

    /// A snapshot of the heap's figures.
    pub fn stats(&self) -> HeapStats {
        self.core.stats()
    }

    /// Walks every arena, pool and list, recounts, and describes the first
    /// inconsistency found. Costs time proportional to the heap's size.
    pub fn check(&self) -> Result<(), String> {
        self.core.check()
    }

    /// The arenas and how full each of their pools is (for pictures of
    /// fragmentation). Costs time proportional to the number of arenas.
    pub fn arena_map(&self) -> Vec<ArenaOccupancy> {
        self.core.arena_map()
    }
}

impl Default for Heap {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Heap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.stats();
        f.debug_struct("Heap")
            .field("blocks_in_use", &s.blocks_in_use)
            .field("bytes_reserved", &s.bytes_reserved)
            .finish_non_exhaustive()
    }
}

/// Frees blocks of one heap from any thread.
///
/// The block is queued and reclaimed by the heap's owner on its next
/// allocation; until then it counts as in use.
#[derive(Clone, Copy)]
pub struct RemoteFree {
    list: NonNull<DelayedFreeList>,
}

// SAFETY: the handle only pushes on an atomic multi-producer list.
unsafe impl Send for RemoteFree {}
// SAFETY: as above; pushes from several threads at once are the point.
unsafe impl Sync for RemoteFree {}

impl RemoteFree {
    /// Queues `block` for freeing by its heap's owner.
    ///
    /// # Safety
    /// The heap this handle came from is still alive; `block` was returned
    /// by its `alloc(size)` with this `size` and is neither used nor freed
    /// again afterwards.
    pub unsafe fn free(&self, block: NonNull<u8>, size: usize) {
        let block = NonNull::new(heap::reclaim(block.as_ptr())).expect("blocks are never null");
        if debug::ENABLED {
            let block_size = size_class_of(size).map_or(size + debug::GUARD_BYTES, class_size);
            // SAFETY: the caller guarantees the block is live with this size.
            unsafe { debug::check_guard(block.as_ptr(), size, block_size) };
        }
        // SAFETY: the heap (and so the list) is alive; every block is at
        // least 16 bytes and 16-aligned, and is dead by the caller's guarantee.
        unsafe { self.list.as_ref().push(block, size) }
    }
}

/// Why an allocation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AllocError {
    /// The size requested.
    pub size: usize,
    /// What stood in the way.
    pub kind: AllocErrorKind,
}

/// What stood in the way of an allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllocErrorKind {
    /// Granting it would take `bytes_reserved` past the memory limit.
    LimitExceeded {
        /// The limit in force.
        limit: usize,
        /// Bytes reserved when the request came.
        reserved: usize,
    },
    /// The system refused memory.
    OutOfMemory,
    /// No allocation can be that large.
    TooLarge,
    /// Failed on purpose by [`Heap::fail_allocation`] (fault injection).
    Injected,
}

impl fmt::Display for AllocError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let size = self.size;
        match self.kind {
            AllocErrorKind::LimitExceeded { limit, reserved } => write!(
                f,
                "cannot allocate {size} bytes: the heap's memory limit of {limit} bytes would be exceeded ({reserved} bytes reserved)"
            ),
            AllocErrorKind::OutOfMemory => write!(
                f,
                "cannot allocate {size} bytes: the system is out of memory"
            ),
            AllocErrorKind::TooLarge => write!(
                f,
                "cannot allocate {size} bytes: larger than any allocation can be"
            ),
            AllocErrorKind::Injected => write!(
                f,
                "cannot allocate {size} bytes: failed on purpose (fault injection)"
            ),
        }
    }
}

impl std::error::Error for AllocError {}

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
