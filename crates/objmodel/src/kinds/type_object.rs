//! Types: objects that describe other objects.
//!
//! A type has a name, its bases, its C3 method resolution order (itself
//! first), a namespace dict, the layout of its instances, and optional host
//! hooks. `type` is its own type; `object` is the root of every MRO.
//!
//! Instances of classes ("Object" kind) are laid out as the class's
//! [`Layout`] says, each level of the hierarchy appending to its base's:
//!
//! ```text
//!  0        16                    16+P          +8*S                   +16
//!  +--------+---------------------+-------------+----------------------+
//!  | header | host payload (P)    | slots (S)   | attribute area (2 w) |
//!  +--------+---------------------+-------------+----------------------+
//!           ^ payload_offset      ^ slot i at a fixed offset  ^ dict_offset
//! ```
//!
//! Only one class on a hierarchy's line may add a payload or slots (else
//! the bases' layouts conflict, as in CPython). The attribute area (two
//! words: values inline, or an array and its shape, or a dict; see
//! `instance.rs`) exists when instances have a `__dict__`.
//!
//! Each type has a version tag for the method caches: `0` means "none yet";
//! tags are unique in the process (see `lookup::version`), so a cache entry
//! of a type never matches another type, even of another heap.
//! Changing a type's namespace gives it and every subclass a new version.

use core::cell::{Cell, RefCell};
use core::ptr::NonNull;
use std::collections::HashSet;

use crate::error::{Error, ErrorKind, Result};
use crate::heap::{Builtins, Heap, Names, SMALL_INT_MAX, SMALL_INT_MIN};
use crate::kinds::instance::ShapeTree;
use crate::kinds::{containers, numbers, str};
use crate::lookup::mro;
use crate::object::{HEADER_SIZE, Obj, ObjHeader, ObjRef};

/// What an object of a type is made of (the built-in layout it has).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// An instance of `object` or of a class.
    Object,
    Type,
    NoneType,
    Bool,
    Int,
    Float,
    Str,
    Tuple,
    List,
    Dict,
    Function,
    Method,
    Property,
    Member,
    WeakRef,
}

