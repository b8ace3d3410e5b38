//! Fuzz zonefs path lookup: sequences of LOOKUP, READDIR, GETATTR and
//! READLINK, as the FUSE handlers answer them (zonefs::fs::fuzzing), by
//! the global zone and by a zone's own reader, against trees built from
//! fuzzed snapshots (zonefs::testkit's zones with fuzzed ids, names,
//! lives, statuses, counters and parameters), the second tree built on
//! the first as the watcher does.
//!
//! What must hold, beyond no panic:
//!
//! * **Isolation**: a reader inside zone Z reaches nothing of another
//!   zone: no name resolves to it, no listing shows it, and its inodes
//!   (which a reader of the global zone handed out, as a shared dentry
//!   cache could) answer nothing — not as a parent of a lookup, not to
//!   getattr, readdir or readlink.
//! * **Listings and lookups agree**: every name a directory lists is one
//!   valid, unique path component, and looking it up in that directory
//!   finds the listed inode and type; `.` and `..` name the directory and
//!   its parent; `.by-id` links read `../NAME`, and NAME is a zone
//!   directory.
//! * `.`, `..`, empty names and names holding `/` resolve to nothing.
#![no_main]

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use std::collections::HashSet;
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::sync::Arc;
use zonefs::fs::fuzzing::{self, Ty};
use zonefs::testkit;
use zonefs::tree::{INO_BY_ID, INO_ROOT, Inval, Kind, Tree, VERSION, Viewer, split, zone_base};
use zones::param::{PARAMS, Value};
use zones::snapshot::{Snapshot, ZoneSnapshot};
use zones::zone::{Status, ZoneId, ZoneName};

const NAMES: [&str; 6] = ["web", "db", "a.b", "a", "x-1", "Web"];

/// A fuzzed name: mostly one of a few (so zones collide), else any
/// valid zone name.
fn name(u: &mut Unstructured) -> Result<ZoneName> {
    if u.ratio(1, 4)? {
        let s: &str = u.arbitrary()?;
        // testkit's hostname is NAME.example, at most 64 bytes.
        if s.len() <= 56
            && let Ok(n) = ZoneName::new(s)
        {
            return Ok(n);
        }
    }
    Ok(ZoneName::new(u.choose(&NAMES)?).unwrap())
}

/// A parameter name: the table's, or any string (the API's create takes
/// a map of names the engine does not all check).
fn param_key(u: &mut Unstructured) -> Result<String> {
    Ok(match u.int_in_range(0..=3)? {
        0 | 1 => u.choose(PARAMS)?.name.to_string(),
        2 => u
            .choose(&["x.y", "..", ".", "", "a/b", "/", "zone.", "params"])?
            .to_string(),
        _ => u.arbitrary::<&str>()?.to_string(),
    })
}

fn value(u: &mut Unstructured) -> Result<Value> {
    Ok(match u.int_in_range(0..=3)? {
        0 => Value::Bool(u.arbitrary()?),
        1 => Value::Int(u.arbitrary()?),
        2 => Value::Str(u.arbitrary()?),
        _ => Value::List(u.arbitrary()?),
    })
}

/// Change a zone as a later snapshot might.
fn mutate(u: &mut Unstructured, z: &mut ZoneSnapshot) -> Result<()> {
    z.status = *u.choose(&Status::ALL)?;
    z.kstat.nprocs = u.arbitrary()?;
    z.kstat.nlwps = u.arbitrary()?;
    z.kstat.lockedmem = u.arbitrary()?;
    z.kstat.snaptime = u.arbitrary()?;
    z.kstat.avenrun = u.arbitrary()?;
    z.init_pid = u.arbitrary()?;
    z.zsched_pid = u.int_in_range(0..=3)?;
    z.refs.zone_ref = u.arbitrary()?;
    z.hostname = u.arbitrary()?;
    for _ in 0..u.int_in_range(0..=3)? {
        let k = param_key(u)?;
        let v = value(u)?;
        z.params.0.insert(k, v);
    }
    if u.ratio(1, 8)? {
        z.params.0.clear();
    }
    Ok(())
}

