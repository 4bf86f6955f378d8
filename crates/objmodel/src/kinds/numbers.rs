//! The built-in numbers and their neighbours: None, bool, int, float — their
//! layouts, constructors and accessors, and Python's cross-type equality
//! and hashing of numbers (which the dict keys of `containers.rs` use).
//!
//! ```text
//!  int    | header | i64 value |                       (24 bytes -> 32)
//!  float  | header | f64 value |
//!  bool   | header | i64 0/1   |                       (immortal: True, False)
//!  None   | header |                                   (immortal)
//! ```
//!
//! A bool has an int's layout (a bool is an int, as in Python). None of
//! these holds references, so they carry nothing for the cycle collector
//! and release nothing when they die. Numbers compare by value across int,
//! float and bool (`1`, `1.0` and `True` are equal, and hash equal).
//!
//! Invariant: -5..=256 are the heap's immortal small ints
//! ([`SMALL_INT_MIN`], [`SMALL_INT_MAX`]): [`new_int`] hands those out and
//! never allocates another int of their values.

use crate::Heap;
use crate::error::Result;
use crate::heap::{SMALL_INT_MAX, SMALL_INT_MIN};
use crate::kinds::type_object::Kind;
use crate::object::{Obj, ObjHeader, ObjRef};
use crate::views::{Float, Int};

#[repr(C)]
pub(crate) struct IntObj {
    header: ObjHeader,
    pub(crate) value: i64,
}

#[repr(C)]
pub(crate) struct FloatObj {
    header: ObjHeader,
    pub(crate) value: f64,
}

// ----- accessors -------------------------------------------------------------

/// The value of an int or bool.
pub(crate) fn int_value(o: ObjRef) -> i64 {
    // SAFETY: callers check the kind (int or bool share the layout).
    unsafe { o.cast::<IntObj>().as_ref().value }
}

pub(crate) fn float_value(o: ObjRef) -> f64 {
    // SAFETY: callers check the kind.
    unsafe { o.cast::<FloatObj>().as_ref().value }
}

// ----- constructors ----------------------------------------------------------

pub(crate) fn new_int(heap: &Heap, v: i64) -> Result<ObjRef> {
    if (SMALL_INT_MIN..=SMALL_INT_MAX).contains(&v) {
        return Ok(heap.b().small_ints[(v - SMALL_INT_MIN) as usize]);
    }
    // SAFETY: the built-in int type.
    unsafe { new_int_object(heap, heap.b().int, v) }
}

/// An int-layout object (int or bool) without the small-int cache.
///
/// # Safety
/// `ty` is `heap`'s int or bool type.
pub(crate) unsafe fn new_int_object(heap: &Heap, ty: ObjRef, v: i64) -> Result<ObjRef> {
    // SAFETY: an int-layout type (the caller's promise), and its size.
    let o = unsafe { heap.alloc_object(ty, size_of::<IntObj>())? };
    // SAFETY: a fresh int object.
    unsafe { (*o.cast::<IntObj>().as_ptr()).value = v };
    Ok(o)
}

pub(crate) fn new_float(heap: &Heap, v: f64) -> Result<ObjRef> {
    // SAFETY: the built-in float type, and a float's size.
    let o = unsafe { heap.alloc_object(heap.b().float, size_of::<FloatObj>())? };
    // SAFETY: a fresh float object.
    unsafe { (*o.cast::<FloatObj>().as_ptr()).value = v };
    Ok(o)
}

// ----- Python equality and hashing of numbers ---------------------------------

/// A number's value for cross-type comparison.
enum Num {
    Int(i64),
    Float(f64),
}

fn as_num(o: ObjRef) -> Option<Num> {
    match o.ty().kind {
        Kind::Int | Kind::Bool => Some(Num::Int(int_value(o))),
        Kind::Float => Some(Num::Float(float_value(o))),
        _ => None,
    }
}

/// 2^63: floats in `-2^63..2^63` with no fraction are exactly an i64.
const I64_BOUND: f64 = 9_223_372_036_854_775_808.0;

fn float_as_exact_int(f: f64) -> Option<i64> {
    (f.fract() == 0.0 && (-I64_BOUND..I64_BOUND).contains(&f)).then_some(f as i64)
}

/// Python's `==` of `a` and `b` when both are numbers (int, bool, float),
/// compared by value across the kinds; `None` when either is not a number.
pub(crate) fn num_eq(a: ObjRef, b: ObjRef) -> Option<bool> {
    match (as_num(a)?, as_num(b)?) {
        (Num::Int(x), Num::Int(y)) => Some(x == y),
        (Num::Float(x), Num::Float(y)) => Some(x == y),
        (Num::Int(i), Num::Float(f)) | (Num::Float(f), Num::Int(i)) => {
            Some(float_as_exact_int(f) == Some(i))
        }
    }
}

/// The hash of a number consistent with [`num_eq`] (a float with an
/// int's value hashes as that int); `None` when `o` is not a number.
pub(crate) fn num_hash(o: ObjRef) -> Option<u64> {
    Some(match as_num(o)? {
        Num::Int(i) => mix(i as u64),
        Num::Float(f) => match float_as_exact_int(f) {
            Some(i) => mix(i as u64),
            None => mix(f.to_bits() ^ 0x5555),
        },
    })
}

/// Spreads the bits of `h` (splitmix64's finaliser): small ints spread
/// over a hash table.
pub(crate) fn mix(h: u64) -> u64 {
    let mut z = h.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

// ----- the safe API -----------------------------------------------------------

impl<'h> Heap<'h> {
    /// An int. -5..=256 are preallocated and immortal ([`Int::new`]
    /// gives it typed).
    pub fn int(&self, v: i64) -> Result<Obj<'h>> {
        Int::new(self, v).map(Int::into_obj)
    }

    /// A float ([`Float::new`] gives it typed).
    pub fn float(&self, v: f64) -> Result<Obj<'h>> {
        Float::new(self, v).map(Float::into_obj)
    }
}

impl Obj<'_> {
    /// The value of an int (or bool), else `None`.
    pub fn as_int(&self) -> Option<i64> {
        self.as_view().map(Int::value)
    }

    /// The value of a float, else `None`.
    pub fn as_float(&self) -> Option<f64> {
        self.as_view().map(Float::value)
    }

    /// Whether this is `None`.
    pub fn is_none(&self) -> bool {
        self.raw().ty().kind == Kind::NoneType
    }
}
