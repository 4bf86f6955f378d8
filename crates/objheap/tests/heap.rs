//! Behaviour of `Heap`: size classes, pool and arena transitions, release to
//! the OS, the memory limit, large blocks and cross-thread frees. These tests
//! run with the `debug` feature on (see the dev-dependency in Cargo.toml).

use std::ptr::NonNull;

use objheap::{
    ARENA_SIZE, AllocErrorKind, Heap, MAX_POOLED_REQUEST, NUM_SIZE_CLASSES, POOL_SIZE,
    POOLS_PER_ARENA, class_size, debug,
};

/// The largest request served from class `class`.
fn request_for_class(class: usize) -> usize {
    class_size(class) - debug::GUARD_BYTES
}

fn arena_of(p: NonNull<u8>) -> usize {
    p.as_ptr().addr() & !(ARENA_SIZE - 1)
}

fn pool_of(p: NonNull<u8>) -> usize {
    p.as_ptr().addr() & !(POOL_SIZE - 1)
}

/// Fills a block with a byte derived from its address, so overlapping
/// blocks would be caught by `verify`.
fn stamp(p: NonNull<u8>, size: usize) {
    // SAFETY: the block has `size` writable bytes.
    unsafe { p.as_ptr().write_bytes((p.as_ptr().addr() >> 4) as u8, size) };
}

fn verify(p: NonNull<u8>, size: usize) {
    // SAFETY: the block has `size` readable bytes, written by `stamp`.
    let bytes = unsafe { std::slice::from_raw_parts(p.as_ptr(), size) };
    if let Some(i) = bytes
        .iter()
        .position(|&b| b != (p.as_ptr().addr() >> 4) as u8)
    {
        panic!(
            "block {p:p} ({size} bytes) was overwritten at byte {i}: {:x?}",
            &bytes[i..(i + 16).min(size)]
        );
    }
}

fn free_all(heap: &mut Heap, blocks: impl IntoIterator<Item = (NonNull<u8>, usize)>) {
    for (p, size) in blocks {
        verify(p, size);
        // SAFETY: each block came from `heap.alloc(size)` and is freed once.
        unsafe { heap.free(p, size) };
    }
}

#[test]
fn every_size_class_serves_aligned_blocks_and_is_counted() {
    let mut heap = Heap::new();
    let mut blocks = Vec::new();
    for class in 0..NUM_SIZE_CLASSES {
        let size = request_for_class(class);
        let p = heap.alloc(size).unwrap();
        assert_eq!(p.as_ptr().addr() % 16, 0, "class {class}");
        stamp(p, size);
        blocks.push((p, size));
        let stats = heap.stats();
        assert_eq!(stats.classes[class].blocks_in_use, 1);
        assert_eq!(stats.classes[class].pools, 1);
        assert_eq!(stats.classes[class].block_size, class_size(class));
    }
    let stats = heap.stats();
    assert_eq!(stats.blocks_in_use, NUM_SIZE_CLASSES);
    assert_eq!(stats.pools, NUM_SIZE_CLASSES);
    assert_eq!(
        stats.bytes_in_use,
        (0..NUM_SIZE_CLASSES).map(class_size).sum::<usize>()
    );
    assert_eq!(stats.arenas, 1);
    heap.check().unwrap();
    free_all(&mut heap, blocks);
    let stats = heap.stats();
    assert_eq!(
        (stats.blocks_in_use, stats.pools, stats.bytes_in_use),
        (0, 0, 0)
    );
    heap.check().unwrap();
}

#[test]
fn a_pool_goes_empty_partly_used_full_and_back() {
    let mut heap = Heap::new();
    let class = 3;
    let size = request_for_class(class);
    // The first pool of an arena (pool 0) also holds the arena header.
    let first = heap.alloc(size).unwrap();
    stamp(first, size);
    let cap = heap.stats().classes[class].blocks_free + 1;
    let mut blocks = vec![(first, size)];
    // Partly used: one pool, free blocks left.
    assert_eq!(heap.stats().classes[class].pools, 1);
    blocks.extend(alloc_many(&mut heap, cap - 1, size));
    // Full: every block in the same pool, none free.
    let stats = heap.stats().classes[class];
    assert_eq!(
        (stats.pools, stats.blocks_in_use, stats.blocks_free),
        (1, cap, 0)
    );
    assert!(blocks.iter().all(|(p, _)| pool_of(*p) == pool_of(first)));
    heap.check().unwrap();
    // One more needs a second pool.
    let extra = heap.alloc(size).unwrap();
    assert_ne!(pool_of(extra), pool_of(first));
    assert_eq!(heap.stats().classes[class].pools, 2);
    // Full -> partly used: the freed block is the next one handed out (LIFO).
    let (victim, _) = blocks.pop().unwrap();
    // SAFETY: allocated above, freed once.
    unsafe { heap.free(victim, size) };
    heap.check().unwrap();
    let again = heap.alloc(size).unwrap();
    assert_eq!(again, victim);
    stamp(again, size);
    stamp(extra, size);
    blocks.push((again, size));
    blocks.push((extra, size));
    // Back to empty: the pools return to the arena.
    free_all(&mut heap, blocks);
    let stats = heap.stats();
    assert_eq!(
        (stats.pools, stats.classes[class].pools, stats.empty_pools),
        (0, 0, POOLS_PER_ARENA)
    );
    heap.check().unwrap();
}

