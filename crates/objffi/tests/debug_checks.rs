//! Debug builds catch a double decref and a use of a freed object through
//! the C ABI, with a message naming the object's type, and go on working.
#![cfg(debug_assertions)]

use core::ffi::CStr;
use core::ptr::{null, null_mut};

use objffi::*;

fn last_error() -> String {
    // SAFETY: obj_last_error returns a NUL-terminated string.
    unsafe { CStr::from_ptr(obj_last_error()) }
        .to_string_lossy()
        .into_owned()
}

#[test]
fn a_double_decref_and_a_use_after_free_are_reported_by_type() {
    let heap = obj_heap_new();
    let mut node = null_mut();
    let mut o = null_mut();
    // SAFETY: a live heap, a valid name, writable outs; `o` is freed by the
    // first decref and then, on purpose, handed back to the library.
    unsafe {
        assert_eq!(
            obj_type_new(heap, c"Node".as_ptr(), null(), 0, null(), &mut node).0,
            0
        );
        assert_eq!(obj_alloc(node, &mut o).0, 0);
        obj_decref(o);

        obj_decref(o);
        let message = last_error();
        assert!(
            message.contains("double decref") && message.contains("'Node'"),
            "{message}"
        );
        let mut out = null_mut();
        let status = obj_getattr_str(o, c"x".as_ptr(), &mut out);
        assert_eq!(status.0, obj_status_t::OBJ_ERR_VALUE as i32);
        assert!(out.is_null());
        assert_eq!(
            last_error(),
            "obj_getattr_str: argument 'o' is a freed 'Node' object (used after its last decref)"
        );
        obj_incref(o);
        assert!(last_error().starts_with("obj_incref: the object is a freed 'Node'"));

        // The heap goes on working, and a new object at that address is fine.
        let mut again = null_mut();
        assert_eq!(obj_alloc(node, &mut again).0, 0);
        assert_eq!(obj_setattr_str(again, c"x".as_ptr(), again).0, 0);
        assert_eq!(obj_delattr_str(again, c"x".as_ptr()).0, 0);
        obj_decref(again);
        obj_decref(node);
        obj_heap_free(heap);
    }
}
