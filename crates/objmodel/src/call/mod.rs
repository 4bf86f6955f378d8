//! Calls: host functions, bound methods, types (allocate, then `__init__`),
//! and `call_method`, which calls a method found on the class with the
//! object as `self` without making a bound method.

pub(crate) mod nesting;

use crate::error::{Error, Result};
use crate::heap::Heap;
use crate::kinds::function;
use crate::kinds::instance;
use crate::kinds::type_object::{Kind, TypeObject, as_type};
use crate::lookup;
use crate::object::{Obj, ObjRef};

/// Runs `f` with the `len` handles of `items`, on the stack for the common
/// short case (no allocation for up to 8).
fn with_handles<R>(
    len: usize,
    items: impl Iterator<Item = ObjRef>,
    f: impl FnOnce(&[ObjRef]) -> R,
) -> R {
    const INLINE: usize = 8;
    if len <= INLINE {
        let mut buf = [core::mem::MaybeUninit::<ObjRef>::uninit(); INLINE];
        // A loop, not `copy_from_slice`: a call of `memcpy` costs more
        // than the few handles there are to copy.
        for (slot, item) in buf.iter_mut().zip(items) {
            slot.write(item);
        }
        // SAFETY: `items` yields `len` handles, so the first `len` cells
        // were written above; `MaybeUninit<ObjRef>` has the layout of `ObjRef`.
        f(unsafe { core::slice::from_raw_parts(buf.as_ptr().cast::<ObjRef>(), len) })
    } else {
        f(&items.collect::<Vec<_>>())
    }
}

/// Runs `f` with a copy of `args`, on the stack for the common short case:
/// for arguments in memory that host code the call runs may change.
pub(crate) fn with_copy<R>(args: &[ObjRef], f: impl FnOnce(&[ObjRef]) -> R) -> R {
    with_handles(args.len(), args.iter().copied(), f)
}

/// Arguments with one more in front, on the stack for the common short case.
pub(crate) fn with_self<R>(first: ObjRef, args: &[ObjRef], f: impl FnOnce(&[ObjRef]) -> R) -> R {
    with_handles(
        args.len() + 1,
        core::iter::once(first).chain(args.iter().copied()),
        f,
    )
}

/// Calls `callable(*args)`; a new reference.
///
/// Every path that runs host code comes through here, and here is the one
/// rule for it: the callable and every argument are held (counted) for the
/// duration of the call, as CPython holds them, so host code may drop the
/// last outside reference to what is running (`T.__init__` rebinding
/// itself); and the call is one level of nesting (`nesting.rs`), refused
/// with a RecursionError when too deep. Both are undone on every exit,
/// panics included.
pub(crate) fn call_raw(heap: &Heap, callable: ObjRef, args: &[ObjRef]) -> Result<ObjRef> {
    let _level = heap.nest(" while calling a Python object")?;
    let _held = Held::new(heap, callable, args);
    match callable.ty().kind {
        Kind::Function => {
            // SAFETY: matched on the kind; `_held` keeps `callable` alive.
            unsafe { function::function(callable) }.call(heap.branded(), args)
        }
        Kind::Method => {
            // SAFETY: matched on the kind; `_held` keeps `callable` alive.
            let m = unsafe { function::method(callable) };
            with_self(m.self_, args, |a| call_raw(heap, m.func, a))
        }
        // SAFETY: matched on the kind; `_held` keeps `callable` alive.
        Kind::Type => call_type(heap, unsafe { as_type(callable) }, args),
        _ => Err(function::not_callable(callable)),
    }
}

/// References held for the length of a call: one on the callable and one
/// on each argument, released when dropped.
/// All are objects of `heap`, so one look at the heap says how this thread
/// counts them all.
struct Held<'a, 'h> {
    heap: &'a Heap<'h>,
    callable: ObjRef,
    args: &'a [ObjRef],
}

impl<'a, 'h> Held<'a, 'h> {
    #[inline]
    fn new(heap: &'a Heap<'h>, callable: ObjRef, args: &'a [ObjRef]) -> Self {
        let owner = heap.is_owner_thread();
        callable.incref_as(owner);
        args.iter().for_each(|a| a.incref_as(owner));
        Self {
            heap,
            callable,
            args,
        }
    }
}

impl Drop for Held<'_, '_> {
    #[inline]
    fn drop(&mut self) {
        // Asked again: host code may have handed the heap over meanwhile.
        let owner = self.heap.is_owner_thread();
        self.args.iter().for_each(|a| a.decref_as(owner));
        self.callable.decref_as(owner);
    }
}

