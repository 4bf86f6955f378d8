//! What only code in another language needs (objffi's C ABI), kept apart
//! from the Rust API: Rust users of [`Heap`] and [`Obj`] do not need this
//! module. It holds
//!
//! - objects behind raw pointers: [`into_ptr`], [`from_ptr`],
//!   [`borrow_ptr`], counted with [`incref`] and [`decref`] (or
//!   [`drop_count`], to run the rest inside a panic boundary), and, in
//!   debug builds, [`freed_object_type`] to catch a pointer to a freed
//!   object;
//! - a heap kept behind a raw pointer, without the brand of
//!   [`HeapBox::scope`]: [`heap`] (the caller checks that objects do not
//!   mix heaps);
//! - a heap shared between threads: [`unlock`], [`enter`], [`adopt`] and
//!   [`in_traverse_hook`];
//! - host functions with C's calling convention: [`ExternFn`] and
//!   [`extern_function`]; calls with a host's array of arguments:
//!   [`call_ptrs`];
//! - call-site caches kept in the host's memory: [`SiteCache`] and
//!   [`getattr_site`], [`setattr_site`], [`call_method_site`]; names passed
//!   as C strings: [`find_interned_cstr`];
//! - the layout that counting on the owner thread reads, for code that
//!   counts without calling in (objffi.h's `obj_incref_inline`): the
//!   owner's count is the object's first `u32`; the type pointer is at
//!   [`TYPE_OFFSET`] of the object; the type's pointer to its heap's owner
//!   word (the owner thread's [`objgc::thread_token`]) is at
//!   [`OWNER_WORD_OFFSET`] of the type;
//! - the layout that an attribute lookup read without calling in reads
//!   (objffi.h's `obj_getattr_inline` and `obj_getattr_cached_inline`,
//!   and their `setattr` forms): the type's version at [`VERSION_OFFSET`],
//!   its attribute area's offset at [`AREA_OFFSET_OFFSET`] and its heap's
//!   attribute cache at [`SHARED_SITES_OFFSET`] (with how an entry is
//!   chosen there), and the words and tags of a [`SiteCache`] entry for
//!   an instance value, a slot or a class attribute
//!   ([`CACHE_FOUND_INLINE_VALUE`] and its neighbours).
//!
//! Changing any of these breaks compiled C hosts: objffi pins them to the
//! numbers its header carries.

use core::cell::Cell;
use core::mem::ManuallyDrop;
use core::ptr::NonNull;

use crate::error::Result;
use crate::lookup::cache;
use crate::object::ObjRef;
use crate::{Heap, HeapBox, Obj, call};

/// Offset of an object's type pointer.
pub const TYPE_OFFSET: usize = core::mem::offset_of!(crate::object::ObjHeader, ty);
/// Offset, in a type object, of the pointer to its heap's owner word.
pub const OWNER_WORD_OFFSET: usize =
    core::mem::offset_of!(crate::kinds::type_object::TypeObject, owner);
/// Offset, in a type object, of its version (a `u64`; 0: none yet), which
/// a call-site cache entry records and a hit must find unchanged.
pub const VERSION_OFFSET: usize =
    core::mem::offset_of!(crate::kinds::type_object::TypeObject, version);
/// Which `u64` of a [`SiteCache`] holds the version its entry was made at.
pub const CACHE_VERSION_WORD: usize = cache::VERSION_WORD;
/// Offset, in a type object, of the byte offset of its instances'
/// attribute area (a `usize`; 0: they have no `__dict__`).
pub const AREA_OFFSET_OFFSET: usize =
    core::mem::offset_of!(crate::kinds::type_object::TypeObject, area_offset);
/// Offset, in a type object, of the address of its heap's attribute
/// cache: `1 << SHARED_SITES_BITS` [`SiteCache`]s that the lookups without
/// a cache of their own (`obj_getattr`, `obj_setattr`) share. The entry
/// for `name` on an instance of the type, whose shape token is `shape`,
/// is the one at index
/// `((version ^ (name >> SHARED_SITE_NAME_SHIFT) ^ rotate_left(shape ^ store, SHARED_SITE_SALT_ROTATION)) * SHARED_SITE_MULTIPLIER) >> (64 - SHARED_SITES_BITS)`
/// (64-bit arithmetic; `store`: 1 for a store, 0 for a load). The shape
/// token: [`CACHE_NO_DICT_SHAPE`] for a type without `__dict__`; else the
/// attribute area's first word if it has any of the bits [`AREA_TAGS`];
/// else 1, plus 1 for each of the area's two words that is not null.
pub const SHARED_SITES_OFFSET: usize =
    core::mem::offset_of!(crate::kinds::type_object::TypeObject, attr_sites);
