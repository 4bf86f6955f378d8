//! Random sequences of allocations and frees against a plain model: the
//! heap's statistics match the model, blocks never overlap (each keeps its
//! stamp), and the heap's own validator passes after every sequence.

use std::ptr::NonNull;

use objheap::{Heap, class_size, size_class_of};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Alloc(usize),
    /// Frees the live block at this index (modulo the number live).
    Free(usize),
    /// Frees the block at this index from another thread.
    RemoteFree(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => prop_oneof![0usize..=512, 513usize..=3000].prop_map(Op::Alloc),
        3 => any::<usize>().prop_map(Op::Free),
        1 => any::<usize>().prop_map(Op::RemoteFree),
    ]
}

fn block_bytes(size: usize) -> usize {
    size_class_of(size).map_or(size, class_size)
}

struct Block {
    ptr: NonNull<u8>,
    size: usize,
    stamp: u8,
}

// SAFETY: a block is plain memory handed to exactly one thread to free.
unsafe impl Send for Block {}

impl Block {
    fn check(&self) {
        // SAFETY: the block is live with `size` bytes.
        let bytes = unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.size) };
        assert!(
            bytes.iter().all(|&b| b == self.stamp),
            "block {:p} was overwritten",
            self.ptr
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: if cfg!(miri) { 4 } else { 256 },
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn statistics_match_a_model_and_blocks_never_overlap(ops in proptest::collection::vec(op(), 1..200)) {
        let mut heap = Heap::new();
        let mut live: Vec<Block> = Vec::new();
        let mut pending_remote = 0usize;
        for (i, op) in ops.into_iter().enumerate() {
            match op {
                Op::Alloc(size) => {
                    let ptr = heap.alloc(size).unwrap();
                    pending_remote = 0; // an allocation drains the remote frees
                    let stamp = i as u8;
                    // SAFETY: `size` bytes were just allocated.
                    unsafe { ptr.as_ptr().write_bytes(stamp, size) };
                    live.push(Block { ptr, size, stamp });
                }
                Op::Free(k) if !live.is_empty() => {
                    let b = live.swap_remove(k % live.len());
                    b.check();
                    // SAFETY: a live block of this heap, freed once.
                    unsafe { heap.free(b.ptr, b.size) };
                }
                Op::RemoteFree(k) if !live.is_empty() => {
                    let b = live.swap_remove(k % live.len());
                    b.check();
                    let remote = heap.remote();
                    std::thread::spawn(move || {
                        let b = b;
                        // SAFETY: a live block of this heap, freed once, while the heap lives.
                        unsafe { remote.free(b.ptr, b.size) }
                    }).join().unwrap();
                    pending_remote += 1;
                }
                Op::Free(_) | Op::RemoteFree(_) => {}
            }
            let stats = heap.stats();
            prop_assert_eq!(stats.blocks_in_use, live.len() + pending_remote);
            if pending_remote == 0 {
                prop_assert_eq!(stats.bytes_in_use, live.iter().map(|b| block_bytes(b.size)).sum::<usize>());
            }
        }
        for b in &live {
            b.check();
        }
        prop_assert_eq!(heap.check(), Ok(()));
        for b in live {
            // SAFETY: each live block freed once.
            unsafe { heap.free(b.ptr, b.size) };
        }
        let _ = heap.alloc(1).unwrap(); // drain the remote frees
        prop_assert_eq!(heap.stats().blocks_in_use, 1);
        prop_assert_eq!(heap.check(), Ok(()));
    }
}
