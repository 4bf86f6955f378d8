//! Instance attributes: shared key layouts ("shapes") and the values.
//!
//! Instances of one class that get the same attributes in the same order
//! share one shape: the names live once in the shape, and each instance
//! stores only its values (PEP 412's key-sharing, V8's hidden classes).
//! An instance's attribute area is two words, read by their low bits
//! (values, arrays and dicts are 16-byte aligned):
//!
//! ```text
//!   area at dict_offset     the attributes
//!  +---------+---------+
//!  |    0    |    0    |    none yet: the class's root shape
//!  +---------+---------+
//!  | value 0 | 0 or v1 |    1 or 2 values inline, in the keys order of
//!  +---------+---------+    the class's inline shape for 1 or 2 keys
//!  | shape|1 |  cells  |    any shape: the values in an array of their own
//!  +---------+---------+    (capacity: keys rounded up to even)
//!  | dict|2  |    0    |    dict mode: a real dict
//!  +---------+---------+
//! ```
//!
//! So an instance whose attributes follow its class's usual order (the
//! first two set in the same order as on the class's first instance to set
//! two) is one 48-byte block, links and header included, as CPython 3.13's
//! inline values are: its shape is implied by how many values it has. Its
//! class's inline shapes are chosen once, by the first instance to reach
//! each ([`ShapeTree::inline`]); an instance that takes another path, or
//! gets a third attribute, moves its values to an array (and its shape to
//! the second word) for good.
//!
//! Shapes form a tree per class: adding attribute `k` to an instance of
//! shape `S` moves it to `S`'s child for `k` (made once, then shared).
//! Deleting an attribute, or asking for `__dict__`, turns the instance into
//! dict mode.
//!
//! Each shape holds all its keys, so the tree is kept small, and in the
//! heap's memory (its limit counts it): a shape has at most
//! [`MAX_SHAPE_KEYS`] keys (CPython's shared keys hold 30 too), a class's
//! tree at most [`MAX_SHAPES`] shapes; an instance that would need a shape
//! past either bound moves to dict mode instead. So a class's shapes take
//! at most `MAX_SHAPES` × ~350 bytes, and a lookup in a shape compares at
//! most `MAX_SHAPE_KEYS` keys.
//!
//! Key invariants: an instance's shape is one of its class's inline shapes
//! exactly when its values are inline (shapes are never shared between
//! the two ways of holding values); value cell `i` (inline or in the
//! array) holds a counted reference to the value of `keys[i]`.

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

/// Values an instance holds in its own attribute area.
pub(crate) const INLINE_VALUES: usize = 2;

/// Bytes of an instance's attribute area.
pub(crate) const DICT_AREA_SIZE: usize = INLINE_VALUES * size_of::<ObjRef>();

/// The low bit of an area's first word when the values are in an array.
const SPILLED: usize = 1;
/// The low bit of an area's first word when it holds a dict.
const DICT: usize = 2;
/// The tag bits of an area's first word: none while its values are inline
/// (or it has none).
pub(crate) const TAGS: usize = SPILLED | DICT;

/// An instance's attribute area (see the module documentation).
#[repr(C)]
pub(crate) struct Attrs {
    words: [Cell<*mut u8>; INLINE_VALUES],
}

/// How an instance holds its attributes, as its area says.
#[derive(Clone, Copy)]
enum Held {
    /// None yet: the class's root shape.
    Nothing,
    /// This many values (1 or 2), inline, laid out by the class's inline
    /// shape for as many keys.
    Inline(usize),
    /// Values in an array of the heap's, laid out by `shape`.
    Spilled {
        cells: *mut ObjRef,
        shape: *const Shape,
    },
    /// A dict, which the instance holds.
    Dict(ObjRef),
}

impl Attrs {
    #[inline]
    fn held(&self) -> Held {
        let first = self.words[0].get();
        match first.addr() & TAGS {
            0 if first.is_null() => Held::Nothing,
            0 => Held::Inline(1 + usize::from(!self.words[1].get().is_null())),
            SPILLED => Held::Spilled {
                cells: self.words[1].get().cast(),
                shape: first.map_addr(|a| a & !TAGS).cast_const().cast(),
            },
            _ => Held::Dict(ObjRef(
                NonNull::new(first.map_addr(|a| a & !TAGS).cast()).expect("a dict"),
            )),
        }
    }

