//! zsched death, init restarts and init exit, followed exactly.
//!
//! * zsched killed from the host (SIGKILL), 20 times over, each time with
//!   the zone's processes still running: the engine finishes the zone by
//!   itself within stop.timeout, and nothing is left — no cgroup, no
//!   control socket, no process, no state record.
//! * A stopped zsched (SIGSTOP) is not taken for a dead one: the zone
//!   stays running; a halt then still finishes.
//! * init_pid follows init: killed and restarted by zsched, the engine's
//!   snapshot, zone_getattr("initpid"), kstat's zones:ID:NAME:init_pid and
//!   zonefs' /zones/Z/init_pid name the new host pid; with initnorestart
//!   they read 0 once init exited. The admin tools (jls, kstat), whose
//!   engines adopt the zone afresh, show the restarted init too.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use zones::engine::{Caller, Engine, EngineConfig};
use zones::param::{Params, Value};
use zones::state::Store;
use zones::zone::{Status, ZoneId};
use zones_e2e::*;
use zones_linux::runtime::linux::cgroup;

/// The zones' stop.timeout here: a gone zsched's zone is finished within it.
const STOP_TIMEOUT: u64 = 10;

fn engine_for(z: &TestZone, store: Store) -> Engine {
    let rt = z.new_runtime();
    Engine::with_store(
        Arc::new(rt),
        EngineConfig {
            destroy_timeout: Duration::from_secs(30),
            ..Default::default()
        },
        store,
    )
}

/// Host pids of every process in the cgroups beneath `roots`.
fn cgroup_pids(roots: &[PathBuf]) -> Vec<u32> {
    let mut out: Vec<u32> = roots.iter().flat_map(|r| cgroup::procs(r)).collect();
    out.sort();
    out.dedup();
    out
}

fn alive(pid: u32) -> bool {
    zones_linux::runtime::linux::launch::start_time(pid).is_some()
}

fn comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .unwrap_or_default()
        .trim()
        .to_string()
}

fn params(z: &TestZone, extra: &[(&str, Value)]) -> Params {
    let mut p = Params::new();
    p.insert("name", Value::Str(z.spec.name.to_string()));
    p.insert("path", Value::Str(z.spec.root.display().to_string()));
    p.insert("brand", Value::Str("sparse".into()));
    p.insert("persist", Value::Bool(true));
    p.insert("stop.timeout", Value::Int(STOP_TIMEOUT as i64));
    for (k, v) in extra {
        p.insert(k, v.clone());
    }
    p
}

