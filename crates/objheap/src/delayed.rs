//! Delayed frees: blocks released by threads that do not own the heap.
//!
//! A thread that holds only a [`crate::RemoteFree`] handle cannot touch the
//! heap's pools, so it writes a [`DelayedNode`] into the first 16 bytes of
//! the dead block and pushes it on this list. The owner takes the whole list
//! on its next allocation and frees each block as if it had freed it itself
//! (mimalloc's "delayed free", one list per heap).
//!
//! Protocol (checked by the loom models at the bottom of this file):
//!
//! - **push** (any thread): write the node, then
//!   `loop { node.next = head; cas_release(head -> node) }`.
//!   The release CAS publishes the node's fields with it.
//! - **take_all** (owner only): `swap_acquire(head -> null)`; the acquire
//!   pairs with every push's release, so the owner sees whole nodes.
//!
//! No ABA problem: nobody ever pops a single node. A successful push CAS
//! means `head` was the expected pointer at that instant, and `node.next`
//! was set to exactly that value, so the list stays well formed even if the
//! expected node was taken, reused and pushed again meanwhile.
//!
//! Key invariant: a block is on this list if and only if it was freed
//! remotely and the owner has not yet drained it; until then the heap counts
//! it as in use.

use core::ptr::{self, NonNull};

use crate::sync::{AtomicPtr, Ordering, UnsafeCell};

/// What a remotely freed block holds while it waits for its owner.
pub(crate) struct DelayedNode {
    /// The node pushed before this one.
    next: UnsafeCell<*mut DelayedNode>,
    /// The size the block was allocated with.
    size: UnsafeCell<usize>,
}

#[cfg(not(loom))]
const _: () = assert!(core::mem::size_of::<DelayedNode>() <= crate::size_class::ALIGNMENT);

/// A multi-producer, single-consumer stack of remotely freed blocks.
pub(crate) struct DelayedFreeList {
    head: AtomicPtr<DelayedNode>,
}

impl DelayedFreeList {
    pub(crate) fn new() -> Self {
        Self {
            head: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// Cheap check for the owner's allocation path.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        // Relaxed is enough: a non-empty answer is followed by `take_all`'s acquire.
        self.head.load(Ordering::Relaxed).is_null()
    }

    /// Pushes the block at `block`, allocated with `size` bytes.
    ///
    /// # Safety
    /// `block` is valid for writes of a `DelayedNode` (16 bytes, 16-aligned),
    /// is no longer used by anyone, and is pushed once.
    pub(crate) unsafe fn push(&self, block: NonNull<u8>, size: usize) {
        let node = block.cast::<DelayedNode>().as_ptr();
        // SAFETY: the caller gives us the block's memory to write.
        unsafe {
            node.write(DelayedNode {
                next: UnsafeCell::new(ptr::null_mut()),
                size: UnsafeCell::new(size),
            })
        };
        let mut head = self.head.load(Ordering::Relaxed);
        loop {
            // SAFETY: the node is not yet published, so this thread owns it.
            unsafe { (*node).next.with_mut(|next| *next = head) };
            match self
                .head
                .compare_exchange_weak(head, node, Ordering::Release, Ordering::Relaxed)
            {
                Ok(_) => return,
                Err(seen) => head = seen,
            }
        }
    }

    /// Takes every pushed block, newest first, as `(block, size)` pairs.
    ///
    /// Only the heap's owner calls this (it holds `&mut` to the heap).
    pub(crate) fn take_all(&self) -> TakenBlocks {
        TakenBlocks {
            next: self.head.swap(ptr::null_mut(), Ordering::Acquire),
        }
    }
}

/// The blocks one [`DelayedFreeList::take_all`] took.
pub(crate) struct TakenBlocks {
    next: *mut DelayedNode,
}

impl Iterator for TakenBlocks {
    type Item = (NonNull<u8>, usize);

    fn next(&mut self) -> Option<Self::Item> {
        let node = NonNull::new(self.next)?;
        // SAFETY: the node was published by a push whose release pairs with
        // take_all's acquire, and it is now ours alone.
        let (next, size) = unsafe {
            let node = node.as_ref();
            (node.next.with(|p| *p), node.size.with(|p| *p))
        };
        self.next = next;
        Some((node.cast(), size))
    }
}

#[cfg(all(test, loom))]
mod loom_models {
    //! Run with `RUSTFLAGS="--cfg loom" cargo test -p objheap --release --lib loom`
    //! (see `ci/loom.sh` for the preemption bound).
    use super::*;
    use loom::sync::Arc;
    use loom::thread;

    /// A 16-aligned stand-in for a block.
    #[repr(C, align(16))]
    struct Block([u8; 64]);

    fn block() -> NonNull<u8> {
        NonNull::from(Box::leak(Box::new(Block([0; 64])))).cast()
    }

    fn collect(list: &DelayedFreeList, into: &mut Vec<(usize, usize)>) {
        into.extend(list.take_all().map(|(b, size)| (b.as_ptr().addr(), size)));
    }

    /// A block handed to another thread.
    struct SendBlock(NonNull<u8>);
    // SAFETY: the block is plain memory that only the receiving thread uses.
    unsafe impl Send for SendBlock {}

    /// Two threads push while the owner drains: every block arrives exactly
    /// once, with the size its pusher wrote.
    #[test]
    fn loom_two_pushers_one_draining_owner() {
        loom::model(|| {
            let list = Arc::new(DelayedFreeList::new());
            let blocks: Vec<_> = (0..3).map(|_| block()).collect();
            let addrs: Vec<usize> = blocks.iter().map(|b| b.as_ptr().addr()).collect();
            let threads: Vec<_> = [
                (SendBlock(blocks[0]), 100usize),
                (SendBlock(blocks[1]), 200usize),
            ]
            .into_iter()
            .map(|(block, size)| {
                let list = Arc::clone(&list);
                thread::spawn(move || {
                    let block = block;
                    // SAFETY: each block is pushed once, by this thread only.
                    unsafe { list.push(block.0, size) }
                })
            })
            .collect();
            // SAFETY: the third block is pushed once, by the owner itself.
            unsafe { list.push(blocks[2], 300) };
            let mut seen = Vec::new();
            collect(&list, &mut seen);
            for t in threads {
                t.join().unwrap();
            }
            collect(&list, &mut seen);
            seen.sort();
            let mut expected = vec![(addrs[0], 100), (addrs[1], 200), (addrs[2], 300)];
            expected.sort();
            assert_eq!(seen, expected);
            assert!(list.is_empty());
            for b in blocks {
                // SAFETY: each came from Box::leak above and is no longer used.
                drop(unsafe { Box::from_raw(b.cast::<Block>().as_ptr()) });
            }
        });
    }
}
