//! The collector: generations, thresholds, statistics, and the phases of a
//! collection (see the crate documentation for the algorithm).
//!
//! During phases 1-3 (and again in the resurrection check) each examined
//! object's `prev` link holds a tagged index into the collection's arrays:
//!
//! ```text
//!   prev = (index << 1) | 1      odd: "examined, at this index"
//!   prev = pointer               even (links are 8-aligned): anything else
//! ```
//!
//! so finding whether a reference points into the examined set, and where,
//! costs one load. The only host code that runs while the tags are in place
//! is [`GcHost::traverse`], which must not track, untrack or free anything
//! (objmodel holds what its hooks drop until the collection is over); every
//! examined object is relinked (real pointers again) before any other host
//! code runs.

use core::cell::{Cell, RefCell};

use crate::list::{self, List};
use crate::{Gc, GcHost};

/// Number of generations.
pub const GENERATIONS: usize = 3;

/// Figures of one generation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GcStats {
    /// Collections of this generation.
    pub collections: usize,
    /// Unreachable objects found by them (CPython's `collected`).
    pub collected: usize,
    /// Unreachable objects that survived being cleared (kept alive).
    pub uncollectable: usize,
}

/// When a collection callback is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Before the collection of a generation.
    Start,
    /// After it, with that generation's updated figures.
    Stop,
}

type Callback = Box<dyn FnMut(Phase, usize, &GcStats)>;

/// A generational cycle collector. Single-threaded: its host serialises calls.
pub struct Collector {
    gens: [List; GENERATIONS],
    counts: [Cell<usize>; GENERATIONS],
    thresholds: [Cell<usize>; GENERATIONS],
    stats: [Cell<GcStats>; GENERATIONS],
    enabled: Cell<bool>,
    collecting: Cell<bool>,
    /// Objects that survived the last full collection, less those freed
    /// since (so it stays a lower bound of what is alive: a heap that
    /// freed most of its objects by reference counting is not measured
    /// against the size it had).
    long_lived_total: Cell<usize>,
    /// Objects that reached the oldest generation since then.
    long_lived_pending: Cell<usize>,
    /// Objects tracked in all generations.
    tracked_total: Cell<usize>,
    callback: RefCell<Option<Callback>>,
}

impl Default for Collector {
    fn default() -> Self {
        Self::new()
    }
}

fn tag(i: usize) -> *mut crate::GcLinks {
    core::ptr::without_provenance_mut((i << 1) | 1)
}

/// The index an examined object's `prev` holds, if `o` is examined.
fn index_of(o: Gc) -> Option<usize> {
    // SAFETY: `o` is a tracked object the host reported: its links are live.
    let p = unsafe { o.as_ref() }.prev.get().addr();
    (p & 1 == 1).then_some(p >> 1)
}

impl Collector {
    /// A collector with CPython's thresholds (700, 10, 10), enabled.
    pub fn new() -> Self {
        Self {
            gens: [List::new(), List::new(), List::new()],
            counts: Default::default(),
            thresholds: [Cell::new(700), Cell::new(10), Cell::new(10)],
            stats: Default::default(),
            enabled: Cell::new(true),
            collecting: Cell::new(false),
            long_lived_total: Cell::new(0),
            long_lived_pending: Cell::new(0),
            tracked_total: Cell::new(0),
            callback: RefCell::new(None),
        }
    }

    /// Starts tracking a new object (generation 0).
    ///
    /// # Safety
    /// `o` is live, untracked, and stays live until [`Collector::untrack`].
    pub unsafe fn track(&self, o: Gc) {
        // SAFETY: forwarded from the caller.
        unsafe { self.gens[0].push(o) };
        self.counts[0].set(self.counts[0].get() + 1);
        self.tracked_total.set(self.tracked_total.get() + 1);
    }

    /// Stops tracking an object (before it is freed).
    ///
    /// # Safety
    /// `o` is live and tracked by this collector, or untracked.
    pub unsafe fn untrack(&self, o: Gc) {
        // SAFETY: the caller guarantees `o` is live.
        if unsafe { o.as_ref() }.is_tracked() {
            // SAFETY: tracked, so its neighbours are live (no tags: the
            // host frees nothing while tags are in place).
            unsafe { list::unlink(o) };
            let c = &self.counts[0];
            c.set(c.get().saturating_sub(1));
            let total = self.tracked_total.get() - 1;
            self.tracked_total.set(total);
            if total < self.long_lived_total.get() {
                self.long_lived_total.set(total);
            }
        }
    }

