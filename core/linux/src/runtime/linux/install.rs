//! # Installing a zone root
//!
//! `sparse`: a skeleton the launcher completes at ready with read-only bind
//! mounts of the host's /usr, /bin, /sbin, /lib, /lib64 ([`super::mounts`]).
//! Install makes the directories, reproduces the host's symlinks for those
//! of them that are symlinks (Debian 12: /bin → usr/bin), and writes a
//! minimal private /etc: passwd, group, shadow, hosts, resolv.conf (the
//! host's), nsswitch.conf, hostname. It takes milliseconds.
//!
//! `whole`: an OS is installed by [`super::osinstall`] (zoneadm's hook);
//! a root filled by hand is used as it is.
//!
//! The root is made as illumos makes a zonepath: the directories above it
//! that do not exist yet 0700, so no other host user reaches a setuid file
//! made inside; a root other users could reach is refused
//! ([`super::inroot::prepare`]). Everything beneath it is written through
//! the root's descriptor with links refused ([`super::inroot`]): a zone
//! that replaced `etc` with a link to a host directory gets an install
//! that fails naming it, not the host's passwd rewritten. [`clone`] copies
//! by descriptors the same way.
//!
//! [`uninstall`] removes a root, refusing while anything is mounted at or
//! beneath it (it never crosses into a mount), and never follows symlinks.

use super::inroot::{self, Policy};
use super::mounts::SPARSE_DIRS;
use std::fs;
use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;

fn with_path(p: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", p.display()))
}

/// Make a sparse root skeleton at `root` for the zone named `name`.
///
/// The directories above the root that do not exist yet are made 0700
/// and the root must come out private ([`inroot::prepare`]). Everything
/// beneath the root is made through [`inroot::Root`], links refused: over a root
/// the zone already used (reinstall), an `etc` (or any name) the zone
/// replaced with a link to a host directory makes install fail, naming it,
/// with nothing written there; a file the zone replaced with a link is
/// replaced in turn, never written through.
pub fn sparse(root: &Path, name: &str) -> io::Result<()> {
    let r = inroot::prepare(name, root).map_err(io::Error::other)?;
    let top = r.open_at(
        Path::new("."),
        libc::O_RDONLY | libc::O_DIRECTORY,
        Policy::NoLinks,
    )?;
    // SAFETY: a directory descriptor we own; a plain mode.
    if unsafe { libc::fchmod(top.as_raw_fd(), 0o755) } != 0 {
        return Err(with_path(root, io::Error::last_os_error()));
    }
    for d in SPARSE_DIRS {
        let host = Path::new("/").join(d);
        let Ok(meta) = fs::symlink_metadata(&host) else {
            continue;
        };
        if r.lstat(Path::new(d))?.is_some() {
            continue;
        }
        if meta.file_type().is_symlink() {
            let target = fs::read_link(&host).map_err(|e| with_path(&host, e))?;
            r.symlink(Path::new(d), &target)?;
        } else {
            r.mkdir_all(Path::new(d), 0o755, Policy::NoLinks)?;
        }
    }
    for (d, mode) in [
        ("etc", 0o755),
        ("dev", 0o755),
        ("proc", 0o555),
        ("sys", 0o555),
        ("tmp", 0o1777),
        ("var", 0o755),
        ("var/tmp", 0o1777),
        ("var/log", 0o755),
        ("run", 0o755),
        ("root", 0o700),
        ("home", 0o755),
        ("mnt", 0o755),
        ("opt", 0o755),
        ("srv", 0o755),
    ] {
        if r.lstat(Path::new(d))?.is_none() {
            r.mkdir_all(Path::new(d), mode, Policy::NoLinks)?;
        }
    }
    let resolv = fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let files: [(&str, String, u32); 8] = [
        (
            "etc/passwd",
            "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n".into(),
            0o644,
        ),
        ("etc/group", "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n".into(), 0o644),
        ("etc/shadow", "root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n".into(), 0o640),
        ("etc/hosts", format!("127.0.0.1\tlocalhost\n127.0.1.1\t{name}\n::1\tlocalhost ip6-localhost ip6-loopback\n"), 0o644),
        ("etc/resolv.conf", resolv, 0o644),
        ("etc/nsswitch.conf", "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\nprotocols: files\nservices: files\n".into(), 0o644),
        ("etc/hostname", format!("{name}\n"), 0o644),
        ("etc/shells", "/bin/sh\n/bin/bash\n/usr/bin/sh\n/usr/bin/bash\n".into(), 0o644),
    ];
    for (f, text, mode) in files {
        r.write_file(Path::new(f), text.as_bytes(), mode)?;
    }
    Ok(())
}

