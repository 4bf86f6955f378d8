//! Cycle collection: manual collection, enabling, thresholds and statistics
//! of a heap's collector (objgc, hosted by objmodel), and looking into the
//! heap as CPython's `gc` module does (referents, referrers, tracked
//! objects, freeze, saved garbage, collection callbacks).

use core::ffi::c_void;

use objmodel::{GcControl, Heap, Obj};

use crate::error::{Error, RawStatus, Result, obj_status_t};
use crate::heap::{obj_heap_t, try_heap};
use crate::object::{new_ref, obj_t, try_obj};
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
        let g = generation_arg(F, generation)?.unwrap_or(2);
        let found = heap.collect(g);
        if !collected.is_null() {
            // SAFETY: the caller passes NULL (checked) or a pointer valid for one write.
            unsafe { collected.write(found) };
        }
        Ok(())
    })
}

/// A generation argument of `func`: 0, 1 or 2, or -1 (`None`) for all.
fn generation_arg(func: &str, generation: i32) -> Result<Option<usize>> {
    match generation {
        -1 => Ok(None),
        0..=2 => Ok(Some(generation as usize)),
        _ => Err(Error::new(
            obj_status_t::OBJ_ERR_VALUE,
            format!("{func}: invalid generation {generation} (0..2, or -1 for all)"),
        )),
    }
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

/// The debug flag of `obj_gc_set_debug` that keeps unreachable objects
/// (CPython's `gc.DEBUG_SAVEALL`, same value).
pub const OBJ_GC_DEBUG_SAVEALL: u32 = 32;

/// A function called at the start (`phase` 0) and the end (`phase` 1) of
/// each collection, with the generation collected and, for that
/// generation, the unreachable objects found and those that could not be
/// freed so far (`gc.callbacks`). It may use the heap.
#[expect(non_camel_case_types, reason = "the C ABI spells its types this way")]
pub type obj_gc_callback_t = Option<
    unsafe extern "C" fn(
        data: *mut c_void,
        phase: i32,
        generation: i32,
        collected: usize,
        uncollectable: usize,
    ),
>;

/// A new list of `objs`, in order.
fn list_of<'h>(heap: &Heap<'h>, objs: Vec<Obj<'h>>) -> Result<Obj<'h>> {
    let list = heap.list()?;
    for o in &objs {
        list.list_append(o)?;
    }
    Ok(list)
}

/// `*out` receives a new list of the objects `o` refers to
/// (`gc.get_referents`): its type (for an instance), slots, attribute
/// values or dict, items, keys and values, and what its payload's traverse
/// hook reports.
///
/// # Safety
///
/// `o` is NULL or a live object; `out` is NULL or valid for writing one
/// pointer.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_gc_referents(o: *mut obj_t, out: *mut *mut obj_t) -> RawStatus {
    // SAFETY: forwarded from the caller.
    unsafe { neighbours("obj_gc_referents", o, out, |gc, o| gc.referents(o)) }
}

/// `*out` receives a new list of the tracked objects that refer to `o`
/// (`gc.get_referrers`). It looks at every tracked object: its cost is the
/// heap's size.
///
/// # Safety
///
/// `o` is NULL or a live object; `out` is NULL or valid for writing one
/// pointer.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_gc_referrers(o: *mut obj_t, out: *mut *mut obj_t) -> RawStatus {
    // SAFETY: forwarded from the caller.
    unsafe { neighbours("obj_gc_referrers", o, out, |gc, o| gc.referrers(o)) }
}

/// The body of `obj_gc_referents` and `obj_gc_referrers` (export `func`):
/// `*out` receives a new list of what `find` says of `o`.
///
/// # Safety
///
/// As for those exports.
unsafe fn neighbours(
    func: &'static str,
    o: *mut obj_t,
    out: *mut *mut obj_t,
    find: impl for<'h> FnOnce(GcControl<'h>, &Obj<'h>) -> Vec<Obj<'h>>,
) -> RawStatus {
    ffi_boundary(func, || -> Result<()> {
        // SAFETY: the caller passes NULL or a live object.
        let o = unsafe { try_obj(o, func, "o") }?;
        // SAFETY: the caller passes NULL or a pointer valid for one write.
        let out = unsafe { try_out(out, func, "out") }?;
        let heap = o.heap();
        out.write(new_ref(list_of(heap, find(heap.gc(), &o))?));
        Ok(())
    })
}

