//! A correct program that exercises what memcheck must accept: blocks
//! reused after a free (with the debug checks' painting), and heaps dropped
//! while blocks are still live, one after another at the same addresses.
//! `ci/valgrind.sh` runs it under memcheck and expects no error and no leak.

fn main() {
    for round in 0..3 {
        let mut heap = objheap::Heap::new();
        let a = heap.alloc(64).expect("memory");
        // SAFETY: allocated just above with this size.
        unsafe { heap.free(a, 64) };
        let b = heap.alloc(64).expect("memory"); // the same block, reused
        // SAFETY: 64 bytes were allocated.
        unsafe { b.as_ptr().write_bytes(round, 64) };
        let _live = heap.alloc(200).expect("memory");
        let _large = heap.alloc(5000).expect("memory");
        drop(heap); // frees every block, live ones included
    }
    println!("done");
}
