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
        let mut child = Command::new(ZONEFS)
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
    let st = Command::new(ZONEFS)
        .arg("-d")
        .arg(d.path())
        .status()
        .unwrap();
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
    for args in [vec![], vec!["-d"]] {
        let out = Command::new(ZONEFS)
            .args(&args)
            .arg(d.path())
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("is not empty"), "{err}");
    }
}
