//! # zonecfg(8): a zone's configuration, edited as illumos edits it
//!
//! illumos keeps each zone's configuration in a file of its own
//! (/etc/zones/NAME.xml) and edits it with zonecfg, a small command
//! language of global properties (`set zonepath=...`) and resources
//! (`add net` ... `end`). Here the configuration language is jail.conf
//! (config.md), so zonecfg is a second way to write it: each zone it
//! configures is one file, `NAME.conf` in the jail.conf.d directory the
//! other tools read (`/etc/jail.conf.d`, or `--conf-dir` /
//! `$ZONES_CONF_DIR`), holding one jail.conf block. `jail`, `zoneadm` and
//! zoned read that file like any other; a hand edit in jail.conf grammar
//! is read back by zonecfg (parameters it has no property for come back
//! as `attr` resources).
//!
//! The work is split in four files:
//!
//! | file          | what it does                                                   |
//! |---------------|----------------------------------------------------------------|
//! | `mod.rs`      | the model: global properties, resources, their tables          |
//! | `lex.rs`      | command text → commands (`;` and newlines, `[list]`, `(k=v)`)   |
//! | `jailfile.rs` | model ↔ jail.conf parameters; `verify`; the atomic write        |
//! | `session.rs`  | the interpreter: scope, `create` ... `commit`, `info`, `export` |
//!
//! ## How the properties map
//!
//! | zonecfg | jail.conf |
//! |---------|-----------|
//! | zonepath, brand, autoboot, bootargs, limitpriv | path, brand, autoboot, bootargs, limitpriv |
//! | hostid (hex) | host.hostid (decimal) |
//! | ip-type=exclusive | vnet = new (shared: no vnet; the zone's addresses on macvlans) |
//! | scheduling-class, fs-allowed | sched_class, fs_allowed (kept, not enforced: verify warns) |
//! | capped-memory physical / swap / locked | capped-memory.physical / zone.max-swap / zone.max-locked-memory |
//! | capped-cpu ncpus | zone.cpu-cap = ncpus × 100 |
//! | dedicated-cpu ncpus | dedicated-cpu.ncpus |
//! | net (shared) physical, address, defrouter | ip4.addr / ip6.addr `PHYSICAL\|ADDRESS`, zone.defrouter |
//! | net (exclusive) physical, allowed-address, defrouter | vnet.interface, ip4.addr `PHYSICAL\|ADDR`, zone.defrouter |
//! | anet lower-link, allowed-address, defrouter | vnet.bridge, ip4.addr `eth0\|ADDR`, zone.defrouter |
//! | fs dir, special, type, options | mount `SPECIAL ZONEPATH/DIR TYPE OPTIONS 0 0` (type lofs is written nullfs: both are our bind mount) |
//! | rctl zone.max-processes, zone.max-lwps, zone.cpu-shares (and the rctls capped-memory and capped-cpu stand for) | the parameter of that name = limit |
//! | attr name, type, value | the jail parameter NAME = VALUE (repeated attrs of one name make a list) |
//!
//! What has no Linux meaning (pool, dedicated-cpu importance, fs raw,
//! device, dataset, an anet linkname other than eth0, an rctl value that
//! is not `priv=privileged,...,action=deny`, an attr naming no parameter)
//! is named by `verify`, and `commit` refuses it as illumos' commit
//! refuses what verify finds wrong: a file is never written with part of
//! the configuration silently missing.
//!
//! jail.conf has one `zone.defrouter` list for the zone, so reading a
//! file back gives each router to the net whose IPv4 subnet holds it
//! (the net's prefix, /24 without one), else to the first net without a
//! router: a configuration whose routers lie on their nets' subnets, as
//! illumos requires, comes back as it was written.
//!
//! ## What zonecfg does not write
//!
//! A zone that jail.conf defines in a file other than zonecfg's own (a
//! block in /etc/jail.conf) is not given a second block: `create` and
//! `commit` name the file and line where it is configured. `delete`
//! removes only a zone that is merely configured, as illumos' does: an
//! installed zone is uninstalled first (`zoneadm -z ZONE uninstall`).
//!
//! ## Round trip
//!
//! `export` prints the commands that make the configuration: `create -b`,
//! the global properties in table order, then the resources in table
//! order (and, within a kind, in the order they were added). Reading a
//! committed file back gives the configuration that was written, so
//! `export`, `delete -F`, `zonecfg -f` of the export, `export` again
//! gives the same bytes.

mod jailfile;
mod lex;
mod session;
#[cfg(test)]
mod tests;

pub use jailfile::{from_jail, jail_text, read_zone, to_params, write_atomic};
pub use lex::{Cmd, Token, split_commands};
pub use session::{Mode, Session, export_text};

use std::path::{Path, PathBuf};

/// The global properties, in the order `info` and `export` show them.
pub const GLOBALS: &[&str] = &[
    "zonename",
    "zonepath",
    "brand",
    "autoboot",
    "bootargs",
    "pool",
    "limitpriv",
    "scheduling-class",
    "ip-type",
    "hostid",
    "fs-allowed",
];

/// A resource type: its name, its properties (in `info` order), and
/// whether a zone has at most one of it.
#[derive(Clone, Copy, Debug)]
pub struct ResSpec {
    pub name: &'static str,
    pub props: &'static [&'static str],
    pub single: bool,
}

