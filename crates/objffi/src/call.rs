//! Functions, properties and calls.
//!
//! A host function is a C `obj_cfunc_t` and its `data`, which objmodel
//! calls directly (an `objmodel::abi::ExternFn`, no closure in between:
//! the arguments array is objmodel's own). Its status crosses objmodel
//! unchanged: a failing status `s` becomes `ErrorKind::Host(s)` on the way
//! in, and `error.rs` turns that back into `s` for the caller of `obj_call`
//! (or of `obj_getattr`, for a property getter...), whatever its value. The
//! caller's `obj_last_error()` is the message the function left (through a
//! failing call of its own, or `obj_set_last_error`), else one naming the
//! function and its status.
//!
//! A host function that returns `OBJ_OK` without a result gives
//! `OBJ_ERR_CALLBACK`; one whose result belongs to another heap gives
//! `OBJ_ERR_HEAP_MISMATCH` (objmodel checks it, and drops the result).

use core::ffi::{c_char, c_void};

use objmodel::ErrorKind;
use objmodel::abi::{self, ExternErrors, ExternFn};

use crate::cache::{Site, quick_call_method};
use crate::error::{RawStatus, Result, error_serial, last_error_string, obj_status_t, status_name};
use crate::heap::{obj_heap_t, try_heap};
use crate::object::{as_refs, new_ref, obj_t, try_obj, try_obj_in, try_objs_in, try_ptrs_in};
use crate::panic::ffi_boundary;
use crate::ptr::{CName, null_arg, try_cstr, try_name, try_out};

/// A host function: receives its `data`, the `nargs` arguments at `args`
/// (borrowed; `self` first for a method), and returns `OBJ_OK` with a new
/// reference in `*result`, or a failing status (any non-zero value, which
/// reaches the caller unchanged) leaving `*result` alone.
#[expect(
    non_camel_case_types,
    reason = "the C ABI contract spells the type this way"
)]
pub type obj_cfunc_t = Option<
    unsafe extern "C" fn(
        data: *mut c_void,
        args: *const *mut obj_t,
        nargs: usize,
        result: *mut *mut obj_t,
    ) -> RawStatus,
>;

/// The objmodel kind of a host function's failing status: its own
/// `ErrorKind::Host`, so it reaches the caller unchanged, except for
/// `OBJ_ERR_ATTRIBUTE`, which must stay an AttributeError inside objmodel (a
/// getter raising it makes the class's `__getattr__` run, as in CPython) and
/// maps back onto the same status.
fn host_error_kind(status: RawStatus) -> ErrorKind {
    if status.0 == obj_status_t::OBJ_ERR_ATTRIBUTE as i32 {
        ErrorKind::Attribute
    } else {
        ErrorKind::Host(status.0)
    }
}

/// How the failures of host functions become errors: the message the
/// function set (`obj_last_error`), or one naming the function and its status.
static HOST_ERRORS: ExternErrors = ExternErrors {
    mark: error_serial,
    error: host_error,
};

/// The error of host function `name` that returned `status` (0: `OBJ_OK`
/// without a result); `serial` is the thread's error serial before the call.
fn host_error(status: i32, serial: u64, name: &str) -> objmodel::Error {
    let status = RawStatus(status);
    if status == obj_status_t::OBJ_OK {
        return objmodel::Error::new(
            ErrorKind::Host(obj_status_t::OBJ_ERR_CALLBACK as i32),
            format!("host function '{name}' returned OBJ_OK without a result"),
        );
    }
    let message = if error_serial() != serial {
        last_error_string()
    } else {
        format!(
            "host function '{name}' failed with {}",
            status_name(status).to_string_lossy()
        )
    };
    objmodel::Error::new(host_error_kind(status), message)
}

/// The C function type of `obj_cfunc_t`, as objmodel calls it.
type CFunc =
    unsafe extern "C" fn(*mut c_void, *const *mut obj_t, usize, *mut *mut obj_t) -> RawStatus;

