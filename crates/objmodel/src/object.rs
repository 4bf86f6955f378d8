//! The object header and the two handles to an object.
//!
//! Every object starts with the same 16-byte header; what follows depends on
//! its type (see the layouts in `lib.rs`):
//!
//! ```text
//!  offset  0        4        8            16
//!         +--------+--------+------------+---------------------------+
//!         | local  | shared |    type    |  fields of the type ...   |
//!         +--------+--------+------------+---------------------------+
//!          objgc::RefCount   (owned: one count)
//! ```
//!
//! The count is biased (PEP 703, see `objgc::RefCount`): the thread that
//! created the heap (its owner, cached in every type) counts in `local`
//! with plain loads and stores; other threads count in `shared` with atomic
//! instructions. Two host flags live in `shared`:
//!
//! - has weakrefs ([`HAS_WEAKREFS`]): the heap's weak-reference table has
//!   an entry for it, so freeing it asks no side table in the common case;
//! - finalized ([`FINALIZED`]): its `__del__` has run (once, PEP 442).
//!
//! Immortal objects (None, bools, small ints, built-in types, interned
//! strs) are never counted and never freed.
//!
//! A count that reaches zero on a thread outside the heap's gate does not
//! free the object there: the gate's holder does (`objgc::Gate`).
//!
//! - [`ObjRef`] is the raw, `Copy` handle used inside the crate: it neither
//!   counts nor borrows. Fields of objects hold `ObjRef`s that own one count.
//! - [`Obj`] is the public smart pointer: it owns one count, `Clone`
//!   increfs, `Drop` decrefs, and its lifetime is its [`Heap`]'s brand
//!   (`heap.rs`), so no object outlives the heap that frees it or mixes
//!   with another heap's objects.

use core::cell::Cell;
use core::fmt;
use core::marker::PhantomData;
use core::ptr::NonNull;

use objgc::{Decref, RefCount};

use crate::Heap;
use crate::kinds::type_object::TypeObject;

/// The count reported for immortal objects (CPython reports a huge one too).
pub(crate) const IMMORTAL_REFCOUNT: usize = 1 << 63;
/// Host flag: the object has (or had) weak references.
pub(crate) const HAS_WEAKREFS: u32 = objgc::FLAG_A;
/// Host flag: the object's finaliser has run.
pub(crate) const FINALIZED: u32 = objgc::FLAG_B;

/// The header every object starts with.
#[repr(C)]
pub(crate) struct ObjHeader {
    /// References to the object.
    pub(crate) rc: RefCount,
    /// The object's type (itself an object, owned: one count).
    pub(crate) ty: Cell<*const TypeObject>,
}

/// Bytes of the header.
pub const HEADER_SIZE: usize = size_of::<ObjHeader>();
const _: () = assert!(HEADER_SIZE == 16);

/// A raw, uncounted handle to an object.
///
/// Invariant: an `ObjRef` is made only for a live object (allocated by its
/// heap and not yet freed), and is used only while that object stays
/// alive: the code using it holds a count on it (or on an object it was
/// read from), or the object is immortal. This is what makes
/// [`ObjRef::header`] and [`ObjRef::ty`] safe; what follows the header
/// depends on the kind, so reaching it goes through an `unsafe fn` that
/// names the kind (`containers::tuple_items`, `type_object::as_type`, ...).
///
/// `header` and `ty` return `&'static`, shorthand for "while the object
/// lives": an `ObjRef` carries no lifetime (objects store it in raw
/// memory), so there is no owner to borrow from. Borrowing from the handle
/// itself (`&self`) would break the common `x.raw().ty()` on a temporary,
/// and a real owner means a lifetime on `ObjRef` throughout the crate.
/// The heap's brand (`heap.rs`) is on [`Obj`] and the typed views instead:
/// an `ObjRef` takes whatever brand its caller has when it becomes an `Obj`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[repr(transparent)]
pub(crate) struct ObjRef(pub(crate) NonNull<ObjHeader>);

