//! # Launch: from the engine to a zone's pid 1
//!
//! The engine is multithreaded and must never unshare or setns itself, so
//! [`super::LinuxRuntime`]'s `ready` runs the zsched binary as `zsched launch`,
//! a fresh single-threaded process (started ahead: [`super::spare`]), with
//! a [`LaunchRequest`] (JSON) on its stdin, and reads a [`Launched`] or a
//! [`crate::runtime::RuntimeError`] (JSON) from its stdout. The request
//! comes in two parts ([`main`]): steps 1 and 2 below are done while the
//! runtime makes the zone's cgroups, the rest once it has sent them.
//!
//! The launcher:
//!
//! 1. binds the zone's control socket (the listening descriptor is
//!    inherited by zsched, so it works after the pivot; the path stays in
//!    the host's run directory, out of the zone's reach);
//! 2. makes the zone's view directory, or renames the one it made while it
//!    waited as a spare ([`super::spare`]; [`super::view::prepare`]: the files,
//!    still empty, the zone will read as its /proc/loadavg, meminfo, ...;
//!    they get their first text, with the zone's clock, while the child
//!    below sets the zone up: [`super::view::fill`]), opens its own
//!    executable (/proc/self/exe) and writes zsched's
//!    configuration into a memfd, so that zsched can be exec'd from a
//!    descriptor and the zone root needs no file at all;
//! 3. unshare(CLONE_NEWPID) and fork: the child is pid 1 of the new pid
//!    namespace. The launcher then only waits for the child's verdict on a
//!    close-on-exec pipe (EOF = exec succeeded; else "step, message,
//!    errno") and exits, so zsched is re-parented to the host's init (or
//!    the nearest subreaper): a zone outlives the engine that made it.
//!
//! The child (the future zsched) is born in the zone's v2 cgroup and
//! joins the v1 ones (writing 0 to each `tasks`: [`super::cgjoin`], which
//! spares an RCU grace period per cycle), keeps only the descriptors zsched needs
//! ([`before_zsched_exec`]: the config memfd, the control socket and the
//! verdict pipe as 3, 4 and 5; stdin and stdout on /dev/null; everything
//! else the engine or a tool had open is closed with close_range) and
//! execveat(AT_EMPTY_PATH)s zsched from the
//! descriptor — before anything else changes, so that the dynamic loader
//! and libraries come from the host and the zone's root may be empty.
//! zsched then ([`setup`]) unshares mount, UTS, IPC and cgroup namespaces
//! and — unless the zone asked for `ip4 = inherit`
//! ([`crate::runtime::NetMode`]) — net, and gives it its links right away
//! (lo up, shared-IP macvlans, `vnet.bridge` veth, `vnet.interface` moved
//! in, addresses and routes: [`super::vnet`]), or joins the namespace
//! `vnet.netns` names ([`super::netns`]); it makes `/` private
//! recursively, builds the root and mounts the zone's `mount` / `mount.fstab` lines
//! ([`super::mounts`]; a zone booting systemd also gets the tmpfs mounts
//! it needs, [`super::sysinit`]), binds the view's files over the zone's /proc ones
//! ([`super::view::bind`]), joins a session keyring of its own ([`super::ipc`]), sets the host and
//! domain name, opens a detached proc mount (fsopen/fsmount) that it counts
//! its processes with even when the zone has no /proc, makes its children's
//! time namespace, whose zero is the zone's boot ([`super::timens`]), pivots, applies
//! RLIMIT_MEMLOCK (`zone.max-locked-memory`, 0 included: every process of
//! the zone inherits it from zsched, and an entered one copies zsched's
//! limits, see [`super::enter`]) and points stdio at the zone's /dev/null;
//! then it closes the verdict pipe.
//! A zone whose capability set keeps
//! CAP_SYS_ADMIN is set up by [`super::userns::setup`] instead: the same
//! steps around a user namespace of its own (its module comment).
//!
//! ## Descriptors
//!
//! No host descriptor crosses into a zone (security.md). Each place where
//! the runtime hands control to code of a zone is one function that
//! closes, with close_range(2), every descriptor that was not opened for
//! the zone; the table is above [`close_range`]. A system call filter for
//! the zone's processes belongs at the same points (before capabilities
//! are reduced). Every failure is reported on it with its step (`pivot_root: ...`)
//! and zsched exits, which ends the pid namespace and so every mount of
//! it; the runtime then removes the cgroups and the socket: nothing is
//! left.

use super::{mounts, vnet};
use crate::runtime::{RuntimeError, ZoneSpec};
use serde::{Deserialize, Serialize};
use std::ffi::CString;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

/// What the runtime sends the launcher, in two parts: this as one line
/// of JSON, then the cgroups as a JSON list and the end of the stream
/// ([`main`]).
#[derive(Serialize, Deserialize)]
pub struct LaunchRequest {
    pub spec: ZoneSpec,
    /// The zone's cgroup directories (one per hierarchy) to join: the
    /// request's second part, which the runtime sends once it has made
    /// them. An engine older than the two parts (a zoned still running
    /// while its package is upgraded) sends them here, in one part.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cgroups: Vec<PathBuf>,
    /// Where to bind the control socket.
    pub control: PathBuf,
    /// The zone's capability set (bit mask).
    pub caps: u64,
}

/// What zsched reads from its configuration descriptor.
#[derive(Serialize, Deserialize)]
pub struct Supervise {
    pub spec: ZoneSpec,
    pub caps: u64,
    /// The zone's view directory ([`super::view`]), bound over its /proc
    /// files before the pivot.
    #[serde(default)]
    pub view: Option<PathBuf>,
}

/// The launcher's answer.
#[derive(Debug, Serialize, Deserialize)]
pub struct Launched {
    pub pid: u32,
    pub start: u64,
}

