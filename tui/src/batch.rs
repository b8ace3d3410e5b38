//! # Batch mode: `ztop -b [-n COUNT] [-d SECONDS] [--json]`
//!
//! What ztop does when stdout is not a terminal: print the header and the
//! zone table as plain text (or one JSON object per snapshot, one per
//! line), COUNT times with SECONDS between them, and exit. Text lines never
//! exceed `$COLUMNS` (80 when unset or unreadable): columns are dropped as
//! on a narrow terminal and what is still too long is cut, never wrapped.
//! A closed pipe (`ztop -b | head`) ends ztop quietly.
//!
//! Across hosts (`ztop -H … -b`) a report is the fleet: a line a host
//! (its state, load, memory and zones, or why it is unreachable), then one
//! table with a HOST column; in JSON, `hosts` (each with its state) and
//! `zones` (each row with its `host`). The first report waits until every
//! host has answered or failed once.

use crate::fleet::{self, Fleet, HostLine, HostState};
use crate::fmt;
use crate::model::{self, Column, Row, SortKey};
use crate::source::SnapshotRx;
use crate::tunnel::FleetRx;
use crate::ui::header::zone_counts;
use serde::Serialize;
use std::io::Write;
use std::time::Duration;
use zones::snapshot::{Host, Snapshot};

/// The width batch text must fit: `$COLUMNS`, else 80.
pub fn columns_env() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|c| *c > 0)
        .unwrap_or(80)
}

/// What one text report is made of.
pub struct Options<'a> {
    pub columns: &'a [Column],
    pub sort: SortKey,
    pub reverse: bool,
    pub width: usize,
    pub clock: fn(f64) -> String,
}

/// The header and table of one snapshot as text, each line at most
/// `width` characters, ending with a newline.
pub fn text(snap: &Snapshot, o: &Options) -> String {
    let h = &snap.host;
    let mut lines = vec![
        format!(
            "ztop - {} {}  up {}  load {:.2} {:.2} {:.2}  CPUs {}",
            h.hostname,
            (o.clock)(snap.time),
            fmt::duration(h.uptime_secs),
            h.loadavg[0],
            h.loadavg[1],
            h.loadavg[2],
            h.cpus
        ),
        format!(
            "Mem {}/{}  Swap {}/{}  engine {}",
            fmt::bytes(h.mem_used),
            fmt::bytes(h.mem_total),
            fmt::bytes(h.swap_used),
            fmt::bytes(h.swap_total),
            snap.engine
        ),
        format!("Zones {}", zone_counts(&snap.count_by_state())),
        String::new(),
    ];
    let mut rows = model::rows(snap);
    model::sort(&mut rows, o.sort, o.reverse);
    let cols = model::fit(o.columns, &rows, o.width);
    lines.push(model::text_line(&cols, None));
    lines.extend(rows.iter().map(|r| model::text_line(&cols, Some(r))));
    let mut out = String::new();
    for l in lines {
        out.push_str(&fmt::clip(&l, o.width));
        out.push('\n');
    }
    out
}

/// One snapshot as one JSON object.
#[derive(Serialize)]
pub struct JsonReport<'a> {
    pub seq: u64,
    pub time: f64,
    pub engine: &'a str,
    pub host: &'a Host,
    pub zones: Vec<Row>,
}

/// One snapshot as one line of JSON (newline included).
pub fn json(snap: &Snapshot, sort: SortKey, reverse: bool) -> String {
    let mut rows = model::rows(snap);
    model::sort(&mut rows, sort, reverse);
    let report = JsonReport {
        seq: snap.seq,
        time: snap.time,
        engine: &snap.engine,
        host: &snap.host,
        zones: rows,
    };
    let mut s = serde_json::to_string(&report).expect("a report serializes");
    s.push('\n');
    s
}

