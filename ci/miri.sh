#!/usr/bin/env bash
# Miri: the unit and integration tests of objheap (with its debug checks on),
# objgc and objmodel under the interpreter. Miri cannot call C: mimalloc is off,
# and the crates that run C code (objffi, ffi-tests, bench) are not run here.
# MIRI_TOOLCHAIN picks a pinned nightly when `nightly` is not installed (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
export MIRIFLAGS="${MIRIFLAGS:-} -Zmiri-permissive-provenance"
# objheap rebuilds pointers from addresses (exposed provenance), on purpose.
cargo +"${MIRI_TOOLCHAIN:-nightly}" miri test -p objheap --no-default-features --features debug
cargo +"${MIRI_TOOLCHAIN:-nightly}" miri test -p objgc -p objmodel --no-default-features