/// An error of the child, sent to the launcher over the verdict pipe.
#[derive(Debug)]
pub struct ChildError {
    pub step: String,
    pub message: String,
    pub errno: Option<i32>,
}

impl ChildError {
    pub fn new(step: &str, message: String) -> ChildError {
        ChildError {
            step: step.into(),
            message,
            errno: None,
        }
    }
    pub fn errno(step: &str, what: String, errno: i32) -> ChildError {
        ChildError {
            step: step.into(),
            message: format!("{what}: {}", std::io::Error::from_raw_os_error(errno)),
            errno: Some(errno),
        }
    }
    fn encode(&self) -> Vec<u8> {
        format!(
            "{}\t{}\t{}",
            self.step,
            self.message.replace('\t', " "),
            self.errno.unwrap_or(0)
        )
        .into_bytes()
    }
    fn decode(b: &[u8]) -> RuntimeError {
        let s = String::from_utf8_lossy(b);
        let mut it = s.splitn(3, '\t');
        let step = it.next().unwrap_or("launch").to_string();
        let message = it.next().unwrap_or("").to_string();
        let errno = it
            .next()
            .and_then(|e| e.parse::<i32>().ok())
            .filter(|e| *e != 0);
        RuntimeError {
            step,
            message,
            errno,
        }
    }
}

fn last_errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn os_err(step: &str, what: impl std::fmt::Display) -> RuntimeError {
    let e = std::io::Error::last_os_error();
    RuntimeError {
        step: step.into(),
        message: format!("{what}: {e}"),
        errno: e.raw_os_error(),
    }
}

/// `zsched launch`: read the request, launch, answer, exit.
///
/// The request comes in two parts, so that what needs no cgroup is done
/// while the runtime makes them: its first line (the zone, the control
/// socket's path, the capabilities) has the control socket bound, the
/// view directory made and zsched's configuration written
/// ([`Prepared`]); the rest, the cgroups as a JSON list up to the end of
/// the stream, is read only then. A stream that ends early (the runtime
/// could not make the cgroups, or is gone) undoes the first part.
///
/// Its first argument, the runtime's run directory, is where it makes a
/// view directory before it reads anything
/// ([`super::view::prepare_spare`]): a launcher started ahead
/// ([`super::spare`], second argument `spare`) does that while it waits,
/// at idle priority.
pub fn main() -> ! {
    if std::env::args_os().nth(3).is_some_and(|a| a == "spare") {
        super::spare::idle_start();
    }
    let spare_view = std::env::args_os()
        .nth(2)
        .and_then(|d| super::view::prepare_spare(Path::new(&d)));
    super::spare::wake_normal();
    let mut stdin = std::io::stdin().lock();
    let mut line = String::new();
    let result = std::io::BufRead::read_line(&mut stdin, &mut line)
        .map_err(|e| RuntimeError::new("launch", format!("read request: {e}")))
        .and_then(|_| {
            serde_json::from_str::<LaunchRequest>(&line)
                .map_err(|e| RuntimeError::new("launch", format!("bad request: {e}")))
        })
        .inspect_err(|_| {
            // No request (a spare retired, an engine gone): nothing made.
            if let Some(d) = &spare_view {
                let _ = std::fs::remove_dir_all(d);
            }
        })
        .and_then(|mut req| {
            let prepared = Prepared::new(&req, spare_view.as_deref())?;
            if !req.cgroups.is_empty() {
                // One part: an older engine's whole request.
                return launch(&req, prepared);
            }
            let mut rest = String::new();
            let cgroups = stdin
                .read_to_string(&mut rest)
                .map_err(|e| RuntimeError::new("launch", format!("read request: {e}")))
                .and_then(|_| {
                    serde_json::from_str::<Vec<PathBuf>>(&rest).map_err(|e| {
                        RuntimeError::new("launch", format!("bad request (cgroups): {e}"))
                    })
                });
            match cgroups {
                Ok(c) => req.cgroups = c,
                Err(e) => return Err(prepared.undo(e)),
            }
            launch(&req, prepared)
        });
    let out: Result<Launched, (String, String, Option<i32>)> =
        result.map_err(|e| (e.step, e.message, e.errno));
    let mut stdout = std::io::stdout();
    let _ = stdout.write_all(serde_json::to_string(&out).unwrap_or_default().as_bytes());
    let _ = stdout.flush();
    std::process::exit(0)
}

/// Decode the launcher's answer (see [`main`]).
pub fn decode_answer(s: &str) -> Result<Launched, RuntimeError> {
    let out: Result<Launched, (String, String, Option<i32>)> =
        serde_json::from_str(s).map_err(|e| {
            RuntimeError::new(
                "launch",
                format!("bad answer from zsched launch ({e}): {s:?}"),
            )
        })?;
    out.map_err(|(step, message, errno)| RuntimeError {
        step,
        message,
        errno,
    })
}

/// The start time of a live process (field 22 of /proc/PID/stat), to tell
/// a reused pid apart; None for a process that is gone or a zombie.
pub fn start_time(pid: u32) -> Option<u64> {
    let st = crate::procstat::read(pid)?;
    (!st.is_gone()).then_some(st.starttime)
}

/// The request's first part done: the control socket bound, the view
/// directory made, our own executable opened and zsched's configuration
/// written into a memfd.
struct Prepared {
    control: PathBuf,
    listener: std::os::unix::net::UnixListener,
    exe_fd: OwnedFd,
    cfg_file: std::fs::File,
}

