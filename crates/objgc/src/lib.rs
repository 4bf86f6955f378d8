//! # objgc: reference counts and the cycle collector of objrt
//!
//! Three parts, each usable on its own:
//!
//! - [`RefCount`]: biased reference counts (PEP 703). The thread that owns
//!   an object's heap counts with plain loads and stores; other threads
//!   count in a shared atomic word and hand the owner what only it can
//!   settle. `refcount.rs` draws the layout and states the protocol.
//! - [`Gate`]: who may touch a heap right now, and the queues through which
//!   other threads hand it dead objects (freed by the gate's holder) and
//!   objects to merge (by the owner). An object never dies on a thread
//!   outside the gate, so never during a collection.
//! - [`Collector`]: the cycle collector, described below.
//!
//! The atomic protocols of the first two have loom models next to them
//! (`RUSTFLAGS="--cfg loom" cargo test -p objgc --release --lib loom`, run by
//! `ci/loom.sh`).
//!
//! ## Example
//!
//! A count on the owner thread is plain arithmetic; the decref that drops
//! the last reference says so, and the caller frees the object
//! (`examples/cycles.rs` is a whole host of the collector):
//!
//! ```
//! use objgc::{Decref, RefCount};
//!
//! let count = RefCount::new_owned(); // one reference, held by its owner
//! let on_owner = || true; // whether the calling thread owns the heap
//! count.incref(on_owner);
//! assert_eq!(count.count(), Some(2));
//! assert_eq!(count.decref(on_owner), Decref::Alive);
//! assert_eq!(count.decref(on_owner), Decref::Dead); // free it now
//!
//! count.make_immortal(); // counted no more: never freed
//! count.incref(on_owner);
//! assert_eq!(count.count(), None);
//! assert_eq!(count.decref(on_owner), Decref::Alive);
//! ```
//!
//! ## Cycles
//!
//! Reference counting frees an object when its last reference goes, but a
//! cycle (`a.other = b; b.other = a`) keeps its own counts above zero
//! forever. This crate finds such garbage the way CPython's `gc` module does,
//! for any host that can report an object's count and its references
//! ([`GcHost`]); `objmodel` is one such host.
//!
//! ### What a tracked object carries
//!
//! Every object that can hold references carries a [`GcLinks`] (16 bytes)
//! linking it into the list of its generation; objects that cannot (int,
//! float, str) carry nothing. `objmodel` puts the links just before the
//! object header:
//!
//! ```text
//!   block:  +------+------+----------+------+-----------
//!           | next | prev | refcount | type | fields ...
//!           +------+------+----------+------+-----------
//!           ^ GcLinks     ^ the object
//! ```
//!
//! ### Generations
//!
//! New objects join generation 0. A collection of generation `g` examines
//! generations `0..=g`; survivors move one generation up. Generation `g` is
//! collected when its count passes its threshold (700, 10, 10 by default,
//! as CPython): for generation 0 the count is tracked allocations minus
//! deallocations, for the older ones the number of collections of the one
//! below. Full collections additionally wait until the objects awaiting
//! their first full collection exceed a quarter of those that survived the
//! last one, so a heap of mostly long-lived objects is not scanned again and
//! again (CPython's rule). One more rule bounds memory under churn: a full
//! collection is also due when the tracked objects have grown by a third
//! (plus the generation-0 threshold; the fraction is a setting,
//! [`Collector::set_full_growth_percent`]) since the last full collection, so
//! garbage old enough to reach the oldest generation cannot pile up for
//! tens of thousands of allocations. (With CPython's rules alone, a 2-cycle
//! churn over 20,000 live objects peaked at 1.88x the reachable objects;
//! see the churn test in objmodel's `tests/gc.rs` for the bound now.)
//!
//! ### A collection, phase by phase (`collect.rs`)
//!
//! 1. **update refs**: copy each examined object's reference count;
//! 2. **subtract refs**: for each reference from one examined object to
//!    another, subtract one: what remains counts references from outside;
//! 3. **move unreachable**: objects with outside references, and everything
//!    they reach, are reachable; the rest is garbage;
//! 4. **weak references** to the garbage are cleared, and the callbacks of
//!    those that are not garbage themselves run; then **finalisers** run,
//!    once per object (PEP 442);
//! 5. **resurrection check**: phases 1-3 again on the garbage: a finaliser
//!    that stored a reference somewhere has resurrected that object and
//!    everything it reaches;
//! 6. **clear**: the rest have the references they hold dropped, which
//!    breaks the cycles, and the last `decref` frees them (**free**).
//!
//! Every walk over the object graph uses an explicit stack: a million-long
//! chain does not touch the call stack.
//!
//! Key invariant: a tracked object is in exactly one generation list (or,
//! during phases 4-6, in the collection's private unreachable list), and
//! `GcLinks::prev` is a real pointer except during phases 1-3 and 5, when
//! the collector, which runs no host code then, keeps the object's
//! `gc_refs` and flags there. Phase 5 is skipped when no weak-reference
//! callback and no finaliser ran.

