//! # zoned: the daemon that owns the zones of a host
//!
//! One process holds the engine (registry, lifecycle, the 1 Hz sampler,
//! durable state) and offers it to every front-end:
//!
//! * the API on a Unix socket (`--socket`, default `/run/zones/zoned.sock`,
//!   mode 0666: control for root only, read-only for every local user,
//!   each of whom is capped — connections per uid, frame sizes, memory,
//!   idle time — so that no local user can take zoned down or keep root
//!   waiting, see `zones_linux::api::Limits`);
//! * the Prometheus/OpenMetrics text at `http://ADDR/metrics` (`--metrics`);
//! * the /zones tree in the same process (`--zonefs MOUNTPOINT`).
//!
//! It takes the state directory's lock (two engines never own one
//! directory), re-adopts every zone an earlier engine left, and on
//! SIGTERM / SIGINT exits leaving every zone running: the zones do not
//! depend on it. Logs go to stderr (journald-friendly), at the level
//! `RUST_LOG` sets (default `info`).
//!
//! The configuration (`--config FILE`, else `$ZONES_CONFIG`, else
//! /etc/jail.conf and /etc/jail.conf.d/*.conf) is read at start — a broken
//! one is refused and zoned exits 1 — and the engine shows every configured
//! zone ([`config`]). Zones with `autoboot` are created and booted at start
//! unless they already run. SIGHUP rereads the configuration on a thread
//! of its own, cancellable ([`config::Reload`]), so SIGTERM is answered
//! during any reread; a broken file is logged (file and line) and the
//! configuration in force is kept.
//!
//! At start it raises its RLIMIT_NOFILE (the hard limit to at least 65,536
//! when fs.nr_open allows, the soft one to the hard one): the limits of
//! the API (users' connections take at most a quarter of it) and of the
//! sampler (its kept cgroup descriptors another quarter; it keeps none per
//! thread) are drawn from it, and the half left is root's and the
//! engine's reserve, which neither may take. Zones inherit the limit, as
//! they inherit the one a service manager gives zoned.
//!
//! It is its own small crate, beside core/ and zonefs/, because it is the
//! one program that puts them together in one process.

mod config;

use clap::Parser;
use std::path::PathBuf;
use tokio::signal::unix::{SignalKind, signal};
use zones_linux::api::{Endpoint, Limits, bind_socket, serve_with, start_serving_engine};

#[derive(Parser, Debug)]
#[command(name = "zoned", version, about = "The zones daemon")]
struct Args {
    /// State directory (default $ZONES_STATE_DIR, else /var/lib/zones).
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// API socket (default $ZONED_SOCKET, else /run/zones/zoned.sock).
    #[arg(long)]
    socket: Option<PathBuf>,
    /// Where zone cgroups live: absolute, or beneath zoned's own cgroup.
    #[arg(long)]
    cgroup_root: Option<String>,
    /// Serve /metrics on this address (e.g. 127.0.0.1:9274).
    #[arg(long, value_name = "ADDR")]
    metrics: Option<String>,
    /// Serve the /zones tree at this mount point in this process.
    #[arg(long, value_name = "MOUNTPOINT")]
    zonefs: Option<PathBuf>,
    /// jail.conf to read (default $ZONES_CONFIG, else /etc/jail.conf and /etc/jail.conf.d).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Close a connection that has not said hello after this many ms (tests).
    #[arg(long, hide = true, value_name = "MS")]
    hello_timeout_ms: Option<u64>,
    /// Close a non-root client idle for this many ms (tests).
    #[arg(long, hide = true, value_name = "MS")]
    idle_timeout_ms: Option<u64>,
}

/// The descriptors zoned wants at least: a quarter of them (the
/// sampler's budget) keeps the cgroup files of a thousand zones open.
const NOFILE_FLOOR: u64 = 1 << 16;

/// Raise RLIMIT_NOFILE: the hard limit to [`NOFILE_FLOOR`] when it is
/// lower (zoned is root; fs.nr_open caps it), then the soft one to the
/// hard one. Returns the soft limit in force.
fn raise_nofile() -> u64 {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (soft, mut hard) = match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!("RLIMIT_NOFILE: {e}");
            return 1024;
        }
    };
    if hard < NOFILE_FLOOR {
        let nr_open = std::fs::read_to_string("/proc/sys/fs/nr_open")
            .ok()
            .and_then(|t| t.trim().parse::<u64>().ok())
            .unwrap_or(NOFILE_FLOOR);
        let want = NOFILE_FLOOR.min(nr_open).max(hard);
        match setrlimit(Resource::RLIMIT_NOFILE, soft.min(want), want) {
            Ok(()) => hard = want,
            // No CAP_SYS_RESOURCE (some containers): the limit given is
            // kept, and "zoned ready" says which it is.
            Err(e) => {
                tracing::debug!("RLIMIT_NOFILE: raising the hard limit {hard} to {want}: {e}")
            }
        }
    }
    if soft >= hard {
        return soft;
    }
    match setrlimit(Resource::RLIMIT_NOFILE, hard, hard) {
        Ok(()) => hard,
        Err(e) => {
            tracing::warn!("RLIMIT_NOFILE stays {soft}: raising it to {hard}: {e}");
            soft
        }
    }
}

