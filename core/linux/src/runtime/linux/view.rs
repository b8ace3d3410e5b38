//! # The view from inside: files that need no server
//!
//! A zone's /proc/loadavg, /proc/uptime, /proc/stat, /proc/meminfo,
//! /proc/swaps, /proc/cpuinfo, /proc/diskstats and
//! /sys/devices/system/cpu/online (and `present`, which lscpu counts) show
//! the zone's own values (view.md).
//! lxcfs serves such files from a FUSE daemon: every read is a round trip
//! to it (about 20× a native read), and when it dies every read fails with
//! ENOTCONN. Here nothing serves them:
//!
//! * each zone has a directory of small regular files on the host,
//!   `<run_dir>/<id>-<uniqid>.view/` beside its control socket (0700, the
//!   files 0444, root's), made by the launcher before the zone's pid 1
//!   exists ([`prepare`]) and filled, with the zone's clock, while zsched
//!   sets the zone up and before `ready` returns ([`fill`]);
//! * zsched, in the zone's mount namespace before the pivot, bind-mounts
//!   each file read-only (nosuid, nodev, noexec) over its place in the
//!   zone's fresh /proc and /sys ([`bind`]) — only onto a procfs and a
//!   sysfs it checked with fstatfs, reached without following a link, so a
//!   root without /proc gets none of them and a link planted in the root
//!   moves nothing onto the host's tree;
//! * the engine's sampler, once a tick, renders the zone's text from the
//!   counters it just computed ([`crate::kstat::view`]: the same avenrun
//!   that `kstat`, /zones/Z/loadavg and ztop show at that tick) and writes
//!   each file in place ([`refresh`]); at a tick, a file whose text is the
//!   one the engine last wrote there is not touched ([`refresh_all`]).
//!
//! ## What a tick reads
//!
//! loadavg, uptime and stat change every second by the clock and the
//! load's decay alone: they are rendered at every tick from the sampler's
//! counters and the host's clock. meminfo, swaps, diskstats and the CPU
//! files also need the zone's cgroup files (memory.current/memory.stat or
//! v1's, io.stat or blkio, the cpuset) and stat/loadavg its last pid
//! (/proc/PID/status). Which of the zone's directories holds each of
//! those is found once per boot ([`Sources`]), and they are read again
//! only on a tick where the sampler's counters of the zone moved, or
//! every [`VIEW_FULL_EVERY`] ticks: an idle zone, which the sampler
//! answers from its last full read, costs no cgroup file at all on most
//! ticks. With 300 idle zones (tests/benches/scale.sh, debug build,
//! strace -c of zoned over 12 s) zoned's openat went from ~11,000 a
//! second, 80 % failing (every file tried in every directory), to
//! ~2,400, 17 % failing, and its idle CPU from 265 to 152 ms/s; what is
//! left of the view is the write of uptime and stat, which change every
//! tick.
//!
//! A read inside the zone is then an ordinary read of a page-cache file:
//! faster than the kernel's own /proc files, and it needs nothing alive to
//! answer. With no engine (zoned killed, or not started yet) the files keep
//! their last contents — values one tick old, or the launcher's first ones
//! — and a restarted engine finds the same files by the same path (the
//! handle's control socket path with `.view` for `.sock`) and writes on.
//! The files go with the zone: the mounts with its mount namespace, the
//! directory with the socket ([`remove`]).
//!
//! ## Writing in place
//!
//! A bind mount pins the inode, so the files are never replaced: the writer
//! opens the file (O_NOFOLLOW, in a directory only root of the host
//! reaches), writes the whole text at offset 0 with one pwrite and
//! truncates only when the text got shorter; it writes nothing when the
//! text is unchanged. A reader racing a write can see, for that one read,
//! the bytes of two consecutive ticks mixed (each file is far smaller than
//! a page; the copy of one write is not atomic against a concurrent read),
//! or, when the text just got shorter, the old tail for the instant between
//! the write and the truncate. It never sees an error or an empty file and
//! never waits: neither side takes a lock the other holds for long. The
//! renderers keep the kernel's field widths (meminfo's `%8lu kB`) so that
//! the size rarely changes.

