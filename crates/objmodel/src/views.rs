//! Typed views: [`Dict`], [`List`], [`Tuple`], [`Str`], [`Type`], [`Int`]
//! and [`Float`], each an [`Obj`] whose kind was checked once, when the
//! view was made, so that its methods cannot fail by kind (pyo3's
//! `Bound<PyDict>` and co.).
//!
//! Invariant: a `Dict` holds a dict, a `List` a list, a `Tuple` a tuple, a
//! `Str` a str, a `Type` a type, an `Int` an int or a bool (a bool is an
//! int, as in Python) and a `Float` a float. Built-in types cannot be
//! subclassed (`Heap::new_type` refuses them as bases), so the kind is the
//! exact type. Views are made in this module only: by [`Obj::downcast`] and
//! [`Obj::downcast_into`], which check the kind, and by the views'
//! constructors, whose objects are of that kind. The invariant is what
//! discharges the kind precondition of the `unsafe fn` accessors
//! (`containers::with_dict`, `str::as_str`, `type_object::as_type`, ...).
//!
//! A view is a `#[repr(transparent)]` [`Obj`] and derefs to it, so every
//! dynamic method stays available on it. The kind-specific dynamic methods
//! of `Obj` (`dict_get`, `list_append`, `as_str`, `len`, ...) check the
//! kind and call the view's method: one implementation serves both.

use core::fmt;
use core::ops::Deref;

use crate::Heap;
use crate::error::{Error, ErrorKind, Result};
use crate::kinds::containers::{
    dict_del, dict_entry, dict_get, dict_set, key_error, new_dict, new_list, new_tuple, no_memory,
    resolve_index, tuple_items, with_dict, with_list,
};
use crate::kinds::numbers::{float_value, int_value, new_float, new_int};
use crate::kinds::str;
use crate::kinds::type_object::{Kind, TypeSpec, as_type};
use crate::object::{Obj, ObjRef};

mod sealed {
    use crate::object::Obj;

    /// What [`super::View`] needs and no other crate may provide: only the
    /// views of this module implement it, each a `repr(transparent)` `Obj`.
    pub trait Sealed<'h>: Clone + core::ops::Deref<Target = Obj<'h>> {
        /// The kind in messages, with its article ("a dict").
        const EXPECTED: &'static str;
        /// Whether `o` is of the view's kind.
        fn holds(o: &Obj<'h>) -> bool;
    }
}

/// A typed view of an object: what [`Obj::downcast`] can make. Implemented
/// by this crate's views only.
pub trait View<'h>: sealed::Sealed<'h> {}

impl<'h> Obj<'h> {
    /// The object as the view `V`, borrowed; a [`ErrorKind::Type`] error
    /// naming both kinds when it is not of `V`'s kind.
    ///
    /// ```
    /// use objmodel::{Dict, ErrorKind, List};
    ///
    /// objmodel::with_heap(|heap| {
    ///     let o = heap.dict().unwrap();
    ///     assert!(o.downcast::<Dict>().unwrap().is_empty());
    ///     let e = o.downcast::<List>().unwrap_err();
    ///     assert_eq!(e.kind(), ErrorKind::Type);
    ///     assert_eq!(e.message(), "expected a list, not 'dict'");
    /// });
    /// ```
    pub fn downcast<V: View<'h>>(&self) -> Result<&V> {
        self.as_view().ok_or_else(|| {
            Error::type_error(format!(
                "expected {}, not '{}'",
                V::EXPECTED,
                self.raw().ty().name_str()
            ))
        })
    }

    /// The object as the view `V`, taking over this handle; an error as for
    /// [`Obj::downcast`] (the handle is dropped then).
    pub fn downcast_into<V: View<'h>>(self) -> Result<V> {
        self.downcast::<V>().cloned()
    }

    /// The object as the view `V`, if it is of `V`'s kind (no message made).
    pub(crate) fn as_view<V: View<'h>>(&self) -> Option<&V> {
        // SAFETY: every `View` is a `repr(transparent)` `Obj<'h>` (sealed:
        // the `view!` types only), and the object is of `V`'s kind, which
        // is the view's invariant.
        V::holds(self).then(|| unsafe { &*core::ptr::from_ref(self).cast::<V>() })
    }
}

