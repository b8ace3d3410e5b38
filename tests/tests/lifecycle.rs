//! ready → boot → enter → shutdown → down → destroy of a sparse zone, and
//! what is left afterwards (nothing).

use std::path::Path;
use zones::param::Value;
use zones_e2e::*;

fn sleeper(z: &mut TestZone) {
    z.set("initname", Value::Str("/bin/sleep".into()))
        .set("bootargs", Value::Str("1000".into()));
}

#[test]
fn a_sparse_zone_boots_runs_commands_and_halts_leaving_nothing() {
    let mut z = TestZone::sparse("life");
    sleeper(&mut z);
    let h = z.ready().expect("ready").clone();
    assert!(h.control.exists());
    let init = z.boot().expect("boot");
    assert!(init > 0);
    let comm = std::fs::read_to_string(format!("/proc/{init}/comm")).unwrap();
    assert_eq!(comm.trim(), "sleep");
    let o = z.run(&["/bin/cat", "/proc/1/comm"]);
    assert_eq!((o.status, o.stdout.trim()), (0, "zsched"), "{o:?}");
    let o = z.run(&["/bin/hostname"]);
    assert_eq!(o.stdout.trim(), z.spec.name.as_str(), "{o:?}");
    let o = z.sh("exit 7");
    assert_eq!(o.status, 7, "{o:?}");

    let root = z.spec.root.clone();
    let cg = h.cgroups.clone();
    let run_dir = z.rt.run_dir().to_path_buf();
    z.halt();
    assert!(launch_gone(h.zsched_pid), "zsched still running");
    assert!(launch_gone(init), "init still running");
    for d in &cg {
        assert!(!d.exists(), "{} left behind", d.display());
    }
    assert!(
        host_mounts_under(&root).is_empty(),
        "{:?}",
        host_mounts_under(&root)
    );
    let left = zones_e2e::run_dir_left(&run_dir);
    assert!(left.is_empty(), "run dir holds {left:?}");
}

fn launch_gone(pid: u32) -> bool {
    zones_linux::runtime::linux::launch::start_time(pid).is_none()
}

#[test]
fn a_failed_boot_says_why_and_the_zone_can_still_be_destroyed() {
    let mut z = TestZone::sparse("noinit");
    z.set("initname", Value::Str("/sbin/no-such-init".into()));
    z.ready().expect("ready");
    let e = z.boot().unwrap_err();
    assert_eq!(e.step, "exec init", "{e}");
    assert!(e.message.contains("/sbin/no-such-init"), "{e}");
    assert_eq!(e.errno, Some(libc::ENOENT));
    let cg = z.handle().cgroups.clone();
    z.halt();
    assert!(cg.iter().all(|d| !d.exists()));
}

#[test]
fn a_bad_root_fails_ready_naming_the_step_and_leaves_nothing() {
    let mut z = TestZone::with_root(
        "badroot",
        zones::zone::Brand::Whole,
        Some("/nonexistent/zone/root".into()),
    );
    let e = z.ready().unwrap_err();
    assert_eq!(e.step, "root", "{e}");
    assert!(e.message.contains("/nonexistent/zone/root"), "{e}");
    let kids = z.cgroups_left();
    assert!(kids.is_empty(), "cgroups left: {kids:?}");
    let run = z.rt.run_dir();
    let left = zones_e2e::run_dir_left(run);
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn an_empty_directory_is_a_root_zsched_needs_no_file_in_it() {
    let mut z = TestZone::with_root("empty", zones::zone::Brand::Whole, None);
    z.set("command", Value::List(vec!["/bin/true".into()]));
    z.ready().expect("ready with an empty root");
    // zsched runs from a descriptor: the root still holds nothing.
    assert_eq!(std::fs::read_dir(&z.spec.root).unwrap().count(), 0);
    let e = z.boot().unwrap_err();
    assert_eq!(
        (e.step.as_str(), e.errno),
        ("exec init", Some(libc::ENOENT)),
        "{e}"
    );
    z.halt();
}

#[test]
fn a_jail_rooted_at_slash_runs_its_command_once() {
    let mut z = TestZone::with_root("slash", zones::zone::Brand::Whole, Some("/".into()));
    z.set("command", Value::List(vec!["/bin/true".into()]));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    zones_linux::runtime::Runtime::subscribe(&z.rt, tx);
    z.ready().expect("ready");
    z.boot().expect("boot");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut seen = Vec::new();
    while std::time::Instant::now() < deadline
        && !seen
            .iter()
            .any(|e| matches!(e, zones_linux::runtime::RuntimeEvent::Empty { .. }))
    {
        match rx.try_recv() {
            Ok(e) => seen.push(e),
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(20)),
        }
    }
    assert!(
        seen.iter().any(|e| matches!(
            e,
            zones_linux::runtime::RuntimeEvent::InitExited { status: 0, .. }
        )),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|e| matches!(e, zones_linux::runtime::RuntimeEvent::Empty { .. })),
        "{seen:?}"
    );
    let _ = Path::new("/");
    z.halt();
}

