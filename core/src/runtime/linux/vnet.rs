//! # vnet: a zone's own network stack
//!
//! Every zone has a network namespace of its own unless it asked for
//! `ip4 = inherit` ([`NetMode`], decided once from the parameters): zsched
//! unshares it ([`super::launch::setup`]), so a zone cannot reach the
//! host's loopback services, the host's abstract Unix sockets (those are
//! per network namespace) nor another zone's, and /proc/net shows its own
//! sockets only. This module then makes that stack usable as FreeBSD's
//! VNET jails are:
//!
//! * `lo` is brought up (SIOCSIFFLAGS on a socket of the new namespace),
//!   in every zone with its own namespace: loopback-only is the default;
//! * with `vnet = new`, every `vnet.interface` is moved in, before the zone's init or command
//!   runs. zsched does it itself, with no handshake with the engine: it
//!   opens an rtnetlink socket *before* the unshare — a netlink socket
//!   keeps the namespace it was made in — and after the unshare sends, on
//!   that host socket, one `RTM_NEWLINK` per interface with `IFLA_IFNAME`
//!   and `IFLA_NET_NS_FD` (a descriptor of its own new namespace): the
//!   kernel's `ip link set dev IF netns FD`.
//!
//! Every name is checked (`if_nametoindex` in the host's namespace) before
//! anything is moved, so an unknown interface fails the boot with nothing
//! moved. When the zone ends, its namespace ends and the kernel hands
//! physical interfaces back to the host's namespace and deletes virtual
//! ones (a veth moved in goes with its peer), as `ip netns del` does.
//!
//! Linux interface names are at most 15 bytes (IFNAMSIZ − 1); a longer
//! name is refused with the name in the message.

use super::launch::ChildError;
use crate::runtime::NetMode;
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// linux/if_link.h.
const IFLA_IFNAME: u16 = 3;
const IFLA_NET_NS_FD: u16 = 28;
/// linux/netlink.h.
const NLM_F_REQUEST: u16 = 1;
const NLM_F_ACK: u16 = 4;
const NLMSG_ERROR: u16 = 2;

fn last_errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// What zsched prepares in the host's network namespace, before the unshare.
pub struct Plan {
    /// The rtnetlink socket of the host's namespace (None: nothing to move).
    host: Option<OwnedFd>,
    interfaces: Vec<String>,
}

/// Check the zone's `vnet.interface` list against the host's interfaces and
/// open the host socket the moves are sent on. Run before the unshare.
pub fn plan(interfaces: Vec<String>, net: NetMode) -> Result<Plan, ChildError> {
    if interfaces.is_empty() {
        return Ok(Plan {
            host: None,
            interfaces,
        });
    }
    if net != NetMode::Vnet {
        return Err(ChildError::new(
            "vnet",
            "vnet.interface needs vnet = new".into(),
        ));
    }
    for i in &interfaces {
        if i.is_empty() || i.len() >= libc::IFNAMSIZ || i.contains(['/', ' ', '\0']) {
            return Err(ChildError::new(
                "vnet",
                format!(
                    "vnet.interface {i:?}: not an interface name (at most 15 bytes, no '/' or blank)"
                ),
            ));
        }
        let c = CString::new(i.as_str()).expect("checked for NUL");
        // SAFETY: a NUL-terminated name.
        if unsafe { libc::if_nametoindex(c.as_ptr()) } == 0 {
            return Err(ChildError::errno(
                "vnet",
                format!("vnet.interface {i}"),
                libc::ENODEV,
            ));
        }
    }
    // SAFETY: socket(2) with constant arguments.
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::NETLINK_ROUTE,
        )
    };
    if fd < 0 {
        return Err(ChildError::errno(
            "vnet",
            "socket(AF_NETLINK)".into(),
            last_errno(),
        ));
    }
    Ok(Plan {
        // SAFETY: a new descriptor we own.
        host: Some(unsafe { OwnedFd::from_raw_fd(fd) }),
        interfaces,
    })
}

