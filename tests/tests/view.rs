//! Issue 16, end to end, as root: what a process inside a real zone reads
//! of its own load, uptime, memory and CPUs (view.md), and that nothing
//! new reaches the host through it.
//!
//! The tests that need no engine use [`TestZone`] (the runtime alone: the
//! files hold the launcher's first values — the caps, the CPUs, the
//! zone's clock); those about load averages and `kill -9` of zoned run a
//! private zoned ([`Host`]) as counters.rs does.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use zones::param::Value;
use zones::snapshot::{Snapshot, ZoneSnapshot};
use zones_e2e::{TestZone, bin, daemon_snapshot};

const MIB: u64 = 1 << 20;

fn num(s: &str) -> u64 {
    s.trim()
        .parse()
        .unwrap_or_else(|_| panic!("not a number: {s:?}"))
}

/// The value of `key` in a `/proc/meminfo` text, kB.
fn meminfo_kb(text: &str, key: &str) -> u64 {
    text.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k == key).then(|| num(v.trim().trim_end_matches(" kB")))
        })
        .unwrap_or_else(|| panic!("{key} in {text}"))
}

fn ok(z: &TestZone, line: &str) -> String {
    let out = z.sh(line);
    assert_eq!(out.status, 0, "{line}: {out:?}");
    out.stdout
}

/// The Mem: line of `free -b`: (total, used).
fn free_mem(text: &str) -> (u64, u64) {
    let l = text
        .lines()
        .find(|l| l.starts_with("Mem:"))
        .unwrap_or_else(|| panic!("free -b printed {text}"));
    let f: Vec<&str> = l.split_whitespace().collect();
    (num(f[1]), num(f[2]))
}

#[test]
fn memory_cap_cpus_and_clock_seen_inside_without_an_engine() {
    let mut z = TestZone::sparse("viewmem");
    z.set("capped-memory.physical", Value::Int(256 * MIB as i64));
    z.set("zone.max-swap", Value::Int(320 * MIB as i64));
    z.set("zone.cpu-cap", Value::Int(150));
    z.set("initname", Value::Str("/bin/sleep".into()))
        .set("bootargs", Value::Str("100000".into()));
    z.ready().unwrap();
    z.boot().unwrap();
    let booted = Instant::now();

    // free: the cap, and swap lines from zone.max-swap (320M − 256M).
    let free = ok(&z, "free -b");
    assert_eq!(free_mem(&free).0, 268_435_456, "{free}");
    let swap: Vec<&str> = free
        .lines()
        .find(|l| l.starts_with("Swap:"))
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(num(swap[1]), 64 * MIB, "{free}");
    assert_eq!(
        meminfo_kb(&ok(&z, "cat /proc/meminfo"), "MemTotal"),
        262_144
    );
    let swaps = ok(&z, "cat /proc/swaps");
    assert_eq!(swaps.lines().count(), 2, "{swaps}");

    // top and vmstat parse every file.
    let top = ok(&z, "top -bn1 | head -5");
    assert!(top.contains("256.0 total"), "{top}");
    assert!(top.contains("%Cpu(s):"), "{top}");
    let vmstat = ok(&z, "vmstat 1 2");
    assert_eq!(vmstat.lines().count(), 4, "{vmstat}");
    ok(&z, "uptime && w >/dev/null");

    // cpu-cap 150: two CPUs in cpuinfo and cpu/online.
    let cpuinfo = ok(&z, "grep -c ^processor /proc/cpuinfo");
    assert_eq!(num(&cpuinfo), 2);
    assert_eq!(ok(&z, "cat /sys/devices/system/cpu/online").trim(), "0-1");

    // The zone's clock: /proc/uptime and CLOCK_BOOTTIME are the zone's age.
    let up = ok(&z, "cat /proc/uptime");
    let up: f64 = up.split_whitespace().next().unwrap().parse().unwrap();
    let age = booted.elapsed().as_secs_f64();
    assert!(up <= age + 1.5, "uptime {up} for a zone {age:.2} s old");
    let host_up: f64 = std::fs::read_to_string("/proc/uptime")
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(host_up > age + 10.0, "the host is older than the zone");

    // ps -o lstart of zsched (pid 1) and of init, inside and outside.
    let h = z.handle();
    for host_pid in [h.zsched_pid, h.init_pid] {
        let status = std::fs::read_to_string(format!("/proc/{host_pid}/status")).unwrap();
        let ns_pid = status
            .lines()
            .find_map(|l| l.strip_prefix("NSpid:"))
            .and_then(|v| v.split_whitespace().last())
            .unwrap()
            .to_string();
        let inside = ok(&z, &format!("ps -o lstart= -p {ns_pid}"));
        let outside = Command::new("ps")
            .args(["-o", "lstart=", "-p", &host_pid.to_string()])
            .output()
            .unwrap();
        let outside = String::from_utf8_lossy(&outside.stdout);
        assert!(!inside.trim().is_empty());
        assert_eq!(
            inside.trim(),
            outside.trim(),
            "pid {host_pid} (in the zone {ns_pid})"
        );
    }
}

