//! Each report's figures on the sample heap of `common/mod.rs`, checked
//! field by field: the types table, the retained sizes, the retainer
//! paths, the diff, and the two pictures (parsed as XML).

mod common;

use objrt_inspect::Snapshot;
use objrt_inspect::diff::{TypeChange, diff_snapshots, render_diff};
use objrt_inspect::dominators::retention;
use objrt_inspect::graph_svg::{Layer, MAX_NODES_PER_LAYER, neighbourhood, render_graph_svg};
use objrt_inspect::path::{render_path, shortest_retainer_path};
use objrt_inspect::retainers::{rank_retainers, render_retainers};
use objrt_inspect::snapshot::RootKind;
use objrt_inspect::types::{TypeTotal, render_types, totals_by_type};

fn sample() -> Snapshot {
    Snapshot::from_json(common::SAMPLE).expect("the sample is a snapshot")
}

/// The cells of each Markdown table row of `report` (header and rule
/// included), trimmed.
fn table_rows(report: &str) -> Vec<Vec<String>> {
    report
        .lines()
        .filter(|line| line.starts_with('|'))
        .map(|line| {
            line.trim_matches('|')
                .split('|')
                .map(|cell| cell.trim().to_owned())
                .collect()
        })
        .collect()
}

fn cells(values: &[&str]) -> Vec<String> {
    values.iter().map(|&value| value.to_owned()).collect()
}

fn index(snapshot: &Snapshot, id: u64) -> usize {
    snapshot.index_of(id).expect("the id is in the sample")
}

#[test]
fn roots_are_host_held_or_immortal() {
    let snapshot = sample();
    let roots: Vec<(u64, RootKind)> = snapshot
        .roots()
        .into_iter()
        .map(|root| (snapshot.objects[root].id, snapshot.root_kind(root).unwrap()))
        .collect();
    let held = RootKind::HeldByHost { references: 1 };
    assert_eq!(
        roots,
        vec![
            (0x200, held),
            (0x300, held),
            (0x400, held),
            (0x110, RootKind::Immortal)
        ]
    );
}

#[test]
fn types_table_counts_objects_and_bytes_by_type() {
    let totals = totals_by_type(&sample());
    let expected = [
        ("type", 2, 800),
        ("Node", 4, 256),
        ("dict", 2, 200),
        ("list", 1, 56),
        ("str", 1, 53),
        ("Registry", 1, 48),
        ("int", 1, 32),
        ("NoneType", 1, 16),
    ];
    assert_eq!(
        totals,
        expected
            .iter()
            .map(|&(name, objects, bytes)| TypeTotal {
                type_name: name.to_owned(),
                objects,
                bytes
            })
            .collect::<Vec<_>>()
    );
    let report = render_types(&sample());
    assert!(report.starts_with("| type     | objects | bytes |  share |\n"));
    let rows = table_rows(&report);
    assert_eq!(rows[0], cells(&["type", "objects", "bytes", "share"]));
    assert_eq!(rows[2], cells(&["type", "2", "800", "54.8%"]));
    assert_eq!(rows[3], cells(&["Node", "4", "256", "17.5%"]));
    assert_eq!(rows[9], cells(&["NoneType", "1", "16", "1.1%"]));
    assert_eq!(rows[10], cells(&["total", "13", "1461", "100.0%"]));
    assert_eq!(rows.len(), 11);
    assert!(report.contains("The heap reports 14 live objects and 1600 bytes in use"));
}

