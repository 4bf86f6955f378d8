//! `ObjHeapAlloc` serving a whole program: this test binary (harness
//! included) allocates everything through it.
//!
//! Not run under miri: when a `Box` is deallocated its pointer stays
//! protected for the call, and Stacked Borrows then forbids the allocator to
//! write its free-list link through the arena's own pointer (the same
//! writes `Heap::free` makes, which miri checks in the other test files).

#![cfg(not(miri))]

use std::collections::HashMap;

use objheap::ObjHeapAlloc;

#[global_allocator]
static ALLOC: ObjHeapAlloc = ObjHeapAlloc::new();

/// The tests of this file run one at a time, so that one test's figures are
/// not moved by another's allocations.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[test]
fn a_program_runs_on_objheap() {
    let _serial = serial();
    let before = ALLOC.stats();
    let strings: Vec<String> = (0..10_000).map(|i| format!("object number {i}")).collect();
    let during = ALLOC.stats();
    assert!(
        during.blocks_in_use >= before.blocks_in_use + 10_000,
        "{} -> {}",
        before.blocks_in_use,
        during.blocks_in_use
    );
    assert!(
        strings
            .iter()
            .enumerate()
            .all(|(i, s)| *s == format!("object number {i}"))
    );
    drop(strings);
    assert!(ALLOC.stats().blocks_in_use < during.blocks_in_use - 9_000);
}

#[test]
fn threads_allocate_and_free_each_others_blocks() {
    let _serial = serial();
    let maps: Vec<HashMap<u32, Vec<u8>>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4u32)
            .map(|t| {
                s.spawn(move || {
                    (0..2000u32)
                        .map(|i| (i, vec![t as u8; (i % 700) as usize]))
                        .collect::<HashMap<_, _>>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    // Freed here, on another thread than the one that allocated them.
    for (t, map) in maps.into_iter().enumerate() {
        assert_eq!(map.len(), 2000);
        assert!(map.values().all(|v| v.iter().all(|&b| b == t as u8)));
    }
}

#[test]
fn over_aligned_requests_are_honoured() {
    let _serial = serial();
    #[repr(align(4096))]
    struct Page([u8; 4096]);
    let pages: Vec<Box<Page>> = (0..8).map(|_| Box::new(Page([7; 4096]))).collect();
    assert!(
        pages
            .iter()
            .all(|p| (&**p as *const Page).addr() % 4096 == 0 && p.0[4095] == 7)
    );
}
