//! # The registry: every zone the engine knows, and the rules of identity
//!
//! Zones are kept by uniqid (unique for all time); ids and names are looked
//! up by scanning, which is cheap at the sizes a host has (ids are bounded
//! by [`ZoneId::MAX`], and a host runs hundreds, not millions, of zones).
//!
//! * A new zone takes the lowest id from 1 to [`ZoneId::MAX`] that no zone
//!   in the registry holds — a dying zone keeps its id until it is dead —
//!   unless the caller names one. None free: EAGAIN.
//! * A zone that is dying can be *replaced*: creating a zone with its name
//!   or id takes them over, and the dying zone finishes its death under its
//!   uniqid alone, invisible to lookups and to snapshots.
//! * The global zone (id 0, uniqid 0) is always there and always running.

use super::wait::StatusCell;
use crate::param::Params;
use crate::runtime::{Handle, KernelRefs};
use crate::snapshot::{ConfiguredZone, Host, Kstat, Refs, Snapshot, Subsys, ZoneSnapshot};
use crate::zone::{Brand, Status, ZoneId, ZoneName};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// One zone in the registry.
pub(super) struct Zone {
    pub id: ZoneId,
    pub name: ZoneName,
    pub uniqid: u64,
    pub status: Status,
    pub params: Params,
    pub root: PathBuf,
    pub brand: Brand,
    /// The parent zone (global for a top-level zone).
    pub parent: ZoneId,
    pub handle: Option<Handle>,
    pub init_pid: u32,
    /// Host pid of the last init that exited (not persisted): a late
    /// answer naming it does not bring it back as init_pid.
    pub init_gone: u32,
    pub boot_time: u64,
    pub crtime: u64,
    /// Holds the engine gave out (zone_ref and the subsystem slots).
    pub holds: Refs,
    /// What the kernel holds, as last read from the runtime.
    pub kernel: KernelRefs,
    pub kstat: Kstat,
    pub procs: Vec<u32>,
    pub privileges: Vec<String>,
    /// Taken over by a newer zone with its name or id; finishing its death.
    pub replaced: bool,
    /// The sampler's load-average state, kept for durable state.
    pub kstat_state: Option<serde_json::Value>,
    pub cell: Arc<StatusCell>,
    pub op: Arc<tokio::sync::Mutex<()>>,
    /// The last snapshot of this zone, until it changes.
    pub snap: Option<Arc<ZoneSnapshot>>,
}

impl Zone {
    pub fn new(
        id: ZoneId,
        name: ZoneName,
        uniqid: u64,
        params: Params,
        parent: ZoneId,
        crtime: u64,
    ) -> Zone {
        let root = PathBuf::from(params.str("path").unwrap_or("/"));
        let brand = params
            .str("brand")
            .and_then(Brand::parse)
            .unwrap_or_default();
        Zone {
            id,
            name,
            uniqid,
            status: Status::Uninitialized,
            params,
            root,
            brand,
            parent,
            handle: None,
            init_pid: 0,
            init_gone: 0,
            boot_time: 0,
            crtime,
            holds: Refs::default(),
            kernel: KernelRefs::default(),
            kstat: Kstat::default(),
            procs: Vec::new(),
            privileges: Vec::new(),
            replaced: false,
            kstat_state: None,
            cell: Arc::new(StatusCell::new(Status::Uninitialized)),
            op: Arc::new(tokio::sync::Mutex::new(())),
            snap: None,
        }
    }

    /// A zone as an earlier engine recorded it.
    pub fn from_record(r: &crate::state::ZoneRecord) -> Zone {
        let mut z = Zone::new(
            r.id,
            r.name.clone(),
            r.uniqid,
            r.params.clone(),
            r.parent,
            r.crtime,
        );
        z.status = r.status;
        z.cell = Arc::new(StatusCell::new(r.status));
        z.handle = r.handle.clone();
        z.init_pid = r.init_pid;
        z.boot_time = r.boot_time;
        z.kstat_state = r.kstat_state.clone();
        z
    }

    pub fn to_record(&self) -> crate::state::ZoneRecord {
        crate::state::ZoneRecord {
            id: self.id,
            name: self.name.clone(),
            uniqid: self.uniqid,
            status: self.status,
            params: self.params.clone(),
            parent: self.parent,
            handle: self.handle.clone(),
            init_pid: self.init_pid,
            boot_time: self.boot_time,
            crtime: self.crtime,
            kstat_state: self.kstat_state.clone(),
            boot_id: None,
        }
    }