#[test]
fn retained_sizes_follow_the_dominator_tree() {
    let snapshot = sample();
    let retention = retention(&snapshot);
    let retained = |id| {
        let i = index(&snapshot, id);
        (retention.retained_bytes[i], retention.retained_objects[i])
    };
    // The Registry keeps its list, its dict, the dict's key, both Nodes
    // (reached through the list and through the dict, both its own) and
    // the int: 48 + 56 + 100 + 53 + 64 + 64 + 32.
    assert_eq!(retained(0x400), (Some(417), Some(7)));
    assert_eq!(retained(0x500), (Some(88), Some(2)));
    assert_eq!(retained(0xa00), (Some(153), Some(2)));
    // a and b refer to each other but each is reached without the other.
    assert_eq!(retained(0x600), (Some(64), Some(1)));
    assert_eq!(retained(0x700), (Some(64), Some(1)));
    // The class keeps its namespace; the garbage Nodes are not counted.
    assert_eq!(retained(0x200), (Some(500), Some(2)));
    // None is a root of its own, not retained by a.
    assert_eq!(retained(0x110), (Some(16), Some(1)));
    // The unreachable cycle.
    assert_eq!(retained(0x900), (None, None));
    assert_eq!(retained(0x980), (None, None));

    let ranked: Vec<(u64, u64, u64)> = rank_retainers(&snapshot, &retention)
        .iter()
        .map(|r| {
            (
                snapshot.objects[r.index].id,
                r.retained_bytes,
                r.retained_objects,
            )
        })
        .collect();
    assert_eq!(
        ranked,
        vec![
            (0x200, 500, 2),
            (0x400, 417, 7),
            (0x300, 400, 1),
            (0xa00, 153, 2),
            (0x210, 100, 1),
            (0x500, 88, 2),
            (0x600, 64, 1),
            (0x700, 64, 1),
            (0xa10, 53, 1),
            (0x800, 32, 1),
        ],
        "every reachable mortal object, largest first; None is left out"
    );

    let report = render_retainers(&snapshot, 2);
    assert!(report.starts_with(
        "13 objects; 4 roots (3 held by the host, 1 immortal); \
         2 objects (128 bytes) reachable from no root (garbage).\n"
    ));
    let rows = table_rows(&report);
    assert_eq!(
        rows[0],
        cells(&[
            "id",
            "type",
            "own bytes",
            "retained bytes",
            "retained objects"
        ])
    );
    assert_eq!(rows[2], cells(&["0x200", "type Node", "400", "500", "2"]));
    assert_eq!(rows[3], cells(&["0x400", "Registry", "48", "417", "7"]));
    assert_eq!(rows.len(), 4);
    assert!(report.ends_with("(8 more)\n"));
}

#[test]
fn path_goes_from_the_nearest_root_one_hop_per_line() {
    let snapshot = sample();
    let (root, hops) = shortest_retainer_path(&snapshot, index(&snapshot, 0x700)).unwrap();
    assert_eq!(snapshot.objects[root].id, 0x400);
    let steps: Vec<(u64, usize, u64)> = hops
        .iter()
        .map(|hop| {
            (
                snapshot.objects[hop.from].id,
                hop.edge_position,
                snapshot.objects[hop.to].id,
            )
        })
        .collect();
    assert_eq!(steps, vec![(0x400, 1, 0x500), (0x500, 1, 0x700)]);
    assert_eq!(
        render_path(&snapshot, index(&snapshot, 0x700)),
        "root 0x400 (Registry, held by the host: 1 reference)\n\
         \x20 .items [attribute] -> 0x500 (list)\n\
         \x20 [1] [item] -> 0x700 (Node)\n"
    );
    assert_eq!(
        render_path(&snapshot, index(&snapshot, 0xa10)),
        "root 0x400 (Registry, held by the host: 1 reference)\n\
         \x20 .index [attribute] -> 0xa00 (dict)\n\
         \x20 <key 0> [key] -> 0xa10 (str 'first')\n"
    );
    assert_eq!(
        render_path(&snapshot, index(&snapshot, 0x110)),
        "root 0x110 (NoneType None, immortal)\n"
    );
    assert_eq!(
        render_path(&snapshot, index(&snapshot, 0x210)),
        "root 0x200 (type Node, held by the host: 1 reference)\n\
         \x20 .__dict__ [namespace] -> 0x210 (dict)\n"
    );
    let garbage = render_path(&snapshot, index(&snapshot, 0x980));
    assert!(garbage.starts_with("0x980 (Node) is reachable from no root"));
    assert!(garbage.contains("garbage"));
    assert_eq!(
        shortest_retainer_path(&snapshot, index(&snapshot, 0x900)),
        None
    );
}

#[test]
fn dict_values_are_labelled_by_their_key() {
    let snapshot = sample();
    let dict = index(&snapshot, 0xa00);
    assert_eq!(
        objrt_inspect::labels::edge_label(&snapshot, dict, 1),
        "['first']"
    );
}