/// Host hooks of a type with a payload.
///
/// Hooks are inherited one by one: for each hook, an instance uses the
/// nearest class on its MRO whose hooks [`define`](PayloadHooks::defines) it.
pub trait PayloadHooks {
    /// Reports each object referenced from the payload (for the collector).
    fn traverse(&self, _payload: NonNull<u8>, _visit: &mut dyn FnMut(&Obj<'_>)) {}
    /// Drops the references held in the payload.
    fn clear(&self, _payload: NonNull<u8>) {}
    /// The last call before the instance's memory is freed.
    fn finalize(&self, _payload: NonNull<u8>) {}
    /// Whether this class defines `hook` (else a base's is used); all three
    /// by default.
    fn defines(&self, _hook: Hook) -> bool {
        true
    }
}

/// One of the [`PayloadHooks`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hook {
    /// [`PayloadHooks::traverse`].
    Traverse,
    /// [`PayloadHooks::clear`].
    Clear,
    /// [`PayloadHooks::finalize`].
    Finalize,
}

/// The layout of a class's instances.
#[derive(Debug, Clone, Default)]
pub(crate) struct Layout {
    /// Bytes of an instance.
    pub(crate) size: usize,
    /// Offset of the attribute area, when instances have a `__dict__`.
    pub(crate) dict_offset: Option<usize>,
    /// Offset and size of the host payload.
    pub(crate) payload: Option<(usize, usize)>,
    /// Offsets of slots, in order.
    pub(crate) slots: Vec<usize>,
}

/// A type object.
#[repr(C)]
pub(crate) struct TypeObject {
    pub(crate) header: ObjHeader,
    /// This type's handle, as allocated.
    this: ObjRef,
    /// The heap, under no brand of its own (see [`TypeObject::heap`]).
    heap: NonNull<Heap<'static>>,
    /// The heap's owner word (`objgc::Gate::owner_word`), here so that
    /// counting an object needs no trip to its heap: one load of the
    /// pointer, one of the word (relaxed: a change of owner is ordered with
    /// the counts themselves, by the exit hook or the host's handover).
    pub(crate) owner: NonNull<core::sync::atomic::AtomicUsize>,
    /// Version for the method cache; 0 = not assigned. Right after `owner`:
    /// objffi.h's inline call-site cache hits read it at a fixed offset
    /// ([`crate::abi::VERSION_OFFSET`]).
    pub(crate) version: Cell<u64>,
    /// `layout.dict_offset`, or 0 when instances have no `__dict__`: the
    /// same number at a fixed offset ([`crate::abi::AREA_OFFSET_OFFSET`]),
    /// for objffi.h's inline cache hits.
    pub(crate) area_offset: usize,
    /// The heap's attribute cache ([`Heap::attr_site`]), whose entries
    /// objffi.h's inline lookups read at a fixed offset
    /// ([`crate::abi::SHARED_SITES_OFFSET`]).
    pub(crate) attr_sites: NonNull<Cell<crate::lookup::cache::SiteCache>>,
    pub(crate) kind: Kind,
    /// `__name__` (an interned str).
    pub(crate) name: ObjRef,
    /// Module part of a dotted name, for repr (`None`: built-in style).
    pub(crate) module: Option<Box<str>>,
    /// Direct bases, each holding a count.
    pub(crate) bases: Vec<ObjRef>,
    /// Method resolution order, starting with this type (no counts: the
    /// bases keep the rest alive).
    pub(crate) mro: Vec<ObjRef>,
    /// The namespace (a dict with interned-str keys).
    pub(crate) dict: ObjRef,
    pub(crate) layout: Layout,
    pub(crate) hooks: Option<Box<dyn PayloadHooks>>,
    /// Whether the type has a `__del__` (on its MRO), as of the version in
    /// `.0` (0: not known): deallocation asks for every instance.
    pub(crate) has_del: Cell<(u64, bool)>,
    /// A number no other type of the heap has, ever (unlike addresses,
    /// which are reused): what member descriptors remember their class by.
    pub(crate) serial: u64,
    /// Direct subclasses (no counts; they unregister when freed). A set:
    /// a class with many subclasses loses each in constant time.
    pub(crate) subclasses: RefCell<HashSet<ObjRef>>,
    /// Built-in types refuse new attributes.
    pub(crate) immutable: bool,
    /// The nearest type on this type's line (itself included) whose layout
    /// added slots or a payload; `object` if none did. Bases whose solid
    /// types are unrelated have conflicting layouts.
    pub(crate) solid: ObjRef,
    /// The tree of instance shapes (heap memory: see `drop_type_fields`).
    pub(crate) shapes: ShapeTree,
}

impl TypeObject {
    /// The heap this type (and so each of its instances) belongs to.
    ///
    /// Under any brand the caller needs: an object's brand is its heap's
    /// (`heap.rs`), which the caller already holds.
    #[inline]
    pub(crate) fn heap<'h>(&self) -> &'h Heap<'h> {
        // SAFETY: a type never outlives its heap (Heap::drop frees them all).
        unsafe { self.heap.cast::<Heap<'h>>().as_ref() }
    }

    /// `__name__` as text.
    pub(crate) fn name_str(&self) -> &str {
        // SAFETY: a type's `name` is an interned str (immortal) from the
        // end of `bootstrap` on, and nothing asks a type its name before.
        unsafe { str::as_str(self.name) }
    }

    /// The types of the MRO, this type first.
    #[inline]
    pub(crate) fn mro_types(&self) -> impl Iterator<Item = &TypeObject> {
        // SAFETY: an MRO holds types only (`alloc_type`), kept alive by
        // this type (itself and, through its bases, the rest).
        self.mro.iter().map(|&t| unsafe { as_type(t) })
    }