impl ObjRef {
    /// The object's header.
    #[inline]
    pub(crate) fn header(self) -> &'static ObjHeader {
        // SAFETY: an ObjRef is only made for live objects, whose header is
        // initialised; the 'static is shorthand: callers use it only while
        // the object lives (the type's invariant above).
        unsafe { self.0.as_ref() }
    }

    /// The object's type.
    #[inline]
    pub(crate) fn ty(self) -> &'static TypeObject {
        // SAFETY: the type of a live object is live (the object holds a count on it).
        unsafe { &*self.header().ty.get() }
    }

    #[inline]
    pub(crate) fn addr(self) -> usize {
        self.0.as_ptr().addr()
    }

    #[inline]
    pub(crate) fn cast<T>(self) -> NonNull<T> {
        self.0.cast()
    }

    /// Whether the calling thread owns the object's heap (counts it in `local`).
    #[inline]
    pub(crate) fn owned_here(self) -> bool {
        let ty = self.header().ty.get();
        // SAFETY: the type of a live object is live, and so is its heap,
        // whose gate holds the owner word.
        let owner = unsafe { (*ty).owner.as_ref() };
        owner.load(core::sync::atomic::Ordering::Relaxed) == objgc::thread_token()
    }

    #[inline]
    pub(crate) fn incref(self) {
        self.header().rc.incref(|| self.owned_here());
    }

    /// [`ObjRef::incref`] by a thread that already knows whether it owns
    /// the object's heap (`owner`): one look at the heap for several of its
    /// objects.
    #[inline]
    pub(crate) fn incref_as(self, owner: bool) {
        debug_assert_eq!(owner, self.owned_here());
        self.header().rc.incref(|| owner);
    }

    /// Drops one count; frees the object when it was the last.
    #[inline]
    pub(crate) fn decref(self) {
        if let Some(rest) = self.drop_count() {
            rest.finish();
        }
    }

    /// [`ObjRef::decref`] as [`ObjRef::incref_as`] increfs.
    #[inline]
    pub(crate) fn decref_as(self, owner: bool) {
        if let Some(rest) = self.drop_count_as(|| owner) {
            rest.finish();
        }
    }

    /// Drops one count; when it was the last, frees the object with `free`
    /// if no other thread counted it (`objgc::Decref::Dead`), and as
    /// [`ObjRef::decref`] does otherwise.
    #[inline]
    pub(crate) fn decref_with(self, free: impl FnOnce(ObjRef)) {
        match self.drop_count() {
            None => {}
            Some(DecrefRest(o, Decref::Dead)) => free(o),
            Some(rest) => rest.finish(),
        }
    }

    /// Drops one count; what is left to do when it was not the plain case.
    #[inline]
    pub(crate) fn drop_count(self) -> Option<DecrefRest> {
        self.drop_count_as(|| self.owned_here())
    }

    /// [`ObjRef::drop_count`] by a thread that `is_owner` says owns the
    /// object's heap or not: the one place a count is dropped.
    #[inline]
    fn drop_count_as(self, is_owner: impl FnOnce() -> bool) -> Option<DecrefRest> {
        match self.header().rc.decref(is_owner) {
            Decref::Alive => None,
            after => Some(DecrefRest(self, after)),
        }
    }

    /// References to the object ([`IMMORTAL_REFCOUNT`] for immortal objects).
    pub(crate) fn refcount(self) -> usize {
        self.header().rc.count().unwrap_or(IMMORTAL_REFCOUNT)
    }

    /// Whether the host flag `flag` is set.
    pub(crate) fn has_flag(self, flag: u32) -> bool {
        self.header().rc.flag(flag)
    }

    /// Sets (or clears) the host flag `flag`; returns whether it was set.
    pub(crate) fn set_flag(self, flag: u32, on: bool) -> bool {
        self.header().rc.set_flag(flag, on)
    }

    pub(crate) fn make_immortal(self) {
        self.header().rc.make_immortal();
    }

    pub(crate) fn is_immortal(self) -> bool {
        self.header().rc.is_immortal()
    }

    /// Object pointers as handles (none counted): the same memory.
    #[inline]
    pub(crate) fn from_ptrs(ptrs: &[NonNull<u8>]) -> &[ObjRef] {
        // SAFETY: `ObjRef` is a `repr(transparent)` non-null pointer, as
        // `NonNull<u8>` is; the slice is only read.
        unsafe { core::slice::from_raw_parts(ptrs.as_ptr().cast::<ObjRef>(), ptrs.len()) }
    }

    /// A counted handle: takes over one count the caller owns.
    #[inline]
    pub(crate) fn into_obj<'h>(self) -> Obj<'h> {
        Obj {
            ptr: self,
            _heap: PhantomData,
        }
    }

    /// A counted handle made by adding a count.
    #[inline]
    pub(crate) fn new_obj<'h>(self) -> Obj<'h> {
        self.incref();
        self.into_obj()
    }
}

