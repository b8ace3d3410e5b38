//! # Metrics for fleets: the snapshot in OpenMetrics text
//!
//! `zoned --metrics ADDR` serves, at `/metrics`, the counters of every
//! kernel zone (kstat.md "Metrics for fleets") in the OpenMetrics text
//! format, encoded by the prometheus-client crate. Every sample carries
//! `zone="NAME"` and `zoneid="ID"`.
//!
//! | metric                                  | type    | from                                  |
//! |-----------------------------------------|---------|---------------------------------------|
//! | zone_processes                          | gauge   | nprocs                                |
//! | zone_threads                            | gauge   | nlwps                                 |
//! | zone_locked_memory_bytes                | gauge   | lockedmem                             |
//! | zone_swap_reserved_bytes                | gauge   | swapresv                              |
//! | zone_memory_usage_bytes, zone_rss_bytes | gauge   | mem_usage, rss (ours)                 |
//! | zone_load_average{window}               | gauge   | avenrun / 256, window 1m, 5m, 15m     |
//! | zone_cpu_user_seconds_total             | counter | nsec_user / 1e9                       |
//! | zone_cpu_system_seconds_total           | counter | nsec_sys / 1e9                        |
//! | zone_cpu_wait_seconds_total             | counter | nsec_waitrq / 1e9                     |
//! | zone_fork_failures_total{reason}        | counter | forkfail_cap, _noproc, _nomem, _misc  |
//! | zone_limit{rctl}                        | gauge   | each rctl that is set                 |
//! | zone_state{state}                       | gauge   | 1 for the zone's status, 0 for others |
//! | zone_info{brand,root,hostname,uniqid}   | gauge   | 1                                     |
//! | zone_network_{receive,transmit}_bytes_total{interface} | counter | link rbytes64, obytes64 |
//! | zone_network_{receive,transmit}_{packets,errors}_total{interface} | counter | link ipackets64, opackets64, ierrors, oerrors |
//!
//! ## Why a collector
//!
//! [`SnapshotCollector`] is a prometheus-client `Collector` that, on each
//! scrape, takes the engine's current snapshot and encodes it. The
//! snapshot is already the one consistent view of every counter, so there
//! is nothing to mirror into registered metric families: no second copy
//! to keep in step each tick, no label sets to remove when a zone is
//! destroyed, and every scrape shows one tick, never half of two. The
//! registry holding the collector is built once ([`registry`]).
//!
//! ## Serving
//!
//! [`serve`] answers `GET /metrics` on a listening socket with a minimal
//! HTTP/1.1 responder (one request per connection, then close): enough for
//! Prometheus, curl and load balancers' health checks, without pulling an
//! HTTP stack into the engine. Each connection is its own tokio task; a
//! scrape encodes the snapshot of that moment.

use crate::snapshot::{Snapshot, ZoneSnapshot};
use crate::zone::Status;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::{Registry, Unit};
use std::sync::Arc;

/// The Content-Type of the text [`encode`] produces.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Where a scrape gets the current snapshot from.
pub type SnapshotSource = Arc<dyn Fn() -> Arc<Snapshot> + Send + Sync>;

/// Encodes the current snapshot on each scrape (module comment).
#[derive(Clone)]
pub struct SnapshotCollector {
    source: SnapshotSource,
}

impl std::fmt::Debug for SnapshotCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SnapshotCollector")
    }
}

impl SnapshotCollector {
    pub fn new(source: impl Fn() -> Arc<Snapshot> + Send + Sync + 'static) -> SnapshotCollector {
        SnapshotCollector {
            source: Arc::new(source),
        }
    }
}

/// A registry with one [`SnapshotCollector`] reading `source`; encode it
/// with `prometheus_client::encoding::text::encode` per scrape.
pub fn registry(source: impl Fn() -> Arc<Snapshot> + Send + Sync + 'static) -> Registry {
    let mut r = Registry::default();
    r.register_collector(Box::new(SnapshotCollector::new(source)));
    r
}

/// The OpenMetrics text of one snapshot (what `/metrics` serves).
pub fn encode(snap: &Arc<Snapshot>) -> String {
    let snap = snap.clone();
    let r = registry(move || snap.clone());
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, &r).expect("writing to a String");
    out
}

