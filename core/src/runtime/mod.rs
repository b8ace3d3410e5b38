//! # The seam to the kernel
//!
//! The engine decides *what* happens to a zone; a [`Runtime`] makes it
//! happen in the kernel. The engine never touches namespaces, cgroups or
//! processes itself: it calls these methods (from a blocking thread, never
//! holding the registry lock) and learns of what happens inside a zone
//! through [`RuntimeEvent`]s.
//!
//! | engine step            | runtime call       | kernel effect (Linux runtime)                         |
//! |------------------------|--------------------|--------------------------------------------------------|
//! | initialized → ready    | [`Runtime::ready`] | cgroup, namespaces, root, /proc, /dev; zsched waits    |
//! | ready → booting → running | [`Runtime::boot`] | zsched starts init / exec.start / command          |
//! | running → shutting_down → empty | [`Runtime::shutdown`] | SIGTERM, timeout, SIGKILL of every user process |
//! | empty → down           | [`Runtime::down`]  | unmount what was mounted for the zone                  |
//! | down → dying → dead    | [`Runtime::destroy`] | zsched exits, cgroup removed                         |
//! | UPDATE of a parameter  | [`Runtime::update`] | rctls, host name                                      |
//! | engine start           | [`Runtime::adopt`] | find a zone made by an earlier engine                  |
//! | install, clone, uninstall | [`Runtime::install`], [`Runtime::clone_root`], [`Runtime::uninstall`] | build, copy or remove a zone's root on disk |
//! | a nested zone's root   | [`Runtime::nested_root`] | resolve the child's root inside its parent's, links followed there |
//!
//! A [`Handle`] is everything an engine must remember to find the zone's
//! kernel objects again; durable state stores it, so an engine that was
//! killed can re-adopt the zone. [`NullRuntime`] makes no kernel object at
//! all: it is how the engine's own logic is tested, and it is not used to
//! run zones. The Linux runtime (`LinuxRuntime`) lives in zones-linux
//! (`zones_linux::runtime::linux`), with every reader of the kernel.
//!
//! ## A zone's network, decided once
//!
//! [`NetMode::of`] reads a zone's parameters and says which network the
//! zone gets (network.md "The models"). It is the only place that decides:
//! the Linux launcher unshares a network namespace from it, and
//! `zoneadm list`, `zone_getattr("network")` and zonefs show what it says.
//! The default is safe: a zone that asks for nothing gets a namespace of
//! its own with only `lo` in it (up), so the host's loopback services and
//! abstract Unix sockets, and those of every other zone, are out of its
//! reach. Sharing the host's stack is an explicit `ip4 = inherit`. Which
//! addresses go on which interface is read from the same parameters by
//! [`netcfg::NetConfig::of`].

pub mod netcfg;
mod null;

pub use null::NullRuntime;

use crate::param::Params;
use crate::snapshot::Subsys;
use crate::zone::{Brand, ZoneId, ZoneName};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Everything the runtime needs to make a zone real.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ZoneSpec {
    pub id: ZoneId,
    pub name: ZoneName,
    pub uniqid: u64,
    /// The zone root as the host sees it.
    pub root: PathBuf,
    pub brand: Brand,
    /// Every parameter: host.hostname, vnet, rctls, allow.*, limitpriv,
    /// initname, bootargs, initnorestart, mount.*, exec.start, command, ...
    pub params: Params,
    /// The parent's handle, for a nested jail (its cgroup nests under it).
    pub parent: Option<Handle>,
}

/// What the runtime made for a zone; enough to find it again after an
/// engine restart.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handle {
    /// Host pid of the zone's supervisor (its pid 1).
    pub zsched_pid: u32,
    /// /proc/PID/stat start time of zsched, to tell a reused pid apart.
    pub zsched_start: u64,
    /// The zone's cgroup in each hierarchy it was made in (absolute paths
    /// under /sys/fs/cgroup).
    pub cgroups: Vec<PathBuf>,
    /// Where the engine talks to zsched.
    pub control: PathBuf,
    /// Host pid of the zone's init, once booted (0 before).
    pub init_pid: u32,
}

/// What the kernel says holds a zone (lifecycle.md "References"); the
/// holds the engine gives out itself (zone_ref, MNTFS) are not here.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KernelRefs {
    /// Processes (thread groups) of the zone.
    pub cred: u64,
    /// Mounts by subsystem (NFS, NFSv4, SMBFS, VFS), System V IPC objects,
    /// loop devices. Indexed by [`Subsys`]; the MNTFS slot is unused.
    pub subsys: [u64; Subsys::COUNT],
}

/// Something that happened inside a zone, told by its supervisor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RuntimeEvent {
    /// The zone's init started (at boot, or restarted by the supervisor
    /// after it exited): `pid` is its host pid.
    InitStarted { id: ZoneId, uniqid: u64, pid: u32 },
    /// The zone's init exited with this wait status; `pid` is the host pid
    /// it had (0 when the runtime never learnt it).
    InitExited {
        id: ZoneId,
        uniqid: u64,
        pid: u32,
        status: i32,
    },
    /// No user process is left in the zone (only zsched).
    Empty { id: ZoneId, uniqid: u64 },
    /// The supervisor itself is gone (killed, or the zone died meanwhile):
    /// told only once it has exited, never for one that is merely stopped
    /// or slow.
    Gone { id: ZoneId, uniqid: u64 },
}

