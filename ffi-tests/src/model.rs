//! Differential testing of the C ABI against a plain reference model.
//!
//! [`run`] takes a sequence of [`Op`]s, each one C-ABI call (or a short
//! fixed group of calls) on a small pool of handles, and executes it twice:
//! through the real `extern "C"` functions of `objffi`, and through
//! [`Model`], a reference model written plainly (an arena of objects with
//! `Vec`s and `HashMap`s, its own C3, its own reachability walk) that follows
//! CPython 3.11's semantics where the contract (`shared/API.md`) leaves them
//! to Python, and the contract where it decides. After every op the runner
//! compares:
//!
//! - the status code, and every result: ints, floats, str bytes, lengths,
//!   booleans, `repr()` of plain values, the MRO, the number of objects a
//!   collection found, and the *identity* of every object handed back (each
//!   model object is paired with one real address; a second address for it,
//!   or a second model object at one address, is a mismatch);
//! - that out-parameters are left alone on failure;
//! - which host functions ran, with how many arguments (a multiset per op:
//!   weak-reference callbacks run in an order the contract leaves open);
//! - the reference count of every handle (`obj_refcount`): the handles the
//!   runner holds plus the references live model objects hold;
//! - `objects_live` of `obj_heap_stats`: the baseline plus the live model
//!   objects (plus one namespace dict per class);
//! - that nothing on the second heap moved (reference counts and objects);
//! - `obj_last_error()` after `OBJ_ERR_RECURSION` (CPython's message);
//! - which runner handles host functions gave back ([`Step::DropHandle`]).
//!
//! The real side makes two in three attribute calls with a name object
//! (`obj_getattr`, `obj_setattr`, `obj_call_method`) through a call-site
//! cache (`obj_getattr_cached` & co., four caches chosen by the name), and
//! the model is the same for both: a cached call must answer exactly as the
//! uncached one, however the objects changed since the cache was filled.
//!
//! At the end every handle is dropped, a full collection runs, and the heap
//! must be back to its baseline, taken right after the heap was created and
//! the strings of the pools below were interned (interned strings are
//! immortal by design; classes are freed like any object).
//!
//! ## What the ops cover
//!
//! ints (small and large), floats, strs (with quotes, NULs, non-ASCII),
//! interning, None/True/False/`object`, tuples, lists (append, set, get),
//! dicts (set, get, del, the i-th item; keys compared by value or identity),
//! `len`, `repr`; classes with bases among the handles (so MRO conflicts,
//! duplicate bases, layout conflicts between slots and payloads, non-class
//! bases), `__dict__`, slots, payloads; `obj_alloc` and calling a class
//! (`__init__` found on the MRO, returning None or not); host functions that
//! return an int, None, the number of their arguments, their first argument,
//! NULL, an object of the other heap, or fail (`OBJ_ERR_CALLBACK`, a code of
//! the host's own, `OBJ_ERR_ATTRIBUTE`), and reentrant host functions
//! ([`Behaviour::Reenter`]) that call back into the library while they run,
//! on their first argument, its class or themselves: set or delete an
//! attribute (rebinding or deleting `T.__init__`, `T.__getattr__` or the
//! method they were called through, so dropping the last reference to
//! themselves), call (themselves, the class from `__init__`: recursion to
//! the limit of 1,000 nested calls, `OBJ_ERR_RECURSION` through every level,
//! or swallowed at the bottom), or give back the runner's handle to what they
//! run on, then return, propagate, swallow, or read an attribute of what
//! they were given; properties; attributes by C string
//! and by str object (get, set, del; instance attributes, class attributes,
//! methods bound on the way, data descriptors, `__getattr__` hooks, the
//! special names `__class__`, `__dict__`, `__name__`, `__mro__`); method
//! calls; weak references with and without callbacks; `isinstance`, the MRO,
//! `type()`; incref/decref; collections of each generation; chains of up to
//! 2,000 nested one-item tuples or lists ([`Op::Nest`]): `repr` at the
//! depth limit (an item inside 999 containers works, inside 1,000 gives
//! `OBJ_ERR_RECURSION`), deep tuples as dict keys (hashed and compared at
//! any depth). Nesting is exact: every call of the model is one of objrt's
//! levels (`call_raw`: a bound method is two, a method called through
//! `obj_call_method` one), and [`run`] runs on a thread with a large stack
//! so that objrt's count, not its stack bound, stops it. Every op can
//! carry a fault: a NULL for a required pointer (`OBJ_ERR_NULL_ARG`), text
//! that is not UTF-8 (`OBJ_ERR_VALUE`), an object of a second heap
//! (`OBJ_ERR_HEAP_MISMATCH`); a faulty call must change nothing.
//!
//! ## What it leaves out
//!
//! Where the model cannot say what is right, the op is not run (it counts
//! as skipped): a faulty op whose fault-free twin would fail anyway (which
//! error comes first is not in the contract); names that CPython finds on
//! `object` or on built-in types but objrt's empty built-in namespaces do
//! not (`x.__init__` without a class `__init__`, `f.__name__`, a type's
//! `__dict__`, a weakref's type name, calling or subclassing built-in types
//! other than `object`), setting `__class__`, `__dict__` or a class's
//! `__name__` (CPython allows some); dict keys that CPython compares by
//! value and objrt by identity (bound methods, weak references); weak
//! references with callbacks anywhere but in the runner's handles (their
//! callbacks would depend on the order in which a dying container drops
//! its items), and callbacks that are not functions or that call back into
//! the library (objrt runs a callback when its target dies, which may be in
//! the middle of an op; the model runs it at the end of the op). Objects
//! that die during an op in objrt die at its end in the model, which only
//! callbacks could tell apart. A host function never gives back the
//! runner's handle to an argument of the op in progress (the outer C call
//! borrows it: giving it back is the caller's bug, in CPython as in objrt).
//! Past three deep chains a run skips [`Op::Nest`] (each is thousands of
//! objects). Not modelled at all:
//! `__del__`, payload hooks, memory limits, threads, automatic collections
//! (both heaps have them off), `obj_repr` of anything but plain values.
//!
//! ## Bugs it found
//!
//! Five, all fixed in objmodel, each kept as a regression test in
//! `tests/model.rs`: a slot member applied to an object of another class
//! (read and write at a foreign offset); an `__init__` that is not a
//! function; a host `OBJ_ERR_ATTRIBUTE` that did not reach `__getattr__`;
//! a class that is its own `__init__` (unbounded recursion; objrt now
//! stops at 1,000 nested calls, which the model follows: see
//! [`MAX_DEPTH`]). The reentrant host functions, exact nesting and deep
//! chains (added with issue 11's fix) found no library bug in their first
//! runs (proptest, and libFuzzer under AddressSanitizer).

use core::ffi::{c_char, c_void};
use core::fmt;
use core::ptr::{null, null_mut};
use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::CString;
use std::rc::Rc;

use objffi::{
    RawStatus, obj_alloc, obj_attr_cache_t, obj_call, obj_call_method, obj_call_method_cached,
    obj_call_method_str, obj_decref, obj_delattr, obj_delattr_str, obj_dict_del, obj_dict_get,
    obj_dict_item, obj_dict_new, obj_dict_set, obj_false, obj_float_new, obj_float_value,
    obj_function_new, obj_gc_collect, obj_gc_disable, obj_getattr, obj_getattr_cached,
    obj_getattr_str, obj_heap_free, obj_heap_new, obj_heap_stats, obj_heap_stats_t, obj_heap_t,
    obj_incref, obj_int_new, obj_int_value, obj_intern, obj_is_instance, obj_len, obj_list_append,
    obj_list_new, obj_list_set, obj_none, obj_object_type, obj_property_new, obj_refcount,
    obj_repr, obj_seq_get, obj_setattr, obj_setattr_cached, obj_setattr_str, obj_status_t,
    obj_str_data, obj_str_new, obj_t, obj_true, obj_tuple_new, obj_type_mro, obj_type_new,
    obj_type_of, obj_type_spec_t, obj_weakref_get, obj_weakref_new,
};

// ----- pools ------------------------------------------------------------------

/// Handles the runner holds at most; a result beyond that replaces an older one.
pub const POOL: usize = 12;

/// The ints an op can make (small ones are immortal and shared).
const INTS: [i64; 10] = [-5, 0, 1, 7, 256, 257, 1000, -6, i64::MAX, i64::MIN];

/// The floats an op can make, with their `repr` as CPython writes it.
const FLOATS: [(f64, &str); 10] = [
    (0.5, "0.5"),
    (1.0, "1.0"),
    (-0.0, "-0.0"),
    (2.5, "2.5"),
    (1e16, "1e+16"),
    (1e-7, "1e-07"),
    (f64::NAN, "nan"),
    (f64::INFINITY, "inf"),
    (7.0, "7.0"),
    (1000.0, "1000.0"),
];

/// The texts of strs (made with `obj_str_new` or `obj_intern`).
const STRS: [&str; 12] = [
    "",
    "x",
    "f",
    "a",
    "b'c",
    "x\"y",
    "é",
    "\n",
    "a\"b'c",
    "a\0b",
    "__init__",
    "__getattr__",
];

/// Attribute names passed as C strings.
const NAMES: [&str; 9] = [
    "x",
    "y",
    "f",
    "__init__",
    "__getattr__",
    "__class__",
    "__dict__",
    "__name__",
    "__mro__",
];

/// Names of new classes (`__name__` is the part after the last dot).
const CLASS_NAMES: [&str; 4] = ["A", "B", "mod.C", "D"];

/// How deep [`Op::Nest`] chains are: around the depth at which `repr`
/// stops (an item inside 999 containers is the 1,000th level), and deeper.
const NEST_DEPTHS: [usize; 8] = [1, 2, 3, 998, 999, 1000, 1001, 2000];

/// Calls (and `repr` levels) nested at most at once: CPython's default
/// recursion limit, and objrt's count. On the runner's thread (see
/// [`RUN_STACK`]) the count, not the stack, is what stops nesting.
const MAX_DEPTH: usize = 1000;

/// Calls one op may make in all before the model leaves the op out: a
/// reentrant host function that calls itself twice per level (once as a
/// step, once through `__getattr__`) would make 2^1000 calls, on both sides.
const MAX_CALLS_PER_OP: usize = 20_000;

/// The stack of the thread [`run`] runs on: far more than 1,000 nested
/// calls take, in debug builds and under AddressSanitizer, so that objrt's
/// stack bound never fires before its count (which the model follows).
const RUN_STACK: usize = 256 << 20;

/// `obj_last_error()` after nesting too deep.
const CALL_RECURSION_MESSAGE: &str =
    "maximum recursion depth exceeded while calling a Python object";
const REPR_RECURSION_MESSAGE: &str =
    "maximum recursion depth exceeded while getting the repr of an object";

/// Names of host functions.
const FUNC_NAMES: [&str; 2] = ["f", "g"];

/// The slot sets a class can declare.
const SLOT_SETS: [&[&str]; 3] = [&["x"], &["y"], &["x", "y"]];

/// Bytes that are not UTF-8 (and hold no NUL).
const BAD_UTF8: &[u8] = b"a\xff";

/// Every text the heap interns: interned strs are immortal, so they are
/// all made before the baseline is taken.
fn interned_texts() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = Vec::new();
    let extra = ["A", "B", "C", "D"];
    for s in NAMES
        .iter()
        .chain(STRS.iter())
        .chain(FUNC_NAMES.iter())
        .chain(extra.iter())
        .chain(SLOT_SETS[2].iter())
    {
        if !v.contains(s) {
            v.push(s);
        }
    }
    v
}

// ----- status codes -----------------------------------------------------------

const OK: i32 = obj_status_t::OBJ_OK as i32;
const NULL_ARG: i32 = obj_status_t::OBJ_ERR_NULL_ARG as i32;
const TYPE: i32 = obj_status_t::OBJ_ERR_TYPE as i32;
const VALUE: i32 = obj_status_t::OBJ_ERR_VALUE as i32;
const ATTRIBUTE: i32 = obj_status_t::OBJ_ERR_ATTRIBUTE as i32;
const KEY: i32 = obj_status_t::OBJ_ERR_KEY as i32;
const INDEX: i32 = obj_status_t::OBJ_ERR_INDEX as i32;
const MRO: i32 = obj_status_t::OBJ_ERR_MRO as i32;
const CALLBACK: i32 = obj_status_t::OBJ_ERR_CALLBACK as i32;
const HEAP_MISMATCH: i32 = obj_status_t::OBJ_ERR_HEAP_MISMATCH as i32;
const RECURSION: i32 = obj_status_t::OBJ_ERR_RECURSION as i32;
/// A failing status of the host's own, which must reach the caller unchanged.
const CUSTOM: i32 = 77;

/// The count `obj_refcount` reports for immortal objects, at least.
const IMMORTAL: usize = 1 << 63;

fn status_name(s: i32) -> String {
    let name = [
        "OBJ_OK",
        "OBJ_ERR_NULL_ARG",
        "OBJ_ERR_TYPE",
        "OBJ_ERR_VALUE",
        "OBJ_ERR_ATTRIBUTE",
        "OBJ_ERR_KEY",
        "OBJ_ERR_INDEX",
        "OBJ_ERR_MRO",
        "OBJ_ERR_NO_MEMORY",
        "OBJ_ERR_CALLBACK",
        "OBJ_ERR_HEAP_MISMATCH",
        "OBJ_ERR_PANIC",
        "OBJ_ERR_THREAD",
        "OBJ_ERR_RECURSION",
    ];
    match usize::try_from(s).ok().and_then(|i| name.get(i)) {
        Some(n) => (*n).to_owned(),
        None => format!("status {s}"),
    }
}

// ----- operations ---------------------------------------------------------------

/// A selector of one of the runner's handles, newest first: `n` below 16
/// picks the `n % live`-th live one (0 is the latest result still held);
/// larger values pick one of the newest four (`(n - 16) % 4`), so that
/// random bytes mostly build on recent results. An op whose handles cannot
/// be chosen (no handle yet) is skipped.
pub type Handle = u8;

/// What a host function made with `obj_function_new` does when called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Behaviour {
    /// Returns the int 7 (small, immortal).
    Int7,
    /// Returns a new int 1000.
    Int1000,
    /// Returns None.
    None,
    /// Returns the number of its arguments (so a bound call shows as one more).
    Nargs,
    /// Returns its first argument (`self` for a method); with none, fails
    /// with `OBJ_ERR_TYPE`.
    FirstArg,
    /// Fails with `OBJ_ERR_CALLBACK`.
    Fail,
    /// Fails with a status of its own (77), which must reach the caller as is.
    FailCustom,
    /// Fails with `OBJ_ERR_ATTRIBUTE` (an `AttributeError` in CPython's terms).
    FailAttribute,
    /// Returns `OBJ_OK` without a result (`OBJ_ERR_CALLBACK` for the caller).
    NullResult,
    /// Returns an object of the other heap (`OBJ_ERR_HEAP_MISMATCH`).
    Foreign,
    /// Calls back into the library while it runs (one [`Step`] on its
    /// arguments, its class or itself), then returns as [`Then`] says.
    Reenter(Step, Then),
}

impl Behaviour {
    /// Whether the function calls back into the library.
    fn reenters(self) -> bool {
        matches!(self, Behaviour::Reenter(..))
    }
}

/// What a reentrant host function ([`Behaviour::Reenter`]) acts on. Without
/// arguments, [`Subject::First`] and [`Subject::ClassOfFirst`] make the
/// call fail with `OBJ_ERR_TYPE` before anything is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Subject {
    /// Its first argument (`self` of a method, the new instance in `__init__`).
    First,
    /// `type(first argument)`: the class it was found on, or a subclass.
    ClassOfFirst,
    /// The function object itself.
    Itself,
    /// None.
    NoneObj,
}

/// The call back into the library a reentrant host function makes.
/// Names are `NAMES[name % len]`, as C strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Step {
    /// `obj_setattr_str(on, name, value)`: e.g. `T.__init__ = T` from inside
    /// `T.__init__`, or rebinding the method that is running.
    SetAttr {
        /// The object.
        on: Subject,
        /// The name.
        name: u8,
        /// The value.
        value: Subject,
    },
    /// `obj_delattr_str(on, name)`: e.g. `del T.__getattr__` from inside it.
    DelAttr {
        /// The object.
        on: Subject,
        /// The name.
        name: u8,
    },
    /// `obj_call(callee, args)` with its own arguments, or without the
    /// first (`type(self)(*rest)` from `__init__`, or itself: unbounded
    /// recursion, stopped at 1,000 nested calls).
    Call {
        /// What it calls.
        callee: Subject,
        /// Whether the first argument is left out.
        rest: bool,
    },
    /// `obj_decref` of one of the runner's handles to the object, which
    /// the runner then forgets: the host drops the last outside reference
    /// to what it runs on. Nothing, if the runner holds none but the one it
    /// lent to the op in progress (an argument of the outer C call is
    /// borrowed: the caller keeps it alive until the call returns, in
    /// CPython as in the contract).
    DropHandle(Subject),
}

/// What a reentrant host function returns after its [`Step`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Then {
    /// The step's status; on success the call's result, or None.
    Propagate,
    /// None, whatever the step did (a failure is swallowed).
    Swallow,
    /// `obj_getattr_str(on, name)`'s result or status, whatever the step
    /// did: the function goes on using what it was given.
    GetAttr {
        /// The object.
        on: Subject,
        /// The name.
        name: u8,
    },
}

impl Step {
    fn subjects(self) -> Vec<Subject> {
        match self {
            Step::SetAttr { on, value, .. } => vec![on, value],
            Step::DelAttr { on, .. } => vec![on],
            Step::Call { callee, .. } => vec![callee],
            Step::DropHandle(s) => vec![s],
        }
    }
}

/// Whether a reentrant function needs an argument (else `OBJ_ERR_TYPE`).
fn needs_first(step: Step, then: Then) -> bool {
    let mut s = step.subjects();
    if let Then::GetAttr { on, .. } = then {
        s.push(on);
    }
    s.iter()
        .any(|s| matches!(s, Subject::First | Subject::ClassOfFirst))
}

/// A class's base in [`Op::Type`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Base {
    /// One of the handles (any kind: a non-class must be refused).
    Handle(Handle),
    /// The built-in `object`.
    Object,
}

/// The `obj_type_spec_t` of [`Op::Type`]. `n` picks a slot set: `x`, `y`,
/// or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Spec {
    /// A NULL spec: no payload, no slots, a `__dict__`.
    Null,
    /// A spec with `has_dict` only.
    Dict,
    /// A spec with nothing: instances have no `__dict__` unless a base has one.
    NoDict,
    /// Slots, no `__dict__` of its own.
    Slots(u8),
    /// Slots and a `__dict__`.
    SlotsDict(u8),
    /// A 16-byte payload.
    Payload,
    /// A payload and a `__dict__`.
    PayloadDict,
    /// A payload and slots.
    PayloadSlots(u8),
}

impl Spec {
    /// (payload, slot names, has_dict, spec is non-NULL).
    fn parts(self) -> (bool, &'static [&'static str], bool, bool) {
        let slots = |n: u8| SLOT_SETS[usize::from(n) % SLOT_SETS.len()];
        match self {
            Spec::Null => (false, &[], true, false),
            Spec::Dict => (false, &[], true, true),
            Spec::NoDict => (false, &[], false, true),
            Spec::Slots(n) => (false, slots(n), false, true),
            Spec::SlotsDict(n) => (false, slots(n), true, true),
            Spec::Payload => (true, &[], false, true),
            Spec::PayloadDict => (true, &[], true, true),
            Spec::PayloadSlots(n) => (true, slots(n), false, true),
        }
    }
}

