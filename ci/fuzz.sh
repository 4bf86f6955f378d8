#!/usr/bin/env bash
# Differential fuzzing of the C ABI (fuzz/fuzz_targets/c_abi.rs): libFuzzer
# generates op sequences that run on the library and on the reference model
# of ffi-tests (src/model.rs), under AddressSanitizer, for FUZZ_SECONDS (60
# by default), starting from the committed seed corpus fuzz/corpus/c_abi.
# New corpus entries go to a temporary directory, never into the repository.
# A crash, a leak or a disagreement fails the run; the input that caused it
# is left in fuzz/artifacts/c_abi/ (reproduce with
# `cargo +nightly fuzz run c_abi fuzz/artifacts/c_abi/<file>`).
#
# cargo-fuzz needs nightly: FUZZ_TOOLCHAIN, else MIRI_TOOLCHAIN (which
# .ci/run sets), else `nightly`. cargo-fuzz is installed when missing.
# A separate target dir keeps this build from evicting the normal one.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
toolchain=${FUZZ_TOOLCHAIN:-${MIRI_TOOLCHAIN:-nightly}}
seconds=${FUZZ_SECONDS:-60}
target_dir=${CARGO_TARGET_DIR:-$PWD/target}/fuzz
corpus=$(mktemp -d)
log=$(mktemp)
trap 'rm -rf "$corpus" "$log"; echo "fuzz: took $((SECONDS - start)) s"' EXIT

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --version 0.13.2 --locked
fi

cargo +"$toolchain" fuzz build --target-dir "$target_dir" c_abi
echo "fuzz: built in $((SECONDS - start)) s; fuzzing for $seconds s"

# libFuzzer adds new inputs to the first corpus directory only: the
# temporary one. The committed seeds are read from the second.
status=0
cargo +"$toolchain" fuzz run --target-dir "$target_dir" c_abi "$corpus" fuzz/corpus/c_abi -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
    >"$log" 2>&1 || status=$?
if [[ $status -ne 0 ]]; then
    cat "$log"
    echo "fuzz: FAILED with status $status; the input is in fuzz/artifacts/c_abi/" >&2
    exit "$status"
fi
tail -n 12 "$log"
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
echo "fuzz: ${runs:-?} executions in $seconds s, no finding"
