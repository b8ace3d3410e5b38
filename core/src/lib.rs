//! # zones: illumos zones and FreeBSD jails on Linux
//!
//! This crate is the engine every front-end rests on: the zone model, the
//! engine, the API, the snapshot, jail.conf and the counters' arithmetic
//! and formats. It makes no system call of its own — no libc, nix, procfs
//! or netlink here; std's files and sockets, tokio and socket2 only. The
//! kernel is behind [`runtime::Runtime`] and [`kstat::Source`], both
//! implemented in zones-linux (core/linux), which also builds the engine a
//! front-end embeds; the admin tools are zones-tools (core/tools).
//!
//! | module        | what it holds                                                      |
//! |---------------|--------------------------------------------------------------------|
//! | [`zone`]      | identity (ids, names, uniqid), kernel status, administrative state |
//! | [`param`]     | the one parameter model of jail parameters and zone attributes    |
//! | [`api`]       | the daemon's socket protocol, its client, embedded mode, and [`api::ZoneApi`], the one list of operations |
//! | [`engine`]    | the registry, the zone / jail operations over it, and the configured-zone lifecycle (install, boot from jail.conf, ...) |
//! | [`jailconf`]  | jail.conf: lexing, parsing, building the jails, selecting targets, jail(8)'s command line |
//! | [`kstat`]     | the per-zone counters: the seam to their readers, the load-average arithmetic, the kstat formats and /metrics |
//! | [`runtime`]   | the seam to the kernel ([`runtime::Runtime`]) and a null runtime  |
//! | [`snapshot`]  | the immutable view every front-end shows                          |
//! | [`state`]     | durable state: atomic records of every live zone, the engine lock  |
//! | [`error`]     | the typed errors of the operations and their errno                 |
//! | [`errno`]     | the Linux errno numbers the errors carry                           |
//! | [`clock`]     | the monotonic clock counters and zones are stamped with            |
//! | `testing`     | test fixtures ([`ZoneSnapshot`](snapshot::ZoneSnapshot) builder), with the `testing` feature |

pub mod api;
pub mod clock;
pub mod engine;
pub mod errno;
pub mod error;
pub mod jailconf;
pub mod kstat;
pub mod param;
pub mod runtime;
pub mod snapshot;
pub mod state;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod zone;

pub use error::Error;
