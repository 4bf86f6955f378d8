//! The gate of a heap: which thread may touch the heap's structures now,
//! and the queues through which other threads hand objects to it.
//!
//! Reference counts ([`crate::RefCount`]) may change on any thread, but
//! freeing an object touches the heap (its allocator, its collector lists,
//! finalisers), and so does every other heap operation. The gate is a
//! re-entrant lock held by at most one thread, its **holder**:
//!
//! - a host that uses the heap from one thread at a time enters the gate for
//!   each operation ([`Gate::enter`]/[`Gate::leave`]); objmodel's Rust API,
//!   whose heaps never leave their thread, holds it for the heap's life;
//! - a thread whose decref killed an object calls [`Gate::release`]: the
//!   holder frees it at once; another thread frees it if the gate is free,
//!   and otherwise pushes it on `pending`, which the holder drains before
//!   it leaves. So an object never dies while a collection (which runs
//!   inside the gate) is looking at it.
//! - a non-owner decref that needs the owner to merge counts
//!   ([`crate::Decref::Queue`]) goes to the `merges` queue, with the
//!   [`Handoff`] that says how many references the entry holds; only the
//!   **owner** thread drains it, because only it may write the local counts.
//!
//! Ownership moves (contract 1.1, "a heap belongs to no thread"): the owner
//! is the thread with the fast counting path, not the only one that may use
//! the heap. It changes in two ways, each with a happens-before edge from
//! the old owner's last local count to the new owner's first:
//!
//! - **the owner exits**: a thread-local destructor of the owner thread
//!   swaps the owner word to [`NO_OWNER`] (release; it reaches the word
//!   through an [`Arc`]'d link that the gate clears when dropped); the next
//!   thread inside the gate sees it and [`Gate::adopt`]s the heap (acquire),
//!   then drains the merges that waited for an owner. Caches of the owner
//!   (objmodel's types) point at the owner word rather than copy it, so no
//!   thread that reuses an exited owner's token is taken for the owner;
//! - **the host hands the heap over** (`obj_heap_adopt`): the host orders
//!   the old owner's counting before the call, as any handover does.
//!
//! Until the next owner comes, every thread counts in the shared word, which
//! is always correct, only slower.
//!
//! Protocol of `release` against `leave` (checked by the loom models below).
//! One atomic word, `state`, holds the holder's token (0: nobody) and a
//! `PENDING` bit; every change to it is a read-modify-write, so the
//! argument needs only the word's modification order:
//!
//! - a releasing thread pushes the object on `pending` (under its mutex),
//!   then either takes the free gate (`0 -> me`, and drains on leaving)
//!   or sets `PENDING` on the held one;
//! - the holder leaves with `me -> 0`, which fails while `PENDING` is set:
//!   it then clears the bit (`me|PENDING -> me`), drains, and tries again.
//!   So `pending` is empty whenever the gate is free.
//!   The clearing read-modify-write reads the value the releasing thread
//!   wrote, so its push happened before the holder's drain.

use core::ptr::NonNull;

use crate::Handoff;
use crate::sync::{Arc, AtomicUsize, Mutex, Ordering, yield_now};

/// An object handed between threads (its address; the gate never reads it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Handed(NonNull<u8>);

// SAFETY: the gate only stores and returns the address; whoever takes it
// out is the thread allowed to use the object (holder or owner).
unsafe impl Send for Handed {}

/// A token naming the calling thread: non-zero, a multiple of 8, unique
/// among live threads (a new thread may reuse the token of one that has
/// exited).
///
/// On x86-64 Linux it is the thread pointer (`%fs:0`, the address of the
/// thread's control block), read by one instruction that the compiler may
/// hoist out of loops, as free-threaded CPython's `_Py_ThreadId` does; elsewhere
/// (and under miri and loom) the address of a thread-local.
#[inline]
pub fn thread_token() -> usize {
    #[cfg(all(target_arch = "x86_64", target_os = "linux", not(miri), not(loom)))]
    {
        let tp: usize;
        // SAFETY: on x86-64 Linux, %fs:0 holds the thread pointer (the TCB
        // points to itself); reading it has no side effects and the value
        // never changes during the thread's life.
        unsafe {
            core::arch::asm!(
                "mov {}, qword ptr fs:[0]",
                out(reg) tp,
                options(pure, readonly, nostack, preserves_flags)
            );
        }
        tp
    }
    #[cfg(not(all(target_arch = "x86_64", target_os = "linux", not(miri), not(loom))))]
    {
        std::thread_local! {
            static TOKEN: u64 = const { 0 };
        }
        TOKEN.with(|t| core::ptr::from_ref(t).addr())
    }
}

