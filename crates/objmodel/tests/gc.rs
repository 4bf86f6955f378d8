//! Cycle collection of objmodel's objects: cycles that reference counting
//! cannot free are found and freed, nothing reachable is, finalisers run
//! once (and may resurrect), and collection runs by itself past the
//! thresholds.

use std::cell::RefCell;

use objmodel::{Heap, Obj, TypeSpec, with_heap};

fn class<'h>(heap: &'h Heap<'h>, name: &str) -> Obj<'h> {
    heap.new_type(name, &[], &TypeSpec::dict()).unwrap()
}

#[test]
fn cycles_of_instances_lists_dicts_and_tuples_are_freed() {
    with_heap(|heap| {
        heap.gc().set_enabled(false);
        let node = class(heap, "Node");
        let _names = [heap.intern("other").unwrap(), heap.intern("me").unwrap()];
        let baseline = heap.stats().objects_live;
        for _ in 0..100 {
            let a = node.call(&[]).unwrap();
            let b = node.call(&[]).unwrap();
            a.setattr("other", &b).unwrap();
            b.setattr("other", &a).unwrap();
            let l = heap.list().unwrap();
            l.list_append(&l).unwrap(); // a list containing itself
            let d = heap.dict().unwrap();
            d.dict_set(&heap.int(1).unwrap(), &d).unwrap();
            let holder = heap.list().unwrap();
            let t = heap.tuple(&[&holder]).unwrap();
            holder.list_append(&t).unwrap(); // tuple -> list -> tuple
            a.setattr("me", &a.getattr("__dict__").unwrap()).unwrap(); // instance -> its own dict
        }
        assert!(heap.stats().objects_live > baseline + 600);
        let found = heap.collect(2);
        assert_eq!(found, 100 * 7);
        assert_eq!(heap.stats().objects_live, baseline);
        assert_eq!(heap.gc().stats()[2].collected, 700);
    });
}

#[test]
fn nothing_reachable_is_ever_freed() {
    with_heap(|heap| {
        heap.gc().set_enabled(false);
        let node = class(heap, "Node");
        let root = heap.list().unwrap();
        for i in 0..50 {
            let a = node.call(&[]).unwrap();
            let b = node.call(&[]).unwrap();
            a.setattr("other", &b).unwrap();
            b.setattr("other", &a).unwrap();
            a.setattr("n", &heap.int(i).unwrap()).unwrap();
            root.list_append(&a).unwrap();
        }
        assert_eq!(heap.collect(2), 0);
        for i in 0..50 {
            let a = root.get_item(i).unwrap();
            assert_eq!(
                a.getattr("other")
                    .unwrap()
                    .getattr("other")
                    .unwrap()
                    .getattr("n")
                    .unwrap()
                    .as_int(),
                Some(i)
            );
        }
    });
}

#[test]
fn a_class_and_its_instances_form_a_collectable_cycle() {
    with_heap(|heap| {
        heap.gc().set_enabled(false);
        let _names = heap.intern("instance").unwrap();
        let baseline = heap.stats().objects_live;
        {
            let c = heap.new_type("Temp", &[], &TypeSpec::dict()).unwrap();
            let i = c.call(&[]).unwrap();
            c.setattr("instance", &i).unwrap(); // class -> dict -> instance -> class
        }
        assert!(heap.stats().objects_live > baseline);
        assert!(heap.collect(2) >= 3);
        // The class name "Temp" was interned, and interned names are immortal.
        assert_eq!(heap.stats().objects_live, baseline + 1);
    });
}

