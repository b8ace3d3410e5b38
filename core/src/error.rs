//! # Errors of the zone and jail operations
//!
//! Every way an operation can fail is a variant of [`Error`], and every
//! variant maps to the errno jail(2) or the zone system calls give for it
//! ([`Error::errno`]). Messages name the zone they concern, so a tool can
//! print `zoneadm: web: ...` without adding context of its own.
//!
//! An error crosses zoned's socket whole (serde): a tool gets the same
//! variant from the daemon as from an embedded engine, so it can match on
//! it (`jail -mr` restarts on [`Error::Unchangeable`]) whichever engine it
//! talks to, and its message and errno are the same both ways.

use crate::jailconf::ConfError;
use crate::param::ParamError;
use crate::runtime::RuntimeError;
use crate::zone::NameError;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[serde(tag = "error", content = "detail", rename_all = "snake_case")]
pub enum Error {
    /// Not root (CAP_SYS_ADMIN): EPERM.
    #[error("permission denied: this operation needs root")]
    NotRoot,
    /// A parent's children.max would be exceeded: EPERM.
    #[error("{parent}: children.max {max} reached")]
    ChildrenMax { parent: String, max: u64 },
    /// A parameter less restrictive than the parent's: EPERM.
    #[error("{zone}: {param} is less restrictive than the parent's")]
    LessRestrictive { zone: String, param: String },
    /// No such zone (and no CREATE): ENOENT.
    #[error("{0}: no such zone")]
    NoSuchZone(String),
    /// The zone exists but is in another branch of the jail tree: ENOENT.
    #[error("{0}: not in the caller's branch of the jail tree")]
    OtherBranch(String),
    /// An id that names no zone, where jail(2) (jail_attach, jail_remove)
    /// and zone.c (zone_getattr, zone_setattr) answer EINVAL.
    #[error("zone id {0}: no such zone")]
    NoSuchId(u32),
    /// A parameter that only the engine sets: EINVAL.
    #[error("{zone}: {param} is read-only")]
    ReadOnly { zone: String, param: String },
    /// A request whose parameters could not be read (jail(2)'s EFAULT: an
    /// iov the kernel cannot read; here, a request the API cannot decode).
    #[error("malformed request: {0}")]
    Fault(String),
    /// The `lastjid` walk went past the last jail: ENOENT.
    #[error("no jail after jid {0}")]
    LastJid(u32),
    /// The parent of a hierarchical name does not exist: ENOENT.
    #[error("{zone}: parent {parent} does not exist")]
    NoParent { zone: String, parent: String },
    /// The name or id is taken and UPDATE was not asked: EEXIST.
    #[error("{0}: zone already exists")]
    Exists(String),
    /// Neither CREATE nor UPDATE: EINVAL.
    #[error("neither create nor update was asked")]
    NoCreateOrUpdate,
    /// A bad parameter or value: EINVAL.
    #[error("{zone}: {source}")]
    Param { zone: String, source: ParamError },
    /// A parameter that cannot change after creation: EINVAL.
    #[error("{zone}: {param} cannot be changed after creation")]
    Unchangeable { zone: String, param: String },
    /// A bad zone name: EINVAL, or ENAMETOOLONG for a long one.
    #[error(transparent)]
    Name(#[from] NameError),
    /// The operation is not allowed in the zone's status: EINVAL.
    #[error("{zone}: cannot {op} a zone that is {status}")]
    BadState {
        zone: String,
        op: String,
        status: String,
    },
    /// A zone's root is not usable: EINVAL.
    #[error("{zone}: {message}")]
    BadRoot { zone: String, message: String },
    /// The global zone is not a target of this operation: EINVAL.
    #[error("the global zone cannot be {0}")]
    Global(String),
    /// No free zone id: EAGAIN.
    #[error("no free zone id")]
    NoFreeId,
    /// References did not drain: EBUSY.
    #[error("{zone}: still referenced after {secs} s ({counts})")]
    Busy {
        zone: String,
        secs: u64,
        counts: String,
    },
    /// A wait timed out: ETIMEDOUT.
    #[error("{zone}: timed out waiting for status {status}")]
    Timeout { zone: String, status: String },
    /// The runtime failed to make the kernel do it.
    #[error("{zone}: {source}")]
    Runtime { zone: String, source: RuntimeError },
    /// No configured zone (jail.conf block) of this name: ENOENT.
    #[error("{0}: no such zone configured")]
    NotConfigured(String),
    /// No kernel zone of this name for an operation on a live zone
    /// (zoneadm halt, reboot, shutdown): ENOENT.
    #[error("{0}: not running or ready")]
    NotLive(String),
    /// The zone's root is not installed (empty or missing) where `op`
    /// needs it: EINVAL.
    #[error("{zone}: must be installed before {op} ({root} is empty or missing)")]
    NotInstalled {
        zone: String,
        op: String,
        root: String,
    },
    /// Install or clone into a root that is already populated: EEXIST.
    #[error("{zone}: {root} is already populated")]
    Installed { zone: String, root: String },
    /// A configuration the operation cannot use: its messages, each
    /// naming the file, the line and the zone (`FILE line N: web:
    /// unknown parameter: zone.max-processs`): EINVAL.
    #[error("{0}")]
    Conf(ConfError),
    /// The API's protocol was not followed (no hello first, another
    /// version): EPROTO.
    #[error("{0}")]
    Protocol(String),
    /// The engine is going away.
    #[error("the engine is shutting down")]
    Shutdown,
}

impl Error {
    /// The errno jail(2) / the zone calls return for this error.
    pub fn errno(&self) -> i32 {
        match self {
            Error::NotRoot | Error::ChildrenMax { .. } | Error::LessRestrictive { .. } => {
                crate::errno::EPERM
            }
            Error::NoSuchZone(_)
            | Error::NotConfigured(_)
            | Error::NotLive(_)
            | Error::OtherBranch(_)
            | Error::LastJid(_)
            | Error::NoParent { .. } => crate::errno::ENOENT,
            Error::Exists(_) => crate::errno::EEXIST,
            Error::NoSuchId(_) | Error::ReadOnly { .. } => crate::errno::EINVAL,
            Error::Fault(_) => crate::errno::EFAULT,
            Error::Name(NameError::TooLong(_))
            | Error::Param {
                source: ParamError::TooLong { .. },
                ..
            } => crate::errno::ENAMETOOLONG,
            Error::NoCreateOrUpdate
            | Error::Param { .. }
            | Error::Unchangeable { .. }
            | Error::Name(_)
            | Error::BadState { .. }
            | Error::BadRoot { .. }
            | Error::Global(_)
            | Error::NotInstalled { .. }
            | Error::Conf(_) => crate::errno::EINVAL,
            Error::Installed { .. } => crate::errno::EEXIST,
            Error::NoFreeId => crate::errno::EAGAIN,
            Error::Busy { .. } => crate::errno::EBUSY,
            Error::Timeout { .. } => crate::errno::ETIMEDOUT,
            Error::Runtime { source, .. } => source.errno.unwrap_or(crate::errno::EIO),
            Error::Protocol(_) => crate::errno::EPROTO,
            Error::Shutdown => crate::errno::ESHUTDOWN,
        }
    }

    /// The message without the `NAME: ` it opens with when it is about
    /// zone `name`: for a tool that names the zone its own way (zoneadm's
    /// `zone 'web': ...`, ztop's footer `web: ...`).
    pub fn unzoned(&self, name: &str) -> String {
        let s = self.to_string();
        s.strip_prefix(name)
            .and_then(|r| r.strip_prefix(": "))
            .map_or_else(|| s.clone(), str::to_string)
    }
}
