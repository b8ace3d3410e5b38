//! # What every front-end shares
//!
//! The admin tools, zoned, ztop and zonefs all find the engine the same
//! way ([`Common`]): `--socket`, `--state-dir`, `--cgroup-root`,
//! `--config`, each falling back to its environment variable and then its
//! default; when no daemon answers, the engine runs in-process
//! ([`crate::api::open`], with the Linux runtime). They read jail.conf the
//! same way, and see a configured zone's administrative state the same
//! way ([`configured_all`]: configured, incomplete or installed, from its
//! root on disk).
//!
//! With the `cli` feature, [`Common`] is a set of clap options and
//! [`parse_args`] parses a command line as cli.md wants it; the admin
//! tools (zones-tools) add the rest of what they share (getopt, output,
//! `TOOL: message` and exit codes on failure).

use crate::api::{Endpoint, Zones};
use std::path::{Path, PathBuf};
use zones::jailconf::{ConfError, Config};
use zones::snapshot::{ConfiguredZone, Snapshot};
use zones::zone::{AdminState, Brand, ZoneName};

/// Exit codes of every tool.
pub mod exit {
    pub const OK: i32 = 0;
    pub const FAILED: i32 = 1;
    pub const USAGE: i32 = 2;
}

/// The options every client tool takes.
#[derive(Clone, Debug, Default)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
pub struct Common {
    /// zoned's socket (default $ZONED_SOCKET, else /run/zones/zoned.sock).
    #[cfg_attr(feature = "cli", arg(long, global = true, value_name = "PATH"))]
    pub socket: Option<PathBuf>,
    /// State directory of the embedded engine (default $ZONES_STATE_DIR, else /var/lib/zones).
    #[cfg_attr(feature = "cli", arg(long, global = true, value_name = "DIR"))]
    pub state_dir: Option<PathBuf>,
    /// Where zone cgroups live (default $ZONES_CGROUP_ROOT, else /zones).
    #[cfg_attr(feature = "cli", arg(long, global = true, value_name = "ROOT"))]
    pub cgroup_root: Option<String>,
    /// jail.conf to read (default $ZONES_CONFIG, else /etc/jail.conf and /etc/jail.conf.d/*.conf).
    #[cfg_attr(feature = "cli", arg(long, global = true, value_name = "FILE"))]
    pub config: Option<PathBuf>,
}

impl Common {
    pub fn endpoint(&self) -> Endpoint {
        Endpoint::resolve(
            self.socket.clone(),
            self.state_dir.clone(),
            self.cgroup_root.clone(),
        )
    }

    /// The configuration file named by `--config` or `$ZONES_CONFIG`.
    pub fn config_path(&self) -> Option<PathBuf> {
        self.config.clone().or_else(|| {
            std::env::var_os("ZONES_CONFIG")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
    }

    /// Read the configuration (nothing configured is an empty one).
    pub fn load_config(&self) -> Result<Config, ConfError> {
        self.load_config_cancellable(None)
    }

    /// [`Common::load_config`] that gives up soon after `cancel` is set
    /// (zoned's reload, when a newer one or SIGTERM comes).
    pub fn load_config_cancellable(
        &self,
        cancel: Option<&std::sync::atomic::AtomicBool>,
    ) -> Result<Config, ConfError> {
        match self.config_path() {
            Some(p) => Config::parse_files_cancellable(&[p], cancel),
            None => Config::load_from_cancellable(
                Path::new(zones::jailconf::DEFAULT_CONF),
                Path::new(zones::jailconf::DEFAULT_CONF_DIR),
                cancel,
            ),
        }
    }

    /// The daemon, or an embedded engine.
    pub async fn open(&self) -> Result<Zones, crate::error::Error> {
        crate::api::open(&self.endpoint()).await
    }
}

#[cfg(feature = "cli")]
/// Parse the command line with clap as cli.md wants it: `--help` and
/// `--version` exit 0; a usage error exits 2 with its message as
/// `TOOL: message` (clap's own `error:` prefix replaced by the tool's
/// name), then clap's usage line.
pub fn parse_args<T: clap::Parser>() -> T {
    T::try_parse().unwrap_or_else(|e| {
        if !e.use_stderr() {
            let _ = e.print();
            std::process::exit(exit::OK)
        }
        let cmd = T::command();
        eprint!("{}", usage_text(cmd.get_name(), &e));
        std::process::exit(exit::USAGE)
    })
}

#[cfg(feature = "cli")]
/// A clap usage error as cli.md prints it: `TOOL: message`, then the
/// rest of clap's text (the usage line, the hint to `--help`).
pub fn usage_text(tool: &str, e: &clap::Error) -> String {
    let text = e.render().to_string();
    let body = text.strip_prefix("error: ").unwrap_or(&text);
    let mut out = format!("{tool}: {body}");
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// Is this root populated (a directory with something in it)?
pub fn is_installed(root: &Path) -> bool {
    !crate::runtime::linux::osinstall::is_incomplete(root)
        && std::fs::read_dir(root).is_ok_and(|mut d| d.next().is_some())
}

/// The configured zones that have no kernel zone now, with their
/// administrative state (configured, or installed when the root is there).
pub fn configured(cfg: &Config, snap: &Snapshot) -> Vec<ConfiguredZone> {
    let live: std::collections::HashSet<&str> = snap
        .zones
        .iter()
        .filter(|z| z.status < zones::zone::Status::Dying)
        .map(|z| z.name.as_str())
        .collect();
    configured_without(cfg, &live)
}

/// The configured zones whose names are not in `live` (the kernel zones
/// not yet dying, as [`Snapshot::zone_by_name`] finds them). One set
/// lookup per configured zone, and a zone with a kernel zone is dropped
/// before its root is looked at: at a thousand running zones, `zoneadm
/// list -c` neither compares every name with every other nor reads a
/// thousand roots it does not show.
pub fn configured_without(
    cfg: &Config,
    live: &std::collections::HashSet<&str>,
) -> Vec<ConfiguredZone> {
    configured_where(cfg, |name| !live.contains(name))
}

/// Every configured zone (jail), with its administrative state as if it
/// had no kernel zone (the engine hides those that have one).
pub fn configured_all(cfg: &Config) -> Vec<ConfiguredZone> {
    configured_where(cfg, |_| true)
}

fn configured_where(cfg: &Config, keep: impl Fn(&str) -> bool) -> Vec<ConfiguredZone> {
    cfg.jails
        .iter()
        .filter(|j| keep(&j.name))
        .filter_map(|j| {
            let name = ZoneName::new(&j.name).ok()?;
            let root = PathBuf::from(j.params.str("path").unwrap_or("/"));
            Some(ConfiguredZone {
                state: if crate::runtime::linux::osinstall::is_incomplete(&root) {
                    AdminState::Incomplete
                } else if is_installed(&root) {
                    AdminState::Installed
                } else {
                    AdminState::Configured
                },
                brand: j
                    .params
                    .str("brand")
                    .and_then(Brand::parse)
                    .unwrap_or_default(),
                root,
                name,
                params: j.params.clone(),
            })
        })
        .collect()
}