/// See [`SHARED_SITES_OFFSET`].
pub const SHARED_SITES_BITS: u32 = crate::heap::ATTR_SITES_BITS;
/// See [`SHARED_SITES_OFFSET`].
pub const SHARED_SITE_MULTIPLIER: u64 = crate::heap::ATTR_SITE_MULTIPLIER;
/// See [`SHARED_SITES_OFFSET`].
pub const SHARED_SITE_SALT_ROTATION: u32 = crate::heap::ATTR_SITE_SALT_ROTATION;
/// See [`SHARED_SITES_OFFSET`].
pub const SHARED_SITE_NAME_SHIFT: u32 = crate::heap::ATTR_SITE_NAME_SHIFT;
/// Which `u64` of a [`SiteCache`] holds the shape its entry was made for.
pub const CACHE_SHAPE_WORD: usize = cache::SHAPE_WORD;
/// Which `u64` of a [`SiteCache`] holds its name's address.
pub const CACHE_NAME_WORD: usize = cache::NAME_WORD;
/// Which `u64` of a [`SiteCache`] says how the name was found: a tag in
/// the low [`CACHE_TAG_BITS`] bits, a payload above them.
pub const CACHE_FOUND_WORD: usize = cache::FOUND_WORD;
/// Bits of the tag under the payload of [`CACHE_FOUND_WORD`].
pub const CACHE_TAG_BITS: u32 = cache::FOUND_TAG_BITS;
/// The tag of an instance value held in an array: the payload is its cell
/// in the array whose address is the attribute area's second word, while
/// the area's first word equals the entry's shape word
/// ([`CACHE_SHAPE_WORD`]); the cell holds a value.
pub const CACHE_FOUND_INSTANCE_VALUE: u64 = cache::FOUND_INSTANCE_VALUE;
/// The tag of a slot: the payload is its byte offset in the instance.
pub const CACHE_FOUND_SLOT: u64 = cache::FOUND_SLOT;
/// The tag of an instance value held inline: the payload is the attribute
/// area's byte offset in the instance, shifted left by one, or'ed with
/// the value's cell (0 or 1) in the area. The area's first word has none
/// of the bits [`AREA_TAGS`] while its values are inline; a cell holds a
/// value or NULL.
pub const CACHE_FOUND_INLINE_VALUE: u64 = cache::FOUND_INLINE_VALUE;
/// See [`CACHE_FOUND_INLINE_VALUE`].
pub const AREA_TAGS: usize = crate::kinds::instance::TAGS;
/// The tag of a class attribute that is no function: the found word less
/// its tag is the attribute's address. It is the answer for an instance
/// whose shape is the entry's: with the entry's shape
/// [`CACHE_NO_DICT_SHAPE`], any instance of a type without a `__dict__`;
/// with [`CACHE_ANY_INLINE_SHAPE`], any instance whose attribute area has
/// none of the bits [`AREA_TAGS`] (values inline, or none).
pub const CACHE_FOUND_CLASS_ATTR: u64 = cache::FOUND_CLASS_ATTR;
/// See [`CACHE_FOUND_CLASS_ATTR`].
pub const CACHE_NO_DICT_SHAPE: u64 = crate::kinds::instance::NO_DICT_TOKEN as u64;
/// See [`CACHE_FOUND_CLASS_ATTR`].
pub const CACHE_ANY_INLINE_SHAPE: u64 = cache::ANY_INLINE_SHAPE;
/// The most references the owner counts before the object becomes immortal.
pub const LOCAL_MAX: u32 = objgc::LOCAL_MAX;
/// The owner's count of an immortal object, which nobody counts.
pub const IMMORTAL: u32 = objgc::IMMORTAL_LOCAL;

pub use crate::heap::Entered;
pub use crate::kinds::function::{ExternCall, ExternErrors, ExternFn};
pub use crate::kinds::str::find_interned_cstr;
pub use crate::lifecycle::freed::freed_object_type;
pub use crate::lookup::cache::SiteCache;
pub use crate::object::{DecrefRest, HEADER_SIZE};

