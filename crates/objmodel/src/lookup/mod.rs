//! Attribute lookup, as CPython's `PyObject_GenericGetAttr` and
//! `type_getattro` do it, with the method cache.
//!
//! On an instance, `getattr(o, name)` answers with the first of:
//!
//! 1. a data descriptor (property, slot member) found on `type(o)`'s MRO;
//! 2. `name` in the instance's `__dict__`;
//! 3. a function on the MRO, bound to `o` (a new bound method);
//! 4. any other attribute found on the MRO;
//! 5. `type(o).__getattr__(o, name)`, if the class has one;
//! 6. else `AttributeError: 'B' object has no attribute 'name'`.
//!
//! On a type, the type's own MRO is searched and functions come back
//! unbound; `__name__`, `__bases__`, `__mro__`, `__dict__` and `__class__`
//! answer as in Python.
//!
//! The MRO walk is cached per `(type version, name)` in the heap's method
//! cache: a warm lookup costs the same for a 10-deep hierarchy as for a
//! 1-deep one. Changing a class's namespace gives it and all its subclasses
//! new versions, so stale entries are never hit.
//!
//! Names: a store interns its name ([`intern_name`]); a lookup does not
//! ([`lookup_name`]), so that failed lookups of ever new names leave the
//! heap as it was. A lookup name that is not interned has no interned
//! equal, so it can be in no class namespace or shape, only in a dict-mode
//! instance `__dict__` the host filled (dicts compare str keys by text);
//! such names skip the method cache.

pub(crate) mod cache;
pub(crate) mod mro;

use core::sync::atomic::{AtomicU64, Ordering};

use crate::call;
use crate::error::{Error, Result};
use crate::heap::Heap;
use crate::kinds::function;
use crate::kinds::type_object::{Kind, TypeObject, as_type};
use crate::kinds::{containers, instance, str};
use crate::object::{Obj, ObjRef};

/// The last type version handed out, in the whole process: a version names
/// one type with one namespace, whatever its heap, so caches that outlive a
/// type or a heap (a C host's call-site caches) never take another type for
/// it. 64 bits never run out.
static LAST_TYPE_VERSION: AtomicU64 = AtomicU64::new(0);

/// The version of `ty` for the caches, assigning a new one if it has none.
#[inline]
pub(crate) fn version(ty: &TypeObject) -> u64 {
    let v = ty.version.get();
    if v != 0 {
        return v;
    }
    let v = LAST_TYPE_VERSION.fetch_add(1, Ordering::Relaxed) + 1;
    ty.version.set(v);
    v
}

/// Finds `name` (a str, see [`lookup_name`]) on `ty`'s MRO; borrowed.
#[inline]
pub(crate) fn lookup_in_mro(ty: &TypeObject, name: ObjRef) -> Option<ObjRef> {
    // SAFETY: `name` is a str, this function's contract (every caller's
    // name comes from `lookup_name`/`intern_name`, which check the kind, or
    // is interned).
    if !unsafe { str::is_interned(name) } {
        // Not cached: such a name is found on no class (see the module
        // comment) and often short-lived; its entry would only push out
        // useful ones.
        return walk_mro(ty, name);
    }
    let v = version(ty);
    let entry = ty.heap().method_cache_entry(v, name);
    let cached = entry.get();
    if cached.version == v && cached.name == name.addr() {
        return cached.value;
    }
    let value = walk_mro(ty, name);
    entry.set(crate::heap::CacheEntry {
        version: v,
        name: name.addr(),
        value,
    });
    value
}

fn walk_mro(ty: &TypeObject, name: ObjRef) -> Option<ObjRef> {
    // SAFETY: a type's namespace is a dict, which the type holds.
    ty.mro_types()
        .find_map(|t| unsafe { containers::dict_get(t.dict, name) })
}

/// Gives `ty` and every subclass a new version (their namespaces, as seen
/// through the MRO, may have changed).
pub(crate) fn invalidate(ty: &TypeObject) {
    let mut stack = vec![ty.as_ref()];
    while let Some(t) = stack.pop() {
        // SAFETY: `ty` and its subclasses are live types (a subclass leaves
        // the set when it is freed).
        let t = unsafe { as_type(t) };
        if t.version.get() != 0 {
            t.version.set(0);
        }
        stack.extend(t.subclasses.borrow().iter().copied());
    }
}

fn is_data_descriptor(d: ObjRef) -> bool {
    matches!(d.ty().kind, Kind::Property | Kind::Member)
}

