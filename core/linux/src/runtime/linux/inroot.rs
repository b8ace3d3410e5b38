//! # Host-side work beneath a zone root
//!
//! A zone's root is a tree its root user owns: every name in it — `etc`,
//! `etc/passwd`, a mount point, a nested zone's directory — may be a
//! symbolic link the zone planted, pointing anywhere in the host's tree.
//! A host process (zoneadm install, clone, the launcher mounting the zone's
//! fstab, the engine placing a nested zone) that walks such a path the
//! ordinary way follows the link and writes, reads or mounts on the host's
//! file instead (runc's CVE-2021-30465 and its kin). So every host-side
//! access beneath a root goes through this module, and starts from a
//! descriptor of the root ([`Root`]), never from a path string:
//!
//! * [`Policy::NoLinks`] (openat2 `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS`):
//!   any symlink on the way is refused (ELOOP), `..` may not climb out.
//!   For what the host writes: install's files and directories, clone's
//!   `etc/hostname`.
//! * [`Policy::InRoot`] (`RESOLVE_IN_ROOT`): symlinks are followed the way
//!   the zone itself would see them, `/` and `..` clamped at the root, so
//!   the result always lies inside it. For names a zone may legitimately
//!   hold links in (a whole root's `/var/run → /run` under an fstab mount
//!   point, a nested zone's directory).
//!
//! Magic links (`/proc/self/fd/N`) are refused by both. A file is written
//! to a fresh temporary name (O_EXCL, O_NOFOLLOW) and renamed over the old
//! one, so a link (symbolic or hard) the zone left at the name is replaced,
//! never written through. A mount lands on the directory a descriptor holds
//! ([`Fd::proc_path`]: mount(2) onto `/proc/self/fd/N`), so the place
//! checked is the place mounted on.
//!
//! [`copy_tree`] copies a tree descriptor by descriptor (clone): each name
//! is opened O_NOFOLLOW relative to its directory's descriptor, a link is
//! copied as a link, and every file is created O_EXCL in a directory this
//! copy made: a hostile source cannot lead the copy to read a host file in
//! or write anywhere but the new root.
//!
//! [`check_private`] is the zone-path rule (illumos: a zonepath is 0700
//! with the root beneath it): a root must not be reachable by an
//! unprivileged host user, or a setuid or file-capability binary made by
//! root in the zone is a way to root on the host.
//!
//! Where the host's part of a root's path ends: at the first private
//! directory from the top. No zone controls a name above it (every zone
//! root, a parent zone's included, lies beneath a private zonepath), so
//! the administrator's own links there are followed; beneath it links are
//! refused ([`prepare`] for install and clone, [`open_root`] for clone's
//! source and uninstall). A nested zone's root is resolved inside its
//! parent's root ([`nested_root`], by the engine at create and by
//! zoneadm), and at ready [`check_zone_root`] checks it still lies beneath
//! the parent's root as the parent's zsched holds it. jail(8)'s own
//! host-side mounts resolve their mount point inside the root
//! ([`host_mount_point`]).

use std::ffi::{CStr, CString, OsStr, OsString};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

/// How symlinks beneath a root are treated (module comment).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// Any symlink on the way is refused.
    NoLinks,
    /// Symlinks are resolved inside the root.
    InRoot,
}

impl Policy {
    fn resolve(self) -> u64 {
        libc::RESOLVE_NO_MAGICLINKS
            | match self {
                Policy::NoLinks => libc::RESOLVE_BENEATH | libc::RESOLVE_NO_SYMLINKS,
                Policy::InRoot => libc::RESOLVE_IN_ROOT,
            }
    }
}

fn cstr(p: &OsStr) -> io::Result<CString> {
    CString::new(p.as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in a path"))
}

fn ctx(what: impl std::fmt::Display, e: io::Error) -> io::Error {
    let msg = if e.raw_os_error() == Some(libc::ELOOP) || e.raw_os_error() == Some(libc::EXDEV) {
        format!("{what}: a symbolic link on the way (or `..` out of the root): refused")
    } else {
        format!("{what}: {e}")
    };
    io::Error::new(e.kind(), msg)
}

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// openat2(2).
pub fn openat2(
    dir: RawFd,
    path: &Path,
    flags: i32,
    mode: u32,
    resolve: u64,
) -> io::Result<OwnedFd> {
    let p = cstr(path.as_os_str())?;
    // SAFETY: open_how is plain old data; all-zero is its documented empty value.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (flags | libc::O_CLOEXEC) as u64;
    how.mode = mode as u64;
    how.resolve = resolve;
    // SAFETY: p and how live for the call; the size is that of how.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            dir,
            p.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: openat2 returned a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// A descriptor with a few helpers.
pub trait Fd: AsRawFd {
    /// `/proc/self/fd/N`: a name for exactly this file, for system calls
    /// that take no descriptor (mount(2)).
    fn proc_path(&self) -> PathBuf {
        PathBuf::from(format!("/proc/self/fd/{}", self.as_raw_fd()))
    }
    /// The host path the kernel has for this file now.
    fn real_path(&self) -> io::Result<PathBuf> {
        std::fs::read_link(self.proc_path())
    }
    fn stat(&self) -> io::Result<libc::stat> {
        // SAFETY: st is plain old data written by fstat.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: a valid descriptor and a stat buffer that lives for the call.
        cvt(unsafe { libc::fstat(self.as_raw_fd(), &mut st) })?;
        Ok(st)
    }
}
impl Fd for OwnedFd {}

/// The path beneath a root of `p`: relative, `/` and `.` dropped; `..` is
/// refused (it means nothing good in a path the host writes to).
pub fn relative(p: &Path) -> io::Result<PathBuf> {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::RootDir | Component::CurDir => {}
            Component::Normal(n) => out.push(n),
            Component::ParentDir | Component::Prefix(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{}: `..` is not allowed here", p.display()),
                ));
            }
        }
    }
    Ok(out)
}

