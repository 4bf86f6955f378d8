//! The built-in values other than str: None, bool, int, float, tuple, list,
//! dict — their layouts, constructors, accessors, Python's equality and
//! hashing for dict keys, and their release when freed.
//!
//! ```text
//!  int    | header | i64 value |                       (24 bytes -> 32)
//!  float  | header | f64 value |
//!  bool   | header | i64 0/1   |                       (immortal: True, False)
//!  None   | header |                                   (immortal)
//!  tuple  | header | len | item 0 | item 1 | ...       (items inline)
//!  list   | header | Vec<ObjRef> in heap memory |
//!  dict   | header | OrderedMap<key, value> in heap memory |
//! ```
//!
//! int, float and str hold no references, so they carry nothing for the
//! cycle collector. Dict keys compare as in Python: numbers by value across
//! int, float and bool (`1`, `1.0` and `True` are one key), str by text,
//! tuples item by item, everything else by identity.

use allocator_api2::vec::Vec as HVec;

use crate::Heap;
use crate::error::{Error, ErrorKind, Result};
use crate::heap::{HeapAlloc, SMALL_INT_MAX, SMALL_INT_MIN};
use crate::kinds::dict_map::OrderedMap;
use crate::kinds::str;
use crate::kinds::type_object::Kind;
use crate::object::{HEADER_SIZE, Obj, ObjHeader, ObjRef};
use crate::views::{Dict, Float, Int, List, Str, Tuple};

#[repr(C)]
pub(crate) struct IntObj {
    header: ObjHeader,
    pub(crate) value: i64,
}

#[repr(C)]
pub(crate) struct FloatObj {
    header: ObjHeader,
    pub(crate) value: f64,
}

#[repr(C)]
pub(crate) struct TupleObj {
    header: ObjHeader,
    len: usize,
    items: [ObjRef; 0],
}

#[repr(C)]
pub(crate) struct ListObj {
    header: ObjHeader,
    pub(crate) items: HVec<ObjRef, HeapAlloc>,
}

#[repr(C)]
pub(crate) struct DictObj {
    header: ObjHeader,
    pub(crate) map: OrderedMap<ObjRef, ObjRef, HeapAlloc>,
}

fn tuple_size(len: usize) -> usize {
    size_of::<TupleObj>() + len * size_of::<ObjRef>()
}

/// The bytes a built-in value was allocated with.
pub(crate) fn size_of_value(o: ObjRef) -> usize {
    match o.ty().kind {
        Kind::NoneType => HEADER_SIZE,
        Kind::Int | Kind::Bool => size_of::<IntObj>(),
        Kind::Float => size_of::<FloatObj>(),
        // SAFETY: matched on the kind; the caller holds `o`.
        Kind::Str => str::str_size(unsafe { str::as_str(o) }.len()),
        // SAFETY: matched on the kind; the caller holds `o`.
        Kind::Tuple => tuple_size(unsafe { tuple_items(o) }.len()),
        Kind::List => size_of::<ListObj>(),
        Kind::Dict => size_of::<DictObj>(),
        Kind::Function => size_of::<crate::kinds::function::FunctionObj>(),
        Kind::Method => size_of::<crate::kinds::function::MethodObj>(),
        Kind::Property => size_of::<crate::kinds::function::PropertyObj>(),
        Kind::Member => size_of::<crate::kinds::function::MemberObj>(),
        Kind::WeakRef => size_of::<crate::kinds::weakref::WeakRefObj>(),
        Kind::Object | Kind::Type => unreachable!("sized by lifecycle::death::object_size"),
    }
}

/// Replaces a live tuple's items with `None` (the collector breaking a cycle).
///
/// # Safety
/// `o` is a live tuple of `heap`.
pub(crate) unsafe fn clear_tuple(heap: &Heap, o: ObjRef) {
    let none = heap.b().none;
    // SAFETY: forwarded from the caller.
    let len = unsafe { tuple_items(o) }.len();
    // SAFETY: `len` item cells follow the header; each old item is released once.
    let old: Vec<ObjRef> = unsafe {
        let items = (&raw mut (*o.cast::<TupleObj>().as_ptr()).items).cast::<ObjRef>();
        (0..len).map(|i| items.add(i).replace(none)).collect()
    };
    old.into_iter().for_each(ObjRef::decref);
}

