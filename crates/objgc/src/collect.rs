//! The collector: generations, thresholds, statistics, and the phases of a
//! collection (see the crate documentation for the algorithm).
//!
//! During phases 1-3 (and again in the resurrection check) each examined
//! object's `prev` link holds, instead of a pointer, its count less the
//! references the other examined objects hold to it (CPython's
//! `gc_refs`), and two flags:
//!
//! ```text
//!   prev = refs << 2 | REACHABLE | EXAMINED     (EXAMINED = 1: odd)
//!   prev = pointer                             even (links are 8-aligned):
//!                                              not examined
//! ```
//!
//! so the examined set needs no memory of its own, and whether a reference
//! points into it, and what its object's figures are, costs one load. The
//! examined objects stay chained by their `next` links, which phases 1-3
//! never change. The only host code that runs while the tags are in place
//! is [`GcHost::traverse`], which must not track, untrack or free anything
//! (objmodel holds what its hooks drop until the collection is over); every
//! examined object is relinked (real pointers again) before any other host
//! code runs, and a traversal that panics has the tags undone on the way
//! out. Host code that panics later leaves the garbage it interrupted
//! alive, in the oldest generation: leaked, never unsound.

use core::cell::{Cell, RefCell};

use crate::list::{self, List};
use crate::{Gc, GcHost};

/// Number of generations.
pub const GENERATIONS: usize = 3;

/// The default of [`Collector::set_full_growth_percent`]: a third.
pub const DEFAULT_FULL_GROWTH_PERCENT: usize = 33;

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

/// A function called at the start and end of each collection, with the
/// phase, the generation collected and that generation's figures.
pub type Callback = Box<dyn FnMut(Phase, usize, &GcStats)>;

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
    /// The growth of the tracked objects since the last full collection,
    /// in percent of what it left, that makes another one due (0: never).
    full_growth_percent: Cell<usize>,
    /// Objects [`Collector::freeze`] moved out of the generations
    /// (CPython's permanent generation): tracked, never examined, not in
    /// `tracked_total`.
    permanent: List,
    /// Keep unreachable objects instead of freeing them (CPython's
    /// `DEBUG_SAVEALL`).
    save_unreachable: Cell<bool>,
    /// What collections found unreachable while `save_unreachable` was on,
    /// each held by one reference of the collector's.
    saved: List,
    callback: RefCell<Option<Callback>>,
}

impl Default for Collector {
    fn default() -> Self {
        Self::new()
    }
}

/// The `prev` flag of an examined object (odd: no pointer is).
const EXAMINED: usize = 1;
/// The `prev` flag of an examined object found reachable.
const REACHABLE: usize = 2;
/// One reference in an examined object's `prev` word.
const ONE_REF: usize = 4;
/// The largest count a `prev` word holds (larger ones are as good as
/// infinite: no examined set holds that many references).
const MAX_REFS: usize = usize::MAX >> 3;

/// The `prev` word of `o`, if `o` is examined.
#[inline(always)]
fn examined(o: Gc) -> Option<usize> {
    // SAFETY: `o` is a tracked object the host reported: its links are live.
    let w = unsafe { o.as_ref() }.prev.get().addr();
    (w & EXAMINED != 0).then_some(w)
}

/// Sets the `prev` word of an examined object.
#[inline(always)]
fn set_word(o: Gc, w: usize) {
    // SAFETY: as in `examined`.
    unsafe { o.as_ref() }
        .prev
        .set(core::ptr::without_provenance_mut(w));
}

/// Whether the references from outside in a `prev` word are more than none
/// (a count that the host misreported below zero reads as none).
#[inline(always)]
fn has_outside_refs(w: usize) -> bool {
    (w as isize) >> 2 > 0
}

/// The garbage of a collection, to ask whether an object is part of it
/// (sorted on first use: only objects with weak references ask).
struct GarbageSet<'a> {
    garbage: &'a [Gc],
    sorted: core::cell::OnceCell<Vec<Gc>>,
}

impl<'a> GarbageSet<'a> {
    fn new(garbage: &'a [Gc]) -> Self {
        Self {
            garbage,
            sorted: core::cell::OnceCell::new(),
        }
    }

    fn contains(&self, o: Gc) -> bool {
        let sorted = self.sorted.get_or_init(|| {
            let mut v = self.garbage.to_vec();
            v.sort_unstable();
            v
        });
        sorted.binary_search(&o).is_ok()
    }
}

/// Moves the elements of `from` to the end of `to` when dropped, so that a
/// collection's private list never outlives its elements' links (on a
/// panic in host code, or with what a collection could not free).
struct AppendOnDrop<'a> {
    from: &'a List,
    to: &'a List,
}

impl Drop for AppendOnDrop<'_> {
    fn drop(&mut self) {
        self.to.append(self.from);
    }
}

/// Gives the objects of a list real `prev` links again when dropped
/// unless forgotten: [`find_reachable`] holds one while the tags are in
/// place, so that a panicking [`GcHost::traverse`] leaves the list as
/// sound as before the collection.
struct UntagOnUnwind<'a>(&'a List);

