#!/usr/bin/env bash
# Loom: every atomic protocol, every interleaving up to 3 preemptions
# (LOOM_MAX_PREEMPTIONS=3): objheap's cross-thread frees, objgc's biased
# reference counts and heap gate.
# A separate target dir keeps the `--cfg loom` build from evicting the normal one.
set -euo pipefail
cd "$(dirname "$0")/.."
export LOOM_MAX_PREEMPTIONS=3
export RUSTFLAGS="--cfg loom"
cargo test -p objheap --release --lib --target-dir target/loom loom
cargo test -p objgc --release --lib --target-dir target/loom loom
