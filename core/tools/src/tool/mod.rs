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
//!
//! Every tool writes its output through [`out`], so a reader that goes
//! away (`kstat -p 1 3 | head -1`) ends it quietly, as SIGPIPE ends a C
//! tool.

pub mod jail;
pub mod jls;
pub mod kstat;
pub mod out;
pub mod zoneadm;

use crate::api::{Endpoint, Zones};
use crate::jailconf::{ConfError, Config};
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
                Path::new(crate::jailconf::DEFAULT_CONF),
                Path::new(crate::jailconf::DEFAULT_CONF_DIR),
                cancel,
            ),
        }
    }

    /// The configuration as an operation needs it (see [`ConfNeed`] and
    /// the jailconf module's "A broken file" section): `Required`, a file
    /// that does not parse ends the tool (`TOOL: FILE line N: ...`, exit
    /// 1); `Optional`, its messages are printed as warnings and the tool
    /// goes on with no configured zones, told so by `Err`; `None`, the
    /// file is not read at all.
    pub fn config_for(&self, tool: &str, need: ConfNeed) -> Result<Config, Config> {
        match need {
            ConfNeed::None => Ok(Config::default()),
            ConfNeed::Required => self
                .load_config()
                .map_err(|e| die(tool, conf_error_lines(tool, &e), exit::FAILED)),
            ConfNeed::Optional => self.load_config().map_err(|e| {
                eprintln!("{tool}: {}", conf_error_lines(tool, &e));
                eprintln!(
                    "{tool}: the configuration does not parse: configured zones are not shown"
                );
                Config::default()
            }),
        }
    }

    /// The daemon, or an embedded engine.
    pub async fn open(&self) -> Result<Zones, crate::error::Error> {
        crate::api::open(&self.endpoint()).await
    }
}

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

/// Print a usage error as `TOOL: message`, then the tool's usage lines,
/// and exit 2.
pub fn usage_error(tool: &str, msg: impl std::fmt::Display, usage: &str) -> ! {
    eprintln!("{tool}: {msg}");
    eprintln!("{usage}");
    std::process::exit(exit::USAGE)
}

/// What an operation needs of the configuration file. Operations on
/// running zones use the engine's state, never the file, so a broken file
/// cannot stop them; operations that make or change a zone from its
/// configuration refuse a broken file, as jail(8) does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfNeed {
    /// Not read (halt, reboot, a list of running zones).
    None,
    /// Read if it parses, else warned about (a list of configured zones).
    Optional,
    /// Must parse (boot, install, verify, clone, `jail -c`, ...).
    Required,
}

/// A configuration error's messages, each line after the first also
/// prefixed `TOOL: ` (the first gets its prefix from the caller).
pub fn conf_error_lines(tool: &str, e: &ConfError) -> String {
    e.to_string().replace('\n', &format!("\n{tool}: "))
}

/// An I/O error as err(3) prints it, without Rust's `(os error N)`: the
/// caller puts the file's name before it.
pub fn os_msg(e: &std::io::Error) -> String {
    crate::jailconf::io_msg(e)
}

/// Print `TOOL: message` and exit with `code`.
pub fn die(tool: &str, msg: impl std::fmt::Display, code: i32) -> ! {
    eprintln!("{tool}: {msg}");
    std::process::exit(code)
}

/// Is this root populated (a directory with something in it)?
pub fn is_installed(root: &Path) -> bool {
    !crate::runtime::linux::osinstall::is_incomplete(root)
        && std::fs::read_dir(root).is_ok_and(|mut d| d.next().is_some())
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
