//! # Reading one zone's counters from the kernel
//!
//! A zone is a set of cgroups (one per hierarchy the runtime made it in)
//! and the processes in them. Everything the kstats need is read from the
//! cgroup files first; per-process and per-thread files are opened only
//! where no cgroup file says the same thing:
//!
//! | counter      | cgroup v2                                   | cgroup v1                                         | per process / thread                          |
//! |--------------|---------------------------------------------|---------------------------------------------------|-----------------------------------------------|
//! | nprocs       | `cgroup.procs`, this cgroup and below        | same                                              |                                               |
//! | nlwps        | `pids.current`, else `cgroup.threads` count  | `pids.current`, else `tasks` count                |                                               |
//! | swapresv     | anon + shmem + `memory.swap.current` − swapcached | total_rss + total_shmem + total_swap (or memsw.usage − usage) |                             |
//! | mem_usage    | `memory.current` − inactive_file             | `memory.usage_in_bytes` − total_inactive_file     |                                               |
//! | rss          | anon + file_mapped                           | total_rss + total_mapped_file                     |                                               |
//! | nsec_user/sys| `cpu.stat` user_usec/system_usec × 1000      | `cpuacct.usage_user` / `usage_sys`                |                                               |
//! | forkfail_cap | `pids.events` max                            | same                                              |                                               |
//! | PSI          | `cpu/memory/io.pressure` avg10               | —                                                 |                                               |
//! | lockedmem    | (unevictable > 0 gates the walk)             | (total_unevictable > 0 gates the walk)            | Σ `VmLck` of /proc/PID/status                 |
//! | nsec_waitrq  |                                              |                                                   | Σ field 2 of /proc/TID/task/TID/schedstat     |
//!
//! `cpu.stat` is read wherever a cgroup2 directory has it: on a hybrid host
//! the cgroup2 mount has no controllers, yet its `cpu.stat` carries the
//! base CPU statistics of every cgroup, at µs precision.
//!
//! The process and thread lists (`cgroup.procs`, `cgroup.threads`) come
//! from the cgroup2 directory wherever the zone has one, hybrid hosts
//! included: kept open and re-read with `pread`, each read walks the
//! cgroup's tasks anew. v1's lists (pids, else another hierarchy) must be
//! reopened every tick, and each open builds, sorts and caches a pid list
//! in the kernel: with 50 zones that was a fifth of the sampler's CPU.
//!
//! **mem_usage** is the zone's working set: what its cgroup is charged
//! minus the file cache nobody used lately (`inactive_file`), the figure
//! `docker stats` and the kubelet show. The global zone's is the host's
//! `MemTotal − MemAvailable` (what free(1) and the ztop header call used)
//! minus the zones' working sets, so the MEM column adds up to the
//! header's used memory instead of counting the host's whole page cache.
//!
//! **rss** is the cgroup's own count of mapped pages (anon + file_mapped),
//! not Σ VmRSS: it counts a page shared by many processes once, and reading
//! one file beats opening every /proc/PID/status each second. The two
//! differ by shared pages and by pages charged to another cgroup.
//!
//! **lockedmem** has no cgroup counter; `unevictable` in memory.stat is an
//! upper bound (mlocked pages plus ramfs and SHM_LOCK pages). When it is 0
//! the zone cannot have locked anything and no per-process file is read;
//! otherwise VmLck is summed over the zone's processes.
//!
//! **nsec_waitrq** is kept by [`WaitrqTracker`]: a descriptor per thread
//! stays open between ticks and is re-read with `pread` at offset 0 (a lean
//! hand reader: this is the one per-thread hot path). A descriptor of a
//! thread that has exited fails with ESRCH even if its tid was reused, so
//! the value of its last sample is moved into the exited total, and the
//! sum never goes back. A thread that lived less than one tick is never
//! seen and its wait is lost.
//!
//! The descriptors kept are bounded ([`FdBudget`]): all the trackers and
//! cgroup readers of a process together keep at most a quarter of its soft
//! RLIMIT_NOFILE (the daemon's API and engine need the rest, and a host
//! can run more threads, and zoned more zones, than any limit); the
//! sampler gives its trackers no budget at all, so that the daemon never
//! holds a descriptor per thread (sampler.rs, "Descriptors"). A thread beyond the budget is read by path each time
//! (open, read, close): it costs two more system calls per read, and a
//! thread that exits between two reads loses its last tick's wait. A kept
//! descriptor given back (its thread exited) goes to the next new thread.
//!
//! The threads are not re-read at all on a tick where the zone's thread
//! list is the one of the last tick and its CPU clock
//! ([`CgroupCounters::cpu_usage`]: v1 `cpuacct.usage` in ns plus cgroup2
//! usage_usec, those it has) has not moved: a thread's run-queue wait
//! grows only when it is put on a CPU, and then it is charged CPU time.
//! An idle zone thus costs no per-thread read; a thread put on a CPU just
//! before the clock is read and not yet charged has its wait counted one
//! tick later ([`WaitrqTracker::update_if_ran`]). With only usage_usec
//! (pure cgroup2), a zone whose threads ran less than 1 µs in all over a
//! tick may also wait for a later tick.
//!
//! **Quiet zones.** Most zones of a big host are idle most seconds, and a
//! dozen cgroup files a zone a second was most of zoned's CPU with a
//! thousand zones. So [`CgroupReader::read`] first reads a probe of three
//! numbers — the CPU clock (v1 `cpuacct.usage`, ns, else cgroup2
//! `cpu.stat` usage_usec), the task count (`pids.current`) and the charged
//! memory (`memory.usage_in_bytes` / `memory.current`) — and when all
//! three are what they were before its last full read, answers that read
//! again. What the other files say changes only when a task of the zone
//! runs (its CPU time, forks and fork failures, exits, mlock, the thread
//! list), joins or leaves (the task count moves), or when its charge
//! moves; what may still change without any of that — pages aged to the
//! inactive list, an I/O stall that began while it ran — is caught by a
//! full read every [`QUIET_FULL_EVERY`] reads, and PSI averages that are
//! not 0 are re-read every time (they decay with no task running). A
//! nested zone's cgroup below this one changes the probe like any task of
//! the zone does (the files are hierarchical).
//!
//! The zone's own init — zsched, pid 1 of its pid namespace, found among
//! its processes by `NSpid` — wakes once a second whatever the zone does;
//! its CPU time (field 1 of /proc/PID/schedstat, charged with the same
//! deltas as the cgroup's clock) is taken out of the probe's clock, so a
//! zone where only zsched ran is quiet too. zsched's own CPU and run-queue
//! time (tens of µs a second) then reach the zone's counters at the next
//! full read, at most [`QUIET_FULL_EVERY`] reads later.
//!
//! Every function here is synchronous, holds no lock and reads files only
//! (`open`, `read`, `pread`, `getdents`); errors name the file.

use crate::runtime::linux::cgroup::Hierarchy;
use crate::snapshot::Psi;
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

/// Which of a zone's cgroup directories answers which question.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CgroupSet {
    /// The directory on a cgroup2 mount (by the runtime's layout).
    pub v2: Option<PathBuf>,
    /// Where `pids.current` / `pids.events` are (v1 pids or v2).
    pub pids: Option<PathBuf>,
    /// Where `memory.stat` is, and whether that is the v2 flavour.
    pub memory: Option<(PathBuf, bool)>,
    /// A v1 cpuacct directory (`cpuacct.usage_user`).
    pub cpuacct: Option<PathBuf>,
    /// The directory whose tree lists the zone's processes.
    pub procs: Option<PathBuf>,
}

impl CgroupSet {
    /// What each of a zone's directories answers, by the host's cgroup
    /// layout as the runtime detects it
    /// ([`cgroup::host_hierarchies`](crate::runtime::linux::cgroup::host_hierarchies)).
    pub fn detect(paths: &[PathBuf]) -> CgroupSet {
        CgroupSet::from_layout(paths, crate::runtime::linux::cgroup::host_hierarchies())
    }

    /// [`detect`](Self::detect) against given hierarchies (recorded trees
    /// in tests). A directory's hierarchy says whether it is cgroup2 and,
    /// on v1, which controllers it has; on cgroup2 a controller is there
    /// when its parent enabled it, as the directory's `cgroup.controllers`
    /// lists. A directory in no known hierarchy answers nothing.
    pub fn from_layout(paths: &[PathBuf], hierarchies: &[Hierarchy]) -> CgroupSet {
        let mut set = CgroupSet::default();
        for p in paths {
            let Some(h) = crate::runtime::linux::cgroup::hierarchy_of(hierarchies, p) else {
                continue;
            };
            let v2 = h.is_v2();
            let enabled = if v2 {
                std::fs::read_to_string(p.join("cgroup.controllers")).unwrap_or_default()
            } else {
                String::new()
            };
            let has = |c: &str| {
                if v2 {
                    enabled.split_whitespace().any(|e| e == c)
                } else {
                    h.controllers.iter().any(|e| e == c)
                }
            };
            if v2 && set.v2.is_none() {
                set.v2 = Some(p.clone());
            }
            if set.pids.is_none() && has("pids") {
                set.pids = Some(p.clone());
            }
            if set.memory.is_none() && has("memory") {
                set.memory = Some((p.clone(), v2));
            }
            if set.cpuacct.is_none() && !v2 && has("cpuacct") {
                set.cpuacct = Some(p.clone());
            }
        }
        // Any hierarchy holds every process of the zone. Prefer cgroup2:
        // its cgroup.procs and cgroup.threads walk the cgroup's tasks anew
        // on each pread of a kept descriptor, where v1's must be reopened
        // every tick and build, sort and cache a pid list on each open
        // (see [`Kept`]); then the one whose files we read anyway.
        set.procs = set
            .v2
            .clone()
            .or_else(|| set.pids.clone())
            .or_else(|| set.memory.as_ref().map(|m| m.0.clone()))
            .or_else(|| set.cpuacct.clone())
            .or_else(|| paths.first().cloned());
        set
    }
}

/// What the cgroup files of one zone say (per-process sums excluded).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CgroupCounters {
    pub nprocs: u64,
    /// `pids.current`, else the number of tasks listed.
    pub nlwps: u64,
    pub swapresv: u64,
    pub mem_usage: u64,
    pub rss: u64,
    /// memory.stat unevictable (bytes); `None` without a memory cgroup.
    pub unevictable: Option<u64>,
    pub nsec_user: u64,
    pub nsec_sys: u64,
    /// The sum of the tree's cumulative CPU counters, ns: v1
    /// `cpuacct.usage` (ns grain) and cgroup2 `cpu.stat` usage_usec × 1000,
    /// those the zone has. Each only grows while a thread of the zone runs,
    /// so while it and the thread list stay the same no thread of the zone
    /// was on a CPU ([`WaitrqTracker::update_if_ran`]).
    pub cpu_usage: Option<u64>,
    pub forkfail_cap: u64,
    pub psi: Option<Psi>,
}

/// Read a whole small file into `buf` (cleared first).
fn read_into(path: &Path, buf: &mut String) -> io::Result<()> {
    buf.clear();
    File::open(path)?.read_to_string(buf)?;
    Ok(())
}

