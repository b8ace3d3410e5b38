//! The tools as a user meets them (issue 18): usage blocks, messages and
//! exit codes copied from illumos and FreeBSD, byte for byte where the
//! originals are known, and a closed pipe that ends every tool quietly.
//! The tools run as binaries over an embedded engine with a private state
//! directory and cgroup root and no daemon; the tests that start an engine
//! need root and fail, not skip, without it.

use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};

const KSTAT: &str = env!("CARGO_BIN_EXE_kstat");
const ZONEADM: &str = env!("CARGO_BIN_EXE_zoneadm");
const JLS: &str = env!("CARGO_BIN_EXE_jls");
const JEXEC: &str = env!("CARGO_BIN_EXE_jexec");
const JAIL: &str = env!("CARGO_BIN_EXE_jail");
const ZLOGIN: &str = env!("CARGO_BIN_EXE_zlogin");
const ZSCHED: &str = env!("CARGO_BIN_EXE_zsched");

struct Out {
    code: i32,
    out: String,
    err: String,
}

/// A private engine world: state directory, cgroup root, configuration.
struct World {
    dir: tempfile::TempDir,
    cgroup_root: String,
}

impl World {
    fn new(tag: &str) -> World {
        World {
            dir: tempfile::Builder::new()
                .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
                .tempdir()
                .unwrap(),
            cgroup_root: format!("zones-test-tools-{tag}-{}", std::process::id()),
        }
    }

    fn root() -> World {
        assert_eq!(
            // SAFETY: geteuid has no preconditions.
            unsafe { libc::geteuid() },
            0,
            "these tests start an engine: run them as root"
        );
        World::new("root")
    }

    fn conf(&self, text: &str) {
        std::fs::write(self.dir.path().join("jail.conf"), text).unwrap();
    }

    fn cmd(&self, bin: &str, args: &[&str]) -> Command {
        let conf = self.dir.path().join("jail.conf");
        if !conf.exists() {
            std::fs::write(&conf, "").unwrap();
        }
        let mut c = Command::new(bin);
        c.args(args)
            .env("ZONES_STATE_DIR", self.dir.path().join("state"))
            .env("ZONES_CGROUP_ROOT", &self.cgroup_root)
            .env("ZONED_SOCKET", self.dir.path().join("no-such.sock"))
            .env("ZONES_ZSCHED", ZSCHED)
            .env("ZONES_CONFIG", conf);
        c
    }

    fn run(&self, bin: &str, args: &[&str]) -> Out {
        let o = self.cmd(bin, args).output().unwrap();
        Out {
            code: o.status.code().unwrap_or(-1),
            out: String::from_utf8_lossy(&o.stdout).into_owned(),
            err: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

const KSTAT_USAGE: &str = "\
Usage:
kstat [ -Cjlpq ] [ -T d|u ] [ -c class ]
      [ -m module ] [ -i instance ] [ -n name ] [ -s statistic ]
      [ interval [ count ] ]
kstat [ -Cjlpq ] [ -T d|u ] [ -c class ]
      [ module[:instance[:name[:statistic]]] ... ]
      [ interval [ count ] ]
      [ --socket PATH ] [ --state-dir DIR ] [ --cgroup-root ROOT ] [ --config FILE ]
";

#[test]
fn kstat_usage_errors_print_the_usage_block_and_exit_2() {
    let w = World::new("kstat-usage");
    for (args, msg) in [
        (&["-q", "-p"][..], "kstat: -q and -lpj are mutually exclusive\n"),
        (&["-qj"][..], "kstat: -q and -lpj are mutually exclusive\n"),
        (&["-x"][..], "kstat: illegal option -- x\n"),
        (&["0"][..], "kstat: Interval must be an integer >= 1\n"),
        (&["zones:/(/"][..], ""),
    ] {
        let o = w.run(KSTAT, args);
        assert_eq!(o.code, 2, "{args:?}: {}", o.err);
        assert!(o.err.starts_with(msg), "{args:?}: {}", o.err);
        assert!(o.err.ends_with(KSTAT_USAGE), "{args:?}: {}", o.err);
    }
    let o = w.run(KSTAT, &["-h"]);
    assert_eq!((o.code, o.out.as_str()), (0, KSTAT_USAGE));
    let o = w.run(KSTAT, &["--version"]);
    assert_eq!(o.code, 0);
    assert!(o.out.starts_with("kstat "), "{}", o.out);
}

#[test]
fn kstat_ends_quietly_when_its_reader_goes() {
    let w = World::root();
    let mut child = w
        .cmd(KSTAT, &["-p", "1", "3"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("caps:0:"), "{first}");
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    // Died of SIGPIPE (a shell says 141), as a C tool does: no panic.
    assert_eq!(out.status.signal(), Some(libc::SIGPIPE), "{err}");
    assert!(!err.contains("panicked") && err.is_empty(), "{err}");
}

#[test]
fn kstat_interval_reports_are_separated_by_a_blank_line_and_timestamped() {
    let w = World::root();
    let o = w.run(KSTAT, &["-T", "u", "-C", "zones:0:global:init_pid", "1", "2"]);
    assert_eq!(o.code, 0, "{}", o.err);
    let lines: Vec<&str> = o.out.lines().collect();
    assert_eq!(lines.len(), 5, "{}", o.out);
    assert!(lines[0].parse::<u64>().is_ok(), "{}", o.out);
    assert_eq!(lines[1], "zones:0:global:init_pid:0");
    assert_eq!(lines[2], "");
    assert!(lines[3].parse::<u64>().is_ok(), "{}", o.out);
    assert_eq!(lines[4], lines[1]);
    let o = w.run(KSTAT, &["-l", "zones:0:global:/^(init_pid|class)$/"]);
    assert_eq!(o.out, "zones:0:global:class\nzones:0:global:init_pid\n");
}
