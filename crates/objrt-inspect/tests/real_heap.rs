//! A snapshot written by the library itself (objmodel's
//! `Heap::write_snapshot`, the code behind `obj_heap_snapshot`), read back
//! and asked every question: the reader and the writer agree on the format,
//! and the answers are those of the heap that was built.
//!
//! The heap: a `Registry` instance held only by the test (a root) with a
//! list of 100 `Node`s, each pointing back at the registry; a leaked cycle
//! of two `Leak`s that nothing holds (garbage); and the built-ins.

use objmodel::{Heap, Obj, TypeSpec, with_heap};
use objrt_inspect::snapshot::EdgeKind;
use objrt_inspect::{Snapshot, dominators, graph_svg, path, types};

fn snapshot_of(heap: &Heap) -> Snapshot {
    let mut out = Vec::new();
    heap.write_snapshot(&mut out).unwrap();
    Snapshot::from_json(std::str::from_utf8(&out).unwrap())
        .expect("the reader takes what the writer writes")
}

fn index(s: &Snapshot, o: &Obj<'_>) -> usize {
    s.index_of(o.as_ptr().addr() as u64)
        .expect("in the snapshot")
}

#[test]
fn a_real_heap_answers_as_it_was_built() {
    with_heap(|heap| {
        heap.gc().set_enabled(false);
        let registry_type = heap.new_type("Registry", &[], &TypeSpec::dict()).unwrap();
        let node_type = heap.new_type("Node", &[], &TypeSpec::dict()).unwrap();
        let leak_type = heap.new_type("Leak", &[], &TypeSpec::dict()).unwrap();
        let registry = registry_type.call(&[]).unwrap();
        let items = heap.list().unwrap();
        registry.setattr("items", &items).unwrap();
        let mut last = None;
        for i in 0..100 {
            let n = node_type.call(&[]).unwrap();
            n.setattr("owner", &registry).unwrap();
            n.setattr("number", &heap.int(1000 + i).unwrap()).unwrap();
            items.list_append(&n).unwrap();
            last = Some(n);
        }
        let last = last.unwrap();
        drop(items);
        let (a, b) = (leak_type.call(&[]).unwrap(), leak_type.call(&[]).unwrap());
        a.setattr("other", &b).unwrap();
        b.setattr("other", &a).unwrap();
        let leaked = a.as_ptr().addr() as u64;
        drop((a, b));

        let s = snapshot_of(heap);
        // By type: 100 nodes of 48 bytes (links, header, two inline
        // values), 2 leaks, 1 registry.
        let totals = types::totals_by_type(&s);
        let of = |name: &str| {
            totals
                .iter()
                .find(|t| t.type_name == name)
                .map(|t| (t.objects, t.bytes))
        };
        assert_eq!(of("Node"), Some((100, 4800)));
        assert_eq!(of("Leak"), Some((2, 96)));
        assert_eq!(of("Registry"), Some((1, 48)));

        // The registry is a root (the test holds it); the leaked cycle is not.
        let r = index(&s, &registry);
        assert!(s.roots().contains(&r));
        let retention = dominators::retention(&s);
        assert!(
            retention.retained_bytes[s.index_of(leaked).unwrap()].is_none(),
            "garbage"
        );
        // The registry keeps itself, its list, and the nodes and their ints
        // alive, but for the last node (and its int), which the test holds too.
        assert!(retention.retained_bytes[r].unwrap() >= 48 + 56 + 99 * 48);
        assert_eq!(retention.retained_objects[r], Some(1 + 1 + 99 + 99));

        // Why is the last node alive? The test holds it too, so it is a root;
        // the first node is held only through the registry's list.
        let first = {
            let items = registry.getattr("items").unwrap();
            items.get_item(0).unwrap()
        };
        let (root, hops) = path::shortest_retainer_path(&s, index(&s, &first)).expect("reachable");
        assert_eq!(root, r);
        let kinds: Vec<_> = hops
            .iter()
            .map(|h| s.objects[h.from].edges[h.edge_position].kind)
            .collect();
        assert_eq!(kinds, [EdgeKind::Attribute, EdgeKind::Item]);
        assert!(path::render_path(&s, index(&s, &last)).starts_with("root"));
        assert!(path::render_path(&s, s.index_of(leaked).unwrap()).contains("garbage"));

        // The picture around the registry is well-formed SVG naming it.
        let layers = graph_svg::neighbourhood(&s, r, 1);
        let svg = graph_svg::render_graph_svg(&s, r, &layers, 1);
        let doc = roxmltree::Document::parse(&svg).expect("well-formed SVG");
        assert_eq!(doc.root_element().tag_name().name(), "svg");
        assert!(svg.contains("Registry"));
        let arenas = objrt_inspect::arenas_svg::render_arenas_svg(&s);
        roxmltree::Document::parse(&arenas).expect("well-formed SVG");
    });
}
