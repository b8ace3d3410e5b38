//! # The FUSE file system: answering requests from the current tree
//!
//! Every request reads the current [`Tree`] (an `Arc` cloned under a read
//! lock held for a pointer copy) and answers from memory: no request reads
//! the kernel, renders a counter or waits for the engine. The only system
//! call a request may make is the one `readlink` of the caller's pid
//! namespace that [`crate::viewer`] needs while zones with their own pid
//! namespace exist.
//!
//! ## Opens cost nothing
//!
//! zonefs answers OPEN and FLUSH with ENOSYS, once: the kernel then opens
//! and closes zonefs files without asking (FUSE's `no_open`/`no_flush`),
//! keeps their pages between opens, and sends no RELEASE. A warm
//! open+read+close is then served by the kernel's caches alone, as a read
//! of /proc is, with no round trip to this process (one round trip costs
//! ten times a /proc read on a virtual machine).
//!
//! What makes that correct is that a file inode is one *version* of a file
//! ([`crate::tree`]): immutable bytes. LOOKUP hands out the current version
//! and records it as known to the kernel (a lookup count, as the kernel
//! keeps one); READ and GETATTR answer from that version, so an open reads
//! the tick it looked up however many calls it takes; FORGET ends it. When
//! a tick replaces a file's bytes, the watcher deletes the old version's
//! dentry (FUSE_NOTIFY_DELETE): the next lookup finds the new version,
//! while files still open on the old one keep reading it until closed.
//!
//! LOOKUP records and replies under the one lock of the known versions,
//! and the watcher reads them under it after making a new tree current: a
//! lookup answered from the old tree is therefore seen (and deleted) by the
//! watcher, and the kernel applies the delete only after the lookup that
//! is waiting for the parent directory's lock has finished.
//!
//! ## Holds
//!
//! A version of a zone's file holds the zone (zone_ref and MNTFS,
//! [`crate::Holds`]) from its first lookup until the kernel forgets it. When
//! the zone starts dying, every version of its files is deleted: the kernel
//! forgets at once those that nobody uses and the others when their last
//! open closes, so a halting zone waits for exactly its open zonefs files,
//! as an illumos zone waits for mntfs. A dying zone gets no new hold.
//!
//! ## Caches and callers in zones
//!
//! Entries and attributes are cached by the kernel for a long time
//! (`Options::ttl`). A caller inside a zone is decided from its pid at
//! every request that reaches zonefs: its root lookups, its directory
//! listings (never cached), its reads of pages not in cache and its
//! attribute requests only ever find its own zone, and `.kstat`/`.json`
//! (entries never cached, for any caller: their content depends on who
//! asks) are versions of its zone alone. The dentry cache is shared by every caller
//! of one mount, though: a process that shares the host's mount namespace
//! but sits in a zone's pid namespace (only the host's root can make one,
//! e.g. `nsenter -p`) can walk entries the global zone has cached. Real zone
//! processes never meet the host's mount: the runtime detaches every zonefs
//! mount from a zone's mount namespace. Errors for a hidden name are
//! replies, never negative entries.
//!
//! ## Listings the kernel keeps
//!
//! A listing of a directory is made at OPENDIR for the caller who opens
//! it, and READDIR hands it out a page at a time: `ls /zones` at a
//! thousand zones is eight round trips after the open. The root and
//! `.by-id`, opened by the global zone, answer OPENDIR with
//! FOPEN_CACHE_DIR and FOPEN_KEEP_CACHE: the kernel keeps the pages those
//! READDIRs filled and serves the next global listing from them, so a
//! repeated `ls /zones` costs the open's round trip alone. The pages are
//! the listing until the watcher invalidates the directory's inode
//! (FUSE_NOTIFY_INVAL_INODE drops them): whenever the set of zones
//! changes, and for the root also whenever `.kstat` or `.json` gets a new
//! version (its inode is in the listing), so a cached listing is never
//! older than the tree. A zone's caller never reads the pages: its open
//! carries neither flag, so the kernel lists from zonefs, adds nothing
//! to the cache and drops what it held (an open without KEEP_CACHE
//! does); the listing it gets is its own.
//!
//! ## Read-only
//!
//! The mount is `ro`, so the VFS refuses changes before they reach us; every
//! changing operation also answers EROFS here.

