//! Fault injection through the C ABI: a scenario that takes every
//! allocating path of the contract (classes, slots, methods, instances,
//! ints, floats, strs, lists, dicts, tuples, bound methods, `repr`, weak
//! references, a dict-mode switch, a host function that allocates, a
//! collection) runs once for every N with the Nth heap allocation failing
//! (`obj_heap_fail_allocation`), until a run makes fewer than N
//! allocations. Every run must: fail only with `OBJ_ERR_NO_MEMORY`, exactly
//! where the failure was injected; leave the allocator consistent
//! (`obj_heap_check`); free every object and every byte once its references
//! are dropped and a collection has run; and leave the heap usable.

use core::ffi::{CStr, c_void};
use core::ptr::{null, null_mut};

use objffi::*;

fn ok(s: RawStatus) -> bool {
    s.0 == obj_status_t::OBJ_OK as i32
}

/// The heap of one run, and every reference the scenario owns.
struct Run {
    heap: *mut obj_heap_t,
    owned: Vec<*mut obj_t>,
}

impl Run {
    /// Checks a call's status: OK, or the injected failure (which ends the scenario).
    fn step(&self, what: &str, s: RawStatus) -> Result<(), String> {
        if ok(s) {
            return Ok(());
        }
        assert_eq!(
            s.0,
            obj_status_t::OBJ_ERR_NO_MEMORY as i32,
            "{what} failed with {:?}: {:?}",
            s,
            // SAFETY: obj_last_error returns a NUL-terminated string.
            unsafe { CStr::from_ptr(obj_last_error()) }
        );
        Err(what.to_string())
    }

    /// Takes ownership of a new reference written by a successful call.
    fn keep(&mut self, o: *mut obj_t) -> *mut obj_t {
        assert!(!o.is_null());
        self.owned.push(o);
        o
    }

    fn stats(&self) -> obj_heap_stats_t {
        let mut s = obj_heap_stats_t::default();
        // SAFETY: a live heap; `s` is writable.
        assert!(ok(unsafe { obj_heap_stats(self.heap, &mut s) }));
        s
    }
}

/// A host method: returns a new int (allocating, so it can fail too; its
/// status then reaches the caller unchanged).
unsafe extern "C" fn value_method(
    data: *mut c_void,
    _args: *const *mut obj_t,
    nargs: usize,
    result: *mut *mut obj_t,
) -> RawStatus {
    // SAFETY: `data` is the run's heap; `result` is writable (the contract).
    unsafe { obj_int_new(data.cast(), 5_000_000 + nargs as i64, result) }
}

/// The names the scenario uses, interned before the baseline is taken
/// (interned strings stay for the heap's life by design).
const NAMES: [&CStr; 8] = [
    c"Base", c"Child", c"value", c"a", c"b", c"x", c"name", c"me",
];

macro_rules! call {
    ($run:expr, $call:expr) => {
        // SAFETY: every pointer passed is NULL where the contract allows,
        // or a live object/heap of this run, or a writable out-parameter.
        $run.step(stringify!($call), unsafe { $call })?
    };
}

/// Makes one new object through `$call`, which writes `&mut out`.
macro_rules! new {
    ($run:expr, |$out:ident| $call:expr) => {{
        let mut $out: *mut obj_t = null_mut();
        call!($run, $call);
        $run.keep($out)
    }};
}

