//! # The zone's root
//!
//! Run by the launcher's child — the future pid 1 of the zone — in its new
//! mount namespace, after `/` was made private recursively, so nothing here
//! is seen by the host and everything vanishes with the namespace.
//!
//! 1. The root is bind-mounted onto itself (pivot_root needs a mount point).
//!    Every zonefs mount (type `fuse.zonefs`) that came with it — all of
//!    them for a root of `/` — is detached: a zone never sees the host's
//!    /zones (whose kernel caches are shared by every reader of the mount).
//! 2. Sparse brand: the host's /usr, /bin, /sbin, /lib, /lib64 (and lib32,
//!    libx32 when present) are bind-mounted read-only; where the host has a
//!    symlink (Debian 12: /bin → usr/bin), the zone gets the same symlink.
//! 3. /proc (the zone's pid namespace) with the files that act on the whole
//!    host read-only (sys, sysrq-trigger, bus, fs, irq: a uid 0 without any
//!    capability may write sysctls and sysrq) and the kernel's internals
//!    hidden (kcore, keys, timer_list, ...), /sys read-only, and a private /dev:
//!    a small tmpfs with null, zero, full, random, urandom, tty, a console
//!    that is a null device (zsched binds its console pty's slave over it
//!    when the zone boots, [`super::console`]), /dev/pts
//!    (newinstance, ptmxmode=0666) with /dev/ptmx → pts/ptmx, /dev/shm, and
//!    fd, stdin, stdout, stderr links into /proc/self/fd.
//! 4. The zone's `mount` and `mount.fstab` lines (fstab(5); `nullfs` or the
//!    `bind` option is a bind mount), each mount point under the root. They
//!    live in the zone's namespace only: nothing is mounted on the host, and
//!    they go with the zone. (jail(8) mounts a jail's lines on the host
//!    before it creates the jail, through [`mount_entry`] too; the zone's
//!    namespace inherits them and an entry already in place is not
//!    mounted a second time, [`already_mounted`].)
//!    A mount point is resolved inside the root ([`inroot`], openat2
//!    RESOLVE_IN_ROOT: a link the zone made is followed as the zone would
//!    see it, never out to the host), a final link is refused, and the
//!    mount goes onto the descriptor of what was checked
//!    (`/proc/self/fd/N`). A bind whose source is a file goes onto a file
//!    ([`file_entry`]), made empty where missing, a link there refused. A target resolved the ordinary way could follow
//!    a link the zone planted (`mnt/x → /etc`) and bind the admin's source
//!    over — or a tmpfs onto — the host's /etc dentry in the zone's
//!    namespace: the zone would then see, and write, the host's /etc.
//! 5. pivot_root the way crun and youki do: `pivot_root(".", ".")` from the
//!    new root, then the old root (stacked on the same place) is made a
//!    slave and detached with MNT_DETACH.
//!
//! Everything mounted beneath the root in steps 1-4 is mounted onto a
//! descriptor opened from the root's descriptor with links refused (steps
//! 1-3) or resolved inside the root (step 4), and the root itself is
//! opened with links refused (it is a real path): the zone's root user,
//! or a parent zone racing the launcher, cannot plant a link that moves a
//! mount (or a mkdir, mknod, symlink made here) onto the host's tree.
//!
//! Mount points are made as needed in a sparse root. In a whole root (which
//! may be an empty directory, or hold a whole OS) /proc, /sys and /dev are
//! mounted only where the directory exists, unless mount.procfs or
//! mount.devfs is set to true, which makes it.

use super::inroot::{Fd, Policy, Root};
use super::launch::ChildError;
use crate::param::Params;
use crate::zone::Brand;
use std::ffi::CString;
use std::fs;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

type R<T> = Result<T, ChildError>;

fn c(p: &Path) -> CString {
    CString::new(p.as_os_str().as_bytes()).expect("path without NUL")
}