/// A snapshot as an engine could publish it: the global zone first,
/// unique lives (uniqid), and at most one zone not yet dying per id and
/// per name (a dying zone may share either with its replacement).
fn snapshot(u: &mut Unstructured, seq: u64, from: Option<&Snapshot>) -> Result<Snapshot> {
    let mut zones: Vec<ZoneSnapshot> = Vec::new();
    if let Some(prev) = from {
        for z in &prev.zones {
            if u.ratio(1, 6)? && !z.id.is_global() {
                continue; // gone
            }
            let z0 = z;
            let mut z = (**z).clone();
            if u.ratio(1, 2)? {
                mutate(u, &mut z)?;
                // A status never goes back; the global zone runs.
                z.status = z.status.max(z0.status);
                if z.id.is_global() {
                    z.status = Status::Running;
                }
            }
            zones.push(z);
        }
    } else {
        let mut g = testkit::global();
        g.kstat.nprocs = u.arbitrary()?;
        zones.push(g);
    }
    let mut next_uniqid = zones.iter().map(|z| z.uniqid).max().unwrap_or(0) + 1;
    for _ in 0..u.int_in_range(0..=4)? {
        let id = u.int_in_range(1..=9)?;
        let n = name(u)?;
        next_uniqid += u.int_in_range(1..=3)?;
        let mut z = testkit::zone(id, n.as_str(), next_uniqid);
        if u.ratio(1, 2)? {
            mutate(u, &mut z)?;
        }
        if z.status < Status::Dying
            && zones
                .iter()
                .any(|o| o.status < Status::Dying && (o.id == z.id || o.name == z.name))
        {
            continue;
        }
        zones.push(z);
    }
    let mut s = testkit::snapshot(seq, zones);
    s.time = u.arbitrary()?;
    s.hrtime = u.arbitrary()?;
    Ok(s)
}

/// Who owns inode `ino` of `tree`, when it is a zone's directory or link.
fn owner(tree: &Tree, ino: u64) -> Option<ZoneId> {
    let (base, _) = split(ino)?;
    tree.zone_by_base(base).map(|v| v.zone.id)
}

fn valid_component(n: &[u8]) -> bool {
    !n.is_empty()
        && n.len() <= 255
        && n != b"."
        && n != b".."
        && !n.contains(&b'/')
        && !n.contains(&0)
}

struct Run<'a> {
    tree: &'a Tree,
    who: Viewer,
    /// Inodes handed out (by anyone).
    inos: Vec<u64>,
    names: Vec<Vec<u8>>,
}

impl Run<'_> {
    fn may_see(&self, ino: u64) -> bool {
        match (self.who, owner(self.tree, ino)) {
            (Viewer::Zone(z), Some(o)) => o == z,
            _ => true,
        }
    }

    /// Zone-owned file versions carry no owner in their number: check
    /// that the directory they came from is visible instead.
    fn lookup(&mut self, parent: u64, name: &[u8]) -> Option<(u64, Ty, u64)> {
        let r = fuzzing::lookup(self.tree, self.who, parent, name);
        if !valid_component(name) {
            assert!(r.is_none(), "{name:?} in {parent:#x} resolved: {r:?}");
        }
        if let Some((ino, ty, _)) = r {
            assert!(
                self.may_see(parent),
                "{:?} looked up {name:?} in another zone's {parent:#x}",
                self.who
            );
            assert!(self.may_see(ino), "{:?} reached {ino:#x}", self.who);
            if ty != Ty::File {
                assert_eq!(ino & VERSION, 0, "a directory or link with a version inode");
            }
            self.inos.push(ino);
        }
        r
    }

    fn getattr(&mut self, ino: u64) -> Option<(Ty, u64)> {
        let r = fuzzing::getattr(self.tree, self.who, ino);
        if r.is_some() {
            assert!(self.may_see(ino), "{:?} getattr of {ino:#x}", self.who);
        }
        r
    }

    fn readlink(&mut self, ino: u64) -> Option<String> {
        let r = fuzzing::readlink(self.tree, self.who, ino).ok()?;
        assert!(self.may_see(ino), "{:?} readlink of {ino:#x}", self.who);
        let target = r.strip_prefix("../").expect("a .by-id link reads ../NAME");
        let (zino, ty, _) = self
            .lookup(INO_ROOT, target.as_bytes())
            .unwrap_or_else(|| panic!("{r} points nowhere for {:?}", self.who));
        assert_eq!(ty, Ty::Dir);
        assert_eq!(owner(self.tree, zino), owner(self.tree, ino));
        Some(r)
    }

    /// READDIR and every check a listing allows.
    fn readdir(&mut self, ino: u64, deep: bool) {
        let Ok(list) = fuzzing::readdir(self.tree, self.who, ino) else {
            return;
        };
        assert!(self.may_see(ino), "{:?} listed {ino:#x}", self.who);
        assert!(list.len() >= 2);
        assert_eq!(list[0], (ino, Ty::Dir, OsString::from(".")));
        assert_eq!((list[1].1, list[1].2.as_bytes()), (Ty::Dir, &b".."[..]));
        let mut seen = HashSet::new();
        for (cino, ty, cname) in &list[2..] {
            let n = cname.as_bytes();
            assert!(valid_component(n), "{ino:#x} lists {cname:?}");
            assert!(seen.insert(n.to_vec()), "{ino:#x} lists {cname:?} twice");
            self.names.push(n.to_vec());
            let (lino, lty, _) = self
                .lookup(ino, n)
                .unwrap_or_else(|| panic!("{ino:#x} lists {cname:?}, lookup finds nothing"));
            assert_eq!(lty, *ty, "{cname:?} in {ino:#x}");
            // A zone reader's `.kstat`/`.json` without its zone in the
            // tree are fresh empty versions at every call.
            let fresh = ino == INO_ROOT
                && matches!(n, b".kstat" | b".json")
                && matches!(self.who, Viewer::Zone(z) if self.tree.zone_by_id(z.0).is_none());
            if !fresh {
                assert_eq!(lino, *cino, "{cname:?} in {ino:#x}");
            }
            match ty {
                Ty::Dir => {
                    let (gty, _) = self
                        .getattr(*cino)
                        .expect("a listed directory has attributes");
                    assert_eq!(gty, Ty::Dir);
                    let sub = fuzzing::readdir(self.tree, self.who, *cino)
                        .expect("a listed directory lists");
                    assert_eq!(sub[1].0, ino, "'..' of {cname:?} is not {ino:#x}");
                    if deep {
                        self.readdir(*cino, true);
                    }
                }
                Ty::Link => {
                    assert_eq!(self.getattr(*cino).map(|a| a.0), Some(Ty::Link));
                    self.readlink(*cino).expect("a listed link reads");
                }
                Ty::File => {
                    assert_ne!(
                        cino & VERSION,
                        0,
                        "{cname:?}: a file without a version inode"
                    );
                }
            }
        }
        if ino == INO_ROOT {
            let zones: Vec<&OsString> = list[2..]
                .iter()
                .filter(|(i, _, _)| split(*i).is_some())
                .map(|(_, _, n)| n)
                .collect();
            let expect = self.tree.visible_zones(self.who).count();
            assert_eq!(zones.len(), expect, "root lists {zones:?}");
        }
    }
}

