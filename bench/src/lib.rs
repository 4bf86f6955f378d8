//! Shared pieces of the benchmarks in `benches/`: the allocators compared
//! side by side, and deterministic workloads for them.
#![deny(unsafe_op_in_unsafe_fn)]

pub mod c_abi;
pub mod cpython;
pub mod objrt;
pub mod peers;

use std::alloc::{GlobalAlloc, Layout, System};
use std::ptr::NonNull;

/// An allocator under measurement: objheap, mimalloc or the system's.
pub trait BlockAllocator {
    /// Name used in benchmark ids.
    const NAME: &'static str;
    /// Allocates `size` bytes, 16-aligned; panics when out of memory.
    fn alloc(&mut self, size: usize) -> NonNull<u8>;
    /// Frees a block.
    ///
    /// # Safety
    /// `block` came from `self.alloc(size)` and is not used again.
    unsafe fn free(&mut self, block: NonNull<u8>, size: usize);
}

/// objheap's pool allocator (release build: no debug checks).
#[derive(Default)]
pub struct ObjHeap(pub objheap::Heap);

impl BlockAllocator for ObjHeap {
    const NAME: &'static str = "objheap";
    #[inline]
    fn alloc(&mut self, size: usize) -> NonNull<u8> {
        self.0.alloc(size).expect("objheap: out of memory")
    }
    #[inline]
    unsafe fn free(&mut self, block: NonNull<u8>, size: usize) {
        // SAFETY: forwarded from the caller.
        unsafe { self.0.free(block, size) }
    }
}

/// A `GlobalAlloc` used as a block allocator, with 16-byte alignment.
pub struct Global<A>(pub A);

/// mimalloc, through its `GlobalAlloc` implementation.
pub type MiMalloc = Global<mimalloc::MiMalloc>;
/// The system allocator (glibc malloc on this machine).
pub type SystemMalloc = Global<System>;

fn layout(size: usize) -> Layout {
    Layout::from_size_align(size.max(1), 16).expect("a valid layout")
}

macro_rules! global_block_allocator {
    ($ty:ty, $value:expr, $name:literal) => {
        impl Default for Global<$ty> {
            fn default() -> Self {
                Self($value)
            }
        }

        impl BlockAllocator for Global<$ty> {
            const NAME: &'static str = $name;
            #[inline]
            fn alloc(&mut self, size: usize) -> NonNull<u8> {
                // SAFETY: the layout has a non-zero size.
                NonNull::new(unsafe { self.0.alloc(layout(size)) }).expect("out of memory")
            }
            #[inline]
            unsafe fn free(&mut self, block: NonNull<u8>, size: usize) {
                // SAFETY: the caller guarantees the block came from `alloc(size)`.
                unsafe { self.0.dealloc(block.as_ptr(), layout(size)) }
            }
        }
    };
}
global_block_allocator!(mimalloc::MiMalloc, mimalloc::MiMalloc, "mimalloc");
global_block_allocator!(System, System, "glibc");

/// A small deterministic generator (xorshift64*), so every allocator sees
/// the same sequence.
pub struct Rng(u64);

impl Rng {
    /// A generator with a fixed, non-zero seed.
    pub fn new(seed: u64) -> Self {
        Self(seed | 1)
    }
    /// The next value.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// A value in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as usize
    }
}

/// A set of live blocks that a workload frees and replaces at random.
pub struct LiveSet {
    blocks: Vec<(NonNull<u8>, usize)>,
    rng: Rng,
}

impl LiveSet {
    /// Allocates `n` blocks of random sizes in 16..=512 bytes.
    pub fn new<A: BlockAllocator>(heap: &mut A, n: usize, seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let blocks = (0..n)
            .map(|_| {
                let size = rng.range(16, 512);
                (heap.alloc(size), size)
            })
            .collect();
        Self { blocks, rng }
    }

    /// Frees `steps` random blocks, each replaced by a new one of random size.
    pub fn churn<A: BlockAllocator>(&mut self, heap: &mut A, steps: usize) {
        for _ in 0..steps {
            let i = self.rng.range(0, self.blocks.len() - 1);
            let (old, old_size) = self.blocks[i];
            // SAFETY: every block in the set is live and freed exactly once.
            unsafe { heap.free(old, old_size) };
            let size = self.rng.range(16, 512);
            self.blocks[i] = (heap.alloc(size), size);
        }
    }

    /// Bytes requested by the live blocks.
    pub fn requested_bytes(&self) -> usize {
        self.blocks.iter().map(|&(_, s)| s).sum()
    }

    /// Frees every block.
    pub fn free_all<A: BlockAllocator>(self, heap: &mut A) {
        for (block, size) in self.blocks {
            // SAFETY: every block in the set is live and freed exactly once.
            unsafe { heap.free(block, size) };
        }
    }
}
