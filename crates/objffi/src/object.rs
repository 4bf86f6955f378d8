//! Objects: the opaque `obj_t`, how C pointers become objmodel handles and
//! back, reference counts, and `repr`.
//!
//! An `obj_t *` is the address of an object's header (objmodel's
//! [`abi::into_ptr`]). Ownership crosses the boundary in two ways:
//!
//! - a **new reference** (an `obj_t **out` result) carries one count that the
//!   caller gives back with `obj_decref`: made by [`new_ref`];
//! - a **borrowed reference** (every argument, and the `obj_t *` that
//!   `obj_none` & co. return) carries none: read with [`try_obj`], which
//!   gives a handle that must not be dropped.
//!
//! Mixing heaps is checked here for every export that takes two objects:
//! the first enters its heap ([`try_obj`]), the others must belong to it
//! ([`try_obj_in`]), so each export gives `OBJ_ERR_HEAP_MISMATCH` before
//! doing anything and never takes a second heap's gate.
//! objmodel's Rust API does not check again: in Rust a heap's brand (a
//! lifetime) keeps heaps apart, but objffi's heaps, lent by
//! [`abi::heap`](objmodel::abi::heap), share brands, so this check is the
//! one that holds.

use core::fmt;
use core::mem::ManuallyDrop;
use core::ptr::NonNull;

use objmodel::abi::{self, Entered};
use objmodel::{Heap, Obj};

use crate::error::{Error, Result, obj_status_t};
use crate::panic::ffi_boundary;
use crate::ptr::{null_arg, try_out, try_slice};

/// An object: a value, a type, an instance, a function...
///
/// Opaque to C; always handled through `obj_t *`. Every object belongs to
/// one heap and dies with it at the latest.
#[expect(
    non_camel_case_types,
    reason = "the C ABI contract spells the type this way"
)]
pub struct obj_t {
    _opaque: [u8; 0],
}

/// A borrowed handle to an object argument: it owns no count, and is never
/// dropped (`ManuallyDrop`); clone it to keep the object. While it lives,
/// the calling thread is inside the object's heap (`abi::enter`), which
/// the host serialises calls on; nested handles pass straight through.
pub(crate) struct Borrowed<'a> {
    obj: ManuallyDrop<Obj<'a>>,
    /// The stay in the heap's gate, for the first argument; the others
    /// live inside the first's stay ([`Entered::within`]).
    _entered: Entered<'a>,
}

impl<'a> core::ops::Deref for Borrowed<'a> {
    type Target = Obj<'a>;

    fn deref(&self) -> &Obj<'a> {
        &self.obj
    }
}

/// Borrows the object argument `p` and enters its heap, or fails with
/// `OBJ_ERR_NULL_ARG`. For the first argument that names the export's
/// heap; the other object arguments go through [`try_obj_in`].
///
/// # Safety
///
/// `p` is NULL or a live object of a live heap, alive for `'a`.
#[inline(always)]
pub(crate) unsafe fn try_obj<'a>(p: *const obj_t, func: &str, arg: &str) -> Result<Borrowed<'a>> {
    // SAFETY: forwarded from the caller.
    let obj = unsafe { borrow_arg(p, func, arg) }?;
    let heap = obj.heap();
    Ok(Borrowed {
        obj,
        _entered: crate::heap::enter(heap)?,
    })
}

/// Borrows an object argument of an export that works in `heap` (entered
/// by its first argument): an object of another heap gives
/// `OBJ_ERR_HEAP_MISMATCH` before its heap's gate is touched. (Taking two
/// gates in one call would deadlock against a thread taking them in the
/// other order.)
///
/// # Safety
///
/// As for [`try_obj`].
#[inline]
pub(crate) unsafe fn try_obj_in<'a>(
    p: *const obj_t,
    heap: &Heap<'a>,
    func: &str,
    arg: impl fmt::Display,
) -> Result<Borrowed<'a>> {
    // SAFETY: forwarded from the caller.
    let obj = unsafe { borrow_arg(p, func, arg) }?;
    if !core::ptr::eq(obj.heap(), heap) {
        return Err(Error::new(
            obj_status_t::OBJ_ERR_HEAP_MISMATCH,
            "objects of two heaps cannot be mixed",
        ));
    }
    Ok(Borrowed {
        obj,
        // Inside already, for as long as the first argument is borrowed.
        _entered: Entered::within(),
    })
}

