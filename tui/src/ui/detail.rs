//! The detail pane of the selected zone.
//!
//! ```text
//! ┌ web · id 1 · running ───────────────────────────────────────────────┐
//! │root     /zones/web/root     processes  [||||      14/100]  load 1m …│
//! │brand    sparse              lwps       [          28/∞  ]  ▂▃▅▇█▆▅ │
//! │...                          ...                                     │
//! │  PID USER     S  CPU%   RSS COMMAND                                 │
//! │ 4010 root     S   0.0  3.1M /sbin/init                              │
//! └─────────────────────────────────────────────────────────────────────┘
//! ```
//!
//! Left, the attributes (root, brand, hostname, init pid, uniqid, parent,
//! uptime, refcounts); middle, every rctl as a meter of usage against its
//! value; right (or below, when narrow), the 1-minute load history as a
//! sparkline; under them the zone's processes as a list or a tree. A
//! configured zone with no kernel zone shows its parameters instead.

use super::bar::meter;
use super::theme::Theme;
use crate::app::{App, Focus};
use crate::fmt;
use crate::procs::{ProcTable, tree};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Sparkline};
use std::collections::VecDeque;
use zones::snapshot::{ConfiguredZone, Subsys, UNLIMITED, ZoneSnapshot};

/// Lines of the attributes and limits block.
const TOP: u16 = 8;
/// Lines of the load history when it sits below the top block.
const LOAD_BELOW: u16 = 3;

/// What the pane is about.
pub enum Subject<'a> {
    Zone(&'a ZoneSnapshot),
    Configured(&'a ConfiguredZone),
    Nothing,
}

/// What the detail pane shows.
pub struct DetailData<'a> {
    pub subject: Subject<'a>,
    /// The parent zone's name.
    pub parent: Option<String>,
    /// Wall clock of the snapshot (for the uptime).
    pub now: f64,
    /// The host's uptime: the global zone's.
    pub host_uptime: u64,
    /// The last avenrun_1min samples, oldest first.
    pub history: Option<&'a VecDeque<u64>>,
    /// The zone's processes, once the collector read them.
    pub procs: Option<&'a ProcTable>,
    pub tree: bool,
    pub proc_offset: usize,
    pub focused: bool,
    /// The zone is another host's (`ztop -H`): no processes to read here.
    pub remote: bool,
}

impl<'a> DetailData<'a> {
    pub fn of(app: &'a App) -> DetailData<'a> {
        let subject = match (app.selected_zone(), app.selected_configured()) {
            (Some(z), _) => Subject::Zone(z),
            (None, Some(c)) => Subject::Configured(c),
            _ => Subject::Nothing,
        };
        // across hosts: the selected zone's host's snapshot, history by HOST/zone
        let snap = app.selected_snap();
        let key = app.selected_row().map(|r| r.key());
        let (parent, history) = match &subject {
            Subject::Zone(z) => (
                snap.zone(z.parent).map(|p| p.name.as_str().to_string()),
                key.and_then(|k| app.history.get(&k)),
            ),
            _ => (None, None),
        };
        DetailData {
            subject,
            parent,
            now: snap.time,
            host_uptime: snap.host.uptime_secs,
            history,
            procs: app.procs_of_selected(),
            tree: app.tree,
            proc_offset: app.proc_offset,
            focused: app.focus == Focus::Detail,
            remote: app.fleet.is_some(),
        }
    }
}

/// The inner areas of the pane.
struct Parts {
    attrs: Option<Rect>,
    limits: Rect,
    load: Option<Rect>,
    procs: Rect,
}

fn split(inner: Rect) -> Parts {
    let top_h = TOP.min(inner.height);
    let wide = inner.width >= 110;
    let medium = inner.width >= 70;
    let load_below = !wide && inner.height >= top_h + LOAD_BELOW + 3;
    let [top, load_row, procs] = Layout::vertical([
        Constraint::Length(top_h),
        Constraint::Length(if load_below { LOAD_BELOW } else { 0 }),
        Constraint::Fill(1),
    ])
    .areas(inner);
    let (attrs, limits, load_side) = if wide {
        let [a, l, s] = Layout::horizontal([
            Constraint::Length(40),
            Constraint::Fill(1),
            Constraint::Length(34),
        ])
        .spacing(2)
        .areas(top);
        (Some(a), l, Some(s))
    } else if medium {
        let [a, l] = Layout::horizontal([Constraint::Length(36), Constraint::Fill(1)])
            .spacing(2)
            .areas(top);
        (Some(a), l, None)
    } else {
        (None, top, None)
    };
    Parts {
        attrs,
        limits,
        load: load_side.or(load_below.then_some(load_row)),
        procs,
    }
}

/// How many process rows a pane of this size shows.
pub fn proc_rows(area: Rect) -> usize {
    if area.height < 3 {
        return 0;
    }
    let inner = Block::new().borders(Borders::ALL).inner(area);
    split(inner).procs.height.saturating_sub(1) as usize
}

fn kv(key: &str, value: String, t: &Theme) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{key:<9}"), t.label),
        Span::raw(value),
    ])
}

