//! Generates `$OUT_DIR/objffi.h` with cbindgen and tells dependents (through
//! `links = "objffi"`, as `DEP_OBJFFI_INCLUDE`) where the committed header lives.
//!
//! The committed copy is `include/objffi.h` at the workspace root;
//! `tests/header.rs` checks that it equals the generated one.

use std::env;
use std::fs;
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
    // So is the initialiser of a call site's cache, which cbindgen cannot
    // write from Rust (contract 1.1).
    config.after_includes = Some(format!(
        "\n#define OBJFFI_VERSION_MAJOR {}\n#define OBJFFI_VERSION_MINOR {}\n#define OBJFFI_VERSION_PATCH {}\n\n\
         /* The value of an empty obj_attr_cache_t. */\n#define OBJ_ATTR_CACHE_INIT {{{{0, 0, 0, 0}}}}",
        env::var("CARGO_PKG_VERSION_MAJOR").expect("CARGO_PKG_VERSION_MAJOR"),
        env::var("CARGO_PKG_VERSION_MINOR").expect("CARGO_PKG_VERSION_MINOR"),
        env::var("CARGO_PKG_VERSION_PATCH").expect("CARGO_PKG_VERSION_PATCH"),
    ));

    // `with_src` parses `src/lib.rs` and the modules it declares without running
    // `cargo metadata` (which could wait on Cargo's lock during a build).
    let mut header = Vec::new();
    cbindgen::Builder::new()
        .with_config(config)
        .with_src(crate_dir.join("src/lib.rs"))
        .generate()
        .expect("cbindgen could not generate objffi.h")
        .write(&mut header);
    let header = String::from_utf8(header).expect("cbindgen writes UTF-8");
    fs::write(out_dir.join("objffi.h"), add_sections(&header)).expect("cannot write objffi.h");
}

/// The header's sections: the name of the first item of each, and its
/// title. cbindgen writes the types first, then the functions in the order
/// of the modules in `lib.rs`, so each module's functions form one section.
/// A new module adds a line here.
const SECTIONS: &[(&str, &str)] = &[
    (
        "obj_status_t",
        "Types: status codes, handles, structs, callbacks",
    ),
    ("obj_last_error", "Status codes and messages (error.rs)"),
    ("obj_heap_new", "Heaps (heap.rs)"),
    (
        "obj_incref",
        "Objects: reference counts, type, repr (object.rs)",
    ),
    ("obj_none", "Built-in values (value.rs)"),
    (
        "obj_tuple_new",
        "Containers: tuple, list, dict (containers.rs)",
    ),
    ("obj_type_new", "Types and instances (type.rs)"),
    ("obj_getattr", "Attributes (attr.rs)"),
    (
        "obj_getattr_cached",
        "Attribute caches for call sites (cache.rs)",
    ),
    ("obj_function_new", "Functions, methods, calls (call.rs)"),
    ("obj_weakref_new", "Weak references (weakref.rs)"),
    ("obj_gc_collect", "Cycle collection (gc.rs)"),
];

/// Whether `line` starts the declaration of `name`: a typedef of it, or a
/// function of that name.
fn declares(line: &str, name: &str) -> bool {
    if line.starts_with(' ') {
        return false;
    }
    (line.starts_with("typedef") && line.contains(&format!(" {name} ")))
        || line.contains(&format!(" {name}("))
        || line.contains(&format!("*{name}("))
}

/// Puts a banner before each section's first declaration (and its doc comment).
///
/// # Panics
///
/// If a section's first declaration is missing: `SECTIONS` is stale.
fn add_sections(header: &str) -> String {
    let mut lines: Vec<String> = header.lines().map(str::to_owned).collect();
    let mut previous = 0;
    for (name, title) in SECTIONS {
        let mut at = lines
            .iter()
            .position(|l| declares(l, name))
            .unwrap_or_else(|| panic!("build.rs SECTIONS: `{name}` is not declared"));
        assert!(
            at > previous,
            "build.rs SECTIONS: `{name}` comes before the previous section's first item \
             (are the modules of lib.rs in header order?)"
        );
        previous = at;
        // Step back over the declaration's doc comment (`/*` ... ` */`).
        if at > 0 && lines[at - 1] == " */" {
            while at > 0 && lines[at - 1] != "/*" {
                at -= 1;
            }
            at -= 1;
        }
        let rule = "=".repeat(72);
        let banner = [
            format!("/* {rule}"),
            format!(" * {title}"),
            format!(" * {rule} */"),
            String::new(),
        ];
        lines.splice(at..at, banner);
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}