fn last_errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// mount(2) with an error that names the step and the target.
pub fn mount(
    step: &str,
    src: Option<&str>,
    target: &Path,
    fstype: Option<&str>,
    flags: libc::c_ulong,
    data: Option<&str>,
) -> R<()> {
    let src_c = src.map(|s| CString::new(s).unwrap());
    let fs_c = fstype.map(|s| CString::new(s).unwrap());
    let data_c = data.map(|s| CString::new(s).unwrap());
    let t = c(target);
    // SAFETY: every pointer is to a NUL-terminated CString of this frame
    // (`src_c`, `t`, `fs_c`, `data_c`) or is null where mount(2) allows
    // it, and all of them outlive the call; mount copies what it needs.
    let r = unsafe {
        libc::mount(
            src_c.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()),
            t.as_ptr(),
            fs_c.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()),
            flags,
            data_c
                .as_ref()
                .map_or(std::ptr::null(), |s| s.as_ptr() as *const libc::c_void),
        )
    };
    if r != 0 {
        let e = last_errno();
        // A descriptor's name: say what it names.
        let shown = fs::read_link(target).unwrap_or_else(|_| target.to_path_buf());
        return Err(ChildError::errno(
            step,
            format!(
                "mount {} on {}",
                src.or(fstype).unwrap_or("-"),
                shown.display()
            ),
            e,
        ));
    }
    Ok(())
}

/// Make a directory for a mount point; refuse a symlink there (it could
/// point anywhere in the host's tree).
fn mount_point(step: &str, p: &Path) -> R<()> {
    match fs::symlink_metadata(p) {
        Ok(m) if m.file_type().is_symlink() => Err(ChildError::new(
            step,
            format!("{}: is a symbolic link, not a directory", p.display()),
        )),
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(ChildError::new(
            step,
            format!("{}: not a directory", p.display()),
        )),
        Err(_) => fs::create_dir_all(p).map_err(|e| {
            ChildError::errno(
                step,
                format!("mkdir {}", p.display()),
                e.raw_os_error().unwrap_or(0),
            )
        }),
    }
}

/// The file system type of a zonefs mount in /proc/self/mountinfo.
pub const ZONEFS_TYPE: &str = "fuse.zonefs";

/// Mount points of this type at or under `root`, from mountinfo text,
/// deepest first.
pub fn mounts_of_type(mountinfo: &str, fstype: &str, root: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = crate::mountinfo::parse(mountinfo)
        .filter(|m| m.fstype == fstype && m.mount_point.starts_with(root))
        .map(|m| m.mount_point)
        .collect();
    out.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    out
}

/// Detach every zonefs mount at or under `root` in this (the zone's)
/// namespace; the host's mounts stay.
fn detach_zonefs(root: &Path) -> R<()> {
    let info = fs::read_to_string("/proc/self/mountinfo").map_err(|e| {
        ChildError::errno(
            "root",
            "read /proc/self/mountinfo".into(),
            e.raw_os_error().unwrap_or(0),
        )
    })?;
    for mp in mounts_of_type(&info, ZONEFS_TYPE, root) {
        // SAFETY: umount2 with a NUL-terminated path that lives for the call.
        if unsafe { libc::umount2(c(&mp).as_ptr(), libc::MNT_DETACH) } != 0 {
            let e = last_errno();
            // Already gone with a detached parent.
            if e != libc::EINVAL && e != libc::ENOENT {
                return Err(ChildError::errno(
                    "root",
                    format!("detach zonefs at {}", mp.display()),
                    e,
                ));
            }
        }
    }
    Ok(())
}

/// The host directories a sparse zone shares.
pub const SPARSE_DIRS: &[&str] = &["usr", "bin", "sbin", "lib", "lib64", "lib32", "libx32"];

fn io_err(step: &str, what: String) -> impl FnOnce(std::io::Error) -> ChildError + '_ {
    move |e| ChildError::new(step, format!("{what}: {e}"))
}

/// Open the zone's root (a real path) again, with links refused, and check
/// it is the directory `was` held: after a mount onto it, the new
/// descriptor reaches the mount on top.
fn reopen_root(root: &Path, was: &OwnedFd) -> R<Root> {
    let r = Root::open_real(root).map_err(io_err("root", root.display().to_string()))?;
    let (a, b) = (
        r.fd.stat()
            .map_err(io_err("root", root.display().to_string()))?,
        was.stat()
            .map_err(io_err("root", root.display().to_string()))?,
    );
    if (a.st_dev, a.st_ino) != (b.st_dev, b.st_ino) {
        return Err(ChildError::new(
            "root",
            format!("{}: changed while the root was built", root.display()),
        ));
    }
    Ok(r)
}

