//! The client's side of the API, and [`Zones`]: one handle for a tool,
//! whether the engine is the daemon's or embedded in the tool. The
//! operations themselves are [`ZoneApi`]'s (ops.rs); a [`Zones`]
//! dereferences to the one it holds.

use super::{Answer, Call, Frame, Request, VERSION, WireResult, ZoneApi, read_frame, write_frame};
use crate::engine::Engine;
use crate::error::Error;
use crate::snapshot::Snapshot;
use crate::zone::ZoneId;
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::UnixStream;
use tokio::sync::{mpsc, oneshot, watch};

/// How long a client waits for the daemon's hello.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a client waits for room in the daemon's listen queue.
const CONNECT_WAIT: Duration = Duration::from_secs(5);

/// Connect to the daemon's socket. When its listen queue is full (other
/// users flooding it with connections the daemon accepts and closes), a
/// non-blocking connect fails at once with EAGAIN; then wait in the
/// kernel's queue of connectors, as a blocking connect does, for up to
/// [`CONNECT_WAIT`], so root's tools are served after the flood's
/// connections instead of falling back to an embedded engine.
async fn connect_stream(socket: &Path) -> std::io::Result<UnixStream> {
    match UnixStream::connect(socket).await {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        r => return r,
    }
    let path = socket.to_path_buf();
    let std = tokio::task::spawn_blocking(move || blocking_connect(&path, CONNECT_WAIT))
        .await
        .map_err(std::io::Error::other)??;
    std.set_nonblocking(true)?;
    UnixStream::from_std(std)
}

fn blocking_connect(
    path: &Path,
    wait: Duration,
) -> std::io::Result<std::os::unix::net::UnixStream> {
    use socket2::{Domain, SockAddr, Socket, Type};
    let named =
        |e: std::io::Error| std::io::Error::new(e.kind(), format!("{}: {e}", path.display()));
    let sock = Socket::new(Domain::UNIX, Type::STREAM.cloexec(), None).map_err(named)?;
    // SO_SNDTIMEO bounds a Unix stream connect's wait for the queue.
    sock.set_write_timeout(Some(wait)).map_err(named)?;
    sock.connect(&SockAddr::unix(path).map_err(named)?)
        .map_err(named)?;
    Ok(std::os::unix::net::UnixStream::from(
        std::os::fd::OwnedFd::from(sock),
    ))
}

type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<WireResult>>>>;

/// A call sent whose answer has not been awaited yet.
pub struct Answering(Result<oneshot::Receiver<WireResult>, Error>);

/// A connection to zoned.
pub struct Client {
    pub(super) next: AtomicU64,
    tx: mpsc::UnboundedSender<Call>,
    pending: Pending,
    /// The daemon went away: a call made after that fails at once (the
    /// reader cleared the pending calls already, so none would answer).
    closed: Arc<std::sync::atomic::AtomicBool>,
    snapshots: watch::Receiver<Option<Arc<Snapshot>>>,
    /// Told the server we want snapshots pushed.
    subscribed: Mutex<bool>,
    pub engine: String,
    /// What the daemon's hello said it does beyond the version's base
    /// (super::FEATURES).
    pub features: Vec<String>,
}

impl Client {
    /// Connect and say hello. Fails when no daemon answers.
    pub async fn connect(socket: &Path) -> std::io::Result<Client> {
        Ok(Client::connect_with(socket, None).await?.0)
    }

