//! # The two seams between ztop and an engine
//!
//! ztop never reads the kernel and never computes a counter: it shows the
//! [`Snapshot`]s an engine publishes and asks that engine to act. Both
//! directions cross one seam each, so the console does not care whether the
//! engine runs in this process (`embedded`) or behind zoned's socket.
//!
//! * **Data**: a [`SnapshotRx`], a `tokio::sync::watch` receiver. The engine
//!   replaces the value after every change of its registry and every sampler
//!   tick; ztop only ever wants the newest one, which is what a watch channel
//!   keeps. When the sender is dropped the engine is gone, and ztop says so.
//! * **Actions**: a [`Control`]. Every zone operation ztop offers is an [`Op`]
//!   handed to [`Control::run`], which returns a future; ztop spawns it and
//!   shows its `Ok` text (`booted in 41 ms`) or its `Err` text (the engine's
//!   error with its reason) in the footer, prefixed with the zone's name.
//!   The screen never waits for an operation.
//!
//! [`connect`] builds both for the command line's options. It is the one
//! place the engine is wired in.
//!
//! ## One configuration per host
//!
//! The configured zones a host shows (`zoneadm list -c`'s, the rows with
//! id `-`) and the ones `b`, `C` and `D` act on are that host's engine's:
//! zoned's jail.conf, the one it started with or last reread on SIGHUP,
//! which its snapshots list and against which it resolves a zone named
//! without a configuration (the API's "By name"). ztop sends only the
//! zone's name, to the local zoned as to another host's through `-H`, so
//! the same key does the same thing on every host and no host's file is
//! read anywhere else. Only an embedded engine (no zoned) is given ztop's
//! own jail.conf (`--config`, `$ZONES_CONFIG`, /etc/jail.conf).

use crate::cli::Args;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use zones::engine::{BootFrom, Caller};
use zones::jailconf::Config as JailConf;
use zones::snapshot::Snapshot;
use zones::zone::ZoneId;
use zones_linux::api::{Endpoint, Port, Zones};

/// Where snapshots arrive.
pub type SnapshotRx = watch::Receiver<Arc<Snapshot>>;

/// The result of an operation: the text the footer shows after `zone: `.
pub type OpResult = Result<String, String>;

/// A running operation.
pub type OpFuture = Pin<Box<dyn Future<Output = OpResult> + Send + 'static>>;

/// One operation on one zone, as the console's keys ask for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// `zoneadm boot`: create the kernel zone when there is none and boot it.
    Boot(String),
    /// `zoneadm shutdown`: run the zone's stop commands, then halt.
    Shutdown(String),
    /// `zoneadm halt`: kill everything now.
    Halt(String),
    /// `zoneadm reboot`.
    Reboot(String),
    /// `zoneadm halt` of a zone that has a kernel zone, else `zoneadm
    /// uninstall -F`: remove the zone.
    Destroy(String),
    /// `zoneadm ready`: create the zone from its configured jail.conf
    /// entry (without booting it).
    Create(String),
}

impl Op {
    /// The zone the operation is about.
    pub fn zone(&self) -> &str {
        match self {
            Op::Boot(z)
            | Op::Shutdown(z)
            | Op::Halt(z)
            | Op::Reboot(z)
            | Op::Destroy(z)
            | Op::Create(z) => z,
        }
    }

    /// The verb, for the footer while it runs (`web: halting…`).
    pub fn verb(&self) -> &'static str {
        match self {
            Op::Boot(_) => "boot",
            Op::Shutdown(_) => "shutdown",
            Op::Halt(_) => "halt",
            Op::Reboot(_) => "reboot",
            Op::Destroy(_) => "destroy",
            Op::Create(_) => "create",
        }
    }

    /// Destructive operations ask y/n first.
    pub fn needs_confirmation(&self) -> bool {
        matches!(self, Op::Halt(_) | Op::Reboot(_) | Op::Destroy(_))
    }
}

