//! The heap: size-class lists, arena buckets, large blocks and counters.
//!
//! ```text
//!  HeapCore
//!  ├─ usable[class] ──► Pool ⇄ Pool ⇄ ...   pools of that class with a free block
//!  ├─ buckets[k]    ──► Arena ⇄ Arena ...   arenas with exactly k empty pools (0 < k < 64)
//!  ├─ all_arenas    ──► Arena ⇄ Arena ...   every arena, the spare included
//!  ├─ spare         ──► Arena               at most one wholly empty arena kept mapped
//!  ├─ large         ──► LargeHeader ⇄ ...   blocks over 512 bytes
//!  └─ delayed       ──► blocks freed by other threads, drained on the next alloc
//! ```
//!
//! Pool transitions (class `c`), each O(1):
//!
//! ```text
//!            take from arena                 last block taken
//!  empty ───────────────────► usable[c] ─────────────────────► full (no list)
//!    ▲                          │   ▲                             │
//!    └──────────────────────────┘   └─────────────────────────────┘
//!         last block freed               a block freed
//! ```
//!
//! Arena choice fights fragmentation as CPython's obmalloc does: a new pool
//! comes from the arena with the fewest empty pools (the lowest non-empty
//! bucket, found with one `trailing_zeros` on `bucket_mask`), so nearly empty
//! arenas drain and can be returned. An arena whose last pool empties becomes
//! the spare, or is unmapped if there is one already.
//!
//! Key invariants:
//! - a pool is on `usable[c]` if and only if it is set up for class `c`, has
//!   a block in use, and can hand out another;
//! - an arena is in `buckets[k]` if and only if `nfree == k` and `0 < k < 64`;
//! - bit `k` of `bucket_mask` is set if and only if `buckets[k]` is non-empty;
//! - `bytes_reserved == arenas * ARENA_SIZE + Σ large reserved`.

use core::ptr::{self, NonNull};

use crate::arena::{self, ARENA_SIZE, Arena, POOLS_PER_ARENA};
use crate::delayed::DelayedFreeList;
use crate::large::{self, LargeHeader};
use crate::pool::{self, Pool};
use crate::size_class::{NUM_SIZE_CLASSES, class_size, size_class_of};
use crate::stats::{ArenaOccupancy, ClassStats, HeapStats, PoolOccupancy};
use crate::{AllocError, AllocErrorKind, debug, os, valgrind};

/// Running totals behind [`HeapStats`].
#[derive(Default)]
struct Counts {
    arenas: usize,
    pools: usize,
    bytes_reserved: usize,
    peak_bytes_reserved: usize,
    large_blocks: usize,
    large_bytes: usize,
    /// Blocks in use per class.
    in_use: [usize; NUM_SIZE_CLASSES],
    /// Blocks in the pools of each class, free or in use.
    capacity: [usize; NUM_SIZE_CLASSES],
    /// Pools set up for each class.
    pools_by_class: [usize; NUM_SIZE_CLASSES],
}

/// The heap's state. Everything but `delayed` belongs to whoever holds `&mut`.
pub(crate) struct HeapCore {
    usable: [*mut Pool; NUM_SIZE_CLASSES],
    buckets: [*mut Arena; POOLS_PER_ARENA],
    bucket_mask: u64,
    all_arenas: *mut Arena,
    spare: *mut Arena,
    large: *mut LargeHeader,
    pub(crate) delayed: DelayedFreeList,
    limit: Option<usize>,
    /// Allocations until one fails on purpose (0: none will); see
    /// `Heap::fail_allocation`.
    pub(crate) fail_countdown: u64,
    counts: Counts,
    /// Whether memcheck has been told about this heap's memory pool (made on
    /// the first allocation, when the heap has its final address).
    #[cfg(feature = "valgrind")]
    valgrind_pool: bool,
}

// SAFETY: every pointer in the heap refers to memory the heap owns alone;
// moving the heap to another thread moves that ownership with it. The only
// state shared with other threads is `delayed`, which is atomic.
unsafe impl Send for HeapCore {}

impl HeapCore {
    pub(crate) fn new() -> Self {
        Self {
            usable: [ptr::null_mut(); NUM_SIZE_CLASSES],
            buckets: [ptr::null_mut(); POOLS_PER_ARENA],
            bucket_mask: 0,
            all_arenas: ptr::null_mut(),
            spare: ptr::null_mut(),
            large: ptr::null_mut(),
            delayed: DelayedFreeList::new(),
            limit: None,
            fail_countdown: 0,
            counts: Counts::default(),
            #[cfg(feature = "valgrind")]
            valgrind_pool: false,
        }
    }

