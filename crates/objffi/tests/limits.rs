//! Limits through the C ABI: each works or fails with a clear status,
//! never a crash. Release builds run the full sizes (`ci/limits.sh`):
//! 1,000 levels of inheritance, a dict of 10,000,000 keys, a 1,000,000-long
//! chain (dropped, and as a garbage ring collected), 10,000 threads dropping
//! references, 100,000 heaps created and freed. Debug builds (`cargo test`)
//! run the same code at smaller sizes.

use core::ffi::CStr;
use core::ptr::{null, null_mut};

use objffi::*;

/// Full size in release builds, `debug` in debug builds.
fn size(full: usize, debug: usize) -> usize {
    if cfg!(debug_assertions) { debug } else { full }
}

#[track_caller]
fn check(s: RawStatus) {
    assert_eq!(
        s.0,
        0,
        "{}",
        // SAFETY: obj_last_error returns a NUL-terminated string.
        unsafe { CStr::from_ptr(obj_last_error()) }.to_string_lossy()
    );
}

fn live(heap: *mut obj_heap_t) -> usize {
    let mut s = obj_heap_stats_t::default();
    // SAFETY: a live heap and a writable out.
    check(unsafe { obj_heap_stats(heap, &mut s) });
    s.objects_live
}

#[test]
fn a_thousand_levels_of_inheritance() {
    let heap = obj_heap_new();
    let mut name = null_mut();
    let mut class = null_mut();
    let mut value = null_mut();
    // SAFETY: a live heap, valid C strings, writable outs; every reference
    // made here is given back below.
    unsafe {
        check(obj_intern(heap, c"inherited".as_ptr(), 9, &mut name));
        check(obj_type_new(
            heap,
            c"Level0".as_ptr(),
            null(),
            0,
            null(),
            &mut class,
        ));
        check(obj_int_new(heap, 12345, &mut value));
        check(obj_setattr(class, name, value));
        for level in 1..1000 {
            let mut sub = null_mut();
            let label = std::ffi::CString::new(format!("Level{level}")).unwrap();
            check(obj_type_new(
                heap,
                label.as_ptr(),
                &class,
                1,
                null(),
                &mut sub,
            ));
            obj_decref(class);
            class = sub;
        }
        let mut mro_len = 0;
        check(obj_type_mro(class, null_mut(), 0, &mut mro_len));
        assert_eq!(mro_len, 1001, "999 subclasses, Level0 and object");
        let mut o = null_mut();
        check(obj_alloc(class, &mut o));
        let mut found = null_mut();
        check(obj_getattr(o, name, &mut found));
        let mut v = 0;
        check(obj_int_value(found, &mut v));
        assert_eq!(v, 12345, "found 1,000 levels up");
        for p in [found, o, class, value, name] {
            obj_decref(p);
        }
        check(obj_gc_collect(heap, -1, null_mut()));
        obj_heap_free(heap);
    }
}

#[test]
fn a_dict_of_ten_million_keys() {
    let n = size(10_000_000, 100_000);
    let heap = obj_heap_new();
    let mut dict = null_mut();
    // SAFETY: a live heap, writable outs, objects of this heap; every
    // reference made here is given back.
    unsafe {
        check(obj_dict_new(heap, &mut dict));
        for i in 0..n as i64 {
            let mut k = null_mut();
            check(obj_int_new(heap, i, &mut k));
            check(obj_dict_set(dict, k, k));
            obj_decref(k);
        }
        let mut len = 0;
        check(obj_len(dict, &mut len));
        assert_eq!(len, n);
        let mut k = null_mut();
        check(obj_int_new(heap, n as i64 - 1, &mut k));
        let mut v = null_mut();
        check(obj_dict_get(dict, k, &mut v));
        obj_decref(v);
        check(obj_dict_del(dict, k));
        obj_decref(k);
        check(obj_len(dict, &mut len));
        assert_eq!(len, n - 1);
        obj_decref(dict);
        assert_eq!(live(heap), 0, "the dict and its keys are freed");
        // Past a memory limit, growing fails cleanly and changes nothing.
        check(obj_heap_set_memory_limit(heap, 4 << 20));
        check(obj_dict_new(heap, &mut dict));
        let mut status = RawStatus(0);
        let mut stored = 0;
        while status.0 == 0 {
            let mut k = null_mut();
            status = obj_int_new(heap, stored, &mut k);
            if status.0 == 0 {
                status = obj_dict_set(dict, k, k);
                obj_decref(k);
                if status.0 == 0 {
                    stored += 1;
                }
            }
        }
        assert_eq!(status.0, obj_status_t::OBJ_ERR_NO_MEMORY as i32);
        check(obj_len(dict, &mut len));
        assert_eq!(len, stored as usize, "the failed insertion changed nothing");
        obj_decref(dict);
        check(obj_heap_check(heap));
        obj_heap_free(heap);
    }
}

