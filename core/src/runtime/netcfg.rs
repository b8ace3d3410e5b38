//! # A zone's addresses, read once from its parameters
//!
//! network.md's models in data: [`NetConfig::of`] turns `ip4`, `ip6`,
//! `ip4.addr`, `ip6.addr`, `interface`, `vnet`, `vnet.interface`,
//! `vnet.bridge` and `zone.defrouter` into what the runtime must make —
//! which addresses go on which of the zone's interfaces, and which default
//! routes — or into an error naming the parameter and the value. It is
//! platform-neutral and makes nothing: the Linux runtime
//! ([`super::linux::vnet`]) builds the links from it, and the engine uses
//! [`address_conflict`] to refuse a second zone holding an address a
//! running zone holds (network.md: "the second boot fails with a message
//! naming both zones").
//!
//! An address is written as jail(8) writes it, `IFACE|ADDR[/PREFIX]`, or
//! `ADDR[/PREFIX]` with `interface = IFACE`. Without a prefix it is a host
//! address (/32, /128), as a FreeBSD alias is. In a shared-IP zone IFACE
//! names the host link the zone's interface is made on (the zone sees an
//! interface of that name); a FreeBSD loopback name (`lo`, `lo0`, `lo1`…)
//! puts the address on the zone's own loopback, which is what a jail.conf
//! `ip4.addr = "lo1|127.0.1.5"` means. In a `vnet` zone IFACE names one of
//! the zone's own interfaces: `eth0` (the zone end of `vnet.bridge`, the
//! default when a bridge is given) or a `vnet.interface`.

use super::NetMode;
use crate::param::Params;
use std::net::IpAddr;

/// One address of a zone, on one interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneAddr {
    /// In a shared-IP zone: the host link; in a vnet zone: the zone's own
    /// interface. `None` never leaves [`NetConfig::of`] for a zone with
    /// its own namespace.
    pub iface: Option<String>,
    pub addr: IpAddr,
    pub prefix: u8,
}

impl ZoneAddr {
    /// `IFACE|ADDR[/PREFIX]` or `ADDR[/PREFIX]`.
    pub fn parse(s: &str) -> Result<ZoneAddr, String> {
        let (iface, rest) = match s.split_once('|') {
            Some((i, r)) => (Some(i.trim().to_string()), r.trim()),
            None => (None, s.trim()),
        };
        if let Some(i) = &iface {
            check_ifname(i)?;
        }
        // FreeBSD also accepts "ADDR netmask M" and "ADDR/PREFIX"; the
        // former is not taken here.
        let (a, p) = match rest.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (rest, None),
        };
        let addr: IpAddr = a
            .parse()
            .map_err(|_| format!("{s:?}: not an address (IFACE|ADDR/PREFIX)"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{s:?}: prefix {p:?} is not 0..{max}"))?,
        };
        Ok(ZoneAddr {
            iface,
            addr,
            prefix,
        })
    }

    /// Whether `other` lies in this address's subnet.
    pub fn contains(&self, other: IpAddr) -> bool {
        match (self.addr, other) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                let m = u32::MAX.checked_shl(32 - self.prefix as u32).unwrap_or(0);
                u32::from(a) & m == u32::from(b) & m
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                let m = u128::MAX.checked_shl(128 - self.prefix as u32).unwrap_or(0);
                u128::from(a) & m == u128::from(b) & m
            }
            _ => false,
        }
    }
}

/// A Linux interface name: 1 to 15 bytes, no '/', blank or ':'.
pub fn check_ifname(i: &str) -> Result<(), String> {
    if i.is_empty()
        || i.len() > 15
        || i.contains(['/', ' ', '\0', ':', '\t'])
        || i == "."
        || i == ".."
    {
        return Err(format!(
            "{i:?}: not an interface name (1 to 15 bytes, no '/', ':' or blank)"
        ));
    }
    Ok(())
}

/// A FreeBSD loopback name: `lo` followed by digits, or `lo`.
pub fn is_loopback_name(i: &str) -> bool {
    i.strip_prefix("lo")
        .is_some_and(|d| d.bytes().all(|b| b.is_ascii_digit()))
}

