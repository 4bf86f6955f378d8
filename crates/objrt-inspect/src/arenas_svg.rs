//! `objrt-inspect arenas`: an SVG of the allocator's arenas, one row per
//! arena and one cell per pool (64 per arena, in address order). A pool in
//! use is filled from the bottom in proportion to its blocks in use over
//! its capacity, in a colour from pale (nearly empty) to dark (full); an
//! empty pool (`null`) is a blank cell. Hovering a cell shows its block
//! size and counts (`<title>`); each row is labelled with the arena's
//! address and occupancy, and a legend explains the cells.

use crate::labels::format_id;
use crate::snapshot::{Pool, Snapshot};
use crate::svg::Svg;
use crate::table::percentage;

/// Pools per arena (1 MiB arenas of 16 KiB pools, `docs/heap-snapshot.md`);
/// a row is this wide even when an arena lists fewer pools.
pub const POOLS_PER_ARENA: usize = 64;

/// Cell and spacing sizes, in pixels.
const CELL: f64 = 14.0;
const CELL_GAP: f64 = 2.0;
const ROW_GAP: f64 = 6.0;
const MARGIN: f64 = 20.0;
/// Room left of the cells for the arena's address.
const LABEL_WIDTH: f64 = 130.0;
/// Room right of the cells for the arena's occupancy.
const SUMMARY_WIDTH: f64 = 230.0;
/// Room above the rows for the heading and the legend.
const HEADER_HEIGHT: f64 = 64.0;
/// The occupancies the legend shows.
const LEGEND_STEPS: [u64; 5] = [0, 25, 50, 75, 100];

/// The picture of the snapshot's arenas, as an SVG document.
pub fn render_arenas_svg(snapshot: &Snapshot) -> String {
    let columns = snapshot
        .arenas
        .iter()
        .map(|arena| arena.pools.len())
        .max()
        .unwrap_or(0)
        .max(POOLS_PER_ARENA);
    let pitch = CELL + CELL_GAP;
    let width = 2.0 * MARGIN + LABEL_WIDTH + columns as f64 * pitch + SUMMARY_WIDTH;
    let height =
        2.0 * MARGIN + HEADER_HEIGHT + snapshot.arenas.len().max(1) as f64 * (CELL + ROW_GAP);
    let mut svg = Svg::new();
    let pools_in_use: usize = snapshot
        .arenas
        .iter()
        .map(|arena| arena.pools.iter().flatten().count())
        .sum();
    svg.text(
        MARGIN,
        MARGIN + 12.0,
        "start",
        "heading",
        &format!(
            "{} arenas, {pools_in_use} pools in use; each cell a pool, filled by blocks in use / capacity",
            snapshot.arenas.len()
        ),
    );
    draw_legend(&mut svg, MARGIN, MARGIN + 26.0);
    let cells_left = MARGIN + LABEL_WIDTH;
    for (row, arena) in snapshot.arenas.iter().enumerate() {
        let y = MARGIN + HEADER_HEIGHT + row as f64 * (CELL + ROW_GAP);
        svg.text(
            MARGIN,
            y + CELL - 3.0,
            "start",
            "address",
            &format_id(arena.address),
        );
        for (column, pool) in arena.pools.iter().enumerate() {
            let x = cells_left + column as f64 * pitch;
            match pool {
                Some(pool) => {
                    svg.begin_group(&format!(
                        "pool {column}: {}-byte blocks, {} of {} in use ({})",
                        pool.block_size,
                        pool.used,
                        pool.capacity,
                        percentage(pool.used, pool.capacity)
                    ));
                    draw_cell(&mut svg, x, y, occupancy_percent(pool));
                    svg.end_group();
                }
                None => {
                    svg.begin_group(&format!("pool {column}: empty"));
                    svg.rect(x, y, CELL, CELL, "empty");
                    svg.end_group();
                }
            }
        }
        let (used, capacity) = arena
            .pools
            .iter()
            .flatten()
            .fold((0, 0), |(used, capacity), pool| {
                (used + pool.used, capacity + pool.capacity)
            });
        svg.text(
            cells_left + columns as f64 * pitch + 8.0,
            y + CELL - 3.0,
            "start",
            "summary",
            &format!(
                "{} pools in use, {} of their blocks",
                arena.pools.iter().flatten().count(),
                percentage(used, capacity)
            ),
        );
    }
    if snapshot.arenas.is_empty() {
        svg.text(
            cells_left,
            MARGIN + HEADER_HEIGHT + CELL - 3.0,
            "start",
            "summary",
            "(the snapshot lists no arenas)",
        );
    }
    svg.finish(
        width,
        height,
        ".cell-frame { fill: white; stroke: #888; stroke-width: 0.5; }\n\
         .empty { fill: white; stroke: #ccc; stroke-width: 0.5; stroke-dasharray: 2 2; }\n\
         .heading { font-size: 14px; font-weight: bold; }\n\
         .address { font-family: monospace; }\n\
         .summary { fill: #444; }\n\
         .fill-0 { fill: #c6dbef; } .fill-1 { fill: #6baed6; } .fill-2 { fill: #2171b5; } .fill-3 { fill: #08306b; }",
    )
}

/// Blocks in use as a whole percentage of the capacity (0 for a pool that
/// claims no capacity; at most 100).
fn occupancy_percent(pool: &Pool) -> u64 {
    if pool.capacity == 0 {
        0
    } else {
        (pool.used.min(pool.capacity) * 100).div_ceil(pool.capacity)
    }
}

/// A pool's cell: a frame filled from the bottom to `percent`, coloured by
/// the quarter it falls in.
fn draw_cell(svg: &mut Svg, x: f64, y: f64, percent: u64) {
    svg.rect(x, y, CELL, CELL, "cell-frame");
    if percent > 0 {
        let fill_height = CELL * percent as f64 / 100.0;
        let shade = ((percent - 1) / 25).min(3);
        svg.rect(
            x,
            y + CELL - fill_height,
            CELL,
            fill_height,
            &format!("fill-{shade}"),
        );
    }
}

/// The legend: an empty pool, then pools at a few occupancies.
fn draw_legend(svg: &mut Svg, x: f64, y: f64) {
    svg.rect(x, y, CELL, CELL, "empty");
    svg.text(
        x + CELL + 4.0,
        y + CELL - 3.0,
        "start",
        "legend",
        "empty pool",
    );
    let mut step_x = x + 100.0;
    for percent in LEGEND_STEPS {
        draw_cell(svg, step_x, y, percent);
        svg.text(
            step_x + CELL + 4.0,
            y + CELL - 3.0,
            "start",
            "legend",
            &format!("{percent}% in use"),
        );
        step_x += 100.0;
    }
}
