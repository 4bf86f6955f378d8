//! The C ABI of objrt.
//!
//! This crate is a thin layer: it checks and converts what C hands it, calls
//! the safe crates (`objheap` today), and converts the answer back. The contract
//! it implements is `shared/API.md`; `include/objffi.h` is generated from this
//! crate by cbindgen (see `build.rs`) and checked by `tests/header.rs`.
//!
//! Every export follows the same rules:
//!
//! - it runs inside the panic boundary of `panic.rs`, so a Rust panic becomes
//!   `OBJ_ERR_PANIC` (or NULL, or nothing) and never unwinds into C;
//! - a failing call records a message for [`obj_last_error`] and returns an
//!   [`obj_status_t`]; out-parameters are written only on `OBJ_OK`;
//! - a NULL where a pointer is required gives `OBJ_ERR_NULL_ARG` (the helpers
//!   of `ptr.rs`).
//!
//! Modules, in header order: `error.rs` (status codes and messages), `heap.rs`
//! (heaps and their statistics).

#![deny(unsafe_op_in_unsafe_fn)]

mod error;
mod heap;
mod panic;
mod ptr;

pub use error::{RawStatus, obj_last_error, obj_status_name, obj_status_t};
pub use heap::{
    obj_heap_free, obj_heap_new, obj_heap_set_memory_limit, obj_heap_stats, obj_heap_stats_t,
    obj_heap_t,
};
