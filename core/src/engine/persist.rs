//! # Durable records and re-adoption
//!
//! Every change of a zone that a later engine must know — its creation,
//! each status, its handle, init pid, parameters — is written to the
//! state directory before the operation returns ([`crate::state`]: a
//! temporary file renamed over the record, not fsync'ed — state.rs says
//! why). Writes are serialised by one mutex (the store lock, engine
//! module's "Locking") and each
//! write takes the zone's state at that moment, so the last record on disk
//! is the newest.
//!
//! [`Engine::restore`] is the other half: at start, every recorded zone is
//! handed to the runtime to adopt. A zone whose supervisor still lives is
//! re-entered in the registry with its id, uniqid, status and init pid; a
//! zone that was on its way down is finished (when that fails, it is kept,
//! dying, and the engine starts anyway); a zone whose supervisor died
//! while no engine ran is cleaned by the runtime and its record removed.

use super::Engine;
use super::registry::Zone;
use crate::error::Error;
use crate::runtime::{Adopted, ZoneSpec};
use crate::zone::{Status, ZoneId};

/// What [`Engine::restore`] did with each recorded zone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Restored {
    /// Re-adopted, still live.
    pub adopted: Vec<ZoneId>,
    /// Found dead (or on their way down) and finished.
    pub finished: Vec<ZoneId>,
}

impl Engine {
    pub(super) fn persist(&self, uniqid: u64) {
        let Some(store) = &self.inner.store else {
            return;
        };
        let _w = self.inner.store_lock.lock().unwrap();
        let rec = {
            let reg = self.inner.reg.lock().unwrap();
            match reg.by_uniqid(uniqid) {
                Some(z) if z.status >= Status::Initialized && !z.id.is_global() => z.to_record(),
                _ => return,
            }
        };
        if let Err(e) = store.save_zone(&rec) {
            tracing::error!(zone = %rec.name, "saving the zone's state: {e}");
        }
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

    pub(super) fn persist_next_uniqid(&self) {
        if let Some(store) = &self.inner.store {
            let _w = self.inner.store_lock.lock().unwrap();
            let next = self.inner.reg.lock().unwrap().next_uniqid;
            if let Err(e) = store.save_next_uniqid(next) {
                tracing::error!("saving the next uniqid: {e}");
            }
        }
    }

    /// Re-adopt the zones recorded in the state directory.
    pub async fn restore(&self) -> Result<Restored, Error> {
        let Some(store) = &self.inner.store else {
            return Ok(Restored::default());
        };
        let records = store.load_zones().map_err(|e| Error::Runtime {
            zone: "global".into(),
            source: crate::runtime::RuntimeError::new("state", e.to_string()),
        })?;
        let mut out = Restored::default();
        // Parents before children: ids of parents are lower in uniqid order.
        for rec in records {
            let Some(handle) = rec.handle.clone() else {
                // Never made real: nothing to adopt.
                self.unpersist(rec.uniqid);
                continue;
            };
            let spec = ZoneSpec {
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
                parent: None,
            };
            let rt = self.inner.runtime.clone();
            let h = handle.clone();
            let adopted = tokio::task::spawn_blocking(move || rt.adopt(&spec, &h))
                .await
                .unwrap_or(Adopted::Gone);
            match adopted {
                Adopted::Alive { handle, user_procs } => {
                    let status = rec.status;
                    {
                        let mut reg = self.inner.reg.lock().unwrap();
                        reg.next_uniqid = reg.next_uniqid.max(rec.uniqid + 1);
                        let mut z = Zone::from_record(&rec);
                        // The init running now (restarted, or exited,
                        // while no engine ran), not the recorded one.
                        z.init_pid = handle.init_pid;
                        z.handle = Some(handle);
                        reg.insert(z);
                    }
                    self.persist(rec.uniqid);
                    let finish = status >= Status::ShuttingDown
                        || (status == Status::Running
                            && !user_procs
                            && (!rec.params.bool("persist").unwrap_or(false)
                                || rec.params.bool("initnorestart").unwrap_or(false)));
                    if finish {
                        // One zone that cannot be finished now must not
                        // keep the engine (and so every tool that embeds
                        // it) from starting: it stays dying, and a later
                        // halt or destroy retries.
                        if let Err(e) = self.halt_uniqid(&super::Caller::ROOT, rec.uniqid).await {
                            tracing::warn!(zone = %rec.name, "finishing a recorded zone: {e}");
                            out.adopted.push(rec.id);
                            continue;
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
        self.persist_next_uniqid();
        self.publish();
        Ok(out)
    }
}