fn with_path(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// A `key value` file (memory.stat, cpu.stat, pids.events) as a lookup.
pub fn keyed(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

/// [`keyed`] for several keys in one pass over the text (memory.stat has
/// some 40 lines and six of them are wanted every tick).
pub fn keyed_all<const N: usize>(text: &str, keys: [&str; N]) -> [Option<u64>; N] {
    let mut out = [None; N];
    let mut left = N;
    for l in text.lines() {
        let Some((k, v)) = l.split_once(' ') else {
            continue;
        };
        if let Some(i) = keys.iter().position(|key| *key == k)
            && out[i].is_none()
            && let Ok(n) = v.trim().parse()
        {
            out[i] = Some(n);
            left -= 1;
            if left == 0 {
                break;
            }
        }
    }
    out
}

/// A PSI file: (some avg10, full avg10).
pub fn parse_psi(text: &str) -> (f64, f64) {
    let mut out = (0.0, 0.0);
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let kind = words.next();
        let avg10 = words
            .find_map(|w| w.strip_prefix("avg10="))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        match kind {
            Some("some") => out.0 = avg10,
            Some("full") => out.1 = avg10,
            _ => {}
        }
    }
    out
}

/// PSI from the three pressure files under `dir` (a cgroup2 directory or
/// /proc/pressure with names cpu, memory, io), `None` if none is readable.
pub fn read_psi(dir: &Path, suffix: &str, buf: &mut String) -> Option<Psi> {
    let mut any = false;
    let mut read = |name: &str| {
        let p = dir.join(format!("{name}{suffix}"));
        match read_into(&p, buf) {
            Ok(()) => {
                any = true;
                parse_psi(buf)
            }
            Err(_) => (0.0, 0.0),
        }
    };
    let cpu = read("cpu");
    let memory = read("memory");
    let io = read("io");
    any.then_some(Psi {
        cpu_some: cpu.0,
        memory_some: memory.0,
        memory_full: memory.1,
        io_some: io.0,
        io_full: io.1,
    })
}

/// Every process (tgid) and task (tid) in the cgroup `dir` and below,
/// appended to `procs` and `tids` (sorted and without duplicates on
/// return). v2 lists threads in `cgroup.threads`, v1 in `tasks`.
pub fn walk_tree(
    dir: &Path,
    procs: &mut Vec<u32>,
    tids: &mut Vec<u32>,
    buf: &mut String,
) -> io::Result<()> {
    use crate::runtime::linux::cgroup::parse_pids as numbers;
    fn walk(
        dir: &Path,
        procs: &mut Vec<u32>,
        tids: &mut Vec<u32>,
        buf: &mut String,
        top: bool,
    ) -> io::Result<()> {
        let p = dir.join("cgroup.procs");
        match read_into(&p, buf) {
            Ok(()) => numbers(buf, procs),
            // A child cgroup removed while we walk is no error.
            Err(e) if !top && e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(with_path(&p, e)),
        }
        if read_into(&dir.join("cgroup.threads"), buf).is_ok()
            || read_into(&dir.join("tasks"), buf).is_ok()
        {
            numbers(buf, tids);
        }
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if !top => {
                let _ = e;
                return Ok(());
            }
            Err(e) => return Err(with_path(dir, e)),
        };
        for entry in entries.flatten() {
            if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                walk(&entry.path(), procs, tids, buf, false)?;
            }
        }
        Ok(())
    }
    walk(dir, procs, tids, buf, true)?;
    procs.sort_unstable();
    procs.dedup();
    tids.sort_unstable();
    tids.dedup();
    Ok(())
}

/// A cgroup file kept open between ticks and re-read with `pread` at
/// offset 0 (kernfs regenerates the text): one syscall per read instead
/// of open/fstat/read/close, the lean path the sampler runs every second.
///
/// A descriptor is kept only under the process's [`FdBudget`] (the same
/// one as the threads' descriptors): with a thousand zones of a dozen
/// files each, keeping them all would take more descriptors than the
/// daemon's API and engine can spare. A file beyond the budget is read by
/// path each time (open, read, close: two more system calls); whether it
/// exists is noted once, when the reader is made.
///
/// Except v1's `cgroup.procs` and `tasks`: their open file caches the pid
/// list it built first and keeps serving it while it is read at least once
/// a second (the kernel drops it one second after the last read), so a
/// descriptor kept open would list the zone's processes of the first tick
/// forever. Those are always opened anew ([`Kept::fresh`]) and hold no
/// descriptor between ticks.
struct Kept {
    path: PathBuf,
    /// The kept descriptor, when the budget had room.
    file: Option<KeptFd>,
    /// The file was there when the reader was made.
    present: bool,
}

impl std::fmt::Debug for Kept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kept")
            .field("path", &self.path)
            .field("kept", &self.file.is_some())
            .field("present", &self.present)
            .finish()
    }
}

impl Kept {
    /// A file read every tick (the probe): kept while the budget has room.
    fn open(path: PathBuf, budget: &Arc<FdBudget>) -> Kept {
        Kept::open_within(path, budget, budget.cap())
    }

    /// A file read only on some ticks: kept while half the budget is free.
    fn open_spare(path: PathBuf, budget: &Arc<FdBudget>) -> Kept {
        Kept::open_within(path, budget, budget.cap() / 2)
    }

    fn open_within(path: PathBuf, budget: &Arc<FdBudget>, limit: usize) -> Kept {
        let Some(ticket) = budget.take_below(limit) else {
            return Kept::fresh(path);
        };
        match File::open(&path) {
            Ok(file) => Kept {
                path,
                file: Some(KeptFd {
                    file,
                    _ticket: ticket,
                }),
                present: true,
            },
            // The table is full anyway: read it by path.
            Err(e)
                if e.raw_os_error() == Some(libc::EMFILE)
                    || e.raw_os_error() == Some(libc::ENFILE) =>
            {
                drop(ticket);
                Kept::fresh(path)
            }
            Err(_) => Kept {
                path,
                file: None,
                present: false,
            },
        }
    }

    /// A file opened anew for every read (see above).
    fn fresh(path: PathBuf) -> Kept {
        let present = std::fs::symlink_metadata(&path).is_ok();
        Kept {
            path,
            file: None,
            present,
        }
    }

    fn exists(&self) -> bool {
        self.present
    }

    /// The whole file into `buf`; NotFound if it was not there.
    fn read<'b>(&self, buf: &'b mut Vec<u8>) -> io::Result<&'b str> {
        let reopened;
        let f = match &self.file {
            Some(k) => &k.file,
            None if self.present => {
                reopened = File::open(&self.path).map_err(|e| with_path(&self.path, e))?;
                &reopened
            }
            None => {
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("{}: not present", self.path.display()),
                ));
            }
        };
        if buf.len() < 4096 {
            buf.resize(4096, 0);
        }
        let mut len = 0;
        loop {
            if len == buf.len() {
                buf.resize(buf.len() * 2, 0);
            }
            let n = f
                .read_at(&mut buf[len..], len as u64)
                .map_err(|e| with_path(&self.path, e))?;
            if n == 0 {
                break;
            }
            len += n;
        }
        std::str::from_utf8(&buf[..len]).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {e}", self.path.display()),
            )
        })
    }

    fn u64(&self, buf: &mut Vec<u8>) -> Option<u64> {
        let t = self.read(buf).ok()?.trim();
        if t == "max" {
            Some(u64::MAX)
        } else {
            t.parse().ok()
        }
    }
}

/// The cgroup files of one zone, opened once and read every tick.
#[derive(Debug)]
pub struct CgroupReader {
    set: CgroupSet,
    /// The process tree's top directory (its link count tells whether
    /// there are child cgroups to walk): kept under the budget, else
    /// looked at by path.
    top: Option<Kept>,
    procs: Option<Kept>,
    /// `cgroup.threads` (v2) or `tasks` (v1).
    threads: Option<Kept>,
    pids_current: Option<Kept>,
    pids_events: Option<Kept>,
    memory_stat: Option<Kept>,
    /// v2 memory.current, v1 memory.usage_in_bytes.
    memory_usage: Option<Kept>,
    /// v2 memory.swap.current, v1 memory.memsw.usage_in_bytes.
    memory_swap: Option<Kept>,
    cpu_stat: Option<Kept>,
    cpuacct_user: Option<Kept>,
    cpuacct_sys: Option<Kept>,
    /// v1 `cpuacct.usage` (ns, the whole tree).
    cpuacct_usage: Option<Kept>,
    psi: [Option<Kept>; 3],
    bytes: Vec<u8>,
    /// The last full read and the probe taken before it.
    quiet: Option<Quiet>,
    /// The zone's own init (pid 1 of its pid namespace: zsched), and its
    /// /proc/PID/schedstat: its CPU time is taken out of the probe's clock.
    init: Option<(u32, Kept)>,
    budget: Arc<FdBudget>,
    /// Full reads so far (the rest were answered from the last one).
    full_reads: u64,
}

/// What a [`CgroupReader`] answers while its zone stays quiet.
#[derive(Debug)]
struct Quiet {
    probe: Probe,
    counters: CgroupCounters,
    procs: Vec<u32>,
    tids: Vec<u32>,
    /// Reads answered from this since the full read.
    ticks: u32,
}

/// The probe: the zone's CPU clock (v1 `cpuacct.usage`, else cgroup2
/// `cpu.stat` usage_usec), its task count (`pids.current`) and its
/// charged memory (`memory.usage_in_bytes` / `memory.current`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Probe {
    cpu: u64,
    tasks: u64,
    memory: Option<u64>,
}

/// A zone whose probe stands still is read in full again at least this
/// often (reads, i.e. seconds for the sampler): what can change without
/// its tasks running, its count of them or its charged memory moving
/// (pages aged to the inactive list, an I/O stall begun before the
/// quiet ticks) is at most this old.
pub const QUIET_FULL_EVERY: u32 = 10;

impl CgroupReader {
    /// Open the files `set` says are there, keeping descriptors under the
    /// process's budget ([`FdBudget::process`]).
    pub fn new(set: CgroupSet) -> CgroupReader {
        CgroupReader::with_budget(set, &FdBudget::process())
    }

    /// Open the files `set` says are there, keeping at most what `budget`
    /// allows open (the rest is read by path each time).
    pub fn with_budget(set: CgroupSet, budget: &Arc<FdBudget>) -> CgroupReader {
        // The probe's files first, under the whole budget; the rest under
        // half of it (see [`CgroupReader`]).
        let at = |dir: &Option<PathBuf>, name: &str| {
            dir.as_ref().map(|d| Kept::open(d.join(name), budget))
        };
        let spare = |dir: &Option<PathBuf>, name: &str| {
            dir.as_ref().map(|d| Kept::open_spare(d.join(name), budget))
        };
        let mem_dir = set.memory.as_ref().map(|m| m.0.clone());
        let v2_mem = set.memory.as_ref().is_some_and(|m| m.1);
        // The CPU clock of the probe: v1 cpuacct.usage where there is one
        // (ns grain, no rstat flush), else cgroup2 cpu.stat.
        let cpuacct_usage = at(&set.cpuacct, "cpuacct.usage");
        let cpu_probe = cpuacct_usage.as_ref().is_none_or(|k| !k.exists());
        let cpu_stat = if cpu_probe {
            at(&set.v2, "cpu.stat")
        } else {
            spare(&set.v2, "cpu.stat")
        };
        let pids_current = at(&set.pids, "pids.current");
        let memory_usage = at(
            &mem_dir,
            if v2_mem {
                "memory.current"
            } else {
                "memory.usage_in_bytes"
            },
        );
        let threads = set.procs.as_ref().map(|d| {
            let t = Kept::open_spare(d.join("cgroup.threads"), budget);
            if t.exists() {
                t
            } else {
                Kept::fresh(d.join("tasks"))
            }
        });
        // The lists are v1's unless they are the cgroup2 directory's
        // (the layout said which, [`CgroupSet::detect`]).
        let procs_v1 = set.procs.is_some() && set.procs != set.v2;
        let procs = set.procs.as_ref().map(|d| {
            if procs_v1 {
                Kept::fresh(d.join("cgroup.procs"))
            } else {
                Kept::open_spare(d.join("cgroup.procs"), budget)
            }
        });
        // cpu.stat (any cgroup2 directory has it) carries user and system
        // time: cpuacct's two files would never be read.
        let no_cpu_stat = cpu_stat.as_ref().is_none_or(|k| !k.exists());
        let cpuacct = set.cpuacct.clone().filter(|_| no_cpu_stat);
        CgroupReader {
            top: set
                .procs
                .as_ref()
                .map(|d| Kept::open_spare(d.clone(), budget)),
            procs,
            threads,
            pids_current,
            pids_events: spare(&set.pids, "pids.events"),
            memory_stat: spare(&mem_dir, "memory.stat"),
            memory_usage,
            memory_swap: spare(
                &mem_dir,
                if v2_mem {
                    "memory.swap.current"
                } else {
                    "memory.memsw.usage_in_bytes"
                },
            ),
            cpu_stat,
            cpuacct_user: spare(&cpuacct, "cpuacct.usage_user"),
            cpuacct_sys: spare(&cpuacct, "cpuacct.usage_sys"),
            cpuacct_usage,
            psi: [
                spare(&set.v2, "cpu.pressure"),
                spare(&set.v2, "memory.pressure"),
                spare(&set.v2, "io.pressure"),
            ],
            bytes: Vec::new(),
            quiet: None,
            init: None,
            budget: budget.clone(),
            full_reads: 0,
            set,
        }
    }

