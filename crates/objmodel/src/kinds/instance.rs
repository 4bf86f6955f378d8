//! Instance attributes: shared key layouts ("shapes") and values arrays.
//!
//! Instances of one class that get the same attributes in the same order
//! share one shape: the names live once in the shape, and each instance
//! stores only a pointer to its shape and its values (PEP 412's
//! key-sharing, V8's hidden classes). The first [`INLINE_VALUES`] values
//! live in the instance itself, after the pair (CPython 3.13's inline
//! values), so an instance with up to that many attributes is one block:
//!
//! ```text
//!  instance                                          shape (per class, shared)
//!  +--------+-----+-------+--------+-------+-------+      +----------------+
//!  | header | ... | shape | values |  'x'  | 'Ан…' |  --> | keys: x, name  |
//!  +--------+-----+-------+--------+-------+-------+      +----------------+
//!                             |    ^ inline cells: values in key order
//!                             +----+ (values points at them)
//! ```
//!
//! An instance given more attributes moves its values to an array of its
//! own (capacity: keys rounded up to even), and `values` points there; the
//! inline cells are then unused.
//!
//! Shapes form a tree per class: adding attribute `k` to an instance of
//! shape `S` moves it to `S`'s child for `k` (made once, then shared).
//! Deleting an attribute, or asking for `__dict__`, turns the instance into
//! dict mode: `shape` is the dict-mode marker and `values` a real dict.
//!
//! Each shape holds all its keys, so the tree is kept small, and in the
//! heap's memory (its limit counts it): a shape has at most
//! [`MAX_SHAPE_KEYS`] keys (CPython's shared keys hold 30 too), a class's
//! tree at most [`MAX_SHAPES`] shapes; an instance that would need a shape
//! past either bound moves to dict mode instead. So a class's shapes take
//! at most `MAX_SHAPES` × ~350 bytes, and a lookup in a shape compares at
//! most `MAX_SHAPE_KEYS` keys.
//!
//! Key invariant: in shape mode, `values` has `capacity(keys.len())` cells
//! (the inline ones while `keys.len() <= INLINE_VALUES`, else an array of
//! the heap's) and cell `i` holds a counted reference to the value of
//! `keys[i]`.

use core::cell::{Cell, RefCell};
use core::ptr::NonNull;

use allocator_api2::boxed::Box as HBox;
use allocator_api2::vec::Vec as HVec;

use crate::error::{Error, Result};
use crate::heap::{Heap, HeapAlloc};
use crate::kinds::containers;
use crate::kinds::type_object::{Hook, Kind, PayloadHooks, TypeObject};
use crate::object::{FINALIZED, Obj, ObjRef};

/// Keys a shape may have; an instance given more moves to dict mode.
pub(crate) const MAX_SHAPE_KEYS: usize = 30;

/// Shapes a class's tree may have, its root included; an instance that
/// needs another moves to dict mode.
pub(crate) const MAX_SHAPES: usize = 1024;

/// Bytes of the `shape|values` pair in an instance.
const DICT_PAIR_SIZE: usize = size_of::<DictPair>();

/// Value cells inside the instance, after the pair.
pub(crate) const INLINE_VALUES: usize = 2;

/// Bytes of an instance's attribute area: the pair and the inline cells.
pub(crate) const DICT_AREA_SIZE: usize = DICT_PAIR_SIZE + INLINE_VALUES * size_of::<ObjRef>();

#[repr(C)]
pub(crate) struct DictPair {
    /// Null: no attribute yet; `DICT_MODE`: `values` is a dict; else a shape.
    shape: Cell<*const Shape>,
    values: Cell<*mut ObjRef>,
}

/// A shared key layout, in heap memory.
pub(crate) struct Shape {
    /// Attribute names (interned, so immortal: no counts held); at most
    /// [`MAX_SHAPE_KEYS`].
    pub(crate) keys: HVec<ObjRef, HeapAlloc>,
    /// Boxed: shapes must not move, instances point at them.
    children: RefCell<HVec<HBox<Shape, HeapAlloc>, HeapAlloc>>,
}

/// A class's tree of shapes (`TypeObject::shapes`).
pub(crate) struct ShapeTree {
    root: Shape,
    /// Shapes in the tree, the root included: at most [`MAX_SHAPES`].
    count: Cell<usize>,
}

/// The marker shape of an instance whose attributes live in a dict.
static DICT_MODE_MARKER: u8 = 0;

fn dict_mode() -> *const Shape {
    (&raw const DICT_MODE_MARKER).cast()
}

impl Shape {
    fn empty(alloc: HeapAlloc) -> Self {
        Self {
            keys: HVec::new_in(alloc),
            children: RefCell::new(HVec::new_in(alloc)),
        }
    }

