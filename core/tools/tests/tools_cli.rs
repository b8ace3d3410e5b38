//! The tools as a user meets them (issue 18): usage blocks, messages and
//! exit codes copied from illumos and FreeBSD, byte for byte where the
//! originals are known, and a closed pipe that ends every tool quietly.
//! The tools run as binaries over an embedded engine with a private state
//! directory and cgroup root and no daemon; the tests that start an engine
//! need root and fail, not skip, without it.

mod common;

use common::*;
use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};

static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// A private engine world: state directory, cgroup root, configuration.
struct World {
    dir: tempfile::TempDir,
    cgroup_root: String,
}

impl Drop for World {
    /// Remove every jail of this world and its cgroups, also on failure.
    fn drop(&mut self) {
        if self.dir.path().join("state").exists() {
            let _ = self.cmd(JAIL, &["-q", "-r", "*"]).output();
        }
        let root = std::path::Path::new(&self.cgroup_root);
        if let Ok(dirs) = zones_linux::runtime::linux::cgroup::root_dirs(root) {
            let _ = zones_linux::runtime::linux::cgroup::remove(&dirs);
        }
    }
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
        World::new(&format!(
            "root{}",
            COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        ))
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
            .env("ZONES_ZSCHED", zsched())
            .env("ZONES_CONFIG", conf);
        c
    }

    fn run(&self, bin: &str, args: &[&str]) -> Out {
        let o = self.cmd(bin, args).output().unwrap();
        Out::from(o)
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
        (
            &["-q", "-p"][..],
            "kstat: -q and -lpj are mutually exclusive\n",
        ),
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
    let o = w.run(
        KSTAT,
        &["-T", "u", "-C", "zones:0:global:init_pid", "1", "2"],
    );
    assert_eq!(o.code, 0, "{}", o.err);
    let lines: Vec<&str> = o.out.lines().collect();
    assert_eq!(lines.len(), 5, "{}", o.out);
    assert!(lines[0].parse::<u64>().is_ok(), "{}", o.out);
    assert!(
        lines[1].starts_with("zones:0:global:init_pid:"),
        "{}",
        o.out
    );
    assert_eq!(lines[2], "");
    assert!(lines[3].parse::<u64>().is_ok(), "{}", o.out);
    assert_eq!(lines[4], lines[1]);
    let o = w.run(KSTAT, &["-l", "zones:0:global:/^(init_pid|class)$/"]);
    assert_eq!(o.out, "zones:0:global:class\nzones:0:global:init_pid\n");
}

const ZONEADM_USAGE: &str = "\
usage:\tzoneadm help
\tzoneadm [-z <zone>] [-u <uuid-match>] list
\tzoneadm {-z <zone>|-u <uuid-match>} <subcommand>

Subcommands:

boot [-- boot_arguments]
shutdown [-r]
halt
ready
reboot
list [-cipv] [--json]
verify
install
uninstall [-F]
clone zonename
";

