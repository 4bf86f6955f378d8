//! CPython 3.11 through its C API: the peer every object-model benchmark is
//! measured against, in the same process and the same run.
//!
//! Two layers:
//!
//! - [`ffi`]: hand-written declarations of the few C API functions the
//!   benchmarks call, the 3.11 x86_64 layouts of `PyObject` and
//!   `PyTypeObject`, and `Py_INCREF`/`Py_DECREF` written out in Rust exactly as
//!   the 3.11 headers define them (they are `static inline` there, not
//!   exported symbols). `build.rs` links Debian's libpython3.11 through
//!   `pkg-config python3-embed` and refuses any other minor version.
//! - [`Python`], [`PyRef`] and [`TpAlloc`]: a small safe façade. Every call
//!   that CPython reports as failed prints the Python traceback and panics: a
//!   benchmark that raised measures nothing.
//!
//! # One interpreter, one thread
//!
//! CPython is initialised once per process, by the first [`Python::init`],
//! and never finalised. The initialising thread holds the GIL from then on and
//! never releases it, so it is the only thread that may touch Python objects:
//! [`Python::init`] panics on any other thread, and [`Python`] and [`PyRef`]
//! are `!Send` and `!Sync`, so neither a token nor a reference can reach
//! another thread. (Under `cargo test` each test runs on its own thread: only
//! one test in the process may use CPython.)
//!
//! The interpreter starts isolated from the environment (`PYTHON*` variables
//! ignored, no `site` import), so the objects it tracks, and so the work of a
//! full collection besides the benchmark's own graph, do not depend on the
//! shell the benchmark runs from.

use std::ffi::{CString, c_int};
use std::marker::PhantomData;
use std::ptr::{self, NonNull};
use std::sync::OnceLock;
use std::thread::{self, ThreadId};

/// Raw declarations of the CPython 3.11 C API (non-limited API, release
/// build, x86_64 Linux). Only what the benchmarks use.
///
/// Every function here has the C API's contract: call it only on the thread
/// that holds the GIL (see the [module documentation](super)); functions
/// returning `*mut PyObject` return a new ("owned") reference or NULL with an
/// exception set, unless their documentation says "borrowed".
pub mod ffi {
    use std::ffi::{c_char, c_int, c_long, c_longlong, c_uint, c_ulong, c_void};

    /// `PyObject`: the header every object starts with (`object.h`).
    ///
    /// 3.11 has no immortal objects: `ob_refcnt` is a plain count and the
    /// object is deallocated when it reaches 0. (This is not a debug build, so
    /// there is no `_PyObject_HEAD_EXTRA` and no `_Py_RefTotal`.)
    #[repr(C)]
    pub struct PyObject {
        /// Reference count.
        pub ob_refcnt: isize,
        /// The object's type (a strong reference for instances of heap types).
        pub ob_type: *mut PyTypeObject,
    }

    /// `PyVarObject`: `PyObject` plus an item count.
    #[repr(C)]
    pub struct PyVarObject {
        /// The object header.
        pub ob_base: PyObject,
        /// Number of items (for a type object: unused, 0).
        pub ob_size: isize,
    }

    /// `allocfunc`: allocates a zeroed instance of a type with `nitems`
    /// variable items, refcount 1, `ob_type` set (and, for a heap type, a new
    /// reference to the type held by the instance); GC types come back
    /// tracked. NULL with `MemoryError` set on failure.
    pub type AllocFunc = unsafe extern "C" fn(*mut PyTypeObject, isize) -> *mut PyObject;

    /// A C function pointer slot whose signature the benchmarks never need.
    pub type Slot = Option<unsafe extern "C" fn()>;

