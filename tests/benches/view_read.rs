//! `cargo bench -p zones-e2e --bench view_read [-- N]`: what a read of a
//! zone's own /proc files costs (view.md "Native speed").
//!
//! open + read + close of /proc/loadavg, /proc/meminfo and /proc/stat, N
//! times each (default 20000), by this same binary run two ways in the
//! same run, alternately, three rounds each:
//!
//! * **zone**: inside a booted sparse zone (copied into its root, entered
//!   with zenter), where the files are the view's read-only bind mounts;
//! * **host**: natively on the host, the kernel's own /proc files.
//!
//! Prints p50 and p99 of each (ns) and the zone/host ratios; view.md asks
//! p50 ≤ 1.5× and p99 ≤ 3×. With lxcfs installed (`apt-get install
//! lxcfs`), it also mounts lxcfs on a private directory for the length of
//! the run and times its /proc/loadavg the same way (stopped and unmounted
//! after), for comparison. Not a test: nothing here fails on a slow host.

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use zones::param::Value;
use zones_e2e::{TestZone, bin};

const FILES: [&str; 3] = ["/proc/loadavg", "/proc/meminfo", "/proc/stat"];

/// `--measure N PATH...`: N timed open+read+close of each path; prints one
/// line per path: the path and every duration in ns.
fn measure(n: usize, paths: &[String]) {
    let mut buf = vec![0u8; 1 << 16];
    for p in paths {
        let mut times = Vec::with_capacity(n);
        for i in 0..n + n / 10 {
            let t = Instant::now();
            let mut f = std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_CLOEXEC)
                .open(p)
                .expect("open");
            let mut got = 0;
            loop {
                let k = f.read(&mut buf[got..]).expect("read");
                if k == 0 {
                    break;
                }
                got += k;
            }
            drop(f);
            let dt = t.elapsed();
            std::hint::black_box(got);
            if i >= n / 10 {
                times.push(dt.as_nanos() as u64);
            }
        }
        let list: Vec<String> = times.iter().map(|t| t.to_string()).collect();
        println!("{p} {}", list.join(" "));
    }
}

fn parse(out: &str) -> Vec<(String, Vec<u64>)> {
    out.lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let p = it.next()?.to_string();
            Some((p, it.filter_map(|t| t.parse().ok()).collect()))
        })
        .collect()
}

fn pct(v: &mut [u64], p: f64) -> u64 {
    v.sort_unstable();
    v[((v.len() as f64 - 1.0) * p) as usize]
}

/// Mount lxcfs on `dir` in the background; None when it is not installed
/// or does not come up.
fn lxcfs(dir: &Path) -> Option<std::process::Child> {
    let exe = ["/usr/bin/lxcfs", "/bin/lxcfs"]
        .into_iter()
        .find(|p| Path::new(p).exists())?;
    std::fs::create_dir_all(dir).ok()?;
    let child = Command::new(exe)
        .arg("-f")
        .arg("--pidfile")
        .arg(dir.with_extension("pid"))
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if std::fs::read_to_string(dir.join("proc/loadavg")).is_ok() {
            return Some(child);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut child = child;
    let _ = child.kill();
    let _ = child.wait();
    None
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if args.first().map(String::as_str) == Some("--measure") {
        let n = args[1].parse().expect("N");
        measure(n, &args[2..]);
        return;
    }
    let n: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let mut z = TestZone::sparse("viewbench");
    z.set("capped-memory.physical", Value::Int(256 << 20))
        .set("initname", Value::Str("/bin/sleep".into()))
        .set("bootargs", Value::Str("100000".into()));
    z.ready().expect("ready");
    z.boot().expect("boot");
    let me = std::env::current_exe().unwrap();
    zones_e2e::copy_exe(&me, z.spec.root.join("viewbench"));
    let _ = bin("zenter");

    let files: Vec<String> = FILES.iter().map(|s| s.to_string()).collect();
    let mut zone: Vec<Vec<u64>> = vec![Vec::new(); FILES.len()];
    let mut host: Vec<Vec<u64>> = vec![Vec::new(); FILES.len()];
    let mut margs = vec!["/viewbench".to_string(), "--measure".into(), n.to_string()];
    margs.extend(files.iter().cloned());
    for _ in 0..3 {
        let cmd: Vec<&str> = margs.iter().map(String::as_str).collect();
        let out = z.enter_command(&cmd).output().expect("zenter");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for (i, (_, t)) in parse(&String::from_utf8_lossy(&out.stdout))
            .into_iter()
            .enumerate()
        {
            zone[i].extend(t);
        }
        let out = Command::new(&me)
            .arg("--measure")
            .arg(n.to_string())
            .args(&files)
            .output()
            .expect("measure on the host");
        for (i, (_, t)) in parse(&String::from_utf8_lossy(&out.stdout))
            .into_iter()
            .enumerate()
        {
            host[i].extend(t);
        }
    }
    println!(
        "{:<16} {:>10} {:>10} {:>10} {:>10} {:>8} {:>8}",
        "file", "zone p50", "host p50", "zone p99", "host p99", "p50 ×", "p99 ×"
    );
    let mut host_loadavg = (0, 0);
    for (i, f) in FILES.iter().enumerate() {
        let (z50, z99) = (pct(&mut zone[i], 0.5), pct(&mut zone[i], 0.99));
        let (h50, h99) = (pct(&mut host[i], 0.5), pct(&mut host[i], 0.99));
        if i == 0 {
            host_loadavg = (h50, h99);
        }
        println!(
            "{f:<16} {z50:>10} {h50:>10} {z99:>10} {h99:>10} {:>8.2} {:>8.2}",
            z50 as f64 / h50 as f64,
            z99 as f64 / h99 as f64
        );
    }
    let dir = z.tmp.path().join("lxcfs");
    match lxcfs(&dir) {
        Some(mut child) => {
            let p = dir.join("proc/loadavg").display().to_string();
            let out = Command::new(&me)
                .arg("--measure")
                .arg(n.to_string())
                .arg(&p)
                .output()
                .expect("measure lxcfs");
            let _ = child.kill();
            let _ = child.wait();
            let _ = Command::new("umount").arg("-l").arg(&dir).status();
            let mut t = parse(&String::from_utf8_lossy(&out.stdout))
                .pop()
                .map(|x| x.1)
                .unwrap_or_default();
            if !t.is_empty() {
                let (l50, l99) = (pct(&mut t, 0.5), pct(&mut t, 0.99));
                println!(
                    "{:<16} {l50:>10} {:>10} {l99:>10} {:>10} {:>8.2} {:>8.2}",
                    "lxcfs loadavg",
                    host_loadavg.0,
                    host_loadavg.1,
                    l50 as f64 / host_loadavg.0 as f64,
                    l99 as f64 / host_loadavg.1 as f64
                );
            }
        }
        None => println!("lxcfs: not installed or not mountable here; no comparison"),
    }
}
