//! # The FUSE file system: answering requests from the current tree
//!
//! Every request reads the current [`Tree`] (an `Arc` cloned under a read
//! lock held for a pointer copy) and answers from memory: no request reads
//! the kernel, renders a counter or waits for the engine. The only system
//! call a request may make is the one `readlink` of the caller's pid
//! namespace that [`crate::viewer`] needs while zones with their own pid
//! namespace exist.
//!
//! ## Open files
//!
//! `open` takes the file's bytes (an `Arc`) from the tree of that moment
//! into a handle, and a hold on the zone ([`crate::Holds`]: zone_ref and
//! MNTFS), released by `release`. Every `read` of the handle is a slice of
//! those bytes, so one open sees one snapshot even if its zone is gone.
//! Files are opened with `FOPEN_KEEP_CACHE` (the page cache survives
//! between opens; the watcher invalidates exactly the inodes whose bytes
//! changed) and `FOPEN_NOFLUSH` (no FLUSH round trip on close).
//!
//! The page cache belongs to the inode, not to an open: a file of one page
//! (nearly all of them) is filled whole from one open's bytes, so every
//! read of it shows one tick, though an open that reads only after a tick
//! may see the newer tick, as a read of /proc shows the time of the read.
//! A file larger than a page is read in several calls; it is opened with
//! `FOPEN_DIRECT_IO` so that every call is answered from the open's own
//! bytes and a split read never mixes two ticks.
//!
//! One window remains: between making a new tree current and the kernel
//! applying its invalidation (microseconds), an open of a file whose size
//! changed may pair the old cached page with the new size.
//!
//! ## Caches and callers in zones
//!
//! Entries and attributes are cached by the kernel for a long time
//! (`Options::ttl`); the watcher drops them when zones go and when bytes
//! change. The dentry cache is shared by every caller, so a zone reader is
//! confined where zonefs is always asked: root lookups it makes itself,
//! every `open`/`opendir` (refused with ENOENT for another zone's node) and
//! every directory listing (the root's is made per caller and never
//! cached). `.kstat` and `.json` hold only the caller's zone for a zone
//! reader: it gets them with `FOPEN_DIRECT_IO`, so the shared page cache
//! (the global view) is neither used nor polluted; their `st_size` is the
//! global view's. Errors for a hidden name are replies, never negative
//! entries, so a zone reader's ENOENT is never cached for the global zone.
//!
//! ## Read-only
//!
//! The mount is `ro`, so the VFS refuses changes before they reach us; every
//! changing operation also answers EROFS here.

use crate::Holds;
use crate::render::IDX_BY_ID_LINK;
use crate::tree::{
    FileData, INO_BY_ID, INO_JSON, INO_KSTAT, INO_ROOT, Kind, Tree, Viewer, ZoneView, by_id_ino,
    by_id_target, split,
};
use fuser::{
    AccessFlags, Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags, Generation,
    INodeNo, InitFlags, KernelConfig, LockOwner, OpenAccMode, OpenFlags, RenameFlags, ReplyAttr,
    ReplyCreate, ReplyData, ReplyDirectory, ReplyEmpty, ReplyEntry, ReplyOpen, ReplyStatfs,
    ReplyWrite, ReplyXattr, Request, TimeOrNow, WriteFlags,
};
use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::time::{Duration, SystemTime};
use zones::zone::Status;

/// The largest file served through the page cache: one page, which the
/// kernel fills from one READ (one open's bytes), so no read of it can mix
/// two ticks. Larger files are opened with `FOPEN_DIRECT_IO`.
const ONE_READ: usize = 4096;

/// An open file or directory.
enum Open {
    File {
        bytes: Arc<[u8]>,
        attr: FileAttr,
        hold: Option<u64>,
    },
    Dir(Arc<Vec<(u64, FileType, OsString)>>),
}

