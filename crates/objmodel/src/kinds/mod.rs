//! The kinds of object, one file each: what a kind's objects look like in
//! memory, how they are made, what they answer, and what they release when
//! they die.
//!
//! A *kind* ([`type_object::Kind`]) is what a type says its instances are
//! laid out as: every object's header points at its type, and the type's
//! kind picks the layout that follows the header. Classes made by the host
//! have instances of kind `Object`; the built-in types each have their own.
//!
//! | file             | kinds                                                        |
//! |------------------|--------------------------------------------------------------|
//! | `instance.rs`    | instances of classes: slots, shapes and values, payloads, `__del__` |
//! | `type_object.rs` | types: layout of instances, MRO, namespace, version; the built-ins' bootstrap |
//! | `function.rs`    | functions (host code), bound methods, properties, slot members |
//! | `str.rs`         | `str`, and the interning of names                            |
//! | `numbers.rs`     | None, bool, int, float; numbers' equality and hash across kinds |
//! | `containers.rs`  | tuple, list, dict; dict keys' equality and hash              |
//! | `dict_map.rs`    | the insertion-ordered hash map a dict stores its items in    |
//! | `weakref.rs`     | weak references and their callbacks                          |
//!
//! Invariant: an object's kind is its type's, fixed for its life; every
//! accessor that reads a kind's fields (`unsafe fn` ones such as
//! `type_object::as_type`, `str::as_str`, `containers::with_dict`) requires that
//! kind, which its caller checked (or a typed view guarantees). What each
//! kind releases when it dies is named in the map of
//! [`crate::lifecycle`].

pub(crate) mod containers;
pub(crate) mod dict_map;
pub(crate) mod function;
pub(crate) mod instance;
pub(crate) mod numbers;
pub(crate) mod str;
pub(crate) mod type_object;
pub(crate) mod weakref;
