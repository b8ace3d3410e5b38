//! # Rendering: one zone's files as bytes
//!
//! zonefs never computes a counter: every byte it serves is rendered here,
//! from one [`ZoneSnapshot`], once per snapshot that changed the zone (the
//! tree reuses a zone's rendering while the engine hands out the same
//! `Arc<ZoneSnapshot>`). The layout of a zone directory is fixed by
//! zonefs.md; each node has a stable *index* inside its zone, and the inode
//! number of a node is `(uniqid + 1) << 16 | index` (see [`crate::tree`]),
//! so a file keeps its inode for the whole life of its zone and two lives of
//! a zone named alike never share one.
//!
//! | index            | node                                                      |
//! |------------------|-----------------------------------------------------------|
//! | 0                | the zone directory                                        |
//! | 1..=15           | status kstatus id name uniqid root brand hostname parent init_pid boot_time privileges loadavg procs json |
//! | 0x20..=0x28      | directories params rctl kstat kstat/{nprocs,lockedmem,swapresv,zone_misc} refs refs/subsys |
//! | 0x30..=0x35      | kstat/{nprocs,lockedmem,swapresv}/{usage,value}           |
//! | 0x36             | kstat/all                                                 |
//! | 0x37, 0x90..0xff | kstat/link, kstat/link/IFNAME/… ([`crate::link`])         |
//! | 0x40..           | kstat/zone_misc/<stat>, in [`ZONE_MISC`] order            |
//! | 0x60, 0x61       | refs/zone_ref, refs/cred_ref                              |
//! | 0x68..           | refs/subsys/<NAME>, in [`Subsys::ALL`] order              |
//! | 0x80..           | rctl/<rctl>, in [`RCTLS`] order                           |
//! | 0x100..          | params/<param>, in the order of the parameter table       |
//! | 0x8000..=0xfffe  | params/<name> not in the table (hash of the name)         |
//! | 0xffff           | the zone's symbolic link in `.by-id`                       |
//!
//! ## Formats
//!
//! One value per file, newline-terminated; lists one element per line (an
//! empty list is an empty file). `loadavg` reads like /proc/loadavg:
//! `avenrun/256` with two decimals rounded as Linux rounds (`+ FSCALE/200`),
//! then `nprocs/nlwps` (processes over threads: the snapshot carries no
//! count of running threads, so the fourth field is the zone's processes
//! over its threads), then the highest pid of the zone (0 when none), which
//! stands for Linux's last allocated pid. `kstat/all` is `kstat -p`:
//! `module:instance:name:statistic<TAB>value`, sorted by module, instance
//! (numerically), name and statistic, with the pseudo statistics `class`,
//! `crtime` and `snaptime` (hrtime as seconds, nine decimals), printed by
//! the engine's formatter ([`zones::kstat::format`]) so it is byte-identical
//! to `kstat -p`.

use crate::tree::Node;
use serde::Serialize;
use std::fmt::Write as _;
use std::sync::Arc;
use zones::kstat::format::{Kstat, Query, Style, render, zone_kstats};
use zones::param::{PARAMS, RCTLS, Value};
use zones::snapshot::{Subsys, ZoneSnapshot};

/// Files at the top of a zone directory, indices 1..=15.
pub const TOP_FILES: [&str; 15] = [
    "status",
    "kstatus",
    "id",
    "name",
    "uniqid",
    "root",
    "brand",
    "hostname",
    "parent",
    "init_pid",
    "boot_time",
    "privileges",
    "loadavg",
    "procs",
    "json",
];

pub const IDX_DIR: u16 = 0;
pub const IDX_JSON: u16 = 15;
pub const IDX_PARAMS: u16 = 0x20;
pub const IDX_RCTL: u16 = 0x21;
pub const IDX_KSTAT: u16 = 0x22;
/// kstat/nprocs, kstat/lockedmem, kstat/swapresv.
pub const IDX_CAPS_DIR: [u16; 3] = [0x23, 0x24, 0x25];
pub const IDX_ZONE_MISC: u16 = 0x26;
pub const IDX_REFS: u16 = 0x27;
pub const IDX_SUBSYS: u16 = 0x28;
pub const IDX_CAPS_FILE: u16 = 0x30;
pub const IDX_KSTAT_ALL: u16 = 0x36;
pub const IDX_MISC_FILE: u16 = 0x40;
pub const IDX_ZONE_REF: u16 = 0x60;
pub const IDX_CRED_REF: u16 = 0x61;
pub const IDX_SUBSYS_FILE: u16 = 0x68;
pub const IDX_RCTL_FILE: u16 = 0x80;
pub const IDX_PARAM_FILE: u16 = 0x100;
pub const IDX_PARAM_HASHED: u16 = 0x8000;
pub const IDX_BY_ID_LINK: u16 = 0xffff;

