//! # A container's state directory
//!
//! `--root DIR/ID/` (the directory 0700, `DIR` too): `state.json` is the
//! [`Record`] written by `create` (temporary file renamed over it, so a
//! reader sees the old or the new whole); `exec.fifo` exists from
//! `create` until `start` opens it; `handle.json` is the zone's
//! [`Handle`] written by `start` for the holder and `exec`; `exit` holds
//! the program's exit status once the holder saw it end; `seccomp.json`,
//! written by `create` when the bundle has a `linux.seccomp` profile, is
//! the file the zone's `seccomp.profile` names.
//!
//! `rootfs` is the bundle's root bound (MS_BIND|MS_REC) beneath this
//! private directory and is the zone's path: the zone-path rule
//! (security.md) wants a root no other user reaches, and a bundle's
//! directory (containerd's are 0711, Podman's `--rootfs` is the user's)
//! is not that. It is unmounted, never removed recursively, at delete:
//! [`remove`] takes away only the files this runtime made, so a mount
//! that did not go leaves the rootfs' contents untouched.
//!
//! The status runc reports follows from these and from the holder:
//! *created* while the fifo is there and the holder lives, *running*
//! while the holder lives after start, *stopped* otherwise. The holder is
//! known by pid *and* start time (/proc/PID/stat field 22), so a reused
//! pid is not taken for it.

use crate::runtime::Handle;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What `create` records of a container.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    pub zone: String,
    pub bundle: PathBuf,
    pub rootfs: PathBuf,
    /// RFC 3339, UTC.
    pub created: String,
    /// The holder (module comment of [`super`]).
    pub holder_pid: u32,
    pub holder_start: u64,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    #[serde(default)]
    pub hooks: Option<super::spec::Hooks>,
    pub owner: String,
}

/// The OCI status of a container.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Creating,
    Created,
    Running,
    Stopped,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Creating => "creating",
            Status::Created => "created",
            Status::Running => "running",
            Status::Stopped => "stopped",
        }
    }
}

/// One container's directory under the root.
pub struct Dir {
    pub path: PathBuf,
}

impl Dir {
    pub fn new(root: &Path, id: &str) -> Dir {
        Dir {
            path: root.join(id),
        }
    }
    pub fn exists(&self) -> bool {
        self.path.join("state.json").is_file()
    }
    pub fn fifo(&self) -> PathBuf {
        self.path.join("exec.fifo")
    }
    pub fn handle_path(&self) -> PathBuf {
        self.path.join("handle.json")
    }
    pub fn exit_path(&self) -> PathBuf {
        self.path.join("exit")
    }
    /// Where the container's rootfs is bound: the zone's path.
    pub fn rootfs(&self) -> PathBuf {
        self.path.join("rootfs")
    }

    pub fn read(&self) -> Result<Record, String> {
        let p = self.path.join("state.json");
        let t = std::fs::read_to_string(&p)
            .map_err(|e| format!("open {}: {}", p.display(), crate::tool::os_msg(&e)))?;
        serde_json::from_str(&t).map_err(|e| format!("{}: {e}", p.display()))
    }

    pub fn write(&self, r: &Record) -> Result<(), String> {
        write_atomic(
            &self.path.join("state.json"),
            &serde_json::to_vec(r).unwrap(),
        )
    }

    pub fn handle(&self) -> Result<Handle, String> {
        let p = self.handle_path();
        let t = std::fs::read_to_string(&p)
            .map_err(|e| format!("open {}: {}", p.display(), crate::tool::os_msg(&e)))?;
        serde_json::from_str(&t).map_err(|e| format!("{}: {e}", p.display()))
    }

    pub fn write_handle(&self, h: &Handle) -> Result<(), String> {
        write_atomic(&self.handle_path(), &serde_json::to_vec(h).unwrap())
    }

    /// The container's status now (module comment).
    pub fn status(&self, r: &Record) -> Status {
        if r.holder_pid == 0 {
            return Status::Creating;
        }
        if !holder_alive(r.holder_pid, r.holder_start) {
            return Status::Stopped;
        }
        if self.fifo().exists() {
            Status::Created
        } else {
            Status::Running
        }
    }
}

