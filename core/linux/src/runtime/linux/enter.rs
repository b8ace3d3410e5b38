//! # Entering a zone (zlogin, jexec)
//!
//! [`run`] runs a command inside a live zone and returns its exit status
//! (128 + the signal when it was killed). What it prepares on the caller's
//! side — the pidfd of zsched, the user (from the zone's /etc/passwd), the
//! program (looked up in the zone's PATH), the pty — it reads through the
//! zone's root with openat2(RESOLVE_IN_ROOT), so a symlink inside the zone
//! cannot point it at a host file. Then it forks:
//!
//! * child A makes itself not dumpable, closes every descriptor but those
//!   it and B need (whatever else the caller had open without
//!   close-on-exec goes here), and setns'es into zsched's mount, UTS, IPC, net and pid
//!   namespaces in one call (setns on a pidfd; on kernels before 5.8, one
//!   /proc/PID/ns file at a time) and into the zone's time namespace
//!   (zsched's `time_for_children`, [`super::timens`]), then closes the
//!   pidfd and the namespace files. setns of a pid namespace applies to children only, so A forks
//!   again and waits, holding nothing (A itself stays in the host's pid
//!   namespace and cgroups, so it is not counted as a process of the zone
//!   and no process of the zone can name it). These joins are made as the
//!   host's root, which is privileged over every namespace, the zone's
//!   user namespace's included;
//! * child B is inside the pid namespace: it joins the zone's cgroups
//!   (born in the v2 one by clone3's CLONE_INTO_CGROUP, and writing 0
//!   into each v1 `tasks` through descriptors opened on the host side,
//!   each closed once written: no join waits for an RCU grace period,
//!   [`super::cgjoin`]) and then zsched's cgroup
//!   namespace (that descriptor closed too); a new session (with the pty
//!   as its controlling terminal), zsched's resource limits (all of them,
//!   0 included: RLIMIT_MEMLOCK is zone.max-locked-memory), then — for a
//!   zone of its own user namespace ([`super::userns`]) — that user
//!   namespace, last (joined first, the host's pid namespace of the zone
//!   would be out of reach), so that the filter, the ids and the
//!   capabilities below are the zone's; then `before_zone_exec` (stdio
//!   and the error pipe are all it keeps), the
//!   zone's bounding set (zsched's CapBnd), the user's groups and ids, the
//!   zone's capability set, not dumpable again, chdir to the home directory
//!   (or /; always / for jexec without `-l`), then execve. The environment
//!   is a login's (PATH, HOME, USER, LOGNAME, SHELL, TERM on a pty), or,
//!   for jexec without `-l` (`keep_env`), the caller's own.
//!
//! ## No host descriptor, no host memory
//!
//! B is a process of the zone from the moment it is forked: the zone's
//! root sees it in its /proc and could use /proc/B/fd, /proc/B/mem,
//! ptrace or process_vm_readv on it — and B is a copy of the caller
//! (zlogin, jexec, zoned): its memory and its descriptor table. What
//! closes each way:
//!
//! * until B reduces its capabilities, its permitted set is the caller's
//!   full one, and the kernel refuses a ptrace-mode access (the /proc/B
//!   links and files, ptrace, process_vm_readv) by a process whose
//!   permitted set is not a superset unless it has CAP_SYS_PTRACE;
//! * B is not dumpable from its fork (A made itself so; fork keeps it;
//!   set again after the change of ids, which resets it to
//!   fs.suid_dumpable) until the exec, and a process that is not dumpable
//!   is refused to every ptrace-mode access without CAP_SYS_PTRACE: this
//!   covers the window after the capability drop;
//! * the host descriptors it inherits (the cgroup files and the v2
//!   directory, the cgroup namespace) are closed as soon as used, and `before_zone_exec`
//!   closes everything else before the capabilities fall, so that the
//!   command the zone runs starts with 0, 1 and 2 alone: the zone's pty,
//!   or the caller's stdio (never a directory: refused). B is a session
//!   leader without a controlling terminal, so a caller's terminal on its
//!   stdio cannot take TIOCSTI input from it without CAP_SYS_ADMIN.
//!
//! A zone given CAP_SYS_PTRACE (`limitpriv`) passes the first two checks:
//! it could read B's memory (the caller's, copied at fork) between fork and
//! exec; it cannot get a host descriptor from it after `before_zone_exec`.
//! The default set has no CAP_SYS_PTRACE.
//!
//! Both children make only system calls (no allocation, no lock), so [`run`]
//! may be called from a multithreaded process; it blocks the calling thread
//! until the command ends (relaying the terminal with `pty`, the host tty
//! in raw mode meanwhile). zlogin/jexec, being single-threaded, are the
//! intended callers.
//!
//! With `pty`, the pair comes from the zone's own devpts (its /dev/ptmx,
//! opened through the zone's root; the peer with TIOCGPTPEER), so the
//! session's terminal is the zone's /dev/pts/N and vanishes with the zone.

use super::{alive, caps, inroot, launch, seccomp};
use crate::runtime::{Handle, RuntimeError};
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

/// What to run in the zone.
#[derive(Clone, Debug, Default)]
pub struct EnterOpts {
    /// The command and its arguments; empty: the user's login shell.
    pub command: Vec<String>,
    /// A user of the zone (name or uid); None: root.
    pub user: Option<String>,
    /// Run on a new pseudo-terminal of the zone and relay it.
    pub pty: bool,
    /// Extra environment (after PATH, HOME, USER, LOGNAME, SHELL, TERM).
    pub env: Vec<(String, String)>,
    /// jexec(8) without `-l`: the caller's environment as it is (USER,
    /// HOME and SHELL replaced only when `user` names someone) instead of
    /// a login's.
    pub keep_env: bool,
    /// jexec(8) without `-l`: start in the zone's `/`, not in the user's
    /// home directory.
    pub in_root_dir: bool,
    /// With `pty`: the zone's name, to print illumos' `[Connected to zone
    /// 'Z' pts/N]` once the pty is made (zlogin).
    pub banner: Option<String>,
    /// With `pty`: zlogin's escape character (`~.` at the start of a line
    /// ends the session, super::console::Escape); None: no escape.
    pub escape: Option<u8>,
}

fn e(step: &str, msg: String) -> RuntimeError {
    RuntimeError::new(step, msg)
}

