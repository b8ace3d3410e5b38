//! Shared helpers of the end-to-end tests.
//!
//! Every test runs as root (and fails, not skips, otherwise: [`require_root`]),
//! and builds its zone through [`TestZone`]: a unique zone name, a private
//! run directory, a private *relative* cgroup root (beneath the cgroup the
//! test runs in, never at a hierarchy's top), and a guard that destroys the
//! zone and removes its cgroups when dropped, also when the test failed.
//!
//! Commands run in a zone through the `zenter` binary of this package
//! (entering forks and setns'es; doing it from the multithreaded test
//! harness is possible but a separate process keeps the test's own state
//! out of the zone's cgroups).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use zones::param::{Params, Value};
use zones::runtime::linux::{LinuxRuntime, cgroup, install};
use zones::runtime::{Handle, Runtime, ZoneSpec};
use zones::zone::{Brand, ZoneId, ZoneName};

/// Fail the test when not root.
pub fn require_root() {
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "the end-to-end tests boot real zones and must run as root"
    );
}

/// A binary of the workspace: target/debug/NAME, one directory above the
/// test executable (`cargo test --workspace` builds them all first). The
/// end-to-end tests of zoned, zonefs and ztop use it too.
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let p = dir.join(name);
    assert!(
        p.is_file(),
        "{} is not built (cargo build --workspace)",
        p.display()
    );
    p
}

/// Every cgroup directory named `root` under /sys/fs/cgroup (a test's
/// private cgroup root, in each hierarchy), to check and clean leftovers.
pub fn cgroup_dirs(root: &str) -> Vec<PathBuf> {
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
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir("/sys/fs/cgroup") {
        for h in rd.flatten() {
            walk(&h.path(), root, &mut out, 0);
        }
    }
    out
}

static SEQ: AtomicU64 = AtomicU64::new(1);

/// A zone of a test and everything made for it.
pub struct TestZone {
    pub rt: LinuxRuntime,
    pub spec: ZoneSpec,
    pub handle: Option<Handle>,
    pub tmp: tempfile::TempDir,
    pub cgroup_root: PathBuf,
}

/// What a command in the zone did.
#[derive(Debug)]
pub struct Output {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl TestZone {
    /// A sparse zone, installed, not ready yet. `tag` names the test.
    pub fn sparse(tag: &str) -> TestZone {
        let z = TestZone::with_root(tag, Brand::Sparse, None);
        install::sparse(&z.spec.root, z.spec.name.as_str()).expect("install sparse root");
        z
    }

    /// A zone of `brand` whose root is `root` (default: an empty directory
    /// in the test's temporary directory).
    pub fn with_root(tag: &str, brand: Brand, root: Option<PathBuf>) -> TestZone {
        require_root();
        let n = SEQ.fetch_add(1, Ordering::SeqCst);
        let pid = std::process::id();
        // 0700: a zone root must not be reachable by other users (the
        // runtime refuses it at ready).
        let tmp = tempfile::Builder::new()
            .prefix("zones-e2e-")
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .tempdir()
            .expect("tempdir");
        let name = format!("{tag}-{pid}-{n}");
        let root = root.unwrap_or_else(|| {
            let r = tmp.path().join("root");
            std::fs::create_dir(&r).unwrap();
            r
        });
        let cgroup_root = PathBuf::from(format!("zones-e2e-{pid}-{n}"));
        let rt = LinuxRuntime::new(tmp.path().join("run"), &cgroup_root)
            .with_zsched(bin("zones-zsched"));
        let spec = ZoneSpec {
            id: ZoneId((n % 900_000) as u32 + 1),
            name: ZoneName::new(&name).expect("zone name"),
            uniqid: pid as u64 * 1000 + n,
            root,
            brand,
            params: Params::new(),
            parent: None,
        };
        TestZone {
            rt,
            spec,
            handle: None,
            tmp,
            cgroup_root,
        }
    }

    pub fn set(&mut self, name: &str, v: Value) -> &mut TestZone {
        self.spec.params.insert(name, v);
        self
    }

    pub fn ready(&mut self) -> Result<&Handle, zones::runtime::RuntimeError> {
        let h = self.rt.ready(&self.spec)?;
        self.handle = Some(h);
        Ok(self.handle.as_ref().unwrap())
    }

    pub fn handle(&self) -> &Handle {
        self.handle.as_ref().expect("zone is ready")
    }

    pub fn boot(&mut self) -> Result<u32, zones::runtime::RuntimeError> {
        let pid = self.rt.boot(&self.spec, self.handle(), true)?;
        self.handle.as_mut().unwrap().init_pid = pid;
        Ok(pid)
    }

    /// Run a command in the zone through zenter.
    pub fn run(&self, cmd: &[&str]) -> Output {
        let hf = self.tmp.path().join("handle.json");
        std::fs::write(&hf, serde_json::to_string(self.handle()).unwrap()).unwrap();
        let out = Command::new(bin("zenter"))
            .arg(&hf)
            .arg("--")
            .args(cmd)
            .output()
            .expect("run zenter");
        Output {
            status: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into(),
            stderr: String::from_utf8_lossy(&out.stderr).into(),
        }
    }

    /// Run a shell command line in the zone.
    pub fn sh(&self, line: &str) -> Output {
        self.run(&["/bin/sh", "-c", line])
    }

    /// Copy the zprobe binary into the zone root as /zprobe.
    pub fn install_probe(&self) {
        let dst = self.spec.root.join("zprobe");
        std::fs::copy(bin("zprobe"), &dst).expect("copy zprobe");
    }

    pub fn probe(&self, args: &[&str]) -> Output {
        let mut cmd = vec!["/zprobe"];
        cmd.extend_from_slice(args);
        self.run(&cmd)
    }

    /// The test's cgroup root in every hierarchy.
    pub fn cgroup_roots(&self) -> Vec<PathBuf> {
        cgroup::hierarchies()
            .expect("cgroup hierarchies")
            .iter()
            .map(|h| {
                h.mount
                    .join(h.own.strip_prefix("/").unwrap_or(&h.own))
                    .join(&self.cgroup_root)
            })
            .collect()
    }

    /// Halt cleanly: shutdown, down, destroy.
    pub fn halt(&mut self) {
        if let Some(h) = self.handle.take() {
            self.rt
                .shutdown(&h, std::time::Duration::from_secs(5))
                .expect("shutdown");
            self.rt.down(&h).expect("down");
            self.rt.destroy(&h).expect("destroy");
        }
    }
}

impl Drop for TestZone {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            let _ = self.rt.destroy(&h);
        }
        let roots = self.cgroup_roots();
        let _ = cgroup::remove(&roots);
    }
}

/// The host's mounts that mention `path`.
pub fn host_mounts_under(path: &Path) -> Vec<String> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(&*path.to_string_lossy()))
        .map(str::to_string)
        .collect()
}