/// A TypeError for an attribute name that is no str.
fn check_name(name: ObjRef) -> Result<()> {
    if name.ty().kind == Kind::Str {
        Ok(())
    } else {
        Err(Error::type_error(format!(
            "attribute name must be string, not '{}'",
            name.ty().name_str()
        )))
    }
}

/// The interned form of an attribute name to store, or a TypeError for a non-str.
pub(crate) fn intern_name(heap: &Heap, name: ObjRef) -> Result<ObjRef> {
    check_name(name)?;
    // SAFETY: just checked the kind; the caller holds `name`.
    unsafe { str::intern_obj(heap, name) }
}

/// An attribute name to look up or delete (`str::lookup_obj`: interns
/// nothing), or a TypeError for a non-str.
pub(crate) fn lookup_name(heap: &Heap, name: ObjRef) -> Result<ObjRef> {
    check_name(name)?;
    // SAFETY: just checked the kind; the caller holds `name`.
    Ok(unsafe { str::lookup_obj(heap, name) })
}

/// Runs `f` with `text` as a name to look up: its interned str if there is
/// one, else a new str that lives for the call only.
pub(crate) fn with_lookup_name<R>(
    heap: &Heap,
    text: &str,
    f: impl FnOnce(ObjRef) -> Result<R>,
) -> Result<R> {
    if let Some(name) = str::find_interned(heap, text) {
        return f(name);
    }
    let name = str::new_str(heap, text)?;
    let r = f(name);
    name.decref();
    r
}

/// `descr.__get__(o)` for a data descriptor found on `type(o)`.
pub(crate) fn descriptor_get(heap: &Heap, d: ObjRef, o: ObjRef) -> Result<ObjRef> {
    match d.ty().kind {
        // SAFETY: matched on the kind; `d` is on the MRO, kept alive by its class.
        Kind::Property => match unsafe { function::property(d) }.getter {
            Some(g) => call::call_raw(heap, g, &[o]),
            None => Err(Error::attribute("property has no getter")),
        },
        Kind::Member => {
            // SAFETY: matched on the kind; `d` is on the MRO, kept alive by its class.
            let m = unsafe { function::member(d) };
            if !function::member_applies(m, o.ty()) {
                return Err(function::member_misapplied(m, o));
            }
            // SAFETY: the member applies to `o`: its offset is a slot of `o`'s layout.
            match unsafe { *function::slot_cell(o, m.offset).as_ptr() } {
                Some(v) => {
                    v.incref();
                    Ok(v)
                }
                None => Err(instance::no_attribute(o, m.name)),
            }
        }
        _ => unreachable!("not a data descriptor"),
    }
}

/// `getattr(o, name)` with `name` from [`lookup_name`]; a new reference.
pub(crate) fn getattr(heap: &Heap, o: ObjRef, name: ObjRef) -> Result<ObjRef> {
    if o.ty().kind == Kind::Type {
        // SAFETY: just checked the kind; the caller holds `o`.
        return type_getattr(heap, unsafe { as_type(o) }, name);
    }
    let ty = o.ty();
    let r = generic_getattr(heap, o, name);
    match r {
        Err(e) if e.kind() == crate::ErrorKind::Attribute && name != heap.b().names.getattr => {
            match lookup_in_mro(ty, heap.b().names.getattr) {
                Some(hook) => call::call_special(heap, hook, o, &[name]),
                None => Err(e),
            }
        }
        r => r,
    }
}

fn generic_getattr(heap: &Heap, o: ObjRef, name: ObjRef) -> Result<ObjRef> {
    let ty = o.ty();
    let descr = lookup_in_mro(ty, name);
    if let Some(d) = descr.filter(|&d| is_data_descriptor(d)) {
        return descriptor_get(heap, d, o);
    }
    let names = &heap.b().names;
    if name == names.class {
        let t = ty.as_ref();
        t.incref();
        return Ok(t);
    }
    if instance::has_dict(o) {
        if name == names.dict {
            let d = instance::materialize_dict(heap, o)?;
            d.incref();
            return Ok(d);
        }
        if let Some(v) = instance::get(o, name) {
            v.incref();
            return Ok(v);
        }
    }
    match descr {
        Some(d) if d.ty().kind == Kind::Function => function::new_method(heap, d, o),
        Some(d) => {
            d.incref();
            Ok(d)
        }
        None => Err(instance::no_attribute(o, name)),
    }
}

