//! Tells memcheck about pooled blocks (feature `valgrind`), so that reading a
//! freed block or leaking one is reported as it would be for `malloc`.
//!
//! The heap marks a block malloc-like when it hands it out and free-like
//! when it takes it back; in between it reads or writes the free-list link
//! inside a dead block only after marking those bytes defined, and hides them
//! again afterwards. Without the feature every function is an empty inline.

#[cfg(all(feature = "valgrind", not(miri)))]
mod client {
    unsafe extern "C" {
        fn objheap_vg_malloclike(p: *mut u8, n: usize);
        fn objheap_vg_freelike(p: *mut u8);
        fn objheap_vg_make_defined(p: *mut u8, n: usize);
        fn objheap_vg_make_noaccess(p: *mut u8, n: usize);
    }

    pub(crate) fn malloclike(p: *mut u8, n: usize) {
        // SAFETY: a client request only informs valgrind; it touches no memory.
        unsafe { objheap_vg_malloclike(p, n) }
    }
    pub(crate) fn freelike(p: *mut u8) {
        // SAFETY: as above.
        unsafe { objheap_vg_freelike(p) }
    }
    pub(crate) fn make_defined(p: *mut u8, n: usize) {
        // SAFETY: as above.
        unsafe { objheap_vg_make_defined(p, n) }
    }
    pub(crate) fn make_noaccess(p: *mut u8, n: usize) {
        // SAFETY: as above.
        unsafe { objheap_vg_make_noaccess(p, n) }
    }
}

#[cfg(not(all(feature = "valgrind", not(miri))))]
mod client {
    #[inline(always)]
    pub(crate) fn malloclike(_: *mut u8, _: usize) {}
    #[inline(always)]
    pub(crate) fn freelike(_: *mut u8) {}
    #[inline(always)]
    pub(crate) fn make_defined(_: *mut u8, _: usize) {}
    #[inline(always)]
    pub(crate) fn make_noaccess(_: *mut u8, _: usize) {}
}

pub(crate) use client::{freelike, make_defined, make_noaccess, malloclike};
