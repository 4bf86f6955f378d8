#!/usr/bin/env bash
# Installs objffi like a C library under PREFIX:
#   PREFIX/include/objffi.h, PREFIX/include/objffi.hpp
#   PREFIX/lib/libobjffi.a
#   PREFIX/lib/libobjffi.so.1.C.P, its soname libobjffi.so.1 and libobjffi.so
#     (symlinks); 1.C is the version of the C contract, P the library's patch
#   PREFIX/lib/pkgconfig/objffi.pc
#   PREFIX/lib/cmake/objrt/objrtConfig.cmake and objrtConfigVersion.cmake
# then `pkg-config --cflags --libs objffi` (with PKG_CONFIG_PATH=PREFIX/lib/pkgconfig
# unless PREFIX is a system prefix) gives what a C program needs, and so does
# CMake's `find_package(objrt CONFIG REQUIRED)` (with CMAKE_PREFIX_PATH=PREFIX
# unless PREFIX is a system prefix) through objrt::objffi or objrt::objffi_static.
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

# The versions as the header states them (generated from Cargo.toml and
# crates/objffi/build.rs): the library's, and the C contract's, whose major
# number is the soname.
header_macro() { awk -v name="$1" '$1 == "#define" && $2 == name { print $3 }' include/objffi.h; }
version=$(header_macro OBJFFI_VERSION_MAJOR).$(header_macro OBJFFI_VERSION_MINOR).$(header_macro OBJFFI_VERSION_PATCH)
soname=libobjffi.so.$(header_macro OBJFFI_CONTRACT_VERSION_MAJOR)
shared=$soname.$(header_macro OBJFFI_CONTRACT_VERSION_MINOR).$(header_macro OBJFFI_VERSION_PATCH)

install -d "$prefix/include" "$prefix/lib/pkgconfig" "$prefix/lib/cmake/objrt"
install -m 644 include/objffi.h include/objffi.hpp "$prefix/include/"
install -m 644 "$target/release/libobjffi.a" "$prefix/lib/"
install -m 755 "$target/release/libobjffi.so" "$prefix/lib/$shared"
ln -sfn "$shared" "$prefix/lib/$soname"
ln -sfn "$soname" "$prefix/lib/libobjffi.so"
install -m 644 cmake/objrtConfig.cmake cmake/objrtConfigVersion.cmake "$prefix/lib/cmake/objrt/"
sed -e "s|@PREFIX@|$prefix|g" -e "s|@VERSION@|$version|g" crates/objffi/objffi.pc.in \
    > "$prefix/lib/pkgconfig/objffi.pc"
echo "objffi $version installed under $prefix"