    /// Connect, say hello and send `first` right behind the hello, before
    /// its answer: a one-call tool (`zoneadm list`) waits for the daemon
    /// once instead of twice — on a loaded host each wait for the daemon
    /// is a wait for a CPU, longer than the call itself. The server reads
    /// the hello first and refuses the call with the connection if it
    /// refuses the hello. Await `first`'s answer with [`Client::answer`].
    pub async fn connect_with(
        socket: &Path,
        first: Option<Request>,
    ) -> std::io::Result<(Client, Option<Answering>)> {
        let stream = connect_stream(socket).await?;
        let (mut rd, mut wr) = stream.into_split();
        let (tx, mut rx) = mpsc::unbounded_channel::<Call>();
        tokio::spawn(async move {
            while let Some(c) = rx.recv().await {
                if write_frame(&mut wr, &c).await.is_err() {
                    break;
                }
            }
        });
        let pending: Pending = Default::default();
        let (snap_tx, snap_rx) = watch::channel(None);
        let p2 = pending.clone();
        let closed = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let closed2 = closed.clone();
        tokio::spawn(async move {
            while let Ok(Some(f)) = read_frame::<_, Frame>(&mut rd).await {
                match f {
                    Frame::Reply { id, result } => {
                        if let Some(w) = p2.lock().unwrap().remove(&id) {
                            let _ = w.send(result);
                        }
                    }
                    Frame::Snapshot { snapshot } => {
                        let _ = snap_tx.send(Some(snapshot));
                    }
                }
            }
            // The daemon went away: every pending call fails, and every
            // later one (Client::call checks `closed` after queueing).
            closed2.store(true, Ordering::SeqCst);
            p2.lock().unwrap().clear();
        });
        let mut c = Client {
            next: AtomicU64::new(1),
            tx,
            pending,
            closed,
            snapshots: snap_rx,
            subscribed: Mutex::new(false),
            engine: String::new(),
            features: Vec::new(),
        };
        // A daemon that accepts but never answers (wedged, or a socket
        // some other process bound) must not hang the tool.
        let hello = c.send(Request::Hello { version: VERSION });
        let first = first.map(|r| c.send(r));
        let hello = tokio::time::timeout(HELLO_TIMEOUT, Client::answer(hello));
        match hello.await {
            Ok(Ok(Answer::Hello {
                engine, features, ..
            })) => {
                c.engine = engine;
                c.features = features;
            }
            Ok(Ok(_)) => return Err(std::io::Error::other("unexpected hello")),
            Ok(Err(e)) => return Err(std::io::Error::other(e.to_string())),
            Err(_) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!(
                        "{}: no hello from the daemon within {HELLO_TIMEOUT:?}",
                        socket.display()
                    ),
                ));
            }
        }
        Ok((c, first))
    }

    /// One call and its answer.
    pub async fn call(&self, request: Request) -> Result<Answer, Error> {
        Client::answer(self.send(request)).await
    }

    /// Send a call; its answer comes through what this returns.
    fn send(&self, request: Request) -> Answering {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (w, r) = oneshot::channel();
        self.pending.lock().unwrap().insert(id, w);
        if self.closed.load(Ordering::SeqCst) {
            self.pending.lock().unwrap().remove(&id);
            return Answering(Err(Error::Shutdown));
        }
        match self.tx.send(Call { id, request }) {
            Ok(()) => Answering(Ok(r)),
            Err(_) => Answering(Err(Error::Shutdown)),
        }
    }

    /// The answer to a call sent ([`Client::connect_with`]).
    pub async fn answer(a: Answering) -> Result<Answer, Error> {
        match a.0?.await {
            Ok(WireResult::Ok(a)) => Ok(a),
            Ok(WireResult::Err(e)) => Err(e.error),
            Err(_) => Err(Error::Shutdown),
        }
    }

    /// Snapshots pushed by the daemon (subscribes on first use).
    pub async fn subscribe(&self) -> Result<watch::Receiver<Option<Arc<Snapshot>>>, Error> {
        let first = {
            let mut s = self.subscribed.lock().unwrap();
            !std::mem::replace(&mut *s, true)
        };
        if first {
            self.call(Request::Subscribe).await?;
        }
        Ok(self.snapshots.clone())
    }
}

/// A tool's handle on the engine: the daemon's, or its own. Cheap to clone.
#[derive(Clone)]
pub enum Zones {
    Daemon(Arc<Client>),
    Embedded(Engine),
}

/// Reach the daemon on `socket`; `None` when none answers there (the tool
/// then starts an embedded engine).
pub async fn connect(socket: &Path) -> Option<Client> {
    Client::connect(socket).await.ok()
}

impl std::ops::Deref for Zones {
    type Target = dyn ZoneApi;

    /// Every operation of [`ZoneApi`], on whichever engine this is.
    fn deref(&self) -> &(dyn ZoneApi + 'static) {
        match self {
            Zones::Daemon(c) => &**c,
            Zones::Embedded(e) => e,
        }
    }
}

impl Zones {
    /// Hold the zone (zone_ref) until the returned guard is dropped (a
    /// login session). Against the daemon, the hold lives in the daemon
    /// and is given back when the guard goes (or the connection closes).
    pub async fn hold(&self, id: ZoneId) -> Result<ZoneHold, Error> {
        match self {
            Zones::Embedded(e) => e
                .hold(id, crate::engine::HoldKind::ZoneRef)
                .map(ZoneHold::Local),
            Zones::Daemon(c) => {
                let token = c.next.fetch_add(1, Ordering::Relaxed);
                c.call(Request::Hold {
                    id,
                    uniqid: None,
                    mntfs: false,
                    token,
                })
                .await?;
                Ok(ZoneHold::Remote {
                    client: c.clone(),
                    token,
                })
            }
        }
    }
}

/// A hold on a zone, given back when dropped.
pub enum ZoneHold {
    Local(crate::engine::Hold),
    Remote { client: Arc<Client>, token: u64 },
}

impl Drop for ZoneHold {
    fn drop(&mut self) {
        if let ZoneHold::Remote { client, token } = self {
            client.release(*token);
        }
    }
}

impl Client {
    /// Take a hold in the daemon without waiting for its answer (the
    /// stream keeps order: a later release finds it). For zonefs opens.
    pub fn hold_nowait(&self, id: ZoneId, uniqid: Option<u64>, mntfs: bool) -> u64 {
        let token = self.next.fetch_add(1, Ordering::Relaxed);
        let _ = self.tx.send(Call {
            id: 0,
            request: Request::Hold {
                id,
                uniqid,
                mntfs,
                token,
            },
        });
        token
    }

    /// Give back a hold taken with [`Client::hold_nowait`] or [`Zones::hold`].
    pub fn release(&self, token: u64) {
        let _ = self.tx.send(Call {
            id: 0,
            request: Request::Release { token },
        });
    }
}
