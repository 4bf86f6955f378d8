//! The Rust cycle collectors measured beside objgc, on the graphs of the
//! `gc/*` workloads of `benches/object_model.rs`: gcmodule 0.3.3,
//! dumpster 2.1.0 (its single-threaded `unsync` collector),
//! bacon_rajan_cc 0.4.0 and rust-cc 0.6.2 (without its automatic
//! collection and finalisation features). `benches/gc_peers.rs` times them.
//!
//! # The graphs
//!
//! Each crate gets the same two node types, behind its idiomatic shared
//! pointer around a `RefCell` (`Ptr<RefCell<_>>`, with `Ptr` =
//! `gcmodule::Cc`, `dumpster::unsync::Gc` or `bacon_rajan_cc::Cc`); one
//! macro (`graphs!`) writes the builders of all three, so they build the
//! same graphs with the same operations:
//!
//! - `Pair { other: Option<Ptr<RefCell<Pair>>> }`: two of them pointing at
//!   each other make a 2-cycle, like objrt's and CPython's `Node` instances
//!   with an `other` attribute.
//! - `TreeNode { left, right, parent }`, each an `Option<Ptr<RefCell<TreeNode>>>`:
//!   a complete binary tree whose children point back at their parent, like
//!   the `TreeNode` class with `__slots__ = ('left', 'right', 'parent')`.
//!
//! The builders do what the objrt side does (`objrt.rs:GcClasses::pairs`
//! and `GcClasses::tree`): for a pair, make `a` and `b`, link them both
//! ways, keep `a` when the pairs are to stay reachable and drop the local
//! handles; for a tree, recurse on the depth (16 at most), linking each child
//! to its parent and the parent to the child.
//!
//! # How the three collect, and what that means for the workloads
//!
//! - **gcmodule** keeps every `Cc` whose type may hold references in a
//!   thread-local list and, in `collect_thread_cycles`, runs CPython's
//!   algorithm over the whole list (copy counts, subtract internal
//!   references, revive the reachable, free the rest). A collection costs the
//!   size of the heap, as CPython's and objgc's full collections do. It has no
//!   automatic collection. Its `#[derive(Trace)]` cannot be used on these
//!   self-referential types (the derived `is_type_tracked` calls itself for
//!   ever), so `Trace` is written by hand, as its documentation shows.
//! - **dumpster** (`unsync`) remembers in a hash map every allocation whose
//!   count was decremented to a non-zero value ("dirty"); `collect` searches
//!   the graph from those only. It collects automatically by default (when
//!   more `Gc`s were dropped since the last collection than exist);
//!   [`Peer::set_automatic_collection`] switches that off while a workload's
//!   graph is built untimed.
//! - **bacon_rajan_cc** is Bacon and Rajan's synchronous trial deletion: a
//!   decrement to a non-zero count buffers the object as a possible root;
//!   `collect_cycles` trial-deletes from the buffered roots only. It has no
//!   automatic collection.
//! - **rust-cc** also buffers possible roots on decrements to a non-zero
//!   count and trial-deletes from them in `collect_cycles`, with its own
//!   list and counting layout; built here without its `auto-collect`
//!   feature, so it collects only when asked.
//!
//! So dumpster's, bacon_rajan_cc's and rust-cc's collections cost the part of the graph
//! reachable from the candidates, not the heap: a collection right after a
//! graph is built (its builders drop handles, which makes candidates of
//! every pair) examines the whole graph, but a second one over an untouched
//! graph examines nothing. The benchmarks time the first kind for
//! `gc/collect_1m_reachable` and report the second separately.
//!
//! # Checking that a collection frees what it should
//!
//! The node types take a `const COUNTED: bool` parameter: with `true` their
//! `Drop` counts into a thread-local counter ([`dropped`]), with `false` it
//! compiles to nothing, so the timed graphs pay nothing for the check.
//! [`check`] runs every workload once with counted nodes and asserts that a
//! collection frees exactly the garbage and nothing reachable; the
//! benchmarks call it at full size before timing, the tests at a small one.

use std::cell::Cell;

