#!/usr/bin/env bash
# Formatting: every crate of the workspace is rustfmt-clean.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all --check