/// The `state` bit saying that `pending` has objects for the holder.
const PENDING: usize = 1;

/// Locks `m`; a panic while it was held poisons nothing we rely on (a
/// push or a take of a `Vec`), so a poisoned lock is used as it is.
fn lock<T>(m: &Mutex<T>) -> crate::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poison| poison.into_inner())
}

/// A queue of handed objects (`T`: an object and what comes with it) with
/// a length readable without the lock.
#[derive(Debug)]
struct HandQueue<T> {
    items: Mutex<Vec<T>>,
    len: AtomicUsize,
}

impl<T> Default for HandQueue<T> {
    fn default() -> Self {
        Self {
            items: Mutex::new(Vec::new()),
            len: AtomicUsize::new(0),
        }
    }
}

impl<T> HandQueue<T> {
    fn push(&self, item: T) {
        let mut items = lock(&self.items);
        items.push(item);
        self.len.store(items.len(), Ordering::Release);
    }

    fn take(&self) -> Vec<T> {
        let mut items = lock(&self.items);
        self.len.store(0, Ordering::Relaxed);
        core::mem::take(&mut *items)
    }

    /// A hint: a push that happened before the call is seen.
    #[inline]
    fn is_empty(&self) -> bool {
        self.len.load(Ordering::Acquire) == 0
    }
}

/// The owner word of a heap whose owner thread has exited.
pub(crate) const NO_OWNER: usize = 0;

/// What an owner thread's exit hook needs of a gate, shared with it: the
/// gate's owner word while the gate lives (the gate clears it when dropped,
/// under the lock, so the hook never writes to a freed gate).
#[derive(Debug)]
struct ExitLink(Mutex<Option<OwnerWordPtr>>);

/// The address of a gate's owner word.
#[derive(Debug, Clone, Copy)]
struct OwnerWordPtr(NonNull<AtomicUsize>);

// SAFETY: only dereferenced under the `ExitLink` lock, while the gate that
// holds the word is alive (its drop takes the lock and clears the pointer).
unsafe impl Send for OwnerWordPtr {}

#[cfg(not(loom))]
std::thread_local! {
    /// The gates this thread owns (or once owned), given up when it exits.
    static OWNED: OwnedGates = const { OwnedGates(core::cell::RefCell::new(Vec::new())) };
}

/// The gates a thread owns, given up when the thread exits.
#[cfg(not(loom))]
struct OwnedGates(core::cell::RefCell<Vec<(Arc<ExitLink>, usize)>>);

#[cfg(not(loom))]
impl OwnedGates {
    fn push(&self, link: Arc<ExitLink>, me: usize) {
        let mut links = self.0.borrow_mut();
        // Links of freed gates go first.
        if links.len() >= 8 && links.len().is_power_of_two() {
            links.retain(|(l, _)| Arc::strong_count(l) > 1);
        }
        links.push((link, me));
    }
}

#[cfg(not(loom))]
impl Drop for OwnedGates {
    fn drop(&mut self) {
        for (link, me) in self.0.get_mut().drain(..) {
            give_up(&link, me);
        }
    }
}

/// Thread `me` stops owning the gate of `link`, if the gate lives and `me`
/// still owns it. Release: its local counts happen before the next owner's.
fn give_up(link: &ExitLink, me: usize) {
    if let Some(word) = *lock(&link.0) {
        // SAFETY: the gate is alive while its link holds the pointer, and
        // the lock keeps its drop from clearing it meanwhile.
        let word = unsafe { word.0.as_ref() };
        let _ = word.compare_exchange(me, NO_OWNER, Ordering::Release, Ordering::Relaxed);
    }
}

