//! # What a zone leaves in its IPC namespace, removed at halt
//!
//! Every zone has an IPC namespace of its own (zsched unshares it), so its
//! System V shared memory segments, semaphore sets and message queues, and
//! its POSIX message queues, are the zone's alone. They outlive the
//! processes that made them: a segment made with `ipcmk -M` stays when
//! every process of the zone is gone. The engine counts them as the zone's
//! IPC references (lifecycle.md "References") and destroy waits for that
//! count to drain; nothing removed them, so a single segment made any halt
//! fail with EBUSY after the destroy timeout, and every later engine start
//! (each `zoneadm` without a daemon re-adopts the dying zone and tries to
//! finish it) waited as long again.
//!
//! illumos removes a zone's IPC objects when the zone shuts down
//! (ipc_remove_zone, from zone_shutdown's callbacks); so do we: zsched's
//! `down` — after every user process is gone, so nothing is attached any
//! more — calls [`remove_all`], which
//!
//! * lists the namespace's System V objects the way `ipcs` does, from
//!   /proc/sysvipc/{shm,msg,sem} (zsched reads its own namespace's view),
//!   and removes each by id with `IPC_RMID` (zsched is root in the zone's
//!   IPC namespace, so owner and mode do not stop it);
//! * mounts the namespace's mqueue file system detached (fsopen, which
//!   takes the caller's IPC namespace; attached nowhere, so the zone need
//!   not have /dev/mqueue) and unlinks every queue in it; then stacks
//!   that mount on zsched's `/`, where it goes with the mount namespace
//!   (a detached mount closed on its own costs an RCU grace period on
//!   halt's path: see [`remove_all`]).
//!
//! A segment still attached when IPC_RMID is given is only marked for
//! removal and goes with its last detach; at `down` no process of the zone
//! is left, so it goes at once. Whatever is still there after this goes
//! with the namespace when zsched exits.
//!
//! ## Keyrings
//!
//! Keyrings have no namespace of their own here (no user namespace). A
//! process inherits its parent's session keyring, so without care every
//! zone process would share the session keyring of whoever ran the engine
//! (the administrator's login session, with whatever keys it holds).
//! zsched therefore starts a new anonymous session keyring of its own
//! before anything of the zone runs ([`new_session_keyring`]): the zone's
//! processes inherit that one, and it is freed with the last of them, at
//! halt. (The per-uid user keyring is shared with the host's uid 0 all the
//! same: the zone's system call filter keeps keyctl and add_key away.)

use std::ffi::{CStr, CString};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// Which System V object kind a /proc/sysvipc file lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Shm,
    Msg,
    Sem,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Shm, Kind::Msg, Kind::Sem];

    /// The file under /proc that lists this kind.
    pub fn proc_file(self) -> &'static str {
        match self {
            Kind::Shm => "sysvipc/shm",
            Kind::Msg => "sysvipc/msg",
            Kind::Sem => "sysvipc/sem",
        }
    }

    /// IPC_RMID of one object. Err: the errno.
    fn remove(self, id: i32) -> Result<(), i32> {
        // SAFETY: IPC_RMID takes no buffer (a null one is allowed for
        // shmctl and msgctl; semctl's fourth argument is ignored).
        let r = unsafe {
            match self {
                Kind::Shm => libc::shmctl(id, libc::IPC_RMID, std::ptr::null_mut()),
                Kind::Msg => libc::msgctl(id, libc::IPC_RMID, std::ptr::null_mut()),
                Kind::Sem => libc::semctl(id, 0, libc::IPC_RMID),
            }
        };
        if r == 0 { Ok(()) } else { Err(errno()) }
    }
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// The ids in a /proc/sysvipc file: the header line skipped, the second
/// column of every other line (`key shmid ...`, `key msqid ...`,
/// `key semid ...`).
pub fn ids(listing: &str) -> Vec<i32> {
    listing
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().nth(1)?.parse().ok())
        .collect()
}

/// What [`remove_all`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Removed {
    /// System V objects removed.
    pub sysv: usize,
    /// POSIX message queues unlinked.
    pub mqueues: usize,
    /// System V objects that could not be removed, each naming the
    /// object and the error.
    pub failed: Vec<String>,
    /// Why the POSIX queues could not be listed or unlinked, if so. Not a
    /// failure of halt: they hold nothing the engine waits for, and go
    /// with the namespace when zsched exits a moment later.
    pub mqueue_error: Option<String>,
}

