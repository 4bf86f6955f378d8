//! Callables and descriptors: host functions, bound methods, properties and
//! slot members.
//!
//! ```text
//!  function  | header | name | callee: a boxed Rust closure, or an  |
//!            |        |      | extern "C" function and its data     |
//!  method    | header | func | self |         (a function bound to an instance)
//!  property  | header | getter or null | setter or null | name or null |
//!  member    | header | name | owner's name | offset |   (a slot: a load at `offset`)
//! ```
//!
//! A function stored in a class is a method: reached through an instance it
//! is bound (`method`), reached through the class it is returned as is.
//! Properties and members are data descriptors: they take precedence over
//! the instance `__dict__`.

use core::ptr::NonNull;

use crate::error::{Error, Result};
use crate::heap::Heap;
use crate::kinds::str;
use crate::kinds::type_object::Kind;
use crate::object::{Obj, ObjHeader, ObjRef};

/// A host function: receives the heap and the arguments (`self` first for
/// a method), returns a new reference or an error.
pub type NativeFn = dyn for<'h> Fn(&'h Heap<'h>, &[Obj<'h>]) -> Result<Obj<'h>>;

/// A host function with C's calling convention, called without a Rust
/// closure in between ([`abi::extern_function`](crate::abi::extern_function)):
/// `call(data, args, nargs, result)` gets the arguments as `nargs` object
/// pointers (`self` first for a method), valid for the call, and returns 0
/// with a new reference in `*result`, or a non-zero status.
#[derive(Clone, Copy, Debug)]
pub struct ExternFn {
    /// The function.
    pub call: ExternCall,
    /// Passed to `call` as is.
    pub data: *mut core::ffi::c_void,
    /// How its failures become errors.
    pub errors: &'static ExternErrors,
}

/// How the failures of [`ExternFn`]s become errors: the caller's own rules
/// (objffi's statuses and its last-error message).
#[derive(Debug)]
pub struct ExternErrors {
    /// Read before each call and passed to `error` (objffi: the serial
    /// number of the thread's last error, to tell whether the function set
    /// a message of its own).
    pub mark: fn() -> u64,
    /// The error of a call of the function named `name` that returned
    /// `status`, or 0 without a result; `mark` as read before the call.
    pub error: fn(status: i32, mark: u64, name: &str) -> Error,
}

/// The C signature of an [`ExternFn`]: `(data, args, nargs, result) -> status`.
pub type ExternCall = unsafe extern "C" fn(
    data: *mut core::ffi::c_void,
    args: *const NonNull<u8>,
    nargs: usize,
    result: *mut *mut u8,
) -> i32;

/// What a function object calls.
pub(crate) enum Callee {
    Native(Box<NativeFn>),
    Extern(ExternFn),
}

#[repr(C)]
pub(crate) struct FunctionObj {
    header: ObjHeader,
    pub(crate) name: ObjRef,
    pub(crate) callee: Callee,
}

impl FunctionObj {
    /// Calls the function with `args` (held by the caller): a new reference.
    #[inline]
    pub(crate) fn call<'h>(&self, heap: &'h Heap<'h>, args: &[ObjRef]) -> Result<ObjRef> {
        match &self.callee {
            Callee::Native(f) => f(heap, as_objs(args)).map(Obj::into_raw),
            Callee::Extern(f) => {
                let mark = (f.errors.mark)();
                let mut result = core::ptr::null_mut();
                // SAFETY: `ObjRef` is a `repr(transparent)` `NonNull`, so
                // `args` is `args.len()` object pointers, live for the call
                // (the caller holds them); `result` is valid for one write.
                // That the function may be called so is its maker's promise
                // (`abi::extern_function`).
                let status =
                    unsafe { (f.call)(f.data, args.as_ptr().cast(), args.len(), &mut result) };
                match NonNull::new(result) {
                    Some(r) if status == 0 => {
                        // C code can return any heap's object: the one
                        // run-time check of a result (`heap.rs`, the brand).
                        let r = ObjRef(r.cast());
                        heap.check_own(r).inspect_err(|_| r.decref())?;
                        Ok(r)
                    }
                    // SAFETY: a function's name is an interned str.
                    _ => Err((f.errors.error)(status, mark, unsafe {
                        str::as_str(self.name)
                    })),
                }
            }
        }
    }
}

#[repr(C)]
pub(crate) struct MethodObj {
    header: ObjHeader,
    pub(crate) func: ObjRef,
    pub(crate) self_: ObjRef,
}