    /// Whether automatic collection is on.
    pub fn is_enabled(&self) -> bool {
        self.enabled.get()
    }

    /// Turns automatic collection on or off (manual collection still works).
    pub fn set_enabled(&self, on: bool) {
        self.enabled.set(on);
    }

    /// The thresholds of the three generations.
    pub fn thresholds(&self) -> [usize; GENERATIONS] {
        [0, 1, 2].map(|i| self.thresholds[i].get())
    }

    /// Sets the thresholds; a generation-0 threshold of 0 stops automatic collection.
    pub fn set_thresholds(&self, t: [usize; GENERATIONS]) {
        for (cell, v) in self.thresholds.iter().zip(t) {
            cell.set(v);
        }
    }

    /// The counts that the thresholds are compared with.
    pub fn counts(&self) -> [usize; GENERATIONS] {
        [0, 1, 2].map(|i| self.counts[i].get())
    }

    /// Figures per generation.
    pub fn stats(&self) -> [GcStats; GENERATIONS] {
        [0, 1, 2].map(|i| self.stats[i].get())
    }

    /// Objects tracked per generation.
    pub fn tracked(&self) -> [usize; GENERATIONS] {
        [0, 1, 2].map(|i| self.gens[i].len())
    }

    /// Sets the function called at the start and end of each collection.
    pub fn set_callback(&self, callback: Option<Callback>) {
        *self.callback.borrow_mut() = callback;
    }

    fn notify(&self, phase: Phase, generation: usize) {
        // Taken out while it runs, so a callback that touches the collector does not re-enter it.
        let cb = self.callback.borrow_mut().take();
        if let Some(mut cb) = cb {
            cb(phase, generation, &self.stats[generation].get());
            let mut slot = self.callback.borrow_mut();
            if slot.is_none() {
                *slot = Some(cb);
            }
        }
    }

    /// The generation an automatic collection should examine now, if any.
    #[inline]
    pub fn due(&self) -> Option<usize> {
        // The common answer in one compare, inline: the youngest generation
        // has not passed its threshold.
        if self.counts[0].get() <= self.thresholds[0].get() {
            return None;
        }
        self.due_past_threshold()
    }

    /// The rest of [`Collector::due`], once the youngest generation has
    /// passed its threshold.
    #[cold]
    #[inline(never)]
    fn due_past_threshold(&self) -> Option<usize> {
        if !self.enabled.get() || self.collecting.get() || self.thresholds[0].get() == 0 {
            return None;
        }
        // Garbage that reached the oldest generation waits for a full
        // collection: one is also due once the tracked objects have grown by
        // a third since the last one left `long_lived_total`, so live
        // objects stay within about 4/3 of the reachable ones under churn.
        let total = self.long_lived_total.get();
        let grown = self.tracked_total.get() > total + total / 3 + self.thresholds[0].get();
        (0..GENERATIONS).rev().find(|&g| {
            let over = self.counts[g].get() > self.thresholds[g].get();
            if g == GENERATIONS - 1 {
                // Full collections wait until enough new long-lived objects
                // pend (CPython's rule), or the heap has grown (ours).
                (over && self.long_lived_pending.get() > total / 4) || grown
            } else {
                over
            }
        })
    }

    /// Runs an automatic collection if one is due; returns what it found.
    #[inline]
    pub fn maybe_collect(&self, host: &impl GcHost) -> Option<usize> {
        let g = self.due()?;
        Some(self.collect(host, g))
    }