/// Defines a view type: the wrapper, its kind check and its ways out.
macro_rules! view {
    ($(#[$doc:meta])* $name:ident, $expected:literal, $kinds:pat) => {
        $(#[$doc])*
        #[repr(transparent)]
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name<'h>(Obj<'h>);

        impl<'h> sealed::Sealed<'h> for $name<'h> {
            const EXPECTED: &'static str = $expected;
            fn holds(o: &Obj<'h>) -> bool {
                matches!(o.raw().ty().kind, $kinds)
            }
        }

        impl<'h> View<'h> for $name<'h> {}

        impl<'h> $name<'h> {
            /// The object as a dynamically typed handle.
            pub fn into_obj(self) -> Obj<'h> {
                self.0
            }
        }

        impl<'h> Deref for $name<'h> {
            type Target = Obj<'h>;
            fn deref(&self) -> &Obj<'h> {
                &self.0
            }
        }

        impl<'h> From<$name<'h>> for Obj<'h> {
            fn from(view: $name<'h>) -> Obj<'h> {
                view.0
            }
        }

        /// As the object's `Debug`.
        impl fmt::Debug for $name<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

view!(
    /// A dict: an [`Obj`] known to be one ([`Obj::downcast`]).
    ///
    /// List methods are not there:
    ///
    /// ```compile_fail,E0599
    /// objmodel::with_heap(|heap| {
    ///     let d = objmodel::Dict::new(heap).unwrap();
    ///     d.append(&heap.none());
    /// });
    /// ```
    ///
    /// and a view of another kind is not a dict:
    ///
    /// ```compile_fail,E0308
    /// fn count(d: &objmodel::Dict<'_>) -> usize { d.len() }
    /// objmodel::with_heap(|heap| {
    ///     count(&objmodel::List::new(heap).unwrap());
    /// });
    /// ```
    ///
    /// Like an [`Obj`], it does not leave its heap's closure, so it does
    /// not outlive its heap:
    ///
    /// ```compile_fail,E0521
    /// let mut kept = None;
    /// objmodel::with_heap(|heap| kept = Some(objmodel::Dict::new(heap).unwrap()));
    /// ```
    Dict,
    "a dict",
    Kind::Dict
);

view!(
    /// A list: an [`Obj`] known to be one ([`Obj::downcast`]).
    ///
    /// Dict methods are not there:
    ///
    /// ```compile_fail,E0599
    /// objmodel::with_heap(|heap| {
    ///     let l = objmodel::List::new(heap).unwrap();
    ///     l.del(&heap.none());
    /// });
    /// ```
    List,
    "a list",
    Kind::List
);

view!(
    /// A tuple: an [`Obj`] known to be one ([`Obj::downcast`]).
    ///
    /// A tuple does not change:
    ///
    /// ```compile_fail,E0599
    /// objmodel::with_heap(|heap| {
    ///     let t = objmodel::Tuple::new(heap, &[&heap.none()]).unwrap();
    ///     t.set(0, &heap.none());
    /// });
    /// ```
    Tuple,
    "a tuple",
    Kind::Tuple
);

view!(
    /// A str: an [`Obj`] known to be one ([`Obj::downcast`]). Its text
    /// comes without an `Option`, which [`Obj::as_str`] needs:
    ///
    /// ```
    /// objmodel::with_heap(|heap| {
    ///     let s = objmodel::Str::new(heap, "abc").unwrap();
    ///     let text: &str = s.as_str();
    ///     # assert_eq!(text, "abc");
    /// });
    /// ```
    ///
    /// ```compile_fail,E0308
    /// objmodel::with_heap(|heap| {
    ///     let o = heap.str("abc").unwrap();
    ///     let text: &str = o.as_str();
    /// });
    /// ```
    Str,
    "a str",
    Kind::Str
);

view!(
    /// A type: an [`Obj`] known to be one ([`Obj::downcast`]).
    Type,
    "a type",
    Kind::Type
);

view!(
    /// An int (a bool is one too, as in Python): an [`Obj`] known to be one
    /// ([`Obj::downcast`]).
    Int,
    "an int",
    Kind::Int | Kind::Bool
);