fn refs_line(z: &ZoneSnapshot, t: &Theme) -> Line<'static> {
    let mut s = format!("zone {} cred {}", z.refs.zone_ref, z.refs.cred_ref);
    for sub in Subsys::ALL {
        let n = z.refs.get(sub);
        if n > 0 {
            s.push_str(&format!(" {} {n}", sub.as_str()));
        }
    }
    kv("refs", s, t)
}

fn attributes(d: &DetailData, z: &ZoneSnapshot, t: &Theme, w: usize) -> Vec<Line<'static>> {
    let v = |s: String| fmt::clip(&s, w.saturating_sub(9));
    let init = if z.init_pid == 0 {
        "-".into()
    } else if z.zsched_pid != 0 {
        format!("{} (zsched {})", z.init_pid, z.zsched_pid)
    } else {
        z.init_pid.to_string()
    };
    let parent = match &d.parent {
        _ if z.id.is_global() => "-".to_string(),
        Some(p) => format!("{p} ({})", z.parent),
        None => z.parent.to_string(),
    };
    let up = if z.boot_time > 0 && z.status.is_sampled() {
        fmt::duration((d.now as u64).saturating_sub(z.boot_time))
    } else if z.id.is_global() && d.host_uptime > 0 {
        fmt::duration(d.host_uptime)
    } else {
        "-".into()
    };
    let mut lines = vec![
        kv("root", v(z.root.display().to_string()), t),
        kv("brand", z.brand.to_string(), t),
        kv("hostname", v(z.hostname.clone()), t),
        kv("init pid", init, t),
        kv("uniqid", z.uniqid.to_string(), t),
        kv("parent", v(parent), t),
        kv("uptime", up, t),
    ];
    if let Some(c) = cpuset(z) {
        lines.push(kv("cpuset", v(c), t));
    }
    lines.push(refs_line(z, t));
    lines
}

/// The zone's CPUs (zone.cpuset, dedicated-cpu.ncpus), for zones that
/// have any.
fn cpuset(z: &ZoneSnapshot) -> Option<String> {
    if let Some(list) = z.params.str("zone.cpuset") {
        return Some(list.to_string());
    }
    let n = z.params.int("dedicated-cpu.ncpus")?;
    Some(format!(
        "{n} dedicated CPU{}",
        if n == 1 { "" } else { "s" }
    ))
}

/// Every rctl as a meter: (label, usage, value, is bytes).
fn gauges(z: &ZoneSnapshot) -> Vec<(&'static str, f64, u64, bool)> {
    let k = &z.kstat;
    vec![
        (
            "processes",
            k.nprocs as f64,
            z.rctl("zone.max-processes"),
            false,
        ),
        ("lwps", k.nlwps as f64, z.rctl("zone.max-lwps"), false),
        (
            "locked mem",
            k.lockedmem as f64,
            z.rctl("zone.max-locked-memory"),
            true,
        ),
        ("swap", k.swapresv as f64, z.rctl("zone.max-swap"), true),
        (
            "memory",
            k.mem_usage.max(k.rss) as f64,
            z.rctl("capped-memory.physical"),
            true,
        ),
        ("cpu cap %", k.cpu_pct, z.rctl("zone.cpu-cap"), false),
    ]
}

