//! # Finding zones by their names
//!
//! What the runtime makes for a zone before the engine holds its handle
//! carries the zone's uniqid in its name: the cgroup `<name>.<uniqid>` in
//! each hierarchy, directly under the cgroup root for a top-level zone,
//! and the control socket `<run_dir>/<id>-<uniqid>.sock`. So the kernel
//! itself tells what an engine killed at any instruction left, with no
//! record at all ([`crate::state`], "The crash protocol"):
//!
//! * [`LinuxRuntime::find_traces`] lists every such name, merged by uniqid,
//!   with the zsched found in the cgroups (the process that is pid 1 of
//!   its namespace) when one lives;
//! * [`LinuxRuntime::trace_for`] is the trace a zone of a given spec
//!   leaves (a record without a handle: its creation never returned);
//! * [`LinuxRuntime::sweep_trace`] kills what is in those cgroups (zsched
//!   with them), removes the cgroups and the socket file — again and
//!   again until nothing reappears, as the dead engine's orphaned
//!   launcher may still be joining a zsched to them;
//! * [`LinuxRuntime::rebuild_trace`] asks a live zsched for the zone's
//!   parameters, and builds its handle, so that a zone whose record was
//!   lost is re-adopted rather than killed.
//!
//! Only top-level zones are found this way: a nested zone's cgroup lies
//! in its parent's, where the zone itself may make cgroups of any name.

use super::{LinuxRuntime, cgroup, launch, nspids, request, thaw_tree};
use crate::param::Params;
use crate::runtime::{Handle, Trace, ZoneSpec};
use crate::zone::ZoneId;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// `<id>-<uniqid>.sock` → (id, uniqid).
fn socket_name(name: &str) -> Option<(u32, u64)> {
    let (id, uniqid) = name.strip_suffix(".sock")?.split_once('-')?;
    Some((id.parse().ok()?, uniqid.parse().ok()?))
}

/// `<last name component>.<uniqid>` → uniqid.
fn cgroup_name(name: &str) -> Option<u64> {
    let (last, uniqid) = name.rsplit_once('.')?;
    if last.is_empty() {
        return None;
    }
    uniqid.parse().ok()
}

/// The zsched among the processes of a zone's cgroups: pid 1 of its own
/// pid namespace (its NSpid ends in 1), the outermost if several.
fn supervisor(cgroups: &[PathBuf]) -> Option<u32> {
    cgroups
        .iter()
        .flat_map(|d| cgroup::procs(d))
        .filter_map(|p| Some((p, nspids(p)?)))
        .filter(|(_, ns)| ns.len() > 1 && ns.last() == Some(&1))
        .min_by_key(|(_, ns)| ns.len())
        .map(|(p, _)| p)
}

impl LinuxRuntime {
    pub(super) fn find_traces(&self) -> Vec<Trace> {
        let mut by: BTreeMap<u64, Trace> = BTreeMap::new();
        if let Ok(rd) = std::fs::read_dir(&self.run_dir) {
            for e in rd.flatten() {
                let name = e.file_name();
                if let Some((id, uniqid)) = name.to_str().and_then(socket_name) {
                    let t = by.entry(uniqid).or_default();
                    t.uniqid = uniqid;
                    t.id = Some(ZoneId(id));
                    t.control = Some(e.path());
                }
            }
        }
        if let Ok(hs) = cgroup::hierarchies() {
            for h in hs {
                let base = cgroup::zone_dir(&h, &self.cgroup_root, None, "");
                let Ok(rd) = std::fs::read_dir(&base) else {
                    continue;
                };
                for e in rd.flatten() {
                    if !e.file_type().is_ok_and(|t| t.is_dir()) {
                        continue;
                    }
                    if let Some(uniqid) = e.file_name().to_str().and_then(cgroup_name) {
                        let t = by.entry(uniqid).or_default();
                        t.uniqid = uniqid;
                        t.cgroups.push(e.path());
                    }
                }
            }
        }
        let mut out: Vec<Trace> = by.into_values().collect();
        for t in &mut out {
            t.supervisor = supervisor(&t.cgroups);
        }
        out
    }