use super::launch::ChildError;
use super::timens;
use crate::kstat::read::keyed;
use crate::kstat::view::{self as render, DiskIo, MemView, StatView};
use crate::param::Params;
use crate::runtime::{Handle, RuntimeError};
use crate::snapshot::Kstat;
use std::ffi::CString;
use std::fs;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::{DirBuilderExt, FileExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The served files: (name in the view directory, where it goes in the
/// zone, below the file system checked with fstatfs: (directory, magic)).
pub const FILES: &[(&str, &str, &str)] = &[
    ("loadavg", "proc", "loadavg"),
    ("uptime", "proc", "uptime"),
    ("stat", "proc", "stat"),
    ("meminfo", "proc", "meminfo"),
    ("swaps", "proc", "swaps"),
    ("cpuinfo", "proc", "cpuinfo"),
    ("diskstats", "proc", "diskstats"),
    ("cpu-online", "sys/devices/system/cpu", "online"),
    // lscpu counts "CPU(s)" from the present mask, "Off-line" as present
    // but not online: the zone's CPUs are all it has.
    ("cpu-present", "sys/devices/system/cpu", "present"),
];

const PROC_SUPER_MAGIC: i64 = 0x9fa0;
const SYSFS_MAGIC: i64 = 0x6265_6572;

/// A zone's view directory, from its control socket's path.
pub fn dir_for(control: &Path) -> PathBuf {
    control.with_extension("view")
}

/// Remove a zone's view directory (the zone is gone; its mounts went with
/// its mount namespace).
pub fn remove(control: &Path) {
    let _ = fs::remove_dir_all(dir_for(control));
}

/// What the host shows, read once per tick for every zone.
#[derive(Clone, Debug, Default)]
pub struct HostView {
    pub meminfo: String,
    pub cpuinfo: String,
    pub diskstats: String,
    pub online: Vec<u32>,
    /// /proc/stat btime.
    pub btime: u64,
    /// CLOCK_BOOTTIME now, ns.
    pub boottime_ns: u64,
    pub mem_total: u64,
    pub swap_total: u64,
}

impl HostView {
    pub fn read() -> HostView {
        let rd = |p: &str| fs::read_to_string(p).unwrap_or_default();
        let meminfo = rd("/proc/meminfo");
        let kb = |k: &str| {
            meminfo
                .lines()
                .find_map(|l| {
                    let (key, v) = l.split_once(':')?;
                    (key == k).then(|| v.trim().trim_end_matches(" kB").parse::<u64>().ok())?
                })
                .unwrap_or(0)
                * 1024
        };
        let (mem_total, swap_total) = (kb("MemTotal"), kb("SwapTotal"));
        let btime = rd("/proc/stat")
            .lines()
            .find_map(|l| l.strip_prefix("btime ")?.trim().parse().ok())
            .unwrap_or(0);
        let online = render::parse_cpu_list(&rd("/sys/devices/system/cpu/online"))
            .ok()
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| {
                let n = std::thread::available_parallelism().map_or(1, |n| n.get());
                (0..n as u32).collect()
            });
        HostView {
            cpuinfo: rd("/proc/cpuinfo"),
            diskstats: rd("/proc/diskstats"),
            online,
            btime,
            boottime_ns: timens::clock_ns(libc::CLOCK_BOOTTIME),
            mem_total,
            swap_total,
            meminfo,
        }
    }
}

/// Where a zone's cgroup files are: which of its directories (one per
/// hierarchy, ~10 on a hybrid host) has each file the view reads, found
/// once per boot of the zone ([`Sources::find`]: one `stat` per candidate)
/// instead of trying every file in every directory at every tick (at 300
/// zones that was ~8,000 failed opens a second). Each list keeps the
/// order the files were asked in, so the first one that answers is the
/// one it always was.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sources {
    /// Existing cpuset files, per directory `cpuset.cpus.effective` then
    /// `cpuset.cpus` (v2, v1).
    cpuset: Vec<PathBuf>,
    memory: Option<MemSource>,
    /// Existing v2 `io.stat` files.
    io_stat: Vec<PathBuf>,
    /// v1 blkio (bytes, ios) pairs of which both files exist, recursive
    /// first.
    blkio: Vec<(PathBuf, PathBuf)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum MemSource {
    /// v2: memory.current, memory.stat, memory.swap.current if any.
    V2 {
        current: PathBuf,
        stat: PathBuf,
        swap: Option<PathBuf>,
    },
    /// v1: memory.usage_in_bytes, memory.stat.
    V1 { usage: PathBuf, stat: PathBuf },
}

impl Sources {
    /// Look at each candidate file once.
    pub fn find(cgroups: &[PathBuf]) -> Sources {
        let has = |d: &PathBuf, f: &str| Some(d.join(f)).filter(|p| p.exists());
        let cpuset = cgroups
            .iter()
            .flat_map(|d| {
                ["cpuset.cpus.effective", "cpuset.cpus"]
                    .into_iter()
                    .filter_map(move |f| has(d, f))
            })
            .collect();
        let memory = cgroups
            .iter()
            .find_map(|d| {
                Some(MemSource::V2 {
                    current: has(d, "memory.current")?,
                    stat: d.join("memory.stat"),
                    swap: has(d, "memory.swap.current"),
                })
            })
            .or_else(|| {
                cgroups.iter().find_map(|d| {
                    Some(MemSource::V1 {
                        usage: has(d, "memory.usage_in_bytes")?,
                        stat: d.join("memory.stat"),
                    })
                })
            });
        let io_stat = cgroups.iter().filter_map(|d| has(d, "io.stat")).collect();
        let blkio = cgroups
            .iter()
            .flat_map(|d| {
                [
                    (
                        "blkio.throttle.io_service_bytes_recursive",
                        "blkio.throttle.io_serviced_recursive",
                    ),
                    (
                        "blkio.throttle.io_service_bytes",
                        "blkio.throttle.io_serviced",
                    ),
                ]
                .into_iter()
                .filter_map(move |(b, i)| Some((has(d, b)?, has(d, i)?)))
            })
            .collect();
        Sources {
            cpuset,
            memory,
            io_stat,
            blkio,
        }
    }
}

/// A small kernel file's text: open, read until EOF, close (no `stat`,
/// no seek), into `buf`. None when it cannot be opened or read.
fn read_small<'b>(path: &Path, buf: &'b mut String) -> Option<&'b str> {
    use std::io::Read;
    buf.clear();
    let mut f = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_CLOEXEC)
        .open(path)
        .ok()?;
    // Not `Read::read_to_string`, which on a `File` stats and seeks
    // first: a plain read loop, checked as UTF-8 once at the end.
    let mut bytes = std::mem::take(buf).into_bytes();
    let mut chunk = [0u8; 4096];
    loop {
        match f.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => {
                bytes.clear();
                *buf = String::from_utf8(bytes).unwrap_or_default();
                return None;
            }
        }
    }
    *buf = String::from_utf8(bytes).ok()?;
    Some(buf.as_str())
}

/// What a zone's view takes from its cgroup files and its processes at a
/// tick: kept between ticks, and re-read only when the zone's counters
/// moved ([`refresh_changed`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CgroupView {
    pub cpuset: Option<Vec<u32>>,
    /// The cgroup's part of the zone's memory (`total` and `swap_total`
    /// come from its parameters: [`finish_memory`]).
    pub mem: MemView,
    pub io: Vec<DiskIo>,
    /// [`last_pid`] of the zone's processes.
    pub last_pid: u32,
}

impl CgroupView {
    /// Read what `src` names (one open per file) and the last pid.
    pub fn read(src: &Sources, procs: &[u32]) -> CgroupView {
        let mut buf = String::new();
        CgroupView {
            cpuset: read_cpuset(src, &mut buf),
            mem: read_memory(src, &mut buf),
            io: read_io(src, &mut buf),
            last_pid: last_pid(procs),
        }
    }
}

fn read_cpuset(src: &Sources, buf: &mut String) -> Option<Vec<u32>> {
    src.cpuset.iter().find_map(|p| {
        render::parse_cpu_list(read_small(p, buf)?)
            .ok()
            .filter(|c| !c.is_empty())
    })
}

/// The zone's cpuset, from the cgroup that has one (v1 cpuset.cpus, v2
/// cpuset.cpus.effective); None when no cgroup of the zone restricts it.
pub fn zone_cpuset(cgroups: &[PathBuf]) -> Option<Vec<u32>> {
    read_cpuset(&Sources::find(cgroups), &mut String::new())
}

