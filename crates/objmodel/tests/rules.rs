//! The rules of the object model, one test per rule: values, dict keys and
//! order, types and their MROs, the attribute lookup order, methods, calls,
//! finalisers and deallocation. Expected messages are CPython 3.11's.

use objmodel::{ErrorKind, Heap, Obj, Result, TypeSpec, with_heap};

fn class<'h>(heap: &'h Heap<'h>, name: &str, bases: &[&Obj<'h>]) -> Obj<'h> {
    heap.new_type(name, bases, &TypeSpec::dict()).unwrap()
}

fn func<'h>(
    heap: &'h Heap<'h>,
    name: &str,
    f: impl for<'a> Fn(&'a Heap<'a>, &[Obj<'a>]) -> Result<Obj<'a>> + 'static,
) -> Obj<'h> {
    heap.function(name, f).unwrap()
}

/// A function returning a constant int.
fn returns<'h>(heap: &'h Heap<'h>, name: &str, v: i64) -> Obj<'h> {
    func(heap, name, move |h, _| h.int(v))
}

fn err_of<T: std::fmt::Debug>(r: Result<T>) -> (ErrorKind, String) {
    let e = r.unwrap_err();
    (e.kind(), e.into_message())
}

#[test]
fn values_repr_as_python() {
    with_heap(|heap| {
        let s = heap.str("a'b\"c\n\u{e9}\0").unwrap();
        assert_eq!(s.repr().unwrap(), r#"'a\'b"c\né\x00'"#);
        assert_eq!(heap.str("it's").unwrap().repr().unwrap(), r#""it's""#);
        let one = heap.int(1).unwrap();
        let a = heap.str("a").unwrap();
        let t1 = heap.tuple(&[&one]).unwrap();
        assert_eq!(t1.repr().unwrap(), "(1,)");
        assert_eq!(heap.tuple(&[]).unwrap().repr().unwrap(), "()");
        let l = heap.list().unwrap();
        l.list_append(&one).unwrap();
        l.list_append(&a).unwrap();
        assert_eq!(l.repr().unwrap(), "[1, 'a']");
        l.list_append(&l).unwrap();
        assert_eq!(l.repr().unwrap(), "[1, 'a', [...]]");
        l.list_set(-1, &heap.none()).unwrap(); // break the cycle
        let d = heap.dict().unwrap();
        d.dict_set(&one, &heap.int(2).unwrap()).unwrap();
        d.dict_set(&a, &heap.none()).unwrap();
        assert_eq!(d.repr().unwrap(), "{1: 2, 'a': None}");
        assert_eq!(heap.bool(true).repr().unwrap(), "True");
        assert_eq!(heap.float(1e100).unwrap().repr().unwrap(), "1e+100");
        assert_eq!(heap.object_type().repr().unwrap(), "<class 'object'>");
        let b = class(heap, "B", &[]);
        assert_eq!(b.repr().unwrap(), "<class 'B'>");
        assert_eq!(
            class(heap, "pkg.mod.C", &[]).repr().unwrap(),
            "<class 'pkg.mod.C'>"
        );
        assert!(
            b.call(&[])
                .unwrap()
                .repr()
                .unwrap()
                .starts_with("<B object at 0x")
        );
    });
}

#[test]
fn small_ints_and_interned_strings_are_shared() {
    with_heap(|heap| {
        assert!(heap.int(256).unwrap().is(&heap.int(256).unwrap()));
        assert!(heap.int(-5).unwrap().is_immortal());
        assert!(!heap.int(257).unwrap().is(&heap.int(257).unwrap()));
        assert!(
            heap.intern("name")
                .unwrap()
                .is(&heap.intern("name").unwrap())
        );
        assert!(!heap.str("name").unwrap().is(&heap.str("name").unwrap()));
        assert_eq!(heap.str("Андрей").unwrap().len().unwrap(), 6);
        // The same buffer holding other text later interns that text.
        let mut buf = String::from("alpha");
        let alpha = heap.intern(&buf).unwrap();
        buf.clear();
        buf.push_str("omega");
        let omega = heap.intern(&buf).unwrap();
        assert_eq!(
            (alpha.as_str(), omega.as_str()),
            (Some("alpha"), Some("omega"))
        );
        assert!(heap.intern("alpha").unwrap().is(&alpha));
    });
}

#[test]
fn dict_keys_compare_as_in_python() {
    with_heap(|heap| {
        let d = heap.dict().unwrap();
        let v = |s: &str| heap.str(s).unwrap();
        d.dict_set(&heap.int(1).unwrap(), &v("int")).unwrap();
        d.dict_set(&heap.float(1.0).unwrap(), &v("float")).unwrap();
        d.dict_set(&heap.bool(true), &v("bool")).unwrap();
        assert_eq!(d.len().unwrap(), 1, "1, 1.0 and True are one key");
        let (k, val) = d.dict_item(0).unwrap();
        assert_eq!(k.repr().unwrap(), "1", "the first key is kept");
        assert_eq!(val.as_str(), Some("bool"), "the last value wins");
        let t1 = heap
            .tuple(&[&heap.int(1).unwrap(), &heap.str("x").unwrap()])
            .unwrap();
        let t2 = heap
            .tuple(&[&heap.float(1.0).unwrap(), &heap.str("x").unwrap()])
            .unwrap();
        d.dict_set(&t1, &v("tuple")).unwrap();
        assert_eq!(
            d.dict_get(&t2).unwrap().as_str(),
            Some("tuple"),
            "tuples compare by value"
        );
        let o1 = heap.object_type().call(&[]).unwrap();
        let o2 = heap.object_type().call(&[]).unwrap();
        d.dict_set(&o1, &v("o1")).unwrap();
        assert_eq!(
            err_of(d.dict_get(&o2)).0,
            ErrorKind::Key,
            "other objects compare by identity"
        );
        assert_eq!(d.dict_get(&o1).unwrap().as_str(), Some("o1"));
        let (kind, msg) = err_of(d.dict_get(&v("missing")));
        assert_eq!((kind, msg.as_str()), (ErrorKind::Key, "'missing'"));
    });
}

#[test]
fn dict_order_survives_deletions() {
    with_heap(|heap| {
        let d = heap.dict().unwrap();
        let k: Vec<Obj> = ["a", "b", "c", "d"]
            .iter()
            .map(|s| heap.str(s).unwrap())
            .collect();
        for (i, key) in k.iter().enumerate() {
            d.dict_set(key, &heap.int(i as i64).unwrap()).unwrap();
        }
        d.dict_del(&k[1]).unwrap();
        d.dict_del(&k[0]).unwrap();
        d.dict_set(&k[1], &heap.int(9).unwrap()).unwrap();
        d.dict_set(&k[2], &heap.int(7).unwrap()).unwrap(); // an update keeps its place
        assert_eq!(d.repr().unwrap(), "{'c': 7, 'd': 3, 'b': 9}");
        let keys: Vec<String> = (0..d.len().unwrap())
            .map(|i| d.dict_item(i).unwrap().0.repr().unwrap())
            .collect();
        assert_eq!(keys, ["'c'", "'d'", "'b'"]);
        assert_eq!(err_of(d.dict_del(&k[0])).0, ErrorKind::Key);
        assert_eq!(err_of(d.dict_item(3)).0, ErrorKind::Index);
    });
}

#[test]
fn sequences_index_from_either_end() {
    with_heap(|heap| {
        let l = heap.list().unwrap();
        for i in 0..3 {
            l.list_append(&heap.int(i).unwrap()).unwrap();
        }
        assert_eq!(l.get_item(-1).unwrap().as_int(), Some(2));
        assert_eq!(l.get_item(0).unwrap().as_int(), Some(0));
        let (kind, msg) = err_of(l.get_item(3));
        assert_eq!(
            (kind, msg.as_str()),
            (ErrorKind::Index, "list index out of range")
        );
        assert_eq!(err_of(l.get_item(-4)).0, ErrorKind::Index);
        let (kind, msg) = err_of(l.list_set(5, &heap.none()));
        assert_eq!(
            (kind, msg.as_str()),
            (ErrorKind::Index, "list assignment index out of range")
        );
        assert_eq!(
            err_of(heap.int(3).unwrap().len()).1,
            "object of type 'int' has no len()"
        );
    });
}

#[test]
fn mro_is_c3_and_refuses_what_cpython_refuses() {
    with_heap(|heap| {
        let a = class(heap, "A", &[]);
        let b = class(heap, "B", &[&a]);
        let c = class(heap, "C", &[&a]);
        let d = class(heap, "D", &[&b, &c]);
        let names: Vec<String> = d
            .mro()
            .unwrap()
            .iter()
            .map(|t| t.getattr("__name__").unwrap().as_str().unwrap().to_owned())
            .collect();
        assert_eq!(names, ["D", "B", "C", "A", "object"]);
        assert_eq!(d.getattr("__mro__").unwrap().len().unwrap(), 5);
        assert_eq!(
            d.getattr("__bases__").unwrap().repr().unwrap(),
            "(<class 'B'>, <class 'C'>)"
        );

        let x = class(heap, "X", &[]);
        let y = class(heap, "Y", &[&x]);
        let (kind, msg) = err_of(heap.new_type("Z", &[&x, &y], &TypeSpec::dict()));
        assert_eq!(kind, ErrorKind::Mro);
        assert_eq!(
            msg,
            "Cannot create a consistent method resolution order (MRO) for bases X, Y"
        );
        let (kind, msg) = err_of(heap.new_type("Z", &[&x, &x], &TypeSpec::dict()));
        assert_eq!(
            (kind, msg.as_str()),
            (ErrorKind::Type, "duplicate base class X")
        );
        let s1 = heap
            .new_type(
                "S1",
                &[],
                &TypeSpec {
                    slots: &["a"],
                    ..TypeSpec::default()
                },
            )
            .unwrap();
        let s2 = heap
            .new_type(
                "S2",
                &[],
                &TypeSpec {
                    slots: &["b"],
                    ..TypeSpec::default()
                },
            )
            .unwrap();
        let (kind, msg) = err_of(heap.new_type("S3", &[&s1, &s2], &TypeSpec::dict()));
        assert_eq!(
            (kind, msg.as_str()),
            (
                ErrorKind::Type,
                "multiple bases have instance lay-out conflict"
            )
        );
        let (kind, _) = err_of(heap.new_type("I", &[&heap.int(1).unwrap()], &TypeSpec::dict()));
        assert_eq!(kind, ErrorKind::Type);
    });
}

#[test]
fn instance_attributes_shadow_class_attributes() {
    // The seed's example: a parent's `name = None`, a child instance's own name.
    with_heap(|heap| {
        let parent = class(heap, "Parent", &[]);
        parent.setattr("name", &heap.none()).unwrap();
        let child = class(heap, "Child", &[&parent]);
        let andrey = child.call(&[]).unwrap();
        andrey
            .setattr("name", &heap.str("Андрей").unwrap())
            .unwrap();
        let other = child.call(&[]).unwrap();
        assert_eq!(andrey.getattr("name").unwrap().as_str(), Some("Андрей"));
        assert!(other.getattr("name").unwrap().is_none());
        andrey.delattr("name").unwrap();
        assert!(
            andrey.getattr("name").unwrap().is_none(),
            "after del, the class attribute shows again"
        );
        let (kind, msg) = err_of(andrey.delattr("name"));
        assert_eq!(
            (kind, msg.as_str()),
            (
                ErrorKind::Attribute,
                "'Child' object has no attribute 'name'"
            )
        );
        let (kind, msg) = err_of(other.getattr("zzz"));
        assert_eq!(
            (kind, msg.as_str()),
            (
                ErrorKind::Attribute,
                "'Child' object has no attribute 'zzz'"
            )
        );
        let (kind, msg) = err_of(child.getattr("zzz"));
        assert_eq!(
            (kind, msg.as_str()),
            (
                ErrorKind::Attribute,
                "type object 'Child' has no attribute 'zzz'"
            )
        );
    });
}

#[test]
fn data_descriptors_beat_the_instance_dict_and_functions_do_not() {
    with_heap(|heap| {
        let a = class(heap, "A", &[]);
        a.setattr("p", &heap.property(&returns(heap, "p", 1), None).unwrap())
            .unwrap();
        a.setattr("m", &returns(heap, "m", 2)).unwrap();
        let o = a.call(&[]).unwrap();
        // Put 'p' and 'm' straight into the instance dict.
        let d = o.getattr("__dict__").unwrap();
        d.dict_set(&heap.str("p").unwrap(), &heap.int(10).unwrap())
            .unwrap();
        d.dict_set(&heap.str("m").unwrap(), &heap.int(20).unwrap())
            .unwrap();
        assert_eq!(
            o.getattr("p").unwrap().as_int(),
            Some(1),
            "the property (data descriptor) wins"
        );
        assert_eq!(
            o.getattr("m").unwrap().as_int(),
            Some(20),
            "the instance dict beats a method"
        );
        let (kind, msg) = err_of(o.setattr("p", &heap.int(3).unwrap()));
        assert_eq!(
            (kind, msg.as_str()),
            (
                ErrorKind::Attribute,
                "property 'p' of 'A' object has no setter"
            )
        );
        let (_, msg) = err_of(o.delattr("p"));
        assert_eq!(msg, "property 'p' of 'A' object has no deleter");
        // A property with a setter stores through it.
        let store = func(heap, "set_q", |h, args| {
            args[0].setattr("_q", &args[1])?;
            Ok(h.none())
        });
        let load = func(heap, "q", |_, args| args[0].getattr("_q"));
        a.setattr("q", &heap.property(&load, Some(&store)).unwrap())
            .unwrap();
        o.setattr("q", &heap.int(42).unwrap()).unwrap();
        assert_eq!(o.getattr("q").unwrap().as_int(), Some(42));
        assert_eq!(o.getattr("_q").unwrap().as_int(), Some(42));
    });
}

#[test]
fn slots_sit_at_fixed_offsets_and_unset_slots_are_missing() {
    with_heap(|heap| {
        let a = heap
            .new_type(
                "A",
                &[],
                &TypeSpec {
                    slots: &["x", "y"],
                    ..TypeSpec::default()
                },
            )
            .unwrap();
        let o = a.call(&[]).unwrap();
        let (kind, msg) = err_of(o.getattr("x"));
        assert_eq!(
            (kind, msg.as_str()),
            (ErrorKind::Attribute, "'A' object has no attribute 'x'")
        );
        o.setattr("x", &heap.int(5).unwrap()).unwrap();
        assert_eq!(o.getattr("x").unwrap().as_int(), Some(5));
        let (_, msg) = err_of(o.setattr("z", &heap.int(1).unwrap()));
        assert_eq!(
            msg, "'A' object has no attribute 'z'",
            "no __dict__: no new attributes"
        );
        o.delattr("x").unwrap();
        let (_, msg) = err_of(o.delattr("x"));
        assert_eq!(msg, "x");
        assert_eq!(
            a.getattr("x").unwrap().repr().unwrap(),
            "<member 'x' of 'A' objects>"
        );
        // A two-slot instance: the collector's links, the header and two
        // pointers: 48 bytes, as in CPython.
        heap.gc().set_enabled(false); // no collection between the two figures
        let before = heap.stats().memory.bytes_in_use;
        let o2 = a.call(&[]).unwrap();
        // (Debug builds of objheap add guard bytes: ask it which block 48 bytes take.)
        let block = objmodel::objheap::size_class_of(48).map(objmodel::objheap::class_size);
        assert_eq!(Some(heap.stats().memory.bytes_in_use - before), block);
        assert_eq!(
            a.instance_layout().unwrap().size,
            32,
            "header and two slots; the links come before"
        );
        drop(o2);
        // A subclass without slots gets a __dict__ after the slots.
        let b = class(heap, "B", &[&a]);
        let ob = b.call(&[]).unwrap();
        ob.setattr("x", &heap.int(1).unwrap()).unwrap();
        ob.setattr("z", &heap.int(2).unwrap()).unwrap();
        assert_eq!(ob.getattr("x").unwrap().as_int(), Some(1));
        assert_eq!(ob.getattr("z").unwrap().as_int(), Some(2));
        assert_eq!(ob.getattr("__dict__").unwrap().repr().unwrap(), "{'z': 2}");
    });
}

#[test]
fn getattr_hook_runs_only_when_lookup_fails() {
    with_heap(|heap| {
        let a = class(heap, "A", &[]);
        a.setattr("found", &heap.int(1).unwrap()).unwrap();
        a.setattr(
            "__getattr__",
            &func(heap, "__getattr__", |h, args| {
                h.str(&format!("dynamic {}", args[1].as_str().unwrap()))
            }),
        )
        .unwrap();
        let o = a.call(&[]).unwrap();
        assert_eq!(o.getattr("found").unwrap().as_int(), Some(1));
        assert_eq!(o.getattr("other").unwrap().as_str(), Some("dynamic other"));
    });
}

#[test]
fn methods_live_in_the_class_and_bind_on_access() {
    with_heap(|heap| {
        let a = class(heap, "A", &[]);
        let greet = func(heap, "greet", |h, args| {
            let name = args[0].getattr("name")?;
            h.str(&format!("hello, {}", name.as_str().unwrap_or("?")))
        });
        a.setattr("greet", &greet).unwrap();
        let x = a.call(&[]).unwrap();
        let y = a.call(&[]).unwrap();
        x.setattr("name", &heap.str("x").unwrap()).unwrap();
        y.setattr("name", &heap.str("y").unwrap()).unwrap();
        let bound = x.getattr("greet").unwrap();
        assert!(
            bound
                .repr()
                .unwrap()
                .starts_with("<built-in method greet of A object at 0x")
        );
        assert_eq!(bound.call(&[]).unwrap().as_str(), Some("hello, x"));
        assert_eq!(
            y.call_method("greet", &[]).unwrap().as_str(),
            Some("hello, y")
        );
        assert!(
            a.getattr("greet").unwrap().is(&greet),
            "through the class: the function itself"
        );
        // call_method allocates no bound method: only the result string is new.
        let before = heap.stats().objects_live;
        let r = y.call_method("greet", &[]).unwrap();
        assert_eq!(heap.stats().objects_live, before + 1);
        drop(r);
    });
}

#[test]
fn class_changes_reach_subclasses_through_the_method_cache() {
    with_heap(|heap| {
        let a = class(heap, "A", &[]);
        a.setattr("f", &returns(heap, "f", 1)).unwrap();
        let mut chain = vec![a.clone()];
        for i in 0..9 {
            let next = class(heap, &format!("L{i}"), &[chain.last().unwrap()]);
            chain.push(next);
        }
        let leaf = chain.last().unwrap().call(&[]).unwrap();
        assert_eq!(leaf.call_method("f", &[]).unwrap().as_int(), Some(1)); // warms the cache
        assert_eq!(leaf.call_method("f", &[]).unwrap().as_int(), Some(1));
        chain[4].setattr("f", &returns(heap, "f", 5)).unwrap();
        assert_eq!(
            leaf.call_method("f", &[]).unwrap().as_int(),
            Some(5),
            "a change in the middle is seen at once"
        );
        chain[7].setattr("g", &heap.int(7).unwrap()).unwrap();
        assert_eq!(leaf.getattr("g").unwrap().as_int(), Some(7));
        chain[4].delattr("f").unwrap();
        assert_eq!(leaf.call_method("f", &[]).unwrap().as_int(), Some(1));
        let (_, msg) = err_of(chain[7].delattr("zz"));
        assert_eq!(msg, "type object 'L6' has no attribute 'zz'");
    });
}

#[test]
fn calling_a_type_runs_init() {
    with_heap(|heap| {
        let a = class(heap, "A", &[]);
        a.setattr(
            "__init__",
            &func(heap, "__init__", |h, args| {
                args[0].setattr("x", &args[1])?;
                Ok(h.none())
            }),
        )
        .unwrap();
        let o = a.call(&[&heap.int(3).unwrap()]).unwrap();
        assert_eq!(o.getattr("x").unwrap().as_int(), Some(3));
        assert!(o.is_instance(&a).unwrap());
        assert!(o.is_instance(&heap.object_type()).unwrap());
        assert!(o.getattr("__class__").unwrap().is(&a));
        let bad = class(heap, "I", &[]);
        bad.setattr("__init__", &returns(heap, "__init__", 1))
            .unwrap();
        let (kind, msg) = err_of(bad.call(&[]));
        assert_eq!(
            (kind, msg.as_str()),
            (ErrorKind::Type, "__init__() should return None, not 'int'")
        );
        let (_, msg) = err_of(class(heap, "B", &[]).call(&[&heap.int(1).unwrap()]));
        assert_eq!(msg, "B() takes no arguments");
        let (_, msg) = err_of(heap.int(1).unwrap().call(&[]));
        assert_eq!(msg, "'int' object is not callable");
        let (kind, msg) = err_of(heap.int(1).unwrap().type_of().setattr("x", &heap.none()));
        assert_eq!(
            (kind, msg.as_str()),
            (
                ErrorKind::Type,
                "cannot set 'x' attribute of immutable type 'int'"
            )
        );
    });
}

#[test]
fn host_errors_reach_the_caller_unchanged() {
    with_heap(|heap| {
        let failing = func(heap, "f", |_, _| {
            Err(objmodel::Error::new(ErrorKind::Host(-42), "host said no"))
        });
        let (kind, msg) = err_of(failing.call(&[]));
        assert_eq!((kind, msg.as_str()), (ErrorKind::Host(-42), "host said no"));
    });
}

#[test]
fn finalisers_run_once_and_may_resurrect() {
    use std::cell::RefCell;
    thread_local! {
        static CALLS: RefCell<usize> = const { RefCell::new(0) };
    }
    with_heap(|heap| {
        let keep = heap.list().unwrap();
        let a = class(heap, "A", &[]);
        // __del__ stores self in the list its `home` attribute names: resurrection.
        a.setattr(
            "__del__",
            &func(heap, "__del__", move |h, args| {
                CALLS.with(|c| *c.borrow_mut() += 1);
                let list = args[0].getattr("home")?;
                list.list_append(&args[0])?;
                Ok(h.none())
            }),
        )
        .unwrap();
        let o = a.call(&[]).unwrap();
        o.setattr("home", &keep).unwrap();
        o.setattr("data", &heap.str("intact").unwrap()).unwrap();
        drop(o);
        assert_eq!(CALLS.with(|c| *c.borrow()), 1);
        let back = keep.get_item(0).unwrap();
        assert_eq!(
            back.getattr("data").unwrap().as_str(),
            Some("intact"),
            "resurrected and intact"
        );
        drop(back);
        keep.list_set(0, &heap.none()).unwrap(); // second death: no second __del__
        assert_eq!(CALLS.with(|c| *c.borrow()), 1);
    });
}

#[test]
fn dropping_a_long_chain_does_not_recurse() {
    with_heap(|heap| {
        let node = class(heap, "Node", &[]);
        // Under miri a chain too short to overflow any stack (218 s at 2,000):
        // it checks what dropping frees, the normal run that it does not recurse.
        let n = if cfg!(miri) { 200 } else { 1_000_000 };
        let _name = heap.intern("next").unwrap(); // interned names are immortal: count it first
        let baseline = heap.stats().objects_live;
        let mut head = node.call(&[]).unwrap();
        for _ in 0..n {
            let next = node.call(&[]).unwrap();
            next.setattr("next", &head).unwrap();
            head = next;
        }
        assert!(heap.stats().objects_live >= baseline + n);
        drop(head);
        assert_eq!(heap.stats().objects_live, baseline);
    });
}

#[test]
fn the_memory_limit_fails_cleanly_and_the_heap_stays_usable() {
    const LARGE: &str = concat!(
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    );
    with_heap(|heap| {
        let used = heap.stats().memory.bytes_reserved;
        heap.set_memory_limit(Some(used));
        let l = heap.list().unwrap_or_else(|_| heap.none()); // may fit in existing pools
        let mut made = Vec::new();
        let err = loop {
            // Under miri, large strings reach the limit at once instead of after
            // filling an arena's pools.
            match heap.str(if cfg!(miri) {
                LARGE
            } else {
                "a string that takes some room in the heap"
            }) {
                Ok(s) => made.push(s),
                Err(e) => break e,
            }
        };
        assert_eq!(err.kind(), ErrorKind::NoMemory);
        drop(made);
        drop(l);
        heap.set_memory_limit(None);
        assert_eq!(heap.str("fine again").unwrap().as_str(), Some("fine again"));
    });
}

#[test]
fn every_object_is_freed_when_its_last_reference_goes() {
    with_heap(|heap| {
        let baseline = heap.stats().objects_live;
        {
            let a = class(heap, "A", &[]);
            let o = a.call(&[]).unwrap();
            for i in 0..20 {
                o.setattr(&format!("attr{i}"), &heap.float(i as f64).unwrap())
                    .unwrap();
            }
            let d = heap.dict().unwrap();
            d.dict_set(&heap.str("o").unwrap(), &o).unwrap();
            let l = heap.list().unwrap();
            l.list_append(&d).unwrap();
            let _t = heap.tuple(&[&l, &o]).unwrap();
            o.delattr("attr3").unwrap();
        }
        // Interned names (attr0..attr19, A) stay: they are immortal.
        let interned = 21;
        assert_eq!(heap.stats().objects_live, baseline + interned);
    });
}

#[test]
fn inline_caches_answer_as_getattr_does_and_notice_changes() {
    with_heap(|heap| {
        let a = class(heap, "A", &[]);
        a.setattr("shared", &heap.int(1).unwrap()).unwrap();
        a.setattr("m", &returns(heap, "m", 2)).unwrap();
        let b = class(heap, "B", &[&a]);
        let x = b.call(&[]).unwrap();
        x.setattr("own", &heap.int(3).unwrap()).unwrap();
        let y = b.call(&[]).unwrap();
        y.setattr("own", &heap.int(4).unwrap()).unwrap(); // same shape as x
        let own = heap.attr_cache("own").unwrap();
        let shared = heap.attr_cache("shared").unwrap();
        let m = heap.attr_cache("m").unwrap();
        for _ in 0..3 {
            assert_eq!(x.getattr_cached(&own).unwrap().as_int(), Some(3));
            assert_eq!(y.getattr_cached(&own).unwrap().as_int(), Some(4));
            assert_eq!(x.getattr_cached(&shared).unwrap().as_int(), Some(1));
            assert_eq!(
                x.getattr_cached(&m).unwrap().call(&[]).unwrap().as_int(),
                Some(2)
            );
        }
        // The instance shadows the class attribute: a new shape, a miss, the right answer.
        x.setattr("shared", &heap.int(10).unwrap()).unwrap();
        assert_eq!(x.getattr_cached(&shared).unwrap().as_int(), Some(10));
        assert_eq!(y.getattr_cached(&shared).unwrap().as_int(), Some(1));
        // A class change through the base: the version moves on.
        a.setattr("shared", &heap.int(100).unwrap()).unwrap();
        assert_eq!(y.getattr_cached(&shared).unwrap().as_int(), Some(100));
        // A property appearing on the class beats the cached instance attribute.
        b.setattr(
            "own",
            &heap.property(&returns(heap, "own", 7), None).unwrap(),
        )
        .unwrap();
        assert_eq!(y.getattr_cached(&own).unwrap().as_int(), Some(7));
        // Slots.
        let s = heap
            .new_type(
                "S",
                &[],
                &TypeSpec {
                    slots: &["v"],
                    ..TypeSpec::default()
                },
            )
            .unwrap();
        let si = s.call(&[]).unwrap();
        let v = heap.attr_cache("v").unwrap();
        assert_eq!(err_of(si.getattr_cached(&v)).0, ErrorKind::Attribute);
        si.setattr("v", &heap.int(5).unwrap()).unwrap();
        assert_eq!(si.getattr_cached(&v).unwrap().as_int(), Some(5));
        assert_eq!(si.getattr_cached(&v).unwrap().as_int(), Some(5));
        si.delattr("v").unwrap();
        assert_eq!(
            err_of(si.getattr_cached(&v)).1,
            "'S' object has no attribute 'v'"
        );
    });
}

#[test]
fn impossible_layouts_and_instances_are_refused() {
    with_heap(|heap| {
        let spec = TypeSpec {
            payload_size: usize::MAX - 8,
            ..TypeSpec::default()
        };
        assert_eq!(
            err_of(heap.new_type("Huge", &[], &spec)).0,
            ErrorKind::Value
        );
        let (kind, msg) = err_of(heap.int(1).unwrap().type_of().new_instance());
        assert_eq!(
            (kind, msg.as_str()),
            (ErrorKind::Type, "cannot create instances of 'int'")
        );
    });
}

// ----- found by the C-ABI differential fuzzer (ffi-tests/tests/model.rs) -----

#[test]
fn a_slot_member_applies_only_to_instances_of_its_class() {
    with_heap(|heap| {
        let spec = TypeSpec {
            slots: &["x"],
            ..TypeSpec::default()
        };
        let a = heap.new_type("A", &[], &spec).unwrap();
        let member = a.getattr("x").unwrap();
        let b = class(heap, "B", &[]);
        b.setattr("y", &member).unwrap();
        let o = b.call(&[]).unwrap();
        let expected = (
            ErrorKind::Type,
            "descriptor 'x' for 'A' objects doesn't apply to a 'B' object".to_owned(),
        );
        assert_eq!(err_of(o.getattr("y")), expected);
        assert_eq!(err_of(o.setattr("y", &o)), expected);
        // A subclass of A is fine.
        let c = heap.new_type("C", &[&a], &TypeSpec::dict()).unwrap();
        let i = c.call(&[]).unwrap();
        let one = heap.int(1).unwrap();
        i.setattr("x", &one).unwrap();
        assert!(i.getattr("x").unwrap().is(&one));
    });
}

#[test]
fn an_init_that_is_not_a_function_is_called_without_the_new_instance() {
    with_heap(|heap| {
        let a = class(heap, "A", &[]);
        a.setattr(
            "f",
            &func(heap, "f", |h, args| {
                assert_eq!(args.len(), 1, "f(a) only: the bound method's own self");
                Ok(h.none())
            }),
        )
        .unwrap();
        let bound = a.call(&[]).unwrap().getattr("f").unwrap();
        let b = class(heap, "B", &[]);
        b.setattr("__init__", &bound).unwrap();
        b.call(&[]).unwrap();
    });
}

#[test]
fn an_attribute_error_from_a_getter_falls_back_to_getattr() {
    with_heap(|heap| {
        let a = class(heap, "A", &[]);
        let failing = func(heap, "getter", |_, _| {
            Err(objmodel::Error::new(ErrorKind::Attribute, "not today"))
        });
        a.setattr("x", &heap.property(&failing, None).unwrap())
            .unwrap();
        a.setattr("__getattr__", &returns(heap, "__getattr__", 7))
            .unwrap();
        let v = a.call(&[]).unwrap().getattr("x").unwrap();
        assert_eq!(v.repr().unwrap(), "7");
    });
}

#[test]
fn calls_nest_at_most_a_thousand_deep() {
    with_heap(|heap| {
        let b = class(heap, "B", &[]);
        b.setattr("__init__", &b).unwrap(); // B() calls B() calls B() ...
        let (kind, msg) = err_of(b.call(&[]));
        assert_eq!(kind, ErrorKind::Recursion);
        assert_eq!(
            msg,
            "maximum recursion depth exceeded while calling a Python object"
        );
        b.setattr("__init__", &returns(heap, "__init__", 0))
            .unwrap();
        assert!(
            err_of(b.call(&[])).1.contains("should return None"),
            "usable after"
        );
    });
}