    pub fn set(&self) -> &CgroupSet {
        &self.set
    }

    /// How many of its reads so far read every file (the others found the
    /// zone quiet, see [`CgroupReader::read`]).
    pub fn full_reads(&self) -> u64 {
        self.full_reads
    }

    /// Descriptors this reader keeps open between reads.
    pub fn open_descriptors(&self) -> usize {
        let kept = |k: &Option<Kept>| usize::from(k.as_ref().is_some_and(|k| k.file.is_some()));
        [
            &self.top,
            &self.procs,
            &self.threads,
            &self.pids_current,
            &self.pids_events,
            &self.memory_stat,
            &self.memory_usage,
            &self.memory_swap,
            &self.cpu_stat,
            &self.cpuacct_user,
            &self.cpuacct_sys,
            &self.cpuacct_usage,
        ]
        .into_iter()
        .chain(&self.psi)
        .map(kept)
        .sum()
    }

    /// Are there child cgroups below the top (link count above 2)?
    fn has_children(&self) -> bool {
        use std::os::unix::fs::MetadataExt;
        let meta = match &self.top {
            Some(Kept { file: Some(k), .. }) => k.file.metadata(),
            Some(k) if k.present => std::fs::metadata(&k.path),
            _ => return false,
        };
        meta.map(|m| m.nlink() > 2).unwrap_or(true)
    }

    /// Read the zone's counters. `procs` and `tids` receive the zone's
    /// processes and threads (sorted). Fails only when the zone's process
    /// list cannot be read (its cgroup is gone); a counter whose file is
    /// missing reads 0.
    ///
    /// A zone that stayed quiet since the last read (the probe: CPU clock,
    /// task count and charged memory all as they were) is answered from
    /// that read: three `pread`s instead of a dozen files, and a read of
    /// its PSI files only while its pressure averages still decay to 0.
    /// Every [`QUIET_FULL_EVERY`]th read is a full one all the same.
    /// Without a CPU clock or a task count every read is full.
    pub fn read(
        &mut self,
        procs: &mut Vec<u32>,
        tids: &mut Vec<u32>,
        buf: &mut String,
    ) -> io::Result<CgroupCounters> {
        let probe = self.probe();
        if let (Some(p), Some(q)) = (probe, self.quiet.as_mut())
            && q.probe == p
            && q.ticks + 1 < QUIET_FULL_EVERY
        {
            q.ticks += 1;
            procs.clone_from(&q.procs);
            tids.clone_from(&q.tids);
            if q.counters.psi.is_some_and(|p| {
                [
                    p.cpu_some,
                    p.memory_some,
                    p.memory_full,
                    p.io_some,
                    p.io_full,
                ]
                .iter()
                .any(|v| *v != 0.0)
            }) {
                q.counters.psi = read_psi_files(&self.psi, &mut self.bytes);
            }
            return Ok(q.counters.clone());
        }
        let c = self.read_full(procs, tids, buf)?;
        self.full_reads += 1;
        if self
            .init
            .as_ref()
            .is_none_or(|(pid, _)| procs.binary_search(pid).is_err())
        {
            self.init = find_init(procs).map(|pid| {
                let k = Kept::open(
                    PathBuf::from(format!("/proc/{pid}/schedstat")),
                    &self.budget,
                );
                (pid, k)
            });
        }
        self.quiet = probe.map(|probe| Quiet {
            probe,
            counters: c.clone(),
            procs: procs.clone(),
            tids: tids.clone(),
            ticks: 0,
        });
        Ok(c)
    }

    /// The zone's probe now (see [`CgroupReader::read`]); `None` when it
    /// has no CPU clock or task count to read.
    fn probe(&mut self) -> Option<Probe> {
        let bytes = &mut self.bytes;
        let cpu = match (&self.cpuacct_usage, &self.cpu_stat) {
            (Some(k), _) if k.exists() => k.u64(bytes)?,
            (_, Some(k)) => keyed(k.read(bytes).ok()?, "usage_usec")?.saturating_mul(1000),
            _ => return None,
        };
        // Less what the zone's init ran (its CPU time in ns, field 1).
        let cpu = match &self.init {
            Some((_, k)) => {
                let ran: u64 = k
                    .read(bytes)
                    .ok()?
                    .split_whitespace()
                    .next()?
                    .parse()
                    .ok()?;
                cpu.wrapping_sub(ran)
            }
            None => cpu,
        };
        let tasks = self.pids_current.as_ref()?.u64(bytes)?;
        let memory = self.memory_usage.as_ref().and_then(|k| k.u64(bytes));
        Some(Probe { cpu, tasks, memory })
    }

    fn read_full(
        &mut self,
        procs: &mut Vec<u32>,
        tids: &mut Vec<u32>,
        buf: &mut String,
    ) -> io::Result<CgroupCounters> {
        use crate::runtime::linux::cgroup::parse_pids as numbers;
        let mut c = CgroupCounters::default();
        procs.clear();
        tids.clear();
        let children = self.has_children();
        let bytes = &mut self.bytes;
        if let Some(p) = &self.procs {
            numbers(p.read(bytes)?, procs);
            if let Some(t) = &self.threads
                && let Ok(text) = t.read(bytes)
            {
                numbers(text, tids);
            }
            if children && let Some(top) = &self.set.procs {
                // Rare (nested jails, a zone's own cgroups): walk by path.
                procs.clear();
                tids.clear();
                walk_tree(top, procs, tids, buf)?;
            } else {
                procs.sort_unstable();
                procs.dedup();
                tids.sort_unstable();
                tids.dedup();
            }
        }
        c.nprocs = procs.len() as u64;
        c.nlwps = tids.len() as u64;

        if let Some(n) = self.pids_current.as_ref().and_then(|k| k.u64(bytes)) {
            c.nlwps = n;
        }
        if let Some(Ok(text)) = self.pids_events.as_ref().map(|k| k.read(bytes)) {
            c.forkfail_cap = keyed(text, "max").unwrap_or(0);
        }

        let v2_mem = self.set.memory.as_ref().is_some_and(|m| m.1);
        let usage = self
            .memory_usage
            .as_ref()
            .and_then(|k| k.u64(bytes))
            .unwrap_or(0);
        let swap_file = self.memory_swap.as_ref().and_then(|k| k.u64(bytes));
        if let Some(Ok(stat)) = self.memory_stat.as_ref().map(|k| k.read(bytes)) {
            if v2_mem {
                let [inactive, anon, shmem, swapcached, mapped, unevictable] = keyed_all(
                    stat,
                    [
                        "inactive_file",
                        "anon",
                        "shmem",
                        "swapcached",
                        "file_mapped",
                        "unevictable",
                    ],
                )
                .map(|v| v.unwrap_or(0));
                c.mem_usage = usage.saturating_sub(inactive);
                c.rss = anon + mapped;
                c.unevictable = Some(unevictable);
                c.swapresv = (anon + shmem + swap_file.unwrap_or(0)).saturating_sub(swapcached);
            } else {
                let [inactive, rss, shmem, mapped, unevictable, total_swap] = keyed_all(
                    stat,
                    [
                        "total_inactive_file",
                        "total_rss",
                        "total_shmem",
                        "total_mapped_file",
                        "total_unevictable",
                        "total_swap",
                    ],
                );
                let [rss, shmem] = [rss, shmem].map(|v| v.unwrap_or(0));
                c.mem_usage = usage.saturating_sub(inactive.unwrap_or(0));
                c.rss = rss + mapped.unwrap_or(0);
                c.unevictable = Some(unevictable.unwrap_or(0));
                let swap = total_swap
                    .unwrap_or_else(|| swap_file.map_or(0, |memsw| memsw.saturating_sub(usage)));
                c.swapresv = rss + shmem + swap;
            }
        }

        let mut cpu_done = false;
        if let Some(Ok(text)) = self.cpu_stat.as_ref().map(|k| k.read(bytes)) {
            let [usage, user, system] = keyed_all(text, ["usage_usec", "user_usec", "system_usec"]);
            c.cpu_usage = usage.map(|u| u.saturating_mul(1000));
            if let (Some(u), Some(s)) = (user, system) {
                c.nsec_user = u.saturating_mul(1000);
                c.nsec_sys = s.saturating_mul(1000);
                cpu_done = true;
            }
        }
        if let Some(ns) = self.cpuacct_usage.as_ref().and_then(|k| k.u64(bytes)) {
            c.cpu_usage = Some(c.cpu_usage.unwrap_or(0).wrapping_add(ns));
        }
        if !cpu_done {
            c.nsec_user = self
                .cpuacct_user
                .as_ref()
                .and_then(|k| k.u64(bytes))
                .unwrap_or(0);
            c.nsec_sys = self
                .cpuacct_sys
                .as_ref()
                .and_then(|k| k.u64(bytes))
                .unwrap_or(0);
        }

        c.psi = read_psi_files(&self.psi, bytes);
        Ok(c)
    }
}

/// The process of `procs` (sorted) that is pid 1 of its pid namespace
/// below the host's: a zone's zsched. The lowest such pid (a nested
/// zone's init is one too, started later).
fn find_init(procs: &[u32]) -> Option<u32> {
    procs.iter().copied().find(|p| {
        std::fs::read_to_string(format!("/proc/{p}/status")).is_ok_and(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("NSpid:"))
                .is_some_and(|l| {
                    let ids: Vec<&str> = l.split_whitespace().collect();
                    ids.len() > 1 && ids.last() == Some(&"1")
                })
        })
    })
}

/// A zone's `cpu`, `memory` and `io.pressure` avg10s; `None` when none
/// could be read.
fn read_psi_files(files: &[Option<Kept>; 3], bytes: &mut Vec<u8>) -> Option<Psi> {
    let mut psi = [None; 3];
    for (slot, k) in psi.iter_mut().zip(files) {
        if let Some(Ok(text)) = k.as_ref().map(|k| k.read(bytes)) {
            *slot = Some(parse_psi(text));
        }
    }
    if psi.iter().any(Option::is_some) {
        let [cpu, memory, io] = psi.map(|p| p.unwrap_or((0.0, 0.0)));
        Some(Psi {
            cpu_some: cpu.0,
            memory_some: memory.0,
            memory_full: memory.1,
            io_some: io.0,
            io_full: io.1,
        })
    } else {
        None
    }
}

/// Read the cgroup files of one zone once (the sampler keeps a
/// [`CgroupReader`] instead). `procs` and `tids` receive the zone's
/// processes and threads (sorted).
pub fn read_cgroups(
    set: &CgroupSet,
    procs: &mut Vec<u32>,
    tids: &mut Vec<u32>,
    buf: &mut String,
) -> io::Result<CgroupCounters> {
    let mut r = CgroupReader::new(set.clone());
    if let Some(top) = &set.procs
        && r.procs.as_ref().is_none_or(|k| !k.exists())
    {
        let p = top.join("cgroup.procs");
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{}: no such file", p.display()),
        ));
    }
    r.read(procs, tids, buf)
}

/// The value of a `Key:   N kB` line of /proc/PID/status, in bytes.
pub fn status_kb(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let rest = l.strip_prefix(key)?.strip_prefix(':')?;
        let n: u64 = rest.trim().trim_end_matches("kB").trim().parse().ok()?;
        Some(n * 1024)
    })
}

/// Σ VmLck over `procs`, bytes (a process that vanished counts 0).
pub fn sum_vmlck(proc_root: &Path, procs: &[u32], buf: &mut String) -> u64 {
    procs
        .iter()
        .filter_map(|pid| {
            read_into(&proc_root.join(pid.to_string()).join("status"), buf).ok()?;
            status_kb(buf, "VmLck")
        })
        .sum()
}

