//! The committed `include/objffi.h` must be exactly what cbindgen generates.
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