/// Releases what a dead built-in value holds.
pub(crate) fn clear(o: ObjRef) {
    match o.ty().kind {
        Kind::Tuple => {
            // SAFETY: matched on the kind; the tuple is dead but not freed
            // before this returns (each item's decref may free others only).
            for &item in unsafe { tuple_items(o) } {
                item.decref();
            }
        }
        Kind::List => {
            // SAFETY: the list is dead; its vector is taken out once.
            let items =
                unsafe { core::ptr::read(&raw const (*o.cast::<ListObj>().as_ptr()).items) };
            for item in items.iter() {
                item.decref();
            }
            drop(items);
        }
        Kind::Dict => {
            // SAFETY: the dict is dead; its map is taken out once.
            let mut map =
                unsafe { core::ptr::read(&raw const (*o.cast::<DictObj>().as_ptr()).map) };
            for (k, v) in map.drain() {
                k.decref();
                v.decref();
            }
            drop(map);
        }
        Kind::Method | Kind::Property | Kind::Member => crate::kinds::function::clear(o),
        _ => {}
    }
}

// ----- accessors -------------------------------------------------------------

/// The value of an int or bool.
pub(crate) fn int_value(o: ObjRef) -> i64 {
    // SAFETY: callers check the kind (int or bool share the layout).
    unsafe { o.cast::<IntObj>().as_ref().value }
}

pub(crate) fn float_value(o: ObjRef) -> f64 {
    // SAFETY: callers check the kind.
    unsafe { o.cast::<FloatObj>().as_ref().value }
}

/// The items of a tuple (they never change, bar the collector's
/// `clear_tuple`).
///
/// # Safety
/// `o` is a live tuple, and the slice is used only while it stays alive
/// (the caller holds a count on it, or on what holds it) and is not cleared.
#[inline]
pub(crate) unsafe fn tuple_items(o: ObjRef) -> &'static [ObjRef] {
    debug_assert_eq!(o.ty().kind, Kind::Tuple);
    // SAFETY: a tuple (the caller's promise) has `len` initialised items
    // after its header.
    unsafe {
        let t = o.cast::<TupleObj>().as_ptr();
        core::slice::from_raw_parts((&raw const (*t).items).cast::<ObjRef>(), (*t).len)
    }
}

/// Runs `f` on the items of a list.
///
/// # Safety
/// `o` is a live list, and `f` does not reach it again: it runs no host
/// code (no call, no decref that could free an object) and does not
/// access `o` through another `with_list`.
#[inline]
pub(crate) unsafe fn with_list<R>(
    o: ObjRef,
    f: impl FnOnce(&mut HVec<ObjRef, HeapAlloc>) -> R,
) -> R {
    debug_assert_eq!(o.ty().kind, Kind::List);
    // SAFETY: a list (the caller's promise) whose vector nothing else
    // borrows while `f` runs (the heap is used by one thread at a time,
    // and `f` does not reach `o`).
    f(unsafe { &mut (*o.cast::<ListObj>().as_ptr()).items })
}

/// Runs `f` on the map of a dict.
///
/// # Safety
/// `o` is a live dict, and `f` does not reach it again, as for [`with_list`].
#[inline]
pub(crate) unsafe fn with_dict<R>(
    o: ObjRef,
    f: impl FnOnce(&mut OrderedMap<ObjRef, ObjRef, HeapAlloc>) -> R,
) -> R {
    debug_assert_eq!(o.ty().kind, Kind::Dict);
    // SAFETY: a dict (the caller's promise) whose map nothing else borrows
    // while `f` runs (as in `with_list`). Comparing and hashing keys runs
    // no host code.
    f(unsafe { &mut (*o.cast::<DictObj>().as_ptr()).map })
}

