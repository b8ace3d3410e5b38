//! # Installing a zone root
//!
//! `sparse`: a skeleton the launcher completes at ready with read-only bind
//! mounts of the host's /usr, /bin, /sbin, /lib, /lib64 ([`super::mounts`]).
//! Install makes the directories, reproduces the host's symlinks for those
//! of them that are symlinks (Debian 12: /bin → usr/bin), and writes a
//! minimal private /etc: passwd, group, shadow, hosts, resolv.conf (the
//! host's), nsswitch.conf, hostname. It takes milliseconds.
//!
//! `whole`: the root is used as it is; installing an OS into it is the
//! administrator's (or debootstrap's) business.
//!
//! [`uninstall`] removes a root, refusing while anything is mounted at or
//! beneath it (it never crosses into a mount), and never follows symlinks.

use super::mounts::SPARSE_DIRS;
use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn with_path(p: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", p.display()))
}

/// Make a sparse root skeleton at `root` for the zone named `name`.
pub fn sparse(root: &Path, name: &str) -> io::Result<()> {
    fs::create_dir_all(root).map_err(|e| with_path(root, e))?;
    fs::set_permissions(root, fs::Permissions::from_mode(0o755)).map_err(|e| with_path(root, e))?;
    for d in SPARSE_DIRS {
        let host = Path::new("/").join(d);
        let zp = root.join(d);
        let Ok(meta) = fs::symlink_metadata(&host) else {
            continue;
        };
        if fs::symlink_metadata(&zp).is_ok() {
            continue;
        }
        if meta.file_type().is_symlink() {
            let target = fs::read_link(&host).map_err(|e| with_path(&host, e))?;
            std::os::unix::fs::symlink(target, &zp).map_err(|e| with_path(&zp, e))?;
        } else {
            fs::create_dir(&zp).map_err(|e| with_path(&zp, e))?;
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
        let p = root.join(d);
        if !p.exists() {
            fs::create_dir(&p).map_err(|e| with_path(&p, e))?;
            fs::set_permissions(&p, fs::Permissions::from_mode(mode))
                .map_err(|e| with_path(&p, e))?;
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
        let p = root.join(f);
        fs::write(&p, text).map_err(|e| with_path(&p, e))?;
        fs::set_permissions(&p, fs::Permissions::from_mode(mode)).map_err(|e| with_path(&p, e))?;
    }
    Ok(())
}

/// The mount points of this process's namespace at or under `root`.
pub fn mounts_under(root: &Path) -> Vec<String> {
    let mi = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    mi.lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|s| s.replace("\\040", " "))
        .filter(|m| Path::new(m).starts_with(root))
        .collect()
}

/// Remove a zone root. Refuses (EBUSY) while something is mounted there.
pub fn uninstall(root: &Path) -> io::Result<()> {
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

    #[test]
    fn sparse_install_makes_etc_and_the_hosts_symlinks_and_uninstall_removes_it() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("z");
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
