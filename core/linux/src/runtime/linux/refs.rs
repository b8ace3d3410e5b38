//! # What holds a zone in the kernel
//!
//! lifecycle.md "References", read from the kernel each time:
//!
//! * cred: the processes in the zone's cgroups (recursive, every
//!   hierarchy, each pid once), zsched itself not counted — it is the
//!   zone, and destroy ends it;
//! * VFS: every mount in the zone's mount namespace (/proc/ZSCHED/mountinfo)
//!   but the zone's root itself and, in a zone of its own user namespace,
//!   the mounts the host made (locked there: zsched's `locked`), so that
//!   it drains to 0 after `down`;
//!   NFS, NFSv4 and SMBFS: those of fstype nfs, nfs4, cifs/smb3/smbfs;
//! * IPC: System V objects of the zone's IPC namespace, counted by zsched
//!   (it lives in that namespace) from /proc/sysvipc; zsched's `down`
//!   removes them all ([`super::ipc`]), so like VFS this drains to 0
//!   before destroy whatever the zone left;
//! * LOFI: loop devices whose backing file is under the zone's root
//!   (/sys/block/loop*/loop/backing_file).

use super::{cgroup, request};
use crate::runtime::{Handle, KernelRefs};
use crate::snapshot::Subsys;
use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

/// Mount counts from a mountinfo text: (VFS, NFS, NFSv4, SMBFS).
pub fn mount_counts(mountinfo: &str) -> (u64, u64, u64, u64) {
    let (mut vfs, mut nfs, mut nfs4, mut smb) = (0, 0, 0, 0);
    for m in crate::mountinfo::parse(mountinfo) {
        if m.mount_point == std::path::Path::new("/") {
            continue;
        }
        vfs += 1;
        match m.fstype.as_str() {
            "nfs" => nfs += 1,
            "nfs4" => nfs4 += 1,
            "cifs" | "smb3" | "smbfs" => smb += 1,
            _ => {}
        }
    }
    (vfs, nfs, nfs4, smb)
}

/// A zone of its own user namespace ([`super::userns`]): the mounts the
/// host made, locked in its namespace, which `down` leaves to the
/// namespace's end — not references the zone holds. 0 for other zones.
fn locked_mounts(handle: &Handle) -> u64 {
    match super::userns::enter_fd(handle.zsched_pid as i32) {
        Ok(Some(_)) => request(&handle.control, "locked", Some(Duration::from_secs(5)))
            .ok()
            .and_then(|a| a.trim().parse().ok())
            .unwrap_or(0),
        _ => 0,
    }
}

/// Loop devices backed by a file under `root`.
pub fn loop_devices_under(root: &Path) -> u64 {
    let Ok(rd) = std::fs::read_dir("/sys/block") else {
        return 0;
    };
    rd.flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("loop"))
        .filter_map(|e| std::fs::read_to_string(e.path().join("loop/backing_file")).ok())
        .filter(|b| Path::new(b.trim()).starts_with(root))
        .count() as u64
}

pub fn kernel_refs(handle: &Handle) -> KernelRefs {
    let mut r = KernelRefs::default();
    let procs: BTreeSet<u32> = handle
        .cgroups
        .iter()
        .flat_map(|d| cgroup::procs(d))
        .filter(|p| *p != handle.zsched_pid)
        .collect();
    r.cred = procs.len() as u64;
    if !super::alive(handle) {
        return r;
    }
    let mountinfo = format!("/proc/{}/mountinfo", handle.zsched_pid);
    if let Ok(mi) = cgroup::read_small(Path::new(&mountinfo)) {
        let (vfs, nfs, nfs4, smb) = mount_counts(&String::from_utf8_lossy(&mi));
        r.subsys[Subsys::Vfs as usize] = vfs.saturating_sub(locked_mounts(handle));
        r.subsys[Subsys::Nfs as usize] = nfs;
        r.subsys[Subsys::Nfsv4 as usize] = nfs4;
        r.subsys[Subsys::Smbfs as usize] = smb;
    }
    if let Ok(ans) = request(&handle.control, "refs", Some(Duration::from_secs(5))) {
        let (ipc, root) = ans.split_once(' ').unwrap_or((&ans, ""));
        r.subsys[Subsys::Ipc as usize] = ipc.parse().unwrap_or(0);
        if !root.is_empty() {
            r.subsys[Subsys::Lofi as usize] = loop_devices_under(Path::new(root));
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mounts_are_counted_by_type_and_the_root_is_not_one() {
        let mi = "\
100 99 0:50 /srv/z / rw - ext4 /dev/sda1 rw
101 100 0:51 / /proc rw - proc proc rw
102 100 0:52 / /mnt/a rw - nfs srv:/a rw
103 100 0:53 / /mnt/b rw - nfs4 srv:/b rw
104 100 0:54 / /mnt/c rw - cifs //srv/c rw
";
        assert_eq!(mount_counts(mi), (4, 1, 1, 1));
    }
}
