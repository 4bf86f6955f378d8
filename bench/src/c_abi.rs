//! The benchmark objects of `benches/c_abi.rs`, made through objrt's C ABI
//! (objffi's exports, called as a C host calls them): the twins of
//! `cpython::BENCH_CLASSES`' `Obj`, `Level5` and `Slots2`, with host
//! functions written against the C ABI.
//!
//! Every export's status is checked: a failure panics with the export's
//! name and `obj_last_error()`.

use core::ffi::{CStr, c_void};
use core::ptr::null_mut;

use objffi::{
    RawStatus, obj_alloc, obj_call, obj_decref, obj_function_new, obj_getattr, obj_heap_free,
    obj_heap_new, obj_heap_t, obj_int_new, obj_intern, obj_last_error, obj_setattr, obj_status_t,
    obj_t, obj_type_new, obj_type_spec_t,
};

/// Panics unless `status` is `OBJ_OK`.
pub fn check(status: RawStatus, what: &str) {
    if status != obj_status_t::OBJ_OK {
        // SAFETY: obj_last_error returns a NUL-terminated string, valid until
        // the next failing call on this thread; it is copied at once.
        let message = unsafe { CStr::from_ptr(obj_last_error()) }.to_string_lossy();
        panic!("{what} failed with {}: {message}", status.0);
    }
}

/// `self.x`, as a C host function (`data`: the interned name `x`).
unsafe extern "C" fn get_x(
    data: *mut c_void,
    args: *const *mut obj_t,
    nargs: usize,
    result: *mut *mut obj_t,
) -> RawStatus {
    if nargs != 1 {
        return obj_status_t::OBJ_ERR_TYPE.into();
    }
    // SAFETY: the library passes `nargs` live arguments and a result slot;
    // `data` is the name object the heap keeps alive (interned).
    unsafe { obj_getattr(*args, data.cast(), result) }
}

/// A heap holding the benchmark objects, freed on drop.
pub struct CObjects {
    /// The heap, owned.
    pub heap: *mut obj_heap_t,
    /// An instance of `Obj`: `kind` on the class, `x`, `y` in the
    /// instance, method `get_x`.
    pub obj: *mut obj_t,
    /// An instance of `Level5(Level4(...(Level0)))`; `deep` is on `Level0`.
    pub leaf: *mut obj_t,
    /// An instance of `Slots2` (slots `x`, `y`, no dict), both set.
    pub slots: *mut obj_t,
    /// The class `Slots2`.
    pub slots_class: *mut obj_t,
    /// The interned name `x`.
    pub x: *mut obj_t,
    /// The interned name `kind`.
    pub kind: *mut obj_t,
    /// The interned name `deep`.
    pub deep: *mut obj_t,
    /// The interned name `get_x`.
    pub get_x: *mut obj_t,
    /// The int 12345, for stores.
    pub value: *mut obj_t,
    /// Everything else to drop.
    others: Vec<*mut obj_t>,
}

impl CObjects {
    /// Makes the objects in a new heap.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        let heap = obj_heap_new();
        assert!(!heap.is_null(), "obj_heap_new");
        let mut others = Vec::new();
        let new = |what: &str, f: &mut dyn FnMut(*mut *mut obj_t) -> RawStatus| {
            let mut out = null_mut();
            check(f(&mut out), what);
            out
        };
        let intern = |s: &CStr| {
            // SAFETY: a live heap, UTF-8 of the length given, a writable out.
            new("obj_intern", &mut |out| unsafe {
                obj_intern(heap, s.as_ptr(), s.to_bytes().len(), out)
            })
        };
        let (x, y, kind, deep, get_x_name) = (
            intern(c"x"),
            intern(c"y"),
            intern(c"kind"),
            intern(c"deep"),
            intern(c"get_x"),
        );
        let int = |v| {
            // SAFETY: a live heap, a writable out.
            new("obj_int_new", &mut |out| unsafe {
                obj_int_new(heap, v, out)
            })
        };
        let (one, two, value) = (int(1), int(2), int(12345));
        let class = |name: &CStr, bases: &[*mut obj_t], spec: *const obj_type_spec_t| {
            // SAFETY: a live heap, a NUL-terminated name, live bases, NULL
            // or a valid spec, a writable out.
            new("obj_type_new", &mut |out| unsafe {
                obj_type_new(heap, name.as_ptr(), bases.as_ptr(), bases.len(), spec, out)
            })
        };
        // SAFETY: live objects of the heap.
        let set = |o, name, v| check(unsafe { obj_setattr(o, name, v) }, "obj_setattr");
        let instance = |cls| {
            // SAFETY: a live class, no arguments, a writable out.
            new("obj_call", &mut |out| unsafe {
                obj_call(cls, null_mut(), 0, out)
            })
        };

        let (kind_value, deep_value) = (intern(c"class attribute"), intern(c"five levels up"));
        let obj_class = class(c"Obj", &[], core::ptr::null());
        set(obj_class, kind, kind_value);
        // SAFETY: a live heap, a NUL-terminated name, a host function that
        // follows obj_cfunc_t, its data (the name `x`, immortal), a writable out.
        let f = new("obj_function_new", &mut |out| unsafe {
            obj_function_new(heap, c"get_x".as_ptr(), Some(get_x), x.cast(), out)
        });
        set(obj_class, get_x_name, f);
        let obj = instance(obj_class);
        set(obj, x, one);
        set(obj, y, two);

        let mut level = class(c"Level0", &[], core::ptr::null());
        set(level, deep, deep_value);
        others.push(level);
        for name in [c"Level1", c"Level2", c"Level3", c"Level4", c"Level5"] {
            level = class(name, &[level], core::ptr::null());
            others.push(level);
        }
        let leaf = instance(level);

        let slot_names = [c"x".as_ptr(), c"y".as_ptr()];
        let spec = obj_type_spec_t {
            payload_size: 0,
            slots: slot_names.as_ptr(),
            nslots: slot_names.len(),
            has_dict: false,
            traverse: None,
            clear: None,
            finalize: None,
        };
        let slots_class = class(c"Slots2", &[], &spec);
        let slots = instance(slots_class);
        set(slots, x, one);
        set(slots, y, two);

        others.extend([obj_class, f, one, two, y, kind_value, deep_value]);
        Self {
            heap,
            obj,
            leaf,
            slots,
            slots_class,
            x,
            kind,
            deep,
            get_x: get_x_name,
            value,
            others,
        }
    }

    /// `obj_alloc(Slots2)`, checked.
    pub fn alloc_slots(&self) -> *mut obj_t {
        let mut out = null_mut();
        // SAFETY: a live class, a writable out.
        check(
            unsafe { obj_alloc(self.slots_class, &mut out) },
            "obj_alloc",
        );
        out
    }
}

impl Drop for CObjects {
    fn drop(&mut self) {
        let mine = [
            self.obj,
            self.leaf,
            self.slots,
            self.slots_class,
            self.x,
            self.kind,
            self.deep,
            self.get_x,
            self.value,
        ];
        for o in mine.into_iter().chain(self.others.drain(..)) {
            // SAFETY: each holds one reference this struct owns.
            unsafe { obj_decref(o) };
        }
        // SAFETY: the heap this struct made; nothing uses it afterwards.
        unsafe { obj_heap_free(self.heap) };
    }
}