/// A directory beneath the root for a mount, made where missing; links
/// refused. The descriptor (O_PATH) is what to mount onto.
fn mount_point_in(step: &str, r: &Root, rel: &str) -> R<OwnedFd> {
    r.mkdir_all(Path::new(rel), 0o755, Policy::NoLinks)
        .map_err(io_err(
            step,
            format!("mount point {}", r.path.join(rel).display()),
        ))
}

/// The mount now on top of `rel` (which was just mounted onto).
fn reopen_in(step: &str, r: &Root, rel: &Path, policy: Policy) -> R<OwnedFd> {
    r.open_at(rel, libc::O_PATH | libc::O_DIRECTORY, policy)
        .map_err(io_err(step, r.path.join(rel).display().to_string()))
}

/// Build the zone's root under `root` (already canonical). Returns nothing;
/// the caller pivots.
pub fn build(root: &Path, brand: Brand, params: &Params) -> R<()> {
    let first = Root::open_real(root).map_err(io_err("root", root.display().to_string()))?;
    // A root of `/` (a jail that shares the host's tree, as FreeBSD's own
    // tests do) is already the namespace's root: no bind, no pivot.
    if root != Path::new("/") {
        let at = first.fd.proc_path();
        mount(
            "root",
            Some(&at.to_string_lossy()),
            &at,
            None,
            libc::MS_BIND | libc::MS_REC,
            None,
        )?;
    }
    detach_zonefs(root)?;
    let r = reopen_root(root, &first.fd)?;
    let sparse = brand == Brand::Sparse;
    if sparse {
        for d in SPARSE_DIRS {
            let host = Path::new("/").join(d);
            let Ok(meta) = fs::symlink_metadata(&host) else {
                continue;
            };
            if meta.file_type().is_symlink() {
                let exists = r
                    .lstat(Path::new(d))
                    .map_err(io_err("sparse", r.path.join(d).display().to_string()))?;
                if exists.is_none() {
                    let target = fs::read_link(&host).map_err(|e| {
                        ChildError::errno(
                            "sparse",
                            format!("readlink {}", host.display()),
                            e.raw_os_error().unwrap_or(0),
                        )
                    })?;
                    r.symlink(Path::new(d), &target).map_err(io_err(
                        "sparse",
                        format!("symlink {}", r.path.join(d).display()),
                    ))?;
                }
                continue;
            }
            let at = mount_point_in("sparse", &r, d)?;
            mount(
                "sparse",
                Some(&host.to_string_lossy()),
                &at.proc_path(),
                None,
                libc::MS_BIND | libc::MS_REC,
                None,
            )?;
            let top = reopen_in("sparse", &r, Path::new(d), Policy::NoLinks)?;
            mount(
                "sparse",
                None,
                &top.proc_path(),
                None,
                libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY | libc::MS_NODEV,
                None,
            )?;
        }
    }
    let wanted = |dir: &str, param: Option<&str>| -> bool {
        let explicit = param.and_then(|n| params.bool(n));
        if explicit == Some(false) {
            return false;
        }
        sparse
            || explicit == Some(true)
            || r.open_at(
                Path::new(dir),
                libc::O_PATH | libc::O_DIRECTORY,
                Policy::NoLinks,
            )
            .is_ok()
    };
    let nosuid = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
    if wanted("proc", Some("mount.procfs")) {
        let at = mount_point_in("proc", &r, "proc")?;
        mount(
            "proc",
            Some("proc"),
            &at.proc_path(),
            Some("proc"),
            nosuid,
            None,
        )?;
        let top = reopen_in("proc", &r, Path::new("proc"), Policy::NoLinks)?;
        guard_proc(&top.proc_path())?;
    }
    if wanted("sys", None) {
        let at = mount_point_in("sys", &r, "sys")?;
        match mount(
            "sys",
            Some("sysfs"),
            &at.proc_path(),
            Some("sysfs"),
            nosuid | libc::MS_RDONLY,
            None,
        ) {
            // The host's sysfs is already there (a root of `/`): make this
            // namespace's copy of it read-only instead.
            Err(e) if e.errno == Some(libc::EBUSY) => mount(
                "sys",
                None,
                &at.proc_path(),
                None,
                libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY | nosuid,
                None,
            )?,
            r => r?,
        }
    }
    if wanted("dev", Some("mount.devfs")) {
        let at = mount_point_in("dev", &r, "dev")?;
        mount(
            "dev",
            Some("tmpfs"),
            &at.proc_path(),
            Some("tmpfs"),
            libc::MS_NOSUID | libc::MS_NOEXEC,
            Some("mode=755,size=65536k"),
        )?;
        // The fresh tmpfs is this namespace's alone: paths beneath it
        // (through its descriptor) reach nothing the zone made.
        let top = reopen_in("dev", &r, Path::new("dev"), Policy::NoLinks)?;
        dev(&top.proc_path())?;
    }
    Ok(())
}