/// What the watcher and the request handlers share.
pub(crate) struct Shared {
    current: RwLock<Arc<Tree>>,
    /// The seq of the snapshot whose tree is current and whose
    /// invalidations were sent.
    applied: Mutex<u64>,
    applied_cv: Condvar,
    pub(crate) own_ns: u64,
    callers: crate::viewer::Callers,
    holds: Arc<dyn Holds>,
    opens: Mutex<HashMap<u64, Open>>,
    next_fh: AtomicU64,
    ttl: Duration,
}

impl Shared {
    pub(crate) fn new(tree: Tree, own_ns: u64, holds: Arc<dyn Holds>, ttl: Duration) -> Shared {
        let seq = tree.seq;
        Shared {
            current: RwLock::new(Arc::new(tree)),
            applied: Mutex::new(seq),
            applied_cv: Condvar::new(),
            own_ns,
            callers: Default::default(),
            holds,
            opens: Mutex::new(HashMap::new()),
            next_fh: AtomicU64::new(1),
            ttl,
        }
    }

    pub(crate) fn tree(&self) -> Arc<Tree> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Make `t` current; returns the previous tree, so that the caller
    /// frees it (thousands of allocations) after the lock is released.
    pub(crate) fn set_tree(&self, t: Arc<Tree>) -> Arc<Tree> {
        std::mem::replace(
            &mut *self.current.write().unwrap_or_else(|e| e.into_inner()),
            t,
        )
    }

    pub(crate) fn set_applied(&self, seq: u64) {
        *self.applied.lock().unwrap_or_else(|e| e.into_inner()) = seq;
        self.applied_cv.notify_all();
    }

    /// Wait until the snapshot `seq` (or a later one) is served.
    pub(crate) fn wait_applied(&self, seq: u64, timeout: Duration) -> bool {
        let g = self.applied.lock().unwrap_or_else(|e| e.into_inner());
        let (g, _) = self
            .applied_cv
            .wait_timeout_while(g, timeout, |s| *s < seq)
            .unwrap_or_else(|e| e.into_inner());
        *g >= seq
    }

    /// Open files and directories now (for tests and the load report).
    pub(crate) fn open_count(&self) -> usize {
        self.opens.lock().map(|o| o.len()).unwrap_or(0)
    }
}

pub(crate) struct ZoneFs {
    pub(crate) shared: Arc<Shared>,
}

fn attr(ino: u64, kind: FileType, size: u64, mtime: SystemTime) -> FileAttr {
    let (perm, nlink) = match kind {
        FileType::Directory => (0o555, 2),
        FileType::Symlink => (0o777, 1),
        _ => (0o444, 1),
    };
    FileAttr {
        ino: INodeNo(ino),
        size,
        blocks: size.div_ceil(512),
        atime: mtime,
        mtime,
        ctime: mtime,
        crtime: mtime,
        kind,
        perm,
        nlink,
        uid: 0,
        gid: 0,
        rdev: 0,
        blksize: 4096,
        flags: 0,
    }
}

fn file_attr(ino: u64, f: &FileData) -> FileAttr {
    attr(ino, FileType::RegularFile, f.bytes.len() as u64, f.mtime)
}

/// What an inode is in a tree.
enum Found<'a> {
    Root,
    ById,
    Kstat,
    Json,
    Link(&'a Arc<ZoneView>),
    Zone(&'a Arc<ZoneView>, &'a crate::tree::Node),
}

impl<'a> Found<'a> {
    fn zone(&self) -> Option<&'a Arc<ZoneView>> {
        match self {
            Found::Link(v) | Found::Zone(v, _) => Some(v),
            _ => None,
        }
    }
}

fn find(tree: &Tree, ino: u64) -> Option<Found<'_>> {
    match ino {
        INO_ROOT => Some(Found::Root),
        INO_BY_ID => Some(Found::ById),
        INO_KSTAT => Some(Found::Kstat),
        INO_JSON => Some(Found::Json),
        _ => {
            let (base, idx) = split(ino)?;
            let v = tree.zone_by_base(base)?;
            if idx == IDX_BY_ID_LINK {
                return Some(Found::Link(v));
            }
            Some(Found::Zone(v, v.node(idx)?))
        }
    }
}