/// The gate of one heap. See the module documentation.
#[derive(Debug)]
pub struct Gate {
    /// The owner's thread token, or [`NO_OWNER`] once it has exited.
    owner: AtomicUsize,
    /// For the owner thread's exit hook.
    exit: Arc<ExitLink>,
    /// The holder's token (0: free), with the `PENDING` bit.
    state: AtomicUsize,
    /// Dead objects for the holder to free.
    pending: HandQueue<Handed>,
    /// Objects for the owner to merge, with what each entry holds.
    merges: HandQueue<(Handed, Handoff)>,
}

impl Drop for Gate {
    fn drop(&mut self) {
        *lock(&self.exit.0) = None;
    }
}

impl Gate {
    /// A gate whose owner is thread `owner` (a [`thread_token`]), held by it
    /// from the start if `entered`. Once the gate is at the address where
    /// it stays, the owner calls [`Gate::give_up_on_exit`].
    pub fn new(owner: usize, entered: bool) -> Self {
        debug_assert!(owner != 0 && owner & PENDING == 0);
        Self {
            owner: AtomicUsize::new(owner),
            exit: Arc::new(ExitLink(Mutex::new(None))),
            state: AtomicUsize::new(if entered { owner } else { 0 }),
            pending: HandQueue::default(),
            merges: HandQueue::default(),
        }
    }

    /// The owner's thread token, or 0 (no owner) once it has exited
    /// and until a thread adopts the gate. Relaxed: see [`Gate::adopt`] for
    /// the ordering a new owner needs.
    #[inline]
    pub fn owner(&self) -> usize {
        self.owner.load(Ordering::Relaxed)
    }

    /// Whether the owner has exited and no thread has adopted the gate yet.
    #[inline]
    pub fn is_ownerless(&self) -> bool {
        self.owner() == NO_OWNER
    }

    /// The owner word itself, for caches that must see every change of
    /// owner (it stays at this address for the gate's life).
    #[inline]
    pub fn owner_word(&self) -> &AtomicUsize {
        &self.owner
    }

    /// Has the calling thread, the owner, give the gate up when it exits.
    /// The gate must not move afterwards (its owner word's address is kept).
    pub fn give_up_on_exit(&self) {
        *lock(&self.exit.0) = Some(OwnerWordPtr(NonNull::from(&self.owner)));
        self.register_owner(self.owner());
    }

    /// Makes thread `me`, inside the gate, the owner: from now on it
    /// counts locally and merges. The previous owner has exited (the owner
    /// word read 0, no owner), or its counting happens before this call (a
    /// host's handover).
    pub fn adopt(&self, me: usize) {
        debug_assert!(self.is_held_by(me), "adopted from outside the gate");
        // Acquire: the exited owner's counts (released by its exit hook)
        // happen before this thread's.
        let _ = self.owner.swap(me, Ordering::AcqRel);
        self.register_owner(me);
    }

    /// Has the calling thread, `me`, give the gate up when it exits.
    fn register_owner(&self, me: usize) {
        // A thread already exiting cannot register: it gives up at once.
        // (Loom's threads share the OS thread: its models give up by hand.)
        #[cfg(not(loom))]
        if OWNED
            .try_with(|o| o.push(Arc::clone(&self.exit), me))
            .is_err()
        {
            give_up(&self.exit, me);
        }
        #[cfg(loom)]
        let _ = me;
    }

    /// Whether thread `me` holds the gate.
    #[inline]
    pub fn is_held_by(&self, me: usize) -> bool {
        self.state.load(Ordering::Relaxed) & !PENDING == me
    }