/// An attribute name: a C string of [`NAMES`] (the `*_str` functions), or
/// one of the handles (the functions taking a str object; a non-str must
/// give `OBJ_ERR_TYPE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Name {
    /// `NAMES[n % NAMES.len()]` as a C string.
    Str(u8),
    /// A handle, as the name object.
    Obj(Handle),
}

/// A mistake injected into an op. The op then runs only if its fault-free
/// twin would succeed, and must fail with the fault's status and change
/// nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fault {
    /// No mistake.
    #[default]
    None,
    /// NULL for the `n % count`-th required pointer (`OBJ_ERR_NULL_ARG`;
    /// for `obj_incref` nothing happens, for functions returning a borrowed
    /// pointer the result is NULL).
    Null(u8),
    /// Text that is not UTF-8 for the `n % count`-th text (`OBJ_ERR_VALUE`).
    BadUtf8(u8),
    /// An object of the second heap instead of one of the object arguments
    /// (`OBJ_ERR_HEAP_MISMATCH`); only for calls that involve two objects,
    /// or a heap and an object.
    Foreign {
        /// Which object of the second heap: an int, a str, a class, an
        /// instance, a function or a list.
        object: u8,
        /// Which argument it replaces.
        arg: u8,
    },
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for Fault {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        // Mostly no fault: a quarter of the ops carry one.
        Ok(match u8::arbitrary(u)? {
            0..=191 => Fault::None,
            192..=215 => Fault::Null(u.arbitrary()?),
            216..=231 => Fault::BadUtf8(u.arbitrary()?),
            _ => Fault::Foreign {
                object: u.arbitrary()?,
                arg: u.arbitrary()?,
            },
        })
    }

    fn size_hint(_depth: usize) -> (usize, Option<usize>) {
        (1, Some(3))
    }
}

/// One C-ABI call (or a fixed group of read-only calls, [`Op::Inspect`]) on
/// the runner's handles. A result that is a new reference becomes a handle.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Op {
    /// `obj_int_new` with `INTS[value % len]`.
    Int {
        /// Which int.
        value: u8,
        /// An injected mistake.
        fault: Fault,
    },
    /// `obj_float_new` with `FLOATS[value % len]`.
    Float {
        /// Which float.
        value: u8,
        /// An injected mistake.
        fault: Fault,
    },
    /// `obj_str_new` with `STRS[text % len]`.
    Str {
        /// Which text.
        text: u8,
        /// An injected mistake.
        fault: Fault,
    },
    /// `obj_intern` with `STRS[text % len]`.
    Intern {
        /// Which text.
        text: u8,
        /// An injected mistake.
        fault: Fault,
    },
    /// `obj_none`, `obj_true`, `obj_false` or `obj_object_type` (borrowed:
    /// the runner increfs it to keep it as a handle).
    Builtin {
        /// Which one.
        which: u8,
        /// An injected mistake.
        fault: Fault,
    },
    /// `obj_tuple_new` of up to 3 handles.
    Tuple {
        /// The items.
        items: Vec<Handle>,
        /// An injected mistake.
        fault: Fault,
    },
    /// A chain of `NEST_DEPTHS[depth % len]` one-item tuples (or lists)
    /// around `item`, made from the inside out with `obj_tuple_new` (or
    /// `obj_list_new` and `obj_list_append`): `((...(item,)...),)`. Deep
    /// enough for `repr` to reach the recursion limit, and for dict keys
    /// that hash and compare deeply.
    Nest {
        /// Tuples, else lists.
        tuple: bool,
        /// How deep.
        depth: u8,
        /// The innermost item.
        item: Handle,
    },
    /// `obj_list_new`.
    List {
        /// An injected mistake.
        fault: Fault,
    },
    /// `obj_dict_new`.
    Dict {
        /// An injected mistake.
        fault: Fault,
    },
    /// `obj_list_append`.
    Append {
        /// The list.
        list: Handle,
        /// The item.
        item: Handle,
        /// An injected mistake.
        fault: Fault,
    },
    /// `obj_list_set` at `index % 4` (-3..=3).
    ListSet {
        /// The list.
        list: Handle,
        /// The index.
        index: i8,
        /// The item.
        item: Handle,
        /// An injected mistake.
        fault: Fault,
    },
    /// `obj_seq_get` at `index % 4` (-3..=3).
    SeqGet {
        /// The tuple or list.
        seq: Handle,
        /// The index.
        index: i8,
        /// An injected mistake.
        fault: Fault,
    },
    /// `obj_len`.
    Len {
        /// The object.
        o: Handle,
        /// An injected mistake.
        fault: Fault,
    },
    /// `obj_dict_set`.
    DictSet {
        /// The dict.
        dict: Handle,
        /// The key.
        key: Handle,
        /// The value.
        value: Handle,
        /// An injected mistake.
        fault: Fault,
    },
    /// `obj_dict_get`.
    DictGet {
        /// The dict.
        dict: Handle,
        /// The key.
        key: Handle,
        /// An injected mistake.
        fault: Fault,
    },
    /// `obj_dict_del`.
    DictDel {
        /// The dict.
        dict: Handle,
        /// The key.
        key: Handle,
        /// An injected mistake.
        fault: Fault,
    },
    /// `obj_dict_item` at `index % 4`.
    DictItem {
        /// The dict.
        dict: Handle,
        /// The index.
        index: u8,
        /// An injected mistake.
        fault: Fault,
    },
    /// `obj_type_new` named `CLASS_NAMES[name % len]` with up to 3 bases.
    Type {
        /// Which name.
        name: u8,
        /// The bases (none: `object`).
        bases: Vec<Base>,
        /// The layout of instances.
        spec: Spec,
        /// An injected mistake.
        fault: Fault,
    },
    /// `obj_alloc`.
    Alloc {
        /// The class.
        ty: Handle,
        /// An injected mistake.
        fault: Fault,
    },
    /// `obj_call` with up to 2 arguments (a function, a bound method, a class...).
    Call {
        /// The callable.
        callable: Handle,
        /// The arguments.
        args: Vec<Handle>,
        /// An injected mistake.
        fault: Fault,
    },
    /// `obj_function_new` of a host function.
    Function {
        /// `FUNC_NAMES[name % len]`.
        name: u8,
        /// What it does.
        behaviour: Behaviour,
        /// An injected mistake.
        fault: Fault,
    },
    /// `obj_property_new`.
    Property {
        /// The getter.
        getter: Handle,
        /// The setter, if any.
        setter: Option<Handle>,
        /// An injected mistake.
        fault: Fault,
    },
    /// `obj_getattr_str` or `obj_getattr`.
    GetAttr {
        /// The object.
        o: Handle,
        /// The name.
        name: Name,
        /// An injected mistake.
        fault: Fault,
    },
    /// `obj_setattr_str` or `obj_setattr`.
    SetAttr {
        /// The object.
        o: Handle,
        /// The name.
        name: Name,
        /// The value.
        value: Handle,
        /// An injected mistake.
        fault: Fault,
    },
    /// `obj_delattr_str` or `obj_delattr`.
    DelAttr {
        /// The object.
        o: Handle,
        /// The name.
        name: Name,
        /// An injected mistake.
        fault: Fault,
    },
    /// `obj_call_method_str` or `obj_call_method` with up to 2 arguments.
    CallMethod {
        /// The object.
        o: Handle,
        /// The method's name.
        name: Name,
        /// The arguments.
        args: Vec<Handle>,
        /// An injected mistake.
        fault: Fault,
    },
    /// `obj_weakref_new`.
    WeakRef {
        /// The target.
        target: Handle,
        /// The callback, if any.
        callback: Option<Handle>,
        /// An injected mistake.
        fault: Fault,
    },
    /// `obj_weakref_get`.
    WeakGet {
        /// The weak reference.
        weakref: Handle,
        /// An injected mistake.
        fault: Fault,
    },
    /// `obj_is_instance`.
    IsInstance {
        /// The object.
        o: Handle,
        /// The class.
        ty: Handle,
        /// An injected mistake.
        fault: Fault,
    },
    /// `obj_type_mro`.
    Mro {
        /// The class.
        ty: Handle,
        /// An injected mistake.
        fault: Fault,
    },
    /// `obj_type_of` (borrowed: the runner increfs it to keep it).
    TypeOf {
        /// The object.
        o: Handle,
        /// An injected mistake.
        fault: Fault,
    },
    /// `obj_int_value`, `obj_float_value`, `obj_str_data`, `obj_len` and,
    /// for plain values, `obj_repr`.
    Inspect {
        /// The object.
        o: Handle,
    },
    /// `obj_incref`: a second handle to the same object.
    Dup {
        /// The object.
        o: Handle,
        /// An injected mistake.
        fault: Fault,
    },
    /// `obj_decref` of a handle, which the runner forgets.
    Drop {
        /// The handle.
        o: Handle,
    },
    /// `obj_gc_collect` of generation `generation % 5 - 1` (-1..=3; 3 is
    /// not a generation: `OBJ_ERR_VALUE`).
    Collect {
        /// The generation.
        generation: i8,
        /// An injected mistake.
        fault: Fault,
    },
}

impl Op {
    fn fault(&self) -> Fault {
        match self {
            Op::Int { fault, .. }
            | Op::Float { fault, .. }
            | Op::Str { fault, .. }
            | Op::Intern { fault, .. }
            | Op::Builtin { fault, .. }
            | Op::Tuple { fault, .. }
            | Op::List { fault }
            | Op::Dict { fault }
            | Op::Append { fault, .. }
            | Op::ListSet { fault, .. }
            | Op::SeqGet { fault, .. }
            | Op::Len { fault, .. }
            | Op::DictSet { fault, .. }
            | Op::DictGet { fault, .. }
            | Op::DictDel { fault, .. }
            | Op::DictItem { fault, .. }
            | Op::Type { fault, .. }
            | Op::Alloc { fault, .. }
            | Op::Call { fault, .. }
            | Op::Function { fault, .. }
            | Op::Property { fault, .. }
            | Op::GetAttr { fault, .. }
            | Op::SetAttr { fault, .. }
            | Op::DelAttr { fault, .. }
            | Op::CallMethod { fault, .. }
            | Op::WeakRef { fault, .. }
            | Op::WeakGet { fault, .. }
            | Op::IsInstance { fault, .. }
            | Op::Mro { fault, .. }
            | Op::TypeOf { fault, .. }
            | Op::Dup { fault, .. }
            | Op::Collect { fault, .. } => *fault,
            Op::Inspect { .. } | Op::Drop { .. } | Op::Nest { .. } => Fault::None,
        }
    }
}

// ----- the reference model --------------------------------------------------------

/// A model object's index in [`Model::objs`] (never reused).
type Id = usize;

/// The built-in types of a heap, in the order of [`BUILTIN_TYPES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bt {
    Object,
    Type,
    NoneType,
    Int,
    Bool,
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

/// Each built-in type and its `__name__` in objrt.
const BUILTIN_TYPES: [(Bt, &str); 15] = [
    (Bt::Object, "object"),
    (Bt::Type, "type"),
    (Bt::NoneType, "NoneType"),
    (Bt::Int, "int"),
    (Bt::Bool, "bool"),
    (Bt::Float, "float"),
    (Bt::Str, "str"),
    (Bt::Tuple, "tuple"),
    (Bt::List, "list"),
    (Bt::Dict, "dict"),
    (Bt::Function, "builtin_function_or_method"),
    (Bt::Method, "method"),
    (Bt::Property, "property"),
    (Bt::Member, "member_descriptor"),
    (Bt::WeakRef, "weakref"),
];

/// A class.
#[derive(Clone, Debug)]
struct TypeM {
    /// `__name__`.
    name: String,
    /// Which built-in type this is, if it is one (immortal, read-only).
    builtin: Option<Bt>,
    bases: Vec<Id>,
    /// Itself first.
    mro: Vec<Id>,
    /// The namespace, in insertion order (keys are interned names).
    ns: Vec<(String, Id)>,
    /// Whether instances have a `__dict__`.
    has_dict: bool,
    /// Slots of instances, inherited ones first.
    nslots: usize,
    payload: bool,
    /// The nearest class on its line that added slots or a payload
    /// (CPython's `solid_base`).
    solid: Id,
}

/// Where an instance keeps its attributes.
#[derive(Clone, Debug)]
enum Attrs {
    /// No `__dict__`.
    NoDict,
    /// Shape mode: the values are held by the instance itself.
    Inline(Vec<(String, Id)>),
    /// A dict object (after `__dict__` was asked for, or a delete).
    Dict(Id),
}

#[derive(Clone, Debug)]
struct InstM {
    class: Id,
    attrs: Attrs,
    slots: Vec<Option<Id>>,
}

#[derive(Clone, Debug)]
enum Kind {
    NoneV,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Tuple(Vec<Id>),
    List(Vec<Id>),
    Dict(Vec<(Id, Id)>),
    Type(Box<TypeM>),
    Instance(InstM),
    Function {
        fid: usize,
        behaviour: Behaviour,
    },
    Method {
        func: Id,
        self_: Id,
    },
    Property {
        getter: Id,
        setter: Option<Id>,
    },
    /// A slot of `owner`'s instances, at `index`.
    Member {
        owner: Id,
        index: usize,
    },
    WeakRef {
        target: Option<Id>,
        callback: Option<Id>,
    },
    /// A chain of `depth` (at least 2) one-item tuples or lists around
    /// `inner`, none of them handed out yet: one model object for many of
    /// the heap's. [`Model::peel`] turns its outermost level into a plain
    /// `Tuple` or `List` when it is reached (handles never hold a chain).
    Nest {
        tuple: bool,
        depth: usize,
        inner: Id,
    },
}

/// A tuple or list seen through chains: `(id, level)`, where `level` is
/// the depth inside a [`Kind::Nest`] (0 for any other object).
type Node = (Id, usize);

/// Why the model's `repr` gives no string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReprErr {
    /// Something other than a plain value (the runner does not ask).
    NotPlain,
    /// Nested past [`MAX_DEPTH`]: `OBJ_ERR_RECURSION`.
    Recursion,
}

#[derive(Clone, Debug)]
struct MObj {
    kind: Kind,
    alive: bool,
    immortal: bool,
    /// References the runner's handles hold.
    handles: usize,
    /// The collector's generation (containers only).
    generation: u8,
    /// Weak references to this object, oldest first.
    weakrefs: Vec<Id>,
}

/// Why the model gives no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum E {
    /// A failing status.
    S(i32),
    /// The model cannot say what is right: the op is not run.
    Skip,
}

type R<T> = Result<T, E>;

/// What an op gives back, in model objects.
#[derive(Debug, Clone, PartialEq)]
enum Out {
    Unit,
    /// A new reference.
    New(Id),
    /// Two new references (`obj_dict_item`).
    New2(Id, Id),
    /// A borrowed reference (the runner increfs it); `None`: NULL.
    Borrowed(Option<Id>),
    Len(usize),
    Bool(bool),
    /// Borrowed classes.
    Mro(Vec<Id>),
    Collected(usize),
    Inspect(Inspection),
}

/// The results of [`Op::Inspect`], each `Err(status)` or the value.
#[derive(Debug, Clone, PartialEq)]
struct Inspection {
    int: Result<i64, i32>,
    /// The bits of the value; every NaN as `f64::NAN`'s.
    float: Result<u64, i32>,
    text: Result<Vec<u8>, i32>,
    len: Result<usize, i32>,
    /// `None`: not asked (not a plain value). A failure's message is
    /// compared for `OBJ_ERR_RECURSION` only (empty otherwise).
    repr: Option<Result<String, (i32, String)>>,
}

fn float_bits(f: f64) -> u64 {
    if f.is_nan() {
        f64::NAN.to_bits()
    } else {
        f.to_bits()
    }
}

/// An argument of a resolved op: the model object and the real one.
#[derive(Clone, Copy)]
struct A {
    id: Id,
    ptr: *mut obj_t,
}

impl fmt::Debug for A {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.id)
    }
}