impl Plan {
    /// In the new namespace: bring `lo` up and move the interfaces in.
    pub fn apply(self) -> Result<(), ChildError> {
        loopback_up()?;
        let Some(host) = self.host else {
            return Ok(());
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
        for (seq, i) in self.interfaces.iter().enumerate() {
            move_link(host.as_raw_fd(), i, ns.as_raw_fd(), seq as u32 + 1).map_err(|errno| {
                ChildError::errno("vnet", format!("vnet.interface {i}: moving it in"), errno)
            })?;
        }
        Ok(())
    }
}

/// One rtnetlink attribute, padded to 4 bytes.
fn attr(buf: &mut Vec<u8>, kind: u16, payload: &[u8]) {
    let len = 4 + payload.len();
    buf.extend_from_slice(&(len as u16).to_ne_bytes());
    buf.extend_from_slice(&kind.to_ne_bytes());
    buf.extend_from_slice(payload);
    buf.resize(buf.len().next_multiple_of(4), 0);
}

/// The `RTM_NEWLINK` request that moves `name` into the namespace `ns_fd`.
fn move_request(name: &str, ns_fd: RawFd, seq: u32) -> Vec<u8> {
    let mut b = vec![0u8; 16]; // nlmsghdr, filled below
    // ifinfomsg: family, pad, type, index, flags, change — all 0.
    b.extend_from_slice(&[0u8; 16]);
    let mut n = name.as_bytes().to_vec();
    n.push(0);
    attr(&mut b, IFLA_IFNAME, &n);
    attr(&mut b, IFLA_NET_NS_FD, &(ns_fd as u32).to_ne_bytes());
    let len = b.len() as u32;
    b[0..4].copy_from_slice(&len.to_ne_bytes());
    b[4..6].copy_from_slice(&libc::RTM_NEWLINK.to_ne_bytes());
    b[6..8].copy_from_slice(&(NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
    b[8..12].copy_from_slice(&seq.to_ne_bytes());
    b
}

/// The errno of the kernel's acknowledgement (0: done).
fn ack_errno(reply: &[u8], seq: u32) -> Option<i32> {
    if reply.len() < 20 {
        return None;
    }
    let kind = u16::from_ne_bytes([reply[4], reply[5]]);
    let rseq = u32::from_ne_bytes(reply[8..12].try_into().ok()?);
    if kind != NLMSG_ERROR || rseq != seq {
        return None;
    }
    Some(-i32::from_ne_bytes(reply[16..20].try_into().ok()?))
}

fn move_link(sock: RawFd, name: &str, ns_fd: RawFd, seq: u32) -> Result<(), i32> {
    let req = move_request(name, ns_fd, seq);
    // SAFETY: the buffer is valid for its length.
    let n = unsafe { libc::send(sock, req.as_ptr().cast(), req.len(), 0) };
    if n < 0 {
        return Err(last_errno());
    }
    let mut buf = [0u8; 1024];
    loop {
        // SAFETY: the buffer is valid for its length.
        let n = unsafe { libc::recv(sock, buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 0 {
            return Err(last_errno());
        }
        match ack_errno(&buf[..n as usize], seq) {
            Some(0) => return Ok(()),
            Some(e) => return Err(e),
            None => continue,
        }
    }
}

fn loopback_up() -> Result<(), ChildError> {
    // SAFETY: a socket we own, and an ifreq zeroed then filled with a
    // NUL-terminated name, as SIOCGIFFLAGS/SIOCSIFFLAGS expect.
    unsafe {
        let s = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if s < 0 {
            return Err(ChildError::errno("vnet", "socket".into(), last_errno()));
        }
        let s = OwnedFd::from_raw_fd(s);
        let mut ifr: libc::ifreq = std::mem::zeroed();
        for (i, b) in b"lo\0".iter().enumerate() {
            ifr.ifr_name[i] = *b as libc::c_char;
        }
        if libc::ioctl(s.as_raw_fd(), libc::SIOCGIFFLAGS, &mut ifr) != 0 {
            return Err(ChildError::errno(
                "vnet",
                "SIOCGIFFLAGS lo".into(),
                last_errno(),
            ));
        }
        ifr.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
        if libc::ioctl(s.as_raw_fd(), libc::SIOCSIFFLAGS, &ifr) != 0 {
            return Err(ChildError::errno(
                "vnet",
                "SIOCSIFFLAGS lo up".into(),
                last_errno(),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_move_request_is_one_aligned_rtm_newlink_with_name_and_namespace() {
        let b = move_request("veth0", 7, 3);
        assert_eq!(b.len() % 4, 0);
        assert_eq!(
            u32::from_ne_bytes(b[0..4].try_into().unwrap()) as usize,
            b.len()
        );
        assert_eq!(u16::from_ne_bytes([b[4], b[5]]), libc::RTM_NEWLINK);
        assert_eq!(u16::from_ne_bytes([b[6], b[7]]), NLM_F_REQUEST | NLM_F_ACK);
        assert_eq!(u32::from_ne_bytes(b[8..12].try_into().unwrap()), 3);
        // IFLA_IFNAME "veth0\0" (len 10, padded to 12), then IFLA_NET_NS_FD 7.
        assert_eq!(&b[32..36], &[10, 0, 3, 0]);
        assert_eq!(&b[36..42], b"veth0\0");
        assert_eq!(&b[44..48], &[8, 0, 28, 0]);
        assert_eq!(u32::from_ne_bytes(b[48..52].try_into().unwrap()), 7);
    }

    #[test]
    fn acks_give_their_errno_and_other_messages_are_skipped() {
        let mut ack = vec![0u8; 36];
        ack[4..6].copy_from_slice(&NLMSG_ERROR.to_ne_bytes());
        ack[8..12].copy_from_slice(&5u32.to_ne_bytes());
        assert_eq!(ack_errno(&ack, 5), Some(0));
        ack[16..20].copy_from_slice(&(-libc::ENODEV).to_ne_bytes());
        assert_eq!(ack_errno(&ack, 5), Some(libc::ENODEV));
        assert_eq!(ack_errno(&ack, 6), None);
        assert_eq!(ack_errno(&ack[..8], 5), None);
    }

    #[test]
    fn bad_names_and_missing_vnet_are_refused_before_anything_moves() {
        for net in [NetMode::Own, NetMode::Inherit] {
            let e = plan(vec!["lo".into()], net).err().unwrap();
            assert!(e.message.contains("needs vnet = new"), "{}", e.message);
        }
        let e = plan(vec!["a-name-of-16byte".into()], NetMode::Vnet)
            .err()
            .unwrap();
        assert!(e.message.contains("a-name-of-16byte"), "{}", e.message);
        let e = plan(vec!["zz-no-such-if".into()], NetMode::Vnet)
            .err()
            .unwrap();
        assert!(
            e.message.contains("vnet.interface zz-no-such-if"),
            "{}",
            e.message
        );
        assert_eq!(e.errno, Some(libc::ENODEV));
        assert!(plan(vec![], NetMode::Own).unwrap().host.is_none());
    }
}
