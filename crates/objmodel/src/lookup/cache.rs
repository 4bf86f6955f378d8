//! Call-site caches: `getattr`, `setattr` and method calls that remember,
//! per call site, how the last lookup went (V8-style monomorphic access),
//! for interpreters built on this crate and for the C ABI's
//! `obj_attr_cache_t`.
//!
//! A call site keeps one [`SiteCache`] (four words, the C struct's layout,
//! in [`crate::abi`] with the lookups through it; [`AttrCache`] adds the
//! name for Rust users). Lookups without a site of
//! their own (`getattr`, `setattr` and method calls on an instance, with
//! an interned name) share the heap's table of them (`Heap::attr_site`),
//! chosen by type version, name, shape and read-or-store, so that each key
//! has one answer and a repeated uncached lookup costs a hash and a hit. A
//! cache is kept in a `Cell`: read before a lookup and written after it,
//! never borrowed across the host code a lookup may run, which may use the
//! same cache. A lookup that misses runs the full algorithm of `lookup/mod.rs`
//! and records how the answer was found:
//!
//! | found as                        | the next hit costs                      |
//! |---------------------------------|-----------------------------------------|
//! | instance attribute (shape mode) | version + name + shape check, one load  |
//! | slot                            | version + name check, one load          |
//! | class attribute                 | version + name + shape check            |
//! | method                          | version + name + shape check, and the bound method's allocation (none for a call) |
//! | attribute added by a store      | version + name + shape check, one store (and the values array's growth every other key) |
//!
//! ```text
//!   SiteCache (32 bytes)
//!   +---------+-------+------+-------------------------------------+
//!   | version | shape | name | found: payload << 3 | Found tag (3b)|
//!   +---------+-------+------+-------------------------------------+
//!     type       instance    interned   index / slot offset, or the
//!     version    shape       str        class attribute's address, or
//!                (token)                the shape after an addition
//! ```
//!
//! Why a hit is right: type versions are unique in the process
//! (`lookup::version`), so an equal version means the same type with the
//! same namespace along its MRO: no descriptor appeared or vanished, and
//! the recorded class attribute is still in it (the namespace holds its
//! count, so the cache needs none). The name is compared by address, and
//! only an interned str (immortal, so its address names it for the heap's
//! life) is ever recorded; an equal shape token (`instance::shape_token`:
//! within a type, equal tokens are equal shapes)
//! puts the attribute at the recorded index, or says the instance does not
//! shadow the class attribute. Anything else (properties, `__getattr__`,
//! dict-mode instances, types, names that are not interned) goes the slow
//! way every time. A cache holds no counts and never keeps anything alive.

use core::cell::Cell;
use core::ptr::NonNull;

use crate::call;
use crate::error::Result;
use crate::heap::Heap;
use crate::kinds::function;
use crate::kinds::instance;
use crate::kinds::str;
use crate::kinds::type_object::Kind;
use crate::lookup;
use crate::object::{Obj, ObjRef};

/// How a name was found, in the low bits of [`SiteCache::found`] (0: an
/// empty entry).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Found {
    /// An instance attribute at index `payload` of the recorded shape.
    InstanceValue = 1,
    /// A slot at byte offset `payload`.
    Slot = 2,
    /// A class attribute (not a function) at address `payload << 3`.
    ClassAttr = 3,
    /// A function of the class at address `payload << 3`.
    Method = 4,
    /// For a store only: the name is not on the instance yet, and adding it
    /// moves the instance from the recorded shape to the shape at address
    /// `payload << 3` (one key more).
    Added = 5,
    /// An instance attribute held inline, in cell `i` of the attribute
    /// area at `dict_offset` (`payload` = `dict_offset << 1 | i`): the same
    /// cell in every instance of the class that holds more than `i` values
    /// inline (their shapes are prefixes of one another), so no shape is
    /// compared.
    InlineValue = 6,
}

/// The shape of an entry for a class attribute or method that no
/// instance holding its values inline (or none) shadows: any such
/// instance's. No instance has this token (`instance::shape_token` gives
/// 1 to 4, or an area's tagged first word, which is past 16).
const INLINE_SHAPES: u64 = 5;
const _: () = assert!(INLINE_SHAPES as usize != instance::NO_DICT_TOKEN);

const TAG_BITS: u32 = 3;
const TAG_MASK: u64 = (1 << TAG_BITS) - 1;