fn os(step: &str, what: impl std::fmt::Display) -> RuntimeError {
    let err = std::io::Error::last_os_error();
    RuntimeError {
        step: step.into(),
        message: format!("{what}: {err}"),
        errno: err.raw_os_error(),
    }
}

/// Open `path` inside the zone root `root_fd`, resolving as the zone would
/// (links followed inside the root only: [`inroot::openat2`]).
pub fn open_in_root(root_fd: RawFd, path: &str, flags: i32) -> std::io::Result<OwnedFd> {
    inroot::openat2(
        root_fd,
        Path::new(path.trim_start_matches('/')),
        flags,
        0,
        libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS,
    )
}

fn read_in_root(root_fd: RawFd, path: &str) -> Option<String> {
    let fd = open_in_root(root_fd, path, libc::O_RDONLY).ok()?;
    std::io::read_to_string(std::fs::File::from(fd)).ok()
}

struct User {
    uid: u32,
    gid: u32,
    groups: Vec<u32>,
    name: String,
    home: String,
    shell: String,
}

fn lookup_user(root_fd: RawFd, who: Option<&str>) -> Result<User, RuntimeError> {
    let passwd = read_in_root(root_fd, "/etc/passwd").unwrap_or_default();
    let who = who.unwrap_or("root");
    for l in passwd.lines() {
        let f: Vec<&str> = l.split(':').collect();
        if f.len() < 7 {
            continue;
        }
        if f[0] == who || f[2] == who {
            let (uid, gid) = (f[2].parse().unwrap_or(0), f[3].parse().unwrap_or(0));
            let mut groups = vec![gid];
            let group = read_in_root(root_fd, "/etc/group").unwrap_or_default();
            for g in group.lines() {
                let gf: Vec<&str> = g.split(':').collect();
                if gf.len() >= 4
                    && gf[3].split(',').any(|m| m == f[0])
                    && let Ok(n) = gf[2].parse()
                {
                    groups.push(n);
                }
            }
            return Ok(User {
                uid,
                gid,
                groups,
                name: f[0].into(),
                home: f[5].into(),
                shell: if f[6].is_empty() {
                    "/bin/sh".into()
                } else {
                    f[6].into()
                },
            });
        }
    }
    match who.parse::<u32>() {
        Ok(uid) => Ok(User {
            uid,
            gid: uid,
            groups: vec![uid],
            name: who.into(),
            home: "/".into(),
            shell: "/bin/sh".into(),
        }),
        Err(_) if who == "root" => Ok(User {
            uid: 0,
            gid: 0,
            groups: vec![0],
            name: "root".into(),
            home: "/".into(),
            shell: "/bin/sh".into(),
        }),
        Err(_) => Err(e("user", format!("{who}: no such user in the zone"))),
    }
}

const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Find `prog` in the zone (absolute, relative to /, or on PATH).
fn find_program(root_fd: RawFd, prog: &str) -> Result<String, RuntimeError> {
    let executable = |p: &str| -> bool {
        let Ok(fd) = open_in_root(root_fd, p, libc::O_PATH) else {
            return false;
        };
        // SAFETY: an all-zero bit pattern is a valid value of this C struct.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: fstat on `fd`, which this closure owns and holds open across
        // the call; the kernel writes one stat into `st`, a local we own.
        let ok = unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } == 0;
        ok && (st.st_mode & libc::S_IFMT) == libc::S_IFREG && (st.st_mode & 0o111) != 0
    };
    if prog.contains('/') {
        let p = if prog.starts_with('/') {
            prog.to_string()
        } else {
            format!("/{prog}")
        };
        return if executable(&p) {
            Ok(p)
        } else {
            Err(RuntimeError {
                step: "exec".into(),
                message: format!("{prog}: not an executable file in the zone"),
                errno: Some(libc::ENOENT),
            })
        };
    }
    PATH.split(':')
        .map(|d| format!("{d}/{prog}"))
        .find(|p| executable(p))
        .ok_or_else(|| RuntimeError {
            step: "exec".into(),
            message: format!("{prog}: not found in the zone"),
            errno: Some(libc::ENOENT),
        })
}

fn cstr(s: &str) -> Result<CString, RuntimeError> {
    CString::new(s).map_err(|_| e("enter", format!("{s:?}: contains NUL")))
}

/// Run a command in the zone (module comment); its exit status.
pub fn run(handle: &Handle, opts: &EnterOpts) -> Result<i32, RuntimeError> {
    run_with(handle, opts, &super::enter_extra::Extra::default())
}

