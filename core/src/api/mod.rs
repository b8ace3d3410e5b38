//! # The engine's API: one protocol for the daemon and its clients
//!
//! Every front-end reaches the engine the same way (cli.md): `--socket
//! PATH`, else `$ZONED_SOCKET`, else `/run/zones/zoned.sock`. When no
//! daemon answers there, the tool runs the engine in-process — the
//! *embedded* mode — over the same state directory, after taking the same
//! lock. [`Zones`] hides which of the two a tool talks to. Starting that
//! embedded engine needs the Linux runtime, so it is zones-linux's
//! (`zones_linux::api::open`, `zones_linux::api::follow`); this module
//! holds the protocol, the client and the server.
//!
//! ## Wire format (version [`VERSION`])
//!
//! Version 2: an error is the engine's [`Error`] whole (beside its errno
//! and message), and the configured-zone lifecycle (install, uninstall,
//! clone, verify, boot from configuration, shutdown / halt / reboot by
//! name) has requests of its own. Version 1 clients are refused at hello.
//!
//! ## By name: the server's own configuration
//!
//! The configured-zone requests (verify, install, uninstall, clone, boot
//! from configuration) carry the part of the client's jail.conf they
//! read, as zoneadm sends it. With `conf` left out, the server resolves
//! the name against the configuration it is running with — zoned's
//! jail.conf, kept by the engine from start and every SIGHUP — so a
//! client that has not read that host's file (ztop across hosts) boots,
//! installs and uninstalls that host's zones as that host's zoneadm
//! would. Both forms are version 2: an old client always sends `conf`
//! and is served as before. A server that resolves by name says
//! [`FEATURE_BY_NAME`] in its hello's `features` (a field an older server
//! does not send and an older client ignores), and the client refuses a
//! by-name call to a server that did not say it, with that reason,
//! instead of sending it a request it cannot decode. A request this
//! server cannot decode but whose `id` and `op` it can read (a newer
//! client's) is answered with an error naming the op before the
//! connection is closed. Only root may do any of these (below).
//!
//! A stream of frames over a Unix stream socket; each frame is a 4-byte
//! big-endian length and that many bytes of JSON. The client opens with
//! [`Request::Hello`]; the server answers with its version and refuses a
//! client of another major version. Then each [`Call`] carries an id that
//! its [`Reply`] repeats, so a client may have several calls in flight; a
//! `Subscribe` call makes the server push every new snapshot as an
//! [`Frame::Snapshot`] on the same stream. A client may send its first
//! call right behind the hello, before the hello's answer
//! ([`Client::connect_with`]); the server reads them in order.
//!
//! `zoneadm list` asks `ListRows` and gets a [`Listing`]: one compact
//! row a zone (the rows module), not the snapshot.
//!
//! ## Who may do what
//!
//! The server reads the caller's uid and pid with SO_PEERCRED. Root may
//! call everything; every other local user only what reads (snapshot,
//! subscribe, list, lookup, getattr, jail_get, wait). A caller inside a
//! non-global zone is that zone's caller ([`crate::engine::Caller`]): it
//! sees only its own zone.
//!
//! Every local user can reach the socket, so every local user is treated
//! as an attacker: nothing is allocated from a frame's length word, frames
//! before the hello and from users are small, and users' connections are
//! capped per uid, timed out when idle and kept clear of a reserve of
//! descriptors that keeps root served (see the server's module comment).

mod client;
mod ops;
mod rows;
mod server;

pub use client::{Answering, Client, ZoneHold, Zones, connect};
pub use ops::{Fut, ZoneApi};
pub use rows::{ListRow, Listing};
pub use server::{Limits, serve, serve_with, zone_of_pid};

use crate::engine::{BootFrom, Booted, Installed, JailFlags, JailKey};
use crate::error::Error;
use crate::jailconf::Config;
use crate::param::{Params, Value};
use crate::runtime::Handle;
use crate::snapshot::Snapshot;
use crate::zone::{Status, ZoneId};
use serde::{Deserialize, Serialize};
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The protocol version.
pub const VERSION: u32 = 2;

/// The server resolves a configured zone named without a configuration
/// against its own (module comment, "By name").
pub const FEATURE_BY_NAME: &str = "by_name";

/// What this server's hello says it does beyond its version's base.
pub const FEATURES: &[&str] = &[FEATURE_BY_NAME];

/// The largest frame either side accepts.
pub const MAX_FRAME: usize = 64 << 20;