/// The memory cap a zone's MemTotal shows: capped-memory.physical, else
/// zone.max-swap (which caps memory too, config.md), at most the host's.
fn mem_cap(params: &Params, host_total: u64) -> u64 {
    let cap = params
        .int("capped-memory.physical")
        .or_else(|| params.int("zone.max-swap"))
        .map(|c| c.max(0) as u64);
    match cap {
        Some(c) if host_total > 0 => c.min(host_total),
        Some(c) => c,
        None => host_total,
    }
}

/// Each field memory.stat gives, with its key in v2 and in v1 (the
/// hierarchy's `total_*` lines; None where v1 has no such line).
#[allow(clippy::type_complexity)]
fn stat_keys(m: &mut MemView) -> [(&mut u64, &'static str, Option<&'static str>); 15] {
    [
        (&mut m.anon, "anon", Some("total_rss")),
        (&mut m.file, "file", Some("total_cache")),
        (&mut m.shmem, "shmem", Some("total_shmem")),
        (&mut m.active_anon, "active_anon", Some("total_active_anon")),
        (
            &mut m.inactive_anon,
            "inactive_anon",
            Some("total_inactive_anon"),
        ),
        (&mut m.active_file, "active_file", Some("total_active_file")),
        (
            &mut m.inactive_file,
            "inactive_file",
            Some("total_inactive_file"),
        ),
        (&mut m.unevictable, "unevictable", Some("total_unevictable")),
        (&mut m.mapped, "file_mapped", Some("total_mapped_file")),
        (&mut m.dirty, "file_dirty", Some("total_dirty")),
        (&mut m.writeback, "file_writeback", Some("total_writeback")),
        (&mut m.slab_reclaimable, "slab_reclaimable", None),
        (&mut m.slab_unreclaimable, "slab_unreclaimable", None),
        (&mut m.kernel_stack, "kernel_stack", None),
        (&mut m.pagetables, "pagetables", None),
    ]
}

/// The cgroup's part of the zone's memory (v2 memory.current and
/// memory.stat, else v1 memory.usage_in_bytes and memory.stat's total_*
/// lines).
fn read_memory(src: &Sources, buf: &mut String) -> MemView {
    let mut m = MemView::default();
    let num =
        |p: &Path, buf: &mut String| read_small(p, buf).and_then(|t| t.trim().parse::<u64>().ok());
    let (usage, stat, v2) = match &src.memory {
        Some(MemSource::V2 { current, stat, .. }) => (current, stat, true),
        Some(MemSource::V1 { usage, stat }) => (usage, stat, false),
        None => return m,
    };
    let st = read_small(stat, buf).unwrap_or_default().to_owned();
    m.usage = num(usage, buf).unwrap_or(0);
    for (field, v2_key, v1_key) in stat_keys(&mut m) {
        if let Some(key) = if v2 { Some(v2_key) } else { v1_key } {
            *field = keyed(&st, key).unwrap_or(0);
        }
    }
    m.swap_used = match &src.memory {
        Some(MemSource::V2 { swap, .. }) => swap.as_ref().and_then(|p| num(p, buf)),
        _ => keyed(&st, "total_swap"),
    }
    .unwrap_or(0);
    m.mlocked = m.unevictable;
    m
}

/// The zone's memory as its files show it: the cgroup's part with the
/// totals its parameters and the host give.
fn finish_memory(cg: &MemView, params: &Params, host: &HostView) -> MemView {
    let total = mem_cap(params, host.mem_total);
    MemView {
        total,
        swap_total: match params.int("zone.max-swap") {
            Some(t) => (t.max(0) as u64).saturating_sub(total),
            None => host.swap_total,
        },
        ..*cg
    }
}

/// The zone's memory from its cgroup (v2 memory.current and memory.stat,
/// else v1 memory.usage_in_bytes and memory.stat's total_* lines).
pub fn zone_memory(cgroups: &[PathBuf], params: &Params, host: &HostView) -> MemView {
    let cg = read_memory(&Sources::find(cgroups), &mut String::new());
    finish_memory(&cg, params, host)
}

fn read_io(src: &Sources, buf: &mut String) -> Vec<DiskIo> {
    if let Some(io) = src
        .io_stat
        .iter()
        .find_map(|p| Some(render::parse_io_stat(read_small(p, buf)?)))
    {
        return io;
    }
    let mut ios = String::new();
    src.blkio
        .iter()
        .find_map(|(b, i)| {
            let i = read_small(i, &mut ios)?;
            Some(render::parse_blkio(read_small(b, buf)?, i))
        })
        .unwrap_or_default()
}

/// The zone's I/O per device (v2 io.stat, else v1 blkio).
pub fn zone_io(cgroups: &[PathBuf]) -> Vec<DiskIo> {
    read_io(&Sources::find(cgroups), &mut String::new())
}

/// The highest pid, in the zone's pid namespace, of the zone's processes
/// (the last NSpid of the one with the highest host pid).
fn last_pid(procs: &[u32]) -> u32 {
    let Some(p) = procs.iter().max() else {
        return 1;
    };
    fs::read_to_string(format!("/proc/{p}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("NSpid:"))
                .and_then(|v| v.split_whitespace().last()?.parse().ok())
        })
        .unwrap_or(1)
}

/// One zone at one tick, as the files show it.
pub struct ZoneTick<'a> {
    pub cgroups: &'a [PathBuf],
    pub params: &'a Params,
    pub kstat: &'a Kstat,
    /// Host pids of the zone's processes.
    pub procs: &'a [u32],
    /// zsched's start time (clock ticks); None before it exists.
    pub zsched_start: Option<u64>,
}

/// The text of every file of [`FILES`], in that order.
pub fn render_all(host: &HostView, z: &ZoneTick) -> Vec<String> {
    render_with(
        host,
        z,
        &CgroupView::read(&Sources::find(z.cgroups), z.procs),
    )
}

/// [`render_all`] from what was read of the zone's cgroup files.
pub fn render_with(host: &HostView, z: &ZoneTick, cg: &CgroupView) -> Vec<String> {
    let cap = z.params.int("zone.cpu-cap").map(|c| c.max(0) as u64);
    let cpus = render::visible_cpus(&host.online, cg.cpuset.as_deref(), cap);
    let off = z
        .zsched_start
        .map_or(host.boottime_ns / 1_000_000_000, timens::offset_secs);
    let uptime_ns = host.boottime_ns.saturating_sub(off * 1_000_000_000);
    let k = z.kstat;
    let cpu_ns = k.nsec_user + k.nsec_sys;
    let mem = finish_memory(&cg.mem, z.params, host);
    let running = render::runnable(k.cpu_pct, k.nlwps);
    let last = cg.last_pid;
    vec![
        render::loadavg(k.avenrun, running, k.nlwps, last),
        render::uptime(uptime_ns, render::idle_ns(cpus.len(), uptime_ns, cpu_ns)),
        render::stat(&StatView {
            cpus: &cpus,
            user_ns: k.nsec_user,
            sys_ns: k.nsec_sys,
            uptime_ns,
            btime: host.btime + off,
            processes: last as u64,
            procs_running: running,
        }),
        render::meminfo(&host.meminfo, &mem),
        render::swaps(&mem),
        render::cpuinfo(&host.cpuinfo, &cpus),
        render::diskstats(&host.diskstats, &cg.io),
        render::cpu_online(&cpus),
        render::cpu_online(&cpus),
    ]
}

