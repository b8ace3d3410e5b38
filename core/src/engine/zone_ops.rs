//! # The zone family: create, boot, shutdown, halt, reboot, destroy, attributes
//!
//! | operation | from                      | to       | errors                                   |
//! |-----------|---------------------------|----------|------------------------------------------|
//! | create    | (nothing)                 | ready    | EEXIST, EINVAL, ENAMETOOLONG, EAGAIN, EPERM |
//! | boot      | ready                     | running  | EINVAL when not ready                     |
//! | shutdown  | ready, booting, running   | down     | — (a second call waits for the first)     |
//! | halt      | any live status           | gone     | — (shutdown without grace, then destroy)  |
//! | reboot    | running                   | running  | halt, then create and boot (same id if free) |
//! | destroy   | down (or dying, to retry) | gone     | EBUSY when references do not drain        |
//!
//! Each operation takes the zone's operation lock for its whole length (see
//! the engine's overview), so operations on one zone are serialised while
//! different zones proceed in parallel. A create holds the new zone's lock
//! from the moment the zone enters the registry, so nothing else acts on a
//! half-made zone. A step that fails undoes what the operation did: a
//! failed create leaves no zone, a failed boot finishes the zone.

use super::registry::{Registry, Zone, hrtime};
use super::{Caller, Engine};
use crate::error::Error;
use crate::param::{self, Mutability, Params, Value};
use crate::runtime::{Handle, RuntimeError, ZoneSpec};
use crate::zone::{Status, ZoneId, ZoneName};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::OwnedMutexGuard;

/// What a successful boot reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Booted {
    pub id: ZoneId,
    /// Host pid of the zone's init (0 when the zone runs none).
    pub init_pid: u32,
    /// From the call to running.
    pub elapsed: Duration,
}

/// Default stop.timeout (jail(8)): seconds between SIGTERM and SIGKILL.
const STOP_TIMEOUT: u64 = 10;

/// Attributes zone_setattr may change, and only while the zone is at most
/// ready (phys_mcap at any time, also on the global zone).
const SETTABLE: &[&str] = &[
    "initname",
    "initnorestart",
    "bootargs",
    "brand",
    "fs_allowed",
    "secflags",
    "capped-memory.physical",
    "sched_class",
    "host.hostid",
];

impl Engine {
    /// Create a zone and make it ready. `params` holds at least `path` (the
    /// root; default `/`, or the parent's root for a nested jail); `name`
    /// and `jid` are optional.
    pub async fn create(&self, caller: &Caller, params: Params) -> Result<ZoneId, Error> {
        self.create_zone(caller, params).await.map(|(id, _)| id)
    }

    /// The one path of zone create and jail_set(CREATE).
    pub(super) async fn create_zone(
        &self,
        caller: &Caller,
        params: Params,
    ) -> Result<(ZoneId, u64), Error> {
        caller.require_root()?;
        let (uniqid, op) = {
            let mut reg = self.inner.reg.lock().unwrap();
            admit(&mut reg, self.inner.runtime.as_ref(), caller, params)?
        };
        // Held until the zone is ready (or gone): nothing acts on it before.
        let _op = op;
        // The uniqid is spent, whatever happens next: record it first,
        // then the zone (intent before the runtime makes anything; see
        // crate::state, "The crash protocol"). A write that fails fails
        // the create, before anything was made.
        let label = self.status_of(uniqid).1;
        let recorded = self.record_next_uniqid(&label).and_then(|()| {
            crate::state::crash_point("create.uniqid");
            self.with_zone(uniqid, |z| z.set_status(Status::Initialized));
            self.record(uniqid)
        });
        if let Err(e) = recorded {
            self.bury(uniqid);
            return Err(e);
        }
        crate::state::crash_point("create.recorded");
        self.publish();
        let snap = self.zone_snap(uniqid).expect("just created");
        if let Err(e) = self.zsd_create(&snap) {
            self.bury(uniqid);
            return Err(e);
        }
        let spec = self.spec(uniqid).expect("just created");
        let rt = self.inner.runtime.clone();
        let made = tokio::task::spawn_blocking(move || rt.ready(&spec))
            .await
            .unwrap_or_else(|e| Err(RuntimeError::new("ready", e.to_string())));
        match made {
            Ok(handle) => {
                crate::state::crash_point("create.made");
                self.with_zone(uniqid, |z| {
                    z.handle = Some(handle.clone());
                    z.set_status(Status::Ready);
                });
                if let Err(e) = self.record(uniqid) {
                    // Not recorded: unmade, so nothing runs that a
                    // restart would not know of.
                    let rt = self.inner.runtime.clone();
                    let _ = tokio::task::spawn_blocking(move || rt.destroy(&handle)).await;
                    self.zsd_destroy(&snap);
                    self.bury(uniqid);
                    return Err(e);
                }
                self.publish();
                Ok((snap.id, uniqid))
            }
            Err(source) => {
                self.zsd_destroy(&snap);
                self.bury(uniqid);
                Err(Error::Runtime {
                    zone: snap.name.to_string(),
                    source,
                })
            }
        }
    }

