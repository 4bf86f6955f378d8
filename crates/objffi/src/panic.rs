//! The panic boundary: a Rust panic never unwinds into C.
//!
//! Every export runs its body through [`ffi_boundary`]. What a panic turns into
//! depends on what the body returns, through [`FfiReturn`]:
//!
//! | body returns         | C gets           | on error              | on panic            |
//! |----------------------|------------------|-----------------------|---------------------|
//! | `Result<()>`         | `obj_status_t`   | the error's status    | `OBJ_ERR_PANIC`     |
//! | `Result<NonNull<T>>` | `T *`            | NULL                  | NULL                |
//! | `*mut T`             | `T *`            | (cannot fail)         | NULL                |
//! | `*const c_char`      | `const char *`   | (cannot fail)         | `""`                |
//! | `usize`              | `size_t`         | (cannot fail)         | 0                   |
//! | `bool`               | `bool`           | (cannot fail)         | false               |
//! | `()`                 | `void`           | (cannot fail)         | nothing             |
//!
//! A status leaves as a [`RawStatus`] (the header spells it `obj_status_t`):
//! a host function's own failing code passes through unchanged.
//!
//! Errors and panics both leave their message for `obj_last_error`.

use core::ffi::c_char;
use core::ptr::NonNull;
use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::error::{OBJ_ERR_PANIC, OBJ_OK, RawStatus, Result};

/// What the Rust body of an export returns, and how that reaches C.
pub(crate) trait FfiReturn {
    /// The type C receives.
    type C;
    /// What C receives when the body panicked.
    const ON_PANIC: Self::C;
    /// Converts a finished body's result, recording any error for `obj_last_error`.
    fn into_c(self) -> Self::C;
}

impl FfiReturn for Result<()> {
    type C = RawStatus;
    const ON_PANIC: RawStatus = RawStatus(OBJ_ERR_PANIC);
    fn into_c(self) -> RawStatus {
        match self {
            Ok(()) => RawStatus(OBJ_OK),
            Err(error) => error.record(),
        }
    }
}

impl<T> FfiReturn for Result<NonNull<T>> {
    type C = *mut T;
    const ON_PANIC: *mut T = core::ptr::null_mut();
    fn into_c(self) -> *mut T {
        match self {
            Ok(ptr) => ptr.as_ptr(),
            Err(error) => {
                error.record();
                core::ptr::null_mut()
            }
        }
    }
}

impl<T> FfiReturn for *mut T {
    type C = *mut T;
    const ON_PANIC: *mut T = core::ptr::null_mut();
    fn into_c(self) -> *mut T {
        self
    }
}

impl FfiReturn for usize {
    type C = usize;
    const ON_PANIC: usize = 0;
    fn into_c(self) -> usize {
        self
    }
}

impl FfiReturn for bool {
    type C = bool;
    const ON_PANIC: bool = false;
    fn into_c(self) -> bool {
        self
    }
}

impl FfiReturn for *const c_char {
    type C = *const c_char;
    const ON_PANIC: *const c_char = c"".as_ptr();
    fn into_c(self) -> *const c_char {
        self
    }
}

impl FfiReturn for () {
    type C = ();
    const ON_PANIC: () = ();
    fn into_c(self) {}
}

/// Runs the body of the export `func`, converting its result for C and
/// stopping any panic there.
#[inline(always)]
pub(crate) fn ffi_boundary<R: FfiReturn>(func: &'static str, body: impl FnOnce() -> R) -> R::C {
    // Unwind safety: after a panic the library's state may be inconsistent, but
    // the caller only learns `OBJ_ERR_PANIC`; the contract calls that a bug.
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(result) => result.into_c(),
        Err(payload) => {
            crate::error::set_last_error(&format!(
                "{func}: Rust panic: {}",
                panic_message(payload.as_ref())
            ));
            R::ON_PANIC
        }
    }
}

/// The text of a panic payload (`panic!` gives a `&str` or a `String`).
fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "(no message)"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::obj_status_t;
    use crate::error::{Error, obj_last_error};
    use core::ffi::CStr;

    fn last_error() -> String {
        // SAFETY: obj_last_error returns a valid NUL-terminated string that lives
        // until the next failing call on this thread; it is copied at once.
        unsafe { CStr::from_ptr(obj_last_error()) }
            .to_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn a_panic_becomes_the_panic_value() {
        let status = ffi_boundary("test_status", || -> Result<()> { panic!("boom {}", 1) });
        assert_eq!(status, obj_status_t::OBJ_ERR_PANIC);
        assert_eq!(last_error(), "test_status: Rust panic: boom 1");

        let ptr = ffi_boundary("test_ptr", || -> Result<NonNull<u8>> { panic!("boom") });
        assert!(ptr.is_null());
        assert_eq!(last_error(), "test_ptr: Rust panic: boom");

        ffi_boundary("test_unit", || -> () { panic!("boom") });
        assert_eq!(last_error(), "test_unit: Rust panic: boom");
    }

    #[test]
    fn an_error_is_recorded() {
        let status = ffi_boundary("test", || -> Result<()> {
            Err(Error::new(obj_status_t::OBJ_ERR_KEY, "'k'"))
        });
        assert_eq!(status, obj_status_t::OBJ_ERR_KEY);
        assert_eq!(last_error(), "'k'");
    }
}
