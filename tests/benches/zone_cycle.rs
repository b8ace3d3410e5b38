//! `cargo bench -p zones-e2e --bench zone_cycle [-- N]`: medians of N
//! (default 50) cycles of a sparse zone (installed once) running /bin/true:
//!
//! * **api (socket)**: through zoned's API — a client on a Unix socket
//!   served by an engine in this process (the engine zoned runs: the Linux
//!   runtime, a state directory with durable records): create with
//!   `initname=/bin/true initnorestart`, boot, wait until the zone, empty
//!   once init exits, has been halted and is gone;
//! * **api (embedded)**: the same calls on the engine directly (what a tool
//!   does when no zoned runs);
//! * **api (no state dir)**: the same on an engine without durable state,
//!   to show what the records cost (atomic renames, not synced: see
//!   `zones::state`);
//! * **runtime**: the runtime seam alone — ready, boot with
//!   `command=/bin/true`, wait for empty, shutdown, down, destroy;
//! * **baseline**: `unshare -fpmui --mount-proc chroot ROOT /bin/true` on
//!   the same root with /usr bound by hand, measured in the same run,
//!   one sample after each zone cycle (the machine's load then weighs on
//!   both alike);
//! * **baseline with a network namespace**: the same with `-n`, as every
//!   zone has had its own network namespace since issue 12 (a zone with
//!   `ip4 = inherit` has none): the fair "same namespaces" baseline.
//!
//! Prints each median and its ratio to both baselines (the first is the
//! one the figures before issue 12 were quoted against).
//! `ZONES_BENCH_IP4=inherit` runs the runtime cycles without a network
//! namespace; `ZONES_BENCH_PHASES=1` prints each runtime cycle's phases.
//!
//! ## What a cycle costs, and why
//!
//! A runtime cycle execs three programs (the launcher, zsched from a
//! descriptor, init), forks init from zsched, makes and removes the
//! zone's cgroup in every hierarchy (eight on the hybrid test host) and
//! has the kernel build and tear down the namespaces and mounts; the
//! baseline pays the process and namespace part of that too. What a zone
//! pays beyond it, since issue 12's security work:
//!
//! * **its network namespace**: ~0.4 ms of kernel work to make one (the
//!   loopback device, the per-namespace sysctl tables of IPv4 and IPv6),
//!   and sysfs mounted in it is a superblock of its own. Its teardown
//!   runs in a kernel worker after zsched exits, not waited for. The
//!   `-n` baseline pays the same.
//! * **the system call filter**, loaded in init's child: ~55 µs on the
//!   test host (`cargo bench -p zones-linux --bench seccomp`), ~150 µs before
//!   the program became a tree (see `runtime::linux::seccomp`).
//! * **RCU grace periods**, the part that grows with the host's load:
//!   every umount2 that releases a mount, and every detached mount
//!   closed on its own, waits for one in the kernel (~40 µs on an idle
//!   host, 1–30 ms on a busy one). A cycle now waits for three: the
//!   pivot's detach of the old root in zsched's setup, `down`'s one
//!   detach of the zone's `/`, which takes its whole tree (it was one
//!   umount2 per top-level mount, four, and fifteen before that, one per
//!   mount), and zsched's exit; the IPC sweep's mqueue mount and the
//!   detached proc mount are stacked on a mount of that tree to go with
//!   it (each was one more). Six before the third pass below. (A zone
//!   of its own user namespace, whose host-made mounts are locked, keeps
//!   the per-mount rounds.) On a host with load 10–20 this, not CPU,
//!   is most of the cycle: the runtime cycle's median is 35–80 ms
//!   against a 7–20 ms baseline there, and ratios from one run to the
//!   next vary by 2×.
//! * **the view and the console**: zsched's setup binds the nine view
//!   files read-only with 11 mounts (one read-only bind of the view
//!   directory, then one bind per file, which copies its flags; 18 before
//!   the third pass), and the first boot makes the console's pty pair
//!   and binds its slave over /dev/console (one mount).
//! * for the api rows, the engine's records (atomic renames, not synced:
//!   the "no state dir" row shows their share) and the socket round trips.
//!
//! Figures of issue 12, one session, three builds alternating (base
//! 86305ec, before the security work; 6a8ad10, after it; this change),
//! 18 rounds of 15-20 cycles under `nice -n -15` on the 2-CPU host at
//! load 1-4; medians of the per-round ratios to the `-fpmui` baseline
//! (to the `-fpmuin` one in brackets):
//!
//! | row | 86305ec | 6a8ad10 | this change |
//! |---|---|---|---|
//! | api (socket) | 2.80 (2.71) | 3.29 (3.20) | 3.38 (3.25) |
//! | api (embedded) | 2.35 (2.33) | 2.96 (2.79) | 3.09 (2.99) |
//! | api (no state dir) | 1.73 (1.62) | 2.02 (1.96) | 1.96 (1.85) |
//! | runtime | 1.45 (1.38) | 2.14 (2.05) | 1.73 (1.63) |
//!
//! Medians of the runtime cycle 6.5, 10.3 and 8.0 ms; of the baselines
//! 4.5 and 4.7 ms in all three. The runtime row is back to +19 % of its
//! figure before issue 12 (it was +48 %); the api rows, with the
//! engine's own work around the same runtime calls, are not (+17 to
//! +31 %): what the engine added there is not found yet.
//!
//! Since then the view (nine /proc and /sys files bound at boot, a time
//! namespace) and netlink came into every boot. The second pass (branch
//! cyclecost) cut, per cycle: the host's /proc/cpuinfo, meminfo, stat and
//! diskstats read and the view rendered once instead of twice, and in the
//! launcher while zsched sets the zone up rather than in series
//! (`view::fill`); /proc and /sys resolved once each by `view::bind`, not
//! per file; init's host pid found from zsched's children list (one read)
//! rather than by walking the zone's eight cgroup trees twice (boot and
//! the init-started event); the separate ping of `ready` (the event
//! connection's `ok` is the same proof); one stat read, not two, per
//! `stopped`. Figures of that session, base 86305ec and this change
//! alternating, 18 rounds of 15 cycles under `nice -n -15` on the 2-CPU
//! host shared with seven builds (load 14-21: the baselines took 25-40
//! ms, not 4.5), medians of the per-round ratios (to `-fpmuin`):
//!
//! | row | 86305ec | this change |
//! |---|---|---|
//! | api (socket) | 4.76 (3.65) | 5.16 (3.81) |
//! | api (embedded) | 4.67 (3.63) | 5.83 (4.47) |
//! | api (no state dir) | 3.08 (2.51) | 4.78 (3.24) |
//! | runtime | 3.15 (2.29) | 3.58 (2.96) |
//!
//! Like for like (each zone against the baseline with its namespaces: a
//! zone of 86305ec had no network namespace) the runtime row is 2.96
//! against 3.15; against the same `-fpmui` baseline it is +14 %. At that
//! load the ratios of one build move by 30 % from one round to the next,
//! so these figures say little below that: the 10 % of issue 12 wants an
//! idle host to be shown. What is left is the network namespace: a
//! second run (8 rounds, load 15-20, three builds alternating) gave the
//! runtime row 4.13 for 86305ec, 5.12 for this change and 3.37 for this
//! change with `ZONES_BENCH_IP4=inherit` (no network namespace, as in
//! 86305ec); under load a namespace's making and its teardown in the
//! kernel's worker contend for the same locks and RCU grace periods as
//! the next zone's.
//!
//! The third pass (branch zschedcost), zsched's half of the cycle, cut:
//! the view's nine binds each needed a read-only remount (now one
//! read-only bind of the view directory, and each file's bind copies
//! its flags: zsched's setup makes 34 mounts, was 41, and opens one
//! O_PATH per file instead of three, `view::bind`); zsched counted the
//! zone's processes (a /proc scan) on every turn of its loop, for every
//! connection and request (now only when the count may have changed: 5
//! scans per cycle, was 14); `down` detached the zone's four top-level
//! mounts one by one and the exit tore down the namespace (now one
//! umount2 of `/` takes the whole tree: zsched makes 2 umount2 calls per
//! cycle, was 6, three RCU grace periods fewer). Counts from `strace -f
//! -ff` of one runtime cycle (`zone_cycle 1`). Figures of that session,
//! three builds alternating (base 86305ec; 9d8fd2f, main before this
//! pass; this change), 10 rounds of 15 cycles under `nice -n -15` on the
//! 2-CPU host shared with five other engineers' builds (load 13-18: the
//! baselines took 10-21 ms, not 4.3), medians of the per-round ratios
//! (to `-fpmuin`):
//!
//! | row | 86305ec | 9d8fd2f | this change |
//! |---|---|---|---|
//! | api (socket) | 4.63 (3.02) | 4.78 (3.09) | 4.53 (3.43) |
//! | api (embedded) | 6.12 (3.60) | 5.58 (3.49) | 5.43 (3.79) |
//! | api (no state dir) | 4.32 (2.96) | 4.88 (3.08) | 4.12 (3.24) |
//! | runtime | 4.27 (2.77) | 4.82 (2.90) | 5.00 (3.58) |
//!
//! At that load a runtime cycle took 33-130 ms in every build (about
//! 6.3 ms at 86305ec and 9.7 ms at 9d8fd2f on an idle host): a spread
//! from one round to the next of 2-3×, far above the 10 % issue 12
//! asks about, so this run shows neither the gain nor a loss; an earlier
//! run of the same session (8 rounds, load 10-12, two builds) gave the
//! runtime row 5.55 for 86305ec and 5.74 for this change. A third run
//! once the host was quieter (8 rounds of 15, load 7-8, baselines 6.6-7.6
//! ms) gave, in the same order:
//!
//! | row | 86305ec | 9d8fd2f | this change |
//! |---|---|---|---|
//! | api (socket) | 5.61 (4.34) | 5.54 (4.10) | 5.95 (4.37) |
//! | api (embedded) | 5.55 (4.40) | 5.92 (4.54) | 5.81 (4.33) |
//! | api (no state dir) | 4.00 (2.91) | 4.71 (3.65) | 4.91 (3.71) |
//! | runtime | 3.94 (2.85) | 5.58 (4.43) | 5.25 (4.02) |
//!
//! (runtime cycle medians 27.6, 42.9 and 38.3 ms): the runtime row 6 %
//! below 9d8fd2f, still 33 % above 86305ec. Issue 12's 10 % is not met
//! by zsched's half alone, and wants an idle host to be shown. What the strace shows beyond
//! zsched's half: the launcher's first write of a v1 `cgroup.procs` waits
//! for a whole (not expedited) RCU grace period, the cgroup threadgroup
//! lock's rcu_sync (10 ms at load 11; the seven writes after it reuse
//! it).
//!
//! The fourth pass (branch cyclediff) measured main on a quieter host and
//! cut that wait, which 86305ec pays too (its launcher writes the same
//! `cgroup.procs` files): the launcher's child is now born in the v2
//! cgroup (clone3 with CLONE_INTO_CGROUP) and joins each v1 hierarchy by
//! writing 0 to `tasks`, a migration of the calling thread alone, for
//! which the kernel does not take the threadgroup lock for writing
//! (`runtime::linux::cgjoin`). Each write now takes ~35 µs; the first
//! took 6-14 ms at load 3. Figures of one run, three builds alternating
//! (base 86305ec with its zsched; main at 1558b15; this change), 8 rounds
//! of 15 cycles under `nice -n -15`, load 3.1-3.5 (one other engineer's
//! small runs), baselines 5.0-5.1 ms (`-fpmuin` 5.2-5.4), medians of the
//! per-round ratios (to `-fpmuin`), `bash /tmp/cyclecost-w/alt.sh OUT 8
//! 15 base86=... main=... cut=...`:
//!
//! | row | 86305ec | 1558b15 | this change |
//! |---|---|---|---|
//! | api (socket) | 3.48 (3.34) | 4.08 (3.85) | 2.77 (2.58) |
//! | api (embedded) | 3.31 (3.17) | 3.79 (3.58) | 2.67 (2.54) |
//! | api (no state dir) | 2.60 (2.50) | 3.44 (3.28) | 2.38 (2.19) |
//! | runtime | 2.01 (1.97) | 2.84 (2.74) | 2.20 (2.07) |
//!
//! The runtime row is +9 % over 86305ec against the same `-fpmui`
//! baseline, +3 % like for like (this change's `-fpmuin` ratio against
//! 86305ec's `-fpmui`: its zones had no network namespace), +41 % before
//! this pass; the api rows are now below 86305ec's. Phases of one
//! runtime cycle (`ZONES_BENCH_PHASES=1`, 15 cycles each, medians, ms):
//! ready 8.8 / 14.2 / 7.4, boot 0.64 / 0.97 / 0.94, init's exit to
//! `empty` 0.44 / 0.39 / 0.43, shutdown 0.43 / 0.35 / 0.37, down 0.42 /
//! 0.47 / 0.47: the grace period was in `ready`; what boot still adds
//! over 86305ec (~0.3 ms) is the view, the console and the filter.
//! Runtime cycle medians (of the rounds' medians) 9.6, 14.9 and 10.2 ms.
//! A second run right after it (12 rounds of 15, load 2.9-6.5 as another
//! engineer's runs started, baselines 6.8-7.1 ms) gave the runtime row
//! 3.21 (2.65), 3.53 (2.78) and 2.45 (1.97), cycles 21.8, 22.9 and 16.6
//! ms: the busier the host, the longer the grace period this pass cut.
//!
//! The integrated tree (every pass above, plus the per-zone view sources
//! and the single events thread), on a host doing nothing else (load
//! 1.9-2.7), two runs of 8 and 12 alternating rounds of 15 cycles,
//! 86305ec against main (to `-fpmuin` in brackets):
//!
//! | row | 86305ec | main | 86305ec | main |
//! |---|---|---|---|---|
//! | api (socket) | 2.65 (2.52) | 2.28 (2.11) | 3.37 (3.22) | 2.36 (2.25) |
//! | api (embedded) | 2.29 (2.16) | 2.17 (2.01) | 3.07 (2.94) | 2.30 (2.12) |
//! | api (no state dir) | 1.98 (1.86) | 1.90 (1.75) | 1.92 (1.85) | 2.01 (1.90) |
//! | runtime | 1.54 (1.47) | 1.75 (1.62) | 1.60 (1.53) | 1.87 (1.77) |
//!
//! Baselines 4.7-5.2 ms. What a user pays to boot a zone (the api rows)
//! is at or below 86305ec's; the runtime seam alone is +14 % and +17 %
//! against the same `-fpmui` baseline, +5 % and +11 % like for like
//! (main's `-fpmuin` ratio: every zone has had a network namespace since
//! issue 12). Left over 86305ec there: the network namespace's making
//! (its loopback, the per-namespace sysctl tables) and ~0.3 ms of boot
//! (the view's binds, the console, the filter).
//!
//! The fifth pass (the spare launcher, `runtime::linux::spare`) took
//! what does not depend on the zone out of `ready`: the launcher's exec
//! and start, and the making of its view directory (ten entries on the
//! test host's ext4 run directory: ~0.4 ms, the cycle's `/tmp`; ~0.06 ms
//! on tmpfs), now done by a launcher started ahead, 3 ms after the last
//! `ready`, at idle priority; and the request comes in two parts, so
//! that the launcher binds the control socket while the runtime makes
//! the cgroups. Phases (`ZONES_BENCH_PHASES=1`, 6 alternating rounds of
//! 15, medians): ready 5.30 → 3.95 ms, boot 0.73 → 0.76 (1.18 with the
//! next launcher started at once: it contended with the boot that
//! follows). Figures of one run, three builds
//! alternating (base 86305ec with its zsched; main before this pass,
//! fcec9f8; this change), 12 rounds of 15 under `nice -n -15` on the
//! 2-CPU host doing nothing else (load 1.9-2.4), baselines 4.3 ms
//! (`-fpmuin` 4.6), medians of the per-round ratios, `bash
//! /tmp/cyclecost-w/alt.sh OUT 12 15 base86=... m0=... new=...` (runs
//! each build's bench in turn):
//!
//! | row | 86305ec | fcec9f8 | this change |
//! |---|---|---|---|
//! | api (socket) | 2.32 (2.17) | 2.51 (2.36) | 2.18 (2.01) |
//! | api (embedded) | 2.32 (2.18) | 2.38 (2.21) | 1.99 (1.85) |
//! | api (no state dir) | 1.69 (1.58) | 2.09 (1.94) | 1.62 (1.49) |
//! | runtime | 1.49 (1.40) | 1.91 (1.79) | 1.46 (1.35) |
//!
//! Every row is now at or below 86305ec's, against the same `-fpmui`
//! baseline, though every zone has had a network namespace since then.
//! 86305ec's runtime row is bimodal from one round to the next (1.37-1.56
//! in ten rounds, 2.40 and 2.59 in two: its first `cgroup.procs` write
//! waits for an RCU grace period or not); this change's was 1.39-1.60
//! in every round. Two more runs of 10 rounds: one before the 3 ms
//! pause (load 1.6-2.7) gave 1.62, 1.75 and 1.58; one on the final tree
//! (2116851: the spare only in an engine that lasts, which every row
//! here is; load 2.0-2.8, baselines 6.2 ms) gave 2.06 (86305ec: 1.30-1.58
//! in its four fast rounds, 1.93-3.13 in six), 1.71 and 1.46 (1.29-1.64),
//! the api rows 3.08, 3.00, 2.50 (86305ec) against 2.00, 1.85, 1.73.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use zones::engine::Caller;
use zones::param::{Params, Value};
use zones::zone::Status;
use zones_e2e::{TestZone, bin, median};
use zones_linux::api::{Client, Endpoint, Zones, bind_socket, serve, start_serving_engine};
use zones_linux::runtime::{Runtime, RuntimeEvent};