/// A private zoned with its own state, socket, jail.conf and relative
/// cgroup root; the guard kills zoned and halts the zones (through the
/// embedded engine of zoneadm) even when the test fails.
struct Host {
    dir: tempfile::TempDir,
    cgroup_root: String,
    zoned: Option<Child>,
    zones: Vec<String>,
}

impl Host {
    fn new(tag: &str, zones: &[(&str, &str)]) -> Host {
        zones_e2e::require_root();
        let dir = tempfile::Builder::new()
            .prefix(&format!("view-{tag}-"))
            .tempdir()
            .unwrap();
        let mut conf = String::new();
        for (z, extra) in zones {
            conf.push_str(&format!(
                "{z} {{\n  path = \"{}/roots/{z}\";\n  brand = sparse;\n  initname = \"/bin/sleep\";\n  bootargs = \"100000\";\n{extra}}}\n",
                dir.path().display()
            ));
        }
        std::fs::write(dir.path().join("jail.conf"), conf).unwrap();
        let cgroup_root = format!(
            "zones-test-{tag}-{}",
            dir.path().file_name().unwrap().to_string_lossy()
        );
        let mut host = Host {
            dir,
            cgroup_root,
            zoned: None,
            zones: zones.iter().map(|z| z.0.to_string()).collect(),
        };
        host.start_zoned();
        for z in host.zones.clone() {
            host.tool_ok("zoneadm", &["-z", &z, "install"]);
            host.tool_ok("zoneadm", &["-z", &z, "boot"]);
            let root = host.dir.path().join("roots").join(&z);
            zones_e2e::copy_exe(bin("zprobe"), root.join("zprobe"));
        }
        host
    }