/// Allocates `n` blocks of `size` and stamps them.
fn alloc_many(heap: &mut Heap, n: usize, size: usize) -> Vec<(NonNull<u8>, usize)> {
    (0..n)
        .map(|_| {
            let p = heap.alloc(size).unwrap();
            stamp(p, size);
            (p, size)
        })
        .collect()
}

/// How many `size`-byte blocks one arena holds, counted on a probe heap.
fn blocks_per_arena(size: usize) -> usize {
    let mut probe = Heap::new();
    let mut blocks = Vec::new();
    while probe.stats().arenas < 2 {
        blocks.push(probe.alloc(size).unwrap());
    }
    for &b in &blocks {
        // SAFETY: each allocated above, freed once.
        unsafe { probe.free(b, size) };
    }
    blocks.len() - 1
}

#[test]
#[cfg_attr(miri, ignore = "maps several arenas; slow under miri")]
fn emptied_arenas_go_back_to_the_os_keeping_one_spare() {
    let size = request_for_class(NUM_SIZE_CLASSES - 1);
    let per_arena = blocks_per_arena(size);
    let mut heap = Heap::new();
    let blocks = alloc_many(&mut heap, 3 * per_arena, size);
    let before = heap.stats();
    assert_eq!(before.arenas, 3);
    assert!(before.bytes_reserved >= 3 * ARENA_SIZE);
    assert_eq!(before.peak_bytes_reserved, before.bytes_reserved);
    heap.check().unwrap();
    free_all(&mut heap, blocks);
    let after = heap.stats();
    assert_eq!(after.arenas, 1, "one spare arena is kept");
    assert_eq!(after.bytes_reserved, ARENA_SIZE, "reserved bytes went down");
    assert_eq!(after.peak_bytes_reserved, before.bytes_reserved);
    heap.check().unwrap();
    // The spare is reused rather than a new arena mapped.
    let block = alloc_many(&mut heap, 1, size);
    assert_eq!(heap.stats().arenas, 1);
    free_all(&mut heap, block);
}

#[test]
#[cfg_attr(miri, ignore = "maps several arenas; slow under miri")]
fn new_pools_come_from_the_fullest_arena() {
    let size = request_for_class(NUM_SIZE_CLASSES - 1);
    let per_arena = blocks_per_arena(size);
    let mut heap = Heap::new();
    let mut blocks = alloc_many(&mut heap, 2 * per_arena, size);
    let arenas: Vec<usize> = {
        let mut a: Vec<usize> = blocks.iter().map(|(p, _)| arena_of(*p)).collect();
        a.dedup();
        a
    };
    assert_eq!(arenas.len(), 2);
    // Empty 40 pools of the first arena and 10 of the second: the second is
    // then the fuller one.
    let pools_to_empty = |arena: usize, count: usize, blocks: &Vec<(NonNull<u8>, usize)>| {
        let mut pools: Vec<usize> = blocks
            .iter()
            .filter(|(p, _)| arena_of(*p) == arena)
            .map(|(p, _)| pool_of(*p))
            .collect();
        pools.dedup();
        pools.into_iter().skip(1).take(count).collect::<Vec<_>>()
    };
    let mut doomed = pools_to_empty(arenas[0], 40, &blocks);
    doomed.extend(pools_to_empty(arenas[1], 10, &blocks));
    let (dead, live): (Vec<_>, Vec<_>) = blocks
        .drain(..)
        .partition(|(p, _)| doomed.contains(&pool_of(*p)));
    free_all(&mut heap, dead);
    heap.check().unwrap();
    assert_eq!(heap.stats().empty_pools, 50);
    // A new pool of another class comes from the fuller arena.
    let other = request_for_class(0);
    let block = alloc_many(&mut heap, 1, other);
    assert_eq!(arena_of(block[0].0), arenas[1]);
    free_all(&mut heap, block);
    free_all(&mut heap, live);
}