    pub(crate) fn set_memory_limit(&mut self, max_bytes: Option<usize>) {
        self.limit = max_bytes;
    }

    pub(crate) fn memory_limit(&self) -> Option<usize> {
        self.limit
    }

    // ----- allocation -------------------------------------------------------

    #[inline]
    pub(crate) fn alloc(&mut self, size: usize) -> Result<NonNull<u8>, AllocError> {
        self.alloc_with(size, false)
    }

    /// `alloc`, with the request zeroed: pooled blocks by writing zeros,
    /// large ones by the backend (fresh pages stay untouched).
    #[inline]
    pub(crate) fn alloc_zeroed(&mut self, size: usize) -> Result<NonNull<u8>, AllocError> {
        self.alloc_with(size, true)
    }

    #[inline(always)]
    fn alloc_with(&mut self, size: usize, zeroed: bool) -> Result<NonNull<u8>, AllocError> {
        if !self.delayed.is_empty() {
            self.drain_delayed();
        }
        if self.fail_countdown != 0 {
            self.fail_countdown -= 1;
            if self.fail_countdown == 0 {
                return Err(AllocError {
                    size,
                    kind: AllocErrorKind::Injected,
                });
            }
        }
        match size_class_of(size) {
            Some(class) => self.alloc_small(size, class).inspect(|block| {
                if zeroed {
                    // SAFETY: a fresh block of at least `size` bytes.
                    unsafe { zero(block.as_ptr(), size) };
                }
            }),
            None => self.alloc_large(size, zeroed),
        }
        .map_err(|kind| AllocError { size, kind })
    }

    #[inline]
    fn alloc_small(&mut self, size: usize, class: usize) -> Result<NonNull<u8>, AllocErrorKind> {
        let mut pool = self.usable[class];
        if pool.is_null() {
            pool = self.new_pool(class)?;
        }
        // SAFETY: a pool on `usable[class]` is live and can hand out a block.
        let (block, recycled) = unsafe { pool::take_block(pool) };
        // SAFETY: as above.
        if !unsafe { pool::has_free_block(pool) } {
            self.unlink_usable(pool, class);
        }
        self.counts.in_use[class] += 1;
        #[cfg(feature = "debug")]
        if recycled {
            // SAFETY: `block` is a whole, freed block of `pool`, just taken.
            unsafe { self.debug_check_freed(pool, block) };
        }
        #[cfg(not(feature = "debug"))]
        let _ = recycled;
        valgrind::malloclike(self.valgrind_pool(), block, size);
        #[cfg(feature = "debug")]
        // SAFETY: `block` is a whole block of `pool`, handed out now.
        unsafe {
            self.debug_on_alloc_small(pool, block, size)
        };
        // SAFETY: blocks lie inside a mapped arena, so they are never null.
        Ok(unsafe { NonNull::new_unchecked(block) })
    }

    #[cold]
    fn alloc_large(&mut self, size: usize, zeroed: bool) -> Result<NonNull<u8>, AllocErrorKind> {
        let reserved = large::reserved_for(size)
            .filter(|&r| r <= isize::MAX as usize)
            .ok_or(AllocErrorKind::TooLarge)?;
        self.check_limit(reserved)?;
        // SAFETY: `self.large` heads a well-formed list.
        let block = unsafe { large::alloc(&mut self.large, size, reserved, zeroed) }
            .ok_or(AllocErrorKind::OutOfMemory)?;
        self.add_reserved(reserved);
        self.counts.large_blocks += 1;
        self.counts.large_bytes += size;
        if debug::ENABLED {
            // SAFETY: the backend gave us size + GUARD_BYTES bytes after the header.
            unsafe {
                if zeroed {
                    debug::paint_guard(block, size, size + debug::GUARD_BYTES);
                } else {
                    debug::paint_allocated(block, size, size + debug::GUARD_BYTES);
                }
            }
        }
        // SAFETY: `large::alloc` returned a non-null pointer.
        Ok(unsafe { NonNull::new_unchecked(block) })
    }

