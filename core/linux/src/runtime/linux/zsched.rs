//! # zsched: the zone's pid 1
//!
//! Named after illumos' zsched, the kernel process every zone's processes
//! descend from. Here it is a small single-threaded program, exec'd by the
//! launcher from a descriptor (the zone's root needs no file of it) as pid
//! 1 of the zone's pid namespace. It:
//!
//! * keeps its full permitted set but drops from its *bounding* set every
//!   capability that is not the zone's ([`super::caps`]), so that all it
//!   starts runs with the zone's set only, and a process of the zone cannot
//!   ptrace it (it would need a superset of zsched's capabilities);
//! * reaps every orphan of the zone (it is their reaper as pid 1);
//! * serves the engine on the control socket the launcher bound (the
//!   descriptor is inherited; the path is in the host's run directory);
//! * starts init on `boot`, restarts it when it exits unless
//!   `initnorestart` is set (or it is a jail's exec.start/command, which run
//!   once), at most 5 times in 10 s, on the zone's console (its stdio,
//!   [`super::console`]); a whole zone's
//!   systemd is started as pid 1 of a nested pid namespace
//!   ([`super::sysinit`]);
//! * on `shutdown T` sends SIGTERM to every process of the zone
//!   (kill(-1) from a pid namespace's init reaches exactly the namespace)
//!   — or, to a systemd init, SIGRTMIN+3, its container halt request —
//!   waits up to T seconds, then SIGKILLs until none is left. The runtime
//!   backs this with the cgroup (cgroup.kill, or freeze/kill/thaw on v1);
//! * holds the master of the zone's console pty, keeps its backlog and
//!   relays it to `zlogin -C`.
//!
//! zsched holds only what it needs: the listening control socket and its
//! connections, the detached proc mount, a signalfd, the console pty's
//! master and a slave descriptor of it (zone devpts, from the first boot), stdio on the zone's
//! /dev/null and, with exec.consolelog, the log file and a pipe that init's
//! stdout and stderr are (zsched copies it into the log and the console's
//! backlog: the zone never holds the host's file) (the launcher closed
//! everything else before the exec: `launch::before_zsched_exec`; the
//! config memfd is closed once read, the verdict pipe once set up). What it
//! starts runs with stdio only (`before_init_exec`): init's is the console
//! slave (stdout and stderr exec.consolelog's pipe when set).
//!
//! It counts the zone's processes through a proc mount of its namespace
//! that is attached nowhere (made by the launcher with fsmount), so it can
//! also count in a zone whose root has no /proc, and only when the count
//! may have changed (a child exited, a request that starts or stops
//! something, a shutdown in progress, or a second since the last count).
//! At `down` that mount is stacked on the zone's tree, which goes with
//! one detach of `/` ([`Zsched::down`]); zsched still reads through it.
//!
//! ## Protocol
//!
//! Lines of text on a Unix stream socket. Requests: `ping`, `status`
//! (answer: init's pid in the zone or 0, then the number of user
//! processes), `boot [PARAMS-JSON]` (the zone's parameters at boot time:
//! initname, bootargs, command, ... replace those of ready),
//! `shutdown SECONDS`, `down`, `refs` (answer: IPC objects, then the root's host path),
//! `locked` (answer: the mounts the host made that a zone of its own user
//! namespace holds locked, see [`super::userns`]), `hostname NAME`, `domainname NAME`,
//! `events`, `console` (answer `ok N`, then the console's backlog and
//! output; what the client sends from then on is typed on the console),
//! `exit`. Answers: `ok [value]` or `err STEP<TAB>MESSAGE<TAB>ERRNO`.
//! After `events` the connection carries events: `init-started PID` (init's
//! pid in the zone, at boot and at every restart), `init-exited STATUS`
//! (the raw wait status) and `empty` (no user process is left). Each
//! restart is told as `init-exited` then `init-started`, in that order.
//! Signals sent to zsched from inside the zone are read and ignored.

use super::launch::{self, ChildError, Supervise};
use super::{caps, seccomp};
use std::collections::VecDeque;
use std::ffi::CString;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::os::unix::process::CommandExt;
use std::time::{Duration, Instant};

struct Conn {
    stream: UnixStream,
    buf: Vec<u8>,
    events: bool,
    dead: bool,
    /// Attached to the console (`console`): a relay from here on.
    console: bool,
}

impl Conn {
    fn send(&mut self, line: &str) {
        let mut msg = line.as_bytes().to_vec();
        msg.push(b'\n');
        if self.stream.write_all(&msg).is_err() {
            self.dead = true;
        }
    }
}

/// exec.consolelog, relayed (see [`Zsched::drain_console`]).
struct Console {
    log: std::fs::File,
    read: std::fs::File,
    write: std::fs::File,
}

