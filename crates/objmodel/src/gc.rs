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
use crate::object::ObjRef;
use crate::types::{Kind, as_type};
use crate::{func, instance, values, weakref};

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
pub(crate) struct Host<'a>(pub(crate) &'a Heap);

/// Calls `visit` with each reference `o` holds (to any object).
#[inline]
pub(crate) fn for_each_reference(o: ObjRef, mut visit: impl FnMut(ObjRef)) {
    let ty = o.ty();
    match ty.kind {
        Kind::Object => {
            visit(ty.as_ref());
            instance::for_each_reference(o, visit);
        }
        Kind::Type => {
            // SAFETY: matched on the kind; the collector visits live objects.
            let t = unsafe { as_type(o) };
            visit(t.dict);
            t.bases.iter().for_each(|&b| visit(b));
        }
        Kind::Tuple => {
            // SAFETY: matched on the kind; the collector visits live objects.
            let items = unsafe { values::tuple_items(o) };
            items.iter().for_each(|&i| visit(i));
        }
        // SAFETY: matched on the kind; the collector visits live objects,
        // and `visit` only reports (no host code).
        Kind::List => unsafe { values::with_list(o, |items| items.iter().for_each(|&i| visit(i))) },
        // SAFETY: as for a list.
        Kind::Dict => unsafe {
            values::with_dict(o, |map| {
                map.iter().for_each(|(&k, &v)| {
                    visit(k);
                    visit(v);
                })
            })
        },
        Kind::Method => {
            // SAFETY: matched on the kind; the collector visits live objects.
            let m = unsafe { func::method(o) };
            visit(m.func);
            visit(m.self_);
        }
        Kind::Property => {
            // SAFETY: matched on the kind; the collector visits live objects.
            let p = unsafe { func::property(o) };
            p.getter.into_iter().chain(p.setter).for_each(visit);
        }
        Kind::WeakRef => {
            // SAFETY: matched on the kind; the collector visits live objects.
            let w = unsafe { weakref::weakref(o) };
            w.callback.into_iter().for_each(visit);
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
unsafe impl GcHost for Host<'_> {
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

    fn clear_weakrefs(&self, g: Gc, is_garbage: &dyn Fn(Gc) -> bool) {
        let o = object(g);
        if o.has_flag(crate::object::HAS_WEAKREFS)
            && matches!(o.ty().kind, Kind::Object | Kind::Type)
        {
            let queued = weakref::detach_all(self.0, o, |w| !is_garbage(links(w)));
            // SAFETY: single-threaded; not borrowed across calls.
            unsafe { (*self.0.queued_callbacks.get()).extend(queued) };
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

    fn clear(&self, g: Gc) {
        let o = object(g);
        match o.ty().kind {
            Kind::Object => instance::clear_references(self.0, o),
            Kind::List => {
                let empty = allocator_api2::vec::Vec::new_in(self.0.allocator());
                // SAFETY: matched on the kind; the collector holds what it
                // clears; the items are decref'd after the closure.
                let items =
                    unsafe { values::with_list(o, |items| core::mem::replace(items, empty)) };
                items.iter().for_each(|i| i.decref());
            }
            Kind::Dict => {
                // SAFETY: matched on the kind; the collector holds what it
                // clears; the pairs are decref'd after the closure.
                let drained: Vec<(ObjRef, ObjRef)> =
                    unsafe { values::with_dict(o, |map| map.drain().collect()) };
                for (k, v) in drained {
                    k.decref();
                    v.decref();
                }
            }
            // SAFETY: matched on the kind; the collector holds what it clears.
            Kind::Tuple => unsafe { values::clear_tuple(self.0, o) },
            Kind::Type => {
                // SAFETY: matched on the kind; the collector holds what it clears.
                let t = unsafe { as_type(o) };
                // SAFETY: a type's namespace is a dict, which the type holds;
                // the pairs are decref'd after the closure.
                let drained: Vec<(ObjRef, ObjRef)> =
                    unsafe { values::with_dict(t.dict, |map| map.drain().collect()) };
                crate::attr::invalidate(t);
                for (k, v) in drained {
                    k.decref();
                    v.decref();
                }
            }
            _ => {} // methods and properties are freed with what refers to them
        }
    }
}

impl Heap {
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
            self.gate.is_held_by(objgc::thread_token()),
            "a collection runs inside the heap's gate"
        );
        if self.is_owner_thread() {
            self.merge_handed_counts();
        }
        let found = self.collector.collect(&Host(self), generation);
        self.collected();
        found
    }

    /// The cycle collector's settings and figures (collections themselves
    /// go through [`Heap::collect`], which knows the heap's objects).
    pub fn gc(&self) -> GcControl<'_> {
        GcControl(&self.collector)
    }
}

/// A heap's cycle collector as its users see it: switched on and off,
/// tuned, and read; never run against anything but its heap.
#[derive(Clone, Copy)]
pub struct GcControl<'h>(&'h objgc::Collector);

impl GcControl<'_> {
    /// Whether automatic collection is on.
    pub fn is_enabled(&self) -> bool {
        self.0.is_enabled()
    }

    /// Turns automatic collection on or off ([`Heap::collect`] still works).
    pub fn set_enabled(&self, on: bool) {
        self.0.set_enabled(on);
    }

    /// The thresholds of the three generations (700, 10, 10 by default).
    pub fn thresholds(&self) -> [usize; objgc::GENERATIONS] {
        self.0.thresholds()
    }

    /// Sets the thresholds; a generation-0 threshold of 0 stops automatic
    /// collection.
    pub fn set_thresholds(&self, t: [usize; objgc::GENERATIONS]) {
        self.0.set_thresholds(t);
    }

    /// See [`objgc::Collector::full_growth_percent`].
    pub fn full_growth_percent(&self) -> usize {
        self.0.full_growth_percent()
    }

    /// See [`objgc::Collector::set_full_growth_percent`].
    pub fn set_full_growth_percent(&self, percent: usize) {
        self.0.set_full_growth_percent(percent);
    }

    /// The counts that the thresholds are compared with.
    pub fn counts(&self) -> [usize; objgc::GENERATIONS] {
        self.0.counts()
    }

    /// Figures per generation.
    pub fn stats(&self) -> [objgc::GcStats; objgc::GENERATIONS] {
        self.0.stats()
    }

    /// Objects tracked per generation.
    pub fn tracked(&self) -> [usize; objgc::GENERATIONS] {
        self.0.tracked()
    }
}
