//! Reference counting and cycle collection for objrt (placeholder: nothing is
//! implemented yet).
//!
//! This crate will own the atomic reference counts (with immortal objects and
//! explicit overflow handling) and the generational cycle collector, whose
//! phases follow CPython's: update refs, subtract refs, move unreachable,
//! finalise, clear, free.

#![deny(unsafe_op_in_unsafe_fn)]
