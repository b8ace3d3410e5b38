//! # vnet: a zone's own network stack and its links
//!
//! Every zone has a network namespace of its own unless it asked for
//! `ip4 = inherit` ([`NetMode`], decided once from the parameters): zsched
//! unshares it ([`super::launch::setup`]), so a zone cannot reach the
//! host's loopback services, the host's abstract Unix sockets (those are
//! per network namespace) nor another zone's, and /proc/net shows its own
//! sockets only. This module then gives that stack its links, as
//! network.md's models say ([`NetConfig`] reads them from the parameters):
//!
//! * `lo` is brought up, in every zone with its own namespace: loopback
//!   only is the default;
//! * shared-IP (`ip4.addr`/`ip6.addr` as `IFACE|ADDR/PREFIX`, no `vnet`):
//!   for each host link named, a **macvlan** of that link, made directly
//!   in the zone's namespace (never visible in the host's) under the host
//!   link's own name — the zone sees `em0` where the jail.conf said `em0`,
//!   as a FreeBSD jail and an illumos shared-IP zone see the physical
//!   link's name — carrying exactly the zone's addresses, with
//!   `zone.defrouter` as default route. Mode *bridge*, so that two zones on
//!   one host link reach each other as illumos shared-IP zones on one link
//!   do (mode *private* would cut them apart). Unlike illumos, where
//!   shared-IP zones live in the global zone's IP stack, a macvlan cannot
//!   talk to the addresses of its own parent link on the host: the host
//!   reaches such a zone from another link or a bridge, not from the
//!   parent link's own address. ipvlan would avoid that, but these kernels
//!   have none;
//! * exclusive-IP (`vnet = new`): each `vnet.interface` is moved in, and
//!   `vnet.bridge = BR` makes a veth pair whose host end `vz<PID>` (the
//!   host pid of zsched: unique on the host for the zone's life) joins
//!   bridge BR, up, and whose zone end is made directly in the zone as
//!   `eth0`, with the zone's addresses and default route;
//! * IPv6 addresses get the kernel's duplicate address detection, as on
//!   any host: usable about a second after boot (marked `tentative` until
//!   then). Skipping it (IFA_F_NODAD) would save that second but let a zone
//!   take an address another machine on the LAN holds, which the engine's
//!   check (between zones only) cannot see;
//! * `ip6 = disable`: IPv6 is switched off in the zone's namespace
//!   (net.ipv6.conf.{all,default}.disable_ipv6, so no link-local address
//!   either); `ip4 = disable`: no IPv4 address is given (Linux cannot
//!   switch IPv4 off; loopback keeps 127.0.0.1).
//!
//! ## Where and when
//!
//! zsched does all of it itself, before the zone's init or command runs,
//! with no handshake with the engine: [`plan`] runs *before* the unshare —
//! it checks every name (host links, bridge, `vnet.interface`) in the
//! host's namespace, so a missing one fails the boot with nothing made,
//! and opens an rtnetlink socket ([`super::netlink`]), which keeps the
//! host's namespace — and [`Plan::apply`] runs after it, creating on the
//! host socket with `IFLA_NET_NS_FD` (a descriptor of zsched's new
//! namespace) and configuring on a socket of the zone's namespace.
//!
//! Nothing is left on the host: a macvlan and the zone end of a veth live
//! in the zone's namespace only, and go when it ends (after halt, or if
//! zsched dies anywhere in its setup); a veth's host end goes with its
//! peer; addresses, routes and neighbour entries are the zone namespace's.
//! Physical interfaces moved in with `vnet.interface` return to the host's
//! namespace when it ends, virtual ones are deleted, as `ip netns del`
//! does. So there is nothing to undo at halt and nothing for an engine
//! that re-adopts a zone after a `kill -9` to redo: the links live as long
//! as zsched, not as the engine.
//!
//! A nested zone starts from its parent zone's network namespace
//! ([`super::launch::setup`] joins it before [`plan`]): its "host links"
//! are the parent's interfaces, and the engine lets it hold only
//! addresses within the parent's subnets
//! ([`crate::runtime::netcfg::beyond_parent`]). (`vnet.bridge` is checked
//! to be a bridge through /sys/class/net, which shows the host's links: a
//! bridge of a parent zone is refused, not mistaken.)
//!
//! What the zone itself can do to its addresses: without CAP_NET_ADMIN
//! (not in the default set, [`super::caps`]) it can neither add an address
//! nor change a route, so it can bind and send only from its own
//! addresses (binding another is EADDRNOTAVAIL; IP_FREEBIND lets a bind
//! pass, but the kernel then finds no route from a non-local source).
//! A zone given `allow.raw_sockets` (CAP_NET_RAW) can forge packets
//! whatever its addresses, as on the host.

