//! What the end-to-end tests of zoned share: a [`Host`] with its own state
//! directory, socket, configuration, zone roots and relative cgroup root,
//! whose guard kills its daemons and halts its zones (through the embedded
//! engine) even when the test fails.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use zones::api::Client;
use zones::snapshot::Snapshot;

pub fn require_root() {
    assert_eq!(
        // SAFETY: geteuid has no preconditions and cannot fail.
        unsafe { libc::geteuid() },
        0,
        "these tests boot real zones and must run as root"
    );
}

/// The workspace's target directory (beside this test's own binary).
/// `$ZONES_TEST_ZONED` runs the tests against another zoned build.
pub fn bin(name: &str) -> PathBuf {
    if name == "zoned" {
        return std::env::var_os("ZONES_TEST_ZONED")
            .map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_zoned")), PathBuf::from);
    }
    zones_e2e::bin(name)
}

pub struct Host {
    pub dir: tempfile::TempDir,
    pub cgroup_root: String,
    pub daemons: Vec<Child>,
    pub zones: Vec<String>,
}

impl Host {
    /// A host whose jail.conf has one sparse zone running `sleep` for
    /// each name.
    pub fn new(tag: &str, zones: &[&str]) -> Host {
        let conf: String = zones.iter().map(|z| sleeper(z, "")).collect();
        Host::with_config(tag, zones, &conf)
    }

    /// A host with this jail.conf (`@DIR@` is the host's directory);
    /// `zones` are the names its guard halts.
    pub fn with_config(tag: &str, zones: &[&str], conf: &str) -> Host {
        require_root();
        let dir = tempfile::Builder::new()
            .prefix(&format!("zoned-{tag}-"))
            .tempdir()
            .unwrap();
        let cgroup_root = format!(
            "zones-test-{tag}-{}",
            dir.path().file_name().unwrap().to_string_lossy()
        );
        let host = Host {
            dir,
            cgroup_root,
            daemons: Vec::new(),
            zones: zones.iter().map(|z| z.to_string()).collect(),
        };
        host.write_config(conf);
        host
    }

    /// Replace jail.conf (`@DIR@` is the host's directory).
    pub fn write_config(&self, conf: &str) {
        let text = conf.replace("@DIR@", &self.dir.path().display().to_string());
        std::fs::write(self.dir.path().join("jail.conf"), text).unwrap();
    }

    /// What the daemons logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("zoned.log")).unwrap_or_default()
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("zoned.sock")
    }

    pub fn env(&self, c: &mut Command) {
        c.env("ZONES_STATE_DIR", self.dir.path().join("state"))
            .env("ZONED_SOCKET", self.socket())
            .env("ZONES_CGROUP_ROOT", &self.cgroup_root)
            .env("ZONES_CONFIG", self.dir.path().join("jail.conf"))
            .env("ZONES_ZSCHED", bin("zsched"));
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
            "zoneadm {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn start_zoned(&mut self) {
        self.start_zoned_with(|_| {});
    }

    /// Start zoned with its command line or process changed by `f`.
    pub fn start_zoned_with(&mut self, f: impl FnOnce(&mut Command)) {
        let mut c = Command::new(bin("zoned"));
        self.env(&mut c);
        f(&mut c);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("zoned.log"))
            .unwrap();
        c.stdout(Stdio::null()).stderr(log);
        let child = c.spawn().unwrap();
        self.daemons.push(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if std::os::unix::net::UnixStream::connect(self.socket()).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "zoned did not answer on {}: {}",
            self.socket().display(),
            self.log()
        );
    }

    /// The pid of the zoned started last.
    pub fn zoned_pid(&self) -> u32 {
        self.daemons.last().expect("zoned started").id()
    }

    pub fn kill9_zoned(&mut self) {
        for mut d in self.daemons.drain(..) {
            let _ = d.kill();
            let _ = d.wait();
        }
    }

    pub fn cgroup_dirs(&self) -> Vec<PathBuf> {
        zones_e2e::cgroup_dirs(&self.cgroup_root)
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

pub async fn snapshot(socket: &Path) -> Arc<Snapshot> {
    let c = Client::connect(socket).await.expect("zoned answers");
    match c.call(zones::api::Request::Snapshot).await.unwrap() {
        zones::api::Answer::Snapshot { snapshot } => snapshot,
        a => panic!("{a:?}"),
    }
}

pub fn alive(pid: u32) -> bool {
    zones_linux::procstat::read(pid).is_some_and(|s| s.state != 'Z')
}

/// A jail.conf block: a sparse zone under @DIR@/roots running `sleep`,
/// with `extra` statements.
pub fn sleeper(name: &str, extra: &str) -> String {
    format!(
        "{name} {{\n  path = \"@DIR@/roots/{name}\";\n  brand = sparse;\n  initname = \"/bin/sleep\";\n  bootargs = \"100000\";\n{extra}}}\n"
    )
}

/// Wait until the daemon's snapshot satisfies `ok`.
pub async fn wait_for(host: &Host, what: &str, ok: impl Fn(&Snapshot) -> bool) -> Arc<Snapshot> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let s = snapshot(&host.socket()).await;
        if ok(&s) {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; log:\n{}",
            host.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