    fn start_zoned(&mut self) {
        let _ = std::fs::remove_file(self.socket());
        let mut c = Command::new(bin("zoned"));
        self.env(&mut c);
        c.stdout(Stdio::null()).stderr(Stdio::null());
        self.zoned = Some(c.spawn().unwrap());
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::os::unix::net::UnixStream::connect(self.socket()).is_err() {
            assert!(Instant::now() < deadline, "zoned does not answer");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn kill_zoned(&mut self) {
        if let Some(mut d) = self.zoned.take() {
            let _ = d.kill(); // SIGKILL
            let _ = d.wait();
        }
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("zoned.sock")
    }

    fn env(&self, c: &mut Command) {
        c.env("ZONES_STATE_DIR", self.dir.path().join("state"))
            .env("ZONED_SOCKET", self.socket())
            .env("ZONES_CGROUP_ROOT", &self.cgroup_root)
            .env("ZONES_CONFIG", self.dir.path().join("jail.conf"))
            .env("ZONES_ZSCHED", bin("zsched"));
    }

    fn tool_ok(&self, tool: &str, args: &[&str]) -> String {
        let mut c = Command::new(bin(tool));
        self.env(&mut c);
        let out = c.args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{tool} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// A shell line in a zone (zlogin), its output.
    fn sh(&self, zone: &str, line: &str) -> String {
        self.tool_ok("zlogin", &[zone, "/bin/sh", "-c", line])
    }

    /// A shell line in a zone, running on (stdout kept for `wait`).
    fn spawn(&self, zone: &str, line: &str) -> Child {
        let mut c = Command::new(bin("zlogin"));
        self.env(&mut c);
        c.args([zone, "/bin/sh", "-c", line])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap()
    }

    fn snapshot(&self) -> Arc<Snapshot> {
        daemon_snapshot(&self.socket())
    }

    fn zone(&self, name: &str) -> ZoneSnapshot {
        (**self.snapshot().zone_by_name(name).unwrap()).clone()
    }

    /// Wait for the next tick: the first snapshot whose hrtime moved.
    fn next_tick(&self) -> Arc<Snapshot> {
        let first = self.snapshot().hrtime;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let s = self.snapshot();
            if s.hrtime != first {
                return s;
            }
            assert!(Instant::now() < deadline, "no tick for 10 s");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        self.kill_zoned();
        for z in self.zones.clone() {
            let mut c = Command::new(bin("zoneadm"));
            self.env(&mut c);
            let _ = c.args(["-z", &z, "halt"]).output();
        }
        // What a halt could not end (zoned is gone, by design the zones
        // outlive it): killed through this host's own cgroups, which are
        // then removed.
        let dirs = zones_e2e::cgroup_dirs(&self.cgroup_root);
        let _ = zones_linux::runtime::linux::cgroup::remove(&dirs);
    }
}

fn collect(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
    out.push(dir.to_path_buf());
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            collect(&e.path(), out);
        }
    }
}

/// The first field of a /proc/loadavg text.
fn load1(text: &str) -> f64 {
    text.split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("a load average: {text:?}"))
}

/// Reads /proc/loadavg and /proc/meminfo (open, read, close) in a loop for
/// SECONDS; prints the reads, the failed ones and the slowest in µs.
const READER: &str = r#"
import sys, time
end = time.monotonic() + float(sys.argv[1])
n = fails = 0
worst = 0.0
print("ready", flush=True)
while time.monotonic() < end:
    for p in ("/proc/loadavg", "/proc/meminfo"):
        t = time.monotonic()
        try:
            with open(p) as f:
                if not f.read():
                    fails += 1
        except OSError:
            fails += 1
        worst = max(worst, time.monotonic() - t)
        n += 1
    time.sleep(0.002)
print(n, fails, int(worst * 1e6), flush=True)
"#;