fn type_getattr(heap: &Heap, ty: &TypeObject, name: ObjRef) -> Result<ObjRef> {
    let t = ty.as_ref();
    let names = &heap.b().names;
    let special = if name == names.name {
        Some(ty.name)
    } else if name == names.class {
        Some(t.ty().as_ref())
    } else {
        None
    };
    if let Some(v) = special {
        v.incref();
        return Ok(v);
    }
    if name == names.bases {
        return containers::new_tuple(heap, &ty.bases);
    }
    if name == names.mro {
        return containers::new_tuple(heap, &ty.mro);
    }
    if name == names.dict {
        // A snapshot: changes go through setattr, which keeps the caches right.
        let d = containers::new_dict(heap)?;
        let mut i = 0;
        // SAFETY: a type's namespace is a dict, which the type holds.
        while let Some((k, v)) = unsafe { containers::dict_entry(ty.dict, i) } {
            // SAFETY: `d` is the dict made above.
            unsafe { containers::dict_set(d, k, v) }.inspect_err(|_| d.decref())?;
            i += 1;
        }
        return Ok(d);
    }
    if let Some(v) = lookup_in_mro(ty, name).or_else(|| lookup_in_mro(t.ty(), name)) {
        v.incref();
        return Ok(v);
    }
    Err(Error::attribute(format!(
        "type object '{}' has no attribute '{}'",
        ty.name_str(),
        str::text(name).unwrap_or_default()
    )))
}

/// `setattr(o, name, value)` (`value` None: `delattr`), `name` interned
/// (for `delattr`, from [`lookup_name`] will do).
pub(crate) fn setattr(heap: &Heap, o: ObjRef, name: ObjRef, value: Option<ObjRef>) -> Result<()> {
    if o.ty().kind == Kind::Type {
        // SAFETY: just checked the kind; the caller holds `o`.
        return type_setattr(heap, unsafe { as_type(o) }, name, value);
    }
    let ty = o.ty();
    if let Some(d) = lookup_in_mro(ty, name).filter(|&d| is_data_descriptor(d)) {
        return descriptor_set(heap, d, o, value);
    }
    let names = &heap.b().names;
    if name == names.class || name == names.dict {
        return Err(Error::type_error(format!(
            "cannot set '{}' on '{}' objects",
            str::text(name).unwrap_or_default(),
            ty.name_str()
        )));
    }
    if ty.kind != Kind::Object || !instance::has_dict(o) {
        // CPython: a name the class has, on an instance without a __dict__,
        // cannot be shadowed (set or deleted) on the instance.
        if lookup_in_mro(ty, name).is_some() {
            return Err(Error::attribute(format!(
                "'{}' object attribute '{}' is read-only",
                ty.name_str(),
                str::text(name).unwrap_or_default()
            )));
        }
        return Err(instance::no_attribute(o, name));
    }
    match value {
        Some(v) => instance::set(heap, o, name, v),
        None => {
            if instance::del(heap, o, name)? {
                Ok(())
            } else {
                Err(instance::no_attribute(o, name))
            }
        }
    }
}

fn descriptor_set(heap: &Heap, d: ObjRef, o: ObjRef, value: Option<ObjRef>) -> Result<()> {
    match d.ty().kind {
        Kind::Property => {
            // SAFETY: matched on the kind; `d` is on the MRO, kept alive by
            // its class (and the setter call below holds a count on itself).
            let p = unsafe { function::property(d) };
            // Named as CPython 3.11 names it: by `__set_name__`, which objrt
            // runs when a property is first stored in a class (see type_setattr).
            let named = match p.name.get() {
                Some(n) => format!("property '{}'", str::text(n).unwrap_or_default()),
                None => "property".to_owned(),
            };
            match (value, p.setter) {
                (Some(v), Some(setter)) => {
                    call::call_raw(heap, setter, &[o, v]).map(ObjRef::decref)
                }
                (Some(_), None) => Err(Error::attribute(format!(
                    "{named} of '{}' object has no setter",
                    o.ty().name_str()
                ))),
                (None, _) => Err(Error::attribute(format!(
                    "{named} of '{}' object has no deleter",
                    o.ty().name_str()
                ))),
            }
        }
        Kind::Member => {
            // SAFETY: matched on the kind; `d` is on the MRO, kept alive by its class.
            let m = unsafe { function::member(d) };
            if !function::member_applies(m, o.ty()) {
                return Err(function::member_misapplied(m, o));
            }
            let cell = function::slot_cell(o, m.offset).as_ptr();
            if let Some(v) = value {
                v.incref();
            }
            // SAFETY: the member's offset is a slot of `o`'s layout.
            let old = unsafe { cell.replace(value) };
            match (old, value) {
                (Some(old), _) => {
                    old.decref();
                    Ok(())
                }
                (None, Some(_)) => Ok(()),
                (None, None) => Err(Error::attribute(
                    str::text(m.name).unwrap_or_default().to_owned(),
                )),
            }
        }
        _ => unreachable!("not a data descriptor"),
    }
}

