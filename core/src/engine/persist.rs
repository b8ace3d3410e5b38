//! # Durable records and re-adoption
//!
//! Every change of a zone that a later engine must know — its creation,
//! each status a restart would act on differently (state.rs says which),
//! its handle, parameters — is written to the state directory before the
//! operation returns ([`crate::state`]: a
//! temporary file renamed over the record, not fsync'ed — state.rs says
//! why). Writes are serialised by one mutex (the store lock, engine
//! module's "Locking") and each
//! write takes the zone's state at that moment, so the last record on disk
//! is the newest.
//!
//! Two kinds of write: [`Engine::record`] on the way up (create, ready,
//! boot) fails the operation when the write fails — the caller undoes
//! what it did, so nothing runs that a restart would not know of — and
//! [`Engine::persist`] on the way down and for counters only warns (a
//! later engine finishes a zone that is going down anyway). Intent comes
//! first where the kernel cannot tell it: [`Engine::record_as`] writes a
//! status (booting) before the step it announces, and before the
//! registry moves to it.
//!
//! [`Engine::restore`] is the other half, following the protocol in
//! [`crate::state`] ("The crash protocol"): the readable records, the
//! damaged ones named, the kernel's traces of zones (cgroups and control
//! sockets named by uniqid) read once; the next uniqid set above all of
//! them. Then each record:
//!
//! * without a handle (its creation never returned): what the runtime may
//!   have made is found by its names and removed, with the record;
//! * with a live supervisor: re-entered in the registry with its id,
//!   uniqid, status and current init pid; a zone caught booting becomes
//!   running when an init or a user process runs, and is finished
//!   otherwise; one on its way down is finished (when that fails, it is
//!   kept, dying, and the engine starts anyway);
//! * with a dead supervisor: cleaned by the runtime and its record removed.
//!
//! Last, a trace no record names (its record was damaged or removed): a
//! live zsched behind it is asked for the zone's parameters and the zone
//! re-adopted as running (or ready, when nothing runs in it); a dead one
//! is swept. A live zsched that does not answer is left alone, never
//! killed.

use super::registry::Zone;
use super::{Caller, Engine};
use crate::error::Error;
use crate::runtime::{Adopted, Handle, RuntimeError, Trace, ZoneSpec};
use crate::state::ZoneRecord;
use crate::zone::{Status, ZoneId, ZoneName};
use std::collections::BTreeSet;

/// What [`Engine::restore`] did with each recorded zone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Restored {
    /// Re-adopted, still live.
    pub adopted: Vec<ZoneId>,
    /// Found dead (or on their way down) and finished.
    pub finished: Vec<ZoneId>,
    /// Half made (no handle) or left by no record, and swept.
    pub swept: Vec<u64>,
    /// One message per damaged state file, naming it.
    pub damaged: Vec<String>,
}

/// A state write that failed, as the operation's error: the message
/// names the file (the store's errors do), the errno is kept.
pub(super) fn state_error(zone: &str, e: std::io::Error) -> Error {
    let errno = e.raw_os_error().or(match e.kind() {
        std::io::ErrorKind::StorageFull => Some(crate::errno::ENOSPC),
        std::io::ErrorKind::ReadOnlyFilesystem => Some(crate::errno::EROFS),
        std::io::ErrorKind::QuotaExceeded => Some(crate::errno::EDQUOT),
        std::io::ErrorKind::PermissionDenied => Some(crate::errno::EACCES),
        _ => Some(crate::errno::EIO),
    });
    Error::Runtime {
        zone: zone.to_string(),
        source: RuntimeError {
            step: "state".into(),
            message: e.to_string(),
            errno,
        },
    }
}