    /// The direct bases (each a type this type holds a count on).
    pub(crate) fn base_types(&self) -> impl Iterator<Item = &TypeObject> {
        // SAFETY: bases are types (checked by `new_type_with_hooks`, built-in
        // in `bootstrap`), each holding a count of this type's.
        self.bases.iter().map(|&t| unsafe { as_type(t) })
    }

    /// The type `solid` names.
    pub(crate) fn solid_type(&self) -> &TypeObject {
        // SAFETY: `solid` is this type or one on its MRO, kept alive by it.
        unsafe { as_type(self.solid) }
    }

    /// The type's own handle (with the provenance of its whole block, which
    /// a pointer made from `&self` would not have: the collector's links
    /// sit before the header).
    pub(crate) fn as_ref(&self) -> ObjRef {
        self.this
    }

    /// Whether `self` is `other` or a subclass of it.
    pub(crate) fn is_subtype(&self, other: ObjRef) -> bool {
        self.mro.contains(&other)
    }
}

/// The type behind a type object's handle.
///
/// # Safety
/// `o` is a live type, and the reference is used only while it stays alive
/// (the caller holds a count on it, or on what holds it).
#[inline]
pub(crate) unsafe fn as_type(o: ObjRef) -> &'static TypeObject {
    debug_assert_eq!(o.ty().kind, Kind::Type);
    // SAFETY: a type object is a `TypeObject` (the caller's promise), alive
    // while the caller uses it.
    unsafe { o.cast::<TypeObject>().as_ref() }
}

impl Obj<'_> {
    /// Whether the object is a type.
    pub fn is_type(&self) -> bool {
        self.raw().ty().kind == Kind::Type
    }
}

/// What a new type is made of.
pub(crate) struct TypeParts {
    pub(crate) name: ObjRef,
    pub(crate) module: Option<Box<str>>,
    pub(crate) kind: Kind,
    pub(crate) bases: Vec<ObjRef>,
    pub(crate) layout: Layout,
    pub(crate) hooks: Option<Box<dyn PayloadHooks>>,
    pub(crate) immutable: bool,
    /// `None`: the new type itself.
    pub(crate) solid: Option<ObjRef>,
    /// The namespace dict (the new type takes over its count).
    pub(crate) dict: ObjRef,
}

/// Allocates a type object of metatype `meta` (`None`: the type is its own
/// metatype, as `type` is). On failure the caller still owns `parts.dict`.
///
/// # Safety
/// `meta` is a live type of `heap`, and `parts.bases` and `mro` hold live
/// types of `heap`.
unsafe fn alloc_type(
    heap: &Heap,
    meta: Option<ObjRef>,
    parts: TypeParts,
    mro: Vec<ObjRef>,
) -> Result<ObjRef> {
    let size = size_of::<TypeObject>();
    let o = match meta {
        // SAFETY: `meta` is a type of `heap` (the caller's promise).
        Some(meta) => unsafe { heap.alloc_object(meta, size) },
        // `type`: its own type, set below.
        None => heap.alloc_block(Kind::Type, size, heap.is_owner_thread()),
    };
    let o = o?;
    if meta.is_none() {
        o.header().ty.set(o.cast::<TypeObject>().as_ptr());
    }
    for &b in &parts.bases {
        b.incref();
    }
    let mut full_mro = vec![o];
    full_mro.extend(mro);
    // SAFETY: a fresh, zeroed block of the right size; every field is written once.
    unsafe {
        let t = o.cast::<TypeObject>().as_ptr();
        (&raw mut (*t).this).write(o);
        (&raw mut (*t).heap).write(NonNull::from(heap).cast());
        (&raw mut (*t).owner).write(NonNull::from(heap.gate.owner_word()));
        (&raw mut (*t).kind).write(parts.kind);
        (&raw mut (*t).name).write(parts.name);
        (&raw mut (*t).module).write(parts.module);
        (&raw mut (*t).bases).write(parts.bases);
        (&raw mut (*t).mro).write(full_mro);
        (&raw mut (*t).dict).write(parts.dict);
        (&raw mut (*t).area_offset).write(parts.layout.dict_offset.unwrap_or(0));
        (&raw mut (*t).attr_sites).write(heap.attr_sites_start());
        (&raw mut (*t).layout).write(parts.layout);
        (&raw mut (*t).hooks).write(parts.hooks);
        (&raw mut (*t).version).write(Cell::new(0));
        (&raw mut (*t).has_del).write(Cell::new((0, false)));
        (&raw mut (*t).serial).write(heap.next_type_serial());
        (&raw mut (*t).subclasses).write(RefCell::new(HashSet::new()));
        (&raw mut (*t).immutable).write(parts.immutable);
        (&raw mut (*t).solid).write(parts.solid.unwrap_or(o));
        (&raw mut (*t).shapes).write(ShapeTree::new(heap));
    }
    // SAFETY: `o` was just made a type; the caller holds it.
    let ty = unsafe { as_type(o) };
    for b in ty.base_types() {
        b.subclasses.borrow_mut().insert(o);
    }
    heap.register_owner(o);
    Ok(o)
}