thread_local! {
    /// Counted nodes dropped on this thread (every collector here is
    /// thread-local too).
    static DROPPED: Cell<usize> = const { Cell::new(0) };
}

/// How many counted nodes (`COUNTED = true`) were dropped on this thread so
/// far.
pub fn dropped() -> usize {
    DROPPED.with(Cell::get)
}

/// Counts one drop when `COUNTED`; nothing otherwise.
#[inline(always)]
fn note_drop<const COUNTED: bool>() {
    if COUNTED {
        DROPPED.with(|d| d.set(d.get() + 1));
    }
}

/// A Rust cycle collector and the graphs of the benchmarks built with it.
///
/// The graph builders are generic over `COUNTED` (see the module
/// documentation); the benchmarks time `COUNTED = false`.
pub trait Peer {
    /// The crate's name, used as the benchmark function's id.
    const NAME: &'static str;
    /// A strong handle on the first node of a 2-cycle.
    type Pair<const COUNTED: bool>;
    /// A strong handle on the root of a tree.
    type Tree<const COUNTED: bool>;

    /// Makes `pairs` 2-cycles and drops them: `2 * pairs` nodes of garbage
    /// that only a collection frees.
    fn garbage_pairs<const COUNTED: bool>(pairs: usize);
    /// Makes `pairs` 2-cycles and returns the first node of each: `2 * pairs`
    /// reachable nodes.
    fn live_pairs<const COUNTED: bool>(pairs: usize) -> Vec<Self::Pair<COUNTED>>;
    /// Whether `first`'s partner points back at `first`.
    fn is_intact<const COUNTED: bool>(first: &Self::Pair<COUNTED>) -> bool;
    /// A complete binary tree of `depth` (`2^(depth+1) - 1` nodes) whose
    /// children point at their parent.
    fn tree<const COUNTED: bool>(depth: u32) -> Self::Tree<COUNTED>;
    /// A full collection of this thread's cyclic garbage.
    fn collect();
    /// How many objects the next collection starts from, where the crate
    /// tells: gcmodule's tracked objects, bacon_rajan_cc's buffered roots;
    /// `None` for dumpster, which does not say.
    fn candidates() -> Option<usize>;
    /// Turns automatic collection on or off (only dumpster has it; a no-op
    /// for the others).
    fn set_automatic_collection(enabled: bool);
}

/// Defines, in the module it is invoked in, the handles `PairRef` and
/// `TreeRef` (`$ptr<RefCell<_>>`), the drop counting of the node types, and
/// the builders `garbage_pairs`, `live_pairs`, `is_intact` and `tree`.
///
/// The module defines `Pair` and `TreeNode` itself, with the fields of
/// [`gcmodule_graphs::Pair`] and [`gcmodule_graphs::TreeNode`] (the builders
/// name them all, so a module that differs does not compile): dumpster's
/// `#[derive(Trace)]` takes its spans from the fields and does not compile
/// on a struct that a `macro_rules!` expansion defines.
macro_rules! graphs {
    ($ptr:ident) => {
        use std::cell::RefCell;

        /// A handle on a node of a 2-cycle.
        pub type PairRef<const COUNTED: bool> = $ptr<RefCell<Pair<COUNTED>>>;
        /// A handle on a tree node.
        pub type TreeRef<const COUNTED: bool> = $ptr<RefCell<TreeNode<COUNTED>>>;

        impl<const COUNTED: bool> Drop for Pair<COUNTED> {
            fn drop(&mut self) {
                super::note_drop::<COUNTED>();
            }
        }

        impl<const COUNTED: bool> Drop for TreeNode<COUNTED> {
            fn drop(&mut self) {
                super::note_drop::<COUNTED>();
            }
        }

        /// Two nodes pointing at each other; returns both handles.
        fn pair<const COUNTED: bool>() -> (PairRef<COUNTED>, PairRef<COUNTED>) {
            let a = $ptr::new(RefCell::new(Pair { other: None }));
            let b = $ptr::new(RefCell::new(Pair { other: None }));
            a.borrow_mut().other = Some(b.clone());
            b.borrow_mut().other = Some(a.clone());
            (a, b)
        }

        /// `pairs` 2-cycles, dropped at once.
        pub fn garbage_pairs<const COUNTED: bool>(pairs: usize) {
            for _ in 0..pairs {
                drop(pair::<COUNTED>());
            }
        }

        /// `pairs` 2-cycles; the first node of each is returned.
        pub fn live_pairs<const COUNTED: bool>(pairs: usize) -> Vec<PairRef<COUNTED>> {
            (0..pairs).map(|_| pair::<COUNTED>().0).collect()
        }

        /// Whether `first`'s partner points back at `first`.
        pub fn is_intact<const COUNTED: bool>(first: &PairRef<COUNTED>) -> bool {
            let first_ref = first.borrow();
            let Some(other) = first_ref.other.as_ref() else {
                return false;
            };
            let other_ref = other.borrow();
            other_ref
                .other
                .as_ref()
                .is_some_and(|back| std::ptr::eq::<RefCell<_>>(&**back, &**first))
        }

        /// A complete binary tree of `depth` with parent pointers.
        /// Recursion depth is `depth`.
        pub fn tree<const COUNTED: bool>(depth: u32) -> TreeRef<COUNTED> {
            let node = $ptr::new(RefCell::new(TreeNode {
                left: None,
                right: None,
                parent: None,
            }));
            if depth > 0 {
                let left = tree::<COUNTED>(depth - 1);
                left.borrow_mut().parent = Some(node.clone());
                node.borrow_mut().left = Some(left);
                let right = tree::<COUNTED>(depth - 1);
                right.borrow_mut().parent = Some(node.clone());
                node.borrow_mut().right = Some(right);
            }
            node
        }
    };
}