/// The view of the object argument `p`, checked for NULL and (in debug
/// builds) for having been freed.
///
/// # Safety
///
/// As for [`try_obj`].
#[inline]
unsafe fn borrow_arg<'a>(
    p: *const obj_t,
    func: &str,
    arg: impl fmt::Display,
) -> Result<ManuallyDrop<Obj<'a>>> {
    let Some(p) = NonNull::new(p.cast_mut()) else {
        return Err(null_object_arg(func, &arg));
    };
    if cfg!(debug_assertions) {
        if let Some(type_name) = abi::freed_object_type(p.cast()) {
            return Err(freed(func, &format!("argument '{arg}'"), &type_name));
        }
    }
    // SAFETY: the caller promises a live object for `'a`; the view owns no
    // count and is never dropped.
    Ok(unsafe { abi::borrow_ptr(p.cast()) })
}

/// `OBJ_ERR_NULL_ARG` for the object argument `arg` (out of line: the
/// common path of every export has no formatting in it).
#[cold]
#[inline(never)]
fn null_object_arg(func: &str, arg: &dyn fmt::Display) -> Error {
    null_arg(func, &arg.to_string())
}

/// The error for an object that debug builds know was freed.
#[cold]
#[inline(never)]
fn freed(func: &str, what: &str, type_name: &str) -> Error {
    Error::new(
        obj_status_t::OBJ_ERR_VALUE,
        format!("{func}: {what} is a freed '{type_name}' object (used after its last decref)"),
    )
}

/// Checks the array of object arguments `items[0..n]` (NULL allowed when
/// `n` is 0) of an export that works in `heap`, each as [`try_obj_in`]
/// checks one: a NULL array or element gives `OBJ_ERR_NULL_ARG`, an object
/// of another heap `OBJ_ERR_HEAP_MISMATCH`. The pointers stay in the host's
/// array: the caller copies them before any host code runs (which may
/// write to it), as [`try_objs_in`] and `abi::call_ptrs` do.
///
/// # Safety
///
/// `items` is NULL or points to `n` pointers, each NULL or a live object,
/// all alive for `'s`.
#[inline]
pub(crate) unsafe fn try_ptrs_in<'s>(
    items: *const *mut obj_t,
    n: usize,
    heap: &Heap<'_>,
    func: &str,
    arg: &str,
) -> Result<&'s [NonNull<u8>]> {
    // SAFETY: forwarded from the caller.
    let items = unsafe { try_slice(items, n, func, arg) }?;
    for (index, &p) in items.iter().enumerate() {
        // SAFETY: each element is NULL or a live object (the caller's promise).
        unsafe { try_obj_in(p, heap, func, Element { arg, index }) }?;
    }
    // SAFETY: no element is NULL (checked above), and `*mut obj_t` has the
    // layout of `NonNull<u8>`.
    Ok(unsafe { core::slice::from_raw_parts(items.as_ptr().cast(), items.len()) })
}

/// Borrows the array of object arguments `items[0..n]` of an export that
/// works in `heap`, checked by [`try_ptrs_in`] and copied out of the
/// host's array, on the stack for up to [`INLINE_ARGS`] of them.
///
/// # Safety
///
/// As for [`try_ptrs_in`], for `'a`.
#[inline]
pub(crate) unsafe fn try_objs_in<'a>(
    items: *const *mut obj_t,
    n: usize,
    heap: &Heap<'a>,
    func: &str,
    arg: &str,
) -> Result<Args<'a>> {
    // SAFETY: forwarded from the caller.
    let ptrs = unsafe { try_ptrs_in(items, n, heap, func, arg) }?;
    let mut args = Args {
        inline: [const { None }; INLINE_ARGS],
        spilled: Vec::new(),
    };
    let spill = ptrs.len() > INLINE_ARGS;
    if spill {
        args.spilled.reserve_exact(ptrs.len());
    }
    for (index, &p) in ptrs.iter().enumerate() {
        // SAFETY: a live object of `heap` (checked above); the view owns no count.
        let o = unsafe { abi::borrow_ptr(p) };
        if spill {
            args.spilled.push(o);
        } else {
            args.inline[index] = Some(o);
        }
    }
    Ok(args)
}