/// What ztop asks of an engine. Implemented by the embedded engine and by
/// the zoned client.
pub trait Control: Send + Sync {
    /// Start `op`. The future runs on the tokio runtime, detached from the
    /// screen; it resolves to the footer's text: `Ok("booted in 41 ms")` or
    /// `Err("zone is not installed")`. (Blocking engine code should be
    /// wrapped in `tokio::task::spawn_blocking` inside the future.)
    fn run(&self, op: Op) -> OpFuture;

    /// The command `z` runs with the console suspended: a login shell in
    /// `zone` (zlogin). It inherits the terminal.
    fn zlogin_command(&self, zone: &str) -> std::process::Command;

    /// The command `Z` runs with the console suspended: `zlogin -C zone`,
    /// attached to the zone's console until `~.`.
    fn console_command(&self, zone: &str) -> std::process::Command {
        let mut c = std::process::Command::new("zlogin");
        c.arg("-C").arg(zone);
        c
    }

    /// The user changed the refresh interval with `+`/`-`. An engine that
    /// samples for ztop alone may follow it; zoned may ignore it.
    fn refresh_interval_changed(&self, _interval: Duration) {}
}

impl Op {
    /// The past participle the footer uses: `booted`, `halted`, ...
    pub fn done(&self) -> &'static str {
        match self {
            Op::Boot(_) => "booted",
            Op::Shutdown(_) => "shut down",
            Op::Halt(_) => "halted",
            Op::Reboot(_) => "rebooted",
            Op::Destroy(_) => "destroyed",
            Op::Create(_) => "created",
        }
    }
}

/// For an async engine: time `fut` and answer `booted in 41 ms` (or its
/// error text). `Control::run` can return `timed(&op, async move { ... })`.
pub fn timed<F>(op: &Op, fut: F) -> OpFuture
where
    F: Future<Output = Result<(), String>> + Send + 'static,
{
    let done = op.done();
    Box::pin(async move {
        let t0 = std::time::Instant::now();
        fut.await?;
        Ok(format!("{done} in {} ms", t0.elapsed().as_millis()))
    })
}

/// Adapt a receiver that holds `None` until the first snapshot (zoned's
/// client) into a [`SnapshotRx`]. A task forwards every snapshot; when the
/// source closes, the returned channel closes too and ztop says the engine
/// is gone. Must be called inside a tokio runtime.
pub fn from_optional(mut rx: watch::Receiver<Option<Arc<Snapshot>>>) -> SnapshotRx {
    let first = rx.borrow_and_update().clone().unwrap_or_default();
    let (tx, out) = watch::channel(first);
    tokio::spawn(async move {
        loop {
            tokio::select! {
                changed = rx.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    let next = rx.borrow_and_update().clone();
                    if let Some(s) = next
                        && tx.send(s).is_err()
                    {
                        return;
                    }
                }
                _ = tx.closed() => return,
            }
        }
    });
    out
}

/// For an engine whose operations block: run `f` on tokio's blocking pool,
/// time it, and answer `booted in 41 ms` (or `f`'s error text).
pub fn timed_blocking<F>(op: &Op, f: F) -> OpFuture
where
    F: FnOnce() -> Result<(), String> + Send + 'static,
{
    let done = op.done();
    Box::pin(async move {
        let t0 = std::time::Instant::now();
        match tokio::task::spawn_blocking(f).await {
            Ok(Ok(())) => Ok(format!("{done} in {} ms", t0.elapsed().as_millis())),
            Ok(Err(e)) => Err(e),
            Err(e) => Err(format!("the operation panicked: {e}")),
        }
    })
}