impl Console {
    /// A pipe for init's output into `log`.
    fn new(log: std::fs::File) -> Option<Console> {
        let mut p = [0; 2];
        // SAFETY: pipe2 writes two descriptors into the array we own.
        if unsafe { libc::pipe2(p.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return None;
        }
        // SAFETY: both descriptors were just made by pipe2 and are owned
        // by nothing else; O_NONBLOCK on the read end only.
        unsafe {
            libc::fcntl(p[0], libc::F_SETFL, libc::O_NONBLOCK);
            Some(Console {
                log,
                read: std::fs::File::from_raw_fd(p[0]),
                write: std::fs::File::from_raw_fd(p[1]),
            })
        }
    }
}

struct Zsched {
    sup: Supervise,
    proc_fd: RawFd,
    /// exec.consolelog: the log file (a host file, zsched's alone) and the
    /// pipe init writes its stdout and stderr to (read end nonblocking,
    /// write end), which zsched copies into the log.
    console: Option<Console>,
    conns: Vec<Conn>,
    init: Option<i32>,
    booted: bool,
    /// Set by `shutdown`: the deadline for SIGTERM; waiting connections.
    shutdown: Option<(Instant, Vec<usize>)>,
    stopped: bool,
    restarts: VecDeque<Instant>,
    empty_told: bool,
    /// Init is systemd, pid 1 of a nested pid namespace (super::sysinit).
    system_init: bool,
    /// The zone's console pty (super::console), made at its first boot.
    tty: Option<super::console::Pty>,
    /// When the zone's processes were last counted ([`Zsched::progress`]).
    counted: Instant,
}

/// `zsched supervise CFG_FD LISTEN_FD VERDICT_FD`.
pub fn main() -> ! {
    let args: Vec<String> = std::env::args().collect();
    let fd = |i: usize| -> RawFd { args.get(i).and_then(|s| s.parse().ok()).unwrap_or(-1) };
    let (cfg_fd, listen_fd, verdict_fd) = (fd(2), fd(3), fd(4));
    // SAFETY: prctl with integer arguments only.
    unsafe {
        let name = CString::new("zsched").unwrap();
        libc::prctl(libc::PR_SET_NAME, name.as_ptr() as libc::c_ulong, 0, 0, 0);
    }
    let mut cfg = String::new();
    // SAFETY: the config memfd, inherited from the launcher under the
    // number named in argv; nothing else in this process owns it.
    let mut f = unsafe { std::fs::File::from_raw_fd(cfg_fd) };
    use std::io::Seek;
    let _ = f.seek(std::io::SeekFrom::Start(0));
    if f.read_to_string(&mut cfg).is_err() {
        std::process::exit(2);
    }
    drop(f);
    let sup = match serde_json::from_str::<Supervise>(&cfg) {
        Ok(s) => s,
        Err(e) => launch::fail(
            verdict_fd,
            ChildError::new("launch", format!("zsched config: {e}")),
        ),
    };
    // A container's seccomp profile is a host file: read before the pivot.
    if let Err(e) = super::seccomp_oci::preload(&sup.spec.params) {
        launch::fail(verdict_fd, ChildError::new(&e.step, e.message));
    }
    let (proc_fd, console) = match launch::setup(&sup.spec, sup.view.as_deref()) {
        Ok(fd) => fd,
        Err(e) => launch::fail(verdict_fd, e),
    };
    if let Err(errno) = caps::drop_bounding(sup.caps) {
        launch::fail(
            verdict_fd,
            ChildError::errno("capabilities", "drop from the bounding set".into(), errno),
        );
    }
    // Set up: the launcher reads EOF and reports success.
    // SAFETY: close of a descriptor this code opened and no longer uses.
    unsafe { libc::close(verdict_fd) };
    // SAFETY: `proc_fd` is the detached proc mount of the zone's pid
    // namespace that launch::setup returned, open and held by zsched for
    // its whole life; F_SETFD changes only its close-on-exec flag (so the
    // processes zsched starts do not inherit it). Setting SIGPIPE to
    // SIG_IGN installs no handler code, so it is sound at any point, and
    // zsched then sees EPIPE instead of dying when a peer goes away.
    unsafe {
        libc::fcntl(proc_fd, libc::F_SETFD, libc::FD_CLOEXEC);
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
    // SAFETY: the listening socket, inherited from the launcher under the
    // number named in argv; nothing else in this process owns it.
    let listener = unsafe { UnixListener::from_raw_fd(listen_fd) };
    let _ = listener.set_nonblocking(true);
    // SAFETY: F_SETFD on `listen_fd`, the descriptor `listener` (above) now
    // owns and keeps open; it changes only the close-on-exec flag.
    unsafe { libc::fcntl(listen_fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    // SIGCHLD and the terminating signals arrive on a signalfd.
    // SAFETY: signal-set calls on a sigset_t we own.
    let sfd = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in [
            libc::SIGCHLD,
            libc::SIGTERM,
            libc::SIGINT,
            libc::SIGHUP,
            libc::SIGQUIT,
            libc::SIGUSR1,
            libc::SIGUSR2,
        ] {
            libc::sigaddset(&mut set, s);
        }
        libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        libc::signalfd(-1, &set, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK)
    };
    let mut z = Zsched {
        sup,
        proc_fd,
        console: console.and_then(Console::new),
        conns: Vec::new(),
        init: None,
        booted: false,
        shutdown: None,
        stopped: false,
        restarts: VecDeque::new(),
        empty_told: false,
        system_init: false,
        tty: None,
        counted: Instant::now(),
    };
    z.run(&listener, sfd)
}

impl Zsched {
    fn run(&mut self, listener: &UnixListener, sfd: RawFd) -> ! {
        loop {
            let mut pfds = vec![
                libc::pollfd {
                    fd: sfd,
                    events: libc::POLLIN,
                    revents: 0,
                },
                libc::pollfd {
                    fd: listener.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                },
            ];
            for c in &self.conns {
                pfds.push(libc::pollfd {
                    fd: c.stream.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                });
            }
            if let Some(c) = &self.console {
                pfds.push(libc::pollfd {
                    fd: c.read.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                });
            }
            if let Some(t) = &self.tty {
                pfds.push(libc::pollfd {
                    fd: t.master.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                });
            }
            let timeout = if self.shutdown.is_some() { 50 } else { 1000 };
            // SAFETY: poll on an array of pollfd we own, with its length.
            let ready =
                unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, timeout) };
            // Whether the count of the zone's processes may have changed
            // ([`Zsched::progress`]): a child exited (SIGCHLD), or the poll
            // timed out (a process entered from outside, not zsched's
            // child, may have exited unseen).
            let mut recount = pfds[0].revents != 0 || ready <= 0;
            if pfds[0].revents != 0 {
                let mut buf = [0u8; 128 * 8];
                // SAFETY: read/write with a buffer we own and its length.
                while unsafe { libc::read(sfd, buf.as_mut_ptr() as *mut libc::c_void, buf.len()) }
                    > 0
                {}
            }
            // What init wrote before it exited is in the log before its
            // exit is told.
            self.drain_console();
            self.pump_tty();
            self.reap();
            if pfds[1].revents != 0 {
                while let Ok((s, _)) = listener.accept() {
                    let _ = s.set_nonblocking(true);
                    self.conns.push(Conn {
                        stream: s,
                        buf: Vec::new(),
                        events: false,
                        dead: false,
                        console: false,
                    });
                }
            }
            for i in 0..self.conns.len() {
                if pfds.get(i + 2).is_some_and(|p| p.revents != 0) {
                    recount |= self.read_conn(i);
                }
            }
            if recount
                || self.shutdown.is_some()
                || self.counted.elapsed() >= Duration::from_secs(1)
            {
                self.progress();
            }
            // Drop closed connections (indices of waiting shutdowns shift).
            if self.conns.iter().any(|c| c.dead) {
                let mut map = Vec::new();
                let mut n = 0;
                for c in &self.conns {
                    map.push(if c.dead {
                        None
                    } else {
                        n += 1;
                        Some(n - 1)
                    });
                }
                self.conns.retain(|c| !c.dead);
                if let Some((_, waiting)) = &mut self.shutdown {
                    *waiting = waiting.iter().filter_map(|i| map[*i]).collect();
                }
            }
        }
    }

    /// Serve what connection `i` sent. True when a request may have
    /// changed the zone's processes or what is told about them (anything
    /// but the requests that only read or set a name).
    fn read_conn(&mut self, i: usize) -> bool {
        let mut changed = false;
        let mut buf = [0u8; 4096];
        loop {
            match self.conns[i].stream.read(&mut buf) {
                Ok(0) => {
                    self.conns[i].dead = true;
                    break;
                }
                Ok(n) => self.conns[i].buf.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(_) => {
                    self.conns[i].dead = true;
                    break;
                }
            }
        }
        while !self.conns[i].console
            && let Some(pos) = self.conns[i].buf.iter().position(|b| *b == b'\n')
        {
            let line: Vec<u8> = self.conns[i].buf.drain(..=pos).collect();
            let line = String::from_utf8_lossy(&line[..line.len() - 1]).to_string();
            let cmd = line.split(' ').next().unwrap_or("");
            changed |= !matches!(
                cmd,
                "ping"
                    | "params"
                    | "status"
                    | "events"
                    | "locked"
                    | "refs"
                    | "hostname"
                    | "domainname"
                    | "console"
            );
            self.command(i, &line);
        }
        // An attached console client types on the console.
        if self.conns[i].console && !self.conns[i].buf.is_empty() {
            let data = std::mem::take(&mut self.conns[i].buf);
            if let Some(t) = &mut self.tty {
                t.input(&data);
            }
        }
        changed
    }

    fn command(&mut self, i: usize, line: &str) {
        let (cmd, arg) = line.split_once(' ').unwrap_or((line, ""));
        let reply = match cmd {
            "ping" => Ok(String::new()),
            // The zone's parameters (JSON, one line): an entering process
            // builds the zone's system call filter from them.
            "params" => serde_json::to_string(&self.sup.spec.params)
                .map_err(|e| ("params".into(), e.to_string(), libc::EINVAL)),
            "status" => Ok(format!("{} {}", self.init.unwrap_or(0), self.user_procs())),
            "boot" => {
                // The parameters of boot time (initname, bootargs, ...)
                // replace those of ready when given.
                if !arg.trim().is_empty() {
                    match serde_json::from_str(arg) {
                        Ok(params) => self.sup.spec.params = params,
                        Err(e) => {
                            let msg = format!("err boot\tbad parameters: {e}\t{}", libc::EINVAL);
                            self.conns[i].send(&msg);
                            return;
                        }
                    }
                }
                self.boot().map(|p| p.to_string())
            }
            // Booted without an init: whoever enters makes the zone live.
            "run" => {
                self.booted = true;
                // Not empty before anything entered: the first process
                // arms the event.
                self.empty_told = true;
                Ok(String::new())
            }
            "shutdown" => {
                let secs: u64 = arg.trim().parse().unwrap_or(10);
                self.stopped = true;
                match self.init.filter(|_| self.system_init) {
                    // systemd powers the zone off through its own shutdown
                    // (sysinit's module comment).
                    // SAFETY: kill takes plain integers.
                    Some(init) => unsafe {
                        libc::kill(init, super::sysinit::poweroff_signal());
                    },
                    // SAFETY: kill takes plain integers.
                    None => unsafe {
                        libc::kill(-1, libc::SIGTERM);
                    },
                }
                let deadline = Instant::now() + Duration::from_secs(secs);
                match &mut self.shutdown {
                    Some((_, waiting)) => waiting.push(i),
                    None => self.shutdown = Some((deadline, vec![i])),
                }
                return;
            }
            "down" => self.down(),
            "locked" => Ok(self
                .read_proc("self/mountinfo")
                .map_or(0, |mi| super::userns::host_made_mounts(&mi))
                .to_string()),
            "refs" => Ok(format!(
                "{} {}",
                self.ipc_objects(),
                self.sup.spec.root.display()
            )),
            "hostname" | "domainname" => {
                // SAFETY: pointer and length of a string we own.
                let r = unsafe {
                    if cmd == "hostname" {
                        libc::sethostname(arg.as_ptr() as *const libc::c_char, arg.len())
                    } else {
                        libc::setdomainname(arg.as_ptr() as *const libc::c_char, arg.len())
                    }
                };
                if r == 0 {
                    Ok(String::new())
                } else {
                    Err(("hostname".into(), format!("set {cmd} {arg:?}"), errno()))
                }
            }
            "events" => {
                self.conns[i].events = true;
                Ok(String::new())
            }
            // zlogin -C (super::console): `ok N`, the backlog, then a relay.
            "console" => match self.tty_now() {
                Some(t) => {
                    let (n, back) = (t.number, t.backlog());
                    self.conns[i].send(&format!("ok {n}"));
                    self.conns[i].console = true;
                    let _ = self.conns[i].stream.set_nonblocking(false);
                    if self.conns[i].stream.write_all(&back).is_err() {
                        self.conns[i].dead = true;
                    }
                    let _ = self.conns[i].stream.set_nonblocking(true);
                    return;
                }
                None => Err((
                    "console".into(),
                    "the zone has no console (its /dev/ptmx gave none)".into(),
                    libc::ENXIO,
                )),
            },
            "exit" => {
                self.conns[i].send("ok");
                // SAFETY: kill takes plain integers.
                unsafe { libc::kill(-1, libc::SIGKILL) };
                // Nothing of the zone runs any more: the detached proc
                // mount goes on our `/`, to be torn down with the mount
                // namespace rather than in a grace period of its own
                // when the exit closes it (see ipc::remove_all).
                super::ipc::stack_on_root(self.proc_fd);
                std::process::exit(0);
            }
            _ => Err(("protocol".into(), format!("unknown request {line:?}"), 0)),
        };
        let text = match reply {
            Ok(v) if v.is_empty() => "ok".to_string(),
            Ok(v) => format!("ok {v}"),
            Err((step, msg, errno)) => {
                let detail = if errno != 0 {
                    format!("{msg}: {}", std::io::Error::from_raw_os_error(errno))
                } else {
                    msg
                };
                format!("err {step}\t{detail}\t{errno}")
            }
        };
        self.conns[i].send(&text);
    }

    fn jail_argv(&self) -> Option<Vec<String>> {
        let p = &self.sup.spec.params;
        let command = p.list("command");
        if !command.is_empty() {
            return Some(command);
        }
        let start = p.list("exec.start");
        if !start.is_empty() {
            return Some(vec!["/bin/sh".into(), "-c".into(), start.join("\n")]);
        }
        None
    }

    fn init_argv(&self) -> Vec<String> {
        let p = &self.sup.spec.params;
        if p.get("initname").is_none()
            && let Some(argv) = self.jail_argv()
        {
            return argv;
        }
        let mut argv = vec![p.str("initname").unwrap_or("/sbin/init").to_string()];
        if let Some(b) = p.str("bootargs") {
            argv.extend(b.split_whitespace().map(str::to_string));
        }
        argv
    }

    fn boot(&mut self) -> Result<i32, (String, String, i32)> {
        if let Some(pid) = self.init {
            return Err((
                "boot".into(),
                format!("already booted (init is pid {pid})"),
                libc::EBUSY,
            ));
        }
        let pid = self.spawn_init()?;
        self.booted = true;
        self.empty_told = false;
        Ok(pid)
    }

    fn spawn_init(&mut self) -> Result<i32, (String, String, i32)> {
        let argv = self.init_argv();
        let spec = &self.sup.spec;
        // Built here, loaded in the child (before_init_exec).
        let filter = seccomp::Filter::for_params(&spec.params)
            .map_err(|e| (e.step, e.message, e.errno.unwrap_or(libc::EINVAL)))?;
        let mut cmd = std::process::Command::new(&argv[0]);
        cmd.args(&argv[1..])
            .env_clear()
            .env(
                "PATH",
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            )
            .env("HOME", "/")
            .current_dir("/");
        if let Some(c) = &self.console
            && let (Ok(out), Ok(err)) = (c.write.try_clone(), c.write.try_clone())
        {
            cmd.stdout(out).stderr(err);
        }
        // A zone booting systemd: pid 1 of a nested pid namespace, told it
        // runs in a container (sysinit's module comment).
        // (Never for a zone rooted at the host's own /: that init is the
        // host's system, not the zone's.)
        let nested = spec.root != std::path::Path::new("/")
            && super::sysinit::boots_systemd(std::path::Path::new("/"), spec.brand, &spec.params);
        if nested {
            super::sysinit::refuse_in_userns(self.sup.caps)?;
            cmd.env("container", "zones");
            super::sysinit::nested_pre_exec(&mut cmd);
            cmd.env("TERM", "linux");
        }
        self.system_init = nested;
        if self.sup.spec.params.bool("exec.clean") != Some(true) {
            cmd.env("JID", spec.id.to_string())
                .env("JNAME", spec.name.as_str())
                .env("JPATH", spec.root.as_os_str());
        }
        self.console_for_init(&mut cmd);
        // SAFETY: the closure runs in the forked child before exec and
        // makes system calls only (no allocation, no lock).
        unsafe {
            cmd.pre_exec(move || {
                // zsched blocks the signals it reads from its signalfd; init
                // must start with none blocked.
                let mut none: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut none);
                libc::sigprocmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
                libc::setsid();
                caps::clear_inheritable(None).map_err(std::io::Error::from_raw_os_error)?;
                before_init_exec(&filter).map_err(std::io::Error::from_raw_os_error)
            });
        }
        let spawned = if nested {
            super::sysinit::spawn_nested(&mut cmd, self.proc_fd)
        } else {
            cmd.spawn()
        };
        match spawned {
            Ok(child) => {
                let pid = child.id() as i32;
                self.init = Some(pid);
                self.tell(&format!("init-started {pid}"));
                Ok(pid)
            }
            Err(e) => Err((
                "exec init".into(),
                argv[0].clone(),
                e.raw_os_error().unwrap_or(0),
            )),
        }
    }

