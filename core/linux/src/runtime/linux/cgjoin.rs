//! # Joining a zone's cgroups without waiting for an RCU grace period
//!
//! The launcher's child (the future zsched) must be in the zone's cgroup
//! of every hierarchy before it execs zsched ([`super::launch`]). The
//! plain way, writing "0" to each hierarchy's `cgroup.procs`, migrates a
//! whole thread group, and for that the kernel takes the global
//! `cgroup_threadgroup_rwsem` for writing: a per-cpu rwsem whose writer
//! first switches the readers to the slow path with `rcu_sync_enter`,
//! which waits for a whole (not expedited) RCU grace period unless one
//! writer did so a moment before. That was the first write of every
//! cycle: 6-14 ms on the 2-CPU test host at load 3, 10 ms at load 11 —
//! more than the rest of the launcher. (The writes after it reuse the
//! rcu_sync while it is still active.)
//!
//! Two paths of the kernel do not take that lock for writing:
//!
//! * **v1 `tasks`**: writing "0" migrates the calling thread alone, and
//!   for a single thread that is `current` the kernel skips the global
//!   lock (`cgroup_procs_write_start`: it cannot exit or exec under us;
//!   `cgroup_mutex` excludes other migrations). The child is a fork of
//!   the single-threaded launcher, so its one thread is the whole process
//!   and the effect is the same as `cgroup.procs`: zsched and everything
//!   it forks are in the zone's cgroup.
//! * **v2**: `cgroup.threads` does not cross thread-domain boundaries, so
//!   the child is instead born in the zone's v2 cgroup: clone3 with
//!   `CLONE_INTO_CGROUP` (Linux 5.7) and a descriptor of the directory,
//!   which only reads the lock.
//!
//! When clone3 fails (no clone3, ENOSYS; a filter, EPERM; a cgroup that
//! takes no process) the launcher forks, and the child writes the v2
//! `cgroup.procs` as before: slower, not different, and an error is
//! reported with the directory's path.
//!
//! An entering process (`zlogin`, `jexec`: [`super::enter`]) joins the
//! same way: its child B, single-threaded too, is born in the v2 cgroup
//! ([`clone_into`]) and writes the v1 `tasks` files ([`join_file`]).

use super::launch::ChildError;
use std::ffi::CString;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// `CLONE_INTO_CGROUP` (include/uapi/linux/sched.h).
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;
/// `CGROUP2_SUPER_MAGIC` (include/uapi/linux/magic.h).
const CGROUP2_SUPER_MAGIC: i64 = 0x6367_7270;

/// `struct clone_args` up to `cgroup` (CLONE_ARGS_SIZE_VER2, 88 bytes).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

/// The file a single-threaded process writes "0" into to join the cgroup
/// `dir`: v1 `tasks`, v2 `cgroup.procs` (module comment).
pub fn join_file(dir: &Path) -> PathBuf {
    dir.join(if is_v2(dir) { "cgroup.procs" } else { "tasks" })
}

/// clone3 with `CLONE_INTO_CGROUP` and no stack: like fork, the child
/// born in the cgroup2 directory `cgroup` (a descriptor). The pid (0 in
/// the child), or a negative value (errno set) when it was refused.
///
/// # Safety
///
/// As for fork: in the child only system calls until exec or _exit (the
/// caller single-threaded, or the child making no allocation and taking
/// no lock). No atfork handler runs.
pub unsafe fn clone_into(cgroup: libc::c_int) -> libc::c_long {
    let args = CloneArgs {
        flags: CLONE_INTO_CGROUP,
        exit_signal: libc::SIGCHLD as u64,
        cgroup: cgroup as u64,
        ..Default::default()
    };
    // SAFETY: clone3 reads the struct we own, of the size we pass; no
    // stack is given, so the child continues on a copy of ours, as after
    // fork (the caller's contract).
    unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &args as *const CloneArgs,
            std::mem::size_of::<CloneArgs>(),
        )
    }
}

