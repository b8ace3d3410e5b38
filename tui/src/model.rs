//! # Rows: a snapshot as the zone table sees it
//!
//! The table, batch text and batch JSON all show the same rows, so the
//! translation from a [`Snapshot`] into plain numbers happens once, here:
//! a [`Row`] per kernel zone (global first) and per configured zone that
//! has no kernel zone (shown with `-` for its id). Columns ([`Column`]) know
//! their heading, width and how important they are; [`fit`] drops the least
//! important ones until the rest fit a width, so a narrow terminal loses
//! LOCKED before it loses NAME and no line ever wraps.
//!
//! A usage at or above 90 % of its rctl's value is *hot*: the table draws it
//! so that it stands out, batch text marks nothing (it stays plain text).

use crate::fmt;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use zones::snapshot::{Snapshot, UNLIMITED, ZoneSnapshot};
use zones::zone::ZoneId;

/// One line of the zone table, in plain numbers.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Row {
    /// The host the zone runs on, with `ztop -H` (hosts.rs); `None` on one host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// `None` for a configured or installed zone with no kernel zone.
    pub id: Option<u32>,
    pub name: String,
    /// The kernel status, or the administrative state of a configured zone.
    pub status: String,
    pub nproc: u64,
    #[serde(serialize_with = "limit")]
    pub nproc_max: u64,
    /// 1, 5 and 15 minute load averages.
    pub load: [f64; 3],
    /// Percent of one CPU (100 × ncpu at most).
    pub cpu_pct: f64,
    /// Percent of zone.cpu-cap, when capped.
    pub cpu_cap_pct: Option<f64>,
    pub locked: u64,
    #[serde(serialize_with = "limit")]
    pub locked_max: u64,
    pub swap: u64,
    #[serde(serialize_with = "limit")]
    pub swap_max: u64,
    pub mem: u64,
    #[serde(serialize_with = "limit")]
    pub mem_max: u64,
    /// Seconds since boot, when booted.
    pub uptime: Option<u64>,
    /// Bytes per second received and sent over the zone's own interfaces
    /// in the last tick (kstat `link`; 0 for a zone with none).
    pub net_rx: u64,
    pub net_tx: u64,
}

/// An rctl value in JSON: `null` when unlimited.
fn limit<S: serde::Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
    if *v == UNLIMITED {
        s.serialize_none()
    } else {
        s.serialize_u64(*v)
    }
}

/// Is `usage` at or above 90 % of `limit`?
pub fn near_limit(usage: u64, limit: u64) -> bool {
    limit != UNLIMITED && limit > 0 && (usage as u128) * 10 >= (limit as u128) * 9
}

impl Row {
    pub fn of_zone(z: &ZoneSnapshot, now: f64) -> Row {
        let k = &z.kstat;
        Row {
            host: None,
            id: Some(z.id.0),
            name: z.name.as_str().to_string(),
            status: z.status.as_str().to_string(),
            nproc: k.nprocs,
            nproc_max: z.rctl("zone.max-processes"),
            load: k.avenrun.map(fmt::load),
            cpu_pct: k.cpu_pct,
            cpu_cap_pct: k.cpu_cap_pct,
            locked: k.lockedmem,
            locked_max: z.rctl("zone.max-locked-memory"),
            swap: k.swapresv,
            swap_max: z.rctl("zone.max-swap"),
            mem: k.mem_usage.max(k.rss),
            mem_max: z.rctl("capped-memory.physical"),
            uptime: (z.boot_time > 0 && z.status.is_sampled())
                .then(|| (now as u64).saturating_sub(z.boot_time)),
            net_rx: k.links.iter().map(|l| l.rbytes_rate).sum(),
            net_tx: k.links.iter().map(|l| l.obytes_rate).sum(),
        }
    }

    /// What names the zone to the console: `HOST/zone` across hosts (an
    /// operation on it goes to that host), the zone's name on one host.
    pub fn key(&self) -> String {
        match &self.host {
            Some(h) => format!("{h}/{}", self.name),
            None => self.name.clone(),
        }
    }

    pub fn is_kernel_zone(&self) -> bool {
        self.id.is_some()
    }

    pub fn is_global(&self) -> bool {
        self.id == Some(ZoneId::GLOBAL.0)
    }