/// Remove every System V object and POSIX message queue of the caller's
/// IPC namespace. `read` reads a file of a proc mount of the zone (zsched
/// passes its detached one), e.g. `sysvipc/shm`.
///
/// With `stack_on_root`, the mqueue mount the queues are listed through
/// is attached over the caller's `/` once used, and so goes with the
/// caller's mount namespace: a detached mount is torn down by itself
/// when its descriptor is closed, and that teardown waits for an RCU
/// grace period in the kernel (0.5 to 20 ms on a busy 2-CPU host), on
/// halt's path; stacked on `/`, it goes in the one teardown of the whole
/// namespace when zsched exits. zsched passes true: its mount namespace
/// is the zone's, no zone process is left at `down`, and a mount on `/`
/// is not a mount the zone holds (refs counts none at `/`). Never true
/// in a mount namespace shared with the host: it would stack a mount
/// over the host's root.
///
/// `stack_on` names where the mqueue mount goes instead of `/` (zsched's
/// `down` stacks it on a mount of the tree it then detaches whole); None
/// is `/`. Ignored without `stack_on_root`.
pub fn remove_all(
    read: impl Fn(&str) -> Option<String>,
    stack_on_root: bool,
    stack_on: Option<&std::ffi::CStr>,
) -> Removed {
    let mut out = Removed::default();
    for kind in Kind::ALL {
        let Some(listing) = read(kind.proc_file()) else {
            continue;
        };
        for id in ids(&listing) {
            match kind.remove(id) {
                Ok(()) => out.sysv += 1,
                // Gone meanwhile (a segment marked earlier, detached now).
                Err(libc::EINVAL) | Err(libc::EIDRM) => {}
                Err(e) => out.failed.push(format!(
                    "{} id {id}: {}",
                    kind.proc_file(),
                    std::io::Error::from_raw_os_error(e)
                )),
            }
        }
    }
    match remove_mqueues(stack_on_root.then(|| stack_on.unwrap_or(c"/"))) {
        Ok(n) => out.mqueues = n,
        Err(e) => out.mqueue_error = Some(e),
    }
    out
}

