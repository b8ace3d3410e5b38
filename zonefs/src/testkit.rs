//! # Test kit: hand-built snapshots and a real mount that cleans up
//!
//! For zonefs' own tests and benchmark (and the lead's e2e tests): build
//! zone snapshots by hand, mount a real FUSE tree on a fresh directory, push
//! snapshots as the engine's sampler would (each push waits until the tree
//! serves it and the kernel was told what changed), and unmount and remove
//! the directory when the [`Mounted`] guard is dropped, even by a panic.

use crate::{Holds, MountHandle, Options};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
pub use zones::snapshot::ZoneSnapshot;
use zones::snapshot::{Kstat, Refs, Snapshot, Subsys};
use zones::testing::ZoneBuilder;
use zones::zone::ZoneId;

/// The global zone, running, with a few counters.
pub fn global() -> ZoneSnapshot {
    ZoneBuilder::global()
        .hostname("host0")
        .boot_time(1_700_000_000)
        .crtime(1_000_000_000)
        .privileges(&["cap_sys_admin"])
        .kstat(Kstat {
            nprocs: 120,
            nlwps: 300,
            avenrun: [256, 128, 64],
            snaptime: 2_000_000_000,
            ..Kstat::default()
        })
        .procs(vec![1, 2, 3])
        .build()
}

/// A running zone with parameters, rctls, privileges, processes and refs.
pub fn zone(id: u32, name: &str, uniqid: u64) -> ZoneSnapshot {
    let mut refs = Refs {
        zone_ref: 3,
        cred_ref: 5,
        ..Refs::default()
    };
    refs.subsys[Subsys::Mntfs as usize] = 1;
    ZoneBuilder::new(id, name)
        .uniqid(uniqid)
        .params(&[
            "persist",
            "zone.max-processes=100",
            "zone.max-locked-memory=64M",
            "exec.start=/bin/sh,/etc/rc",
            &format!("host.hostname={name}.example"),
        ])
        .root(format!("/srv/zones/{name}"))
        .hostname(format!("{name}.example"))
        .init_pid(4000 + id)
        .boot_time(1_700_000_100)
        .crtime(5_000_000_123)
        .privileges(&["cap_chown", "cap_kill"])
        .refs(refs)
        .kstat(Kstat {
            nprocs: 3,
            nlwps: 7,
            lockedmem: 4096,
            swapresv: 1 << 20,
            avenrun: [133, 79, 26],
            nsec_user: 1_500,
            nsec_sys: 2_500,
            nsec_waitrq: 10,
            forkfail_cap: 2,
            snaptime: 9_500_000_000,
            ..Kstat::default()
        })
        .procs(vec![4000 + id, 4100 + id])
        .build()
}

/// A snapshot of these zones (ordered by id as the engine orders them).
pub fn snapshot(seq: u64, zones: Vec<ZoneSnapshot>) -> Snapshot {
    let mut zones: Vec<Arc<ZoneSnapshot>> = zones.into_iter().map(Arc::new).collect();
    zones.sort_by_key(|z| z.id);
    Snapshot {
        seq,
        time: 1_700_000_000.0 + seq as f64,
        hrtime: seq * 1_000_000_000,
        zones,
        engine: "test".into(),
        ..Snapshot::default()
    }
}

/// Holds counted per zone id, as the engine would count MNTFS + zone_ref.
#[derive(Default)]
pub struct CountingHolds {
    next: AtomicU64,
    held: Mutex<HashMap<u64, ZoneId>>,
}

impl CountingHolds {
    /// Open files holding `zone` now.
    pub fn count(&self, zone: ZoneId) -> usize {
        let held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        held.values().filter(|z| **z == zone).count()
    }
}

impl Holds for CountingHolds {
    fn hold(&self, id: ZoneId, _uniqid: u64) -> Option<u64> {
        let t = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        self.held
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(t, id);
        Some(t)
    }
    fn release(&self, token: u64) {
        self.held
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&token);
    }
}

/// A real mount on a fresh directory; unmounted and removed on drop.
pub struct Mounted {
    pub dir: PathBuf,
    pub holds: Arc<CountingHolds>,
    tx: watch::Sender<Arc<Snapshot>>,
    handle: Option<MountHandle>,
}

static NEXT_DIR: AtomicU64 = AtomicU64::new(0);

impl Mounted {
    /// Mount a tree serving `first`.
    pub fn new(first: Snapshot) -> Mounted {
        Mounted::with_options(first, Options::default())
    }

    /// Mount a tree serving `first`, with these options.
    pub fn with_options(first: Snapshot, opts: Options) -> Mounted {
        let n = NEXT_DIR.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("zonefs-test-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir(&dir);
        std::fs::create_dir_all(&dir).expect("a mount point");
        let (tx, rx) = watch::channel(Arc::new(first));
        let holds = Arc::new(CountingHolds::default());
        let handle = crate::mount(&dir, rx, holds.clone(), opts)
            .unwrap_or_else(|e| panic!("mount at {}: {e}", dir.display()));
        Mounted {
            dir,
            holds,
            tx,
            handle: Some(handle),
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    /// Publish a snapshot and wait until it is served.
    pub fn push(&self, snap: Snapshot) {
        let seq = snap.seq;
        self.tx.send_replace(Arc::new(snap));
        assert!(
            self.handle().wait_applied(seq, Duration::from_secs(10)),
            "snapshot {seq} not served within 10 s"
        );
    }

    pub fn handle(&self) -> &MountHandle {
        self.handle.as_ref().expect("mounted")
    }

    pub fn root(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            let _ = h.unmount();
        }
        // Belt and braces: never leave a mount behind a failed test.
        let _ = nix::mount::umount2(&self.dir, nix::mount::MntFlags::MNT_DETACH);
        let _ = std::fs::remove_dir(&self.dir);
    }
}