fn limits(z: &ZoneSnapshot, t: &Theme, w: usize) -> Vec<Line<'static>> {
    const LABEL: usize = 11;
    let bar_w = w.saturating_sub(LABEL).max(2);
    let mut out: Vec<Line> = gauges(z)
        .into_iter()
        .map(|(label, usage, limit, bytes)| {
            let show = |x: f64| {
                if bytes {
                    fmt::bytes(x as u64)
                } else if label.starts_with("cpu") {
                    format!("{x:.1}")
                } else {
                    format!("{}", x as u64)
                }
            };
            let (ratio, text) = if limit == UNLIMITED {
                (0.0, format!("{}/∞", show(usage)))
            } else {
                (
                    usage / limit.max(1) as f64,
                    format!("{}/{}", show(usage), show(limit as f64)),
                )
            };
            let mut spans = vec![Span::styled(format!("{label:<LABEL$}"), t.label)];
            spans.extend(meter(ratio, bar_w, &text, t));
            Line::from(spans)
        })
        .collect();
    let shares = z.rctl("zone.cpu-shares");
    let k = &z.kstat;
    let fails = k.forkfail_cap + k.forkfail_noproc + k.forkfail_nomem + k.forkfail_misc;
    let mut last = vec![Span::styled(format!("{:<LABEL$}", "cpu shares"), t.label)];
    last.push(Span::raw(if shares == UNLIMITED {
        "-".to_string()
    } else {
        shares.to_string()
    }));
    if fails > 0 {
        // only the reasons that happened: `fork failed: cap 3`
        let reasons: Vec<String> = [
            ("cap", k.forkfail_cap),
            ("noproc", k.forkfail_noproc),
            ("nomem", k.forkfail_nomem),
            ("misc", k.forkfail_misc),
        ]
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(why, n)| format!("{why} {n}"))
        .collect();
        last.push(Span::styled("  fork failed: ", t.label));
        last.push(Span::styled(reasons.join(" "), t.hot));
    }
    out.push(Line::from(last));
    if let Some(p) = &k.psi {
        out.push(Line::from(vec![
            Span::styled(format!("{:<LABEL$}", "pressure"), t.label),
            Span::raw(format!(
                "cpu {:.1} mem {:.1} io {:.1}",
                p.cpu_some, p.memory_some, p.io_some
            )),
        ]));
    }
    out
}

fn load_history(f: &mut Frame, area: Rect, hist: Option<&VecDeque<u64>>, t: &Theme) {
    if area.height == 0 || area.width < 4 {
        return;
    }
    let w = area.width as usize;
    let data: Vec<u64> = hist
        .map(|h| h.iter().copied().collect())
        .unwrap_or_default();
    let now = data.last().copied().unwrap_or(0);
    let max = data.iter().copied().max().unwrap_or(0);
    let title = Line::from(vec![
        Span::styled("load 1m ", t.label),
        Span::raw(format!("{:.2}", fmt::load(now as u32))),
        Span::styled(format!("  max {:.2}", fmt::load(max as u32)), t.dim),
    ]);
    let [title_area, chart] =
        Layout::vertical([Constraint::Length(1), Constraint::Max(4)]).areas(area);
    f.render_widget(Paragraph::new(title), title_area);
    // newest on the right: pad the front when the history is short
    let mut shown: Vec<u64> = data.iter().rev().take(w).rev().copied().collect();
    if shown.len() < w {
        let mut padded = vec![0; w - shown.len()];
        padded.extend(shown);
        shown = padded;
    }
    let spark = Sparkline::default()
        .data(shown)
        .max(max.max(256))
        .style(t.spark);
    f.render_widget(spark, chart);
}

fn processes(f: &mut Frame, area: Rect, d: &DetailData, z: &ZoneSnapshot, t: &Theme) {
    if area.height == 0 {
        return;
    }
    let w = area.width as usize;
    let visible = area.height.saturating_sub(1) as usize;
    let total = z.procs.len();
    let heading = format!(
        "{:>7} {:<8} S {:>5} {:>5} COMMAND",
        "PID", "USER", "CPU%", "RSS"
    );
    let position = if total > visible {
        format!(
            "{}-{} of {total} ",
            d.proc_offset + 1,
            (d.proc_offset + visible).min(total)
        )
    } else {
        format!("{total} ")
    };
    let pad = w.saturating_sub(heading.chars().count() + position.chars().count());
    let mut lines = vec![Line::styled(
        format!("{heading}{}{position}", " ".repeat(pad)),
        if d.focused {
            t.heading_sorted
        } else {
            t.heading
        },
    )];
    match d.procs {
        None if d.remote => lines.push(Line::styled(
            " on another host: its processes are not read from here (z logs in)",
            t.dim,
        )),
        None if !z.procs.is_empty() => lines.push(Line::styled(" reading /proc…", t.dim)),
        _ if z.procs.is_empty() => lines.push(Line::styled(" no processes", t.dim)),
        None => {}
        Some(table) => {
            // a tree holds every process; a list holds the window read,
            // which starts at pid index `first`
            let (ordered, skip): (Vec<(usize, &crate::procs::ProcRow)>, usize) = if d.tree {
                (tree(&table.rows), d.proc_offset)
            } else {
                (
                    table.rows.iter().map(|r| (0, r)).collect(),
                    d.proc_offset.saturating_sub(table.first),
                )
            };
            let depths: Vec<usize> = ordered.iter().map(|(d, _)| *d).collect();
            let branch = crate::procs::branches(&depths);
            for (indent, (_, p)) in branch.into_iter().zip(ordered).skip(skip).take(visible) {
                let fixed = format!(
                    "{:>7} {:<8} {} {:>5.1} {:>5} ",
                    p.pid,
                    fmt::clip(&p.user, 8),
                    p.state,
                    p.cpu_pct,
                    fmt::bytes(p.rss)
                );
                let rest = w.saturating_sub(fixed.chars().count());
                let cmd = fmt::clip(&format!("{indent}{}", p.command), rest);
                let state_style = match p.state {
                    'R' => t.running,
                    'D' | 'Z' => t.hot,
                    _ => ratatui::style::Style::new(),
                };
                lines.push(Line::from(vec![
                    Span::raw(format!("{:>7} {:<8} ", p.pid, fmt::clip(&p.user, 8))),
                    Span::styled(p.state.to_string(), state_style),
                    Span::raw(format!(" {:>5.1} {:>5} ", p.cpu_pct, fmt::bytes(p.rss))),
                    Span::raw(cmd),
                ]));
            }
        }
    }
    f.render_widget(Paragraph::new(lines), area);
}

