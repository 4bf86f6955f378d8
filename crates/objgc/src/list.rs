//! Intrusive, circular, doubly linked lists of tracked objects.
//!
//! ```text
//!   head (sentinel) <-> o1 <-> o2 <-> ... <-> on <-> head
//! ```
//!
//! A list is a heap-allocated sentinel [`GcLinks`]; an empty list's sentinel
//! points to itself. An untracked object's links are both null.

use core::cell::Cell;
use core::ptr::{self, NonNull};

use crate::Gc;

/// The links every tracked object carries.
#[repr(C)]
#[derive(Debug)]
pub struct GcLinks {
    pub(crate) next: Cell<*mut GcLinks>,
    /// The previous object; during phases 1-3 the object's `gc_refs` and flags instead (see `collect.rs`).
    pub(crate) prev: Cell<*mut GcLinks>,
}

impl GcLinks {
    /// Links of an untracked object.
    pub const fn new() -> Self {
        Self {
            next: Cell::new(ptr::null_mut()),
            prev: Cell::new(ptr::null_mut()),
        }
    }

    /// Whether the object is in a collector's lists.
    pub fn is_tracked(&self) -> bool {
        !self.next.get().is_null()
    }
}

impl Default for GcLinks {
    fn default() -> Self {
        Self::new()
    }
}

/// A list: a sentinel that never moves (kept as a raw pointer, not a
/// `Box`: the elements point at it, and moving a `Box` asserts uniqueness).
pub(crate) struct List {
    head: NonNull<GcLinks>,
}

impl Drop for List {
    fn drop(&mut self) {
        // SAFETY: made by Box::into_raw in `new`, freed once, here.
        drop(unsafe { Box::from_raw(self.head.as_ptr()) });
    }
}

impl List {
    pub(crate) fn new() -> Self {
        let head = NonNull::from(Box::leak(Box::new(GcLinks::new())));
        // SAFETY: just allocated.
        let links = unsafe { head.as_ref() };
        links.next.set(head.as_ptr());
        links.prev.set(head.as_ptr());
        Self { head }
    }

    fn head(&self) -> *mut GcLinks {
        self.head.as_ptr()
    }

    fn links(&self) -> &GcLinks {
        // SAFETY: the sentinel lives as long as the list.
        unsafe { self.head.as_ref() }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.links().next.get() == self.head()
    }

    /// Appends `o`, which is in no list.
    ///
    /// # Safety
    /// `o` is live and untracked (or unlinked by the caller).
    pub(crate) unsafe fn push(&self, o: Gc) {
        let head = self.head();
        // SAFETY: the sentinel and its last element are live links.
        unsafe {
            let last = (*head).prev.get();
            o.as_ref().prev.set(last);
            o.as_ref().next.set(head);
            (*last).next.set(o.as_ptr());
            (*head).prev.set(o.as_ptr());
        }
    }

    /// Moves every element of `other` to the end of `self`.
    pub(crate) fn append(&self, other: &List) {
        if other.is_empty() {
            return;
        }
        let (head, ohead) = (self.head(), other.head());
        // SAFETY: all four ends are live links of the two lists.
        unsafe {
            let (first, last) = ((*ohead).next.get(), (*ohead).prev.get());
            let tail = (*head).prev.get();
            (*tail).next.set(first);
            (*first).prev.set(tail);
            (*last).next.set(head);
            (*head).prev.set(last);
            (*ohead).next.set(ohead);
            (*ohead).prev.set(ohead);
        }
    }

    /// The elements, in order. The list must not change while iterating.
    pub(crate) fn iter(&self) -> impl Iterator<Item = Gc> + '_ {
        walk(self.links().next.get(), self.head())
    }

    /// Empties the list and yields its former elements in order. Each
    /// element's `next` is read before it is yielded, so the caller may push
    /// it onto any list (this one included); its `prev` is not read.
    pub(crate) fn drain(&self) -> impl Iterator<Item = Gc> + '_ {
        let first = self.links().next.get();
        self.reset();
        walk(first, self.head())
    }

    /// Gives every element a real `prev` link again (the previous element,
    /// found through the `next` links, which stay intact while `prev`
    /// links hold a collection's tags).
    pub(crate) fn relink_prev(&self) {
        let head = self.head();
        let mut prev = head;
        let mut p = self.links().next.get();
        while p != head {
            // SAFETY: `p` is a live element reached through the chain.
            unsafe {
                (*p).prev.set(prev);
                prev = p;
                p = (*p).next.get();
            }
        }
        self.links().prev.set(prev);
    }

    pub(crate) fn len(&self) -> usize {
        self.iter().count()
    }

    /// Empties the list without touching its elements' links (they are
    /// relinked by the caller).
    pub(crate) fn reset(&self) {
        let head = self.head();
        self.links().next.set(head);
        self.links().prev.set(head);
    }
}

/// The chain of elements from `first` along `next` links up to `head`,
/// each `next` read before its element is yielded.
fn walk(first: *mut GcLinks, head: *mut GcLinks) -> impl Iterator<Item = Gc> {
    let mut p = first;
    core::iter::from_fn(move || {
        if p == head {
            return None;
        }
        let o = NonNull::new(p).expect("list links are never null");
        // SAFETY: `p` is a live element of the chain, not yet yielded
        // (callers of `iter` and `drain` keep the chain as it was).
        p = unsafe { (*p).next.get() };
        Some(o)
    })
}

/// Unlinks `o` from whatever list holds it and marks it untracked.
///
/// # Safety
/// `o` is live and tracked, with real pointers in both links.
pub(crate) unsafe fn unlink(o: Gc) {
    // SAFETY: a tracked object's neighbours are live links.
    unsafe {
        let (prev, next) = (o.as_ref().prev.get(), o.as_ref().next.get());
        (*prev).next.set(next);
        (*next).prev.set(prev);
        o.as_ref().next.set(ptr::null_mut());
        o.as_ref().prev.set(ptr::null_mut());
    }
}