/// `*out` receives a new list of the objects the collector tracks in
/// `generation` (0, 1 or 2), or of all of them for -1, frozen and saved
/// ones included (`gc.get_objects`). Only containers are tracked (not
/// ints, floats, strs, nor the immortal built-ins); the list itself is not
/// in it. A generation outside -1..=2 gives `OBJ_ERR_VALUE`.
///
/// # Safety
///
/// `heap` is NULL or a live heap that no other call is using; `out` is
/// NULL or valid for writing one pointer.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_gc_get_objects(
    heap: *mut obj_heap_t,
    generation: i32,
    out: *mut *mut obj_t,
) -> RawStatus {
    const F: &str = "obj_gc_get_objects";
    ffi_boundary(F, || -> Result<()> {
        // SAFETY: the caller passes NULL or a live heap.
        let heap = unsafe { try_heap(heap, F) }?;
        // SAFETY: the caller passes NULL or a pointer valid for one write.
        let out = unsafe { try_out(out, F, "out") }?;
        let generation = generation_arg(F, generation)?;
        out.write(new_ref(list_of(&heap, heap.gc().objects(generation))?));
        Ok(())
    })
}

/// Whether the collector tracks `o` (`gc.is_tracked`); false for NULL.
///
/// # Safety
///
/// `o` is NULL or a live object.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_gc_is_tracked(o: *mut obj_t) -> bool {
    const F: &str = "obj_gc_is_tracked";
    ffi_boundary(F, || {
        // SAFETY: the caller passes NULL or a live object.
        let Ok(o) = (unsafe { try_obj(o, F, "o") }) else {
            return false;
        };
        o.heap().gc().is_tracked(&o)
    })
}

/// Moves every tracked object to a permanent generation that no
/// collection examines (`gc.freeze`, e.g. after start-up: what a program
/// keeps for good then costs collections nothing); `obj_gc_unfreeze`
/// moves them back to the oldest generation.
///
/// # Safety
///
/// `heap` is NULL or a live heap that no other call is using.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_gc_freeze(heap: *mut obj_heap_t) -> RawStatus {
    const F: &str = "obj_gc_freeze";
    ffi_boundary(F, || -> Result<()> {
        // SAFETY: the caller passes NULL or a live heap.
        unsafe { try_heap(heap, F) }?.gc().freeze();
        Ok(())
    })
}

/// Moves the permanent generation back to the oldest one (`gc.unfreeze`).
///
/// # Safety
///
/// `heap` is NULL or a live heap that no other call is using.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_gc_unfreeze(heap: *mut obj_heap_t) -> RawStatus {
    const F: &str = "obj_gc_unfreeze";
    ffi_boundary(F, || -> Result<()> {
        // SAFETY: the caller passes NULL or a live heap.
        unsafe { try_heap(heap, F) }?.gc().unfreeze();
        Ok(())
    })
}

/// Objects in the permanent generation (`gc.get_freeze_count`); 0 for NULL.
///
/// # Safety
///
/// `heap` is NULL or a live heap that no other call is changing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_gc_freeze_count(heap: *const obj_heap_t) -> usize {
    const F: &str = "obj_gc_freeze_count";
    ffi_boundary(F, || with_heap(heap, F, |h| h.gc().freeze_count(), 0))
}

