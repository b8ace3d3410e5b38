//! # The engine: one registry of zones and the operations over it
//!
//! An [`Engine`] knows every zone on the host and moves each through the
//! statuses of [`crate::zone::Status`], exactly one way: forward. It is the
//! only writer of zone state; every front-end reads the [`Snapshot`] it
//! publishes after each change.
//!
//! ## Structure
//!
//! * [`registry`]: the zones, keyed by uniqid, and the rules of identity
//!   (lowest free id, a dying zone's id held until it is dead, names).
//! * [`zone_ops`]: the zone family — create (to ready), boot, shutdown,
//!   halt, reboot, destroy, getattr / setattr, list, lookup.
//! * [`configured`]: the lifecycle of a zone jail.conf describes —
//!   verify, install, uninstall, clone, boot from its block, and
//!   shutdown / halt / reboot by name; zoneadm, ztop, zoned's autoboot and
//!   jail(8) call these and nothing else.
//! * [`jail_ops`]: the jail family — `set` with CREATE / UPDATE / ATTACH /
//!   DYING, `get` with the `lastjid` walk, `remove`, `attach`.
//! * [`refs`]: holds (zone_ref and the subsystem counts) and the drain that
//!   destroy waits for.
//! * [`zsd`]: subsystem callbacks (create / shutdown / destroy), illumos ZSD.
//! * [`wait`]: status waits, async and blocking.
//! * [`sample`]: the 1 Hz tick that folds the counters into the snapshot.
//! * [`listing`]: `zoneadm list`'s rows, built once per snapshot.
//! * [`persist`]: durable records of every zone, and re-adoption of the
//!   zones an earlier engine left running.
//!
//! ## Locking
//!
//! Every lock of the engine, in the one order they may be taken (a lock
//! is only ever taken while holding locks above it in this list, never
//! one below), as zone.c lists zonehash_lock, zone_status_lock and
//! zone_lock:
//!
//! 1. a zone's *operation lock* (`registry::Zone::op`, an async mutex, one
//!    per zone): lifecycle operations on one zone run one at a time — a
//!    second `shutdown` waits for the first and then finds the zone
//!    already down. Held across `.await`s and runtime calls; never two
//!    zones' at once except parent before child (a removal takes the
//!    children's after the parent's).
//! 2. the *store lock* (`Inner::store_lock`, a std mutex): serialises
//!    writes of durable records, so the record written last is the
//!    newest; it is taken before the registry lock, whose state it
//!    writes (persist.rs).
//! 3. the *registry lock* (`Inner::reg`, a std mutex): held only for short
//!    sections that read or change the registry; never across an
//!    `.await`, a runtime call or a subsystem callback.
//! 4. leaves, taken with the registry lock held or alone, and holding
//!    nothing while they are held:
//!    * a zone's *status cell* (`wait::StatusCell`'s mutex): a status
//!      change is made under the registry lock and announced to waiters
//!      under the cell's own;
//!    * the *sampler's* state (`sample.rs`: the runtime's kstat `Source`
//!      behind its mutex, host reader included): taken under the registry lock
//!      once, when the sampler starts and resumes saved load averages;
//!      each tick copies what it needs out of the registry, releases it,
//!      samples under the sampler's lock, releases that, then folds the
//!      counters back under the registry lock;
//!    * the *subsystems* list (`Inner::subsystems`, an RwLock): read only
//!      to copy the list out before the callbacks run (zsd.rs), written
//!      when a subsystem registers.
//!
//! Runtime calls block (they fork helpers and wait for the kernel), so they
//! run on tokio's blocking pool with only operation locks held. Status
//! changes are made under the registry lock, then announced to waiters and
//! published in a new snapshot (the `watch` sender needs no lock of ours).
//!
//! ## Events from the kernel side
//!
//! The runtime tells the engine what happens inside a zone
//! ([`RuntimeEvent`]): init started or exited, the zone is empty, the
//! supervisor is gone. init_pid follows init exactly: the host pid of the
//! init now running (a restarted one included), 0 once it exited and was
//! not restarted; the pid of an init that exited is remembered
//! (`init_gone`), so that boot's answer or a late event never brings a
//! dead pid back. A jail that is not `persist` (and a zone with
//! `initnorestart`) is halted when it becomes empty; a zone whose
//! supervisor vanished (told only once it has exited) is finished and
//! destroyed, retried with backoff while that fails.