/// The node types with hand-written `Trace` impls, for the crates whose
/// `Trace` trait has the shape `fn trace(&self, tracer: &mut Tracer)`
/// (gcmodule, bacon_rajan_cc; the caller imports `Trace` and `Tracer`).
/// dumpster derives its impls instead, which a macro cannot host.
macro_rules! traced_nodes {
    () => {
        /// One node of a 2-cycle.
        pub struct Pair<const COUNTED: bool> {
            /// The other node of the cycle.
            pub other: Option<PairRef<COUNTED>>,
        }

        /// A node of a binary tree with parent pointers.
        pub struct TreeNode<const COUNTED: bool> {
            /// Left child.
            pub left: Option<TreeRef<COUNTED>>,
            /// Right child.
            pub right: Option<TreeRef<COUNTED>>,
            /// Parent (`None` at the root).
            pub parent: Option<TreeRef<COUNTED>>,
        }

        impl<const COUNTED: bool> Trace for Pair<COUNTED> {
            fn trace(&self, tracer: &mut Tracer) {
                self.other.trace(tracer);
            }
        }

        impl<const COUNTED: bool> Trace for TreeNode<COUNTED> {
            fn trace(&self, tracer: &mut Tracer) {
                self.left.trace(tracer);
                self.right.trace(tracer);
                self.parent.trace(tracer);
            }
        }
    };
}

/// The graphs with gcmodule's `Cc` (thread-local object space).
pub mod gcmodule_graphs {
    use gcmodule::{Cc, Trace, Tracer};

    graphs!(Cc);

    traced_nodes!();
}

/// The graphs with dumpster's single-threaded `Gc`.
pub mod dumpster_graphs {
    use dumpster::unsync::Gc;

    graphs!(Gc);

    /// One node of a 2-cycle.
    #[derive(dumpster::Trace)]
    pub struct Pair<const COUNTED: bool> {
        /// The other node of the cycle.
        pub other: Option<PairRef<COUNTED>>,
    }

    /// A node of a binary tree with parent pointers.
    #[derive(dumpster::Trace)]
    pub struct TreeNode<const COUNTED: bool> {
        /// Left child.
        pub left: Option<TreeRef<COUNTED>>,
        /// Right child.
        pub right: Option<TreeRef<COUNTED>>,
        /// Parent (`None` at the root).
        pub parent: Option<TreeRef<COUNTED>>,
    }
}

