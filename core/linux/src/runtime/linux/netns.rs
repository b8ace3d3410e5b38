//! # Joining a named network namespace (`vnet.netns = PATH`)
//!
//! A zone normally gets a network namespace of its own, made empty at
//! ready and filled from its parameters ([`super::vnet`]). Container
//! engines work the other way round: Podman (netavark) and Kubernetes
//! (CNI) make the namespace first — `ip netns add`, a bind mount of nsfs
//! under /run/netns — wire it up, and hand the runtime its path
//! (`linux.namespaces[type=network].path` in config.json). `vnet.netns`
//! is that path: the launcher, once it has unshared its namespaces, joins
//! this one instead of the empty one it made, so the zone's processes see
//! the engine's interfaces, addresses and routes, and the zone takes no
//! part in making them. The zone does not own the namespace: halting it
//! leaves the namespace (and the engine deletes it, as with runc).
//!
//! The path must name a network namespace (the kernel checks the nsfs
//! type at setns), and it excludes the parameters that make the zone's
//! own links (`vnet.interface`, `vnet.bridge`, `ip4.addr`, `ip6.addr`):
//! those are the engine's to make in a namespace it names. A zone of its
//! own user namespace ([`super::userns`]) cannot join one owned by the
//! host's: refused.

use super::launch::ChildError;
use crate::param::Params;
use std::os::fd::AsRawFd;

/// The parameters `vnet.netns` excludes (module comment).
const EXCLUDES: [&str; 4] = ["vnet.interface", "vnet.bridge", "ip4.addr", "ip6.addr"];

/// Check `vnet.netns` against the zone's other parameters.
pub fn check(params: &Params) -> Result<Option<String>, String> {
    let Some(path) = params.str("vnet.netns").filter(|p| !p.is_empty()) else {
        return Ok(None);
    };
    if !path.starts_with('/') {
        return Err(format!("vnet.netns {path}: not an absolute path"));
    }
    for p in EXCLUDES {
        if !params.list(p).is_empty() || params.str(p).is_some_and(|v| !v.is_empty()) {
            return Err(format!(
                "vnet.netns {path}: {p} cannot be set with it (the namespace's links are its maker's)"
            ));
        }
    }
    Ok(Some(path.to_string()))
}

/// Called by the launcher after its unshare: join the namespace
/// `vnet.netns` names, if any.
pub fn join(params: &Params) -> Result<(), ChildError> {
    let Some(path) = check(params).map_err(|m| ChildError::new("vnet", m))? else {
        return Ok(());
    };
    let ns = std::fs::File::open(&path).map_err(|e| {
        ChildError::errno(
            "vnet",
            format!("vnet.netns {path}"),
            e.raw_os_error().unwrap_or(0),
        )
    })?;
    // SAFETY: setns on a descriptor we hold open; the kernel checks that
    // it is a network namespace.
    if unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
        return Err(ChildError::errno(
            "vnet",
            format!("join the network namespace vnet.netns {path}"),
            std::io::Error::last_os_error().raw_os_error().unwrap_or(0),
        ));
    }
    Ok(())
}

/// A zone of its own user namespace cannot join a network namespace of
/// the host's (module comment): refused by name.
pub fn refuse_in_userns(params: &Params) -> Result<(), ChildError> {
    match check(params).map_err(|m| ChildError::new("vnet", m))? {
        Some(path) => Err(ChildError::new(
            "vnet",
            format!(
                "vnet.netns {path}: a zone of its own user namespace (limitpriv with sys_admin) cannot join it"
            ),
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netns_excludes_the_zones_own_links() {
        let mut p = Params::new();
        assert_eq!(check(&p), Ok(None));
        p.set_arg("vnet.netns=/run/netns/x").unwrap();
        assert_eq!(check(&p), Ok(Some("/run/netns/x".into())));
        p.set_arg("ip4.addr=10.0.0.2/24").unwrap();
        let e = check(&p).unwrap_err();
        assert!(e.contains("ip4.addr") && e.contains("/run/netns/x"), "{e}");
        let mut p = Params::new();
        p.set_arg("vnet.netns=run/netns/x").unwrap();
        assert!(check(&p).unwrap_err().contains("absolute"));
    }

    #[test]
    fn a_path_that_is_not_a_netns_is_refused_by_name() {
        let mut p = Params::new();
        p.set_arg("vnet.netns=/proc/self/ns/uts").unwrap();
        // In a child: a successful join would move the test's thread.
        let e = std::thread::spawn(move || join(&p).unwrap_err())
            .join()
            .unwrap();
        assert!(format!("{e:?}").contains("/proc/self/ns/uts"), "{e:?}");
    }
}
