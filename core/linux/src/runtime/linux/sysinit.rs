//! # A whole zone that boots its own init
//!
//! illumos boots a zone's own init (`initname`, default /sbin/init) and
//! its services; FreeBSD runs `/bin/sh /etc/rc`. A `whole` zone whose
//! init is systemd (its /sbin/init, or `initname`, resolves inside the
//! root to a file named `systemd`) is booted the way systemd's "Container
//! Interface" asks, by the runtime and without widening the zone's
//! boundary:
//!
//! * **pid 1.** systemd refuses to run as the system manager unless it is
//!   pid 1 ("Can't run system mode unless PID 1"), and zsched is the
//!   zone's pid 1. So zsched starts it as pid 1 of a pid namespace nested
//!   in the zone's ([`spawn_nested`]): zsched stays above it (reaper of
//!   last resort, control socket, the `shutdown` and `halt` it serves),
//!   the host sees init as zsched's child, and every process of the zone
//!   is still in zsched's namespace (counted, killed by kill(-1)). The
//!   nested init gets a mount namespace of its own, copied from the
//!   zone's, with a /proc of its pid namespace guarded as the zone's is
//!   ([`super::mounts`]). zlogin and jexec enter that pid, mount and
//!   cgroup namespace, and the leaf cgroup ([`nested_init`],
//!   [`entry_cgroup`]): inside, `ps -ef` shows systemd as pid 1 and its
//!   services, as in any container of a full system.
//! * **API file systems.** The zone has no CAP_SYS_ADMIN and its filter
//!   refuses mount, so what systemd would mount is mounted for it: /run,
//!   /run/lock and /tmp as tmpfs at ready ([`mounts`]), and, by init's
//!   child before its exec ([`nested_pre_exec`]), a cgroup2 file system
//!   at /sys/fs/cgroup rooted at a leaf `init` beneath the zone's cgroup2
//!   directory: init moves into the leaf and unshares a cgroup namespace
//!   there. That leaf is systemd's delegated subtree; the zone's own
//!   directory, whose limit files (memory.max, pids.max, ... on a v2
//!   host) the runtime writes, is above the namespace's root: the zone
//!   can neither see nor write it, and the kstats still count every
//!   process (they read the zone's directory and everything below). On a
//!   hybrid host that hierarchy has no controllers: systemd groups its
//!   services there, and the zone's limits stay in the v1 controllers,
//!   which are not mounted in the zone at all. A unit's sandboxing that
//!   needs a mount namespace fails with EPERM, which systemd takes for
//!   "containerized" and ignores.
//! * **Environment.** `container=zones` (systemd-detect-virt then says
//!   `container-other`), `container_uuid` unset (systemd makes a machine
//!   id at first boot: install leaves /etc/machine-id empty).
//! * **Shutdown.** [`POWEROFF`] (SIGRTMIN+3) asks systemd to power off,
//!   [`REBOOT`] (SIGINT) to reboot, as the container interface documents;
//!   in a container systemd-shutdown's reboot(2) fails for want of
//!   CAP_SYS_BOOT and it exits, which ends the nested namespace. zsched
//!   waits stop.timeout for the zone to empty, then kills what is left.
//!
//! **Not in a zone of its own user namespace** ([`super::userns`]:
//! `allow.mount`, `allow.set_hostname`, a `limitpriv` with sys_admin).
//! There zsched has joined the zone's user namespace, and the zone's pid
//! namespace is owned by the host's: once zsched has unshared the nested
//! pid namespace it cannot setns back into the zone's (that needs
//! CAP_SYS_ADMIN over the host's user namespace), so every later process
//! it starts (zlogin's, jexec's, the next init) would land in systemd's
//! namespace. Such a boot is refused before anything is started
//! ([`refuse_in_userns`]), naming the parameters; another `initname`
//! boots.
//!
//! Capabilities stay the zone's set ([`super::caps`]): systemd runs
//! without CAP_SYS_ADMIN, CAP_SYS_BOOT, CAP_MKNOD, CAP_NET_ADMIN (unless
//! allow.* grants them); the system call filter stays.

use super::inroot::{Policy, Root};
use super::launch::ChildError;
use super::mounts;
use crate::param::Params;
use crate::zone::Brand;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

/// systemd's power-off signal in a container (SIGRTMIN+3).
pub fn poweroff_signal() -> i32 {
    libc::SIGRTMIN() + 3
}

/// systemd's reboot request (ctrl-alt-del: SIGINT).
pub const REBOOT: i32 = libc::SIGINT;

/// The init program of a zone's parameters (initname, else /sbin/init),
/// or None when the zone runs a jail's command or exec.start instead.
fn init_path(params: &Params) -> Option<PathBuf> {
    if params.get("initname").is_none()
        && (!params.list("command").is_empty() || !params.list("exec.start").is_empty())
    {
        return None;
    }
    Some(PathBuf::from(
        params.str("initname").unwrap_or("/sbin/init"),
    ))
}

