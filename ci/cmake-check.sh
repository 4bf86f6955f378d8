#!/usr/bin/env bash
# The CMake package works: the consumer project of ffi-tests/cmake-consumer
# builds with find_package(objrt) and runs, linked to the shared library
# (objrt::objffi) and to the static one (objrt::objffi_static), both against
# a prefix filled by ci/install.sh and against this checkout after
# `cargo build --release -p objffi` (objrt_DIR=<repo>/cmake).
set -euo pipefail
cd "$(dirname "$0")/.."

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ci/install.sh "$tmp/prefix" >/dev/null
repo=$(pwd)

# consumer NAME STATIC CMAKE-ARGS...: configures, builds and runs the consumer.
consumer() {
    local name=$1 static=$2
    shift 2
    cmake -S ffi-tests/cmake-consumer -B "$tmp/$name" -DOBJRT_STATIC="$static" "$@" >/dev/null
    cmake --build "$tmp/$name" >/dev/null
    # ldd's output is read whole first: `ldd | grep -q` under pipefail
    # fails whenever grep exits before ldd has written everything.
    local deps
    deps=$(ldd "$tmp/$name/consumer")
    if [[ "$static" == ON ]] && grep -q libobjffi <<<"$deps"; then
        echo "cmake-check: $name: the static build still needs libobjffi.so" >&2
        exit 1
    fi
    if [[ "$static" == OFF ]] && ! grep -q 'libobjffi.so.1 => ' <<<"$deps"; then
        echo "cmake-check: $name: the shared build does not load libobjffi.so.1" >&2
        exit 1
    fi
    echo -n "$name: "
    "$tmp/$name/consumer"
}

consumer installed-shared OFF -DCMAKE_PREFIX_PATH="$tmp/prefix"
consumer installed-static ON -DCMAKE_PREFIX_PATH="$tmp/prefix"
consumer checkout-shared OFF -Dobjrt_DIR="$repo/cmake"
consumer checkout-static ON -Dobjrt_DIR="$repo/cmake"
echo "cmake-check: find_package(objrt) works installed and from the checkout, shared and static"
