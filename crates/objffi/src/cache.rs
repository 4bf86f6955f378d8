//! Attribute caches for call sites (contract 1.1): `obj_getattr_cached`,
//! `obj_setattr_cached` and `obj_call_method_cached`.
//!
//! An `obj_attr_cache_t` is objmodel's `SiteCache` (four words: type
//! version, shape, name, what was found; see objmodel's `lookup/cache.rs`), which
//! holds no counts. Each export first tries its hit without leaving C's
//! path of checks and conversions: only loads and compares inside the
//! heap's gate (which a nested call, from host code the library runs,
//! already holds); leaving the gate may free what other threads dropped,
//! so it runs inside the panic boundary too. `obj_getattr` and
//! `obj_setattr` take the same quick path with the heap's own cache (see
//! objmodel's `lookup/cache.rs`). Anything else (a miss, a NULL, a bound
//! method to allocate, a value to free) goes the way of `obj_getattr` &
//! co., with their statuses and messages, and fills the cache.
//!
//! objffi.h compiles the hits that need no call into the host
//! (`obj_getattr_inline`, `obj_getattr_cached_inline` and their `setattr`
//! forms, in `inline.h`): they read the entries these exports fill, in the
//! layout pinned below, and call the exports for anything else.
//!
//! Only names that are interned strs (`obj_intern`, or names a class
//! stores) are cached: other strs give the same answers, uncached. A cache
//! is used by one thread at a time, as the heap is: a host whose threads
//! run the same call site on different heaps gives each thread its own
//! cache (`static _Thread_local`).

use core::cell::Cell;
use core::ptr::NonNull;

use objmodel::abi::{self, SiteCache};

use crate::error::{RawStatus, Result};
use crate::object::{as_refs, new_ref, obj_t, try_obj, try_obj_in, try_objs_in, try_ptrs_in};
use crate::panic::ffi_boundary;
use crate::ptr::{null_arg, try_out};

// The layout objffi.h's inline hits read (`obj_getattr_inline`,
// `obj_setattr_inline` and their `_cached_inline` forms, from `inline.h`):
// hosts compile these numbers in, so a change here is a new soname.
const _: () = assert!(abi::VERSION_OFFSET == 40);
const _: () = assert!(abi::CACHE_VERSION_WORD == 0);
const _: () = assert!(abi::CACHE_NAME_WORD == 2);
const _: () = assert!(abi::CACHE_FOUND_WORD == 3);
const _: () = assert!(abi::CACHE_TAG_BITS == 3);
const _: () = assert!(abi::CACHE_FOUND_INSTANCE_VALUE == 1);
const _: () = assert!(abi::CACHE_FOUND_SLOT == 2);
const _: () = assert!(abi::CACHE_FOUND_INLINE_VALUE == 6);
const _: () = assert!(abi::AREA_TAGS == 3);
const _: () = assert!(abi::AREA_OFFSET_OFFSET == 48);
const _: () = assert!(abi::CACHE_SHAPE_WORD == 1);
const _: () = assert!(abi::CACHE_FOUND_CLASS_ATTR == 3);
const _: () = assert!(abi::CACHE_NO_DICT_SHAPE == 4);
const _: () = assert!(abi::CACHE_ANY_INLINE_SHAPE == 5);
const _: () = assert!(abi::SHARED_SITES_OFFSET == 56);
const _: () = assert!(abi::SHARED_SITES_BITS == 9);
const _: () = assert!(abi::SHARED_SITE_MULTIPLIER == 0x9E37_79B9_7F4A_7C15);
const _: () = assert!(abi::SHARED_SITE_SALT_ROTATION == 17);
const _: () = assert!(abi::SHARED_SITE_NAME_SHIFT == 4);
const _: () = assert!(size_of::<obj_attr_cache_t>() == size_of::<SiteCache>());

/// A call site's attribute cache: zero-initialise it (`OBJ_ATTR_CACHE_INIT`)
/// and pass it with every call from that site. It holds no reference and a
/// stale one is never wrong; only its speed depends on it.
#[repr(C)]
pub struct obj_attr_cache_t {
    /// Opaque to the host.
    pub opaque: [u64; 4],
}

