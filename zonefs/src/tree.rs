//! # The tree: one immutable view of /zones per snapshot
//!
//! A [`Tree`] is built from one [`Snapshot`] by the watcher thread, never by
//! a FUSE request. Requests read the current tree (an `Arc` swapped under a
//! short lock) and answer from it.
//!
//! ## Inode numbers
//!
//! | inode                         | node                                   |
//! |-------------------------------|----------------------------------------|
//! | 1, 2                          | the root, `.by-id/`                    |
//! | `(uniqid + 1) << 16 \| index` | a directory or link of a zone (index: [`crate::render`]) |
//! | `1 << 63 \| n`                | one version of a file: its bytes at one tick |
//!
//! Directories and links keep their inode for the life of their zone
//! (uniqid is never reused). A *file* gets a new inode whenever its bytes
//! change: an inode is one immutable sequence of bytes, so the kernel may
//! keep its pages and attributes for as long as it likes, an open file (an
//! open is bound to the inode it looked up) reads the tick it was opened in
//! however many calls it takes, and two opens in one tick share one inode.
//!
//! ## What changes between two trees
//!
//! Building a tree from the previous one yields the [`Inval`]s the kernel
//! must hear: a file whose bytes changed (its old version is deleted from
//! the kernel's dentry cache so the next lookup finds the new one), a zone
//! that starts dying or is gone (every version of its files the kernel
//! holds is deleted, so their holds end as soon as nobody has them open),
//! and a zone that is gone (its entries in the root and in `.by-id`). A zone
//! whose `Arc<ZoneSnapshot>` the engine reused is not rendered again; a file
//! whose bytes did not change keeps its version, its mtime and its page
//! cache. The mtime of a file is therefore the time of the snapshot that
//! produced its current bytes.
//!
//! ## Visible zones
//!
//! Every kernel zone from initialized to dying has a directory. Should a
//! dying zone and a newer zone share a name or an id, the newer one has
//! it and the dying one is not shown (one `.by-id` entry per id).

use crate::render::{self, IDX_BY_ID_LINK, IDX_DIR};
use std::borrow::Cow;
use std::collections::HashMap;
use std::ffi::OsString;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};
use zones::snapshot::{Snapshot, ZoneSnapshot};
use zones::zone::{Status, ZoneId};

pub const INO_ROOT: u64 = 1;
pub const INO_BY_ID: u64 = 2;
/// The high bit marks the inode of a file version.
pub const VERSION: u64 = 1 << 63;

/// Version numbers, never reused while the process lives (a remount starts
/// a new connection, with no inode of the old one).
static NEXT_VERSION: AtomicU64 = AtomicU64::new(1);

/// The inode base of a zone: the high bits of every inode of its nodes.
pub fn zone_base(uniqid: u64) -> u64 {
    (uniqid + 1) << 16
}

/// Split a zone inode into (base, index); `None` for the root-level nodes.
pub fn split(ino: u64) -> Option<(u64, u16)> {
    (ino >= 1 << 16 && ino & VERSION == 0).then_some((ino & !0xffff, (ino & 0xffff) as u16))
}

/// One version of a file: its bytes, the time of the snapshot that made
/// them, and the inode that names exactly these bytes.
#[derive(Clone, Debug)]
pub struct FileData {
    pub ino: u64,
    pub bytes: Arc<[u8]>,
    pub mtime: SystemTime,
}

impl FileData {
    /// A new version (a new inode).
    pub fn new(bytes: Arc<[u8]>, mtime: SystemTime) -> FileData {
        FileData {
            ino: VERSION | NEXT_VERSION.fetch_add(1, Ordering::Relaxed),
            bytes,
            mtime,
        }
    }
}

#[derive(Debug)]
pub enum Kind {
    /// Children, by index.
    Dir(Vec<u16>),
    File(FileData),
}

/// One node of a zone directory.
#[derive(Debug)]
pub struct Node {
    pub idx: u16,
    pub parent: u16,
    /// Static for every name of the layout and of the parameter table.
    pub name: Cow<'static, str>,
    pub kind: Kind,
}

