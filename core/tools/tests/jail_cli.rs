//! End to end (as root): the FreeBSD tools jail, jls and jexec, run as
//! binaries over an embedded engine on a private state directory, with
//! zone cgroups beneath the test's own cgroup (a private relative root)
//! and no daemon (ZONED_SOCKET names a socket that does not exist).
//! Each test uses its own names, state and cgroup root; a guard removes
//! every jail (`jail -r '*'`) and the cgroups when the test ends.
//!
//! These tests need root: they fail, not skip, without it.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use zones_linux::runtime::linux::cgroup;

/// A private world for one test: state dir, cgroup root, temp files.
struct World {
    dir: tempfile::TempDir,
    cgroup_root: String,
}

impl World {
    fn new(tag: &str) -> World {
        assert_eq!(
            // SAFETY: geteuid has no preconditions and cannot fail.
            unsafe { libc::geteuid() },
            0,
            "the jail end-to-end tests must run as root"
        );
        World {
            // 0700: a jail's root must not be reachable by other users.
            dir: tempfile::Builder::new()
                .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
                .tempdir()
                .unwrap(),
            cgroup_root: format!("zones-test-jail-{tag}-{}", std::process::id()),
        }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    fn run(&self, bin: &str, args: &[&str]) -> Out {
        let o = Command::new(bin)
            .args(args)
            .env("ZONES_STATE_DIR", self.path("state"))
            .env("ZONES_CGROUP_ROOT", &self.cgroup_root)
            .env("ZONED_SOCKET", self.path("no-such.sock"))
            .env("ZONES_ZSCHED", zsched())
            .env_remove("ZONES_CONFIG")
            .output()
            .unwrap();
        Out::from(o)
    }

    fn jail(&self, args: &[&str]) -> Out {
        self.run(JAIL, args)
    }

    fn jls(&self, args: &[&str]) -> Out {
        self.run(JLS, args)
    }

    /// Write a jail.conf in the world.
    fn conf(&self, name: &str, text: &str) -> String {
        let p = self.path(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    }

    fn cgroup_dirs(&self) -> Vec<PathBuf> {
        cgroup::root_dirs(Path::new(&self.cgroup_root)).expect("cgroup hierarchies")
    }

    /// The zone cgroups left under the test's root.
    fn zone_cgroups(&self) -> Vec<PathBuf> {
        let mut left = Vec::new();
        for d in self.cgroup_dirs() {
            if let Ok(rd) = std::fs::read_dir(&d) {
                left.extend(rd.flatten().filter(|e| e.path().is_dir()).map(|e| e.path()));
            }
        }
        left
    }

    /// Zone records in the state directory.
    fn state_records(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.path("state/zones"))
            .map(|rd| rd.flatten().map(|e| e.path()).collect())
            .unwrap_or_default()
    }

    fn jid(&self, name: &str) -> u32 {
        let o = self.jls(&["-j", name, "jid"]);
        assert_eq!(o.code, 0, "{}", o.err);
        o.out.trim().parse().unwrap()
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = self.jail(&["-q", "-r", "*"]);
        let _ = cgroup::remove(&self.cgroup_dirs());
    }
}

fn row(jid: u32, ip: &str, host: &str, path: &str) -> String {
    format!("{jid:>6}  {ip:<15.15} {host:<29.29} {path:.74}\n")
}

#[test]
fn jails_from_a_file_and_the_command_line_jls_jexec_modify_restart_and_remove_all() {
    let w = World::new("basic");
    // From the command line; ip4.addr on a loopback interface (a FreeBSD
    // jail.conf's lo1 alias) is on the jail's own lo: nothing to warn of.
    let o = w.jail(&[
        "-c",
        "name=jc1",
        "path=/",
        "persist",
        "host.hostname=h1",
        "ip4.addr=lo1|10.9.9.9",
    ]);
    assert_eq!(o.code, 0, "{}", o.err);
    assert_eq!(o.out, "jc1: created\n");
    assert_eq!(o.err, "");
    // From a file.
    let conf = w.conf(
        "jail.conf",
        "jc2 {\n  path = /;\n  persist;\n  host.hostname = \"h two\";\n}\n",
    );
    let o = w.jail(&["-f", &conf, "-c", "jc2"]);
    assert_eq!(o.code, 0, "{}", o.err);
    assert_eq!(o.out, "jc2: created\n");
    assert_eq!(o.err, "");
    let (j1, j2) = (w.jid("jc1"), w.jid("jc2"));
    assert_ne!(j1, j2);

    // jls in every format.
    let o = w.jls(&[]);
    assert_eq!(o.code, 0, "{}", o.err);
    let mut rows = [
        (j1, row(j1, "10.9.9.9", "h1", "/")),
        (j2, row(j2, "", "h two", "/")),
    ];
    rows.sort();
    let body: String = rows.iter().map(|(_, r)| r.as_str()).collect();
    assert_eq!(
        o.out,
        format!("   JID  IP Address      Hostname                      Path\n{body}")
    );
    let o = w.jls(&["-N", "-j", "jc1"]);
    assert_eq!(
        o.out,
        format!(
            " JID             IP Address      Hostname                      Path\n {:<15} {:<15} {:<29} {}\n",
            "jc1", "10.9.9.9", "h1", "/"
        )
    );
    let o = w.jls(&["-v", "-j", "jc1"]);
    assert!(
        o.out
            .starts_with("   JID  Hostname                      Path\n"),
        "{}",
        o.out
    );
    assert!(o.out.contains("ACTIVE"), "{}", o.out);
    assert!(o.out.contains("10.9.9.9"), "{}", o.out);
    let o = w.jls(&[
        "-n",
        "-j",
        "jc1",
        "name",
        "host.hostname",
        "persist",
        "dying",
    ]);
    assert_eq!(o.out, "name=jc1 host.hostname=h1 persist nodying\n");
    let o = w.jls(&["-q", "-n", "-j", "jc2", "host.hostname"]);
    assert_eq!(o.out, "host.hostname=\"h two\"\n");
    let o = w.jls(&["-s", "-j", "jc2", "name", "path"]);
    assert_eq!(o.out, "name=jc2 path=/\n");
    let o = w.jls(&["-h", "-j", "jc1", "jid", "name"]);
    assert_eq!(o.out, format!("jid name\n{j1} jc1\n"));
    let o = w.jls(&["-n", "-j", "jc1"]);
    assert!(o.out.contains(" ip4.addr=lo1|10.9.9.9 "), "{}", o.out);
    let o = w.jls(&["-d"]);
    assert_eq!(o.out.lines().count(), 3, "{}", o.out);
    for flag in [&["--libxo", "json"][..], &["--json"][..]] {
        let o = w.jls(flag);
        assert_eq!(o.code, 0, "{}", o.err);
        let v: serde_json::Value = serde_json::from_str(&o.out).unwrap();
        assert_eq!(v["__version"], "2");
        let jails = v["jail-information"]["jail"].as_array().unwrap();
        assert_eq!(jails.len(), 2, "{}", o.out);
    }
    let o = w.jls(&["-j", "nope"]);
    assert_eq!(o.code, 1);
    assert_eq!(o.err, "jls: jail \"nope\" not found\n");
    let o = w.jls(&["-n", "no.such.param"]);
    assert_eq!(o.code, 1);

    // jexec by name and by jid: the command's output and status.
    let o = w.run(JEXEC, &["jc1", "/bin/sh", "-c", "hostname; exit 7"]);
    assert_eq!((o.code, o.out.as_str()), (7, "h1\n"), "{}", o.err);
    let o = w.run(JEXEC, &[&j2.to_string(), "hostname"]);
    assert_eq!((o.code, o.out.as_str()), (0, "h two\n"), "{}", o.err);
    let o = w.run(JEXEC, &["nope", "true"]);
    assert_eq!(o.code, 1);
    assert_eq!(o.err, "jexec: jail \"nope\" not found\n");

    // -m of a changeable parameter, then of one that cannot change.
    let o = w.jail(&["-m", "name=jc1", "host.hostname=h1b"]);
    assert_eq!((o.code, o.out.as_str()), (0, "jc1: updated\n"), "{}", o.err);
    assert_eq!(w.jls(&["-j", "jc1", "host.hostname"]).out, "h1b\n");
    let o = w.run(JEXEC, &["jc1", "hostname"]);
    assert_eq!(o.out, "h1b\n");
    let o = w.jail(&["-m", "name=jc1", "path=/tmp"]);
    assert_eq!(o.code, 1);
    assert_eq!(o.err, "jail: jc1: path cannot be changed after creation\n");
    assert_eq!(w.jls(&["-j", "jc1", "path"]).out, "/\n");

    // -rc: removed, then created again.
    let o = w.jail(&["-f", &conf, "-rc", "jc2"]);
    assert_eq!(o.code, 0, "{}", o.err);
    assert_eq!(o.out, "jc2: removed\njc2: created\n");
    // -c of a running jail is refused.
    let o = w.jail(&["-f", &conf, "-c", "jc2"]);
    assert_eq!(o.code, 1);
    assert_eq!(o.err, "jail: jc2: already exists\n");

    // -r '*': every jail, and nothing is left.
    let o = w.jail(&["-r", "*"]);
    assert_eq!(o.code, 0, "{}", o.err);
    let mut lines: Vec<&str> = o.out.lines().collect();
    lines.sort();
    assert_eq!(lines, ["jc1: removed", "jc2: removed"]);
    assert_eq!(
        w.jls(&[]).out,
        "   JID  IP Address      Hostname                      Path\n"
    );
    assert!(w.zone_cgroups().is_empty(), "{:?}", w.zone_cgroups());
    assert!(w.state_records().is_empty(), "{:?}", w.state_records());
    let o = w.jail(&["-r", "jc1"]);
    assert_eq!(o.code, 1);
    assert_eq!(o.err, "jail: \"jc1\" not found\n");
}

#[test]
fn nested_jails_obey_children_max_and_go_children_first() {
    let w = World::new("nested");
    let root = w.path("roots");
    // Sparse roots: jail(8) installs each (the host's /usr, /bin, ... read-only).
    let conf = w.conf(
        "nested.conf",
        &format!(
            "persist;\nbrand = sparse;\nnp {{\n  path = \"{r}/np\";\n  children.max = 1;\n  c1 {{ path = \"{r}/np/c1\"; }}\n  c2 {{ path = \"{r}/np/c2\"; }}\n}}\n",
            r = root.display()
        ),
    );
    // The parent is created first: the child depends on it.
    let o = w.jail(&["-f", &conf, "-c", "np.c1"]);
    assert_eq!(o.code, 0, "{}", o.err);
    assert_eq!(o.out, "np: created\nnp.c1: created\n");
    assert_eq!(w.jls(&["-j", "np", "children.cur"]).out, "1\n");
    let parent = w.jid("np");
    assert_eq!(w.jls(&["-j", "np.c1", "parent"]).out, format!("{parent}\n"));
    // A second child is beyond children.max.
    let o = w.jail(&["-f", &conf, "-c", "np.c2"]);
    assert_eq!(o.code, 1);
    assert!(o.err.contains("children.max 1 reached"), "{}", o.err);
    assert_eq!(o.out, "");
    assert_eq!(w.jls(&["-N"]).out.lines().count(), 3);
    // jexec into the child.
    let o = w.run(JEXEC, &["np.c1", "/bin/true"]);
    assert_eq!(o.code, 0, "{}", o.err);
    // Removing the parent removes the child first.
    let o = w.jail(&["-f", &conf, "-r", "np"]);
    assert_eq!(o.code, 0, "{}", o.err);
    assert_eq!(o.out, "np.c1: removed\nnp: removed\n");
    assert!(w.zone_cgroups().is_empty(), "{:?}", w.zone_cgroups());
}

#[test]
fn a_jail_that_is_not_persist_ends_when_its_command_exits() {
    let w = World::new("nonpersist");
    let o = w.jail(&[
        "-c",
        "name=jnp",
        "path=/",
        "command=/bin/sh",
        "-c",
        "echo in $JNAME; exit 0",
    ]);
    assert_eq!(o.code, 0, "{}", o.err);
    assert_eq!(o.out, "jnp: created\nin jnp\n");
    let o = w.jls(&["-j", "jnp"]);
    assert_eq!(o.code, 1, "{}", o.out);
    assert!(w.zone_cgroups().is_empty(), "{:?}", w.zone_cgroups());
    assert!(w.state_records().is_empty());
    // The legacy form: path hostname ip command.
    let o = w.jail(&["-n", "jold", "/", "oldhost", "", "/bin/hostname"]);
    assert_eq!(o.code, 0, "{}", o.err);
    assert_eq!(o.out, "jold: created\noldhost\n");
    assert_eq!(w.jls(&["-j", "jold"]).code, 1);
    // A command that fails fails the creation and leaves nothing.
    let o = w.jail(&["-c", "name=jbad", "path=/", "persist", "command=/bin/false"]);
    assert_eq!(o.code, 1);
    assert_eq!(o.err, "jail: jbad: /bin/false: failed\n");
    assert_eq!(w.jls(&["-j", "jbad"]).code, 1);
}

#[test]
fn exec_hooks_run_in_order_with_jid_jname_and_jpath() {
    let w = World::new("hooks");
    let log = w.path("hooks.log");
    let l = log.display();
    let conf = w.conf(
        "hooks.conf",
        &format!(
            r#"jhk {{
  path = /;
  persist;
  exec.prepare = 'echo prepare "$JID" $JNAME $JPATH >> {l}';
  exec.prestart = 'echo prestart >> {l}';
  exec.created = 'echo created $JID $JNAME $JPATH >> {l}';
  exec.start = 'echo start $JID $JNAME $JPATH >> {l}', 'echo start2 >> {l}';
  exec.poststart = 'echo poststart $JID >> {l}';
  exec.prestop = 'echo prestop $JID >> {l}';
  exec.stop = 'echo stop $JID $JNAME >> {l}';
  exec.poststop = 'echo poststop $JID $JNAME >> {l}';
  exec.release = 'echo release $JNAME >> {l}';
  exec.consolelog = "{c}";
}}
"#,
            c = w.path("console.log").display()
        ),
    );
    let o = w.jail(&["-f", &conf, "-c"]);
    assert_eq!(o.code, 0, "{}", o.err);
    assert_eq!(o.out, "jhk: created\n");
    let jid = w.jid("jhk");
    let o = w.jail(&["-f", &conf, "-r", "jhk"]);
    assert_eq!(o.code, 0, "{}", o.err);
    assert_eq!(o.out, "jhk: removed\n");
    let got = std::fs::read_to_string(&log).unwrap();
    let want = format!(
        "prepare  jhk /\nprestart\ncreated {jid} jhk /\nstart {jid} jhk /\nstart2\npoststart {jid}\n\
         prestop {jid}\nstop {jid} jhk\npoststop {jid} jhk\nrelease jhk\n"
    );
    assert_eq!(got, want);
    // -e shows the configuration.
    let o = w.jail(&["-f", &conf, "-e", "|"]);
    assert_eq!(o.code, 0);
    assert!(
        o.out.starts_with("name=jhk|path=/|persist|exec.prepare="),
        "{}",
        o.out
    );
}