/// The heap `owner` owns, under the brand `'h` of the borrow: what a host
/// that keeps heaps and objects behind raw pointers uses instead of
/// [`HeapBox::scope`], whose closure it cannot keep.
///
/// Two heaps borrowed for one `'h` share the brand, so the types no longer
/// keep their objects apart: the caller does, at run time. (The functions
/// of this module that take objects of a heap check them so:
/// [`getattr_site`], [`setattr_site`], [`call_method_site`], and the result
/// of an [`extern_function`].)
///
/// # Safety
/// Every object the caller hands the heap or its objects (as an argument,
/// to store or to compare with) belongs to this heap: the caller checks
/// each one whose heap it does not know (as objffi does every object
/// argument, `OBJ_ERR_HEAP_MISMATCH` otherwise).
pub unsafe fn heap(owner: &HeapBox) -> &Heap<'_> {
    // SAFETY: forwarded from the caller.
    unsafe { owner.unbranded() }
}

/// Gives up `o`'s count and returns the object's address, for hosts that
/// keep objects behind raw pointers. Undo with [`from_ptr`].
pub fn into_ptr(o: Obj<'_>) -> NonNull<u8> {
    o.into_raw().0.cast()
}

/// Takes over one count of the object at `p`.
///
/// # Safety
/// `p` is the address of a live object (from [`into_ptr`] or
/// [`Obj::as_ptr`]) of a heap that outlives `'h`, the caller owns the
/// count it hands over, and it keeps the object from other heaps' objects
/// that share the brand `'h` (see [`heap`]).
pub unsafe fn from_ptr<'h>(p: NonNull<u8>) -> Obj<'h> {
    ObjRef(p.cast()).into_obj()
}

/// A handle to the object at `p` that does not own a count (it must not
/// be dropped; clone it to get an owning one).
///
/// # Safety
/// As for [`from_ptr`], and the object stays alive while the handle is used.
pub unsafe fn borrow_ptr<'h>(p: NonNull<u8>) -> ManuallyDrop<Obj<'h>> {
    ManuallyDrop::new(ObjRef(p.cast()).into_obj())
}

/// Adds a count to the object at `p`. Runs no host code and cannot
/// fail: a handful of instructions on the owner thread.
///
/// # Safety
/// `p` is the address of a live object.
#[inline]
pub unsafe fn incref(p: NonNull<u8>) {
    ObjRef(p.cast()).incref();
}

/// Drops a count of the object at `p`, freeing it if it was the last.
///
/// # Safety
/// `p` is the address of a live object and the caller owns the count.
#[inline]
pub unsafe fn decref(p: NonNull<u8>) {
    ObjRef(p.cast()).decref();
}

/// The first half of [`decref`]: drops the count and, in the common case
/// (others still hold the object), is done. Otherwise gives back what is
/// left to do, which may run host code (`__del__`, hooks): a C-ABI caller
/// runs it inside its panic boundary, the fast half outside.
///
/// # Safety
/// As for [`decref`].
#[inline]
pub unsafe fn drop_count(p: NonNull<u8>) -> Option<DecrefRest> {
    ObjRef(p.cast()).drop_count()
}

/// Ends the stay the creating thread has had since [`Heap::new`], for a
/// host that shares the heap between threads: from now on each use of the
/// heap, on any thread, is made inside [`enter`]; the creator, as the
/// heap's owner, keeps the gate between its stays, and another thread's
/// stay takes it over. (A Rust heap never leaves its thread, and its
/// creator stays inside for the heap's life.)
///
/// # Safety
/// The calling thread is inside the gate (it created the heap and has not
/// unlocked it), and from now on follows the rule above.
#[inline]
pub unsafe fn unlock(heap: &Heap) {
    // SAFETY: the caller keeps `Heap::unlock`'s contract, which is this one.
    unsafe { heap.unlock() }
}

/// Enters the heap's gate for a use of the heap, waiting while another
/// thread is inside (freeing an object it dropped, or a host call the
/// host failed to serialise). Nested calls pass straight through. On the
/// owner thread, first merges the counts other threads handed over.
///
/// A heap whose owner thread has exited is adopted by the first thread to
/// enter it after (see [`adopt`]).
#[inline]
pub fn enter<'a>(heap: &'a Heap<'_>) -> Entered<'a> {
    heap.enter()
}

