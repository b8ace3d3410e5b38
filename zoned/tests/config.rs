//! zoned and its configuration, end to end as root: zones with `autoboot`
//! boot when zoned starts (and are re-adopted, not booted twice, by the
//! next zoned); the engine shows every configured zone; SIGHUP rereads the
//! file, and a broken file is logged with its file and line while the
//! configuration in force stays; a broken file at start is refused.

mod common;

use common::*;
use std::process::Command;
use zones::snapshot::Snapshot;
use zones::zone::Status;

fn running(s: &Snapshot, name: &str) -> bool {
    s.zone_by_name(name)
        .is_some_and(|z| z.status == Status::Running && z.init_pid != 0)
}

fn configured(s: &Snapshot) -> Vec<String> {
    let mut v: Vec<String> = s.configured.iter().map(|c| c.name.to_string()).collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autoboot_zones_boot_at_start_and_are_readopted_not_booted_again() {
    let conf = [
        sleeper("ab1", "  autoboot;\n  depend = ab2;\n"),
        sleeper("ab2", "  autoboot;\n"),
        sleeper("ab3", ""),
        // Configured for autoboot but not installed: logged, others boot.
        sleeper("ab4", "  autoboot;\n"),
    ]
    .concat();
    let mut host = Host::with_config("autoboot", &["ab1", "ab2", "ab3", "ab4"], &conf);
    for z in ["ab1", "ab2", "ab3"] {
        host.zoneadm_ok(&["-z", z, "install"]);
    }
    host.start_zoned();
    let s = wait_for(&host, "ab1 and ab2 running", |s| {
        running(s, "ab1") && running(s, "ab2")
    })
    .await;
    // ab2 is what ab1 depends on: it was created first.
    let (z1, z2) = (
        s.zone_by_name("ab1").unwrap(),
        s.zone_by_name("ab2").unwrap(),
    );
    assert!(z2.uniqid < z1.uniqid, "ab2 before ab1");
    assert!(s.zone_by_name("ab3").is_none(), "ab3 has no autoboot");
    assert!(s.zone_by_name("ab4").is_none(), "ab4 is not installed");
    assert_eq!(z1.params.bool("persist"), Some(true));
    assert_eq!(configured(&s), ["ab3", "ab4"], "configured, not running");
    let log = host.log();
    assert!(
        log.contains("ab4") && log.contains("must be installed before boot"),
        "{log}"
    );
    let ident = |s: &Snapshot| {
        ["ab1", "ab2"].map(|n| {
            let z = s.zone_by_name(n).unwrap();
            (z.id, z.uniqid, z.init_pid, z.zsched_pid)
        })
    };
    let before = ident(&s);

    // A new zoned re-adopts them: same zones, not booted a second time.
    host.kill9_zoned();
    host.start_zoned();
    let s = wait_for(&host, "ab1 and ab2 re-adopted", |s| {
        running(s, "ab1") && running(s, "ab2")
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let s2 = snapshot(&host.socket()).await;
    assert_eq!(ident(&s), before);
    assert_eq!(ident(&s2), before);
    assert_eq!(s2.zones.len(), 3, "global, ab1, ab2");
    assert!(
        host.log().contains("autoboot: already running"),
        "{}",
        host.log()
    );

    for z in ["ab1", "ab2"] {
        host.zoneadm_ok(&["-z", z, "halt"]);
    }
    for (_, _, init, zsched) in before {
        assert!(!alive(init) && !alive(zsched));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_rereads_the_configuration_and_a_broken_file_keeps_the_old_one() {
    let mut host = Host::with_config("hup", &["h1", "h2"], &sleeper("h1", ""));
    host.start_zoned();
    let pid = host.daemons[0].id() as i32;
    wait_for(&host, "h1 configured", |s| configured(s) == ["h1"]).await;

    host.write_config(&[sleeper("h1", ""), sleeper("h2", "")].concat());
    // SAFETY: a signal to a process we started, named by its pid (a negative one: its process group); no memory is passed.
    unsafe { libc::kill(pid, libc::SIGHUP) };
    wait_for(&host, "h2 configured", |s| configured(s) == ["h1", "h2"]).await;

    // A broken file: the error names the file and the line; h1 and h2 stay.
    host.write_config("h1 {\n  path = \"/x\";\n}\nh3 {\n  persist = ;\n}\n");
    // SAFETY: a signal to a process we started, named by its pid (a negative one: its process group); no memory is passed.
    unsafe { libc::kill(pid, libc::SIGHUP) };
    let conf = host.dir.path().join("jail.conf").display().to_string();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !host.log().contains("configuration not changed") {
        assert!(std::time::Instant::now() < deadline, "{}", host.log());
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let log = host.log();
    let line = log
        .lines()
        .find(|l| l.contains("configuration not changed"))
        .unwrap();
    assert!(line.contains(&format!("{conf} line 5")), "{line}");
    assert!(line.contains("ERROR"), "{line}");
    assert!(!line.contains('\x1b'), "no colours in the log: {line}");
    let s = snapshot(&host.socket()).await;
    assert_eq!(configured(&s), ["h1", "h2"]);

    // A zone that boots is no longer shown as merely configured; the
    // daemon still runs after all this.
    host.write_config(&[sleeper("h1", ""), sleeper("h2", "")].concat());
    host.zoneadm_ok(&["-z", "h2", "install"]);
    host.zoneadm_ok(&["-z", "h2", "boot"]);
    // SAFETY: a signal to a process we started, named by its pid (a negative one: its process group); no memory is passed.
    unsafe { libc::kill(pid, libc::SIGHUP) };
    let s = wait_for(&host, "h2 running, h1 configured", |s| {
        running(s, "h2") && configured(s) == ["h1"]
    })
    .await;
    assert!(host.daemons[0].try_wait().unwrap().is_none(), "zoned runs");
    assert_eq!(
        s.configured[0].state,
        zones::zone::AdminState::Configured,
        "h1's root is not there"
    );
    host.zoneadm_ok(&["-z", "h2", "halt"]);
}

#[test]
fn a_broken_configuration_at_start_is_refused_naming_file_and_line() {
    let host = Host::with_config("broken", &[], "a {\n  path = \"/x\";\n\n  persist = ;\n}\n");
    let mut c = Command::new(bin("zoned"));
    host.env(&mut c);
    let out = c.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let conf = host.dir.path().join("jail.conf").display().to_string();
    assert!(err.starts_with(&format!("zoned: {conf} line 4: ")), "{err}");
    assert!(!host.socket().exists(), "no socket left");
}
