//! objmodel as a host of objgc's cycle collector.
//!
//! Objects that can hold references (instances, types, tuples, lists,
//! dicts, bound methods, properties) are *containers*: their block starts
//! with objgc's 16-byte links, and the object follows:
//!
//! ```text
//!   block: | GcLinks (next, prev) | header (refcount, type) | fields ... |
//!          ^ links = object - 16  ^ the object (what ObjRef points to)
//! ```
//!
//! int, float, str, None, functions and members hold no references to
//! tracked objects and carry no links. A container is tracked from its
//! allocation until its count reaches zero; immortal built-ins are never
//! tracked. Automatic collections run at the start of an object allocation,
//! when no object is half-built.

use core::ptr::NonNull;

use objgc::{Gc, GcHost, GcLinks};

use crate::heap::Heap;
use crate::kinds::type_object::{Kind, as_type};
use crate::kinds::{containers, function, instance, weakref};
use crate::object::{Obj, ObjRef};

/// Bytes before a container object: its links.
pub(crate) const LINKS_SIZE: usize = size_of::<GcLinks>();
const _: () = assert!(LINKS_SIZE == 16);

/// Whether objects of `kind` are containers (carry links, are tracked).
pub(crate) fn is_container(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::Object
            | Kind::Type
            | Kind::Tuple
            | Kind::List
            | Kind::Dict
            | Kind::Method
            | Kind::Property
            | Kind::WeakRef
    )
}

/// Bytes before an object of `kind` in its block.
pub(crate) fn prefix(kind: Kind) -> usize {
    if is_container(kind) { LINKS_SIZE } else { 0 }
}

/// Whether the collector tracks `o`: a container (which carries links)
/// whose links are in a list (immortal built-ins carry them untracked).
pub(crate) fn is_tracked(o: ObjRef) -> bool {
    is_container(o.ty().kind) && o.ty().heap().collector.is_tracked(links(o))
}

/// The links of a container.
pub(crate) fn links(o: ObjRef) -> Gc {
    // SAFETY: a container's block starts LINKS_SIZE bytes before the object.
    unsafe { NonNull::new_unchecked(o.cast::<u8>().as_ptr().sub(LINKS_SIZE).cast()) }
}

/// The container whose links are `g`.
pub(crate) fn object(g: Gc) -> ObjRef {
    // SAFETY: links are always followed by their object.
    ObjRef(unsafe { NonNull::new_unchecked(g.cast::<u8>().as_ptr().add(LINKS_SIZE).cast()) })
}

/// The collector's view of a heap.
pub(crate) struct Host<'a, 'h>(pub(crate) &'a Heap<'h>);

/// Calls `visit` with each reference `o` holds (to any object).
#[inline]
pub(crate) fn for_each_reference(o: ObjRef, mut visit: impl FnMut(ObjRef)) {
    for_each_edge::<false>(o, |_, r| visit(r));
}

/// Where an object holds a reference (heap snapshots name them so).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Edge {
    /// An instance's class.
    Type,
    /// Inside an instance: a slot, an attribute, its dict or its payload.
    Instance(instance::InstanceEdge),
    /// A class's namespace dict.
    Namespace,
    /// A class's base at this index.
    Base(usize),
    /// A tuple's or list's item at this index.
    Item(usize),
    /// The key of a dict's entry at this position.
    Key(usize),
    /// The value of a dict's entry at this position.
    Value(usize),
    /// A bound method's function.
    Function,
    /// A bound method's object.
    SelfObject,
    /// A property's getter.
    Getter,
    /// A property's setter.
    Setter,
    /// A weak reference's callback.
    Callback,
}

