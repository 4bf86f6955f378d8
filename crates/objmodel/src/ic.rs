//! Inline caches: `getattr` with a per-call-site memory of the last type
//! seen, for interpreters built on this crate (V8-style monomorphic access).
//!
//! A call site keeps one [`AttrCache`] for one attribute name. The first
//! lookup runs the full algorithm of `attr.rs` and records how the answer was
//! found for that type (and, for `__dict__` attributes, that shape):
//!
//! | found as                        | the next hit costs                      |
//! |---------------------------------|-----------------------------------------|
//! | instance attribute (shape mode) | type + version + shape check, one load |
//! | slot                            | type + version check, one load         |
//! | class attribute                 | type + version + shape check           |
//! | method                          | type + version + shape check, and the bound method's allocation |
//!
//! A hit is valid because the recorded type's version is unchanged (no class
//! on its MRO was modified, so no descriptor appeared or vanished) and the
//! instance has the recorded shape (so the attribute is at the recorded
//! index, or, for class attributes, absent from the instance). Anything
//! else — properties, `__getattr__`, dict-mode instances, types — goes the
//! slow way every time.

use crate::error::Result;
use crate::func;
use crate::heap::Heap;
use crate::instance;
use crate::object::{Obj, ObjRef};
use crate::types::{Kind, TypeObject};
use crate::{attr, string};

#[derive(Clone, Copy, Debug, Default)]
enum Hit {
    #[default]
    Empty,
    InstanceValue(usize),
    Slot(usize),
    ClassAttr(ObjRef),
    Method(ObjRef),
}

/// A call site's cache for `getattr` of one name.
#[derive(Debug)]
pub struct AttrCache {
    name: ObjRef,
    ty: *const TypeObject,
    version: u32,
    shape: *const instance::Shape,
    hit: Hit,
}

impl Heap {
    /// A cache for a call site that reads attribute `name`.
    pub fn attr_cache(&self, name: &str) -> Result<AttrCache> {
        Ok(AttrCache {
            name: string::intern(self, name)?,
            ty: core::ptr::null(),
            version: 0,
            shape: core::ptr::null(),
            hit: Hit::Empty,
        })
    }
}

impl<'h> Obj<'h> {
    /// `getattr(self, name)` through a call site's cache (see [`AttrCache`]).
    #[inline]
    pub fn getattr_cached(&self, cache: &mut AttrCache) -> Result<Obj<'h>> {
        let o = self.raw();
        let ty = o.ty();
        if core::ptr::eq(cache.ty, ty) && cache.version == ty.version.get() && cache.version != 0 {
            let shape = instance::current_shape(o);
            let hit = match cache.hit {
                Hit::InstanceValue(i) if shape == cache.shape => Some(instance::value_at(o, i)),
                Hit::Slot(offset) => {
                    // SAFETY: the type (same version) has a slot at `offset`.
                    unsafe { *func::slot_cell(o, offset).as_ptr() }
                }
                Hit::ClassAttr(v) if shape == cache.shape => Some(v),
                Hit::Method(f) if shape == cache.shape => {
                    return Ok(func::new_method(ty.heap(), f, o)?.into_obj());
                }
                _ => None,
            };
            if let Some(v) = hit {
                return Ok(v.new_obj());
            }
        }
        self.getattr_slow(cache)
    }

    #[cold]
    fn getattr_slow(&self, cache: &mut AttrCache) -> Result<Obj<'h>> {
        let o = self.raw();
        let heap = self.heap();
        let value = attr::getattr(heap, o, cache.name)?.into_obj();
        fill(cache, o);
        Ok(value)
    }
}

/// Records how `cache.name` is found on `o`, if it is a cacheable way.
fn fill(cache: &mut AttrCache, o: ObjRef) {
    let ty = o.ty();
    cache.hit = Hit::Empty;
    if ty.kind != Kind::Object {
        return;
    }
    let descr = attr::lookup_in_mro(ty, cache.name);
    let version = ty.version.get(); // assigned by the lookup
    let shape = instance::current_shape(o);
    let has_dict = instance::has_dict(o);
    if has_dict && shape.is_null() {
        return; // dict mode
    }
    let hit = match descr.map(|d| d.ty().kind) {
        Some(Kind::Member) => {
            let m = func::member(descr.expect("matched"));
            if !func::member_applies(m, ty) {
                return; // the generic path raises the TypeError
            }
            Hit::Slot(m.offset)
        }
        Some(Kind::Property) => return,
        _ => {
            // SAFETY: a non-null shape pointer is a live shape of the class.
            let index = (has_dict)
                .then(|| unsafe { &*shape }.index_of(cache.name))
                .flatten();
            match (index, descr) {
                (Some(i), _) => Hit::InstanceValue(i),
                (None, Some(d)) if d.ty().kind == Kind::Function => Hit::Method(d),
                (None, Some(d)) => Hit::ClassAttr(d),
                (None, None) => return, // __getattr__ answered
            }
        }
    };
    cache.ty = ty;
    cache.version = version;
    cache.shape = shape;
    cache.hit = hit;
}
