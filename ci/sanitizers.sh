#!/usr/bin/env bash
# AddressSanitizer (with LeakSanitizer) and UndefinedBehaviorSanitizer over the
# C and C++ programs of ffi-tests and the tour: any report fails the run.
#
# The C and C++ sources are compiled by gcc with -fsanitize=address,undefined
# (OBJFFI_TEST_CFLAGS, read by ffi-tests/build.rs), and gcc's own runtimes
# libasan and libubsan are linked into the test and tour executables ahead of
# every other library (OBJFFI_TEST_LIBS). The Rust crates are not instrumented
# (stable toolchain, no -Zsanitizer: its LLVM runtime would have to be mixed
# with gcc's UBSan runtime), but every malloc and free of the process, Rust's
# included, goes through ASan: a heap the tests forget to free is a leak
# (obj_heap_new's handle comes from malloc), and so is any malloc'd block.
# Not seen: objheap's pooled blocks (mmap'd arenas) and mimalloc's large
# blocks; mimalloc is linked because objffi enables objmodel's default features.
#
# A separate target dir keeps this build from evicting the normal one.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
trap 'echo "sanitizers: took $((SECONDS - start)) s"' EXIT
target_dir=target/asan

# gcc compiles the programs, so gcc's runtimes must be there.
export CC=gcc CXX=g++
for lib in libasan.so libubsan.so; do
    if [[ ! -e "$(gcc -print-file-name="$lib")" ]]; then
        echo "sanitizers: gcc has no $lib (Debian: install libgcc-12-dev)" >&2
        exit 1
    fi
done

export OBJFFI_TEST_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
export OBJFFI_TEST_LIBS="asan ubsan"
# Leak checking is ASan's default on Linux; stated here so it cannot go
# missing. Any finding ends the process with a non-zero status.
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

name=sanitizers
# shellcheck source=ci/lib/ffi-binaries.sh
source ci/lib/ffi-binaries.sh
# ASan's runtime must be the first library: check it, rather than trust the link order.
for exe in "${tests[@]}" "$tour"; do
    first=$(readelf -d "$exe" | awk '/\(NEEDED\)/ { print $NF; exit }')
    if [[ "$first" != "[libasan.so."* ]]; then
        echo "sanitizers: $exe needs $first first, not libasan" >&2
        exit 1
    fi
done

for exe in "${tests[@]}"; do
    echo "$0: running ${exe#"$PWD"/}"
    "$exe"
done
echo "sanitizers: the C and C++ test programs are clean under ASan+LSan+UBSan"
"$tour" >/dev/null
echo "sanitizers: the tour is clean under ASan+LSan+UBSan"