/// Releases what a dead type holds (its counts, its shapes and its
/// Rust-side memory).
///
/// # Safety
/// `o` is a dead type, cleared once.
pub(crate) unsafe fn clear_type(o: ObjRef) {
    // SAFETY: `o` is a type, dead but not yet freed (the caller's promise).
    let ty = unsafe { as_type(o) };
    for b in ty.base_types() {
        b.subclasses.borrow_mut().remove(&o);
    }
    let (bases, dict) = (ty.bases.clone(), ty.dict);
    // SAFETY: the type is dead, and so are its instances (each held a
    // count on it): nothing points into its shapes, dropped once here.
    unsafe { core::ptr::drop_in_place(&raw mut (*o.cast::<TypeObject>().as_ptr()).shapes) };
    // SAFETY: forwarded.
    unsafe { drop_type_fields(o) };
    dict.decref();
    for b in bases {
        b.decref();
    }
}

/// Drops a type's Rust-side fields without touching counts. Its shapes are
/// heap memory, not Rust-side: `clear_type` frees them, and a heap being
/// dropped frees them with the rest of its memory.
///
/// # Safety
/// `o` is a type that is never used again.
pub(crate) unsafe fn drop_type_fields(o: ObjRef) {
    // SAFETY: each owned field is dropped exactly once.
    unsafe {
        let t = o.cast::<TypeObject>().as_ptr();
        core::ptr::drop_in_place(&raw mut (*t).module);
        core::ptr::drop_in_place(&raw mut (*t).bases);
        core::ptr::drop_in_place(&raw mut (*t).mro);
        core::ptr::drop_in_place(&raw mut (*t).hooks);
        core::ptr::drop_in_place(&raw mut (*t).subclasses);
        core::ptr::drop_in_place(&raw mut (*t).layout);
    }
}