// What a hit read without calling in needs of an entry (objffi.h's inline
// hits, through `crate::abi`): which of the four words hold the version,
// the shape, the name and how it was found, and the tags of the hits it
// makes (see `Found` for their payloads, and `crate::abi` for the rest).
pub(crate) const VERSION_WORD: usize = core::mem::offset_of!(SiteCache, version) / 8;
pub(crate) const NAME_WORD: usize = core::mem::offset_of!(SiteCache, name) / 8;
pub(crate) const FOUND_WORD: usize = core::mem::offset_of!(SiteCache, found) / 8;
pub(crate) const FOUND_TAG_BITS: u32 = TAG_BITS;
pub(crate) const FOUND_INSTANCE_VALUE: u64 = Found::InstanceValue as u64;
pub(crate) const FOUND_SLOT: u64 = Found::Slot as u64;
pub(crate) const FOUND_INLINE_VALUE: u64 = Found::InlineValue as u64;
pub(crate) const FOUND_CLASS_ATTR: u64 = Found::ClassAttr as u64;
pub(crate) const SHAPE_WORD: usize = core::mem::offset_of!(SiteCache, shape) / 8;
pub(crate) const ANY_INLINE_SHAPE: u64 = INLINE_SHAPES;

/// A call site's cache: four words, zero when empty (the C ABI's
/// `obj_attr_cache_t`). See the module documentation.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SiteCache {
    version: u64,
    shape: u64,
    name: u64,
    found: u64,
}

/// A borrowed answer of a cache hit that needs no allocation.
enum Hit {
    Value(ObjRef),
    Method(ObjRef),
}

impl SiteCache {
    /// An empty cache (all zero, as C's `OBJ_ATTR_CACHE_INIT`).
    pub const EMPTY: SiteCache = SiteCache {
        version: 0,
        shape: 0,
        name: 0,
        found: 0,
    };

    /// How the entry's name was found, if it holds one.
    fn found(&self) -> Option<Found> {
        const INSTANCE_VALUE: u64 = Found::InstanceValue as u64;
        const SLOT: u64 = Found::Slot as u64;
        const CLASS_ATTR: u64 = Found::ClassAttr as u64;
        const METHOD: u64 = Found::Method as u64;
        const ADDED: u64 = Found::Added as u64;
        const INLINE_VALUE: u64 = Found::InlineValue as u64;
        match self.found & TAG_MASK {
            INLINE_VALUE => Some(Found::InlineValue),
            INSTANCE_VALUE => Some(Found::InstanceValue),
            SLOT => Some(Found::Slot),
            CLASS_ATTR => Some(Found::ClassAttr),
            METHOD => Some(Found::Method),
            ADDED => Some(Found::Added),
            _ => None,
        }
    }

    fn payload(&self) -> usize {
        (self.found >> TAG_BITS) as usize
    }

    /// The address the payload records (exposed by [`address_payload`]).
    fn object_ptr(&self) -> *mut u8 {
        core::ptr::with_exposed_provenance_mut((self.found & !TAG_MASK) as usize)
    }

    fn object(&self) -> ObjRef {
        // SAFETY (of the address): recorded from a live object, which the
        // type's namespace keeps alive while the version matches.
        ObjRef(NonNull::new(self.object_ptr().cast()).expect("a recorded address"))
    }

    /// The cell of an `InlineValue` entry on `o`, if `o` holds it inline.
    #[inline]
    fn inline_cell(&self, o: ObjRef) -> Option<*mut ObjRef> {
        let payload = self.payload();
        instance::inline_cell(o, payload >> 1, payload & 1)
    }

    /// Whether the entry is for `o`'s type as it is now and for `name`.
    #[inline]
    fn matches(&self, o: ObjRef, name: ObjRef) -> bool {
        // An entry that holds a name was recorded at a version, never 0
        // (`lookup::version`), and an empty entry holds no name: a type
        // without a version (0) matches nothing.
        o.ty().version.get() == self.version && name.addr() as u64 == self.name
    }

    #[inline]
    fn shape_matches(&self, o: ObjRef) -> bool {
        // Called once `matches` found the entry made for `o`'s type as it
        // is now: its token names one of the type's shapes, or any shape
        // of an instance that holds its values inline (`INLINE_SHAPES`).
        if self.shape == INLINE_SHAPES {
            instance::holds_inline_or_nothing(o)
        } else {
            instance::shape_token(o) == self.shape as usize
        }
    }

