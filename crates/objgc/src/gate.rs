//! The gate of a heap: which thread may touch the heap's structures now,
//! and the queues through which other threads hand objects to it.
//!
//! Reference counts ([`crate::RefCount`]) may change on any thread, but
//! freeing an object touches the heap (its allocator, its collector lists,
//! finalisers), and so does every other heap operation. The gate is a
//! re-entrant lock held by at most one thread, its **holder**. A thread
//! uses the heap during a **stay** inside the gate: [`Gate::enter`] begins
//! one (nested calls join the stay they are in), [`Gate::leave`] ends it.
//!
//! - **The owner keeps the gate between its stays.** Hosts serialise their
//!   calls on a heap (contract), so the owner thread's stays begin and end
//!   with plain loads and stores: `inside` names the thread in a stay. The
//!   gate stays held in between, so other threads never free an object
//!   under the owner's feet.
//! - **Another thread's stay takes the gate over** when the owner is
//!   between stays: the host's serialisation orders the owner's last stay
//!   before this one, so `inside` reads 0; it takes the gate with one
//!   compare-and-swap, and gives it up when its stay ends (the owner takes
//!   it back at its next stay). A free gate is taken the same way.
//! - **A thread whose decref killed an object** calls [`Gate::release`]:
//!   inside a stay it frees it at once; a free gate it takes for the time
//!   of freeing; a gate held by another thread gets the object on
//!   `pending`, which the holder frees when it next enters or leaves.
//!   Decrefs are not serialised with the host's calls, so the owner,
//!   freeing between its stays, marks the gate `FREEING` (a
//!   compare-and-swap) for that time: the gate is not taken over meanwhile.
//!   So an object never dies while a collection (which runs inside a stay)
//!   is looking at it.
//! - A non-owner decref that needs the owner to merge counts
//!   ([`crate::Decref::Queue`]) goes to the `merges` queue, with the
//!   [`Handoff`] that says how many references the entry holds; only the
//!   **owner** thread drains it, because only it may write the local counts.
//!
//! Objects a foreign thread drops while the owner is between stays are
//! freed at the owner's next stay (as free-threaded CPython merges at its
//! next check), not on the dropping thread.
//!
//! Ownership moves (contract 1.1, "a heap belongs to no thread"): the owner
//! is the thread with the fast counting path, not the only one that may use
//! the heap. It changes in two ways, each with a happens-before edge from
//! the old owner's last local count to the new owner's first:
//!
//! - **the owner exits**: a thread-local destructor of the owner thread
//!   swaps the owner word to [`NO_OWNER`] and lets go of the gate if it
//!   keeps it (release; it reaches the gate through an [`Arc`]'d link that
//!   the gate clears when dropped); the next thread inside the gate sees it
//!   and [`Gate::adopt`]s the heap (acquire), then drains the merges that
//!   waited for an owner. Caches of the owner (objmodel's types) point at
//!   the owner word rather than copy it, so no thread that reuses an exited
//!   owner's token is taken for the owner;
//! - **the host hands the heap over** (`obj_heap_adopt`): the host orders
//!   the old owner's counting before the call, as any handover does.
//!
//! Until the next owner comes, every thread counts in the shared word, which
//! is always correct, only slower.
//!
//! The protocol (checked by the loom models below). One atomic word,
//! `state`, holds the holder's token (0: nobody) and two bits, `PENDING`
//! and `FREEING`; every change to it by a thread that does not hold the
//! gate is a read-modify-write, so the argument needs only the word's
//! modification order:
//!
//! - a releasing thread pushes the object on `pending` (under its mutex),
//!   then either takes the free gate (and drains) or sets `PENDING` on the
//!   held one;
//! - a holder that sees `PENDING` clears it (a read-modify-write, which
//!   reads the value the releasing thread wrote, so its push happened
//!   before) and drains; a holder that gives the gate up does so only from
//!   a value without `PENDING`. So `pending` is empty whenever the gate is
//!   free, except after an owner's exit, which keeps the bit (`PENDING`
//!   alone: free, with objects for the next holder);
//! - the gate is taken over from the owner only from a value without
//!   `FREEING`, with `inside` 0; the owner sets `FREEING`
//!   only from a value it holds.

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
/// The `state` bit saying that the owner, between its stays, is freeing
/// an object: the gate cannot be taken over until it is done.
const FREEING: usize = 2;
/// The bits of `state` that are not the holder's token.
const FLAGS: usize = PENDING | FREEING;

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
/// gate while it lives (the gate clears the pointer when dropped, under
/// the lock, so the hook never touches a freed gate).
#[derive(Debug)]
struct ExitLink(Mutex<Option<GatePtr>>);

