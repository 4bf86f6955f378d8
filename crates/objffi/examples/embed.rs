//! A host embedding objrt through its C ABI, written in Rust the way a C
//! program writes it against `objffi.h`: a heap, a class whose method is a
//! host function, an instance with attributes, a method call, a repr, and
//! an error with its status and message. Every status is checked.
//!
//! Run with `cargo run -p objffi --example embed`.

use core::ffi::{CStr, c_char, c_void};
use core::ptr;

use objffi::*;

/// Fails with the library's message unless `status` is `OBJ_OK`.
fn check(status: RawStatus, what: &str) {
    if status != RawStatus(OBJ_OK) {
        // SAFETY: the message stays valid until the next failing call.
        let message = unsafe { CStr::from_ptr(obj_last_error()) };
        panic!("{what}: {message:?}");
    }
}

/// The text of a str object.
///
/// # Safety
/// `s` is a live str; the text is used only while it lives.
unsafe fn text<'a>(s: *mut obj_t) -> &'a str {
    let (mut utf8, mut len): (*const c_char, usize) = (ptr::null(), 0);
    // SAFETY: a live object (the caller's promise); both outputs are valid.
    check(unsafe { obj_str_data(s, &mut utf8, &mut len) }, "str data");
    // SAFETY: `len` bytes of UTF-8 at `utf8`, alive with `s`.
    unsafe { core::str::from_utf8_unchecked(core::slice::from_raw_parts(utf8.cast(), len)) }
}

/// `Point.norm1(self)`: `abs(self.x) + abs(self.y)`, a host function; its
/// `data` is the heap (what `obj_function_new` was given).
unsafe extern "C" fn norm1(
    data: *mut c_void,
    args: *const *mut obj_t,
    nargs: usize,
    result: *mut *mut obj_t,
) -> RawStatus {
    if nargs != 1 {
        return RawStatus(OBJ_ERR_TYPE);
    }
    // SAFETY: the library passes `nargs` live objects and a result slot.
    unsafe {
        let this = *args;
        let mut sum = 0i64;
        for name in [c"x", c"y"] {
            let mut v = ptr::null_mut();
            let status = obj_getattr_str(this, name.as_ptr(), &mut v);
            if status != RawStatus(OBJ_OK) {
                return status; // its message stays for the caller
            }
            let mut n = 0;
            let status = obj_int_value(v, &mut n);
            obj_decref(v);
            if status != RawStatus(OBJ_OK) {
                return status;
            }
            sum += n.abs();
        }
        obj_int_new(data.cast(), sum, result)
    }
}

fn main() {
    let heap = obj_heap_new();
    assert!(!heap.is_null(), "no memory for a heap");
    // SAFETY: every pointer passed below is NULL-checked by the library or
    // a live object this function owns; each reference is given back once.
    unsafe {
        let mut point = ptr::null_mut();
        check(
            obj_type_new(
                heap,
                c"Point".as_ptr(),
                ptr::null(),
                0,
                ptr::null(),
                &mut point,
            ),
            "class Point",
        );
        let mut method = ptr::null_mut();
        check(
            obj_function_new(
                heap,
                c"norm1".as_ptr(),
                Some(norm1),
                heap.cast(),
                &mut method,
            ),
            "norm1",
        );
        check(
            obj_setattr_str(point, c"norm1".as_ptr(), method),
            "Point.norm1",
        );
        obj_decref(method);

        let mut p = ptr::null_mut();
        check(obj_alloc(point, &mut p), "Point()");
        for (name, value) in [(c"x", 3), (c"y", -4)] {
            let mut v = ptr::null_mut();
            check(obj_int_new(heap, value, &mut v), "int");
            check(obj_setattr_str(p, name.as_ptr(), v), "setattr");
            obj_decref(v);
        }

        let mut n = ptr::null_mut();
        check(
            obj_call_method_str(p, c"norm1".as_ptr(), ptr::null(), 0, &mut n),
            "p.norm1()",
        );
        let mut value = 0;
        check(obj_int_value(n, &mut value), "int value");
        obj_decref(n);
        println!("p.norm1() = {value}");
        assert_eq!(value, 7);

        let mut repr = ptr::null_mut();
        check(obj_repr(point, &mut repr), "repr");
        println!("repr(Point) = {}", text(repr));
        obj_decref(repr);

        // A failing call: a status and a message, and the heap goes on.
        let mut missing = ptr::null_mut();
        let status = obj_getattr_str(p, c"z".as_ptr(), &mut missing);
        assert_eq!(status, RawStatus(OBJ_ERR_ATTRIBUTE));
        println!(
            "p.z: {} ({:?})",
            CStr::from_ptr(obj_status_name(status)).to_string_lossy(),
            CStr::from_ptr(obj_last_error())
        );

        obj_decref(p);
        obj_decref(point);
        obj_heap_free(heap);
    }
}