    /// Collects generation `generation` and the younger ones; returns the
    /// number of unreachable objects found (as CPython's `gc.collect()`
    /// counts them). A collection started while one runs does nothing.
    pub fn collect(&self, host: &impl GcHost, generation: usize) -> usize {
        let g = generation.min(GENERATIONS - 1);
        let Some(collecting) = crate::FlagScope::enter(&self.collecting) else {
            return 0;
        };
        self.notify(Phase::Start, g);
        for younger in 0..g {
            self.gens[g].append(&self.gens[younger]);
        }
        if g + 1 < GENERATIONS {
            self.counts[g + 1].set(self.counts[g + 1].get() + 1);
        }
        for c in &self.counts[..=g] {
            c.set(0);
        }
        let older = &self.gens[(g + 1).min(GENERATIONS - 1)];

        // Phases 1-3: which examined objects are reachable from outside.
        let examined: Vec<Gc> = self.gens[g].iter().collect();
        let reachable = find_reachable(host, &examined, |o| host.refcount(o) as isize);
        self.gens[g].reset();
        let unreachable = List::new();
        // SAFETY: every examined object is live.
        let survivors = unsafe { relink(&examined, &reachable, older, &unreachable) };
        drop(examined);
        if g == 1 {
            self.long_lived_pending
                .set(self.long_lived_pending.get() + survivors);
        }

        // Phases 4-6, with every piece of garbage held so none is freed midway.
        let garbage: Vec<Gc> = unreachable.iter().collect();
        for &o in &garbage {
            host.incref(o);
        }
        // Weak references: cleared with the garbage tagged (so the host can
        // tell which weak references are garbage too), callbacks after.
        for (i, o) in garbage.iter().enumerate() {
            // SAFETY: held, so live; relinked below before any host code runs.
            unsafe { o.as_ref() }.prev.set(tag(i));
        }
        for &o in &garbage {
            host.clear_weakrefs(o, &|w| index_of(w).is_some());
        }
        unreachable.reset();
        for &o in &garbage {
            // SAFETY: held, so live.
            unsafe { unreachable.push(o) };
        }
        host.run_weakref_callbacks();
        for &o in &garbage {
            host.finalize(o);
        }
        let suspects: Vec<Gc> = unreachable.iter().collect();
        let resurrected = find_reachable(host, &suspects, |o| host.refcount(o) as isize - 1);
        unreachable.reset();
        // SAFETY: held, so live.
        unsafe { relink(&suspects, &resurrected, older, &unreachable) };
        let doomed: Vec<Gc> = unreachable.iter().collect();
        for &o in &doomed {
            host.clear(o);
        }
        for &o in &garbage {
            host.decref(o); // the last reference of a cleared object: freed and untracked
        }
        let left = unreachable.len();
        older.append(&unreachable);
        if g == GENERATIONS - 1 {
            self.long_lived_total.set(self.gens[g].len());
            self.long_lived_pending.set(0);
        }
        let mut s = self.stats[g].get();
        s.collections += 1;
        s.collected += garbage.len();
        s.uncollectable += left;
        self.stats[g].set(s);
        drop(collecting);
        self.notify(Phase::Stop, g);
        garbage.len()
    }
}

/// Relinks each of `objs` (whose links `find_reachable` tagged) into
/// `reachable_to` or `unreachable_to`, as `reachable` says; returns how many
/// were reachable.
///
/// # Safety
/// Every object of `objs` is live and in no list.
unsafe fn relink(
    objs: &[Gc],
    reachable: &[bool],
    reachable_to: &List,
    unreachable_to: &List,
) -> usize {
    let mut n = 0;
    for (&o, &r) in objs.iter().zip(reachable) {
        let to = if r { reachable_to } else { unreachable_to };
        n += usize::from(r);
        // SAFETY: the caller guarantees `o` is live and unlinked; pushing
        // restores real pointers in its links.
        unsafe { to.push(o) };
    }
    n
}

/// Phases 1-3 over `objs`: which of them are reachable from outside the set,
/// given each one's count (`count`). Tags `prev` links; the caller relinks
/// every object afterwards.
fn find_reachable(host: &impl GcHost, objs: &[Gc], count: impl Fn(Gc) -> isize) -> Vec<bool> {
    // 1. update refs
    let mut refs: Vec<isize> = objs.iter().map(|&o| count(o)).collect();
    for (i, o) in objs.iter().enumerate() {
        // SAFETY: examined objects are live; their links are relinked by the caller.
        unsafe { o.as_ref() }.prev.set(tag(i));
    }
    // 2. subtract refs
    for &o in objs {
        host.traverse(o, &mut |c| {
            if let Some(j) = index_of(c) {
                refs[j] -= 1;
            }
        });
    }
    // 3. move unreachable: what outside references reach, iteratively.
    let mut reachable: Vec<bool> = refs.iter().map(|&r| r > 0).collect();
    let mut stack: Vec<usize> = (0..objs.len()).filter(|&i| reachable[i]).collect();
    while let Some(i) = stack.pop() {
        host.traverse(objs[i], &mut |c| {
            if let Some(j) = index_of(c) {
                if !reachable[j] {
                    reachable[j] = true;
                    stack.push(j);
                }
            }
        });
    }
    reachable
}
