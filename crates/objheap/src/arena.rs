//! Arenas: 1 MiB of address space from the OS, cut into 64 pools.
//!
//! ```text
//!  arena (1 MiB, 1 MiB-aligned)
//!  +------------------------------+----------------+-----+----------------+
//!  | pool 0                       | pool 1         | ... | pool 63        |
//!  | Pool hdr | Arena hdr | blocks| Pool hdr|blocks|     | Pool hdr|blocks|
//!  +------------------------------+----------------+-----+----------------+
//!  ^ arena base = pool 0 base     ^ base + 16 KiB
//! ```
//!
//! The arena's own header lives in pool 0 right after that pool's header,
//! so pool 0 holds a few blocks fewer than the others and no pool is wasted.
//! Masking a block's address with `!(POOL_SIZE - 1)` finds its pool header;
//! masking a pool's with `!(ARENA_SIZE - 1)` finds its arena.
//!
//! An arena's pools are in one of three states:
//!
//! - **untouched**: index `>= untouched_from`; never initialised (their pages
//!   may not even be resident yet);
//! - **empty**: on `free_pools`; initialised once, no block in use;
//! - **in use**: initialised for a size class with at least one block in use
//!   (partly used or full; the heap tracks which, see `heap.rs`).
//!
//! Key invariant: `nfree == |free_pools| + (POOLS_PER_ARENA - untouched_from)`,
//! and the arena is empty if and only if `nfree == POOLS_PER_ARENA`.

use core::ptr;

use crate::pool::{self, POOL_HEADER_SIZE, Pool};
use crate::size_class::ALIGNMENT;

/// Bytes of an arena.
pub const ARENA_SIZE: usize = 1 << 20;
/// Bytes of a pool.
pub const POOL_SIZE: usize = 1 << 14;
/// Pools per arena.
pub const POOLS_PER_ARENA: usize = ARENA_SIZE / POOL_SIZE;

/// The header of an arena, stored in pool 0 after that pool's header.
#[repr(C)]
pub(crate) struct Arena {
    /// Empty, initialised pools, linked through `Pool::next`.
    pub(crate) free_pools: *mut Pool,
    /// Empty pools: `|free_pools| + (POOLS_PER_ARENA - untouched_from)`.
    pub(crate) nfree: u32,
    /// Pools at this index and above have never been used.
    pub(crate) untouched_from: u32,
    /// Neighbours in the heap's bucket of arenas with the same `nfree`.
    pub(crate) bucket_next: *mut Arena,
    pub(crate) bucket_prev: *mut Arena,
    /// Neighbours in the heap's list of all its arenas.
    pub(crate) all_next: *mut Arena,
    pub(crate) all_prev: *mut Arena,
}

/// Bytes the arena header takes in pool 0.
pub(crate) const ARENA_HEADER_SIZE: usize = size_of::<Arena>().next_multiple_of(ALIGNMENT);

/// Writes a fresh header into a newly mapped arena and returns it.
///
/// # Safety
/// `base` is the start of a mapped, unused arena of [`ARENA_SIZE`] bytes.
pub(crate) unsafe fn init(base: *mut u8) -> *mut Arena {
    // SAFETY: the header fits in pool 0 right after its pool header.
    let arena = unsafe { base.add(POOL_HEADER_SIZE) }.cast::<Arena>();
    // SAFETY: the memory is ours and suitably aligned (16 divides the offset).
    unsafe {
        arena.write(Arena {
            free_pools: ptr::null_mut(),
            nfree: POOLS_PER_ARENA as u32,
            untouched_from: 0,
            bucket_next: ptr::null_mut(),
            bucket_prev: ptr::null_mut(),
            all_next: ptr::null_mut(),
            all_prev: ptr::null_mut(),
        })
    };
    arena
}

/// The start of the arena whose header is `arena` (also pool 0's start).
#[inline]
pub(crate) fn base(arena: *mut Arena) -> *mut u8 {
    arena.cast::<u8>().map_addr(|a| a & !(ARENA_SIZE - 1))
}

/// Takes an empty pool out of the arena (which must have one).
///
/// # Safety
/// `arena` is a live arena header with `nfree > 0`.
pub(crate) unsafe fn take_pool(arena: *mut Arena) -> *mut Pool {
    // SAFETY: the caller guarantees `arena` is live; pools on `free_pools`
    // and untouched pools lie inside it.
    unsafe {
        debug_assert!((*arena).nfree > 0);
        let pool = if (*arena).free_pools.is_null() {
            let index = (*arena).untouched_from as usize;
            (*arena).untouched_from += 1;
            base(arena).add(index * POOL_SIZE).cast::<Pool>()
        } else {
            let pool = (*arena).free_pools;
            (*arena).free_pools = (*pool).next;
            pool
        };
        (*arena).nfree -= 1;
        pool
    }
}

/// Gives an emptied pool back to its arena.
///
/// # Safety
/// `pool` is a pool of `arena` with no block in use and in no other list.
pub(crate) unsafe fn put_pool(arena: *mut Arena, pool: *mut Pool) {
    // SAFETY: the caller guarantees both are live and the pool is unlinked.
    unsafe {
        (*pool).next = (*arena).free_pools;
        (*arena).free_pools = pool;
        (*arena).nfree += 1;
    }
}

/// Checks the key invariant by walking `free_pools` (for debug validation).
///
/// # Safety
/// `arena` is live.
pub(crate) unsafe fn is_valid(arena: *mut Arena) -> bool {
    // SAFETY: walks the free-pool list of a live arena.
    unsafe {
        let mut listed = 0u32;
        let mut p = (*arena).free_pools;
        while !p.is_null() {
            if pool::arena_of(p) != arena || (*p).used != 0 {
                return false;
            }
            listed += 1;
            p = (*p).next;
        }
        (*arena).untouched_from as usize <= POOLS_PER_ARENA
            && (*arena).nfree == listed + (POOLS_PER_ARENA as u32 - (*arena).untouched_from)
    }
}