/// A resolved attribute name.
#[derive(Clone, Copy, Debug)]
enum N {
    Str(&'static str),
    Obj(A),
}

/// An op with its handles resolved.
#[derive(Clone, Debug)]
enum Req {
    Int(i64),
    Float(f64),
    Str(&'static str),
    Intern(&'static str),
    Builtin(u8),
    Tuple(Vec<A>),
    Nest {
        tuple: bool,
        depth: usize,
        item: A,
    },
    List,
    Dict,
    Append(A, A),
    ListSet(A, i64, A),
    SeqGet(A, i64),
    Len(A),
    DictSet(A, A, A),
    DictGet(A, A),
    DictDel(A, A),
    DictItem(A, usize),
    Type {
        name: &'static str,
        bases: Vec<A>,
        spec: Spec,
    },
    Alloc(A),
    Call(A, Vec<A>),
    Function {
        name: &'static str,
        behaviour: Behaviour,
        fid: usize,
    },
    Property(A, Option<A>),
    GetAttr(A, N),
    SetAttr(A, N, A),
    DelAttr(A, N),
    CallMethod(A, N, Vec<A>),
    WeakRef(A, Option<A>),
    WeakGet(A),
    IsInstance(A, A),
    Mro(A),
    TypeOf(A),
    Inspect(A),
    Dup(A),
    /// The slot to drop.
    Drop(usize),
    Collect(i32),
}

impl Req {
    /// (required pointers, texts) of the call, in the order the real side
    /// numbers them for fault injection ([`Inj`]).
    fn arity(&self) -> (usize, usize) {
        let text = |n: &N| usize::from(matches!(n, N::Str(_)));
        let array = |n: usize| n + usize::from(n > 0);
        match self {
            Req::Int(_) | Req::Float(_) | Req::List | Req::Dict => (2, 0),
            Req::Str(s) | Req::Intern(s) => (2 + usize::from(!s.is_empty()), 1),
            Req::Builtin(_) | Req::TypeOf(_) | Req::Dup(_) | Req::Collect(_) => (1, 0),
            Req::Tuple(items) => (2 + array(items.len()), 0),
            Req::Append(..)
            | Req::ListSet(..)
            | Req::SeqGet(..)
            | Req::Len(_)
            | Req::DictDel(..)
            | Req::Alloc(_)
            | Req::WeakRef(..)
            | Req::WeakGet(_) => (2, 0),
            Req::DictSet(..)
            | Req::DictGet(..)
            | Req::DictItem(..)
            | Req::Property(..)
            | Req::IsInstance(..)
            | Req::Mro(_) => (3, 0),
            Req::Type { bases, spec, .. } => {
                let (_, slots, _, _) = spec.parts();
                (3 + array(bases.len()) + array(slots.len()), 1 + slots.len())
            }
            Req::Call(_, args) => (2 + array(args.len()), 0),
            Req::Function { .. } => (4, 1),
            Req::GetAttr(_, n) | Req::SetAttr(_, n, _) => (3, text(n)),
            Req::DelAttr(_, n) => (2, text(n)),
            Req::CallMethod(_, n, args) => (3 + array(args.len()), text(n)),
            Req::Inspect(_) | Req::Drop(_) | Req::Nest { .. } => (0, 0),
        }
    }

    /// Every object argument.
    fn objects(&self) -> Vec<A> {
        let name = |n: &N| match n {
            N::Obj(a) => Some(*a),
            N::Str(_) => None,
        };
        match self {
            Req::Tuple(items) | Req::Type { bases: items, .. } => items.clone(),
            Req::Nest { item, .. } => vec![*item],
            Req::Append(a, b)
            | Req::ListSet(a, _, b)
            | Req::DictGet(a, b)
            | Req::DictDel(a, b)
            | Req::IsInstance(a, b) => vec![*a, *b],
            Req::DictSet(a, b, c) => vec![*a, *b, *c],
            Req::SeqGet(a, _)
            | Req::Len(a)
            | Req::DictItem(a, _)
            | Req::Alloc(a)
            | Req::WeakGet(a)
            | Req::Mro(a)
            | Req::TypeOf(a)
            | Req::Inspect(a)
            | Req::Dup(a) => vec![*a],
            Req::Call(f, args) => core::iter::once(*f).chain(args.iter().copied()).collect(),
            Req::Property(g, s) => core::iter::once(*g).chain(*s).collect(),
            Req::GetAttr(o, n) | Req::DelAttr(o, n) => {
                core::iter::once(*o).chain(name(n)).collect()
            }
            Req::SetAttr(o, n, v) => [Some(*o), name(n), Some(*v)]
                .into_iter()
                .flatten()
                .collect(),
            Req::CallMethod(o, n, args) => core::iter::once(*o)
                .chain(name(n))
                .chain(args.iter().copied())
                .collect(),
            Req::WeakRef(t, cb) => core::iter::once(*t).chain(*cb).collect(),
            Req::Int(_)
            | Req::Float(_)
            | Req::Str(_)
            | Req::Intern(_)
            | Req::Builtin(_)
            | Req::List
            | Req::Dict
            | Req::Function { .. }
            | Req::Drop(_)
            | Req::Collect(_) => Vec::new(),
        }
    }

    /// The object arguments another heap's object may replace: only where
    /// the call involves two objects, or a heap and an object.
    fn mixable(&mut self) -> Vec<&mut A> {
        let mut v: Vec<&mut A> = Vec::new();
        let with_heap = matches!(self, Req::Tuple(_) | Req::Type { .. } | Req::Property(..));
        match self {
            Req::Tuple(items) => v.extend(items.iter_mut()),
            Req::Type { bases, .. } => v.extend(bases.iter_mut()),
            Req::Property(g, s) => {
                v.push(g);
                v.extend(s.iter_mut());
            }
            Req::Append(a, b)
            | Req::ListSet(a, _, b)
            | Req::DictGet(a, b)
            | Req::DictDel(a, b)
            | Req::IsInstance(a, b) => {
                v.push(a);
                v.push(b);
            }
            Req::DictSet(a, b, c) => {
                v.push(a);
                v.push(b);
                v.push(c);
            }
            Req::Call(f, args) => {
                v.push(f);
                v.extend(args.iter_mut());
            }
            Req::WeakRef(t, cb) => {
                v.push(t);
                v.extend(cb.iter_mut());
            }
            Req::GetAttr(o, n) | Req::DelAttr(o, n) => {
                v.push(o);
                if let N::Obj(a) = n {
                    v.push(a);
                }
            }
            Req::SetAttr(o, n, val) => {
                v.push(o);
                if let N::Obj(a) = n {
                    v.push(a);
                }
                v.push(val);
            }
            Req::CallMethod(o, n, args) => {
                v.push(o);
                if let N::Obj(a) = n {
                    v.push(a);
                }
                v.extend(args.iter_mut());
            }
            _ => {}
        }
        if !with_heap && v.len() < 2 {
            v.clear();
        }
        v
    }
}

/// The reference model: every object a heap would hold, by kind, with the
/// references between them explicit, so reference counts, reachability and
/// the weak references' fate follow from the graph.
#[derive(Clone)]
struct Model {
    objs: Vec<MObj>,
    /// The built-in types, in the order of [`BUILTIN_TYPES`].
    bt: Vec<Id>,
    none: Id,
    true_: Id,
    false_: Id,
    small_ints: HashMap<i64, Id>,
    interned: HashMap<String, Id>,
    /// Host function calls (function id, number of arguments) since cleared.
    log: Vec<(usize, usize)>,
    /// Interned strs made after the baseline (none, as long as the pools
    /// cover every name).
    late_interned: usize,
    /// Calls in progress: a call made with [`MAX_DEPTH`] in progress fails
    /// with `OBJ_ERR_RECURSION`, as objrt's `call_raw` does (every call
    /// of the model is one of objrt's, nested the same way).
    depth: usize,
    /// Calls made by the op in progress (bounded by [`MAX_CALLS_PER_OP`]).
    calls: usize,
    /// Objects whose runner handle a host function gave back
    /// ([`Step::DropHandle`]), in order, since cleared.
    dropped: Vec<Id>,
    /// The arguments of the op in progress: the runner lends its handles
    /// to them for the call (they are borrowed), so a host function may
    /// not give those back.
    lent: Vec<Id>,
}

impl fmt::Debug for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let live = self.objs.iter().filter(|o| o.alive && !o.immortal).count();
        write!(f, "Model {{ {live} live objects }}")
    }
}

impl Model {
    fn new(interned: &[&str]) -> Self {
        let mut m = Model {
            objs: Vec::new(),
            bt: Vec::new(),
            none: 0,
            true_: 0,
            false_: 0,
            small_ints: HashMap::new(),
            interned: HashMap::new(),
            log: Vec::new(),
            late_interned: 0,
            depth: 0,
            calls: 0,
            dropped: Vec::new(),
            lent: Vec::new(),
        };
        for (i, &(bt, name)) in BUILTIN_TYPES.iter().enumerate() {
            // Bases come first: `object` is 0, `int` comes before `bool`.
            let base = match bt {
                Bt::Object => None,
                Bt::Bool => Some(m.bt[Bt::Int as usize]),
                _ => Some(m.bt[Bt::Object as usize]),
            };
            let mut mro = vec![i];
            if let Some(b) = base {
                mro.extend(m.tym(b).mro.iter().copied());
            }
            let t = TypeM {
                name: name.to_owned(),
                builtin: Some(bt),
                bases: base.into_iter().collect(),
                mro,
                ns: Vec::new(),
                has_dict: false,
                nslots: 0,
                payload: false,
                solid: 0,
            };
            let id = m.add(Kind::Type(Box::new(t)), true);
            debug_assert_eq!(id, i);
            m.bt.push(id);
        }
        m.none = m.add(Kind::NoneV, true);
        m.true_ = m.add(Kind::Bool(true), true);
        m.false_ = m.add(Kind::Bool(false), true);
        // The runner's texts, and the built-in types' names (a heap interns
        // those as it starts).
        let names = BUILTIN_TYPES.iter().map(|&(_, n)| n);
        for s in interned.iter().copied().chain(names) {
            if !m.interned.contains_key(s) {
                let id = m.add(Kind::Str(s.to_owned()), true);
                m.interned.insert(s.to_owned(), id);
            }
        }
        m
    }

    fn add(&mut self, kind: Kind, immortal: bool) -> Id {
        self.objs.push(MObj {
            kind,
            alive: true,
            immortal,
            handles: 0,
            generation: 0,
            weakrefs: Vec::new(),
        });
        self.objs.len() - 1
    }

    fn kind(&self, id: Id) -> &Kind {
        &self.objs[id].kind
    }

    fn b(&self, bt: Bt) -> Id {
        self.bt[bt as usize]
    }

    /// The class of a class object (panics on anything else).
    fn tym(&self, id: Id) -> &TypeM {
        match self.kind(id) {
            Kind::Type(t) => t,
            k => panic!("model: #{id} is no class: {k:?}"),
        }
    }

    fn is_type(&self, id: Id) -> bool {
        matches!(self.kind(id), Kind::Type(_))
    }

    fn class_of(&self, id: Id) -> Id {
        let bt = match self.kind(id) {
            Kind::NoneV => Bt::NoneType,
            Kind::Bool(_) => Bt::Bool,
            Kind::Int(_) => Bt::Int,
            Kind::Float(_) => Bt::Float,
            Kind::Str(_) => Bt::Str,
            Kind::Tuple(_) => Bt::Tuple,
            Kind::List(_) => Bt::List,
            Kind::Dict(_) => Bt::Dict,
            Kind::Type(_) => Bt::Type,
            Kind::Instance(i) => return i.class,
            Kind::Function { .. } => Bt::Function,
            Kind::Method { .. } => Bt::Method,
            Kind::Property { .. } => Bt::Property,
            Kind::Member { .. } => Bt::Member,
            Kind::WeakRef { .. } => Bt::WeakRef,
            Kind::Nest { tuple: true, .. } => Bt::Tuple,
            Kind::Nest { tuple: false, .. } => Bt::List,
        };
        self.b(bt)
    }

    fn int(&mut self, v: i64) -> Id {
        if (-5..=256).contains(&v) {
            if let Some(&id) = self.small_ints.get(&v) {
                return id;
            }
            let id = self.add(Kind::Int(v), true);
            self.small_ints.insert(v, id);
            return id;
        }
        self.add(Kind::Int(v), false)
    }

    fn interned(&mut self, s: &str) -> Id {
        if let Some(&id) = self.interned.get(s) {
            return id;
        }
        self.late_interned += 1;
        let id = self.add(Kind::Str(s.to_owned()), true);
        self.interned.insert(s.to_owned(), id);
        id
    }

    /// `name` on the MRO of the class `cls` (borrowed).
    fn lookup(&self, cls: Id, name: &str) -> Option<Id> {
        self.tym(cls).mro.iter().find_map(|&t| {
            self.tym(t)
                .ns
                .iter()
                .find(|(k, _)| k == name)
                .map(|&(_, v)| v)
        })
    }

    fn is_subtype(&self, a: Id, b: Id) -> bool {
        self.tym(a).mro.contains(&b)
    }

    /// A weak reference with a callback: kept only in the runner's handles
    /// (see "What it leaves out").
    fn has_callback(&self, id: Id) -> bool {
        matches!(
            self.kind(id),
            Kind::WeakRef {
                callback: Some(_),
                ..
            }
        )
    }

    /// Dict keys that CPython compares by value and objrt by identity.
    fn odd_key(&self, id: Id) -> bool {
        self.odd_node((id, 0))
    }

    fn odd_node(&self, n: Node) -> bool {
        match self.kind(n.0) {
            Kind::Method { .. } | Kind::WeakRef { .. } => true,
            _ => match self.seq_items(n) {
                Some((true, items)) => items.iter().any(|&i| self.odd_node(i)),
                _ => false,
            },
        }
    }

    /// The items of a tuple (`true`) or list (`false`), seeing through chains.
    fn seq_items(&self, (id, level): Node) -> Option<(bool, Vec<Node>)> {
        match self.kind(id) {
            Kind::Tuple(items) => Some((true, items.iter().map(|&i| (i, 0)).collect())),
            Kind::List(items) => Some((false, items.iter().map(|&i| (i, 0)).collect())),
            &Kind::Nest {
                tuple,
                depth,
                inner,
            } => {
                let item = if level + 1 < depth {
                    (id, level + 1)
                } else {
                    (inner, 0)
                };
                Some((tuple, vec![item]))
            }
            _ => None,
        }
    }

    /// Makes `id`, if it is a chain, a plain one-item tuple or list whose
    /// item is the rest of the chain (semantics unchanged: the heap's
    /// objects are the same).
    fn peel(&mut self, id: Id) {
        let Kind::Nest {
            tuple,
            depth,
            inner,
        } = self.objs[id].kind
        else {
            return;
        };
        let item = if depth > 2 {
            let rest = self.add(
                Kind::Nest {
                    tuple,
                    depth: depth - 1,
                    inner,
                },
                false,
            );
            self.objs[rest].generation = self.objs[id].generation;
            rest
        } else {
            let rest = self.add(
                if tuple {
                    Kind::Tuple(vec![inner])
                } else {
                    Kind::List(vec![inner])
                },
                false,
            );
            self.objs[rest].generation = self.objs[id].generation;
            rest
        };
        self.objs[id].kind = if tuple {
            Kind::Tuple(vec![item])
        } else {
            Kind::List(vec![item])
        };
    }

    /// The heap objects a model object stands for (a chain is many).
    fn weight(&self, id: Id) -> usize {
        match self.kind(id) {
            Kind::Nest { depth, .. } => *depth,
            _ => 1,
        }
    }

    // ----- references, reachability, death ---------------------------------

    /// The references `id` holds (each one count).
    fn edges(&self, id: Id) -> Vec<Id> {
        match self.kind(id) {
            Kind::Tuple(items) | Kind::List(items) => items.clone(),
            Kind::Dict(entries) => entries.iter().flat_map(|&(k, v)| [k, v]).collect(),
            Kind::Type(t) if t.builtin.is_none() => {
                let mut v = t.bases.clone();
                v.extend(t.ns.iter().map(|&(_, x)| x));
                v
            }
            Kind::Instance(i) => {
                let mut v = vec![i.class];
                v.extend(i.slots.iter().flatten());
                match &i.attrs {
                    Attrs::NoDict => {}
                    Attrs::Inline(a) => v.extend(a.iter().map(|&(_, x)| x)),
                    Attrs::Dict(d) => v.push(*d),
                }
                v
            }
            Kind::Method { func, self_ } => vec![*func, *self_],
            Kind::Property { getter, setter } => {
                let mut v = vec![*getter];
                v.extend(setter);
                v
            }
            Kind::WeakRef { callback, .. } => callback.iter().copied().collect(),
            Kind::Nest { inner, .. } => vec![*inner],
            _ => Vec::new(),
        }
    }

    /// Objects the collector tracks (objrt's containers).
    fn is_container(&self, id: Id) -> bool {
        match self.kind(id) {
            Kind::Type(t) => t.builtin.is_none(),
            Kind::Instance(_)
            | Kind::Tuple(_)
            | Kind::List(_)
            | Kind::Dict(_)
            | Kind::Method { .. }
            | Kind::Property { .. }
            | Kind::WeakRef { .. }
            | Kind::Nest { .. } => true,
            _ => false,
        }
    }

    /// The reference count of every object: handles plus references from
    /// live objects.
    fn refcounts(&self) -> Vec<usize> {
        let mut rc = vec![0; self.objs.len()];
        for (i, o) in self.objs.iter().enumerate() {
            if o.alive {
                rc[i] += o.handles;
                for e in self.edges(i) {
                    rc[e] += 1;
                }
            }
        }
        rc
    }

    /// Objects that would be in `objects_live`: the live mortal ones, plus
    /// each class's namespace dict.
    fn live_objects(&self) -> usize {
        let classes = (0..self.objs.len())
            .filter(|&i| self.objs[i].alive && !self.objs[i].immortal && self.is_type(i))
            .count();
        let all: usize = (0..self.objs.len())
            .filter(|&i| self.objs[i].alive && !self.objs[i].immortal)
            .map(|i| self.weight(i))
            .sum();
        all + classes + self.late_interned
    }

    /// Frees what no reference keeps alive, until nothing more dies.
    fn cascade(&mut self) {
        loop {
            let rc = self.refcounts();
            let dead: Vec<Id> = (0..self.objs.len())
                .filter(|&i| self.objs[i].alive && !self.objs[i].immortal && rc[i] == 0)
                .collect();
            if dead.is_empty() {
                return;
            }
            self.kill(&dead);
        }
    }

    /// `dead` die together: their weak references are cleared, and the
    /// callbacks of those that survive them run.
    fn kill(&mut self, dead: &[Id]) {
        for &d in dead {
            self.objs[d].alive = false;
        }
        for &d in dead {
            if let Kind::WeakRef {
                target: Some(t), ..
            } = self.objs[d].kind
            {
                self.objs[t].weakrefs.retain(|&w| w != d);
            }
        }
        let mut callbacks = Vec::new();
        for &d in dead {
            let refs = core::mem::take(&mut self.objs[d].weakrefs);
            // Newest first, as CPython calls them.
            for &w in refs.iter().rev() {
                let alive = self.objs[w].alive;
                if let Kind::WeakRef { target, callback } = &mut self.objs[w].kind {
                    *target = None;
                    if let (true, Some(cb)) = (alive, *callback) {
                        callbacks.push((w, cb));
                    }
                }
            }
        }
        for (w, cb) in callbacks {
            // A failing callback is ignored (CPython reports it as unraisable).
            let _ = self.call(cb, &[w]);
        }
    }

    /// `gc.collect(generation)`: the unreachable containers of the
    /// generations up to `generation` die; the survivors move up one.
    fn collect(&mut self, generation: i32) -> R<usize> {
        if !(-1..=2).contains(&generation) {
            return Err(E::S(VALUE));
        }
        let g = if generation < 0 { 2 } else { generation as u8 };
        let examined: Vec<Id> = (0..self.objs.len())
            .filter(|&i| {
                let o = &self.objs[i];
                o.alive && !o.immortal && o.generation <= g && self.is_container(i)
            })
            .collect();
        let index: HashMap<Id, usize> = examined.iter().enumerate().map(|(n, &i)| (i, n)).collect();
        let rc = self.refcounts();
        let mut outside: Vec<isize> = examined.iter().map(|&i| rc[i] as isize).collect();
        for &o in &examined {
            for e in self.edges(o) {
                if let Some(&n) = index.get(&e) {
                    outside[n] -= 1;
                }
            }
        }
        let mut reachable: Vec<bool> = outside.iter().map(|&r| r > 0).collect();
        let mut stack: Vec<usize> = (0..examined.len()).filter(|&n| reachable[n]).collect();
        while let Some(n) = stack.pop() {
            for e in self.edges(examined[n]) {
                if let Some(&m) = index.get(&e) {
                    if !reachable[m] {
                        reachable[m] = true;
                        stack.push(m);
                    }
                }
            }
        }
        let garbage: Vec<Id> = (0..examined.len())
            .filter(|&n| !reachable[n])
            .map(|n| examined[n])
            .collect();
        // A class's namespace dict is a container too, in its class's generation.
        let found = garbage.iter().map(|&i| self.weight(i)).sum::<usize>()
            + garbage.iter().filter(|&&i| self.is_type(i)).count();
        for n in 0..examined.len() {
            if reachable[n] {
                let o = &mut self.objs[examined[n]];
                o.generation = (g + 1).min(2);
            }
        }
        self.kill(&garbage);
        self.cascade();
        Ok(found)
    }

    // ----- calls ---------------------------------------------------------------

    /// `f(*args)`; the result is a new reference (no handle yet).
    fn call(&mut self, f: Id, args: &[Id]) -> R<Id> {
        self.calls += 1;
        if self.calls > MAX_CALLS_PER_OP {
            return Err(E::Skip);
        }
        if self.depth >= MAX_DEPTH {
            return Err(E::S(RECURSION));
        }
        self.depth += 1;
        let r = self.call_inner(f, args);
        self.depth -= 1;
        r
    }

    fn call_inner(&mut self, f: Id, args: &[Id]) -> R<Id> {
        match self.kind(f).clone() {
            Kind::Function { fid, behaviour } => {
                self.log.push((fid, args.len()));
                match behaviour {
                    Behaviour::Reenter(step, then) => self.reenter(f, step, then, args),
                    b => self.behave(b, args),
                }
            }
            Kind::Method { func, self_ } => {
                let mut a = vec![self_];
                a.extend_from_slice(args);
                self.call(func, &a)
            }
            Kind::Type(_) => self.call_type(f, args),
            _ => Err(E::S(TYPE)),
        }
    }

