//! # kstat: the counters every zone carries
//!
//! The engine keeps, for every zone from ready to running and for the
//! global zone, the counters illumos keeps for a zone (kstat.md): caps
//! (nprocs, lockedmem, swapresv, each with usage and limit) and zones
//! (avenrun, CPU and run-queue time, fork failures, init pid, boot time),
//! plus a few of ours (threads, memory, RSS, CPU percent, PSI). This
//! module holds their arithmetic and shows them; reading them from the
//! kernel is the runtime's (zones-linux: `kstat::read`, `kstat::sampler`):
//!
//! | module         | what it holds                                                   |
//! |----------------|-----------------------------------------------------------------|
//! | [`avenrun`]    | the illumos load-average arithmetic and its saved state         |
//! | [`source`]     | the seam to the kernel readers ([`Source`]), a tick's data, the tick's clock |
//! | [`format`]     | the kstat list of a snapshot and its `-p`, `-j` and human forms |
//! | [`metrics`]    | the OpenMetrics text of a snapshot                              |
//! | [`view`]       | the text of a zone's own /proc files (view.md)                    |
//! | [`link`]       | a zone's interface counters (`link:ZONEID:IFNAME`)              |
//!
//! Data flows one way: the engine's tick calls [`Source::sample`],
//! folds the [`crate::snapshot::Kstat`] values it returns into the next
//! snapshot, and every front-end formats that snapshot ([`format`],
//! [`metrics`]); nothing here reads the kernel on behalf of a front-end.

pub mod avenrun;
pub mod format;
pub mod link;
pub mod metrics;
pub mod source;
pub mod view;

pub use avenrun::LoadAvg;
pub use source::{Sample, Source, Ticker, ZoneInput, ZoneSample};