/// The zone end of `vnet.bridge`.
pub const BRIDGE_IFACE: &str = "eth0";

/// What a zone's network is made of.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetConfig {
    /// ip4.addr then ip6.addr, each with its interface.
    pub addrs: Vec<ZoneAddr>,
    /// zone.defrouter: at most one per family.
    pub defrouters: Vec<IpAddr>,
    /// vnet.bridge.
    pub bridge: Option<String>,
    /// vnet.interface.
    pub interfaces: Vec<String>,
    pub ip4_disabled: bool,
    pub ip6_disabled: bool,
}

impl NetConfig {
    /// Read and check a zone's network parameters (module comment). The
    /// error names the parameter and its value.
    pub fn of(p: &Params) -> Result<NetConfig, String> {
        let mode = NetMode::of(p);
        let mut c = NetConfig {
            ip4_disabled: p.str("ip4") == Some("disable"),
            ip6_disabled: p.str("ip6") == Some("disable"),
            interfaces: p.list("vnet.interface"),
            bridge: p.str("vnet.bridge").map(str::to_string),
            ..NetConfig::default()
        };
        for fam in ["ip4", "ip6"] {
            if let Some(v) = p.str(fam)
                && !matches!(v, "new" | "inherit" | "disable")
            {
                return Err(format!("{fam} = {v:?}: not new, inherit or disable"));
            }
        }
        for i in &c.interfaces {
            check_ifname(i).map_err(|e| format!("vnet.interface {e}"))?;
        }
        if let Some(b) = &c.bridge {
            check_ifname(b).map_err(|e| format!("vnet.bridge {e}"))?;
            if mode != NetMode::Vnet {
                return Err(format!("vnet.bridge {b}: needs vnet = new"));
            }
        }
        if mode == NetMode::Inherit {
            // The host's stack, unrestricted: the lists are only shown.
            return Ok(c);
        }
        let default_if = p.str("interface").map(str::to_string);
        if let Some(i) = &default_if {
            check_ifname(i).map_err(|e| format!("interface {e}"))?;
        }
        for (param, v6) in [("ip4.addr", false), ("ip6.addr", true)] {
            let list = p.list(param);
            let disabled = if v6 { c.ip6_disabled } else { c.ip4_disabled };
            if disabled && !list.is_empty() {
                let fam = if v6 { "ip6" } else { "ip4" };
                return Err(format!("{param} given while {fam} = disable"));
            }
            for s in list {
                let mut a = ZoneAddr::parse(&s).map_err(|e| format!("{param} {e}"))?;
                if a.addr.is_ipv6() != v6 {
                    return Err(format!(
                        "{param} {s:?}: not an IPv{} address",
                        if v6 { 6 } else { 4 }
                    ));
                }
                if a.iface.is_none() {
                    a.iface = default_if.clone();
                }
                // A loopback address is the zone's lo's, whatever the link
                // (jail(8) -h adds 127.0.0.1 for a host named localhost).
                if a.addr.is_loopback() && mode == NetMode::Own {
                    a.iface = Some("lo".into());
                }
                if mode == NetMode::Vnet {
                    a.iface = Some(c.vnet_iface(param, &s, a.iface.take())?);
                }
                if a.iface.is_none() {
                    return Err(format!(
                        "{param} {s:?}: no interface (write IFACE|ADDR/PREFIX, or set interface)"
                    ));
                }
                c.addrs.push(a);
            }
        }
        for s in p.list("zone.defrouter") {
            let r: IpAddr = s
                .trim()
                .parse()
                .map_err(|_| format!("zone.defrouter {s:?}: not an address"))?;
            if c.defrouters.iter().any(|d| d.is_ipv4() == r.is_ipv4()) {
                return Err(format!(
                    "zone.defrouter {s:?}: a second default router of the same family"
                ));
            }
            if !c.addrs.iter().any(|a| a.addr.is_ipv4() == r.is_ipv4()) {
                return Err(format!(
                    "zone.defrouter {s}: the zone has no IPv{} address to reach it from",
                    if r.is_ipv4() { 4 } else { 6 }
                ));
            }
            c.defrouters.push(r);
        }
        Ok(c)
    }

