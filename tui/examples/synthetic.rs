//! Try the console by hand without an engine: NOT the engine, NOT demo
//! zones. Synthetic snapshots (counters that move) feed the real event
//! loop, and a stand-in Control answers after a short delay, so the screen,
//! keys, dialogs, footer, zlogin suspension and terminal restore can be
//! exercised in a terminal or under tmux:
//!
//! ```text
//! cargo run -p ztop --example synthetic
//! ```

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use zones::param::{Params, Value};
use zones::snapshot::{ConfiguredZone, Host, Kstat, Snapshot, ZoneSnapshot};
use zones::zone::{AdminState, Brand, Status, ZoneId, ZoneName};
use ztop::app::App;
use ztop::config::{Config, no_color_env};
use ztop::source::{Control, Op, OpFuture};

/// Which zones run: boot, halt and friends change it, the next snapshot
/// shows it.
type Running = Arc<Mutex<BTreeMap<String, bool>>>;

struct StandIn(Running);

impl Control for StandIn {
    fn run(&self, op: Op) -> OpFuture {
        let state = self.0.clone();
        Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(600)).await;
            let mut s = state.lock().unwrap();
            let Some(running) = s.get_mut(op.zone()) else {
                return Err(format!("no such zone: {}", op.zone()));
            };
            match op {
                Op::Boot(_) | Op::Create(_) if *running => Err("zone is already running".into()),
                Op::Boot(_) | Op::Create(_) | Op::Reboot(_) => {
                    *running = true;
                    Ok(format!("{} in 600 ms (stand-in)", op.done()))
                }
                Op::Halt(_) | Op::Shutdown(_) if !*running => Err("zone is not running".into()),
                Op::Halt(_) | Op::Shutdown(_) => {
                    *running = false;
                    Ok(format!("{} in 600 ms (stand-in)", op.done()))
                }
                Op::Destroy(_) => Err("zone is busy: 1 VFS reference".into()),
            }
        })
    }
    fn zlogin_command(&self, zone: &str) -> std::process::Command {
        let mut c = std::process::Command::new("sh");
        c.args([
            "-c",
            &format!("echo 'stand-in zlogin {zone}; exit to return'; exec sh"),
        ]);
        c
    }
}

fn zone(id: u32, name: &str, tick: u64, pids: Vec<u32>) -> ZoneSnapshot {
    let wave = ((tick as f64 + id as f64 * 3.0) / 5.0).sin().abs();
    let mut params = Params::new();
    params.insert("zone.max-processes", Value::Int(64));
    params.insert("capped-memory.physical", Value::Int(1 << 30));
    ZoneSnapshot {
        id: ZoneId(id),
        name: if id == 0 {
            ZoneName::global()
        } else {
            ZoneName::new(name).unwrap()
        },
        uniqid: id as u64,
        status: Status::Running,
        root: format!("/zones/{name}/root").into(),
        brand: Brand::Sparse,
        hostname: name.into(),
        parent: ZoneId::GLOBAL,
        init_pid: pids.first().copied().unwrap_or(0),
        zsched_pid: 0,
        boot_time: 1_795_000_000,
        crtime: 0,
        privileges: vec![],
        params,
        refs: Default::default(),
        kstat: Kstat {
            nprocs: pids.len() as u64 + (wave * 50.0) as u64,
            nlwps: pids.len() as u64 * 2,
            avenrun: [(wave * 600.0) as u32, (wave * 400.0) as u32, 100],
            cpu_pct: wave * 140.0,
            mem_usage: ((wave * 900.0) as u64 + 50) << 20,
            swapresv: 30 << 20,
            ..Default::default()
        },
        procs: pids,
    }
}

fn all_pids() -> Vec<u32> {
    let mut v: Vec<u32> = std::fs::read_dir("/proc")
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn snapshot(tick: u64, state: &Running) -> Snapshot {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let mut zones = vec![zone(0, "global", tick, all_pids())];
    let mut configured = Vec::new();
    for (i, (name, running)) in state.lock().unwrap().iter().enumerate() {
        if *running {
            zones.push(zone(i as u32 + 1, name, tick, vec![std::process::id()]));
        } else {
            configured.push(ConfiguredZone {
                name: ZoneName::new(name).unwrap(),
                root: format!("/zones/{name}/root").into(),
                brand: Brand::Sparse,
                state: AdminState::Installed,
                params: Params::new(),
            });
        }
    }
    Snapshot {
        seq: tick + 1,
        time: now,
        hrtime: tick,
        host: Host {
            hostname: "synthetic".into(),
            uptime_secs: 1000 + tick,
            loadavg: [0.5, 0.4, 0.3],
            cpus: 2,
            mem_total: 8 << 30,
            mem_used: 3 << 30,
            swap_total: 1 << 30,
            swap_used: 0,
        },
        zones: zones.into_iter().map(Arc::new).collect(),
        configured,
        engine: "synthetic (examples/synthetic.rs)".into(),
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    // SYNTHETIC_ZONES=100 for a crowded host; `spare` is installed, not running
    let n: u32 = std::env::var("SYNTHETIC_ZONES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4);
    let names = ["web", "db", "batch", "mail"];
    let mut zones: BTreeMap<String, bool> = (0..n)
        .map(|i| {
            let name = names
                .get(i as usize)
                .map_or_else(|| format!("zone{i:03}"), |n| n.to_string());
            (name, true)
        })
        .collect();
    zones.insert("spare".into(), false);
    let state: Running = Arc::new(Mutex::new(zones));
    let (tx, rx) = tokio::sync::watch::channel(Arc::new(snapshot(0, &state)));
    let feed = state.clone();
    tokio::spawn(async move {
        let mut tick = 0;
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            tick += 1;
            if tx.send(Arc::new(snapshot(tick, &feed))).is_err() {
                return;
            }
        }
    });
    let config = Config::load(None, no_color_env())?;
    ztop::term::install_panic_hook();
    let mut t = ztop::term::enter(config.mouse)?;
    let r = ztop::run::run(&mut t, App::new(config), rx, Arc::new(StandIn(state))).await;
    ztop::term::restore();
    println!("ztop synthetic: {:?}", r?);
    Ok(())
}