/// Creates the built-in types and values of a new heap and installs them.
///
/// The types come first, with their names and namespaces missing (the
/// types `str` and `dict` do not exist yet: each type stands in for its own
/// name and namespace); once every built-in type exists the heap's builtins
/// are installed and the names and namespaces are made and patched in.
pub(crate) fn bootstrap(heap: &Heap) -> Result<()> {
    let builtin =
        |kind: Kind, base: Option<ObjRef>, meta: Option<ObjRef>, size: usize| -> Result<ObjRef> {
            // SAFETY: `base` is a built-in type made just before, immortal.
            let mro = base
                .map(|b| unsafe { as_type(b) }.mro.clone())
                .unwrap_or_default();
            let layout = Layout {
                size,
                ..Layout::default()
            };
            let parts = TypeParts {
                name: heap_placeholder(),
                module: None,
                kind,
                bases: base.into_iter().collect(),
                layout,
                hooks: None,
                immutable: true,
                solid: None,
                dict: heap_placeholder(),
            };
            // SAFETY: `meta`, `base` and its MRO are built-in types made
            // before, immortal.
            let t = unsafe { alloc_type(heap, meta, parts, mro)? };
            heap.make_immortal(t);
            Ok(t)
        };
    let type_ = builtin(Kind::Type, None, None, size_of::<TypeObject>())?;
    let object = builtin(Kind::Object, None, Some(type_), HEADER_SIZE)?;
    // `type` derives from `object`, which did not exist when `type` was made.
    // SAFETY: `type` is initialised and nothing holds references into its vectors.
    unsafe {
        let t = type_.cast::<TypeObject>().as_ptr();
        (*t).bases.push(object);
        (*t).mro.push(object);
        (*t).solid = object;
    }
    // SAFETY: `object` is the built-in type made above, immortal.
    unsafe { as_type(object) }
        .subclasses
        .borrow_mut()
        .insert(type_);
    let sub = |kind: Kind| builtin(kind, Some(object), Some(type_), 0);
    let none_type = sub(Kind::NoneType)?;
    let int = sub(Kind::Int)?;
    let bool_ = builtin(Kind::Bool, Some(int), Some(type_), 0)?;
    let float = sub(Kind::Float)?;
    let str_ = sub(Kind::Str)?;
    let tuple = sub(Kind::Tuple)?;
    let list = sub(Kind::List)?;
    let dict = sub(Kind::Dict)?;
    let function = sub(Kind::Function)?;
    let method = sub(Kind::Method)?;
    let property = sub(Kind::Property)?;
    let member = sub(Kind::Member)?;
    let weakref = sub(Kind::WeakRef)?;
    let all = [
        (type_, "type"),
        (object, "object"),
        (none_type, "NoneType"),
        (int, "int"),
        (bool_, "bool"),
        (float, "float"),
        (str_, "str"),
        (tuple, "tuple"),
        (list, "list"),
        (dict, "dict"),
        (function, "builtin_function_or_method"),
        (method, "method"),
        (property, "property"),
        (member, "member_descriptor"),
        (weakref, "weakref"),
    ];
    // Values and names are made once the builtins are installed; until then
    // these fields hold `object` as a stand-in.
    heap.install_builtins(Builtins {
        object,
        type_,
        int,
        float,
        str_,
        tuple,
        list,
        dict,
        function,
        method,
        property,
        member,
        weakref,
        none: object,
        true_: object,
        false_: object,
        small_ints: [object; (SMALL_INT_MAX - SMALL_INT_MIN + 1) as usize],
        names: Names {
            init: object,
            getattr: object,
            del: object,
            repr: object,
            class: object,
            dict: object,
            name: object,
            bases: object,
            mro: object,
        },
    });
    for (t, name) in all {
        let name = str::intern(heap, name)?;
        let ns = containers::new_dict(heap)?;
        // SAFETY: the placeholders are not counted references; these fields are written once.
        unsafe {
            let p = t.cast::<TypeObject>().as_ptr();
            (*p).name = name;
            (*p).dict = ns;
        }
    }
    // SAFETY: `none_type` is a built-in type made above, immortal.
    let none = unsafe { heap.alloc_object(none_type, HEADER_SIZE)? };
    heap.make_immortal(none);
    // SAFETY: `bool_` is the built-in bool type made above, immortal.
    let (true_, false_) = unsafe {
        (
            numbers::new_int_object(heap, bool_, 1)?,
            numbers::new_int_object(heap, bool_, 0)?,
        )
    };
    true_.make_immortal();
    false_.make_immortal();
    let mut small_ints = [object; (SMALL_INT_MAX - SMALL_INT_MIN + 1) as usize];
    for (i, slot) in small_ints.iter_mut().enumerate() {
        // SAFETY: `int` is the built-in int type made above, immortal.
        let v = unsafe { numbers::new_int_object(heap, int, SMALL_INT_MIN + i as i64)? };
        v.make_immortal();
        *slot = v;
    }
    let n = |s: &str| str::intern(heap, s);
    let names = Names {
        init: n("__init__")?,
        getattr: n("__getattr__")?,
        del: n("__del__")?,
        repr: n("__repr__")?,
        class: n("__class__")?,
        dict: n("__dict__")?,
        name: n("__name__")?,
        bases: n("__bases__")?,
        mro: n("__mro__")?,
    };
    // SAFETY: bootstrap runs before the heap is handed out; nothing borrows
    // the builtins, and the patch only stores.
    unsafe {
        heap.patch_builtins(|b| {
            b.none = none;
            b.true_ = true_;
            b.false_ = false_;
            b.small_ints = small_ints;
            b.names = names;
        })
    };
    Ok(())
}