    /// `PyTypeObject` (`struct _typeobject`, `cpython/object.h` of 3.11).
    ///
    /// Field by field as in the header, so that [`tp_alloc`](Self::tp_alloc)
    /// lands where the C compiler puts it. On x86_64 every field is 8 bytes
    /// except `tp_version_tag` (4, then 4 bytes of padding):
    ///
    /// ```text
    /// offset  field(s)
    ///      0  ob_base: ob_refcnt, ob_type, ob_size   (3 x 8)
    ///     24  tp_name
    ///     32  tp_basicsize, tp_itemsize
    ///     48  tp_dealloc ... tp_as_buffer            (15 x 8)
    ///    168  tp_flags
    ///    176  tp_doc ... tp_init                     (16 x 8)
    ///    304  tp_alloc            <- read by Python::tp_alloc
    ///    312  tp_new ... tp_del                      (9 x 8)
    ///    384  tp_version_tag      (u32 + 4 bytes of padding)
    ///    392  tp_finalize, tp_vectorcall
    ///    408  end (size_of)
    /// ```
    ///
    /// The const assertions below check these offsets against the values
    /// `offsetof`/`sizeof` printed in a C program compiled against Debian's
    /// 3.11.2 headers. At run time [`Python::tp_alloc`](super::Python::tp_alloc)
    /// also compares the field with `PyType_GetSlot(type, Py_tp_alloc)`, which
    /// does not depend on the layout, and `tp_basicsize` with the class's
    /// `__basicsize__`.
    #[repr(C)]
    pub struct PyTypeObject {
        /// `PyObject_VAR_HEAD`.
        pub ob_base: PyVarObject,
        /// `"<module>.<name>"`, NUL-terminated.
        pub tp_name: *const c_char,
        /// Bytes of an instance, without the GC header or the pre-header.
        pub tp_basicsize: isize,
        /// Bytes per variable item.
        pub tp_itemsize: isize,
        /// `destructor`.
        pub tp_dealloc: Slot,
        /// Offset of the per-instance vectorcall pointer.
        pub tp_vectorcall_offset: isize,
        /// `getattrfunc` (legacy).
        pub tp_getattr: Slot,
        /// `setattrfunc` (legacy).
        pub tp_setattr: Slot,
        /// `PyAsyncMethods *`.
        pub tp_as_async: *mut c_void,
        /// `reprfunc`.
        pub tp_repr: Slot,
        /// `PyNumberMethods *`.
        pub tp_as_number: *mut c_void,
        /// `PySequenceMethods *`.
        pub tp_as_sequence: *mut c_void,
        /// `PyMappingMethods *`.
        pub tp_as_mapping: *mut c_void,
        /// `hashfunc`.
        pub tp_hash: Slot,
        /// `ternaryfunc`.
        pub tp_call: Slot,
        /// `reprfunc`.
        pub tp_str: Slot,
        /// `getattrofunc`.
        pub tp_getattro: Slot,
        /// `setattrofunc`.
        pub tp_setattro: Slot,
        /// `PyBufferProcs *`.
        pub tp_as_buffer: *mut c_void,
        /// `Py_TPFLAGS_*` bits.
        pub tp_flags: c_ulong,
        /// The docstring.
        pub tp_doc: *const c_char,
        /// `traverseproc`.
        pub tp_traverse: Slot,
        /// `inquiry`.
        pub tp_clear: Slot,
        /// `richcmpfunc`.
        pub tp_richcompare: Slot,
        /// Offset of the weak-reference list in an instance.
        pub tp_weaklistoffset: isize,
        /// `getiterfunc`.
        pub tp_iter: Slot,
        /// `iternextfunc`.
        pub tp_iternext: Slot,
        /// `PyMethodDef *`.
        pub tp_methods: *mut c_void,
        /// `PyMemberDef *`.
        pub tp_members: *mut c_void,
        /// `PyGetSetDef *`.
        pub tp_getset: *mut c_void,
        /// The base class (strong reference for heap types).
        pub tp_base: *mut PyTypeObject,
        /// The class namespace.
        pub tp_dict: *mut PyObject,
        /// `descrgetfunc`.
        pub tp_descr_get: Slot,
        /// `descrsetfunc`.
        pub tp_descr_set: Slot,
        /// Offset of `__dict__` in an instance (-1 for a managed dict).
        pub tp_dictoffset: isize,
        /// `initproc` (`__init__`).
        pub tp_init: Slot,
        /// `allocfunc`: `PyType_GenericAlloc` for classes defined in Python.
        pub tp_alloc: Option<AllocFunc>,
        /// `newfunc` (`__new__`).
        pub tp_new: Slot,
        /// `freefunc`: the low-level free.
        pub tp_free: Slot,
        /// `inquiry`.
        pub tp_is_gc: Slot,
        /// `__bases__`.
        pub tp_bases: *mut PyObject,
        /// `__mro__`.
        pub tp_mro: *mut PyObject,
        /// Unused.
        pub tp_cache: *mut PyObject,
        /// Weak references to subclasses.
        pub tp_subclasses: *mut PyObject,
        /// Weak references to this type.
        pub tp_weaklist: *mut PyObject,
        /// `destructor` (legacy `__del__`).
        pub tp_del: Slot,
        /// Version tag of the type attribute cache.
        pub tp_version_tag: c_uint,
        /// `destructor` (PEP 442 finaliser).
        pub tp_finalize: Slot,
        /// `vectorcallfunc` for calling the type.
        pub tp_vectorcall: Slot,
    }

    // The layout checks, against `offsetof`/`sizeof` from the C compiler.
    const _: () = assert!(std::mem::size_of::<PyObject>() == 16);
    const _: () = assert!(std::mem::offset_of!(PyTypeObject, tp_basicsize) == 32);
    const _: () = assert!(std::mem::offset_of!(PyTypeObject, tp_flags) == 168);
    const _: () = assert!(std::mem::offset_of!(PyTypeObject, tp_doc) == 176);
    const _: () = assert!(std::mem::offset_of!(PyTypeObject, tp_dictoffset) == 288);
    const _: () = assert!(std::mem::offset_of!(PyTypeObject, tp_alloc) == 304);
    const _: () = assert!(std::mem::offset_of!(PyTypeObject, tp_new) == 312);
    const _: () = assert!(std::mem::offset_of!(PyTypeObject, tp_version_tag) == 384);
    const _: () = assert!(std::mem::offset_of!(PyTypeObject, tp_finalize) == 392);
    const _: () = assert!(std::mem::size_of::<PyTypeObject>() == 408);

    /// `Py_file_input`: `PyRun_String` runs a sequence of statements.
    pub const PY_FILE_INPUT: c_int = 257;
    /// `Py_eval_input`: `PyRun_String` evaluates one expression.
    pub const PY_EVAL_INPUT: c_int = 258;
    /// `Py_tp_alloc` (`typeslots.h`): the slot number of `tp_alloc` for
    /// `PyType_GetSlot`.
    pub const PY_TP_ALLOC: c_int = 47;
    /// `PY_VECTORCALL_ARGUMENTS_OFFSET`: set in `nargsf` when the callee may
    /// temporarily overwrite `args[-1]`.
    pub const PY_VECTORCALL_ARGUMENTS_OFFSET: usize = 1 << (usize::BITS - 1);