/// [`for_each_reference`], saying where each reference is held when
/// `NAMED` (heap snapshots); `None` otherwise, so the collector's
/// traversal pays nothing for the names.
#[inline(always)]
pub(crate) fn for_each_edge<const NAMED: bool>(
    o: ObjRef,
    mut visit: impl FnMut(Option<Edge>, ObjRef),
) {
    let name = |edge: &dyn Fn() -> Edge| NAMED.then(edge);
    let ty = o.ty();
    match ty.kind {
        Kind::Object => {
            visit(name(&|| Edge::Type), ty.as_ref());
            instance::for_each_edge::<NAMED>(o, |e, r| visit(e.map(Edge::Instance), r));
        }
        Kind::Type => {
            // SAFETY: matched on the kind; walks visit live objects.
            let t = unsafe { as_type(o) };
            visit(name(&|| Edge::Namespace), t.dict);
            for (i, &b) in t.bases.iter().enumerate() {
                visit(name(&|| Edge::Base(i)), b);
            }
        }
        Kind::Tuple => {
            // SAFETY: matched on the kind; walks visit live objects.
            let items = unsafe { containers::tuple_items(o) };
            for (i, &r) in items.iter().enumerate() {
                visit(name(&|| Edge::Item(i)), r);
            }
        }
        // SAFETY: matched on the kind; walks visit live objects, and
        // `visit` only reports or records (no host code).
        Kind::List => unsafe {
            containers::with_list(o, |items| {
                for (i, &r) in items.iter().enumerate() {
                    visit(name(&|| Edge::Item(i)), r);
                }
            })
        },
        // SAFETY: as for a list.
        Kind::Dict => unsafe {
            containers::with_dict(o, |map| {
                for (i, (&k, &v)) in map.iter().enumerate() {
                    visit(name(&|| Edge::Key(i)), k);
                    visit(name(&|| Edge::Value(i)), v);
                }
            })
        },
        Kind::Method => {
            // SAFETY: matched on the kind; walks visit live objects.
            let m = unsafe { function::method(o) };
            visit(name(&|| Edge::Function), m.func);
            visit(name(&|| Edge::SelfObject), m.self_);
        }
        Kind::Property => {
            // SAFETY: matched on the kind; walks visit live objects.
            let p = unsafe { function::property(o) };
            if let Some(g) = p.getter {
                visit(name(&|| Edge::Getter), g);
            }
            if let Some(s) = p.setter {
                visit(name(&|| Edge::Setter), s);
            }
        }
        Kind::WeakRef => {
            // SAFETY: matched on the kind; walks visit live objects.
            if let Some(c) = unsafe { weakref::weakref(o) }.callback {
                visit(name(&|| Edge::Callback), c);
            }
        }
        _ => {}
    }
}

// SAFETY: the rules of `GcHost`, one by one: 1. the count is the header's, merged
// counts of other threads included, and a dying object reads as held;
// 2. `for_each_reference` reports every field that holds a reference
// (type, slots, values or dict, items, payload hooks), and only containers
// (which carry links) are passed on; 3. payload hooks that drop references
// have what they drop held until the collection is over
// (`Heap::hold_until_collected`), and objffi refuses calls into a heap
// from inside a hook; 4. `decref` at zero reaches `dealloc`, which
// untracks first; 5. `clear` drops slots, attributes, items and payload
// references; 6. a heap is used inside its gate by one thread at a time.
unsafe impl GcHost for Host<'_, '_> {
    fn refcount(&self, g: Gc) -> usize {
        // An object at zero is dying: another thread dropped its last
        // reference during the collection and handed it to the gate, which
        // frees it afterwards. Seen as held, the collector leaves it alone.
        object(g).refcount().max(1)
    }

    #[inline]
    fn traverse(&self, g: Gc, mut visit: impl FnMut(Gc)) {
        // Untracked containers (immortal built-ins) carry links too, which
        // the collector ignores.
        for_each_reference(object(g), |r| {
            if is_container(r.ty().kind) {
                visit(links(r));
            }
        });
    }

    fn incref(&self, g: Gc) {
        object(g).incref();
    }

    fn decref(&self, g: Gc) {
        object(g).decref();
    }

    fn decref_cleared(&self, g: Gc) {
        object(g).decref_with(|o| crate::lifecycle::death::free_cleared(self.0, o));
    }

    #[inline]
    fn clear_weakrefs(&self, g: Gc, is_garbage: &dyn Fn(Gc) -> bool) {
        let o = object(g);
        if o.has_flag(crate::object::HAS_WEAKREFS) {
            detach_weakrefs(self.0, o, is_garbage);
        }
    }

    fn run_weakref_callbacks(&self) -> bool {
        // SAFETY: single-threaded; taken out before any callback runs.
        let queued = core::mem::take(unsafe { &mut *self.0.queued_callbacks.get() });
        let any = !queued.is_empty();
        // SAFETY: `queued_callbacks` holds only what `detach_all` returned
        // (`clear_weakrefs` above), with its counts.
        unsafe { weakref::run_callbacks(self.0, queued) };
        any
    }

    fn finalize(&self, g: Gc) -> bool {
        let o = object(g);
        o.ty().kind == Kind::Object
            && instance::has_del(self.0, o.ty())
            && instance::run_finalizer(self.0, o)
    }

    #[inline]
    fn clear(&self, g: Gc) {
        let o = object(g);
        match o.ty().kind {
            Kind::Object => instance::clear_references(self.0, o),
            _ => clear_other(self.0, o),
        }
    }
}

