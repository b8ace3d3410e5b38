//! Many zones (issue 14, the correctness half of tests/benches/scale.sh,
//! which gives the figures for 1,000): 100 sparse zones booted through
//! zoned, each with one sleeping process; all running and listed, their
//! records, control sockets and cgroups exactly those of the zones; all
//! re-adopted with the same uniqids and zscheds after `kill -9` of zoned;
//! all halted with nothing left.

mod zhost;

use zhost::Host;

const N: usize = 100;

#[test]
fn a_hundred_zones_boot_are_listed_survive_a_restart_and_halt_leaving_nothing() {
    let names: Vec<String> = (1..=N).map(|i| format!("m{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut host = Host::sharing_root("many", &refs);
    assert!(host.start_zoned(None));
    for n in &refs {
        host.zoneadm_ok(&["-z", n, "boot"]);
    }
    let s = host.check("all booted");
    assert_eq!(s.zones.len(), N + 1, "global and every zone");
    let listed = host.zoneadm_ok(&["list"]);
    for n in &refs {
        assert!(listed.lines().any(|l| l == *n), "{n} listed: {listed}");
    }
    let ident = |s: &zones::snapshot::Snapshot| {
        let mut v: Vec<_> = s
            .zones
            .iter()
            .map(|z| (z.id, z.uniqid, z.zsched_pid, z.init_pid))
            .collect();
        v.sort();
        v
    };
    host.kill9_zoned();
    assert!(host.start_zoned(None));
    let again = host.check("after kill -9 of zoned");
    assert_eq!(
        ident(&again),
        ident(&s),
        "the same zones, uniqids, zscheds, inits"
    );
    host.halt_all();
}
