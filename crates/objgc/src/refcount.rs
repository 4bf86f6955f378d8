//! Biased reference counts (PEP 703): the owning thread counts without
//! atomic instructions, every other thread counts in a shared atomic word.
//!
//! A [`RefCount`] is two 32-bit words, the first 8 bytes of an object:
//!
//! ```text
//!   local (AtomicU32): written only by the owner thread, plain loads and stores
//!     0 ..= LOCAL_MAX     references the owner counted (>= 1 while unmerged)
//!     MERGED_LOCAL        merged: the shared word holds the whole count
//!     IMMORTAL_LOCAL      never counted, never freed
//!
//!   shared (AtomicU32): every other thread, read-modify-write only
//!      31 ................ 5      4      3         2        1       0
//!     +----------------------+------+------+-----------+--------+--------+
//!     | count (signed, 27 b) |flag B|flag A| saturated | merged | queued |
//!     +----------------------+------+------+-----------+--------+--------+
//! ```
//!
//! The object's references are `local + count` until it is merged, `count`
//! after. The shared count may go negative: a thread that drops a reference
//! the owner counted subtracts from it.
//!
//! - **owner incref/decref**: `local ± 1` with a relaxed load and store (a
//!   plain `mov` on x86 and ARM). When `local` reaches zero the owner
//!   *merges*: if nobody else counted the object it is dead at once;
//!   otherwise the object becomes shared-only (`merged`, `local` set to
//!   `MERGED_LOCAL` so the owner's fast path sends it to the shared word).
//! - **other threads**: `fetch_add` to incref; a CAS loop to decref. A
//!   decref that finds the shared word at zero, unmerged and unqueued, does
//!   not go negative: it sets `queued` and hands the object to the owner's
//!   queue, which keeps that reference until the owner merges the object
//!   ([`RefCount::merge_queued`]); only the owner can read `local`. A decref
//!   that takes a merged count to zero kills the object.
//! - **flags A, B** belong to the host (objmodel keeps "has weak
//!   references" and "finalised" there); they change only by atomic
//!   read-modify-write, so they never race with counting.
//!
//! Overflow is never wrapped: when the owner's count reaches `LOCAL_MAX`, or
//! the shared count [`SHARED_SATURATE`], the object becomes immortal (CPython
//! 3.12's rule: a count that large means the object lives for the rest of
//! the program anyway). Immortal objects are never counted down or freed.
//!
//! What happens with a dead or queued object is the host's business: see
//! [`crate::Gate`].

use crate::sync::{AtomicU32, Ordering};

/// `local` of an immortal object.
const IMMORTAL_LOCAL: u32 = u32::MAX;
/// `local` of a merged object.
const MERGED_LOCAL: u32 = u32::MAX - 1;
/// The most references `local` counts; one more makes the object immortal.
const LOCAL_MAX: u32 = u32::MAX - 2;

const QUEUED: u32 = 1 << 0;
const MERGED: u32 = 1 << 1;
const SATURATED: u32 = 1 << 2;
/// A host flag bit kept in the shared word (see [`RefCount::set_flag`]).
pub const FLAG_A: u32 = 1 << 3;
/// The other host flag bit.
pub const FLAG_B: u32 = 1 << 4;
const HOST_FLAGS: u32 = FLAG_A | FLAG_B;
const SHIFT: u32 = 5;
const ONE: u32 = 1 << SHIFT;
/// The shared count past which an object becomes immortal, far from the
/// 27-bit field's limit so that racing increfs cannot reach it.
pub const SHARED_SATURATE: i32 = 1 << 24;

/// The count kept in a shared word.
#[inline]
fn shared_count(s: u32) -> i32 {
    (s as i32) >> SHIFT
}

/// What a decref left behind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub enum Decref {
    /// Others still hold references.
    Alive,
    /// That was the last reference: the caller frees the object.
    Dead,
    /// A non-owner dropped a reference the owner counted: the caller puts
    /// the object on its owner's merge queue, which now holds that reference.
    Queue,
}

/// The reference count of one object. See the module documentation.
#[repr(C)]
#[derive(Debug)]
pub struct RefCount {
    local: AtomicU32,
    shared: AtomicU32,
}

#[cfg(not(loom))]
const _: () = assert!(size_of::<RefCount>() == 8);

