//! zoned end to end, as root: the API socket, and the promise that zones
//! outlive the daemon — five zones keep running through `kill -9` of zoned
//! and a new zoned re-adopts them with the same ids, uniqids, statuses and
//! init pids, then halts each cleanly.
//!
//! Every test has its own state directory, socket, configuration, zone
//! roots and relative cgroup root; a guard kills its daemons and halts its
//! zones (through the embedded engine) even when the test fails.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use zones::api::Client;
use zones::snapshot::Snapshot;
use zones::zone::Status;

fn require_root() {
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "these tests boot real zones and must run as root"
    );
}

/// The workspace's target directory (beside this test's own binary).
fn bin(name: &str) -> PathBuf {
    if name == "zoned" {
        return PathBuf::from(env!("CARGO_BIN_EXE_zoned"));
    }
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    let p = dir.join(name);
    assert!(
        p.exists(),
        "{} is not built (cargo build --workspace)",
        p.display()
    );
    p
}

struct Host {
    dir: tempfile::TempDir,
    cgroup_root: String,
    daemons: Vec<Child>,
    zones: Vec<String>,
}

impl Host {
    fn new(tag: &str, zones: &[&str]) -> Host {
        require_root();
        let dir = tempfile::Builder::new()
            .prefix(&format!("zoned-{tag}-"))
            .tempdir()
            .unwrap();
        let mut conf = String::new();
        for z in zones {
            conf.push_str(&format!(
                "{z} {{\n  path = \"{}/roots/{z}\";\n  brand = sparse;\n  initname = \"/bin/sleep\";\n  bootargs = \"100000\";\n}}\n",
                dir.path().display()
            ));
        }
        std::fs::write(dir.path().join("jail.conf"), conf).unwrap();
        let cgroup_root = format!(
            "zones-test-{tag}-{}",
            dir.path().file_name().unwrap().to_string_lossy()
        );
        Host {
            dir,
            cgroup_root,
            daemons: Vec::new(),
            zones: zones.iter().map(|z| z.to_string()).collect(),
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

    fn zoneadm(&self, args: &[&str]) -> std::process::Output {
        let mut c = Command::new(bin("zoneadm"));
        self.env(&mut c);
        c.args(args).output().unwrap()
    }

    fn zoneadm_ok(&self, args: &[&str]) -> String {
        let out = self.zoneadm(args);
        assert!(
            out.status.success(),
            "zoneadm {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn start_zoned(&mut self) {
        let mut c = Command::new(bin("zoned"));
        self.env(&mut c);
        c.stdout(Stdio::null()).stderr(Stdio::null());
        let child = c.spawn().unwrap();
        self.daemons.push(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if std::os::unix::net::UnixStream::connect(self.socket()).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("zoned did not answer on {}", self.socket().display());
    }

    fn kill9_zoned(&mut self) {
        for mut d in self.daemons.drain(..) {
            let _ = d.kill();
            let _ = d.wait();
        }
    }

    fn cgroup_dirs(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for h in std::fs::read_dir("/sys/fs/cgroup").unwrap().flatten() {
            walk(&h.path(), &self.cgroup_root, &mut out, 0);
        }
        out
    }
}

fn walk(dir: &Path, needle: &str, out: &mut Vec<PathBuf>, depth: usize) {
    if depth > 4 {
        return;
    }
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            let p = e.path();
            if p.file_name().is_some_and(|n| n.to_string_lossy() == needle) {
                out.push(p);
            } else {
                walk(&p, needle, out, depth + 1);
            }
        }
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        self.kill9_zoned();
        for z in self.zones.clone() {
            let _ = self.zoneadm(&["-z", &z, "halt"]);
        }
        for d in self.cgroup_dirs() {
            let _ = std::fs::remove_dir(&d);
        }
    }
}

async fn snapshot(socket: &Path) -> Arc<Snapshot> {
    let c = Client::connect(socket).await.expect("zoned answers");
    match c.call(zones::api::Request::Snapshot).await.unwrap() {
        zones::api::Answer::Snapshot { snapshot } => snapshot,
        a => panic!("{a:?}"),
    }
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        !s.rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z')
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_zones_survive_kill_9_of_zoned_and_are_readopted() {
    let names = ["d1", "d2", "d3", "d4", "d5"];
    let mut host = Host::new("dur", &names);
    host.start_zoned();
    for z in names {
        host.zoneadm_ok(&["-z", z, "install"]);
        host.zoneadm_ok(&["-z", z, "boot"]);
    }
    let before = snapshot(&host.socket()).await;
    let ident = |s: &Snapshot| {
        let mut v: Vec<_> = s
            .zones
            .iter()
            .filter(|z| !z.id.is_global())
            .map(|z| {
                (
                    z.id,
                    z.name.to_string(),
                    z.uniqid,
                    z.status,
                    z.init_pid,
                    z.zsched_pid,
                )
            })
            .collect();
        v.sort();
        v
    };
    let before_ids = ident(&before);
    assert_eq!(before_ids.len(), 5);
    for z in &before_ids {
        assert_eq!(z.3, Status::Running);
        assert!(z.4 != 0 && alive(z.4), "init of {} runs", z.1);
    }

    host.kill9_zoned();
    std::thread::sleep(Duration::from_millis(300));
    for z in &before_ids {
        assert!(alive(z.5), "zsched of {} survives kill -9 of zoned", z.1);
        assert!(alive(z.4), "init of {} survives kill -9 of zoned", z.1);
    }

    host.start_zoned();
    let after = snapshot(&host.socket()).await;
    assert_eq!(
        ident(&after),
        before_ids,
        "same ids, uniqids, statuses, init pids"
    );
    let listed = host.zoneadm_ok(&["list"]);
    for z in names {
        assert!(listed.contains(z), "{listed}");
    }

    for z in names {
        host.zoneadm_ok(&["-z", z, "halt"]);
    }
    for z in &before_ids {
        assert!(!alive(z.5), "zsched of {} is gone", z.1);
        assert!(!alive(z.4), "init of {} is gone", z.1);
    }
    let left: Vec<_> = std::fs::read_dir(host.dir.path().join("state/zones"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "state files left: {left:?}");
    let cg: Vec<PathBuf> = host
        .cgroup_dirs()
        .into_iter()
        .filter(|d| {
            std::fs::read_dir(d).is_ok_and(|mut r| r.any(|e| e.is_ok_and(|e| e.path().is_dir())))
        })
        .collect();
    assert!(cg.is_empty(), "zone cgroups left: {cg:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_zoned_on_the_same_socket_or_state_is_refused() {
    let mut host = Host::new("two", &[]);
    host.start_zoned();
    let mut c = Command::new(bin("zoned"));
    host.env(&mut c);
    let out = c.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("zoned: "), "{err}");
    assert!(err.contains("another engine answers there"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_zoned_leaves_zones_running() {
    let mut host = Host::new("stop", &["s1"]);
    host.start_zoned();
    host.zoneadm_ok(&["-z", "s1", "install"]);
    host.zoneadm_ok(&["-z", "s1", "boot"]);
    let z = snapshot(&host.socket())
        .await
        .zone_by_name("s1")
        .unwrap()
        .clone();
    let d = host.daemons.pop().unwrap();
    unsafe { libc::kill(d.id() as i32, libc::SIGTERM) };
    let mut d = d;
    let st = d.wait().unwrap();
    assert!(st.success(), "zoned exits 0 on SIGTERM");
    assert!(!host.socket().exists(), "the socket is removed");
    assert!(alive(z.zsched_pid) && alive(z.init_pid));
    // The embedded engine of the next tool re-adopts it and halts it.
    host.zoneadm_ok(&["-z", "s1", "halt"]);
    assert!(!alive(z.zsched_pid));
}