    /// Index of `name` (an interned str) among the keys.
    #[inline]
    pub(crate) fn index_of(&self, name: ObjRef) -> Option<usize> {
        self.keys.iter().position(|&k| k == name)
    }
}

fn no_memory() -> Error {
    Error::new(
        crate::ErrorKind::NoMemory,
        "attribute layout: out of memory",
    )
}

impl ShapeTree {
    /// A tree with only the empty root (allocates nothing yet).
    pub(crate) fn new(heap: &Heap) -> Self {
        Self {
            root: Shape::empty(heap.allocator()),
            count: Cell::new(1),
        }
    }

    /// The shape with no key, of instances without attributes.
    pub(crate) fn root(&self) -> &Shape {
        &self.root
    }

    /// The child of `shape` (a shape of this tree) that appends `name`,
    /// made on first use; `None` when it would pass the tree's bounds.
    fn child(&self, heap: &Heap, shape: &Shape, name: ObjRef) -> Result<Option<*const Shape>> {
        let mut children = shape.children.borrow_mut();
        if let Some(c) = children.iter().find(|c| c.keys.last() == Some(&name)) {
            return Ok(Some(&**c));
        }
        if shape.keys.len() >= MAX_SHAPE_KEYS || self.count.get() >= MAX_SHAPES {
            return Ok(None);
        }
        let alloc = heap.allocator();
        let mut keys = HVec::new_in(alloc);
        keys.try_reserve_exact(shape.keys.len() + 1)
            .map_err(|_| no_memory())?;
        keys.extend_from_slice(&shape.keys);
        keys.push(name);
        children.try_reserve(1).map_err(|_| no_memory())?;
        let mut child = Shape::empty(alloc);
        child.keys = keys;
        children.push(HBox::try_new_in(child, alloc).map_err(|_| no_memory())?);
        self.count.set(self.count.get() + 1);
        Ok(Some(&**children.last().expect("just pushed")))
    }
}

/// Cells of the values for `n` keys: the inline ones, or an array's.
fn capacity(n: usize) -> usize {
    if is_inline(n) {
        INLINE_VALUES
    } else {
        n.next_multiple_of(2)
    }
}

/// Whether the values for `n` keys live in the instance's inline cells.
fn is_inline(n: usize) -> bool {
    n <= INLINE_VALUES
}

/// The inline value cells of an instance with a pair.
fn inline_cells(o: ObjRef) -> *mut ObjRef {
    let offset = o.ty().layout.dict_offset.expect("an instance with a pair");
    // SAFETY: the layout puts the inline cells right after the pair, inside
    // the instance.
    unsafe { o.cast::<u8>().as_ptr().add(offset + DICT_PAIR_SIZE).cast() }
}

fn pair(o: ObjRef) -> Option<&'static DictPair> {
    let offset = o.ty().layout.dict_offset?;
    // SAFETY: the instance's layout has the pair at `dict_offset`.
    Some(unsafe { &*o.cast::<u8>().as_ptr().add(offset).cast::<DictPair>() })
}

/// Whether instances of `o`'s type have a `__dict__`.
pub(crate) fn has_dict(o: ObjRef) -> bool {
    o.ty().layout.dict_offset.is_some()
}

/// The shape of an instance for the inline cache: its shape in shape mode
/// (the class's root shape when it has no attribute yet), null in dict mode,
/// and a fixed non-null marker for instances without a `__dict__`.
#[inline]
pub(crate) fn current_shape(o: ObjRef) -> *const Shape {
    let Some(p) = pair(o) else { return dict_mode() };
    let s = p.shape.get();
    if s.is_null() {
        o.ty().shapes.root()
    } else if s == dict_mode() {
        core::ptr::null()
    } else {
        s
    }
}

/// Whether [`current_shape`] of `o` is at `addr`, the address a cache
/// entry for `o`'s type (as it is now) recorded: never null, and the
/// no-`__dict__` marker only for a type without one. An instance in shape
/// mode with attributes, the common case, takes one compare of its shape.
#[inline]
pub(crate) fn has_current_shape(o: ObjRef, addr: usize) -> bool {
    match pair(o) {
        Some(p) if p.shape.get().addr() == addr => true,
        _ => current_shape(o).addr() == addr,
    }
}

/// The value cell `i` of an instance in shape mode.
#[inline]
pub(crate) fn value_at(o: ObjRef, i: usize) -> ObjRef {
    let p = pair(o).expect("shape mode");
    // SAFETY: `i < keys.len() <= capacity`; the cell is initialised.
    unsafe { *p.values.get().add(i) }
}

