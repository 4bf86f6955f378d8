#!/usr/bin/env bash
# Instructions per C-ABI operation under callgrind (deterministic, unlike
# wall time on this machine): builds bench/callgrind/ops.c against the
# release libobjffi.a and, for each operation, counts the instructions of
# N = 0 and N = 200,000 runs; prints (difference / N) per operation.
# `ci/callgrind-ops.sh [LIBDIR]` measures the libobjffi.a in LIBDIR instead
# (e.g. another checkout's target/release, to compare two versions).
# About 2 minutes after the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
libdir=${1:-}
if [[ -z "$libdir" ]]; then
    cargo build --release -p objffi
    libdir=target/release
fi
include=${OPS_INCLUDE:-include}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cc -O2 -std=c11 -I"$include" bench/callgrind/ops.c "$libdir/libobjffi.a" -lpthread -ldl -lm -o "$out/ops"
n=200000
instructions() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$out/ops" "$1" "$2" 2>&1 |
        awk '/Collected :/ { print $NF }'
}
printf '%-20s %10s\n' operation Ir/op
for op in alloc call_init getattr_instance getattr_class getattr_5_up getattr_method \
    getattr_slot setattr_instance incref_decref; do
    base=$(instructions "$op" 0)
    full=$(instructions "$op" "$n")
    printf '%-20s %10.1f\n' "$op" "$(echo "($full - $base) / $n" | bc -l)"
done
