//! A tour of the C API: a C program (`c/tour.c`) run as this binary's
//! `main`. Its last part writes a heap snapshot (`obj_heap_snapshot`),
//! which this program then reads with `objrt-inspect`'s library: the
//! objects by type, why `andrey` is alive, and two pictures, the object
//! graph around `andrey` and the allocator's arenas (SVG, beside the
//! snapshot).
//!
//! `cargo run --release -p ffi-tests --bin tour`

use core::ffi::c_int;
use std::path::Path;
use std::process::ExitCode;

use objffi as _;
// The C programs of build.rs are linked into this package's library target
// (Cargo passes a build script's libraries to the library only).
use ffi_tests as _;
use objrt_inspect::{Snapshot, arenas_svg, graph_svg, path, types};

// SAFETY: `objffi_tour_main` (in `c/tour.c`) takes no arguments and only calls
// the library through its documented contract.
unsafe extern "C" {
    safe fn objffi_tour_main() -> c_int;
}

fn main() -> ExitCode {
    if objffi_tour_main() != 0 {
        return ExitCode::FAILURE;
    }
    let snapshot = ["target/tour-snapshot.json", "tour-snapshot.json"]
        .into_iter()
        .map(Path::new)
        .find(|p| p.exists());
    match snapshot.map(draw) {
        Some(Err(e)) => {
            eprintln!("tour: {e}");
            ExitCode::FAILURE
        }
        _ => ExitCode::SUCCESS,
    }
}

/// The snapshot's report and pictures, written beside it.
fn draw(file: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let snapshot = Snapshot::read(file)?;
    println!("\n== 10. Reading the snapshot (objrt-inspect) ==\n");
    println!("$ objrt-inspect types {}", file.display());
    print!("{}", types::render_types(&snapshot));
    // `andrey`: the one Child instance left (the tour's cycle was freed).
    let andrey = snapshot
        .objects
        .iter()
        .position(|o| o.type_name == "Child")
        .ok_or("no Child in the snapshot")?;
    let id = snapshot.objects[andrey].id;
    println!("\n$ objrt-inspect path {} {id:#x}", file.display());
    print!("{}", path::render_path(&snapshot, andrey));
    let dir = file.parent().unwrap_or(Path::new("."));
    let graph = dir.join("tour-graph.svg");
    let layers = graph_svg::neighbourhood(&snapshot, andrey, 2);
    std::fs::write(
        &graph,
        graph_svg::render_graph_svg(&snapshot, andrey, &layers, 2),
    )?;
    let arenas = dir.join("tour-arenas.svg");
    std::fs::write(&arenas, arenas_svg::render_arenas_svg(&snapshot))?;
    println!(
        "\nthe object graph around andrey: {}\nthe allocator's arenas and pools: {}",
        graph.display(),
        arenas.display()
    );
    Ok(())
}
