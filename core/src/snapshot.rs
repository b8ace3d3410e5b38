//! # Snapshots: what every front-end sees
//!
//! The engine publishes one immutable [`Snapshot`] after every change of the
//! registry and after every sampler tick. ztop draws it, zonefs serves it,
//! kstat/jls/zoneadm print it and the metrics endpoint exports it. A
//! front-end never computes a counter itself and never reads the kernel:
//! it shows a snapshot. Snapshots are cheap to share (`Arc`) and cheap to
//! compare (`seq` grows by one per publication; a zone's entry is an `Arc`
//! that is reused when the zone did not change, so `Arc::ptr_eq` tells a
//! front-end which zones to redraw or invalidate).

use crate::param::{Params, RCTLS};
use crate::zone::{AdminState, Brand, Status, ZoneId, ZoneName};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;

/// "Unlimited" in a kstat `value` (UINT64_MAX).
pub const UNLIMITED: u64 = u64::MAX;

/// All zones at one instant.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Snapshot {
    /// Grows by one with every snapshot an engine publishes.
    pub seq: u64,
    /// Wall clock of the snapshot, seconds since the epoch (mtime in zonefs).
    pub time: f64,
    /// Monotonic time of the snapshot in ns (kstat `snaptime`).
    pub hrtime: u64,
    pub host: Host,
    /// Kernel zones, ordered by id; the global zone is first.
    pub zones: Vec<Arc<ZoneSnapshot>>,
    /// Configured zones that have no kernel zone now (configured/installed).
    pub configured: Vec<ConfiguredZone>,
    /// Where this snapshot comes from: the daemon's socket, or `embedded`.
    pub engine: String,
}

impl Snapshot {
    pub fn zone(&self, id: ZoneId) -> Option<&Arc<ZoneSnapshot>> {
        self.zones
            .binary_search_by_key(&id, |z| z.id)
            .ok()
            .map(|i| &self.zones[i])
    }

    pub fn zone_by_name(&self, name: &str) -> Option<&Arc<ZoneSnapshot>> {
        self.zones
            .iter()
            .find(|z| z.name.as_str() == name && z.status < Status::Dying)
    }

    /// Zones counted by administrative state, for headers
    /// (`4 running, 1 installed, 1 configured`).
    pub fn count_by_state(&self) -> Vec<(AdminState, usize)> {
        let mut counts: std::collections::BTreeMap<AdminState, usize> = Default::default();
        for z in &self.zones {
            *counts.entry(z.status.admin()).or_default() += 1;
        }
        for c in &self.configured {
            *counts.entry(c.state).or_default() += 1;
        }
        counts.into_iter().collect()
    }
}

/// The host, for headers (sysinfo reads these).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Host {
    pub hostname: String,
    pub uptime_secs: u64,
    /// /proc/loadavg's three numbers.
    pub loadavg: [f64; 3],
    pub cpus: u32,
    pub mem_total: u64,
    pub mem_used: u64,
    pub swap_total: u64,
    pub swap_used: u64,
}

/// A configured zone with no kernel zone.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ConfiguredZone {
    pub name: ZoneName,
    pub root: PathBuf,
    pub brand: Brand,
    /// Configured or installed.
    pub state: AdminState,
    pub params: Params,
}

/// One kernel zone.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ZoneSnapshot {
    pub id: ZoneId,
    pub name: ZoneName,
    pub uniqid: u64,
    pub status: Status,
    pub root: PathBuf,
    pub brand: Brand,
    pub hostname: String,
    /// The parent zone's id (0 for a top-level zone).
    pub parent: ZoneId,
    /// Host pid of the zone's init (0 when none).
    pub init_pid: u32,
    /// Host pid of the zone's supervisor, zsched (0 when none).
    pub zsched_pid: u32,
    /// Seconds since the epoch of the last boot (0 when never booted).
    pub boot_time: u64,
    /// Monotonic ns when the zone was created (kstat `crtime`).
    pub crtime: u64,
    /// Capabilities in the zone's set, one name each (`cap_chown`, ...).
    pub privileges: Vec<String>,
    pub params: Params,
    pub refs: Refs,
    pub kstat: Kstat,
    /// Host pids of the zone's processes, ascending.
    pub procs: Vec<u32>,
}

