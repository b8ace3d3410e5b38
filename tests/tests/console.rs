//! A console for every zone (issue 17, item 3), not only a zone that
//! boots systemd: a sparse zone whose init is a shell has the console pty
//! zsched owns (core/linux/src/runtime/linux/console.rs).
//!
//! * what init prints before anyone attaches is in the backlog that
//!   `zlogin -C` (in tmux) shows; `~.` detaches and the zone runs on;
//! * what is typed on the console reaches init (a shell reading it runs
//!   the line), and a second attach sees the whole backlog again;
//! * the zone's /dev/console is the console's slave, and neither the
//!   master nor zsched's slave descriptor is in any process of the zone;
//! * with exec.consolelog, init's output goes to the log file byte for
//!   byte *and* to the console.

use std::time::{Duration, Instant};
use zones_e2e::*;

/// A sparse zone installed by zoneadm whose init is `script` (run by
/// /bin/sh), with `extra` in its jail.conf block.
fn sparse_world(tag: &str, script: &str, extra: &str) -> (ToolWorld, String, std::path::PathBuf) {
    let mut w = ToolWorld::new(tag);
    let name = w.name(tag);
    let zp = w.dir.path().join("zones").join(&name);
    w.configure(
        &name,
        &format!(
            "path = \"{}\";\nbrand = sparse;\ninitname = \"/console-init\";\n{extra}",
            zp.display()
        ),
    );
    let o = w.run("zoneadm", &["-z", &name, "install"]);
    assert_eq!(o.status, 0, "zoneadm install: {o:?}");
    let init = installed_root(&zp).join("console-init");
    std::fs::write(&init, format!("#!/bin/sh\n{script}\n")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&init, std::fs::Permissions::from_mode(0o755)).unwrap();
    (w, name, zp)
}

fn zsched_of(w: &ToolWorld) -> u32 {
    w.pids()
        .into_iter()
        .find(|p| {
            std::fs::read_to_string(format!("/proc/{p}/comm")).is_ok_and(|c| c.trim() == "zsched")
        })
        .expect("the zone's zsched")
}

