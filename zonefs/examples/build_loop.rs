//! Build the tree of 1,000 changing zones N times (for `perf record`).
use zonefs::testkit::{global, snapshot, zone};
use zonefs::tree::Tree;

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    let mk = |seq: u64| {
        let mut v = vec![global()];
        for i in 1..=1000u32 {
            let mut z = zone(i, &format!("z{i:04}"), u64::from(i) + 100);
            z.kstat.nprocs = seq;
            v.push(z);
        }
        snapshot(seq, v)
    };
    let (mut t, _) = Tree::build(&mk(1), None, &mut |_| None);
    let snaps: Vec<_> = (2..2 + n).map(mk).collect();
    let t0 = std::time::Instant::now();
    for s in &snaps {
        t = Tree::build(s, Some(&t), &mut |_| None).0;
    }
    println!(
        "{:.1} ms per tree",
        t0.elapsed().as_secs_f64() * 1e3 / n as f64
    );
    let t0 = std::time::Instant::now();
    for s in &snaps {
        for z in &s.zones {
            std::hint::black_box(zonefs::render::zone(z, s.hrtime));
        }
    }
    println!(
        "{:.1} ms of which rendering",
        t0.elapsed().as_secs_f64() * 1e3 / n as f64
    );
    let t0 = std::time::Instant::now();
    for s in &snaps {
        for z in &s.zones {
            let ks = zones::kstat::format::zone_kstats(z, s.hrtime);
            std::hint::black_box(zonefs::render::json(z, &ks));
        }
    }
    println!(
        "{:.1} ms of which json",
        t0.elapsed().as_secs_f64() * 1e3 / n as f64
    );
}
