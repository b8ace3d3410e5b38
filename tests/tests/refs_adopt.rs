//! What holds a zone (refs) and a new runtime finding a zone made by an
//! earlier one (adopt).

use std::time::{Duration, Instant};
use zones::param::Value;
use zones::snapshot::Subsys;
use zones_e2e::*;
use zones_linux::runtime::linux::alive;
use zones_linux::runtime::{Adopted, Runtime, RuntimeEvent};

fn booted(tag: &str) -> TestZone {
    let mut z = TestZone::sparse(tag);
    z.set("initname", Value::Str("/bin/sleep".into()))
        .set("bootargs", Value::Str("1000".into()))
        .set("initnorestart", Value::Bool(true));
    z.ready().expect("ready");
    z.boot().expect("boot");
    z
}

#[test]
fn refs_count_processes_mounts_and_ipc_objects_and_drain_on_halt() {
    let z = booted("refs");
    let id = z.spec.id;
    let r = z.rt.refs(id, z.handle());
    assert_eq!(r.cred, 1, "init only: {r:?}");
    let vfs = r.subsys[Subsys::Vfs as usize];
    // /usr, /proc, /sys, /dev, /dev/pts, /dev/shm at least.
    assert!(vfs >= 6, "{r:?}");
    assert_eq!(r.subsys[Subsys::Ipc as usize], 0);
    // An entered process counts; the helper that entered it does not.
    let hf = z.tmp.path().join("h.json");
    std::fs::write(&hf, serde_json::to_string(z.handle()).unwrap()).unwrap();
    let mut session = std::process::Command::new(bin("zenter"))
        .arg(&hf)
        .args(["--", "/bin/sleep", "2"])
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(z.rt.refs(id, z.handle()).cred, 2);
    assert_eq!(session.wait().unwrap().code(), Some(0));
    assert_eq!(z.rt.refs(id, z.handle()).cred, 1);
    let o = z.run(&["/usr/bin/ipcmk", "-M", "4096"]);
    assert_eq!(o.status, 0, "{o:?}");
    let r = z.rt.refs(id, z.handle());
    assert_eq!(r.subsys[Subsys::Ipc as usize], 1, "{r:?}");
    // The host's IPC namespace does not see it.
    let host = std::process::Command::new("/usr/bin/ipcs")
        .arg("-m")
        .output()
        .unwrap();
    let zone_key_line = z.run(&["/usr/bin/ipcs", "-m"]).stdout;
    let zone_ids: Vec<&str> = zone_key_line
        .lines()
        .filter(|l| l.starts_with("0x"))
        .collect();
    assert_eq!(zone_ids.len(), 1, "{zone_key_line}");
    assert!(!String::from_utf8_lossy(&host.stdout).contains(zone_ids[0]));
    let h = z.handle().clone();
    z.rt.shutdown(&h, Duration::from_secs(5)).unwrap();
    assert_eq!(z.rt.refs(id, &h).cred, 0);
    z.rt.down(&h).unwrap();
    let r = z.rt.refs(id, &h);
    assert_eq!(r.subsys[Subsys::Vfs as usize], 0, "{r:?}");
}

fn wait_for(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<RuntimeEvent>,
    f: impl Fn(&RuntimeEvent) -> bool,
) -> Vec<RuntimeEvent> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        match rx.try_recv() {
            Ok(e) => {
                let done = f(&e);
                seen.push(e);
                if done {
                    return seen;
                }
            }
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    panic!("event not seen; saw {seen:?}");
}

#[test]
fn a_new_runtime_adopts_a_live_zone_and_its_events_flow() {
    let z = booted("adopt");
    let h = z.handle().clone();
    // A second runtime, as after an engine restart.
    let rt2 = z.new_runtime();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    rt2.subscribe(tx);
    match rt2.adopt(&z.spec, &h) {
        Adopted::Alive { handle, user_procs } => {
            assert_eq!(handle, h);
            assert!(user_procs);
        }
        Adopted::Gone => panic!("a live zone was not adopted"),
    }
    assert!(h.init_pid > 1);
    // SAFETY: a signal to a process we started, named by its pid (a negative one: its process group); no memory is passed.
    unsafe { libc::kill(h.init_pid as i32, libc::SIGTERM) };
    let seen = wait_for(&mut rx, |e| matches!(e, RuntimeEvent::Empty { .. }));
    assert!(
        seen.iter().any(
            |e| matches!(e, RuntimeEvent::InitExited { status, .. } if *status == libc::SIGTERM)
        ),
        "{seen:?}"
    );
}

#[test]
fn adopting_a_zone_whose_zsched_died_cleans_up_and_says_gone() {
    let mut z = booted("gone");
    let h = z.handle().clone();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    z.rt.subscribe(tx);
    // SAFETY: a signal to a process we started, named by its pid (a negative one: its process group); no memory is passed.
    unsafe { libc::kill(h.zsched_pid as i32, libc::SIGKILL) };
    let deadline = Instant::now() + Duration::from_secs(5);
    while alive(&h) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!alive(&h));
    wait_for(&mut rx, |e| matches!(e, RuntimeEvent::Gone { .. }));
    let rt2 = z.new_runtime();
    assert_eq!(rt2.adopt(&z.spec, &h), Adopted::Gone);
    for d in &h.cgroups {
        assert!(!d.exists(), "{} left", d.display());
    }
    assert!(!h.control.exists());
    z.handle = None;
}

#[test]
fn adopt_finds_an_init_that_was_restarted_while_no_engine_ran() {
    let mut z = TestZone::sparse("readopt");
    z.set("initname", Value::Str("/bin/sleep".into()))
        .set("bootargs", Value::Str("1000".into()));
    z.ready().expect("ready");
    z.boot().expect("boot");
    let h = z.handle().clone();
    // SAFETY: a signal to a process we started, named by its pid (a negative one: its process group); no memory is passed.
    unsafe { libc::kill(h.init_pid as i32, libc::SIGKILL) };
    let rt2 = z.new_runtime();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let Adopted::Alive { handle, user_procs } = rt2.adopt(&z.spec, &h) else {
            panic!("a live zone was not adopted");
        };
        if handle.init_pid != 0 && handle.init_pid != h.init_pid {
            assert!(user_procs);
            assert_eq!(
                std::fs::read_to_string(format!("/proc/{}/comm", handle.init_pid))
                    .unwrap()
                    .trim(),
                "sleep"
            );
            assert_eq!(
                (handle.zsched_pid, &handle.cgroups),
                (h.zsched_pid, &h.cgroups)
            );
            break;
        }
        assert!(Instant::now() < deadline, "no restarted init found");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_loop_device_backed_by_a_file_under_the_root_is_a_lofi_ref() {
    let z = booted("lofi");
    let img = z.spec.root.join("disk.img");
    std::fs::write(&img, vec![0u8; 1 << 20]).unwrap();
    let out = std::process::Command::new("/usr/sbin/losetup")
        .args(["-f", "--show"])
        .arg(&img)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let dev = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let r = z.rt.refs(z.spec.id, z.handle());
    let _ = std::process::Command::new("/usr/sbin/losetup")
        .args(["-d", &dev])
        .status();
    assert_eq!(r.subsys[Subsys::Lofi as usize], 1, "{r:?}");
    // Detached (asynchronously on recent kernels), the ref drains.
    let deadline = Instant::now() + Duration::from_secs(5);
    while z.rt.refs(z.spec.id, z.handle()).subsys[Subsys::Lofi as usize] != 0 {
        assert!(
            Instant::now() < deadline,
            "the loop device ref did not drain"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