/// Files of /proc that act on the whole host, writable by a uid 0 that
/// holds no capability at all: made read-only in the zone.
pub const PROC_READ_ONLY: &[&str] = &["sys", "sysrq-trigger", "bus", "fs", "irq"];

/// Files of /proc that show the host's kernel internals: hidden (a
/// read-only empty tmpfs over a directory, /dev/null over a file).
pub const PROC_MASKED: &[&str] = &[
    "kcore",
    "keys",
    "key-users",
    "timer_list",
    "sched_debug",
    "latency_stats",
    "acpi",
    "scsi",
];

/// A fresh /proc at `at` for the caller's pid namespace, guarded as a
/// zone's is (the nested init of [`super::sysinit`]).
pub fn nested_proc(at: &Path) -> R<()> {
    mount(
        "proc",
        Some("proc"),
        at,
        Some("proc"),
        libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
        None,
    )?;
    guard_proc(at)
}

/// Make a zone's /proc safe (module comment; runc does the same).
fn guard_proc(proc_dir: &Path) -> R<()> {
    for name in PROC_READ_ONLY {
        let p = proc_dir.join(name);
        if fs::symlink_metadata(&p).is_err() {
            continue;
        }
        let src = p.to_string_lossy().to_string();
        mount(
            "proc",
            Some(&src),
            &p,
            None,
            libc::MS_BIND | libc::MS_REC,
            None,
        )?;
        mount(
            "proc",
            None,
            &p,
            None,
            libc::MS_BIND
                | libc::MS_REMOUNT
                | libc::MS_RDONLY
                | libc::MS_NOSUID
                | libc::MS_NODEV
                | libc::MS_NOEXEC,
            None,
        )?;
    }
    for name in PROC_MASKED {
        let p = proc_dir.join(name);
        let Ok(m) = fs::symlink_metadata(&p) else {
            continue;
        };
        if m.is_dir() {
            mount(
                "proc",
                Some("tmpfs"),
                &p,
                Some("tmpfs"),
                libc::MS_RDONLY,
                Some("size=0"),
            )?;
        } else {
            mount("proc", Some("/dev/null"), &p, None, libc::MS_BIND, None)?;
        }
    }
    Ok(())
}