/// Whether `dir` is on a cgroup2 file system.
pub fn is_v2(dir: &Path) -> bool {
    let Ok(c) = CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: statfs writes into the zeroed struct we own; the path is a
    // NUL-terminated string we own.
    unsafe {
        let mut st: libc::statfs = std::mem::zeroed();
        libc::statfs(c.as_ptr(), &mut st) == 0 && st.f_type as i64 == CGROUP2_SUPER_MAGIC
    }
}

/// The zone's cgroups as the launcher sees them: which are v2 (by index
/// into the request's list) and a descriptor of the v2 one to be born in.
pub struct Plan {
    v2: Vec<bool>,
    into: Option<OwnedFd>,
}

impl Plan {
    /// Classify `dirs` and open the (first) v2 directory. A directory that
    /// cannot be opened is left to the child's `cgroup.procs` write, which
    /// reports the error with its path.
    pub fn new(dirs: &[PathBuf]) -> Plan {
        let v2: Vec<bool> = dirs.iter().map(|d| is_v2(d)).collect();
        let into = dirs.iter().zip(&v2).find(|(_, v)| **v).and_then(|(d, _)| {
            let c = CString::new(d.as_os_str().as_bytes()).ok()?;
            // SAFETY: the path is a NUL-terminated string we own; the new
            // descriptor is ours.
            let fd = unsafe {
                libc::open(
                    c.as_ptr(),
                    libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
                )
            };
            // SAFETY: the descriptor was just returned by the kernel.
            (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd) })
        });
        Plan { v2, into }
    }

    /// fork(2), the child born in the v2 cgroup when there is one: the
    /// pid (0 in the child, negative on failure) and whether the child is
    /// in that cgroup already.
    ///
    /// # Safety
    ///
    /// As for fork: the caller is single-threaded, and the child makes
    /// system calls only and ends in exec or _exit. (clone3 without a
    /// stack returns in the child like fork, but runs none of libc's
    /// atfork handlers: with one thread no lock is held to reset.)
    pub unsafe fn fork(&self) -> (libc::pid_t, bool) {
        if let Some(fd) = &self.into {
            // SAFETY: the caller's contract (single-threaded, the child
            // makes system calls only).
            let r = unsafe { clone_into(std::os::fd::AsRawFd::as_raw_fd(fd)) };
            if r >= 0 {
                return (r as libc::pid_t, true);
            }
            // Any refusal (no clone3, a filter, a cgroup that takes no
            // process): fork, and the child's write of the v2
            // cgroup.procs reports a real error with its path.
        }
        // SAFETY: the caller's contract (single-threaded, the child makes
        // system calls only).
        (unsafe { libc::fork() }, false)
    }

    /// In the child: join every cgroup of `dirs` (the list [`Plan::new`]
    /// was made from) this process is not in yet. `born_in_v2` is
    /// [`Plan::fork`]'s second value.
    pub fn join(&self, dirs: &[PathBuf], born_in_v2: bool) -> Result<(), ChildError> {
        let mut skipped = false;
        for (d, v2) in dirs.iter().zip(&self.v2) {
            if *v2 {
                if born_in_v2 && !skipped {
                    // The first v2 directory is the one clone3 put us in.
                    skipped = true;
                    continue;
                }
                write(&d.join("cgroup.procs"))?;
            } else {
                write(&d.join("tasks"))?;
            }
        }
        Ok(())
    }
}

fn write(path: &Path) -> Result<(), ChildError> {
    std::fs::write(path, "0").map_err(|e| {
        ChildError::errno(
            "cgroup",
            format!("write {}", path.display()),
            e.raw_os_error().unwrap_or(0),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clone_args_is_version_2() {
        // CLONE_ARGS_SIZE_VER2: the kernel reads `cgroup` only from a
        // struct of at least this size.
        assert_eq!(std::mem::size_of::<CloneArgs>(), 88);
    }

    #[test]
    fn classifies_by_file_system() {
        assert!(!is_v2(Path::new("/proc")));
        assert!(!is_v2(Path::new("/nonexistent/cgroup")));
    }
}
