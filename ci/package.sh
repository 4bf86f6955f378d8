#!/usr/bin/env bash
# The Rust crates as a user gets them: their documentation builds with every
# rustdoc warning an error (broken or private links; missing docs are
# clippy's -D warnings already), and objheap, objgc, objmodel and objffi
# package (`cargo package`: metadata, readme, versioned dependencies, the
# file list). Packaging does not rebuild the crates from their .crate files
# (--no-verify): that costs minutes of CI for what `cargo test` builds
# already. About 30 s after a build.
set -euo pipefail
cd "$(dirname "$0")/.."
crates=(-p objheap -p objgc -p objmodel -p objffi)
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps "${crates[@]}"
cargo package --no-verify --allow-dirty "${crates[@]}"
echo "package: docs and packages of the four crates are clean"