/// The private /dev (ruleset 4), filled in at `dev`: the fresh tmpfs.
fn dev(dev: &Path) -> R<()> {
    for (name, major, minor) in [
        ("null", 1, 3),
        ("zero", 1, 5),
        ("full", 1, 7),
        ("random", 1, 8),
        ("urandom", 1, 9),
        ("tty", 5, 0),
        ("console", 1, 3),
    ] {
        let p = c(&dev.join(name));
        // SAFETY: `p` is a NUL-terminated CString of this frame that outlives
        // the call; mknod reads only the path.
        let r = unsafe {
            libc::mknod(
                p.as_ptr(),
                libc::S_IFCHR | 0o666,
                libc::makedev(major, minor),
            )
        };
        if r != 0 {
            return Err(ChildError::errno(
                "dev",
                format!("mknod {}", dev.join(name).display()),
                last_errno(),
            ));
        }
        // mknod obeys the umask; the nodes must be 0666.
        let _ = fs::set_permissions(dev.join(name), fs::Permissions::from_mode(0o666));
    }
    let pts = dev.join("pts");
    mount_point("dev", &pts)?;
    mount(
        "dev",
        Some("devpts"),
        &pts,
        Some("devpts"),
        libc::MS_NOSUID | libc::MS_NOEXEC,
        Some("newinstance,ptmxmode=0666,mode=0620,gid=5"),
    )?;
    let shm = dev.join("shm");
    mount_point("dev", &shm)?;
    mount(
        "dev",
        Some("tmpfs"),
        &shm,
        Some("tmpfs"),
        libc::MS_NOSUID | libc::MS_NODEV,
        Some("mode=1777"),
    )?;
    for (link, target) in [
        ("ptmx", "pts/ptmx"),
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        std::os::unix::fs::symlink(target, dev.join(link)).map_err(|e| {
            ChildError::errno(
                "dev",
                format!("symlink {}", dev.join(link).display()),
                e.raw_os_error().unwrap_or(0),
            )
        })?;
    }
    Ok(())
}

/// pivot_root into `root` and detach the old root (nothing to do for `/`).
pub fn pivot(root: &Path) -> R<()> {
    if root == Path::new("/") {
        return Ok(());
    }
    let rc = c(root);
    // SAFETY: `rc` is a NUL-terminated CString of this frame that outlives
    // the call; chdir reads only the path.
    if unsafe { libc::chdir(rc.as_ptr()) } != 0 {
        return Err(ChildError::errno(
            "pivot_root",
            format!("chdir {}", root.display()),
            last_errno(),
        ));
    }
    let dot = c(Path::new("."));
    // SAFETY: both arguments are `dot`, a NUL-terminated CString of this
    // frame that outlives the call; pivot_root reads only the paths.
    if unsafe { libc::syscall(libc::SYS_pivot_root, dot.as_ptr(), dot.as_ptr()) } != 0 {
        return Err(ChildError::errno(
            "pivot_root",
            root.display().to_string(),
            last_errno(),
        ));
    }
    // The old root is now stacked on "."; make sure nothing propagates
    // from it, then detach it.
    mount(
        "pivot_root",
        None,
        Path::new("."),
        None,
        libc::MS_SLAVE | libc::MS_REC,
        None,
    )?;
    // SAFETY: `dot` is a NUL-terminated CString of this frame that outlives
    // the call; umount2 reads only the path.
    if unsafe { libc::umount2(dot.as_ptr(), libc::MNT_DETACH) } != 0 {
        return Err(ChildError::errno(
            "pivot_root",
            "detach the old root".into(),
            last_errno(),
        ));
    }
    let slash = c(Path::new("/"));
    // SAFETY: `slash` is a NUL-terminated CString of this frame that
    // outlives the call; chdir reads only the path.
    if unsafe { libc::chdir(slash.as_ptr()) } != 0 {
        return Err(ChildError::errno(
            "pivot_root",
            "chdir /".into(),
            last_errno(),
        ));
    }
    Ok(())
}

/// One fstab(5) line of `mount` / `mount.fstab`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FstabEntry {
    pub source: String,
    pub target: PathBuf,
    pub fstype: String,
    pub flags: libc::c_ulong,
    pub bind: bool,
    /// Options the kernel does not take as flags (`size=1m`, ...).
    pub data: String,
}

/// Parse one fstab(5) line; None for a blank or comment line.
pub fn parse_fstab_line(line: &str) -> Option<Result<FstabEntry, String>> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let f: Vec<&str> = line.split_whitespace().collect();
    if f.len() < 3 {
        return Some(Err(format!(
            "{line:?}: expected at least source, mount point and type"
        )));
    }
    let mut flags = 0;
    let mut bind = matches!(f[2], "nullfs" | "bind");
    let mut data = Vec::new();
    for o in f.get(3).copied().unwrap_or("defaults").split(',') {
        match o {
            "defaults" | "rw" | "" | "auto" | "noauto" | "late" => {}
            "ro" => flags |= libc::MS_RDONLY,
            "nosuid" => flags |= libc::MS_NOSUID,
            "nodev" => flags |= libc::MS_NODEV,
            "noexec" => flags |= libc::MS_NOEXEC,
            "noatime" => flags |= libc::MS_NOATIME,
            "nodiratime" => flags |= libc::MS_NODIRATIME,
            "relatime" => flags |= libc::MS_RELATIME,
            "sync" => flags |= libc::MS_SYNCHRONOUS,
            "bind" => bind = true,
            "rbind" => {
                bind = true;
                flags |= libc::MS_REC;
            }
            other => data.push(other.to_string()),
        }
    }
    Some(Ok(FstabEntry {
        source: crate::mountinfo::unescape(f[0])
            .to_string_lossy()
            .into_owned(),
        target: crate::mountinfo::unescape(f[1]),
        fstype: f[2].to_string(),
        flags,
        bind,
        data: data.join(","),
    }))
}

