//! The debug checks (feature `debug`, on for these tests): fill patterns,
//! guard bytes, and clear panics on double frees, foreign pointers, wrong
//! sizes and writes after free.

use std::ptr::NonNull;

use objheap::Heap;
use objheap::debug::{FREED_BYTE, FRESH_BYTE, GUARD_BYTE, GUARD_BYTES};

fn bytes(p: NonNull<u8>, n: usize) -> Vec<u8> {
    // SAFETY: callers read within the block (or a freed block of a live
    // pool, whose memory stays mapped while the heap lives).
    unsafe { std::slice::from_raw_parts(p.as_ptr(), n) }.to_vec()
}

#[test]
fn fresh_blocks_are_filled_and_guarded() {
    let mut heap = Heap::new();
    for size in [0, 1, 24, 100, 496, 1000] {
        let p = heap.alloc(size).unwrap();
        let all = bytes(p, size + GUARD_BYTES);
        assert!(all[..size].iter().all(|&b| b == FRESH_BYTE), "size {size}");
        assert!(all[size..].iter().all(|&b| b == GUARD_BYTE), "size {size}");
        // SAFETY: allocated above.
        unsafe { heap.free(p, size) };
    }
}

#[test]
fn zeroed_blocks_are_zero_and_guarded() {
    let mut heap = Heap::new();
    for size in [0, 1, 24, 100, 496, 1000] {
        let p = heap.alloc_zeroed(size).unwrap();
        let all = bytes(p, size + GUARD_BYTES);
        assert!(all[..size].iter().all(|&b| b == 0), "size {size}");
        assert!(all[size..].iter().all(|&b| b == GUARD_BYTE), "size {size}");
        // SAFETY: allocated above.
        unsafe { heap.free(p, size) };
    }
}

#[test]
fn freed_blocks_are_filled_with_the_freed_pattern() {
    let mut heap = Heap::new();
    let keep = heap.alloc(40).unwrap(); // keeps the pool alive
    let p = heap.alloc(40).unwrap();
    // SAFETY: allocated above.
    unsafe { heap.free(p, 40) };
    let block = bytes(p, 64);
    assert!(block[8..].iter().all(|&b| b == FREED_BYTE), "{block:x?}");
    // SAFETY: allocated above.
    unsafe { heap.free(keep, 40) };
}

#[test]
#[should_panic(expected = "double free of the 64-byte block")]
fn a_double_free_panics() {
    let mut heap = Heap::new();
    let _keep = heap.alloc(40).unwrap();
    let p = heap.alloc(40).unwrap();
    // SAFETY: deliberately wrong: the second free must be caught.
    unsafe {
        heap.free(p, 40);
        heap.free(p, 40);
    }
}

#[test]
#[should_panic(expected = "which this heap did not allocate (foreign pointer)")]
fn freeing_a_foreign_pointer_panics() {
    let mut heap = Heap::new();
    let _keep = heap.alloc(40).unwrap();
    let mut local = [0u128; 4]; // 16-aligned, like a block
    // SAFETY: deliberately wrong: the foreign pointer must be caught before it is touched.
    unsafe { heap.free(NonNull::from(&mut local).cast(), 40) };
}

#[test]
#[should_panic(expected = "which is not a live block of this heap")]
fn freeing_a_foreign_large_pointer_panics() {
    let mut heap = Heap::new();
    let mut local = vec![0u8; 4096];
    // SAFETY: deliberately wrong: the pointer is checked against the heap's list first.
    unsafe { heap.free(NonNull::new(local.as_mut_ptr().add(32)).unwrap(), 1000) };
}

#[test]
#[should_panic(expected = "buffer overflow: byte 0 past the end of the 40-byte block")]
fn writing_past_the_end_panics_on_free() {
    let mut heap = Heap::new();
    let p = heap.alloc(40).unwrap();
    // SAFETY: deliberately one byte too far, into the guard (still inside the block).
    unsafe {
        p.as_ptr().add(40).write(0);
        heap.free(p, 40);
    }
}

#[test]
#[should_panic(expected = "buffer overflow")]
fn writing_past_the_end_of_a_large_block_panics_on_free() {
    let mut heap = Heap::new();
    let p = heap.alloc(1000).unwrap();
    // SAFETY: deliberately into the guard bytes, which the heap allocated.
    unsafe {
        p.as_ptr().add(1003).write(0);
        heap.free(p, 1000);
    }
}

#[test]
#[should_panic(expected = "was freed with size 100 (128-byte class), but it is a 64-byte block")]
fn freeing_with_the_wrong_size_panics() {
    let mut heap = Heap::new();
    let p = heap.alloc(40).unwrap();
    // SAFETY: deliberately the wrong size.
    unsafe { heap.free(p, 100) };
}

#[test]
#[should_panic(expected = "use after free: byte 20 of the freed 64-byte block")]
fn a_write_after_free_is_caught_when_the_block_is_reused() {
    let mut heap = Heap::new();
    let _keep = heap.alloc(40).unwrap();
    let p = heap.alloc(40).unwrap();
    // SAFETY: deliberately writes to a freed block (its pool stays mapped).
    unsafe {
        heap.free(p, 40);
        p.as_ptr().add(20).write(1);
    }
    let _ = heap.alloc(40);
}

#[test]
fn the_heap_stays_consistent_after_a_caught_misuse() {
    let mut heap = Heap::new();
    let p = heap.alloc(40).unwrap();
    // SAFETY: allocated above.
    unsafe { heap.free(p, 40) };
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: deliberately a double free; the check panics before any change.
        unsafe { heap.free(p, 40) }
    }));
    assert!(caught.is_err());
    heap.check().unwrap();
    let q = heap.alloc(40).unwrap();
    assert_eq!(heap.stats().blocks_in_use, 1);
    // SAFETY: allocated above.
    unsafe { heap.free(q, 40) };
}
