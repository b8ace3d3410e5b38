//! Issue 14 item 10, end to end as root: a jail.conf that does not parse
//! (an unterminated string in another zone's block) does not stop the
//! running zones' operations. A real sparse zone is installed and booted
//! from a good file; then the file is broken, and `zoneadm list`,
//! `zoneadm list -v`, `jls` and `zoneadm -z ok halt` still work (they
//! need the running zones' state, not the file), while `zoneadm boot` and
//! `jail -c` refuse naming the file and the line. Once with the embedded
//! engine, once through zoned.
//!
//! The configuration is given by `ZONES_CONFIG` (never /etc/jail.conf);
//! each test has its own state directory, socket and relative cgroup
//! root, and a guard kills its zoned and halts its zones when it ends.

use std::process::Output;
use std::time::{Duration, Instant};
use zones_e2e::Host;

/// A private host ([`Host`]) whose zone `ok` is halted when it ends.
fn host(tag: &str) -> Host {
    let mut h = Host::new(&format!("brokenconf-{tag}"));
    h.halt_on_drop = vec!["ok".into()];
    h
}

/// jail.conf: the zone `ok`, then `other_block`.
fn write_conf(host: &Host, other_block: &str) {
    let d = host.dir.path().display();
    Host::write_conf(
        host,
        &format!(
            "ok {{\n  path = \"{d}/roots/ok\";\n  brand = sparse;\n  initname = \"/bin/sleep\";\n  bootargs = \"100000\";\n}}\n{other_block}"
        ),
    );
}

/// The zone's init (`sleep 100000`) processes, found in the cgroups
/// beneath this host's cgroup root.
fn sleepers(host: &Host) -> Vec<u32> {
    fn walk(dir: &std::path::Path, out: &mut Vec<u32>) {
        if let Ok(procs) = std::fs::read_to_string(dir.join("cgroup.procs")) {
            out.extend(procs.lines().filter_map(|l| l.trim().parse::<u32>().ok()));
        }
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                walk(&e.path(), out);
            }
        }
    }
    let mut pids = Vec::new();
    for d in zones_e2e::cgroup_dirs(&host.cgroup_root) {
        walk(&d, &mut pids);
    }
    pids.sort_unstable();
    pids.dedup();
    pids.retain(|p| {
        std::fs::read(format!("/proc/{p}/cmdline")).is_ok_and(|c| c == b"/bin/sleep\x00100000\x00")
    });
    pids
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn running_zone_is_listed_and_halted_with_a_broken_file(with_zoned: bool) {
    let tag = if with_zoned { "bc-zoned" } else { "bc-embed" };
    let mut host = host(tag);
    write_conf(&host, "other {\n  path = \"/nowhere\";\n}\n");
    if with_zoned {
        host.start_zoned();
    }
    host.ok("zoneadm", &["-z", "ok", "install"]);
    host.ok("zoneadm", &["-z", "ok", "boot"]);
    assert_eq!(host.ok("zoneadm", &["list"]), "global\nok\n");

    // Break the file in the other zone's block: an unterminated string.
    write_conf(&host, "other {\n  path = \"/nowhere;\n  persist;\n}\n");
    let conf = host.conf().display().to_string();
    let msg = format!("{conf} line 8: unterminated string");

    // The running zone is listed, by zoneadm and by jls.
    assert_eq!(host.ok("zoneadm", &["list"]), "global\nok\n");
    let v = host.ok("zoneadm", &["list", "-v"]);
    assert!(
        v.lines()
            .any(|l| l.contains(" ok ") && l.contains("running")),
        "{v}"
    );
    assert_eq!(sleepers(&host).len(), 1, "the zone's init runs");
    let jls = host.ok("jls", &["-N"]);
    assert!(jls.lines().any(|l| l.contains("ok")), "{jls}");
    // list -c shows what runs, says the file is broken, exits 1.
    let o = host.run("zoneadm", &["list", "-c"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "global\nok\n");
    assert!(
        stderr(&o).starts_with(&format!("zoneadm: {msg}\n")),
        "{}",
        stderr(&o)
    );

    // Making a zone from the file is refused, naming file and line.
    let o = host.run("jail", &["-c", "other"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with(&format!("jail: {msg}\n")),
        "{}",
        stderr(&o)
    );
    let o = host.run("zoneadm", &["-z", "ok", "reboot"]);
    assert!(o.status.success(), "reboot needs no file: {}", stderr(&o));

    // halt works, and the zone's processes are gone.
    let deadline = Instant::now() + Duration::from_secs(10);
    while sleepers(&host).len() != 1 {
        assert!(Instant::now() < deadline, "no init after reboot");
        std::thread::sleep(Duration::from_millis(50));
    }
    host.ok("zoneadm", &["-z", "ok", "halt"]);
    assert_eq!(host.ok("zoneadm", &["list"]), "global\n");
    assert!(sleepers(&host).is_empty(), "the zone's processes are gone");
    // boot reads the file: refused, nothing started.
    let o = host.run("zoneadm", &["-z", "ok", "boot"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with(&format!("zoneadm: {msg}\n")),
        "{}",
        stderr(&o)
    );
    assert_eq!(host.ok("zoneadm", &["list"]), "global\n");
    assert!(sleepers(&host).is_empty());
}

#[test]
fn a_broken_file_does_not_stop_list_and_halt_of_a_running_zone_embedded() {
    running_zone_is_listed_and_halted_with_a_broken_file(false);
}

#[test]
fn a_broken_file_does_not_stop_list_and_halt_of_a_running_zone_through_zoned() {
    running_zone_is_listed_and_halted_with_a_broken_file(true);
}
