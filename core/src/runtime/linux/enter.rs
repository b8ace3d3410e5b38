//! # Entering a zone (zlogin, jexec)
//!
//! [`run`] runs a command inside a live zone and returns its exit status
//! (128 + the signal when it was killed). What it prepares on the caller's
//! side — the pidfd of zsched, the user (from the zone's /etc/passwd), the
//! program (looked up in the zone's PATH), the pty — it reads through the
//! zone's root with openat2(RESOLVE_IN_ROOT), so a symlink inside the zone
//! cannot point it at a host file. Then it forks:
//!
//! * child A setns'es into zsched's mount, UTS, IPC, net and pid
//!   namespaces in one call (setns on a pidfd; on kernels before 5.8, one
//!   /proc/PID/ns file at a time); setns of a pid namespace
//!   applies to children only, so A forks again and waits (A itself stays
//!   in the host's pid namespace and cgroups, so it is not counted as a
//!   process of the zone);
//! * child B is inside the pid namespace: it joins the zone's cgroups
//!   (writing 0 into each cgroup.procs through descriptors opened on the
//!   host side) and then zsched's cgroup namespace; a new session (with the
//!   pty as its controlling terminal), the zone's RLIMIT_MEMLOCK, the zone's
//!   bounding set (zsched's CapBnd), the user's groups and ids, the zone's
//!   capability set, chdir to the home directory (or /), then execve.
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

use super::{alive, caps};
use crate::runtime::{Handle, RuntimeError};
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

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

#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}
const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
const RESOLVE_IN_ROOT: u64 = 0x10;

