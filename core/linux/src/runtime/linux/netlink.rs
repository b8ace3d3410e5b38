//! # rtnetlink, synchronous
//!
//! A zone's links, addresses and routes are made by zsched while it sets
//! the zone up, single-threaded and between an `unshare` and an `exec`:
//! no async runtime belongs there. So this is a small blocking client on
//! the `netlink-sys` socket, with the messages built and parsed by
//! `netlink-packet-route` (the kernel's structures and attributes, kept
//! by the rust-netlink project) rather than by hand. One request at a
//! time: send it with `NLM_F_ACK`, read until the acknowledgement of its
//! sequence number, return its errno.
//!
//! A netlink socket stays in the network namespace it was made in,
//! whatever namespace its owner later moves to: zsched opens one before it
//! unshares (the host's) and one after (the zone's), and so works on both
//! sides without setns.

use netlink_packet_core::{
    NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage,
    NetlinkPayload,
};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{
    AfSpecInet6, AfSpecUnspec, In6AddrGenMode, InfoData, InfoKind, InfoMacVlan, InfoVeth,
    LinkAttribute, LinkFlags, LinkInfo, LinkMessage, MacVlanMode,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, route::RouteFlags};
use netlink_sys::{Socket, protocols::NETLINK_ROUTE};
use std::net::IpAddr;
use std::os::fd::{AsRawFd, RawFd};

/// An rtnetlink socket of the namespace it was opened in.
pub struct Rtnl {
    sock: Socket,
    seq: u32,
}

