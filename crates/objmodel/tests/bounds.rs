//! Host code cannot break the heap (issue 11): what lookups, attribute
//! layouts, payloads and classes may cost the heap, and the inputs refused.

use objmodel::{ErrorKind, Heap, Result, TypeSpec, with_heap};

/// The kind of error a call failed with.
fn kind<T>(r: Result<T>) -> ErrorKind {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.kind(),
    }
}

#[test]
#[cfg_attr(miri, ignore = "10,000 lookups")]
fn failed_lookups_intern_nothing() {
    with_heap(|heap| {
        let c = heap.new_type("C", &[], &TypeSpec::dict()).unwrap();
        let o = c.call(&[]).unwrap();
        o.setattr("x", &heap.none()).unwrap();
        let before = heap.stats();
        for i in 0..10_000 {
            let text = format!("missing_{i}");
            let name = heap.str(&text).unwrap();
            assert_eq!(kind(o.getattr(&text)), ErrorKind::Attribute);
            assert_eq!(kind(c.getattr(&text)), ErrorKind::Attribute);
            assert_eq!(kind(o.getattr_obj(&name)), ErrorKind::Attribute);
            assert_eq!(kind(c.getattr_obj(&name)), ErrorKind::Attribute);
            assert_eq!(kind(o.delattr(&text)), ErrorKind::Attribute);
            assert_eq!(kind(o.delattr_obj(&name)), ErrorKind::Attribute);
            assert_eq!(kind(c.delattr_obj(&name)), ErrorKind::Attribute);
            assert_eq!(kind(o.call_method(&text, &[])), ErrorKind::Attribute);
            assert_eq!(kind(o.call_method_obj(&name, &[])), ErrorKind::Attribute);
        }
        let after = heap.stats();
        assert_eq!(after.objects_live, before.objects_live);
        assert_eq!(after.memory.bytes_in_use, before.memory.bytes_in_use);
        assert_eq!(
            o.getattr("missing_1").unwrap_err().message(),
            "'C' object has no attribute 'missing_1'"
        );
    });
}

#[test]
fn names_that_are_not_interned_find_what_is_there() {
    with_heap(|heap| {
        let c = heap.new_type("C", &[], &TypeSpec::dict()).unwrap();
        let one = heap.int(1).unwrap();
        c.setattr("on_class", &one).unwrap();
        let o = c.call(&[]).unwrap();
        o.setattr("on_instance", &one).unwrap();
        for name in ["on_class", "on_instance"] {
            let fresh = heap.str(name).unwrap();
            assert!(o.getattr_obj(&fresh).unwrap().is(&one));
        }
        // A key the host put in the instance's dict itself, not interned.
        let d = o.getattr("__dict__").unwrap();
        let key = heap.str("put_by_host").unwrap();
        d.dict_set(&key, &one).unwrap();
        assert!(o.getattr("put_by_host").unwrap().is(&one));
        assert!(o.getattr_obj(&key).unwrap().is(&one));
        o.delattr_obj(&key).unwrap();
        assert_eq!(kind(o.getattr_obj(&key)), ErrorKind::Attribute);
    });
}

#[test]
fn getattr_hooks_get_the_name_asked_for() {
    with_heap(|heap| {
        let c = heap.new_type("C", &[], &TypeSpec::dict()).unwrap();
        let hook = heap
            .function("__getattr__", |_, args| Ok(args[1].clone()))
            .unwrap();
        c.setattr("__getattr__", &hook).unwrap();
        let o = c.call(&[]).unwrap();
        let fresh = heap.str("asked_for").unwrap();
        assert!(o.getattr_obj(&fresh).unwrap().is(&fresh));
        let before = heap.stats().objects_live;
        assert_eq!(o.getattr("other").unwrap().as_str(), Some("other"));
        assert_eq!(heap.stats().objects_live, before);
    });
}