/// Stores `value` (its count handed over) in value cell `i` of an instance
/// in shape mode; gives back the value it held, counted, for the caller to
/// decref.
#[inline]
pub(crate) fn replace_value_at(o: ObjRef, i: usize, value: ObjRef) -> ObjRef {
    let p = pair(o).expect("shape mode");
    // SAFETY: `i < keys.len() <= capacity`; the cell is initialised.
    unsafe { p.values.get().add(i).replace(value) }
}

/// The instance attribute `name` (interned), borrowed.
pub(crate) fn get(o: ObjRef, name: ObjRef) -> Option<ObjRef> {
    let p = pair(o)?;
    let s = p.shape.get();
    if s.is_null() {
        return None;
    }
    if s == dict_mode() {
        // SAFETY: in dict mode `values` is the instance's dict, which it holds.
        return unsafe { containers::dict_get(dict_of(p), name) };
    }
    // SAFETY: a shape pointer in an instance is a live shape of its class.
    let i = unsafe { &*s }.index_of(name)?;
    Some(value_at(o, i))
}

/// Sets the instance attribute `name` (interned); `value` gains a count.
/// On failure the instance is as it was (if maybe in dict mode now).
pub(crate) fn set(heap: &Heap, o: ObjRef, name: ObjRef, value: ObjRef) -> Result<()> {
    let p = pair(o).expect("callers check has_dict");
    let s = p.shape.get();
    if s == dict_mode() {
        // SAFETY: in dict mode `values` is the instance's dict, which it holds.
        return unsafe { containers::dict_set(dict_of(p), name, value) };
    }
    let ty = o.ty();
    let tree = &ty.shapes;
    let shape: &Shape = if s.is_null() {
        tree.root()
    } else {
        // SAFETY: read from `o`'s pair just above, in shape mode.
        unsafe { shape_of(ty, s) }
    };
    if let Some(i) = shape.index_of(name) {
        value.incref();
        replace_value_at(o, i, value).decref();
        return Ok(());
    }
    let Some(child) = tree.child(heap, shape, name)? else {
        // Past the bounds of shared layouts: a dict of its own.
        let d = materialize_dict(heap, o)?;
        // SAFETY: the instance's dict, which it holds.
        return unsafe { containers::dict_set(d, name, value) };
    };
    append_value(heap, o, shape.keys.len(), child, value)
}

/// Adds `value` (which gains a count) to an instance in shape mode with `n`
/// attributes, moving it to `child`, the child of its shape that appends
/// one key. On failure (no memory for a values array) the instance is as
/// it was.
pub(crate) fn append_value(
    heap: &Heap,
    o: ObjRef,
    n: usize,
    child: *const Shape,
    value: ObjRef,
) -> Result<()> {
    let p = pair(o).expect("shape mode");
    let mut cells = p.values.get();
    if n == 0 {
        cells = inline_cells(o);
        p.values.set(cells);
    } else if n + 1 > capacity(n) {
        let new = heap
            .alloc_raw(capacity(n + 1) * size_of::<ObjRef>())?
            .cast::<ObjRef>()
            .as_ptr();
        // SAFETY: both have room for `n` cells; an old array is freed after
        // the move (inline cells stay, unused).
        unsafe {
            new.copy_from_nonoverlapping(cells, n);
            if !is_inline(n) {
                heap.free_raw(
                    NonNull::new_unchecked(cells.cast()),
                    capacity(n) * size_of::<ObjRef>(),
                );
            }
        }
        cells = new;
        p.values.set(cells);
    }
    value.incref();
    // SAFETY: cell `n` is within capacity(n + 1).
    unsafe { cells.add(n).write(value) };
    p.shape.set(child);
    Ok(())
}

/// The shape an instance of `ty` points at, borrowed from `ty` (shapes
/// live as long as their class).
///
/// # Safety
/// `s` was read from the pair of a live instance of `ty` in shape mode
/// (not null, not the dict-mode marker), and the instance has not changed
/// class since (it never does).
#[inline]
unsafe fn shape_of(_ty: &TypeObject, s: *const Shape) -> &Shape {
    debug_assert!(!s.is_null() && s != dict_mode());
    // SAFETY: a shape of `ty`'s tree (the caller's promise), which lives
    // as long as `ty`.
    unsafe { &*s }
}

fn dict_of(p: &DictPair) -> ObjRef {
    ObjRef(NonNull::new(p.values.get().cast()).expect("dict mode holds a dict"))
}

/// Deletes the instance attribute `name`; whether it was there.
pub(crate) fn del(heap: &Heap, o: ObjRef, name: ObjRef) -> Result<bool> {
    if get(o, name).is_none() {
        return Ok(false);
    }
    let d = materialize_dict(heap, o)?;
    // SAFETY: the instance's dict, which it holds.
    Ok(unsafe { containers::dict_del(d, name) })
}