    /// Boot a ready zone: ready → booting → running.
    pub async fn boot(&self, caller: &Caller, id: ZoneId) -> Result<Booted, Error> {
        self.boot_with(caller, id, true).await
    }

    /// Boot, starting init or not. Without init (jail(8), which runs
    /// exec.start and command itself) the zone is running from now on, and
    /// a jail that is not `persist` ends when the last process that entered
    /// it leaves.
    pub async fn boot_with(
        &self,
        caller: &Caller,
        id: ZoneId,
        start_init: bool,
    ) -> Result<Booted, Error> {
        caller.require_root()?;
        let start = Instant::now();
        let (uniqid, _op) = self.lock_zone(caller, id, false).await?;
        let (status, name) = self.status_of(uniqid);
        if status != Status::Ready {
            return Err(Error::BadState {
                zone: name,
                op: "boot".into(),
                status: status.to_string(),
            });
        }
        // Intent first: the record says booting before init starts; a
        // write that fails leaves the zone ready, and nothing started.
        // It carries the boot time too, for the case below where it stays
        // the zone's record while the zone runs.
        let started = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        self.record_as(uniqid, |r| {
            r.status = Status::Booting;
            r.boot_time = started;
        })?;
        // Whether a restart can tell running from booting by itself: it
        // finds a zone recorded booting running when an init or a user
        // process runs in it, and finishes it otherwise — what it does
        // with a zone recorded running whose init is not `persist`ent (or
        // not restarted) too. For those the running record is not written
        // (one record write less per boot); for a zone booted without init
        // or whose init is restarted, where a restart must keep a zone in
        // which nothing runs at that moment, it is.
        let derivable = {
            let p = self.with_zone(uniqid, |z| {
                (
                    z.params.bool("persist").unwrap_or(false),
                    z.params.bool("initnorestart").unwrap_or(false),
                )
            });
            start_init && p.is_some_and(|(persist, norestart)| !persist || norestart)
        };
        crate::state::crash_point("boot.recorded");
        self.with_zone(uniqid, |z| z.set_status(Status::Booting));
        self.publish();
        let spec = self.spec(uniqid).expect("locked");
        let handle = self.handle_of(uniqid);
        let rt = self.inner.runtime.clone();
        let booted = tokio::task::spawn_blocking(move || rt.boot(&spec, &handle, start_init))
            .await
            .unwrap_or_else(|e| Err(RuntimeError::new("boot", e.to_string())));
        match booted {
            Ok(init_pid) => {
                crate::state::crash_point("boot.started");
                // The time the record says (it may stay the record).
                let now = started;
                let init_pid = self
                    .with_zone(uniqid, |z| {
                        // The runtime's events may have told of this init
                        // already, or of its exit and a restart (they come
                        // on their own channel): what they said stands.
                        if z.init_pid == 0 && z.init_gone != init_pid {
                            z.init_pid = init_pid;
                        }
                        z.boot_time = now;
                        if let Some(h) = &mut z.handle {
                            h.init_pid = z.init_pid;
                        }
                        z.set_status(Status::Running);
                        z.init_pid
                    })
                    .unwrap_or(init_pid);
                let recorded = if derivable {
                    Ok(())
                } else {
                    self.record(uniqid)
                };
                if let Err(e) = recorded {
                    // Running but not recorded as such: halted, so that
                    // the boot fails whole.
                    if let Err(h) = self.halt_locked(uniqid, Duration::ZERO).await {
                        tracing::warn!(zone = %name, "halting a boot that could not be recorded: {h}");
                    }
                    return Err(e);
                }
                self.publish();
                Ok(Booted {
                    id,
                    init_pid,
                    elapsed: start.elapsed(),
                })
            }
            Err(source) => {
                // Init could not start: the zone shuts down, and since it
                // has nothing to run it is finished, leaving nothing behind.
                if let Err(e) = self.halt_locked(uniqid, Duration::ZERO).await {
                    tracing::warn!(zone = %name, "cleaning up a failed boot: {e}");
                }
                Err(Error::Runtime { zone: name, source })
            }
        }
    }