    /// On a hit for storing `name` on `o` (an instance value, a slot, or
    /// a value to add), stores `value` (counted) and drops the value the
    /// cell held (which may run its `__del__`), or fails as the full path
    /// would (adding, with no memory for a larger values array; the
    /// instance is as it was); `None`, having done nothing, on a miss.
    #[inline]
    fn store(&self, o: ObjRef, name: ObjRef, value: ObjRef) -> Option<Result<()>> {
        if !self.matches(o, name) {
            return None;
        }
        let old = match self.found() {
            Some(Found::InlineValue) => {
                let cell = self.inline_cell(o)?;
                value.incref();
                // SAFETY: a cell that holds a value.
                Some(unsafe { cell.replace(value) })
            }
            Some(Found::InstanceValue) => {
                let cell = instance::cell_in_shape(o, self.shape as usize, self.payload())?;
                value.incref();
                // SAFETY: a cell of the values of `o`'s shape: set.
                Some(unsafe { cell.replace(value) })
            }
            Some(Found::Slot) => {
                value.incref();
                // SAFETY: the type (same version) has a slot at this offset.
                unsafe {
                    function::slot_cell(o, self.payload())
                        .as_ptr()
                        .replace(Some(value))
                }
            }
            Some(Found::Added) if self.shape_matches(o) => {
                // SAFETY: recorded from a child shape of the class, which
                // lives as long as the class (same version: still alive).
                let child = unsafe { &*self.object_ptr().cast::<instance::Shape>() };
                let heap = o.ty().heap();
                let n = child.keys.len() - 1;
                return Some(instance::append_value(heap, o, n, child, value));
            }
            _ => return None,
        };
        if let Some(old) = old {
            old.decref();
        }
        Some(Ok(()))
    }

    /// What `getattr(o, name)` finds by this entry, borrowed, if it is a hit.
    #[inline(always)]
    fn hit(&self, o: ObjRef, name: ObjRef) -> Option<Hit> {
        if !self.matches(o, name) {
            return None;
        }
        match self.found()? {
            Found::InlineValue => {
                let cell = self.inline_cell(o)?;
                // SAFETY: a cell that holds a value.
                Some(Hit::Value(unsafe { *cell }))
            }
            Found::InstanceValue => {
                let cell = instance::cell_in_shape(o, self.shape as usize, self.payload())?;
                // SAFETY: a cell of the values of `o`'s shape: set.
                Some(Hit::Value(unsafe { *cell }))
            }
            Found::Slot => {
                // SAFETY: the type (same version) has a slot at this offset.
                unsafe { *function::slot_cell(o, self.payload()).as_ptr() }.map(Hit::Value)
            }
            Found::ClassAttr if self.shape_matches(o) => Some(Hit::Value(self.object())),
            Found::Method if self.shape_matches(o) => Some(Hit::Method(self.object())),
            _ => None,
        }
    }

    /// What `getattr(o, name)` gives (a new reference: the value, or a
    /// new bound method, whose allocation may fail) when this entry
    /// answers it; `None` on a miss.
    ///
    /// # Safety
    /// `o` and `name` are live objects; the caller is inside `o`'s heap.
    #[inline]
    pub unsafe fn getattr_hit(
        &self,
        o: NonNull<u8>,
        name: NonNull<u8>,
    ) -> Option<Result<NonNull<u8>>> {
        let o = ObjRef(o.cast());
        let hit = self.hit(o, ObjRef(name.cast()))?;
        Some(answer(o.ty().heap(), o, hit).map(|v| v.0.cast()))
    }

    /// What `o.name(*args)` gives (a new reference, or the call's error)
    /// when this entry has `name` as a function of `o`'s class, called
    /// without a bound method; `None`, having called nothing, otherwise.
    ///
    /// # Safety
    /// `o`, `name` and each of `args` are live objects of `o`'s heap; the
    /// caller is inside that heap.
    #[inline]
    pub unsafe fn call_method_hit(
        &self,
        o: NonNull<u8>,
        name: NonNull<u8>,
        args: &[NonNull<u8>],
    ) -> Option<Result<NonNull<u8>>> {
        let o = ObjRef(o.cast());
        let Hit::Method(f) = self.hit(o, ObjRef(name.cast()))? else {
            return None;
        };
        let args = ObjRef::from_ptrs(args);
        Some(call::call_with_self(o.ty().heap(), f, o, args).map(|r| r.0.cast()))
    }