    fn behave(&mut self, b: Behaviour, args: &[Id]) -> R<Id> {
        match b {
            Behaviour::Int7 => Ok(self.int(7)),
            Behaviour::Int1000 => Ok(self.int(1000)),
            Behaviour::None => Ok(self.none),
            Behaviour::Nargs => Ok(self.int(args.len() as i64)),
            Behaviour::FirstArg => args.first().copied().ok_or(E::S(TYPE)),
            Behaviour::Fail | Behaviour::NullResult => Err(E::S(CALLBACK)),
            Behaviour::FailCustom => Err(E::S(CUSTOM)),
            Behaviour::FailAttribute => Err(E::S(ATTRIBUTE)),
            Behaviour::Foreign => Err(E::S(HEAP_MISMATCH)),
            Behaviour::Reenter(..) => unreachable!("Model::reenter"),
        }
    }

    fn subject(&self, s: Subject, me: Id, args: &[Id]) -> Id {
        match s {
            Subject::First => args[0],
            Subject::ClassOfFirst => self.class_of(args[0]),
            Subject::Itself => me,
            Subject::NoneObj => self.none,
        }
    }

    /// A reentrant host function `me` ([`Behaviour::Reenter`]).
    fn reenter(&mut self, me: Id, step: Step, then: Then, args: &[Id]) -> R<Id> {
        if args.is_empty() && needs_first(step, then) {
            return Err(E::S(TYPE));
        }
        let name = |n: u8| NAMES[usize::from(n) % NAMES.len()];
        let r: R<Option<Id>> = match step {
            Step::SetAttr { on, name: n, value } => {
                let (o, v) = (self.subject(on, me, args), self.subject(value, me, args));
                self.setattr(o, name(n), v).map(|()| None)
            }
            Step::DelAttr { on, name: n } => {
                let o = self.subject(on, me, args);
                self.delattr(o, name(n)).map(|()| None)
            }
            Step::Call { callee, rest } => {
                let c = self.subject(callee, me, args);
                let a = if rest {
                    &args[1.min(args.len())..]
                } else {
                    args
                };
                self.call(c, a).map(Some)
            }
            Step::DropHandle(s) => {
                let o = self.subject(s, me, args);
                if self.objs[o].handles > usize::from(self.lent.contains(&o)) {
                    self.objs[o].handles -= 1;
                    self.dropped.push(o);
                }
                Ok(None)
            }
        };
        if r == Err(E::Skip) {
            return Err(E::Skip);
        }
        match then {
            Then::Propagate => r.map(|x| x.unwrap_or(self.none)),
            Then::Swallow => Ok(self.none),
            Then::GetAttr { on, name: n } => {
                let o = self.subject(on, me, args);
                self.getattr(o, name(n))
            }
        }
    }

    fn new_instance(&mut self, t: Id) -> Id {
        let tm = self.tym(t);
        let attrs = if tm.has_dict {
            Attrs::Inline(Vec::new())
        } else {
            Attrs::NoDict
        };
        let slots = vec![None; tm.nslots];
        self.add(
            Kind::Instance(InstM {
                class: t,
                attrs,
                slots,
            }),
            false,
        )
    }

    /// `T(*args)`: a new instance, then `T.__init__` as CPython calls it
    /// (`slot_tp_init`: a function gets the instance first; another
    /// descriptor is bound first; anything else is called as it is).
    fn call_type(&mut self, t: Id, args: &[Id]) -> R<Id> {
        if self.tym(t).builtin.is_some_and(|b| b != Bt::Object) {
            // int(), list()... exist in CPython, not in objrt.
            return Err(E::Skip);
        }
        let o = self.new_instance(t);
        let Some(init) = self.lookup(t, "__init__") else {
            return if args.is_empty() {
                Ok(o)
            } else {
                Err(E::S(TYPE))
            };
        };
        let r = match self.kind(init).clone() {
            Kind::Function { .. } => {
                let mut a = vec![o];
                a.extend_from_slice(args);
                self.call(init, &a)?
            }
            Kind::Property { getter, .. } => {
                let bound = self.call(getter, &[o])?;
                self.call(bound, args)?
            }
            Kind::Member { owner, index } => {
                let bound = self.member_get(o, owner, index)?;
                self.call(bound, args)?
            }
            _ => self.call(init, args)?,
        };
        if matches!(self.kind(r), Kind::NoneV) {
            Ok(o)
        } else {
            Err(E::S(TYPE))
        }
    }

    // ----- attributes ------------------------------------------------------------

    /// A slot member's value on `o`, checking that the member applies to
    /// `o`'s class (CPython: "descriptor 'x' for 'A' objects doesn't apply
    /// to a 'B' object").
    fn member_get(&self, o: Id, owner: Id, index: usize) -> R<Id> {
        self.member_applies(o, owner)?;
        match self.kind(o) {
            Kind::Instance(i) => i.slots[index].ok_or(E::S(ATTRIBUTE)),
            _ => Err(E::S(TYPE)),
        }
    }

    fn member_applies(&self, o: Id, owner: Id) -> R<()> {
        if self.is_subtype(self.class_of(o), owner) {
            Ok(())
        } else {
            Err(E::S(TYPE))
        }
    }

    fn inst(&self, o: Id) -> Option<&InstM> {
        match self.kind(o) {
            Kind::Instance(i) => Some(i),
            _ => None,
        }
    }

    fn inst_mut(&mut self, o: Id) -> &mut InstM {
        match &mut self.objs[o].kind {
            Kind::Instance(i) => i,
            _ => panic!("model: #{o} is no instance"),
        }
    }

    fn has_dict(&self, o: Id) -> bool {
        self.inst(o)
            .is_some_and(|i| !matches!(i.attrs, Attrs::NoDict))
    }

    /// The index of the entry of dict `d` whose key equals `key`.
    fn dict_find(&self, d: Id, key: Id) -> Option<usize> {
        match self.kind(d) {
            Kind::Dict(entries) => entries.iter().position(|&(k, _)| self.key_eq(k, key)),
            _ => None,
        }
    }

    fn dict_find_text(&self, d: Id, text: &str) -> Option<usize> {
        match self.kind(d) {
            Kind::Dict(entries) => entries
                .iter()
                .position(|&(k, _)| matches!(self.kind(k), Kind::Str(s) if s == text)),
            _ => None,
        }
    }

    fn dict_entries(&mut self, d: Id) -> &mut Vec<(Id, Id)> {
        match &mut self.objs[d].kind {
            Kind::Dict(e) => e,
            _ => panic!("model: #{d} is no dict"),
        }
    }

    /// `d[key] = value`: an equal key already there is kept.
    fn dict_set(&mut self, d: Id, key: Id, value: Id) {
        match self.dict_find(d, key) {
            Some(n) => self.dict_entries(d)[n].1 = value,
            None => self.dict_entries(d).push((key, value)),
        }
    }

    /// Python's `==` for dict keys: numbers and strs by value, tuples item
    /// by item, everything else by identity.
    fn key_eq(&self, a: Id, b: Id) -> bool {
        self.node_eq((a, 0), (b, 0))
    }

    /// [`Model::key_eq`], seeing through chains (objrt compares at any depth).
    fn node_eq(&self, an: Node, bn: Node) -> bool {
        if an == bn {
            return true;
        }
        let (a, b) = (an.0, bn.0);
        let num = |k: &Kind| match *k {
            Kind::Int(v) => Some((Some(v), v as f64)),
            Kind::Bool(v) => Some((Some(i64::from(v)), f64::from(u8::from(v)))),
            Kind::Float(f) => Some((None, f)),
            _ => None,
        };
        match (num(self.kind(a)), num(self.kind(b))) {
            (Some((Some(x), _)), Some((Some(y), _))) => return x == y,
            (Some((None, x)), Some((None, y))) => return x == y,
            (Some((Some(i), _)), Some((None, f))) | (Some((None, f)), Some((Some(i), _))) => {
                const BOUND: f64 = 9_223_372_036_854_775_808.0;
                return f.fract() == 0.0 && (-BOUND..BOUND).contains(&f) && f as i64 == i;
            }
            _ => {}
        }
        if let (Kind::Str(x), Kind::Str(y)) = (self.kind(a), self.kind(b)) {
            return x == y;
        }
        match (self.seq_items(an), self.seq_items(bn)) {
            (Some((true, x)), Some((true, y))) => {
                x.len() == y.len() && x.iter().zip(&y).all(|(&p, &q)| self.node_eq(p, q))
            }
            _ => false,
        }
    }

    /// The instance attribute `name` of `o`.
    fn inst_get(&self, o: Id, name: &str) -> Option<Id> {
        match &self.inst(o)?.attrs {
            Attrs::NoDict => None,
            Attrs::Inline(a) => a.iter().find(|(k, _)| k == name).map(|&(_, v)| v),
            Attrs::Dict(d) => {
                let n = self.dict_find_text(*d, name)?;
                match self.kind(*d) {
                    Kind::Dict(e) => Some(e[n].1),
                    _ => None,
                }
            }
        }
    }

    fn inst_set(&mut self, o: Id, name: &str, v: Id) {
        let key = self.interned(name);
        match &mut self.inst_mut(o).attrs {
            Attrs::NoDict => panic!("model: #{o} has no __dict__"),
            Attrs::Inline(a) => match a.iter_mut().find(|(k, _)| k == name) {
                Some(slot) => slot.1 = v,
                None => a.push((name.to_owned(), v)),
            },
            Attrs::Dict(d) => {
                let d = *d;
                match self.dict_find_text(d, name) {
                    Some(n) => self.dict_entries(d)[n].1 = v,
                    None => self.dict_entries(d).push((key, v)),
                }
            }
        }
    }

    /// The instance's `__dict__`, made from its inline attributes the first time.
    fn materialize(&mut self, o: Id) -> Id {
        let inline = match &self.inst_mut(o).attrs {
            Attrs::Dict(d) => return *d,
            Attrs::Inline(a) => a.clone(),
            Attrs::NoDict => panic!("model: #{o} has no __dict__"),
        };
        let entries = inline
            .into_iter()
            .map(|(k, v)| (self.interned(&k), v))
            .collect();
        let d = self.add(Kind::Dict(entries), false);
        self.inst_mut(o).attrs = Attrs::Dict(d);
        d
    }

    fn getattr(&mut self, o: Id, name: &str) -> R<Id> {
        if self.is_type(o) {
            return self.type_getattr(o, name);
        }
        let cls = self.class_of(o);
        match self.generic_getattr(o, name) {
            Err(E::S(ATTRIBUTE)) if name != "__getattr__" => {
                match self.lookup(cls, "__getattr__") {
                    Some(hook) => self.getattr_hook(hook, o, name),
                    None => Err(E::S(ATTRIBUTE)),
                }
            }
            r => r,
        }
    }

    /// CPython's `PyObject_GenericGetAttr`.
    fn generic_getattr(&mut self, o: Id, name: &str) -> R<Id> {
        let cls = self.class_of(o);
        let descr = self.lookup(cls, name);
        if let Some(d) = descr {
            match *self.kind(d) {
                Kind::Property { getter, .. } => return self.call(getter, &[o]),
                Kind::Member { owner, index } => return self.member_get(o, owner, index),
                _ => {}
            }
        }
        if name == "__class__" {
            return Ok(cls);
        }
        if self.has_dict(o) {
            if name == "__dict__" {
                return Ok(self.materialize(o));
            }
            if let Some(v) = self.inst_get(o, name) {
                return Ok(v);
            }
        }
        match descr {
            Some(d) if matches!(self.kind(d), Kind::Function { .. }) => {
                Ok(self.add(Kind::Method { func: d, self_: o }, false))
            }
            Some(d) => Ok(d),
            // CPython finds these on `object` or on the built-in type.
            None if name == "__init__" => Err(E::Skip),
            None if name == "__name__"
                && matches!(
                    self.kind(o),
                    Kind::Function { .. } | Kind::Method { .. } | Kind::Member { .. }
                ) =>
            {
                Err(E::Skip)
            }
            None => Err(E::S(ATTRIBUTE)),
        }
    }

    /// `type(o).__getattr__(o, name)`, bound as CPython binds it.
    fn getattr_hook(&mut self, hook: Id, o: Id, name: &str) -> R<Id> {
        let n = self.interned(name);
        match *self.kind(hook) {
            Kind::Function { .. } => self.call(hook, &[o, n]),
            Kind::Property { getter, .. } => {
                let f = self.call(getter, &[o])?;
                self.call(f, &[n])
            }
            Kind::Member { owner, index } => {
                let f = self.member_get(o, owner, index)?;
                self.call(f, &[n])
            }
            _ => self.call(hook, &[n]),
        }
    }

    fn type_getattr(&mut self, t: Id, name: &str) -> R<Id> {
        match name {
            "__name__" => {
                if self.tym(t).builtin == Some(Bt::WeakRef) {
                    // CPython calls it `ReferenceType`.
                    return Err(E::Skip);
                }
                let n = self.tym(t).name.clone();
                Ok(self.interned(&n))
            }
            "__class__" => Ok(self.b(Bt::Type)),
            "__mro__" => {
                let mro = self.tym(t).mro.clone();
                Ok(self.add(Kind::Tuple(mro), false))
            }
            // A mappingproxy in CPython, a snapshot dict in objrt.
            "__dict__" => Err(E::Skip),
            _ => match self.lookup(t, name) {
                Some(v) => Ok(v),
                None if name == "__init__" => Err(E::Skip),
                None => Err(E::S(ATTRIBUTE)),
            },
        }
    }

    fn setattr(&mut self, o: Id, name: &str, v: Id) -> R<()> {
        if matches!(name, "__class__" | "__dict__") || self.has_callback(v) {
            return Err(E::Skip);
        }
        if self.is_type(o) {
            if self.tym(o).builtin.is_some() {
                return Err(E::S(TYPE));
            }
            match name {
                "__name__" => return Err(E::Skip),
                "__mro__" => return Err(E::S(ATTRIBUTE)),
                _ => {}
            }
            let Kind::Type(t) = &mut self.objs[o].kind else {
                unreachable!()
            };
            match t.ns.iter_mut().find(|(k, _)| k == name) {
                Some(slot) => slot.1 = v,
                None => t.ns.push((name.to_owned(), v)),
            }
            return Ok(());
        }
        let cls = self.class_of(o);
        if let Some(d) = self.lookup(cls, name) {
            match *self.kind(d) {
                Kind::Property {
                    setter: Some(s), ..
                } => return self.call(s, &[o, v]).map(|_| ()),
                Kind::Property { setter: None, .. } => return Err(E::S(ATTRIBUTE)),
                Kind::Member { owner, index } => {
                    self.member_applies(o, owner)?;
                    self.inst_mut(o).slots[index] = Some(v);
                    return Ok(());
                }
                _ => {}
            }
        }
        if self.has_dict(o) {
            self.inst_set(o, name, v);
            Ok(())
        } else {
            Err(E::S(ATTRIBUTE))
        }
    }

    fn delattr(&mut self, o: Id, name: &str) -> R<()> {
        if matches!(name, "__class__" | "__dict__") {
            return Err(E::Skip);
        }
        if self.is_type(o) {
            if self.tym(o).builtin.is_some() {
                return Err(E::S(TYPE));
            }
            match name {
                "__name__" => return Err(E::Skip),
                "__mro__" => return Err(E::S(ATTRIBUTE)),
                _ => {}
            }
            let Kind::Type(t) = &mut self.objs[o].kind else {
                unreachable!()
            };
            return match t.ns.iter().position(|(k, _)| k == name) {
                Some(n) => {
                    t.ns.remove(n);
                    Ok(())
                }
                None => Err(E::S(ATTRIBUTE)),
            };
        }
        let cls = self.class_of(o);
        if let Some(d) = self.lookup(cls, name) {
            match *self.kind(d) {
                Kind::Property { .. } => return Err(E::S(ATTRIBUTE)),
                Kind::Member { owner, index } => {
                    self.member_applies(o, owner)?;
                    return match self.inst_mut(o).slots[index].take() {
                        Some(_) => Ok(()),
                        None => Err(E::S(ATTRIBUTE)),
                    };
                }
                _ => {}
            }
        }
        if self.has_dict(o) && self.inst_get(o, name).is_some() {
            let d = self.materialize(o);
            let n = self.dict_find_text(d, name).expect("just found");
            self.dict_entries(d).remove(n);
            Ok(())
        } else {
            Err(E::S(ATTRIBUTE))
        }
    }

    /// The text of an attribute name (a non-str name object: `OBJ_ERR_TYPE`).
    fn name_text(&self, n: &N) -> R<String> {
        match n {
            N::Str(s) => Ok((*s).to_owned()),
            N::Obj(a) => match self.kind(a.id) {
                Kind::Str(s) => Ok(s.clone()),
                _ => Err(E::S(TYPE)),
            },
        }
    }

    // ----- classes -----------------------------------------------------------------

    fn new_type(&mut self, name: &str, bases: &[Id], spec: Spec) -> R<Id> {
        if bases.iter().any(|&b| !self.is_type(b)) {
            return Err(E::S(TYPE));
        }
        if bases
            .iter()
            .any(|&b| self.tym(b).builtin.is_some_and(|bt| bt != Bt::Object))
        {
            // CPython subclasses int, list... objrt does not.
            return Err(E::Skip);
        }
        let bases: Vec<Id> = if bases.is_empty() {
            vec![self.b(Bt::Object)]
        } else {
            bases.to_vec()
        };
        let (payload, slots, spec_dict, _) = spec.parts();
        // CPython's best_base: the base whose solid base derives from every other's.
        let mut best = bases[0];
        for &b in &bases[1..] {
            let (sb, sc) = (self.tym(best).solid, self.tym(b).solid);
            if self.is_subtype(sb, sc) {
                continue;
            }
            if self.is_subtype(sc, sb) {
                best = b;
            } else {
                return Err(E::S(TYPE));
            }
        }
        let bl = self.tym(best).clone();
        if payload && bl.payload {
            return Err(E::S(TYPE));
        }
        if (1..bases.len()).any(|i| bases[..i].contains(&bases[i])) {
            return Err(E::S(TYPE));
        }
        let mro_tail = self.c3(&bases).ok_or(E::S(MRO))?;
        let short = name.rsplit_once('.').map_or(name, |(_, n)| n).to_owned();
        let adds = payload || !slots.is_empty();
        let has_dict = bl.has_dict || spec_dict || bases.iter().any(|&b| self.tym(b).has_dict);
        let t = self.add(
            Kind::Type(Box::new(TypeM {
                name: short,
                builtin: None,
                bases: bases.clone(),
                mro: Vec::new(),
                ns: Vec::new(),
                has_dict,
                nslots: bl.nslots + slots.len(),
                payload: payload || bl.payload,
                solid: bl.solid,
            })),
            false,
        );
        let members: Vec<(String, Id)> = slots
            .iter()
            .enumerate()
            .map(|(n, s)| {
                let m = self.add(
                    Kind::Member {
                        owner: t,
                        index: bl.nslots + n,
                    },
                    false,
                );
                ((*s).to_owned(), m)
            })
            .collect();
        let Kind::Type(tm) = &mut self.objs[t].kind else {
            unreachable!()
        };
        tm.mro = core::iter::once(t).chain(mro_tail).collect();
        tm.ns = members;
        if adds {
            tm.solid = t;
        }
        Ok(t)
    }

    /// C3: `merge(mro(B1), ..., mro(Bn), [B1, ..., Bn])`, or `None` when no
    /// consistent order exists.
    fn c3(&self, bases: &[Id]) -> Option<Vec<Id>> {
        let mut lists: Vec<Vec<Id>> = bases.iter().map(|&b| self.tym(b).mro.clone()).collect();
        lists.push(bases.to_vec());
        let mut out = Vec::new();
        loop {
            lists.retain(|l| !l.is_empty());
            if lists.is_empty() {
                return Some(out);
            }
            let head = lists
                .iter()
                .map(|l| l[0])
                .find(|&c| !lists.iter().any(|l| l[1..].contains(&c)))?;
            out.push(head);
            for l in &mut lists {
                if l[0] == head {
                    l.remove(0);
                }
            }
        }
    }

