//! # The Linux runtime
//!
//! [`LinuxRuntime`] implements [`Runtime`] with namespaces, cgroups and a
//! supervisor process per zone. The engine process never changes its own
//! namespaces: everything that must happen in a fresh single-threaded
//! process happens in the `zsched` binary ([`launch`], [`zsched`]) or in a
//! forked child that only makes system calls ([`enter`]).
//!
//! | runtime call | what happens |
//! |---|---|
//! | ready | the root checked first ([`inroot::check_zone_root`]: private, and a nested zone's beneath its parent's); the spare `zsched launch` taken (for an engine that lasts, one started ahead after the last `ready`: [`spare`]; else one started now), the zone's spec sent to it, which binds `<run_dir>/<id>-<uniqid>.sock` and renames its view directory while the cgroups are made and rctls applied ([`cgroup`]), then the cgroups sent; it forks the zone's pid 1 (in a new pid namespace, or one nested in the parent zone's) and execs zsched there from a descriptor; zsched makes the other namespaces (a time namespace among them: [`timens`]) and the root ([`mounts`], with the zone's own /proc files bound from `<run_dir>/<id>-<uniqid>.view`: [`view`]) and pivots; a zone with `zone.cpuset` or `dedicated-cpu.ncpus` gets a cpuset cgroup too ([`cpuset`]); the runtime subscribes to its events (zsched's `ok` to that, within 10 s, is its first answer) |
//! | boot | `boot` to zsched; the answer (init's pid in the zone) is turned into the host pid (NSpid in /proc); 0 when init already exited (a jail's one-shot command). The parameters of the spec given to boot (initname, bootargs, command, exec.start, initnorestart, ...) are sent along and replace those of ready |
//! | shutdown | `shutdown T` to zsched (SIGTERM, T seconds, SIGKILL), the zone's cgroup trees thawed meanwhile ([`thaw_tree`]: a process the zone froze would never die); then whatever is still in the cgroups but zsched is killed through them |
//! | down | `down` to zsched: it removes the System V objects and POSIX queues of its IPC namespace ([`ipc`]) and unmounts everything but its root |
//! | destroy | `exit` to zsched; the cgroups are emptied and removed; the socket file, the view directory and the dedicated-CPU marker are removed |
//! | update | rctls re-applied to the cgroups; zone.max-locked-memory to zsched (what entered processes copy); host name through zsched |
//! | refs | cgroup.procs, /proc/ZSCHED/mountinfo, zsched's `refs`, /sys/block/loop* |
//! | view | once a tick, from the sampler: each zone's view files rewritten in place from its counters ([`view::refresh_all`]) |
//! | adopt | zsched's pid and start time checked; `status` asked (the current init, which may have been restarted meanwhile, and whether user processes remain); events reconnected. A zsched that lives but does not answer (stopped, slow, its socket file removed) is adopted as recorded and followed once it answers ([`LinuxRuntime::watch_later`]), never killed; only a dead one's leftovers (processes, cgroups, the socket) are removed |
//! | traces, sweep, rebuild | what the kernel holds of zones by their predictable names, for a restart that has no record of them ([`recover`]) |
//!
//! No host descriptor crosses into a zone: the launcher's child, zsched
//! before init and an entering process each close what was not opened for
//! the zone at one named point (see [`launch`]'s descriptor table).
//!
//! Events: one thread for all zones ([`events`]: epoll) reads zsched's
//! event connections and forwards
//! [`RuntimeEvent`]s, zone pids turned into host pids: `InitStarted` at
//! boot and at every restart, `InitExited` (the raw wait status, and the
//! host pid the exited init had). The connection closing is
//! [`RuntimeEvent::Gone`] unless the runtime ended zsched itself, told
//! only once zsched has exited ([`wait_exit`]: a pidfd), never for one
//! that is stopped or slow.
//!
//! ## A zsched that died
//!
//! zsched killed from the host takes its pid namespace with it, but its
//! control socket refuses at once, while the kernel is still killing the
//! zone's processes. So a failed request is an error only while zsched
//! lives ([`unless_dead`]): shutdown, down and destroy of a zone whose
//! zsched is gone kill what is left through the cgroups, remove them and
//! the socket file, and never wait on the dead socket. A stopped zsched is
//! continued (SIGCONT) by shutdown and destroy, never taken for dead.
//!
//! zsched is not the engine's child: the launcher exits, so zsched is
//! re-parented to the host's init (or to the nearest subreaper — a daemon
//! that sets PR_SET_CHILD_SUBREAPER must reap the zscheds it inherits).
//!
//! ## Finding the zsched binary
//!
//! [`LinuxRuntime::with_zsched`] names it; else `$ZONES_ZSCHED`; else
//! `zsched` next to the current executable, or one directory up (a test
//! binary in target/debug/deps finds target/debug/zsched); else where
//! `make install` and the Debian package put it, `../lib/zones/zsched`
//! from the executable's directory (`/usr/lib/zones/zsched` for the tools
//! in /usr/bin and /usr/sbin).

pub mod caps;
pub mod cgjoin;
pub mod cgroup;
pub mod console;
pub mod cpuset;
pub mod enter;
pub mod enter_extra;
mod events;
pub mod inroot;
pub mod install;
pub mod ipc;
pub mod launch;
pub mod mounts;
pub mod netlink;
pub mod netns;
pub mod osinstall;
pub mod recover;
pub mod refs;
pub mod seccomp;
pub mod seccomp_oci;
pub mod spare;
pub mod sysinit;
pub mod timens;
pub mod userns;
pub mod view;
pub mod vnet;
pub mod zsched;

