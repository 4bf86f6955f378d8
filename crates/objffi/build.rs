//! Generates `$OUT_DIR/objffi.h` with cbindgen, tells dependents (through
//! `links = "objffi"`, as `DEP_OBJFFI_INCLUDE`) where the committed header
//! lives, and gives the shared library its soname (`libobjffi.so.1`, the
//! major version of the C contract).
//!
//! The committed copy is `include/objffi.h` at the workspace root;
//! `tests/header.rs` checks that it equals the generated one.

use std::env;
use std::fs;
use std::path::PathBuf;

/// The version of the C contract (shared/API.md) this crate implements. Its
/// major number is the shared library's soname (`libobjffi.so.MAJOR`): it
/// changes only when the contract breaks. The header states both numbers.
const CONTRACT_VERSION: (u32, u32) = (1, 1);

fn main() {
    let crate_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));

    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=inline.h");

    let include_dir = crate_dir.join("../../include");
    let include_dir = include_dir.canonicalize().unwrap_or(include_dir);
    println!("cargo:include={}", include_dir.display());

    if env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux") {
        println!(
            "cargo:rustc-cdylib-link-arg=-Wl,-soname,libobjffi.so.{}",
            CONTRACT_VERSION.0
        );
    }

    let mut config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cannot read cbindgen.toml");
    // The version macros come from Cargo.toml and CONTRACT_VERSION, so they
    // can never disagree with them. So is the initialiser of a call site's
    // cache, which cbindgen cannot write from Rust (contract 1.1), and the
    // marker of results that must not be ignored (cbindgen.toml's `must_use`).
    config.after_includes = Some(format!(
        "\n/* The version of the library. */\n\
         #define OBJFFI_VERSION_MAJOR {}\n#define OBJFFI_VERSION_MINOR {}\n#define OBJFFI_VERSION_PATCH {}\n\n\
         /* The version of the C contract it implements; the shared library's\n   \
         soname is libobjffi.so.MAJOR. */\n\
         #define OBJFFI_CONTRACT_VERSION_MAJOR {}\n#define OBJFFI_CONTRACT_VERSION_MINOR {}\n\n\
         /* Marks a function whose result must not be ignored: a status or a new\n   \
         reference. Define it (empty, say) before including this header to change it. */\n\
         #ifndef OBJ_MUST_USE\n\
         #if defined(__cplusplus) && __cplusplus >= 201703L\n\
         #define OBJ_MUST_USE [[nodiscard]]\n\
         #elif defined(__GNUC__) || defined(__clang__)\n\
         #define OBJ_MUST_USE __attribute__((warn_unused_result))\n\
         #else\n\
         #define OBJ_MUST_USE\n\
         #endif\n\
         #endif\n\n\
         /* The value of an empty obj_attr_cache_t. */\n#define OBJ_ATTR_CACHE_INIT {{{{0, 0, 0, 0}}}}",
        env::var("CARGO_PKG_VERSION_MAJOR").expect("CARGO_PKG_VERSION_MAJOR"),
        env::var("CARGO_PKG_VERSION_MINOR").expect("CARGO_PKG_VERSION_MINOR"),
        env::var("CARGO_PKG_VERSION_PATCH").expect("CARGO_PKG_VERSION_PATCH"),
        CONTRACT_VERSION.0,
        CONTRACT_VERSION.1,
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
    let inline = fs::read_to_string(crate_dir.join("inline.h")).expect("cannot read inline.h");
    let header = add_sections(&plain_c_doc(&with_inline_counts(&header, &inline)));
    fs::write(out_dir.join("objffi.h"), header).expect("cannot write objffi.h");
}

/// The doc comments' one piece of Rust markup, the `# Safety` heading that
/// every `unsafe` export needs, as plain C-doc English.
fn plain_c_doc(header: &str) -> String {
    header.replace(
        "\n # Safety\n",
        "\n Requirements (the behaviour is undefined otherwise):\n",
    )
}

/// The header with `inline` (`inline.h`: the object head and the inline
/// counting functions, which cbindgen cannot write) after the functions
/// they call, inside the include guard and C++'s `extern "C"`.
///
/// # Panics
///
/// If the header has no `extern "C"` block to close.
fn with_inline_counts(header: &str, inline: &str) -> String {
    let close = "#ifdef __cplusplus\n}  // extern \"C\"";
    let at = header
        .rfind(close)
        .expect("cbindgen closes the extern \"C\" block (cpp_compat)");
    format!("{}{inline}\n{}", &header[..at], &header[at..])
}

/// The header's sections: the name of the first item of each, and its
/// title. cbindgen writes the types first, then the functions in the order
/// of the modules in `lib.rs`, so each module's functions form one section.
/// A new module adds a line here.
const SECTIONS: &[(&str, &str)] = &[
    ("OBJ_OK", "Status codes: the named values of obj_status_t"),
    ("obj_heap_t", "Types: handles, statuses, structs, callbacks"),
    ("obj_last_error", "Errors: status codes and messages"),
    ("obj_heap_new", "Heaps"),
    ("obj_incref", "Objects: reference counts, type, repr"),
    ("obj_none", "Built-in values"),
    ("obj_tuple_new", "Containers: tuple, list, dict"),
    ("obj_type_new", "Types and instances"),
    ("obj_getattr", "Attributes"),
    ("obj_getattr_cached", "Attribute caches for call sites"),
    ("obj_function_new", "Functions, methods, calls"),
    ("obj_weakref_new", "Weak references"),
    ("obj_gc_collect", "Cycle collection (gc)"),
    ("obj_abi_head_t", "Inline counting and cache hits"),
];

/// Whether `line` starts the declaration of `name`: a macro, a typedef of
/// it, or a function of that name.
fn declares(line: &str, name: &str) -> bool {
    if line.starts_with(' ') {
        return false;
    }
    line.starts_with(&format!("#define {name} "))
        || (line.starts_with("typedef") && line.contains(&format!(" {name} ")))
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
        // Step back over the attribute cbindgen puts on a line of its own
        // before a long declaration, then over the doc comment (`/*` ... ` */`).
        if at > 0 && lines[at - 1] == "OBJ_MUST_USE" {
            at -= 1;
        }
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
