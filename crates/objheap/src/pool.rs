//! Pools: 16 KiB of blocks of one size class.
//!
//! ```text
//!  pool (16 KiB, 16 KiB-aligned)
//!  +----------+-------+-------+-------+-----+-------+-----------+------+
//!  | Pool hdr | block | block | block | ... | block | untouched | tail |
//!  +----------+-------+-------+-------+-----+-------+-----------+------+
//!  ^ base     ^ first                       ^ bump              ^ end
//! ```
//!
//! Blocks in `first..bump` have been handed out at least once: each is
//! either in use or on the pool's LIFO free list (linked through its first 8
//! bytes). Blocks in `bump..end` have never been handed out; taking one is a
//! pointer bump, so a new pool costs no free-list building. `end` is the end
//! of the last whole block; the tail after it is too short for one.
//!
//! Key invariants:
//! `used + |free| == (bump - first) / block_size`, and a pool can hand out a
//! block if and only if `free` is non-null or `bump < end`.
//!
//! Pools hold raw pointers only and are always reached through raw pointers
//! derived from their arena's mapping, never through references: a reference
//! to the header would not cover the blocks after it.

use crate::arena::{ARENA_HEADER_SIZE, ARENA_SIZE, Arena, POOL_SIZE};
use crate::size_class::{ALIGNMENT, class_size};

/// The header at the start of every pool.
#[repr(C)]
pub(crate) struct Pool {
    /// Freed blocks, most recent first.
    pub(crate) free: *mut FreeBlock,
    /// Next pool: in the heap's list of usable pools of this class, or in
    /// the arena's list of empty pools.
    pub(crate) next: *mut Pool,
    /// Previous pool in the heap's list of usable pools of this class.
    pub(crate) prev: *mut Pool,
    /// The arena this pool belongs to.
    pub(crate) arena: *mut Arena,
    /// Blocks in use.
    pub(crate) used: u32,
    /// Size class of the blocks.
    pub(crate) class: u32,
    /// Offset of the first never-handed-out block.
    pub(crate) bump: u32,
    /// Offset past the last whole block.
    pub(crate) end: u32,
    /// Debug builds: bit `i` set if and only if block `i` is in use.
    #[cfg(feature = "debug")]
    pub(crate) live: [u64; LIVE_WORDS],
}

#[cfg(feature = "debug")]
const LIVE_WORDS: usize = POOL_SIZE / ALIGNMENT / 64;

/// A block on a pool's free list.
pub(crate) struct FreeBlock {
    pub(crate) next: *mut FreeBlock,
}

/// Bytes the pool header takes.
pub(crate) const POOL_HEADER_SIZE: usize = size_of::<Pool>().next_multiple_of(ALIGNMENT);

/// The pool containing `block` (any address inside a pool).
#[inline]
pub(crate) fn of_block(block: *mut u8) -> *mut Pool {
    block.map_addr(|a| a & !(POOL_SIZE - 1)).cast()
}

/// The arena containing `pool`.
#[inline]
pub(crate) fn arena_of(pool: *mut Pool) -> *mut Arena {
    crate::arena::base(pool.cast())
        .wrapping_add(POOL_HEADER_SIZE)
        .cast()
}

/// Offset of the first block: pool 0 of an arena also holds the arena header.
#[inline]
pub(crate) fn first_block_offset(pool: *mut Pool) -> usize {
    if pool.addr() % ARENA_SIZE == 0 {
        POOL_HEADER_SIZE + ARENA_HEADER_SIZE
    } else {
        POOL_HEADER_SIZE
    }
}

/// Blocks a pool holds when set up for `class`.
#[inline]
pub(crate) fn capacity(pool: *mut Pool, class: usize) -> usize {
    (POOL_SIZE - first_block_offset(pool)) / class_size(class)
}

/// Sets up an empty pool for blocks of `class`.
///
/// # Safety
/// `pool` points to a pool of `arena` that is in no list and has no block in use.
pub(crate) unsafe fn init(pool: *mut Pool, arena: *mut Arena, class: usize) {
    let first = first_block_offset(pool);
    let end = first + capacity(pool, class) * class_size(class);
    // SAFETY: the header lies at the start of the pool, which the caller owns.
    unsafe {
        pool.write(Pool {
            free: core::ptr::null_mut(),
            next: core::ptr::null_mut(),
            prev: core::ptr::null_mut(),
            arena,
            used: 0,
            class: class as u32,
            bump: first as u32,
            end: end as u32,
            #[cfg(feature = "debug")]
            live: [0; LIVE_WORDS],
        })
    };
}

