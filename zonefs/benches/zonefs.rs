//! zonefs speed against /proc, on a real mount with 1,000 zones (root).
//!
//! `cargo bench -p zonefs` prints, for a warm open+read+close loop of
//! `/zones/NAME/status` and `/zones/NAME/kstat/nprocs/usage`, p50 and p99
//! and their ratio to the same loop on /proc/loadavg measured in the same
//! run (rounds interleave the three files, so they share the machine's
//! noise); then the time to list the root (readdir in-process and the `ls`
//! program, beside `ls` of an empty directory); then the kstat loop again
//! while ticks change that file ten times a second. One zone has a pid
//! namespace of its own, so every open pays the caller's namespace check
//! as it would on a host running zones; set ZONEFS_BENCH_NO_NS=1 to leave
//! it out.

use std::io::Read;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use zonefs::testkit::{Mounted, global, snapshot, zone};

const ZONES: u32 = 1000;
const ROUNDS: usize = 40;
const PER_ROUND: usize = 500;

fn open_read_close(p: &Path, buf: &mut [u8]) -> Duration {
    let t = Instant::now();
    let mut f = std::fs::File::open(p).expect("open");
    let n = f.read(buf).expect("read");
    drop(f);
    let d = t.elapsed();
    assert!(n > 0);
    d
}

