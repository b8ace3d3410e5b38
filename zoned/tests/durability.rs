//! zoned end to end, as root: the API socket, and the promise that zones
//! outlive the daemon — five zones keep running through `kill -9` of zoned
//! and a new zoned re-adopts them with the same ids, uniqids, statuses and
//! init pids, then halts each cleanly.
//!
//! Every test has its own state directory, socket, configuration, zone
//! roots and relative cgroup root; a guard kills its daemons and halts its
//! zones (through the embedded engine) even when the test fails.

mod common;

use common::*;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;
use zones::snapshot::Snapshot;
use zones::zone::Status;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_zones_survive_kill_9_of_zoned_and_are_readopted() {
    let names = ["d1", "d2", "d3", "d4", "d5"];
    let mut host = Host::new("dur", &names);
    host.start_zoned();
    for z in names {
        host.zoneadm_ok(&["-z", z, "install"]);
        host.zoneadm_ok(&["-z", z, "boot"]);
    }
    let before = snapshot(&host.socket()).await;
    let ident = |s: &Snapshot| {
        let mut v: Vec<_> = s
            .zones
            .iter()
            .filter(|z| !z.id.is_global())
            .map(|z| {
                (
                    z.id,
                    z.name.to_string(),
                    z.uniqid,
                    z.status,
                    z.init_pid,
                    z.zsched_pid,
                )
            })
            .collect();
        v.sort();
        v
    };
    let before_ids = ident(&before);
    assert_eq!(before_ids.len(), 5);
    for z in &before_ids {
        assert_eq!(z.3, Status::Running);
        assert!(z.4 != 0 && alive(z.4), "init of {} runs", z.1);
    }

    host.kill9_zoned();
    std::thread::sleep(Duration::from_millis(300));
    for z in &before_ids {
        assert!(alive(z.5), "zsched of {} survives kill -9 of zoned", z.1);
        assert!(alive(z.4), "init of {} survives kill -9 of zoned", z.1);
    }

    host.start_zoned();
    let after = snapshot(&host.socket()).await;
    assert_eq!(
        ident(&after),
        before_ids,
        "same ids, uniqids, statuses, init pids"
    );
    let listed = host.zoneadm_ok(&["list"]);
    for z in names {
        assert!(listed.contains(z), "{listed}");
    }

    for z in names {
        host.zoneadm_ok(&["-z", z, "halt"]);
    }
    for z in &before_ids {
        assert!(!alive(z.5), "zsched of {} is gone", z.1);
        assert!(!alive(z.4), "init of {} is gone", z.1);
    }
    let left: Vec<_> = std::fs::read_dir(host.dir.path().join("state/zones"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "state files left: {left:?}");
    let cg: Vec<PathBuf> = host
        .cgroup_dirs()
        .into_iter()
        .filter(|d| {
            std::fs::read_dir(d).is_ok_and(|mut r| r.any(|e| e.is_ok_and(|e| e.path().is_dir())))
        })
        .collect();
    assert!(cg.is_empty(), "zone cgroups left: {cg:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_zoned_on_the_same_socket_or_state_is_refused() {
    let mut host = Host::new("two", &[]);
    host.start_zoned();
    let mut c = Command::new(bin("zoned"));
    host.env(&mut c);
    let out = c.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("zoned: "), "{err}");
    assert!(err.contains("another engine answers there"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_zoned_leaves_zones_running() {
    let mut host = Host::new("stop", &["s1"]);
    host.start_zoned();
    host.zoneadm_ok(&["-z", "s1", "install"]);
    host.zoneadm_ok(&["-z", "s1", "boot"]);
    let z = snapshot(&host.socket())
        .await
        .zone_by_name("s1")
        .unwrap()
        .clone();
    let d = host.daemons.pop().unwrap();
    // SAFETY: a signal to a process we started, named by its pid (a negative one: its process group); no memory is passed.
    unsafe { libc::kill(d.id() as i32, libc::SIGTERM) };
    let mut d = d;
    let st = d.wait().unwrap();
    assert!(st.success(), "zoned exits 0 on SIGTERM");
    assert!(!host.socket().exists(), "the socket is removed");
    assert!(alive(z.zsched_pid) && alive(z.init_pid));
    // The embedded engine of the next tool re-adopts it and halts it.
    host.zoneadm_ok(&["-z", "s1", "halt"]);
    assert!(!alive(z.zsched_pid));
}
