//! # link: a zone's interface counters
//!
//! illumos keeps per-datalink counters in the `link` kstat module; a zone
//! sees those of its links. Here every interface of a zone's own network
//! namespace (lo excepted: it is no link, and illumos shows no kstat for
//! lo0 either) has one kstat:
//!
//! ```text
//! link:ZONEID:IFNAME   class net   rbytes64 obytes64 ipackets64 opackets64 ierrors oerrors zonename
//! ```
//!
//! The runtime's reader (zones-linux `kstat::source::read_links`, through
//! [`crate::kstat::Source::links`]) takes them from `/proc/ZSCHED/net/dev`,
//! parsed here ([`parse_net_dev`]), which the kernel
//! renders for the network namespace of that process: one open, read and
//! close per zone and tick, no descriptor kept (the sampler's descriptor
//! budget is not touched), nothing entered. A zone that shares the host's
//! stack (`ip4 = inherit`) has no links of its own and shows none. The
//! engine's tick stores them in the zone's [`crate::snapshot::Kstat`];
//! [`kstats`] turns them into kstats for `kstat`, zonefs
//! (`/zones/Z/kstat/link/IFNAME/STAT`) and /metrics
//! (`zone_network_{receive,transmit}_{bytes,packets,errors}_total`).

use super::format::{Kstat, Value};
use crate::snapshot::ZoneSnapshot;
use serde::{Deserialize, Serialize};

/// The counters of one interface of a zone.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkStat {
    pub name: String,
    pub rbytes64: u64,
    pub obytes64: u64,
    pub ipackets64: u64,
    pub opackets64: u64,
    pub ierrors: u64,
    pub oerrors: u64,
    /// Bytes per second received and sent over the last tick (ztop's NET
    /// column), from the previous sample of the same interface ([`rates`]).
    #[serde(default)]
    pub rbytes_rate: u64,
    #[serde(default)]
    pub obytes_rate: u64,
}

impl LinkStat {
    /// The statistics by kstat name, in kstat's order.
    pub fn stats(&self) -> [(&'static str, u64); 6] {
        [
            ("ierrors", self.ierrors),
            ("ipackets64", self.ipackets64),
            ("obytes64", self.obytes64),
            ("oerrors", self.oerrors),
            ("opackets64", self.opackets64),
            ("rbytes64", self.rbytes64),
        ]
    }
}

/// Parse /proc/net/dev: two header lines, then
/// `IF: rbytes rpackets rerrs rdrop rfifo rframe rcomp rmcast tbytes tpackets terrs ...`.
pub fn parse_net_dev(text: &str) -> Vec<LinkStat> {
    let mut v: Vec<LinkStat> = text
        .lines()
        .skip(2)
        .filter_map(|l| {
            let (name, rest) = l.split_once(':')?;
            let name = name.trim();
            if name == "lo" || name.is_empty() {
                return None;
            }
            let f: Vec<u64> = rest
                .split_whitespace()
                .map(|x| x.parse().unwrap_or(0))
                .collect();
            if f.len() < 11 {
                return None;
            }
            Some(LinkStat {
                name: name.to_string(),
                rbytes64: f[0],
                ipackets64: f[1],
                ierrors: f[2],
                obytes64: f[8],
                opackets64: f[9],
                oerrors: f[10],
                ..LinkStat::default()
            })
        })
        .collect();
    v.sort_by(|a, b| a.name.cmp(&b.name));
    v
}

/// Fill the per-second rates of `new` from the previous sample `old` of
/// the same zone (interfaces matched by name; a counter that went back,
/// or an interface not seen before, gives 0).
pub fn rates(old: &crate::snapshot::Kstat, new: &mut crate::snapshot::Kstat) {
    let dt = new.snaptime.saturating_sub(old.snaptime);
    if dt == 0 {
        return;
    }
    let per_sec = |now: u64, then: u64| -> u64 {
        (u128::from(now.saturating_sub(then)) * 1_000_000_000 / u128::from(dt)) as u64
    };
    for l in &mut new.links {
        if let Some(o) = old.links.iter().find(|o| o.name == l.name) {
            l.rbytes_rate = per_sec(l.rbytes64, o.rbytes64);
            l.obytes_rate = per_sec(l.obytes64, o.obytes64);
        }
    }
}

/// The `link` kstats of a zone, by interface name.
pub fn kstats(z: &ZoneSnapshot, hrtime: u64) -> Vec<Kstat> {
    let snaptime = if z.kstat.snaptime != 0 {
        z.kstat.snaptime
    } else {
        hrtime
    };
    z.kstat
        .links
        .iter()
        .map(|l| {
            let mut stats: Vec<(&'static str, Value)> = l
                .stats()
                .iter()
                .map(|(n, v)| (*n, Value::U64(*v)))
                .collect();
            stats.push(("zonename", Value::Str(z.name.as_str().to_string())));
            Kstat {
                module: "link",
                instance: z.id.0,
                name: l.name.clone(),
                class: "net",
                crtime: z.crtime,
                snaptime,
                stats,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEV: &str = "Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     840      10    0    0    0     0          0         0      840      10    0    0    0     0       0          0
  zl1a: 10486000  7300    2    0    0     0          0         3  2048      31    1    0    0     0       0          0
  eth0:     100       1    0    0    0     0          0         0      200       2    0    0    0     0       0          0
";

    #[test]
    fn net_dev_gives_each_link_but_lo_sorted_by_name() {
        let v = parse_net_dev(DEV);
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].name, "eth0");
        assert_eq!(
            v[1],
            LinkStat {
                name: "zl1a".into(),
                rbytes64: 10486000,
                obytes64: 2048,
                ipackets64: 7300,
                opackets64: 31,
                ierrors: 2,
                oerrors: 1,
                ..Default::default()
            }
        );
        assert!(parse_net_dev("").is_empty());
    }

    #[test]
    fn rates_are_per_second_since_the_previous_tick() {
        let link = |name: &str, r: u64, o: u64| LinkStat {
            name: name.into(),
            rbytes64: r,
            obytes64: o,
            ..Default::default()
        };
        let old = crate::snapshot::Kstat {
            snaptime: 1_000_000_000,
            links: vec![link("eth0", 1000, 5000)],
            ..Default::default()
        };
        let mut new = crate::snapshot::Kstat {
            snaptime: 3_000_000_000,
            links: vec![link("eth0", 3000, 4000), link("em1", 9, 9)],
            ..Default::default()
        };
        rates(&old, &mut new);
        assert_eq!(
            (new.links[0].rbytes_rate, new.links[0].obytes_rate),
            (1000, 0)
        );
        assert_eq!((new.links[1].rbytes_rate, new.links[1].obytes_rate), (0, 0));
    }
}
