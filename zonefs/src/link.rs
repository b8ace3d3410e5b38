//! # kstat/link: a zone's interface counters as files
//!
//! `/zones/Z/kstat/link/IFNAME/STAT` holds one statistic of the zone's
//! `link:ZONEID:IFNAME` kstat ([`zones::kstat::link`]): `rbytes64`,
//! `obytes64`, `ipackets64`, `opackets64`, `ierrors`, `oerrors` and
//! `zonename`, one value and a newline each, as `kstat -p` prints it.
//!
//! Indices (see [`crate::render`]): the `link` directory is 0x37; the
//! interfaces, sorted by name, take 8 indices each from 0x90 (the
//! directory, then its 7 files), so at most [`MAX_LINKS`] interfaces are
//! shown. A file keeps its inode while the zone's set of interfaces does
//! not change (interfaces are made at ready and stay until halt).
//!
//! The zone's IP type is `params/network` ([`ip_type`]); its addresses are
//! `params/ip4.addr` and `params/ip6.addr`.

use crate::tree::Node;
use zones::snapshot::ZoneSnapshot;

/// kstat/link.
pub const IDX_LINK: u16 = 0x37;
/// The first interface's directory.
pub const IDX_LINK_FIRST: u16 = 0x90;
/// How many interfaces fit before the next index range (0x100, params).
pub const MAX_LINKS: usize = 14;
/// The files of an interface directory, in index order.
pub const LINK_FILES: [&str; 7] = [
    "rbytes64",
    "obytes64",
    "ipackets64",
    "opackets64",
    "ierrors",
    "oerrors",
    "zonename",
];

/// The zone's IP type as params/network shows it: `shared`, `excl` or
/// `inherit` ([`zones::runtime::NetMode::ip_type`]).
pub fn ip_type(z: &ZoneSnapshot) -> zones::param::Value {
    zones::param::Value::Str(zones::runtime::NetMode::of(&z.params).ip_type().to_string())
}

/// The nodes of kstat/link (the directory included; its parent is
/// `kstat_dir`).
pub fn nodes(z: &ZoneSnapshot, kstat_dir: u16) -> Vec<Node> {
    let links = &z.kstat.links[..z.kstat.links.len().min(MAX_LINKS)];
    let dir_of = |i: usize| IDX_LINK_FIRST + 8 * i as u16;
    let mut n = vec![Node::dir(
        IDX_LINK,
        kstat_dir,
        "link",
        (0..links.len()).map(dir_of).collect(),
    )];
    for (i, l) in links.iter().enumerate() {
        let d = dir_of(i);
        n.push(Node::dir(
            d,
            IDX_LINK,
            l.name.clone(),
            (1..=LINK_FILES.len() as u16).map(|f| d + f).collect(),
        ));
        let values = [
            l.rbytes64.to_string(),
            l.obytes64.to_string(),
            l.ipackets64.to_string(),
            l.opackets64.to_string(),
            l.ierrors.to_string(),
            l.oerrors.to_string(),
            z.name.as_str().to_string(),
        ];
        for (f, (name, v)) in LINK_FILES.iter().zip(values).enumerate() {
            n.push(Node::file(
                d + 1 + f as u16,
                d,
                *name,
                format!("{v}\n").into_bytes(),
            ));
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use zones::kstat::link::LinkStat;

    #[test]
    fn each_interface_is_a_directory_of_its_counters() {
        let mut z = crate::testkit::zone(3, "web", 103);
        z.kstat.links = vec![
            LinkStat {
                name: "eth0".into(),
                rbytes64: 10_485_760,
                obytes64: 77,
                ..Default::default()
            },
            LinkStat {
                name: "em1".into(),
                ..Default::default()
            },
        ];
        let r = crate::render::zone(&z, 1);
        let find = |idx: u16| r.nodes.iter().find(|n| n.idx == idx).unwrap();
        let idx: Vec<u16> = r.nodes.iter().map(|n| n.idx).collect();
        let mut dedup = idx.clone();
        dedup.dedup();
        assert_eq!(idx, dedup, "indices are sorted and distinct");
        for node in &r.nodes {
            assert!(idx.binary_search(&node.parent).is_ok(), "{}", node.name);
        }
        assert_eq!(find(IDX_LINK).parent, crate::render::IDX_KSTAT);
        let eth0 = find(IDX_LINK_FIRST);
        assert_eq!(eth0.name, "eth0");
        assert_eq!(
            &find(IDX_LINK_FIRST + 1).bytes().unwrap()[..],
            b"10485760\n"
        );
        assert_eq!(find(IDX_LINK_FIRST + 1).name, "rbytes64");
        assert_eq!(&find(IDX_LINK_FIRST + 2).bytes().unwrap()[..], b"77\n");
        assert_eq!(&find(IDX_LINK_FIRST + 7).bytes().unwrap()[..], b"web\n");
        assert_eq!(find(IDX_LINK_FIRST + 8).name, "em1");
        // params/network says the IP type.
        let net = r
            .nodes
            .iter()
            .find(|n| n.name == "network" && n.parent == crate::render::IDX_PARAMS)
            .expect("params/network");
        assert_eq!(&net.bytes().unwrap()[..], b"shared\n");
        let mut x = crate::testkit::zone(5, "x", 105);
        x.params.set_arg("vnet=new").unwrap();
        let r = crate::render::zone(&x, 1);
        let net = r.nodes.iter().find(|n| n.name == "network").unwrap();
        assert_eq!(&net.bytes().unwrap()[..], b"excl\n");
        // No links: an empty directory.
        let r = crate::render::zone(&crate::testkit::zone(4, "db", 104), 1);
        assert!(r.nodes.iter().any(|n| n.idx == IDX_LINK));
        assert!(!r.nodes.iter().any(|n| n.idx == IDX_LINK_FIRST));
    }
}
