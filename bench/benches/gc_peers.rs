//! The Rust cycle collectors gcmodule 0.3.3, dumpster 2.1.0, rust-cc 0.6.2 and
//! bacon_rajan_cc 0.4.0 on the graphs of the `gc/*` workloads of
//! `object_model.rs`, under the same group names, so that
//! `gc/<workload>/<crate>` sits beside `gc/<workload>/cpython` and
//! `gc/<workload>/objrt`. The graphs and the way each crate collects are
//! described in `bench::peers`. Every group declares the number of objects
//! in its graph as its throughput, so criterion's per-element figure is per
//! object.
//!
//! - `gc/collect_1m_2cycles`: a full collection after dropping 1,000,000
//!   nodes in 500,000 2-cycles (built untimed, automatic collection off).
//! - `gc/collect_1m_reachable`: a full collection with 1,000,000 nodes in
//!   500,000 2-cycles, the first node of each held by a `Vec`; nothing is
//!   freed. The graph is built afresh, untimed, before each timed
//!   collection: dumpster and bacon_rajan_cc only examine what was touched
//!   since their last collection (see below), and building touches every
//!   pair, so this is the collection that examines the whole graph. (For
//!   gcmodule, like for CPython and objrt, any full collection does.)
//! - `gc/collect_1m_reachable_untouched`: the same graph, built once and
//!   collected once untimed, then collected again and again: the steady
//!   state of a long-lived graph. gcmodule scans it all each time; dumpster
//!   and bacon_rajan_cc find nothing to examine. This group has no objrt or
//!   CPython twin (their full collections always scan everything, so their
//!   `gc/collect_1m_reachable` rows already are their steady state).
//! - `gc/tree_parent_build_drop`: build a complete binary tree of depth 16
//!   (131,071 nodes, children pointing at their parent), drop the root,
//!   collect; all timed. Automatic collection is left on where the crate
//!   has one (dumpster), as object_model.rs does for CPython and objrt.
//!
//! Before timing, `bench::peers::check` runs each workload once per crate at
//! full size and asserts that every collection frees exactly the garbage
//! (counted by the nodes' `Drop`), so a collector that does nothing cannot
//! pass for a fast one.
//!
//! Measurement times are shorter than object_model.rs's (2 s instead of
//! 3-5 s) so that the whole file runs in under 2 minutes on 2 cores.
//!
//! Run with `cargo bench -p bench --bench gc_peers`, or `-- --quick` for a
//! smoke run.

use std::hint::black_box;
use std::time::Duration;

use bench::peers::{self, BaconRajan, Dumpster, GcModule, Peer, RustCc};
use criterion::measurement::WallTime;
use criterion::{
    BatchSize, BenchmarkGroup, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};

/// Objects in the graphs of `gc/collect_1m_*`.
const GC_OBJECTS: usize = 1_000_000;
/// 2-cycles in those graphs.
const PAIRS: usize = GC_OBJECTS / 2;
/// Depth of the tree of `gc/tree_parent_build_drop` (2^(depth+1) - 1 nodes).
const TREE_DEPTH: u32 = 16;

/// Runs `bench` for each crate, in the same order in every group.
macro_rules! for_each_peer {
    ($bench:ident, $group:expr) => {
        $bench::<GcModule>($group);
        $bench::<Dumpster>($group);
        $bench::<BaconRajan>($group);
        $bench::<RustCc>($group);
    };
}

/// A group like object_model.rs's collector groups: 10 samples, flat
/// sampling, `objects` per iteration.
fn group<'c>(
    c: &'c mut Criterion,
    name: &str,
    measurement: Duration,
    objects: usize,
) -> BenchmarkGroup<'c, WallTime> {
    let mut group = c.benchmark_group(name);
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(measurement);
    group.throughput(Throughput::Elements(objects as u64));
    group
}

/// The one-off full-size check of every crate (see `peers::check`).
fn check(_c: &mut Criterion) {
    peers::check::<GcModule>(PAIRS, TREE_DEPTH);
    peers::check::<Dumpster>(PAIRS, TREE_DEPTH);
    peers::check::<BaconRajan>(PAIRS, TREE_DEPTH);
    peers::check::<RustCc>(PAIRS, TREE_DEPTH);
    println!(
        "gc_peers: gcmodule, dumpster, bacon_rajan_cc and rust-cc each freed exactly the garbage of \
         every workload at full size"
    );
}

fn collect_2cycles<P: Peer>(group: &mut BenchmarkGroup<'_, WallTime>) {
    P::set_automatic_collection(false);
    P::collect();
    group.bench_function(P::NAME, |b| {
        b.iter_batched(
            || P::garbage_pairs::<false>(PAIRS),
            |()| P::collect(),
            BatchSize::PerIteration,
        )
    });
}

fn collect_reachable<P: Peer>(group: &mut BenchmarkGroup<'_, WallTime>) {
    P::set_automatic_collection(false);
    group.bench_function(P::NAME, |b| {
        b.iter_batched(
            || {
                // The previous iteration's graph, released untimed, is
                // garbage now: free it before building the next one.
                P::collect();
                P::live_pairs::<false>(PAIRS)
            },
            |live| {
                P::collect();
                live
            },
            BatchSize::PerIteration,
        )
    });
    P::collect();
}

fn collect_reachable_untouched<P: Peer>(group: &mut BenchmarkGroup<'_, WallTime>) {
    P::set_automatic_collection(false);
    let live = P::live_pairs::<false>(PAIRS);
    P::collect();
    group.bench_function(P::NAME, |b| b.iter(P::collect));
    drop(live);
    P::collect();
}

fn tree_build_drop<P: Peer>(group: &mut BenchmarkGroup<'_, WallTime>) {
    P::set_automatic_collection(true);
    group.bench_function(P::NAME, |b| {
        b.iter(|| {
            drop(black_box(P::tree::<false>(TREE_DEPTH)));
            P::collect();
        })
    });
}

fn gc(c: &mut Criterion) {
    let second = Duration::from_secs(1);
    let mut g = group(c, "gc/collect_1m_2cycles", 2 * second, GC_OBJECTS);
    for_each_peer!(collect_2cycles, &mut g);
    g.finish();

    let mut g = group(c, "gc/collect_1m_reachable", 2 * second, GC_OBJECTS);
    for_each_peer!(collect_reachable, &mut g);
    g.finish();

    let mut g = group(c, "gc/collect_1m_reachable_untouched", second, GC_OBJECTS);
    for_each_peer!(collect_reachable_untouched, &mut g);
    g.finish();

    let nodes = (1usize << (TREE_DEPTH + 1)) - 1;
    let mut g = group(c, "gc/tree_parent_build_drop", 2 * second, nodes);
    for_each_peer!(tree_build_drop, &mut g);
    g.finish();
}

criterion_group!(benches, check, gc);
criterion_main!(benches);
