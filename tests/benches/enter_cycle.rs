//! `cargo bench -p zones-e2e --bench enter_cycle [-- N]`: what entering a
//! running zone costs (`zlogin`/`jexec`: `runtime::linux::enter`), medians
//! of N (default 200) runs of `/bin/true` in a booted sparse zone, two
//! ways alternately in the same run:
//!
//! * **enter**: the zenter test tool (the enter path zlogin and jexec
//!   take: the zone's namespaces, its cgroups in every hierarchy, its
//!   limits, filter, capabilities and ids), its own start included;
//! * **baseline**: `nsenter --target INIT --all /bin/true` (util-linux:
//!   the same namespaces, no cgroup, no filter, no capability change).
//!
//! Each run comes 100 ms after the one before (`ZONES_BENCH_GAP_MS`): an
//! administrator's `zlogin`, not a loop of them (see Figures). Prints both
//! medians and their ratio. Not a test: nothing here fails on a slow
//! host.
//!
//! ## Figures
//!
//! An entered process joins the zone's cgroups. Writing a v1 or v2
//! `cgroup.procs` migrates a thread group, for which the kernel takes the
//! global threadgroup rwsem for writing and first waits for an RCU grace
//! period, unless another writer did a moment before: the first join of
//! an entry paid it, unless entries (or boots) came in a quick series,
//! which reuse one grace period (a loop of entries shows nothing). Since the enter path joins as the launcher does
//! (`runtime::linux::cgjoin`: born in the v2 cgroup, v1 `tasks`), none
//! does. Figures of one run on the 2-CPU test host (load 1.1-1.3), the
//! zenter of the build before that change (fcec9f8's enter path) and of
//! this one alternating, two rounds of 60 each, `nice -n -15`:
//!
//! | | before | after |
//! |---|---|---|
//! | enter, median | 13.0, 12.6 ms | 3.58, 3.72 ms |
//! | ratio to nsenter | 4.34, 4.75 | 1.30, 1.39 |
//!
//! (With no gap, `ZONES_BENCH_GAP_MS=0`, both builds gave 1.32-1.36: the
//! grace period is paid once for the whole series.)

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use zones::param::Value;
use zones_e2e::{TestZone, median};

fn main() {
    let n: usize = zones_e2e::bench_count(200);
    let mut z = TestZone::sparse("enterbench");
    z.set("initname", Value::Str("/bin/sleep".into()))
        .set("bootargs", Value::Str("100000".into()));
    z.ready().expect("ready");
    let init = z.boot().expect("boot");
    let gap = Duration::from_millis(
        std::env::var("ZONES_BENCH_GAP_MS")
            .ok()
            .and_then(|g| g.parse().ok())
            .unwrap_or(100),
    );
    let (mut enter, mut base) = (Vec::new(), Vec::new());
    for _ in 0..n {
        std::thread::sleep(gap);
        let t = Instant::now();
        let st = z
            .enter_command(&["/bin/true"])
            .stdout(Stdio::null())
            .status()
            .expect("zenter");
        assert!(st.success(), "zenter /bin/true: {st}");
        enter.push(t.elapsed());
        std::thread::sleep(gap);
        let t = Instant::now();
        let st = Command::new("nsenter")
            .args(["--target", &init.to_string(), "--all", "/bin/true"])
            .status()
            .expect("nsenter");
        assert!(st.success(), "nsenter: {st}");
        base.push(t.elapsed());
    }
    let (e, b) = (median(enter), median(base));
    println!(
        "enter: /bin/true in a running zone, median of {n}: {e:?}  ratio {:.2}",
        e.as_secs_f64() / b.as_secs_f64()
    );
    println!("baseline: nsenter --all /bin/true, median of {n}: {b:?}");
    z.halt();
}
