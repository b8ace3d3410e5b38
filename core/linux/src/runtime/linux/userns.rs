//! # A zone of its own user namespace: CAP_SYS_ADMIN over the zone alone
//!
//! A zone whose capability set keeps CAP_SYS_ADMIN (`allow.mount`,
//! `allow.set_hostname`, or a `limitpriv` that names sys_admin) would hold
//! it over the host's user namespace, where Linux lets it mount a fresh
//! proc (the host's sysctls), a cgroup file system (the zone's own limits),
//! remount what the runtime made read-only and use the new mount API. No
//! system call filter can tell those uses from the mounts allow.mount is
//! for. So such a zone runs in a **user namespace of its own**, as LXC's
//! unprivileged containers and `systemd-nspawn -U` do: its root is uid 0
//! over the zone's namespaces only, and the kernel itself refuses the
//! rest — a sysctl file or a cgroup file is owned by the host's root, whom
//! the zone's root is not; the mounts the host made are copied into the
//! zone's mount namespace *locked* (MNT_LOCKED and the locked read-only,
//! nosuid, nodev flags), so they cannot be unmounted, moved or remounted
//! to uncover what lies beneath; a superblock the host made cannot be
//! reconfigured (fspick) by the zone.
//!
//! ## Ids
//!
//! Zone ids 0..65535 are host ids `BASE..BASE+65535`, with
//! `BASE = 1073741824 + zoneid × 65536` (0x4000_0000; zone ids 0 to
//! 49150, [`MAX_ZONEID`]): the same zone id always gets the same range, two live zones
//! never share one (zone ids are unique among live zones), and the ranges
//! lie above the ids /etc/subuid ranges and systemd's dynamic users
//! normally take (up to 0x3fffffff is left to them). Ids outside the map
//! (the host's) show as 65534 (nobody) inside.
//!
//! ## Order (zsched's [`setup`], instead of `launch::setup`)
//!
//! The pid namespace is the launcher's, made before zsched exists: it
//! belongs to the host's user namespace. So the zone's root may not mount
//! a proc of its own at all (mounting proc needs CAP_SYS_ADMIN over the
//! pid namespace's owner) — the /proc the runtime made, with its masks, is
//! the only one it has.
//!
//! 1. A helper child of zsched unshares a user namespace and waits;
//!    zsched, still the host's root, writes its `uid_map` and `gid_map`
//!    from outside — a map is written by a process of the parent
//!    namespace holding CAP_SETUID/CAP_SETGID there, the order crun,
//!    youki and LXC use — through the zone's detached proc mount (where
//!    the helper's pid is the one fork returned), and lets it go on: it unshares UTS, IPC, cgroup and
//!    (unless `ip4 = inherit`) net namespaces, which are so owned by the
//!    zone's user namespace. zsched opens the helper's namespaces and ends
//!    it.
//!    zsched then delegates the zone's cgroups to the zone's root (the
//!    directory, cgroup.procs, tasks, cgroup.subtree_control,
//!    cgroup.threads: systemd's `Delegate=`), so that it may make child
//!    cgroups of its own as a zone of the host's user namespace could;
//!    the zone's own limit files stay the host root's (escape k15).
//! 2. zsched joins those namespaces (still as the host's root, which is
//!    privileged over every descendant namespace), unshares a mount
//!    namespace — the host's user namespace owns it — and builds the root
//!    there as every zone's is built ([`super::mounts`]), with two
//!    differences: the root, for a sparse zone each host tree bound into
//!    it, and each `mount` line, is an **idmapped mount** (open_tree(OPEN_TREE_CLONE) +
//!    mount_setattr(MOUNT_ATTR_IDMAP) with the zone's user namespace, then
//!    move_mount over the same place), so a file the disk says uid 0 owns
//!    is owned by the zone's root inside (setuid-root programs such as su
//!    and passwd run as the zone's root) and what the zone writes as uid N
//!    is stored as N: the tree is never chowned and the host sees its own
//!    ids. The zone's /dev tmpfs (made by the host's root, so its device
//!    nodes work: mknod is not possible from inside a user namespace) is
//!    given to the zone's root, and its devpts gives new ptys the zone's
//!    group tty. Host name, vnet and the pivot happen here
//!    too, while zsched is still privileged on the host.
//! 3. zsched then joins the zone's user namespace (setns; its ids become
//!    the zone's 0, host `BASE`, with every capability *in that namespace*)
//!    and unshares a second mount namespace: the copy of the first that
//!    the zone lives in, every mount of which the kernel now locks. Its
//!    session keyring is made after this, so it belongs to the zone's root
//!    (a user keyring of its own: host uid `BASE`'s).
//!
//! zsched's `down` (halt) leaves the locked mounts to the namespace's end
//! ([`host_made`]), and the zone's VFS references leave them out
//! (zsched's `locked` request, [`super::refs`]).
//!
//! Idmapped mounts need a file system that supports them (ext4, xfs,
//! btrfs, tmpfs, overlay, …, Linux ≥ 5.12; overlay 5.19). When the root or
//! a host tree cannot be idmapped the boot fails, naming the path. A root
//! of `/` (a jail sharing the host's tree) is not idmapped: it is the
//! host's tree, and the zone's root sees it as nobody's. Mounts beneath a
//! zone's root on the host are not carried into such a zone (the idmapped
//! clone of the root is not recursive).
//!
//! ## Entering
//!
//! zlogin and jexec ([`super::enter`]) join zsched's namespaces as the
//! host's root as before, then, last, its user namespace ([`enter_fd`],
//! [`join`]) — before the filter, the bounding set and the user's ids,
//! which then are ids of the zone. Joining the user namespace first would
//! make the pid namespace (the host's) unreachable. The pty a session
//! gets (opened by the host's root) is given to the zone's root and
//! group tty ([`own_pty`]).
//!
//! ## What a zone of its own user namespace loses
//!
//! What Linux checks against the initial user namespace: CAP_SYS_TIME
//! (allow.settime), CAP_IPC_LOCK beyond RLIMIT_MEMLOCK (allow.mlock),
//! CAP_MKNOD of real devices. A fresh proc mount (`unshare
//! --mount-proc`): the pid namespace is the host's user namespace's. The
//! host's ids show as nobody: its /proc and /sys, the files of a `mount`
//! line whose file system cannot be idmapped (nfs, FUSE, …: left as it
//! is rather than refused). A nested jail's processes (in the host's user namespace)
//! cannot be signalled by a parent zone of its own user namespace.