impl Node {
    pub fn dir(
        idx: u16,
        parent: u16,
        name: impl Into<Cow<'static, str>>,
        children: Vec<u16>,
    ) -> Node {
        Node {
            idx,
            parent,
            name: name.into(),
            kind: Kind::Dir(children),
        }
    }

    pub fn file(idx: u16, parent: u16, name: impl Into<Cow<'static, str>>, bytes: Vec<u8>) -> Node {
        Node {
            idx,
            parent,
            name: name.into(),
            kind: Kind::File(FileData::new(bytes.into(), SystemTime::UNIX_EPOCH)),
        }
    }

    pub fn bytes(&self) -> Option<&Arc<[u8]>> {
        match &self.kind {
            Kind::File(f) => Some(&f.bytes),
            Kind::Dir(_) => None,
        }
    }
}

/// Everything zonefs shows of one zone at one snapshot.
#[derive(Debug)]
pub struct ZoneView {
    pub zone: Arc<ZoneSnapshot>,
    pub base: u64,
    /// Sorted by index.
    pub nodes: Vec<Node>,
    pub kstat_caps: Arc<str>,
    pub kstat_zones: Arc<str>,
    pub json: Arc<str>,
    /// The snapshot time it was rendered with (see [`render::zone`]).
    pub hrtime: u64,
    /// When the zone's directory appeared.
    pub dir_mtime: SystemTime,
    /// `.kstat` and `.json` as a reader inside this zone sees them; made on
    /// first use, at most once per view.
    alone: OnceLock<(FileData, FileData)>,
}

impl ZoneView {
    pub fn node(&self, idx: u16) -> Option<&Node> {
        self.nodes
            .binary_search_by_key(&idx, |n| n.idx)
            .ok()
            .map(|i| &self.nodes[i])
    }

    /// The child `name` of directory `parent`.
    pub fn child(&self, parent: u16, name: &[u8]) -> Option<&Node> {
        let Kind::Dir(children) = &self.node(parent)?.kind else {
            return None;
        };
        children
            .iter()
            .filter_map(|c| self.node(*c))
            .find(|n| n.name.as_bytes() == name)
    }

    pub fn ino(&self, idx: u16) -> u64 {
        self.base | u64::from(idx)
    }

    /// (`.kstat`, `.json`) holding this zone only.
    pub fn alone(&self, mtime: SystemTime) -> &(FileData, FileData) {
        self.alone.get_or_init(|| {
            let kstat = format!("{}{}", self.kstat_caps, self.kstat_zones);
            let json = format!("[{}]\n", self.json);
            (
                FileData::new(kstat.into_bytes().into(), mtime),
                FileData::new(json.into_bytes().into(), mtime),
            )
        })
    }
}

/// Who is asking: decided from the caller's pid namespace (see
/// [`crate::viewer`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Viewer {
    /// The global zone: sees every zone.
    Global,
    /// A process of this zone: sees that zone only.
    Zone(ZoneId),
}

/// A change the kernel must be told of, sent after the new tree is current.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Inval {
    /// Drop the cached entry `name` of directory `parent`.
    Entry(u64, OsString),
    /// Drop the cached attributes of a directory (its listing changed).
    Inode(u64),
    /// The file `name` of directory `parent` has a new version: delete the
    /// old one, `old`, from the kernel's caches if it holds it.
    Replaced {
        parent: u64,
        name: OsString,
        old: u64,
    },
    /// The zone with this inode base is dying or gone: delete every version
    /// of its files the kernel holds.
    Retire(u64),
}

/// /zones at one snapshot.
#[derive(Debug)]
pub struct Tree {
    pub seq: u64,
    pub time: SystemTime,
    /// Visible zones, by id.
    pub zones: Vec<Arc<ZoneView>>,
    by_name: HashMap<Box<str>, usize>,
    by_base: HashMap<u64, usize>,
    by_id: HashMap<u32, usize>,
    pub kstat: FileData,
    pub json: FileData,
    /// The time the set of zones last changed (mtime of `/` and `.by-id`).
    pub root_mtime: SystemTime,
    /// Pid namespace inode of each zone's zsched → the zone.
    pub zone_ns: HashMap<u64, ZoneId>,
    /// zsched pid and its namespace, by zone base, carried to the next tree
    /// so that a namespace is read once per life of a zsched.
    zsched_ns: HashMap<u64, (u32, u64)>,
    /// Callers' namespaces resolved against this tree (see viewer.rs).
    pub viewer_cache: Mutex<HashMap<u64, Viewer>>,
}