impl Prepared {
    fn new(req: &LaunchRequest, spare_view: Option<&Path>) -> Result<Prepared, RuntimeError> {
        // 1. The control socket.
        let _ = std::fs::remove_file(&req.control);
        let listener = std::os::unix::net::UnixListener::bind(&req.control).map_err(|e| {
            if let Some(d) = spare_view {
                let _ = std::fs::remove_dir_all(d);
            }
            RuntimeError::new(
                "control socket",
                format!("bind {}: {e}", req.control.display()),
            )
        })?;
        let _ = std::fs::set_permissions(
            &req.control,
            std::os::unix::fs::PermissionsExt::from_mode(0o600),
        );
        let unlink = |e: RuntimeError| unmake(&req.control, e);
        let view = super::view::prepare(&req.control, spare_view).map_err(unlink)?;
        // 2. Our own executable and zsched's configuration.
        let exe = CString::new("/proc/self/exe").unwrap();
        // SAFETY: the path is a NUL-terminated string we own; the new descriptor is ours.
        let exe_fd = unsafe { libc::open(exe.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
        if exe_fd < 0 {
            return Err(unlink(os_err("launch", "open /proc/self/exe")));
        }
        // SAFETY: the descriptor was just returned by the kernel and nothing else owns it.
        let exe_fd = unsafe { OwnedFd::from_raw_fd(exe_fd) };
        let cfg = serde_json::to_vec(&Supervise {
            spec: req.spec.clone(),
            caps: req.caps,
            view: Some(view),
        })
        .map_err(|e| unlink(RuntimeError::new("launch", e.to_string())))?;
        let name = CString::new("zsched-config").unwrap();
        // SAFETY: the path is a NUL-terminated string we own; the new descriptor is ours.
        let cfg_fd = unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC) };
        if cfg_fd < 0 {
            return Err(unlink(os_err("launch", "memfd_create")));
        }
        // SAFETY: the descriptor was just returned by the kernel and nothing else owns it.
        let mut cfg_file = unsafe { std::fs::File::from_raw_fd(cfg_fd) };
        cfg_file
            .write_all(&cfg)
            .map_err(|e| unlink(RuntimeError::new("launch", format!("write config: {e}"))))?;
        Ok(Prepared {
            control: req.control.clone(),
            listener,
            exe_fd,
            cfg_file,
        })
    }

    /// Remove what [`Prepared::new`] made (the descriptors close with it)
    /// and pass the error on.
    fn undo(self, e: RuntimeError) -> RuntimeError {
        unmake(&self.control, e)
    }
}

/// Remove the control socket and the view directory the launcher made,
/// and pass the error on.
fn unmake(control: &Path, e: RuntimeError) -> RuntimeError {
    let _ = std::fs::remove_file(control);
    super::view::remove(control);
    e
}

fn launch(req: &LaunchRequest, prepared: Prepared) -> Result<Launched, RuntimeError> {
    let unlink = |e: RuntimeError| unmake(&req.control, e);
    let Prepared {
        listener,
        exe_fd,
        cfg_file,
        ..
    } = prepared;
    // 3. The pid namespace and the child. A nested jail's pid namespace
    // is a child of its parent's: the launcher enters the parent's (for
    // its children), forks X there, X unshares a new one and forks zsched,
    // then X exits (zsched's reaper is then the parent zone's zsched).
    let nested = req.spec.parent.as_ref().map(|p| p.zsched_pid);
    if let Some(ppid) = nested {
        let path = CString::new(format!("/proc/{ppid}/ns/pid")).unwrap();
        // SAFETY: the path is a NUL-terminated string we own; the new descriptor is ours.
        let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
        if fd < 0 {
            return Err(unlink(os_err(
                "clone",
                format!("parent zone: open /proc/{ppid}/ns/pid"),
            )));
        }
        // SAFETY: namespace calls on this single-threaded process (or its forked child) with descriptors we own.
        let r = unsafe { libc::setns(fd, libc::CLONE_NEWPID) };
        // SAFETY: `fd` is the namespace descriptor opened above, owned by this
        // function alone and not used after this close.
        unsafe { libc::close(fd) };
        if r != 0 {
            return Err(unlink(os_err(
                "clone",
                "enter the parent zone's pid namespace",
            )));
        }
    // SAFETY: namespace calls on this single-threaded process (or its forked child) with descriptors we own.
    } else if unsafe { libc::unshare(libc::CLONE_NEWPID) } != 0 {
        return Err(unlink(os_err("clone", "unshare(CLONE_NEWPID)")));
    }
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two descriptors into the array we own.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(unlink(os_err("launch", "pipe")));
    }
    // SAFETY: the descriptor was just returned by the kernel and nothing else owns it.
    let (rd, wr) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // The child is born in the zone's v2 cgroup and joins the v1 ones
    // thread by thread: no RCU grace period ([`super::cgjoin`]).
    let cgroups = super::cgjoin::Plan::new(&req.cgroups);
    // SAFETY: the launcher is a fresh single-threaded process (module
    // comment), so no lock held by another thread is copied into the
    // child; the child makes system calls only and ends in exec or _exit.
    let (pid, born_in_v2) = unsafe { cgroups.fork() };
    if pid < 0 {
        return Err(unlink(os_err("clone", "fork into the new pid namespace")));
    }
    if pid == 0 {
        drop(rd);
        // Until zsched is exec'd (which makes it dumpable again, holding
        // only its own descriptors), the child is a copy of the launcher
        // in a pid namespace a zone can see (a nested zone's parent sees
        // X and zsched): not dumpable, so no process of a zone may open
        // its /proc files or ptrace it.
        // SAFETY: prctl with integer arguments only.
        unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
        if nested.is_some() {
            // X: make the nested namespace and zsched in it.
            // SAFETY: namespace calls on this single-threaded process (or its forked child) with descriptors we own.
            if unsafe { libc::unshare(libc::CLONE_NEWPID) } != 0 {
                fail(
                    wr.as_raw_fd(),
                    ChildError::errno(
                        "clone",
                        "unshare(CLONE_NEWPID) in the parent zone".into(),
                        last_errno(),
                    ),
                );
            }
            // SAFETY: fork; the child makes system calls only and ends in exec or _exit.
            let y = unsafe { libc::fork() };
            if y < 0 {
                fail(
                    wr.as_raw_fd(),
                    ChildError::errno(
                        "clone",
                        "fork into the nested pid namespace".into(),
                        last_errno(),
                    ),
                );
            }
            if y > 0 {
                // SAFETY: _exit ends the process without running anything of the caller's.
                unsafe { libc::_exit(0) };
            }
        }
        child(
            req,
            (&cgroups, born_in_v2),
            exe_fd.as_raw_fd(),
            cfg_file.as_raw_fd(),
            listener.as_raw_fd(),
            wr.as_raw_fd(),
        )
    }
    drop(wr);
    // The view's first text while the child joins the cgroups, execs
    // zsched and builds the zone (it binds the files by inode, so this
    // may come after): the child is zsched, and its start time — fixed
    // at the fork — is the zone's zero. A nested zone's zsched is a
    // grandchild, filled for once the verdict is in.
    let filled = nested
        .is_none()
        .then(|| start_time(pid as u32))
        .flatten()
        .map(|start| super::view::fill(&req.control, &req.cgroups, &req.spec.params, start));
    let mut verdict = Vec::new();
    let mut f = std::fs::File::from(rd);
    let _ = f.read_to_end(&mut verdict);
    if nested.is_some() || !verdict.is_empty() {
        let mut st = 0;
        // SAFETY: waitpid on our own child, with a status we own.
        unsafe { libc::waitpid(pid, &mut st, 0) };
    }
    if !verdict.is_empty() {
        return Err(unlink(ChildError::decode(&verdict)));
    }
    // Nested: zsched is not our child; it is the only process of its
    // cgroups yet.
    let pid = if nested.is_some() {
        let procs = req
            .cgroups
            .first()
            .map(|d| super::cgroup::procs(d))
            .unwrap_or_default();
        match procs.as_slice() {
            [one] => *one as i32,
            other => {
                return Err(unlink(RuntimeError::new(
                    "launch",
                    format!("nested zsched not found in its cgroup (members: {other:?})"),
                )));
            }
        }
    } else {
        pid
    };
    let start = start_time(pid as u32).ok_or_else(|| {
        unlink(RuntimeError::new(
            "launch",
            format!("zsched (pid {pid}) died at start"),
        ))
    })?;
    let filled = filled
        .unwrap_or_else(|| super::view::fill(&req.control, &req.cgroups, &req.spec.params, start));
    if let Err(e) = filled {
        // A zone whose /proc files cannot be written is not started:
        // zsched ends, and its namespaces with it.
        // SAFETY: kill and waitpid take plain integers (waitpid only
        // reaps our own child; a nested zsched is not one).
        unsafe {
            libc::kill(pid, libc::SIGKILL);
            if nested.is_none() {
                libc::waitpid(pid, std::ptr::null_mut(), 0);
            }
        }
        return Err(unlink(e));
    }
    Ok(Launched {
        pid: pid as u32,
        start,
    })
}

