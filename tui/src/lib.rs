//! # ztop: the live console for zones
//!
//! ztop is to zones what prstat -Z and top are to a host, and the place to
//! act on a zone (ztop.md). It is built in layers that do not know about
//! each other's I/O:
//!
//! | module       | what it holds                                                  |
//! |--------------|----------------------------------------------------------------|
//! | [`source`]   | the seams: snapshots in (a watch channel), operations out ([`source::Control`]) |
//! | [`model`]    | a snapshot as rows and columns (shared by the screen and batch) |
//! | [`app`]      | the state machine: keys, mouse, snapshots in; effects out      |
//! | [`ui`]       | one draw function per panel, plain data in                     |
//! | [`procs`]    | the process collector of the selected zone (reads /proc, off the draw path) |
//! | [`run`]      | the event loop: redraws on a snapshot or an input, never on a timer |
//! | [`term`]     | the terminal: raw mode, alternate screen, restore on panic/signal, suspend for zlogin |
//! | [`batch`]    | `ztop -b`: text or JSON lines                                  |
//! | [`fleet`]    | `ztop -H`: many hosts' snapshots as one table, plain data      |
//! | [`tunnel`]   | `ztop -H`: one supervised ssh forwarding zoned's socket a host |
//! | [`config`], [`keys`] | ~/.config/ztop/config.toml and the key map          |

pub mod app;
pub mod batch;
pub mod cli;
pub mod config;
pub mod fleet;
pub mod fmt;
pub mod keys;
pub mod model;
pub mod procs;
pub mod run;
pub mod source;
pub mod term;
pub mod tunnel;
pub mod ui;

#[cfg(test)]
pub mod testdata;
