//! kstat(1M): print the counters of every zone (cli.md, kstat.md).
//!
//! `kstat [-Cjlpq] [-T d|u] [-c CLASS] [-m MODULE] [-i INSTANCE] [-n NAME]
//! [-s STATISTIC] [MODULE:INSTANCE:NAME:STATISTIC ...] [INTERVAL [COUNT]]`
//! (the command line: [`zones_tools::tool::kstat`]). Between interval reports a
//! blank line, as illumos prints it; output goes through
//! [`zones_tools::tool::out`], so a closed pipe ends kstat quietly.
//! The counters are the engine's snapshot: zoned's when it runs, else an
//! embedded engine's, which samples once before the first report (its
//! load averages resume from the state an earlier engine saved).

use std::time::Duration;
use zones::api::Zones;
use zones::kstat::format::{Options, Request};
use zones_tools::tool::kstat::{Parsed, USAGE, parse, timestamp};
use zones_tools::tool::{die, exit, usage_error};

const TOOL: &str = "kstat";

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse(&argv) {
        Ok(Parsed::Run(a)) => a,
        Ok(Parsed::Help) => {
            zones_tools::outln!("{USAGE}");
            std::process::exit(exit::OK)
        }
        Ok(Parsed::Version) => {
            zones_tools::outln!("kstat {}", env!("CARGO_PKG_VERSION"));
            std::process::exit(exit::OK)
        }
        Err(e) => usage_error(TOOL, e, USAGE),
    };
    let opts = Options {
        class: args.class.as_deref(),
        module: args.module.as_deref(),
        instance: args.instance.as_deref(),
        name: args.name.as_deref(),
        statistic: args.statistic.as_deref(),
    };
    let req = Request::parse(&opts, &args.operands).unwrap_or_else(|e| usage_error(TOOL, e, USAGE));
    let style = args.style();
    let zones = args
        .common
        .open()
        .await
        .unwrap_or_else(|e| die(TOOL, e, exit::FAILED));
    let mut snaps = match &zones {
        Zones::Daemon(c) => c
            .subscribe()
            .await
            .unwrap_or_else(|e| die(TOOL, e, exit::FAILED)),
        Zones::Embedded(e) => {
            // An embedded engine has counters once it has sampled.
            let (tx, rx) = tokio::sync::watch::channel(None);
            let mut inner = e.subscribe();
            let seq0 = inner.borrow().seq;
            e.start_sampler();
            tokio::spawn(async move {
                while inner.changed().await.is_ok() {
                    let s = inner.borrow_and_update().clone();
                    if s.seq > seq0 && s.zones.first().is_some_and(|g| g.kstat.snaptime > 0) {
                        let _ = tx.send(Some(s));
                    }
                }
            });
            rx
        }
    };
    let mut printed = 0u64;
    let mut any = false;
    let mut next = tokio::time::Instant::now();
    loop {
        let snap = loop {
            if let Some(s) = snaps.borrow_and_update().clone() {
                break s;
            }
            if snaps.changed().await.is_err() {
                die(TOOL, "the engine went away", exit::FAILED);
            }
        };
        let (text, matched) = req.render(&snap, style);
        any |= matched;
        if !args.quiet {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64);
            zones_tools::out!("{}{text}", timestamp(args.timestamp, now));
        }
        printed += 1;
        let Some(interval) = req.interval else { break };
        if req.count.is_some_and(|c| printed >= c) {
            break;
        }
        next += Duration::from_secs(interval);
        tokio::time::sleep_until(next).await;
        // illumos prints a blank line between reports.
        if !args.quiet {
            zones_tools::outln!();
        }
        // Wait for a snapshot newer than the one printed.
        let seq = snap.seq;
        while snaps.borrow().as_ref().is_none_or(|s| s.seq == seq) {
            if snaps.changed().await.is_err() {
                break;
            }
        }
    }
    std::process::exit(if any { exit::OK } else { exit::FAILED });
}