impl RefCount {
    /// One reference, held by the owner thread (an object made by it).
    pub fn new_owned() -> Self {
        Self {
            local: AtomicU32::new(1),
            shared: AtomicU32::new(0),
        }
    }

    /// One reference, held by a thread that is not the owner: the object
    /// is born merged and counted only in the shared word.
    pub fn new_shared() -> Self {
        Self {
            local: AtomicU32::new(MERGED_LOCAL),
            shared: AtomicU32::new(ONE | MERGED),
        }
    }

    /// Re-initialises a dead object's count to one reference of the
    /// calling thread (`owner`: whether it is the owner), keeping the host
    /// flags: a finaliser is about to run on it (PEP 442).
    pub fn revive(&self, owner: bool) {
        let flags = self.shared.load(Ordering::Relaxed) & HOST_FLAGS;
        if owner {
            self.local.store(1, Ordering::Relaxed);
            self.shared.store(flags, Ordering::Release);
        } else {
            self.local.store(MERGED_LOCAL, Ordering::Relaxed);
            self.shared.store(ONE | MERGED | flags, Ordering::Release);
        }
    }

    /// Makes the object immortal (built-ins, interned strings).
    pub fn make_immortal(&self) {
        self.local.store(IMMORTAL_LOCAL, Ordering::Relaxed);
    }

    /// Whether the object is immortal.
    #[inline]
    pub fn is_immortal(&self) -> bool {
        self.local.load(Ordering::Relaxed) == IMMORTAL_LOCAL
            || self.shared.load(Ordering::Relaxed) & SATURATED != 0
    }

    /// The number of references, `None` for an immortal object. Exact when
    /// called by the owner while no other thread counts the object; a
    /// snapshot otherwise.
    pub fn count(&self) -> Option<usize> {
        let l = self.local.load(Ordering::Relaxed);
        let s = self.shared.load(Ordering::Acquire);
        if l == IMMORTAL_LOCAL || s & SATURATED != 0 {
            return None;
        }
        let local = if l == MERGED_LOCAL { 0 } else { i64::from(l) };
        Some((local + i64::from(shared_count(s))).max(0) as usize)
    }

    /// Adds a reference. `is_owner` says whether the calling thread owns
    /// the object.
    #[inline]
    pub fn incref(&self, is_owner: impl FnOnce() -> bool) {
        let l = self.local.load(Ordering::Relaxed);
        let owner = is_owner();
        if owner && l < LOCAL_MAX {
            self.local.store(l + 1, Ordering::Relaxed);
        } else {
            self.incref_slow(l, owner);
        }
    }

    #[cold]
    fn incref_slow(&self, l: u32, owner: bool) {
        if l == IMMORTAL_LOCAL {
            return;
        }
        if owner && l == LOCAL_MAX {
            self.local.store(IMMORTAL_LOCAL, Ordering::Relaxed);
            return;
        }
        // Relaxed, as every incref: the caller already holds a reference,
        // so nothing can be freed until a later decref, which releases.
        let old = self.shared.fetch_add(ONE, Ordering::Relaxed);
        if shared_count(old) >= SHARED_SATURATE {
            self.shared.fetch_or(SATURATED, Ordering::Relaxed);
        }
    }

    /// Drops a reference; see [`Decref`] for what the caller does next.
    #[inline]
    pub fn decref(&self, is_owner: impl FnOnce() -> bool) -> Decref {
        let l = self.local.load(Ordering::Relaxed);
        let owner = is_owner();
        if owner {
            // One comparison for 2..=LOCAL_MAX: the owner's plain case.
            if l.wrapping_sub(2) < LOCAL_MAX - 1 {
                self.local.store(l - 1, Ordering::Relaxed);
                return Decref::Alive;
            }
            // The last reference of an object no other thread ever counted
            // (the common death): no other thread holds one, so none races.
            if l == 1 && self.shared.load(Ordering::Acquire) & !HOST_FLAGS == 0 {
                self.local.store(0, Ordering::Relaxed);
                return Decref::Dead;
            }
        }
        self.decref_slow(l, owner)
    }

    #[cold]
    fn decref_slow(&self, l: u32, owner: bool) -> Decref {
        if l == IMMORTAL_LOCAL {
            return Decref::Alive;
        }
        if owner && l == 1 {
            return self.merge_zero();
        }
        debug_assert!(
            !owner || l == MERGED_LOCAL,
            "decref of an object with no references"
        );
        self.decref_shared(owner)
    }

