//! `objrt-inspect retainers`: the objects that keep the most memory alive,
//! ranked by retained size (see `dominators.rs`), with a summary of the
//! roots and of the garbage no root reaches. Immortal built-ins are roots
//! but not ranked: they are shared and never freed.

use crate::dominators::{Retention, retention};
use crate::labels::{describe_object, format_id};
use crate::snapshot::{RootKind, Snapshot};
use crate::table::{Align, Table};

/// How many retainers the report lists unless told (`--top N`).
pub const DEFAULT_TOP: usize = 20;

/// One ranked object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retainer {
    /// Its index in the snapshot.
    pub index: usize,
    /// The bytes only it keeps alive, its own included.
    pub retained_bytes: u64,
    /// The objects only it keeps alive, itself included.
    pub retained_objects: u64,
}

/// Every reachable object that is not immortal, largest retained size
/// first (ties: more objects first, then file order).
pub fn rank_retainers(snapshot: &Snapshot, retention: &Retention) -> Vec<Retainer> {
    let mut ranked: Vec<Retainer> = (0..snapshot.objects.len())
        .filter(|&index| snapshot.root_kind(index) != Some(RootKind::Immortal))
        .filter_map(|index| {
            Some(Retainer {
                index,
                retained_bytes: retention.retained_bytes[index]?,
                retained_objects: retention.retained_objects[index]?,
            })
        })
        .collect();
    ranked.sort_by(|a, b| {
        (b.retained_bytes, b.retained_objects, a.index).cmp(&(
            a.retained_bytes,
            a.retained_objects,
            b.index,
        ))
    });
    ranked
}

/// The report: a summary line, then the `top` largest retainers (id, type,
/// own bytes, retained bytes, retained objects).
pub fn render_retainers(snapshot: &Snapshot, top: usize) -> String {
    let retention = retention(snapshot);
    let ranked = rank_retainers(snapshot, &retention);
    let roots = snapshot.roots();
    let immortal = roots
        .iter()
        .filter(|&&index| snapshot.root_kind(index) == Some(RootKind::Immortal))
        .count();
    let (garbage_objects, garbage_bytes) = (0..snapshot.objects.len())
        .filter(|&index| retention.retained_bytes[index].is_none())
        .fold((0u64, 0u64), |(count, bytes), index| {
            (count + 1, bytes + snapshot.objects[index].size)
        });
    let mut out = format!(
        "{} objects; {} roots ({} held by the host, {immortal} immortal); \
         {garbage_objects} objects ({garbage_bytes} bytes) reachable from no root (garbage).\n\n",
        snapshot.objects.len(),
        roots.len(),
        roots.len() - immortal,
    );
    let mut table = Table::new(&[
        ("id", Align::Left),
        ("type", Align::Left),
        ("own bytes", Align::Right),
        ("retained bytes", Align::Right),
        ("retained objects", Align::Right),
    ]);
    for retainer in ranked.iter().take(top) {
        let object = &snapshot.objects[retainer.index];
        table.push_row(vec![
            format_id(object.id),
            describe_object(object),
            object.size.to_string(),
            retainer.retained_bytes.to_string(),
            retainer.retained_objects.to_string(),
        ]);
    }
    out.push_str(&table.render());
    if ranked.len() > top {
        out.push_str(&format!("({} more)\n", ranked.len() - top));
    }
    out
}