use super::launch::ChildError;
use super::netlink::Rtnl;
use crate::param::Params;
use crate::runtime::NetMode;
use crate::runtime::netcfg::{self, NetConfig};
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

fn last_errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// The index of interface `name` in the caller's current namespace (0: none).
fn ifindex(name: &str) -> u32 {
    let Ok(c) = CString::new(name) else { return 0 };
    // SAFETY: a NUL-terminated name.
    unsafe { libc::if_nametoindex(c.as_ptr()) }
}

/// What zsched prepares in the host's network namespace, before the unshare.
pub struct Plan {
    net: NetMode,
    cfg: NetConfig,
    /// The rtnetlink socket of the host's namespace (None: nothing to make
    /// or move there).
    host: Option<Rtnl>,
    /// Shared-IP: each host link with its index in the host's namespace.
    links: Vec<(String, u32)>,
    /// vnet.bridge: the bridge's index, and the veth's host end name.
    bridge: Option<(u32, String)>,
}

/// Read the zone's network parameters, check every name they give against
/// the host's interfaces and open the host socket the links are made on.
/// Run before the unshare: an error here leaves nothing made.
pub fn plan(params: &Params, net: NetMode) -> Result<Plan, ChildError> {
    let cfg = NetConfig::of(params).map_err(|m| ChildError::new("net", m))?;
    if !cfg.interfaces.is_empty() && net != NetMode::Vnet {
        return Err(ChildError::new(
            "vnet",
            "vnet.interface needs vnet = new".into(),
        ));
    }
    for i in &cfg.interfaces {
        if ifindex(i) == 0 {
            return Err(ChildError::errno(
                "vnet",
                format!("vnet.interface {i}"),
                libc::ENODEV,
            ));
        }
    }
    let mut links = Vec::new();
    if net == NetMode::Own {
        for l in cfg.host_links() {
            let idx = ifindex(&l);
            if idx == 0 {
                let what = cfg
                    .addrs
                    .iter()
                    .find(|a| a.iface.as_deref() == Some(l.as_str()))
                    .map(|a| {
                        if a.addr.is_ipv4() {
                            "ip4.addr"
                        } else {
                            "ip6.addr"
                        }
                    })
                    .unwrap_or("interface");
                return Err(ChildError::errno(
                    "net",
                    format!("{what}: host interface {l}"),
                    libc::ENODEV,
                ));
            }
            if l == "lo" {
                return Err(ChildError::new(
                    "net",
                    "host interface lo: the host's loopback cannot be shared".into(),
                ));
            }
            links.push((l, idx));
        }
    }
    let bridge = match &cfg.bridge {
        Some(b) => {
            let idx = ifindex(b);
            if idx == 0 {
                return Err(ChildError::errno(
                    "net",
                    format!("vnet.bridge {b}: no such bridge on the host"),
                    libc::ENODEV,
                ));
            }
            if !std::path::Path::new(&format!("/sys/class/net/{b}/bridge")).exists() {
                return Err(ChildError::errno(
                    "net",
                    format!("vnet.bridge {b}: not a bridge"),
                    libc::EINVAL,
                ));
            }
            // zsched's host pid: /proc is still the host's here.
            let pid = std::fs::read_link("/proc/self")
                .ok()
                .and_then(|p| p.to_str().and_then(|s| s.parse::<u32>().ok()))
                .ok_or_else(|| {
                    ChildError::errno("net", "readlink /proc/self".into(), last_errno())
                })?;
            Some((idx, format!("vz{pid}")))
        }
        None => None,
    };
    let host = if links.is_empty() && bridge.is_none() && cfg.interfaces.is_empty() {
        None
    } else {
        Some(Rtnl::open().map_err(|e| ChildError::errno("net", "rtnetlink socket".into(), e))?)
    };
    Ok(Plan {
        net,
        cfg,
        host,
        links,
        bridge,
    })
}