    /// The zone interface of an address of a vnet zone.
    fn vnet_iface(&self, param: &str, s: &str, asked: Option<String>) -> Result<String, String> {
        match asked {
            None if self.bridge.is_some() => Ok(BRIDGE_IFACE.into()),
            None => Err(format!(
                "{param} {s:?}: no interface (write IFACE|ADDR/PREFIX with one of vnet.interface)"
            )),
            Some(i)
                if self.bridge.is_some()
                    && (i == BRIDGE_IFACE || Some(&i) == self.bridge.as_ref()) =>
            {
                Ok(BRIDGE_IFACE.into())
            }
            Some(i) if self.interfaces.contains(&i) || is_loopback_name(&i) => Ok(i),
            Some(i) => Err(format!(
                "{param} {s:?}: {i} is not one of the zone's interfaces (vnet.interface, or eth0 of vnet.bridge)"
            )),
        }
    }

    /// The host links a shared-IP zone gets an interface on, in the order
    /// of the addresses (loopback names excluded: those go on the zone's lo).
    pub fn host_links(&self) -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        for a in &self.addrs {
            if let Some(i) = &a.iface
                && !is_loopback_name(i)
                && !v.contains(i)
            {
                v.push(i.clone());
            }
        }
        v
    }

    /// The interface a default route via `gw` leaves by: the first one
    /// with an address whose subnet holds `gw`, else the first one with an
    /// address of that family (the route is then on-link).
    pub fn route_iface(&self, gw: IpAddr) -> Option<(&str, bool)> {
        let fam = |a: &&ZoneAddr| {
            a.addr.is_ipv4() == gw.is_ipv4() && !a.iface.as_deref().is_some_and(is_loopback_name)
        };
        if let Some(a) = self.addrs.iter().filter(fam).find(|a| a.contains(gw)) {
            return a.iface.as_deref().map(|i| (i, false));
        }
        self.addrs
            .iter()
            .find(fam)
            .and_then(|a| a.iface.as_deref())
            .map(|i| (i, true))
    }
}

/// The addresses a zone holds on a link others share (none for an
/// inherit zone: it holds the host's, which are nobody's to claim; none
/// on its own loopback, which no other zone sees).
pub fn held_addresses(p: &Params) -> Vec<IpAddr> {
    if NetMode::of(p) == NetMode::Inherit {
        return Vec::new();
    }
    let mut v = Vec::new();
    for param in ["ip4.addr", "ip6.addr"] {
        for s in p.list(param) {
            if let Ok(a) = ZoneAddr::parse(&s)
                && !a.addr.is_loopback()
                && !a.iface.as_deref().is_some_and(is_loopback_name)
            {
                v.push(a.addr);
            }
        }
    }
    v
}

/// A nested zone's links are made on its parent's links (its "host" is
/// the parent's network namespace), so it may hold only addresses within
/// the parent's subnets (loopback ones aside: those are its own lo's), as
/// a FreeBSD child jail's ip4.addr must be within its parent's. The child
/// cannot hold the very address of its parent (no two live zones hold one
/// address: [`address_conflict`]), so a parent that means to have
/// children gets a prefix, not a host address. Returns the parameter
/// (`ip4.addr`, `ip6.addr`) of the first address outside the parent's
/// subnets; none when the parent shares its own parent's stack
/// (`ip4 = inherit`, unrestricted).
pub fn beyond_parent(child: &Params, parent: &Params) -> Option<&'static str> {
    if NetMode::of(parent) == NetMode::Inherit {
        return None;
    }
    let subnets: Vec<ZoneAddr> = ["ip4.addr", "ip6.addr"]
        .iter()
        .flat_map(|p| parent.list(p))
        .filter_map(|s| ZoneAddr::parse(&s).ok())
        .collect();
    held_addresses(child)
        .into_iter()
        .find(|a| !a.is_loopback() && !subnets.iter().any(|s| s.contains(*a)))
        .map(|a| if a.is_ipv4() { "ip4.addr" } else { "ip6.addr" })
}