    /// Stores `value` as `o.name` when this entry says how (an instance
    /// value, a slot, or a value to add) and `value` belongs to `o`'s heap,
    /// dropping the old value (which may run its `__del__`): the result of
    /// the store (adding may find no memory, as the full path would).
    /// `None`, having done nothing, otherwise.
    ///
    /// # Safety
    /// `o`, `name` and `value` are live objects; the caller is inside `o`'s
    /// heap.
    #[inline]
    pub unsafe fn store_hit(
        &self,
        o: NonNull<u8>,
        name: NonNull<u8>,
        value: NonNull<u8>,
    ) -> Option<Result<()>> {
        let (o, value) = (ObjRef(o.cast()), ObjRef(value.cast()));
        if !core::ptr::eq(value.ty().heap(), o.ty().heap()) {
            return None; // the full path gives the mismatch
        }
        self.store(o, ObjRef(name.cast()), value)
    }

    /// A copy of the entry of the heap's attribute cache that a lookup
    /// (`store`: a store) of `name` on `o` without a call site of its own
    /// uses.
    ///
    /// # Safety
    /// `o` and `name` are live objects; the caller is inside `o`'s heap.
    #[inline]
    pub unsafe fn shared_for(o: NonNull<u8>, name: NonNull<u8>, store: bool) -> SiteCache {
        let o = ObjRef(o.cast());
        shared_site(o.ty().heap(), o, ObjRef(name.cast()), store).get()
    }

    /// The entry recording that storing `name` (interned) on `o` added it,
    /// moving `o` from shape `before` (whose token was `before_token`) to a
    /// child of it, if it did.
    fn added(
        o: ObjRef,
        name: ObjRef,
        (before, before_token): (*const instance::Shape, usize),
    ) -> Option<SiteCache> {
        let after = instance::current_shape(o);
        if before.is_null() || after.is_null() || after == before {
            return None; // dict mode before or after, or nothing added
        }
        // SAFETY: non-null shapes other than the no-dict marker (which
        // would not have changed) are live shapes of `o`'s class.
        let (b, a) = unsafe { (&*before, &*after) };
        if a.keys.len() != b.keys.len() + 1 || a.keys.last() != Some(&name) {
            return None;
        }
        Some(SiteCache {
            version: lookup::version(o.ty()),
            shape: before_token as u64,
            name: name.addr() as u64,
            found: address_payload(after) << TAG_BITS | Found::Added as u64,
        })
    }

    /// The entry recording how `name` (a str, from `lookup::lookup_name`)
    /// is found on `o`: empty if `name` is not interned or not found in a
    /// cacheable way.
    fn filled(o: ObjRef, name: ObjRef) -> SiteCache {
        let empty = SiteCache::EMPTY;
        let ty = o.ty();
        // SAFETY: `name` is a str, as this function's callers promise.
        if ty.kind != Kind::Object || !unsafe { str::is_interned(name) } {
            return empty;
        }
        let descr = lookup::lookup_in_mro(ty, name);
        let shape = instance::current_shape(o);
        let has_dict = instance::has_dict(o);
        if has_dict && shape.is_null() {
            return empty; // dict mode
        }
        let (tag, payload) = match descr.map(|d| d.ty().kind) {
            Some(Kind::Member) => {
                // SAFETY: matched on the kind; the descriptor is on the MRO,
                // kept alive by its class.
                let m = unsafe { function::member(descr.expect("matched")) };
                if !function::member_applies(m, ty) {
                    return empty; // the generic path raises the TypeError
                }
                (Found::Slot, m.offset as u64)
            }
            Some(Kind::Property) => return empty,
            _ => {
                // SAFETY: a non-null shape pointer is a live shape of the class.
                let index = (has_dict)
                    .then(|| unsafe { &*shape }.index_of(name))
                    .flatten();
                match (index, descr) {
                    (Some(i), _) if instance::holds_inline(o) => {
                        let dict_offset = o.ty().layout.dict_offset.expect("values inline");
                        const { assert!(instance::INLINE_VALUES <= 2, "one bit of cell index") };
                        (Found::InlineValue, (dict_offset as u64) << 1 | i as u64)
                    }
                    (Some(i), _) => (Found::InstanceValue, i as u64),
                    (None, Some(d)) if d.ty().kind == Kind::Function => {
                        (Found::Method, address_payload(d.0.as_ptr()))
                    }
                    (None, Some(d)) => (Found::ClassAttr, address_payload(d.0.as_ptr())),
                    (None, None) => return empty, // __getattr__ answered
                }
            }
        };
        let any_inline = matches!(tag, Found::ClassAttr | Found::Method)
            && instance::holds_inline_or_nothing(o)
            && instance::inline_keys_never_include(o, name);
        SiteCache {
            version: lookup::version(ty),
            shape: if any_inline {
                INLINE_SHAPES
            } else {
                instance::shape_token(o) as u64
            },
            name: name.addr() as u64,
            found: payload << TAG_BITS | tag as u64,
        }
    }
}

