//! Wall time of the operations of `ci/callgrind-ops.sh` (issue 12's
//! budgets) as a C host pays them: objrt through its C ABI (objffi's
//! exports, called from Rust exactly as C calls them) beside CPython 3.11
//! through its C API, in the same process and run.
//!
//! Groups are `c_abi/<operation>` with the functions `cpython` and `objrt`
//! (and `objrt_cached`, through an `obj_attr_cache_t`, where the operation
//! has a cached form). Each timed iteration runs [`BATCH`] operations and
//! declares `Throughput::Elements`, so criterion's figures are per
//! operation; results are dropped (decref) inside the loop, as a host would.
//!
//! - `alloc_free`: `tp_alloc` of `Slots2` + `Py_DECREF`, against
//!   `obj_alloc` + `obj_decref` of its twin;
//! - `getattr_instance`, `getattr_class`, `getattr_5_up`, `getattr_method`,
//!   `getattr_slot`: `PyObject_GetAttr` against `obj_getattr` (interned
//!   names on both sides);
//! - `setattr_instance`: `PyObject_SetAttr` against `obj_setattr` of an
//!   existing attribute;
//! - `call_method`: `PyObject_VectorcallMethod` of `get_x` against
//!   `obj_call_method` (CPython runs its bytecode `get_x`; objrt a C host
//!   function doing `obj_getattr`: the instruction benchmark, which gives
//!   both sides C functions, is the fair one for this row);
//! - `incref_decref`: CPython's inline macros against the two exports.
//!
//! Run with `cargo bench -p bench --bench c_abi` (about 2 minutes), or
//! `-- --quick` for a smoke run.

use std::hint::black_box;
use std::ptr::null_mut;
use std::time::Duration;

use bench::c_abi::{CObjects, check};
use bench::cpython::{PyRef, Python};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use objffi::{
    obj_attr_cache_t, obj_call_method, obj_call_method_cached, obj_decref, obj_getattr,
    obj_getattr_cached, obj_incref, obj_setattr, obj_setattr_cached, obj_t,
};

/// Operations per timed iteration.
const BATCH: usize = 1000;

/// A fresh call-site cache (`OBJ_ATTR_CACHE_INIT`).
fn new_cache() -> obj_attr_cache_t {
    obj_attr_cache_t { opaque: [0; 4] }
}

/// Times `BATCH` runs of `cpython`, then of `objrt` (and `objrt_cached`).
fn group(
    c: &mut Criterion,
    operation: &str,
    cpython: impl Fn(),
    objrt: impl Fn(),
    objrt_cached: Option<&mut dyn FnMut()>,
) {
    let mut group = c.benchmark_group(format!("c_abi/{operation}"));
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("cpython", |b| b.iter(|| (0..BATCH).for_each(|_| cpython())));
    group.bench_function("objrt", |b| b.iter(|| (0..BATCH).for_each(|_| objrt())));
    if let Some(cached) = objrt_cached {
        group.bench_function("objrt_cached", |b| {
            b.iter(|| (0..BATCH).for_each(|_| cached()))
        });
    }
    group.finish();
}

/// `obj_getattr(o, name)` (checked), the result dropped.
fn getattr(o: *mut obj_t, name: *mut obj_t) {
    let mut out = null_mut();
    // SAFETY: live objects of one heap, a writable out.
    check(
        unsafe { obj_getattr(black_box(o), black_box(name), &mut out) },
        "obj_getattr",
    );
    // SAFETY: the new reference just received.
    unsafe { obj_decref(black_box(out)) };
}

/// `obj_getattr_cached(o, name)` through `cache` (checked), the result dropped.
fn getattr_cached(o: *mut obj_t, name: *mut obj_t, cache: &mut obj_attr_cache_t) {
    let mut out = null_mut();
    // SAFETY: live objects of one heap, a cache of this thread, a writable out.
    let status = unsafe { obj_getattr_cached(black_box(o), black_box(name), cache, &mut out) };
    check(status, "obj_getattr_cached");
    // SAFETY: the new reference just received.
    unsafe { obj_decref(black_box(out)) };
}