/// Unlink every POSIX message queue of the caller's IPC namespace through
/// a detached mqueue mount of it (stacked on `/` when done with
/// `stack_on_root`: see [`remove_all`]).
fn remove_mqueues(stack_on: Option<&std::ffi::CStr>) -> Result<usize, String> {
    const FSOPEN_CLOEXEC: libc::c_uint = 1;
    const FSCONFIG_CMD_CREATE: libc::c_uint = 6;
    const FSMOUNT_CLOEXEC: libc::c_uint = 1;
    let name = CString::new("mqueue").expect("no NUL");
    let err = |what: &str| format!("mqueue: {what}: {}", std::io::Error::last_os_error());
    // SAFETY: fsopen with a NUL-terminated name; the descriptor is owned.
    let fs = unsafe { libc::syscall(libc::SYS_fsopen, name.as_ptr(), FSOPEN_CLOEXEC) } as i32;
    if fs < 0 {
        return Err(err("fsopen"));
    }
    // SAFETY: a new descriptor we own.
    let fs = unsafe { OwnedFd::from_raw_fd(fs) };
    // SAFETY: FSCONFIG_CMD_CREATE takes no key, value or aux.
    let r = unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs.as_raw_fd(),
            FSCONFIG_CMD_CREATE,
            std::ptr::null::<libc::c_char>(),
            std::ptr::null::<libc::c_void>(),
            0,
        )
    };
    if r != 0 {
        return Err(err("fsconfig create"));
    }
    // SAFETY: fsmount of a created context; the result is a new descriptor.
    let m = unsafe { libc::syscall(libc::SYS_fsmount, fs.as_raw_fd(), FSMOUNT_CLOEXEC, 0) } as i32;
    if m < 0 {
        return Err(err("fsmount"));
    }
    // SAFETY: a new descriptor we own.
    let m = unsafe { OwnedFd::from_raw_fd(m) };
    let dot = CString::new(".").expect("no NUL");
    // SAFETY: openat of "." on the mount's root; a new descriptor.
    let dfd = unsafe {
        libc::openat(
            m.as_raw_fd(),
            dot.as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    if dfd < 0 {
        return Err(err("open the mount"));
    }
    // SAFETY: fdopendir takes ownership of dfd (closed by closedir).
    let dir = unsafe { libc::fdopendir(dfd) };
    if dir.is_null() {
        // SAFETY: dfd is still ours when fdopendir failed.
        unsafe { libc::close(dfd) };
        return Err(err("fdopendir"));
    }
    let mut names = Vec::new();
    loop {
        // SAFETY: dir is a valid DIR stream until closedir below.
        let ent = unsafe { libc::readdir(dir) };
        if ent.is_null() {
            break;
        }
        // SAFETY: d_name is NUL-terminated within the entry.
        let n = unsafe { CStr::from_ptr((*ent).d_name.as_ptr()) }.to_owned();
        if n.as_bytes() != b"." && n.as_bytes() != b".." {
            names.push(n);
        }
    }
    let mut removed = 0;
    let mut failed = Vec::new();
    for n in &names {
        // SAFETY: unlinkat relative to the open directory, a C string name.
        if unsafe { libc::unlinkat(libc::dirfd(dir), n.as_ptr(), 0) } == 0 {
            removed += 1;
        } else {
            failed.push(format!(
                "{}: {}",
                n.to_string_lossy(),
                std::io::Error::last_os_error()
            ));
        }
    }
    // SAFETY: closes the stream and dfd; not used afterwards.
    unsafe { libc::closedir(dir) };
    if let Some(at) = stack_on {
        self::stack_on(m.as_raw_fd(), at);
    }
    if failed.is_empty() {
        Ok(removed)
    } else {
        Err(format!("mqueue: unlink {}", failed.join(", ")))
    }
}

/// Move the detached mount `fd` (an fsmount descriptor) onto the
/// caller's `/`, where it goes with the caller's mount namespace instead
/// of being torn down by itself, in an RCU grace period, when `fd` is
/// closed ([`remove_all`]; zsched's exit does the same with its detached
/// proc mount). Only in a mount namespace of a zone. Best effort: if it
/// fails, nothing changed, and the close tears the mount down as before.
pub fn stack_on_root(fd: RawFd) {
    stack_on(fd, c"/");
}

/// [`stack_on_root`] onto another mount point `at` of the caller's
/// namespace (the mount goes with that mount's teardown). True when
/// moved.
pub fn stack_on(fd: RawFd, at: &std::ffi::CStr) -> bool {
    const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 0x4;
    // SAFETY: move_mount of the caller's mount descriptor (an empty path)
    // onto `at`; NUL-terminated C strings.
    unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            fd,
            c"".as_ptr(),
            libc::AT_FDCWD,
            at.as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH,
        ) == 0
    }
}