impl Rtnl {
    /// A socket of the caller's current network namespace.
    pub fn open() -> Result<Rtnl, i32> {
        let sock = Socket::new(NETLINK_ROUTE).map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))?;
        Ok(Rtnl { sock, seq: 0 })
    }

    pub fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }

    /// Send one request and wait for its acknowledgement: Ok, or the errno.
    pub fn request(&mut self, msg: RouteNetlinkMessage, flags: u16) -> Result<(), i32> {
        self.seq += 1;
        let seq = self.seq;
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | NLM_F_ACK | flags;
        header.sequence_number = seq;
        let mut m = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(msg));
        m.finalize();
        let mut buf = vec![0u8; m.buffer_len()];
        m.serialize(&mut buf);
        self.sock
            .send(&buf, 0)
            .map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))?;
        let mut rbuf = vec![0u8; 16384];
        loop {
            // SAFETY: recv into a buffer we own, with its length.
            let n = unsafe {
                libc::recv(
                    self.sock.as_raw_fd(),
                    rbuf.as_mut_ptr().cast(),
                    rbuf.len(),
                    0,
                )
            };
            if n < 0 {
                let e = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
                if e == libc::EINTR {
                    continue;
                }
                return Err(e);
            }
            let mut off = 0usize;
            let n = n as usize;
            while off + 16 <= n {
                let len = u32::from_ne_bytes(rbuf[off..off + 4].try_into().unwrap()) as usize;
                if len < 16 || off + len > n {
                    break;
                }
                let rseq = u32::from_ne_bytes(rbuf[off + 8..off + 12].try_into().unwrap());
                if rseq == seq
                    && let Ok(reply) =
                        NetlinkMessage::<RouteNetlinkMessage>::deserialize(&rbuf[off..off + len])
                    && let NetlinkPayload::Error(e) = reply.payload
                {
                    return match e.code {
                        None => Ok(()),
                        Some(c) => Err(-c.get()),
                    };
                }
                off += len.next_multiple_of(4);
            }
        }
    }

    /// Set a link up (by name, in this socket's namespace), optionally
    /// making it a port of a bridge (by index). A bridge port gets no IPv6
    /// link-local address (nor its routes): it is not the host's to use.
    pub fn link_up(&mut self, name: &str, controller: Option<u32>) -> Result<(), i32> {
        let mut m = LinkMessage::default();
        m.header.flags = LinkFlags::Up;
        m.header.change_mask = LinkFlags::Up;
        m.attributes.push(LinkAttribute::IfName(name.into()));
        if let Some(c) = controller {
            m.attributes.push(LinkAttribute::Controller(c));
            m.attributes
                .push(LinkAttribute::AfSpecUnspec(vec![AfSpecUnspec::Inet6(
                    vec![AfSpecInet6::AddrGenMode(In6AddrGenMode::None)],
                )]));
        }
        self.request(RouteNetlinkMessage::SetLink(m), 0)
    }

    /// Delete a link by name.
    pub fn link_del(&mut self, name: &str) -> Result<(), i32> {
        let mut m = LinkMessage::default();
        m.attributes.push(LinkAttribute::IfName(name.into()));
        self.request(RouteNetlinkMessage::DelLink(m), 0)
    }

    /// Move the link `name` of this socket's namespace into the namespace
    /// `ns_fd` (`ip link set dev NAME netns FD`).
    pub fn link_move(&mut self, name: &str, ns_fd: RawFd) -> Result<(), i32> {
        self.request(RouteNetlinkMessage::SetLink(move_message(name, ns_fd)), 0)
    }

    /// Make a macvlan of link `parent` (an index in this socket's
    /// namespace), named `name`, directly in the namespace `ns_fd`: it
    /// never exists in the host's namespace.
    pub fn macvlan(&mut self, parent: u32, name: &str, ns_fd: RawFd) -> Result<(), i32> {
        self.request(
            RouteNetlinkMessage::NewLink(macvlan_message(parent, name, ns_fd)),
            NLM_F_CREATE | NLM_F_EXCL,
        )
    }

    /// Make a veth pair: `host` here, `peer` directly in the namespace `ns_fd`.
    pub fn veth(&mut self, host: &str, peer: &str, ns_fd: RawFd) -> Result<(), i32> {
        self.request(
            RouteNetlinkMessage::NewLink(veth_message(host, peer, ns_fd)),
            NLM_F_CREATE | NLM_F_EXCL,
        )
    }

    /// Make a bridge named `name` in this socket's namespace.
    pub fn bridge(&mut self, name: &str) -> Result<(), i32> {
        let mut m = LinkMessage::default();
        m.attributes.push(LinkAttribute::IfName(name.into()));
        m.attributes
            .push(LinkAttribute::LinkInfo(vec![LinkInfo::Kind(
                InfoKind::Bridge,
            )]));
        self.request(RouteNetlinkMessage::NewLink(m), NLM_F_CREATE | NLM_F_EXCL)
    }

    /// Add an address to link `index`.
    pub fn addr_add(&mut self, index: u32, addr: IpAddr, prefix: u8) -> Result<(), i32> {
        self.request(
            RouteNetlinkMessage::NewAddress(address_message(index, addr, prefix)),
            NLM_F_CREATE | NLM_F_EXCL,
        )
    }

    /// Add a default route via `gw` out of link `index`; `onlink` when
    /// `gw` is outside the link's subnets.
    pub fn default_route(&mut self, index: u32, gw: IpAddr, onlink: bool) -> Result<(), i32> {
        self.request(
            RouteNetlinkMessage::NewRoute(route_message(index, gw, onlink)),
            NLM_F_CREATE | NLM_F_EXCL,
        )
    }
}

fn move_message(name: &str, ns_fd: RawFd) -> LinkMessage {
    let mut m = LinkMessage::default();
    m.attributes.push(LinkAttribute::IfName(name.into()));
    m.attributes.push(LinkAttribute::NetNsFd(ns_fd));
    m
}

fn macvlan_message(parent: u32, name: &str, ns_fd: RawFd) -> LinkMessage {
    let mut m = LinkMessage::default();
    m.attributes.push(LinkAttribute::IfName(name.into()));
    m.attributes.push(LinkAttribute::Link(parent));
    m.attributes.push(LinkAttribute::NetNsFd(ns_fd));
    m.attributes.push(LinkAttribute::LinkInfo(vec![
        LinkInfo::Kind(InfoKind::MacVlan),
        LinkInfo::Data(InfoData::MacVlan(vec![InfoMacVlan::Mode(
            MacVlanMode::Bridge,
        )])),
    ]));
    m
}