mod configured;
mod jail_ops;
mod listing;
mod persist;
mod refs;
mod registry;
mod sample;
mod wait;
mod zone_ops;
mod zsd;

pub use configured::{BootFrom, Installed, conf_for, conf_single};
pub use jail_ops::{Attach, JailFlags, JailKey};
pub use persist::Restored;
pub use refs::{Hold, HoldKind};
pub use zone_ops::Booted;
pub use zsd::Subsystem;

use crate::error::Error;
use crate::runtime::{Runtime, RuntimeEvent};
use crate::snapshot::{ConfiguredZone, Snapshot, ZoneSnapshot};
use crate::state::Store;
use crate::zone::{Status, ZoneId};
use registry::Registry;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// How many times the engine tries to finish a zone whose supervisor is
/// gone before it gives up (and logs it).
const FINISH_TRIES: u32 = 8;

/// How an engine is set up.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// How long destroy waits for references to drain before EBUSY.
    pub destroy_timeout: Duration,
    /// What front-ends are told the snapshot comes from: `embedded`, or
    /// the daemon's socket path.
    pub engine: String,
    /// The next uniqid to hand out (durable state carries it).
    pub next_uniqid: u64,
    /// The highest zone id to hand out: [`ZoneId::MAX`], or less on a host
    /// that wants a lower ceiling on the number of zones.
    pub max_id: u32,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            destroy_timeout: Duration::from_secs(60),
            engine: "embedded".to_string(),
            next_uniqid: 1,
            max_id: ZoneId::MAX,
        }
    }
}

/// Who asks: a uid (root may change zones) and the zone the caller is in
/// (a caller in a non-global zone sees only its own branch).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caller {
    pub uid: u32,
    pub zone: ZoneId,
}

impl Caller {
    /// Root in the global zone.
    pub const ROOT: Caller = Caller {
        uid: 0,
        zone: ZoneId::GLOBAL,
    };

    /// An unprivileged user of the global zone.
    pub fn user(uid: u32) -> Caller {
        Caller {
            uid,
            zone: ZoneId::GLOBAL,
        }
    }

    fn require_root(&self) -> Result<(), Error> {
        if self.uid == 0 {
            Ok(())
        } else {
            Err(Error::NotRoot)
        }
    }
}

/// The zone engine. Cheap to clone: every clone is the same engine.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    runtime: Arc<dyn Runtime>,
    reg: Mutex<Registry>,
    snapshot: watch::Sender<Arc<Snapshot>>,
    config: EngineConfig,
    subsystems: RwLock<Vec<Arc<dyn Subsystem>>>,
    /// Woken whenever a hold is released (destroy's drain waits on it).
    released: Notify,
    /// Durable state, when the engine owns a state directory.
    store: Option<Store>,
    /// Serialises writes of records, so the last written is the newest.
    store_lock: Mutex<()>,
    /// The jail.conf in force (zoned's), against which a configured zone
    /// named without a configuration is resolved (the API's by-name
    /// requests); `None` for an engine given none.
    configuration: RwLock<Option<Arc<crate::jailconf::Config>>>,
    /// The latest listing `zoneadm list` asked for (listing.rs).
    listing: listing::ListCache,
}

impl Engine {
    /// Start an engine over a runtime. Must be called inside a tokio
    /// runtime: it spawns the task that receives runtime events.
    pub fn new(runtime: Arc<dyn Runtime>, config: EngineConfig) -> Engine {
        Engine::build(runtime, config, None)
    }

    /// Start an engine that keeps its zones in a state directory (already
    /// opened and locked). Zones recorded there are not yet known: call
    /// [`Engine::restore`] to re-adopt them.
    pub fn with_store(runtime: Arc<dyn Runtime>, mut config: EngineConfig, store: Store) -> Engine {
        if let Ok(n) = store.next_uniqid() {
            config.next_uniqid = config.next_uniqid.max(n);
        }
        Engine::build(runtime, config, Some(store))
    }