fn found_attr(tree: &Tree, ino: u64, f: &Found<'_>) -> FileAttr {
    match f {
        Found::Root | Found::ById => attr(ino, FileType::Directory, 0, tree.root_mtime),
        Found::Kstat => file_attr(ino, &tree.kstat),
        Found::Json => file_attr(ino, &tree.json),
        Found::Link(v) => attr(
            ino,
            FileType::Symlink,
            by_id_target(v).len() as u64,
            v.dir_mtime,
        ),
        Found::Zone(v, n) => match &n.kind {
            Kind::Dir(_) => attr(ino, FileType::Directory, 0, v.dir_mtime),
            Kind::File(fd) => file_attr(ino, fd),
        },
    }
}

impl ZoneFs {
    fn viewer(&self, tree: &Tree, req: &Request) -> Option<Viewer> {
        crate::viewer::resolve(tree, &self.shared.callers, self.shared.own_ns, req.pid())
    }

    /// May the caller see what `f` belongs to?
    fn may_see(&self, tree: &Tree, req: &Request, f: &Found<'_>) -> bool {
        match f.zone() {
            None => true,
            Some(v) => self
                .viewer(tree, req)
                .is_some_and(|who| Tree::visible(who, v)),
        }
    }

    fn new_fh(&self, open: Open) -> u64 {
        let fh = self.shared.next_fh.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut o) = self.shared.opens.lock() {
            o.insert(fh, open);
        }
        fh
    }

    fn dir_entries(
        &self,
        tree: &Tree,
        who: Viewer,
        f: &Found<'_>,
        ino: u64,
    ) -> Option<Vec<(u64, FileType, OsString)>> {
        let mut out = vec![
            (ino, FileType::Directory, OsString::from(".")),
            (INO_ROOT, FileType::Directory, OsString::from("..")),
        ];
        match f {
            Found::Root => {
                for v in tree.visible_zones(who) {
                    out.push((v.ino(0), FileType::Directory, v.zone.name.as_str().into()));
                }
                out.push((INO_BY_ID, FileType::Directory, ".by-id".into()));
                out.push((INO_KSTAT, FileType::RegularFile, ".kstat".into()));
                out.push((INO_JSON, FileType::RegularFile, ".json".into()));
            }
            Found::ById => {
                for v in tree.visible_zones(who) {
                    out.push((
                        by_id_ino(v),
                        FileType::Symlink,
                        v.zone.id.to_string().into(),
                    ));
                }
            }
            Found::Zone(v, n) => {
                let Kind::Dir(children) = &n.kind else {
                    return None;
                };
                if n.idx != 0 {
                    out[1].0 = v.ino(n.parent);
                }
                for c in children.iter().filter_map(|c| v.node(*c)) {
                    let kind = match c.kind {
                        Kind::Dir(_) => FileType::Directory,
                        Kind::File(_) => FileType::RegularFile,
                    };
                    out.push((v.ino(c.idx), kind, c.name.to_string().into()));
                }
            }
            _ => return None,
        }
        Some(out)
    }
}

impl Filesystem for ZoneFs {
    fn init(&mut self, _req: &Request, config: &mut KernelConfig) -> std::io::Result<()> {
        // Each is an optimisation the kernel may lack; refusals are fine.
        for cap in [
            InitFlags::FUSE_CACHE_SYMLINKS,
            InitFlags::FUSE_PARALLEL_DIROPS,
            InitFlags::FUSE_DIRECT_IO_ALLOW_MMAP,
        ] {
            let _ = config.add_capabilities(cap);
        }
        // RELEASE is a background request: the kernel keeps at most
        // max_background (12 by default) of them queued to us, while OPENs
        // from every reader queue freely. Under many concurrent readers the
        // RELEASEs (and so the holds they give back) then pile up in the
        // kernel without bound, and a dying zone waits on them. Let them
        // all through, in order with the OPENs.
        let _ = config.set_max_background(u16::MAX);
        let _ = config.set_congestion_threshold(u16::MAX / 4 * 3);
        Ok(())
    }

