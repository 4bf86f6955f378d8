//! Memory footprint at the 1M-live-blocks point: objheap's bytes reserved
//! from the OS against the bytes of the live blocks, after building 1,000,000
//! blocks of random sizes (16..=512) and churning 2,000,000 of them.
//!
//! `cargo run --release -p bench --bin footprint`

use bench::{LiveSet, ObjHeap};

fn main() {
    let mut heap = ObjHeap::default();
    let mut live = LiveSet::new(&mut heap, 1_000_000, 11);
    let report = |when: &str, heap: &ObjHeap, live: &LiveSet| {
        let s = heap.0.stats();
        println!(
            "{when}: {} blocks, requested {} B, in blocks {} B, reserved {} B; reserved/in-use = {:.3}, reserved/requested = {:.3}",
            s.blocks_in_use,
            live.requested_bytes(),
            s.bytes_in_use,
            s.bytes_reserved,
            s.bytes_reserved as f64 / s.bytes_in_use as f64,
            s.bytes_reserved as f64 / live.requested_bytes() as f64,
        );
    };
    report("after 1M allocations", &heap, &live);
    live.churn(&mut heap, 2_000_000);
    report("after 2M churn steps ", &heap, &live);
    live.free_all(&mut heap);
    let s = heap.0.stats();
    println!(
        "after freeing all   : {} blocks, reserved {} B ({} arenas)",
        s.blocks_in_use, s.bytes_reserved, s.arenas
    );
}