/// The launcher, before the zone's pid 1 exists: the view directory with
/// every file, empty, for zsched to bind ([`bind`] pins each inode). A
/// stale directory of the same name (a zone that died with no runtime to
/// clean up) is replaced. [`fill`] writes their first text. A directory
/// made ahead by a spare launcher ([`prepare_spare`]) is renamed into
/// place instead: one rename, where making the ten entries costs ~0.4 ms
/// on an ext4 run directory (~0.06 on tmpfs).
pub fn prepare(control: &Path, spare: Option<&Path>) -> Result<PathBuf, RuntimeError> {
    let dir = dir_for(control);
    let _ = fs::remove_dir_all(&dir);
    if let Some(spare) = spare {
        if fs::rename(spare, &dir).is_ok() {
            return Ok(dir);
        }
        let _ = fs::remove_dir_all(spare);
    }
    make(&dir)?;
    Ok(dir)
}

/// A spare launcher ([`super::spare`]), while it waits for a request: a
/// view directory of its own in `run_dir` (`spare-<pid>.view`), for
/// [`prepare`] to rename.
pub fn prepare_spare(run_dir: &Path) -> Option<PathBuf> {
    let dir = run_dir.join(format!("spare-{}.view", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    make(&dir).ok().map(|()| dir)
}

/// The launcher whose spare view directory `name` is
/// ([`prepare_spare`]), if it is one.
pub fn spare_owner(name: &std::ffi::OsStr) -> Option<u32> {
    name.to_str()?
        .strip_prefix("spare-")?
        .strip_suffix(".view")?
        .parse()
        .ok()
}

/// Remove the spare view directories in `run_dir` whose launcher is
/// gone (one killed while it waited leaves its own).
pub fn sweep_spares(run_dir: &Path) {
    let Ok(rd) = fs::read_dir(run_dir) else {
        return;
    };
    for e in rd.flatten() {
        if let Some(pid) = spare_owner(&e.file_name())
            && !Path::new(&format!("/proc/{pid}")).exists()
        {
            let _ = fs::remove_dir_all(e.path());
        }
    }
}

/// The directory `dir` (0700) and its files (0444, empty).
fn make(dir: &Path) -> Result<(), RuntimeError> {
    let io = |what: String| move |e: std::io::Error| super::err("view", format!("{what}: {e}"), &e);
    fs::DirBuilder::new()
        .mode(0o700)
        .create(dir)
        .map_err(io(format!("mkdir {}", dir.display())))?;
    for (name, _, _) in FILES {
        let p = dir.join(name);
        let f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o444)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&p)
            .map_err(io(format!("create {}", p.display())))?;
        let _ = f.set_permissions(fs::Permissions::from_mode(0o444));
    }
    Ok(())
}

/// Write `text` into the file in place (module comment); nothing when it
/// is unchanged. A missing file (a zone made before views existed) is no
/// error.
fn write_in_place(path: &Path, text: &str, buf: &mut Vec<u8>) -> std::io::Result<()> {
    let f = match fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let old_len = f.metadata()?.len();
    if old_len == text.len() as u64 {
        buf.resize(text.len(), 0);
        if f.read_exact_at(buf, 0).is_ok() && buf.as_slice() == text.as_bytes() {
            return Ok(());
        }
    }
    f.write_all_at(text.as_bytes(), 0)?;
    if old_len > text.len() as u64 {
        f.set_len(text.len() as u64)?;
    }
    Ok(())
}

/// The launcher, once zsched's pid (and so its start time, the zone's
/// zero) is known, before it answers `ready` (so before anything of the
/// zone can read them): the files' first text — no load, nothing used —
/// with the zone's clock, so that uptime, btime and start times agree
/// even before any engine samples the zone. The host's files are read
/// once and each file written once; the launcher does this while zsched
/// sets the zone up (the files are bound by inode: what is written after
/// the bind shows). The error names the file.
pub fn fill(
    control: &Path,
    cgroups: &[PathBuf],
    params: &Params,
    zsched_start: u64,
) -> Result<(), RuntimeError> {
    let host = HostView::read();
    let handle = Handle {
        control: control.to_path_buf(),
        ..Handle::default()
    };
    refresh(
        &host,
        &handle,
        &ZoneTick {
            cgroups,
            params,
            kstat: &Kstat::default(),
            procs: &[],
            zsched_start: Some(zsched_start),
        },
    )
}

/// The engine's tick: write a zone's files from this tick's counters.
/// Errors name the file; a zone without a view directory is skipped.
pub fn refresh(host: &HostView, handle: &Handle, z: &ZoneTick) -> Result<(), RuntimeError> {
    let dir = dir_for(&handle.control);
    if !dir.is_dir() {
        return Ok(());
    }
    let texts = render_all(host, z);
    let mut buf = Vec::new();
    for ((name, _, _), text) in FILES.iter().zip(texts) {
        let p = dir.join(name);
        write_in_place(&p, &text, &mut buf)
            .map_err(|e| super::err("view", format!("write {}: {e}", p.display()), &e))?;
    }
    Ok(())
}

/// [`refresh`] for every zone of a tick, the host's files read once. A
/// file that cannot be written keeps its last text (a reader inside never
/// sees the failure); the next tick tries again.
pub fn refresh_all(zones: &[crate::runtime::ViewTick]) {
    if zones.is_empty() {
        WRITTEN
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .zones
            .clear();
        return;
    }
    let host = HostView::read();
    let mut cache = WRITTEN.lock().unwrap_or_else(|e| e.into_inner());
    cache.generation = cache.generation.wrapping_add(1);
    let generation = cache.generation;
    for z in zones {
        let tick = ZoneTick {
            cgroups: &z.handle.cgroups,
            params: z.params,
            kstat: z.kstat,
            procs: z.procs,
            zsched_start: Some(z.handle.zsched_start),
        };
        refresh_changed(&host, z.handle, &tick, &mut cache, generation);
    }
    // Zones not in this tick are gone (or not running): their entries go.
    cache.zones.retain(|_, w| w.generation == generation);
}