/// What [`connect`] hands the console: the snapshots, the control port,
/// and the demo zones to halt when the console ends.
pub struct Connection {
    pub snapshots: SnapshotRx,
    pub control: Arc<dyn Control>,
    /// Why the configuration file was not read (it does not parse): the
    /// console still shows and administers the running zones, as
    /// `zoneadm list` and `halt` do with a broken file (jailconf's module
    /// comment), and says this on its message line.
    pub warning: Option<String>,
    /// The demo zones this console booted, and the bridges it made for
    /// them ([`demo_bridges`]).
    demo: Option<(Zones, Vec<String>, Vec<String>)>,
}

impl Connection {
    /// Halt the demo zones this console booted (nothing otherwise).
    pub async fn finish(self) {
        if let Some((zones, names, bridges)) = self.demo {
            let caller = root_caller();
            for n in names.iter().rev() {
                if let Ok(id) = zones.lookup(&caller, n).await {
                    let _ = zones.halt(&caller, id).await;
                }
            }
            for b in bridges {
                let _ = zones_linux::runtime::linux::vnet::remove_host_bridge(&b);
            }
        }
    }
}

fn root_caller() -> Caller {
    Caller {
        uid: nix_uid(),
        zone: ZoneId::GLOBAL,
    }
}

fn nix_uid() -> u32 {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() }
}

/// Make the host bridges the demo's `vnet.bridge` zones join, each with
/// the host's address on it: the zone's `zone.defrouter`, with the prefix
/// of its first address (the web zone's LAN, reachable from the host).
/// Returns the bridges made here (to remove at the end).
pub fn demo_bridges(conf: &JailConf) -> Result<Vec<String>, String> {
    let mut made = Vec::new();
    for j in &conf.jails {
        let Some(br) = j.params.str("vnet.bridge") else {
            continue;
        };
        let gw = j.params.list("zone.defrouter");
        let prefix = j
            .params
            .list("ip4.addr")
            .first()
            .and_then(|a| zones_linux::runtime::netcfg::ZoneAddr::parse(a).ok())
            .map(|a| a.prefix);
        let (Some(gw), Some(prefix)) = (gw.first(), prefix) else {
            continue;
        };
        let gw: std::net::IpAddr = gw
            .parse()
            .map_err(|_| format!("{}: zone.defrouter {gw}: not an address", j.name))?;
        if zones_linux::runtime::linux::vnet::host_bridge(br, gw, prefix)? {
            made.push(br.to_string());
        }
    }
    Ok(made)
}

/// The demo configuration, with its roots beneath `root`.
pub fn demo_config(root: &std::path::Path) -> Result<JailConf, String> {
    let text = format!(
        "$demo_root = \"{}\";\n{}",
        root.display(),
        include_str!("../../assets/demo/jail.conf")
    );
    JailConf::parse_str(&text, "assets/demo/jail.conf").map_err(|e| e.to_string())
}

