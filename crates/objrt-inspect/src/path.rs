//! `objrt-inspect path`: why is this object alive? The shortest chain of
//! references from a root to it, found by a breadth-first walk forward from
//! all roots at once (host-held roots queued before immortal ones, so they
//! win ties), one hop per line.

use std::collections::VecDeque;

use crate::labels::{describe_object, edge_kind_name, edge_label, format_id};
use crate::snapshot::{RootKind, Snapshot};

/// "No object" in the walk's records.
const NONE: usize = usize::MAX;

/// One step of a retainer path: object `from`'s edge `edge_position` leads
/// to `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hop {
    /// The referring object's index.
    pub from: usize,
    /// The position of the edge among `from`'s edges.
    pub edge_position: usize,
    /// The referred object's index.
    pub to: usize,
}

/// A shortest path from a root to `target`: the root, then the hops
/// (none when the target is a root itself). `None` when no root reaches
/// the target.
pub fn shortest_retainer_path(snapshot: &Snapshot, target: usize) -> Option<(usize, Vec<Hop>)> {
    let graph = snapshot.references();
    // How each object was first reached: (referrer, edge position); a root
    // has (NONE, 0).
    let mut reached_by = vec![(NONE, NONE); snapshot.objects.len()];
    let mut queue = VecDeque::new();
    for root in snapshot.roots() {
        reached_by[root] = (NONE, 0);
        queue.push_back(root);
    }
    while let Some(object) = queue.pop_front() {
        if object == target {
            break;
        }
        for (edge_position, &next) in graph.successors(object).iter().enumerate() {
            if reached_by[next].1 == NONE {
                reached_by[next] = (object, edge_position);
                queue.push_back(next);
            }
        }
    }
    if reached_by[target].1 == NONE {
        return None;
    }
    let mut hops = Vec::new();
    let mut current = target;
    while reached_by[current].0 != NONE {
        let (from, edge_position) = reached_by[current];
        hops.push(Hop {
            from,
            edge_position,
            to: current,
        });
        current = from;
    }
    hops.reverse();
    Some((current, hops))
}

/// The report for the object at `target`: the root line, then one line per
/// hop (`  .items [attribute] -> 0x… (list)`), or why it has no path.
pub fn render_path(snapshot: &Snapshot, target: usize) -> String {
    let object = &snapshot.objects[target];
    let Some((root, hops)) = shortest_retainer_path(snapshot, target) else {
        return format!(
            "{} ({}) is reachable from no root: nothing outside the snapshot holds it \
             or anything that refers to it, so it is garbage (kept only by references \
             among garbage, as in a cycle) that a collection would free.\n",
            format_id(object.id),
            describe_object(object)
        );
    };
    let root_object = &snapshot.objects[root];
    let why = match snapshot.root_kind(root) {
        Some(RootKind::HeldByHost { references }) => format!(
            "held by the host: {references} reference{}",
            if references == 1 { "" } else { "s" }
        ),
        Some(RootKind::Immortal) => "immortal".to_owned(),
        None => unreachable!("the walk starts at the roots"),
    };
    let mut out = format!(
        "root {} ({}, {why})\n",
        format_id(root_object.id),
        describe_object(root_object)
    );
    for hop in &hops {
        let edge = &snapshot.objects[hop.from].edges[hop.edge_position];
        let to = &snapshot.objects[hop.to];
        out.push_str(&format!(
            "  {} [{}] -> {} ({})\n",
            edge_label(snapshot, hop.from, hop.edge_position),
            edge_kind_name(edge.kind),
            format_id(to.id),
            describe_object(to)
        ));
    }
    out
}