    /// Shut a zone down gracefully (SIGTERM, stop.timeout, SIGKILL) to
    /// down. Repeatable: a second call waits for the first.
    pub async fn shutdown(&self, caller: &Caller, id: ZoneId) -> Result<(), Error> {
        caller.require_root()?;
        let (uniqid, _op) = self.lock_zone(caller, id, true).await?;
        let timeout = self.with_zone(uniqid, |z| {
            z.params
                .int("stop.timeout")
                .map_or(STOP_TIMEOUT, |t| t.max(0) as u64)
        });
        self.shutdown_locked(uniqid, Duration::from_secs(timeout.unwrap_or(STOP_TIMEOUT)))
            .await
    }

    /// Halt: shut down without the graceful step, then destroy.
    pub async fn halt(&self, caller: &Caller, id: ZoneId) -> Result<(), Error> {
        caller.require_root()?;
        let (uniqid, _op) = self.lock_zone(caller, id, true).await?;
        self.halt_locked(uniqid, Duration::ZERO).await
    }

    pub(super) async fn halt_uniqid(&self, caller: &Caller, uniqid: u64) -> Result<(), Error> {
        caller.require_root()?;
        let op = {
            let reg = self.inner.reg.lock().unwrap();
            match reg.by_uniqid(uniqid) {
                Some(z) => z.op.clone(),
                None => return Ok(()),
            }
        };
        let _op = op.lock_owned().await;
        if self.inner.reg.lock().unwrap().by_uniqid(uniqid).is_none() {
            return Ok(());
        }
        self.halt_locked(uniqid, Duration::ZERO).await
    }

    /// Destroy a zone that is down (or retry one that is dying).
    pub async fn destroy(&self, caller: &Caller, id: ZoneId) -> Result<(), Error> {
        caller.require_root()?;
        let (uniqid, _op) = self.lock_zone(caller, id, true).await?;
        let (status, name) = self.status_of(uniqid);
        if status < Status::Down {
            return Err(Error::BadState {
                zone: name,
                op: "destroy".into(),
                status: status.to_string(),
            });
        }
        self.destroy_locked(uniqid).await
    }

    /// Reboot a running zone: halt, then create and boot it again with the
    /// same parameters, and the same id when it is still free.
    pub async fn reboot(&self, caller: &Caller, id: ZoneId) -> Result<Booted, Error> {
        caller.require_root()?;
        let start = Instant::now();
        let params = {
            let (uniqid, _op) = self.lock_zone(caller, id, false).await?;
            let (status, name) = self.status_of(uniqid);
            if status != Status::Running {
                return Err(Error::BadState {
                    zone: name,
                    op: "reboot".into(),
                    status: status.to_string(),
                });
            }
            let params = self
                .with_zone(uniqid, |z| z.params.clone())
                .unwrap_or_default();
            self.halt_locked(uniqid, Duration::ZERO).await?;
            params
        };
        let mut params = params;
        if self.inner.reg.lock().unwrap().by_id(id).is_some() {
            params.remove("jid");
        }
        let new_id = self.create(caller, params).await?;
        let mut booted = self.boot(caller, new_id).await?;
        booted.elapsed = start.elapsed();
        Ok(booted)
    }

