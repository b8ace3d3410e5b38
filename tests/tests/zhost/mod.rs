//! A host for the tests of crashes and damage (crash.rs, damage.rs): its
//! own state directory, socket, jail.conf, zone roots and relative cgroup
//! root; zoned started and killed at will; and [`Host::check`], the one
//! check that after a restart every zone is running or cleanly gone —
//! nothing stuck, and no cgroup, zsched, control socket, mount or record
//! left of a zone that is gone. The guard kills its daemons and halts its
//! zones (through the embedded engine) even when the test fails.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use zones::api::Client;
use zones::snapshot::Snapshot;
use zones::zone::Status;

pub use zones_e2e::{bin, require_root};

pub struct Host {
    pub dir: tempfile::TempDir,
    pub cgroup_root: String,
    pub daemon: Option<Child>,
    pub zones: Vec<String>,
    /// Every uniqid seen, with the zone (name, zsched pid) that had it.
    pub seen: BTreeMap<u64, (String, u32)>,
    /// Set: the state directory is this instead of DIR/state.
    pub state: Option<PathBuf>,
}

impl Host {
    /// A host whose jail.conf has one sparse zone running `sleep` for
    /// each name; each is installed (through the embedded engine).
    pub fn new(tag: &str, zones: &[&str]) -> Host {
        Host::build(tag, zones, false)
    }

    /// Like [`Host::new`], but every zone has the same root, installed
    /// once (each zone mounts what it needs in its own namespace).
    pub fn sharing_root(tag: &str, zones: &[&str]) -> Host {
        Host::build(tag, zones, true)
    }

    fn build(tag: &str, zones: &[&str], shared: bool) -> Host {
        require_root();
        let dir = tempfile::Builder::new()
            .prefix(&format!("zones-{tag}-"))
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .tempdir()
            .unwrap();
        let cgroup_root = format!(
            "zones-test-{tag}-{}",
            dir.path().file_name().unwrap().to_string_lossy()
        );
        let conf: String = zones
            .iter()
            .map(|z| {
                format!(
                    "{z} {{\n  path = \"{}/roots/{}\";\n  brand = sparse;\n  initname = \"/bin/sleep\";\n  bootargs = \"100000\";\n}}\n",
                    dir.path().display(),
                    if shared { "shared" } else { z }
                )
            })
            .collect();
        std::fs::write(dir.path().join("jail.conf"), conf).unwrap();
        std::fs::create_dir(dir.path().join("roots")).unwrap();
        let host = Host {
            dir,
            cgroup_root,
            daemon: None,
            zones: zones.iter().map(|z| z.to_string()).collect(),
            seen: BTreeMap::new(),
            state: None,
        };
        let install = if shared {
            &zones[..zones.len().min(1)]
        } else {
            zones
        };
        for z in install {
            host.zoneadm_ok(&["-z", z, "install"]);
        }
        host
    }

    /// Put the state directory on a tmpfs of this size (`256k`), which
    /// the guard unmounts.
    pub fn state_on_tmpfs(&mut self, size: &str) -> PathBuf {
        let mp = self.dir.path().join("tstate");
        std::fs::create_dir_all(&mp).unwrap();
        let st = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(&mp)
            .status()
            .unwrap();
        assert!(st.success(), "mount a tmpfs on {}", mp.display());
        self.state = Some(mp.clone());
        mp
    }

    /// Make the state directory read-only (a read-only bind mount of it
    /// on itself: the engine's open lock file is on the mount beneath,
    /// so it does not keep the remount from happening), or writable again.
    pub fn state_read_only(&self, ro: bool) {
        self.read_only(&self.state_dir(), ro)
    }