    /// The console, made now if it was not (`zlogin -C` of a zone that
    /// has not booted yet).
    fn tty_now(&mut self) -> Option<&super::console::Pty> {
        if self.tty.is_none() {
            self.tty = super::console::Pty::open().ok();
        }
        self.tty.as_ref()
    }

    /// The zone's console (super::console), made at the first boot or
    /// the first `zlogin -C`; given to init as its stdio (stdin only
    /// with exec.consolelog, whose pipe is its stdout and stderr), and to
    /// systemd as controlling terminal too.
    fn console_for_init(&mut self, cmd: &mut std::process::Command) {
        let (output, ctty) = (self.console.is_none(), self.system_init);
        if let Some(t) = self.tty_now() {
            super::console::give_init(cmd, t, output, ctty);
        }
    }

    /// Copy what the zone wrote to its console pipe into the
    /// exec.consolelog file. The zone's processes get the pipe, never the
    /// host's file: a descriptor of a host file would let root in the zone
    /// reopen it read-write through /proc/self/fd, truncate it, or chown it.
    fn drain_console(&mut self) {
        let Some(c) = &mut self.console else {
            return;
        };
        let mut buf = [0u8; 16 * 1024];
        // At most 1 MiB a turn, so that a chatty zone cannot hold zsched.
        for _ in 0..64 {
            match c.read.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let _ = c.log.write_all(&buf[..n]);
                    // ... and it is the console's output too.
                    if let Some(t) = &mut self.tty {
                        let out = t.record(&buf[..n]);
                        for c in self.conns.iter_mut().filter(|c| c.console) {
                            if c.stream.write_all(&out).is_err() {
                                c.dead = true;
                            }
                        }
                    }
                }
            }
        }
    }

    /// Move console output into the backlog, exec.consolelog and every
    /// attached client.
    fn pump_tty(&mut self) {
        let Some(t) = &mut self.tty else {
            return;
        };
        let out = t.pump();
        if out.is_empty() {
            return;
        }
        if let Some(c) = &mut self.console {
            let _ = c.log.write_all(&out);
        }
        for c in self.conns.iter_mut().filter(|c| c.console) {
            if c.stream.write_all(&out).is_err() {
                c.dead = true;
            }
        }
    }

    fn tell(&mut self, event: &str) {
        for c in self.conns.iter_mut().filter(|c| c.events) {
            c.send(event);
        }
    }

    fn reap(&mut self) {
        loop {
            let mut st = 0;
            // SAFETY: waitpid on our own child, with a status we own.
            let pid = unsafe { libc::waitpid(-1, &mut st, libc::WNOHANG) };
            if pid <= 0 {
                break;
            }
            if Some(pid) == self.init {
                self.init = None;
                self.tell(&format!("init-exited {st}"));
                let p = &self.sup.spec.params;
                let once = p.get("initname").is_none() && self.jail_argv().is_some();
                if !self.stopped && !once && p.bool("initnorestart") != Some(true) {
                    let now = Instant::now();
                    while self
                        .restarts
                        .front()
                        .is_some_and(|t| now.duration_since(*t) > Duration::from_secs(10))
                    {
                        self.restarts.pop_front();
                    }
                    if self.restarts.len() < 5 {
                        self.restarts.push_back(now);
                        let _ = self.spawn_init();
                    }
                }
            }
        }
    }

    /// Count the zone's processes other than zsched.
    fn user_procs(&self) -> usize {
        let dot = CString::new(".").unwrap();
        // SAFETY: the path is a NUL-terminated string we own; the new descriptor is ours.
        unsafe {
            let fd = libc::openat(
                self.proc_fd,
                dot.as_ptr(),
                libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
            );
            if fd < 0 {
                return 0;
            }
            let dir = libc::fdopendir(fd);
            if dir.is_null() {
                libc::close(fd);
                return 0;
            }
            let mut n = 0;
            loop {
                let ent = libc::readdir(dir);
                if ent.is_null() {
                    break;
                }
                let name = std::ffi::CStr::from_ptr((*ent).d_name.as_ptr()).to_bytes();
                if !name.is_empty() && name.iter().all(u8::is_ascii_digit) && name != b"1" {
                    n += 1;
                }
            }
            libc::closedir(dir);
            n
        }
    }

    /// Count the zone's processes (a scan of the detached proc mount)
    /// and act on the count: answer a finished shutdown, SIGKILL past
    /// its deadline, tell `empty`. Run only when the count may have
    /// changed (a child exited, a request that starts or stops
    /// something, a shutdown in progress) or a second after the last
    /// count (an entered process, not zsched's child, exits unseen):
    /// not for every connection and request of the engine (a runtime
    /// cycle made 14 scans, now 5).
    fn progress(&mut self) {
        self.counted = Instant::now();
        let n = self.user_procs();
        if n > 0 {
            self.empty_told = false;
        }
        if let Some((deadline, _)) = &self.shutdown {
            if n == 0 {
                let (_, waiting) = self.shutdown.take().unwrap();
                for i in waiting {
                    if let Some(c) = self.conns.get_mut(i) {
                        c.send("ok");
                    }
                }
            } else if Instant::now() >= *deadline {
                // SAFETY: kill takes plain integers.
                unsafe { libc::kill(-1, libc::SIGKILL) };
            }
        }
        if n == 0 && (self.booted || self.stopped) && !self.empty_told {
            self.empty_told = true;
            self.tell("empty");
        }
    }

    fn read_proc(&self, path: &str) -> Option<String> {
        let p = CString::new(path).unwrap();
        let fd =
            // SAFETY: the path is a NUL-terminated string we own; the new descriptor is ours.
            unsafe { libc::openat(self.proc_fd, p.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
        if fd < 0 {
            return None;
        }
        // SAFETY: the descriptor was just returned by the kernel and nothing else owns it.
        let mut f = unsafe { std::fs::File::from_raw_fd(fd) };
        let mut s = String::new();
        f.read_to_string(&mut s).ok()?;
        Some(s)
    }

    /// Release what the zone holds in its namespaces (illumos'
    /// zone_shutdown): every System V object and POSIX message queue of
    /// its IPC namespace ([`super::ipc`]), then every mount but the root,
    /// again until none is left (a zone may have stacked mounts, or
    /// mounted beneath one), `UMOUNT_NOFOLLOW` so that a symlink the zone
    /// put where a mount point was is not followed. Each round detaches
    /// only the mounts whose parent is the root ([`top_mounts`]):
    /// MNT_DETACH takes a mount with everything beneath it, and every
    /// umount2 that releases something waits for an RCU grace period in
    /// the kernel, so one per top-level mount (/usr, /proc, /sys, /dev:
    /// 4 waits) rather than one per mount (15 in a sparse zone, /proc's
    /// masks included) keeps halt quick on a busy host.
    /// In a zone of its own user namespace the mounts the host made are
    /// locked and left to the namespace's end ([`super::userns::host_made`]).
    ///
    /// Before those rounds, where nothing is locked, [`Zsched::detach_root`]
    /// releases the whole tree with one umount2 of `/`: one grace period
    /// for every mount of the zone instead of four, and none more when
    /// zsched exits (its namespace is empty by then, and the detached
    /// proc mount went with the tree). The rounds then find nothing left.
    fn down(&mut self) -> Result<String, (String, String, i32)> {
        // Where the whole tree can go at once: a top-level mount point
        // to stack the detached proc and mqueue mounts on (a mount
        // stacked on `/` itself would be what umount2 of `/` detaches).
        let whole = self
            .read_proc("self/mountinfo")
            .filter(|mi| !mi.lines().any(super::userns::host_made))
            .filter(|_| self.sup.spec.root != std::path::Path::new("/"))
            .and_then(|mi| top_mounts(&mi).into_iter().next())
            .and_then(|p| CString::new(p.into_os_string().into_encoded_bytes()).ok())
            .filter(|p| super::ipc::stack_on(self.proc_fd, p));
        let ipc = super::ipc::remove_all(|p| self.read_proc(p), true, whole.as_deref());
        let mut failed = ipc.failed;
        if whole.is_some() {
            self.detach_root();
        }
        // The errors of the last round of unmounts: reported only if
        // mounts are still there after 8 rounds.
        let mut errors: Vec<String> = Vec::new();
        for round in 0..=8 {
            let Some(mi) = self.read_proc("self/mountinfo") else {
                return Err(("down".into(), "read mountinfo".into(), errno()));
            };
            // The host's locked mounts of a zone in its own user namespace
            // stay (none elsewhere); what the zone made goes.
            let mi: String = mi
                .lines()
                .filter(|l| !super::userns::host_made(l))
                .map(|l| format!("{l}\n"))
                .collect();
            let points = top_mounts(&mi);
            if points.is_empty() {
                break;
            }
            if round == 8 {
                let still: Vec<String> = points.iter().map(|p| p.display().to_string()).collect();
                failed.push(format!(
                    "umount: still mounted: {} ({})",
                    still.join(" "),
                    errors.join(", ")
                ));
                break;
            }
            errors.clear();
            for p in points {
                let c = CString::new(std::os::unix::ffi::OsStrExt::as_bytes(p.as_os_str()))
                    .unwrap_or_default();
                // SAFETY: umount2 of a NUL-terminated path.
                if unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH | libc::UMOUNT_NOFOLLOW) }
                    != 0
                {
                    let e = errno();
                    errors.push(format!(
                        "{}: {}",
                        p.display(),
                        std::io::Error::from_raw_os_error(e)
                    ));
                }
            }
        }
        if failed.is_empty() {
            Ok(String::new())
        } else {
            Err(("down".into(), failed.join("; "), 0))
        }
    }

    /// `down`'s one-step release, once the detached proc and mqueue
    /// mounts are stacked on a mount of the tree (zsched keeps reading
    /// through the proc descriptor: a lazily detached mount stays usable
    /// through what is open on it): `/` detached with MNT_DETACH, which
    /// takes every mount of the namespace
    /// in one umount_tree (the mounts are private to the zone's namespace
    /// since the launcher made `/` private recursively, so nothing
    /// propagates to the host). Nothing of the zone runs any more (down
    /// follows shutdown); zsched's own root and cwd keep the detached
    /// root alive until it exits, and it resolves no path after this. A
    /// refusal (EINVAL for a locked root) leaves the per-mount rounds to
    /// do the work.
    fn detach_root(&mut self) {
        // SAFETY: umount2 of a static NUL-terminated path.
        unsafe { libc::umount2(c"/".as_ptr(), libc::MNT_DETACH) };
    }

    /// System V IPC objects of the zone's IPC namespace.
    fn ipc_objects(&self) -> usize {
        ["sysvipc/shm", "sysvipc/msg", "sysvipc/sem"]
            .iter()
            .filter_map(|p| self.read_proc(p))
            .map(|s| s.lines().skip(1).filter(|l| !l.trim().is_empty()).count())
            .sum()
    }
}

