//! Object-model benchmarks: objrt (`objmodel`) side by side with CPython
//! 3.11 through its C API, in the same process and run.
//!
//! Every workload is a criterion group named after the operation, with one
//! function per implementation: `cpython` here, `objrt` beside it, so the ids
//! read `<group>/cpython` and `<group>/objrt`. Micro-benchmarks time batches
//! of [`BATCH`] operations and declare `Throughput::Elements`, so criterion's
//! per-element figures are per operation; the collector workloads declare the
//! number of objects in the graph.
//!
//! - `instance_alloc_free/dict`, `/slots`: call a class whose `__init__`
//!   sets two attributes (instance dict, resp. `__slots__`), drop the
//!   instance.
//! - `instance_alloc_free/tp_alloc`: the class's `tp_alloc` slot (read from
//!   its `PyTypeObject`), no `__init__`, then drop: the bare allocation and
//!   deallocation of a `__slots__ = ('x', 'y')` instance.
//! - `getattr/instance_attr`, `/class_attr`, `/inherited_5_levels`,
//!   `/method_bound`: `PyObject_GetAttr` with an interned name on an
//!   instance: an attribute in its dict, one on its class, one on the class 5
//!   levels up a single-inheritance chain, and a method (which makes a bound
//!   method object, dropped at once). CPython's per-type attribute cache makes
//!   the class lookups independent of the depth.
//! - `setattr/instance_attr`: `PyObject_SetAttr` of an existing attribute.
//! - `call_method/no_args`: `PyObject_VectorcallMethod` with an interned
//!   name (no bound method); the method returns `self.x`.
//! - `refcount/incref_decref`: `Py_INCREF` + `Py_DECREF` of a live object;
//!   also a plain (non-atomic) counter, the floor a biased count aims at
//!   (goal: objrt within 1.5x of it), and an atomic one (Arc's scheme).
//! - `refcount/two_threads` (no CPython: its counts need the GIL): two
//!   threads count one object, objrt's owner and a foreign thread against
//!   an atomic count both threads share.
//! - `gc/collect_1m_2cycles`: `PyGC_Collect` after dropping 1,000,000
//!   instances in 500,000 two-object cycles (built untimed, collector off).
//! - `gc/collect_1m_reachable`: `PyGC_Collect` with 1,000,000 instances in
//!   500,000 two-object cycles that a list keeps reachable.
//! - `gc/tree_parent_build_drop`: build a complete binary tree of depth 16
//!   (131,071 `__slots__` nodes with `left`, `right`, `parent`) through the C
//!   API, drop the root, and collect the cycles (`PyGC_Collect`), all timed.
//!   The automatic collector runs during the build, as it would in CPython.
//! - `gc/cycle_churn`: per step, make a 2-cycle through the C API and drop
//!   the one made 500 steps before, next to 20,000 long-lived instances,
//!   with automatic collection on (CPython's thresholds in both).
//!
//! Before the benchmarks it prints CPython's bytes per instance of the two
//! classes of `instance_alloc_free` (tracemalloc, [`MEMORY_INSTANCES`] alive
//! at once) and objrt's, the worst ratio of live to reachable objects
//! during the churn of `gc/cycle_churn` (200,000 steps, sampled every
//! 1,000), and how many objects CPython's collector tracks besides the
//! benchmark's (every full collection traverses them too).
//!
//! - `getattr/inline_cache` (objrt only): the instance attribute of
//!   `getattr/instance_attr` through a call site's `AttrCache`, the path an
//!   interpreter built on objrt would take; compare it with the CPython row
//!   of `getattr/instance_attr`.
//!
//! Run with `cargo bench -p bench --bench object_model` (about 3 minutes), or
//! `-- --quick` for a smoke run.