#[test]
fn shutdown_is_graceful_first_then_forceful_after_the_timeout() {
    use std::time::{Duration, Instant};
    use zones_linux::runtime::Runtime;
    let mut z = TestZone::sparse("stop");
    sleeper(&mut z);
    z.ready().unwrap();
    z.boot().unwrap();
    // A process that ignores SIGTERM holds the zone until the SIGKILL.
    let hf = z.tmp.path().join("h.json");
    std::fs::write(&hf, serde_json::to_string(z.handle()).unwrap()).unwrap();
    let mut stubborn = std::process::Command::new(bin("zenter"))
        .arg(&hf)
        .args([
            "--",
            "/bin/sh",
            "-c",
            "trap '' TERM; sleep 1000 & trap '' TERM; wait",
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let t = Instant::now();
    z.rt.shutdown(z.handle(), Duration::from_secs(2)).unwrap();
    let took = t.elapsed();
    assert!(
        took >= Duration::from_secs(2),
        "the SIGTERM-ignoring shell was not waited for: {took:?}"
    );
    assert!(took < Duration::from_secs(6), "{took:?}");
    assert_eq!(z.rt.refs(z.spec.id, z.handle()).cred, 0);
    // zenter returns the killed shell's status.
    assert_eq!(stubborn.wait().unwrap().code(), Some(137));
    z.halt();

    // Without it, SIGTERM ends the zone at once.
    let mut z = TestZone::sparse("stop2");
    sleeper(&mut z);
    z.ready().unwrap();
    z.boot().unwrap();
    let t = Instant::now();
    z.rt.shutdown(z.handle(), Duration::from_secs(30)).unwrap();
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    z.halt();
}

#[test]
fn init_is_restarted_unless_initnorestart() {
    use std::time::{Duration, Instant};
    let mut z = TestZone::sparse("restart");
    sleeper(&mut z);
    z.ready().unwrap();
    let first = z.boot().unwrap();
    // SAFETY: a signal to a process we started, named by its pid (a negative one: its process group); no memory is passed.
    unsafe { libc::kill(first as i32, libc::SIGKILL) };
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut again = None;
    while Instant::now() < deadline && again.is_none() {
        std::thread::sleep(Duration::from_millis(50));
        let o = z.run(&["/bin/ps", "-eo", "comm="]);
        if o.stdout.lines().any(|l| l == "sleep") {
            again = Some(o.stdout);
        }
    }
    assert!(again.is_some(), "init was not restarted");
    z.halt();
}

#[test]
fn the_devices_cgroup_denies_host_devices_even_to_a_zone_allowed_mknod() {
    let mut z = TestZone::sparse("devices");
    sleeper(&mut z);
    z.set(
        "limitpriv",
        Value::List(vec!["default".into(), "+mknod".into()]),
    );
    z.ready().unwrap();
    z.boot().unwrap();
    // /dev/mem is c 1:1; the zone may make the node but not open it.
    let o = z.sh("mknod /tmp/mem c 1 1 && head -c 1 /tmp/mem >/dev/null");
    assert_ne!(o.status, 0, "{o:?}");
    assert!(o.stderr.contains("Operation not permitted"), "{o:?}");
    let o = z.sh("head -c 4 /dev/urandom | wc -c");
    assert_eq!(o.stdout.trim(), "4", "{o:?}");
    z.halt();
}

#[test]
fn boot_uses_the_bootargs_given_at_boot_time() {
    let mut z = TestZone::sparse("bootargs");
    sleeper(&mut z);
    z.ready().unwrap();
    // As `zoneadm boot -- 777` does: new bootargs after ready.
    z.set("bootargs", Value::Str("777".into()));
    let init = z.boot().unwrap();
    let cmdline = std::fs::read(format!("/proc/{init}/cmdline")).unwrap();
    assert_eq!(cmdline, b"/bin/sleep\x00777\x00");
    z.halt();
}

#[test]
fn a_jails_output_goes_to_exec_consolelog_on_the_host() {
    let mut z = TestZone::sparse("console");
    let log = z.tmp.path().join("console.log");
    z.set(
        "exec.start",
        Value::List(vec!["echo started in $JNAME".into()]),
    )
    .set("exec.consolelog", Value::Str(log.display().to_string()));
    z.ready().unwrap();
    z.boot().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while std::fs::read_to_string(&log).unwrap_or_default().is_empty()
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        format!("started in {}\n", z.spec.name)
    );
    z.halt();
}