view!(
    /// A float: an [`Obj`] known to be one ([`Obj::downcast`]).
    Float,
    "a float",
    Kind::Float
);

impl<'h> Dict<'h> {
    /// An empty dict.
    pub fn new(heap: &Heap<'h>) -> Result<Self> {
        Ok(Self(new_dict(heap)?.into_obj()))
    }

    /// `dict[key]`; [`ErrorKind::Key`] when absent.
    pub fn get(&self, key: &Obj<'h>) -> Result<Obj<'h>> {
        // SAFETY: a `Dict` holds a dict (the view's invariant), alive while `self` is.
        unsafe { dict_get(self.raw(), key.raw()) }
            .map(ObjRef::new_obj)
            .ok_or_else(|| key_error(key.raw()))
    }

    /// `dict[key] = value`.
    pub fn set(&self, key: &Obj<'h>, value: &Obj<'h>) -> Result<()> {
        let heap = self.heap();
        debug_assert!(heap.owns(key.raw()));
        debug_assert!(heap.owns(value.raw()));
        // SAFETY: a `Dict` holds a dict (the view's invariant), alive while `self` is.
        unsafe { dict_set(self.raw(), key.raw(), value.raw()) }
    }

    /// `del dict[key]`; [`ErrorKind::Key`] when absent.
    pub fn del(&self, key: &Obj<'h>) -> Result<()> {
        // SAFETY: a `Dict` holds a dict (the view's invariant), alive while `self` is.
        if unsafe { dict_del(self.raw(), key.raw()) } {
            Ok(())
        } else {
            Err(key_error(key.raw()))
        }
    }

    /// `len(dict)`.
    pub fn len(&self) -> usize {
        // SAFETY: a `Dict` holds a dict (the view's invariant), alive while
        // `self` is; reading a length runs no host code.
        unsafe { with_dict(self.raw(), |map| map.len()) }
    }

    /// Whether the dict is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `i`-th (key, value), in insertion order.
    pub fn item(&self, i: usize) -> Option<(Obj<'h>, Obj<'h>)> {
        // SAFETY: a `Dict` holds a dict (the view's invariant), alive while `self` is.
        let (k, v) = unsafe { dict_entry(self.raw(), i) }?;
        Some((k.new_obj(), v.new_obj()))
    }

    /// The (key, value) pairs, in insertion order (`dict.items()`).
    pub fn items(&self) -> DictItems<'_, 'h> {
        DictItems {
            dict: self,
            next: 0,
            len: self.len(),
        }
    }
}

impl<'a, 'h> IntoIterator for &'a Dict<'h> {
    type Item = (Obj<'h>, Obj<'h>);
    type IntoIter = DictItems<'a, 'h>;
    fn into_iter(self) -> DictItems<'a, 'h> {
        self.items()
    }
}

/// The (key, value) pairs of a dict, in insertion order ([`Dict::items`]).
///
/// # Panics
/// When the dict gains or loses keys during the iteration, as CPython
/// raises `RuntimeError`: "dictionary changed size during iteration".
#[derive(Debug)]
pub struct DictItems<'a, 'h> {
    dict: &'a Dict<'h>,
    next: usize,
    len: usize,
}

impl<'h> Iterator for DictItems<'_, 'h> {
    type Item = (Obj<'h>, Obj<'h>);

    fn next(&mut self) -> Option<Self::Item> {
        assert_eq!(
            self.dict.len(),
            self.len,
            "dictionary changed size during iteration"
        );
        let item = self.dict.item(self.next)?;
        self.next += 1;
        Some(item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.len - self.next;
        (left, Some(left))
    }
}

impl<'h> List<'h> {
    /// An empty list.
    pub fn new(heap: &Heap<'h>) -> Result<Self> {
        Ok(Self(new_list(heap)?.into_obj()))
    }

    /// `list.append(item)`.
    pub fn append(&self, item: &Obj<'h>) -> Result<()> {
        debug_assert!(self.heap().owns(item.raw()));
        // SAFETY: a `List` holds a list (the view's invariant), alive while
        // `self` is; growing the vector and counting `item` up run no host code.
        unsafe {
            with_list(self.raw(), |items| {
                items.try_reserve(1).map_err(|_| no_memory("list.append"))?;
                items.push(item.clone().into_raw());
                Ok(())
            })
        }
    }