/// Sets the collector's debug flags (`gc.set_debug`): with
/// `OBJ_GC_DEBUG_SAVEALL`, collections keep the objects they find
/// unreachable instead of freeing them (weak references to them are
/// cleared and finalisers run as usual), for the host to look at with
/// `obj_gc_garbage` until `obj_gc_release_garbage`. Other bits give
/// `OBJ_ERR_VALUE`.
///
/// # Safety
///
/// `heap` is NULL or a live heap that no other call is using.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_gc_set_debug(heap: *mut obj_heap_t, flags: u32) -> RawStatus {
    const F: &str = "obj_gc_set_debug";
    ffi_boundary(F, || -> Result<()> {
        // SAFETY: the caller passes NULL or a live heap.
        let heap = unsafe { try_heap(heap, F) }?;
        if flags & !OBJ_GC_DEBUG_SAVEALL != 0 {
            return Err(Error::new(
                obj_status_t::OBJ_ERR_VALUE,
                format!("{F}: unknown debug flags {flags:#x} (only OBJ_GC_DEBUG_SAVEALL)"),
            ));
        }
        heap.gc()
            .set_save_unreachable(flags & OBJ_GC_DEBUG_SAVEALL != 0);
        Ok(())
    })
}

/// `*out` receives a new list of the objects kept by collections run with
/// `OBJ_GC_DEBUG_SAVEALL` (`gc.garbage`).
///
/// # Safety
///
/// `heap` is NULL or a live heap that no other call is using; `out` is
/// NULL or valid for writing one pointer.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_gc_garbage(heap: *mut obj_heap_t, out: *mut *mut obj_t) -> RawStatus {
    const F: &str = "obj_gc_garbage";
    ffi_boundary(F, || -> Result<()> {
        // SAFETY: the caller passes NULL or a live heap.
        let heap = unsafe { try_heap(heap, F) }?;
        // SAFETY: the caller passes NULL or a pointer valid for one write.
        let out = unsafe { try_out(out, F, "out") }?;
        out.write(new_ref(list_of(&heap, heap.gc().garbage())?));
        Ok(())
    })
}

/// Lets go of the objects `OBJ_GC_DEBUG_SAVEALL` kept (`del
/// gc.garbage[:]`): those still in cycles are freed by the next full
/// collection run without the flag.
///
/// # Safety
///
/// `heap` is NULL or a live heap that no other call is using.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_gc_release_garbage(heap: *mut obj_heap_t) -> RawStatus {
    const F: &str = "obj_gc_release_garbage";
    ffi_boundary(F, || -> Result<()> {
        // SAFETY: the caller passes NULL or a live heap.
        unsafe { try_heap(heap, F) }?.gc().release_garbage();
        Ok(())
    })
}

/// Sets the function called at the start and end of each collection, with
/// `data` (the host's, passed as is; it must outlive the callback's use);
/// NULL removes it (`gc.callbacks`). One callback per heap: a new one
/// replaces the old.
///
/// # Safety
///
/// `heap` is NULL or a live heap that no other call is using; `callback`
/// is NULL or may be called as `obj_gc_callback_t` says, with `data`,
/// until it is replaced or the heap is freed.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_gc_set_callback(
    heap: *mut obj_heap_t,
    callback: obj_gc_callback_t,
    data: *mut c_void,
) -> RawStatus {
    const F: &str = "obj_gc_set_callback";
    ffi_boundary(F, || -> Result<()> {
        // SAFETY: the caller passes NULL or a live heap.
        let heap = unsafe { try_heap(heap, F) }?;
        let callback = callback.map(|f| {
            Box::new(
                move |phase: objmodel::GcPhase, generation: usize, stats: &objmodel::GcStats| {
                    let phase = match phase {
                        objmodel::GcPhase::Start => 0,
                        objmodel::GcPhase::Stop => 1,
                    };
                    // SAFETY: the host promised `f` may be called with `data`
                    // while it is the heap's callback.
                    unsafe {
                        f(
                            data,
                            phase,
                            generation as i32,
                            stats.collected,
                            stats.uncollectable,
                        )
                    }
                },
            ) as Box<dyn FnMut(objmodel::GcPhase, usize, &objmodel::GcStats)>
        });
        heap.gc().set_callback(callback);
        Ok(())
    })
}