const _: () = assert!(size_of::<obj_attr_cache_t>() == size_of::<SiteCache>());
const _: () = assert!(align_of::<obj_attr_cache_t>() == align_of::<SiteCache>());

/// The cache behind `cache`, or `OBJ_ERR_NULL_ARG`.
///
/// # Safety
/// `cache` is NULL or valid for reads and writes, used by no other thread
/// for `'a`.
unsafe fn try_cache<'a>(cache: *mut obj_attr_cache_t, func: &str) -> Result<&'a Cell<SiteCache>> {
    let cache = NonNull::new(cache).ok_or_else(|| null_arg(func, "cache"))?;
    // SAFETY: valid, and used by this thread only (the caller's promise):
    // host code the call runs may use the same cache, which a `Cell`
    // allows. `Cell<SiteCache>` has the layout of `SiteCache`, which has
    // the same size and alignment and is plain words, any bit pattern valid.
    Ok(unsafe { cache.cast::<Cell<SiteCache>>().as_ref() })
}

/// The cache a quick path reads: the heap's own (`SiteCache::shared_for`,
/// for `obj_getattr` & co.) or a call site's.
#[derive(Clone, Copy)]
pub(crate) enum Site {
    Heap,
    Host(*mut obj_attr_cache_t),
}

impl Site {
    /// A copy of the entry for looking up (`store`: storing) `name` on `o`;
    /// `None` for a NULL call-site cache.
    ///
    /// # Safety
    /// `o` and `name` are live objects, inside `o`'s heap; a `Host` cache
    /// is NULL or valid, and no other thread uses it meanwhile.
    #[inline]
    unsafe fn read(self, o: NonNull<u8>, name: NonNull<u8>, store: bool) -> Option<SiteCache> {
        match self {
            // SAFETY: forwarded from the caller.
            Site::Heap => Some(unsafe { SiteCache::shared_for(o, name, store) }),
            // SAFETY: forwarded from the caller; plain words, read once.
            Site::Host(cache) => Some(unsafe { NonNull::new(cache)?.cast::<SiteCache>().read() }),
        }
    }
}

/// Runs `hit` with the entry of `site` for `objs[0].objs[1]` (`store`: for
/// a store) and the object arguments inside the heap of `objs[0]`, when
/// the quick path may run: no pointer is NULL, none is an object debug
/// builds know was freed, and the heap is not inside a traverse hook.
/// `None` otherwise, or when `hit` misses: the caller then takes the full
/// path, which gives each refusal its status and message.
///
/// # Safety
/// Each of `objs` is NULL or a live object; `site` as for [`Site::read`].
#[inline]
unsafe fn quick<const N: usize, R>(
    objs: [*mut obj_t; N],
    site: Site,
    store: bool,
    hit: impl FnOnce(SiteCache, [NonNull<u8>; N]) -> Option<R>,
) -> Option<R> {
    const { assert!(N >= 2) };
    if objs.iter().any(|o| o.is_null()) {
        return None;
    }
    // SAFETY: none is NULL (checked above).
    let ptrs = objs.map(|o| unsafe { NonNull::new_unchecked(o) }.cast());
    if cfg!(debug_assertions) && ptrs.iter().any(|&p| abi::freed_object_type(p).is_some()) {
        return None;
    }
    // SAFETY: a live object (the caller's promise); the view owns no count.
    let obj = unsafe { abi::borrow_ptr(ptrs[0]) };
    let heap = obj.heap();
    let _inside = abi::enter(heap);
    if abi::in_traverse_hook(heap) {
        return None;
    }
    // SAFETY: live objects, inside the heap; `site` forwarded.
    let entry = unsafe { site.read(ptrs[0], ptrs[1], store) }?;
    hit(entry, ptrs)
}

/// The quick path of `getattr(o, name)` into `*out`: the export's result
/// when it ran (see [`quick`]).
///
/// # Safety
/// `o` and `name` are NULL or live objects; `out` is NULL or valid for one
/// write; `site` as for [`Site::read`].
#[inline]
pub(crate) unsafe fn quick_getattr(
    o: *mut obj_t,
    name: *mut obj_t,
    out: *mut *mut obj_t,
    site: Site,
) -> Option<Result<()>> {
    if out.is_null() {
        return None;
    }
    let hit = |entry: SiteCache, [o, name]: [NonNull<u8>; 2]| {
        // SAFETY: live objects, inside their heap (`quick`).
        unsafe { entry.getattr_hit(o, name) }
    };
    // SAFETY: forwarded from the caller; `out` is valid for one write.
    unsafe { quick([o, name], site, false, hit).map(|value| deliver(value, out)) }
}