/// The child: joins the cgroups and execs zsched, which builds the zone
/// (see [`setup`]); a failure is reported on the verdict pipe.
fn child(
    req: &LaunchRequest,
    (cgroups, born_in_v2): (&super::cgjoin::Plan, bool),
    exe_fd: RawFd,
    cfg_fd: RawFd,
    listen_fd: RawFd,
    verdict_fd: RawFd,
) -> ! {
    if let Err(e) = cgroups.join(&req.cgroups, born_in_v2) {
        fail(verdict_fd, e);
    }
    let (cfg_fd, listen_fd, verdict_fd, exe_fd) =
        match before_zsched_exec(cfg_fd, listen_fd, verdict_fd, exe_fd) {
            Ok(fds) => fds,
            Err(errno) => fail(
                verdict_fd,
                ChildError::errno("launch", "keep only zsched's descriptors".into(), errno),
            ),
        };
    let args: Vec<CString> = [
        "zsched".to_string(),
        "supervise".into(),
        cfg_fd.to_string(),
        listen_fd.to_string(),
        verdict_fd.to_string(),
    ]
    .into_iter()
    .map(|s| CString::new(s).unwrap())
    .collect();
    let mut argv: Vec<*const libc::c_char> = args.iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());
    let path = CString::new("PATH=/usr/sbin:/usr/bin:/sbin:/bin").unwrap();
    let envp = [path.as_ptr(), std::ptr::null()];
    let empty = CString::new("").unwrap();
    // SAFETY: the system call gets valid pointers to data we own.
    unsafe {
        libc::syscall(
            libc::SYS_execveat,
            exe_fd,
            empty.as_ptr(),
            argv.as_ptr(),
            envp.as_ptr(),
            libc::AT_EMPTY_PATH,
        );
    }
    fail(
        verdict_fd,
        ChildError::errno("exec zsched", "execveat".into(), last_errno()),
    )
}

// ---- descriptors -------------------------------------------------------
//
// The rule (security.md): no host descriptor crosses into a zone. Whatever
// process hands control to code of the zone first closes every descriptor
// it did not open for the zone, at one named point each:
//
// | point | function | what passes |
// |---|---|---|
// | launcher child → zsched | [`before_zsched_exec`] | config memfd, control socket, verdict pipe (3, 4, 5); stderr until zsched's setup ends |
// | zsched → init, exec.start, command | `zsched::before_init_exec` | stdio (the zone's console pty slave; stdout and stderr a pipe zsched copies into exec.consolelog when set) |
// | enter → the user's command | `enter::before_zone_exec` | stdio (the caller's or the zone's pty) |
//
// The primitives below make system calls only (no allocation, no lock), so
// they may run between fork and exec of a multithreaded process.

/// The highest descriptor number (close_range's "to the end").
const FD_MAX: libc::c_uint = libc::c_uint::MAX;