type Labels = Vec<(&'static str, String)>;

fn labels(z: &ZoneSnapshot) -> Labels {
    vec![
        ("zone", z.name.as_str().to_string()),
        ("zoneid", z.id.0.to_string()),
    ]
}

fn with(z: &ZoneSnapshot, extra: &[(&'static str, String)]) -> Labels {
    let mut l = labels(z);
    l.extend_from_slice(extra);
    l
}

/// One family: a descriptor and one sample per (zone, extra labels).
fn family<M: EncodeMetric>(
    enc: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    unit: Option<Unit>,
    kind: MetricType,
    samples: impl IntoIterator<Item = (Labels, M)>,
) -> Result<(), std::fmt::Error> {
    let unit = unit.as_ref();
    let mut m = enc.encode_descriptor(name, help, unit, kind)?;
    for (l, metric) in samples {
        metric.encode(m.encode_family(&l)?)?;
    }
    Ok(())
}

fn seconds(ns: u64) -> f64 {
    ns as f64 / 1e9
}

/// The link counters ([`super::link`]): one sample per zone and interface.
fn network(
    enc: &mut DescriptorEncoder,
    zones: &[Arc<ZoneSnapshot>],
) -> Result<(), std::fmt::Error> {
    use super::link::LinkStat;
    /// Name, help, unit, and the counter of a link.
    type Family = (
        &'static str,
        &'static str,
        Option<Unit>,
        fn(&LinkStat) -> u64,
    );
    let families: [Family; 6] = [
        (
            "zone_network_receive",
            "Bytes received on the zone's interface.",
            Some(Unit::Bytes),
            |l| l.rbytes64,
        ),
        (
            "zone_network_transmit",
            "Bytes sent from the zone's interface.",
            Some(Unit::Bytes),
            |l| l.obytes64,
        ),
        (
            "zone_network_receive_packets",
            "Packets received on the zone's interface.",
            None,
            |l| l.ipackets64,
        ),
        (
            "zone_network_transmit_packets",
            "Packets sent from the zone's interface.",
            None,
            |l| l.opackets64,
        ),
        (
            "zone_network_receive_errors",
            "Receive errors on the zone's interface.",
            None,
            |l| l.ierrors,
        ),
        (
            "zone_network_transmit_errors",
            "Transmit errors on the zone's interface.",
            None,
            |l| l.oerrors,
        ),
    ];
    for (name, help, unit, f) in families {
        family(
            enc,
            name,
            help,
            unit,
            MetricType::Counter,
            zones.iter().flat_map(|z| {
                z.kstat.links.iter().map(move |l| {
                    (
                        with(z, &[("interface", l.name.clone())]),
                        ConstCounter::new(f(l)),
                    )
                })
            }),
        )?;
    }
    Ok(())
}

impl Collector for SnapshotCollector {
    fn encode(&self, mut enc: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let snap = (self.source)();
        let zones = &snap.zones;
        let gauge = |f: fn(&ZoneSnapshot) -> u64| {
            zones
                .iter()
                .map(move |z| (labels(z), ConstGauge::new(f(z) as i64)))
        };
        let g = MetricType::Gauge;
        let c = MetricType::Counter;
        family(
            &mut enc,
            "zone_processes",
            "Processes (thread groups) in the zone.",
            None,
            g,
            gauge(|z| z.kstat.nprocs),
        )?;
        family(
            &mut enc,
            "zone_threads",
            "Threads (LWPs) in the zone.",
            None,
            g,
            gauge(|z| z.kstat.nlwps),
        )?;
        family(
            &mut enc,
            "zone_locked_memory",
            "Bytes locked in memory by the zone's processes.",
            Some(Unit::Bytes),
            g,
            gauge(|z| z.kstat.lockedmem),
        )?;
        family(
            &mut enc,
            "zone_swap_reserved",
            "Anonymous, shmem/tmpfs and swapped-out bytes charged to the zone.",
            Some(Unit::Bytes),
            g,
            gauge(|z| z.kstat.swapresv),
        )?;
        family(
            &mut enc,
            "zone_memory_usage",
            "Memory in use by the zone (its working set: charged memory less inactive file cache).",
            Some(Unit::Bytes),
            g,
            gauge(|z| z.kstat.mem_usage),
        )?;
        family(
            &mut enc,
            "zone_rss",
            "Resident memory of the zone's processes.",
            Some(Unit::Bytes),
            g,
            gauge(|z| z.kstat.rss),
        )?;
        family(
            &mut enc,
            "zone_load_average",
            "The illumos zone load average (avenrun / 256).",
            None,
            g,
            zones.iter().flat_map(|z| {
                ["1m", "5m", "15m"]
                    .into_iter()
                    .enumerate()
                    .map(move |(i, w)| {
                        (
                            with(z, &[("window", w.to_string())]),
                            ConstGauge::new(f64::from(z.kstat.avenrun[i]) / 256.0),
                        )
                    })
            }),
        )?;
        let counter = |f: fn(&ZoneSnapshot) -> u64| {
            zones
                .iter()
                .map(move |z| (labels(z), ConstCounter::new(seconds(f(z)))))
        };
        family(
            &mut enc,
            "zone_cpu_user",
            "CPU time of the zone's processes in user mode.",
            Some(Unit::Seconds),
            c,
            counter(|z| z.kstat.nsec_user),
        )?;
        family(
            &mut enc,
            "zone_cpu_system",
            "CPU time of the zone's processes in the kernel.",
            Some(Unit::Seconds),
            c,
            counter(|z| z.kstat.nsec_sys),
        )?;
        family(
            &mut enc,
            "zone_cpu_wait",
            "Time the zone's threads waited on a run queue.",
            Some(Unit::Seconds),
            c,
            counter(|z| z.kstat.nsec_waitrq),
        )?;
        family(
            &mut enc,
            "zone_fork_failures",
            "Forks refused, by reason.",
            None,
            c,
            zones.iter().flat_map(|z| {
                let k = &z.kstat;
                [
                    ("cap", k.forkfail_cap),
                    ("noproc", k.forkfail_noproc),
                    ("nomem", k.forkfail_nomem),
                    ("misc", k.forkfail_misc),
                ]
                .into_iter()
                .map(move |(r, v)| (with(z, &[("reason", r.to_string())]), ConstCounter::new(v)))
            }),
        )?;
        family(
            &mut enc,
            "zone_limit",
            "Resource controls that are set.",
            None,
            g,
            zones.iter().flat_map(|z| {
                z.rctls().into_iter().map(move |(r, v)| {
                    (
                        with(z, &[("rctl", r.to_string())]),
                        ConstGauge::new(v as f64),
                    )
                })
            }),
        )?;
        family(
            &mut enc,
            "zone_state",
            "1 for the zone's kernel status, 0 for the others.",
            None,
            g,
            zones.iter().flat_map(|z| {
                Status::ALL.into_iter().map(move |s| {
                    (
                        with(z, &[("state", s.as_str().to_string())]),
                        ConstGauge::new(i64::from(s == z.status)),
                    )
                })
            }),
        )?;
        family(
            &mut enc,
            "zone_info",
            "The zone's identity.",
            None,
            g,
            zones.iter().map(|z| {
                (
                    with(
                        z,
                        &[
                            ("brand", z.brand.as_str().to_string()),
                            ("root", z.root.display().to_string()),
                            ("hostname", z.hostname.clone()),
                            ("uniqid", z.uniqid.to_string()),
                        ],
                    ),
                    ConstGauge::new(1i64),
                )
            }),
        )?;
        network(&mut enc, zones)?;
        Ok(())
    }
}

/// Serve `GET /metrics` on `listener` until the listener fails; each
/// scrape encodes `source()`'s snapshot.
pub async fn serve(
    listener: tokio::net::TcpListener,
    source: impl Fn() -> Arc<Snapshot> + Send + Sync + 'static,
) -> std::io::Result<()> {
    let registry = Arc::new(registry(source));
    loop {
        let (stream, _) = listener.accept().await?;
        let registry = registry.clone();
        tokio::spawn(async move {
            if let Err(e) = answer(stream, &registry).await {
                tracing::debug!("metrics: {e}");
            }
        });
    }
}

async fn answer(mut stream: tokio::net::TcpStream, registry: &Registry) -> std::io::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut head = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && !head.windows(2).any(|w| w == b"\n\n") {
        let n = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut chunk))
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "request head"))??;
        if n == 0 || head.len() > 16 * 1024 {
            break;
        }
        head.extend_from_slice(&chunk[..n]);
    }
    let line = String::from_utf8_lossy(&head);
    let mut words = line.lines().next().unwrap_or("").split_whitespace();
    let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let path = path.split('?').next().unwrap_or("");
    let (status, ctype, body) = match (method, path) {
        ("GET" | "HEAD", "/metrics") => {
            let mut body = String::new();
            prometheus_client::encoding::text::encode(&mut body, registry)
                .map_err(|_| std::io::Error::other("encoding metrics"))?;
            ("200 OK", CONTENT_TYPE, body)
        }
        ("GET" | "HEAD", _) => ("404 Not Found", "text/plain", "try /metrics\n".to_string()),
        _ => (
            "405 Method Not Allowed",
            "text/plain",
            "GET /metrics\n".to_string(),
        ),
    };
    let mut reply = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    if method != "HEAD" {
        reply.push_str(&body);
    }
    stream.write_all(reply.as_bytes()).await?;
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::param::Params;
    use crate::snapshot::{Kstat, Refs};
    use crate::zone::{Brand, ZoneId, ZoneName};
    use std::collections::{BTreeMap, HashMap};
    use std::path::PathBuf;

    /// A sample line: name, labels, value.
    type Parsed = (String, BTreeMap<String, String>, f64);

    /// A strict reader of the OpenMetrics text format, enough to prove
    /// the output is well formed: descriptors before samples, samples of
    /// a declared family only (counters as `_total`), label syntax with
    /// escapes, numeric values, `# EOF` last.
    fn parse_openmetrics(text: &str) -> Result<(HashMap<String, String>, Vec<Parsed>), String> {
        let mut types: HashMap<String, String> = HashMap::new();
        let mut samples = vec![];
        let mut eof = false;
        for line in text.lines() {
            if eof {
                return Err(format!("line after # EOF: {line}"));
            }
            if line == "# EOF" {
                eof = true;
                continue;
            }
            if let Some(rest) = line.strip_prefix("# ") {
                let mut w = rest.splitn(3, ' ');
                let (kw, name, arg) = (w.next(), w.next(), w.next());
                match (kw, name, arg) {
                    (Some("TYPE"), Some(n), Some(t)) => {
                        if !["gauge", "counter", "info", "stateset", "unknown"].contains(&t) {
                            return Err(format!("bad type {t}"));
                        }
                        types.insert(n.to_string(), t.to_string());
                    }
                    (Some("HELP" | "UNIT"), Some(_), Some(_)) => {}
                    _ => return Err(format!("bad descriptor: {line}")),
                }
                continue;
            }
            let (name_labels, value) = line.rsplit_once(' ').ok_or(format!("no value: {line}"))?;
            let value: f64 = value.parse().map_err(|_| format!("bad value: {line}"))?;
            let (name, labels) = match name_labels.split_once('{') {
                None => (name_labels.to_string(), BTreeMap::new()),
                Some((n, rest)) => {
                    let body = rest
                        .strip_suffix('}')
                        .ok_or(format!("unclosed labels: {line}"))?;
                    let mut labels = BTreeMap::new();
                    let mut chars = body.chars().peekable();
                    while chars.peek().is_some() {
                        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
                        if key.is_empty()
                            || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                        {
                            return Err(format!("bad label name {key:?}: {line}"));
                        }
                        if chars.next() != Some('"') {
                            return Err(format!("unquoted label value: {line}"));
                        }
                        let mut v = String::new();
                        loop {
                            match chars.next() {
                                Some('\\') => match chars.next() {
                                    Some('n') => v.push('\n'),
                                    Some(c @ ('"' | '\\')) => v.push(c),
                                    _ => return Err(format!("bad escape: {line}")),
                                },
                                Some('"') => break,
                                Some(c) => v.push(c),
                                None => return Err(format!("unterminated value: {line}")),
                            }
                        }
                        labels.insert(key, v);
                        match chars.next() {
                            Some(',') | None => {}
                            Some(c) => return Err(format!("unexpected {c:?}: {line}")),
                        }
                    }
                    (n.to_string(), labels)
                }
            };
            let family = name
                .strip_suffix("_total")
                .filter(|f| types.get(*f).map(String::as_str) == Some("counter"));
            let family = family.unwrap_or(&name);
            match types.get(family).map(String::as_str) {
                Some("counter") if family == name => {
                    return Err(format!("counter without _total: {line}"));
                }
                Some(_) => {}
                None => return Err(format!("sample of no declared family: {line}")),
            }
            samples.push((name, labels, value));
        }
        if !eof {
            return Err("no # EOF".into());
        }
        Ok((types, samples))
    }

    fn zone(id: u32, name: &str, k: Kstat, params: &[&str]) -> Arc<ZoneSnapshot> {
        let mut p = Params::new();
        for a in params {
            p.set_arg(a).unwrap();
        }
        Arc::new(ZoneSnapshot {
            id: ZoneId(id),
            name: if id == 0 {
                ZoneName::global()
            } else {
                ZoneName::new(name).unwrap()
            },
            uniqid: u64::from(id) + 100,
            status: Status::Running,
            root: PathBuf::from(format!("/zones/{name} \"q\"")),
            brand: Brand::Sparse,
            hostname: name.into(),
            parent: ZoneId(0),
            init_pid: 0,
            zsched_pid: 0,
            boot_time: 0,
            crtime: 0,
            privileges: vec![],
            params: p,
            refs: Refs::default(),
            kstat: k,
            procs: vec![],
        })
    }

    fn snapshot() -> Arc<Snapshot> {
        Arc::new(Snapshot {
            zones: vec![
                zone(
                    0,
                    "global",
                    Kstat {
                        nprocs: 80,
                        ..Kstat::default()
                    },
                    &[],
                ),
                zone(
                    3,
                    "web",
                    Kstat {
                        nprocs: 5,
                        nlwps: 9,
                        lockedmem: 65536,
                        avenrun: [128, 64, 32],
                        nsec_user: 2_500_000_000,
                        forkfail_cap: 4,
                        links: vec![crate::kstat::link::LinkStat {
                            name: "eth0".into(),
                            rbytes64: 10_485_760,
                            obytes64: 2048,
                            ..Default::default()
                        }],
                        ..Kstat::default()
                    },
                    &["zone.max-processes=100"],
                ),
            ],
            ..Snapshot::default()
        })
    }

    #[test]
    fn output_parses_and_carries_every_metric_of_kstat_md() {
        let text = encode(&snapshot());
        let (types, samples) = parse_openmetrics(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        for (family, kind) in [
            ("zone_processes", "gauge"),
            ("zone_threads", "gauge"),
            ("zone_locked_memory_bytes", "gauge"),
            ("zone_swap_reserved_bytes", "gauge"),
            ("zone_load_average", "gauge"),
            ("zone_cpu_user_seconds", "counter"),
            ("zone_cpu_system_seconds", "counter"),
            ("zone_cpu_wait_seconds", "counter"),
            ("zone_fork_failures", "counter"),
            ("zone_limit", "gauge"),
            ("zone_state", "gauge"),
            ("zone_info", "gauge"),
        ] {
            assert_eq!(
                types.get(family).map(String::as_str),
                Some(kind),
                "{family}"
            );
        }
        // Every sample names its zone and id.
        for (name, l, _) in &samples {
            assert!(
                l.contains_key("zone") && l.contains_key("zoneid"),
                "{name} {l:?}"
            );
        }
        let find = |name: &str, extra: &[(&str, &str)]| {
            samples
                .iter()
                .find(|(n, l, _)| {
                    n == name
                        && l["zone"] == "web"
                        && l["zoneid"] == "3"
                        && extra
                            .iter()
                            .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
                })
                .map(|s| s.2)
        };
        assert_eq!(find("zone_processes", &[]), Some(5.0));
        assert_eq!(find("zone_locked_memory_bytes", &[]), Some(65536.0));
        assert_eq!(find("zone_load_average", &[("window", "1m")]), Some(0.5));
        assert_eq!(find("zone_load_average", &[("window", "15m")]), Some(0.125));
        assert_eq!(find("zone_cpu_user_seconds_total", &[]), Some(2.5));
        assert_eq!(
            find("zone_fork_failures_total", &[("reason", "cap")]),
            Some(4.0)
        );
        assert_eq!(
            find("zone_limit", &[("rctl", "zone.max-processes")]),
            Some(100.0)
        );
        assert_eq!(find("zone_limit", &[("rctl", "zone.max-swap")]), None);
        assert_eq!(find("zone_state", &[("state", "running")]), Some(1.0));
        assert_eq!(find("zone_state", &[("state", "down")]), Some(0.0));
        // Quotes in a label value are escaped and read back.
        assert_eq!(
            find(
                "zone_info",
                &[("root", "/zones/web \"q\""), ("brand", "sparse")]
            ),
            Some(1.0)
        );
    }

    #[test]
    fn each_interface_of_a_zone_has_its_network_counters() {
        let text = encode(&snapshot());
        parse_openmetrics(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        for line in [
            "# TYPE zone_network_receive_bytes counter",
            "zone_network_receive_bytes_total{zone=\"web\",zoneid=\"3\",interface=\"eth0\"} 10485760",
            "zone_network_transmit_bytes_total{zone=\"web\",zoneid=\"3\",interface=\"eth0\"} 2048",
            "zone_network_receive_packets_total{zone=\"web\",zoneid=\"3\",interface=\"eth0\"} 0",
            "zone_network_transmit_errors_total{zone=\"web\",zoneid=\"3\",interface=\"eth0\"} 0",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} not in\n{text}");
        }
        // The global zone has no link of its own here: no sample.
        assert!(!text.contains("zone_network_receive_bytes_total{zone=\"global\""));
    }

    #[test]
    fn the_checker_rejects_malformed_text() {
        assert!(
            parse_openmetrics("x 1\n# EOF\n").is_err(),
            "undeclared family"
        );
        assert!(
            parse_openmetrics("# TYPE x counter\nx 1\n# EOF\n").is_err(),
            "counter without _total"
        );
        assert!(
            parse_openmetrics("# TYPE x gauge\nx{a=b} 1\n# EOF\n").is_err(),
            "unquoted"
        );
        assert!(
            parse_openmetrics("# TYPE x gauge\nx 1\n").is_err(),
            "no EOF"
        );
        assert!(parse_openmetrics("# TYPE x gauge\nx{a=\"b\"} 1\n# EOF\n").is_ok());
    }

    #[test]
    fn a_registered_collector_reads_the_current_snapshot_per_scrape() {
        let current = Arc::new(std::sync::Mutex::new(snapshot()));
        let c2 = current.clone();
        let r = registry(move || c2.lock().unwrap().clone());
        let scrape = || {
            let mut s = String::new();
            prometheus_client::encoding::text::encode(&mut s, &r).unwrap();
            s
        };
        assert!(scrape().contains("zone_processes{zone=\"web\",zoneid=\"3\"} 5"));
        *current.lock().unwrap() = Arc::new(Snapshot::default());
        let empty = scrape();
        assert!(!empty.contains("zone=\"web\""), "{empty}");
        assert!(parse_openmetrics(&empty).is_ok());
    }

    async fn http_get(addr: std::net::SocketAddr, path: &str) -> (String, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut reply = String::new();
        s.read_to_string(&mut reply).await.unwrap();
        let (head, body) = reply.split_once("\r\n\r\n").unwrap();
        (head.to_string(), body.to_string())
    }

    #[tokio::test]
    async fn serves_metrics_over_http() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let snap = snapshot();
        let server = tokio::spawn(serve(listener, move || snap.clone()));
        let (head, body) = http_get(addr, "/metrics").await;
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        assert!(
            head.contains(&format!("Content-Type: {CONTENT_TYPE}")),
            "{head}"
        );
        assert!(
            head.contains(&format!("Content-Length: {}", body.len())),
            "{head}"
        );
        let (_, samples) = parse_openmetrics(&body).unwrap();
        assert!(
            samples
                .iter()
                .any(|(n, l, v)| n == "zone_processes" && l["zone"] == "web" && *v == 5.0)
        );
        let (head, _) = http_get(addr, "/").await;
        assert!(head.starts_with("HTTP/1.1 404"), "{head}");
        server.abort();
    }
}
