//! # The process collector: per-process rows for the selected zone only
//!
//! ztop.md: "does no per-process work for zones that are not on screen".
//! The snapshot carries each zone's pids ([`ZoneSnapshot::procs`]); only for
//! the zone the detail pane shows does ztop read `/proc/PID/stat`,
//! `/proc/PID/cmdline` and the owner of `/proc/PID`, on a thread of its own
//! ([`spawn`]) so that the draw path never touches /proc.
//!
//! CPU% is the change of utime+stime between two requests for the same zone
//! over the wall time between them (percent of one CPU, as top shows it); the
//! first sample of a zone shows 0.0. A pid that vanished between the
//! snapshot and the read is left out, silently: it exited.
//!
//! Requests arrive on a channel; when several queue up only the newest is
//! served. Results go back to the event loop, which redraws.
//!
//! [`ZoneSnapshot::procs`]: zones::snapshot::ZoneSnapshot

use std::collections::{BTreeMap, HashMap};
use std::sync::mpsc;
use std::time::Instant;

/// One process of the selected zone.
#[derive(Clone, Debug, PartialEq)]
pub struct ProcRow {
    pub pid: u32,
    pub ppid: u32,
    pub user: String,
    /// The state letter of /proc/PID/stat (R, S, D, Z, T, I).
    pub state: char,
    pub cpu_pct: f64,
    pub rss: u64,
    pub command: String,
}

/// The processes of one zone, at one snapshot.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProcTable {
    pub zone: String,
    pub seq: u64,
    pub rows: Vec<ProcRow>,
}

/// What the event loop asks for.
#[derive(Clone, Debug)]
pub struct ProcRequest {
    pub zone: String,
    pub seq: u64,
    pub pids: Vec<u32>,
}

/// Rows in tree order (children under their parent, by pid), each with its
/// depth. Parents outside the zone make a process a root.
pub fn tree(rows: &[ProcRow]) -> Vec<(usize, &ProcRow)> {
    let by_pid: HashMap<u32, &ProcRow> = rows.iter().map(|r| (r.pid, r)).collect();
    let mut children: BTreeMap<u32, Vec<&ProcRow>> = BTreeMap::new();
    let mut roots = Vec::new();
    for r in rows {
        if r.ppid != r.pid && by_pid.contains_key(&r.ppid) {
            children.entry(r.ppid).or_default().push(r);
        } else {
            roots.push(r);
        }
    }
    let mut out = Vec::with_capacity(rows.len());
    let mut stack: Vec<(usize, &ProcRow)> = roots.into_iter().rev().map(|r| (0, r)).collect();
    while let Some((depth, r)) = stack.pop() {
        out.push((depth, r));
        if out.len() > rows.len() {
            break; // a cycle cannot happen in /proc, but never loop forever
        }
        if let Some(kids) = children.get(&r.pid) {
            for k in kids.iter().rev() {
                stack.push((depth + 1, k));
            }
        }
    }
    out
}

/// Reads /proc for one zone at a time, remembering CPU times between reads.
pub struct Collector {
    proc_root: std::path::PathBuf,
    zone: String,
    last: HashMap<u32, u64>,
    last_at: Option<Instant>,
    users: HashMap<u32, String>,
    /// What does not change in a process's life (owner and command line),
    /// by pid and start time, so a steady zone costs one read of
    /// /proc/PID/stat per process and refresh.
    known: HashMap<u32, (u64, String, String)>,
    tick: f64,
    page: u64,
}

impl Collector {
    /// A collector over `/proc` (another root for tests).
    pub fn new(proc_root: impl Into<std::path::PathBuf>) -> Collector {
        Collector {
            proc_root: proc_root.into(),
            zone: String::new(),
            last: HashMap::new(),
            last_at: None,
            users: read_passwd("/etc/passwd"),
            known: HashMap::new(),
            tick: procfs::ticks_per_second() as f64,
            page: procfs::page_size(),
        }
    }

