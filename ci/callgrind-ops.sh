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
# `ci/callgrind-ops.sh --wall [LIBDIR]` times the same programs natively
# instead: wall nanoseconds per operation, the fastest of 7 runs of
# N = 1,000,000 (each program times its own loop: bench/callgrind/wall.h;
# the runs of both programs interleaved), for the operations not marked
# (the collections `gc_dead`, `gc_live`, `gc_young` are left out), both
# on the first CPU. About a minute; the fastest run is what this noisy
# machine can repeat. With OPS_BEFORE=LIBDIR and OPS_BEFORE_INCLUDE=DIR
# (another build and its header), that build's runs are interleaved with
# this one's and shown beside it: the way to compare two versions here.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=callgrind
if [[ "${1:-}" == --smoke || "${1:-}" == --wall ]]; then
    mode=${1#--}
    shift
fi
ops=(alloc call_init getattr_instance getattr_class getattr_5_up getattr_method
    getattr_slot setattr_instance call_method incref_decref incref_decref_inline
    getattr_cached_instance getattr_cached_class getattr_cached_method getattr_cached_slot
    setattr_cached_instance call_method_cached getattr_cached_inline_instance
    getattr_cached_inline_slot getattr_cached_inline_class setattr_cached_inline_instance
    getattr_cached_spilled getattr_cached_inline_spilled
    getattr_inline_instance getattr_inline_class getattr_inline_5_up getattr_inline_slot getattr_inline_method
    setattr_inline_instance gc_dead gc_live gc_young gc_tree gc_churn)
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
if [[ -n "${OPS_BEFORE:-}" ]]; then
    cc -O2 -std=c11 -I"${OPS_BEFORE_INCLUDE:?the include dir of the OPS_BEFORE checkout}" bench/callgrind/ops.c \
        "$OPS_BEFORE/libobjffi.a" -lpthread -ldl -lm -o "$out/ops_before"
fi
# pkg-config's python3-embed, not a pyenv python3-config (another libpython).
# The static library is not position-independent, hence -no-pie; the modules
# built into it need expat and zlib, which `pkg-config --static` leaves out.
python_version=$(pkg-config --modversion python3-embed)
# shellcheck disable=SC2046 # the cflags are several words
cc -O2 -std=c11 -no-pie $(pkg-config --cflags python3-embed) bench/callgrind/ops_cpython.c \
    "$(pkg-config --variable=libdir python3-embed)/libpython$python_version.a" \
    -lexpat -lz -ldl -lm -o "$out/ops_cpython"
if [[ $mode == smoke ]]; then
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
# $1 with $2 decimals, or `-` as it is.
decimals() {
    if [[ "$1" == - ]]; then echo -; else printf '%.*f' "$2" "$1"; fi
}
if [[ $mode == wall ]]; then
    n=1000000
    # Both programs on the first CPU: here the second one is slower and
    # noisier (another guest's, it seems); one CPU keeps the runs alike.
    pin=()
    if command -v taskset >/dev/null; then pin=(taskset -c 0); fi
    # Nanoseconds per operation $1 of each program after it (one line
    # each): the fastest of 7 runs of its loop (the programs time it
    # themselves, with OPS_WALL set), the programs' runs interleaved; `-`
    # for a program that does not know the operation.
    per_op_wall() {
        local op=$1 programs=() best=() k t
        shift
        for p in "$@"; do
            if "$p" "$op" 0 >/dev/null 2>&1; then programs+=("$p"); else programs+=(-); fi
        done
        for _ in 1 2 3 4 5 6 7; do
            for k in "${!programs[@]}"; do
                [[ "${programs[$k]}" != - ]] || continue
                t=$(OPS_WALL=1 "${pin[@]}" "${programs[$k]}" "$op" "$n")
                [[ -n "${best[$k]:-}" && "${best[$k]}" -le "$t" ]] || best[k]=$t
            done
        done
        for k in "${!programs[@]}"; do
            if [[ "${programs[$k]}" == - ]]; then echo -; else echo "${best[$k]} / $n" | bc -l; fi
        done
    }
    echo "wall ns per operation (fastest of 7 runs, N = $n), objrt beside CPython $python_version"
    programs=("$out/ops" "$out/ops_cpython")
    if [[ -n "${OPS_BEFORE:-}" ]]; then
        programs+=("$out/ops_before")
        printf '%-24s %10s %12s %14s %10s %12s\n' operation 'objrt ns' 'CPython ns' objrt/CPython \
            'before ns' objrt/before
    else
        printf '%-24s %10s %12s %14s\n' operation 'objrt ns' 'CPython ns' objrt/CPython
    fi
    # $1 / $2, or `-` if either is `-`.
    ratio_of() {
        if [[ "$1" == - || "$2" == - ]]; then echo -; else echo "$1 / $2" | bc -l; fi
    }
    for op in "${ops[@]}"; do
        [[ -z "${marked[$op]:-}" ]] || continue
        { read -r objrt; read -r cpython; read -r before || before=; } < <(per_op_wall "$op" "${programs[@]}")
        printf '%-24s %10s %12s %14s' "$op" "$(decimals "$objrt" 2)" "$(decimals "$cpython" 2)" \
            "$(decimals "$(ratio_of "$objrt" "$cpython")" 2)"
        if [[ -n "${OPS_BEFORE:-}" ]]; then
            printf ' %10s %12s' "$(decimals "$before" 2)" "$(decimals "$(ratio_of "$objrt" "$before")" 2)"
        fi
        echo
    done
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