/// A zone root held open (O_PATH), with the host path it was opened by
/// (for messages).
#[derive(Debug)]
pub struct Root {
    pub fd: OwnedFd,
    pub path: PathBuf,
}

impl Root {
    /// Open the directory at `path` (a host path, chosen by the host's
    /// administrator: links above the root are the host's own business).
    pub fn open(path: &Path) -> io::Result<Root> {
        let c = cstr(path.as_os_str())?;
        // SAFETY: c lives for the call.
        let fd = cvt(unsafe {
            libc::open(
                c.as_ptr(),
                libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
            )
        })
        .map_err(|e| ctx(path.display(), e))?;
        Ok(Root {
            // SAFETY: a fresh descriptor that nothing else owns.
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
            path: path.to_path_buf(),
        })
    }

    /// Open the directory at `path`, a real path (links resolved already):
    /// any link met now means the path changed since, and is refused.
    pub fn open_real(path: &Path) -> io::Result<Root> {
        let fd = openat2(
            libc::AT_FDCWD,
            path,
            libc::O_PATH | libc::O_DIRECTORY,
            0,
            libc::RESOLVE_NO_SYMLINKS | libc::RESOLVE_NO_MAGICLINKS,
        )
        .map_err(|e| ctx(path.display(), e))?;
        Ok(Root {
            fd,
            path: path.to_path_buf(),
        })
    }

    fn show(&self, rel: &Path) -> String {
        self.path.join(rel).display().to_string()
    }

    /// Open `rel` beneath the root.
    pub fn open_at(&self, rel: &Path, flags: i32, policy: Policy) -> io::Result<OwnedFd> {
        let r = relative(rel)?;
        let r = if r.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            r
        };
        openat2(self.fd.as_raw_fd(), &r, flags, 0, policy.resolve())
            .map_err(|e| ctx(self.show(&r), e))
    }

    /// The directory `rel` beneath the root, made (mode `mode`, each
    /// missing component) where missing; an O_PATH descriptor of it. With
    /// [`Policy::NoLinks`] a link anywhere on the way is refused; with
    /// [`Policy::InRoot`] links are followed inside the root.
    pub fn mkdir_all(&self, rel: &Path, mode: u32, policy: Policy) -> io::Result<OwnedFd> {
        let rel = relative(rel)?;
        let flags = libc::O_PATH | libc::O_DIRECTORY;
        let mut cur = self.open_at(Path::new("."), flags, policy)?;
        let mut sofar = PathBuf::new();
        for comp in rel.components() {
            sofar.push(comp);
            let open = || openat2(self.fd.as_raw_fd(), &sofar, flags, 0, policy.resolve());
            let next = match open() {
                Ok(fd) => fd,
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                    let name = cstr(comp.as_os_str())?;
                    // SAFETY: cur is a directory descriptor, name lives for the call.
                    let r = unsafe { libc::mkdirat(cur.as_raw_fd(), name.as_ptr(), mode) };
                    if r != 0 {
                        let e = io::Error::last_os_error();
                        if e.raw_os_error() != Some(libc::EEXIST) {
                            return Err(ctx(format!("mkdir {}", self.show(&sofar)), e));
                        }
                    } else {
                        // mkdirat obeys the umask.
                        let d = openat_nofollow(
                            &cur,
                            comp.as_os_str(),
                            libc::O_RDONLY | libc::O_DIRECTORY,
                        )
                        .map_err(|e| ctx(self.show(&sofar), e))?;
                        // SAFETY: a directory descriptor we own.
                        cvt(unsafe { libc::fchmod(d.as_raw_fd(), mode) })
                            .map_err(|e| ctx(self.show(&sofar), e))?;
                    }
                    open().map_err(|e| ctx(self.show(&sofar), e))?
                }
                Err(e) => return Err(ctx(self.show(&sofar), e)),
            };
            cur = next;
        }
        Ok(cur)
    }

    /// The parent directory of `rel` (which must exist, reached with links
    /// refused) and the last name of `rel`.
    fn parent_of(&self, rel: &Path) -> io::Result<(OwnedFd, OsString)> {
        let rel = relative(rel)?;
        let name = rel
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "an empty path"))?
            .to_os_string();
        let parent = rel.parent().unwrap_or(Path::new(""));
        let dir = self.open_at(parent, libc::O_PATH | libc::O_DIRECTORY, Policy::NoLinks)?;
        Ok((dir, name))
    }

    /// Write `data` to the file `rel` (mode `mode`): its directory reached
    /// with links refused, the file made under a fresh name and renamed
    /// over whatever was at `rel` (a link there is replaced, not followed).
    pub fn write_file(&self, rel: &Path, data: &[u8], mode: u32) -> io::Result<()> {
        use std::io::Write;
        let (dir, name) = self.parent_of(rel)?;
        let show = self.show(&relative(rel)?);
        let mut tmpname = OsString::from(".");
        tmpname.push(&name);
        tmpname.push(".zones-new");
        let tmp = cstr(&tmpname)?;
        let c_name = cstr(&name)?;
        // A stale temporary file from a failed run (unlinkat never follows).
        // SAFETY: dir is a directory descriptor, tmp lives for the call.
        unsafe { libc::unlinkat(dir.as_raw_fd(), tmp.as_ptr(), 0) };
        // SAFETY: as above; O_EXCL|O_NOFOLLOW make a new file or fail.
        let fd = cvt(unsafe {
            libc::openat(
                dir.as_raw_fd(),
                tmp.as_ptr(),
                libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC,
                0o600,
            )
        })
        .map_err(|e| ctx(&show, e))?;
        // SAFETY: a fresh descriptor that nothing else owns.
        let mut f = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) });
        let done = f
            .write_all(data)
            .and_then(|_| f.set_permissions(std::fs::Permissions::from_mode(mode)))
            .and_then(|_| {
                // SAFETY: both names live for the call; renameat never
                // follows a link at the new name, it replaces it.
                cvt(unsafe {
                    libc::renameat(
                        dir.as_raw_fd(),
                        tmp.as_ptr(),
                        dir.as_raw_fd(),
                        c_name.as_ptr(),
                    )
                })
                .map(drop)
            });
        if let Err(e) = done {
            // SAFETY: as above.
            unsafe { libc::unlinkat(dir.as_raw_fd(), tmp.as_ptr(), 0) };
            return Err(ctx(show, e));
        }
        Ok(())
    }

    /// Make the symlink `rel` → `target` unless something is at `rel`
    /// already; its directory reached with links refused.
    pub fn symlink(&self, rel: &Path, target: &Path) -> io::Result<()> {
        let (dir, name) = self.parent_of(rel)?;
        let (t, n) = (cstr(target.as_os_str())?, cstr(&name)?);
        // SAFETY: both strings live for the call; dir is a directory descriptor.
        match cvt(unsafe { libc::symlinkat(t.as_ptr(), dir.as_raw_fd(), n.as_ptr()) }) {
            Ok(_) => Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => Ok(()),
            Err(e) => Err(ctx(self.show(&relative(rel)?), e)),
        }
    }

    /// lstat of `rel` (its directory reached with links refused); None
    /// when nothing is there.
    pub fn lstat(&self, rel: &Path) -> io::Result<Option<libc::stat>> {
        let (dir, name) = match self.parent_of(rel) {
            Ok(x) => x,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let n = cstr(&name)?;
        // SAFETY: st is plain old data written by fstatat.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: dir is a directory descriptor, n and st live for the call.
        match cvt(unsafe {
            libc::fstatat(
                dir.as_raw_fd(),
                n.as_ptr(),
                &mut st,
                libc::AT_SYMLINK_NOFOLLOW,
            )
        }) {
            Ok(_) => Ok(Some(st)),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(None),
            Err(e) => Err(ctx(self.show(&relative(rel)?), e)),
        }
    }
}