/// The payload recording the address `p` (8-aligned; exposed:
/// [`SiteCache::object_ptr`] makes it a pointer again).
fn address_payload<T>(p: *const T) -> u64 {
    (p.expose_provenance() as u64) >> TAG_BITS
}

/// A call site's cache for `getattr` of one name, for Rust callers (the
/// name is kept with it).
#[derive(Debug)]
pub struct AttrCache {
    name: ObjRef,
    site: Cell<SiteCache>,
}

impl<'h> Heap<'h> {
    /// A cache for a call site that reads attribute `name`.
    pub fn attr_cache(&self, name: &str) -> Result<AttrCache> {
        Ok(AttrCache {
            name: str::intern(self, name)?,
            site: Cell::new(SiteCache::EMPTY),
        })
    }
}

impl<'h> Obj<'h> {
    /// `getattr(self, name)` through a call site's cache (see [`AttrCache`]).
    #[inline]
    pub fn getattr_cached(&self, cache: &AttrCache) -> Result<Obj<'h>> {
        getattr_site(self.heap(), self.raw(), cache.name, &cache.site).map(ObjRef::into_obj)
    }
}

/// `o.name(*args)` through `cache` (read and written as [`getattr_site`]
/// does): a function of the class it knows is called without a bound
/// method.
#[inline]
pub(crate) fn call_method_via(
    heap: &Heap,
    o: ObjRef,
    name: ObjRef,
    args: &[ObjRef],
    cache: &Cell<SiteCache>,
) -> Result<ObjRef> {
    match cache.get().hit(o, name) {
        Some(Hit::Method(f)) => call::call_with_self(heap, f, o, args),
        _ => call_method_slow(heap, o, name, args, cache),
    }
}

/// `o.name(*args)` through `cache` after a miss: the full path, then the
/// cache filled.
#[cold]
fn call_method_slow(
    heap: &Heap,
    o: ObjRef,
    name: ObjRef,
    args: &[ObjRef],
    cache: &Cell<SiteCache>,
) -> Result<ObjRef> {
    let r = call::call_method(heap, o, lookup::lookup_name(heap, name)?, args)?;
    cache.set(SiteCache::filled(o, name));
    Ok(r)
}

/// `getattr(o, name)` through `cache`; a new reference. The cache is read
/// before and written after the lookup, never borrowed across it: host
/// code the lookup runs may use the same cache.
#[inline]
pub(crate) fn getattr_site(
    heap: &Heap,
    o: ObjRef,
    name: ObjRef,
    cache: &Cell<SiteCache>,
) -> Result<ObjRef> {
    match cache.get().hit(o, name) {
        Some(hit) => answer(heap, o, hit),
        None => getattr_slow(heap, o, name, cache),
    }
}

/// What a hit for `getattr(o, ...)` gives: a new reference.
#[inline]
fn answer(heap: &Heap, o: ObjRef, hit: Hit) -> Result<ObjRef> {
    match hit {
        Hit::Value(v) => {
            v.incref();
            Ok(v)
        }
        Hit::Method(f) => function::new_method(heap, f, o),
    }
}

#[cold]
fn getattr_slow(heap: &Heap, o: ObjRef, name: ObjRef, cache: &Cell<SiteCache>) -> Result<ObjRef> {
    let value = lookup::getattr(heap, o, lookup::lookup_name(heap, name)?)?;
    cache.set(SiteCache::filled(o, name));
    Ok(value)
}

