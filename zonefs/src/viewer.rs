//! # Viewers: which zone a caller belongs to
//!
//! A process inside a non-global zone sees only its own zone in /zones. The
//! kernel tells zonefs the pid of every request (as a pid of zonefs' own pid
//! namespace, the host's); each zone's zsched is the pid 1 of the zone's pid
//! namespace, so the caller's zone is the zone whose zsched shares the
//! caller's pid namespace.
//!
//! Cost per request: nothing while no zone has a pid namespace of its own
//! (the map is empty); else a cache hit and one `poll` of a pidfd, or on a
//! miss one `readlink(/proc/PID/ns/pid)`. [`Callers`] caches the namespace
//! of each caller pid together with a pidfd of it (`PIDFD_THREAD`: the
//! kernel hands us thread ids): a process never changes its own pid
//! namespace, and while its pidfd does not poll readable it has not exited,
//! so its pid has not been reused. The zone of a namespace is cached per
//! namespace inode in the current tree, so the ancestry walk below runs
//! once per namespace per snapshot. The cache holds at most
//! [`Callers::MAX`] pidfds and is emptied when full.
//!
//! A caller in a namespace that is no zone's (a namespace nested inside a
//! zone, or a container that is not a zone) is placed by walking up its
//! namespace's parents (`ioctl(NS_GET_PARENT)`): the first zone found is
//! its zone; reaching zonefs' own namespace, or a parent zonefs may not see,
//! makes it global (processes in no zone belong to the global zone, as the
//! engine counts them). A caller whose namespace cannot be read at all (it
//! exited) is refused with ENOENT by the caller of [`resolve`].
//!
//! Limit: a zone that shares the host's pid namespace cannot be told apart
//! from the global zone this way.

use crate::tree::{Tree, Viewer};
use std::collections::HashMap;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::sync::Mutex;

/// `NS_GET_PARENT` (`_IO(0xb7, 0x2)`, linux/nsfs.h).
const NS_GET_PARENT: libc::c_ulong = 0xb702;

/// The pid namespace inode of a process (`/proc/PID/ns/pid` reads `pid:[INODE]`).
pub fn pid_ns(pid: u32) -> Option<u64> {
    let link = std::fs::read_link(format!("/proc/{pid}/ns/pid")).ok()?;
    let s = link.to_str()?;
    s.strip_prefix("pid:[")?.strip_suffix(']')?.parse().ok()
}

/// Caller pid → its pid namespace, valid while the caller lives.
#[derive(Default)]
pub struct Callers {
    map: Mutex<HashMap<u32, (OwnedFd, u64)>>,
}

impl Callers {
    /// The most pidfds kept open.
    pub const MAX: usize = 256;

    /// The pid namespace of `pid`, from the cache while that process lives.
    pub fn pid_ns(&self, pid: u32) -> Option<u64> {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((fd, ns)) = map.get(&pid) {
            if !exited(fd) {
                return Some(*ns);
            }
            map.remove(&pid);
        }
        drop(map);
        // pidfd first: if it still lives after the readlink, the readlink
        // read this very process.
        let fd = pidfd_open(pid);
        let ns = pid_ns(pid)?;
        if let Some(fd) = fd
            && !exited(&fd)
        {
            let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
            if map.len() >= Self::MAX {
                map.clear();
            }
            map.insert(pid, (fd, ns));
        }
        Some(ns)
    }

    /// pidfds held now.
    pub fn len(&self) -> usize {
        self.map.lock().map_or(0, |m| m.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A pidfd of the thread `tid`.
fn pidfd_open(tid: u32) -> Option<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags; it returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, tid as libc::pid_t, libc::O_EXCL) };
    // SAFETY: a non-negative return is a descriptor we now own.
    (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// Has the process behind a pidfd exited? (A pidfd polls readable then.)
fn exited(fd: &OwnedFd) -> bool {
    let mut p = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd, no wait.
    let n = unsafe { libc::poll(&mut p, 1, 0) };
    n != 0
}

/// The zone of the caller `pid`; `None` when its namespace cannot be read.
pub fn resolve(tree: &Tree, callers: &Callers, own_ns: u64, pid: u32) -> Option<Viewer> {
    if tree.zone_ns.is_empty() || pid == 0 {
        return Some(Viewer::Global);
    }
    let ns = callers.pid_ns(pid)?;
    if ns == own_ns {
        return Some(Viewer::Global);
    }
    if let Some(id) = tree.zone_ns.get(&ns) {
        return Some(Viewer::Zone(*id));
    }
    if let Some(v) = tree.viewer_cache.lock().ok()?.get(&ns) {
        return Some(*v);
    }
    let v = walk_parents(tree, own_ns, pid)?;
    if let Ok(mut c) = tree.viewer_cache.lock() {
        c.insert(ns, v);
    }
    Some(v)
}

/// Walk a namespace's ancestry up to a zone's namespace or to ours.
fn walk_parents(tree: &Tree, own_ns: u64, pid: u32) -> Option<Viewer> {
    let file = std::fs::File::open(format!("/proc/{pid}/ns/pid")).ok()?;
    let mut fd: OwnedFd = file.into();
    loop {
        // SAFETY: NS_GET_PARENT takes no argument and returns a new fd or -1.
        let parent = unsafe { libc::ioctl(fd.as_raw_fd(), NS_GET_PARENT as _) };
        if parent < 0 {
            // EPERM: the parent is outside our namespace; ENOTTY/EINVAL: none.
            return Some(Viewer::Global);
        }
        // SAFETY: the ioctl returned a new descriptor that we now own.
        fd = unsafe { OwnedFd::from_raw_fd(parent) };
        let f = std::fs::File::from(fd);
        let ino = f.metadata().ok()?.ino();
        fd = f.into();
        if ino == own_ns {
            return Some(Viewer::Global);
        }
        if let Some(id) = tree.zone_ns.get(&ino) {
            return Some(Viewer::Zone(*id));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_own_namespace_is_readable() {
        let ns = pid_ns(std::process::id()).expect("/proc/self/ns/pid");
        assert!(ns > 0);
        assert_eq!(pid_ns(std::process::id()), Some(ns));
    }

    #[test]
    fn with_no_zone_namespace_every_caller_is_global_without_a_read() {
        let t = Tree::empty();
        // pid u32::MAX does not exist: were /proc read, this would be None.
        assert_eq!(
            resolve(&t, &Callers::default(), 1, u32::MAX),
            Some(Viewer::Global)
        );
    }

    #[test]
    fn a_caller_is_read_once_while_it_lives_and_again_after_it_exits() {
        let callers = Callers::default();
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = child.id();
        let ns = callers.pid_ns(pid).unwrap();
        assert_eq!(callers.len(), 1);
        assert_eq!(callers.pid_ns(pid), Some(ns));
        assert_eq!(callers.len(), 1);
        child.kill().unwrap();
        child.wait().unwrap();
        // Exited and reaped: the cached entry is dropped, the pid unreadable.
        assert_eq!(callers.pid_ns(pid), None);
        assert!(callers.is_empty());
    }
}
