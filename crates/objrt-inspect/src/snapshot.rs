//! Reading a heap snapshot (`docs/heap-snapshot.md`, version 1) into the
//! form every report works on: the objects in file order, each edge turned
//! from an id into the index of its target, the reference graph, and which
//! objects are roots.
//!
//! A root is an object held from outside the snapshot: its `refcount`
//! exceeds the number of edges to it (the host holds the difference), or it
//! is immortal (`refcount: null`, a shared built-in). Fields the reports do
//! not use (`kind`, `generation`) are not read.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use crate::digraph::Digraph;
use crate::error::InspectError;

/// The `format` field of every snapshot this tool reads.
pub const FORMAT_NAME: &str = "objrt-heap-snapshot";
/// The `version` field of every snapshot this tool reads.
pub const FORMAT_VERSION: u64 = 1;

/// The `heap` totals the writer reports (they count what the snapshot may
/// leave out: ints held only by the host, blocks over 512 bytes).
#[derive(Debug, Clone, Deserialize)]
pub struct HeapTotals {
    /// Objects alive in the heap.
    pub objects_live: u64,
    /// Bytes of blocks handed out.
    pub bytes_in_use: u64,
    /// Bytes the allocator holds from the operating system.
    pub bytes_reserved: u64,
}

/// One arena of the allocator: its pools in address order.
#[derive(Debug, Clone, Deserialize)]
pub struct Arena {
    /// The arena's address.
    pub address: u64,
    /// Each pool, `None` when empty.
    pub pools: Vec<Option<Pool>>,
}

/// A pool in use: blocks of one size.
#[derive(Debug, Clone, Deserialize)]
pub struct Pool {
    /// The size of each block, in bytes.
    pub block_size: u64,
    /// Blocks handed out.
    pub used: u64,
    /// Blocks the pool can hold.
    pub capacity: u64,
}

/// What an edge is, by the table of `docs/heap-snapshot.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EdgeKind {
    /// An instance to its class.
    Type,
    /// An instance to an attribute value (`name`).
    Attribute,
    /// An instance to a slot value (`name`).
    Slot,
    /// An instance in dict mode to its `__dict__`.
    Dict,
    /// An instance to what its payload's traverse hook reports.
    Payload,
    /// A tuple or list to an item (`index`).
    Item,
    /// A dict to a key (`index`: the entry's position).
    Key,
    /// A dict to a value (`index`: the entry's position).
    Value,
    /// A class to its namespace dict.
    Namespace,
    /// A class to a base (`index`).
    Base,
    /// A bound method to its function.
    Function,
    /// A bound method to its object.
    #[serde(rename = "self")]
    SelfObject,
    /// A property to its getter.
    Getter,
    /// A property to its setter.
    Setter,
    /// A weak reference to its callback.
    Callback,
    /// A kind this version of the tool does not know (a later writer's).
    #[serde(other)]
    Other,
}

/// A reference from one object to another.
#[derive(Debug, Clone)]
pub struct Edge {
    /// The index (in [`Snapshot::objects`]) of the object referred to.
    pub target: usize,
    /// What the reference is.
    pub kind: EdgeKind,
    /// The attribute's or slot's name.
    pub name: Option<String>,
    /// The item's, entry's or base's position.
    pub index: Option<u64>,
}

/// One object of the snapshot.
#[derive(Debug, Clone)]
pub struct Object {
    /// Its address, unique within the snapshot.
    pub id: u64,
    /// The name of its type.
    pub type_name: String,
    /// The bytes of its block.
    pub size: u64,
    /// Its reference count; `None` when immortal.
    pub refcount: Option<u64>,
    /// Its `repr`, for None, bools, ints, floats and strs.
    pub value: Option<String>,
    /// Its name, for types and functions.
    pub name: Option<String>,
    /// The references it holds, in order.
    pub edges: Vec<Edge>,
}

/// Why a root is one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootKind {
    /// An immortal object (`refcount: null`): a shared built-in.
    Immortal,
    /// Something outside the snapshot (the host) holds this many references.
    HeldByHost {
        /// `refcount` minus the number of edges to the object.
        references: u64,
    },
}

/// A heap snapshot, read and checked.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The writer's heap totals, if it gave them.
    pub heap: Option<HeapTotals>,
    /// Every object, in file order.
    pub objects: Vec<Object>,
    /// The allocator's arenas.
    pub arenas: Vec<Arena>,
    /// Object index by id.
    index_by_id: HashMap<u64, usize>,
    /// Node `i` is object `i`; its successors are its edges' targets, in
    /// edge order.
    references: Digraph,
    /// The number of edges to each object.
    referrer_counts: Vec<u64>,
}

/// The snapshot as the file spells it, before ids become indices.
#[derive(Deserialize)]
struct RawSnapshot {
    format: String,
    version: u64,
    heap: Option<HeapTotals>,
    objects: Vec<RawObject>,
    #[serde(default)]
    arenas: Vec<Arena>,
}

