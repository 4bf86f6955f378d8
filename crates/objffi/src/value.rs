//! Built-in values: `None`, the bools, the root class, ints, floats, strs
//! and interned strs.
//!
//! `obj_none`, `obj_true`, `obj_false` and `obj_object_type` return
//! borrowed references to immortal objects (passing them to `obj_decref`
//! is harmless). Constructors return new references through `out`.

use core::ffi::c_char;
use core::ptr::NonNull;

use objmodel::{Heap, Obj};

use crate::error::{Error, RawStatus, Result, obj_status_t};
use crate::heap::{obj_heap_t, try_heap};
use crate::object::{new_ref, obj_t, try_obj};
use crate::panic::ffi_boundary;
use crate::ptr::{null_arg, try_out, try_text};

/// One of the heap's immortal built-ins, borrowed, or NULL for a NULL heap.
///
/// The built-ins are made with the heap and never change, so reading them
/// needs no stay in the heap's gate: any thread, at any time (inside a
/// traverse hook too), for a few instructions. Host functions return
/// `obj_none(heap)` on every call.
///
/// # Safety
///
/// `heap` is NULL or a live heap.
#[inline]
unsafe fn builtin(
    heap: *mut obj_heap_t,
    func: &'static str,
    pick: impl for<'h> FnOnce(&'h Heap<'h>) -> Obj<'h>,
) -> *mut obj_t {
    // SAFETY: NULL or a live heap (the caller's promise).
    match unsafe { heap.as_ref() } {
        // Immortal: the count this handle carries is never given back.
        Some(heap) => new_ref(pick(heap.heap())),
        None => ffi_boundary(func, || -> Result<NonNull<obj_t>> {
            Err(null_arg(func, "heap"))
        }),
    }
}

/// `None`: a borrowed reference (immortal). NULL only for a NULL heap.
///
/// # Safety
///
/// `heap` is NULL or a live heap.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_none(heap: *mut obj_heap_t) -> *mut obj_t {
    // SAFETY: forwarded from the caller.
    unsafe { builtin(heap, "obj_none", |h| h.none()) }
}

/// `True`: a borrowed reference (immortal). NULL only for a NULL heap.
///
/// # Safety
///
/// `heap` is NULL or a live heap.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_true(heap: *mut obj_heap_t) -> *mut obj_t {
    // SAFETY: forwarded from the caller.
    unsafe { builtin(heap, "obj_true", |h| h.bool(true)) }
}

/// `False`: a borrowed reference (immortal). NULL only for a NULL heap.
///
/// # Safety
///
/// `heap` is NULL or a live heap.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_false(heap: *mut obj_heap_t) -> *mut obj_t {
    // SAFETY: forwarded from the caller.
    unsafe { builtin(heap, "obj_false", |h| h.bool(false)) }
}

/// The root class `object`: a borrowed reference (immortal). NULL only for
/// a NULL heap.
///
/// # Safety
///
/// `heap` is NULL or a live heap.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_object_type(heap: *mut obj_heap_t) -> *mut obj_t {
    // SAFETY: forwarded from the caller.
    unsafe { builtin(heap, "obj_object_type", |h| h.object_type()) }
}

/// An int: `*out` receives a new reference. -5..=256 are shared and immortal.
///
/// # Safety
///
/// `heap` is NULL or a live heap; `out` is NULL or valid for writing one pointer.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_int_new(
    heap: *mut obj_heap_t,
    v: i64,
    out: *mut *mut obj_t,
) -> RawStatus {
    ffi_boundary("obj_int_new", || -> Result<()> {
        // SAFETY: the caller passes NULL or a live heap.
        let heap = unsafe { try_heap(heap, "obj_int_new") }?;
        // SAFETY: the caller passes NULL or a pointer valid for one write.
        let out = unsafe { try_out(out, "obj_int_new", "out") }?;
        out.write(new_ref(heap.int(v)?));
        Ok(())
    })
}

/// The value of an int (`True` and `False` are 1 and 0, as in Python).
/// Any other kind gives `OBJ_ERR_TYPE`. `o` is borrowed.
///
/// # Safety
///
/// `o` is NULL or a live object; `out` is NULL or valid for writing one `int64_t`.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_int_value(o: *const obj_t, out: *mut i64) -> RawStatus {
    ffi_boundary("obj_int_value", || -> Result<()> {
        // SAFETY: the caller passes NULL or a live object.
        let o = unsafe { try_obj(o, "obj_int_value", "o") }?;
        // SAFETY: the caller passes NULL or a pointer valid for one write.
        let out = unsafe { try_out(out, "obj_int_value", "out") }?;
        let v = o.as_int().ok_or_else(|| {
            wrong_kind(&o, |t| {
                format!("'{t}' object cannot be interpreted as an integer")
            })
        })?;
        out.write(v);
        Ok(())
    })
}

/// A float: `*out` receives a new reference.
///
/// # Safety
///
/// `heap` is NULL or a live heap; `out` is NULL or valid for writing one pointer.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_float_new(
    heap: *mut obj_heap_t,
    v: f64,
    out: *mut *mut obj_t,
) -> RawStatus {
    ffi_boundary("obj_float_new", || -> Result<()> {
        // SAFETY: the caller passes NULL or a live heap.
        let heap = unsafe { try_heap(heap, "obj_float_new") }?;
        // SAFETY: the caller passes NULL or a pointer valid for one write.
        let out = unsafe { try_out(out, "obj_float_new", "out") }?;
        out.write(new_ref(heap.float(v)?));
        Ok(())
    })
}