/// [`GcHost::clear_weakrefs`] for an object that has weak references: they
/// are detached, and the callbacks of those that are not garbage queued.
#[inline(never)]
fn detach_weakrefs(heap: &Heap, o: ObjRef, is_garbage: &dyn Fn(Gc) -> bool) {
    if matches!(o.ty().kind, Kind::Object | Kind::Type) {
        let queued = weakref::detach_all(heap, o, |w| !is_garbage(links(w)));
        // SAFETY: single-threaded; not borrowed across calls.
        unsafe { (*heap.queued_callbacks.get()).extend(queued) };
    }
}

/// [`GcHost::clear`] for the kinds other than instances, out of line.
#[inline(never)]
fn clear_other(heap: &Heap, o: ObjRef) {
    match o.ty().kind {
        Kind::List => {
            let empty = allocator_api2::vec::Vec::new_in(heap.allocator());
            // SAFETY: matched on the kind; the collector holds what it
            // clears; the items are decref'd after the closure.
            let items =
                unsafe { containers::with_list(o, |items| core::mem::replace(items, empty)) };
            items.iter().for_each(|i| i.decref());
        }
        Kind::Dict => {
            // SAFETY: matched on the kind; the collector holds what it
            // clears; the pairs are decref'd after the closure.
            let drained: Vec<(ObjRef, ObjRef)> =
                unsafe { containers::with_dict(o, |map| map.drain().collect()) };
            for (k, v) in drained {
                k.decref();
                v.decref();
            }
        }
        // SAFETY: matched on the kind; the collector holds what it clears.
        Kind::Tuple => unsafe { containers::clear_tuple(heap, o) },
        Kind::Type => {
            // SAFETY: matched on the kind; the collector holds what it clears.
            let t = unsafe { as_type(o) };
            // SAFETY: a type's namespace is a dict, which the type holds;
            // the pairs are decref'd after the closure.
            let drained: Vec<(ObjRef, ObjRef)> =
                unsafe { containers::with_dict(t.dict, |map| map.drain().collect()) };
            crate::lookup::invalidate(t);
            for (k, v) in drained {
                k.decref();
                v.decref();
            }
        }
        _ => {} // methods and properties are freed with what refers to them
    }
}

impl<'h> Heap<'h> {
    /// Collects generation `generation` (0..=2; larger means 2) and the
    /// younger ones; returns the number of unreachable objects found.
    ///
    /// Any thread inside the heap's gate may collect: the owner's local
    /// counts are read with relaxed loads, and what the owner does to them
    /// meanwhile (it may only count references it holds) never makes a
    /// reachable object look unreachable.
    ///
    /// # Panics
    /// On a thread outside the heap's gate (the Rust API cannot get here).
    pub fn collect(&self, generation: usize) -> usize {
        assert!(
            self.gate.is_inside(objgc::thread_token()),
            "a collection runs inside the heap's gate"
        );
        if self.is_owner_thread() {
            self.merge_handed_counts();
        }
        let found = self.collector.collect(&Host(self), generation);
        self.collected();
        found
    }

    /// The cycle collector's settings, figures and introspection
    /// (collections themselves go through [`Heap::collect`]).
    pub fn gc(&self) -> GcControl<'h> {
        GcControl(self.branded())
    }
}

/// A heap's cycle collector as its users see it: switched on and off,
/// tuned, read and looked into (CPython's `gc` module); never run against
/// anything but its heap.
#[derive(Clone, Copy)]
pub struct GcControl<'h>(&'h Heap<'h>);

