#!/usr/bin/env bash
# Valgrind memcheck over the C and C++ programs of ffi-tests (every test
# executable: tests/c_api.rs runs them) and the `tour`: no error, and no definitely lost block (a heap not
# freed is one: obj_heap_new's handle comes from malloc). Only definite leaks
# are shown: a block still reachable at exit is not a leak, and the one
# "possibly lost" block is libtest's handle of its main thread (std keeps an
# interior pointer to it in a thread-local).
#
# What memcheck sees: the C/C++ code, the Rust code, and every malloc'd block,
# large objects included (mimalloc is off: --no-default-features). objheap's
# pooled blocks live in mmap'd arenas; ci/valgrind.sh checks that objheap
# describes them to memcheck correctly (feature `valgrind`).
#
# A separate target dir keeps this build from evicting the normal one.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
trap 'echo "valgrind-ffi: took $((SECONDS - start)) s"' EXIT
target_dir=target/valgrind-ffi

name=valgrind-ffi
# shellcheck source=ci/lib/ffi-binaries.sh
source ci/lib/ffi-binaries.sh

# The differential model test (tests/model.rs) runs 32 proptest cases here
# rather than 256: memcheck makes each about 50x slower.
export PROPTEST_CASES=32

memcheck=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
    --show-leak-kinds=definite --track-origins=yes)

for exe in "${tests[@]}"; do
    echo "$0: running ${exe#"$PWD"/}"
    "${memcheck[@]}" "$exe"
done
echo "valgrind-ffi: the C and C++ test programs are clean"
"${memcheck[@]}" "$tour" >/dev/null
echo "valgrind-ffi: the tour is clean"