/// A stand-in handle for fields filled later in bootstrap.
fn heap_placeholder() -> ObjRef {
    ObjRef(NonNull::dangling())
}

/// How a new class's instances carry their attributes.
#[derive(Default, Clone)]
pub struct TypeSpec<'a> {
    /// Bytes of host data per instance (rounded up to 16).
    pub payload_size: usize,
    /// Fixed-offset fields, like `__slots__`.
    pub slots: &'a [&'a str],
    /// Whether instances also get a `__dict__` (ignored if a base has one).
    pub has_dict: bool,
}

impl<'a> TypeSpec<'a> {
    /// A class like Python's default: no payload, no slots, a `__dict__`.
    pub fn dict() -> Self {
        Self {
            payload_size: 0,
            slots: &[],
            has_dict: true,
        }
    }
}

impl<'h> Heap<'h> {
    /// Creates a class. `name` may be dotted (`"mod.Name"`): the part after
    /// the last dot is `__name__`, as for CPython's `PyType_FromSpec`. No
    /// bases means `(object,)`.
    pub fn new_type(&self, name: &str, bases: &[&Obj<'h>], spec: &TypeSpec<'_>) -> Result<Obj<'h>> {
        self.new_type_with_hooks(name, bases, spec, None)
    }

    /// [`Heap::new_type`] with hooks for the host payload.
    pub fn new_type_with_hooks(
        &self,
        name: &str,
        bases: &[&Obj<'h>],
        spec: &TypeSpec<'_>,
        hooks: Option<Box<dyn PayloadHooks>>,
    ) -> Result<Obj<'h>> {
        let mut base_refs: Vec<ObjRef> = Vec::with_capacity(bases.len().max(1));
        let mut base_types: Vec<&TypeObject> = Vec::with_capacity(bases.len().max(1));
        for b in bases {
            let b = b.raw();
            debug_assert!(self.owns(b));
            if b.ty().kind != Kind::Type {
                return Err(Error::type_error(format!(
                    "bases must be types, not '{}'",
                    b.ty().name_str()
                )));
            }
            // SAFETY: just checked the kind; the caller holds `b`.
            let ty = unsafe { as_type(b) };
            if ty.kind != Kind::Object {
                return Err(Error::type_error(format!(
                    "type '{}' is not an acceptable base type",
                    ty.name_str()
                )));
            }
            base_refs.push(b);
            base_types.push(ty);
        }
        if base_refs.is_empty() {
            base_refs.push(self.b().object);
            // SAFETY: the built-in `object`, immortal.
            base_types.push(unsafe { as_type(self.b().object) });
        }
        // CPython's order: the layout (its best base) first, then the slot
        // names, then duplicate bases, then the MRO.
        let (layout, solid) = layout_for(&base_types, spec)?;
        if !spec.slots.iter().all(|s| is_identifier(s)) {
            return Err(Error::type_error("__slots__ must be identifiers"));
        }
        let duplicate = (1..base_refs.len()).find(|&i| base_refs[..i].contains(&base_refs[i]));
        if let Some(i) = duplicate {
            return Err(Error::type_error(format!(
                "duplicate base class {}",
                base_types[i].name_str()
            )));
        }
        let base_mros: Vec<&[ObjRef]> = base_types.iter().map(|b| b.mro.as_slice()).collect();
        let mro = mro::c3_merge(&base_mros, &base_refs, |t| {
            // SAFETY: the merge names only entries of the bases' MROs:
            // types, kept alive by the bases the caller holds.
            unsafe { as_type(t) }.name_str().to_owned()
        })
        .map_err(|m| Error::new(ErrorKind::Mro, m))?;
        let (module, short) = match name.rsplit_once('.') {
            Some((m, n)) => (Some(m.into()), n),
            None => (None, name),
        };
        let name = str::intern(self, short)?;
        let slot_names: Vec<ObjRef> = spec
            .slots
            .iter()
            .map(|s| str::intern(self, s))
            .collect::<Result<_>>()?;
        let dict = containers::new_dict(self)?;
        let parts = TypeParts {
            name,
            module,
            kind: Kind::Object,
            bases: base_refs,
            layout,
            hooks,
            immutable: false,
            solid,
            dict,
        };
        // SAFETY: `type` is built-in; the bases were checked above and the
        // MRO merged from theirs.
        let t = unsafe { alloc_type(self, Some(self.b().type_), parts, mro) }
            .inspect_err(|_| dict.decref())?;
        let t = t.into_obj();
        // Slots are member descriptors in the namespace.
        // SAFETY: `t` was just made a type, and is held.
        let ty = unsafe { as_type(t.raw()) };
        let own_slots = &ty.layout.slots[ty.layout.slots.len() - slot_names.len()..];
        for (&key, &offset) in slot_names.iter().zip(own_slots) {
            let member = crate::kinds::function::new_member(self, key, ty, offset)?.into_obj();
            // SAFETY: a type's namespace is a dict, which the type holds.
            unsafe { containers::dict_set(ty.dict, key, member.raw())? };
        }
        Ok(t)
    }
}