impl<'h> GcControl<'h> {
    fn collector(&self) -> &'h objgc::Collector {
        &self.0.collector
    }

    /// Whether automatic collection is on.
    pub fn is_enabled(&self) -> bool {
        self.collector().is_enabled()
    }

    /// Turns automatic collection on or off ([`Heap::collect`] still works).
    pub fn set_enabled(&self, on: bool) {
        self.collector().set_enabled(on);
    }

    /// The thresholds of the three generations (700, 10, 10 by default).
    pub fn thresholds(&self) -> [usize; objgc::GENERATIONS] {
        self.collector().thresholds()
    }

    /// Sets the thresholds; a generation-0 threshold of 0 stops automatic
    /// collection.
    pub fn set_thresholds(&self, t: [usize; objgc::GENERATIONS]) {
        self.collector().set_thresholds(t);
    }

    /// See [`objgc::Collector::full_growth_percent`].
    pub fn full_growth_percent(&self) -> usize {
        self.collector().full_growth_percent()
    }

    /// See [`objgc::Collector::set_full_growth_percent`].
    pub fn set_full_growth_percent(&self, percent: usize) {
        self.collector().set_full_growth_percent(percent);
    }

    /// The counts that the thresholds are compared with.
    pub fn counts(&self) -> [usize; objgc::GENERATIONS] {
        self.collector().counts()
    }

    /// Figures per generation.
    pub fn stats(&self) -> [objgc::GcStats; objgc::GENERATIONS] {
        self.collector().stats()
    }

    /// Objects tracked per generation.
    pub fn tracked(&self) -> [usize; objgc::GENERATIONS] {
        self.collector().tracked()
    }

    /// Whether the collector tracks `o` (`gc.is_tracked`): containers are
    /// tracked from birth to death, immortal built-ins and atoms (int,
    /// str, ...) never.
    pub fn is_tracked(&self, o: &Obj<'h>) -> bool {
        is_tracked(o.raw())
    }

    /// The objects the collector tracks, in generation `generation`
    /// (0..=2), or all of them, frozen and saved ones included, for `None`
    /// (`gc.get_objects`). Only containers: atoms are never tracked.
    pub fn objects(&self, generation: Option<usize>) -> Vec<Obj<'h>> {
        counted(self.collector().objects(generation))
    }

    /// The objects `o` refers to (`gc.get_referents`): its type (for an
    /// instance), slots, attribute values or dict, items, keys and values,
    /// and what its payload's traverse hook reports.
    pub fn referents(&self, o: &Obj<'h>) -> Vec<Obj<'h>> {
        let mut found = Vec::new();
        for_each_reference(o.raw(), |r| found.push(r.new_obj()));
        found
    }

    /// The tracked objects that refer to `o` (`gc.get_referrers`): a walk
    /// over every tracked object, so its cost is the heap's size.
    pub fn referrers(&self, o: &Obj<'h>) -> Vec<Obj<'h>> {
        let target = o.raw();
        let mut found = Vec::new();
        for g in self.collector().objects(None) {
            let mut refers = false;
            for_each_reference(object(g), |r| refers |= r == target);
            if refers {
                found.push(object(g).new_obj());
            }
        }
        found
    }

    /// Moves every tracked object to a permanent generation that no
    /// collection examines (`gc.freeze`: after start-up, the objects a
    /// program keeps for good then cost collections nothing).
    pub fn freeze(&self) {
        self.collector().freeze();
    }

    /// Moves the permanent generation back to the oldest (`gc.unfreeze`).
    pub fn unfreeze(&self) {
        self.collector().unfreeze();
    }

    /// Objects in the permanent generation (`gc.get_freeze_count`).
    pub fn freeze_count(&self) -> usize {
        self.collector().freeze_count()
    }

    /// Whether collections keep what they find unreachable (`DEBUG_SAVEALL`).
    pub fn saves_unreachable(&self) -> bool {
        self.collector().saves_unreachable()
    }

    /// With `on`, collections keep the objects they find unreachable
    /// instead of freeing them (CPython's `gc.set_debug(gc.DEBUG_SAVEALL)`):
    /// weak references to them are cleared and finalisers run, then each
    /// stays, intact, in [`GcControl::garbage`] until
    /// [`GcControl::release_garbage`].
    pub fn set_save_unreachable(&self, on: bool) {
        self.collector().set_save_unreachable(on);
    }

    /// What collections kept while saving unreachable objects (`gc.garbage`).
    pub fn garbage(&self) -> Vec<Obj<'h>> {
        counted(self.collector().saved())
    }

    /// Lets go of the kept objects (`del gc.garbage[:]`): what is still
    /// cyclic is freed by the next full collection (unless saving is on).
    pub fn release_garbage(&self) {
        self.collector().release_saved(&Host(self.0));
    }

    /// Sets the function called at the start ([`objgc::Phase::Start`]) and
    /// end ([`objgc::Phase::Stop`]) of each collection, with the
    /// generation and that generation's figures (`gc.callbacks`); `None`
    /// removes it. The callback may use the heap (a collection it asks for
    /// at the start does nothing: one is running).
    pub fn set_callback(&self, callback: Option<objgc::Callback>) {
        self.collector().set_callback(callback);
    }
}

/// Counted handles on the objects of `tracked`.
fn counted<'h>(tracked: Vec<Gc>) -> Vec<Obj<'h>> {
    tracked.into_iter().map(|g| object(g).new_obj()).collect()
}
