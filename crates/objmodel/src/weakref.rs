//! Weak references: a handle that does not keep its target alive, and an
//! optional callback called with the weak reference when the target dies.
//!
//! ```text
//!  weakref  | links | header | target or null (no count) | callback or null |
//! ```
//!
//! The heap keeps, for each object that has weak references, the list of
//! them (`Heap::weakrefs`): objects without weak references pay nothing.
//! When a target dies — by refcount or as cyclic garbage — every weak
//! reference to it is cleared *before* it is freed, then the callbacks of
//! the weak references that are still alive run, newest first (CPython's
//! order). A weak reference that dies first simply leaves the list, so a
//! callback never sees a dangling target.
//!
//! Instances and types can be weakly referenced; int, float, str, tuple,
//! list and dict cannot, as in CPython.

use core::cell::Cell;

use crate::error::{Error, Result};
use crate::heap::Heap;
use crate::object::{HAS_WEAKREFS, Obj, ObjHeader, ObjRef};
use crate::types::Kind;

#[repr(C)]
pub(crate) struct WeakRefObj {
    header: ObjHeader,
    pub(crate) target: Cell<Option<ObjRef>>,
    pub(crate) callback: Option<ObjRef>,
}

pub(crate) fn weakref(o: ObjRef) -> &'static WeakRefObj {
    // SAFETY: callers check the kind.
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
    let w = heap.alloc_object(heap.b().weakref, size_of::<WeakRefObj>())?;
    if let Some(cb) = callback {
        cb.incref();
    }
    // SAFETY: a fresh weakref object; each field written once.
    unsafe {
        let p = w.cast::<WeakRefObj>().as_ptr();
        (&raw mut (*p).target).write(Cell::new(Some(target)));
        (&raw mut (*p).callback).write(callback);
    }
    target.set_flag(HAS_WEAKREFS, true);
    heap.weakrefs_of(target).push(w);
    Ok(w)
}

/// Releases what a dead weak reference holds, and takes it off its
/// target's list.
pub(crate) fn clear(heap: &Heap, w: ObjRef) {
    let wr = weakref(w);
    if let Some(t) = wr.target.take() {
        heap.forget_weakref(t, w);
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
    let refs = heap.take_weakrefs(target);
    let mut queued = Vec::new();
    // Newest first, as CPython calls them.
    for &w in refs.iter().rev() {
        weakref(w).target.set(None);
        if weakref(w).callback.is_some() && keep(w) {
            w.incref();
            queued.push(w);
        }
    }
    queued
}

/// Calls the callbacks of weak references queued by `detach_all`, and
/// drops the counts held on them. A failing callback is ignored (CPython
/// reports it as unraisable).
pub(crate) fn run_callbacks(heap: &Heap, queued: Vec<ObjRef>) {
    for w in queued {
        if let Some(cb) = weakref(w).callback {
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
            heap.check_own(cb.raw())?;
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
        Ok(match weakref(o).target.get() {
            Some(t) => t.new_obj(),
            None => self.heap().none(),
        })
    }
}