#![deny(unsafe_op_in_unsafe_fn)]

mod collect;
mod gate;
mod list;
mod refcount;
mod scope;
mod sync;

pub use collect::{Callback, Collector, DEFAULT_FULL_GROWTH_PERCENT, GENERATIONS, GcStats, Phase};
pub use gate::{Gate, thread_token};
pub use list::GcLinks;
pub use refcount::{
    Decref, FLAG_A, FLAG_B, Handoff, IMMORTAL_LOCAL, LOCAL_MAX, RefCount, SHARED_SATURATE,
};
pub use scope::FlagScope;

use core::ptr::NonNull;

/// A tracked object, named by its links.
pub type Gc = NonNull<GcLinks>;

/// What the collector needs to know about the host's objects.
///
/// Every method gets tracked objects only (the links of objects that were
/// passed to [`Collector::track`] and not yet untracked).
///
/// # Safety
///
/// The collector follows the links the host reports and frees through the
/// host what it finds unreachable, so an implementation promises, for the
/// objects of the collector it is passed to:
///
/// 1. **Counts are true.** [`GcHost::refcount`] is at least the number of
///    references to the object that exist (a count the host reports too
///    high only keeps garbage alive; too low frees live objects).
/// 2. **Traversal is complete and real.** [`GcHost::traverse`] reports
///    every reference the object holds to a tracked object, once per
///    reference, and reports only links of live objects that carry links
///    (tracked, or untracked with null links).
/// 3. **Traversal changes nothing.** While it runs (the collector's tags
///    are in `prev` links), it tracks, untracks and frees nothing, and
///    calls into the collector not at all. It may panic: the collector
///    undoes its tags on the way out.
/// 4. **Counting is honest.** [`GcHost::incref`] and [`GcHost::decref`]
///    change the count `refcount` reports by one; a `decref` to zero
///    untracks the object ([`Collector::untrack`]) before freeing it.
/// 5. **Clearing breaks cycles.** After [`GcHost::clear`], the object no
///    longer holds the references it held (a host that keeps some makes
///    them uncollectable, never unsound).
/// 6. **One thread.** All calls for one collector come from the thread
///    running its collection (the collector is not `Sync`).
///
/// Safe code cannot make a host:
///
/// ```compile_fail,E0200
/// use objgc::{Gc, GcHost};
/// struct Liar;
/// impl GcHost for Liar {
///     fn refcount(&self, _: Gc) -> usize { 0 }
///     fn traverse(&self, _: Gc, _: impl FnMut(Gc)) {}
///     fn incref(&self, _: Gc) {}
///     fn decref(&self, _: Gc) {}
///     fn clear(&self, _: Gc) {}
/// }
/// ```
pub unsafe trait GcHost {
    /// The object's reference count.
    fn refcount(&self, o: Gc) -> usize;
    /// Calls `visit` once for each reference `o` holds to a tracked object
    /// (references to untracked objects that carry links may be reported
    /// too: the collector ignores them).
    /// Runs while the collector's tags are in place: it must not track,
    /// untrack or free any object (a host whose traversal runs its users'
    /// code holds what that code drops until the collection is over).
    /// Generic, so that each phase's visit is inlined into the traversal.
    fn traverse(&self, o: Gc, visit: impl FnMut(Gc));
    /// Adds a reference to `o`.
    fn incref(&self, o: Gc);
    /// Drops a reference to `o`; at zero the host frees it (and untracks it).
    fn decref(&self, o: Gc);
    /// Clears the weak references to `o`, which is garbage. A weak reference
    /// that is not garbage itself (`is_garbage`) keeps its callback queued
    /// for [`GcHost::run_weakref_callbacks`]; the others are never called.
    /// Must run no host code (the collector's tags are in place).
    fn clear_weakrefs(&self, _o: Gc, _is_garbage: &dyn Fn(Gc) -> bool) {}
    /// Runs the callbacks that `clear_weakrefs` queued; returns whether
    /// any ran (host code that may have resurrected garbage).
    fn run_weakref_callbacks(&self) -> bool {
        false
    }
    /// Runs `o`'s finaliser if it has one that has not run yet (PEP 442);
    /// returns whether one ran. When neither this nor
    /// [`GcHost::run_weakref_callbacks`] ran host code, the collector skips
    /// the resurrection check: nothing can have been resurrected.
    fn finalize(&self, _o: Gc) -> bool {
        false
    }
    /// Drops the references `o` holds, breaking the cycles through it.
    fn clear(&self, o: Gc);
    /// Drops the collection's reference to `o`, garbage that
    /// [`GcHost::clear`] cleared and nothing resurrected: as
    /// [`GcHost::decref`] (the default), and a host may free an object that
    /// has nothing left to release by a shorter path.
    fn decref_cleared(&self, o: Gc) {
        self.decref(o);
    }
}

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