/// Whether the pool can hand out a block.
///
/// # Safety
/// `pool` is a live, initialised pool.
#[inline]
pub(crate) unsafe fn has_free_block(pool: *mut Pool) -> bool {
    // SAFETY: the caller guarantees the header is live.
    unsafe { !(*pool).free.is_null() || (*pool).bump < (*pool).end }
}

/// Takes a block: the most recently freed one, else the next untouched one.
/// Returns the block and whether it came from the free list.
///
/// # Safety
/// `pool` is a live pool with `has_free_block(pool)`.
#[inline]
pub(crate) unsafe fn take_block(pool: *mut Pool) -> (*mut u8, bool) {
    // SAFETY: the caller guarantees a block is available; free-list blocks
    // and untouched blocks lie inside the pool.
    unsafe {
        (*pool).used += 1;
        let block = (*pool).free;
        if block.is_null() {
            let block = pool.cast::<u8>().add((*pool).bump as usize);
            (*pool).bump += class_size((*pool).class as usize) as u32;
            (block, false)
        } else {
            crate::valgrind::make_defined(block.cast(), size_of::<FreeBlock>());
            (*pool).free = (*block).next;
            (block.cast(), true)
        }
    }
}

/// Puts a block back on the pool's free list.
///
/// # Safety
/// `block` is a block of `pool` that is in use and no longer used by anyone.
#[inline]
pub(crate) unsafe fn put_block(pool: *mut Pool, block: *mut u8) {
    // SAFETY: the caller guarantees the block is ours to overwrite.
    unsafe {
        let link = block.cast::<FreeBlock>();
        (*link).next = (*pool).free;
        (*pool).free = link;
        (*pool).used -= 1;
    }
}

/// Index of `block` in the pool if it is the start of a block that has been
/// handed out, else `None` (a foreign or interior pointer).
///
/// # Safety
/// `pool` is a live, initialised pool.
#[cfg(feature = "debug")]
pub(crate) unsafe fn block_index(pool: *mut Pool, block: *mut u8) -> Option<usize> {
    let first = first_block_offset(pool);
    let offset = block.addr().wrapping_sub(pool.addr());
    // SAFETY: the caller guarantees the header is live.
    let (bump, size) = unsafe { ((*pool).bump as usize, class_size((*pool).class as usize)) };
    (offset >= first && offset < bump && (offset - first) % size == 0)
        .then(|| (offset - first) / size)
}

/// Sets or clears block `index`'s in-use bit; returns its old value.
///
/// # Safety
/// `pool` is a live, initialised pool and `index` one of its blocks.
#[cfg(feature = "debug")]
pub(crate) unsafe fn set_live(pool: *mut Pool, index: usize, live: bool) -> bool {
    let (word, bit) = (index / 64, 1u64 << (index % 64));
    // SAFETY: the caller guarantees the header is live; index < 1024.
    unsafe {
        let old = (*pool).live[word] & bit != 0;
        if live {
            (*pool).live[word] |= bit;
        } else {
            (*pool).live[word] &= !bit;
        }
        old
    }
}

/// Recounts the free list and checks the pool's key invariant.
///
/// # Safety
/// `pool` is a live, initialised pool.
pub(crate) unsafe fn is_valid(pool: *mut Pool) -> bool {
    // SAFETY: walks the free list of a live pool; every link lies inside it.
    unsafe {
        let size = class_size((*pool).class as usize);
        let first = first_block_offset(pool);
        let mut free = 0usize;
        let mut p = (*pool).free;
        while !p.is_null() {
            if of_block(p.cast()) != pool {
                return false;
            }
            free += 1;
            crate::valgrind::make_defined(p.cast(), size_of::<FreeBlock>());
            let next = (*p).next;
            crate::valgrind::make_noaccess(p.cast(), size_of::<FreeBlock>());
            p = next;
        }
        let handed_out = ((*pool).bump as usize - first) / size;
        (*pool).used as usize + free == handed_out
            && (*pool).bump <= (*pool).end
            && (*pool).end as usize <= POOL_SIZE
    }
}
