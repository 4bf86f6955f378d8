#!/usr/bin/env bash
# Header freshness: include/objffi.h must equal what cbindgen generates from
# crates/objffi and carry no Rust markup, and docs/c-api.md (the C API
# reference) must equal what the header generates. `ci/header.sh --bless`
# rewrites both instead.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${1:-}" == "--bless" ]]; then
    export OBJFFI_BLESS=1
fi
cargo test -p objffi --test header --test c_api_docs
