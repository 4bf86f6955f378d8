#!/usr/bin/env bash
# Smoke run of every benchmark (criterion's --quick mode): the workloads
# build, run, and pass their own checks (each collector frees what it should,
# the classes behave as their CPython twins). No timing is asserted here:
# figures come from full runs (`cargo bench -p bench`, bench/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
cargo bench -p bench -- --quick >/dev/null
ci/callgrind-ops.sh --smoke
echo "bench-smoke: every benchmark ran ($((SECONDS - start)) s)"
