//! The admin tools' contract with their callers (cli.md): usage errors
//! exit 2, failed operations exit 1 with `TOOL: message` naming the zone,
//! and a broken configuration names its file and line. (These also make
//! cargo build the tools for the end-to-end tests.)

use std::process::Command;

fn run(bin: &str, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let out = Command::new(bin)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_usage_error_exits_2() {
    let (code, _, err) = run(env!("CARGO_BIN_EXE_zoneadm"), &["list", "-x"], &[]);
    assert_eq!(code, 2, "{err}");
    let (code, _, _) = run(env!("CARGO_BIN_EXE_zoneadm"), &["boot"], &[]);
    assert_eq!(code, 2);
    let (code, out, _) = run(env!("CARGO_BIN_EXE_zoneadm"), &["--version"], &[]);
    assert_eq!(code, 0);
    assert!(out.starts_with("zoneadm "), "{out}");
    // jexec's own getopt, as FreeBSD's: getopt's message (none for a
    // missing jail), then the usage line, exit 1.
    for (args, what) in [
        (&["-x"][..], "jexec: illegal option -- x\n"),
        (&["-u"][..], "jexec: option requires an argument -- u\n"),
        (&["--bogus"][..], "jexec: unrecognized option '--bogus'\n"),
        (&[][..], ""),
        (&["-u", "a", "-U", "b", "j"][..], ""),
    ] {
        let (code, _, err) = run(env!("CARGO_BIN_EXE_jexec"), args, &[]);
        assert_eq!(code, 1, "{args:?}: {err}");
        assert_eq!(
            err,
            format!("{what}usage: jexec [-l] [-u username | -U username] jail [command ...]\n"),
            "{args:?}"
        );
    }
}

#[test]
fn a_broken_configuration_names_file_and_line_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("jail.conf");
    std::fs::write(&conf, "web {\n  path = \"/x;\n}\n").unwrap();
    let conf = conf.to_str().unwrap();
    // list -c still lists the zones the engine knows (a private one).
    let state = dir.path().join("state");
    let (code, _, err) = run(
        env!("CARGO_BIN_EXE_zoneadm"),
        &["list", "-c"],
        &[
            ("ZONES_CONFIG", conf),
            ("ZONES_STATE_DIR", state.to_str().unwrap()),
            ("ZONED_SOCKET", "/nonexistent/zoned.sock"),
            ("ZONES_CGROUP_ROOT", "zones-test-cli"),
        ],
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.starts_with("zoneadm: "), "{err}");
    assert!(err.contains(&format!("{conf} line 2")), "{err}");
}

#[test]
fn an_unknown_zone_is_named_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("jail.conf");
    std::fs::write(&conf, "").unwrap();
    let state = dir.path().join("state");
    let env = [
        ("ZONES_CONFIG", conf.to_str().unwrap()),
        ("ZONES_STATE_DIR", state.to_str().unwrap()),
        ("ZONED_SOCKET", "/nonexistent/zoned.sock"),
        ("ZONES_CGROUP_ROOT", "zones-test-cli"),
    ];
    let (code, _, err) = run(env!("CARGO_BIN_EXE_zoneadm"), &["-z", "nope", "halt"], &env);
    assert_eq!(code, 1, "{err}");
    assert_eq!(err, "zoneadm: nope: No such zone configured\n");
    let (code, _, err) = run(env!("CARGO_BIN_EXE_zoneadm"), &["-z", "nope", "boot"], &env);
    assert_eq!(code, 1);
    assert_eq!(err, "zoneadm: nope: No such zone configured\n");
    let (code, _, err) = run(env!("CARGO_BIN_EXE_zlogin"), &["nope", "true"], &env);
    assert_eq!(code, 1);
    assert_eq!(err, "zlogin: zone 'nope' unknown or not running\n");
}