    // SAFETY: these are the C prototypes of CPython 3.11's headers, with
    // `Py_ssize_t` as `isize`, `size_t` as `usize` and `PyObject *` as
    // `*mut PyObject`; `build.rs` links the matching libpython3.11.
    unsafe extern "C" {
        /// `int Py_IgnoreEnvironmentFlag`: ignore `PYTHON*` variables
        /// (read by `Py_InitializeEx`).
        pub static mut Py_IgnoreEnvironmentFlag: c_int;
        /// `int Py_NoSiteFlag`: do not import `site` at start-up.
        pub static mut Py_NoSiteFlag: c_int;
        /// `int Py_NoUserSiteDirectory`: no user site-packages.
        pub static mut Py_NoUserSiteDirectory: c_int;
        /// `PyTypeObject PyType_Type`: the type of classes.
        pub static mut PyType_Type: PyTypeObject;

        /// Initialises the interpreter; the calling thread then holds the
        /// GIL. `initsigs == 0` leaves signal handlers alone.
        pub fn Py_InitializeEx(initsigs: c_int);
        /// Non-zero when the interpreter is initialised (any thread).
        pub fn Py_IsInitialized() -> c_int;

        /// Runs `str` with `start` ([`PY_FILE_INPUT`] or [`PY_EVAL_INPUT`])
        /// in the `globals`/`locals` dicts; the value (None for statements).
        pub fn PyRun_String(
            str: *const c_char,
            start: c_int,
            globals: *mut PyObject,
            locals: *mut PyObject,
        ) -> *mut PyObject;
        /// The module `name` from `sys.modules`, created if missing.
        /// Borrowed.
        pub fn PyImport_AddModule(name: *const c_char) -> *mut PyObject;
        /// A module's namespace dict. Borrowed.
        pub fn PyModule_GetDict(module: *mut PyObject) -> *mut PyObject;

        /// An interned `str` from UTF-8.
        pub fn PyUnicode_InternFromString(s: *const c_char) -> *mut PyObject;
        /// `o.name` (generic lookup for Python classes).
        pub fn PyObject_GetAttr(o: *mut PyObject, name: *mut PyObject) -> *mut PyObject;
        /// `o.name = v`; 0, or -1 with an exception set.
        pub fn PyObject_SetAttr(o: *mut PyObject, name: *mut PyObject, v: *mut PyObject) -> c_int;

        /// `callable()`.
        pub fn PyObject_CallNoArgs(callable: *mut PyObject) -> *mut PyObject;
        /// `callable(arg)`.
        pub fn PyObject_CallOneArg(callable: *mut PyObject, arg: *mut PyObject) -> *mut PyObject;
        /// `callable(*args[..nargs])` with `nargsf = nargs` (optionally
        /// `| PY_VECTORCALL_ARGUMENTS_OFFSET`) and `kwnames` NULL or a tuple.
        pub fn PyObject_Vectorcall(
            callable: *mut PyObject,
            args: *const *mut PyObject,
            nargsf: usize,
            kwnames: *mut PyObject,
        ) -> *mut PyObject;
        /// `args[0].name(*args[1..nargs])`, without creating a bound method
        /// when `name` resolves to a plain function.
        pub fn PyObject_VectorcallMethod(
            name: *mut PyObject,
            args: *const *mut PyObject,
            nargsf: usize,
            kwnames: *mut PyObject,
        ) -> *mut PyObject;

        /// `gc.collect()` of every generation; the number of unreachable
        /// objects found. Returns 0 without collecting while the collector is
        /// disabled (unlike `gc.collect()`).
        pub fn PyGC_Collect() -> isize;
        /// Enables the automatic collector; whether it was enabled.
        pub fn PyGC_Enable() -> c_int;
        /// Disables the automatic collector; whether it was enabled.
        pub fn PyGC_Disable() -> c_int;

        /// The pending exception's type, or NULL. Borrowed.
        pub fn PyErr_Occurred() -> *mut PyObject;
        /// Prints the pending exception with its traceback to `sys.stderr`
        /// and clears it.
        pub fn PyErr_Print();

        /// Deallocates an object whose count reached 0 (`tp_dealloc`).
        pub fn _Py_Dealloc(op: *mut PyObject);

        /// An `int`'s value; -1 with an exception set on failure.
        pub fn PyLong_AsLongLong(o: *mut PyObject) -> c_longlong;
        /// A new `int`.
        pub fn PyLong_FromLong(v: c_long) -> *mut PyObject;
        /// A `float`'s value; -1.0 with an exception set on failure.
        pub fn PyFloat_AsDouble(o: *mut PyObject) -> f64;
        /// Item `i` of a tuple. Borrowed.
        pub fn PyTuple_GetItem(t: *mut PyObject, i: isize) -> *mut PyObject;

        /// A type slot by number (layout-independent); NULL if unset.
        pub fn PyType_GetSlot(t: *mut PyTypeObject, slot: c_int) -> *mut c_void;
        /// The `tp_alloc` of classes defined in Python.
        pub fn PyType_GenericAlloc(t: *mut PyTypeObject, nitems: isize) -> *mut PyObject;
        /// Non-zero when `a` is `b` or a subclass of it.
        pub fn PyType_IsSubtype(a: *mut PyTypeObject, b: *mut PyTypeObject) -> c_int;
    }

