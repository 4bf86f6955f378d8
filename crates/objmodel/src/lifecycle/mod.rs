//! An object's life, in one place: how it is born, counted, released,
//! deallocated and cleared, and where each step's per-kind part lives.
//!
//! ```text
//!   birth.rs   Heap::alloc_object -> alloc_block: block, header, count 1,
//!              tracked if a container; then the kind's constructor
//!              writes the fields (new_int, new_str, alloc_type, ...)
//!                 |
//!   object.rs  ObjRef::incref / decref (objgc's biased count)
//!                 | the count reaches zero
//!   death.rs   release --outside the gate--> the gate's holder
//!                 |
//!              dealloc --while freeing another--> pending (no recursion)
//!                 |
//!              dealloc_one: 1. __del__            (kinds/instance.rs: finalize)
//!                           2. weak references    (kinds/weakref.rs: detach_all,
//!                                                  run_callbacks)
//!                           3. clear per kind     (see below)
//!                           4. free_block: the block back to the heap,
//!                              the type's count dropped
//!              (a plain instance, `instance::dies_plain`, skips 1 and 2:
//!              no finaliser left, no weak reference, no payload)
//!   freed.rs   (debug builds) which addresses were freed, as what type
//! ```
//!
//! Clearing per kind (step 3), where each kind releases what it holds
//! (all in `kinds/`):
//!
//! | kind                        | cleared by                                           |
//! |-----------------------------|------------------------------------------------------|
//! | instance                    | `instance::clear` (payload hooks, slots, attributes) |
//! | type                        | `type_object::clear_type`                            |
//! | function                    | `function::drop_function_fields`                     |
//! | method, property, member    | `function::clear`                                    |
//! | tuple, list, dict           | `containers::clear`                                  |
//! | weak reference              | `weakref::clear`                                     |
//! | None, bool, int, float, str | nothing to release                                   |
//!
//! A finaliser (`__del__`) or a payload hook may make the object reachable
//! again: it is then resurrected (tracked again, intact) instead of freed.
//!
//! The cycle collector (`gc.rs`, objgc's host) takes a shorter road for
//! garbage: it runs finalisers (`instance::run_finalizer`), clears weak
//! references, breaks cycles with each kind's `clear_references` /
//! `clear_tuple` / namespace drain (`gc.rs`: `Host::clear`), and drops its
//! counts; what reaches zero then goes through [`death::free_cleared`],
//! which gives a plain cleared instance straight back to the allocator and
//! sends anything else down `release` as above.
//!
//! A heap's end (`heap.rs`: `Drop for Heap`) frees every block at once,
//! with the allocator; only the Rust-side fields of live types and
//! functions are dropped one by one.
//!
//! Invariants: every object is born in `birth.rs` and freed in `death.rs`
//! (`free_block`), by the gate's holder; an object's size at death is the
//! size it was born with ([`death::object_size`]).

mod birth;
pub(crate) mod death;
pub(crate) mod freed;
