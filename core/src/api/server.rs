//! # The daemon's side of the API, and why a local user cannot take it down
//!
//! One task per connection reads calls in stream order; each call that may
//! take long runs in a task of its own (a halt does not hold up a
//! snapshot); one writer task per connection sends replies and pushed
//! snapshots in order.
//!
//! ## Local users are attackers too (security.md)
//!
//! The socket is open to every local user for what reads, so everything a
//! connection can make zoned spend is bounded by who asks. Who asks is
//! known at accept, before a byte is read: SO_PEERCRED is the kernel's
//! record of the connecting process (uid, pid, and from the pid the zone).
//! A connection from root in the global zone is *trusted*; every other one
//! is a *user's*, counted under its (zone, uid) — root inside a zone is an
//! attacker too.
//!
//! * **Nothing is allocated from a length word.** A frame's buffer grows
//!   as its bytes arrive ([`super::read_frame_body`]): announcing 64 MiB
//!   and sending nothing costs nothing, for root as for users.
//! * **Before the hello, a small bound.** The first frames may be at most
//!   [`Limits::hello_frame`] bytes (a hello is about 50); a larger length
//!   word closes the connection, and the hello must come within
//!   [`Limits::hello_timeout`] — for root as well.
//! * **Users get a small frame cap** ([`Limits::user_frame`]) since they
//!   may only read; root keeps [`super::MAX_FRAME`].
//! * **Per-uid caps.** A (zone, uid) may hold [`Limits::per_uid_conns`]
//!   connections and all users together [`Limits::users_conns`]; one over
//!   the cap is closed at accept, before any task is made for it. A user's
//!   connection runs at most [`Limits::user_in_flight`] calls at once and
//!   one subscription; the frame bodies a uid has in memory are bounded by
//!   [`Limits::per_uid_bytes`], and the replies being serialized for it by
//!   [`Limits::per_uid_writers`]. A uid thus costs zoned at most about
//!   `per_uid_conns` small tasks + `per_uid_bytes` + `per_uid_writers`
//!   replies. Users may not take holds (EPERM): a hold keeps root's halt
//!   waiting. When a user's connection ends, its calls are cancelled
//!   (they only read).
//! * **Idle users are closed.** A user's connection with no call running
//!   that has read and written nothing for [`Limits::idle_timeout`] is
//!   closed; a subscriber that reads gets a snapshot every tick and is
//!   never idle, one that stops reading is.
//! * **Root is always served: a reserve of descriptors, not a second
//!   socket.** Users' connections together take at most a quarter of
//!   zoned's RLIMIT_NOFILE, the sampler's kept descriptors at most another
//!   quarter (zones-linux `kstat::read`); the half left is for root's
//!   connections, the engine's own work (boot, halt, zonefs) and accept
//!   itself. A root-only 0600 socket was the other choice. It was not
//!   taken: every tool finds the engine by one path (cli.md) and would
//!   have to learn a second, and a second socket does not remove the need
//!   for a reserve, since accepting on it needs a free descriptor too,
//!   which users filling the table would have taken. With the reserve,
//!   accept does not fail for want of descriptors, and root's connection
//!   queued behind a flood of users' ones is reached after an accept and a
//!   close for each of those. When the flood fills the listen queue
//!   itself, a non-blocking connect fails with EAGAIN; the client then
//!   waits in the kernel's queue of connectors (client.rs), so root still
//!   gets in, among the flood's connections.

use super::{
    Answer, Call, Frame, MAX_FRAME, Request, VERSION, WireError, WireResult, read_frame_body,
    read_frame_len, write_frame,
};
use crate::engine::{Caller, Engine, HoldKind};
use crate::error::Error;
use crate::snapshot::Snapshot;
use crate::zone::ZoneId;
use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::{JoinHandle, JoinSet};

/// The holds a connection took, by the client's token.
type Holds = Arc<Mutex<HashMap<u64, Vec<crate::engine::Hold>>>>;

/// Frames queued for a connection's writer.
const OUT_QUEUE: usize = 64;

/// What a connection may cost zoned (module comment).
#[derive(Clone, Debug)]
pub struct Limits {
    /// Every connection says hello within this.
    pub hello_timeout: Duration,
    /// A user's connection with nothing running, read or written for this
    /// long is closed.
    pub idle_timeout: Duration,
    /// The largest frame before the hello, bytes.
    pub hello_frame: usize,
    /// The largest frame a user may send after the hello, bytes.
    pub user_frame: usize,
    /// Connections one (zone, uid) other than global root may hold.
    pub per_uid_conns: usize,
    /// Connections all users together may hold.
    pub users_conns: usize,
    /// Frame bytes one user may have in memory at once.
    pub per_uid_bytes: usize,
    /// Replies serialized for one user at once.
    pub per_uid_writers: usize,
    /// Calls running at once on one user's connection.
    pub user_in_flight: usize,
}

impl Limits {
    /// The limits of a process whose soft RLIMIT_NOFILE is `nofile`:
    /// users together get a quarter of it (module comment).
    pub fn for_nofile(nofile: u64) -> Limits {
        let users = (nofile / 4).clamp(4, 4096) as usize;
        Limits {
            hello_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(60),
            hello_frame: 1024,
            user_frame: 64 << 10,
            per_uid_conns: users.min(32),
            users_conns: users,
            per_uid_bytes: 1 << 20,
            per_uid_writers: 4,
            user_in_flight: 8,
        }
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::for_nofile(1024)
    }
}

/// Who a user's connection is counted under.
type UserKey = (ZoneId, u32);

/// What one user shares between its connections.
struct UserShare {
    /// Frame bytes in memory, in KiB permits.
    bytes: Arc<Semaphore>,
    /// Replies being serialized and written.
    writers: Arc<Semaphore>,
}

struct UserUse {
    conns: usize,
    share: Arc<UserShare>,
}

/// Users' connections, by (zone, uid) and in all.
#[derive(Default)]
struct Tally {
    users: usize,
    per: HashMap<UserKey, UserUse>,
}