    /// The owner dropped its last local reference.
    #[cold]
    fn merge_zero(&self) -> Decref {
        // `decref` has handled the object nobody else counted; if the other
        // threads' count reached zero since, the merge below finds it dead.
        self.local.store(MERGED_LOCAL, Ordering::Relaxed);
        let mut s = self.shared.load(Ordering::Acquire);
        loop {
            let new = s | MERGED;
            match self
                .shared
                .compare_exchange_weak(s, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return dead_if_zero(new),
                Err(now) => s = now,
            }
        }
    }

    /// A decref through the shared word. The owner gets here only for a
    /// merged object, and never queues.
    #[cold]
    fn decref_shared(&self, owner: bool) -> Decref {
        let mut s = self.shared.load(Ordering::Relaxed);
        loop {
            if s & SATURATED != 0 {
                return Decref::Alive;
            }
            let queue = !owner && s & (MERGED | QUEUED) == 0 && shared_count(s) == 0;
            let new = if queue {
                s | QUEUED
            } else {
                s.wrapping_sub(ONE)
            };
            match self
                .shared
                .compare_exchange_weak(s, new, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) if queue => return Decref::Queue,
                Ok(_) => return dead_if_zero(new),
                Err(now) => s = now,
            }
        }
    }

    /// The owner takes an object off its merge queue, dropping the
    /// reference the queue held. An unmerged object gets the shared count
    /// folded into `local` (it stays on the owner's fast path); a merged
    /// one loses one shared reference.
    pub fn merge_queued(&self) -> Decref {
        let l = self.local.load(Ordering::Relaxed);
        if l == IMMORTAL_LOCAL {
            self.shared.fetch_and(!QUEUED, Ordering::Relaxed);
            return Decref::Alive;
        }
        let mut s = self.shared.load(Ordering::Acquire);
        loop {
            if s & SATURATED != 0 {
                return Decref::Alive;
            }
            if l == MERGED_LOCAL {
                let new = s.wrapping_sub(ONE) & !QUEUED;
                match self
                    .shared
                    .compare_exchange_weak(s, new, Ordering::AcqRel, Ordering::Acquire)
                {
                    Ok(_) => return dead_if_zero(new),
                    Err(now) => s = now,
                }
                continue;
            }
            let total = i64::from(l) + i64::from(shared_count(s)) - 1;
            debug_assert!(total >= 0, "more references dropped than taken");
            // Keep what fits in `local`; a count beyond it stays shared.
            let local = total.clamp(0, i64::from(LOCAL_MAX)) as u32;
            let rest = (total - i64::from(local)) as u32;
            let new = (rest << SHIFT) | (s & HOST_FLAGS);
            match self
                .shared
                .compare_exchange_weak(s, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) if total == 0 => {
                    self.local.store(0, Ordering::Relaxed);
                    return Decref::Dead;
                }
                Ok(_) => {
                    self.local.store(local, Ordering::Relaxed);
                    return Decref::Alive;
                }
                Err(now) => s = now,
            }
        }
    }

    /// Whether host flag `flag` ([`FLAG_A`] or [`FLAG_B`]) is set.
    #[inline]
    pub fn flag(&self, flag: u32) -> bool {
        debug_assert!(flag & !HOST_FLAGS == 0);
        self.shared.load(Ordering::Relaxed) & flag != 0
    }

    /// Sets or clears host flag `flag`; returns whether it was set.
    pub fn set_flag(&self, flag: u32, on: bool) -> bool {
        debug_assert!(flag & !HOST_FLAGS == 0);
        let old = if on {
            self.shared.fetch_or(flag, Ordering::Relaxed)
        } else {
            self.shared.fetch_and(!flag, Ordering::Relaxed)
        };
        old & flag != 0
    }
}

