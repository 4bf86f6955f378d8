//! The object model of objrt (placeholder: nothing is implemented yet).
//!
//! This crate will own the object header every object starts with, the
//! built-in values (`None`, booleans, int, float, str, tuple, list, dict),
//! types with their C3 method resolution order, and CPython's generic
//! attribute lookup. Memory comes from `objheap`; reference counts and cycle
//! collection come from `objgc`.

#![deny(unsafe_op_in_unsafe_fn)]
