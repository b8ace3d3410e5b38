//! The launcher's child joins the zone's cgroups without taking the
//! kernel's threadgroup lock for writing (born in the v2 cgroup with
//! clone3(CLONE_INTO_CGROUP), each v1 one through its `tasks` file:
//! `runtime::linux::cgjoin`): zsched and the init it forks must still be
//! in the zone's cgroup of every hierarchy, v1 and v2.

use zones::param::Value;
use zones_e2e::*;

fn procs(dir: &std::path::Path) -> Vec<u32> {
    let p = dir.join("cgroup.procs");
    std::fs::read_to_string(&p)
        .unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
        .split_whitespace()
        .map(|s| s.parse().unwrap())
        .collect()
}

#[test]
fn zsched_and_init_are_in_the_zones_cgroup_of_every_hierarchy() {
    require_root();
    let mut z = TestZone::sparse("cgjoin");
    z.set("initname", Value::Str("/bin/sleep".into()))
        .set("bootargs", Value::Str("1000".into()));
    let h = z.ready().expect("ready").clone();
    let init = z.boot().expect("boot");
    assert!(
        h.cgroups.len() >= 2,
        "expected the hybrid host's hierarchies, got {:?}",
        h.cgroups
    );
    let mut v2 = 0;
    for d in &h.cgroups {
        if zones_linux::runtime::linux::cgjoin::is_v2(d) {
            v2 += 1;
        }
        let p = procs(d);
        assert!(
            p.contains(&h.zsched_pid),
            "zsched {} not in {} ({p:?})",
            h.zsched_pid,
            d.display()
        );
        assert!(
            p.contains(&init),
            "init {init} not in {} ({p:?})",
            d.display()
        );
    }
    assert!(v2 >= 1, "no v2 hierarchy among {:?}", h.cgroups);
    z.halt();
    for d in &h.cgroups {
        assert!(!d.exists(), "{} left behind", d.display());
    }
}
