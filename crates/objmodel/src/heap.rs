//! The heap itself: its creation and its built-in objects, its gate,
//! its memory (`alloc_raw`, `free_raw`, the buffer allocator), the intern
//! table, the method cache, ownership checks and statistics. How an object
//! is born in it and dies is in [`crate::lifecycle`].
//!
//! A [`Heap`] lives behind its owner, a [`HeapBox`] (`Heap::new` returns one), because every type
//! points back to it: an object finds its heap through its type. Objects of
//! one heap never refer to another heap's objects.
//!
//! ## The brand
//!
//! `Heap<'h>` and every object of it (`Obj<'h>`, the typed views) carry the
//! heap's *brand* `'h`, an invariant lifetime that [`HeapBox::scope`]
//! makes fresh for each call (a `for<'h>` closure, as gc-arena's arenas
//! do): two heaps' objects have different types, so mixing them does not
//! compile, and no object leaves the closure. Key invariant: in safe Rust,
//! every object handled under the brand `'h` belongs to the one heap
//! scoped as `'h`, so the Rust API needs no run-time check of ownership.
//! And a `Heap<'h>` lives for all of `'h` (`scope` lends `&'h Heap<'h>`),
//! so a shorter borrow of it may be lengthened to `'h` ([`Heap::branded`]).
//! Code that makes handles from raw pointers (the C ABI, through
//! [`crate::abi`]) names brands it cannot prove unique, and checks each
//! object it takes (`Heap::check_own`); inside the crate, `ObjRef`s
//! carry no brand and become `Obj<'h>` for whatever `'h` the caller has.
//!
//! ## Threads
//!
//! The thread that creates a heap owns it: it counts references without
//! atomic instructions, and only it runs collections and merges counts
//! (`objgc::RefCount`). Everything that touches the heap's structures
//! (allocation, freeing, lookups) happens inside the heap's gate
//! (`objgc::Gate`). A Rust heap never leaves its thread, and its creator
//! holds the gate for the heap's life; a host that shares the heap between
//! threads (objffi) opens it with [`Heap::unlock`] and enters it per call
//! with [`Heap::enter`]. A count that reaches zero outside the gate hands
//! the object to the gate's holder, which frees it before it leaves.

use core::cell::{Cell, RefCell, UnsafeCell};
use core::marker::PhantomData;
use core::mem::MaybeUninit;
use core::ptr::NonNull;
use std::collections::HashSet;
use std::collections::hash_map::RandomState;

use allocator_api2::alloc::{AllocError, Allocator, Layout};

use crate::Stats;
use crate::error::{Error, ErrorKind, Result};
use crate::kinds::str::InternTable;
use crate::kinds::type_object;
use crate::kinds::type_object::{Kind, TypeObject};
use crate::lifecycle::death::{dealloc, release};
use crate::lookup::cache::SiteCache;
use crate::object::{Obj, ObjRef};

/// Small ints preallocated and immortal, as in CPython: -5..=256.
pub const SMALL_INT_MIN: i64 = -5;
/// See [`SMALL_INT_MIN`].
pub const SMALL_INT_MAX: i64 = 256;
const SMALL_INTS: usize = (SMALL_INT_MAX - SMALL_INT_MIN + 1) as usize;

/// The built-in objects of a heap, created by `Heap::new`.
pub(crate) struct Builtins {
    pub(crate) object: ObjRef,
    pub(crate) type_: ObjRef,
    pub(crate) int: ObjRef,
    pub(crate) float: ObjRef,
    pub(crate) str_: ObjRef,
    pub(crate) tuple: ObjRef,
    pub(crate) list: ObjRef,
    pub(crate) dict: ObjRef,
    pub(crate) function: ObjRef,
    pub(crate) method: ObjRef,
    pub(crate) property: ObjRef,
    pub(crate) member: ObjRef,
    pub(crate) weakref: ObjRef,
    pub(crate) none: ObjRef,
    pub(crate) true_: ObjRef,
    pub(crate) false_: ObjRef,
    pub(crate) small_ints: [ObjRef; SMALL_INTS],
    pub(crate) names: Names,
}

