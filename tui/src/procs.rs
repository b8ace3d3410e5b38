//! # The process collector: per-process rows for the selected zone only
//!
//! ztop.md: "does no per-process work for zones that are not on screen".
//! The snapshot carries each zone's pids ([`ZoneSnapshot::procs`]); only for
//! the zone the detail pane shows does ztop read `/proc/PID/stat`,
//! `/proc/PID/cmdline` and the owner of `/proc/PID`, on a thread of its own
//! ([`spawn`]) so that the draw path never touches /proc.
//!
//! In list view only the rows on screen are read (a window of the zone's
//! pids); the tree view needs every parent pid, so it reads them all. A
//! process costs one open of `/proc/PID/stat` per refresh: its owner and
//! command line are read once and kept while its start time stays the same.
//!
//! CPU% is the change of utime+stime between two reads of the same process
//! over the wall time between them (percent of one CPU, as top shows it);
//! the first read of a process shows 0.0. A pid that vanished between the
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
    /// The index in the zone's pid list of the first pid that was read.
    pub first: usize,
    pub rows: Vec<ProcRow>,
}

/// What the event loop asks for.
#[derive(Clone, Debug, PartialEq)]
pub struct ProcRequest {
    pub zone: String,
    pub seq: u64,
    pub pids: Vec<u32>,
    /// Read only `pids[first..first + count]` (the rows on screen); `None`:
    /// read them all (the tree view).
    pub window: Option<(usize, usize)>,
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

/// The branch drawn before each row of a [`tree`], from the rows' depths
/// in tree order: `├─ ` for a process with a later sibling, `└─ ` for the
/// last one, and `│  ` or blanks for each ancestor level above it.
pub fn branches(depths: &[usize]) -> Vec<String> {
    let mut out = vec![String::new(); depths.len()];
    // from the end: does a row at depth l follow before a shallower one?
    let mut later: Vec<bool> = Vec::new();
    for (i, &d) in depths.iter().enumerate().rev() {
        if later.len() <= d {
            later.resize(d + 1, false);
        }
        let mut s = String::new();
        for (l, &more) in later.iter().enumerate().take(d + 1).skip(1) {
            s.push_str(match (l == d, more) {
                (true, true) => "├─ ",
                (true, false) => "└─ ",
                (false, true) => "│  ",
                (false, false) => "   ",
            });
        }
        out[i] = s;
        later[d] = true;
        for l in later.iter_mut().skip(d + 1) {
            *l = false;
        }
    }
    out
}

/// Reads /proc for one zone at a time, remembering CPU times between reads.
pub struct Collector {
    proc_root: std::path::PathBuf,
    zone: String,
    /// CPU ticks of each process at its last read, and when.
    last: HashMap<u32, (u64, Instant)>,
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
            self.known.clear();
        }
        let (first, pids) = match req.window {
            Some((first, count)) => {
                let first = first.min(req.pids.len());
                let end = first.saturating_add(count).min(req.pids.len());
                (first, &req.pids[first..end])
            }
            None => (0, &req.pids[..]),
        };
        let mut rows = Vec::with_capacity(pids.len());
        for &pid in pids {
            let dir = self.proc_root.join(pid.to_string());
            let Some(stat) = zones_linux::procstat::read_file(&dir.join("stat")) else {
                continue;
            };
            let now = Instant::now();
            let ticks = stat.utime + stat.stime;
            let cpu_pct = match self.last.insert(pid, (ticks, now)) {
                Some((before, at)) => {
                    let dt = now.duration_since(at).as_secs_f64();
                    if dt > 0.0 {
                        ticks.saturating_sub(before) as f64 / self.tick / dt * 100.0
                    } else {
                        0.0
                    }
                }
                None => 0.0,
            };
            let (user, command) = match self.known.get(&pid) {
                Some((start, user, cmd)) if *start == stat.starttime => (user.clone(), cmd.clone()),
                _ => {
                    use std::os::unix::fs::MetadataExt;
                    let user = std::fs::metadata(&dir).map_or("?".into(), |m| {
                        let u = m.uid();
                        self.users.get(&u).cloned().unwrap_or_else(|| u.to_string())
                    });
                    let command = std::fs::read(dir.join("cmdline"))
                        .ok()
                        .map(|raw| {
                            let raw = raw.strip_suffix(&[0]).unwrap_or(&raw);
                            String::from_utf8_lossy(raw).replace('\0', " ")
                        })
                        .filter(|c| !c.trim().is_empty())
                        .unwrap_or_else(|| format!("[{}]", stat.comm));
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
        // forget processes that left the zone
        if self.last.len() > req.pids.len() * 2 + 64 {
            let live: std::collections::HashSet<u32> = req.pids.iter().copied().collect();
            self.last.retain(|p, _| live.contains(p));
            self.known.retain(|p, _| live.contains(p));
        }
        ProcTable {
            zone: req.zone.clone(),
            seq: req.seq,
            first,
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
    fn branches_join_siblings_and_end_at_the_last() {
        // 10 ─ 11 ─ 13, 10 ─ 12, 20 ─ 21, 20 ─ 22
        let b = branches(&[0, 1, 2, 1, 0, 1, 1]);
        assert_eq!(b, ["", "├─ ", "│  └─ ", "└─ ", "", "├─ ", "└─ "]);
        assert_eq!(
            branches(&[0, 1, 2, 2, 0]),
            ["", "└─ ", "   ├─ ", "   └─ ", ""]
        );
        assert!(branches(&[]).is_empty());
    }

    #[test]
    fn collector_reads_our_own_process() {
        let me = std::process::id();
        let mut c = Collector::new("/proc");
        let req = ProcRequest {
            zone: "global".into(),
            seq: 1,
            pids: vec![me, u32::MAX - 7],
            window: None,
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

    #[test]
    fn a_window_reads_only_the_rows_on_screen() {
        let me = std::process::id();
        let mut c = Collector::new("/proc");
        let req = ProcRequest {
            zone: "z".into(),
            seq: 1,
            pids: vec![1, me, 1, 1],
            window: Some((1, 1)),
        };
        let t = c.collect(&req);
        assert_eq!(t.first, 1);
        assert_eq!(t.rows.len(), 1);
        assert_eq!(t.rows[0].pid, me);
        let past = ProcRequest {
            window: Some((9, 5)),
            ..req
        };
        assert!(c.collect(&past).rows.is_empty());
    }
}
