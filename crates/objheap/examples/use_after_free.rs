//! Deliberately reads a pooled block after freeing it. Built with the
//! `valgrind` feature and run under memcheck (`ci/valgrind.sh`), it must be
//! reported as "Invalid read ... inside a block of size 48 free'd", exactly
//! as for a block from malloc.

fn main() {
    let mut heap = objheap::Heap::new();
    let keep = heap.alloc(48).expect("memory"); // keeps the pool alive
    let block = heap.alloc(48).expect("memory");
    // SAFETY: 48 bytes were allocated.
    unsafe { block.as_ptr().write_bytes(1, 48) };
    // SAFETY: allocated above with this size.
    unsafe { heap.free(block, 48) };
    // SAFETY: none — this read is the bug valgrind must report. The memory
    // stays mapped, so without valgrind it reads a stale byte.
    let stale = unsafe { block.as_ptr().add(40).read_volatile() };
    println!("read {stale:#04x} from a freed block");
    // SAFETY: allocated above with this size.
    unsafe { heap.free(keep, 48) };
}