/// Interned names the lookup code compares against.
pub(crate) struct Names {
    pub(crate) init: ObjRef,
    pub(crate) getattr: ObjRef,
    pub(crate) del: ObjRef,
    pub(crate) repr: ObjRef,
    pub(crate) class: ObjRef,
    pub(crate) dict: ObjRef,
    pub(crate) name: ObjRef,
    pub(crate) bases: ObjRef,
    pub(crate) mro: ObjRef,
}

/// For each object with weak references, the oldest and the newest of them.
pub(crate) type WeakrefTable = hashbrown::HashMap<ObjRef, (ObjRef, ObjRef), RandomState, HeapAlloc>;

/// An empty weak-reference table allocating from `alloc`.
fn new_weakref_table(alloc: HeapAlloc) -> WeakrefTable {
    WeakrefTable::with_hasher_in(RandomState::new(), alloc)
}

/// One entry of the method cache: what `(type version, name)` resolves to.
#[derive(Clone, Copy)]
pub(crate) struct CacheEntry {
    pub(crate) version: u64,
    pub(crate) name: usize,
    pub(crate) value: Option<ObjRef>,
}

/// log2 of the method cache's entries (CPython uses 12 too).
const METHOD_CACHE_BITS: u32 = 12;

/// log2 of the entries of the heap's attribute cache: the call-site
/// caches (`lookup/cache.rs`) that lookups without a site of their own share,
/// chosen by type version, name, shape and read-or-store
/// ([`Heap::attr_site`]). objffi.h's inline lookups compute the same
/// choice (`crate::abi::SHARED_SITES_BITS` and its neighbours).
pub(crate) const ATTR_SITES_BITS: u32 = 9;
/// The multiplier of [`Heap::attr_site`]'s Fibonacci hashing.
pub(crate) const ATTR_SITE_MULTIPLIER: u64 = 0x9E37_79B9_7F4A_7C15;
/// How far [`Heap::attr_site`] rotates the salt left.
pub(crate) const ATTR_SITE_SALT_ROTATION: u32 = 17;
/// How far [`Heap::attr_site`] shifts the name's address right.
pub(crate) const ATTR_SITE_NAME_SHIFT: u32 = 4;

/// A heap's brand: the lifetime `'h`, invariant (a function from and to
/// `&'h ()` can be neither shortened nor lengthened), zero-sized. See
/// "The brand" above.
type Brand<'h> = PhantomData<fn(&'h ()) -> &'h ()>;

/// The owner of a [`Heap`]: lends it, branded, to [`HeapBox::scope`]'s
/// closure, and frees it (every object of it, and all its memory) when
/// dropped. The heap never moves, because every type points back to it.
pub struct HeapBox {
    /// The heap, made by `Box::leak` in [`Heap::try_new`]. Its brand here
    /// means nothing: each use names the brand it hands out.
    ptr: NonNull<Heap<'static>>,
}

