//! Links libpython3.11 for `src/cpython.rs`, the CPython peer of the
//! benchmarks.
//!
//! The library is found with `pkg-config python3-embed` (Debian's
//! `libpython3.11-dev` provides it). The `python3.11-config` that may come
//! first on `PATH` is deliberately not used: on the benchmark machine it is a
//! pyenv shim for a different libpython than the system's headers describe.
//!
//! `src/cpython.rs` hand-writes the 3.11 layouts (`PyObject`, `PyTypeObject`)
//! and the inline `Py_INCREF`/`Py_DECREF`, so any other minor version is
//! refused here rather than mis-read at run time.

use std::process::Command;

/// The pkg-config module of the embedding library (`-lpython3.11`).
const MODULE: &str = "python3-embed";
/// The only CPython version whose layouts `src/cpython.rs` encodes.
const VERSION: &str = "3.11";
/// What to install when the module is missing.
const HINT: &str = "install Debian's `libpython3.11-dev` (and `pkg-config`): \
                    `apt-get install libpython3.11-dev pkg-config`";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    for var in [
        "PKG_CONFIG",
        "PKG_CONFIG_PATH",
        "PKG_CONFIG_LIBDIR",
        "PKG_CONFIG_SYSROOT_DIR",
    ] {
        println!("cargo:rerun-if-env-changed={var}");
    }

    let version = pkg_config(&["--modversion", MODULE]);
    if version != VERSION {
        fail(&format!(
            "`pkg-config {MODULE}` describes CPython {version}, but src/cpython.rs encodes \
             the CPython {VERSION} ABI; {HINT}, or point PKG_CONFIG_PATH at a {VERSION} \
             python3-embed.pc"
        ));
    }

    let libs = pkg_config(&["--libs", MODULE]);
    let mut linked = false;
    for flag in libs.split_whitespace() {
        if let Some(dir) = flag.strip_prefix("-L") {
            println!("cargo:rustc-link-search=native={dir}");
            // A non-default directory is also needed at run time.
            println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
        } else if let Some(lib) = flag.strip_prefix("-l") {
            println!("cargo:rustc-link-lib=dylib={lib}");
            linked |= lib.starts_with("python");
        }
    }
    if !linked {
        fail(&format!(
            "`pkg-config --libs {MODULE}` named no libpython: {libs:?}; {HINT}"
        ));
    }
}

/// Runs `pkg-config ARGS` and returns its trimmed standard output, or fails
/// the build with a message naming the Debian package.
fn pkg_config(args: &[&str]) -> String {
    let program = std::env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".to_owned());
    let output = match Command::new(&program).args(args).output() {
        Ok(output) => output,
        Err(err) => fail(&format!("cannot run `{program}` ({err}); {HINT}")),
    };
    if !output.status.success() {
        fail(&format!(
            "`{program} {}` failed: {}; {HINT}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn fail(message: &str) -> ! {
    eprintln!("error: bench needs CPython {VERSION}'s embedding library: {message}");
    std::process::exit(1);
}