    // ----- repr ----------------------------------------------------------------------

    /// `repr(o)` of plain values (None, bools, numbers, strs, and tuples,
    /// lists and dicts of them), `level` levels deep: each object is one
    /// level of nesting, and one that would be the 1,001st fails with
    /// `OBJ_ERR_RECURSION` (objrt's `write_repr`), before its kind is looked at.
    fn repr(&self, n: Node, active: &mut Vec<Node>, level: usize) -> Result<String, ReprErr> {
        if level >= MAX_DEPTH {
            return Err(ReprErr::Recursion);
        }
        let id = n.0;
        if let Some((tuple, items)) = self.seq_items(n) {
            // A chain's levels are reached through the chain only: a cycle
            // through one passes an ordinary object, which is in `active`.
            let chain = matches!(self.kind(id), Kind::Nest { .. });
            if !chain && active.contains(&n) {
                return Ok(if tuple { "(...)" } else { "[...]" }.to_owned());
            }
            active.push(n);
            let mut parts = Vec::with_capacity(items.len());
            for &i in &items {
                match self.repr(i, active, level + 1) {
                    Ok(p) => parts.push(p),
                    Err(e) => {
                        active.pop();
                        return Err(e);
                    }
                }
            }
            active.pop();
            return Ok(match (tuple, parts.len()) {
                (true, 1) => format!("({},)", parts[0]),
                (true, _) => format!("({})", parts.join(", ")),
                (false, _) => format!("[{}]", parts.join(", ")),
            });
        }
        Ok(match self.kind(id) {
            Kind::NoneV => "None".to_owned(),
            Kind::Bool(b) => if *b { "True" } else { "False" }.to_owned(),
            Kind::Int(v) => v.to_string(),
            Kind::Float(f) => FLOATS
                .iter()
                .find(|(x, _)| float_bits(*x) == float_bits(*f))
                .map(|(_, r)| (*r).to_owned())
                .ok_or(ReprErr::NotPlain)?,
            Kind::Str(s) => py_str_repr(s),
            Kind::Dict(_) if active.contains(&n) => "{...}".to_owned(),
            Kind::Dict(entries) => {
                active.push(n);
                let mut parts = Vec::with_capacity(entries.len());
                for &(k, v) in entries {
                    let kv = self.repr((k, 0), active, level + 1).and_then(|k| {
                        Ok(format!("{k}: {}", self.repr((v, 0), active, level + 1)?))
                    });
                    match kv {
                        Ok(p) => parts.push(p),
                        Err(e) => {
                            active.pop();
                            return Err(e);
                        }
                    }
                }
                active.pop();
                format!("{{{}}}", parts.join(", "))
            }
            _ => return Err(ReprErr::NotPlain),
        })
    }

    fn len_of(&self, id: Id) -> Result<usize, i32> {
        match self.kind(id) {
            Kind::Str(s) => Ok(s.chars().count()),
            Kind::Tuple(v) | Kind::List(v) => Ok(v.len()),
            Kind::Dict(e) => Ok(e.len()),
            _ => Err(TYPE),
        }
    }

    fn inspect(&self, id: Id, want_repr: bool) -> Inspection {
        let k = self.kind(id);
        Inspection {
            int: match *k {
                Kind::Int(v) => Ok(v),
                Kind::Bool(b) => Ok(i64::from(b)),
                _ => Err(TYPE),
            },
            float: match *k {
                Kind::Float(f) => Ok(float_bits(f)),
                Kind::Int(v) => Ok(float_bits(v as f64)),
                Kind::Bool(b) => Ok(float_bits(f64::from(u8::from(b)))),
                _ => Err(TYPE),
            },
            text: match k {
                Kind::Str(s) => Ok(s.as_bytes().to_vec()),
                _ => Err(TYPE),
            },
            len: self.len_of(id),
            repr: match want_repr.then(|| self.repr((id, 0), &mut Vec::new(), 0)) {
                None => None,
                Some(r) => match r {
                    Ok(r) => Some(Ok(r)),
                    Err(ReprErr::Recursion) => {
                        Some(Err((RECURSION, REPR_RECURSION_MESSAGE.to_owned())))
                    }
                    Err(ReprErr::NotPlain) => None,
                },
            },
        }
    }

    /// A stand-in on this heap for the object of the other heap that a
    /// foreign fault puts in (for the fault-free twin of the op).
    fn stand_in(&mut self, k: usize) -> Id {
        let id = match k {
            0 => self.add(Kind::Int(1000), false),
            1 => self.add(Kind::Str("x".to_owned()), false),
            2 | 3 => {
                let c = self.new_type("C", &[], Spec::Null).expect("a plain class");
                self.objs[c].handles += 1;
                if k == 2 { c } else { self.new_instance(c) }
            }
            4 => self.add(
                Kind::Function {
                    fid: FOREIGN_FID,
                    behaviour: Behaviour::None,
                },
                false,
            ),
            _ => self.add(Kind::List(Vec::new()), false),
        };
        self.objs[id].handles += 1;
        id
    }

    // ----- ops -------------------------------------------------------------------------

    /// Runs `req` (with its handles resolved) on the model. New objects
    /// get no handle here, and nothing dies yet: the runner adds the
    /// handles of the results, then calls [`Model::cascade`].
    fn apply(&mut self, req: &Req) -> R<Out> {
        self.calls = 0;
        self.lent = req.objects().iter().map(|a| a.id).collect();
        for &id in &self.lent.clone() {
            self.peel(id);
        }
        let out = self.apply_peeled(req);
        // Past the budget even a call whose failure is ignored (a weakref
        // callback) leaves the op out: the library must not run it.
        if self.calls > MAX_CALLS_PER_OP {
            return Err(E::Skip);
        }
        let out = out?;
        match out {
            Out::New(a) => self.peel(a),
            Out::New2(a, b) => {
                self.peel(a);
                self.peel(b);
            }
            _ => {}
        }
        Ok(out)
    }

    fn apply_peeled(&mut self, req: &Req) -> R<Out> {
        let seq_index = |i: i64, len: usize| -> R<usize> {
            let j = if i < 0 { i + len as i64 } else { i };
            if (0..len as i64).contains(&j) {
                Ok(j as usize)
            } else {
                Err(E::S(INDEX))
            }
        };
        Ok(match req {
            Req::Int(v) => Out::New(self.int(*v)),
            Req::Float(f) => Out::New(self.add(Kind::Float(*f), false)),
            Req::Str(s) => Out::New(self.add(Kind::Str((*s).to_owned()), false)),
            Req::Intern(s) => Out::New(self.interned(s)),
            Req::Builtin(w) => Out::Borrowed(Some(match w {
                0 => self.none,
                1 => self.true_,
                2 => self.false_,
                _ => self.b(Bt::Object),
            })),
            Req::Tuple(items) => {
                if items.iter().any(|a| self.has_callback(a.id)) {
                    return Err(E::Skip);
                }
                Out::New(self.add(Kind::Tuple(items.iter().map(|a| a.id).collect()), false))
            }
            Req::Nest { tuple, depth, item } => {
                if self.has_callback(item.id) {
                    return Err(E::Skip);
                }
                let kind = match (depth, tuple) {
                    (1, true) => Kind::Tuple(vec![item.id]),
                    (1, false) => Kind::List(vec![item.id]),
                    _ => Kind::Nest {
                        tuple: *tuple,
                        depth: *depth,
                        inner: item.id,
                    },
                };
                Out::New(self.add(kind, false))
            }
            Req::List => Out::New(self.add(Kind::List(Vec::new()), false)),
            Req::Dict => Out::New(self.add(Kind::Dict(Vec::new()), false)),
            Req::Append(l, x) => {
                if self.has_callback(x.id) {
                    return Err(E::Skip);
                }
                match &mut self.objs[l.id].kind {
                    Kind::List(v) => v.push(x.id),
                    _ => return Err(E::S(TYPE)),
                }
                Out::Unit
            }
            Req::ListSet(l, i, x) => {
                if self.has_callback(x.id) {
                    return Err(E::Skip);
                }
                let Kind::List(v) = &self.objs[l.id].kind else {
                    return Err(E::S(TYPE));
                };
                let j = seq_index(*i, v.len())?;
                if let Kind::List(v) = &mut self.objs[l.id].kind {
                    v[j] = x.id;
                }
                Out::Unit
            }
            Req::SeqGet(s, i) => match self.kind(s.id) {
                Kind::Tuple(v) | Kind::List(v) => Out::New(v[seq_index(*i, v.len())?]),
                _ => return Err(E::S(TYPE)),
            },
            Req::Len(o) => Out::Len(self.len_of(o.id).map_err(E::S)?),
            Req::DictSet(d, k, v) => {
                if self.has_callback(k.id) || self.has_callback(v.id) {
                    return Err(E::Skip);
                }
                if !matches!(self.kind(d.id), Kind::Dict(_)) {
                    return Err(E::S(TYPE));
                }
                if self.odd_key(k.id) {
                    return Err(E::Skip);
                }
                self.dict_set(d.id, k.id, v.id);
                Out::Unit
            }
            Req::DictGet(d, k) | Req::DictDel(d, k) => {
                if !matches!(self.kind(d.id), Kind::Dict(_)) {
                    return Err(E::S(TYPE));
                }
                if self.odd_key(k.id) {
                    return Err(E::Skip);
                }
                let n = self.dict_find(d.id, k.id).ok_or(E::S(KEY))?;
                if matches!(req, Req::DictGet(..)) {
                    let Kind::Dict(e) = self.kind(d.id) else {
                        unreachable!()
                    };
                    Out::New(e[n].1)
                } else {
                    self.dict_entries(d.id).remove(n);
                    Out::Unit
                }
            }
            Req::DictItem(d, i) => match self.kind(d.id) {
                Kind::Dict(e) => {
                    let &(k, v) = e.get(*i).ok_or(E::S(INDEX))?;
                    Out::New2(k, v)
                }
                _ => return Err(E::S(TYPE)),
            },
            Req::Type { name, bases, spec } => {
                let ids: Vec<Id> = bases.iter().map(|a| a.id).collect();
                Out::New(self.new_type(name, &ids, *spec)?)
            }
            Req::Alloc(t) => match self.kind(t.id) {
                Kind::Type(tm) if tm.builtin.is_none_or(|b| b == Bt::Object) => {
                    Out::New(self.new_instance(t.id))
                }
                _ => return Err(E::S(TYPE)),
            },
            Req::Call(f, args) => {
                let ids: Vec<Id> = args.iter().map(|a| a.id).collect();
                Out::New(self.call(f.id, &ids)?)
            }
            Req::Function { behaviour, fid, .. } => Out::New(self.add(
                Kind::Function {
                    fid: *fid,
                    behaviour: *behaviour,
                },
                false,
            )),
            Req::Property(g, s) => {
                if self.has_callback(g.id) || s.is_some_and(|s| self.has_callback(s.id)) {
                    return Err(E::Skip);
                }
                Out::New(self.add(
                    Kind::Property {
                        getter: g.id,
                        setter: s.map(|s| s.id),
                    },
                    false,
                ))
            }
            Req::GetAttr(o, n) => {
                let name = self.name_text(n)?;
                Out::New(self.getattr(o.id, &name)?)
            }
            Req::SetAttr(o, n, v) => {
                let name = self.name_text(n)?;
                self.setattr(o.id, &name, v.id)?;
                Out::Unit
            }
            Req::DelAttr(o, n) => {
                let name = self.name_text(n)?;
                self.delattr(o.id, &name)?;
                Out::Unit
            }
            Req::CallMethod(o, n, args) => {
                let name = self.name_text(n)?;
                let mut ids: Vec<Id> = args.iter().map(|a| a.id).collect();
                // objrt calls a plain function found on the class (and not
                // shadowed) with `self` first, without a bound method: one
                // level of nesting, not two.
                if !self.is_type(o.id) && !matches!(name.as_str(), "__class__" | "__dict__") {
                    let f = self.lookup(self.class_of(o.id), &name);
                    if let Some(f) = f.filter(|&f| matches!(self.kind(f), Kind::Function { .. })) {
                        if self.inst_get(o.id, &name).is_none() {
                            ids.insert(0, o.id);
                            return Ok(Out::New(self.call(f, &ids)?));
                        }
                    }
                }
                let f = self.getattr(o.id, &name)?;
                Out::New(self.call(f, &ids)?)
            }
            Req::WeakRef(t, cb) => {
                if !matches!(self.kind(t.id), Kind::Instance(_) | Kind::Type(_)) {
                    return Err(E::S(TYPE));
                }
                // Callbacks run when their target dies, which may be in the
                // middle of an op in objrt and is at its end in the model:
                // only functions that do not call back, so that when does
                // not matter.
                if cb.is_some_and(|c| {
                    !matches!(self.kind(c.id), Kind::Function { behaviour, .. } if !behaviour.reenters())
                }) {
                    return Err(E::Skip);
                }
                let w = self.add(
                    Kind::WeakRef {
                        target: Some(t.id),
                        callback: cb.map(|c| c.id),
                    },
                    false,
                );
                self.objs[t.id].weakrefs.push(w);
                Out::New(w)
            }
            Req::WeakGet(w) => match *self.kind(w.id) {
                Kind::WeakRef { target, .. } => Out::New(target.unwrap_or(self.none)),
                _ => return Err(E::S(TYPE)),
            },
            Req::IsInstance(o, t) => {
                if !self.is_type(t.id) {
                    return Err(E::S(TYPE));
                }
                Out::Bool(self.is_subtype(self.class_of(o.id), t.id))
            }
            Req::Mro(t) => match self.kind(t.id) {
                Kind::Type(tm) => Out::Mro(tm.mro.clone()),
                _ => return Err(E::S(TYPE)),
            },
            Req::TypeOf(o) => Out::Borrowed(Some(self.class_of(o.id))),
            Req::Inspect(o) => Out::Inspect(self.inspect(o.id, true)),
            Req::Dup(o) => Out::New(o.id),
            Req::Drop(_) => unreachable!("the runner drops handles itself"),
            Req::Collect(g) => Out::Collected(self.collect(*g)?),
        })
    }
}

/// Python's `repr` of a str.
fn py_str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::new();
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// `obj_last_error()` of the calling thread.
fn last_error() -> String {
    // SAFETY: a NUL-terminated string valid until the thread's next failing call.
    unsafe {
        let p = objffi::obj_last_error();
        if p.is_null() {
            return String::new();
        }
        std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}

/// The function id of the second heap's host function (never called).
const FOREIGN_FID: usize = usize::MAX;

// ----- the real side ------------------------------------------------------------------

/// What a host function made by the runner does, and where it logs its calls.
struct HostData {
    heap: *mut obj_heap_t,
    fid: usize,
    behaviour: Behaviour,
    log: Rc<RefCell<Vec<(usize, usize)>>>,
    /// An object of the other heap, for [`Behaviour::Foreign`].
    foreign: *mut obj_t,
    /// The function object (set once made), for [`Subject::Itself`].
    me: core::cell::Cell<*mut obj_t>,
    /// The runner's handles (address: how many), for [`Step::DropHandle`].
    held: Rc<RefCell<HashMap<usize, usize>>>,
    /// The handles host functions gave back, in order.
    dropped: Rc<RefCell<Vec<usize>>>,
    /// The op's arguments: handles lent to the call, not to be given back.
    lent: Rc<RefCell<Vec<usize>>>,
}

/// A C string of `NAMES`.
fn name_c(n: u8) -> CString {
    CString::new(NAMES[usize::from(n) % NAMES.len()]).expect("no NUL")
}

/// What [`Behaviour::Reenter`] does, on the real side.
///
/// # Safety
///
/// As for [`host_fn`], with `nargs` at least one when `needs_first`.
unsafe fn reenter(
    d: &HostData,
    step: Step,
    then: Then,
    args: *const *mut obj_t,
    nargs: usize,
    result: *mut *mut obj_t,
) -> RawStatus {
    if nargs == 0 && needs_first(step, then) {
        return RawStatus(TYPE);
    }
    // SAFETY: `args` holds `nargs` live objects (at least one where read),
    // the function object is live while it runs, `result` is writable.
    unsafe {
        let subject = |s: Subject| match s {
            Subject::First => args.read(),
            Subject::ClassOfFirst => obj_type_of(args.read()),
            Subject::Itself => d.me.get(),
            Subject::NoneObj => obj_none(d.heap),
        };
        let mut out = null_mut();
        let st = match step {
            Step::SetAttr { on, name, value } => {
                obj_setattr_str(subject(on), name_c(name).as_ptr(), subject(value))
            }
            Step::DelAttr { on, name } => obj_delattr_str(subject(on), name_c(name).as_ptr()),
            Step::Call { callee, rest } => {
                let (a, n) = if rest && nargs > 0 {
                    (args.add(1), nargs - 1)
                } else {
                    (args, nargs)
                };
                obj_call(
                    subject(callee),
                    if n == 0 { null() } else { a },
                    n,
                    &mut out,
                )
            }
            Step::DropHandle(s) => {
                let p = subject(s);
                let mine = {
                    let mut held = d.held.borrow_mut();
                    let lent = usize::from(d.lent.borrow().contains(&(p as usize)));
                    match held.get_mut(&(p as usize)) {
                        Some(c) if *c > lent => {
                            *c -= 1;
                            true
                        }
                        _ => false,
                    }
                };
                if mine {
                    d.dropped.borrow_mut().push(p as usize);
                    obj_decref(p);
                }
                RawStatus(OK)
            }
        };
        match then {
            Then::Propagate if st.0 != OK => st,
            Then::Propagate => {
                if out.is_null() {
                    out = obj_none(d.heap);
                    obj_incref(out);
                }
                result.write(out);
                RawStatus(OK)
            }
            Then::Swallow | Then::GetAttr { .. } => {
                if !out.is_null() {
                    obj_decref(out);
                }
                match then {
                    Then::GetAttr { on, name } => {
                        obj_getattr_str(subject(on), name_c(name).as_ptr(), result)
                    }
                    _ => {
                        let none = obj_none(d.heap);
                        obj_incref(none);
                        result.write(none);
                        RawStatus(OK)
                    }
                }
            }
        }
    }
}

/// The `obj_cfunc_t` of every host function the runner makes.
///
/// # Safety
///
/// `data` is a [`HostData`] the runner keeps until both heaps are freed;
/// `args` points to `nargs` live objects; `result` is valid for one write.
unsafe extern "C" fn host_fn(
    data: *mut c_void,
    args: *const *mut obj_t,
    nargs: usize,
    result: *mut *mut obj_t,
) -> RawStatus {
    // SAFETY: `data` is a live `HostData` (the caller's promise above).
    let d = unsafe { &*data.cast::<HostData>() };
    d.log.borrow_mut().push((d.fid, nargs));
    let ok = RawStatus(OK);
    // SAFETY: `d.heap` is live, `args` holds `nargs` live objects, `result`
    // is writable, and `d.foreign` is a live object the runner holds.
    unsafe {
        match d.behaviour {
            Behaviour::Int7 => obj_int_new(d.heap, 7, result),
            Behaviour::Int1000 => obj_int_new(d.heap, 1000, result),
            Behaviour::None => {
                let none = obj_none(d.heap);
                obj_incref(none);
                result.write(none);
                ok
            }
            Behaviour::Nargs => obj_int_new(d.heap, nargs as i64, result),
            Behaviour::FirstArg if nargs == 0 => RawStatus(TYPE),
            Behaviour::FirstArg => {
                let first = args.read();
                obj_incref(first);
                result.write(first);
                ok
            }
            Behaviour::Fail => RawStatus(CALLBACK),
            Behaviour::FailCustom => RawStatus(CUSTOM),
            Behaviour::FailAttribute => RawStatus(ATTRIBUTE),
            Behaviour::NullResult => ok,
            Behaviour::Foreign => {
                obj_incref(d.foreign);
                result.write(d.foreign);
                ok
            }
            Behaviour::Reenter(step, then) => reenter(d, step, then, args, nargs, result),
        }
    }
}

/// Fault injection for one real call: each required pointer and each text
/// is numbered as the call is built ([`Req::arity`] counts them the same way).
#[derive(Default)]
struct Inj {
    null_at: Option<usize>,
    bad_at: Option<usize>,
    pointers: usize,
    texts: usize,
}

impl Inj {
    /// Numbers a required pointer; whether it is the one to make NULL.
    fn null_here(&mut self) -> bool {
        let hit = self.null_at == Some(self.pointers);
        self.pointers += 1;
        hit
    }

    fn p<T>(&mut self, p: *mut T) -> *mut T {
        if self.null_here() { null_mut() } else { p }
    }

    fn c<T>(&mut self, p: *const T) -> *const T {
        if self.null_here() { null() } else { p }
    }

    /// A text as a C string (none of the pools holds a NUL where this is used).
    fn t(&mut self, text: &'static str) -> CString {
        let hit = self.bad_at == Some(self.texts);
        self.texts += 1;
        CString::new(if hit { BAD_UTF8 } else { text.as_bytes() }).expect("no NUL")
    }

    /// A text as bytes, for the functions that take a length.
    fn bytes(&mut self, text: &'static str) -> &'static [u8] {
        let hit = self.bad_at == Some(self.texts);
        self.texts += 1;
        if hit { BAD_UTF8 } else { text.as_bytes() }
    }
}

/// What the real call gave back.
#[derive(Debug)]
enum ROut {
    Unit,
    New(*mut obj_t),
    New2(*mut obj_t, *mut obj_t),
    Borrowed(*mut obj_t),
    Len(usize),
    Bool(bool),
    Mro(Vec<*mut obj_t>),
    Collected(usize),
    Inspect(Inspection),
}

/// What an out-parameter holds before the call: it must still hold it
/// after a failure.
fn sentinel() -> *mut obj_t {
    core::ptr::dangling_mut()
}

type RealResult = Result<(i32, ROut), String>;

/// The result of a call with one `obj_t **out`.
fn new_out(s: RawStatus, out: *mut obj_t) -> RealResult {
    match (s.0 == OK, out == sentinel() || out.is_null()) {
        (true, false) => Ok((s.0, ROut::New(out))),
        (true, true) => Err("returned OBJ_OK without writing its result".to_owned()),
        (false, true) if out.is_null() => {
            Err("wrote NULL to its out-parameter on failure".to_owned())
        }
        (false, true) => Ok((s.0, ROut::Unit)),
        (false, false) => Err(format!(
            "wrote its out-parameter on failure ({})",
            status_name(s.0)
        )),
    }
}

fn unit(s: RawStatus) -> RealResult {
    Ok((s.0, ROut::Unit))
}

/// The two heaps and the host functions' data.
struct Real {
    heap: *mut obj_heap_t,
    /// The second heap, whose objects must never mix with the first's.
    heap2: *mut obj_heap_t,
    /// Objects of `heap2`: an int, a str, a class, an instance of it, a
    /// host function, a list (the order of [`Model::stand_in`]).
    foreign: Vec<*mut obj_t>,
    #[expect(
        clippy::vec_box,
        reason = "host functions hold the data's address: it must not move"
    )]
    hosts: Vec<Box<HostData>>,
    log: Rc<RefCell<Vec<(usize, usize)>>>,
    /// The runner's handles, by address, and those host functions gave back.
    held: Rc<RefCell<HashMap<usize, usize>>>,
    dropped: Rc<RefCell<Vec<usize>>>,
    lent: Rc<RefCell<Vec<usize>>>,
    /// Call-site caches: two in three attribute calls with a name object go
    /// through one (chosen by the name), and must answer as the uncached
    /// call the model describes; getattr and setattr alternate between the
    /// exported call and objffi.h's inline hit, cached or not.
    caches: Box<[obj_attr_cache_t; SITE_CACHES]>,
    /// Attribute calls with a name object so far.
    attr_calls: usize,
}

/// Call-site caches of the real side.
const SITE_CACHES: usize = 4;

// objffi.h's inline hits, compiled into functions by `c/inline_hits.c`.
#[allow(
    improper_ctypes,
    reason = "obj_t is opaque: only pointers to it cross, as with objffi's own exports"
)]
unsafe extern "C" {
    fn objffi_test_getattr_cached_inline(
        o: *mut obj_t,
        name: *mut obj_t,
        cache: *mut obj_attr_cache_t,
        out: *mut *mut obj_t,
    ) -> RawStatus;
    fn objffi_test_getattr_inline(
        o: *mut obj_t,
        name: *mut obj_t,
        out: *mut *mut obj_t,
    ) -> RawStatus;
    fn objffi_test_setattr_inline(o: *mut obj_t, name: *mut obj_t, value: *mut obj_t) -> RawStatus;
    fn objffi_test_setattr_cached_inline(
        o: *mut obj_t,
        name: *mut obj_t,
        value: *mut obj_t,
        cache: *mut obj_attr_cache_t,
    ) -> RawStatus;
}

