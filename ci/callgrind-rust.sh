#!/usr/bin/env bash
# Instructions per operation of the Rust API under callgrind (deterministic,
# unlike wall time on this machine): builds bench's `rust_ops` program in
# release, counts the instructions of N = 0 and N = 100,000 runs of each of
# its operations (`rust_ops --list`), and prints (difference / N). The Rust
# twin of ci/callgrind-ops.sh, whose rows go through the C ABI; objrt alone
# (CPython has no Rust API to put beside it). Not run by CI: about a minute
# after the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p bench --bin rust_ops
exe=${CARGO_TARGET_DIR:-target}/release/rust_ops
n=100000
instructions() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$exe" "$1" "$2" 2>&1 |
        sed -n 's/.*Collected : *\([0-9]*\).*/\1/p'
}
echo "instructions per operation of the Rust API (callgrind, N = $n)"
printf '%-20s %12s\n' operation 'objrt Ir/op'
while IFS= read -r op; do
    base=$(instructions "$op" 0)
    full=$(instructions "$op" "$n")
    awk -v op="$op" -v b="$base" -v f="$full" -v n="$n" 'BEGIN { printf "%-20s %12.1f\n", op, (f - b) / n }'
done < <("$exe" --list)
