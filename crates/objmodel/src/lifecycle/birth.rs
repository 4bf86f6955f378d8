//! Birth: how an object gets its block, its header and its first count.
//!
//! [`Heap::alloc_object`] is the one door every object comes in by (the
//! type `type` alone, its own type, comes in by [`Heap::alloc_block`]); the
//! kind's constructor then writes the fields (see the map in
//! [`crate::lifecycle`]).
//!
//! ```text
//!   alloc_zeroed_raw(prefix + size)        (heap.rs: the heap's memory)
//!   +----------------------+---------------------+----------------------+
//!   | GcLinks (containers) | header: count 1, ty | zeroed fields        |
//!   +----------------------+---------------------+----------------------+
//!                          ^ the ObjRef handed out
//! ```
//!
//! Invariants: a new object holds one count, owned by the caller (the
//! owner thread's local count, or a shared one on another thread), and a
//! count on its type; every other byte is zero; a container is tracked by
//! the collector from here until its count reaches zero. An automatic
//! collection may run before the block is taken, never after (the caller
//! may be building an object). Immortal built-ins are born like any other
//! object and made immortal once built ([`Heap::make_immortal`]).

use crate::error::Result;
use crate::heap::Heap;
use crate::kinds::type_object::{Kind, TypeObject};
use crate::object::{HEADER_SIZE, ObjRef};

impl<'h> Heap<'h> {
    pub(crate) fn note_object_allocated(&self) {
        self.objects_live.set(self.objects_live.get() + 1);
    }

    /// Allocates an object of `size` bytes whose type is `ty`, with its
    /// header written (one reference, owned by the caller) and the rest
    /// zeroed. Containers get their collector links in front and are
    /// tracked. An automatic collection may run first (never later: the
    /// caller may be building an object).
    ///
    /// # Safety
    /// `ty` is a live type of this heap whose instances are `size` bytes
    /// laid out as its kind says.
    pub(crate) unsafe fn alloc_object(&self, ty: ObjRef, size: usize) -> Result<ObjRef> {
        debug_assert!(size >= HEADER_SIZE);
        let owner = self.is_owner_thread();
        if owner {
            self.merge_handed_counts();
        }
        if self
            .collector
            .maybe_collect(&crate::gc::Host(self))
            .is_some()
        {
            self.collected();
        }
        // SAFETY: `ty` is a live type (the caller's promise).
        let kind = unsafe { crate::kinds::type_object::as_type(ty) }.kind;
        let o = self.alloc_block(kind, size, owner)?;
        o.header().ty.set(ty.cast::<TypeObject>().as_ptr());
        ty.incref();
        Ok(o)
    }

    /// Allocates a zeroed object of `kind` with one reference, held by the
    /// calling thread (`owner`: whether it owns the heap), and no type yet
    /// (the caller sets it), tracking containers.
    #[inline]
    pub(crate) fn alloc_block(&self, kind: Kind, size: usize, owner: bool) -> Result<ObjRef> {
        let prefix = crate::gc::prefix(kind);
        let total = prefix.checked_add(size).ok_or(objheap::AllocError {
            size,
            kind: objheap::AllocErrorKind::TooLarge,
        })?;
        let p = self.alloc_zeroed_raw(total)?;
        // SAFETY: `total` fresh, zeroed bytes; the header fits after the prefix.
        let o = unsafe { ObjRef(p.add(prefix).cast()) };
        let rc = if owner {
            objgc::RefCount::new_owned()
        } else {
            objgc::RefCount::new_shared()
        };
        // SAFETY: the header of a fresh object, which no other thread sees yet.
        unsafe { (&raw mut (*o.0.as_ptr()).rc).write(rc) };
        super::freed::note_allocated(o.addr());
        if prefix > 0 {
            // SAFETY: fresh, zeroed (untracked) links, alive until the object is freed.
            unsafe { self.collector.track(crate::gc::links(o)) };
        }
        self.note_object_allocated();
        Ok(o)
    }

    /// Makes a built-in object immortal; the collector need not look at it.
    pub(crate) fn make_immortal(&self, o: ObjRef) {
        o.make_immortal();
        if crate::gc::is_container(o.ty().kind) {
            // SAFETY: `o` is live and tracked.
            unsafe { self.collector.untrack(crate::gc::links(o)) };
        }
    }

    pub(crate) fn register_owner(&self, o: ObjRef) {
        // SAFETY: single-threaded, not reentrant.
        unsafe { (*self.owners.get()).insert(o) };
    }
}