impl Drop for UntagOnUnwind<'_> {
    fn drop(&mut self) {
        self.0.relink_prev();
    }
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
            full_growth_percent: Cell::new(DEFAULT_FULL_GROWTH_PERCENT),
            permanent: List::new(),
            save_unreachable: Cell::new(false),
            saved: List::new(),
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
            // Saturating: a frozen object is tracked but not in the total.
            let total = self.tracked_total.get().saturating_sub(1);
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

    /// How much the tracked objects must grow since the last full
    /// collection, in percent of what it left, for the growth alone to
    /// make a full collection due.
    pub fn full_growth_percent(&self) -> usize {
        self.full_growth_percent.get()
    }

    /// Sets that growth ([`DEFAULT_FULL_GROWTH_PERCENT`] by default, which
    /// keeps live objects within about 4/3 of the reachable ones under
    /// churn). Larger values trade memory for fewer full collections in a
    /// heap that only grows; 0 turns the rule off, leaving CPython's rules
    /// alone (a full collection waits for a quarter more long-lived
    /// objects than the last one left).
    pub fn set_full_growth_percent(&self, percent: usize) {
        self.full_growth_percent.set(percent);
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

    /// Whether `o` is tracked (by this or any collector).
    pub fn is_tracked(&self, o: Gc) -> bool {
        // SAFETY: the caller hands a live object's links (the `Gc` contract).
        unsafe { o.as_ref() }.is_tracked()
    }

    /// The objects of generation `generation` (0..=2), oldest first; all
    /// tracked objects, frozen and saved ones included, for `None`.
    pub fn objects(&self, generation: Option<usize>) -> Vec<Gc> {
        match generation {
            Some(g) => self.gens[g.min(GENERATIONS - 1)].iter().collect(),
            None => self
                .gens
                .iter()
                .chain([&self.permanent, &self.saved])
                .flat_map(List::iter)
                .collect(),
        }
    }

    /// Moves every tracked object to the permanent generation, which no
    /// collection examines (CPython's `gc.freeze`: after start-up, so that
    /// the objects a program keeps for good cost no collection again).
    pub fn freeze(&self) {
        for g in &self.gens {
            self.permanent.append(g);
        }
        for c in &self.counts {
            c.set(0);
        }
        self.tracked_total.set(0);
        self.long_lived_total.set(0);
        self.long_lived_pending.set(0);
    }

    /// Moves the permanent generation back into the oldest one (`gc.unfreeze`).
    pub fn unfreeze(&self) {
        let n = self.permanent.len();
        self.gens[GENERATIONS - 1].append(&self.permanent);
        self.tracked_total.set(self.tracked_total.get() + n);
        self.long_lived_pending
            .set(self.long_lived_pending.get() + n);
    }

    /// The objects of the permanent generation.
    pub fn frozen(&self) -> Vec<Gc> {
        self.permanent.iter().collect()
    }

    /// Objects in the permanent generation (`gc.get_freeze_count`).
    pub fn freeze_count(&self) -> usize {
        self.permanent.len()
    }

    /// Whether collections keep what they find unreachable (see
    /// [`Collector::set_save_unreachable`]).
    pub fn saves_unreachable(&self) -> bool {
        self.save_unreachable.get()
    }

    /// With `on`, collections keep the objects they find unreachable
    /// instead of clearing and freeing them (CPython's `DEBUG_SAVEALL`):
    /// weak references to them are cleared and finalisers run as usual,
    /// then each is kept, held by the collector, for the host to look at
    /// ([`Collector::saved`]) until [`Collector::release_saved`].
    pub fn set_save_unreachable(&self, on: bool) {
        self.save_unreachable.set(on);
    }

    /// The objects kept by collections run with
    /// [`Collector::set_save_unreachable`] (CPython's `gc.garbage`).
    pub fn saved(&self) -> Vec<Gc> {
        self.saved.iter().collect()
    }

    /// Drops the collector's references to the saved objects (they join
    /// the oldest generation first; cycles among them wait for the next
    /// full collection).
    pub fn release_saved(&self, host: &impl GcHost) {
        let saved: Vec<Gc> = self.saved.iter().collect();
        self.gens[GENERATIONS - 1].append(&self.saved);
        for o in saved {
            host.decref(o);
        }
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
        // `full_growth_percent` (a third by default) since the last one left
        // `long_lived_total`, so live objects stay within about 4/3 of the
        // reachable ones under churn.
        let total = self.long_lived_total.get();
        let percent = self.full_growth_percent.get();
        let growth = total.saturating_mul(percent) / 100;
        let grown = percent != 0
            && self.tracked_total.get()
                > total
                    .saturating_add(growth)
                    .saturating_add(self.thresholds[0].get());
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
        find_reachable(host, &self.gens[g], 0);
        let unreachable = List::new();
        // If host code panics from here on, what is left of the garbage
        // goes back to the heap's lists (alive: the references the
        // collection holds are never dropped), so no link points at the
        // collection's own list once it is gone.
        let rescue = AppendOnDrop {
            from: &unreachable,
            to: older,
        };
        let mut garbage: Vec<Gc> = Vec::new();
        // Phases 4-6 hold every piece of garbage, so that none is freed
        // midway: the hold is taken as the garbage is found.
        // SAFETY: the generation was just tagged; each piece of garbage is
        // live, and pushing it gives it real links again.
        let survivors = unsafe {
            split(&self.gens[g], older, |o| {
                garbage.push(o);
                unreachable.push(o);
                host.incref(o);
            })
        };
        if g == 1 {
            self.long_lived_pending
                .set(self.long_lived_pending.get() + survivors);
        }

        // Phases 4-6.
        let is_garbage = GarbageSet::new(&garbage);
        for &o in &garbage {
            host.clear_weakrefs(o, &|w| is_garbage.contains(w));
        }
        drop(is_garbage);
        // Weak-reference callbacks and finalisers are host code: they may
        // resurrect garbage. If none ran, nothing was resurrected.
        let mut ran_host_code = host.run_weakref_callbacks();
        for &o in &garbage {
            ran_host_code |= host.finalize(o);
        }
        let mut resurrected: Vec<Gc> = Vec::new();
        let not_resurrected: Vec<Gc>;
        let doomed = if ran_host_code {
            find_reachable(host, &unreachable, 1);
            let (doomed, revived) = (List::new(), List::new());
            // SAFETY: the list was just tagged; every object in it is held.
            unsafe { split(&unreachable, &revived, |o| doomed.push(o)) };
            resurrected = revived.iter().collect();
            older.append(&revived);
            unreachable.append(&doomed);
            not_resurrected = unreachable.iter().collect();
            &not_resurrected
        } else {
            &garbage
        };
        if self.save_unreachable.get() {
            // Kept, with the references taken above; the resurrected ones
            // are let go.
            self.saved.append(&unreachable);
            resurrected.iter().for_each(|&o| host.decref(o));
        } else {
            for &o in doomed {
                host.clear(o);
            }
            // The last reference of a cleared object: freed and untracked.
            for &o in doomed {
                host.decref_cleared(o);
            }
            resurrected.iter().for_each(|&o| host.decref(o));
        }
        let left = unreachable.len();
        drop(rescue); // what could not be freed joins `older`
        if g == GENERATIONS - 1 {
            // What the oldest generation holds now (counted, not walked).
            self.long_lived_total
                .set(survivors + resurrected.len() + left);
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

/// Moves each object of `list`, which [`find_reachable`] tagged, to
/// `reachable_to` if it was found reachable, and hands the others, still
/// tagged and in no list, to `unreachable`; `list` ends empty. Returns how
/// many were reachable.
///
/// # Safety
/// `list` was tagged by `find_reachable` and not changed since; every one
/// of its objects is live; `unreachable` puts each object it gets in a
/// list (which gives it real links) before returning.
unsafe fn split(list: &List, reachable_to: &List, mut unreachable: impl FnMut(Gc)) -> usize {
    let mut n = 0;
    // `reachable_to` may be `list` itself (a full collection's survivors
    // stay in the oldest generation): `drain` allows that.
    for o in list.drain() {
        if examined(o).is_some_and(|w| w & REACHABLE != 0) {
            n += 1;
            // SAFETY: `o` is live and out of `list`; pushing restores real
            // pointers in its links.
            unsafe { reachable_to.push(o) };
        } else {
            unreachable(o);
        }
    }
    n
}

/// Phases 1-3 over the objects of `list`: tags each one's `prev` with its
/// count (less `held` references the caller holds), subtracts the
/// references between them, and marks `REACHABLE` those that references
/// from outside reach. The `next` links are left alone; the caller
/// relinks every object afterwards ([`split`]).
fn find_reachable(host: &impl GcHost, list: &List, held: usize) {
    let untag_on_unwind = UntagOnUnwind(list);
    // 1. update refs
    for o in list.iter() {
        let refs = host.refcount(o).saturating_sub(held).min(MAX_REFS);
        set_word(o, (refs * ONE_REF) | EXAMINED);
    }
    // 2. subtract refs
    for o in list.iter() {
        host.traverse(o, |c| {
            if let Some(w) = examined(c) {
                set_word(c, w.wrapping_sub(ONE_REF));
            }
        });
    }
    // 3. mark what outside references reach, with an explicit stack.
    let mut stack: Vec<Gc> = Vec::new();
    for o in list.iter() {
        let w = examined(o).expect("tagged above");
        if w & REACHABLE != 0 || !has_outside_refs(w) {
            continue;
        }
        set_word(o, w | REACHABLE);
        stack.push(o);
        while let Some(x) = stack.pop() {
            host.traverse(x, |c| {
                if let Some(w) = examined(c) {
                    if w & REACHABLE == 0 {
                        set_word(c, w | REACHABLE);
                        stack.push(c);
                    }
                }
            });
        }
    }
    core::mem::forget(untag_on_unwind);
}
