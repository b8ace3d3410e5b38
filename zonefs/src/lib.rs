//! # zonefs: the /zones tree
//!
//! zonefs mounts a read-only FUSE file system that shows every zone as a
//! directory of small text files (zonefs.md). It shows engine snapshots and
//! nothing else: it never reads a counter from the kernel and never computes
//! one.
//!
//! ## Threads and data flow
//!
//! ```text
//!   engine ──watch<Arc<Snapshot>>──▶ watcher thread ──Arc<Tree>──▶ FUSE threads
//!                                      │ (render, diff)               (answer from the tree)
//!                                      └── delete / inval_entry ──▶ kernel
//! ```
//!
//! * The **watcher** ([`mount`] starts it) waits for each new snapshot,
//!   builds its [`tree::Tree`] (rendering only the zones whose snapshot
//!   changed), makes it current, then tells the kernel exactly which entries
//!   went away and which file versions it holds were replaced. Notifications are sent from
//!   this thread only, never from a request handler (a handler that
//!   invalidates a page it is being asked to fill deadlocks).
//! * The **FUSE threads** ([`fs`]) answer from the current tree.
//! * [`Holds`] is the seam through which the files the kernel holds (open
//!   ones among them) hold their zone (zone_ref and MNTFS), as an open file
//!   on illumos' mntfs holds a zone.
//!
//! ## The seams the engine implements
//!
//! * a `tokio::sync::watch::Receiver<Arc<Snapshot>>` that the engine (in
//!   zoned, or embedded) publishes every snapshot on; zonefs stops serving
//!   new snapshots when the sender is dropped and then calls
//!   [`Options::on_source_closed`];
//! * [`Holds`], counting the holds of open files.

pub mod fs;
pub mod life;
pub mod link;
pub mod notify;
pub mod render;
pub mod testkit;
pub mod tree;
pub mod viewer;

use fs::{Shared, ZoneFs};
use fuser::{Config, Session, SessionACL};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::{Notify, watch};
use tree::{Inval, Tree};
use zones::snapshot::Snapshot;
use zones::zone::ZoneId;

pub use life::MountError;

/// The holds a zone's files keep on it while the kernel holds them (from
/// a file version's first lookup until the kernel forgets it; see
/// [`fs`]). The engine implements it: `hold` takes a zone_ref and an MNTFS
/// subsystem reference (so `refs/subsys/MNTFS` counts the zone's zonefs
/// files in the kernel's hands, and a halting zone waits for the open ones
/// as illumos waits for mntfs), `release` gives both back.
pub trait Holds: Send + Sync + 'static {
    /// Hold the zone `id` whose life is `uniqid`; `None` if the engine no
    /// longer knows that life (the open still succeeds, unheld).
    fn hold(&self, id: ZoneId, uniqid: u64) -> Option<u64>;
    /// Release the hold `token` returned by [`Holds::hold`].
    fn release(&self, token: u64);
}

/// The engine's holds: zone_ref and MNTFS on the zone's life `uniqid`.
impl Holds for zones_linux::api::Port {
    fn hold(&self, id: ZoneId, uniqid: u64) -> Option<u64> {
        zones_linux::api::Port::hold(self, id, uniqid, true)
    }
    fn release(&self, token: u64) {
        zones_linux::api::Port::release(self, token)
    }
}

/// Holds nothing (for a tree with no engine behind it).
pub struct NoHolds;

impl Holds for NoHolds {
    fn hold(&self, _id: ZoneId, _uniqid: u64) -> Option<u64> {
        None
    }
    fn release(&self, _token: u64) {}
}

/// How to mount.
pub struct Options {
    /// How long the kernel may keep entries and attributes (zonefs drops
    /// them itself when they change).
    pub ttl: Duration,
    /// FUSE request threads.
    pub threads: usize,
    /// The source shown in /proc/mounts.
    pub fsname: String,
    /// Nice value of the FUSE threads (a reader waits on them as on the
    /// kernel; on a busy host they should not wait behind batch work).
    /// `None` leaves the caller's.
    pub nice: Option<i32>,
    /// Called once, from the watcher thread, when the snapshot sender is
    /// dropped (the engine went away for good).
    pub on_source_closed: Option<Box<dyn FnOnce() + Send>>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            ttl: Duration::from_secs(24 * 3600),
            threads: std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4)),
            fsname: "zonefs".to_string(),
            nice: None,
            on_source_closed: None,
        }
    }
}