/// openat(dir, name, flags | O_NOFOLLOW | O_CLOEXEC): one name, never a link.
/// Give `name` in `dir` the owner of `st`, acting on a link itself
/// (AT_SYMLINK_NOFOLLOW), never on what it names.
fn chown_nofollow(dir: &OwnedFd, name: &CStr, st: &libc::stat) -> io::Result<()> {
    // SAFETY: name lives for the call; plain integer arguments.
    cvt(unsafe {
        libc::fchownat(
            dir.as_raw_fd(),
            name.as_ptr(),
            st.st_uid,
            st.st_gid,
            libc::AT_SYMLINK_NOFOLLOW,
        )
    })
    .map(|_| ())
}

fn openat_nofollow(dir: &OwnedFd, name: &OsStr, flags: i32) -> io::Result<OwnedFd> {
    let n = cstr(name)?;
    // SAFETY: dir is a directory descriptor and n lives for the call.
    let fd = cvt(unsafe {
        libc::openat(
            dir.as_raw_fd(),
            n.as_ptr(),
            flags | libc::O_NOFOLLOW | libc::O_CLOEXEC,
        )
    })?;
    // SAFETY: a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn fstatat_nofollow(dir: &OwnedFd, name: &OsStr) -> io::Result<libc::stat> {
    let n = cstr(name)?;
    // SAFETY: st is plain old data written by fstatat.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: dir is a directory descriptor, n and st live for the call.
    cvt(unsafe {
        libc::fstatat(
            dir.as_raw_fd(),
            n.as_ptr(),
            &mut st,
            libc::AT_SYMLINK_NOFOLLOW,
        )
    })?;
    Ok(st)
}

/// Owner, mode and times of `st` onto the open file `fd` (chown first: it
/// clears the setuid bits), then its extended attributes from `src` (file
/// capabilities: set after chown, which drops them).
fn set_meta(fd: &OwnedFd, st: &libc::stat, src: Option<&OwnedFd>) -> io::Result<()> {
    // SAFETY: fd is a descriptor we own; plain integer arguments.
    cvt(unsafe { libc::fchown(fd.as_raw_fd(), st.st_uid, st.st_gid) })?;
    // SAFETY: as above.
    cvt(unsafe { libc::fchmod(fd.as_raw_fd(), st.st_mode & 0o7777) })?;
    if let Some(src) = src {
        copy_xattrs(src, fd)?;
    }
    let times = [
        libc::timespec {
            tv_sec: st.st_atime,
            tv_nsec: st.st_atime_nsec,
        },
        libc::timespec {
            tv_sec: st.st_mtime,
            tv_nsec: st.st_mtime_nsec,
        },
    ];
    // SAFETY: times is an array of two timespecs that lives for the call.
    cvt(unsafe { libc::futimens(fd.as_raw_fd(), times.as_ptr()) })?;
    Ok(())
}

