#!/usr/bin/env bash
# Miri: the unit and integration tests of objheap (with its debug checks on),
# objgc and objmodel under the interpreter. Miri cannot call C: mimalloc is off,
# and the crates that run C code (objffi, ffi-tests, bench) are not run here.
# MIRI_TOOLCHAIN picks a pinned nightly when `nightly` is not installed (.ci/run).
#
# Run by cargo-nextest when it is installed (it is on this machine kind): one
# interpreter per test, on every core, and each test's time in the log, so a
# test that grows slow under miri shows by name. Doctests are left to the
# normal run (nextest does not run them). Without nextest, `cargo miri test`.
set -euo pipefail
cd "$(dirname "$0")/.."
export MIRIFLAGS="${MIRIFLAGS:-} -Zmiri-permissive-provenance"
toolchain=${MIRI_TOOLCHAIN:-nightly}
if cargo nextest --version >/dev/null 2>&1; then
    run=(nextest run --no-fail-fast)
else
    run=(test)
fi
# objheap rebuilds pointers from addresses (exposed provenance), on purpose.
cargo +"$toolchain" miri "${run[@]}" -p objheap --no-default-features --features debug
cargo +"$toolchain" miri "${run[@]}" -p objgc -p objmodel --no-default-features
