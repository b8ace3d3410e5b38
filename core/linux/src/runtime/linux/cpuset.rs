//! # A zone's CPUs: zone.cpuset and dedicated-cpu.ncpus
//!
//! illumos gives a zone CPUs of its own with `dedicated-cpu` (a temporary
//! pool of that many CPUs no other zone runs on); `zone.cpuset` names the
//! CPUs outright (config.md). Both become the cpuset controller's
//! `cpuset.cpus` of the zone's cgroup, so the kernel keeps every process
//! of the zone — zsched, what it starts, what enters — on those CPUs, and
//! `nproc` / sched_getaffinity inside agree with the zone's /proc/cpuinfo,
//! /proc/stat and cpu/online ([`super::view`] reads the same cpuset.cpus).
//!
//! * v1 and hybrid: the cpuset hierarchy is not among the runtime's usual
//!   ones (a cpuset cgroup is unusable until `cpuset.cpus` and
//!   `cpuset.mems` are written), so a zone that asks for CPUs gets a
//!   cgroup there too, made here: each missing level of its path gets its
//!   parent's cpus and mems before anything else, the zone's own dir then
//!   gets its CPUs. It is the last of the zone's cgroups, and zsched joins
//!   it with the others before it execs.
//! * v2: `+cpuset` is enabled from the base down (as the other controllers
//!   are) and `cpuset.cpus` written in the zone's cgroup.
//!
//! `dedicated-cpu.ncpus = N` picks the N lowest CPUs of the parent's set
//! that no other running zone of this runtime holds dedicated. Which zone
//! holds which CPUs is a file per zone beside its control socket
//! (`<id>-<uniqid>.dedicated`: the zone's name, its CPU list and its
//! cgroup), counted while that cgroup exists; picks are serialized by an
//! flock on `<run_dir>/dedicated.lock`. When too few CPUs are free the
//! zone is refused, naming the zones that hold them. (The kernel's
//! `cpuset.cpu_exclusive` needs every ancestor exclusive too, which a
//! relative cgroup root beneath the engine's own cgroup cannot promise.)
//! Other zones are not moved off dedicated CPUs: a zone without a cpuset
//! still runs on every CPU.

use super::cgroup::{self, Hierarchy};
use super::err;
use crate::kstat::view::{format_cpu_list, parse_cpu_list};
use crate::runtime::{RuntimeError, ZoneSpec};
use std::fs;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

fn read_cpus(p: &Path) -> Result<Vec<u32>, RuntimeError> {
    let t =
        fs::read_to_string(p).map_err(|e| err("cpuset", format!("{}: {e}", p.display()), &e))?;
    parse_cpu_list(&t).map_err(|m| RuntimeError::new("cpuset", format!("{}: {m}", p.display())))
}

fn write(p: &Path, v: &str) -> Result<(), RuntimeError> {
    fs::write(p, v).map_err(|e| err("cpuset", format!("write {v:?} to {}: {e}", p.display()), &e))
}

/// The marker of a zone's dedicated CPUs (module comment).
pub fn marker(control: &Path) -> PathBuf {
    control.with_extension("dedicated")
}

/// CPUs held dedicated by other live zones of `run_dir`: (zone, cpus).
fn held(run_dir: &Path) -> Vec<(String, Vec<u32>)> {
    let mut out = Vec::new();
    for e in fs::read_dir(run_dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.extension().is_none_or(|x| x != "dedicated") {
            continue;
        }
        let Ok(t) = fs::read_to_string(&p) else {
            continue;
        };
        let mut it = t.lines();
        let (Some(name), Some(list), Some(cg)) = (it.next(), it.next(), it.next()) else {
            continue;
        };
        if !Path::new(cg).is_dir() {
            continue; // the zone is gone
        }
        if let Ok(cpus) = parse_cpu_list(list) {
            out.push((name.to_string(), cpus));
        }
    }
    out
}