    /// The text of one cell, and whether it is hot (≥ 90 % of its limit).
    pub fn cell(&self, col: Column) -> (String, bool) {
        let kernel = self.is_kernel_zone();
        let dash = || ("-".to_string(), false);
        match col {
            Column::Id => (self.id.map_or("-".into(), |i| i.to_string()), false),
            Column::Name => (self.name.clone(), false),
            Column::Host => (self.host.clone().unwrap_or_else(|| "-".into()), false),
            Column::Status => (self.status.clone(), false),
            Column::Nproc if kernel => (
                self.nproc.to_string(),
                near_limit(self.nproc, self.nproc_max),
            ),
            Column::Load if kernel => (
                format!(
                    "{:.2} {:.2} {:.2}",
                    self.load[0], self.load[1], self.load[2]
                ),
                false,
            ),
            Column::Cpu if kernel => match self.cpu_cap_pct {
                Some(cap) => (format!("{:.1}/{:.0}%", self.cpu_pct, cap), cap >= 90.0),
                None => (format!("{:.1}", self.cpu_pct), false),
            },
            Column::Locked if kernel => (
                fmt::bytes(self.locked),
                near_limit(self.locked, self.locked_max),
            ),
            Column::Swap if kernel => (fmt::bytes(self.swap), near_limit(self.swap, self.swap_max)),
            Column::Mem if kernel => (fmt::bytes(self.mem), near_limit(self.mem, self.mem_max)),
            Column::Uptime => self.uptime.map_or_else(dash, |u| (fmt::duration(u), false)),
            Column::Net if kernel => (
                format!("{}/{}", fmt::bytes(self.net_rx), fmt::bytes(self.net_tx)),
                false,
            ),
            _ => dash(),
        }
    }
}

/// All rows of a snapshot: kernel zones by id (global first), then the
/// configured zones by name.
pub fn rows(snap: &Snapshot) -> Vec<Row> {
    let mut out: Vec<Row> = snap
        .zones
        .iter()
        .map(|z| Row::of_zone(z, snap.time))
        .collect();
    // the global zone is up as long as the host
    if let Some(g) = out.iter_mut().find(|r| r.is_global())
        && g.uptime.is_none()
        && snap.host.uptime_secs > 0
    {
        g.uptime = Some(snap.host.uptime_secs);
    }
    let mut conf: Vec<Row> = snap
        .configured
        .iter()
        .map(|c| Row {
            host: None,
            id: None,
            name: c.name.as_str().to_string(),
            status: c.state.as_str().to_string(),
            nproc: 0,
            nproc_max: UNLIMITED,
            load: [0.0; 3],
            cpu_pct: 0.0,
            cpu_cap_pct: None,
            locked: 0,
            locked_max: UNLIMITED,
            swap: 0,
            swap_max: UNLIMITED,
            mem: 0,
            mem_max: UNLIMITED,
            uptime: None,
            net_rx: 0,
            net_tx: 0,
        })
        .collect();
    conf.sort_by(|a, b| a.name.cmp(&b.name));
    out.extend(conf);
    out
}

/// What the table is sorted by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SortKey {
    Name,
    #[default]
    Id,
    Nproc,
    Load,
    Cpu,
    Mem,
}

impl SortKey {
    pub fn column(self) -> Column {
        match self {
            SortKey::Name => Column::Name,
            SortKey::Id => Column::Id,
            SortKey::Nproc => Column::Nproc,
            SortKey::Load => Column::Load,
            SortKey::Cpu => Column::Cpu,
            SortKey::Mem => Column::Mem,
        }
    }

    /// Counters sort largest first; names and ids smallest first.
    fn descending_by_default(self) -> bool {
        !matches!(self, SortKey::Name | SortKey::Id)
    }
}

/// Sort rows by `key` (`reverse` flips it); the global zone stays first,
/// configured zones (no id) stay after kernel zones when sorting by id.
/// Rows of several hosts stay grouped by host, each group sorted.
pub fn sort(rows: &mut [Row], key: SortKey, reverse: bool) {
    let natural = |a: &Row, b: &Row| -> Ordering {
        match key {
            SortKey::Name => a.name.cmp(&b.name),
            SortKey::Id => (a.id.is_none(), a.id, &a.name).cmp(&(b.id.is_none(), b.id, &b.name)),
            SortKey::Nproc => a.nproc.cmp(&b.nproc),
            SortKey::Load => a.load[0].total_cmp(&b.load[0]),
            SortKey::Cpu => a.cpu_pct.total_cmp(&b.cpu_pct),
            SortKey::Mem => a.mem.cmp(&b.mem),
        }
    };
    let flip = key.descending_by_default() != reverse;
    // across hosts the rows stay grouped by host, the hosts in the order
    // the rows came in (the order they were named in)
    let mut hosts: Vec<Option<String>> = Vec::new();
    for r in rows.iter() {
        if !hosts.contains(&r.host) {
            hosts.push(r.host.clone());
        }
    }
    let group = |r: &Row| hosts.iter().position(|h| *h == r.host);
    rows.sort_by(|a, b| {
        group(a)
            .cmp(&group(b))
            .then_with(|| b.is_global().cmp(&a.is_global()))
            .then_with(|| {
                let o = natural(a, b);
                let o = if flip { o.reverse() } else { o };
                o.then_with(|| a.name.cmp(&b.name))
            })
    });
}