    /// `Py_INCREF` of 3.11 (release build): `op->ob_refcnt++`.
    ///
    /// # Safety
    /// `op` points to a live object and the caller holds the GIL.
    #[inline(always)]
    pub unsafe fn incref(op: *mut PyObject) {
        // SAFETY: the caller guarantees a live object and exclusive access
        // through the GIL.
        unsafe { (*op).ob_refcnt += 1 }
    }

    /// `Py_DECREF` of 3.11 (release build):
    /// `if (--op->ob_refcnt == 0) _Py_Dealloc(op);`.
    ///
    /// # Safety
    /// `op` points to a live object, the caller owns one of its references
    /// (which this consumes) and holds the GIL.
    #[inline(always)]
    pub unsafe fn decref(op: *mut PyObject) {
        // SAFETY: the caller guarantees a live object, an owned reference and
        // the GIL; the last reference hands the object to its deallocator.
        unsafe {
            (*op).ob_refcnt -= 1;
            if (*op).ob_refcnt == 0 {
                _Py_Dealloc(op);
            }
        }
    }
}

use ffi::PyObject;

/// The thread that initialised CPython (and holds its GIL for good).
static OWNER: OnceLock<ThreadId> = OnceLock::new();

/// Proof that the current thread owns the process's CPython interpreter.
///
/// A zero-sized token, `Copy` but `!Send` and `!Sync`: it can only exist on
/// the thread that called [`Python::init`] first.
///
/// ```compile_fail
/// fn send<T: Send>() {}
/// send::<bench::cpython::Python>();
/// ```
///
/// ```compile_fail
/// fn sync<T: Sync>() {}
/// sync::<bench::cpython::Python>();
/// ```
#[derive(Clone, Copy)]
pub struct Python {
    _owner_thread_only: PhantomData<*mut ()>,
}

/// An owned (strong) reference to a CPython object: `Clone` is `Py_INCREF`,
/// `Drop` is `Py_DECREF`. `!Send` and `!Sync`, like [`Python`].
///
/// ```compile_fail
/// fn send<T: Send>() {}
/// send::<bench::cpython::PyRef>();
/// ```
pub struct PyRef {
    ptr: NonNull<PyObject>,
}

/// Bytes per instance of a class, as measured by [`Python::bytes_per_instance`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InstanceBytes {
    /// Bytes requested from CPython's allocators per instance (what
    /// `tracemalloc` records: the object with its GC header and pre-header,
    /// plus, for a dict-based instance, its inline values array).
    pub requested: f64,
    /// The same allocations rounded up to pymalloc's 16-byte size classes
    /// (requests of at most 512 bytes; larger ones go to `malloc` and are
    /// counted as requested).
    pub in_blocks: f64,
}

/// Python source of the two classes whose instances the benchmarks
/// allocate: `Dict2` (attributes in the instance dict) and `Slots2`
/// (`__slots__`), both setting `x` and `y` in `__init__`. Run it with
/// [`Python::run`].
pub const TWO_ATTRIBUTE_CLASSES: &str = "\
class Dict2:
    def __init__(self):
        self.x = 1
        self.y = 2

class Slots2:
    __slots__ = ('x', 'y')
    def __init__(self):
        self.x = 1
        self.y = 2
";

/// Classes of the benchmarks, besides [`TWO_ATTRIBUTE_CLASSES`]
/// (`Dict2`, `Slots2`).
pub const BENCH_CLASSES: &str = "\
class Obj:
    kind = 'class attribute'
    def __init__(self):
        self.x = 1
        self.y = 2
    def get_x(self):
        return self.x

class Level0:
    deep = 'five levels up'
    def __init__(self):
        self.x = 1
        self.y = 2
class Level1(Level0): pass
class Level2(Level1): pass
class Level3(Level2): pass
class Level4(Level3): pass
class Level5(Level4): pass

class Node:
    pass

class TreeNode:
    __slots__ = ('left', 'right', 'parent')

def make_garbage_pairs(n_pairs):
    for _ in range(n_pairs):
        a = Node()
        b = Node()
        a.other = b
        b.other = a

def make_live_pairs(n_pairs):
    nodes = []
    for _ in range(n_pairs):
        a = Node()
        b = Node()
        a.other = b
        b.other = a
        nodes.append(a)
        nodes.append(b)
    return nodes

def tracked_objects():
    import gc
    gc.collect()
    return len(gc.get_objects())

def churn_peak(steps, ring_size, long_lived, every):
    # Worst live/reachable ratio (x1000) of the churn GcClasses.churn_peak
    # runs in objrt, counting the objects the collector tracks.
    import gc
    gc.collect()
    base = len(gc.get_objects())
    keep = [Node() for _ in range(long_lived)]
    ring = [None] * ring_size
    worst = 0.0
    for step in range(steps):
        a = Node()
        b = Node()
        a.other = b
        b.other = a
        ring[step % ring_size] = a
        del a, b
        if step % every == every - 1:
            reachable = long_lived + 2 * min(step + 1, ring_size)
            live = len(gc.get_objects()) - base - 2  # less `keep` and `ring`
            worst = max(worst, live / reachable)
    del keep, ring
    gc.collect()
    return int(worst * 1000)
";

