//! Weak references: cleared before their target is freed (by refcount or
//! by the collector), callbacks only for weak references still alive,
//! newest first, and never a dangling read.

use std::cell::RefCell;

use objmodel::{ErrorKind, Heap, Obj, TypeSpec, with_heap};

thread_local! {
    static CALLED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

fn recorder<'h>(heap: &'h Heap<'h>, label: &'static str) -> Obj<'h> {
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
    with_heap(|heap| {
        let c = heap.new_type("C", &[], &TypeSpec::dict()).unwrap();
        let o = c.call(&[]).unwrap();
        let w1 = o.weakref(Some(&recorder(heap, "first"))).unwrap();
        let w2 = o.weakref(Some(&recorder(heap, "second"))).unwrap();
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
    });
}

#[test]
fn a_dead_weak_reference_calls_nothing() {
    with_heap(|heap| {
        let c = heap.new_type("C", &[], &TypeSpec::dict()).unwrap();
        let o = c.call(&[]).unwrap();
        let w = o.weakref(Some(&recorder(heap, "never"))).unwrap();
        drop(w);
        drop(o);
        assert!(called().is_empty());
    });
}

#[test]
fn values_cannot_be_weakly_referenced() {
    with_heap(|heap| {
        let (kind, msg) = {
            let e = heap.int(1000).unwrap().weakref(None).unwrap_err();
            (e.kind(), e.into_message())
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
            assert_eq!(o.weakref(None).unwrap_err().kind(), ErrorKind::Type);
        }
        let t = heap.new_type("T", &[], &TypeSpec::dict()).unwrap();
        assert!(
            t.weakref(None).unwrap().weakref_get().unwrap().is(&t),
            "types can be"
        );
        assert_eq!(
            heap.int(1).unwrap().weakref_get().unwrap_err().kind(),
            ErrorKind::Type
        );
    });
}

#[test]
fn the_collector_clears_weak_references_to_garbage() {
    with_heap(|heap| {
        heap.gc().set_enabled(false);
        let c = heap.new_type("C", &[], &TypeSpec::dict()).unwrap();
        let outside = {
            let a = c.call(&[]).unwrap();
            let b = c.call(&[]).unwrap();
            a.setattr("other", &b).unwrap();
            b.setattr("other", &a).unwrap();
            // A weak reference inside the garbage (b holds it): its callback must not run.
            let inner = a.weakref(Some(&recorder(heap, "inner"))).unwrap();
            b.setattr("w", &inner).unwrap();
            a.weakref(Some(&recorder(heap, "outside"))).unwrap()
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
    });
}

#[test]
fn weak_references_a_finaliser_makes_to_garbage_die_with_it() {
    // The finaliser of each object of a dead 2-cycle makes a weak reference
    // to its object and keeps it on the class (outside the garbage): the
    // objects are not resurrected, so they are freed, and the weak
    // references made after the collector cleared the old ones die too.
    with_heap(|heap| {
        heap.gc().set_enabled(false);
        let c = heap.new_type("C", &[], &TypeSpec::dict()).unwrap();
        let del = heap
            .function("__del__", |h, args| {
                let me = &args[0];
                let label = me.getattr("label")?;
                me.type_of()
                    .setattr(label.as_str().unwrap(), &me.weakref(None)?)?;
                Ok(h.none())
            })
            .unwrap();
        c.setattr("__del__", &del).unwrap();
        let mut live = Vec::new();
        for _ in 0..2 {
            {
                let a = c.call(&[]).unwrap();
                let b = c.call(&[]).unwrap();
                a.setattr("label", &heap.str("a").unwrap()).unwrap();
                b.setattr("label", &heap.str("b").unwrap()).unwrap();
                a.setattr("other", &b).unwrap();
                b.setattr("other", &a).unwrap();
            }
            assert_eq!(heap.collect(2), 2);
            for label in ["a", "b"] {
                let w = c.getattr(label).unwrap();
                assert!(w.weakref_get().unwrap().is_none(), "{label} is dead");
            }
            c.delattr("a").unwrap();
            c.delattr("b").unwrap();
            live.push(heap.stats().objects_live);
        }
        // Nothing of the first round is left after the second (names interned
        // by the first are the only objects it leaves).
        assert_eq!(live[0], live[1]);
    });
}
