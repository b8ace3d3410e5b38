//! The cgroup2 paths that this hybrid host can run for real: in its
//! cgroup2 mount (no controllers are bound there, so pids.max, cpu.max and
//! memory.max cannot be proven here — core's unit tests check them against
//! recorded v2 trees), a zone cgroup is made beneath the test's own cgroup,
//! killed through cgroup.kill, frozen and killed through cgroup.freeze, and
//! removed.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use zones_e2e::require_root;
use zones_linux::runtime::linux::cgroup::{self, Layout};

fn unified_dir(tag: &str) -> Option<(cgroup::Hierarchy, PathBuf)> {
    let h = cgroup::hierarchies()
        .unwrap()
        .into_iter()
        .find(|h| h.is_v2())?;
    let root = PathBuf::from(format!("zones-e2e-v2-{}-{tag}", std::process::id()));
    let d = cgroup::zone_dir(&h, &root, None, "z.1");
    Some((h, d))
}

fn spawn_in(dir: &std::path::Path) -> std::process::Child {
    let procs = dir.join("cgroup.procs");
    let mut cmd = std::process::Command::new("/bin/sleep");
    cmd.arg("100");
    // SAFETY: the closure runs in the forked child before exec and only writes one small file (open, write, close); the test's parent holds no lock the child could need.
    unsafe {
        cmd.pre_exec(move || std::fs::write(&procs, "0"));
    }
    cmd.spawn().unwrap()
}

#[test]
fn cgroup_kill_and_cgroup_freeze_empty_a_real_cgroup2_cgroup() {
    require_root();
    let layout = cgroup::detect().unwrap();
    let Some((h, dir)) = unified_dir("kill") else {
        panic!("no cgroup2 hierarchy on this host ({layout:?})");
    };
    assert!(layout == Layout::Hybrid || layout == Layout::V2);
    let base = h.mount.join(h.own.strip_prefix("/").unwrap());
    let test_root = dir.parent().unwrap().to_path_buf();
    let _guard = Cleanup(test_root.clone());
    if layout == Layout::Hybrid {
        cgroup::create(&h, &dir, &base).unwrap();
    } else {
        // On a v2 host the test's own cgroup holds the test: enabling
        // controllers there is refused, which create() must say.
        if let Err(e) = cgroup::create(&h, &dir, &base) {
            assert!(e.message.contains("absolute cgroup root"), "{e}");
            return;
        }
    }
    assert!(
        dir.join("cgroup.kill").exists(),
        "kernel without cgroup.kill"
    );
    // cgroup.kill
    let mut a = spawn_in(&dir);
    let mut b = spawn_in(&dir);
    assert_eq!(cgroup::procs(&dir).len(), 2);
    cgroup::kill_all(std::slice::from_ref(&dir), None);
    assert!(a.wait().unwrap().code().is_none());
    assert!(b.wait().unwrap().code().is_none());
    // cgroup.freeze (with a member spared, as shutdown spares zsched)
    let mut keep = spawn_in(&dir);
    let mut gone = spawn_in(&dir);
    assert_eq!(cgroup::freezer(std::slice::from_ref(&dir)).unwrap().1, "1");
    cgroup::kill_all(std::slice::from_ref(&dir), Some(keep.id()));
    assert!(gone.wait().unwrap().code().is_none());
    assert!(
        keep.try_wait().unwrap().is_none(),
        "the spared member was killed"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("cgroup.freeze"))
            .unwrap()
            .trim(),
        "0",
        "left frozen"
    );
    // remove() kills the rest and removes the directories.
    cgroup::remove(std::slice::from_ref(&test_root)).unwrap();
    assert!(keep.wait().unwrap().code().is_none());
    assert!(!test_root.exists());
}

/// Removes the test's cgroups even when the test fails.
struct Cleanup(PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = cgroup::remove(std::slice::from_ref(&self.0));
    }
}
