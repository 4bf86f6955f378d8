//! Snapshots the tests read, written as the spec (`docs/heap-snapshot.md`)
//! spells them, and a writer of large generated ones.
//!
//! The sample heap (ids in hex, sizes in bytes):
//!
//! ```text
//! host ──> 0x400 Registry (48) ─.items─> 0x500 list (56) ─[0]─> 0x600 Node a (64) ─.other─> 0x700 Node b (64)
//!             │                           │  └─[1]─> 0x700 b,  [2]─> 0x800 int 7 (32)        b.other ─> a
//!             │                           └ (a.value ─> 0x110 None, immortal)
//!             └─.index─> 0xa00 dict (100) ─<key 0>─> 0xa10 str 'first' (53), ['first'] ─> a
//! host ──> 0x200 type Node (400) ─.__dict__─> 0x210 dict (100)
//! host ──> 0x300 type Registry (400)
//! garbage: 0x900 Node c (64) <─.other─> 0x980 Node d (64), both of type Node
//! ```
#![allow(dead_code, reason = "each test file uses a part")]

use std::fmt::Write;
use std::path::PathBuf;

/// The sample heap above.
pub(crate) const SAMPLE: &str = r#"{
  "format": "objrt-heap-snapshot",
  "version": 1,
  "heap": {"objects_live": 14, "bytes_in_use": 1600, "bytes_reserved": 2097152},
  "objects": [
    {"id": 512, "type": "type", "kind": "type", "size": 400, "refcount": 5, "generation": 2, "name": "Node",
     "edges": [{"to": 528, "kind": "namespace"}]},
    {"id": 528, "type": "dict", "kind": "dict", "size": 100, "refcount": 1, "generation": 2, "edges": []},
    {"id": 768, "type": "type", "kind": "type", "size": 400, "refcount": 2, "generation": 2, "name": "Registry", "edges": []},
    {"id": 1024, "type": "Registry", "kind": "instance", "size": 48, "refcount": 1, "generation": 0,
     "edges": [{"to": 768, "kind": "type"},
               {"to": 1280, "kind": "attribute", "name": "items"},
               {"to": 2560, "kind": "attribute", "name": "index"}]},
    {"id": 1280, "type": "list", "kind": "list", "size": 56, "refcount": 1, "generation": 0,
     "edges": [{"to": 1536, "kind": "item", "index": 0},
               {"to": 1792, "kind": "item", "index": 1},
               {"to": 2048, "kind": "item", "index": 2}]},
    {"id": 1536, "type": "Node", "kind": "instance", "size": 64, "refcount": 3, "generation": 0,
     "edges": [{"to": 512, "kind": "type"},
               {"to": 1792, "kind": "attribute", "name": "other"},
               {"to": 272, "kind": "attribute", "name": "value"}]},
    {"id": 1792, "type": "Node", "kind": "instance", "size": 64, "refcount": 2, "generation": 0,
     "edges": [{"to": 512, "kind": "type"},
               {"to": 1536, "kind": "attribute", "name": "other"}]},
    {"id": 2048, "type": "int", "kind": "int", "size": 32, "refcount": 1, "generation": null, "value": "7", "edges": []},
    {"id": 2560, "type": "dict", "kind": "dict", "size": 100, "refcount": 1, "generation": 0,
     "edges": [{"to": 2576, "kind": "key", "index": 0},
               {"to": 1536, "kind": "value", "index": 0}]},
    {"id": 2576, "type": "str", "kind": "str", "size": 53, "refcount": 1, "generation": null, "value": "'first'", "edges": []},
    {"id": 2304, "type": "Node", "kind": "instance", "size": 64, "refcount": 1, "generation": 1,
     "edges": [{"to": 512, "kind": "type"},
               {"to": 2432, "kind": "attribute", "name": "other"}]},
    {"id": 2432, "type": "Node", "kind": "instance", "size": 64, "refcount": 1, "generation": 1,
     "edges": [{"to": 512, "kind": "type"},
               {"to": 2304, "kind": "attribute", "name": "other"}]},
    {"id": 272, "type": "NoneType", "kind": "none", "size": 16, "refcount": null, "generation": null, "value": "None", "edges": []}
  ],
  "arenas": [
    {"address": 140737348763648, "pools": [{"block_size": 64, "used": 12, "capacity": 255}, null,
                                           {"block_size": 16, "used": 1020, "capacity": 1020},
                                           {"block_size": 512, "used": 0, "capacity": 31}]},
    {"address": 140737349812224, "pools": [null, {"block_size": 48, "used": 170, "capacity": 340}]}
  ]
}"#;

/// The sample heap later: the int 7 is gone and a new Node took its
/// address (0x800); another new Node (0xb00) came; the list holds both.
pub(crate) fn sample_later() -> String {
    let mut snapshot: serde_json::Value = serde_json::from_str(SAMPLE).expect("the sample parses");
    let objects = snapshot["objects"].as_array_mut().expect("objects");
    objects.retain(|object| object["id"] != 2048);
    objects[0]["refcount"] = 7.into();
    for id in [2048, 2816] {
        objects.push(serde_json::json!({
            "id": id, "type": "Node", "kind": "instance", "size": 64, "refcount": 1, "generation": 0,
            "edges": [{"to": 512, "kind": "type"}]
        }));
    }
    let list = objects
        .iter_mut()
        .find(|object| object["id"] == 1280)
        .expect("the list");
    list["edges"] = serde_json::json!([
        {"to": 1536, "kind": "item", "index": 0},
        {"to": 1792, "kind": "item", "index": 1},
        {"to": 2048, "kind": "item", "index": 2},
        {"to": 2816, "kind": "item", "index": 3}
    ]);
    snapshot.to_string()
}

/// A snapshot of `chain_length` objects in a chain (`.next`), the first
/// held by the host, and `tree_size` objects in a binary tree (`[0]`,
/// `[1]`), its root held by the host. Chain object `i` has id `1 + i`,
/// tree object `i` has id `1_000_000_000 + i`; every object is 32 bytes.
pub(crate) fn chain_and_tree(chain_length: u64, tree_size: u64) -> String {
    let mut json = String::from(
        r#"{"format": "objrt-heap-snapshot", "version": 1, "heap": null, "objects": ["#,
    );
    let mut separator = "";
    for i in 0..chain_length {
        let edges = if i + 1 < chain_length {
            format!(
                r#"{{"to": {}, "kind": "attribute", "name": "next"}}"#,
                i + 2
            )
        } else {
            String::new()
        };
        let _ = write!(
            json,
            r#"{separator}{{"id": {}, "type": "Link", "size": 32, "refcount": 1, "edges": [{edges}]}}"#,
            i + 1
        );
        separator = ",\n";
    }
    for i in 0..tree_size {
        let children: Vec<String> = [2 * i + 1, 2 * i + 2]
            .into_iter()
            .filter(|&child| child < tree_size)
            .enumerate()
            .map(|(position, child)| {
                format!(
                    r#"{{"to": {}, "kind": "item", "index": {position}}}"#,
                    1_000_000_000 + child
                )
            })
            .collect();
        let _ = write!(
            json,
            r#"{separator}{{"id": {}, "type": "Branch", "size": 32, "refcount": 1, "edges": [{}]}}"#,
            1_000_000_000 + i,
            children.join(", ")
        );
        separator = ",\n";
    }
    json.push_str("], \"arenas\": []}");
    json
}

/// A fresh directory for one test's files.
pub(crate) fn scratch_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("objrt-inspect-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}
