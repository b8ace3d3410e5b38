//! # A time namespace per zone: the zone's boot is its clocks' zero
//!
//! In a zone, /proc/uptime, CLOCK_BOOTTIME, CLOCK_MONOTONIC, the start
//! times of /proc/PID/stat and the `btime` of /proc/stat must tell one
//! story — the zone's — and `ps -o lstart` inside must print the times the
//! host prints for the same process (view.md). A time namespace does it in
//! the kernel, at no cost per read: its BOOTTIME offset is minus the host's
//! boottime at the zone's boot, and the kernel then shifts every one of
//! those numbers for a reader in the namespace (start times and btime by
//! the same amount, so lstart = btime + start is unchanged).
//!
//! The zone's boot is zsched's start, in whole seconds: the offset is
//! `floor(zsched start / CLK_TCK)` seconds, from field 22 of its
//! /proc/PID/stat (clock ticks of boottime). Whole seconds, because btime
//! is printed in whole seconds: with an offset of S s the kernel's btime
//! inside is exactly the host's + S and lstart agrees to the second. Any
//! host process computes the same offset from the zone's handle
//! ([`offset_secs`]), so the engine renders /proc/uptime and /proc/stat of
//! the zone consistently with the kernel, and a restarted engine finds it
//! again with nothing saved.
//!
//! zsched (pid 1, single-threaded, before anything of the zone runs)
//! unshares CLONE_NEWTIME and writes the offsets to
//! /proc/self/timens_offsets: the new namespace is its *children's*, and
//! the kernel takes offsets only until a first process enters it. zsched
//! itself stays in the host's (its own start time, shown inside as pid 1's,
//! is within the second after the zone's zero, never negative). CLOCK_MONOTONIC
//! is shifted by the same amount, or less where the host was suspended for
//! longer than the zone has lived (a clock in a namespace may not start
//! below 0). A process entering the zone (zlogin, jexec) joins zsched's
//! `time_for_children` namespace ([`super::enter`]).
//!
//! A kernel without time namespaces (CONFIG_TIME_NS off, before 5.6)
//! refuses the unshare with EINVAL; the zone then runs on the host's
//! clocks (uptime and start times are the host's) and nothing else changes.

use super::launch::ChildError;
use std::path::Path;

/// Clock ticks per second (USER_HZ) of /proc/PID/stat.
pub fn clk_tck() -> u64 {
    // SAFETY: sysconf takes an integer and reads nothing of ours.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as u64 } else { 100 }
}

/// The zone's clock offset in whole seconds, from zsched's start time
/// (clock ticks since the host's boot).
pub fn offset_secs(zsched_start_ticks: u64) -> u64 {
    zsched_start_ticks / clk_tck()
}

/// CLOCK_BOOTTIME or CLOCK_MONOTONIC of the host now, ns.
pub fn clock_ns(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into the valid `ts`.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// The offsets file's text for a zone whose zero is `off` seconds of the
/// host's boottime, `mono_now` being the host's CLOCK_MONOTONIC now (ns).
pub fn offsets_text(off: u64, mono_now: u64) -> String {
    let mono = off.min(mono_now / 1_000_000_000);
    format!("boottime -{off} 0\nmonotonic -{mono} 0\n")
}

/// zsched: a new time namespace for its children whose zero is zsched's
/// own start (module comment). Before the pivot (the host's /proc).
pub fn setup() -> Result<(), ChildError> {
    let stat = Path::new("/proc/self/stat");
    let text = std::fs::read_to_string(stat).map_err(|e| {
        ChildError::errno(
            "time namespace",
            format!("read {}", stat.display()),
            e.raw_os_error().unwrap_or(0),
        )
    })?;
    let start: u64 = crate::procstat::parse(&text)
        .map(|s| s.starttime)
        .ok_or_else(|| {
            ChildError::new(
                "time namespace",
                format!("{}: no start time", stat.display()),
            )
        })?;
    // SAFETY: unshare takes a flag; zsched is single-threaded here.
    if unsafe { libc::unshare(libc::CLONE_NEWTIME) } != 0 {
        let e = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
        if e == libc::EINVAL {
            return Ok(());
        }
        return Err(ChildError::errno(
            "time namespace",
            "unshare(CLONE_NEWTIME)".into(),
            e,
        ));
    }
    let path = Path::new("/proc/self/timens_offsets");
    let text = offsets_text(offset_secs(start), clock_ns(libc::CLOCK_MONOTONIC));
    std::fs::write(path, &text).map_err(|e| {
        ChildError::errno(
            "time namespace",
            format!("write {:?} to {}", text.trim(), path.display()),
            e.raw_os_error().unwrap_or(0),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_whole_seconds_and_monotonic_never_negative() {
        assert_eq!(
            offsets_text(1234, 5_000_000_000_000),
            "boottime -1234 0\nmonotonic -1234 0\n"
        );
        // Suspended longer than the zone lived: monotonic starts at 0.
        assert_eq!(
            offsets_text(1234, 1_000_500_000_000),
            "boottime -1234 0\nmonotonic -1000 0\n"
        );
        assert_eq!(offset_secs(clk_tck() * 77 + 3), 77);
    }

    /// The kernel takes the offsets and shows them to a child: its
    /// CLOCK_BOOTTIME is the time since our zero.
    #[test]
    fn a_child_of_the_namespace_sees_the_zone_clock() {
        let status = super::super::launch::tests::in_child(|| {
            if setup().is_err() {
                return 10;
            }
            // SAFETY: fork; the grandchild only reads a clock and exits.
            unsafe {
                let pid = libc::fork();
                if pid == 0 {
                    let up = clock_ns(libc::CLOCK_BOOTTIME);
                    // Born within the last second of our zero (tests start
                    // fast); far below the host's uptime in any case.
                    libc::_exit(if up < 5_000_000_000 { 0 } else { 11 });
                }
                let mut st = 0;
                libc::waitpid(pid, &mut st, 0);
                libc::WEXITSTATUS(st)
            }
        });
        assert_eq!(status, 0);
    }
}
