//! # The view from inside: the text of a zone's own /proc files
//!
//! A process in a non-global zone reads its zone's load, uptime, CPU time,
//! memory and CPUs from the ordinary files (view.md): /proc/loadavg,
//! /proc/uptime, /proc/stat, /proc/meminfo, /proc/swaps, /proc/cpuinfo,
//! /proc/diskstats and /sys/devices/system/cpu/online. This module only
//! *renders* their text from plain data — the engine's counters of one tick
//! ([`crate::snapshot::Kstat`]: the same avenrun, CPU time and process
//! counts that `kstat`, /zones/Z and ztop show) and a few host files. It
//! reads nothing itself, so every format is tested against golden text
//! here. Serving the text (files bind-mounted into the zone, written once
//! a tick) is the runtime's: `runtime::linux::view`.
//!
//! The formats copy the kernel's (fs/proc/loadavg.c, uptime.c, stat.c,
//! meminfo.c, swapfile.c), so procps (`uptime`, `free`, `top`, `vmstat`)
//! and util-linux (`lscpu`) parse them unchanged. Where the kernel pads a
//! number to a width (meminfo's `%8lu kB`), so do we: the size of a file
//! then rarely changes from one tick to the next.
//!
//! What each number is:
//!
//! * loadavg: avenrun / 256 with two decimals; "runnable" is the number of
//!   CPUs the zone kept busy over the last tick, rounded, at least 1 (the
//!   reader itself is running) and at most the zone's threads; the last
//!   pid is the highest pid, in the zone's pid namespace, of the zone's
//!   live processes (Linux keeps no per-namespace "last allocated" that a
//!   host process can read without entering the namespace).
//! * uptime: the zone's age, and idle = visible CPUs × age − the zone's
//!   CPU time, never negative.
//! * stat: user and system time of the zone spread evenly over its visible
//!   CPUs (a cgroup keeps no per-CPU split on v2), idle as above, in
//!   USER_HZ (1/100 s); btime is the boot time the zone's time namespace
//!   gives (host btime + the namespace's offset), so `ps -o lstart` inside
//!   agrees with the host.
//! * meminfo: the host's file with the memory lines replaced by the zone's
//!   (MemTotal = the physical cap, or the host's when uncapped or larger),
//!   lines that describe only the host (commit, vmalloc use, per-CPU,
//!   hardware corruption, ...) zeroed, sizes of the machine kept
//!   (Hugepagesize, VmallocTotal, DirectMap*).
//! * swaps: one line for the zone's swap allowance, none when it is 0.
//! * cpuinfo: the host's blocks of the visible CPUs only.
//! * diskstats: the host's device list, each line with the zone's own
//!   reads and writes (ios and sectors) where the cgroup accounts them,
//!   every other field 0.

use std::fmt::Write as _;

/// USER_HZ: the unit of /proc/stat's CPU times.
pub const USER_HZ: u64 = 100;
const NS_PER_TICK: u64 = 1_000_000_000 / USER_HZ;

/// A zone's memory as its cgroup accounts it, bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemView {
    /// MemTotal: the physical cap, or the host's MemTotal.
    pub total: u64,
    /// Charged to the cgroup (memory.current / usage_in_bytes).
    pub usage: u64,
    pub anon: u64,
    /// Page cache, shmem included (v2 `file`, v1 `total_cache`).
    pub file: u64,
    pub shmem: u64,
    pub active_anon: u64,
    pub inactive_anon: u64,
    pub active_file: u64,
    pub inactive_file: u64,
    pub unevictable: u64,
    pub mapped: u64,
    pub dirty: u64,
    pub writeback: u64,
    pub slab_reclaimable: u64,
    pub slab_unreclaimable: u64,
    pub kernel_stack: u64,
    pub pagetables: u64,
    pub mlocked: u64,
    /// SwapTotal: the zone's swap allowance (0: none).
    pub swap_total: u64,
    /// Swap the zone uses.
    pub swap_used: u64,
}