#[test]
fn zoneadm_speaks_as_illumos_zoneadm() {
    let w = World::root();
    w.conf(&format!(
        "web {{ path = \"{}/web/root\"; host.hostuuid = \"12345678-1234-1234-1234-123456789abc\"; }}\n",
        w.dir.path().display()
    ));
    // Usage errors: the message, then illumos' block; exit 2.
    let o = w.run(ZONEADM, &["bogus"]);
    assert_eq!(o.code, 2);
    assert_eq!(
        o.err,
        format!("zoneadm: unrecognized subcommand 'bogus'\n{ZONEADM_USAGE}")
    );
    let o = w.run(ZONEADM, &["list", "-x"]);
    assert_eq!(o.code, 2);
    assert!(o.err.ends_with(ZONEADM_USAGE), "{}", o.err);
    // -p and -v.
    let o = w.run(ZONEADM, &["list", "-p", "-v"]);
    assert_eq!(
        (o.code, o.err.as_str()),
        (1, "zoneadm: list -p and -v are mutually exclusive.\n")
    );
    let o = w.run(ZONEADM, &["-z", "web", "list", "-pv"]);
    assert_eq!(
        (o.code, o.err.as_str()),
        (
            1,
            "zoneadm: zone 'web': list -p and -v are mutually exclusive.\n"
        )
    );
    // An unknown zone, for list and for an operation.
    for args in [
        &["-z", "nope", "list"][..],
        &["-z", "nope", "halt"],
        &["-z", "nope", "boot"],
    ] {
        let o = w.run(ZONEADM, args);
        assert_eq!(
            (o.code, o.err.as_str()),
            (1, "zoneadm: nope: No such zone configured\n"),
            "{args:?}"
        );
    }
    // -z NAME list: that zone whatever its state; -c/-i refused there.
    let root = format!("{}/web/root", w.dir.path().display());
    let o = w.run(ZONEADM, &["-z", "web", "list", "-p"]);
    assert_eq!(
        o.out,
        format!("-:web:configured:{root}:12345678-1234-1234-1234-123456789abc:whole:shared\n")
    );
    let o = w.run(ZONEADM, &["-z", "web", "list", "-c"]);
    assert_eq!(o.code, 2);
    assert!(
        o.err.starts_with("usage:\tlist [-cipv] [--json]\n"),
        "{}",
        o.err
    );
    // -u: the zone by its uuid; every zone has one.
    let o = w.run(
        ZONEADM,
        &["-u", "12345678-1234-1234-1234-123456789ABC", "list"],
    );
    assert_eq!(o.out, "web\n");
    let o = w.run(ZONEADM, &["-u", "nonsense", "list"]);
    assert_eq!(
        (o.code, o.err.as_str()),
        (1, "zoneadm: illegal UUID value specified\n")
    );
    let o = w.run(ZONEADM, &["list", "-p"]);
    let f: Vec<&str> = o.out.trim_end().split(':').collect();
    assert_eq!(&f[..3], ["0", "global", "running"], "{}", o.out);
    assert_eq!(f[4].len(), 36, "the global zone has a uuid: {}", o.out);
    // JSON.
    let o = w.run(ZONEADM, &["list", "-c", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&o.out).unwrap();
    assert_eq!(v[1]["zonename"], "web");
    assert_eq!(v[1]["uuid"], "12345678-1234-1234-1234-123456789abc");
    assert_eq!(v[1]["zoneid"], serde_json::Value::Null);
}

#[test]
fn jls_jexec_and_jail_speak_as_freebsd_does() {
    let w = World::root();
    // Usage errors: getopt's message, the usage line, exit 1.
    let o = w.run(JLS, &["-x"]);
    assert_eq!(o.code, 1);
    assert_eq!(
        o.err,
        "jls: illegal option -- x\njls: usage: jls [-dhNnqv] [-j jail] [param ...]\n"
    );
    let o = w.run(JAIL, &["-X"]);
    assert_eq!(o.code, 1);
    assert!(
        o.err.starts_with("jail: illegal option -- X\nusage: jail "),
        "{}",
        o.err
    );
    for bin in [JLS, JEXEC, JAIL, KSTAT, ZONEADM, ZLOGIN] {
        let o = w.run(bin, &["--version"]);
        assert_eq!(o.code, 0, "{bin}: {}", o.err);
    }
    // One jail on the host's root (path "/" is exempt from the private
    // parent rule), without a name-less twist first.
    let name = format!("jt{}", std::process::id());
    let o = w.run(
        JAIL,
        &[
            "-c",
            &format!("name={name}"),
            "path=/",
            "persist",
            "host.hostname=jt",
        ],
    );
    assert_eq!(o.code, 0, "{}", o.err);
    let jid = w.run(JLS, &["-j", &name, "jid"]).out.trim().to_string();
    // -a is -d; a missing jid is named without quotes, a name with.
    let o = w.run(JLS, &["-a", "-j", &name, "name"]);
    assert_eq!((o.code, o.out.trim()), (0, name.as_str()), "{}", o.err);
    let o = w.run(JLS, &["-j", "99999"]);
    assert_eq!((o.code, o.err.as_str()), (1, "jls: jail 99999 not found\n"));
    let o = w.run(JEXEC, &["99999", "true"]);
    assert_eq!(
        (o.code, o.err.as_str()),
        (1, "jexec: jail 99999 not found\n")
    );
    // The default table: no address is a blank column; JSON in libxo's order.
    let o = w.run(JLS, &["-j", &name]);
    assert_eq!(
        o.out,
        format!(
            "   JID  IP Address      Hostname                      Path\n{jid:>6}                  jt                            /\n"
        )
    );
    let o = w.run(JLS, &["--libxo", "json", "-j", &name]);
    assert_eq!(
        o.out,
        format!(
            "{{\"__version\": \"2\", \"jail-information\": {{\"jail\": [{{\"jid\":{jid},\"ipv4\":\"\",\"hostname\":\"jt\",\"path\":\"/\"}}]}}\n}}\n"
        )
    );
    // jexec keeps the caller's environment and starts in /; -l is a login.
    let o = w.run(
        JEXEC,
        &[
            "-n",
            &name,
            "/bin/sh",
            "-c",
            "echo \"$ZONES_TEST_VAR\"; pwd",
        ],
    );
    let o = if o.code == 0 { o } else { panic!("{}", o.err) };
    assert_eq!(o.out, "\n/\n", "ZONES_TEST_VAR is not set by the harness");
    let out = w
        .cmd(
            JEXEC,
            &[&name, "/bin/sh", "-c", "echo \"$ZONES_TEST_VAR\"; pwd"],
        )
        .env("ZONES_TEST_VAR", "kept")
        .current_dir("/tmp")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "kept\n/\n");
    let out = w
        .cmd(
            JEXEC,
            &[
                "-l",
                &name,
                "/bin/sh",
                "-c",
                "echo \"[$ZONES_TEST_VAR]\"; pwd; echo $USER",
            ],
        )
        .env("ZONES_TEST_VAR", "kept")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "[]\n/root\nroot\n");
}

