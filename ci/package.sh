#!/usr/bin/env bash
# The Rust crates as a user gets them: their documentation builds with every
# rustdoc warning an error (broken or private links; missing docs are an
# error by the workspace's lints already), and objheap, objgc, objmodel and objffi
# package (`cargo package`: metadata, readme, versioned dependencies, the
# file list) and build from their .crate files alone, as a user who
# downloads them would (cargo verifies the four together, each depending on
# the others' packages through a local registry, so nothing needs to be
# published first). About 25 s after a build (session 8 CI).
set -euo pipefail
cd "$(dirname "$0")/.."
crates=(-p objheap -p objgc -p objmodel -p objffi)
# Cargo unpacks each package it verifies once, under
# $CARGO_HOME/registry/src/<registry>/NAME-VERSION, and reuses that copy
# while the version stays the same: a second run on one machine (same
# checkout path) verified against an older package's sources. Our crates'
# unpacked copies go first; cargo unpacks them again.
rm -rf "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/{objheap,objgc,objmodel,objffi}-[0-9]*
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps "${crates[@]}"
cargo package --allow-dirty "${crates[@]}"
echo "package: the docs of the four crates are clean, and their packages build"