use super::launch::{self, ChildError};
use super::{caps, mounts, vnet};
use crate::runtime::{NetMode, ZoneSpec};
use crate::zone::{Brand, ZoneId};
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

/// The first host id of zone 0's range.
pub const FIRST: u32 = 0x4000_0000;
/// Ids per zone: 0..65535 inside.
pub const SIZE: u32 = 65536;
/// Zone ids past this have no range (the last would end past u32::MAX - 1).
pub const MAX_ZONEID: u32 = (u32::MAX - FIRST) / SIZE - 1;

const CAP_SYS_ADMIN: u32 = 21;

fn last_errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// The host id that is the zone's 0, or an error naming the zone id.
pub fn base(id: ZoneId) -> Result<u32, String> {
    if id.0 > MAX_ZONEID {
        return Err(format!(
            "zone id {} has no user id range (at most {MAX_ZONEID})",
            id.0
        ));
    }
    Ok(FIRST + id.0 * SIZE)
}

/// The `uid_map`/`gid_map` line of a zone whose 0 is `base`.
pub fn map_line(base: u32) -> String {
    format!("0 {base} {SIZE}\n")
}

/// Does a zone with this capability set run in its own user namespace?
pub fn wanted(caps: u64) -> bool {
    caps & (1u64 << CAP_SYS_ADMIN) != 0
}

/// For zsched's setup: the zone's `BASE` when its capability set keeps
/// CAP_SYS_ADMIN, else None (a zone of the host's user namespace).
pub fn base_for(spec: &ZoneSpec) -> Result<Option<u32>, ChildError> {
    let set = caps::zone_set(&spec.params)
        .map_err(|e| ChildError::new("userns", format!("zone {}: {}", spec.name, e.message)))?;
    if !wanted(set) {
        return Ok(None);
    }
    base(spec.id)
        .map(Some)
        .map_err(|e| ChildError::new("userns", format!("zone {}: {e}", spec.name)))
}

