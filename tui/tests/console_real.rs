//! ztop against real zones, as root: the real binary in tmux (embedded
//! engine, and attached to zoned) walks issue 7's acceptance — boot a zone
//! with `b`, see it running within two refreshes, halt it with `h` `y`,
//! filter, sort, quit with `q`, terminal restored — and batch mode prints
//! text within `COLUMNS` and JSON from the same engine.
//!
//! Every test has its own [`Host`] (zones-e2e's): state directory, socket, jail.conf,
//! zone roots and relative cgroup root; its guard kills the tmux session
//! and zoned, halts the zones and removes the cgroups even when the test
//! fails. The zones are sparse zones whose init sleeps. zoned, zoneadm and
//! zsched are found beside this test's directory (target/debug):
//! `cargo test --workspace` builds them.

mod tmux;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;
use tmux::{Session, drive, row_of, wait_row};
use zones_e2e::Host;

/// A binary of the workspace: ztop is this package's; the others are in
/// the target directory beside this test's own.
fn bin(name: &str) -> PathBuf {
    if name == "ztop" {
        return PathBuf::from(env!("CARGO_BIN_EXE_ztop"));
    }
    zones_e2e::bin(name)
}

/// A private host ([`Host`]): `zones` are configured (sparse, init
/// `sleep`, halted when the host is dropped); `installed` of them are
/// installed too.
fn new_host(tag: &str, zones: &[&str], installed: &[&str]) -> Host {
    let mut host = Host::new(&format!("ztop-{tag}"));
    let conf: Vec<(&str, &str)> = zones.iter().map(|z| (*z, "")).collect();
    host.configure_sleepers(&conf);
    for z in installed {
        host.ok("zoneadm", &["-z", z, "install"]);
    }
    host
}