fn veth_message(host: &str, peer: &str, ns_fd: RawFd) -> LinkMessage {
    let mut p = LinkMessage::default();
    p.attributes.push(LinkAttribute::IfName(peer.into()));
    p.attributes.push(LinkAttribute::NetNsFd(ns_fd));
    let mut m = LinkMessage::default();
    m.attributes.push(LinkAttribute::IfName(host.into()));
    m.attributes.push(LinkAttribute::LinkInfo(vec![
        LinkInfo::Kind(InfoKind::Veth),
        LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(p))),
    ]));
    m
}

fn address_message(index: u32, addr: IpAddr, prefix: u8) -> AddressMessage {
    let mut m = AddressMessage::default();
    m.header.family = if addr.is_ipv4() {
        AddressFamily::Inet
    } else {
        AddressFamily::Inet6
    };
    m.header.prefix_len = prefix;
    m.header.index = index;
    m.attributes.push(AddressAttribute::Local(addr));
    m.attributes.push(AddressAttribute::Address(addr));
    m
}

fn route_message(index: u32, gw: IpAddr, onlink: bool) -> RouteMessage {
    let mut m = RouteMessage::default();
    m.header = RouteHeader {
        address_family: if gw.is_ipv4() {
            AddressFamily::Inet
        } else {
            AddressFamily::Inet6
        },
        table: RouteHeader::RT_TABLE_MAIN,
        protocol: RouteProtocol::Static,
        scope: RouteScope::Universe,
        kind: RouteType::Unicast,
        flags: if onlink {
            RouteFlags::Onlink
        } else {
            RouteFlags::empty()
        },
        ..RouteHeader::default()
    };
    m.attributes
        .push(RouteAttribute::Gateway(RouteAddress::from(gw)));
    m.attributes.push(RouteAttribute::Oif(index));
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_core::Emitable;

    fn bytes<T: Emitable>(m: &T) -> Vec<u8> {
        let mut b = vec![0u8; m.buffer_len()];
        m.emit(&mut b);
        b
    }

    fn has(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn a_move_carries_the_name_and_the_namespace_descriptor() {
        let b = bytes(&move_message("veth0", 7));
        // IFLA_IFNAME (3) "veth0\0", IFLA_NET_NS_FD (28) = 7.
        assert!(has(&b, &[10, 0, 3, 0, b'v', b'e', b't', b'h', b'0', 0]));
        let mut fd = vec![8, 0, 28, 0];
        fd.extend_from_slice(&7u32.to_ne_bytes());
        assert!(has(&b, &fd), "{b:?}");
    }

    #[test]
    fn a_macvlan_is_made_in_bridge_mode_on_its_parent_in_the_zone() {
        let b = bytes(&macvlan_message(4, "em0", 9));
        assert!(has(&b, b"macvlan"));
        let mut link = vec![8, 0, 5, 0]; // IFLA_LINK
        link.extend_from_slice(&4u32.to_ne_bytes());
        assert!(has(&b, &link));
        let mut mode = vec![8, 0, 1, 0]; // IFLA_MACVLAN_MODE = BRIDGE (4)
        mode.extend_from_slice(&4u32.to_ne_bytes());
        assert!(has(&b, &mode), "{b:?}");
    }

    #[test]
    fn a_veth_names_its_peer_in_the_zone() {
        let b = bytes(&veth_message("vz42", "eth0", 5));
        assert!(has(&b, b"veth") && has(&b, b"vz42\0") && has(&b, b"eth0\0"));
    }

    #[test]
    fn addresses_and_routes_carry_their_family() {
        let a = address_message(3, "10.1.2.3".parse().unwrap(), 24);
        assert_eq!(a.header.family, AddressFamily::Inet);
        assert_eq!(a.header.prefix_len, 24);
        let r = route_message(3, "fd00::1".parse().unwrap(), true);
        assert_eq!(r.header.address_family, AddressFamily::Inet6);
        assert!(r.header.flags.contains(RouteFlags::Onlink));
    }
}