/// How many objects of the second heap a foreign fault chooses from.
const FOREIGN: usize = 6;

impl Drop for Real {
    fn drop(&mut self) {
        // SAFETY: both heaps came from `obj_heap_new` and are freed once,
        // here; the host data they point to is dropped afterwards.
        unsafe {
            obj_heap_free(self.heap);
            obj_heap_free(self.heap2);
        }
    }
}

impl Real {
    /// The cache for the next attribute call with the name object `name`,
    /// or NULL for an uncached call (every third).
    fn site_cache(&mut self, name: *mut obj_t) -> *mut obj_attr_cache_t {
        self.attr_calls += 1;
        if self.attr_calls % 3 == 0 {
            return null_mut();
        }
        &raw mut self.caches[(name.addr() >> 4) % SITE_CACHES]
    }

    /// Whether the call [`Real::site_cache`] just chose a cache for (or
    /// none) goes through objffi.h's inline hit rather than the export:
    /// every other cached call, and every other uncached one.
    fn inline_hit(&self) -> bool {
        self.attr_calls % 3 == 2 || self.attr_calls % 6 == 0
    }

    fn new() -> Result<Self, String> {
        let (heap, heap2) = (obj_heap_new(), obj_heap_new());
        if heap.is_null() || heap2.is_null() {
            return Err("obj_heap_new failed".to_owned());
        }
        // SAFETY: live heaps.
        unsafe {
            obj_gc_disable(heap);
            obj_gc_disable(heap2);
        }
        Ok(Real {
            heap,
            heap2,
            foreign: Vec::new(),
            hosts: Vec::new(),
            log: Rc::new(RefCell::new(Vec::new())),
            held: Rc::new(RefCell::new(HashMap::new())),
            dropped: Rc::new(RefCell::new(Vec::new())),
            lent: Rc::new(RefCell::new(Vec::new())),
            caches: Box::new(core::array::from_fn(|_| obj_attr_cache_t {
                opaque: [0; 4],
            })),
            attr_calls: 0,
        })
    }

    fn stats(&self, heap: *mut obj_heap_t) -> Result<obj_heap_stats_t, String> {
        let mut s = obj_heap_stats_t::default();
        // SAFETY: a live heap and a local to write.
        let st = unsafe { obj_heap_stats(heap, &mut s) };
        if st.0 != OK {
            return Err(format!("obj_heap_stats: {}", status_name(st.0)));
        }
        Ok(s)
    }

    fn intern(&self, heap: *mut obj_heap_t, text: &str) -> Result<*mut obj_t, String> {
        let mut out = null_mut();
        // SAFETY: a live heap, `text.len()` readable bytes, a local to write.
        let s = unsafe { obj_intern(heap, text.as_ptr().cast(), text.len(), &mut out) };
        if s.0 != OK {
            return Err(format!("obj_intern({text:?}): {}", status_name(s.0)));
        }
        Ok(out)
    }

    /// A host function on `heap` (for the second heap's).
    fn function(&mut self, heap: *mut obj_heap_t, fid: usize, b: Behaviour) -> *mut c_void {
        let data = Box::new(HostData {
            heap,
            fid,
            behaviour: b,
            log: Rc::clone(&self.log),
            foreign: self.foreign.first().copied().unwrap_or(null_mut()),
            me: core::cell::Cell::new(null_mut()),
            held: Rc::clone(&self.held),
            dropped: Rc::clone(&self.dropped),
            lent: Rc::clone(&self.lent),
        });
        let p: *const HostData = &*data;
        self.hosts.push(data);
        p.cast_mut().cast()
    }

    /// Makes the second heap's objects (see `foreign`).
    fn make_foreign(&mut self) -> Result<(), String> {
        let h = self.heap2;
        let mut f = [null_mut(); FOREIGN];
        let data = self.function(h, FOREIGN_FID, Behaviour::None);
        // SAFETY: a live heap, valid texts, locals to write; the host data
        // lives as long as the heap.
        let statuses = unsafe {
            [
                obj_int_new(h, 1000, &mut f[0]),
                obj_str_new(h, c"x".as_ptr(), 1, &mut f[1]),
                obj_type_new(h, c"C".as_ptr(), null(), 0, null(), &mut f[2]),
                obj_alloc(f[2], &mut f[3]),
                obj_function_new(h, c"f".as_ptr(), Some(host_fn), data, &mut f[4]),
                obj_list_new(h, &mut f[5]),
            ]
        };
        if let Some(s) = statuses.iter().find(|s| s.0 != OK) {
            return Err(format!(
                "making the second heap's objects: {}",
                status_name(s.0)
            ));
        }
        self.foreign = f.to_vec();
        Ok(())
    }

    fn refcount(&self, p: *mut obj_t) -> usize {
        // SAFETY: a live object the runner holds.
        unsafe { obj_refcount(p) }
    }

    fn type_of(&self, p: *mut obj_t) -> *mut obj_t {
        // SAFETY: a live object the runner holds.
        unsafe { obj_type_of(p) }
    }

    fn incref(&self, p: *mut obj_t) {
        // SAFETY: a live object the runner holds.
        unsafe { obj_incref(p) }
    }

    fn decref(&self, p: *mut obj_t) {
        // SAFETY: a live object; the runner gives back a reference it owns.
        unsafe { obj_decref(p) }
    }

    fn collect(&self, heap: *mut obj_heap_t, generation: i32, inj: &mut Inj) -> RealResult {
        let mut found = usize::MAX;
        let h = inj.p(heap);
        // SAFETY: a live heap (or NULL, injected) and a local to write.
        let s = unsafe { obj_gc_collect(h, generation, &mut found) };
        if s.0 == OK {
            Ok((s.0, ROut::Collected(found)))
        } else if found != usize::MAX {
            Err("obj_gc_collect wrote `collected` on failure".to_owned())
        } else {
            unit(s)
        }
    }

    fn inspect(&self, p: *mut obj_t, want_repr: bool) -> Result<Inspection, String> {
        let mut i = 0i64;
        let mut f = 0f64;
        let mut text: *const c_char = null();
        let mut n = 0usize;
        let mut len = 0usize;
        // SAFETY: a live object the runner holds, and locals to write.
        let (si, sf, st, sl) = unsafe {
            (
                obj_int_value(p, &mut i),
                obj_float_value(p, &mut f),
                obj_str_data(p, &mut text, &mut n),
                obj_len(p, &mut len),
            )
        };
        let text = if st.0 == OK {
            // SAFETY: `obj_str_data` gave `n` bytes followed by a NUL, valid
            // while the str lives (the runner holds it).
            let bytes = unsafe { core::slice::from_raw_parts(text.cast::<u8>(), n + 1) };
            if bytes[n] != 0 {
                return Err("obj_str_data: no NUL after the text".to_owned());
            }
            Ok(bytes[..n].to_vec())
        } else {
            Err(st.0)
        };
        let repr = if want_repr {
            let mut r = null_mut();
            // SAFETY: a live object and a local to write.
            let s = unsafe { obj_repr(p, &mut r) };
            Some(if s.0 == OK {
                let mut t: *const c_char = null();
                let mut tn = 0usize;
                // SAFETY: `r` is the new str `obj_repr` returned; read, then given back.
                let (s2, bytes) = unsafe {
                    let s2 = obj_str_data(r, &mut t, &mut tn);
                    let bytes = if s2.0 == OK {
                        core::slice::from_raw_parts(t.cast::<u8>(), tn).to_vec()
                    } else {
                        Vec::new()
                    };
                    obj_decref(r);
                    (s2, bytes)
                };
                if s2.0 != OK {
                    return Err("obj_repr did not return a str".to_owned());
                }
                Ok(String::from_utf8(bytes).map_err(|_| "obj_repr: not UTF-8".to_owned())?)
            } else if s.0 == RECURSION {
                Err((s.0, last_error()))
            } else {
                Err((s.0, String::new()))
            })
        } else {
            None
        };
        Ok(Inspection {
            int: if si.0 == OK { Ok(i) } else { Err(si.0) },
            float: if sf.0 == OK {
                Ok(float_bits(f))
            } else {
                Err(sf.0)
            },
            text,
            len: if sl.0 == OK { Ok(len) } else { Err(sl.0) },
            repr,
        })
    }

