//! Cycle collection: manual collection, enabling, thresholds and statistics
//! of a heap's collector (objgc, hosted by objmodel).

use objmodel::Heap;

use crate::error::{Error, RawStatus, Result, obj_status_t};
use crate::heap::{obj_heap_t, try_heap};
use crate::panic::ffi_boundary;
use crate::ptr::try_out;

/// Figures of a heap's collector, summed over its three generations.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct obj_gc_stats_t {
    /// Collections run (of any generation).
    pub collections: usize,
    /// Unreachable objects they found (as CPython's `gc.collect()` counts them).
    pub collected: usize,
    /// Unreachable objects that could not be freed (kept alive).
    pub uncollectable: usize,
    /// Collections of generation 0, 1 and 2.
    pub collections_by_generation: [usize; 3],
    /// Objects tracked in generation 0, 1 and 2 now.
    pub tracked_by_generation: [usize; 3],
}

/// Collects `generation` (0, 1 or 2) and the younger ones; -1 collects all.
/// `*collected` (may be NULL) receives the number of unreachable objects
/// found. Finalisers and weak-reference callbacks run during the call. A
/// generation outside -1..=2 gives `OBJ_ERR_VALUE`. Any thread may collect
/// (contract 1.1), as any thread may make the heap's other calls.
///
/// # Safety
///
/// `heap` is NULL or a live heap that no other call is using; `collected`
/// is NULL or valid for writing one `size_t`.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_gc_collect(
    heap: *mut obj_heap_t,
    generation: i32,
    collected: *mut usize,
) -> RawStatus {
    const F: &str = "obj_gc_collect";
    ffi_boundary(F, || -> Result<()> {
        // SAFETY: the caller passes NULL or a live heap.
        let heap = unsafe { try_heap(heap, F) }?;
        let g = match generation {
            -1 => 2,
            0..=2 => generation as usize,
            _ => {
                return Err(Error::new(
                    obj_status_t::OBJ_ERR_VALUE,
                    format!("{F}: invalid generation {generation} (0..2, or -1 for all)"),
                ));
            }
        };
        let found = heap.collect(g);
        if !collected.is_null() {
            // SAFETY: the caller passes NULL (checked) or a pointer valid for one write.
            unsafe { collected.write(found) };
        }
        Ok(())
    })
}

fn with_heap<R>(
    heap: *const obj_heap_t,
    func: &'static str,
    f: impl FnOnce(&Heap) -> R,
    otherwise: R,
) -> R {
    // SAFETY: every caller's contract: NULL or a live heap.
    match unsafe { try_heap(heap, func) } {
        Ok(h) => f(&h),
        Err(e) => {
            e.record();
            otherwise
        }
    }
}

/// Turns automatic collection on (the default). NULL is ignored.
///
/// # Safety
///
/// `heap` is NULL or a live heap that no other call is using.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_gc_enable(heap: *mut obj_heap_t) {
    ffi_boundary("obj_gc_enable", || {
        with_heap(heap, "obj_gc_enable", |h| h.gc().set_enabled(true), ())
    });
}

/// Turns automatic collection off; `obj_gc_collect` still works. NULL is ignored.
///
/// # Safety
///
/// `heap` is NULL or a live heap that no other call is using.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_gc_disable(heap: *mut obj_heap_t) {
    ffi_boundary("obj_gc_disable", || {
        with_heap(heap, "obj_gc_disable", |h| h.gc().set_enabled(false), ())
    });
}

/// Whether automatic collection is on (false for NULL).
///
/// # Safety
///
/// `heap` is NULL or a live heap that no other call is changing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_gc_is_enabled(heap: *const obj_heap_t) -> bool {
    ffi_boundary("obj_gc_is_enabled", || {
        with_heap(heap, "obj_gc_is_enabled", |h| h.gc().is_enabled(), false)
    })
}

/// Sets the collection thresholds of the three generations (CPython's
/// `gc.set_threshold`; 700, 10, 10 by default). `t0 == 0` stops automatic
/// collection.
///
/// # Safety
///
/// `heap` is NULL or a live heap that no other call is using.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_gc_set_threshold(
    heap: *mut obj_heap_t,
    t0: usize,
    t1: usize,
    t2: usize,
) -> RawStatus {
    const F: &str = "obj_gc_set_threshold";
    ffi_boundary(F, || -> Result<()> {
        // SAFETY: the caller passes NULL or a live heap.
        let heap = unsafe { try_heap(heap, F) }?;
        heap.gc().set_thresholds([t0, t1, t2]);
        Ok(())
    })
}

/// Sets how much the tracked objects must grow since the last full
/// collection, in percent of what it left, for a full collection to be
/// due on that ground alone (33 by default: under churn, live objects stay
/// within about 4/3 of the reachable ones). A heap that only grows
/// collects in full less often with a larger value; 0 turns the rule off,
/// leaving CPython's (a full collection waits until a quarter more
/// long-lived objects than the last one left have piled up). NULL gives
/// `OBJ_ERR_NULL`.
///
/// # Safety
///
/// `heap` is NULL or a live heap that no other call is using.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_gc_set_full_growth(
    heap: *mut obj_heap_t,
    percent: usize,
) -> RawStatus {
    const F: &str = "obj_gc_set_full_growth";
    ffi_boundary(F, || -> Result<()> {
        // SAFETY: the caller passes NULL or a live heap.
        let heap = unsafe { try_heap(heap, F) }?;
        heap.gc().set_full_growth_percent(percent);
        Ok(())
    })
}

/// Writes the collector's figures to `*out` (written only on `OBJ_OK`).
///
/// # Safety
///
/// `heap` is NULL or a live heap that no other call is changing; `out` is
/// NULL or valid for writing one `obj_gc_stats_t`.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_gc_stats(
    heap: *const obj_heap_t,
    out: *mut obj_gc_stats_t,
) -> RawStatus {
    const F: &str = "obj_gc_stats";
    ffi_boundary(F, || -> Result<()> {
        // SAFETY: the caller passes NULL or a live heap.
        let heap = unsafe { try_heap(heap, F) }?;
        // SAFETY: the caller passes NULL or a pointer valid for one write.
        let out = unsafe { try_out(out, F, "out") }?;
        let gens = heap.gc().stats();
        out.write(obj_gc_stats_t {
            collections: gens.iter().map(|g| g.collections).sum(),
            collected: gens.iter().map(|g| g.collected).sum(),
            uncollectable: gens.iter().map(|g| g.uncollectable).sum(),
            collections_by_generation: gens.map(|g| g.collections),
            tracked_by_generation: heap.gc().tracked(),
        });
        Ok(())
    })
}