/// Does zone `root` (a host path before the pivot, `/` after it) boot
/// systemd as its init (module comment)? The init is resolved inside the
/// root, links followed as the zone would see them.
pub fn boots_systemd(root: &Path, brand: Brand, params: &Params) -> bool {
    if brand != Brand::Whole {
        return false;
    }
    let Some(init) = init_path(params) else {
        return false;
    };
    let Ok(r) = Root::open_real(root) else {
        return false;
    };
    let rel = init.strip_prefix("/").unwrap_or(&init);
    let Ok(fd) = r.open_at(rel, libc::O_PATH, Policy::InRoot) else {
        return false;
    };
    std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd()))
        .ok()
        .and_then(|p| p.file_name().map(|n| n == "systemd"))
        .unwrap_or(false)
}

/// The mounts systemd needs and cannot make itself (module comment), in
/// the zone's new mount namespace before the pivot. Nothing for a zone
/// that does not boot systemd.
pub fn mounts(root: &Path, brand: Brand, params: &Params) -> Result<(), ChildError> {
    // A zone rooted at the host's own / (a jail at path = /) never boots
    // the host's init: that is the host's system, not the zone's.
    if root == Path::new("/") || !boots_systemd(root, brand, params) {
        return Ok(());
    }
    let r = Root::open_real(root).map_err(|e| {
        ChildError::errno(
            "sysinit",
            root.display().to_string(),
            e.raw_os_error().unwrap_or(0),
        )
    })?;
    let at = |rel: &str| -> Result<OwnedFd, ChildError> {
        r.open_at(
            Path::new(rel),
            libc::O_PATH | libc::O_DIRECTORY,
            Policy::NoLinks,
        )
        .map_err(|e| {
            ChildError::errno(
                "sysinit",
                format!("{}: {e}", root.join(rel).display()),
                e.raw_os_error().unwrap_or(0),
            )
        })
    };
    let fdpath = |fd: &OwnedFd| PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()));
    // /run/lock too: systemd mounts it and fails the boot when it cannot.
    for (dir, opts) in [
        ("run", "mode=755,size=20%"),
        ("run/lock", "mode=1777,size=5m"),
        ("tmp", "mode=1777,size=50%"),
    ] {
        if dir == "run/lock" {
            r.mkdir_all(Path::new(dir), 0o1777, Policy::NoLinks)
                .map_err(|e| {
                    ChildError::errno(
                        "sysinit",
                        format!("{}: {e}", root.join(dir).display()),
                        e.raw_os_error().unwrap_or(0),
                    )
                })?;
        }
        let fd = at(dir)?;
        mounts::mount(
            "sysinit",
            Some("tmpfs"),
            &fdpath(&fd),
            Some("tmpfs"),
            libc::MS_NOSUID | libc::MS_NODEV,
            Some(opts),
        )?;
    }
    Ok(())
}

/// The leaf of the zone's cgroup2 directory that the nested init gets as
/// its whole cgroup tree (module comment).
pub const LEAF: &str = "init";

/// In init's child, in its own mount namespace: move into the leaf
/// [`LEAF`] beneath the zone's cgroup2 directory, root a new cgroup
/// namespace there and mount cgroup2 at /sys/fs/cgroup: systemd's
/// delegated subtree, with the zone's own directory (and its limit files
/// on a v2 host) above the namespace's root, out of reach. A host with no
/// cgroup2 directory for the zone (the namespace's root is the
/// hierarchy's root: no `cgroup.type`) gets nothing mounted.
fn delegate_leaf() -> std::io::Result<()> {
    let err = std::io::Error::last_os_error;
    let flags = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
    let cg = c"/sys/fs/cgroup";
    // SAFETY: system calls with static NUL-terminated paths and
    // descriptors of our own; zsched is single-threaded (see the caller).
    unsafe {
        if libc::mount(
            c"cgroup2".as_ptr(),
            cg.as_ptr(),
            c"cgroup2".as_ptr(),
            flags,
            std::ptr::null(),
        ) != 0
        {
            return Err(err());
        }
        if libc::access(c"/sys/fs/cgroup/cgroup.type".as_ptr(), libc::F_OK) != 0 {
            libc::umount2(cg.as_ptr(), libc::MNT_DETACH);
            return Ok(());
        }
        // LEAF
        if libc::mkdir(c"/sys/fs/cgroup/init".as_ptr(), 0o755) != 0
            && *libc::__errno_location() != libc::EEXIST
        {
            return Err(err());
        }
        let fd = libc::open(
            c"/sys/fs/cgroup/init/cgroup.procs".as_ptr(),
            libc::O_WRONLY | libc::O_CLOEXEC,
        );
        if fd < 0 {
            return Err(err());
        }
        let ok = libc::write(fd, c"0".as_ptr().cast(), 1) == 1;
        let e = err();
        libc::close(fd);
        if !ok {
            return Err(e);
        }
        if libc::umount2(cg.as_ptr(), libc::MNT_DETACH) != 0
            || libc::unshare(libc::CLONE_NEWCGROUP) != 0
            || libc::mount(
                c"cgroup2".as_ptr(),
                cg.as_ptr(),
                c"cgroup2".as_ptr(),
                flags,
                std::ptr::null(),
            ) != 0
        {
            return Err(err());
        }
    }
    Ok(())
}

