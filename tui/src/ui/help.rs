//! The help overlay: every action with its keys, from the key map in force
//! (so a remap shows here), over the screen.

use super::centered;
use super::theme::Theme;
use crate::keys::{Action, KeyMap};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

/// The help's sections, in order.
const SECTIONS: &[(&str, &[Action])] = &[
    (
        "Move",
        &[
            Action::Up,
            Action::Down,
            Action::PageUp,
            Action::PageDown,
            Action::Top,
            Action::Bottom,
            Action::Focus,
            Action::Filter,
            Action::Close,
        ],
    ),
    (
        "Sort",
        &[
            Action::SortName,
            Action::SortId,
            Action::SortNproc,
            Action::SortLoad,
            Action::SortCpu,
            Action::SortMem,
        ],
    ),
    (
        "Display",
        &[
            Action::Freeze,
            Action::Slower,
            Action::Faster,
            Action::Tree,
            Action::Help,
            Action::Quit,
        ],
    ),
    (
        "The selected zone",
        &[
            Action::Boot,
            Action::Shutdown,
            Action::Halt,
            Action::Reboot,
            Action::Destroy,
            Action::Create,
            Action::Zlogin,
        ],
    ),
];

/// The help's lines, keys in a column of `kw` cells.
pub fn lines(km: &KeyMap, t: &Theme) -> Vec<Line<'static>> {
    let kw = 12;
    let mut out = Vec::new();
    for (i, (title, actions)) in SECTIONS.iter().enumerate() {
        if i > 0 {
            out.push(Line::raw(""));
        }
        out.push(Line::styled(title.to_string(), t.label));
        for a in *actions {
            out.push(Line::from(vec![
                Span::styled(format!("  {:<kw$}", km.labels(*a)), t.title),
                Span::raw(a.describe()),
            ]));
        }
    }
    out
}

pub fn draw(f: &mut Frame, area: Rect, km: &KeyMap, t: &Theme) {
    let body = lines(km, t);
    let h = body.len() as u16 + 2;
    let box_ = centered(area, 62, h);
    f.render_widget(Clear, box_);
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(t.border_focused)
        .title(Span::styled(" ztop help ", t.title))
        .title_bottom(Line::styled(" any key closes ", t.dim).right_aligned());
    f.render_widget(Paragraph::new(body).block(block), box_);
}
