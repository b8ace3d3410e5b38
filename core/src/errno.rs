//! # The errno numbers the errors carry
//!
//! Every [`crate::Error`] maps to an errno ([`crate::Error::errno`]), the
//! one jail(2) and zone(2) callers would see, and a runtime error may
//! carry the kernel's own. The pure crate names them here rather than
//! through libc (it makes no system calls, so it links no C bindings);
//! the numbers are Linux's (asm-generic/errno-base.h, errno.h), the same
//! on every architecture we build for. core/tests/errno.rs checks each
//! against the C library's.

pub const EPERM: i32 = 1;
pub const ENOENT: i32 = 2;
pub const EIO: i32 = 5;
pub const EAGAIN: i32 = 11;
pub const EACCES: i32 = 13;
pub const EFAULT: i32 = 14;
pub const EBUSY: i32 = 16;
pub const EEXIST: i32 = 17;
pub const EINVAL: i32 = 22;
pub const ENOSPC: i32 = 28;
pub const EROFS: i32 = 30;
pub const ENAMETOOLONG: i32 = 36;
pub const EPROTO: i32 = 71;
pub const EADDRINUSE: i32 = 98;
pub const ESHUTDOWN: i32 = 108;
pub const ETIMEDOUT: i32 = 110;
pub const EDQUOT: i32 = 122;