/// The completions of assets/completions, run by the shells against these
/// tools (target/debug on PATH): `zoneadm -z <TAB>` offers the configured
/// zones and every kernel zone.
#[test]
fn shell_completion_of_zoneadm_z_offers_zone_names() {
    let w = World::root();
    w.conf("web { path = \"/nonexistent/web\"; }\ndb { path = \"/nonexistent/db\"; }\n");
    let assets = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/completions");
    let bindir = std::path::Path::new(ZONEADM)
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bindir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let script = format!(
        "source {}; COMP_WORDS=(zoneadm -z ''); COMP_CWORD=2; _zones_zoneadm; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        assets.join("bash/zones").display()
    );
    let out = w
        .cmd("bash", &["-c", &script])
        .env("PATH", &path)
        .output()
        .unwrap();
    let mut got: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect();
    got.sort();
    assert_eq!(
        got,
        ["db", "global", "web"],
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The other two shells, where they are installed (CI installs both).
    for (shell, args) in [
        (
            "fish",
            vec![
                "-c".to_string(),
                format!(
                    "set -p fish_complete_path {}; complete -C 'zoneadm -z '",
                    assets.join("fish").display()
                ),
            ],
        ),
        (
            "zsh",
            vec![
                "-n".to_string(),
                assets.join("zsh/_zones").display().to_string(),
            ],
        ),
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = w
            .cmd(shell, &args)
            .env("PATH", &path)
            .output()
            .unwrap_or_else(|e| panic!("{shell}: {e} (CI installs zsh and fish)"));
        assert!(out.status.success(), "{shell}: {out:?}");
        if shell == "fish" {
            let text = String::from_utf8_lossy(&out.stdout);
            let mut names: Vec<&str> = text
                .lines()
                .map(|l| l.split('\t').next().unwrap())
                .collect();
            names.sort();
            assert_eq!(names, ["db", "global", "web"], "{text}");
        }
    }
}