    /// Sets up a pool for `class` from the fullest arena with room.
    #[cold]
    fn new_pool(&mut self, class: usize) -> Result<*mut Pool, AllocErrorKind> {
        let arena = self.arena_with_free_pool()?;
        // SAFETY: the arena is live and has an empty pool; bucket membership
        // follows `nfree` before and after.
        unsafe {
            let before = (*arena).nfree as usize;
            let pool = arena::take_pool(arena);
            if before < POOLS_PER_ARENA {
                self.bucket_remove(arena, before);
            }
            if before > 1 {
                self.bucket_insert(arena, before - 1);
            }
            pool::init(pool, arena, class);
            self.link_usable(pool, class);
            self.counts.pools += 1;
            self.counts.pools_by_class[class] += 1;
            self.counts.capacity[class] += pool::capacity(pool, class);
            Ok(pool)
        }
    }

    fn arena_with_free_pool(&mut self) -> Result<*mut Arena, AllocErrorKind> {
        if self.bucket_mask != 0 {
            return Ok(self.buckets[self.bucket_mask.trailing_zeros() as usize]);
        }
        if !self.spare.is_null() {
            return Ok(core::mem::replace(&mut self.spare, ptr::null_mut()));
        }
        self.check_limit(ARENA_SIZE)?;
        let base = os::map_arena().ok_or(AllocErrorKind::OutOfMemory)?;
        // SAFETY: `base` is a fresh arena mapping.
        let arena = unsafe { arena::init(base.as_ptr()) };
        // SAFETY: `arena` is live and in no list; the old head is live.
        unsafe {
            (*arena).all_next = self.all_arenas;
            if !self.all_arenas.is_null() {
                (*self.all_arenas).all_prev = arena;
            }
        }
        self.all_arenas = arena;
        self.counts.arenas += 1;
        self.add_reserved(ARENA_SIZE);
        Ok(arena)
    }

    fn check_limit(&self, more: usize) -> Result<(), AllocErrorKind> {
        match self.limit {
            Some(limit) if self.counts.bytes_reserved.saturating_add(more) > limit => {
                Err(AllocErrorKind::LimitExceeded {
                    limit,
                    reserved: self.counts.bytes_reserved,
                })
            }
            _ => Ok(()),
        }
    }

    fn add_reserved(&mut self, bytes: usize) {
        self.counts.bytes_reserved += bytes;
        self.counts.peak_bytes_reserved = self
            .counts
            .peak_bytes_reserved
            .max(self.counts.bytes_reserved);
    }

    // ----- freeing ----------------------------------------------------------

    /// # Safety
    /// `block` was returned by `alloc(size)` on this heap and is not used any more.
    #[inline]
    pub(crate) unsafe fn free(&mut self, block: NonNull<u8>, size: usize) {
        // SAFETY: forwarded from the caller.
        unsafe { self.free_checked(block.as_ptr(), size, true) }
    }

    /// `check_guard` is false for blocks whose guard was checked before a
    /// remote free overwrote the start of the block.
    #[inline]
    unsafe fn free_checked(&mut self, block: *mut u8, size: usize, check_guard: bool) {
        let block = reclaim(block);
        match size_class_of(size) {
            // SAFETY: forwarded from the caller.
            Some(class) => unsafe { self.free_small(block, size, class, check_guard) },
            // SAFETY: forwarded from the caller.
            None => unsafe { self.free_large(block, size, check_guard) },
        }
    }

    #[inline]
    unsafe fn free_small(&mut self, block: *mut u8, size: usize, class: usize, check_guard: bool) {
        let pool = pool::of_block(block);
        #[cfg(feature = "debug")]
        // SAFETY: the check only reads headers of arenas this heap owns.
        unsafe {
            self.debug_check_free_small(pool, block, size, class, check_guard)
        };
        #[cfg(not(feature = "debug"))]
        let _ = (size, check_guard);
        // SAFETY: `block` is a live block of `pool` (the caller's guarantee,
        // checked above in debug builds).
        unsafe {
            let was_full = !pool::has_free_block(pool);
            pool::put_block(pool, block);
            if debug::ENABLED {
                debug::paint_freed(block, class_size(class));
            }
            valgrind::freelike(self.valgrind_pool(), block);
            self.counts.in_use[class] -= 1;
            if (*pool).used == 0 {
                if !was_full {
                    self.unlink_usable(pool, class);
                }
                self.release_pool(pool, class);
            } else if was_full {
                self.link_usable(pool, class);
            }
        }
    }