    /// Read an attribute (zone_getattr): any parameter by any of its names,
    /// and the attributes the engine keeps.
    pub fn getattr(&self, caller: &Caller, id: ZoneId, attr: &str) -> Result<Value, Error> {
        let reg = self.inner.reg.lock().unwrap();
        let z = reg
            .by_id(id)
            .filter(|z| z.status.is_visible() && reg.is_within(z.id, caller.zone))
            .ok_or(Error::NoSuchId(id.0))?;
        let canonical = param::lookup(attr).map_or(attr, |s| s.name);
        let v = match canonical {
            "name" => Value::Str(z.name.to_string()),
            "path" => Value::Str(z.root.display().to_string()),
            "status" => Value::Str(z.status.to_string()),
            "privset" => Value::List(z.privileges.clone()),
            "uniqid" => Value::Int(z.uniqid as i64),
            "initpid" => Value::Int(z.init_pid as i64),
            "brand" => Value::Str(z.brand.to_string()),
            "flags" => Value::Int(0),
            "jid" => Value::Int(z.id.0 as i64),
            "parent" => Value::Int(z.parent.0 as i64),
            "network" | "vnet" => {
                Value::Str(crate::runtime::NetMode::of(&z.params).ip_type().into())
            }
            "initnorestart" => Value::Bool(z.params.bool("initnorestart").unwrap_or(false)),
            "initname" => Value::Str(z.params.str("initname").unwrap_or("/sbin/init").into()),
            "host.hostname" => Value::Str(
                z.params
                    .str("host.hostname")
                    .unwrap_or(z.name.as_str())
                    .into(),
            ),
            other => {
                let spec = param::lookup(other).ok_or_else(|| Error::Param {
                    zone: z.name.to_string(),
                    source: param::ParamError::Unknown(attr.to_string()),
                })?;
                match z.params.get(spec.name) {
                    Some(v) => v.clone(),
                    None => Value::empty(spec.kind),
                }
            }
        };
        Ok(v)
    }

    /// Change an attribute (zone_setattr): only while the zone is at most
    /// ready, except capped-memory.physical (phys_mcap), which may change at
    /// any time and is the only one the global zone takes.
    pub async fn setattr(
        &self,
        caller: &Caller,
        id: ZoneId,
        attr: &str,
        value: Value,
    ) -> Result<(), Error> {
        caller.require_root()?;
        let spec = param::lookup(attr).ok_or_else(|| Error::Param {
            zone: id.to_string(),
            source: param::ParamError::Unknown(attr.to_string()),
        })?;
        let mcap = spec.name == "capped-memory.physical";
        if id.is_global() && !mcap {
            return Err(Error::Global("given this attribute".into()));
        }
        let (handle, changed) = {
            let mut reg = self.inner.reg.lock().unwrap();
            let uniqid = reg
                .by_id(id)
                .filter(|z| z.status.is_visible())
                .map(|z| z.uniqid)
                .ok_or(Error::NoSuchId(id.0))?;
            let z = reg.by_uniqid_mut(uniqid).expect("found");
            if !SETTABLE.contains(&spec.name) {
                return Err(Error::ReadOnly {
                    zone: z.name.to_string(),
                    param: attr.to_string(),
                });
            }
            if !mcap && z.status > Status::Ready {
                return Err(Error::BadState {
                    zone: z.name.to_string(),
                    op: "set attributes of".into(),
                    status: z.status.to_string(),
                });
            }
            let (_, value) =
                param::typed(spec.name, &value.as_list()).map_err(|source| Error::Param {
                    zone: z.name.to_string(),
                    source,
                })?;
            z.params.insert(spec.name, value.clone());
            if spec.name == "brand" {
                z.brand = value
                    .as_str()
                    .and_then(crate::zone::Brand::parse)
                    .unwrap_or_default();
            }
            z.snap = None;
            let mut changed = Params::new();
            changed.insert(spec.name, value);
            (z.handle.clone(), changed)
        };
        self.persist_id(id);
        if let Some(h) = handle {
            let rt = self.inner.runtime.clone();
            let name = id.to_string();
            tokio::task::spawn_blocking(move || rt.update(&h, &changed))
                .await
                .unwrap_or_else(|e| Err(RuntimeError::new("update", e.to_string())))
                .map_err(|source| Error::Runtime { zone: name, source })?;
        }
        self.publish();
        Ok(())
    }