/// A column of the zone table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Column {
    Id,
    Name,
    Status,
    Nproc,
    Load,
    Cpu,
    Locked,
    Swap,
    Mem,
    Uptime,
    /// Bytes per second in/out over the zone's interfaces.
    Net,
    /// The zone's host (`ztop -H`; not in [`Column::ALL`], which is one
    /// host's table: shown first whenever there are hosts).
    Host,
}

impl Column {
    pub const ALL: [Column; 11] = [
        Column::Id,
        Column::Name,
        Column::Status,
        Column::Nproc,
        Column::Load,
        Column::Cpu,
        Column::Locked,
        Column::Swap,
        Column::Mem,
        Column::Uptime,
        Column::Net,
    ];

    pub fn heading(self) -> &'static str {
        match self {
            Column::Id => "ID",
            Column::Name => "NAME",
            Column::Status => "STATUS",
            Column::Nproc => "NPROC",
            Column::Load => "LOAD 1/5/15",
            Column::Cpu => "CPU%",
            Column::Locked => "LOCKED",
            Column::Swap => "SWAP",
            Column::Mem => "MEM",
            Column::Uptime => "UPTIME",
            Column::Net => "NET IN/OUT",
            Column::Host => "HOST",
        }
    }

    /// The name config.toml uses: `id`, `cpu`, `uptime`, ...
    pub fn key(self) -> &'static str {
        match self {
            Column::Id => "id",
            Column::Name => "name",
            Column::Status => "status",
            Column::Nproc => "nproc",
            Column::Load => "load",
            Column::Cpu => "cpu",
            Column::Locked => "locked",
            Column::Swap => "swap",
            Column::Mem => "mem",
            Column::Uptime => "uptime",
            Column::Net => "net",
            Column::Host => "host",
        }
    }

    pub fn parse(s: &str) -> Option<Column> {
        let s = s.trim_end_matches('%');
        Column::ALL
            .into_iter()
            .chain([Column::Host])
            .find(|c| c.key().eq_ignore_ascii_case(s))
    }

    /// Fixed width; NAME's is computed from the names.
    pub fn width(self) -> usize {
        match self {
            Column::Id => 6,
            Column::Name => 4,
            Column::Status => 13,
            Column::Nproc => 5,
            Column::Load => 14,
            Column::Cpu => 10,
            Column::Locked => 6,
            Column::Swap => 6,
            Column::Mem => 6,
            Column::Uptime => 9,
            Column::Net => 13,
            Column::Host => 4,
        }
    }

    /// Numbers are right-aligned.
    pub fn right_aligned(self) -> bool {
        !matches!(
            self,
            Column::Name | Column::Status | Column::Load | Column::Host
        )
    }

    /// Lower is dropped later; NAME is never dropped.
    fn importance(self) -> u8 {
        match self {
            Column::Name => 100,
            Column::Id => 90,
            Column::Status => 80,
            Column::Cpu => 70,
            Column::Nproc => 60,
            Column::Mem => 50,
            Column::Load => 40,
            Column::Uptime => 30,
            Column::Swap => 20,
            Column::Locked => 10,
            Column::Net => 25,
            Column::Host => 95,
        }
    }
}