/// One user connection's place in the [`Tally`], given back on drop.
struct Slot {
    tally: Arc<Mutex<Tally>>,
    key: UserKey,
    share: Arc<UserShare>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut t = self.tally.lock().unwrap();
        t.users = t.users.saturating_sub(1);
        if let Some(u) = t.per.get_mut(&self.key) {
            u.conns -= 1;
            if u.conns == 0 {
                t.per.remove(&self.key);
            }
        }
    }
}

/// A place for one more connection of `key`, unless that user or all
/// users are at their cap.
fn admit(tally: &Arc<Mutex<Tally>>, limits: &Limits, key: UserKey) -> Option<Slot> {
    let mut t = tally.lock().unwrap();
    if t.users >= limits.users_conns {
        return None;
    }
    let u = t.per.entry(key).or_insert_with(|| UserUse {
        conns: 0,
        share: Arc::new(UserShare {
            bytes: Arc::new(Semaphore::new((limits.per_uid_bytes / 1024).max(1))),
            writers: Arc::new(Semaphore::new(limits.per_uid_writers.max(1))),
        }),
    });
    if u.conns >= limits.per_uid_conns {
        if u.conns == 0 {
            t.per.remove(&key);
        }
        return None;
    }
    u.conns += 1;
    let share = u.share.clone();
    t.users += 1;
    Some(Slot {
        tally: tally.clone(),
        key,
        share,
    })
}

/// Serve the engine on a listening socket until the task is dropped, with
/// the limits of this process's descriptor limit (as the runtime reads it).
pub async fn serve(engine: Engine, listener: UnixListener) {
    let limits = Limits::for_nofile(engine.runtime().nofile_limit());
    serve_with(engine, listener, limits).await
}

/// [`serve`] with these limits.
pub async fn serve_with(engine: Engine, listener: UnixListener, limits: Limits) {
    let limits = Arc::new(limits);
    let tally: Arc<Mutex<Tally>> = Default::default();
    // Refused connections, logged at most every 10 s.
    let mut refused = 0u64;
    let mut last_warn: Option<Instant> = None;
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let Ok(cred) = stream.peer_cred() else {
                    continue;
                };
                let caller = Caller {
                    uid: cred.uid(),
                    zone: cred.pid().map_or(ZoneId::GLOBAL, |p| {
                        zone_of_pid(&engine.snapshot(), p as u32)
                    }),
                };
                let slot = if trusted(caller) {
                    None
                } else {
                    match admit(&tally, &limits, (caller.zone, caller.uid)) {
                        Some(s) => Some(s),
                        None => {
                            drop(stream);
                            refused += 1;
                            if last_warn.is_none_or(|t| t.elapsed() >= Duration::from_secs(10)) {
                                tracing::warn!(
                                    uid = caller.uid,
                                    zone = %caller.zone,
                                    refused,
                                    "api: connections of local users over their caps refused"
                                );
                                last_warn = Some(Instant::now());
                                refused = 0;
                            }
                            continue;
                        }
                    }
                };
                let engine = engine.clone();
                let limits = limits.clone();
                tokio::spawn(async move {
                    if let Err(e) = connection(engine, stream, caller, slot, limits).await {
                        tracing::debug!(
                            uid = caller.uid,
                            zone = %caller.zone,
                            "api connection ended: {e}"
                        );
                    }
                });
            }
            Err(e) => {
                tracing::warn!("api accept: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Root of the global zone: no caps, no idle timeout.
fn trusted(caller: Caller) -> bool {
    caller.uid == 0 && caller.zone.is_global()
}

/// The zone a host pid is in: the zone whose supervisor shares its pid
/// namespace, else the global zone.
pub fn zone_of_pid(snap: &Snapshot, pid: u32) -> ZoneId {
    let ns = |p: &str| std::fs::read_link(format!("/proc/{p}/ns/pid")).ok();
    let Some(mine) = ns(&pid.to_string()) else {
        return ZoneId::GLOBAL;
    };
    // The common case, and the one a flood of connections makes: a process
    // of our own pid namespace, found without a look at every zone.
    if ns("self").as_ref() == Some(&mine) {
        return ZoneId::GLOBAL;
    }
    snap.zones
        .iter()
        .filter(|z| z.zsched_pid != 0)
        .find(|z| ns(&z.zsched_pid.to_string()).as_ref() == Some(&mine))
        .map_or(ZoneId::GLOBAL, |z| z.id)
}

/// When a connection last read or wrote a frame, and its calls running.
struct Activity {
    last: Mutex<Instant>,
    in_flight: AtomicUsize,
}

impl Activity {
    fn touch(&self) {
        *self.last.lock().unwrap() = Instant::now();
    }
}

/// Counts one running call on a connection until dropped.
struct Running(Arc<Activity>);

impl Running {
    fn start(act: &Arc<Activity>) -> Running {
        act.in_flight.fetch_add(1, Ordering::Relaxed);
        Running(act.clone())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
        self.0.touch();
    }
}

/// A task cancelled when its owner goes.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Resolves once the connection has been idle for `limit`.
async fn idle(act: &Activity, limit: Duration) {
    loop {
        let quiet = act.last.lock().unwrap().elapsed();
        if quiet >= limit && act.in_flight.load(Ordering::Relaxed) == 0 {
            return;
        }
        let wait = limit.checked_sub(quiet).unwrap_or(limit);
        tokio::time::sleep(wait.max(Duration::from_millis(10))).await;
    }
}

async fn connection(
    engine: Engine,
    stream: UnixStream,
    caller: Caller,
    slot: Option<Slot>,
    limits: Arc<Limits>,
) -> io::Result<()> {
    let user = slot.as_ref().map(|s| s.share.clone());
    let (mut rd, wr) = stream.into_split();
    let (tx, rx) = mpsc::channel::<Frame>(OUT_QUEUE);
    let act = Arc::new(Activity {
        last: Mutex::new(Instant::now()),
        in_flight: AtomicUsize::new(0),
    });
    let mut writer = tokio::spawn(write_loop(wr, rx, act.clone(), user.clone()));
    let reading = read_loop(&engine, &mut rd, tx, caller, &limits, user.as_ref(), &act);
    let r = if user.is_some() {
        tokio::select! {
            r = reading => r,
            () = idle(&act, limits.idle_timeout) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("idle for {:?}: closed", limits.idle_timeout),
            )),
        }
    } else {
        reading.await
    };
    // The reader is gone, and with it the subscription and a user's calls.
    if user.is_some() {
        // What is queued goes out if the peer reads it soon.
        if r.is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(1), &mut writer).await;
        }
        writer.abort();
    } else {
        // Root's calls run to their end; their replies go out.
        let _ = writer.await;
    }
    drop(slot);
    r
}