/// close_range(2), with a close(2) loop up to RLIMIT_NOFILE where the
/// kernel lacks it (before 5.9; CLOSE_RANGE_CLOEXEC: before 5.11).
/// Async-signal-safe.
pub fn close_range(first: RawFd, flags: libc::c_uint) -> Result<(), i32> {
    if first < 0 {
        return Err(libc::EBADF);
    }
    // SAFETY: close_range takes plain integers and touches only the
    // calling process's descriptor table.
    let r = unsafe { libc::syscall(libc::SYS_close_range, first as libc::c_uint, FD_MAX, flags) };
    if r == 0 {
        return Ok(());
    }
    let e = last_errno();
    if e != libc::ENOSYS && e != libc::EINVAL {
        return Err(e);
    }
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the rlimit we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(last_errno());
    }
    let end = lim.rlim_cur.min(1 << 20) as RawFd;
    for fd in first..end {
        // SAFETY: fcntl and close on a descriptor number of our own table;
        // one that is not open fails with EBADF, which is ignored.
        unsafe {
            if flags & libc::CLOSE_RANGE_CLOEXEC != 0 {
                libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
            } else {
                libc::close(fd);
            }
        }
    }
    Ok(())
}

/// Close every descriptor of the calling process that is not in `keep`
/// (any order, any number), with one close_range per gap.
/// Async-signal-safe.
pub fn close_all_but(keep: &[RawFd]) -> Result<(), i32> {
    let mut lo: RawFd = 0;
    loop {
        // The smallest kept descriptor at or above lo.
        let next = keep.iter().copied().filter(|k| *k >= lo).min();
        match next {
            None => return close_range(lo, 0),
            Some(k) => {
                if k > lo {
                    // SAFETY: close_range on a span of our own table.
                    let r = unsafe {
                        libc::syscall(
                            libc::SYS_close_range,
                            lo as libc::c_uint,
                            (k - 1) as libc::c_uint,
                            0,
                        )
                    };
                    if r != 0 {
                        let e = last_errno();
                        if e != libc::ENOSYS {
                            return Err(e);
                        }
                        for fd in lo..k {
                            // SAFETY: close of a number of our own table.
                            unsafe { libc::close(fd) };
                        }
                    }
                }
                lo = k + 1;
            }
        }
    }
}

/// The most descriptors [`keep_only`] renumbers.
pub const KEEP_MAX: usize = 16;

/// Keep `fds[i].0` as descriptor `first + i` (close-on-exec when
/// `fds[i].1`) and close every descriptor from `first` up that is not one
/// of them. Descriptors below `first` (stdio) are left as they are, also
/// when one of `fds` was there (the caller points stdio elsewhere
/// afterwards). Async-signal-safe.
pub fn keep_only(fds: &[(RawFd, bool)], first: RawFd) -> Result<(), i32> {
    if fds.len() > KEEP_MAX || first < 0 {
        return Err(libc::EINVAL);
    }
    let end = first + fds.len() as RawFd;
    let mut src = [-1 as RawFd; KEEP_MAX];
    // 1. Out of the way of the target numbers: a source among them would
    // be overwritten by the dup3 of another.
    for (i, (fd, _)) in fds.iter().enumerate() {
        src[i] = if (first..end).contains(fd) {
            // SAFETY: F_DUPFD_CLOEXEC duplicates a descriptor of ours to
            // the lowest free number >= end; nothing is borrowed.
            let d = unsafe { libc::fcntl(*fd, libc::F_DUPFD_CLOEXEC, end) };
            if d < 0 {
                return Err(last_errno());
            }
            d
        } else {
            *fd
        };
    }
    // 2. To the target numbers (no source is among them now).
    for (i, (_, cloexec)) in fds.iter().enumerate() {
        let flags = if *cloexec { libc::O_CLOEXEC } else { 0 };
        // SAFETY: dup3 between two descriptor numbers of our own table.
        if unsafe { libc::dup3(src[i], first + i as RawFd, flags) } < 0 {
            return Err(last_errno());
        }
    }
    // 3. Everything else, the copies of step 1 included.
    close_range(end, 0)
}

/// Point each of `fds` (stdio numbers) at the host's /dev/null.
/// Async-signal-safe.
fn to_dev_null(fds: &[RawFd]) -> Result<(), i32> {
    // SAFETY: open of a static NUL-terminated path; dup2/close on numbers
    // of our own table.
    unsafe {
        let null = libc::open(
            c"/dev/null".as_ptr(),
            libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
        );
        if null < 0 {
            return Err(last_errno());
        }
        for fd in fds {
            if libc::dup2(null, *fd) < 0 {
                let e = last_errno();
                libc::close(null);
                return Err(e);
            }
        }
        if !fds.contains(&null) {
            libc::close(null);
        }
    }
    Ok(())
}

/// The launcher's child, about to exec zsched: it keeps the config memfd,
/// the listening control socket and the verdict pipe as descriptors 3, 4
/// and 5 (inherited by zsched) and its own executable as 6 (close-on-exec:
/// execveat needs it until the exec itself); stdin and stdout (the engine's
/// request and answer pipes) become /dev/null; stderr (the engine's) stays
/// so that a crash of zsched's setup is seen, and zsched points it at the
/// zone's /dev/null before anything of the zone runs ([`setup`]). Every
/// other descriptor — whatever the engine or the tool that ran the
/// launcher had open without close-on-exec — is closed. Returns the new
/// numbers (config, control, verdict, exe). Async-signal-safe.
///
/// zsched is the runtime's own program, not the zone's, and it mounts
/// after this point, so no system call filter is applied here: the zone's
/// processes get it on the way out of zsched (`zsched::before_init_exec`).
pub fn before_zsched_exec(
    cfg_fd: RawFd,
    listen_fd: RawFd,
    verdict_fd: RawFd,
    exe_fd: RawFd,
) -> Result<(RawFd, RawFd, RawFd, RawFd), i32> {
    // The launcher is a Rust program: std opened 0, 1 and 2 at its start
    // if they were closed, so none of the four is among them.
    to_dev_null(&[0, 1])?;
    keep_only(
        &[
            (cfg_fd, false),
            (listen_fd, false),
            (verdict_fd, false),
            (exe_fd, true),
        ],
        3,
    )?;
    Ok((3, 4, 5, 6))
}

