#!/usr/bin/env bash
# Miri: the unit tests of objheap (with its debug checks on), objgc and
# objmodel under the interpreter (.ci/run); `ci/miri.sh --all` adds their
# integration tests (tests/*.rs), which .ci/run leaves out to stay near 30
# minutes: they run natively in `cargo test`, and their unsafe paths are the
# ones the unit tests reach. Miri cannot call C: mimalloc is off,
# and the crates that run C code (objffi, ffi-tests, bench) are not run here.
# MIRI_TOOLCHAIN picks a pinned nightly when `nightly` is not installed (.ci/run).
#
# Run by cargo-nextest when it is installed (it is on this machine kind): one
# interpreter per test, on every core, and each test's time in the log, so a
# test that grows slow under miri shows by name. Doctests are left to the
# normal run (nextest does not run them). Without nextest, `cargo miri test`.
set -euo pipefail
cd "$(dirname "$0")/.."
which=(--lib)
if [[ "${1:-}" == --all ]]; then
    which=(--lib --tests)
fi
export MIRIFLAGS="${MIRIFLAGS:-} -Zmiri-permissive-provenance"
toolchain=${MIRI_TOOLCHAIN:-nightly}
if cargo nextest --version >/dev/null 2>&1; then
    run=(nextest run --no-fail-fast)
else
    run=(test)
fi
# objheap rebuilds pointers from addresses (exposed provenance), on purpose.
cargo +"$toolchain" miri "${run[@]}" "${which[@]}" -p objheap --no-default-features --features debug
cargo +"$toolchain" miri "${run[@]}" "${which[@]}" -p objgc -p objmodel --no-default-features