/// The `mount` lines and the lines of the `mount.fstab` files of a zone.
pub fn fstab_entries(params: &Params) -> R<Vec<FstabEntry>> {
    let mut lines: Vec<(String, String)> = params
        .list("mount")
        .into_iter()
        .map(|l| ("mount".to_string(), l))
        .collect();
    for file in params.list("mount.fstab") {
        let text = fs::read_to_string(&file).map_err(|e| {
            ChildError::errno(
                "mount",
                format!("mount.fstab {file}"),
                e.raw_os_error().unwrap_or(0),
            )
        })?;
        for (n, l) in text.lines().enumerate() {
            lines.push((format!("{file} line {}", n + 1), l.to_string()));
        }
    }
    let mut out = Vec::new();
    for (whence, l) in lines {
        match parse_fstab_line(&l) {
            None => {}
            Some(Ok(e)) => out.push(e),
            Some(Err(msg)) => return Err(ChildError::new("mount", format!("{whence}: {msg}"))),
        }
    }
    Ok(out)
}

/// Mount the zone's fstab entries (in its mount namespace, before the
/// pivot). A mount point must be under the zone's root (`root`, its real
/// path, or `path` as configured): a mount anywhere else would be in no
/// place the zone can see. It is resolved inside the root (module comment,
/// step 4) and must not be a link itself.
pub fn fstab(root: &Path, params: &Params) -> R<()> {
    let entries = fstab_entries(params)?;
    if entries.is_empty() {
        return Ok(());
    }
    let r = Root::open_real(root).map_err(io_err("mount", root.display().to_string()))?;
    let written = params.str("path").map(PathBuf::from);
    // The mounts there before the zone's own: jail(8)'s, made on the host.
    let before = crate::mountinfo::read("self").unwrap_or_default();
    for e in entries {
        let below = e
            .target
            .strip_prefix(root)
            .ok()
            .or_else(|| {
                written
                    .as_deref()
                    .and_then(|w| e.target.strip_prefix(w).ok())
            })
            .ok_or_else(|| {
                ChildError::new(
                    "mount",
                    format!(
                        "{}: not under the zone's root {}",
                        e.target.display(),
                        root.display()
                    ),
                )
            })?;
        let rel = super::inroot::relative(below)
            .map_err(|err| ChildError::new("mount", err.to_string()))?;
        let shown = e.target.display().to_string();
        if file_bind(&e) {
            file_entry(&r, &e, &rel, &shown, &before)?;
            continue;
        }
        let at = match r.open_at(&rel, libc::O_PATH | libc::O_NOFOLLOW, Policy::InRoot) {
            Ok(fd) => fd,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => r
                .mkdir_all(&rel, 0o755, Policy::InRoot)
                .map_err(io_err("mount", format!("mount point {shown}")))?,
            Err(err) => return Err(ChildError::new("mount", format!("{shown}: {err}"))),
        };
        let st = at.stat().map_err(io_err("mount", shown.clone()))?;
        match st.st_mode & libc::S_IFMT {
            libc::S_IFDIR => {}
            libc::S_IFLNK => {
                return Err(ChildError::new(
                    "mount",
                    format!("{shown}: is a symbolic link, not a directory"),
                ));
            }
            _ => {
                return Err(ChildError::new(
                    "mount",
                    format!("{shown}: not a directory"),
                ));
            }
        }
        if already_mounted(&before, &e, &r.path.join(&rel), &st) {
            continue;
        }
        let target = at.proc_path();
        mount_entry(&e, &target, |remount| {
            let top = reopen_in("mount", &r, &rel, Policy::InRoot)?;
            remount(&top.proc_path())
        })?;
    }
    Ok(())
}