/// `setattr(o, name, value)` through `cache` (read and written as
/// [`getattr_site`] does); `name` is any str.
pub(crate) fn setattr_site(
    heap: &Heap,
    o: ObjRef,
    name: ObjRef,
    value: ObjRef,
    cache: &Cell<SiteCache>,
) -> Result<()> {
    if let Some(stored) = cache.get().store(o, name, value) {
        return stored;
    }
    let interned = lookup::intern_name(heap, name)?;
    let before = (instance::current_shape(o), instance::shape_token(o));
    lookup::setattr(heap, o, interned, Some(value))?;
    if interned == name {
        cache.set(SiteCache::added(o, name, before).unwrap_or_else(|| SiteCache::filled(o, name)));
    }
    Ok(())
}

/// The entry of the heap's attribute cache for a lookup (`store`: a store)
/// of `name` on `o`: chosen by type version, name, shape and `store`, so
/// that the entry of each is fixed by its key (the shape says whether a
/// store replaces or adds, and whether a read finds an instance value).
#[inline]
fn shared_site<'a>(
    heap: &'a Heap<'_>,
    o: ObjRef,
    name: ObjRef,
    store: bool,
) -> &'a Cell<SiteCache> {
    debug_assert!(core::ptr::eq(heap, o.ty().heap()), "`o` is of `heap`");
    let shape = instance::shape_token(o);
    heap.attr_site(o.ty(), name, shape ^ usize::from(store))
}

/// `getattr(o, name)` (`name` from [`lookup::lookup_name`]) through the
/// heap's attribute cache when `o` is an instance and `name` interned:
/// what a lookup without a call site of its own does.
#[inline]
pub(crate) fn getattr_shared(heap: &Heap, o: ObjRef, name: ObjRef) -> Result<ObjRef> {
    // SAFETY: `name` comes from `lookup_name` (this function's contract),
    // which checks it is a str.
    if o.ty().kind == Kind::Object && unsafe { str::is_interned(name) } {
        getattr_site(heap, o, name, shared_site(heap, o, name, false))
    } else {
        lookup::getattr(heap, o, name)
    }
}

/// `o.name(*args)` (`name` from [`lookup::lookup_name`]) through the heap's
/// attribute cache, as [`getattr_shared`].
#[inline]
pub(crate) fn call_method_shared(
    heap: &Heap,
    o: ObjRef,
    name: ObjRef,
    args: &[ObjRef],
) -> Result<ObjRef> {
    // SAFETY: `name` comes from `lookup_name` (this function's contract),
    // which checks it is a str.
    if o.ty().kind != Kind::Object || !unsafe { str::is_interned(name) } {
        return call::call_method(heap, o, name, args);
    }
    call_method_via(heap, o, name, args, shared_site(heap, o, name, false))
}

