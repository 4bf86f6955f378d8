//! Allocation benchmarks: objheap side by side with mimalloc and the system
//! allocator (glibc), on the same workloads in the same run.
//!
//! - `lifo/<size>`: 1,000 allocations of one size, then their frees in
//!   reverse order (the pattern of temporaries).
//! - `random/16..512`: 1,000 live blocks of random sizes, each step frees a
//!   random one and allocates a new one.
//! - `churn_1m_live`: the same with 1,000,000 live blocks (caches cold).
//!
//! Run with `cargo bench -p bench --bench alloc`; `bench/README.md` has the
//! figures and ratios. The footprint at the 1M-live point is printed by
//! `cargo run --release -p bench --bin footprint`.

use std::hint::black_box;
use std::ptr::NonNull;

use bench::{BlockAllocator, LiveSet, MiMalloc, ObjHeap, SystemMalloc};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const BATCH: usize = 1000;

fn lifo<A: BlockAllocator + Default>(c: &mut Criterion) {
    let mut group = c.benchmark_group("lifo");
    group.throughput(Throughput::Elements(BATCH as u64));
    let mut heap = A::default();
    let mut blocks: Vec<NonNull<u8>> = Vec::with_capacity(BATCH);
    for size in [16, 64, 256, 512] {
        group.bench_function(BenchmarkId::new(A::NAME, size), |b| {
            b.iter(|| {
                for _ in 0..BATCH {
                    blocks.push(heap.alloc(black_box(size)));
                }
                while let Some(p) = blocks.pop() {
                    // SAFETY: allocated above with this size, freed once.
                    unsafe { heap.free(black_box(p), size) };
                }
            })
        });
    }
}

fn random<A: BlockAllocator + Default>(c: &mut Criterion) {
    let mut group = c.benchmark_group("random");
    group.throughput(Throughput::Elements(BATCH as u64));
    let mut heap = A::default();
    let mut live = LiveSet::new(&mut heap, BATCH, 7);
    group.bench_function(BenchmarkId::new(A::NAME, "16..512"), |b| {
        b.iter(|| live.churn(&mut heap, BATCH))
    });
    live.free_all(&mut heap);
}

fn churn_1m<A: BlockAllocator + Default>(c: &mut Criterion) {
    let mut group = c.benchmark_group("churn_1m_live");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(30);
    let mut heap = A::default();
    let mut live = LiveSet::new(&mut heap, 1_000_000, 11);
    group.bench_function(A::NAME, |b| b.iter(|| live.churn(&mut heap, BATCH)));
    live.free_all(&mut heap);
}

fn all(c: &mut Criterion) {
    lifo::<ObjHeap>(c);
    lifo::<MiMalloc>(c);
    lifo::<SystemMalloc>(c);
    random::<ObjHeap>(c);
    random::<MiMalloc>(c);
    random::<SystemMalloc>(c);
    churn_1m::<ObjHeap>(c);
    churn_1m::<MiMalloc>(c);
    churn_1m::<SystemMalloc>(c);
}

criterion_group!(benches, all);
criterion_main!(benches);
