//! Weak references: a handle that does not keep its target alive, and an
//! optional callback called with the weak reference when the target dies.
//!
//! ```text
//!  weakref  | links | header | target or null (no count) | callback or null | older | newer |
//! ```
//!
//! The weak references to one object form a list, oldest to newest, linked
//! through their `older`/`newer` fields (no counts); the heap's table maps
//! each object that has weak references to the ends of its list
//! (`Heap::weakref_table`, in the heap's memory), so objects without weak
//! references pay nothing, and a weak reference that dies leaves its list
//! in constant time, however many others its target has.
//! When a target dies — by refcount or as cyclic garbage — every weak
//! reference to it is cleared *before* it is freed, then the callbacks of
//! the weak references that are still alive run, newest first (CPython's
//! order). A weak reference that dies first simply leaves the list, so a
//! callback never sees a dangling target.
//!
//! Instances and types can be weakly referenced; int, float, str, tuple,
//! list and dict cannot, as in CPython.

use core::cell::Cell;

use crate::error::{Error, ErrorKind, Result};
use crate::heap::Heap;
use crate::kinds::type_object::Kind;
use crate::object::{HAS_WEAKREFS, Obj, ObjHeader, ObjRef};

#[repr(C)]
pub(crate) struct WeakRefObj {
    header: ObjHeader,
    pub(crate) target: Cell<Option<ObjRef>>,
    pub(crate) callback: Option<ObjRef>,
    /// The previous weak reference to the same target (older), if any.
    older: Cell<Option<ObjRef>>,
    /// The next weak reference to the same target (newer), if any.
    newer: Cell<Option<ObjRef>>,
}

/// The weak reference behind `o`.
///
/// # Safety
/// `o` is a weak reference, alive or dead but not yet freed, and the
/// reference is used only until it is freed.
#[inline]
pub(crate) unsafe fn weakref(o: ObjRef) -> &'static WeakRefObj {
    debug_assert_eq!(o.ty().kind, Kind::WeakRef);
    // SAFETY: a weak reference object (the caller's promise), not yet freed.
    unsafe { o.cast::<WeakRefObj>().as_ref() }
}

/// A weak reference to `target` (its callback gains a count).
pub(crate) fn new_weakref(heap: &Heap, target: ObjRef, callback: Option<ObjRef>) -> Result<ObjRef> {
    if !matches!(target.ty().kind, Kind::Object | Kind::Type) {
        return Err(Error::type_error(format!(
            "cannot create weak reference to '{}' object",
            target.ty().name_str()
        )));
    }
    // Room in the table first: nothing is half-done if there is none.
    heap.weakref_table()
        .try_reserve(1)
        .map_err(|_| Error::new(ErrorKind::NoMemory, "weak reference table: out of memory"))?;
    // SAFETY: the built-in weakref type, and a weak reference's size.
    let w = unsafe { heap.alloc_object(heap.b().weakref, size_of::<WeakRefObj>()) }
        .inspect_err(|_| shrink_if_empty(heap))?;
    if let Some(cb) = callback {
        cb.incref();
    }
    let mut table = heap.weakref_table();
    let older = table.get(&target).map(|&(_, newest)| newest);
    // SAFETY: a fresh weakref object; each field written once.
    unsafe {
        let p = w.cast::<WeakRefObj>().as_ptr();
        (&raw mut (*p).target).write(Cell::new(Some(target)));
        (&raw mut (*p).callback).write(callback);
        (&raw mut (*p).older).write(Cell::new(older));
        (&raw mut (*p).newer).write(Cell::new(None));
    }
    match older {
        Some(o) => {
            // SAFETY: the lists link live weak references only (a dying one leaves its list first).
            unsafe { weakref(o) }.newer.set(Some(w));
            table.get_mut(&target).expect("listed").1 = w;
        }
        None => {
            table.insert(target, (w, w));
        }
    }
    target.set_flag(HAS_WEAKREFS, true);
    Ok(w)
}

/// Takes the dying weak reference `w` off the list of `target`.
///
/// # Safety
/// `w` is a weak reference of `heap` on `target`'s list, not yet freed.
unsafe fn unlink(heap: &Heap, target: ObjRef, w: ObjRef) {
    // SAFETY: forwarded from the caller.
    let wr = unsafe { weakref(w) };
    let (older, newer) = (wr.older.take(), wr.newer.take());
    match older {
        // SAFETY: the lists link live weak references only (a dying one leaves its list first).
        Some(o) => unsafe { weakref(o) }.newer.set(newer),
        None => match newer {
            Some(n) => heap.weakref_table().get_mut(&target).expect("listed").0 = n,
            None => {
                forget_target(heap, target);
                return;
            }
        },
    }
    match newer {
        // SAFETY: the lists link live weak references only (a dying one leaves its list first).
        Some(n) => unsafe { weakref(n) }.older.set(older),
        None => {
            heap.weakref_table().get_mut(&target).expect("listed").1 = older.expect("not alone")
        }
    }
}