use std::cell::Cell;
use std::hint::black_box;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bench::cpython::{PyRef, Python};
use bench::objrt::{Classes, GcClasses};
use criterion::{BatchSize, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use objmodel::{Obj, with_heap};

/// Operations per timed iteration of the micro-benchmarks.
const BATCH: usize = 1000;
/// Operations per thread and timed iteration of `refcount/two_threads`
/// (large enough to hide the cost of starting the second thread).
const TWO_THREAD_BATCH: usize = 100_000;
/// Objects in the graphs of `gc/collect_1m_*`.
const GC_OBJECTS: usize = 1_000_000;
/// Depth of the tree of `gc/tree_parent_build_drop` (2^(depth+1) - 1 nodes).
const TREE_DEPTH: u32 = 16;
/// The cycle churn of `memory` and `gc/cycle_churn`: steps (one new
/// 2-cycle each), the newest cycles kept reachable, long-lived objects, and
/// (for `memory`) the steps between samples of live memory.
const CHURN: (usize, usize, usize, usize) = (200_000, 500, 20_000, 1_000);
/// Instances alive at once when measuring bytes per instance.
const MEMORY_INSTANCES: usize = 1_000_000;

/// The interpreter with the benchmark classes defined.
fn python() -> Python {
    Python::with_bench_classes()
}

/// Prints CPython's memory per instance and its baseline of tracked objects.
fn memory(_c: &mut Criterion) {
    let py = python();
    for class in ["Dict2", "Slots2"] {
        let bytes = py.bytes_per_instance(&py.eval(class), MEMORY_INSTANCES);
        println!(
            "cpython bytes/instance {class}: {:.1} requested, {:.1} in 16-byte size classes \
             ({MEMORY_INSTANCES} alive)",
            bytes.requested, bytes.in_blocks
        );
    }
    with_heap(|heap| {
        let classes = Classes::new(heap).expect("classes");
        for (name, class) in [("Dict2", &classes.dict2), ("Slots2", &classes.slots2)] {
            let before = heap.stats().memory.bytes_in_use;
            let alive: Vec<Obj> = (0..MEMORY_INSTANCES)
                .map(|_| class.call(&[]).expect("instance"))
                .collect();
            let bytes = (heap.stats().memory.bytes_in_use - before) as f64 / alive.len() as f64;
            println!(
                "objrt bytes/instance {name}: {bytes:.1} in blocks ({MEMORY_INSTANCES} alive)"
            );
        }
        drop(classes);
        let ours = GcClasses::new(heap).expect("classes");
        let (steps, ring, long_lived, every) = CHURN;
        let peak = ours
            .churn_peak(steps, ring, long_lived, every)
            .expect("churn");
        let args = [steps, ring, long_lived, every].map(|n| py.int(n as i64));
        let theirs = py.call(&py.eval("churn_peak"), &args.each_ref());
        let theirs = py.int_value(&theirs) as f64 / 1000.0;
        println!(
            "cycle churn ({steps} 2-cycles, the {ring} newest reachable, {long_lived} long-lived \
             objects, sampled every {every}): live objects peaked at {peak:.3}x the reachable \
             (objrt), {theirs:.3}x (cpython, objects its collector tracks)"
        );
        let tracked = py.int_value(&py.call0(&py.eval("tracked_objects")));
        println!("cpython objects tracked by the collector before the gc benchmarks: {tracked}");
    });
}

fn instance_alloc_free(c: &mut Criterion) {
    let py = python();
    with_heap(|heap| {
        let classes = Classes::new(heap).expect("classes");
        for (workload, class, ours) in [
            ("dict", "Dict2", &classes.dict2),
            ("slots", "Slots2", &classes.slots2),
        ] {
            let class = py.eval(class);
            let mut group = c.benchmark_group(format!("instance_alloc_free/{workload}"));
            group.throughput(Throughput::Elements(BATCH as u64));
            group.bench_function("cpython", |b| {
                b.iter(|| {
                    for _ in 0..BATCH {
                        drop(black_box(py.call0(black_box(&class))));
                    }
                })
            });
            group.bench_function("objrt", |b| {
                b.iter(|| {
                    for _ in 0..BATCH {
                        drop(black_box(black_box(ours).call(&[]).expect("instance")));
                    }
                })
            });
            group.finish();
        }

        let alloc = py.tp_alloc(&py.eval("Slots2"));
        let mut group = c.benchmark_group("instance_alloc_free/tp_alloc");
        group.throughput(Throughput::Elements(BATCH as u64));
        group.bench_function("cpython", |b| {
            b.iter(|| {
                for _ in 0..BATCH {
                    drop(black_box(alloc.alloc()));
                }
            })
        });
        group.bench_function("objrt", |b| {
            b.iter(|| {
                for _ in 0..BATCH {
                    drop(black_box(classes.slots2.new_instance().expect("instance")));
                }
            })
        });
        group.finish();
    });
}

/// Times `BATCH` getattrs of `name` on `obj` in CPython and of the same
/// name on `ours` in objrt (the results are dropped).
fn bench_getattr<'h>(
    c: &mut Criterion,
    py: Python,
    workload: &str,
    (obj, name): (&PyRef, &PyRef),
    (ours, our_name): (&Obj<'h>, &Obj<'h>),
) {
    let mut group = c.benchmark_group(workload);
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("cpython", |b| {
        b.iter(|| {
            for _ in 0..BATCH {
                drop(black_box(py.getattr(black_box(obj), black_box(name))));
            }
        })
    });
    group.bench_function("objrt", |b| {
        b.iter(|| {
            for _ in 0..BATCH {
                drop(black_box(
                    black_box(ours)
                        .getattr_obj(black_box(our_name))
                        .expect("attribute"),
                ));
            }
        })
    });
    group.finish();
}