/// Report a setup failure on the verdict descriptor and exit.
pub fn fail(verdict_fd: RawFd, e: ChildError) -> ! {
    let msg = e.encode();
    // SAFETY: _exit ends the process without running anything of the caller's.
    unsafe {
        libc::write(verdict_fd, msg.as_ptr() as *const libc::c_void, msg.len());
        libc::_exit(1)
    }
}

/// Run by zsched (already exec'd, so its code and libraries are loaded and
/// the root may hold nothing): the namespaces, the root, the pivot. Returns
/// the detached proc mount's descriptor and, with `exec.consolelog`, the
/// log file (a host path, opened before the pivot) that zsched copies
/// init's output into (init gets a pipe, not this file).
pub fn setup(
    spec: &ZoneSpec,
    view: Option<&Path>,
) -> Result<(RawFd, Option<std::fs::File>), ChildError> {
    if let Some(base) = super::userns::base_for(spec)? {
        return super::userns::setup(spec, view, base);
    }
    let net = crate::runtime::NetMode::of(&spec.params);
    // A nested zone's "host" network is its parent zone's: inherit shares
    // it, and the links of the others are made on the parent's.
    join_parent_net(spec)?;
    let vnet = vnet::plan(&spec.params, net)?;
    let mut flags =
        libc::CLONE_NEWNS | libc::CLONE_NEWUTS | libc::CLONE_NEWIPC | libc::CLONE_NEWCGROUP;
    if net.own_namespace() {
        flags |= libc::CLONE_NEWNET;
    }
    // SAFETY: namespace calls on this single-threaded process (or its forked child) with descriptors we own.
    if unsafe { libc::unshare(flags) } != 0 {
        return Err(ChildError::errno(
            "clone",
            "unshare(mount, uts, ipc, cgroup, net)".into(),
            last_errno(),
        ));
    }
    // The zone's links, while the host's /proc is still there.
    vnet.apply()?;
    super::netns::join(&spec.params)?;
    super::ipc::new_session_keyring()
        .map_err(|e| ChildError::errno("keyring", "a session keyring of its own".into(), e))?;
    let root = private_root(spec)?;
    mounts::build(&root, spec.brand, &spec.params)?;
    super::sysinit::mounts(&root, spec.brand, &spec.params)?;
    if let Some(dir) = view {
        super::view::bind(&root, dir)?;
    }
    mounts::fstab(&root, &spec.params)?;
    let hostname = spec
        .params
        .str("host.hostname")
        .unwrap_or(spec.name.as_str());
    set_uts(hostname, spec.params.str("host.domainname"))?;
    let proc_fd = detached_proc()?;
    super::timens::setup()?;
    let console = consolelog(spec)?;
    let null_fd = host_dev_null()?;
    mounts::pivot(&root)?;
    memlock(spec)?;
    let null_fd = zone_dev_null().map_or(null_fd, |zone_null| {
        // SAFETY: null_fd is the host /dev/null opened above, ours alone.
        unsafe { libc::close(null_fd) };
        zone_null
    });
    // SAFETY: setsid and dup2/close on descriptors of our own table.
    unsafe {
        libc::setsid();
        for fd in 0..3 {
            libc::dup2(null_fd, fd);
        }
        libc::close(null_fd);
    }
    Ok((proc_fd, console))
}

/// The zone's own /dev/null (after the pivot), if it is one (a character
/// device 1:3): zsched's stdio and so init's. A descriptor of the host's
/// /dev/null would be one on a host mount in every zone process; the
/// host's is the fallback for a root without a /dev.
pub(super) fn zone_dev_null() -> Option<RawFd> {
    // SAFETY: open of a static path; fstat into a stat we own; close of
    // the descriptor just opened.
    unsafe {
        let fd = libc::open(
            c"/dev/null".as_ptr(),
            libc::O_RDWR | libc::O_NOCTTY | libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC,
        );
        if fd < 0 {
            return None;
        }
        let mut st: libc::stat = std::mem::zeroed();
        let ok = libc::fstat(fd, &mut st) == 0
            && (st.st_mode & libc::S_IFMT) == libc::S_IFCHR
            && st.st_rdev == libc::makedev(1, 3);
        if !ok {
            libc::close(fd);
            return None;
        }
        // Blocking again: init's stdio is the usual kind.
        libc::fcntl(fd, libc::F_SETFL, 0);
        Some(fd)
    }
}

/// A changed zone.max-locked-memory on a live zone: zsched's
/// RLIMIT_MEMLOCK, which every process entered from now on copies
/// ([`super::enter`]); processes already running keep theirs, as they
/// would after any change of a resource limit. Raising it past the
/// engine's own hard limit needs CAP_SYS_RESOURCE.
pub fn set_memlock(zsched: u32, bytes: i64) -> Result<(), RuntimeError> {
    let n = bytes.max(0) as u64;
    let lim = libc::rlimit {
        rlim_cur: n,
        rlim_max: n,
    };
    // SAFETY: prlimit reads the rlimit we own and writes nothing back.
    if unsafe {
        libc::prlimit(
            zsched as i32,
            libc::RLIMIT_MEMLOCK,
            &lim,
            std::ptr::null_mut(),
        )
    } != 0
    {
        return Err(os_err(
            "rlimit",
            format!("RLIMIT_MEMLOCK of zsched (pid {zsched}) to {n}"),
        ));
    }
    Ok(())
}

