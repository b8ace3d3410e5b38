//! zoneadm when zoned does not answer (cli.md, zoneadm, "zoneadm and
//! zoned"; issue 14): with zoned's socket present but nobody accepting
//! on it (zoned killed) or nobody answering (zoned stopped), zoneadm exits
//! 1 naming the socket and runs no engine of its own — the zones, their
//! cgroups and records stay exactly as they were; with no socket at all
//! it runs the engine itself, as documented.

mod zhost;

use std::time::{Duration, Instant};
use zhost::Host;

fn refused(host: &Host, args: &[&str], why: &str) -> String {
    let out = host.zoneadm(args);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    eprintln!("zoneadm {args:?} ({why}): {err}");
    assert_eq!(
        out.status.code(),
        Some(1),
        "zoneadm {args:?} ({why}): {err}"
    );
    let want = format!(
        "zoneadm: zoned does not answer on {}: ",
        host.socket().display()
    );
    assert!(err.starts_with(&want), "{why}: {err}");
    assert!(
        err.contains(&host.state_dir().display().to_string()),
        "{why}: names the state directory: {err}"
    );
    err
}

#[test]
fn zoneadm_starts_no_second_engine_when_zoneds_socket_does_not_answer() {
    let mut host = Host::new("refuse", &["a", "b"]);
    assert!(host.start_zoned(None));
    host.zoneadm_ok(&["-z", "a", "boot"]);
    let before = host.check("a booted");
    let cgroups = host.zone_cgroups();
    let records = std::fs::read_dir(host.state_dir().join("zones"))
        .unwrap()
        .count();

    // Stopped: connections queue, no hello. zoneadm gives up after its
    // hello timeout instead of taking over.
    let zoned = host.daemon.as_ref().unwrap().id() as i32;
    // SAFETY: kill takes plain integers.
    unsafe { libc::kill(zoned, libc::SIGSTOP) };
    let t = Instant::now();
    let err = refused(&host, &["-z", "b", "boot"], "zoned stopped");
    assert!(err.contains("no hello"), "{err}");
    assert!(t.elapsed() < Duration::from_secs(20), "{:?}", t.elapsed());
    // SAFETY: as above.
    unsafe { libc::kill(zoned, libc::SIGCONT) };
    assert_eq!(host.zone_cgroups(), cgroups, "b was not booted");

    // Killed, its socket left behind: connection refused.
    let mut d = host.daemon.take().unwrap();
    d.kill().unwrap();
    d.wait().unwrap();
    assert!(host.socket().exists());
    for args in [&["-z", "b", "boot"][..], &["list"], &["-z", "a", "halt"]] {
        let err = refused(&host, args, "zoned killed");
        assert!(err.contains("Connection refused"), "{err}");
    }
    assert_eq!(host.zone_cgroups(), cgroups, "nothing booted or halted");
    assert_eq!(
        std::fs::read_dir(host.state_dir().join("zones"))
            .unwrap()
            .count(),
        records,
        "no record written"
    );

    // No socket: the documented mode without a daemon, an engine of
    // zoneadm's own, which sees a.
    std::fs::remove_file(host.socket()).unwrap();
    let listed = host.zoneadm_ok(&["list"]);
    assert!(listed.lines().any(|l| l == "a"), "{listed}");

    assert!(host.start_zoned(None));
    let after = host.check("zoned back");
    let ids = |s: &zones::snapshot::Snapshot| {
        let mut v: Vec<_> = s.zones.iter().map(|z| (z.uniqid, z.zsched_pid)).collect();
        v.sort();
        v
    };
    assert_eq!(ids(&after), ids(&before));
    host.halt_all();
}
