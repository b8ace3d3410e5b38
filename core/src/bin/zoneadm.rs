//! zoneadm(8): administer zones (cli.md).
//!
//! `zoneadm list [-cipv]` and `zoneadm -z NAME SUBCOMMAND`. A zone is
//! configured in jail.conf (with the zone parameters of config.md);
//! `install` builds its root, `boot` makes it ready and boots it,
//! `halt` / `shutdown` end it, `uninstall` removes its root.

use clap::{Parser, Subcommand};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use zones::api::Zones;
use zones::engine::Caller;
use zones::param::Value;
use zones::runtime::linux::{inroot, install, osinstall};
use zones::tool::zoneadm::{ListFlags, list};
use zones::tool::{Common, ConfNeed, configured, die, exit, is_installed, params_of};
use zones::zone::{Brand, Status, ZoneId};

const TOOL: &str = "zoneadm";

#[derive(Parser)]
#[command(name = "zoneadm", version, about = "Administer zones")]
struct Args {
    /// The zone to act on.
    #[arg(short = 'z', value_name = "NAME")]
    zone: Option<String>,
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// List zones: running ones, or with -c every configured zone.
    List {
        /// Every configured zone.
        #[arg(short = 'c')]
        configured: bool,
        /// Installed zones too.
        #[arg(short = 'i')]
        installed: bool,
        /// Parsable output: zoneid:zonename:state:zonepath:uuid:brand:ip-type.
        #[arg(short = 'p')]
        parsable: bool,
        /// Verbose output.
        #[arg(short = 'v')]
        verbose: bool,
    },
    /// Make the zone ready and boot it; ARGS after `--` are its bootargs.
    Boot {
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Stop every process of the zone at once and remove it.
    Halt,
    /// Halt the zone and boot it again.
    Reboot,
    /// Stop the zone gracefully (SIGTERM, stop.timeout, SIGKILL), then remove it.
    Shutdown {
        /// Boot it again afterwards.
        #[arg(short = 'r')]
        reboot: bool,
    },
    /// Make the zone ready (namespaces, cgroup, root) without booting it.
    Ready,
    /// Check the zone's configuration.
    Verify,
    /// Build the zone's root for its brand (whole: a Debian, see -a -d -e -r).
    Install {
        /// Unpack this tarball as the root (whole brand).
        #[arg(short = 'a', value_name = "ARCHIVE", conflicts_with = "dir")]
        archive: Option<PathBuf>,
        /// Copy this directory tree as the root (whole brand).
        #[arg(short = 'd', value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Extra packages, comma separated (whole brand).
        #[arg(short = 'e', value_name = "PKG[,PKG...]", value_delimiter = ',')]
        extras: Vec<String>,
        /// Debian release (default: the host's).
        #[arg(short = 'r', value_name = "SUITE")]
        suite: Option<String>,
    },
    /// Remove the zone's root.
    Uninstall {
        /// Do not ask for confirmation.
        #[arg(short = 'F')]
        force: bool,
    },
    /// Install the zone as a copy of SRC's root.
    Clone { src: String },
}

fn zone_arg(z: &Option<String>) -> String {
    z.clone().unwrap_or_else(|| {
        die(
            TOOL,
            "a zone name is required: zoneadm -z NAME ...",
            exit::USAGE,
        )
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Args = zones::tool::parse_args();
    // Running zones are listed and halted from the engine's state: a
    // broken jail.conf stops only what needs it (jailconf's "A broken file").
    let need = match &args.cmd {
        Cmd::List {
            configured,
            installed,
            ..
        } if *configured || *installed => ConfNeed::Optional,
        Cmd::List { .. } | Cmd::Halt | Cmd::Reboot | Cmd::Shutdown { reboot: false } => {
            ConfNeed::None
        }
        _ => ConfNeed::Required,
    };
    let (cfg, conf_ok) = match args.common.config_for(TOOL, need) {
        Ok(c) => (c, true),
        Err(c) => (c, false),
    };
    if let Cmd::List {
        configured: c,
        installed,
        parsable,
        verbose,
    } = args.cmd
    {
        let zones = open(&args.common).await;
        let mut snap = (*zones
            .snapshot()
            .await
            .unwrap_or_else(|e| die(TOOL, e, exit::FAILED)))
        .clone();
        snap.configured = configured(&cfg, &snap);
        let f = ListFlags {
            configured: c,
            installed,
            parsable,
            verbose,
        };
        print!("{}", list(&snap, f));
        if !conf_ok {
            std::process::exit(exit::FAILED);
        }
        return;
    }
    let name = zone_arg(&args.zone);
    let caller = Caller {
        uid: unsafe { libc::geteuid() },
        zone: ZoneId::GLOBAL,
    };
    if caller.uid != 0 {
        die(
            TOOL,
            "permission denied: zoneadm needs root to change a zone",
            exit::FAILED,
        );
    }
    let fail = |msg: String| -> ! { die(TOOL, format!("zone '{name}': {msg}"), exit::FAILED) };
    let conf = params_of(&cfg, &name);
    // A nested zone's root (`parent.child`) is resolved from its parent's
    // root, as the engine does at create: a link the parent zone planted
    // there cannot make install, clone or uninstall act outside it.
    let root = |p: &zones::param::Params| {
        let r = PathBuf::from(p.str("path").unwrap_or("/"));
        let zone = p.str("name").unwrap_or(&name);
        let Some((parent, _)) = zone.rsplit_once('.') else {
            return r;
        };
        let Some(pp) = params_of(&cfg, parent) else {
            return r;
        };
        let proot = PathBuf::from(pp.str("path").unwrap_or("/"));
        if !r.starts_with(&proot) {
            return r;
        }
        inroot::nested_root(&proot, &r).unwrap_or_else(|e| {
            die(
                TOOL,
                format!("zone '{zone}': path {}: {e}", r.display()),
                exit::FAILED,
            )
        })
    };
    match args.cmd {
        Cmd::List { .. } => unreachable!(),
        Cmd::Verify => {
            let Some(p) = conf else {
                fail("no such zone configured".into())
            };
            if let Some(j) = cfg.get(&name)
                && let Err(e) = j.check_known()
            {
                fail(e.to_string())
            }
            let r = root(&p);
            if !r.is_absolute() {
                fail(format!("path {} is not absolute", r.display()))
            }
        }
        Cmd::Install {
            archive,
            dir,
            extras,
            suite,
        } => {
            let Some(p) = conf else {
                fail("no such zone configured".into())
            };
            let r = root(&p);
            if r == std::path::Path::new("/") {
                fail("cannot install into /".into())
            }
            let brand = p.str("brand").and_then(Brand::parse).unwrap_or_default();
            match brand {
                Brand::Sparse => {
                    if archive.is_some() || dir.is_some() || !extras.is_empty() || suite.is_some() {
                        fail("install: -a, -d, -e and -r are for whole zones".into())
                    }
                    install::sparse(&r, &name)
                        .unwrap_or_else(|e| fail(format!("install: {}", unzone(&name, e))))
                }
                // The hook where zoneadm decides to install an OS
                // (osinstall's module comment): the integrator may move it
                // into the engine's configured-zone lifecycle.
                Brand::Whole => {
                    if is_installed(&r) {
                        fail(format!("{} is already populated", r.display()))
                    }
                    let src = osinstall::Source {
                        archive,
                        dir,
                        extras,
                        suite,
                    };
                    let progress = std::io::stderr().is_terminal();
                    osinstall::install(&name, &r, &src, &install_cache(&args.common), progress)
                        .unwrap_or_else(|e| {
                            fail(format!(
                                "install: {} (the zone is incomplete: uninstall or install again)",
                                unzone(&name, e)
                            ))
                        });
                }
            }
        }
        Cmd::Uninstall { force } => {
            let Some(p) = conf else {
                fail("no such zone configured".into())
            };
            let zones = open(&args.common).await;
            if zones.lookup(&caller, &name).await.is_ok() {
                fail("zone is not installed but running or ready: halt it first".into())
            }
            let r = root(&p);
            if !force {
                if !std::io::stdin().is_terminal() {
                    fail("uninstall needs -F when not asked at a terminal".into())
                }
                eprint!("Are you sure you want to uninstall zone {name} (y/[n])? ");
                let _ = std::io::stderr().flush();
                let mut line = String::new();
                let _ = std::io::stdin().lock().read_line(&mut line);
                if !line.trim().eq_ignore_ascii_case("y") {
                    std::process::exit(exit::FAILED);
                }
            }
            install::uninstall(&r)
                .unwrap_or_else(|e| fail(format!("uninstall: {}: {e}", r.display())));
            osinstall::clear_incomplete(&r)
                .unwrap_or_else(|e| fail(format!("uninstall: {}: {e}", r.display())));
        }
        Cmd::Clone { src } => {
            let (Some(p), Some(sp)) = (conf, params_of(&cfg, &src)) else {
                fail(format!("{src} and {name} must both be configured"))
            };
            let zones = open(&args.common).await;
            if zones.lookup(&caller, &src).await.is_ok() {
                fail(format!("source zone {src} must be halted"))
            }
            let (from, to) = (root(&sp), root(&p));
            if is_installed(&to) {
                fail(format!("{} is already populated", to.display()))
            }
            if !is_installed(&from) {
                fail(format!("source zone {src} is not installed"))
            }
            install::clone(&from, &to, &name)
                .unwrap_or_else(|e| fail(format!("clone: {}", unzone(&name, e))));
        }
        Cmd::Ready | Cmd::Boot { .. } => {
            let zones = open(&args.common).await;
            let id = match zones.lookup(&caller, &name).await {
                Ok(id) => id,
                Err(_) => {
                    let Some(mut p) = conf else {
                        fail("no such zone configured".into())
                    };
                    let r = root(&p);
                    if osinstall::is_incomplete(&r) {
                        fail(
                            "is incomplete (an install did not finish): uninstall it or install it again"
                                .into(),
                        )
                    }
                    if !is_installed(&r) && r != std::path::Path::new("/") {
                        fail(format!(
                            "must be installed before boot ({} is empty or missing)",
                            r.display()
                        ))
                    }
                    if p.get("persist").is_none() {
                        p.insert("persist", Value::Bool(true));
                    }
                    if let Cmd::Boot { args } = &args.cmd
                        && !args.is_empty()
                    {
                        p.insert("bootargs", Value::Str(args.join(" ")));
                    }
                    zones
                        .create(&caller, p)
                        .await
                        .unwrap_or_else(|e| fail(e.to_string()))
                }
            };
            if let Cmd::Boot { .. } = args.cmd {
                boot(&zones, &caller, id, &name).await;
            }
        }
        Cmd::Halt => {
            let zones = open(&args.common).await;
            let id = live(&zones, &caller, &name).await;
            zones
                .halt(&caller, id)
                .await
                .unwrap_or_else(|e| fail(e.to_string()));
        }
        Cmd::Reboot => {
            let zones = open(&args.common).await;
            let id = live(&zones, &caller, &name).await;
            zones
                .reboot(&caller, id)
                .await
                .unwrap_or_else(|e| fail(e.to_string()));
        }
        Cmd::Shutdown { reboot } => {
            let zones = open(&args.common).await;
            let id = live(&zones, &caller, &name).await;
            zones
                .shutdown(&caller, id)
                .await
                .unwrap_or_else(|e| fail(e.to_string()));
            zones
                .destroy(&caller, id)
                .await
                .unwrap_or_else(|e| fail(e.to_string()));
            if reboot {
                let Some(mut p) = conf else {
                    fail("no such zone configured: cannot boot it again".into())
                };
                if p.get("persist").is_none() {
                    p.insert("persist", Value::Bool(true));
                }
                let id = zones
                    .create(&caller, p)
                    .await
                    .unwrap_or_else(|e| fail(e.to_string()));
                boot(&zones, &caller, id, &name).await;
            }
        }
    }
}

/// The tarball cache of whole-zone installs: `$ZONES_INSTALL_CACHE`, else
/// `cache` under the state directory.
fn install_cache(common: &Common) -> PathBuf {
    if let Some(c) = std::env::var_os("ZONES_INSTALL_CACHE").filter(|v| !v.is_empty()) {
        return PathBuf::from(c);
    }
    common
        .state_dir
        .clone()
        .or_else(|| {
            std::env::var_os("ZONES_STATE_DIR")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
        .unwrap_or_else(|| PathBuf::from("/var/lib/zones"))
        .join("cache")
}

/// An error's text without the `zone 'NAME': ` the caller already says.
fn unzone(name: &str, e: impl std::fmt::Display) -> String {
    let s = e.to_string();
    s.strip_prefix(&format!("zone '{name}': "))
        .unwrap_or(&s)
        .to_string()
}

async fn open(common: &Common) -> Zones {
    common
        .open()
        .await
        .unwrap_or_else(|e| die(TOOL, e, exit::FAILED))
}

async fn live(zones: &Zones, caller: &Caller, name: &str) -> ZoneId {
    zones.lookup(caller, name).await.unwrap_or_else(|_| {
        die(
            TOOL,
            format!("zone '{name}': not running or ready"),
            exit::FAILED,
        )
    })
}

async fn boot(zones: &Zones, caller: &Caller, id: ZoneId, name: &str) {
    if let Err(e) = zones.boot(caller, id).await {
        die(TOOL, format!("zone '{name}': {e}"), exit::FAILED)
    }
    let _ = zones
        .wait_status(id, Status::Running, Some(std::time::Duration::from_secs(1)))
        .await;
}
