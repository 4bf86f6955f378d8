//! Shared workloads for the benchmarks in `benches/`, and for the figures
//! that are not times (bytes reserved per byte in use).
#![deny(unsafe_op_in_unsafe_fn)]