/// N cycles through the API: create, boot, and wait until the zone whose
/// init (/bin/true, not restarted) exited is halted and gone.
async fn api_cycles(
    zones: &Zones,
    root: &Path,
    name: &str,
    n: usize,
    base: &mut Baseline,
) -> Vec<Duration> {
    let caller = Caller::ROOT;
    let mut times = Vec::new();
    for _ in 0..n {
        let mut p = Params::new();
        p.insert("name", Value::Str(name.to_string()));
        p.insert("path", Value::Str(root.display().to_string()));
        p.insert("brand", Value::Str("sparse".into()));
        p.insert("initname", Value::Str("/bin/true".into()));
        p.insert("initnorestart", Value::Bool(true));
        let t = Instant::now();
        let id = zones.create(&caller, p).await.expect("create");
        zones.boot(&caller, id).await.expect("boot");
        // Gone (dead, or no such zone any more) once the engine halted it.
        let end = zones
            .wait_status(id, Status::Dead, Some(Duration::from_secs(20)))
            .await;
        assert!(
            !matches!(end, Err(zones::Error::Timeout { .. })),
            "zone {name} was not halted after its init exited"
        );
        times.push(t.elapsed());
        assert!(
            zones.lookup(&caller, name).await.is_err(),
            "{name} still there after {end:?}"
        );
        base.sample();
    }
    times
}

