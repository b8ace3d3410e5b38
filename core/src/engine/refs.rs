//! # References: who holds a zone, and the drain destroy waits for
//!
//! As illumos' zone_hold / zone_rele, zone_cred_hold and zone_hold_ref,
//! a zone counts who holds it (lifecycle.md "References"):
//!
//! * holds the engine gives out itself — `zone_ref` (an API call in flight,
//!   an open zonefs file, a zlogin session) and the subsystem slots a
//!   front-end takes (MNTFS for open zonefs files) — as [`Hold`] guards that
//!   release on drop;
//! * holds the kernel has — processes (`cred_ref`), mounts by type (VFS,
//!   NFS, NFSv4, SMBFS), System V IPC objects, loop devices — read from the
//!   runtime ([`crate::runtime::Runtime::refs`]).
//!
//! Destroy moves the zone to `dying` and then waits until every count is
//! zero. After the timeout (60 s by default) it logs every non-zero count,
//! as zone_log_refcounts does, and fails with EBUSY; the zone stays dying
//! and a later destroy tries again.

use super::{Engine, Inner};
use crate::error::Error;
use crate::snapshot::{Refs, Subsys};
use crate::zone::{Status, ZoneId};
use std::sync::Weak;
use std::time::{Duration, Instant};

/// What a hold counts as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HoldKind {
    /// A short hold: an API call, an open file, a login session.
    ZoneRef,
    /// A subsystem's hold (MNTFS for an open zonefs file, ...).
    Subsys(Subsys),
}

/// A reference to a zone, released when dropped.
#[must_use = "a hold is released when dropped"]
pub struct Hold {
    engine: Weak<Inner>,
    uniqid: u64,
    kind: HoldKind,
}

impl Hold {
    pub fn kind(&self) -> HoldKind {
        self.kind
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        if let Some(inner) = self.engine.upgrade() {
            Engine { inner }.release(self.uniqid, self.kind);
        }
    }
}

fn slot(refs: &mut Refs, kind: HoldKind) -> &mut u64 {
    match kind {
        HoldKind::ZoneRef => &mut refs.zone_ref,
        HoldKind::Subsys(s) => &mut refs.subsys[s as usize],
    }
}

/// `zone_ref=1 cred_ref=0 VFS=3 ...`: every non-zero count.
pub(super) fn describe(refs: &Refs) -> String {
    let mut parts = Vec::new();
    if refs.zone_ref > 0 {
        parts.push(format!("zone_ref={}", refs.zone_ref));
    }
    if refs.cred_ref > 0 {
        parts.push(format!("cred_ref={}", refs.cred_ref));
    }
    for s in Subsys::ALL {
        if refs.get(s) > 0 {
            parts.push(format!("{}={}", s.as_str(), refs.get(s)));
        }
    }
    parts.join(" ")
}

impl Engine {
    /// Take a hold on a live zone (initialized up to dying, not dead).
    pub fn hold(&self, id: ZoneId, kind: HoldKind) -> Result<Hold, Error> {
        let mut reg = self.inner.reg.lock().unwrap();
        let uniqid = reg
            .by_id(id)
            .filter(|z| z.status >= Status::Initialized && z.status < Status::Dead)
            .map(|z| z.uniqid)
            .ok_or(Error::NoSuchZone(id.to_string()))?;
        let z = reg.by_uniqid_mut(uniqid).expect("found above");
        *slot(&mut z.holds, kind) += 1;
        z.snap = None;
        Ok(Hold {
            engine: std::sync::Arc::downgrade(&self.inner),
            uniqid,
            kind,
        })
    }

    fn release(&self, uniqid: u64, kind: HoldKind) {
        {
            let mut reg = self.inner.reg.lock().unwrap();
            if let Some(z) = reg.by_uniqid_mut(uniqid) {
                let c = slot(&mut z.holds, kind);
                *c = c.saturating_sub(1);
                z.snap = None;
            }
        }
        self.inner.released.notify_waiters();
    }

    /// One look at every reference of the zone, the kernel's read by the
    /// runtime on the calling thread (a blocking one): whether nothing
    /// holds it (or it is gone). Destroy's first look, taken on the same
    /// trip to the blocking pool as the destroy that follows when it is
    /// drained; [`Engine::drain`] waits when it is not.
    pub(super) fn drained_now(&self, uniqid: u64) -> bool {
        let handle = {
            let reg = self.inner.reg.lock().unwrap();
            let Some(z) = reg.by_uniqid(uniqid) else {
                return true;
            };
            z.handle.clone().map(|h| (z.id, h))
        };
        let kernel = match handle {
            Some((id, h)) => self.inner.runtime.refs(id, &h),
            None => Default::default(),
        };
        let mut reg = self.inner.reg.lock().unwrap();
        let Some(z) = reg.by_uniqid_mut(uniqid) else {
            return true;
        };
        if z.kernel != kernel {
            z.kernel = kernel;
            z.snap = None;
        }
        z.refs().is_drained()
    }

    /// Wait until every reference of the zone is gone, or fail with EBUSY
    /// after the engine's destroy timeout, logging each count.
    pub(super) async fn drain(&self, uniqid: u64) -> Result<(), Error> {
        let timeout = self.inner.config.destroy_timeout;
        let deadline = Instant::now() + timeout;
        loop {
            // Register for a release before reading, so none is missed.
            let released = self.inner.released.notified();
            let handle = {
                let reg = self.inner.reg.lock().unwrap();
                let Some(z) = reg.by_uniqid(uniqid) else {
                    return Ok(());
                };
                z.handle.clone().map(|h| (z.id, h))
            };
            let kernel = match handle {
                Some((id, h)) => {
                    let rt = self.inner.runtime.clone();
                    tokio::task::spawn_blocking(move || rt.refs(id, &h))
                        .await
                        .unwrap_or_default()
                }
                None => Default::default(),
            };
            let (refs, name) = {
                let mut reg = self.inner.reg.lock().unwrap();
                let Some(z) = reg.by_uniqid_mut(uniqid) else {
                    return Ok(());
                };
                if z.kernel != kernel {
                    z.kernel = kernel;
                    z.snap = None;
                }
                (z.refs(), z.name.to_string())
            };
            if refs.is_drained() {
                return Ok(());
            }
            let now = Instant::now();
            if now >= deadline {
                // zone_log_refcounts: one line per count that held the zone.
                for (what, n) in std::iter::once(("zone_ref", refs.zone_ref))
                    .chain(std::iter::once(("cred_ref", refs.cred_ref)))
                    .chain(Subsys::ALL.iter().map(|s| (s.as_str(), refs.get(*s))))
                    .filter(|(_, n)| *n > 0)
                {
                    tracing::warn!(zone = %name, "destroy: {what} still holds the zone ({n})");
                }
                return Err(Error::Busy {
                    zone: name,
                    secs: timeout.as_secs(),
                    counts: describe(&refs),
                });
            }
            let step = (deadline - now).min(Duration::from_millis(100));
            let _ = tokio::time::timeout(step, released).await;
        }
    }
}