/// Object arguments of an export, borrowed (see [`try_objs_in`]).
pub(crate) struct Args<'a> {
    /// All of them, in order, when they are at most [`INLINE_ARGS`].
    inline: [Option<ManuallyDrop<Obj<'a>>>; INLINE_ARGS],
    /// All of them when they are more.
    spilled: Vec<ManuallyDrop<Obj<'a>>>,
}

/// Object arguments [`Args`] and [`Refs`] hold without allocating.
const INLINE_ARGS: usize = 8;

/// The name of an element of an array argument, `args[2]`, written only
/// into an error message.
struct Element<'n> {
    arg: &'n str,
    index: usize,
}

impl fmt::Display for Element<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}]", self.arg, self.index)
    }
}

/// The arguments as objmodel takes them, a slice of references: on the
/// stack for up to [`INLINE_ARGS`] of them.
pub(crate) enum Refs<'s, 'a> {
    Inline([&'s Obj<'a>; INLINE_ARGS], usize),
    Spilled(Vec<&'s Obj<'a>>),
}

impl<'s, 'a> core::ops::Deref for Refs<'s, 'a> {
    type Target = [&'s Obj<'a>];

    fn deref(&self) -> &Self::Target {
        match self {
            Refs::Inline(refs, n) => &refs[..*n],
            Refs::Spilled(refs) => refs,
        }
    }
}

/// The arguments `args` as objmodel takes them.
#[inline]
pub(crate) fn as_refs<'s, 'a>(args: &'s Args<'a>) -> Refs<'s, 'a> {
    let Some(Some(first)) = args.inline.first() else {
        // None, or more than INLINE_ARGS (an empty Vec allocates nothing).
        return Refs::Spilled(args.spilled.iter().map(|o| &**o).collect());
    };
    let mut refs = [&**first; INLINE_ARGS];
    let mut n = 0;
    for (r, o) in refs
        .iter_mut()
        .zip(args.inline.iter().map_while(Option::as_ref))
    {
        *r = o;
        n += 1;
    }
    Refs::Inline(refs, n)
}

/// Gives the caller the count `o` owns: a new reference for C.
pub(crate) fn new_ref(o: Obj<'_>) -> *mut obj_t {
    abi::into_ptr(o).cast().as_ptr()
}

/// The address of `o`, for a borrowed `obj_t *` (no count moves).
pub(crate) fn as_c(o: &Obj<'_>) -> *mut obj_t {
    o.as_ptr().cast_mut().cast()
}

// The layout objffi.h's inline counting reads (`obj_abi_head_t`,
// `obj_abi_type_head_t`, `OBJ_ABI_LOCAL_MAX` and `OBJ_ABI_IMMORTAL`, from
// `inline.h`): hosts compile these numbers in, so a change here is a new
// soname.
const _: () = assert!(abi::TYPE_OFFSET == 8);
const _: () = assert!(abi::OWNER_WORD_OFFSET == 32);
const _: () = assert!(abi::LOCAL_MAX == 0xFFFF_FFFD);
const _: () = assert!(abi::IMMORTAL == 0xFFFF_FFFF);

/// Adds a reference to `o`. NULL is ignored; so are immortal objects
/// (`None`, `True`, `False`, built-in types, small ints, interned strings).
/// Any thread may call it at any time. A debug build of the library
/// refuses an object already freed, naming its type in `obj_last_error()`.
///
/// # Safety
///
/// `o` is NULL or a live object.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_incref(o: *mut obj_t) {
    let Some(p) = NonNull::new(o) else { return };
    if cfg!(debug_assertions) && reported_freed("obj_incref", "the object", p) {
        return;
    }
    // SAFETY: the caller passes a live object. Counting runs no host code
    // and cannot panic, so it needs no panic boundary.
    unsafe { abi::incref(p.cast()) };
}

