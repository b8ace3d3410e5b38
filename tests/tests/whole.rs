//! Whole zones: a real Debian installed by `zoneadm install`, booting its
//! own systemd, with a console (issue 17).
//!
//! The Debian base is built by mmdebstrap from the host's apt sources once
//! per machine (a few minutes, with network) and kept in a shared cache,
//! /var/cache/zones-tests (`$ZONES_INSTALL_CACHE`), so that every test
//! and every later CI run installs from it. The install under test then
//! runs in a network namespace of its own with no interface but a down
//! loopback: it proves an install from the cache needs no network.
//!
//! * install from the cache in under 10 s, offline; boot; within 30 s
//!   `systemctl is-system-running` says `running` (or `degraded`, with the
//!   failed units printed); `ps -ef` in the zone shows systemd as pid 1 of
//!   the zone's view, and on the host init is zsched's child; its cgroup
//!   tree is the leaf `init` beneath the zone's; kstat's nprocs counts its
//!   services;
//! * `zlogin -C` in tmux shows the console backlog (systemd's boot
//!   messages), `~.` detaches and the zone keeps running; an interactive
//!   `zlogin` prints illumos' banner and `~.` ends it;
//! * `zoneadm shutdown` stops the zone through systemd (the console log
//!   shows its shutdown) within stop.timeout; `halt` of a stopped
//!   (SIGSTOP) systemd still finishes;
//! * an interrupted install leaves the zone `incomplete`; `uninstall`
//!   removes everything;
//! * a zone installed with `-e nginx` serves its default page to the host
//!   at the zone's own address (`vnet.bridge` on a LAN the test makes);
//! * a whole zone of its own user namespace (`allow.mount`) is refused at
//!   boot with the reason, and boots with another init.
//!
//! A console for zones that do not boot systemd: tests/tests/console.rs.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use zones_e2e::*;
use zones_linux::runtime::linux::osinstall;

const CACHE: &str = "/var/cache/zones-tests";

fn with_cache(mut c: Command) -> Command {
    c.env("ZONES_INSTALL_CACHE", CACHE);
    c
}

fn zoneadm(w: &ToolWorld, args: &[&str]) -> Output {
    output_of(with_cache(w.command("zoneadm", args)))
}

fn ok(what: &str, o: &Output) {
    assert_eq!(
        o.status, 0,
        "{what}: status {}\nstdout: {}\nstderr: {}",
        o.status, o.stdout, o.stderr
    );
}

/// The base tarball exists (built now, with network, if it did not).
fn ensure_base(w: &mut ToolWorld) {
    let suite = osinstall::host_suite().expect("the host's release");
    if osinstall::cache_path(Path::new(CACHE), &suite, &[]).is_file() {
        return;
    }
    let name = w.name("wbase");
    let zp = w.dir.path().join("zones").join(&name);
    w.configure(
        &name,
        &format!("path = \"{}/root\"; brand = whole;", zp.display()),
    );
    ok("install the base", &zoneadm(w, &["-z", &name, "install"]));
    ok(
        "uninstall the base zone",
        &zoneadm(w, &["-z", &name, "uninstall", "-F"]),
    );
}

fn state_of(w: &ToolWorld, name: &str) -> String {
    let o = zoneadm(w, &["list", "-p", "-c"]);
    o.stdout
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.get(1) == Some(&name)).then(|| f[2].to_string())
        })
        .unwrap_or_default()
}

fn zsched_of(w: &ToolWorld) -> Vec<u32> {
    w.pids()
        .into_iter()
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/comm")).is_ok_and(|c| c.trim() == "zsched")
        })
        .collect()
}

fn ppid(pid: u32) -> Option<u32> {
    u32::try_from(zones_linux::procstat::read(pid)?.ppid).ok()
}