#[test]
fn a_failed_exec_prestart_leaves_nothing_behind() {
    let w = World::new("prestart");
    let mnt = w.path("mnt");
    std::fs::create_dir_all(&mnt).unwrap();
    let conf = w.conf(
        "bad.conf",
        &format!(
            "jfp {{\n  path = /;\n  persist;\n  mount = \"tmpfs {m} tmpfs rw 0 0\";\n  exec.prestart = \"true\", \"false\";\n  exec.release = \"echo no >> {m}.released\";\n}}\n",
            m = mnt.display()
        ),
    );
    let o = w.jail(&["-f", &conf, "-c", "jfp"]);
    assert_eq!(o.code, 1);
    assert_eq!(o.out, "");
    assert_eq!(o.err, "jail: jfp: false: failed\n");
    assert_eq!(w.jls(&["-j", "jfp"]).code, 1);
    assert!(w.zone_cgroups().is_empty(), "{:?}", w.zone_cgroups());
    assert!(w.state_records().is_empty(), "{:?}", w.state_records());
    // The mount made before exec.prestart was undone.
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mounts.contains(&mnt.display().to_string()),
        "still mounted"
    );
    // A failure after the jail exists removes it again.
    let o = w.jail(&[
        "-c",
        "name=jfc",
        "path=/",
        "persist",
        &format!("mount=tmpfs {} tmpfs rw 0 0", mnt.display()),
        "exec.created=exit 3",
    ]);
    assert_eq!(o.code, 1);
    assert_eq!(o.out, "jfc: created\n");
    assert_eq!(o.err, "jail: jfc: exit 3: failed\n");
    assert_eq!(w.jls(&["-j", "jfc"]).code, 1);
    assert!(w.zone_cgroups().is_empty(), "{:?}", w.zone_cgroups());
    assert!(w.state_records().is_empty(), "{:?}", w.state_records());
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mounts.contains(&mnt.display().to_string()),
        "still mounted"
    );
}