/// The three caps kstats, in the order zonefs lists them.
pub const CAPS: [&str; 3] = ["nprocs", "lockedmem", "swapresv"];

/// Every statistic of a zone's `zones` kstat (kstat.md), in file order.
pub const ZONE_MISC: [&str; 14] = [
    "avenrun_1min",
    "avenrun_5min",
    "avenrun_15min",
    "nsec_user",
    "nsec_sys",
    "nsec_waitrq",
    "forkfail_cap",
    "forkfail_noproc",
    "forkfail_nomem",
    "forkfail_misc",
    "nested_interp",
    "init_pid",
    "boot_time",
    "zonename",
];

/// The `caps` kstat `cap` (nprocs, lockedmem, swapresv) of a zone's kstats.
fn caps_kstat<'a>(ks: &'a [Kstat; 4], cap: &str) -> &'a Kstat {
    ks[..3]
        .iter()
        .find(|k| {
            k.name
                .strip_prefix(cap)
                .is_some_and(|r| r.starts_with("_zone_"))
        })
        .expect("zone_kstats has every caps kstat")
}

/// The value of statistic `stat` of kstat `k`, as `kstat -p` prints it.
fn stat_value(k: &Kstat, stat: &str) -> String {
    k.stats
        .iter()
        .find(|(n, _)| *n == stat)
        .map(|(_, v)| v.to_string())
        .unwrap_or_default()
}

/// The index of a parameter file: its place in the parameter table, or a
/// hash of the name for a name the table does not hold.
pub fn param_index(name: &str) -> u16 {
    if let Some(i) = PARAMS.iter().position(|p| p.name == name) {
        return IDX_PARAM_FILE + i as u16;
    }
    // FNV-1a, folded into 0x8000..=0xfffe.
    let mut h: u32 = 0x811c_9dc5;
    for b in name.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    IDX_PARAM_HASHED + (h % 0x7fff) as u16
}

/// Can `name` be one entry of a listing? The engine's create keeps
/// parameter names it does not know (the API takes any map), and a name
/// that is empty, `.`, `..`, longer than NAME_MAX or holds `/` or NUL would
/// make the kernel fail the whole listing (EIO) or shadow `.`/`..`.
pub fn file_name_ok(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name != "."
        && name != ".."
        && !name.contains(['/', '\0'])
}

/// One value, newline-terminated.
fn line(s: impl std::fmt::Display) -> Vec<u8> {
    format!("{s}\n").into_bytes()
}

/// A list, one element per line; empty for an empty list.
fn lines<I: IntoIterator<Item = S>, S: std::fmt::Display>(items: I) -> Vec<u8> {
    let mut out = String::new();
    for i in items {
        let _ = writeln!(out, "{i}");
    }
    out.into_bytes()
}

/// A parameter's file: a list one value per line, anything else one line.
pub fn param_bytes(v: &Value) -> Vec<u8> {
    match v {
        Value::List(l) => lines(l),
        other => line(other),
    }
}

/// /proc/loadavg's line for a zone (see the module comment).
pub fn loadavg(z: &ZoneSnapshot) -> String {
    let mut out = String::new();
    for a in z.kstat.avenrun {
        // FSCALE is 256; Linux adds FIXED_1/200 before cutting to 2 decimals.
        let v = u64::from(a) + 1;
        let int = v >> 8;
        let frac = ((v & 0xff) * 100) >> 8;
        let _ = write!(out, "{int}.{frac:02} ");
    }
    let last = z.procs.iter().copied().max().unwrap_or(0);
    let _ = write!(out, "{}/{} {last}", z.kstat.nprocs, z.kstat.nlwps);
    out
}

