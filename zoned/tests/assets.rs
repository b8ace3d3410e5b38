//! The unit files and man pages of assets/: the units pass
//! `systemd-analyze verify` with no complaint (their /usr/sbin programs
//! stood in for by the zoned just built) and say what zoned needs
//! (Delegate=yes, KillMode=process so stopping zoned leaves the zones
//! running, reload by SIGHUP; zonefs after zoned); the man pages format
//! without a groff warning and zoned(8) names every option zoned takes.

use std::path::{Path, PathBuf};
use std::process::Command;

fn assets() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets")
}

/// `key=value` lines of a unit's section.
fn section(unit: &str, name: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut inside = false;
    for l in unit.lines().map(str::trim) {
        if l.starts_with('[') {
            inside = l == format!("[{name}]");
        } else if inside && !l.is_empty() && !l.starts_with('#') {
            let (k, v) = l.split_once('=').expect("key=value");
            out.push((k.to_string(), v.to_string()));
        }
    }
    out
}

fn get<'a>(s: &'a [(String, String)], key: &str) -> Vec<&'a str> {
    s.iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .collect()
}

#[test]
fn zoned_service_delegates_keeps_zones_on_stop_and_reloads_by_sighup() {
    let unit = std::fs::read_to_string(assets().join("systemd/zoned.service")).unwrap();
    let svc = section(&unit, "Service");
    assert_eq!(get(&svc, "Type"), ["simple"]);
    assert_eq!(get(&svc, "Delegate"), ["yes"]);
    assert_eq!(get(&svc, "KillMode"), ["process"]);
    assert_eq!(get(&svc, "ExecReload"), ["/bin/kill -HUP $MAINPID"]);
    let start = get(&svc, "ExecStart");
    assert_eq!(start.len(), 1);
    assert!(start[0].starts_with("/usr/sbin/zoned "), "{start:?}");
    // A relative cgroup root: beneath the delegated subtree.
    assert!(start[0].contains("--cgroup-root zones"), "{start:?}");
    assert_eq!(
        get(&section(&unit, "Install"), "WantedBy"),
        ["multi-user.target"]
    );
}

#[test]
fn zonefs_service_comes_after_zoned_and_mounts_zones() {
    let unit = std::fs::read_to_string(assets().join("systemd/zonefs.service")).unwrap();
    let u = section(&unit, "Unit");
    assert_eq!(get(&u, "After"), ["zoned.service"]);
    assert_eq!(get(&u, "Wants"), ["zoned.service"]);
    assert_eq!(
        get(&section(&unit, "Service"), "ExecStart"),
        ["/usr/sbin/zonefs /zones"]
    );
}

#[test]
fn the_unit_files_pass_systemd_analyze_verify() {
    let tmp = tempfile::tempdir().unwrap();
    let stand_in = env!("CARGO_BIN_EXE_zoned");
    for unit in ["zoned.service", "zonefs.service"] {
        let text = std::fs::read_to_string(assets().join("systemd").join(unit)).unwrap();
        let text = text
            .replace("/usr/sbin/zoned", stand_in)
            .replace("/usr/sbin/zonefs", stand_in);
        std::fs::write(tmp.path().join(unit), text).unwrap();
    }
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(tmp.path().join("zoned.service"))
        .arg(tmp.path().join("zonefs.service"))
        .output()
        .expect("systemd-analyze (systemd) is installed");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    // verify exits 0 on an unknown key or a bad value; it only says so.
    assert!(err.trim().is_empty(), "systemd-analyze verify: {err}");
}

#[test]
fn the_man_pages_format_without_warnings_and_zoned_8_names_every_option() {
    for (page, name, sec) in [
        ("zoned.8", "ZONED", "8"),
        ("zoneadm.8", "ZONEADM", "8"),
        ("zonecfg.8", "ZONECFG", "8"),
        ("zlogin.1", "ZLOGIN", "1"),
        ("zonefs.8", "ZONEFS", "8"),
        ("jail.8", "JAIL", "8"),
        ("jls.8", "JLS", "8"),
        ("jexec.8", "JEXEC", "8"),
        ("kstat.1", "KSTAT", "1"),
        ("ztop.1", "ZTOP", "1"),
        ("jail.conf.5", "JAIL.CONF", "5"),
    ] {
        let p = assets().join("man").join(page);
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(
            text.starts_with(&format!(".TH {name} {sec} ")),
            "{page}: .TH"
        );
        for s in ["NAME", "SYNOPSIS", "DESCRIPTION", "EXIT STATUS", "SEE ALSO"] {
            assert!(text.contains(&format!(".SH {s}\n")), "{page}: no {s}");
        }
        let out = Command::new("groff")
            .args(["-man", "-ww", "-z"])
            .arg(&p)
            .output()
            .expect("groff is installed");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success() && err.is_empty(), "{page}: {err}");
    }
    let help = Command::new(env!("CARGO_BIN_EXE_zoned"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    let page = std::fs::read_to_string(assets().join("man/zoned.8")).unwrap();
    let opts: Vec<&str> = help
        .split_whitespace()
        .filter(|w| w.starts_with("--") && !matches!(*w, "--help" | "--version"))
        .collect();
    assert!(opts.len() >= 6, "{help}");
    for o in opts {
        let o = o.trim_end_matches(|c: char| !c.is_ascii_alphanumeric());
        let roff = o.replace('-', "\\-");
        assert!(page.contains(&roff), "zoned(8) does not name {o}");
    }
}
