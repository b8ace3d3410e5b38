//! # zones: illumos zones and FreeBSD jails on Linux
//!
//! This crate is the engine every front-end rests on.
//!
//! | module        | what it holds                                                      |
//! |---------------|--------------------------------------------------------------------|
//! | [`zone`]      | identity (ids, names, uniqid), kernel status, administrative state |
//! | [`param`]     | the one parameter model of jail parameters and zone attributes    |
//! | [`api`]       | the daemon's socket protocol, its client, embedded mode, and [`api::ZoneApi`], the one list of operations |
//! | [`engine`]    | the registry, the zone / jail operations over it, and the configured-zone lifecycle (install, boot from jail.conf, ...) |
//! | [`jailconf`]  | jail.conf: lexing, parsing, building the jails, selecting targets, jail(8)'s command line |
//! | [`kstat`]     | the per-zone counters: the kernel readers, the sampler, the load-average arithmetic, the kstat formats and /metrics |
//! | [`runtime`]   | the seam to the kernel, and the Linux runtime behind it           |
//! | [`snapshot`]  | the immutable view every front-end shows                          |
//! | [`state`]     | durable state: atomic records of every live zone, the engine lock  |
//! | [`error`]     | the typed errors of the operations and their errno                 |
//! | `testing`     | test fixtures ([`ZoneSnapshot`](snapshot::ZoneSnapshot) builder), with the `testing` feature |
//! | [`tool`]      | what the command-line tools share, and their output formats        |

pub mod api;
pub mod engine;
pub mod error;
pub mod jailconf;
pub mod kstat;
pub mod param;
pub mod runtime;
pub mod snapshot;
pub mod state;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod tool;
pub mod zone;

pub use error::Error;
