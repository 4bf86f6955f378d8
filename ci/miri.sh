#!/usr/bin/env bash
# Miri: the allocator's unsafe code under the interpreter, with its debug
# checks on. Miri cannot call C, so only objheap runs here.
# MIRI_TOOLCHAIN picks a pinned nightly when `nightly` is not installed (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo +"${MIRI_TOOLCHAIN:-nightly}" miri test -p objheap --no-default-features --features debug