/// The default socket path.
pub const DEFAULT_SOCKET: &str = "/run/zones/zoned.sock";
/// The default state directory.
pub const DEFAULT_STATE_DIR: &str = "/var/lib/zones";

/// One request.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    Hello {
        version: u32,
    },
    Snapshot,
    /// The snapshot without what `zoneadm list` never shows (each zone's
    /// counters, process list, privileges, reference counts): at a
    /// thousand zones the full snapshot is a megabyte of JSON to encode,
    /// send and decode for a list of names.
    ListSnapshot,
    /// What `zoneadm list` shows and nothing else: one compact row per
    /// kernel zone ([`Listing`], some 60 bytes a zone).
    ListRows,
    Subscribe,
    List,
    Lookup {
        name: String,
    },
    Create {
        params: Params,
    },
    Boot {
        id: ZoneId,
        /// Start init (default); false: jail(8)'s way, see Engine::boot_with.
        #[serde(default = "yes")]
        init: bool,
    },
    Shutdown {
        id: ZoneId,
    },
    Halt {
        id: ZoneId,
    },
    Reboot {
        id: ZoneId,
    },
    Destroy {
        id: ZoneId,
    },
    Getattr {
        id: ZoneId,
        attr: String,
    },
    Setattr {
        id: ZoneId,
        attr: String,
        value: Value,
    },
    WaitStatus {
        id: ZoneId,
        status: Status,
        timeout_ms: Option<u64>,
    },
    JailSet {
        params: Params,
        flags: u32,
    },
    JailGet {
        key: WireKey,
        names: Vec<String>,
        flags: u32,
    },
    JailRemove {
        id: ZoneId,
    },
    JailAttach {
        id: ZoneId,
    },
    /// Hold the zone (zone_ref, and MNTFS with `mntfs`) under the caller's
    /// `token` until `Release` or the end of the connection: a login
    /// session, an open zonefs file. With `uniqid`, only that life of the
    /// zone. A call with id 0 gets no reply.
    Hold {
        id: ZoneId,
        uniqid: Option<u64>,
        mntfs: bool,
        token: u64,
    },
    Release {
        token: u64,
    },
    // The configured-zone lifecycle (crate::engine's `configured`): `conf`
    // is the part of the client's configuration the operation reads, or,
    // left out, the server resolves `name` against its own configuration
    // (zoned's jail.conf; "By name" in the module comment).
    Verify {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        conf: Option<Config>,
        name: String,
    },
    Install {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        conf: Option<Config>,
        name: String,
    },
    Uninstall {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        conf: Option<Config>,
        name: String,
    },
    CloneZone {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        conf: Option<Config>,
        name: String,
        src: String,
    },
    BootConfigured {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        conf: Option<Config>,
        name: String,
        how: BootFrom,
    },
    ShutdownZone {
        name: String,
    },
    HaltZone {
        name: String,
    },
    RebootZone {
        name: String,
    },
}

impl Request {
    /// Does this request change anything (root only)?
    pub fn is_control(&self) -> bool {
        !matches!(
            self,
            Request::Hello { .. }
                | Request::Snapshot
                | Request::ListSnapshot
                | Request::ListRows
                | Request::Subscribe
                | Request::List
                | Request::Lookup { .. }
                | Request::Getattr { .. }
                | Request::WaitStatus { .. }
                | Request::JailGet { .. }
        )
    }
}

fn yes() -> bool {
    true
}

/// [`JailKey`] on the wire.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WireKey {
    Jid(ZoneId),
    Name(String),
    LastJid(u32),
}

impl From<&JailKey> for WireKey {
    fn from(k: &JailKey) -> WireKey {
        match k {
            JailKey::Jid(i) => WireKey::Jid(*i),
            JailKey::Name(n) => WireKey::Name(n.clone()),
            JailKey::LastJid(l) => WireKey::LastJid(*l),
        }
    }
}

impl From<WireKey> for JailKey {
    fn from(k: WireKey) -> JailKey {
        match k {
            WireKey::Jid(i) => JailKey::Jid(i),
            WireKey::Name(n) => JailKey::Name(n),
            WireKey::LastJid(l) => JailKey::LastJid(l),
        }
    }
}

