//! The built-in containers: tuple, list, dict — their layouts,
//! constructors and accessors, Python's equality and hashing of dict keys,
//! and what each releases when it dies or the collector clears it.
//!
//! ```text
//!  tuple  | header | len | item 0 | item 1 | ...       (items inline)
//!  list   | header | Vec<ObjRef> in heap memory |
//!  dict   | header | OrderedMap<key, value> in heap memory |
//! ```
//!
//! Every item, key and value is an `ObjRef` owning one count. A tuple's
//! items never change after it is made, bar the collector's
//! [`clear_tuple`]; a list's vector and a dict's map live in the heap's
//! memory (`HeapAlloc`) and are borrowed only through [`with_list`] and
//! [`with_dict`], whose closures run no host code.
//!
//! Dict keys compare as in Python: numbers by value across int, float and
//! bool (`1`, `1.0` and `True` are one key, `numbers.rs`), str by text,
//! tuples item by item, everything else by identity.

use allocator_api2::vec::Vec as HVec;

use crate::Heap;
use crate::error::{Error, ErrorKind, Result};
use crate::heap::HeapAlloc;
use crate::kinds::dict_map::OrderedMap;
use crate::kinds::numbers::{mix, num_eq, num_hash};
use crate::kinds::str;
use crate::kinds::type_object::Kind;
use crate::object::{Obj, ObjHeader, ObjRef};
use crate::views::{Dict, List, Str, Tuple};

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

/// The bytes of a tuple of `len` items.
pub(crate) fn tuple_size(len: usize) -> usize {
    size_of::<TupleObj>() + len * size_of::<ObjRef>()
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

/// Releases what a dead tuple, list or dict holds.
/// Out of line: its loops would weigh on every other death in
/// `dealloc_one`, which inlines it otherwise.
#[inline(never)]
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
        _ => unreachable!("containers::clear of a {}", o.ty().name_str()),
    }
}

// ----- accessors -------------------------------------------------------------

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
    if let Some(e) = num_eq(a, b) {
        return equal(e);
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
    if let Some(h) = num_hash(o) {
        return h;
    }
    match o.ty().kind {
        // SAFETY: matched on the kind; the caller holds `o`.
        Kind::Str => unsafe { str::hash(o) },
        _ => mix(o.addr() as u64),
    }
}

// ----- the safe API -----------------------------------------------------------

impl<'h> Heap<'h> {
    /// A tuple of `items` ([`Tuple::new`] gives it typed).
    pub fn tuple(&self, items: &[&Obj<'h>]) -> Result<Obj<'h>> {
        Tuple::new(self, items).map(Tuple::into_obj)
    }

    /// An empty list ([`List::new`] gives it typed).
    pub fn list(&self) -> Result<Obj<'h>> {
        List::new(self).map(List::into_obj)
    }

    /// An empty dict ([`Dict::new`] gives it typed).
    pub fn dict(&self) -> Result<Obj<'h>> {
        Dict::new(self).map(Dict::into_obj)
    }
}

impl<'h> Obj<'h> {
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
        crate::inspect::repr::repr_string(key).unwrap_or_else(Error::into_message),
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