/// The address of a gate.
#[derive(Debug, Clone, Copy)]
struct GatePtr(NonNull<Gate>);

// SAFETY: only dereferenced under the `ExitLink` lock, while the gate is
// alive (its drop takes the lock and clears the pointer); the gate's
// fields used through it are atomics.
unsafe impl Send for GatePtr {}

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
/// still owns it, and lets go of the gate if it keeps it. Release: its
/// local counts and its last stay happen before the next owner's.
fn give_up(link: &ExitLink, me: usize) {
    if let Some(gate) = *lock(&link.0) {
        // SAFETY: the gate is alive while its link holds the pointer, and
        // the lock keeps its drop from clearing it meanwhile.
        let gate = unsafe { gate.0.as_ref() };
        let _ = gate
            .owner
            .compare_exchange(me, NO_OWNER, Ordering::Release, Ordering::Relaxed);
        gate.let_go(me);
    }
}

/// The gate of one heap. See the module documentation.
#[derive(Debug)]
pub struct Gate {
    /// The owner's thread token, or [`NO_OWNER`] once it has exited.
    owner: AtomicUsize,
    /// For the owner thread's exit hook.
    exit: Arc<ExitLink>,
    /// The holder's token (0: free), with the `PENDING` and `FREEING` bits.
    state: AtomicUsize,
    /// The token of the thread in a stay, or 0: the holder, or nobody
    /// while the owner keeps the gate between its stays. Written by the
    /// holder only (each thread that takes the gate sets it, and clears it
    /// before giving the gate up); read by a thread that would take the
    /// gate over from the owner, after the owner's last stay.
    inside: AtomicUsize,
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
    /// in a stay from the start if `entered`. Once the gate is at the
    /// address where it stays, the owner calls [`Gate::give_up_on_exit`].
    pub fn new(owner: usize, entered: bool) -> Self {
        debug_assert!(owner != 0 && owner & FLAGS == 0);
        Self {
            owner: AtomicUsize::new(owner),
            exit: Arc::new(ExitLink(Mutex::new(None))),
            state: AtomicUsize::new(if entered { owner } else { 0 }),
            inside: AtomicUsize::new(if entered { owner } else { 0 }),
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
    /// The gate must not move afterwards (its address is kept).
    pub fn give_up_on_exit(&self) {
        *lock(&self.exit.0) = Some(GatePtr(NonNull::from(self)));
        self.register_owner(self.owner());
    }

    /// Makes thread `me`, inside the gate, the owner: from now on it
    /// counts locally and merges, and keeps the gate between its stays.
    /// The previous owner has exited (the owner word read 0, no owner), or
    /// its counting happens before this call (a host's handover).
    pub fn adopt(&self, me: usize) {
        debug_assert!(self.is_inside(me), "adopted from outside the gate");
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

    /// Whether thread `me` holds the gate (in a stay or, the owner,
    /// between its stays).
    #[inline]
    pub fn is_held_by(&self, me: usize) -> bool {
        self.state.load(Ordering::Relaxed) & !FLAGS == me
    }

    /// Whether thread `me` is in a stay inside the gate: it may use the
    /// heap.
    #[inline]
    pub fn is_inside(&self, me: usize) -> bool {
        self.inside.load(Ordering::Relaxed) == me
    }

    /// Thread `me`, holding the gate, begins a stay.
    #[inline]
    fn begin_stay(&self, me: usize) {
        self.inside.store(me, Ordering::Relaxed);
    }

    /// The holder's stay ends (it may keep the gate).
    #[inline]
    fn end_stay(&self) {
        self.inside.store(0, Ordering::Relaxed);
    }

    /// Begins a stay of thread `me` inside the gate, waiting while another
    /// thread is inside, after freeing with `free` what other threads
    /// handed over. Returns whether a stay began (the caller must
    /// [`Gate::leave`]); false when `me` is in one already (a call made
    /// from inside another). The owner between its stays pays two loads,
    /// two compares and a store; a nested call one load and a compare.
    #[inline]
    pub fn enter(&self, me: usize, free: &mut dyn FnMut(NonNull<u8>)) -> bool {
        if self.is_inside(me) {
            return false;
        }
        if self.state.load(Ordering::Relaxed) == me {
            self.begin_stay(me);
            return true;
        }
        self.enter_slowly(me, free)
    }

    /// The half of [`Gate::enter`] that drains, takes the gate, or waits.
    #[cold]
    #[inline(never)]
    fn enter_slowly(&self, me: usize, free: &mut dyn FnMut(NonNull<u8>)) -> bool {
        loop {
            let now = self.state.load(Ordering::Relaxed);
            if now & !FLAGS == me {
                // The owner between its stays, with objects pending.
                self.begin_stay(me);
                if now & PENDING != 0 {
                    self.clear_pending_and_drain(free);
                }
                return true;
            }
            if self.try_take(me, now, free) {
                return true;
            }
            yield_now();
        }
    }

    /// Takes the gate from its state `now` if it is free, or kept by the
    /// owner between its stays (the host's serialisation of calls orders
    /// that stay's end before this thread's call, so `inside` reads 0),
    /// and begins a stay there, freeing what waited with `free`.
    fn try_take(&self, me: usize, now: usize, free: &mut dyn FnMut(NonNull<u8>)) -> bool {
        let holder = now & !FLAGS;
        let takeable = holder == 0
            || (holder == self.owner()
                && now & FREEING == 0
                && self.inside.load(Ordering::Relaxed) == 0);
        if !takeable
            || self
                .state
                .compare_exchange(now, me, Ordering::Acquire, Ordering::Relaxed)
                .is_err()
        {
            return false;
        }
        self.begin_stay(me);
        if now & PENDING != 0 {
            self.drain(free);
        }
        true
    }

    /// Ends a stay of thread `me` that [`Gate::enter`] began. The owner
    /// keeps the gate (a store); another thread gives it up, after freeing
    /// with `free` what other threads handed over meanwhile (they set
    /// `PENDING` when they do, so a leave with nothing handed over is one
    /// compare-and-swap).
    #[inline]
    pub fn leave(&self, me: usize, free: &mut dyn FnMut(NonNull<u8>)) {
        if self.owner() == me {
            self.end_stay();
            return;
        }
        self.give_gate_up(me, free);
    }

    /// A non-owner's end of stay: gives the gate up.
    #[inline]
    fn give_gate_up(&self, me: usize, free: &mut dyn FnMut(NonNull<u8>)) {
        self.end_stay_moving(me, me, 0, free);
    }

    /// Ends the stay of `me`, holding the gate as `from`, and sets the
    /// gate to `to`: the stay ends first (once the gate changes, another
    /// thread may take it and set `inside` itself). What other threads
    /// handed over meanwhile (`PENDING`, which makes the change fail) is
    /// freed with `free` in a stay, and the change tried again.
    #[inline]
    fn end_stay_moving(
        &self,
        me: usize,
        from: usize,
        to: usize,
        free: &mut dyn FnMut(NonNull<u8>),
    ) {
        self.end_stay();
        if self
            .state
            .compare_exchange(from, to, Ordering::Release, Ordering::Relaxed)
            .is_err()
        {
            self.end_stay_after_draining(me, from, to, free);
        }
    }

    /// The half of [`Gate::end_stay_moving`] that frees what was handed
    /// over.
    #[cold]
    #[inline(never)]
    fn end_stay_after_draining(
        &self,
        me: usize,
        from: usize,
        to: usize,
        free: &mut dyn FnMut(NonNull<u8>),
    ) {
        while let Err(now) =
            self.state
                .compare_exchange(from, to, Ordering::Release, Ordering::Relaxed)
        {
            debug_assert_eq!(now, from | PENDING, "left by a thread outside the gate");
            self.begin_stay(me);
            self.clear_pending_and_drain(free);
            self.end_stay();
        }
    }

    /// Clears `PENDING` and frees what other threads handed over (by the
    /// holder, in a stay).
    fn clear_pending_and_drain(&self, free: &mut dyn FnMut(NonNull<u8>)) {
        // Acquire: the pushes that set the bit are visible to the drain.
        self.state.fetch_and(!PENDING, Ordering::Acquire);
        self.drain(free);
    }

    /// Frees what other threads handed over (inside the gate).
    fn drain(&self, free: &mut dyn FnMut(NonNull<u8>)) {
        for o in self.pending.take() {
            free(o.0);
        }
    }

    /// The exiting owner `me` lets go of the gate if it keeps it, keeping
    /// `PENDING` for the next holder (see the module documentation).
    fn let_go(&self, me: usize) {
        let mut now = self.state.load(Ordering::Relaxed);
        while now & !FLAGS == me {
            debug_assert_eq!(now & FREEING, 0, "an exiting owner is not freeing");
            // A later thread with the same token must not find itself inside.
            self.end_stay();
            match self.state.compare_exchange_weak(
                now,
                now & PENDING,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => return,
                Err(seen) => now = seen,
            }
        }
    }

    /// Frees the dead object `o` with `free`: now if `me` is in a stay, is
    /// the owner keeping the gate, or can take the free gate; otherwise
    /// through the holder.
    #[inline]
    pub fn release(&self, me: usize, o: NonNull<u8>, mut free: impl FnMut(NonNull<u8>)) {
        if self.is_inside(me) {
            free(o);
            return;
        }
        // The owner between its stays: mark the gate, free, unmark.
        if self
            .state
            .compare_exchange(me, me | FREEING, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            self.begin_stay(me);
            free(o);
            return self.end_free_between_stays(me, &mut free);
        }
        self.release_outside(me, o, &mut free);
    }

    /// Ends the stay of an owner that marked its gate `FREEING` (see
    /// [`Gate::end_stay_moving`]), keeping the gate.
    #[inline]
    fn end_free_between_stays(&self, me: usize, free: &mut dyn FnMut(NonNull<u8>)) {
        self.end_stay_moving(me, me | FREEING, me, free);
    }

    /// The half of [`Gate::release`] for a thread outside any stay that
    /// did not mark the gate at once.
    #[cold]
    #[inline(never)]
    fn release_outside(&self, me: usize, o: NonNull<u8>, free: &mut dyn FnMut(NonNull<u8>)) {
        let mut now = self.state.load(Ordering::Relaxed);
        loop {
            let holder = now & !FLAGS;
            // The gate kept by this thread, the owner between its stays
            // (objects pending), or a free one; `PENDING` stays for the
            // end of the stay to drain.
            if holder != me && holder != 0 {
                return self.release_to_holder(me, o, free);
            }
            let taken = self.taking_free_gate(me);
            match self.state.compare_exchange_weak(
                now,
                taken | now & PENDING,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    self.begin_stay(me);
                    free(o);
                    return self.end_release_stay(me, taken, free);
                }
                Err(seen) => now = seen,
            }
        }
    }

    /// The state with which thread `me`, outside any call, takes the free
    /// gate to free an object: the owner marks it `FREEING` (its decref is
    /// not serialised with other threads' calls, which could otherwise take
    /// the gate over from it meanwhile); another thread cannot be taken
    /// over from.
    fn taking_free_gate(&self, me: usize) -> usize {
        if self.owner() == me { me | FREEING } else { me }
    }

    /// Ends the stay of thread `me`, which took the free gate as `taken`
    /// ([`Gate::taking_free_gate`]) to free objects.
    fn end_release_stay(&self, me: usize, taken: usize, free: &mut dyn FnMut(NonNull<u8>)) {
        if taken & FREEING != 0 {
            self.end_free_between_stays(me, free);
        } else {
            self.leave(me, free);
        }
    }

    /// The half of [`Gate::release`] for a gate another thread holds: the
    /// object goes to the holder, unless the gate comes free meanwhile.
    fn release_to_holder(&self, me: usize, o: NonNull<u8>, free: &mut dyn FnMut(NonNull<u8>)) {
        self.pending.push(Handed(o));
        let mut now = self.state.load(Ordering::Relaxed);
        loop {
            let (new, took) = if now & !FLAGS == 0 {
                (self.taking_free_gate(me), true)
            } else {
                (now | PENDING, false)
            };
            match self
                .state
                .compare_exchange_weak(now, new, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) if took => {
                    self.begin_stay(me);
                    self.drain(free);
                    return self.end_release_stay(me, new, free);
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

    /// Records what a gate frees, checking that `me` is inside.
    fn freer<'a>(
        gate: &'a Gate,
        me: usize,
        freed: &'a mut Vec<NonNull<u8>>,
    ) -> impl FnMut(NonNull<u8>) + 'a {
        move |o| {
            assert!(gate.is_inside(me), "freed outside a stay");
            freed.push(o);
        }
    }

    #[test]
    fn entering_is_reentrant_and_releases_free_inside() {
        let gate = Gate::new(8, false);
        let mut freed = vec![];
        assert!(gate.enter(8, &mut |_| unreachable!()));
        assert!(!gate.enter(8, &mut |_| unreachable!()), "already inside");
        gate.release(8, obj(1), freer(&gate, 8, &mut freed));
        assert_eq!(freed, [obj(1)]);
        gate.leave(8, &mut |_| unreachable!());
        assert!(gate.is_held_by(8), "the owner keeps the gate");
        assert!(!gate.is_inside(8));
    }

    #[test]
    fn the_owner_keeps_the_gate_and_frees_what_waited_at_its_next_stay() {
        let gate = Gate::new(8, true);
        gate.leave(8, &mut |_| unreachable!());
        let mut freed = vec![];
        gate.release(16, obj(7), |_| unreachable!("the holder frees it"));
        assert_eq!(gate.state.load(Ordering::Relaxed), 8 | PENDING);
        assert!(gate.enter(8, &mut freer(&gate, 8, &mut freed)));
        assert_eq!(freed, [obj(7)]);
        gate.leave(8, &mut |_| unreachable!());
        // Between its stays the owner frees at once, and keeps the gate.
        gate.release(8, obj(8), freer(&gate, 8, &mut freed));
        assert_eq!(freed, [obj(7), obj(8)]);
        assert_eq!(gate.state.load(Ordering::Relaxed), 8);
        assert!(!gate.is_inside(8));
    }

    #[test]
    fn another_threads_stay_takes_the_gate_over_and_gives_it_up() {
        let gate = Gate::new(8, true);
        // Not while the owner is in a stay.
        assert!(!gate.try_take(16, 8, &mut |_| unreachable!()));
        gate.leave(8, &mut |_| unreachable!());
        gate.release(24, obj(1), |_| unreachable!("the holder frees it"));
        let mut freed = vec![];
        assert!(gate.enter(16, &mut freer(&gate, 16, &mut freed)));
        assert_eq!(freed, [obj(1)], "taking the gate over drains it");
        assert!(gate.is_inside(16));
        assert!(!gate.enter(16, &mut |_| unreachable!()), "nested");
        gate.leave(16, &mut |_| unreachable!());
        assert_eq!(gate.state.load(Ordering::Relaxed), 0, "given up");
        // A free gate lets the releasing thread free at once.
        gate.release(24, obj(2), freer(&gate, 24, &mut freed));
        assert_eq!(freed, [obj(1), obj(2)]);
        assert_eq!(gate.state.load(Ordering::Relaxed), 0);
        // The owner takes it back.
        assert!(gate.enter(8, &mut |_| unreachable!()));
        gate.leave(8, &mut |_| unreachable!());
        assert!(gate.is_held_by(8));
    }

    #[test]
    fn an_exiting_owner_lets_go_and_keeps_what_waits() {
        let gate = Gate::new(8, true);
        gate.leave(8, &mut |_| unreachable!());
        gate.release(16, obj(4), |_| unreachable!("the holder frees it"));
        gate.let_go(8);
        assert_eq!(gate.state.load(Ordering::Relaxed), PENDING);
        let mut freed = vec![];
        assert!(gate.enter(24, &mut freer(&gate, 24, &mut freed)));
        assert_eq!(freed, [obj(4)]);
        gate.leave(24, &mut |_| unreachable!());
        assert_eq!(gate.state.load(Ordering::Relaxed), 0);
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
        /// OTHER is in a stay it took over from the owner.
        foreign_stay: AtomicBool,
        /// An object is being freed.
        in_free: AtomicBool,
        freed: AtomicUsize,
    }

    impl World {
        fn new(entered: bool) -> Arc<Self> {
            Arc::new(Self {
                gate: Gate::new(OWNER, entered),
                rc: RefCount::new_owned(),
                collecting: AtomicBool::new(false),
                foreign_stay: AtomicBool::new(false),
                in_free: AtomicBool::new(false),
                freed: AtomicUsize::new(0),
            })
        }

        /// Frees the object, as the heap would: only inside the gate, never
        /// during a collection, once.
        fn free_as(&self, me: usize) -> impl FnMut(NonNull<u8>) + '_ {
            move |_| {
                assert!(self.gate.is_inside(me), "freed outside a stay");
                assert!(
                    !self.foreign_stay.load(Ordering::SeqCst) || me == OTHER,
                    "freed during another thread's stay"
                );
                assert!(
                    !self.collecting.load(Ordering::SeqCst),
                    "freed during a collection"
                );
                self.in_free.store(true, Ordering::SeqCst);
                assert_eq!(self.freed.fetch_add(1, Ordering::SeqCst), 0, "freed twice");
                self.in_free.store(false, Ordering::SeqCst);
            }
        }

        /// Thread `me` begins a stay (it must not be in one).
        fn enter(&self, me: usize) {
            assert!(self.gate.enter(me, &mut self.free_as(me)));
        }

        /// Thread `me` ends its stay.
        fn leave(&self, me: usize) {
            self.gate.leave(me, &mut self.free_as(me));
        }

        /// Thread `me` begins and ends a stay, freeing what waited.
        fn visit(&self, me: usize) {
            self.enter(me);
            self.leave(me);
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

    /// OTHER releases the object while `holder`, in a stay, collects and
    /// then leaves.
    fn release_races_a_leave(w: &Arc<World>, holder: usize) {
        w.collecting.store(true, Ordering::SeqCst);
        let other = {
            let w = w.clone();
            thread::spawn(move || {
                w.gate
                    .release(OTHER, NonNull::dangling(), &mut w.free_as(OTHER))
            })
        };
        w.collecting.store(false, Ordering::SeqCst);
        w.leave(holder);
        other.join().unwrap();
    }

    /// A release on a thread that finds the gate held by a non-owner
    /// races that holder's end of stay (which gives the gate up): the
    /// object is freed exactly once, by whichever thread ends up inside,
    /// never while the holder is still collecting.
    #[test]
    fn loom_release_races_a_non_owners_leave() {
        loom::model(|| {
            let w = World::new(false);
            w.enter(THIRD);
            release_races_a_leave(&w, THIRD);
            assert_eq!(w.freed.load(Ordering::SeqCst), 1);
            assert_eq!(w.gate.state.load(Ordering::SeqCst), 0, "given up, drained");
        });
    }

    /// A release on a thread that finds the gate held by the owner races
    /// the owner's end of stay (which keeps the gate): the object waits
    /// for the owner's next stay, never freed while it is collecting.
    #[test]
    fn loom_release_races_the_owners_leave() {
        loom::model(|| {
            let w = World::new(true);
            release_races_a_leave(&w, OWNER);
            assert_eq!(w.freed.load(Ordering::SeqCst), 0, "the owner frees it");
            w.visit(OWNER);
            assert_eq!(w.freed.load(Ordering::SeqCst), 1);
        });
    }

    /// The owner, between its stays, drops the last reference (decrefs are
    /// not serialised with calls) while another thread's stay takes the
    /// gate: the two never overlap, and the object is freed once. The
    /// owner keeps the gate at the start if `kept`; else the gate is free.
    fn takeover_races_the_owners_free(kept: bool) {
        loom::model(move || {
            let w = World::new(kept);
            if kept {
                w.leave(OWNER);
            }
            let other = {
                let w = w.clone();
                thread::spawn(move || {
                    w.enter(OTHER);
                    w.foreign_stay.store(true, Ordering::SeqCst);
                    assert!(!w.in_free.load(Ordering::SeqCst), "not during a free");
                    w.foreign_stay.store(false, Ordering::SeqCst);
                    w.leave(OTHER);
                })
            };
            w.decref(OWNER);
            other.join().unwrap();
            assert_eq!(w.freed.load(Ordering::SeqCst), 1);
        });
    }

    #[test]
    fn loom_takeover_races_the_owners_free_between_stays() {
        takeover_races_the_owners_free(true);
    }

    /// As above, from a free gate (another thread's stay gave it up): the
    /// owner takes it to free, marked, and is not taken over meanwhile.
    #[test]
    fn loom_takeover_races_the_owners_free_from_a_free_gate() {
        takeover_races_the_owners_free(false);
    }

    /// The owner, between its stays, exits (its exit hook lets go of the
    /// gate) while a foreign thread drops the last reference: the object
    /// is freed once, inside, by the foreign thread or by the next thread
    /// to enter.
    #[test]
    fn loom_owner_exit_races_a_foreign_release() {
        loom::model(|| {
            let w = World::new(true);
            w.gate.give_up_on_exit();
            w.leave(OWNER);
            w.rc.incref(|| false); // OTHER's reference
            w.decref(OWNER); // merged: OTHER's is the last
            assert_eq!(w.freed.load(Ordering::SeqCst), 0);
            let other = {
                let w = w.clone();
                thread::spawn(move || w.decref(OTHER))
            };
            give_up(&w.gate.exit, OWNER);
            other.join().unwrap();
            w.visit(THIRD);
            assert_eq!(w.freed.load(Ordering::SeqCst), 1);
        });
    }

    /// The last reference drops on a foreign thread while the owner is
    /// inside the gate collecting (reading counts) and then drops its own:
    /// freed once, never during the collection, by the owner.
    #[test]
    fn loom_foreign_last_decref_races_a_collection() {
        loom::model(|| {
            let w = World::new(false);
            w.rc.incref(|| false); // the other thread's reference
            w.enter(OWNER);
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
            w.leave(OWNER);
            other.join().unwrap();
            // Freed by the owner, now or (dropped on the other thread) at
            // its next stay.
            w.visit(OWNER);
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
            w.enter(OWNER);
            w.decref(OWNER);
            w.drain_merges();
            w.leave(OWNER);
            for t in others {
                t.join().unwrap();
            }
            w.enter(OWNER);
            w.drain_merges();
            w.leave(OWNER);
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
            w.enter(THIRD);
            w.gate.adopt(THIRD);
            w.drain_merges_as(THIRD);
            match w.rc.decref(|| w.gate.owner() == THIRD) {
                Decref::Alive => {}
                Decref::Dead => w
                    .gate
                    .release(THIRD, NonNull::dangling(), &mut w.free_as(THIRD)),
                Decref::Queue(h) => w.gate.queue_merge(NonNull::dangling(), h),
            }
            w.leave(THIRD);
            owner.join().unwrap();
            other.join().unwrap();
            w.enter(THIRD);
            w.drain_merges_as(THIRD);
            w.leave(THIRD);
            assert_eq!(w.freed.load(Ordering::SeqCst), 1);
        });
    }
}