/// Is `e` a bind of a file (anything but a directory), which goes onto a
/// file mount point ([`file_entry`])?
fn file_bind(e: &FstabEntry) -> bool {
    e.bind && fs::metadata(&e.source).is_ok_and(|m| !m.is_dir())
}

/// Mount a bind of a file (Podman's /etc/hosts, resolv.conf, hostname,
/// /run/.containerenv; `-v FILE:FILE`) onto the file `rel` beneath the
/// root. Its directory is resolved (and made where missing) inside the
/// root as for a directory's mount point; the last name is opened with
/// O_NOFOLLOW beneath that directory — a link there is refused, never
/// followed to the host — and made (an empty 0644 file, O_EXCL) when
/// missing. A directory there is refused: a file binds onto a file.
fn file_entry(
    r: &Root,
    e: &FstabEntry,
    rel: &Path,
    shown: &str,
    before: &[crate::mountinfo::MountInfo],
) -> R<()> {
    use std::os::fd::{AsRawFd, FromRawFd};
    let name = rel
        .file_name()
        .ok_or_else(|| ChildError::new("mount", format!("{shown}: no file name")))?;
    let cname = CString::new(std::os::unix::ffi::OsStrExt::as_bytes(name))
        .map_err(|_| ChildError::new("mount", format!("{shown}: NUL in the path")))?;
    let parent = rel.parent().unwrap_or(Path::new(""));
    let dir = r
        .mkdir_all(parent, 0o755, Policy::InRoot)
        .map_err(io_err("mount", format!("mount point {shown}")))?;
    let open = |flags: i32| {
        // SAFETY: dir is a directory descriptor we own; cname lives for
        // the call; the flags hold O_NOFOLLOW, so a final link fails.
        let fd = unsafe {
            libc::openat(
                dir.as_raw_fd(),
                cname.as_ptr(),
                flags | libc::O_NOFOLLOW | libc::O_CLOEXEC,
                0o644,
            )
        };
        if fd < 0 {
            Err(last_errno())
        } else {
            // SAFETY: a fresh descriptor nothing else owns.
            Ok(unsafe { OwnedFd::from_raw_fd(fd) })
        }
    };
    let at = match open(libc::O_PATH) {
        Ok(fd) => fd,
        Err(libc::ENOENT) => {
            match open(libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL) {
                Ok(_) | Err(libc::EEXIST) => {}
                Err(n) => {
                    return Err(ChildError::errno(
                        "mount",
                        format!("create the mount point {shown}"),
                        n,
                    ));
                }
            }
            open(libc::O_PATH)
                .map_err(|n| ChildError::errno("mount", format!("mount point {shown}"), n))?
        }
        Err(n) => {
            return Err(ChildError::errno(
                "mount",
                format!("mount point {shown}"),
                n,
            ));
        }
    };
    let st = at.stat().map_err(io_err("mount", shown.to_string()))?;
    match st.st_mode & libc::S_IFMT {
        libc::S_IFLNK => {
            return Err(ChildError::new(
                "mount",
                format!("{shown}: is a symbolic link; a file is bound onto a file only"),
            ));
        }
        libc::S_IFDIR => {
            return Err(ChildError::new(
                "mount",
                format!("{shown}: is a directory; the source {} is a file", e.source),
            ));
        }
        _ => {}
    }
    if already_mounted(before, e, &r.path.join(rel), &st) {
        return Ok(());
    }
    mount_entry(e, &at.proc_path(), |remount| {
        let top = open(libc::O_PATH)
            .map_err(|n| ChildError::errno("mount", format!("{shown} after the bind"), n))?;
        remount(&top.proc_path())
    })
}