use super::{Adopted, Handle, KernelRefs, Runtime, RuntimeError, RuntimeEvent, Trace, ZoneSpec};
use crate::param::Params;
use crate::zone::ZoneId;
use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;

pub(crate) fn err(step: &str, message: String, e: &std::io::Error) -> RuntimeError {
    RuntimeError {
        step: step.into(),
        message,
        errno: e.raw_os_error(),
    }
}

/// Asks for the next spare launcher when `ready` ends, however it ends.
struct NextSpare<'a>(&'a spare::Spare, &'a Path);

impl Drop for NextSpare<'_> {
    fn drop(&mut self) {
        self.0.want(self.1);
    }
}

/// The Linux runtime (module comment).
pub struct LinuxRuntime {
    run_dir: PathBuf,
    cgroup_root: PathBuf,
    zsched: Option<PathBuf>,
    events: Arc<Mutex<Option<UnboundedSender<RuntimeEvent>>>>,
    /// Control sockets of zones whose zsched the runtime ended itself (no
    /// Gone event for them).
    ended: Arc<Mutex<HashSet<PathBuf>>>,
    /// A launcher started ahead for the next `ready` ([`spare`]), for an
    /// engine that lasts ([`LinuxRuntime::with_spare`]).
    spare: Option<Arc<spare::Spare>>,
}

impl LinuxRuntime {
    /// A runtime that puts control sockets in `run_dir` (made if missing)
    /// and zone cgroups under `cgroup_root` (absolute: from the top of each
    /// hierarchy; relative: beneath the engine's own cgroup).
    pub fn new(run_dir: impl Into<PathBuf>, cgroup_root: impl Into<PathBuf>) -> LinuxRuntime {
        zones::clock::set(crate::kstat::sampler::hrtime_now);
        LinuxRuntime {
            spare: None,
            run_dir: run_dir.into(),
            cgroup_root: cgroup_root.into(),
            zsched: None,
            events: Arc::new(Mutex::new(None)),
            ended: Arc::new(Mutex::new(HashSet::new())),
        }
    }

    /// Use this zsched binary.
    pub fn with_zsched(mut self, path: impl Into<PathBuf>) -> LinuxRuntime {
        self.zsched = Some(path.into());
        self
    }

    /// Keep a launcher started ahead for the next `ready` ([`spare`]): for
    /// an engine that lasts and boots zones again and again (zoned, ztop's
    /// own engine), not for a tool that makes one zone and exits, which
    /// would start one only to end it.
    pub fn with_spare(mut self) -> LinuxRuntime {
        self.spare = Some(Arc::new(spare::Spare::new(self.run_dir.clone())));
        self
    }

    /// The zsched binary this runtime runs (module comment).
    pub fn zsched_path(&self) -> Result<PathBuf, RuntimeError> {
        if let Some(p) = &self.zsched {
            return Ok(p.clone());
        }
        if let Some(p) = std::env::var_os("ZONES_ZSCHED") {
            return Ok(PathBuf::from(p));
        }
        let exe = std::env::current_exe()
            .map_err(|e| err("launch", format!("current executable: {e}"), &e))?;
        let dir = exe.parent().unwrap_or(Path::new("/"));
        for cand in [
            dir.join("zsched"),
            dir.join("../zsched"),
            dir.join("../lib/zones/zsched"),
        ] {
            if cand.is_file() {
                return Ok(cand);
            }
        }
        Err(RuntimeError::new(
            "launch",
            format!(
                "no zsched binary next to {} (set ZONES_ZSCHED or LinuxRuntime::with_zsched)",
                exe.display()
            ),
        ))
    }

    pub fn run_dir(&self) -> &Path {
        &self.run_dir
    }

    /// The cgroup directories a zone gets, one per hierarchy. The host's
    /// hierarchies are read once per process ([`cgroup::host_hierarchies`],
    /// what the sampler reads zones by), not at every ready: two statfs,
    /// /proc/self/mountinfo and /proc/self/cgroup (~25 system calls) a
    /// zone less.
    pub fn cgroup_dirs(
        &self,
        spec: &ZoneSpec,
    ) -> Result<Vec<(cgroup::Hierarchy, PathBuf)>, RuntimeError> {
        let read;
        let hs = match cgroup::host_hierarchies() {
            [] => {
                read = cgroup::hierarchies()?;
                read.as_slice()
            }
            hs => hs,
        };
        let dir = cgroup::dir_name(spec.name.as_str(), spec.uniqid);
        let parent = spec.parent.as_ref().map(|p| p.cgroups.as_slice());
        Ok(hs
            .iter()
            .map(|h| {
                let d = cgroup::zone_dir(h, &self.cgroup_root, parent, &dir);
                (h.clone(), d)
            })
            .collect())
    }