/// Switches an instance to dict mode (if not already) and returns its dict, borrowed.
pub(crate) fn materialize_dict(heap: &Heap, o: ObjRef) -> Result<ObjRef> {
    let p = pair(o).expect("callers check has_dict");
    let s = p.shape.get();
    if s == dict_mode() {
        return Ok(dict_of(p));
    }
    let d = containers::new_dict(heap)?;
    if !s.is_null() {
        // SAFETY: read from `o`'s pair above, not in dict mode.
        let shape = unsafe { shape_of(o.ty(), s) };
        for (i, &k) in shape.keys.iter().enumerate() {
            // SAFETY: `d` is the dict made above.
            if let Err(e) = unsafe { containers::dict_set(d, k, value_at(o, i)) } {
                d.decref();
                return Err(e);
            }
        }
    }
    // SAFETY: read from `o`'s pair above, not in dict mode.
    let (cells, n) = (p.values.get(), unsafe { shape_len(o.ty(), s) });
    p.shape.set(dict_mode());
    p.values.set(d.cast::<ObjRef>().as_ptr());
    // SAFETY: the values `o` held, detached from it just above.
    unsafe { release_values(heap, cells, n) };
    Ok(d)
}

/// Keys of the shape an instance of `ty` points at (`s`: null for none yet).
///
/// # Safety
/// `s` was read from the pair of a live instance of `ty`, not in dict mode.
unsafe fn shape_len(ty: &TypeObject, s: *const Shape) -> usize {
    if s.is_null() {
        0
    } else {
        // SAFETY: forwarded from the caller; not null.
        unsafe { shape_of(ty, s) }.keys.len()
    }
}

/// Drops the counts the values detached from their instance hold for `n`
/// keys (which may run host code: the instance no longer points at them),
/// then frees their array, if they had one.
///
/// # Safety
/// `cells` and `n` are the values an instance of `heap` held for `n` keys
/// (its inline cells, or an array of `capacity(n)` cells of `heap`'s), the
/// first `n` set, and the instance no longer points at them.
#[inline]
unsafe fn release_values(heap: &Heap, cells: *mut ObjRef, n: usize) {
    if n == 0 {
        return;
    }
    if is_inline(n) {
        // The cells are in the instance, which the host code a decref runs
        // may give attributes again (reusing them): copied out first.
        // SAFETY: `cells` are the inline cells, all in the instance, and
        // `Option<ObjRef>` is an `ObjRef` or null; the first `n` are set.
        let taken = unsafe { cells.cast::<[Option<ObjRef>; INLINE_VALUES]>().read() };
        taken[..n].iter().flatten().for_each(|v| v.decref());
        return;
    }
    // SAFETY: forwarded from the caller; more than the inline cells hold.
    unsafe { release_value_array(heap, cells, n) }
}

/// [`release_values`] for values in an array of their own, out of line.
///
/// # Safety
/// As for [`release_values`], with `n` more than [`INLINE_VALUES`].
#[inline(never)]
unsafe fn release_value_array(heap: &Heap, cells: *mut ObjRef, n: usize) {
    // SAFETY: the first `n` cells are set (the caller's promise).
    (0..n).for_each(|i| unsafe { *cells.add(i) }.decref());
    // SAFETY: the array was allocated with capacity(n) cells, and nothing
    // points at it any more.
    unsafe {
        heap.free_raw(
            NonNull::new_unchecked(cells.cast()),
            capacity(n) * size_of::<ObjRef>(),
        )
    };
}

/// Runs `__del__` if the class has one and it has not run for `o` yet
/// (PEP 442: once per object). The caller holds a count on `o`; errors
/// raised by `__del__` are ignored, as CPython ignores them.
/// Returns whether it ran.
pub(crate) fn run_finalizer(heap: &Heap, o: ObjRef) -> bool {
    let Some(f) = crate::lookup::lookup_in_mro(o.ty(), heap.b().names.del) else {
        return false;
    };
    if o.set_flag(FINALIZED, true) {
        return false; // it ran before
    }
    if let Ok(r) = crate::call::call_raw(heap, f, &[o]) {
        r.decref();
    }
    true
}

/// Runs `__del__` before an instance whose count reached zero is freed.
/// Returns false if the finaliser resurrected the object (it then stays
/// alive, intact, with the references the finaliser gave it).
#[inline]
pub(crate) fn finalize(heap: &Heap, o: ObjRef) -> bool {
    if finalizer_done(heap, o) {
        return true;
    }
    finalize_now(heap, o)
}