/// The fleet's header lines and table as text, each line at most `width`.
pub fn fleet_text(fleet: &Fleet, o: &Options) -> String {
    let mut lines = vec![format!(
        "ztop - {} hosts {}",
        fleet.hosts.len(),
        (o.clock)(fleet.time())
    )];
    let lw = fleet
        .hosts
        .iter()
        .map(|h| h.label.chars().count())
        .max()
        .unwrap_or(0);
    for h in &fleet.hosts {
        let l = HostLine::of(h);
        let host = format!("{:lw$}", l.host);
        lines.push(match &l.state {
            HostState::Connected => format!(
                "{host}  connected    load {:.2} {:.2} {:.2}  Mem {}/{}  Zones {}",
                l.load[0],
                l.load[1],
                l.load[2],
                fmt::bytes(l.mem_used),
                fmt::bytes(l.mem_total),
                zone_counts(&l.zones)
            ),
            HostState::Connecting => format!("{host}  connecting"),
            HostState::Unreachable(why) => format!("{host}  unreachable  {why}"),
        });
    }
    lines.push(String::new());
    let mut rows = fleet::rows(fleet);
    model::sort(&mut rows, o.sort, o.reverse);
    let mut wanted = o.columns.to_vec();
    if !wanted.contains(&Column::Host) {
        wanted.insert(0, Column::Host);
    }
    let cols = model::fit(&wanted, &rows, o.width);
    lines.push(model::text_line(&cols, None));
    lines.extend(rows.iter().map(|r| model::text_line(&cols, Some(r))));
    let mut out = String::new();
    for l in lines {
        out.push_str(&fmt::clip(&l, o.width));
        out.push('\n');
    }
    out
}

/// One host in a fleet's JSON report.
#[derive(Serialize)]
pub struct HostJson<'a> {
    pub host: &'a str,
    #[serde(flatten)]
    pub state: &'a HostState,
    /// zoned's engine and its host's figures, while connected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub info: Option<&'a Host>,
}

/// A fleet as one JSON object.
#[derive(Serialize)]
pub struct FleetJson<'a> {
    pub seq: u64,
    pub time: f64,
    pub hosts: Vec<HostJson<'a>>,
    pub zones: Vec<Row>,
}

/// A fleet as one line of JSON (newline included).
pub fn fleet_json(fleet: &Fleet, sort: SortKey, reverse: bool) -> String {
    let mut rows = fleet::rows(fleet);
    model::sort(&mut rows, sort, reverse);
    let report = FleetJson {
        seq: fleet.seq,
        time: fleet.time(),
        hosts: fleet
            .hosts
            .iter()
            .map(|h| {
                let up = h.state == HostState::Connected;
                HostJson {
                    host: &h.label,
                    state: &h.state,
                    engine: up.then_some(h.snap.engine.as_str()),
                    info: up.then_some(&h.snap.host),
                }
            })
            .collect(),
        zones: rows,
    };
    let mut s = serde_json::to_string(&report).expect("a report serializes");
    s.push('\n');
    s
}

/// Batch mode across hosts: `count` fleet reports (forever when None),
/// `delay` apart. The first waits (up to 30 s) until every host is
/// connected with a sampled snapshot, or unreachable.
pub async fn run_fleet(
    mut rx: FleetRx,
    count: Option<u64>,
    delay: Duration,
    json_out: bool,
    o: &Options<'_>,
) -> anyhow::Result<()> {
    let settled = |f: &Fleet| {
        f.hosts.iter().all(|h| match h.state {
            HostState::Connecting => false,
            HostState::Connected => h.snap.host.cpus > 0,
            HostState::Unreachable(_) => true,
        })
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !settled(&rx.borrow_and_update()) {
        match tokio::time::timeout_at(deadline, rx.changed()).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => anyhow::bail!("ztop: the hosts' connections closed"),
            Err(_) => break,
        }
    }
    let mut printed = 0u64;
    let stdout = std::io::stdout();
    loop {
        let fl = rx.borrow_and_update().clone();
        let report = if json_out {
            fleet_json(&fl, o.sort, o.reverse)
        } else if printed > 0 {
            format!("\n{}", fleet_text(&fl, o))
        } else {
            fleet_text(&fl, o)
        };
        let mut out = stdout.lock();
        match out.write_all(report.as_bytes()).and_then(|_| out.flush()) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
            r => r?,
        }
        drop(out);
        printed += 1;
        if count.is_some_and(|c| printed >= c) {
            return Ok(());
        }
        tokio::time::sleep(delay).await;
    }
}

