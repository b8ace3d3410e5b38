//! # Following the engine: what a long-running front-end holds
//!
//! ztop and zonefs live for hours. [`follow`] gives them one stream of
//! snapshots and one [`Port`] for actions and holds, whichever engine is
//! behind:
//!
//! * **zoned** answers on the socket: its pushed snapshots feed the
//!   stream. When the daemon goes away (a restart), the stream stays open
//!   and the connection is retried every half second for `retry`; a new
//!   daemon's snapshots continue the same stream. Only when the window
//!   passes does the stream close (zonefs then unmounts).
//! * **no daemon**: the front-end starts the engine itself (the embedded
//!   default), with its sampler, and — so that `zoneadm`, `jls` and the
//!   other tools keep working while it runs, since the engine holds the
//!   state directory's lock — serves the same API on the socket, as zoned
//!   would, for as long as it lives.

use super::{Client, Endpoint, Zones, serve, start_serving_engine};
use crate::engine::{Engine, Hold, HoldKind};
use crate::error::Error;
use crate::snapshot::{Snapshot, Subsys};
use crate::zone::ZoneId;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

/// Actions and holds on whichever engine is behind the stream.
#[derive(Clone)]
pub struct Port {
    inner: Arc<PortInner>,
}

enum PortInner {
    Daemon(Mutex<Arc<Client>>),
    Embedded {
        engine: Engine,
        holds: Mutex<HashMap<u64, Vec<Hold>>>,
        next: AtomicU64,
        /// The API socket this engine serves, removed when it goes.
        socket: Option<std::path::PathBuf>,
    },
}

impl Drop for PortInner {
    fn drop(&mut self) {
        if let PortInner::Embedded {
            socket: Some(p), ..
        } = self
        {
            let _ = std::fs::remove_file(p);
        }
    }
}

impl Port {
    /// A port on an engine of this process that serves no socket of its
    /// own (zoned's in-process zonefs).
    pub fn local(engine: Engine) -> Port {
        Port {
            inner: Arc::new(PortInner::Embedded {
                engine,
                holds: Mutex::new(HashMap::new()),
                next: AtomicU64::new(1),
                socket: None,
            }),
        }
    }

    /// The engine for operations, as a tool's handle.
    pub fn zones(&self) -> Zones {
        match &*self.inner {
            PortInner::Daemon(c) => Zones::Daemon(c.lock().unwrap().clone()),
            PortInner::Embedded { engine, .. } => Zones::Embedded(engine.clone()),
        }
    }

    /// The embedded engine, when this front-end runs it.
    pub fn engine(&self) -> Option<&Engine> {
        match &*self.inner {
            PortInner::Embedded { engine, .. } => Some(engine),
            PortInner::Daemon(_) => None,
        }
    }

    /// Hold a zone's life `uniqid` (zone_ref, and MNTFS with `mntfs`)
    /// without blocking; `None` when the zone is gone. For zonefs opens.
    pub fn hold(&self, id: ZoneId, uniqid: u64, mntfs: bool) -> Option<u64> {
        match &*self.inner {
            PortInner::Daemon(c) => Some(c.lock().unwrap().hold_nowait(id, Some(uniqid), mntfs)),
            PortInner::Embedded {
                engine,
                holds,
                next,
                ..
            } => {
                if engine
                    .snapshot()
                    .zone(id)
                    .is_none_or(|z| z.uniqid != uniqid)
                {
                    return None;
                }
                let mut v = vec![engine.hold(id, HoldKind::ZoneRef).ok()?];
                if mntfs {
                    v.push(engine.hold(id, HoldKind::Subsys(Subsys::Mntfs)).ok()?);
                }
                let token = next.fetch_add(1, Ordering::Relaxed);
                holds.lock().unwrap().insert(token, v);
                Some(token)
            }
        }
    }

    /// Give back a hold taken with [`Port::hold`].
    pub fn release(&self, token: u64) {
        match &*self.inner {
            PortInner::Daemon(c) => c.lock().unwrap().release(token),
            PortInner::Embedded { holds, .. } => {
                holds.lock().unwrap().remove(&token);
            }
        }
    }
}

/// The snapshots and the port of a long-running front-end.
pub struct Follow {
    pub snapshots: watch::Receiver<Arc<Snapshot>>,
    pub port: Port,
}

/// Follow zoned at the endpoint's socket, or run the engine here (see the
/// module comment). `who` names this front-end in the embedded engine's
/// name (`embedded (ztop)`).
pub async fn follow(ep: &Endpoint, who: &str, retry: Duration) -> Result<Follow, Error> {
    if let Ok(client) = Client::connect(&ep.socket).await {
        let client = Arc::new(client);
        let mut pushed = client.subscribe().await?;
        let first = loop {
            if let Some(s) = pushed.borrow_and_update().clone() {
                break s;
            }
            if pushed.changed().await.is_err() {
                return Err(Error::Shutdown);
            }
        };
        let (tx, rx) = watch::channel(first);
        let port = Port {
            inner: Arc::new(PortInner::Daemon(Mutex::new(client))),
        };
        let p2 = port.clone();
        let socket = ep.socket.clone();
        tokio::spawn(async move {
            loop {
                while pushed.changed().await.is_ok() {
                    if let Some(s) = pushed.borrow_and_update().clone() {
                        tx.send_replace(s);
                    }
                }
                // The daemon went away: retry within the window.
                tracing::warn!("zoned went away; reconnecting to {}", socket.display());
                let deadline = tokio::time::Instant::now() + retry;
                let again = loop {
                    if let Ok(c) = Client::connect(&socket).await {
                        let c = Arc::new(c);
                        if let Ok(sub) = c.subscribe().await {
                            break Some((c, sub));
                        }
                    }
                    if tokio::time::Instant::now() >= deadline {
                        break None;
                    }
                    tokio::time::sleep(Duration::from_millis(500)).await;
                };
                let Some((c, sub)) = again else {
                    tracing::error!("zoned did not come back within {} s", retry.as_secs());
                    return; // dropping tx closes the stream
                };
                if let PortInner::Daemon(m) = &*p2.inner {
                    *m.lock().unwrap() = c;
                }
                pushed = sub;
            }
        });
        return Ok(Follow {
            snapshots: rx,
            port,
        });
    }
    let engine = start_serving_engine(ep, &format!("embedded ({who})")).await?;
    engine.start_sampler();
    let socket = match bind_socket(&ep.socket).await {
        Ok(l) => {
            tokio::spawn(serve(engine.clone(), l));
            Some(ep.socket.clone())
        }
        Err(e) => {
            tracing::warn!(
                "{}: not serving the API ({e}); other tools cannot reach this engine",
                ep.socket.display()
            );
            None
        }
    };
    Ok(Follow {
        snapshots: engine.subscribe(),
        port: Port {
            inner: Arc::new(PortInner::Embedded {
                engine,
                holds: Mutex::new(HashMap::new()),
                next: AtomicU64::new(1),
                socket,
            }),
        },
    })
}

/// Bind the API socket for an embedded engine: replace a stale file (no
/// one answers there: we hold the state lock, so no engine does).
pub async fn bind_socket(path: &std::path::Path) -> std::io::Result<tokio::net::UnixListener> {
    use std::os::unix::fs::PermissionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    if path.exists() {
        if Client::connect(path).await.is_ok() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AddrInUse,
                "another engine answers there",
            ));
        }
        std::fs::remove_file(path)?;
    }
    let l = tokio::net::UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o666))?;
    Ok(l)
}
