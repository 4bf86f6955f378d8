//! # objrt-inspect: reading heap snapshots
//!
//! The library behind the `objrt-inspect` command. It reads the JSON heap
//! snapshots that `obj_heap_snapshot` (C) and `Heap::write_snapshot` (Rust)
//! write (`docs/heap-snapshot.md`) and answers questions about them:
//!
//! | command | module | question |
//! |---|---|---|
//! | `types` | `types` | what takes the memory, by type? |
//! | `retainers` | `retainers` (over `dominators`) | which objects keep the most alive? |
//! | `path` | `path` | why is this object alive? |
//! | `diff` | `diff` | what grew between two snapshots? |
//! | `graph` | `graph_svg` | what is around this object? (SVG) |
//! | `arenas` | `arenas_svg` | how full are the allocator's pools? (SVG) |
//!
//! `snapshot` reads and checks a file into a [`Snapshot`] (objects, edges
//! as indices, roots); `digraph` holds the reference graph; `labels` names
//! ids, objects and edges alike in every report; `table` and `svg` are the
//! two output forms; `cli` parses the command line and runs a command.
//!
//! Every walk over the object graph uses its own stack or queue, never
//! recursion, so a chain of a million objects is as easy as a tree.

pub mod arenas_svg;
pub mod cli;
pub mod diff;
pub mod digraph;
pub mod dominators;
pub mod error;
pub mod graph_svg;
pub mod labels;
pub mod path;
pub mod retainers;
pub mod snapshot;
mod svg;
pub mod table;
pub mod types;

pub use error::InspectError;
pub use snapshot::Snapshot;