/// `/` made private recursively in zsched's new mount namespace (nothing
/// it mounts propagates to the host), and the zone's root resolved: an
/// existing directory, by its canonical host path.
pub(super) fn private_root(spec: &ZoneSpec) -> Result<PathBuf, ChildError> {
    mounts::mount(
        "root",
        None,
        Path::new("/"),
        None,
        libc::MS_REC | libc::MS_PRIVATE,
        None,
    )?;
    let root = std::fs::canonicalize(&spec.root).map_err(|e| {
        ChildError::errno(
            "root",
            spec.root.display().to_string(),
            e.raw_os_error().unwrap_or(0),
        )
    })?;
    if !root.is_dir() {
        return Err(ChildError::new(
            "root",
            format!("{}: not a directory", root.display()),
        ));
    }
    Ok(root)
}

/// `exec.consolelog`: the host file init's output is copied into, opened
/// (appending) before the pivot, while the host path is still in reach.
pub(super) fn consolelog(spec: &ZoneSpec) -> Result<Option<std::fs::File>, ChildError> {
    let Some(path) = spec.params.str("exec.consolelog") else {
        return Ok(None);
    };
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map(Some)
        .map_err(|e| {
            ChildError::errno(
                "exec.consolelog",
                path.to_string(),
                e.raw_os_error().unwrap_or(0),
            )
        })
}

/// The host's /dev/null, opened before the pivot: stdio for a root
/// without a /dev of its own.
pub(super) fn host_dev_null() -> Result<RawFd, ChildError> {
    // SAFETY: a static NUL-terminated path; the new descriptor is ours.
    let fd = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(ChildError::errno(
            "launch",
            "open /dev/null".into(),
            last_errno(),
        ));
    }
    Ok(fd)
}

/// RLIMIT_MEMLOCK = `zone.max-locked-memory` (0 included), on zsched:
/// every process of the zone inherits it, and an entered one copies it.
pub(super) fn memlock(spec: &ZoneSpec) -> Result<(), ChildError> {
    let Some(n) = spec.params.int("zone.max-locked-memory") else {
        return Ok(());
    };
    let lim = libc::rlimit {
        rlim_cur: n as u64,
        rlim_max: n as u64,
    };
    // SAFETY: the rlimit struct is ours.
    if unsafe { libc::setrlimit(libc::RLIMIT_MEMLOCK, &lim) } != 0 {
        return Err(ChildError::errno(
            "rlimit",
            "RLIMIT_MEMLOCK".into(),
            last_errno(),
        ));
    }
    Ok(())
}

/// A zone starts from the network of its parent: the host's for a
/// top-level zone (the launcher's own, nothing to do), the parent zone's
/// for a nested one — never the host's from inside a zone that has its
/// own. `ip4 = inherit` stays there; the other zones unshare from there,
/// and their links (macvlans, veths, moved interfaces) are made on the
/// parent's.
pub(super) fn join_parent_net(spec: &ZoneSpec) -> Result<(), ChildError> {
    let Some(parent) = &spec.parent else {
        return Ok(());
    };
    let path = format!("/proc/{}/ns/net", parent.zsched_pid);
    let ns = std::fs::File::open(&path).map_err(|e| {
        ChildError::errno(
            "clone",
            format!("parent zone's network: {path}"),
            e.raw_os_error().unwrap_or(0),
        )
    })?;
    // SAFETY: setns on a namespace descriptor we hold open.
    if unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
        return Err(ChildError::errno(
            "clone",
            format!("join the parent zone's network ({path})"),
            last_errno(),
        ));
    }
    Ok(())
}

pub(super) fn set_uts(host: &str, domain: Option<&str>) -> Result<(), ChildError> {
    // SAFETY: pointer and length of a string we own.
    if unsafe { libc::sethostname(host.as_ptr() as *const libc::c_char, host.len()) } != 0 {
        return Err(ChildError::errno(
            "hostname",
            format!("sethostname {host:?}"),
            last_errno(),
        ));
    }
    if let Some(d) = domain
        // SAFETY: pointer and length of a string we own.
        && unsafe { libc::setdomainname(d.as_ptr() as *const libc::c_char, d.len()) } != 0
    {
        return Err(ChildError::errno(
            "hostname",
            format!("setdomainname {d:?}"),
            last_errno(),
        ));
    }
    Ok(())
}