/// Build the snapshot stream and the control port for the command line:
/// zoned when it answers on `--socket`/`$ZONED_SOCKET`, else the engine in
/// this process (which serves the socket meanwhile, so the other tools
/// work), on `--state-dir` and `--cgroup-root`. With `--demo`, the demo
/// zones of assets/demo are installed and booted, and halted at the end.
pub async fn connect(args: &Args) -> anyhow::Result<Connection> {
    let ep = Endpoint::resolve(
        args.socket.clone(),
        args.state_dir.clone(),
        args.cgroup_root
            .as_ref()
            .map(|p| p.to_string_lossy().into_owned()),
    );
    let mut warning = None;
    let conf = if args.demo {
        demo_config(&ep.state_dir.join("demo")).map_err(anyhow::Error::msg)?
    } else {
        let path = args.config.clone().or_else(|| {
            std::env::var_os("ZONES_CONFIG")
                .filter(|v| !v.is_empty())
                .map(std::path::PathBuf::from)
        });
        match path {
            Some(p) => JailConf::parse_file(&p),
            None => JailConf::load_default(),
        }
        .unwrap_or_else(|e| {
            let why: Vec<String> = e.to_string().lines().map(str::to_string).collect();
            warning = Some(format!(
                "{}; configured zones not shown until the file is fixed",
                why.join("; ")
            ));
            JailConf::default()
        })
    };
    let follow = zones_linux::api::follow(&ep, "ztop", Duration::from_secs(30))
        .await
        .map_err(|e| anyhow::anyhow!("ztop: {e}"))?;
    // The configured zones are the engine's (module comment, "One
    // configuration per host"): an embedded engine is given ztop's
    // jail.conf; zoned has its own, and `--config` is not zoned's.
    if let Some(engine) = follow.port.engine() {
        engine.set_configuration(conf.clone());
        engine.set_configured(zones_linux::front::configured_all(&conf));
    } else if args.demo {
        warning = Some(
            "the demo zones are not in zoned's configuration: once halted, b and C cannot boot them again"
                .to_string(),
        );
    } else if let Some(p) = &args.config {
        warning = Some(format!(
            "--config {} is not used: zoned boots and lists the zones of its own configuration",
            p.display()
        ));
    }
    let snapshots = follow.snapshots;
    let control = Arc::new(EngineControl {
        port: follow.port.clone(),
        conf: conf.clone(),
        socket: ep.socket.clone(),
    });
    let demo = if args.demo {
        let zones = follow.port.zones();
        let caller = root_caller();
        anyhow::ensure!(caller.uid == 0, "ztop: --demo boots zones and needs root");
        let mut booted = Vec::new();
        let bridges = demo_bridges(&conf).map_err(|e| anyhow::anyhow!("ztop: --demo: {e}"))?;
        let started = async {
            for j in &conf.jails {
                if zones.lookup(&caller, &j.name).await.is_ok() {
                    continue;
                }
                let root = std::path::PathBuf::from(j.params.str("path").unwrap_or("/"));
                if !zones_linux::front::is_installed(&root) {
                    zones
                        .install(&caller, &conf, &j.name)
                        .await
                        .map_err(|e| anyhow::anyhow!("ztop: {e}"))?;
                }
                booted.push(j.name.clone());
                zones
                    .boot_configured(&caller, &conf, &j.name, &BootFrom::BOOT)
                    .await
                    .map_err(|e| anyhow::anyhow!("ztop: {e}"))?;
            }
            Ok::<(), anyhow::Error>(())
        }
        .await;
        if let Err(e) = started {
            // Leave nothing of a demo that did not start: its zones, then
            // the bridges made for them.
            Connection {
                snapshots,
                control,
                warning: None,
                demo: Some((zones, booted, bridges)),
            }
            .finish()
            .await;
            return Err(e);
        }
        Some((zones, booted, bridges))
    } else {
        None
    };
    Ok(Connection {
        snapshots,
        control,
        demo,
        warning,
    })
}

/// ztop's effect handler: each key's operation is the engine's operation
/// of the matching zoneadm command (crate::engine's `configured`), so it
/// does what that command does and fails with the same error, the
/// footer showing the text zoneadm prints after `zone 'NAME': `:
///
/// | key | op | zoneadm |
/// |-----|----|---------|
/// | `b` | boot | `boot` |
/// | `C` | create | `ready` |
/// | `s` | shutdown | `shutdown` |
/// | `h` | halt | `halt` |
/// | `r` | reboot | `reboot` |
/// | `D` | destroy | `halt` of a zone that has a kernel zone, else `uninstall -F` |
///
/// Every operation names the zone only, and the engine resolves it
/// against its own configuration (the API's "By name"): zoned's jail.conf
/// on whichever host it runs, local or across `-H` alike. `conf` is what
/// an embedded engine that was given no configuration resolves against
/// (ztop's own jail.conf; [`connect`] gives it at start); zoned ignores it.
pub fn run_op(zones: Zones, conf: JailConf, caller: Caller, op: Op) -> OpFuture {
    if let Zones::Embedded(e) = &zones
        && e.configuration().is_none()
    {
        e.set_configuration(conf);
    }
    let op2 = op.clone();
    timed(&op, async move {
        let name = op2.zone().to_string();
        let r = match &op2 {
            Op::Boot(_) => zones
                .boot_named(&caller, &name, &BootFrom::BOOT)
                .await
                .map(drop),
            Op::Create(_) => zones
                .boot_named(&caller, &name, &BootFrom::READY)
                .await
                .map(drop),
            Op::Shutdown(_) => zones.shutdown_zone(&caller, &name).await,
            Op::Halt(_) => zones.halt_zone(&caller, &name).await,
            Op::Reboot(_) => zones.reboot_zone(&caller, &name).await.map(drop),
            Op::Destroy(_) => {
                if zones.lookup(&caller, &name).await.is_ok() {
                    zones.halt_zone(&caller, &name).await
                } else {
                    zones.uninstall_named(&caller, &name).await
                }
            }
        };
        r.map_err(|e| e.unzoned(&name))
    })
}

