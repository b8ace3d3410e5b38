//! # Reaching other hosts: zoned's socket through ssh
//!
//! `ztop -H` brings no daemon and opens no port of its own: for each host
//! it runs one OpenSSH client that forwards a Unix socket of ztop's own to
//! zoned's socket on that host,
//!
//! ```text
//! ssh -N -o ExitOnForwardFailure=yes -o BatchMode=yes \
//!     -L $RUNDIR/ztop-ssh-PID-N/I.sock:/run/zones/zoned.sock [user@]host
//! ```
//!
//! and speaks zoned's protocol through it exactly as zoneadm does through
//! the local socket (api/client.rs). Every key acts on the zone's own
//! host: boot, ready and uninstall name the zone, and that host's zoned
//! resolves it against its own jail.conf (source.rs). Authentication and authorization are
//! ssh's and zoned's: ssh decides who may log in, and zoned sees the
//! remote sshd as its peer, so it grants what that login's uid may do
//! (root everything, others only what reads).
//!
//! ## Supervision
//!
//! Each host has one task that owns its ssh child and its client:
//!
//! ```text
//!   ┌──────────── spawn ssh ◀──────────────── backoff ◀─────┐
//!   ▼                                                        │
//!   wait for the forwarded socket ── ssh exits / 20 s ──────▶│ unreachable (ssh's last word)
//!   ▼                                                        │
//!   hello + subscribe ── no answer ──▶ backoff, again ──────▶│ (ssh gone: respawn)
//!   ▼                                                        │
//!   connected: every snapshot published ── stream ends ─────┘ unreachable (zoned went away)
//! ```
//!
//! The backoff doubles from half a second to five; a connection that
//! worked resets it. A host that drops out is shown as unreachable, with
//! the reason, and comes back by itself. BatchMode makes ssh fail rather
//! than ask for a password the console cannot show.
//!
//! The ssh children die with ztop: [`Tunnels::finish`] kills them, tokio
//! kills them when their task is dropped, and PR_SET_PDEATHSIG covers a
//! ztop that is killed outright. The socket directory is 0700 and removed
//! at the end.
//!
//! Options for ssh: `--ssh-option OPT` (repeatable, passed as `-o OPT`),
//! `ssh_options = [...]` in config.toml, and `$ZTOP_SSH` for the program
//! itself with any leading arguments (`ZTOP_SSH="ssh -F ~/.ssh/fleet"`).

use crate::fleet::{Fleet, HostSpec, HostState, HostView, split_key};
use crate::source::{Control, Op, OpFuture, run_op};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncBufReadExt;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use zones::api::{Client, Zones};
use zones::engine::Caller;
use zones::jailconf::Config as JailConf;
use zones::snapshot::Snapshot;
use zones::zone::ZoneId;

/// The shortest and longest wait before trying a host again.
pub const BACKOFF_MIN: Duration = Duration::from_millis(500);
pub const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// How long ssh may take to open the forwarded socket.
const TUNNEL_WAIT: Duration = Duration::from_secs(20);

/// Where fleet snapshots arrive.
pub type FleetRx = watch::Receiver<Arc<Fleet>>;

/// How ssh is run: the program, its leading arguments and the `-o`s.
#[derive(Clone, Debug)]
pub struct Ssh {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub options: Vec<String>,
}

impl Ssh {
    /// `$ZTOP_SSH` (split at white space), else `ssh`; with `options`.
    pub fn from_env(options: Vec<String>) -> Ssh {
        let env = std::env::var("ZTOP_SSH").unwrap_or_default();
        let mut words = env.split_whitespace().map(str::to_string);
        let program = words.next().unwrap_or_else(|| "ssh".into()).into();
        Ssh {
            program,
            args: words.collect(),
            options,
        }
    }

    fn base(&self) -> std::process::Command {
        let mut c = std::process::Command::new(&self.program);
        c.args(&self.args);
        for o in &self.options {
            c.arg("-o").arg(o);
        }
        c
    }

