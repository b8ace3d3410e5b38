//! # zones-linux: the Linux runtime and every kernel reader
//!
//! The pure crate `zones` holds the model, the engine, the API and the
//! formats; it never makes a system call of its own. This crate is where
//! the zones meet the Linux kernel: whatever changes when the kernel's
//! interfaces do (a cgroup file, a /proc format, a mount flag, a new
//! namespace) changes here, and nowhere else.
//!
//! | module                | what it holds                                                     |
//! |-----------------------|-------------------------------------------------------------------|
//! | [`runtime::linux`]    | [`LinuxRuntime`](runtime::linux::LinuxRuntime): namespaces, cgroups, mounts, zsched, seccomp, veth |
//! | [`kstat::read`]       | the readers of cgroup files and /proc files the counters come from |
//! | [`kstat::sampler`]    | the once-a-second [`Sampler`](kstat::sampler::Sampler), the engine's [`zones::kstat::Source`] on Linux |
//! | [`api`]               | the engine embedded in a front-end when no daemon answers ([`api::open`], [`api::follow`]) |
//! | [`procstat`]          | /proc/PID/stat, the one parser of it                              |
//! | [`mountinfo`]         | /proc/PID/mountinfo (and the `\ooo` path decoder fstab shares), the one parser of it |
//! | [`front`]             | what every front-end (tools, zoned, ztop, zonefs) shares: the endpoint options, the configured zones as found on disk |
//! | `zsched` (binary)     | the zone's supervisor and pid-1 launcher                          |
//!
//! Each module here extends the pure module of the same name: `runtime`
//! is `zones::runtime` plus `linux`, `kstat` is `zones::kstat` plus the
//! readers, `api` is `zones::api` plus the embedded engine. So the code
//! moved here from `zones` keeps its `crate::` paths, and a caller finds
//! the whole of a subject under one name.
//!
//! Depends on: `zones` (never the other way), libc, nix, procfs, sysinfo,
//! netlink. Must not depend on: `zones-tools` (the admin tools depend on
//! this crate, as zoned, ztop and zonefs do). clap only behind the `cli`
//! feature, for [`front`]'s shared command-line options.

// The pure crate's modules, under the names the moved code uses
// (`crate::param`, `crate::zone`, ...).
use zones::{engine, error, param, snapshot, state, zone};

pub mod front;
pub mod mountinfo;
pub mod procstat;

/// `zones::runtime` and the Linux runtime.
pub mod runtime {
    pub use zones::runtime::*;
    pub mod linux;
}

/// `zones::kstat` and the kernel readers behind it.
pub mod kstat {
    pub use zones::kstat::*;
    pub mod read;
    pub mod sampler;
    pub mod source;
}

/// `zones::api` and the engine a front-end embeds.
pub mod api {
    pub use zones::api::*;
    mod embed;
    mod follow;
    pub use embed::{open, start_engine, start_serving_engine};
    pub use follow::{Follow, Port, bind_socket, follow};
}