/// A mounted tree. Dropping it unmounts (lazily if files are still open).
pub struct MountHandle {
    mountpoint: PathBuf,
    shared: Arc<Shared>,
    stop: Arc<Notify>,
    watcher: Option<JoinHandle<()>>,
    session: Option<fuser::BackgroundSession>,
}

/// Mount the tree of `source`'s snapshots at `mountpoint`, which must be an
/// empty directory (a stale mount left by a crash is reported with the
/// command that clears it).
pub fn mount(
    mountpoint: &Path,
    mut source: watch::Receiver<Arc<Snapshot>>,
    holds: Arc<dyn Holds>,
    mut opts: Options,
) -> Result<MountHandle, MountError> {
    life::check_mountpoint(mountpoint)?;
    let own_ns = viewer::pid_ns(std::process::id()).unwrap_or(0);
    let first = source.borrow_and_update().clone();
    let (tree, _) = Tree::build(&first, None, &mut viewer::pid_ns);
    let shared = Arc::new(Shared::new(tree, own_ns, holds, opts.ttl));

    let mut cfg = Config::default();
    cfg.acl = SessionACL::All;
    cfg.n_threads = Some(opts.threads.max(1));
    cfg.clone_fd = true;
    let fs = ZoneFs {
        shared: shared.clone(),
    };
    let io = |e: std::io::Error| MountError::Mount {
        path: mountpoint.to_path_buf(),
        source: e,
    };
    let (dev, kernel) = mount_fuse(mountpoint, &opts.fsname).map_err(io)?;
    // The FUSE threads inherit the nice value of the thread that spawns
    // them: spawn them from a thread of their own that set it.
    let nice = opts.nice;
    let session = std::thread::Builder::new()
        .name("zonefs-mount".into())
        .spawn(move || {
            if let Some(n) = nice {
                // SAFETY: setpriority on this thread (who 0 = the caller's tid).
                let r = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, n) };
                if r != 0 {
                    tracing::debug!("zonefs: nice {n}: {}", std::io::Error::last_os_error());
                }
            }
            Session::from_fd(fs, dev, SessionACL::All, cfg)?.spawn()
        })
        .map_err(io)?
        .join()
        .map_err(|_| io(std::io::Error::other("the mount thread panicked")));
    let session = match session {
        Ok(Ok(s)) => s,
        Ok(Err(e)) | Err(MountError::Mount { source: e, .. }) => {
            let _ = life::unmount(mountpoint);
            return Err(io(e));
        }
        Err(e) => return Err(e),
    };

    let stop = Arc::new(Notify::new());
    let watcher = {
        let shared = shared.clone();
        let stop = stop.clone();
        let on_closed = opts.on_source_closed.take();
        std::thread::Builder::new()
            .name("zonefs-watch".into())
            .spawn(move || watch_snapshots(source, shared, kernel, stop, on_closed))
            .map_err(io)?
    };
    Ok(MountHandle {
        mountpoint: mountpoint.to_path_buf(),
        shared,
        stop,
        watcher: Some(watcher),
        session: Some(session),
    })
}

/// The watcher: one tree per snapshot, then the kernel's invalidations.
fn watch_snapshots(
    mut source: watch::Receiver<Arc<Snapshot>>,
    shared: Arc<Shared>,
    kernel: notify::Kernel,
    stop: Arc<Notify>,
    on_closed: Option<Box<dyn FnOnce() + Send>>,
) {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread().build() else {
        tracing::error!("zonefs: cannot start the snapshot watcher");
        return;
    };
    let closed = rt.block_on(async {
        loop {
            tokio::select! {
                r = source.changed() => if r.is_err() { return true },
                _ = stop.notified() => return false,
            }
            let snap = source.borrow_and_update().clone();
            let old = shared.tree();
            let (tree, invals) = Tree::build(&snap, Some(&old), &mut viewer::pid_ns);
            drop(old);
            let previous = shared.set_tree(Arc::new(tree));
            for i in invals {
                let r = match &i {
                    Inval::Entry(parent, name) => kernel.inval_entry(*parent, name),
                    Inval::Inode(ino) => kernel.inval_inode(*ino),
                    Inval::Replaced { parent, name, old } => {
                        retire(&kernel, &shared, *parent, *old, name)
                    }
                    Inval::Retire(base) => {
                        for (parent, ino, name) in shared.known_of(*base) {
                            if let Err(e) = retire(&kernel, &shared, parent, ino, &name) {
                                tracing::debug!("zonefs: delete {name:?} of {parent}: {e}");
                            }
                        }
                        Ok(())
                    }
                };
                if let Err(e) = r {
                    tracing::debug!("zonefs: invalidation {i:?}: {e}");
                }
            }
            shared.set_applied(snap.seq);
            drop(previous);
        }
    });
    if closed && let Some(f) = on_closed {
        f();
    }
}