    /// The ids of the zones the caller may see (zone_list): every visible
    /// zone for the global zone; only its own zone for a non-global caller.
    pub fn list(&self, caller: &Caller) -> Vec<ZoneId> {
        let reg = self.inner.reg.lock().unwrap();
        let mut ids: Vec<ZoneId> = reg
            .zones()
            .filter(|z| !z.replaced && z.status.is_visible())
            .filter(|z| caller.zone.is_global() || z.id == caller.zone)
            .map(|z| z.id)
            .collect();
        ids.sort();
        ids
    }

    /// The id of a visible zone by name (zone_lookup).
    pub fn lookup(&self, caller: &Caller, name: &str) -> Result<ZoneId, Error> {
        let reg = self.inner.reg.lock().unwrap();
        reg.by_name(name, false)
            .filter(|z| z.status.is_visible())
            .filter(|z| caller.zone.is_global() || z.id == caller.zone)
            .map(|z| z.id)
            .ok_or_else(|| Error::NoSuchZone(name.to_string()))
    }

    // ---- the locked steps -------------------------------------------------

    /// Find a zone by id and take its operation lock. `dying` also finds a
    /// zone that is dying (to halt or destroy it again).
    pub(super) async fn lock_zone(
        &self,
        caller: &Caller,
        id: ZoneId,
        dying: bool,
    ) -> Result<(u64, OwnedMutexGuard<()>), Error> {
        if id.is_global() {
            return Err(Error::Global("changed".into()));
        }
        let (uniqid, op) = {
            let reg = self.inner.reg.lock().unwrap();
            let z = reg
                .by_id(id)
                .filter(|z| {
                    z.status >= Status::Initialized
                        && z.status < Status::Dead
                        && (dying || z.status < Status::Dying)
                        && reg.is_within(z.id, caller.zone)
                })
                .ok_or(Error::NoSuchZone(id.to_string()))?;
            (z.uniqid, z.op.clone())
        };
        let guard = op.lock_owned().await;
        // The zone may have gone while we waited for its lock.
        if self.inner.reg.lock().unwrap().by_uniqid(uniqid).is_none() {
            return Err(Error::NoSuchZone(id.to_string()));
        }
        Ok((uniqid, guard))
    }

    pub(super) async fn shutdown_locked(
        &self,
        uniqid: u64,
        timeout: Duration,
    ) -> Result<(), Error> {
        self.shutdown_then(uniqid, timeout, false).await.map(|_| ())
    }

    /// Shut down to down and, with `destroy`, go on in the same trip to
    /// the blocking pool with destroy's common case (dying, the first look
    /// at the references, and when nothing holds the zone the subsystems'
    /// destroy and the runtime's): a halt is one trip there, not two, and
    /// the steps and crash points are those of shutdown then destroy, in
    /// that order. True when the zone was destroyed; false when destroy is
    /// still to do ([`Engine::destroy_locked`]: it waits for the drain).
    async fn shutdown_then(
        &self,
        uniqid: u64,
        timeout: Duration,
        destroy: bool,
    ) -> Result<bool, Error> {
        let (status, name) = self.status_of(uniqid);
        if status >= Status::Down {
            return Ok(false);
        }
        if status < Status::Ready {
            return Err(Error::BadState {
                zone: name,
                op: "shut down".into(),
                status: status.to_string(),
            });
        }
        if status < Status::ShuttingDown {
            self.set_status(uniqid, Status::ShuttingDown);
        }
        crate::state::crash_point("halt.shutting");
        if let Some(snap) = self.zone_snap(uniqid) {
            self.zsd_shutdown(&snap);
        }
        let handle = self.handle_of(uniqid);
        // Shutdown and down in one trip to the blocking pool, not one
        // each: the status steps between them take only the registry
        // lock (and no record: set_status), as the async side would.
        let rt = self.inner.runtime.clone();
        let engine = self.clone();
        tokio::task::spawn_blocking(move || {
            if status < Status::Empty {
                rt.shutdown(&handle, timeout)?;
                engine.set_status(uniqid, Status::Empty);
            }
            crate::state::crash_point("halt.empty");
            rt.down(&handle)?;
            engine.set_status(uniqid, Status::Down);
            crate::state::crash_point("halt.down");
            if !destroy {
                return Ok(false);
            }
            engine.set_status(uniqid, Status::Dying);
            crate::state::crash_point("destroy.dying");
            engine.destroy_if_drained(rt.as_ref(), uniqid, &handle)
        })
        .await
        .unwrap_or_else(|e| Err(RuntimeError::new("down", e.to_string())))
        .map_err(|source| Error::Runtime { zone: name, source })
    }

