//! # zones-tools: the admin tools
//!
//! zoneadm, zonecfg, zlogin, kstat, FreeBSD's jail, jls and jexec, and
//! zones-oci (the OCI runtime over the engine): their
//! command lines (clap, and jail(8)'s getopt), their output formats, the
//! `TOOL: message` and exit status of cli.md, and standard output that
//! ends quietly when its reader goes away ([`tool::out`]). What changes
//! here is what a user types and reads; the operations themselves belong
//! to the engine (`zones`), the kernel work to `zones-linux`.
//!
//! | module          | what it holds                                                 |
//! |-----------------|---------------------------------------------------------------|
//! | [`tool`]        | what the tools share: options, exit codes, configuration need |
//! | [`tool::jail`]  | jail(8): its command line and the runner of its operations    |
//! | [`tool::jls`]   | jls(8)'s parameters and output                                |
//! | [`tool::kstat`] | kstat(1M)'s command line and timestamps                       |
//! | [`tool::zoneadm`] | zoneadm's list formats                                      |
//! | [`tool::zonecfg`] | zonecfg(8): its commands, export, verify, the jail.conf.d file |
//! | [`tool::oci`]   | zones-oci: runc's command line and config.json onto a zone    |
//! | [`tool::out`]   | standard output through [`out!`] and [`outln!`]               |
//!
//! The binaries (`src/bin/`) keep their names; `cargo build --release`
//! puts them in target/release/. Nothing depends on this crate but the
//! tools and the end-to-end tests: zoned, ztop and zonefs take what they
//! share with the tools from `zones_linux::front`.

// The modules the tools' code names as `crate::...`: the pure crate's,
// and zones-linux's where it extends them (`api` with the embedded
// engine, `runtime` with the Linux runtime).
#[cfg(test)]
use zones::testing;
use zones::{Error, engine, error, jailconf, param, snapshot, zone};
use zones_linux::{api, kstat, runtime};

pub mod tool;
