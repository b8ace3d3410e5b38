//! A booted sparse zone sees only itself: its processes, its host name, its
//! root; escapes fail; it cannot signal the host, mount, set the host name
//! or open raw sockets unless allowed.

use zones::param::Value;
use zones_e2e::*;

fn booted(tag: &str, allow: &[&str]) -> TestZone {
    let z = TestZone::booted_allowing(tag, allow);
    z.install_probe();
    z
}

#[test]
fn ps_shows_only_the_zones_processes_with_zsched_as_pid_1() {
    let z = booted("ps", &[]);
    let o = z.run(&["/bin/ps", "-eo", "pid=,comm="]);
    assert_eq!(o.status, 0, "{o:?}");
    let procs: Vec<(u32, String)> = o
        .stdout
        .lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            Some((it.next()?.parse().ok()?, it.next()?.to_string()))
        })
        .collect();
    assert_eq!(procs[0], (1, "zsched".to_string()), "{procs:?}");
    let comms: Vec<&str> = procs.iter().map(|(_, c)| c.as_str()).collect();
    assert_eq!(comms, ["zsched", "sleep", "ps"], "{procs:?}");
    // The host's processes are not in the zone's /proc.
    let me = std::process::id();
    let o = z.probe(&["see", &format!("/proc/{me}/cwd")]);
    assert_eq!(o.status, 1, "{o:?}");
}

#[test]
fn hostname_and_root_are_the_zones_and_escapes_fail() {
    let z = booted("root", &[]);
    let o = z.run(&["/bin/hostname"]);
    assert_eq!(o.stdout.trim(), z.spec.name.as_str());
    std::fs::write(z.spec.root.join("zone-marker"), "inside").unwrap();
    let o = z.run(&["/bin/cat", "/zone-marker"]);
    assert_eq!(o.stdout, "inside", "{o:?}");
    // A file next to the root, outside it.
    let outside = z.tmp.path().join("host-marker");
    std::fs::write(&outside, "outside").unwrap();
    let host = outside.to_str().unwrap();
    assert!(host.starts_with('/'));
    for probe in [
        vec!["see", host],
        vec!["dotdot", host],
        vec!["chroot-escape", host],
        vec!["see", &format!("/proc/1/root{host}")],
    ] {
        let o = z.probe(&probe);
        assert_eq!(o.status, 1, "{probe:?} reached the host: {o:?}");
    }
    let o = z.probe(&["dotdot", "/zone-marker"]);
    assert_eq!(
        o.status, 0,
        "the dotdot probe cannot find the zone's own root: {o:?}"
    );
    assert!(o.stdout.starts_with("cwd /\n"), "{o:?}");
    let o = z.probe(&["chroot-escape", "/zone-marker"]);
    assert_eq!(o.status, 0, "the chroot probe did not run: {o:?}");
    // /proc/PID/cwd of a host process: a host sleeper's pid is not there.
    let mut sleeper = std::process::Command::new("/bin/sleep")
        .arg("60")
        .current_dir(z.tmp.path())
        .spawn()
        .unwrap();
    let o = z.probe(&["see", &format!("/proc/{}/cwd/host-marker", sleeper.id())]);
    assert_eq!(o.status, 1, "{o:?}");
    sleeper.kill().unwrap();
    sleeper.wait().unwrap();
}

#[test]
fn kill_minus_one_inside_kills_nothing_outside() {
    let z = booted("kill", &[]);
    let mut sleeper = std::process::Command::new("/bin/sleep")
        .arg("60")
        .spawn()
        .unwrap();
    let init = z.handle().init_pid;
    let o = z.sh("kill -9 -1; echo after");
    // kill(-1) spares the caller: the shell goes on.
    assert_eq!((o.status, o.stdout.as_str()), (0, "after\n"), "{o:?}");
    // SIGKILL is delivered asynchronously: give init a moment to die.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    while zones_linux::runtime::linux::launch::start_time(init).is_some()
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(
        zones_linux::runtime::linux::launch::start_time(init).is_none(),
        "the zone's init survived kill -9 -1"
    );
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(
        sleeper.try_wait().unwrap().is_none(),
        "the host's sleep was killed"
    );
    sleeper.kill().unwrap();
    sleeper.wait().unwrap();
    // zsched survived too (a pid namespace's init ignores it).
    assert!(zones_linux::runtime::linux::alive(z.handle()));
}

