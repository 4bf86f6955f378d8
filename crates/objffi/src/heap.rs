//! Heaps: creation, release, memory limit and statistics.
//!
//! An `obj_heap_t` owns an `objmodel::Heap` (which owns its pool allocator):
//! every object of the heap is allocated from it, and `obj_heap_free`
//! releases them all.
//!
//! `objects_live` counts the host's objects: objmodel's count less the
//! immortal built-ins a new heap starts with (`builtin_objects`), so a new
//! heap reports 0. Interned strings, classes and everything else made
//! afterwards count, even if immortal. The byte figures are the allocator's
//! own, built-ins included: they are what the memory limit bounds.

use core::ffi::c_char;
use core::ptr::NonNull;
use std::alloc::{Layout, alloc};

use objmodel::abi::{self, Entered};
use objmodel::{Heap, HeapBox, Stats};

use crate::error::{Error, RawStatus, Result, obj_status_t};
use crate::panic::ffi_boundary;
use crate::ptr::{try_cstr, try_out, try_ref};

/// A heap: the memory of a set of objects, and their owner.
///
/// Opaque to C. Created by `obj_heap_new`, released by `obj_heap_free`. Calls
/// on one heap must not run at the same time on several threads.
#[expect(
    non_camel_case_types,
    reason = "the C ABI contract spells the type this way"
)]
pub struct obj_heap_t {
    heap: HeapBox,
    /// Objects alive in the heap when it was new: its immortal built-ins.
    builtin_objects: usize,
}

impl obj_heap_t {
    /// The heap, not entered: only for what needs no gate (its immortal
    /// built-ins), and for [`try_heap`]. Its brand is the borrow's, which
    /// any other heap borrowed as long shares: objffi keeps their objects
    /// apart at run time.
    pub(crate) fn heap(&self) -> &Heap<'_> {
        // SAFETY: every export that takes objects checks each against the
        // heap it works in (`object.rs`: `try_obj_in`, `try_objs_in`), and
        // objmodel checks what C host functions return.
        unsafe { abi::heap(&self.heap) }
    }
}

/// A heap argument, entered (`abi::enter`) for as long as it is held.
pub(crate) struct HeapArg<'a> {
    heap: &'a Heap<'a>,
    _entered: Entered<'a>,
}

impl<'a> core::ops::Deref for HeapArg<'a> {
    type Target = Heap<'a>;

    fn deref(&self) -> &Heap<'a> {
        self.heap
    }
}

/// Borrows and enters the heap argument `heap`, or fails with `OBJ_ERR_NULL_ARG`.
///
/// # Safety
///
/// `heap` is NULL or a live heap from `obj_heap_new`, alive for `'a`.
pub(crate) unsafe fn try_heap<'a>(heap: *const obj_heap_t, func: &str) -> Result<HeapArg<'a>> {
    // SAFETY: forwarded from the caller.
    let heap: &'a Heap<'a> = unsafe { try_ref(heap, func, "heap") }?.heap();
    Ok(HeapArg {
        heap,
        _entered: enter(heap)?,
    })
}

/// Enters `heap` for an export; inside a payload's traverse hook every call
/// that enters the heap is refused (`OBJ_ERR_VALUE`).
#[inline(always)]
pub(crate) fn enter<'a>(heap: &'a Heap<'_>) -> Result<Entered<'a>> {
    let entered = abi::enter(heap);
    if abi::in_traverse_hook(heap) {
        return Err(refused_in_traverse_hook());
    }
    Ok(entered)
}

#[cold]
#[inline(never)]
fn refused_in_traverse_hook() -> Error {
    Error::new(
        obj_status_t::OBJ_ERR_VALUE,
        "a traverse hook may only report references (obj_visit_t): \
         the heap cannot be used while the collector runs it",
    )
}

/// Statistics of a heap, filled in by `obj_heap_stats`. All figures are
/// counts or bytes at the moment of the call.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct obj_heap_stats_t {
    /// Objects allocated and not yet freed, less the heap's built-ins (a new
    /// heap has 0). Interned strings and classes stay until the heap is freed.
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
    /// The immortal objects every new heap has (`None`, the bools, small
    /// ints, built-in types, names), not counted in `objects_live`.
    pub builtin_objects: usize,
}

impl obj_heap_stats_t {
    fn new(stats: &Stats, builtin_objects: usize) -> Self {
        let memory = &stats.memory;
        Self {
            objects_live: stats.objects_live.saturating_sub(builtin_objects),
            bytes_in_use: memory.bytes_in_use,
            bytes_reserved: memory.bytes_reserved,
            peak_bytes_reserved: memory.peak_bytes_reserved,
            arenas: memory.arenas,
            pools: memory.pools,
            large_blocks: memory.large_blocks,
            memory_limit: memory.memory_limit.unwrap_or(0),
            builtin_objects,
        }
    }
}