fn getattr(c: &mut Criterion) {
    let py = python();
    let obj = py.call0(&py.eval("Obj"));
    let leaf = py.call0(&py.eval("Level5"));
    with_heap(|heap| {
        let classes = Classes::new(heap).expect("classes");
        let ours = classes.obj.call(&[]).expect("instance");
        let our_leaf = classes.level5.call(&[]).expect("instance");
        let name = |s: &str| heap.intern(s).expect("name");
        bench_getattr(
            c,
            py,
            "getattr/instance_attr",
            (&obj, &py.intern("x")),
            (&ours, &name("x")),
        );
        bench_getattr(
            c,
            py,
            "getattr/class_attr",
            (&obj, &py.intern("kind")),
            (&ours, &name("kind")),
        );
        bench_getattr(
            c,
            py,
            "getattr/inherited_5_levels",
            (&leaf, &py.intern("deep")),
            (&our_leaf, &name("deep")),
        );
        bench_getattr(
            c,
            py,
            "getattr/method_bound",
            (&obj, &py.intern("get_x")),
            (&ours, &name("get_x")),
        );

        let mut group = c.benchmark_group("getattr/inline_cache");
        group.throughput(Throughput::Elements(BATCH as u64));
        let cache = heap.attr_cache("x").expect("cache");
        group.bench_function("objrt", |b| {
            b.iter(|| {
                for _ in 0..BATCH {
                    drop(black_box(
                        black_box(&ours).getattr_cached(&cache).expect("attribute"),
                    ));
                }
            })
        });
        group.finish();
    });
}

fn setattr(c: &mut Criterion) {
    let py = python();
    let obj = py.call0(&py.eval("Obj"));
    let x = py.intern("x");
    let value = py.int(12345);
    let mut group = c.benchmark_group("setattr/instance_attr");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("cpython", |b| {
        b.iter(|| {
            for _ in 0..BATCH {
                py.setattr(black_box(&obj), black_box(&x), black_box(&value));
            }
        })
    });
    with_heap(|heap| {
        let classes = Classes::new(heap).expect("classes");
        let ours = classes.obj.call(&[]).expect("instance");
        let our_x = heap.intern("x").expect("name");
        let our_value = heap.int(12345).expect("int");
        group.bench_function("objrt", |b| {
            b.iter(|| {
                for _ in 0..BATCH {
                    black_box(&ours)
                        .setattr_obj(black_box(&our_x), black_box(&our_value))
                        .expect("setattr");
                }
            })
        });
        group.finish();
    });
}

fn call_method(c: &mut Criterion) {
    let py = python();
    let obj = py.call0(&py.eval("Obj"));
    let get_x = py.intern("get_x");
    let mut group = c.benchmark_group("call_method/no_args");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("cpython", |b| {
        b.iter(|| {
            for _ in 0..BATCH {
                drop(black_box(
                    py.call_method0(black_box(&obj), black_box(&get_x)),
                ));
            }
        })
    });
    with_heap(|heap| {
        let classes = Classes::new(heap).expect("classes");
        let ours = classes.obj.call(&[]).expect("instance");
        let our_get_x = heap.intern("get_x").expect("name");
        group.bench_function("objrt", |b| {
            b.iter(|| {
                for _ in 0..BATCH {
                    drop(black_box(
                        black_box(&ours)
                            .call_method_obj(black_box(&our_get_x), &[])
                            .expect("call"),
                    ));
                }
            })
        });
        group.finish();
    });
}