/// Install zone `name` at `to` as a copy of the root `from` (`zoneadm
/// clone`): `to` made as install makes it ([`inroot::prepare`]), must be
/// empty; the tree copied descriptor by descriptor ([`inroot::copy_tree`]:
/// links copied as links, never followed); then the clone's
/// `etc/hostname` names it and an `etc/machine-id` is emptied (a new
/// machine), written with links refused (a clone of a
/// source whose `etc` is a link fails there, having written nothing
/// through it). A root with no `etc` (a whole root not holding an OS yet)
/// gets none.
pub fn clone(from: &Path, to: &Path, name: &str) -> io::Result<()> {
    let src = inroot::open_root(from)?;
    let dst = inroot::prepare(name, to).map_err(io::Error::other)?;
    if fs::read_dir(to)
        .map_err(|e| with_path(to, e))?
        .next()
        .is_some()
    {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{}: is already populated", to.display()),
        ));
    }
    inroot::copy_tree(&src, &dst)?;
    if dst.lstat(Path::new("etc"))?.is_none() {
        return Ok(());
    }
    dst.write_file(
        Path::new("etc/hostname"),
        format!("{name}\n").as_bytes(),
        0o644,
    )?;
    // A booted whole zone has a machine id: the clone gets none, and its
    // systemd makes its own at first boot (an empty file says so).
    if dst.lstat(Path::new("etc/machine-id"))?.is_some() {
        dst.write_file(Path::new("etc/machine-id"), b"", 0o444)?;
    }
    Ok(())
}

/// The mount points of this process's namespace at or under `root`.
pub fn mounts_under(root: &Path) -> Vec<String> {
    crate::mountinfo::read("self")
        .unwrap_or_default()
        .into_iter()
        .filter(|m| m.mount_point.starts_with(root))
        .map(|m| m.mount_point.to_string_lossy().into_owned())
        .collect()
}

