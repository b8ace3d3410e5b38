//! `cargo bench -p zones-e2e --bench net_cycle [-- N]`, as root: what a
//! zone's network costs at boot. Medians of N (default 20) cycles of a
//! sparse zone (installed once per kind) through the runtime seam —
//! ready, then boot with init `/bin/sleep` (the zone is running when boot
//! returns) — timed from the start of ready to the end of boot; the halt
//! after each cycle is not timed. The kinds, interleaved cycle by cycle
//! so that they share the machine's load:
//!
//! * **loopback** (the baseline): no network parameter, a namespace with lo;
//! * **shared-IP**: `ip4.addr = "LINK|10.A.B.5/24"` and `zone.defrouter`,
//!   a macvlan of a test LAN's host link made in the zone;
//! * **vnet.bridge**: `vnet = new`, `vnet.bridge = BR`, the same address
//!   and route on `eth0` of a veth pair whose host end joins BR.
//!
//! Prints each median and its ratio to the loopback zone's, measured in
//! the same run. The LANs are made on this machine ([`zones_e2e::lan`]).

use std::time::{Duration, Instant};
use zones::param::Value;
use zones_e2e::lan::Lan;
use zones_e2e::{TestZone, median};

fn main() {
    let n: usize = zones_e2e::bench_count(20);
    let lan = Lan::new(false);
    let blan = Lan::new(true);
    let l = |v: String| Value::List(vec![v]);
    let mut kinds: Vec<(&str, TestZone)> = Vec::new();
    for kind in ["loopback", "shared-IP", "vnet.bridge"] {
        let mut z = TestZone::sparse("netbench");
        z.set("initname", Value::Str("/bin/sleep".into()))
            .set("bootargs", Value::Str("100000".into()));
        match kind {
            "shared-IP" => {
                z.set(
                    "ip4.addr",
                    l(format!("{}|{}/24", lan.host_if, lan.addr4(5))),
                )
                .set("zone.defrouter", l(lan.addr4(1)));
            }
            "vnet.bridge" => {
                z.set("vnet", Value::Str("new".into()))
                    .set(
                        "vnet.bridge",
                        Value::Str(blan.bridge.clone().expect("a bridge")),
                    )
                    .set("ip4.addr", l(format!("{}/24", blan.addr4(5))))
                    .set("zone.defrouter", l(blan.addr4(1)));
            }
            _ => {}
        }
        kinds.push((kind, z));
    }
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); kinds.len()];
    for _ in 0..n {
        for (i, (kind, z)) in kinds.iter_mut().enumerate() {
            let t = Instant::now();
            z.ready().unwrap_or_else(|e| panic!("{kind}: ready: {e}"));
            z.boot().unwrap_or_else(|e| panic!("{kind}: boot: {e}"));
            times[i].push(t.elapsed());
            z.halt();
        }
    }
    let base = median(times[0].clone());
    println!("boot-to-running, median of {n} (ready + boot, sparse zone):");
    for ((kind, _), t) in kinds.iter().zip(times) {
        let m = median(t);
        println!(
            "  {kind:<12} {:>8.2} ms  {:.2}x loopback  (+{:.2} ms)",
            m.as_secs_f64() * 1e3,
            m.as_secs_f64() / base.as_secs_f64(),
            (m.as_secs_f64() - base.as_secs_f64()) * 1e3
        );
    }
}
