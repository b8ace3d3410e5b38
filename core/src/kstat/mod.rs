//! # kstat: the counters every zone carries
//!
//! The engine keeps, for every zone from ready to running and for the
//! global zone, the counters illumos keeps for a zone (kstat.md): caps
//! (nprocs, lockedmem, swapresv, each with usage and limit) and zones
//! (avenrun, CPU and run-queue time, fork failures, init pid, boot time),
//! plus a few of ours (threads, memory, RSS, CPU percent, PSI). This
//! module reads them from the kernel and shows them:
//!
//! | module         | what it holds                                                   |
//! |----------------|-----------------------------------------------------------------|
//! | [`avenrun`]    | the illumos load-average arithmetic and its saved state         |
//! | [`read`]       | readers of one zone's cgroup files and /proc files              |
//! | [`sampler`]    | the once-a-second sampler and its tick loop                     |
//! | [`format`]     | the kstat list of a snapshot and its `-p`, `-j` and human forms |
//! | [`metrics`]    | the OpenMetrics text of a snapshot                              |
//! | [`view`]       | the text of a zone's own /proc files (view.md)                    |
//! | [`link`]       | a zone's interface counters (`link:ZONEID:IFNAME`)              |
//!
//! Data flows one way: the engine's tick calls [`sampler::Sampler::sample`],
//! folds the [`crate::snapshot::Kstat`] values it returns into the next
//! snapshot, and every front-end formats that snapshot ([`format`],
//! [`metrics`]); nothing here reads the kernel on behalf of a front-end.

pub mod avenrun;
pub mod format;
pub mod link;
pub mod metrics;
pub mod read;
pub mod sampler;
pub mod view;

pub use avenrun::LoadAvg;
pub use sampler::{Sample, Sampler, Ticker, ZoneInput, ZoneSample};