/// The snapshot's wall clock; the epoch for a time no `SystemTime` holds
/// (negative, NaN, infinite, or too far ahead: a snapshot read from the
/// socket is not trusted to be sane, and a panic here stops the watcher).
fn snapshot_time(s: &Snapshot) -> SystemTime {
    Duration::try_from_secs_f64(s.time)
        .ok()
        .and_then(|d| SystemTime::UNIX_EPOCH.checked_add(d))
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

/// Keep the old version when its bytes did not change; else a new version,
/// and the old one is deleted from the kernel (`name` in `parent`).
fn carry(
    new: Arc<[u8]>,
    old: Option<&FileData>,
    time: SystemTime,
    (parent, name): (u64, &str),
    inval: &mut Vec<Inval>,
) -> FileData {
    match old {
        Some(o) if *o.bytes == *new => o.clone(),
        Some(o) => {
            inval.push(Inval::Replaced {
                parent,
                name: name.into(),
                old: o.ino,
            });
            FileData::new(new, time)
        }
        None => FileData::new(new, time),
    }
}

impl Tree {
    /// An empty tree (no zone at all), before the first snapshot.
    pub fn empty() -> Tree {
        Tree::build(&Snapshot::default(), None, &mut |_| None).0
    }

    /// Build the tree of `snap`, reusing what did not change in `old`, and
    /// say what the kernel must forget. `pidns` reads the pid namespace
    /// inode of a zsched pid (`/proc/PID/ns/pid`).
    pub fn build(
        snap: &Snapshot,
        old: Option<&Tree>,
        pidns: &mut dyn FnMut(u32) -> Option<u64>,
    ) -> (Tree, Vec<Inval>) {
        let time = snapshot_time(snap);
        let mut inval = Vec::new();

        // The zones that have a directory. A name and an id each name one
        // zone: a live zone wins either over a dying one (the engine lets a
        // new zone take the name or id of a dying one), and of dying zones
        // that share one, the first.
        let mut shown: Vec<&Arc<ZoneSnapshot>> = snap
            .zones
            .iter()
            .filter(|z| (Status::Initialized..=Status::Dying).contains(&z.status))
            .collect();
        shown.sort_by_key(|z| z.status == Status::Dying);
        let mut names = std::collections::HashSet::new();
        let mut ids = std::collections::HashSet::new();
        let mut chosen: Vec<&Arc<ZoneSnapshot>> = Vec::new();
        for z in shown {
            if !names.contains(z.name.as_str()) && !ids.contains(&z.id) {
                names.insert(z.name.as_str());
                ids.insert(z.id);
                chosen.push(z);
            }
        }
        chosen.sort_by_key(|z| z.id);

        let mut zones = Vec::with_capacity(chosen.len());
        for z in chosen {
            let base = zone_base(z.uniqid);
            let prev = old.and_then(|t| t.zone_by_base(base));
            match prev {
                // A zone never sampled shows the snapshot's time as its
                // kstat snaptime (as `kstat -p` does): re-render it.
                Some(p)
                    if Arc::ptr_eq(&p.zone, z)
                        && (z.kstat.snaptime != 0 || p.hrtime == snap.hrtime) =>
                {
                    zones.push(p.clone())
                }
                _ => zones.push(Arc::new(Self::view(
                    z,
                    base,
                    prev.map(|p| &**p),
                    (time, snap.hrtime),
                    &mut inval,
                ))),
            }
        }

        let mut by_name = HashMap::with_capacity(zones.len());
        let mut by_base = HashMap::with_capacity(zones.len());
        let mut by_id = HashMap::with_capacity(zones.len());
        for (i, v) in zones.iter().enumerate() {
            by_name.insert(v.zone.name.as_str().into(), i);
            by_base.insert(v.base, i);
            by_id.insert(v.zone.id.0, i);
        }

        let mut set_changed = old.is_none();
        if let Some(o) = old {
            for v in &o.zones {
                if !by_base.contains_key(&v.base) {
                    set_changed = true;
                    inval.push(Inval::Retire(v.base));
                    inval.push(Inval::Entry(INO_ROOT, v.zone.name.as_str().into()));
                    inval.push(Inval::Entry(INO_BY_ID, v.zone.id.to_string().into()));
                }
            }
            set_changed |= o.zones.len() != zones.len();
        }
        let root_mtime = match old {
            Some(o) if !set_changed => o.root_mtime,
            _ => time,
        };
        if set_changed && old.is_some() {
            inval.push(Inval::Inode(INO_ROOT));
            inval.push(Inval::Inode(INO_BY_ID));
        }

        // .kstat: every caps kstat, then every zones kstat (kstat -p order).
        let mut kstat = String::new();
        for v in &zones {
            kstat.push_str(&v.kstat_caps);
        }
        for v in &zones {
            kstat.push_str(&v.kstat_zones);
        }
        let mut json = String::from("[");
        for (i, v) in zones.iter().enumerate() {
            if i > 0 {
                json.push(',');
            }
            json.push_str(&v.json);
        }
        json.push_str("]\n");
        let kstat = carry(
            kstat.into_bytes().into(),
            old.map(|o| &o.kstat),
            time,
            (INO_ROOT, ".kstat"),
            &mut inval,
        );
        let json = carry(
            json.into_bytes().into(),
            old.map(|o| &o.json),
            time,
            (INO_ROOT, ".json"),
            &mut inval,
        );
        // The root's listing names .kstat's and .json's versions: a listing
        // the kernel keeps (fs.rs) is dropped when either is replaced.
        if let Some(o) = old
            && !set_changed
            && (o.kstat.ino != kstat.ino || o.json.ino != json.ino)
        {
            inval.push(Inval::Inode(INO_ROOT));
        }

        // Pid namespaces of the zones' zsched, read once per zsched.
        let mut zone_ns = HashMap::new();
        let mut zsched_ns = HashMap::new();
        for v in &zones {
            let pid = v.zone.zsched_pid;
            if pid == 0 {
                continue;
            }
            let known = old
                .and_then(|o| o.zsched_ns.get(&v.base))
                .filter(|(p, _)| *p == pid)
                .map(|(_, ns)| *ns);
            if let Some(ns) = known.or_else(|| pidns(pid)) {
                zsched_ns.insert(v.base, (pid, ns));
                zone_ns.insert(ns, v.zone.id);
            }
        }

        let tree = Tree {
            seq: snap.seq,
            time,
            zones,
            by_name,
            by_base,
            by_id,
            kstat,
            json,
            root_mtime,
            zone_ns,
            zsched_ns,
            viewer_cache: Mutex::new(HashMap::new()),
        };
        (tree, inval)
    }

    fn view(
        z: &Arc<ZoneSnapshot>,
        base: u64,
        prev: Option<&ZoneView>,
        (time, hrtime): (SystemTime, u64),
        inval: &mut Vec<Inval>,
    ) -> ZoneView {
        let r = render::zone(z, hrtime);
        let mut nodes = r.nodes;
        // A zone that starts dying retires every version of its files, and
        // its files get new ones: versions that hold no one (a dying zone
        // takes no new hold), never the retired ones again.
        let dying_now =
            prev.is_some_and(|p| p.zone.status < Status::Dying) && z.status >= Status::Dying;
        if dying_now {
            inval.push(Inval::Retire(base));
        }
        for n in &mut nodes {
            let parent = base | u64::from(n.parent);
            if let Kind::File(f) = &mut n.kind {
                let old = prev
                    .filter(|_| !dying_now)
                    .and_then(|p| p.node(n.idx))
                    .and_then(|o| match &o.kind {
                        Kind::File(of) => Some(of),
                        Kind::Dir(_) => None,
                    });
                let bytes = std::mem::replace(&mut f.bytes, Arc::from(&[][..]));
                *f = carry(bytes, old, time, (parent, &n.name), inval);
            }
        }
        if let Some(p) = prev {
            for o in &p.nodes {
                if o.idx != IDX_DIR && nodes.binary_search_by_key(&o.idx, |n| n.idx).is_err() {
                    let parent = base | u64::from(o.parent);
                    inval.push(match &o.kind {
                        Kind::File(f) => Inval::Replaced {
                            parent,
                            name: o.name.to_string().into(),
                            old: f.ino,
                        },
                        Kind::Dir(_) => Inval::Entry(parent, o.name.to_string().into()),
                    });
                }
            }
        }
        ZoneView {
            zone: z.clone(),
            base,
            nodes,
            kstat_caps: r.kstat_caps,
            kstat_zones: r.kstat_zones,
            json: r.json,
            hrtime,
            dir_mtime: prev.map_or(time, |p| p.dir_mtime),
            alone: OnceLock::new(),
        }
    }

    pub fn zone_by_base(&self, base: u64) -> Option<&Arc<ZoneView>> {
        self.by_base.get(&base).map(|i| &self.zones[*i])
    }

    pub fn zone_by_name(&self, name: &[u8]) -> Option<&Arc<ZoneView>> {
        let name = std::str::from_utf8(name).ok()?;
        self.by_name.get(name).map(|i| &self.zones[*i])
    }

    pub fn zone_by_id(&self, id: u32) -> Option<&Arc<ZoneView>> {
        self.by_id.get(&id).map(|i| &self.zones[*i])
    }

    /// May `viewer` see this zone?
    pub fn visible(viewer: Viewer, v: &ZoneView) -> bool {
        match viewer {
            Viewer::Global => true,
            Viewer::Zone(id) => v.zone.id == id,
        }
    }

    /// The zones `viewer` sees, by id.
    pub fn visible_zones(&self, viewer: Viewer) -> impl Iterator<Item = &Arc<ZoneView>> {
        self.zones.iter().filter(move |v| Self::visible(viewer, v))
    }
}

/// The symbolic link target of a zone in `.by-id`.
pub fn by_id_target(v: &ZoneView) -> String {
    format!("../{}", v.zone.name)
}

/// The inode of a zone's `.by-id` link.
pub fn by_id_ino(v: &ZoneView) -> u64 {
    v.ino(IDX_BY_ID_LINK)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use zones::param::Params;
    use zones::snapshot::{Kstat, Refs};
    use zones::zone::{Brand, ZoneName};

    fn zone(id: u32, name: &str, uniqid: u64, status: Status, nprocs: u64) -> Arc<ZoneSnapshot> {
        Arc::new(ZoneSnapshot {
            id: ZoneId(id),
            name: if name == "global" {
                ZoneName::global()
            } else {
                ZoneName::new(name).unwrap()
            },
            uniqid,
            status,
            root: PathBuf::from("/"),
            brand: Brand::Whole,
            hostname: name.into(),
            parent: ZoneId(0),
            init_pid: 0,
            zsched_pid: 0,
            boot_time: 0,
            crtime: 0,
            privileges: vec![],
            params: Params::new(),
            refs: Refs::default(),
            kstat: Kstat {
                nprocs,
                ..Kstat::default()
            },
            procs: vec![],
        })
    }

    fn snap(seq: u64, zones: Vec<Arc<ZoneSnapshot>>) -> Snapshot {
        Snapshot {
            seq,
            time: 1000.0 + seq as f64,
            zones,
            ..Snapshot::default()
        }
    }

    fn build(s: &Snapshot, old: Option<&Tree>) -> (Tree, Vec<Inval>) {
        Tree::build(s, old, &mut |_| None)
    }

    #[test]
    fn a_reused_zone_arc_is_not_rendered_again_nor_invalidated() {
        let g = zone(0, "global", 0, Status::Running, 5);
        let (t1, _) = build(&snap(1, vec![g.clone()]), None);
        let (t2, inval) = build(&snap(2, vec![g]), Some(&t1));
        assert!(Arc::ptr_eq(&t1.zones[0], &t2.zones[0]));
        assert!(inval.is_empty(), "{inval:?}");
    }

    fn file_of(v: &ZoneView, idx: u16) -> &FileData {
        match &v.node(idx).unwrap().kind {
            Kind::File(f) => f,
            Kind::Dir(_) => panic!("{idx:#x} is a directory"),
        }
    }

    #[test]
    fn exactly_the_files_whose_bytes_changed_get_a_new_version() {
        let (t1, _) = build(
            &snap(1, vec![zone(0, "global", 0, Status::Running, 5)]),
            None,
        );
        let (t2, inval) = build(
            &snap(2, vec![zone(0, "global", 0, Status::Running, 6)]),
            Some(&t1),
        );
        let base = zone_base(0);
        let (v1, v2) = (&t1.zones[0], &t2.zones[0]);
        let replaced = |parent: u64, name: &str, old: u64| Inval::Replaced {
            parent,
            name: name.into(),
            old,
        };
        let caps = base | u64::from(render::IDX_CAPS_DIR[0]);
        let kstat_dir = base | u64::from(render::IDX_KSTAT);
        let mut expect: Vec<Inval> = vec![
            replaced(base, "json", file_of(v1, render::IDX_JSON).ino),
            replaced(base, "loadavg", file_of(v1, 13).ino), // "6/0"
            replaced(caps, "usage", file_of(v1, render::IDX_CAPS_FILE).ino),
            replaced(kstat_dir, "all", file_of(v1, render::IDX_KSTAT_ALL).ino),
            replaced(INO_ROOT, ".kstat", t1.kstat.ino),
            replaced(INO_ROOT, ".json", t1.json.ino),
            // The root's listing names the two: the kernel's copy goes.
            Inval::Inode(INO_ROOT),
        ];
        let mut got = inval.clone();
        expect.sort_by_key(|i| format!("{i:?}"));
        got.sort_by_key(|i| format!("{i:?}"));
        assert_eq!(got, expect);
        // A new version is a new inode; an unchanged file keeps its
        // version: its inode, bytes and mtime.
        let (a, b) = (file_of(v1, render::IDX_JSON), file_of(v2, render::IDX_JSON));
        assert_ne!(a.ino, b.ino);
        assert!(a.ino & VERSION != 0 && b.ino & VERSION != 0);
        let (a, b) = (file_of(v1, 1), file_of(v2, 1));
        assert_eq!(a.ino, b.ino);
        assert!(Arc::ptr_eq(&a.bytes, &b.bytes));
        assert_eq!(a.mtime, b.mtime);
    }

    #[test]
    fn a_zone_that_starts_dying_retires_its_files_once() {
        let (t1, _) = build(&snap(1, vec![zone(3, "web", 9, Status::Running, 1)]), None);
        let (t2, inval) = build(
            &snap(2, vec![zone(3, "web", 9, Status::Dying, 1)]),
            Some(&t1),
        );
        assert!(inval.contains(&Inval::Retire(zone_base(9))), "{inval:?}");
        // Every file has a new version, and the retired ones are not
        // named again (Retire covers them).
        for (a, b) in t1.zones[0].nodes.iter().zip(&t2.zones[0].nodes) {
            if let (Kind::File(fa), Kind::File(fb)) = (&a.kind, &b.kind) {
                assert_ne!(fa.ino, fb.ino, "{}", a.name);
            }
        }
        assert!(
            !inval
                .iter()
                .any(|i| matches!(i, Inval::Replaced { parent, .. } if split(*parent).is_some())),
            "{inval:?}"
        );
        let (_, inval) = build(
            &snap(3, vec![zone(3, "web", 9, Status::Dying, 2)]),
            Some(&t2),
        );
        assert!(!inval.contains(&Inval::Retire(zone_base(9))), "{inval:?}");
    }

    #[test]
    fn a_zone_that_goes_away_loses_its_root_and_by_id_entries() {
        let g = zone(0, "global", 0, Status::Running, 1);
        let w = zone(4, "web", 9, Status::Running, 1);
        let (t1, _) = build(&snap(1, vec![g.clone(), w]), None);
        assert!(t1.zone_by_name(b"web").is_some());
        let (t2, inval) = build(&snap(2, vec![g]), Some(&t1));
        assert!(t2.zone_by_name(b"web").is_none());
        assert!(inval.contains(&Inval::Retire(zone_base(9))));
        assert!(inval.contains(&Inval::Entry(INO_ROOT, "web".into())));
        assert!(inval.contains(&Inval::Entry(INO_BY_ID, "4".into())));
        assert!(inval.contains(&Inval::Inode(INO_ROOT)));
    }

    #[test]
    fn zones_are_shown_from_initialized_to_dying_and_a_live_zone_wins_a_name() {
        let zs = vec![
            zone(0, "global", 0, Status::Running, 1),
            zone(1, "old", 1, Status::Dying, 0),
            zone(2, "new", 2, Status::Initialized, 0),
            zone(3, "gone", 3, Status::Dead, 0),
            zone(4, "old", 4, Status::Ready, 0),
            zone(5, "nascent", 5, Status::Uninitialized, 0),
        ];
        let (t, _) = build(&snap(1, zs), None);
        let names: Vec<(&str, u32)> = t
            .zones
            .iter()
            .map(|v| (v.zone.name.as_str(), v.zone.id.0))
            .collect();
        assert_eq!(names, vec![("global", 0), ("new", 2), ("old", 4)]);
    }

    #[test]
    fn a_snapshot_time_out_of_range_is_the_epoch() {
        // Found by the zonefs_lookup fuzz target: 1e30 s panicked in
        // Duration::from_secs_f64 and stopped the watcher.
        for t in [1e30, f64::MAX, f64::INFINITY, f64::NAN, -1.0, 0.0] {
            let mut s = snap(1, vec![zone(0, "global", 0, Status::Running, 1)]);
            s.time = t;
            let (tree, _) = build(&s, None);
            assert_eq!(tree.time, SystemTime::UNIX_EPOCH, "{t}");
        }
        let (tree, _) = build(&snap(1, vec![]), None);
        assert_eq!(
            tree.time,
            SystemTime::UNIX_EPOCH + Duration::from_secs(1001)
        );
    }

    #[test]
    fn a_live_zone_wins_an_id_over_a_dying_one() {
        // Found by the zonefs_lookup fuzz target: .by-id listed "3" twice
        // and its lookup found only one of them.
        let zs = vec![
            zone(0, "global", 0, Status::Running, 1),
            zone(3, "old", 1, Status::Dying, 0),
            zone(3, "new", 2, Status::Running, 0),
        ];
        let (t, _) = build(&snap(1, zs), None);
        let names: Vec<&str> = t.zones.iter().map(|v| v.zone.name.as_str()).collect();
        assert_eq!(names, vec!["global", "new"]);
        assert_eq!(t.zone_by_id(3).unwrap().zone.name.as_str(), "new");
    }

    #[test]
    fn inode_numbers_derive_from_uniqid_and_index() {
        assert_eq!(split(zone_base(7) | 0x36), Some((zone_base(7), 0x36)));
        assert_eq!(split(INO_BY_ID), None);
        assert_eq!(split(VERSION | 0x12345), None);
        assert_ne!(zone_base(0), zone_base(1));
    }

    #[test]
    fn zsched_namespaces_are_read_once_per_zsched() {
        let mut z = (*zone(2, "web", 2, Status::Running, 1)).clone();
        z.zsched_pid = 77;
        let z = Arc::new(z);
        let mut reads = 0;
        let (t1, _) = Tree::build(&snap(1, vec![z.clone()]), None, &mut |pid| {
            reads += 1;
            Some(u64::from(pid) + 1000)
        });
        let mut z2 = (*z).clone();
        z2.kstat.nprocs = 9;
        let (t2, _) = Tree::build(&snap(2, vec![Arc::new(z2)]), Some(&t1), &mut |_| {
            reads += 1;
            None
        });
        assert_eq!(reads, 1);
        assert_eq!(t2.zone_ns.get(&1077), Some(&ZoneId(2)));
    }
}
