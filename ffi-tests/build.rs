//! Compiles the C and C++ programs of `c/` and `cpp/` against the committed
//! `include/objffi.h` and `include/objffi.hpp` (found through objffi's `links` metadata), with every
//! warning an error. The Rust tests and the `tour` binary call their entry points.

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

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let include = env::var("DEP_OBJFFI_INCLUDE").expect("objffi sets DEP_OBJFFI_INCLUDE");
    for header in ["objffi.h", "objffi.hpp"] {
        println!(
            "cargo:rerun-if-changed={}",
            Path::new(&include).join(header).display()
        );
    }

    cc::Build::new()
        .files(sources("c", "c"))
        .include(&include)
        .flags(["-std=c11", "-Wall", "-Wextra", "-Wpedantic", "-Werror"])
        .compile("objffi_c_programs");

    cc::Build::new()
        .cpp(true)
        .files(sources("cpp", "cpp"))
        .include(&include)
        .flags(["-std=c++17", "-Wall", "-Wextra", "-Wpedantic", "-Werror"])
        .compile("objffi_cpp_programs");
}