#[test]
fn a_file_with_an_error_creates_nothing_and_exits_1() {
    let w = World::new("syntax");
    let conf = w.conf(
        "broken.conf",
        "jok { path = /; persist; }\njbroken {\n  path = \"/x;\n}\n",
    );
    let o = w.jail(&["-f", &conf, "-c"]);
    assert_eq!(o.code, 1);
    assert_eq!(o.out, "");
    assert!(o.err.starts_with("jail: "), "{}", o.err);
    assert!(o.err.contains(&format!("{conf} line 3")), "{}", o.err);
    assert_eq!(w.jls(&["-j", "jok"]).code, 1);
    assert!(w.state_records().is_empty());
    // Nor does it change or remove anything.
    let o = w.jail(&["-c", "name=jkeep", "path=/", "persist", "host.hostname=k1"]);
    assert_eq!(o.code, 0, "{}", o.err);
    for op in ["-r", "-m", "-rc"] {
        let o = w.jail(&["-f", &conf, op, "jkeep"]);
        assert_eq!((o.code, o.out.as_str()), (1, ""), "{op}: {}", o.err);
    }
    assert_eq!(w.jls(&["-j", "jkeep", "host.hostname"]).out, "k1\n");
    let conf = w.conf("unknown.conf", "jok { path = /; persist; no.such = 1; }\n");
    let o = w.jail(&["-f", &conf, "-c"]);
    assert_eq!(o.code, 1);
    assert!(
        o.err.contains("line 1: jok: unknown parameter: no.such"),
        "{}",
        o.err
    );
    assert_eq!(w.jls(&["-j", "jok"]).code, 1);
    // Usage errors exit 1, as FreeBSD's jail, jexec and jls do.
    assert_eq!(w.jail(&["-x"]).code, 1);
    assert_eq!(w.jail(&[]).code, 1);
    assert_eq!(w.jail(&["-r"]).code, 1);
    assert_eq!(w.run(JEXEC, &[]).code, 1);
    assert_eq!(w.jls(&["-z"]).code, 1);
    assert_eq!(w.jail(&["--version"]).code, 0);
}