impl HeapBox {
    /// Runs `f` on the heap, under a brand `'h` no other call has: the
    /// objects `f` makes are `Obj<'h>`, which neither mix with another
    /// heap's nor leave `f` (its result cannot name `'h`).
    ///
    /// ```
    /// let heap = objmodel::Heap::new();
    /// let n = heap.scope(|heap| heap.int(1000).unwrap().as_int());
    /// assert_eq!(n, Some(1000));
    /// ```
    pub fn scope<R>(&self, f: impl for<'h> FnOnce(&'h Heap<'h>) -> R) -> R {
        // SAFETY: the heap lives until this owner drops it, after `f`
        // returns; the brand is fresh (`f` works for every `'h`), so only
        // this heap's objects carry it.
        f(unsafe { self.ptr.cast::<Heap<'_>>().as_ref() })
    }

    /// Counts of objects and memory ([`Heap::stats`]).
    pub fn stats(&self) -> Stats {
        self.scope(|heap| heap.stats())
    }

    /// The heap under the brand of the borrow, which another heap may
    /// share ([`crate::abi::heap`], and `Heap::try_new` for bootstrap).
    ///
    /// # Safety
    /// As for [`crate::abi::heap`]: the caller keeps the heaps' objects
    /// apart.
    pub(crate) unsafe fn unbranded<'h>(&'h self) -> &'h Heap<'h> {
        // SAFETY: the heap lives while `self` is borrowed; the brand's
        // promise is the caller's.
        unsafe { self.ptr.cast::<Heap<'h>>().as_ref() }
    }
}

impl Drop for HeapBox {
    fn drop(&mut self) {
        // SAFETY: made by Box::leak in Heap::new and dropped once, here;
        // no object can outlive this (objects are branded by `scope`).
        drop(unsafe { Box::from_raw(self.ptr.as_ptr()) });
    }
}

impl core::fmt::Debug for HeapBox {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let s = self.stats();
        f.debug_struct("Heap")
            .field("objects_live", &s.objects_live)
            .finish_non_exhaustive()
    }
}

/// Makes a heap, runs `f` on it under a fresh brand ([`HeapBox::scope`]),
/// and frees it: the whole life of a heap in one call.
///
/// ```
/// let n = objmodel::with_heap(|heap| heap.int(1000).unwrap().as_int());
/// assert_eq!(n, Some(1000));
/// ```
///
/// # Panics
/// As [`Heap::new`].
pub fn with_heap<R>(f: impl for<'h> FnOnce(&'h Heap<'h>) -> R) -> R {
    Heap::new().scope(f)
}

/// A heap of objects, branded `'h` (see the crate documentation).
pub struct Heap<'h> {
    mem: UnsafeCell<objheap::Heap>,
    builtins: UnsafeCell<MaybeUninit<Builtins>>,
    pub(crate) interned: UnsafeCell<InternTable>,
    method_cache: Box<[Cell<CacheEntry>]>,
    attr_sites: Box<[Cell<SiteCache>]>,
    next_serial: Cell<u64>,
    /// Levels of nested work in progress (`call/nesting.rs`).
    pub(crate) depth: Cell<u32>,
    /// The stack floor of the last thread that nested here: (its thread
    /// token, the floor) (`call/nesting.rs`).
    pub(crate) stack_floor: Cell<(usize, usize)>,
    /// Objects allocated and not yet freed (`lifecycle`).
    pub(crate) objects_live: Cell<usize>,
    /// Objects whose count reached zero while another was being freed.
    pub(crate) pending: UnsafeCell<Vec<ObjRef>>,
    /// A `dealloc` loop is running (`lifecycle/death.rs`).
    pub(crate) deallocating: Cell<bool>,
    /// A payload's traverse hook is running (inside a collection, whose
    /// tags are in place): the heap must not change (`in_traverse_hook`).
    pub(crate) in_traverse_hook: Cell<bool>,
    /// Objects whose last reference a traverse hook dropped (its own, as
    /// the contract allows): each revived with one count, held here until
    /// the collection is over, then dropped ([`Heap::collected`]).
    pub(crate) dropped_in_hooks: UnsafeCell<Vec<ObjRef>>,
    /// Live objects that own Rust-side memory (types, functions), freed
    /// with the heap if still alive then.
    pub(crate) owners: UnsafeCell<HashSet<ObjRef>>,
    /// The cycle collector of this heap's containers.
    pub(crate) collector: objgc::Collector,
    /// The weak references of each object that has some: the oldest and
    /// the newest of a list linked through the weak references themselves
    /// (`kinds/weakref.rs`), in the heap's memory.
    weakrefs: RefCell<WeakrefTable>,
    /// Weak references whose callbacks a collection queued (each as
    /// `weakref::detach_all` returned it, with a count).
    pub(crate) queued_callbacks: UnsafeCell<Vec<ObjRef>>,
    /// Who may touch the heap now, and what other threads handed over.
    pub(crate) gate: objgc::Gate,
    /// The brand of this heap's objects.
    _brand: Brand<'h>,
}

