//! The header: the host at a glance, three lines.
//!
//! ```text
//!  atlas  up 3d 04:05  load 1.25 0.98 0.71  8 CPUs            embedded  12:00:00
//!  Mem [||||||||||           6.3G/16G]  Swap [|                 12M/4.0G]
//!  Zones 4 running, 1 ready, 1 installed                    refresh 1.0s  FROZEN
//! ```

use super::bar::meter;
use super::theme::Theme;
use crate::app::App;
use crate::fmt;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use std::time::Duration;
use zones::snapshot::Host;
use zones::zone::AdminState;

/// What the header shows.
#[derive(Clone, Debug)]
pub struct HeaderData {
    pub host: Host,
    pub counts: Vec<(AdminState, usize)>,
    pub engine: String,
    pub clock: String,
    pub interval: Duration,
    pub frozen: bool,
    pub engine_gone: bool,
}

impl HeaderData {
    pub fn of(app: &App) -> HeaderData {
        HeaderData {
            host: app.snap.host.clone(),
            counts: app.snap.count_by_state(),
            engine: app.snap.engine.clone(),
            clock: if app.snap.time > 0.0 {
                (app.clock)(app.snap.time)
            } else {
                "--:--:--".into()
            },
            interval: app.interval,
            frozen: app.frozen,
            engine_gone: app.engine_gone,
        }
    }
}

/// `4 running, 1 installed, 1 configured`, busiest states first.
pub fn zone_counts(counts: &[(AdminState, usize)]) -> String {
    let order = [
        AdminState::Running,
        AdminState::Ready,
        AdminState::ShuttingDown,
        AdminState::Down,
        AdminState::Installed,
        AdminState::Configured,
    ];
    let parts: Vec<String> = order
        .iter()
        .filter_map(|s| {
            counts
                .iter()
                .find(|(c, n)| c == s && *n > 0)
                .map(|(_, n)| format!("{n} {}", s.as_str().replace('_', " ")))
        })
        .collect();
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(", ")
    }
}

fn width(spans: &[Span]) -> usize {
    spans.iter().map(|s| s.width()).sum()
}

/// Left spans, then right spans pushed to the right edge when they fit.
fn line(mut left: Vec<Span<'static>>, right: Vec<Span<'static>>, w: usize) -> Line<'static> {
    let (lw, rw) = (width(&left), width(&right));
    if lw + rw < w {
        left.push(Span::raw(" ".repeat(w - lw - rw)));
        left.extend(right);
    }
    Line::from(left)
}

pub fn draw(f: &mut Frame, area: Rect, d: &HeaderData, t: &Theme) {
    let w = area.width as usize;
    let h = &d.host;
    let left1 = vec![
        Span::raw(" "),
        Span::styled(d.host.hostname.clone(), t.title),
        Span::styled("  up ", t.label),
        Span::raw(fmt::duration(h.uptime_secs)),
        Span::styled("  load ", t.label),
        Span::raw(format!(
            "{:.2} {:.2} {:.2}",
            h.loadavg[0], h.loadavg[1], h.loadavg[2]
        )),
        Span::styled("  CPUs ", t.label),
        Span::raw(h.cpus.to_string()),
    ];
    let clock = vec![Span::styled(d.clock.clone(), t.title), Span::raw(" ")];
    let mut full = vec![
        Span::styled(
            d.engine.clone(),
            if d.engine_gone { t.error } else { t.dim },
        ),
        Span::raw("  "),
    ];
    full.extend(clock.clone());
    // narrow: the engine goes before the clock does
    let right1 = if width(&left1) + width(&full) < w {
        full
    } else {
        clock
    };
    let l1 = line(left1, right1, w);
    let meters_w = w.saturating_sub(14) / 2;
    let ratio = |used: u64, total: u64| {
        if total == 0 {
            0.0
        } else {
            used as f64 / total as f64
        }
    };
    let mut l2 = vec![Span::styled(" Mem ", t.label)];
    l2.extend(meter(
        ratio(h.mem_used, h.mem_total),
        meters_w,
        &format!("{}/{}", fmt::bytes(h.mem_used), fmt::bytes(h.mem_total)),
        t,
    ));
    l2.push(Span::styled("  Swap ", t.label));
    l2.extend(meter(
        ratio(h.swap_used, h.swap_total),
        meters_w,
        &format!("{}/{}", fmt::bytes(h.swap_used), fmt::bytes(h.swap_total)),
        t,
    ));
    let mut right = vec![Span::styled(
        format!("refresh {:.1}s", d.interval.as_secs_f64()),
        t.dim,
    )];
    if d.frozen {
        right.push(Span::raw("  "));
        right.push(Span::styled("FROZEN", t.error));
    }
    right.push(Span::raw(" "));
    let l3 = line(
        vec![
            Span::styled(" Zones ", t.label),
            Span::raw(zone_counts(&d.counts)),
        ],
        right,
        w,
    );
    f.render_widget(Paragraph::new(vec![l1, Line::from(l2), l3]), area);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_like_the_spec() {
        let c = [
            (AdminState::Configured, 1),
            (AdminState::Installed, 1),
            (AdminState::Running, 4),
        ];
        assert_eq!(zone_counts(&c), "4 running, 1 installed, 1 configured");
        assert_eq!(zone_counts(&[]), "none");
    }
}
