//! A tour of the C API: a C program (`c/tour.c`) run as this binary's `main`.
//!
//! `cargo run --release -p ffi-tests --bin tour`

use core::ffi::c_int;
use std::process::ExitCode;

use objffi as _;
// The C programs of build.rs are linked into this package's library target
// (Cargo passes a build script's libraries to the library only).
use ffi_tests as _;

// SAFETY: `objffi_tour_main` (in `c/tour.c`) takes no arguments and only calls
// the library through its documented contract.
unsafe extern "C" {
    safe fn objffi_tour_main() -> c_int;
}

fn main() -> ExitCode {
    match objffi_tour_main() {
        0 => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    }
}
