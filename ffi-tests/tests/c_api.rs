//! Runs the C and C++ test programs (`c/`, `cpp/`); each returns its number of
//! failed checks and prints every failure.

use core::ffi::c_int;

use objffi as _;

// SAFETY: these entry points (in `c/` and `cpp/`) take no arguments and only
// call the library through its documented contract.
unsafe extern "C" {
    safe fn objffi_c_test_heap() -> c_int;
    safe fn objffi_c_test_errors() -> c_int;
    safe fn objffi_cpp_test_heap() -> c_int;
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
fn cpp_heap() {
    assert_eq!(
        objffi_cpp_test_heap(),
        0,
        "failed checks in cpp/test_heap.cpp (see the output)"
    );
}