/// Read one call of at most `max` bytes; a user's frame is counted
/// against its memory cap while it is in memory.
async fn read_call(
    rd: &mut OwnedReadHalf,
    max: usize,
    user: Option<&Arc<UserShare>>,
) -> io::Result<Option<Call>> {
    let Some(len) = read_frame_len(rd, max).await? else {
        return Ok(None);
    };
    let _budget = match user {
        Some(u) => Some(
            u.bytes
                .clone()
                .acquire_many_owned(len.div_ceil(1024).max(1) as u32)
                .await
                .map_err(|_| io::Error::other("closed"))?,
        ),
        None => None,
    };
    let v: serde_json::Value = read_frame_body(rd, len).await?;
    decode_call(&v).map(Some)
}

/// A frame's call. One this server cannot decode but whose `id` and `op`
/// it can read (a newer client's request) is an [`Unknown`]: the reader
/// answers it with an error naming the op, then closes the connection
/// as it does after any frame it cannot decode.
fn decode_call(v: &serde_json::Value) -> io::Result<Call> {
    use serde::Deserialize;
    Call::deserialize(v).map_err(|e| {
        let id = v.get("id").and_then(serde_json::Value::as_u64);
        let op = v
            .get("request")
            .and_then(|r| r.get("op"))
            .and_then(serde_json::Value::as_str);
        match (id, op) {
            (Some(id), Some(op)) => io::Error::new(
                io::ErrorKind::InvalidData,
                Unknown {
                    id,
                    error: Error::Protocol(format!(
                        "request '{op}' not understood by this server (protocol {VERSION}, features {:?}): {e}",
                        super::FEATURES
                    )),
                },
            ),
            _ => io::Error::new(io::ErrorKind::InvalidData, e),
        }
    })
}

/// A call this server cannot decode, and the error that answers it.
#[derive(Debug)]
struct Unknown {
    id: u64,
    error: Error,
}

impl std::fmt::Display for Unknown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "call {}: {}", self.id, self.error)
    }
}

impl std::error::Error for Unknown {}

/// Read the next call; `Ok(None)` at the end of the stream or after a
/// call this server cannot decode was answered with its error.
async fn next_call(
    rd: &mut OwnedReadHalf,
    max: usize,
    user: Option<&Arc<UserShare>>,
    tx: &mpsc::Sender<Frame>,
) -> io::Result<Option<Call>> {
    match read_call(rd, max, user).await {
        Err(e) if e.get_ref().is_some_and(|i| i.is::<Unknown>()) => {
            let u = e
                .into_inner()
                .and_then(|i| i.downcast::<Unknown>().ok())
                .expect("checked above");
            tracing::warn!("{u}; closing the connection");
            let _ = tx.send(err_reply(u.id, u.error)).await;
            Ok(None)
        }
        r => r,
    }
}

async fn write_loop(
    mut wr: OwnedWriteHalf,
    mut rx: mpsc::Receiver<Frame>,
    act: Arc<Activity>,
    user: Option<Arc<UserShare>>,
) {
    while let Some(f) = rx.recv().await {
        let _turn = match &user {
            Some(u) => match u.writers.clone().acquire_owned().await {
                Ok(p) => Some(p),
                Err(_) => break,
            },
            None => None,
        };
        if write_frame(&mut wr, &f).await.is_err() {
            break;
        }
        act.touch();
    }
}

fn err_reply(id: u64, e: Error) -> Frame {
    Frame::Reply {
        id,
        result: WireResult::Err(WireError::from(e)),
    }
}

