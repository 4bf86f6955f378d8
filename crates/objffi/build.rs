//! Generates `$OUT_DIR/objffi.h` with cbindgen and tells dependents (through
//! `links = "objffi"`, as `DEP_OBJFFI_INCLUDE`) where the committed header lives.
//!
//! The committed copy is `include/objffi.h` at the workspace root;
//! `tests/header.rs` checks that it equals the generated one.

use std::env;
use std::path::PathBuf;

fn main() {
    let crate_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));

    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=src");

    let include_dir = crate_dir.join("../../include");
    let include_dir = include_dir.canonicalize().unwrap_or(include_dir);
    println!("cargo:include={}", include_dir.display());

    let mut config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cannot read cbindgen.toml");
    // The version macros come from Cargo.toml, so they can never disagree with it.
    config.after_includes = Some(format!(
        "\n#define OBJFFI_VERSION_MAJOR {}\n#define OBJFFI_VERSION_MINOR {}\n#define OBJFFI_VERSION_PATCH {}",
        env::var("CARGO_PKG_VERSION_MAJOR").expect("CARGO_PKG_VERSION_MAJOR"),
        env::var("CARGO_PKG_VERSION_MINOR").expect("CARGO_PKG_VERSION_MINOR"),
        env::var("CARGO_PKG_VERSION_PATCH").expect("CARGO_PKG_VERSION_PATCH"),
    ));

    // `with_src` parses `src/lib.rs` and the modules it declares without running
    // `cargo metadata` (which could wait on Cargo's lock during a build).
    cbindgen::Builder::new()
        .with_config(config)
        .with_src(crate_dir.join("src/lib.rs"))
        .generate()
        .expect("cbindgen could not generate objffi.h")
        .write_to_file(out_dir.join("objffi.h"));
}