/// The `kstat -p` text of a zone: its `caps` kstats and its `zones`
/// kstat, from the engine's own formatter (zones::kstat::format), so that
/// `kstat/all` and `.kstat` are byte-identical to `kstat -p`.
/// `ks` is [`zone_kstats`] of the zone.
pub fn kstat_parts(ks: &[Kstat; 4]) -> (String, String) {
    let q = Query::default();
    let caps = render(&ks[..3], &q, Style::Parseable).0;
    let zones = render(&ks[3..], &q, Style::Parseable).0;
    (caps, zones)
}

/// Pairs serialised as a JSON object, in their order.
struct Pairs<K, V>(Vec<(K, V)>);

impl<K: Serialize, V: Serialize> Serialize for Pairs<K, V> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

#[derive(Serialize)]
#[serde(untagged)]
enum Stat {
    Num(u64),
    Text(String),
}

#[derive(Serialize)]
struct CapJson {
    usage: u64,
    value: u64,
}

#[derive(Serialize)]
struct KstatJson {
    nprocs: CapJson,
    lockedmem: CapJson,
    swapresv: CapJson,
    zone_misc: Pairs<&'static str, Stat>,
}

#[derive(Serialize)]
struct RefsJson {
    zone_ref: u64,
    cred_ref: u64,
    subsys: Pairs<&'static str, u64>,
}

/// The zone's `json` file: the files of its directory (but `kstat/all`),
/// in zonefs.md's order.
#[derive(Serialize)]
struct ZoneJson<'a> {
    status: &'static str,
    kstatus: &'static str,
    id: u32,
    name: &'a str,
    uniqid: u64,
    root: std::borrow::Cow<'a, str>,
    brand: &'static str,
    hostname: &'a str,
    parent: u32,
    init_pid: u32,
    boot_time: u64,
    privileges: &'a [String],
    loadavg: String,
    procs: &'a [u32],
    params: &'a zones::param::Params,
    rctl: Pairs<&'static str, u64>,
    kstat: KstatJson,
    refs: RefsJson,
}