/// Whether no `__del__` is left to run for `o`: its class has none, or it
/// ran already (PEP 442: once per object).
#[inline]
pub(crate) fn finalizer_done(heap: &Heap, o: ObjRef) -> bool {
    !has_del(heap, o.ty()) || o.has_flag(FINALIZED)
}

/// Whether a dead instance `o` can be freed with no host code run and
/// nothing but its slots and attributes to release: no payload, no
/// finaliser left to run, no weak reference to clear. (Most instances: a
/// class with no `__del__` and no payload hooks whose instances no weak
/// reference names.)
#[inline]
pub(crate) fn dies_plain(heap: &Heap, o: ObjRef) -> bool {
    o.ty().layout.payload.is_none()
        && !o.has_flag(crate::object::HAS_WEAKREFS)
        && finalizer_done(heap, o)
}

/// The half of [`finalize`] that runs `__del__`.
#[cold]
#[inline(never)]
fn finalize_now(heap: &Heap, o: ObjRef) -> bool {
    run_revived(heap, o, || {
        run_finalizer(heap, o);
    })
}

/// Whether `ty` has a `__del__`: looked up once per type version (a change
/// of the namespace along the MRO gives a new version), so deallocating an
/// instance of a class without one costs a compare.
#[inline]
pub(crate) fn has_del(heap: &Heap, ty: &TypeObject) -> bool {
    let (version, known) = ty.has_del.get();
    if version == ty.version.get() && version != 0 {
        return known;
    }
    look_up_del(heap, ty)
}

/// The half of [`has_del`] that looks `__del__` up, for a new type version.
#[cold]
#[inline(never)]
fn look_up_del(heap: &Heap, ty: &TypeObject) -> bool {
    let found = crate::lookup::lookup_in_mro(ty, heap.b().names.del).is_some();
    // The lookup gave the type a version if it had none.
    ty.has_del.set((ty.version.get(), found));
    found
}

/// Runs host code (`run`) on an instance whose count reached zero, with the
/// instance revived for the duration (one count, held by this thread), as
/// CPython's `PyObject_CallFinalizerFromDealloc` does: host code may then
/// count it up and down, make bound methods of it, or store it somewhere.
/// Returns whether it is dead again afterwards; false means `run`
/// resurrected it (PEP 442) and it must not be freed.
fn run_revived(heap: &Heap, o: ObjRef, run: impl FnOnce()) -> bool {
    o.header().rc.revive(o.owned_here());
    let mark = heap.pending_mark();
    run();
    // What the host code made and dropped may still hold `o`: free it first.
    heap.free_pending_since(mark);
    match o.header().rc.decref(|| o.owned_here()) {
        objgc::Decref::Dead => true,
        objgc::Decref::Alive => false,
        objgc::Decref::Queue(h) => {
            heap.gate.queue_merge(o.cast(), h);
            false
        }
    }
}

/// Where an instance holds a reference (for heap snapshots).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum InstanceEdge {
    /// The slot at this index of the class's layout.
    Slot(usize),
    /// The attribute of this name (an interned str).
    Attribute(ObjRef),
    /// The instance's `__dict__` (dict mode).
    Dict,
    /// Reported by the payload's traverse hook.
    Payload,
}

/// Calls `visit` with each reference an instance holds (not its type):
/// slots, attribute values (or its dict), and what its payload reports,
/// with where it is held when `NAMED` (heap snapshots), `None` otherwise
/// (the collector, which so pays nothing for the names).
#[inline(always)]
pub(crate) fn for_each_edge<const NAMED: bool>(
    o: ObjRef,
    mut visit: impl FnMut(Option<InstanceEdge>, ObjRef),
) {
    let name = |edge: &dyn Fn() -> InstanceEdge| NAMED.then(edge);
    let ty = o.ty();
    for (i, &offset) in ty.layout.slots.iter().enumerate() {
        // SAFETY: the slot cell lies inside the instance.
        if let Some(v) = unsafe { *crate::kinds::function::slot_cell(o, offset).as_ptr() } {
            visit(name(&|| InstanceEdge::Slot(i)), v);
        }
    }
    if let Some(p) = pair(o) {
        let s = p.shape.get();
        if s == dict_mode() {
            visit(name(&|| InstanceEdge::Dict), dict_of(p));
        } else if !s.is_null() {
            // SAFETY: read from `o`'s pair just above, in shape mode.
            let keys = &unsafe { shape_of(ty, s) }.keys;
            for i in 0..keys.len() {
                visit(name(&|| InstanceEdge::Attribute(keys[i])), value_at(o, i));
            }
        }
    }
    if let Some((payload, hooks)) = payload_hook(o, Hook::Traverse) {
        // The collector's tags are in place: the hook may only report.
        let heap = o.ty().heap();
        let _reporting = objgc::FlagScope::enter(&heap.in_traverse_hook);
        hooks.traverse(payload, &mut |r| {
            visit(name(&|| InstanceEdge::Payload), r.raw())
        });
    }
}