impl Engine {
    /// Write a zone's record as the registry has it; warn on failure (at
    /// most once a minute: the sampler saves every zone's load averages
    /// every 10 s, and a full disk would otherwise flood the log).
    pub(super) fn persist(&self, uniqid: u64) {
        use std::sync::atomic::{AtomicU64, Ordering};
        static LAST: AtomicU64 = AtomicU64::new(0);
        static QUIET: AtomicU64 = AtomicU64::new(0);
        if let Err(e) = self.record(uniqid) {
            let now = super::registry::hrtime() / 1_000_000_000;
            let last = LAST.load(Ordering::Relaxed);
            if last == 0 || now >= last + 60 {
                LAST.store(now.max(1), Ordering::Relaxed);
                let quiet = QUIET.swap(0, Ordering::Relaxed);
                tracing::error!(
                    "saving a zone's state: {e}{}",
                    if quiet > 0 {
                        format!(" ({quiet} more such failures in the last minute)")
                    } else {
                        String::new()
                    }
                );
            } else {
                QUIET.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Write a zone's record as the registry has it; the error names the
    /// file (module comment).
    pub(super) fn record(&self, uniqid: u64) -> Result<(), Error> {
        self.record_as(uniqid, |_| {})
    }

    /// Write a zone's record as the registry has it, changed by `f` (a
    /// status announced before the registry moves to it).
    pub(super) fn record_as(
        &self,
        uniqid: u64,
        f: impl FnOnce(&mut ZoneRecord),
    ) -> Result<(), Error> {
        let Some(store) = &self.inner.store else {
            return Ok(());
        };
        let _w = self.inner.store_lock.lock().unwrap();
        let mut rec = {
            let reg = self.inner.reg.lock().unwrap();
            match reg.by_uniqid(uniqid) {
                Some(z) if z.status >= Status::Initialized && !z.id.is_global() => z.to_record(),
                _ => return Ok(()),
            }
        };
        f(&mut rec);
        store
            .save_zone(&rec)
            .map_err(|e| state_error(rec.name.as_str(), e))
    }

    pub(super) fn persist_id(&self, id: ZoneId) {
        let uniqid = self.inner.reg.lock().unwrap().by_id(id).map(|z| z.uniqid);
        if let Some(u) = uniqid {
            self.persist(u);
        }
    }

    pub(super) fn unpersist(&self, uniqid: u64) {
        if let Some(store) = &self.inner.store {
            let _w = self.inner.store_lock.lock().unwrap();
            if let Err(e) = store.remove_zone(uniqid) {
                tracing::error!(uniqid, "removing the zone's state: {e}");
            }
        }
    }

    /// Write the next uniqid; the error names the file.
    pub(super) fn record_next_uniqid(&self, zone: &str) -> Result<(), Error> {
        if let Some(store) = &self.inner.store {
            let _w = self.inner.store_lock.lock().unwrap();
            let next = self.inner.reg.lock().unwrap().next_uniqid;
            store
                .save_next_uniqid(next)
                .map_err(|e| state_error(zone, e))?;
        }
        Ok(())
    }

    pub(super) fn persist_next_uniqid(&self) {
        if let Err(e) = self.record_next_uniqid("global") {
            tracing::error!("saving the next uniqid: {e}");
        }
    }

    fn spec_of(&self, rec: &ZoneRecord) -> ZoneSpec {
        let parent = if rec.parent.is_global() {
            None
        } else {
            let reg = self.inner.reg.lock().unwrap();
            reg.by_id(rec.parent).and_then(|p| p.handle.clone())
        };
        ZoneSpec {
            id: rec.id,
            name: rec.name.clone(),
            uniqid: rec.uniqid,
            root: rec.params.str("path").unwrap_or("/").into(),
            brand: rec
                .params
                .str("brand")
                .and_then(crate::zone::Brand::parse)
                .unwrap_or_default(),
            params: rec.params.clone(),
            parent,
        }
    }

    async fn blocking_rt<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn crate::runtime::Runtime) -> T + Send + 'static,
    ) -> T {
        let rt = self.inner.runtime.clone();
        tokio::task::spawn_blocking(move || f(rt.as_ref()))
            .await
            .expect("runtime call")
    }

    /// Re-adopt the zones recorded in the state directory and finish what
    /// an earlier engine left half done (module comment).
    pub async fn restore(&self) -> Result<Restored, Error> {
        let Some(store) = &self.inner.store else {
            return Ok(Restored::default());
        };
        let loaded = store.load().map_err(|e| state_error("global", e))?;
        let mut out = Restored {
            damaged: loaded.damaged.clone(),
            ..Restored::default()
        };
        for d in &loaded.damaged {
            tracing::warn!("{d}");
        }
        let traces = self.blocking_rt(|rt| rt.traces()).await;
        let damaged_uniqids: BTreeSet<u64> = loaded.damaged_uniqids.iter().copied().collect();
        {
            // Never hand out a uniqid a zone may still have: above every
            // one the records, damaged files and the kernel name.
            let high = traces.iter().map(|t| t.uniqid + 1).max().unwrap_or(1);
            let mut reg = self.inner.reg.lock().unwrap();
            reg.next_uniqid = reg.next_uniqid.max(loaded.next_uniqid).max(high);
        }
        self.persist_next_uniqid();
        let recorded: BTreeSet<u64> = loaded.zones.iter().map(|r| r.uniqid).collect();
        // Record-less traces are re-adopted (live) or swept (dead) in
        // uniqid order with the records, so a parent comes first.
        let mut work: Vec<(u64, Result<ZoneRecord, Trace>)> = loaded
            .zones
            .into_iter()
            .map(|r| (r.uniqid, Ok(r)))
            .collect();
        for t in traces {
            if recorded.contains(&t.uniqid) {
                continue;
            }
            // A trace is ours when its socket is in our run directory, or
            // its record is one of ours that was damaged (a cgroup root
            // may be shared with another state directory).
            if t.control.is_none() && !damaged_uniqids.contains(&t.uniqid) {
                continue;
            }
            work.push((t.uniqid, Err(t)));
        }
        work.sort_by_key(|(u, _)| *u);
        for (_, item) in work {
            match item {
                Ok(rec) => self.restore_record(rec, false, &mut out).await,
                Err(t) => self.restore_trace(t, &mut out).await,
            }
        }
        self.persist_next_uniqid();
        self.publish();
        if out != Restored::default() {
            tracing::info!(
                adopted = out.adopted.len(),
                finished = out.finished.len(),
                swept = out.swept.len(),
                damaged_files = out.damaged.len(),
                next_uniqid = self.next_uniqid(),
                "state restored"
            );
        }
        Ok(out)
    }

    /// A trace no record names: re-adopt a live zone, sweep a dead one.
    async fn restore_trace(&self, t: Trace, out: &mut Restored) {
        let tr = t.clone();
        let rebuilt = self.blocking_rt(move |rt| rt.rebuild(&tr)).await;
        let Some((handle, params)) = rebuilt else {
            if let Some(pid) = t.supervisor {
                tracing::warn!(
                    uniqid = t.uniqid,
                    zsched = pid,
                    "a zone no record names lives but does not answer: left running, not adopted"
                );
                return;
            }
            tracing::warn!(
                uniqid = t.uniqid,
                "what a zone no record names left (cgroups {:?}, socket {:?}) is removed",
                t.cgroups,
                t.control
            );
            let tr = t.clone();
            self.blocking_rt(move |rt| rt.sweep(&tr)).await;
            out.swept.push(t.uniqid);
            return;
        };
        let name = params
            .str("name")
            .and_then(|n| ZoneName::new(n).ok())
            .or_else(|| t.id.and_then(|i| ZoneName::new(&i.to_string()).ok()));
        let id = t.id.or_else(|| params.int("jid").map(|j| ZoneId(j as u32)));
        let (Some(name), Some(id)) = (name, id) else {
            tracing::warn!(
                uniqid = t.uniqid,
                "a zone no record names lives, without a name or id: left running"
            );
            return;
        };
        let clash = {
            let reg = self.inner.reg.lock().unwrap();
            reg.by_id(id).is_some() || reg.holder_of_name(name.as_str()).is_some()
        };
        if clash {
            tracing::warn!(zone = %name, uniqid = t.uniqid, "a zone no record names lives, but its id or name is taken: left running, not adopted");
            return;
        }
        tracing::warn!(zone = %name, uniqid = t.uniqid, "zone re-adopted from the kernel (its record was lost)");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let parent = name
            .parent()
            .and_then(|p| {
                self.inner
                    .reg
                    .lock()
                    .unwrap()
                    .by_name(p, false)
                    .map(|z| z.id)
            })
            .unwrap_or(ZoneId::GLOBAL);
        let rec = ZoneRecord {
            id,
            name,
            uniqid: t.uniqid,
            // Booting: restore_record settles it (running when something
            // runs in it, finished when nothing does).
            status: Status::Booting,
            params,
            parent,
            handle: Some(handle),
            init_pid: 0,
            boot_time: now,
            crtime: super::registry::hrtime(),
            kstat_state: None,
            boot_id: None,
        };
        self.restore_record(rec, true, out).await;
    }

    /// Re-adopt, finish or sweep one recorded zone (`rebuilt`: its record
    /// was made from the kernel, and a zone in which nothing runs is taken
    /// as ready, not as caught booting).
    async fn restore_record(&self, rec: ZoneRecord, rebuilt: bool, out: &mut Restored) {
        let spec = self.spec_of(&rec);
        let Some(handle) = rec.handle.clone() else {
            // Its creation never returned (a record without a handle):
            // what the runtime made is found by its names and removed.
            let trace = self
                .blocking_rt(move |rt| {
                    let t = rt.trace_of(&spec);
                    rt.sweep(&t);
                    t
                })
                .await;
            if !trace.cgroups.is_empty() || trace.control.is_some() {
                tracing::info!(zone = %rec.name, uniqid = rec.uniqid, "a zone whose creation was cut short: its cgroups and zsched removed");
            }
            self.unpersist(rec.uniqid);
            out.swept.push(rec.uniqid);
            return;
        };
        let h: Handle = handle.clone();
        let adopted = self.blocking_rt(move |rt| rt.adopt(&spec, &h)).await;
        match adopted {
            Adopted::Alive { handle, user_procs } => {
                let status = rec.status;
                {
                    let mut reg = self.inner.reg.lock().unwrap();
                    reg.next_uniqid = reg.next_uniqid.max(rec.uniqid + 1);
                    let mut z = Zone::from_record(&rec);
                    // The init running now (restarted, or exited, while
                    // no engine ran), not the recorded one.
                    z.init_pid = handle.init_pid;
                    z.handle = Some(handle);
                    if z.status < Status::Ready {
                        // A handle is recorded with ready at the earliest.
                        z.set_status(Status::Ready);
                    }
                    reg.insert(z);
                }
                let mut status = status.max(Status::Ready);
                if status == Status::Booting {
                    // Caught booting: the boot happened when something
                    // runs in the zone, and did not otherwise.
                    let runs = self
                        .with_zone(rec.uniqid, |z| z.init_pid != 0)
                        .unwrap_or(false)
                        || user_procs;
                    if runs {
                        self.with_zone(rec.uniqid, |z| z.set_status(Status::Running));
                        status = Status::Running;
                    } else if rebuilt {
                        self.with_zone(rec.uniqid, |z| {
                            z.status = Status::Ready;
                            z.cell.set(Status::Ready);
                            z.boot_time = 0;
                        });
                        status = Status::Ready;
                    } else {
                        status = Status::ShuttingDown;
                    }
                }
                self.persist(rec.uniqid);
                let finish = status >= Status::ShuttingDown
                    || (status == Status::Running
                        && !user_procs
                        && (!rec.params.bool("persist").unwrap_or(false)
                            || rec.params.bool("initnorestart").unwrap_or(false)));
                if finish {
                    // One zone that cannot be finished now must not keep
                    // the engine (and so every tool that embeds it) from
                    // starting: it stays dying, and a later halt or
                    // destroy retries.
                    if let Err(e) = self.halt_uniqid(&Caller::ROOT, rec.uniqid).await {
                        tracing::warn!(zone = %rec.name, "finishing a recorded zone: {e}");
                        out.adopted.push(rec.id);
                        return;
                    }
                    out.finished.push(rec.id);
                } else {
                    out.adopted.push(rec.id);
                }
            }
            Adopted::Gone => {
                self.unpersist(rec.uniqid);
                out.finished.push(rec.id);
            }
        }
    }
}
