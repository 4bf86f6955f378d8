#!/usr/bin/env bash
# Installs objffi like a C library under PREFIX:
#   PREFIX/include/objffi.h, PREFIX/include/objffi.hpp
#   PREFIX/lib/libobjffi.a, PREFIX/lib/libobjffi.so
#   PREFIX/lib/pkgconfig/objffi.pc
# then `pkg-config --cflags --libs objffi` (with PKG_CONFIG_PATH=PREFIX/lib/pkgconfig
# unless PREFIX is a system prefix) gives what a C program needs.
#
#   ci/install.sh /usr/local
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $# -ne 1 ]]; then
    echo "usage: ci/install.sh PREFIX" >&2
    exit 2
fi
mkdir -p "$1"
prefix=$(cd "$1" && pwd)
target=${CARGO_TARGET_DIR:-target}

cargo build --release -p objffi

# The version as the header states it (generated from Cargo.toml).
version=$(awk '/^#define OBJFFI_VERSION_(MAJOR|MINOR|PATCH) / { print $3 }' include/objffi.h | paste -sd.)

install -d "$prefix/include" "$prefix/lib/pkgconfig"
install -m 644 include/objffi.h include/objffi.hpp "$prefix/include/"
install -m 644 "$target/release/libobjffi.a" "$prefix/lib/"
install -m 755 "$target/release/libobjffi.so" "$prefix/lib/"
sed -e "s|@PREFIX@|$prefix|g" -e "s|@VERSION@|$version|g" crates/objffi/objffi.pc.in \
    > "$prefix/lib/pkgconfig/objffi.pc"
echo "objffi $version installed under $prefix"
