//! Compiles the valgrind client-request shim when the `valgrind` feature is on.
//!
//! Memcheck's client requests are C macros (`VALGRIND_MALLOCLIKE_BLOCK` and
//! friends) that expand to a magic instruction sequence; compiling them from
//! valgrind's own header keeps us from copying that sequence into Rust.

fn main() {
    println!("cargo:rerun-if-changed=src/valgrind.c");
    #[cfg(feature = "valgrind")]
    cc::Build::new()
        .file("src/valgrind.c")
        .warnings_into_errors(true)
        .compile("objheap_valgrind");
}
