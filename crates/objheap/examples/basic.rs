//! Allocates a mix of blocks, frees some from another thread, and prints the
//! heap's statistics: `cargo run -p objheap --example basic`.

use std::ptr::NonNull;

use objheap::Heap;

/// A block sent to another thread to free.
struct Handed(NonNull<u8>, usize);
// SAFETY: the block is plain memory; only the receiving thread frees it.
unsafe impl Send for Handed {}

fn main() {
    let mut heap = Heap::new();
    heap.set_memory_limit(Some(64 << 20));
    let mut blocks: Vec<(NonNull<u8>, usize)> = (0..100_000)
        .map(|i| 16 + (i * 7) % 600)
        .map(|size| (heap.alloc(size).expect("within the limit"), size))
        .collect();
    println!(
        "after 100,000 allocations of 16..616 bytes:\n{}",
        heap.stats()
    );

    let remote = heap.remote();
    let half: Vec<Handed> = blocks.drain(..50_000).map(|(p, s)| Handed(p, s)).collect();
    std::thread::spawn(move || {
        for Handed(p, size) in half {
            // SAFETY: each block was allocated by the heap, which outlives this thread (joined below).
            unsafe { remote.free(p, size) };
        }
    })
    .join()
    .expect("the freeing thread");
    let probe = heap.alloc(8).expect("memory"); // drains the remote frees
    for (p, size) in blocks.drain(..).chain([(probe, 8)]) {
        // SAFETY: allocated above, freed once.
        unsafe { heap.free(p, size) };
    }
    println!(
        "after freeing everything (half of it from another thread):\n{}",
        heap.stats()
    );
}