/// Is the mount of `e` already in place at `point` (its real path) in
/// this namespace, by the table `before` read before the zone's own fstab
/// mounts? jail(8) mounts `mount` / `mount.fstab` lines on the host before
/// it creates the jail (FreeBSD's order, so that exec.prestart sees them),
/// and the zone's namespace, a copy of the host's, inherits them: mounting
/// them again would stack a second file system over the one the host and
/// its exec.* scripts use (a tmpfs the jail and the host would no longer
/// share). The same mount is: for a bind, a mount point at `point` whose
/// top directory (`top`, its stat) is the source's; otherwise a mount at
/// `point` of the same type and source.
fn already_mounted(
    before: &[crate::mountinfo::MountInfo],
    e: &FstabEntry,
    point: &Path,
    top: &libc::stat,
) -> bool {
    let mut here = before.iter().filter(|m| m.mount_point == point);
    if e.bind {
        use std::os::unix::fs::MetadataExt;
        here.next().is_some()
            && fs::metadata(&e.source).is_ok_and(|m| m.dev() == top.st_dev && m.ino() == top.st_ino)
    } else {
        here.any(|m| m.fstype == e.fstype && m.source == e.source)
    }
}

/// Mount one fstab entry on `target` with mount(2): the one mount path
/// of `mount` / `mount.fstab` lines, for the zone's namespace ([`fstab`])
/// and for jail(8)'s mounts on the host. A bind mount takes its flags
/// (`ro`, `nosuid`, ...) only by a remount of the new mount:
/// `at_top` is given the remount and calls it with a path that names the
/// new top mount (the target path again when it is a plain path; a
/// descriptor reopened after the bind when `target` is one).
pub fn mount_entry(
    e: &FstabEntry,
    target: &Path,
    at_top: impl FnOnce(&dyn Fn(&Path) -> R<()>) -> R<()>,
) -> R<()> {
    if e.bind {
        mount(
            "mount",
            Some(&e.source),
            target,
            None,
            libc::MS_BIND | (e.flags & libc::MS_REC),
            None,
        )?;
        let flags = e.flags & !libc::MS_REC;
        if flags != 0 {
            at_top(&|top: &Path| {
                mount(
                    "mount",
                    None,
                    top,
                    None,
                    libc::MS_BIND | libc::MS_REMOUNT | flags,
                    None,
                )
            })?;
        }
        Ok(())
    } else {
        let data = (!e.data.is_empty()).then_some(e.data.as_str());
        mount(
            "mount",
            Some(&e.source),
            target,
            Some(&e.fstype),
            e.flags,
            data,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zonefs_mounts_at_or_under_the_root_are_found_deepest_first() {
        let info = "\
22 1 8:1 / / rw - ext4 /dev/vda rw
30 22 0:40 / /zones rw,nosuid - fuse.zonefs zonefs ro,user_id=0
31 22 0:41 / /srv/z1/zones rw - fuse.zonefs zonefs ro
32 31 0:42 / /srv/z1/zones/in\\040deep rw - fuse.zonefs zonefs ro
33 22 0:43 / /srv/z1/other rw - fuse.sshfs host: rw
34 22 0:44 / /srv/z10/zones rw - fuse.zonefs zonefs ro
";
        assert_eq!(
            mounts_of_type(info, ZONEFS_TYPE, Path::new("/srv/z1")),
            [
                PathBuf::from("/srv/z1/zones/in deep"),
                PathBuf::from("/srv/z1/zones")
            ]
        );
        assert_eq!(mounts_of_type(info, ZONEFS_TYPE, Path::new("/")).len(), 4);
    }

    #[test]
    fn fstab_lines_turn_into_flags_binds_and_data() {
        let e = parse_fstab_line("/srv/data /z/mnt/data nullfs ro,nosuid 0 0")
            .unwrap()
            .unwrap();
        assert!(e.bind);
        assert_eq!(e.flags, libc::MS_RDONLY | libc::MS_NOSUID);
        let e = parse_fstab_line("tmpfs /z/tmp tmpfs rw,size=1m,mode=1777 0 0")
            .unwrap()
            .unwrap();
        assert!(!e.bind);
        assert_eq!((e.flags, e.data.as_str()), (0, "size=1m,mode=1777"));
        assert_eq!(e.target, Path::new("/z/tmp"));
        assert!(parse_fstab_line("  # comment").is_none());
        assert!(parse_fstab_line("tmpfs /x").unwrap().is_err());
    }
}