#[test]
fn the_rc_conf_import_prints_an_equivalent_jail_conf() {
    let w = World::new("rc");
    let rc = w.path("rc.conf");
    std::fs::write(
        &rc,
        "jail_enable=\"YES\"\njail_list=\"www\"\njail_www_rootdir=\"/\"\njail_www_hostname=\"www.example.org\"\n",
    )
    .unwrap();
    let o = w.jail(&["--import-rc", rc.to_str().unwrap()]);
    assert_eq!(o.code, 0, "{}", o.err);
    assert!(o.out.contains("www {"), "{}", o.out);
    let conf = w.conf("imported.conf", &o.out);
    let o = w.jail(&["-f", &conf, "-e", " "]);
    assert_eq!(o.code, 0, "{}", o.err);
    assert!(o.out.contains("host.hostname=www.example.org"), "{}", o.out);
}

/// The examples of assets/examples, with their roots (and logs) moved
/// into the test's directory.
fn example(w: &World, name: &str) -> String {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../assets/examples")
        .join(name);
    let text = std::fs::read_to_string(src).unwrap();
    let roots = w.path("roots");
    let text = text
        .replace("/var/lib/zones/roots", &roots.display().to_string())
        .replace("/tmp/zones-hooks-", &w.path("hooks-").display().to_string());
    w.conf(name, &text)
}

#[test]
fn the_example_configurations_boot() {
    let w = World::new("examples");
    // nested.conf: host.app brings host up first.
    let nested = example(&w, "nested.conf");
    let o = w.jail(&["-f", &nested, "-c", "host.app"]);
    assert_eq!(o.code, 0, "{}", o.err);
    assert_eq!(o.out, "host: created\nhost.app: created\n");
    let o = w.jail(&["-f", &nested, "-r", "host"]);
    assert_eq!(o.code, 0, "{}", o.err);
    assert_eq!(o.out, "host.app: removed\nhost: removed\n");
    // hooks.conf: every hook, in order.
    let hooks = example(&w, "hooks.conf");
    let o = w.jail(&["-f", &hooks, "-c", "hooks"]);
    assert_eq!(o.code, 0, "{}", o.err);
    let o = w.jail(&["-f", &hooks, "-r", "hooks"]);
    assert_eq!(o.code, 0, "{}", o.err);
    let log = std::fs::read_to_string(w.path("hooks-hooks.log")).unwrap();
    let steps: Vec<&str> = log.lines().map(|l| l.split(' ').next().unwrap()).collect();
    assert_eq!(
        steps,
        [
            "prepare",
            "prestart",
            "created",
            "poststart",
            "prestop",
            "poststop",
            "release"
        ]
    );
    let inside = std::fs::read_to_string(w.path("roots/hooks/hooks.log")).unwrap();
    assert_eq!(inside, "start hooks\nstop hooks\n");
    // web.conf: a sparse zone serving a page in its own network.
    let web = example(&w, "web.conf");
    let o = w.jail(&["-f", &web, "-c", "web"]);
    assert_eq!(o.code, 0, "{}", o.err);
    let o = w.run(
        JEXEC,
        &[
            "web",
            "/bin/sh",
            "-c",
            "for i in 1 2 3 4 5 6 7 8 9 10; do python3 -c 'import urllib.request as u; print(u.urlopen(\"http://127.0.0.1:8080/\").read().decode(), end=\"\")' 2>/dev/null && exit 0; sleep 0.3; done; exit 1",
        ],
    );
    assert_eq!(
        (o.code, o.out.as_str()),
        (0, "hello from web\n"),
        "{}",
        o.err
    );
    let o = w.jail(&["-f", &web, "-r", "web"]);
    assert_eq!(o.code, 0, "{}", o.err);
    assert!(w.zone_cgroups().is_empty(), "{:?}", w.zone_cgroups());
}