/// Makes the calling thread, inside the gate, the heap's owner: the thread
/// that counts references without atomic instructions and merges the
/// counts other threads hand over. Any thread may use the heap whoever
/// owns it; owning only makes counting faster.
///
/// # Safety
/// The calling thread is inside the gate ([`enter`]), and the previous
/// owner's counting ([`incref`]/[`decref`] of the heap's objects) is
/// ordered with this call: it happened before, and any later counting of
/// that thread follows it through synchronisation (as when a heap is
/// handed over through a mutex, a channel or a thread join).
#[inline]
pub unsafe fn adopt(heap: &Heap) {
    // SAFETY: the caller keeps `Heap::adopt`'s contract, which is this one.
    unsafe { heap.adopt() }
}

/// Whether a payload's traverse hook is running (host code the collector
/// calls while its tags are in place): until it returns, the heap must not
/// change, so a host sharing the heap refuses calls into it.
#[inline]
pub fn in_traverse_hook(heap: &Heap) -> bool {
    heap.in_traverse_hook()
}

/// A host function with C's calling convention (see [`ExternFn`]), called
/// directly, with no closure in between: what objffi makes of
/// `obj_function_new`.
///
/// # Safety
/// `f.call` may be called with `f.data` and arguments as [`ExternFn`]
/// says, from any call of the function, for as long as the function object
/// lives; what it writes to `*result` when it returns 0 is a new reference
/// to a live object (of any heap: the call checks).
#[inline]
pub unsafe fn extern_function<'h>(heap: &Heap<'h>, name: &str, f: ExternFn) -> Result<Obj<'h>> {
    // SAFETY: the caller keeps `Heap::extern_function`'s contract, which is
    // this one.
    unsafe { heap.extern_function(name, f) }
}

/// `getattr(o, name)` through the call-site cache `cache`: answers, errors
/// and side effects are those of [`Obj::getattr_obj`].
pub fn getattr_site<'h>(o: &Obj<'h>, name: &Obj<'h>, cache: &Cell<SiteCache>) -> Result<Obj<'h>> {
    let heap = o.heap();
    check_own(heap, &[name])?;
    cache::getattr_site(heap, o.raw(), name.raw(), cache).map(ObjRef::into_obj)
}

/// `setattr(o, name, value)` through the call-site cache `cache`, as
/// [`Obj::setattr_obj`] does it.
pub fn setattr_site<'h>(
    o: &Obj<'h>,
    name: &Obj<'h>,
    value: &Obj<'h>,
    cache: &Cell<SiteCache>,
) -> Result<()> {
    let heap = o.heap();
    check_own(heap, &[name, value])?;
    cache::setattr_site(heap, o.raw(), name.raw(), value.raw(), cache)
}

/// `callable(*args)` with the arguments as a C host passes them: an array
/// of object pointers. They are copied once, onto the stack for a short
/// call, before any host code runs (which may write to the host's array);
/// the call holds each for its length, as every call does.
///
/// # Safety
/// Each of `args` is a live object of `callable`'s heap, which the caller
/// has entered.
pub unsafe fn call_ptrs<'h>(callable: &Obj<'h>, args: &[NonNull<u8>]) -> Result<Obj<'h>> {
    let heap = callable.heap();
    call::with_copy(ObjRef::from_ptrs(args), |args| {
        call::call_raw(heap, callable.raw(), args)
    })
    .map(ObjRef::into_obj)
}

/// `o.name(*args)` through the call-site cache `cache`, as
/// [`Obj::call_method_obj`] does it (a function of the class is called
/// without making a bound method).
pub fn call_method_site<'h>(
    o: &Obj<'h>,
    name: &Obj<'h>,
    args: &[&Obj<'h>],
    cache: &Cell<SiteCache>,
) -> Result<Obj<'h>> {
    let heap = o.heap();
    check_own(heap, &[name])?;
    check_own(heap, args)?;
    let (o, name) = (o.raw(), name.raw());
    call::with_own_args(heap, args, |args| {
        cache::call_method_via(heap, o, name, args, cache)
    })
    .map(ObjRef::into_obj)
}

/// Checks that each of `objs` belongs to `heap` (`HeapMismatch` if not):
/// a host's handles come from raw pointers, under brands that prove
/// nothing (see [`heap`]).
fn check_own<'h>(heap: &Heap<'h>, objs: &[&Obj<'h>]) -> Result<()> {
    objs.iter().try_for_each(|o| heap.check_own(o.raw()))
}