fn getattrs(c: &mut Criterion, py: Python, ours: &CObjects) {
    let obj = py.call0(&py.eval("Obj"));
    let leaf = py.call0(&py.eval("Level5"));
    let slots = py.call0(&py.eval("Slots2"));
    let rows: [(&str, &PyRef, &str, *mut obj_t, *mut obj_t); 5] = [
        ("getattr_instance", &obj, "x", ours.obj, ours.x),
        ("getattr_class", &obj, "kind", ours.obj, ours.kind),
        ("getattr_5_up", &leaf, "deep", ours.leaf, ours.deep),
        ("getattr_method", &obj, "get_x", ours.obj, ours.get_x),
        ("getattr_slot", &slots, "x", ours.slots, ours.x),
    ];
    for (operation, target, name, o, our_name) in rows {
        let name = py.intern(name);
        let mut cache = new_cache();
        group(
            c,
            operation,
            || drop(black_box(py.getattr(black_box(target), black_box(&name)))),
            || getattr(o, our_name),
            Some(&mut || getattr_cached(o, our_name, &mut cache)),
        );
    }
}

fn setattr(c: &mut Criterion, py: Python, ours: &CObjects) {
    let obj = py.call0(&py.eval("Obj"));
    let (x, value) = (py.intern("x"), py.int(12345));
    let mut cache = new_cache();
    group(
        c,
        "setattr_instance",
        || py.setattr(black_box(&obj), black_box(&x), black_box(&value)),
        || {
            // SAFETY: live objects of one heap.
            let status = unsafe { obj_setattr(black_box(ours.obj), ours.x, ours.value) };
            check(status, "obj_setattr");
        },
        Some(&mut || {
            // SAFETY: live objects of one heap, a cache of this thread.
            let status =
                unsafe { obj_setattr_cached(black_box(ours.obj), ours.x, ours.value, &mut cache) };
            check(status, "obj_setattr_cached");
        }),
    );
}

fn call_method(c: &mut Criterion, py: Python, ours: &CObjects) {
    let obj = py.call0(&py.eval("Obj"));
    let get_x = py.intern("get_x");
    let mut cache = new_cache();
    let call = |cache: Option<&mut obj_attr_cache_t>| {
        let mut out = null_mut();
        let o = black_box(ours.obj);
        // SAFETY: live objects of one heap, no arguments, a cache of this
        // thread, a writable out.
        let status = unsafe {
            match cache {
                None => obj_call_method(o, ours.get_x, null_mut(), 0, &mut out),
                Some(cache) => {
                    obj_call_method_cached(o, ours.get_x, null_mut(), 0, cache, &mut out)
                }
            }
        };
        check(status, "obj_call_method");
        // SAFETY: the new reference just received.
        unsafe { obj_decref(black_box(out)) };
    };
    group(
        c,
        "call_method",
        || {
            drop(black_box(
                py.call_method0(black_box(&obj), black_box(&get_x)),
            ))
        },
        || call(None),
        Some(&mut || call(Some(&mut cache))),
    );
}

fn alloc_and_count(c: &mut Criterion, py: Python, ours: &CObjects) {
    let alloc = py.tp_alloc(&py.eval("Slots2"));
    group(
        c,
        "alloc_free",
        || drop(black_box(alloc.alloc())),
        // SAFETY: the new reference obj_alloc gave.
        || unsafe { obj_decref(black_box(ours.alloc_slots())) },
        None,
    );
    let obj = py.call0(&py.eval("Obj"));
    group(
        c,
        "incref_decref",
        // `clone` is Py_INCREF, `drop` Py_DECREF (never the last one).
        || drop(black_box(black_box(&obj).clone())),
        || {
            let o = black_box(ours.obj);
            // SAFETY: a live object; the decref gives back the incref's count.
            unsafe {
                obj_incref(o);
                obj_decref(black_box(o));
            }
        },
        None,
    );
}

fn c_abi(c: &mut Criterion) {
    let py = Python::with_bench_classes();
    let ours = CObjects::new();
    getattrs(c, py, &ours);
    setattr(c, py, &ours);
    call_method(c, py, &ours);
    alloc_and_count(c, py, &ours);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = c_abi
}
criterion_main!(benches);