/// What adoption found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Adopted {
    /// zsched is alive; `user_procs` is whether any user process remains.
    Alive { handle: Handle, user_procs: bool },
    /// zsched is gone; whatever is left of the zone was cleaned.
    Gone,
}

/// Which network a zone gets (module comment, network.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetMode {
    /// `ip4 = inherit` or `ip6 = inherit`: the host's network namespace,
    /// unrestricted. Linux has one stack for both families, so asking to
    /// inherit either shares both; it is never the default.
    Inherit,
    /// The default, and a zone with `ip4.addr`/`ip6.addr` but no `vnet`
    /// (illumos shared-IP): a namespace of its own with loopback, and with
    /// addresses one interface per host link named in them (a macvlan of
    /// that link) carrying exactly those addresses.
    Own,
    /// `vnet = new` (illumos exclusive-IP): a namespace of its own,
    /// `vnet.interface` moved in, `vnet.bridge` a veth pair whose zone end
    /// is `eth0`.
    /// It wins over `ip4 = inherit`, as a FreeBSD vnet jail has its own
    /// stack whatever its ip4 says.
    Vnet,
}

impl NetMode {
    /// The network a zone with these parameters gets.
    pub fn of(p: &Params) -> NetMode {
        if p.str("vnet") == Some("new") {
            NetMode::Vnet
        } else if p.str("ip4") == Some("inherit") || p.str("ip6") == Some("inherit") {
            NetMode::Inherit
        } else {
            NetMode::Own
        }
    }

    /// Whether the zone gets a network namespace of its own.
    pub fn own_namespace(self) -> bool {
        self != NetMode::Inherit
    }

    /// What `zoneadm list` shows in its IP column (and
    /// `zone_getattr("network")`): `excl` for a vnet zone, `inherit` for
    /// one that shares the host's stack, `shared` for the default
    /// (illumos' name for a zone without a stack of its own to manage).
    pub fn ip_type(self) -> &'static str {
        match self {
            NetMode::Vnet => "excl",
            NetMode::Inherit => "inherit",
            NetMode::Own => "shared",
        }
    }
}

/// An error the runtime met, with the step it failed in.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{step}: {message}")]
pub struct RuntimeError {
    /// `cgroup`, `clone`, `pivot_root`, `exec init`, ...
    pub step: String,
    pub message: String,
    /// The errno behind it, when there was one.
    pub errno: Option<i32>,
}

impl RuntimeError {
    pub fn new(step: impl Into<String>, message: impl Into<String>) -> RuntimeError {
        RuntimeError {
            step: step.into(),
            message: message.into(),
            errno: None,
        }
    }
}