fn scenario(r: &mut Run) -> Result<(), String> {
    let heap = r.heap;
    let base = new!(r, |out| obj_type_new(
        heap,
        c"Base".as_ptr(),
        null(),
        0,
        null(),
        &mut out
    ));
    let method = new!(r, |out| obj_function_new(
        heap,
        c"value".as_ptr(),
        Some(value_method),
        heap.cast(),
        &mut out
    ));
    call!(r, obj_setattr_str(base, c"value".as_ptr(), method));
    let slots = [c"a".as_ptr(), c"b".as_ptr()];
    let spec = obj_type_spec_t {
        payload_size: 0,
        slots: slots.as_ptr(),
        nslots: slots.len(),
        has_dict: true,
        traverse: None,
        clear: None,
        finalize: None,
    };
    let child = new!(r, |out| obj_type_new(
        heap,
        c"Child".as_ptr(),
        &base,
        1,
        &spec,
        &mut out
    ));
    let list = new!(r, |out| obj_list_new(heap, &mut out));
    let dict = new!(r, |out| obj_dict_new(heap, &mut out));
    for i in 0..20 {
        let o = new!(r, |out| obj_alloc(child, &mut out));
        let v = new!(r, |out| obj_int_new(heap, 1_000_000 + i, &mut out));
        call!(r, obj_setattr_str(o, c"a".as_ptr(), v));
        call!(r, obj_setattr_str(o, c"x".as_ptr(), v));
        let text = "héllo wörld, a str long enough to need its own block";
        let s = new!(r, |out| obj_str_new(
            heap,
            text.as_ptr().cast(),
            text.len(),
            &mut out
        ));
        call!(r, obj_setattr_str(o, c"name".as_ptr(), s));
        new!(r, |out| obj_call_method_str(
            o,
            c"value".as_ptr(),
            null(),
            0,
            &mut out
        ));
        let bound = new!(r, |out| obj_getattr_str(o, c"value".as_ptr(), &mut out));
        new!(r, |out| obj_call(bound, &v, 1, &mut out));
        call!(r, obj_list_append(list, o));
        call!(r, obj_dict_set(dict, s, o));
        let items = [o, v];
        new!(r, |out| obj_tuple_new(
            heap,
            items.as_ptr(),
            items.len(),
            &mut out
        ));
        new!(r, |out| obj_repr(o, &mut out));
        new!(r, |out| obj_weakref_new(o, null_mut(), &mut out));
        call!(r, obj_delattr_str(o, c"x".as_ptr())); // the instance's dict materialises
        new!(r, |out| obj_float_new(heap, 1.5 + i as f64, &mut out));
    }
    // A self-cycle only the collector frees.
    let me = new!(r, |out| obj_alloc(base, &mut out));
    call!(r, obj_setattr_str(me, c"me".as_ptr(), me));
    call!(r, obj_gc_collect(heap, -1, null_mut()));
    Ok(())
}

/// Runs the scenario with the `n`th allocation failing (`None`: none);
/// returns whether the injected failure happened.
fn run_with_failure_at(n: Option<u64>) -> bool {
    let heap = obj_heap_new();
    assert!(!heap.is_null());
    let mut r = Run {
        heap,
        owned: Vec::new(),
    };
    for name in NAMES {
        let mut o = null_mut();
        let len = name.to_bytes().len();
        // SAFETY: a live heap, valid UTF-8 of `len` bytes, a writable out.
        assert!(ok(unsafe { obj_intern(heap, name.as_ptr(), len, &mut o) }));
        r.keep(o);
    }
    let baseline = r.stats();
    // SAFETY: a live heap; NULL `pending` is allowed.
    assert!(ok(unsafe {
        obj_heap_fail_allocation(heap, n.unwrap_or(0), null_mut())
    }));
    let outcome = scenario(&mut r);
    let mut pending = false;
    // SAFETY: a live heap; `pending` is writable.
    assert!(ok(unsafe {
        obj_heap_fail_allocation(heap, 0, &mut pending)
    }));
    let failed = n.is_some() && !pending;
    assert_eq!(
        outcome.is_err(),
        failed,
        "allocation {n:?}: a call failed ({outcome:?}) without the injected failure, or the \
         injected failure was swallowed"
    );
    // SAFETY: a live heap.
    let check = unsafe { obj_heap_check(heap) };
    assert!(
        ok(check),
        "allocation {n:?}: the heap is inconsistent after {outcome:?}"
    );

    for o in r.owned.drain(NAMES.len()..).rev() {
        // SAFETY: a reference this run owns, given back once.
        unsafe { obj_decref(o) };
    }
    // SAFETY: a live heap.
    assert!(ok(unsafe { obj_gc_collect(heap, -1, null_mut()) }));
    let after = r.stats();
    assert_eq!(
        (after.objects_live, after.bytes_in_use),
        (baseline.objects_live, baseline.bytes_in_use),
        "allocation {n:?}: objects or bytes leaked after {outcome:?}"
    );
    // Still usable.
    let mut list = null_mut();
    // SAFETY: a live heap and a writable out.
    assert!(ok(unsafe { obj_list_new(heap, &mut list) }));
    // SAFETY: `list` is a new reference, `None` is borrowed and immortal.
    assert!(ok(unsafe { obj_list_append(list, obj_none(heap)) }));
    // SAFETY: the reference made above, given back once.
    unsafe { obj_decref(list) };
    for o in r.owned.drain(..) {
        // SAFETY: the interned names' references.
        unsafe { obj_decref(o) };
    }
    // SAFETY: the heap made above, freed once.
    unsafe { obj_heap_free(heap) };
    failed
}

#[test]
fn every_allocation_of_the_scenario_can_fail_cleanly() {
    assert!(!run_with_failure_at(None), "the scenario runs clean");
    let mut n = 1;
    while run_with_failure_at(Some(n)) {
        n += 1;
    }
    println!(
        "fault injection: {} allocations failed one at a time",
        n - 1
    );
    assert!(n > 200, "the scenario allocates ({} times)", n - 1);
}
