//! # /proc/PID/stat, parsed in one place
//!
//! The fields the zones need of a process: its state (a zombie is not a
//! live process, a stopped zsched answers nothing), its parent (a nested
//! zone's init), group and session (a timed command's process group), CPU
//! ticks and resident pages (ztop's CPU and RSS columns) and start time (with the pid, what tells a
//! process from a later one that reused its pid). The command name is in
//! parentheses and may itself hold spaces and parentheses, so the fields
//! are counted from the *last* `)`; proc(5) numbers them from 1 (pid),
//! 2 (comm), 3 (state) on.

use std::path::Path;

/// The fields of one /proc/PID/stat line that the zones read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcStat {
    /// Field 2, without its parentheses.
    pub comm: String,
    /// Field 3: R, S, D, T, t, Z, X, ...
    pub state: char,
    /// Field 4.
    pub ppid: i32,
    /// Field 5: the process group.
    pub pgrp: u32,
    /// Field 6: the session.
    pub session: u32,
    /// Fields 14 and 15, in clock ticks.
    pub utime: u64,
    pub stime: u64,
    /// Field 22: clock ticks after boot.
    pub starttime: u64,
    /// Field 24: resident pages.
    pub rss: u64,
}

impl ProcStat {
    /// A zombie or a dead process: gone for every purpose but its pid.
    pub fn is_gone(&self) -> bool {
        matches!(self.state, 'Z' | 'X' | 'x')
    }

    /// Stopped by a signal or by a tracer.
    pub fn is_stopped(&self) -> bool {
        matches!(self.state, 'T' | 't')
    }
}

/// Parse the text of a /proc/PID/stat file.
pub fn parse(text: &str) -> Option<ProcStat> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let comm = text.get(open + 1..close)?.to_string();
    // Fields 3 on: f[0] is field 3.
    let f: Vec<&str> = text.get(close + 1..)?.split_ascii_whitespace().collect();
    let num = |i: usize| f.get(i).and_then(|s| s.parse::<u64>().ok());
    Some(ProcStat {
        comm,
        state: f.first()?.chars().next()?,
        ppid: f.get(1)?.parse().ok()?,
        pgrp: f.get(2)?.parse().ok()?,
        session: f.get(3)?.parse().ok()?,
        utime: num(11)?,
        stime: num(12)?,
        starttime: num(19)?,
        rss: num(21)?,
    })
}

/// Read and parse a stat file (`/proc/PID/stat`, or one under another
/// /proc root); None when it is gone or does not parse.
pub fn read_file(path: &Path) -> Option<ProcStat> {
    let b = crate::runtime::linux::cgroup::read_small(path).ok()?;
    parse(std::str::from_utf8(&b).ok()?)
}

/// Read and parse /proc/PID/stat.
pub fn read(pid: u32) -> Option<ProcStat> {
    read_file(Path::new(&format!("/proc/{pid}/stat")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_with_spaces_and_parentheses() {
        let line = "4242 (a (b) c) S 1 4242 4200 0 -1 4194560 100 0 0 0 \
                    7 3 0 0 20 0 1 0 123456 1000 50 18446744073709551615";
        let s = parse(line).unwrap();
        assert_eq!(s.comm, "a (b) c");
        assert_eq!(s.state, 'S');
        assert_eq!((s.ppid, s.pgrp, s.session), (1, 4242, 4200));
        assert_eq!((s.utime, s.stime, s.starttime, s.rss), (7, 3, 123456, 50));
        assert!(!s.is_gone() && !s.is_stopped());
    }

    #[test]
    fn a_zombie_and_a_stopped_process() {
        let z = "7 (x) Z 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99 0 0 0";
        assert!(parse(z).unwrap().is_gone());
        let t = "7 (x) t 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99 0 0 0";
        assert!(parse(t).unwrap().is_stopped());
        assert_eq!(parse("7 (x) S 1"), None);
        // rss is the last field the zones need: a line cut before it fails.
        assert_eq!(
            parse("7 (x) S 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99 0"),
            None
        );
    }

    #[test]
    fn this_process_reads_as_itself() {
        let me = read(std::process::id()).unwrap();
        assert_eq!(me.ppid as u32, std::os::unix::process::parent_id());
        // The main thread's line: it may be running or waiting on this one.
        assert!(matches!(me.state, 'R' | 'S'), "{me:?}");
        assert!(me.comm.starts_with("zones_linux"), "{me:?}");
        assert!(me.starttime > 0);
    }
}