/// The zone as one JSON object (one line, no newline); `ks` is
/// [`zone_kstats`] of the zone.
pub fn json(z: &ZoneSnapshot, ks: &[Kstat; 4]) -> String {
    let cap = |c: &str| {
        let k = caps_kstat(ks, c);
        CapJson {
            usage: stat_value(k, "usage").parse().unwrap_or(0),
            value: stat_value(k, "value").parse().unwrap_or(0),
        }
    };
    let misc = ZONE_MISC
        .iter()
        .map(|s| {
            let v = stat_value(&ks[3], s);
            (*s, v.parse::<u64>().map_or(Stat::Text(v), Stat::Num))
        })
        .collect();
    let j = ZoneJson {
        status: z.status.admin().as_str(),
        kstatus: z.status.as_str(),
        id: z.id.0,
        name: z.name.as_str(),
        uniqid: z.uniqid,
        root: z.root.to_string_lossy(),
        brand: z.brand.as_str(),
        hostname: &z.hostname,
        parent: z.parent.0,
        init_pid: z.init_pid,
        boot_time: z.boot_time,
        privileges: &z.privileges,
        loadavg: loadavg(z),
        procs: &z.procs,
        params: &z.params,
        rctl: Pairs(z.rctls()),
        kstat: KstatJson {
            nprocs: cap("nprocs"),
            lockedmem: cap("lockedmem"),
            swapresv: cap("swapresv"),
            zone_misc: Pairs(misc),
        },
        refs: RefsJson {
            zone_ref: z.refs.zone_ref,
            cred_ref: z.refs.cred_ref,
            subsys: Pairs(
                Subsys::ALL
                    .iter()
                    .map(|s| (s.as_str(), z.refs.get(*s)))
                    .collect(),
            ),
        },
    };
    serde_json::to_string(&j).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

/// Everything one zone shows, rendered from one snapshot of it: the nodes of
/// its directory (sorted by index) and the parts `.kstat` and `.json` are
/// made of.
pub struct Rendered {
    pub nodes: Vec<Node>,
    pub kstat_caps: Arc<str>,
    pub kstat_zones: Arc<str>,
    pub json: Arc<str>,
}

/// Render every node of a zone directory.
pub fn zone(z: &ZoneSnapshot, hrtime: u64) -> Rendered {
    let mut n: Vec<Node> = Vec::with_capacity(96 + z.params.0.len());

    let ks = zone_kstats(z, hrtime);
    let (caps, zones) = kstat_parts(&ks);
    let json_text = json(z, &ks);

    // The zone directory (its name is the zone's; the tree sets it).
    let mut top: Vec<u16> = (1..=TOP_FILES.len() as u16).collect();
    top.extend([IDX_PARAMS, IDX_RCTL, IDX_KSTAT, IDX_REFS]);
    // The zone directory (found by its zone's name, never by its own).
    n.push(Node::dir(IDX_DIR, IDX_DIR, ".", top));
    let top_bytes: [Vec<u8>; 15] = [
        line(z.status.admin()),
        line(z.status),
        line(z.id),
        line(&z.name),
        line(z.uniqid),
        line(z.root.display()),
        line(z.brand),
        line(&z.hostname),
        line(z.parent),
        line(z.init_pid),
        line(z.boot_time),
        lines(&z.privileges),
        line(loadavg(z)),
        lines(&z.procs),
        line(&json_text),
    ];
    for (i, (name, bytes)) in TOP_FILES.iter().zip(top_bytes).enumerate() {
        n.push(Node::file(i as u16 + 1, IDX_DIR, *name, bytes));
    }

    // params/ and rctl/ (a name that cannot be one file name is not shown)
    let mut params: Vec<(u16, &str, &Value)> = z
        .params
        .iter()
        .filter(|(k, _)| file_name_ok(k))
        .map(|(k, v)| (param_index(k), k, v))
        .collect();
    // params/network: the IP type (shared, excl, inherit), as
    // zone_getattr("network") and zoneadm's IP column say it.
    let network = crate::link::ip_type(z);
    if !z.id.is_global() && z.params.get("network").is_none() {
        params.push((param_index("network"), "network", &network));
    }
    let param_name = |idx: u16, k: &str| -> std::borrow::Cow<'static, str> {
        match PARAMS.get(usize::from(idx.wrapping_sub(IDX_PARAM_FILE))) {
            Some(p) if idx < IDX_PARAM_HASHED && p.name == k => p.name.into(),
            _ => k.to_string().into(),
        }
    };
    params.sort_unstable_by_key(|p| p.0);
    params.dedup_by_key(|p| p.0);
    n.push(Node::dir(
        IDX_PARAMS,
        IDX_DIR,
        "params",
        params.iter().map(|p| p.0).collect(),
    ));
    let rctls: Vec<(u16, &'static str, u64)> = RCTLS
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            z.params
                .int(r)
                .map(|v| (IDX_RCTL_FILE + i as u16, *r, v.max(0) as u64))
        })
        .collect();
    n.push(Node::dir(
        IDX_RCTL,
        IDX_DIR,
        "rctl",
        rctls.iter().map(|r| r.0).collect(),
    ));

    // kstat/
    let mut kstat_children = IDX_CAPS_DIR.to_vec();
    kstat_children.extend([IDX_ZONE_MISC, IDX_KSTAT_ALL, crate::link::IDX_LINK]);
    n.push(Node::dir(IDX_KSTAT, IDX_DIR, "kstat", kstat_children));
    n.extend(crate::link::nodes(z, IDX_KSTAT));
    for (c, cap) in CAPS.iter().enumerate() {
        let usage = IDX_CAPS_FILE + 2 * c as u16;
        n.push(Node::dir(
            IDX_CAPS_DIR[c],
            IDX_KSTAT,
            *cap,
            vec![usage, usage + 1],
        ));
    }
    n.push(Node::dir(
        IDX_ZONE_MISC,
        IDX_KSTAT,
        "zone_misc",
        (0..ZONE_MISC.len() as u16)
            .map(|i| IDX_MISC_FILE + i)
            .collect(),
    ));
    n.push(Node::dir(
        IDX_REFS,
        IDX_DIR,
        "refs",
        vec![IDX_ZONE_REF, IDX_CRED_REF, IDX_SUBSYS],
    ));
    n.push(Node::dir(
        IDX_SUBSYS,
        IDX_REFS,
        "subsys",
        (0..Subsys::COUNT as u16)
            .map(|i| IDX_SUBSYS_FILE + i)
            .collect(),
    ));
    for (c, cap) in CAPS.iter().enumerate() {
        let usage = IDX_CAPS_FILE + 2 * c as u16;
        let k = caps_kstat(&ks, cap);
        n.push(Node::file(
            usage,
            IDX_CAPS_DIR[c],
            "usage",
            line(stat_value(k, "usage")),
        ));
        n.push(Node::file(
            usage + 1,
            IDX_CAPS_DIR[c],
            "value",
            line(stat_value(k, "value")),
        ));
    }
    let mut all = String::with_capacity(caps.len() + zones.len());
    all.push_str(&caps);
    all.push_str(&zones);
    n.push(Node::file(
        IDX_KSTAT_ALL,
        IDX_KSTAT,
        "all",
        all.into_bytes(),
    ));
    for (i, stat) in ZONE_MISC.iter().enumerate() {
        n.push(Node::file(
            IDX_MISC_FILE + i as u16,
            IDX_ZONE_MISC,
            *stat,
            line(stat_value(&ks[3], stat)),
        ));
    }
    n.push(Node::file(
        IDX_ZONE_REF,
        IDX_REFS,
        "zone_ref",
        line(z.refs.zone_ref),
    ));
    n.push(Node::file(
        IDX_CRED_REF,
        IDX_REFS,
        "cred_ref",
        line(z.refs.cred_ref),
    ));
    for (i, s) in Subsys::ALL.iter().enumerate() {
        n.push(Node::file(
            IDX_SUBSYS_FILE + i as u16,
            IDX_SUBSYS,
            s.as_str(),
            line(z.refs.get(*s)),
        ));
    }
    for (idx, r, v) in &rctls {
        n.push(Node::file(*idx, IDX_RCTL, *r, line(v)));
    }
    for (idx, k, v) in &params {
        n.push(Node::file(
            *idx,
            IDX_PARAMS,
            param_name(*idx, k),
            param_bytes(v),
        ));
    }
    n.sort_unstable_by_key(|x| x.idx);
    Rendered {
        nodes: n,
        kstat_caps: caps.into(),
        kstat_zones: zones.into(),
        json: json_text.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zones::snapshot::Kstat;
    use zones::testing::ZoneBuilder;

    fn web() -> ZoneSnapshot {
        ZoneBuilder::new(3, "web")
            .uniqid(7)
            .root("/srv/web")
            .hostname("web.example")
            .init_pid(4000)
            .zsched_pid(3999)
            .boot_time(1_700_000_000)
            .crtime(5_000_000_123)
            .privileges(&["cap_chown", "cap_kill"])
            .params(&["zone.max-processes=100", "exec.start=/bin/sh,/etc/rc"])
            .kstat(Kstat {
                nprocs: 2,
                nlwps: 37,
                avenrun: [133, 79, 26],
                snaptime: 9_500_000_000,
                ..Kstat::default()
            })
            .procs(vec![4000, 4242])
            .build()
    }

    #[test]
    fn loadavg_reads_like_proc_loadavg() {
        // 133/256 = 0.5195 → 0.52 with Linux's rounding; 79 → 0.31; 26 → 0.10.
        assert_eq!(loadavg(&web()), "0.52 0.31 0.10 2/37 4242");
        let mut z = web();
        z.kstat.avenrun = [0, 256, 0x7fff_ffff];
        z.procs.clear();
        assert_eq!(loadavg(&z), "0.00 1.00 8388608.00 2/37 0");
    }

    #[test]
    fn kstat_all_is_kstat_p_of_the_zone_and_name_unlimited_as_uint64_max() {
        let z = web();
        let ks = zone_kstats(&z, 1);
        let (caps, zones) = kstat_parts(&ks);
        let lines: Vec<&str> = caps.lines().collect();
        assert_eq!(lines[0], "caps:3:lockedmem_zone_3:class\tzone_caps");
        assert_eq!(lines[1], "caps:3:lockedmem_zone_3:crtime\t5.000000123");
        assert!(lines.contains(&"caps:3:nprocs_zone_3:value\t100"));
        assert!(lines.contains(&"caps:3:swapresv_zone_3:value\t18446744073709551615"));
        assert!(lines.contains(&"caps:3:nprocs_zone_3:usage\t2"));
        let zl: Vec<&str> = zones.lines().collect();
        assert_eq!(zl.len(), ZONE_MISC.len() + 3);
        assert_eq!(zl[0], "zones:3:web:avenrun_15min\t26");
        assert!(zl.contains(&"zones:3:web:snaptime\t9.500000000"));
        assert!(zl.contains(&"zones:3:web:class\tzone_misc"));
        // Byte-identical to `kstat -p` of a snapshot holding only this zone.
        let snap = zones::snapshot::Snapshot {
            hrtime: 1,
            zones: vec![Arc::new(z.clone())],
            ..Default::default()
        };
        let (p, _) = render(
            &zones::kstat::format::kstats(&snap),
            &Query::default(),
            Style::Parseable,
        );
        assert_eq!(p, format!("{caps}{zones}"));
        // A zone never sampled shows the snapshot's time, as kstat does.
        let mut fresh = z;
        fresh.kstat.snaptime = 0;
        let (caps, _) = kstat_parts(&zone_kstats(&fresh, 7_000_000_001));
        assert!(caps.contains("caps:3:nprocs_zone_3:snaptime\t7.000000001\n"));
    }

    #[test]
    fn every_node_has_a_distinct_index_and_a_known_parent() {
        let r = zone(&web(), 1);
        let idx: Vec<u16> = r.nodes.iter().map(|n| n.idx).collect();
        let mut dedup = idx.clone();
        dedup.dedup();
        assert_eq!(idx, dedup, "indices are sorted and distinct");
        for node in &r.nodes {
            assert!(idx.binary_search(&node.parent).is_ok(), "{}", node.name);
        }
    }

    #[test]
    fn lists_are_one_value_per_line_and_scalars_one_line() {
        let r = zone(&web(), 1);
        let get = |idx| {
            r.nodes
                .iter()
                .find(|n| n.idx == idx)
                .unwrap()
                .bytes()
                .unwrap()
        };
        assert_eq!(&get(param_index("exec.start"))[..], b"/bin/sh\n/etc/rc\n");
        assert_eq!(&get(param_index("zone.max-processes"))[..], b"100\n");
        assert_eq!(&get(12)[..], b"cap_chown\ncap_kill\n");
        assert_eq!(&get(14)[..], b"4000\n4242\n");
        assert_eq!(&get(1)[..], b"running\n");
        assert_eq!(&get(IDX_RCTL_FILE)[..], b"100\n");
    }

    #[test]
    fn a_zone_that_shares_the_hosts_network_says_inherit_in_params_and_json() {
        let mut z = web();
        z.params.set_arg("ip4=inherit").unwrap();
        let r = zone(&z, 1);
        let node = r
            .nodes
            .iter()
            .find(|n| n.idx == param_index("ip4"))
            .expect("params/ip4");
        assert_eq!(node.name, "ip4");
        assert_eq!(&node.bytes().unwrap()[..], b"inherit\n");
        let ks = zone_kstats(&z, 1);
        let j: serde_json::Value = serde_json::from_str(&json(&z, &ks)).unwrap();
        assert_eq!(j["params"]["ip4"], "inherit", "{j}");
        // A zone with its own network (the default) sets no ip4 at all.
        assert!(
            zone(&web(), 1)
                .nodes
                .iter()
                .all(|n| n.idx != param_index("ip4"))
        );
    }

    #[test]
    fn parameter_names_that_are_no_file_name_are_not_shown() {
        // Found by the zonefs_lookup fuzz target: params/ listed ".".
        let mut z = web();
        for k in [".", "..", "", "a/b", "/", "nul\0x", &"n".repeat(256), "x.y"] {
            z.params.0.insert(k.to_string(), Value::Bool(true));
        }
        let r = zone(&z, 1);
        let names: Vec<&str> = r
            .nodes
            .iter()
            .filter(|n| n.parent == IDX_PARAMS)
            .map(|n| n.name.as_ref())
            .collect();
        // (params/network, the IP type, is always there.)
        assert_eq!(
            names,
            vec!["exec.start", "zone.max-processes", "network", "x.y"]
        );
        let Some(crate::tree::Node {
            kind: crate::tree::Kind::Dir(children),
            ..
        }) = r.nodes.iter().find(|n| n.idx == IDX_PARAMS)
        else {
            panic!("no params/");
        };
        assert_eq!(children.len(), 4);
    }

    #[test]
    fn unknown_parameter_names_hash_into_their_own_range() {
        let i = param_index("not.in.the.table");
        assert!((IDX_PARAM_HASHED..IDX_BY_ID_LINK).contains(&i));
        assert_eq!(i, param_index("not.in.the.table"));
        assert!(param_index("persist") < IDX_PARAM_HASHED);
    }
}
