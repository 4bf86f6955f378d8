//! Bounds on nested work: every place where the library recurses on behalf
//! of a host (calls into host code, `repr` of nested containers) enters a
//! [`Nested`] level first, which fails with [`ErrorKind::Recursion`] instead
//! of overflowing the thread's stack.
//!
//! Two limits, whichever comes first:
//!
//! - a count per heap, [`MAX_DEPTH`] (CPython's default recursion limit);
//! - the stack left on the calling thread: below [`STACK_RESERVE`] bytes, a
//!   new level is refused. The thread's stack bounds are read once per
//!   thread (`pthread_getattr_np`), so the check is one comparison of the
//!   stack pointer against a floor the heap keeps for the last thread
//!   that nested in it.
//!
//! ```text
//!   high addresses   +------------------------+  stack base
//!                    |  host frames, levels   |
//!                    |  ...                   |  <- sp: a level may start
//!                    |- - - - - - - - - - - - |  low + STACK_RESERVE
//!                    |  reserve: the refusing |
//!                    |  path and host frames  |
//!   low addresses    +------------------------+  low (guard page below)
//! ```
//!
//! So nesting is refused cleanly on any thread whose stack is at least
//! 128 KiB, whatever work each level does, as long as one level between two
//! checks needs less than the reserve (a level is one library call plus the
//! host code it runs).
//!
//! The level is left when the guard drops, panics included.

use core::cell::Cell;

use crate::error::{Error, ErrorKind, Result};
use crate::heap::Heap;

/// Levels of nesting allowed at once on one heap (CPython's default
/// recursion limit, `sys.getrecursionlimit()`).
pub(crate) const MAX_DEPTH: u32 = 1000;

/// Bytes of stack that must be left for a new level to start: room for the
/// refusal itself and the host frames that unwind it.
pub(crate) const STACK_RESERVE: usize = 48 * 1024;

/// One level of nesting, entered by [`Heap::nest`]; dropping it leaves.
#[must_use = "the level is left when the guard drops"]
pub(crate) struct Nested<'a> {
    /// The heap's depth (`Heap::depth`).
    depth: &'a Cell<u32>,
}

impl Drop for Nested<'_> {
    fn drop(&mut self) {
        self.depth.set(self.depth.get() - 1);
    }
}

impl<'h> Heap<'h> {
    /// Enters one level of nesting, or fails with CPython's
    /// "maximum recursion depth exceeded{what}" when the count or the
    /// stack runs out (`what` says where, e.g. " while calling a Python object").
    #[inline]
    pub(crate) fn nest(&self, what: &str) -> Result<Nested<'_>> {
        let depth = self.depth.get();
        if depth >= MAX_DEPTH || !self.stack_has_room() {
            return Err(Error::new(
                ErrorKind::Recursion,
                format!("maximum recursion depth exceeded{what}"),
            ));
        }
        self.depth.set(depth + 1);
        Ok(Nested { depth: &self.depth })
    }

    /// Whether the calling thread's stack has more than [`STACK_RESERVE`]
    /// left. The floor of the last thread that nested in this heap is kept
    /// in the heap (a thread token and its floor), so the common case reads
    /// no thread-local. (A token names one live thread; a thread that reuses
    /// the token of one that exited reuses its stack block too, as glibc
    /// keeps the thread's control block at the top of its stack.)
    #[inline]
    fn stack_has_room(&self) -> bool {
        let marker = 0u8;
        let sp = core::hint::black_box(&raw const marker).addr();
        let me = objgc::thread_token();
        let (token, floor) = self.stack_floor.get();
        let floor = if token == me {
            floor
        } else {
            let floor = thread_stack_floor();
            self.stack_floor.set((me, floor));
            floor
        };
        sp > floor
    }
}

thread_local! {
    /// The lowest usable address of this thread's stack plus the reserve;
    /// 0 until read, 1 when the bounds cannot be known (no stack check).
    static STACK_FLOOR: Cell<usize> = const { Cell::new(0) };
}

/// The calling thread's stack floor (see [`STACK_FLOOR`]), read once per thread.
fn thread_stack_floor() -> usize {
    STACK_FLOOR.with(|f| {
        if f.get() == 0 {
            f.set(read_stack_floor());
        }
        f.get()
    })
}

/// The address below which the calling thread's stack has less than the
/// reserve left, or 1 where the stack's bounds cannot be read.
#[cfg(all(target_os = "linux", not(miri)))]
fn read_stack_floor() -> usize {
    let mut attr = core::mem::MaybeUninit::<libc::pthread_attr_t>::uninit();
    let mut low: *mut libc::c_void = core::ptr::null_mut();
    let mut size: libc::size_t = 0;
    // SAFETY: `attr` is initialised by pthread_getattr_np before it is read
    // and destroyed once after; `low` and `size` are valid out-pointers.
    let ok = unsafe {
        if libc::pthread_getattr_np(libc::pthread_self(), attr.as_mut_ptr()) != 0 {
            return 1;
        }
        let ok = libc::pthread_attr_getstack(attr.as_ptr(), &mut low, &mut size) == 0;
        libc::pthread_attr_destroy(attr.as_mut_ptr());
        ok
    };
    if !ok || low.is_null() {
        return 1;
    }
    // A stack smaller than twice the reserve still gets half of itself.
    low.addr() + STACK_RESERVE.min(size / 2)
}

#[cfg(not(all(target_os = "linux", not(miri))))]
fn read_stack_floor() -> usize {
    1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::with_heap;

    #[test]
    fn levels_are_counted_and_left() {
        with_heap(|heap| {
            {
                let _a = heap.nest("").unwrap();
                let _b = heap.nest("").unwrap();
                assert_eq!(heap.depth.get(), 2);
            }
            assert_eq!(heap.depth.get(), 0);
        });
    }

    #[test]
    fn the_count_is_bounded() {
        with_heap(|heap| {
            let levels: Vec<_> = (0..MAX_DEPTH).map(|_| heap.nest("").unwrap()).collect();
            let e = heap.nest(" in comparison").err().expect("past the limit");
            assert_eq!(e.kind(), ErrorKind::Recursion);
            assert_eq!(
                e.message(),
                "maximum recursion depth exceeded in comparison"
            );
            drop(levels);
            assert!(heap.nest("").is_ok());
        });
    }

    #[test]
    #[cfg_attr(miri, ignore = "miri cannot read the thread's stack bounds")]
    fn a_small_thread_stack_is_refused_before_it_overflows() {
        fn recurse(heap: &Heap, n: u32) -> u32 {
            match heap.nest("") {
                // A big frame per level: the count alone would overflow 128 KiB.
                Ok(_level) => {
                    let pad = core::hint::black_box([0u8; 2048]);
                    recurse(heap, n + 1) + u32::from(pad[0])
                }
                Err(_) => n,
            }
        }
        let levels = std::thread::Builder::new()
            .stack_size(128 * 1024)
            .spawn(|| with_heap(|heap| recurse(heap, 0)))
            .unwrap()
            .join()
            .unwrap();
        assert!(levels > 0 && levels < MAX_DEPTH, "{levels} levels");
    }
}