/// The two `unshare` baselines, sampled one each after every zone cycle.
struct Baseline {
    script: String,
    plain: Vec<Duration>,
    net: Vec<Duration>,
}

impl Baseline {
    fn new(root: &Path) -> Baseline {
        // The same root, /usr bound by hand in the unshare'd mount
        // namespace (the sparse brand's other dirs are symlinks here).
        let root = root.display();
        Baseline {
            script: format!("mount --bind /usr {root}/usr && exec chroot {root} /bin/true"),
            plain: Vec::new(),
            net: Vec::new(),
        }
    }

    fn run(&self, flags: &str) -> Duration {
        let t = Instant::now();
        let st = Command::new("unshare")
            .args([flags, "--mount-proc", "sh", "-c", &self.script])
            .status()
            .expect("unshare");
        assert!(st.success(), "unshare {flags} baseline failed");
        t.elapsed()
    }

    fn sample(&mut self) {
        let d = self.run("-fpmui");
        self.plain.push(d);
        let d = self.run("-fpmuin");
        self.net.push(d);
    }
}

fn main() {
    let n: usize = zones_e2e::bench_count(50);
    // The engine finds zsched through the environment (set before any
    // thread starts).
    // SAFETY: set before the benchmark starts any thread that reads the environment.
    unsafe { std::env::set_var("ZONES_ZSCHED", bin("zones-zsched")) };
    let mut zone_times = Vec::new();
    let mut z = TestZone::sparse("bench");
    let mut base = Baseline::new(&z.spec.root);
    let (sock_times, emb_times, mem_times) = {
        let tmp = tempfile::Builder::new()
            .prefix("zones-bench-api-")
            .tempdir()
            .unwrap();
        let cg = format!("{}-api", z.cgroup_root.display());
        let ep = Endpoint::resolve(
            Some(tmp.path().join("zoned.sock")),
            Some(tmp.path().join("state")),
            Some(cg.clone()),
        );
        let name = format!("bench-api-{}", std::process::id());
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let times = rt.block_on(async {
            // What zoned runs: an engine that lasts keeps a spare launcher.
            let engine = start_serving_engine(&ep, "bench").await.expect("engine");
            let listener = bind_socket(&ep.socket).await.expect("socket");
            tokio::spawn(serve(engine.clone(), listener));
            let client = Client::connect(&ep.socket).await.expect("connect");
            let daemon = Zones::Daemon(std::sync::Arc::new(client));
            let sock = api_cycles(&daemon, &z.spec.root, &name, n, &mut base).await;
            let emb = api_cycles(&Zones::Embedded(engine), &z.spec.root, &name, n, &mut base).await;
            let rt = zones_linux::runtime::linux::LinuxRuntime::new(tmp.path().join("run2"), &cg)
                .with_spare();
            let mem = zones::engine::Engine::new(std::sync::Arc::new(rt), Default::default());
            let mem = api_cycles(&Zones::Embedded(mem), &z.spec.root, &name, n, &mut base).await;
            (sock, emb, mem)
        });
        drop(rt);
        let roots: Vec<_> =
            zones_linux::runtime::linux::cgroup::root_dirs(std::path::Path::new(&cg)).unwrap();
        let _ = zones_linux::runtime::linux::cgroup::remove(&roots);
        times
    };
    z.set("command", Value::List(vec!["/bin/true".into()]));
    // The runtime as zoned runs it: with a spare launcher.
    z.rt = z.new_runtime().with_spare();
    if let Some(ip4) = std::env::var_os("ZONES_BENCH_IP4") {
        // `inherit`: the runtime cycles without a network namespace, to
        // see what one costs.
        z.set("ip4", Value::Str(ip4.to_string_lossy().into_owned()));
    }
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
        base.sample();
        if std::env::var_os("ZONES_BENCH_PHASES").is_some() {
            eprintln!(
                "empty {t_empty:?} shutdown {t_shut:?} down {t_down:?} destroyed {:?}",
                t.elapsed()
            );
        }
    }
    let samples = base.plain.len();
    let bm = median(base.plain);
    let bn = median(base.net);
    let ratio = |d: Duration, b: Duration| d.as_secs_f64() / b.as_secs_f64();
    for (what, times) in [
        ("api (socket): create+boot /bin/true+halt", sock_times),
        ("api (embedded): create+boot /bin/true+halt", emb_times),
        ("api (no state dir): create+boot /bin/true+halt", mem_times),
        ("runtime: ready+boot /bin/true+halt", zone_times),
    ] {
        let m = median(times);
        println!(
            "{what}, median of {n}: {m:?}  ratio {:.2}  (with -n: {:.2})",
            ratio(m, bm),
            ratio(m, bn)
        );
    }
    println!(
        "baseline: unshare -fpmui --mount-proc chroot ROOT /bin/true, median of {samples}: {bm:?}"
    );
    println!("baseline with -n (a network namespace too), median of {samples}: {bn:?}");
}