/// Remove a zone root. Refuses (EBUSY) while something is mounted there,
/// refuses a root that is itself a symbolic link (a nested zone's parent
/// could have planted it: removing "through" it would remove a host
/// tree), and a root whose real path is not private ([`inroot::check_private`]):
/// a link above it led elsewhere. Removal itself never follows links
/// (std's remove_dir_all works by descriptors).
pub fn uninstall(root: &Path) -> io::Result<()> {
    if fs::symlink_metadata(root).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{}: is a symbolic link; refusing to remove what it points to",
                root.display()
            ),
        ));
    }
    let root = match fs::canonicalize(root) {
        Ok(r) => r,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(with_path(root, e)),
    };
    if root == Path::new("/") {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "refusing to uninstall /",
        ));
    }
    // Links beneath the private directory above the root are refused.
    inroot::open_root(&root)?;
    if let Err(m) = inroot::check_private("", &root) {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "refusing to uninstall: {}",
                m.trim_start_matches("zone '': ")
            ),
        ));
    }
    let busy = mounts_under(&root);
    if !busy.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::ResourceBusy,
            format!("{}: still mounted: {}", root.display(), busy.join(", ")),
        ));
    }
    fs::remove_dir_all(&root).map_err(|e| with_path(&root, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{PermissionsExt, symlink};

    /// A host directory with one file, to check nothing reached it.
    fn host_dir(t: &tempfile::TempDir) -> std::path::PathBuf {
        let h = t.path().join("hostetc");
        fs::create_dir(&h).unwrap();
        fs::write(h.join("passwd"), "host\n").unwrap();
        h
    }

    fn untouched(h: &Path) {
        let names: Vec<_> = fs::read_dir(h)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["passwd"], "{}", h.display());
        assert_eq!(fs::read_to_string(h.join("passwd")).unwrap(), "host\n");
    }

    #[test]
    fn reinstall_over_an_etc_link_to_a_host_dir_writes_nothing_there() {
        let t = tempfile::tempdir().unwrap();
        let h = host_dir(&t);
        let root = t.path().join("zp/root");
        sparse(&root, "web").unwrap();
        fs::remove_dir_all(root.join("etc")).unwrap();
        symlink(&h, root.join("etc")).unwrap();
        let e = sparse(&root, "web").unwrap_err();
        assert!(e.to_string().contains("/etc: a symbolic link"), "{e}");
        untouched(&h);
        // A link at a file (or an absolute one at var) is no way out either.
        fs::remove_file(root.join("etc")).unwrap();
        fs::create_dir(root.join("etc")).unwrap();
        symlink(h.join("passwd"), root.join("etc/passwd")).unwrap();
        symlink(&h, root.join("etc/hosts")).unwrap();
        sparse(&root, "web").unwrap();
        untouched(&h);
        assert!(
            fs::symlink_metadata(root.join("etc/passwd"))
                .unwrap()
                .is_file()
        );
        fs::remove_dir_all(root.join("var")).unwrap();
        symlink(&h, root.join("var")).unwrap();
        assert!(sparse(&root, "web").is_err());
        untouched(&h);
    }

    #[test]
    fn install_makes_the_zonepath_private_and_refuses_an_open_one() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("zones/web/root");
        sparse(&root, "web").unwrap();
        for (p, m) in [
            ("zones", 0o700),
            ("zones/web", 0o700),
            ("zones/web/root", 0o755),
        ] {
            assert_eq!(
                fs::metadata(t.path().join(p)).unwrap().permissions().mode() & 0o777,
                m,
                "{p}"
            );
        }
        fs::set_permissions(t.path(), fs::Permissions::from_mode(0o755)).unwrap();
        fs::set_permissions(t.path().join("zones"), fs::Permissions::from_mode(0o755)).unwrap();
        let e = sparse(&t.path().join("zones/db"), "db").unwrap_err();
        assert!(e.to_string().contains("reachable by other users"), "{e}");
        assert!(!t.path().join("zones/db").exists());
        fs::set_permissions(t.path(), fs::Permissions::from_mode(0o700)).unwrap();
    }

    #[test]
    fn clone_copies_without_following_and_names_the_clone() {
        let t = tempfile::tempdir().unwrap();
        let h = host_dir(&t);
        let from = t.path().join("a/root");
        sparse(&from, "a").unwrap();
        symlink(&h, from.join("srv/hostlink")).unwrap();
        fs::write(
            from.join("etc/machine-id"),
            "0123456789abcdef0123456789abcdef\n",
        )
        .unwrap();
        let to = t.path().join("b/root");
        clone(&from, &to, "b").unwrap();
        assert_eq!(fs::read_to_string(to.join("etc/hostname")).unwrap(), "b\n");
        assert_eq!(fs::read_to_string(to.join("etc/machine-id")).unwrap(), "");
        assert_eq!(
            fs::read_to_string(from.join("etc/hostname")).unwrap(),
            "a\n"
        );
        assert_eq!(fs::read_link(to.join("srv/hostlink")).unwrap(), h);
        assert_eq!(
            fs::read_to_string(to.join("etc/passwd")).unwrap(),
            fs::read_to_string(from.join("etc/passwd")).unwrap()
        );
        // A source whose etc is a link to a host directory: the clone's
        // etc/hostname is not written through it.
        fs::remove_dir_all(from.join("etc")).unwrap();
        symlink(&h, from.join("etc")).unwrap();
        let e = clone(&from, &t.path().join("c/root"), "c").unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        untouched(&h);
        // Cloning into a populated root is refused.
        assert!(clone(&from, &to, "b").is_err());
    }

    #[test]
    fn sparse_install_makes_etc_and_the_hosts_symlinks_and_uninstall_removes_it() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("zp/z");
        sparse(&root, "web").unwrap();
        assert_eq!(
            fs::read_to_string(root.join("etc/hostname")).unwrap(),
            "web\n"
        );
        assert!(
            fs::read_to_string(root.join("etc/passwd"))
                .unwrap()
                .starts_with("root:x:0:0:")
        );
        for d in SPARSE_DIRS {
            let host = Path::new("/").join(d);
            if let Ok(m) = fs::symlink_metadata(&host) {
                let z = fs::symlink_metadata(root.join(d)).unwrap();
                assert_eq!(
                    m.file_type().is_symlink(),
                    z.file_type().is_symlink(),
                    "{d}"
                );
            }
        }
        assert_eq!(
            fs::metadata(root.join("tmp")).unwrap().permissions().mode() & 0o7777,
            0o1777
        );
        // Installing again over an installed root is harmless.
        sparse(&root, "web").unwrap();
        uninstall(&root).unwrap();
        assert!(!root.exists());
        uninstall(&root).unwrap();
    }
}
