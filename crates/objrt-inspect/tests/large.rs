//! A generated snapshot of 200,000 objects (a chain of 100,000 and a tree
//! of 100,000): `retainers` and `path` finish without overflowing the stack
//! (every walk is iterative) and give the expected figures. Nothing is
//! timed.

mod common;

use objrt_inspect::Snapshot;
use objrt_inspect::dominators::retention;
use objrt_inspect::path::{render_path, shortest_retainer_path};
use objrt_inspect::retainers::render_retainers;

const CHAIN: u64 = 100_000;
const TREE: u64 = 100_000;
const TREE_BASE_ID: u64 = 1_000_000_000;

#[test]
fn a_long_chain_and_a_big_tree() {
    let snapshot = Snapshot::from_json(&common::chain_and_tree(CHAIN, TREE)).unwrap();
    assert_eq!(snapshot.objects.len(), 200_000);

    let retention = retention(&snapshot);
    let head = snapshot.index_of(1).unwrap();
    assert_eq!(retention.retained_objects[head], Some(CHAIN));
    assert_eq!(retention.retained_bytes[head], Some(32 * CHAIN));
    // Link i keeps the rest of the chain.
    let middle = snapshot.index_of(CHAIN / 2 + 1).unwrap();
    assert_eq!(retention.retained_objects[middle], Some(CHAIN / 2));
    let root = snapshot.index_of(TREE_BASE_ID).unwrap();
    assert_eq!(retention.retained_objects[root], Some(TREE));
    // Node 1's subtree: 1, 3, 4, 7..10, ... below 100,000.
    let left = snapshot.index_of(TREE_BASE_ID + 1).unwrap();
    let left_subtree = subtree_size(1, TREE);
    assert_eq!(retention.retained_objects[left], Some(left_subtree));

    let report = render_retainers(&snapshot, 3);
    assert!(report.contains("| 0x1 "), "{report}");
    assert!(report.contains("reachable from no root"));

    // The last link: 99,999 hops from the head.
    let last = snapshot.index_of(CHAIN).unwrap();
    let (from, hops) = shortest_retainer_path(&snapshot, last).unwrap();
    assert_eq!((from, hops.len()), (head, CHAIN as usize - 1));
    let text = render_path(&snapshot, last);
    assert_eq!(text.lines().count(), CHAIN as usize);
    assert!(text.ends_with(&format!("  .next [attribute] -> {CHAIN:#x} (Link)\n")));

    // The tree's last node: depth floor(log2(100,000)) = 16.
    let leaf = snapshot.index_of(TREE_BASE_ID + TREE - 1).unwrap();
    let (_, hops) = shortest_retainer_path(&snapshot, leaf).unwrap();
    assert_eq!(hops.len(), 16);
}

/// The nodes of the subtree of heap-ordered binary tree node `node` among
/// the first `size`.
fn subtree_size(node: u64, size: u64) -> u64 {
    let mut count = 0;
    let mut level = (node, node);
    while level.0 < size {
        count += level.1.min(size - 1) - level.0 + 1;
        level = (2 * level.0 + 1, 2 * level.1 + 2);
    }
    count
}