/// The message refusing zone `name` with parameters `p` because one of
/// `others` (name, parameters; the live zones) holds one of its addresses.
pub fn address_conflict<'a>(
    name: &str,
    p: &Params,
    others: impl IntoIterator<Item = (&'a str, &'a Params)>,
) -> Option<String> {
    let mine = held_addresses(p);
    if mine.is_empty() {
        return None;
    }
    for (other, op) in others {
        if let Some(a) = held_addresses(op).into_iter().find(|a| mine.contains(a)) {
            return Some(format!(
                "address {a} of zone {name} is held by zone {other}, which is running"
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::params;

    #[test]
    fn addresses_parse_as_jail8_writes_them() {
        let a = ZoneAddr::parse("em0|192.168.1.10/24").unwrap();
        assert_eq!(a.iface.as_deref(), Some("em0"));
        assert_eq!(a.addr.to_string(), "192.168.1.10");
        assert_eq!(a.prefix, 24);
        let a = ZoneAddr::parse("10.0.0.5").unwrap();
        assert_eq!((a.iface, a.prefix), (None, 32));
        let a = ZoneAddr::parse("eth1|fd00::5/64").unwrap();
        assert_eq!(a.prefix, 64);
        assert_eq!(ZoneAddr::parse("fd00::5").unwrap().prefix, 128);
        for bad in [
            "em0|10.0.0.300",
            "10.0.0.1/33",
            "fd00::1/129",
            "a-name-of-16byte|10.0.0.1",
            "|10.0.0.1",
        ] {
            assert!(ZoneAddr::parse(bad).is_err(), "{bad}");
        }
        let a = ZoneAddr::parse("x|10.1.2.3/24").unwrap();
        assert!(a.contains("10.1.2.1".parse().unwrap()));
        assert!(!a.contains("10.1.3.1".parse().unwrap()));
        let a = ZoneAddr::parse("x|fd00:1::3/64").unwrap();
        assert!(a.contains("fd00:1::1".parse().unwrap()));
        assert!(!a.contains("fd00:2::1".parse().unwrap()));
    }

    #[test]
    fn a_shared_ip_zone_gets_its_addresses_on_the_named_host_links() {
        let c = NetConfig::of(&params(&[
            "ip4.addr=em0|10.0.0.5/24,10.0.1.5/24",
            "interface=em1",
            "ip6.addr=em0|fd00::5/64",
            "zone.defrouter=10.0.1.1,fd00::1",
        ]))
        .unwrap();
        let ifs: Vec<_> = c.addrs.iter().map(|a| a.iface.clone().unwrap()).collect();
        assert_eq!(ifs, ["em0", "em1", "em0"]);
        assert_eq!(c.host_links(), ["em0", "em1"]);
        assert_eq!(
            c.route_iface("10.0.1.1".parse().unwrap()),
            Some(("em1", false))
        );
        assert_eq!(
            c.route_iface("10.9.9.9".parse().unwrap()),
            Some(("em0", true))
        );
        assert_eq!(
            c.route_iface("fd00::1".parse().unwrap()),
            Some(("em0", false))
        );
        // A loopback name puts the address on the zone's lo.
        let c = NetConfig::of(&params(&["ip4.addr=lo1|127.0.1.5"])).unwrap();
        assert!(c.host_links().is_empty());
    }

    #[test]
    fn bad_network_parameters_are_refused_naming_the_parameter() {
        for (args, says) in [
            (
                &["ip4.addr=10.0.0.5"][..],
                "ip4.addr \"10.0.0.5\": no interface",
            ),
            (&["ip4.addr=em0|fd00::1"][..], "not an IPv4 address"),
            (&["ip6.addr=em0|10.0.0.1"][..], "not an IPv6 address"),
            (
                &["ip4=disable", "ip4.addr=em0|10.0.0.1"][..],
                "ip4 = disable",
            ),
            (&["ip4=bogus"][..], "ip4 = \"bogus\""),
            (&["vnet.bridge=br0"][..], "needs vnet = new"),
            (&["zone.defrouter=10.0.0.1"][..], "no IPv4 address"),
            (
                &[
                    "ip4.addr=em0|10.0.0.5/24",
                    "zone.defrouter=10.0.0.1,10.0.0.2",
                ][..],
                "second default router",
            ),
            (
                &["vnet=new", "ip4.addr=10.0.0.5/24"][..],
                "ip4.addr \"10.0.0.5/24\": no interface",
            ),
            (
                &["vnet=new", "vnet.bridge=br0", "ip4.addr=em9|10.0.0.5/24"][..],
                "em9 is not one of the zone's interfaces",
            ),
        ] {
            let e = NetConfig::of(&params(args)).unwrap_err();
            assert!(e.contains(says), "{args:?}: {e}");
        }
    }

    #[test]
    fn a_vnet_zone_puts_addresses_on_its_own_interfaces() {
        let c = NetConfig::of(&params(&[
            "vnet=new",
            "vnet.bridge=br0",
            "ip4.addr=10.0.0.5/24,br0|10.0.0.6/24",
            "ip6.addr=fd00::5/64",
        ]))
        .unwrap();
        assert!(c.addrs.iter().all(|a| a.iface.as_deref() == Some("eth0")));
        let c = NetConfig::of(&params(&[
            "vnet=new",
            "vnet.interface=vx1",
            "ip4.addr=vx1|10.0.0.5/24",
        ]))
        .unwrap();
        assert_eq!(c.addrs[0].iface.as_deref(), Some("vx1"));
        // inherit keeps the lists as they are, unchecked.
        assert!(
            NetConfig::of(&params(&["ip4=inherit", "ip4.addr=10.0.0.5"]))
                .unwrap()
                .addrs
                .is_empty()
        );
    }

    #[test]
    fn a_child_holds_only_addresses_of_its_parent() {
        let parent = params(&["ip4.addr=em0|10.0.0.5/24,em1|10.0.1.5/32"]);
        let ok = params(&["ip4.addr=em0|10.0.0.6/24", "ip6.addr=lo|::1"]);
        assert_eq!(beyond_parent(&ok, &parent), None);
        let bad = params(&["ip4.addr=em0|10.0.2.7/24"]);
        assert_eq!(beyond_parent(&bad, &parent), Some("ip4.addr"));
        let bad = params(&["ip4.addr=em1|10.0.1.6/24"]);
        assert_eq!(beyond_parent(&bad, &parent), Some("ip4.addr"));
        let bad6 = params(&["ip6.addr=em0|fd00::7/64"]);
        assert_eq!(beyond_parent(&bad6, &parent), Some("ip6.addr"));
        assert_eq!(beyond_parent(&bad, &params(&["ip4=inherit"])), None);
        assert_eq!(beyond_parent(&bad, &params(&[])), Some("ip4.addr"));
        assert_eq!(beyond_parent(&params(&["ip4=inherit"]), &parent), None);
    }

    #[test]
    fn two_live_zones_may_not_hold_one_address() {
        let a = params(&["ip4.addr=em0|10.0.0.5/24"]);
        let b = params(&["ip4.addr=em1|10.0.0.5/16"]);
        let c = params(&["ip4.addr=em0|10.0.0.6/24"]);
        let inh = params(&["ip4=inherit", "ip4.addr=10.0.0.5"]);
        let e = address_conflict("b", &b, [("a", &a)]).unwrap();
        assert!(
            e.contains("zone b") && e.contains("zone a") && e.contains("10.0.0.5"),
            "{e}"
        );
        assert_eq!(address_conflict("c", &c, [("a", &a)]), None);
        assert_eq!(address_conflict("i", &inh, [("a", &a)]), None);
        assert_eq!(address_conflict("b", &b, [("i", &inh)]), None);
        // Loopback addresses are each zone's own.
        let l1 = params(&["ip4.addr=127.0.0.1,lo1|10.9.9.9"]);
        assert_eq!(address_conflict("l2", &l1, [("l1", &l1)]), None);
        let c = NetConfig::of(&l1).unwrap();
        assert!(c.host_links().is_empty(), "{c:?}");
    }
}
