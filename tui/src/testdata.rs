//! Hand-built snapshots for the tests of this crate: no engine, no kernel,
//! every number chosen so that a screen shows it.

use std::path::PathBuf;
use std::sync::Arc;
use zones::param::{Params, Value};
use zones::snapshot::{ConfiguredZone, Host, Kstat, Refs, Snapshot, ZoneSnapshot};
use zones::testing::ZoneBuilder;
use zones::zone::{AdminState, Brand, Status, ZoneName};

/// 2026-11-24 12:00:00 UTC.
pub const NOW: f64 = 1_795_089_600.0;

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

pub fn host() -> Host {
    Host {
        hostname: "atlas".into(),
        uptime_secs: 3 * 86400 + 4 * 3600 + 5 * 60,
        loadavg: [1.25, 0.98, 0.71],
        cpus: 8,
        mem_total: 16 * GIB,
        mem_used: 6 * GIB + 300 * MIB,
        swap_total: 4 * GIB,
        swap_used: 12 * MIB,
    }
}

pub fn global() -> ZoneSnapshot {
    ZoneBuilder::global()
        .hostname("atlas")
        .boot_time(NOW as u64 - host().uptime_secs)
        .kstat(Kstat {
            nprocs: 212,
            nlwps: 640,
            lockedmem: 8 * MIB,
            swapresv: 2 * GIB,
            avenrun: [320, 251, 182],
            cpu_pct: 37.5,
            mem_usage: 5 * GIB,
            rss: 3 * GIB,
            ..Kstat::default()
        })
        .procs(vec![1])
        .build()
}

/// A running sparse zone.
#[allow(clippy::too_many_arguments)]
pub fn zone(
    id: u32,
    name: &str,
    nprocs: u64,
    load: f64,
    cpu: f64,
    mem: u64,
    up: u64,
) -> ZoneSnapshot {
    ZoneBuilder::new(id, name)
        .uniqid(100 + id as u64)
        .root(format!("/zones/{name}/root"))
        .hostname(format!("{name}.example"))
        .init_pid(4000 + id * 10)
        .zsched_pid(3999 + id * 10)
        .boot_time(NOW as u64 - up)
        .crtime(1)
        .privileges(&["cap_chown", "cap_kill"])
        .refs(Refs {
            zone_ref: 2,
            cred_ref: nprocs,
            subsys: [0, 0, 0, 1, 0, 1, 0],
        })
        .kstat(Kstat {
            nprocs,
            nlwps: nprocs * 2,
            lockedmem: 0,
            swapresv: mem / 2,
            avenrun: [
                (load * 256.0) as u32,
                (load * 0.8 * 256.0) as u32,
                (load * 0.6 * 256.0) as u32,
            ],
            cpu_pct: cpu,
            mem_usage: mem,
            rss: mem * 3 / 4,
            ..Kstat::default()
        })
        .procs((0..nprocs as u32).map(|i| 4000 + id * 10 + i).collect())
        .build()
}

fn set(z: &mut ZoneSnapshot, name: &str, v: i64) {
    z.params.insert(name, Value::Int(v));
}

pub fn snapshot(zones: Vec<ZoneSnapshot>, configured: Vec<ConfiguredZone>) -> Snapshot {
    let mut all = vec![global()];
    all.extend(zones);
    all.sort_by_key(|z| z.id);
    Snapshot {
        seq: 42,
        time: NOW,
        hrtime: 1,
        host: host(),
        zones: all.into_iter().map(Arc::new).collect(),
        configured,
        engine: "embedded".into(),
    }
}

pub fn configured(name: &str, state: AdminState) -> ConfiguredZone {
    ConfiguredZone {
        name: ZoneName::new(name).unwrap(),
        root: PathBuf::from(format!("/zones/{name}/root")),
        brand: Brand::Sparse,
        state,
        params: Params::new(),
    }
}

/// A host with only the global zone.
pub fn global_only() -> Snapshot {
    snapshot(vec![], vec![])
}

/// One user zone.
pub fn one_zone() -> Snapshot {
    let mut web = zone(1, "web", 14, 0.42, 3.2, 180 * MIB, 41 * 60 + 7);
    set(&mut web, "zone.max-processes", 100);
    set(&mut web, "capped-memory.physical", (512 * MIB) as i64);
    snapshot(vec![web], vec![])
}

/// Four kernel zones of different shapes and an installed one.
pub fn few_zones() -> Snapshot {
    let mut web = zone(1, "web", 14, 0.42, 3.2, 180 * MIB, 41 * 60 + 7);
    set(&mut web, "zone.max-processes", 100);
    set(&mut web, "capped-memory.physical", (512 * MIB) as i64);
    // Its own address on a host link: 1.2 MiB/s in, 40 KiB/s out.
    web.kstat.links = vec![zones::kstat::link::LinkStat {
        name: "eth0".into(),
        rbytes_rate: 1_258_291,
        obytes_rate: 40_960,
        ..Default::default()
    }];
    let db = near_limit_zone();
    let mut batch = zone(3, "batch", 9, 3.9, 187.0, 1200 * MIB, 3 * 86400 + 600);
    set(&mut batch, "zone.cpu-cap", 400);
    batch.kstat.cpu_cap_pct = Some(46.75);
    let mut mail = zone(4, "mail", 0, 0.0, 0.0, 0, 0);
    mail.status = Status::Ready;
    mail.boot_time = 0;
    mail.init_pid = 0;
    mail.procs.clear();
    snapshot(
        vec![web, db, batch, mail],
        vec![configured("spare", AdminState::Installed)],
    )
}

/// A zone at ≥ 90 % of every limit it has.
pub fn near_limit_zone() -> ZoneSnapshot {
    let mut db = zone(2, "db", 95, 1.7, 48.0, 970 * MIB, 7200 + 125);
    set(&mut db, "zone.max-processes", 100);
    set(&mut db, "zone.max-lwps", 400);
    set(&mut db, "zone.max-locked-memory", (64 * MIB) as i64);
    set(&mut db, "zone.max-swap", (512 * MIB) as i64);
    set(&mut db, "zone.cpu-cap", 50);
    set(&mut db, "capped-memory.physical", GIB as i64);
    db.kstat.nlwps = 380;
    db.kstat.lockedmem = 60 * MIB;
    db.kstat.swapresv = 500 * MIB;
    db.kstat.cpu_cap_pct = Some(96.0);
    db.kstat.forkfail_cap = 3;
    db.kstat.psi = Some(zones::snapshot::Psi {
        cpu_some: 12.5,
        memory_some: 4.0,
        memory_full: 1.5,
        io_some: 0.3,
        io_full: 0.0,
    });
    db
}

pub fn near_limits() -> Snapshot {
    snapshot(vec![near_limit_zone()], vec![])
}

/// `n` zones, numbered 1..=n, with counters that vary.
pub fn many(n: u32) -> Snapshot {
    let zones = (1..=n)
        .map(|i| {
            let mut z = zone(
                i,
                &format!("zone{i:03}"),
                (i as u64 * 7) % 40 + 1,
                (i % 13) as f64 * 0.31,
                (i % 17) as f64 * 2.9,
                (i as u64 % 23 + 1) * 37 * MIB,
                i as u64 * 3671,
            );
            if i % 10 == 0 {
                set(&mut z, "zone.max-processes", 40);
            }
            z
        })
        .collect();
    let configured = vec![
        configured("staging", AdminState::Configured),
        configured("spare", AdminState::Installed),
    ];
    snapshot(zones, configured)
}