/// The graphs with bacon_rajan_cc's `Cc`.
pub mod bacon_rajan_graphs {
    use bacon_rajan_cc::{Cc, Trace, Tracer};

    graphs!(Cc);

    traced_nodes!();
}

/// The graphs with rust-cc's `Cc` (its `Trace` takes a `Context`, so the
/// nodes are written out here rather than by `traced_nodes!`).
pub mod rust_cc_graphs {
    use rust_cc::{Cc, Context, Finalize, Trace};

    graphs!(Cc);

    /// One node of a 2-cycle.
    pub struct Pair<const COUNTED: bool> {
        /// The other node of the cycle.
        pub other: Option<PairRef<COUNTED>>,
    }

    /// A node of a binary tree with parent pointers.
    pub struct TreeNode<const COUNTED: bool> {
        /// Left child.
        pub left: Option<TreeRef<COUNTED>>,
        /// Right child.
        pub right: Option<TreeRef<COUNTED>>,
        /// Parent (`None` at the root).
        pub parent: Option<TreeRef<COUNTED>>,
    }

    impl<const COUNTED: bool> Finalize for Pair<COUNTED> {}
    impl<const COUNTED: bool> Finalize for TreeNode<COUNTED> {}

    // SAFETY: each traces every `Cc` it holds, once, and nothing else.
    unsafe impl<const COUNTED: bool> Trace for Pair<COUNTED> {
        fn trace(&self, ctx: &mut Context<'_>) {
            self.other.trace(ctx);
        }
    }

    // SAFETY: as above.
    unsafe impl<const COUNTED: bool> Trace for TreeNode<COUNTED> {
        fn trace(&self, ctx: &mut Context<'_>) {
            self.left.trace(ctx);
            self.right.trace(ctx);
            self.parent.trace(ctx);
        }
    }
}

/// Forwards the graph builders of `Peer` to a module made by `graphs!`.
macro_rules! forward_graphs {
    ($module:ident) => {
        type Pair<const COUNTED: bool> = $module::PairRef<COUNTED>;
        type Tree<const COUNTED: bool> = $module::TreeRef<COUNTED>;

        fn garbage_pairs<const COUNTED: bool>(pairs: usize) {
            $module::garbage_pairs::<COUNTED>(pairs)
        }
        fn live_pairs<const COUNTED: bool>(pairs: usize) -> Vec<Self::Pair<COUNTED>> {
            $module::live_pairs::<COUNTED>(pairs)
        }
        fn is_intact<const COUNTED: bool>(first: &Self::Pair<COUNTED>) -> bool {
            $module::is_intact::<COUNTED>(first)
        }
        fn tree<const COUNTED: bool>(depth: u32) -> Self::Tree<COUNTED> {
            $module::tree::<COUNTED>(depth)
        }
    };
}

/// gcmodule 0.3.3: `Cc<RefCell<_>>`, `gcmodule::collect_thread_cycles()`.
pub struct GcModule;

impl Peer for GcModule {
    const NAME: &'static str = "gcmodule";
    forward_graphs!(gcmodule_graphs);

    fn collect() {
        gcmodule::collect_thread_cycles();
    }
    fn candidates() -> Option<usize> {
        Some(gcmodule::count_thread_tracked())
    }
    fn set_automatic_collection(_enabled: bool) {}
}

/// dumpster 2.1.0: `dumpster::unsync::Gc<RefCell<_>>`,
/// `dumpster::unsync::collect()`.
pub struct Dumpster;

impl Peer for Dumpster {
    const NAME: &'static str = "dumpster";
    forward_graphs!(dumpster_graphs);

    fn collect() {
        dumpster::unsync::collect();
    }
    fn candidates() -> Option<usize> {
        None
    }
    fn set_automatic_collection(enabled: bool) {
        if enabled {
            dumpster::unsync::set_collect_condition(dumpster::unsync::default_collect_condition);
        } else {
            dumpster::unsync::set_collect_condition(|_| false);
        }
    }
}