/// Gives back a reference to `o`; the last one frees it (running its
/// `__del__` and payload hooks first). NULL is ignored; so are immortal objects.
/// Any thread may call it at any time: a last reference dropped while
/// another thread is inside the heap is freed by that thread before its
/// call returns. A debug build of the library catches a double decref (of
/// an object already freed) and names its type in `obj_last_error()`.
///
/// # Safety
///
/// `o` is NULL or a live object, and the caller owns the reference it gives back.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_decref(o: *mut obj_t) {
    let Some(p) = NonNull::new(o) else { return };
    if cfg!(debug_assertions) && reported_freed("obj_decref", "the object (a double decref)", p) {
        return;
    }
    // SAFETY: the caller passes a live object and owns this count. Dropping
    // the count runs no host code; freeing (or queueing) the object may, so
    // only that half runs inside the panic boundary.
    if let Some(rest) = unsafe { abi::drop_count(p.cast()) } {
        finish_decref(rest);
    }
}

/// The half of `obj_decref` that frees (or queues) the object: out of
/// line, so that the counting half stays a few instructions.
#[inline(never)]
fn finish_decref(rest: abi::DecrefRest) {
    ffi_boundary("obj_decref", || rest.finish());
}

/// In debug builds: records and reports that `p` was freed already (see
/// `objmodel::abi::freed_object_type`).
#[cold]
#[inline(never)]
fn reported_freed(func: &str, what: &str, p: NonNull<obj_t>) -> bool {
    match abi::freed_object_type(p.cast()) {
        Some(type_name) => {
            freed(func, what, &type_name).record();
            true
        }
        None => false,
    }
}

/// The reference count of `o`, borrowed; 0 for NULL. Immortal objects report
/// a count of at least 2^63 that never changes.
///
/// # Safety
///
/// `o` is NULL or a live object.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_refcount(o: *const obj_t) -> usize {
    ffi_boundary("obj_refcount", || {
        // SAFETY: the caller passes NULL or a live object.
        match unsafe { try_obj(o, "obj_refcount", "o") } {
            Ok(o) => o.refcount(),
            Err(_) => 0,
        }
    })
}

/// `type(o)`: a borrowed reference (the object keeps its type alive).
/// NULL for NULL (`obj_last_error()` then says so).
///
/// # Safety
///
/// `o` is NULL or a live object.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_type_of(o: *const obj_t) -> *mut obj_t {
    ffi_boundary("obj_type_of", || -> Result<NonNull<obj_t>> {
        // SAFETY: the caller passes NULL or a live object.
        let o = unsafe { try_obj(o, "obj_type_of", "o") }?;
        // The object holds a count on its type, so the address stays valid
        // once this handle's count is given back.
        let ty = o.type_of();
        Ok(NonNull::new(as_c(&ty)).expect("an object's address is not NULL"))
    })
}

/// Python's `repr(o)`: `*out_str` receives a new reference to a str. An
/// instance whose class has `__repr__` is written by it (a failing host
/// function's status is returned unchanged; a non-str result gives
/// `OBJ_ERR_TYPE`).
///
/// # Safety
///
/// `o` is NULL or a live object; `out_str` is NULL or valid for writing one pointer.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn obj_repr(o: *mut obj_t, out_str: *mut *mut obj_t) -> crate::RawStatus {
    ffi_boundary("obj_repr", || -> Result<()> {
        // SAFETY: the caller passes NULL or a live object.
        let o = unsafe { try_obj(o, "obj_repr", "o") }?;
        // SAFETY: the caller passes NULL or a pointer valid for one write.
        let out = unsafe { try_out(out_str, "obj_repr", "out_str") }?;
        let s = o.repr_obj()?;
        out.write(new_ref(s));
        Ok(())
    })
}