    /// The tunnel: `ssh -N … -L local:remote dest`.
    pub fn tunnel(&self, h: &HostSpec, local: &Path) -> std::process::Command {
        let mut c = self.base();
        c.args(["-N", "-T"]);
        for o in [
            "ExitOnForwardFailure=yes",
            "BatchMode=yes",
            "StreamLocalBindUnlink=yes",
            "StreamLocalBindMask=0177",
            "ServerAliveInterval=5",
            "ServerAliveCountMax=3",
        ] {
            c.arg("-o").arg(o);
        }
        c.arg("-L")
            .arg(format!("{}:{}", local.display(), h.socket.display()))
            .arg("--")
            .arg(h.destination());
        c
    }

    /// `z` and `Z` on a remote zone: zlogin over ssh, with a terminal.
    pub fn zlogin(&self, h: &HostSpec, zone: &str, console: bool) -> std::process::Command {
        let mut c = self.base();
        c.arg("-t").arg("--").arg(h.destination());
        c.arg("zlogin").arg("--socket").arg(&h.socket);
        if console {
            c.arg("-C");
        }
        c.arg(zone);
        c
    }
}

/// The hosts' connections: the merged snapshots, the control that sends
/// each operation to its zone's host, and what to stop at the end.
pub struct Tunnels {
    pub fleet: FleetRx,
    pub control: Arc<dyn Control>,
    dir: PathBuf,
    tasks: Vec<JoinHandle<()>>,
}

