//! # The tree: one immutable view of /zones per snapshot
//!
//! A [`Tree`] is built from one [`Snapshot`] by the watcher thread, never by
//! a FUSE request. Requests read the current tree (an `Arc` swapped under a
//! short lock) and answer from it; an open file keeps the bytes it was
//! opened on, so it never mixes two snapshots and survives its zone.
//!
//! ## Inode numbers
//!
//! | inode                         | node                                   |
//! |-------------------------------|----------------------------------------|
//! | 1                             | the root                               |
//! | 2, 3, 4                       | `.by-id/`, `.kstat`, `.json`           |
//! | `(uniqid + 1) << 16 \| index` | a node of a zone (index: [`crate::render`]) |
//!
//! uniqid is never reused, so an inode names one node of one life of one
//! zone; the kernel may cache it as long as it likes.
//!
//! ## What changes between two trees
//!
//! Building a tree from the previous one yields the [`Inval`]s the kernel
//! must hear: a zone that is gone (its entry in the root and in `.by-id`), a
//! node that is gone (its entry in its directory), and every file whose
//! bytes changed (its inode: attributes and page cache). A zone whose
//! `Arc<ZoneSnapshot>` the engine reused is not rendered again; a file whose
//! bytes did not change keeps its bytes, its mtime and its page cache. The
//! mtime of a file is therefore the time of the snapshot that produced its
//! current bytes.
//!
//! ## Visible zones
//!
//! Every kernel zone from initialized to dying has a directory. Should a
//! dying zone and a newer zone share a name, the newer one has it.

use crate::render::{self, IDX_BY_ID_LINK, IDX_DIR};
use std::borrow::Cow;
use std::collections::HashMap;
use std::ffi::OsString;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};
use zones::snapshot::{Snapshot, ZoneSnapshot};
use zones::zone::{Status, ZoneId};

pub const INO_ROOT: u64 = 1;
pub const INO_BY_ID: u64 = 2;
pub const INO_KSTAT: u64 = 3;
pub const INO_JSON: u64 = 4;

/// The inode base of a zone: the high bits of every inode of its nodes.
pub fn zone_base(uniqid: u64) -> u64 {
    (uniqid + 1) << 16
}

/// Split a zone inode into (base, index); `None` for the root-level nodes.
pub fn split(ino: u64) -> Option<(u64, u16)> {
    (ino >= 1 << 16).then_some((ino & !0xffff, (ino & 0xffff) as u16))
}

