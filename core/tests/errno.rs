//! errno.rs names the numbers the pure crate cannot take from libc; each
//! must be the C library's.

use zones::errno;

#[test]
fn every_errno_is_the_c_librarys() {
    let pairs = [
        (errno::EPERM, libc::EPERM),
        (errno::ENOENT, libc::ENOENT),
        (errno::EIO, libc::EIO),
        (errno::EAGAIN, libc::EAGAIN),
        (errno::EACCES, libc::EACCES),
        (errno::EFAULT, libc::EFAULT),
        (errno::EBUSY, libc::EBUSY),
        (errno::EEXIST, libc::EEXIST),
        (errno::EINVAL, libc::EINVAL),
        (errno::ENOSPC, libc::ENOSPC),
        (errno::EROFS, libc::EROFS),
        (errno::ENAMETOOLONG, libc::ENAMETOOLONG),
        (errno::EPROTO, libc::EPROTO),
        (errno::EADDRINUSE, libc::EADDRINUSE),
        (errno::ESHUTDOWN, libc::ESHUTDOWN),
        (errno::ETIMEDOUT, libc::ETIMEDOUT),
        (errno::EDQUOT, libc::EDQUOT),
    ];
    for (ours, c) in pairs {
        assert_eq!(ours, c);
    }
}
