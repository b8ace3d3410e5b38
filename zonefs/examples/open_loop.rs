//! Open+read+close one zonefs file N times (for `perf stat -e fuse:*`).
use std::io::Read;
use zonefs::testkit::{Mounted, global, snapshot, zone};

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let m = Mounted::new(snapshot(1, vec![global(), zone(3, "web", 7)]));
    let p = m.path("web/status");
    let mut buf = [0u8; 4096];
    for _ in 0..n {
        let mut f = std::fs::File::open(&p).unwrap();
        let _ = f.read(&mut buf).unwrap();
    }
    println!("{n} opens");
}