fn copy_xattrs(src: &OwnedFd, dst: &OwnedFd) -> io::Result<()> {
    let mut names = vec![0u8; 4096];
    // SAFETY: the buffer is writable for its length.
    let n = unsafe { libc::flistxattr(src.as_raw_fd(), names.as_mut_ptr().cast(), names.len()) };
    if n < 0 {
        let e = io::Error::last_os_error();
        return if e.raw_os_error() == Some(libc::ENOTSUP) {
            Ok(())
        } else {
            Err(e)
        };
    }
    names.truncate(n as usize);
    let mut val = vec![0u8; 65536];
    for name in names.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let cname = CString::new(name).expect("split at NUL");
        // SAFETY: cname and val live for the call; val is writable for its length.
        let len = unsafe {
            libc::fgetxattr(
                src.as_raw_fd(),
                cname.as_ptr(),
                val.as_mut_ptr().cast(),
                val.len(),
            )
        };
        if len < 0 {
            continue;
        }
        // SAFETY: as above, reading len bytes of val.
        let r = unsafe {
            libc::fsetxattr(
                dst.as_raw_fd(),
                cname.as_ptr(),
                val.as_ptr().cast(),
                len as usize,
                0,
            )
        };
        if r != 0 {
            let e = io::Error::last_os_error();
            // A file system without that namespace (a tmpfs and `user.`).
            if e.raw_os_error() != Some(libc::ENOTSUP) {
                return Err(io::Error::new(
                    e.kind(),
                    format!("extended attribute {}: {e}", String::from_utf8_lossy(name)),
                ));
            }
        }
    }
    Ok(())
}

/// ioctl FICLONE (linux/fs.h: _IOW(0x94, 9, int)).
const FICLONE: libc::Ioctl = 0x4004_9409;

/// Copy the tree under `src` into `dst` (an empty directory), preserving
/// owners, modes, times, extended attributes and device numbers; links
/// are copied as links, hard links become separate copies, and nothing is
/// ever followed (module comment).
pub fn copy_tree(src: &Root, dst: &Root) -> io::Result<()> {
    let s = openat2(
        src.fd.as_raw_fd(),
        Path::new("."),
        libc::O_RDONLY | libc::O_DIRECTORY,
        0,
        Policy::NoLinks.resolve(),
    )
    .map_err(|e| ctx(src.path.display(), e))?;
    let d = openat2(
        dst.fd.as_raw_fd(),
        Path::new("."),
        libc::O_RDONLY | libc::O_DIRECTORY,
        0,
        Policy::NoLinks.resolve(),
    )
    .map_err(|e| ctx(dst.path.display(), e))?;
    copy_dir(&s, &d, &src.path, &dst.path)?;
    let st = s.stat()?;
    set_meta(&d, &st, Some(&s)).map_err(|e| ctx(dst.path.display(), e))
}

fn copy_dir(s: &OwnedFd, d: &OwnedFd, spath: &Path, dpath: &Path) -> io::Result<()> {
    // Reading the directory through its descriptor's name reads exactly it.
    let mut names: Vec<OsString> = std::fs::read_dir(s.proc_path())
        .map_err(|e| ctx(spath.display(), e))?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<io::Result<_>>()
        .map_err(|e| ctx(spath.display(), e))?;
    names.sort();
    for name in names {
        let (sp, dp) = (spath.join(&name), dpath.join(&name));
        let st = fstatat_nofollow(s, &name).map_err(|e| ctx(sp.display(), e))?;
        let n = cstr(&name)?;
        let fmt = st.st_mode & libc::S_IFMT;
        match fmt {
            libc::S_IFDIR => {
                // SAFETY: d is a directory descriptor, n lives for the call.
                cvt(unsafe { libc::mkdirat(d.as_raw_fd(), n.as_ptr(), 0o700) })
                    .map_err(|e| ctx(dp.display(), e))?;
                let sd = openat_nofollow(s, &name, libc::O_RDONLY | libc::O_DIRECTORY)
                    .map_err(|e| ctx(sp.display(), e))?;
                let dd = openat_nofollow(d, &name, libc::O_RDONLY | libc::O_DIRECTORY)
                    .map_err(|e| ctx(dp.display(), e))?;
                copy_dir(&sd, &dd, &sp, &dp)?;
                set_meta(&dd, &st, Some(&sd)).map_err(|e| ctx(dp.display(), e))?;
            }
            libc::S_IFREG => {
                let sf = openat_nofollow(s, &name, libc::O_RDONLY | libc::O_NONBLOCK)
                    .map_err(|e| ctx(sp.display(), e))?;
                // The name may have been replaced since the fstatat.
                if sf.stat()?.st_mode & libc::S_IFMT != libc::S_IFREG {
                    return Err(io::Error::other(format!(
                        "{}: changed while copying",
                        sp.display()
                    )));
                }
                // SAFETY: d is a directory descriptor, n lives for the call.
                let fd = cvt(unsafe {
                    libc::openat(
                        d.as_raw_fd(),
                        n.as_ptr(),
                        libc::O_WRONLY
                            | libc::O_CREAT
                            | libc::O_EXCL
                            | libc::O_NOFOLLOW
                            | libc::O_CLOEXEC,
                        0o600,
                    )
                })
                .map_err(|e| ctx(dp.display(), e))?;
                // SAFETY: a fresh descriptor that nothing else owns.
                let df = unsafe { OwnedFd::from_raw_fd(fd) };
                let (mut r, mut w) = (
                    std::fs::File::from(sf.try_clone()?),
                    std::fs::File::from(df.try_clone()?),
                );
                // A reflink where the file system shares extents (btrfs,
                // xfs): clone copies a root in moments; else a copy
                // (copy_file_range beneath std's copy).
                // SAFETY: two descriptors we own; FICLONE takes the source fd.
                let cloned = unsafe { libc::ioctl(df.as_raw_fd(), FICLONE, sf.as_raw_fd()) } == 0;
                if !cloned {
                    std::io::copy(&mut r, &mut w).map_err(|e| ctx(dp.display(), e))?;
                }
                set_meta(&df, &st, Some(&sf)).map_err(|e| ctx(dp.display(), e))?;
            }
            libc::S_IFLNK => {
                let mut buf = vec![0u8; libc::PATH_MAX as usize];
                // SAFETY: buf is writable for its length; n lives for the call.
                let len = unsafe {
                    libc::readlinkat(
                        s.as_raw_fd(),
                        n.as_ptr(),
                        buf.as_mut_ptr().cast(),
                        buf.len(),
                    )
                };
                if len < 0 {
                    return Err(ctx(sp.display(), io::Error::last_os_error()));
                }
                buf.truncate(len as usize);
                let t = CString::new(buf).map_err(|_| io::Error::other("NUL in a link"))?;
                // SAFETY: t and n live for the call.
                cvt(unsafe { libc::symlinkat(t.as_ptr(), d.as_raw_fd(), n.as_ptr()) })
                    .map_err(|e| ctx(dp.display(), e))?;
                chown_nofollow(d, &n, &st).map_err(|e| ctx(dp.display(), e))?;
            }
            _ => {
                // Devices, fifos, sockets: made anew (mode without the
                // umask after, owner, never through a link: AT_SYMLINK_NOFOLLOW
                // where it exists, and the node was made by us just now).
                // SAFETY: n lives for the call; plain integer arguments.
                cvt(unsafe { libc::mknodat(d.as_raw_fd(), n.as_ptr(), st.st_mode, st.st_rdev) })
                    .map_err(|e| ctx(dp.display(), e))?;
                chown_nofollow(d, &n, &st).map_err(|e| ctx(dp.display(), e))?;
                let p =
                    openat_nofollow(d, &name, libc::O_PATH).map_err(|e| ctx(dp.display(), e))?;
                std::fs::set_permissions(
                    p.proc_path(),
                    std::fs::Permissions::from_mode(st.st_mode & 0o7777),
                )
                .map_err(|e| ctx(dp.display(), e))?;
            }
        }
    }
    Ok(())
}