/// The `i`-th (key, value) of a dict, in insertion order, borrowed.
///
/// # Safety
/// `d` is a live dict.
pub(crate) unsafe fn dict_entry(d: ObjRef, i: usize) -> Option<(ObjRef, ObjRef)> {
    // SAFETY: forwarded; reading an entry runs no host code.
    unsafe { with_dict(d, |m| m.get_index(i).map(|(&k, &v)| (k, v))) }
}

// ----- constructors ----------------------------------------------------------

pub(crate) fn new_int(heap: &Heap, v: i64) -> Result<ObjRef> {
    if (SMALL_INT_MIN..=SMALL_INT_MAX).contains(&v) {
        return Ok(heap.b().small_ints[(v - SMALL_INT_MIN) as usize]);
    }
    // SAFETY: the built-in int type.
    unsafe { new_int_object(heap, heap.b().int, v) }
}

/// An int-layout object (int or bool) without the small-int cache.
///
/// # Safety
/// `ty` is `heap`'s int or bool type.
pub(crate) unsafe fn new_int_object(heap: &Heap, ty: ObjRef, v: i64) -> Result<ObjRef> {
    // SAFETY: an int-layout type (the caller's promise), and its size.
    let o = unsafe { heap.alloc_object(ty, size_of::<IntObj>())? };
    // SAFETY: a fresh int object.
    unsafe { (*o.cast::<IntObj>().as_ptr()).value = v };
    Ok(o)
}

pub(crate) fn new_float(heap: &Heap, v: f64) -> Result<ObjRef> {
    // SAFETY: the built-in float type, and a float's size.
    let o = unsafe { heap.alloc_object(heap.b().float, size_of::<FloatObj>())? };
    // SAFETY: a fresh float object.
    unsafe { (*o.cast::<FloatObj>().as_ptr()).value = v };
    Ok(o)
}

/// A tuple of `items` (each gains a count).
pub(crate) fn new_tuple(heap: &Heap, items: &[ObjRef]) -> Result<ObjRef> {
    // SAFETY: the built-in tuple type, and the size of a tuple of `items`.
    let o = unsafe { heap.alloc_object(heap.b().tuple, tuple_size(items.len()))? };
    // SAFETY: a fresh tuple with room for `items.len()` handles.
    unsafe {
        let t = o.cast::<TupleObj>().as_ptr();
        (*t).len = items.len();
        let dst = (&raw mut (*t).items).cast::<ObjRef>();
        for (i, &item) in items.iter().enumerate() {
            item.incref();
            dst.add(i).write(item);
        }
    }
    Ok(o)
}

pub(crate) fn new_list(heap: &Heap) -> Result<ObjRef> {
    // SAFETY: the built-in list type, and a list's size.
    let o = unsafe { heap.alloc_object(heap.b().list, size_of::<ListObj>())? };
    // SAFETY: a fresh list object; the vector allocates nothing yet.
    unsafe {
        (&raw mut (*o.cast::<ListObj>().as_ptr()).items).write(HVec::new_in(heap.allocator()))
    };
    Ok(o)
}

pub(crate) fn new_dict(heap: &Heap) -> Result<ObjRef> {
    // SAFETY: the built-in dict type, and a dict's size.
    let o = unsafe { heap.alloc_object(heap.b().dict, size_of::<DictObj>())? };
    // SAFETY: a fresh dict object; the map allocates nothing yet.
    unsafe {
        (&raw mut (*o.cast::<DictObj>().as_ptr()).map).write(OrderedMap::new_in(heap.allocator()))
    };
    Ok(o)
}

// ----- Python equality and hashing of keys ------------------------------------

/// A number's value for cross-type comparison.
enum Num {
    Int(i64),
    Float(f64),
}

fn as_num(o: ObjRef) -> Option<Num> {
    match o.ty().kind {
        Kind::Int | Kind::Bool => Some(Num::Int(int_value(o))),
        Kind::Float => Some(Num::Float(float_value(o))),
        _ => None,
    }
}

