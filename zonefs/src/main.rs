//! # zonefs(8): mount the /zones tree
//!
//! `zonefs [MOUNTPOINT] [--socket PATH] [--state-dir DIR] [--cgroup-root R] [-d]`
//!
//! Runs in the foreground until SIGINT, SIGTERM or SIGHUP, or until the
//! engine goes away for good, then unmounts. `-d` detaches: the parent
//! returns once the tree is mounted (or prints why it could not be), the
//! child serves it in a new session with its stdio on /dev/null.
//!
//! Signals are blocked in every thread (the mask is set before the first
//! thread starts) and taken by `sigwait` in the main thread, so no handler
//! runs inside the FUSE machinery.

use clap::Parser;
use nix::sys::signal::{SigSet, Signal};
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use zonefs::{Holds, Options};
use zones::snapshot::Snapshot;
use zones_linux::api::{Endpoint, follow};

#[derive(Parser, Debug)]
#[command(
    name = "zonefs",
    version,
    about = "Mount the read-only /zones tree of every zone"
)]
pub struct Args {
    /// Where to mount (an empty directory; made if missing).
    #[arg(default_value = "/zones")]
    pub mountpoint: PathBuf,
    /// zoned's socket (else the embedded engine when no daemon runs).
    #[arg(long)]
    pub socket: Option<PathBuf>,
    /// The engine's durable state (embedded engine).
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
    /// The cgroup under which zones live (embedded engine).
    #[arg(long)]
    pub cgroup_root: Option<PathBuf>,
    /// Detach once mounted.
    #[arg(short = 'd')]
    pub detach: bool,
}

/// What `connect` hands zonefs: the snapshots, the holds, and whatever must
/// stay alive while they flow.
pub struct Connection {
    pub snapshots: watch::Receiver<Arc<Snapshot>>,
    pub holds: Arc<dyn Holds>,
    pub keepalive: Box<dyn std::any::Any + Send>,
}

/// The engine behind the tree: zoned at the socket (followed across its
/// restarts for 30 s), else the engine run here, which also serves the API
/// so that the other tools keep working. Holds are zone_ref + MNTFS.
fn connect(args: &Args) -> anyhow::Result<Connection> {
    let ep = Endpoint::resolve(
        args.socket.clone(),
        args.state_dir.clone(),
        args.cgroup_root
            .as_ref()
            .map(|p| p.to_string_lossy().into_owned()),
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("zonefs-engine")
        .enable_all()
        .build()?;
    let follow = rt.block_on(follow(&ep, "zonefs", Duration::from_secs(30)))?;
    Ok(Connection {
        snapshots: follow.snapshots,
        holds: Arc::new(follow.port),
        keepalive: Box::new(rt),
    })
}

/// Fork; the parent waits for the child's word on a pipe and exits with it.
/// Returns the write end in the child.
fn detach() -> anyhow::Result<OwnedFd> {
    let (r, w) = nix::unistd::pipe()?;
    // SAFETY: no thread has been started yet; the child only continues main.
    match unsafe { nix::unistd::fork()? } {
        nix::unistd::ForkResult::Parent { .. } => {
            drop(w);
            let mut f = std::fs::File::from(r);
            let mut msg = String::new();
            let _ = f.read_to_string(&mut msg);
            if msg == "ok" {
                std::process::exit(0);
            }
            if msg.is_empty() {
                msg = "zonefs: the detached server died before mounting".into();
            }
            eprintln!("{msg}");
            std::process::exit(1);
        }
        nix::unistd::ForkResult::Child => {
            drop(r);
            nix::unistd::setsid()?;
            let null = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open("/dev/null")?;
            for fd in 0..3 {
                // SAFETY: replaces stdin/stdout/stderr; nothing holds them as owned fds.
                // The new descriptor must stay open: give up its ownership.
                let stdio = unsafe { nix::unistd::dup2_raw(&null, fd)? };
                let _ = std::os::fd::IntoRawFd::into_raw_fd(stdio);
            }
            Ok(w)
        }
    }
}

fn main() {
    let args: Args = zones_linux::front::parse_args();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();

    // Refuse a bad mount point before detaching, so the error is seen.
    if let Err(e) = zonefs::life::check_mountpoint(&args.mountpoint) {
        eprintln!("{e}");
        std::process::exit(1);
    }
    let mut report = if args.detach {
        match detach() {
            Ok(w) => Some(std::fs::File::from(w)),
            Err(e) => {
                eprintln!("zonefs: cannot detach: {e}");
                std::process::exit(1);
            }
        }
    } else {
        None
    };
    let mut fail = |msg: String| -> ! {
        if let Some(f) = report.as_mut() {
            let _ = f.write_all(msg.as_bytes());
        }
        eprintln!("{msg}");
        std::process::exit(1);
    };

    let mut signals = SigSet::empty();
    for s in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        signals.add(s);
    }
    if let Err(e) = signals.thread_block() {
        fail(format!("zonefs: cannot block signals: {e}"));
    }

    let conn = match connect(&args) {
        Ok(c) => c,
        Err(e) => fail(format!("zonefs: cannot reach the engine: {e:#}")),
    };
    let opts = Options {
        on_source_closed: Some(Box::new(|| {
            tracing::warn!("zonefs: the engine went away; unmounting");
            let _ = nix::sys::signal::kill(nix::unistd::getpid(), Signal::SIGTERM);
        })),
        ..Options::default()
    };
    let handle = match zonefs::mount(&args.mountpoint, conn.snapshots, conn.holds, opts) {
        Ok(h) => h,
        Err(e) => fail(e.to_string()),
    };
    if let Some(mut f) = report.take() {
        let _ = f.write_all(b"ok");
    }
    let sig = signals.wait();
    tracing::info!("zonefs: {sig:?}: unmounting {}", args.mountpoint.display());
    if let Err(e) = handle.unmount() {
        eprintln!("{e}");
        std::process::exit(1);
    }
    drop(conn.keepalive);
}