    fn make_cgroups(&self, spec: &ZoneSpec) -> Result<Vec<PathBuf>, RuntimeError> {
        let dirs = self.cgroup_dirs(spec)?;
        let mut made = Vec::new();
        let result = (|| {
            for (h, d) in &dirs {
                if d.exists() {
                    return Err(RuntimeError::new(
                        "cgroup",
                        format!("{}: already exists", d.display()),
                    ));
                }
                let base = if self.cgroup_root.is_absolute() {
                    h.mount.clone()
                } else {
                    h.mount.join(h.own.strip_prefix("/").unwrap_or(&h.own))
                };
                cgroup::create(h, d, &base)?;
                made.push(d.clone());
                if h.controllers.iter().any(|c| c == "devices") {
                    cgroup::restrict_devices(d)?;
                }
            }
            let control = self
                .run_dir
                .join(format!("{}-{}.sock", spec.id, spec.uniqid));
            if let Some(d) = cpuset::make(&self.run_dir, &self.cgroup_root, spec, &dirs, &control)?
            {
                made.push(d);
            }
            let v2 = dirs.iter().all(|(h, _)| h.is_v2());
            let ctl: Vec<PathBuf> = dirs
                .iter()
                .filter(|(h, _)| v2 || !h.is_v2())
                .map(|(_, d)| d.clone())
                .collect();
            cgroup::apply(&ctl, &spec.params, v2)
        })();
        match result {
            Ok(()) => Ok(made),
            Err(e) => {
                let _ = cgroup::remove(&made);
                Err(e)
            }
        }
    }

    /// Open the event connection of a zone and forward its events. zsched
    /// has 10 s to answer the request (as for any ping); then the
    /// connection waits for events as long as the zone lives.
    fn watch(&self, spec: &ZoneSpec, handle: &Handle) -> Result<(), RuntimeError> {
        let mut s = connect(&handle.control)?;
        s.set_read_timeout(Some(Duration::from_secs(10))).ok();
        s.write_all(b"events\n").map_err(|e| {
            err(
                "control socket",
                format!("{}: {e}", handle.control.display()),
                &e,
            )
        })?;
        let mut r = BufReader::new(s);
        let mut line = String::new();
        r.read_line(&mut line).map_err(|e| {
            err(
                "control socket",
                format!("{}: {e}", handle.control.display()),
                &e,
            )
        })?;
        if line.trim() != "ok" {
            return Err(RuntimeError::new(
                "control socket",
                format!("events: {line:?}"),
            ));
        }
        r.get_ref().set_read_timeout(None).map_err(|e| {
            err(
                "control socket",
                format!("{}: {e}", handle.control.display()),
                &e,
            )
        })?;
        // Bytes read past the answer are the first events: handed over too.
        let already = r.buffer().to_vec();
        let watcher = ZoneEvents {
            id: spec.id,
            uniqid: spec.uniqid,
            init: handle.init_pid,
            handle: handle.clone(),
            events: self.events.clone(),
            ended: self.ended.clone(),
        };
        events::follow(r.into_inner(), &already, Box::new(watcher)).map_err(|e| {
            err(
                "events",
                format!("{}: follow: {e}", handle.control.display()),
                &e,
            )
        })
    }
}

/// One zone's event connection, followed by the events thread
/// ([`events`]): its lines become [`RuntimeEvent`]s.
struct ZoneEvents {
    id: ZoneId,
    uniqid: u64,
    /// The host pid of the current init, to name the one that exits (it
    /// cannot be looked up once it has).
    init: u32,
    handle: Handle,
    events: Arc<Mutex<Option<UnboundedSender<RuntimeEvent>>>>,
    ended: Arc<Mutex<HashSet<PathBuf>>>,
}

impl ZoneEvents {
    fn send(&self, ev: RuntimeEvent) {
        if let Some(tx) = self.events.lock().unwrap().as_ref() {
            let _ = tx.send(ev);
        }
    }
}

impl events::Watcher for ZoneEvents {
    fn line(&mut self, l: &str) {
        let (id, uniqid) = (self.id, self.uniqid);
        if let Some(p) = l.strip_prefix("init-started ") {
            // 0 when it is gone already: its init-exited follows.
            self.init = p
                .parse()
                .ok()
                .and_then(|ns| init_host_pid(&self.handle, ns))
                .unwrap_or(0);
            if self.init != 0 {
                self.send(RuntimeEvent::InitStarted {
                    id,
                    uniqid,
                    pid: self.init,
                });
            }
        } else if let Some(st) = l.strip_prefix("init-exited ") {
            let status = st.parse().unwrap_or(0);
            let pid = std::mem::take(&mut self.init);
            self.send(RuntimeEvent::InitExited {
                id,
                uniqid,
                pid,
                status,
            });
        } else if l == "empty" {
            self.send(RuntimeEvent::Empty { id, uniqid });
        }
    }

    /// The connection closes as zsched exits, before it has finished
    /// exiting (a pid namespace's init waits for every process of the
    /// namespace first): Gone is told once it has, so that whoever
    /// finishes the zone finds it dead. A zsched the runtime is ending
    /// itself is not waited for.
    fn closed(self: Box<Self>) {
        let control = &self.handle.control;
        while !self.ended.lock().unwrap().contains(control) {
            if wait_exit(&self.handle, Duration::from_secs(1)) {
                break;
            }
        }
        if !self.ended.lock().unwrap().remove(control) {
            self.send(RuntimeEvent::Gone {
                id: self.id,
                uniqid: self.uniqid,
            });
        }
    }

    fn name(&self) -> String {
        format!("zsched-gone-{}", self.id)
    }
}

fn connect(path: &Path) -> Result<UnixStream, RuntimeError> {
    UnixStream::connect(path).map_err(|e| {
        err(
            "control socket",
            format!("connect {}: {e}", path.display()),
            &e,
        )
    })
}

