//! `objrt-inspect diff`: what changed between two snapshots of one heap,
//! by type (objects and bytes before, after, and the change), the largest
//! growth in bytes first; and how many ids are new. Addresses are reused
//! once freed, so a "new" id may be an old address holding a new object:
//! the per-type deltas are the reliable figure.

use std::collections::{BTreeMap, HashSet};

use crate::snapshot::Snapshot;
use crate::table::{Align, Table, signed_delta};
use crate::types::totals_by_type;

/// One type's figures in the two snapshots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeChange {
    /// The type's name.
    pub type_name: String,
    /// Objects in the old snapshot.
    pub objects_before: u64,
    /// Objects in the new snapshot.
    pub objects_after: u64,
    /// Bytes in the old snapshot.
    pub bytes_before: u64,
    /// Bytes in the new snapshot.
    pub bytes_after: u64,
}

impl TypeChange {
    /// Bytes after minus bytes before.
    pub fn byte_growth(&self) -> i128 {
        i128::from(self.bytes_after) - i128::from(self.bytes_before)
    }

    /// Objects after minus objects before.
    pub fn object_growth(&self) -> i128 {
        i128::from(self.objects_after) - i128::from(self.objects_before)
    }
}

/// What changed from `old` to `new`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotDiff {
    /// Every type of either snapshot, the largest byte growth first (then
    /// object growth, then name).
    pub types: Vec<TypeChange>,
    /// Objects of `new` whose id `old` does not have.
    pub new_ids: u64,
    /// Objects of `old` whose id `new` does not have.
    pub gone_ids: u64,
}

/// Compares two snapshots.
pub fn diff_snapshots(old: &Snapshot, new: &Snapshot) -> SnapshotDiff {
    let mut by_name: BTreeMap<String, TypeChange> = BTreeMap::new();
    for total in totals_by_type(old) {
        let entry = by_name
            .entry(total.type_name.clone())
            .or_insert_with(|| empty_change(&total.type_name));
        entry.objects_before = total.objects;
        entry.bytes_before = total.bytes;
    }
    for total in totals_by_type(new) {
        let entry = by_name
            .entry(total.type_name.clone())
            .or_insert_with(|| empty_change(&total.type_name));
        entry.objects_after = total.objects;
        entry.bytes_after = total.bytes;
    }
    let mut types: Vec<TypeChange> = by_name.into_values().collect();
    types.sort_by(|a, b| {
        (b.byte_growth(), b.object_growth())
            .cmp(&(a.byte_growth(), a.object_growth()))
            .then_with(|| a.type_name.cmp(&b.type_name))
    });
    let old_ids: HashSet<u64> = old.objects.iter().map(|object| object.id).collect();
    let new_ids: HashSet<u64> = new.objects.iter().map(|object| object.id).collect();
    SnapshotDiff {
        types,
        new_ids: new_ids.difference(&old_ids).count() as u64,
        gone_ids: old_ids.difference(&new_ids).count() as u64,
    }
}

fn empty_change(type_name: &str) -> TypeChange {
    TypeChange {
        type_name: type_name.to_owned(),
        objects_before: 0,
        objects_after: 0,
        bytes_before: 0,
        bytes_after: 0,
    }
}

/// The report: a table of the types that changed, a total row, the count
/// of unchanged types, and the new and gone ids with their caveat.
pub fn render_diff(old: &Snapshot, new: &Snapshot) -> String {
    let diff = diff_snapshots(old, new);
    let mut table = Table::new(&[
        ("type", Align::Left),
        ("objects before", Align::Right),
        ("objects after", Align::Right),
        ("objects delta", Align::Right),
        ("bytes before", Align::Right),
        ("bytes after", Align::Right),
        ("bytes delta", Align::Right),
    ]);
    let mut total = empty_change("total");
    let mut unchanged = 0;
    for change in &diff.types {
        total.objects_before += change.objects_before;
        total.objects_after += change.objects_after;
        total.bytes_before += change.bytes_before;
        total.bytes_after += change.bytes_after;
        if change.objects_before == change.objects_after
            && change.bytes_before == change.bytes_after
        {
            unchanged += 1;
            continue;
        }
        table.push_row(change_row(change));
    }
    table.push_row(change_row(&total));
    let mut out = table.render();
    if unchanged > 0 {
        out.push_str(&format!("({unchanged} types unchanged)\n"));
    }
    out.push_str(&format!(
        "\n{} objects of the new snapshot have an id the old one lacks; {} ids of the old one are gone. \
         Addresses are reused after a free, so these counts are a hint: \
         the per-type object deltas above are the reliable figure.\n",
        diff.new_ids, diff.gone_ids
    ));
    out
}

fn change_row(change: &TypeChange) -> Vec<String> {
    vec![
        change.type_name.clone(),
        change.objects_before.to_string(),
        change.objects_after.to_string(),
        signed_delta(change.objects_before, change.objects_after),
        change.bytes_before.to_string(),
        change.bytes_after.to_string(),
        signed_delta(change.bytes_before, change.bytes_after),
    ]
}