impl Plan {
    /// In the zone's new namespace, right after the unshare (the host's
    /// /proc is still mounted): make and configure the zone's links.
    pub fn apply(mut self) -> Result<(), ChildError> {
        if !self.net.own_namespace() {
            return Ok(());
        }
        if self.cfg.ip6_disabled {
            for k in ["all", "default"] {
                let p = format!("/proc/sys/net/ipv6/conf/{k}/disable_ipv6");
                match std::fs::write(&p, "1") {
                    Ok(()) => {}
                    // A kernel without IPv6 has nothing to switch off.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => {
                        return Err(ChildError::errno(
                            "net",
                            format!("ip6 = disable: {p}"),
                            e.raw_os_error().unwrap_or(0),
                        ));
                    }
                }
            }
        }
        let mut zone =
            Rtnl::open().map_err(|e| ChildError::errno("net", "rtnetlink socket".into(), e))?;
        zone.link_up("lo", None)
            .map_err(|e| ChildError::errno("vnet", "bring lo up".into(), e))?;
        let Some(mut host) = self.host.take() else {
            return self.configure(&mut zone);
        };
        let path = CString::new("/proc/thread-self/ns/net").unwrap();
        // SAFETY: a NUL-terminated path.
        let ns = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
        if ns < 0 {
            return Err(ChildError::errno(
                "vnet",
                "/proc/thread-self/ns/net".into(),
                last_errno(),
            ));
        }
        // SAFETY: a new descriptor we own.
        let ns = unsafe { OwnedFd::from_raw_fd(ns) };
        for i in &self.cfg.interfaces {
            host.link_move(i, ns.as_raw_fd()).map_err(|e| {
                ChildError::errno("vnet", format!("vnet.interface {i}: moving it in"), e)
            })?;
        }
        for (name, idx) in &self.links {
            host.macvlan(*idx, name, ns.as_raw_fd()).map_err(|e| {
                ChildError::errno("net", format!("a macvlan of host link {name}"), e)
            })?;
        }
        if let Some((br, end)) = &self.bridge {
            let b = self.cfg.bridge.as_deref().unwrap_or_default();
            host.veth(end, netcfg::BRIDGE_IFACE, ns.as_raw_fd())
                .map_err(|e| {
                    ChildError::errno("net", format!("vnet.bridge {b}: veth pair {end}"), e)
                })?;
            if let Err(e) = host.link_up(end, Some(*br)) {
                // The pair would go with the namespace; do not wait for it.
                let _ = host.link_del(end);
                return Err(ChildError::errno(
                    "net",
                    format!("vnet.bridge {b}: {end} into the bridge"),
                    e,
                ));
            }
        }
        self.configure(&mut zone)
    }

    /// On the zone's side: links up, addresses, default routes.
    fn configure(&self, zone: &mut Rtnl) -> Result<(), ChildError> {
        let zone_if = |i: &str| {
            if netcfg::is_loopback_name(i) {
                "lo".to_string()
            } else {
                i.to_string()
            }
        };
        let mut up: Vec<String> = Vec::new();
        for a in &self.cfg.addrs {
            let i = zone_if(a.iface.as_deref().unwrap_or("lo"));
            if !up.contains(&i) {
                zone.link_up(&i, None)
                    .map_err(|e| ChildError::errno("net", format!("bring {i} up"), e))?;
                up.push(i.clone());
            }
            let idx = ifindex(&i);
            zone.addr_add(idx, a.addr, a.prefix).map_err(|e| {
                ChildError::errno("net", format!("address {}/{} on {i}", a.addr, a.prefix), e)
            })?;
        }
        if self.bridge.is_some() && !up.iter().any(|i| i == netcfg::BRIDGE_IFACE) {
            zone.link_up(netcfg::BRIDGE_IFACE, None)
                .map_err(|e| ChildError::errno("net", "bring eth0 up".into(), e))?;
        }
        for gw in &self.cfg.defrouters {
            let Some((i, onlink)) = self.cfg.route_iface(*gw) else {
                continue;
            };
            let i = zone_if(i);
            zone.default_route(ifindex(&i), *gw, onlink)
                .map_err(|e| ChildError::errno("net", format!("zone.defrouter {gw} via {i}"), e))?;
        }
        Ok(())
    }
}