#[test]
fn depend_orders_and_the_options_i_j_cm_r_and_c() {
    let w = World::new("options");
    let log = w.path("opts.log");
    let conf = w.conf(
        "opts.conf",
        &format!(
            "persist;\npath = /;\njoa {{\n  depend = job;\n  exec.poststop = 'echo poststop-a >> {l}';\n  exec.release = 'echo release-a >> {l}';\n}}\njob {{ host.hostname = b1; }}\n",
            l = log.display()
        ),
    );
    // A jail's dependency is created first, and removed after it.
    let o = w.jail(&["-f", &conf, "-c", "joa"]);
    assert_eq!(o.code, 0, "{}", o.err);
    assert_eq!(o.out, "job: created\njoa: created\n");
    let o = w.jail(&["-f", &conf, "-r", "job"]);
    assert_eq!(o.code, 0, "{}", o.err);
    assert_eq!(o.out, "joa: removed\njob: removed\n");
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "poststop-a\nrelease-a\n"
    );
    // -cm: create when missing, update when running.
    let o = w.jail(&["-f", &conf, "-cm", "job"]);
    assert_eq!((o.code, o.out.as_str()), (0, "job: created\n"), "{}", o.err);
    let o = w.jail(&["-f", &conf, "-cm", "job"]);
    assert_eq!((o.code, o.out.as_str()), (0, "job: updated\n"), "{}", o.err);
    // -cmr: a change that cannot be made on a running jail restarts it.
    // (Not /tmp: a root other users can reach is refused.)
    let cmr = w.path("cmr");
    std::fs::create_dir(&cmr).unwrap();
    let o = w.jail(&[
        "-cmr",
        "name=job",
        &format!("path={}", cmr.display()),
        "persist",
    ]);
    assert_eq!(o.code, 0, "{}", o.err);
    assert_eq!(o.out, "job: removed\njob: created\n");
    assert_eq!(
        w.jls(&["-j", "job", "path"]).out,
        format!("{}\n", cmr.display())
    );
    // -R: removed without the configuration's commands.
    std::fs::remove_file(&log).unwrap();
    let o = w.jail(&["-f", &conf, "-c", "joa"]);
    assert_eq!(o.code, 0, "{}", o.err);
    let o = w.jail(&["-R", "joa"]);
    assert_eq!((o.code, o.out.as_str()), (0, "joa: removed\n"), "{}", o.err);
    assert!(!log.exists());
    // -C: what follows a removal, for a jail already gone.
    let o = w.jail(&["-f", &conf, "-C", "joa"]);
    assert_eq!(o.code, 0, "{}", o.err);
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "poststop-a\nrelease-a\n"
    );
    // -i prints only the jid; -J writes the jail's parameters.
    let o = w.jail(&["-i", "-c", "name=joi", "path=/", "persist"]);
    assert_eq!(o.code, 0, "{}", o.err);
    assert_eq!(o.out, format!("{}\n", w.jid("joi")));
    let jf = w.path("jid.file");
    let o = w.jail(&[
        "-J",
        jf.to_str().unwrap(),
        "-c",
        "name=joj",
        "path=/",
        "persist",
        "host.hostname=j j",
    ]);
    assert_eq!(o.code, 0, "{}", o.err);
    let text = std::fs::read_to_string(&jf).unwrap();
    assert!(
        text.starts_with(&format!("jid={} ", w.jid("joj"))),
        "{text}"
    );
    assert!(text.contains(" host.hostname=\"j j\""), "{text}");
    assert!(text.contains(" name=joj"), "{text}");
    // -q: no message.
    let o = w.jail(&["-q", "-r", "joi"]);
    assert_eq!((o.code, o.out.as_str()), (0, ""), "{}", o.err);
    // foo.* reaches running jails that are not configured.
    let o = w.jail(&["-c", "name=jow", "path=/", "persist", "children.max=1"]);
    assert_eq!(o.code, 0, "{}", o.err);
    let o = w.jail(&["-c", "name=jow.kid", "path=/", "persist"]);
    assert_eq!(o.code, 0, "{}", o.err);
    let o = w.jail(&["-r", "jow.*"]);
    assert_eq!(
        (o.code, o.out.as_str()),
        (0, "jow.kid: removed\n"),
        "{}",
        o.err
    );
    assert_eq!(w.jls(&["-j", "jow", "children.cur"]).out, "0\n");
}