#[test]
fn mount_hostname_and_raw_sockets_fail_unless_allowed() {
    let z = booted("deny", &[]);
    for (probe, what) in [
        (vec!["mount"], "mount"),
        (vec!["sethostname", "evil"], "sethostname"),
        (vec!["raw-socket"], "raw socket"),
    ] {
        let o = z.probe(&probe);
        assert_eq!(o.status, 1, "{what} succeeded without allow: {o:?}");
        assert!(o.stdout.contains("Operation not permitted"), "{o:?}");
    }
    let o = z.run(&["/bin/hostname", "evil"]);
    assert_ne!(o.status, 0, "{o:?}");
    assert_eq!(
        z.run(&["/bin/hostname"]).stdout.trim(),
        z.spec.name.as_str()
    );
    drop(z);
    let z = booted(
        "allow",
        &["allow.mount", "allow.set_hostname", "allow.raw_sockets"],
    );
    for probe in [
        vec!["mount"],
        vec!["sethostname", "fine"],
        vec!["raw-socket"],
    ] {
        let o = z.probe(&probe);
        assert_eq!(o.status, 0, "{probe:?} failed though allowed: {o:?}");
    }
    assert_eq!(z.run(&["/bin/hostname"]).stdout.trim(), "fine");
}

#[test]
fn enter_with_a_pty_runs_on_the_zones_own_devpts() {
    let z = booted("pty", &[]);
    let hf = z.tmp.path().join("h.json");
    std::fs::write(&hf, serde_json::to_string(z.handle()).unwrap()).unwrap();
    let out = std::process::Command::new(bin("zenter"))
        .arg(&hf)
        .args(["--pty", "--", "/bin/sh", "-c", "tty; ls -1 /dev/pts"])
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{s}");
    let lines: Vec<&str> = s.lines().map(str::trim).collect();
    // A devpts of the zone's own: numbered from 0, which is the zone's
    // console (runtime::linux::console), so the session has 1.
    assert_eq!(lines[0], "/dev/pts/1", "{s:?}");
    assert_eq!(lines[1], "0", "{s:?}");
    assert!(lines.contains(&"ptmx"), "{s:?}");
}

#[test]
fn vnet_new_gives_the_zone_its_own_network_with_lo_up() {
    let mut z = TestZone::sparse("vnet");
    z.set("initname", Value::Str("/bin/sleep".into()))
        .set("bootargs", Value::Str("1000".into()))
        .set("vnet", Value::Str("new".into()));
    z.ready().expect("ready");
    z.boot().expect("boot");
    let o = z.run(&["/bin/cat", "/proc/net/dev"]);
    let ifaces = net_dev_names(&o.stdout);
    assert_eq!(ifaces, ["lo"], "{o:?}");
    let o = z.run(&[
        "/bin/cat",
        "/sys/class/net/lo/operstate",
        "/sys/class/net/lo/flags",
    ]);
    let flags = o.stdout.lines().nth(1).unwrap_or("0x0");
    let flags = u32::from_str_radix(flags.trim_start_matches("0x"), 16).unwrap();
    assert_eq!(flags & 1, 1, "lo is not up: {o:?}");
}

#[test]
fn destroying_a_running_zone_leaves_nothing() {
    use zones_linux::runtime::Runtime;
    let mut z = TestZone::sparse("destroy");
    z.set("initname", Value::Str("/bin/sleep".into()))
        .set("bootargs", Value::Str("1000".into()));
    z.ready().expect("ready");
    let init = z.boot().expect("boot");
    let h = z.handle.take().unwrap();
    z.rt.destroy(&h).expect("destroy");
    assert!(zones_linux::runtime::linux::launch::start_time(init).is_none());
    assert!(!zones_linux::runtime::linux::alive(&h));
    assert!(h.cgroups.iter().all(|d| !d.exists()));
    assert!(!h.control.exists());
}