    fn lookup(&self, req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        let tree = self.shared.tree();
        let ttl = self.shared.ttl;
        let name = name.as_bytes();
        let found = match parent.0 {
            INO_ROOT => match name {
                b".by-id" => Some((INO_BY_ID, Found::ById)),
                b".kstat" => Some((INO_KSTAT, Found::Kstat)),
                b".json" => Some((INO_JSON, Found::Json)),
                _ => tree
                    .zone_by_name(name)
                    .and_then(|v| Some((v.ino(0), Found::Zone(v, v.node(0)?)))),
            },
            INO_BY_ID => std::str::from_utf8(name)
                .ok()
                .and_then(|s| s.parse::<u32>().ok())
                .filter(|id| std::str::from_utf8(name).ok() == Some(id.to_string().as_str()))
                .and_then(|id| tree.zone_by_id(id))
                .map(|v| (by_id_ino(v), Found::Link(v))),
            p => split(p).and_then(|(base, idx)| {
                let v = tree.zone_by_base(base)?;
                let n = v.child(idx, name)?;
                Some((v.ino(n.idx), Found::Zone(v, n)))
            }),
        };
        match found {
            Some((ino, f)) if self.may_see(&tree, req, &f) => {
                reply.entry(&ttl, &found_attr(&tree, ino, &f), Generation(0))
            }
            _ => reply.error(Errno::ENOENT),
        }
    }

    fn getattr(&self, req: &Request, ino: INodeNo, fh: Option<FileHandle>, reply: ReplyAttr) {
        if let Some(fh) = fh
            && let Ok(o) = self.shared.opens.lock()
            && let Some(Open::File { attr, .. }) = o.get(&fh.0)
        {
            return reply.attr(&self.shared.ttl, attr);
        }
        let tree = self.shared.tree();
        match find(&tree, ino.0) {
            Some(f) if self.may_see(&tree, req, &f) => {
                reply.attr(&self.shared.ttl, &found_attr(&tree, ino.0, &f))
            }
            _ => reply.error(Errno::ENOENT),
        }
    }

    fn readlink(&self, req: &Request, ino: INodeNo, reply: ReplyData) {
        let tree = self.shared.tree();
        match find(&tree, ino.0) {
            Some(f @ Found::Link(v)) if self.may_see(&tree, req, &f) => {
                reply.data(by_id_target(v).as_bytes())
            }
            Some(_) => reply.error(Errno::EINVAL),
            None => reply.error(Errno::ENOENT),
        }
    }