    #[cold]
    unsafe fn free_large(&mut self, block: *mut u8, size: usize, check_guard: bool) {
        let header = large::header_of(block);
        if debug::ENABLED {
            // SAFETY: the list is well formed; `header` is only read once it is found in it.
            unsafe {
                if !large::list_contains(self.large, header) {
                    panic!(
                        "objheap: free of {block:p} ({size} bytes), which is not a live block of this heap (double free or foreign pointer)"
                    );
                }
                let real = (*header).size;
                assert!(
                    real == size,
                    "objheap: the {real}-byte block at {block:p} was freed with size {size}"
                );
                if check_guard {
                    debug::check_guard(block, size, size + debug::GUARD_BYTES);
                }
            }
        }
        // SAFETY: `header` is a live large block of this heap (the caller's guarantee).
        unsafe {
            let size = (*header).size;
            let reserved = large::reserved_for(size).expect("checked at allocation");
            large::free(&mut self.large, header);
            self.counts.bytes_reserved -= reserved;
            self.counts.large_blocks -= 1;
            self.counts.large_bytes -= size;
        }
    }

    /// Hands an emptied pool back to its arena, retiring the arena if it is now empty.
    ///
    /// # Safety
    /// `pool` is live, in no list, and has no block in use.
    unsafe fn release_pool(&mut self, pool: *mut Pool, class: usize) {
        self.counts.pools -= 1;
        self.counts.pools_by_class[class] -= 1;
        self.counts.capacity[class] -= pool::capacity(pool, class);
        // SAFETY: the caller's guarantee; bucket membership follows `nfree`.
        unsafe {
            let arena = (*pool).arena;
            let before = (*arena).nfree as usize;
            arena::put_pool(arena, pool);
            if before > 0 {
                self.bucket_remove(arena, before);
            }
            if before + 1 == POOLS_PER_ARENA {
                self.retire_arena(arena);
            } else {
                self.bucket_insert(arena, before + 1);
            }
        }
    }

    /// Keeps a wholly empty arena as the spare, or returns it to the OS.
    ///
    /// # Safety
    /// `arena` is live, empty, and in no bucket.
    unsafe fn retire_arena(&mut self, arena: *mut Arena) {
        if self.spare.is_null() {
            self.spare = arena;
            return;
        }
        // SAFETY: the caller's guarantee; its neighbours in `all_arenas` are live.
        unsafe {
            let (prev, next) = ((*arena).all_prev, (*arena).all_next);
            if prev.is_null() {
                self.all_arenas = next;
            } else {
                (*prev).all_next = next;
            }
            if !next.is_null() {
                (*next).all_prev = prev;
            }
            os::unmap_arena(NonNull::new_unchecked(arena::base(arena)));
        }
        self.counts.arenas -= 1;
        self.counts.bytes_reserved -= ARENA_SIZE;
    }

    /// Frees every block other threads handed back.
    #[cold]
    #[inline(never)]
    fn drain_delayed(&mut self) {
        for (block, size) in self.delayed.take_all() {
            // SAFETY: a block on the delayed list was allocated here and is
            // dead; its guard was checked before it was pushed.
            unsafe { self.free_checked(block.as_ptr(), size, false) };
        }
    }

    // ----- list plumbing ----------------------------------------------------

    fn link_usable(&mut self, pool: *mut Pool, class: usize) {
        let head = self.usable[class];
        // SAFETY: `pool` and the old head are live pools of this heap.
        unsafe {
            (*pool).prev = ptr::null_mut();
            (*pool).next = head;
            if !head.is_null() {
                (*head).prev = pool;
            }
        }
        self.usable[class] = pool;
    }

    fn unlink_usable(&mut self, pool: *mut Pool, class: usize) {
        // SAFETY: `pool` is on `usable[class]`, so it and its neighbours are live.
        unsafe {
            let (prev, next) = ((*pool).prev, (*pool).next);
            if prev.is_null() {
                self.usable[class] = next;
            } else {
                (*prev).next = next;
            }
            if !next.is_null() {
                (*next).prev = prev;
            }
        }
    }

