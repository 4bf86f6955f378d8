//! Writing SVG: the document frame with its shared styles and arrowhead,
//! and the few elements the pictures draw, with every piece of text
//! escaped so that any type name, value or attribute name leaves the
//! document well-formed XML.

use std::fmt::Write;

/// An SVG document being drawn, in user units (pixels).
#[derive(Debug)]
pub(crate) struct Svg {
    body: String,
}

impl Svg {
    /// An empty drawing.
    pub(crate) fn new() -> Svg {
        Svg {
            body: String::new(),
        }
    }

    /// A rectangle with the given CSS class.
    pub(crate) fn rect(&mut self, x: f64, y: f64, width: f64, height: f64, class: &str) {
        let _ = writeln!(
            self.body,
            r#"<rect class="{class}" x="{x:.1}" y="{y:.1}" width="{width:.1}" height="{height:.1}"/>"#
        );
    }

    /// A text whose anchor (`start`, `middle`, `end`) sits at `(x, y)`.
    pub(crate) fn text(&mut self, x: f64, y: f64, anchor: &str, class: &str, content: &str) {
        let _ = writeln!(
            self.body,
            r#"<text class="{class}" x="{x:.1}" y="{y:.1}" text-anchor="{anchor}">{}</text>"#,
            escape(content)
        );
    }

    /// A cubic Bézier curve from the first point to the last, the middle
    /// two its control points, ending in an arrowhead.
    pub(crate) fn arrow(&mut self, points: [(f64, f64); 4]) {
        let [(x0, y0), (x1, y1), (x2, y2), (x3, y3)] = points;
        let _ = writeln!(
            self.body,
            r#"<path class="edge" d="M {x0:.1} {y0:.1} C {x1:.1} {y1:.1} {x2:.1} {y2:.1} {x3:.1} {y3:.1}" marker-end="url(#arrowhead)"/>"#
        );
    }

    /// Opens a group whose hover text (`<title>`) is `title`; close it with
    /// [`Svg::end_group`].
    pub(crate) fn begin_group(&mut self, title: &str) {
        let _ = writeln!(self.body, "<g><title>{}</title>", escape(title));
    }

    /// Closes the group opened last.
    pub(crate) fn end_group(&mut self) {
        self.body.push_str("</g>\n");
    }

    /// The finished document, `width` by `height`, with `style` (CSS) added
    /// to the shared styles.
    pub(crate) fn finish(self, width: f64, height: f64, style: &str) -> String {
        format!(
            r##"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}">
<defs>
<marker id="arrowhead" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker>
<style>
text {{ font-family: sans-serif; font-size: 11px; fill: #222; }}
.edge {{ fill: none; stroke: #777; stroke-width: 1; }}
{style}
</style>
</defs>
<rect x="0" y="0" width="{width:.0}" height="{height:.0}" fill="white"/>
{}</svg>
"##,
            self.body
        )
    }
}

/// `text` with the five XML special characters escaped.
pub(crate) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            // Control characters are not allowed in XML 1.0 at all.
            c if c.is_control() && !matches!(c, '\t' | '\n' | '\r') => escaped.push('\u{fffd}'),
            c => escaped.push(c),
        }
    }
    escaped
}

/// `text` cut to `max_chars` characters, ending in `…` when cut.
pub(crate) fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        text.to_owned()
    } else {
        let kept: String = text.chars().take(max_chars.saturating_sub(1)).collect();
        format!("{kept}…")
    }
}