/// A quick path's new reference written to `*out`, or its error.
///
/// # Safety
/// `out` is valid for one write.
#[inline]
unsafe fn deliver(value: objmodel::Result<NonNull<u8>>, out: *mut *mut obj_t) -> Result<()> {
    // SAFETY: the caller's promise.
    unsafe { out.write(value?.cast().as_ptr()) };
    Ok(())
}

/// The quick path of `setattr(o, name, value)`: the export's result when
/// it ran (see [`quick`]).
///
/// # Safety
/// `o`, `name` and `value` are NULL or live objects; `site` as for
/// [`Site::read`].
#[inline]
pub(crate) unsafe fn quick_setattr(
    o: *mut obj_t,
    name: *mut obj_t,
    value: *mut obj_t,
    site: Site,
) -> Option<Result<()>> {
    let hit = |entry: SiteCache, [o, name, value]: [NonNull<u8>; 3]| {
        // SAFETY: live objects, inside `o`'s heap (`quick`).
        unsafe { entry.store_hit(o, name, value) }
    };
    // SAFETY: forwarded from the caller.
    let stored = unsafe { quick([o, name, value], site, true, hit) }?;
    Some(stored.map_err(Into::into))
}

/// The quick path of `o.name(*args)` into `*result`: the export's result
/// when it ran (see [`quick`]).
///
/// # Safety
/// `o` and `name` are NULL or live objects; `args` is NULL or points to
/// `nargs` pointers, each NULL or a live object; `result` is NULL or valid
/// for one write; `site` as for [`Site::read`].
#[inline]
pub(crate) unsafe fn quick_call_method(
    o: *mut obj_t,
    name: *mut obj_t,
    (args, nargs): (*const *mut obj_t, usize),
    result: *mut *mut obj_t,
    site: Site,
) -> Option<Result<()>> {
    if result.is_null() {
        return None;
    }
    let hit = |entry: SiteCache, [o, name]: [NonNull<u8>; 2]| {
        // SAFETY: the caller passes NULL or `nargs` pointers to live objects.
        let args = unsafe { quick_args(o, args, nargs) }?;
        // SAFETY: live objects of `o`'s heap, inside it (`quick`).
        unsafe { entry.call_method_hit(o, name, args) }
    };
    // SAFETY: forwarded from the caller; `result` is valid for one write.
    unsafe { quick([o, name], site, false, hit).map(|r| deliver(r, result)) }
}

/// The arguments of a quick call: the C array `args` of `nargs` pointers
/// as object pointers, if each is a live object of `o`'s heap, as
/// [`try_ptrs_in`] checks them; `None` otherwise, for the full path to
/// report. Inside the heap.
///
/// # Safety
/// `o` is a live object; `args` is NULL or points to `nargs` pointers, each
/// NULL or a live object, valid for `'a`.
#[inline]
unsafe fn quick_args<'a>(
    o: NonNull<u8>,
    args: *const *mut obj_t,
    nargs: usize,
) -> Option<&'a [NonNull<u8>]> {
    // SAFETY: a live object; the view owns no count.
    let heap = unsafe { abi::borrow_ptr(o) }.heap();
    // SAFETY: forwarded from the caller.
    unsafe { try_ptrs_in(args, nargs, heap, "", "args") }.ok()
}

