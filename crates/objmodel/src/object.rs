//! The object header and the two handles to an object.
//!
//! Every object starts with the same 16-byte header; what follows depends on
//! its type (see the layouts in `lib.rs`):
//!
//! ```text
//!  offset  0            8            16
//!         +------------+------------+---------------------------+
//!         |  refcount  |    type    |  fields of the type ...   |
//!         +------------+------------+---------------------------+
//!  refcount word:
//!     63        62             61          60 ............................ 0
//!   +---------+--------------+-----------+---------------------------------+
//!   |immortal | has weakrefs | finalized |       number of references       |
//!   +---------+--------------+-----------+---------------------------------+
//!   immortal:     None, bools, small ints, built-in types, interned strs:
//!                 never counted, never freed
//!   has weakrefs: the heap's weak-reference table has an entry for it
//!   finalized:    its `__del__` has run (it runs once, PEP 442)
//! ```
//!
//! The flags live in the count's word so that freeing an object asks no
//! side table whether it has weak references or was finalised.
//!
//! - [`ObjRef`] is the raw, `Copy` handle used inside the crate: it neither
//!   counts nor borrows. Fields of objects hold `ObjRef`s that own one count.
//! - [`Obj`] is the public smart pointer: it owns one count, `Clone`
//!   increfs, `Drop` decrefs, and its lifetime ties it to its [`Heap`], so no
//!   object outlives the heap that frees it.
//!
//! Counts are plain (not atomic) while a heap is used by one thread at a
//! time; the cross-thread protocol belongs to `objgc`.

use core::cell::Cell;
use core::fmt;
use core::marker::PhantomData;
use core::ptr::NonNull;

use crate::Heap;
use crate::types::TypeObject;

/// Refcount-word bit: never counted nor freed.
pub(crate) const IMMORTAL: usize = 1 << 63;
/// Refcount-word bit: the object has (or had) weak references.
pub(crate) const HAS_WEAKREFS: usize = 1 << 62;
/// Refcount-word bit: the object's finaliser has run.
pub(crate) const FINALIZED: usize = 1 << 61;
/// The bits of the refcount word that count references.
pub(crate) const COUNT_MASK: usize = FINALIZED - 1;

/// The header every object starts with.
#[repr(C)]
pub(crate) struct ObjHeader {
    /// References to the object, or `IMMORTAL`.
    pub(crate) refcnt: Cell<usize>,
    /// The object's type (itself an object, owned: one count).
    pub(crate) ty: Cell<*const TypeObject>,
}

/// Bytes of the header.
pub const HEADER_SIZE: usize = size_of::<ObjHeader>();
const _: () = assert!(HEADER_SIZE == 16);

/// A raw, uncounted handle to an object.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[repr(transparent)]
pub(crate) struct ObjRef(pub(crate) NonNull<ObjHeader>);

impl ObjRef {
    #[inline]
    pub(crate) fn header(self) -> &'static ObjHeader {
        // SAFETY: an ObjRef is only made for live objects, whose header is
        // initialised; the 'static is internal shorthand: callers use it
        // only while they hold a count.
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

    #[inline]
    pub(crate) fn incref(self) {
        let h = self.header();
        let rc = h.refcnt.get();
        if rc & IMMORTAL == 0 {
            // The count cannot reach the flag bits: every reference is a
            // pointer stored somewhere, and 2^61 of them would need more
            // memory than a 64-bit address space has.
            debug_assert!(rc & COUNT_MASK < COUNT_MASK, "refcount overflow");
            h.refcnt.set(rc + 1);
        }
    }

    /// Drops one count; frees the object when it was the last.
    #[inline]
    pub(crate) fn decref(self) {
        let h = self.header();
        let rc = h.refcnt.get();
        if rc & IMMORTAL != 0 {
            return;
        }
        debug_assert!(
            rc & COUNT_MASK > 0,
            "decref of a dead object of type {}",
            self.ty().name_str()
        );
        h.refcnt.set(rc - 1);
        if rc & COUNT_MASK == 1 {
            crate::heap::dealloc(self);
        }
    }

