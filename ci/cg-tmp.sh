#!/usr/bin/env bash
# Instructions per C-ABI operation under callgrind (deterministic, unlike
# wall time on this machine), objrt beside CPython 3.11 in the same run:
# builds bench/callgrind/ops.c against the release libobjffi.a and its peer
# bench/callgrind/ops_cpython.c against Debian's static libpython3.11.a (the
# code /usr/bin/python3.11 runs), counts the instructions of N = 0 and
# N = 200,000 runs of each program for each operation, and prints
# (difference / N) for both and the ratio objrt / CPython. The operations
# are listed once, below; an operation a program does not know ("unknown
# op") is shown as `-` in its column.
# `ci/callgrind-ops.sh [LIBDIR]` measures the libobjffi.a in LIBDIR instead
# (e.g. another checkout's target/release, to compare two versions), with
# that checkout's header given as OPS_INCLUDE=DIR (ops.c leaves out the
# call-site cache operations when the header has no OBJ_ATTR_CACHE_INIT).
# The release build goes to $CARGO_TARGET_DIR if set. About 1-2 minutes
# after the release build.
# `ci/callgrind-ops.sh --smoke` (ci/bench-smoke.sh runs it) builds both
# programs and runs every operation a few times without callgrind: the
# programs check every call they make, so a broken operation fails here;
# no figure is printed or asserted.
set -euo pipefail
cd "$(dirname "$0")/.."
smoke=false
if [[ "${1:-}" == --smoke ]]; then
    smoke=true
    shift
fi
ops=(gc_dead gc_tree gc_churn alloc call_init)
# Operations whose programs mark the part to count (the collection itself,
# not the building of the heap): callgrind starts with counting off.
declare -A marked=([gc_dead]=1 [gc_live]=1 [gc_young]=1)
libdir=${1:-}
if [[ -z "$libdir" ]]; then
    cargo build --release -p objffi
    libdir=${CARGO_TARGET_DIR:-target}/release
fi
include=${OPS_INCLUDE:-include}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cc -O2 -std=c11 -I"$include" bench/callgrind/ops.c "$libdir/libobjffi.a" -lpthread -ldl -lm -o "$out/ops"
# pkg-config's python3-embed, not a pyenv python3-config (another libpython).
# The static library is not position-independent, hence -no-pie; the modules
# built into it need expat and zlib, which `pkg-config --static` leaves out.
python_version=$(pkg-config --modversion python3-embed)
# shellcheck disable=SC2046 # the cflags are several words
cc -O2 -std=c11 -no-pie $(pkg-config --cflags python3-embed) bench/callgrind/ops_cpython.c \
    "$(pkg-config --variable=libdir python3-embed)/libpython$python_version.a" \
    -lexpat -lz -ldl -lm -o "$out/ops_cpython"
if $smoke; then
    for op in "${ops[@]}"; do
        "$out/ops" "$op" 3 >/dev/null
        # CPython has no call-site caches: those operations are unknown there.
        if ! err=$("$out/ops_cpython" "$op" 3 2>&1 >/dev/null); then
            [[ "$err" == "unknown op $op" ]] || { echo "ops_cpython $op: $err" >&2; exit 1; }
        fi
    done
    echo "callgrind-ops: every operation ran on both sides (smoke, no figures)"
    exit 0
fi
n=200000
# Instructions of `$2 $3 $4` (program, operation, N): all of them, or with
# $1 = marked only those in the parts the program marks.
instructions() {
    local start=()
    [[ "$1" != marked ]] || start=(--collect-atstart=no)
    local log
    # A program that fails (a check of its own) fails the run.
    log=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "${start[@]}" "${@:2}" 2>&1) ||
        { echo "$log" >&2; return 1; }
    awk '/Collected :/ { print $NF }' <<<"$log"
}
# Instructions per operation of program $1 for operation $2, or `-` if the
# program does not know the operation.
per_op() {
    local err
    if ! err=$("$1" "$2" 0 2>&1 >/dev/null); then
        [[ "$err" == "unknown op $2" ]] || { echo "$1 $2: $err" >&2; return 1; }
        echo -
        return
    fi
    local base full what=all
    [[ -z "${marked[$2]:-}" ]] || what=marked
    base=$(instructions "$what" "$1" "$2" 0)
    full=$(instructions "$what" "$1" "$2" "$n")
    echo "($full - $base) / $n" | bc -l
}
# $1 with $2 decimals, or `-` as it is.
decimals() {
    if [[ "$1" == - ]]; then echo -; else printf '%.*f' "$2" "$1"; fi
}
echo "instructions per operation (callgrind, N = $n), objrt beside CPython $python_version"
printf '%-20s %12s %14s %14s\n' operation 'objrt Ir/op' 'CPython Ir/op' objrt/CPython
for op in "${ops[@]}"; do
    objrt=$(per_op "$out/ops" "$op")
    cpython=$(per_op "$out/ops_cpython" "$op")
    ratio=-
    [[ "$objrt" == - || "$cpython" == - ]] || ratio=$(echo "$objrt / $cpython" | bc -l)
    printf '%-20s %12s %14s %14s\n' "$op" "$(decimals "$objrt" 1)" "$(decimals "$cpython" 1)" \
        "$(decimals "$ratio" 2)"
done
