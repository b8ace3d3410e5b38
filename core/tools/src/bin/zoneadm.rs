//! zoneadm(8): administer zones (cli.md).
//!
//! `zoneadm list [-cipv]` and `zoneadm -z NAME SUBCOMMAND`. A zone is
//! configured in jail.conf (with the zone parameters of config.md);
//! `install` builds its root, `boot` makes it ready and boots it,
//! `halt` / `shutdown` end it, `uninstall` removes its root. Each
//! subcommand is one operation of the engine's configured-zone lifecycle
//! (crate::engine's `configured`), the same that ztop's keys and zoned's
//! autoboot call: this file parses, asks, and prints.

use clap::{Parser, Subcommand};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use zones::Error;
use zones::engine::{BootFrom, Caller};
use zones::zone::{Brand, Status, ZoneId};
use zones_linux::api::Zones;
use zones_linux::runtime::linux::osinstall;
use zones_tools::tool::zoneadm::{ListFlags, ZoneList};
use zones_tools::tool::{Common, ConfNeed, ConfigFor, configured_without, die, exit};

const TOOL: &str = "zoneadm";

#[derive(Parser)]
#[command(name = "zoneadm", version, about = "Administer zones")]
struct Args {
    /// The zone to act on.
    #[arg(short = 'z', value_name = "NAME")]
    zone: Option<String>,
    /// The zone whose uuid this is (see `zoneadm list -p`).
    #[arg(short = 'u', value_name = "UUID")]
    uuid: Option<String>,
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
        /// The -p fields as JSON.
        #[arg(long)]
        json: bool,
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
        zones_tools::tool::zoneadm::usage_exit("no zone specified: zoneadm -z NAME ...")
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args: Args = zones_tools::tool::zoneadm::parse_args();
    // Running zones are listed and halted from the engine's state: a
    // broken jail.conf stops only what needs it (jailconf's "A broken file").
    let need = match &args.cmd {
        Cmd::List {
            configured,
            installed,
            ..
        } if *configured || *installed || args.zone.is_some() || args.uuid.is_some() => {
            ConfNeed::Optional
        }
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
        json,
    } = args.cmd
    {
        let mut snap = ZoneList {
            zones: zones_tools::tool::zoneadm::listing(&args.common)
                .await
                .unwrap_or_else(|e| die(TOOL, e, exit::FAILED)),
            configured: Vec::new(),
        };
        snap.configured = configured_without(&cfg, &snap.live_names());
        let f = ListFlags {
            configured: c,
            installed,
            parsable,
            verbose,
            json,
        };
        let code = zones_tools::tool::zoneadm::list_command(&snap, &args.zone, &args.uuid, f);
        std::process::exit(if conf_ok { code } else { exit::FAILED });
    }
    if let Some(u) = &args.uuid {
        args.zone = zones_tools::tool::zoneadm::resolve_uuid(&cfg, u).or(args.zone);
    }
    let name = zone_arg(&args.zone);
    let caller = Caller {
        // SAFETY: geteuid has no preconditions and cannot fail.
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
    let zones = open(&args.common).await;
    let fail = |e: Error| -> ! {
        // An install that did not finish is what keeps the zone from
        // booting: say so (osinstall's incomplete state).
        if let Error::NotInstalled { root, .. } = &e
            && osinstall::is_incomplete(std::path::Path::new(root))
        {
            die(
                TOOL,
                format!(
                    "zone '{name}': is incomplete (an install did not finish): uninstall it or install it again"
                ),
                exit::FAILED,
            )
        }
        // A zone that is neither live nor configured: illumos' "No such
        // zone configured" rather than "not running".
        if matches!(e, Error::NotLive(_))
            && !zones_tools::tool::zoneadm::is_configured(&args.common, &cfg, &name)
        {
            die(
                TOOL,
                say(&name, &Error::NotConfigured(name.clone())),
                exit::FAILED,
            )
        }
        die(TOOL, say(&name, &e), exit::FAILED)
    };
    match args.cmd {
        Cmd::List { .. } => unreachable!(),
        Cmd::Verify => zones
            .verify(&caller, &cfg, &name)
            .await
            .unwrap_or_else(|e| fail(e)),
        Cmd::Install {
            archive,
            dir,
            extras,
            suite,
        } => {
            let src = osinstall::Source {
                archive,
                dir,
                extras,
                suite,
            };
            let whole = cfg
                .get(&name)
                .and_then(|j| j.params.str("brand").and_then(Brand::parse))
                == Some(Brand::Whole);
            if !whole && src.is_given() {
                die(
                    TOOL,
                    format!("zone '{name}': install: -a, -d, -e and -r are for whole zones"),
                    exit::FAILED,
                )
            }
            // The engine checks the configuration and makes the root's
            // private directory (or a sparse zone's skeleton); a whole
            // zone's OS is then put there from here, with progress on the
            // administrator's terminal (osinstall's module comment).
            let done = zones
                .install(&caller, &cfg, &name)
                .await
                .unwrap_or_else(|e| fail(e));
            if done.brand == Brand::Whole {
                let progress = std::io::stderr().is_terminal();
                osinstall::install(&name, &done.root, &src, &install_cache(&args.common), progress)
                    .unwrap_or_else(|e| {
                        die(
                            TOOL,
                            format!(
                                "zone '{name}': install: {} (the zone is incomplete: uninstall or install again)",
                                unzone(&name, e)
                            ),
                            exit::FAILED,
                        )
                    });
            }
        }
        Cmd::Uninstall { force } => {
            if !force {
                if !std::io::stdin().is_terminal() {
                    die(
                        TOOL,
                        format!("zone '{name}': uninstall needs -F when not asked at a terminal"),
                        exit::FAILED,
                    )
                }
                eprint!("Are you sure you want to uninstall zone {name} (y/[n])? ");
                let _ = std::io::stderr().flush();
                let mut line = String::new();
                let _ = std::io::stdin().lock().read_line(&mut line);
                if !line.trim().eq_ignore_ascii_case("y") {
                    std::process::exit(exit::FAILED);
                }
            }
            zones
                .uninstall(&caller, &cfg, &name)
                .await
                .unwrap_or_else(|e| fail(e));
        }
        Cmd::Clone { src } => zones
            .clone_zone(&caller, &cfg, &name, &src)
            .await
            .unwrap_or_else(|e| fail(e)),
        Cmd::Ready => {
            zones
                .boot_configured(&caller, &cfg, &name, &BootFrom::READY)
                .await
                .unwrap_or_else(|e| fail(e));
        }
        Cmd::Boot { args } => {
            let how = BootFrom {
                boot: true,
                bootargs: args,
            };
            let id = zones
                .boot_configured(&caller, &cfg, &name, &how)
                .await
                .unwrap_or_else(|e| fail(e));
            settle(&zones, id).await;
        }
        Cmd::Halt => zones
            .halt_zone(&caller, &name)
            .await
            .unwrap_or_else(|e| fail(e)),
        Cmd::Reboot => {
            zones
                .reboot_zone(&caller, &name)
                .await
                .unwrap_or_else(|e| fail(e));
        }
        Cmd::Shutdown { reboot } => {
            zones
                .shutdown_zone(&caller, &name)
                .await
                .unwrap_or_else(|e| fail(e));
            if reboot {
                let id = zones
                    .boot_configured(&caller, &cfg, &name, &BootFrom::BOOT)
                    .await
                    .unwrap_or_else(|e| fail(e));
                settle(&zones, id).await;
            }
        }
    }
}

/// How zoneadm says an engine error about zone `name`: a configuration
/// error as every configuration error (`zoneadm: FILE line N: ...`), any
/// other as `zoneadm: zone 'NAME': ...`. ztop's footer says the same text
/// after `NAME: ` ([`Error::unzoned`]).
fn say(name: &str, e: &Error) -> String {
    match e {
        Error::Conf(_) => e.to_string(),
        // illumos' zperror form for a zone no configuration names.
        Error::NotConfigured(_) => format!("{name}: No such zone configured"),
        _ => format!("zone '{name}': {}", e.unzoned(name)),
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

/// zoned when its socket is there (refusing or silent: exit 1), else an
/// embedded engine (zones_tools::tool::zoneadm's "Which engine").
async fn open(common: &Common) -> Zones {
    zones_tools::tool::zoneadm::open(common)
        .await
        .unwrap_or_else(|e| die(TOOL, e, exit::FAILED))
}

/// A booted zone's init has a moment to start, as zoneadm boot gives it.
async fn settle(zones: &Zones, id: ZoneId) {
    let _ = zones
        .wait_status(id, Status::Running, Some(std::time::Duration::from_secs(1)))
        .await;
}
