//! Issue 13, end to end as root: the configured-zone lifecycle has one
//! owner, the engine, so every front-end gets the same answer from it.
//!
//! * **The same error each way**: boot of a zone that is configured but
//!   not installed, boot of a zone that is not configured, and uninstall
//!   of a running zone, each through `zoneadm`, ztop's effect handler
//!   (`ztop::source::run_op`, what its `b` and `D` keys run) and the API
//!   (`zones_linux::api::open`) — against an embedded engine, then against
//!   zoned — fail with the same [`zones::Error`], which zoneadm prints
//!   after `zone 'NAME': ` and ztop shows in its footer.
//! * **A misspelled parameter** (`zone.max-processs = 5;` in jail.conf)
//!   is refused with the same message — the file, the line, the zone and
//!   the parameter — by `zoneadm boot`, `jail -c`, ztop's boot, the API
//!   and zoned's autoboot, and no zone is made.
//!
//! Every host is private ([`zones_e2e::Host`]): its own jail.conf, state
//! directory, socket and relative cgroup root; its zones are halted and
//! its zoned killed when the test ends, also when it failed.

use std::sync::Arc;
use std::time::{Duration, Instant};
use zones::Error;
use zones::engine::{BootFrom, Caller};
use zones::jailconf::Config;
use zones_e2e::{Host, tokio};
use zones_linux::api::{Zones, open};
use ztop::source::{Op, run_op};

/// A host whose jail.conf has `up` (installed, to boot), `bare`
/// (configured, never installed) and `typo` (installed, with a misspelled
/// rctl; `autoboot` when asked).
fn host(tag: &str, typo_autoboot: bool) -> Host {
    let mut h = Host::new(tag);
    let d = h.dir.path().display().to_string();
    let auto = if typo_autoboot { "  autoboot;\n" } else { "" };
    h.write_conf(&format!(
        "up {{\n  path = \"{d}/roots/up\";\n  brand = sparse;\n  initname = \"/bin/sleep\";\n  bootargs = \"100000\";\n}}\n\
         bare {{\n  path = \"{d}/roots/bare\";\n  brand = sparse;\n}}\n\
         typo {{\n  path = \"{d}/roots/typo\";\n  brand = sparse;\n{auto}  zone.max-processs = 5;\n}}\n"
    ));
    h.halt_on_drop = vec!["up".into(), "typo".into()];
    h.ok("zoneadm", &["-z", "up", "install"]);
    h.ok("zoneadm", &["-z", "typo", "install"]);
    h
}

fn conf(h: &Host) -> Config {
    Config::parse_file(&h.conf()).expect("the test's jail.conf parses")
}

/// Run `f` on the engine a tool of this host reaches — zoned when it
/// answers, else an embedded engine in this process, which is gone (its
/// state directory's lock released) when this returns.
fn with_zones<T>(h: &Host, daemon: bool, f: impl AsyncFnOnce(Zones) -> T) -> T {
    let rt = tokio();
    let out = rt.block_on(async {
        // The previous embedded engine of this process lets go of the
        // state directory's lock when its last thread has dropped it (an
        // adopted zone's event thread wakes up to a second later).
        let t = Instant::now();
        let zones = loop {
            match open(&h.endpoint()).await {
                Ok(z) => break z,
                Err(e)
                    if e.to_string().contains("owned by another engine")
                        && t.elapsed() < Duration::from_secs(5) =>
                {
                    tokio::time::sleep(Duration::from_millis(100)).await
                }
                Err(e) => panic!("open the engine: {e:?}"),
            }
        };
        assert_eq!(
            matches!(zones, Zones::Daemon(_)),
            daemon,
            "the engine is {}",
            zones.engine_name()
        );
        f(zones).await
    });
    rt.shutdown_timeout(Duration::from_secs(5));
    out
}

