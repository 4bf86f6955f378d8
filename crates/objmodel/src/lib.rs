//! # objmodel: objects, types and CPython's attribute lookup
//!
//! How an object is created and how a name on it is found, as CPython does
//! it, as a Rust library. Memory comes from [`objheap`]; every object of a
//! [`Heap`] lives in that heap's pools and dies with it. A heap is used
//! inside a closure ([`with_heap`], [`HeapBox::scope`]) that brands its
//! objects (see "The brand" below).
//!
//! ## Example: the seed's story
//!
//! ```
//! use objmodel::{TypeSpec, with_heap};
//!
//! with_heap(|heap| {
//!     let parent = heap.new_type("Parent", &[], &TypeSpec::dict()).unwrap();
//!     parent.setattr("name", &heap.none()).unwrap();
//!     let child = heap.new_type("Child", &[&parent], &TypeSpec::dict()).unwrap();
//!
//!     let andrey = child.call(&[]).unwrap();
//!     andrey.setattr("name", &heap.str("Андрей").unwrap()).unwrap();
//!     let other = child.call(&[]).unwrap();
//!
//!     // Found on the instance first...
//!     assert_eq!(andrey.getattr("name").unwrap().as_str(), Some("Андрей"));
//!     // ...and, where the instance has none, on the parent class.
//!     assert!(other.getattr("name").unwrap().is_none());
//! });
//! ```
//!
//! ## Memory layout
//!
//! Every object begins with a 16-byte header: its reference count, then its
//! type. The type says what follows (`object.rs`, and a file per kind in
//! `kinds/`):
//!
//! ```text
//!   0          8          16
//!   +----------+----------+-------------------------------------------+
//!   | refcount |   type   | fields                                    |
//!   +----------+----------+-------------------------------------------+
//!   int:      | i64 |                 str:  | hash | len | chars | bytes\0 |
//!   instance: | payload | slots | shape | values |   (per class layout)
//! ```
//!
//! An instance's slots sit at fixed offsets, so reading one is a load at
//! that offset; its `__dict__` attributes live in value cells (the first two
//! inside the instance, more in an array) whose key layout (the *shape*) is
//! shared by every instance of the class that got the same names in the
//! same order (`kinds/instance.rs`).
//!
//! ## Lookup order
//!
//! `getattr(o, name)` on an instance tries, in order (`lookup/`):
//! a data descriptor on `type(o)`'s MRO (property, slot) → the instance's
//! `__dict__` → a function on the MRO, bound to `o` → any other class
//! attribute → the class's `__getattr__` → `AttributeError`. The MRO is the
//! C3 linearization of the bases (`lookup/mro.rs`), and the walk along it is
//! cached per (type version, name).
//!
//! ## Where things are
//!
//! ```text
//!   object.rs    the header, the handles ObjRef and Obj, counting
//!   heap.rs      the Heap and its owner: creation, the brand (scope),
//!                built-ins, the gate, memory, stats
//!   lifecycle/   an object's life: birth.rs, death.rs, freed.rs; its
//!                mod.rs is the map from alloc to free, kind by kind
//!   kinds/       one file per kind of object: instance, type_object,
//!                function, str, numbers (None, bool, int, float),
//!                containers (tuple, list, dict), dict_map (dict's
//!                storage), weakref
//!   lookup/      CPython's attribute lookup and the method cache (mod.rs),
//!                C3 (mro.rs), the call-site caches (cache.rs)
//!   call/        calls (mod.rs) and the bound on nested work (nesting.rs)
//!   gc.rs        objmodel as host of objgc's cycle collector
//!   inspect/     repr.rs, snapshot.rs (the heap as JSON)
//!   views.rs     typed views: Dict, List, Tuple, Str, Type, Int, Float
//!   abi.rs       what only a host in another language needs (objffi)
//!   error.rs     errors, their kinds and CPython's messages
//! ```
//!
//! ## Typed views
//!
//! [`Obj`] is dynamically typed: [`Obj::dict_get`] on a list fails at run
//! time. Where the kind is known, a view ([`Dict`], [`List`], [`Tuple`],
//! [`Str`], [`Type`], [`Int`], [`Float`]) is an `Obj` whose kind was checked
//! once, by [`Obj::downcast`] or its constructor, so its methods cannot fail
//! by kind; it derefs to `Obj` for the rest (`views.rs`).
//!
//! ```
//! use objmodel::{List, with_heap};
//!
//! with_heap(|heap| {
//!     let list = List::new(heap).unwrap();
//!     list.append(&heap.int(1).unwrap()).unwrap();
//!     assert_eq!(list.len(), 1);
//!     assert!(heap.list().unwrap().downcast::<List>().is_ok());
//! });
//! ```
//!
//! ## The brand
//!
//! Objects of two heaps must not mix: a list of one heap holding an int of
//! another would keep it past its heap's end. In Rust, mixing them does
//! not compile. [`HeapBox::scope`] (and [`with_heap`], which makes the heap
//! too) runs a closure that works for every lifetime `'h` (`for<'h>`, as
//! gc-arena's arenas do) and lends it the heap as `&'h Heap<'h>`; the
//! heap's objects are `Obj<'h>` and its views `List<'h>` and co. `'h` is
//! the heap's *brand*: invariant, so two closures' brands never unify, and
//! the closure's result cannot name it, so no object leaves the closure.
//! The brand is a zero-sized marker: it costs nothing at run time.
//!
//! ```
//! let owner = objmodel::Heap::new();
//! let n = owner.scope(|heap| {
//!     let list = heap.list().unwrap();
//!     list.list_append(&heap.int(1000).unwrap()).unwrap();
//!     list.len().unwrap() // a plain value may leave; an object may not
//! });
//! assert_eq!((n, owner.stats().objects_live > 0), (1, true));
//! ```
//!
//! A host in another language handles objects behind raw pointers, whose
//! brands prove nothing ([`abi::heap`]); there, objects of two heaps are
//! told apart at run time ([`ErrorKind::HeapMismatch`]: objffi checks every
//! object argument, and [`abi`] the objects its functions take).
//!
//! ## For other languages
//!
//! What only a host in another language needs (objects behind raw
//! pointers, a heap shared between threads, C host functions, call-site
//! caches in C memory, the header layout) is in [`abi`], apart from the
//! Rust API: objffi, the C ABI, is built on it.
//!
//! ## What the types promise
//!
//! A heap and its objects belong to one thread at a time: an [`Obj`] is
//! not `Send` (its count is the owner thread's, without atomics),
//!
//! ```compile_fail,E0277
//! fn send<T: Send>(_: T) {}
//! objmodel::with_heap(|heap| send(heap.none()));
//! ```
//!
//! and a [`Heap`] is not `Sync` (two threads would use its pools at once):
//!
//! ```compile_fail,E0277
//! fn shared<T: Sync>(_: &T) {}
//! objmodel::with_heap(|heap| shared(heap));
//! ```
//!
//! Objects of two heaps do not mix: appending heap `a`'s int to heap `b`'s
//! list does not compile,
//!
//! ```compile_fail,E0521
//! objmodel::with_heap(|a| {
//!     objmodel::with_heap(|b| {
//!         let list = b.list().unwrap();
//!         list.list_append(&a.int(1).unwrap()).unwrap();
//!     })
//! });
//! ```
//!
//! nor does using a typed view of one heap with another's objects:
//!
//! ```compile_fail,E0521
//! use objmodel::{Dict, Str};
//! objmodel::with_heap(|a| {
//!     objmodel::with_heap(|b| {
//!         let d = Dict::new(a).unwrap();
//!         d.set(&Str::new(b, "k").unwrap(), &a.none()).unwrap();
//!     })
//! });
//! ```
//!
//! An object does not leave its heap's closure, so it does not outlive
//! the heap (kept outside, as here, or returned: the closure's result
//! cannot name the brand either):
//!
//! ```compile_fail,E0521
//! let mut kept = None;
//! objmodel::with_heap(|heap| kept = Some(heap.none()));
//! ```
//!
//! The cycle collector runs only over its own heap's objects: a heap hands
//! out its settings ([`GcControl`]), not the collector, so no other
//! [`objgc::GcHost`] can be run against its lists:
//!
//! ```compile_fail,E0308
//! objmodel::with_heap(|heap| {
//!     let collector: &objgc::Collector = heap.gc();
//! });
//! ```

#![deny(unsafe_op_in_unsafe_fn)]

pub mod abi;
mod call;
mod error;
mod gc;
mod heap;
mod inspect;
mod kinds;
mod lifecycle;
mod lookup;
mod object;
mod views;

pub use error::{Error, ErrorKind, Result};
pub use gc::GcControl;
pub use heap::{Heap, HeapBox, SMALL_INT_MAX, SMALL_INT_MIN, with_heap};
pub use kinds::function::NativeFn;
pub use kinds::instance::InstanceLayout;
pub use kinds::type_object::{Hook, PayloadHooks, TypeSpec};
pub use lookup::cache::AttrCache;
pub use object::Obj;
pub use objgc::{Callback as GcCallback, GcStats, Phase as GcPhase};
/// The allocator objects live in (its statistics are part of [`Stats`]).
pub use objheap;
pub use views::{Dict, DictItems, Float, Int, List, Str, Tuple, Type, View};

/// Counts of a heap's objects and memory.
#[derive(Debug, Clone)]
pub struct Stats {
    /// Objects allocated and not yet freed (immortal built-ins included).
    pub objects_live: usize,
    /// The allocator's figures.
    pub memory: objheap::HeapStats,
}

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