/// Makes zones real. Every method may block; the engine calls them from
/// blocking threads. A method that fails leaves nothing behind of what it
/// was asked to make.
pub trait Runtime: Send + Sync + 'static {
    /// Make the zone's kernel objects and start its supervisor, waiting.
    fn ready(&self, spec: &ZoneSpec) -> Result<Handle, RuntimeError>;

    /// Start init (or the jail's exec.start / command); returns the host
    /// pid of init (0 when the zone runs no init, e.g. a jail with neither).
    /// Without `start_init` the zone is only marked booted: processes that
    /// enter it later (jail(8) runs exec.start itself) make it live, and
    /// the last of them leaving makes it empty.
    fn boot(&self, spec: &ZoneSpec, handle: &Handle, start_init: bool)
    -> Result<u32, RuntimeError>;

    /// Stop every user process: SIGTERM, up to `timeout`, then SIGKILL.
    /// Returns when none is left.
    fn shutdown(&self, handle: &Handle, timeout: Duration) -> Result<(), RuntimeError>;

    /// Release what was held for the zone (mounts, addresses).
    fn down(&self, handle: &Handle) -> Result<(), RuntimeError>;

    /// End the supervisor and remove the cgroup.
    fn destroy(&self, handle: &Handle) -> Result<(), RuntimeError>;

    /// Apply changed parameters (rctls, host name) to a live zone.
    fn update(&self, handle: &Handle, changed: &Params) -> Result<(), RuntimeError>;

    /// What holds the zone in the kernel now.
    fn refs(&self, id: ZoneId, handle: &Handle) -> KernelRefs;

    /// Find a zone an earlier engine made. Events of adopted zones flow
    /// through the same channel as those of zones made here.
    fn adopt(&self, spec: &ZoneSpec, handle: &Handle) -> Adopted;

    /// The channel the runtime sends [`RuntimeEvent`]s on; called once by
    /// the engine at start.
    fn subscribe(&self, events: tokio::sync::mpsc::UnboundedSender<RuntimeEvent>);

    /// Build the root of zone `zone` for its brand at `root` (zoneadm
    /// install): a sparse skeleton, or for a whole zone the private
    /// directory an OS tree is put into. A runtime that makes no roots
    /// refuses.
    fn install(&self, zone: &str, brand: Brand, root: &Path) -> Result<(), RuntimeError> {
        let _ = (zone, brand, root);
        Err(RuntimeError::new(
            "install",
            "this runtime installs no roots",
        ))
    }

    /// Remove an installed root (zoneadm uninstall).
    fn uninstall(&self, root: &Path) -> Result<(), RuntimeError> {
        let _ = root;
        Err(RuntimeError::new(
            "uninstall",
            "this runtime installs no roots",
        ))
    }

    /// Install zone `zone` at `to` as a copy of the root `from` (zoneadm clone).
    fn clone_root(&self, zone: &str, from: &Path, to: &Path) -> Result<(), RuntimeError> {
        let _ = (zone, from, to);
        Err(RuntimeError::new("clone", "this runtime installs no roots"))
    }

    /// A nested zone's root `root`, lying under its parent's root
    /// `parent_root`, as the parent sees it: resolved inside the parent's
    /// tree, so that a link the parent zone planted cannot carry the child
    /// (or its install) out of it. The default takes the path as written.
    fn nested_root(&self, parent_root: &Path, root: &Path) -> Result<PathBuf, RuntimeError> {
        let _ = parent_root;
        Ok(root.to_path_buf())
    }

    /// Is this root installed (a directory with something in it)?
    fn is_installed(&self, root: &Path) -> bool {
        std::fs::read_dir(root).is_ok_and(|mut d| d.next().is_some())
    }

    /// What the kernel shows of zones by their predictable names (control
    /// sockets, cgroups; [`crate::state`] "The crash protocol"), to find
    /// what no record names. None by default.
    fn traces(&self) -> Vec<Trace> {
        Vec::new()
    }

    /// The trace a zone with this spec leaves, made or half made (its
    /// predictable names), whether or not anything is there.
    fn trace_of(&self, spec: &ZoneSpec) -> Trace {
        Trace {
            id: Some(spec.id),
            uniqid: spec.uniqid,
            ..Trace::default()
        }
    }

    /// Kill and remove everything of a trace: processes in its cgroups,
    /// the cgroups, the control socket file.
    fn sweep(&self, _trace: &Trace) {}

    /// A live supervisor behind a trace: its handle and the zone's
    /// parameters, to re-adopt a zone whose record was lost.
    fn rebuild(&self, _trace: &Trace) -> Option<(Handle, Params)> {
        None
    }

    /// Show each zone its own load, uptime, memory and CPUs (view.md) from
    /// this tick's counters; called by the sampler once a tick, after the
    /// counters are computed. The default shows nothing.
    fn view(&self, _zones: &[ViewTick]) {}

    /// The reader of every zone's counters for the engine's once-a-second
    /// tick ([`crate::kstat::Source`]); `None` (the default) when this
    /// runtime has no kernel to read, and the engine then does not sample.
    fn kstat_source(&self) -> Option<Box<dyn crate::kstat::Source>> {
        None
    }

    /// This process's soft limit on open descriptors (RLIMIT_NOFILE), what
    /// the API server sizes its per-user limits by ([`crate::api::Limits`]).
    fn nofile_limit(&self) -> u64 {
        1024
    }
}

/// What the kernel holds of one zone, found by name (see
/// [`Runtime::traces`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trace {
    /// The zone id (from the control socket's name), when known.
    pub id: Option<ZoneId>,
    pub uniqid: u64,
    /// The control socket file, when there is one.
    pub control: Option<std::path::PathBuf>,
    /// The zone's cgroup directories found (one per hierarchy).
    pub cgroups: Vec<std::path::PathBuf>,
    /// Host pid of a live supervisor found in those cgroups.
    pub supervisor: Option<u32>,
}

/// One zone's counters at a tick, for [`Runtime::view`].
pub struct ViewTick<'a> {
    pub handle: &'a Handle,
    pub params: &'a Params,
    pub kstat: &'a crate::snapshot::Kstat,
    /// Host pids of the zone's processes.
    pub procs: &'a [u32],
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::params;

    #[test]
    fn a_zone_gets_its_own_network_unless_it_asks_to_inherit() {
        for (args, mode, shown) in [
            (&[][..], NetMode::Own, "shared"),
            (&["ip4.addr=192.0.2.1"][..], NetMode::Own, "shared"),
            (&["ip4=disable", "ip6=disable"][..], NetMode::Own, "shared"),
            (&["ip4=new"][..], NetMode::Own, "shared"),
            (&["vnet=inherit"][..], NetMode::Own, "shared"),
            (&["ip4=inherit"][..], NetMode::Inherit, "inherit"),
            (&["ip6=inherit"][..], NetMode::Inherit, "inherit"),
            (&["vnet=new"][..], NetMode::Vnet, "excl"),
            (&["vnet=new", "ip4=inherit"][..], NetMode::Vnet, "excl"),
        ] {
            let m = NetMode::of(&params(args));
            assert_eq!(m, mode, "{args:?}");
            assert_eq!(m.ip_type(), shown, "{args:?}");
            assert_eq!(m.own_namespace(), mode != NetMode::Inherit, "{args:?}");
        }
    }
}
