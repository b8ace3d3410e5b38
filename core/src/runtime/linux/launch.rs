//! # Launch: from the engine to a zone's pid 1
//!
//! The engine is multithreaded and must never unshare or setns itself, so
//! [`super::LinuxRuntime`]'s `ready` runs the zsched binary as `zsched launch`,
//! a fresh single-threaded process, with a [`LaunchRequest`] (JSON) on its
//! stdin, and reads a [`Launched`] or a [`crate::runtime::RuntimeError`]
//! (JSON) from its stdout. The cgroups are already made by then.
//!
//! The launcher:
//!
//! 1. binds the zone's control socket (the listening descriptor is
//!    inherited by zsched, so it works after the pivot; the path stays in
//!    the host's run directory, out of the zone's reach);
//! 2. opens its own executable (/proc/self/exe) and writes zsched's
//!    configuration into a memfd, so that zsched can be exec'd from a
//!    descriptor and the zone root needs no file at all;
//! 3. unshare(CLONE_NEWPID) and fork: the child is pid 1 of the new pid
//!    namespace. The launcher then only waits for the child's verdict on a
//!    close-on-exec pipe (EOF = exec succeeded; else "step, message,
//!    errno") and exits, so zsched is re-parented to the host's init (or
//!    the nearest subreaper): a zone outlives the engine that made it.
//!
//! The child (the future zsched) joins the zone's cgroups (writing 0 to
//! each cgroup.procs) and execveat(AT_EMPTY_PATH)s zsched from the
//! descriptor — before anything else changes, so that the dynamic loader
//! and libraries come from the host and the zone's root may be empty.
//! zsched then ([`setup`]) unshares mount, UTS, IPC and cgroup namespaces
//! and — unless the zone asked for `ip4 = inherit`
//! ([`crate::runtime::NetMode`]) — net, bringing lo up and, with
//! `vnet = new`, moving each `vnet.interface` in ([`super::vnet`]); it makes `/` private
//! recursively, builds the root and mounts the zone's `mount` / `mount.fstab` lines
//! ([`super::mounts`]), joins a session keyring of its own ([`super::ipc`]), sets the host and
//! domain name, opens a detached proc mount (fsopen/fsmount) that it counts
//! its processes with even when the zone has no /proc, pivots, applies
//! RLIMIT_MEMLOCK and points stdio at /dev/null; then it closes the verdict
//! pipe. Every failure is reported on it with its step (`pivot_root: ...`)
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

/// What the runtime sends the launcher.
#[derive(Serialize, Deserialize)]
pub struct LaunchRequest {
    pub spec: ZoneSpec,
    /// The zone's cgroup directories (one per hierarchy) to join.
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
pub fn main() -> ! {
    let mut input = String::new();
    let result = std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|e| RuntimeError::new("launch", format!("read request: {e}")))
        .and_then(|_| {
            serde_json::from_str::<LaunchRequest>(&input)
                .map_err(|e| RuntimeError::new("launch", format!("bad request: {e}")))
        })
        .and_then(|req| launch(&req));
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
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &s[s.rfind(')')? + 2..];
    let mut it = after.split(' ');
    if matches!(it.next(), Some("Z" | "X" | "x")) {
        return None;
    }
    it.nth(18)?.parse().ok()
}