/// `setattr(o, name, value)` (`name` interned) through the heap's attribute
/// cache when `o` is an instance, as [`getattr_shared`].
#[inline]
pub(crate) fn setattr_shared(heap: &Heap, o: ObjRef, name: ObjRef, value: ObjRef) -> Result<()> {
    if o.ty().kind == Kind::Object {
        setattr_site(heap, o, name, value, shared_site(heap, o, name, true))
    } else {
        lookup::setattr(heap, o, name, Some(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::with_heap;

    #[test]
    fn a_lookup_fills_the_cache_and_the_next_one_hits() {
        with_heap(|heap| {
            let cls = heap.new_type("P", &[], &crate::TypeSpec::dict()).unwrap();
            let f = heap.function("m", |_, args| Ok(args[0].clone())).unwrap();
            cls.setattr("m", &f).unwrap();
            cls.setattr("c", &heap.int(5).unwrap()).unwrap();
            let o = cls.call(&[]).unwrap();
            o.setattr("x", &heap.int(7).unwrap()).unwrap();
            let p = cls.call(&[]).unwrap(); // its values in an array
            for a in ["z", "y", "x"] {
                p.setattr(a, &heap.int(8).unwrap()).unwrap();
            }
            for (o, name, found) in [
                (&o, "x", Found::InlineValue),
                (&p, "x", Found::InstanceValue),
                (&o, "c", Found::ClassAttr),
                (&p, "c", Found::ClassAttr),
                (&o, "m", Found::Method),
            ] {
                let name = heap.intern(name).unwrap();
                let cache = Cell::new(SiteCache::EMPTY);
                let first = crate::abi::getattr_site(o, &name, &cache).unwrap();
                assert_eq!(cache.get().found(), Some(found), "{name:?}");
                let hit = cache.get().hit(o.raw(), name.raw()).expect("a hit");
                let again = crate::abi::getattr_site(o, &name, &cache).unwrap();
                assert_eq!(first.repr().unwrap(), again.repr().unwrap());
                if let Hit::Value(v) = hit {
                    assert_eq!(v, first.raw());
                }
            }
        });
    }

    #[test]
    fn lookups_without_a_site_share_the_heaps_cache_and_see_every_change() {
        with_heap(|heap| {
            let cls = heap.new_type("P", &[], &crate::TypeSpec::dict()).unwrap();
            cls.setattr("c", &heap.int(1).unwrap()).unwrap();
            let o = cls.call(&[]).unwrap();
            let c = heap.intern("c").unwrap();
            let entry = || shared_site(heap, o.raw(), c.raw(), false).get();
            assert_eq!(o.getattr("c").unwrap().as_int(), Some(1));
            assert_eq!(
                entry().found(),
                Some(Found::ClassAttr),
                "filled by the lookup"
            );
            // The class changes: a new version, so the entry no longer answers.
            cls.setattr("c", &heap.int(2).unwrap()).unwrap();
            assert_eq!(o.getattr("c").unwrap().as_int(), Some(2));
            // The instance shadows it: a new shape.
            o.setattr("c", &heap.int(3).unwrap()).unwrap();
            assert_eq!(o.getattr("c").unwrap().as_int(), Some(3));
            assert_eq!(entry().found(), Some(Found::InlineValue));
            // A store through the entry, then a read through it.
            o.setattr("c", &heap.int(4).unwrap()).unwrap();
            assert_eq!(o.getattr("c").unwrap().as_int(), Some(4));
            o.delattr("c").unwrap();
            assert_eq!(o.getattr("c").unwrap().as_int(), Some(2));
        });
    }

    #[test]
    fn adding_an_attribute_is_recorded_and_repeated_from_the_entry() {
        with_heap(|heap| {
            let cls = heap.new_type("P", &[], &crate::TypeSpec::dict()).unwrap();
            let (x, one, two) = (
                heap.intern("x").unwrap(),
                heap.int(1).unwrap(),
                heap.int(2).unwrap(),
            );
            let cache = Cell::new(SiteCache::EMPTY);
            let a = cls.call(&[]).unwrap();
            crate::abi::setattr_site(&a, &x, &one, &cache).unwrap();
            assert_eq!(cache.get().found(), Some(Found::Added));
            // A fresh instance is added to by the entry, into the same shape.
            let b = cls.call(&[]).unwrap();
            let stored = cache.get().store(b.raw(), x.raw(), two.raw());
            assert!(matches!(stored, Some(Ok(()))), "a hit");
            assert_eq!(b.getattr("x").unwrap().as_int(), Some(2));
            let shape = instance::current_shape;
            assert_eq!(shape(a.raw()), shape(b.raw()));
            // `b` has `x` now: its shape moved on, and the entry misses.
            assert!(cache.get().store(b.raw(), x.raw(), one.raw()).is_none());
            assert_eq!(b.getattr("x").unwrap().as_int(), Some(2));
        });
    }

    #[test]
    fn an_entry_for_instances_with_values_inline_sees_the_inline_keys_chosen_later() {
        with_heap(|heap| {
            let cls = heap.new_type("P", &[], &crate::TypeSpec::dict()).unwrap();
            cls.setattr("c", &heap.int(1).unwrap()).unwrap();
            let c = heap.intern("c").unwrap();
            let cache = Cell::new(SiteCache::EMPTY);
            // No instance has values inline yet: the entry answers for
            // every instance that holds its values inline.
            let a = cls.call(&[]).unwrap();
            let first = crate::abi::getattr_site(&a, &c, &cache).unwrap();
            assert_eq!(first.as_int(), Some(1));
            assert_eq!(cache.get().shape, INLINE_SHAPES);
            // `b` makes `c` the class's first inline key, and shadows the
            // class attribute: the entry must not answer for it.
            let b = cls.call(&[]).unwrap();
            b.setattr("c", &heap.int(2).unwrap()).unwrap();
            assert!(cache.get().hit(b.raw(), c.raw()).is_none(), "a new version");
            let got = crate::abi::getattr_site(&b, &c, &cache).unwrap();
            assert_eq!(got.as_int(), Some(2));
            assert_eq!(cache.get().found(), Some(Found::InlineValue));
            // `a`, still without attributes, reads the class's again.
            assert_eq!(
                crate::abi::getattr_site(&a, &c, &cache).unwrap().as_int(),
                Some(1)
            );
        });
    }
}
