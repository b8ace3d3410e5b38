//! The help overlay: every action with its keys, from the key map in force
//! (so a remap shows here), over the screen.

use super::centered;
use super::theme::Theme;
use crate::fmt;
use crate::keys::{Action, KeyMap};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
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
        "Sort (again: reverse)",
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
            Action::Console,
        ],
    ),
];

/// The lines of some sections, keys in a column of 12 cells and each
/// line at most `width` cells.
fn section_lines(
    sections: &[(&str, &[Action])],
    km: &KeyMap,
    t: &Theme,
    width: usize,
) -> Vec<Line<'static>> {
    let kw = 11;
    let mut out = Vec::new();
    for (i, (title, actions)) in sections.iter().enumerate() {
        if i > 0 {
            out.push(Line::raw(""));
        }
        out.push(Line::styled(title.to_string(), t.label));
        for a in *actions {
            let keys = fmt::clip(&km.labels(*a), kw - 1);
            out.push(Line::from(vec![
                Span::styled(format!("  {keys:<kw$}"), t.title),
                Span::raw(fmt::clip(a.describe(), width.saturating_sub(kw + 2))),
            ]));
        }
    }
    out
}

/// Every section in one column.
pub fn lines(km: &KeyMap, t: &Theme) -> Vec<Line<'static>> {
    section_lines(SECTIONS, km, t, 60)
}

pub fn draw(f: &mut Frame, area: Rect, km: &KeyMap, t: &Theme) {
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(t.border_focused)
        .title(Span::styled(" ztop help ", t.title))
        .title_bottom(Line::styled(" any key closes ", t.dim).right_aligned());
    let one = lines(km, t);
    if one.len() as u16 + 2 <= area.height || area.width < 60 {
        let box_ = centered(area, 62, one.len() as u16 + 2);
        f.render_widget(Clear, box_);
        f.render_widget(Paragraph::new(one).block(block), box_);
        return;
    }
    // short terminal: two columns, the sections split in half
    let w = area.width.min(120);
    let col_w = (w.saturating_sub(3) / 2) as usize;
    let left = section_lines(&SECTIONS[..2], km, t, col_w);
    let right = section_lines(&SECTIONS[2..], km, t, col_w);
    let h = left.len().max(right.len()) as u16 + 2;
    let box_ = centered(area, w, h);
    f.render_widget(Clear, box_);
    let inner = block.inner(box_);
    f.render_widget(block, box_);
    let [l, r] = Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)])
        .spacing(1)
        .areas(inner);
    f.render_widget(Paragraph::new(left), l);
    f.render_widget(Paragraph::new(right), r);
}