/// 2^63: floats in `-2^63..2^63` with no fraction are exactly an i64.
const I64_BOUND: f64 = 9_223_372_036_854_775_808.0;

fn float_as_exact_int(f: f64) -> Option<i64> {
    (f.fract() == 0.0 && (-I64_BOUND..I64_BOUND).contains(&f)).then_some(f as i64)
}

/// Python's `==` for the values dict keys can be (identity for the rest).
/// Nested tuples are compared with an explicit stack, so any depth works.
pub(crate) fn key_eq(a: ObjRef, b: ObjRef) -> bool {
    // Pairs of tuples of equal length still to compare, item by item.
    let mut pending: Vec<(&[ObjRef], &[ObjRef])> = Vec::new();
    let (mut a, mut b) = (a, b);
    loop {
        match shallow_eq(a, b) {
            Shallow::Differ => return false,
            Shallow::Equal => {}
            Shallow::Tuples(x, y) => pending.push((x, y)),
        }
        // The next pair of items: the first of the innermost unfinished tuples.
        loop {
            let Some((x, y)) = pending.last_mut() else {
                return true;
            };
            if let (Some((&p, px)), Some((&q, qy))) = (x.split_first(), y.split_first()) {
                (*x, *y) = (px, qy);
                (a, b) = (p, q);
                break;
            }
            pending.pop();
        }
    }
}

/// What `==` knows about two keys without looking inside tuples.
enum Shallow {
    Equal,
    Differ,
    /// Two tuples of the same length: equal if their items are.
    Tuples(&'static [ObjRef], &'static [ObjRef]),
}

fn shallow_eq(a: ObjRef, b: ObjRef) -> Shallow {
    let equal = |e: bool| if e { Shallow::Equal } else { Shallow::Differ };
    if a == b {
        return Shallow::Equal;
    }
    match (as_num(a), as_num(b)) {
        (Some(Num::Int(x)), Some(Num::Int(y))) => return equal(x == y),
        (Some(Num::Float(x)), Some(Num::Float(y))) => return equal(x == y),
        (Some(Num::Int(i)), Some(Num::Float(f))) | (Some(Num::Float(f)), Some(Num::Int(i))) => {
            return equal(float_as_exact_int(f) == Some(i));
        }
        _ => {}
    }
    match (a.ty().kind, b.ty().kind) {
        // SAFETY: matched on the kinds; the caller holds the keys.
        (Kind::Str, Kind::Str) => equal(unsafe { str::as_str(a) == str::as_str(b) }),
        (Kind::Tuple, Kind::Tuple) => {
            // SAFETY: matched on the kinds; the keys compared are held by
            // the caller (or are items of tuples it holds).
            let (x, y) = unsafe { (tuple_items(a), tuple_items(b)) };
            if x.len() == y.len() {
                Shallow::Tuples(x, y)
            } else {
                Shallow::Differ
            }
        }
        _ => Shallow::Differ,
    }
}