/// Open `path` inside the zone root `root_fd`, resolving as the zone would.
pub fn open_in_root(root_fd: RawFd, path: &str, flags: i32) -> std::io::Result<OwnedFd> {
    let p = CString::new(path.trim_start_matches('/')).map_err(std::io::Error::other)?;
    let how = OpenHow {
        flags: (flags | libc::O_CLOEXEC) as u64,
        mode: 0,
        resolve: RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            root_fd,
            p.as_ptr(),
            &how as *const OpenHow,
            std::mem::size_of::<OpenHow>(),
        )
    } as i32;
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
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
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
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
    if !alive(handle) {
        return Err(e(
            "enter",
            format!("zsched (pid {}) is not running", handle.zsched_pid),
        ));
    }
    let pid = handle.zsched_pid as i32;
    // The namespace files too: the way in on kernels whose setns takes no
    // pidfd (before 5.8). Opened first, checked after: a reused pid fails
    // the check below.
    let ns_fd = |ns: &str| -> Result<OwnedFd, RuntimeError> {
        std::fs::File::open(format!("/proc/{pid}/ns/{ns}"))
            .map(OwnedFd::from)
            .map_err(|x| e("enter", format!("open /proc/{pid}/ns/{ns}: {x}")))
    };
    let ns_fds: Vec<(OwnedFd, i32)> = vec![
        (ns_fd("ipc")?, libc::CLONE_NEWIPC),
        (ns_fd("uts")?, libc::CLONE_NEWUTS),
        (ns_fd("net")?, libc::CLONE_NEWNET),
        (ns_fd("pid")?, libc::CLONE_NEWPID),
        (ns_fd("mnt")?, libc::CLONE_NEWNS),
    ];
    let cgroup_ns = ns_fd("cgroup")?;
    // ZONES_ENTER_NO_PIDFD forces the old way (it is how it is tested).
    let pidfd = if std::env::var_os("ZONES_ENTER_NO_PIDFD").is_some() {
        -1
    } else {
        unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) as i32 }
    };
    let pidfd = (pidfd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(pidfd) });
    let pidfd_raw = pidfd.as_ref().map_or(-1, |f| f.as_raw_fd());
    // Check it is still the zone's zsched.
    if !alive(handle) {
        return Err(e("enter", format!("zsched (pid {pid}) is gone")));
    }
    let zone_caps = caps::bounding_of(handle.zsched_pid).map_err(|x| e("enter", x.to_string()))?;
    let mut memlock = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    unsafe { libc::prlimit(pid, libc::RLIMIT_MEMLOCK, std::ptr::null(), &mut memlock) };
    let root_path = CString::new(format!("/proc/{pid}/root")).unwrap();
    let root_fd = unsafe {
        libc::open(
            root_path.as_ptr(),
            libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    if root_fd < 0 {
        return Err(os("enter", format!("open /proc/{pid}/root")));
    }
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
    let mut env: Vec<(String, String)> = vec![
        ("PATH".into(), PATH.into()),
        ("HOME".into(), user.home.clone()),
        ("USER".into(), user.name.clone()),
        ("LOGNAME".into(), user.name.clone()),
        ("SHELL".into(), user.shell.clone()),
    ];
    if opts.pty {
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
    // that runs in the zone joins the zone's cgroups.
    let procs_fds: Vec<OwnedFd> = handle
        .cgroups
        .iter()
        .map(|d| {
            let p = d.join("cgroup.procs");
            std::fs::OpenOptions::new()
                .write(true)
                .open(&p)
                .map(OwnedFd::from)
                .map_err(|x| e("enter", format!("open {}: {x}", p.display())))
        })
        .collect::<Result<_, _>>()?;
    let c_home = cstr(&user.home)?;
    let c_slash = cstr("/")?;
    let (master, slave) = if opts.pty {
        let m = open_in_root(
            root_fd.as_raw_fd(),
            "/dev/ptmx",
            libc::O_RDWR | libc::O_NOCTTY,
        )
        .map_err(|x| e("pty", format!("open the zone's /dev/ptmx: {x}")))?;
        let zero: libc::c_int = 0;
        if unsafe { libc::ioctl(m.as_raw_fd(), libc::TIOCSPTLCK, &zero) } != 0 {
            return Err(os("pty", "unlockpt"));
        }
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
        let s = unsafe { OwnedFd::from_raw_fd(s) };
        let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
        if unsafe { libc::ioctl(0, libc::TIOCGWINSZ, &mut ws) } == 0 {
            unsafe { libc::ioctl(s.as_raw_fd(), libc::TIOCSWINSZ, &ws) };
        }
        (Some(m), Some(s))
    } else {
        (None, None)
    };
    let mut errpipe = [0; 2];
    if unsafe { libc::pipe2(errpipe.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(os("enter", "pipe"));
    }
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
    let a = unsafe { libc::fork() };
    if a < 0 {
        return Err(os("enter", "fork"));
    }
    if a == 0 {
        // Child A: system calls only.
        unsafe {
            let fail = |code: u8| -> ! {
                let errno = *libc::__errno_location();
                let msg = [code, (errno & 0xff) as u8, ((errno >> 8) & 0xff) as u8];
                libc::write(err_w.as_raw_fd(), msg.as_ptr() as *const libc::c_void, 3);
                libc::_exit(126)
            };
            if pidfd_raw < 0 || libc::setns(pidfd_raw, ns_flags) != 0 {
                for (fd, kind) in &ns_fds {
                    if libc::setns(fd.as_raw_fd(), *kind) != 0 {
                        fail(2);
                    }
                }
            }
            let b = libc::fork();
            if b < 0 {
                fail(3);
            }
            if b == 0 {
                // Child B: inside the zone. Start with no signal blocked
                // or ignored, whatever the caller had.
                let mut none: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut none);
                libc::sigprocmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
                for sig in 1..32 {
                    if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                        libc::signal(sig, libc::SIG_DFL);
                    }
                }
                // Join the zone's cgroups (descriptors opened on the host),
                // then its cgroup namespace.
                for fd in &procs_fds {
                    if libc::write(fd.as_raw_fd(), b"0".as_ptr() as *const libc::c_void, 1) != 1 {
                        fail(1);
                    }
                }
                if libc::setns(cgroup_ns.as_raw_fd(), libc::CLONE_NEWCGROUP) != 0 {
                    fail(2);
                }
                libc::setsid();
                if let Some(s) = &slave {
                    let s = s.as_raw_fd();
                    if libc::ioctl(s, libc::TIOCSCTTY, 0) != 0 {
                        fail(4);
                    }
                    libc::dup2(s, 0);
                    libc::dup2(s, 1);
                    libc::dup2(s, 2);
                }
                if memlock.rlim_max != 0 || memlock.rlim_cur != 0 {
                    libc::setrlimit(libc::RLIMIT_MEMLOCK, &memlock);
                }
                if caps::drop_bounding(zone_caps).is_err() {
                    fail(5);
                }
                if libc::setgroups(user.groups.len(), user.groups.as_ptr()) != 0
                    || libc::setgid(user.gid) != 0
                    || libc::setuid(user.uid) != 0
                {
                    fail(6);
                }
                if user.uid == 0 && caps::clear_inheritable(Some(zone_caps)).is_err() {
                    fail(5);
                }
                if libc::chdir(c_home.as_ptr()) != 0 {
                    libc::chdir(c_slash.as_ptr());
                }
                libc::execve(c_prog.as_ptr(), argv.as_ptr(), envp.as_ptr());
                fail(7);
            }
            drop(master);
            drop(slave);
            drop(procs_fds);
            let mut st = 0;
            while libc::waitpid(b, &mut st, 0) < 0 && *libc::__errno_location() == libc::EINTR {}
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
        relay(m.as_raw_fd());
    }
    let mut st = 0;
    while unsafe { libc::waitpid(a, &mut st, 0) } < 0
        && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR)
    {}
    let mut buf = [0u8; 3];
    let n = unsafe { libc::read(err_r.as_raw_fd(), buf.as_mut_ptr() as *mut libc::c_void, 3) };
    if n == 3 {
        let errno = buf[1] as i32 | ((buf[2] as i32) << 8);
        let what = match buf[0] {
            1 => "join the zone's cgroups",
            2 => "setns into the zone's namespaces",
            3 => "fork in the zone",
            4 => "make the pty the controlling terminal",
            5 => "reduce to the zone's capabilities",
            6 => format!("become user {}", user.name).leak(),
            _ => format!("exec {prog}").leak(),
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

/// Copy the caller's stdin to the pty and the pty to stdout until the pty
/// closes; the caller's tty is in raw mode meanwhile.
fn relay(master: RawFd) {
    let mut saved: libc::termios = unsafe { std::mem::zeroed() };
    let is_tty = unsafe { libc::isatty(0) } == 1 && unsafe { libc::tcgetattr(0, &mut saved) } == 0;
    if is_tty {
        let mut raw = saved;
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
        let r = unsafe { libc::poll(pfds.as_mut_ptr(), 2, 1000) };
        if r < 0 {
            if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            break;
        }
        if is_tty {
            let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
            if unsafe { libc::ioctl(0, libc::TIOCGWINSZ, &mut ws) } == 0 {
                unsafe { libc::ioctl(master, libc::TIOCSWINSZ, &ws) };
            }
        }
        if pfds[0].revents != 0 {
            let n = unsafe { libc::read(master, buf.as_mut_ptr() as *mut libc::c_void, buf.len()) };
            if n <= 0 {
                break; // EIO: every slave descriptor is closed
            }
            write_all(1, &buf[..n as usize]);
        }
        if pfds[1].revents != 0 {
            let n = unsafe { libc::read(0, buf.as_mut_ptr() as *mut libc::c_void, buf.len()) };
            if n <= 0 {
                stdin_open = false;
                write_all(master, &[4]); // ^D: end of input for the zone's side
            } else {
                write_all(master, &buf[..n as usize]);
            }
        }
    }
    if is_tty {
        unsafe { libc::tcsetattr(0, libc::TCSANOW, &saved) };
    }
}

fn write_all(fd: RawFd, mut b: &[u8]) {
    while !b.is_empty() {
        let n = unsafe { libc::write(fd, b.as_ptr() as *const libc::c_void, b.len()) };
        if n <= 0 {
            return;
        }
        b = &b[n as usize..];
    }
}