#[repr(C)]
pub(crate) struct PropertyObj {
    header: ObjHeader,
    pub(crate) getter: Option<ObjRef>,
    pub(crate) setter: Option<ObjRef>,
    /// The name it was first stored under in a class (CPython's
    /// `__set_name__`), for error messages; interned.
    pub(crate) name: core::cell::Cell<Option<ObjRef>>,
}

#[repr(C)]
pub(crate) struct MemberObj {
    header: ObjHeader,
    pub(crate) name: ObjRef,
    pub(crate) owner_name: ObjRef,
    /// The serial number of the class that declared the slot (see
    /// `TypeObject::serial`): the member applies only to its instances.
    pub(crate) owner_serial: u64,
    pub(crate) offset: usize,
}

/// The function behind `o`.
///
/// # Safety
/// `o` is a live function, and the reference is used only while it stays
/// alive (the caller holds a count on it, or on what holds it).
#[inline]
pub(crate) unsafe fn function(o: ObjRef) -> &'static FunctionObj {
    debug_assert_eq!(o.ty().kind, Kind::Function);
    // SAFETY: a function object starts with a `FunctionObj` (the caller's
    // promise), alive while the caller uses it.
    unsafe { o.cast::<FunctionObj>().as_ref() }
}

/// The bound method behind `o`.
///
/// # Safety
/// `o` is a live method; as for [`function`].
#[inline]
pub(crate) unsafe fn method(o: ObjRef) -> &'static MethodObj {
    debug_assert_eq!(o.ty().kind, Kind::Method);
    // SAFETY: a method object starts with a `MethodObj` (the caller's
    // promise), alive while the caller uses it.
    unsafe { o.cast::<MethodObj>().as_ref() }
}

/// The property behind `o`.
///
/// # Safety
/// `o` is a live property; as for [`function`].
#[inline]
pub(crate) unsafe fn property(o: ObjRef) -> &'static PropertyObj {
    debug_assert_eq!(o.ty().kind, Kind::Property);
    // SAFETY: a property object starts with a `PropertyObj` (the caller's
    // promise), alive while the caller uses it.
    unsafe { o.cast::<PropertyObj>().as_ref() }
}

/// The member descriptor behind `o`.
///
/// # Safety
/// `o` is a live member; as for [`function`].
#[inline]
pub(crate) unsafe fn member(o: ObjRef) -> &'static MemberObj {
    debug_assert_eq!(o.ty().kind, Kind::Member);
    // SAFETY: a member object starts with a `MemberObj` (the caller's
    // promise), alive while the caller uses it.
    unsafe { o.cast::<MemberObj>().as_ref() }
}

/// Drops a function's callee (no counts: its name is interned).
///
/// # Safety
/// `o` is a function never used again.
pub(crate) unsafe fn drop_function_fields(o: ObjRef) {
    // SAFETY: the callee is dropped once.
    unsafe { core::ptr::drop_in_place(&raw mut (*o.cast::<FunctionObj>().as_ptr()).callee) };
}

/// Releases what a dead method, property or member holds.
pub(crate) fn clear(o: ObjRef) {
    match o.ty().kind {
        Kind::Method => {
            // SAFETY: the kind says so; `o` is alive until freed after this.
            let m = unsafe { method(o) };
            m.func.decref();
            m.self_.decref();
        }
        Kind::Property => {
            // SAFETY: the kind says so; `o` is alive until freed after this.
            let p = unsafe { property(o) };
            p.getter
                .into_iter()
                .chain(p.setter)
                .for_each(ObjRef::decref);
        }
        _ => {} // members hold interned (immortal) names only
    }
}

pub(crate) fn new_function(heap: &Heap, name: &str, callee: Callee) -> Result<ObjRef> {
    let name = str::intern(heap, name)?;
    // SAFETY: the built-in function type, and a function's size.
    let o = unsafe { heap.alloc_object(heap.b().function, size_of::<FunctionObj>())? };
    // SAFETY: a fresh function object; each field written once.
    unsafe {
        let f = o.cast::<FunctionObj>().as_ptr();
        (&raw mut (*f).name).write(name);
        (&raw mut (*f).callee).write(callee);
    }
    heap.register_owner(o);
    Ok(o)
}

/// `func` bound to `self_` (both gain a count).
pub(crate) fn new_method(heap: &Heap, func: ObjRef, self_: ObjRef) -> Result<ObjRef> {
    // SAFETY: the built-in method type, and a method's size.
    let o = unsafe { heap.alloc_object(heap.b().method, size_of::<MethodObj>())? };
    func.incref();
    self_.incref();
    // SAFETY: a fresh method object.
    unsafe {
        let m = o.cast::<MethodObj>().as_ptr();
        (*m).func = func;
        (*m).self_ = self_;
    }
    Ok(o)
}