    /// Make `dir` read-only (a read-only bind mount on itself) or
    /// writable again.
    pub fn read_only(&self, dir: &Path, ro: bool) {
        let run = |args: &[&str]| {
            let st = Command::new(args[0])
                .args(&args[1..])
                .arg(dir)
                .status()
                .unwrap();
            assert!(st.success(), "{args:?} {}", dir.display());
        };
        if ro {
            run(&["mount", "--bind", &dir.display().to_string()]);
            // Refused (EBUSY) while a file of the mount is being written:
            // zoned's spare launcher makes its view directory in the run
            // directory beneath (runtime::linux::spare) a few ms after a
            // boot. Tried again, as an administrator would.
            let deadline = Instant::now() + Duration::from_secs(10);
            while !Command::new("mount")
                .args(["-o", "remount,bind,ro"])
                .arg(dir)
                .status()
                .unwrap()
                .success()
            {
                assert!(
                    Instant::now() < deadline,
                    "mount -o remount,bind,ro {}",
                    dir.display()
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        } else {
            run(&["umount"]);
        }
    }

    pub fn state_dir(&self) -> PathBuf {
        self.state
            .clone()
            .unwrap_or_else(|| self.dir.path().join("state"))
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("zoned.log")).unwrap_or_default()
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("zoned.sock")
    }

    pub fn env(&self, c: &mut Command) {
        c.env("ZONES_STATE_DIR", self.state_dir())
            .env("ZONED_SOCKET", self.socket())
            .env("ZONES_CGROUP_ROOT", &self.cgroup_root)
            .env("ZONES_CONFIG", self.dir.path().join("jail.conf"))
            .env("ZONES_ZSCHED", bin("zsched"))
            .env_remove("ZONES_CRASH_AT");
    }

    pub fn zoneadm(&self, args: &[&str]) -> std::process::Output {
        let mut c = Command::new(bin("zoneadm"));
        self.env(&mut c);
        c.args(args).output().unwrap()
    }

    pub fn zoneadm_ok(&self, args: &[&str]) -> String {
        let out = self.zoneadm(args);
        assert!(
            out.status.success(),
            "zoneadm {args:?}: {}\nzoned log:\n{}",
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Start zoned (with `ZONES_CRASH_AT=crash` when given) and wait
    /// until it answers; false when it exited first.
    pub fn start_zoned(&mut self, crash: Option<&str>) -> bool {
        assert!(self.daemon.is_none(), "one zoned at a time");
        let mut c = Command::new(bin("zoned"));
        self.env(&mut c);
        if let Some(at) = crash {
            c.env("ZONES_CRASH_AT", at);
        }
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("zoned.log"))
            .unwrap();
        c.stdout(Stdio::null()).stderr(log);
        #[allow(clippy::zombie_processes)] // kept in self.daemon, waited by kill9_zoned
        // zoned binds its socket before it re-adopts: it is ready once it
        // says so in its log.
        let ready = |h: &Host| h.log().matches("zoned ready").count();
        let was = ready(self);
        let mut child = c.spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return false;
            }
            if ready(self) > was && std::os::unix::net::UnixStream::connect(self.socket()).is_ok() {
                self.daemon = Some(child);
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("zoned did not answer: {}", self.log());
    }

    /// Wait for zoned to exit by itself (a crash point); its status.
    pub fn wait_zoned(&mut self, within: Duration) -> Option<ExitStatus> {
        let mut d = self.daemon.take()?;
        let deadline = Instant::now() + within;
        loop {
            if let Ok(Some(st)) = d.try_wait() {
                return Some(st);
            }
            if Instant::now() > deadline {
                self.daemon = Some(d);
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn kill9_zoned(&mut self) {
        if let Some(mut d) = self.daemon.take() {
            let _ = d.kill();
            let _ = d.wait();
        }
        let _ = std::fs::remove_file(self.socket());
    }

    /// Every zone the engine knows now (daemon or embedded).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let sock = self.socket();
        rt.block_on(async move {
            let c = Client::connect(&sock).await.expect("zoned answers");
            match c.call(zones::api::Request::Snapshot).await.unwrap() {
                zones::api::Answer::Snapshot { snapshot } => snapshot,
                a => panic!("{a:?}"),
            }
        })
    }

    /// The top-level cgroup directories under this host's cgroup root, in
    /// every hierarchy, by name.
    pub fn zone_cgroups(&self) -> BTreeSet<String> {
        zones_e2e::cgroup_dirs(&self.cgroup_root)
            .iter()
            .flat_map(|d| std::fs::read_dir(d).into_iter().flatten().flatten())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    }

    /// Processes in any cgroup under this host's cgroup root.
    pub fn zone_procs(&self) -> Vec<u32> {
        let mut out = Vec::new();
        for d in zones_e2e::cgroup_dirs(&self.cgroup_root) {
            walk_procs(&d, &mut out, 0);
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    fn files(&self, sub: &str) -> BTreeSet<String> {
        std::fs::read_dir(self.state_dir().join(sub))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    }

    /// Host mounts under this host's directory (zone mounts live in the
    /// zones' own mount namespaces; none may show here).
    pub fn host_mounts(&self) -> Vec<String> {
        zones_e2e::host_mounts_under(&self.dir.path().join("roots"))
    }

    /// With zoned answering: every zone running (or ready), with its zsched; what
    /// is on disk and in the kernel is exactly the zones listed (records,
    /// control sockets, cgroups, processes), nothing left of the others;
    /// no uniqid reused. Returns the snapshot. `what` names the case.
    pub fn check(&mut self, what: &str) -> Arc<Snapshot> {
        let s = self.snapshot();
        let zones: Vec<_> = s.zones.iter().filter(|z| !z.id.is_global()).collect();
        let log = self.log();
        let ctx = |m: String| format!("{what}: {m}\nzoned log:\n{log}");
        let mut uniqids = BTreeSet::new();
        for z in &zones {
            // Running, or ready (a zoneadm boot cut between its create
            // and its boot): both are stable, every operation takes them.
            assert!(
                matches!(z.status, Status::Running | Status::Ready),
                "{}",
                ctx(format!("{} is {} (stuck)", z.name, z.status))
            );
            assert!(
                zones_e2e_alive(z.zsched_pid),
                "{}",
                ctx(format!("zsched of {} is not alive", z.name))
            );
            assert!(uniqids.insert(z.uniqid), "{}", ctx("uniqid twice".into()));
            let me = (z.name.to_string(), z.zsched_pid);
            if let Some(prev) = self.seen.insert(z.uniqid, me.clone()) {
                assert_eq!(prev, me, "{}", ctx(format!("uniqid {} reused", z.uniqid)));
            }
        }
        let want_records: BTreeSet<String> =
            zones.iter().map(|z| format!("{}.json", z.uniqid)).collect();
        // A damaged record is kept aside (NAME.damaged) while its zone,
        // re-adopted from the kernel, lives; never for a gone zone.
        let records: BTreeSet<String> = self
            .files("zones")
            .into_iter()
            .filter(|f| {
                !f.strip_suffix(".damaged")
                    .is_some_and(|r| want_records.contains(r))
            })
            .collect();
        assert_eq!(records, want_records, "{}", ctx("records".into()));
        // Each live zone's control socket and the directory of its own
        // /proc files (view.md), both named by id and uniqid; nothing of a
        // gone zone.
        let want_socks: BTreeSet<String> = zones
            .iter()
            .flat_map(|z| ["sock", "view"].map(|ext| format!("{}-{}.{ext}", z.id, z.uniqid)))
            .collect();
        // (And the view directory of zoned's waiting spare launcher.)
        let run: BTreeSet<String> = zones_e2e::run_dir_left(&self.state_dir().join("run"))
            .iter()
            .filter_map(|p| Some(p.file_name()?.to_string_lossy().into_owned()))
            .collect();
        assert_eq!(run, want_socks, "{}", ctx("control sockets".into()));
        let want_cg: BTreeSet<String> = zones
            .iter()
            .map(|z| format!("{}.{}", z.name, z.uniqid))
            .collect();
        assert_eq!(self.zone_cgroups(), want_cg, "{}", ctx("cgroups".into()));
        // Every process under the cgroup root is in a listed zone's
        // cgroup (a zsched left behind would be in a cgroup of its own).
        for p in self.zone_procs() {
            let cg = std::fs::read_to_string(format!("/proc/{p}/cgroup")).unwrap_or_default();
            assert!(
                zones
                    .iter()
                    .any(|z| cg.contains(&format!("/{}.{}", z.name, z.uniqid))),
                "{}",
                ctx(format!("process {p} of no listed zone: {cg}"))
            );
        }
        assert_eq!(
            self.host_mounts(),
            Vec::<String>::new(),
            "{}",
            ctx("mounts".into())
        );
        s
    }

    /// Halt every zone that runs, then check nothing is left at all.
    pub fn halt_all(&mut self) {
        let s = self.snapshot();
        for z in s.zones.iter().filter(|z| !z.id.is_global()) {
            self.zoneadm_ok(&["-z", z.name.as_str(), "halt"]);
        }
        let s = self.check("after halting all");
        assert_eq!(s.zones.len(), 1, "only global is left");
    }
}

fn walk_procs(dir: &Path, out: &mut Vec<u32>, depth: usize) {
    if let Ok(s) = std::fs::read_to_string(dir.join("cgroup.procs")) {
        out.extend(s.lines().filter_map(|l| l.trim().parse::<u32>().ok()));
    }
    if depth > 8 {
        return;
    }
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            walk_procs(&e.path(), out, depth + 1);
        }
    }
}

/// The process lives (a zombie does not count).
pub fn zones_e2e_alive(pid: u32) -> bool {
    pid != 0 && zones_linux::procstat::read(pid).is_some_and(|s| s.state != 'Z')
}

impl Drop for Host {
    fn drop(&mut self) {
        self.kill9_zoned();
        if self.state.is_none() && !zones_e2e::host_mounts_under(&self.state_dir()).is_empty() {
            // A read-only bind mount a failed test left.
            let _ = Command::new("umount")
                .arg("-l")
                .arg(self.state_dir())
                .stderr(Stdio::null())
                .status();
        }
        for z in self.zones.clone() {
            let _ = self.zoneadm(&["-z", &z, "halt"]);
        }
        if let Some(mp) = self.state.clone() {
            let _ = Command::new("umount").arg("-l").arg(&mp).status();
        }
        // What a failed test may have left: processes, then cgroups.
        for p in self.zone_procs() {
            // SAFETY: kill takes plain integers.
            unsafe { libc::kill(p as i32, libc::SIGKILL) };
        }
        std::thread::sleep(Duration::from_millis(100));
        let mut dirs = Vec::new();
        for d in zones_e2e::cgroup_dirs(&self.cgroup_root) {
            collect_dirs(&d, &mut dirs);
        }
        dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
        for d in dirs {
            let _ = std::fs::remove_dir(&d);
        }
    }
}

fn collect_dirs(dir: &Path, out: &mut Vec<PathBuf>) {
    out.push(dir.to_path_buf());
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            collect_dirs(&e.path(), out);
        }
    }
}
