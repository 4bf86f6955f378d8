//! Status codes, their names, and the per-thread message of the last failure.

use core::ffi::{CStr, c_char};
use std::cell::{Cell, RefCell};
use std::ffi::CString;

/// The named statuses, as Rust code spells them (C has the `OBJ_*`
/// constants, of the same values).
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[expect(
    non_camel_case_types,
    reason = "the variants are spelled as C spells the constants"
)]
pub enum obj_status_t {
    /// See [`OBJ_OK`].
    OBJ_OK = OBJ_OK,
    /// See [`OBJ_ERR_NULL_ARG`].
    OBJ_ERR_NULL_ARG = OBJ_ERR_NULL_ARG,
    /// See [`OBJ_ERR_TYPE`].
    OBJ_ERR_TYPE = OBJ_ERR_TYPE,
    /// See [`OBJ_ERR_VALUE`].
    OBJ_ERR_VALUE = OBJ_ERR_VALUE,
    /// See [`OBJ_ERR_ATTRIBUTE`].
    OBJ_ERR_ATTRIBUTE = OBJ_ERR_ATTRIBUTE,
    /// See [`OBJ_ERR_KEY`].
    OBJ_ERR_KEY = OBJ_ERR_KEY,
    /// See [`OBJ_ERR_INDEX`].
    OBJ_ERR_INDEX = OBJ_ERR_INDEX,
    /// See [`OBJ_ERR_MRO`].
    OBJ_ERR_MRO = OBJ_ERR_MRO,
    /// See [`OBJ_ERR_NO_MEMORY`].
    OBJ_ERR_NO_MEMORY = OBJ_ERR_NO_MEMORY,
    /// See [`OBJ_ERR_CALLBACK`].
    OBJ_ERR_CALLBACK = OBJ_ERR_CALLBACK,
    /// See [`OBJ_ERR_HEAP_MISMATCH`].
    OBJ_ERR_HEAP_MISMATCH = OBJ_ERR_HEAP_MISMATCH,
    /// See [`OBJ_ERR_PANIC`].
    OBJ_ERR_PANIC = OBJ_ERR_PANIC,
    /// See [`OBJ_ERR_THREAD`].
    OBJ_ERR_THREAD = OBJ_ERR_THREAD,
    /// See [`OBJ_ERR_RECURSION`].
    OBJ_ERR_RECURSION = OBJ_ERR_RECURSION,
}

/// Every status, in the order of its value (`ALL_STATUSES[s as usize] == s`).
const ALL_STATUSES: [obj_status_t; 14] = [
    obj_status_t::OBJ_OK,
    obj_status_t::OBJ_ERR_NULL_ARG,
    obj_status_t::OBJ_ERR_TYPE,
    obj_status_t::OBJ_ERR_VALUE,
    obj_status_t::OBJ_ERR_ATTRIBUTE,
    obj_status_t::OBJ_ERR_KEY,
    obj_status_t::OBJ_ERR_INDEX,
    obj_status_t::OBJ_ERR_MRO,
    obj_status_t::OBJ_ERR_NO_MEMORY,
    obj_status_t::OBJ_ERR_CALLBACK,
    obj_status_t::OBJ_ERR_HEAP_MISMATCH,
    obj_status_t::OBJ_ERR_PANIC,
    obj_status_t::OBJ_ERR_THREAD,
    obj_status_t::OBJ_ERR_RECURSION,
];

impl obj_status_t {
    /// The status's name as C spells it, e.g. `"OBJ_ERR_ATTRIBUTE"`.
    pub fn name(self) -> &'static CStr {
        match self {
            Self::OBJ_OK => c"OBJ_OK",
            Self::OBJ_ERR_NULL_ARG => c"OBJ_ERR_NULL_ARG",
            Self::OBJ_ERR_TYPE => c"OBJ_ERR_TYPE",
            Self::OBJ_ERR_VALUE => c"OBJ_ERR_VALUE",
            Self::OBJ_ERR_ATTRIBUTE => c"OBJ_ERR_ATTRIBUTE",
            Self::OBJ_ERR_KEY => c"OBJ_ERR_KEY",
            Self::OBJ_ERR_INDEX => c"OBJ_ERR_INDEX",
            Self::OBJ_ERR_MRO => c"OBJ_ERR_MRO",
            Self::OBJ_ERR_NO_MEMORY => c"OBJ_ERR_NO_MEMORY",
            Self::OBJ_ERR_CALLBACK => c"OBJ_ERR_CALLBACK",
            Self::OBJ_ERR_HEAP_MISMATCH => c"OBJ_ERR_HEAP_MISMATCH",
            Self::OBJ_ERR_PANIC => c"OBJ_ERR_PANIC",
            Self::OBJ_ERR_THREAD => c"OBJ_ERR_THREAD",
            Self::OBJ_ERR_RECURSION => c"OBJ_ERR_RECURSION",
        }
    }
}