/// Print `count` reports (forever when None), `delay` apart.
pub async fn run(
    mut rx: SnapshotRx,
    count: Option<u64>,
    delay: Duration,
    json_out: bool,
    o: &Options<'_>,
) -> anyhow::Result<()> {
    // Before the sampler's first tick an engine publishes its registry with
    // an empty host (no CPUs, no memory): report sampled snapshots only.
    while rx.borrow_and_update().host.cpus == 0 {
        if rx.changed().await.is_err() {
            anyhow::bail!("ztop: the engine closed before its first snapshot");
        }
    }
    let mut printed = 0u64;
    let stdout = std::io::stdout();
    loop {
        let snap = rx.borrow_and_update().clone();
        let report = if json_out {
            json(&snap, o.sort, o.reverse)
        } else if printed > 0 {
            format!("\n{}", text(&snap, o))
        } else {
            text(&snap, o)
        };
        let mut out = stdout.lock();
        match out.write_all(report.as_bytes()).and_then(|_| out.flush()) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
            r => r?,
        }
        drop(out);
        printed += 1;
        if count.is_some_and(|c| printed >= c) {
            return Ok(());
        }
        tokio::time::sleep(delay).await;
        // every report is a new snapshot: with a delay shorter than the
        // engine's tick, wait for the next one
        let fresh = match rx.has_changed() {
            Ok(true) => Ok(()),
            Ok(false) => rx.changed().await,
            Err(e) => Err(e),
        };
        if fresh.is_err() {
            anyhow::bail!("ztop: the engine is gone");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata;

    fn opts(width: usize) -> Options<'static> {
        Options {
            columns: &Column::ALL,
            sort: SortKey::Id,
            reverse: false,
            width,
            clock: fmt::clock_utc,
        }
    }

    #[test]
    fn text_lines_never_exceed_the_width() {
        for snap in [
            testdata::global_only(),
            testdata::few_zones(),
            testdata::many(100),
        ] {
            for width in [20, 40, 60, 80, 132, 200] {
                let t = text(&snap, &opts(width));
                for l in t.lines() {
                    assert!(l.chars().count() <= width, "{width}: {l:?}");
                }
            }
        }
    }

    #[test]
    fn text_at_80_columns() {
        insta::assert_snapshot!(text(&testdata::few_zones(), &opts(80)));
    }

    #[test]
    fn text_at_132_columns() {
        insta::assert_snapshot!(text(&testdata::few_zones(), &opts(132)));
    }

    #[test]
    fn text_at_40_columns() {
        insta::assert_snapshot!(text(&testdata::few_zones(), &opts(40)));
    }

    #[test]
    fn json_is_one_object_per_line_with_every_zone() {
        let s = json(&testdata::few_zones(), SortKey::Id, false);
        assert_eq!(s.lines().count(), 1);
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v["engine"], "embedded");
        assert_eq!(v["host"]["hostname"], "atlas");
        let zones = v["zones"].as_array().unwrap();
        let names: Vec<&str> = zones.iter().map(|z| z["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["global", "web", "db", "batch", "mail", "spare"]);
        assert_eq!(zones[1]["nproc_max"], 100);
        assert!(zones[0]["nproc_max"].is_null(), "unlimited is null");
        assert!(zones[5]["id"].is_null(), "a configured zone has no id");
        assert_eq!(zones[5]["status"], "installed");
    }

    #[tokio::test(start_paused = true)]
    async fn run_prints_count_reports_then_returns() {
        use std::sync::Arc;
        let (tx, rx) = tokio::sync::watch::channel(Arc::new(Snapshot::default()));
        // the engine: an unsampled registry snapshot, then a sample a second
        let engine = tokio::spawn(async move {
            for seq in 1..=10 {
                tokio::time::sleep(Duration::from_secs(1)).await;
                let mut s = testdata::few_zones();
                s.seq = seq;
                if tx.send(Arc::new(s)).is_err() {
                    return;
                }
            }
        });
        let t0 = tokio::time::Instant::now();
        run(rx, Some(3), Duration::from_millis(300), true, &opts(80))
            .await
            .unwrap();
        // the first sample at 1 s, then one new snapshot per report
        assert_eq!(t0.elapsed(), Duration::from_secs(3));
        engine.abort();
    }

    #[tokio::test(start_paused = true)]
    async fn run_fails_when_the_engine_goes() {
        let (tx, rx) = tokio::sync::watch::channel(std::sync::Arc::new(testdata::few_zones()));
        let engine = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(2)).await;
            drop(tx);
        });
        let e = run(rx, None, Duration::from_secs(1), true, &opts(80))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("the engine is gone"), "{e}");
        engine.await.unwrap();
    }
}