#[test]
fn fstab_mounts_live_in_the_zone_only_and_count_as_vfs_refs() {
    use zones::snapshot::Subsys;
    use zones_linux::runtime::Runtime;
    let mut z = TestZone::sparse("fstab");
    let shared = z.tmp.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::write(shared.join("f"), "from the host").unwrap();
    let root = z.spec.root.display().to_string();
    std::fs::create_dir_all(z.spec.root.join("mnt/data")).unwrap();
    z.set("initname", Value::Str("/bin/sleep".into()))
        .set("bootargs", Value::Str("1000".into()))
        .set(
            "mount",
            Value::List(vec![
                format!("{} {root}/mnt/data nullfs ro 0 0", shared.display()),
                format!("tmpfs {root}/srv tmpfs rw,size=1m 0 0"),
            ]),
        );
    z.ready().expect("ready");
    z.boot().expect("boot");
    assert_eq!(z.run(&["/bin/cat", "/mnt/data/f"]).stdout, "from the host");
    let o = z.sh("echo x > /mnt/data/g");
    assert_ne!(o.status, 0, "a read-only nullfs mount was writable: {o:?}");
    let o = z.sh("echo x > /srv/g && cat /srv/g && grep ' /srv ' /proc/mounts");
    assert!(o.stdout.starts_with("x\ntmpfs /srv tmpfs"), "{o:?}");
    // Nothing of it is mounted on the host.
    assert!(host_mounts_under(&z.spec.root).is_empty());
    assert!(!z.spec.root.join("srv/g").exists());
    let before = z.rt.refs(z.spec.id, z.handle()).subsys[Subsys::Vfs as usize];
    assert!(before >= 8, "{before}");
    z.halt();
}

