//! The committed `include/objffi.h` must be exactly what cbindgen generates,
//! and read as a C header: no Rust markup or Rust file names leaking from
//! the doc comments it is generated from.
//!
//! Run `ci/header.sh --bless` (or this test with `OBJFFI_BLESS=1`) to update it.

use std::fs;
use std::path::Path;

#[test]
fn committed_header_is_fresh() {
    let generated_path = concat!(env!("OUT_DIR"), "/objffi.h");
    let committed_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../include/objffi.h");
    let generated = fs::read_to_string(generated_path).expect("build.rs writes objffi.h");

    if std::env::var_os("OBJFFI_BLESS").is_some_and(|v| v == "1") {
        fs::write(&committed_path, &generated).expect("cannot write include/objffi.h");
        return;
    }

    let committed = fs::read_to_string(&committed_path).unwrap_or_default();
    if committed != generated {
        let first_difference = committed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| committed.lines().count().min(generated.lines().count()));
        panic!(
            "include/objffi.h is stale: it differs from the header cbindgen generates \
             (first at line {}).\nRun `ci/header.sh --bless` and commit include/objffi.h.",
            first_difference + 1
        );
    }
}

/// What a C reader should never meet in the header: code fences and
/// intra-doc links of rustdoc, and names of the crate's Rust files.
#[test]
fn header_has_no_rust_markup() {
    let header = fs::read_to_string(concat!(env!("OUT_DIR"), "/objffi.h"))
        .expect("build.rs writes objffi.h");
    let mut problems = Vec::new();
    for (number, line) in header.lines().enumerate() {
        for markup in ["```", "[`"] {
            if line.contains(markup) {
                problems.push(format!("line {}: {markup}: {line}", number + 1));
            }
        }
        let words = line.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'));
        for word in words.filter(|w| w.len() > 3 && w.ends_with(".rs")) {
            problems.push(format!("line {}: Rust file {word}: {line}", number + 1));
        }
    }
    assert!(
        problems.is_empty(),
        "the header's doc comments (from crates/objffi/src) must be plain C-doc \
         English:\n{}",
        problems.join("\n")
    );
}