    /// `list[index]`; a negative index counts from the end.
    pub fn get(&self, index: i64) -> Result<Obj<'h>> {
        // SAFETY: a `List` holds a list (the view's invariant), alive while
        // `self` is; picking an item runs no host code.
        let item = unsafe { with_list(self.raw(), |items| pick(items, index)) };
        item.map(ObjRef::new_obj)
            .ok_or_else(|| index_error("list index out of range"))
    }

    /// `list[index] = item`; a negative index counts from the end.
    pub fn set(&self, index: i64, item: &Obj<'h>) -> Result<()> {
        debug_assert!(self.heap().owns(item.raw()));
        // SAFETY: a `List` holds a list (the view's invariant), alive while
        // `self` is; the old item is decref'd (which may run host code)
        // after the closure.
        let old = unsafe {
            with_list(self.raw(), |items| {
                let i = resolve_index(index, items.len())
                    .ok_or_else(|| index_error("list assignment index out of range"))?;
                Ok::<_, Error>(core::mem::replace(&mut items[i], item.clone().into_raw()))
            })
        }?;
        old.decref();
        Ok(())
    }

    /// `len(list)`.
    pub fn len(&self) -> usize {
        // SAFETY: a `List` holds a list (the view's invariant), alive while
        // `self` is; reading a length runs no host code.
        unsafe { with_list(self.raw(), |items| items.len()) }
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<'h> Tuple<'h> {
    /// A tuple of `items`.
    pub fn new(heap: &Heap<'h>, items: &[&Obj<'h>]) -> Result<Self> {
        let raw: Vec<ObjRef> = items.iter().map(|o| o.raw()).collect();
        debug_assert!(raw.iter().all(|&o| heap.owns(o)));
        Ok(Self(new_tuple(heap, &raw)?.into_obj()))
    }

    /// `tuple[index]`; a negative index counts from the end.
    pub fn get(&self, index: i64) -> Result<Obj<'h>> {
        pick(self.items(), index)
            .map(ObjRef::new_obj)
            .ok_or_else(|| index_error("tuple index out of range"))
    }

    /// `len(tuple)`.
    pub fn len(&self) -> usize {
        self.items().len()
    }

    /// Whether the tuple is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn items(&self) -> &[ObjRef] {
        // SAFETY: a `Tuple` holds a tuple (the view's invariant), alive
        // while `self` is, and so is the borrow; only the collector clears
        // a tuple, one nothing reaches any more.
        unsafe { tuple_items(self.raw()) }
    }
}