fn launch(req: &LaunchRequest) -> Result<Launched, RuntimeError> {
    // 1. The control socket.
    let _ = std::fs::remove_file(&req.control);
    let listener = std::os::unix::net::UnixListener::bind(&req.control).map_err(|e| {
        RuntimeError::new(
            "control socket",
            format!("bind {}: {e}", req.control.display()),
        )
    })?;
    let _ = std::fs::set_permissions(
        &req.control,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    );
    let unlink = |e: RuntimeError| {
        let _ = std::fs::remove_file(&req.control);
        e
    };
    // 2. Our own executable and zsched's configuration.
    let exe = CString::new("/proc/self/exe").unwrap();
    let exe_fd = unsafe { libc::open(exe.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if exe_fd < 0 {
        return Err(unlink(os_err("launch", "open /proc/self/exe")));
    }
    let exe_fd = unsafe { OwnedFd::from_raw_fd(exe_fd) };
    let cfg = serde_json::to_vec(&Supervise {
        spec: req.spec.clone(),
        caps: req.caps,
    })
    .map_err(|e| unlink(RuntimeError::new("launch", e.to_string())))?;
    let name = CString::new("zsched-config").unwrap();
    let cfg_fd = unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC) };
    if cfg_fd < 0 {
        return Err(unlink(os_err("launch", "memfd_create")));
    }
    let mut cfg_file = unsafe { std::fs::File::from_raw_fd(cfg_fd) };
    cfg_file
        .write_all(&cfg)
        .map_err(|e| unlink(RuntimeError::new("launch", format!("write config: {e}"))))?;
    // 3. The pid namespace and the child. A nested jail's pid namespace
    // is a child of its parent's: the launcher enters the parent's (for
    // its children), forks X there, X unshares a new one and forks zsched,
    // then X exits (zsched's reaper is then the parent zone's zsched).
    let nested = req.spec.parent.as_ref().map(|p| p.zsched_pid);
    if let Some(ppid) = nested {
        let path = CString::new(format!("/proc/{ppid}/ns/pid")).unwrap();
        let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
        if fd < 0 {
            return Err(unlink(os_err(
                "clone",
                format!("parent zone: open /proc/{ppid}/ns/pid"),
            )));
        }
        let r = unsafe { libc::setns(fd, libc::CLONE_NEWPID) };
        unsafe { libc::close(fd) };
        if r != 0 {
            return Err(unlink(os_err(
                "clone",
                "enter the parent zone's pid namespace",
            )));
        }
    } else if unsafe { libc::unshare(libc::CLONE_NEWPID) } != 0 {
        return Err(unlink(os_err("clone", "unshare(CLONE_NEWPID)")));
    }
    let mut fds = [0; 2];
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(unlink(os_err("launch", "pipe")));
    }
    let (rd, wr) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(unlink(os_err("clone", "fork into the new pid namespace")));
    }
    if pid == 0 {
        drop(rd);
        if nested.is_some() {
            // X: make the nested namespace and zsched in it.
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
                unsafe { libc::_exit(0) };
            }
        }
        let e = child(
            req,
            exe_fd.as_raw_fd(),
            cfg_file.as_raw_fd(),
            listener.as_raw_fd(),
            wr.as_raw_fd(),
        );
        fail(wr.as_raw_fd(), e)
    }
    drop(wr);
    let mut verdict = Vec::new();
    let mut f = std::fs::File::from(rd);
    let _ = f.read_to_end(&mut verdict);
    if nested.is_some() || !verdict.is_empty() {
        let mut st = 0;
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
    Ok(Launched {
        pid: pid as u32,
        start,
    })
}

fn write_file(step: &str, path: &Path, value: &str) -> Result<(), ChildError> {
    std::fs::write(path, value).map_err(|e| {
        ChildError::errno(
            step,
            format!("write {}", path.display()),
            e.raw_os_error().unwrap_or(0),
        )
    })
}

/// The child: joins the cgroups and execs zsched, which builds the zone
/// (see [`setup`]). Returns only on failure.
fn child(
    req: &LaunchRequest,
    exe_fd: RawFd,
    cfg_fd: RawFd,
    listen_fd: RawFd,
    verdict_fd: RawFd,
) -> ChildError {
    for d in &req.cgroups {
        if let Err(e) = write_file("cgroup", &d.join("cgroup.procs"), "0") {
            return e;
        }
    }
    unsafe {
        for fd in [cfg_fd, listen_fd, verdict_fd] {
            let fl = libc::fcntl(fd, libc::F_GETFD);
            libc::fcntl(fd, libc::F_SETFD, fl & !libc::FD_CLOEXEC);
        }
    }
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
    ChildError::errno("exec zsched", "execveat".into(), last_errno())
}