    pub(super) async fn halt_locked(&self, uniqid: u64, timeout: Duration) -> Result<(), Error> {
        let (status, _) = self.status_of(uniqid);
        if status < Status::Ready {
            // Never made real: nothing to stop.
            self.bury(uniqid);
            return Ok(());
        }
        if self.shutdown_then(uniqid, timeout, true).await? {
            crate::state::crash_point("destroy.ended");
            self.bury(uniqid);
            return Ok(());
        }
        self.destroy_locked(uniqid).await
    }

    pub(super) async fn destroy_locked(&self, uniqid: u64) -> Result<(), Error> {
        let (status, name) = self.status_of(uniqid);
        if status == Status::Down {
            self.set_status(uniqid, Status::Dying);
        }
        crate::state::crash_point("destroy.dying");
        let handle = self.handle_of(uniqid);
        // The common case in one trip to the blocking pool: the first look
        // at what holds the zone and, when nothing does, the subsystems'
        // destroy and the runtime's, in the order the slow path keeps.
        let engine = self.clone();
        let rt = self.inner.runtime.clone();
        let h = handle.clone();
        let done =
            tokio::task::spawn_blocking(move || engine.destroy_if_drained(rt.as_ref(), uniqid, &h))
                .await
                .unwrap_or_else(|e| Err(RuntimeError::new("destroy", e.to_string())))
                .map_err(|source| Error::Runtime {
                    zone: name.clone(),
                    source,
                })?;
        if !done {
            self.drain(uniqid).await?;
            if let Some(snap) = self.zone_snap(uniqid) {
                self.zsd_destroy(&snap);
            }
            let rt = self.inner.runtime.clone();
            self.blocking(&name, "destroy", move || rt.destroy(&handle))
                .await?;
        }
        crate::state::crash_point("destroy.ended");
        self.bury(uniqid);
        Ok(())
    }

    // ---- small helpers ----------------------------------------------------

    async fn blocking(
        &self,
        zone: &str,
        step: &'static str,
        f: impl FnOnce() -> Result<(), RuntimeError> + Send + 'static,
    ) -> Result<(), Error> {
        tokio::task::spawn_blocking(f)
            .await
            .unwrap_or_else(|e| Err(RuntimeError::new(step, e.to_string())))
            .map_err(|source| Error::Runtime {
                zone: zone.to_string(),
                source,
            })
    }

    pub(super) fn with_zone<T>(&self, uniqid: u64, f: impl FnOnce(&mut Zone) -> T) -> Option<T> {
        let mut reg = self.inner.reg.lock().unwrap();
        reg.by_uniqid_mut(uniqid).map(f)
    }

    /// Move a zone to `to`, record and publish it. On the way down only
    /// the first step is written: a restart treats every status from
    /// shutting_down to dying alike (it halts the zone again, each runtime
    /// step idempotent: persist.rs, `restore_record`), so once the record
    /// says shutting_down (or later), writing empty, down and dying after
    /// it would change nothing a restart does — three record writes a
    /// halt saved.
    pub(super) fn set_status(&self, uniqid: u64, to: Status) {
        let from = self.with_zone(uniqid, |z| {
            let from = z.status;
            z.set_status(to);
            from
        });
        if from.is_some_and(|f| f < Status::ShuttingDown || to < Status::ShuttingDown) {
            self.persist(uniqid);
        }
        self.publish();
    }

    fn status_of(&self, uniqid: u64) -> (Status, String) {
        self.with_zone(uniqid, |z| (z.status, z.name.to_string()))
            .unwrap_or((Status::Dead, uniqid.to_string()))
    }

    /// On the blocking pool, the end of a halt-and-destroy and of a
    /// destroy: when nothing holds the zone any more, the subsystems'
    /// destroy, then the runtime's. `Ok(false)` when something still holds
    /// it (the caller takes the slow path that waits for the holds).
    fn destroy_if_drained(
        &self,
        rt: &dyn crate::runtime::Runtime,
        uniqid: u64,
        handle: &Handle,
    ) -> Result<bool, RuntimeError> {
        if !self.drained_now(uniqid) {
            return Ok(false);
        }
        if let Some(snap) = self.zone_snap(uniqid) {
            self.zsd_destroy(&snap);
        }
        rt.destroy(handle).map(|()| true)
    }