fn refcount(c: &mut Criterion) {
    let py = python();
    with_heap(|heap| {
        let obj = py.call0(&py.eval("Obj"));
        let mut group = c.benchmark_group("refcount/incref_decref");
        group.throughput(Throughput::Elements(BATCH as u64));
        group.bench_function("cpython", |b| {
            b.iter(|| {
                for _ in 0..BATCH {
                    // `clone` is Py_INCREF, `drop` Py_DECREF (never the last one).
                    drop(black_box(black_box(&obj).clone()));
                }
            })
        });
        let classes = Classes::new(heap).expect("classes");
        let ours = classes.obj.call(&[]).expect("instance");
        group.bench_function("objrt", |b| {
            b.iter(|| {
                for _ in 0..BATCH {
                    drop(black_box(black_box(&ours).clone()));
                }
            })
        });
        // The floor a biased count is held to: a plain (non-atomic) counter
        // behind the same `black_box`es.
        let plain = Cell::new(1_usize);
        group.bench_function("plain_increment", |b| {
            b.iter(|| {
                for _ in 0..BATCH {
                    let c = black_box(&plain);
                    c.set(c.get() + 1);
                    let c = black_box(c);
                    c.set(c.get() - 1);
                }
            })
        });
        // What an atomic count (Arc's) costs on one thread.
        let atomic = AtomicUsize::new(1);
        group.bench_function("atomic_increment", |b| {
            b.iter(|| {
                for _ in 0..BATCH {
                    black_box(&atomic).fetch_add(1, Ordering::Relaxed);
                    black_box(&atomic).fetch_sub(1, Ordering::Release);
                }
            })
        });
        group.finish();

        // Two threads counting the same object: for objrt the owner (this
        // thread, no atomics) and another thread (the shared atomic word); the
        // peer is an atomic count both threads share (Arc's scheme). CPython 3.11
        // is not a peer here: its counts need the GIL, which serialises threads.
        let mut group = c.benchmark_group("refcount/two_threads");
        group.throughput(Throughput::Elements(2 * TWO_THREAD_BATCH as u64));
        let shared = SendPtr(ours.as_ptr().cast_mut());
        group.bench_function("objrt", |b| {
            b.iter_custom(|iters| {
                let n = iters as usize * TWO_THREAD_BATCH;
                let start = Instant::now();
                std::thread::scope(|s| {
                    s.spawn(|| {
                        let p = NonNull::new(black_box(&shared).0).expect("object");
                        for _ in 0..n {
                            // SAFETY: `ours` keeps the object alive throughout;
                            // each decref gives back the count just taken.
                            unsafe {
                                objmodel::abi::incref(p);
                                objmodel::abi::decref(p);
                            }
                        }
                    });
                    for _ in 0..n {
                        drop(black_box(black_box(&ours).clone()));
                    }
                });
                start.elapsed()
            })
        });
        group.bench_function("atomic_shared", |b| {
            b.iter_custom(|iters| {
                let n = iters as usize * TWO_THREAD_BATCH;
                let start = Instant::now();
                std::thread::scope(|s| {
                    let count = || {
                        for _ in 0..n {
                            black_box(&atomic).fetch_add(1, Ordering::Relaxed);
                            black_box(&atomic).fetch_sub(1, Ordering::Release);
                        }
                    };
                    s.spawn(count);
                    count();
                });
                start.elapsed()
            })
        });
        group.finish();
    });
}

/// An object's address, handed to the other thread of `refcount/two_threads`.
struct SendPtr(*mut u8);

// SAFETY: objrt's counts may change on any thread (objgc's biased counts);
// the benchmark only counts through this pointer.
unsafe impl Send for SendPtr {}
// SAFETY: as above: shared only to count.
unsafe impl Sync for SendPtr {}

/// Builds a complete binary tree with parent pointers through the C API;
/// returns its root. Recursion depth is the tree's depth (16).
fn build_tree(py: Python, class: &PyRef, names: &TreeNames, depth: u32) -> PyRef {
    let node = py.call0(class);
    if depth > 0 {
        for side in [&names.left, &names.right] {
            let child = build_tree(py, class, names, depth - 1);
            py.setattr(&child, &names.parent, &node);
            py.setattr(&node, side, &child);
        }
    }
    node
}

/// Interned attribute names of `TreeNode`.
struct TreeNames {
    left: PyRef,
    right: PyRef,
    parent: PyRef,
}