/// [`run`], with the process narrowed further by `extra` ([`super::enter_extra`]).
pub fn run_with(
    handle: &Handle,
    opts: &EnterOpts,
    extra: &super::enter_extra::Extra,
) -> Result<i32, RuntimeError> {
    if !alive(handle) {
        return Err(e(
            "enter",
            format!("zsched (pid {}) is not running", handle.zsched_pid),
        ));
    }
    let pid = handle.zsched_pid as i32;
    ensure_stdio();
    if !opts.pty {
        refuse_directory_stdio()?;
    }
    // The namespace files too: the way in on kernels whose setns takes no
    // pidfd (before 5.8). Opened first, checked after: a reused pid fails
    // the check below.
    let ns_fd_of = |pid: i32, ns: &str| -> Result<OwnedFd, RuntimeError> {
        std::fs::File::open(format!("/proc/{pid}/ns/{ns}"))
            .map(OwnedFd::from)
            .map_err(|x| e("enter", format!("open /proc/{pid}/ns/{ns}: {x}")))
    };
    let ns_fd = |ns: &str| ns_fd_of(pid, ns);
    // A zone booting systemd: its pid, mount and cgroup namespaces are
    // init's, nested in zsched's (super::sysinit).
    let inner = super::sysinit::nested_init(pid, handle.init_pid as i32);
    let view = inner.unwrap_or(pid);
    let ns_fds: Vec<(OwnedFd, i32)> = vec![
        (ns_fd("ipc")?, libc::CLONE_NEWIPC),
        (ns_fd("uts")?, libc::CLONE_NEWUTS),
        (ns_fd("net")?, libc::CLONE_NEWNET),
        (ns_fd_of(view, "pid")?, libc::CLONE_NEWPID),
        (ns_fd_of(view, "mnt")?, libc::CLONE_NEWNS),
    ];
    let cgroup_ns = ns_fd_of(view, "cgroup")?;
    // The zone's time namespace is zsched's children's ([`super::timens`]);
    // none on a kernel without time namespaces.
    let time_ns = ns_fd("time_for_children").ok();
    let time_ns_raw = time_ns.as_ref().map_or(-1, |f| f.as_raw_fd());
    // A zone of its own user namespace (super::userns): joined last, by B.
    let user_ns = super::userns::enter_fd(pid).map_err(|x| e("enter", x.to_string()))?;
    let user_ns_raw = user_ns.as_ref().map_or(-1, |f| f.as_raw_fd());
    // ZONES_ENTER_NO_PIDFD forces the old way (it is how it is tested).
    let pidfd = if std::env::var_os("ZONES_ENTER_NO_PIDFD").is_some() {
        -1
    } else {
        // SAFETY: the system call gets valid pointers to data we own.
        // The nested init's (it shares the zone's other namespaces): a
        // setns on a pidfd also takes the task's root, which a setns on
        // a mount namespace file cannot give when the host's root is
        // itself a chroot.
        unsafe { libc::syscall(libc::SYS_pidfd_open, view, 0) as i32 }
    };
    // SAFETY: a non-negative `pidfd` was just returned to us by pidfd_open
    // and is held by nothing else: the OwnedFd becomes its one owner and
    // closes it once.
    let pidfd = (pidfd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(pidfd) });
    let pidfd_raw = pidfd.as_ref().map_or(-1, |f| f.as_raw_fd());
    // Check it is still the zone's zsched.
    if !alive(handle) {
        return Err(e("enter", format!("zsched (pid {pid}) is gone")));
    }
    let zone_caps = caps::bounding_of(handle.zsched_pid).map_err(|x| e("enter", x.to_string()))?;
    let filter = zone_filter(handle)?;
    let mut limits = zone_limits(pid)?;
    extra.narrow_limits(&mut limits);
    // The root the entered process gets (below): zsched's, or the nested
    // init's, which is the same tree in init's mount namespace.
    let root_path = CString::new(format!("/proc/{view}/root")).unwrap();
    // SAFETY: the path is a NUL-terminated string we own; the new descriptor is ours.
    let root_fd = unsafe {
        libc::open(
            root_path.as_ptr(),
            libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    if root_fd < 0 {
        return Err(os("enter", format!("open /proc/{pid}/root")));
    }
    // SAFETY: the descriptor was just returned by the kernel and nothing else owns it.
    let root_fd = unsafe { OwnedFd::from_raw_fd(root_fd) };
    let user = lookup_user(root_fd.as_raw_fd(), opts.user.as_deref())?;
    let (prog, argv0, args): (String, String, Vec<String>) = if opts.command.is_empty() {
        let base = Path::new(&user.shell)
            .file_name()
            .map(|b| b.to_string_lossy().to_string())
            .unwrap_or("sh".into());
        (
            find_program(root_fd.as_raw_fd(), &user.shell)?,
            format!("-{base}"),
            vec![],
        )
    } else {
        (
            find_program(root_fd.as_raw_fd(), &opts.command[0])?,
            opts.command[0].clone(),
            opts.command[1..].to_vec(),
        )
    };
    let mut env: Vec<(String, String)> = if opts.keep_env {
        // The caller's variables (any that are not UTF-8 are left out).
        let mut env: Vec<(String, String)> = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        if opts.user.is_some() {
            env.retain(|(k, _)| !matches!(k.as_str(), "USER" | "HOME" | "SHELL"));
            env.push(("USER".into(), user.name.clone()));
            env.push(("HOME".into(), user.home.clone()));
            env.push(("SHELL".into(), user.shell.clone()));
        }
        env
    } else {
        vec![
            ("PATH".into(), PATH.into()),
            ("HOME".into(), user.home.clone()),
            ("USER".into(), user.name.clone()),
            ("LOGNAME".into(), user.name.clone()),
            ("SHELL".into(), user.shell.clone()),
        ]
    };
    if opts.pty && !opts.keep_env {
        env.push((
            "TERM".into(),
            std::env::var("TERM").unwrap_or("xterm".into()),
        ));
    }
    env.extend(opts.env.iter().cloned());
    // Everything the children need, made before fork.
    let c_prog = cstr(&prog)?;
    let c_args: Vec<CString> = std::iter::once(argv0.as_str())
        .chain(args.iter().map(String::as_str))
        .map(cstr)
        .collect::<Result<_, _>>()?;
    let mut argv: Vec<*const libc::c_char> = c_args.iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());
    let c_env: Vec<CString> = env
        .iter()
        .map(|(k, v)| cstr(&format!("{k}={v}")))
        .collect::<Result<_, _>>()?;
    let mut envp: Vec<*const libc::c_char> = c_env.iter().map(|a| a.as_ptr()).collect();
    envp.push(std::ptr::null());
    // Opened here, written by child B once it exists: only the process
    // that runs in the zone joins the zone's cgroups. B, single-threaded,
    // writes v1's `tasks` and is born in the v2 cgroup (`into`), so that
    // no join waits for an RCU grace period (super::cgjoin); the v2
    // `cgroup.procs` is written only when that birth was refused.
    let dirs: Vec<PathBuf> = handle
        .cgroups
        .iter()
        .map(|d| match inner {
            // Beside the nested init: its leaf of the zone's cgroup2
            // directory (super::sysinit).
            Some(_) => super::sysinit::entry_cgroup(d),
            None => d.clone(),
        })
        .collect();
    let procs_fds: Vec<(OwnedFd, bool)> = dirs
        .iter()
        .map(|d| {
            let p = super::cgjoin::join_file(d);
            std::fs::OpenOptions::new()
                .write(true)
                .open(&p)
                .map(|f| (OwnedFd::from(f), p.ends_with("cgroup.procs")))
                .map_err(|x| e("enter", format!("open {}: {x}", p.display())))
        })
        .collect::<Result<_, _>>()?;
    let into = procs_fds
        .iter()
        .zip(&dirs)
        .find(|((_, v2), _)| *v2)
        .and_then(|((procs, _), d)| {
            let dir = std::fs::File::open(d).ok()?;
            Some((OwnedFd::from(dir), procs.as_raw_fd()))
        });
    let (into_raw, born_procs) = into
        .as_ref()
        .map_or((-1, -1), |(dir, procs)| (dir.as_raw_fd(), *procs));
    let c_home = cstr(if opts.in_root_dir { "/" } else { &user.home })?;
    let c_slash = cstr("/")?;
    let (master, slave) = if opts.pty {
        let m = open_in_root(
            root_fd.as_raw_fd(),
            "/dev/ptmx",
            libc::O_RDWR | libc::O_NOCTTY,
        )
        .map_err(|x| e("pty", format!("open the zone's /dev/ptmx: {x}")))?;
        let zero: libc::c_int = 0;
        // SAFETY: ioctl on a descriptor we own with a pointer to a struct we own.
        if unsafe { libc::ioctl(m.as_raw_fd(), libc::TIOCSPTLCK, &zero) } != 0 {
            return Err(os("pty", "unlockpt"));
        }
        // SAFETY: ioctl on a descriptor we own with a pointer to a struct we own.
        let s = unsafe {
            libc::ioctl(
                m.as_raw_fd(),
                libc::TIOCGPTPEER,
                libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
            )
        };
        if s < 0 {
            return Err(os("pty", "TIOCGPTPEER"));
        }
        // SAFETY: the descriptor was just returned by the kernel and nothing else owns it.
        let s = unsafe { OwnedFd::from_raw_fd(s) };
        super::userns::own_pty(pid, s.as_raw_fd()).map_err(|x| e("pty", x))?;
        // SAFETY: winsize is four integers; all zeroes is a valid value.
        let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
        // SAFETY: TIOCGWINSZ on descriptor 0 (open for the process's life)
        // writes one winsize into `ws`, a local we own; on a non-tty it fails
        // and `ws` is left as it was.
        if unsafe { libc::ioctl(0, libc::TIOCGWINSZ, &mut ws) } == 0 {
            // SAFETY: ioctl on a descriptor we own with a pointer to a struct we own.
            unsafe { libc::ioctl(s.as_raw_fd(), libc::TIOCSWINSZ, &ws) };
        }
        if let Some(zone) = &opts.banner {
            let mut n: libc::c_uint = 0;
            // SAFETY: ioctl on our master with a pointer to a local.
            if unsafe { libc::ioctl(m.as_raw_fd(), libc::TIOCGPTN, &mut n) } == 0 {
                eprint!("[Connected to zone '{zone}' pts/{n}]\r\n");
            }
        }
        (Some(m), Some(s))
    } else {
        (None, None)
    };
    let mut errpipe = [0; 2];
    // SAFETY: pipe2 writes two descriptors into the array we own.
    if unsafe { libc::pipe2(errpipe.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(os("enter", "pipe"));
    }
    // SAFETY: the descriptor was just returned by the kernel and nothing else owns it.
    let (err_r, err_w) = unsafe {
        (
            OwnedFd::from_raw_fd(errpipe[0]),
            OwnedFd::from_raw_fd(errpipe[1]),
        )
    };
    let ns_flags = libc::CLONE_NEWNS
        | libc::CLONE_NEWUTS
        | libc::CLONE_NEWIPC
        | libc::CLONE_NEWNET
        | libc::CLONE_NEWPID;
    // The children use raw numbers only: they close descriptors by number,
    // and an OwnedFd dropped there would close (or check) one again.
    let ns_raw: Vec<(RawFd, i32)> = ns_fds.iter().map(|(f, k)| (f.as_raw_fd(), *k)).collect();
    let procs_raw: Vec<RawFd> = procs_fds.iter().map(|(f, _)| f.as_raw_fd()).collect();
    let cgroup_ns_raw = cgroup_ns.as_raw_fd();
    let slave_raw = slave.as_ref().map_or(-1, |s| s.as_raw_fd());
    let err_raw = err_w.as_raw_fd();
    // What child A keeps: the ways in, and what B needs.
    let root_raw = root_fd.as_raw_fd();
    let keep_a: Vec<RawFd> = [
        0,
        1,
        2,
        pidfd_raw,
        cgroup_ns_raw,
        slave_raw,
        err_raw,
        root_raw,
        time_ns_raw,
        user_ns_raw,
        into_raw,
    ]
    .into_iter()
    .chain(ns_raw.iter().map(|(fd, _)| *fd))
    .chain(procs_raw.iter().copied())
    .filter(|fd| *fd >= 0)
    .collect();
    let user_groups = user.groups.as_slice();
    let (uid, gid) = (user.uid, user.gid);
    // SAFETY: fork; the children below make system calls only (no
    // allocation, no lock: the data they use was made before the fork)
    // and end in execve or _exit, never returning into the caller.
    let a = unsafe { libc::fork() };
    if a < 0 {
        return Err(os("enter", "fork"));
    }
    if a == 0 {
        // Child A: in the host's pid namespace and cgroups, so invisible
        // from the zone; not dumpable from here on (B inherits it).
        // SAFETY: system calls on our own state and on descriptors
        // inherited from the caller (module comment).
        unsafe {
            libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
            if let Err(errno) = launch::close_all_but(&keep_a) {
                fail(err_raw, 9, errno);
            }
            if pidfd_raw < 0 || libc::setns(pidfd_raw, ns_flags) != 0 {
                for (fd, kind) in &ns_raw {
                    if libc::setns(*fd, *kind) != 0 {
                        fail(err_raw, 2, errno());
                    }
                }
            }
            if time_ns_raw >= 0 {
                if libc::setns(time_ns_raw, libc::CLONE_NEWTIME) != 0 {
                    fail(err_raw, 2, errno());
                }
                libc::close(time_ns_raw);
            }
            // setns into a mount namespace sets the root to the
            // namespace's own root mount, which is the zone's root only
            // when the host's root was that namespace's root when the
            // zone was made (not under a chroot): take the zone's root
            // itself, as zsched (or init) has it.
            if libc::fchdir(root_raw) != 0
                || libc::chroot(c".".as_ptr()) != 0
                || libc::chdir(c"/".as_ptr()) != 0
            {
                fail(err_raw, 2, errno());
            }
            libc::close(root_raw);
            // In: the ways in are used up.
            if pidfd_raw >= 0 {
                libc::close(pidfd_raw);
            }
            for (fd, _) in &ns_raw {
                libc::close(*fd);
            }
            // B is born in the zone's v2 cgroup when it can be (then
            // its cgroup.procs is not written), else forked.
            let mut born_in = -1;
            let mut b = -1;
            if into_raw >= 0 {
                b = super::cgjoin::clone_into(into_raw) as libc::pid_t;
                if b >= 0 {
                    born_in = born_procs;
                }
            }
            if b < 0 {
                b = libc::fork();
            }
            if b < 0 {
                fail(err_raw, 3, errno());
            }
            if b == 0 {
                child_b(&ChildB {
                    procs: &procs_raw,
                    born_in,
                    into: into_raw,
                    cgroup_ns: cgroup_ns_raw,
                    user_ns: user_ns_raw,
                    slave: slave_raw,
                    err: err_raw,
                    limits: &limits,
                    caps: zone_caps,
                    groups: user_groups,
                    uid,
                    gid,
                    home: &c_home,
                    slash: &c_slash,
                    prog: &c_prog,
                    argv: &argv,
                    envp: &envp,
                    filter: &filter,
                    extra,
                });
            }
            // A holds nothing of the host while it waits.
            let _ = launch::close_range(0, 0);
            let mut st = 0;
            while libc::waitpid(b, &mut st, 0) < 0 && errno() == libc::EINTR {}
            if libc::WIFEXITED(st) {
                libc::_exit(libc::WEXITSTATUS(st));
            }
            // Killed by a signal: report it as the shell does.
            libc::_exit(128 + libc::WTERMSIG(st));
        }
    }
    drop(err_w);
    drop(slave);
    if let Some(m) = &master {
        relay(m.as_raw_fd(), opts.escape);
    }
    // Closed before the wait: after an escape the session gets SIGHUP.
    drop(master);
    let mut st = 0;
    // SAFETY: waitpid on our own child, with a status we own.
    while unsafe { libc::waitpid(a, &mut st, 0) } < 0
        && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR)
    {}
    let mut buf = [0u8; 3];
    // SAFETY: read/write with a buffer we own and its length.
    let n = unsafe { libc::read(err_r.as_raw_fd(), buf.as_mut_ptr() as *mut libc::c_void, 3) };
    if n == 3 {
        let errno = buf[1] as i32 | ((buf[2] as i32) << 8);
        let what = match buf[0] {
            1 => "join the zone's cgroups".to_string(),
            2 => "setns into the zone's namespaces".into(),
            3 => "fork in the zone".into(),
            4 => "make the pty the controlling terminal".into(),
            5 => "reduce to the zone's capabilities".into(),
            6 => format!("become user {}", user.name),
            8 => "apply the zone's resource limits".into(),
            9 => "close the caller's descriptors".into(),
            10 => "join the zone's user namespace".into(),
            11 => format!("chdir {:?}", extra.cwd.as_deref().unwrap_or_default()),
            _ => format!("exec {prog}"),
        };
        return Err(RuntimeError {
            step: "enter".into(),
            message: format!("{what}: {}", std::io::Error::from_raw_os_error(errno)),
            errno: Some(errno),
        });
    }
    Ok(if libc::WIFEXITED(st) {
        libc::WEXITSTATUS(st)
    } else {
        128 + libc::WTERMSIG(st)
    })
}