    /// The area's words as value cells (inline mode).
    #[inline]
    fn inline_cells(&self) -> *mut ObjRef {
        // `Cell<*mut u8>` is a pointer, as `ObjRef` is; writes through an
        // `UnsafeCell` are allowed.
        self.words.as_ptr().cast_mut().cast()
    }

    /// The cells of the values, inline or in their array (not dict mode).
    #[inline]
    fn cells(&self) -> *mut ObjRef {
        if self.words[0].get().addr() & SPILLED == 0 {
            self.inline_cells()
        } else {
            self.words[1].get().cast()
        }
    }

    /// See [`shape_token`].
    #[inline]
    fn token(&self) -> usize {
        let first = self.words[0].get();
        if first.addr() & TAGS != 0 {
            first.addr()
        } else {
            1 + usize::from(!first.is_null()) + usize::from(!self.words[1].get().is_null())
        }
    }

    fn set(&self, first: *mut u8, second: *mut u8) {
        self.words[0].set(first);
        self.words[1].set(second);
    }

    fn set_spilled(&self, cells: *mut ObjRef, shape: *const Shape) {
        self.set(
            shape.cast_mut().cast::<u8>().map_addr(|a| a | SPILLED),
            cells.cast(),
        );
    }

    fn set_dict(&self, d: ObjRef) {
        self.set(
            d.cast::<u8>().as_ptr().map_addr(|a| a | DICT),
            core::ptr::null_mut(),
        );
    }
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
    /// The shapes of instances whose values are inline, for 1 and 2 keys:
    /// each chosen once (null until then), the second a child of the first.
    inline: [Cell<*const Shape>; INLINE_VALUES],
}

/// The marker "shape" of instances whose class has no `__dict__`.
static NO_DICT_MARKER: u8 = 0;

fn no_dict() -> *const Shape {
    (&raw const NO_DICT_MARKER).cast()
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
            inline: [const { Cell::new(core::ptr::null()) }; INLINE_VALUES],
        }
    }

    /// The shape of an instance that holds `held` (not a dict).
    #[inline]
    fn shape_of(&self, held: Held) -> *const Shape {
        match held {
            Held::Nothing => &self.root,
            Held::Inline(n) => self.inline[n - 1].get(),
            Held::Spilled { shape, .. } => shape,
            Held::Dict(_) => core::ptr::null(),
        }
    }

    /// Whether an instance of `ty` with `n` values inline, given another
    /// key, keeps its values inline in `child` (the child of its shape for
    /// that key): `child` is, or becomes, `ty`'s inline shape for `n + 1`.
    #[inline]
    fn keeps_inline(ty: &TypeObject, n: usize, child: *const Shape) -> bool {
        let Some(inline) = ty.shapes.inline.get(n) else {
            return false;
        };
        let chosen = inline.get();
        if chosen.is_null() {
            inline.set(child);
            // Cache entries that let instances with values inline read
            // class attributes assume the inline keys chosen so far.
            ty.version.set(0);
            return true;
        }
        chosen == child
    }

    /// The keys an instance of this class may hold inline, as far as the
    /// inline shapes chosen so far say.
    fn inline_keys(&self) -> &[ObjRef] {
        let deepest = self
            .inline
            .iter()
            .rev()
            .map(Cell::get)
            .find(|s| !s.is_null());
        // SAFETY: a chosen inline shape is a live shape of this tree.
        deepest.map_or(&[], |s| unsafe { &(*s).keys })
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

/// Cells of the array of an instance whose values for `n` keys are not
/// inline: `n` rounded up to even.
fn capacity(n: usize) -> usize {
    n.max(1).next_multiple_of(2)
}

/// The attribute area of an instance whose class has a `__dict__`.
#[inline]
fn area(o: ObjRef) -> Option<&'static Attrs> {
    Some(area_at(o, o.ty().layout.dict_offset?))
}

/// The attribute area of `o` at `dict_offset`, which is its type's.
fn area_at(o: ObjRef, dict_offset: usize) -> &'static Attrs {
    debug_assert_eq!(o.ty().layout.dict_offset, Some(dict_offset));
    // SAFETY: the instance's layout has the area at `dict_offset`.
    unsafe { &*o.cast::<u8>().as_ptr().add(dict_offset).cast::<Attrs>() }
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
    match area(o) {
        Some(a) => o.ty().shapes.shape_of(a.held()),
        None => no_dict(),
    }
}