/// Drops the references a live instance holds (the collector breaking a
/// cycle); it stays a valid, attribute-less instance. The collector clears
/// every piece of garbage, most of them instances with attributes: their
/// values are dropped inline here.
#[inline]
pub(crate) fn clear_references(heap: &Heap, o: ObjRef) {
    if let Some((payload, hooks)) = payload_hook(o, Hook::Clear) {
        hooks.clear(payload);
    }
    drop_references_by(heap, o, drop_dict_references);
}

/// Drops the references held in an instance's slots and attributes (not
/// its payload's).
///
/// Everything is detached from the instance before the first decref, since
/// what a decref runs (a value's `__del__`) may look at the instance. The
/// detached references wait on the stack (a class with more slots than
/// [`INLINE_SLOTS`] spills them to the heap) and in the values array, which
/// is freed after. An instance's death has the attributes dropped out of
/// line: many die with none.
#[inline]
pub(crate) fn drop_references(heap: &Heap, o: ObjRef) {
    drop_references_by(heap, o, drop_dict_references_out_of_line);
}

/// [`drop_references`], with `dict` dropping the attributes of an
/// instance that has some and no slots.
#[inline(always)]
fn drop_references_by(heap: &Heap, o: ObjRef, dict: fn(&Heap, ObjRef, &DictPair)) {
    let slots = &o.ty().layout.slots;
    if !slots.is_empty() {
        return drop_slots_and_attributes(heap, o, slots.len());
    }
    match pair(o) {
        Some(p) if !p.shape.get().is_null() => dict(heap, o, p),
        _ => {} // nothing to drop: no slots, no attribute
    }
}

/// [`drop_dict_references`], out of line.
#[inline(never)]
fn drop_dict_references_out_of_line(heap: &Heap, o: ObjRef, p: &DictPair) {
    drop_dict_references(heap, o, p);
}

/// [`drop_references`] for an instance with attributes and no slots.
#[inline]
fn drop_dict_references(heap: &Heap, o: ObjRef, p: &DictPair) {
    let s = p.shape.get();
    if s != dict_mode() {
        // SAFETY: `o`'s own shape, not in dict mode.
        let n = unsafe { shape_len(o.ty(), s) };
        if is_inline(n) {
            // The common instance, its values in its own cells: detached,
            // then released without `drop_attributes`' general walk.
            let cells = p.values.get();
            p.shape.set(core::ptr::null());
            p.values.set(core::ptr::null_mut());
            // SAFETY: the first `n` of the inline cells are set, and `o`
            // no longer points at them.
            return unsafe { release_values(heap, cells, n) };
        }
    }
    drop_attributes(heap, o, &mut [])
}

/// Whether an instance holds no reference in its slots or attributes, as
/// [`drop_references`] leaves it (its payload is not looked at).
pub(crate) fn holds_nothing(o: ObjRef) -> bool {
    let slots_empty = o.ty().layout.slots.iter().all(|&offset| {
        // SAFETY: the slot cell lies inside the instance.
        unsafe { crate::kinds::function::slot_cell(o, offset).as_ptr().read() }.is_none()
    });
    slots_empty && pair(o).is_none_or(|p| p.shape.get().is_null())
}

/// [`drop_references`] for an instance with `n` slots.
#[inline(never)]
fn drop_slots_and_attributes(heap: &Heap, o: ObjRef, n: usize) {
    const INLINE_SLOTS: usize = 8;
    if n <= INLINE_SLOTS {
        drop_attributes(heap, o, &mut [None; INLINE_SLOTS][..n]);
    } else {
        drop_attributes(heap, o, &mut vec![None; n]);
    }
}

/// [`drop_references`] with room in `taken` for the values of the slots.
fn drop_attributes(heap: &Heap, o: ObjRef, taken: &mut [Option<ObjRef>]) {
    for (cell, &offset) in taken.iter_mut().zip(&o.ty().layout.slots) {
        // SAFETY: the slot cell lies inside the instance.
        *cell = unsafe {
            crate::kinds::function::slot_cell(o, offset)
                .as_ptr()
                .replace(None)
        };
    }
    let mut dict = None;
    let mut values = (core::ptr::null_mut::<ObjRef>(), 0);
    if let Some(p) = pair(o) {
        let s = p.shape.get();
        if s == dict_mode() {
            dict = Some(dict_of(p));
        } else {
            // SAFETY: read from `o`'s pair just above, not in dict mode.
            values = (p.values.get(), unsafe { shape_len(o.ty(), s) });
        }
        p.shape.set(core::ptr::null());
        p.values.set(core::ptr::null_mut());
    }
    for v in taken.iter().flatten() {
        v.decref();
    }
    if let Some(d) = dict {
        d.decref();
    }
    // SAFETY: the values `o` held, detached from it above.
    unsafe { release_values(heap, values.0, values.1) };
}