fn pct(v: &mut [Duration], p: f64) -> Duration {
    v.sort_unstable();
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn main() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "the zonefs benchmark mounts FUSE: run it as root"
    );
    let with_ns = std::env::var_os("ZONEFS_BENCH_NO_NS").is_none();
    let mut ns = None;
    let mut zones = vec![global()];
    for i in 1..=ZONES {
        zones.push(zone(i, &format!("z{i:04}"), u64::from(i) + 100));
    }
    if with_ns {
        let mut child = Command::new("unshare")
            .args(["--pid", "--fork", "--kill-child", "sleep", "600"])
            .spawn()
            .expect("unshare");
        let id = child.id();
        let own = zonefs::viewer::pid_ns(std::process::id());
        let t0 = Instant::now();
        let pid = loop {
            let kids = std::fs::read_to_string(format!("/proc/{id}/task/{id}/children"))
                .unwrap_or_default();
            if let Some(p) = kids
                .split_whitespace()
                .next()
                .and_then(|p| p.parse::<u32>().ok())
                && zonefs::viewer::pid_ns(p) != own
            {
                break p;
            }
            if t0.elapsed() > Duration::from_secs(10) {
                let _ = child.kill();
                panic!("unshare did not start");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        zones[ZONES as usize].zsched_pid = pid;
        ns = Some(child);
    }
    let mut opts = zonefs::Options::default();
    if let Some(t) = std::env::var("ZONEFS_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
    {
        opts.threads = t;
    }
    if let Some(n) = std::env::var("ZONEFS_NICE")
        .ok()
        .and_then(|t| t.parse().ok())
    {
        opts.nice = (n != 0).then_some(n);
    }
    println!("FUSE threads {}, nice {:?}", opts.threads, opts.nice);
    let m = Mounted::with_options(snapshot(1, zones), opts);

    let targets = [
        ("/proc/loadavg", Path::new("/proc/loadavg").to_path_buf()),
        ("status", m.path("z0500/status")),
        ("kstat/nprocs/usage", m.path("z0500/kstat/nprocs/usage")),
    ];
    let mut buf = [0u8; 4096];
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); targets.len()];
    for (_, p) in &targets {
        for _ in 0..2000 {
            open_read_close(p, &mut buf); // warm
        }
    }
    for _ in 0..ROUNDS {
        for (i, (_, p)) in targets.iter().enumerate() {
            for _ in 0..PER_ROUND {
                times[i].push(open_read_close(p, &mut buf));
            }
        }
    }
    let (p50_0, p99_0) = (pct(&mut times[0], 0.5), pct(&mut times[0], 0.99));
    println!(
        "warm open+read+close, {} samples each, 1,000 zones, zone pid namespace check: {}",
        ROUNDS * PER_ROUND,
        if with_ns { "on" } else { "off" }
    );
    println!(
        "{:<22} {:>9} {:>9} {:>9} {:>9}",
        "file", "p50 µs", "p99 µs", "p50 ×", "p99 ×"
    );
    for (i, (name, _)) in targets.iter().enumerate() {
        let (p50, p99) = (pct(&mut times[i], 0.5), pct(&mut times[i], 0.99));
        println!(
            "{name:<22} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
            us(p50),
            us(p99),
            us(p50) / us(p50_0),
            us(p99) / us(p99_0)
        );
    }

    // Listing the root.
    let mut rd = Vec::new();
    for _ in 0..50 {
        let t = Instant::now();
        let n = std::fs::read_dir(m.root()).unwrap().count();
        rd.push(t.elapsed());
        assert_eq!(n, ZONES as usize + 1 + 3);
    }
    let empty = tempfile::tempdir().unwrap();
    let ls = |dir: &Path| -> Vec<Duration> {
        (0..30)
            .map(|_| {
                let t = Instant::now();
                let out = Command::new("ls").arg(dir).output().unwrap();
                assert!(out.status.success());
                t.elapsed()
            })
            .collect()
    };
    let mut ls_zones = ls(m.root());
    let mut ls_empty = ls(empty.path());
    println!(
        "ls of the root, {} zones: readdir p50 {:.2} ms p99 {:.2} ms; `ls` program p50 {:.2} ms (of which `ls` of an empty dir p50 {:.2} ms)",
        ZONES,
        us(pct(&mut rd, 0.5)) / 1000.0,
        us(pct(&mut rd, 0.99)) / 1000.0,
        us(pct(&mut ls_zones, 0.5)) / 1000.0,
        us(pct(&mut ls_empty, 0.5)) / 1000.0,
    );

    // A tick of 1,000 changed zones: render + diff + invalidations.
    let mut next = vec![global()];
    for i in 1..=ZONES {
        let mut z = zone(i, &format!("z{i:04}"), u64::from(i) + 100);
        z.kstat.nprocs = 4;
        next.push(z);
    }
    // The tree alone (render + diff), without the kernel's invalidations.
    let s1 = snapshot(1, {
        let mut v = vec![global()];
        v.extend((1..=ZONES).map(|i| zone(i, &format!("z{i:04}"), u64::from(i) + 100)));
        v
    });
    let s2 = snapshot(2, next.clone());
    let (t1, _) = zonefs::tree::Tree::build(&s1, None, &mut |_| None);
    let t = Instant::now();
    let (_t2, inval) = zonefs::tree::Tree::build(&s2, Some(&t1), &mut |_| None);
    println!(
        "building the tree of that tick: {:.1} ms, {} invalidations",
        us(t.elapsed()) / 1000.0,
        inval.len()
    );
    let t = Instant::now();
    m.push(snapshot(2, next.clone()));
    println!(
        "a tick that changes every one of {} zones: served after {:.1} ms",
        ZONES,
        us(t.elapsed()) / 1000.0
    );
    // The same loop while ticks replace the file's bytes ten times a second
    // (ten times the sampler's rate): the first open after each tick looks
    // the new version up (one round trip), every other is the kernel's.
    let base = snapshot(3, next);
    let z500 = base
        .zones
        .iter()
        .position(|z| z.name.as_str() == "z0500")
        .expect("z0500");
    let stop = std::sync::atomic::AtomicBool::new(false);
    let mut ticked: Vec<Vec<Duration>> = vec![Vec::new(); 2];
    let mut ticks = 0u64;
    std::thread::scope(|sc| {
        sc.spawn(|| {
            let mut seq = 3;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                seq += 1;
                let mut s = base.clone();
                s.seq = seq;
                let mut z = (*s.zones[z500]).clone();
                z.kstat.nprocs = seq;
                s.zones[z500] = std::sync::Arc::new(z);
                m.push(s);
            }
        });
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(3) {
            for (i, p) in [&targets[0].1, &targets[2].1].into_iter().enumerate() {
                for _ in 0..PER_ROUND {
                    ticked[i].push(open_read_close(p, &mut buf));
                }
            }
        }
        ticks = t0.elapsed().as_millis() as u64 / 100;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    let (l50, l99) = (pct(&mut ticked[0], 0.5), pct(&mut ticked[0], 0.99));
    let (k50, k99) = (pct(&mut ticked[1], 0.5), pct(&mut ticked[1], 0.99));
    println!(
        "under ~{ticks} ticks at 10 Hz, {} samples each: kstat/nprocs/usage p50 {:.2} µs ({:.2}×) p99 {:.2} µs ({:.2}×) vs /proc/loadavg p50 {:.2} p99 {:.2}",
        ticked[1].len(),
        us(k50),
        us(k50) / us(l50),
        us(k99),
        us(k99) / us(l99),
        us(l50),
        us(l99),
    );
    drop(m);
    if let Some(mut c) = ns {
        let _ = c.kill();
        let _ = c.wait();
    }
}
