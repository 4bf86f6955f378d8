//! Markdown tables padded into columns, so the same text reads well in a
//! terminal and renders as a table in Markdown; and the number formats the
//! tables share (a share as a percentage, a signed delta).

/// How a column's cells line up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text, flush left.
    Left,
    /// Numbers, flush right.
    Right,
}

/// A table being filled row by row.
#[derive(Debug, Clone)]
pub struct Table {
    headers: Vec<String>,
    aligns: Vec<Align>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// An empty table with these columns.
    pub fn new(columns: &[(&str, Align)]) -> Table {
        Table {
            headers: columns.iter().map(|(name, _)| (*name).to_owned()).collect(),
            aligns: columns.iter().map(|(_, align)| *align).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row, one cell per column.
    pub fn push_row(&mut self, cells: Vec<String>) {
        debug_assert_eq!(cells.len(), self.headers.len());
        self.rows.push(cells);
    }

    /// The table as Markdown, each column as wide as its widest cell.
    pub fn render(&self) -> String {
        let widths: Vec<usize> = (0..self.headers.len())
            .map(|column| {
                self.rows
                    .iter()
                    .map(|row| row[column].chars().count())
                    .chain([self.headers[column].chars().count(), 3])
                    .max()
                    .unwrap_or(3)
            })
            .collect();
        let mut out = String::new();
        self.render_row(&mut out, &self.headers, &widths);
        out.push('|');
        for (width, align) in widths.iter().zip(&self.aligns) {
            let dashes = "-".repeat(width - 1);
            out.push_str(&match align {
                Align::Left => format!(" {dashes}- |"),
                Align::Right => format!(" {dashes}: |"),
            });
        }
        out.push('\n');
        for row in &self.rows {
            self.render_row(&mut out, row, &widths);
        }
        out
    }

    fn render_row(&self, out: &mut String, cells: &[String], widths: &[usize]) {
        out.push('|');
        for ((cell, width), align) in cells.iter().zip(widths).zip(&self.aligns) {
            let padding = " ".repeat(width - cell.chars().count());
            out.push_str(&match align {
                Align::Left => format!(" {cell}{padding} |"),
                Align::Right => format!(" {padding}{cell} |"),
            });
        }
        out.push('\n');
    }
}

/// `part` as a percentage of `whole`, one decimal: `45.3%` (`-` when the
/// whole is zero).
pub fn percentage(part: u64, whole: u64) -> String {
    if whole == 0 {
        "-".to_owned()
    } else {
        format!("{:.1}%", part as f64 * 100.0 / whole as f64)
    }
}

/// The change from `before` to `after`, always signed: `+3`, `-2`, `0`.
pub fn signed_delta(before: u64, after: u64) -> String {
    let delta = i128::from(after) - i128::from(before);
    if delta > 0 {
        format!("+{delta}")
    } else {
        delta.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::{Align, Table, percentage, signed_delta};

    #[test]
    fn columns_are_padded_and_numbers_right_aligned() {
        let mut table = Table::new(&[("type", Align::Left), ("bytes", Align::Right)]);
        table.push_row(vec!["Node".into(), "64".into()]);
        table.push_row(vec!["int".into(), "1024".into()]);
        assert_eq!(
            table.render(),
            "| type | bytes |\n| ---- | ----: |\n| Node |    64 |\n| int  |  1024 |\n"
        );
    }

    #[test]
    fn shares_and_deltas() {
        assert_eq!(percentage(1, 3), "33.3%");
        assert_eq!(percentage(1, 0), "-");
        assert_eq!(signed_delta(2, 5), "+3");
        assert_eq!(signed_delta(5, 2), "-3");
        assert_eq!(signed_delta(5, 5), "0");
    }
}
