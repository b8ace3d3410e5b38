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
//!   the same root with /usr bound by hand, measured in the same run.
//!
//! Prints each median and its ratio to the baseline.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use zones::api::{Client, Endpoint, Zones, bind_socket, serve, start_engine};
use zones::engine::Caller;
use zones::param::{Params, Value};
use zones::runtime::{Runtime, RuntimeEvent};
use zones::zone::Status;
use zones_e2e::{TestZone, bin};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// N cycles through the API: create, boot, and wait until the zone whose
/// init (/bin/true, not restarted) exited is halted and gone.
async fn api_cycles(zones: &Zones, root: &Path, name: &str, n: usize) -> Vec<Duration> {
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
    }
    times
}

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(50);
    // The engine finds zsched through the environment (set before any
    // thread starts).
    // SAFETY: set before the benchmark starts any thread that reads the environment.
    unsafe { std::env::set_var("ZONES_ZSCHED", bin("zones-zsched")) };
    let mut zone_times = Vec::new();
    let mut z = TestZone::sparse("bench");
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
            let engine = start_engine(&ep, "bench").await.expect("engine");
            let listener = bind_socket(&ep.socket).await.expect("socket");
            tokio::spawn(serve(engine.clone(), listener));
            let client = Client::connect(&ep.socket).await.expect("connect");
            let daemon = Zones::Daemon(std::sync::Arc::new(client));
            let sock = api_cycles(&daemon, &z.spec.root, &name, n).await;
            let emb = api_cycles(&Zones::Embedded(engine), &z.spec.root, &name, n).await;
            let rt = zones::runtime::linux::LinuxRuntime::new(tmp.path().join("run2"), &cg);
            let mem = zones::engine::Engine::new(std::sync::Arc::new(rt), Default::default());
            let mem = api_cycles(&Zones::Embedded(mem), &z.spec.root, &name, n).await;
            (sock, emb, mem)
        });
        drop(rt);
        let roots: Vec<_> = zones::runtime::linux::cgroup::hierarchies()
            .unwrap()
            .iter()
            .map(|h| {
                h.mount
                    .join(h.own.strip_prefix("/").unwrap_or(&h.own))
                    .join(&cg)
            })
            .collect();
        let _ = zones::runtime::linux::cgroup::remove(&roots);
        times
    };
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
    let bm = median(base_times);
    let ratio = |d: Duration| d.as_secs_f64() / bm.as_secs_f64();
    for (what, times) in [
        ("api (socket): create+boot /bin/true+halt", sock_times),
        ("api (embedded): create+boot /bin/true+halt", emb_times),
        ("api (no state dir): create+boot /bin/true+halt", mem_times),
        ("runtime: ready+boot /bin/true+halt", zone_times),
    ] {
        let m = median(times);
        println!("{what}, median of {n}: {m:?}  ratio {:.2}", ratio(m));
    }
    println!("baseline: unshare -fpmui --mount-proc chroot ROOT /bin/true, median of {n}: {bm:?}");
}