/// What zoneadm printed and its exit status.
fn zoneadm(h: &Host, args: &[&str]) -> (i32, String) {
    let o = h.run("zoneadm", args);
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn zone_names(h: &Host) -> String {
    h.ok("zoneadm", &["list"])
}

fn same_error_each_way(daemon: bool) {
    let tag = if daemon { "same-d" } else { "same-e" };
    let mut h = host(tag, false);
    if daemon {
        h.start_zoned();
    }
    h.ok("zoneadm", &["-z", "up", "boot"]);
    let d = h.dir.path().display().to_string();
    let cases: Vec<(&str, &str, Error)> = vec![
        (
            "boot",
            "bare",
            Error::NotInstalled {
                zone: "bare".into(),
                op: "boot".into(),
                root: format!("{d}/roots/bare"),
            },
        ),
        ("boot", "ghost", Error::NotConfigured("ghost".into())),
        (
            "uninstall",
            "up",
            Error::BadState {
                zone: "up".into(),
                op: "uninstall".into(),
                status: "running".into(),
            },
        ),
    ];
    let cfg = conf(&h);
    for (op, name, want) in &cases {
        // zoneadm
        let args: Vec<&str> = match *op {
            "boot" => vec!["-z", name, "boot"],
            _ => vec!["-z", name, "uninstall", "-F"],
        };
        let (code, err) = zoneadm(&h, &args);
        assert_eq!(code, 1, "zoneadm {args:?}: {err}");
        // zoneadm words the same error as illumos' does: an unconfigured
        // zone in zperror's form, any other in zerror's.
        let said = match want {
            Error::NotConfigured(_) => format!("zoneadm: {name}: No such zone configured\n"),
            _ => format!("zoneadm: zone '{name}': {}\n", want.unzoned(name)),
        };
        assert_eq!(err, said, "zoneadm {args:?}");
        // the API
        let got = with_zones(&h, daemon, async |z| {
            let caller = Caller::ROOT;
            match *op {
                "boot" => z
                    .boot_configured(&caller, &cfg, name, &BootFrom::BOOT)
                    .await
                    .map(drop),
                _ => z.uninstall(&caller, &cfg, name).await,
            }
        });
        assert_eq!(got.as_ref(), Err(want), "the API's {op} of {name}");
        // ztop's effect handler: `b` on a zone, `D` on one that runs
        // (halt) is not uninstall, so `D` is driven on the zone's
        // configured-only twin below; here the op is the key's.
        let key = match *op {
            "boot" => Op::Boot(name.to_string()),
            _ => Op::Destroy(name.to_string()),
        };
        if *op == "boot" {
            let footer = with_zones(&h, daemon, async |z| {
                run_op(z, cfg.clone(), Caller::ROOT, key).await
            });
            assert_eq!(footer, Err(want.unzoned(name)), "ztop's {op} of {name}");
        }
    }
    // ztop's `D` asks for uninstall only of a zone that has no kernel
    // zone; on a running one it halts. Its uninstall fails as zoneadm's
    // does for the zone that is not configured.
    let footer = with_zones(&h, daemon, async |z| {
        run_op(z, cfg.clone(), Caller::ROOT, Op::Destroy("ghost".into())).await
    });
    let (_, err) = zoneadm(&h, &["-z", "ghost", "uninstall", "-F"]);
    // The same error, each in its own words: ztop's footer the engine's,
    // zoneadm illumos' zperror form.
    assert_eq!(footer, Err("no such zone configured".into()));
    assert_eq!(
        err, "zoneadm: ghost: No such zone configured\n",
        "ztop's D and zoneadm uninstall of an unconfigured zone"
    );
    // Nothing was booted for the zones that failed; `up` still runs.
    let names = zone_names(&h);
    assert!(names.lines().any(|l| l == "up"), "{names}");
    assert!(
        !names.contains("bare") && !names.contains("ghost"),
        "{names}"
    );
}

#[test]
fn the_same_error_from_zoneadm_ztop_and_the_api_with_an_embedded_engine() {
    same_error_each_way(false);
}

#[test]
fn the_same_error_from_zoneadm_ztop_and_the_api_through_zoned() {
    same_error_each_way(true);
}

fn misspelled_parameter_refused_everywhere(daemon: bool) {
    let tag = if daemon { "typo-d" } else { "typo-e" };
    let mut h = host(tag, daemon);
    let text = std::fs::read_to_string(h.conf()).unwrap();
    let line = text
        .lines()
        .position(|l| l.contains("zone.max-processs"))
        .unwrap()
        + 1;
    let msg = format!(
        "{} line {line}: typo: unknown parameter: zone.max-processs",
        h.conf().display()
    );
    if daemon {
        // zoned's autoboot refuses it with the same words in its log.
        h.start_zoned();
        let deadline = Instant::now() + Duration::from_secs(20);
        while !h.zoned_log().contains(&msg) {
            assert!(
                Instant::now() < deadline,
                "zoned's autoboot did not refuse typo with {msg:?}: {}",
                h.zoned_log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let (code, err) = zoneadm(&h, &["-z", "typo", "boot"]);
    assert_eq!(
        (code, err.as_str()),
        (1, format!("zoneadm: {msg}\n").as_str())
    );
    let o = h.run("jail", &["-c", "typo"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&o.stderr), format!("jail: {msg}\n"));
    let cfg = conf(&h);
    let api = with_zones(&h, daemon, async |z| {
        z.boot_configured(&Caller::ROOT, &cfg, "typo", &BootFrom::BOOT)
            .await
    });
    assert_eq!(api.map_err(|e| e.to_string()), Err(msg.clone()));
    let footer = with_zones(&h, daemon, async |z| {
        run_op(z, cfg.clone(), Caller::ROOT, Op::Boot("typo".into())).await
    });
    assert_eq!(footer, Err(msg.clone()));
    // Create itself refuses the unknown name, whoever asks.
    let params = Arc::new(cfg.get("typo").unwrap().params.clone());
    let created = with_zones(&h, daemon, async |z| {
        z.create(&Caller::ROOT, (*params).clone()).await
    });
    assert!(
        matches!(&created, Err(Error::Param { zone, .. }) if zone == "typo"),
        "{created:?}"
    );
    assert!(
        created
            .unwrap_err()
            .to_string()
            .contains("unknown parameter: zone.max-processs"),
    );
    let names = zone_names(&h);
    assert!(!names.contains("typo"), "nothing booted: {names}");
}

#[test]
fn a_misspelled_parameter_is_refused_by_every_tool_with_an_embedded_engine() {
    misspelled_parameter_refused_everywhere(false);
}

#[test]
fn a_misspelled_parameter_is_refused_by_every_tool_and_zoned_autoboot() {
    misspelled_parameter_refused_everywhere(true);
}
