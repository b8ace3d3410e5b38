//! Many zones (issue 14, the correctness half of tests/benches/scale.sh,
//! which gives the figures for 1,000): 100 sparse zones booted through
//! zoned, each with one sleeping process; all running and listed, their
//! records, control sockets and cgroups exactly those of the zones; all
//! re-adopted with the same uniqids and zscheds after `kill -9` of zoned;
//! all halted with nothing left. zoned's descriptors after the sampler
//! has read every zone: none per thread, and the cgroup files it keeps
//! within its budget (a quarter of its RLIMIT_NOFILE).

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
    descriptors_are_bounded(&host);
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

/// zoned's descriptors once the sampler has read every zone (a few ticks):
/// no thread's schedstat kept open (the host's threads, 200 of them in
/// these zones alone, must not decide how many descriptors zoned holds),
/// and the cgroup files within a quarter of its soft RLIMIT_NOFILE.
fn descriptors_are_bounded(host: &zhost::Host) {
    let pid = host.daemon.as_ref().expect("zoned runs").id();
    std::thread::sleep(std::time::Duration::from_secs(3));
    let nofile = std::fs::read_to_string(format!("/proc/{pid}/limits"))
        .unwrap()
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| {
            l.split_whitespace()
                .nth(3)
                .and_then(|v| v.parse::<usize>().ok())
        })
        .expect("Max open files");
    // zoned raises its hard limit to 65,536 where it has CAP_SYS_RESOURCE
    // (not in every container: then it keeps the one it was given).
    let (mut threads, mut zscheds, mut cgroup, mut all) = (0, 0, 0, 0);
    for e in std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .flatten()
    {
        all += 1;
        let Ok(t) = std::fs::read_link(e.path()) else {
            continue;
        };
        let t = t.to_string_lossy().into_owned();
        // The sampler keeps each zone's zsched schedstat (its quiet-zone
        // probe takes zsched's own wakeups out of the zone's CPU clock):
        // one per zone; never one per host thread.
        if let Some(pid) = t
            .strip_prefix("/proc/")
            .and_then(|r| r.strip_suffix("/schedstat"))
        {
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            if comm.trim() == "zsched" {
                zscheds += 1;
            } else {
                threads += 1;
            }
        }
        if t.starts_with("/sys/fs/cgroup/") {
            cgroup += 1;
        }
    }
    eprintln!("zoned with {N} zones: {all} descriptors, {cgroup} cgroup files, limit {nofile}");
    assert_eq!(threads, 0, "no host thread's schedstat kept open");
    assert!(
        zscheds <= N,
        "{zscheds} zsched schedstat files for {N} zones"
    );
    assert!(
        cgroup > N,
        "the sampler keeps the zones' cgroup files: {cgroup}"
    );
    assert!(
        cgroup <= nofile / 4,
        "{cgroup} cgroup files over the budget"
    );
}