fn mix(h: u64) -> u64 {
    // splitmix64's finaliser: spreads small ints over the table.
    let mut z = h.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The hash a tuple starts from, before its items are mixed in.
const TUPLE_HASH_SEED: u64 = 0x345678;

/// A hash consistent with [`key_eq`]: equal keys hash equal. Nested tuples
/// are hashed with an explicit stack, so any depth works.
pub(crate) fn key_hash(o: ObjRef) -> u64 {
    // Tuples being hashed: the items left, and the hash of those before.
    let mut open: Vec<(&[ObjRef], u64)> = Vec::new();
    let mut next = o;
    loop {
        let mut h = match next.ty().kind {
            Kind::Tuple => {
                // SAFETY: matched on the kind; `o` is held by the caller and
                // `next` is it or an item of a tuple in it.
                open.push((unsafe { tuple_items(next) }, TUPLE_HASH_SEED));
                None
            }
            _ => Some(scalar_hash(next)),
        };
        // Fold finished values into their tuples until one has items left.
        loop {
            let Some((items, acc)) = open.last_mut() else {
                return h.expect("the outermost value is finished");
            };
            if let Some(v) = h.take() {
                *acc = mix(*acc ^ v);
            }
            match items.split_first() {
                Some((&item, rest)) => {
                    *items = rest;
                    next = item;
                    break;
                }
                None => {
                    h = Some(*acc);
                    open.pop();
                }
            }
        }
    }
}

/// The hash of a key that is not a tuple.
fn scalar_hash(o: ObjRef) -> u64 {
    match o.ty().kind {
        Kind::Int | Kind::Bool => mix(int_value(o) as u64),
        Kind::Float => {
            let f = float_value(o);
            match float_as_exact_int(f) {
                Some(i) => mix(i as u64),
                None => mix(f.to_bits() ^ 0x5555),
            }
        }
        // SAFETY: matched on the kind; the caller holds `o`.
        Kind::Str => unsafe { str::hash(o) },
        _ => mix(o.addr() as u64),
    }
}

// ----- the safe API -----------------------------------------------------------

impl Heap {
    /// An int. -5..=256 are preallocated and immortal ([`Int::new`]
    /// gives it typed).
    pub fn int(&self, v: i64) -> Result<Obj<'_>> {
        Int::new(self, v).map(Int::into_obj)
    }

    /// A float ([`Float::new`] gives it typed).
    pub fn float(&self, v: f64) -> Result<Obj<'_>> {
        Float::new(self, v).map(Float::into_obj)
    }

    /// A tuple of `items` ([`Tuple::new`] gives it typed).
    pub fn tuple<'h>(&'h self, items: &[&Obj<'h>]) -> Result<Obj<'h>> {
        Tuple::new(self, items).map(Tuple::into_obj)
    }

    /// An empty list ([`List::new`] gives it typed).
    pub fn list(&self) -> Result<Obj<'_>> {
        List::new(self).map(List::into_obj)
    }

    /// An empty dict ([`Dict::new`] gives it typed).
    pub fn dict(&self) -> Result<Obj<'_>> {
        Dict::new(self).map(Dict::into_obj)
    }
}

impl<'h> Obj<'h> {
    /// The value of an int (or bool), else `None`.
    pub fn as_int(&self) -> Option<i64> {
        self.as_view().map(Int::value)
    }

    /// The value of a float, else `None`.
    pub fn as_float(&self) -> Option<f64> {
        self.as_view().map(Float::value)
    }

    /// The text of a str, else `None` ([`Str::as_str`] needs no `Option`).
    pub fn as_str(&self) -> Option<&str> {
        self.as_view().map(Str::as_str)
    }

    /// Whether this is `None`.
    pub fn is_none(&self) -> bool {
        self.raw().ty().kind == Kind::NoneType
    }

    /// Python's `==` on the values that can be dict keys (identity otherwise).
    pub fn equals(&self, other: &Obj<'_>) -> bool {
        key_eq(self.raw(), other.raw())
    }

    /// `len()`: code points of a str; items of a tuple, list or dict.
    pub fn len(&self) -> Result<usize> {
        if let Some(s) = self.as_view::<Str>() {
            Ok(s.len())
        } else if let Some(t) = self.as_view::<Tuple>() {
            Ok(t.len())
        } else if let Some(l) = self.as_view::<List>() {
            Ok(l.len())
        } else if let Some(d) = self.as_view::<Dict>() {
            Ok(d.len())
        } else {
            Err(Error::type_error(format!(
                "object of type '{}' has no len()",
                self.raw().ty().name_str()
            )))
        }
    }