/// What [`refresh_all`] last wrote into each zone's files, by view
/// directory: the zone's zsched start (a new boot of the same zone, with
/// fresh files, never matches an older entry), and per file the text's
/// hash and length. Only this process's writes are remembered: a
/// restarted engine starts empty and compares with the files themselves.
struct Written {
    generation: u64,
    zones: std::collections::BTreeMap<PathBuf, ZoneWritten>,
}

struct ZoneWritten {
    zsched_start: u64,
    generation: u64,
    /// Per file of [`FILES`]: (hash, length) of the text last written.
    files: Vec<Option<(u64, usize)>>,
    /// Where the zone's cgroup files are (found at its first tick).
    sources: Sources,
    /// What they said at the last read, and the zone's counters then.
    cg: CgroupView,
    moved: Moved,
    /// Ticks answered from `cg` since it was read.
    kept: u32,
}

/// The counters of a tick that say whether anything of the zone ran,
/// forked, exited or was charged memory since the last one: the sampler
/// answers a quiet zone with the very counters of its last full read
/// (kstat/read.rs, "Quiet zones"), so equal values mean a quiet tick, and
/// the zone's cgroup files (memory, I/O, cpuset) and its processes' pids
/// are not read again.
#[derive(Clone, Debug, Default)]
struct Moved {
    counters: [u64; 8],
    procs: Vec<u32>,
}

impl Moved {
    fn counters(k: &Kstat) -> [u64; 8] {
        [
            k.nsec_user,
            k.nsec_sys,
            k.nprocs,
            k.nlwps,
            k.mem_usage,
            k.rss,
            k.swapresv,
            k.lockedmem,
        ]
    }

    fn of(z: &ZoneTick) -> Moved {
        Moved {
            counters: Moved::counters(z.kstat),
            procs: z.procs.to_vec(),
        }
    }

    /// The same as at `z` (compared without copying its pids).
    fn still(&self, z: &ZoneTick) -> bool {
        self.counters == Moved::counters(z.kstat) && self.procs == z.procs
    }
}

/// A quiet zone's cgroup files are read again at least every this many
/// ticks all the same: what changes with no task of the zone running (the
/// flusher writing its dirty pages back, an administrator's new cpuset)
/// shows at most this many seconds late. The sampler itself reads a quiet
/// zone in full every [`crate::kstat::read::QUIET_FULL_EVERY`] ticks, which
/// moves its CPU clock (zsched's share) and so re-reads these sooner.
const VIEW_FULL_EVERY: u32 = 10;

static WRITTEN: std::sync::Mutex<Written> = std::sync::Mutex::new(Written {
    generation: 0,
    zones: std::collections::BTreeMap::new(),
});