fn errno() -> i32 {
    // SAFETY: __errno_location returns the calling thread's errno slot.
    unsafe { *libc::__errno_location() }
}

/// Report a step that failed in a child (code, errno) on the error pipe and
/// exit. Async-signal-safe.
fn fail(err_fd: RawFd, code: u8, errno: i32) -> ! {
    let msg = [code, (errno & 0xff) as u8, ((errno >> 8) & 0xff) as u8];
    // SAFETY: write of a local buffer, then _exit.
    unsafe {
        libc::write(err_fd, msg.as_ptr() as *const libc::c_void, 3);
        libc::_exit(126)
    }
}

/// Open /dev/null on 0, 1 and 2 where the caller has them closed, so that
/// none of the descriptors [`run`] opens takes a stdio number (and so would
/// pass into the zone as stdio). Rust programs have them open from the
/// start; a caller may have closed one since.
fn ensure_stdio() {
    for fd in 0..3 {
        // SAFETY: F_GETFD only tests the number; open of a static path
        // takes the lowest free number, which is `fd` (lower ones are open).
        unsafe {
            if libc::fcntl(fd, libc::F_GETFD) < 0 && errno() == libc::EBADF {
                libc::open(c"/dev/null".as_ptr(), libc::O_RDWR | libc::O_NOCTTY);
            }
        }
    }
}