/// zsched's setup for a zone of its own user namespace (module comment),
/// in place of [`launch::setup`]; the same answer. `base` is
/// [`base`] of the zone's id.
pub fn setup(
    spec: &ZoneSpec,
    view: Option<&Path>,
    base: u32,
) -> Result<(RawFd, Option<std::fs::File>), ChildError> {
    super::netns::refuse_in_userns(&spec.params)?;
    let net = NetMode::of(&spec.params);
    // As in launch::setup: a nested zone starts from its parent's network,
    // and every host name is checked before anything is made.
    launch::join_parent_net(spec)?;
    let vnet = vnet::plan(&spec.params, net)?;
    // The zone's pid namespace, seen from the host's side: where the
    // helper's maps are written, and zsched's count of its processes.
    let proc_fd = launch::detached_proc()?;
    let ns = make(base, proc_fd, net.own_namespace())?;
    delegate_cgroups(base)?;
    // SAFETY: namespace calls on this single-threaded process with
    // descriptors we own.
    if unsafe { libc::unshare(libc::CLONE_NEWNS) } != 0 {
        return Err(ChildError::errno(
            "clone",
            "unshare(mount)".into(),
            last_errno(),
        ));
    }
    for (fd, kind, name) in &ns.others {
        // SAFETY: as above.
        if unsafe { libc::setns(fd.as_raw_fd(), *kind) } != 0 {
            return Err(ChildError::errno(
                "userns",
                format!("join the zone's {name} namespace"),
                last_errno(),
            ));
        }
    }
    drop(ns.others);
    // The zone's links, in its (now joined) network namespace, while the
    // host's /proc is still there.
    vnet.apply()?;
    let root = launch::private_root(spec)?;
    if root != Path::new("/") {
        let fd = open_path(None, &root)?;
        idmap_over(&fd, &root, ns.user.as_raw_fd(), false)?;
    }
    mounts::build(&root, spec.brand, &spec.params)?;
    if root != Path::new("/") {
        if spec.brand == Brand::Sparse {
            idmap_trees(&root, ns.user.as_raw_fd())?;
        }
        give_dev(&root, base)?;
    }
    if let Some(dir) = view {
        super::view::bind(&root, dir)?;
    }
    mounts::fstab(&root, &spec.params)?;
    if root != Path::new("/") {
        idmap_fstab(&root, &spec.params, ns.user.as_raw_fd())?;
    }
    let hostname = spec
        .params
        .str("host.hostname")
        .unwrap_or(spec.name.as_str());
    launch::set_uts(hostname, spec.params.str("host.domainname"))?;
    super::timens::setup()?;
    let console = launch::consolelog(spec)?;
    let host_null = launch::host_dev_null()?;
    mounts::pivot(&root)?;
    // Before the user namespace: raising a hard limit takes CAP_SYS_RESOURCE
    // over the host's.
    launch::memlock(spec)?;
    // Into the zone's user namespace, then the mount namespace the zone
    // lives in: a copy of the one just built, its mounts locked.
    join(ns.user.as_raw_fd())
        .map_err(|e| ChildError::errno("userns", "join the zone's user namespace".into(), e))?;
    drop(ns.user);
    // SAFETY: as above.
    if unsafe { libc::unshare(libc::CLONE_NEWNS) } != 0 {
        return Err(ChildError::errno(
            "userns",
            "unshare(mount) in the zone's user namespace".into(),
            last_errno(),
        ));
    }
    remember_locked(proc_fd);
    super::ipc::new_session_keyring()
        .map_err(|e| ChildError::errno("keyring", "a session keyring of its own".into(), e))?;
    let null_fd = launch::zone_dev_null().map_or(host_null, |zone_null| {
        // SAFETY: host_null is the host's /dev/null opened above, ours alone.
        unsafe { libc::close(host_null) };
        zone_null
    });
    // SAFETY: setsid and dup2/close on descriptors of our own table.
    unsafe {
        libc::setsid();
        for fd in 0..3 {
            libc::dup2(null_fd, fd);
        }
        libc::close(null_fd);
    }
    Ok((proc_fd, console))
}

/// The files of a cgroup that a delegation hands over (systemd's
/// `Delegate=`): making child cgroups and moving the zone's processes
/// among them. The limit files of the zone's own cgroup stay the host's.
pub const DELEGATED: &[&str] = &[
    "cgroup.procs",
    "tasks",
    "cgroup.subtree_control",
    "cgroup.threads",
];

