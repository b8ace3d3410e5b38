//! `cargo bench -p zones-e2e --bench userns_cycle [-- N]`: what a user
//! namespace of its own (`zones_linux::runtime::linux::userns`) costs a zone.
//! Medians of N (default 30) runtime cycles — ready, boot with
//! `command=/bin/true`, wait for empty, shutdown, down, destroy — of a
//! sparse zone with `allow.mount` (its own user namespace: a helper,
//! the maps, idmapped root and host trees, a second mount namespace) and,
//! as the baseline measured in the same run and interleaved with it, of
//! the same zone without (the host's user namespace).
//!
//! Prints both medians and the ratio of the first to the baseline.

use std::time::{Duration, Instant};
use zones::param::Value;
use zones_e2e::{TestZone, median};
use zones_linux::runtime::{Runtime, RuntimeEvent};

fn cycle(
    z: &mut TestZone,
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<RuntimeEvent>,
    i: u64,
) -> Duration {
    z.spec.uniqid += 1_000_000 + i;
    let t = Instant::now();
    let h = z.rt.ready(&z.spec).expect("ready");
    z.rt.boot(&z.spec, &h, true).expect("boot");
    loop {
        match rx.blocking_recv() {
            Some(RuntimeEvent::Empty { .. }) => break,
            Some(_) => {}
            None => panic!("event channel closed"),
        }
    }
    z.rt.shutdown(&h, Duration::from_secs(10))
        .expect("shutdown");
    z.rt.down(&h).expect("down");
    z.rt.destroy(&h).expect("destroy");
    t.elapsed()
}

fn main() {
    let n: usize = zones_e2e::bench_count(30);
    let mut zones = Vec::new();
    for (tag, mount) in [("bench-host-userns", false), ("bench-own-userns", true)] {
        let mut z = TestZone::sparse(tag);
        z.set("command", Value::List(vec!["/bin/true".into()]))
            .set("allow.mount", Value::Bool(mount));
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        z.rt.subscribe(tx);
        zones.push((z, rx, Vec::new()));
    }
    for i in 0..n {
        for (z, rx, times) in zones.iter_mut() {
            times.push(cycle(z, rx, i as u64));
        }
    }
    let own = median(std::mem::take(&mut zones[1].2));
    let host = median(std::mem::take(&mut zones[0].2));
    println!("baseline: zone in the host's user namespace, median of {n}: {host:?}");
    println!(
        "allow.mount zone in its own user namespace, median of {n}: {own:?}  ratio {:.2}",
        own.as_secs_f64() / host.as_secs_f64()
    );
}