/// Releases everything a dead instance holds: its payload's clear and
/// finalize hooks run (on the instance revived), then its slots and
/// attributes are dropped. Returns whether it may be freed: false when the
/// payload's hooks resurrected it (it then lives on intact, and its hooks
/// run again when it next dies).
#[inline]
pub(crate) fn clear(heap: &Heap, o: ObjRef) -> bool {
    if o.ty().layout.payload.is_none() {
        drop_references(heap, o);
        return true;
    }
    let clear = payload_hook(o, Hook::Clear);
    let finalize = payload_hook(o, Hook::Finalize);
    if clear.is_none() && finalize.is_none() {
        drop_references(heap, o);
        return true;
    }
    // Only the hooks are host code that gets `o` itself: they run on it
    // revived. (What the references dropped run cannot reach `o`: nothing
    // counts it and its weak references are cleared.)
    let dead = run_revived(heap, o, || {
        if let Some((payload, hooks)) = clear {
            hooks.clear(payload);
        }
        if let Some((payload, hooks)) = finalize {
            hooks.finalize(payload);
        }
    });
    if dead {
        drop_references(heap, o);
    }
    dead
}

/// An instance's payload and the hooks that define `hook` for it: its
/// class's, or the nearest base's that define it (hooks are inherited one
/// by one, so a class that defines only `finalize` keeps its base's
/// `traverse` and `clear`).
fn payload_hook(o: ObjRef, hook: Hook) -> Option<(NonNull<u8>, &'static dyn PayloadHooks)> {
    let ty = o.ty();
    let (offset, _) = ty.layout.payload?;
    let hooks = ty
        .mro_types()
        .filter_map(|t| t.hooks.as_deref())
        .find(|h| h.defines(hook))?;
    // SAFETY: the payload lies at `offset` inside the instance.
    Some((
        unsafe { NonNull::new_unchecked(o.cast::<u8>().as_ptr().add(offset)) },
        hooks,
    ))
}
/// Where things lie in a class's instances ([`Obj::instance_layout`]), in
/// bytes from the start of an instance (its header; the cycle collector's
/// links come before it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstanceLayout {
    /// The size of an instance.
    pub size: usize,
    /// The offset of each slot, in order.
    pub slots: Vec<usize>,
    /// The offset of the `shape|values` pair, when instances have a `__dict__`.
    pub dict_offset: Option<usize>,
    /// The bytes of the host payload, when the class (or a base) declared one.
    pub payload: Option<core::ops::Range<usize>>,
}

impl<'h> Obj<'h> {
    /// The host payload of an instance whose class has one.
    pub fn payload(&self) -> Option<core::ptr::NonNull<u8>> {
        let o = self.raw();
        let (offset, _) = o
            .ty()
            .layout
            .payload
            .filter(|_| o.ty().kind == Kind::Object)?;
        // SAFETY: the payload lies at `offset` inside the instance.
        Some(unsafe { core::ptr::NonNull::new_unchecked(o.cast::<u8>().as_ptr().add(offset)) })
    }

    /// Where slots, `__dict__` and payload lie in a class's instances (for
    /// showing the layout). `None` for anything but a class whose instances
    /// are plain objects (`object` or a class made by [`Heap::new_type`];
    /// not `int` & co.).
    pub fn instance_layout(&self) -> Option<InstanceLayout> {
        let t = self.raw();
        if t.ty().kind != Kind::Type {
            return None;
        }
        // SAFETY: just checked the kind; `self` holds the type.
        let ty = unsafe { crate::kinds::type_object::as_type(t) };
        let l = (ty.kind == Kind::Object).then_some(&ty.layout)?;
        Some(InstanceLayout {
            size: l.size,
            slots: l.slots.clone(),
            dict_offset: l.dict_offset,
            payload: l.payload.map(|(offset, size)| offset..offset + size),
        })
    }
}

