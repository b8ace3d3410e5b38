//! `cargo bench -p zones-e2e --bench zone_cycle [-- N]`: the median time of
//! N (default 50) cycles of install-less create → ready → boot a sparse
//! zone whose command is /bin/true → wait for it to be empty → shutdown →
//! down → destroy, through the runtime API; and the median of N runs of
//! `unshare -fpmui --mount-proc chroot ROOT /bin/true` on the same root
//! with the same bind mounts made by hand. Prints both and the ratio.

use std::process::Command;
use std::time::{Duration, Instant};
use zones::param::Value;
use zones::runtime::{Runtime, RuntimeEvent};
use zones_e2e::TestZone;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(50);
    let mut zone_times = Vec::new();
    let mut z = TestZone::sparse("bench");
    z.set("command", Value::List(vec!["/bin/true".into()]));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    z.rt.subscribe(tx);
    for i in 0..n {
        z.spec.uniqid += 1_000_000 + i as u64;
        let t = Instant::now();
        let h = z.rt.ready(&z.spec).expect("ready");
        let t_ready = t.elapsed();
        z.rt.boot(&z.spec, &h, true).expect("boot");
        if std::env::var_os("ZONES_BENCH_PHASES").is_some() {
            eprintln!("ready {t_ready:?} booted {:?}", t.elapsed());
        }
        loop {
            match rx.blocking_recv() {
                Some(RuntimeEvent::Empty { .. }) => break,
                Some(_) => {}
                None => panic!("event channel closed"),
            }
        }
        let t_empty = t.elapsed();
        z.rt.shutdown(&h, Duration::from_secs(10))
            .expect("shutdown");
        let t_shut = t.elapsed();
        z.rt.down(&h).expect("down");
        let t_down = t.elapsed();
        z.rt.destroy(&h).expect("destroy");
        zone_times.push(t.elapsed());
        if std::env::var_os("ZONES_BENCH_PHASES").is_some() {
            eprintln!(
                "empty {t_empty:?} shutdown {t_shut:?} down {t_down:?} destroyed {:?}",
                t.elapsed()
            );
        }
    }
    // The baseline: the same root, /usr bound by hand in the unshare'd
    // mount namespace (the sparse brand's other dirs are symlinks here).
    let root = z.spec.root.display().to_string();
    let script = format!("mount --bind /usr {root}/usr && exec chroot {root} /bin/true");
    let mut base_times = Vec::new();
    for _ in 0..n {
        let t = Instant::now();
        let st = Command::new("unshare")
            .args(["-fpmui", "--mount-proc", "sh", "-c", &script])
            .status()
            .expect("unshare");
        assert!(st.success(), "unshare baseline failed");
        base_times.push(t.elapsed());
    }
    let (zm, bm) = (median(zone_times), median(base_times));
    println!("zone cycle (ready+boot /bin/true+halt), median of {n}: {zm:?}");
    println!("unshare -fpmui --mount-proc chroot ROOT /bin/true, median of {n}: {bm:?}");
    println!("ratio: {:.2}", zm.as_secs_f64() / bm.as_secs_f64());
}
