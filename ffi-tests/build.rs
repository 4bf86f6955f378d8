//! Compiles the C and C++ programs of `c/` and `cpp/` against the committed
//! `include/objffi.h` and `include/objffi.hpp` (found through objffi's `links` metadata), with every
//! warning an error. The Rust tests and the `tour` binary call their entry points.
//! Builds without debug assertions (release) define `OBJFFI_TEST_FULL_SIZE`:
//! tests that take seconds against a debug library run smaller without it.
//!
//! Two environment variables serve the sanitizer builds of `ci/sanitizers.sh`
//! (whitespace-separated lists, both empty by default):
//! - `OBJFFI_TEST_CFLAGS`: extra flags for compiling the C and C++ programs,
//!   e.g. `-fsanitize=address,undefined -fno-sanitize-recover=all`;
//! - `OBJFFI_TEST_LIBS`: shared libraries linked into this package's test and
//!   `tour` executables ahead of every other library, e.g. `asan ubsan`: the
//!   sanitizer runtimes (rustc links with `-nodefaultlibs`, so `-fsanitize` at
//!   link time would add nothing, and ASan's runtime must come first).

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

/// The files of `dir` whose names end with `.{ext}`, sorted. Cargo reruns this
/// script when anything in `dir` changes (headers included).
fn sources(dir: &str, ext: &str) -> Vec<PathBuf> {
    println!("cargo:rerun-if-changed={dir}");
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {dir}/: {e}"))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    files
}

/// The whitespace-separated words of the environment variable `name` (none when
/// unset). Cargo reruns this script when it changes.
fn env_flags(name: &str) -> Vec<String> {
    println!("cargo:rerun-if-env-changed={name}");
    env::var(name)
        .unwrap_or_default()
        .split_whitespace()
        .map(String::from)
        .collect()
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let extra_cflags = env_flags("OBJFFI_TEST_CFLAGS");
    // Before `cc` prints its own libraries, so these come first on the link line.
    for lib in env_flags("OBJFFI_TEST_LIBS") {
        println!("cargo:rustc-link-lib=dylib={lib}");
    }
    let include = env::var("DEP_OBJFFI_INCLUDE").expect("objffi sets DEP_OBJFFI_INCLUDE");
    for header in ["objffi.h", "objffi.hpp"] {
        println!(
            "cargo:rerun-if-changed={}",
            Path::new(&include).join(header).display()
        );
    }

    let mut c = cc::Build::new();
    c.files(sources("c", "c"))
        .include(&include)
        .flags(["-std=c11", "-Wall", "-Wextra", "-Wpedantic", "-Werror"])
        .flags(&extra_cflags);
    // Set by Cargo when the package is built with debug assertions (the
    // library's `cfg!(debug_assertions)`).
    if env::var_os("CARGO_CFG_DEBUG_ASSERTIONS").is_none() {
        c.define("OBJFFI_TEST_FULL_SIZE", "1");
    }
    c.compile("objffi_c_programs");

    cc::Build::new()
        .cpp(true)
        .files(sources("cpp", "cpp"))
        .include(&include)
        .flags(["-std=c++17", "-Wall", "-Wextra", "-Wpedantic", "-Werror"])
        .flags(&extra_cflags)
        .compile("objffi_cpp_programs");
}
