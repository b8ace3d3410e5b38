//! # runc's command line, answered by zones
//!
//! The surface containerd's runc shim (io.containerd.runc.v2) and Podman's
//! conmon use, with runc's exit codes (1 for a failed operation, 255 for
//! a failed `exec`, 3 for an unknown command) and runc's error texts
//! where a caller matches on them ("container does not exist",
//! "container not running", ...). An error goes to stderr as runc's
//! logrus text line (`time="..." level=error msg="..."`); with `--log
//! FILE` it is also appended to FILE, one JSON object per line
//! (`{"level":"error","msg":"...","time":"..."}`) with `--log-format
//! json`: the runc shim reads the last error of that file and returns
//! it to containerd's client.
//!
//! Global options: `--root DIR` (default /run/zones-oci), `--log FILE`,
//! `--log-format text|json`, `--debug`; `--systemd-cgroup` is accepted
//! and ignored (zones keep their cgroups where the engine puts them:
//! `$ZONES_CGROUP_ROOT`, default /zones), as are `--rootless` and
//! `--criu`. The engine is found as every tool finds it:
//! `$ZONED_SOCKET`, `$ZONES_STATE_DIR`, `$ZONES_CGROUP_ROOT`.
//!
//! Hidden commands `_hold` and `_run` are the container's process holder
//! and an exec'd process (module comment of [`super`]); they are this
//! binary started again, so nothing forks a multithreaded process.

use super::spec::{self, Hook, Process};
use super::state::{self, Dir, Record, Status};
use super::{valid_id, zone_name};
use crate::api::{Endpoint, Zones};
use crate::engine::Caller;
use crate::runtime::linux::enter::{EnterOpts, run_with};
use crate::zone::ZoneId;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The default `--root`.
pub const DEFAULT_ROOT: &str = "/run/zones-oci";
/// The OCI runtime spec version we speak.
pub const OCI_VERSION: &str = "1.0.2";

/// The global options.
#[derive(Clone, Debug)]
pub struct Global {
    pub root: PathBuf,
    pub log: Option<PathBuf>,
    pub json: bool,
    pub debug: bool,
}

impl Global {
    /// Log `msg` at `level` to the --log file (runc's formats).
    fn log(&self, level: &str, msg: &str) {
        let Some(p) = &self.log else { return };
        let now = state::rfc3339_now();
        let now = format!("{}Z", &now[..19]);
        let line = if self.json {
            serde_json::json!({"level": level, "msg": msg, "time": now}).to_string()
        } else {
            format!("time={now:?} level={level} msg={msg:?}")
        };
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
        {
            let _ = writeln!(f, "{line}");
        }
    }

    fn debug(&self, msg: &str) {
        if self.debug {
            self.log("debug", msg);
        }
    }

    /// Report `msg` as runc does and exit with `code`.
    fn fail(&self, msg: impl std::fmt::Display, code: i32) -> ! {
        let msg = msg.to_string();
        self.log("error", &msg);
        if self.log.is_some() {
            eprintln!("{msg}");
        } else {
            let now = state::rfc3339_now();
            eprintln!("time=\"{}Z\" level=error msg={msg:?}", &now[..19]);
        }
        std::process::exit(code)
    }
}

/// A command's options: which take a value, which are flags; the rest
/// are positional. Unknown options are refused as runc refuses them.
struct Opts {
    vals: BTreeMap<&'static str, Vec<String>>,
    flags: Vec<&'static str>,
    pos: Vec<String>,
}

