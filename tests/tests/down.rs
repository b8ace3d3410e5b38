//! `down` releases the zone's whole mount tree with one detach of `/`
//! (zsched's `detach_root`): afterwards zsched's mount namespace holds no
//! mount at all (before, `/` stayed until zsched exited), zsched still
//! answers, and halting leaves nothing on the host.

use std::time::Duration;
use zones::param::Value;
use zones_e2e::*;
use zones_linux::runtime::Runtime;

fn mountinfo(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/mountinfo"))
        .unwrap_or_else(|e| panic!("/proc/{pid}/mountinfo: {e}"))
}

#[test]
fn down_empties_the_zones_mount_namespace_in_one_step() {
    let mut z = TestZone::sparse("down1");
    z.set("initname", Value::Str("/bin/sleep".into()))
        .set("bootargs", Value::Str("1000".into()));
    let h = z.ready().expect("ready").clone();
    z.boot().expect("boot");
    let before = mountinfo(h.zsched_pid);
    assert!(
        before.lines().any(|l| l.split(' ').nth(4) == Some("/proc")),
        "{before}"
    );
    z.rt.shutdown(&h, Duration::from_secs(5)).expect("shutdown");
    z.rt.down(&h).expect("down");
    let after = mountinfo(h.zsched_pid);
    assert!(
        after.trim().is_empty(),
        "mounts left in the zone's namespace after down:\n{after}"
    );
    // A second down finds nothing to do and says so without error.
    z.rt.down(&h).expect("down again");
    let root = z.spec.root.clone();
    z.halt();
    assert!(
        zones_linux::runtime::linux::launch::start_time(h.zsched_pid).is_none(),
        "zsched still running after halt"
    );
    assert!(
        host_mounts_under(&root).is_empty(),
        "{:?}",
        host_mounts_under(&root)
    );
}