    fn build(runtime: Arc<dyn Runtime>, config: EngineConfig, store: Option<Store>) -> Engine {
        let mut reg = Registry::new(config.next_uniqid);
        reg.max_id = config.max_id.min(ZoneId::MAX);
        let (snapshot, _) = watch::channel(Arc::new(Snapshot::default()));
        let engine = Engine {
            inner: Arc::new(Inner {
                runtime,
                reg: Mutex::new(reg),
                snapshot,
                config,
                subsystems: RwLock::new(Vec::new()),
                released: Notify::new(),
                store,
                store_lock: Mutex::new(()),
                configuration: RwLock::new(None),
                listing: Default::default(),
            }),
        };
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        engine.inner.runtime.subscribe(tx);
        let weak = Arc::downgrade(&engine.inner);
        tokio::spawn(async move {
            while let Some(ev) = rx.recv().await {
                let Some(inner) = weak.upgrade() else { break };
                Engine { inner }.runtime_event(ev).await;
            }
        });
        engine.publish();
        engine
    }

    /// The runtime behind this engine.
    pub fn runtime(&self) -> &Arc<dyn Runtime> {
        &self.inner.runtime
    }

    /// The latest snapshot: the one last published, or, when changes were
    /// not published because nobody subscribed ([`Engine::publish`]), one
    /// built now (and published, so the next call finds it).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        let cur = self.inner.snapshot.borrow().clone();
        let snap = {
            let mut reg = self.inner.reg.lock().unwrap();
            if cur.seq == reg.seq {
                return cur;
            }
            Arc::new(reg.snapshot(&self.inner.config.engine))
        };
        self.send_newer(&snap);
        snap
    }

    /// Send a snapshot unless a newer one was sent meanwhile (it was built
    /// under the registry lock, but is sent outside it: a subscriber may
    /// hold the channel's value while it waits for that lock).
    fn send_newer(&self, snap: &Arc<Snapshot>) {
        self.inner.snapshot.send_if_modified(|cur| {
            let newer = snap.seq > cur.seq;
            if newer {
                *cur = snap.clone();
            }
            newer
        });
    }

    /// A receiver that sees every snapshot the engine publishes.
    pub fn subscribe(&self) -> watch::Receiver<Arc<Snapshot>> {
        // Subscribed first, so every later change is published to it;
        // then what changed while nobody subscribed is brought up to date
        // (a change the receiver sees only when there was one).
        let rx = self.inner.snapshot.subscribe();
        let _ = self.snapshot();
        rx
    }

    /// The uniqid the next zone will get (durable state saves it).
    pub fn next_uniqid(&self) -> u64 {
        self.inner.reg.lock().unwrap().next_uniqid
    }

    /// Replace the configured zones (from jail.conf) shown beside the
    /// kernel zones.
    pub fn set_configured(&self, configured: Vec<ConfiguredZone>) {
        self.inner.reg.lock().unwrap().configured = configured;
        self.publish();
    }

    /// Replace the configuration in force (zoned at start and on SIGHUP,
    /// ztop's embedded engine): what a configured zone named without a
    /// configuration is resolved against.
    pub fn set_configuration(&self, conf: crate::jailconf::Config) {
        *self.inner.configuration.write().unwrap() = Some(Arc::new(conf));
    }

    /// The configuration in force, if the engine was given one.
    pub fn configuration(&self) -> Option<Arc<crate::jailconf::Config>> {
        self.inner.configuration.read().unwrap().clone()
    }

    /// Handle an event from the runtime (the runtime's own channel calls
    /// this; tests of the engine call it to play the kernel's part).
    pub async fn runtime_event(&self, ev: RuntimeEvent) {
        match ev {
            RuntimeEvent::InitStarted { id, uniqid, pid } => {
                tracing::info!(zone = %id, uniqid, pid, "init started");
                self.follow_init(id, uniqid, |z| {
                    if pid != z.init_gone {
                        z.init_pid = pid;
                    }
                });
            }
            RuntimeEvent::InitExited {
                id,
                uniqid,
                pid,
                status,
            } => {
                tracing::info!(zone = %id, uniqid, pid, status, "init exited");
                self.follow_init(id, uniqid, |z| {
                    if pid != 0 {
                        z.init_gone = pid;
                    }
                    if pid == 0 || z.init_pid == pid {
                        z.init_pid = 0;
                    }
                });
            }
            RuntimeEvent::Empty { id, uniqid } => {
                let halt = {
                    let reg = self.inner.reg.lock().unwrap();
                    reg.by_uniqid(uniqid).is_some_and(|z| {
                        // Booting too: init may exit before boot returns;
                        // the halt then waits for boot's operation lock.
                        z.id == id
                            && matches!(z.status, Status::Booting | Status::Running)
                            && (!z.params.bool("persist").unwrap_or(false)
                                || z.params.bool("initnorestart").unwrap_or(false))
                    })
                };
                if halt {
                    let engine = self.clone();
                    tokio::spawn(async move {
                        if let Err(e) = engine.halt_uniqid(&Caller::ROOT, uniqid).await {
                            tracing::warn!(zone = %id, "halt of an empty zone failed: {e}");
                        }
                    });
                }
            }
            RuntimeEvent::Gone { id, uniqid } => {
                let live = {
                    let reg = self.inner.reg.lock().unwrap();
                    reg.by_uniqid(uniqid)
                        .is_some_and(|z| z.id == id && z.status < Status::Dead)
                };
                if live {
                    tracing::warn!(zone = %id, "supervisor gone; finishing the zone");
                    let engine = self.clone();
                    tokio::spawn(async move { engine.finish_gone(id, uniqid).await });
                }
            }
        }
    }

    /// Change what the engine knows of a zone's init (the zone of `id` and
    /// `uniqid`, while it is booting or running), then publish it: the
    /// snapshot, zoneadm, jls, kstat and zonefs all read init_pid from
    /// here. Not recorded: a restart takes the init pid from the kernel
    /// (the runtime's `adopt`), never from the record, so writing it here
    /// only repeated the record boot writes (InitStarted comes while the
    /// zone is still booting) and the one halt writes after InitExited.
    fn follow_init(&self, id: ZoneId, uniqid: u64, f: impl FnOnce(&mut registry::Zone)) {
        let changed = self
            .with_zone(uniqid, |z| {
                if z.id != id || !matches!(z.status, Status::Booting | Status::Running) {
                    return false;
                }
                let before = (z.init_pid, z.init_gone);
                f(z);
                if let Some(h) = &mut z.handle {
                    h.init_pid = z.init_pid;
                }
                z.snap = None;
                before != (z.init_pid, z.init_gone)
            })
            .unwrap_or(false);
        if changed {
            self.publish();
        }
    }

    /// Finish a zone whose supervisor is gone: halt it (the runtime kills
    /// what is left through the cgroups and removes them and the socket),
    /// retried while it fails, so that a zone is never left half-finished
    /// in shutting_down. A dying zone is destroyed again the same way.
    async fn finish_gone(&self, id: ZoneId, uniqid: u64) {
        let mut delay = Duration::from_millis(200);
        for attempt in 1..=FINISH_TRIES {
            match self.halt_uniqid(&Caller::ROOT, uniqid).await {
                Ok(()) => return,
                Err(e) if attempt == FINISH_TRIES => {
                    tracing::error!(zone = %id, "finishing a zone failed {attempt} times: {e}");
                }
                Err(e) => {
                    tracing::warn!(zone = %id, attempt, "finishing a zone failed (retrying): {e}");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    /// Publish a new snapshot of the registry. With no subscriber (an
    /// engine embedded in a tool, the benchmark's) nothing is built: the
    /// sequence moves on, and [`Engine::snapshot`] or [`Engine::subscribe`]
    /// builds the snapshot when someone asks — a zone cycle publishes ten
    /// times, each a snapshot of every zone.
    fn publish(&self) {
        let snap = {
            let mut reg = self.inner.reg.lock().unwrap();
            reg.seq += 1;
            if self.inner.snapshot.receiver_count() == 0 {
                return;
            }
            reg.snapshot(&self.inner.config.engine)
        };
        self.send_newer(&Arc::new(snap));
    }
}

/// Parameters from `name=value` words (jail(8)'s command line, the API):
/// a bad name or value is jail(2)'s EINVAL, named after the zone.
pub fn params_from_args<S: AsRef<str>>(args: &[S]) -> Result<crate::param::Params, Error> {
    let label = args
        .iter()
        .find_map(|a| a.as_ref().strip_prefix("name="))
        .unwrap_or("(new)")
        .to_string();
    let mut p = crate::param::Params::new();
    for a in args {
        p.set_arg(a.as_ref()).map_err(|source| Error::Param {
            zone: label.clone(),
            source,
        })?;
    }
    Ok(p)
}

/// A zone's snapshot, rebuilt only when the zone changed.
fn zone_snapshot(z: &mut registry::Zone) -> Arc<ZoneSnapshot> {
    if let Some(s) = &z.snap {
        return s.clone();
    }
    let s = Arc::new(z.to_snapshot());
    z.snap = Some(s.clone());
    s
}

#[cfg(test)]
mod tests;
