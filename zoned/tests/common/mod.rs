//! What the end-to-end tests of zoned share: a [`Host`] (zones-e2e's, with
//! the daemons a test starts) with its own state directory, socket,
//! configuration, zone roots and relative cgroup root, whose guard kills its
//! daemons and halts its zones (through the embedded engine) even when the
//! test fails.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use zones::api::Client;
use zones::snapshot::Snapshot;

/// The workspace's target directory (beside this test's own binary).
/// `$ZONES_TEST_ZONED` runs the tests against another zoned build.
pub fn bin(name: &str) -> PathBuf {
    if name == "zoned" {
        return std::env::var_os("ZONES_TEST_ZONED")
            .map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_zoned")), PathBuf::from);
    }
    zones_e2e::bin(name)
}

/// A private host: zones-e2e's [`zones_e2e::Host`] (state directory,
/// socket, jail.conf, relative cgroup root, the zones it halts on drop)
/// with the zoned daemons this test started, killed first when dropped.
pub struct Host {
    pub base: zones_e2e::Host,
    pub daemons: Vec<Child>,
}

impl std::ops::Deref for Host {
    type Target = zones_e2e::Host;
    fn deref(&self) -> &zones_e2e::Host {
        &self.base
    }
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
        let mut base = zones_e2e::Host::new(&format!("zoned-{tag}"));
        base.halt_on_drop = zones.iter().map(|z| z.to_string()).collect();
        let host = Host {
            base,
            daemons: Vec::new(),
        };
        host.write_config(conf);
        host
    }

    /// Replace jail.conf (`@DIR@` is the host's directory).
    pub fn write_config(&self, conf: &str) {
        self.write_conf(&conf.replace("@DIR@", &self.dir.path().display().to_string()));
    }

    /// What the daemons logged.
    pub fn log(&self) -> String {
        self.zoned_log()
    }

    pub fn zoneadm(&self, args: &[&str]) -> std::process::Output {
        self.run("zoneadm", args)
    }

    pub fn zoneadm_ok(&self, args: &[&str]) -> String {
        self.ok("zoneadm", args)
    }

    pub fn start_zoned(&mut self) {
        self.start_zoned_with(|_| {});
    }

    /// Start zoned ([`bin`]: this package's, or `$ZONES_TEST_ZONED`) with
    /// its command line or process changed by `f`; its log is appended to
    /// the host's zoned.log.
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
    /// The daemons first; `base` then halts the zones (through the
    /// embedded engine, zoned being gone) and removes the cgroups.
    fn drop(&mut self) {
        self.kill9_zoned();
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