/// A thread's stay inside a heap's gate, from [`abi::enter`](crate::abi::enter)
/// (see objgc's `Gate`: the owner keeps the gate after its stay; another
/// thread gives it up, freeing what other threads handed over meanwhile).
/// One pointer wide.
#[must_use = "the gate is left when the guard drops"]
pub struct Entered<'a> {
    /// The gate of the stay this guard began, ended when it drops; `None`
    /// inside a nested call (or [`Entered::within`]), where an outer guard
    /// has the stay.
    took: Option<&'a objgc::Gate>,
}

impl Entered<'_> {
    /// A guard that takes nothing: for work within a stay another guard
    /// holds (an export's further object arguments, say).
    #[inline]
    pub const fn within() -> Self {
        Entered { took: None }
    }
}

impl Drop for Entered<'_> {
    #[inline]
    fn drop(&mut self) {
        if let Some(gate) = self.took {
            gate.leave(objgc::thread_token(), &mut |p| dealloc(ObjRef(p.cast())));
        }
    }
}

impl<'h> Heap<'h> {
    /// A new heap with its built-in types and values, behind its owner
    /// (used through [`HeapBox::scope`]; [`with_heap`] does both).
    ///
    /// # Panics
    /// If the system has no memory for the built-ins ([`Heap::try_new`]
    /// says so instead).
    #[expect(
        clippy::new_ret_no_self,
        reason = "the heap lives behind its owner, which never moves it"
    )]
    pub fn new() -> HeapBox {
        Self::try_new().expect("memory for the built-in objects")
    }

    /// [`Heap::new`], or [`ErrorKind::NoMemory`] when the system has no
    /// memory for the built-ins.
    pub fn try_new() -> Result<HeapBox> {
        let heap = Box::new(Heap {
            mem: UnsafeCell::new(objheap::Heap::new()),
            builtins: UnsafeCell::new(MaybeUninit::uninit()),
            // Replaced below once the heap has its address.
            interned: UnsafeCell::new(InternTable::new_in(HeapAlloc(NonNull::dangling()))),
            method_cache: vec![
                Cell::new(CacheEntry {
                    version: 0,
                    name: 0,
                    value: None
                });
                1 << METHOD_CACHE_BITS
            ]
            .into_boxed_slice(),
            attr_sites: vec![Cell::new(SiteCache::EMPTY); 1 << ATTR_SITES_BITS].into_boxed_slice(),
            next_serial: Cell::new(1),
            depth: Cell::new(0),
            stack_floor: Cell::new((0, 0)),
            objects_live: Cell::new(0),
            pending: UnsafeCell::new(Vec::new()),
            deallocating: Cell::new(false),
            in_traverse_hook: Cell::new(false),
            dropped_in_hooks: UnsafeCell::new(Vec::new()),
            owners: UnsafeCell::new(HashSet::new()),
            collector: objgc::Collector::new(),
            // Replaced below once the heap has its address.
            weakrefs: RefCell::new(new_weakref_table(HeapAlloc(NonNull::dangling()))),
            queued_callbacks: UnsafeCell::new(Vec::new()),
            gate: objgc::Gate::new(objgc::thread_token(), true),
            _brand: PhantomData,
        });
        // Leaked into a raw pointer rather than kept as a `Box`: objects keep
        // pointers to the heap, and moving a `Box` would assert uniqueness.
        let owner = HeapBox {
            ptr: NonNull::from(Box::leak(heap)).cast(),
        };
        // SAFETY: nothing of the heap exists yet but its built-ins, which
        // bootstrap makes in it.
        let heap = unsafe { owner.unbranded() };
        // SAFETY: nothing has used the table yet; the heap no longer moves.
        unsafe {
            *heap.interned.get() = InternTable::new_in(heap.allocator());
            *heap.weakrefs.borrow_mut() = new_weakref_table(heap.allocator());
        }
        heap.gate.give_up_on_exit();
        type_object::bootstrap(heap)?;
        Ok(owner)
    }

    /// Whether a payload's traverse hook is running (host code the collector
    /// calls while its tags are in place): until it returns, the heap must
    /// not change, so a host sharing the heap refuses calls into it.
    #[inline]
    pub(crate) fn in_traverse_hook(&self) -> bool {
        self.in_traverse_hook.get()
    }

    /// Whether the calling thread owns the heap: counts locally (see [`Heap::enter`]).
    #[inline]
    pub(crate) fn is_owner_thread(&self) -> bool {
        self.gate.owner() == objgc::thread_token()
    }

    /// Ends the stay the creating thread has had since [`Heap::new`], for
    /// a host that shares the heap between threads: from now on each use
    /// of the heap, on any thread, is made inside [`Heap::enter`]. The
    /// creator, the owner, keeps the gate between its stays.
    ///
    /// # Safety
    /// The calling thread is inside the gate (it created the heap and has
    /// not unlocked it), and from now on follows the rule above.
    pub(crate) unsafe fn unlock(&self) {
        let me = objgc::thread_token();
        assert!(
            self.gate.is_inside(me),
            "unlock by a thread outside the gate"
        );
        self.gate.leave(me, &mut |p| dealloc(ObjRef(p.cast())));
    }

    /// Enters the heap's gate for a use of the heap (a stay), waiting
    /// while another thread is inside (freeing an object it dropped, or a
    /// host call the host failed to serialise), after freeing what other
    /// threads handed over. Nested calls pass straight through. On the
    /// owner thread, first merges the counts other threads handed over.
    ///
    /// A heap whose owner thread has exited is adopted by the first thread
    /// to enter it after (see [`Heap::adopt`]).
    #[inline]
    pub(crate) fn enter(&self) -> Entered<'_> {
        let me = objgc::thread_token();
        let began = self.gate.enter(me, &mut |p| dealloc(ObjRef(p.cast())));
        let entered = Entered {
            took: began.then_some(&self.gate),
        };
        if self.gate.owner() != me || self.gate.has_merges() {
            self.entered_with_work(me);
        }
        entered
    }

    /// What entering does beyond taking the gate: the owner merges what
    /// other threads handed over; a heap whose owner has exited is adopted.
    #[cold]
    #[inline(never)]
    fn entered_with_work(&self, me: usize) {
        if self.gate.owner() == me {
            self.merge_handed_counts();
        } else if self.gate.is_ownerless() {
            self.become_owner();
        }
    }

    /// Makes the calling thread, inside the gate, the heap's owner: the
    /// thread that counts references without atomic instructions and
    /// merges the counts other threads hand over. Any thread may use the
    /// heap whoever owns it; owning only makes counting faster.
    ///
    /// # Safety
    /// The calling thread is inside the gate (`Heap::enter`), and the
    /// previous owner's counting (`incref`/`decref` of the heap's objects)
    /// is ordered with this call: it happened before, and any later counting
    /// of that thread follows it through synchronisation (as when a heap is
    /// handed over through a mutex, a channel or a thread join).
    pub(crate) unsafe fn adopt(&self) {
        self.become_owner();
    }

    fn become_owner(&self) {
        // Types point at the gate's owner word: they see the change at once.
        self.gate.adopt(objgc::thread_token());
        self.merge_handed_counts();
    }

    /// Merges the counts of objects other threads handed to the owner
    /// (`objgc::Decref::Queue`), if any, freeing those that are dead. Owner
    /// only, inside the gate.
    #[inline]
    pub(crate) fn merge_handed_counts(&self) {
        debug_assert!(self.is_owner_thread());
        if self.gate.has_merges() {
            self.merge_waiting_counts();
        }
    }

    /// The half of [`Heap::merge_handed_counts`] that has work.
    #[cold]
    #[inline(never)]
    fn merge_waiting_counts(&self) {
        for (p, handoff) in self.gate.take_merges() {
            let o = ObjRef(p.cast());
            if o.header().rc.merge_queued(handoff) == objgc::Decref::Dead {
                release(o);
            }
        }
    }

    /// Installs the built-ins (bootstrap, once).
    pub(crate) fn install_builtins(&self, b: Builtins) {
        // SAFETY: called once during bootstrap, before any read.
        unsafe { (*self.builtins.get()).write(b) };
    }

    /// Lets bootstrap patch the built-ins with `patch`.
    ///
    /// # Safety
    /// Only during bootstrap, after `install_builtins`, with no other
    /// borrow of them (`patch` calls nothing that reads them).
    pub(crate) unsafe fn patch_builtins(&self, patch: impl FnOnce(&mut Builtins)) {
        // SAFETY: forwarded from the caller.
        patch(unsafe { (*self.builtins.get()).assume_init_mut() })
    }

    /// The weak-reference table, for `kinds/weakref.rs`, which keeps each list.
    /// A `RefCell` (weak references are off the hot paths): a borrow held
    /// across a call that reaches the table again panics, never aliases.
    pub(crate) fn weakref_table(&self) -> core::cell::RefMut<'_, WeakrefTable> {
        self.weakrefs.borrow_mut()
    }

    /// The built-in objects.
    #[inline]
    pub(crate) fn b(&self) -> &Builtins {
        // SAFETY: written in `Heap::new` before the heap is handed out, and
        // only read afterwards (bootstrap does not call this).
        unsafe { (*self.builtins.get()).assume_init_ref() }
    }

    /// Runs `use_mem` on the allocator. Private to this file: each
    /// `use_mem` below is one call into `objheap`, which calls nothing of
    /// this crate back, so the `&mut` is the only one while it lives.
    #[inline]
    fn with_mem<R>(&self, use_mem: impl FnOnce(&mut objheap::Heap) -> R) -> R {
        // SAFETY: the heap is used by one thread at a time (it is !Sync),
        // and `use_mem` cannot reach `with_mem` again (see above).
        use_mem(unsafe { &mut *self.mem.get() })
    }

    /// Allocates raw memory for an object or a buffer.
    #[inline]
    pub(crate) fn alloc_raw(&self, size: usize) -> Result<NonNull<u8>> {
        Ok(self.with_mem(|m| m.alloc(size))?)
    }

    /// Allocates zeroed raw memory: large blocks come zero from the system,
    /// untouched until used.
    #[inline]
    pub(crate) fn alloc_zeroed_raw(&self, size: usize) -> Result<NonNull<u8>> {
        Ok(self.with_mem(|m| m.alloc_zeroed(size))?)
    }

    /// Frees raw memory.
    ///
    /// # Safety
    /// `p` came from `alloc_raw(size)` or `alloc_zeroed_raw(size)` and is not used again.
    #[inline]
    pub(crate) unsafe fn free_raw(&self, p: NonNull<u8>, size: usize) {
        // SAFETY: forwarded from the caller.
        self.with_mem(|m| unsafe { m.free(p, size) })
    }

    /// An allocator for buffers (list items, dict tables) counted in this heap.
    pub(crate) fn allocator(&self) -> HeapAlloc {
        HeapAlloc(NonNull::from(self).cast())
    }

    /// A type serial number never handed out before by this heap.
    pub(crate) fn next_type_serial(&self) -> u64 {
        let s = self.next_serial.get();
        self.next_serial.set(s + 1);
        s
    }

    /// The method cache's entry for `(version, name)`: a `Cell`, read and
    /// written whole.
    #[inline]
    pub(crate) fn method_cache_entry(&self, version: u64, name: ObjRef) -> &Cell<CacheEntry> {
        let hash = (version as usize).wrapping_mul(0x9E37_79B9) ^ (name.addr() >> 4);
        let i = hash & ((1 << METHOD_CACHE_BITS) - 1);
        &self.method_cache[i]
    }

    /// The entry of the heap's attribute cache for looking up `name` on an
    /// instance of `ty` with `salt` (Fibonacci hashing of the type's
    /// version, the name's address and the salt).
    #[inline]
    pub(crate) fn attr_site(&self, ty: &TypeObject, name: ObjRef, salt: usize) -> &Cell<SiteCache> {
        let key = ty.version.get()
            ^ (name.addr() >> ATTR_SITE_NAME_SHIFT) as u64
            ^ (salt as u64).rotate_left(ATTR_SITE_SALT_ROTATION);
        let i = key.wrapping_mul(ATTR_SITE_MULTIPLIER) >> (u64::BITS - ATTR_SITES_BITS);
        &self.attr_sites[i as usize]
    }

    /// The first entry of the heap's attribute cache (each type keeps it
    /// for objffi.h's inline lookups).
    pub(crate) fn attr_sites_start(&self) -> NonNull<Cell<SiteCache>> {
        NonNull::from(&self.attr_sites[0])
    }

    /// The allocator's arenas and how full each pool is.
    pub(crate) fn arena_map(&self) -> Vec<objheap::ArenaOccupancy> {
        self.with_mem(|m| m.arena_map())
    }

    /// Counts of objects and memory.
    pub fn stats(&self) -> Stats {
        Stats {
            objects_live: self.objects_live.get(),
            memory: self.with_mem(|m| m.stats()),
        }
    }

    /// Bounds the bytes the heap takes from the system; `None` lifts the bound.
    /// Past it, allocating operations fail with [`ErrorKind::NoMemory`].
    pub fn set_memory_limit(&self, max_bytes: Option<usize>) {
        self.with_mem(|m| m.set_memory_limit(max_bytes));
    }

    /// Fault injection: the `n`th allocation of heap memory from now (1: the
    /// next) fails, once, as if the memory limit refused it; `None` cancels.
    /// Returns whether a failure set before was still to come.
    pub fn fail_allocation(&self, n: Option<u64>) -> bool {
        self.with_mem(|m| {
            let pending = m.allocation_failure_pending();
            m.fail_allocation(n);
            pending
        })
    }

    /// Walks the heap's allocator structures; the first inconsistency
    /// found (objheap's validator) is an [`ErrorKind::Corrupt`] error.
    /// Time proportional to the heap's size.
    pub fn check(&self) -> Result<()> {
        self.with_mem(|m| m.check())
            .map_err(|e| Error::new(ErrorKind::Corrupt, e))
    }

    /// This heap, borrowed for as long as its brand: a `Heap<'h>` lives for
    /// all of `'h` (see "The brand" above), so methods taking `&self` can
    /// hand out what keeps the heap for `'h` ([`GcControl`](crate::GcControl)).
    #[inline]
    pub(crate) fn branded(&self) -> &'h Heap<'h> {
        // SAFETY: every `Heap<'h>` is lent as `&'h Heap<'h>` (by
        // `HeapBox::scope`, `abi::heap`, or `TypeObject::heap` for a brand
        // its objects carry), so the heap outlives `'h`.
        unsafe { &*core::ptr::from_ref(self) }
    }

    /// Whether `o` belongs to this heap: always, for an object of the
    /// heap's brand made in safe Rust (asserted in debug builds where the
    /// Rust API takes objects).
    #[inline]
    pub(crate) fn owns(&self, o: ObjRef) -> bool {
        core::ptr::addr_eq(o.ty().heap(), self)
    }

    /// Checks that `o` belongs to this heap ([`ErrorKind::HeapMismatch`]
    /// if not): for objects from the C ABI, whose brands prove nothing.
    pub(crate) fn check_own(&self, o: ObjRef) -> Result<()> {
        if self.owns(o) {
            Ok(())
        } else {
            Err(Error::new(
                ErrorKind::HeapMismatch,
                "objects of two heaps cannot be mixed",
            ))
        }
    }

    // ----- values every heap has ------------------------------------------

    /// `None`.
    pub fn none(&self) -> Obj<'h> {
        self.b().none.into_obj()
    }

    /// `True` or `False`.
    pub fn bool(&self, v: bool) -> Obj<'h> {
        if v { self.b().true_ } else { self.b().false_ }.into_obj()
    }

    /// The root class `object`.
    pub fn object_type(&self) -> Obj<'h> {
        self.b().object.into_obj()
    }

    /// The metaclass `type`.
    pub fn type_type(&self) -> Obj<'h> {
        self.b().type_.into_obj()
    }
}

