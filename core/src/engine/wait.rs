//! # Status waits (zone_status_wait)
//!
//! A caller may wait until a zone reaches a status *or any later one*. The
//! wait also ends when the zone is gone: a removed zone's status is set to
//! `dead`, the last status of all, so every waiter wakes. A wait holds its
//! own reference to the zone's [`StatusCell`], so it never misses the last
//! change even if the zone leaves the registry meanwhile.
//!
//! Async waiters use a `watch` channel; blocking waiters (threads outside
//! tokio) a condition variable. Both see every change, because
//! [`StatusCell::set`] updates both under the cell's mutex.

use super::Engine;
use crate::error::Error;
use crate::zone::{Status, ZoneId};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// A zone's status, observable by waiters.
pub(crate) struct StatusCell {
    status: Mutex<Status>,
    cv: Condvar,
    tx: watch::Sender<Status>,
}

impl StatusCell {
    pub fn new(s: Status) -> StatusCell {
        StatusCell {
            status: Mutex::new(s),
            cv: Condvar::new(),
            tx: watch::channel(s).0,
        }
    }

    pub fn set(&self, s: Status) {
        let mut cur = self.status.lock().unwrap();
        if s > *cur {
            *cur = s;
            self.tx.send_replace(s);
            self.cv.notify_all();
        }
    }
}

impl Engine {
    fn cell_of(&self, id: ZoneId) -> Result<(String, Arc<StatusCell>), Error> {
        let reg = self.inner.reg.lock().unwrap();
        let z = reg.by_id(id).ok_or(Error::NoSuchZone(id.to_string()))?;
        Ok((z.name.to_string(), z.cell.clone()))
    }

    /// Wait until zone `id` reaches `at_least` or a later status, or is
    /// gone (then `dead` is returned). `None` waits for ever.
    pub async fn wait_status(
        &self,
        id: ZoneId,
        at_least: Status,
        timeout: Option<Duration>,
    ) -> Result<Status, Error> {
        let (name, cell) = self.cell_of(id)?;
        let mut rx = cell.tx.subscribe();
        let wait = async {
            loop {
                let s = *rx.borrow_and_update();
                if s >= at_least {
                    return s;
                }
                if rx.changed().await.is_err() {
                    return Status::Dead;
                }
            }
        };
        match timeout {
            None => Ok(wait.await),
            Some(t) => tokio::time::timeout(t, wait)
                .await
                .map_err(|_| Error::Timeout {
                    zone: name,
                    status: at_least.to_string(),
                }),
        }
    }

    /// The blocking form of [`Engine::wait_status`], for threads outside
    /// the async runtime (never call it from a tokio worker).
    pub fn wait_status_blocking(
        &self,
        id: ZoneId,
        at_least: Status,
        timeout: Option<Duration>,
    ) -> Result<Status, Error> {
        let (name, cell) = self.cell_of(id)?;
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut cur = cell.status.lock().unwrap();
        while *cur < at_least {
            match deadline {
                None => cur = cell.cv.wait(cur).unwrap(),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return Err(Error::Timeout {
                            zone: name,
                            status: at_least.to_string(),
                        });
                    }
                    cur = cell.cv.wait_timeout(cur, d - now).unwrap().0;
                }
            }
        }
        Ok(*cur)
    }
}