/// Creates a heap with its built-in objects and no memory limit.
///
/// The caller owns the heap and releases it with `obj_heap_free`. Returns NULL
/// only when out of memory (`obj_last_error()` then says so).
#[must_use]
#[unsafe(no_mangle)]
pub extern "C" fn obj_heap_new() -> *mut obj_heap_t {
    ffi_boundary("obj_heap_new", || -> Result<NonNull<obj_heap_t>> {
        let heap = Heap::try_new()?;
        // SAFETY: this thread made the heap and is inside its gate; from now
        // on every export enters it (`try_heap`, `try_obj`), and this
        // thread, the owner, keeps the gate between its calls.
        heap.scope(|heap| unsafe { abi::unlock(heap) });
        let builtin_objects = heap.stats().objects_live;
        let heap = obj_heap_t {
            heap,
            builtin_objects,
        };
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
/// Takes ownership of `heap`; it must not be used again, nor any object of
/// it, whatever references the host still holds (they are not decref'd and
/// no finaliser runs). NULL is ignored.
///
/// # Safety
///
/// `heap` is NULL or a heap returned by `obj_heap_new` that has not been freed,
/// and no other call on it is running (nor any host function it called).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_heap_free(heap: *mut obj_heap_t) {
    ffi_boundary("obj_heap_free", || {
        if heap.is_null() {
            return;
        }
        // SAFETY: the caller passes a live heap from `obj_heap_new`, allocated
        // with the global allocator and `Layout::new::<obj_heap_t>()` as a `Box`
        // is, and gives up its ownership here.
        let heap = unsafe { Box::from_raw(heap) };
        // Waits for a thread still freeing an object it dropped; the heap
        // goes with the gate held.
        core::mem::forget(abi::enter(heap.heap()));
        drop(heap);
    });
}

/// Sets the most bytes the heap may take from the system (`bytes_reserved`);
/// 0 removes the limit. Past the limit an allocating call returns
/// `OBJ_ERR_NO_MEMORY`, does nothing, and the heap stays usable. A limit
/// below what the heap holds already only stops it from growing.
///
/// `heap` is borrowed. Returns `OBJ_ERR_NULL_ARG` when `heap` is NULL.
///
/// # Safety
///
/// `heap` is NULL or a live heap from `obj_heap_new`, and no other call on it
/// is running.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_heap_set_memory_limit(
    heap: *mut obj_heap_t,
    max_bytes: usize,
) -> RawStatus {
    ffi_boundary("obj_heap_set_memory_limit", || -> Result<()> {
        // SAFETY: the caller passes NULL or a live heap that no other call uses.
        let heap = unsafe { try_heap(heap, "obj_heap_set_memory_limit") }?;
        heap.set_memory_limit((max_bytes != 0).then_some(max_bytes));
        Ok(())
    })
}

/// Fault injection, for testing a host's out-of-memory paths: the `n`th
/// allocation of heap memory from now (1: the next one) fails once, as if
/// the memory limit refused it (the call making it returns
/// `OBJ_ERR_NO_MEMORY`); 0 cancels. `*pending` (may be NULL) receives
/// whether a failure set before was still to come (it never happened).
///
/// `heap` is borrowed. Returns `OBJ_ERR_NULL_ARG` when `heap` is NULL.
///
/// # Safety
///
/// `heap` is NULL or a live heap from `obj_heap_new`; `pending` is NULL or
/// valid for writing one `bool`.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_heap_fail_allocation(
    heap: *mut obj_heap_t,
    n: u64,
    pending: *mut bool,
) -> RawStatus {
    const F: &str = "obj_heap_fail_allocation";
    ffi_boundary(F, || -> Result<()> {
        // SAFETY: the caller passes NULL or a live heap.
        let heap = unsafe { try_heap(heap, F) }?;
        let was_pending = heap.fail_allocation((n != 0).then_some(n));
        if !pending.is_null() {
            // SAFETY: the caller passes NULL (checked) or a pointer valid for one write.
            unsafe { pending.write(was_pending) };
        }
        Ok(())
    })
}

/// A hint: the calling thread uses `heap` from now on, so it should get the
/// owner's fast path for counting references (without atomic instructions).
/// Any thread may use any heap without it (contract 1.1); a heap whose
/// owner thread has exited is adopted by the next thread that calls into it.
///
/// `heap` is borrowed. Returns `OBJ_ERR_NULL_ARG` when `heap` is NULL.
///
/// # Safety
///
/// `heap` is NULL or a live heap from `obj_heap_new`. The thread that used
/// the heap before is not counting references of its objects
/// (`obj_incref`/`obj_decref`) during the call, and sees the call's effect
/// before it counts again, as it does when the heap is handed over through a
/// mutex, a queue or a thread join.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_heap_adopt(heap: *mut obj_heap_t) -> RawStatus {
    const F: &str = "obj_heap_adopt";
    ffi_boundary(F, || -> Result<()> {
        // SAFETY: the caller passes NULL or a live heap.
        let heap = unsafe { try_heap(heap, F) }?;
        // SAFETY: inside the gate (try_heap); the caller orders the previous
        // owner's counting with this call.
        unsafe { abi::adopt(&heap) };
        Ok(())
    })
}

