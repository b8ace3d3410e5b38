//! The zone table: a heading, then one row per zone (global first), the
//! columns [`fit`] to the width, hot cells (≥ 90 % of a limit) standing out
//! and the sorted column's heading marked.

use super::theme::Theme;
use crate::model::{Column, Row, SortKey, fit};
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Cell, Row as TRow, Table};

/// What the table shows.
pub struct TableData<'a> {
    pub rows: &'a [Row],
    pub columns: &'a [Column],
    pub selected: usize,
    /// The first row on screen.
    pub offset: usize,
    pub sort: SortKey,
    pub reverse: bool,
    pub focused: bool,
}

fn status_style(r: &Row, t: &Theme) -> Style {
    match r.status.as_str() {
        "running" => t.running,
        "configured" | "installed" => t.dim,
        _ => t.transient,
    }
}

pub fn draw(f: &mut Frame, area: Rect, d: &TableData, t: &Theme) {
    let cols = fit(d.columns, d.rows, area.width as usize);
    let sorted = d.sort.column();
    let heading = TRow::new(cols.iter().map(|(c, _)| {
        let mut text = c.heading().to_string();
        if *c == sorted {
            text = format!("{text}{}", if d.reverse { "▲" } else { "▼" });
        }
        let line = if c.right_aligned() {
            Line::from(text).alignment(Alignment::Right)
        } else {
            Line::from(text)
        };
        Cell::from(line).style(if *c == sorted {
            t.heading_sorted
        } else {
            t.heading
        })
    }))
    .style(t.heading);
    let visible = area.height.saturating_sub(1) as usize;
    let rows = d
        .rows
        .iter()
        .enumerate()
        .skip(d.offset)
        .take(visible)
        .map(|(i, r)| {
            let cells = cols.iter().map(|(c, _)| {
                let (text, hot) = r.cell(*c);
                // the selected row is one colour, as in htop; a hot cell
                // in it stays bold
                let selected = i == d.selected;
                let mut style = match c {
                    _ if selected => Style::new(),
                    Column::Status => status_style(r, t),
                    _ if !r.is_kernel_zone() => t.dim,
                    _ if text == "-" => t.dim,
                    _ => Style::new(),
                };
                if hot {
                    style = if selected {
                        style.add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
                    } else {
                        style.patch(t.hot)
                    };
                }
                let line = if c.right_aligned() {
                    Line::from(text).alignment(Alignment::Right)
                } else {
                    Line::from(text)
                };
                Cell::from(line).style(style)
            });
            let row = TRow::new(cells);
            if i == d.selected {
                row.style(if d.focused {
                    t.selected
                } else {
                    t.selected.patch(t.dim)
                })
            } else {
                row
            }
        });
    let widths: Vec<Constraint> = cols
        .iter()
        .map(|(_, w)| Constraint::Length(*w as u16))
        .collect();
    let table = Table::new(rows, widths).header(heading).column_spacing(1);
    f.render_widget(table, area);
}