#[test]
#[cfg_attr(miri, ignore = "15,000 attributes")]
fn many_attributes_on_one_object_stay_within_the_limit() {
    with_heap(|heap| {
        let c = heap.new_type("C", &[], &TypeSpec::dict()).unwrap();
        let o = c.call(&[]).unwrap();
        for i in 0..15_000 {
            o.setattr(&format!("a{i}"), &heap.int(i).unwrap()).unwrap();
        }
        for i in 0..15_000 {
            assert_eq!(o.getattr(&format!("a{i}")).unwrap().as_int(), Some(i));
        }
        assert!(heap.stats().memory.bytes_reserved < 32 << 20);

        // Past a limit: NoMemory, and everything set before is still there.
        let p = c.call(&[]).unwrap();
        heap.set_memory_limit(Some(heap.stats().memory.bytes_reserved + (2 << 20)));
        let mut added = 0;
        let e = loop {
            match p.setattr(&format!("b{added}"), &heap.none()) {
                Ok(()) => added += 1,
                Err(e) => break e,
            }
        };
        assert_eq!(e.kind(), ErrorKind::NoMemory);
        assert!(added > 1000);
        for i in 0..added {
            assert!(p.getattr(&format!("b{i}")).unwrap().is_none());
        }
        assert_eq!(kind(p.getattr(&format!("b{added}"))), ErrorKind::Attribute);
        heap.check().unwrap();
        drop(o);
        p.setattr(&format!("b{added}"), &heap.none()).unwrap();
    });
}

fn payload_class<'h>(heap: &'h Heap<'h>, size: usize) -> Result<objmodel::Obj<'h>> {
    let spec = TypeSpec {
        payload_size: size,
        ..TypeSpec::default()
    };
    heap.new_type("P", &[], &spec)
}

#[test]
fn payloads_no_heap_could_hold_are_refused() {
    with_heap(|heap| {
        for size in [usize::MAX, usize::MAX - 8, usize::MAX / 2 + 1] {
            assert_eq!(kind(payload_class(heap, size)), ErrorKind::Value);
        }
        heap.set_memory_limit(Some(64 << 20));
        let huge = payload_class(heap, 1 << 40).unwrap();
        assert_eq!(kind(huge.new_instance()), ErrorKind::NoMemory);
        assert_eq!(kind(huge.call(&[])), ErrorKind::NoMemory);
        assert!(heap.stats().memory.bytes_reserved <= 64 << 20);
    });
}

#[test]
#[cfg_attr(miri, ignore = "100 KB payloads")]
fn payloads_are_zero_when_their_memory_is_reused() {
    with_heap(|heap| {
        for size in [16, 200, 4000, 100_000] {
            let class = payload_class(heap, size).unwrap();
            for _ in 0..3 {
                let o = class.new_instance().unwrap();
                let p = o.payload().unwrap().as_ptr();
                // SAFETY: the payload has `size` bytes.
                let bytes = unsafe { std::slice::from_raw_parts_mut(p, size) };
                assert!(bytes.iter().all(|&b| b == 0), "payload of {size} bytes");
                bytes.fill(0xAB);
            }
        }
    });
}

#[test]
#[cfg_attr(miri, ignore = "20,000 classes")]
fn many_subclasses_come_and_go() {
    with_heap(|heap| {
        let base = heap.new_type("Base", &[], &TypeSpec::dict()).unwrap();
        heap.intern("Sub").unwrap();
        heap.intern("flag").unwrap();
        let live = heap.stats().objects_live;
        let mut subs: Vec<_> = (0..20_000)
            .map(|_| heap.new_type("Sub", &[&base], &TypeSpec::dict()).unwrap())
            .collect();
        // Every other one goes first, then the rest from the end.
        let rest: Vec<_> = subs
            .drain(..)
            .enumerate()
            .filter(|(i, _)| i % 2 == 1)
            .collect();
        base.setattr("flag", &heap.bool(true)).unwrap();
        for (_, s) in &rest {
            assert!(s.getattr("flag").unwrap().is(&heap.bool(true)));
        }
        drop(rest.into_iter().rev().collect::<Vec<_>>());
        assert_eq!(heap.stats().objects_live, live);
        // The base still reaches the subclasses it has.
        let sub = heap.new_type("Sub", &[&base], &TypeSpec::dict()).unwrap();
        assert!(sub.getattr("flag").unwrap().is(&heap.bool(true)));
        base.setattr("flag", &heap.bool(false)).unwrap();
        assert!(sub.getattr("flag").unwrap().is(&heap.bool(false)));
    });
}

/// A class `S` with `slots`, or the kind and message of its error.
fn with_slots<'h>(
    heap: &'h Heap<'h>,
    slots: &[&str],
    bases: &[&objmodel::Obj<'h>],
) -> std::result::Result<objmodel::Obj<'h>, (ErrorKind, String)> {
    let spec = TypeSpec {
        slots,
        ..TypeSpec::default()
    };
    heap.new_type("S", bases, &spec)
        .map_err(|e| (e.kind(), e.into_message()))
}