    /// Tries once to take the free gate.
    #[inline]
    fn try_enter(&self, me: usize) -> bool {
        self.state
            .compare_exchange(0, me, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    /// Enters the gate, waiting while another thread holds it. Returns
    /// whether this call took it (and must [`Gate::leave`]); false when
    /// `me` held it already (a call made from inside another).
    #[inline]
    pub fn enter(&self, me: usize) -> bool {
        if self.is_held_by(me) {
            return false;
        }
        if !self.try_enter(me) {
            self.wait_to_enter(me);
        }
        true
    }

    /// The contended half of [`Gate::enter`].
    #[cold]
    #[inline(never)]
    fn wait_to_enter(&self, me: usize) {
        while !self.try_enter(me) {
            yield_now();
        }
    }

    /// Leaves the gate after freeing, with `free`, what other threads
    /// handed to it meanwhile (they set `PENDING` when they do, so a leave
    /// with nothing handed over is one compare-and-swap).
    #[inline]
    pub fn leave(&self, me: usize, free: &mut dyn FnMut(NonNull<u8>)) {
        if self
            .state
            .compare_exchange(me, 0, Ordering::Release, Ordering::Relaxed)
            .is_err()
        {
            self.leave_after_draining(me, free);
        }
    }

    /// The half of [`Gate::leave`] that frees what was handed over.
    #[cold]
    #[inline(never)]
    fn leave_after_draining(&self, me: usize, free: &mut dyn FnMut(NonNull<u8>)) {
        while let Err(now) =
            self.state
                .compare_exchange(me, 0, Ordering::Release, Ordering::Relaxed)
        {
            debug_assert_eq!(now, me | PENDING, "left by a thread outside the gate");
            // Acquire: the pushes that set the bit are visible to the drain.
            self.state.fetch_and(!PENDING, Ordering::Acquire);
            self.drain(free);
        }
    }

    /// Frees what other threads handed over (inside the gate).
    fn drain(&self, free: &mut dyn FnMut(NonNull<u8>)) {
        for o in self.pending.take() {
            free(o.0);
        }
    }

    /// Frees the dead object `o` with `free`, now if `me` holds the gate or
    /// can take it, otherwise through the holder.
    #[inline]
    pub fn release(&self, me: usize, o: NonNull<u8>, mut free: impl FnMut(NonNull<u8>)) {
        if self.is_held_by(me) {
            free(o);
            return;
        }
        if self.try_enter(me) {
            free(o);
            self.leave(me, &mut free);
            return;
        }
        self.release_to_holder(me, o, &mut free);
    }

    /// The half of [`Gate::release`] for a gate another thread holds: the
    /// object goes to the holder, unless the gate comes free meanwhile.
    #[cold]
    #[inline(never)]
    fn release_to_holder(&self, me: usize, o: NonNull<u8>, free: &mut dyn FnMut(NonNull<u8>)) {
        self.pending.push(Handed(o));
        let mut now = self.state.load(Ordering::Relaxed);
        loop {
            let (new, took) = if now == 0 {
                (me, true)
            } else {
                (now | PENDING, false)
            };
            match self
                .state
                .compare_exchange_weak(now, new, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) if took => {
                    self.drain(free);
                    return self.leave(me, free);
                }
                Ok(_) => return,
                Err(seen) => now = seen,
            }
        }
    }

    /// Hands the owner an object whose counts it must merge, with the
    /// `handoff` of its [`crate::Decref::Queue`].
    pub fn queue_merge(&self, o: NonNull<u8>, handoff: Handoff) {
        self.merges.push((Handed(o), handoff));
    }

    /// Whether objects wait for the owner to merge them (a cheap check).
    #[inline]
    pub fn has_merges(&self) -> bool {
        !self.merges.is_empty()
    }

    /// Takes the objects waiting for a merge; the owner calls
    /// [`crate::RefCount::merge_queued`] on each, with its handoff.
    pub fn take_merges(&self) -> Vec<(NonNull<u8>, Handoff)> {
        self.merges
            .take()
            .into_iter()
            .map(|(o, h)| (o.0, h))
            .collect()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn obj(n: usize) -> NonNull<u8> {
        NonNull::new(core::ptr::without_provenance_mut(n * 16)).unwrap()
    }

    #[test]
    fn tokens_differ_between_threads() {
        let here = thread_token();
        let there = std::thread::spawn(thread_token).join().unwrap();
        assert_ne!(here, 0);
        assert_eq!(here % 8, 0);
        assert_ne!(here, there);
        assert_eq!(here, thread_token());
    }

    #[test]
    fn entering_is_reentrant_and_releases_free_inside() {
        let gate = Gate::new(8, false);
        assert!(gate.enter(8));
        assert!(!gate.enter(8), "already inside");
        let mut freed = vec![];
        gate.release(8, obj(1), &mut |o| freed.push(o));
        assert_eq!(freed, [obj(1)]);
        gate.leave(8, &mut |_| unreachable!());
        assert!(!gate.is_held_by(8));
    }

    #[test]
    fn releases_while_held_elsewhere_wait_for_the_holder() {
        let gate = Gate::new(8, true);
        let mut freed = vec![];
        gate.release(16, obj(7), &mut |o| freed.push(o));
        assert!(freed.is_empty(), "the holder frees it");
        gate.leave(8, &mut |o| freed.push(o));
        assert_eq!(freed, [obj(7)]);
        // A free gate lets the releasing thread free at once.
        gate.release(16, obj(8), &mut |o| freed.push(o));
        assert_eq!(freed, [obj(7), obj(8)]);
        assert!(!gate.is_held_by(16));
    }

    #[test]
    fn merges_wait_for_the_owner() {
        let gate = Gate::new(8, true);
        assert!(!gate.has_merges());
        gate.queue_merge(obj(3), Handoff::One);
        gate.queue_merge(obj(3), Handoff::Floor);
        assert!(gate.has_merges());
        assert_eq!(
            gate.take_merges(),
            [(obj(3), Handoff::One), (obj(3), Handoff::Floor)]
        );
        assert!(!gate.has_merges());
    }
}

/// Loom models of the gate, alone and with the counting protocol.
#[cfg(all(test, loom))]
mod loom_models {
    use super::*;
    use crate::{Decref, RefCount};
    use loom::sync::Arc;
    use loom::sync::atomic::AtomicBool;
    use loom::thread;

    const OWNER: usize = 8;
    const OTHER: usize = 16;
    const THIRD: usize = 24;

    struct World {
        gate: Gate,
        rc: RefCount,
        /// A collection is reading counts (inside the gate).
        collecting: AtomicBool,
        freed: AtomicUsize,
    }

    impl World {
        fn new(entered: bool) -> Arc<Self> {
            Arc::new(Self {
                gate: Gate::new(OWNER, entered),
                rc: RefCount::new_owned(),
                collecting: AtomicBool::new(false),
                freed: AtomicUsize::new(0),
            })
        }

        /// Frees the object, as the heap would: only inside the gate, never
        /// during a collection, once.
        fn free_as(&self, me: usize) -> impl FnMut(NonNull<u8>) + '_ {
            move |_| {
                assert!(self.gate.is_held_by(me), "freed outside the gate");
                assert!(
                    !self.collecting.load(Ordering::SeqCst),
                    "freed during a collection"
                );
                assert_eq!(self.freed.fetch_add(1, Ordering::SeqCst), 0, "freed twice");
            }
        }

        fn decref(&self, me: usize) {
            // The first owner stays the owner in the models that use this.
            match self.rc.decref(|| me == OWNER) {
                Decref::Alive => {}
                Decref::Dead => self
                    .gate
                    .release(me, NonNull::dangling(), &mut self.free_as(me)),
                Decref::Queue(h) => self.gate.queue_merge(NonNull::dangling(), h),
            }
        }

        /// The owner merges its queue (inside the gate).
        fn drain_merges(&self) {
            self.drain_merges_as(OWNER);
        }

        /// Thread `me`, the owner now, merges the queue (inside the gate).
        fn drain_merges_as(&self, me: usize) {
            for (_, h) in self.gate.take_merges() {
                if self.rc.merge_queued(h) == Decref::Dead {
                    self.gate
                        .release(me, NonNull::dangling(), &mut self.free_as(me));
                }
            }
        }
    }

    /// A release on a thread that finds the gate held races the holder's
    /// leave: the object is freed exactly once, by whichever thread ends
    /// up inside, never while the holder is still collecting.
    #[test]
    fn loom_release_races_leave() {
        loom::model(|| {
            let w = World::new(true);
            w.collecting.store(true, Ordering::SeqCst);
            let other = {
                let w = w.clone();
                thread::spawn(move || {
                    w.gate
                        .release(OTHER, NonNull::dangling(), &mut w.free_as(OTHER))
                })
            };
            w.collecting.store(false, Ordering::SeqCst);
            w.gate.leave(OWNER, &mut w.free_as(OWNER));
            other.join().unwrap();
            assert_eq!(w.freed.load(Ordering::SeqCst), 1);
        });
    }

    /// The last reference drops on a foreign thread while the owner is
    /// inside the gate collecting (reading counts) and then drops its own:
    /// freed once, never during the collection, by either thread.
    #[test]
    fn loom_foreign_last_decref_races_a_collection() {
        loom::model(|| {
            let w = World::new(false);
            w.rc.incref(|| false); // the other thread's reference
            assert!(w.gate.enter(OWNER));
            w.collecting.store(true, Ordering::SeqCst);
            let other = {
                let w = w.clone();
                thread::spawn(move || w.decref(OTHER))
            };
            let seen = w.rc.count();
            assert!(
                matches!(seen, Some(1..=2)),
                "a live object reads as live: {seen:?}"
            );
            w.collecting.store(false, Ordering::SeqCst);
            w.decref(OWNER);
            w.gate.leave(OWNER, &mut w.free_as(OWNER));
            other.join().unwrap();
            assert_eq!(w.freed.load(Ordering::SeqCst), 1);
        });
    }

    /// Two foreign threads drop references the owner counted (one is
    /// queued for a merge) while the owner enters, merges and drops its
    /// own: freed once, inside the gate.
    #[test]
    fn loom_queued_merge_with_two_foreign_threads() {
        loom::model(|| {
            let w = World::new(false);
            w.rc.incref(|| true);
            w.rc.incref(|| true);
            let others: Vec<_> = [OTHER, THIRD]
                .into_iter()
                .map(|me| {
                    let w = w.clone();
                    thread::spawn(move || w.decref(me))
                })
                .collect();
            assert!(w.gate.enter(OWNER));
            w.decref(OWNER);
            w.drain_merges();
            w.gate.leave(OWNER, &mut w.free_as(OWNER));
            for t in others {
                t.join().unwrap();
            }
            assert!(w.gate.enter(OWNER));
            w.drain_merges();
            w.gate.leave(OWNER, &mut w.free_as(OWNER));
            assert_eq!(w.freed.load(Ordering::SeqCst), 1);
        });
    }

    /// The owner counts a reference, hands one to another thread and exits
    /// (its exit hook gives the gate up) while that thread drops the handed
    /// reference (queued for a merge). A third thread waits for the heap to
    /// be ownerless, adopts it, merges, and drops the original reference on
    /// the owner's fast path: the exiting owner's local counts are visible
    /// to it, and the object is freed once, inside the gate.
    #[test]
    fn loom_owner_exits_and_another_thread_adopts() {
        loom::model(|| {
            let w = World::new(false);
            w.gate.give_up_on_exit();
            w.rc.incref(|| true); // for OTHER
            let owner = {
                let w = w.clone();
                thread::spawn(move || {
                    w.rc.incref(|| w.gate.owner() == OWNER);
                    w.decref(OWNER);
                    give_up(&w.gate.exit, OWNER);
                })
            };
            let other = {
                let w = w.clone();
                thread::spawn(move || w.decref(OTHER))
            };
            while w.gate.owner() != NO_OWNER {
                thread::yield_now();
            }
            assert!(w.gate.enter(THIRD));
            w.gate.adopt(THIRD);
            w.drain_merges_as(THIRD);
            match w.rc.decref(|| w.gate.owner() == THIRD) {
                Decref::Alive => {}
                Decref::Dead => w
                    .gate
                    .release(THIRD, NonNull::dangling(), &mut w.free_as(THIRD)),
                Decref::Queue(h) => w.gate.queue_merge(NonNull::dangling(), h),
            }
            w.gate.leave(THIRD, &mut w.free_as(THIRD));
            owner.join().unwrap();
            other.join().unwrap();
            assert!(w.gate.enter(THIRD));
            w.drain_merges_as(THIRD);
            w.gate.leave(THIRD, &mut w.free_as(THIRD));
            assert_eq!(w.freed.load(Ordering::SeqCst), 1);
        });
    }
}
