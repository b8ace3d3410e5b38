//! The footer: the keys that work here (they change with the selected row
//! and the focus), the filter prompt while typing one, and on the right the
//! operations in flight or the last one's result.

use super::theme::Theme;
use crate::app::{App, Focus, Message, Mode};
use crate::fmt;
use crate::keys::{Action, KeyMap};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// What the footer shows.
#[derive(Clone, Debug, PartialEq)]
pub struct FooterData {
    /// The filter being typed, when in filter mode.
    pub filter_prompt: Option<String>,
    /// (key label, what it does), in order.
    pub keys: Vec<(String, &'static str)>,
    /// Operations still running (`web: halt…`).
    pub in_flight: Vec<String>,
    pub message: Option<Message>,
}

/// The keys worth showing for a state.
pub fn keys_for(
    km: &KeyMap,
    focus: Focus,
    row: RowKind,
    filtered: bool,
) -> Vec<(String, &'static str)> {
    let mut acts: Vec<(Action, &'static str)> = vec![(Action::Help, "help")];
    match focus {
        Focus::Detail => {
            acts.extend([
                (Action::Down, "scroll"),
                (Action::Tree, "tree"),
                (Action::Close, "back"),
            ]);
        }
        Focus::Table => {
            match row {
                RowKind::Running => acts.extend([
                    (Action::Shutdown, "shutdown"),
                    (Action::Halt, "halt"),
                    (Action::Reboot, "reboot"),
                    (Action::Zlogin, "login"),
                ]),
                RowKind::Kernel => acts.extend([
                    (Action::Boot, "boot"),
                    (Action::Halt, "halt"),
                    (Action::Destroy, "destroy"),
                ]),
                RowKind::Configured => acts.extend([
                    (Action::Boot, "boot"),
                    (Action::Create, "create"),
                    (Action::Destroy, "destroy"),
                ]),
                RowKind::Global | RowKind::None => {}
            }
            acts.push((Action::Focus, "detail"));
            acts.push((Action::Filter, "filter"));
            if filtered {
                acts.push((Action::Close, "unfilter"));
            }
            acts.push((Action::SortCpu, "sort"));
            acts.push((Action::Freeze, "freeze"));
        }
    }
    acts.push((Action::Quit, "quit"));
    acts.into_iter()
        .map(|(a, what)| (km.label(a), what))
        .filter(|(k, _)| k != "—")
        .collect()
}

/// The kind of the selected row, for the keys it offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowKind {
    Global,
    Running,
    Kernel,
    Configured,
    None,
}

impl FooterData {
    pub fn of(app: &App) -> FooterData {
        let kind = match app.selected_row() {
            None => RowKind::None,
            Some(r) if r.is_global() => RowKind::Global,
            Some(r) if r.id.is_none() => RowKind::Configured,
            Some(r) if r.status == "running" => RowKind::Running,
            Some(_) => RowKind::Kernel,
        };
        FooterData {
            filter_prompt: (app.mode == Mode::Filter).then(|| app.filter.clone()),
            keys: keys_for(&app.config.keys, app.focus, kind, !app.filter.is_empty()),
            in_flight: app
                .in_flight
                .iter()
                .map(|op| format!("{}: {}…", op.zone(), op.verb()))
                .collect(),
            message: app.message.clone(),
        }
    }
}

pub fn draw(f: &mut Frame, area: Rect, d: &FooterData, t: &Theme) {
    let w = area.width as usize;
    if w == 0 || area.height == 0 {
        return;
    }
    // right: in flight, else the last message
    let (right, right_style) = if !d.in_flight.is_empty() {
        (d.in_flight.join("  "), t.transient)
    } else if let Some(m) = &d.message {
        (m.text.clone(), if m.error { t.error } else { t.ok })
    } else {
        (String::new(), t.dim)
    };
    let mut left: Vec<Span> = Vec::new();
    let mut used = 0;
    if let Some(filter) = &d.filter_prompt {
        let prompt = format!(" filter: {filter}▏ Enter keep · Esc clear");
        used = prompt.chars().count();
        left.push(Span::styled(prompt, t.title));
    } else {
        let budget = if right.is_empty() {
            w
        } else {
            w.saturating_sub(right.chars().count().min(w * 2 / 3) + 2)
        };
        // "k what " then a blank
        let cost = |(k, what): &(String, &str)| k.chars().count() + what.chars().count() + 3;
        // the last key (quit) always shows: the ones before it give way,
        // from the end
        let shown: Vec<&(String, &str)> = match d.keys.split_last() {
            Some((quit, rest)) if d.keys.iter().map(cost).sum::<usize>() > budget => {
                let mut room = budget.saturating_sub(cost(quit));
                let mut v: Vec<_> = rest
                    .iter()
                    .take_while(|k| {
                        let n = cost(k);
                        let fits = n <= room;
                        room = room.saturating_sub(n);
                        fits
                    })
                    .collect();
                if cost(quit) <= budget {
                    v.push(quit);
                }
                v
            }
            _ => d.keys.iter().collect(),
        };
        for key in shown {
            let (k, what) = key;
            left.push(Span::styled(k.clone(), t.title));
            left.push(Span::styled(format!(" {what} "), t.key));
            left.push(Span::raw(" "));
            used += cost(key);
        }
    }
    if !right.is_empty() {
        let room = w.saturating_sub(used + 1);
        let text = fmt::clip(&right, room);
        let pad = w.saturating_sub(used + text.chars().count() + 1);
        left.push(Span::raw(" ".repeat(pad)));
        left.push(Span::styled(text, right_style));
        left.push(Span::raw(" "));
    }
    f.render_widget(Paragraph::new(Line::from(left)), area);
}