impl MemView {
    pub fn free(&self) -> u64 {
        self.total.saturating_sub(self.usage)
    }
    /// Free plus what the kernel can take back without swapping (file
    /// pages not in shmem, reclaimable slab), at most MemTotal.
    pub fn available(&self) -> u64 {
        (self.free() + self.active_file + self.inactive_file + self.slab_reclaimable)
            .min(self.total)
    }
}

/// A CPU list (`0-1,3`) as cpuset.cpus and /sys/.../cpu/online write it.
pub fn format_cpu_list(cpus: &[u32]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < cpus.len() {
        let start = cpus[i];
        let mut end = start;
        while i + 1 < cpus.len() && cpus[i + 1] == end + 1 {
            i += 1;
            end = cpus[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            let _ = write!(out, "{start}");
        } else {
            let _ = write!(out, "{start}-{end}");
        }
        i += 1;
    }
    out
}

/// Parse a CPU list (`0-1,3`; blanks around items allowed); ascending,
/// each CPU once. An empty text is an empty list.
pub fn parse_cpu_list(s: &str) -> Result<Vec<u32>, String> {
    let mut out = Vec::new();
    for item in s.trim().split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let num = |t: &str| {
            t.trim()
                .parse::<u32>()
                .map_err(|_| format!("{item:?}: not a CPU number or range"))
        };
        let (a, b) = match item.split_once('-') {
            Some((a, b)) => (num(a)?, num(b)?),
            None => (num(item)?, num(item)?),
        };
        if a > b || b > 8191 {
            return Err(format!("{item:?}: not a CPU range"));
        }
        out.extend(a..=b);
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// The CPUs a zone sees (view.md): its cpuset when it has one, else the
/// first ⌈cpu-cap / 100⌉ of the host's online CPUs, else all of them.
pub fn visible_cpus(host_online: &[u32], cpuset: Option<&[u32]>, cpu_cap: Option<u64>) -> Vec<u32> {
    if let Some(set) = cpuset.filter(|s| !s.is_empty()) {
        return set.to_vec();
    }
    match cpu_cap.filter(|c| *c > 0) {
        Some(cap) => {
            let n = cap.div_ceil(100).max(1) as usize;
            host_online.iter().copied().take(n).collect()
        }
        None => host_online.to_vec(),
    }
}

/// /proc/loadavg.
pub fn loadavg(avenrun: [u32; 3], running: u64, threads: u64, last_pid: u32) -> String {
    let la = |x: u32| x as f64 / 256.0;
    format!(
        "{:.2} {:.2} {:.2} {}/{} {}\n",
        la(avenrun[0]),
        la(avenrun[1]),
        la(avenrun[2]),
        running,
        threads,
        last_pid
    )
}

/// The "runnable" count of /proc/loadavg (module comment) from the CPU
/// percent (of one CPU) over the last tick and the zone's threads.
pub fn runnable(cpu_pct: f64, threads: u64) -> u64 {
    let busy = (cpu_pct / 100.0).round().max(1.0) as u64;
    busy.min(threads.max(1))
}

/// Idle ns of a zone: visible CPUs × age − its CPU time, never negative.
pub fn idle_ns(ncpus: usize, uptime_ns: u64, cpu_ns: u64) -> u64 {
    (ncpus as u64)
        .saturating_mul(uptime_ns)
        .saturating_sub(cpu_ns)
}

/// /proc/uptime: seconds with two decimals, as the kernel prints them.
pub fn uptime(uptime_ns: u64, idle_ns: u64) -> String {
    let cs = |ns: u64| (ns / 1_000_000_000, (ns % 1_000_000_000) / 10_000_000);
    let (u, uc) = cs(uptime_ns);
    let (i, ic) = cs(idle_ns);
    format!("{u}.{uc:02} {i}.{ic:02}\n")
}

/// What /proc/stat shows of a zone.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StatView<'a> {
    pub cpus: &'a [u32],
    pub user_ns: u64,
    pub sys_ns: u64,
    pub uptime_ns: u64,
    /// Seconds since the epoch of the zone's boot (its time namespace's).
    pub btime: u64,
    /// Forks since boot: the highest pid the zone allocated is the best
    /// bound a host process has (module comment).
    pub processes: u64,
    pub procs_running: u64,
}

/// /proc/stat.
pub fn stat(v: &StatView) -> String {
    let n = v.cpus.len().max(1) as u64;
    let user = v.user_ns / NS_PER_TICK;
    let sys = v.sys_ns / NS_PER_TICK;
    let idle = idle_ns(n as usize, v.uptime_ns, v.user_ns + v.sys_ns) / NS_PER_TICK;
    let line = |out: &mut String, name: &str, u: u64, s: u64, i: u64| {
        let _ = writeln!(out, "{name} {u} 0 {s} {i} 0 0 0 0 0 0");
    };
    let mut out = String::with_capacity(256 + 64 * v.cpus.len());
    line(&mut out, "cpu ", user, sys, idle);
    for (k, cpu) in v.cpus.iter().enumerate() {
        // An even share; the remainder goes to the first CPUs, so the
        // lines add up to the total.
        let share = |t: u64| t / n + u64::from((k as u64) < t % n);
        line(
            &mut out,
            &format!("cpu{cpu}"),
            share(user),
            share(sys),
            share(idle),
        );
    }
    let _ = write!(
        out,
        "intr 0\nctxt 0\nbtime {}\nprocesses {}\nprocs_running {}\nprocs_blocked 0\nsoftirq 0 0 0 0 0 0 0 0 0 0 0\n",
        v.btime, v.processes, v.procs_running
    );
    out
}

/// The meminfo keys whose values the zone's accounting gives, in kB.
fn zone_meminfo_value(key: &str, m: &MemView) -> Option<u64> {
    let kb = |b: u64| b / 1024;
    Some(kb(match key {
        "MemTotal" => m.total,
        "MemFree" => m.free(),
        "MemAvailable" => m.available(),
        "Buffers" => 0,
        "Cached" => m.file,
        "SwapCached" => 0,
        "Active" => m.active_anon + m.active_file,
        "Inactive" => m.inactive_anon + m.inactive_file,
        "Active(anon)" => m.active_anon,
        "Inactive(anon)" => m.inactive_anon,
        "Active(file)" => m.active_file,
        "Inactive(file)" => m.inactive_file,
        "Unevictable" => m.unevictable,
        "Mlocked" => m.mlocked,
        "SwapTotal" => m.swap_total,
        "SwapFree" => m.swap_total.saturating_sub(m.swap_used),
        "Dirty" => m.dirty,
        "Writeback" => m.writeback,
        "AnonPages" => m.anon,
        "Mapped" => m.mapped,
        "Shmem" => m.shmem,
        "KReclaimable" | "SReclaimable" => m.slab_reclaimable,
        "Slab" => m.slab_reclaimable + m.slab_unreclaimable,
        "SUnreclaim" => m.slab_unreclaimable,
        "KernelStack" => m.kernel_stack,
        "PageTables" => m.pagetables,
        _ => return None,
    }))
}

/// meminfo keys that describe the machine, not its use: kept as the host
/// has them.
const MEMINFO_KEEP: &[&str] = &[
    "VmallocTotal",
    "HugePages_Total",
    "HugePages_Free",
    "HugePages_Rsvd",
    "HugePages_Surp",
    "Hugepagesize",
    "Hugetlb",
    "DirectMap4k",
    "DirectMap2M",
    "DirectMap1G",
];

/// /proc/meminfo: the host's text with each value replaced (module
/// comment), each number right-aligned in the field the host's line gave
/// it (`MemTotal:       24531688 kB`).
pub fn meminfo(host: &str, m: &MemView) -> String {
    let mut out = String::with_capacity(host.len());
    for line in host.lines() {
        let Some((key, rest)) = line.split_once(':') else {
            continue;
        };
        let digits_end = rest.trim_end_matches(" kB").len();
        let field = &rest[..digits_end];
        let suffix = &rest[digits_end..];
        let value = match zone_meminfo_value(key, m) {
            Some(v) => v,
            None if MEMINFO_KEEP.contains(&key) => {
                out.push_str(line);
                out.push('\n');
                continue;
            }
            None => 0,
        };
        let width = field.len();
        let _ = writeln!(out, "{key}:{value:>width$}{suffix}");
    }
    out
}

/// /proc/swaps: the header, and one line for the zone's allowance (kB).
pub fn swaps(m: &MemView) -> String {
    let mut out = String::from("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
    if m.swap_total > 0 {
        let _ = writeln!(
            out,
            "{:<40}{:<16}{:<16}{:<16}{}",
            "none",
            "virtual",
            m.swap_total / 1024,
            m.swap_used.min(m.swap_total) / 1024,
            -2
        );
    }
    out
}

/// /proc/cpuinfo: the host's blocks (`processor : N` ... blank line) of
/// the CPUs in `cpus` only.
pub fn cpuinfo(host: &str, cpus: &[u32]) -> String {
    let mut out = String::with_capacity(host.len());
    for block in host.split("\n\n").filter(|b| !b.trim().is_empty()) {
        let n = block.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == "processor").then(|| v.trim().parse::<u32>().ok())?
        });
        if n.is_some_and(|n| cpus.contains(&n)) {
            out.push_str(block.trim_start_matches('\n'));
            out.push_str("\n\n");
        }
    }
    out
}