#[test]
fn stop_timeout_exec_timeout_consolelog_and_vnet_interface() {
    let w = World::new("timeouts");
    // A process that ignores SIGTERM is killed after stop.timeout.
    let o = w.jail(&[
        "-c",
        "name=jst",
        "path=/",
        "persist",
        "stop.timeout=1",
        "exec.start=trap '' TERM; sleep 60 >/dev/null 2>&1 &",
    ]);
    assert_eq!(o.code, 0, "{}", o.err);
    let start = std::time::Instant::now();
    let o = w.jail(&["-r", "jst"]);
    assert_eq!((o.code, o.out.as_str()), (0, "jst: removed\n"), "{}", o.err);
    let took = start.elapsed();
    assert!(
        took >= std::time::Duration::from_millis(900) && took < std::time::Duration::from_secs(8),
        "{took:?}"
    );
    // exec.timeout: a host command that runs too long fails the creation.
    let start = std::time::Instant::now();
    let o = w.jail(&[
        "-c",
        "name=jto",
        "path=/",
        "persist",
        "exec.timeout=1",
        "exec.prestart=sleep 5",
    ]);
    assert_eq!(o.code, 1);
    assert_eq!(o.err, "jail: jto: sleep 5: timed out\n");
    assert!(start.elapsed() < std::time::Duration::from_secs(4));
    assert_eq!(w.jls(&["-j", "jto"]).code, 1);
    // exec.consolelog takes the output of the commands, ours stays clean.
    let console = w.path("console");
    let o = w.jail(&[
        "-c",
        "name=jcl",
        "path=/",
        "persist",
        &format!("exec.consolelog={}", console.display()),
        "exec.start=echo inside-out",
        "exec.poststart=echo host-out",
    ]);
    assert_eq!((o.code, o.out.as_str()), (0, "jcl: created\n"), "{}", o.err);
    assert_eq!(
        std::fs::read_to_string(&console).unwrap(),
        "inside-out\nhost-out\n"
    );
    // vnet.interface: one end of a veth pair goes into the jail.
    let a = format!("jv{}a", std::process::id() % 100000);
    let b = format!("jv{}b", std::process::id() % 100000);
    let made = Command::new("ip")
        .args(["link", "add", &a, "type", "veth", "peer", "name", &b])
        .status()
        .unwrap();
    assert!(made.success());
    let o = w.jail(&[
        "-c",
        "name=jvn",
        "path=/",
        "persist",
        "vnet=new",
        &format!("vnet.interface={a}"),
    ]);
    assert_eq!(o.code, 0, "{}", o.err);
    let o = w.run(JEXEC, &["jvn", "/bin/cat", "/proc/net/dev"]);
    let host_has = |i: &str| {
        Command::new("ip")
            .args(["link", "show", i])
            .output()
            .unwrap()
            .status
            .success()
    };
    let inside = o.out.contains(&format!("{a}:"));
    let on_host = host_has(&a);
    let o = w.jail(&["-r", "jvn"]);
    assert_eq!(o.code, 0, "{}", o.err);
    // The kernel dismantles a network namespace (and the veth in it) on
    // a work queue after its last process is gone: wait for it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while host_has(&b) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let gone = !host_has(&b);
    let _ = Command::new("ip").args(["link", "del", &a]).output();
    let _ = Command::new("ip").args(["link", "del", &b]).output();
    assert!(inside && !on_host, "the interface is not in the jail");
    assert!(gone, "the veth pair outlived the jail's namespace");
}