/// The result of every call that can fail: a 32-bit integer, `OBJ_OK` (0)
/// on success, one of the `OBJ_ERR_*` constants on failure, or a host
/// function's own failing code.
///
/// Values are stable: a code is never renumbered, and a retired code is
/// never reused. On any value but `OBJ_OK`, out-parameters are left
/// untouched and `obj_last_error()` describes the failure.
///
/// A host function (`obj_cfunc_t`) may fail with a code of its own, any
/// non-zero value: it reaches the caller of `obj_call` (or of whatever ran
/// the function) unchanged, and `obj_status_name` calls it `"OBJ_UNKNOWN"`.
/// That is why the type is an integer and not an enum: any value is valid.
//
// (Rust: the header spells this type `obj_status_t`, see cbindgen.toml;
// `RawStatus::get` gives the named status of a value, if it has one.)
#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RawStatus(pub i32);

/// Success: out-parameters have been written.
pub const OBJ_OK: i32 = 0;
/// A pointer argument that must not be NULL was NULL.
pub const OBJ_ERR_NULL_ARG: i32 = 1;
/// An object of the wrong kind, or a type that cannot be built (Python's `TypeError`).
pub const OBJ_ERR_TYPE: i32 = 2;
/// A bad value, such as text that is not UTF-8 (Python's `ValueError`).
pub const OBJ_ERR_VALUE: i32 = 3;
/// No such attribute (Python's `AttributeError`).
pub const OBJ_ERR_ATTRIBUTE: i32 = 4;
/// No such dict key (Python's `KeyError`).
pub const OBJ_ERR_KEY: i32 = 5;
/// Index out of range (Python's `IndexError`).
pub const OBJ_ERR_INDEX: i32 = 6;
/// No consistent C3 method resolution order exists for the bases.
pub const OBJ_ERR_MRO: i32 = 7;
/// The heap's memory limit, or the system, refused the memory (Python's `MemoryError`).
pub const OBJ_ERR_NO_MEMORY: i32 = 8;
/// A host callback failed.
pub const OBJ_ERR_CALLBACK: i32 = 9;
/// Objects of two different heaps were mixed.
pub const OBJ_ERR_HEAP_MISMATCH: i32 = 10;
/// A bug: Rust code panicked. The panic was stopped at the C boundary.
pub const OBJ_ERR_PANIC: i32 = 11;
/// `obj_gc_collect` was called while another thread is inside a call on the same heap.
pub const OBJ_ERR_THREAD: i32 = 12;
/// Nesting went too deep: host functions calling back into the library,
/// chains of `__getattr__`, `repr` of nested containers (Python's `RecursionError`).
pub const OBJ_ERR_RECURSION: i32 = 13;

impl RawStatus {
    /// The named status of this value, or `None` for a host's own code.
    pub fn get(self) -> Option<obj_status_t> {
        let index = usize::try_from(self.0).ok()?;
        ALL_STATUSES.get(index).copied()
    }
}

impl From<obj_status_t> for RawStatus {
    fn from(status: obj_status_t) -> Self {
        Self(status as i32)
    }
}

impl PartialEq<obj_status_t> for RawStatus {
    fn eq(&self, other: &obj_status_t) -> bool {
        self.0 == *other as i32
    }
}

/// The printable name of any status value: the named status's, or
/// `"OBJ_UNKNOWN"` for a value that is none (a host's own code).
pub(crate) fn status_name(status: RawStatus) -> &'static CStr {
    status.get().map_or(c"OBJ_UNKNOWN", obj_status_t::name)
}

/// A failure on its way to C: the status to return and the message that
/// `obj_last_error` will give.
///
/// The status is raw: a host function's own failing code (any non-zero
/// `int`, see `call.rs`) travels back to the caller unchanged. One pointer
/// wide, as objmodel's errors are, so that an export's `Result` comes back
/// in registers.
#[derive(Debug)]
pub(crate) struct Error(Box<Failure>);

#[derive(Debug)]
struct Failure {
    status: RawStatus,
    message: String,
}

impl Error {
    /// A failure with `status` (never `OBJ_OK`) and `message`.
    #[cold]
    pub(crate) fn new(status: obj_status_t, message: impl Into<String>) -> Self {
        debug_assert_ne!(
            status,
            obj_status_t::OBJ_OK,
            "an error needs a failing status"
        );
        Self::raw(status.into(), message.into())
    }

    /// A failure with a raw status (a host's own code, never 0).
    fn raw(status: RawStatus, message: String) -> Self {
        Self(Box::new(Failure { status, message }))
    }

    /// Records the message for `obj_last_error` and returns the status.
    /// Out of line: a failure is the rare path of every export.
    #[cold]
    #[inline(never)]
    pub(crate) fn record(self) -> RawStatus {
        set_last_error(&self.0.message);
        self.0.status
    }
}