/// Field 2 of a schedstat line: ns spent waiting on a run queue.
pub fn schedstat_wait(bytes: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(bytes).ok()?;
    text.split_ascii_whitespace().nth(1)?.parse().ok()
}

/// How many descriptors the [`WaitrqTracker`]s and [`CgroupReader`]s
/// sharing it may keep open.
#[derive(Debug)]
pub struct FdBudget {
    cap: usize,
    used: AtomicUsize,
}

impl FdBudget {
    pub fn new(cap: usize) -> Arc<FdBudget> {
        Arc::new(FdBudget {
            cap,
            used: AtomicUsize::new(0),
        })
    }

    /// The budget of every reader of this process: a quarter of the soft
    /// RLIMIT_NOFILE when first asked (the sampler raises the limit first).
    pub fn process() -> Arc<FdBudget> {
        static PROCESS: OnceLock<Arc<FdBudget>> = OnceLock::new();
        PROCESS
            .get_or_init(|| {
                let nofile =
                    nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
                        .map_or(1024, |(soft, _)| soft);
                FdBudget::new(usize::try_from(nofile / 4).unwrap_or(usize::MAX))
            })
            .clone()
    }

    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Descriptors kept now.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    fn take(self: &Arc<Self>) -> Option<Ticket> {
        self.take_below(self.cap)
    }

    /// A place while fewer than `limit` (at most the cap) are kept: the
    /// files a reader needs only on some ticks stop at half the budget,
    /// so that the ones it reads every tick stay kept for many more
    /// zones ([`CgroupReader`]'s probe).
    fn take_below(self: &Arc<Self>, limit: usize) -> Option<Ticket> {
        let limit = limit.min(self.cap);
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |n| {
                (n < limit).then_some(n + 1)
            })
            .ok()
            .map(|_| Ticket(self.clone()))
    }
}

/// One descriptor's place in an [`FdBudget`], given back on drop.
struct Ticket(Arc<FdBudget>);

impl Drop for Ticket {
    fn drop(&mut self) {
        self.0.used.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A descriptor kept under a budget.
struct KeptFd {
    file: File,
    _ticket: Ticket,
}

/// A thread's schedstat, by path (no descriptor kept).
fn read_path(proc_root: &Path, tid: u32) -> Option<u64> {
    std::fs::read(thread_path(proc_root, tid))
        .ok()
        .and_then(|b| schedstat_wait(&b))
}

fn thread_path(proc_root: &Path, tid: u32) -> PathBuf {
    proc_root.join(format!("{tid}/task/{tid}/schedstat"))
}

struct ThreadStat {
    /// `None` beyond the budget or when no descriptor could be had
    /// (EMFILE): read by path each time.
    file: Option<KeptFd>,
    last: u64,
    seen: u64,
}

/// The run-queue wait of a set of threads, kept across ticks (see the
/// module comment).
pub struct WaitrqTracker {
    proc_root: PathBuf,
    budget: Arc<FdBudget>,
    threads: HashMap<u32, ThreadStat>,
    /// What threads that have exited had accumulated at their last sample.
    exited: u64,
    generation: u64,
    /// The CPU clock and thread list of the last [`Self::update_if_ran`]
    /// that read the threads (`None` after any other update).
    ran_clock: Option<u64>,
    ran_tids: Vec<u32>,
}

impl WaitrqTracker {
    /// `proc_root` is /proc, or a recorded tree in tests; descriptors
    /// under the process's budget ([`FdBudget::process`]).
    pub fn new(proc_root: impl Into<PathBuf>) -> WaitrqTracker {
        WaitrqTracker::with_budget(proc_root, FdBudget::process())
    }

    /// A tracker keeping descriptors under `budget`.
    pub fn with_budget(proc_root: impl Into<PathBuf>, budget: Arc<FdBudget>) -> WaitrqTracker {
        WaitrqTracker {
            proc_root: proc_root.into(),
            budget,
            threads: HashMap::new(),
            exited: 0,
            generation: 0,
            ran_clock: None,
            ran_tids: Vec::new(),
        }
    }

    /// Threads with a descriptor kept open.
    pub fn open_descriptors(&self) -> usize {
        self.threads.values().filter(|t| t.file.is_some()).count()
    }

    fn read_fd(file: &File) -> Option<u64> {
        let mut b = [0u8; 96];
        let n = file.read_at(&mut b, 0).ok()?;
        schedstat_wait(&b[..n])
    }

    fn open(&self, tid: u32) -> Option<(Option<KeptFd>, u64)> {
        let Some(ticket) = self.budget.take() else {
            return read_path(&self.proc_root, tid).map(|v| (None, v));
        };
        match File::open(thread_path(&self.proc_root, tid)) {
            Ok(file) => {
                let v = Self::read_fd(&file)?;
                Some((
                    Some(KeptFd {
                        file,
                        _ticket: ticket,
                    }),
                    v,
                ))
            }
            Err(e)
                if e.raw_os_error() == Some(libc::EMFILE)
                    || e.raw_os_error() == Some(libc::ENFILE) =>
            {
                drop(ticket);
                read_path(&self.proc_root, tid).map(|v| (None, v))
            }
            Err(_) => None,
        }
    }

    fn reread(&self, tid: u32, t: &ThreadStat) -> Option<u64> {
        match &t.file {
            Some(f) => Self::read_fd(&f.file),
            None => read_path(&self.proc_root, tid),
        }
    }

    /// [`Self::update`], unless no thread can have waited since the last
    /// call: the threads are the same and `cpu_clock` (the zone's
    /// [`CgroupCounters::cpu_usage`]) has not moved. A thread's run-queue
    /// wait grows only when the scheduler puts it on a CPU, where it is
    /// then charged CPU time; one that is put on a CPU just before the
    /// clock is read and not yet charged is counted a tick later. Threads
    /// that come, go or exit change the list. Returns the total wait, ns.
    pub fn update_if_ran(&mut self, tids: &[u32], cpu_clock: Option<u64>) -> u64 {
        if cpu_clock.is_some() && self.ran_clock == cpu_clock && self.ran_tids == tids {
            return self.total();
        }
        let total = self.update(tids);
        self.ran_clock = cpu_clock;
        self.ran_tids.clear();
        self.ran_tids.extend_from_slice(tids);
        total
    }

    /// The zone's threads are now `tids`: re-read the known ones, open the
    /// new ones, retire the dead ones. Returns the zone's total wait, ns.
    pub fn update(&mut self, tids: &[u32]) -> u64 {
        self.ran_clock = None;
        self.generation += 1;
        let generation = self.generation;
        for &tid in tids {
            let known = self.threads.get(&tid).map(|t| self.reread(tid, t));
            match known {
                Some(Some(v)) => {
                    let t = self.threads.get_mut(&tid).expect("known");
                    t.last = t.last.max(v);
                    t.seen = generation;
                }
                other => {
                    // New, or the descriptor's thread died and the tid was
                    // reused: retire the old one, start the new one.
                    if other.is_some()
                        && let Some(old) = self.threads.remove(&tid)
                    {
                        self.exited += old.last;
                    }
                    if let Some((file, last)) = self.open(tid) {
                        self.threads.insert(
                            tid,
                            ThreadStat {
                                file,
                                last,
                                seen: generation,
                            },
                        );
                    }
                }
            }
        }
        // Threads not listed any more: exited (or left the zone). Keep the
        // last value we can get and let them go.
        let gone: Vec<u32> = self
            .threads
            .iter()
            .filter(|(_, t)| t.seen != generation)
            .map(|(tid, _)| *tid)
            .collect();
        for tid in gone {
            let t = self.threads.remove(&tid).expect("listed");
            let v = self.reread(tid, &t).map_or(t.last, |v| v.max(t.last));
            self.exited += v;
        }
        self.total()
    }

    /// Re-read every known thread (retiring those that exited) and start
    /// following `new_tids`, without a full list of the threads: for a set
    /// of threads too costly to list every tick (the global zone's).
    pub fn refresh(&mut self, new_tids: &[u32]) -> u64 {
        self.ran_clock = None;
        let root = &self.proc_root;
        let dead: Vec<u32> = self
            .threads
            .iter_mut()
            .filter_map(|(tid, t)| {
                let v = match &t.file {
                    Some(f) => Self::read_fd(&f.file),
                    None => read_path(root, *tid),
                };
                match v {
                    Some(v) => {
                        t.last = t.last.max(v);
                        None
                    }
                    None => Some(*tid),
                }
            })
            .collect();
        for tid in dead {
            let t = self.threads.remove(&tid).expect("listed");
            self.exited += t.last;
        }
        for &tid in new_tids {
            if !self.threads.contains_key(&tid)
                && let Some((file, last)) = self.open(tid)
            {
                let seen = self.generation;
                self.threads.insert(tid, ThreadStat { file, last, seen });
            }
        }
        self.total()
    }

    /// Exited plus live threads' wait, ns.
    pub fn total(&self) -> u64 {
        self.exited + self.threads.values().map(|t| t.last).sum::<u64>()
    }
}

/// Every pid listed in `proc_root` (thread-group leaders), ascending.
pub fn list_pids(proc_root: &Path) -> io::Result<Vec<u32>> {
    let mut pids: Vec<u32> = std::fs::read_dir(proc_root)
        .map_err(|e| with_path(proc_root, e))?
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect();
    pids.sort_unstable();
    Ok(pids)
}

/// The host's process list, kept between ticks and listed again (a
/// `getdents` walk of /proc, the costliest read of the global zone) only
/// when /proc/loadavg says that a task was made or reaped since the last
/// listing: its last field is the pid allocated last and its threads count
/// goes down with every task reaped, so while both stay the same no task
/// came or went, and /proc lists the same pids. That holds in the initial
/// pid namespace, where every task has a pid and is counted, and with
/// /proc mounted for it; elsewhere every tick lists (see [`HostPids::new`]).
#[derive(Debug)]
pub struct HostPids {
    proc_root: PathBuf,
    /// May a listing be kept while the key stays the same?
    keep: bool,
    /// (last pid, threads) of /proc/loadavg read before the last listing.
    key: Option<(u32, u32)>,
    pids: Vec<u32>,
    /// Listings done (tests).
    listings: u64,
}

/// The inode of the initial pid namespace (PROC_PID_INIT_INO).
const PROC_PID_INIT_INO: u64 = 0xEFFF_FFFC;

impl HostPids {
    /// The list of `proc_root`. The loadavg key is trusted only for the
    /// real /proc of the initial pid namespace: our /proc/self/ns/pid is
    /// that namespace and /proc/self names this process by its own pid.
    pub fn new(proc_root: impl Into<PathBuf>) -> HostPids {
        use std::os::unix::fs::MetadataExt;
        let proc_root = proc_root.into();
        let keep = proc_root == Path::new("/proc")
            && std::fs::metadata("/proc/self/ns/pid").is_ok_and(|m| m.ino() == PROC_PID_INIT_INO)
            && std::fs::read_link("/proc/self")
                .is_ok_and(|l| l.as_os_str() == std::process::id().to_string().as_str());
        HostPids::with_keep(proc_root, keep)
    }

    fn with_keep(proc_root: PathBuf, keep: bool) -> HostPids {
        HostPids {
            proc_root,
            keep,
            key: None,
            pids: Vec::new(),
            listings: 0,
        }
    }

    /// Every pid, ascending. `key` is (last pid, threads) of /proc/loadavg,
    /// read before this call.
    pub fn get(&mut self, key: (u32, u32)) -> io::Result<&[u32]> {
        if !(self.keep && self.key == Some(key)) {
            self.key = None;
            self.pids = list_pids(&self.proc_root)?;
            self.listings += 1;
            self.key = Some(key);
        }
        Ok(&self.pids)
    }
}

/// The threads of `pids` (listing /proc/PID/task of each).
pub fn list_tids(proc_root: &Path, pids: &[u32], tids: &mut Vec<u32>) {
    tids.clear();
    for pid in pids {
        if let Ok(dir) = std::fs::read_dir(proc_root.join(pid.to_string()).join("task")) {
            tids.extend(
                dir.flatten()
                    .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok()),
            );
        }
    }
    tids.sort_unstable();
    tids.dedup();
}

/// Host-wide totals the global zone is computed from (the host minus the
/// zones).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HostTotals {
    /// Every process of the host, ascending.
    pub procs: Vec<u32>,
    /// Threads (/proc/loadavg).
    pub nlwps: u64,
    /// /proc/stat user + nice, ns.
    pub nsec_user: u64,
    /// /proc/stat system + irq + softirq, ns.
    pub nsec_sys: u64,
    /// Σ run-queue wait of /proc/schedstat, when the kernel has it.
    pub nsec_waitrq: Option<u64>,
    /// meminfo Mlocked, bytes.
    pub lockedmem: u64,
    /// AnonPages + Shmem + swap used − SwapCached, bytes.
    pub swapresv: u64,
    /// MemTotal − MemAvailable (free(1)'s used), bytes.
    pub mem_usage: u64,
    /// AnonPages + Mapped, bytes.
    pub rss: u64,
    pub psi: Option<Psi>,
}