fn wait_running(w: &ToolWorld, name: &str, limit: Duration) -> (String, Duration) {
    let t = Instant::now();
    loop {
        let o = w.run("zlogin", &[name, "systemctl", "is-system-running"]);
        let s = o.stdout.trim().to_string();
        if s == "running" || s == "degraded" || t.elapsed() > limit {
            return (s, t.elapsed());
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn debian_installs_offline_from_the_cache_boots_systemd_has_a_console_and_shuts_down() {
    let mut w = ToolWorld::new("whole");
    ensure_base(&mut w);
    let name = w.name("deb");
    let zp = w.dir.path().join("zones").join(&name);
    let log = w.dir.path().join(format!("{name}.console"));
    w.configure(
        &name,
        &format!(
            "path = \"{}/root\"; brand = whole; exec.consolelog = \"{}\"; stop.timeout = 10;",
            zp.display(),
            log.display()
        ),
    );
    // Installed with no network at all: a namespace without interfaces.
    let tool = with_cache(w.command("zoneadm", &[]));
    let mut c = Command::new("unshare");
    for (k, v) in tool.get_envs() {
        if let Some(v) = v {
            c.env(k, v);
        }
    }
    c.arg("--net")
        .arg(bin("zoneadm"))
        .args(["-z", &name, "install"]);
    let t = Instant::now();
    let o = output_of(c);
    let took = t.elapsed();
    ok("install from the cache, offline", &o);
    eprintln!("install from the cache, offline: {took:?}");
    assert!(took < Duration::from_secs(10), "install took {took:?}");
    let root = zp.join("root");
    assert!(root.join("lib/systemd/systemd").is_file());
    assert_eq!(
        std::fs::read_to_string(root.join("etc/hostname")).unwrap(),
        format!("{name}\n")
    );
    assert_eq!(state_of(&w, &name), "installed");

    // Boot to running within 30 s.
    ok("boot", &zoneadm(&w, &["-z", &name, "boot"]));
    let (s, took) = wait_running(&w, &name, Duration::from_secs(30));
    let failed = w.run("zlogin", &[&name, "systemctl", "--failed", "--no-legend"]);
    eprintln!(
        "is-system-running: {s} after {took:?}; failed units: [{}]",
        failed.stdout.trim()
    );
    assert!(
        s == "running" || s == "degraded",
        "state {s:?} after {took:?}"
    );
    assert_eq!(s, "running", "failed units: {}", failed.stdout);

    // systemd is the zone's init, under zsched.
    let ps = w.run("zlogin", &[&name, "ps", "-eo", "pid,ppid,comm"]);
    ok("ps", &ps);
    let pid1 = ps
        .stdout
        .lines()
        .find(|l| l.split_whitespace().next() == Some("1"))
        .unwrap_or_default()
        .to_string();
    assert!(
        pid1.ends_with("systemd"),
        "pid 1 in the zone: {}",
        ps.stdout
    );
    for svc in ["systemd-journal", "systemd-logind", "dbus-daemon"] {
        assert!(ps.stdout.contains(svc), "{svc} not running: {}", ps.stdout);
    }
    let zs = zsched_of(&w);
    assert_eq!(zs.len(), 1, "one zsched: {zs:?}");
    let inits: Vec<u32> = w
        .pids()
        .into_iter()
        .filter(|p| ppid(*p) == Some(zs[0]))
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/comm")).is_ok_and(|c| c.trim() == "systemd")
        })
        .collect();
    assert_eq!(inits.len(), 1, "systemd is zsched's child on the host");
    // No host descriptor in the zone's init: the console log, the control
    // socket and the state stay on the host side (security.md).
    let fds = w.run(
        "zlogin",
        &[
            &name,
            "sh",
            "-c",
            "for f in /proc/1/fd/*; do readlink $f; done",
        ],
    );
    ok("readlink systemd's descriptors", &fds);
    let host = w.dir.path().display().to_string();
    assert!(
        !fds.stdout.contains(&host) && !fds.stdout.is_empty(),
        "systemd holds a host file: {}",
        fds.stdout
    );
    // Its cgroup tree is a leaf beneath the zone's cgroup2 directory: the
    // zone's own directory (its limit files on a v2 host) is out of view.
    let host_cg = std::fs::read_to_string(format!("/proc/{}/cgroup", inits[0])).unwrap();
    let v2 = host_cg
        .lines()
        .find(|l| l.starts_with("0::"))
        .unwrap_or_default();
    assert!(
        v2.ends_with("/init/init.scope"),
        "systemd's cgroup on the host: {v2}"
    );
    let inside = w.run("zlogin", &[&name, "cat", "/proc/1/cgroup"]);
    assert!(
        inside.stdout.lines().any(|l| l == "0::/init.scope"),
        "systemd's cgroup in the zone: {}",
        inside.stdout
    );
    // nprocs counts the services.
    let services = ps.stdout.lines().count() - 2; // header, ps itself
    let t = Instant::now();
    loop {
        let k = w.run("kstat", &["-p", "caps:*:nprocs_zone_*:usage"]);
        let zid = zoneadm(&w, &["list", "-p"])
            .stdout
            .lines()
            .find_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.get(1) == Some(&name.as_str())).then(|| f[0].to_string())
            })
            .unwrap_or_default();
        let n: usize = k
            .stdout
            .lines()
            .find_map(|l| {
                l.strip_prefix(&format!("caps:{zid}:nprocs_zone_{zid}:usage\t"))?
                    .trim()
                    .parse()
                    .ok()
            })
            .unwrap_or(0);
        if n > services {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "nprocs {n} does not count the {services} services (and zsched): {}",
            k.stdout
        );
        std::thread::sleep(Duration::from_millis(300));
    }

    // The console in tmux: the backlog, then ~. detaches.
    let session = format!("zl{}", std::process::id());
    let _guard = w.attach_console(&name, &session);
    wait_pane(&session, "login:");
    let p = pane(&session);
    assert!(
        p.contains(&format!("[Connected to zone '{name}' console]")),
        "{p}"
    );
    assert!(
        p.contains("Reached target"),
        "no boot messages in the backlog: {p}"
    );
    tmux_keys(&session, &["Enter", "~", "."]);
    wait_pane(&session, "ZLOGIN-EXIT=0");
    let p = pane(&session);
    assert!(p.contains("ZLOGIN-EXIT=0"), "~. did not detach: {p}");
    assert!(p.contains(&format!("[Connection to zone '{name}' console closed]")));
    assert_eq!(
        w.run("zlogin", &[&name, "systemctl", "is-system-running"])
            .stdout
            .trim(),
        "running",
        "the zone keeps running after a detach"
    );

    // An interactive zlogin: illumos' banner, and ~. ends it.
    let session2 = format!("zi{}", std::process::id());
    let _guard2 = w.zlogin_in_tmux(&session2, &[&name]);
    wait_pane(&session2, "# ");
    tmux_keys(&session2, &["echo in-the-$((1+1))-zone", "Enter"]);
    wait_pane(&session2, "in-the-2-zone");
    tmux_keys(&session2, &["~", "."]);
    wait_pane(&session2, "ZLOGIN-EXIT=");
    let p = pane(&session2);
    assert!(
        p.contains(&format!("[Connected to zone '{name}' pts/")),
        "{p}"
    );
    assert!(p.contains("in-the-2-zone"), "{p}");
    assert!(
        p.contains(&format!("[Connection to zone '{name}' closed]")),
        "{p}"
    );

    // Shutdown through systemd, within stop.timeout.
    let t = Instant::now();
    ok("shutdown", &zoneadm(&w, &["-z", &name, "shutdown"]));
    let took = t.elapsed();
    eprintln!("shutdown through systemd: {took:?}");
    assert!(took < Duration::from_secs(10), "shutdown took {took:?}");
    let console = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        console.contains("Exiting container") || console.contains("Halting system"),
        "systemd's shutdown is not in the console log: {}",
        &console[console.len().saturating_sub(2000)..]
    );
    assert!(zsched_of(&w).is_empty(), "zsched left after shutdown");
    assert_eq!(state_of(&w, &name), "installed");

    // A hung init (stopped) does not stop halt.
    ok("boot again", &zoneadm(&w, &["-z", &name, "boot"]));
    let (s, _) = wait_running(&w, &name, Duration::from_secs(30));
    assert!(s == "running" || s == "degraded", "{s}");
    let zs = zsched_of(&w);
    for p in w.pids() {
        if ppid(p) == zs.first().copied() {
            // SAFETY: kill takes no pointer; p is the zone's init.
            unsafe { libc::kill(p as i32, libc::SIGSTOP) };
        }
    }
    let t = Instant::now();
    ok("halt of a hung init", &zoneadm(&w, &["-z", &name, "halt"]));
    assert!(t.elapsed() < Duration::from_secs(15));
    assert!(w.pids().is_empty(), "processes left: {:?}", w.pids());
    ok("uninstall", &zoneadm(&w, &["-z", &name, "uninstall", "-F"]));
    assert!(!root.exists());
}

