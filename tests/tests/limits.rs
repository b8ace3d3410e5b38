//! Resource controls hold inside a zone: zone.max-processes (pids.max, with
//! the refusals counted in pids.events), capped-memory.physical (the
//! memory cgroup's limit: a process that touches more is OOM-killed) and
//! zone.cpu-cap (a busy loop held near the cap).

use std::path::PathBuf;
use std::time::{Duration, Instant};
use zones::param::Value;
use zones_e2e::*;

fn booted(tag: &str, rctls: &[(&str, i64)]) -> TestZone {
    let mut z = TestZone::sparse(tag);
    z.set("initname", Value::Str("/bin/sleep".into()))
        .set("bootargs", Value::Str("1000".into()));
    for (k, v) in rctls {
        z.set(k, Value::Int(*v));
    }
    z.ready().expect("ready");
    z.boot().expect("boot");
    z.install_probe();
    z
}

fn cgroup_with(z: &TestZone, file: &str) -> PathBuf {
    z.handle()
        .cgroups
        .iter()
        .find(|d| d.join(file).exists())
        .unwrap_or_else(|| panic!("no cgroup of the zone has {file}"))
        .join(file)
}

#[test]
fn a_fork_bomb_stops_at_max_processes_and_the_refusals_are_counted() {
    let z = booted("forkbomb", &[("zone.max-processes", 20)]);
    let max = std::fs::read_to_string(cgroup_with(&z, "pids.max")).unwrap();
    assert_eq!(max.trim(), "20");
    let o = z.probe(&["forkbomb", "100"]);
    assert_eq!(o.status, 1, "all 100 forks succeeded: {o:?}");
    let forked: u32 = o
        .stdout
        .trim()
        .strip_prefix("forked ")
        .unwrap()
        .parse()
        .unwrap();
    // zsched, init and the probe hold 3 of the 20.
    assert!((10..=17).contains(&forked), "forked {forked}");
    let events = std::fs::read_to_string(cgroup_with(&z, "pids.events")).unwrap();
    let refused: u64 = events
        .lines()
        .find_map(|l| l.strip_prefix("max "))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(refused >= 1, "pids.events: {events}");
}

#[test]
fn capped_memory_is_enforced() {
    let z = booted(
        "memcap",
        &[
            ("capped-memory.physical", 64 << 20),
            ("zone.max-swap", 64 << 20),
        ],
    );
    let lim = std::fs::read_to_string(cgroup_with(&z, "memory.limit_in_bytes")).unwrap();
    assert_eq!(lim.trim(), (64u64 << 20).to_string());
    let o = z.probe(&["hog", "256"]);
    assert!(
        !o.stdout.contains("touched all"),
        "256 MiB touched under a 64 MiB cap: {o:?}"
    );
    assert_eq!(o.status, 137, "{o:?}");
    let oom = std::fs::read_to_string(cgroup_with(&z, "memory.oom_control")).unwrap();
    let kills: u64 = oom
        .lines()
        .find_map(|l| l.strip_prefix("oom_kill "))
        .unwrap_or("0")
        .trim()
        .parse()
        .unwrap();
    assert!(kills >= 1, "memory.oom_control: {oom}");
    // The zone survives its process being killed.
    assert_eq!(z.run(&["/bin/true"]).status, 0);
}

fn usage_ns(z: &TestZone) -> u64 {
    let f = cgroup_with(z, "cpuacct.usage");
    std::fs::read_to_string(f).unwrap().trim().parse().unwrap()
}

#[test]
fn cpu_cap_50_holds_a_busy_loop_near_half_a_cpu() {
    let z = booted("cpucap", &[("zone.cpu-cap", 50)]);
    let quota = std::fs::read_to_string(cgroup_with(&z, "cpu.cfs_quota_us")).unwrap();
    assert_eq!(quota.trim(), "50000");
    let before = usage_ns(&z);
    let t = Instant::now();
    let o = z.probe(&["spin", "3"]);
    let wall = t.elapsed();
    let used = usage_ns(&z) - before;
    assert_eq!(o.status, 0, "{o:?}");
    let share = used as f64 / wall.as_nanos() as f64;
    // Wide tolerance: the host is shared; the cap is what must hold.
    assert!(
        share <= 0.65,
        "a busy loop used {share:.2} CPU under cpu-cap 50"
    );
    assert!(share >= 0.15, "a busy loop used only {share:.2} CPU");
    assert!(wall >= Duration::from_secs(3));
}

#[test]
fn update_changes_rctls_and_the_host_name_of_a_live_zone() {
    use zones::runtime::Runtime;
    let z = booted(
        "update",
        &[
            ("zone.cpu-cap", 50),
            ("capped-memory.physical", 64 << 20),
            ("zone.max-swap", 64 << 20),
        ],
    );
    let mut changed = zones::param::Params::new();
    changed.insert("zone.cpu-cap", Value::Int(25));
    changed.insert("zone.max-processes", Value::Int(40));
    changed.insert("host.hostname", Value::Str("renamed".into()));
    // Raising memory above the memsw limit needs memsw written first.
    changed.insert("capped-memory.physical", Value::Int(128 << 20));
    changed.insert("zone.max-swap", Value::Int(128 << 20));
    z.rt.update(z.handle(), &changed).expect("update");
    for f in ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"] {
        let v = std::fs::read_to_string(cgroup_with(&z, f)).unwrap();
        assert_eq!(v.trim(), (128u64 << 20).to_string(), "{f}");
    }
    let quota = std::fs::read_to_string(cgroup_with(&z, "cpu.cfs_quota_us")).unwrap();
    assert_eq!(quota.trim(), "25000");
    let max = std::fs::read_to_string(cgroup_with(&z, "pids.max")).unwrap();
    assert_eq!(max.trim(), "40");
    assert_eq!(z.run(&["/bin/hostname"]).stdout.trim(), "renamed");
}

#[test]
fn max_locked_memory_is_the_rlimit_of_the_zones_processes() {
    let z = booted("memlock", &[("zone.max-locked-memory", 1 << 20)]);
    // init (started by zsched) and an entered shell both have it.
    let init = z.handle().init_pid;
    let limits = std::fs::read_to_string(format!("/proc/{init}/limits")).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max locked memory"))
        .unwrap();
    assert!(
        line.split_whitespace().filter(|w| *w == "1048576").count() == 2,
        "{line}"
    );
    let o = z.sh("ulimit -l");
    assert_eq!(o.stdout.trim(), "1024", "{o:?}");
}
