//! Death: an object whose count reached zero is released, deallocated,
//! cleared by its kind and its block given back (see the map in
//! [`crate::lifecycle`]).
//!
//! Deallocation never recurses over the object graph: freeing an object
//! decrefs what it holds, and any of those reaching zero is queued on
//! `pending` and freed by the outermost `dealloc` loop (CPython's "trashcan"
//! problem, solved with an explicit worklist), so dropping the head of a
//! million-long chain uses constant stack.
//!
//! ```text
//!   release(o) --outside the gate--> the gate's holder frees it on leaving
//!      | inside the gate
//!      v
//!   dealloc(o) --already freeing one--> pending --> free_pending_since
//!      | the outermost
//!      v
//!   dealloc_one(o): __del__ -> weak references -> clear per kind -> free_block
//!                   (a plain instance, `instance::dies_plain`: straight to
//!                   dropping its references -> free_block)
//!                   (a finaliser or a payload hook may resurrect o: it stays)
//! ```
//!
//! Invariants: only the gate's holder frees; a dying object leaves the
//! collector before any host code runs; host code run on a dying object
//! runs on it revived (one count), and whatever it dropped is freed before
//! the object's count is read again (`pending_mark`, `free_pending_since`).

use core::ptr::NonNull;

use crate::heap::Heap;
use crate::kinds::type_object::{Kind, TypeObject};
use crate::kinds::{containers, function, instance, numbers, str, type_object};
use crate::object::{HEADER_SIZE, ObjRef};

/// An object's count reached zero: it is freed now if this thread is
/// inside the heap's gate (or can enter it, or is the owner keeping it),
/// else by the gate's holder.
#[inline]
pub(crate) fn release(o: ObjRef) {
    let heap = o.ty().heap();
    heap.gate.release(objgc::thread_token(), o.0.cast(), |p| {
        dealloc(ObjRef(p.cast()))
    });
}

/// Frees an object whose count reached zero, and everything that only it
/// kept alive, without recursion. Inside the heap's gate.
pub(crate) fn dealloc(o: ObjRef) {
    let heap = o.ty().heap();
    if heap.in_traverse_hook.get() {
        return heap.hold_until_collected(o);
    }
    // Dead objects leave the collector at once: a collection that runs
    // before this one is freed (from a finaliser) must not see it.
    if crate::gc::is_container(o.ty().kind) {
        // SAFETY: `o` is live (count zero, not yet freed) and tracked.
        unsafe { heap.collector.untrack(crate::gc::links(o)) };
    }
    // SAFETY: single-threaded; `pending` is not borrowed across calls.
    let pending = || unsafe { &mut *heap.pending.get() };
    let Some(_deallocating) = objgc::FlagScope::enter(&heap.deallocating) else {
        pending().push(o);
        return;
    };
    dealloc_one(heap, o);
    heap.free_pending_since(0);
}

impl<'h> Heap<'h> {
    /// After a collection (which runs traverse hooks while its tags are in
    /// place): drops what the hooks dropped.
    #[cold]
    #[inline(never)]
    pub(crate) fn collected(&self) {
        // SAFETY: single-threaded (inside the gate); taken out before any
        // decref, which may run host code.
        let held = core::mem::take(unsafe { &mut *self.dropped_in_hooks.get() });
        held.into_iter().for_each(ObjRef::decref);
    }

    /// `o`'s count reached zero in a traverse hook: freeing it now would
    /// unlink it from the collector's tagged lists, so it is revived with
    /// one count, which [`Heap::collected`] drops once the collection is
    /// over. (To the collection the reference moved from the hook's payload
    /// to this list: an outside reference, so `o` survives it.)
    #[cold]
    fn hold_until_collected(&self, o: ObjRef) {
        o.header().rc.revive(o.owned_here());
        // SAFETY: single-threaded (inside the gate); not borrowed across calls.
        unsafe { (*self.dropped_in_hooks.get()).push(o) };
    }

    /// How many objects wait on `pending`: a mark for [`Heap::free_pending_since`].
    pub(crate) fn pending_mark(&self) -> usize {
        // SAFETY: single-threaded; not borrowed across calls.
        unsafe { (*self.pending.get()).len() }
    }

    /// Frees the objects that died since `mark` (while host code ran on a
    /// dying object: temporaries it made and dropped, which may hold that
    /// object), so that the object's count is final when it is read.
    pub(crate) fn free_pending_since(&self, mark: usize) {
        // SAFETY: single-threaded; `pending` is not borrowed across calls.
        let pending = || unsafe { &mut *self.pending.get() };
        while pending().len() > mark {
            let o = pending().pop().expect("above the mark");
            dealloc_one(self, o);
        }
    }
}

fn dealloc_one(heap: &Heap, o: ObjRef) {
    let ty = o.ty();
    match ty.kind {
        Kind::Object if instance::dies_plain(heap, o) => {
            // The common instance: no host code to run, nothing to clear first.
            instance::drop_references(heap, o);
            // SAFETY: dead, untracked by `dealloc`, its references dropped
            // just above (it has no payload); an instance's size.
            unsafe { free_block(heap, o, ty.layout.size) }
        }
        Kind::Object | Kind::Type | Kind::Function | Kind::WeakRef => dealloc_rare(heap, o),
        _ => {
            let size = object_size(o);
            match ty.kind {
                Kind::Tuple | Kind::List | Kind::Dict => containers::clear(o),
                Kind::Method | Kind::Property | Kind::Member => function::clear(o),
                _ => {} // None, bool, int, float and str hold no references
            }
            // SAFETY: dead, untracked, everything it held released; `size` bytes.
            unsafe { free_block(heap, o, size) }
        }
    }
}

