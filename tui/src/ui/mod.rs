//! # Drawing: one function per panel, plain data in, cells out
//!
//! [`draw`] lays the screen out ([`layout`]) and hands each panel the plain
//! data it shows: the header the host and the counts, the table the rows,
//! the detail pane one zone and its processes, the footer the keys and the
//! last message. Panels read no clock, no /proc and no channel, so a test
//! draws any state on a `TestBackend` and compares the cells.
//!
//! ```text
//!  ┌ header (3 lines): host, load, memory, zones by state, engine, time ┐
//!  │ zone table: heading + one row per zone, global first               │
//!  │ detail pane of the selected zone (bordered)                        │
//!  └ footer (1 line): keys, and the last action's result                ┘
//! ```
//!
//! The help overlay and the confirmation dialog are drawn last, on top.

pub mod bar;
pub mod detail;
pub mod dialog;
pub mod footer;
pub mod header;
pub mod help;
pub mod hosts;
pub mod table;
pub mod theme;

use crate::app::{App, Focus, Mode};
use ratatui::Frame;
use ratatui::layout::Rect;

/// Where things landed on the last layout: for the mouse and for paging.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Viewport {
    /// The table's rows (below its heading).
    pub table_body: Rect,
    pub table_rows: usize,
    /// The whole detail pane.
    pub detail: Rect,
    /// Process rows visible in the detail pane.
    pub proc_rows: usize,
}

/// The screen's areas.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Areas {
    pub header: Rect,
    pub table: Rect,
    pub detail: Rect,
    pub footer: Rect,
}

pub const HEADER_HEIGHT: u16 = 3;

/// Split the screen. Below 16 lines the detail pane replaces the table
/// when focused and is hidden otherwise.
pub fn layout(area: Rect, focus: Focus, rows: usize) -> Areas {
    layout_with_header(area, focus, rows, HEADER_HEIGHT)
}

/// The app's layout: across hosts the header has a line a host
/// ([`hosts::height`]), else [`HEADER_HEIGHT`].
pub fn app_layout(area: Rect, app: &App) -> Areas {
    let h = app
        .fleet
        .as_ref()
        .map_or(HEADER_HEIGHT, |f| hosts::height(f.hosts.len()));
    layout_with_header(area, app.focus, app.rows.len(), h)
}

/// [`layout`] with a header of `header_h` lines.
pub fn layout_with_header(area: Rect, focus: Focus, rows: usize, header_h: u16) -> Areas {
    // a tall fleet header leaves the table at least a few lines
    let header_h = header_h
        .min(area.height.saturating_sub(5).max(HEADER_HEIGHT))
        .min(area.height);
    let footer_h = 1.min(area.height.saturating_sub(header_h));
    let body_h = area.height.saturating_sub(header_h + footer_h);
    let header = Rect {
        height: header_h,
        ..area
    };
    let body_y = area.y + header_h;
    let footer = Rect {
        y: body_y + body_h,
        height: footer_h,
        ..area
    };
    let (table_h, detail_h) = if body_h < 13 {
        match focus {
            Focus::Table => (body_h, 0),
            Focus::Detail => (0, body_h),
        }
    } else {
        match focus {
            Focus::Table => {
                // the table gets what its rows need, up to 55 % of the body
                let want = rows as u16 + 1;
                let most = (body_h * 55 / 100).max(5);
                let t = want.clamp(3, most).min(body_h - 10);
                (t, body_h - t)
            }
            Focus::Detail => {
                let t = (rows as u16 + 1).clamp(3, 6);
                (t, body_h - t)
            }
        }
    };
    Areas {
        header,
        table: Rect {
            y: body_y,
            height: table_h,
            ..area
        },
        detail: Rect {
            y: body_y + table_h,
            height: detail_h,
            ..area
        },
        footer,
    }
}

/// The viewport of a layout.
pub fn viewport(a: &Areas) -> Viewport {
    let table_body = Rect {
        y: a.table.y + 1.min(a.table.height),
        height: a.table.height.saturating_sub(1),
        ..a.table
    };
    Viewport {
        table_body,
        table_rows: table_body.height as usize,
        detail: a.detail,
        proc_rows: detail::proc_rows(a.detail),
    }
}

/// Draw the whole screen from the app's state.
pub fn draw(f: &mut Frame, app: &App) {
    let areas = app_layout(f.area(), app);
    let t = &app.config.theme;
    match hosts::FleetHeaderData::of(app) {
        Some(d) => hosts::draw(f, areas.header, &d, t),
        None => header::draw(f, areas.header, &header::HeaderData::of(app), t),
    }
    if app.snap.seq == 0 && app.snap.zones.is_empty() {
        let waiting = ratatui::widgets::Paragraph::new(ratatui::text::Line::styled(
            "waiting for the engine's first snapshot…",
            t.dim,
        ))
        .alignment(ratatui::layout::Alignment::Center);
        let body = Rect {
            height: areas.table.height + areas.detail.height,
            ..areas.table
        };
        f.render_widget(waiting, centered(body, body.width, 1));
    } else if areas.table.height > 0 {
        table::draw(
            f,
            areas.table,
            &table::TableData {
                rows: &app.rows,
                columns: &app.columns(),
                selected: app.selected,
                offset: app.table_offset,
                sort: app.sort,
                reverse: app.reverse,
                focused: app.focus == Focus::Table,
            },
            t,
        );
    }
    if areas.detail.height > 0 && (!app.snap.zones.is_empty() || app.fleet.is_some()) {
        detail::draw(f, areas.detail, &detail::DetailData::of(app), t);
    }
    footer::draw(f, areas.footer, &footer::FooterData::of(app), t);
    match &app.mode {
        Mode::Help => help::draw(f, f.area(), &app.config.keys, t),
        Mode::Confirm(op) => dialog::draw(f, f.area(), op, &app.config.keys, t),
        Mode::Normal | Mode::Filter => {}
    }
}

/// A rectangle of `w`×`h` centred in `area` (clipped to it).
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

#[cfg(test)]
mod fleet_screens;
#[cfg(test)]
mod screens;
