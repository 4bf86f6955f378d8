//! Attributes: `getattr`, `setattr` and `delattr`, with the name as a str
//! object or as a C string.
//!
//! The lookup is CPython's generic one (objmodel's `lookup/mod.rs`): a data
//! descriptor (property, slot) on the type's MRO, then the instance's
//! `__dict__`, then a function on the MRO (bound to the instance), then any
//! other class attribute, then the class's `__getattr__`; on a type, its own
//! MRO, functions unbound. A property or `__getattr__` that is a failing
//! host function gives its status unchanged.

use core::ffi::c_char;

use crate::cache::{Site, quick_getattr, quick_setattr};
use crate::error::{RawStatus, Result};
use crate::object::{new_ref, obj_t, try_obj, try_obj_in};
use crate::panic::ffi_boundary;
use crate::ptr::{CName, try_name, try_out};

/// `getattr(o, name)` with `name` a str: `*out` receives a new reference
/// (a function of the class comes bound to `o`). Missing gives
/// `OBJ_ERR_ATTRIBUTE` (`'B' object has no attribute 'zzz'`, or on a class
/// `type object 'B' has no attribute 'zzz'`); a `name` that is no str
/// `OBJ_ERR_TYPE`. A lookup keeps nothing (it interns no name): failed
/// lookups of ever new names leave the heap as it was.
///
/// # Safety
///
/// `o` and `name` are NULL or live objects; `out` is NULL or valid for
/// writing one pointer.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_getattr(
    o: *mut obj_t,
    name: *mut obj_t,
    out: *mut *mut obj_t,
) -> RawStatus {
    ffi_boundary("obj_getattr", || -> Result<()> {
        // SAFETY: forwarded from the caller.
        if let Some(r) = unsafe { quick_getattr(o, name, out, Site::Heap) } {
            return r;
        }
        // SAFETY: the caller passes NULL or live objects.
        let o = unsafe { try_obj(o, "obj_getattr", "o") }?;
        // SAFETY: as above.
        let name = unsafe { try_obj_in(name, o.heap(), "obj_getattr", "name") }?;
        // SAFETY: the caller passes NULL or a pointer valid for one write.
        let out = unsafe { try_out(out, "obj_getattr", "out") }?;
        out.write(new_ref(o.getattr_obj(&name)?));
        Ok(())
    })
}

/// `obj_getattr` with the name as a NUL-terminated UTF-8 string (not UTF-8:
/// `OBJ_ERR_VALUE`).
///
/// # Safety
///
/// `o` is NULL or a live object; `name` is NULL or a NUL-terminated string;
/// `out` is NULL or valid for writing one pointer.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_getattr_str(
    o: *mut obj_t,
    name: *const c_char,
    out: *mut *mut obj_t,
) -> RawStatus {
    ffi_boundary("obj_getattr_str", || -> Result<()> {
        // SAFETY: the caller passes NULL or a live object.
        let o = unsafe { try_obj(o, "obj_getattr_str", "o") }?;
        // SAFETY: the caller passes NULL or a NUL-terminated string.
        let name = unsafe { try_name(o.heap(), name, "obj_getattr_str", "name") }?;
        // SAFETY: the caller passes NULL or a pointer valid for one write.
        let out = unsafe { try_out(out, "obj_getattr_str", "out") }?;
        out.write(new_ref(match name {
            CName::Interned(name) => o.getattr_obj(&name),
            CName::Text(name) => o.getattr(name),
        }?));
        Ok(())
    })
}

/// `setattr(o, name, value)` with `name` a str; `o` takes a reference to
/// `value`. On a class, changes its namespace (seen at once by every
/// subclass and instance). A slot or property setter wins over the
/// `__dict__`; an instance with neither a matching slot nor a `__dict__`
/// gives `OBJ_ERR_ATTRIBUTE`, a built-in type `OBJ_ERR_TYPE`.
///
/// # Safety
///
/// `o`, `name` and `value` are NULL or live objects.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_setattr(
    o: *mut obj_t,
    name: *mut obj_t,
    value: *mut obj_t,
) -> RawStatus {
    ffi_boundary("obj_setattr", || -> Result<()> {
        // SAFETY: forwarded from the caller.
        if let Some(r) = unsafe { quick_setattr(o, name, value, Site::Heap) } {
            return r;
        }
        // SAFETY: the caller passes NULL or live objects.
        let o = unsafe { try_obj(o, "obj_setattr", "o") }?;
        // SAFETY: as above.
        let name = unsafe { try_obj_in(name, o.heap(), "obj_setattr", "name") }?;
        // SAFETY: as above.
        let value = unsafe { try_obj_in(value, o.heap(), "obj_setattr", "value") }?;
        Ok(o.setattr_obj(&name, &value)?)
    })
}

/// `obj_setattr` with the name as a NUL-terminated UTF-8 string (not UTF-8:
/// `OBJ_ERR_VALUE`).
///
/// # Safety
///
/// `o` and `value` are NULL or live objects; `name` is NULL or a
/// NUL-terminated string.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_setattr_str(
    o: *mut obj_t,
    name: *const c_char,
    value: *mut obj_t,
) -> RawStatus {
    ffi_boundary("obj_setattr_str", || -> Result<()> {
        // SAFETY: the caller passes NULL or live objects.
        let o = unsafe { try_obj(o, "obj_setattr_str", "o") }?;
        // SAFETY: the caller passes NULL or a NUL-terminated string.
        let name = unsafe { try_name(o.heap(), name, "obj_setattr_str", "name") }?;
        // SAFETY: the caller passes NULL or a live object.
        let value = unsafe { try_obj_in(value, o.heap(), "obj_setattr_str", "value") }?;
        Ok(match name {
            CName::Interned(name) => o.setattr_obj(&name, &value),
            CName::Text(name) => o.setattr(name, &value),
        }?)
    })
}

/// `delattr(o, name)` with `name` a str: `o` gives back its reference to the
/// value. Missing gives `OBJ_ERR_ATTRIBUTE`.
///
/// # Safety
///
/// `o` and `name` are NULL or live objects.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_delattr(o: *mut obj_t, name: *mut obj_t) -> RawStatus {
    ffi_boundary("obj_delattr", || -> Result<()> {
        // SAFETY: the caller passes NULL or live objects.
        let o = unsafe { try_obj(o, "obj_delattr", "o") }?;
        // SAFETY: as above.
        let name = unsafe { try_obj_in(name, o.heap(), "obj_delattr", "name") }?;
        Ok(o.delattr_obj(&name)?)
    })
}

/// An addition to the contract: `obj_delattr` with the name as a
/// NUL-terminated UTF-8 string (not UTF-8: `OBJ_ERR_VALUE`).
///
/// # Safety
///
/// `o` is NULL or a live object; `name` is NULL or a NUL-terminated string.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_delattr_str(o: *mut obj_t, name: *const c_char) -> RawStatus {
    ffi_boundary("obj_delattr_str", || -> Result<()> {
        // SAFETY: the caller passes NULL or a live object.
        let o = unsafe { try_obj(o, "obj_delattr_str", "o") }?;
        // SAFETY: the caller passes NULL or a NUL-terminated string.
        let name = unsafe { try_name(o.heap(), name, "obj_delattr_str", "name") }?;
        Ok(match name {
            CName::Interned(name) => o.delattr_obj(&name),
            CName::Text(name) => o.delattr(name),
        }?)
    })
}
