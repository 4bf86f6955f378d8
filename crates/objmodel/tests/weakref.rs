//! Weak references: cleared before their target is freed (by refcount or
//! by the collector), callbacks only for weak references still alive,
//! newest first, and never a dangling read.

use std::cell::RefCell;

use objmodel::{ErrorKind, Heap, Obj, TypeSpec};

thread_local! {
    static CALLED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

fn recorder<'h>(heap: &'h Heap, label: &'static str) -> Obj<'h> {
    heap.function("callback", move |h, args| {
        // The target is already cleared when the callback runs.
        assert!(args[0].weakref_get()?.is_none());
        CALLED.with(|c| c.borrow_mut().push(label.to_owned()));
        Ok(h.none())
    })
    .unwrap()
}

fn called() -> Vec<String> {
    CALLED.with(|c| c.take())
}

#[test]
fn a_weak_reference_sees_its_target_until_it_dies() {
    let heap = Heap::new();
    let c = heap.new_type("C", &[], &TypeSpec::dict()).unwrap();
    let o = c.call(&[]).unwrap();
    let w1 = o.weakref(Some(&recorder(&heap, "first"))).unwrap();
    let w2 = o.weakref(Some(&recorder(&heap, "second"))).unwrap();
    let plain = o.weakref(None).unwrap();
    assert!(w1.weakref_get().unwrap().is(&o));
    assert!(w1.repr().unwrap().starts_with("<weakref at 0x"));
    assert_eq!(o.refcount(), 1, "weak references do not count");
    drop(o);
    assert_eq!(called(), ["second", "first"], "newest first");
    assert!(w1.weakref_get().unwrap().is_none());
    assert!(w2.weakref_get().unwrap().is_none());
    assert!(plain.weakref_get().unwrap().is_none());
    assert!(w1.repr().unwrap().ends_with("; dead>"));
}

#[test]
fn a_dead_weak_reference_calls_nothing() {
    let heap = Heap::new();
    let c = heap.new_type("C", &[], &TypeSpec::dict()).unwrap();
    let o = c.call(&[]).unwrap();
    let w = o.weakref(Some(&recorder(&heap, "never"))).unwrap();
    drop(w);
    drop(o);
    assert!(called().is_empty());
}

#[test]
fn values_cannot_be_weakly_referenced() {
    let heap = Heap::new();
    let (kind, msg) = {
        let e = heap.int(1000).unwrap().weakref(None).unwrap_err();
        (e.kind, e.message)
    };
    assert_eq!(
        (kind, msg.as_str()),
        (
            ErrorKind::Type,
            "cannot create weak reference to 'int' object"
        )
    );
    for o in [
        heap.str("s").unwrap(),
        heap.list().unwrap(),
        heap.dict().unwrap(),
        heap.tuple(&[]).unwrap(),
        heap.float(1.5).unwrap(),
    ] {
        assert_eq!(o.weakref(None).unwrap_err().kind, ErrorKind::Type);
    }
    let t = heap.new_type("T", &[], &TypeSpec::dict()).unwrap();
    assert!(
        t.weakref(None).unwrap().weakref_get().unwrap().is(&t),
        "types can be"
    );
    assert_eq!(
        heap.int(1).unwrap().weakref_get().unwrap_err().kind,
        ErrorKind::Type
    );
}

#[test]
fn the_collector_clears_weak_references_to_garbage() {
    let heap = Heap::new();
    heap.gc().set_enabled(false);
    let c = heap.new_type("C", &[], &TypeSpec::dict()).unwrap();
    let outside = {
        let a = c.call(&[]).unwrap();
        let b = c.call(&[]).unwrap();
        a.setattr("other", &b).unwrap();
        b.setattr("other", &a).unwrap();
        // A weak reference inside the garbage (b holds it): its callback must not run.
        let inner = a.weakref(Some(&recorder(&heap, "inner"))).unwrap();
        b.setattr("w", &inner).unwrap();
        a.weakref(Some(&recorder(&heap, "outside"))).unwrap()
    };
    assert_eq!(
        outside
            .weakref_get()
            .unwrap()
            .getattr("other")
            .unwrap()
            .type_of()
            .repr()
            .unwrap(),
        "<class 'C'>"
    );
    assert!(heap.collect(2) >= 3);
    assert_eq!(called(), ["outside"]);
    assert!(outside.weakref_get().unwrap().is_none());
}