    fn bucket_insert(&mut self, arena: *mut Arena, k: usize) {
        let head = self.buckets[k];
        // SAFETY: `arena` and the old head are live arenas of this heap.
        unsafe {
            (*arena).bucket_prev = ptr::null_mut();
            (*arena).bucket_next = head;
            if !head.is_null() {
                (*head).bucket_prev = arena;
            }
        }
        self.buckets[k] = arena;
        self.bucket_mask |= 1 << k;
    }

    fn bucket_remove(&mut self, arena: *mut Arena, k: usize) {
        // SAFETY: `arena` is in `buckets[k]`, so it and its neighbours are live.
        unsafe {
            let (prev, next) = ((*arena).bucket_prev, (*arena).bucket_next);
            if prev.is_null() {
                self.buckets[k] = next;
            } else {
                (*prev).bucket_next = next;
            }
            if !next.is_null() {
                (*next).bucket_prev = prev;
            }
        }
        if self.buckets[k].is_null() {
            self.bucket_mask &= !(1 << k);
        }
    }

    fn arenas(&self) -> impl Iterator<Item = *mut Arena> + '_ {
        let mut next = self.all_arenas;
        core::iter::from_fn(move || {
            let arena = next;
            (!arena.is_null()).then(|| {
                // SAFETY: arenas on the list are live.
                next = unsafe { (*arena).all_next };
                arena
            })
        })
    }

    // ----- statistics and validation ----------------------------------------

    /// Every arena with the occupancy of each of its pools.
    pub(crate) fn arena_map(&self) -> Vec<ArenaOccupancy> {
        self.arenas()
            .map(|arena| {
                let base = arena::base(arena);
                // SAFETY: `arena` is live; pools below `untouched_from` have
                // headers, the others were never used.
                let touched = unsafe { (*arena).untouched_from } as usize;
                let pools = (0..POOLS_PER_ARENA)
                    .map(|i| {
                        if i >= touched {
                            return None;
                        }
                        // SAFETY: a pool of a live arena with a header.
                        let pool = unsafe { base.add(i * arena::POOL_SIZE) }.cast::<Pool>();
                        // SAFETY: as above.
                        let (used, class) = unsafe { ((*pool).used, (*pool).class) };
                        (used > 0).then(|| PoolOccupancy {
                            block_size: class_size(class as usize),
                            used: used as usize,
                            capacity: pool::capacity(pool, class as usize),
                        })
                    })
                    .collect();
                ArenaOccupancy {
                    address: base.addr(),
                    pools,
                }
            })
            .collect()
    }

    pub(crate) fn stats(&self) -> HeapStats {
        let c = &self.counts;
        let classes = core::array::from_fn(|class| ClassStats {
            block_size: class_size(class),
            pools: c.pools_by_class[class],
            blocks_in_use: c.in_use[class],
            blocks_free: c.capacity[class] - c.in_use[class],
        });
        HeapStats {
            blocks_in_use: c.in_use.iter().sum::<usize>() + c.large_blocks,
            bytes_in_use: (0..NUM_SIZE_CLASSES)
                .map(|k| c.in_use[k] * class_size(k))
                .sum::<usize>()
                + c.large_bytes,
            bytes_reserved: c.bytes_reserved,
            peak_bytes_reserved: c.peak_bytes_reserved,
            arenas: c.arenas,
            pools: c.pools,
            empty_pools: c.arenas * POOLS_PER_ARENA - c.pools,
            large_blocks: c.large_blocks,
            large_bytes: c.large_bytes,
            memory_limit: self.limit,
            classes,
        }
    }

    /// Walks every arena, pool and list and recounts; describes the first
    /// inconsistency found.
    pub(crate) fn check(&self) -> Result<(), String> {
        let mut in_use = [0usize; NUM_SIZE_CLASSES];
        let mut pools = 0;
        for arena in self.arenas() {
            // SAFETY: `arena` is live; pools below `untouched_from` have headers.
            unsafe {
                if !arena::is_valid(arena) {
                    return Err(format!(
                        "arena {arena:p}: free-pool count does not match its lists"
                    ));
                }
                let k = (*arena).nfree as usize;
                let belongs = k > 0 && k < POOLS_PER_ARENA;
                let filed = k < POOLS_PER_ARENA && self.bucket_contains(k, arena);
                if belongs != filed {
                    return Err(format!("arena {arena:p} with {k} empty pools is misfiled"));
                }
                for i in 0..(*arena).untouched_from as usize {
                    let pool = arena::base(arena).add(i * arena::POOL_SIZE).cast::<Pool>();
                    if (*pool).used == 0 {
                        continue;
                    }
                    if !pool::is_valid(pool) {
                        return Err(format!(
                            "pool {pool:p}: block counts do not match its free list"
                        ));
                    }
                    let class = (*pool).class as usize;
                    let listed = self.usable_contains(class, pool);
                    if listed != pool::has_free_block(pool) {
                        return Err(format!(
                            "pool {pool:p}: on the usable list is {listed}, but has a free block is {}",
                            !listed
                        ));
                    }
                    in_use[class] += (*pool).used as usize;
                    pools += 1;
                }
            }
        }
        if let Some(k) = (1..POOLS_PER_ARENA)
            .find(|&k| (self.bucket_mask >> k) & 1 != u64::from(!self.buckets[k].is_null()))
        {
            return Err(format!("bucket mask bit {k} disagrees with its bucket"));
        }
        if in_use != self.counts.in_use || pools != self.counts.pools {
            return Err(format!(
                "counters say {:?} blocks in {} pools; the pools hold {in_use:?} in {pools}",
                self.counts.in_use, self.counts.pools
            ));
        }
        let large_reserved: usize = {
            let mut total = 0;
            let mut p = self.large;
            while !p.is_null() {
                // SAFETY: headers on the list are live.
                unsafe {
                    total += large::reserved_for((*p).size).unwrap_or(0);
                    p = (*p).next;
                }
            }
            total
        };
        if self.counts.bytes_reserved != self.counts.arenas * ARENA_SIZE + large_reserved {
            return Err(format!(
                "bytes_reserved {} != arenas and large blocks {}",
                self.counts.bytes_reserved,
                self.counts.arenas * ARENA_SIZE + large_reserved
            ));
        }
        Ok(())
    }

    fn usable_contains(&self, class: usize, pool: *mut Pool) -> bool {
        let mut p = self.usable[class];
        while !p.is_null() {
            if p == pool {
                return true;
            }
            // SAFETY: pools on the list are live.
            p = unsafe { (*p).next };
        }
        false
    }

    fn bucket_contains(&self, k: usize, arena: *mut Arena) -> bool {
        let mut a = self.buckets[k];
        while !a.is_null() {
            if a == arena {
                return true;
            }
            // SAFETY: arenas in a bucket are live.
            a = unsafe { (*a).bucket_next };
        }
        false
    }

    // ----- debug checks -----------------------------------------------------

    /// Checks that a reused block still holds its freed pattern (a write
    /// after free would have changed it).
    #[cfg(feature = "debug")]
    unsafe fn debug_check_freed(&self, pool: *mut Pool, block: *mut u8) {
        // SAFETY: `block` is a whole block of the live `pool`.
        unsafe {
            let block_size = class_size((*pool).class as usize);
            valgrind::make_defined(block, block_size);
            debug::check_freed(block, block_size);
        }
    }

    /// The memcheck pool of this heap (feature `valgrind`), made on first use.
    #[inline(always)]
    fn valgrind_pool(&mut self) -> *const core::ffi::c_void {
        #[cfg(feature = "valgrind")]
        if !self.valgrind_pool {
            self.valgrind_pool = true;
            valgrind::create_pool(core::ptr::from_ref(self).cast());
        }
        core::ptr::from_ref(self).cast()
    }

    #[cfg(feature = "debug")]
    unsafe fn debug_on_alloc_small(&mut self, pool: *mut Pool, block: *mut u8, size: usize) {
        // SAFETY: `block` is a whole block of the live `pool`.
        unsafe {
            let block_size = class_size((*pool).class as usize);
            let index = pool::block_index(pool, block).expect("a block just taken is a block");
            pool::set_live(pool, index, true);
            debug::paint_allocated(block, size, block_size);
        }
    }

    #[cfg(feature = "debug")]
    unsafe fn debug_check_free_small(
        &self,
        pool: *mut Pool,
        block: *mut u8,
        size: usize,
        class: usize,
        check_guard: bool,
    ) {
        let arena_base = pool.cast::<u8>().map_addr(|a| a & !(ARENA_SIZE - 1));
        if !self.arenas().any(|a| arena::base(a) == arena_base) {
            panic!(
                "objheap: free of {block:p} ({size} bytes), which this heap did not allocate (foreign pointer)"
            );
        }
        // SAFETY: the pool lies in one of our arenas; its header is initialised
        // if it was ever used, and zero (used == 0) if not.
        unsafe {
            if (*pool).used == 0 {
                panic!(
                    "objheap: free of {block:p} ({size} bytes) in an empty pool (double free or foreign pointer)"
                );
            }
            let pool_class = (*pool).class as usize;
            if pool_class != class {
                panic!(
                    "objheap: the block at {block:p} was freed with size {size} ({}-byte class), but it is a {}-byte block",
                    class_size(class),
                    class_size(pool_class)
                );
            }
            let Some(index) = pool::block_index(pool, block) else {
                panic!(
                    "objheap: free of {block:p}, which is not the start of a {}-byte block of this heap",
                    class_size(class)
                );
            };
            if !pool::set_live(pool, index, false) {
                panic!(
                    "objheap: double free of the {}-byte block at {block:p}",
                    class_size(class)
                );
            }
            if check_guard {
                debug::check_guard(block, size, class_size(class));
            }
        }
    }
}

