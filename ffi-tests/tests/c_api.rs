//! Runs the C and C++ test programs (`c/`, `cpp/`); each returns its number of
//! failed checks and prints every failure.

use core::ffi::c_int;

use objffi as _;
// The C programs of build.rs are linked into this package's library target
// (Cargo passes a build script's libraries to the library only).
use ffi_tests as _;

// SAFETY: these entry points (in `c/` and `cpp/`) take no arguments and only
// call the library through its documented contract.
unsafe extern "C" {
    safe fn objffi_c_test_heap() -> c_int;
    safe fn objffi_c_test_errors() -> c_int;
    safe fn objffi_c_test_values() -> c_int;
    safe fn objffi_c_test_containers() -> c_int;
    safe fn objffi_c_test_types() -> c_int;
    safe fn objffi_c_test_attrs() -> c_int;
    safe fn objffi_c_test_calls() -> c_int;
    safe fn objffi_c_test_gc() -> c_int;
    safe fn objffi_c_test_threads() -> c_int;
    safe fn objffi_c_test_reentrant_hosts() -> c_int;
    safe fn objffi_c_test_host_code() -> c_int;
    safe fn objffi_c_test_counts() -> c_int;
    safe fn objffi_c_test_bounds() -> c_int;
    safe fn objffi_c_test_cache() -> c_int;
    safe fn objffi_cpp_test_heap() -> c_int;
    safe fn objffi_cpp_test_wrapper() -> c_int;
}

#[test]
fn c_heap() {
    assert_eq!(
        objffi_c_test_heap(),
        0,
        "failed checks in c/test_heap.c (see the output)"
    );
}

#[test]
fn c_errors() {
    assert_eq!(
        objffi_c_test_errors(),
        0,
        "failed checks in c/test_errors.c (see the output)"
    );
}

#[test]
fn c_values() {
    assert_eq!(
        objffi_c_test_values(),
        0,
        "failed checks in c/test_values.c (see the output)"
    );
}

#[test]
fn c_containers() {
    assert_eq!(
        objffi_c_test_containers(),
        0,
        "failed checks in c/test_containers.c (see the output)"
    );
}

#[test]
fn c_types() {
    assert_eq!(
        objffi_c_test_types(),
        0,
        "failed checks in c/test_types.c (see the output)"
    );
}

#[test]
fn c_attrs() {
    assert_eq!(
        objffi_c_test_attrs(),
        0,
        "failed checks in c/test_attrs.c (see the output)"
    );
}

#[test]
fn c_calls() {
    assert_eq!(
        objffi_c_test_calls(),
        0,
        "failed checks in c/test_calls.c (see the output)"
    );
}

#[test]
fn c_gc() {
    assert_eq!(
        objffi_c_test_gc(),
        0,
        "failed checks in c/test_gc.c (see the output)"
    );
}

#[test]
fn cpp_heap() {
    assert_eq!(
        objffi_cpp_test_heap(),
        0,
        "failed checks in cpp/test_heap.cpp (see the output)"
    );
}

#[test]
fn cpp_wrapper() {
    assert_eq!(
        objffi_cpp_test_wrapper(),
        0,
        "failed checks in cpp/test_wrapper.cpp (see the output)"
    );
}

#[test]
fn c_threads() {
    assert_eq!(
        objffi_c_test_threads(),
        0,
        "failed checks in c/test_threads.c (see the output)"
    );
}

#[test]
fn c_counts() {
    assert_eq!(
        objffi_c_test_counts(),
        0,
        "failed checks in c/test_counts.c (see the output)"
    );
}

#[test]
fn c_reentrant_hosts() {
    assert_eq!(
        objffi_c_test_reentrant_hosts(),
        0,
        "failed checks in c/test_reentrant_hosts.c (see the output)"
    );
}

#[test]
fn c_host_code() {
    assert_eq!(
        objffi_c_test_host_code(),
        0,
        "failed checks in c/test_host_code.c (see the output)"
    );
}

#[test]
fn c_bounds() {
    assert_eq!(
        objffi_c_test_bounds(),
        0,
        "failed checks in c/test_bounds.c (see the output)"
    );
}

#[test]
fn c_cache() {
    assert_eq!(
        objffi_c_test_cache(),
        0,
        "failed checks in c/test_cache.c (see the output)"
    );
}