/// What each descriptor of `pid` is (the link's text).
fn fds_of(pid: u32) -> Vec<(u32, String)> {
    let mut v: Vec<(u32, String)> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| {
                    let n = e.file_name().to_str()?.parse().ok()?;
                    Some((n, std::fs::read_link(e.path()).ok()?.display().to_string()))
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn a_sparse_zones_init_has_a_console_with_backlog_input_and_detach() {
    // init prints two lines, then is an interactive shell on the console.
    let (w, name, _zp) = sparse_world(
        "cons",
        "echo first-line-$((6*7)); echo second-line; exec /bin/sh -i",
        "",
    );
    let o = w.run("zoneadm", &["-z", &name, "boot"]);
    assert_eq!(o.status, 0, "boot: {o:?}");

    // Nobody attached yet: the lines wait in the backlog.
    std::thread::sleep(Duration::from_millis(300));
    let session = format!("zc{}", std::process::id());
    let guard = w.attach_console(&name, &session);
    let p = wait_pane(&session, "second-line");
    assert!(
        p.contains(&format!("[Connected to zone '{name}' console]")),
        "{p}"
    );
    assert!(
        p.contains("first-line-42") && p.contains("second-line"),
        "no backlog: {p}"
    );

    // Typed on the console, run by init's shell.
    tmux_keys(&session, &["echo typed-$((7*8)) > /dev/console", "Enter"]);
    let p = wait_pane(&session, "typed-56");
    assert!(p.contains("typed-56"), "input did not reach init: {p}");
    tmux_keys(&session, &["tty", "Enter"]);
    let p = wait_pane(&session, "/dev/pts/");
    assert!(p.contains("/dev/pts/"), "init's stdin is not the pty: {p}");

    // ~. detaches; the zone runs on.
    tmux_keys(&session, &["Enter", "~", "."]);
    let p = wait_pane(&session, "ZLOGIN-EXIT=0");
    assert!(p.contains("ZLOGIN-EXIT=0"), "~. did not detach: {p}");
    assert!(
        p.contains(&format!("[Connection to zone '{name}' console closed]")),
        "{p}"
    );
    drop(guard);
    let o = w.run("zoneadm", &["list", "-p"]);
    assert!(
        o.stdout
            .lines()
            .any(|l| l.split(':').nth(1) == Some(&name) && l.contains(":running:")),
        "the zone stopped after a detach: {o:?}"
    );
    let zsched = zsched_of(&w);

    // The zone's /dev/console is the console's slave.
    let o = w.run(
        "zlogin",
        &[&name, "/bin/sh", "-c", "stat -L -c '%t %T' /dev/console"],
    );
    let majmin: Vec<u32> = o
        .stdout
        .split_whitespace()
        .filter_map(|h| u32::from_str_radix(h, 16).ok())
        .collect();
    assert_eq!(majmin.len(), 2, "{o:?}");
    assert!(
        (136..144).contains(&majmin[0]),
        "/dev/console is not a pty slave (major {}): {o:?}",
        majmin[0]
    );

    // The master and zsched's slave descriptor are zsched's alone.
    let zfds = fds_of(zsched);
    assert!(
        zfds.iter().any(|(_, t)| t.ends_with("/ptmx")),
        "zsched holds no console master: {zfds:?}"
    );
    for p in w.pids() {
        if p == zsched {
            continue;
        }
        for (n, t) in fds_of(p) {
            assert!(
                !t.ends_with("ptmx"),
                "process {p} of the zone holds a pty master ({n} -> {t})"
            );
        }
    }

    // A second attach sees the whole backlog again, typed input included.
    let session2 = format!("zc2{}", std::process::id());
    let _g2 = w.attach_console(&name, &session2);
    let p = wait_pane(&session2, "typed-56");
    assert!(
        p.contains("first-line-42") && p.contains("typed-56"),
        "the backlog was not kept: {p}"
    );
    tmux_keys(&session2, &["Enter", "~", "."]);
    let p = wait_pane(&session2, "ZLOGIN-EXIT=0");
    assert!(p.contains("ZLOGIN-EXIT=0"), "{p}");
    let o = w.run("zoneadm", &["-z", &name, "halt"]);
    assert_eq!(o.status, 0, "halt: {o:?}");
}

#[test]
fn with_exec_consolelog_init_writes_the_log_and_the_console() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("console.log");
    let (w, name, _zp) = sparse_world(
        "conslog",
        "echo to-log-and-console; read line; echo got-$line; exec sleep 1000",
        &format!("exec.consolelog = \"{}\";", log.display()),
    );
    let o = w.run("zoneadm", &["-z", &name, "boot"]);
    assert_eq!(o.status, 0, "boot: {o:?}");
    let session = format!("zl{}", std::process::id());
    let _g = w.attach_console(&name, &session);
    let p = wait_pane(&session, "to-log-and-console");
    assert!(p.contains("to-log-and-console"), "not on the console: {p}");
    // stdin is the console: a line typed there is read by init.
    tmux_keys(&session, &["hello", "Enter"]);
    let t = Instant::now();
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("got-hello")
        && t.elapsed() < Duration::from_secs(10)
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    // The log has init's output byte for byte (the terminal's echo of the
    // typed line is console output too, and so is in the log).
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.starts_with("to-log-and-console\n") && text.contains("got-hello\n"),
        "{text:?}"
    );
    let p = wait_pane(&session, "got-hello");
    assert!(p.contains("got-hello"), "{p}");
    tmux_keys(&session, &["Enter", "~", "."]);
    let p = wait_pane(&session, "ZLOGIN-EXIT=0");
    assert!(p.contains("ZLOGIN-EXIT=0"), "{p}");
    let o = w.run("zoneadm", &["-z", &name, "halt"]);
    assert_eq!(o.status, 0, "halt: {o:?}");
}