/// A proc mount of the zone's pid namespace that is attached nowhere
/// (fsopen + fsmount): zsched counts the zone's processes through it.
pub(super) fn detached_proc() -> Result<RawFd, ChildError> {
    const FSOPEN_CLOEXEC: libc::c_uint = 1;
    const FSCONFIG_CMD_CREATE: libc::c_uint = 6;
    const FSMOUNT_CLOEXEC: libc::c_uint = 1;
    let name = CString::new("proc").unwrap();
    // SAFETY: the system call gets valid pointers to data we own.
    unsafe {
        let fs = libc::syscall(libc::SYS_fsopen, name.as_ptr(), FSOPEN_CLOEXEC) as i32;
        if fs < 0 {
            return Err(ChildError::errno(
                "proc",
                "fsopen proc".into(),
                last_errno(),
            ));
        }
        let r = libc::syscall(
            libc::SYS_fsconfig,
            fs,
            FSCONFIG_CMD_CREATE,
            std::ptr::null::<libc::c_char>(),
            std::ptr::null::<libc::c_void>(),
            0,
        );
        if r != 0 {
            let e = last_errno();
            libc::close(fs);
            return Err(ChildError::errno("proc", "fsconfig create".into(), e));
        }
        let m = libc::syscall(libc::SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0) as i32;
        let e = last_errno();
        libc::close(fs);
        if m < 0 {
            return Err(ChildError::errno("proc", "fsmount".into(), e));
        }
        Ok(m)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Run `f` in a forked child; its exit status (f's value). The one
    /// helper of the runtime's tests that run code meant for a forked child.
    pub(crate) fn in_child(f: impl FnOnce() -> i32) -> i32 {
        // SAFETY: the child runs f (system calls only) and _exits.
        unsafe {
            let pid = libc::fork();
            assert!(pid >= 0);
            if pid == 0 {
                libc::_exit(f());
            }
            let mut st = 0;
            libc::waitpid(pid, &mut st, 0);
            assert!(libc::WIFEXITED(st), "child killed: {st}");
            libc::WEXITSTATUS(st)
        }
    }

    /// The open descriptors below 1024 (no allocation-free need here: the
    /// tests' children may allocate, glibc's malloc is fork-safe).
    fn open_fds() -> Vec<RawFd> {
        // SAFETY: F_GETFD only tests a number.
        (0..1024)
            .filter(|fd| unsafe { libc::fcntl(*fd, libc::F_GETFD) } >= 0)
            .collect()
    }

    /// (device, inode) of a descriptor, to tell which file it is.
    fn id(fd: RawFd) -> (u64, u64) {
        // SAFETY: fstat into a stat we own.
        unsafe {
            let mut st: libc::stat = std::mem::zeroed();
            libc::fstat(fd, &mut st);
            (st.st_dev, st.st_ino)
        }
    }

    fn open_dir(path: &std::ffi::CStr) -> RawFd {
        // SAFETY: open of a NUL-terminated path, no close-on-exec on purpose.
        unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY) }
    }

    #[test]
    fn keep_only_renumbers_through_collisions_and_closes_the_rest() {
        let status = in_child(|| {
            // SAFETY: descriptors of this child only.
            unsafe {
                let a = open_dir(c"/");
                let b = open_dir(c"/tmp");
                let c = open_dir(c"/proc");
                // Sources sitting on each other's targets: c at 3, a at 5.
                let (a, c) = (libc::dup2(a, 5), libc::dup2(c, 3));
                let b = libc::dup2(b, 77);
                let want = [id(a), id(b), id(c)];
                for fd in [100, 200, 900] {
                    libc::dup2(a, fd);
                }
                if keep_only(&[(a, false), (b, true), (c, false)], 3).is_err() {
                    return 10;
                }
                if open_fds() != [0, 1, 2, 3, 4, 5] {
                    return 11;
                }
                if [id(3), id(4), id(5)] != want {
                    return 12;
                }
                let flags: Vec<i32> = (3..6).map(|fd| libc::fcntl(fd, libc::F_GETFD)).collect();
                if flags != [0, libc::FD_CLOEXEC, 0] {
                    return 13;
                }
                0
            }
        });
        assert_eq!(status, 0);
    }

    #[test]
    fn close_all_but_keeps_exactly_the_list_in_any_order() {
        let status = in_child(|| {
            let d = open_dir(c"/");
            // SAFETY: dup2 between numbers of this child's table.
            for fd in [7, 8, 9, 30, 31, 500] {
                // SAFETY: dup2 from `d`, open in this forked test child, onto plain
                // numbers of the child's own table; nothing in the child owns them.
                unsafe { libc::dup2(d, fd) };
            }
            if close_all_but(&[31, 0, 8, 2, 500, 1]).is_err() {
                return 10;
            }
            if open_fds() != [0, 1, 2, 8, 31, 500] {
                return 11;
            }
            if close_all_but(&[]).is_err() || !open_fds().is_empty() {
                return 12;
            }
            0
        });
        assert_eq!(status, 0);
    }

    #[test]
    fn close_range_cloexec_marks_without_closing() {
        let status = in_child(|| {
            let d = open_dir(c"/");
            // SAFETY: fcntl on numbers of this child's table.
            unsafe {
                libc::dup2(d, 12);
                if close_range(3, libc::CLOSE_RANGE_CLOEXEC).is_err() {
                    return 10;
                }
                for fd in [d, 12] {
                    if libc::fcntl(fd, libc::F_GETFD) != libc::FD_CLOEXEC {
                        return 11;
                    }
                }
                if libc::fcntl(1, libc::F_GETFD) & libc::FD_CLOEXEC != 0 {
                    return 12;
                }
            }
            0
        });
        assert_eq!(status, 0);
    }

    #[test]
    fn before_zsched_exec_keeps_four_and_nulls_stdin_and_stdout() {
        let status = in_child(|| {
            let fds: Vec<RawFd> = [c"/", c"/tmp", c"/proc", c"/sys"]
                .iter()
                .map(|p| open_dir(p))
                .collect();
            let want: Vec<(u64, u64)> = fds.iter().map(|fd| id(*fd)).collect();
            let _extra = open_dir(c"/etc");
            let Ok(new) = before_zsched_exec(fds[0], fds[1], fds[2], fds[3]) else {
                return 10;
            };
            if new != (3, 4, 5, 6) || open_fds() != [0, 1, 2, 3, 4, 5, 6] {
                return 11;
            }
            let got: Vec<(u64, u64)> = (3..7).map(id).collect();
            if got != want {
                return 12;
            }
            let null = {
                // SAFETY: stat of a static path into a struct we own.
                let mut st: libc::stat = unsafe { std::mem::zeroed() };
                // SAFETY: the path is a static NUL-terminated literal and `st` a local
                // we own; stat writes one struct into it.
                unsafe { libc::stat(c"/dev/null".as_ptr(), &mut st) };
                (st.st_dev, st.st_ino)
            };
            if id(0) != null || id(1) != null {
                return 13;
            }
            // SAFETY: F_GETFD only reads flags.
            if unsafe { libc::fcntl(6, libc::F_GETFD) } != libc::FD_CLOEXEC {
                return 14;
            }
            0
        });
        assert_eq!(status, 0);
    }
}