/// One request to zsched, one answer line (`ok [value]`).
pub fn request(
    control: &Path,
    line: &str,
    timeout: Option<Duration>,
) -> Result<String, RuntimeError> {
    let mut s = connect(control)?;
    s.set_read_timeout(timeout).ok();
    s.write_all(format!("{line}\n").as_bytes())
        .map_err(|e| err("control socket", format!("{}: {e}", control.display()), &e))?;
    let mut r = BufReader::new(s);
    let mut ans = String::new();
    r.read_line(&mut ans).map_err(|e| {
        err(
            "control socket",
            format!("{line}: {}: {e}", control.display()),
            &e,
        )
    })?;
    answer(control, line, &ans)
}

/// zsched's answer line to `line`: `ok [value]` or `err STEP\tMESSAGE\tERRNO`.
fn answer(control: &Path, line: &str, ans: &str) -> Result<String, RuntimeError> {
    let ans = ans.trim_end_matches('\n');
    if let Some(v) = ans.strip_prefix("ok") {
        return Ok(v.trim().to_string());
    }
    if let Some(e) = ans.strip_prefix("err ") {
        let mut it = e.splitn(3, '\t');
        let step = it.next().unwrap_or("zsched").to_string();
        let message = it.next().unwrap_or("").to_string();
        let errno = it.next().and_then(|x| x.parse().ok()).filter(|x| *x != 0);
        return Err(RuntimeError {
            step,
            message,
            errno,
        });
    }
    Err(RuntimeError::new(
        "control socket",
        format!(
            "{line}: zsched closed the connection ({})",
            control.display()
        ),
    ))
}

/// [`request`] that calls `tick` every 50 ms while it waits for the
/// answer, up to `timeout`.
fn request_with(
    control: &Path,
    line: &str,
    timeout: Duration,
    tick: impl Fn(),
) -> Result<String, RuntimeError> {
    let mut s = connect(control)?;
    s.set_read_timeout(Some(Duration::from_millis(50))).ok();
    s.write_all(format!("{line}\n").as_bytes())
        .map_err(|e| err("control socket", format!("{}: {e}", control.display()), &e))?;
    let deadline = std::time::Instant::now() + timeout;
    let mut r = BufReader::new(s);
    let mut ans = String::new();
    loop {
        match r.read_line(&mut ans) {
            Ok(_) => break,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) && std::time::Instant::now() < deadline =>
            {
                tick()
            }
            Err(e) => {
                return Err(err(
                    "control socket",
                    format!("{line}: {}: {e}", control.display()),
                    &e,
                ));
            }
        }
    }
    answer(control, line, &ans)
}

/// The NSpid line of a process: its pid in each namespace, host first.
pub fn nspids(pid: u32) -> Option<Vec<u32>> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let l = s.lines().find_map(|l| l.strip_prefix("NSpid:"))?;
    Some(
        l.split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect(),
    )
}

/// The host pid of the process that is `ns_pid` in zsched's namespace:
/// zsched's children first ([`init_host_pid`]), then every cgroup of the
/// zone (an entered process, a grandchild).
pub fn host_pid(handle: &Handle, ns_pid: u32) -> Option<u32> {
    init_host_pid(handle, ns_pid).or_else(|| {
        let level = nspids(handle.zsched_pid)?.len() - 1;
        handle
            .cgroups
            .iter()
            .flat_map(|d| cgroup::procs(d))
            .find(|p| nspids(*p).is_some_and(|v| v.get(level) == Some(&ns_pid)))
    })
}

/// The host pid of zsched's child that is `ns_pid` in zsched's namespace
/// (init: zsched forks it, also a systemd init in a nested pid
/// namespace; None once it has exited). The kernel lists zsched's
/// children in one file (zsched is single-threaded, so its thread's
/// children are all of them): one read and an NSpid per child, rather
/// than every cgroup of the zone (eight trees on a hybrid host) and an
/// NSpid per member, at boot and again for the init-started event. A
/// kernel without CONFIG_PROC_CHILDREN gets the cgroup walk.
pub fn init_host_pid(handle: &Handle, ns_pid: u32) -> Option<u32> {
    let level = nspids(handle.zsched_pid)?.len() - 1;
    let is = |p: &u32| nspids(*p).is_some_and(|v| v.get(level) == Some(&ns_pid));
    let children = format!("/proc/{0}/task/{0}/children", handle.zsched_pid);
    match std::fs::read_to_string(&children) {
        Ok(s) => s.split_whitespace().filter_map(|p| p.parse().ok()).find(is),
        Err(_) => handle
            .cgroups
            .iter()
            .flat_map(|d| cgroup::procs(d))
            .find(is),
    }
}

/// Thaw every cgroup of the zone's trees, parents before children (a v1
/// child is frozen while its parent is, and stays frozen by its own
/// state): `freezer.state` (v1) and `cgroup.freeze` (v2).
pub fn thaw_tree(dirs: &[PathBuf]) {
    fn walk(dir: &Path, depth: usize) {
        let state = dir.join("freezer.state");
        if std::fs::read_to_string(&state).is_ok_and(|s| s.trim() != "THAWED") {
            let _ = std::fs::write(&state, "THAWED");
        }
        let freeze = dir.join("cgroup.freeze");
        if std::fs::read_to_string(&freeze).is_ok_and(|s| s.trim() == "1") {
            let _ = std::fs::write(&freeze, "0");
        }
        if depth >= 32 {
            return;
        }
        if let Ok(rd) = std::fs::read_dir(dir) {
            for e in rd.flatten() {
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    walk(&e.path(), depth + 1);
                }
            }
        }
    }
    for d in dirs {
        walk(d, 0);
    }
}