#[test]
fn loadavg_uptime_and_memory_from_the_engine_and_across_kill_9_of_zoned() {
    let mut host = Host::new(
        "load",
        &[
            ("vbusy", "  zone.cpu-cap = 300;\n"),
            ("vidle", ""),
            (
                "vmem",
                "  capped-memory.physical = 256M;\n  zone.max-swap = 320M;\n",
            ),
        ],
    );
    let booted = Instant::now();
    let busy = host.spawn(
        "vbusy",
        "/zprobe spin 100 & /zprobe spin 100 & echo ready; wait",
    );

    // /proc/uptime inside: the zone's age ± 1 s (from an engine's tick).
    host.next_tick();
    let up = host.sh("vidle", "cat /proc/uptime");
    let up: f64 = up.split_whitespace().next().unwrap().parse().unwrap();
    let age = booted.elapsed().as_secs_f64();
    assert!(
        up <= age + 1.0 && up > 0.0,
        "uptime {up}, zone age ≥ {age:.2}"
    );

    // free -b under a 256M cap, then with 100 MiB more in use.
    let (total, used0) = free_mem(&host.sh("vmem", "free -b"));
    assert_eq!(total, 268_435_456);
    let mut hog = host.spawn(
        "vmem",
        "/usr/bin/python3 -c 'import time; b = b\"x\" * (100 << 20); print(\"ready\", flush=True); time.sleep(120)'",
    );
    {
        use std::io::BufRead;
        let mut line = String::new();
        std::io::BufReader::new(hog.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready");
    }
    host.next_tick();
    host.next_tick();
    let (_, used1) = free_mem(&host.sh("vmem", "free -b"));
    let grown = used1 as f64 - used0 as f64;
    let want = (100 * MIB) as f64;
    assert!(
        (grown - want).abs() <= want * 0.1,
        "used grew by {grown} bytes, not 100 MiB ± 10 % ({used0} → {used1})"
    );
    // zlogin's end does not end what it started in the zone: the hog is
    // killed in the zone too (else it holds this test's stderr open).
    let _ = host.sh("vmem", "pkill -f 'time[.]sleep' || true");
    let _ = hog.kill();
    let _ = hog.wait();

    // After 60 s of two busy threads: the zone's load inside is kstat's
    // avenrun_1min / 256 of the same tick; the host's differs; the idle
    // zone shows about 0.
    while booted.elapsed() < Duration::from_secs(62) {
        std::thread::sleep(Duration::from_millis(500));
    }
    let (id_busy, id_idle) = (host.zone("vbusy").id.0, host.zone("vidle").id.0);
    let mut checked = false;
    for _ in 0..10 {
        let s1 = host.next_tick();
        let kstat = host.tool_ok(
            "kstat",
            &["-p", &format!("zones:{id_busy}:vbusy:avenrun_1min")],
        );
        let inside = host.sh("vbusy", "cat /proc/loadavg; uptime");
        let idle = host.sh("vidle", "cat /proc/loadavg");
        let hosts = std::fs::read_to_string("/proc/loadavg").unwrap();
        let s2 = host.snapshot();
        if s1.hrtime != s2.hrtime {
            continue; // a tick in between: try the next one
        }
        let av: u64 = num(kstat.split('\t').nth(1).unwrap());
        let snap = s1.zone_by_name("vbusy").unwrap().kstat.avenrun[0] as u64;
        assert_eq!(av, snap, "kstat and the snapshot of one tick");
        let got = load1(&inside);
        assert!(
            (got - av as f64 / 256.0).abs() <= 0.01,
            "inside {got}, kstat {av}/256 (at one tick)\n{inside}"
        );
        let up_line = inside.lines().nth(1).unwrap();
        assert!(
            up_line.contains(&format!("load average: {got:.2}")),
            "uptime shows the zone's load: {up_line}"
        );
        assert!(got > 0.5, "two busy threads for 60 s: {got}");
        assert_ne!(
            hosts.split_whitespace().next(),
            inside.split_whitespace().next(),
            "the host's load is not the zone's"
        );
        let idle_now = s1.zone_by_name("vidle").unwrap().kstat.avenrun[0];
        assert!(
            load1(&idle) <= 0.05,
            "idle zone (id {id_idle}): {idle} ({idle_now})"
        );
        checked = true;
        break;
    }
    assert!(checked, "no quiet tick in 10 tries");

    // kill -9 of zoned while a reader loops inside: no read fails, none
    // takes 100 ms; a new zoned moves the load averages again.
    std::fs::write(host.dir.path().join("roots/vbusy/reader.py"), READER).unwrap();
    let mut reader = host.spawn("vbusy", "/usr/bin/python3 /reader.py 9");
    let mut out = std::io::BufReader::new(reader.stdout.take().unwrap());
    {
        use std::io::BufRead;
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "ready");
    }
    std::thread::sleep(Duration::from_secs(2));
    host.kill_zoned();
    let frozen = host.sh("vbusy", "cat /proc/loadavg");
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        host.sh("vbusy", "cat /proc/loadavg"),
        frozen,
        "no engine, no new values"
    );
    host.start_zoned();
    let mut last = String::new();
    {
        use std::io::Read;
        out.read_to_string(&mut last).unwrap();
    }
    let _ = reader.wait();
    let f: Vec<u64> = last.split_whitespace().map(num).collect();
    assert_eq!(f.len(), 3, "reader printed {last:?}");
    let (reads, fails, worst_us) = (f[0], f[1], f[2]);
    assert!(reads > 100, "{reads} reads");
    assert_eq!(fails, 0, "{fails} of {reads} reads failed");
    assert!(worst_us < 100_000, "slowest read {worst_us} µs");
    host.next_tick();
    host.next_tick();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = host.sh("vbusy", "cat /proc/loadavg");
        if now
            .split_whitespace()
            .take(3)
            .ne(frozen.split_whitespace().take(3))
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "load averages frozen after zoned restarted: {now}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    drop(busy);
}