/// `T(*args)`: a new instance, initialised by `T.__init__` if it has one.
fn call_type(heap: &Heap, ty: &TypeObject, args: &[ObjRef]) -> Result<ObjRef> {
    let t = ty.as_ref();
    if ty.kind != Kind::Object {
        return Err(Error::type_error(format!(
            "cannot create '{}' instances",
            ty.name_str()
        )));
    }
    // SAFETY: `t` is a live type of `heap` (the callable, held by `call_raw`),
    // of plain instances (checked above), `layout.size` bytes each.
    let o = unsafe { heap.alloc_object(t, ty.layout.size)? }.into_obj();
    match lookup::lookup_in_mro(ty, heap.b().names.init) {
        Some(init) => {
            let r = call_special(heap, init, o.raw(), args)?;
            if r.ty().kind != Kind::NoneType {
                let e = Error::type_error(format!(
                    "__init__() should return None, not '{}'",
                    r.ty().name_str()
                ));
                r.decref();
                return Err(e);
            }
        }
        None if !args.is_empty() => {
            return Err(Error::type_error(format!(
                "{}() takes no arguments",
                ty.name_str()
            )));
        }
        None => {}
    }
    Ok(o.into_raw())
}

/// Calls `f`, found on `type(o)` as a special method (`__init__`,
/// `__getattr__`), as CPython's slot wrappers do: a function gets `o` as
/// its first argument; a property or member is bound through its
/// descriptor first; anything else (a bound method, a class) is called with
/// `args` alone.
pub(crate) fn call_special(heap: &Heap, f: ObjRef, o: ObjRef, args: &[ObjRef]) -> Result<ObjRef> {
    match f.ty().kind {
        Kind::Function => with_self(o, args, |a| call_raw(heap, f, a)),
        Kind::Property | Kind::Member => {
            let bound = lookup::descriptor_get(heap, f, o)?;
            let r = call_raw(heap, bound, args);
            bound.decref();
            r
        }
        _ => call_raw(heap, f, args),
    }
}

/// Calls the function `f` of `o`'s class with `o` as its first argument.
pub(crate) fn call_with_self(heap: &Heap, f: ObjRef, o: ObjRef, args: &[ObjRef]) -> Result<ObjRef> {
    with_self(o, args, |a| call_raw(heap, f, a))
}

/// Runs `f` with the raw handles of `args`, objects of `heap` (their
/// brand says so; asserted in debug builds), with no allocation for up to
/// 8 arguments.
pub(crate) fn with_own_args<'h, R>(
    heap: &Heap,
    args: &[&Obj<'h>],
    f: impl FnOnce(&[ObjRef]) -> Result<R>,
) -> Result<R> {
    debug_assert!(args.iter().all(|a| heap.owns(a.raw())));
    with_handles(args.len(), args.iter().map(|a| a.raw()), f)
}

/// `o.name(*args)` without a bound method when `name` is a plain function
/// on the class (and not shadowed by an instance attribute).
pub(crate) fn call_method(heap: &Heap, o: ObjRef, name: ObjRef, args: &[ObjRef]) -> Result<ObjRef> {
    if o.ty().kind != Kind::Type {
        if let Some(f) =
            lookup::lookup_in_mro(o.ty(), name).filter(|f| f.ty().kind == Kind::Function)
        {
            if instance::get(o, name).is_none() || !instance::has_dict(o) {
                return call_with_self(heap, f, o, args);
            }
        }
    }
    let callable = lookup::getattr(heap, o, name)?;
    let r = call_raw(heap, callable, args);
    callable.decref();
    r
}

impl<'h> Obj<'h> {
    /// A new instance of this class, without calling `__init__` (its slots
    /// unset, its `__dict__` empty).
    pub fn new_instance(&self) -> Result<Obj<'h>> {
        let t = self.raw();
        let ty = match t.ty().kind {
            // SAFETY: matched on the kind; `self` holds the type.
            Kind::Type => unsafe { as_type(t) },
            _ => t.ty(),
        };
        if t.ty().kind != Kind::Type || ty.kind != Kind::Object {
            return Err(Error::type_error(format!(
                "cannot create instances of '{}'",
                ty.name_str()
            )));
        }
        // SAFETY: `t` is a live type (held by `self`), of plain instances
        // (checked above), `layout.size` bytes each.
        Ok(unsafe { self.heap().alloc_object(t, ty.layout.size)? }.into_obj())
    }

    /// `self(*args)`.
    pub fn call(&self, args: &[&Obj<'h>]) -> Result<Obj<'h>> {
        let heap = self.heap();
        with_own_args(heap, args, |args| call_raw(heap, self.raw(), args)).map(ObjRef::into_obj)
    }

    /// Calls the method `name` of `self` with `args` (`self` is passed
    /// first), without making a bound method object. Interns nothing.
    pub fn call_method(&self, name: &str, args: &[&Obj<'h>]) -> Result<Obj<'h>> {
        let heap = self.heap();
        with_own_args(heap, args, |args| {
            lookup::with_lookup_name(heap, name, |name| call_method(heap, self.raw(), name, args))
        })
        .map(ObjRef::into_obj)
    }

    /// [`Obj::call_method`] with a str object as the name.
    pub fn call_method_obj(&self, name: &Obj<'h>, args: &[&Obj<'h>]) -> Result<Obj<'h>> {
        let heap = self.heap();
        debug_assert!(heap.owns(name.raw()));
        let name = lookup::lookup_name(heap, name.raw())?;
        with_own_args(heap, args, |args| {
            lookup::cache::call_method_shared(heap, self.raw(), name, args)
        })
        .map(ObjRef::into_obj)
    }
}
