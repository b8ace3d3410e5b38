//! A nested jail: its cgroup is inside its parent's, its pid namespace is
//! a child of its parent's (the parent sees its processes, it does not see
//! the parent's), and both halt leaving nothing.

use zones::param::Value;
use zones::zone::{Brand, ZoneName};
use zones_e2e::*;
use zones_linux::runtime::linux::{alive, install, nspids};

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

/// The parent zone's root user points the child's root at a host
/// directory (a private one, so only the parent check can catch it): the
/// child is refused at ready and nothing is made in that directory; a link
/// that stays inside the parent's root is fine.
#[test]
fn a_nested_root_through_a_link_the_parent_planted_is_refused() {
    let mut parent = TestZone::sparse("plink");
    parent
        .set("initname", Value::Str("/bin/sleep".into()))
        .set("bootargs", Value::Str("1000".into()));
    parent.ready().expect("parent ready");
    parent.boot().expect("parent boot");
    let hostdir = parent.tmp.path().join("hostdir");
    std::fs::create_dir(&hostdir).unwrap();
    std::fs::write(hostdir.join("passwd"), "host\n").unwrap();
    let o = parent.sh(&format!("ln -s {} /child", hostdir.display()));
    assert_eq!(o.status, 0, "{}", o.stderr);

    let mut child =
        TestZone::with_root("clink", Brand::Sparse, Some(parent.spec.root.join("child")));
    child.spec.name = ZoneName::new(&format!("{}.child", parent.spec.name)).unwrap();
    child.spec.parent = Some(parent.handle().clone());
    let e = child
        .ready()
        .expect_err("a child rooted outside its parent");
    assert!(
        e.to_string().contains("outside its parent zone's root"),
        "{e}"
    );
    let names: Vec<_> = std::fs::read_dir(&hostdir).unwrap().flatten().collect();
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(
        child
            .cgroup_roots()
            .iter()
            .all(|d| !d.exists() || std::fs::read_dir(d).unwrap().next().is_none())
    );
    // The engine resolves the same path inside the parent's root: the link
    // leads nowhere there, so it is refused, not followed.
    assert!(
        zones_linux::runtime::linux::inroot::nested_root(&parent.spec.root, &child.spec.root)
            .is_err()
    );

    // A link that stays inside the parent's root resolves there.
    let o = parent.sh("mkdir -p /zones/inner && ln -s /zones/inner /child2");
    assert_eq!(o.status, 0, "{}", o.stderr);
    let got = zones_linux::runtime::linux::inroot::nested_root(
        &parent.spec.root,
        &parent.spec.root.join("child2"),
    )
    .unwrap();
    assert_eq!(got, parent.spec.root.join("zones/inner"));
    parent.halt();
}