/// A zone's visible CPUs as `nproc`, /proc/stat, /proc/cpuinfo and
/// cpu/online show them: (nproc, cpuN lines of stat, processors of
/// cpuinfo, online).
fn cpus_seen(z: &TestZone) -> (u64, u64, u64, String) {
    (
        num(&ok(z, "nproc")),
        num(&ok(z, "grep -c '^cpu[0-9]' /proc/stat")),
        num(&ok(z, "grep -c ^processor /proc/cpuinfo")),
        ok(z, "cat /sys/devices/system/cpu/online")
            .trim()
            .to_string(),
    )
}

/// The cgroup roots of zones in the cpuset hierarchy (which TestZone's
/// guard does not know), removed when dropped — after the zones, which
/// are declared later.
#[derive(Default)]
struct CpusetRoots(Vec<PathBuf>);

impl Drop for CpusetRoots {
    fn drop(&mut self) {
        for root in &self.0 {
            for d in zones_e2e::cgroup_dirs(&root.to_string_lossy()) {
                let mut all = vec![];
                collect(&d, &mut all);
                all.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
                for p in all {
                    let _ = std::fs::remove_dir(&p);
                }
            }
        }
    }
}

#[test]
fn dedicated_cpu_and_cpuset_agree_everywhere_and_run_out() {
    let mut roots = CpusetRoots::default();
    let mut a = TestZone::sparse("viewded");
    roots.0.push(a.cgroup_root.clone());
    a.set("dedicated-cpu.ncpus", Value::Int(1));
    a.set("initname", Value::Str("/bin/sleep".into()))
        .set("bootargs", Value::Str("100000".into()));
    a.ready().unwrap();
    a.boot().unwrap();
    let (nproc, stat, cpuinfo, online) = cpus_seen(&a);
    assert_eq!((nproc, stat, cpuinfo), (1, 1, 1), "online {online}");
    assert_eq!(online, "0");
    let lscpu = ok(&a, "lscpu");
    let field = |name: &str| {
        lscpu
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(str::trim)
            .unwrap_or_else(|| panic!("{name} in {lscpu}"))
            .to_string()
    };
    assert_eq!(field("CPU(s):"), "1", "{lscpu}");
    assert_eq!(field("On-line CPU(s) list:"), "0", "{lscpu}");
    assert!(!lscpu.contains("Off-line"), "{lscpu}");
    // sched_getaffinity of a process entered later agrees too.
    assert_eq!(
        ok(&a, "grep Cpus_allowed_list /proc/self/status")
            .split_whitespace()
            .last(),
        Some("0")
    );

    // A second dedicated zone of the same runtime gets the other CPU; a
    // third finds none left and is refused, naming the holders.
    let run = a.tmp.path().join("run");
    let mut b = TestZone::sparse("viewded");
    roots.0.push(b.cgroup_root.clone());
    b.rt = zones_linux::runtime::linux::LinuxRuntime::new(&run, &b.cgroup_root)
        .with_zsched(bin("zones-zsched"));
    b.set("dedicated-cpu.ncpus", Value::Int(1));
    b.set("initname", Value::Str("/bin/sleep".into()))
        .set("bootargs", Value::Str("100000".into()));
    b.ready().unwrap();
    b.boot().unwrap();
    assert_eq!(ok(&b, "cat /sys/devices/system/cpu/online").trim(), "1");
    assert_eq!(num(&ok(&b, "nproc")), 1);
    let mut c = TestZone::sparse("viewded");
    roots.0.push(c.cgroup_root.clone());
    c.rt = zones_linux::runtime::linux::LinuxRuntime::new(&run, &c.cgroup_root)
        .with_zsched(bin("zones-zsched"));
    c.set("dedicated-cpu.ncpus", Value::Int(1));
    let e = c.ready().map(|_| ()).unwrap_err();
    assert!(
        e.message.contains(a.spec.name.as_str()) && e.message.contains(b.spec.name.as_str()),
        "{e}"
    );
    c.handle = None;

    // zone.cpuset names the CPUs outright.
    let mut d = TestZone::sparse("viewset");
    roots.0.push(d.cgroup_root.clone());
    d.set("zone.cpuset", Value::Str("1".into()));
    d.set("initname", Value::Str("/bin/sleep".into()))
        .set("bootargs", Value::Str("100000".into()));
    d.ready().unwrap();
    d.boot().unwrap();
    assert_eq!(cpus_seen(&d), (1, 1, 1, "1".to_string()));
}