    pub fn collect(&mut self, req: &ProcRequest) -> ProcTable {
        if req.zone != self.zone {
            self.zone = req.zone.clone();
            self.last.clear();
            self.last_at = None;
            self.known.clear();
        }
        let now = Instant::now();
        let elapsed = self.last_at.map(|t| now.duration_since(t).as_secs_f64());
        let mut next = HashMap::with_capacity(req.pids.len());
        let mut rows = Vec::with_capacity(req.pids.len());
        for &pid in &req.pids {
            let Ok(p) =
                procfs::process::Process::new_with_root(self.proc_root.join(pid.to_string()))
            else {
                continue;
            };
            let Ok(stat) = p.stat() else { continue };
            let ticks = stat.utime + stat.stime;
            next.insert(pid, ticks);
            let cpu_pct = match (elapsed, self.last.get(&pid)) {
                (Some(dt), Some(&before)) if dt > 0.0 => {
                    ticks.saturating_sub(before) as f64 / self.tick / dt * 100.0
                }
                _ => 0.0,
            };
            let (user, command) = match self.known.get(&pid) {
                Some((start, user, cmd)) if *start == stat.starttime => (user.clone(), cmd.clone()),
                _ => {
                    let user = p.uid().ok().map_or("?".into(), |u| {
                        self.users.get(&u).cloned().unwrap_or_else(|| u.to_string())
                    });
                    let command = match p.cmdline() {
                        Ok(args) if !args.is_empty() => args.join(" "),
                        _ => format!("[{}]", stat.comm),
                    };
                    self.known
                        .insert(pid, (stat.starttime, user.clone(), command.clone()));
                    (user, command)
                }
            };
            rows.push(ProcRow {
                pid,
                ppid: stat.ppid.max(0) as u32,
                user,
                state: stat.state,
                cpu_pct,
                rss: stat.rss * self.page,
                command,
            });
        }
        self.known.retain(|pid, _| next.contains_key(pid));
        self.last = next;
        self.last_at = Some(now);
        ProcTable {
            zone: req.zone.clone(),
            seq: req.seq,
            rows,
        }
    }
}

/// uid → name from a passwd file (empty when unreadable).
fn read_passwd(path: &str) -> HashMap<u32, String> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return HashMap::new();
    };
    text.lines()
        .filter_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            let uid = f.nth(1)?.parse().ok()?;
            Some((uid, name.to_string()))
        })
        .collect()
}

/// Start the collector thread. Requests go in on the returned sender; each
/// answer is handed to `deliver` (the event loop's channel).
pub fn spawn(deliver: impl Fn(ProcTable) + Send + 'static) -> mpsc::Sender<ProcRequest> {
    let (tx, rx) = mpsc::channel::<ProcRequest>();
    std::thread::Builder::new()
        .name("ztop-procs".into())
        .spawn(move || {
            let mut c = Collector::new("/proc");
            while let Ok(mut req) = rx.recv() {
                while let Ok(newer) = rx.try_recv() {
                    req = newer;
                }
                deliver(c.collect(&req));
            }
        })
        .expect("spawn the process collector thread");
    tx
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(pid: u32, ppid: u32) -> ProcRow {
        ProcRow {
            pid,
            ppid,
            user: "root".into(),
            state: 'S',
            cpu_pct: 0.0,
            rss: 0,
            command: format!("p{pid}"),
        }
    }

    #[test]
    fn tree_puts_children_under_parents() {
        let rows = vec![
            row(10, 1),
            row(11, 10),
            row(12, 10),
            row(13, 11),
            row(20, 1),
        ];
        let t: Vec<(usize, u32)> = tree(&rows).iter().map(|(d, r)| (*d, r.pid)).collect();
        assert_eq!(t, [(0, 10), (1, 11), (2, 13), (1, 12), (0, 20)]);
    }

    #[test]
    fn collector_reads_our_own_process() {
        let me = std::process::id();
        let mut c = Collector::new("/proc");
        let req = ProcRequest {
            zone: "global".into(),
            seq: 1,
            pids: vec![me, u32::MAX - 7],
        };
        let t = c.collect(&req);
        assert_eq!(t.rows.len(), 1, "the vanished pid is left out");
        let r = &t.rows[0];
        assert_eq!(r.pid, me);
        assert!(r.rss > 0);
        assert!(r.command.contains("ztop"), "{}", r.command);
        // burn some CPU, then the second read shows it
        let t0 = Instant::now();
        let mut x = 0u64;
        while t0.elapsed().as_millis() < 200 {
            x = x.wrapping_mul(31).wrapping_add(7);
        }
        std::hint::black_box(x);
        let t = c.collect(&req);
        assert!(t.rows[0].cpu_pct > 10.0, "{}", t.rows[0].cpu_pct);
    }
}