/// Bind `rootfs` at the container's `rootfs` (made 0755 beneath the
/// private directory); the error names both paths.
pub fn bind_rootfs(d: &Dir, rootfs: &Path, readonly: bool) -> Result<(), String> {
    use nix::mount::{MsFlags, mount};
    let at = d.rootfs();
    if !rootfs.is_dir() {
        return Err(format!("rootfs {}: not a directory", rootfs.display()));
    }
    std::fs::create_dir(&at)
        .map_err(|e| format!("mkdir {}: {}", at.display(), crate::tool::os_msg(&e)))?;
    mount(
        Some(rootfs),
        &at,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
    .map_err(|e| format!("bind {} at {}: {e}", rootfs.display(), at.display()))?;
    // Private below: the zone's own mounts under its root do not
    // propagate back into the bundle.
    let _ = mount(
        None::<&str>,
        &at,
        None::<&str>,
        MsFlags::MS_PRIVATE | MsFlags::MS_REC,
        None::<&str>,
    );
    // root.readonly: the bind itself read-only; the zone's root, a bind
    // of it, is read-only too (its own /proc, /dev and mount lines are
    // mounts over it, writable as they are).
    if readonly {
        mount(
            None::<&str>,
            &at,
            None::<&str>,
            MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY,
            None::<&str>,
        )
        .map_err(|e| format!("make {} read-only: {e}", at.display()))?;
    }
    Ok(())
}

/// Remove a container's directory: unmount its rootfs (lazily), then the
/// files this runtime made and the two directories — never a recursive
/// removal (module comment).
pub fn remove(d: &Dir) -> Result<(), String> {
    use nix::mount::{MntFlags, umount2};
    let at = d.rootfs();
    if at.exists() {
        let _ = umount2(&at, MntFlags::MNT_DETACH);
        std::fs::remove_dir(&at).map_err(|e| {
            format!(
                "remove {}: {} (left in place)",
                at.display(),
                crate::tool::os_msg(&e)
            )
        })?;
    }
    if let Ok(rd) = std::fs::read_dir(&d.path) {
        for e in rd.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            let ours = matches!(
                n.as_str(),
                "state.json"
                    | "state.tmp"
                    | "handle.json"
                    | "handle.tmp"
                    | "exit"
                    | "exec.fifo"
                    | "seccomp.json"
            ) || (n.starts_with("exec-")
                && (n.ends_with(".json") || n.ends_with(".tmp")));
            if ours {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    std::fs::remove_dir(&d.path)
        .map_err(|e| format!("remove {}: {}", d.path.display(), crate::tool::os_msg(&e)))
}

/// Write `data` to `path` through a temporary file renamed over it.
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<(), String> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, data)
        .and_then(|_| std::fs::rename(&tmp, path))
        .map_err(|e| format!("write {}: {}", path.display(), crate::tool::os_msg(&e)))
}

/// /proc/PID/stat's start time (field 22), None when the process is gone.
pub fn start_time(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: fields count
    // from the last ')'.
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state); field 22 is index 19; a zombie
    // (state Z) counts as gone.
    if f.first() == Some(&"Z") {
        return None;
    }
    f.get(19)?.parse().ok()
}

/// Is the holder `pid` (started at `start`) still alive?
pub fn holder_alive(pid: u32, start: u64) -> bool {
    start_time(pid) == Some(start)
}

/// The children of `pid` (/proc/PID/task/PID/children).
pub fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// The host pid of the program a holder runs: the holder forks the
/// entering process A, which forks the program B into the zone
/// ([`crate::runtime::linux::enter`]); None before B exists.
pub fn program_pid(holder: u32) -> Option<u32> {
    let a = *children(holder).first()?;
    children(a).first().copied()
}

/// Now as RFC 3339 in UTC with nanoseconds, as runc writes `created`.
pub fn rfc3339_now() -> String {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    rfc3339(d.as_secs() as i64, d.subsec_nanos())
}

/// Seconds since the epoch as RFC 3339 in UTC (civil from days, after
/// Howard Hinnant's algorithm).
pub fn rfc3339(secs: i64, nanos: u32) -> String {
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{nanos:09}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_of_known_instants() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(rfc3339(951_782_400, 5), "2000-02-29T00:00:00.000000005Z");
        assert_eq!(rfc3339(1_796_645_345, 0), "2026-12-07T12:09:05.000000000Z");
    }

    #[test]
    fn our_own_start_time_is_read_and_a_dead_pid_has_none() {
        let me = std::process::id();
        let t = start_time(me).expect("own stat");
        assert!(holder_alive(me, t));
        assert!(!holder_alive(me, t + 1));
        assert_eq!(start_time(u32::MAX / 2), None);
    }
}