#[test]
fn a_mount_point_outside_the_root_fails_ready_and_leaves_nothing() {
    let mut z = TestZone::sparse("fstabbad");
    z.set("mount", Value::List(vec!["tmpfs /mnt tmpfs rw 0 0".into()]));
    let e = z.ready().unwrap_err();
    assert_eq!(e.step, "mount", "{e}");
    assert!(e.message.contains("not under the zone's root"), "{e}");
    let left = zones_e2e::run_dir_left(z.rt.run_dir());
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn enter_as_a_user_of_the_zone_and_a_login_shell_on_a_pty() {
    use std::io::Write;
    let z = booted("login", &[]);
    let hf = z.tmp.path().join("h.json");
    std::fs::write(&hf, serde_json::to_string(z.handle()).unwrap()).unwrap();
    let out = std::process::Command::new(bin("zenter"))
        .arg(&hf)
        .args([
            "--user",
            "nobody",
            "--",
            "/bin/sh",
            "-c",
            "id -u; grep CapEff /proc/self/status",
        ])
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{s}");
    assert_eq!(s.lines().next(), Some("65534"), "{s}");
    assert!(s.contains("CapEff:\t0000000000000000"), "{s}");
    // root's effective set is the zone's (no CAP_SYS_ADMIN = bit 21).
    let o = z.sh("grep CapEff /proc/self/status");
    let eff =
        u64::from_str_radix(o.stdout.trim().trim_start_matches("CapEff:").trim(), 16).unwrap();
    assert_eq!(eff & (1 << 21), 0, "{o:?}");
    assert_ne!(eff & 1, 0, "{o:?}");
    // No command: the user's login shell, on a pty, fed from a pipe.
    let mut child = std::process::Command::new(bin("zenter"))
        .arg(&hf)
        .args(["--pty", "--"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"echo shell-$((6*7)); exit 3\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let s = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{s}");
    assert!(s.contains("shell-42"), "{s}");
}

#[test]
fn enter_works_through_the_namespace_files_where_setns_takes_no_pidfd() {
    let z = booted("nopidfd", &[]);
    let hf = z.tmp.path().join("h.json");
    std::fs::write(&hf, serde_json::to_string(z.handle()).unwrap()).unwrap();
    let out = std::process::Command::new(bin("zenter"))
        .arg(&hf)
        .args([
            "--",
            "/bin/sh",
            "-c",
            "hostname; cat /proc/1/comm; cat /proc/self/cgroup | head -1",
        ])
        .env("ZONES_ENTER_NO_PIDFD", "1")
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{s}");
    let lines: Vec<&str> = s.lines().collect();
    assert_eq!(lines[0], z.spec.name.as_str());
    assert_eq!(lines[1], "zsched");
    // In the zone's cgroup namespace, its own cgroup is the root.
    assert!(lines[2].ends_with(":/"), "{s}");
}

#[test]
fn the_hosts_sysctls_and_sysrq_are_out_of_the_zones_reach() {
    let z = booted("procguard", &[]);
    let before = std::fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap();
    let o = z.sh("echo '|/tmp/evil' > /proc/sys/kernel/core_pattern");
    assert_ne!(o.status, 0, "{o:?}");
    assert!(o.stderr.contains("Read-only file system"), "{o:?}");
    assert_eq!(
        std::fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap(),
        before
    );
    // 'h' only prints sysrq's help, should the guard ever fail.
    let o = z.sh("echo h > /proc/sysrq-trigger");
    assert_ne!(o.status, 0, "{o:?}");
    // The kernel's internals are hidden (those of them this kernel has).
    let mut hidden = 0;
    for f in ["kcore", "timer_list", "keys"] {
        if std::path::Path::new("/proc").join(f).exists() {
            let o = z.sh(&format!("wc -c < /proc/{f}"));
            assert_eq!(o.stdout.trim(), "0", "/proc/{f}: {o:?}");
            hidden += 1;
        }
    }
    assert!(hidden > 0);
    // Reading stays possible.
    assert_eq!(
        z.run(&["/bin/cat", "/proc/sys/kernel/ostype"])
            .stdout
            .trim(),
        "Linux"
    );
}

// ---- no host descriptor crosses into a zone ---------------------------

mod tools;

use std::io::BufRead;
use std::os::fd::RawFd;
use tools::{Leak, World};

/// A host directory with a secret in it and a host file, each opened in
/// the test without close-on-exec (as a careless caller would have them).
struct HostBait {
    dir: std::path::PathBuf,
    file: std::path::PathBuf,
    leaks: Vec<Leak>,
}

const SECRET: &str = "host-secret-4b1d";

impl HostBait {
    fn new(tmp: &std::path::Path) -> HostBait {
        let dir = tmp.join("host-dir");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("secret"), SECRET).unwrap();
        let file = tmp.join("host-file");
        std::fs::write(&file, "unchanged\n").unwrap();
        let leaks = vec![Leak::open(&dir), Leak::open(&file)];
        HostBait { dir, file, leaks }
    }

    /// The leaked descriptors as numbers 9 (the directory) and 10 (the file)
    /// of the tool that enters.
    fn at_9_and_10(&self) -> Vec<(RawFd, RawFd)> {
        vec![(self.leaks[0].0, 9), (self.leaks[1].0, 10)]
    }

    /// What a zone process tries with them: list its own descriptors, read
    /// the secret through the directory, write through the file.
    const ATTACK: &'static str = "ls -1 /proc/$$/fd; cat /proc/$$/fd/9/secret; \
         echo pwned >> /proc/$$/fd/10; cat /proc/$$/fd/9/../host-dir/secret; true";

    /// The attack's output and effects: only 0, 1, 2; no secret; the host
    /// file unchanged.
    fn check(&self, what: &str, stdout: &str) {
        let fds: Vec<&str> = stdout
            .lines()
            .take_while(|l| l.trim().parse::<u32>().is_ok())
            .collect();
        assert_eq!(fds, ["0", "1", "2"], "{what}: {stdout:?}");
        assert!(
            !stdout.contains(SECRET),
            "{what} read the secret: {stdout:?}"
        );
        assert_eq!(
            std::fs::read_to_string(self.dir.join("secret")).unwrap(),
            SECRET
        );
        assert_eq!(
            std::fs::read_to_string(&self.file).unwrap(),
            "unchanged\n",
            "{what} wrote to the host file"
        );
    }
}

/// Run `cmd` in the zone through zenter, with `leak` open in zenter.
fn zenter(z: &TestZone, leak: &[(RawFd, RawFd)], pty: bool, cmd: &[&str]) -> std::process::Command {
    let hf = z.tmp.path().join("handle.json");
    std::fs::write(&hf, serde_json::to_string(z.handle()).unwrap()).unwrap();
    let mut c = std::process::Command::new(bin("zenter"));
    c.arg(&hf);
    if pty {
        c.arg("--pty");
    }
    c.arg("--").args(cmd);
    for &(fd, at) in leak {
        pass_fd(&mut c, fd, at);
    }
    c
}

/// The descriptors of a host process and what each points at.
fn fds_of(pid: u32) -> Vec<(u32, String)> {
    let mut v: Vec<(u32, String)> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .flatten()
        // A descriptor closed between the listing and its readlink (zsched
        // counting the zone's processes opens /proc for a moment) was not
        // held: a leaked one stays open.
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().parse().unwrap();
            let t = std::fs::read_link(e.path()).ok()?;
            Some((n, t.display().to_string()))
        })
        .collect();
    v.sort();
    v
}