/// A word that names `o`'s shape among its class's, for the call-site
/// caches to compare: read from the attribute area alone, without the
/// class. 1 without attributes; 2 or 3 for one or two values inline; for
/// values in an array, the area's first word (the shape's address, tagged:
/// odd); [`NO_DICT_TOKEN`] without a `__dict__`; in dict mode the first
/// word too (even and past 16: no entry is made for dict mode, so it
/// matches none). Within one class, equal tokens mean equal shapes.
#[inline]
pub(crate) fn shape_token(o: ObjRef) -> usize {
    area(o).map_or(NO_DICT_TOKEN, Attrs::token)
}

/// The [`shape_token`] of instances without a `__dict__`.
pub(crate) const NO_DICT_TOKEN: usize = 4;

/// Value cell `i` of `o`, if `o`'s [`shape_token`] is `token`, a token
/// of a shape with more than `i` keys: a cache's check and its cell, with
/// one look at the attribute area.
#[inline]
pub(crate) fn cell_in_shape(o: ObjRef, token: usize, i: usize) -> Option<*mut ObjRef> {
    let a = area(o)?;
    // SAFETY: the shape of `o` has more than `i` keys (the caller's
    // promise, for the shape the token names).
    (a.token() == token).then(|| unsafe { a.cells().add(i) })
}

/// Whether `o` holds its attribute values inline (at least one).
pub(crate) fn holds_inline(o: ObjRef) -> bool {
    area(o).is_some_and(|a| matches!(a.held(), Held::Inline(_)))
}

/// Whether `o` holds its attributes inline or has none: its keys are then
/// among [`inline_keys_never_include`]'s.
#[inline]
pub(crate) fn holds_inline_or_nothing(o: ObjRef) -> bool {
    area(o).is_some_and(|a| a.words[0].get().addr() & TAGS == 0)
}

/// Whether no instance of `o`'s class that holds its values inline has
/// `name` (interned) among its keys, while the class's version stays as
/// it is now (choosing an inline shape gives the class a new version).
pub(crate) fn inline_keys_never_include(o: ObjRef, name: ObjRef) -> bool {
    !o.ty().shapes.inline_keys().contains(&name)
}

/// The inline cell `i` of `o`, whose attribute area is at `dict_offset`
/// (its type's, which the caller knows), if `o` holds more than `i` values
/// inline: then the cell of its class's inline key `i` (see
/// [`ShapeTree::keeps_inline`]). A check of the area's first word and of
/// the cell; the type is not read.
#[inline]
pub(crate) fn inline_cell(o: ObjRef, dict_offset: usize, i: usize) -> Option<*mut ObjRef> {
    let a = area_at(o, dict_offset);
    if a.words[0].get().addr() & TAGS != 0 {
        return None;
    }
    // SAFETY: `i` is a cell of the area (it was one when the entry asking
    // was recorded); in inline mode it holds a value or null.
    let cell = unsafe { a.inline_cells().add(i) };
    // SAFETY: as above.
    unsafe { cell.cast::<Option<ObjRef>>().read() }.map(|_| cell)
}

/// The value cell `i` of an instance in shape mode.
#[inline]
pub(crate) fn value_at(o: ObjRef, i: usize) -> ObjRef {
    let a = area(o).expect("shape mode");
    // SAFETY: `i < keys.len()`; the cell is set.
    unsafe { *a.cells().add(i) }
}

/// Stores `value` (its count handed over) in value cell `i` of an instance
/// in shape mode; gives back the value it held, counted, for the caller to
/// decref.
#[inline]
pub(crate) fn replace_value_at(o: ObjRef, i: usize, value: ObjRef) -> ObjRef {
    let a = area(o).expect("shape mode");
    // SAFETY: `i < keys.len()`; the cell is set.
    unsafe { a.cells().add(i).replace(value) }
}

