#!/usr/bin/env bash
# ThreadSanitizer over the threaded C program (ffi-tests/c/test_threads.c:
# four threads counting shared objects and dropping last references off the
# owner thread) and objgc's unit tests, with the Rust code under them
# instrumented too: std and the crates are built with -Zsanitizer=thread
# (nightly, -Zbuild-std), the C programs with gcc's -fsanitize=thread, whose
# calls rustc's TSan runtime serves. mimalloc is off (uninstrumented C).
# Any report fails the run (halt_on_error). TSAN_TOOLCHAIN (or
# MIRI_TOOLCHAIN, set by .ci/run) names the nightly to use.
# A separate target dir keeps this build from evicting the normal one.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
trap 'echo "tsan: took $((SECONDS - start)) s"' EXIT
toolchain=${TSAN_TOOLCHAIN:-${MIRI_TOOLCHAIN:-nightly}}
export CC=gcc CXX=g++
export RUSTFLAGS="-Zsanitizer=thread"
export OBJFFI_TEST_CFLAGS="-fsanitize=thread"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
# --target keeps build scripts and proc-macros uninstrumented.
args=(-Zbuild-std --target x86_64-unknown-linux-gnu --target-dir target/tsan)
cargo +"$toolchain" test "${args[@]}" -p objgc --lib
cargo +"$toolchain" test "${args[@]}" -p ffi-tests --no-default-features --test c_api c_threads
echo "tsan: clean"
