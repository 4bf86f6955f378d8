//! The C ABI of objrt.
//!
//! This crate is a thin layer: it checks and converts what C hands it, calls
//! the safe crates (objmodel), and converts the answer back. The contract
//! it implements is `shared/API.md`; `include/objffi.h` is generated from this
//! crate by cbindgen (see `build.rs`) and checked by `tests/header.rs`.
//!
//! ## Example
//!
//! The exports called from Rust exactly as a C host calls them (the
//! `examples/embed.rs` program goes further: a class, a host method, errors):
//!
//! ```
//! use core::ptr;
//! use objffi::*;
//!
//! // SAFETY: every pointer passed is NULL-checked by the callee or valid:
//! // the heap from obj_heap_new, objects it returned, and out-parameters
//! // on the stack; each reference taken is dropped once.
//! unsafe {
//!     let heap = obj_heap_new();
//!     assert!(!heap.is_null());
//!     let (mut list, mut item) = (ptr::null_mut(), ptr::null_mut());
//!     assert_eq!(obj_list_new(heap, &mut list), RawStatus(OBJ_OK));
//!     assert_eq!(obj_int_new(heap, 42, &mut item), RawStatus(OBJ_OK));
//!     assert_eq!(obj_list_append(list, item), RawStatus(OBJ_OK));
//!     obj_decref(item); // the list holds its own reference
//!     let mut len = 0;
//!     assert_eq!(obj_len(list, &mut len), RawStatus(OBJ_OK));
//!     assert_eq!(len, 1);
//!     // A wrong kind is a status and a message, never a crash.
//!     assert_eq!(obj_int_value(list, &mut 0), RawStatus(OBJ_ERR_TYPE));
//!     obj_decref(list);
//!     obj_heap_free(heap);
//! }
//! ```
//!
//! Every export follows the same rules:
//!
//! - it runs inside the panic boundary of `panic.rs`, so a Rust panic becomes
//!   `OBJ_ERR_PANIC` (or NULL, or nothing) and never unwinds into C;
//! - a failing call records a message for [`obj_last_error`] and returns a
//!   status ([`RawStatus`], the header's `obj_status_t`); out-parameters are
//!   written only on `OBJ_OK`;
//! - a NULL where a pointer is required gives `OBJ_ERR_NULL_ARG` (the helpers
//!   of `ptr.rs`);
//! - it works inside the heap's gate (`objmodel::abi::enter`): taking a heap
//!   or object argument (`try_heap`, `try_obj`) enters it for the call.
//!
//! Threads: any thread may make a heap's calls (the host serialises them),
//! collections included; `obj_incref`/`obj_decref` may come from any thread
//! at any time. One thread at a time, the heap's owner (its creator, a
//! thread that called `obj_heap_adopt`, or, once the owner has exited, the
//! next thread to call in), counts references without atomic instructions;
//! the others count atomically. A last reference dropped on another thread
//! frees the object there if no call is inside the heap, and otherwise
//! hands it to the call, which frees it before returning; references the
//! owner counted and another thread dropped are merged by the owner at its
//! next call.
//!
//! Modules, in header order: `error.rs` (status codes and messages), `heap.rs`
//! (heaps and their statistics), `object.rs` (the object handle, reference
//! counts, `type_of`, `repr`), `value.rs` (None, bools, `object`, ints,
//! floats, strs), `containers.rs` (tuples, lists, dicts), `type.rs`
//! (classes, MRO, instances, payloads, layouts), `attr.rs` (attributes),
//! `call.rs` (host functions, properties, calls). Pointer helpers are in
//! `ptr.rs`, the panic boundary in `panic.rs`.
//!
//! The cycle collector (`obj_gc_*`) and weak references (`obj_weakref_*`)
//! of the contract come with objgc.

#![deny(unsafe_op_in_unsafe_fn)]

// The exporting modules, in header order: cbindgen writes their functions in
// the order of these lines (a blank line between each keeps rustfmt from
// sorting them).
mod error;

mod heap;

mod object;

mod value;

mod containers;

#[path = "type.rs"] // `type` is a keyword
mod types;

mod attr;

mod cache;

mod call;

mod weakref;

mod gc;

// Helpers.
mod panic;
mod ptr;

pub use attr::{
    obj_delattr, obj_delattr_str, obj_getattr, obj_getattr_str, obj_setattr, obj_setattr_str,
};
pub use cache::{obj_attr_cache_t, obj_call_method_cached, obj_getattr_cached, obj_setattr_cached};
pub use call::{
    obj_call, obj_call_method, obj_call_method_str, obj_cfunc_t, obj_function_new, obj_property_new,
};
pub use containers::{
    obj_dict_del, obj_dict_get, obj_dict_item, obj_dict_new, obj_dict_set, obj_len,
    obj_list_append, obj_list_new, obj_list_set, obj_seq_get, obj_tuple_new,
};
pub use error::{
    OBJ_ERR_ATTRIBUTE, OBJ_ERR_CALLBACK, OBJ_ERR_HEAP_MISMATCH, OBJ_ERR_INDEX, OBJ_ERR_KEY,
    OBJ_ERR_MRO, OBJ_ERR_NO_MEMORY, OBJ_ERR_NULL_ARG, OBJ_ERR_PANIC, OBJ_ERR_RECURSION,
    OBJ_ERR_THREAD, OBJ_ERR_TYPE, OBJ_ERR_VALUE, OBJ_OK, RawStatus, obj_last_error,
    obj_set_last_error, obj_status_name, obj_status_t,
};
pub use gc::{
    OBJ_GC_DEBUG_SAVEALL, obj_gc_callback_t, obj_gc_collect, obj_gc_disable, obj_gc_enable,
    obj_gc_freeze, obj_gc_freeze_count, obj_gc_garbage, obj_gc_get_objects, obj_gc_is_enabled,
    obj_gc_is_tracked, obj_gc_referents, obj_gc_referrers, obj_gc_release_garbage,
    obj_gc_set_callback, obj_gc_set_debug, obj_gc_set_full_growth, obj_gc_set_threshold,
    obj_gc_stats, obj_gc_stats_t, obj_gc_unfreeze,
};
#[cfg(unix)]
pub use heap::obj_heap_snapshot_fd;
pub use heap::{
    obj_heap_adopt, obj_heap_check, obj_heap_fail_allocation, obj_heap_free, obj_heap_new,
    obj_heap_set_memory_limit, obj_heap_snapshot, obj_heap_stats, obj_heap_stats_t, obj_heap_t,
};
pub use object::{obj_decref, obj_incref, obj_refcount, obj_repr, obj_t, obj_type_of};
pub use types::{
    obj_alloc, obj_is_instance, obj_payload, obj_type_layout, obj_type_layout_t, obj_type_mro,
    obj_type_new, obj_type_spec_t, obj_visit_t,
};
pub use value::{
    obj_false, obj_float_new, obj_float_value, obj_int_new, obj_int_value, obj_intern, obj_none,
    obj_object_type, obj_str_data, obj_str_new, obj_true,
};
pub use weakref::{obj_weakref_get, obj_weakref_new};

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