    fn open(&self, req: &Request, ino: INodeNo, flags: OpenFlags, reply: ReplyOpen) {
        if flags.acc_mode() != OpenAccMode::O_RDONLY || flags.0 & libc::O_TRUNC != 0 {
            return reply.error(Errno::EROFS);
        }
        let tree = self.shared.tree();
        let Some(f) = find(&tree, ino.0) else {
            return reply.error(Errno::ENOENT);
        };
        let Some(who) = self.viewer(&tree, req) else {
            return reply.error(Errno::ENOENT);
        };
        let mut fopen = FopenFlags::FOPEN_KEEP_CACHE | FopenFlags::FOPEN_NOFLUSH;
        let (data, hold) = match &f {
            Found::Kstat | Found::Json => match who {
                Viewer::Global => (
                    if matches!(f, Found::Kstat) {
                        tree.kstat.clone()
                    } else {
                        tree.json.clone()
                    },
                    None,
                ),
                Viewer::Zone(id) => {
                    // The caller's zone only, past the shared page cache.
                    fopen |= FopenFlags::FOPEN_DIRECT_IO;
                    let (k, j) = match tree.zone_by_id(id.0) {
                        Some(v) => v.alone(tree.time).clone(),
                        None => {
                            let empty = |b: &[u8]| FileData {
                                bytes: b.into(),
                                mtime: tree.time,
                            };
                            (empty(b""), empty(b"[]\n"))
                        }
                    };
                    (if matches!(f, Found::Kstat) { k } else { j }, None)
                }
            },
            Found::Zone(v, n) if Tree::visible(who, v) => match &n.kind {
                // No new hold on a dying zone (illumos refuses new
                // references to a zone being destroyed): readers that keep
                // opening its files would otherwise keep it from dying.
                // The open still reads the zone's last bytes.
                Kind::File(fd) if v.zone.status >= Status::Dying => (fd.clone(), None),
                Kind::File(fd) => (fd.clone(), self.shared.holds.hold(v.zone.id, v.zone.uniqid)),
                Kind::Dir(_) => return reply.error(Errno::EISDIR),
            },
            Found::Root | Found::ById => return reply.error(Errno::EISDIR),
            _ => return reply.error(Errno::ENOENT),
        };
        if data.bytes.len() > ONE_READ {
            // Read in several calls: each from this open's bytes, never from
            // pages another open may have filled at a later tick.
            fopen |= FopenFlags::FOPEN_DIRECT_IO;
        }
        let attr = file_attr(ino.0, &data);
        let fh = self.new_fh(Open::File {
            bytes: data.bytes,
            attr,
            hold,
        });
        reply.opened(FileHandle(fh), fopen);
    }

    fn read(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        let bytes = match self
            .shared
            .opens
            .lock()
            .ok()
            .and_then(|o| match o.get(&fh.0) {
                Some(Open::File { bytes, .. }) => Some(bytes.clone()),
                _ => None,
            }) {
            Some(b) => b,
            None => return reply.error(Errno::EBADF),
        };
        let start = (offset as usize).min(bytes.len());
        let end = start.saturating_add(size as usize).min(bytes.len());
        reply.data(&bytes[start..end]);
    }

    fn flush(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _lo: LockOwner,
        reply: ReplyEmpty,
    ) {
        reply.ok();
    }

    fn release(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        _flush: bool,
        reply: ReplyEmpty,
    ) {
        let open = self
            .shared
            .opens
            .lock()
            .ok()
            .and_then(|mut o| o.remove(&fh.0));
        if let Some(Open::File {
            hold: Some(token), ..
        }) = open
        {
            self.shared.holds.release(token);
        }
        reply.ok();
    }

    fn opendir(&self, req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        let tree = self.shared.tree();
        let Some(f) = find(&tree, ino.0) else {
            return reply.error(Errno::ENOENT);
        };
        let Some(who) = self.viewer(&tree, req) else {
            return reply.error(Errno::ENOENT);
        };
        if let Some(v) = f.zone()
            && !Tree::visible(who, v)
        {
            return reply.error(Errno::ENOENT);
        }
        match self.dir_entries(&tree, who, &f, ino.0) {
            Some(entries) => {
                let fh = self.new_fh(Open::Dir(Arc::new(entries)));
                reply.opened(FileHandle(fh), FopenFlags::empty());
            }
            None => reply.error(Errno::ENOTDIR),
        }
    }

    fn readdir(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        let entries = match self
            .shared
            .opens
            .lock()
            .ok()
            .and_then(|o| match o.get(&fh.0) {
                Some(Open::Dir(e)) => Some(e.clone()),
                _ => None,
            }) {
            Some(e) => e,
            None => return reply.error(Errno::EBADF),
        };
        for (i, (ino, kind, name)) in entries.iter().enumerate().skip(offset as usize) {
            if reply.add(INodeNo(*ino), i as u64 + 1, *kind, name) {
                break;
            }
        }
        reply.ok();
    }