/// The mount points to detach in one round of `down`, from a mountinfo
/// text: every mount but the root whose parent is the root mount (the
/// one at `/` that has no parent in the table), in the table's order
/// (stacked mounts on one point each come once: the top one is detached
/// first, the one beneath in the next round). When no mount hangs from
/// the root mount (a table the parser cannot place), every mount but `/`,
/// deepest first, as a fallback.
fn top_mounts(mountinfo: &str) -> Vec<std::path::PathBuf> {
    // (id, parent id, mount point)
    let rows: Vec<(u64, u64, std::path::PathBuf)> = crate::mountinfo::parse(mountinfo)
        .map(|m| (m.id, m.parent, m.mount_point))
        .collect();
    let slash = std::path::Path::new("/");
    let roots: std::collections::HashSet<u64> = rows
        .iter()
        .filter(|(_, parent, point)| point == slash && !rows.iter().any(|(id, ..)| id == parent))
        .map(|(id, ..)| *id)
        .collect();
    let mut points: Vec<std::path::PathBuf> = Vec::new();
    for (_, parent, point) in &rows {
        if point != slash && roots.contains(parent) && !points.contains(point) {
            points.push(point.clone());
        }
    }
    if points.is_empty() {
        points = rows
            .into_iter()
            .map(|(_, _, p)| p)
            .filter(|p| p != slash)
            .collect();
        points.reverse();
    }
    points
}

