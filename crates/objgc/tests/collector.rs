//! The collector over a toy host: nodes with counted references to other
//! nodes, an optional finaliser, and freeing at count zero.

use std::cell::{Cell, RefCell};
use std::ptr::NonNull;

use objgc::{Collector, Gc, GcHost, GcLinks, Phase};

/// A toy object: links first, so a node's address is its links' address.
#[repr(C)]
struct Node {
    links: GcLinks,
    refcount: Cell<usize>,
    /// Counted references to other nodes.
    children: RefCell<Vec<Gc>>,
    /// A finaliser stores a reference to the node in `World::saved` (resurrection).
    resurrects: bool,
    finalized: Cell<usize>,
}

struct World {
    gc: Collector,
    live: Cell<usize>,
    freed: Cell<usize>,
    saved: RefCell<Vec<Gc>>,
    /// `traverse` panics after this many more calls (none: never).
    traversals_before_panic: Cell<Option<usize>>,
}

fn node(o: Gc) -> &'static Node {
    // SAFETY: every Gc in these tests is the first field of a live Node.
    unsafe { o.cast::<Node>().as_ref() }
}

impl World {
    fn new() -> Self {
        Self {
            gc: Collector::new(),
            live: Cell::new(0),
            freed: Cell::new(0),
            saved: RefCell::new(Vec::new()),
            traversals_before_panic: Cell::new(None),
        }
    }

    /// A new node with one reference (the caller's).
    fn alloc(&self, resurrects: bool) -> Gc {
        let n = Box::new(Node {
            links: GcLinks::new(),
            refcount: Cell::new(1),
            children: RefCell::new(Vec::new()),
            resurrects,
            finalized: Cell::new(0),
        });
        let o = NonNull::from(Box::leak(n)).cast::<GcLinks>();
        // SAFETY: a new, untracked node that lives until freed below.
        unsafe { self.gc.track(o) };
        self.live.set(self.live.get() + 1);
        o
    }

    /// `from.children.append(to)` (a new counted reference).
    fn link(&self, from: Gc, to: Gc) {
        self.incref(to);
        node(from).children.borrow_mut().push(to);
    }

    fn free(&self, o: Gc) {
        // Iterative: a freed node's children may reach zero too.
        let mut stack = vec![o];
        while let Some(o) = stack.pop() {
            // SAFETY: the node is live and tracked (or already untracked).
            unsafe { self.gc.untrack(o) };
            for c in node(o).children.take() {
                let n = node(c);
                n.refcount.set(n.refcount.get() - 1);
                if n.refcount.get() == 0 {
                    stack.push(c);
                }
            }
            self.live.set(self.live.get() - 1);
            self.freed.set(self.freed.get() + 1);
            // SAFETY: made by Box::leak in `alloc`; nothing refers to it now.
            drop(unsafe { Box::from_raw(o.cast::<Node>().as_ptr()) });
        }
    }
}

impl Drop for World {
    /// Frees what a test left as garbage, and checks nothing else is left.
    fn drop(&mut self) {
        self.gc.collect(&*self, 2);
        if !std::thread::panicking() {
            assert_eq!(self.live.get(), 0, "a test leaked nodes");
        }
    }
}

// SAFETY: a node's count is its count; `traverse` reports its children,
// which are live nodes (a node holds a count on each); `decref` untracks
// before freeing (`World::free`); all on the test's thread.
unsafe impl GcHost for World {
    fn refcount(&self, o: Gc) -> usize {
        node(o).refcount.get()
    }
    fn traverse(&self, o: Gc, mut visit: impl FnMut(Gc)) {
        if let Some(n) = self.traversals_before_panic.get() {
            assert!(n > 0, "a traversal fails");
            self.traversals_before_panic.set(Some(n - 1));
        }
        for &c in node(o).children.borrow().iter() {
            visit(c);
        }
    }
    fn incref(&self, o: Gc) {
        node(o).refcount.set(node(o).refcount.get() + 1);
    }
    fn decref(&self, o: Gc) {
        let n = node(o);
        n.refcount.set(n.refcount.get() - 1);
        if n.refcount.get() == 0 {
            self.free(o);
        }
    }
    fn finalize(&self, o: Gc) -> bool {
        let n = node(o);
        if n.finalized.get() == 0 {
            n.finalized.set(1);
            if n.resurrects {
                self.incref(o);
                self.saved.borrow_mut().push(o);
            }
        } else {
            n.finalized.set(n.finalized.get() + 1);
        }
        true
    }
    fn clear(&self, o: Gc) {
        for c in node(o).children.take() {
            self.decref(c);
        }
    }
}

/// Makes `pairs` unreachable 2-cycles.
fn garbage_pairs(w: &World, pairs: usize) {
    for _ in 0..pairs {
        let (a, b) = (w.alloc(false), w.alloc(false));
        w.link(a, b);
        w.link(b, a);
        w.decref(a);
        w.decref(b);
    }
}

