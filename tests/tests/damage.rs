//! Damaged state (issue 14): `engine.json` emptied, garbled or torn; one
//! zone record garbled; the state directory read-only; a full file system
//! (a small tmpfs as the state directory). In every case no running zone
//! is lost or orphaned, uniqids stay unique (a new zone's is above every
//! live one's), and each message names the file. A write that fails
//! fails the operation that needed it, with the path, and undoes it:
//! the zone it would have made does not run ([`zhost::Host::check`]
//! after every step).

mod zhost;

use std::path::Path;
use zhost::Host;

/// Boot `names` under a fresh zoned; their (name, uniqid, zsched pid).
fn booted(host: &mut Host, names: &[&str]) -> Vec<(String, u64, u32)> {
    assert!(host.start_zoned(None));
    for n in names {
        host.zoneadm_ok(&["-z", n, "boot"]);
    }
    let s = host.check("booted");
    let mut v: Vec<_> = s
        .zones
        .iter()
        .filter(|z| !z.id.is_global())
        .map(|z| (z.name.to_string(), z.uniqid, z.zsched_pid))
        .collect();
    v.sort();
    v
}

fn same_zones(host: &mut Host, what: &str, want: &[(String, u64, u32)]) -> u64 {
    let s = host.check(what);
    let mut got: Vec<_> = s
        .zones
        .iter()
        .filter(|z| !z.id.is_global())
        .map(|z| (z.name.to_string(), z.uniqid, z.zsched_pid))
        .collect();
    got.sort();
    assert_eq!(
        got,
        want,
        "{what}: the same zones, uniqids, zscheds\n{}",
        host.log()
    );
    got.iter().map(|z| z.1).max().unwrap_or(0)
}

/// A new zone after the damage gets a uniqid above every live one's.
fn new_zone_is_unique(host: &mut Host, name: &str, above: u64) {
    host.zoneadm_ok(&["-z", name, "boot"]);
    let s = host.check(&format!("{name} booted after the damage"));
    let z = s.zone_by_name(name).expect("booted");
    assert!(
        z.uniqid > above,
        "{name} got uniqid {} (live up to {above})",
        z.uniqid
    );
}

#[test]
fn a_damaged_engine_json_orphans_no_zone_and_uniqids_stay_unique() {
    type Damage = fn(&[u8]) -> Vec<u8>;
    let cases: [(&str, Damage); 3] = [
        ("emptied", |_| Vec::new()),
        ("garbled", |_| b"\x00\x17not { json".to_vec()),
        ("torn", |b| b[..b.len() / 2].to_vec()),
    ];
    for (how, damage) in cases {
        let mut host = Host::new(&format!("dmg-engine-{how}"), &["a", "b", "c"]);
        let before = booted(&mut host, &["a", "b"]);
        host.kill9_zoned();
        let ej = host.state_dir().join("engine.json");
        let old = std::fs::read(&ej).unwrap();
        std::fs::write(&ej, damage(&old)).unwrap();
        assert!(host.start_zoned(None), "{how}: zoned starts");
        let log = host.log();
        assert!(
            log.contains(&format!("{}:", ej.display())),
            "{how}: the message names {}:\n{log}",
            ej.display()
        );
        let high = same_zones(&mut host, how, &before);
        new_zone_is_unique(&mut host, "c", high);
        // And across one more restart (engine.json is whole again).
        host.kill9_zoned();
        assert!(host.start_zoned(None));
        host.halt_all();
    }
}

#[test]
fn one_garbled_record_blocks_no_other_and_its_zone_is_recovered_from_the_kernel() {
    let mut host = Host::new("dmg-record", &["a", "b", "c"]);
    let before = booted(&mut host, &["a", "b"]);
    host.kill9_zoned();
    let a = before.iter().find(|z| z.0 == "a").unwrap();
    let rec = host.state_dir().join(format!("zones/{}.json", a.1));
    std::fs::write(&rec, b"{ \"id\": 1, \"name\": ").unwrap();
    assert!(host.start_zoned(None));
    let log = host.log();
    assert!(
        log.contains(&format!("{}:", rec.display())),
        "the message names {}:\n{log}",
        rec.display()
    );
    assert!(Path::new(&format!("{}.damaged", rec.display())).exists());
    let high = same_zones(&mut host, "one record garbled", &before);
    new_zone_is_unique(&mut host, "c", high);
    host.halt_all();
    assert!(
        !Path::new(&format!("{}.damaged", rec.display())).exists(),
        "the damaged copy goes with its zone"
    );
}