/// The value of a float; an int or bool converts, as CPython's
/// `PyFloat_AsDouble` does. Any other kind gives `OBJ_ERR_TYPE`. `o` is borrowed.
///
/// # Safety
///
/// `o` is NULL or a live object; `out` is NULL or valid for writing one `double`.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_float_value(o: *const obj_t, out: *mut f64) -> RawStatus {
    ffi_boundary("obj_float_value", || -> Result<()> {
        // SAFETY: the caller passes NULL or a live object.
        let o = unsafe { try_obj(o, "obj_float_value", "o") }?;
        // SAFETY: the caller passes NULL or a pointer valid for one write.
        let out = unsafe { try_out(out, "obj_float_value", "out") }?;
        let v = o
            .as_float()
            .or_else(|| o.as_int().map(|i| i as f64))
            .ok_or_else(|| wrong_kind(&o, |t| format!("must be real number, not {t}")))?;
        out.write(v);
        Ok(())
    })
}

/// A str of the `len` bytes of UTF-8 at `utf8` (which may hold NULs; NULL
/// is allowed when `len` is 0): `*out` receives a new reference. Bytes that
/// are not UTF-8 give `OBJ_ERR_VALUE`.
///
/// # Safety
///
/// `heap` is NULL or a live heap; `utf8` is NULL or valid for reading `len`
/// bytes; `out` is NULL or valid for writing one pointer.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_str_new(
    heap: *mut obj_heap_t,
    utf8: *const c_char,
    len: usize,
    out: *mut *mut obj_t,
) -> RawStatus {
    ffi_boundary("obj_str_new", || -> Result<()> {
        // SAFETY: the caller passes NULL or a live heap.
        let heap = unsafe { try_heap(heap, "obj_str_new") }?;
        // SAFETY: the caller passes NULL or `len` readable bytes.
        let text = unsafe { try_text(utf8, len, "obj_str_new", "utf8") }?;
        // SAFETY: the caller passes NULL or a pointer valid for one write.
        let out = unsafe { try_out(out, "obj_str_new", "out") }?;
        out.write(new_ref(heap.str(text)?));
        Ok(())
    })
}

/// The interned str equal to the `len` bytes of UTF-8 at `utf8`: equal
/// text gives the same object (immortal). `*out` receives a new reference.
/// Bytes that are not UTF-8 give `OBJ_ERR_VALUE`.
///
/// # Safety
///
/// As for `obj_str_new`.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_intern(
    heap: *mut obj_heap_t,
    utf8: *const c_char,
    len: usize,
    out: *mut *mut obj_t,
) -> RawStatus {
    ffi_boundary("obj_intern", || -> Result<()> {
        // SAFETY: the caller passes NULL or a live heap.
        let heap = unsafe { try_heap(heap, "obj_intern") }?;
        // SAFETY: the caller passes NULL or `len` readable bytes.
        let text = unsafe { try_text(utf8, len, "obj_intern", "utf8") }?;
        // SAFETY: the caller passes NULL or a pointer valid for one write.
        let out = unsafe { try_out(out, "obj_intern", "out") }?;
        out.write(new_ref(heap.intern(text)?));
        Ok(())
    })
}

/// The text of a str: `*utf8` receives its UTF-8 bytes, followed by a NUL
/// (borrowed: valid while `o` lives), `*len` their count (without the NUL).
/// Any other kind gives `OBJ_ERR_TYPE`.
///
/// # Safety
///
/// `o` is NULL or a live object; `utf8` and `len` are NULL or valid for
/// writing one pointer and one `size_t`.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_str_data(
    o: *const obj_t,
    utf8: *mut *const c_char,
    len: *mut usize,
) -> RawStatus {
    ffi_boundary("obj_str_data", || -> Result<()> {
        // SAFETY: the caller passes NULL or a live object.
        let o = unsafe { try_obj(o, "obj_str_data", "o") }?;
        // SAFETY: the caller passes NULL or pointers valid for one write.
        let utf8 = unsafe { try_out(utf8, "obj_str_data", "utf8") }?;
        // SAFETY: as above.
        let len = unsafe { try_out(len, "obj_str_data", "len") }?;
        let text = o
            .as_str()
            .ok_or_else(|| wrong_kind(&o, |t| format!("expected a str, not '{t}'")))?;
        // objmodel stores a NUL after the text, so C may read it in place.
        utf8.write(text.as_ptr().cast());
        len.write(text.len());
        Ok(())
    })
}

/// `OBJ_ERR_TYPE` with a message naming the type of `o`.
pub(crate) fn wrong_kind(o: &Obj<'_>, message: impl FnOnce(&str) -> String) -> Error {
    let name = o
        .type_of()
        .getattr("__name__")
        .ok()
        .and_then(|n| n.as_str().map(str::to_owned))
        .unwrap_or_else(|| "?".to_owned());
    Error::new(obj_status_t::OBJ_ERR_TYPE, message(&name))
}
