//! # Test fixtures for the front-ends
//!
//! ztop, zonefs, the tools and the end-to-end tests all need snapshots of
//! zones that no engine made: a zone with this many processes, that load,
//! those rctls. [`ZoneBuilder`] makes one from a few words, with every
//! field an ordinary running sparse zone would have, so a test says only
//! what it is about (`ZoneBuilder::new(3, "web").nprocs(5).build()`)
//! instead of spelling out all eighteen fields. Built only for tests:
//! the core crate's own, and other crates' with the `testing` feature
//! (`zones = { workspace = true, features = ["testing"] }` under
//! `[dev-dependencies]`).

use crate::param::Params;
use crate::snapshot::{Kstat, Refs, ZoneSnapshot};
use crate::zone::{Brand, Status, ZoneId, ZoneName};
use std::path::PathBuf;

/// Parameters from `name=value` words as jail(8) takes them on its
/// command line (`params(&["vnet=new", "ip4.addr=192.0.2.1"])`); a word
/// the parameter table refuses panics with the word and the reason.
pub fn params(words: &[&str]) -> Params {
    let mut p = Params::new();
    for w in words {
        set(&mut p, w);
    }
    p
}

fn set(p: &mut Params, word: &str) {
    p.set_arg(word).unwrap_or_else(|e| panic!("{word}: {e}"));
}

/// A [`ZoneSnapshot`] under construction.
#[derive(Clone, Debug)]
pub struct ZoneBuilder(ZoneSnapshot);

impl ZoneBuilder {
    /// A running sparse zone `name` with id `id` (uniqid the same), root
    /// `/zones/NAME`, host name `NAME`, no process and no counter yet.
    pub fn new(id: u32, name: &str) -> ZoneBuilder {
        ZoneBuilder(ZoneSnapshot {
            id: ZoneId(id),
            name: ZoneName::new(name).expect("a valid zone name"),
            uniqid: id as u64,
            status: Status::Running,
            root: PathBuf::from(format!("/zones/{name}")),
            brand: Brand::Sparse,
            hostname: name.to_string(),
            parent: ZoneId::GLOBAL,
            init_pid: 0,
            zsched_pid: 0,
            boot_time: 0,
            crtime: 0,
            privileges: Vec::new(),
            params: Params::new(),
            refs: Refs::default(),
            kstat: Kstat::default(),
            procs: Vec::new(),
        })
    }

    /// The global zone: id 0, root `/`, whole brand, init pid 1.
    pub fn global() -> ZoneBuilder {
        let mut b = ZoneBuilder::new(0, "x");
        b.0.name = ZoneName::global();
        b.0.root = PathBuf::from("/");
        b.0.brand = Brand::Whole;
        b.0.hostname = String::new();
        b.0.init_pid = 1;
        b
    }

    pub fn uniqid(mut self, u: u64) -> Self {
        self.0.uniqid = u;
        self
    }
    pub fn status(mut self, s: Status) -> Self {
        self.0.status = s;
        self
    }
    pub fn root(mut self, r: impl Into<PathBuf>) -> Self {
        self.0.root = r.into();
        self
    }
    pub fn brand(mut self, b: Brand) -> Self {
        self.0.brand = b;
        self
    }
    pub fn hostname(mut self, h: impl Into<String>) -> Self {
        self.0.hostname = h.into();
        self
    }
    pub fn parent(mut self, p: u32) -> Self {
        self.0.parent = ZoneId(p);
        self
    }
    pub fn init_pid(mut self, p: u32) -> Self {
        self.0.init_pid = p;
        self
    }
    pub fn zsched_pid(mut self, p: u32) -> Self {
        self.0.zsched_pid = p;
        self
    }
    pub fn boot_time(mut self, t: u64) -> Self {
        self.0.boot_time = t;
        self
    }
    pub fn crtime(mut self, t: u64) -> Self {
        self.0.crtime = t;
        self
    }
    pub fn privileges(mut self, p: &[&str]) -> Self {
        self.0.privileges = p.iter().map(|s| s.to_string()).collect();
        self
    }
    /// Parameters from `name=value` words (panics on one not in the table).
    pub fn params(mut self, words: &[&str]) -> Self {
        for w in words {
            set(&mut self.0.params, w);
        }
        self
    }
    pub fn refs(mut self, r: Refs) -> Self {
        self.0.refs = r;
        self
    }
    pub fn kstat(mut self, k: Kstat) -> Self {
        self.0.kstat = k;
        self
    }
    pub fn procs(mut self, p: Vec<u32>) -> Self {
        self.0.procs = p;
        self
    }
    pub fn build(self) -> ZoneSnapshot {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zone_is_running_sparse_and_says_only_what_it_was_given() {
        let z = ZoneBuilder::new(3, "web")
            .params(&["zone.max-processes=10"])
            .init_pid(40)
            .build();
        assert_eq!((z.id, z.uniqid, z.status), (ZoneId(3), 3, Status::Running));
        assert_eq!(z.root, PathBuf::from("/zones/web"));
        assert_eq!(z.rctl("zone.max-processes"), 10);
        assert_eq!(z.init_pid, 40);
        let g = ZoneBuilder::global().build();
        assert!(g.id.is_global() && g.name.as_str() == "global");
    }
}