#[test]
fn a_read_only_state_directory_fails_boot_naming_the_file_and_runs_nothing() {
    let mut host = Host::new("dmg-ro", &["a", "b"]);
    let before = booted(&mut host, &["a"]);
    host.state_read_only(true);
    let out = host.zoneadm(&["-z", "b", "boot"]);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    eprintln!("boot on a read-only state directory: {err}");
    assert!(!out.status.success(), "boot on a read-only state directory");
    assert!(err.starts_with("zoneadm: "), "{err}");
    assert!(
        err.contains(&host.state_dir().display().to_string()),
        "names the file: {err}"
    );
    assert!(err.contains("Read-only file system"), "{err}");
    same_zones(&mut host, "b refused", &before);
    // Halting works (a later engine would finish it anyway); its record
    // cannot be removed until the directory is writable again.
    host.zoneadm_ok(&["-z", "a", "halt"]);
    host.kill9_zoned();
    host.state_read_only(false);
    assert!(host.start_zoned(None));
    same_zones(&mut host, "after the remount", &[]);
    new_zone_is_unique(&mut host, "b", before[0].1);
    host.halt_all();

    // Only the records read-only: engine.json is written, the zone's
    // record is not. A create fails and leaves nothing; a boot of a
    // ready zone fails and leaves it ready, init not started.
    host.zoneadm_ok(&["-z", "a", "ready"]);
    let zones = host.state_dir().join("zones");
    host.read_only(&zones, true);
    for (zone, op) in [("b", "boot"), ("a", "boot")] {
        let out = host.zoneadm(&["-z", zone, op]);
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        eprintln!("{op} {zone} with read-only records: {err}");
        assert!(!out.status.success(), "{op} {zone} with read-only records");
        assert!(
            err.contains(&format!("{}/", zones.display())),
            "names the record: {err}"
        );
        assert!(err.contains("Read-only file system"), "{err}");
    }
    let s = host.check("records read-only");
    assert_eq!(s.zones.len(), 2, "global and a");
    let a = s.zone_by_name("a").expect("a stays");
    assert_eq!(a.status, zones::zone::Status::Ready);
    assert_eq!(a.init_pid, 0, "init never started");
    host.read_only(&zones, false);
    host.zoneadm_ok(&["-z", "a", "boot"]);
    host.check("a booted once writable");
    host.halt_all();
}

#[test]
fn a_full_file_system_fails_boot_naming_the_file_and_loses_no_running_zone() {
    let mut host = Host::new("dmg-full", &["a", "b", "c", "d"]);
    let state = host.state_on_tmpfs("1m");
    let before = booted(&mut host, &["a", "b", "c"]);
    // Fill what is left.
    let fill = state.join("fill");
    let st = std::process::Command::new("dd")
        .args(["if=/dev/zero", "bs=4k"])
        .arg(format!("of={}", fill.display()))
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(!st.success(), "dd stops at ENOSPC");
    let out = host.zoneadm(&["-z", "d", "boot"]);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    eprintln!("boot on a full state directory: {err}");
    assert!(!out.status.success(), "boot on a full state directory");
    assert!(
        err.contains(&state.display().to_string()),
        "names the file: {err}"
    );
    assert!(err.contains("No space left on device"), "{err}");
    same_zones(&mut host, "d refused", &before);
    // kill -9 with the disk still full: every zone re-adopted.
    host.kill9_zoned();
    assert!(
        host.start_zoned(None),
        "zoned starts on a full state directory"
    );
    let high = same_zones(&mut host, "restarted on a full disk", &before);
    std::fs::remove_file(&fill).unwrap();
    new_zone_is_unique(&mut host, "d", high);
    host.kill9_zoned();
    assert!(host.start_zoned(None));
    host.halt_all();
}

#[test]
fn a_restart_kills_no_live_zone_whose_zsched_is_stopped_or_whose_socket_is_gone() {
    let mut host = Host::new("dmg-unseen", &["a", "b"]);
    let before = booted(&mut host, &["a", "b"]);
    host.kill9_zoned();
    let (za, zb) = (before[0].2, before[1].2);
    // a's zsched stopped, b's control socket (the whole run/) removed.
    // SAFETY: kill takes plain integers.
    unsafe { libc::kill(za as i32, libc::SIGSTOP) };
    std::fs::remove_dir_all(host.state_dir().join("run")).unwrap();
    assert!(host.start_zoned(None));
    let s = host.snapshot();
    for (name, uniqid, zsched) in &before {
        let z = s
            .zone_by_name(name)
            .unwrap_or_else(|| panic!("{name} is listed\n{}", host.log()));
        assert_eq!((z.uniqid, z.zsched_pid), (*uniqid, *zsched));
        assert_eq!(z.status, zones::zone::Status::Running, "{name}");
        assert!(zhost::zones_e2e_alive(*zsched), "zsched of {name} lives");
        assert!(zhost::zones_e2e_alive(z.init_pid), "init of {name} lives");
    }
    let cg = host.zone_cgroups();
    assert_eq!(cg.len(), 2, "both zones' cgroups are kept: {cg:?}");
    // Continued, a is followed again; both halt, leaving nothing.
    // SAFETY: kill takes plain integers.
    unsafe { libc::kill(za as i32, libc::SIGCONT) };
    host.zoneadm_ok(&["-z", "a", "halt"]);
    host.zoneadm_ok(&["-z", "b", "halt"]);
    assert!(!zhost::zones_e2e_alive(za) && !zhost::zones_e2e_alive(zb));
    host.check("both halted");
    assert_eq!(host.snapshot().zones.len(), 1);
}