/// Checks the heap's allocator structures (every arena, pool and free list,
/// recounted): `OBJ_OK`, or `OBJ_ERR_VALUE` with the first inconsistency in
/// `obj_last_error()`. Takes time proportional to the heap's size; meant
/// for tests and debugging.
///
/// `heap` is borrowed. Returns `OBJ_ERR_NULL_ARG` when `heap` is NULL.
///
/// # Safety
///
/// `heap` is NULL or a live heap from `obj_heap_new`.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_heap_check(heap: *mut obj_heap_t) -> RawStatus {
    const F: &str = "obj_heap_check";
    ffi_boundary(F, || -> Result<()> {
        // SAFETY: the caller passes NULL or a live heap.
        let heap = unsafe { try_heap(heap, F) }?;
        heap.check()
            .map_err(|e| Error::new(obj_status_t::OBJ_ERR_VALUE, format!("{F}: {}", e.message())))
    })
}

/// Writes a snapshot of the heap to the file at `path` (UTF-8; created or
/// truncated): every tracked object and every object they refer to, with
/// type, size, count, generation and named references, and the
/// allocator's arenas, as the JSON document `docs/heap-snapshot.md`
/// describes (`objrt-inspect` reads it). It allocates nothing in the heap
/// and runs no host code except payload traverse hooks. A file that
/// cannot be written gives `OBJ_ERR_VALUE` with the system's reason.
///
/// # Safety
///
/// `heap` is NULL or a live heap that no other call is using; `path` is
/// NULL or a NUL-terminated string.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_heap_snapshot(
    heap: *mut obj_heap_t,
    path: *const c_char,
) -> RawStatus {
    const F: &str = "obj_heap_snapshot";
    ffi_boundary(F, || -> Result<()> {
        // SAFETY: the caller passes NULL or a live heap.
        let heap = unsafe { try_heap(heap, F) }?;
        // SAFETY: the caller passes NULL or a NUL-terminated string.
        let path = unsafe { try_cstr(path, F, "path") }?;
        let target = format!("'{path}'");
        let file = std::fs::File::create(path).map_err(|e| write_failed(F, &target, e))?;
        write_snapshot(&heap, &file, F, &target)
    })
}

/// `obj_heap_snapshot` to a file descriptor the host has open for writing
/// (a file, a pipe, a socket), which it keeps: the call writes the whole
/// document and leaves `fd` open. A negative `fd` gives `OBJ_ERR_VALUE`,
/// as does a failed write, with the system's reason. POSIX systems only.
///
/// # Safety
///
/// `heap` is NULL or a live heap that no other call is using; `fd` is
/// negative or a descriptor open for writing that no other thread closes
/// during the call.
#[cfg(unix)]
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_heap_snapshot_fd(heap: *mut obj_heap_t, fd: i32) -> RawStatus {
    use std::os::fd::FromRawFd;
    const F: &str = "obj_heap_snapshot_fd";
    ffi_boundary(F, || -> Result<()> {
        // SAFETY: the caller passes NULL or a live heap.
        let heap = unsafe { try_heap(heap, F) }?;
        if fd < 0 {
            return Err(Error::new(
                obj_status_t::OBJ_ERR_VALUE,
                format!("{F}: invalid file descriptor {fd}"),
            ));
        }
        // SAFETY: `fd` is open for the call (the caller's promise); the
        // `File` never closes it (`ManuallyDrop`), so the host keeps it.
        let file = core::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(fd) });
        write_snapshot(&heap, &file, F, &format!("to descriptor {fd}"))
    })
}

/// Writes `heap`'s snapshot to `file` (buffered) for export `func`; a
/// failure names `target`.
fn write_snapshot(heap: &Heap, file: &std::fs::File, func: &str, target: &str) -> Result<()> {
    let mut out = std::io::BufWriter::new(file);
    heap.write_snapshot(&mut out)
        .and_then(|()| std::io::Write::flush(&mut out))
        .map_err(|e| write_failed(func, target, e))
}

/// The error of export `func` when writing to `target` failed.
fn write_failed(func: &str, target: &str, e: std::io::Error) -> Error {
    Error::new(
        obj_status_t::OBJ_ERR_VALUE,
        format!("{func}: cannot write {target}: {e}"),
    )
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
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_heap_stats(
    heap: *const obj_heap_t,
    out: *mut obj_heap_stats_t,
) -> RawStatus {
    ffi_boundary("obj_heap_stats", || -> Result<()> {
        // SAFETY: the caller passes NULL or a live heap that no call is changing.
        let heap = unsafe { try_ref(heap, "obj_heap_stats", "heap") }?;
        // SAFETY: the caller passes NULL or a pointer valid for one write.
        let out = unsafe { try_out(out, "obj_heap_stats", "out") }?;
        out.write(obj_heap_stats_t::new(
            &heap.heap.stats(),
            heap.builtin_objects,
        ));
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
        assert!(stats.builtin_objects > 0);
        assert!(stats.bytes_in_use > 0, "the built-ins take memory");
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
