//! # Errors of the zone and jail operations
//!
//! Every way an operation can fail is a variant of [`Error`], and every
//! variant maps to the errno jail(2) or the zone system calls give for it
//! ([`Error::errno`]). Messages name the zone they concern, so a tool can
//! print `zoneadm: web: ...` without adding context of its own.

use crate::param::ParamError;
use crate::runtime::RuntimeError;
use crate::zone::NameError;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
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
        op: &'static str,
        status: String,
    },
    /// A zone's root is not usable: EINVAL.
    #[error("{zone}: {message}")]
    BadRoot { zone: String, message: String },
    /// The global zone is not a target of this operation: EINVAL.
    #[error("the global zone cannot be {0}")]
    Global(&'static str),
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
    /// An error the daemon answered, as it said it.
    #[error("{message}")]
    Remote { errno: i32, message: String },
    /// The engine is going away.
    #[error("the engine is shutting down")]
    Shutdown,
}

impl Error {
    /// The errno jail(2) / the zone calls return for this error.
    pub fn errno(&self) -> i32 {
        match self {
            Error::NotRoot | Error::ChildrenMax { .. } | Error::LessRestrictive { .. } => {
                libc::EPERM
            }
            Error::NoSuchZone(_)
            | Error::OtherBranch(_)
            | Error::LastJid(_)
            | Error::NoParent { .. } => libc::ENOENT,
            Error::Exists(_) => libc::EEXIST,
            Error::NoSuchId(_) | Error::ReadOnly { .. } => libc::EINVAL,
            Error::Fault(_) => libc::EFAULT,
            Error::Name(NameError::TooLong(_))
            | Error::Param {
                source: ParamError::TooLong { .. },
                ..
            } => libc::ENAMETOOLONG,
            Error::NoCreateOrUpdate
            | Error::Param { .. }
            | Error::Unchangeable { .. }
            | Error::Name(_)
            | Error::BadState { .. }
            | Error::BadRoot { .. }
            | Error::Global(_) => libc::EINVAL,
            Error::NoFreeId => libc::EAGAIN,
            Error::Busy { .. } => libc::EBUSY,
            Error::Timeout { .. } => libc::ETIMEDOUT,
            Error::Runtime { source, .. } => source.errno.unwrap_or(libc::EIO),
            Error::Remote { errno, .. } => *errno,
            Error::Shutdown => libc::ESHUTDOWN,
        }
    }
}