/// Pick `n` CPUs of `avail` that none of `held` holds; the error names
/// the zones that hold the others.
pub fn pick(n: usize, avail: &[u32], held: &[(String, Vec<u32>)]) -> Result<Vec<u32>, String> {
    let free: Vec<u32> = avail
        .iter()
        .copied()
        .filter(|c| !held.iter().any(|(_, h)| h.contains(c)))
        .collect();
    if free.len() < n {
        let mut names: Vec<&str> = held.iter().map(|(z, _)| z.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        return Err(format!(
            "dedicated-cpu.ncpus={n}: only {} of CPUs {} free (dedicated to {})",
            free.len(),
            format_cpu_list(avail),
            if names.is_empty() {
                "no zone".to_string()
            } else {
                names.join(", ")
            }
        ));
    }
    Ok(free[..n].to_vec())
}

/// The zone's CPUs within `avail` (the parent cgroup's), or None when it
/// asks for none; dedicated CPUs are picked under the run directory's lock.
fn plan(run_dir: &Path, spec: &ZoneSpec, avail: &[u32]) -> Result<Option<Vec<u32>>, RuntimeError> {
    if let Some(list) = spec.params.str("zone.cpuset") {
        let cpus = parse_cpu_list(list)
            .map_err(|m| RuntimeError::new("cpuset", format!("zone.cpuset={list}: {m}")))?;
        if let Some(c) = cpus.iter().find(|c| !avail.contains(c)) {
            return Err(RuntimeError::new(
                "cpuset",
                format!(
                    "zone.cpuset={list}: CPU {c} is not among {}",
                    format_cpu_list(avail)
                ),
            ));
        }
        return Ok((!cpus.is_empty()).then_some(cpus));
    }
    let Some(n) = spec.params.int("dedicated-cpu.ncpus") else {
        return Ok(None);
    };
    let held = held(run_dir);
    pick(n.max(1) as usize, avail, &held)
        .map(Some)
        .map_err(|m| RuntimeError {
            step: "cpuset".into(),
            message: format!("zone {}: {m}", spec.name.as_str()),
            errno: Some(libc::EBUSY),
        })
}

/// An flock held while dedicated CPUs are picked and recorded.
struct Lock {
    _file: fs::File,
}

impl Lock {
    fn take(run_dir: &Path) -> Result<Lock, RuntimeError> {
        let p = run_dir.join("dedicated.lock");
        let f = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&p)
            .map_err(|e| err("cpuset", format!("{}: {e}", p.display()), &e))?;
        // SAFETY: flock on a descriptor we own; released when it closes.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } != 0 {
            let e = std::io::Error::last_os_error();
            return Err(err("cpuset", format!("flock {}: {e}", p.display()), &e));
        }
        Ok(Lock { _file: f })
    }
}

/// Give the zone its CPUs (module comment), after its other cgroups are
/// made: returns the v1 cpuset cgroup it made (to be joined and removed
/// with the others), None on v2 or when the zone asks for no CPUs.
/// `dirs` are the zone's cgroups; `control` its socket path.
pub fn make(
    run_dir: &Path,
    cgroup_root: &Path,
    spec: &ZoneSpec,
    dirs: &[(Hierarchy, PathBuf)],
    control: &Path,
) -> Result<Option<PathBuf>, RuntimeError> {
    if spec.params.str("zone.cpuset").is_none() && spec.params.int("dedicated-cpu.ncpus").is_none()
    {
        return Ok(None);
    }
    fs::create_dir_all(run_dir)
        .map_err(|e| err("cpuset", format!("mkdir {}: {e}", run_dir.display()), &e))?;
    let _lock = Lock::take(run_dir)?;
    let v2 = dirs.iter().all(|(h, _)| h.is_v2());
    let made = if v2 {
        let Some((h, dir)) = dirs.first() else {
            return Ok(None);
        };
        let base = base_of(h, cgroup_root);
        let parent = dir.parent().unwrap_or(dir);
        let avail = read_cpus(&parent.join("cpuset.cpus.effective"))
            .or_else(|_| read_cpus(Path::new("/sys/devices/system/cpu/online")))?;
        let Some(cpus) = plan(run_dir, spec, &avail)? else {
            return Ok(None);
        };
        // Enable +cpuset from the base down to the zone's parent.
        let rel = parent.strip_prefix(&base).unwrap_or(Path::new(""));
        let mut cur = base.clone();
        write(&cur.join("cgroup.subtree_control"), "+cpuset")?;
        for c in rel.components() {
            cur.push(c);
            write(&cur.join("cgroup.subtree_control"), "+cpuset")?;
        }
        write(&dir.join("cpuset.cpus"), &format_cpu_list(&cpus))?;
        record(spec, control, &cpus, dir)?;
        None
    } else {
        let Some(h) = hs_cpuset()? else {
            return Err(RuntimeError::new(
                "cpuset",
                "no cpuset cgroup hierarchy is mounted (zone.cpuset, dedicated-cpu.ncpus)",
            ));
        };
        let parent_dirs: Option<Vec<PathBuf>> = spec.parent.as_ref().map(|p| p.cgroups.clone());
        let dir_name = cgroup::dir_name(spec.name.as_str(), spec.uniqid);
        let dir = cgroup::zone_dir(&h, cgroup_root, parent_dirs.as_deref(), &dir_name);
        // Every level from the hierarchy's mount down: made where missing,
        // with its parent's cpus and mems.
        let rel = dir.strip_prefix(&h.mount).unwrap_or(&dir).to_path_buf();
        let mut cur = h.mount.clone();
        for c in rel.components() {
            let parent = cur.clone();
            cur.push(c);
            if !cur.is_dir() {
                fs::create_dir(&cur)
                    .map_err(|e| err("cpuset", format!("mkdir {}: {e}", cur.display()), &e))?;
                for f in ["cpuset.cpus", "cpuset.mems"] {
                    let v = fs::read_to_string(parent.join(f)).map_err(|e| {
                        err("cpuset", format!("{}: {e}", parent.join(f).display()), &e)
                    })?;
                    write(&cur.join(f), v.trim())?;
                }
            }
        }
        let parent = dir.parent().unwrap_or(&dir);
        let avail = read_cpus(&parent.join("cpuset.cpus"))?;
        let cpus = match plan(run_dir, spec, &avail) {
            Ok(Some(c)) => c,
            Ok(None) => return Ok(Some(dir)),
            Err(e) => {
                let _ = fs::remove_dir(&dir);
                return Err(e);
            }
        };
        if let Err(e) = write(&dir.join("cpuset.cpus"), &format_cpu_list(&cpus))
            .and_then(|_| record(spec, control, &cpus, &dir))
        {
            let _ = fs::remove_dir(&dir);
            return Err(e);
        }
        Some(dir)
    };
    Ok(made)
}