#[test]
fn unreachable_cycles_are_freed_and_counted() {
    let w = World::new();
    w.gc.set_enabled(false);
    garbage_pairs(&w, 500);
    assert_eq!(w.live.get(), 1000, "refcounting alone cannot free cycles");
    assert_eq!(w.gc.collect(&w, 2), 1000);
    assert_eq!(w.live.get(), 0);
    assert_eq!(w.gc.stats()[2].collected, 1000);
    assert_eq!(w.gc.stats()[2].collections, 1);
    assert_eq!(w.gc.tracked(), [0, 0, 0]);
}

#[test]
fn nothing_reachable_is_freed() {
    let w = World::new();
    w.gc.set_enabled(false);
    let root = w.alloc(false);
    // root -> a <-> b, and c -> root (a cycle through the root, held from outside)
    let (a, b, c) = (w.alloc(false), w.alloc(false), w.alloc(false));
    w.link(root, a);
    w.link(a, b);
    w.link(b, a);
    w.link(c, root);
    w.link(root, c);
    for o in [a, b, c] {
        w.decref(o);
    }
    assert_eq!(w.gc.collect(&w, 0), 0);
    assert_eq!(w.live.get(), 4);
    assert_eq!(w.gc.tracked(), [0, 4, 0], "survivors move up a generation");
    assert_eq!(w.gc.collect(&w, 2), 0);
    assert_eq!(w.gc.tracked(), [0, 0, 4]);
    w.decref(root); // now it is all garbage
    assert_eq!(w.gc.collect(&w, 2), 4);
    assert_eq!(w.live.get(), 0);
}

#[test]
fn a_young_collection_leaves_older_generations_alone() {
    let w = World::new();
    w.gc.set_enabled(false);
    garbage_pairs(&w, 10);
    w.gc.collect(&w, 0); // frees them
    let old = w.alloc(false);
    w.gc.collect(&w, 1); // `old` reaches generation 2
    garbage_pairs(&w, 3);
    assert_eq!(w.gc.collect(&w, 0), 6);
    assert_eq!(w.gc.tracked(), [0, 0, 1]);
    w.decref(old);
}

#[test]
fn finalisers_run_once_and_resurrected_objects_stay_intact() {
    let w = World::new();
    w.gc.set_enabled(false);
    let a = w.alloc(true);
    let b = w.alloc(false);
    w.link(a, b);
    w.link(b, a);
    w.decref(a);
    w.decref(b);
    let found = w.gc.collect(&w, 2);
    assert_eq!(found, 2, "both were unreachable when found");
    assert_eq!(w.live.get(), 2, "a resurrected itself, and it reaches b");
    assert_eq!(node(a).finalized.get(), 1);
    assert_eq!(node(a).children.borrow().as_slice(), &[b], "not cleared");
    // Drop the saved reference: garbage again, but the finaliser does not run twice.
    let saved = w.saved.take();
    for o in saved {
        w.decref(o);
    }
    assert_eq!(w.gc.collect(&w, 2), 2);
    assert_eq!(w.live.get(), 0);
}

#[test]
fn collection_is_iterative_over_long_chains() {
    let w = World::new();
    w.gc.set_enabled(false);
    let n = if cfg!(miri) { 300 } else { 1_000_000 };
    let first = w.alloc(false);
    let mut prev = first;
    for _ in 1..n {
        let next = w.alloc(false);
        w.link(prev, next);
        if prev != first {
            w.decref(prev);
        }
        prev = next;
    }
    w.link(prev, first); // close the ring
    w.decref(prev);
    w.decref(first);
    assert_eq!(w.gc.collect(&w, 2), n);
    assert_eq!(w.live.get(), 0);
}

#[test]
fn generation_zero_is_collected_automatically_past_its_threshold() {
    let w = World::new();
    w.gc.set_thresholds([100, 10, 10]);
    assert_eq!(w.gc.due(), None);
    let mut found = 0;
    for _ in 0..60 {
        garbage_pairs(&w, 1);
        found += w.gc.maybe_collect(&w).unwrap_or(0);
    }
    assert!(found >= 100, "collections ran and freed cycles ({found})");
    assert!(
        w.live.get() <= 102,
        "live objects stay near the threshold ({})",
        w.live.get()
    );
    w.gc.set_enabled(false);
    garbage_pairs(&w, 100);
    assert_eq!(w.gc.due(), None, "disabled: nothing is due");
}

#[test]
fn full_collections_wait_for_enough_new_long_lived_objects() {
    let w = World::new();
    w.gc.set_thresholds([1, 1, 1]);
    let keep: Vec<Gc> = (0..100).map(|_| w.alloc(false)).collect();
    w.gc.collect(&w, 2); // 100 long-lived objects
    // Generation 2 is over its threshold count, but no new long-lived objects pend.
    for _ in 0..3 {
        w.gc.collect(&w, 1);
    }
    let young = [w.alloc(false), w.alloc(false)];
    assert_eq!(w.gc.counts()[2], 3, "over its threshold of 1");
    assert_eq!(
        w.gc.due(),
        Some(0),
        "not 2: no new long-lived objects pend (0 <= 100 / 4)"
    );
    for o in keep.into_iter().chain(young) {
        w.decref(o);
    }
}