/// Join a new anonymous session keyring (module comment). Err: the errno.
pub fn new_session_keyring() -> Result<(), i32> {
    const KEYCTL_JOIN_SESSION_KEYRING: libc::c_long = 1;
    // SAFETY: keyctl(JOIN_SESSION_KEYRING, NULL) takes no buffer: a null
    // name asks for a new anonymous keyring.
    let r = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            KEYCTL_JOIN_SESSION_KEYRING,
            std::ptr::null::<libc::c_char>(),
        )
    };
    if r < 0 { Err(errno()) } else { Ok(()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_the_second_column_after_the_header() {
        let shm = "       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap\n\
                   0x00000000          3   600                  4096  1234     0      0     0     0     0     0          0          0 1700000000                     0                     0\n\
                   0x6b0a1c2d      32769  1600                 65536  1235     0      1     0     0     0     0          0          0 1700000001                  4096                     0\n";
        assert_eq!(ids(shm), vec![3, 32769]);
        let sem = "       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime\n\
                   0x00000000          0   644          1     0     0     0     0          0 1700000000\n";
        assert_eq!(ids(sem), vec![0]);
        assert!(ids("       key      msqid perms\n").is_empty());
        assert!(ids("").is_empty());
    }

    /// In a fresh IPC namespace of a forked child (so the test's own
    /// namespace is never touched): one object of each kind and a POSIX
    /// queue are made, removed, and gone. Needs root (CAP_SYS_ADMIN for
    /// unshare): fails, never skips, without it.
    #[test]
    fn every_object_of_the_namespace_is_removed() {
        assert_eq!(
            // SAFETY: geteuid has no preconditions.
            unsafe { libc::geteuid() },
            0,
            "run as root: the test unshares an IPC namespace"
        );
        let mut fds = [0; 2];
        // SAFETY: pipe2 fills the two-element array.
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        // SAFETY: the child only makes system calls and formats a small
        // string before _exit; the test harness's threads are not touched.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0);
        if pid == 0 {
            let report = (|| -> Result<String, String> {
                // SAFETY: unshare of the calling (single-threaded) child;
                // its mount namespace private, so that the mqueue mount
                // stacked on its "/" stays in it.
                unsafe {
                    if libc::unshare(libc::CLONE_NEWIPC | libc::CLONE_NEWNS) != 0
                        || libc::mount(
                            std::ptr::null(),
                            c"/".as_ptr(),
                            std::ptr::null(),
                            libc::MS_REC | libc::MS_PRIVATE,
                            std::ptr::null(),
                        ) != 0
                    {
                        return Err(format!("unshare: {}", std::io::Error::last_os_error()));
                    }
                }
                // SAFETY: System V calls with plain integer arguments.
                unsafe {
                    let shm = libc::shmget(libc::IPC_PRIVATE, 4096, 0o600 | libc::IPC_CREAT);
                    let at = libc::shmat(shm, std::ptr::null(), 0);
                    libc::shmdt(at);
                    libc::shmget(0x5a5a, 4096, 0o600 | libc::IPC_CREAT);
                    libc::semget(libc::IPC_PRIVATE, 2, 0o600 | libc::IPC_CREAT);
                    libc::msgget(libc::IPC_PRIVATE, 0o600 | libc::IPC_CREAT);
                }
                let q = CString::new("/zones-test-q").unwrap();
                // SAFETY: mq_open with a NUL-terminated name and null attrs.
                let mq = unsafe {
                    libc::mq_open(
                        q.as_ptr(),
                        libc::O_CREAT | libc::O_RDWR,
                        0o600,
                        std::ptr::null::<libc::mq_attr>(),
                    )
                };
                if mq < 0 {
                    return Err(format!("mq_open: {}", std::io::Error::last_os_error()));
                }
                let read = |p: &str| std::fs::read_to_string(format!("/proc/{p}")).ok();
                let before: usize = Kind::ALL
                    .iter()
                    .map(|k| ids(&read(k.proc_file()).unwrap_or_default()).len())
                    .sum();
                let r = remove_all(read, true, None);
                let after: usize = Kind::ALL
                    .iter()
                    .map(|k| ids(&read(k.proc_file()).unwrap_or_default()).len())
                    .sum();
                // SAFETY: mq_open of a name that should be gone.
                let again = unsafe { libc::mq_open(q.as_ptr(), libc::O_RDWR) };
                // The mqueue mount, stacked on "/" of this namespace.
                let stacked = read("self/mountinfo").is_some_and(|mi| {
                    crate::mountinfo::parse(&mi)
                        .any(|m| m.mount_point == std::path::Path::new("/") && m.fstype == "mqueue")
                });
                Ok(format!(
                    "{before} {} {} {after} {} {:?} {:?} {stacked}",
                    r.sysv,
                    r.mqueues,
                    again < 0,
                    r.failed,
                    r.mqueue_error
                ))
            })();
            let msg = match report {
                Ok(s) => s,
                Err(e) => format!("error {e}"),
            };
            // SAFETY: write to the pipe, then leave without unwinding.
            unsafe {
                libc::write(fds[1], msg.as_ptr().cast(), msg.len());
                libc::_exit(0);
            }
        }
        // SAFETY: the write end belongs to the child now.
        unsafe { libc::close(fds[1]) };
        // SAFETY: the read end is ours.
        let mut f = unsafe { std::fs::File::from_raw_fd(fds[0]) };
        let mut s = String::new();
        std::io::Read::read_to_string(&mut f, &mut s).unwrap();
        let mut st = 0;
        // SAFETY: our child.
        unsafe { libc::waitpid(pid, &mut st, 0) };
        assert_eq!(
            s, "4 4 1 0 true [] None true",
            "before removed mqueues after gone failed mqueue_error stacked"
        );
    }
}