    /// References to the object (`IMMORTAL` for immortal objects).
    pub(crate) fn refcount(self) -> usize {
        let rc = self.header().refcnt.get();
        if rc & IMMORTAL != 0 {
            IMMORTAL
        } else {
            rc & COUNT_MASK
        }
    }

    /// Whether the flag bit `flag` is set in the refcount word.
    pub(crate) fn has_flag(self, flag: usize) -> bool {
        self.header().refcnt.get() & flag != 0
    }

    /// Sets (or clears) the flag bit `flag`; returns whether it was set.
    pub(crate) fn set_flag(self, flag: usize, on: bool) -> bool {
        let h = self.header();
        let rc = h.refcnt.get();
        h.refcnt.set(if on { rc | flag } else { rc & !flag });
        rc & flag != 0
    }

    /// Sets the count, keeping the flags.
    pub(crate) fn set_count(self, n: usize) {
        let h = self.header();
        h.refcnt.set((h.refcnt.get() & !COUNT_MASK) | n);
    }

    pub(crate) fn make_immortal(self) {
        self.header().refcnt.set(IMMORTAL | 1);
    }

    pub(crate) fn is_immortal(self) -> bool {
        self.header().refcnt.get() & IMMORTAL != 0
    }

    /// A counted handle: takes over one count the caller owns.
    pub(crate) fn into_obj<'h>(self) -> Obj<'h> {
        Obj {
            ptr: self,
            _heap: PhantomData,
        }
    }

    /// A counted handle made by adding a count.
    pub(crate) fn new_obj<'h>(self) -> Obj<'h> {
        self.incref();
        self.into_obj()
    }
}

/// A counted reference to an object of the heap `'h`.
///
/// `Clone` adds a reference, `Drop` removes one; the last one frees the
/// object (and, without recursion, whatever only it kept alive).
#[repr(transparent)]
pub struct Obj<'h> {
    pub(crate) ptr: ObjRef,
    _heap: PhantomData<&'h Heap>,
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

    /// Gives up this handle's count and returns the object's address, for
    /// hosts that keep objects behind raw pointers (the C ABI). Undo with
    /// [`Obj::from_ptr`].
    pub fn into_ptr(self) -> NonNull<u8> {
        self.into_raw().0.cast()
    }

    /// Takes over one count of the object at `p`.
    ///
    /// # Safety
    /// `p` is the address of a live object (from [`Obj::into_ptr`] or
    /// [`Obj::as_ptr`]) of a heap that outlives `'h`, and the caller owns
    /// the count it hands over.
    pub unsafe fn from_ptr(p: NonNull<u8>) -> Obj<'h> {
        ObjRef(p.cast()).into_obj()
    }

    /// A handle to the object at `p` that does not own a count (it must not
    /// be dropped; clone it to get an owning one).
    ///
    /// # Safety
    /// As for [`Obj::from_ptr`], and the object stays alive while the view is used.
    pub unsafe fn borrow_ptr(p: NonNull<u8>) -> core::mem::ManuallyDrop<Obj<'h>> {
        core::mem::ManuallyDrop::new(ObjRef(p.cast()).into_obj())
    }

    /// Adds a count to the object at `p`.
    ///
    /// # Safety
    /// `p` is the address of a live object.
    pub unsafe fn incref_ptr(p: NonNull<u8>) {
        ObjRef(p.cast()).incref();
    }

    /// Drops a count of the object at `p`, freeing it if it was the last.
    ///
    /// # Safety
    /// `p` is the address of a live object and the caller owns the count.
    pub unsafe fn decref_ptr(p: NonNull<u8>) {
        ObjRef(p.cast()).decref();
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

impl fmt::Debug for Obj<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match crate::repr::repr_string(self.ptr) {
            Ok(s) => f.write_str(&s),
            Err(_) => write!(
                f,
                "<{} object at {:p}>",
                self.ptr.ty().name_str(),
                self.as_ptr()
            ),
        }
    }
}