/// Delete the version `ino` (`name` in `parent`) from the kernel's caches
/// if the kernel holds it (only those need a word); if no reader can reach
/// it any more, its hold ends now.
fn retire(
    kernel: &notify::Kernel,
    shared: &Shared,
    parent: u64,
    ino: u64,
    name: &std::ffi::OsStr,
) -> std::io::Result<()> {
    if !shared.mark_deleted(ino) {
        // Unknown to the kernel, or deleted before (it forgets it at its
        // last close).
        return Ok(());
    }
    if kernel.delete(parent, ino, name)? == notify::Deleted::Unreachable {
        shared.release_unreachable(ino);
    }
    Ok(())
}

/// Mount a FUSE file system at `mp` on a new /dev/fuse descriptor; returns
/// the descriptor for the session and a duplicate for notifications.
fn mount_fuse(mp: &Path, fsname: &str) -> std::io::Result<(std::os::fd::OwnedFd, notify::Kernel)> {
    use nix::mount::MsFlags;
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(mp)?.permissions().mode();
    let dev = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/fuse")?;
    let kernel = notify::Kernel::new(dev.try_clone()?);
    // Type `fuse.zonefs`: how the runtime finds (and detaches) zonefs
    // mounts in a zone's namespace.
    let data = format!(
        "fd={},rootmode={mode:o},user_id={},group_id={},default_permissions,allow_other,subtype=zonefs",
        dev.as_raw_fd(),
        nix::unistd::getuid(),
        nix::unistd::getgid(),
    );
    let flags = MsFlags::MS_RDONLY
        | MsFlags::MS_NOSUID
        | MsFlags::MS_NODEV
        | MsFlags::MS_NOEXEC
        | MsFlags::MS_NOATIME;
    nix::mount::mount(Some(fsname), mp, Some("fuse"), flags, Some(data.as_str())).map_err(|e| {
        match e {
            nix::errno::Errno::EPERM => std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                "mounting needs root (CAP_SYS_ADMIN)",
            ),
            e => std::io::Error::from(e),
        }
    })?;
    Ok((dev.into(), kernel))
}

impl MountHandle {
    pub fn mountpoint(&self) -> &Path {
        &self.mountpoint
    }

    /// Wait until the snapshot `seq` (or a later one) is served and its
    /// invalidations were sent; false on timeout.
    pub fn wait_applied(&self, seq: u64, timeout: Duration) -> bool {
        self.shared.wait_applied(seq, timeout)
    }

    /// Directories open now (files are opened by the kernel alone).
    pub fn open_count(&self) -> usize {
        self.shared.open_count()
    }

    /// File versions the kernel holds now (looked up and not forgotten).
    pub fn known_count(&self) -> usize {
        self.shared.known_count()
    }

    /// Unmount: stop watching, unmount (lazily when busy), end the session.
    pub fn unmount(mut self) -> Result<(), MountError> {
        self.teardown()
    }

    fn teardown(&mut self) -> Result<(), MountError> {
        self.stop.notify_one();
        if let Some(w) = self.watcher.take() {
            let _ = w.join();
        }
        let Some(session) = self.session.take() else {
            return Ok(());
        };
        let busy = life::unmount(&self.mountpoint)?;
        if !busy && self.shared.open_count() == 0 {
            let _ = session.join();
        }
        // Else the session thread serves the open files of the detached
        // mount until they are closed, then ends on its own.
        Ok(())
    }
}

impl Drop for MountHandle {
    fn drop(&mut self) {
        if let Err(e) = self.teardown() {
            tracing::warn!("{e}");
        }
    }
}