fn base_of(h: &Hierarchy, root: &Path) -> PathBuf {
    if root.is_absolute() {
        h.mount.clone()
    } else {
        h.mount.join(h.own.strip_prefix("/").unwrap_or(&h.own))
    }
}

/// The v1 cpuset hierarchy of this host, if mounted (the runtime's usual
/// hierarchies leave it out).
fn hs_cpuset() -> Result<Option<Hierarchy>, RuntimeError> {
    let mi = fs::read_to_string("/proc/self/mountinfo")
        .map_err(|e| err("cpuset", format!("/proc/self/mountinfo: {e}"), &e))?;
    let sc = fs::read_to_string("/proc/self/cgroup")
        .map_err(|e| err("cpuset", format!("/proc/self/cgroup: {e}"), &e))?;
    Ok(cpuset_hierarchy_from(&mi, &sc))
}

/// The v1 cpuset hierarchy in a mountinfo text, with this process's
/// cgroup in it (from a /proc/self/cgroup text).
pub fn cpuset_hierarchy_from(mountinfo: &str, self_cgroup: &str) -> Option<Hierarchy> {
    let mount = crate::mountinfo::parse(mountinfo)
        .find(|m| m.fstype == "cgroup" && m.has_super_option("cpuset"))?
        .mount_point;
    let own = self_cgroup
        .lines()
        .find_map(|l| {
            let mut it = l.splitn(3, ':');
            let (_, list, path) = (it.next()?, it.next()?, it.next()?);
            list.split(',')
                .any(|c| c == "cpuset")
                .then(|| path.to_string())
        })
        .unwrap_or_else(|| "/".into());
    Some(Hierarchy {
        mount,
        controllers: vec!["cpuset".into()],
        own: PathBuf::from(own),
    })
}

/// Record dedicated CPUs (only for dedicated-cpu.ncpus).
fn record(spec: &ZoneSpec, control: &Path, cpus: &[u32], dir: &Path) -> Result<(), RuntimeError> {
    if spec.params.int("dedicated-cpu.ncpus").is_none() || spec.params.str("zone.cpuset").is_some()
    {
        return Ok(());
    }
    let p = marker(control);
    let text = format!(
        "{}\n{}\n{}\n",
        spec.name.as_str(),
        format_cpu_list(cpus),
        dir.display()
    );
    fs::write(&p, text).map_err(|e| err("cpuset", format!("write {}: {e}", p.display()), &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedicated_cpus_are_the_lowest_free_and_exhaustion_names_the_holders() {
        let held = vec![("web".to_string(), vec![0]), ("db".to_string(), vec![2])];
        assert_eq!(pick(1, &[0, 1, 2, 3], &held).unwrap(), vec![1]);
        assert_eq!(pick(2, &[0, 1, 2, 3], &held).unwrap(), vec![1, 3]);
        let e = pick(3, &[0, 1, 2, 3], &held).unwrap_err();
        assert!(e.contains("only 2 of CPUs 0-3 free"), "{e}");
        assert!(e.contains("db, web"), "{e}");
        assert_eq!(pick(2, &[0, 1], &[]).unwrap(), vec![0, 1]);
    }

    #[test]
    fn the_cpuset_hierarchy_is_found_in_mountinfo() {
        let mi = "35 25 0:30 / /sys/fs/cgroup/cpuset rw,nosuid shared:13 - cgroup cgroup rw,cpuset\n\
                  36 25 0:31 / /sys/fs/cgroup/memory rw shared:14 - cgroup cgroup rw,memory\n";
        let sc = "4:memory:/a\n3:cpuset:/b\n0::/\n";
        let h = cpuset_hierarchy_from(mi, sc).unwrap();
        assert_eq!(h.mount, Path::new("/sys/fs/cgroup/cpuset"));
        assert_eq!(h.own, Path::new("/b"));
        assert!(cpuset_hierarchy_from("", sc).is_none());
    }
}