/// Without a pty, the caller's stdio passes into the zone: refuse a
/// directory there (`zlogin z cmd < /etc` would hand the zone a way into
/// the host's tree: `/proc/self/fd/0/..`).
fn refuse_directory_stdio() -> Result<(), RuntimeError> {
    for (fd, name) in [(0, "stdin"), (1, "stdout"), (2, "stderr")] {
        // SAFETY: an all-zero stat is a valid value; fstat writes into it.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: fstat of a descriptor number into a stat we own.
        if unsafe { libc::fstat(fd, &mut st) } == 0 && (st.st_mode & libc::S_IFMT) == libc::S_IFDIR
        {
            return Err(RuntimeError {
                step: "enter".into(),
                message: format!(
                    "{name} is a directory of the host; it is not passed into the zone"
                ),
                errno: Some(libc::EISDIR),
            });
        }
    }
    Ok(())
}

/// Every resource limit (getrlimit(2)'s) a process of the zone has: those
/// of zsched, which set RLIMIT_MEMLOCK to zone.max-locked-memory (0
/// included) and passes all of them to init. An entered process gets the
/// same, not the caller's.
const LIMITS: [libc::__rlimit_resource_t; 16] = [
    libc::RLIMIT_CPU,
    libc::RLIMIT_FSIZE,
    libc::RLIMIT_DATA,
    libc::RLIMIT_STACK,
    libc::RLIMIT_CORE,
    libc::RLIMIT_RSS,
    libc::RLIMIT_NPROC,
    libc::RLIMIT_NOFILE,
    libc::RLIMIT_MEMLOCK,
    libc::RLIMIT_AS,
    libc::RLIMIT_LOCKS,
    libc::RLIMIT_SIGPENDING,
    libc::RLIMIT_MSGQUEUE,
    libc::RLIMIT_NICE,
    libc::RLIMIT_RTPRIO,
    libc::RLIMIT_RTTIME,
];

type Limits = [(libc::__rlimit_resource_t, libc::rlimit); LIMITS.len()];