/// A bridge on the host (the caller's namespace) holding the host's
/// address `addr/prefix`: the LAN of `vnet.bridge` zones that the host
/// itself reaches (`ztop --demo` makes one for its web zone). Made when
/// missing, and then `Ok(true)`: the caller removes it with
/// [`remove_host_bridge`] when done; `Ok(false)` when a bridge of that name
/// was already there (it is left as it is, the address added if missing).
pub fn host_bridge(name: &str, addr: std::net::IpAddr, prefix: u8) -> Result<bool, String> {
    netcfg::check_ifname(name).map_err(|e| format!("bridge {e}"))?;
    let mut rt = Rtnl::open().map_err(|e| format!("rtnetlink: {}", os(e)))?;
    let made = match rt.bridge(name) {
        Ok(()) => true,
        Err(libc::EEXIST) => {
            if !std::path::Path::new(&format!("/sys/class/net/{name}/bridge")).exists() {
                return Err(format!("{name}: exists and is not a bridge"));
            }
            false
        }
        Err(e) => return Err(format!("bridge {name}: {}", os(e))),
    };
    let undo = |rt: &mut Rtnl, m: String| {
        if made {
            let _ = rt.link_del(name);
        }
        m
    };
    if let Err(e) = rt.link_up(name, None) {
        return Err(undo(&mut rt, format!("bridge {name} up: {}", os(e))));
    }
    match rt.addr_add(ifindex(name), addr, prefix) {
        Ok(()) | Err(libc::EEXIST) => Ok(made),
        Err(e) => Err(undo(
            &mut rt,
            format!("bridge {name}: address {addr}/{prefix}: {}", os(e)),
        )),
    }
}

/// Remove a bridge [`host_bridge`] made (its ports leave it; its address
/// and routes go with it).
pub fn remove_host_bridge(name: &str) -> Result<(), String> {
    let mut rt = Rtnl::open().map_err(|e| format!("rtnetlink: {}", os(e)))?;
    match rt.link_del(name) {
        Ok(()) | Err(libc::ENODEV) => Ok(()),
        Err(e) => Err(format!("remove bridge {name}: {}", os(e))),
    }
}

fn os(e: i32) -> std::io::Error {
    std::io::Error::from_raw_os_error(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use zones::testing::params;

    #[test]
    fn bad_names_and_missing_vnet_are_refused_before_anything_is_made() {
        for net in [NetMode::Own, NetMode::Inherit] {
            let e = plan(&params(&["vnet.interface=lo"]), net).err().unwrap();
            assert!(e.message.contains("needs vnet = new"), "{}", e.message);
        }
        let e = plan(
            &params(&["vnet=new", "vnet.interface=a-name-of-16byte"]),
            NetMode::Vnet,
        )
        .err()
        .unwrap();
        assert!(e.message.contains("a-name-of-16byte"), "{}", e.message);
        let e = plan(
            &params(&["vnet=new", "vnet.interface=zz-no-such-if"]),
            NetMode::Vnet,
        )
        .err()
        .unwrap();
        assert!(
            e.message.contains("vnet.interface zz-no-such-if"),
            "{}",
            e.message
        );
        assert_eq!(e.errno, Some(libc::ENODEV));
        let e = plan(
            &params(&["ip4.addr=zz-no-such-if|10.9.9.9/24"]),
            NetMode::Own,
        )
        .err()
        .unwrap();
        assert!(
            e.message.contains("ip4.addr: host interface zz-no-such-if"),
            "{}",
            e.message
        );
        let e = plan(
            &params(&["vnet=new", "vnet.bridge=zz-no-such-br"]),
            NetMode::Vnet,
        )
        .err()
        .unwrap();
        assert!(
            e.message.contains("vnet.bridge zz-no-such-br"),
            "{}",
            e.message
        );
        // lo exists and is no bridge.
        let e = plan(&params(&["vnet=new", "vnet.bridge=lo"]), NetMode::Vnet)
            .err()
            .unwrap();
        assert!(e.message.contains("not a bridge"), "{}", e.message);
        let e = plan(&params(&["ip4.addr=lo|127.0.0.9"]), NetMode::Own);
        assert!(e.is_ok(), "a loopback name is the zone's own lo");
        assert!(plan(&params(&[]), NetMode::Own).unwrap().host.is_none());
    }
}
