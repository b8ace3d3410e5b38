//! # zones-oci: the OCI runtime interface over the engine
//!
//! containerd's runc shim and Podman's conmon drive a container through a
//! runtime binary with runc's command line (`create`, `start`, `state`,
//! `kill`, `delete`, `exec`, `ps`, `features`). `zones-oci` answers that
//! command line, and each container it is asked for is a zone of the
//! engine the admin tools use (zoned's socket when zoned answers, else an
//! embedded engine on the state directory: [`crate::api::open`]), so it is
//! listed by `zoneadm list`, shown by ztop and /zones, counted by kstat.
//!
//! ## Mapping a container onto a zone
//!
//! * The container id becomes the zone name ([`zone_name`]): an id that
//!   obeys illumos' rules for a name (at most 64 bytes, first character
//!   alphanumeric, then alphanumerics, `-` and `_`; a `.` is refused here
//!   although zone names allow it, because a dot names a child zone) is
//!   used as it is; any other id becomes `oci-` + up to 40 of its allowed
//!   characters + `-` + the FNV-1a 64 hash of the whole id in hex, which
//!   is deterministic and keeps ids that differ only in refused characters
//!   apart. The original id is kept in the container's state directory.
//! * `config.json` ([`spec`]) becomes the zone's parameters: `root.path` →
//!   `path`, `hostname` → `host.hostname`, `linux.resources` → rctls,
//!   the `zones.brand` annotation → `brand`, `mounts` and masked /
//!   read-only paths → `mount` lines (a file bound onto a file), a
//!   network namespace path → `vnet.netns`, `linux.seccomp` →
//!   `seccomp.profile` (a file in the container's state directory, loaded
//!   on top of the zone's own filter); the zone is `persist` so that
//!   its lifetime is the container's (created by `create`, removed by
//!   `delete`), never the engine's idea of an empty jail. What no zone
//!   parameter can give is refused at `create`, naming the entry.
//! * `process` is applied by the holder as it enters the zone: the
//!   program, environment, user, groups, umask, no_new_privs, and the
//!   capabilities and rlimits as narrowings of the zone's
//!   ([`crate::runtime::linux::enter_extra`]) — a container never has
//!   more than its zone's `limitpriv` and limits.
//!
//! ## The create / start split
//!
//! The OCI model creates the container's process at `create` and lets it
//! run the user's program only at `start`. Here `create` makes the zone
//! ready (namespaces, cgroups, root: illumos' *ready* is OCI's
//! *created*) and starts the container's **process holder** — this binary
//! again (`zones-oci _hold`), a child the caller reaps: conmon and the
//! runc shim are child subreapers, so once `create` exits the holder is
//! theirs, and its exit status is the container's. The holder waits on
//! `exec.fifo` in the container's state directory, as runc's init does,
//! on the host side of the zone, holding nothing of the zone. `start`
//! boots the zone (without an init: the container's process is its
//! program, jail(8)'s way), writes the zone's handle beside the fifo and
//! opens the fifo, which releases the holder; the holder then enters the
//! zone exactly as zlogin/jexec do ([`crate::runtime::linux::enter`]: no
//! host descriptor, the zone's filter, bounding set and limits) and runs
//! the program as the zone's process, and exits with its status.
//! `halt` of the zone from our tools kills that process, so the holder
//! exits and the caller sees the container's exit.
//!
//! `state`'s `pid` is the host pid of the container's program once it
//! runs (the holder's grandchild), the holder's before.
//!
//! ## State
//!
//! `--root DIR` (default /run/zones-oci) holds one directory per
//! container ([`state`]), made 0700: `state.json` (id, zone name, bundle,
//! rootfs, created time, holder pid and start time, annotations, hooks),
//! `exec.fifo` while it is created, `handle.json` once started,
//! `exit` once the holder has seen its program end, and `seccomp.json`
//! (the container's `linux.seccomp`, named by the zone's
//! `seccomp.profile`) when the bundle has a profile.

pub mod cli;
pub mod spec;
pub mod state;

/// The longest zone name (lifecycle.md, ZONENAME_MAX).
pub const ZONENAME_MAX: usize = 64;

/// FNV-1a, 64 bits: a hash that is the same on every build and host.
pub fn fnv1a(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// The zone name of container `id` (module comment).
pub fn zone_name(id: &str) -> String {
    let ok = !id.is_empty()
        && id.len() <= ZONENAME_MAX
        && id.starts_with(|c: char| c.is_ascii_alphanumeric())
        && id.chars().all(allowed)
        && id != "global";
    if ok {
        return id.to_string();
    }
    let keep: String = id.chars().filter(|c| allowed(*c)).take(40).collect();
    let keep = keep.trim_start_matches(['-', '_']);
    if keep.is_empty() {
        format!("oci-{:016x}", fnv1a(id))
    } else {
        format!("oci-{keep}-{:016x}", fnv1a(id))
    }
}

/// Is `id` acceptable as a container id at all (runc refuses ids with a
/// path separator, `.` and `..`, and empty ones)?
pub fn valid_id(id: &str) -> bool {
    !id.is_empty() && id != "." && id != ".." && !id.contains('/') && !id.contains('\0')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zone::ZoneName;

    #[test]
    fn ids_that_are_names_stay_and_others_map_to_valid_names() {
        let hex = "a".repeat(64);
        assert_eq!(zone_name(&hex), hex);
        assert_eq!(zone_name("web-1"), "web-1");
        for id in [
            "a.b",
            "_x",
            "global",
            &"b".repeat(65),
            "k8s://pod/ns:c",
            "---",
        ] {
            let n = zone_name(id);
            assert!(n.starts_with("oci-"), "{id} -> {n}");
            assert!(ZoneName::new(&n).is_ok(), "{id} -> {n}");
            assert!(!n.contains('.'), "{n}");
            assert_eq!(n, zone_name(id), "deterministic");
        }
        assert_ne!(zone_name("a.b"), zone_name("a:b"));
        assert!(valid_id("x") && !valid_id("a/b") && !valid_id("..") && !valid_id(""));
    }
}