use crate::Holds;
use crate::render::IDX_BY_ID_LINK;
use crate::tree::{
    FileData, INO_BY_ID, INO_ROOT, Kind, Tree, VERSION, Viewer, ZoneView, by_id_ino, by_id_target,
    split,
};
use fuser::{
    AccessFlags, Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags, Generation,
    INodeNo, InitFlags, KernelConfig, LockOwner, OpenFlags, RenameFlags, ReplyAttr, ReplyCreate,
    ReplyData, ReplyDirectory, ReplyEmpty, ReplyEntry, ReplyOpen, ReplyStatfs, ReplyWrite,
    ReplyXattr, Request, TimeOrNow, WriteFlags,
};
use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock};
use std::time::{Duration, SystemTime};
use zones::zone::{Status, ZoneId};

/// A directory's entries: (inode, type, name).
type Listing = Vec<(u64, FileType, OsString)>;

/// Who may read a file version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Owner {
    /// A file of this zone: the global zone and the zone itself.
    Zone(ZoneId),
    /// The global zone's `.kstat`/`.json`.
    Global,
    /// `.kstat`/`.json` as a reader in this zone sees them.
    Alone(ZoneId),
}

impl Owner {
    fn visible(self, who: Viewer) -> bool {
        match (self, who) {
            (Owner::Zone(_), Viewer::Global) | (Owner::Global, Viewer::Global) => true,
            (Owner::Zone(z), Viewer::Zone(w)) | (Owner::Alone(z), Viewer::Zone(w)) => z == w,
            _ => false,
        }
    }
}