impl Tunnels {
    /// Stop every ssh and remove the socket directory.
    pub async fn finish(self) {
        for t in &self.tasks {
            t.abort();
        }
        for t in self.tasks {
            let _ = t.await;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A private directory for the forwarded sockets.
fn socket_dir() -> std::io::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    let base = std::env::var_os("XDG_RUNTIME_DIR")
        .filter(|d| !d.is_empty() && Path::new(d).is_dir())
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let dir = base.join(format!("ztop-ssh-{}-{nanos}", std::process::id()));
    std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
    Ok(dir)
}

/// The fleet as it stands, shared by the hosts' tasks.
struct Board {
    fleet: Mutex<Fleet>,
    tx: watch::Sender<Arc<Fleet>>,
}

impl Board {
    fn set(&self, i: usize, state: HostState, snap: Option<Arc<Snapshot>>) {
        let mut f = self.fleet.lock().unwrap();
        let h = &mut f.hosts[i];
        if h.state == state && snap.is_none() {
            return;
        }
        h.state = state;
        if let Some(s) = snap {
            h.snap = s;
        }
        f.seq += 1;
        let _ = self.tx.send(Arc::new(f.clone()));
    }
}

/// Start one supervised tunnel per host. Must be called inside a tokio
/// runtime.
pub fn start(hosts: Vec<HostSpec>, ssh: Ssh) -> anyhow::Result<Tunnels> {
    anyhow::ensure!(!hosts.is_empty(), "ztop: no hosts");
    let dir =
        socket_dir().map_err(|e| anyhow::anyhow!("ztop: a directory for ssh's sockets: {e}"))?;
    let fleet = Fleet {
        seq: 1,
        hosts: hosts
            .iter()
            .map(|h| HostView {
                label: h.label.clone(),
                state: HostState::Connecting,
                snap: Arc::new(Snapshot::default()),
            })
            .collect(),
    };
    let (tx, rx) = watch::channel(Arc::new(fleet.clone()));
    let board = Arc::new(Board {
        fleet: Mutex::new(fleet),
        tx,
    });
    let slots: Vec<Slot> = hosts.iter().map(|_| Slot::default()).collect();
    let mut tasks = Vec::new();
    for (i, h) in hosts.iter().enumerate() {
        let local = dir.join(format!("{i}.sock"));
        tasks.push(tokio::spawn(supervise(
            i,
            h.clone(),
            ssh.clone(),
            local,
            board.clone(),
            slots[i].clone(),
        )));
    }
    let control = Arc::new(FleetControl { hosts, slots, ssh });
    Ok(Tunnels {
        fleet: rx,
        control,
        dir,
        tasks,
    })
}

/// A host's client while it is connected.
type Slot = Arc<Mutex<Option<Arc<Client>>>>;

/// The last line ssh wrote on stderr (its reason for failing).
type Said = Arc<Mutex<String>>;

fn spawn_ssh(
    ssh: &Ssh,
    h: &HostSpec,
    local: &Path,
) -> std::io::Result<(tokio::process::Child, Said)> {
    let mut c = tokio::process::Command::from(ssh.tunnel(h, local));
    c.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    // SAFETY: the closure runs in the child between fork and exec and
    // only calls prctl, which is async-signal-safe.
    unsafe {
        c.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = c.spawn()?;
    let said: Said = Default::default();
    if let Some(err) = child.stderr.take() {
        let said = said.clone();
        tokio::spawn(async move {
            let mut lines = tokio::io::BufReader::new(err).lines();
            while let Ok(Some(l)) = lines.next_line().await {
                let l = l.trim();
                if !l.is_empty() {
                    *said.lock().unwrap() = l.to_string();
                }
            }
        });
    }
    Ok((child, said))
}

/// Why ssh ended: its last line on stderr, else its exit status.
fn ssh_reason(said: &Said, status: Option<std::process::ExitStatus>) -> String {
    let s = said.lock().unwrap().clone();
    if !s.is_empty() {
        return s;
    }
    match status {
        Some(st) => format!("ssh {st}"),
        None => "ssh ended".into(),
    }
}

/// Wait until ssh listens on `local`; its reason when it does not.
async fn wait_tunnel(
    child: &mut tokio::process::Child,
    local: &Path,
    said: &Said,
) -> Result<(), String> {
    let t0 = tokio::time::Instant::now();
    loop {
        if local.exists() {
            return Ok(());
        }
        if let Ok(Some(st)) = child.try_wait() {
            // its stderr may still be on its way
            tokio::time::sleep(Duration::from_millis(50)).await;
            return Err(ssh_reason(said, Some(st)));
        }
        if t0.elapsed() > TUNNEL_WAIT {
            return Err(format!("ssh: no tunnel after {} s", TUNNEL_WAIT.as_secs()));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One host, for as long as ztop runs.
async fn supervise(i: usize, h: HostSpec, ssh: Ssh, local: PathBuf, board: Arc<Board>, slot: Slot) {
    let mut backoff = BACKOFF_MIN;
    let pause = |backoff: &mut Duration| {
        let d = *backoff;
        *backoff = (*backoff * 2).min(BACKOFF_MAX);
        d
    };
    loop {
        let _ = std::fs::remove_file(&local);
        let (mut child, said) = match spawn_ssh(&ssh, &h, &local) {
            Ok(c) => c,
            Err(e) => {
                board.set(
                    i,
                    HostState::Unreachable(format!("{}: {e}", ssh.program.display())),
                    None,
                );
                tokio::time::sleep(pause(&mut backoff)).await;
                continue;
            }
        };
        if let Err(why) = wait_tunnel(&mut child, &local, &said).await {
            let _ = child.kill().await;
            board.set(i, HostState::Unreachable(why), None);
            tokio::time::sleep(pause(&mut backoff)).await;
            continue;
        }
        // the tunnel is up: talk to zoned through it until ssh ends
        loop {
            let why = match Client::connect(&local).await {
                Ok(c) => {
                    let c = Arc::new(c);
                    match c.subscribe().await {
                        Ok(mut rx) => {
                            *slot.lock().unwrap() = Some(c.clone());
                            let ended = loop {
                                tokio::select! {
                                    r = rx.changed() => {
                                        if r.is_err() {
                                            break None;
                                        }
                                        let s = rx.borrow_and_update().clone();
                                        if let Some(s) = s {
                                            backoff = BACKOFF_MIN;
                                            board.set(i, HostState::Connected, Some(s));
                                        }
                                    }
                                    st = child.wait() => break Some(st.ok()),
                                }
                            };
                            *slot.lock().unwrap() = None;
                            match ended {
                                Some(st) => ssh_reason(&said, st),
                                None => format!("zoned at {} went away", h.socket.display()),
                            }
                        }
                        Err(e) => format!("zoned at {}: {e}", h.socket.display()),
                    }
                }
                Err(e) => format!("zoned at {} does not answer: {e}", h.socket.display()),
            };
            board.set(i, HostState::Unreachable(why), None);
            tokio::time::sleep(pause(&mut backoff)).await;
            if !matches!(child.try_wait(), Ok(None)) {
                break;
            }
        }
        let _ = child.kill().await;
    }
}

/// Operations go to the zone's own host, as zoneadm would run them there.
struct FleetControl {
    hosts: Vec<HostSpec>,
    slots: Vec<Slot>,
    ssh: Ssh,
}

impl FleetControl {
    fn host_of<'a>(&self, key: &'a str) -> Option<(usize, &'a str)> {
        let (label, zone) = split_key(key)?;
        let i = self.hosts.iter().position(|h| h.label == label)?;
        Some((i, zone))
    }
}

/// `op` on the bare zone name.
fn on_zone(op: &Op, zone: &str) -> Op {
    let z = zone.to_string();
    match op {
        Op::Boot(_) => Op::Boot(z),
        Op::Shutdown(_) => Op::Shutdown(z),
        Op::Halt(_) => Op::Halt(z),
        Op::Reboot(_) => Op::Reboot(z),
        Op::Destroy(_) => Op::Destroy(z),
        Op::Create(_) => Op::Create(z),
    }
}

impl Control for FleetControl {
    fn run(&self, op: Op) -> OpFuture {
        let Some((i, zone)) = self.host_of(op.zone()) else {
            let why = format!("{}: not a zone of a named host", op.zone());
            return Box::pin(async move { Err(why) });
        };
        let Some(client) = self.slots[i].lock().unwrap().clone() else {
            let why = format!("{} is unreachable", self.hosts[i].label);
            return Box::pin(async move { Err(why) });
        };
        // zoned knows the caller from the socket (the remote sshd's uid);
        // the caller here is not sent. No jail.conf is sent either: the
        // zone is named, and that host's zoned resolves it against its own
        // configuration (source.rs, "One configuration per host"), so `b`
        // boots it from that host's jail.conf.
        let caller = Caller {
            uid: 0,
            zone: ZoneId::GLOBAL,
        };
        run_op(
            Zones::Daemon(client),
            JailConf::default(),
            caller,
            on_zone(&op, zone),
        )
    }

    fn zlogin_command(&self, key: &str) -> std::process::Command {
        match self.host_of(key) {
            Some((i, zone)) => self.ssh.zlogin(&self.hosts[i], zone, false),
            None => std::process::Command::new("false"),
        }
    }

    fn console_command(&self, key: &str) -> std::process::Command {
        match self.host_of(key) {
            Some((i, zone)) => self.ssh.zlogin(&self.hosts[i], zone, true),
            None => std::process::Command::new("false"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(c: &std::process::Command) -> Vec<String> {
        c.get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn the_tunnel_forwards_a_unix_socket_and_never_asks() {
        let ssh = Ssh {
            program: "ssh".into(),
            args: vec!["-F".into(), "/x".into()],
            options: vec!["Port=2222".into()],
        };
        let h = HostSpec::parse("root@db1:/run/z.sock").unwrap();
        let a = args(&ssh.tunnel(&h, Path::new("/tmp/d/0.sock")));
        let joined = a.join(" ");
        assert!(joined.starts_with("-F /x -o Port=2222 -N -T"), "{joined}");
        assert!(joined.contains("-o ExitOnForwardFailure=yes"), "{joined}");
        assert!(joined.contains("-o BatchMode=yes"), "{joined}");
        assert!(
            joined.ends_with("-L /tmp/d/0.sock:/run/z.sock -- root@db1"),
            "{joined}"
        );
        let z = args(&ssh.zlogin(&h, "web", true)).join(" ");
        assert!(
            z.ends_with("-t -- root@db1 zlogin --socket /run/z.sock -C web"),
            "{z}"
        );
    }

    #[tokio::test]
    async fn an_unreachable_host_is_said_so_and_its_operations_fail() {
        // an ssh that cannot connect: `false` exits at once
        let ssh = Ssh {
            program: "false".into(),
            args: vec![],
            options: vec![],
        };
        let t = start(vec![HostSpec::parse("nowhere").unwrap()], ssh).unwrap();
        let mut rx = t.fleet.clone();
        let state = loop {
            rx.changed().await.unwrap();
            let s = rx.borrow_and_update().hosts[0].state.clone();
            if s != HostState::Connecting {
                break s;
            }
        };
        assert!(matches!(state, HostState::Unreachable(_)), "{state:?}");
        let r = t.control.run(Op::Halt("nowhere/web".into())).await;
        assert_eq!(r, Err("nowhere is unreachable".into()));
        let r = t.control.run(Op::Boot("nowhere/web".into())).await;
        assert_eq!(r, Err("nowhere is unreachable".into()));
        let dir = t.dir.clone();
        t.finish().await;
        assert!(!dir.exists(), "the socket directory is removed");
    }
}
