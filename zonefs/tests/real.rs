//! zonefs end to end with real zones, as root: zones booted by zoneadm
//! through `zoned --zonefs MNT` (or the standalone `zonefs` program
//! following zoned), read with cat, head, bash `read` and Python, and
//! compared with `kstat -p` and `zoneadm list -p` in the same tick.
//!
//! Every test has its own state directory, socket, configuration, zone
//! roots and relative cgroup root; a guard kills its daemons, unmounts its
//! mounts, halts its zones and removes its cgroups even when the test
//! fails. The binaries are the workspace's (`cargo build --workspace`).
//!
//! `load_32_readers_while_zones_come_and_go` is ignored (60 s):
//! `cargo test -p zonefs --test real -- --ignored --nocapture load`
//! (`ZONEFS_LOAD_SECS` shortens it).

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ZONEFS: &str = env!("CARGO_BIN_EXE_zonefs");

/// A workspace binary, beside this test's own directory.
fn bin(name: &str) -> PathBuf {
    if name == "zonefs" {
        return PathBuf::from(ZONEFS);
    }
    zones_e2e::bin(name)
}

fn wait_for(what: &str, secs: u64, mut cond: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !cond() {
        assert!(
            t0.elapsed() < Duration::from_secs(secs),
            "timed out: {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn errno(r: std::io::Result<impl Sized>) -> Option<i32> {
    r.err().and_then(|e| e.raw_os_error())
}

/// A private host (zones-e2e's [`zones_e2e::Host`]: state directory,
/// socket, jail.conf of sleeping sparse zones halted on drop, relative
/// cgroup root) with the zoned and zonefs processes and the mount points
/// of this test, killed and unmounted first when dropped.
struct Host {
    base: zones_e2e::Host,
    children: Vec<Child>,
    mounts: Vec<PathBuf>,
}

impl std::ops::Deref for Host {
    type Target = zones_e2e::Host;
    fn deref(&self) -> &zones_e2e::Host {
        &self.base
    }
}

impl Host {
    fn new(tag: &str, zones: &[&str]) -> Host {
        let mut base = zones_e2e::Host::new(&format!("zonefs-{tag}"));
        let conf: Vec<(&str, &str)> = zones.iter().map(|z| (*z, "")).collect();
        base.configure_sleepers(&conf);
        Host {
            base,
            children: Vec::new(),
            mounts: Vec::new(),
        }
    }

    /// A fresh empty mount point.
    fn mountpoint(&mut self, name: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::create_dir(&p).unwrap();
        self.mounts.push(p.clone());
        p
    }

    fn cmd(&self, name: &str) -> Command {
        let mut c = Command::new(bin(name));
        self.env(&mut c);
        c
    }

    fn run(&self, name: &str, args: &[&str]) -> String {
        let out = self.cmd(name).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{name} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn boot(&self, z: &str) {
        self.run("zoneadm", &["-z", z, "install"]);
        self.run("zoneadm", &["-z", z, "boot"]);
    }

    /// zoned, serving /zones at `zonefs` when given; returns its index.
    fn start_zoned(&mut self, zonefs: Option<&Path>) -> usize {
        let mut c = self.cmd("zoned");
        if let Some(mp) = zonefs {
            c.arg("--zonefs").arg(mp);
        }
        c.stdout(Stdio::null()).stderr(Stdio::null());
        self.children.push(c.spawn().unwrap());
        let sock = self.socket();
        wait_for("zoned answers", 20, || {
            std::os::unix::net::UnixStream::connect(&sock).is_ok()
        });
        if let Some(mp) = zonefs {
            wait_for("the mount", 10, || mp.join("global/status").exists());
        }
        self.children.len() - 1
    }

    /// The standalone zonefs program; returns its index.
    fn start_zonefs(&mut self, mp: &Path) -> usize {
        let mut c = self.cmd("zonefs");
        c.arg(mp).stdout(Stdio::null()).stderr(Stdio::null());
        self.children.push(c.spawn().unwrap());
        wait_for("the mount", 20, || mp.join("global/status").exists());
        self.children.len() - 1
    }

    fn kill9(&mut self, i: usize) {
        let _ = self.children[i].kill();
        let _ = self.children[i].wait();
    }

    fn pid(&self, i: usize) -> u32 {
        self.children[i].id()
    }
}

impl Drop for Host {
    /// The processes and mounts first; `base` then halts the zones and
    /// removes the cgroups.
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        for m in &self.mounts {
            let _ = nix::mount::umount2(m, nix::mount::MntFlags::MNT_DETACH);
        }
    }
}

/// Every regular file under `dir`, not following symbolic links.
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let t = e.file_type().unwrap();
        if t.is_dir() {
            files(&e.path(), out);
        } else if t.is_file() {
            out.push(e.path());
        }
    }
}