/// What a successful call answers.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Answer {
    Unit,
    Hello {
        version: u32,
        engine: String,
        /// What this server does beyond its version's base ([`FEATURES`]);
        /// empty from a server older than the list.
        #[serde(default)]
        features: Vec<String>,
    },
    Id {
        id: ZoneId,
    },
    Ids {
        ids: Vec<ZoneId>,
    },
    Booted {
        id: ZoneId,
        init_pid: u32,
        elapsed_us: u64,
    },
    Value {
        value: Value,
    },
    Status {
        status: Status,
    },
    Params {
        id: ZoneId,
        params: Params,
    },
    Attach {
        id: ZoneId,
        name: String,
        root: PathBuf,
        handle: Handle,
        params: Params,
    },
    Snapshot {
        snapshot: Arc<Snapshot>,
    },
    Rows {
        listing: Arc<Listing>,
    },
    Installed {
        installed: Installed,
    },
}

impl From<Booted> for Answer {
    fn from(b: Booted) -> Answer {
        Answer::Booted {
            id: b.id,
            init_pid: b.init_pid,
            elapsed_us: b.elapsed.as_micros() as u64,
        }
    }
}

/// An error on the wire: the engine's [`Error`] whole, and for a reader
/// that does not decode it, its errno and message.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct WireError {
    pub errno: i32,
    pub message: String,
    pub error: Error,
}

impl From<&Error> for WireError {
    fn from(e: &Error) -> WireError {
        WireError {
            errno: e.errno(),
            message: e.to_string(),
            error: e.clone(),
        }
    }
}

impl From<Error> for WireError {
    fn from(e: Error) -> WireError {
        WireError::from(&e)
    }
}

/// A numbered request.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Call {
    pub id: u64,
    pub request: Request,
}

/// What the server sends.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "frame", rename_all = "snake_case")]
pub enum Frame {
    Reply {
        id: u64,
        #[serde(flatten)]
        result: WireResult,
    },
    Snapshot {
        snapshot: Arc<Snapshot>,
    },
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WireResult {
    Ok(Answer),
    Err(WireError),
}

/// Write one frame.
pub async fn write_frame<W: AsyncWrite + Unpin, T: Serialize>(
    w: &mut W,
    msg: &T,
) -> io::Result<()> {
    let body = serde_json::to_vec(msg)?;
    if body.len() > MAX_FRAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "frame too large",
        ));
    }
    let mut buf = Vec::with_capacity(4 + body.len());
    buf.extend_from_slice(&(body.len() as u32).to_be_bytes());
    buf.extend_from_slice(&body);
    w.write_all(&buf).await?;
    w.flush().await
}

/// Read one frame; `None` at a clean end of stream.
pub async fn read_frame<R: AsyncRead + Unpin, T: for<'de> Deserialize<'de>>(
    r: &mut R,
) -> io::Result<Option<T>> {
    match read_frame_len(r, MAX_FRAME).await? {
        None => Ok(None),
        Some(len) => read_frame_body(r, len).await.map(Some),
    }
}

/// The length word of the next frame, refused (InvalidData) above `max`;
/// `None` at a clean end of stream. Nothing is allocated for the body.
pub async fn read_frame_len<R: AsyncRead + Unpin>(
    r: &mut R,
    max: usize,
) -> io::Result<Option<usize>> {
    let mut len = [0u8; 4];
    match r.read_exact(&mut len).await {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_be_bytes(len) as usize;
    if len > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("frame of {len} bytes is larger than the {max} bytes allowed here"),
        ));
    }
    Ok(Some(len))
}

/// The `len` bytes of a frame's body, decoded. The buffer grows as bytes
/// arrive (a peer that announces a large frame and sends nothing costs
/// nothing).
pub async fn read_frame_body<R: AsyncRead + Unpin, T: for<'de> Deserialize<'de>>(
    r: &mut R,
    len: usize,
) -> io::Result<T> {
    let mut body = Vec::with_capacity(len.min(16 << 10));
    (&mut *r).take(len as u64).read_to_end(&mut body).await?;
    if body.len() != len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("frame cut short: {} of {len} bytes", body.len()),
        ));
    }
    serde_json::from_slice(&body).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// Where to find the engine and its state (cli.md: flags, then the
/// environment, then the defaults).
#[derive(Clone, Debug)]
pub struct Endpoint {
    pub socket: PathBuf,
    pub state_dir: PathBuf,
    /// Where zone cgroups live: absolute, or beneath the engine's own cgroup.
    pub cgroup_root: String,
}