/// (st_dev, st_rdev) of what descriptor `fd` of `pid` is.
fn dev_of(pid: u32, fd: u32) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(format!("/proc/{pid}/fd/{fd}")).unwrap();
    (m.dev(), m.rdev())
}

#[test]
fn an_entered_command_holds_stdio_only_whatever_the_caller_leaked() {
    let z = booted("fdleak", &[]);
    let bait = HostBait::new(z.tmp.path());
    for pty in [false, true] {
        let o = zenter(
            &z,
            &bait.at_9_and_10(),
            pty,
            &["/bin/sh", "-c", HostBait::ATTACK],
        )
        .output()
        .unwrap();
        let out = String::from_utf8_lossy(&o.stdout).replace('\r', "");
        assert_eq!(o.status.code(), Some(0), "pty {pty}: {out}");
        bait.check(&format!("zenter (pty {pty})"), &out);
    }
    // From the host: the entered process (kept alive) holds 0, 1, 2 and
    // has joined every cgroup of the zone.
    let mut child = zenter(
        &z,
        &bait.at_9_and_10(),
        false,
        &["/bin/sh", "-c", "echo $$; exec /bin/sleep 60"],
    )
    .stdout(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let ns_pid: u32 = line.trim().parse().unwrap();
    let pid = zones_linux::runtime::linux::host_pid(z.handle(), ns_pid).expect("host pid");
    // Once the shell has exec'd sleep.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c == "sleep\n") {
        assert!(std::time::Instant::now() < deadline, "no sleep");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let fds = fds_of(pid);
    let nums: Vec<u32> = fds.iter().map(|f| f.0).collect();
    assert_eq!(nums, [0, 1, 2], "{fds:?}");
    assert!(
        fds.iter()
            .all(|(_, t)| !t.contains("host-dir") && !t.contains("host-file")),
        "{fds:?}"
    );
    for d in &z.handle().cgroups {
        let procs = zones_linux::runtime::linux::cgroup::procs(d);
        assert!(procs.contains(&pid), "{pid} not in {}", d.display());
    }
    child.kill().unwrap();
    // SAFETY: kill of the sleeper's host pid, still ours to end.
    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    child.wait().unwrap();
    drop(bait);
}

#[test]
fn zsched_and_init_hold_no_host_descriptor_whatever_the_engine_leaked() {
    let mut z = TestZone::sparse("zschedfd");
    z.set("initname", Value::Str("/bin/sleep".into()))
        .set("bootargs", Value::Str("1000".into()));
    let bait = HostBait::new(z.tmp.path());
    // The engine (this test) holds the bait without close-on-exec while
    // it readies and boots the zone: `zsched launch` inherits it.
    z.ready().expect("ready");
    z.boot().expect("boot");
    let zsched = z.handle().zsched_pid;
    let init = z.handle().init_pid;
    let fds = fds_of(zsched);
    // Its control socket (listening, plus the engine's event connection),
    // the detached proc mount, the signalfd, stdio on the zone's /dev/null.
    for (n, t) in &fds {
        assert!(
            t.starts_with("socket:[")
                || t == "anon_inode:[signalfd]"
                || *n <= 2
                || t == "/"
                || t.starts_with("/dev/pts/"),
            "zsched holds {n} -> {t}: {fds:?}"
        );
        assert!(!t.contains("host-"), "zsched holds the bait: {fds:?}");
    }
    let count = |want: &str| fds.iter().filter(|(_, t)| t == want).count();
    assert_eq!(count("/"), 1, "the detached proc mount: {fds:?}");
    assert_eq!(count("anon_inode:[signalfd]"), 1, "{fds:?}");
    assert_eq!(count("/dev/null"), 3, "{fds:?}");
    // The zone's console (runtime::linux::console): its master and a
    // slave descriptor, of the zone's own devpts.
    assert_eq!(count("/dev/pts/ptmx"), 1, "the console's master: {fds:?}");
    let init_fds = fds_of(init);
    let nums: Vec<u32> = init_fds.iter().map(|f| f.0).collect();
    assert_eq!(nums, [0, 1, 2], "init holds {init_fds:?}");
    // Their stdio is the zone's /dev/null, a node of the zone's /dev (not
    // the host's /dev/null, whose mount a handle could be opened through).
    let host_null = {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata("/dev/null").unwrap();
        (m.dev(), m.rdev())
    };
    for (pid, fd) in [(zsched, 0), (zsched, 2)] {
        let (dev, rdev) = dev_of(pid, fd);
        assert_eq!(rdev, host_null.1, "{pid}/{fd} is not a null device");
        assert_ne!(dev, host_null.0, "{pid}/{fd} is the host's /dev/null");
    }
    // Init's stdio is the zone's console: a pty of the zone's devpts
    // (not the host's).
    let host_pts = {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata("/dev/pts").unwrap().dev()
    };
    for fd in 0..3 {
        let (dev, rdev) = dev_of(init, fd);
        assert!(
            (136..144).contains(&libc::major(rdev)),
            "init's {fd} is not the console pty"
        );
        assert_ne!(dev, host_pts, "init's {fd} is a pty of the host's devpts");
    }
    drop(bait);
}

#[test]
fn zlogin_and_jexec_pass_no_descriptor_of_theirs_into_the_zone() {
    let w = World::jail("toolfd", &[]);
    let bait = HostBait::new(w.dir.path());
    for tool in ["zlogin", "jexec"] {
        let o = w.run(
            tool,
            &[&w.name, "/bin/sh", "-c", HostBait::ATTACK],
            &bait.at_9_and_10(),
        );
        assert_eq!(o.code, 0, "{tool}: {o:?}");
        bait.check(tool, &o.out);
    }
}

#[test]
fn a_host_directory_on_stdin_is_refused_not_passed() {
    let z = booted("dirstdin", &[]);
    let bait = HostBait::new(z.tmp.path());
    let dir = std::fs::File::open(&bait.dir).unwrap();
    let o = zenter(
        &z,
        &[],
        false,
        &["/bin/sh", "-c", "cat /proc/$$/fd/0/secret"],
    )
    .stdin(dir)
    .output()
    .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(125), "{out} {err}");
    assert!(!out.contains(SECRET), "{out}");
    assert!(err.contains("stdin is a directory of the host"), "{err}");
}

