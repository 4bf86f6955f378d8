//! Tells memcheck about pooled blocks (feature `valgrind`), so that reading a
//! freed block is reported as it would be for `malloc`.
//!
//! Each heap is a memcheck *memory pool* (keyed by the heap's address, made
//! on its first allocation): a block is allocated in the pool when handed
//! out and freed in it when taken back; dropping the heap destroys the pool,
//! which forgets the blocks still live (freeing a heap frees them all, so
//! they are neither leaks nor overlapping blocks of a later heap). The heap
//! reads or writes the free-list link inside a dead block only after marking
//! those bytes defined. Without the feature every function is an empty inline.

#[cfg(all(feature = "valgrind", not(miri)))]
mod client {
    use core::ffi::c_void;

    unsafe extern "C" {
        fn objheap_vg_create_pool(pool: *const c_void);
        fn objheap_vg_destroy_pool(pool: *const c_void);
        fn objheap_vg_pool_alloc(pool: *const c_void, p: *mut u8, n: usize);
        fn objheap_vg_pool_free(pool: *const c_void, p: *mut u8);
        fn objheap_vg_make_defined(p: *mut u8, n: usize);
        fn objheap_vg_make_noaccess(p: *mut u8, n: usize);
    }

    pub(crate) fn create_pool(pool: *const c_void) {
        // SAFETY: a client request only informs valgrind; it touches no memory.
        unsafe { objheap_vg_create_pool(pool) }
    }
    pub(crate) fn destroy_pool(pool: *const c_void) {
        // SAFETY: as above.
        unsafe { objheap_vg_destroy_pool(pool) }
    }
    pub(crate) fn malloclike(pool: *const c_void, p: *mut u8, n: usize) {
        // SAFETY: as above.
        unsafe { objheap_vg_pool_alloc(pool, p, n) }
    }
    pub(crate) fn freelike(pool: *const c_void, p: *mut u8) {
        // SAFETY: as above.
        unsafe { objheap_vg_pool_free(pool, p) }
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
    use core::ffi::c_void;

    // Only the `valgrind` feature asks for pools (under miri, as no-ops).
    #[cfg(feature = "valgrind")]
    #[inline(always)]
    pub(crate) fn create_pool(_: *const c_void) {}
    #[cfg(feature = "valgrind")]
    #[inline(always)]
    pub(crate) fn destroy_pool(_: *const c_void) {}
    #[inline(always)]
    pub(crate) fn malloclike(_: *const c_void, _: *mut u8, _: usize) {}
    #[inline(always)]
    pub(crate) fn freelike(_: *const c_void, _: *mut u8) {}
    #[inline(always)]
    pub(crate) fn make_defined(_: *mut u8, _: usize) {}
    #[inline(always)]
    pub(crate) fn make_noaccess(_: *mut u8, _: usize) {}
}

#[cfg(feature = "valgrind")]
pub(crate) use client::{create_pool, destroy_pool};
pub(crate) use client::{freelike, make_defined, make_noaccess, malloclike};