/// /sys/devices/system/cpu/online.
pub fn cpu_online(cpus: &[u32]) -> String {
    format!("{}\n", format_cpu_list(cpus))
}

/// The I/O of a zone on one device, as its cgroup accounts it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DiskIo {
    pub major: u32,
    pub minor: u32,
    pub rbytes: u64,
    pub wbytes: u64,
    pub rios: u64,
    pub wios: u64,
}

/// /proc/diskstats: the host's devices, each with the zone's own ios and
/// sectors (512 bytes) and zeros elsewhere.
pub fn diskstats(host: &str, io: &[DiskIo]) -> String {
    let mut out = String::with_capacity(host.len());
    for line in host.lines() {
        let mut it = line.split_whitespace();
        let (Some(maj), Some(min), Some(name)) = (it.next(), it.next(), it.next()) else {
            continue;
        };
        let (Ok(maj), Ok(min)) = (maj.parse::<u32>(), min.parse::<u32>()) else {
            continue;
        };
        let d = io
            .iter()
            .find(|d| d.major == maj && d.minor == min)
            .copied()
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{maj:4} {min:7} {name} {} 0 {} 0 {} 0 {} 0 0 0 0 0 0 0 0 0 0",
            d.rios,
            d.rbytes / 512,
            d.wios,
            d.wbytes / 512
        );
    }
    out
}

