//! The y/n dialog before a destructive operation (halt, reboot, destroy).

use super::centered;
use super::theme::Theme;
use crate::keys::KeyMap;
use crate::source::Op;
use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

/// What the operation does, in one sentence.
pub fn consequence(op: &Op) -> &'static str {
    match op {
        Op::Halt(_) => "Every process in the zone is killed now.",
        Op::Reboot(_) => "Every process in the zone is killed, then it boots again.",
        Op::Destroy(_) => "The zone is halted and removed.",
        _ => "",
    }
}

pub fn draw(f: &mut Frame, area: Rect, op: &Op, _km: &KeyMap, t: &Theme) {
    let question = format!("{} zone {}?", capitalised(op.verb()), op.zone());
    let body = vec![
        Line::styled(question, t.title),
        Line::raw(""),
        Line::raw(consequence(op)),
        Line::raw(""),
        Line::from(vec![
            Span::styled(" y ", t.key),
            Span::raw(" yes    "),
            Span::styled(" n ", t.key),
            Span::raw(" no"),
        ]),
    ];
    let w = 50.min(area.width);
    let box_ = centered(area, w, 7);
    f.render_widget(Clear, box_);
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(t.error)
        .title(Span::styled(format!(" {} ", op.verb()), t.error));
    f.render_widget(
        Paragraph::new(body)
            .block(block)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true }),
        box_,
    );
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
