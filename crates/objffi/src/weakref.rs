//! Weak references: `obj_weakref_new` and `obj_weakref_get`.

use crate::error::{RawStatus, Result};
use crate::object::{new_ref, obj_t, try_obj, try_obj_in};
use crate::panic::ffi_boundary;
use crate::ptr::try_out;

/// A weak reference to `target` (an instance or a type; int, float, str,
/// tuple, list and dict give `OBJ_ERR_TYPE`, as in CPython). `callback`
/// (may be NULL) is called with the weak reference when the target dies, if
/// the weak reference is still alive then. `*out` receives a new reference.
///
/// # Safety
///
/// `target` is NULL or a live object; `callback` is NULL or a live object;
/// `out` is NULL or valid for writing one pointer.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_weakref_new(
    target: *mut obj_t,
    callback: *mut obj_t,
    out: *mut *mut obj_t,
) -> RawStatus {
    const F: &str = "obj_weakref_new";
    ffi_boundary(F, || -> Result<()> {
        // SAFETY: the caller passes NULL or a live object.
        let target = unsafe { try_obj(target, F, "target") }?;
        let callback = if callback.is_null() {
            None
        } else {
            // SAFETY: the caller passes a live object (not NULL: checked).
            Some(unsafe { try_obj_in(callback, target.heap(), F, "callback") }?)
        };
        // SAFETY: the caller passes NULL or a pointer valid for one write.
        let out = unsafe { try_out(out, F, "out") }?;
        let w = target.weakref(callback.as_deref())?;
        out.write(new_ref(w));
        Ok(())
    })
}

/// `*out` receives a new reference to the target of the weak reference
/// `ref`, or to None once the target died. A `ref` that is no weak
/// reference gives `OBJ_ERR_TYPE`.
///
/// # Safety
///
/// `ref` is NULL or a live object; `out` is NULL or valid for writing one pointer.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_weakref_get(r#ref: *mut obj_t, out: *mut *mut obj_t) -> RawStatus {
    const F: &str = "obj_weakref_get";
    ffi_boundary(F, || -> Result<()> {
        // SAFETY: the caller passes NULL or a live object.
        let w = unsafe { try_obj(r#ref, F, "ref") }?;
        // SAFETY: the caller passes NULL or a pointer valid for one write.
        let out = unsafe { try_out(out, F, "out") }?;
        out.write(new_ref(w.weakref_get()?));
        Ok(())
    })
}