async fn read_loop(
    engine: &Engine,
    rd: &mut OwnedReadHalf,
    tx: mpsc::Sender<Frame>,
    caller: Caller,
    limits: &Limits,
    user: Option<&Arc<UserShare>>,
    act: &Arc<Activity>,
) -> io::Result<()> {
    // The hello, within its time and its bound.
    let deadline = tokio::time::Instant::now() + limits.hello_timeout;
    loop {
        let call =
            match tokio::time::timeout_at(deadline, next_call(rd, limits.hello_frame, user, &tx))
                .await
            {
                Err(_) => {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("no hello within {:?}: closed", limits.hello_timeout),
                    ));
                }
                Ok(r) => match r? {
                    None => return Ok(()),
                    Some(c) => c,
                },
            };
        act.touch();
        let (done, frame) = match call.request {
            Request::Hello { version } if version == VERSION => (
                true,
                Frame::Reply {
                    id: call.id,
                    result: WireResult::Ok(Answer::Hello {
                        version: VERSION,
                        engine: engine.snapshot().engine.clone(),
                        features: super::FEATURES.iter().map(|f| f.to_string()).collect(),
                    }),
                },
            ),
            Request::Hello { version } => (
                false,
                err_reply(
                    call.id,
                    Error::Protocol(format!("protocol version {version} is not {VERSION}")),
                ),
            ),
            _ => (
                false,
                err_reply(call.id, Error::Protocol("say hello first".into())),
            ),
        };
        let _ = tx.send(frame).await;
        if done {
            break;
        }
    }
    let max = if user.is_some() {
        limits.user_frame
    } else {
        MAX_FRAME
    };
    let holds: Holds = Arc::new(Mutex::new(HashMap::new()));
    let mut subscription: Option<AbortOnDrop> = None;
    // A user's calls, cancelled with the connection (dropping the set
    // aborts them), at most `user_in_flight` at once.
    let mut calls: JoinSet<()> = JoinSet::new();
    while let Some(call) = next_call(rd, max, user, &tx).await? {
        act.touch();
        while calls.try_join_next().is_some() {}
        match call.request {
            Request::Subscribe => {
                let _ = tx
                    .send(Frame::Reply {
                        id: call.id,
                        result: WireResult::Ok(Answer::Unit),
                    })
                    .await;
                if subscription.is_none() {
                    let mut snaps = engine.subscribe();
                    let first = snaps.borrow_and_update().clone();
                    let tx = tx.clone();
                    subscription = Some(AbortOnDrop(tokio::spawn(async move {
                        let mut s = first;
                        loop {
                            if tx
                                .send(Frame::Snapshot {
                                    snapshot: visible(&s, caller),
                                })
                                .await
                                .is_err()
                                || snaps.changed().await.is_err()
                            {
                                break;
                            }
                            s = snaps.borrow_and_update().clone();
                        }
                    })));
                }
            }
            // Holds and releases are applied in stream order, here, so a
            // release always finds the hold it names.
            Request::Hold {
                id,
                uniqid,
                mntfs,
                token,
            } => {
                let r = if user.is_some() {
                    Err(Error::NotRoot)
                } else {
                    hold(engine, caller, id, uniqid, mntfs).map(|h| {
                        holds.lock().unwrap().insert(token, h);
                    })
                };
                if call.id != 0 {
                    let result = match r {
                        Ok(()) => WireResult::Ok(Answer::Unit),
                        Err(e) => WireResult::Err(WireError::from(&e)),
                    };
                    let _ = tx
                        .send(Frame::Reply {
                            id: call.id,
                            result,
                        })
                        .await;
                }
            }
            Request::Release { token } => {
                holds.lock().unwrap().remove(&token);
            }
            request => {
                let engine = engine.clone();
                let tx = tx.clone();
                let running = Running::start(act);
                let task = async move {
                    let result = match handle(&engine, caller, request).await {
                        Ok(a) => WireResult::Ok(a),
                        Err(e) => WireResult::Err(WireError::from(&e)),
                    };
                    drop(running);
                    let _ = tx
                        .send(Frame::Reply {
                            id: call.id,
                            result,
                        })
                        .await;
                };
                if user.is_some() {
                    while calls.len() >= limits.user_in_flight.max(1) {
                        calls.join_next().await;
                    }
                    calls.spawn(task);
                } else {
                    tokio::spawn(task);
                }
            }
        }
    }
    Ok(())
}

/// What a caller may see of a snapshot: everything from the global zone,
/// only its own zone from inside one.
fn visible(s: &Arc<Snapshot>, caller: Caller) -> Arc<Snapshot> {
    if caller.zone.is_global() {
        return s.clone();
    }
    let mut own = (**s).clone();
    own.zones.retain(|z| z.id == caller.zone);
    own.configured.clear();
    Arc::new(own)
}

/// [`Request::ListSnapshot`]'s answer (older clients; `zoneadm list` asks
/// [`Request::ListRows`]): each zone's identity, state, path,
/// brand and parameters (ip-type and uuid come from them); its counters,
/// processes, privileges and reference counts left at their defaults.
fn list_view(s: &Arc<Snapshot>) -> Arc<Snapshot> {
    let mut light = Snapshot {
        seq: s.seq,
        time: s.time,
        hrtime: s.hrtime,
        host: s.host.clone(),
        zones: Vec::with_capacity(s.zones.len()),
        configured: s.configured.clone(),
        engine: s.engine.clone(),
    };
    for z in &s.zones {
        light.zones.push(Arc::new(crate::snapshot::ZoneSnapshot {
            id: z.id,
            name: z.name.clone(),
            uniqid: z.uniqid,
            status: z.status,
            root: z.root.clone(),
            brand: z.brand,
            hostname: z.hostname.clone(),
            parent: z.parent,
            init_pid: z.init_pid,
            zsched_pid: z.zsched_pid,
            boot_time: z.boot_time,
            crtime: z.crtime,
            privileges: Vec::new(),
            params: z.params.clone(),
            refs: Default::default(),
            kstat: Default::default(),
            procs: Vec::new(),
        }));
    }
    Arc::new(light)
}

/// zone_ref (and MNTFS) on a zone, for a caller that may read it.
fn hold(
    engine: &Engine,
    caller: Caller,
    id: ZoneId,
    uniqid: Option<u64>,
    mntfs: bool,
) -> Result<Vec<crate::engine::Hold>, Error> {
    if !caller.zone.is_global() && caller.zone != id {
        return Err(Error::NoSuchZone(id.to_string()));
    }
    if let Some(u) = uniqid
        && engine.snapshot().zone(id).is_none_or(|z| z.uniqid != u)
    {
        return Err(Error::NoSuchZone(id.to_string()));
    }
    let mut v = vec![engine.hold(id, HoldKind::ZoneRef)?];
    if mntfs {
        v.push(engine.hold(id, HoldKind::Subsys(crate::snapshot::Subsys::Mntfs))?);
    }
    Ok(v)
}

/// The configuration a configured-zone request reads: the part of the
/// client's it carries, else the engine's own (super's "By name"); an
/// engine given none configures no zone.
fn resolved(
    engine: &Engine,
    conf: Option<crate::jailconf::Config>,
    name: &str,
) -> Result<Arc<crate::jailconf::Config>, Error> {
    match conf {
        Some(c) => Ok(Arc::new(c)),
        None => engine
            .configuration()
            .ok_or_else(|| Error::NotConfigured(name.to_string())),
    }
}