/// zsched of this handle is alive (pid and start time match, not a
/// zombie). A zsched that is exiting is alive until it has exited.
pub fn alive(handle: &Handle) -> bool {
    handle.zsched_pid != 0 && launch::start_time(handle.zsched_pid) == Some(handle.zsched_start)
}

/// zsched of this handle is stopped (SIGSTOP from the host, or traced):
/// alive, but it answers nothing until continued.
/// (One read of its stat: the start time and the state together.)
pub fn stopped(handle: &Handle) -> bool {
    handle.zsched_pid != 0
        && crate::procstat::read(handle.zsched_pid)
            .is_some_and(|s| s.is_stopped() && s.starttime == handle.zsched_start)
}

/// zsched of this handle is exiting or gone: its control socket refuses
/// (zsched never closes its listener while it runs; a stopped or busy one
/// still accepts, the kernel queues the connection). The connect does not
/// block: a full backlog (EAGAIN) is a live zsched.
pub fn exiting(handle: &Handle) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let path = handle.control.as_os_str().as_bytes();
    // SAFETY: sockaddr_un is plain data; zeroed is a valid value.
    let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    if path.is_empty() || path.len() >= addr.sun_path.len() {
        return true;
    }
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    for (d, b) in addr.sun_path.iter_mut().zip(path) {
        *d = *b as libc::c_char;
    }
    // SAFETY: socket and connect with an address we own and its size; the
    // descriptor is ours and closed before returning.
    unsafe {
        let fd = libc::socket(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        );
        if fd < 0 {
            return false;
        }
        let r = libc::connect(
            fd,
            &addr as *const libc::sockaddr_un as *const libc::sockaddr,
            std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t,
        );
        let e = errno_now();
        libc::close(fd);
        r != 0 && matches!(e, libc::ECONNREFUSED | libc::ENOENT)
    }
}

