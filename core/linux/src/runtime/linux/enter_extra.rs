//! # What a caller of [`super::enter`] may narrow further
//!
//! An entered process gets the zone's limits, bounding set, capabilities
//! and the user's ids and groups from the zone's /etc/passwd and
//! /etc/group ([`super::enter`]). An OCI runtime (`zones-oci`) is asked for
//! more precise settings by config.json's `process`: capability sets,
//! resource limits, a primary group and additional groups, a working
//! directory. [`Extra`] carries them into the entering child, and each is
//! applied only as a *narrowing* of what the zone allows:
//!
//! * limits: each is the lower of the zone's and the asked one, soft and
//!   hard ([`Extra::narrow_limits`], before the fork: the child, which
//!   holds CAP_SYS_RESOURCE until its capabilities fall, could raise);
//! * capabilities: every set is intersected with the zone's set
//!   ([`Extra::apply_caps`]); for a user other than root, the permitted,
//!   inheritable and ambient sets survive the change of ids only through
//!   PR_SET_KEEPCAPS ([`Extra::keep_caps`]), as runc does, and are then
//!   masked at once — a program never runs with more than the zone's
//!   `limitpriv`, whatever it asked;
//! * groups: the asked gid and additional gids replace the ones looked up
//!   in the zone (setgroups is made before the ids change, with the
//!   capability to do it, and the groups are no privilege over the zone's
//!   files beyond what the zone's root already holds);
//! * the working directory: entered (inside the zone's root) last, and a
//!   missing one is an error, as runc's.
//!
//! Everything here runs between fork and exec: system calls only, on data
//! made before the fork.

use super::caps;

/// The five capability sets of OCI's `process.capabilities`, as masks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CapSets {
    pub bounding: u64,
    pub effective: u64,
    pub permitted: u64,
    pub inheritable: u64,
    pub ambient: u64,
}

/// Narrowings of an entered process (module comment); the default
/// changes nothing.
#[derive(Clone, Debug, Default)]
pub struct Extra {
    /// The capability sets asked for; None: the zone's set as enter gives it.
    pub caps: Option<CapSets>,
    /// (resource, soft, hard) asked for.
    pub rlimits: Vec<(libc::__rlimit_resource_t, u64, u64)>,
    /// The primary group, replacing the user's from the zone's /etc/passwd.
    pub gid: Option<u32>,
    /// The supplementary groups, replacing the zone's /etc/group ones.
    pub groups: Option<Vec<u32>>,
    /// The working directory, a NUL-terminated path inside the zone.
    pub cwd: Option<std::ffi::CString>,
}

impl Extra {
    /// The zone's limits `limits` with each asked one lowered to it.
    pub fn narrow_limits<const N: usize>(
        &self,
        limits: &mut [(libc::__rlimit_resource_t, libc::rlimit); N],
    ) {
        for (res, soft, hard) in &self.rlimits {
            for (r, l) in limits.iter_mut() {
                if r == res {
                    l.rlim_max = l.rlim_max.min(*hard);
                    l.rlim_cur = l.rlim_cur.min(*soft).min(l.rlim_max);
                }
            }
        }
    }

    /// The groups and gid to set: the asked ones, or the zone's.
    pub fn ids<'a>(&'a self, groups: &'a [u32], gid: u32) -> (&'a [u32], u32) {
        (
            self.groups.as_deref().unwrap_or(groups),
            self.gid.unwrap_or(gid),
        )
    }

    /// Before the change of ids: a user other than root keeps its
    /// permitted set across setuid when it is to have capabilities.
    /// Async-signal-safe.
    pub fn keep_caps(&self, uid: u32) {
        if uid != 0
            && self
                .caps
                .is_some_and(|c| c.permitted != 0 || c.ambient != 0)
        {
            // SAFETY: prctl with integer arguments only.
            unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, 1, 0, 0, 0) };
        }
    }

    /// Before the change of ids, while the process may still drop from
    /// its bounding set (CAP_SETPCAP): the asked bounding set within the
    /// zone's `zone`. Async-signal-safe.
    pub fn narrow_bounding(&self, zone: u64) -> Result<(), i32> {
        match self.caps {
            Some(c) => caps::drop_bounding(zone & c.bounding),
            None => Ok(()),
        }
    }

    /// After the change of ids: the asked sets, each within the zone's
    /// `zone` set. Async-signal-safe.
    pub fn apply_caps(&self, zone: u64) -> Result<(), i32> {
        let Some(c) = self.caps else {
            return Ok(());
        };
        let b = zone & c.bounding;
        let (eff, perm, inh) = (c.effective & zone, c.permitted & zone, c.inheritable & b);
        // A root program's sets after exec are its bounding set and its
        // inheritable one: the bounding set narrowed above is what counts.
        set_sets(eff & perm, perm, inh)?;
        for cap in 0..64u32 {
            if c.ambient & (1 << cap) != 0 && perm & inh & (1 << cap) != 0 {
                // SAFETY: prctl with integer arguments only.
                let r = unsafe {
                    libc::prctl(
                        libc::PR_CAP_AMBIENT,
                        libc::PR_CAP_AMBIENT_RAISE as libc::c_ulong,
                        cap as libc::c_ulong,
                        0,
                        0,
                    )
                };
                if r != 0 {
                    return Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0));
                }
            }
        }
        Ok(())
    }
}

/// capset(2) of the calling thread: effective, permitted, inheritable.
/// Async-signal-safe.
fn set_sets(eff: u64, perm: u64, inh: u64) -> Result<(), i32> {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    let hdr = Header {
        version: 0x2008_0522, // _LINUX_CAPABILITY_VERSION_3
        pid: 0,
    };
    let half = |m: u64, i: u32| (m >> (32 * i)) as u32;
    let data = [0, 1].map(|i| Data {
        effective: half(eff, i),
        permitted: half(perm, i),
        inheritable: half(inh, i),
    });
    // SAFETY: capset gets a header and two data structs we own, the
    // layout of version 3.
    if unsafe { libc::syscall(libc::SYS_capset, &hdr, data.as_ptr()) } != 0 {
        return Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asked_limits_never_exceed_the_zones() {
        let mut l = [
            (
                libc::RLIMIT_NOFILE,
                libc::rlimit {
                    rlim_cur: 1024,
                    rlim_max: 4096,
                },
            ),
            (
                libc::RLIMIT_CORE,
                libc::rlimit {
                    rlim_cur: 0,
                    rlim_max: libc::RLIM_INFINITY,
                },
            ),
        ];
        let x = Extra {
            rlimits: vec![
                (libc::RLIMIT_NOFILE, 1_048_576, 1_048_576),
                (libc::RLIMIT_CORE, 100, 200),
            ],
            ..Default::default()
        };
        x.narrow_limits(&mut l);
        assert_eq!((l[0].1.rlim_cur, l[0].1.rlim_max), (1024, 4096));
        assert_eq!((l[1].1.rlim_cur, l[1].1.rlim_max), (0, 200));
        let x = Extra {
            gid: Some(7),
            groups: Some(vec![7, 8]),
            ..Default::default()
        };
        assert_eq!(x.ids(&[1], 1), (&[7u32, 8][..], 7));
        assert_eq!(Extra::default().ids(&[1], 1), (&[1u32][..], 1));
    }
}
