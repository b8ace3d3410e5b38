//! # zones: illumos zones and FreeBSD jails on Linux
//!
//! This crate is the engine every front-end rests on.
//!
//! | module        | what it holds                                                      |
//! |---------------|--------------------------------------------------------------------|
//! | [`zone`]      | identity (ids, names, uniqid), kernel status, administrative state |
//! | [`param`]     | the one parameter model of jail parameters and zone attributes    |
//! | [`engine`]    | the registry and the zone / jail operations over it               |
//! | [`runtime`]   | the seam to the kernel, and the Linux runtime behind it           |
//! | [`snapshot`]  | the immutable view every front-end shows                          |
//! | [`error`]     | the typed errors of the operations and their errno                 |

pub mod engine;
pub mod error;
pub mod jailconf;
pub mod param;
pub mod runtime;
pub mod snapshot;
pub mod zone;

pub use error::Error;