/// The Python side of [`Python::bytes_per_instance`].
const BYTES_PER_INSTANCE: &str = "\
def _objrt_bench_bytes_per_instance(cls, n):
    import gc, tracemalloc
    objs = [None] * n
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(n):
            objs[i] = cls()
        requested = tracemalloc.get_traced_memory()[0] - before
        in_blocks = sum(t.size if t.size > 512 else (t.size + 15) // 16 * 16
                        for t in tracemalloc.take_snapshot().traces)
    finally:
        tracemalloc.stop()
    del objs
    return (requested / n, in_blocks / n)
";

impl Python {
    /// Initialises CPython on the first call (idempotent afterwards) and
    /// returns the token.
    ///
    /// # Panics
    /// On a thread other than the one that made the first call, and when
    /// something else in the process already initialised CPython (its GIL
    /// state would be unknown).
    pub fn init() -> Python {
        let here = thread::current().id();
        let owner = *OWNER.get_or_init(|| {
            // SAFETY: `Py_IsInitialized` may be called at any time.
            let initialised = unsafe { ffi::Py_IsInitialized() } != 0;
            assert!(
                !initialised,
                "CPython was initialised outside bench::cpython"
            );
            // SAFETY: the flags are plain ints read by `Py_InitializeEx`; this
            // runs once (inside `get_or_init`) and before initialisation, so
            // nothing else reads or writes them concurrently.
            unsafe {
                ffi::Py_IgnoreEnvironmentFlag = 1;
                ffi::Py_NoSiteFlag = 1;
                ffi::Py_NoUserSiteDirectory = 1;
                ffi::Py_InitializeEx(0);
            }
            here
        });
        assert!(
            owner == here,
            "CPython belongs to the thread that initialised it ({owner:?}), not {here:?}"
        );
        Python {
            _owner_thread_only: PhantomData,
        }
    }

    /// [`Python::init`], with [`TWO_ATTRIBUTE_CLASSES`] and
    /// [`BENCH_CLASSES`] defined (once per process).
    pub fn with_bench_classes() -> Python {
        let py = Python::init();
        let defined = py.eval("'Level5' in globals()");
        if py.int_value(&defined) == 0 {
            py.run(TWO_ATTRIBUTE_CLASSES);
            py.run(BENCH_CLASSES);
        }
        py
    }

    /// Runs Python statements in `__main__`'s namespace.
    pub fn run(self, code: &str) {
        drop(self.run_string(code, ffi::PY_FILE_INPUT));
    }

    /// Evaluates a Python expression in `__main__`'s namespace.
    pub fn eval(self, expr: &str) -> PyRef {
        self.run_string(expr, ffi::PY_EVAL_INPUT)
    }

    fn run_string(self, code: &str, start: c_int) -> PyRef {
        let code = CString::new(code).expect("Python source without NUL bytes");
        // SAFETY: we hold the GIL (this thread owns the interpreter);
        // `__main__` exists after initialisation and stays in `sys.modules`,
        // so the borrowed module and dict outlive this call.
        let globals = unsafe {
            let main = ffi::PyImport_AddModule(c"__main__".as_ptr());
            assert!(!main.is_null(), "no __main__ module");
            ffi::PyModule_GetDict(main)
        };
        // SAFETY: GIL held; `code` is NUL-terminated and `globals` a live dict.
        let result = unsafe { ffi::PyRun_String(code.as_ptr(), start, globals, globals) };
        self.own(result, "PyRun_String")
    }

    /// An interned `str`, for attribute and method names.
    pub fn intern(self, name: &str) -> PyRef {
        let name = CString::new(name).expect("a name without NUL bytes");
        // SAFETY: GIL held; `name` is NUL-terminated.
        let result = unsafe { ffi::PyUnicode_InternFromString(name.as_ptr()) };
        self.own(result, "PyUnicode_InternFromString")
    }

    /// `obj.name` (`PyObject_GetAttr`).
    #[inline]
    pub fn getattr(self, obj: &PyRef, name: &PyRef) -> PyRef {
        // SAFETY: GIL held; both references are live.
        let result = unsafe { ffi::PyObject_GetAttr(obj.as_ptr(), name.as_ptr()) };
        self.own(result, "PyObject_GetAttr")
    }

    /// `obj.name = value` (`PyObject_SetAttr`).
    #[inline]
    pub fn setattr(self, obj: &PyRef, name: &PyRef, value: &PyRef) {
        // SAFETY: GIL held; all three references are live (the call takes
        // its own reference to `value`).
        let status = unsafe { ffi::PyObject_SetAttr(obj.as_ptr(), name.as_ptr(), value.as_ptr()) };
        if status != 0 {
            self.raised("PyObject_SetAttr");
        }
    }

    /// `callable()` (`PyObject_CallNoArgs`).
    #[inline]
    pub fn call0(self, callable: &PyRef) -> PyRef {
        // SAFETY: GIL held; the reference is live.
        let result = unsafe { ffi::PyObject_CallNoArgs(callable.as_ptr()) };
        self.own(result, "PyObject_CallNoArgs")
    }

    /// `callable(*args)` (`PyObject_Vectorcall`).
    pub fn call(self, callable: &PyRef, args: &[&PyRef]) -> PyRef {
        let args: Vec<*mut PyObject> = args.iter().map(|a| a.as_ptr()).collect();
        // SAFETY: GIL held; `args` holds `args.len()` borrowed, live objects
        // for the duration of the call; no ARGUMENTS_OFFSET flag, so
        // `args[-1]` is not touched.
        let result = unsafe {
            ffi::PyObject_Vectorcall(
                callable.as_ptr(),
                args.as_ptr(),
                args.len(),
                ptr::null_mut(),
            )
        };
        self.own(result, "PyObject_Vectorcall")
    }