    /// Runs `req` through the C ABI, with `inj`'s faults.
    fn exec(&mut self, req: &Req, inj: &mut Inj, want_repr: bool) -> RealResult {
        let mut out = sentinel();
        let heap = self.heap;
        match req {
            Req::Int(v) => {
                let (h, o) = (inj.p(heap), inj.p(&raw mut out));
                // SAFETY: a live heap and a local to write, or NULL (injected).
                new_out(unsafe { obj_int_new(h, *v, o) }, out)
            }
            Req::Float(v) => {
                let (h, o) = (inj.p(heap), inj.p(&raw mut out));
                // SAFETY: as for `Req::Int`.
                new_out(unsafe { obj_float_new(h, *v, o) }, out)
            }
            Req::Str(s) | Req::Intern(s) => {
                let text = inj.bytes(s);
                let h = inj.p(heap);
                let t: *const c_char = if s.is_empty() {
                    text.as_ptr().cast()
                } else {
                    inj.c(text.as_ptr().cast())
                };
                let o = inj.p(&raw mut out);
                // SAFETY: a live heap, `text.len()` readable bytes, a local to
                // write; or NULL for one of them (injected).
                let st = unsafe {
                    if matches!(req, Req::Str(_)) {
                        obj_str_new(h, t, text.len(), o)
                    } else {
                        obj_intern(h, t, text.len(), o)
                    }
                };
                new_out(st, out)
            }
            Req::Builtin(w) => {
                let h = inj.p(heap);
                // SAFETY: a live heap or NULL (injected).
                let p = unsafe {
                    match w {
                        0 => obj_none(h),
                        1 => obj_true(h),
                        2 => obj_false(h),
                        _ => obj_object_type(h),
                    }
                };
                Ok((OK, ROut::Borrowed(p)))
            }
            Req::Tuple(items) => {
                let h = inj.p(heap);
                let ptrs: Vec<*mut obj_t> = items.iter().map(|a| inj.p(a.ptr)).collect();
                let arr = if ptrs.is_empty() {
                    null()
                } else {
                    inj.c(ptrs.as_ptr())
                };
                let o = inj.p(&raw mut out);
                // SAFETY: a live heap, `ptrs.len()` live objects, a local to
                // write; or NULLs (injected).
                new_out(unsafe { obj_tuple_new(h, arr, ptrs.len(), o) }, out)
            }
            Req::Nest { tuple, depth, item } => {
                let mut cur = item.ptr;
                for level in 0..*depth {
                    let mut next = null_mut();
                    // SAFETY: a live heap, `cur` live (the runner's handle or
                    // the previous level, given back once held), a local to write.
                    let st = unsafe {
                        if *tuple {
                            obj_tuple_new(heap, &cur, 1, &mut next)
                        } else {
                            let s = obj_list_new(heap, &mut next);
                            if s.0 == OK {
                                let s2 = obj_list_append(next, cur);
                                if s2.0 != OK {
                                    obj_decref(next);
                                }
                                s2
                            } else {
                                s
                            }
                        }
                    };
                    if st.0 != OK {
                        return Err(format!("Nest: level {level}: {}", status_name(st.0)));
                    }
                    if level > 0 {
                        self.decref(cur);
                    }
                    cur = next;
                }
                Ok((OK, ROut::New(cur)))
            }
            Req::List | Req::Dict => {
                let (h, o) = (inj.p(heap), inj.p(&raw mut out));
                // SAFETY: as for `Req::Int`.
                let st = unsafe {
                    if matches!(req, Req::List) {
                        obj_list_new(h, o)
                    } else {
                        obj_dict_new(h, o)
                    }
                };
                new_out(st, out)
            }
            Req::Append(l, x) => {
                let (l, x) = (inj.p(l.ptr), inj.p(x.ptr));
                // SAFETY: live objects the runner holds, or NULL (injected).
                unit(unsafe { obj_list_append(l, x) })
            }
            Req::ListSet(l, i, x) => {
                let (l, x) = (inj.p(l.ptr), inj.p(x.ptr));
                // SAFETY: as for `Req::Append`.
                unit(unsafe { obj_list_set(l, *i, x) })
            }
            Req::SeqGet(s, i) => {
                let (s, o) = (inj.p(s.ptr), inj.p(&raw mut out));
                // SAFETY: a live object and a local to write, or NULL (injected).
                new_out(unsafe { obj_seq_get(s, *i, o) }, out)
            }
            Req::Len(o) => {
                let mut n = usize::MAX;
                let (p, np) = (inj.p(o.ptr), inj.p(&raw mut n));
                // SAFETY: as for `Req::SeqGet`.
                let s = unsafe { obj_len(p, np) };
                match (s.0 == OK, n == usize::MAX) {
                    (true, _) => Ok((OK, ROut::Len(n))),
                    (false, true) => unit(s),
                    (false, false) => Err("obj_len wrote its result on failure".to_owned()),
                }
            }
            Req::DictSet(d, k, v) => {
                let (d, k, v) = (inj.p(d.ptr), inj.p(k.ptr), inj.p(v.ptr));
                // SAFETY: as for `Req::Append`.
                unit(unsafe { obj_dict_set(d, k, v) })
            }
            Req::DictGet(d, k) => {
                let (d, k, o) = (inj.p(d.ptr), inj.p(k.ptr), inj.p(&raw mut out));
                // SAFETY: as for `Req::SeqGet`.
                new_out(unsafe { obj_dict_get(d, k, o) }, out)
            }
            Req::DictDel(d, k) => {
                let (d, k) = (inj.p(d.ptr), inj.p(k.ptr));
                // SAFETY: as for `Req::Append`.
                unit(unsafe { obj_dict_del(d, k) })
            }
            Req::DictItem(d, i) => {
                let mut out2 = sentinel();
                let (d, o, o2) = (inj.p(d.ptr), inj.p(&raw mut out), inj.p(&raw mut out2));
                // SAFETY: as for `Req::SeqGet`, with two locals.
                let s = unsafe { obj_dict_item(d, *i, o, o2) };
                if s.0 == OK {
                    Ok((OK, ROut::New2(out, out2)))
                } else if out != sentinel() || out2 != sentinel() {
                    Err("obj_dict_item wrote a result on failure".to_owned())
                } else {
                    unit(s)
                }
            }
            Req::Type { name, bases, spec } => {
                let (payload, slots, has_dict, non_null) = spec.parts();
                let h = inj.p(heap);
                let cname = inj.t(name);
                let namep = inj.c(cname.as_ptr());
                let base_ptrs: Vec<*mut obj_t> = bases.iter().map(|a| inj.p(a.ptr)).collect();
                let basesp = if base_ptrs.is_empty() {
                    null()
                } else {
                    inj.c(base_ptrs.as_ptr())
                };
                let o = inj.p(&raw mut out);
                let slot_names: Vec<CString> = slots.iter().map(|s| inj.t(s)).collect();
                let slot_ptrs: Vec<*const c_char> =
                    slot_names.iter().map(|s| inj.c(s.as_ptr())).collect();
                let slotsp = if slot_ptrs.is_empty() {
                    null()
                } else {
                    inj.c(slot_ptrs.as_ptr())
                };
                let spec_t = obj_type_spec_t {
                    payload_size: if payload { 16 } else { 0 },
                    slots: slotsp,
                    nslots: slot_ptrs.len(),
                    has_dict,
                    traverse: None,
                    clear: None,
                    finalize: None,
                };
                let specp: *const obj_type_spec_t = if non_null { &spec_t } else { null() };
                // SAFETY: a live heap, NUL-terminated texts, live bases, a
                // valid spec, a local to write; or NULL for one of them (injected).
                new_out(
                    unsafe { obj_type_new(h, namep, basesp, base_ptrs.len(), specp, o) },
                    out,
                )
            }
            Req::Alloc(t) => {
                let (t, o) = (inj.p(t.ptr), inj.p(&raw mut out));
                // SAFETY: as for `Req::SeqGet`.
                new_out(unsafe { obj_alloc(t, o) }, out)
            }
            Req::Call(f, args) => {
                let f = inj.p(f.ptr);
                let ptrs: Vec<*mut obj_t> = args.iter().map(|a| inj.p(a.ptr)).collect();
                let arr = if ptrs.is_empty() {
                    null()
                } else {
                    inj.c(ptrs.as_ptr())
                };
                let o = inj.p(&raw mut out);
                // SAFETY: live objects and a local to write, or NULLs (injected).
                new_out(unsafe { obj_call(f, arr, ptrs.len(), o) }, out)
            }
            Req::Function {
                name,
                behaviour,
                fid,
            } => {
                let data = self.function(heap, *fid, *behaviour);
                let h = inj.p(heap);
                let cname = inj.t(name);
                let namep = inj.c(cname.as_ptr());
                let f: objffi::obj_cfunc_t = if inj.null_here() { None } else { Some(host_fn) };
                let o = inj.p(&raw mut out);
                // SAFETY: a live heap, a NUL-terminated name, a host function
                // whose data the runner keeps until the heap is freed, a local
                // to write; or NULL for one of them (injected).
                let st = unsafe { obj_function_new(h, namep, f, data, o) };
                if st.0 == OK {
                    // SAFETY: `data` is the `HostData` just pushed, which
                    // does not move.
                    unsafe { (*data.cast::<HostData>()).me.set(out) };
                }
                new_out(st, out)
            }
            Req::Property(g, s) => {
                let (h, g) = (inj.p(heap), inj.p(g.ptr));
                let s = s.map_or(null_mut(), |s| s.ptr);
                let o = inj.p(&raw mut out);
                // SAFETY: a live heap, live objects (the setter may be NULL),
                // a local to write; or NULL (injected).
                new_out(unsafe { obj_property_new(h, g, s, o) }, out)
            }
            Req::GetAttr(o, n) => {
                let p = inj.p(o.ptr);
                let st = match n {
                    N::Str(s) => {
                        let c = inj.t(s);
                        let (np, op) = (inj.c(c.as_ptr()), inj.p(&raw mut out));
                        // SAFETY: a live object, a NUL-terminated name, a local
                        // to write; or NULL (injected).
                        unsafe { obj_getattr_str(p, np, op) }
                    }
                    N::Obj(a) => {
                        let (np, op) = (inj.p(a.ptr), inj.p(&raw mut out));
                        let cache = self.site_cache(a.ptr);
                        // SAFETY: live objects, a local to write and a cache of
                        // this thread's; or NULL (injected).
                        unsafe {
                            if cache.is_null() && self.inline_hit() {
                                objffi_test_getattr_inline(p, np, op)
                            } else if cache.is_null() {
                                obj_getattr(p, np, op)
                            } else if self.inline_hit() {
                                objffi_test_getattr_cached_inline(p, np, cache, op)
                            } else {
                                obj_getattr_cached(p, np, cache, op)
                            }
                        }
                    }
                };
                new_out(st, out)
            }
            Req::SetAttr(o, n, v) => {
                let p = inj.p(o.ptr);
                let st = match n {
                    N::Str(s) => {
                        let c = inj.t(s);
                        let (np, vp) = (inj.c(c.as_ptr()), inj.p(v.ptr));
                        // SAFETY: live objects and a NUL-terminated name, or NULL (injected).
                        unsafe { obj_setattr_str(p, np, vp) }
                    }
                    N::Obj(a) => {
                        let (np, vp) = (inj.p(a.ptr), inj.p(v.ptr));
                        let cache = self.site_cache(a.ptr);
                        // SAFETY: live objects and a cache of this thread's,
                        // or NULL (injected).
                        unsafe {
                            if cache.is_null() && self.inline_hit() {
                                objffi_test_setattr_inline(p, np, vp)
                            } else if cache.is_null() {
                                obj_setattr(p, np, vp)
                            } else if self.inline_hit() {
                                objffi_test_setattr_cached_inline(p, np, vp, cache)
                            } else {
                                obj_setattr_cached(p, np, vp, cache)
                            }
                        }
                    }
                };
                unit(st)
            }
            Req::DelAttr(o, n) => {
                let p = inj.p(o.ptr);
                let st = match n {
                    N::Str(s) => {
                        let c = inj.t(s);
                        let np = inj.c(c.as_ptr());
                        // SAFETY: a live object and a NUL-terminated name, or NULL (injected).
                        unsafe { obj_delattr_str(p, np) }
                    }
                    N::Obj(a) => {
                        let np = inj.p(a.ptr);
                        // SAFETY: live objects, or NULL (injected).
                        unsafe { obj_delattr(p, np) }
                    }
                };
                unit(st)
            }
            Req::CallMethod(o, n, args) => {
                let p = inj.p(o.ptr);
                let cname;
                let name_obj;
                let name_str;
                match n {
                    N::Str(s) => {
                        cname = inj.t(s);
                        name_str = inj.c(cname.as_ptr());
                        name_obj = null_mut();
                    }
                    N::Obj(a) => {
                        name_obj = inj.p(a.ptr);
                        name_str = null();
                    }
                }
                let ptrs: Vec<*mut obj_t> = args.iter().map(|a| inj.p(a.ptr)).collect();
                let arr = if ptrs.is_empty() {
                    null()
                } else {
                    inj.c(ptrs.as_ptr())
                };
                let op = inj.p(&raw mut out);
                let cache = match n {
                    N::Str(_) => null_mut(),
                    N::Obj(a) => self.site_cache(a.ptr),
                };
                // SAFETY: live objects, a NUL-terminated name, a local to
                // write, a cache of this thread's; or NULL for one of them
                // (injected).
                let st = unsafe {
                    match n {
                        N::Str(_) => obj_call_method_str(p, name_str, arr, ptrs.len(), op),
                        N::Obj(_) if cache.is_null() => {
                            obj_call_method(p, name_obj, arr, ptrs.len(), op)
                        }
                        N::Obj(_) => {
                            obj_call_method_cached(p, name_obj, arr, ptrs.len(), cache, op)
                        }
                    }
                };
                new_out(st, out)
            }
            Req::WeakRef(t, cb) => {
                let t = inj.p(t.ptr);
                let cb = cb.map_or(null_mut(), |c| c.ptr);
                let o = inj.p(&raw mut out);
                // SAFETY: live objects (the callback may be NULL) and a local
                // to write, or NULL (injected).
                new_out(unsafe { obj_weakref_new(t, cb, o) }, out)
            }
            Req::WeakGet(w) => {
                let (w, o) = (inj.p(w.ptr), inj.p(&raw mut out));
                // SAFETY: as for `Req::SeqGet`.
                new_out(unsafe { obj_weakref_get(w, o) }, out)
            }
            Req::IsInstance(o, t) => {
                let mut b = false;
                let (o, t, bp) = (inj.p(o.ptr), inj.p(t.ptr), inj.p(&raw mut b));
                // SAFETY: live objects and a local to write, or NULL (injected).
                let s = unsafe { obj_is_instance(o, t, bp) };
                if s.0 == OK {
                    Ok((OK, ROut::Bool(b)))
                } else {
                    unit(s)
                }
            }
            Req::Mro(t) => {
                const CAP: usize = 64;
                let mut buf = [null_mut(); CAP];
                let mut len = usize::MAX;
                let (t, bp, lp) = (inj.p(t.ptr), inj.p(buf.as_mut_ptr()), inj.p(&raw mut len));
                // SAFETY: a live object, `CAP` writable pointers, a local to
                // write; or NULL (injected).
                let s = unsafe { obj_type_mro(t, bp, CAP, lp) };
                match (s.0 == OK, len == usize::MAX) {
                    (true, _) => Ok((OK, ROut::Mro(buf[..len.min(CAP)].to_vec()))),
                    (false, true) => unit(s),
                    (false, false) => Err("obj_type_mro wrote `len` on failure".to_owned()),
                }
            }
            Req::TypeOf(o) => {
                let p = inj.p(o.ptr);
                // SAFETY: a live object, or NULL (injected).
                Ok((OK, ROut::Borrowed(unsafe { obj_type_of(p) })))
            }
            Req::Inspect(o) => Ok((OK, ROut::Inspect(self.inspect(o.ptr, want_repr)?))),
            Req::Dup(o) => {
                let p = inj.p(o.ptr);
                // SAFETY: a live object the runner holds, or NULL (injected,
                // which must be ignored).
                unsafe { obj_incref(p) };
                Ok((
                    OK,
                    if p.is_null() {
                        ROut::Unit
                    } else {
                        ROut::New(p)
                    },
                ))
            }
            Req::Drop(_) => unreachable!("the runner drops handles itself"),
            Req::Collect(g) => self.collect(heap, *g, inj),
        }
    }
}

// ----- the runner ------------------------------------------------------------------------

/// What a run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunStats {
    /// Ops run on both sides and compared (faulty ones included).
    pub executed: usize,
    /// Ops run with an injected fault.
    pub faulted: usize,
    /// Ops not run: no handle to choose, or a case the model leaves out.
    pub skipped: usize,
    /// Host function calls (weak-reference callbacks included).
    pub host_calls: usize,
    /// Collections that ran (the final one included).
    pub collections: usize,
    /// The most objects alive at once, beyond the baseline.
    pub peak_objects: usize,
    /// Ops that failed with `OBJ_ERR_RECURSION` (or whose `repr` did).
    pub recursions: usize,
    /// Runner handles given back by host functions ([`Step::DropHandle`]).
    pub handles_given_back: usize,
}

impl core::ops::AddAssign for RunStats {
    fn add_assign(&mut self, o: Self) {
        self.executed += o.executed;
        self.faulted += o.faulted;
        self.skipped += o.skipped;
        self.host_calls += o.host_calls;
        self.collections += o.collections;
        self.peak_objects = self.peak_objects.max(o.peak_objects);
        self.recursions += o.recursions;
        self.handles_given_back += o.handles_given_back;
    }
}

/// Runs `ops` on the real library and on the model.
///
/// # Errors
///
/// The first difference between them, as a readable description: the op's
/// index, the op, what the model expected and what the library did.
pub fn run(ops: &[Op]) -> Result<RunStats, String> {
    // On a thread of its own, with a stack large enough that objrt's count
    // of nested calls, not its stack bound, stops deep recursion: one per
    // calling thread, kept for the next run (a new thread's stack costs
    // page faults every time).
    type Job = (Vec<Op>, std::sync::mpsc::Sender<Result<RunStats, String>>);
    thread_local! {
        static WORKER: RefCell<Option<std::sync::mpsc::Sender<Job>>> = const { RefCell::new(None) };
    }
    let (tx, rx) = std::sync::mpsc::channel();
    WORKER.with(|w| {
        let mut w = w.borrow_mut();
        let worker = w.get_or_insert_with(|| {
            let (jobs, inbox) = std::sync::mpsc::channel::<Job>();
            std::thread::Builder::new()
                .name("model".to_owned())
                .stack_size(RUN_STACK)
                .spawn(move || {
                    for (ops, reply) in inbox {
                        let _ = reply.send(run_here(&ops));
                    }
                })
                .expect("a thread for the runs");
            jobs
        });
        worker
            .send((ops.to_vec(), tx))
            .expect("the model thread is gone (it panicked earlier)");
    });
    match rx.recv() {
        Ok(r) => r,
        Err(_) => {
            WORKER.with(|w| w.borrow_mut().take());
            panic!("the model thread panicked (its message is above)");
        }
    }
}

fn run_here(ops: &[Op]) -> Result<RunStats, String> {
    let mut r = Runner::new()?;
    for (i, op) in ops.iter().enumerate() {
        if let Err(e) = r.step(op) {
            return Err(format!(
                "op #{i} {op:?}: {e}\nlast ops run (handles as #model-id):\n{}",
                r.history.join("\n")
            ));
        }
    }
    r.finish()
        .map_err(|e| format!("at the end (every handle dropped, a full collection): {e}"))
}

#[derive(Clone, Copy, Debug)]
struct Slot {
    id: Id,
    ptr: *mut obj_t,
    /// When the handle was made (a counter): handles are chosen newest first.
    born: u64,
}

/// How a faulty op goes wrong.
#[derive(Clone, Copy, Debug)]
enum Mode {
    Plain,
    Null(usize),
    Bad(usize),
    /// (which foreign object, which argument)
    Foreign(usize, usize),
}

struct Runner {
    m: Model,
    real: Real,
    slots: [Option<Slot>; POOL],
    /// The real address of each model object seen, and back.
    ptr_of: HashMap<Id, usize>,
    id_of: HashMap<usize, Id>,
    /// The `born` of the next handle.
    clock: u64,
    baseline: usize,
    /// `objects_live` of the second heap: without its objects, and with them.
    baseline2: (usize, usize),
    foreign_rc: Vec<usize>,
    stats: RunStats,
    history: Vec<String>,
    /// [`Op::Nest`] chains deeper than 3 made so far (see [`MAX_DEEP_CHAINS`]).
    deep_chains: usize,
}

/// Deep chains ([`Op::Nest`]) a run makes at most; later ones are skipped.
const MAX_DEEP_CHAINS: usize = 3;

fn mismatch(what: &str, expected: impl fmt::Debug, actual: impl fmt::Debug) -> String {
    format!("{what}: expected {expected:?}, actual {actual:?}")
}

impl Runner {
    fn new() -> Result<Self, String> {
        let texts = interned_texts();
        let mut r = Runner {
            m: Model::new(&texts),
            real: Real::new()?,
            slots: [None; POOL],
            ptr_of: HashMap::new(),
            id_of: HashMap::new(),
            clock: 0,
            baseline: 0,
            baseline2: (0, 0),
            foreign_rc: Vec::new(),
            stats: RunStats::default(),
            history: Vec::new(),
            deep_chains: 0,
        };
        let (heap, heap2) = (r.real.heap, r.real.heap2);
        // Interned strs are immortal: all of them before the baseline.
        for t in &texts {
            let p = r.real.intern(heap, t)?;
            let id = r.m.interned[*t];
            r.observe(id, p)?;
        }
        for t in ["C", "f"] {
            r.real.intern(heap2, t)?;
        }
        r.baseline = r.real.stats(heap)?.objects_live;
        let before = r.real.stats(heap2)?.objects_live;
        r.real.make_foreign()?;
        r.baseline2 = (before, r.real.stats(heap2)?.objects_live);
        r.foreign_rc = r.real.foreign.iter().map(|&p| r.real.refcount(p)).collect();
        // SAFETY: a live heap.
        let builtins = unsafe {
            [
                (r.m.none, obj_none(heap)),
                (r.m.true_, obj_true(heap)),
                (r.m.false_, obj_false(heap)),
                (r.m.b(Bt::Object), obj_object_type(heap)),
            ]
        };
        for (id, p) in builtins {
            r.observe(id, p)?;
        }
        Ok(r)
    }

    /// The slot of the handle `sel` selects (see [`Handle`]).
    fn pick_slot(&self, sel: Handle) -> Option<usize> {
        let mut live: Vec<usize> = (0..POOL).filter(|&i| self.slots[i].is_some()).collect();
        if live.is_empty() {
            return None;
        }
        live.sort_by_key(|&i| core::cmp::Reverse(self.slots[i].map_or(0, |s| s.born)));
        let n = match usize::from(sel) {
            n @ 0..16 => n,
            n => (n - 16) % 4,
        };
        Some(live[n % live.len()])
    }

    fn pick(&self, sel: Handle) -> Option<A> {
        let s = self.slots[self.pick_slot(sel)?]?;
        Some(A {
            id: s.id,
            ptr: s.ptr,
        })
    }

    fn picks(&self, sels: &[Handle], max: usize) -> Option<Vec<A>> {
        sels.iter().take(max).map(|&s| self.pick(s)).collect()
    }

    fn name(&self, n: Name) -> Option<N> {
        Some(match n {
            Name::Str(i) => N::Str(NAMES[usize::from(i) % NAMES.len()]),
            Name::Obj(s) => N::Obj(self.pick(s)?),
        })
    }