/// [`dealloc_one`] for the kinds that may run host code as they die (an
/// instance with a finaliser, payload hooks or weak references; a type
/// with weak references) or own Rust-side memory (types, functions), and
/// for weak references.
#[inline(never)]
fn dealloc_rare(heap: &Heap, o: ObjRef) {
    let ty = o.ty();
    if ty.kind == Kind::Object && !instance::finalize(heap, o) {
        return resurrected(heap, o);
    }
    if matches!(ty.kind, Kind::Object | Kind::Type) && o.has_flag(crate::object::HAS_WEAKREFS) {
        // Weak references are cleared before the object is, then their callbacks run.
        let queued = crate::kinds::weakref::detach_all(heap, o, |_| true);
        // SAFETY: as `detach_all` returned them, with their counts.
        unsafe { crate::kinds::weakref::run_callbacks(heap, queued) };
    }
    let size = object_size(o);
    match ty.kind {
        Kind::Object => {
            if !instance::clear(heap, o) {
                return resurrected(heap, o);
            }
        }
        Kind::Type => {
            // SAFETY: the type is dead; its fields are released once.
            unsafe { type_object::clear_type(o) };
            // SAFETY: single-threaded.
            unsafe { (*heap.owners.get()).remove(&o) };
        }
        Kind::Function => {
            // SAFETY: the function is dead; its fields are released once.
            unsafe { function::drop_function_fields(o) };
            // SAFETY: single-threaded.
            unsafe { (*heap.owners.get()).remove(&o) };
        }
        // SAFETY: matched on the kind; `o` is dead, freed below, cleared once.
        Kind::WeakRef => unsafe { crate::kinds::weakref::clear(heap, o) },
        _ => unreachable!("dealloc_one frees the other kinds"),
    }
    // SAFETY: dead, untracked, everything it held released; `size` bytes.
    unsafe { free_block(heap, o, size) };
}

/// The last step of every death: gives the block of `o` back to the
/// allocator and drops the count `o` held on its type.
///
/// # Safety
/// `o` is dead (no references), untracked, and holds nothing any more; it
/// was allocated with `size` bytes (see [`object_size`]).
#[inline]
unsafe fn free_block(heap: &Heap, o: ObjRef, size: usize) {
    let ty = o.ty();
    let ty_ref = ty.as_ref();
    heap.objects_live.set(heap.objects_live.get() - 1);
    super::freed::note_freed(o.addr(), ty.name_str());
    let prefix = crate::gc::prefix(ty.kind);
    // SAFETY: the object is dead and its fields released (the caller's
    // promise); its block starts `prefix` bytes before it and is
    // `prefix + size` bytes long.
    unsafe {
        heap.free_raw(
            NonNull::new_unchecked(o.cast::<u8>().as_ptr().sub(prefix)),
            prefix + size,
        )
    };
    ty_ref.decref();
}

/// Frees `o`, a piece of garbage that the collector cleared and whose
/// count just reached zero. A plain instance (no payload, its finaliser run
/// or none, no weak references made since they were cleared) has nothing
/// left to release and no host code to run: it goes straight back to the
/// allocator, without [`dealloc`]'s checks. Anything else dies as usual.
/// Inside the gate.
#[inline]
pub(crate) fn free_cleared(heap: &Heap, o: ObjRef) {
    let ty = o.ty();
    if !(ty.kind == Kind::Object && instance::dies_plain(heap, o)) {
        return release(o);
    }
    debug_assert!(
        instance::holds_nothing(o),
        "a cleared instance holds references"
    );
    // SAFETY: `o` is live (count zero, not yet freed) and tracked.
    unsafe { heap.collector.untrack(crate::gc::links(o)) };
    // SAFETY: dead, untracked just above, cleared by the collector (and
    // nothing ran since that could give it references); an instance's size.
    unsafe { free_block(heap, o, ty.layout.size) };
}

/// An instance that host code run during its deallocation made reachable
/// again: it lives on, tracked again.
fn resurrected(heap: &Heap, o: ObjRef) {
    // SAFETY: `o` is live and was untracked by `dealloc`.
    unsafe { heap.collector.track(crate::gc::links(o)) };
}

/// The bytes an object was allocated with, by its kind.
pub(crate) fn object_size(o: ObjRef) -> usize {
    let ty = o.ty();
    match ty.kind {
        Kind::Object => ty.layout.size,
        Kind::Type => size_of::<TypeObject>(),
        Kind::NoneType => HEADER_SIZE,
        Kind::Int | Kind::Bool => size_of::<numbers::IntObj>(),
        Kind::Float => size_of::<numbers::FloatObj>(),
        // SAFETY: matched on the kind; the caller holds `o`.
        Kind::Str => str::str_size(unsafe { str::as_str(o) }.len()),
        // SAFETY: matched on the kind; the caller holds `o`.
        Kind::Tuple => containers::tuple_size(unsafe { containers::tuple_items(o) }.len()),
        Kind::List => size_of::<containers::ListObj>(),
        Kind::Dict => size_of::<containers::DictObj>(),
        Kind::Function => size_of::<function::FunctionObj>(),
        Kind::Method => size_of::<function::MethodObj>(),
        Kind::Property => size_of::<function::PropertyObj>(),
        Kind::Member => size_of::<function::MemberObj>(),
        Kind::WeakRef => size_of::<crate::kinds::weakref::WeakRefObj>(),
    }
}
