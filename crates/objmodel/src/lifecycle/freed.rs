//! Debug builds remember which object addresses were freed, and as what
//! type, so that a use after free or a double decref through a raw pointer
//! (the C ABI) is reported by name instead of reading freed memory.
//!
//! The record is process-wide (an object's heap cannot be found from a
//! freed object) and keyed by address: freeing an object adds its address,
//! allocating one at that address again removes it. So a reuse of a freed
//! address by a new object hides older mistakes there, as with any
//! allocator. Release builds, and miri runs, keep no record.

#[cfg(all(debug_assertions, not(miri)))]
mod record {
    use std::collections::HashMap;
    use std::sync::Mutex;

    static FREED: Mutex<Option<HashMap<usize, Box<str>>>> = Mutex::new(None);

    fn with<R>(f: impl FnOnce(&mut HashMap<usize, Box<str>>) -> R) -> R {
        let mut guard = FREED.lock().unwrap_or_else(|poison| poison.into_inner());
        f(guard.get_or_insert_with(HashMap::new))
    }

    pub(crate) fn note_freed(addr: usize, type_name: &str) {
        with(|m| m.insert(addr, type_name.into()));
    }

    pub(crate) fn note_allocated(addr: usize) {
        with(|m| m.remove(&addr));
    }

    pub(crate) fn freed_type(addr: usize) -> Option<String> {
        with(|m| m.get(&addr).map(|name| name.to_string()))
    }
}

#[cfg(not(all(debug_assertions, not(miri))))]
mod record {
    #[inline]
    pub(crate) fn note_freed(_addr: usize, _type_name: &str) {}

    #[inline]
    pub(crate) fn note_allocated(_addr: usize) {}

    #[inline]
    pub(crate) fn freed_type(_addr: usize) -> Option<String> {
        None
    }
}

pub(crate) use record::{note_allocated, note_freed};

/// In debug builds: the type name of the object that lived at `p` if it has
/// been freed (and nothing has been allocated there since). Always `None`
/// in release builds.
pub fn freed_object_type(p: core::ptr::NonNull<u8>) -> Option<String> {
    record::freed_type(p.as_ptr().addr())
}