/// Poll `f` every 20 ms up to `within`; its last value.
fn until<T>(within: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Nothing of the zone is left: cgroups, sockets, processes (of its pid
/// namespace `ns`), records.
fn nothing_left(z: &TestZone, state: &Path, ns: &Path, what: &str) {
    z.assert_gone(ns, what);
    let recs: Vec<PathBuf> = std::fs::read_dir(state.join("zones"))
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(recs.is_empty(), "{what}: state records left: {recs:?}");
}

#[test]
fn a_zone_whose_zsched_is_killed_finishes_every_time_leaving_nothing() {
    let z = TestZone::sparse("zkill");
    let state = z.tmp.path().join("state");
    let rt = tokio();
    let engine = rt.block_on(async { engine_for(&z, Store::open(&state).unwrap()) });
    // init and a few more processes, so that zsched's death has a pid
    // namespace to tear down.
    std::fs::write(
        z.spec.root.join("init.sh"),
        "#!/bin/sh\n/bin/sleep 100000 &\n/bin/sleep 100000 &\nexec /bin/sleep 100000\n",
    )
    .unwrap();
    std::fs::set_permissions(
        z.spec.root.join("init.sh"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let mut slowest = Duration::ZERO;
    for round in 0..20 {
        let (id, zsched) = rt.block_on(async {
            let p = params(&z, &[("initname", Value::Str("/init.sh".into()))]);
            let id = engine.create(&Caller::ROOT, p).await.expect("create");
            engine.boot(&Caller::ROOT, id).await.expect("boot");
            let zsched = engine.snapshot().zone(id).unwrap().zsched_pid;
            (id, zsched)
        });
        let ns = pid_ns(zsched).expect("zsched's pid namespace");
        until(Duration::from_secs(5), || {
            (procs_in_ns(&ns).len() >= 4).then_some(())
        })
        .unwrap_or_else(|| panic!("round {round}: the zone's processes did not start"));
        let t = Instant::now();
        // SAFETY: kill takes plain integers.
        assert_eq!(unsafe { libc::kill(zsched as i32, libc::SIGKILL) }, 0);
        let done = until(Duration::from_secs(STOP_TIMEOUT), || {
            engine.snapshot().zone(id).is_none().then_some(())
        });
        let took = t.elapsed();
        let snap = engine.snapshot();
        assert!(
            done.is_some(),
            "round {round}: the zone is still there after {took:?}: {:?}",
            snap.zone(id).map(|z| z.status)
        );
        slowest = slowest.max(took);
        assert!(engine.lookup(&Caller::ROOT, z.spec.name.as_str()).is_err());
        nothing_left(&z, &state, &ns, &format!("round {round}"));
    }
    eprintln!("20 zscheds killed; the slowest zone finished in {slowest:?}");
}

#[test]
fn a_stopped_zsched_is_not_taken_for_dead_and_halt_still_finishes() {
    let z = TestZone::sparse("zstop");
    let state = z.tmp.path().join("state");
    let rt = tokio();
    let engine = rt.block_on(async { engine_for(&z, Store::open(&state).unwrap()) });
    let p = params(
        &z,
        &[
            ("initname", Value::Str("/bin/sleep".into())),
            ("bootargs", Value::Str("100000".into())),
        ],
    );
    let id = rt.block_on(async {
        let id = engine.create(&Caller::ROOT, p).await.expect("create");
        engine.boot(&Caller::ROOT, id).await.expect("boot");
        id
    });
    let zsched = engine.snapshot().zone(id).unwrap().zsched_pid;
    let ns = pid_ns(zsched).expect("zsched's pid namespace");
    // SAFETY: kill takes plain integers.
    assert_eq!(unsafe { libc::kill(zsched as i32, libc::SIGSTOP) }, 0);
    std::thread::sleep(Duration::from_secs(3));
    let s = engine.snapshot().zone(id).map(|z| z.status);
    assert_eq!(
        s,
        Some(Status::Running),
        "a stopped zsched was taken for dead"
    );
    assert!(alive(zsched));
    // The administrator's halt continues it and finishes the zone.
    let t = Instant::now();
    let r = rt.block_on(engine.halt(&Caller::ROOT, id));
    assert!(r.is_ok(), "halt of a zone with a stopped zsched: {r:?}");
    assert!(
        t.elapsed() < Duration::from_secs(STOP_TIMEOUT),
        "{:?}",
        t.elapsed()
    );
    assert!(!alive(zsched), "zsched {zsched} is still there");
    nothing_left(&z, &state, &ns, "stopped zsched");
}

/// init_pid as every reader of the engine's snapshot shows it.
fn init_pids(engine: &Engine, id: ZoneId) -> [u32; 4] {
    let snap = engine.snapshot();
    let z = snap.zone(id).expect("zone in the snapshot");
    let getattr = match engine.getattr(&Caller::ROOT, id, "initpid") {
        Ok(Value::Int(n)) => n as u32,
        other => panic!("getattr initpid: {other:?}"),
    };
    let ks = zones_linux::kstat::format::zone_kstats(z, 0);
    let kstat = ks
        .iter()
        .flat_map(|k| k.all_stats(false))
        .find(|(n, _)| *n == "init_pid")
        .map(|(_, v)| format!("{v:?}"))
        .expect("kstat init_pid");
    // Value::U32(N)
    let kstat: u32 = kstat
        .split(['(', ')'])
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("kstat init_pid {kstat:?}"));
    let r = zonefs::render::zone(z, 0);
    let zfs = r
        .nodes
        .iter()
        .find(|n| n.name == "init_pid" && n.bytes().is_some())
        .and_then(|n| n.bytes())
        .map(|b| String::from_utf8_lossy(b).trim().to_string())
        .expect("zonefs init_pid");
    [
        z.init_pid,
        getattr,
        kstat,
        zfs.parse().expect("zonefs init_pid"),
    ]
}

#[test]
fn init_pid_follows_a_restarted_init_and_reads_0_once_init_exited() {
    let z = TestZone::sparse("zinit");
    let state = z.tmp.path().join("state");
    let rt = tokio();
    let engine = rt.block_on(async { engine_for(&z, Store::open(&state).unwrap()) });
    let roots = z.cgroup_roots();
    let in_zone = |pid: u32| cgroup_pids(&roots).contains(&pid);

    // Restarted: a new host pid, everywhere.
    let p = params(
        &z,
        &[
            ("initname", Value::Str("/bin/sleep".into())),
            ("bootargs", Value::Str("100000".into())),
        ],
    );
    let id = rt.block_on(async {
        let id = engine.create(&Caller::ROOT, p).await.expect("create");
        engine.boot(&Caller::ROOT, id).await.expect("boot");
        id
    });
    let mut init = init_pids(&engine, id)[0];
    assert_eq!(init_pids(&engine, id), [init; 4]);
    assert!(in_zone(init) && comm(init) == "sleep", "init {init}");
    for restart in 0..3 {
        // SAFETY: kill takes plain integers.
        assert_eq!(unsafe { libc::kill(init as i32, libc::SIGKILL) }, 0);
        let new = until(Duration::from_secs(5), || {
            let p = init_pids(&engine, id);
            (p[0] != init && p[0] != 0 && p == [p[0]; 4]).then_some(p[0])
        })
        .unwrap_or_else(|| {
            panic!(
                "restart {restart}: init_pid still {:?} (was {init})",
                init_pids(&engine, id)
            )
        });
        assert!(in_zone(new) && comm(new) == "sleep", "new init {new}");
        assert!(!alive(init) || !in_zone(init));
        init = new;
    }
    rt.block_on(engine.halt(&Caller::ROOT, id)).expect("halt");

    // Exited, not restarted: 0. Another process keeps the zone from
    // being empty (an empty initnorestart zone halts).
    std::fs::write(
        z.spec.root.join("init.sh"),
        "#!/bin/sh\n/bin/sleep 100000 &\nexec /bin/sleep 100000\n",
    )
    .unwrap();
    std::fs::set_permissions(
        z.spec.root.join("init.sh"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let p = params(
        &z,
        &[
            ("initname", Value::Str("/init.sh".into())),
            ("initnorestart", Value::Bool(true)),
        ],
    );
    let id = rt.block_on(async {
        let id = engine.create(&Caller::ROOT, p).await.expect("create");
        engine.boot(&Caller::ROOT, id).await.expect("boot");
        id
    });
    let init = until(Duration::from_secs(5), || {
        let p = init_pids(&engine, id)[0];
        (p != 0 && comm(p) == "sleep").then_some(p)
    })
    .expect("init runs");
    assert_eq!(init_pids(&engine, id), [init; 4]);
    // SAFETY: kill takes plain integers.
    assert_eq!(unsafe { libc::kill(init as i32, libc::SIGKILL) }, 0);
    until(Duration::from_secs(5), || {
        (init_pids(&engine, id) == [0; 4]).then_some(())
    })
    .unwrap_or_else(|| panic!("init_pid after init exited: {:?}", init_pids(&engine, id)));
    assert_eq!(
        engine.snapshot().zone(id).map(|z| z.status),
        Some(Status::Running)
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(init_pids(&engine, id), [0; 4], "a dead init came back");
    let ns = pid_ns(engine.snapshot().zone(id).unwrap().zsched_pid).unwrap();
    rt.block_on(engine.halt(&Caller::ROOT, id)).expect("halt");
    nothing_left(&z, &state, &ns, "init zones");
}

/// The value jls prints for `initpid` of jail `name`.
fn jls_initpid(w: &ToolWorld, name: &str) -> u32 {
    let o = w.run("jls", &["-j", name, "initpid"]);
    assert_eq!(o.status, 0, "jls: {o:?}");
    o.stdout
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("jls initpid: {o:?}"))
}

#[test]
fn the_admin_tools_show_the_restarted_init() {
    let mut w = ToolWorld::new("ftools");
    let name = w.name("ftools");
    let zp = w.dir.path().join("zones").join(&name);
    w.configure_sleeper(&name, &zp, "");
    let o = w.run("zoneadm", &["-z", &name, "install"]);
    assert_eq!(o.status, 0, "zoneadm install: {o:?}");
    let o = w.run("zoneadm", &["-z", &name, "boot"]);
    assert_eq!(o.status, 0, "zoneadm boot: {o:?}");
    let in_zone = |pid: u32| w.pids().contains(&pid);
    let first = jls_initpid(&w, &name);
    assert!(
        first != 0 && in_zone(first) && comm(first) == "sleep",
        "jls initpid {first}"
    );
    // SAFETY: kill takes plain integers.
    assert_eq!(unsafe { libc::kill(first as i32, libc::SIGKILL) }, 0);
    let second = until(Duration::from_secs(5), || {
        let p = jls_initpid(&w, &name);
        (p != first && p != 0).then_some(p)
    })
    .expect("jls shows the restarted init");
    assert!(in_zone(second) && comm(second) == "sleep", "{second}");
    let o = w.run("kstat", &["-p", "zones:::init_pid"]);
    assert_eq!(o.status, 0, "kstat: {o:?}");
    assert!(
        o.stdout
            .lines()
            .any(|l| l.contains(&name) && l.split_whitespace().last() == Some(&second.to_string())),
        "kstat: {o:?}"
    );
    let o = w.run("zoneadm", &["-z", &name, "halt"]);
    assert_eq!(o.status, 0, "zoneadm halt: {o:?}");
}