#[test]
fn diff_by_type_and_new_ids() {
    let old = sample();
    let new = Snapshot::from_json(&common::sample_later()).unwrap();
    let diff = diff_snapshots(&old, &new);
    let change = |name: &str, objects: (u64, u64), bytes: (u64, u64)| TypeChange {
        type_name: name.to_owned(),
        objects_before: objects.0,
        objects_after: objects.1,
        bytes_before: bytes.0,
        bytes_after: bytes.1,
    };
    assert_eq!(diff.types[0], change("Node", (4, 6), (256, 384)));
    assert_eq!(diff.types.last(), Some(&change("int", (1, 0), (32, 0))));
    assert_eq!(diff.types.len(), 8);
    // 0x800 was an int and is now a Node: only 0xb00 counts as new.
    assert_eq!((diff.new_ids, diff.gone_ids), (1, 0));

    let report = render_diff(&old, &new);
    let rows = table_rows(&report);
    assert_eq!(
        rows[2],
        cells(&["Node", "4", "6", "+2", "256", "384", "+128"])
    );
    assert_eq!(rows[3], cells(&["int", "1", "0", "-1", "32", "0", "-32"]));
    assert_eq!(
        rows[4],
        cells(&["total", "13", "14", "+1", "1461", "1557", "+96"])
    );
    assert_eq!(rows.len(), 5);
    assert!(report.contains("\n(6 types unchanged)\n"));
    assert!(report.contains(
        "1 objects of the new snapshot have an id the old one lacks; 0 ids of the old one are gone"
    ));
    assert!(report.contains("the per-type object deltas above are the reliable figure"));
}

#[test]
fn graph_layers_place_retainers_left_and_referents_right() {
    let snapshot = sample();
    let ids = |layer: &Layer| -> Vec<u64> {
        layer
            .objects
            .iter()
            .map(|&i| snapshot.objects[i].id)
            .collect()
    };
    let layers = neighbourhood(&snapshot, index(&snapshot, 0x600), 2);
    let shape: Vec<(i64, Vec<u64>, usize)> = layers
        .iter()
        .map(|layer| (layer.distance, ids(layer), layer.hidden))
        .collect();
    assert_eq!(
        shape,
        vec![
            (-2, vec![0x400], 0),
            (-1, vec![0x500, 0x700, 0xa00], 0),
            (0, vec![0x600], 0),
            (1, vec![0x200, 0x110], 0),
            (2, vec![0x210], 0),
        ]
    );
    // Depth 0: the object alone.
    assert_eq!(
        neighbourhood(&snapshot, index(&snapshot, 0x600), 0).len(),
        1
    );
}

#[test]
fn graph_svg_is_well_formed_and_labelled() {
    let snapshot = sample();
    let center = index(&snapshot, 0x600);
    let svg = render_graph_svg(&snapshot, center, &neighbourhood(&snapshot, center, 2), 2);
    let document = roxmltree::Document::parse(&svg).expect("well-formed XML");
    let texts: Vec<&str> = document
        .descendants()
        .filter(|node| node.has_tag_name("text"))
        .filter_map(|node| node.text())
        .collect();
    for expected in [
        "Registry",
        "list",
        "dict",
        "Node",
        "type Node",
        "NoneType None",
        "0x600",
        "0x400",
        ".items",
        "[0]",
        "['first']",
        ".other",
        ".__class__",
        ".value",
        ".__dict__",
        "object",
        "retainers, distance 2",
        "referents, distance 1",
    ] {
        assert!(
            texts.contains(&expected),
            "no text {expected:?} in {texts:?}"
        );
    }
    let boxes = document
        .descendants()
        .filter(|node| node.has_tag_name("rect") && node.attribute("class") == Some("object"))
        .count();
    assert_eq!(boxes, 7, "every object but the centre in an ordinary box");
    assert_eq!(
        document
            .descendants()
            .filter(|node| node.attribute("class") == Some("center"))
            .count(),
        1
    );
}

