#!/usr/bin/env bash
# Loom: the allocator's concurrent parts, every interleaving up to 3 preemptions.
# A separate target dir keeps the `--cfg loom` build from evicting the normal one.
set -euo pipefail
cd "$(dirname "$0")/.."
export LOOM_MAX_PREEMPTIONS=3
RUSTFLAGS="--cfg loom" cargo test -p objheap --release --lib --target-dir target/loom loom