/// Only the fields that name the format, read when a file fails to parse as
/// a snapshot, to say whether it is another format or version.
#[derive(Deserialize)]
struct FormatHeader {
    format: Option<serde_json::Value>,
    version: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawObject {
    id: u64,
    #[serde(rename = "type")]
    type_name: String,
    size: u64,
    refcount: Option<u64>,
    value: Option<String>,
    name: Option<String>,
    #[serde(default)]
    edges: Vec<RawEdge>,
}

#[derive(Deserialize)]
struct RawEdge {
    to: u64,
    kind: EdgeKind,
    name: Option<String>,
    index: Option<u64>,
}

impl Snapshot {
    /// Reads the snapshot in the file at `path`.
    pub fn read(path: &Path) -> Result<Snapshot, InspectError> {
        let text = std::fs::read_to_string(path).map_err(|source| InspectError::Io {
            path: path.to_owned(),
            source,
        })?;
        Snapshot::from_json(&text).map_err(|reason| InspectError::InvalidSnapshot {
            path: path.to_owned(),
            reason,
        })
    }

    /// Reads a snapshot from its JSON text; the error says what is wrong.
    pub fn from_json(text: &str) -> Result<Snapshot, String> {
        let raw: RawSnapshot = match serde_json::from_str(text) {
            Ok(raw) => raw,
            Err(error) => return Err(explain_parse_failure(text, error)),
        };
        check_format(&raw.format, raw.version)?;
        let mut index_by_id = HashMap::with_capacity(raw.objects.len());
        for (index, object) in raw.objects.iter().enumerate() {
            if index_by_id.insert(object.id, index).is_some() {
                return Err(format!("two objects have the id {}", format_id(object.id)));
            }
        }
        let objects = raw
            .objects
            .into_iter()
            .map(|object| resolve_object(object, &index_by_id))
            .collect::<Result<Vec<Object>, String>>()?;
        let references = Digraph::from_fn(objects.len(), |v| {
            objects[v].edges.iter().map(|edge| edge.target)
        });
        let referrer_counts = references.in_degrees();
        Ok(Snapshot {
            heap: raw.heap,
            objects,
            arenas: raw.arenas,
            index_by_id,
            references,
            referrer_counts,
        })
    }

    /// The index of the object with this id.
    pub fn index_of(&self, id: u64) -> Option<usize> {
        self.index_by_id.get(&id).copied()
    }

    /// The reference graph: node `i` is object `i`, position `k` of its
    /// successors is its edge `k`.
    pub fn references(&self) -> &Digraph {
        &self.references
    }

    /// Whether object `index` is a root, and why.
    pub fn root_kind(&self, index: usize) -> Option<RootKind> {
        match self.objects[index].refcount {
            None => Some(RootKind::Immortal),
            Some(refcount) if refcount > self.referrer_counts[index] => {
                Some(RootKind::HeldByHost {
                    references: refcount - self.referrer_counts[index],
                })
            }
            Some(_) => None,
        }
    }

    /// The roots, objects held by the host first (in file order), then the
    /// immortal ones: walks that start from all roots at once reach an
    /// object from a host-held root when one is as near as a built-in.
    pub fn roots(&self) -> Vec<usize> {
        let (mut held, immortal): (Vec<usize>, Vec<usize>) = (0..self.objects.len())
            .filter(|&index| self.root_kind(index).is_some())
            .partition(|&index| self.root_kind(index) != Some(RootKind::Immortal));
        held.extend(immortal);
        held
    }
}

fn check_format(format: &str, version: u64) -> Result<(), String> {
    if format != FORMAT_NAME {
        return Err(format!("its format is {format:?}, not {FORMAT_NAME:?}"));
    }
    if version != FORMAT_VERSION {
        return Err(format!(
            "it is version {version}; this tool reads version {FORMAT_VERSION}"
        ));
    }
    Ok(())
}

/// Says why `text` is not a snapshot: another format or version when its
/// header says so, otherwise the JSON error itself.
fn explain_parse_failure(text: &str, error: serde_json::Error) -> String {
    if let Ok(header) = serde_json::from_str::<FormatHeader>(text) {
        match (header.format, header.version) {
            (Some(serde_json::Value::String(format)), Some(version)) => {
                if let Some(version) = version.as_u64() {
                    if let Err(reason) = check_format(&format, version) {
                        return reason;
                    }
                }
            }
            (Some(serde_json::Value::String(format)), None) if format != FORMAT_NAME => {
                return format!("its format is {format:?}, not {FORMAT_NAME:?}");
            }
            (None, _) => return format!("it has no \"format\" field ({error})"),
            _ => {}
        }
    }
    error.to_string()
}

fn resolve_object(raw: RawObject, index_by_id: &HashMap<u64, usize>) -> Result<Object, String> {
    let edges = raw
        .edges
        .into_iter()
        .map(|edge| match index_by_id.get(&edge.to) {
            Some(&target) => Ok(Edge {
                target,
                kind: edge.kind,
                name: edge.name,
                index: edge.index,
            }),
            None => Err(format!(
                "an edge of {} goes to {}, which is not listed",
                format_id(raw.id),
                format_id(edge.to)
            )),
        })
        .collect::<Result<Vec<Edge>, String>>()?;
    Ok(Object {
        id: raw.id,
        type_name: raw.type_name,
        size: raw.size,
        refcount: raw.refcount,
        value: raw.value,
        name: raw.name,
        edges,
    })
}

/// An id as the reports print it: `0x7f3a00001000`.
pub fn format_id(id: u64) -> String {
    format!("{id:#x}")
}