/// ztop's actions on the engine, as zoneadm does them.
struct EngineControl {
    port: Port,
    conf: JailConf,
    socket: std::path::PathBuf,
}

impl Control for EngineControl {
    fn run(&self, op: Op) -> OpFuture {
        run_op(self.port.zones(), self.conf.clone(), root_caller(), op)
    }

    fn zlogin_command(&self, zone: &str) -> std::process::Command {
        let exe = std::env::current_exe()
            .ok()
            .and_then(|e| e.parent().map(|d| d.join("zlogin")))
            .filter(|p| p.exists())
            .unwrap_or_else(|| "zlogin".into());
        let mut c = std::process::Command::new(exe);
        c.arg("--socket").arg(&self.socket).arg(zone);
        c
    }

    fn console_command(&self, zone: &str) -> std::process::Command {
        let mut c = self.zlogin_command(zone);
        let args: Vec<std::ffi::OsString> = c.get_args().map(|a| a.to_os_string()).collect();
        let mut n = std::process::Command::new(c.get_program());
        // zlogin [--socket S] -C zone: the flag before the zone name.
        let (last, rest) = args
            .split_last()
            .expect("zlogin's arguments end in the zone");
        n.args(rest).arg("-C").arg(last);
        c = n;
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn timed_says_how_long_or_why_not() {
        let ok = timed(&Op::Create("web".into()), async { Ok(()) })
            .await
            .unwrap();
        assert!(ok.starts_with("created in "), "{ok}");
        let err = timed(&Op::Destroy("web".into()), async {
            Err("busy".to_string())
        })
        .await;
        assert_eq!(err, Err("busy".to_string()));
    }

    #[tokio::test]
    async fn from_optional_forwards_snapshots_and_closes_with_its_source() {
        let (tx, rx) = watch::channel(None);
        let mut out = from_optional(rx);
        assert_eq!(out.borrow().seq, 0, "nothing yet: the default snapshot");
        let s = Snapshot {
            seq: 7,
            ..Snapshot::default()
        };
        tx.send(Some(Arc::new(s))).unwrap();
        out.changed().await.unwrap();
        assert_eq!(out.borrow_and_update().seq, 7);
        drop(tx);
        assert!(out.changed().await.is_err(), "the source closed");
    }

    #[tokio::test]
    async fn timed_blocking_says_how_long_or_why_not() {
        let op = Op::Boot("web".into());
        let ok = timed_blocking(&op, || {
            std::thread::sleep(Duration::from_millis(20));
            Ok(())
        })
        .await
        .unwrap();
        assert!(ok.starts_with("booted in "), "{ok}");
        assert!(ok.ends_with(" ms"), "{ok}");
        let ms: u64 = ok["booted in ".len()..ok.len() - 3].parse().unwrap();
        assert!(ms >= 20, "{ok}");
        let err = timed_blocking(
            &Op::Halt("web".into()),
            || Err("zone is not running".into()),
        )
        .await
        .unwrap_err();
        assert_eq!(err, "zone is not running");
    }
}
