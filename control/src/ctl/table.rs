//! Aligned text tables for `pinhole ctl` (left-aligned text, right-aligned numbers).

/// A table under construction.
#[derive(Debug, Default)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers.
    pub fn new(headers: &[&str]) -> Self {
        Table {
            headers: headers.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    /// Add a row (missing cells are blank, extra ones dropped).
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Whether no row was added.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table as text, one line per row, columns separated by two spaces.
    pub fn render(&self) -> String {
        let cols = self.headers.len();
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let numeric: Vec<bool> = (0..cols)
            .map(|c| {
                !self.rows.is_empty()
                    && self.rows.iter().all(|r| {
                        r.get(c)
                            .is_none_or(|v| v.is_empty() || v.parse::<f64>().is_ok())
                    })
            })
            .collect();
        let line = |cells: &[String]| {
            let mut out = String::new();
            for (c, w) in widths.iter().enumerate() {
                let cell = cells.get(c).map(String::as_str).unwrap_or_default();
                let pad = w.saturating_sub(cell.chars().count());
                if c > 0 {
                    out.push_str("  ");
                }
                if numeric.get(c).copied().unwrap_or(false) {
                    out.push_str(&" ".repeat(pad));
                    out.push_str(cell);
                } else {
                    out.push_str(cell);
                    if c + 1 < cols {
                        out.push_str(&" ".repeat(pad));
                    }
                }
            }
            out.trim_end().to_owned()
        };
        let mut text = line(&self.headers);
        text.push('\n');
        for row in &self.rows {
            text.push_str(&line(row));
            text.push('\n');
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_and_numbers_go_right() {
        let mut t = Table::new(&["Name", "Packets"]);
        t.row(vec!["in-out".into(), "7".into()]);
        t.row(vec!["a".into(), "1234".into()]);
        assert_eq!(
            t.render(),
            "Name    Packets\nin-out        7\na          1234\n"
        );
    }
}