#[test]
fn an_interrupted_install_leaves_the_zone_incomplete_and_uninstall_removes_it() {
    let mut w = ToolWorld::new("wincomplete");
    let name = w.name("inc");
    let zp = w.dir.path().join("zones").join(&name);
    w.configure(
        &name,
        &format!("path = \"{}/root\"; brand = whole;", zp.display()),
    );
    // An archive that never ends: the install is killed while it reads.
    let fifo = w.dir.path().join("slow.tar");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let mut child = with_cache(w.command(
        "zoneadm",
        &["-z", &name, "install", "-a", fifo.to_str().unwrap()],
    ))
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    // Feed it a little, so tar is really unpacking.
    let writer = std::thread::spawn({
        let fifo = fifo.clone();
        move || {
            let _ = std::fs::OpenOptions::new()
                .write(true)
                .open(&fifo)
                .and_then(|mut f| {
                    std::io::Write::write_all(&mut f, &[0u8; 512])?;
                    std::thread::sleep(Duration::from_secs(3));
                    Ok(())
                });
        }
    });
    let marker = zp.join(".root.incomplete");
    let t = Instant::now();
    while !marker.exists() && t.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();
    writer.join().unwrap();
    assert_eq!(state_of(&w, &name), "incomplete");
    let o = zoneadm(&w, &["list", "-cv"]);
    assert!(o.stdout.contains("incomplete"), "{}", o.stdout);
    // Not bootable while incomplete.
    let o = zoneadm(&w, &["-z", &name, "boot"]);
    assert_ne!(o.status, 0, "an incomplete zone booted");
    assert!(o.stderr.contains("incomplete"), "{}", o.stderr);
    // No tar left behind (it dies with zoneadm).
    std::thread::sleep(Duration::from_millis(300));
    let tars = Command::new("pgrep")
        .args(["-f", &format!("tar.*{}", fifo.display())])
        .output()
        .unwrap();
    assert!(tars.stdout.is_empty(), "tar left running");
    // install redoes it: what the killed one left is removed first.
    let tree = w.dir.path().join("tree");
    std::fs::create_dir_all(tree.join("etc")).unwrap();
    std::fs::write(tree.join("etc/os-release"), "ID=test\n").unwrap();
    let tarball = w.dir.path().join("tree.tar");
    let st = Command::new("tar")
        .arg("-cf")
        .arg(&tarball)
        .arg("-C")
        .arg(&tree)
        .arg(".")
        .status()
        .unwrap();
    assert!(st.success());
    ok(
        "install again",
        &zoneadm(
            &w,
            &["-z", &name, "install", "-a", tarball.to_str().unwrap()],
        ),
    );
    assert_eq!(state_of(&w, &name), "installed");
    assert!(zp.join("root/etc/os-release").is_file());
    assert!(!marker.exists());
    ok("uninstall", &zoneadm(&w, &["-z", &name, "uninstall", "-F"]));
    // Killed again, then uninstalled: nothing is left.
    let mut child = with_cache(w.command(
        "zoneadm",
        &["-z", &name, "install", "-a", fifo.to_str().unwrap()],
    ))
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let t = Instant::now();
    while !marker.exists() && t.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(state_of(&w, &name), "incomplete");
    ok("uninstall", &zoneadm(&w, &["-z", &name, "uninstall", "-F"]));
    assert!(!zp.join("root").exists());
    assert!(!marker.exists());
    assert_eq!(state_of(&w, &name), "configured");
}