fn errno_now() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Wait up to `timeout` for zsched of this handle to have exited; true
/// when it has (a zombie, reaped, or never there). Meanwhile, once it is
/// [`exiting`], the zone's cgroup trees are thawed and what is in them is
/// killed: a pid namespace's init finishes exiting only once every
/// process of its namespace has, and a frozen one would hold it for ever.
/// A zsched that is merely stopped or slow is not dead: this returns
/// false for it, and leaves its zone alone.
pub fn wait_exit(handle: &Handle, timeout: Duration) -> bool {
    if handle.zsched_pid == 0 {
        return true;
    }
    // SAFETY: pidfd_open takes plain integers; the descriptor it returns is
    // ours and closed below.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, handle.zsched_pid as i32, 0) } as i32;
    if pidfd < 0 {
        return !alive(handle);
    }
    // The descriptor is for whatever process has the pid now: it is
    // zsched's only while zsched lives (pid and start time; one check,
    // after the open, covers a zsched gone before it and a reused pid).
    if !alive(handle) {
        // SAFETY: the descriptor was opened above and is not used again.
        unsafe { libc::close(pidfd) };
        return true;
    }
    let deadline = std::time::Instant::now() + timeout;
    let exited = loop {
        let mut pfd = libc::pollfd {
            fd: pidfd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: poll on one pollfd we own. A pidfd is readable once the
        // process has exited.
        if unsafe { libc::poll(&mut pfd, 1, 50) } > 0 {
            break true;
        }
        if std::time::Instant::now() >= deadline {
            break false;
        }
        // Only an exiting zsched needs its zone emptied for it.
        if !stopped(handle) && exiting(handle) {
            thaw_tree(&handle.cgroups);
            for p in handle.cgroups.iter().flat_map(|d| cgroup::procs(d)) {
                if p != handle.zsched_pid {
                    // SAFETY: kill takes plain integers.
                    unsafe { libc::kill(p as i32, libc::SIGKILL) };
                }
            }
        }
    };
    // SAFETY: the descriptor was opened above and is not used again.
    unsafe { libc::close(pidfd) };
    exited
}

/// A request to zsched failed: it is an error only while zsched lives.
/// One that still accepts connections is alive (slow, or stopped), and
/// its error stands; one that is exiting is given `grace` to finish (its
/// socket refuses before it has).
fn unless_dead(handle: &Handle, e: RuntimeError, grace: Duration) -> Result<(), RuntimeError> {
    if alive(handle) && !exiting(handle) {
        return Err(e);
    }
    if wait_exit(handle, grace) {
        Ok(())
    } else {
        Err(e)
    }
}

impl Runtime for LinuxRuntime {
    fn install(
        &self,
        zone: &str,
        brand: crate::zone::Brand,
        root: &std::path::Path,
    ) -> Result<(), RuntimeError> {
        lifecycle_install(zone, brand, root)
    }

    fn uninstall(&self, root: &std::path::Path) -> Result<(), RuntimeError> {
        install::uninstall(root).map_err(|e| err("uninstall", e.to_string(), &e))?;
        osinstall::clear_incomplete(root).map_err(|e| err("uninstall", e.to_string(), &e))
    }

    /// Installed: populated, and not what an interrupted OS install left
    /// (an `incomplete` zone, [`osinstall`]), which boots nowhere.
    fn is_installed(&self, root: &std::path::Path) -> bool {
        !osinstall::is_incomplete(root)
            && std::fs::read_dir(root).is_ok_and(|mut d| d.next().is_some())
    }

    fn clone_root(
        &self,
        zone: &str,
        from: &std::path::Path,
        to: &std::path::Path,
    ) -> Result<(), RuntimeError> {
        install::clone(from, to, zone).map_err(|e| err("clone", unzone(zone, &e), &e))
    }

    fn nested_root(
        &self,
        parent_root: &std::path::Path,
        root: &std::path::Path,
    ) -> Result<std::path::PathBuf, RuntimeError> {
        inroot::nested_root(parent_root, root).map_err(|e| err("path", e.to_string(), &e))
    }

    fn ready(&self, spec: &ZoneSpec) -> Result<Handle, RuntimeError> {
        inroot::check_zone_root(spec)?;
        let zsched = self.zsched_path()?;
        let caps = caps::zone_set(&spec.params)?;
        std::fs::create_dir_all(&self.run_dir).map_err(|e| {
            err(
                "control socket",
                format!("mkdir {}: {e}", self.run_dir.display()),
                &e,
            )
        })?;
        let control = self
            .run_dir
            .join(format!("{}-{}.sock", spec.id, spec.uniqid));
        // The launcher: the one started ahead ([`spare`]), else one started
        // now, whose loader, libraries and start then run while the
        // cgroups are made here (one mkdir per hierarchy and the device
        // rules). The next one is started in the background once this
        // ready is done.
        let _next = self.spare.as_deref().map(|s| NextSpare(s, &zsched));
        let mut child = match self.spare.as_ref().and_then(|s| s.take(&zsched)) {
            Some(child) => child,
            None => spare::start(&zsched, &self.run_dir, false)
                .map_err(|e| err("launch", format!("run {}: {e}", zsched.display()), &e))?,
        };
        let mut stdin = child.stdin.take().expect("piped stdin");
        // The request's first part, before the cgroups are made: the
        // launcher binds the control socket and makes the view directory
        // meanwhile ([`launch::main`]). A failure before the second part
        // is sent closes its stdin there: it undoes that, answers, exits.
        let head = launch::LaunchRequest {
            spec: spec.clone(),
            cgroups: Vec::new(),
            control: control.clone(),
            caps,
        };
        let wrote_head = match serde_json::to_vec(&head) {
            Ok(mut line) => {
                line.push(b'\n');
                stdin.write_all(&line)
            }
            Err(e) => {
                drop(stdin);
                let _ = child.wait_with_output();
                return Err(RuntimeError::new("launch", e.to_string()));
            }
        };
        let cgroups = match self.make_cgroups(spec) {
            Ok(c) => c,
            Err(e) => {
                drop(stdin);
                let _ = child.wait_with_output();
                return Err(e);
            }
        };
        crate::state::crash_point("ready.cgroups");
        let fail = |e: RuntimeError| {
            let _ = cgroup::remove(&cgroups);
            let _ = std::fs::remove_file(&control);
            view::remove(&control);
            e
        };
        // The second part: the cgroups, and the end of the request.
        let wrote = wrote_head.and_then(|()| {
            let body = serde_json::to_vec(&cgroups).map_err(std::io::Error::other)?;
            stdin.write_all(&body)
        });
        drop(stdin);
        let out = child
            .wait_with_output()
            .map_err(|e| fail(err("launch", format!("wait for zsched launch: {e}"), &e)))?;
        wrote.map_err(|e| fail(err("launch", format!("send the request: {e}"), &e)))?;
        let launched =
            launch::decode_answer(&String::from_utf8_lossy(&out.stdout)).map_err(fail)?;
        let handle = Handle {
            zsched_pid: launched.pid,
            zsched_start: launched.start,
            cgroups,
            control,
            init_pid: 0,
        };
        crate::state::crash_point("ready.launched");
        let undo = |e: RuntimeError| {
            let _ = self.end(&handle);
            e
        };
        // The event connection's `ok` is zsched's first answer (what a
        // separate ping would prove, one round trip less per zone).
        self.watch(spec, &handle).map_err(undo)?;
        Ok(handle)
    }

    fn boot(
        &self,
        spec: &ZoneSpec,
        handle: &Handle,
        start_init: bool,
    ) -> Result<u32, RuntimeError> {
        if !start_init {
            request(&handle.control, "run", Some(Duration::from_secs(10)))?;
            return Ok(0);
        }
        let params = serde_json::to_string(&spec.params)
            .map_err(|e| RuntimeError::new("boot", format!("parameters: {e}")))?;
        let v = request(
            &handle.control,
            &format!("boot {params}"),
            Some(Duration::from_secs(30)),
        )?;
        let ns_pid: u32 = v
            .parse()
            .map_err(|_| RuntimeError::new("boot", format!("bad answer from zsched: {v:?}")))?;
        // init may already have exited (a jail's one-shot command).
        Ok(init_host_pid(handle, ns_pid).unwrap_or(0))
    }

    fn shutdown(&self, handle: &Handle, timeout: Duration) -> Result<(), RuntimeError> {
        if stopped(handle) {
            // Stopped from the host: the administrator's halt continues it
            // (a zone process cannot stop its pid 1).
            // SAFETY: kill takes plain integers.
            unsafe { libc::kill(handle.zsched_pid as i32, libc::SIGCONT) };
        }
        if alive(handle) && !handle.control.as_os_str().is_empty() && !handle.control.exists() {
            // Its control socket was removed (a run directory wiped while
            // the zone ran): zsched cannot be asked, so the halt the
            // administrator asked for ends it, and its namespace with it.
            tracing::warn!(
                zsched = handle.zsched_pid,
                "{}: missing; the zone is stopped by killing its zsched",
                handle.control.display()
            );
            // SAFETY: kill takes plain integers.
            unsafe { libc::kill(handle.zsched_pid as i32, libc::SIGKILL) };
            wait_exit(handle, Duration::from_secs(5));
        }
        if alive(handle) {
            // A zone allowed to mount may have frozen some of its own
            // processes (or its whole cgroup) in a freezer of its own; on
            // a v1 hierarchy they do not die of SIGKILL until thawed, and
            // zsched would wait for them for ever. So the zone's cgroup
            // trees are thawed every 50 ms while zsched stops the zone
            // (again and again: a zone process may freeze others until it
            // is killed itself); a zone that stops at once is not touched.
            // zsched killed meanwhile (or before: its socket refuses) is
            // no error: the zone is stopped through its cgroups below.
            if let Err(e) = request_with(
                &handle.control,
                &format!("shutdown {}", timeout.as_secs()),
                timeout + Duration::from_secs(10),
                || thaw_tree(&handle.cgroups),
            ) {
                unless_dead(handle, e, Duration::from_secs(5))?;
            }
        }
        // Whatever is still in the cgroups (a process that left the pid
        // namespace's reach) is killed through them.
        let except = alive(handle).then_some(handle.zsched_pid);
        cgroup::kill_all(&handle.cgroups, except);
        Ok(())
    }

    fn down(&self, handle: &Handle) -> Result<(), RuntimeError> {
        if !alive(handle) {
            return Ok(());
        }
        match request(&handle.control, "down", Some(Duration::from_secs(30))) {
            Ok(_) => Ok(()),
            // A dead zsched's namespaces went with it: nothing to release.
            Err(e) => unless_dead(handle, e, Duration::from_secs(5)),
        }
    }

    fn destroy(&self, handle: &Handle) -> Result<(), RuntimeError> {
        self.end(handle)
    }

    fn update(&self, handle: &Handle, changed: &Params) -> Result<(), RuntimeError> {
        let v2 = cgroup::detect().ok() == Some(cgroup::Layout::V2);
        let ctl: Vec<PathBuf> = handle
            .cgroups
            .iter()
            .filter(|d| v2 || !d.starts_with("/sys/fs/cgroup/unified"))
            .cloned()
            .collect();
        for n in ["host.hostname", "host.domainname"] {
            if changed
                .str(n)
                .is_some_and(|v| v.contains(['\n', '\0']) || v.len() > 64)
            {
                return Err(RuntimeError::new(
                    "hostname",
                    format!("{n}: not a valid name"),
                ));
            }
        }
        cgroup::apply(&ctl, changed, v2)?;
        if let Some(n) = changed.int("zone.max-locked-memory") {
            launch::set_memlock(handle.zsched_pid, n)?;
        }
        if let Some(h) = changed.str("host.hostname") {
            request(
                &handle.control,
                &format!("hostname {h}"),
                Some(Duration::from_secs(10)),
            )?;
        }
        if let Some(d) = changed.str("host.domainname") {
            request(
                &handle.control,
                &format!("domainname {d}"),
                Some(Duration::from_secs(10)),
            )?;
        }
        Ok(())
    }

    fn refs(&self, _id: ZoneId, handle: &Handle) -> KernelRefs {
        refs::kernel_refs(handle)
    }

    fn view(&self, zones: &[crate::runtime::ViewTick]) {
        view::refresh_all(zones);
    }

    fn kstat_source(&self) -> Option<Box<dyn crate::kstat::Source>> {
        Some(Box::new(crate::kstat::source::LinuxSource::new()))
    }

    fn nofile_limit(&self) -> u64 {
        crate::kstat::source::nofile_limit()
    }

    fn adopt(&self, spec: &ZoneSpec, handle: &Handle) -> Adopted {
        if alive(handle) {
            if !stopped(handle)
                && let Ok(status) = request(&handle.control, "status", Some(Duration::from_secs(5)))
            {
                // init may have been restarted while no engine ran.
                let mut it = status
                    .split_whitespace()
                    .map(|x| x.parse::<u32>().unwrap_or(0));
                let (ns_init, users) = (it.next().unwrap_or(0), it.next().unwrap_or(0));
                let mut h = handle.clone();
                h.init_pid = if ns_init == 0 {
                    0
                } else {
                    init_host_pid(handle, ns_init).unwrap_or(0)
                };
                if self.watch(spec, &h).is_ok() {
                    return Adopted::Alive {
                        handle: h,
                        user_procs: users > 0,
                    };
                }
            }
            // Alive but not answering now: stopped, slow, or its socket
            // file removed. Never taken for dead: adopted as recorded,
            // and followed once it answers (or told Gone once it exits).
            tracing::warn!(
                zone = %spec.name,
                zsched = handle.zsched_pid,
                "zsched lives but does not answer on {}; adopted as recorded",
                handle.control.display()
            );
            self.watch_later(spec, handle);
            return Adopted::Alive {
                handle: handle.clone(),
                user_procs: true,
            };
        }
        cgroup::kill_all(&handle.cgroups, None);
        wait_exit(handle, Duration::from_secs(5));
        let _ = cgroup::remove(&handle.cgroups);
        let _ = std::fs::remove_file(&handle.control);
        view::remove(&handle.control);
        let _ = std::fs::remove_file(cpuset::marker(&handle.control));
        Adopted::Gone
    }

    fn traces(&self) -> Vec<Trace> {
        self.find_traces()
    }

    fn trace_of(&self, spec: &ZoneSpec) -> Trace {
        self.trace_for(spec)
    }

    fn sweep(&self, trace: &Trace) {
        self.sweep_trace(trace)
    }

    fn rebuild(&self, trace: &Trace) -> Option<(Handle, Params)> {
        self.rebuild_trace(trace)
    }

    fn subscribe(&self, events: UnboundedSender<RuntimeEvent>) {
        *self.events.lock().unwrap() = Some(events);
    }
}

impl LinuxRuntime {
    /// Follow a zone whose zsched lives but did not answer at adoption: a
    /// thread tries its events every second until it answers (then
    /// [`LinuxRuntime::watch`] follows it) or has exited (then the zone is
    /// [`RuntimeEvent::Gone`]). A stopped zsched is not asked (it would
    /// hold the request for as long as it stays stopped).
    fn watch_later(&self, spec: &ZoneSpec, handle: &Handle) {
        let me = LinuxRuntime {
            run_dir: self.run_dir.clone(),
            cgroup_root: self.cgroup_root.clone(),
            zsched: self.zsched.clone(),
            events: self.events.clone(),
            ended: self.ended.clone(),
            spare: self.spare.clone(),
        };
        let name = spec.name.clone();
        let (spec, handle) = (spec.clone(), handle.clone());
        let spawned = std::thread::Builder::new()
            .name(format!("zsched-adopt-{}", spec.id))
            .spawn(move || {
                loop {
                    if wait_exit(&handle, Duration::from_secs(1)) {
                        if !me.ended.lock().unwrap().remove(&handle.control)
                            && let Some(tx) = me.events.lock().unwrap().as_ref()
                        {
                            let _ = tx.send(RuntimeEvent::Gone {
                                id: spec.id,
                                uniqid: spec.uniqid,
                            });
                        }
                        return;
                    }
                    if me.ended.lock().unwrap().contains(&handle.control) {
                        return;
                    }
                    if !stopped(&handle)
                        && handle.control.exists()
                        && request(&handle.control, "ping", Some(Duration::from_secs(1))).is_ok()
                        && me.watch(&spec, &handle).is_ok()
                    {
                        tracing::info!(zone = %spec.name, "zsched answers again: followed");
                        return;
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(zone = %name, "following zsched later: {e}");
        }
    }

    /// End zsched, empty and remove the cgroups, remove the socket. A
    /// zsched that is gone already (its socket refuses) is not asked: its
    /// zone is emptied through the cgroups; one that is stopped is
    /// continued first, so that it can exit.
    fn end(&self, handle: &Handle) -> Result<(), RuntimeError> {
        self.ended.lock().unwrap().insert(handle.control.clone());
        if stopped(handle) {
            // SAFETY: kill takes plain integers.
            unsafe { libc::kill(handle.zsched_pid as i32, libc::SIGCONT) };
        }
        if alive(handle) {
            // zsched is not our child: wait_exit watches its exit through
            // a pidfd.
            let _ = request(&handle.control, "exit", Some(Duration::from_secs(5)));
            wait_exit(handle, Duration::from_secs(5));
            if alive(handle) {
                // SAFETY: kill takes plain integers.
                unsafe { libc::kill(handle.zsched_pid as i32, libc::SIGKILL) };
                wait_exit(handle, Duration::from_secs(5));
            }
        }
        let r = cgroup::remove(&handle.cgroups);
        let _ = std::fs::remove_file(&handle.control);
        view::remove(&handle.control);
        let _ = std::fs::remove_file(cpuset::marker(&handle.control));
        r
    }
}

/// The entry point of the zsched binary: `launch` or `supervise`.
pub fn zsched_main() -> ! {
    match std::env::args().nth(1).as_deref() {
        Some("launch") => launch::main(),
        Some("supervise") => zsched::main(),
        _ => {
            eprintln!(
                "zsched: run by the zones runtime only (zsched launch | zsched supervise ...)"
            );
            std::process::exit(2)
        }
    }
}

/// zoneadm install for a brand: a sparse skeleton; for a whole zone the
/// private directory an OS tree is then put into (its root is used as it
/// is).
fn lifecycle_install(
    zone: &str,
    brand: crate::zone::Brand,
    root: &std::path::Path,
) -> Result<(), RuntimeError> {
    match brand {
        crate::zone::Brand::Sparse => {
            install::sparse(root, zone).map_err(|e| err("install", unzone(zone, &e), &e))
        }
        crate::zone::Brand::Whole => inroot::prepare(zone, root)
            .map(drop)
            .map_err(|m| RuntimeError::new("install", unzone(zone, &m))),
    }
}

/// A message of `inroot` without its `zone 'NAME': ` (the engine's error
/// names the zone).
fn unzone(zone: &str, e: &dyn std::fmt::Display) -> String {
    let s = e.to_string();
    s.strip_prefix(&format!("zone '{zone}': "))
        .map_or_else(|| s.clone(), str::to_string)
}