/// `func` as objmodel's [`ExternFn`] calls it.
fn as_extern(func: CFunc, data: *mut c_void) -> ExternFn {
    // SAFETY: the two signatures differ only in the pointees of their
    // pointer arguments (`obj_t` against `u8`, `*mut` against `NonNull`,
    // all thin pointers) and in `RawStatus`, a `repr(transparent)` `i32`:
    // they are ABI-compatible, so calling one through the other is sound.
    let call = unsafe { core::mem::transmute::<CFunc, abi::ExternCall>(func) };
    ExternFn {
        call,
        data,
        errors: &HOST_ERRORS,
    }
}

/// A function object named `name` (UTF-8) that calls `fn(data, args, nargs,
/// result)`: `*out` receives a new reference. Stored in a class it is a
/// method: reached through an instance it is bound, `self` coming first.
///
/// `data` is the host's (NULL is fine) and is passed as is; the library
/// never frees it, so it must outlive the function object (at the latest,
/// the heap).
///
/// # Safety
///
/// `heap` is NULL or a live heap; `name` is NULL or a NUL-terminated
/// string; `fn` may be called as `obj_cfunc_t` documents, with `data`, as
/// long as the function object lives; `out` is NULL or valid for writing
/// one pointer.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_function_new(
    heap: *mut obj_heap_t,
    name: *const c_char,
    r#fn: obj_cfunc_t,
    data: *mut c_void,
    out: *mut *mut obj_t,
) -> RawStatus {
    const F: &str = "obj_function_new";
    ffi_boundary(F, || -> Result<()> {
        // SAFETY: the caller passes NULL or a live heap.
        let heap = unsafe { try_heap(heap, F) }?;
        // SAFETY: the caller passes NULL or a NUL-terminated string.
        let name = unsafe { try_cstr(name, F, "name") }?;
        let func = r#fn.ok_or_else(|| null_arg(F, "fn"))?;
        // SAFETY: the caller passes NULL or a pointer valid for one write.
        let out = unsafe { try_out(out, F, "out") }?;
        // SAFETY: the host promised that `func` may be called with its
        // `data`, borrowed live arguments and a result slot, and that it
        // gives a new reference to a live object when it returns OBJ_OK.
        let f = unsafe { abi::extern_function(&heap, name, as_extern(func, data)) }?;
        out.write(new_ref(f));
        Ok(())
    })
}

/// A property: reading the attribute calls `getter(self)`, setting it calls
/// `setter(self, value)` (NULL `setter`: setting gives `OBJ_ERR_ATTRIBUTE`).
/// `*out` receives a new reference; the property takes references to its
/// accessors. Accessors of another heap give `OBJ_ERR_HEAP_MISMATCH`.
///
/// # Safety
///
/// `heap` is NULL or a live heap; `getter` is NULL or a live object;
/// `setter` is NULL or a live object; `out` is NULL or valid for writing
/// one pointer.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_property_new(
    heap: *mut obj_heap_t,
    getter: *mut obj_t,
    setter: *mut obj_t,
    out: *mut *mut obj_t,
) -> RawStatus {
    const F: &str = "obj_property_new";
    ffi_boundary(F, || -> Result<()> {
        // SAFETY: the caller passes NULL or a live heap.
        let heap = unsafe { try_heap(heap, F) }?;
        // SAFETY: the caller passes NULL or a live object.
        let getter = unsafe { try_obj_in(getter, &heap, F, "getter") }?;
        let setter = match setter.is_null() {
            true => None,
            // SAFETY: the caller passes a live object.
            false => Some(unsafe { try_obj_in(setter, &heap, F, "setter") }?),
        };
        // SAFETY: the caller passes NULL or a pointer valid for one write.
        let out = unsafe { try_out(out, F, "out") }?;
        out.write(new_ref(heap.property(&getter, setter.as_deref())?));
        Ok(())
    })
}