/// ztop with this host's environment; batch output captured.
fn ztop(host: &Host, args: &[&str], columns: Option<usize>) -> std::process::Output {
    let mut c = Command::new(bin("ztop"));
    host.env(&mut c);
    match columns {
        Some(n) => c.env("COLUMNS", n.to_string()),
        None => c.env_remove("COLUMNS"),
    };
    let out = c.args(args).stdin(Stdio::null()).output().unwrap();
    assert!(
        out.status.success(),
        "ztop {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The walk on the real binary with its engine embedded: ztop owns the
/// state directory and serves the socket meanwhile.
#[test]
fn embedded_boot_halt_filter_sort_and_quit_on_real_zones() {
    let host = new_host("emb", &["zte-web", "zte-other"], &["zte-web"]);
    let s = Session::start(
        &format!("ztop-real-emb-{}", std::process::id()),
        110,
        32,
        &format!("{} {} -d 1", host.env_prefix(), bin("ztop").display()),
    );
    let pane = s.wait_for(" Zones ");
    assert!(pane.contains("embedded (ztop)"), "{pane}");
    drive(&s, "zte-web", Duration::from_secs(1));
    drop(s);
}

/// The walk attached to zoned: the same keys act through the socket.
#[test]
fn attached_boot_halt_filter_sort_and_quit_on_real_zones() {
    let mut host = new_host("att", &["zta-web", "zta-other"], &["zta-web"]);
    host.start_zoned();
    let sock = host.socket();
    let s = Session::start(
        &format!("ztop-real-att-{}", std::process::id()),
        110,
        32,
        &format!(
            "{} {} --socket {} -d 1",
            host.env_prefix(),
            bin("ztop").display(),
            sock.display()
        ),
    );
    let pane = s.wait_for(" Zones ");
    assert!(
        !pane.contains("embedded"),
        "attached, not embedded:\n{pane}"
    );
    drive(&s, "zta-web", Duration::from_secs(1));
    drop(s);
}

/// A zone booted behind ztop's back (by zoneadm through zoned) appears,
/// with its processes, and the detail pane shows it.
#[test]
fn attached_console_follows_zoneadm_and_shows_processes() {
    let mut host = new_host("fol", &["ztf-web"], &["ztf-web"]);
    host.start_zoned();
    let s = Session::start(
        &format!("ztop-real-fol-{}", std::process::id()),
        100,
        30,
        &format!(
            "{} {} --socket {}",
            host.env_prefix(),
            bin("ztop").display(),
            host.socket().display()
        ),
    );
    wait_row(&s, "ztf-web", "installed", |r| r.contains("installed"));
    host.ok("zoneadm", &["-z", "ztf-web", "boot"]);
    let pane = wait_row(&s, "ztf-web", "running with 2 processes", |r| {
        r.contains("running") && r.split_whitespace().nth(3) == Some("2")
    });
    let row = row_of(&pane, "ztf-web").unwrap();
    assert!(row.trim_start().starts_with('1'), "id 1: {row}");
    s.keys("/ztf-web");
    s.key("Enter");
    s.wait_for("ztf-web · id 1 · running");
    // zsched and the zone's init (sleep 100000)
    s.wait_for("sleep 100000");
    host.ok("zoneadm", &["-z", "ztf-web", "halt"]);
    wait_row(&s, "ztf-web", "installed again", |r| {
        r.contains("installed")
    });
    s.keys("q");
    s.wait_for("EXITED:0");
}

/// Batch text: `-n 2` prints two sampled reports, every line within
/// COLUMNS (80 when unset), the running zone's row with its processes.
#[test]
fn batch_text_on_real_zones_fits_columns() {
    let mut host = new_host("btx", &["ztb-web", "ztb-spare"], &["ztb-web"]);
    host.start_zoned();
    host.ok("zoneadm", &["-z", "ztb-web", "boot"]);
    for columns in [Some(40), Some(60), None, Some(200)] {
        let out = ztop(&host, &["-b", "-n", "2", "-d", "0.5"], columns);
        let text = String::from_utf8(out.stdout).unwrap();
        let width = columns.unwrap_or(80);
        for l in text.lines() {
            assert!(l.chars().count() <= width, "{width}: {l:?}\n{text}");
        }
        let reports: Vec<&str> = text.split("ztop - ").skip(1).collect();
        assert_eq!(reports.len(), 2, "two reports:\n{text}");
        assert_ne!(
            reports[0].lines().next(),
            reports[1].lines().next(),
            "two snapshots, two times:\n{text}"
        );
        for r in &reports {
            assert!(!r.contains("CPUs 0"), "a sampled host: {r}");
            assert!(r.contains("Zones 2 running, 1 configured"), "{r}");
            let web = r
                .lines()
                .find(|l| l.split_whitespace().nth(1) == Some("ztb-web"))
                .unwrap_or_else(|| panic!("no ztb-web row:\n{r}"));
            let f: Vec<&str> = web.split_whitespace().collect();
            assert_eq!(f[2], "running", "{web}");
            if width >= 60 {
                assert_eq!(f[3], "2", "zsched and init: {web}");
            }
            let spare = r
                .lines()
                .find(|l| l.split_whitespace().nth(1) == Some("ztb-spare"))
                .unwrap_or_else(|| panic!("no ztb-spare row:\n{r}"));
            assert!(spare.contains("configured"), "{spare}");
        }
    }
    // not a terminal: batch without -b
    let out = ztop(&host, &["-n", "1"], Some(100));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.matches("ztop - ").count(), 1, "{text}");
    assert!(text.contains("ztb-web"), "{text}");
}

/// Batch JSON: one object per line and per snapshot, newer each line,
/// global first, the zone's counters from the engine.
#[test]
fn batch_json_on_real_zones() {
    let mut host = new_host("bjs", &["ztj-web", "ztj-spare"], &["ztj-web", "ztj-spare"]);
    host.start_zoned();
    host.ok("zoneadm", &["-z", "ztj-web", "boot"]);
    let out = ztop(&host, &["--json", "-n", "3", "-d", "0.2"], None);
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    let mut last_seq = 0;
    for l in lines {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        let seq = v["seq"].as_u64().unwrap();
        assert!(seq > last_seq, "every line a newer snapshot: {text}");
        last_seq = seq;
        assert_eq!(v["engine"].as_str(), Some(host.socket().to_str().unwrap()));
        assert!(v["host"]["cpus"].as_u64().unwrap() >= 1, "{l}");
        assert!(v["host"]["mem_total"].as_u64().unwrap() > 0, "{l}");
        let zones = v["zones"].as_array().unwrap();
        assert_eq!(zones[0]["name"], "global");
        assert_eq!(zones[0]["id"], 0);
        let web = zones.iter().find(|z| z["name"] == "ztj-web").unwrap();
        assert_eq!(web["status"], "running");
        assert_eq!(web["id"], 1);
        assert_eq!(web["nproc"], 2, "zsched and init: {l}");
        assert!(web["mem"].as_u64().unwrap() > 0, "{l}");
        assert!(web["uptime"].as_u64().is_some(), "{l}");
        let spare = zones.iter().find(|z| z["name"] == "ztj-spare").unwrap();
        assert_eq!(spare["status"], "installed");
        assert!(spare["id"].is_null(), "{l}");
    }
}

/// A jail.conf that does not parse does not keep ztop from the running
/// zones (as `zoneadm list` and `halt`): it starts, shows them, and says
/// why the configured ones are missing (stderr in batch mode, the message
/// line on a terminal).
#[test]
fn a_broken_configuration_still_shows_the_running_zones() {
    let mut host = new_host("brk", &["ztb-web"], &["ztb-web"]);
    host.start_zoned();
    host.ok("zoneadm", &["-z", "ztb-web", "boot"]);
    std::fs::write(
        host.dir.path().join("jail.conf"),
        "ztb-web {\n  path = \"/x;\n}\n",
    )
    .unwrap();
    let out = ztop(&host, &["--json", "-n", "1"], None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("ztop: ") && err.contains("jail.conf line 2: unterminated string"),
        "{err}"
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let v: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let web = v["zones"]
        .as_array()
        .unwrap()
        .iter()
        .find(|z| z["name"] == "ztb-web")
        .expect("the running zone is shown");
    assert_eq!(web["status"], "running", "{text}");
    host.ok("zoneadm", &["-z", "ztb-web", "halt"]);
}
