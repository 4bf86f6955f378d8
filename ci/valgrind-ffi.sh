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
target_dir=target/valgrind-ffi

name=valgrind-ffi
# shellcheck source=ci/lib/ffi-binaries.sh
source ci/lib/ffi-binaries.sh

# The differential model test (tests/model.rs) runs 32 proptest cases here
# rather than 256: memcheck makes each about 50x slower.
export PROPTEST_CASES=32

memcheck=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
    --show-leak-kinds=definite --track-origins=yes)

# Memcheck runs a program's threads one at a time, so each test runs in its
# own memcheck process, as many at once as there are cores; a failing
# test's output is shown, with its name.
logs=$(mktemp -d)
trap 'rm -rf "$logs"; echo "valgrind-ffi: took $((SECONDS - start)) s"' EXIT
jobs=()
for exe in "${tests[@]}"; do
    while IFS= read -r line; do
        jobs+=("$exe" "${line%: test}")
    done < <("$exe" --list --format terse | grep ': test$')
done
jobs+=("$tour" "")
echo "valgrind-ffi: $((${#jobs[@]} / 2)) runs under memcheck, $(nproc) at a time"
run_one() {
    local exe=$1 test=$2 log
    log=$logs/$(basename "$exe").${test:-all}
    if [[ -n "$test" ]]; then
        "${memcheck[@]}" "$exe" --exact "$test" >"$log" 2>&1
    else
        "${memcheck[@]}" "$exe" >"$log" 2>&1
    fi || { echo "valgrind-ffi: FAILED: ${exe#"$PWD"/} $test" >&2; cat "$log" >&2; return 1; }
}
export -f run_one
export logs
export MEMCHECK="${memcheck[*]}"
printf '%s\0' "${jobs[@]}" |
    xargs -0 -n 2 -P "$(nproc)" bash -c 'memcheck=($MEMCHECK); run_one "$@"' _
echo "valgrind-ffi: the C and C++ test programs and the tour are clean"
