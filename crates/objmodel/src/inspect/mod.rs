//! Looking at objects and heaps from outside: `repr()` of every value
//! ([`repr`]) and the heap snapshot for `objrt-inspect` ([`snapshot`]).
//!
//! Invariant: inspecting changes nothing it describes. `repr` runs only
//! the `__repr__` of classes that define one (host code, bounded by
//! `call::nesting`); a snapshot makes, counts and allocates nothing in the
//! heap, and runs no host code but payload traverse hooks, which may only
//! report.

pub(crate) mod repr;
mod snapshot;
