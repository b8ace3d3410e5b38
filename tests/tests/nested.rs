//! A nested jail: its cgroup is inside its parent's, its pid namespace is
//! a child of its parent's (the parent sees its processes, it does not see
//! the parent's), and both halt leaving nothing.

use zones::param::Value;
use zones::runtime::linux::{alive, install, nspids};
use zones::zone::{Brand, ZoneName};
use zones_e2e::*;

#[test]
fn a_nested_jail_lives_inside_its_parents_cgroup_and_pid_namespace() {
    let mut parent = TestZone::sparse("parent");
    parent
        .set("initname", Value::Str("/bin/sleep".into()))
        .set("bootargs", Value::Str("1000".into()));
    parent.ready().expect("parent ready");
    parent.boot().expect("parent boot");

    let mut child =
        TestZone::with_root("child", Brand::Sparse, Some(parent.spec.root.join("child")));
    install::sparse(&child.spec.root, "child").unwrap();
    child.spec.name = ZoneName::new(&format!("{}.child", parent.spec.name)).unwrap();
    child.spec.parent = Some(parent.handle().clone());
    child
        .set("initname", Value::Str("/bin/sleep".into()))
        .set("bootargs", Value::Str("999".into()));
    child.ready().expect("child ready");
    child.boot().expect("child boot");
    let ch = child.handle().clone();
    let ph = parent.handle().clone();

    // cgroups nest.
    for d in &ch.cgroups {
        assert!(
            ph.cgroups.iter().any(|p| d.parent() == Some(p)),
            "{} not under the parent's",
            d.display()
        );
    }
    // pid namespaces nest: host, parent zone, child zone.
    assert_eq!(nspids(ch.zsched_pid).unwrap().len(), 3);
    let inside = child.run(&["/bin/ps", "-eo", "pid=,comm="]).stdout;
    let comms: Vec<&str> = inside
        .lines()
        .map(|l| l.split_whitespace().nth(1).unwrap_or(""))
        .collect();
    assert_eq!(comms, ["zsched", "sleep", "ps"], "{inside}");
    let seen_by_parent = parent.run(&["/bin/ps", "-eo", "comm=,args="]).stdout;
    assert!(seen_by_parent.contains("sleep 999"), "{seen_by_parent}");
    assert_eq!(
        seen_by_parent
            .lines()
            .filter(|l| l.starts_with("zsched"))
            .count(),
        2,
        "{seen_by_parent}"
    );

    child.halt();
    assert!(!alive(&ch));
    assert!(ch.cgroups.iter().all(|d| !d.exists()));
    assert!(alive(&ph));
    parent.halt();
    assert!(ph.cgroups.iter().all(|d| !d.exists()));
}