    /// `obj.name()` (`PyObject_VectorcallMethod`, which is what
    /// `PyObject_CallMethodNoArgs` expands to): no bound method is created
    /// when `name` resolves to a function defined in the class.
    #[inline]
    pub fn call_method0(self, obj: &PyRef, name: &PyRef) -> PyRef {
        let args = [obj.as_ptr()];
        // SAFETY: GIL held; both references are live. As in the header's
        // `PyObject_CallMethodNoArgs`, `args` is a one-element array passed
        // with `1 | PY_VECTORCALL_ARGUMENTS_OFFSET`: `PyObject_VectorcallMethod`
        // never writes `args[-1]` itself and either clears the flag (unbound
        // method: the callee sees `args`) or forwards `args + 1`, whose
        // `[-1]` is `args[0]`, inside this array.
        let result = unsafe {
            ffi::PyObject_VectorcallMethod(
                name.as_ptr(),
                args.as_ptr(),
                1 | ffi::PY_VECTORCALL_ARGUMENTS_OFFSET,
                ptr::null_mut(),
            )
        };
        self.own(result, "PyObject_VectorcallMethod")
    }

    /// A full collection (`PyGC_Collect`): the number of unreachable objects
    /// found. Collects nothing and returns 0 while the collector is disabled
    /// (see [`gc_disable`](Self::gc_disable)).
    #[inline]
    pub fn collect(self) -> isize {
        // SAFETY: GIL held.
        let found = unsafe { ffi::PyGC_Collect() };
        // SAFETY: GIL held.
        if found < 0 && !unsafe { ffi::PyErr_Occurred() }.is_null() {
            self.raised("PyGC_Collect");
        }
        found
    }

    /// Disables the automatic collector (`gc.disable()`); whether it was
    /// enabled.
    pub fn gc_disable(self) -> bool {
        // SAFETY: GIL held.
        unsafe { ffi::PyGC_Disable() != 0 }
    }

    /// Enables the automatic collector (`gc.enable()`); whether it was
    /// enabled.
    pub fn gc_enable(self) -> bool {
        // SAFETY: GIL held.
        unsafe { ffi::PyGC_Enable() != 0 }
    }

    /// A new `int`.
    pub fn int(self, value: i64) -> PyRef {
        // SAFETY: GIL held. `c_long` is 64 bits on x86_64 Linux.
        let result = unsafe { ffi::PyLong_FromLong(value) };
        self.own(result, "PyLong_FromLong")
    }

    /// The value of an `int` (`PyLong_AsLongLong`).
    pub fn int_value(self, obj: &PyRef) -> i64 {
        // SAFETY: GIL held; the reference is live.
        let value = unsafe { ffi::PyLong_AsLongLong(obj.as_ptr()) };
        // SAFETY: GIL held.
        if value == -1 && !unsafe { ffi::PyErr_Occurred() }.is_null() {
            self.raised("PyLong_AsLongLong");
        }
        value
    }

    /// The value of a `float` (`PyFloat_AsDouble`).
    pub fn float_value(self, obj: &PyRef) -> f64 {
        // SAFETY: GIL held; the reference is live.
        let value = unsafe { ffi::PyFloat_AsDouble(obj.as_ptr()) };
        // SAFETY: GIL held.
        if value == -1.0 && !unsafe { ffi::PyErr_Occurred() }.is_null() {
            self.raised("PyFloat_AsDouble");
        }
        value
    }

    /// Item `i` of a tuple.
    fn tuple_item(self, tuple: &PyRef, i: isize) -> PyRef {
        // SAFETY: GIL held; the reference is live. The item is borrowed from
        // the tuple, which outlives this call; `from_borrowed` takes a
        // reference of our own.
        unsafe {
            let item = ffi::PyTuple_GetItem(tuple.as_ptr(), i);
            match NonNull::new(item) {
                Some(item) => PyRef::from_borrowed(item),
                None => self.raised("PyTuple_GetItem"),
            }
        }
    }

