//! A flag that is set for the length of a scope and cleared when the scope
//! is left, by return or by panic: the collector's `collecting` and the
//! object model's `deallocating` must never stay set after host code panics.

use core::cell::Cell;

/// Holds a `Cell<bool>` set; clears it when dropped.
#[must_use = "the flag is cleared when the guard drops"]
pub struct FlagScope<'a>(&'a Cell<bool>);

impl<'a> FlagScope<'a> {
    /// Sets `flag` for the guard's life, or returns `None` (touching
    /// nothing) when it is set already: someone outside holds it.
    #[inline]
    pub fn enter(flag: &'a Cell<bool>) -> Option<Self> {
        (!flag.replace(true)).then(|| Self(flag))
    }
}

impl Drop for FlagScope<'_> {
    #[inline]
    fn drop(&mut self) {
        self.0.set(false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_is_cleared_on_return_and_on_panic() {
        let flag = Cell::new(false);
        {
            let _g = FlagScope::enter(&flag).expect("clear before");
            assert!(flag.get());
            assert!(FlagScope::enter(&flag).is_none(), "held: refused");
            assert!(flag.get(), "a refused enter leaves it set");
        }
        assert!(!flag.get());
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _g = FlagScope::enter(&flag);
            panic!("host code");
        }));
        assert!(r.is_err());
        assert!(!flag.get(), "cleared by the unwind");
    }
}
