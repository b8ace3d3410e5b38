//! The zonefs program's life: foreground and `-d`, clean unmount on
//! SIGINT/SIGTERM, refusal of a non-empty mount point. Needs root.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ZONEFS: &str = env!("CARGO_BIN_EXE_zonefs");

fn need_root() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "zonefs CLI tests need root"
    );
}

fn mounted(dir: &Path) -> bool {
    let dir = dir.canonicalize().unwrap();
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .any(|l| l.split(' ').nth(4) == Some(dir.to_str().unwrap()))
}

fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !cond() {
        assert!(t0.elapsed() < Duration::from_secs(10), "timed out: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A private engine for one test: its own state directory, socket and
/// relative cgroup root (never the host's /var/lib/zones), cleaned on drop.
struct Private {
    dir: tempfile::TempDir,
    cgroup_root: String,
}

impl Private {
    fn new() -> Private {
        let dir = tempfile::Builder::new()
            .prefix("zonefs-cli-")
            .tempdir()
            .unwrap();
        let cgroup_root = format!(
            "zones-test-zonefs-cli-{}",
            dir.path().file_name().unwrap().to_string_lossy()
        );
        Private { dir, cgroup_root }
    }

    /// The zonefs program, with the embedded engine on private state.
    fn zonefs(&self) -> Command {
        let mut c = Command::new(ZONEFS);
        c.env("ZONES_STATE_DIR", self.dir.path().join("state"))
            .env("ZONED_SOCKET", self.dir.path().join("zoned.sock"))
            .env("ZONES_CGROUP_ROOT", &self.cgroup_root);
        c
    }
}

impl Drop for Private {
    fn drop(&mut self) {
        for h in std::fs::read_dir("/sys/fs/cgroup")
            .into_iter()
            .flatten()
            .flatten()
        {
            for p in [
                h.path().join(&self.cgroup_root),
                h.path().join("unified").join(&self.cgroup_root),
            ] {
                let _ = std::fs::remove_dir(p);
            }
        }
    }
}

/// Never leave a mount behind a failed test.
struct Unmount<'a>(&'a Path);
impl Drop for Unmount<'_> {
    fn drop(&mut self) {
        let _ = nix::mount::umount2(self.0, nix::mount::MntFlags::MNT_DETACH);
    }
}

#[test]
fn foreground_serves_until_a_signal_then_unmounts() {
    need_root();
    for sig in [nix::sys::signal::SIGTERM, nix::sys::signal::SIGINT] {
        let d = tempfile::tempdir().unwrap();
        let _g = Unmount(d.path());
        let private = Private::new();
        let mut child = private
            .zonefs()
            .arg(d.path())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_for("the mount", || d.path().join("global/status").exists());
        assert_eq!(
            std::fs::read_to_string(d.path().join("global/status")).unwrap(),
            "running\n"
        );
        assert!(mounted(d.path()));
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), sig).unwrap();
        let st = child.wait().unwrap();
        assert!(st.success(), "{sig:?}: {st:?}");
        assert!(!mounted(d.path()), "unmounted after {sig:?}");
    }
}

#[test]
fn detached_returns_once_mounted() {
    need_root();
    let d = tempfile::tempdir().unwrap();
    let _g = Unmount(d.path());
    let private = Private::new();
    let st = private.zonefs().arg("-d").arg(d.path()).status().unwrap();
    assert!(st.success());
    // Mounted by the time the parent returned.
    assert_eq!(
        std::fs::read_to_string(d.path().join("global/name")).unwrap(),
        "global\n"
    );
    // Find the daemon by its mount and stop it.
    let out = Command::new("pgrep")
        .args(["-f", &format!("{ZONEFS} -d {}", d.path().display())])
        .output()
        .unwrap();
    let pid: i32 = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .expect("the daemon runs")
        .parse()
        .unwrap();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::SIGTERM).unwrap();
    wait_for("the unmount", || !mounted(d.path()));
}

#[test]
fn a_non_empty_mount_point_is_refused_with_a_reason() {
    need_root();
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("x"), b"x").unwrap();
    let private = Private::new();
    for args in [vec![], vec!["-d"]] {
        let out = private.zonefs().args(&args).arg(d.path()).output().unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("is not empty"), "{err}");
    }
}

#[test]
fn version_and_help_answer_with_0() {
    for flag in ["--version", "--help"] {
        let o = Command::new(env!("CARGO_BIN_EXE_zonefs"))
            .arg(flag)
            .output()
            .unwrap();
        assert!(o.status.success(), "{flag}: {o:?}");
    }
    let o = Command::new(env!("CARGO_BIN_EXE_zonefs"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&o.stdout).starts_with("zonefs "),
        "{o:?}"
    );
}
