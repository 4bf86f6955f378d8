//! `objrt-inspect graph`: an SVG of the object graph around one object.
//! Its retainers (what refers to it, and what refers to those, up to a
//! depth) are laid out in columns to its left, its referents (what it
//! refers to, and so on) in columns to its right, one column per distance,
//! the object alone in the middle column. Each object sits in the column of
//! the first walk that reaches it (the retainers' walk goes first), so a
//! cycle shows each member once. A column shows at most
//! [`MAX_NODES_PER_LAYER`] objects and says how many more there are; only
//! shown objects are walked further. Every reference between two shown
//! objects is drawn, labelled with its edge names.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::digraph::Digraph;
use crate::labels::{describe_object, edge_label, format_id, short_id};
use crate::snapshot::Snapshot;
use crate::svg::{Svg, truncate};

/// The depth of both walks unless told (`--depth D`).
pub const DEFAULT_DEPTH: usize = 2;
/// The most objects one column shows.
pub const MAX_NODES_PER_LAYER: usize = 40;

/// Box and spacing sizes, in pixels.
const BOX_WIDTH: f64 = 170.0;
const BOX_HEIGHT: f64 = 36.0;
const COLUMN_GAP: f64 = 120.0;
const ROW_GAP: f64 = 14.0;
const MARGIN: f64 = 20.0;
/// Room above the columns for the heading and the column titles.
const HEADER_HEIGHT: f64 = 50.0;
/// How far a reference between two objects of one column bulges out.
const SAME_COLUMN_BULGE: f64 = 60.0;
/// The longest object description and edge label drawn, in characters.
const MAX_BOX_LABEL: usize = 26;
const MAX_EDGE_LABEL: usize = 28;

/// One column of the picture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    /// Its distance from the object: negative for retainers, 0 for the
    /// object, positive for referents.
    pub distance: i64,
    /// The objects shown, in the order the walk reached them.
    pub objects: Vec<usize>,
    /// How many more objects the walk reached at this distance.
    pub hidden: usize,
}

/// The columns around `center` to `depth` on each side, from the farthest
/// retainers to the farthest referents; empty columns are left out.
pub fn neighbourhood(snapshot: &Snapshot, center: usize, depth: usize) -> Vec<Layer> {
    let mut discovered = HashSet::from([center]);
    let referrers = snapshot.references().reversed();
    let mut retainers = walk_layers(&referrers, center, depth, -1, &mut discovered);
    let referents = walk_layers(snapshot.references(), center, depth, 1, &mut discovered);
    retainers.reverse();
    retainers.push(Layer {
        distance: 0,
        objects: vec![center],
        hidden: 0,
    });
    retainers.extend(referents);
    retainers
}

/// Breadth-first layers from `center` along `graph`, `depth` of them, with
/// distances counted by `sign`; objects already `discovered` are skipped.
fn walk_layers(
    graph: &Digraph,
    center: usize,
    depth: usize,
    sign: i64,
    discovered: &mut HashSet<usize>,
) -> Vec<Layer> {
    let mut layers = Vec::new();
    let mut frontier = vec![center];
    for distance in 1..=depth {
        let mut layer = Layer {
            distance: sign * distance as i64,
            objects: Vec::new(),
            hidden: 0,
        };
        for &object in &frontier {
            for &next in graph.successors(object) {
                if discovered.insert(next) {
                    if layer.objects.len() < MAX_NODES_PER_LAYER {
                        layer.objects.push(next);
                    } else {
                        layer.hidden += 1;
                    }
                }
            }
        }
        if layer.objects.is_empty() {
            break;
        }
        frontier.clone_from(&layer.objects);
        layers.push(layer);
    }
    layers
}

/// Where a shown object's box is: its column and its top-left corner.
#[derive(Debug, Clone, Copy)]
struct Placement {
    column: usize,
    x: f64,
    y: f64,
}

/// The picture of the neighbourhood of `center` (the `layers` that
/// [`neighbourhood`] found around it to `depth`), as an SVG document.
pub fn render_graph_svg(
    snapshot: &Snapshot,
    center: usize,
    layers: &[Layer],
    depth: usize,
) -> String {
    let tallest = layers
        .iter()
        .map(|layer| layer.objects.len() + usize::from(layer.hidden > 0))
        .max()
        .unwrap_or(1);
    let row_pitch = BOX_HEIGHT + ROW_GAP;
    let width = 2.0 * MARGIN + layers.len() as f64 * (BOX_WIDTH + COLUMN_GAP) - COLUMN_GAP
        + SAME_COLUMN_BULGE;
    let height = 2.0 * MARGIN + HEADER_HEIGHT + tallest as f64 * row_pitch;

    let mut svg = Svg::new();
    let center_object = &snapshot.objects[center];
    svg.text(
        MARGIN,
        MARGIN + 12.0,
        "start",
        "heading",
        &format!(
            "Around {} ({}): retainers to the left, referents to the right, depth {depth}",
            format_id(center_object.id),
            describe_object(center_object)
        ),
    );
    let mut placements: HashMap<usize, Placement> = HashMap::new();
    for (column, layer) in layers.iter().enumerate() {
        let x = MARGIN + column as f64 * (BOX_WIDTH + COLUMN_GAP);
        let rows = layer.objects.len() + usize::from(layer.hidden > 0);
        let top = MARGIN + HEADER_HEIGHT + (tallest - rows) as f64 * row_pitch / 2.0;
        svg.text(
            x + BOX_WIDTH / 2.0,
            MARGIN + HEADER_HEIGHT - 10.0,
            "middle",
            "column",
            &column_title(layer.distance),
        );
        for (row, &object) in layer.objects.iter().enumerate() {
            let y = top + row as f64 * row_pitch;
            placements.insert(object, Placement { column, x, y });
            draw_object_box(&mut svg, snapshot, object, x, y, object == center);
        }
        if layer.hidden > 0 {
            let y = top + layer.objects.len() as f64 * row_pitch;
            svg.rect(x, y, BOX_WIDTH, BOX_HEIGHT, "more");
            svg.text(
                x + BOX_WIDTH / 2.0,
                y + BOX_HEIGHT / 2.0 + 4.0,
                "middle",
                "label",
                &format!("+{} more", layer.hidden),
            );
        }
    }
    draw_references(&mut svg, snapshot, &placements);
    svg.finish(
        width.max(600.0),
        height,
        ".object { fill: #eef3fb; stroke: #4a6fa5; }\n\
         .center { fill: #fde8c8; stroke: #c07a12; stroke-width: 2; }\n\
         .more { fill: #f4f4f4; stroke: #999; stroke-dasharray: 4 3; }\n\
         .heading { font-size: 14px; font-weight: bold; }\n\
         .column { fill: #666; }\n\
         .id { fill: #666; font-size: 10px; }\n\
         .edge-label { fill: #444; font-size: 10px; }",
    )
}