/// Report a setup failure on the verdict descriptor and exit.
pub fn fail(verdict_fd: RawFd, e: ChildError) -> ! {
    let msg = e.encode();
    unsafe {
        libc::write(verdict_fd, msg.as_ptr() as *const libc::c_void, msg.len());
        libc::_exit(1)
    }
}

/// Run by zsched (already exec'd, so its code and libraries are loaded and
/// the root may hold nothing): the namespaces, the root, the pivot. Returns
/// the detached proc mount's descriptor and, with `exec.consolelog`, the
/// log file (a host path, opened before the pivot) for init's output.
pub fn setup(spec: &ZoneSpec) -> Result<(RawFd, Option<std::fs::File>), ChildError> {
    let net = crate::runtime::NetMode::of(&spec.params);
    let vnet = vnet::plan(spec.params.list("vnet.interface"), net)?;
    if net == crate::runtime::NetMode::Inherit {
        join_parent_net(spec)?;
    }
    let mut flags =
        libc::CLONE_NEWNS | libc::CLONE_NEWUTS | libc::CLONE_NEWIPC | libc::CLONE_NEWCGROUP;
    if net.own_namespace() {
        flags |= libc::CLONE_NEWNET;
    }
    if unsafe { libc::unshare(flags) } != 0 {
        return Err(ChildError::errno(
            "clone",
            "unshare(mount, uts, ipc, cgroup, net)".into(),
            last_errno(),
        ));
    }
    super::ipc::new_session_keyring()
        .map_err(|e| ChildError::errno("keyring", "a session keyring of its own".into(), e))?;
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
    mounts::build(&root, spec.brand, &spec.params)?;
    mounts::fstab(&root, &spec.params)?;
    let hostname = spec
        .params
        .str("host.hostname")
        .unwrap_or(spec.name.as_str());
    set_uts(hostname, spec.params.str("host.domainname"))?;
    if net.own_namespace() {
        vnet.apply()?;
    }
    let proc_fd = detached_proc()?;
    let console = match spec.params.str("exec.consolelog") {
        Some(path) => Some(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| {
                    ChildError::errno(
                        "exec.consolelog",
                        path.to_string(),
                        e.raw_os_error().unwrap_or(0),
                    )
                })?,
        ),
        None => None,
    };
    let null = CString::new("/dev/null").unwrap();
    let null_fd = unsafe { libc::open(null.as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) };
    if null_fd < 0 {
        return Err(ChildError::errno(
            "launch",
            "open /dev/null".into(),
            last_errno(),
        ));
    }
    mounts::pivot(&root)?;
    if let Some(n) = spec.params.int("zone.max-locked-memory") {
        let lim = libc::rlimit {
            rlim_cur: n as u64,
            rlim_max: n as u64,
        };
        if unsafe { libc::setrlimit(libc::RLIMIT_MEMLOCK, &lim) } != 0 {
            return Err(ChildError::errno(
                "rlimit",
                "RLIMIT_MEMLOCK".into(),
                last_errno(),
            ));
        }
    }
    unsafe {
        libc::setsid();
        for fd in 0..3 {
            libc::dup2(null_fd, fd);
        }
        libc::close(null_fd);
    }
    Ok((proc_fd, console))
}

/// `ip4 = inherit` shares the network of the zone's parent: the host's for
/// a top-level zone (the launcher's own, nothing to do), the parent zone's
/// for a nested one — never the host's from inside a zone that has its own.
fn join_parent_net(spec: &ZoneSpec) -> Result<(), ChildError> {
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

fn set_uts(host: &str, domain: Option<&str>) -> Result<(), ChildError> {
    if unsafe { libc::sethostname(host.as_ptr() as *const libc::c_char, host.len()) } != 0 {
        return Err(ChildError::errno(
            "hostname",
            format!("sethostname {host:?}"),
            last_errno(),
        ));
    }
    if let Some(d) = domain
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
fn detached_proc() -> Result<RawFd, ChildError> {
    const FSOPEN_CLOEXEC: libc::c_uint = 1;
    const FSCONFIG_CMD_CREATE: libc::c_uint = 6;
    const FSMOUNT_CLOEXEC: libc::c_uint = 1;
    let name = CString::new("proc").unwrap();
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