/// The zone-path rule (module comment): unless `root` is `/`, some
/// ancestor directory of its real path must be owned by root and closed to
/// group and others (mode & 0o011 == 0). The real path (links resolved, by
/// the host's own links) is tested component by component with lstat.
pub fn check_private(zone: &str, root: &Path) -> Result<(), String> {
    let real = std::fs::canonicalize(root)
        .map_err(|e| format!("zone '{zone}': root {}: {e}", root.display()))?;
    match real.parent() {
        None => Ok(()),
        Some(parent) => check_dirs(zone, &real, parent),
    }
}

/// `dir` (a real path) or one of its ancestors is a private directory;
/// else the message that names `root`, the first open directory and the fix.
fn check_dirs(zone: &str, root: &Path, dir: &Path) -> Result<(), String> {
    let mut first: Option<(PathBuf, u32)> = None;
    for anc in dir.ancestors() {
        let m = std::fs::symlink_metadata(anc)
            .map_err(|e| format!("zone '{zone}': {}: {e}", anc.display()))?;
        if m.is_dir() && m.uid() == 0 && m.mode() & 0o011 == 0 {
            return Ok(());
        }
        if first.is_none() {
            first = Some((anc.to_path_buf(), m.mode() & 0o7777));
        }
    }
    let (through, mode) = first.unwrap_or_else(|| (PathBuf::from("/"), 0o755));
    Err(format!(
        "zone '{zone}': root {} is reachable by other users through {} (mode {mode:04o}): make a parent directory of the root 0700 (illumos: zonepath 0700 with the root beneath it)",
        root.display(),
        through.display()
    ))
}

/// Would a root at `root` be private once [`prepare`] made what is missing
/// (the directories above it 0700)? Asked before anything is made.
fn will_be_private(zone: &str, root: &Path) -> Result<(), String> {
    if std::fs::symlink_metadata(root).is_ok() {
        return check_private(zone, root);
    }
    let Some(parent) = root.parent() else {
        return Ok(());
    };
    match std::fs::canonicalize(parent) {
        // A directory above the root is made, 0700 and root's.
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("zone '{zone}': {}: {e}", parent.display())),
        Ok(real) => check_dirs(
            zone,
            &real.join(root.file_name().unwrap_or_default()),
            &real,
        ),
    }
}

/// The zone-path rule at ready (the runtime calls it before it makes
/// anything, so a refused zone leaves nothing behind), and for a nested
/// zone, that its root (links resolved) lies beneath its parent's root as
/// the parent's zsched holds it (`/proc/PID/root`): a link the parent zone
/// planted after create cannot carry the child elsewhere.
pub fn check_zone_root(
    spec: &crate::runtime::ZoneSpec,
) -> Result<(), crate::runtime::RuntimeError> {
    let zone = spec.name.as_str();
    // The caller's error names the zone already, and the step says `root`.
    let prefix = format!("zone '{zone}': ");
    let bad = |m: String| {
        let m = m.strip_prefix(&prefix).map(str::to_string).unwrap_or(m);
        let m = m.strip_prefix("root ").map(str::to_string).unwrap_or(m);
        crate::runtime::RuntimeError::new("root", m)
    };
    check_private(zone, &spec.root).map_err(bad)?;
    if let Some(parent) = &spec.parent {
        let proot = std::fs::metadata(format!("/proc/{}/root", parent.zsched_pid))
            .map_err(|e| bad(format!("zone '{zone}': the parent zone's root: {e}")))?;
        let real = std::fs::canonicalize(&spec.root)
            .map_err(|e| bad(format!("zone '{zone}': root {}: {e}", spec.root.display())))?;
        let inside = real.ancestors().any(|a| {
            std::fs::symlink_metadata(a)
                .is_ok_and(|m| (m.dev(), m.ino()) == (proot.dev(), proot.ino()))
        });
        if !inside {
            return Err(bad(format!(
                "zone '{zone}': root {} resolves to {}, outside its parent zone's root",
                spec.root.display(),
                real.display()
            )));
        }
    }
    Ok(())
}