/// Whether `s` is an identifier, as Python's `str.isidentifier()` says: a
/// letter or `_`, then letters, digits or `_` (Unicode's XID classes).
fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c == '_' || unicode_ident::is_xid_start(c))
        && chars.all(unicode_ident::is_xid_continue)
}

/// The layout of a new class's instances and its solid type (`None`: the
/// class itself adds slots or a payload).
fn layout_for(bases: &[&TypeObject], spec: &TypeSpec<'_>) -> Result<(Layout, Option<ObjRef>)> {
    // The best base: the one whose solid type derives from every other's.
    let mut best = bases[0];
    for &b in &bases[1..] {
        let (s_best, s_b) = (best.solid_type(), b.solid_type());
        if s_best.is_subtype(s_b.as_ref()) {
            continue;
        }
        if s_b.is_subtype(s_best.as_ref()) {
            best = b;
        } else {
            return Err(Error::type_error(
                "multiple bases have instance lay-out conflict",
            ));
        }
    }
    let mut layout = best.layout.clone();
    let adds = spec.payload_size > 0 || !spec.slots.is_empty();
    if spec.payload_size > 0 {
        if layout.payload.is_some() {
            return Err(Error::type_error(
                "multiple bases have instance lay-out conflict",
            ));
        }
        // Instances must stay far below what an allocation can be.
        const MAX_PAYLOAD: usize = isize::MAX as usize / 2;
        if spec.payload_size > MAX_PAYLOAD {
            return Err(Error::new(
                ErrorKind::Value,
                format!(
                    "payload_size {} is too large (at most {MAX_PAYLOAD})",
                    spec.payload_size
                ),
            ));
        }
        let offset = layout.size.next_multiple_of(16);
        layout.payload = Some((offset, spec.payload_size));
        layout.size = offset + spec.payload_size.next_multiple_of(16);
    }
    for _ in spec.slots {
        layout.slots.push(layout.size);
        layout.size += size_of::<ObjRef>();
    }
    let base_has_dict = bases.iter().any(|b| b.layout.dict_offset.is_some());
    if layout.dict_offset.is_none() && (spec.has_dict || base_has_dict) {
        layout.dict_offset = Some(layout.size);
        layout.size += crate::kinds::instance::DICT_AREA_SIZE;
    }
    let solid = if adds { None } else { Some(best.solid) };
    Ok((layout, solid))
}