    fn handle_of(&self, uniqid: u64) -> Handle {
        self.with_zone(uniqid, |z| z.handle.clone().unwrap_or_default())
            .unwrap_or_default()
    }

    pub(super) fn zone_snap(
        &self,
        uniqid: u64,
    ) -> Option<std::sync::Arc<crate::snapshot::ZoneSnapshot>> {
        self.with_zone(uniqid, super::zone_snapshot)
    }

    fn spec(&self, uniqid: u64) -> Option<ZoneSpec> {
        let reg = self.inner.reg.lock().unwrap();
        let z = reg.by_uniqid(uniqid)?;
        let parent = if z.parent.is_global() {
            None
        } else {
            reg.by_id(z.parent).and_then(|p| p.handle.clone())
        };
        Some(ZoneSpec {
            id: z.id,
            name: z.name.clone(),
            uniqid: z.uniqid,
            root: z.root.clone(),
            brand: z.brand,
            params: z.params.clone(),
            parent,
        })
    }

    /// The zone is dead: wake every waiter and forget it.
    pub(super) fn bury(&self, uniqid: u64) {
        {
            let mut reg = self.inner.reg.lock().unwrap();
            if let Some(mut z) = reg.remove(uniqid) {
                z.set_status(Status::Dead);
            }
        }
        self.unpersist(uniqid);
        self.publish();
    }
}