fn output(c: &mut Command) -> Vec<u8> {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{c:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The file read by cat, head -c1, bash `read` and Python, with
/// std::fs::read before and after: retried until a tick boundary does not
/// separate the reads. Returns the bytes. Files that change every tick
/// (the tree's `.json`) need a window of one second for five programs to
/// start: on a loaded machine most tries miss it, hence many tries.
fn read_every_way(p: &Path) -> Vec<u8> {
    for _ in 0..60 {
        let before = std::fs::read(p).unwrap();
        let cat = output(Command::new("cat").arg(p));
        let head = output(Command::new("head").arg("-c1").arg(p));
        let read = output(
            Command::new("bash")
                .arg("-c")
                .arg(r#"IFS= read -r -d '' v < "$1"; printf '%s' "$v""#)
                .arg("bash")
                .arg(p),
        );
        let py = output(
            Command::new("python3")
                .arg("-c")
                .arg("import sys; sys.stdout.write(open(sys.argv[1]).read())")
                .arg(p),
        );
        let after = std::fs::read(p).unwrap();
        if before != after {
            continue; // a tick between: again
        }
        assert_eq!(cat, before, "cat {}", p.display());
        assert_eq!(read, before, "bash read {}", p.display());
        assert_eq!(py, before, "python {}", p.display());
        assert_eq!(
            head,
            before[..before.len().min(1)],
            "head -c1 {}",
            p.display()
        );
        assert_eq!(
            std::fs::metadata(p).unwrap().len(),
            before.len() as u64,
            "st_size of {}",
            p.display()
        );
        assert!(
            before.is_empty() || before.ends_with(b"\n"),
            "{} ends with a newline",
            p.display()
        );
        return before;
    }
    panic!("{}: every read saw a different tick", p.display());
}

/// `kstat -p ARGS` and `f` read in the same tick: retried until `f` read
/// before and after the command is the same and equals it.
fn same_tick_as_kstat(h: &Host, f: &Path, args: &[&str]) -> String {
    let mut last = (String::new(), String::new());
    for _ in 0..20 {
        let before = std::fs::read_to_string(f).unwrap();
        let k = h.run("kstat", &[&["-p"], args].concat());
        let after = std::fs::read_to_string(f).unwrap();
        if before == after && before == k {
            return k;
        }
        last = (before, k);
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!(
        "{} never equals kstat -p {args:?}:\n{}\n---\n{}",
        f.display(),
        last.0,
        last.1
    );
}

fn zone_id(mnt: &Path, z: &str) -> u32 {
    std::fs::read_to_string(mnt.join(z).join("id"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

fn ppid(pid: u32) -> u32 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    s.lines()
        .find_map(|l| l.strip_prefix("PPid:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn every_path_of_a_real_zone_reads_alike_and_equals_the_engine() {
    let mut h = Host::new("zfs-paths", &["zfp1"]);
    let mnt = h.mountpoint("mnt");
    h.start_zoned(Some(&mnt));
    h.boot("zfp1");
    wait_for("zfp1 running in /zones", 20, || {
        std::fs::read_to_string(mnt.join("zfp1/status")).is_ok_and(|s| s == "running\n")
    });
    // Wait until the sampler has seen it (its init counted in nprocs).
    wait_for("zfp1 sampled", 20, || {
        std::fs::read_to_string(mnt.join("zfp1/kstat/nprocs/usage"))
            .is_ok_and(|s| s.trim().parse::<u64>().unwrap_or(0) >= 1)
    });

    let mut all = Vec::new();
    files(&mnt, &mut all);
    all.sort();
    let per_zone = |z: &str| all.iter().filter(|p| p.starts_with(mnt.join(z))).count();
    assert!(per_zone("global") >= 45, "{all:?}");
    assert!(per_zone("zfp1") >= 45, "{all:?}");
    let mut bytes = BTreeMap::new();
    for p in &all {
        bytes.insert(p.clone(), read_every_way(p));
    }
    let text = |rel: &str| String::from_utf8(bytes[&mnt.join(rel)].clone()).unwrap();

    // The engine's values: zoneadm list -p, in the same tick as the tree.
    let id = zone_id(&mnt, "zfp1");
    let listed = h.run("zoneadm", &["list", "-p"]);
    let mut seen = 0;
    for l in listed.lines() {
        let f: Vec<&str> = l.split(':').collect();
        let z = f[1];
        assert_eq!(text(&format!("{z}/id")), format!("{}\n", f[0]), "{l}");
        assert_eq!(text(&format!("{z}/name")), format!("{z}\n"));
        assert_eq!(text(&format!("{z}/status")), format!("{}\n", f[2]), "{l}");
        if z != "global" {
            assert_eq!(text(&format!("{z}/root")), format!("{}\n", f[3]), "{l}");
            assert_eq!(text(&format!("{z}/brand")), format!("{}\n", f[5]), "{l}");
        }
        seen += 1;
    }
    assert_eq!(seen, 2, "{listed}");
    assert_eq!(read_every_way(&mnt.join(".by-id/0/name")), b"global\n");
    assert_eq!(
        read_every_way(&mnt.join(format!(".by-id/{id}/name"))),
        b"zfp1\n"
    );
    assert_eq!(
        std::fs::read_link(mnt.join(format!(".by-id/{id}"))).unwrap(),
        Path::new("../zfp1")
    );
    let init: u32 = text("zfp1/init_pid").trim().parse().unwrap();
    assert!(text("zfp1/procs").lines().any(|p| p == init.to_string()));

    // kstat -p and the tree, byte for byte, in the same tick.
    same_tick_as_kstat(&h, &mnt.join(".kstat"), &[]);
    let iid = id.to_string();
    same_tick_as_kstat(&h, &mnt.join("zfp1/kstat/all"), &["-i", &iid]);
    same_tick_as_kstat(&h, &mnt.join("global/kstat/all"), &["-i", "0"]);
    // Each one-statistic file is its kstat -p line's value.
    for (file, stat) in [
        (
            "kstat/nprocs/usage",
            format!("caps:{id}:nprocs_zone_{id}:usage"),
        ),
        (
            "kstat/nprocs/value",
            format!("caps:{id}:nprocs_zone_{id}:value"),
        ),
        (
            "kstat/swapresv/value",
            format!("caps:{id}:swapresv_zone_{id}:value"),
        ),
        (
            "kstat/zone_misc/init_pid",
            format!("zones:{id}:zfp1:init_pid"),
        ),
        (
            "kstat/zone_misc/boot_time",
            format!("zones:{id}:zfp1:boot_time"),
        ),
        (
            "kstat/zone_misc/zonename",
            format!("zones:{id}:zfp1:zonename"),
        ),
        (
            "kstat/zone_misc/avenrun_1min",
            format!("zones:{id}:zfp1:avenrun_1min"),
        ),
    ] {
        let f = mnt.join("zfp1").join(file);
        let mut ok = false;
        for _ in 0..20 {
            let before = std::fs::read_to_string(&f).unwrap();
            let k = h.run("kstat", &["-p", &stat]);
            let after = std::fs::read_to_string(&f).unwrap();
            let v = k.trim_end().split('\t').nth(1).unwrap_or("").to_string() + "\n";
            if before == after && before == v {
                ok = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(ok, "{file} never equals kstat -p {stat}");
    }
    let json: serde_json::Value = serde_json::from_str(&text("zfp1/json")).unwrap();
    assert_eq!(json["name"], "zfp1");
    assert_eq!(json["init_pid"], init);
    let all_json: serde_json::Value = serde_json::from_str(&text(".json")).unwrap();
    assert_eq!(all_json.as_array().unwrap().len(), 2);

    // Read-only: every change is EROFS.
    let f = mnt.join("zfp1/status");
    let erofs = Some(libc::EROFS);
    assert_eq!(
        errno(std::fs::OpenOptions::new().write(true).open(&f)),
        erofs
    );
    assert_eq!(errno(std::fs::write(mnt.join("zfp1/new"), b"x")), erofs);
    assert_eq!(errno(std::fs::create_dir(mnt.join("zfp1/d"))), erofs);
    assert_eq!(errno(std::fs::remove_file(&f)), erofs);
    assert_eq!(errno(std::fs::rename(&f, mnt.join("zfp1/s2"))), erofs);
    assert_eq!(
        errno(std::fs::set_permissions(
            &f,
            std::os::unix::fs::PermissionsExt::from_mode(0o644)
        )),
        erofs
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg("echo x > \"$1\"")
        .arg("bash")
        .arg(&f)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Read-only file system"));

    // Two readers of one file in the same tick read the same bytes.
    for rel in ["zfp1/kstat/all", "zfp1/loadavg", ".kstat", ".json"] {
        let p = mnt.join(rel);
        let mut same_tick = 0;
        for _ in 0..20 {
            let m0 = std::fs::metadata(&p).unwrap().modified().unwrap();
            let (mut a, mut b) = (
                std::fs::File::open(&p).unwrap(),
                std::fs::File::open(&p).unwrap(),
            );
            let (mut x, mut y) = (Vec::new(), Vec::new());
            let ta = std::thread::scope(|s| {
                let t = s.spawn(|| a.read_to_end(&mut x).unwrap());
                b.read_to_end(&mut y).unwrap();
                t.join().unwrap()
            });
            assert!(ta > 0);
            let m1 = std::fs::metadata(&p).unwrap().modified().unwrap();
            if m0 == m1 {
                assert_eq!(x, y, "{rel}: two readers in one tick");
                same_tick += 1;
            }
        }
        assert!(same_tick > 0, "{rel}: never two reads in one tick");
    }
}

#[test]
fn a_zone_comes_and_goes_and_an_open_file_keeps_its_bytes() {
    let mut h = Host::new("zfs-life", &["zfl1"]);
    let mnt = h.mountpoint("mnt");
    h.start_zoned(Some(&mnt));
    assert!(!mnt.join("zfl1").exists());
    h.boot("zfl1");
    wait_for("zfl1 appears", 20, || {
        names(&mnt).contains(&"zfl1".to_string())
    });
    wait_for("zfl1 sampled", 20, || {
        std::fs::read_to_string(mnt.join("zfl1/procs")).is_ok_and(|s| !s.is_empty())
    });
    let id = zone_id(&mnt, "zfl1");
    assert!(mnt.join(format!(".by-id/{id}")).exists());
    // Files held open across the destroy: a page-cache one and a direct one.
    let mut open = Vec::new();
    for rel in ["status", "name", "kstat/all", "json", "procs"] {
        let mut f = std::fs::File::open(mnt.join("zfl1").join(rel)).unwrap();
        let mut b = Vec::new();
        f.read_to_end(&mut b).unwrap();
        assert!(!b.is_empty(), "{rel}");
        open.push((rel, f, b));
    }
    let refs = |what: &str| -> u64 {
        std::fs::read_to_string(mnt.join("zfl1/refs").join(what))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    // Each open file holds zone_ref and MNTFS (the zone's own files count).
    // (refs are snapshot values: they show at the next tick.)
    wait_for("the holds show in refs/", 10, || {
        refs("subsys/MNTFS") >= open.len() as u64 && refs("zone_ref") >= open.len() as u64
    });

    // The halt waits for the holds (illumos: a zone with MNTFS holds stays
    // dying): meanwhile the zone shows `down` and the open files keep the
    // bytes of the tick they were opened in.
    let halt = h
        .cmd("zoneadm")
        .args(["-z", "zfl1", "halt"])
        .spawn()
        .unwrap();
    let mut halt = scopeguard(halt);
    // (Watched on a file none of them holds: a new open of a held file
    // would refill the shared page cache with the new tick's bytes.)
    wait_for("zfl1 dying", 30, || {
        std::fs::read_to_string(mnt.join("zfl1/kstatus")).is_ok_and(|s| s == "dying\n")
    });
    for (rel, f, b) in &open {
        let mut again = vec![0u8; b.len() + 16];
        let n = f.read_at(&mut again, 0).unwrap();
        assert_eq!(
            &again[..n],
            &b[..],
            "{rel} keeps its bytes while the zone dies"
        );
    }
    // Closing them releases the holds; the zone dies and its directory goes.
    drop(open);
    let st = halt.0.as_mut().unwrap().wait().unwrap();
    assert!(st.success(), "halt completes once the files are closed");
    // Gone from the listing, then from every path: a lookup the kernel
    // began before the tick that removed the zone may still answer once.
    wait_for("zfl1 is gone", 20, || {
        !names(&mnt).contains(&"zfl1".to_string())
    });
    wait_for("zfl1's paths answer ENOENT", 5, || {
        errno(std::fs::metadata(mnt.join("zfl1"))) == Some(libc::ENOENT)
            && errno(std::fs::read(mnt.join("zfl1/status"))) == Some(libc::ENOENT)
            && errno(std::fs::symlink_metadata(mnt.join(format!(".by-id/{id}"))))
                == Some(libc::ENOENT)
    });
    assert!(
        !std::fs::read_to_string(mnt.join(".kstat"))
            .unwrap()
            .contains(":zfl1:"),
        ".kstat forgets it"
    );
    // And it comes back under a new directory when booted again.
    h.run("zoneadm", &["-z", "zfl1", "boot"]);
    wait_for("zfl1 is back", 20, || {
        std::fs::read_to_string(mnt.join("zfl1/status")).is_ok_and(|s| s == "running\n")
    });
}

/// Kills a child still running when dropped.
struct KillOnDrop(Option<Child>);
impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(c) = &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
fn scopeguard(c: Child) -> KillOnDrop {
    KillOnDrop(Some(c))
}

/// A process in the zone's pid namespace (entered with nsenter -p, the
/// host's mount namespace kept so the mount is at the same path).
fn in_zone(zsched: u32, script: &str, args: &[&Path]) -> std::process::Output {
    Command::new("nsenter")
        .args([
            "-t",
            &zsched.to_string(),
            "-p",
            "--",
            "bash",
            "-c",
            script,
            "bash",
        ])
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn a_process_in_a_zone_sees_only_its_zone() {
    let mut h = Host::new("zfs-conf", &["zfc1", "zfc2"]);
    let mnt = h.mountpoint("mnt");
    h.start_zoned(Some(&mnt));
    h.boot("zfc1");
    h.boot("zfc2");
    wait_for("both zones", 20, || {
        let n = names(&mnt);
        n.contains(&"zfc1".into()) && n.contains(&"zfc2".into())
    });
    let init: u32 = std::fs::read_to_string(mnt.join("zfc1/init_pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let zsched = ppid(init);
    // It is in the zone's pid namespace, zsched's.
    let out = in_zone(zsched, "readlink /proc/self/ns/pid", &[]);
    let ns = std::fs::read_link(format!("/proc/{zsched}/ns/pid")).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        ns.to_str().unwrap()
    );
    let id = zone_id(&mnt, "zfc1");

    let out = in_zone(zsched, r#"ls -a "$1""#, &[&mnt]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        ".\n..\n.by-id\n.json\n.kstat\nzfc1\n"
    );
    let out = in_zone(zsched, r#"cat "$1/zfc1/status" "$1/zfc1/name""#, &[&mnt]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "running\nzfc1\n");
    for other in ["global/status", "zfc2/status", ".by-id/0"] {
        let out = in_zone(zsched, r#"cat "$1""#, &[&mnt.join(other)]);
        assert!(!out.status.success(), "{other} visible in zfc1");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("No such file or directory"),
            "{other}: {out:?}"
        );
    }
    let out = in_zone(zsched, r#"cat "$1/.kstat""#, &[&mnt]);
    let kstat = String::from_utf8(out.stdout).unwrap();
    assert!(!kstat.is_empty());
    for l in kstat.lines() {
        let inst = l.split(':').nth(1).unwrap();
        assert_eq!(inst, id.to_string(), "{l}");
    }
    let out = in_zone(zsched, r#"cat "$1/.json""#, &[&mnt]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let arr = json.as_array().unwrap();
    assert_eq!(arr.len(), 1);
    assert_eq!(arr[0]["name"], "zfc1");
    // The global zone still sees everything.
    let n = names(&mnt);
    for z in ["global", "zfc1", "zfc2"] {
        assert!(n.contains(&z.to_string()), "{n:?}");
    }
}

#[test]
fn standalone_zonefs_follows_zoned_through_kill_9_without_remounting() {
    let mut h = Host::new("zfs-follow", &["zff1", "zff2"]);
    let mnt = h.mountpoint("mnt");
    let zoned = h.start_zoned(None);
    let zonefs = h.start_zonefs(&mnt);
    h.boot("zff1");
    wait_for("zff1 in the standalone tree", 20, || {
        std::fs::read_to_string(mnt.join("zff1/status")).is_ok_and(|s| s == "running\n")
    });
    same_tick_as_kstat(&h, &mnt.join(".kstat"), &[]);
    let mount_id = |p: &Path| {
        let p = p.canonicalize().unwrap();
        std::fs::read_to_string("/proc/self/mountinfo")
            .unwrap()
            .lines()
            .filter(|l| l.split(' ').nth(4) == Some(p.to_str().unwrap()))
            .map(|l| l.split(' ').next().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let before = mount_id(&mnt);
    assert_eq!(before.len(), 1);

    h.kill9(zoned);
    // zonefs still answers (the last snapshot) while the engine is away.
    assert_eq!(
        std::fs::read_to_string(mnt.join("zff1/status")).unwrap(),
        "running\n"
    );
    h.start_zoned(None);
    h.boot("zff2");
    wait_for("zff2 appears after the restart", 30, || {
        std::fs::read_to_string(mnt.join("zff2/status")).is_ok_and(|s| s == "running\n")
    });
    assert_eq!(mount_id(&mnt), before, "the same mount, never remounted");
    assert!(
        std::fs::metadata(format!("/proc/{}", h.pid(zonefs))).is_ok(),
        "the same zonefs process"
    );
    for p in ["zff1/status", "zff2/kstat/all", ".kstat", "global/loadavg"] {
        read_every_way(&mnt.join(p));
    }
    same_tick_as_kstat(&h, &mnt.join(".kstat"), &[]);
}

/// (all fds, pidfds, the others not on /proc): the sampler keeps one
/// /proc/TID/schedstat open per host thread, so the first count follows the
/// host's threads; the engine keeps pidfds of zone processes it watches.
fn fd_count(pid: u32) -> (usize, usize, usize) {
    let (mut all, mut pidfd, mut other) = (0, 0, 0);
    for e in std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .flatten()
    {
        all += 1;
        match std::fs::read_link(e.path()) {
            Ok(t) if t.as_os_str() == "anon_inode:[pidfd]" => pidfd += 1,
            Ok(t) if !t.starts_with("/proc/") => other += 1,
            _ => {}
        }
    }
    (all, pidfd, other)
}

fn rss_kb(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
#[ignore = "60 s of load; run with --ignored"]
fn load_32_readers_while_zones_come_and_go() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    let secs: u64 = std::env::var("ZONEFS_LOAD_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let churn = ["zfld1", "zfld2", "zfld3", "zfld4"];
    let mut h = Host::new("zfs-load", &churn);
    let mnt = h.mountpoint("mnt");
    let zoned = h.start_zoned(Some(&mnt));
    let pid = h.pid(zoned);
    for z in churn {
        h.run("zoneadm", &["-z", z, "install"]);
    }
    // Warm up: one boot/halt so that lazily made state exists.
    h.run("zoneadm", &["-z", churn[0], "boot"]);
    h.run("zoneadm", &["-z", churn[0], "halt"]);
    std::thread::sleep(Duration::from_secs(2));
    let (fd0, rss0) = (fd_count(pid), rss_kb(pid));

    let stop = Arc::new(AtomicBool::new(false));
    // Readers stop before the Host guard halts the zones, even on a panic.
    struct Stop(Arc<AtomicBool>);
    impl Drop for Stop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    let _stop_guard = Stop(stop.clone());
    let reads = Arc::new(AtomicU64::new(0));
    let enoent = Arc::new(AtomicU64::new(0));
    let mut readers = Vec::new();
    for r in 0..32 {
        let (stop, reads, enoent, mnt) = (stop.clone(), reads.clone(), enoent.clone(), mnt.clone());
        readers.push(std::thread::spawn(move || {
            let rels = [
                "status",
                "kstat/nprocs/usage",
                "kstat/all",
                "loadavg",
                "json",
                "procs",
            ];
            let mut i = r;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let p = match i % 4 {
                    0 => mnt.join(".kstat"),
                    1 => mnt.join("global").join(rels[i % rels.len()]),
                    _ => mnt.join(churn[i % churn.len()]).join(rels[i % rels.len()]),
                };
                match std::fs::read(&p) {
                    Ok(_) => {
                        reads.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                        enoent.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => panic!("{}: {e}", p.display()),
                }
                if i % 64 == 0 {
                    let _ = std::fs::read_dir(&mnt).map(|d| d.count());
                }
            }
        }));
    }
    let t0 = Instant::now();
    let mut cycles = 0;
    while t0.elapsed() < Duration::from_secs(secs) {
        for z in churn {
            h.run("zoneadm", &["-z", z, "boot"]);
        }
        if std::env::var_os("ZONEFS_LOAD_DEBUG").is_some() {
            for z in churn {
                let r = std::fs::read_to_string(mnt.join(z).join("refs/zone_ref"));
                eprintln!("{z} zone_ref {r:?}");
            }
        }
        for z in churn {
            h.run("zoneadm", &["-z", z, "halt"]);
        }
        cycles += 1;
    }
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        r.join().expect("a reader saw an error other than ENOENT");
    }
    std::thread::sleep(Duration::from_secs(2));
    let (fd1, rss1) = (fd_count(pid), rss_kb(pid));
    println!(
        "load: {secs} s, 32 readers, {} reads, {} ENOENT, {cycles} cycles of {} boots+halts; zoned fds {fd0:?} -> {fd1:?} (all, pidfd, other not on /proc), RSS {rss0} -> {rss1} kB",
        reads.load(Ordering::Relaxed),
        enoent.load(Ordering::Relaxed),
        churn.len()
    );
    assert!(reads.load(Ordering::Relaxed) > 0);
    assert!(cycles > 0);
    assert!(
        fd1.2 <= fd0.2 + 2,
        "zoned fds not on /proc {fd0:?} -> {fd1:?}"
    );
    assert!(rss1 < rss0 + 16 * 1024, "zoned RSS {rss0} -> {rss1} kB");
}

#[test]
fn a_zone_that_shares_the_hosts_tree_does_not_see_its_zonefs() {
    let mut h = Host::new("zfs-shared", &["zfs1"]);
    // A jail of `path = /` (FreeBSD's thin jail): its mount namespace starts
    // as a copy of the host's, zonefs included, unless the runtime detaches it.
    let conf = h.dir.path().join("jail.conf");
    let mut text = std::fs::read_to_string(&conf).unwrap();
    text.push_str(
        "zfs2 {\n  path = \"/\";\n  brand = whole;\n  initname = \"/bin/sleep\";\n  bootargs = \"100000\";\n}\n",
    );
    std::fs::write(&conf, text).unwrap();
    h.base.halt_on_drop.push("zfs2".into());
    let mnt = h.mountpoint("mnt");
    h.start_zoned(Some(&mnt));
    // (`/` is already installed: it is the host's tree.)
    h.run("zoneadm", &["-z", "zfs2", "boot"]);
    wait_for("zfs2 running", 20, || {
        std::fs::read_to_string(mnt.join("zfs2/status")).is_ok_and(|s| s == "running\n")
    });
    let host_types = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(host_types.contains(" - fuse.zonefs "), "{host_types}");
    let inside = h.run("zlogin", &["zfs2", "cat", "/proc/self/mountinfo"]);
    assert!(!inside.contains("fuse.zonefs"), "{inside}");
    let ls = h.run("zlogin", &["zfs2", "ls", "-A", mnt.to_str().unwrap()]);
    assert_eq!(ls, "", "the mount point is an empty directory in the zone");
    // The host's mount is untouched.
    assert_eq!(
        std::fs::read_to_string(mnt.join("zfs2/status")).unwrap(),
        "running\n"
    );
}