/// zsched's child, about to exec init (or a jail's exec.start or
/// command): the last step before code of the zone runs. Only stdio passes
/// (the zone's console slave, and exec.consolelog's pipe for stdout and
/// stderr when set): every descriptor from 3 up is marked close-on-exec with
/// close_range(CLOSE_RANGE_CLOEXEC), so that the exec drops them all
/// (zsched's own are close-on-exec already; this makes it hold for any).
/// Marked rather than closed: std's Command reports a failed exec on a
/// close-on-exec pipe of its own that must live until the exec. The
/// child still has every capability here (they fall to the bounding set
/// at the exec), so the zone's system call filter ([`super::seccomp`]) is
/// loaded here, with no no_new_privs: setuid programs of the zone keep
/// working. zsched itself stays unfiltered (it mounts and unmounts).
/// Async-signal-safe.
fn before_init_exec(filter: &seccomp::Filter) -> Result<(), i32> {
    launch::close_range(3, libc::CLOSE_RANGE_CLOEXEC)?;
    filter.apply()
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::top_mounts;
    use std::path::PathBuf;

    /// A sparse zone's table after the pivot (the old root's id, 300, is
    /// not in it), with /proc's masks, /dev's submounts and a mount the
    /// zone stacked on /usr.
    const ZONE: &str = "\
401 300 0:5 / / rw,relatime - ext4 /dev/vda rw
402 401 0:5 /usr /usr ro,relatime - ext4 /dev/vda rw
403 401 0:60 / /proc rw,nosuid - proc proc rw
404 403 0:60 /sys /proc/sys ro - proc proc rw
405 403 0:61 / /proc/acpi ro - tmpfs tmpfs ro
406 401 0:62 / /sys ro - sysfs sysfs ro
407 401 0:63 / /dev rw - tmpfs tmpfs rw
408 407 0:64 / /dev/pts rw - devpts devpts rw
409 402 0:65 / /usr rw - tmpfs tmpfs rw
410 401 0:66 / /my\\040dir rw - tmpfs tmpfs rw
";

    #[test]
    fn one_round_detaches_the_mounts_of_the_root_only() {
        let got = top_mounts(ZONE);
        let want: Vec<PathBuf> = ["/usr", "/proc", "/sys", "/dev", "/my dir"]
            .iter()
            .map(PathBuf::from)
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn nothing_but_the_root_is_nothing_to_do() {
        assert!(top_mounts("401 300 0:5 / / rw - ext4 /dev/vda rw\n").is_empty());
    }

    #[test]
    fn a_table_without_a_root_falls_back_to_every_mount_deepest_first() {
        let t = "\
10 1 0:5 / /a rw - tmpfs t rw
11 10 0:6 / /a/b rw - tmpfs t rw
";
        assert_eq!(
            top_mounts(t),
            vec![PathBuf::from("/a/b"), PathBuf::from("/a")]
        );
    }
}