impl Opts {
    /// `valued` and `flags` list `long` or `long|s` (a short alias).
    fn parse(
        g: &Global,
        args: &[String],
        valued: &[&'static str],
        flags: &[&'static str],
        stop_at_second_positional: bool,
    ) -> Opts {
        let find = |set: &[&'static str], k: &str| -> Option<&'static str> {
            set.iter().copied().find(|d| {
                let mut parts = d.split('|');
                let long = parts.next().unwrap();
                long == k || parts.next() == Some(k)
            })
        };
        let mut o = Opts {
            vals: BTreeMap::new(),
            flags: Vec::new(),
            pos: Vec::new(),
        };
        let mut i = 0;
        while i < args.len() {
            let a = &args[i];
            if a == "--" {
                o.pos.extend(args[i + 1..].iter().cloned());
                break;
            }
            if stop_at_second_positional && !o.pos.is_empty() {
                o.pos.extend(args[i..].iter().cloned());
                break;
            }
            let name = a
                .strip_prefix("--")
                .or_else(|| a.strip_prefix('-').filter(|s| !s.is_empty()));
            let Some(name) = name else {
                o.pos.push(a.clone());
                i += 1;
                continue;
            };
            // A signal given as `-9` or `-KILL` is not an option.
            if a.starts_with('-') && !a.starts_with("--") && !o.pos.is_empty() {
                o.pos.push(a.clone());
                i += 1;
                continue;
            }
            let (k, inline) = match name.split_once('=') {
                Some((k, v)) => (k, Some(v.to_string())),
                None => (name, None),
            };
            if let Some(d) = find(valued, k) {
                let v = inline.unwrap_or_else(|| {
                    i += 1;
                    args.get(i)
                        .cloned()
                        .unwrap_or_else(|| g.fail(format!("flag needs an argument: -{k}"), 1))
                });
                let key = d.split('|').next().unwrap();
                o.vals.entry(key_of(valued, key)).or_default().push(v);
            } else if let Some(d) = find(flags, k) {
                let key = d.split('|').next().unwrap();
                let on = inline.as_deref().is_none_or(|v| v != "false");
                if on {
                    o.flags.push(key_of(flags, key));
                }
            } else {
                g.fail(format!("flag provided but not defined: -{k}"), 1)
            }
            i += 1;
        }
        o
    }
    fn val(&self, k: &str) -> Option<String> {
        self.vals.get(k).and_then(|v| v.last().cloned())
    }
    fn all(&self, k: &str) -> Vec<String> {
        self.vals.get(k).cloned().unwrap_or_default()
    }
    fn flag(&self, k: &str) -> bool {
        self.flags.contains(&k)
    }
}

fn key_of(set: &[&'static str], long: &str) -> &'static str {
    set.iter()
        .map(|d| d.split('|').next().unwrap())
        .find(|l| *l == long)
        .unwrap()
}

const USAGE: &str = "zones-oci: an OCI runtime over zones (runc's command line)

usage: zones-oci [global options] command [command options] [arguments...]

commands: create, start, run, state, kill, delete, exec, ps, features
global options: --root DIR, --log FILE, --log-format text|json, --debug,
  --systemd-cgroup (accepted, ignored), --version, --help";

/// zones-oci's main.
pub fn main() -> ! {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut g = Global {
        root: PathBuf::from(DEFAULT_ROOT),
        log: None,
        json: false,
        debug: false,
    };
    let mut i = 0;
    while i < argv.len() {
        let a = &argv[i];
        if !a.starts_with('-') {
            break;
        }
        let name = a.trim_start_matches('-');
        let (k, inline) = match name.split_once('=') {
            Some((k, v)) => (k, Some(v.to_string())),
            None => (name, None),
        };
        let mut val = || {
            inline.clone().unwrap_or_else(|| {
                i += 1;
                argv.get(i)
                    .cloned()
                    .unwrap_or_else(|| g.fail(format!("flag needs an argument: -{k}"), 1))
            })
        };
        match k {
            "root" => g.root = PathBuf::from(val()),
            "log" => g.log = Some(PathBuf::from(val())),
            "log-format" => {
                let f = val();
                g.json = match f.as_str() {
                    "json" => true,
                    "text" => false,
                    _ => g.fail(format!("invalid log-format: {f}"), 1),
                }
            }
            "criu" | "rootless" => {
                val();
            }
            "systemd-cgroup" | "no-pivot" => {}
            "debug" => g.debug = true,
            "version" | "v" => {
                crate::outln!(
                    "zones-oci version {}\nspec: {OCI_VERSION}",
                    env!("CARGO_PKG_VERSION")
                );
                std::process::exit(0)
            }
            "help" | "h" => {
                crate::outln!("{USAGE}");
                std::process::exit(0)
            }
            _ => g.fail(format!("flag provided but not defined: -{k}"), 1),
        }
        i += 1;
    }
    let Some(cmd) = argv.get(i).cloned() else {
        crate::outln!("{USAGE}");
        std::process::exit(0)
    };
    let rest = &argv[i + 1..];
    g.debug(&format!("{cmd} {rest:?}"));
    match cmd.as_str() {
        "create" => create(&g, rest, false),
        "run" => create(&g, rest, true),
        "start" => start(&g, rest),
        "state" => state_cmd(&g, rest),
        "kill" => kill(&g, rest),
        "delete" => delete(&g, rest),
        "exec" => exec(&g, rest),
        "ps" => ps(&g, rest),
        "features" => features(),
        "_hold" => hold(&g, rest),
        "_run" => run_exec(&g, rest),
        "help" => {
            crate::outln!("{USAGE}");
            std::process::exit(0)
        }
        _ => g.fail(format!("No help topic for '{cmd}'"), 3),
    }
    std::process::exit(0)
}

fn root_caller() -> Caller {
    Caller {
        // SAFETY: geteuid has no preconditions and cannot fail.
        uid: unsafe { libc::geteuid() },
        zone: ZoneId::GLOBAL,
    }
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

async fn open_engine(g: &Global) -> Zones {
    crate::api::open(&Endpoint::resolve(None, None, None))
        .await
        .unwrap_or_else(|e| g.fail(format!("zones engine: {e}"), 1))
}

fn one_id(g: &Global, pos: &[String], cmd: &str) -> String {
    match pos {
        [id] => {
            if !valid_id(id) {
                g.fail(format!("invalid container id format: {id}"), 1)
            }
            id.clone()
        }
        [] => g.fail(format!("\"{cmd}\" requires exactly 1 argument(s)"), 1),
        _ => g.fail(format!("\"{cmd}\" requires exactly 1 argument(s)"), 1),
    }
}

/// The container's directory and record, or runc's "does not exist".
fn existing(g: &Global, id: &str, prefix: &str) -> (Dir, Record) {
    let d = Dir::new(&g.root, id);
    if !d.exists() {
        g.fail(format!("{prefix}container does not exist"), 1)
    }
    let r = d.read().unwrap_or_else(|e| g.fail(e, 1));
    (d, r)
}

/// The OCI state of a container, in runc's field order.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct OciState<'a> {
    oci_version: &'static str,
    id: &'a str,
    pid: u32,
    status: &'static str,
    bundle: &'a Path,
    rootfs: &'a Path,
    created: &'a str,
    owner: &'a str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    annotations: &'a BTreeMap<String, String>,
}

/// The OCI state of a container as runc prints it.
fn state_json(d: &Dir, r: &Record) -> serde_json::Value {
    let status = d.status(r);
    let pid = match status {
        Status::Running => state::program_pid(r.holder_pid).unwrap_or(r.holder_pid),
        Status::Created => r.holder_pid,
        _ => 0,
    };
    serde_json::to_value(state_of(r, status, pid)).unwrap()
}

fn state_of(r: &Record, status: Status, pid: u32) -> OciState<'_> {
    OciState {
        oci_version: OCI_VERSION,
        id: &r.id,
        pid,
        status: status.as_str(),
        bundle: &r.bundle,
        rootfs: &r.rootfs,
        created: &r.created,
        owner: &r.owner,
        annotations: &r.annotations,
    }
}

/// Run hooks with the container's state on stdin; the first that fails
/// or outlives its timeout is the error (naming it).
fn run_hooks(hooks: &[Hook], state: &serde_json::Value, which: &str) -> Result<(), String> {
    for h in hooks {
        let mut c = Command::new(&h.path);
        if let Some(a0) = h.args.first() {
            use std::os::unix::process::CommandExt;
            c.arg0(a0);
            c.args(&h.args[1..]);
        }
        c.env_clear();
        for kv in &h.env {
            if let Some((k, v)) = kv.split_once('=') {
                c.env(k, v);
            }
        }
        c.stdin(Stdio::piped()).stdout(Stdio::null());
        let mut child = c
            .spawn()
            .map_err(|e| format!("{which} hook {}: {e}", h.path))?;
        if let Some(mut si) = child.stdin.take() {
            let _ = si.write_all(state.to_string().as_bytes());
        }
        let deadline = h
            .timeout
            .map(|t| std::time::Instant::now() + std::time::Duration::from_secs(t));
        loop {
            match child.try_wait() {
                Ok(Some(st)) if st.success() => break,
                Ok(Some(st)) => return Err(format!("{which} hook {}: {st}", h.path)),
                Ok(None) => {}
                Err(e) => return Err(format!("{which} hook {}: {e}", h.path)),
            }
            if deadline.is_some_and(|d| std::time::Instant::now() > d) {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{which} hook {}: timed out", h.path));
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }
    Ok(())
}

/// A pty of the zone's own devpts (its /dev/ptmx, opened through the
/// zone's root as zlogin opens it: [`crate::runtime::linux::enter`]), so
/// the program's terminal is the zone's /dev/pts/N; the master goes to
/// `socket` with SCM_RIGHTS (runc's --console-socket), the slave is
/// returned for the process's stdio.
fn console(socket: &Path, h: &crate::runtime::Handle) -> Result<OwnedFd, String> {
    use nix::sys::socket::{ControlMessage, MsgFlags, sendmsg};
    use std::os::fd::FromRawFd;
    let root = std::fs::File::open(format!("/proc/{}/root", h.zsched_pid))
        .map_err(|e| format!("the zone's root (zsched pid {}): {e}", h.zsched_pid))?;
    let master = crate::runtime::linux::enter::open_in_root(
        root.as_raw_fd(),
        "/dev/ptmx",
        libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
    )
    .map_err(|e| format!("open the zone's /dev/ptmx: {e}"))?;
    let zero: libc::c_int = 0;
    // SAFETY: ioctl on a descriptor we own with a pointer to a local.
    if unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSPTLCK, &zero) } != 0 {
        return Err(format!("unlockpt: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: ioctl on a descriptor we own; an integer argument.
    let slave = unsafe {
        libc::ioctl(
            master.as_raw_fd(),
            libc::TIOCGPTPEER,
            libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
        )
    };
    if slave < 0 {
        return Err(format!("TIOCGPTPEER: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: the descriptor was just returned by the kernel and nothing
    // else owns it.
    let slave = unsafe { OwnedFd::from_raw_fd(slave) };
    crate::runtime::linux::userns::own_pty(h.zsched_pid as i32, slave.as_raw_fd())
        .map_err(|e| format!("the zone's pty: {e}"))?;
    let stream = std::os::unix::net::UnixStream::connect(socket)
        .map_err(|e| format!("connect {}: {e}", socket.display()))?;
    let fds = [master.as_raw_fd()];
    let name = b"/dev/ptmx";
    let iov = [std::io::IoSlice::new(name)];
    sendmsg::<()>(
        stream.as_raw_fd(),
        &iov,
        &[ControlMessage::ScmRights(&fds)],
        MsgFlags::empty(),
        None,
    )
    .map_err(|e| format!("send the console to {}: {e}", socket.display()))?;
    Ok(slave)
}

fn write_pid_file(g: &Global, path: Option<String>, pid: u32) {
    if let Some(p) = path {
        state::write_atomic(Path::new(&p), pid.to_string().as_bytes())
            .unwrap_or_else(|e| g.fail(e, 1));
    }
}

/// Start this binary again as `sub` with `args`, on `stdio` or ours.
fn respawn(
    sub: &str,
    args: &[&str],
    tty: Option<&OwnedFd>,
) -> std::io::Result<std::process::Child> {
    let mut c = Command::new("/proc/self/exe");
    c.arg(sub).args(args);
    if let Some(t) = tty {
        c.stdin(t.try_clone()?)
            .stdout(t.try_clone()?)
            .stderr(t.try_clone()?);
    }
    c.spawn()
}

fn create(g: &Global, args: &[String], and_start: bool) {
    let o = Opts::parse(
        g,
        args,
        &[
            "bundle|b",
            "pid-file",
            "console-socket",
            "preserve-fds",
            "notify-socket",
        ],
        &[
            "no-pivot",
            "no-new-keyring",
            "detach|d",
            "keep",
            "no-subreaper",
        ],
        false,
    );
    let id = one_id(g, &o.pos, if and_start { "run" } else { "create" });
    let bundle = o
        .val("bundle")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::current_dir().unwrap_or_default());
    let bundle = std::fs::canonicalize(&bundle).unwrap_or(bundle);
    let spec = spec::load(&bundle).unwrap_or_else(|e| g.fail(e, 1));
    let rootfs = spec::rootfs(&spec, &bundle).unwrap_or_else(|e| g.fail(e, 1));
    for n in spec::refused(&spec).unwrap_or_else(|e| g.fail(e, 1)) {
        g.log("warning", &n);
    }
    if let Some(p) = &spec.process {
        let (_, notes) = spec::extra(p).unwrap_or_else(|e| g.fail(e, 1));
        for n in notes {
            g.log("warning", &n);
        }
    }
    let zname = zone_name(&id);
    let _ = std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&g.root);
    let d = Dir::new(&g.root, &id);
    if let Err(e) = std::fs::DirBuilder::new().mode(0o700).create(&d.path) {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            g.fail(format!("container with id exists: {id}"), 1)
        }
        g.fail(
            format!("mkdir {}: {}", d.path.display(), crate::tool::os_msg(&e)),
            1,
        )
    }
    let mut rec = Record {
        id: id.clone(),
        zone: zname.clone(),
        bundle: bundle.clone(),
        rootfs: rootfs.clone(),
        created: state::rfc3339_now(),
        holder_pid: 0,
        holder_start: 0,
        annotations: spec.annotations.clone(),
        hooks: spec.hooks.clone(),
        owner: String::new(),
    };
    // Undo everything made so far, then fail.
    let undo = |g: &Global, msg: String, zone: bool| -> ! {
        if zone {
            let rt = tokio_rt();
            rt.block_on(async {
                let z = open_engine(g).await;
                let _ = z.halt_zone(&root_caller(), &zname).await;
            });
        }
        let _ = state::remove(&d);
        g.fail(msg, 1)
    };
    if let Err(e) = d.write(&rec) {
        undo(g, e, false)
    }
    // The zone's path: the rootfs bound beneath the container's private
    // directory (state's module comment).
    let readonly = spec.root.as_ref().is_some_and(|r| r.readonly);
    if let Err(e) = state::bind_rootfs(&d, &rootfs, readonly) {
        undo(g, e, false)
    }
    let mut params = match spec::zone_params(&spec, &zname, &d.rootfs()) {
        Ok(p) => p,
        Err(e) => undo(g, e, false),
    };
    match spec::mount_lines(&spec, &d.rootfs(), &rootfs) {
        Ok((lines, notes)) => {
            for n in notes {
                g.debug(&n);
            }
            if !lines.is_empty()
                && let Err(e) = params.set_text("mount", &lines)
            {
                undo(g, format!("config.json: mounts: {e}"), false)
            }
        }
        Err(e) => undo(g, e, false),
    }
    if let Err(e) = seccomp_param(&spec, &d, &mut params) {
        undo(g, e, false)
    }
    let rt = tokio_rt();
    let made = rt.block_on(async {
        let z = open_engine(g).await;
        let c = root_caller();
        let id = z.create(&c, params).await?;
        z.jail_attach(&c, id).await.map(|a| a.handle)
    });
    drop(rt);
    let handle = match made {
        Ok(h) => h,
        Err(e) => undo(g, format!("zone '{zname}': {}", e.unzoned(&zname)), true),
    };
    if let Err(e) = nix::unistd::mkfifo(&d.fifo(), nix::sys::stat::Mode::from_bits_truncate(0o600))
    {
        undo(g, format!("mkfifo {}: {e}", d.fifo().display()), true)
    }
    let tty = match (
        spec.process.as_ref().is_some_and(|p| p.terminal),
        o.val("console-socket"),
    ) {
        (true, Some(s)) => match console(Path::new(&s), &handle) {
            Ok(t) => Some(t),
            Err(e) => undo(g, e, true),
        },
        _ => None,
    };
    let root_s = g.root.to_string_lossy().into_owned();
    let child = match respawn("_hold", &[&root_s, &id], tty.as_ref()) {
        Ok(c) => c,
        Err(e) => undo(g, format!("start the container's process: {e}"), true),
    };
    rec.holder_pid = child.id();
    rec.holder_start = state::start_time(child.id()).unwrap_or(0);
    if let Err(e) = d.write(&rec) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(child.id() as i32),
            nix::sys::signal::Signal::SIGKILL,
        );
        undo(g, e, true)
    }
    let st = state_json(&d, &rec);
    if let Some(h) = &rec.hooks {
        let r = run_hooks(&h.prestart, &st, "prestart")
            .and_then(|_| run_hooks(&h.create_runtime, &st, "createRuntime"));
        if let Err(e) = r {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(child.id() as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
            undo(g, e, true)
        }
    }
    write_pid_file(g, o.val("pid-file"), child.id());
    if and_start {
        start_id(g, &id);
        if o.flag("detach") {
            std::process::exit(0)
        }
        let mut child = child;
        let st = child.wait().map(|s| s.code().unwrap_or(1)).unwrap_or(1);
        delete_id(g, &id, true);
        std::process::exit(st)
    }
    std::process::exit(0)
}

fn start(g: &Global, args: &[String]) {
    let o = Opts::parse(g, args, &[], &[], false);
    let id = one_id(g, &o.pos, "start");
    start_id(g, &id);
    std::process::exit(0)
}

fn start_id(g: &Global, id: &str) {
    let (d, r) = existing(g, id, "");
    match d.status(&r) {
        Status::Created => {}
        Status::Stopped => g.fail("cannot start a container that has stopped", 1),
        Status::Running => g.fail("cannot start an already running container", 1),
        Status::Creating => g.fail("cannot start a container in the creating state", 1),
    }
    let rt = tokio_rt();
    let handle = rt.block_on(async {
        let z = open_engine(g).await;
        let c = root_caller();
        let zid = z
            .lookup(&c, &r.zone)
            .await
            .map_err(|e| format!("zone '{}': {}", r.zone, e.unzoned(&r.zone)))?;
        z.boot_with(&c, zid, false)
            .await
            .map_err(|e| format!("zone '{}': boot: {}", r.zone, e.unzoned(&r.zone)))?;
        z.jail_attach(&c, zid)
            .await
            .map(|a| a.handle)
            .map_err(|e| format!("zone '{}': {}", r.zone, e.unzoned(&r.zone)))
    });
    drop(rt);
    let handle = handle.unwrap_or_else(|e| g.fail(e, 1));
    d.write_handle(&handle).unwrap_or_else(|e| g.fail(e, 1));
    // Release the holder: open the fifo without blocking, then wait for
    // its byte while the holder lives.
    let fifo = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(d.fifo())
        .unwrap_or_else(|e| g.fail(format!("open {}: {e}", d.fifo().display()), 1));
    let mut got = false;
    for _ in 0..20_000 {
        let mut b = [0u8; 1];
        match (&fifo).read(&mut b) {
            Ok(1) => {
                got = true;
                break;
            }
            _ => {
                if !state::holder_alive(r.holder_pid, r.holder_start) {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        }
    }
    let _ = std::fs::remove_file(d.fifo());
    if !got {
        g.fail(
            format!(
                "container {id}: its process (pid {}) did not take the start",
                r.holder_pid
            ),
            1,
        )
    }
    if let Some(h) = &r.hooks
        && let Err(e) = run_hooks(&h.poststart, &state_json(&d, &r), "poststart")
    {
        g.log("warning", &e);
    }
}

fn state_cmd(g: &Global, args: &[String]) {
    let o = Opts::parse(g, args, &[], &[], false);
    let id = one_id(g, &o.pos, "state");
    let (d, r) = existing(g, &id, "");
    let v = state_json(&d, &r);
    let st = state_of(&r, d.status(&r), v["pid"].as_u64().unwrap_or(0) as u32);
    crate::outln!("{}", serde_json::to_string_pretty(&st).unwrap());
    std::process::exit(0)
}

/// A signal by name (`KILL`, `SIGKILL`) or number.
pub fn parse_signal(s: &str) -> Option<i32> {
    if let Ok(n) = s.parse::<i32>() {
        return (1..=64).contains(&n).then_some(n);
    }
    let up = s.to_ascii_uppercase();
    let name = if up.starts_with("SIG") {
        up
    } else {
        format!("SIG{up}")
    };
    name.parse::<nix::sys::signal::Signal>()
        .ok()
        .map(|s| s as i32)
}

/// Host pids of the zone's processes but its supervisor.
fn zone_pids(h: &crate::runtime::Handle) -> Vec<u32> {
    let mut out = match h.cgroups.first() {
        Some(c) => crate::runtime::linux::cgroup::procs(c),
        None => Vec::new(),
    };
    out.retain(|p| *p != h.zsched_pid);
    out.sort();
    out.dedup();
    out
}

fn signal(pid: u32, sig: i32) -> bool {
    // SAFETY: kill(2) with a pid and a signal number; no memory is passed.
    unsafe { libc::kill(pid as i32, sig) == 0 }
}

fn kill(g: &Global, args: &[String]) {
    let o = Opts::parse(g, args, &[], &["all|a"], false);
    let (id, sig) = match o.pos.as_slice() {
        [id] => (id.clone(), "SIGTERM".to_string()),
        [id, s] => (id.clone(), s.clone()),
        _ => g.fail(
            "\"kill\" requires a minimum of 1 and maximum of 2 argument(s)",
            1,
        ),
    };
    let sig = parse_signal(sig.trim_start_matches('-'))
        .unwrap_or_else(|| g.fail(format!("unknown signal \"{sig}\""), 1));
    let (d, r) = existing(g, &id, "");
    match d.status(&r) {
        Status::Stopped | Status::Creating => g.fail("container not running", 1),
        Status::Created => {
            signal(r.holder_pid, sig);
        }
        Status::Running => {
            if o.flag("all")
                && let Ok(h) = d.handle()
            {
                for p in zone_pids(&h) {
                    signal(p, sig);
                }
            } else {
                let pid = state::program_pid(r.holder_pid).unwrap_or(r.holder_pid);
                if !signal(pid, sig) {
                    g.fail("container not running", 1)
                }
            }
        }
    }
    std::process::exit(0)
}

fn delete(g: &Global, args: &[String]) {
    let o = Opts::parse(g, args, &[], &["force|f"], false);
    let id = one_id(g, &o.pos, "delete");
    if !Dir::new(&g.root, &id).exists() {
        if o.flag("force") {
            std::process::exit(0)
        }
        g.fail("container does not exist", 1)
    }
    delete_id(g, &id, o.flag("force"));
    std::process::exit(0)
}

fn delete_id(g: &Global, id: &str, force: bool) {
    let (d, r) = existing(g, id, "");
    let status = d.status(&r);
    // As runc: a created container is deleted without --force (its
    // process never ran the program), a running one only with it.
    if !force && status == Status::Running {
        g.fail(
            format!(
                "cannot delete container {id} that is not stopped: {}",
                status.as_str()
            ),
            1,
        )
    }
    if status == Status::Created {
        signal(r.holder_pid, libc::SIGKILL);
    }
    let rt = tokio_rt();
    let halted = rt.block_on(async {
        let z = open_engine(g).await;
        match z.halt_zone(&root_caller(), &r.zone).await {
            Ok(()) => Ok(()),
            Err(crate::Error::NotLive(_)) => Ok(()),
            Err(e) => Err(format!("zone '{}': halt: {}", r.zone, e.unzoned(&r.zone))),
        }
    });
    drop(rt);
    if let Err(e) = halted {
        g.fail(e, 1)
    }
    if status == Status::Running {
        // The holder ends once its program was killed by the halt.
        for _ in 0..2000 {
            if !state::holder_alive(r.holder_pid, r.holder_start) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }
    if let Some(h) = &r.hooks {
        let mut st = state_json(&d, &r);
        st["status"] = "stopped".into();
        if let Err(e) = run_hooks(&h.poststop, &st, "poststop") {
            g.log("warning", &e);
        }
    }
    if let Err(e) = state::remove(&d) {
        g.fail(e, 1)
    }
}

fn exec(g: &Global, args: &[String]) {
    let o = Opts::parse(
        g,
        args,
        &[
            "process|p",
            "pid-file",
            "console-socket",
            "cwd",
            "env|e",
            "user|u",
            "cap|c",
            "preserve-fds",
            "process-label",
            "apparmor",
            "additional-gids|g",
        ],
        &["detach|d", "tty|t", "no-new-privs", "ignore-paused"],
        true,
    );
    let Some(id) = o.pos.first().cloned() else {
        g.fail(
            "exec failed: \"exec\" requires a minimum of 1 argument(s)",
            255,
        )
    };
    let d = Dir::new(&g.root, &id);
    if !d.exists() {
        g.fail("exec failed: container does not exist", 255)
    }
    let r = d.read().unwrap_or_else(|e| g.fail(e, 255));
    if d.status(&r) != Status::Running {
        g.fail(
            "exec failed: cannot exec in a stopped or paused container",
            255,
        )
    }
    let mut process: Process = match o.val("process") {
        Some(f) => {
            let t = std::fs::read_to_string(&f)
                .unwrap_or_else(|e| g.fail(format!("exec failed: open {f}: {e}"), 255));
            serde_json::from_str(&t)
                .unwrap_or_else(|e| g.fail(format!("exec failed: {f}: {e}"), 255))
        }
        None => {
            let args = o.pos[1..].to_vec();
            if args.is_empty() {
                g.fail("exec failed: args must not be empty", 255)
            }
            let mut env = spec::load(&r.bundle)
                .ok()
                .and_then(|s| s.process)
                .map(|p| p.env)
                .unwrap_or_default();
            env.extend(o.all("env"));
            Process {
                terminal: o.flag("tty"),
                args,
                env,
                cwd: o.val("cwd").unwrap_or_else(|| "/".into()),
                ..Default::default()
            }
        }
    };
    if let Some(u) = o.val("user") {
        let mut it = u.split(':');
        process.user.uid = it.next().and_then(|x| x.parse().ok()).unwrap_or(0);
        process.user.gid = it.next().and_then(|x| x.parse().ok()).unwrap_or(0);
    }
    let pf = d.path.join(format!(
        "exec-{}-{}.json",
        std::process::id(),
        state::rfc3339_now()
    ));
    state::write_atomic(&pf, &serde_json::to_vec(&process).unwrap())
        .unwrap_or_else(|e| g.fail(e, 255));
    let tty = match (process.terminal, o.val("console-socket")) {
        (true, Some(s)) => {
            let h = d
                .handle()
                .unwrap_or_else(|e| g.fail(format!("exec failed: {e}"), 255));
            Some(
                console(Path::new(&s), &h)
                    .unwrap_or_else(|e| g.fail(format!("exec failed: {e}"), 255)),
            )
        }
        _ => None,
    };
    let root_s = g.root.to_string_lossy().into_owned();
    let pf_s = pf.to_string_lossy().into_owned();
    let mut child = respawn("_run", &[&root_s, &id, &pf_s], tty.as_ref())
        .unwrap_or_else(|e| g.fail(format!("exec failed: {e}"), 255));
    drop(tty);
    write_pid_file(g, o.val("pid-file"), child.id());
    if o.flag("detach") {
        std::process::exit(0)
    }
    let st = child.wait().map(|s| s.code().unwrap_or(255)).unwrap_or(255);
    std::process::exit(st)
}

fn ps(g: &Global, args: &[String]) {
    let o = Opts::parse(g, args, &["format|f"], &[], true);
    let Some(id) = o.pos.first().cloned() else {
        g.fail("\"ps\" requires a minimum of 1 argument(s)", 1)
    };
    let (d, r) = existing(g, &id, "");
    let pids = match d.status(&r) {
        Status::Running => d.handle().map(|h| zone_pids(&h)).unwrap_or_default(),
        Status::Created => vec![r.holder_pid],
        _ => g.fail("container not running", 1),
    };
    if o.val("format").as_deref() == Some("json") {
        crate::outln!("{}", serde_json::to_string(&pids).unwrap());
        std::process::exit(0)
    }
    // runc's table: `ps` (its arguments after the id, else -ef),
    // filtered to the container's pids.
    let ps_args: Vec<String> = if o.pos.len() > 1 {
        o.pos[1..].to_vec()
    } else {
        vec!["-ef".into()]
    };
    let out = Command::new("ps")
        .args(&ps_args)
        .output()
        .unwrap_or_else(|e| g.fail(format!("ps: {e}"), 1));
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let head = lines.next().unwrap_or("");
    let col = head
        .split_whitespace()
        .position(|c| c == "PID")
        .unwrap_or_else(|| g.fail("couldn't find PID field in ps output", 1));
    crate::outln!("{head}");
    for l in lines {
        if let Some(p) = l
            .split_whitespace()
            .nth(col)
            .and_then(|p| p.parse::<u32>().ok())
            && pids.contains(&p)
        {
            crate::outln!("{l}");
        }
    }
    std::process::exit(0)
}

/// The container's seccomp profile, when it has one, written to
/// `seccomp.json` in its state directory (0600, in a 0700 directory) and
/// named by the zone's `seccomp.profile` (spec's module comment).
fn seccomp_param(
    spec: &spec::Spec,
    d: &Dir,
    params: &mut crate::param::Params,
) -> Result<(), String> {
    let Some(json) = spec::seccomp_profile(spec)? else {
        return Ok(());
    };
    use std::os::unix::fs::OpenOptionsExt;
    let file = d.path.join("seccomp.json");
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&file)
        .and_then(|mut f| f.write_all(json.as_bytes()))
        .map_err(|e| format!("{}: {}", file.display(), crate::tool::os_msg(&e)))?;
    params
        .set_text(
            crate::runtime::linux::seccomp_oci::PARAM,
            &[file.to_string_lossy().into_owned()],
        )
        .map_err(|e| format!("{}: {e}", crate::runtime::linux::seccomp_oci::PARAM))
}

fn features() -> ! {
    let v = serde_json::json!({
        "ociVersionMin": "1.0.0",
        "ociVersionMax": OCI_VERSION,
        "hooks": ["prestart", "createRuntime", "poststart", "poststop"],
        "mountOptions": ["bind", "rbind", "ro", "rw", "nosuid", "nodev", "noexec",
            "noatime", "relatime", "defaults"],
        "linux": {
            "namespaces": ["cgroup", "ipc", "mount", "network", "pid", "uts"],
            "capabilities": crate::runtime::linux::caps::names(crate::runtime::linux::caps::all_set())
                .iter()
                .map(|n| format!("CAP_{}", n.to_ascii_uppercase()))
                .collect::<Vec<_>>(),
            "cgroup": {"v1": true, "v2": true, "systemd": false, "systemdUser": false},
            "seccomp": {
                "enabled": true,
                "actions": ["SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL",
                    "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG",
                    "SCMP_ACT_TRAP", "SCMP_ACT_TRACE"],
                "operators": ["SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE",
                    "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"],
                "archs": ["SCMP_ARCH_X86_64"],
                "knownFlags": ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                    "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"],
                "supportedFlags": ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"]
            },
            "apparmor": {"enabled": false},
            "selinux": {"enabled": false}
        },
        "annotations": {
            "zones.brand": "sparse, or whole (the default)"
        }
    });
    crate::outln!("{}", serde_json::to_string_pretty(&v).unwrap());
    std::process::exit(0)
}

/// The container's process holder: wait for start, then run the program.
fn hold(g: &Global, args: &[String]) {
    let [root, id] = args else {
        g.fail("_hold: usage: _hold ROOT ID", 1)
    };
    let d = Dir::new(Path::new(root), id);
    // Blocks until `start` opens the fifo for reading.
    let mut fifo = std::fs::OpenOptions::new()
        .write(true)
        .open(d.fifo())
        .unwrap_or_else(|e| g.fail(format!("open {}: {e}", d.fifo().display()), 1));
    let _ = fifo.write_all(b"0");
    drop(fifo);
    let r = d.read().unwrap_or_else(|e| g.fail(e, 1));
    let process = spec::load(&r.bundle)
        .unwrap_or_else(|e| g.fail(e, 1))
        .process
        .unwrap_or_else(|| g.fail(format!("{}: no process", r.bundle.display()), 1));
    let code = enter_zone(g, &d, &process);
    let _ = std::fs::write(d.exit_path(), code.to_string());
    std::process::exit(code)
}

/// An exec'd process: `_run ROOT ID PROCESS.json`.
fn run_exec(g: &Global, args: &[String]) {
    let [root, id, pf] = args else {
        g.fail("_run: usage: _run ROOT ID PROCESS", 1)
    };
    let d = Dir::new(Path::new(root), id);
    let t = std::fs::read_to_string(pf).unwrap_or_else(|e| g.fail(format!("open {pf}: {e}"), 255));
    let _ = std::fs::remove_file(pf);
    let process: Process = serde_json::from_str(&t).unwrap_or_else(|e| g.fail(e, 255));
    std::process::exit(enter_zone(g, &d, &process))
}

/// Enter the zone and run `p` there as zlogin does; its exit status.
fn enter_zone(g: &Global, d: &Dir, p: &Process) -> i32 {
    let handle = d.handle().unwrap_or_else(|e| g.fail(e, 255));
    // The process's environment is exactly the spec's: it is ours,
    // handed on by `keep_env`.
    for (k, _) in std::env::vars_os() {
        // SAFETY: this process is single-threaded here (no runtime was
        // started in `_hold` / `_run`), so nothing reads the environment
        // concurrently.
        unsafe { std::env::remove_var(k) };
    }
    for kv in &p.env {
        if let Some((k, v)) = kv.split_once('=')
            && !k.is_empty()
        {
            // SAFETY: as above, single-threaded.
            unsafe { std::env::set_var(k, v) };
        }
    }
    if std::env::var_os("PATH").is_none() {
        // SAFETY: as above, single-threaded.
        unsafe {
            std::env::set_var(
                "PATH",
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            )
        };
    }
    // Capabilities, rlimits, groups and the working directory are made
    // by the entering child (enter_extra: never more than the zone's);
    // no_new_privs and the umask pass to it from here through fork.
    let (extra, _) = spec::extra(p).unwrap_or_else(|e| g.fail(e, 255));
    if p.no_new_privileges {
        // SAFETY: prctl with integer arguments only.
        if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
            g.fail(
                format!("set no_new_privs: {}", std::io::Error::last_os_error()),
                255,
            )
        }
    }
    if let Some(m) = p.user.umask {
        // SAFETY: umask has no preconditions.
        unsafe { libc::umask(m as libc::mode_t & 0o777) };
    }
    let opts = EnterOpts {
        command: p.args.clone(),
        user: (p.user.uid != 0).then(|| p.user.uid.to_string()),
        pty: false,
        env: Vec::new(),
        keep_env: true,
        in_root_dir: true,
        banner: None,
        escape: None,
    };
    match run_with(&handle, &opts, &extra) {
        Ok(code) => code,
        Err(e) => g.fail(format!("exec: {e}"), 255),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_by_name_and_number() {
        assert_eq!(parse_signal("KILL"), Some(9));
        assert_eq!(parse_signal("SIGTERM"), Some(15));
        assert_eq!(parse_signal("term"), Some(15));
        assert_eq!(parse_signal("9"), Some(9));
        assert_eq!(parse_signal("0"), None);
        assert_eq!(parse_signal("NOPE"), None);
    }
}