/// bacon_rajan_cc 0.4.0: `Cc<RefCell<_>>`, `bacon_rajan_cc::collect_cycles()`.
pub struct BaconRajan;

impl Peer for BaconRajan {
    const NAME: &'static str = "bacon_rajan_cc";
    forward_graphs!(bacon_rajan_graphs);

    fn collect() {
        bacon_rajan_cc::collect_cycles();
    }
    fn candidates() -> Option<usize> {
        Some(bacon_rajan_cc::number_of_roots_buffered())
    }
    fn set_automatic_collection(_enabled: bool) {}
}

/// rust-cc 0.6.2: `Cc<RefCell<_>>`, `rust_cc::collect_cycles()`.
pub struct RustCc;

impl Peer for RustCc {
    const NAME: &'static str = "rust-cc";
    forward_graphs!(rust_cc_graphs);

    fn collect() {
        rust_cc::collect_cycles();
    }
    fn candidates() -> Option<usize> {
        None
    }
    fn set_automatic_collection(_enabled: bool) {}
}

/// Runs each workload once on `P` with counted nodes and panics unless its
/// collections free exactly the garbage: `pairs` 2-cycles dropped and
/// collected; `pairs` 2-cycles kept in a `Vec` and collected (nothing freed,
/// every pair intact), then released and collected; a tree of `depth`
/// dropped and collected.
///
/// Leaves automatic collection off; the thread's garbage of these node
/// types is all freed on return.
pub fn check<P: Peer>(pairs: usize, depth: u32) {
    let name = P::NAME;
    let objects = 2 * pairs;
    P::set_automatic_collection(false);
    P::collect();

    let before = dropped();
    P::garbage_pairs::<true>(pairs);
    assert_eq!(
        dropped(),
        before,
        "{name}: 2-cycles freed without a collection"
    );
    P::collect();
    assert_eq!(
        dropped() - before,
        objects,
        "{name}: a collection frees every node of the dropped 2-cycles"
    );

    let before = dropped();
    let live = P::live_pairs::<true>(pairs);
    if let Some(candidates) = P::candidates() {
        assert!(
            candidates >= pairs,
            "{name}: the collection after the build starts from every pair \
             ({candidates} candidates for {pairs} pairs)"
        );
    }
    P::collect();
    assert_eq!(
        dropped(),
        before,
        "{name}: a collection freed reachable nodes"
    );
    assert!(
        live.iter().all(P::is_intact::<true>),
        "{name}: a reachable 2-cycle was broken by a collection"
    );
    drop(live);
    P::collect();
    assert_eq!(
        dropped() - before,
        objects,
        "{name}: the released reachable graph is collected in full"
    );

    let before = dropped();
    drop(P::tree::<true>(depth));
    assert_eq!(
        dropped(),
        before,
        "{name}: tree nodes freed without a collection"
    );
    P::collect();
    assert_eq!(
        dropped() - before,
        (1usize << (depth + 1)) - 1,
        "{name}: a collection frees the whole dropped tree"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each test runs on its own thread, and so do the counter and the
    /// crates' collectors: the tests are independent.
    const PAIRS: usize = 1000;
    const DEPTH: u32 = 8;

    #[test]
    fn gcmodule_collects_exactly_the_garbage() {
        check::<GcModule>(PAIRS, DEPTH);
    }

    #[test]
    fn dumpster_collects_exactly_the_garbage() {
        check::<Dumpster>(PAIRS, DEPTH);
    }

    #[test]
    fn bacon_rajan_cc_collects_exactly_the_garbage() {
        check::<BaconRajan>(PAIRS, DEPTH);
    }

    #[test]
    fn rust_cc_collects_exactly_the_garbage() {
        check::<RustCc>(PAIRS, DEPTH);
    }

    #[test]
    fn uncounted_nodes_do_not_count() {
        let before = dropped();
        GcModule::garbage_pairs::<false>(10);
        GcModule::collect();
        drop(Dumpster::tree::<false>(3));
        Dumpster::collect();
        drop(BaconRajan::live_pairs::<false>(10));
        BaconRajan::collect();
        assert_eq!(dropped(), before);
    }
}