/// Make the root `root` of zone `zone` for install or clone: the missing
/// directories above it 0700 (illumos layout: a `<zonepath>` 0700 holding
/// `root`), the root 0755; refused, with nothing made, when the root would
/// be reachable by other users ([`check_private`]).
pub fn prepare(zone: &str, root: &Path) -> Result<Root, String> {
    if !root.is_absolute() {
        return Err(format!(
            "zone '{zone}': path {} is not absolute",
            root.display()
        ));
    }
    relative(root).map_err(|e| format!("zone '{zone}': {e}"))?;
    if std::fs::symlink_metadata(root).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(format!(
            "zone '{zone}': root {} is a symbolic link: name the directory itself",
            root.display()
        ));
    }
    will_be_private(zone, root)?;
    let (base, rest) = split_at_private(root);
    let b = Root::open(&base).map_err(|e| format!("zone '{zone}': {e}"))?;
    if let Some(parent) = rest.parent().filter(|p| !p.as_os_str().is_empty()) {
        b.mkdir_all(parent, 0o700, Policy::NoLinks)
            .map_err(|e| format!("zone '{zone}': {e}"))?;
    }
    let fd = b
        .mkdir_all(&rest, 0o755, Policy::NoLinks)
        .map_err(|e| format!("zone '{zone}': {e}"))?;
    check_private(zone, root)?;
    Ok(Root {
        fd,
        path: root.to_path_buf(),
    })
}

/// `root` split where the host's administrator's part of the path ends:
/// at the first directory, from the top, that is private (its real path
/// root's and closed to others: no zone's root user can rename or link
/// what lies above it, nor does one control it), or else at the deepest
/// one that exists (everything below is made now). Links are the
/// administrator's business above the split and refused below it.
fn split_at_private(root: &Path) -> (PathBuf, PathBuf) {
    let mut deepest = PathBuf::from("/");
    let mut prefix = PathBuf::from("/");
    for c in root.components().skip(1) {
        prefix.push(c);
        if prefix == root {
            break;
        }
        let Ok(real) = std::fs::canonicalize(&prefix) else {
            break;
        };
        deepest = prefix.clone();
        if std::fs::metadata(&real)
            .is_ok_and(|m| m.is_dir() && m.uid() == 0 && m.mode() & 0o011 == 0)
        {
            break;
        }
    }
    let rest = root.strip_prefix(&deepest).unwrap_or(root).to_path_buf();
    (deepest, rest)
}

/// Open an existing zone root the way [`prepare`] makes one: links refused
/// beneath the first private directory above it (a parent zone's link
/// cannot make the host read, copy or remove another tree).
pub fn open_root(root: &Path) -> io::Result<Root> {
    let (base, rest) = split_at_private(root);
    let b = Root::open(&base)?;
    let fd = b.open_at(&rest, libc::O_PATH | libc::O_DIRECTORY, Policy::NoLinks)?;
    Ok(Root {
        fd,
        path: root.to_path_buf(),
    })
}

/// A mount point the host mounts on itself (jail(8)'s `mount` lines, run
/// by mount(8) in the host's namespace) resolved for zone root `root`: a
/// point beneath the root is followed inside it ([`Policy::InRoot`]), must
/// exist and not be a link, and is returned as its real path, which holds
/// no link to follow. A point elsewhere (or a root of `/`) is the
/// administrator's own and is returned as it is.
pub fn host_mount_point(root: &Path, point: &Path) -> io::Result<PathBuf> {
    let Ok(below) = point.strip_prefix(root) else {
        return Ok(point.to_path_buf());
    };
    if root == Path::new("/") {
        return Ok(point.to_path_buf());
    }
    let rel = relative(below)?;
    let r = open_root(root)?;
    let fd = r.open_at(&rel, libc::O_PATH | libc::O_NOFOLLOW, Policy::InRoot)?;
    if fd.stat()?.st_mode & libc::S_IFMT == libc::S_IFLNK {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{}: is a symbolic link", point.display()),
        ));
    }
    fd.real_path()
}

/// A nested zone's root `child` resolved from its parent's root
/// `parent_root`: the part below the parent's root is followed inside it
/// ([`Policy::InRoot`]), so a link the parent zone controls cannot lead the
/// child out. Returns the host path it resolved to (beneath the parent's
/// real root); a path that does not exist yet stays as written (it has
/// no links to follow), and is resolved again when it does.
pub fn nested_root(parent_root: &Path, child: &Path) -> io::Result<PathBuf> {
    let below = child.strip_prefix(parent_root).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not under {}", child.display(), parent_root.display()),
        )
    })?;
    let below = relative(below)?;
    let root = match Root::open(parent_root) {
        Ok(r) => r,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(child.to_path_buf()),
        Err(e) => return Err(e),
    };
    let fd = match root.open_at(&below, libc::O_PATH, Policy::InRoot) {
        Ok(fd) => fd,
        // Missing: fine only if no link is on the way (a link whose target
        // is missing in the root would be followed elsewhere by a path).
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return match root.open_at(&below, libc::O_PATH, Policy::NoLinks) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(child.to_path_buf()),
                Err(e) => Err(e),
                Ok(_) => Err(io::Error::other(format!(
                    "{}: changed while resolved",
                    child.display()
                ))),
            };
        }
        Err(e) => return Err(e),
    };
    let (real, proot) = (fd.real_path()?, root.fd.real_path()?);
    if !real.starts_with(&proot) {
        // The parent's root itself moved meanwhile.
        return Err(io::Error::other(format!(
            "{} resolved to {}, outside {}",
            child.display(),
            real.display(),
            proot.display()
        )));
    }
    Ok(parent_root.join(real.strip_prefix(&proot).expect("checked")))
}