/// Σ of field 8 (run-queue wait, ns) of the `cpuN` lines of /proc/schedstat.
pub fn parse_schedstat_wait(text: &str) -> u64 {
    text.lines()
        .filter(|l| l.starts_with("cpu"))
        .filter_map(|l| l.split_ascii_whitespace().nth(8)?.parse::<u64>().ok())
        .sum()
}

/// The host's used memory as free(1) counts it: MemTotal − MemAvailable
/// (kernels before 3.14 lack MemAvailable: free, buffers and page cache
/// then count as available).
pub fn host_used(m: &procfs::Meminfo) -> u64 {
    let available = m
        .mem_available
        .unwrap_or(m.mem_free + m.buffers + m.cached + m.s_reclaimable.unwrap_or(0));
    m.mem_total.saturating_sub(available)
}

impl HostTotals {
    /// Read /proc once (procfs for the host-wide files).
    pub fn read() -> io::Result<HostTotals> {
        HostTotals::read_with(&mut HostPids::new("/proc"))
    }

    /// Read /proc (procfs for the host-wide files, read once per tick),
    /// the process list through `pids`.
    pub fn read_with(pids: &mut HostPids) -> io::Result<HostTotals> {
        use procfs::{Current, CurrentSI};
        let err = |e: procfs::ProcError| io::Error::other(e.to_string());
        let la = procfs::LoadAverage::current().map_err(err)?;
        let mut h = HostTotals {
            procs: pids.get((la.latest_pid, la.max))?.to_vec(),
            ..Default::default()
        };
        h.nlwps = u64::from(la.max);
        let stat = procfs::KernelStats::current().map_err(err)?;
        let tps = procfs::ticks_per_second().max(1);
        let t = &stat.total;
        let ns = |ticks: u64| ticks.saturating_mul(1_000_000_000) / tps;
        h.nsec_user = ns(t.user + t.nice);
        h.nsec_sys = ns(t.system + t.irq.unwrap_or(0) + t.softirq.unwrap_or(0));
        let mut buf = String::new();
        if read_into(Path::new("/proc/schedstat"), &mut buf).is_ok() {
            h.nsec_waitrq = Some(parse_schedstat_wait(&buf));
        }
        let m = procfs::Meminfo::current().map_err(err)?;
        let anon = m.anon_pages.unwrap_or(0);
        let shmem = m.shmem.unwrap_or(0);
        h.lockedmem = m.mlocked.unwrap_or(0);
        h.swapresv =
            (anon + shmem + m.swap_total.saturating_sub(m.swap_free)).saturating_sub(m.swap_cached);
        h.mem_usage = host_used(&m);
        h.rss = anon + m.mapped;
        h.psi = read_psi(Path::new("/proc/pressure"), "", &mut buf);
        Ok(h)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::fs;
    use tempfile::TempDir;

    /// /proc/TID/task/TID/schedstat under `root`: run ns, wait ns, slices.
    fn schedstat(root: &Path, tid: u32, run: u64, wait: u64, slices: u64) {
        write(
            &root.join(format!("{tid}/task/{tid}")),
            "schedstat",
            &format!("{run} {wait} {slices}\n"),
        )
    }

    fn write(dir: &Path, name: &str, text: &str) {
        fs::create_dir_all(dir).unwrap();
        fs::write(dir.join(name), text).unwrap();
    }

    /// The layout of a recorded v2 host: one cgroup2 mount at `t`.
    fn v2_layout(t: &TempDir) -> Vec<Hierarchy> {
        vec![Hierarchy {
            mount: t.path().to_path_buf(),
            controllers: vec![],
            own: PathBuf::from("/"),
        }]
    }

    /// The layout of a recorded hybrid host (what [`hybrid_tree`] makes).
    fn hybrid_layout(t: &TempDir) -> Vec<Hierarchy> {
        [
            ("pids", "pids"),
            ("memory", "memory"),
            ("cpuacct", "cpuacct"),
            ("unified", ""),
        ]
        .iter()
        .map(|(dir, c)| Hierarchy {
            mount: t.path().join(dir),
            controllers: if c.is_empty() {
                vec![]
            } else {
                vec![c.to_string()]
            },
            own: PathBuf::from("/"),
        })
        .collect()
    }

    /// A recorded v2 zone: a cgroup with one child, memory and pids on.
    fn v2_tree() -> (TempDir, PathBuf) {
        let t = TempDir::new().unwrap();
        let z = t.path().join("zones/web");
        write(&z, "cgroup.controllers", "cpu memory pids\n");
        write(&z, "cgroup.procs", "100\n101\n");
        write(&z, "cgroup.threads", "100\n101\n102\n");
        write(&z.join("svc"), "cgroup.procs", "200\n");
        write(&z.join("svc"), "cgroup.threads", "200\n201\n");
        write(&z, "pids.current", "5\n");
        write(&z, "pids.events", "max 7\n");
        write(
            &z,
            "memory.stat",
            "anon 268435456\nfile 1000\nfile_mapped 4096\nshmem 67108864\nswapcached 8192\nunevictable 0\ninactive_file 1000000\n",
        );
        write(&z, "memory.swap.current", "16384\n");
        write(&z, "memory.current", "400000000\n");
        write(
            &z,
            "cpu.stat",
            "usage_usec 3500\nuser_usec 2500\nsystem_usec 1000\nnr_periods 0\n",
        );
        write(
            &z,
            "cpu.pressure",
            "some avg10=1.50 avg60=0.00 avg300=0.00 total=9\nfull avg10=0.25 avg60=0.00 avg300=0.00 total=1\n",
        );
        write(
            &z,
            "memory.pressure",
            "some avg10=2.00 avg60=0.00 avg300=0.00 total=9\nfull avg10=1.00 avg60=0.00 avg300=0.00 total=1\n",
        );
        write(
            &z,
            "io.pressure",
            "some avg10=3.00 avg60=0.00 avg300=0.00 total=9\nfull avg10=0.50 avg60=0.00 avg300=0.00 total=1\n",
        );
        (t, z)
    }

    #[test]
    fn v2_zone_counters_follow_kstat_md() {
        let (_t, z) = v2_tree();
        let set = CgroupSet::from_layout(std::slice::from_ref(&z), &v2_layout(&_t));
        assert_eq!(set.v2.as_deref(), Some(z.as_path()));
        assert_eq!(set.memory, Some((z.clone(), true)));
        assert_eq!(set.procs.as_deref(), Some(z.as_path()));
        let (mut procs, mut tids, mut buf) = (vec![], vec![], String::new());
        let c = read_cgroups(&set, &mut procs, &mut tids, &mut buf).unwrap();
        assert_eq!(procs, [100, 101, 200]);
        assert_eq!(tids, [100, 101, 102, 200, 201]);
        assert_eq!(c.nprocs, 3);
        assert_eq!(c.nlwps, 5, "pids.current");
        assert_eq!(c.forkfail_cap, 7);
        // anon + shmem + swap.current − swapcached
        assert_eq!(c.swapresv, 268435456 + 67108864 + 16384 - 8192);
        assert_eq!(c.rss, 268435456 + 4096);
        // memory.current − inactive_file: the working set.
        assert_eq!(c.mem_usage, 400000000 - 1000000);
        assert_eq!(c.unevictable, Some(0));
        assert_eq!((c.nsec_user, c.nsec_sys), (2_500_000, 1_000_000));
        let psi = c.psi.unwrap();
        assert_eq!(
            (psi.cpu_some, psi.memory_some, psi.memory_full),
            (1.5, 2.0, 1.0)
        );
        assert_eq!((psi.io_some, psi.io_full), (3.0, 0.5));
    }

    /// The cgroup files kept open never exceed the budget; the ones beyond
    /// it are read by path and say the same, fresh values included.
    #[test]
    fn a_cgroup_reader_keeps_no_more_descriptors_than_its_budget() {
        let (_t, z) = v2_tree();
        let set = CgroupSet::from_layout(std::slice::from_ref(&z), &v2_layout(&_t));
        let budget = FdBudget::new(4);
        let none = FdBudget::new(0);
        let mut all = CgroupReader::with_budget(set.clone(), &FdBudget::new(usize::MAX));
        let mut some = CgroupReader::with_budget(set.clone(), &budget);
        let mut by_path = CgroupReader::with_budget(set.clone(), &none);
        // top, procs, threads, pids ×2, memory ×3, cpu.stat, psi ×3.
        assert_eq!(all.open_descriptors(), 12);
        // The probe's three (cpu.stat, pids.current, memory.current) under
        // the whole budget, the rest only while half of it is free.
        assert_eq!(some.open_descriptors(), 3);
        assert_eq!(budget.used(), 3);
        assert_eq!(by_path.open_descriptors(), 0);
        // A second reader gets the last place, for its probe's first file;
        // then the budget is spent.
        let other = CgroupReader::with_budget(set.clone(), &budget);
        assert_eq!(other.open_descriptors(), 1);
        assert_eq!(budget.used(), 4);
        let (mut procs, mut tids, mut buf) = (vec![], vec![], String::new());
        let mut read = |r: &mut CgroupReader| {
            let c = r.read(&mut procs, &mut tids, &mut buf).unwrap();
            (c, procs.clone(), tids.clone())
        };
        let first = read(&mut all);
        assert_eq!(first.0.nsec_user, 2_500_000);
        assert_eq!(read(&mut some), first);
        assert_eq!(read(&mut by_path), first);
        // New values, same files (kernfs rewrites in place; so does this).
        fs::write(z.join("memory.current"), "500000000\n").unwrap();
        fs::write(
            z.join("cpu.stat"),
            "usage_usec 4500\nuser_usec 3000\nsystem_usec 1500\n",
        )
        .unwrap();
        let second = read(&mut all);
        assert_eq!(second.0.mem_usage, 500000000 - 1000000);
        assert_eq!(second.0.nsec_sys, 1_500_000);
        assert_eq!(read(&mut some), second);
        assert_eq!(read(&mut by_path), second);
        drop((all, some, other));
        assert_eq!(budget.used(), 0, "descriptors given back");
    }

    /// A recorded hybrid zone: v1 pids, memory, cpuacct and a controller-less
    /// cgroup2 directory that has only cpu.stat.
    fn hybrid_tree(memsw: bool) -> (TempDir, Vec<PathBuf>) {
        let t = TempDir::new().unwrap();
        let pids = t.path().join("pids/zones/db");
        write(&pids, "cgroup.procs", "300\n");
        write(&pids, "tasks", "300\n301\n");
        write(&pids, "pids.current", "2\n");
        write(&pids, "pids.events", "max 0\n");
        let mem = t.path().join("memory/zones/db");
        write(&mem, "cgroup.procs", "300\n");
        let mut stat = String::from(
            "rss 1\nshmem 2\ntotal_rss 1048576\ntotal_shmem 65536\ntotal_mapped_file 8192\ntotal_unevictable 4096\ntotal_inactive_file 500000\n",
        );
        if memsw {
            stat.push_str("total_swap 32768\n");
        } else {
            write(&mem, "memory.memsw.usage_in_bytes", "2100000\n");
        }
        write(&mem, "memory.stat", &stat);
        write(&mem, "memory.usage_in_bytes", "2000000\n");
        let acct = t.path().join("cpuacct/zones/db");
        write(&acct, "cgroup.procs", "300\n");
        write(&acct, "cpuacct.usage_user", "7000\n");
        write(&acct, "cpuacct.usage_sys", "3000\n");
        let uni = t.path().join("unified/zones/db");
        write(&uni, "cgroup.controllers", "");
        write(&uni, "cgroup.procs", "300\n");
        write(&uni, "cgroup.threads", "300\n301\n");
        write(
            &uni,
            "cpu.stat",
            "usage_usec 12\nuser_usec 8\nsystem_usec 4\n",
        );
        (t, vec![pids, mem, acct, uni])
    }

    #[test]
    fn hybrid_zone_reads_v1_memory_and_v2_cpu_stat() {
        let (_t, paths) = hybrid_tree(true);
        let set = CgroupSet::from_layout(&paths, &hybrid_layout(&_t));
        assert_eq!(set.pids.as_ref(), Some(&paths[0]));
        assert_eq!(set.memory, Some((paths[1].clone(), false)));
        assert_eq!(set.cpuacct.as_ref(), Some(&paths[2]));
        assert_eq!(set.v2.as_ref(), Some(&paths[3]));
        // The process lists of the cgroup2 directory (kept open).
        assert_eq!(set.procs.as_ref(), Some(&paths[3]));
        let (mut procs, mut tids, mut buf) = (vec![], vec![], String::new());
        let c = read_cgroups(&set, &mut procs, &mut tids, &mut buf).unwrap();
        assert_eq!(procs, [300]);
        assert_eq!(tids, [300, 301]);
        assert_eq!(c.nlwps, 2);
        // total_rss + total_shmem + total_swap
        assert_eq!(c.swapresv, 1048576 + 65536 + 32768);
        assert_eq!(c.rss, 1048576 + 8192);
        assert_eq!(c.unevictable, Some(4096));
        assert_eq!(c.mem_usage, 2000000 - 500000);
        // cpu.stat of the cgroup2 directory wins over cpuacct (µs → ns).
        assert_eq!((c.nsec_user, c.nsec_sys), (8000, 4000));
        assert_eq!(c.psi, None);
    }

    #[test]
    fn v1_without_total_swap_uses_memsw_minus_usage_and_cpuacct() {
        let (_t, mut paths) = hybrid_tree(false);
        paths.pop(); // no cgroup2 directory
        let set = CgroupSet::from_layout(&paths, &hybrid_layout(&_t));
        let (mut procs, mut tids, mut buf) = (vec![], vec![], String::new());
        let c = read_cgroups(&set, &mut procs, &mut tids, &mut buf).unwrap();
        assert_eq!(c.swapresv, 1048576 + 65536 + (2100000 - 2000000));
        assert_eq!((c.nsec_user, c.nsec_sys), (7000, 3000));
    }

    #[test]
    fn nlwps_falls_back_to_counting_tasks() {
        let (_t, paths) = hybrid_tree(true);
        fs::remove_file(paths[0].join("pids.current")).unwrap();
        // The pids directory without pids.current: the tasks it lists
        // are counted instead.
        let set = CgroupSet::from_layout(&paths[..1], &hybrid_layout(&_t));
        let (mut procs, mut tids, mut buf) = (vec![], vec![], String::new());
        let c = read_cgroups(&set, &mut procs, &mut tids, &mut buf).unwrap();
        assert_eq!(c.nlwps, 2, "tasks file count");
    }

    #[test]
    fn a_vanished_zone_cgroup_is_an_error_naming_the_file() {
        let (_t, z) = v2_tree();
        let set = CgroupSet::from_layout(std::slice::from_ref(&z), &v2_layout(&_t));
        fs::remove_dir_all(&z).unwrap();
        let (mut procs, mut tids, mut buf) = (vec![], vec![], String::new());
        let e = read_cgroups(&set, &mut procs, &mut tids, &mut buf).unwrap_err();
        assert!(e.to_string().contains("zones/web/cgroup.procs"), "{e}");
    }

    #[test]
    fn vmlck_is_summed_from_recorded_status_files() {
        let t = TempDir::new().unwrap();
        write(
            &t.path().join("10"),
            "status",
            "Name:\ta\nVmLck:\t   65536 kB\nVmRSS:\t 1 kB\n",
        );
        write(
            &t.path().join("11"),
            "status",
            "Name:\tb\nVmLck:\t       4 kB\n",
        );
        let mut buf = String::new();
        // 12 does not exist (exited): counts 0.
        assert_eq!(
            sum_vmlck(t.path(), &[10, 11, 12], &mut buf),
            (65536 + 4) * 1024
        );
    }

    #[test]
    fn waitrq_keeps_what_exited_threads_had() {
        let t = TempDir::new().unwrap();
        let stat = |tid: u32, wait: u64| schedstat(t.path(), tid, 999, wait, 3);
        stat(1, 100);
        stat(2, 50);
        let mut w = WaitrqTracker::new(t.path());
        assert_eq!(w.update(&[1, 2]), 150);
        assert_eq!(w.open_descriptors(), 2);
        // A recorded file rewritten in place is re-read through the kept
        // descriptor (the same inode).
        fs::write(t.path().join("1/task/1/schedstat"), "999 130 3\n").unwrap();
        assert_eq!(w.update(&[1, 2]), 180);
        // Thread 2 exits (its file goes away): its 50 ns stay counted.
        fs::remove_dir_all(t.path().join("2")).unwrap();
        assert_eq!(w.update(&[1]), 180);
        stat(3, 7);
        assert_eq!(w.update(&[1, 3]), 187);
    }

    #[test]
    fn waitrq_refresh_follows_known_threads_and_adds_new_ones() {
        let t = TempDir::new().unwrap();
        let stat = |tid: u32, wait: u64| schedstat(t.path(), tid, 1, wait, 1);
        stat(1, 10);
        stat(2, 20);
        let mut w = WaitrqTracker::new(t.path());
        assert_eq!(w.update(&[1, 2]), 30);
        fs::write(t.path().join("1/task/1/schedstat"), "1 15 1\n").unwrap();
        stat(3, 5);
        // Without listing 1 and 2 again: 1 re-read, 2 kept, 3 added.
        assert_eq!(w.refresh(&[3]), 15 + 20 + 5);
        fs::remove_dir_all(t.path().join("2")).unwrap();
        assert_eq!(w.refresh(&[]), 40, "an exited thread keeps its last value");
        // A real thread that exits: its descriptor fails (ESRCH) and is
        // dropped, its wait kept.
        let mut w = WaitrqTracker::new("/proc");
        let (tx, rx) = std::sync::mpsc::channel();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let h = std::thread::spawn(move || {
            tx.send(nix::unistd::gettid().as_raw() as u32).unwrap();
            done_rx.recv().unwrap();
        });
        let tid = rx.recv().unwrap();
        let before = w.refresh(&[tid]);
        assert_eq!(w.open_descriptors(), 1);
        done_tx.send(()).unwrap();
        h.join().unwrap();
        assert!(w.refresh(&[]) >= before);
        assert_eq!(w.open_descriptors(), 0);
    }

    #[test]
    fn waitrq_reads_real_threads_through_kept_descriptors() {
        let me = std::process::id();
        let mut w = WaitrqTracker::new("/proc");
        let first = w.update(&[me]);
        assert_eq!(w.open_descriptors(), 1);
        // A thread that runs and exits: its wait stays in the total.
        let child = std::thread::spawn(|| {
            let mut x = 0u64;
            for i in 0..2_000_000u64 {
                x = x.wrapping_add(i * i);
            }
            (x, nix::unistd::gettid().as_raw() as u32)
        });
        std::thread::sleep(std::time::Duration::from_millis(1));
        let tids: Vec<u32> = std::fs::read_dir("/proc/self/task")
            .unwrap()
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse().ok())
            .collect();
        let during = w.update(&tids);
        assert!(during >= first);
        let _ = child.join().unwrap();
        let after = w.update(&[me]);
        assert!(
            after >= during,
            "the total never goes back: {after} < {during}"
        );
    }

