//! kstat(1M): print the counters of every zone (cli.md, kstat.md).
//!
//! `kstat [-pjq] [-c CLASS] [-m MODULE] [-i INSTANCE] [-n NAME]
//! [-s STATISTIC] [MODULE:INSTANCE:NAME:STATISTIC ...] [INTERVAL [COUNT]]`.
//! The counters are the engine's snapshot: zoned's when it runs, else an
//! embedded engine's, which samples once before the first report (its
//! load averages resume from the state an earlier engine saved).

use clap::Parser;
use std::time::Duration;
use zones::api::Zones;
use zones::kstat::format::{Options, Request, Style};
use zones::tool::{Common, die, exit};

const TOOL: &str = "kstat";

#[derive(Parser)]
#[command(name = "kstat", version, about = "Print zone counters")]
struct Args {
    /// Parsable output: module:instance:name:statistic<TAB>value.
    #[arg(short = 'p')]
    parsable: bool,
    /// JSON output.
    #[arg(short = 'j')]
    json: bool,
    /// Print nothing; exit 0 when some statistic matched, 1 otherwise.
    #[arg(short = 'q')]
    quiet: bool,
    #[arg(short = 'c', value_name = "CLASS")]
    class: Option<String>,
    #[arg(short = 'm', value_name = "MODULE")]
    module: Option<String>,
    #[arg(short = 'i', value_name = "INSTANCE")]
    instance: Option<String>,
    #[arg(short = 'n', value_name = "NAME")]
    name: Option<String>,
    #[arg(short = 's', value_name = "STATISTIC")]
    statistic: Option<String>,
    #[command(flatten)]
    common: Common,
    /// module:instance:name:statistic selectors, then INTERVAL and COUNT.
    operands: Vec<String>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Args = zones::tool::parse_args();
    let opts = Options {
        class: args.class.as_deref(),
        module: args.module.as_deref(),
        instance: args.instance.as_deref(),
        name: args.name.as_deref(),
        statistic: args.statistic.as_deref(),
    };
    let req = Request::parse(&opts, &args.operands).unwrap_or_else(|e| die(TOOL, e, exit::USAGE));
    let style = if args.json {
        Style::Json
    } else if args.parsable {
        Style::Parseable
    } else {
        Style::Human
    };
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
            print!("{text}");
        }
        printed += 1;
        let Some(interval) = req.interval else { break };
        if req.count.is_some_and(|c| printed >= c) {
            break;
        }
        next += Duration::from_secs(interval);
        tokio::time::sleep_until(next).await;
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