/// The instance attribute `name` (interned), borrowed.
pub(crate) fn get(o: ObjRef, name: ObjRef) -> Option<ObjRef> {
    let a = area(o)?;
    let held = a.held();
    match held {
        Held::Nothing => None,
        // SAFETY: in dict mode the instance holds its dict.
        Held::Dict(d) => unsafe { containers::dict_get(d, name) },
        _ => {
            // SAFETY: the shape of `o`, in shape mode: a live shape of its class.
            let i = unsafe { &*o.ty().shapes.shape_of(held) }.index_of(name)?;
            // SAFETY: cell `i` of the shape's keys is set.
            Some(unsafe { *a.cells().add(i) })
        }
    }
}

/// Sets the instance attribute `name` (interned); `value` gains a count.
/// On failure the instance is as it was (if maybe in dict mode now).
pub(crate) fn set(heap: &Heap, o: ObjRef, name: ObjRef, value: ObjRef) -> Result<()> {
    let a = area(o).expect("callers check has_dict");
    let held = a.held();
    if let Held::Dict(d) = held {
        // SAFETY: in dict mode the instance holds its dict.
        return unsafe { containers::dict_set(d, name, value) };
    }
    let tree = &o.ty().shapes;
    // SAFETY: the shape of `o`, in shape mode: a live shape of its class.
    let shape = unsafe { &*tree.shape_of(held) };
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
/// one key: inline if `child` is its class's inline shape for `n + 1`
/// keys, else in an array. On failure (no memory for an array) the
/// instance is as it was.
#[inline]
pub(crate) fn append_value(
    heap: &Heap,
    o: ObjRef,
    n: usize,
    child: *const Shape,
    value: ObjRef,
) -> Result<()> {
    let a = area(o).expect("shape mode");
    // Shape mode: no tag is inline (or nothing yet).
    let inline = a.words[0].get().addr() & TAGS == 0;
    if inline && ShapeTree::keeps_inline(o.ty(), n, child) {
        value.incref();
        // SAFETY: cell `n` is one of the area's (`keeps_inline`: n < 2).
        unsafe { a.inline_cells().add(n).write(value) };
        return Ok(());
    }
    append_to_array(heap, a, inline, n, child, value)
}

/// [`append_value`] for values that go to an array (`inline`: from the
/// area's cells), out of line.
#[inline(never)]
fn append_to_array(
    heap: &Heap,
    a: &Attrs,
    inline: bool,
    n: usize,
    child: *const Shape,
    value: ObjRef,
) -> Result<()> {
    let mut cells = a.cells();
    if inline || n + 1 > capacity(n) {
        let new = heap
            .alloc_raw(capacity(n + 1) * size_of::<ObjRef>())?
            .cast::<ObjRef>()
            .as_ptr();
        // SAFETY: both have room for `n` cells; an old array is freed after
        // the move (the area's words are overwritten below).
        unsafe {
            new.copy_from_nonoverlapping(cells, n);
            if !inline {
                heap.free_raw(
                    NonNull::new_unchecked(cells.cast()),
                    capacity(n) * size_of::<ObjRef>(),
                );
            }
        }
        cells = new;
    }
    value.incref();
    // SAFETY: cell `n` is within capacity(n + 1).
    unsafe { cells.add(n).write(value) };
    a.set_spilled(cells, child);
    Ok(())
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
    let a = area(o).expect("callers check has_dict");
    let held = a.held();
    if let Held::Dict(d) = held {
        return Ok(d);
    }
    let d = containers::new_dict(heap)?;
    // SAFETY: the shape of `o`, in shape mode: a live shape of its class.
    let shape = unsafe { &*o.ty().shapes.shape_of(held) };
    for (i, &k) in shape.keys.iter().enumerate() {
        // SAFETY: `d` is the dict made above.
        if let Err(e) = unsafe { containers::dict_set(d, k, value_at(o, i)) } {
            d.decref();
            return Err(e);
        }
    }
    let old = detach(a);
    a.set_dict(d);
    // SAFETY: detached from `o` just above.
    unsafe { old.release(heap) };
    Ok(d)
}

/// The attributes an instance held, taken from it: it holds none of them
/// any more, and the counts are the holder's to drop ([`Detached::release`]).
enum Detached {
    Nothing,
    /// The inline values, copied out of the instance (which host code that
    /// a decref runs may give attributes again).
    Inline([Option<ObjRef>; INLINE_VALUES]),
    /// An array of `capacity(n)` cells, the first `n` set.
    Array(*mut ObjRef, usize),
    Dict(ObjRef),
}

/// Takes the attributes out of an instance's area `a`, left empty.
#[inline]
fn detach(a: &Attrs) -> Detached {
    let detached = match a.held() {
        Held::Nothing => return Detached::Nothing,
        // SAFETY: the area's words are values or null while inline.
        Held::Inline(_) => Detached::Inline(unsafe {
            a.inline_cells()
                .cast::<[Option<ObjRef>; INLINE_VALUES]>()
                .read()
        }),
        Held::Spilled { cells, shape } => {
            // SAFETY: `o`'s shape, a live shape of its class.
            Detached::Array(cells, unsafe { &*shape }.keys.len())
        }
        Held::Dict(d) => Detached::Dict(d),
    };
    a.set(core::ptr::null_mut(), core::ptr::null_mut());
    detached
}

impl Detached {
    /// Drops the counts held (which may run host code), then frees the
    /// array, if any.
    ///
    /// # Safety
    /// `self` came from [`detach`] on an instance of `heap`.
    #[inline(always)]
    unsafe fn release(self, heap: &Heap) {
        match self {
            Detached::Nothing => {}
            Detached::Inline(values) => values.iter().flatten().for_each(|v| v.decref()),
            // SAFETY: forwarded from the caller.
            Detached::Array(cells, n) => unsafe { release_value_array(heap, cells, n) },
            Detached::Dict(d) => d.decref(),
        }
    }
}

/// Drops the counts of the first `n` of `capacity(n)` cells detached from
/// an instance of `heap`, then frees them; out of line.
///
/// # Safety
/// As above: nothing points at the cells any more.
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
    if let Some(a) = area(o) {
        match a.held() {
            Held::Nothing => {}
            Held::Dict(d) => visit(name(&|| InstanceEdge::Dict), d),
            held => {
                let (cells, n) = match held {
                    Held::Inline(n) => (a.inline_cells(), n),
                    // SAFETY: `o`'s shape, a live shape of its class.
                    Held::Spilled { cells, shape } => (cells, unsafe { &*shape }.keys.len()),
                    Held::Nothing | Held::Dict(_) => unreachable!("matched above"),
                };
                // The collector needs no names (`NAMED` false), so no keys.
                // SAFETY: the shape of `o`, in shape mode: a live shape of its class.
                let keys = NAMED.then(|| &unsafe { &*ty.shapes.shape_of(held) }.keys);
                for i in 0..n {
                    // SAFETY: the first `n` cells are set.
                    let v = unsafe { *cells.add(i) };
                    visit(keys.map(|k| InstanceEdge::Attribute(k[i])), v);
                }
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
fn drop_references_by(heap: &Heap, o: ObjRef, dict: fn(&Heap, &Attrs)) {
    let slots = &o.ty().layout.slots;
    if !slots.is_empty() {
        return drop_slots_and_attributes(heap, o, slots.len());
    }
    match area(o) {
        Some(a) if !a.words[0].get().is_null() => dict(heap, a),
        _ => {} // nothing to drop: no slots, no attribute
    }
}

/// [`drop_dict_references`], out of line.
#[inline(never)]
fn drop_dict_references_out_of_line(heap: &Heap, a: &Attrs) {
    drop_dict_references(heap, a);
}

/// [`drop_references`] for an instance with attributes and no slots.
#[inline]
fn drop_dict_references(heap: &Heap, a: &Attrs) {
    let detached = detach(a);
    // SAFETY: detached from an instance of `heap` just above.
    unsafe { detached.release(heap) };
}

/// Whether an instance holds no reference in its slots or attributes, as
/// [`drop_references`] leaves it (its payload is not looked at).
pub(crate) fn holds_nothing(o: ObjRef) -> bool {
    let slots_empty = o.ty().layout.slots.iter().all(|&offset| {
        // SAFETY: the slot cell lies inside the instance.
        unsafe { crate::kinds::function::slot_cell(o, offset).as_ptr().read() }.is_none()
    });
    slots_empty && area(o).is_none_or(|a| a.words[0].get().is_null())
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
    let attributes = area(o).map(detach);
    for v in taken.iter().flatten() {
        v.decref();
    }
    if let Some(attributes) = attributes {
        // SAFETY: detached from `o`, an instance of `heap`, above.
        unsafe { attributes.release(heap) };
    }
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
    /// The offset of the attribute area (two words), when instances have a
    /// `__dict__`.
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
