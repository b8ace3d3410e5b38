//! jail(8): create, modify and remove jails (cli.md, the seed page). The
//! logic is [`zones_tools::tool::jail`]; this reads the command line, chooses
//! the operation and reports: `NAME: created` / `updated` / `removed`,
//! errors as `jail: message`, exit 0 or 1 (something failed, or a usage
//! error: FreeBSD's jail exits 1 for both).

use std::collections::BTreeSet;
use std::rc::Rc;
use zones::engine::{JailFlags, JailKey};
use zones::error::Error;
use zones::jailconf::{self as select, import_rc};
use zones::zone::ZoneId;
use zones_tools::tool::jail::{Invocation, Runner, Spec, Targets, USAGE, parse_args, targets};
use zones_tools::tool::{die, exit, os_msg};

const TOOL: &str = "jail";

/// A usage error: `jail: message`, then the usage lines; exit 1, as
/// FreeBSD's jail.
fn usage(msg: &str) -> ! {
    let msg = if msg.is_empty() {
        "no operation given (-c, -m, -r, -R or -e)"
    } else {
        msg
    };
    eprintln!("{TOOL}: {msg}");
    eprintln!("{USAGE}");
    std::process::exit(exit::FAILED)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let inv = parse_args(&argv).unwrap_or_else(|m| usage(&m));
    let o = &inv.opts;
    if o.help {
        zones_tools::outln!("{USAGE}");
        std::process::exit(exit::OK);
    }
    if o.version {
        zones_tools::outln!("jail {}", env!("CARGO_PKG_VERSION"));
        std::process::exit(exit::OK);
    }
    if let Some(f) = &o.import_rc {
        let text = std::fs::read_to_string(f).unwrap_or_else(|e| {
            die(
                TOOL,
                format!("{}: {}", f.display(), os_msg(&e)),
                exit::FAILED,
            )
        });
        zones_tools::out!("{}", import_rc(&text));
        std::process::exit(exit::OK);
    }
    let any_op = o.create || o.modify || o.remove || o.remove_plain || o.cleanup;
    if !any_op && o.exhibit.is_none() && inv.args.is_empty() {
        usage("");
    }
    let t = targets(&inv).unwrap_or_else(|(m, code)| {
        if code == exit::USAGE {
            usage(&m)
        }
        die(TOOL, m, code)
    });
    if let (Some(sep), Targets::Configured { config, .. }) = (&o.exhibit, &t) {
        zones_tools::out!("{}", config.exhibit(sep));
        if !any_op {
            std::process::exit(exit::OK);
        }
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        die(TOOL, "jail_set: Operation not permitted", exit::FAILED);
    }
    let zones = o
        .common
        .open()
        .await
        .unwrap_or_else(|e| die(TOOL, e, exit::FAILED));
    let runner = Rc::new(Runner::new(zones, o.clone()));
    let local = tokio::task::LocalSet::new();
    let ok = local
        .run_until(async {
            match t {
                Targets::Direct(specs) => direct(&runner, &inv, specs).await,
                Targets::Configured { specs, others, .. } => {
                    configured(&runner, &inv, specs, others).await
                }
            }
        })
        .await;
    if let Some(f) = &o.jid_file
        && let Err(e) = runner.write_jid_file(f)
    {
        die(
            TOOL,
            format!("{}: {}", f.display(), os_msg(&e)),
            exit::FAILED,
        );
    }
    std::process::exit(if ok { exit::OK } else { exit::FAILED });
}

fn fail(msg: impl std::fmt::Display) -> bool {
    eprintln!("{TOOL}: {msg}");
    false
}

/// Jails given as `param=value` words or in the legacy form.
async fn direct(r: &Runner, inv: &Invocation, specs: Vec<Spec>) -> bool {
    let o = &inv.opts;
    let mut ok = true;
    for spec in specs {
        let running = r.find(&spec).await;
        let legacy = !(o.create || o.modify);
        ok &= match running {
            Some((id, _)) if o.modify => modify(r, inv, &spec, id).await,
            Some((id, p)) if o.remove && o.create => {
                let name = p.str("name").unwrap_or(&spec.name).to_string();
                match r.remove(&spec, id, &name, false).await {
                    Ok(()) => r.create(&spec).await.map(drop).map_or_else(fail, |_| true),
                    Err(e) => fail(e),
                }
            }
            Some(_) if o.create || legacy => fail(format!("{}: already exists", spec.name)),
            None if o.create || legacy => {
                r.create(&spec).await.map(drop).map_or_else(fail, |_| true)
            }
            _ => fail(format!("\"{}\" not found", spec.name)),
        };
    }
    ok
}

/// `-m` (with `-r`: restart when a parameter cannot change).
async fn modify(r: &Runner, inv: &Invocation, spec: &Spec, id: ZoneId) -> bool {
    match r.update(spec, id, &spec.name).await {
        Ok(()) => true,
        Err(Error::Unchangeable { .. }) if inv.opts.remove => {
            match r.remove(spec, id, &spec.name, false).await {
                Ok(()) => r.create(spec).await.map(drop).map_or_else(fail, |_| true),
                Err(e) => fail(e),
            }
        }
        Err(e) => fail(e),
    }
}

/// A running jail that is not configured, with the parameters the engine kept.
fn kept_spec(id: ZoneId, params: zones::param::Params) -> Spec {
    Spec {
        name: params
            .str("name")
            .map_or_else(|| id.0.to_string(), str::to_string),
        params,
        argv: Vec::new(),
        not_enforced: Vec::new(),
        configured: false,
        implied: false,
        deps: Vec::new(),
    }
}