impl<'h> Str<'h> {
    /// A new str.
    pub fn new(heap: &Heap<'h>, text: &str) -> Result<Self> {
        Ok(Self(str::new_str(heap, text)?.into_obj()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        // SAFETY: a `Str` holds a str (the view's invariant), alive while
        // `self` is, and so is the borrow.
        unsafe { str::as_str(self.raw()) }
    }

    /// `len(str)`: code points, not bytes.
    pub fn len(&self) -> usize {
        // SAFETY: a `Str` holds a str (the view's invariant), alive while `self` is.
        unsafe { str::char_len(self.raw()) }
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<'h> Type<'h> {
    /// A new class, as [`Heap::new_type`] makes it.
    pub fn new(
        heap: &Heap<'h>,
        name: &str,
        bases: &[&Obj<'h>],
        spec: &TypeSpec<'_>,
    ) -> Result<Self> {
        Ok(Self(heap.new_type(name, bases, spec)?))
    }

    /// `__name__`.
    pub fn name(&self) -> &str {
        self.type_object().name_str()
    }

    /// The method resolution order, this type first (`__mro__`).
    pub fn mro(&self) -> Vec<Type<'h>> {
        // An MRO holds types only.
        self.type_object()
            .mro
            .iter()
            .map(|&t| Self(t.new_obj()))
            .collect()
    }

    fn type_object(&self) -> &crate::kinds::type_object::TypeObject {
        // SAFETY: a `Type` holds a type (the view's invariant), alive while
        // `self` is, and so is the borrow.
        unsafe { as_type(self.raw()) }
    }
}

impl<'h> Int<'h> {
    /// An int. -5..=256 are preallocated and immortal.
    pub fn new(heap: &Heap<'h>, value: i64) -> Result<Self> {
        Ok(Self(new_int(heap, value)?.into_obj()))
    }

    /// The value (0 or 1 for a bool).
    pub fn value(&self) -> i64 {
        // An `Int` holds an int or a bool (the view's invariant).
        int_value(self.raw())
    }
}

impl<'h> Float<'h> {
    /// A float.
    pub fn new(heap: &Heap<'h>, value: f64) -> Result<Self> {
        Ok(Self(new_float(heap, value)?.into_obj()))
    }

    /// The value.
    pub fn value(&self) -> f64 {
        // A `Float` holds a float (the view's invariant).
        float_value(self.raw())
    }
}

/// The item at a Python index (negative from the end), borrowed.
fn pick(items: &[ObjRef], index: i64) -> Option<ObjRef> {
    resolve_index(index, items.len()).map(|i| items[i])
}

fn index_error(message: &str) -> Error {
    Error::new(ErrorKind::Index, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::with_heap;

    fn type_error(e: Error) -> String {
        assert_eq!(e.kind(), ErrorKind::Type);
        e.into_message()
    }

    #[test]
    fn downcast_checks_the_kind_once() {
        with_heap(|heap| {
            let o = heap.dict().unwrap();
            let d: &Dict<'_> = o.downcast().unwrap();
            assert!(d.is(&o));
            assert_eq!(
                type_error(o.downcast::<List>().unwrap_err()),
                "expected a list, not 'dict'"
            );
            assert_eq!(
                type_error(heap.none().downcast_into::<Dict>().unwrap_err()),
                "expected a dict, not 'NoneType'"
            );
            // The dynamic methods check the same way.
            assert_eq!(
                type_error(o.list_append(&heap.none()).unwrap_err()),
                "expected a list, not 'dict'"
            );
        });
    }

    #[test]
    fn a_view_keeps_its_object_alive_as_obj_does() {
        with_heap(|heap| {
            let live = heap.stats().objects_live;
            let list = List::new(heap).unwrap();
            assert_eq!(list.refcount(), 1);
            // Borrowing a view counts nothing; taking one over counts nothing more.
            let o = list.clone().into_obj();
            assert_eq!(o.downcast::<List>().unwrap().refcount(), 2);
            drop(list);
            assert_eq!(heap.stats().objects_live, live + 1);
            let again: List<'_> = o.downcast_into().unwrap();
            assert_eq!(again.refcount(), 1);
            drop(Obj::from(again));
            assert_eq!(heap.stats().objects_live, live);
        });
    }

    #[test]
    fn dict_get_set_del() {
        with_heap(|heap| {
            let d = Dict::new(heap).unwrap();
            let (k, v) = (heap.str("k").unwrap(), heap.int(1000).unwrap());
            assert!(d.is_empty());
            d.set(&k, &v).unwrap();
            assert_eq!(d.len(), 1);
            assert!(d.get(&k).unwrap().is(&v));
            // Keys compare as in Python: an equal str is the same key.
            assert!(d.get(&heap.str("k").unwrap()).unwrap().is(&v));
            d.del(&k).unwrap();
            let missing = d.get(&k).unwrap_err();
            assert_eq!((missing.kind(), missing.message()), (ErrorKind::Key, "'k'"));
            assert_eq!(d.del(&k).unwrap_err().kind(), ErrorKind::Key);
        });
    }

    #[test]
    fn dict_items_in_insertion_order() {
        with_heap(|heap| {
            let d = Dict::new(heap).unwrap();
            for (k, v) in [("b", 1), ("a", 2), ("c", 3)] {
                d.set(&heap.str(k).unwrap(), &heap.int(v).unwrap()).unwrap();
            }
            d.set(&heap.str("b").unwrap(), &heap.int(4).unwrap())
                .unwrap();
            let items: Vec<(String, i64)> = d
                .items()
                .map(|(k, v)| (k.as_str().unwrap().to_owned(), v.as_int().unwrap()))
                .collect();
            assert_eq!(items, [("b".into(), 4), ("a".into(), 2), ("c".into(), 3)]);
            assert_eq!((&d).into_iter().size_hint(), (3, Some(3)));
            assert_eq!(d.item(1).unwrap().1.as_int(), Some(2));
            assert!(d.item(3).is_none());
        });
    }

    #[test]
    #[should_panic(expected = "dictionary changed size during iteration")]
    fn dict_items_panic_when_the_dict_changes_size() {
        with_heap(|heap| {
            let d = Dict::new(heap).unwrap();
            d.set(&heap.int(1).unwrap(), &heap.none()).unwrap();
            for (k, _) in &d {
                d.del(&k).unwrap();
            }
        });
    }

    #[test]
    fn list_append_get_set() {
        with_heap(|heap| {
            let l = List::new(heap).unwrap();
            assert!(l.is_empty());
            for i in 0..3 {
                l.append(&heap.int(i).unwrap()).unwrap();
            }
            assert_eq!(l.len(), 3);
            assert_eq!(l.get(0).unwrap().as_int(), Some(0));
            assert_eq!(l.get(-1).unwrap().as_int(), Some(2));
            l.set(-3, &heap.str("x").unwrap()).unwrap();
            assert_eq!(l.get(0).unwrap().as_str(), Some("x"));
            let e = l.get(3).unwrap_err();
            assert_eq!(
                (e.kind(), e.message()),
                (ErrorKind::Index, "list index out of range")
            );
            let e = l.set(-4, &heap.none()).unwrap_err();
            assert_eq!(
                (e.kind(), e.message()),
                (ErrorKind::Index, "list assignment index out of range")
            );
        });
    }

    #[test]
    fn tuple_get_len() {
        with_heap(|heap| {
            let (a, b) = (heap.int(1).unwrap(), heap.none());
            let t = Tuple::new(heap, &[&a, &b]).unwrap();
            assert_eq!(t.len(), 2);
            assert!(t.get(0).unwrap().is(&a));
            assert!(t.get(-1).unwrap().is(&b));
            let e = t.get(2).unwrap_err();
            assert_eq!(
                (e.kind(), e.message()),
                (ErrorKind::Index, "tuple index out of range")
            );
            assert!(Tuple::new(heap, &[]).unwrap().is_empty());
            assert_eq!(
                type_error(t.downcast::<Str>().unwrap_err()),
                "expected a str, not 'tuple'"
            );
        });
    }

    #[test]
    fn str_text_and_length_in_code_points() {
        with_heap(|heap| {
            let s = Str::new(heap, "Андрей").unwrap();
            assert_eq!(s.as_str(), "Андрей");
            assert_eq!(s.len(), 6);
            assert!(!s.is_empty());
            assert_eq!(heap.intern("").unwrap().downcast::<Str>().unwrap().len(), 0);
            assert_eq!(
                type_error(heap.int(1).unwrap().downcast::<Str>().unwrap_err()),
                "expected a str, not 'int'"
            );
        });
    }

    #[test]
    fn type_name_and_mro() {
        with_heap(|heap| {
            let parent = Type::new(heap, "mod.Parent", &[], &TypeSpec::dict()).unwrap();
            let child = Type::new(heap, "Child", &[&parent], &TypeSpec::dict()).unwrap();
            assert_eq!(parent.name(), "Parent");
            let names: Vec<String> = child.mro().iter().map(|t| t.name().to_owned()).collect();
            assert_eq!(names, ["Child", "Parent", "object"]);
            let instance = child.call(&[]).unwrap();
            assert_eq!(instance.type_of().downcast::<Type>().unwrap(), &child);
            assert_eq!(
                type_error(instance.downcast::<Type>().unwrap_err()),
                "expected a type, not 'Child'"
            );
        });
    }

    #[test]
    fn int_and_float_values() {
        with_heap(|heap| {
            assert_eq!(Int::new(heap, -7).unwrap().value(), -7);
            // A bool is an int, as in Python.
            assert_eq!(heap.bool(true).downcast::<Int>().unwrap().value(), 1);
            assert_eq!(Float::new(heap, 0.5).unwrap().value(), 0.5);
            assert_eq!(
                type_error(heap.int(1).unwrap().downcast::<Float>().unwrap_err()),
                "expected a float, not 'int'"
            );
            assert_eq!(format!("{:?}", Float::new(heap, 0.5).unwrap()), "0.5");
        });
    }
}
