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

pub mod getopt;
pub mod jail;
pub mod jls;
pub mod kstat;
pub mod oci;
pub mod out;
pub mod zoneadm;
pub mod zonecfg;

use crate::jailconf::{ConfError, Config};

// What zoned, ztop and zonefs share with the tools (zones-linux `front`).
pub use zones_linux::front::{
    Common, configured, configured_all, configured_without, exit, is_installed, parse_args,
    usage_text,
};

/// The configuration as a tool needs it, `TOOL: message` and the exit
/// code on failure (a method of [`Common`] for the tools only).
pub trait ConfigFor {
    /// The configuration as an operation needs it (below, for [`Common`]).
    fn config_for(&self, tool: &str, need: ConfNeed) -> Result<Config, Config>;
}

impl ConfigFor for Common {
    /// The configuration as an operation needs it (see [`ConfNeed`] and
    /// the jailconf module's "A broken file" section): `Required`, a file
    /// that does not parse ends the tool (`TOOL: FILE line N: ...`, exit
    /// 1); `Optional`, its messages are printed as warnings and the tool
    /// goes on with no configured zones, told so by `Err`; `None`, the
    /// file is not read at all.
    fn config_for(&self, tool: &str, need: ConfNeed) -> Result<Config, Config> {
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