fn type_setattr(heap: &Heap, ty: &TypeObject, name: ObjRef, value: Option<ObjRef>) -> Result<()> {
    if ty.immutable {
        let verb = if value.is_some() { "set" } else { "delete" };
        return Err(Error::type_error(format!(
            "cannot {verb} '{}' attribute of immutable type '{}'",
            str::text(name).unwrap_or_default(),
            ty.name_str()
        )));
    }
    let names = &heap.b().names;
    if [names.name, names.bases, names.mro, names.dict, names.class].contains(&name) {
        return Err(Error::attribute(format!(
            "readonly attribute '{}' of type objects",
            str::text(name).unwrap_or_default()
        )));
    }
    let result = match value {
        Some(v) => {
            // `__set_name__`: a property learns the name it is first stored
            // under (objrt's classes are filled by setattr, not a class body).
            if v.ty().kind == Kind::Property {
                // SAFETY: just checked the kind; the caller holds `v`.
                let p = unsafe { function::property(v) };
                if p.name.get().is_none() {
                    p.name.set(Some(name));
                }
            }
            // SAFETY: a type's namespace is a dict, which the type holds.
            unsafe { containers::dict_set(ty.dict, name, v) }
        }
        None => {
            // SAFETY: as above.
            if unsafe { containers::dict_del(ty.dict, name) } {
                Ok(())
            } else {
                Err(Error::attribute(format!(
                    "type object '{}' has no attribute '{}'",
                    ty.name_str(),
                    str::text(name).unwrap_or_default()
                )))
            }
        }
    };
    invalidate(ty);
    result
}

// ----- the safe API ------------------------------------------------------------

impl<'h> Obj<'h> {
    fn interned(&self, name: &str) -> Result<ObjRef> {
        str::intern(self.heap(), name)
    }

    /// `getattr(self, name)`. Interns nothing: a failed lookup leaves the
    /// heap as it was.
    pub fn getattr(&self, name: &str) -> Result<Obj<'h>> {
        let heap = self.heap();
        with_lookup_name(heap, name, |name| {
            cache::getattr_shared(heap, self.raw(), name)
        })
        .map(ObjRef::into_obj)
    }

    /// `getattr(self, name)` with a str object as the name (passed as it is
    /// to `__getattr__` when it is not interned).
    pub fn getattr_obj(&self, name: &Obj<'h>) -> Result<Obj<'h>> {
        let heap = self.heap();
        debug_assert!(heap.owns(name.raw()));
        Ok(cache::getattr_shared(heap, self.raw(), lookup_name(heap, name.raw())?)?.into_obj())
    }

    /// `setattr(self, name, value)`.
    pub fn setattr(&self, name: &str, value: &Obj<'h>) -> Result<()> {
        let heap = self.heap();
        debug_assert!(heap.owns(value.raw()));
        cache::setattr_shared(heap, self.raw(), self.interned(name)?, value.raw())
    }

    /// `setattr(self, name, value)` with a str object as the name.
    pub fn setattr_obj(&self, name: &Obj<'h>, value: &Obj<'h>) -> Result<()> {
        let heap = self.heap();
        debug_assert!(heap.owns(name.raw()));
        debug_assert!(heap.owns(value.raw()));
        cache::setattr_shared(
            heap,
            self.raw(),
            intern_name(heap, name.raw())?,
            value.raw(),
        )
    }

    /// `delattr(self, name)`. Interns nothing.
    pub fn delattr(&self, name: &str) -> Result<()> {
        let heap = self.heap();
        with_lookup_name(heap, name, |name| setattr(heap, self.raw(), name, None))
    }

    /// `delattr(self, name)` with a str object as the name.
    pub fn delattr_obj(&self, name: &Obj<'h>) -> Result<()> {
        let heap = self.heap();
        debug_assert!(heap.owns(name.raw()));
        setattr(heap, self.raw(), lookup_name(heap, name.raw())?, None)
    }

    /// `type(self)`.
    pub fn type_of(&self) -> Obj<'h> {
        self.raw().ty().as_ref().new_obj()
    }

    /// `isinstance(self, ty)`.
    pub fn is_instance(&self, ty: &Obj<'h>) -> Result<bool> {
        let t = ty.raw();
        if t.ty().kind != Kind::Type {
            return Err(Error::type_error("isinstance() arg 2 must be a type"));
        }
        Ok(self.raw().ty().is_subtype(t))
    }
}
