//! NULL checks for pointer arguments, as early returns: `let heap = try_ref(..)?;`.
//!
//! Each helper gives `OBJ_ERR_NULL_ARG` with the message
//! `"<function>: argument '<name>' is NULL"` when the pointer is NULL, and
//! otherwise turns it into a reference. They check only for NULL: that a
//! non-NULL pointer is valid is the caller's promise, stated in the `# Safety`
//! section of each export.

use core::mem::MaybeUninit;

use crate::error::{Error, Result, obj_status_t};

fn null_arg(func: &str, arg: &str) -> Error {
    Error::new(
        obj_status_t::OBJ_ERR_NULL_ARG,
        format!("{func}: argument '{arg}' is NULL"),
    )
}

/// Borrows `*ptr` shared, or fails with `OBJ_ERR_NULL_ARG`.
///
/// # Safety
///
/// `ptr` is NULL, or points to a live, initialised `T` that nothing mutates
/// for `'a`.
pub(crate) unsafe fn try_ref<'a, T>(ptr: *const T, func: &str, arg: &str) -> Result<&'a T> {
    // SAFETY: the caller promises that a non-NULL `ptr` is valid for `'a`.
    unsafe { ptr.as_ref() }.ok_or_else(|| null_arg(func, arg))
}

/// Borrows `*ptr` exclusively, or fails with `OBJ_ERR_NULL_ARG`.
///
/// # Safety
///
/// `ptr` is NULL, or points to a live, initialised `T` that nothing else reads
/// or writes for `'a`.
pub(crate) unsafe fn try_mut<'a, T>(ptr: *mut T, func: &str, arg: &str) -> Result<&'a mut T> {
    // SAFETY: the caller promises that a non-NULL `ptr` is valid and unaliased for `'a`.
    unsafe { ptr.as_mut() }.ok_or_else(|| null_arg(func, arg))
}

/// Checks an out-parameter, or fails with `OBJ_ERR_NULL_ARG`. The slot may be
/// uninitialised; write it only once the call has succeeded.
///
/// # Safety
///
/// `ptr` is NULL, or is valid for writes of a `T`, suitably aligned, and
/// nothing else reads or writes it for `'a`.
pub(crate) unsafe fn try_out<'a, T>(
    ptr: *mut T,
    func: &str,
    arg: &str,
) -> Result<&'a mut MaybeUninit<T>> {
    // SAFETY: `MaybeUninit<T>` has the layout of `T` and may hold anything, so a
    // non-NULL `ptr` that the caller promises is writable and unaliased for `'a`
    // is a valid `&mut MaybeUninit<T>`.
    unsafe { ptr.cast::<MaybeUninit<T>>().as_mut() }.ok_or_else(|| null_arg(func, arg))
}
