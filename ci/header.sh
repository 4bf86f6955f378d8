#!/usr/bin/env bash
# Header freshness: include/objffi.h must equal what cbindgen generates from
# crates/objffi. `ci/header.sh --bless` rewrites it instead.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${1:-}" == "--bless" ]]; then
    export OBJFFI_BLESS=1
fi
cargo test -p objffi --test header