impl ZoneSnapshot {
    /// The limit of an rctl, or [`UNLIMITED`].
    pub fn rctl(&self, rctl: &str) -> u64 {
        self.params
            .int(rctl)
            .and_then(|v| u64::try_from(v).ok())
            .unwrap_or(UNLIMITED)
    }

    /// Every rctl that is set, with its limit.
    pub fn rctls(&self) -> Vec<(&'static str, u64)> {
        RCTLS
            .iter()
            .filter_map(|r| self.params.int(r).map(|v| (*r, v.max(0) as u64)))
            .collect()
    }

    pub fn persist(&self) -> bool {
        self.params.bool("persist").unwrap_or(false)
    }
}

/// The reference counts of a zone (lifecycle.md "References").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refs {
    pub zone_ref: u64,
    pub cred_ref: u64,
    pub subsys: [u64; Subsys::COUNT],
}

impl Refs {
    pub fn get(&self, s: Subsys) -> u64 {
        self.subsys[s as usize]
    }
    pub fn is_drained(&self) -> bool {
        self.zone_ref == 0 && self.cred_ref == 0 && self.subsys.iter().all(|c| *c == 0)
    }
}

/// The subsystems that hold a zone (illumos zone_ref_subsys_t).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Subsys {
    Nfs = 0,
    Nfsv4,
    Smbfs,
    Mntfs,
    Lofi,
    Vfs,
    Ipc,
}

impl Subsys {
    pub const COUNT: usize = 7;
    pub const ALL: [Subsys; Subsys::COUNT] = [
        Subsys::Nfs,
        Subsys::Nfsv4,
        Subsys::Smbfs,
        Subsys::Mntfs,
        Subsys::Lofi,
        Subsys::Vfs,
        Subsys::Ipc,
    ];

    /// The name zonefs (`refs/subsys/NAME`) and the refcount log use.
    pub fn as_str(self) -> &'static str {
        match self {
            Subsys::Nfs => "NFS",
            Subsys::Nfsv4 => "NFSv4",
            Subsys::Smbfs => "SMBFS",
            Subsys::Mntfs => "MNTFS",
            Subsys::Lofi => "LOFI",
            Subsys::Vfs => "VFS",
            Subsys::Ipc => "IPC",
        }
    }
}

/// The counters of one zone at one tick (kstat.md). All zero until the
/// sampler has read the zone once.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Kstat {
    /// Processes (thread groups): caps nprocs usage.
    pub nprocs: u64,
    /// Threads (pids.current): ours, not illumos'.
    pub nlwps: u64,
    /// Σ VmLck: caps lockedmem usage, bytes.
    pub lockedmem: u64,
    /// anon + shmem + swapped: caps swapresv usage, bytes.
    pub swapresv: u64,
    /// Load averages, fixed point ×256 (FSCALE).
    pub avenrun: [u32; 3],
    pub nsec_user: u64,
    pub nsec_sys: u64,
    pub nsec_waitrq: u64,
    pub forkfail_cap: u64,
    pub forkfail_noproc: u64,
    pub forkfail_nomem: u64,
    pub forkfail_misc: u64,
    /// The zone's working set: memory charged to its cgroup minus inactive
    /// file cache; the global zone's is the host's MemTotal − MemAvailable
    /// minus the zones', bytes.
    pub mem_usage: u64,
    /// Σ RSS of the zone's processes, bytes.
    pub rss: u64,
    /// CPU over the last tick, percent of one CPU... of the host (100 × ncpu max).
    pub cpu_pct: f64,
    /// CPU over the last tick as a percent of zone.cpu-cap, when capped.
    pub cpu_cap_pct: Option<f64>,
    /// PSI some/full avg10 for cpu, memory, io, when the kernel has it.
    pub psi: Option<Psi>,
    /// Monotonic ns of the sample (kstat `snaptime`).
    pub snaptime: u64,
    /// The zone's interfaces and their counters ([`crate::kstat::link`]).
    #[serde(default)]
    pub links: Vec<crate::kstat::link::LinkStat>,
}

/// Pressure stall information (avg10, percent).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Psi {
    pub cpu_some: f64,
    pub memory_some: f64,
    pub memory_full: f64,
    pub io_some: f64,
    pub io_full: f64,
}