fn fail(msg: impl std::fmt::Display) -> ! {
    eprintln!("zoned: {msg}");
    std::process::exit(1);
}

/// On a pure cgroup v2 host with a relative cgroup root (a systemd unit
/// with `Delegate=yes`), zoned's own cgroup must hold no process to enable
/// controllers for the zones beneath it: fix the root as the absolute path
/// it means now, and move zoned into the leaf `<own cgroup>/zoned`. The
/// root cgroup is exempt; v1 and hybrid hosts need nothing.
fn delegated_v2(mut ep: Endpoint) -> Endpoint {
    use zones_linux::runtime::linux::cgroup::{self, Layout};
    if ep.cgroup_root.starts_with('/') || !matches!(cgroup::detect(), Ok(Layout::V2)) {
        return ep;
    }
    let Some(h) = cgroup::hierarchies()
        .ok()
        .and_then(|hs| hs.into_iter().find(|h| h.is_v2()))
    else {
        return ep;
    };
    ep.cgroup_root = h.own.join(&ep.cgroup_root).display().to_string();
    if h.own != std::path::Path::new("/") {
        let base = h.mount.join(h.own.strip_prefix("/").unwrap_or(&h.own));
        match cgroup::move_self_to_leaf(&base, "zoned") {
            Ok(leaf) => {
                tracing::info!(leaf = %leaf.display(), cgroup_root = %ep.cgroup_root, "cgroup v2: zoned moved to a leaf of its delegated cgroup")
            }
            Err(e) => fail(format!("cgroup v2: {e}")),
        }
    }
    ep
}

#[tokio::main]
async fn main() {
    let args: Args = zones_linux::front::parse_args();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        fail("permission denied: zoned must run as root");
    }
    let nofile = raise_nofile();
    let mut limits = Limits::for_nofile(nofile);
    if let Some(ms) = args.hello_timeout_ms {
        limits.hello_timeout = std::time::Duration::from_millis(ms);
    }
    if let Some(ms) = args.idle_timeout_ms {
        limits.idle_timeout = std::time::Duration::from_millis(ms);
    }
    let common = zones_linux::front::Common {
        config: args.config.clone(),
        ..Default::default()
    };
    let cfg = match common.load_config() {
        Ok(c) => c,
        Err(e) => fail(e.to_string().replace('\n', "\nzoned: ")),
    };
    let ep = Endpoint::resolve(
        args.socket.clone(),
        args.state_dir.clone(),
        args.cgroup_root.clone(),
    );
    let ep = delegated_v2(ep);
    // The handlers are in place before the socket exists: a client that
    // sees the socket may signal zoned at once, and a SIGHUP or SIGTERM
    // that arrived before them would end zoned by the default action.
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
    let mut hup = signal(SignalKind::hangup()).expect("SIGHUP handler");
    let listener = match bind_socket(&ep.socket).await {
        Ok(l) => l,
        Err(e) => fail(format!("{}: {e}", ep.socket.display())),
    };
    let engine = match start_serving_engine(&ep, &ep.socket.display().to_string()).await {
        Ok(e) => e,
        Err(e) => {
            let _ = std::fs::remove_file(&ep.socket);
            fail(e)
        }
    };
    engine.start_sampler();
    config::apply(&engine, &cfg);
    tracing::info!(
        socket = %ep.socket.display(),
        state_dir = %ep.state_dir.display(),
        zones = engine.snapshot().zones.len() - 1,
        nofile,
        users_conns = limits.users_conns,
        per_uid_conns = limits.per_uid_conns,
        "zoned ready"
    );
    tokio::spawn(serve_with(engine.clone(), listener, limits));
    tokio::spawn(config::autoboot(engine.clone(), cfg));
    if let Some(addr) = &args.metrics {
        match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => {
                let e = engine.clone();
                tokio::spawn(async move {
                    if let Err(err) =
                        zones_linux::kstat::metrics::serve(l, move || e.snapshot()).await
                    {
                        tracing::error!("metrics: {err}");
                    }
                });
            }
            Err(e) => fail(format!("--metrics {addr}: {e}")),
        }
    }
    let _zonefs = args.zonefs.as_ref().map(|mp| {
        let holds = std::sync::Arc::new(zones_linux::api::Port::local(engine.clone()));
        match zonefs::mount(mp, engine.subscribe(), holds, zonefs::Options::default()) {
            Ok(h) => {
                tracing::info!(mountpoint = %mp.display(), "serving /zones");
                h
            }
            Err(e) => fail(e),
        }
    });
    // The reread runs off this loop (config::Reload), so SIGTERM is
    // always answered at once.
    let mut reload = config::Reload::default();
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = int.recv() => break,
            _ = hup.recv() => {
                tracing::info!("SIGHUP: rereading the configuration");
                reload.start(&common);
            }
            r = reload.done() => config::finish(&engine, r),
        }
    }
    reload.cancel();
    // Zones keep running: only the daemon (and its /zones tree) goes.
    if let Some(h) = _zonefs
        && let Err(e) = h.unmount()
    {
        tracing::warn!("unmounting /zones: {e}");
    }
    let _ = std::fs::remove_file(&ep.socket);
    tracing::info!("zoned stopping; zones keep running");
}
