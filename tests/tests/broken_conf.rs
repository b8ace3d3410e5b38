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

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use zones_e2e::bin;

struct Host {
    dir: tempfile::TempDir,
    cgroup_root: String,
    zoned: Option<Child>,
}

impl Host {
    fn new(tag: &str) -> Host {
        zones_e2e::require_root();
        let dir = tempfile::Builder::new()
            .prefix(&format!("brokenconf-{tag}-"))
            .tempdir()
            .unwrap();
        let cgroup_root = format!(
            "zones-test-{tag}-{}",
            dir.path().file_name().unwrap().to_string_lossy()
        );
        Host {
            dir,
            cgroup_root,
            zoned: None,
        }
    }

    fn conf(&self) -> PathBuf {
        self.dir.path().join("jail.conf")
    }

    fn write_conf(&self, other_block: &str) {
        let d = self.dir.path().display();
        std::fs::write(
            self.conf(),
            format!(
                "ok {{\n  path = \"{d}/roots/ok\";\n  brand = sparse;\n  initname = \"/bin/sleep\";\n  bootargs = \"100000\";\n}}\n{other_block}"
            ),
        )
        .unwrap();
    }

    fn env(&self, c: &mut Command) {
        c.env("ZONES_STATE_DIR", self.dir.path().join("state"))
            .env("ZONED_SOCKET", self.dir.path().join("zoned.sock"))
            .env("ZONES_CGROUP_ROOT", &self.cgroup_root)
            .env("ZONES_CONFIG", self.conf())
            .env("ZONES_ZSCHED", bin("zsched"));
    }

    fn run(&self, tool: &str, args: &[&str]) -> Output {
        let mut c = Command::new(bin(tool));
        self.env(&mut c);
        c.args(args).output().unwrap()
    }

    fn ok(&self, tool: &str, args: &[&str]) -> String {
        let o = self.run(tool, args);
        assert!(
            o.status.success(),
            "{tool} {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    }

    fn start_zoned(&mut self) {
        let mut c = Command::new(bin("zoned"));
        self.env(&mut c);
        c.stdout(Stdio::null()).stderr(Stdio::null());
        self.zoned = Some(c.spawn().unwrap());
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::os::unix::net::UnixStream::connect(self.dir.path().join("zoned.sock")).is_err() {
            assert!(Instant::now() < deadline, "zoned does not answer");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The zone's init (`sleep 100000`) processes, found in the cgroups
    /// beneath this host's cgroup root.
    fn sleepers(&self) -> Vec<u32> {
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
        for d in zones_e2e::cgroup_dirs(&self.cgroup_root) {
            walk(&d, &mut pids);
        }
        pids.sort_unstable();
        pids.dedup();
        pids.retain(|p| {
            std::fs::read(format!("/proc/{p}/cmdline"))
                .is_ok_and(|c| c == b"/bin/sleep\x00100000\x00")
        });
        pids
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.run("zoneadm", &["-z", "ok", "halt"]);
        if let Some(mut d) = self.zoned.take() {
            let _ = d.kill();
            let _ = d.wait();
        }
        let mut dirs = zones_e2e::cgroup_dirs(&self.cgroup_root);
        dirs.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
        for d in dirs {
            let _ = std::fs::remove_dir(&d);
        }
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn running_zone_is_listed_and_halted_with_a_broken_file(with_zoned: bool) {
    let tag = if with_zoned { "bc-zoned" } else { "bc-embed" };
    let mut host = Host::new(tag);
    host.write_conf("other {\n  path = \"/nowhere\";\n}\n");
    if with_zoned {
        host.start_zoned();
    }
    host.ok("zoneadm", &["-z", "ok", "install"]);
    host.ok("zoneadm", &["-z", "ok", "boot"]);
    assert_eq!(host.ok("zoneadm", &["list"]), "global\nok\n");

    // Break the file in the other zone's block: an unterminated string.
    host.write_conf("other {\n  path = \"/nowhere;\n  persist;\n}\n");
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
    assert_eq!(host.sleepers().len(), 1, "the zone's init runs");
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
    while host.sleepers().len() != 1 {
        assert!(Instant::now() < deadline, "no init after reboot");
        std::thread::sleep(Duration::from_millis(50));
    }
    host.ok("zoneadm", &["-z", "ok", "halt"]);
    assert_eq!(host.ok("zoneadm", &["list"]), "global\n");
    assert!(host.sleepers().is_empty(), "the zone's processes are gone");
    // boot reads the file: refused, nothing started.
    let o = host.run("zoneadm", &["-z", "ok", "boot"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with(&format!("zoneadm: {msg}\n")),
        "{}",
        stderr(&o)
    );
    assert_eq!(host.ok("zoneadm", &["list"]), "global\n");
    assert!(host.sleepers().is_empty());
}

#[test]
fn a_broken_file_does_not_stop_list_and_halt_of_a_running_zone_embedded() {
    running_zone_is_listed_and_halted_with_a_broken_file(false);
}

#[test]
fn a_broken_file_does_not_stop_list_and_halt_of_a_running_zone_through_zoned() {
    running_zone_is_listed_and_halted_with_a_broken_file(true);
}