    /// The `tp_alloc` slot of a class, read from its `PyTypeObject`, for
    /// allocating instances without calling `__new__`/`__init__`.
    ///
    /// Checks the hand-written 3.11 layout before trusting it: the field must
    /// equal `PyType_GetSlot(ty, Py_tp_alloc)` (layout-independent),
    /// `tp_basicsize` must equal `ty.__basicsize__`, and a test allocation
    /// must come back with refcount 1 and `ob_type == ty`.
    ///
    /// # Panics
    /// If `ty` is not a class or any check fails.
    pub fn tp_alloc(self, ty: &PyRef) -> TpAlloc {
        let tp = ty.as_ptr().cast::<ffi::PyTypeObject>();
        // SAFETY: GIL held; `ty` is live, so reading its header is valid;
        // `PyType_Type` is a static of libpython, only its address is taken.
        let is_type =
            unsafe { ffi::PyType_IsSubtype((*ty.as_ptr()).ob_type, &raw mut ffi::PyType_Type) };
        assert!(is_type != 0, "tp_alloc: not a class");
        // SAFETY: `ty` is a live type object, so it is at least a
        // `PyTypeObject`, whose 3.11 layout `ffi::PyTypeObject` reproduces
        // (checked by the const assertions and the comparisons below).
        let (by_field, basicsize) = unsafe { ((*tp).tp_alloc, (*tp).tp_basicsize) };
        // SAFETY: GIL held; `tp` is a live type.
        let by_slot = unsafe { ffi::PyType_GetSlot(tp, ffi::PY_TP_ALLOC) };
        let alloc = by_field.expect("tp_alloc: the slot is NULL");
        assert_eq!(
            alloc as usize, by_slot as usize,
            "tp_alloc read at the wrong offset of PyTypeObject"
        );
        let expected = self.int_value(&self.getattr(ty, &self.intern("__basicsize__")));
        assert_eq!(
            basicsize as i64, expected,
            "tp_basicsize read at the wrong offset"
        );

        let tp_alloc = TpAlloc {
            ty: ty.clone(),
            alloc,
        };
        let probe = tp_alloc.alloc();
        assert_eq!(probe.refcnt(), 1, "tp_alloc: a fresh object has refcount 1");
        // SAFETY: `probe` is live; reading its header is valid.
        let probe_type = unsafe { (*probe.as_ptr()).ob_type };
        assert_eq!(
            probe_type, tp,
            "tp_alloc: the object's ob_type is the class"
        );
        tp_alloc
    }

    /// Bytes per instance of `class`, measured with `tracemalloc` while `n`
    /// instances made by `class()` are alive at once.
    ///
    /// Counts every allocation made while creating them (for a dict-based
    /// class in 3.11: the object, with its 16-byte GC header and 16-byte
    /// managed-dict pre-header, plus its inline values array), but not the
    /// list holding them, which is allocated first.
    ///
    /// A dict-based instance's values array is sized for every attribute name
    /// set on any instance of the class so far (3.11's shared keys), so
    /// measure a class before other code adds attributes to its instances.
    pub fn bytes_per_instance(self, class: &PyRef, n: usize) -> InstanceBytes {
        self.run(BYTES_PER_INSTANCE);
        let measure = self.eval("_objrt_bench_bytes_per_instance");
        let n = self.int(i64::try_from(n).expect("n fits in i64"));
        let result = self.call(&measure, &[class, &n]);
        InstanceBytes {
            requested: self.float_value(&self.tuple_item(&result, 0)),
            in_blocks: self.float_value(&self.tuple_item(&result, 1)),
        }
    }

    /// Takes ownership of a new reference, or reports the exception.
    #[inline(always)]
    fn own(self, ptr: *mut PyObject, what: &str) -> PyRef {
        match NonNull::new(ptr) {
            // SAFETY: a non-NULL result of the C API calls above is a new
            // reference, owned by us from here on.
            Some(ptr) => unsafe { PyRef::from_owned(ptr) },
            None => self.raised(what),
        }
    }

    /// Prints the pending Python exception and panics.
    #[cold]
    #[inline(never)]
    fn raised(self, what: &str) -> ! {
        // SAFETY: GIL held.
        if !unsafe { ffi::PyErr_Occurred() }.is_null() {
            // SAFETY: GIL held and an exception is set.
            unsafe { ffi::PyErr_Print() };
        }
        panic!("CPython: {what} failed (the Python traceback is printed above)");
    }
}

impl PyRef {
    /// Wraps a new reference.
    ///
    /// # Safety
    /// `ptr` is a live object, the caller owns one reference to it and gives
    /// it up, and the current thread owns the interpreter (a [`Python`] token
    /// exists on it).
    #[inline(always)]
    pub unsafe fn from_owned(ptr: NonNull<PyObject>) -> PyRef {
        PyRef { ptr }
    }

    /// Takes a new reference to a borrowed object (`Py_INCREF`).
    ///
    /// # Safety
    /// `ptr` is a live object and the current thread owns the interpreter.
    #[inline(always)]
    pub unsafe fn from_borrowed(ptr: NonNull<PyObject>) -> PyRef {
        // SAFETY: forwarded from the caller.
        unsafe { ffi::incref(ptr.as_ptr()) };
        PyRef { ptr }
    }

    /// The object's address; the reference stays owned by `self`.
    #[inline(always)]
    pub fn as_ptr(&self) -> *mut PyObject {
        self.ptr.as_ptr()
    }

    /// The object's reference count (`Py_REFCNT`).
    #[inline(always)]
    pub fn refcnt(&self) -> isize {
        // SAFETY: `self` keeps the object alive, and only the owning thread
        // (this one: `PyRef` is `!Send`) writes the count.
        unsafe { (*self.as_ptr()).ob_refcnt }
    }
}

impl Clone for PyRef {
    /// `Py_INCREF`.
    #[inline(always)]
    fn clone(&self) -> PyRef {
        // SAFETY: the object is live (we own a reference) and a `PyRef` only
        // exists on the thread that owns the interpreter.
        unsafe { ffi::incref(self.as_ptr()) };
        PyRef { ptr: self.ptr }
    }
}

impl Drop for PyRef {
    /// `Py_DECREF`.
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: we own one reference, given up here, on the thread that
        // owns the interpreter.
        unsafe { ffi::decref(self.as_ptr()) }
    }
}

/// A class's `tp_alloc` slot, checked by [`Python::tp_alloc`]: allocates
/// bare instances, as `object.__new__` does before `__init__` runs.
pub struct TpAlloc {
    ty: PyRef,
    alloc: ffi::AllocFunc,
}