#[inline]
fn dead_if_zero(merged_shared: u32) -> Decref {
    if merged_shared & MERGED != 0 && shared_count(merged_shared) == 0 {
        Decref::Dead
    } else {
        Decref::Alive
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    const OWNER: fn() -> bool = || true;
    const OTHER: fn() -> bool = || false;

    #[test]
    fn owner_counts_locally_and_frees_at_zero() {
        let rc = RefCount::new_owned();
        rc.incref(OWNER);
        assert_eq!(rc.count(), Some(2));
        assert_eq!(rc.shared.load(Ordering::Relaxed), 0, "no shared traffic");
        assert_eq!(rc.decref(OWNER), Decref::Alive);
        assert_eq!(rc.decref(OWNER), Decref::Dead);
    }

    #[test]
    fn other_thread_holding_a_reference_survives_the_owners_last() {
        let rc = RefCount::new_owned();
        rc.incref(OTHER);
        assert_eq!(rc.decref(OWNER), Decref::Alive, "merged, one shared left");
        assert_eq!(rc.count(), Some(1));
        assert_eq!(rc.decref(OTHER), Decref::Dead);
    }

    #[test]
    fn owner_reference_dropped_elsewhere_is_queued_then_merged() {
        let rc = RefCount::new_owned();
        rc.incref(OWNER); // two local references; one goes to another thread
        assert_eq!(rc.decref(OTHER), Decref::Queue);
        assert_eq!(rc.decref(OTHER), Decref::Alive, "now negative");
        assert_eq!(rc.merge_queued(), Decref::Dead);
    }

    #[test]
    fn merge_of_a_live_object_rebiases_it_to_the_owner() {
        let rc = RefCount::new_owned();
        rc.incref(OWNER);
        rc.incref(OWNER);
        assert_eq!(rc.decref(OTHER), Decref::Queue);
        rc.incref(OTHER);
        assert_eq!(rc.merge_queued(), Decref::Alive);
        assert_eq!(rc.count(), Some(3));
        assert_eq!(rc.local.load(Ordering::Relaxed), 3, "folded into local");
        for _ in 0..2 {
            assert_eq!(rc.decref(OWNER), Decref::Alive);
        }
        assert_eq!(rc.decref(OWNER), Decref::Dead);
    }

    #[test]
    fn objects_born_on_other_threads_are_shared_only() {
        let rc = RefCount::new_shared();
        rc.incref(OWNER);
        assert_eq!(rc.count(), Some(2));
        assert_eq!(rc.decref(OTHER), Decref::Alive);
        assert_eq!(rc.decref(OWNER), Decref::Dead);
    }

    #[test]
    fn immortal_objects_are_never_counted() {
        let rc = RefCount::new_owned();
        rc.make_immortal();
        for _ in 0..3 {
            rc.incref(OTHER);
            assert_eq!(rc.decref(OWNER), Decref::Alive);
            assert_eq!(rc.decref(OTHER), Decref::Alive);
        }
        assert_eq!(rc.count(), None);
    }

    #[test]
    fn overflowing_counts_saturate_into_immortality() {
        let rc = RefCount::new_owned();
        rc.local.store(LOCAL_MAX, Ordering::Relaxed);
        rc.incref(OWNER);
        assert!(rc.is_immortal());

        let rc = RefCount::new_shared();
        rc.shared.store(
            ((SHARED_SATURATE as u32) << SHIFT) | MERGED,
            Ordering::Relaxed,
        );
        rc.incref(OTHER);
        assert!(rc.is_immortal());
        assert_eq!(rc.decref(OTHER), Decref::Alive);
        assert_eq!(rc.count(), None);
    }

    #[test]
    fn host_flags_survive_counting_and_revival() {
        let rc = RefCount::new_owned();
        assert!(!rc.set_flag(FLAG_A, true));
        rc.incref(OTHER);
        assert_eq!(rc.decref(OTHER), Decref::Alive);
        assert!(rc.flag(FLAG_A) && !rc.flag(FLAG_B));
        assert_eq!(rc.decref(OWNER), Decref::Dead);
        rc.revive(false);
        assert!(rc.flag(FLAG_A));
        assert_eq!(rc.count(), Some(1));
        assert!(rc.set_flag(FLAG_A, false));
        assert_eq!(rc.decref(OTHER), Decref::Dead);
    }
}

/// Loom models: every interleaving of the counting protocol on 2-3 threads.
/// The "object" is freed when some thread gets [`Decref::Dead`]; the models
/// check that this happens exactly once and only after every reference is
/// gone, with the owner draining its merge queue at the end.
#[cfg(all(test, loom))]
mod loom_models {
    use super::*;
    use loom::cell::UnsafeCell;
    use loom::sync::Arc;
    use loom::sync::atomic::AtomicUsize;
    use loom::thread;

    /// A counted object with the bookkeeping the models assert on.
    struct Model {
        rc: RefCount,
        /// The object's fields: read by each user before it lets go, written
        /// when the object is freed. Loom reports a free that does not
        /// happen after every use (a decref that does not release, or a
        /// free that does not acquire).
        body: UnsafeCell<usize>,
        freed: AtomicUsize,
        queued: AtomicUsize,
    }

    impl Model {
        fn new() -> Arc<Self> {
            Arc::new(Self {
                rc: RefCount::new_owned(),
                body: UnsafeCell::new(7),
                freed: AtomicUsize::new(0),
                queued: AtomicUsize::new(0),
            })
        }

        fn outcome(&self, d: Decref) {
            match d {
                Decref::Alive => {}
                Decref::Dead => {
                    // SAFETY: loom checks this write is ordered after every read.
                    self.body.with_mut(|p| unsafe { *p = 0 });
                    assert_eq!(self.freed.fetch_add(1, Ordering::SeqCst), 0, "freed twice");
                }
                Decref::Queue => {
                    self.queued.fetch_add(1, Ordering::SeqCst);
                }
            }
        }

        fn decref(&self, owner: bool) {
            // SAFETY: loom checks this read is ordered before the free.
            assert_eq!(self.body.with(|p| unsafe { *p }), 7, "used after free");
            self.outcome(self.rc.decref(|| owner));
        }

        /// The owner drains its queue (after joining the others).
        fn drain(&self) {
            for _ in 0..self.queued.swap(0, Ordering::SeqCst) {
                self.outcome(self.rc.merge_queued());
            }
        }
    }

    /// Two threads each incref and decref an object the owner keeps.
    #[test]
    fn loom_incref_decref_on_three_threads() {
        loom::model(|| {
            let m = Model::new();
            let others: Vec<_> = (0..2)
                .map(|_| {
                    let m = m.clone();
                    thread::spawn(move || {
                        m.rc.incref(|| false);
                        m.decref(false);
                    })
                })
                .collect();
            m.rc.incref(|| true);
            m.decref(true);
            for t in others {
                t.join().unwrap();
            }
            assert_eq!(m.rc.count(), Some(1));
            m.decref(true);
            m.drain();
            assert_eq!(m.freed.load(Ordering::SeqCst), 1);
        });
    }

    /// The owner drops its last reference while another thread drops the
    /// one the owner gave it (counted locally): the merge and the queue
    /// race; the object is freed exactly once, after both.
    #[test]
    fn loom_last_decref_on_a_foreign_thread() {
        loom::model(|| {
            let m = Model::new();
            m.rc.incref(|| true); // this one goes to the other thread
            let other = {
                let m = m.clone();
                thread::spawn(move || m.decref(false))
            };
            m.decref(true);
            other.join().unwrap();
            m.drain();
            assert_eq!(m.freed.load(Ordering::SeqCst), 1);
        });
    }

    /// A shared reference (counted by another thread) races the owner's
    /// merge: the other thread may be the one that frees.
    #[test]
    fn loom_merge_races_a_shared_decref() {
        loom::model(|| {
            let m = Model::new();
            m.rc.incref(|| false); // counted in the shared word
            let other = {
                let m = m.clone();
                thread::spawn(move || {
                    m.rc.incref(|| false);
                    m.decref(false);
                    m.decref(false);
                })
            };
            m.decref(true);
            other.join().unwrap();
            m.drain();
            assert_eq!(m.freed.load(Ordering::SeqCst), 1);
        });
    }

    /// Two other threads drop owner-counted references (one queues, one
    /// goes negative) while the owner merges its queue mid-way.
    #[test]
    fn loom_queue_merge_races_other_decrefs() {
        loom::model(|| {
            let m = Model::new();
            m.rc.incref(|| true);
            m.rc.incref(|| true);
            let others: Vec<_> = (0..2)
                .map(|_| {
                    let m = m.clone();
                    thread::spawn(move || m.decref(false))
                })
                .collect();
            m.drain(); // whatever was queued so far
            for t in others {
                t.join().unwrap();
            }
            m.drain();
            assert_eq!(
                m.freed.load(Ordering::SeqCst),
                0,
                "the owner still holds one"
            );
            m.decref(true);
            m.drain();
            assert_eq!(m.freed.load(Ordering::SeqCst), 1);
        });
    }
}