    /// Whether `len()` is 0.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// `seq[index]` of a tuple or list; a negative index counts from the end.
    pub fn get_item(&self, index: i64) -> Result<Obj<'h>> {
        if let Some(t) = self.as_view::<Tuple>() {
            t.get(index)
        } else if let Some(l) = self.as_view::<List>() {
            l.get(index)
        } else {
            Err(Error::type_error(format!(
                "'{}' object is not subscriptable",
                self.raw().ty().name_str()
            )))
        }
    }

    /// `list.append(item)` ([`List::append`]).
    pub fn list_append(&self, item: &Obj<'h>) -> Result<()> {
        self.downcast::<List>()?.append(item)
    }

    /// `list[index] = item`; a negative index counts from the end ([`List::set`]).
    pub fn list_set(&self, index: i64, item: &Obj<'h>) -> Result<()> {
        self.downcast::<List>()?.set(index, item)
    }

    /// `dict[key] = value` ([`Dict::set`]).
    pub fn dict_set(&self, key: &Obj<'h>, value: &Obj<'h>) -> Result<()> {
        self.downcast::<Dict>()?.set(key, value)
    }

    /// `dict[key]`; [`ErrorKind::Key`] when absent ([`Dict::get`]).
    pub fn dict_get(&self, key: &Obj<'h>) -> Result<Obj<'h>> {
        self.downcast::<Dict>()?.get(key)
    }

    /// `del dict[key]`; [`ErrorKind::Key`] when absent ([`Dict::del`]).
    pub fn dict_del(&self, key: &Obj<'h>) -> Result<()> {
        self.downcast::<Dict>()?.del(key)
    }

    /// The `i`-th (key, value) of a dict, in insertion order ([`Dict::item`]).
    pub fn dict_item(&self, i: usize) -> Result<(Obj<'h>, Obj<'h>)> {
        self.downcast::<Dict>()?
            .item(i)
            .ok_or_else(|| Error::new(ErrorKind::Index, "dict index out of range"))
    }
}

/// The position of a Python index (negative from the end) in `len` items.
pub(crate) fn resolve_index(index: i64, len: usize) -> Option<usize> {
    let i = if index < 0 {
        index.checked_add(len as i64)?
    } else {
        index
    };
    (i >= 0 && (i as usize) < len).then_some(i as usize)
}

pub(crate) fn no_memory(what: &str) -> Error {
    Error::new(ErrorKind::NoMemory, format!("{what}: out of memory"))
}

/// `KeyError(key)`: the message is the key's repr.
pub(crate) fn key_error(key: ObjRef) -> Error {
    Error::new(
        ErrorKind::Key,
        crate::inspect::repr::repr_string(key).unwrap_or_else(|e| e.message),
    )
}

/// `dict[key] = value` on raw handles (each stored handle gains a count).
///
/// # Safety
/// `d` is a live dict.
pub(crate) unsafe fn dict_set(d: ObjRef, key: ObjRef, value: ObjRef) -> Result<()> {
    // SAFETY: forwarded from the caller; inserting runs no host code.
    let replaced = unsafe {
        with_dict(d, |map| {
            map.try_insert(key_hash(key), key, value, |&k| key_eq(k, key))
        })
    }
    .map_err(|_| no_memory("dict assignment"))?;
    value.incref();
    match replaced {
        // The map kept its own key; the old value's count goes, after the
        // map is no longer borrowed (a finaliser may reach this dict).
        Some(old) => old.decref(),
        None => key.incref(),
    }
    Ok(())
}

/// `dict[key]` on raw handles, borrowed.
///
/// # Safety
/// `d` is a live dict.
#[inline]
pub(crate) unsafe fn dict_get(d: ObjRef, key: ObjRef) -> Option<ObjRef> {
    // SAFETY: forwarded from the caller; a lookup runs no host code.
    unsafe {
        with_dict(d, |map| {
            map.get(key_hash(key), |&k| key_eq(k, key)).map(|(_, &v)| v)
        })
    }
}

/// `del dict[key]` on raw handles; whether it was there.
///
/// # Safety
/// `d` is a live dict.
pub(crate) unsafe fn dict_del(d: ObjRef, key: ObjRef) -> bool {
    // SAFETY: forwarded from the caller; the removed pair is decref'd
    // (which may run host code) after the closure.
    let removed = unsafe { with_dict(d, |map| map.remove(key_hash(key), |&k| key_eq(k, key))) };
    match removed {
        Some((k, v)) => {
            k.decref();
            v.decref();
            true
        }
        None => false,
    }
}