/// `-e nginx` (a second cached base, built once with network): the zone
/// serves nginx's default page to the host through the zone's own
/// address, on a LAN the test makes (network.md "Testing"): a bridge on
/// the host with a veth to a peer namespace, the zone's `eth0` on it
/// (`vnet.bridge`), and an address of the LAN on the bridge so that the
/// host reaches the zone. Nothing leaves the machine; the bridge, its
/// address and the zone's veth go with the test.
#[test]
fn a_zone_installed_with_nginx_serves_its_default_page_at_its_own_address() {
    let lan = zones_e2e::lan::Lan::new(true);
    let br = lan.bridge.clone().expect("the LAN's bridge");
    let zone_addr = lan.addr4(5);
    // The host's address on the LAN (gone with the bridge).
    let st = Command::new("ip")
        .args(["addr", "add", &format!("{}/24", lan.addr4(2)), "dev", &br])
        .status()
        .expect("ip addr add");
    assert!(st.success(), "address the bridge {br}");
    let mut w = ToolWorld::new("wnginx");
    let name = w.name("web");
    let zp = w.dir.path().join("zones").join(&name);
    w.configure(
        &name,
        &format!(
            "path = \"{}/root\"; brand = whole; vnet = new; vnet.bridge = \"{br}\"; \
             ip4.addr = \"{zone_addr}/24\"; ip6 = disable; zone.defrouter = \"{}\";",
            zp.display(),
            lan.addr4(1)
        ),
    );
    ok(
        "install -e nginx",
        &zoneadm(&w, &["-z", &name, "install", "-e", "nginx"]),
    );
    ok("boot", &zoneadm(&w, &["-z", &name, "boot"]));
    let (s, took) = wait_running(&w, &name, Duration::from_secs(30));
    let failed = w.run("zlogin", &[&name, "systemctl", "--failed", "--no-legend"]);
    assert!(
        s == "running" || s == "degraded",
        "{s} after {took:?}; failed: {}",
        failed.stdout
    );
    // The host asks the zone's address, on the zone's port 80 (its own
    // network namespace: the host's 80 is not involved).
    let t = Instant::now();
    let page = loop {
        let o = Command::new("curl")
            .args(["-sS", "--max-time", "2", &format!("http://{zone_addr}/")])
            .output()
            .expect("curl");
        if o.status.success() {
            break String::from_utf8_lossy(&o.stdout).to_string();
        }
        assert!(
            t.elapsed() < Duration::from_secs(15),
            "no answer from http://{zone_addr}/: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    // ... and the zone has its own links (its eth0 on the bridge), not
    // the host's.
    let inside = w.run("zlogin", &[&name, "cat", "/proc/net/dev"]);
    assert!(
        inside.stdout.contains("eth0") && !inside.stdout.contains(&br),
        "the zone's links: {}",
        inside.stdout
    );
    assert!(page.contains("Welcome to nginx!"), "{page}");
    ok("halt", &zoneadm(&w, &["-z", &name, "halt"]));
    ok("uninstall", &zoneadm(&w, &["-z", &name, "uninstall", "-F"]));
}

/// A whole zone with `allow.mount` runs in a user namespace of its own
/// (runtime::linux::userns), where zsched cannot start systemd in a
/// nested pid namespace and come back (runtime::linux::sysinit's module
/// comment): the boot is refused, naming the parameters and the reason,
/// nothing of it is left running, and another init boots in that zone.
#[test]
fn systemd_in_a_user_namespace_zone_is_refused_clearly_at_boot() {
    let mut w = ToolWorld::new("wuserns");
    ensure_base(&mut w);
    let name = w.name("udeb");
    let zp = w.dir.path().join("zones").join(&name);
    w.configure(
        &name,
        &format!(
            "path = \"{}/root\"; brand = whole; allow.mount; stop.timeout = 10;",
            zp.display()
        ),
    );
    ok("install", &zoneadm(&w, &["-z", &name, "install"]));
    let o = zoneadm(&w, &["-z", &name, "boot"]);
    assert_ne!(o.status, 0, "systemd booted in a user namespace: {o:?}");
    assert!(
        o.stderr.contains(&name)
            && o.stderr.contains("user namespace")
            && o.stderr.contains("allow.mount")
            && o.stderr.contains("initname"),
        "{}",
        o.stderr
    );
    assert_eq!(state_of(&w, &name), "installed", "{o:?}");
    assert!(
        zsched_of(&w).is_empty(),
        "the refused boot left a zone running"
    );
    // The same zone with another init boots, in its user namespace.
    let mut w2 = ToolWorld::new("wuserns2");
    let name2 = w2.name("udeb");
    w2.configure(
        &name2,
        &format!(
            "path = \"{}/root\"; brand = whole; allow.mount; initname = \"/bin/sleep\"; bootargs = \"1000\";",
            zp.display()
        ),
    );
    ok("boot with initname", &zoneadm(&w2, &["-z", &name2, "boot"]));
    let map = w2.run("zlogin", &[&name2, "cat", "/proc/self/uid_map"]);
    let f: Vec<&str> = map.stdout.split_whitespace().collect();
    assert!(
        f.len() == 3 && f[0] == "0" && f[1] != "0",
        "not a zone of its own user namespace: {map:?}"
    );
    ok("halt", &zoneadm(&w2, &["-z", &name2, "halt"]));
    drop(w2);
    ok("uninstall", &zoneadm(&w, &["-z", &name, "uninstall", "-F"]));
}