impl Endpoint {
    /// Resolve from optional flags, then `$ZONED_SOCKET`,
    /// `$ZONES_STATE_DIR`, `$ZONES_CGROUP_ROOT`, then the defaults.
    pub fn resolve(
        socket: Option<PathBuf>,
        state_dir: Option<PathBuf>,
        cgroup_root: Option<String>,
    ) -> Endpoint {
        let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        Endpoint {
            socket: socket
                .or_else(|| env("ZONED_SOCKET").map(PathBuf::from))
                .unwrap_or_else(|| DEFAULT_SOCKET.into()),
            state_dir: state_dir
                .or_else(|| env("ZONES_STATE_DIR").map(PathBuf::from))
                .unwrap_or_else(|| DEFAULT_STATE_DIR.into()),
            cgroup_root: cgroup_root
                .or_else(|| env("ZONES_CGROUP_ROOT").and_then(|v| v.into_string().ok()))
                .unwrap_or_else(|| "/zones".to_string()),
        }
    }
}

/// The flags of jail_set / jail_get on the wire.
pub fn flags(f: u32) -> JailFlags {
    JailFlags(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(body: &[u8]) -> Vec<u8> {
        let mut f = (body.len() as u32).to_be_bytes().to_vec();
        f.extend_from_slice(body);
        f
    }

    #[tokio::test]
    async fn frames_decode_in_order_and_a_clean_end_is_none() {
        let mut bytes = frame(br#"{"id":1,"request":{"op":"hello","version":1}}"#);
        bytes.extend(frame(br#"{"id":2,"request":{"op":"list"}}"#));
        let mut rd = &bytes[..];
        let a: Call = read_frame(&mut rd).await.unwrap().unwrap();
        let b: Call = read_frame(&mut rd).await.unwrap().unwrap();
        assert_eq!((a.id, b.id), (1, 2));
        assert!(matches!(a.request, Request::Hello { version: 1 }));
        assert!(matches!(b.request, Request::List));
        assert!(read_frame::<_, Call>(&mut rd).await.unwrap().is_none());
    }

    #[test]
    fn a_configured_request_with_or_without_the_clients_configuration_is_one_op() {
        // An old client's boot always carries its configuration.
        let old = r#"{"id":3,"request":{"op":"boot_configured","conf":{"jails":[]},"name":"web","how":{"boot":true,"bootargs":[]}}}"#;
        let c: Call = serde_json::from_str(old).unwrap();
        assert!(matches!(
            c.request,
            Request::BootConfigured { conf: Some(_), ref name, .. } if name == "web"
        ));
        // By name: `conf` left out, and written so.
        let by_name = Request::Install {
            conf: None,
            name: "web".into(),
        };
        let text = serde_json::to_string(&by_name).unwrap();
        assert_eq!(text, r#"{"op":"install","name":"web"}"#);
        let back: Request = serde_json::from_str(&text).unwrap();
        assert!(matches!(back, Request::Install { conf: None, .. }));
        // Both change things: root only.
        assert!(by_name.is_control() && c.request.is_control());
    }

    #[test]
    fn an_older_servers_hello_has_no_features_and_a_newer_one_is_read_by_an_old_client() {
        let a: Answer =
            serde_json::from_str(r#"{"kind":"hello","version":2,"engine":"zoned"}"#).unwrap();
        assert!(matches!(a, Answer::Hello { ref features, .. } if features.is_empty()));
        let new = serde_json::to_value(Answer::Hello {
            version: VERSION,
            engine: "zoned".into(),
            features: FEATURES.iter().map(|f| f.to_string()).collect(),
        })
        .unwrap();
        assert_eq!(new["features"][0], FEATURE_BY_NAME);
        // What a client of before the field decodes: the same hello.
        #[derive(Deserialize)]
        #[serde(tag = "kind", rename_all = "snake_case")]
        enum OldAnswer {
            Hello { version: u32, engine: String },
        }
        let OldAnswer::Hello { version, engine } = serde_json::from_value(new).unwrap();
        assert_eq!((version, engine.as_str()), (VERSION, "zoned"));
    }

    #[tokio::test]
    async fn a_frame_cut_short_or_too_large_is_an_error() {
        // Announces MAX_FRAME, sends 10 bytes, ends.
        let mut bytes = (MAX_FRAME as u32).to_be_bytes().to_vec();
        bytes.extend_from_slice(b"{\"id\":1234");
        let err = read_frame::<_, Call>(&mut &bytes[..]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        assert!(err.to_string().contains("10 of 67108864"), "{err}");
        let bytes = ((MAX_FRAME + 1) as u32).to_be_bytes();
        let err = read_frame::<_, Call>(&mut &bytes[..]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        let bytes = frame(b"{\"id\":1}");
        let err = read_frame::<_, Call>(&mut &bytes[..]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }
}