fn column_title(distance: i64) -> String {
    match distance {
        0 => "object".to_owned(),
        d if d < 0 => format!("retainers, distance {}", -d),
        d => format!("referents, distance {d}"),
    }
}

fn draw_object_box(svg: &mut Svg, snapshot: &Snapshot, index: usize, x: f64, y: f64, center: bool) {
    let object = &snapshot.objects[index];
    let refcount = object.refcount.map_or_else(
        || "immortal".to_owned(),
        |count| format!("refcount {count}"),
    );
    svg.begin_group(&format!(
        "{} {}: {} bytes, {refcount}",
        format_id(object.id),
        describe_object(object),
        object.size
    ));
    svg.rect(
        x,
        y,
        BOX_WIDTH,
        BOX_HEIGHT,
        if center { "center" } else { "object" },
    );
    svg.text(
        x + BOX_WIDTH / 2.0,
        y + 15.0,
        "middle",
        "label",
        &truncate(&describe_object(object), MAX_BOX_LABEL),
    );
    svg.text(
        x + BOX_WIDTH / 2.0,
        y + 29.0,
        "middle",
        "id",
        &short_id(object.id),
    );
    svg.end_group();
}

/// Draws every reference between two shown objects, one arrow per pair of
/// objects labelled with all the edges between them.
fn draw_references(svg: &mut Svg, snapshot: &Snapshot, placements: &HashMap<usize, Placement>) {
    // Sorted so the document is the same on every run.
    let mut arrows: BTreeMap<(usize, usize), Vec<String>> = BTreeMap::new();
    for &from in placements.keys() {
        for (edge_position, edge) in snapshot.objects[from].edges.iter().enumerate() {
            if placements.contains_key(&edge.target) {
                arrows
                    .entry((from, edge.target))
                    .or_default()
                    .push(edge_label(snapshot, from, edge_position));
            }
        }
    }
    for ((from, to), labels) in arrows {
        let points = arrow_points(placements[&from], placements[&to]);
        let label = truncate(&labels.join(", "), MAX_EDGE_LABEL);
        // The curve's midpoint: B(1/2) = (P0 + 3 P1 + 3 P2 + P3) / 8.
        let mid_x = (points[0].0 + 3.0 * points[1].0 + 3.0 * points[2].0 + points[3].0) / 8.0;
        let mid_y = (points[0].1 + 3.0 * points[1].1 + 3.0 * points[2].1 + points[3].1) / 8.0;
        svg.begin_group(&labels.join(", "));
        svg.arrow(points);
        svg.text(mid_x, mid_y - 3.0, "middle", "edge-label", &label);
        svg.end_group();
    }
}

/// The curve of an arrow between two boxes: from the right side to the
/// left side going right, the other way going left, and out of and back
/// into the right sides within one column.
fn arrow_points(from: Placement, to: Placement) -> [(f64, f64); 4] {
    let from_mid = from.y + BOX_HEIGHT / 2.0;
    let to_mid = to.y + BOX_HEIGHT / 2.0;
    if to.column > from.column {
        let (x0, x3) = (from.x + BOX_WIDTH, to.x);
        let bend = (x3 - x0) / 2.0;
        [
            (x0, from_mid),
            (x0 + bend, from_mid),
            (x3 - bend, to_mid),
            (x3, to_mid),
        ]
    } else if to.column < from.column {
        let (x0, x3) = (from.x, to.x + BOX_WIDTH);
        let bend = (x0 - x3) / 2.0;
        [
            (x0, from_mid),
            (x0 - bend, from_mid),
            (x3 + bend, to_mid),
            (x3, to_mid),
        ]
    } else {
        // Within one column (a self-reference included): leave above the
        // middle, come back below it.
        let x = from.x + BOX_WIDTH;
        let (y0, y3) = (from_mid - 6.0, to_mid + 6.0);
        [
            (x, y0),
            (x + SAME_COLUMN_BULGE, y0 - 10.0),
            (x + SAME_COLUMN_BULGE, y3 + 10.0),
            (x, y3),
        ]
    }
}