    pub(super) fn trace_for(&self, spec: &ZoneSpec) -> Trace {
        let control = self
            .run_dir
            .join(format!("{}-{}.sock", spec.id, spec.uniqid));
        let cgroups: Vec<PathBuf> = self
            .cgroup_dirs(spec)
            .map(|v| {
                v.into_iter()
                    .map(|(_, d)| d)
                    .filter(|d| d.exists())
                    .collect()
            })
            .unwrap_or_default();
        Trace {
            id: Some(spec.id),
            uniqid: spec.uniqid,
            control: control.exists().then_some(control),
            supervisor: supervisor(&cgroups),
            cgroups,
        }
    }

    /// Kill what is in the trace's cgroups and remove them, and the
    /// control socket. A launcher of the engine that died (`zsched
    /// launch`, orphaned, not in the zone's cgroups) may still be joining
    /// its zsched to them while this runs: so the kill and the removal are
    /// repeated until the cgroups are gone and no process has appeared
    /// for a while (a launcher that finds them gone gives up).
    pub(super) fn sweep_trace(&self, t: &Trace) {
        let start = Instant::now();
        let mut quiet_since = Instant::now();
        loop {
            thaw_tree(&t.cgroups);
            let mut found = false;
            for d in &t.cgroups {
                found |= kill_tree(d, 0);
            }
            if found {
                quiet_since = Instant::now();
            }
            let mut left = false;
            for d in &t.cgroups {
                left |= !rmdir_tree_once(d, 0);
            }
            let settled = quiet_since.elapsed() >= Duration::from_millis(300);
            if !left && settled {
                break;
            }
            if start.elapsed() > Duration::from_secs(10) {
                tracing::warn!(
                    uniqid = t.uniqid,
                    "cgroups of a left zone still busy after 10 s: {:?}",
                    t.cgroups
                );
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // The socket the launcher may have bound meanwhile too.
        let control = t.control.clone().or_else(|| {
            t.id.map(|id| self.run_dir.join(format!("{id}-{}.sock", t.uniqid)))
        });
        if let Some(c) = &control
            && let Err(e) = std::fs::remove_file(c)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(uniqid = t.uniqid, "{}: {e}", c.display());
        }
        // And what lies beside the socket by its name: the zone's view
        // files and its dedicated-CPU claim.
        if let Some(c) = &control {
            super::view::remove(c);
            let _ = std::fs::remove_file(super::cpuset::marker(c));
        }
    }

    pub(super) fn rebuild_trace(&self, t: &Trace) -> Option<(Handle, Params)> {
        let control = t.control.clone()?;
        let pid = t.supervisor?;
        let start = launch::start_time(pid)?;
        let v = request(&control, "params", Some(Duration::from_secs(5))).ok()?;
        let params: Params = serde_json::from_str(&v).ok()?;
        Some((
            Handle {
                zsched_pid: pid,
                zsched_start: start,
                cgroups: t.cgroups.clone(),
                control,
                init_pid: 0,
            },
            params,
        ))
    }
}

/// SIGKILL every process in `dir` and below; whether there was one.
fn kill_tree(dir: &Path, depth: usize) -> bool {
    let mut found = false;
    for p in cgroup::procs(dir) {
        found = true;
        // SAFETY: kill takes plain integers.
        unsafe { libc::kill(p as i32, libc::SIGKILL) };
    }
    if depth < 32
        && let Ok(rd) = std::fs::read_dir(dir)
    {
        for e in rd.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                found |= kill_tree(&e.path(), depth + 1);
            }
        }
    }
    found
}

/// One attempt to remove `dir` and every cgroup below it; whether it is
/// gone.
fn rmdir_tree_once(dir: &Path, depth: usize) -> bool {
    if depth < 32
        && let Ok(rd) = std::fs::read_dir(dir)
    {
        for e in rd.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                rmdir_tree_once(&e.path(), depth + 1);
            }
        }
    }
    match std::fs::remove_dir(dir) {
        Ok(()) => true,
        Err(e) => e.kind() == std::io::ErrorKind::NotFound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_uniqid() {
        assert_eq!(socket_name("3-17.sock"), Some((3, 17)));
        assert_eq!(socket_name("3-17.sock.tmp"), None);
        assert_eq!(socket_name("zoned.sock"), None);
        assert_eq!(cgroup_name("web.17"), Some(17));
        assert_eq!(cgroup_name("a.b.9"), Some(9));
        assert_eq!(cgroup_name(".9"), None);
        assert_eq!(cgroup_name("zoned"), None);
    }
}