/// objmodel's error kinds map one-to-one onto status codes; a host
/// callback's own status (`ErrorKind::Host`) comes back as it was.
impl From<objmodel::Error> for Error {
    fn from(e: objmodel::Error) -> Self {
        use objmodel::ErrorKind as K;
        let status = match e.kind() {
            K::Type => obj_status_t::OBJ_ERR_TYPE,
            K::Value => obj_status_t::OBJ_ERR_VALUE,
            K::Attribute => obj_status_t::OBJ_ERR_ATTRIBUTE,
            K::Key => obj_status_t::OBJ_ERR_KEY,
            K::Index => obj_status_t::OBJ_ERR_INDEX,
            K::Mro => obj_status_t::OBJ_ERR_MRO,
            K::NoMemory => obj_status_t::OBJ_ERR_NO_MEMORY,
            K::HeapMismatch => obj_status_t::OBJ_ERR_HEAP_MISMATCH,
            K::Recursion => obj_status_t::OBJ_ERR_RECURSION,
            // The contract has no status of its own for it (obj_heap_check
            // documents OBJ_ERR_VALUE).
            K::Corrupt => obj_status_t::OBJ_ERR_VALUE,
            // A host never fails with OBJ_OK (call.rs turns that into a
            // callback error), so this is a failing status.
            K::Host(code) => {
                return Self::raw(RawStatus(code), e.into_message());
            }
        };
        Self::new(status, e.into_message())
    }
}

/// The result of the Rust side of an export.
pub(crate) type Result<T, E = Error> = core::result::Result<T, E>;

thread_local! {
    /// The message of the last failed call on this thread; empty until one fails.
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
    /// How many messages this thread has recorded: tells whether a host
    /// function left a message of its own (`call.rs`).
    static ERROR_SERIAL: Cell<u64> = const { Cell::new(0) };
}

/// Makes `message` the calling thread's last error. Interior NULs are dropped
/// (C could not see past them). Does nothing while the thread is exiting.
pub(crate) fn set_last_error(message: &str) {
    let bytes: Vec<u8> = message.bytes().filter(|&b| b != 0).collect();
    let message = CString::new(bytes).unwrap_or_default();
    // `try_with` fails only during thread teardown; the message is then lost.
    let _ = LAST_ERROR.try_with(|last| *last.borrow_mut() = message);
    let _ = ERROR_SERIAL.try_with(|n| n.set(n.get().wrapping_add(1)));
}

/// The number of messages recorded on this thread so far (it changes with
/// every failing call and every `obj_set_last_error`).
pub(crate) fn error_serial() -> u64 {
    ERROR_SERIAL.try_with(Cell::get).unwrap_or(0)
}

/// The calling thread's last error, copied.
pub(crate) fn last_error_string() -> String {
    LAST_ERROR
        .try_with(|last| last.borrow().to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The message of the last call that failed on the calling thread.
///
/// Returns a NUL-terminated UTF-8 string, empty if no call has failed on this
/// thread. Successful calls do not clear it (like `errno`). The string is
/// owned by the library: it stays valid until the next failing call on the
/// same thread, or until the thread exits. Never returns NULL.
#[unsafe(no_mangle)]
pub extern "C" fn obj_last_error() -> *const c_char {
    crate::panic::ffi_boundary("obj_last_error", || {
        LAST_ERROR
            .try_with(|last| last.borrow().as_ptr())
            .unwrap_or(c"".as_ptr())
    })
}

/// Sets the calling thread's last error to `message`, for a host function
/// about to return a failing status: its caller's `obj_last_error()` then
/// gives this message.
///
/// `message` is borrowed and copied; bytes that are not UTF-8 are replaced
/// by U+FFFD. NULL is ignored.
///
/// # Safety
///
/// `message` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_set_last_error(message: *const c_char) {
    crate::panic::ffi_boundary("obj_set_last_error", || {
        if message.is_null() {
            return;
        }
        // SAFETY: the caller passes a NUL-terminated string.
        let text = unsafe { CStr::from_ptr(message) }.to_string_lossy();
        set_last_error(&text);
    });
}

/// The name of a status code as C spells it, e.g. `"OBJ_ERR_ATTRIBUTE"`.
///
/// Returns a static NUL-terminated string that the caller must not free.
/// A value that is no status code gives `"OBJ_UNKNOWN"`. Never returns NULL.
#[unsafe(no_mangle)]
pub extern "C" fn obj_status_name(s: RawStatus) -> *const c_char {
    crate::panic::ffi_boundary("obj_status_name", || status_name(s).as_ptr())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_listed_in_value_order() {
        for (i, status) in ALL_STATUSES.into_iter().enumerate() {
            assert_eq!(status as usize, i);
            assert_eq!(RawStatus(i as i32).get(), Some(status));
            assert_eq!(RawStatus::from(status).get(), Some(status));
        }
        assert_eq!(RawStatus(-1).get(), None);
        assert_eq!(RawStatus(ALL_STATUSES.len() as i32).get(), None);
    }

    #[test]
    fn names_match_the_variants() {
        for status in ALL_STATUSES {
            assert_eq!(status.name().to_str().unwrap(), format!("{status:?}"));
        }
    }

    #[test]
    fn last_error_drops_interior_nuls() {
        set_last_error("a\0b");
        // SAFETY: obj_last_error returns a valid NUL-terminated string that lives
        // until the next failing call on this thread; none happens before the read.
        let message = unsafe { CStr::from_ptr(obj_last_error()) };
        assert_eq!(message, c"ab");
    }
}
