//! The launcher's child joins the zone's cgroups without taking the
//! kernel's threadgroup lock for writing (born in the v2 cgroup with
//! clone3(CLONE_INTO_CGROUP), each v1 one through its `tasks` file:
//! `runtime::linux::cgjoin`): zsched and the init it forks must still be
//! in the zone's cgroup of every hierarchy, v1 and v2; and so must a
//! process entered later (zlogin, jexec: `runtime::linux::enter`), which
//! joins the same way.

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

#[test]
fn an_entered_process_is_in_the_zones_cgroup_of_every_hierarchy() {
    require_root();
    let mut z = TestZone::sparse("cgjoinent");
    z.set("initname", Value::Str("/bin/sleep".into()))
        .set("bootargs", Value::Str("1000".into()));
    let h = z.ready().expect("ready").clone();
    z.boot().expect("boot");
    // The entered shell prints its host pid (from the host's view of its
    // own cgroup files, it stays alive while checked) and waits.
    let mut c = z
        .enter_command(&["/bin/sh", "-c", "echo $$; exec /bin/sleep 30"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("zenter");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(c.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    let inner: u32 = line.trim().parse().expect("the shell's pid");
    // Its host pid: the member of the zone's cgroup whose pid in the
    // zone's namespace is `inner` (NSpid's last field).
    let members = procs(&h.cgroups[0]);
    let host_pid = members
        .iter()
        .copied()
        .find(|p| {
            std::fs::read_to_string(format!("/proc/{p}/status"))
                .ok()
                .and_then(|s| {
                    let l = s.lines().find(|l| l.starts_with("NSpid:"))?.to_string();
                    l.split_whitespace().last()?.parse::<u32>().ok()
                })
                == Some(inner)
        })
        .unwrap_or_else(|| panic!("pid {inner} of the zone not among {members:?}"));
    for d in &h.cgroups {
        let p = procs(d);
        assert!(
            p.contains(&host_pid),
            "entered {host_pid} not in {} ({p:?})",
            d.display()
        );
    }
    let _ = c.kill();
    let _ = c.wait();
    z.halt();
}