fn gc(c: &mut Criterion) {
    let py = python();
    with_heap(|heap| {
        let mut group = c.benchmark_group("gc/collect_1m_2cycles");
        group.sample_size(10).sampling_mode(SamplingMode::Flat);
        group
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(5));
        group.throughput(Throughput::Elements(GC_OBJECTS as u64));
        let make_garbage = py.eval("make_garbage_pairs");
        let pairs = py.int((GC_OBJECTS / 2) as i64);
        // Untimed: 1M instances in 2-cycles, unreachable, all still in the
        // youngest generation (the collector is off while they are made).
        let make = || {
            py.collect();
            py.gc_disable();
            drop(py.call(&make_garbage, &[&pairs]));
            py.gc_enable();
        };
        make();
        let found = py.collect();
        assert!(
            found >= GC_OBJECTS as isize,
            "a full collection found only {found} objects"
        );
        group.bench_function("cpython", |b| {
            b.iter_batched(make, |()| black_box(py.collect()), BatchSize::PerIteration)
        });
        let ours = GcClasses::new(heap).expect("classes");
        heap.gc().set_enabled(false);
        let make_ours = || ours.pairs(GC_OBJECTS / 2, None).expect("pairs");
        make_ours();
        assert_eq!(heap.collect(2), GC_OBJECTS, "objrt finds every object");
        group.bench_function("objrt", |b| {
            b.iter_batched(
                make_ours,
                |()| black_box(heap.collect(2)),
                BatchSize::PerIteration,
            )
        });
        group.finish();

        let mut group = c.benchmark_group("gc/collect_1m_reachable");
        group.sample_size(10).sampling_mode(SamplingMode::Flat);
        group
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(3));
        group.throughput(Throughput::Elements(GC_OBJECTS as u64));
        let live = py.call(&py.eval("make_live_pairs"), &[&pairs]);
        py.collect();
        group.bench_function("cpython", |b| b.iter(|| black_box(py.collect())));
        let keep = heap.list().expect("list");
        ours.pairs(GC_OBJECTS / 2, Some(&keep)).expect("pairs");
        group.bench_function("objrt", |b| b.iter(|| black_box(heap.collect(2))));
        group.finish();
        drop(live);
        py.collect();
        drop(keep);
        heap.collect(2);

        let mut group = c.benchmark_group("gc/tree_parent_build_drop");
        group.sample_size(10).sampling_mode(SamplingMode::Flat);
        group
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(3));
        let nodes = (1u64 << (TREE_DEPTH + 1)) - 1;
        group.throughput(Throughput::Elements(nodes));
        let class = py.eval("TreeNode");
        let names = TreeNames {
            left: py.intern("left"),
            right: py.intern("right"),
            parent: py.intern("parent"),
        };
        drop(build_tree(py, &class, &names, TREE_DEPTH));
        let found = py.collect();
        assert_eq!(
            found, nodes as isize,
            "the dropped tree is collected in full"
        );
        group.bench_function("cpython", |b| {
            b.iter(|| {
                drop(black_box(build_tree(py, &class, &names, TREE_DEPTH)));
                black_box(py.collect())
            })
        });
        heap.gc().set_enabled(true);
        drop(ours.tree(TREE_DEPTH).expect("tree"));
        assert_eq!(
            heap.collect(2),
            nodes as usize,
            "objrt collects the dropped tree in full"
        );
        group.bench_function("objrt", |b| {
            b.iter(|| {
                drop(black_box(ours.tree(TREE_DEPTH).expect("tree")));
                black_box(heap.collect(2))
            })
        });
        group.finish();

        // Steady churn with automatic collection: each step makes a 2-cycle and
        // drops the one made `ring` steps before, next to long-lived objects
        // (the churn whose memory `memory` samples).
        let (_, ring, long_lived, _) = CHURN;
        let mut group = c.benchmark_group("gc/cycle_churn");
        group.throughput(Throughput::Elements(BATCH as u64));
        let node = py.eval("Node");
        let other = py.intern("other");
        let kept: Vec<PyRef> = (0..long_lived).map(|_| py.call0(&node)).collect();
        let mut newest: Vec<Option<PyRef>> = (0..ring).map(|_| None).collect();
        let mut step = 0;
        group.bench_function("cpython", |b| {
            b.iter(|| {
                for _ in 0..BATCH {
                    let a = py.call0(&node);
                    let b = py.call0(&node);
                    py.setattr(&a, &other, &b);
                    py.setattr(&b, &other, &a);
                    newest[step % ring] = Some(a);
                    step += 1;
                }
            })
        });
        drop((kept, newest));
        py.collect();
        let kept: Vec<Obj> = (0..long_lived)
            .map(|_| ours.node.new_instance().expect("instance"))
            .collect();
        let mut newest: Vec<Option<Obj>> = (0..ring).map(|_| None).collect();
        group.bench_function("objrt", |b| {
            b.iter(|| {
                for _ in 0..BATCH {
                    newest[step % ring] = Some(ours.cycle().expect("cycle"));
                    step += 1;
                }
            })
        });
        group.finish();
        drop((kept, newest));
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = memory, instance_alloc_free, getattr, setattr, call_method, refcount, gc
}
criterion_main!(benches);