/// The zone's cgroups (zsched's, in every hierarchy, read before it
/// joins its cgroup namespace) delegated to the zone's root: the
/// directory and [`DELEGATED`], as a zone of the host's user namespace
/// could make and use child cgroups (a freezer of its own) as root.
fn delegate_cgroups(base: u32) -> Result<(), ChildError> {
    let hs = super::cgroup::hierarchies()
        .map_err(|e| ChildError::new("cgroup", format!("delegate: {}", e.message)))?;
    for h in hs {
        let dir = h.mount.join(h.own.strip_prefix("/").unwrap_or(&h.own));
        for name in std::iter::once("").chain(DELEGATED.iter().copied()) {
            let p = if name.is_empty() {
                dir.clone()
            } else {
                dir.join(name)
            };
            match std::os::unix::fs::lchown(&p, Some(base), Some(base)) {
                Ok(()) => {}
                Err(e) if !name.is_empty() && e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(ChildError::errno(
                        "cgroup",
                        format!("delegate {} to the zone's root", p.display()),
                        e.raw_os_error().unwrap_or(0),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// The mounts of the zone's namespace made before it joined its user
/// namespace: locked, so zsched's `down` cannot unmount them either (they
/// go with the namespace, when zsched ends). Mount ids, from zsched's own
/// mountinfo at the end of [`setup`].
static LOCKED: std::sync::OnceLock<Vec<u64>> = std::sync::OnceLock::new();

fn mount_id(mountinfo_line: &str) -> Option<u64> {
    crate::mountinfo::parse_line(mountinfo_line).map(|m| m.id)
}

fn remember_locked(proc_fd: RawFd) {
    let p = c"self/mountinfo";
    // SAFETY: a NUL-terminated path relative to a descriptor we hold.
    let fd = unsafe { libc::openat(proc_fd, p.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return;
    }
    // SAFETY: just opened, owned by nothing else.
    let mut f = unsafe { std::fs::File::from_raw_fd(fd) };
    let mut s = String::new();
    if std::io::Read::read_to_string(&mut f, &mut s).is_ok() {
        let _ = LOCKED.set(crate::mountinfo::parse(&s).map(|m| m.id).collect());
    }
}

/// Is this line of zsched's mountinfo a mount the host made (locked)?
/// Always false in a zone of the host's user namespace.
pub fn host_made(mountinfo_line: &str) -> bool {
    match (LOCKED.get(), mount_id(mountinfo_line)) {
        (Some(ids), Some(id)) => ids.contains(&id),
        _ => false,
    }
}

/// How many mounts of this mountinfo (zsched's) the host made, the root
/// left out: `down` leaves them, so the zone's VFS references
/// ([`super::refs`]) do not count them.
pub fn host_made_mounts(mountinfo: &str) -> u64 {
    let locked = LOCKED.get().map_or(&[][..], Vec::as_slice);
    crate::mountinfo::parse(mountinfo)
        .filter(|m| locked.contains(&m.id) && m.mount_point != Path::new("/"))
        .count() as u64
}

/// The zone's user namespace and the namespaces it owns.
struct Namespaces {
    user: OwnedFd,
    others: Vec<(OwnedFd, libc::c_int, &'static str)>,
}

/// Step 1 of the module comment: a helper unshares the user namespace,
/// zsched writes its maps through `proc_fd` (the zone's pid namespace)
/// and the helper unshares the others in it.
fn make(base: u32, proc_fd: RawFd, net: bool) -> Result<Namespaces, ChildError> {
    let mut others = libc::CLONE_NEWUTS | libc::CLONE_NEWIPC | libc::CLONE_NEWCGROUP;
    if net {
        others |= libc::CLONE_NEWNET;
    }
    let (to_parent, to_child) = (pipe()?, pipe()?);
    // SAFETY: fork of a single-threaded process; the child makes system
    // calls only and ends in _exit.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(ChildError::errno(
            "userns",
            "fork the helper".into(),
            last_errno(),
        ));
    }
    if pid == 0 {
        // SAFETY: system calls on our own state and the pipes' ends.
        unsafe {
            libc::close(to_parent.0.as_raw_fd());
            libc::close(to_child.1.as_raw_fd());
            let (w, r) = (to_parent.1.as_raw_fd(), to_child.0.as_raw_fd());
            let mut b = [0u8; 1];
            if libc::unshare(libc::CLONE_NEWUSER) != 0 {
                libc::_exit(1);
            }
            libc::write(w, b"u".as_ptr() as *const libc::c_void, 1);
            if libc::read(r, b.as_mut_ptr() as *mut libc::c_void, 1) != 1 {
                libc::_exit(2);
            }
            if libc::unshare(others) != 0 {
                libc::_exit(3);
            }
            libc::write(w, b"n".as_ptr() as *const libc::c_void, 1);
            // Until zsched has opened our namespaces (EOF).
            libc::read(r, b.as_mut_ptr() as *mut libc::c_void, 1);
            libc::_exit(0);
        }
    }
    drop(to_parent.1);
    drop(to_child.0);
    let (from_helper, to_helper) = (to_parent.0, to_child.1);
    let result = (|| {
        wait_byte(&from_helper, "unshare(CLONE_NEWUSER)")?;
        for f in ["uid_map", "gid_map"] {
            write_at(proc_fd, &format!("{pid}/{f}"), &map_line(base))?;
        }
        // SAFETY: write of one byte from a static buffer to our pipe.
        unsafe {
            libc::write(
                to_helper.as_raw_fd(),
                b"m".as_ptr() as *const libc::c_void,
                1,
            )
        };
        wait_byte(&from_helper, "unshare(uts, ipc, cgroup, net)")?;
        let user = open_at(proc_fd, &format!("{pid}/ns/user"))?;
        let mut v = vec![
            (
                open_at(proc_fd, &format!("{pid}/ns/uts"))?,
                libc::CLONE_NEWUTS,
                "uts",
            ),
            (
                open_at(proc_fd, &format!("{pid}/ns/ipc"))?,
                libc::CLONE_NEWIPC,
                "ipc",
            ),
            (
                open_at(proc_fd, &format!("{pid}/ns/cgroup"))?,
                libc::CLONE_NEWCGROUP,
                "cgroup",
            ),
        ];
        if net {
            v.push((
                open_at(proc_fd, &format!("{pid}/ns/net"))?,
                libc::CLONE_NEWNET,
                "net",
            ));
        }
        Ok(Namespaces { user, others: v })
    })();
    drop(to_helper);
    let mut st = 0;
    // SAFETY: waitpid on our own child with a status we own.
    unsafe { libc::waitpid(pid, &mut st, 0) };
    result
}

fn pipe() -> Result<(OwnedFd, OwnedFd), ChildError> {
    let mut p = [0; 2];
    // SAFETY: pipe2 writes two descriptors into the array we own.
    if unsafe { libc::pipe2(p.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(ChildError::errno("userns", "pipe".into(), last_errno()));
    }
    // SAFETY: both were just made by pipe2 and are owned by nothing else.
    Ok(unsafe { (OwnedFd::from_raw_fd(p[0]), OwnedFd::from_raw_fd(p[1])) })
}

fn wait_byte(fd: &OwnedFd, what: &str) -> Result<(), ChildError> {
    let mut b = [0u8; 1];
    // SAFETY: read into a buffer we own.
    if unsafe { libc::read(fd.as_raw_fd(), b.as_mut_ptr() as *mut libc::c_void, 1) } != 1 {
        return Err(ChildError::new(
            "userns",
            format!("the helper failed at {what}"),
        ));
    }
    Ok(())
}

fn open_at(dir: RawFd, rel: &str) -> Result<OwnedFd, ChildError> {
    let p = CString::new(rel).unwrap();
    // SAFETY: a NUL-terminated path relative to a descriptor we hold.
    let fd = unsafe { libc::openat(dir, p.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(ChildError::errno(
            "userns",
            format!("open (zone's proc)/{rel}"),
            last_errno(),
        ));
    }
    // SAFETY: just returned by the kernel, owned by nothing else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn write_at(dir: RawFd, rel: &str, value: &str) -> Result<(), ChildError> {
    let p = CString::new(rel).unwrap();
    // SAFETY: a NUL-terminated path relative to a descriptor we hold.
    let fd = unsafe { libc::openat(dir, p.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(ChildError::errno(
            "userns",
            format!("open (zone's proc)/{rel}"),
            last_errno(),
        ));
    }
    // SAFETY: fd was just opened; the buffer is ours.
    let n = unsafe { libc::write(fd, value.as_ptr() as *const libc::c_void, value.len()) };
    let e = last_errno();
    // SAFETY: our descriptor, closed once.
    unsafe { libc::close(fd) };
    if n != value.len() as isize {
        return Err(ChildError::errno(
            "userns",
            format!("write {value:?} to (zone's proc)/{rel}"),
            e,
        ));
    }
    Ok(())
}

/// Join the user namespace `fd` as its root (ids 0, no supplementary
/// group): every capability there, none over the host. The change of ids
/// resets dumpability to fs.suid_dumpable: made not dumpable again (an
/// entering process stays so until its exec; zsched for good). System
/// calls only (an entering process calls it between fork and exec).
pub fn join(fd: RawFd) -> Result<(), i32> {
    // SAFETY: setns/setgroups/setres[ug]id/prctl with no pointer but a
    // null list.
    unsafe {
        if libc::setns(fd, libc::CLONE_NEWUSER) != 0
            || libc::setgroups(0, std::ptr::null()) != 0
            || libc::setresgid(0, 0, 0) != 0
            || libc::setresuid(0, 0, 0) != 0
        {
            return Err(last_errno());
        }
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
    Ok(())
}

/// For an entering process: zsched's user namespace (`pid`), when it is
/// not the caller's own — a zone of its own user namespace — else None.
pub fn enter_fd(pid: i32) -> std::io::Result<Option<OwnedFd>> {
    use std::os::unix::fs::MetadataExt;
    let path = format!("/proc/{pid}/ns/user");
    let f = std::fs::File::open(&path)
        .map_err(|e| std::io::Error::new(e.kind(), format!("open {path}: {e}")))?;
    let theirs = f.metadata()?;
    let ours = std::fs::metadata("/proc/self/ns/user")?;
    if (theirs.dev(), theirs.ino()) == (ours.dev(), ours.ino()) {
        return Ok(None);
    }
    Ok(Some(OwnedFd::from(f)))
}

/// The host id that is 0 of zsched's (`pid`) user namespace, when that is
/// not the host's (its uid_map's first line), else None.
pub fn base_of(pid: i32) -> Option<u32> {
    let m = std::fs::read_to_string(format!("/proc/{pid}/uid_map")).ok()?;
    let f: Vec<u32> = m
        .lines()
        .next()?
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    match f.as_slice() {
        [0, 0, _] => None,
        [0, base, _] => Some(*base),
        _ => None,
    }
}

/// A pty an entering process opened (as the host's root) for a zone of
/// its own user namespace: given to the zone's root and group tty (5),
/// as the zone's devpts gives it in a zone of the host's user namespace
/// — else it would be nobody's inside.
pub fn own_pty(pid: i32, slave: RawFd) -> Result<(), String> {
    let Some(base) = base_of(pid) else {
        return Ok(());
    };
    // SAFETY: fchown of a descriptor we hold.
    if unsafe { libc::fchown(slave, base, base + 5) } != 0 {
        return Err(format!(
            "give the pty to the zone's root: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

/// An O_PATH descriptor of `rel` beneath `dir` (or of the real path
/// `rel`), links refused.
fn open_path(dir: Option<RawFd>, rel: &Path) -> Result<OwnedFd, ChildError> {
    use std::os::unix::ffi::OsStrExt;
    let p = CString::new(rel.as_os_str().as_bytes()).unwrap();
    // SAFETY: a NUL-terminated path; the descriptor is ours.
    let fd = unsafe {
        libc::openat(
            dir.unwrap_or(libc::AT_FDCWD),
            p.as_ptr(),
            libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(ChildError::errno(
            "idmap",
            format!("open {}", rel.display()),
            last_errno(),
        ));
    }
    // SAFETY: just returned by the kernel, owned by nothing else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

const OPEN_TREE_CLONE: libc::c_uint = 1;
const MOUNT_ATTR_IDMAP: u64 = 0x0010_0000;
const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 0x4;
const MOVE_MOUNT_T_EMPTY_PATH: libc::c_uint = 0x40;

/// linux/mount.h `struct mount_attr`.
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// Mount over `at` an idmapped clone (through `userns`) of what is there:
/// on-disk uid N is uid N of the zone. `recursive`: the mounts beneath
/// too (each must allow idmapping). `what` names it in errors.
pub fn idmap_over(
    at: &OwnedFd,
    what: &Path,
    userns: RawFd,
    recursive: bool,
) -> Result<(), ChildError> {
    let rec = if recursive {
        libc::AT_RECURSIVE as u32
    } else {
        0
    };
    let empty = c"";
    // SAFETY: the system calls get valid pointers to data we own and
    // descriptors we hold; the new descriptor is ours.
    unsafe {
        let m = libc::syscall(
            libc::SYS_open_tree,
            at.as_raw_fd(),
            empty.as_ptr(),
            OPEN_TREE_CLONE | libc::O_CLOEXEC as u32 | libc::AT_EMPTY_PATH as u32 | rec,
        ) as i32;
        if m < 0 {
            return Err(ChildError::errno(
                "idmap",
                format!("open_tree(OPEN_TREE_CLONE) {}", what.display()),
                last_errno(),
            ));
        }
        let m = OwnedFd::from_raw_fd(m);
        let attr = MountAttr {
            attr_set: MOUNT_ATTR_IDMAP,
            attr_clr: 0,
            propagation: 0,
            userns_fd: userns as u64,
        };
        if libc::syscall(
            libc::SYS_mount_setattr,
            m.as_raw_fd(),
            empty.as_ptr(),
            libc::AT_EMPTY_PATH as u32 | rec,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        ) != 0
        {
            return Err(ChildError::errno(
                "idmap",
                format!(
                    "mount_setattr(MOUNT_ATTR_IDMAP) {} (does its file system support idmapped mounts?)",
                    what.display()
                ),
                last_errno(),
            ));
        }
        if libc::syscall(
            libc::SYS_move_mount,
            m.as_raw_fd(),
            empty.as_ptr(),
            at.as_raw_fd(),
            empty.as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH,
        ) != 0
        {
            return Err(ChildError::errno(
                "idmap",
                format!("move_mount onto {}", what.display()),
                last_errno(),
            ));
        }
    }
    Ok(())
}

/// A sparse zone's host trees (bound read-only by [`mounts::build`]):
/// each gets an idmapped clone over it.
fn idmap_trees(root: &Path, userns: RawFd) -> Result<(), ChildError> {
    let r = open_path(None, root)?;
    for d in mounts::SPARSE_DIRS {
        let host = Path::new("/").join(d);
        match std::fs::symlink_metadata(&host) {
            Ok(m) if m.is_dir() => {}
            _ => continue,
        }
        let at = open_path(Some(r.as_raw_fd()), Path::new(d))?;
        idmap_over(&at, &root.join(d), userns, true)?;
    }
    Ok(())
}

/// The zone's `mount` / `mount.fstab` lines, each idmapped as the root
/// is (a bind of a host directory shows the host's ids as the zone's, as
/// it did to a zone of the host's user namespace; a tmpfs is the zone
/// root's). A file system that cannot be idmapped (EINVAL: nfs, a
/// network or FUSE file system, …) stays as it is: its files are the
/// host ids' (nobody inside), the zone gets what "others" may do.
fn idmap_fstab(
    root: &Path,
    params: &crate::param::Params,
    userns: RawFd,
) -> Result<(), ChildError> {
    use super::inroot::{Policy, Root};
    let entries = mounts::fstab_entries(params)?;
    if entries.is_empty() {
        return Ok(());
    }
    let r = Root::open_real(root)
        .map_err(|e| ChildError::new("mount", format!("{}: {e}", root.display())))?;
    let written = params.str("path").map(std::path::PathBuf::from);
    for e in entries {
        // Resolved as mounts::fstab resolved it (inside the root).
        let Some(below) = e.target.strip_prefix(root).ok().or_else(|| {
            written
                .as_deref()
                .and_then(|w| e.target.strip_prefix(w).ok())
        }) else {
            continue;
        };
        let rel = super::inroot::relative(below)
            .map_err(|err| ChildError::new("mount", err.to_string()))?;
        let at = r
            .open_at(&rel, libc::O_PATH | libc::O_NOFOLLOW, Policy::InRoot)
            .map_err(|err| ChildError::new("mount", format!("{}: {err}", e.target.display())))?;
        match idmap_over(
            &at,
            &e.target,
            userns,
            e.bind && e.flags & libc::MS_REC != 0,
        ) {
            Err(err)
                if err.errno == Some(libc::EINVAL) && err.message.contains("mount_setattr") => {}
            other => other?,
        }
    }
    Ok(())
}

/// The zone's /dev (a tmpfs the host's root made, its nodes and links,
/// and /dev/shm) to the zone's root, host id `base`.
fn give_dev(root: &Path, base: u32) -> Result<(), ChildError> {
    let r = open_path(None, root)?;
    let Ok(dev) = open_path(Some(r.as_raw_fd()), Path::new("dev")) else {
        return Ok(()); // no /dev in this root
    };
    // Only a /dev the runtime made: a tmpfs (a whole root's own /dev
    // directory stays as its disk has it).
    // SAFETY: statfs is plain data, for which all zeroes is a valid value.
    let mut sfs: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: fstatfs into a struct we own.
    if unsafe { libc::fstatfs(dev.as_raw_fd(), &mut sfs) } != 0 || sfs.f_type != libc::TMPFS_MAGIC {
        return Ok(());
    }
    let chown = |dir: RawFd, name: &std::ffi::CStr, what: String| -> Result<(), ChildError> {
        let flags = libc::AT_SYMLINK_NOFOLLOW
            | if name.is_empty() {
                libc::AT_EMPTY_PATH
            } else {
                0
            };
        // SAFETY: fchownat on a descriptor we hold, links not followed.
        if unsafe { libc::fchownat(dir, name.as_ptr(), base, base, flags) } != 0 {
            return Err(ChildError::errno(
                "dev",
                format!("chown {what}"),
                last_errno(),
            ));
        }
        Ok(())
    };
    // O_PATH descriptors take fchownat(AT_EMPTY_PATH).
    chown(dev.as_raw_fd(), c"", root.join("dev").display().to_string())?;
    // The ptys the zone opens: group tty of the zone (the gid option is
    // read in the host's user namespace, where the zone's 5 is base + 5).
    if let Ok(pts) = open_path(Some(dev.as_raw_fd()), Path::new("pts")) {
        mounts::mount(
            "dev",
            None,
            Path::new(&format!("/proc/self/fd/{}", pts.as_raw_fd())),
            None,
            libc::MS_REMOUNT | libc::MS_NOSUID | libc::MS_NOEXEC,
            Some(&format!("gid={},mode=0620,ptmxmode=0666", base + 5)),
        )?;
    }
    for name in [
        "null", "zero", "full", "random", "urandom", "tty", "console", "ptmx", "fd", "stdin",
        "stdout", "stderr", "shm",
    ] {
        let n = CString::new(name).unwrap();
        // SAFETY: stat is plain data, for which all zeroes is a valid value.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: fstatat into a struct we own.
        if unsafe {
            libc::fstatat(
                dev.as_raw_fd(),
                n.as_ptr(),
                &mut st,
                libc::AT_SYMLINK_NOFOLLOW,
            )
        } != 0
        {
            continue;
        }
        chown(
            dev.as_raw_fd(),
            &n,
            root.join("dev").join(name).display().to_string(),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_per_zone_id_and_never_overlap_or_overflow() {
        assert_eq!(base(ZoneId(0)).unwrap(), 0x4000_0000);
        assert_eq!(base(ZoneId(1)).unwrap(), 0x4001_0000);
        let last = base(ZoneId(MAX_ZONEID)).unwrap();
        // The last id of the last range is below u32::MAX (-1 is no id).
        assert!(last as u64 + SIZE as u64 - 1 < u32::MAX as u64);
        let e = base(ZoneId(MAX_ZONEID + 1)).unwrap_err();
        assert!(e.contains(&(MAX_ZONEID + 1).to_string()), "{e}");
        assert_eq!(map_line(0x4001_0000), "0 1073807360 65536\n");
    }

    #[test]
    fn mountinfo_line_is_known_by_its_mount_id() {
        let l = "92 49 254:0 /tmp/z/root / rw,relatime,idmapped - ext4 /dev/vda rw";
        assert_eq!(mount_id(l), Some(92));
        assert_eq!(mount_id("x y"), None);
        // Nothing recorded (a zone of the host's user namespace): nothing
        // is host-made, zsched unmounts all.
        assert!(!host_made(l));
    }

    use super::super::launch::tests::in_child;
    use std::os::unix::fs::MetadataExt;

    /// A user namespace made as zsched makes one: its maps are the zone's
    /// range, a process that joins it is its root (host uid BASE), and the
    /// namespaces the helper made belong to it.
    #[test]
    fn the_helper_makes_a_mapped_user_namespace_that_owns_the_others() {
        let base = base(ZoneId(7)).unwrap();
        let code = in_child(|| {
            let Ok(proc_fd) = launch::detached_proc() else {
                return 2;
            };
            let Ok(ns) = make(base, proc_fd, true) else {
                return 3;
            };
            // The net namespace's owner is the user namespace made.
            const NS_GET_USERNS: libc::c_ulong = 0xb701;
            let net = ns.others.iter().find(|o| o.2 == "net").unwrap();
            // SAFETY: ioctl on a namespace descriptor we hold; the answer
            // is a new descriptor of ours.
            let owner = unsafe { libc::ioctl(net.0.as_raw_fd(), NS_GET_USERNS) };
            let (mut a, mut b): (libc::stat, libc::stat) =
                // SAFETY: plain old data.
                unsafe { (std::mem::zeroed(), std::mem::zeroed()) };
            // SAFETY: fstat into structs we own.
            unsafe {
                libc::fstat(owner, &mut a);
                libc::fstat(ns.user.as_raw_fd(), &mut b);
            }
            if owner < 0 || (a.st_dev, a.st_ino) != (b.st_dev, b.st_ino) {
                return 4;
            }
            if join(ns.user.as_raw_fd()).is_err() {
                return 5;
            }
            let map = std::fs::read_to_string("/proc/self/uid_map").unwrap_or_default();
            let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
            // SAFETY: getters.
            let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
            let words: Vec<&str> = map.split_whitespace().collect();
            if (uid, gid) != (0, 0) || words != ["0", &base.to_string(), "65536"] {
                return 6;
            }
            // /proc/self/status shows ids as the reader's namespace does:
            // the same reader, so 0; the map above says what it is outside.
            if !status.lines().any(|l| l.starts_with("Uid:\t0\t")) {
                return 7;
            }
            0
        });
        assert_eq!(code, 0);
    }

    /// An idmapped clone over a directory shows on-disk uid N as host
    /// uid BASE + N, and a file made through it as its creator's id is
    /// stored on disk as that id less BASE.
    #[test]
    fn idmap_over_shifts_what_it_shows_not_what_is_stored() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_path_buf();
        std::fs::write(d.join("root-file"), "x").unwrap();
        std::fs::write(d.join("user-file"), "x").unwrap();
        std::os::unix::fs::chown(d.join("user-file"), Some(1000), Some(1000)).unwrap();
        // Writable by the uid below once it has dropped root's capabilities.
        std::fs::set_permissions(&d, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
        let base = base(ZoneId(9)).unwrap();
        let code = in_child(|| {
            // SAFETY: namespace calls in this forked child.
            if unsafe { libc::unshare(libc::CLONE_NEWNS) } != 0 {
                return 2;
            }
            if mounts::mount(
                "t",
                None,
                Path::new("/"),
                None,
                libc::MS_REC | libc::MS_PRIVATE,
                None,
            )
            .is_err()
            {
                return 3;
            }
            let Ok(proc_fd) = launch::detached_proc() else {
                return 4;
            };
            let Ok(ns) = make(base, proc_fd, false) else {
                return 5;
            };
            let Ok(at) = open_path(None, &d) else {
                return 6;
            };
            if idmap_over(&at, &d, ns.user.as_raw_fd(), false).is_err() {
                return 7;
            }
            let uid = |n: &str| std::fs::metadata(d.join(n)).map(|m| m.uid()).unwrap_or(0);
            if uid("root-file") != base || uid("user-file") != base + 1000 {
                return 8;
            }
            // Made through the mount by host uid BASE + 1000: stored as 1000.
            // SAFETY: setfsuid/setfsgid take plain integers.
            unsafe {
                libc::setfsgid(base + 1000);
                libc::setfsuid(base + 1000);
            }
            if std::fs::write(d.join("made"), "y").is_err() {
                return 9;
            }
            0
        });
        assert_eq!(code, 0);
        // The host (outside the child's mount namespace) sees the disk.
        let m = std::fs::metadata(d.join("made")).unwrap();
        assert_eq!((m.uid(), m.gid()), (1000, 1000));
        assert_eq!(std::fs::metadata(d.join("root-file")).unwrap().uid(), 0);
    }

    #[test]
    fn only_a_zone_keeping_cap_sys_admin_gets_a_user_namespace() {
        assert!(!wanted(caps::default_set()));
        assert!(wanted(caps::default_set() | 1 << CAP_SYS_ADMIN));
        assert!(wanted(caps::all_set()));
    }
}