/// The resource types, in the order `info` and `export` show them.
pub const RESOURCES: &[ResSpec] = &[
    ResSpec {
        name: "fs",
        props: &["dir", "special", "raw", "type", "options"],
        single: false,
    },
    ResSpec {
        name: "net",
        props: &["address", "allowed-address", "physical", "defrouter"],
        single: false,
    },
    ResSpec {
        name: "anet",
        props: &["linkname", "lower-link", "allowed-address", "defrouter"],
        single: false,
    },
    ResSpec {
        name: "device",
        props: &["match"],
        single: false,
    },
    ResSpec {
        name: "rctl",
        props: &["name", "value"],
        single: false,
    },
    ResSpec {
        name: "attr",
        props: &["name", "type", "value"],
        single: false,
    },
    ResSpec {
        name: "dataset",
        props: &["name"],
        single: false,
    },
    ResSpec {
        name: "dedicated-cpu",
        props: &["ncpus", "importance"],
        single: true,
    },
    ResSpec {
        name: "capped-cpu",
        props: &["ncpus"],
        single: true,
    },
    ResSpec {
        name: "capped-memory",
        props: &["physical", "swap", "locked"],
        single: true,
    },
];

/// Every command, for `help` and for completion at the prompt.
pub const COMMANDS: &[&str] = &[
    "add", "cancel", "clear", "commit", "create", "delete", "end", "exit", "export", "help",
    "info", "remove", "revert", "select", "set", "verify",
];

/// The resource type of this name.
pub fn res_spec(name: &str) -> Option<&'static ResSpec> {
    RESOURCES.iter().find(|r| r.name == name)
}

/// Properties whose value is a list: `fs options` (`[ro,nodev]`) and
/// `rctl value` (one `(priv=...,limit=...,action=...)` per value).
pub fn is_list_prop(res: &str, prop: &str) -> bool {
    matches!((res, prop), ("fs", "options") | ("rctl", "value"))
}

/// A property's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Val {
    Simple(String),
    List(Vec<String>),
}

/// One resource: its type and the properties set on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Res {
    pub kind: &'static str,
    /// Set properties, by name (absent: not specified).
    pub props: Vec<(String, Val)>,
}

impl Res {
    pub fn new(kind: &'static str) -> Res {
        Res {
            kind,
            props: Vec::new(),
        }
    }

    pub fn get(&self, prop: &str) -> Option<&Val> {
        self.props.iter().find(|(n, _)| n == prop).map(|(_, v)| v)
    }

    /// A simple property's text (a list's elements joined with `,`).
    pub fn text(&self, prop: &str) -> Option<String> {
        self.get(prop).map(|v| match v {
            Val::Simple(s) => s.clone(),
            Val::List(l) => l.join(","),
        })
    }

    pub fn set(&mut self, prop: &str, v: Val) {
        match self.props.iter_mut().find(|(n, _)| n == prop) {
            Some(slot) => slot.1 = v,
            None => self.props.push((prop.to_string(), v)),
        }
    }

    pub fn clear(&mut self, prop: &str) {
        self.props.retain(|(n, _)| n != prop);
    }

    /// Does every `prop=value` of a `select` or `remove` match?
    pub fn matches(&self, sel: &[(String, Val)]) -> bool {
        sel.iter().all(|(p, v)| self.get(p) == Some(v))
    }
}

/// A zone's configuration: global properties and resources.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ZoneCfg {
    /// Set global properties, by name (zonename is the session's).
    pub globals: Vec<(String, String)>,
    pub res: Vec<Res>,
}

impl ZoneCfg {
    pub fn global(&self, prop: &str) -> Option<&str> {
        self.globals
            .iter()
            .find(|(n, _)| n == prop)
            .map(|(_, v)| v.as_str())
    }

    pub fn set_global(&mut self, prop: &str, v: &str) {
        match self.globals.iter_mut().find(|(n, _)| n == prop) {
            Some(slot) => slot.1 = v.to_string(),
            None => self.globals.push((prop.to_string(), v.to_string())),
        }
    }

    pub fn clear_global(&mut self, prop: &str) {
        self.globals.retain(|(n, _)| n != prop);
    }

    /// The resources in `info` and `export` order: by type (table order),
    /// then in the order they were added.
    pub fn ordered(&self) -> Vec<&Res> {
        let mut v: Vec<&Res> = self.res.iter().collect();
        v.sort_by_key(|r| RESOURCES.iter().position(|s| s.name == r.kind));
        v
    }
}

/// Where zonecfg keeps zone files: `--conf-dir`, else `$ZONES_CONF_DIR`,
/// else `/etc/jail.conf.d` (the directory every tool reads).
pub fn conf_dir(arg: Option<PathBuf>) -> PathBuf {
    arg.or_else(|| {
        std::env::var_os("ZONES_CONF_DIR")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    })
    .unwrap_or_else(|| PathBuf::from(crate::jailconf::DEFAULT_CONF_DIR))
}

/// The file of zone `name` under `dir`.
pub fn zone_file(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.conf"))
}

/// illumos' usage block (stderr, exit 2).
pub const USAGE: &str = "\
usage:\tzonecfg help
\tzonecfg -z <zone> (interactive)
\tzonecfg -z <zone> <command>
\tzonecfg -z <zone> -f <command-file>";

/// `help`'s text (also `zonecfg help`).
pub fn session_help() -> &'static str {
    session::HELP
}
