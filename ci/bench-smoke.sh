#!/usr/bin/env bash
# Smoke run of every benchmark (criterion's --quick mode): the workloads
# build, run, and pass their own checks (each collector frees what it should,
# the classes behave as their CPython twins). No timing is asserted here:
# figures come from full runs (`cargo bench -p bench`, bench/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
cargo bench -p bench -- --quick >/dev/null
ci/callgrind-ops.sh --smoke
# The Rust API's operations of ci/callgrind-rust.sh, a few times each (the
# program checks every result), in the debug build `cargo test` made.
cargo build -q -p bench --bin rust_ops
for op in $(target/debug/rust_ops --list); do
    target/debug/rust_ops "$op" 3
done
echo "bench-smoke: every benchmark ran ($((SECONDS - start)) s)"