/// A file version the kernel holds: it looked it up and has not forgotten
/// it.
struct Known {
    data: FileData,
    /// Where it was looked up (for the delete that retires it).
    parent: u64,
    name: OsString,
    owner: Owner,
    /// The inode base of its zone.
    base: Option<u64>,
    hold: Option<u64>,
    nlookup: u64,
    /// Deleted from the kernel's dentry cache: it forgets the version when
    /// its last user lets go.
    deleted: bool,
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
    /// File versions the kernel holds, by inode.
    known: Mutex<HashMap<u64, Known>>,
    /// Open directories: their listing, made at opendir.
    dirs: Mutex<HashMap<u64, Arc<Listing>>>,
    next_fh: AtomicU64,
    ttl: Duration,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
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
            known: Mutex::new(HashMap::new()),
            dirs: Mutex::new(HashMap::new()),
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
        *lock(&self.applied) = seq;
        self.applied_cv.notify_all();
    }

    /// Wait until the snapshot `seq` (or a later one) is served.
    pub(crate) fn wait_applied(&self, seq: u64, timeout: Duration) -> bool {
        let g = lock(&self.applied);
        let (g, _) = self
            .applied_cv
            .wait_timeout_while(g, timeout, |s| *s < seq)
            .unwrap_or_else(|e| e.into_inner());
        *g >= seq
    }

    /// Directories open now.
    pub(crate) fn open_count(&self) -> usize {
        lock(&self.dirs).len()
    }

    /// File versions the kernel holds now.
    pub(crate) fn known_count(&self) -> usize {
        lock(&self.known).len()
    }

    /// Every version of the zone with inode base `base` the kernel holds,
    /// as (parent, inode, name) to delete.
    pub(crate) fn known_of(&self, base: u64) -> Vec<(u64, u64, OsString)> {
        lock(&self.known)
            .iter()
            .filter(|(_, k)| k.base == Some(base))
            .map(|(ino, k)| (k.parent, *ino, k.name.clone()))
            .collect()
    }

    /// Mark `ino` deleted; false if it was already, or the kernel does not
    /// hold it.
    pub(crate) fn mark_deleted(&self, ino: u64) -> bool {
        match lock(&self.known).get_mut(&ino) {
            Some(k) if !k.deleted => {
                k.deleted = true;
                true
            }
            _ => false,
        }
    }

    /// No reader can reach `ino` any more: end its hold now (the kernel
    /// forgets the inode itself when it evicts it).
    pub(crate) fn release_unreachable(&self, ino: u64) {
        let hold = lock(&self.known).get_mut(&ino).and_then(|k| k.hold.take());
        if let Some(t) = hold {
            self.holds.release(t);
        }
    }

    /// The kernel forgot `n` lookups of `ino`: the hold it kept, if that was
    /// the last.
    fn forget(known: &mut HashMap<u64, Known>, ino: u64, n: u64) -> Option<u64> {
        let k = known.get_mut(&ino)?;
        k.nlookup = k.nlookup.saturating_sub(n);
        if k.nlookup > 0 {
            return None;
        }
        known.remove(&ino).and_then(|k| k.hold)
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

fn file_attr(f: &FileData) -> FileAttr {
    attr(f.ino, FileType::RegularFile, f.bytes.len() as u64, f.mtime)
}

/// What a directory or link inode is in a tree.
enum Found<'a> {
    Root,
    ById,
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

/// Attributes of a directory or link.
fn found_attr(ino: u64, tree: &Tree, f: &Found<'_>) -> FileAttr {
    match f {
        Found::Root | Found::ById => attr(ino, FileType::Directory, 0, tree.root_mtime),
        Found::Link(v) => attr(
            ino,
            FileType::Symlink,
            by_id_target(v).len() as u64,
            v.dir_mtime,
        ),
        Found::Zone(v, n) => match &n.kind {
            Kind::Dir(_) => attr(ino, FileType::Directory, 0, v.dir_mtime),
            Kind::File(fd) => file_attr(fd),
        },
    }
}

/// What a name resolves to.
enum Entry<'a> {
    /// A directory or a link (its inode lives as long as its zone).
    Node(u64, Found<'a>),
    /// A file version; `hold` names the zone life to hold.
    File {
        data: FileData,
        owner: Owner,
        base: Option<u64>,
        hold: Option<(ZoneId, u64)>,
    },
}

impl ZoneFs {
    fn viewer(&self, tree: &Tree, req: &Request) -> Option<Viewer> {
        crate::viewer::resolve(tree, &self.shared.callers, self.shared.own_ns, req.pid())
    }

    /// How long the kernel may keep an entry of this owner's files.
    /// `.kstat` and `.json` differ by caller, so their entries are never
    /// cached: every walk of the name asks again, and a zone reader meets
    /// only its own version (and the global zone only its own).
    fn ttl_of(&self, owner: Owner) -> Duration {
        match owner {
            Owner::Zone(_) => self.shared.ttl,
            Owner::Global | Owner::Alone(_) => Duration::ZERO,
        }
    }

    /// `.kstat` or `.json` as `who` sees it.
    fn root_file(tree: &Tree, who: Viewer, kstat: bool) -> (FileData, Owner) {
        match who {
            Viewer::Global => (
                if kstat { &tree.kstat } else { &tree.json }.clone(),
                Owner::Global,
            ),
            Viewer::Zone(id) => {
                let data = match tree.zone_by_id(id.0) {
                    Some(v) => {
                        let (k, j) = v.alone(tree.time);
                        if kstat { k } else { j }.clone()
                    }
                    None => FileData::new(if kstat { &b""[..] } else { b"[]\n" }.into(), tree.time),
                };
                (data, Owner::Alone(id))
            }
        }
    }

    /// Resolve `name` in `parent` for `who`; `None` if it does not exist or
    /// `who` may not see it.
    fn resolve<'a>(tree: &'a Tree, who: Viewer, parent: u64, name: &[u8]) -> Option<Entry<'a>> {
        let zone_node = |v: &'a Arc<ZoneView>, n: &'a crate::tree::Node| -> Option<Entry<'a>> {
            if !Tree::visible(who, v) {
                return None;
            }
            Some(match &n.kind {
                Kind::Dir(_) => Entry::Node(v.ino(n.idx), Found::Zone(v, n)),
                Kind::File(fd) => Entry::File {
                    data: fd.clone(),
                    owner: Owner::Zone(v.zone.id),
                    base: Some(v.base),
                    // No new hold on a dying zone (illumos refuses new
                    // references to a zone being destroyed): readers that
                    // keep opening its files would keep it from dying.
                    hold: (v.zone.status < Status::Dying).then_some((v.zone.id, v.zone.uniqid)),
                },
            })
        };
        match parent {
            INO_ROOT => match name {
                b".by-id" => Some(Entry::Node(INO_BY_ID, Found::ById)),
                b".kstat" | b".json" => {
                    let (data, owner) = Self::root_file(tree, who, name == b".kstat");
                    Some(Entry::File {
                        data,
                        owner,
                        base: None,
                        hold: None,
                    })
                }
                _ => {
                    let v = tree.zone_by_name(name)?;
                    zone_node(v, v.node(0)?)
                }
            },
            INO_BY_ID => {
                let s = std::str::from_utf8(name).ok()?;
                let id = s.parse::<u32>().ok().filter(|id| id.to_string() == s)?;
                let v = tree.zone_by_id(id)?;
                Tree::visible(who, v).then(|| Entry::Node(by_id_ino(v), Found::Link(v)))
            }
            p => {
                let (base, idx) = split(p)?;
                let v = tree.zone_by_base(base)?;
                zone_node(v, v.child(idx, name)?)
            }
        }
    }

    /// The kernel may keep the listing of the root and of `.by-id` as the
    /// global zone reads it (see "Listings the kernel keeps"): only an
    /// open by the global zone reads or fills that cache. Any other open
    /// (a zone's, or a zone directory, whose files change every tick)
    /// lists from this process, and drops what the kernel kept.
    fn dir_cache(who: Viewer, f: &Found<'_>) -> FopenFlags {
        match (who, f) {
            (Viewer::Global, Found::Root | Found::ById) => {
                FopenFlags::FOPEN_CACHE_DIR | FopenFlags::FOPEN_KEEP_CACHE
            }
            _ => FopenFlags::empty(),
        }
    }

    fn new_fh(&self, entries: Listing) -> u64 {
        let fh = self.shared.next_fh.fetch_add(1, Ordering::Relaxed);
        lock(&self.shared.dirs).insert(fh, Arc::new(entries));
        fh
    }

    fn dir_entries(&self, tree: &Tree, who: Viewer, f: &Found<'_>, ino: u64) -> Option<Listing> {
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
                let kstat = Self::root_file(tree, who, true).0.ino;
                let json = Self::root_file(tree, who, false).0.ino;
                out.push((kstat, FileType::RegularFile, ".kstat".into()));
                out.push((json, FileType::RegularFile, ".json".into()));
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
                    let (ino, kind) = match &c.kind {
                        Kind::Dir(_) => (v.ino(c.idx), FileType::Directory),
                        Kind::File(fd) => (fd.ino, FileType::RegularFile),
                    };
                    out.push((ino, kind, c.name.to_string().into()));
                }
            }
            Found::Link(_) => return None,
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
        ] {
            let _ = config.add_capabilities(cap);
        }
        Ok(())
    }

    fn destroy(&mut self) {
        let holds: Vec<u64> = lock(&self.shared.known)
            .drain()
            .filter_map(|(_, k)| k.hold)
            .collect();
        for t in holds {
            self.shared.holds.release(t);
        }
    }

    fn lookup(&self, req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        // The tree is read, the version recorded and the reply sent under
        // the lock of the known versions (see "Opens cost nothing").
        let mut known = lock(&self.shared.known);
        let tree = self.shared.tree();
        let Some(who) = self.viewer(&tree, req) else {
            return reply.error(Errno::ENOENT);
        };
        match Self::resolve(&tree, who, parent.0, name.as_bytes()) {
            None => reply.error(Errno::ENOENT),
            Some(Entry::Node(ino, f)) => {
                reply.entry(&self.shared.ttl, &found_attr(ino, &tree, &f), Generation(0))
            }
            Some(Entry::File {
                data,
                owner,
                base,
                hold,
            }) => {
                let attr = file_attr(&data);
                let k = known.entry(data.ino).or_insert_with(|| Known {
                    data,
                    parent: parent.0,
                    name: name.to_owned(),
                    owner,
                    base,
                    hold: None,
                    nlookup: 0,
                    deleted: false,
                });
                if k.nlookup == 0
                    && let Some((id, uniqid)) = hold
                {
                    k.hold = self.shared.holds.hold(id, uniqid);
                }
                k.nlookup += 1;
                let ttl = self.ttl_of(owner);
                reply.entry(&ttl, &attr, Generation(0))
            }
        }
    }

    fn forget(&self, _req: &Request, ino: INodeNo, nlookup: u64) {
        let hold = Shared::forget(&mut lock(&self.shared.known), ino.0, nlookup);
        if let Some(t) = hold {
            self.shared.holds.release(t);
        }
    }

    fn getattr(&self, req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        let tree = self.shared.tree();
        let Some(who) = self.viewer(&tree, req) else {
            return reply.error(Errno::ENOENT);
        };
        if ino.0 & VERSION != 0 {
            let known = lock(&self.shared.known);
            return match known.get(&ino.0) {
                Some(k) if k.owner.visible(who) => {
                    reply.attr(&self.ttl_of(k.owner), &file_attr(&k.data))
                }
                _ => reply.error(Errno::ENOENT),
            };
        }
        match find(&tree, ino.0) {
            Some(f) if f.zone().is_none_or(|v| Tree::visible(who, v)) => {
                reply.attr(&self.shared.ttl, &found_attr(ino.0, &tree, &f))
            }
            _ => reply.error(Errno::ENOENT),
        }
    }

    fn readlink(&self, req: &Request, ino: INodeNo, reply: ReplyData) {
        let tree = self.shared.tree();
        let who = self.viewer(&tree, req);
        match find(&tree, ino.0) {
            Some(Found::Link(v)) if who.is_some_and(|w| Tree::visible(w, v)) => {
                reply.data(by_id_target(v).as_bytes())
            }
            Some(Found::Link(_)) | None => reply.error(Errno::ENOENT),
            Some(_) => reply.error(Errno::EINVAL),
        }
    }

    /// ENOSYS: the kernel opens our files itself from now on (no_open).
    fn open(&self, _req: &Request, _ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        reply.error(Errno::ENOSYS);
    }

    fn read(
        &self,
        req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        let Some((bytes, owner)) = lock(&self.shared.known)
            .get(&ino.0)
            .map(|k| (k.data.bytes.clone(), k.owner))
        else {
            return reply.error(Errno::EBADF);
        };
        let tree = self.shared.tree();
        if !self.viewer(&tree, req).is_some_and(|w| owner.visible(w)) {
            return reply.error(Errno::ENOENT);
        }
        let start = (offset as usize).min(bytes.len());
        let end = start.saturating_add(size as usize).min(bytes.len());
        reply.data(&bytes[start..end]);
    }

    /// ENOSYS: no FLUSH on close from now on (no_flush).
    fn flush(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _lo: LockOwner,
        reply: ReplyEmpty,
    ) {
        reply.error(Errno::ENOSYS);
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
                reply.opened(FileHandle(self.new_fh(entries)), Self::dir_cache(who, &f))
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
        let Some(entries) = lock(&self.shared.dirs).get(&fh.0).cloned() else {
            return reply.error(Errno::EBADF);
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
        lock(&self.shared.dirs).remove(&fh.0);
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

/// The lookups of the request handlers above as plain functions over a
/// [`Tree`], for the `zonefs_lookup` fuzz target (core/fuzz) and tests:
/// FUSE requests cannot be made outside a mount, so these call the same
/// private pieces (`resolve`, `find`, `found_attr`, `dir_entries`) with the
/// checks each handler makes before them. Not an API.
#[doc(hidden)]
pub mod fuzzing {
    use super::*;

    /// What an inode is, as a reply would say.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Ty {
        Dir,
        File,
        Link,
    }

    fn ty(k: FileType) -> Ty {
        match k {
            FileType::Directory => Ty::Dir,
            FileType::Symlink => Ty::Link,
            _ => Ty::File,
        }
    }

    /// LOOKUP of `name` in `parent` for `who`: (inode, type, size).
    pub fn lookup(tree: &Tree, who: Viewer, parent: u64, name: &[u8]) -> Option<(u64, Ty, u64)> {
        match ZoneFs::resolve(tree, who, parent, name)? {
            Entry::Node(ino, f) => {
                let a = found_attr(ino, tree, &f);
                Some((ino, ty(a.kind), a.size))
            }
            Entry::File { data, .. } => Some((data.ino, Ty::File, data.bytes.len() as u64)),
        }
    }

    /// GETATTR of a directory or link inode (file versions are answered
    /// from the known versions, which only LOOKUP fills).
    pub fn getattr(tree: &Tree, who: Viewer, ino: u64) -> Option<(Ty, u64)> {
        match find(tree, ino) {
            Some(f) if f.zone().is_none_or(|v| Tree::visible(who, v)) => {
                let a = found_attr(ino, tree, &f);
                Some((ty(a.kind), a.size))
            }
            _ => None,
        }
    }

    /// OPENDIR + READDIR: the listing, or the errno the handler answers.
    pub fn readdir(tree: &Tree, who: Viewer, ino: u64) -> Result<Vec<(u64, Ty, OsString)>, i32> {
        let f = find(tree, ino).ok_or(libc::ENOENT)?;
        if let Some(v) = f.zone()
            && !Tree::visible(who, v)
        {
            return Err(libc::ENOENT);
        }
        thread_local! {
            static FS: ZoneFs = ZoneFs {
                shared: Arc::new(Shared::new(
                    Tree::empty(),
                    0,
                    Arc::new(crate::testkit::CountingHolds::default()),
                    Duration::ZERO,
                )),
            };
        }
        let entries = FS
            .with(|fs| fs.dir_entries(tree, who, &f, ino))
            .ok_or(libc::ENOTDIR)?;
        Ok(entries.into_iter().map(|(i, k, n)| (i, ty(k), n)).collect())
    }

    /// READLINK: the target, or the errno the handler answers.
    pub fn readlink(tree: &Tree, who: Viewer, ino: u64) -> Result<String, i32> {
        match find(tree, ino) {
            Some(Found::Link(v)) if Tree::visible(who, v) => Ok(by_id_target(v)),
            Some(Found::Link(_)) | None => Err(libc::ENOENT),
            Some(_) => Err(libc::EINVAL),
        }
    }
}
