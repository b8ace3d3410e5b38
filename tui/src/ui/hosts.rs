//! The header across hosts (`ztop -H`): a summary line, then one line a
//! host, in the order they were named, each with its state.
//!
//! ```text
//!  3 hosts: 2 connected, 1 unreachable   5 zones          refresh 1.0s  12:00:00
//!  db1         connected    load 0.52 0.40 0.31  Mem 6.3G/16G  Zones 2 running
//!  db2         connected    load 1.25 0.98 0.71  Mem 1.1G/8.0G Zones 1 running, 1 installed
//!  web3        unreachable  ssh: connect to host web3 port 22: Connection refused
//! ```
//!
//! An unreachable host's line says why (ssh's or zoned's words) and stands
//! out; ztop retries it by itself (tunnel.rs).

use super::header::zone_counts;
use super::theme::Theme;
use crate::app::App;
use crate::fleet::{HostLine, HostState, host_lines};
use crate::fmt;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use std::time::Duration;

/// What the header shows across hosts.
#[derive(Clone, Debug)]
pub struct FleetHeaderData {
    pub hosts: Vec<HostLine>,
    pub clock: String,
    pub interval: Duration,
    pub frozen: bool,
}

impl FleetHeaderData {
    /// `None` on one host.
    pub fn of(app: &App) -> Option<FleetHeaderData> {
        let f = app.fleet.as_ref()?;
        Some(FleetHeaderData {
            hosts: host_lines(f),
            clock: if f.time() > 0.0 {
                (app.clock)(f.time())
            } else {
                "--:--:--".into()
            },
            interval: app.interval,
            frozen: app.frozen,
        })
    }
}

/// The header's height for `hosts` hosts: the summary and a line each.
pub fn height(hosts: usize) -> u16 {
    1 + hosts.min(u16::MAX as usize - 1) as u16
}

fn pad(s: &str, w: usize) -> String {
    let n = s.chars().count();
    if n >= w {
        format!("{} ", s.chars().take(w).collect::<String>())
    } else {
        format!("{s}{} ", " ".repeat(w - n))
    }
}

pub fn draw(f: &mut Frame, area: Rect, d: &FleetHeaderData, t: &Theme) {
    let w = area.width as usize;
    let up = d
        .hosts
        .iter()
        .filter(|h| h.state == HostState::Connected)
        .count();
    let down = d
        .hosts
        .iter()
        .filter(|h| matches!(h.state, HostState::Unreachable(_)))
        .count();
    let zones: usize = d
        .hosts
        .iter()
        .flat_map(|h| h.zones.iter().map(|(_, n)| n))
        .sum();
    let mut summary = format!(" {} hosts: {up} connected", d.hosts.len());
    if down > 0 {
        summary.push_str(&format!(", {down} unreachable"));
    }
    let mut left = vec![
        Span::styled(summary, t.title),
        Span::styled(format!("   {zones} zones"), t.label),
    ];
    let mut right = vec![Span::styled(
        format!("refresh {:.1}s  ", d.interval.as_secs_f64()),
        t.dim,
    )];
    if d.frozen {
        right.push(Span::styled("FROZEN  ", t.error));
    }
    right.push(Span::styled(format!("{} ", d.clock), t.title));
    let lw: usize = left.iter().map(|s| s.width()).sum();
    let rw: usize = right.iter().map(|s| s.width()).sum();
    if lw + rw < w {
        left.push(Span::raw(" ".repeat(w - lw - rw)));
        left.extend(right);
    }
    let mut lines = vec![Line::from(left)];
    let label_w = d
        .hosts
        .iter()
        .map(|h| h.host.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(4, 24);
    for h in &d.hosts {
        let mut l = vec![Span::raw(" "), Span::styled(pad(&h.host, label_w), t.title)];
        match &h.state {
            HostState::Connected => {
                l.push(Span::styled(pad("connected", 11), t.running));
                l.push(Span::styled(" load ", t.label));
                l.push(Span::raw(format!(
                    "{:.2} {:.2} {:.2}",
                    h.load[0], h.load[1], h.load[2]
                )));
                l.push(Span::styled("  Mem ", t.label));
                l.push(Span::raw(format!(
                    "{}/{}",
                    fmt::bytes(h.mem_used),
                    fmt::bytes(h.mem_total)
                )));
                l.push(Span::styled("  Zones ", t.label));
                l.push(Span::raw(zone_counts(&h.zones)));
            }
            HostState::Connecting => {
                l.push(Span::styled(pad("connecting", 11), t.transient));
            }
            HostState::Unreachable(why) => {
                l.push(Span::styled(pad("unreachable", 11), t.error));
                l.push(Span::styled(format!(" {why}"), t.dim));
            }
        }
        lines.push(Line::from(l));
    }
    f.render_widget(Paragraph::new(lines), area);
}