impl Drop for Heap<'_> {
    fn drop(&mut self) {
        // Every block of memory goes with `mem`; only Rust-side memory of the
        // objects still alive needs releasing here.
        // The name and weak-reference tables live in `mem` too: forgotten,
        // not dropped (freeing them block by block would be wasted work).
        let alloc = self.allocator();
        core::mem::forget(core::mem::replace(
            self.interned.get_mut(),
            InternTable::new_in(alloc),
        ));
        core::mem::forget(core::mem::replace(
            self.weakrefs.get_mut(),
            new_weakref_table(alloc),
        ));
        let owners = core::mem::take(self.owners.get_mut());
        for o in owners {
            // SAFETY: the object is alive (owners leave the set when freed) and
            // will never be used again; its Rust fields hold raw handles only.
            unsafe { drop_rust_fields(o) };
        }
    }
}

/// Drops the Rust-side memory of an object (types, functions), no counts.
///
/// # Safety
/// `o` is alive and never used again.
unsafe fn drop_rust_fields(o: ObjRef) {
    match o.ty().kind {
        // SAFETY: forwarded; a type's kind says what it is.
        Kind::Type => unsafe { type_object::drop_type_fields(o) },
        // SAFETY: as above.
        Kind::Function => unsafe { crate::kinds::function::drop_function_fields(o) },
        _ => {}
    }
}

