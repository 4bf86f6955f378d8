#!/usr/bin/env bash
# Valgrind understands objheap's pools (feature `valgrind`): a correct program
# runs with no error and no leak, and a read of a freed pooled block is
# reported exactly as for a block from malloc. mimalloc is off: its startup
# trips memcheck, and large blocks then come from malloc, which valgrind tracks.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -p objheap --examples --no-default-features --features valgrind,debug --target-dir target/valgrind
bin=target/valgrind/debug/examples

for example in basic valgrind_clean; do
    valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite "$bin/$example" >/dev/null
    echo "valgrind: $example example clean"
done

set +e
out=$(valgrind --error-exitcode=99 "$bin/use_after_free" 2>&1)
code=$?
set -e
if [ "$code" -ne 99 ] || ! grep -q "40 bytes inside a block of size 48 free'd" <<<"$out"; then
    echo "$out"
    echo "valgrind did not report the read of a freed pooled block (exit $code)" >&2
    exit 1
fi
echo "valgrind: use after free of a pooled block reported"
