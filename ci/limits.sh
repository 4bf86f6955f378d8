#!/usr/bin/env bash
# Limits at full size (release build): 1,000 levels of inheritance, a dict of
# 10,000,000 keys, a 1,000,000-long chain, 10,000 threads dropping
# references, 100,000 heaps created and freed; each works or fails with a
# clear status (crates/objffi/tests/limits.rs; `cargo test` runs it smaller).
# And 2^26 + 1000 references the owner counted, dropped on another thread,
# past the old wrap point of the shared count (issue 11): objgc's unit test
# and ffi-tests/c/test_counts.c; tuples nested 200,000 deep as dict keys
# (test_host_code.c) and 2 x 20,000 cycles made by workers of a heap whose
# creator exited or idles (test_threads.c), 100,000 failed lookups and
# 80,000 classes (test_bounds.c). `cargo test` runs these C tests smaller
# (debug builds).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
trap 'echo "limits: took $((SECONDS - start)) s"' EXIT
cargo test --release -p objffi --test limits
cargo test --release -p objgc --lib counts_past_the_old_wrap_point
cargo test --release -p ffi-tests --test c_api -- c_counts c_host_code c_threads c_bounds
