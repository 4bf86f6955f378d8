//! `objrt-inspect types`: how many objects of each type the snapshot holds
//! and how many bytes their blocks take, the largest first.

use std::collections::HashMap;

use crate::snapshot::Snapshot;
use crate::table::{Align, Table, percentage};

/// The objects of one type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeTotal {
    /// The type's name (two classes of one name are counted together).
    pub type_name: String,
    /// How many objects.
    pub objects: u64,
    /// Their bytes.
    pub bytes: u64,
}

/// Objects and bytes by type name, sorted by bytes, then objects (both
/// largest first), then name.
pub fn totals_by_type(snapshot: &Snapshot) -> Vec<TypeTotal> {
    let mut by_name: HashMap<&str, (u64, u64)> = HashMap::new();
    for object in &snapshot.objects {
        let entry = by_name.entry(&object.type_name).or_default();
        entry.0 += 1;
        entry.1 += object.size;
    }
    let mut totals: Vec<TypeTotal> = by_name
        .into_iter()
        .map(|(type_name, (objects, bytes))| TypeTotal {
            type_name: type_name.to_owned(),
            objects,
            bytes,
        })
        .collect();
    totals.sort_by(|a, b| {
        (b.bytes, b.objects)
            .cmp(&(a.bytes, a.objects))
            .then_with(|| a.type_name.cmp(&b.type_name))
    });
    totals
}

/// The report: a table (type, objects, bytes, share of bytes) with a total
/// row, and the writer's heap totals when the snapshot has them.
pub fn render_types(snapshot: &Snapshot) -> String {
    let totals = totals_by_type(snapshot);
    let all_objects: u64 = totals.iter().map(|total| total.objects).sum();
    let all_bytes: u64 = totals.iter().map(|total| total.bytes).sum();
    let mut table = Table::new(&[
        ("type", Align::Left),
        ("objects", Align::Right),
        ("bytes", Align::Right),
        ("share", Align::Right),
    ]);
    for total in &totals {
        table.push_row(vec![
            total.type_name.clone(),
            total.objects.to_string(),
            total.bytes.to_string(),
            percentage(total.bytes, all_bytes),
        ]);
    }
    table.push_row(vec![
        "total".to_owned(),
        all_objects.to_string(),
        all_bytes.to_string(),
        percentage(all_bytes, all_bytes),
    ]);
    let mut out = table.render();
    if let Some(heap) = &snapshot.heap {
        out.push_str(&format!(
            "\nThe heap reports {} live objects and {} bytes in use ({} reserved); \
             the snapshot lists only tracked objects and what they refer to.\n",
            heap.objects_live, heap.bytes_in_use, heap.bytes_reserved
        ));
    }
    out
}