fn run(u: &mut Unstructured) -> Result<()> {
    let s1 = snapshot(u, 1, None)?;
    let (t1, _) = Tree::build(&s1, None, &mut |p| Some(u64::from(p) + 100));
    let s2 = snapshot(u, 2, Some(&s1))?;
    let (tree, inval) = Tree::build(&s2, Some(&t1), &mut |p| Some(u64::from(p) + 100));
    // A zone that went away is retired and loses its names.
    for v in &t1.zones {
        if tree.zone_by_base(v.base).is_none() {
            assert!(inval.contains(&Inval::Retire(v.base)), "{inval:?}");
        }
    }
    let tree = Arc::new(tree);

    // Every inode of the tree (a shared dentry cache could hand any of
    // them to a zone's reader), and every name in it.
    let mut inos = vec![INO_ROOT, INO_BY_ID];
    let mut names: Vec<Vec<u8>> = Vec::new();
    for v in &tree.zones {
        names.push(v.zone.name.as_str().as_bytes().to_vec());
        names.push(v.zone.id.to_string().into_bytes());
        inos.push(v.ino(zonefs::render::IDX_BY_ID_LINK));
        for n in &v.nodes {
            inos.push(match &n.kind {
                Kind::Dir(_) => v.ino(n.idx),
                Kind::File(f) => f.ino,
            });
            names.push(n.name.as_bytes().to_vec());
        }
    }
    if u.ratio(1, 8)? {
        let mut global = Run {
            tree: &tree,
            who: Viewer::Global,
            inos: Vec::new(),
            names: Vec::new(),
        };
        global.readdir(INO_ROOT, true);
    }

    let who = if u.ratio(1, 4)? {
        Viewer::Global
    } else {
        let ids: Vec<u32> = tree.zones.iter().map(|v| v.zone.id.0).collect();
        Viewer::Zone(ZoneId(if u.ratio(1, 8)? || ids.is_empty() {
            u.int_in_range(0..=12)?
        } else {
            *u.choose(&ids)?
        }))
    };
    let mut r = Run {
        tree: &tree,
        who,
        inos,
        names,
    };
    r.names.extend(
        [
            ".",
            "..",
            "",
            "web/status",
            "/",
            ".by-id",
            "0",
            "00",
            "+1",
            "1 ",
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec()),
    );
    let deep = u.ratio(1, 4)?;
    r.readdir(INO_ROOT, deep);
    for _ in 0..u.int_in_range(0..=64)? {
        if u.is_empty() {
            break;
        }
        let ino = if u.ratio(1, 16)? {
            match u.int_in_range(0..=2)? {
                0 => u.arbitrary()?,
                1 => zone_base(u.int_in_range(0..=40)?) | u64::from(u.arbitrary::<u16>()?),
                _ => VERSION | u.int_in_range(0..=1000)?,
            }
        } else {
            *u.choose(&r.inos)?
        };
        match u.int_in_range(0..=4)? {
            0 | 1 => {
                let name = if u.ratio(1, 4)? {
                    u.arbitrary::<&[u8]>()?.to_vec()
                } else {
                    u.choose(&r.names)?.clone()
                };
                r.lookup(ino, &name);
            }
            2 => r.readdir(ino, false),
            3 => {
                r.getattr(ino);
            }
            _ => {
                r.readlink(ino);
            }
        }
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let _ = run(&mut u);
});