#[test]
fn a_million_long_chain_drops_and_collects_without_recursion() {
    let n = size(1_000_000, 100_000);
    let heap = obj_heap_new();
    let mut node = null_mut();
    let mut next = null_mut();
    // SAFETY: a live heap, valid C strings, writable outs, objects of this
    // heap; every reference made here is given back.
    unsafe {
        check(obj_type_new(
            heap,
            c"Node".as_ptr(),
            null(),
            0,
            null(),
            &mut node,
        ));
        check(obj_intern(heap, c"next".as_ptr(), 4, &mut next));
        let base = live(heap);
        for ring in [false, true] {
            let mut first = null_mut();
            check(obj_alloc(node, &mut first));
            let mut last = first;
            obj_incref(last);
            for _ in 1..n {
                let mut o = null_mut();
                check(obj_alloc(node, &mut o));
                check(obj_setattr(last, next, o));
                obj_decref(last);
                last = o;
            }
            if ring {
                check(obj_setattr(last, next, first)); // garbage only the collector frees
            }
            obj_decref(last);
            obj_decref(first); // the head: the whole chain goes, unless it is a ring
            let mut collected = 0;
            check(obj_gc_collect(heap, -1, &mut collected));
            assert_eq!(collected, if ring { n } else { 0 });
            assert_eq!(live(heap), base);
        }
        obj_decref(next);
        obj_decref(node);
        obj_heap_free(heap);
    }
}

/// An object's address, for the threads of the test below.
#[derive(Clone, Copy)]
struct Shared(*mut obj_t);

// SAFETY: the contract lets any thread incref and decref an object.
unsafe impl Send for Shared {}

#[test]
fn ten_thousand_threads_drop_references() {
    let threads = size(10_000, 500);
    let heap = obj_heap_new();
    let mut node = null_mut();
    let mut objects = Vec::new();
    // SAFETY: a live heap and a writable out.
    unsafe {
        check(obj_type_new(
            heap,
            c"Node".as_ptr(),
            null(),
            0,
            null(),
            &mut node,
        ))
    };
    let with_class = live(heap);
    // SAFETY: a live heap and writable outs.
    unsafe {
        for _ in 0..threads / 10 {
            let mut o = null_mut();
            check(obj_alloc(node, &mut o));
            for _ in 0..10 {
                obj_incref(o); // one per thread that will drop it
            }
            obj_decref(o);
            objects.push(Shared(o));
        }
    }
    assert_eq!(live(heap), with_class + threads / 10);
    // At most 200 threads at a time; every thread drops one reference,
    // the last of each object's ten on some thread.
    for batch in (0..threads).collect::<Vec<_>>().chunks(200) {
        let handles: Vec<_> = batch
            .iter()
            .map(|&i| {
                let o = objects[i / 10];
                std::thread::spawn(move || {
                    let o = o;
                    // SAFETY: each thread owns one counted reference to `o`.
                    unsafe {
                        obj_incref(o.0);
                        obj_decref(o.0);
                        obj_decref(o.0);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().expect("thread");
        }
    }
    // SAFETY: a live heap; `node` is this test's reference.
    unsafe {
        check(obj_gc_collect(heap, -1, null_mut())); // merges what the threads handed back
        assert_eq!(live(heap), with_class, "only the class is left");
        obj_decref(node);
        obj_heap_free(heap);
    }
}

#[test]
fn a_hundred_thousand_heaps_created_and_freed() {
    for i in 0..size(100_000, 2_000) {
        let heap = obj_heap_new();
        assert!(!heap.is_null());
        let mut o = null_mut();
        // SAFETY: a live heap and a writable out.
        unsafe {
            check(obj_int_new(heap, i as i64 + 1_000, &mut o));
            obj_decref(o);
            obj_heap_free(heap);
        }
    }
}