/// The error for a missing attribute on an instance.
pub(crate) fn no_attribute(o: ObjRef, name: ObjRef) -> Error {
    Error::attribute(format!(
        "'{}' object has no attribute '{}'",
        o.ty().name_str(),
        crate::kinds::str::text(name).unwrap_or_default()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::type_object::as_type;
    use crate::with_heap;
    use crate::{ErrorKind, Obj, TypeSpec};

    fn shapes_of(class: &Obj<'_>) -> usize {
        // SAFETY: the tests pass classes they hold.
        unsafe { as_type(class.raw()) }.shapes.count.get()
    }

    /// The names `a0`, `a1`, ... interned.
    fn names(heap: &Heap, n: usize) -> Vec<String> {
        let names: Vec<String> = (0..n).map(|i| format!("a{i}")).collect();
        for n in &names {
            heap.intern(n).unwrap();
        }
        names
    }

    #[test]
    fn a_shape_holds_at_most_max_shape_keys() {
        with_heap(|heap| {
            let c = heap.new_type("C", &[], &TypeSpec::dict()).unwrap();
            let names = names(heap, MAX_SHAPE_KEYS + 1);
            let o = c.call(&[]).unwrap();
            for n in &names[..MAX_SHAPE_KEYS] {
                o.setattr(n, &heap.none()).unwrap();
            }
            assert!(!current_shape(o.raw()).is_null(), "still sharing keys");
            o.setattr(&names[MAX_SHAPE_KEYS], &heap.none()).unwrap();
            assert!(current_shape(o.raw()).is_null(), "dict mode");
            assert_eq!(shapes_of(&c), MAX_SHAPE_KEYS + 1);
            for n in &names {
                assert!(o.getattr(n).unwrap().is_none());
            }
            // Another instance shares the shapes made, then gets a dict too.
            let p = c.call(&[]).unwrap();
            for n in &names {
                p.setattr(n, &heap.none()).unwrap();
            }
            assert!(current_shape(p.raw()).is_null());
            assert_eq!(shapes_of(&c), MAX_SHAPE_KEYS + 1);
        });
    }

    #[test]
    #[cfg_attr(miri, ignore = "2,048 instances")]
    fn a_class_has_at_most_max_shapes() {
        with_heap(|heap| {
            let c = heap.new_type("C", &[], &TypeSpec::dict()).unwrap();
            let objs: Vec<_> = (0..2 * MAX_SHAPES)
                .map(|i| {
                    let o = c.call(&[]).unwrap();
                    o.setattr(&format!("own{i}"), &heap.none()).unwrap();
                    o.setattr("shared", &heap.int(i as i64).unwrap()).unwrap();
                    o
                })
                .collect();
            assert_eq!(shapes_of(&c), MAX_SHAPES);
            for (i, o) in objs.iter().enumerate() {
                assert!(o.getattr(&format!("own{i}")).unwrap().is_none());
                assert_eq!(o.getattr("shared").unwrap().as_int(), Some(i as i64));
            }
            // Instances whose shapes exist still share them.
            let o = c.call(&[]).unwrap();
            o.setattr("own0", &heap.none()).unwrap();
            assert!(!current_shape(o.raw()).is_null());
        });
    }

    #[test]
    fn shapes_live_in_the_heap() {
        with_heap(|heap| {
            let c = heap.new_type("C", &[], &TypeSpec::dict()).unwrap();
            let names = names(heap, MAX_SHAPE_KEYS);
            let bytes = || heap.stats().memory.bytes_in_use;
            let fill = || {
                let o = c.call(&[]).unwrap();
                let before = bytes();
                for n in &names {
                    o.setattr(n, &heap.none()).unwrap();
                }
                bytes() - before
            };
            let making_shapes = fill();
            let reusing_them = fill();
            // At least the keys: 8 bytes each, 1 + 2 + ... + 30 of them.
            let keys = 8 * MAX_SHAPE_KEYS * (MAX_SHAPE_KEYS + 1) / 2;
            assert!(
                making_shapes >= reusing_them + keys,
                "shapes are counted: {making_shapes} bytes to make, {reusing_them} to reuse"
            );
        });
    }

    #[test]
    fn a_failed_allocation_leaves_the_instance_as_it_was() {
        with_heap(|heap| {
            let c = heap.new_type("C", &[], &TypeSpec::dict()).unwrap();
            let names = names(heap, MAX_SHAPE_KEYS + 3);
            let o = c.call(&[]).unwrap();
            for (i, n) in names.iter().enumerate() {
                let value = heap.int(i as i64).unwrap();
                for nth in 1.. {
                    heap.fail_allocation(Some(nth));
                    let r = o.setattr(n, &value);
                    let failed_on_purpose = !heap.fail_allocation(None);
                    match r {
                        Ok(()) => break,
                        Err(e) => {
                            assert_eq!(e.kind(), ErrorKind::NoMemory);
                            assert!(failed_on_purpose);
                            assert!(o.getattr(n).is_err(), "{n} was not set");
                        }
                    }
                    for (j, m) in names[..i].iter().enumerate() {
                        assert_eq!(o.getattr(m).unwrap().as_int(), Some(j as i64));
                    }
                }
                heap.check().unwrap();
            }
        });
    }
}
