//! # What the command-line tools share
//!
//! Every tool (cli.md): `--help`, `--version`; exit 0 on success, 1 when an
//! operation failed, 2 on a usage error; errors on stderr as
//! `TOOL: message`, naming the zone, file and line involved. The output
//! formats of each tool live beside it ([`zoneadm`], [`jls`]), as
//! functions of plain data, so they are tested byte for byte without a
//! running engine.
//!
//! Every client tool finds the engine the same way ([`Common`]):
//! `--socket`, `--state-dir`, `--cgroup-root`, `--config`, each falling
//! back to its environment variable and then its default; when no daemon
//! answers, the engine runs in-process ([`crate::api::open`]).

pub mod jail;
pub mod jls;
pub mod zoneadm;

use crate::api::{Endpoint, Zones};
use crate::jailconf::{ConfError, Config};
use crate::param::Params;
use crate::snapshot::{ConfiguredZone, Snapshot};
use crate::zone::{AdminState, Brand, ZoneName};
use std::path::{Path, PathBuf};

/// Exit codes of every tool.
pub mod exit {
    pub const OK: i32 = 0;
    pub const FAILED: i32 = 1;
    pub const USAGE: i32 = 2;
}

/// The options every client tool takes.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct Common {
    /// zoned's socket (default $ZONED_SOCKET, else /run/zones/zoned.sock).
    #[arg(long, global = true, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// State directory of the embedded engine (default $ZONES_STATE_DIR, else /var/lib/zones).
    #[arg(long, global = true, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Where zone cgroups live (default $ZONES_CGROUP_ROOT, else /zones).
    #[arg(long, global = true, value_name = "ROOT")]
    pub cgroup_root: Option<String>,
    /// jail.conf to read (default $ZONES_CONFIG, else /etc/jail.conf and /etc/jail.conf.d/*.conf).
    #[arg(long, global = true, value_name = "FILE")]
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
        match self.config_path() {
            Some(p) => Config::parse_file(&p),
            None => Config::load_default(),
        }
    }

    /// The daemon, or an embedded engine.
    pub async fn open(&self) -> Result<Zones, crate::error::Error> {
        crate::api::open(&self.endpoint()).await
    }
}

/// Parse the command line with clap as cli.md wants it: `--help` and
/// `--version` exit 0, a usage error exits 2.
pub fn parse_args<T: clap::Parser>() -> T {
    T::try_parse().unwrap_or_else(|e| {
        let code = if e.use_stderr() {
            exit::USAGE
        } else {
            exit::OK
        };
        let _ = e.print();
        std::process::exit(code)
    })
}

/// Print `TOOL: message` and exit with `code`.
pub fn die(tool: &str, msg: impl std::fmt::Display, code: i32) -> ! {
    eprintln!("{tool}: {msg}");
    std::process::exit(code)
}

/// Is this root populated (a directory with something in it)?
pub fn is_installed(root: &Path) -> bool {
    std::fs::read_dir(root).is_ok_and(|mut d| d.next().is_some())
}

/// The configured zones that have no kernel zone now, with their
/// administrative state (configured, or installed when the root is there).
pub fn configured(cfg: &Config, snap: &Snapshot) -> Vec<ConfiguredZone> {
    configured_all(cfg)
        .into_iter()
        .filter(|c| snap.zone_by_name(&c.name).is_none())
        .collect()
}

/// Every configured zone (jail), with its administrative state as if it
/// had no kernel zone (the engine hides those that have one).
pub fn configured_all(cfg: &Config) -> Vec<ConfiguredZone> {
    cfg.jails
        .iter()
        .filter_map(|j| {
            let name = ZoneName::new(&j.name).ok()?;
            let root = PathBuf::from(j.params.str("path").unwrap_or("/"));
            Some(ConfiguredZone {
                state: if is_installed(&root) {
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

/// The parameters to create a configured zone with.
pub fn params_of(cfg: &Config, name: &str) -> Option<Params> {
    cfg.get(name).map(|j| {
        let mut p = j.params.clone();
        p.insert("name", crate::param::Value::Str(j.name.clone()));
        p
    })
}
