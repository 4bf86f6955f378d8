//! Differential testing of objrt's C ABI.
//!
//! [`model`] runs random sequences of C-ABI calls ([`model::Op`]) through the
//! real `extern "C"` functions of `objffi` and through a plain reference
//! model of Python's object semantics, and compares every status and every
//! observable result. `tests/model.rs` drives it with proptest; the
//! cargo-fuzz target `fuzz/fuzz_targets/c_abi.rs` with libFuzzer.
//!
//! The C and C++ test programs of `c/` and `cpp/` are compiled into this
//! package by `build.rs` and run by `tests/c_api.rs`.

pub mod model;