#[test]
fn the_memory_limit_refuses_growth_and_the_heap_stays_usable() {
    let mut heap = Heap::new();
    heap.set_memory_limit(Some(ARENA_SIZE));
    // (Under miri this fills a whole arena, which takes a while but is the point.)
    assert_eq!(heap.memory_limit(), Some(ARENA_SIZE));
    let small = heap.alloc(64).unwrap();
    // A large block would take reserved bytes past the limit.
    let err = heap.alloc(4096).unwrap_err();
    assert_eq!(err.size, 4096);
    assert_eq!(
        err.kind,
        AllocErrorKind::LimitExceeded {
            limit: ARENA_SIZE,
            reserved: ARENA_SIZE
        }
    );
    assert!(
        err.to_string().contains("memory limit of 1048576 bytes"),
        "{err}"
    );
    // Filling the one arena works; the next arena is refused.
    let size = request_for_class(NUM_SIZE_CLASSES - 1);
    let mut blocks = vec![(small, 64)];
    let refused = loop {
        match heap.alloc(size) {
            Ok(p) => blocks.push((p, size)),
            Err(e) => break e,
        }
    };
    assert!(matches!(refused.kind, AllocErrorKind::LimitExceeded { .. }));
    let stats = heap.stats();
    assert_eq!((stats.arenas, stats.bytes_reserved), (1, ARENA_SIZE));
    heap.check().unwrap();
    // Still usable: free one, allocate again; lift the limit, grow.
    let (p, s) = blocks.pop().unwrap();
    // SAFETY: allocated above.
    unsafe { heap.free(p, s) };
    blocks.push((heap.alloc(size).unwrap(), size));
    heap.set_memory_limit(None);
    blocks.push((heap.alloc(4096).unwrap(), 4096));
    assert_eq!(heap.stats().large_blocks, 1);
    for (p, s) in blocks {
        // SAFETY: each allocated above, freed once.
        unsafe { heap.free(p, s) };
    }
    heap.check().unwrap();
}

#[test]
fn impossible_sizes_fail_cleanly() {
    let mut heap = Heap::new();
    let err = heap.alloc(usize::MAX).unwrap_err();
    assert_eq!(err.kind, AllocErrorKind::TooLarge);
    let err = heap.alloc(isize::MAX as usize).unwrap_err();
    assert_eq!(err.kind, AllocErrorKind::TooLarge);
    assert_eq!(heap.stats().bytes_reserved, 0);
}

#[test]
fn large_blocks_are_counted_and_released() {
    let mut heap = Heap::new();
    let sizes: &[usize] = if cfg!(miri) {
        &[MAX_POOLED_REQUEST + 1, 4096]
    } else {
        &[MAX_POOLED_REQUEST + 1, 1000, 4096, 100_000, 1 << 20]
    };
    let blocks: Vec<_> = sizes
        .iter()
        .map(|&s| {
            let p = heap.alloc(s).unwrap();
            assert_eq!(p.as_ptr().addr() % 16, 0);
            stamp(p, s);
            (p, s)
        })
        .collect();
    let stats = heap.stats();
    assert_eq!(stats.large_blocks, sizes.len());
    assert_eq!(stats.large_bytes, sizes.iter().sum::<usize>());
    assert_eq!(stats.bytes_in_use, stats.large_bytes);
    assert!(stats.bytes_reserved > stats.large_bytes);
    assert_eq!(stats.arenas, 0);
    heap.check().unwrap();
    free_all(&mut heap, blocks);
    let stats = heap.stats();
    assert_eq!((stats.large_blocks, stats.bytes_reserved), (0, 0));
}

#[test]
fn zeroed_blocks_are_zero() {
    let mut heap = Heap::new();
    let sizes: &[usize] = if cfg!(miri) {
        &[0, 24, 1000]
    } else {
        &[0, 1, 24, 100, 496, 1000, 100_000, 1 << 20]
    };
    for &size in sizes {
        // A block used and freed first, so that its memory is reused.
        let p = heap.alloc(size).unwrap();
        stamp(p, size);
        // SAFETY: allocated above with this size.
        unsafe { heap.free(p, size) };
        let p = heap.alloc_zeroed(size).unwrap();
        // SAFETY: `size` readable bytes.
        let bytes = unsafe { std::slice::from_raw_parts(p.as_ptr(), size) };
        assert!(bytes.iter().all(|&b| b == 0), "size {size}");
        // SAFETY: allocated above with this size.
        unsafe { heap.free(p, size) };
    }
    heap.check().unwrap();
}

/// The process's resident memory in bytes (Linux; 0 elsewhere).
fn resident_bytes() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<usize>().ok())
        .map_or(0, |kib| kib * 1024)
}