/// The bytes of one file and the time of the snapshot that made them.
#[derive(Clone, Debug)]
pub struct FileData {
    pub bytes: Arc<[u8]>,
    pub mtime: SystemTime,
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
            kind: Kind::File(FileData {
                bytes: bytes.into(),
                mtime: SystemTime::UNIX_EPOCH,
            }),
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
                FileData {
                    bytes: kstat.into_bytes().into(),
                    mtime,
                },
                FileData {
                    bytes: json.into_bytes().into(),
                    mtime,
                },
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
    /// Drop the cached attributes and pages of an inode.
    Inode(u64),
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

fn snapshot_time(s: &Snapshot) -> SystemTime {
    if s.time.is_finite() && s.time > 0.0 {
        SystemTime::UNIX_EPOCH + Duration::from_secs_f64(s.time)
    } else {
        SystemTime::UNIX_EPOCH
    }
}

/// Keep the old bytes (and mtime) when they did not change.
fn carry(
    new: Arc<[u8]>,
    old: Option<&FileData>,
    time: SystemTime,
    ino: u64,
    inval: &mut Vec<Inval>,
) -> FileData {
    match old {
        Some(o) if *o.bytes == *new => o.clone(),
        Some(_) => {
            inval.push(Inval::Inode(ino));
            FileData {
                bytes: new,
                mtime: time,
            }
        }
        None => FileData {
            bytes: new,
            mtime: time,
        },
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

        // The zones that have a directory; a live zone wins a name over a dying one.
        let mut chosen: Vec<&Arc<ZoneSnapshot>> = Vec::new();
        let mut name_at: HashMap<&str, usize> = HashMap::new();
        for z in &snap.zones {
            if !(Status::Initialized..=Status::Dying).contains(&z.status) {
                continue;
            }
            match name_at.get(z.name.as_str()) {
                None => {
                    name_at.insert(z.name.as_str(), chosen.len());
                    chosen.push(z);
                }
                Some(&i) if chosen[i].status == Status::Dying && z.status < Status::Dying => {
                    chosen[i] = z;
                }
                Some(_) => {}
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
            INO_KSTAT,
            &mut inval,
        );
        let json = carry(
            json.into_bytes().into(),
            old.map(|o| &o.json),
            time,
            INO_JSON,
            &mut inval,
        );

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
        for n in &mut nodes {
            let ino = base | u64::from(n.idx);
            if let Kind::File(f) = &mut n.kind {
                let old = prev
                    .and_then(|p| p.node(n.idx))
                    .and_then(|o| match &o.kind {
                        Kind::File(of) => Some(of),
                        Kind::Dir(_) => None,
                    });
                let bytes = std::mem::replace(&mut f.bytes, Arc::from(&[][..]));
                *f = carry(bytes, old, time, ino, inval);
            }
        }
        if let Some(p) = prev {
            for o in &p.nodes {
                if o.idx != IDX_DIR && nodes.binary_search_by_key(&o.idx, |n| n.idx).is_err() {
                    inval.push(Inval::Entry(
                        base | u64::from(o.parent),
                        o.name.to_string().into(),
                    ));
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

    #[test]
    fn exactly_the_files_whose_bytes_changed_are_invalidated() {
        let (t1, _) = build(
            &snap(1, vec![zone(0, "global", 0, Status::Running, 5)]),
            None,
        );
        let (t2, inval) = build(
            &snap(2, vec![zone(0, "global", 0, Status::Running, 6)]),
            Some(&t1),
        );
        let base = zone_base(0);
        let mut expect: Vec<Inval> = vec![
            Inval::Inode(base | 15),                               // json
            Inval::Inode(base | 13),                               // loadavg (6/0)
            Inval::Inode(base | u64::from(render::IDX_CAPS_FILE)), // kstat/nprocs/usage
            Inval::Inode(base | u64::from(render::IDX_KSTAT_ALL)),
            Inval::Inode(INO_KSTAT),
            Inval::Inode(INO_JSON),
        ];
        let mut got = inval.clone();
        expect.sort_by_key(|i| format!("{i:?}"));
        got.sort_by_key(|i| format!("{i:?}"));
        assert_eq!(got, expect);
        // An unchanged file keeps its bytes and its mtime.
        let (a, b) = (t1.zones[0].node(1).unwrap(), t2.zones[0].node(1).unwrap());
        match (&a.kind, &b.kind) {
            (Kind::File(fa), Kind::File(fb)) => {
                assert!(Arc::ptr_eq(&fa.bytes, &fb.bytes));
                assert_eq!(fa.mtime, fb.mtime);
            }
            _ => panic!("status is a file"),
        }
    }

    #[test]
    fn a_zone_that_goes_away_loses_its_root_and_by_id_entries() {
        let g = zone(0, "global", 0, Status::Running, 1);
        let w = zone(4, "web", 9, Status::Running, 1);
        let (t1, _) = build(&snap(1, vec![g.clone(), w]), None);
        assert!(t1.zone_by_name(b"web").is_some());
        let (t2, inval) = build(&snap(2, vec![g]), Some(&t1));
        assert!(t2.zone_by_name(b"web").is_none());
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
    fn inode_numbers_derive_from_uniqid_and_index() {
        assert_eq!(split(zone_base(7) | 0x36), Some((zone_base(7), 0x36)));
        assert_eq!(split(INO_JSON), None);
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
