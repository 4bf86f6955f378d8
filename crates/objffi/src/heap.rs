//! Heaps: creation, release, memory limit and statistics.
//!
//! An `obj_heap_t` owns an `objheap::Heap`; every object of the heap will be
//! allocated from it, and `obj_heap_free` releases them all.

use core::ptr::NonNull;
use std::alloc::{Layout, alloc};

use objheap::{Heap, HeapStats};

use crate::error::{Error, Result, obj_status_t};
use crate::panic::ffi_boundary;
use crate::ptr::{try_mut, try_out, try_ref};

/// A heap: the memory of a set of objects, and their owner.
///
/// Opaque to C. Created by `obj_heap_new`, released by `obj_heap_free`. Calls
/// on one heap must not run at the same time on several threads.
#[expect(
    non_camel_case_types,
    reason = "the C ABI contract spells the type this way"
)]
pub struct obj_heap_t {
    heap: Heap,
}

/// Statistics of a heap, filled in by `obj_heap_stats`. All figures are
/// counts or bytes at the moment of the call.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct obj_heap_stats_t {
    /// Objects allocated and not yet freed (today: allocator blocks in use).
    pub objects_live: usize,
    /// Bytes of the blocks in use: whole pooled blocks, plus large requests.
    pub bytes_in_use: usize,
    /// Bytes the heap has taken from the system: what the memory limit bounds.
    pub bytes_reserved: usize,
    /// The highest `bytes_reserved` since the heap was created.
    pub peak_bytes_reserved: usize,
    /// Arenas mapped, a spare one included (the regions that pools are carved from).
    pub arenas: usize,
    /// Pools in use (each pool serves blocks of one size class).
    pub pools: usize,
    /// Blocks too large for a pool, taken from the system one by one.
    pub large_blocks: usize,
    /// The memory limit in bytes, or 0 when there is none.
    pub memory_limit: usize,
}

impl From<&HeapStats> for obj_heap_stats_t {
    fn from(stats: &HeapStats) -> Self {
        Self {
            objects_live: stats.blocks_in_use,
            bytes_in_use: stats.bytes_in_use,
            bytes_reserved: stats.bytes_reserved,
            peak_bytes_reserved: stats.peak_bytes_reserved,
            arenas: stats.arenas,
            pools: stats.pools,
            large_blocks: stats.large_blocks,
            memory_limit: stats.memory_limit.unwrap_or(0),
        }
    }
}

/// Creates an empty heap with no memory limit.
///
/// The caller owns the heap and releases it with `obj_heap_free`. Returns NULL
/// only when out of memory (`obj_last_error()` then says so).
#[unsafe(no_mangle)]
pub extern "C" fn obj_heap_new() -> *mut obj_heap_t {
    ffi_boundary("obj_heap_new", || -> Result<NonNull<obj_heap_t>> {
        let heap = obj_heap_t { heap: Heap::new() };
        // Not `Box::new`: that aborts the process when memory runs out, and the
        // contract asks for NULL. `Box::from_raw` in `obj_heap_free` accepts this
        // allocation (global allocator, `Layout::new::<obj_heap_t>()`).
        let layout = Layout::new::<obj_heap_t>();
        // SAFETY: `layout` has a non-zero size: `obj_heap_t` owns a `Heap`, which
        // the const assertion below shows is not zero-sized.
        let raw = unsafe { alloc(layout) }.cast::<obj_heap_t>();
        let Some(raw) = NonNull::new(raw) else {
            return Err(Error::new(
                obj_status_t::OBJ_ERR_NO_MEMORY,
                "obj_heap_new: out of memory",
            ));
        };
        // SAFETY: `raw` is a fresh allocation with the size and alignment of
        // `obj_heap_t`, so it is valid for this one write.
        unsafe { raw.as_ptr().write(heap) };
        Ok(raw)
    })
}

const _: () = assert!(size_of::<obj_heap_t>() > 0);

/// Releases a heap: every object allocated from it, and all its memory.
///
/// Takes ownership of `heap`; it must not be used again. NULL is ignored.
///
/// # Safety
///
/// `heap` is NULL or a heap returned by `obj_heap_new` that has not been freed,
/// and no other call on it is running.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_heap_free(heap: *mut obj_heap_t) {
    ffi_boundary("obj_heap_free", || {
        if heap.is_null() {
            return;
        }
        // SAFETY: the caller passes a live heap from `obj_heap_new`, allocated
        // with the global allocator and `Layout::new::<obj_heap_t>()` as a `Box`
        // is, and gives up its ownership here.
        drop(unsafe { Box::from_raw(heap) });
    });
}

