//! `vnet = new` with `vnet.interface`: the runtime moves host interfaces
//! into the zone's own network namespace before init runs, and an unknown
//! interface fails ready with nothing moved and nothing left.

use std::process::Command;
use zones::param::Value;
use zones_e2e::*;

/// A veth pair on the host, deleted on drop (if still there).
struct Veth(String, String);

impl Veth {
    fn new(tag: &str) -> Veth {
        let n = std::process::id() % 100_000;
        let v = Veth(format!("{tag}{n}a"), format!("{tag}{n}b"));
        let ok = Command::new("ip")
            .args(["link", "add", &v.0, "type", "veth", "peer", "name", &v.1])
            .status()
            .expect("ip link add");
        assert!(ok.success(), "ip link add {} failed", v.0);
        v
    }
}

impl Drop for Veth {
    fn drop(&mut self) {
        for i in [&self.0, &self.1] {
            let _ = Command::new("ip").args(["link", "del", i]).output();
        }
    }
}

fn on_host(iface: &str) -> bool {
    Command::new("ip")
        .args(["link", "show", iface])
        .output()
        .expect("ip link show")
        .status
        .success()
}

#[test]
fn a_vnet_interface_is_in_the_zone_before_init_and_goes_with_its_namespace() {
    let veth = Veth::new("zv");
    let mut z = TestZone::sparse("vnet");
    z.set("vnet", Value::Str("new".into()))
        .set("vnet.interface", Value::List(vec![veth.0.clone()]))
        // init records what it saw at its start.
        .set(
            "command",
            Value::List(vec![
                "/bin/sh".into(),
                "-c".into(),
                "cat /proc/net/dev > /tmp/at-init; exec sleep 1000".into(),
            ]),
        );
    z.ready().expect("ready");
    assert!(!on_host(&veth.0), "{} is still on the host", veth.0);
    z.boot().expect("boot");
    let o = z.run(&["/bin/cat", "/proc/net/dev"]);
    assert_eq!(o.status, 0, "{o:?}");
    assert!(o.stdout.contains(&format!("{}:", veth.0)), "{}", o.stdout);
    assert!(o.stdout.contains("lo:"), "{}", o.stdout);
    assert!(!o.stdout.contains(&format!("{}:", veth.1)), "{}", o.stdout);
    // Seen by init itself, not only later.
    let mut seen = String::new();
    for _ in 0..100 {
        seen = std::fs::read_to_string(z.spec.root.join("tmp/at-init")).unwrap_or_default();
        if !seen.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(seen.contains(&format!("{}:", veth.0)), "init saw {seen:?}");
    // lo is up in the zone.
    let o = z.run(&["/bin/cat", "/sys/class/net/lo/operstate"]);
    assert_ne!(o.stdout.trim(), "down", "{o:?}");
    assert!(
        on_host(&veth.1),
        "the host keeps the peer while the zone runs"
    );
    z.halt();
    // The namespace ended: a virtual interface is deleted with it (and its
    // peer with it), as `ip netns del` does.
    let mut gone = false;
    for _ in 0..100 {
        if !on_host(&veth.1) {
            gone = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(gone, "the veth pair outlived the zone's namespace");
}

#[test]
fn an_unknown_interface_fails_ready_naming_it_and_moves_nothing() {
    let veth = Veth::new("zw");
    let mut z = TestZone::sparse("vnetbad");
    let missing = format!("zx{}", std::process::id() % 100_000);
    z.set("vnet", Value::Str("new".into())).set(
        "vnet.interface",
        Value::List(vec![veth.0.clone(), missing.clone()]),
    );
    let e = z.ready().unwrap_err();
    assert_eq!(e.step, "vnet", "{e}");
    assert!(e.message.contains(&missing), "{e}");
    assert_eq!(e.errno, Some(libc::ENODEV), "{e}");
    assert!(on_host(&veth.0), "{} was moved by a failed ready", veth.0);
    for d in z.cgroup_roots() {
        let kids: Vec<_> = std::fs::read_dir(&d)
            .map(|rd| rd.flatten().filter(|e| e.path().is_dir()).collect())
            .unwrap_or_default();
        assert!(kids.is_empty(), "cgroups left: {kids:?}");
    }
    let left: Vec<_> = std::fs::read_dir(z.rt.run_dir())
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn vnet_interface_without_vnet_new_is_refused() {
    let mut z = TestZone::sparse("vnetinh");
    z.set("vnet.interface", Value::List(vec!["lo".into()]));
    let e = z.ready().unwrap_err();
    assert!(e.message.contains("needs vnet = new"), "{e}");
}