#[test]
fn callbacks_see_the_start_and_end_of_each_collection() {
    use std::rc::Rc;
    let w = World::new();
    let seen: Rc<RefCell<Vec<(Phase, usize, usize)>>> = Rc::default();
    let log = Rc::clone(&seen);
    w.gc.set_callback(Some(Box::new(move |phase, g, stats| {
        log.borrow_mut().push((phase, g, stats.collected))
    })));
    garbage_pairs(&w, 2);
    w.gc.collect(&w, 1);
    assert_eq!(
        seen.borrow().as_slice(),
        &[(Phase::Start, 1, 0), (Phase::Stop, 1, 4)]
    );
}

/// A traversal that panics in the middle of a collection (a host's bug, or
/// its way of failing) leaves no tag behind: the lists stay sound, and the
/// next collection finds the same garbage and frees it.
#[test]
fn a_traversal_that_panics_leaves_the_lists_sound() {
    let w = World::new();
    w.gc.set_enabled(false);
    let live_pair = || {
        let (keep, other) = (w.alloc(false), w.alloc(false));
        w.link(keep, other);
        w.decref(other);
        keep
    };
    let mut keep = live_pair();
    garbage_pairs(&w, 50);
    // Phase 2 traverses each of the 102 objects once, phase 3 the live ones:
    // failing at 40, 101 and 103 interrupts phase 2 early, at its end, and
    // phase 3.
    for fail_after in [40, 101, 103] {
        w.traversals_before_panic.set(Some(fail_after));
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| w.gc.collect(&w, 2)));
        assert!(r.is_err(), "the traversal panicked through the collection");
        w.traversals_before_panic.set(None);
        assert_eq!(w.live.get(), 102, "nothing was freed");
        assert_eq!(
            w.gc.tracked().iter().sum::<usize>(),
            102,
            "nothing was lost"
        );
        // Freeing unlinks through `prev`: a tag left there would corrupt memory.
        w.decref(keep);
        assert_eq!(w.live.get(), 100);
        keep = live_pair();
    }
    assert_eq!(w.gc.collect(&w, 2), 100);
    assert_eq!(w.live.get(), 2);
    w.decref(keep);
    assert_eq!(w.live.get(), 0);
    assert_eq!(w.gc.tracked(), [0, 0, 0]);
}

/// `freeze` moves everything out of the collector's sight (CPython's
/// permanent generation): garbage frozen with it is not found until
/// `unfreeze`; objects made afterwards are collected as usual.
#[test]
fn frozen_objects_are_not_examined_until_unfrozen() {
    let w = World::new();
    w.gc.set_enabled(false);
    garbage_pairs(&w, 10);
    let kept = w.alloc(false);
    w.gc.freeze();
    assert_eq!(w.gc.freeze_count(), 21);
    assert_eq!(w.gc.tracked(), [0, 0, 0]);
    garbage_pairs(&w, 3);
    assert_eq!(w.gc.collect(&w, 2), 6, "only what came after the freeze");
    assert_eq!(w.live.get(), 21);
    assert!(w.gc.is_tracked(kept));
    assert_eq!(w.gc.objects(None).len(), 21);
    w.gc.unfreeze();
    assert_eq!(w.gc.freeze_count(), 0);
    assert_eq!(w.gc.tracked(), [0, 0, 21]);
    assert_eq!(w.gc.collect(&w, 2), 20);
    w.decref(kept);
    assert_eq!(w.live.get(), 0);
}

/// With save-unreachable on (CPython's DEBUG_SAVEALL), a collection finds
/// the garbage, runs its finalisers and keeps it, uncleared, for the host
/// to look at; releasing it lets the next collection free it.
#[test]
fn saved_garbage_is_kept_until_released() {
    let w = World::new();
    w.gc.set_enabled(false);
    w.gc.set_save_unreachable(true);
    garbage_pairs(&w, 5);
    assert_eq!(w.gc.collect(&w, 2), 10);
    assert_eq!(w.live.get(), 10, "kept, not freed");
    let saved = w.gc.saved();
    assert_eq!(saved.len(), 10);
    for &o in &saved {
        assert_eq!(node(o).children.borrow().len(), 1, "not cleared");
        assert_eq!(node(o).finalized.get(), 1, "finalised once");
        assert_eq!(
            node(o).refcount.get(),
            2,
            "its partner's and the collector's"
        );
    }
    assert_eq!(
        w.gc.collect(&w, 2),
        0,
        "saved objects are not examined again"
    );
    w.gc.set_save_unreachable(false);
    w.gc.release_saved(&w);
    assert!(w.gc.saved().is_empty());
    assert_eq!(w.live.get(), 10, "still a cycle each");
    assert_eq!(w.gc.collect(&w, 2), 10);
    assert_eq!(w.live.get(), 0);
}