    /// Move the status forward (never back); waiters are woken.
    pub fn set_status(&mut self, to: Status) {
        debug_assert!(
            self.status.can_move_to(to),
            "{}: {} -> {}",
            self.name,
            self.status,
            to
        );
        if self.status.can_move_to(to) {
            self.status = to;
            self.cell.set(to);
            self.snap = None;
        }
    }

    /// All references: the engine's holds and the kernel's.
    pub fn refs(&self) -> Refs {
        let mut r = self.holds;
        r.cred_ref += self.kernel.cred;
        for s in Subsys::ALL {
            if s != Subsys::Mntfs {
                r.subsys[s as usize] += self.kernel.subsys[s as usize];
            }
        }
        r
    }

    pub fn to_snapshot(&self) -> ZoneSnapshot {
        let hostname = self
            .params
            .str("host.hostname")
            .unwrap_or(self.name.as_str())
            .to_string();
        ZoneSnapshot {
            id: self.id,
            name: self.name.clone(),
            uniqid: self.uniqid,
            status: self.status,
            root: self.root.clone(),
            brand: self.brand,
            hostname,
            parent: self.parent,
            init_pid: self.init_pid,
            zsched_pid: self.handle.as_ref().map_or(0, |h| h.zsched_pid),
            boot_time: self.boot_time,
            crtime: self.crtime,
            privileges: self.privileges.clone(),
            params: self.params.clone(),
            refs: self.refs(),
            kstat: self.kstat.clone(),
            procs: self.procs.clone(),
        }
    }
}

/// The set of zones.
pub(super) struct Registry {
    zones: BTreeMap<u64, Zone>,
    pub next_uniqid: u64,
    /// The highest id handed out (ZoneId::MAX unless the engine is told less).
    pub max_id: u32,
    pub seq: u64,
    pub configured: Vec<ConfiguredZone>,
    pub host: Host,
}

impl Registry {
    pub fn new(next_uniqid: u64) -> Registry {
        let mut global = Zone::new(
            ZoneId::GLOBAL,
            ZoneName::global(),
            0,
            Params::new(),
            ZoneId::GLOBAL,
            0,
        );
        global.status = Status::Running;
        global.cell.set(Status::Running);
        let mut zones = BTreeMap::new();
        zones.insert(0, global);
        Registry {
            zones,
            next_uniqid: next_uniqid.max(1),
            max_id: ZoneId::MAX,
            seq: 0,
            configured: Vec::new(),
            host: Host::default(),
        }
    }

    pub fn by_uniqid(&self, uniqid: u64) -> Option<&Zone> {
        self.zones.get(&uniqid)
    }

    pub fn by_uniqid_mut(&mut self, uniqid: u64) -> Option<&mut Zone> {
        self.zones.get_mut(&uniqid)
    }

    /// The zone holding `id` now (not a replaced one), dying or not.
    pub fn by_id(&self, id: ZoneId) -> Option<&Zone> {
        self.zones.values().find(|z| z.id == id && !z.replaced)
    }

    /// A zone by name: visible ones, and dying ones too when `dying`.
    pub fn by_name(&self, name: &str, dying: bool) -> Option<&Zone> {
        self.zones.values().find(|z| {
            !z.replaced
                && z.name.as_str() == name
                && z.status < Status::Dead
                && (z.status < Status::Dying || dying)
        })
    }

    /// Any zone (also uninitialized or dying) that holds this name.
    pub fn holder_of_name(&self, name: &str) -> Option<&Zone> {
        self.zones
            .values()
            .find(|z| !z.replaced && z.name.as_str() == name && z.status < Status::Dead)
    }

    pub fn zones(&self) -> impl Iterator<Item = &Zone> {
        self.zones.values()
    }

    pub fn insert(&mut self, z: Zone) {
        self.zones.insert(z.uniqid, z);
    }

    pub fn remove(&mut self, uniqid: u64) -> Option<Zone> {
        self.zones.remove(&uniqid)
    }

    /// The lowest id no zone holds (a dying zone still holds its id).
    pub fn free_id(&self) -> Option<ZoneId> {
        let mut used: Vec<u32> = self.zones.values().map(|z| z.id.0).collect();
        used.sort_unstable();
        used.dedup();
        let mut want = 1u32;
        for u in used {
            if u < want {
                continue;
            }
            if u > want {
                break;
            }
            want += 1;
        }
        (want <= self.max_id).then_some(ZoneId(want))
    }