#[test]
fn the_zone_cannot_write_remount_unmount_or_reach_its_view_files() {
    let mut z = TestZone::sparse("viewsec");
    view_holds(&mut z, false);
}

/// The same in a zone with allow.mount (CAP_SYS_ADMIN over its own user
/// namespace, security.md): the view's files are mounts the host made, so
/// they are locked — no remount read-write, no unmount to uncover the
/// host's files. (Mounting something *over* them stays its right: that
/// changes only what the zone itself sees, so that attempt is left out.)
#[test]
fn a_zone_with_allow_mount_cannot_remount_or_unmount_its_view_files() {
    let mut z = TestZone::sparse("viewsecm");
    z.set("allow.mount", Value::Bool(true));
    view_holds(&mut z, true);
}

fn view_holds(z: &mut TestZone, mount_zone: bool) {
    z.set("capped-memory.physical", Value::Int(256 * MIB as i64));
    z.set("initname", Value::Str("/bin/sleep".into()))
        .set("bootargs", Value::Str("100000".into()));
    z.ready().unwrap();
    z.boot().unwrap();
    let view = z.handle().control.with_extension("view");
    let meta = std::fs::metadata(&view).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777,
        0o700
    );
    let served = std::fs::read_to_string(view.join("meminfo")).unwrap();
    assert_eq!(ok(z, "cat /proc/meminfo"), served);
    let files = [
        "/proc/loadavg",
        "/proc/uptime",
        "/proc/stat",
        "/proc/meminfo",
        "/proc/swaps",
        "/proc/cpuinfo",
        "/proc/diskstats",
        "/sys/devices/system/cpu/online",
        "/sys/devices/system/cpu/present",
    ];
    for f in files {
        for attempt in [
            format!("echo 9 > {f}"),
            format!("echo 9 >> {f}"),
            format!("mount -o remount,bind,rw {f}"),
            format!("umount {f}"),
            format!("umount -l {f}"),
        ]
        .into_iter()
        .chain((!mount_zone).then(|| format!("mount --bind /etc/hostname {f}")))
        {
            let out = z.sh(&format!("{attempt} 2>/dev/null"));
            assert_ne!(out.status, 0, "{attempt} succeeded in the zone");
        }
    }
    // Nothing changed: the zone still reads the served text.
    assert_eq!(ok(z, "cat /proc/meminfo"), served);
    assert_eq!(
        std::fs::read_to_string(view.join("meminfo")).unwrap(),
        served,
        "the host's file is untouched"
    );
    // mountinfo names the host's directory; the zone cannot reach it.
    let mi = ok(z, "cat /proc/self/mountinfo");
    let line = mi
        .lines()
        .find(|l| l.split(' ').nth(4) == Some("/proc/meminfo"))
        .unwrap_or_else(|| panic!("/proc/meminfo is a mount: {mi}"));
    // Each file's bind copies the flags of the read-only directory
    // mount it is made from (view::bind): all four must be there.
    let opts: Vec<&str> = line.split(' ').nth(5).unwrap().split(',').collect();
    for o in ["ro", "nosuid", "nodev", "noexec"] {
        assert!(opts.contains(&o), "{o} missing: {line}");
    }
    let host_path = line.split(' ').nth(3).unwrap();
    assert!(host_path.ends_with(".view/meminfo"), "{line}");
    let out = z.sh(&format!("cat {host_path} || ls {}", view.display()));
    assert_ne!(out.status, 0, "the zone reached {host_path}: {out:?}");
    // No process of the zone holds a descriptor of the view directory.
    let fds = ok(z, "ls -l /proc/[0-9]*/fd/ 2>/dev/null || true");
    assert!(!fds.contains(".view"), "{fds}");
}