#[test]
fn exec_consolelog_reaches_init_as_a_pipe_not_as_the_hosts_file() {
    let mut z = TestZone::sparse("consolefd");
    let log = z.tmp.path().join("console.log");
    z.set(
        "command",
        Value::List(vec![
            "/bin/sh".into(),
            "-c".into(),
            "echo hello-console; echo to-stderr >&2; exec /bin/sleep 1000".into(),
        ]),
    )
    .set("exec.consolelog", Value::Str(log.display().to_string()));
    z.ready().expect("ready");
    let init = z.boot().expect("boot");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while std::fs::read_to_string(&log).unwrap_or_default() != "hello-console\nto-stderr\n" {
        assert!(
            std::time::Instant::now() < deadline,
            "log: {:?}",
            std::fs::read_to_string(&log)
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let fds = fds_of(init);
    let nums: Vec<u32> = fds.iter().map(|f| f.0).collect();
    assert_eq!(nums, [0, 1, 2], "{fds:?}");
    for (n, t) in &fds[1..] {
        assert!(t.starts_with("pipe:["), "init's {n} is {t}, not a pipe");
    }
    // What the zone's root could do with the host's file, it cannot do
    // through the pipe: reopen it and truncate the log.
    let o = z.sh(&format!(
        ": > /proc/{}/fd/1; echo $?",
        zones_linux::runtime::linux::nspids(init)
            .unwrap()
            .last()
            .unwrap()
    ));
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "hello-console\nto-stderr\n",
        "{o:?}"
    );
    z.halt();
}
