//! NULL checks for pointer arguments, as early returns: `let heap = try_ref(..)?;`.
//!
//! Each helper gives `OBJ_ERR_NULL_ARG` with the message
//! `"<function>: argument '<name>' is NULL"` when the pointer is NULL, and
//! otherwise turns it into a reference. They check only for NULL: that a
//! non-NULL pointer is valid is the caller's promise, stated in the `# Safety`
//! section of each export.
//!
//! A (pointer, count) pair may be (NULL, 0): an empty array or text is
//! never read, so it needs no address ([`try_slice`], [`try_text`]).
//! Text must be UTF-8, else `OBJ_ERR_VALUE` with CPython's message
//! (`'utf-8' codec can't decode byte 0xff in position 0: invalid start byte`).

use core::ffi::{CStr, c_char};
use core::mem::{ManuallyDrop, MaybeUninit};
use core::ptr::NonNull;
use core::str::Utf8Error;

use objmodel::{Heap, Obj};

use crate::error::{Error, Result, obj_status_t};

#[cold]
#[inline(never)]
pub(crate) fn null_arg(func: &str, arg: &str) -> Error {
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

/// Borrows the array `ptr[0..len]`, or fails with `OBJ_ERR_NULL_ARG` when
/// `ptr` is NULL and `len` is not 0.
///
/// # Safety
///
/// `ptr` is NULL, or points to `len` initialised `T`s that nothing mutates
/// for `'a`.
pub(crate) unsafe fn try_slice<'a, T>(
    ptr: *const T,
    len: usize,
    func: &str,
    arg: &str,
) -> Result<&'a [T]> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(null_arg(func, arg));
    }
    // SAFETY: non-NULL, and the caller promises `len` valid elements for `'a`.
    Ok(unsafe { core::slice::from_raw_parts(ptr, len) })
}

/// Borrows the UTF-8 text `ptr[0..len]` (which may hold NULs): NULL with a
/// non-zero `len` gives `OBJ_ERR_NULL_ARG`, bytes that are not UTF-8
/// `OBJ_ERR_VALUE`.
///
/// # Safety
///
/// As for [`try_slice`] with `T = u8`.
pub(crate) unsafe fn try_text<'a>(
    ptr: *const c_char,
    len: usize,
    func: &str,
    arg: &str,
) -> Result<&'a str> {
    // SAFETY: forwarded from the caller.
    let bytes = unsafe { try_slice(ptr.cast::<u8>(), len, func, arg) }?;
    core::str::from_utf8(bytes).map_err(|e| utf8_error(bytes, e))
}

/// Borrows the NUL-terminated UTF-8 string at `ptr`: NULL gives
/// `OBJ_ERR_NULL_ARG`, bytes that are not UTF-8 `OBJ_ERR_VALUE`.
///
/// # Safety
///
/// `ptr` is NULL or a NUL-terminated string that nothing mutates for `'a`.
pub(crate) unsafe fn try_cstr<'a>(ptr: *const c_char, func: &str, arg: &str) -> Result<&'a str> {
    if ptr.is_null() {
        return Err(null_arg(func, arg));
    }
    // SAFETY: non-NULL, and the caller promises a NUL-terminated string.
    let bytes = unsafe { CStr::from_ptr(ptr) }.to_bytes();
    core::str::from_utf8(bytes).map_err(|e| utf8_error(bytes, e))
}

/// A name a host passed as a C string (`obj_getattr_str` & co.).
pub(crate) enum CName<'h, 'a> {
    /// The heap's interned str with its text (immortal: a view, uncounted).
    Interned(ManuallyDrop<Obj<'h>>),
    /// Its text, when the heap has no interned str with it (yet).
    Text(&'a str),
}

/// The name at `ptr`, or `OBJ_ERR_NULL_ARG` / `OBJ_ERR_VALUE` as for
/// [`try_cstr`]. A name the heap has interned comes from its cache of C
/// strings, most often without reading more than the name's bytes.
///
/// # Safety
/// `ptr` is NULL or a NUL-terminated string that lives for `'a`.
pub(crate) unsafe fn try_name<'h, 'a>(
    heap: &Heap<'h>,
    ptr: *const c_char,
    func: &str,
    arg: &str,
) -> Result<CName<'h, 'a>> {
    let Some(p) = NonNull::new(ptr.cast_mut()) else {
        return Err(null_arg(func, arg));
    };
    // SAFETY: NUL-terminated (the caller's promise).
    if let Some(name) = unsafe { objmodel::abi::find_interned_cstr(heap, p) } {
        return Ok(CName::Interned(name));
    }
    // SAFETY: as above.
    Ok(CName::Text(unsafe { try_cstr(ptr, func, arg) }?))
}

/// `OBJ_ERR_VALUE` with CPython's message for bytes that do not decode.
fn utf8_error(bytes: &[u8], e: Utf8Error) -> Error {
    let at = e.valid_up_to();
    let reason = match e.error_len() {
        None => "unexpected end of data",
        // A byte that cannot begin a sequence: a continuation byte, an
        // overlong lead (0xC0, 0xC1) or one past U+10FFFF (0xF5..).
        Some(_) if matches!(bytes[at], 0x80..=0xC1 | 0xF5..) => "invalid start byte",
        Some(_) => "invalid continuation byte",
    };
    // CPython names the bytes of a truncated sequence as a range.
    let end = match e.error_len() {
        None => bytes.len(),
        Some(_) => at + 1,
    };
    let what = if end - at > 1 {
        format!("bytes in position {at}-{}", end - 1)
    } else {
        format!("byte 0x{:02x} in position {at}", bytes[at])
    };
    Error::new(
        obj_status_t::OBJ_ERR_VALUE,
        format!("'utf-8' codec can't decode {what}: {reason}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(bytes: &[u8]) -> String {
        // SAFETY: `bytes` is a live slice of `bytes.len()` bytes.
        let e = unsafe { try_text(bytes.as_ptr().cast(), bytes.len(), "f", "s") }.unwrap_err();
        format!("{e:?}")
    }

    #[test]
    fn utf8_errors_read_as_cpython_writes_them() {
        // The messages of CPython 3.11's `bytes.decode()`.
        assert!(
            message(b"\xff")
                .contains("'utf-8' codec can't decode byte 0xff in position 0: invalid start byte")
        );
        assert!(
            message(b"ab\xe2\x28\xa1")
                .contains("can't decode byte 0xe2 in position 2: invalid continuation byte")
        );
        assert!(
            message(b"\xe2\x82")
                .contains("can't decode bytes in position 0-1: unexpected end of data")
        );
        assert!(
            message(b"a\xc3")
                .contains("can't decode byte 0xc3 in position 1: unexpected end of data")
        );
    }

    #[test]
    fn empty_arrays_need_no_address() {
        // SAFETY: a NULL pointer with length 0 is never read.
        let s = unsafe { try_text(core::ptr::null(), 0, "f", "s") }.unwrap();
        assert_eq!(s, "");
        // SAFETY: as above; a NULL pointer with a length is refused before any read.
        assert!(unsafe { try_slice::<u8>(core::ptr::null(), 1, "f", "s") }.is_err());
    }
}