    /// Beyond its budget a tracker reads threads by path: every thread is
    /// still followed (its total equals that of an unbounded tracker's
    /// reading at the same moment, and never goes back), only `cap`
    /// descriptors stay open, and they are given back when the threads go.
    #[test]
    fn a_tracker_keeps_no_more_descriptors_than_its_budget() {
        let mut py = threaded_python(40);
        use std::io::{BufRead, Write};
        let mut stdin = py.stdin.take().unwrap();
        writeln!(stdin).unwrap();
        let mut line = String::new();
        std::io::BufReader::new(py.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "up");
        let tids: Vec<u32> = std::fs::read_dir(format!("/proc/{}/task", py.id()))
            .unwrap()
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse().ok())
            .collect();
        assert!(tids.len() > 40, "{} threads", tids.len());
        let budget = FdBudget::new(5);
        let mut bounded = WaitrqTracker::with_budget("/proc", budget.clone());
        let mut free = WaitrqTracker::with_budget("/proc", FdBudget::new(usize::MAX));
        let a = bounded.update(&tids);
        assert_eq!(bounded.open_descriptors(), 5);
        assert_eq!(budget.used(), 5);
        assert_eq!(free.update(&tids), a, "all threads are read, kept or not");
        // A second tracker on the same budget gets none.
        let mut other = WaitrqTracker::with_budget("/proc", budget.clone());
        other.update(&tids);
        assert_eq!(other.open_descriptors(), 0);
        assert!(bounded.update(&tids) >= a);
        assert!(
            bounded.refresh(&[]) >= a,
            "threads read by path are not retired"
        );
        drop(stdin);
        py.kill().unwrap();
        py.wait().unwrap();
        let after = bounded.update(&[]);
        assert!(after >= a, "the total never goes back: {after} < {a}");
        assert_eq!(bounded.open_descriptors(), 0);
        drop(other);
        assert_eq!(budget.used(), 0, "descriptors given back");
    }

    #[test]
    fn a_kept_descriptor_sees_fresh_values() {
        // pread at offset 0 regenerates the proc file: field 1 (time on
        // CPU) of our own thread grows between two reads of one descriptor.
        let tid = nix::unistd::gettid().as_raw();
        let f = File::open(format!("/proc/{tid}/task/{tid}/schedstat")).unwrap();
        let on_cpu = |f: &File| {
            let mut b = [0u8; 96];
            let n = f.read_at(&mut b, 0).unwrap();
            let text = std::str::from_utf8(&b[..n]).unwrap().to_owned();
            text.split_whitespace()
                .next()
                .unwrap()
                .parse::<u64>()
                .unwrap()
        };
        let before = on_cpu(&f);
        let start = std::time::Instant::now();
        let mut x = 0u64;
        while start.elapsed() < std::time::Duration::from_millis(20) {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        assert!(on_cpu(&f) > before);
    }

    /// This process's own cgroup in a hierarchy, from /proc/self/cgroup
    /// (`controller` is `pids`, `memory`, ... or "" for cgroup2).
    fn own_cgroup(controller: &str) -> Option<String> {
        let text = fs::read_to_string("/proc/self/cgroup").ok()?;
        text.lines().find_map(|l| {
            let mut parts = l.splitn(3, ':');
            let (_, ctrls, path) = (parts.next()?, parts.next()?, parts.next()?);
            (ctrls.split(',').any(|c| c == controller)
                || (controller.is_empty() && ctrls.is_empty()))
            .then(|| path.to_owned())
        })
    }

    /// A zone's cgroups made beneath this test's own cgroups (never at a
    /// hierarchy's top of our own choosing, never moving this process);
    /// removed on drop.
    pub(crate) struct TestZoneCgroups(pub(crate) Vec<PathBuf>);

    impl TestZoneCgroups {
        pub(crate) fn make(name: &str) -> TestZoneCgroups {
            let mut dirs = vec![];
            for (mount, ctrl) in [
                ("/sys/fs/cgroup/pids", "pids"),
                ("/sys/fs/cgroup/memory", "memory"),
                ("/sys/fs/cgroup/cpuacct", "cpuacct"),
                ("/sys/fs/cgroup/unified", ""),
            ] {
                let own = own_cgroup(ctrl).unwrap_or_else(|| panic!("no {mount} cgroup"));
                let dir = Path::new(mount)
                    .join(own.trim_start_matches('/'))
                    .join(name);
                fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
                dirs.push(dir);
            }
            TestZoneCgroups(dirs)
        }
        pub(crate) fn enter(&self, pid: u32) {
            for d in &self.0 {
                fs::write(d.join("cgroup.procs"), pid.to_string())
                    .unwrap_or_else(|e| panic!("{}: {e}", d.display()));
            }
        }
    }

    impl Drop for TestZoneCgroups {
        /// Kill whatever the test put in the zone (even when it panicked),
        /// then remove the cgroups.
        fn drop(&mut self) {
            for _ in 0..250 {
                let mut left = 0;
                for d in &self.0 {
                    let pids = fs::read_to_string(d.join("cgroup.procs")).unwrap_or_default();
                    for pid in pids.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
                        left += 1;
                        let _ = nix::sys::signal::kill(
                            nix::unistd::Pid::from_raw(pid),
                            nix::sys::signal::Signal::SIGKILL,
                        );
                    }
                }
                if left == 0 {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            for d in &self.0 {
                for _ in 0..100 {
                    if fs::remove_dir(d).is_ok() || !d.exists() {
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
            }
        }
    }

    /// v1's cgroup.procs caches its pid list per open file while it is
    /// read at least once a second: a reader that kept it open listed the
    /// processes of its first tick forever (nprocs stuck at 2 in a zone).
    #[test]
    fn a_process_that_joins_is_listed_at_the_next_read() {
        let zone = TestZoneCgroups::make(&format!("kstat-join-{}", std::process::id()));
        // The lists of the cgroup2 directory (kept open, what the sampler
        // reads on a hybrid host), and of v1 pids without it (reopened).
        let v2 = CgroupSet::detect(&zone.0);
        assert_eq!(v2.procs.as_ref(), zone.0.last());
        let v1 = CgroupSet::detect(&zone.0[..zone.0.len() - 1]);
        assert_eq!(v1.procs.as_ref(), zone.0.first());
        for set in [v2, v1] {
            let mut r = CgroupReader::new(set);
            let (mut procs, mut tids, mut buf) = (vec![], vec![], String::new());
            assert_eq!(r.read(&mut procs, &mut tids, &mut buf).unwrap().nprocs, 0);
            let mut kids = vec![];
            for n in 1..=3u64 {
                let kid = std::process::Command::new("sleep")
                    .arg("30")
                    .spawn()
                    .unwrap();
                zone.enter(kid.id());
                kids.push(kid);
                let c = r.read(&mut procs, &mut tids, &mut buf).unwrap();
                assert_eq!(c.nprocs, n, "{procs:?}");
                assert_eq!(procs.last(), Some(&kids.last().unwrap().id()));
                assert_eq!(tids, procs, "one thread each");
            }
            for mut k in kids {
                let _ = k.kill();
                let _ = k.wait();
            }
            let c = r.read(&mut procs, &mut tids, &mut buf).unwrap();
            assert_eq!((c.nprocs, tids.len()), (0, 0));
        }
    }

    /// A quiet zone (one sleeping process) is answered from the last full
    /// read, the same figures, until the QUIET_FULL_EVERYth read; a process
    /// that joins, one that exits and one that runs each make the next
    /// read a full one that sees it.
    #[test]
    fn a_quiet_zone_is_answered_from_its_last_full_read() {
        let zone = TestZoneCgroups::make(&format!("kstat-quiet-{}", std::process::id()));
        let mut r = CgroupReader::new(CgroupSet::detect(&zone.0));
        let (mut procs, mut tids, mut buf) = (vec![], vec![], String::new());
        let sleep = || {
            std::process::Command::new("sleep")
                .arg("30")
                .spawn()
                .unwrap()
        };
        let mut first = sleep();
        zone.enter(first.id());
        // Let it reach its sleep (exec, page faults) before it is quiet.
        std::thread::sleep(std::time::Duration::from_millis(200));
        let c0 = r.read(&mut procs, &mut tids, &mut buf).unwrap();
        assert_eq!((c0.nprocs, r.full_reads()), (1, 1));
        let mut quiet = 0;
        for _ in 1..QUIET_FULL_EVERY {
            let c = r.read(&mut procs, &mut tids, &mut buf).unwrap();
            assert_eq!(c, c0);
            assert_eq!(procs, [first.id()]);
            if r.full_reads() == 1 {
                quiet += 1;
            }
        }
        // (A charge drained elsewhere may move the memory probe once.)
        assert!(quiet >= QUIET_FULL_EVERY - 2, "{quiet} quiet reads");
        let before = r.full_reads();
        for _ in 0..QUIET_FULL_EVERY {
            r.read(&mut procs, &mut tids, &mut buf).unwrap();
        }
        assert!(r.full_reads() > before, "a full read at least every 10");
        // One joins (a process moved in from outside need not run).
        let mut second = sleep();
        zone.enter(second.id());
        let before = r.full_reads();
        let c = r.read(&mut procs, &mut tids, &mut buf).unwrap();
        assert_eq!((c.nprocs, r.full_reads()), (2, before + 1));
        // One exits.
        second.kill().unwrap();
        second.wait().unwrap();
        let c = r.read(&mut procs, &mut tids, &mut buf).unwrap();
        assert_eq!(c.nprocs, 1);
        assert_eq!(procs, [first.id()]);
        // One runs: the CPU clock moves.
        let mut busy = std::process::Command::new("/bin/sh")
            .args([
                "-c",
                "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; sleep 30",
            ])
            .spawn()
            .unwrap();
        zone.enter(busy.id());
        let c1 = r.read(&mut procs, &mut tids, &mut buf).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(100));
        let before = r.full_reads();
        let c2 = r.read(&mut procs, &mut tids, &mut buf).unwrap();
        assert_eq!(r.full_reads(), before + 1);
        assert!(c2.nsec_user + c2.nsec_sys > c1.nsec_user + c1.nsec_sys);
        for k in [&mut first, &mut busy] {
            let _ = k.kill();
            let _ = k.wait();
        }
    }

    /// A zone whose only activity is its init (pid 1 of a pid namespace of
    /// its own, waking 5 times a second, as zsched wakes once) is quiet:
    /// the init's CPU time is taken out of the probe's clock.
    #[test]
    fn a_zone_where_only_its_init_runs_is_quiet() {
        use std::io::Write;
        let zone = TestZoneCgroups::make(&format!("kstat-init-{}", std::process::id()));
        let mut sh = std::process::Command::new("/bin/sh")
            .args([
                "-c",
                "read x; exec unshare --pid --fork python3 -c \
                 'import time\nwhile True: time.sleep(0.2)'",
            ])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        zone.enter(sh.id());
        sh.stdin.take().unwrap().write_all(b"go\n").unwrap();
        let mut r = CgroupReader::new(CgroupSet::detect(&zone.0));
        let (mut procs, mut tids, mut buf) = (vec![], vec![], String::new());
        // unshare and its child, the namespace's init, settled.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let c = r.read(&mut procs, &mut tids, &mut buf).unwrap();
            if c.nprocs == 2 && r.init.is_some() {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{procs:?}");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        // Python's start done; the next read's probe takes the init out.
        std::thread::sleep(std::time::Duration::from_millis(1000));
        r.read(&mut procs, &mut tids, &mut buf).unwrap();
        r.read(&mut procs, &mut tids, &mut buf).unwrap();
        let clock = |r: &mut CgroupReader| r.cpuacct_usage.as_ref().unwrap().u64(&mut r.bytes);
        let (before, ran0) = (r.full_reads(), clock(&mut r));
        for _ in 0..5 {
            std::thread::sleep(std::time::Duration::from_millis(300));
            r.read(&mut procs, &mut tids, &mut buf).unwrap();
        }
        assert!(clock(&mut r) > ran0, "the init ran");
        assert!(
            r.full_reads() <= before + 1,
            "{} full reads of 5 while only the init ran",
            r.full_reads() - before
        );
        let _ = sh.kill();
        let _ = sh.wait();
    }

    /// Waits for a line on stdin, then starts `n` threads that sleep, says
    /// "up" and holds until stdin closes.
    fn threaded_python(n: usize) -> std::process::Child {
        let script = format!(
            "import sys, threading, time\n\
sys.stdin.readline()\n\
for _ in range({n}):\n    threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n\
print('up', flush=True)\n\
sys.stdin.read()\n"
        );
        std::process::Command::new("python3")
            .args(["-c", &script])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// cgroup2's cgroup.threads, kept open, lists threads started after
    /// the descriptor was opened; and the CPU clock of a zone whose
    /// threads all sleep stands still (the premise of
    /// [`WaitrqTracker::update_if_ran`]), while one that runs moves it.
    #[test]
    fn kept_thread_list_and_cpu_clock_of_a_real_zone() {
        use std::io::{BufRead, Write};
        let zone = TestZoneCgroups::make(&format!("kstat-threads-{}", std::process::id()));
        let set = CgroupSet::detect(&zone.0);
        let mut r = CgroupReader::new(set);
        let (mut procs, mut tids, mut buf) = (vec![], vec![], String::new());
        let mut child = threaded_python(3);
        zone.enter(child.id());
        let before = r.read(&mut procs, &mut tids, &mut buf).unwrap();
        assert_eq!((before.nprocs, tids.len()), (1, 1));
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"go\n").unwrap();
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "up");
        std::thread::sleep(std::time::Duration::from_millis(50));
        let c = r.read(&mut procs, &mut tids, &mut buf).unwrap();
        let mut want: Vec<u32> = fs::read_dir(format!("/proc/{}/task", child.id()))
            .unwrap()
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse().ok())
            .collect();
        want.sort_unstable();
        assert_eq!(tids, want);
        assert_eq!((c.nprocs, c.nlwps), (1, 4));
        assert!(c.cpu_usage > before.cpu_usage, "{before:?} {c:?}");
        // Everything sleeps: the clock stands still over 300 ms.
        std::thread::sleep(std::time::Duration::from_millis(300));
        let still = r.read(&mut procs, &mut tids, &mut buf).unwrap();
        assert_eq!(still.cpu_usage, c.cpu_usage, "{c:?} {still:?}");
        // Closing stdin wakes the main thread: it runs (and exits).
        drop(stdin);
        let _ = child.wait();
        let after = r.read(&mut procs, &mut tids, &mut buf).unwrap();
        assert!(after.cpu_usage > still.cpu_usage, "{still:?} {after:?}");
        assert!(tids.is_empty());
    }

    #[test]
    fn waitrq_is_not_reread_while_the_zone_did_not_run() {
        let t = TempDir::new().unwrap();
        let stat = |tid: u32, wait: u64| schedstat(t.path(), tid, 1, wait, 1);
        stat(1, 10);
        stat(2, 20);
        let mut w = WaitrqTracker::new(t.path());
        assert_eq!(w.update_if_ran(&[1, 2], Some(100)), 30);
        // Rewritten in place: not read while the clock and threads stand.
        fs::write(t.path().join("1/task/1/schedstat"), "1 15 1\n").unwrap();
        assert_eq!(w.update_if_ran(&[1, 2], Some(100)), 30);
        // The clock moved: read.
        assert_eq!(w.update_if_ran(&[1, 2], Some(101)), 35);
        fs::write(t.path().join("1/task/1/schedstat"), "1 17 1\n").unwrap();
        // Another thread list with the same clock: read.
        stat(3, 1);
        assert_eq!(w.update_if_ran(&[1, 2, 3], Some(101)), 38);
        // No clock (unknown): read every time.
        fs::write(t.path().join("1/task/1/schedstat"), "1 19 1\n").unwrap();
        assert_eq!(w.update_if_ran(&[1, 2, 3], None), 40);
        fs::write(t.path().join("1/task/1/schedstat"), "1 21 1\n").unwrap();
        assert_eq!(w.update_if_ran(&[1, 2, 3], None), 42);
        // A plain update in between forgets the clock.
        assert_eq!(w.update_if_ran(&[1, 2, 3], Some(7)), 42);
        fs::write(t.path().join("1/task/1/schedstat"), "1 23 1\n").unwrap();
        assert_eq!(w.update(&[1, 2, 3]), 44);
        fs::write(t.path().join("1/task/1/schedstat"), "1 25 1\n").unwrap();
        assert_eq!(w.update_if_ran(&[1, 2, 3], Some(7)), 46);
    }

    #[test]
    fn host_pids_are_listed_again_only_when_loadavg_moves() {
        let t = TempDir::new().unwrap();
        for pid in [1, 20, 300] {
            fs::create_dir(t.path().join(pid.to_string())).unwrap();
        }
        fs::create_dir(t.path().join("self")).unwrap();
        let mut h = HostPids::with_keep(t.path().to_owned(), true);
        assert_eq!(h.get((300, 3)).unwrap(), [1, 20, 300]);
        fs::create_dir(t.path().join("301")).unwrap();
        // Same last pid and thread count: the kept list.
        assert_eq!(h.get((300, 3)).unwrap(), [1, 20, 300]);
        assert_eq!(h.listings, 1);
        assert_eq!(h.get((301, 4)).unwrap(), [1, 20, 300, 301]);
        fs::remove_dir(t.path().join("20")).unwrap();
        assert_eq!(h.get((301, 3)).unwrap(), [1, 300, 301]);
        assert_eq!(h.listings, 3);
        // Not trusted (another pid namespace): every call lists.
        let mut h = HostPids::with_keep(t.path().to_owned(), false);
        h.get((1, 1)).unwrap();
        h.get((1, 1)).unwrap();
        assert_eq!(h.listings, 2);
    }

    /// On this host (the initial pid namespace) the key is trusted, and a
    /// process that starts or is reaped is seen at the next call.
    #[test]
    fn host_pids_follow_a_real_child() {
        use procfs::Current;
        let mut h = HostPids::new("/proc");
        assert!(h.keep, "the tests run in the initial pid namespace");
        let key = || {
            let la = procfs::LoadAverage::current().unwrap();
            (la.latest_pid, la.max)
        };
        let mut kid = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = kid.id();
        assert!(h.get(key()).unwrap().binary_search(&pid).is_ok());
        let _ = kid.kill();
        let _ = kid.wait();
        assert!(h.get(key()).unwrap().binary_search(&pid).is_err());
    }

    #[test]
    fn reads_a_real_zone_cgroup_on_this_host() {
        if !Path::new("/sys/fs/cgroup/unified/cgroup.controllers").exists()
            || !Path::new("/sys/fs/cgroup/pids/cgroup.procs").exists()
        {
            panic!("this test expects the hybrid cgroup layout of the build host");
        }
        let zone = TestZoneCgroups::make(&format!("kstat-test-{}", std::process::id()));
        // A shell that waits to be moved, burns some CPU in the zone, then
        // forks a sleeper there.
        let mut child = std::process::Command::new("/bin/sh")
            .args([
                "-c",
                "read x; i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; exec sleep 30",
            ])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id();
        zone.enter(pid);
        {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(b"go\n").unwrap();
        }
        let set = CgroupSet::detect(&zone.0);
        assert!(set.v2.is_some() && set.pids.is_some() && set.cpuacct.is_some());
        assert_eq!(set.memory.as_ref().map(|m| m.1), Some(false));
        let (mut procs, mut tids, mut buf) = (vec![], vec![], String::new());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let c = loop {
            let c = read_cgroups(&set, &mut procs, &mut tids, &mut buf).unwrap();
            let exec_done = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            if exec_done.trim() == "sleep" || std::time::Instant::now() > deadline {
                break c;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        assert_eq!(procs, [pid]);
        assert_eq!(c.nprocs, 1);
        assert_eq!(c.nlwps, 1, "pids.current of the v1 pids cgroup");
        assert!(
            c.nsec_user + c.nsec_sys > 1_000_000,
            "cpu.stat of the cgroup2 dir: {c:?}"
        );
        assert!(c.mem_usage > 0, "{c:?}");
        assert_eq!(c.unevictable, Some(0));
        let mut w = WaitrqTracker::new("/proc");
        w.update(&tids);
        assert_eq!(w.open_descriptors(), 1);
        child.kill().unwrap();
        child.wait().unwrap();
        let c = read_cgroups(&set, &mut procs, &mut tids, &mut buf).unwrap();
        assert_eq!((c.nprocs, c.nlwps), (0, 0));
    }

    #[test]
    fn mlocked_memory_is_counted_only_where_unevictable_says_so() {
        let zone = TestZoneCgroups::make(&format!("kstat-mlock-{}", std::process::id()));
        // Waits for "go", maps, touches and mlocks 64 MiB, says "locked",
        // then holds it until its stdin closes.
        let script = "import ctypes, mmap, sys\n\
libc = ctypes.CDLL(None)\n\
print('ready', flush=True)\n\
sys.stdin.readline()\n\
n = 64 << 20\n\
m = mmap.mmap(-1, n)\n\
a = ctypes.addressof(ctypes.c_char.from_buffer(m))\n\
ctypes.memset(a, 1, n)\n\
assert libc.mlock(ctypes.c_void_p(a), ctypes.c_size_t(n)) == 0\n\
print('locked', flush=True)\n\
sys.stdin.read()\n";
        let mut child = std::process::Command::new("python3")
            .args(["-c", script])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let set = CgroupSet::detect(&zone.0);
        let (mut procs, mut tids, mut buf) = (vec![], vec![], String::new());
        zone.enter(child.id());
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        use std::io::{BufRead, Write};
        out.read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "ready");
        // Before: python's own memory, nothing locked.
        let before = read_cgroups(&set, &mut procs, &mut tids, &mut buf).unwrap();
        assert_eq!(before.unevictable, Some(0));
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"go\n").unwrap();
        line.clear();
        out.read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "locked");
        let c = read_cgroups(&set, &mut procs, &mut tids, &mut buf).unwrap();
        let locked = sum_vmlck(Path::new("/proc"), &procs, &mut buf);
        let _ = child.kill();
        drop(stdin);
        let _ = child.wait();
        assert!(c.unevictable.unwrap() >= 64 << 20, "{c:?}");
        assert_eq!(locked, 64 << 20);
        let grown = c.swapresv - before.swapresv;
        assert!(
            (64 << 20..(64 << 20) + (64 << 20) / 20).contains(&grown),
            "swapresv +{grown}"
        );
    }

    #[test]
    fn forks_refused_by_the_pids_cap_raise_forkfail_cap() {
        let zone = TestZoneCgroups::make(&format!("kstat-fork-{}", std::process::id()));
        // zone.max-lwps as the runtime sets it: pids.max of the zone.
        fs::write(zone.0[0].join("pids.max"), "3").unwrap();
        let mut child = std::process::Command::new("/bin/sh")
            .args([
                "-c",
                "read x; for i in 1 2 3 4 5 6; do sleep 30 & done; sleep 30",
            ])
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        zone.enter(child.id());
        let set = CgroupSet::detect(&zone.0);
        let (mut procs, mut tids, mut buf) = (vec![], vec![], String::new());
        let before = read_cgroups(&set, &mut procs, &mut tids, &mut buf).unwrap();
        assert_eq!((before.nprocs, before.forkfail_cap), (1, 0));
        {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(b"go\n").unwrap();
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let c = loop {
            let c = read_cgroups(&set, &mut procs, &mut tids, &mut buf).unwrap();
            if c.forkfail_cap > 0 || std::time::Instant::now() > deadline {
                break c;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        // Kill the zone's processes (the shell and its sleepers).
        for pid in &procs {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(*pid as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        let _ = child.wait();
        assert!(c.forkfail_cap > 0, "{c:?}");
        // The cap holds the zone at 3 tasks (dash gives up when a fork
        // fails, so its sleepers may be all that is left).
        assert!(c.nlwps <= 3 && c.nprocs <= 3 && c.nprocs >= 2, "{c:?}");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while read_cgroups(&set, &mut procs, &mut tids, &mut buf)
            .unwrap()
            .nprocs
            > 0
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(procs.is_empty(), "nprocs back to 0 once they exit");
    }

    #[test]
    fn parsers_read_kernel_text() {
        assert_eq!(schedstat_wait(b"479122 2048 1\n"), Some(2048));
        assert_eq!(status_kb("VmLck:\t  12 kB\n", "VmLck"), Some(12 * 1024));
        assert_eq!(status_kb("VmLckx:\t  12 kB\n", "VmLck"), None);
        let ss = "version 15\ntimestamp 1\ncpu0 0 0 0 0 0 0 100 250 7\ndomain0 3 1 2\ncpu1 0 0 0 0 0 0 100 50 7\n";
        assert_eq!(parse_schedstat_wait(ss), 300);
        assert_eq!(
            parse_psi("some avg10=0.10 avg60=1 avg300=2 total=3\n"),
            (0.1, 0.0)
        );
        assert_eq!(keyed("max 3\n", "max"), Some(3));
        assert_eq!(keyed("maxx 3\n", "max"), None);
        // One pass, the same answers as keyed: the first parsable line of
        // each key, None for a missing one.
        let text = "a 1\nb x\nb 2\nab 9\na 5\n";
        assert_eq!(keyed_all(text, ["a", "b", "c"]), [Some(1), Some(2), None]);
        for key in ["a", "b", "c", "ab"] {
            assert_eq!(keyed_all(text, [key]), [keyed(text, key)]);
        }
    }

    #[test]
    fn host_totals_read_this_host() {
        let h = HostTotals::read().unwrap();
        assert!(h.procs.contains(&std::process::id()));
        assert!(h.nlwps >= h.procs.len() as u64);
        assert!(h.nsec_user > 0);
        assert!(h.mem_usage > 0);
    }

    /// /proc/meminfo of a host with 9 GiB of page cache and < 1 GiB used
    /// (free(1): 822 MiB used): used is MemTotal − MemAvailable, not
    /// MemTotal − MemFree (~10 GiB, what ztop's global row once showed).
    #[test]
    fn host_used_memory_leaves_out_the_page_cache() {
        use procfs::FromRead;
        let text = "MemTotal:       24684084 kB\nMemFree:        14267332 kB\n\
            MemAvailable:   23840584 kB\nBuffers:           25860 kB\n\
            Cached:          9357360 kB\nSwapCached:            0 kB\n\
            Active:          2886912 kB\nInactive:        6691220 kB\n\
            SwapTotal:             0 kB\nSwapFree:              0 kB\n\
            Dirty:            279584 kB\nWriteback:             0 kB\n\
            AnonPages:        209604 kB\nMapped:           149704 kB\n\
            Shmem:              8872 kB\nSlab:             634872 kB\n\
            SReclaimable:     559124 kB\nSUnreclaim:        75748 kB\n\
            KernelStack:        4000 kB\nPageTables:         3000 kB\n\
            NFS_Unstable:          0 kB\nBounce:                0 kB\n\
            WritebackTmp:          0 kB\nCommitLimit:    12342040 kB\n\
            Committed_AS:     900000 kB\nVmallocTotal:   34359738367 kB\n\
            VmallocUsed:       20000 kB\nVmallocChunk:          0 kB\n";
        let mut m = procfs::Meminfo::from_read(text.as_bytes()).unwrap();
        assert_eq!(host_used(&m), (24684084 - 23840584) * 1024);
        // Without MemAvailable: free + buffers + cached + SReclaimable.
        m.mem_available = None;
        assert_eq!(
            host_used(&m),
            (24684084 - 14267332 - 25860 - 9357360 - 559124) * 1024
        );
    }
}
