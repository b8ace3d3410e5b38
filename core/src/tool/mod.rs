//! # What the command-line tools share
//!
//! Every tool (cli.md): `--help`, `--version`; exit 0 on success, 1 when an
//! operation failed, 2 on a usage error; errors on stderr as
//! `TOOL: message`, naming the zone, file and line involved. The output
//! formats of each tool live beside it (e.g. [`zoneadm`]), as functions of
//! a [`crate::snapshot::Snapshot`], so they are tested byte for byte
//! without a running engine.

pub mod jls;
pub mod zoneadm;

/// Exit codes of every tool.
pub mod exit {
    pub const OK: i32 = 0;
    pub const FAILED: i32 = 1;
    pub const USAGE: i32 = 2;
}