/// The heap's own pointer to `block`, from the caller's copy.
///
/// A caller's pointer may carry narrower provenance than the heap's (a
/// `Box` of 8 bytes covers only those 8), yet freeing reads the pool header
/// and guard bytes around the block. Arenas and large blocks expose their
/// provenance when they are created (`os.rs`, `large.rs`), so the address
/// alone recovers a pointer valid for the whole arena or large block. In
/// compiled code this is the identity.
#[inline(always)]
pub(crate) fn reclaim(block: *mut u8) -> *mut u8 {
    ptr::with_exposed_provenance_mut(block.addr())
}

impl Drop for HeapCore {
    fn drop(&mut self) {
        // Live blocks die with the heap: memcheck forgets them with the pool.
        #[cfg(feature = "valgrind")]
        if self.valgrind_pool {
            valgrind::destroy_pool(core::ptr::from_ref(self).cast());
        }
        while !self.large.is_null() {
            let header = self.large;
            // SAFETY: every large block dies with its heap; nobody may use it now.
            unsafe { large::free(&mut self.large, header) };
        }
        let mut arena = self.all_arenas;
        while !arena.is_null() {
            // SAFETY: every arena dies with its heap; read the link before unmapping.
            unsafe {
                let next = (*arena).all_next;
                os::unmap_arena(NonNull::new_unchecked(arena::base(arena)));
                arena = next;
            }
        }
    }
}