impl TpAlloc {
    /// A new instance with every slot and the instance dict unset
    /// (`ty->tp_alloc(ty, 0)`). Dropping it runs the class's deallocator.
    #[inline]
    pub fn alloc(&self) -> PyRef {
        let py = Python {
            _owner_thread_only: PhantomData,
        };
        // SAFETY: `TpAlloc` holds a `PyRef`, so it is `!Send` and we are on
        // the thread owning the interpreter; `alloc` is the checked
        // `tp_alloc` of the live class `ty`; 0 items for a fixed-size class.
        let obj = unsafe { (self.alloc)(self.ty.as_ptr().cast(), 0) };
        let obj = py.own(obj, "tp_alloc");
        debug_assert_eq!(
            // SAFETY: `obj` is live.
            unsafe { (*obj.as_ptr()).ob_type },
            self.ty.as_ptr().cast::<ffi::PyTypeObject>()
        );
        obj
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Everything in one test: `cargo test` runs tests on separate threads,
    /// and only the thread that initialised CPython may use it.
    #[test]
    fn ffi_matches_cpython_3_11() {
        let py = Python::init();
        let _again = Python::init(); // idempotent on the owning thread

        // sys.flags shows the isolation `init` asked for.
        assert_eq!(
            py.int_value(&py.eval("__import__('sys').flags.ignore_environment")),
            1
        );
        assert_eq!(
            py.int_value(&py.eval("__import__('sys').version_info[:2] == (3, 11)")),
            1
        );

        // getattr / setattr / method call through interned names.
        py.run(
            "class Point:\n    def __init__(self):\n        self.x = 41\n        self.y = 2\n    \
             def total(self):\n        return self.x + self.y\n",
        );
        let class = py.eval("Point");
        let point = py.call0(&class);
        let x = py.intern("x");
        assert_eq!(py.int_value(&py.getattr(&point, &x)), 41);
        py.setattr(&point, &x, &py.int(40));
        assert_eq!(py.int_value(&py.getattr(&point, &x)), 40);
        assert_eq!(
            py.int_value(&py.call_method0(&point, &py.intern("total"))),
            42
        );
        let bound = py.getattr(&point, &py.intern("total"));
        assert_eq!(py.int_value(&py.call0(&bound)), 42);

        // Py_INCREF / Py_DECREF on ob_refcnt, as CPython sees it.
        let sys_getrefcount = py.eval("__import__('sys').getrefcount");
        let before = point.refcnt();
        // The vectorcall passes `point` borrowed, so getrefcount sees exactly
        // the count we read from `ob_refcnt`.
        assert_eq!(
            py.int_value(&py.call(&sys_getrefcount, &[&point])),
            before as i64
        );
        let second = point.clone();
        assert_eq!(point.refcnt(), before + 1);
        drop(second);
        assert_eq!(point.refcnt(), before);

        // Dropping the last reference deallocates (a weakref sees it die).
        py.run("import weakref");
        let make_ref = py.eval("weakref.ref");
        let weak = py.call(&make_ref, &[&point]);
        drop(point);
        drop(bound); // the bound method held `point` too
        assert_eq!(py.int_value(&py.eval("1")), 1);
        let referent = py.call0(&weak);
        assert!(
            py.int_value(&py.call(&py.eval("lambda o: o is None"), &[&referent])) == 1,
            "the instance was freed by the last Py_DECREF"
        );

        // Memory per instance first: Dict2's values array has room for the
        // attributes its instances have had so far (`x`, `y`), so the class
        // is not touched before.
        py.run(TWO_ATTRIBUTE_CLASSES);
        let slots2 = py.eval("Slots2");
        let dict2 = py.eval("Dict2");
        let dict_bytes = py.bytes_per_instance(&dict2, 10_000);
        let slots_bytes = py.bytes_per_instance(&slots2, 10_000);
        eprintln!("CPython bytes per instance: dict {dict_bytes:?}, slots {slots_bytes:?}");
        assert!(
            (40.0..=200.0).contains(&dict_bytes.requested),
            "{dict_bytes:?}"
        );
        assert!(
            (32.0..=120.0).contains(&slots_bytes.requested),
            "{slots_bytes:?}"
        );
        assert!(slots_bytes.requested < dict_bytes.requested);
        assert!(dict_bytes.in_blocks >= dict_bytes.requested);

        // tp_alloc: the field at the hand-computed offset is the real slot.
        let alloc = py.tp_alloc(&slots2);
        let bare = alloc.alloc();
        assert_eq!(bare.refcnt(), 1);
        drop(bare);
        let bare = py.tp_alloc(&class).alloc(); // `Point`, dict-based
        py.setattr(&bare, &x, &py.int(7)); // a bare instance is usable
        assert_eq!(py.int_value(&py.getattr(&bare, &x)), 7);

        // The collector: 1,000 unreachable 2-cycles are found by a full
        // collection.
        py.collect();
        py.run(
            "def _pairs(n):\n    for _ in range(n):\n        a = Point(); b = Point()\n        \
             a.other = b; b.other = a\n",
        );
        let was_enabled = py.gc_disable();
        assert!(was_enabled);
        py.call(&py.eval("_pairs"), &[&py.int(1000)]);
        assert_eq!(py.collect(), 0, "PyGC_Collect does nothing while disabled");
        py.gc_enable();
        assert_eq!(py.collect(), 2000);
    }
}