/// Make `cmd`'s child set up the nested init's mount namespace and its
/// /proc (module comment). Registered before zsched's own pre-exec steps,
/// so it runs before the system call filter (which refuses mount) is
/// loaded.
pub fn nested_pre_exec(cmd: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the child runs these system calls between fork and exec;
    // zsched is single-threaded, so nothing holds a lock the child needs.
    unsafe {
        cmd.pre_exec(|| {
            if libc::unshare(libc::CLONE_NEWNS) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            delegate_leaf()?;
            mounts::nested_proc(Path::new("/proc"))
                .map_err(|e| std::io::Error::from_raw_os_error(e.errno.unwrap_or(libc::EIO)))
        });
    }
}

/// A zone booting systemd in a user namespace of its own (its capability
/// set `caps` keeps CAP_SYS_ADMIN) is refused: why, as the boot's error
/// (module comment).
pub fn refuse_in_userns(caps: u64) -> Result<(), (String, String, i32)> {
    if !super::userns::wanted(caps) {
        return Ok(());
    }
    Err((
        "boot".into(),
        "a whole zone's systemd cannot boot in a zone of its own user namespace \
         (allow.mount, allow.set_hostname or a limitpriv with sys_admin): zsched \
         could not return from systemd's nested pid namespace to the zone's, \
         which the host's user namespace owns; boot without those parameters, \
         or set initname to an init that is not systemd"
            .into(),
        libc::EOPNOTSUPP,
    ))
}

/// Spawn `cmd` as pid 1 of a new pid namespace nested in the caller's;
/// the caller's namespace for its later children is restored afterwards
/// (through `proc_fd`, a proc of the caller's pid namespace).
pub fn spawn_nested(
    cmd: &mut std::process::Command,
    proc_fd: i32,
) -> std::io::Result<std::process::Child> {
    // SAFETY: a NUL-terminated path relative to our proc descriptor.
    let ns = unsafe {
        libc::openat(
            proc_fd,
            c"self/ns/pid".as_ptr(),
            libc::O_RDONLY | libc::O_CLOEXEC,
        )
    };
    if ns < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: a descriptor just opened, ours alone.
    let ns = unsafe { OwnedFd::from_raw_fd(ns) };
    // SAFETY: unshare on this single-threaded process.
    if unsafe { libc::unshare(libc::CLONE_NEWPID) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let child = cmd.spawn();
    // SAFETY: back to our own pid namespace for later children.
    if unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWPID) } != 0 {
        let e = std::io::Error::last_os_error();
        return Err(std::io::Error::other(format!(
            "setns back to the zone's pid namespace: {e}"
        )));
    }
    child
}

/// Where a process entering a zone with a nested init joins the zone's
/// cgroup `dir`: the leaf [`LEAF`] in the cgroup2 hierarchy (the root of
/// init's cgroup namespace, which the entering process joins too), `dir`
/// itself in the others.
pub fn entry_cgroup(dir: &Path) -> PathBuf {
    let leaf = dir.join(LEAF);
    if dir.join("cgroup.type").exists() && leaf.join("cgroup.procs").exists() {
        leaf
    } else {
        dir.to_path_buf()
    }
}

/// The host pid of the nested init of a zone whose zsched is `zsched`
/// and whose init is `init` (host pids; `init` 0 before boot), if that init
/// runs in a pid namespace of its own: zsched's child, in another pid
/// namespace. (A nested zone's zsched is also a child of its parent's
/// zsched in another pid namespace: only the zone's own init is asked.)
pub fn nested_init(zsched: i32, init: i32) -> Option<i32> {
    if init <= 0 {
        return None;
    }
    let ns_of = |p: i32| std::fs::read_link(format!("/proc/{p}/ns/pid")).ok();
    let ppid = crate::procstat::read(init as u32)?.ppid;
    if ppid != zsched {
        return None;
    }
    let (own, its) = (ns_of(zsched)?, ns_of(init)?);
    (own != its).then_some(init)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::param::Value;

    #[test]
    fn systemd_is_found_through_the_zones_links_only_in_whole_zones() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        std::fs::create_dir_all(root.join("usr/lib/systemd")).unwrap();
        std::fs::create_dir_all(root.join("usr/sbin")).unwrap();
        std::fs::write(root.join("usr/lib/systemd/systemd"), "").unwrap();
        std::os::unix::fs::symlink("usr/sbin", root.join("sbin")).unwrap();
        std::os::unix::fs::symlink("/usr/lib/systemd/systemd", root.join("usr/sbin/init")).unwrap();
        let mut p = Params::default();
        assert!(boots_systemd(root, Brand::Whole, &p));
        assert!(!boots_systemd(root, Brand::Sparse, &p));
        p.insert("command", Value::Str("/bin/sh".into()));
        assert!(!boots_systemd(root, Brand::Whole, &p));
        p.insert("initname", Value::Str("/bin/true".into()));
        assert!(!boots_systemd(root, Brand::Whole, &p));
        assert_eq!(poweroff_signal(), 37);
    }
}