/// OsString from bytes (tests).
#[cfg(test)]
fn os(b: &[u8]) -> OsString {
    use std::os::unix::ffi::OsStringExt;
    OsString::from_vec(b.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::symlink;

    struct T {
        _t: tempfile::TempDir,
        root: PathBuf,
        host: PathBuf,
    }

    /// A root and, beside it, a "host" directory holding a file.
    fn setup() -> T {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("root");
        let host = t.path().join("host");
        fs::create_dir_all(root.join("etc")).unwrap();
        fs::create_dir(&host).unwrap();
        fs::write(host.join("passwd"), "host\n").unwrap();
        T { root, host, _t: t }
    }

    fn host_unchanged(t: &T) {
        let names: Vec<_> = fs::read_dir(&t.host)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [os(b"passwd")]);
        assert_eq!(fs::read_to_string(t.host.join("passwd")).unwrap(), "host\n");
    }

    #[test]
    fn a_link_in_the_middle_to_a_host_dir_is_refused_for_writes() {
        let t = setup();
        fs::remove_dir(t.root.join("etc")).unwrap();
        symlink(&t.host, t.root.join("etc")).unwrap();
        let r = Root::open(&t.root).unwrap();
        let e = r
            .write_file(Path::new("etc/passwd"), b"zone\n", 0o644)
            .unwrap_err();
        assert!(e.to_string().contains("refused"), "{e}");
        assert!(
            r.mkdir_all(Path::new("etc/x"), 0o755, Policy::NoLinks)
                .is_err()
        );
        assert!(r.symlink(Path::new("etc/y"), Path::new("/")).is_err());
        host_unchanged(&t);
    }

    #[test]
    fn a_final_link_is_replaced_not_written_through() {
        let t = setup();
        symlink(t.host.join("passwd"), t.root.join("etc/passwd")).unwrap();
        let r = Root::open(&t.root).unwrap();
        r.write_file(Path::new("/etc/passwd"), b"zone\n", 0o640)
            .unwrap();
        let m = fs::symlink_metadata(t.root.join("etc/passwd")).unwrap();
        assert!(m.is_file());
        assert_eq!(m.mode() & 0o777, 0o640);
        assert_eq!(
            fs::read_to_string(t.root.join("etc/passwd")).unwrap(),
            "zone\n"
        );
        host_unchanged(&t);
        // A hard link to a file outside is replaced as well.
        fs::remove_file(t.root.join("etc/passwd")).unwrap();
        fs::hard_link(t.host.join("passwd"), t.root.join("etc/passwd")).unwrap();
        r.write_file(Path::new("etc/passwd"), b"zone\n", 0o644)
            .unwrap();
        host_unchanged(&t);
    }

    #[test]
    fn dotdot_and_absolute_links_stay_in_the_root_or_are_refused() {
        let t = setup();
        symlink("../../host", t.root.join("up")).unwrap();
        symlink(&t.host, t.root.join("abs")).unwrap();
        let r = Root::open(&t.root).unwrap();
        // `..` in the path itself is refused outright.
        assert!(
            r.open_at(Path::new("etc/../../host"), libc::O_PATH, Policy::InRoot)
                .is_err()
        );
        assert!(
            r.write_file(Path::new("../host/passwd"), b"x", 0o644)
                .is_err()
        );
        // Links: refused with NoLinks, clamped inside with InRoot.
        for l in ["up", "abs"] {
            assert!(
                r.open_at(Path::new(l), libc::O_PATH, Policy::NoLinks)
                    .is_err()
            );
            match r.open_at(&Path::new(l).join("passwd"), libc::O_RDONLY, Policy::InRoot) {
                Err(e) => assert_eq!(e.kind(), io::ErrorKind::NotFound, "{e}"),
                Ok(fd) => panic!("{l} reached {:?}", fd.real_path()),
            }
            // Their targets do not exist inside the root: nothing is made.
            assert!(
                r.mkdir_all(&Path::new(l).join("made"), 0o755, Policy::InRoot)
                    .is_err()
            );
        }
        // A link to /etc is the root's etc, not the host's.
        symlink("/etc", t.root.join("inside")).unwrap();
        let d = r
            .mkdir_all(Path::new("inside/made"), 0o755, Policy::InRoot)
            .unwrap();
        let real = fs::canonicalize(&t.root).unwrap();
        assert_eq!(d.real_path().unwrap(), real.join("etc/made"));
        assert!(!Path::new("/etc/made").exists());
        host_unchanged(&t);
    }

    #[test]
    fn mkdir_all_makes_each_missing_directory_with_its_mode() {
        let t = setup();
        let r = Root::open(&t.root).unwrap();
        let fd = r
            .mkdir_all(Path::new("a/b/c"), 0o711, Policy::NoLinks)
            .unwrap();
        assert_eq!(
            fd.real_path().unwrap(),
            fs::canonicalize(t.root.join("a/b/c")).unwrap()
        );
        assert_eq!(
            fs::metadata(t.root.join("a/b")).unwrap().mode() & 0o777,
            0o711
        );
        r.symlink(Path::new("a/l"), Path::new("/etc")).unwrap();
        assert_eq!(
            fs::read_link(t.root.join("a/l")).unwrap(),
            Path::new("/etc")
        );
        assert!(r.lstat(Path::new("a/l")).unwrap().is_some());
        assert!(r.lstat(Path::new("a/none")).unwrap().is_none());
    }

    #[test]
    fn copy_tree_copies_links_as_links_and_reads_nothing_through_them() {
        let t = setup();
        fs::write(t.root.join("etc/hosts"), "h\n").unwrap();
        fs::set_permissions(t.root.join("etc/hosts"), fs::Permissions::from_mode(0o4755)).unwrap();
        symlink(&t.host, t.root.join("hostdir")).unwrap();
        symlink(t.host.join("passwd"), t.root.join("etc/passwd")).unwrap();
        let dst = t._t.path().join("copy");
        fs::create_dir(&dst).unwrap();
        copy_tree(&Root::open(&t.root).unwrap(), &Root::open(&dst).unwrap()).unwrap();
        assert_eq!(fs::read_to_string(dst.join("etc/hosts")).unwrap(), "h\n");
        assert_eq!(
            fs::metadata(dst.join("etc/hosts")).unwrap().mode() & 0o7777,
            0o4755
        );
        assert_eq!(fs::read_link(dst.join("hostdir")).unwrap(), t.host);
        assert_eq!(
            fs::read_link(dst.join("etc/passwd")).unwrap(),
            t.host.join("passwd")
        );
        // Writing the clone's names afterwards does not reach the host.
        let d = Root::open(&dst).unwrap();
        d.write_file(Path::new("etc/passwd"), b"clone\n", 0o644)
            .unwrap();
        assert!(
            d.write_file(Path::new("hostdir/passwd"), b"clone\n", 0o644)
                .is_err()
        );
        host_unchanged(&t);
    }

    #[test]
    fn a_nested_root_is_resolved_inside_its_parents_root() {
        let t = setup();
        symlink(&t.host, t.root.join("child")).unwrap();
        // The link is followed as the parent zone sees it: / is its root,
        // where t.host does not exist: refused, not taken as written.
        let e = nested_root(&t.root, &t.root.join("child")).unwrap_err();
        assert!(e.to_string().contains("refused"), "{e}");
        fs::create_dir(t.root.join("real")).unwrap();
        symlink("/real", t.root.join("viaabs")).unwrap();
        assert_eq!(
            nested_root(&t.root, &t.root.join("viaabs")).unwrap(),
            t.root.join("real")
        );
        assert!(nested_root(&t.root, &t.root.join("../host")).is_err());
        assert!(nested_root(&t.root, &t.host).is_err());
        // Not made yet: kept as written.
        assert_eq!(
            nested_root(&t.root, &t.root.join("new/r")).unwrap(),
            t.root.join("new/r")
        );
    }

    #[test]
    fn prepare_refuses_a_link_beneath_the_private_directory() {
        let t = tempfile::Builder::new()
            .permissions(fs::Permissions::from_mode(0o700))
            .tempdir()
            .unwrap();
        let (zp, host) = (t.path().join("zones"), t.path().join("hostdir"));
        fs::create_dir_all(zp.join("parent/root")).unwrap();
        fs::create_dir(&host).unwrap();
        // The parent zone links a name in its root to a private host dir.
        symlink(&host, zp.join("parent/root/sub")).unwrap();
        let e = prepare("p.c", &zp.join("parent/root/sub/deeper/c")).unwrap_err();
        assert!(e.contains("refused"), "{e}");
        assert!(fs::read_dir(&host).unwrap().next().is_none());
        assert!(open_root(&zp.join("parent/root/sub")).is_err());
        // A link above the private directory is the administrator's own.
        fs::set_permissions(t.path(), fs::Permissions::from_mode(0o755)).unwrap();
        fs::set_permissions(&zp, fs::Permissions::from_mode(0o700)).unwrap();
        symlink(&zp, t.path().join("alias")).unwrap();
        let r = prepare("z", &t.path().join("alias/z/root")).unwrap();
        assert_eq!(
            r.fd.real_path().unwrap(),
            fs::canonicalize(zp.join("z/root")).unwrap()
        );
        assert_eq!(fs::metadata(zp.join("z")).unwrap().mode() & 0o777, 0o700);
        open_root(&t.path().join("alias/z/root")).unwrap();
        fs::set_permissions(t.path(), fs::Permissions::from_mode(0o700)).unwrap();
    }

    #[test]
    fn a_host_mount_point_beneath_a_root_is_resolved_inside_it() {
        let t = setup();
        fs::create_dir(t.root.join("mnt")).unwrap();
        symlink(&t.host, t.root.join("mnt/out")).unwrap();
        symlink("/etc", t.root.join("mnt/in")).unwrap();
        assert!(host_mount_point(&t.root, &t.root.join("mnt/out")).is_err());
        assert!(host_mount_point(&t.root, &t.root.join("mnt/out/x")).is_err());
        // A final link is refused; one on the way is followed inside.
        assert!(host_mount_point(&t.root, &t.root.join("mnt/in")).is_err());
        fs::create_dir(t.root.join("etc/sub")).unwrap();
        let real = fs::canonicalize(&t.root).unwrap();
        assert_eq!(
            host_mount_point(&t.root, &t.root.join("mnt/in/sub")).unwrap(),
            real.join("etc/sub")
        );
        assert_eq!(
            host_mount_point(&t.root, Path::new("/elsewhere")).unwrap(),
            Path::new("/elsewhere")
        );
    }

    #[test]
    fn the_zone_path_must_be_closed_to_other_users() {
        let t = tempfile::tempdir().unwrap();
        fs::set_permissions(t.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let open = t.path().join("open/root");
        fs::create_dir_all(&open).unwrap();
        let e = check_private("web", &open).unwrap_err();
        assert!(e.starts_with("zone 'web': root "), "{e}");
        assert!(
            e.contains("make a parent directory of the root 0700"),
            "{e}"
        );
        fs::set_permissions(t.path().join("open"), fs::Permissions::from_mode(0o700)).unwrap();
        check_private("web", &open).unwrap();
        check_private("g", Path::new("/")).unwrap();
        // prepare makes the missing directories above the root 0700.
        fs::set_permissions(t.path().join("open"), fs::Permissions::from_mode(0o755)).unwrap();
        let e = prepare("web", &t.path().join("open/other")).unwrap_err();
        assert!(e.contains("reachable by other users"), "{e}");
        assert!(!t.path().join("open/other").exists());
        prepare("web", &t.path().join("open/zp/root")).unwrap();
        assert_eq!(
            fs::metadata(t.path().join("open/zp")).unwrap().mode() & 0o777,
            0o700
        );
        assert_eq!(
            fs::metadata(t.path().join("open/zp/root")).unwrap().mode() & 0o777,
            0o755
        );
    }
}