fn text_hash(text: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

/// [`refresh`] at scale (a thousand zones, nine files each, every
/// second): a file whose text is the one this process last wrote there is
/// not touched at all (no open, no stat, no read: an idle zone's meminfo,
/// cpuinfo, swaps and CPU masks rarely change), and a changed file is
/// opened, written at offset 0 and truncated only when shorter than what
/// was last written — no stat and no compare-read. The directory's
/// existence is checked only for a zone not seen at the last tick. A
/// zone seen for the first time (or after a restart) takes [`refresh`]'s
/// path, which compares with the files' contents, and has its cgroup
/// files found ([`Sources`]). Its cgroup files and its last pid are read
/// again only when its counters moved ([`Moved`]) or [`VIEW_FULL_EVERY`]
/// ticks passed; loadavg, uptime and stat are rendered anew every tick
/// (they move with the clock and the load's decay alone).
fn refresh_changed(
    host: &HostView,
    handle: &Handle,
    z: &ZoneTick,
    cache: &mut Written,
    generation: u64,
) {
    let dir = dir_for(&handle.control);
    let start = handle.zsched_start;
    let known = cache
        .zones
        .get(&dir)
        .is_some_and(|w| w.zsched_start == start);
    if !known {
        cache.zones.remove(&dir);
        if !dir.is_dir() {
            return;
        }
        let sources = Sources::find(z.cgroups);
        let cg = CgroupView::read(&sources, z.procs);
        let texts = render_with(host, z, &cg);
        let mut buf = Vec::new();
        let mut files = Vec::with_capacity(FILES.len());
        for ((name, _, _), text) in FILES.iter().zip(&texts) {
            let p = dir.join(name);
            // A file that failed is left unknown: the next tick compares
            // it again.
            files.push(
                write_in_place(&p, text, &mut buf)
                    .ok()
                    .map(|()| (text_hash(text), text.len())),
            );
        }
        cache.zones.insert(
            dir,
            ZoneWritten {
                zsched_start: start,
                generation,
                files,
                sources,
                cg,
                moved: Moved::of(z),
                kept: 0,
            },
        );
        return;
    }
    let Some(w) = cache.zones.get_mut(&dir) else {
        return;
    };
    w.generation = generation;
    if w.moved.still(z) && w.kept + 1 < VIEW_FULL_EVERY {
        w.kept += 1;
    } else {
        w.cg = CgroupView::read(&w.sources, z.procs);
        w.moved = Moved::of(z);
        w.kept = 0;
    }
    let texts = render_with(host, z, &w.cg);
    let mut buf = Vec::new();
    for (((name, _, _), text), last) in FILES.iter().zip(&texts).zip(w.files.iter_mut()) {
        let hash = text_hash(text);
        let p = dir.join(name);
        *last = match *last {
            Some((h, len)) if h == hash && len == text.len() => continue,
            Some((_, len)) => write_known(&p, text, len),
            None => write_in_place(&p, text, &mut buf).is_ok(),
        }
        .then_some((hash, text.len()));
    }
}

/// Overwrite a file whose current length (`old_len`, what this process
/// wrote last) is known: open, one pwrite, a truncate only when shorter.
/// False when it failed (the next tick compares the file again).
fn write_known(path: &Path, text: &str, old_len: usize) -> bool {
    let Ok(f) = fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
    else {
        return false;
    };
    if f.write_all_at(text.as_bytes(), 0).is_err() {
        return false;
    }
    old_len <= text.len() || f.set_len(text.len() as u64).is_ok()
}

fn cerr(what: String, e: std::io::Error) -> ChildError {
    ChildError::errno("view", what, e.raw_os_error().unwrap_or(0))
}

/// openat with a plain name (no slash), links refused.
fn open_under(dir: &OwnedFd, name: &str, flags: i32) -> std::io::Result<OwnedFd> {
    let c = CString::new(name).map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: openat with a descriptor we hold and a NUL-terminated name;
    // the new descriptor is ours.
    let fd = unsafe {
        libc::openat(
            dir.as_raw_fd(),
            c.as_ptr(),
            flags | libc::O_NOFOLLOW | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: the descriptor was just returned by the kernel.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn fs_magic(fd: &OwnedFd) -> std::io::Result<i64> {
    // SAFETY: statfs is plain data, for which all zeroes is a valid value.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: fstatfs writes into a statfs we own.
    if unsafe { libc::fstatfs(fd.as_raw_fd(), &mut st) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(st.f_type as i64)
}

/// zsched, in the zone's mount namespace, after the root is built and
/// before the pivot: each file of `dir` bind-mounted read-only over its
/// place under `root` (module comment). A place whose file system is not
/// the expected one (no /proc or /sys in the root) is left alone.
///
/// The directory itself is first bound onto itself and made read-only,
/// nosuid, nodev and noexec (two mounts, in this namespace only); each
/// file's bind is then made from that mount, and a bind copies the flags
/// of the mount it is made from, so each file needs one mount, not a bind
/// and a remount (11 mounts for the 9 files instead of 18, and one
/// O_PATH open per file, of its place, instead of three). The directory's mount hangs
/// beneath the old root, which the pivot detaches with everything on it:
/// it costs no grace period of its own.
pub fn bind(root: &Path, dir: &Path) -> Result<(), ChildError> {
    use super::inroot::{Fd, Policy, Root};
    let r = Root::open_real(root).map_err(|e| cerr(root.display().to_string(), e))?;
    // Each place's directory resolved and checked once (FILES lists the
    // files of one directory together): None when it is not there or
    // not the expected file system. All resolved before anything is
    // mounted, so that a root with neither /proc nor /sys costs nothing.
    let mut places: Vec<(usize, OwnedFd)> = Vec::new();
    let mut dir_of: Option<(&str, Option<OwnedFd>)> = None;
    for (i, (_, under, target)) in FILES.iter().enumerate() {
        if dir_of.as_ref().is_none_or(|(u, _)| u != under) {
            let magic = if *under == "proc" {
                PROC_SUPER_MAGIC
            } else {
                SYSFS_MAGIC
            };
            let fd = r
                .open_at(
                    Path::new(under),
                    libc::O_PATH | libc::O_DIRECTORY,
                    Policy::NoLinks,
                )
                .ok()
                .filter(|fd| fs_magic(fd).ok() == Some(magic));
            dir_of = Some((under, fd));
        }
        let Some((_, Some(parent))) = &dir_of else {
            continue;
        };
        if let Ok(at) = open_under(parent, target, libc::O_PATH) {
            places.push((i, at));
        }
    }
    if places.is_empty() {
        return Ok(());
    }
    let shown_dir = dir.display().to_string();
    let host_dir = fs::File::open(dir).map_err(|e| cerr(format!("open {shown_dir}"), e))?;
    let host_dir = OwnedFd::from(host_dir);
    let src = host_dir.proc_path();
    let src = src.to_string_lossy();
    super::mounts::mount(
        "view",
        Some(&src),
        &host_dir.proc_path(),
        None,
        libc::MS_BIND,
        None,
    )
    .map_err(|e| ChildError {
        message: format!("bind {shown_dir} onto itself: {}", e.message),
        ..e
    })?;
    let ro = libc::MS_BIND
        | libc::MS_REMOUNT
        | libc::MS_RDONLY
        | libc::MS_NOSUID
        | libc::MS_NODEV
        | libc::MS_NOEXEC;
    // The mount just made (`host_dir` still names the one beneath it).
    let top = fs::File::open(dir).map_err(|e| cerr(format!("reopen {shown_dir}"), e))?;
    let top = OwnedFd::from(top);
    super::mounts::mount("view", None, &top.proc_path(), None, ro, None).map_err(|e| {
        ChildError {
            message: format!("{shown_dir} read-only: {}", e.message),
            ..e
        }
    })?;
    for (i, at) in places {
        let (name, under, target) = FILES[i];
        // The file through the read-only mount (the directory is
        // root's, 0700, its files made O_NOFOLLOW by the launcher).
        let from = top.proc_path().join(name);
        super::mounts::mount(
            "view",
            Some(&from.to_string_lossy()),
            &at.proc_path(),
            None,
            libc::MS_BIND,
            None,
        )
        .map_err(|e| ChildError {
            message: format!(
                "{} on {}: {}",
                dir.join(name).display(),
                root.join(under).join(target).display(),
                e.message
            ),
            ..e
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    fn tmp() -> tempfile::TempDir {
        tempfile::tempdir().unwrap()
    }

    #[test]
    fn writing_in_place_keeps_the_inode_and_follows_the_length() {
        let d = tmp();
        let p = d.path().join("loadavg");
        fs::write(&p, "0.00 0.00 0.00 1/1 1\n").unwrap();
        let ino = fs::metadata(&p).unwrap().ino();
        let mut buf = Vec::new();
        for text in [
            "12.50 3.00 1.00 2/40 1234\n",
            "0.10 0.00 0.00 1/3 7\n",
            "0.10 0.00 0.00 1/3 7\n",
        ] {
            write_in_place(&p, text, &mut buf).unwrap();
            assert_eq!(fs::read_to_string(&p).unwrap(), text);
            assert_eq!(
                fs::metadata(&p).unwrap().ino(),
                ino,
                "the bound inode stays"
            );
        }
        // Missing: no error (a zone made before views existed).
        write_in_place(&d.path().join("gone"), "x", &mut buf).unwrap();
        // A link planted in place of a file is not followed.
        std::os::unix::fs::symlink(&p, d.path().join("link")).unwrap();
        assert!(write_in_place(&d.path().join("link"), "x", &mut buf).is_err());
    }

    #[test]
    fn memory_comes_from_the_v2_or_v1_cgroup_files() {
        let host = HostView {
            mem_total: 8 << 30,
            swap_total: 1 << 30,
            ..HostView::default()
        };
        let v2 = tmp();
        fs::write(v2.path().join("memory.current"), "104857600\n").unwrap();
        fs::write(
            v2.path().join("memory.stat"),
            "anon 83886080\nfile 20971520\nshmem 1048576\nactive_anon 73400320\ninactive_anon 10485760\nactive_file 10485760\ninactive_file 9437184\nslab_reclaimable 2097152\n",
        )
        .unwrap();
        fs::write(v2.path().join("memory.swap.current"), "4096\n").unwrap();
        let mut params = Params::new();
        params.set_arg("capped-memory.physical=256M").unwrap();
        params.set_arg("zone.max-swap=320M").unwrap();
        let m = zone_memory(&[v2.path().to_path_buf()], &params, &host);
        assert_eq!(m.total, 256 << 20);
        assert_eq!(m.usage, 100 << 20);
        assert_eq!(m.free(), 156 << 20);
        assert_eq!(
            m.available(),
            (156 << 20) + (10 << 20) + (9 << 20) + (2 << 20)
        );
        assert_eq!((m.swap_total, m.swap_used), (64 << 20, 4096));

        let v1 = tmp();
        fs::write(v1.path().join("memory.usage_in_bytes"), "52428800\n").unwrap();
        fs::write(
            v1.path().join("memory.stat"),
            "cache 1\nrss 2\ntotal_cache 20971520\ntotal_rss 31457280\ntotal_swap 0\ntotal_inactive_file 20971520\n",
        )
        .unwrap();
        // Uncapped: the host's memory and swap.
        let m = zone_memory(&[v1.path().to_path_buf()], &Params::new(), &host);
        assert_eq!(
            (m.total, m.usage, m.anon, m.file),
            (8 << 30, 50 << 20, 30 << 20, 20 << 20)
        );
        assert_eq!(m.swap_total, 1 << 30);
        // A cap above the host's memory shows the host's.
        let mut big = Params::new();
        big.set_arg("capped-memory.physical=1T").unwrap();
        assert_eq!(mem_cap(&big, host.mem_total), 8 << 30);
    }

    #[test]
    fn a_tick_writes_what_changed_and_a_new_boot_is_filled_anew() {
        let d = tmp();
        let control = d.path().join("9-77.sock");
        let dir = prepare(&control, None).unwrap();
        let params = Params::new();
        let host = HostView::read();
        let mut handle = Handle {
            control: control.clone(),
            zsched_start: (host.boottime_ns / 1_000_000_000 - 5) * timens::clk_tck(),
            ..Handle::default()
        };
        let expect = |h: &Handle, k: &Kstat| {
            render_all(
                &HostView::read(),
                &ZoneTick {
                    cgroups: &[],
                    params: &params,
                    kstat: k,
                    procs: &[],
                    zsched_start: Some(h.zsched_start),
                },
            )
        };
        let tick = |h: &Handle, k: &Kstat| {
            refresh_all(&[crate::runtime::ViewTick {
                handle: h,
                params: &params,
                kstat: k,
                procs: &[],
            }]);
        };
        let loadavg = || fs::read_to_string(dir.join("loadavg")).unwrap();
        // Loads whose text grows, then shrinks: each is written whole, the
        // shorter one truncated, the inode kept.
        let ino = fs::metadata(dir.join("loadavg")).unwrap().ino();
        for avenrun in [[0, 0, 0], [12 << 8, 3 << 8, 1 << 8], [0, 0, 0]] {
            let k = Kstat {
                avenrun,
                ..Kstat::default()
            };
            tick(&handle, &k);
            assert_eq!(loadavg(), expect(&handle, &k)[0]);
            assert_eq!(fs::metadata(dir.join("loadavg")).unwrap().ino(), ino);
            for (name, _, _) in FILES {
                assert!(fs::metadata(dir.join(name)).unwrap().len() > 0, "{name}");
            }
        }
        // The zone booted again: fresh, empty files in the same place and
        // a new zsched start; the next tick fills every one of them.
        prepare(&control, None).unwrap();
        handle.zsched_start += 1;
        tick(&handle, &Kstat::default());
        for ((name, _, _), text) in FILES.iter().zip(expect(&handle, &Kstat::default())) {
            let got = fs::read_to_string(dir.join(name)).unwrap();
            // The others follow the host's clock and counters, which may
            // move between the tick and this check.
            if ["loadavg", "cpu-online", "cpu-present"].contains(name) {
                assert_eq!(got, text, "{name}");
            } else {
                assert!(!got.is_empty(), "{name}");
            }
        }
    }

    #[test]
    fn cgroup_files_are_found_once_and_reread_only_when_the_zone_moved() {
        // Two "hierarchies": the first without memory files, the second
        // with v2 ones and a cpuset; the first's cpuset.cpus is empty
        // (falls through, as the kernel's unset v1 cpuset does).
        let a = tmp();
        let b = tmp();
        fs::write(a.path().join("cpuset.cpus"), "\n").unwrap();
        fs::write(b.path().join("cpuset.cpus.effective"), "0\n").unwrap();
        fs::write(b.path().join("memory.current"), "4096\n").unwrap();
        fs::write(b.path().join("memory.stat"), "anon 4096\n").unwrap();
        let cgroups = [a.path().to_path_buf(), b.path().to_path_buf()];
        let src = Sources::find(&cgroups);
        assert_eq!(
            src.cpuset,
            [
                a.path().join("cpuset.cpus"),
                b.path().join("cpuset.cpus.effective")
            ]
        );
        assert!(src.io_stat.is_empty() && src.blkio.is_empty());
        assert!(matches!(
            &src.memory,
            Some(MemSource::V2 { swap: None, .. })
        ));
        assert_eq!(zone_cpuset(&cgroups), Some(vec![0]));

        let d = tmp();
        let control = d.path().join("3-5.sock");
        let dir = prepare(&control, None).unwrap();
        let host = HostView::read();
        let handle = Handle {
            control,
            zsched_start: (host.boottime_ns / 1_000_000_000 - 5) * timens::clk_tck(),
            ..Handle::default()
        };
        let params = Params::new();
        let mut cache = Written {
            generation: 0,
            zones: std::collections::BTreeMap::new(),
        };
        let mut tick = |k: &Kstat| {
            let z = ZoneTick {
                cgroups: &cgroups,
                params: &params,
                kstat: k,
                procs: &[],
                zsched_start: Some(handle.zsched_start),
            };
            refresh_changed(&host, &handle, &z, &mut cache, 1);
            let w = &cache.zones[&dir];
            (w.cg.mem.usage, w.cg.cpuset.clone())
        };
        let idle = Kstat {
            nsec_user: 1000,
            ..Kstat::default()
        };
        assert_eq!(tick(&idle), (4096, Some(vec![0])));
        // The files change while the counters do not (a quiet tick): the
        // last read stands ...
        fs::write(b.path().join("memory.current"), "8192\n").unwrap();
        fs::write(a.path().join("cpuset.cpus"), "1\n").unwrap();
        assert_eq!(tick(&idle), (4096, Some(vec![0])));
        // ... until they move,
        let ran = Kstat {
            nsec_user: 2000,
            ..Kstat::default()
        };
        assert_eq!(tick(&ran), (8192, Some(vec![1])));
        // and at the latest after VIEW_FULL_EVERY quiet ticks.
        fs::write(b.path().join("memory.current"), "12288\n").unwrap();
        for _ in 1..VIEW_FULL_EVERY {
            assert_eq!(tick(&ran).0, 8192);
        }
        assert_eq!(tick(&ran).0, 12288);
        // meminfo shows what was read.
        let meminfo = fs::read_to_string(dir.join("meminfo")).unwrap();
        let cg = cache.zones[&dir].cg.clone();
        let z = ZoneTick {
            cgroups: &cgroups,
            params: &params,
            kstat: &ran,
            procs: &[],
            zsched_start: Some(handle.zsched_start),
        };
        assert_eq!(meminfo, render_with(&host, &z, &cg)[3]);
    }

    #[test]
    fn every_file_renders_for_a_zone_and_prepare_makes_a_private_directory() {
        let d = tmp();
        let control = d.path().join("7-42.sock");
        let mut params = Params::new();
        params.set_arg("zone.cpu-cap=50").unwrap();
        let dir = prepare(&control, None).unwrap();
        assert_eq!(dir, d.path().join("7-42.view"));
        assert_eq!(fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
        let mut inodes = Vec::new();
        for (name, _, _) in FILES {
            let m = fs::metadata(dir.join(name)).unwrap();
            assert_eq!(m.mode() & 0o777, 0o444, "{name}");
            assert_eq!(m.len(), 0, "{name}");
            inodes.push(m.ino());
        }
        // The first text, with a zone born 3 s ago; the same inodes (a
        // bind mount made before holds them).
        let host = HostView::read();
        let born = (host.boottime_ns / 1_000_000_000 - 3) * timens::clk_tck();
        fill(&control, &[], &params, born).unwrap();
        for ((name, _, _), ino) in FILES.iter().zip(&inodes) {
            let m = fs::metadata(dir.join(name)).unwrap();
            assert_eq!(m.ino(), *ino, "{name}");
            assert!(m.len() > 0, "{name} still empty");
        }
        let up: f64 = fs::read_to_string(dir.join("uptime"))
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!((3.0..4.0).contains(&up), "{up}");
        // cpu-cap 50: one CPU; a fresh zone: no load.
        assert_eq!(
            fs::read_to_string(dir.join("cpu-online")).unwrap().trim(),
            "0"
        );
        assert!(
            fs::read_to_string(dir.join("loadavg"))
                .unwrap()
                .starts_with("0.00 0.00 0.00 ")
        );
        // A tick with a load of 1.50 and a zone born 10 s ago.
        let host = HostView::read();
        let start = (host.boottime_ns / 1_000_000_000 - 10) * timens::clk_tck();
        let kstat = Kstat {
            avenrun: [384, 256, 128],
            nlwps: 5,
            cpu_pct: 150.0,
            ..Kstat::default()
        };
        let handle = Handle {
            control: control.clone(),
            zsched_start: start,
            ..Handle::default()
        };
        refresh(
            &host,
            &handle,
            &ZoneTick {
                cgroups: &[],
                params: &params,
                kstat: &kstat,
                procs: &[],
                zsched_start: Some(start),
            },
        )
        .unwrap();
        let la = fs::read_to_string(dir.join("loadavg")).unwrap();
        assert!(la.starts_with("1.50 1.00 0.50 2/5 "), "{la}");
        let up: f64 = fs::read_to_string(dir.join("uptime"))
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!((10.0..11.0).contains(&up), "{up}");
        let stat = fs::read_to_string(dir.join("stat")).unwrap();
        let btime: u64 = stat
            .lines()
            .find_map(|l| l.strip_prefix("btime "))
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(btime, host.btime + start / timens::clk_tck());
        remove(&control);
        assert!(!dir.exists());
    }

    #[test]
    fn a_spare_directory_is_renamed_into_place_and_a_dead_ones_swept() {
        let d = tmp();
        let spare = prepare_spare(d.path()).unwrap();
        assert_eq!(
            spare_owner(spare.file_name().unwrap()),
            Some(std::process::id())
        );
        let ino = fs::metadata(spare.join("meminfo")).unwrap().ino();
        // A stale directory of the zone's name is replaced.
        let control = d.path().join("3-17.sock");
        fs::create_dir(dir_for(&control)).unwrap();
        fs::write(dir_for(&control).join("old"), "x").unwrap();
        let dir = prepare(&control, Some(&spare)).unwrap();
        assert!(!spare.exists());
        assert_eq!(fs::metadata(dir.join("meminfo")).unwrap().ino(), ino);
        assert!(!dir.join("old").exists());
        let mode = fs::metadata(&dir).unwrap().mode() & 0o777;
        assert_eq!(mode, 0o700);
        for (name, _, _) in FILES {
            let m = fs::metadata(dir.join(name)).unwrap();
            assert_eq!((m.mode() & 0o777, m.len()), (0o444, 0), "{name}");
        }
        // A spare that is gone is swept, a live one (ours) and the zone's
        // directory are not; a spare that cannot be renamed is made anew.
        let live = prepare_spare(d.path()).unwrap();
        let dead = d.path().join(format!("spare-{}.view", u32::MAX - 1));
        fs::create_dir(&dead).unwrap();
        sweep_spares(d.path());
        assert!(!dead.exists() && live.exists() && dir.exists());
        let other = d.path().join("4-18.sock");
        let made = prepare(&other, Some(&d.path().join("spare-1.view"))).unwrap();
        assert_eq!(fs::read_dir(&made).unwrap().count(), FILES.len());
        assert_eq!(spare_owner(std::ffi::OsStr::new("4-18.view")), None);
    }
}