/// zsched's resource limits (see [`LIMITS`]).
fn zone_limits(zsched: i32) -> Result<Limits, RuntimeError> {
    let mut out = [(
        0,
        libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        },
    ); LIMITS.len()];
    for (slot, res) in out.iter_mut().zip(LIMITS) {
        slot.0 = res;
        // SAFETY: prlimit reads zsched's limit into a struct we own.
        if unsafe { libc::prlimit(zsched, res, std::ptr::null(), &mut slot.1) } != 0 {
            return Err(os(
                "enter",
                format!("read the resource limits of zsched (pid {zsched})"),
            ));
        }
    }
    Ok(out)
}

/// Set the calling process's limits to `limits`. One the caller cannot
/// raise (no CAP_SYS_RESOURCE) becomes the lower of the two, soft and hard
/// alike: an entered process never has more than the zone. Limits of 0 are
/// limits. Async-signal-safe.
fn apply_limits(limits: &Limits) -> Result<(), i32> {
    for (res, lim) in limits {
        // SAFETY: setrlimit/getrlimit with structs we own.
        unsafe {
            if libc::setrlimit(*res, lim) == 0 {
                continue;
            }
            let mut own = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            if libc::getrlimit(*res, &mut own) != 0 {
                return Err(errno());
            }
            let lower = libc::rlimit {
                rlim_cur: own.rlim_cur.min(lim.rlim_cur),
                rlim_max: own.rlim_max.min(lim.rlim_max),
            };
            if libc::setrlimit(*res, &lower) != 0 {
                return Err(errno());
            }
        }
    }
    Ok(())
}

/// What child B needs, made before the fork.
struct ChildB<'a> {
    /// The files to write "0" into to join the zone's cgroups.
    procs: &'a [RawFd],
    /// The one of `procs` not to write: B was born in that cgroup (-1).
    born_in: RawFd,
    /// The v2 directory B may have been born in (closed first), or -1.
    into: RawFd,
    cgroup_ns: RawFd,
    /// The zone's user namespace, or -1 (the host's).
    user_ns: RawFd,
    slave: RawFd,
    err: RawFd,
    limits: &'a Limits,
    caps: u64,
    groups: &'a [u32],
    uid: u32,
    gid: u32,
    home: &'a CString,
    slash: &'a CString,
    prog: &'a CString,
    argv: &'a [*const libc::c_char],
    envp: &'a [*const libc::c_char],
    filter: &'a seccomp::Filter,
    extra: &'a super::enter_extra::Extra,
}

/// The zone's system call filter, the one zsched loaded for init: built
/// from the parameters zsched holds (its `params` request), before the
/// fork, so that an entered process is filtered exactly as the zone's
/// own processes are.
fn zone_filter(handle: &Handle) -> Result<seccomp::Filter, RuntimeError> {
    let json = super::request(
        &handle.control,
        "params",
        Some(std::time::Duration::from_secs(10)),
    )?;
    let params: crate::param::Params = serde_json::from_str(&json)
        .map_err(|x| e("enter", format!("the zone's parameters from zsched: {x}")))?;
    seccomp::Filter::for_params(&params)
}

/// Child B: inside the zone's pid namespace (module comment). Not
/// dumpable (from A), it uses each host descriptor it inherited once and
/// closes it at once; [`before_zone_exec`] then leaves it stdio and the
/// error pipe. System calls only.
fn child_b(c: &ChildB) -> ! {
    // SAFETY: system calls on our own state and on descriptors made for
    // this child before the fork; pointers into data that outlives the
    // exec (the caller's copies, unchanged since the fork).
    unsafe {
        // Start with no signal blocked or ignored, whatever the caller had.
        let mut none: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut none);
        libc::sigprocmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
        for sig in 1..32 {
            if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                libc::signal(sig, libc::SIG_DFL);
            }
        }
        // Join the zone's cgroups (descriptors opened on the host), then
        // its cgroup namespace; each descriptor closed once used.
        if c.into >= 0 {
            libc::close(c.into);
        }
        for fd in c.procs {
            if *fd != c.born_in && libc::write(*fd, b"0".as_ptr() as *const libc::c_void, 1) != 1 {
                fail(c.err, 1, errno());
            }
            libc::close(*fd);
        }
        if libc::setns(c.cgroup_ns, libc::CLONE_NEWCGROUP) != 0 {
            fail(c.err, 2, errno());
        }
        libc::close(c.cgroup_ns);
        libc::setsid();
        if c.slave >= 0 && libc::ioctl(c.slave, libc::TIOCSCTTY, 0) != 0 {
            fail(c.err, 4, errno());
        }
        if let Err(e) = apply_limits(c.limits) {
            fail(c.err, 8, e);
        }
        // Last of the namespaces (super::userns): the ids and the
        // capabilities set from here on are the zone's user namespace's.
        if c.user_ns >= 0 {
            if let Err(e) = super::userns::join(c.user_ns) {
                fail(c.err, 10, e);
            }
            libc::close(c.user_ns);
        }
        let err = match before_zone_exec(c.slave, c.err, c.filter) {
            Ok(fd) => fd,
            Err(e) => fail(c.err, 9, e),
        };
        if caps::drop_bounding(c.caps).is_err() {
            fail(err, 5, errno());
        }
        if let Err(e) = c.extra.narrow_bounding(c.caps) {
            fail(err, 5, e);
        }
        let (groups, gid) = c.extra.ids(c.groups, c.gid);
        c.extra.keep_caps(c.uid);
        if libc::setgroups(groups.len(), groups.as_ptr()) != 0
            || libc::setgid(gid) != 0
            || libc::setuid(c.uid) != 0
        {
            fail(err, 6, errno());
        }
        if c.uid == 0 && caps::clear_inheritable(Some(c.caps)).is_err() {
            fail(err, 5, errno());
        }
        if let Err(e) = c.extra.apply_caps(c.caps) {
            fail(err, 5, e);
        }
        // A change of ids resets dumpability to fs.suid_dumpable, which
        // may be 1: not dumpable until the exec, whatever it is.
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
        if let Some(cwd) = &c.extra.cwd {
            if libc::chdir(cwd.as_ptr()) != 0 {
                fail(err, 11, errno());
            }
        } else if libc::chdir(c.home.as_ptr()) != 0 {
            libc::chdir(c.slash.as_ptr());
        }
        libc::execve(c.prog.as_ptr(), c.argv.as_ptr(), c.envp.as_ptr());
        fail(err, 7, errno())
    }
}

