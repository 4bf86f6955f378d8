//! The one place objheap takes its atomics and cells from.
//!
//! Normal builds use `core`'s types; `--cfg loom` swaps in loom's, so the
//! model tests in `delayed.rs` explore every interleaving of the code that
//! really ships. Only the cross-thread free protocol is atomic; everything
//! else in the heap belongs to the thread holding `&mut Heap`.

#[cfg(loom)]
pub(crate) use loom::cell::UnsafeCell;
#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicPtr, Ordering};

#[cfg(not(loom))]
pub(crate) use core::sync::atomic::{AtomicPtr, Ordering};

/// `core::cell::UnsafeCell` with loom's closure-based access API, so code
/// written once is checked by loom and costs nothing otherwise.
#[cfg(not(loom))]
#[derive(Debug)]
pub(crate) struct UnsafeCell<T>(core::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    pub(crate) const fn new(value: T) -> Self {
        Self(core::cell::UnsafeCell::new(value))
    }

    /// Runs `f` with a pointer for reading the value.
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    /// Runs `f` with a pointer for writing the value.
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}