/// The heap's allocator for buffers, for `allocator_api2` collections.
#[derive(Clone, Copy)]
pub(crate) struct HeapAlloc(NonNull<Heap<'static>>);

// SAFETY: blocks are 16-aligned and valid until freed; larger alignments are
// refused; zero-sized requests get a dangling, aligned pointer and are never freed.
unsafe impl Allocator for HeapAlloc {
    fn allocate(&self, layout: Layout) -> core::result::Result<NonNull<[u8]>, AllocError> {
        if layout.align() > objheap::ALIGNMENT {
            return Err(AllocError);
        }
        if layout.size() == 0 {
            let dangling =
                NonNull::new(core::ptr::without_provenance_mut::<u8>(objheap::ALIGNMENT))
                    .ok_or(AllocError)?;
            return Ok(NonNull::slice_from_raw_parts(dangling, 0));
        }
        // SAFETY: the heap outlives every collection allocated from it.
        let heap = unsafe { self.0.as_ref() };
        let p = heap.alloc_raw(layout.size()).map_err(|_| AllocError)?;
        Ok(NonNull::slice_from_raw_parts(p, layout.size()))
    }

    unsafe fn deallocate(&self, ptr: NonNull<u8>, layout: Layout) {
        if layout.size() != 0 {
            // SAFETY: allocated above with this size; the heap is alive.
            unsafe { self.0.as_ref().free_raw(ptr, layout.size()) }
        }
    }
}