fn configured(f: &mut Frame, parts: &Parts, c: &ConfiguredZone, t: &Theme) {
    let mut lines = vec![
        kv("root", c.root.display().to_string(), t),
        kv("brand", c.brand.to_string(), t),
        kv("state", c.state.to_string(), t),
        Line::styled("not booted: b boots, C creates", t.dim),
    ];
    let target = parts.attrs.unwrap_or(parts.limits);
    lines.truncate(target.height as usize);
    f.render_widget(Paragraph::new(lines), target);
    let mut params = vec![Line::styled(
        format!(
            "{:<w$}",
            "PARAMETER = VALUE",
            w = parts.procs.width as usize
        ),
        t.heading,
    )];
    params.extend(c.params.iter().map(|(k, v)| {
        Line::from(vec![
            Span::styled(format!(" {k}"), t.label),
            Span::raw(format!(" = {v}")),
        ])
    }));
    if c.params.0.is_empty() {
        params.push(Line::styled(" (none)", t.dim));
    }
    f.render_widget(Paragraph::new(params), parts.procs);
}

pub fn draw(f: &mut Frame, area: Rect, d: &DetailData, t: &Theme) {
    let title = match &d.subject {
        Subject::Zone(z) => format!(" {} · id {} · {} ", z.name.as_str(), z.id, z.status),
        Subject::Configured(c) => format!(" {} · {} ", c.name.as_str(), c.state),
        Subject::Nothing => " no zone ".into(),
    };
    let tree = if d.tree { " tree " } else { "" };
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(if d.focused {
            t.border_focused
        } else {
            t.border
        })
        .title(Span::styled(title, t.title))
        .title_bottom(Line::styled(tree, t.dim).right_aligned());
    let inner = block.inner(area);
    f.render_widget(block, area);
    let parts = split(inner);
    match d.subject {
        Subject::Zone(z) => {
            if let Some(a) = parts.attrs {
                f.render_widget(Paragraph::new(attributes(d, z, t, a.width as usize)), a);
            }
            f.render_widget(
                Paragraph::new(limits(z, t, parts.limits.width as usize)),
                parts.limits,
            );
            if let Some(l) = parts.load {
                load_history(f, l, d.history, t);
            }
            processes(f, parts.procs, d, z, t);
        }
        Subject::Configured(c) => configured(f, &parts, c, t),
        Subject::Nothing => {}
    }
}

#[cfg(test)]
mod cpuset_tests {
    use super::cpuset;
    use crate::testdata;
    use zones::param::Value;

    #[test]
    fn the_detail_pane_names_a_zones_cpus_only_when_it_has_some() {
        let mut z = testdata::zone(3, "web", 4, 0.5, 10.0, 1 << 20, 60);
        assert_eq!(cpuset(&z), None);
        z.params.insert("dedicated-cpu.ncpus", Value::Int(2));
        assert_eq!(cpuset(&z).as_deref(), Some("2 dedicated CPUs"));
        z.params.insert("zone.cpuset", Value::Str("0-1,3".into()));
        assert_eq!(cpuset(&z).as_deref(), Some("0-1,3"));
    }
}