    fn releasedir(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _flags: OpenFlags,
        reply: ReplyEmpty,
    ) {
        if let Ok(mut o) = self.shared.opens.lock() {
            o.remove(&fh.0);
        }
        reply.ok();
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        let files = self.shared.tree().zones.len() as u64 * 128;
        reply.statfs(0, 0, 0, files, 0, 4096, 255, 4096);
    }

    fn access(&self, _req: &Request, _ino: INodeNo, mask: AccessFlags, reply: ReplyEmpty) {
        if mask.contains(AccessFlags::W_OK) {
            reply.error(Errno::EROFS)
        } else {
            reply.ok()
        }
    }

    // ---- everything that would change the tree: EROFS ----

    fn setattr(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _mode: Option<u32>,
        _uid: Option<u32>,
        _gid: Option<u32>,
        _size: Option<u64>,
        _atime: Option<TimeOrNow>,
        _mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        _fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<fuser::BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        reply.error(Errno::EROFS);
    }

    fn mknod(
        &self,
        _req: &Request,
        _p: INodeNo,
        _n: &OsStr,
        _m: u32,
        _u: u32,
        _r: u32,
        reply: ReplyEntry,
    ) {
        reply.error(Errno::EROFS);
    }

    fn mkdir(&self, _req: &Request, _p: INodeNo, _n: &OsStr, _m: u32, _u: u32, reply: ReplyEntry) {
        reply.error(Errno::EROFS);
    }

    fn unlink(&self, _req: &Request, _p: INodeNo, _n: &OsStr, reply: ReplyEmpty) {
        reply.error(Errno::EROFS);
    }

    fn rmdir(&self, _req: &Request, _p: INodeNo, _n: &OsStr, reply: ReplyEmpty) {
        reply.error(Errno::EROFS);
    }

    fn symlink(&self, _req: &Request, _p: INodeNo, _n: &OsStr, _t: &Path, reply: ReplyEntry) {
        reply.error(Errno::EROFS);
    }

    fn rename(
        &self,
        _req: &Request,
        _p: INodeNo,
        _n: &OsStr,
        _np: INodeNo,
        _nn: &OsStr,
        _f: RenameFlags,
        reply: ReplyEmpty,
    ) {
        reply.error(Errno::EROFS);
    }

    fn link(&self, _req: &Request, _i: INodeNo, _np: INodeNo, _nn: &OsStr, reply: ReplyEntry) {
        reply.error(Errno::EROFS);
    }

    fn write(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _offset: u64,
        _data: &[u8],
        _wf: WriteFlags,
        _flags: OpenFlags,
        _lo: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        reply.error(Errno::EROFS);
    }

    fn create(
        &self,
        _req: &Request,
        _p: INodeNo,
        _n: &OsStr,
        _m: u32,
        _u: u32,
        _f: i32,
        reply: ReplyCreate,
    ) {
        reply.error(Errno::EROFS);
    }

    fn setxattr(
        &self,
        _req: &Request,
        _i: INodeNo,
        _n: &OsStr,
        _v: &[u8],
        _f: i32,
        _p: u32,
        reply: ReplyEmpty,
    ) {
        reply.error(Errno::EROFS);
    }

    fn removexattr(&self, _req: &Request, _i: INodeNo, _n: &OsStr, reply: ReplyEmpty) {
        reply.error(Errno::EROFS);
    }

    fn getxattr(&self, _req: &Request, _i: INodeNo, _n: &OsStr, _s: u32, reply: ReplyXattr) {
        // ENOSYS once: the kernel stops asking (no xattrs here).
        reply.error(Errno::ENOSYS);
    }

    fn listxattr(&self, _req: &Request, _i: INodeNo, _s: u32, reply: ReplyXattr) {
        reply.error(Errno::ENOSYS);
    }

    fn fallocate(
        &self,
        _req: &Request,
        _i: INodeNo,
        _fh: FileHandle,
        _o: u64,
        _l: u64,
        _m: i32,
        reply: ReplyEmpty,
    ) {
        reply.error(Errno::EROFS);
    }
}
