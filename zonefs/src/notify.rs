//! # Telling the kernel, and hearing its answer
//!
//! zonefs mounts FUSE itself: it opens `/dev/fuse`, mounts with `fd=` on
//! that descriptor (as fuser's own mount does when run as root) and hands
//! the descriptor to fuser's session. It keeps a duplicate for the
//! notifications it writes, because it needs the kernel's answer to them,
//! which fuser's `Notifier` drops: a FUSE_NOTIFY_DELETE that finds no
//! dentry for the name answers ENOENT, and that means the version named is
//! out of every reader's reach (its dentry was reclaimed, or the name
//! already shows a newer version), so the hold it carries can end now
//! rather than when the kernel gets round to evicting the inode.
//!
//! A notification is one `write(2)` of a `fuse_out_header` whose `error`
//! field carries the notification code and whose `unique` is 0, followed
//! by the code's record (linux/fuse.h). The write returns the kernel's
//! error for it.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;

const FUSE_NOTIFY_INVAL_INODE: i32 = 2;
const FUSE_NOTIFY_INVAL_ENTRY: i32 = 3;
const FUSE_NOTIFY_DELETE: i32 = 6;

/// What a delete found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deleted {
    /// The name named that inode: its dentry is gone, its link count 0;
    /// the kernel forgets it when the last user lets go.
    Found,
    /// No such dentry (or it names another inode): nobody can reach the
    /// inode by that name any more.
    Unreachable,
}

/// The connection, for notifications.
pub struct Kernel {
    dev: File,
}

fn header(len: usize, code: i32) -> Vec<u8> {
    let mut b = Vec::with_capacity(len);
    b.extend_from_slice(&(len as u32).to_ne_bytes());
    b.extend_from_slice(&code.to_ne_bytes());
    b.extend_from_slice(&0u64.to_ne_bytes());
    b
}

impl Kernel {
    pub fn new(dev: File) -> Kernel {
        Kernel { dev }
    }

    fn send(&self, msg: &[u8]) -> io::Result<()> {
        let n = (&self.dev).write(msg)?;
        if n != msg.len() {
            return Err(io::Error::other("short notification write"));
        }
        Ok(())
    }

    /// The record of a delete (exposed for its unit test).
    fn delete_msg(parent: u64, child: u64, name: &[u8]) -> Vec<u8> {
        let len = 16 + 24 + name.len() + 1;
        let mut b = header(len, FUSE_NOTIFY_DELETE);
        b.extend_from_slice(&parent.to_ne_bytes());
        b.extend_from_slice(&child.to_ne_bytes());
        b.extend_from_slice(&(name.len() as u32).to_ne_bytes());
        b.extend_from_slice(&0u32.to_ne_bytes());
        b.extend_from_slice(name);
        b.push(0);
        b
    }

    /// Delete the entry `name` of `parent` if it names `child`.
    pub fn delete(&self, parent: u64, child: u64, name: &OsStr) -> io::Result<Deleted> {
        match self.send(&Self::delete_msg(parent, child, name.as_bytes())) {
            Ok(()) => Ok(Deleted::Found),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(Deleted::Unreachable),
            // A directory that still has entries in use is left in place
            // (its dentry was invalidated all the same).
            Err(e) if e.raw_os_error() == Some(libc::ENOTEMPTY) => Ok(Deleted::Found),
            Err(e) => Err(e),
        }
    }

    /// Drop the cached entry `name` of `parent` (and what hangs below it).
    pub fn inval_entry(&self, parent: u64, name: &OsStr) -> io::Result<()> {
        let name = name.as_bytes();
        let len = 16 + 16 + name.len() + 1;
        let mut b = header(len, FUSE_NOTIFY_INVAL_ENTRY);
        b.extend_from_slice(&parent.to_ne_bytes());
        b.extend_from_slice(&(name.len() as u32).to_ne_bytes());
        b.extend_from_slice(&0u32.to_ne_bytes());
        b.extend_from_slice(name);
        b.push(0);
        match self.send(&b) {
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(()),
            r => r,
        }
    }

    /// Drop the cached attributes (and pages) of an inode.
    pub fn inval_inode(&self, ino: u64) -> io::Result<()> {
        let mut b = header(16 + 24, FUSE_NOTIFY_INVAL_INODE);
        b.extend_from_slice(&ino.to_ne_bytes());
        b.extend_from_slice(&0i64.to_ne_bytes());
        b.extend_from_slice(&0i64.to_ne_bytes());
        match self.send(&b) {
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(()),
            r => r,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delete_record_is_laid_out_as_linux_fuse_h_says() {
        let b = Kernel::delete_msg(1, 0x8000_0000_0000_0007, b"status");
        assert_eq!(b.len(), 16 + 24 + 7);
        assert_eq!(u32::from_ne_bytes(b[0..4].try_into().unwrap()), 47);
        assert_eq!(i32::from_ne_bytes(b[4..8].try_into().unwrap()), 6);
        assert_eq!(u64::from_ne_bytes(b[8..16].try_into().unwrap()), 0);
        assert_eq!(u64::from_ne_bytes(b[16..24].try_into().unwrap()), 1);
        assert_eq!(
            u64::from_ne_bytes(b[24..32].try_into().unwrap()),
            0x8000_0000_0000_0007
        );
        assert_eq!(u32::from_ne_bytes(b[32..36].try_into().unwrap()), 6);
        assert_eq!(&b[40..], b"status\0");
    }
}
