//! # Life: the mount point before and after
//!
//! zonefs mounts only on an empty directory (it creates a missing one). A
//! zonefs that died without unmounting leaves a mount whose server is gone:
//! every `stat` of it fails with ENOTCONN ("transport endpoint is not
//! connected"); zonefs recognises it and prints the command that clears it
//! instead of stacking a new mount on top. Unmounting tries a plain
//! `umount2` first and falls back to a lazy one (`MNT_DETACH`) when files
//! are still open, so a shutdown never hangs on a reader.

use nix::errno::Errno;
use nix::mount::{MntFlags, umount2};
use std::path::{Path, PathBuf};

/// Why zonefs could not mount or unmount.
#[derive(Debug, thiserror::Error)]
pub enum MountError {
    #[error(
        "zonefs: {0} is a stale mount whose server is gone (transport endpoint is not connected); clear it with: umount -l {0}"
    )]
    Stale(PathBuf),
    #[error("zonefs: {0} is not empty; zonefs mounts only on an empty directory")]
    NotEmpty(PathBuf),
    #[error("zonefs: {0} is not a directory")]
    NotDir(PathBuf),
    #[error("zonefs: {path}: {source}")]
    Mount {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn io_err(path: &Path, e: std::io::Error) -> MountError {
    MountError::Mount {
        path: path.to_path_buf(),
        source: e,
    }
}

/// Check (and create if missing) the mount point.
pub fn check_mountpoint(path: &Path) -> Result<(), MountError> {
    match std::fs::metadata(path) {
        Err(e) if e.raw_os_error() == Some(libc::ENOTCONN) => {
            Err(MountError::Stale(path.to_path_buf()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(path).map_err(|e| io_err(path, e))
        }
        Err(e) => Err(io_err(path, e)),
        Ok(m) if !m.is_dir() => Err(MountError::NotDir(path.to_path_buf())),
        Ok(_) => {
            let mut entries = std::fs::read_dir(path).map_err(|e| {
                if e.raw_os_error() == Some(libc::ENOTCONN) {
                    MountError::Stale(path.to_path_buf())
                } else {
                    io_err(path, e)
                }
            })?;
            if entries.next().is_some() {
                return Err(MountError::NotEmpty(path.to_path_buf()));
            }
            Ok(())
        }
    }
}

/// Unmount `path`; returns whether it was busy (and so lazily detached).
pub fn unmount(path: &Path) -> Result<bool, MountError> {
    match umount2(path, MntFlags::empty()) {
        Ok(()) => Ok(false),
        Err(Errno::EBUSY) => umount2(path, MntFlags::MNT_DETACH)
            .map(|()| true)
            .map_err(|e| io_err(path, e.into())),
        // Already unmounted (by an administrator, or a lazy unmount).
        Err(Errno::EINVAL) | Err(Errno::ENOENT) => Ok(false),
        Err(e) => Err(io_err(path, e.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_non_empty_directory_is_refused_and_a_missing_one_made() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("x"), b"x").unwrap();
        assert!(matches!(
            check_mountpoint(d.path()),
            Err(MountError::NotEmpty(_))
        ));
        let missing = d.path().join("zones");
        check_mountpoint(&missing).unwrap();
        assert!(missing.is_dir());
        let file = d.path().join("x");
        assert!(matches!(
            check_mountpoint(&file),
            Err(MountError::NotDir(_))
        ));
    }

    #[test]
    fn the_stale_message_names_the_command_that_clears_it() {
        let m = MountError::Stale(PathBuf::from("/zones")).to_string();
        assert!(m.contains("umount -l /zones"), "{m}");
    }
}
