//! Host code that panics through the Rust API (issue 14: unwind safety):
//! the heap's flags (nesting depth, deallocating, collecting, inside a
//! traverse hook) are scope guards, so after the panic is caught the heap
//! works as before: calls nest to the same depth, dropped objects are
//! freed, collections run and find garbage, and the allocator checks out.
//! What the interrupted operation held may leak (kept alive); nothing is
//! freed twice or used after being freed.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr::NonNull;
use std::sync::Once;

use objmodel::{Obj, PayloadHooks, TypeSpec, with_heap};

/// Asserts that `f` panics, without printing the panics these tests
/// provoke (their messages end in " fails"); any other panic prints.
fn panics(f: impl FnOnce()) {
    static QUIET: Once = Once::new();
    QUIET.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let message = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str));
            if !message.is_some_and(|m| m.ends_with(" fails")) {
                default(info);
            }
        }));
    });
    assert!(
        catch_unwind(AssertUnwindSafe(f)).is_err(),
        "the host code panicked"
    );
}

/// Two instances of `class` pointing at each other, dropped.
fn garbage_pair(class: &Obj<'_>) {
    let (a, b) = (class.call(&[]).unwrap(), class.call(&[]).unwrap());
    a.setattr("other", &b).unwrap();
    b.setattr("other", &a).unwrap();
}

#[test]
fn a_panicking_host_function_leaves_the_nesting_depth_as_it_was() {
    with_heap(|heap| {
        let boom = heap
            .function("boom", |_, _| panic!("a host function fails"))
            .unwrap();
        for _ in 0..1100 {
            panics(|| drop(boom.call(&[])));
        }
        // 1,100 unwound calls would be past the 1,000-level limit if their
        // levels had stayed counted.
        let fine = heap.function("fine", |h, _| Ok(h.none())).unwrap();
        assert!(fine.call(&[]).unwrap().is_none());
        heap.check().unwrap();
    });
}

#[test]
fn a_panicking_finaliser_leaves_deallocation_working() {
    with_heap(|heap| {
        heap.gc().set_enabled(false);
        let class = heap.new_type("Fragile", &[], &TypeSpec::dict()).unwrap();
        let del = heap
            .function("__del__", |_, _| panic!("a finaliser fails"))
            .unwrap();
        class.setattr("__del__", &del).unwrap();
        let plain = heap.new_type("Plain", &[], &TypeSpec::dict()).unwrap();
        let before = heap.stats().objects_live;
        panics(|| drop(class.call(&[]).unwrap()));
        class.delattr("__del__").unwrap();
        // Deallocation is not stuck "in progress": what is dropped now is freed.
        let live = heap.stats().objects_live;
        for _ in 0..100 {
            drop(plain.call(&[]).unwrap());
        }
        assert_eq!(heap.stats().objects_live, live);
        assert!(
            live <= before + 2,
            "at most the interrupted instance leaked"
        );
        heap.check().unwrap();
    });
}

/// Reports its payload's object, or panics while `PANIC` is set.
struct Holder;

thread_local! {
    static PANIC: Cell<bool> = const { Cell::new(false) };
}

impl PayloadHooks for Holder {
    fn traverse(&self, _payload: NonNull<u8>, _visit: &mut dyn FnMut(&Obj<'_>)) {
        assert!(!PANIC.get(), "a traverse hook fails");
    }
}

#[test]
fn a_panicking_traverse_hook_leaves_collection_working() {
    with_heap(|heap| {
        heap.gc().set_enabled(false);
        let spec = TypeSpec {
            payload_size: 8,
            has_dict: true,
            ..TypeSpec::default()
        };
        let holder = heap
            .new_type_with_hooks("Holder", &[], &spec, Some(Box::new(Holder)))
            .unwrap();
        let node = heap.new_type("Node", &[], &TypeSpec::dict()).unwrap();
        let _kept = holder.call(&[]).unwrap();
        for _ in 0..10 {
            garbage_pair(&node);
        }
        PANIC.set(true);
        panics(|| {
            heap.collect(2);
        });
        PANIC.set(false);
        assert!(
            !objmodel::abi::in_traverse_hook(heap),
            "the hook's flag was reset"
        );
        // The collection is not stuck "running": this one finds the pairs.
        assert_eq!(heap.collect(2), 20);
        heap.check().unwrap();
    });
}