#[test]
fn users_clean_environments_ip_hostname_and_a_jail_command_timeout() {
    let w = World::new("users");
    let shared = w.path("shared");
    std::fs::create_dir_all(&shared).unwrap();
    std::fs::set_permissions(&shared, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    std::fs::set_permissions(
        w.dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let s = shared.display();
    // -U: jail commands as a user of the jail; exec.system_user for the host's.
    let o = w.jail(&[
        "-U",
        "nobody",
        "-c",
        "name=jus",
        "path=/",
        "persist",
        &format!("exec.start=id -u > {s}/inside"),
        "exec.system_user=nobody",
        &format!("exec.poststart=id -u > {s}/host"),
    ]);
    assert_eq!(o.code, 0, "{}", o.err);
    assert_eq!(
        std::fs::read_to_string(shared.join("inside")).unwrap(),
        "65534\n"
    );
    assert_eq!(
        std::fs::read_to_string(shared.join("host")).unwrap(),
        "65534\n"
    );
    // -l (exec.clean): no JID/JNAME/JPATH, PATH=/bin:/usr/bin.
    let o = w.jail(&[
        "-l",
        "-c",
        "name=jcn",
        "path=/",
        "persist",
        &format!("exec.poststart=echo \"[$JNAME][$PATH]\" > {s}/clean"),
    ]);
    assert_eq!(o.code, 0, "{}", o.err);
    assert_eq!(
        std::fs::read_to_string(shared.join("clean")).unwrap(),
        "[][/bin:/usr/bin]\n"
    );
    // -h (ip_hostname): the hostname's addresses join ip4.addr.
    let o = w.jail(&[
        "-h",
        "-c",
        "name=jih",
        "path=/",
        "persist",
        "host.hostname=localhost",
    ]);
    assert_eq!(o.code, 0, "{}", o.err);
    let ips = w.jls(&["-j", "jih", "ip4.addr"]).out;
    assert!(ips.contains("127.0.0.1"), "{ips}");
    // exec.timeout also holds for a command inside the jail.
    let start = std::time::Instant::now();
    let o = w.jail(&[
        "-c",
        "name=jit",
        "path=/",
        "persist",
        "exec.timeout=1",
        "exec.start=sleep 30",
    ]);
    assert_eq!(o.code, 1);
    assert_eq!(o.err, "jail: jit: sleep 30: timed out\n");
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(w.jls(&["-j", "jit"]).code, 1);
}

#[test]
fn mount_and_mount_fstab_are_mounted_before_create_and_unmounted_after_remove() {
    let w = World::new("mounts");
    let (tmp, src, dst) = (w.path("t"), w.path("src"), w.path("dst"));
    for d in [&tmp, &src, &dst] {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::write(src.join("file"), "from the host\n").unwrap();
    let fstab = w.path("fstab");
    std::fs::write(
        &fstab,
        format!(
            "# a comment\n{} {} nullfs ro 0 0\n",
            src.display(),
            dst.display()
        ),
    )
    .unwrap();
    let o = w.jail(&[
        "-c",
        "name=jmt",
        "path=/",
        "persist",
        &format!("mount=tmpfs {} tmpfs rw,size=1m 0 0", tmp.display()),
        &format!("mount.fstab={}", fstab.display()),
        &format!("exec.start=cat {}/file", dst.display()),
    ]);
    assert_eq!(o.code, 0, "{}", o.err);
    assert_eq!(o.out, "jmt: created\nfrom the host\n");
    let mounted = |p: &Path| {
        std::fs::read_to_string("/proc/self/mountinfo")
            .unwrap()
            .lines()
            .any(|l| l.split(' ').nth(4) == Some(p.to_str().unwrap()))
    };
    assert!(mounted(&tmp) && mounted(&dst));
    // Read-only, as the fstab line says.
    assert!(std::fs::write(dst.join("new"), "x").is_err());
    // The jail sees the host's mounts themselves, once each: the runtime
    // does not stack a second tmpfs (or bind) over what jail(8) mounted.
    std::fs::write(tmp.join("seen"), "host tmpfs\n").unwrap();
    let o = w.run(
        JEXEC,
        &[
            "jmt",
            "/bin/sh",
            "-c",
            &format!(
                "cat {t}/seen; grep -c ' {t} ' /proc/self/mountinfo; grep -c ' {d} ' /proc/self/mountinfo",
                t = tmp.display(),
                d = dst.display()
            ),
        ],
    );
    assert_eq!(
        (o.code, o.out.as_str()),
        (0, "host tmpfs\n1\n1\n"),
        "{}",
        o.err
    );
    // jexec as a user of the jail.
    let o = w.run(JEXEC, &["-U", "nobody", "jmt", "id", "-u"]);
    assert_eq!((o.code, o.out.as_str()), (0, "65534\n"), "{}", o.err);
    let o = w.run(JEXEC, &["-u", "nobody", "jmt", "id", "-u"]);
    assert_eq!((o.code, o.out.as_str()), (0, "65534\n"), "{}", o.err);
    let o = w.run(JEXEC, &["-l", "jmt", "/bin/sh", "-c", "echo \"[$JNAME]\""]);
    assert_eq!((o.code, o.out.as_str()), (0, "[]\n"), "{}", o.err);
    let o = w.jail(&["-r", "jmt"]);
    assert_eq!(o.code, 0, "{}", o.err);
    assert!(!mounted(&tmp) && !mounted(&dst));
}

#[test]
fn p_limit_creates_independent_jails_together_and_dependents_after() {
    let w = World::new("parallel");
    let conf = w.conf(
        "par.conf",
        "persist;\npath = /;\nexec.prestart = \"sleep 1\";\njpa { }\njpb { }\njpc { }\njpd { depend = jpa; }\n",
    );
    let start = std::time::Instant::now();
    let o = w.jail(&["-f", &conf, "-p", "3", "-c"]);
    let took = start.elapsed();
    assert_eq!(o.code, 0, "{}", o.err);
    let lines: Vec<&str> = o.out.lines().collect();
    assert_eq!(lines.len(), 4, "{}", o.out);
    let at = |n: &str| {
        lines
            .iter()
            .position(|l| *l == format!("{n}: created"))
            .unwrap()
    };
    assert!(at("jpd") > at("jpa"), "{}", o.out);
    // Three at once, then the dependent: about 2 s, not 4.
    assert!(took < std::time::Duration::from_millis(3500), "{took:?}");
    let o = w.jail(&["-f", &conf, "-r", "*"]);
    assert_eq!(o.code, 0, "{}", o.err);
    assert_eq!(o.out.lines().count(), 4, "{}", o.out);
    // One at a time (the default), in configuration and dependency order.
    let start = std::time::Instant::now();
    let o = w.jail(&["-f", &conf, "-c", "jpa", "jpd"]);
    assert_eq!(o.code, 0, "{}", o.err);
    assert_eq!(o.out, "jpa: created\njpd: created\n");
    assert!(start.elapsed() >= std::time::Duration::from_secs(2));
}

/// The first line of what a tool printed on stderr.
fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

#[test]
fn usage_errors_start_with_the_tools_name_and_exit_2() {
    let w = World::new("usage");
    let cases: &[(&str, &str, &[&str], &str)] = &[
        (
            JAIL,
            "jail",
            &[],
            "jail: no operation given (-c, -m, -r, -R or -e)",
        ),
        (JAIL, "jail", &["-X"], "jail: illegal option -- X"),
        (
            JAIL,
            "jail",
            &["--frob"],
            "jail: unrecognized option '--frob'",
        ),
        (JLS, "jls", &["-x"], "jls: illegal option -- x"),
        (JLS, "jls", &["--frob"], "jls: unrecognized option '--frob'"),
        (JLS, "jls", &["-j"], "jls: option requires an argument -- j"),
        (KSTAT, "kstat", &["-1"], "kstat: illegal option -- 1"),
        (
            ZONEADM,
            "zoneadm",
            &["frob"],
            "zoneadm: unrecognized subcommand 'frob'",
        ),
        (
            ZONEADM,
            "zoneadm",
            &["list", "-x"],
            "zoneadm: unexpected argument '-x' found",
        ),
        (
            ZLOGIN,
            "zlogin",
            &[],
            "zlogin: the following required arguments were not provided:",
        ),
    ];
    for (bin, tool, args, want) in cases {
        let o = w.run(bin, args);
        // FreeBSD's tools exit 1 on a usage error; illumos' and ours 2.
        let code = if matches!(*tool, "jail" | "jls" | "jexec") {
            1
        } else {
            2
        };
        assert_eq!(o.code, code, "{tool} {args:?}: {}", o.err);
        assert_eq!(first_line(&o.err), *want, "{tool} {args:?}");
        assert!(!o.err.contains("error:"), "{tool} {args:?}: {}", o.err);
        // Then the usage line (or block), as the tool's own.
        let lower = o.err.to_lowercase();
        assert!(
            lower.contains(&format!("usage: {tool}"))
                || lower.contains(&format!("usage:\n{tool} "))
                || lower.contains(&format!("usage:\t{tool} ")),
            "{tool} {args:?}: {}",
            o.err
        );
        assert!(o.out.is_empty(), "{tool} {args:?}: {}", o.out);
    }
    // --help and --version still go to stdout with 0.
    for (bin, tool) in [
        (JAIL, "jail"),
        (JLS, "jls"),
        (KSTAT, "kstat"),
        (ZONEADM, "zoneadm"),
    ] {
        for flag in ["--help", "--version"] {
            let o = w.run(bin, &[flag]);
            assert_eq!(o.code, 0, "{tool} {flag}: {}", o.err);
            assert!(!o.out.is_empty() && o.err.is_empty(), "{tool} {flag}");
        }
    }
}

#[test]
fn io_errors_name_their_file_without_rust_decorations() {
    let w = World::new("iomsg");
    let dir = w.path("adir");
    std::fs::create_dir(&dir).unwrap();
    let d = dir.display().to_string();
    for args in [
        vec!["-f", d.as_str(), "-c", "x"],
        vec!["--import-rc", d.as_str()],
    ] {
        let o = w.jail(&args);
        assert_eq!(o.code, 1, "{args:?}: {}", o.err);
        assert_eq!(o.err, format!("jail: {d}: Is a directory\n"), "{args:?}");
    }
    let o = w.jail(&[
        "-f",
        &w.path("missing.conf").display().to_string(),
        "-e",
        "|",
    ]);
    assert_eq!(o.code, 1);
    assert_eq!(
        o.err,
        format!(
            "jail: {}: No such file or directory\n",
            w.path("missing.conf").display()
        )
    );
    // An include that names a directory.
    let conf = w.conf("inc.conf", &format!(".include \"{d}\";\n"));
    let o = w.jail(&["-f", &conf, "-e", "|"]);
    assert_eq!(o.code, 1);
    assert!(!o.err.contains("os error"), "{}", o.err);
    assert!(
        o.err.starts_with(&format!("jail: {conf} line 1: ")),
        "{}",
        o.err
    );
    // A state directory whose zone record is a directory: the engine sets
    // it aside and names it, and blocks nothing (issue 14).
    std::fs::create_dir_all(w.path("state/zones/7.json")).unwrap();
    let o = w.jls(&[]);
    assert_eq!(o.code, 0, "{}", o.err);
    assert!(o.err.starts_with("jls: warning: "), "{}", o.err);
    assert!(w.path("state/zones/7.json.damaged").exists());
    assert!(!o.err.contains("os error"), "{}", o.err);
    assert!(
        o.err.contains(&format!(
            "{}: Is a directory",
            w.path("state/zones/7.json").display()
        )),
        "{}",
        o.err
    );
}

#[test]
fn a_broken_file_stops_what_needs_it_and_nothing_else() {
    let w = World::new("broken");
    let conf = w.conf("bad.conf", "ok { path = /; }\nbad { path = \"/x;\n}\n");
    let c = conf.as_str();
    let line = format!("{conf} line 2: unterminated string");
    // zoneadm list does not read the file.
    let o = w.run(ZONEADM, &["--config", c, "list"]);
    assert_eq!(
        (o.code, o.out.as_str(), o.err.as_str()),
        (0, "global\n", "")
    );
    let o = w.run(ZONEADM, &["--config", c, "list", "-v"]);
    assert_eq!(o.code, 0, "{}", o.err);
    // list -c shows what the engine knows and says why it is not all.
    let o = w.run(ZONEADM, &["--config", c, "list", "-c"]);
    assert_eq!(o.code, 1, "{}", o.err);
    assert_eq!(o.out, "global\n");
    assert!(
        o.err.starts_with(&format!("zoneadm: {line}\n")),
        "{}",
        o.err
    );
    assert!(
        o.err.contains("configured zones are not shown"),
        "{}",
        o.err
    );
    // halt looks for the running zone, not for the file.
    let o = w.run(ZONEADM, &["--config", c, "-z", "ok", "halt"]);
    assert_eq!(o.code, 1);
    assert_eq!(o.err, "zoneadm: zone 'ok': not running or ready\n");
    // What makes a zone from the file refuses, before doing anything.
    for sub in ["boot", "ready", "install", "verify"] {
        let o = w.run(ZONEADM, &["--config", c, "-z", "ok", sub]);
        assert_eq!(o.code, 1, "{sub}");
        assert!(
            o.err.starts_with(&format!("zoneadm: {line}\n")),
            "{sub}: {}",
            o.err
        );
    }
    let o = w.jail(&["-f", c, "-c", "ok"]);
    assert_eq!(o.code, 1);
    assert!(o.err.starts_with(&format!("jail: {line}")), "{}", o.err);
    assert!(w.state_records().is_empty(), "nothing created");
}