thread_local! {
    static LOG: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

#[test]
fn finalisers_in_cycles_run_once_and_may_resurrect() {
    with_heap(|heap| {
        heap.gc().set_enabled(false);
        let keep = heap.list().unwrap();
        let node = class(heap, "Node");
        node.setattr(
            "__del__",
            &heap
                .function("__del__", |h, args| {
                    let me = &args[0];
                    let name = me.getattr("name")?.as_str().unwrap_or("?").to_owned();
                    LOG.with(|l| l.borrow_mut().push(name));
                    if me.getattr("name")?.as_str() == Some("phoenix") {
                        me.getattr("home")?.list_append(me)?;
                    }
                    Ok(h.none())
                })
                .unwrap(),
        )
        .unwrap();
        {
            let a = node.call(&[]).unwrap();
            let b = node.call(&[]).unwrap();
            a.setattr("name", &heap.str("phoenix").unwrap()).unwrap();
            b.setattr("name", &heap.str("friend").unwrap()).unwrap();
            a.setattr("home", &keep).unwrap();
            b.setattr("home", &keep).unwrap();
            a.setattr("other", &b).unwrap();
            b.setattr("other", &a).unwrap();
        }
        assert_eq!(heap.collect(2), 2);
        let mut log = LOG.with(|l| l.take());
        log.sort();
        assert_eq!(log, ["friend", "phoenix"], "each finaliser ran once");
        let a = keep.get_item(0).unwrap();
        assert_eq!(
            a.getattr("other")
                .unwrap()
                .getattr("name")
                .unwrap()
                .as_str(),
            Some("friend"),
            "resurrected intact"
        );
        drop(a);
        keep.list_set(0, &heap.none()).unwrap();
        assert_eq!(heap.collect(2), 2, "garbage again");
        assert!(
            LOG.with(|l| l.take()).is_empty(),
            "finalisers do not run twice"
        );
    });
}

#[test]
fn collection_runs_automatically_and_bounds_live_memory() {
    with_heap(|heap| {
        let node = class(heap, "Node");
        let _other = heap.intern("other").unwrap();
        heap.gc().set_thresholds([100, 10, 10]);
        let baseline = heap.stats().objects_live;
        let mut peak = 0;
        for _ in 0..if cfg!(miri) { 400 } else { 20_000 } {
            let a = node.call(&[]).unwrap();
            let b = node.call(&[]).unwrap();
            a.setattr("other", &b).unwrap();
            b.setattr("other", &a).unwrap();
            peak = peak.max(heap.stats().objects_live - baseline);
        }
        assert!(
            heap.gc().stats()[0].collections > 0,
            "generation 0 was collected by itself"
        );
        assert!(
            peak < 3_000,
            "live objects stay near the threshold, not 40,000 ({peak})"
        );
    });
}

/// Steady churn with the default thresholds: a long-lived set of 20,000
/// objects, and 2-cycles that stay reachable for a while (a ring of the
/// 500 newest, so they are promoted to older generations before they die)
/// and are then dropped. Live objects, sampled every 100 steps, stay within
/// 1.5x of the reachable ones (CPython 3.14's incremental collector let
/// garbage pile up in this kind of workload; objgc's generations do not).
#[test]
#[cfg_attr(miri, ignore = "200,000 steps")]
fn churning_cycles_keep_live_objects_within_1_5x_of_the_reachable() {
    with_heap(|heap| {
        let node = class(heap, "Node");
        let _other = heap.intern("other").unwrap();
        let baseline = heap.stats().objects_live;
        let long_lived: Vec<_> = (0..20_000).map(|_| node.call(&[]).unwrap()).collect();
        const RING: usize = 500;
        let mut ring: Vec<Option<Obj<'_>>> = (0..RING).map(|_| None).collect();
        let mut worst: f64 = 0.0;
        for step in 0..200_000 {
            let a = node.call(&[]).unwrap();
            let b = node.call(&[]).unwrap();
            a.setattr("other", &b).unwrap();
            b.setattr("other", &a).unwrap();
            ring[step % RING] = Some(a); // the cycle it replaces is garbage now
            if step % 100 == 99 {
                let reachable = long_lived.len() + 2 * ring.iter().flatten().count();
                let live = heap.stats().objects_live - baseline;
                worst = worst.max(live as f64 / reachable as f64);
            }
        }
        println!("churn: live objects peaked at {worst:.3}x the reachable ones");
        assert!(
            heap.gc().stats()[2].collections > 0,
            "garbage reached generation 2"
        );
        assert!(
            worst <= 1.5,
            "live objects peaked at {worst:.2}x the reachable ones"
        );
        assert!(
            worst > 1.0,
            "garbage is found by collections, not refcounting"
        );
    });
}

#[test]
fn a_long_garbage_ring_is_collected_without_deep_recursion() {
    with_heap(|heap| {
        heap.gc().set_enabled(false);
        let node = class(heap, "Node");
        let _next = heap.intern("next").unwrap();
        let n = if cfg!(miri) { 200 } else { 200_000 };
        let baseline = heap.stats().objects_live;
        let first = node.call(&[]).unwrap();
        let mut last = first.clone();
        for _ in 1..n {
            let next = node.call(&[]).unwrap();
            last.setattr("next", &next).unwrap();
            last = next;
        }
        last.setattr("next", &first).unwrap();
        drop((first, last));
        assert_eq!(heap.collect(2), n);
        assert_eq!(heap.stats().objects_live, baseline);
    });
}

/// What the `gc` module lets a program ask: referents and referrers,
/// tracked objects and generations, freeze, saved garbage, callbacks.
#[test]
fn the_heap_can_be_looked_into() {
    with_heap(|heap| {
        let gc = heap.gc();
        gc.set_enabled(false);
        let node = class(heap, "Node");
        let (a, b) = (node.call(&[]).unwrap(), node.call(&[]).unwrap());
        let seven = heap.int(7).unwrap();
        a.setattr("other", &b).unwrap();
        a.setattr("n", &seven).unwrap();
        b.setattr("other", &a).unwrap();

        // Referents: the type, then the values in attribute order.
        let referents = gc.referents(&a);
        assert_eq!(referents.len(), 3);
        assert!(referents[0].is(&node) && referents[1].is(&b) && referents[2].is(&seven));
        let referrers = gc.referrers(&a);
        assert_eq!(referrers.len(), 1);
        assert!(referrers[0].is(&b));
        assert!(gc.is_tracked(&a) && gc.is_tracked(&node));
        assert!(!gc.is_tracked(&seven), "atoms are never tracked");
        assert!(
            !gc.is_tracked(&heap.object_type()),
            "immortal built-ins are not"
        );
        let all = gc.objects(None);
        assert!(all.iter().any(|o| o.is(&a)) && all.iter().any(|o| o.is(&b)));
        assert!(gc.objects(Some(0)).iter().any(|o| o.is(&a)));
        drop((all, referents, referrers));

        // Freeze: nothing frozen is examined; unfreeze gives it back.
        let tracked = gc.tracked().iter().sum::<usize>();
        gc.freeze();
        assert_eq!(gc.freeze_count(), tracked);
        assert_eq!(gc.tracked(), [0, 0, 0]);
        drop((a, b));
        assert_eq!(heap.collect(2), 0, "the dropped cycle is frozen");
        gc.unfreeze();
        assert_eq!(heap.collect(2), 2);

        // Saved garbage (DEBUG_SAVEALL), and callbacks around each collection.
        let phases = std::rc::Rc::new(RefCell::new(Vec::new()));
        let seen = phases.clone();
        gc.set_callback(Some(Box::new(move |phase, generation, stats| {
            seen.borrow_mut().push((phase, generation, stats.collected));
        })));
        gc.set_save_unreachable(true);
        let (c, d) = (node.call(&[]).unwrap(), node.call(&[]).unwrap());
        c.setattr("other", &d).unwrap();
        d.setattr("other", &c).unwrap();
        let c_address = c.as_ptr();
        drop((c, d));
        assert_eq!(heap.collect(2), 2);
        let garbage = gc.garbage();
        assert_eq!(garbage.len(), 2);
        assert!(garbage.iter().any(|o| o.as_ptr() == c_address));
        assert!(
            garbage[0].getattr("other").unwrap().is(&garbage[1]),
            "kept intact"
        );
        drop(garbage);
        gc.set_save_unreachable(false);
        gc.release_garbage();
        assert!(gc.garbage().is_empty());
        assert_eq!(heap.collect(2), 2, "freed once let go");
        gc.set_callback(None);
        let phases = phases.borrow();
        assert_eq!(phases.len(), 4);
        assert_eq!(phases[0], (objgc_phase_start(), 2, 2));
        assert_eq!(phases[1].2, 4, "the figures after the first collection");
    });
}

fn objgc_phase_start() -> objmodel::GcPhase {
    objmodel::GcPhase::Start
}