#[test]
fn slot_names_must_be_identifiers() {
    with_heap(|heap| {
        let live = heap.stats().objects_live;
        for bad in ["", "1a", "a b", "a-b", "a.b", " a", "é!", "a\0"] {
            assert_eq!(
                with_slots(heap, &["fine", bad], &[]).map(drop),
                Err((ErrorKind::Type, "__slots__ must be identifiers".to_owned())),
                "{bad:?}"
            );
        }
        assert_eq!(
            heap.stats().objects_live,
            live,
            "nothing made, nothing interned"
        );
        for good in ["_", "a1", "_x_", "été", "λ", "ℌ"] {
            assert!(with_slots(heap, &[good], &[]).is_ok(), "{good:?}");
        }
        // CPython's order: a layout conflict first, then the names, then
        // duplicate bases.
        let a = with_slots(heap, &["a"], &[]).unwrap();
        let b = with_slots(heap, &["b"], &[]).unwrap();
        assert_eq!(
            with_slots(heap, &[""], &[&a, &b]).unwrap_err().1,
            "multiple bases have instance lay-out conflict"
        );
        let plain = heap.new_type("P", &[], &TypeSpec::dict()).unwrap();
        assert_eq!(
            with_slots(heap, &[""], &[&plain, &plain]).unwrap_err().1,
            "__slots__ must be identifiers"
        );
    });
}

#[test]
#[cfg_attr(
    miri,
    ignore = "thousands of names fill an arena before the limit bites"
)]
fn the_name_table_is_inside_the_memory_limit() {
    // Interned names cost their strs and their entries in the name table,
    // both in the heap's memory: more than the same strs uninterned.
    let n = 20_000;
    let texts: Vec<String> = (0..n).map(|i| format!("name_{i}")).collect();
    let plain_bytes = with_heap(|plain_heap| {
        let base = plain_heap.stats().memory.bytes_in_use;
        let _plain: Vec<_> = texts.iter().map(|t| plain_heap.str(t).unwrap()).collect();
        plain_heap.stats().memory.bytes_in_use - base
    });
    with_heap(|heap| {
        let base = heap.stats().memory.bytes_in_use;
        for t in &texts {
            heap.intern(t).unwrap();
        }
        let interned_bytes = heap.stats().memory.bytes_in_use - base;
        assert!(
            interned_bytes >= plain_bytes + n * 8,
            "{interned_bytes} bytes interned, {plain_bytes} plain"
        );

        // Past the limit, interning fails cleanly and the heap stays usable.
        heap.set_memory_limit(Some(heap.stats().memory.bytes_reserved + (256 << 10)));
        let mut refused = None;
        for i in 0.. {
            if let Err(e) = heap.intern(&format!("more_{i}")) {
                refused = Some((i, e.kind()));
                break;
            }
        }
        let (made, kind) = refused.expect("the limit was reached");
        assert_eq!(kind, ErrorKind::NoMemory);
        assert!(made > 100, "{made} names fit");
        assert_eq!(heap.intern("name_7").unwrap().repr().unwrap(), "'name_7'");
        heap.set_memory_limit(None);
        assert!(heap.intern(&format!("more_{made}")).is_ok());
        heap.check().unwrap();
    });
}

#[test]
fn weak_references_leave_their_target_in_constant_time() {
    // Many weak references to one object, dropped from the oldest, the
    // newest and the middle: each leaves its list at once (a list linked
    // through the weak references; the old per-target Vec made this
    // quadratic). The survivors' callbacks still run newest first.
    let n: usize = if cfg!(miri) { 60 } else { 60_000 };
    with_heap(|heap| {
        let cls = heap.new_type("T", &[], &TypeSpec::dict()).unwrap();
        let target = cls.call(&[]).unwrap();
        let calls = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let log = calls.clone();
        let callback = heap
            .function("cb", move |h, args| {
                log.borrow_mut().push(args[0].as_ptr().addr());
                Ok(h.none())
            })
            .unwrap();
        let mut refs: Vec<_> = (0..n)
            .map(|_| Some(target.weakref(Some(&callback)).unwrap()))
            .collect();
        let keep = |i: usize| i % 1000 == 500;
        let order = (0..n / 3)
            .chain((2 * n / 3..n).rev())
            .chain(n / 3..2 * n / 3);
        for i in order {
            if !keep(i) {
                refs[i] = None;
            }
        }
        let newest_first: Vec<usize> = (0..n)
            .rev()
            .filter(|&i| keep(i))
            .map(|i| refs[i].as_ref().unwrap().as_ptr().addr())
            .collect();
        drop(target);
        assert_eq!(*calls.borrow(), newest_first);
        for w in refs.iter().flatten() {
            assert_eq!(w.weakref_get().unwrap().repr().unwrap(), "None");
        }
    });
}