#[test]
#[cfg_attr(miri, ignore = "a gigabyte")]
fn a_large_zeroed_block_is_not_touched_until_used() {
    let mut heap = Heap::new();
    let size = 1 << 30;
    let before = resident_bytes();
    let p = heap.alloc_zeroed(size).unwrap();
    for offset in [0, 4096, size / 3, size - 1] {
        // SAFETY: inside the block.
        assert_eq!(unsafe { p.as_ptr().add(offset).read() }, 0);
    }
    // Other tests run beside this one: only a jump near 1 GiB means much.
    let grown = resident_bytes().saturating_sub(before);
    assert!(grown < 512 << 20, "resident memory grew by {grown} bytes");
    // SAFETY: allocated above with this size.
    unsafe { heap.free(p, size) };
}

#[test]
fn sizes_no_heap_could_hold_are_refused_at_once() {
    let mut heap = Heap::new();
    for size in [usize::MAX, usize::MAX - 8, isize::MAX as usize] {
        let e = heap.alloc_zeroed(size).unwrap_err();
        assert_eq!(e.kind, AllocErrorKind::TooLarge, "size {size}");
        assert_eq!(heap.alloc(size).unwrap_err().kind, AllocErrorKind::TooLarge);
    }
    heap.set_memory_limit(Some(64 << 20));
    let e = heap.alloc_zeroed(1 << 40).unwrap_err();
    assert!(matches!(e.kind, AllocErrorKind::LimitExceeded { .. }));
    assert_eq!(heap.stats().bytes_reserved, 0);
}

#[test]
fn dropping_a_heap_with_live_blocks_releases_them() {
    // Miri's leak checker and valgrind would report anything left behind.
    let mut heap = Heap::new();
    for size in [16, 100, 512 - debug::GUARD_BYTES, 600, 70_000] {
        heap.alloc(size).unwrap();
    }
    assert_eq!(heap.stats().blocks_in_use, 5);
    drop(heap);
}

/// A block handed to another thread to free.
#[derive(Clone, Copy)]
struct Handed(NonNull<u8>, usize);
// SAFETY: the block is plain memory; exactly one thread frees it.
unsafe impl Send for Handed {}
// SAFETY: as above.
unsafe impl Sync for Handed {}

#[test]
fn blocks_freed_on_other_threads_come_back_on_the_next_allocation() {
    let mut heap = Heap::new();
    let n = if cfg!(miri) { 40 } else { 4000 };
    let sizes = [24, 200, 700];
    let blocks: Vec<Handed> = (0..n)
        .map(|i| {
            let size = sizes[i % sizes.len()];
            let (p, s) = alloc_many(&mut heap, 1, size)[0];
            Handed(p, s)
        })
        .collect();
    let remote = heap.remote();
    std::thread::scope(|scope| {
        for half in blocks.chunks(n / 2) {
            scope.spawn(move || {
                for &Handed(p, size) in half {
                    verify(p, size);
                    // SAFETY: each block is freed once, by one thread, while the heap lives.
                    unsafe { remote.free(p, size) };
                }
            });
        }
    });
    // Until the owner allocates, the blocks still count as in use.
    assert_eq!(heap.stats().blocks_in_use, n);
    let p = heap.alloc(32).unwrap();
    let stats = heap.stats();
    assert_eq!(stats.blocks_in_use, 1);
    assert_eq!(stats.large_blocks, 0);
    heap.check().unwrap();
    // SAFETY: allocated above.
    unsafe { heap.free(p, 32) };
}

/// The arena map counts each pool's blocks as the statistics do, lists
/// every pool of every arena, and leaves empty pools out.
#[test]
fn the_arena_map_matches_the_statistics() {
    // Enough blocks for several pools of four classes (fewer under miri).
    let n = if cfg!(miri) { 600 } else { 5000 };
    let mut heap = Heap::new();
    let blocks: Vec<_> = (0..n)
        .map(|i| (heap.alloc(16 + (i % 4) * 16).unwrap(), 16 + (i % 4) * 16))
        .collect();
    let map = heap.arena_map();
    let stats = heap.stats();
    assert_eq!(map.len(), stats.arenas);
    assert!(
        map.iter()
            .all(|a| a.pools.len() == objheap::POOLS_PER_ARENA)
    );
    assert!(map.iter().all(|a| a.address % objheap::ARENA_SIZE == 0));
    let pools: Vec<_> = map.iter().flat_map(|a| a.pools.iter().flatten()).collect();
    assert_eq!(pools.len(), stats.pools);
    assert_eq!(pools.iter().map(|p| p.used).sum::<usize>(), n);
    assert_eq!(
        pools.iter().map(|p| p.used * p.block_size).sum::<usize>(),
        stats.bytes_in_use
    );
    assert!(pools.iter().all(|p| p.used <= p.capacity && p.capacity > 0));
    for (p, size) in blocks {
        // SAFETY: allocated above with this size, freed once.
        unsafe { heap.free(p, size) };
    }
    let empty = heap.arena_map();
    assert!(
        empty.iter().all(|a| a.pools.iter().all(Option::is_none)),
        "no pool in use"
    );
}