/// Every running jail, deepest first (children before their parents).
async fn running(r: &Runner) -> Vec<(ZoneId, zones::param::Params)> {
    let mut all = Vec::new();
    let mut last = 0;
    while let Ok((id, p)) = r
        .zones
        .jail_get(&r.caller, &JailKey::LastJid(last), JailFlags::default())
        .await
    {
        last = id.0;
        all.push((id, p));
    }
    all.sort_by_key(|(id, p)| {
        (
            std::cmp::Reverse(p.str("name").unwrap_or("").matches('.').count()),
            std::cmp::Reverse(id.0),
        )
    });
    all
}

/// Jails of the configuration (and, for removal, running ones named).
async fn configured(
    r: &Rc<Runner>,
    inv: &Invocation,
    specs: Vec<Spec>,
    others: Vec<String>,
) -> bool {
    let o = &inv.opts;
    let mut ok = true;
    let removing = o.remove || o.remove_plain || o.cleanup;
    let mut removed: BTreeSet<String> = BTreeSet::new();
    if removing {
        // With -c too, the specs are in creation order: remove in reverse.
        let order: Vec<&Spec> = if o.create {
            specs.iter().rev().collect()
        } else {
            specs.iter().collect()
        };
        // Running jails named by a wildcard or by a name/jid that is not configured.
        let mut extra: Vec<Spec> = Vec::new();
        if !others.is_empty() {
            for (id, p) in running(r).await {
                let name = p.str("name").unwrap_or("").to_string();
                let hit = others.iter().any(|w| {
                    if select::is_wildcard(w) {
                        select::wild_match(&name, w)
                    } else {
                        *w == name || w.parse::<u32>().ok() == Some(id.0)
                    }
                });
                if hit && !specs.iter().any(|s| s.name == name) {
                    extra.push(kept_spec(id, p));
                }
            }
            for w in &others {
                let found = select::is_wildcard(w)
                    || extra.iter().any(|s| {
                        s.name == *w
                            || s.params.int("jid").map(|j| j.to_string()).as_deref() == Some(w)
                    });
                if !found {
                    ok = fail(format!("\"{w}\" not found"));
                }
            }
        }
        for spec in order.into_iter().chain(extra.iter()) {
            if removed.contains(&spec.name) {
                continue;
            }
            match r.find(spec).await {
                Some((id, _)) if o.remove || o.remove_plain => {
                    match r.remove(spec, id, &spec.name, o.remove_plain).await {
                        Ok(()) => {
                            removed.insert(spec.name.clone());
                        }
                        Err(e) => ok = fail(e),
                    }
                }
                Some(_) => {}
                None if o.cleanup => {
                    if let Err(e) = r.after_removal(spec, None, &spec.name) {
                        ok = fail(e);
                    }
                }
                // -rc of a jail that is not running: just create it.
                None if o.create => {}
                None if spec.configured
                    && !spec.implied
                    && !others.iter().any(|w| select::is_wildcard(w)) =>
                {
                    ok = fail(format!("\"{}\" not found", spec.name));
                }
                None => {}
            }
        }
    }
    if (o.create || o.modify) && o.limit == 1 {
        for spec in &specs {
            ok &= create_one(r, inv, spec).await;
        }
    } else if o.create || o.modify {
        ok &= in_parallel(r, inv, specs).await;
    }
    ok
}

/// Create (or modify) one configured jail.
async fn create_one(r: &Runner, inv: &Invocation, spec: &Spec) -> bool {
    let o = &inv.opts;
    match r.find(spec).await {
        // A dependency that already runs is left as it is.
        Some(_) if spec.implied => true,
        Some((id, _)) if o.modify => modify(r, inv, spec, id).await,
        Some(_) => fail(format!("{}: already exists", spec.name)),
        None if o.create => r.create(spec).await.map(drop).map_or_else(fail, |_| true),
        None => fail(format!("\"{}\" not found", spec.name)),
    }
}

/// `-p LIMIT` above 1 (0: no limit): the jails whose dependencies are
/// done go together, at most LIMIT at a time.
async fn in_parallel(r: &Rc<Runner>, inv: &Invocation, specs: Vec<Spec>) -> bool {
    let limit = match inv.opts.limit {
        0 => usize::MAX,
        n => n,
    };
    let names: BTreeSet<String> = specs.iter().map(|s| s.name.clone()).collect();
    let mut finished: BTreeSet<String> = BTreeSet::new();
    let mut left = specs;
    let mut ok = true;
    while !left.is_empty() {
        let (ready, rest): (Vec<Spec>, Vec<Spec>) = left.into_iter().partition(|s| {
            s.deps
                .iter()
                .all(|d| !names.contains(d) || finished.contains(d))
        });
        if ready.is_empty() {
            // Dependencies are acyclic (the parser checks): not reached.
            return false;
        }
        for chunk in ready.chunks(limit) {
            let mut set = tokio::task::JoinSet::new();
            for spec in chunk {
                let (r, inv, spec) = (r.clone(), inv.clone(), spec.clone());
                set.spawn_local(async move { create_one(&r, &inv, &spec).await });
            }
            while let Some(done) = set.join_next().await {
                ok &= done.unwrap_or(false);
            }
        }
        finished.extend(ready.into_iter().map(|s| s.name));
        left = rest;
    }
    ok
}