    fn resolve(&self, op: &Op) -> Option<Req> {
        let small = |i: i8| i64::from(i) % 4;
        Some(match op {
            Op::Int { value, .. } => Req::Int(INTS[usize::from(*value) % INTS.len()]),
            Op::Float { value, .. } => Req::Float(FLOATS[usize::from(*value) % FLOATS.len()].0),
            Op::Str { text, .. } => Req::Str(STRS[usize::from(*text) % STRS.len()]),
            Op::Intern { text, .. } => Req::Intern(STRS[usize::from(*text) % STRS.len()]),
            Op::Builtin { which, .. } => Req::Builtin(which % 4),
            Op::Tuple { items, .. } => Req::Tuple(self.picks(items, 3)?),
            Op::Nest { tuple, depth, item } => Req::Nest {
                tuple: *tuple,
                depth: NEST_DEPTHS[usize::from(*depth) % NEST_DEPTHS.len()],
                item: self.pick(*item)?,
            },
            Op::List { .. } => Req::List,
            Op::Dict { .. } => Req::Dict,
            Op::Append { list, item, .. } => Req::Append(self.pick(*list)?, self.pick(*item)?),
            Op::ListSet {
                list, index, item, ..
            } => Req::ListSet(self.pick(*list)?, small(*index), self.pick(*item)?),
            Op::SeqGet { seq, index, .. } => Req::SeqGet(self.pick(*seq)?, small(*index)),
            Op::Len { o, .. } => Req::Len(self.pick(*o)?),
            Op::DictSet {
                dict, key, value, ..
            } => Req::DictSet(self.pick(*dict)?, self.pick(*key)?, self.pick(*value)?),
            Op::DictGet { dict, key, .. } => Req::DictGet(self.pick(*dict)?, self.pick(*key)?),
            Op::DictDel { dict, key, .. } => Req::DictDel(self.pick(*dict)?, self.pick(*key)?),
            Op::DictItem { dict, index, .. } => {
                Req::DictItem(self.pick(*dict)?, usize::from(*index % 4))
            }
            Op::Type {
                name, bases, spec, ..
            } => {
                let object = A {
                    id: self.m.b(Bt::Object),
                    // SAFETY: a live heap.
                    ptr: unsafe { obj_object_type(self.real.heap) },
                };
                let bases = bases
                    .iter()
                    .take(3)
                    .map(|b| match b {
                        Base::Handle(h) => self.pick(*h),
                        Base::Object => Some(object),
                    })
                    .collect::<Option<Vec<A>>>()?;
                Req::Type {
                    name: CLASS_NAMES[usize::from(*name) % CLASS_NAMES.len()],
                    bases,
                    spec: *spec,
                }
            }
            Op::Alloc { ty, .. } => Req::Alloc(self.pick(*ty)?),
            Op::Call { callable, args, .. } => {
                Req::Call(self.pick(*callable)?, self.picks(args, 2)?)
            }
            Op::Function {
                name, behaviour, ..
            } => Req::Function {
                name: FUNC_NAMES[usize::from(*name) % FUNC_NAMES.len()],
                behaviour: *behaviour,
                fid: self.real.hosts.len(),
            },
            Op::Property { getter, setter, .. } => {
                let s = match setter {
                    Some(s) => Some(self.pick(*s)?),
                    None => None,
                };
                Req::Property(self.pick(*getter)?, s)
            }
            Op::GetAttr { o, name, .. } => Req::GetAttr(self.pick(*o)?, self.name(*name)?),
            Op::SetAttr { o, name, value, .. } => {
                Req::SetAttr(self.pick(*o)?, self.name(*name)?, self.pick(*value)?)
            }
            Op::DelAttr { o, name, .. } => Req::DelAttr(self.pick(*o)?, self.name(*name)?),
            Op::CallMethod { o, name, args, .. } => {
                Req::CallMethod(self.pick(*o)?, self.name(*name)?, self.picks(args, 2)?)
            }
            Op::WeakRef {
                target, callback, ..
            } => {
                let cb = match callback {
                    Some(c) => Some(self.pick(*c)?),
                    None => None,
                };
                Req::WeakRef(self.pick(*target)?, cb)
            }
            Op::WeakGet { weakref, .. } => Req::WeakGet(self.pick(*weakref)?),
            Op::IsInstance { o, ty, .. } => Req::IsInstance(self.pick(*o)?, self.pick(*ty)?),
            Op::Mro { ty, .. } => Req::Mro(self.pick(*ty)?),
            Op::TypeOf { o, .. } => Req::TypeOf(self.pick(*o)?),
            Op::Inspect { o } => Req::Inspect(self.pick(*o)?),
            Op::Dup { o, .. } => Req::Dup(self.pick(*o)?),
            Op::Drop { o } => Req::Drop(self.pick_slot(*o)?),
            Op::Collect { generation, .. } => {
                Req::Collect(i32::from(*generation).rem_euclid(5) - 1)
            }
        })
    }

    fn remember(&mut self, what: String) {
        const KEEP: usize = 16;
        if self.history.len() == KEEP {
            self.history.remove(0);
        }
        self.history.push(what);
    }

    fn step(&mut self, op: &Op) -> Result<(), String> {
        let Some(req) = self.resolve(op) else {
            self.stats.skipped += 1;
            return Ok(());
        };
        if let Req::Nest { depth, .. } = req {
            // Thousands of objects each: a few per run are enough.
            if depth > 3 && self.deep_chains == MAX_DEEP_CHAINS {
                self.stats.skipped += 1;
                return Ok(());
            }
            self.deep_chains += usize::from(depth > 3);
        }
        if let Req::Drop(slot) = req {
            let s = self.slots[slot].expect("a live slot");
            self.remember(format!("drop #{}", s.id));
            self.drop_slot(slot)?;
            self.stats.executed += 1;
            return self.check_state();
        }
        let (pointers, texts) = req.arity();
        let mixable = req.clone().mixable().len();
        let mode = match op.fault() {
            Fault::Null(k) if pointers > 0 => Mode::Null(usize::from(k) % pointers),
            Fault::BadUtf8(k) if texts > 0 => Mode::Bad(usize::from(k) % texts),
            Fault::Foreign { object, arg } if mixable > 0 => {
                Mode::Foreign(usize::from(object) % FOREIGN, usize::from(arg) % mixable)
            }
            _ => Mode::Plain,
        };
        let ran = match mode {
            Mode::Plain => self.plain(&req)?,
            _ => self.faulty(&req, mode)?,
        };
        if ran {
            self.check_state()?;
        }
        Ok(())
    }

    /// Runs a fault-free op on both sides; false if the model leaves it out.
    fn plain(&mut self, req: &Req) -> Result<bool, String> {
        let mut m2 = self.m.clone();
        m2.log.clear();
        m2.dropped.clear();
        self.real.dropped.borrow_mut().clear();
        let expected = match m2.apply(req) {
            Err(E::Skip) => {
                self.stats.skipped += 1;
                return Ok(false);
            }
            Err(E::S(s)) => Err(s),
            Ok(out) => Ok(out),
        };
        self.remember(format!("{req:?} -> {expected:?}"));
        self.real.log.borrow_mut().clear();
        let want_repr = matches!(&expected, Ok(Out::Inspect(i)) if i.repr.is_some());
        *self.real.lent.borrow_mut() = req.objects().iter().map(|a| a.ptr as usize).collect();
        let r = self.real.exec(req, &mut Inj::default(), want_repr);
        self.real.lent.borrow_mut().clear();
        let (status, rout) = r?;
        self.stats.executed += 1;
        let out = match expected {
            Err(s) => {
                if status != s {
                    return Err(mismatch(
                        "status",
                        status_name(s),
                        (status_name(status), rout),
                    ));
                }
                if s == RECURSION {
                    self.stats.recursions += 1;
                    let message = last_error();
                    if message != CALL_RECURSION_MESSAGE {
                        return Err(mismatch(
                            "obj_last_error()",
                            CALL_RECURSION_MESSAGE,
                            message,
                        ));
                    }
                }
                Out::Unit
            }
            Ok(out) => {
                if status != OK {
                    return Err(mismatch("status", ("OBJ_OK", &out), status_name(status)));
                }
                out
            }
        };
        let mut new: Vec<(Id, *mut obj_t)> = Vec::new();
        let mut seen: Vec<(Id, *mut obj_t)> = Vec::new();
        match (&out, rout) {
            (Out::Unit, ROut::Unit) => {}
            (Out::New(id), ROut::New(p)) => new.push((*id, p)),
            (Out::New2(a, b), ROut::New2(p, q)) => new.extend([(*a, p), (*b, q)]),
            (Out::Borrowed(Some(id)), ROut::Borrowed(p)) if !p.is_null() => {
                self.real.incref(p);
                new.push((*id, p));
            }
            (Out::Borrowed(None), ROut::Borrowed(p)) if p.is_null() => {}
            (Out::Len(a), ROut::Len(b)) if *a == b => {}
            (Out::Bool(a), ROut::Bool(b)) if *a == b => {}
            (Out::Collected(a), ROut::Collected(b)) if *a == b => {
                self.stats.collections += 1;
            }
            (Out::Mro(ids), ROut::Mro(ps)) if ids.len() == ps.len() => {
                seen.extend(ids.iter().copied().zip(ps));
            }
            (Out::Inspect(a), ROut::Inspect(b)) if *a == b => {
                if matches!(a.repr, Some(Err(_))) {
                    self.stats.recursions += 1;
                }
            }
            (out, rout) => return Err(mismatch("result", out, rout)),
        }
        self.m = m2;
        self.forget_dropped()?;
        for (id, p) in seen {
            self.observe(id, p)?;
        }
        self.add_handles(&new)?;
        self.compare_logs()?;
        Ok(true)
    }

    /// Runs an op with a fault; false if its fault-free twin would fail (or
    /// the model leaves it out).
    fn faulty(&mut self, req: &Req, mode: Mode) -> Result<bool, String> {
        let mut twin = req.clone();
        let mut faulty = req.clone();
        let mut m3 = self.m.clone();
        if let Mode::Foreign(k, pos) = mode {
            let stand_in = m3.stand_in(k);
            twin.mixable()[pos].id = stand_in;
            let a = &mut faulty.mixable()[pos];
            a.ptr = self.real.foreign[k];
            a.id = stand_in;
        }
        if m3.apply(&twin).is_err() {
            self.stats.skipped += 1;
            return Ok(false);
        }
        let expected = match mode {
            Mode::Null(_) => match req {
                Req::Builtin(_) | Req::TypeOf(_) | Req::Dup(_) => OK,
                _ => NULL_ARG,
            },
            Mode::Bad(_) => VALUE,
            Mode::Foreign(..) => HEAP_MISMATCH,
            Mode::Plain => unreachable!(),
        };
        self.remember(format!(
            "{req:?} with {mode:?} -> {}",
            status_name(expected)
        ));
        let mut inj = Inj {
            null_at: match mode {
                Mode::Null(k) => Some(k),
                _ => None,
            },
            bad_at: match mode {
                Mode::Bad(k) => Some(k),
                _ => None,
            },
            ..Inj::default()
        };
        self.real.log.borrow_mut().clear();
        let (status, rout) = self.real.exec(&faulty, &mut inj, false)?;
        self.stats.executed += 1;
        self.stats.faulted += 1;
        if let Mode::Null(_) = mode {
            assert_eq!(
                (inj.pointers, inj.texts),
                req.arity(),
                "runner bug: Req::arity disagrees with Real::exec for {req:?}"
            );
        }
        if status != expected {
            return Err(mismatch(
                &format!("status with fault {mode:?}"),
                status_name(expected),
                (status_name(status), rout),
            ));
        }
        match rout {
            ROut::Unit => {}
            ROut::Borrowed(p) if p.is_null() => {}
            r => return Err(mismatch(&format!("result with fault {mode:?}"), "none", r)),
        }
        let calls = self.real.log.borrow().clone();
        if !calls.is_empty() {
            return Err(mismatch("host calls of a faulty op", "none", calls));
        }
        Ok(true)
    }

    /// Forgets the handles host functions gave back during the op (the
    /// model's and the library's must be the same objects, in order).
    fn forget_dropped(&mut self) -> Result<(), String> {
        let expected = core::mem::take(&mut self.m.dropped);
        let actual = core::mem::take(&mut *self.real.dropped.borrow_mut());
        let as_ptrs: Vec<Option<usize>> = expected
            .iter()
            .map(|id| self.ptr_of.get(id).copied())
            .collect();
        if as_ptrs.len() != actual.len() || as_ptrs.iter().zip(&actual).any(|(e, a)| *e != Some(*a))
        {
            return Err(mismatch(
                "handles given back by host functions (model ids; addresses)",
                expected,
                actual,
            ));
        }
        for id in expected {
            let slot = (0..POOL)
                .filter(|&i| self.slots[i].is_some_and(|s| s.id == id))
                .max_by_key(|&i| self.slots[i].map_or(0, |s| s.born))
                .expect("model bug: a handle given back that the runner does not hold");
            self.slots[slot] = None;
            self.stats.handles_given_back += 1;
        }
        Ok(())
    }

    fn hold(&self, ptr: *mut obj_t, delta: isize) {
        let mut held = self.real.held.borrow_mut();
        let c = held.entry(ptr as usize).or_insert(0);
        *c = c.checked_add_signed(delta).expect("runner bug: held count");
        if *c == 0 {
            held.remove(&(ptr as usize));
        }
    }

    /// Gives the new references of an op's result to handles (replacing
    /// the oldest handles when the pool is full), then lets the model free
    /// what died, as the library did.
    fn add_handles(&mut self, new: &[(Id, *mut obj_t)]) -> Result<(), String> {
        let mut evicted = Vec::new();
        for &(id, ptr) in new {
            self.m.objs[id].handles += 1;
            self.hold(ptr, 1);
            let slot = match (0..POOL).find(|&i| self.slots[i].is_none()) {
                Some(i) => i,
                None => {
                    let oldest = (0..POOL)
                        .min_by_key(|&i| self.slots[i].map_or(0, |s| s.born))
                        .expect("a full pool");
                    evicted.push(self.slots[oldest].take().expect("a full pool"));
                    oldest
                }
            };
            self.clock += 1;
            self.slots[slot] = Some(Slot {
                id,
                ptr,
                born: self.clock,
            });
        }
        // What died during the op in the library dies now in the model,
        // before the results are paired with their addresses (which may
        // be those of the dead).
        self.m.cascade();
        for &(id, ptr) in new {
            self.check_obj(id, ptr)?;
        }
        for s in evicted {
            self.hold(s.ptr, -1);
            self.real.decref(s.ptr);
            self.m.objs[s.id].handles -= 1;
            self.m.cascade();
        }
        Ok(())
    }

    fn drop_slot(&mut self, slot: usize) -> Result<(), String> {
        let s = self.slots[slot].take().expect("a live slot");
        self.m.log.clear();
        self.real.log.borrow_mut().clear();
        self.hold(s.ptr, -1);
        self.real.decref(s.ptr);
        self.m.objs[s.id].handles -= 1;
        self.m.cascade();
        self.compare_logs()
    }

    fn compare_logs(&mut self) -> Result<(), String> {
        let mut expected = core::mem::take(&mut self.m.log);
        let mut actual = core::mem::take(&mut *self.real.log.borrow_mut());
        self.stats.host_calls += actual.len();
        expected.sort_unstable();
        actual.sort_unstable();
        if expected == actual {
            Ok(())
        } else {
            // As counts: recursion makes a thousand calls.
            let counts = |v: &[(usize, usize)]| {
                let mut c: Vec<((usize, usize), usize)> = Vec::new();
                for &x in v {
                    match c.last_mut() {
                        Some((y, n)) if *y == x => *n += 1,
                        _ => c.push((x, 1)),
                    }
                }
                c
            };
            Err(mismatch(
                "host function calls ((function id, number of arguments), how many)",
                counts(&expected),
                counts(&actual),
            ))
        }
    }

    /// Pairs model object `id` with the real object at `p`.
    fn observe(&mut self, id: Id, p: *mut obj_t) -> Result<(), String> {
        let a = p as usize;
        if let Some(&q) = self.ptr_of.get(&id) {
            return if q == a {
                Ok(())
            } else {
                Err(format!(
                    "identity: #{id} was the object at {q:#x}, now {a:#x} ({:?})",
                    self.m.kind(id)
                ))
            };
        }
        if let Some(&j) = self.id_of.get(&a) {
            if j != id && self.m.objs[j].alive {
                return Err(format!(
                    "identity: #{id} ({:?}) and #{j} ({:?}) are one object at {a:#x}",
                    self.m.kind(id),
                    self.m.kind(j)
                ));
            }
        }
        self.ptr_of.insert(id, a);
        self.id_of.insert(a, id);
        Ok(())
    }

    /// Checks a new handle: its identity, its class (and the class's
    /// class), and its value.
    fn check_obj(&mut self, id: Id, p: *mut obj_t) -> Result<(), String> {
        self.observe(id, p)?;
        let (mut i, mut q) = (id, p);
        for _ in 0..2 {
            let c = self.m.class_of(i);
            let t = self.real.type_of(q);
            if t.is_null() {
                return Err(format!("obj_type_of(#{i}) is NULL"));
            }
            self.observe(c, t)?;
            (i, q) = (c, t);
        }
        let expected = self.m.inspect(id, false);
        let actual = self.real.inspect(p, false)?;
        let strip = |x: &Inspection| (x.int, x.float, x.text.clone(), x.len);
        if strip(&expected) != strip(&actual) {
            return Err(mismatch(
                &format!("value of #{id} ({:?})", self.m.kind(id)),
                expected,
                actual,
            ));
        }
        Ok(())
    }

    /// After every op: reference counts of the handles, objects alive on
    /// both heaps, the second heap untouched.
    fn check_state(&mut self) -> Result<(), String> {
        let dead: Vec<Id> = self
            .ptr_of
            .keys()
            .copied()
            .filter(|&id| !self.m.objs[id].alive)
            .collect();
        for id in dead {
            if let Some(a) = self.ptr_of.remove(&id) {
                if self.id_of.get(&a) == Some(&id) {
                    self.id_of.remove(&a);
                }
            }
        }
        let rc = self.m.refcounts();
        for s in self.slots.iter().flatten() {
            let actual = self.real.refcount(s.ptr);
            let o = &self.m.objs[s.id];
            assert!(o.alive, "model bug: a handle to the dead #{}", s.id);
            let ok = if o.immortal {
                actual >= IMMORTAL
            } else {
                actual == rc[s.id]
            };
            if !ok {
                return Err(mismatch(
                    &format!("reference count of #{} ({:?})", s.id, o.kind),
                    if o.immortal { IMMORTAL } else { rc[s.id] },
                    actual,
                ));
            }
        }
        let live = self.real.stats(self.real.heap)?.objects_live;
        let expected = self.baseline + self.m.live_objects();
        if live != expected {
            return Err(mismatch(
                "objects_live (baseline + live model objects + a namespace dict per class)",
                expected,
                live,
            ));
        }
        self.stats.peak_objects = self.stats.peak_objects.max(live - self.baseline);
        let live2 = self.real.stats(self.real.heap2)?.objects_live;
        if live2 != self.baseline2.1 {
            return Err(mismatch(
                "objects_live of the second heap",
                self.baseline2.1,
                live2,
            ));
        }
        for (k, (&p, &rc)) in self.real.foreign.iter().zip(&self.foreign_rc).enumerate() {
            let now = self.real.refcount(p);
            if now != rc {
                return Err(mismatch(
                    &format!("reference count of the second heap's object {k}"),
                    rc,
                    now,
                ));
            }
        }
        Ok(())
    }

    /// Drops every handle, collects, and checks that both heaps are back
    /// to their baselines.
    fn finish(mut self) -> Result<RunStats, String> {
        for slot in 0..POOL {
            if self.slots[slot].is_some() {
                self.drop_slot(slot)?;
                self.check_state()?;
            }
        }
        self.m.log.clear();
        self.real.log.borrow_mut().clear();
        let expected = self
            .m
            .collect(-1)
            .map_err(|_| "model: collect(-1)".to_owned())?;
        let (s, r) = self.real.collect(self.real.heap, -1, &mut Inj::default())?;
        match r {
            ROut::Collected(n) if s == OK && n == expected => {}
            r => return Err(mismatch("collect(-1)", expected, (status_name(s), r))),
        }
        self.stats.collections += 1;
        self.compare_logs()?;
        self.check_state()?;
        let left = self.m.live_objects();
        if left != 0 {
            return Err(format!("model bug: {left} objects outlive every handle"));
        }
        let live = self.real.stats(self.real.heap)?.objects_live;
        if live != self.baseline {
            return Err(mismatch(
                "objects_live back to the baseline",
                self.baseline,
                live,
            ));
        }
        for &p in &self.real.foreign {
            self.real.decref(p);
        }
        self.real
            .collect(self.real.heap2, -1, &mut Inj::default())?;
        let live2 = self.real.stats(self.real.heap2)?.objects_live;
        if live2 != self.baseline2.0 {
            return Err(mismatch(
                "objects_live of the second heap back to its baseline",
                self.baseline2.0,
                live2,
            ));
        }
        Ok(self.stats)
    }
}