/// Sets the most bytes the heap may take from the system (`bytes_reserved`);
/// 0 removes the limit. Past the limit an allocating call returns
/// `OBJ_ERR_NO_MEMORY`, does nothing, and the heap stays usable.
///
/// `heap` is borrowed. Returns `OBJ_ERR_NULL_ARG` when `heap` is NULL.
///
/// # Safety
///
/// `heap` is NULL or a live heap from `obj_heap_new`, and no other call on it
/// is running.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_heap_set_memory_limit(
    heap: *mut obj_heap_t,
    max_bytes: usize,
) -> obj_status_t {
    ffi_boundary("obj_heap_set_memory_limit", || -> Result<()> {
        // SAFETY: the caller passes NULL or a live heap that no other call uses.
        let heap = unsafe { try_mut(heap, "obj_heap_set_memory_limit", "heap") }?;
        heap.heap
            .set_memory_limit((max_bytes != 0).then_some(max_bytes));
        Ok(())
    })
}

/// Writes the heap's statistics to `*out`.
///
/// `heap` is borrowed; `*out` is written only on `OBJ_OK`. Returns
/// `OBJ_ERR_NULL_ARG` when `heap` or `out` is NULL.
///
/// # Safety
///
/// `heap` is NULL or a live heap from `obj_heap_new` that no other call is
/// changing; `out` is NULL or valid for writing one `obj_heap_stats_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_heap_stats(
    heap: *const obj_heap_t,
    out: *mut obj_heap_stats_t,
) -> obj_status_t {
    ffi_boundary("obj_heap_stats", || -> Result<()> {
        // SAFETY: the caller passes NULL or a live heap that no call is changing.
        let heap = unsafe { try_ref(heap, "obj_heap_stats", "heap") }?;
        // SAFETY: the caller passes NULL or a pointer valid for one write.
        let out = unsafe { try_out(out, "obj_heap_stats", "out") }?;
        out.write(obj_heap_stats_t::from(&heap.heap.stats()));
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_heap_is_empty_and_can_be_limited() {
        let heap = obj_heap_new();
        assert!(!heap.is_null());
        let mut stats = obj_heap_stats_t::default();
        // SAFETY: `heap` is live and `stats` is writable.
        let status = unsafe { obj_heap_stats(heap, &mut stats) };
        assert_eq!(status, obj_status_t::OBJ_OK);
        assert_eq!(stats.objects_live, 0);
        assert_eq!(stats.bytes_in_use, 0);
        assert_eq!(stats.memory_limit, 0);

        // SAFETY: `heap` is live.
        let status = unsafe { obj_heap_set_memory_limit(heap, 1 << 20) };
        assert_eq!(status, obj_status_t::OBJ_OK);
        // SAFETY: `heap` is live and `stats` is writable.
        let status = unsafe { obj_heap_stats(heap, &mut stats) };
        assert_eq!(status, obj_status_t::OBJ_OK);
        assert_eq!(stats.memory_limit, 1 << 20);

        // SAFETY: `heap` is live and not used again.
        unsafe { obj_heap_free(heap) };
    }

    #[test]
    fn null_arguments_are_refused() {
        let mut stats = obj_heap_stats_t {
            objects_live: 7,
            ..Default::default()
        };
        // SAFETY: NULL is allowed; `stats` is writable.
        let status = unsafe { obj_heap_stats(core::ptr::null(), &mut stats) };
        assert_eq!(status, obj_status_t::OBJ_ERR_NULL_ARG);
        assert_eq!(stats.objects_live, 7, "out must not be written on failure");

        let heap = obj_heap_new();
        // SAFETY: `heap` is live; NULL is allowed for `out`.
        let status = unsafe { obj_heap_stats(heap, core::ptr::null_mut()) };
        assert_eq!(status, obj_status_t::OBJ_ERR_NULL_ARG);
        // SAFETY: NULL is allowed.
        let status = unsafe { obj_heap_set_memory_limit(core::ptr::null_mut(), 0) };
        assert_eq!(status, obj_status_t::OBJ_ERR_NULL_ARG);
        // SAFETY: `heap` is live and not used again; NULL is ignored.
        unsafe {
            obj_heap_free(heap);
            obj_heap_free(core::ptr::null_mut());
        }
    }
}