    /// The ids of every zone below `id` in the jail tree (not itself),
    /// deepest first.
    pub fn descendants(&self, id: ZoneId) -> Vec<(ZoneId, u64)> {
        let mut out = Vec::new();
        let mut stack = vec![id];
        while let Some(p) = stack.pop() {
            for z in self.zones.values() {
                if z.parent == p && z.id != p && !z.id.is_global() && z.status < Status::Dead {
                    out.push((z.id, z.uniqid));
                    stack.push(z.id);
                }
            }
        }
        out.reverse();
        out
    }

    /// Is `id` the zone `ancestor` or below it?
    pub fn is_within(&self, id: ZoneId, ancestor: ZoneId) -> bool {
        if ancestor.is_global() {
            return true;
        }
        let mut cur = id;
        for _ in 0..=ZoneId::MAX {
            if cur == ancestor {
                return true;
            }
            match self.by_id(cur) {
                Some(z) if !z.id.is_global() => cur = z.parent,
                _ => return false,
            }
        }
        false
    }

    /// Build the snapshot of the whole registry.
    pub fn snapshot(&mut self, engine: &str) -> Snapshot {
        let mut zones: Vec<Arc<ZoneSnapshot>> = self
            .zones
            .values_mut()
            .filter(|z| !z.replaced && z.status >= Status::Initialized && z.status < Status::Dead)
            .map(super::zone_snapshot)
            .collect();
        zones.sort_by_key(|z| z.id);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Snapshot {
            seq: self.seq,
            time: now.as_secs_f64(),
            hrtime: hrtime(),
            host: self.host.clone(),
            zones,
            // Configured zones with no kernel zone now: the names held
            // collected once (as by_name(name, false) finds them), not a
            // walk of every zone per configured zone — at a thousand of
            // each, a million comparisons at every publish.
            configured: {
                let held: std::collections::HashSet<&str> = self
                    .zones
                    .values()
                    .filter(|z| !z.replaced && z.status < Status::Dying)
                    .map(|z| z.name.as_str())
                    .collect();
                self.configured
                    .iter()
                    .filter(|c| !held.contains(c.name.as_str()))
                    .cloned()
                    .collect()
            },
            engine: engine.to_string(),
        }
    }
}

/// Monotonic nanoseconds (CLOCK_MONOTONIC, like illumos gethrtime).
pub(super) fn hrtime() -> u64 {
    crate::clock::hrtime()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(reg: &mut Registry, id: u32, name: &str) -> u64 {
        let uniqid = reg.next_uniqid;
        reg.next_uniqid += 1;
        let mut z = Zone::new(
            ZoneId(id),
            ZoneName::new(name).unwrap(),
            uniqid,
            Params::new(),
            ZoneId::GLOBAL,
            0,
        );
        z.set_status(Status::Ready);
        reg.insert(z);
        uniqid
    }

    #[test]
    fn free_id_is_the_lowest_hole() {
        let mut reg = Registry::new(1);
        assert_eq!(reg.free_id(), Some(ZoneId(1)));
        zone(&mut reg, 1, "a");
        zone(&mut reg, 2, "b");
        zone(&mut reg, 4, "d");
        assert_eq!(reg.free_id(), Some(ZoneId(3)));
    }

    #[test]
    fn a_dying_zone_keeps_its_id_until_dead() {
        let mut reg = Registry::new(1);
        let u = zone(&mut reg, 1, "a");
        reg.by_uniqid_mut(u).unwrap().set_status(Status::Dying);
        assert_eq!(reg.free_id(), Some(ZoneId(2)));
        reg.remove(u);
        assert_eq!(reg.free_id(), Some(ZoneId(1)));
    }

    #[test]
    fn no_free_id_when_all_are_taken() {
        let mut reg = Registry::new(1);
        for id in 1..=ZoneId::MAX {
            let mut z = Zone::new(
                ZoneId(id),
                ZoneName::new(&format!("z{id}")).unwrap(),
                id as u64,
                Params::new(),
                ZoneId::GLOBAL,
                0,
            );
            z.status = Status::Ready;
            reg.zones.insert(id as u64, z);
        }
        assert_eq!(reg.free_id(), None);
    }
}