pub(crate) fn new_member(
    heap: &Heap,
    name: ObjRef,
    owner: &crate::kinds::type_object::TypeObject,
    offset: usize,
) -> Result<ObjRef> {
    // SAFETY: the built-in member type, and a member's size.
    let o = unsafe { heap.alloc_object(heap.b().member, size_of::<MemberObj>())? };
    // SAFETY: a fresh member object.
    unsafe {
        let m = o.cast::<MemberObj>().as_ptr();
        (*m).name = name;
        (*m).owner_name = owner.name;
        (*m).owner_serial = owner.serial;
        (*m).offset = offset;
    }
    Ok(o)
}

/// Whether member `m` describes a slot of instances of `ty` (its class or
/// a subclass). A member taken from its class and stored in another must
/// not touch that class's instances: their layout has no such slot.
pub(crate) fn member_applies(m: &MemberObj, ty: &crate::kinds::type_object::TypeObject) -> bool {
    ty.mro_types().any(|t| t.serial == m.owner_serial)
}

/// `m.__get__`/`__set__` on an object it does not apply to (CPython's words).
pub(crate) fn member_misapplied(m: &MemberObj, o: ObjRef) -> crate::Error {
    crate::Error::type_error(format!(
        "descriptor '{}' for '{}' objects doesn't apply to a '{}' object",
        str::text(m.name).unwrap_or_default(),
        str::text(m.owner_name).unwrap_or_default(),
        o.ty().name_str()
    ))
}

/// The slot cell a member describes in instance `o`.
pub(crate) fn slot_cell(o: ObjRef, offset: usize) -> NonNull<Option<ObjRef>> {
    // SAFETY: members are only applied to instances of their class (or a
    // subclass), whose layout has the slot at `offset`.
    unsafe { NonNull::new_unchecked(o.cast::<u8>().as_ptr().add(offset).cast()) }
}

impl<'h> Heap<'h> {
    /// A host function.
    pub fn function<F>(&self, name: &str, f: F) -> Result<Obj<'h>>
    where
        F: for<'a> Fn(&'a Heap<'a>, &[Obj<'a>]) -> Result<Obj<'a>> + 'static,
    {
        Ok(new_function(self, name, Callee::Native(Box::new(f)))?.into_obj())
    }

    /// A host function with C's calling convention (see [`ExternFn`]),
    /// called directly, with no closure in between: what objffi makes of
    /// `obj_function_new`.
    ///
    /// # Safety
    /// `f.call` may be called with `f.data` and arguments as [`ExternFn`]
    /// says, from any call of the function, for as long as the function
    /// object lives; what it writes to `*result` when it returns 0 is a
    /// new reference to a live object (of any heap: the call checks).
    pub(crate) unsafe fn extern_function(&self, name: &str, f: ExternFn) -> Result<Obj<'h>> {
        Ok(new_function(self, name, Callee::Extern(f))?.into_obj())
    }

    /// A property with a getter and an optional setter (both callables).
    pub fn property(&self, getter: &Obj<'h>, setter: Option<&Obj<'h>>) -> Result<Obj<'h>> {
        debug_assert!(self.owns(getter.raw()));
        if let Some(s) = setter {
            debug_assert!(self.owns(s.raw()));
        }
        // SAFETY: the built-in property type, and a property's size.
        let o = unsafe { self.alloc_object(self.b().property, size_of::<PropertyObj>())? };
        // SAFETY: a fresh property object.
        unsafe {
            let p = o.cast::<PropertyObj>().as_ptr();
            (*p).getter = Some(getter.clone().into_raw());
            (*p).setter = setter.map(|s| s.clone().into_raw());
        }
        Ok(o.into_obj())
    }
}

/// Views raw handles as counted ones for a call (no count changes: the
/// slice is borrowed for the call only).
pub(crate) fn as_objs<'h>(args: &[ObjRef]) -> &[Obj<'h>] {
    // SAFETY: `Obj` is `repr(transparent)` over `ObjRef` (its other field is
    // zero-sized), and a shared slice never runs `Drop`.
    unsafe { core::slice::from_raw_parts(args.as_ptr().cast::<Obj<'h>>(), args.len()) }
}

pub(crate) fn not_callable(o: ObjRef) -> Error {
    Error::type_error(format!("'{}' object is not callable", o.ty().name_str()))
}