#[test]
fn graph_columns_stop_at_forty_and_say_how_many_more() {
    // One list holding 100 ints.
    let items: Vec<String> = (0..100)
        .map(|i| format!(r#"{{"to": {}, "kind": "item", "index": {i}}}"#, 1000 + i))
        .collect();
    let ints: Vec<String> = (0..100)
        .map(|i| {
            format!(
                r#"{{"id": {}, "type": "int", "size": 32, "refcount": 1, "value": "{i}", "edges": []}}"#,
                1000 + i
            )
        })
        .collect();
    let json = format!(
        r#"{{"format": "objrt-heap-snapshot", "version": 1, "objects": [
            {{"id": 1, "type": "list", "size": 56, "refcount": 1, "edges": [{}]}}, {}]}}"#,
        items.join(","),
        ints.join(",")
    );
    let snapshot = Snapshot::from_json(&json).unwrap();
    let layers = neighbourhood(&snapshot, 0, 2);
    assert_eq!(layers.len(), 2);
    assert_eq!(layers[1].objects.len(), MAX_NODES_PER_LAYER);
    assert_eq!(layers[1].hidden, 60);
    let svg = render_graph_svg(&snapshot, 0, &neighbourhood(&snapshot, 0, 2), 2);
    let document = roxmltree::Document::parse(&svg).expect("well-formed XML");
    assert!(
        document
            .descendants()
            .any(|node| node.text() == Some("+60 more"))
    );
    assert!(
        document
            .descendants()
            .any(|node| node.text() == Some("int 39"))
    );
    assert!(
        !document
            .descendants()
            .any(|node| node.text() == Some("int 40"))
    );
}

#[test]
fn arenas_svg_is_well_formed_with_a_cell_per_pool() {
    let svg = objrt_inspect::arenas_svg::render_arenas_svg(&sample());
    let document = roxmltree::Document::parse(&svg).expect("well-formed XML");
    let titles: Vec<&str> = document
        .descendants()
        .filter(|node| node.has_tag_name("title"))
        .filter_map(|node| node.text())
        .collect();
    assert_eq!(
        titles,
        vec![
            "pool 0: 64-byte blocks, 12 of 255 in use (4.7%)",
            "pool 1: empty",
            "pool 2: 16-byte blocks, 1020 of 1020 in use (100.0%)",
            "pool 3: 512-byte blocks, 0 of 31 in use (0.0%)",
            "pool 0: empty",
            "pool 1: 48-byte blocks, 170 of 340 in use (50.0%)",
        ]
    );
    let texts: Vec<&str> = document
        .descendants()
        .filter(|node| node.has_tag_name("text"))
        .filter_map(|node| node.text())
        .collect();
    for expected in [
        "0x7ffff7ae0000",
        "0x7ffff7be0000",
        "empty pool",
        "100% in use",
        "3 pools in use, 79.0% of their blocks",
        "1 pools in use, 50.0% of their blocks",
    ] {
        assert!(
            texts.contains(&expected),
            "no text {expected:?} in {texts:?}"
        );
    }
    // Full pool: a fill as tall as its cell, in the darkest shade.
    let fills: Vec<(String, String)> = document
        .descendants()
        .filter(|node| {
            node.attribute("class")
                .is_some_and(|c| c.starts_with("fill-"))
        })
        // Cells of arenas are in groups (with their title), the legend's not.
        .filter(|node| node.parent().is_some_and(|parent| parent.has_tag_name("g")))
        .map(|node| {
            (
                node.attribute("class").unwrap().to_owned(),
                node.attribute("height").unwrap().to_owned(),
            )
        })
        .collect();
    assert!(fills.contains(&("fill-3".to_owned(), "14.0".to_owned())));
    assert!(fills.contains(&("fill-1".to_owned(), "7.0".to_owned())));
}

#[test]
fn text_from_the_snapshot_is_escaped_in_svg() {
    let json = r#"{"format": "objrt-heap-snapshot", "version": 1, "objects": [
        {"id": 1, "type": "A<&>\"'", "size": 8, "refcount": 1,
         "edges": [{"to": 2, "kind": "attribute", "name": "x<y"}]},
        {"id": 2, "type": "str", "size": 8, "refcount": 1, "value": "'</svg>\u0001'", "edges": []}]}"#;
    let snapshot = Snapshot::from_json(json).unwrap();
    let svg = render_graph_svg(&snapshot, 0, &neighbourhood(&snapshot, 0, 2), 2);
    let document = roxmltree::Document::parse(&svg).expect("well-formed XML");
    assert!(
        document
            .descendants()
            .any(|node| node.text() == Some("A<&>\"'"))
    );
    assert!(
        document
            .descendants()
            .any(|node| node.text() == Some(".x<y"))
    );
}