/// Removes `target` from the table, whose memory goes back to the heap
/// when it was the last; gives back its list's ends.
fn forget_target(heap: &Heap, target: ObjRef) -> Option<(ObjRef, ObjRef)> {
    let ends = heap.weakref_table().remove(&target);
    shrink_if_empty(heap);
    ends
}

/// Gives the table's memory back to the heap when no object has weak
/// references (so a heap that had some returns to its figures).
fn shrink_if_empty(heap: &Heap) {
    let mut table = heap.weakref_table();
    if table.is_empty() {
        table.shrink_to(0);
    }
}

/// Takes the whole list of a dying `target`, oldest first.
fn take_list(heap: &Heap, target: ObjRef) -> Vec<ObjRef> {
    let Some((oldest, _)) = forget_target(heap, target) else {
        return Vec::new();
    };
    let mut refs = Vec::new();
    let mut next = Some(oldest);
    while let Some(w) = next {
        refs.push(w);
        // SAFETY: the lists link live weak references only (a dying one leaves its list first).
        let wr = unsafe { weakref(w) };
        next = wr.newer.take();
        wr.older.set(None);
    }
    refs
}

/// Releases what a dead weak reference holds, and takes it off its
/// target's list.
///
/// # Safety
/// `w` is a dead weak reference of `heap`, not yet freed, cleared once.
pub(crate) unsafe fn clear(heap: &Heap, w: ObjRef) {
    // SAFETY: forwarded from the caller.
    let wr = unsafe { weakref(w) };
    if let Some(t) = wr.target.take() {
        // SAFETY: a weak reference with a target is on its target's list.
        unsafe { unlink(heap, t, w) };
    }
    if let Some(cb) = wr.callback {
        cb.decref();
    }
}

/// Clears every weak reference to `target` (which is dying) and returns
/// those whose callbacks should run, each with a count held.
pub(crate) fn detach_all(
    heap: &Heap,
    target: ObjRef,
    keep: impl Fn(ObjRef) -> bool,
) -> Vec<ObjRef> {
    if !target.set_flag(HAS_WEAKREFS, false) {
        return Vec::new(); // none ever: no table lookup
    }
    let refs = take_list(heap, target);
    let mut queued = Vec::new();
    // Newest first, as CPython calls them.
    for &w in refs.iter().rev() {
        // SAFETY: the lists link live weak references only (a dying one leaves its list first).
        let wr = unsafe { weakref(w) };
        wr.target.set(None);
        if wr.callback.is_some() && keep(w) {
            w.incref();
            queued.push(w);
        }
    }
    queued
}

/// Calls the callbacks of weak references queued by `detach_all`, and
/// drops the counts held on them. A failing callback is ignored (CPython
/// reports it as unraisable).
///
/// # Safety
/// Each of `queued` is a weak reference of `heap` whose count the caller
/// hands over, as `detach_all` returns them.
pub(crate) unsafe fn run_callbacks(heap: &Heap, queued: Vec<ObjRef>) {
    for w in queued {
        // SAFETY: a weak reference (the caller's promise), kept alive by
        // the count handed over until the decref below.
        if let Some(cb) = unsafe { weakref(w) }.callback {
            cb.incref();
            if let Ok(r) = crate::call::call_raw(heap, cb, &[w]) {
                r.decref();
            }
            cb.decref();
        }
        w.decref();
    }
}

impl<'h> Obj<'h> {
    /// A weak reference to `self`, with an optional callback called with
    /// the weak reference when `self` dies.
    pub fn weakref(&self, callback: Option<&Obj<'h>>) -> Result<Obj<'h>> {
        let heap = self.heap();
        if let Some(cb) = callback {
            debug_assert!(heap.owns(cb.raw()));
        }
        Ok(new_weakref(heap, self.raw(), callback.map(|c| c.raw()))?.into_obj())
    }

    /// The target of a weak reference, or `None` once it died.
    pub fn weakref_get(&self) -> Result<Obj<'h>> {
        let o = self.raw();
        if o.ty().kind != Kind::WeakRef {
            return Err(Error::type_error(format!(
                "expected a weak reference, not '{}'",
                o.ty().name_str()
            )));
        }
        // SAFETY: just checked the kind; `self` holds `o`.
        Ok(match unsafe { weakref(o) }.target.get() {
            Some(t) => t.new_obj(),
            None => self.heap().none(),
        })
    }
}
