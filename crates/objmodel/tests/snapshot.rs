//! Heap snapshots (`Heap::write_snapshot`, `docs/heap-snapshot.md`): a
//! known heap is written, read back as JSON and checked field by field.

use objmodel::{Obj, TypeSpec, with_heap};
use serde_json::Value;

fn id(o: &Obj<'_>) -> u64 {
    o.as_ptr().addr() as u64
}

/// The record of the object with `id`.
fn record(doc: &Value, id: u64) -> &Value {
    doc["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == id)
        .unwrap_or_else(|| panic!("object {id} is in the snapshot"))
}

fn edges(r: &Value) -> Vec<(u64, String, Value)> {
    r["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let label = e
                .get("name")
                .or(e.get("index"))
                .cloned()
                .unwrap_or(Value::Null);
            (
                e["to"].as_u64().unwrap(),
                e["kind"].as_str().unwrap().to_owned(),
                label,
            )
        })
        .collect()
}

#[test]
fn a_snapshot_lists_every_object_with_its_named_edges() {
    with_heap(|heap| {
        heap.gc().set_enabled(false);
        let node = heap.new_type("Node", &[], &TypeSpec::dict()).unwrap();
        let spec = TypeSpec {
            slots: &["s"],
            ..TypeSpec::default()
        };
        let slotted = heap.new_type("Slotted", &[], &spec).unwrap();
        let (a, b) = (node.call(&[]).unwrap(), node.call(&[]).unwrap());
        let seven = heap.int(7).unwrap();
        let text = heap.str("say \"hi\"\n").unwrap();
        a.setattr("other", &b).unwrap();
        a.setattr("n", &seven).unwrap();
        b.setattr("other", &a).unwrap();
        let list = heap.list().unwrap();
        list.list_append(&a).unwrap();
        list.list_append(&text).unwrap();
        let dict = heap.dict().unwrap();
        dict.dict_set(&seven, &b).unwrap();
        let s = slotted.call(&[]).unwrap();
        s.setattr("s", &list).unwrap();
        heap.collect(0); // everything so far moves to generation 1

        let mut out = Vec::new();
        heap.write_snapshot(&mut out).unwrap();
        let doc: Value = serde_json::from_slice(&out).expect("valid JSON");
        assert_eq!(doc["format"], "objrt-heap-snapshot");
        assert_eq!(doc["version"], 1);
        assert_eq!(
            doc["heap"]["objects_live"],
            heap.stats().objects_live as u64
        );

        let ra = record(&doc, id(&a));
        assert_eq!(ra["type"], "Node");
        assert_eq!(ra["kind"], "instance");
        assert_eq!(ra["refcount"], a.refcount() as u64);
        assert_eq!(ra["generation"], 1);
        assert_eq!(ra["size"], 48, "links, header and two inline values");
        assert_eq!(
            edges(ra),
            [
                (id(&node), "type".to_owned(), Value::Null),
                (id(&b), "attribute".to_owned(), "other".into()),
                (id(&seven), "attribute".to_owned(), "n".into()),
            ]
        );
        let r7 = record(&doc, id(&seven));
        assert_eq!(
            (r7["kind"].as_str(), r7["value"].as_str()),
            (Some("int"), Some("7"))
        );
        assert!(r7["generation"].is_null(), "atoms are untracked");
        assert!(r7["refcount"].is_null(), "small ints are immortal");
        let rt = record(&doc, id(&text));
        assert_eq!(rt["value"], "'say \"hi\"\\n'");
        assert_eq!(
            edges(record(&doc, id(&list))),
            [
                (id(&a), "item".to_owned(), 0.into()),
                (id(&text), "item".to_owned(), 1.into())
            ]
        );
        assert_eq!(
            edges(record(&doc, id(&dict))),
            [
                (id(&seven), "key".to_owned(), 0.into()),
                (id(&b), "value".to_owned(), 0.into())
            ]
        );
        assert_eq!(
            edges(record(&doc, id(&s)))[1],
            (id(&list), "slot".to_owned(), "s".into())
        );
        let rnode = record(&doc, id(&node));
        assert_eq!(
            (rnode["kind"].as_str(), rnode["name"].as_str()),
            (Some("type"), Some("Node"))
        );
        assert_eq!(edges(rnode)[0].1, "namespace");

        // Every edge leads to an object in the snapshot, listed once.
        let objects = doc["objects"].as_array().unwrap();
        let ids: std::collections::HashSet<u64> =
            objects.iter().map(|o| o["id"].as_u64().unwrap()).collect();
        assert_eq!(ids.len(), objects.len(), "no object twice");
        for o in objects {
            for (to, _, _) in edges(o) {
                assert!(ids.contains(&to), "edge to {to} leads into the snapshot");
            }
        }
        // The allocator: 64 pools per arena, the used blocks as the statistics count them.
        let arenas = doc["arenas"].as_array().unwrap();
        assert_eq!(arenas.len(), heap.stats().memory.arenas);
        assert!(
            arenas
                .iter()
                .all(|a| a["pools"].as_array().unwrap().len() == 64)
        );
        let used: u64 = arenas
            .iter()
            .flat_map(|a| a["pools"].as_array().unwrap().iter())
            .filter(|p| !p.is_null())
            .map(|p| p["used"].as_u64().unwrap() * p["block_size"].as_u64().unwrap())
            .sum();
        assert!(used <= heap.stats().memory.bytes_in_use as u64);
    });
}