async fn handle(engine: &Engine, caller: Caller, req: Request) -> Result<Answer, Error> {
    if req.is_control() && caller.uid != 0 {
        return Err(Error::NotRoot);
    }
    Ok(match req {
        Request::Hello { .. } | Request::Subscribe => Answer::Unit,
        Request::Snapshot => Answer::Snapshot {
            snapshot: visible(&engine.snapshot(), caller),
        },
        Request::ListSnapshot => Answer::Snapshot {
            snapshot: list_view(&visible(&engine.snapshot(), caller)),
        },
        Request::ListRows => Answer::Rows {
            listing: engine.listing(&caller),
        },
        Request::List => Answer::Ids {
            ids: engine.list(&caller),
        },
        Request::Lookup { name } => Answer::Id {
            id: engine.lookup(&caller, &name)?,
        },
        Request::Create { params } => Answer::Id {
            id: engine.create(&caller, params).await?,
        },
        Request::Boot { id, init } => engine.boot_with(&caller, id, init).await?.into(),
        Request::Shutdown { id } => {
            engine.shutdown(&caller, id).await?;
            Answer::Unit
        }
        Request::Halt { id } => {
            engine.halt(&caller, id).await?;
            Answer::Unit
        }
        Request::Reboot { id } => engine.reboot(&caller, id).await?.into(),
        Request::Destroy { id } => {
            engine.destroy(&caller, id).await?;
            Answer::Unit
        }
        Request::Getattr { id, attr } => {
            let _hold = engine.hold(id, HoldKind::ZoneRef).ok();
            Answer::Value {
                value: engine.getattr(&caller, id, &attr)?,
            }
        }
        Request::Setattr { id, attr, value } => {
            engine.setattr(&caller, id, &attr, value).await?;
            Answer::Unit
        }
        Request::WaitStatus {
            id,
            status,
            timeout_ms,
        } => Answer::Status {
            status: engine
                .wait_status(id, status, timeout_ms.map(Duration::from_millis))
                .await?,
        },
        Request::JailSet { params, flags } => Answer::Id {
            id: engine
                .jail_set(&caller, params, super::flags(flags))
                .await?,
        },
        Request::JailGet { key, names, flags } => {
            let key = key.into();
            let (id, params) = if names.is_empty() {
                engine.jail_get(&caller, &key, super::flags(flags))?
            } else {
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                engine.jail_get_params(&caller, &key, &names, super::flags(flags))?
            };
            Answer::Params { id, params }
        }
        Request::JailRemove { id } => {
            engine.jail_remove(&caller, id).await?;
            Answer::Unit
        }
        Request::JailAttach { id } => {
            let a = engine.jail_attach(&caller, id)?;
            Answer::Attach {
                id: a.id,
                name: a.name.to_string(),
                root: a.root,
                handle: a.handle,
                params: a.params,
            }
        }
        // Taken in stream order by the connection itself.
        Request::Hold { .. } | Request::Release { .. } => Answer::Unit,
        Request::Verify { conf, name } => {
            let conf = resolved(engine, conf, &name)?;
            engine.verify(&caller, &conf, &name).await?;
            Answer::Unit
        }
        Request::Install { conf, name } => {
            let conf = resolved(engine, conf, &name)?;
            Answer::Installed {
                installed: engine.install(&caller, &conf, &name).await?,
            }
        }
        Request::Uninstall { conf, name } => {
            let conf = resolved(engine, conf, &name)?;
            engine.uninstall(&caller, &conf, &name).await?;
            Answer::Unit
        }
        Request::CloneZone { conf, name, src } => {
            let conf = resolved(engine, conf, &name)?;
            engine.clone_zone(&caller, &conf, &name, &src).await?;
            Answer::Unit
        }
        Request::BootConfigured { conf, name, how } => {
            let conf = resolved(engine, conf, &name)?;
            Answer::Id {
                id: engine.boot_configured(&caller, &conf, &name, &how).await?,
            }
        }
        Request::ShutdownZone { name } => {
            engine.shutdown_zone(&caller, &name).await?;
            Answer::Unit
        }
        Request::HaltZone { name } => {
            engine.halt_zone(&caller, &name).await?;
            Answer::Unit
        }
        Request::RebootZone { name } => engine.reboot_zone(&caller, &name).await?.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Client, Zones};
    use crate::api::{FEATURE_BY_NAME, ZoneApi};
    use crate::engine::{BootFrom, EngineConfig, params_from_args};
    use crate::runtime::NullRuntime;
    use crate::zone::Status;

    fn engine() -> Engine {
        Engine::new(Arc::new(NullRuntime::new()), EngineConfig::default())
    }

    #[test]
    fn the_list_snapshot_keeps_what_list_shows_and_drops_the_rest() {
        let z = crate::testing::ZoneBuilder::new(3, "web")
            .privileges(&["cap_chown", "cap_kill"])
            .procs(vec![10, 11, 12])
            .kstat(crate::snapshot::Kstat {
                nprocs: 3,
                nsec_user: 99,
                ..Default::default()
            })
            .build();
        let full = Arc::new(Snapshot {
            seq: 7,
            zones: vec![Arc::new(z.clone())],
            ..Default::default()
        });
        let light = list_view(&full);
        assert_eq!(light.seq, 7);
        let l = &light.zones[0];
        assert_eq!((l.id, l.name.as_str(), l.status), (z.id, "web", z.status));
        assert_eq!((&l.root, l.brand, l.uniqid), (&z.root, z.brand, z.uniqid));
        assert_eq!(l.params, z.params, "ip-type and uuid come from them");
        assert!(l.privileges.is_empty() && l.procs.is_empty());
        assert_eq!(l.kstat.nprocs, 0);
        let big = serde_json::to_vec(&*full).unwrap().len();
        let small = serde_json::to_vec(&*light).unwrap().len();
        assert!(small < big, "{small} >= {big}");
    }

    #[tokio::test]
    async fn a_client_drives_the_daemon_and_sees_pushed_snapshots() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("zoned.sock");
        let e = engine();
        let server = tokio::spawn(serve(e.clone(), UnixListener::bind(&sock).unwrap()));
        let z = Zones::Daemon(Arc::new(Client::connect(&sock).await.unwrap()));
        assert_eq!(z.engine_name(), "embedded");
        let Zones::Daemon(c) = &z else { unreachable!() };
        let mut snaps = c.subscribe().await.unwrap();
        let root = Caller::ROOT;
        let id = z
            .create(&root, params_from_args(&["name=web", "persist"]).unwrap())
            .await
            .unwrap();
        let b = z.boot(&root, id).await.unwrap();
        assert_eq!(b.id, id);
        assert_eq!(z.lookup(&root, "web").await.unwrap(), id);
        // The pushed snapshots reach the running zone.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let running = snaps
                .borrow_and_update()
                .as_ref()
                .and_then(|s| s.zone(id).map(|z| z.status == Status::Running))
                .unwrap_or(false);
            if running {
                break;
            }
            tokio::time::timeout_at(deadline, snaps.changed())
                .await
                .expect("no snapshot with the zone running")
                .unwrap();
        }
        // An error crosses the socket whole: the same variant as the
        // engine's own, so a tool can match on it (jail -mr restarts on
        // Unchangeable) whichever engine it talks to.
        let err = z.boot(&root, id).await.unwrap_err();
        assert_eq!(err, e.boot(&root, id).await.unwrap_err());
        assert_eq!(err.errno(), crate::errno::EINVAL);
        assert!(err.to_string().contains("web"), "{err}");
        let change = || params_from_args(&["name=web", "path=/elsewhere"]).unwrap();
        let err = z
            .jail_set(&root, change(), crate::engine::JailFlags::UPDATE)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Unchangeable { .. }), "{err:?}");
        assert_eq!(
            err,
            e.jail_set(&root, change(), crate::engine::JailFlags::UPDATE)
                .await
                .unwrap_err()
        );
        z.halt(&root, id).await.unwrap();
        assert!(z.lookup(&root, "web").await.is_err());
        server.abort();
    }

    #[tokio::test]
    async fn a_client_of_another_version_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("zoned.sock");
        let server = tokio::spawn(serve(engine(), UnixListener::bind(&sock).unwrap()));
        let mut s = UnixStream::connect(&sock).await.unwrap();
        crate::api::write_frame(
            &mut s,
            &Call {
                id: 1,
                request: Request::Hello { version: 99 },
            },
        )
        .await
        .unwrap();
        let f: Frame = crate::api::read_frame(&mut s).await.unwrap().unwrap();
        assert!(
            matches!(f, Frame::Reply { result: WireResult::Err(ref e), .. } if e.errno == crate::errno::EPROTO)
        );
        server.abort();
    }

    #[tokio::test]
    async fn only_root_may_change_zones_and_everyone_may_read() {
        let e = engine();
        let user = Caller::user(1000);
        let params = params_from_args(&["name=a"]).unwrap();
        let err = handle(&e, user, Request::Create { params })
            .await
            .unwrap_err();
        assert_eq!(err.errno(), crate::errno::EPERM);
        assert!(handle(&e, user, Request::Snapshot).await.is_ok());
        assert!(handle(&e, user, Request::List).await.is_ok());
    }

    fn configured(text: &str) -> crate::jailconf::Config {
        crate::jailconf::Config::parse_str(text, "server.conf").unwrap()
    }

    #[tokio::test]
    async fn a_zone_named_without_a_configuration_is_resolved_against_the_servers_own() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("zoned.sock");
        let e = engine();
        e.set_configuration(configured(
            "web { path = \"/\"; persist; }\nspare { path = \"/nonexistent/spare\"; }\n",
        ));
        let server = tokio::spawn(serve(e.clone(), UnixListener::bind(&sock).unwrap()));
        let z = Zones::Daemon(Arc::new(Client::connect(&sock).await.unwrap()));
        let Zones::Daemon(c) = &z else { unreachable!() };
        assert!(c.features.iter().any(|f| f == crate::api::FEATURE_BY_NAME));
        let root = Caller::ROOT;
        // The client read no jail.conf: web is the server's.
        let id = z.boot_named(&root, "web", &BootFrom::BOOT).await.unwrap();
        assert_eq!(z.lookup(&root, "web").await.unwrap(), id);
        // The server's own errors, by name: not configured there, not
        // installed there, running there.
        assert_eq!(
            z.boot_named(&root, "ghost", &BootFrom::BOOT).await,
            Err(Error::NotConfigured("ghost".into()))
        );
        let err = z
            .boot_named(&root, "spare", &BootFrom::BOOT)
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::NotInstalled { ref zone, .. } if zone == "spare"),
            "{err:?}"
        );
        let err = z.uninstall_named(&root, "web").await.unwrap_err();
        assert!(
            matches!(err, Error::BadState { ref op, .. } if op == "uninstall"),
            "{err:?}"
        );
        let err = z.install_named(&root, "ghost").await.unwrap_err();
        assert_eq!(err, Error::NotConfigured("ghost".into()));
        // An old client's request carries its configuration, which is
        // used, not the server's: `db` is only the client's.
        let mine = configured("db { path = \"/\"; persist; }\n");
        let db = z
            .boot_configured(&root, &mine, "db", &BootFrom::READY)
            .await
            .unwrap();
        assert_eq!(z.lookup(&root, "db").await.unwrap(), db);
        z.halt_zone(&root, "web").await.unwrap();
        z.halt_zone(&root, "db").await.unwrap();
        // A SIGHUP's new configuration is the one names resolve against.
        e.set_configuration(configured("other { path = \"/\"; }\n"));
        assert_eq!(
            z.boot_named(&root, "web", &BootFrom::BOOT).await,
            Err(Error::NotConfigured("web".into()))
        );
        server.abort();
    }

    #[tokio::test]
    async fn an_engine_given_no_configuration_configures_no_zone_by_name() {
        let e = engine();
        let root = Caller::ROOT;
        let r = handle(
            &e,
            root,
            Request::BootConfigured {
                conf: None,
                name: "web".into(),
                how: BootFrom::BOOT,
            },
        )
        .await;
        assert_eq!(r.unwrap_err(), Error::NotConfigured("web".into()));
        // The embedded engine's own by-name calls answer the same.
        let z = Zones::Embedded(e.clone());
        assert_eq!(
            z.boot_named(&root, "web", &BootFrom::BOOT).await,
            Err(Error::NotConfigured("web".into()))
        );
        e.set_configuration(configured("web { path = \"/\"; persist; }\n"));
        let id = z.boot_named(&root, "web", &BootFrom::READY).await.unwrap();
        assert_eq!(e.snapshot().zone(id).map(|z| z.status), Some(Status::Ready));
        z.halt_zone(&root, "web").await.unwrap();
    }

    #[tokio::test]
    async fn only_root_may_boot_install_or_uninstall_by_name() {
        let e = engine();
        e.set_configuration(configured("web { path = \"/\"; persist; }\n"));
        for uid in [65534, 1000] {
            let user = Caller::user(uid);
            for req in [
                Request::BootConfigured {
                    conf: None,
                    name: "web".into(),
                    how: BootFrom::BOOT,
                },
                Request::Install {
                    conf: None,
                    name: "web".into(),
                },
                Request::Uninstall {
                    conf: None,
                    name: "web".into(),
                },
                Request::RebootZone { name: "web".into() },
                Request::ShutdownZone { name: "web".into() },
            ] {
                let err = handle(&e, user, req.clone()).await.unwrap_err();
                assert_eq!(err, Error::NotRoot, "uid {uid}: {req:?}");
            }
        }
        assert!(e.lookup(&Caller::ROOT, "web").is_err(), "nothing was made");
    }

    #[tokio::test]
    async fn a_client_refuses_a_by_name_call_to_a_server_that_did_not_offer_it() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("zoned.sock");
        let e = engine();
        e.set_configuration(configured("web { path = \"/\"; persist; }\n"));
        let server = tokio::spawn(serve(e.clone(), UnixListener::bind(&sock).unwrap()));
        let mut c = Client::connect(&sock).await.unwrap();
        // What a client reads from an older server's hello.
        c.features.clear();
        let err = c
            .boot_named(&Caller::ROOT, "web", &BootFrom::BOOT)
            .await
            .unwrap_err();
        assert_eq!(err.errno(), crate::errno::EPROTO);
        assert!(err.to_string().contains("older than this client"), "{err}");
        assert!(e.lookup(&Caller::ROOT, "web").is_err(), "nothing was sent");
        server.abort();
    }

    #[tokio::test]
    async fn an_unknown_request_is_answered_with_an_error_naming_it() {
        use tokio::io::AsyncWriteExt;
        let e = engine();
        for (caller, slot) in [
            (Caller::ROOT, None),
            (Caller::user(65534), Some(user_slot(&quick(), 65534))),
        ] {
            let mut s = serve_pair(&e, caller, slot, quick());
            say(&mut s, 1, Request::Hello { version: VERSION }).await;
            match answer(&mut s).await {
                Frame::Reply {
                    result: WireResult::Ok(Answer::Hello { features, .. }),
                    ..
                } => assert_eq!(features, [FEATURE_BY_NAME]),
                f => panic!("{f:?}"),
            }
            let body = br#"{"id":7,"request":{"op":"frobnicate","zone":"web"}}"#;
            let mut f = (body.len() as u32).to_be_bytes().to_vec();
            f.extend_from_slice(body);
            s.write_all(&f).await.unwrap();
            match answer(&mut s).await {
                Frame::Reply {
                    id: 7,
                    result: WireResult::Err(e),
                } => {
                    assert_eq!(e.errno, crate::errno::EPROTO);
                    assert!(e.message.contains("'frobnicate'"), "{}", e.message);
                }
                f => panic!("{f:?}"),
            }
            assert!(closed_within(&mut s, Duration::from_millis(500)).await);
        }
    }

    fn quick() -> Limits {
        Limits {
            hello_timeout: Duration::from_millis(300),
            idle_timeout: Duration::from_millis(300),
            ..Limits::for_nofile(1024)
        }
    }

    /// One end of a socket pair served as `caller` (a user when `slot`).
    fn serve_pair(e: &Engine, caller: Caller, slot: Option<Slot>, limits: Limits) -> UnixStream {
        let (ours, theirs) = UnixStream::pair().unwrap();
        tokio::spawn(connection(
            e.clone(),
            theirs,
            caller,
            slot,
            Arc::new(limits),
        ));
        ours
    }

    fn user_slot(limits: &Limits, uid: u32) -> Slot {
        admit(&Default::default(), limits, (ZoneId::GLOBAL, uid)).unwrap()
    }

    async fn say(s: &mut UnixStream, id: u64, request: Request) {
        crate::api::write_frame(s, &Call { id, request })
            .await
            .unwrap();
    }

    async fn answer(s: &mut UnixStream) -> Frame {
        crate::api::read_frame(s).await.unwrap().expect("a frame")
    }

    /// The server closes the connection within `within` (EOF or reset).
    async fn closed_within(s: &mut UnixStream, within: Duration) -> bool {
        use tokio::io::AsyncReadExt;
        let mut b = [0u8; 4096];
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, s.read(&mut b)).await {
                Err(_) => return false,
                Ok(Ok(0)) | Ok(Err(_)) => return true,
                Ok(Ok(_)) => {}
            }
        }
    }

    async fn announce(s: &mut UnixStream, len: u32) {
        use tokio::io::AsyncWriteExt;
        s.write_all(&len.to_be_bytes()).await.unwrap();
    }

    #[tokio::test]
    async fn a_frame_over_the_hello_bound_before_the_hello_closes_even_roots_connection() {
        let e = engine();
        for (caller, slot) in [
            (Caller::ROOT, None),
            (Caller::user(1000), Some(user_slot(&quick(), 1000))),
        ] {
            let mut s = serve_pair(&e, caller, slot, quick());
            announce(&mut s, 64 << 20).await;
            assert!(closed_within(&mut s, Duration::from_millis(200)).await);
        }
    }

    #[tokio::test]
    async fn a_connection_that_does_not_say_hello_is_closed() {
        let e = engine();
        let mut s = serve_pair(&e, Caller::ROOT, None, quick());
        assert!(!closed_within(&mut s, Duration::from_millis(100)).await);
        assert!(closed_within(&mut s, Duration::from_millis(1000)).await);
    }

    #[tokio::test]
    async fn a_user_gets_a_small_frame_cap_and_root_does_not() {
        let e = engine();
        let l = quick();
        let mut u = serve_pair(&e, Caller::user(1000), Some(user_slot(&l, 1000)), l.clone());
        say(&mut u, 1, Request::Hello { version: VERSION }).await;
        assert!(matches!(
            answer(&mut u).await,
            Frame::Reply {
                result: WireResult::Ok(_),
                ..
            }
        ));
        announce(&mut u, l.user_frame as u32 + 1).await;
        assert!(closed_within(&mut u, Duration::from_millis(200)).await);
        // Root may announce a large frame; nothing is allocated until its
        // bytes come, and the connection waits for them.
        let mut r = serve_pair(&e, Caller::ROOT, None, l);
        say(&mut r, 1, Request::Hello { version: VERSION }).await;
        answer(&mut r).await;
        announce(&mut r, 32 << 20).await;
        assert!(!closed_within(&mut r, Duration::from_millis(700)).await);
    }

    #[tokio::test]
    async fn an_idle_user_is_closed_and_idle_root_and_reading_subscribers_are_not() {
        let e = engine();
        let l = quick();
        let hello = async |s: &mut UnixStream| {
            say(s, 1, Request::Hello { version: VERSION }).await;
            answer(s).await;
        };
        let mut idle = serve_pair(&e, Caller::user(1000), Some(user_slot(&l, 1000)), l.clone());
        hello(&mut idle).await;
        let mut root = serve_pair(&e, Caller::ROOT, None, l.clone());
        hello(&mut root).await;
        let mut sub = serve_pair(&e, Caller::user(1001), Some(user_slot(&l, 1001)), l.clone());
        hello(&mut sub).await;
        say(&mut sub, 2, Request::Subscribe).await;
        answer(&mut sub).await;
        answer(&mut sub).await;
        // The subscriber reads what the engine pushes (a change every 100 ms).
        let churn = {
            let e = e.clone();
            tokio::spawn(async move {
                for i in 0..30 {
                    let name = format!("z{i}");
                    let _ = e
                        .create(
                            &Caller::ROOT,
                            params_from_args(&[&format!("name={name}")]).unwrap(),
                        )
                        .await;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            })
        };
        let reader = tokio::spawn(async move {
            let mut n = 0;
            while let Ok(Some(_)) = crate::api::read_frame::<_, Frame>(&mut sub).await {
                n += 1;
                if n >= 10 {
                    return true;
                }
            }
            false
        });
        assert!(closed_within(&mut idle, Duration::from_millis(1000)).await);
        assert!(!closed_within(&mut root, Duration::from_millis(700)).await);
        assert!(
            reader.await.unwrap(),
            "a reading subscriber is kept past the idle timeout"
        );
        churn.abort();
    }

    #[tokio::test]
    async fn users_may_not_take_holds() {
        let e = engine();
        let root = Caller::ROOT;
        let id = e
            .create(&root, params_from_args(&["name=h"]).unwrap())
            .await
            .unwrap();
        let l = quick();
        let mut u = serve_pair(&e, Caller::user(1000), Some(user_slot(&l, 1000)), l);
        say(&mut u, 1, Request::Hello { version: VERSION }).await;
        answer(&mut u).await;
        say(
            &mut u,
            2,
            Request::Hold {
                id,
                uniqid: None,
                mntfs: false,
                token: 7,
            },
        )
        .await;
        match answer(&mut u).await {
            Frame::Reply {
                id: 2,
                result: WireResult::Err(err),
            } => assert_eq!(err.errno, crate::errno::EPERM),
            f => panic!("{f:?}"),
        }
    }

    #[test]
    fn users_are_capped_per_uid_and_in_all() {
        let l = Limits {
            per_uid_conns: 2,
            users_conns: 3,
            ..Limits::for_nofile(1024)
        };
        let t: Arc<Mutex<Tally>> = Default::default();
        let key = |uid| (ZoneId::GLOBAL, uid);
        let a1 = admit(&t, &l, key(1)).unwrap();
        let _a2 = admit(&t, &l, key(1)).unwrap();
        assert!(admit(&t, &l, key(1)).is_none(), "per uid");
        let _b1 = admit(&t, &l, key(2)).unwrap();
        assert!(admit(&t, &l, key(3)).is_none(), "in all");
        drop(a1);
        assert!(
            admit(&t, &l, key(1)).is_some(),
            "a closed connection gives its place back"
        );
        assert_eq!(t.lock().unwrap().per.len(), 2);
    }

    #[test]
    fn limits_leave_root_three_quarters_of_the_descriptors() {
        let l = Limits::for_nofile(512);
        assert_eq!(l.users_conns, 128);
        assert!(l.per_uid_conns <= l.users_conns);
        assert_eq!(Limits::for_nofile(1 << 20).users_conns, 4096);
    }

    #[tokio::test]
    async fn a_caller_inside_a_zone_sees_only_its_zone() {
        let e = engine();
        let root = Caller::ROOT;
        let a = e
            .create(&root, params_from_args(&["name=a"]).unwrap())
            .await
            .unwrap();
        e.create(&root, params_from_args(&["name=b"]).unwrap())
            .await
            .unwrap();
        let inside = Caller { uid: 0, zone: a };
        let s = visible(&e.snapshot(), inside);
        assert_eq!(s.zones.len(), 1);
        assert_eq!(s.zones[0].id, a);
        assert_eq!(visible(&e.snapshot(), root).zones.len(), 3);
    }
}
