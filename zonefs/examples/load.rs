//! Load: READERS threads read random files of random zones for SECS seconds
//! while zones are created and destroyed every tick (100 ms here, ten times
//! the sampler's pace) and every zone's counters change. Prints the errors
//! by errno (only ENOENT, for a vanished zone, is acceptable) and this
//! process's fd count and RSS every 10 s (zonefs runs in this process).
//!
//! `zonefs/examples/load.rs [READERS] [SECS]` (root).

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use zonefs::testkit::{Mounted, global, snapshot, zone};

const FILES: [&str; 8] = [
    "status",
    "kstat/nprocs/usage",
    "kstat/all",
    "json",
    "loadavg",
    "params/exec.start",
    "refs/subsys/MNTFS",
    "procs",
];

fn fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let readers: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(32);
    let secs: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(60);
    const ZONES: u32 = 64;
    let live = |seq: u64| -> Vec<zonefs::testkit::ZoneSnapshot> {
        let mut v = vec![global()];
        for i in 1..=ZONES {
            // Zone i lives in 3 of every 4 "generations"; a new life each time.
            let generation = (seq + u64::from(i)) / 8;
            if generation % 4 != 3 {
                let mut z = zone(i, &format!("z{i}"), u64::from(i) * 1_000_000 + generation);
                z.kstat.nprocs = seq % 50;
                z.kstat.nsec_user = seq * 1000;
                v.push(z);
            }
        }
        v
    };
    let m = Arc::new(Mounted::new(snapshot(1, live(1))));
    let stop = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicU64::new(0));
    let errors: Arc<Mutex<BTreeMap<String, u64>>> = Arc::default();
    let mut threads = Vec::new();
    for r in 0..readers {
        let (m, stop, reads, errors) = (m.clone(), stop.clone(), reads.clone(), errors.clone());
        threads.push(std::thread::spawn(move || {
            let mut x: u64 = 0x9e37_79b9_7f4a_7c15 ^ r as u64;
            let mut buf = vec![0u8; 1 << 16];
            while !stop.load(Ordering::Relaxed) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let z = x % u64::from(ZONES + 1);
                let name = if z == 0 {
                    "global".to_string()
                } else {
                    format!("z{z}")
                };
                let f = FILES[(x >> 32) as usize % FILES.len()];
                let p = m.path(&format!("{name}/{f}"));
                let r = std::fs::File::open(&p).and_then(|mut fh| {
                    let mut n = 0;
                    loop {
                        let k = fh.read(&mut buf)?;
                        if k == 0 {
                            break Ok(n);
                        }
                        n += k;
                    }
                });
                match r {
                    Ok(_) => {
                        reads.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        let key = match e.raw_os_error() {
                            Some(libc::ENOENT) => "ENOENT".to_string(),
                            _ => format!("{e} ({})", p.display()),
                        };
                        *errors.lock().unwrap().entry(key).or_default() += 1;
                    }
                }
            }
        }));
    }
    let t0 = Instant::now();
    let mut seq = 1;
    let mut next_report = Duration::ZERO;
    println!(
        "{readers} readers, {secs} s, {ZONES} zones created and destroyed in turn, a tick every 100 ms"
    );
    while t0.elapsed() < Duration::from_secs(secs) {
        if t0.elapsed() >= next_report {
            println!(
                "t={:>3}s reads={:>9} fds={:>3} rss={:>6} kB versions held by the kernel={}",
                t0.elapsed().as_secs(),
                reads.load(Ordering::Relaxed),
                fds(),
                rss_kb(),
                m.handle().known_count()
            );
            next_report += Duration::from_secs(10);
        }
        seq += 1;
        m.push(snapshot(seq, live(seq)));
        std::thread::sleep(Duration::from_millis(100));
    }
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    std::thread::sleep(Duration::from_millis(200));
    println!(
        "end   reads={:>9} fds={:>3} rss={:>6} kB versions held by the kernel={} ticks={}",
        reads.load(Ordering::Relaxed),
        fds(),
        rss_kb(),
        m.handle().known_count(),
        seq
    );
    println!("errors: {:?}", errors.lock().unwrap());
}