/// Writes `size` zero bytes at `p`. The sizes of small objects (16 to 64
/// bytes) take two to four 16-byte stores, overlapping where `size` is not
/// a multiple of 16, instead of a call of `memset`.
///
/// # Safety
/// `p` is valid for `size` bytes of writes.
#[inline(always)]
unsafe fn zero(p: *mut u8, size: usize) {
    const Z: [u8; 16] = [0; 16];
    // SAFETY: every store lies within `p..p + size` (the caller's promise),
    // and together they cover it: for 16..=32 bytes, `0..16` and
    // `size - 16..size`; for 33..=64, `0..32` and `size - 32..size`.
    unsafe {
        match size {
            16..=32 => {
                p.cast::<[u8; 16]>().write_unaligned(Z);
                p.add(size - 16).cast::<[u8; 16]>().write_unaligned(Z);
            }
            33..=64 => {
                p.cast::<[u8; 16]>().write_unaligned(Z);
                p.add(16).cast::<[u8; 16]>().write_unaligned(Z);
                p.add(size - 32).cast::<[u8; 16]>().write_unaligned(Z);
                p.add(size - 16).cast::<[u8; 16]>().write_unaligned(Z);
            }
            _ => p.write_bytes(0, size),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::zero;

    #[test]
    fn zero_writes_exactly_the_bytes_asked_for() {
        for size in 0..=80 {
            let mut buf = [0xA5u8; 96];
            // SAFETY: `size + 8 <= 96` bytes of `buf` are writable from offset 8.
            unsafe { zero(buf.as_mut_ptr().add(8), size) };
            assert!(buf[..8].iter().all(|&b| b == 0xA5), "before, size {size}");
            assert!(
                buf[8..8 + size].iter().all(|&b| b == 0),
                "inside, size {size}"
            );
            assert!(
                buf[8 + size..].iter().all(|&b| b == 0xA5),
                "after, size {size}"
            );
        }
    }
}