/// Check a create against the registry and enter the new zone,
/// uninitialized, with its operation lock already taken.
fn admit(
    reg: &mut Registry,
    runtime: &dyn crate::runtime::Runtime,
    caller: &Caller,
    mut params: Params,
) -> Result<(u64, OwnedMutexGuard<()>), Error> {
    let label = params
        .str("name")
        .map(str::to_string)
        .or_else(|| params.int("jid").map(|j| j.to_string()))
        .unwrap_or_else(|| "(new)".to_string());
    for (k, _) in params.iter() {
        // A name in no parameter table is refused, as jail(2) refuses it
        // (EINVAL): a misspelled rctl must not make a zone without it.
        let Some(spec) = param::lookup(k) else {
            return Err(Error::Param {
                zone: label,
                source: param::ParamError::Unknown(k.to_string()),
            });
        };
        if spec.mutability == Mutability::ReadOnly {
            return Err(Error::ReadOnly {
                zone: label,
                param: k.to_string(),
            });
        }
    }
    let jid = params
        .int("jid")
        .filter(|j| *j != 0)
        .map(|j| ZoneId(j as u32));
    // A caller inside a zone creates below it: its name is the prefix.
    let prefix = if caller.zone.is_global() {
        None
    } else {
        Some(
            reg.by_id(caller.zone)
                .ok_or(Error::NoSuchZone(caller.zone.to_string()))?
                .name
                .to_string(),
        )
    };
    let full = |n: &str| {
        prefix
            .as_ref()
            .map_or(n.to_string(), |p| format!("{p}.{n}"))
    };
    let asked_name = params.str("name").map(full);
    if let Some(n) = &asked_name {
        ZoneName::new(n)?;
    }
    // Replace a dying zone with the same name or id; refuse a live one.
    let mut replace = Vec::new();
    if let Some(n) = &asked_name
        && let Some(z) = reg.holder_of_name(n)
    {
        if z.status < Status::Dying {
            return Err(Error::Exists(n.clone()));
        }
        replace.push(z.uniqid);
    }
    if let Some(j) = jid
        && let Some(z) = reg.by_id(j).filter(|z| z.status < Status::Dead)
    {
        if z.status < Status::Dying {
            return Err(Error::Exists(j.to_string()));
        }
        replace.push(z.uniqid);
    }
    let id = match jid {
        Some(j) => j,
        None => reg.free_id().ok_or(Error::NoFreeId)?,
    };
    let name = match asked_name {
        Some(n) => ZoneName::new(&n)?,
        None => ZoneName::new(&full(&id.to_string()))?,
    };
    // The parent: the zone named by the name's prefix.
    let parent = match name.parent() {
        None => None,
        Some(p) => Some(
            reg.by_name(p, false)
                .filter(|z| z.status.is_visible())
                .ok_or_else(|| Error::NoParent {
                    zone: name.to_string(),
                    parent: p.to_string(),
                })?,
        ),
    };
    let parent_id = parent.map_or(ZoneId::GLOBAL, |p| p.id);
    // children.max holds at every level above the new zone.
    let mut anc = parent_id;
    while !anc.is_global() {
        let a = reg.by_id(anc).expect("ancestor exists");
        let max = a.params.int("children.max").unwrap_or(0).max(0) as u64;
        let cur = reg.descendants(anc).len() as u64;
        if cur + 1 > max {
            return Err(Error::ChildrenMax {
                parent: a.name.to_string(),
                max,
            });
        }
        anc = a.parent;
    }
    // The root: absolute; a child's is its parent's by default and must lie
    // under it, resolved from it (links followed inside the parent's root).
    let parent_root = parent.map_or_else(|| Path::new("/").to_path_buf(), |p| p.root.clone());
    let root = params
        .str("path")
        .map_or_else(|| parent_root.clone(), |p| Path::new(p).to_path_buf());
    if !root.is_absolute() {
        return Err(Error::BadRoot {
            zone: name.to_string(),
            message: format!("path {} is not absolute", root.display()),
        });
    }
    let root = match parent {
        Some(p) => {
            check_restrictive(&name, &params, &root, p)?;
            // Beneath the parent's root every name is the parent zone's to
            // change: resolve the child's root inside it, as the parent
            // sees it, so a link there cannot carry the child (or its
            // install) out of the parent's tree.
            runtime
                .nested_root(&p.root, &root)
                .map_err(|e| Error::BadRoot {
                    zone: name.to_string(),
                    message: format!("path {}: {}", root.display(), e.message),
                })?
        }
        None => root,
    };
    params.insert("path", Value::Str(root.display().to_string()));
    params.insert("name", Value::Str(name.to_string()));
    params.insert("jid", Value::Int(id.0 as i64));
    // network.md: no two live zones hold one address.
    let live = reg
        .zones()
        .filter(|z| z.status < Status::Dying && !replace.contains(&z.uniqid));
    if let Some(m) = crate::runtime::netcfg::address_conflict(
        name.as_str(),
        &params,
        live.map(|z| (z.name.as_str(), &z.params)),
    ) {
        return Err(Error::Runtime {
            zone: name.to_string(),
            source: RuntimeError {
                step: "net".into(),
                message: m,
                errno: Some(crate::errno::EADDRINUSE),
            },
        });
    }
    // Every check passed: only now take over from the dying zones.
    for u in &replace {
        if let Some(z) = reg.by_uniqid_mut(*u) {
            z.replaced = true;
            z.snap = None;
        }
    }
    let uniqid = reg.next_uniqid;
    reg.next_uniqid += 1;
    let zone = Zone::new(id, name, uniqid, params, parent_id, hrtime());
    let guard = zone
        .op
        .clone()
        .try_lock_owned()
        .expect("a new zone's lock is free");
    reg.insert(zone);
    Ok((uniqid, guard))
}

/// jail(2)'s EPERM: a child may not be given more than its parent has.
pub(super) fn check_restrictive(
    name: &ZoneName,
    params: &Params,
    root: &Path,
    parent: &Zone,
) -> Result<(), Error> {
    let refuse = |param: &str| {
        Err(Error::LessRestrictive {
            zone: name.to_string(),
            param: param.to_string(),
        })
    };
    if !root.starts_with(&parent.root) {
        return refuse("path");
    }
    for (k, v) in params.iter() {
        if k.starts_with("allow.")
            && v.as_bool() == Some(true)
            && parent.params.bool(k) != Some(true)
        {
            return refuse(k);
        }
    }
    for k in ["enforce_statfs", "securelevel"] {
        if let (Some(c), Some(p)) = (params.int(k), parent.params.int(k))
            && c < p
        {
            return refuse(k);
        }
    }
    // A child's links are made on its parent's (network.md): it may hold
    // only addresses its parent holds.
    if let Some(k) = crate::runtime::netcfg::beyond_parent(params, &parent.params) {
        return refuse(k);
    }
    Ok(())
}