/// The zone's I/O per device from v2 `io.stat` text.
pub fn parse_io_stat(text: &str) -> Vec<DiskIo> {
    text.lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let (maj, min) = it.next()?.split_once(':')?;
            let mut d = DiskIo {
                major: maj.parse().ok()?,
                minor: min.parse().ok()?,
                ..DiskIo::default()
            };
            for kv in it {
                let (k, v) = kv.split_once('=')?;
                let v: u64 = v.parse().unwrap_or(0);
                match k {
                    "rbytes" => d.rbytes = v,
                    "wbytes" => d.wbytes = v,
                    "rios" => d.rios = v,
                    "wios" => d.wios = v,
                    _ => {}
                }
            }
            Some(d)
        })
        .collect()
}

/// The zone's I/O per device from v1 blkio files: `bytes` is
/// io_service_bytes(_recursive), `ios` io_serviced(_recursive)
/// (`MAJ:MIN Read N` lines).
pub fn parse_blkio(bytes: &str, ios: &str) -> Vec<DiskIo> {
    let mut out: Vec<DiskIo> = Vec::new();
    for (text, is_bytes) in [(bytes, true), (ios, false)] {
        for l in text.lines() {
            let mut it = l.split_whitespace();
            let (Some(dev), Some(op), Some(v)) = (it.next(), it.next(), it.next()) else {
                continue;
            };
            let Some((maj, min)) = dev.split_once(':') else {
                continue;
            };
            let (Ok(major), Ok(minor), Ok(v)) = (maj.parse(), min.parse(), v.parse::<u64>()) else {
                continue;
            };
            let i = match out
                .iter()
                .position(|d| d.major == major && d.minor == minor)
            {
                Some(i) => i,
                None => {
                    out.push(DiskIo {
                        major,
                        minor,
                        ..DiskIo::default()
                    });
                    out.len() - 1
                }
            };
            let d = &mut out[i];
            match (op, is_bytes) {
                ("Read", true) => d.rbytes = v,
                ("Write", true) => d.wbytes = v,
                ("Read", false) => d.rios = v,
                ("Write", false) => d.wios = v,
                _ => {}
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists_round_trip() {
        assert_eq!(parse_cpu_list("0-1,3").unwrap(), vec![0, 1, 3]);
        assert_eq!(parse_cpu_list(" 3, 0-1 ,1\n").unwrap(), vec![0, 1, 3]);
        assert_eq!(parse_cpu_list("").unwrap(), Vec::<u32>::new());
        assert!(parse_cpu_list("2-1").is_err());
        assert!(parse_cpu_list("a").is_err());
        assert!(parse_cpu_list("0-99999").is_err());
        assert_eq!(format_cpu_list(&[0, 1, 3, 5, 6, 7]), "0-1,3,5-7");
        assert_eq!(format_cpu_list(&[4]), "4");
        assert_eq!(format_cpu_list(&[]), "");
    }

    #[test]
    fn visible_cpus_follow_cpuset_then_cap_then_host() {
        let host = [0, 1, 2, 3];
        assert_eq!(visible_cpus(&host, Some(&[2]), Some(300)), vec![2]);
        assert_eq!(visible_cpus(&host, None, Some(150)), vec![0, 1]);
        assert_eq!(visible_cpus(&host, None, Some(50)), vec![0]);
        assert_eq!(visible_cpus(&host, None, Some(900)), vec![0, 1, 2, 3]);
        assert_eq!(visible_cpus(&host, None, None), vec![0, 1, 2, 3]);
        assert_eq!(visible_cpus(&host, Some(&[]), None), vec![0, 1, 2, 3]);
    }

    #[test]
    fn loadavg_is_the_kernels_format() {
        assert_eq!(loadavg([0, 0, 0], 1, 3, 7), "0.00 0.00 0.00 1/3 7\n");
        // 2.00, 1.50, 0.25 (x256), and a value that rounds.
        assert_eq!(
            loadavg([512, 384, 64], 2, 40, 1234),
            "2.00 1.50 0.25 2/40 1234\n"
        );
        assert_eq!(loadavg([255, 1, 2], 1, 1, 1), "1.00 0.00 0.01 1/1 1\n");
        assert_eq!(runnable(0.0, 3), 1);
        assert_eq!(runnable(199.0, 5), 2);
        assert_eq!(runnable(400.0, 2), 2);
        assert_eq!(runnable(50.0, 0), 1);
    }

    #[test]
    fn uptime_and_idle() {
        assert_eq!(uptime(0, 0), "0.00 0.00\n");
        assert_eq!(uptime(61_234_000_000, 100_999_999_999), "61.23 100.99\n");
        assert_eq!(idle_ns(2, 10, 5), 15);
        assert_eq!(idle_ns(1, 10, 50), 0);
    }

    #[test]
    fn stat_has_one_line_per_visible_cpu_adding_up() {
        let s = stat(&StatView {
            cpus: &[0, 2],
            user_ns: 3_010_000_000, // 301 ticks
            sys_ns: 1_000_000_000,  // 100 ticks
            uptime_ns: 10_000_000_000,
            btime: 1_700_000_000,
            processes: 42,
            procs_running: 1,
        });
        let want = "cpu  301 0 100 1599 0 0 0 0 0 0\n\
                    cpu0 151 0 50 800 0 0 0 0 0 0\n\
                    cpu2 150 0 50 799 0 0 0 0 0 0\n\
                    intr 0\nctxt 0\nbtime 1700000000\nprocesses 42\n\
                    procs_running 1\nprocs_blocked 0\n\
                    softirq 0 0 0 0 0 0 0 0 0 0 0\n";
        assert_eq!(s, want);
    }

    const HOST_MEMINFO: &str = "MemTotal:       24531688 kB\n\
MemFree:        10000000 kB\n\
MemAvailable:   20000000 kB\n\
Buffers:          100000 kB\n\
Cached:          5000000 kB\n\
Active(anon):     300000 kB\n\
Committed_AS:    9000000 kB\n\
VmallocTotal:   34359738367 kB\n\
SwapTotal:             0 kB\n\
SwapFree:              0 kB\n\
HugePages_Total:       0\n\
Hugepagesize:       2048 kB\n";

    fn capped() -> MemView {
        MemView {
            total: 256 << 20,
            usage: 100 << 20,
            anon: 60 << 20,
            file: 40 << 20,
            shmem: 4 << 20,
            active_anon: 50 << 20,
            inactive_anon: 14 << 20,
            active_file: 16 << 20,
            inactive_file: 20 << 20,
            swap_total: 64 << 20,
            swap_used: 1 << 20,
            ..MemView::default()
        }
    }

    #[test]
    fn meminfo_replaces_the_zones_lines_in_the_hosts_layout() {
        let got = meminfo(HOST_MEMINFO, &capped());
        let want = "MemTotal:         262144 kB\n\
MemFree:          159744 kB\n\
MemAvailable:     196608 kB\n\
Buffers:               0 kB\n\
Cached:            40960 kB\n\
Active(anon):      51200 kB\n\
Committed_AS:          0 kB\n\
VmallocTotal:   34359738367 kB\n\
SwapTotal:         65536 kB\n\
SwapFree:          64512 kB\n\
HugePages_Total:       0\n\
Hugepagesize:       2048 kB\n";
        assert_eq!(got, want);
        // Every line keeps the host's width: the file's size only changes
        // when a number outgrows its field.
        for (a, b) in got.lines().zip(HOST_MEMINFO.lines()) {
            assert_eq!(a.len(), b.len(), "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn available_never_exceeds_total_and_free_never_underflows() {
        let m = MemView {
            total: 100,
            usage: 150,
            active_file: 500,
            ..MemView::default()
        };
        assert_eq!(m.free(), 0);
        assert_eq!(m.available(), 100);
    }

    #[test]
    fn swaps_has_a_line_only_for_an_allowance() {
        let none = swaps(&MemView::default());
        assert_eq!(none.lines().count(), 1);
        let s = swaps(&capped());
        let line = s.lines().nth(1).unwrap();
        let f: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(f, ["none", "virtual", "65536", "1024", "-2"]);
    }

    #[test]
    fn cpuinfo_keeps_the_visible_cpus_blocks() {
        let host = "processor\t: 0\nmodel name\t: X\n\nprocessor\t: 1\nmodel name\t: X\n\n";
        assert_eq!(cpuinfo(host, &[1]), "processor\t: 1\nmodel name\t: X\n\n");
        assert_eq!(cpuinfo(host, &[0, 1]), host);
        assert_eq!(cpu_online(&[0, 1, 3]), "0-1,3\n");
    }

    #[test]
    fn diskstats_shows_the_zones_own_io() {
        let host = "   8       0 sda 100 2 300 4 500 6 700 8 0 9 10 0 0 0 0 0 0\n   \
                    7       0 loop0 1 0 2 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
        let io = parse_io_stat("8:0 rbytes=4096 wbytes=1024 rios=3 wios=1 dbytes=0 dios=0\n");
        let got = diskstats(host, &io);
        // 17 fields after the name, as the host's (kernel 5.5 and later).
        let want = "   8       0 sda 3 0 8 0 1 0 2 0 0 0 0 0 0 0 0 0 0\n   \
                    7       0 loop0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
        assert_eq!(got, want);
        let v1 = parse_blkio(
            "8:0 Read 4096\n8:0 Write 1024\n8:0 Total 5120\nTotal 5120\n",
            "8:0 Read 3\n8:0 Write 1\n",
        );
        assert_eq!(v1, io);
    }
}