/// `obj_getattr` through a call site's cache: the same results, statuses,
/// messages and side effects; a repeated lookup of the same name on objects
/// of the same type and attribute layout is answered from `cache`. NULL
/// `cache`: `OBJ_ERR_NULL_ARG`.
///
/// # Safety
///
/// `o` and `name` are NULL or live objects; `cache` is NULL or a cache no
/// other thread uses meanwhile; `out` is NULL or valid for writing one pointer.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_getattr_cached(
    o: *mut obj_t,
    name: *mut obj_t,
    cache: *mut obj_attr_cache_t,
    out: *mut *mut obj_t,
) -> RawStatus {
    const F: &str = "obj_getattr_cached";
    ffi_boundary(F, || -> Result<()> {
        // SAFETY: forwarded from the caller.
        if let Some(r) = unsafe { quick_getattr(o, name, out, Site::Host(cache)) } {
            return r;
        }
        // SAFETY: the caller passes NULL or live objects.
        let o = unsafe { try_obj(o, F, "o") }?;
        // SAFETY: as above.
        let name = unsafe { try_obj_in(name, o.heap(), F, "name") }?;
        // SAFETY: the caller passes NULL or a cache no other thread uses.
        let cache = unsafe { try_cache(cache, F) }?;
        // SAFETY: the caller passes NULL or a pointer valid for one write.
        let out = unsafe { try_out(out, F, "out") }?;
        out.write(new_ref(abi::getattr_site(&o, &name, cache)?));
        Ok(())
    })
}

/// `obj_setattr` through a call site's cache: the same results, statuses,
/// messages and side effects; replacing the value of an instance attribute
/// or a slot that the cache knows skips the lookup. NULL `cache`:
/// `OBJ_ERR_NULL_ARG`.
///
/// # Safety
///
/// `o`, `name` and `value` are NULL or live objects; `cache` is NULL or a
/// cache no other thread uses meanwhile.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_setattr_cached(
    o: *mut obj_t,
    name: *mut obj_t,
    value: *mut obj_t,
    cache: *mut obj_attr_cache_t,
) -> RawStatus {
    const F: &str = "obj_setattr_cached";
    ffi_boundary(F, || -> Result<()> {
        // SAFETY: forwarded from the caller.
        if let Some(r) = unsafe { quick_setattr(o, name, value, Site::Host(cache)) } {
            return r;
        }
        // SAFETY: the caller passes NULL or live objects.
        let o = unsafe { try_obj(o, F, "o") }?;
        // SAFETY: as above.
        let name = unsafe { try_obj_in(name, o.heap(), F, "name") }?;
        // SAFETY: as above.
        let value = unsafe { try_obj_in(value, o.heap(), F, "value") }?;
        // SAFETY: the caller passes NULL or a cache no other thread uses.
        let cache = unsafe { try_cache(cache, F) }?;
        Ok(abi::setattr_site(&o, &name, &value, cache)?)
    })
}

/// `obj_call_method` through a call site's cache: the same results,
/// statuses, messages and side effects; a function of the class that the
/// cache knows is called without a lookup (and without a bound method).
/// NULL `cache`: `OBJ_ERR_NULL_ARG`.
///
/// # Safety
///
/// `o` and `name` are NULL or live objects; `args` is NULL or points to
/// `nargs` pointers, each NULL or a live object; `cache` is NULL or a cache
/// no other thread uses meanwhile; `result` is NULL or valid for writing
/// one pointer.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_call_method_cached(
    o: *mut obj_t,
    name: *mut obj_t,
    args: *const *mut obj_t,
    nargs: usize,
    cache: *mut obj_attr_cache_t,
    result: *mut *mut obj_t,
) -> RawStatus {
    const F: &str = "obj_call_method_cached";
    ffi_boundary(F, || -> Result<()> {
        let site = Site::Host(cache);
        // SAFETY: forwarded from the caller.
        if let Some(r) = unsafe { quick_call_method(o, name, (args, nargs), result, site) } {
            return r;
        }
        // SAFETY: the caller passes NULL or live objects.
        let o = unsafe { try_obj(o, F, "o") }?;
        // SAFETY: as above.
        let name = unsafe { try_obj_in(name, o.heap(), F, "name") }?;
        // SAFETY: the caller passes NULL or `nargs` pointers to live objects.
        let args = unsafe { try_objs_in(args, nargs, o.heap(), F, "args") }?;
        // SAFETY: the caller passes NULL or a cache no other thread uses.
        let cache = unsafe { try_cache(cache, F) }?;
        // SAFETY: the caller passes NULL or a pointer valid for one write.
        let out = unsafe { try_out(result, F, "result") }?;
        out.write(new_ref(abi::call_method_site(
            &o,
            &name,
            &as_refs(&args),
            cache,
        )?));
        Ok(())
    })
}