/// The entering process, about to run the zone's code: stdio is the
/// zone's pty (`slave` ≥ 0) or the caller's stdio, the error pipe becomes
/// descriptor 3 (close-on-exec: gone at the exec), and every other
/// descriptor — the caller's, whatever it had open without close-on-exec,
/// and ours — is closed with close_range. Returns the error pipe's new
/// number. It runs with the caller's full capabilities (they are reduced
/// right after), so the zone's system call filter ([`seccomp`]) is
/// installed here: loading it needs CAP_SYS_ADMIN, and so no
/// no_new_privs is set and setuid programs of the zone keep working.
/// Async-signal-safe.
fn before_zone_exec(slave: RawFd, err: RawFd, filter: &seccomp::Filter) -> Result<RawFd, i32> {
    if slave >= 0 {
        for fd in 0..3 {
            // SAFETY: dup2 between numbers of our own table.
            if unsafe { libc::dup2(slave, fd) } < 0 {
                return Err(errno());
            }
        }
    }
    launch::keep_only(&[(err, true)], 3)?;
    filter.apply()?;
    Ok(3)
}

/// Copy the caller's stdin to the pty and the pty to stdout until the pty
/// closes; the caller's tty is in raw mode meanwhile.
fn relay(master: RawFd, escape: Option<u8>) {
    let mut esc = super::console::Escape::new(escape);
    // SAFETY: an all-zero bit pattern is a valid value of this C struct.
    let mut saved: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: isatty and tcgetattr only look at descriptor 0, open for the
    // process's life; tcgetattr writes one termios into `saved`, a local we
    // own, and is called only when isatty said yes.
    let is_tty = unsafe { libc::isatty(0) } == 1 && unsafe { libc::tcgetattr(0, &mut saved) } == 0;
    if is_tty {
        let mut raw = saved;
        // SAFETY: terminal calls on descriptor 0 with a termios we own.
        unsafe {
            libc::cfmakeraw(&mut raw);
            libc::tcsetattr(0, libc::TCSANOW, &raw);
        }
    }
    let mut stdin_open = true;
    let mut buf = [0u8; 8192];
    loop {
        let mut pfds = [
            libc::pollfd {
                fd: master,
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: if stdin_open { 0 } else { -1 },
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: poll on an array of pollfd we own, with its length.
        let r = unsafe { libc::poll(pfds.as_mut_ptr(), 2, 1000) };
        if r < 0 {
            if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            break;
        }
        if is_tty {
            // SAFETY: an all-zero bit pattern is a valid value of this C struct.
            let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
            // SAFETY: TIOCGWINSZ on descriptor 0 (open for the process's life)
            // writes one winsize into `ws`, a local we own.
            if unsafe { libc::ioctl(0, libc::TIOCGWINSZ, &mut ws) } == 0 {
                // SAFETY: TIOCSWINSZ reads `ws` (ours) and applies it to `master`,
                // the pty master our caller holds open for the whole relay.
                unsafe { libc::ioctl(master, libc::TIOCSWINSZ, &ws) };
            }
        }
        if pfds[0].revents != 0 {
            // SAFETY: read/write with a buffer we own and its length.
            let n = unsafe { libc::read(master, buf.as_mut_ptr() as *mut libc::c_void, buf.len()) };
            if n <= 0 {
                break; // EIO: every slave descriptor is closed
            }
            write_all(1, &buf[..n as usize]);
        }
        if pfds[1].revents != 0 {
            // SAFETY: read/write with a buffer we own and its length.
            let n = unsafe { libc::read(0, buf.as_mut_ptr() as *mut libc::c_void, buf.len()) };
            if n <= 0 {
                stdin_open = false;
                write_all(master, &[4]); // ^D: end of input for the zone's side
            } else {
                let (send, detach) = esc.feed(&buf[..n as usize]);
                write_all(master, &send);
                if detach {
                    break;
                }
            }
        }
    }
    if is_tty {
        // SAFETY: terminal calls on descriptor 0 with a termios we own.
        unsafe { libc::tcsetattr(0, libc::TCSANOW, &saved) };
    }
}

fn write_all(fd: RawFd, mut b: &[u8]) {
    while !b.is_empty() {
        // SAFETY: read/write with a buffer we own and its length.
        let n = unsafe { libc::write(fd, b.as_ptr() as *const libc::c_void, b.len()) };
        if n <= 0 {
            return;
        }
        b = &b[n as usize..];
    }
}

#[cfg(test)]
mod tests {
    use super::launch::tests::in_child;
    use super::*;

    fn own(res: libc::__rlimit_resource_t) -> libc::rlimit {
        let mut l = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit into a struct we own.
        unsafe { libc::getrlimit(res, &mut l) };
        l
    }

    #[test]
    fn zone_limits_are_every_limit_of_the_process() {
        // SAFETY: getpid has no preconditions.
        let me = unsafe { libc::getpid() };
        let l = zone_limits(me).unwrap();
        assert_eq!(l.len(), 16);
        for (res, lim) in l {
            let o = own(res);
            assert_eq!((lim.rlim_cur, lim.rlim_max), (o.rlim_cur, o.rlim_max));
        }
        let e = zone_limits(i32::MAX).unwrap_err();
        assert!(e.message.contains("zsched (pid 2147483647)"), "{e}");
    }

    #[test]
    fn a_limit_of_zero_is_applied_and_a_limit_is_never_raised_past_the_callers() {
        // SAFETY: getpid has no preconditions.
        let mut l = zone_limits(unsafe { libc::getpid() }).unwrap();
        for (res, lim) in l.iter_mut() {
            if *res == libc::RLIMIT_MEMLOCK {
                *lim = libc::rlimit {
                    rlim_cur: 0,
                    rlim_max: 0,
                };
            }
        }
        let nofile = own(libc::RLIMIT_NOFILE);
        let status = in_child(|| {
            // Without CAP_SYS_RESOURCE a hard limit cannot be raised.
            let sys_resource = 1u64 << caps::cap("sys_resource").unwrap();
            if caps::clear_inheritable(Some(!sys_resource)).is_err() {
                return 10;
            }
            let mut l = l;
            for (res, lim) in l.iter_mut() {
                if *res == libc::RLIMIT_NOFILE && nofile.rlim_max != libc::RLIM_INFINITY {
                    *lim = libc::rlimit {
                        rlim_cur: nofile.rlim_cur + 1,
                        rlim_max: nofile.rlim_max + 1,
                    };
                }
            }
            if apply_limits(&l).is_err() {
                return 11;
            }
            let m = own(libc::RLIMIT_MEMLOCK);
            if (m.rlim_cur, m.rlim_max) != (0, 0) {
                return 12;
            }
            let n = own(libc::RLIMIT_NOFILE);
            if (n.rlim_cur, n.rlim_max) != (nofile.rlim_cur, nofile.rlim_max) {
                return 13;
            }
            0
        });
        assert_eq!(status, 0);
    }

    fn pipe(flags: i32) -> (RawFd, RawFd) {
        let mut p = [0; 2];
        // SAFETY: pipe2 writes two descriptors into the array we own.
        assert_eq!(unsafe { libc::pipe2(p.as_mut_ptr(), flags) }, 0);
        (p[0], p[1])
    }

    fn read_all(fd: RawFd) -> String {
        // SAFETY: the read end is this test's, handed over to the File.
        let f = unsafe { std::fs::File::from_raw_fd(fd) };
        std::io::read_to_string(f).unwrap()
    }

    /// Child B's whole path on the host (no zone needed: the cgroup
    /// namespace is our own, cgroup.procs a pipe): it writes "0" where it
    /// joins, applies the limits (a memlock of 0), keeps stdio only,
    /// reduces to the zone's set and execs.
    #[test]
    fn child_b_joins_applies_limits_keeps_stdio_only_and_reduces_caps() {
        let (procs_r, procs_w) = pipe(libc::O_CLOEXEC);
        let (out_r, out_w) = pipe(libc::O_CLOEXEC);
        let (err_r, err_w) = pipe(libc::O_CLOEXEC);
        let cgns = std::fs::File::open("/proc/self/ns/cgroup").unwrap();
        // A descriptor of the caller's without close-on-exec.
        let leak = std::fs::File::open("/").unwrap();
        // SAFETY: dup of a descriptor we own; the copy is closed below.
        let leak_fd = unsafe { libc::dup(leak.as_raw_fd()) };
        // SAFETY: getpid has no preconditions.
        let mut limits = zone_limits(unsafe { libc::getpid() }).unwrap();
        for (res, lim) in limits.iter_mut() {
            if *res == libc::RLIMIT_MEMLOCK {
                *lim = libc::rlimit {
                    rlim_cur: 0,
                    rlim_max: 0,
                };
            }
        }
        let zone_caps = caps::default_set();
        let filter = seccomp::Filter::for_params(&crate::param::Params::new()).unwrap();
        let prog = CString::new("/bin/sh").unwrap();
        let args = [
            CString::new("sh").unwrap(),
            CString::new("-c").unwrap(),
            CString::new("ls -1 /proc/$$/fd; grep -E '^Cap(Bnd|Eff)' /proc/$$/status; ulimit -l")
                .unwrap(),
        ];
        let mut argv: Vec<*const libc::c_char> = args.iter().map(|a| a.as_ptr()).collect();
        argv.push(std::ptr::null());
        let envp = [std::ptr::null()];
        let (home, slash) = (CString::new("/").unwrap(), CString::new("/").unwrap());
        let procs = [procs_w];
        let groups = [0u32];
        // SAFETY: the child only makes system calls, then execs.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0);
        if pid == 0 {
            // SAFETY: dup2 onto stdout in the child.
            unsafe { libc::dup2(out_w, 1) };
            child_b(&ChildB {
                procs: &procs,
                born_in: -1,
                into: -1,
                cgroup_ns: cgns.as_raw_fd(),
                user_ns: -1,
                slave: -1,
                err: err_w,
                limits: &limits,
                caps: zone_caps,
                groups: &groups,
                uid: 0,
                gid: 0,
                home: &home,
                slash: &slash,
                prog: &prog,
                argv: &argv,
                envp: &envp,
                filter: &filter,
                extra: &crate::runtime::linux::enter_extra::Extra::default(),
            });
        }
        // SAFETY: the write ends and the leaked copy are ours to close.
        unsafe {
            libc::close(procs_w);
            libc::close(out_w);
            libc::close(err_w);
            libc::close(leak_fd);
        }
        let out = read_all(out_r);
        let mut st = 0;
        // SAFETY: waitpid on our own child.
        unsafe { libc::waitpid(pid, &mut st, 0) };
        assert_eq!(read_all(err_r), "", "child B failed: {out}");
        assert!(
            libc::WIFEXITED(st) && libc::WEXITSTATUS(st) == 0,
            "{st}: {out}"
        );
        assert_eq!(read_all(procs_r), "0");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[..3], ["0", "1", "2"], "{out}");
        let set = format!("{zone_caps:016x}");
        assert_eq!(lines[3], format!("CapEff:\t{set}"), "{out}");
        assert_eq!(lines[4], format!("CapBnd:\t{set}"), "{out}");
        assert_eq!(lines[5], "0", "memlock: {out}");
        drop(leak);
    }

    #[test]
    fn before_zone_exec_leaves_stdio_and_the_error_pipe_as_3() {
        let status = in_child(|| {
            // SAFETY: descriptors of this child only.
            unsafe {
                let mut p = [0; 2];
                if libc::pipe2(p.as_mut_ptr(), libc::O_CLOEXEC) != 0 {
                    return 10;
                }
                // A caller's descriptor without close-on-exec, and one at 3.
                let leak = libc::open(c"/".as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY);
                libc::dup2(leak, 3);
                libc::dup2(leak, 40);
                let err = match before_zone_exec(
                    -1,
                    p[1],
                    &seccomp::Filter::for_params(&crate::param::Params::new()).unwrap(),
                ) {
                    Ok(fd) => fd,
                    Err(_) => return 11,
                };
                if err != 3 || libc::fcntl(3, libc::F_GETFD) != libc::FD_CLOEXEC {
                    return 12;
                }
                let open: Vec<i32> = (0..1024)
                    .filter(|fd| libc::fcntl(*fd, libc::F_GETFD) >= 0)
                    .collect();
                if open != [0, 1, 2, 3] {
                    return 13;
                }
                // 3 is the pipe: what is written there comes out of p[0]
                // (closed in this child now, so check with fstat's type).
                let mut st: libc::stat = std::mem::zeroed();
                libc::fstat(3, &mut st);
                if st.st_mode & libc::S_IFMT != libc::S_IFIFO {
                    return 14;
                }
                0
            }
        });
        assert_eq!(status, 0);
    }
}