/// The columns to show and their widths, for `width` cells, from the
/// wanted columns (in their order) and the rows (for NAME's width). Columns
/// are separated by one space. NAME takes what is left, up to 24 cells, and
/// is cut (never wrapped) when even it does not fit.
pub fn fit(wanted: &[Column], rows: &[Row], width: usize) -> Vec<(Column, usize)> {
    let longest = rows
        .iter()
        .map(|r| r.name.chars().count())
        .max()
        .unwrap_or(0);
    let name_want = longest.clamp(Column::Name.width(), 24);
    // LOAD is as wide as its widest text (loads ≥ 10 take more room)
    let load_want = rows
        .iter()
        .filter(|r| r.is_kernel_zone())
        .map(|r| r.cell(Column::Load).0.chars().count())
        .max()
        .unwrap_or(0)
        .max(Column::Load.heading().len());
    let host_want = rows
        .iter()
        .filter_map(|r| r.host.as_ref())
        .map(|h| h.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(Column::Host.width(), 24);
    let status_want = rows
        .iter()
        .map(|r| r.status.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(Column::Status.heading().len(), Column::Status.width());
    let mut cols: Vec<(Column, usize)> = wanted
        .iter()
        .map(|&c| {
            let w = match c {
                Column::Name => name_want,
                Column::Load => load_want,
                Column::Status => status_want,
                Column::Host => host_want,
                _ => c.width(),
            };
            (c, w)
        })
        .collect();
    let total = |cols: &[(Column, usize)]| -> usize {
        cols.iter().map(|(_, w)| *w).sum::<usize>() + cols.len().saturating_sub(1)
    };
    while total(&cols) > width {
        let drop = cols
            .iter()
            .enumerate()
            .filter(|(_, (c, _))| *c != Column::Name)
            .min_by_key(|(_, (c, _))| c.importance())
            .map(|(i, _)| i);
        match drop {
            Some(i) => {
                cols.remove(i);
            }
            None => break,
        }
    }
    let over = total(&cols).saturating_sub(width);
    if over > 0 {
        for (c, w) in cols.iter_mut() {
            if *c == Column::Name {
                *w = w.saturating_sub(over).max(1);
            }
        }
    }
    cols
}

/// A line of plain text for one row (or the heading when `row` is None),
/// never wider than the sum of the fitted widths.
pub fn text_line(cols: &[(Column, usize)], row: Option<&Row>) -> String {
    let mut line = String::new();
    for (i, (col, w)) in cols.iter().enumerate() {
        if i > 0 {
            line.push(' ');
        }
        let text = match row {
            Some(r) => r.cell(*col).0,
            None => col.heading().to_string(),
        };
        let text = fmt::clip(&text, *w);
        if col.right_aligned() {
            line.push_str(&format!("{text:>w$}", w = *w));
        } else {
            line.push_str(&format!("{text:<w$}", w = *w));
        }
    }
    line.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: Option<u32>, name: &str, cpu: f64) -> Row {
        Row {
            host: None,
            id,
            name: name.into(),
            status: "running".into(),
            nproc: 1,
            nproc_max: UNLIMITED,
            load: [0.0; 3],
            cpu_pct: cpu,
            cpu_cap_pct: None,
            locked: 0,
            locked_max: UNLIMITED,
            swap: 0,
            swap_max: UNLIMITED,
            mem: 0,
            mem_max: UNLIMITED,
            uptime: None,
            net_rx: 0,
            net_tx: 0,
        }
    }

    #[test]
    fn near_limit_is_ninety_percent_of_a_set_limit() {
        assert!(near_limit(90, 100));
        assert!(!near_limit(89, 100));
        assert!(!near_limit(u64::MAX - 1, UNLIMITED));
        assert!(!near_limit(0, 0));
    }

    #[test]
    fn global_stays_first_whatever_the_sort() {
        let mut rows = vec![
            row(Some(2), "b", 50.0),
            row(Some(0), "global", 1.0),
            row(None, "a", 0.0),
            row(Some(1), "c", 99.0),
        ];
        sort(&mut rows, SortKey::Cpu, false);
        let names: Vec<_> = rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["global", "c", "b", "a"]);
        sort(&mut rows, SortKey::Cpu, true);
        let names: Vec<_> = rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["global", "a", "b", "c"]);
        sort(&mut rows, SortKey::Id, false);
        let names: Vec<_> = rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["global", "c", "b", "a"]);
    }

    #[test]
    fn narrow_widths_drop_least_important_columns_first() {
        let rows = vec![row(Some(0), "global", 0.0)];
        let all = fit(&Column::ALL, &rows, 200);
        assert_eq!(all.len(), Column::ALL.len());
        let w80: Vec<Column> = fit(&Column::ALL, &rows, 80).iter().map(|c| c.0).collect();
        assert!(!w80.contains(&Column::Locked));
        assert!(w80.contains(&Column::Name) && w80.contains(&Column::Cpu));
        for width in [10, 20, 40, 60, 80, 100, 120] {
            let cols = fit(&Column::ALL, &rows, width);
            assert!(text_line(&cols, None).chars().count() <= width, "{width}");
            assert!(text_line(&cols, Some(&rows[0])).chars().count() <= width);
        }
    }

    #[test]
    fn configured_zone_shows_dash_id() {
        let r = row(None, "db", 0.0);
        assert_eq!(r.cell(Column::Id).0, "-");
        assert_eq!(r.cell(Column::Nproc).0, "-");
    }

    #[test]
    fn the_global_zone_is_up_as_long_as_the_host() {
        // the engine's global zone has no boot time (kstat crtime 0)
        let mut snap = crate::testdata::global_only();
        let mut g = (*snap.zones[0]).clone();
        g.boot_time = 0;
        snap.zones[0] = std::sync::Arc::new(g);
        let r = &rows(&snap)[0];
        assert_eq!(r.uptime, Some(snap.host.uptime_secs));
        assert_eq!(
            r.cell(Column::Uptime).0,
            fmt::duration(snap.host.uptime_secs)
        );
    }

    #[test]
    fn columns_parse_by_heading() {
        assert_eq!(Column::parse("load"), Some(Column::Load));
        assert_eq!(Column::parse("CPU%"), Some(Column::Cpu));
        assert_eq!(Column::parse("cpu"), Some(Column::Cpu));
        assert_eq!(Column::parse("bogus"), None);
    }
}
