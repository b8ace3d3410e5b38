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

// ---- limits on every entry path, 0 included ----------------------------

mod tools;

/// The (soft, hard) "Max locked memory" of /proc/PID/limits (or of a
/// copy of that file's text).
fn memlock_line(limits: &str) -> (String, String) {
    let l = limits
        .lines()
        .find(|l| l.starts_with("Max locked memory"))
        .unwrap_or_else(|| panic!("no Max locked memory in {limits:?}"));
    let mut w = l["Max locked memory".len()..].split_whitespace();
    (w.next().unwrap().into(), w.next().unwrap().into())
}

fn limit_line<'a>(limits: &'a str, name: &str) -> &'a str {
    limits
        .lines()
        .find(|l| l.starts_with(name))
        .unwrap_or_else(|| panic!("no {name} in {limits:?}"))
}

#[test]
fn max_locked_memory_0_holds_for_zsched_init_and_entered_processes() {
    let z = booted("memlock0", &[("zone.max-locked-memory", 0)]);
    for pid in [z.handle().zsched_pid, z.handle().init_pid] {
        let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
        assert_eq!(memlock_line(&limits), ("0".into(), "0".into()), "{pid}");
    }
    // An entered process, read from the host while it runs and from
    // inside.
    let o = z.sh("ulimit -l; cat /proc/self/limits");
    assert_eq!(o.stdout.lines().next(), Some("0"), "{o:?}");
    assert_eq!(memlock_line(&o.stdout), ("0".into(), "0".into()), "{o:?}");
    // And it cannot lock a page (no CAP_IPC_LOCK either).
    let o = z.probe(&["mlock", "1"]);
    assert_eq!(o.status, 1, "mlock succeeded under a limit of 0: {o:?}");
    assert!(!o.stdout.contains("locked"), "{o:?}");
}

#[test]
fn an_update_of_max_locked_memory_reaches_processes_entered_afterwards() {
    use zones::runtime::Runtime;
    let z = booted("memlockupd", &[("zone.max-locked-memory", 1 << 20)]);
    assert_eq!(z.sh("ulimit -l").stdout.trim(), "1024");
    let mut changed = zones::param::Params::new();
    changed.insert("zone.max-locked-memory", Value::Int(0));
    z.rt.update(z.handle(), &changed).expect("update");
    let o = z.sh("ulimit -l");
    assert_eq!(o.stdout.trim(), "0", "{o:?}");
    let limits =
        std::fs::read_to_string(format!("/proc/{}/limits", z.handle().zsched_pid)).unwrap();
    assert_eq!(memlock_line(&limits), ("0".into(), "0".into()));
}

#[test]
fn an_entered_process_gets_the_zones_limits_not_the_callers() {
    use std::os::unix::process::CommandExt;
    let z = booted("rlimits", &[("zone.max-locked-memory", 1 << 20)]);
    let zsched =
        std::fs::read_to_string(format!("/proc/{}/limits", z.handle().zsched_pid)).unwrap();
    let hf = z.tmp.path().join("handle.json");
    std::fs::write(&hf, serde_json::to_string(z.handle()).unwrap()).unwrap();
    // A caller with other soft limits than the zone's (lowering needs no
    // privilege): the entered process has zsched's, not these.
    let mut c = std::process::Command::new(bin("zenter"));
    c.arg(&hf).args(["--", "/bin/cat", "/proc/self/limits"]);
    // SAFETY: setrlimit only, between fork and exec.
    unsafe {
        c.pre_exec(|| {
            for (res, soft) in [(libc::RLIMIT_NOFILE, 64), (libc::RLIMIT_STACK, 1 << 20)] {
                let mut l = libc::rlimit {
                    rlim_cur: 0,
                    rlim_max: 0,
                };
                libc::getrlimit(res, &mut l);
                l.rlim_cur = soft;
                libc::setrlimit(res, &l);
            }
            Ok(())
        });
    }
    let out = c.output().unwrap();
    let inside = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{inside}");
    for name in ["Max open files", "Max stack size", "Max locked memory"] {
        assert_eq!(
            limit_line(&inside, name),
            limit_line(&zsched, name),
            "{name}"
        );
    }
    assert_eq!(memlock_line(&inside), ("1048576".into(), "1048576".into()));
}

#[test]
fn zlogin_and_jexec_processes_are_held_by_max_processes_and_max_locked_memory_0() {
    let w = tools::World::jail(
        "zlimits",
        &["zone.max-processes=20", "zone.max-locked-memory=0"],
    );
    for tool in ["zlogin", "jexec"] {
        let o = w.run(tool, &[&w.name, "/bin/sh", "-c", "ulimit -l"], &[]);
        assert_eq!((o.code, o.out.as_str()), (0, "0\n"), "{tool}: {o:?}");
        let o = w.run(tool, &[&w.name, "/zprobe", "mlock", "1"], &[]);
        assert_eq!(o.code, 1, "{tool}: mlock under a limit of 0: {o:?}");
    }
    let o = w.run("zlogin", &[&w.name, "/zprobe", "forkbomb", "100"], &[]);
    assert_eq!(o.code, 1, "all 100 forks succeeded: {o:?}");
    let forked: u32 = o
        .out
        .trim()
        .strip_prefix("forked ")
        .unwrap_or_else(|| panic!("{o:?}"))
        .parse()
        .unwrap();
    // zsched and the probe hold 2 of the 20 (no init: a persistent jail).
    assert!((10..=18).contains(&forked), "forked {forked}");
    let events = w
        .zone_cgroups()
        .iter()
        .map(|d| d.join("pids.events"))
        .find(|f| f.exists())
        .map(|f| std::fs::read_to_string(f).unwrap())
        .expect("the zone's pids cgroup");
    let refused: u64 = events
        .lines()
        .find_map(|l| l.strip_prefix("max "))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(refused >= 1, "pids.events: {events}");
}