/// A counted reference to an object of the heap `'h`.
///
/// `Clone` adds a reference, `Drop` removes one; the last one frees the
/// object (and, without recursion, whatever only it kept alive).
///
/// Layout: a non-null pointer to the object (`repr(transparent)`, a
/// promise), so a slice of them is an array of object pointers, as a C
/// host function receives its arguments.
#[repr(transparent)]
pub struct Obj<'h> {
    pub(crate) ptr: ObjRef,
    /// The heap's brand (`heap.rs`): invariant, as `Heap<'h>` is.
    _heap: PhantomData<&'h Heap<'h>>,
}

impl<'h> Obj<'h> {
    /// The raw handle, without changing the count.
    #[inline]
    pub(crate) fn raw(&self) -> ObjRef {
        self.ptr
    }

    /// Gives up this handle's count to the caller (for storing in a field).
    pub(crate) fn into_raw(self) -> ObjRef {
        let ptr = self.ptr;
        core::mem::forget(self);
        ptr
    }

    /// The object's address (its identity).
    pub fn as_ptr(&self) -> *const u8 {
        self.ptr.0.as_ptr().cast()
    }

    /// Whether `self` and `other` are the same object (Python's `is`).
    pub fn is(&self, other: &Obj<'_>) -> bool {
        self.ptr == other.ptr
    }

    /// The current reference count (a large sentinel for immortal objects).
    pub fn refcount(&self) -> usize {
        self.ptr.refcount()
    }

    /// Whether the object is immortal (never counted nor freed).
    pub fn is_immortal(&self) -> bool {
        self.ptr.is_immortal()
    }

    /// The heap the object belongs to.
    pub fn heap(&self) -> &'h Heap<'h> {
        self.raw().ty().heap()
    }
}

/// What a decref left to do: free the dead object, or hand it to its
/// owner's merge queue (see [`abi::drop_count`](crate::abi::drop_count)).
#[must_use = "the object leaks unless `finish` runs"]
#[derive(Debug)]
pub struct DecrefRest(ObjRef, Decref);

impl DecrefRest {
    /// Frees the object or queues it, as the decref found.
    pub fn finish(self) {
        match self {
            DecrefRest(_, Decref::Alive) => {}
            DecrefRest(o, Decref::Dead) => crate::lifecycle::death::release(o),
            DecrefRest(o, Decref::Queue(h)) => o.ty().heap().gate.queue_merge(o.0.cast(), h),
        }
    }
}

impl Clone for Obj<'_> {
    #[inline]
    fn clone(&self) -> Self {
        self.ptr.new_obj()
    }
}

impl Drop for Obj<'_> {
    #[inline]
    fn drop(&mut self) {
        self.ptr.decref();
    }
}

impl PartialEq for Obj<'_> {
    /// Identity, as Python's `is`; value equality is [`Obj::equals`].
    fn eq(&self, other: &Self) -> bool {
        self.ptr == other.ptr
    }
}

impl Eq for Obj<'_> {}

/// Runs no host code (a `Debug` may be called anywhere, a panic handler
/// included): a value whose `repr` is the library's own (None, bool, int,
/// float, str) shows it, anything else its type and address, as CPython's
/// default `repr` does. [`Obj::repr`] is the one that calls `__repr__`.
impl fmt::Debug for Obj<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::kinds::type_object::Kind;
        let ty = self.ptr.ty();
        if matches!(
            ty.kind,
            Kind::NoneType | Kind::Bool | Kind::Int | Kind::Float | Kind::Str
        ) {
            if let Ok(s) = crate::inspect::repr::repr_string(self.ptr) {
                return f.write_str(&s);
            }
        }
        write!(f, "<{} object at {:p}>", ty.name_str(), self.as_ptr())
    }
}