/// `callable(*args)`: `*result` receives a new reference. A host function
/// runs; a bound method runs its function with `self` first; a class
/// allocates an instance and calls its `__init__` (if any) with `args` (an
/// `__init__` returning anything but None gives `OBJ_ERR_TYPE`). A failing
/// host function's status is returned unchanged. Arguments of another heap
/// give `OBJ_ERR_HEAP_MISMATCH`; a non-callable `OBJ_ERR_TYPE`.
///
/// # Safety
///
/// `callable` is NULL or a live object; `args` is NULL or points to `nargs`
/// pointers, each NULL or a live object; `result` is NULL or valid for
/// writing one pointer.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_call(
    callable: *mut obj_t,
    args: *const *mut obj_t,
    nargs: usize,
    result: *mut *mut obj_t,
) -> RawStatus {
    const F: &str = "obj_call";
    ffi_boundary(F, || -> Result<()> {
        // SAFETY: the caller passes NULL or a live object.
        let callable = unsafe { try_obj(callable, F, "callable") }?;
        // SAFETY: the caller passes NULL or `nargs` pointers to live objects.
        let args = unsafe { try_ptrs_in(args, nargs, callable.heap(), F, "args") }?;
        // SAFETY: the caller passes NULL or a pointer valid for one write.
        let out = unsafe { try_out(result, F, "result") }?;
        // SAFETY: live objects of the heap `try_obj` entered (checked above).
        out.write(new_ref(unsafe { abi::call_ptrs(&callable, args) }?));
        Ok(())
    })
}

/// `o.name(*args)` with `name` a str, without making a bound method when
/// the class has a function of that name: `*result` receives a new
/// reference. Otherwise as `obj_getattr` then `obj_call`.
///
/// # Safety
///
/// `o` and `name` are NULL or live objects; `args` is NULL or points to
/// `nargs` pointers, each NULL or a live object; `result` is NULL or valid
/// for writing one pointer.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_call_method(
    o: *mut obj_t,
    name: *mut obj_t,
    args: *const *mut obj_t,
    nargs: usize,
    result: *mut *mut obj_t,
) -> RawStatus {
    const F: &str = "obj_call_method";
    ffi_boundary(F, || -> Result<()> {
        // SAFETY: forwarded from the caller.
        if let Some(r) = unsafe { quick_call_method(o, name, (args, nargs), result, Site::Heap) } {
            return r;
        }
        // SAFETY: the caller passes NULL or live objects.
        let o = unsafe { try_obj(o, F, "o") }?;
        // SAFETY: as above.
        let name = unsafe { try_obj_in(name, o.heap(), F, "name") }?;
        // SAFETY: the caller passes NULL or `nargs` pointers to live objects.
        let args = unsafe { try_objs_in(args, nargs, o.heap(), F, "args") }?;
        // SAFETY: the caller passes NULL or a pointer valid for one write.
        let out = unsafe { try_out(result, F, "result") }?;
        out.write(new_ref(o.call_method_obj(&name, &as_refs(&args))?));
        Ok(())
    })
}

/// An addition to the contract: `obj_call_method` with the name as a
/// NUL-terminated UTF-8 string (not UTF-8: `OBJ_ERR_VALUE`).
///
/// # Safety
///
/// `o` is NULL or a live object; `name` is NULL or a NUL-terminated string;
/// `args` is NULL or points to `nargs` pointers, each NULL or a live
/// object; `result` is NULL or valid for writing one pointer.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_call_method_str(
    o: *mut obj_t,
    name: *const c_char,
    args: *const *mut obj_t,
    nargs: usize,
    result: *mut *mut obj_t,
) -> RawStatus {
    const F: &str = "obj_call_method_str";
    ffi_boundary(F, || -> Result<()> {
        // SAFETY: the caller passes NULL or a live object.
        let o = unsafe { try_obj(o, F, "o") }?;
        // SAFETY: the caller passes NULL or a NUL-terminated string.
        let name = unsafe { try_name(o.heap(), name, F, "name") }?;
        // SAFETY: the caller passes NULL or `nargs` pointers to live objects.
        let args = unsafe { try_objs_in(args, nargs, o.heap(), F, "args") }?;
        // SAFETY: the caller passes NULL or a pointer valid for one write.
        let out = unsafe { try_out(result, F, "result") }?;
        out.write(new_ref(match name {
            CName::Interned(name) => o.call_method_obj(&name, &as_refs(&args)),
            CName::Text(name) => o.call_method(name, &as_refs(&args)),
        }?));
        Ok(())
    })
}
