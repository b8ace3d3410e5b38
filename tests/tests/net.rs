//! Networking for real (network.md), on LANs the tests make on this
//! machine ([`zones_e2e::lan`]): nothing leaves it.
//!
//! * shared-IP: a zone with `ip4.addr = "LINK|10.A.B.5/24"` (and an IPv6
//!   address) reaches the peer and is reached by it at its address, sees
//!   only lo and its interface, cannot bind nor send from another address,
//!   reaches neither the host's loopback nor another zone's abstract
//!   socket; after halt the host's links, addresses, routes and neighbours
//!   are as before;
//! * exclusive-IP: two `vnet.bridge` zones on one bridge reach each other
//!   and the peer, the host end of each veth is in the bridge while the
//!   zone runs and gone after;
//! * a missing host link or bridge fails ready with nothing made; two live
//!   zones may not hold one address (the engine names both);
//! * link counters: 10 MiB sent from a zone show in its `link` kstats.

use std::process::Command;
use std::time::{Duration, Instant};
use zones::engine::Caller;
use zones::param::{Params, Value};
use zones_e2e::lan::{Lan, host_network, network_diff};
use zones_e2e::*;

fn s(v: &str) -> Value {
    Value::Str(v.into())
}
fn l(v: &[&str]) -> Value {
    Value::List(v.iter().map(|x| x.to_string()).collect())
}

/// A booted sparse zone whose init is `sleep`, with `params`.
fn sleeper(tag: &str, params: &[(&str, Value)]) -> TestZone {
    let mut z = TestZone::sparse(tag);
    z.set("initname", s("/bin/sleep"))
        .set("bootargs", s("100000"));
    for (k, v) in params {
        z.set(k, v.clone());
    }
    z.ready().expect("ready");
    z.boot().expect("boot");
    z
}

/// The zone's interfaces, as `ip -o link` shows them in the zone.
fn zone_links(z: &TestZone) -> Vec<String> {
    let o = z.run(&["/sbin/ip", "-o", "link", "show"]);
    assert_eq!(o.status, 0, "{o:?}");
    o.stdout
        .lines()
        .filter_map(|l| l.split(':').nth(1))
        .map(|n| n.trim().split('@').next().unwrap().to_string())
        .collect()
}

/// The zone's addresses (`ip -o addr`): (interface, address/prefix).
fn zone_addrs(z: &TestZone) -> Vec<(String, String)> {
    let o = z.run(&["/sbin/ip", "-o", "addr", "show"]);
    assert_eq!(o.status, 0, "{o:?}");
    o.stdout
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            Some((f.get(1)?.to_string(), f.get(3)?.to_string()))
        })
        .collect()
}

/// Wait until no IPv6 address of the zone is tentative (duplicate address
/// detection done): the zone's addresses get the kernel's usual DAD.
fn wait_dad(z: &TestZone) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let o = z.run(&["/sbin/ip", "-6", "addr", "show"]);
        if !o.stdout.contains("tentative") {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "DAD never finished: {}",
            o.stdout
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Connect from the zone to HOST:PORT (bash's /dev/tcp), optionally
/// sending `bytes` zero bytes.
fn zone_connect(z: &TestZone, host: &str, port: u16, bytes: u64) -> Output {
    let line = if bytes == 0 {
        format!("exec 3<>/dev/tcp/{host}/{port}")
    } else {
        format!("head -c {bytes} /dev/zero > /dev/tcp/{host}/{port}")
    };
    z.run(&["/bin/bash", "-c", &line])
}

/// What the peer's sink logged ("ADDR BYTES" lines).
fn sink_lines(log: &std::path::Path, want: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let v: Vec<String> = std::fs::read_to_string(log)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect();
        if v.len() >= want || Instant::now() > deadline {
            return v;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A perl one-liner run in the zone: binds a TCP socket to ADDR (with
/// IP_FREEBIND when asked), then connects to PEER:PORT. Exit 3: the bind
/// failed with EADDRNOTAVAIL; 4: the connect failed; 0: connected.
fn bind_from(z: &TestZone, addr: &str, freebind: bool, peer: &str, port: u16) -> Output {
    let script = format!(
        r#"use Socket qw(:all); use Errno;
socket(S, PF_INET, SOCK_STREAM, 0) or die "socket: $!";
{fb}
bind(S, pack_sockaddr_in(0, inet_aton("{addr}"))) or do {{ print "bind: $!\n"; exit($!{{EADDRNOTAVAIL}} ? 3 : 5) }};
connect(S, pack_sockaddr_in({port}, inet_aton("{peer}"))) or do {{ print "connect: $!\n"; exit 4 }};
exit 0"#,
        fb = if freebind {
            "setsockopt(S, IPPROTO_IP, 15, 1) or die \"IP_FREEBIND: $!\";"
        } else {
            ""
        }
    );
    z.run(&["/usr/bin/perl", "-e", &script])
}

#[test]
fn a_shared_ip_zone_holds_exactly_its_addresses_on_the_host_link() {
    let mut lan = Lan::new(false);
    let sink = lan.peer_sink(7001);
    let before = host_network();
    let (a4, a6) = (lan.addr4(5), lan.addr6(5));
    let mut z = sleeper(
        "netsh",
        &[
            ("ip4.addr", l(&[&format!("{}|{a4}/24", lan.host_if)])),
            ("ip6.addr", l(&[&format!("{}|{a6}/64", lan.host_if)])),
            ("zone.defrouter", l(&[&lan.addr4(1)])),
        ],
    );
    // Only lo and the zone's interface on the host link, named after it.
    assert_eq!(zone_links(&z), ["lo", lan.host_if.as_str()]);
    let addrs = zone_addrs(&z);
    let on_link: Vec<&str> = addrs
        .iter()
        .filter(|(i, _)| *i == lan.host_if)
        .map(|(_, a)| a.as_str())
        .filter(|a| !a.starts_with("fe80:"))
        .collect();
    assert_eq!(
        on_link,
        [format!("{a4}/24"), format!("{a6}/64")],
        "{addrs:?}"
    );
    assert!(
        addrs.iter().all(|(i, _)| i == "lo" || *i == lan.host_if),
        "{addrs:?}"
    );
    // The host's addresses are not the zone's.
    assert!(
        !addrs.iter().any(|(_, a)| a.starts_with("192.0.2.")),
        "{addrs:?}"
    );
    // The default route goes through the peer.
    let o = z.run(&["/sbin/ip", "route", "show", "default"]);
    assert!(o.stdout.contains(&format!("via {}", lan.addr4(1))), "{o:?}");
    // zone → peer, from the zone's address, both families.
    wait_dad(&z);
    assert_eq!(zone_connect(&z, &lan.addr4(1), 7001, 0).status, 0);
    assert_eq!(zone_connect(&z, &lan.addr6(1), 7001, 0).status, 0);
    let got = sink_lines(&sink, 2);
    assert_eq!(got, [format!("{a4} 0"), format!("{a6} 0")], "{got:?}");
    // peer → zone, at the zone's address: the zone listens on any address.
    let listen = z.run(&[
        "/bin/sh",
        "-c",
        "/usr/bin/perl -MSocket -e 'socket(S,PF_INET,SOCK_STREAM,0); \
         setsockopt(S,SOL_SOCKET,SO_REUSEADDR,1); bind(S,pack_sockaddr_in(7002,INADDR_ANY)) or die; \
         listen(S,5); open my $r, \">\", \"/tmp/listening\"; close $r; \
         while (accept(C,S)) { open my $f, \">>\", \"/tmp/got\"; print $f \"x\\n\"; close $f; close C }' \
         </dev/null >/dev/null 2>&1 &",
    ]);
    assert_eq!(listen.status, 0, "{listen:?}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !z.spec.root.join("tmp/listening").exists() {
        assert!(Instant::now() < deadline, "the zone never listened");
        std::thread::sleep(Duration::from_millis(20));
    }
    let o = lan.peer_run(&["bash", "-c", &format!("exec 3<>/dev/tcp/{a4}/7002")]);
    assert!(
        o.status.success(),
        "the peer could not reach the zone: {o:?}"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::fs::read_to_string(z.spec.root.join("tmp/got")).unwrap_or_default() != "x\n" {
        assert!(Instant::now() < deadline, "the zone's listener saw nothing");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Another address of the LAN: no bind; with IP_FREEBIND the bind
    // passes but nothing can be sent from it.
    let other = lan.addr4(9);
    let o = bind_from(&z, &other, false, &lan.addr4(1), 7001);
    assert_eq!(o.status, 3, "bound {other}: {o:?}");
    let o = bind_from(&z, &other, true, &lan.addr4(1), 7001);
    assert_eq!(o.status, 4, "connected from {other}: {o:?}");
    let o = bind_from(&z, "192.0.2.2", false, &lan.addr4(1), 7001);
    assert_eq!(o.status, 3, "bound a host address: {o:?}");
    // Its own address works the same way.
    assert_eq!(bind_from(&z, &a4, false, &lan.addr4(1), 7001).status, 0);
    let got = sink_lines(&sink, 3);
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(got.iter().all(|l| !l.starts_with(&other)), "{got:?}");
    let zsched = z.handle().zsched_pid;
    z.halt();
    // Nothing of the zone is left on the host.
    let mut ours = lan.names();
    ours.push(format!("vz{zsched}"));
    assert_network_back(&before, &ours);
}

#[test]
fn a_shared_ip_zone_reaches_neither_host_loopback_nor_another_zones_abstract_socket() {
    let lan = Lan::new(false);
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    tcp.set_nonblocking(true).unwrap();
    let port = tcp.local_addr().unwrap().port();
    let name = format!("zones-net-abs-{}", std::process::id());
    let link = |h: u8| l(&[&format!("{}|{}/24", lan.host_if, lan.addr4(h))]);
    let mut b = TestZone::sparse("netab");
    b.set("ip4.addr", link(6)).set(
        "command",
        l(&[
            "/usr/bin/perl",
            "-MSocket",
            "-e",
            &format!(
                "socket(U,PF_UNIX,SOCK_STREAM,0); bind(U,pack_sockaddr_un(\"\\0{name}\")) or die; \
                 listen(U,5); socket(T,PF_INET,SOCK_STREAM,0); setsockopt(T,SOL_SOCKET,SO_REUSEADDR,1); \
                 bind(T,pack_sockaddr_in(7003,INADDR_ANY)) or die; listen(T,5); \
                 open my $r, \">\", \"/tmp/listening\"; close $r; sleep 100000"
            ),
        ]),
    );
    b.ready().expect("ready b");
    b.boot().expect("boot b");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !b.spec.root.join("tmp/listening").exists() {
        assert!(Instant::now() < deadline, "zone b never listened");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut a = sleeper("netaa", &[("ip4.addr", link(5))]);
    // The two zones are on one link (macvlan bridge mode): a reaches b's
    // address...
    assert_eq!(zone_connect(&a, &lan.addr4(6), 7003, 0).status, 0);
    // ...but not the host's loopback, nor b's abstract socket.
    assert_ne!(zone_connect(&a, "127.0.0.1", port, 0).status, 0);
    assert!(tcp.accept().is_err(), "the host's loopback accepted zone a");
    let o = a.run(&[
        "/usr/bin/perl",
        "-MSocket",
        "-e",
        &format!(
            "socket(S,PF_UNIX,SOCK_STREAM,0) or exit 2; connect(S,pack_sockaddr_un(\"\\0{name}\")) or exit 1; exit 0"
        ),
    ]);
    assert_eq!(
        o.status, 1,
        "zone a reached zone b's abstract socket: {o:?}"
    );
    // b itself reaches it (the socket is there).
    let o = b.run(&[
        "/usr/bin/perl",
        "-MSocket",
        "-e",
        &format!(
            "socket(S,PF_UNIX,SOCK_STREAM,0) or exit 2; connect(S,pack_sockaddr_un(\"\\0{name}\")) or exit 1; exit 0"
        ),
    ]);
    assert_eq!(o.status, 0, "{o:?}");
    a.halt();
    b.halt();
}

#[test]
fn two_vnet_bridge_zones_reach_each_other_and_the_peer_and_leave_nothing() {
    let mut lan = Lan::new(true);
    let br = lan.bridge.clone().unwrap();
    let sink = lan.peer_sink(7011);
    let before = host_network();
    let zone = |tag: &str, h: u8| {
        let mut z = TestZone::sparse(tag);
        z.set("vnet", s("new"))
            .set("vnet.bridge", s(&br))
            .set("ip4.addr", l(&[&format!("{}/24", lan.addr4(h))]))
            .set("ip6.addr", l(&[&format!("{}/64", lan.addr6(h))]))
            .set("zone.defrouter", l(&[&lan.addr4(1)]))
            .set(
                "command",
                l(&[
                    "/usr/bin/perl",
                    "-MSocket",
                    "-e",
                    "socket(T,PF_INET,SOCK_STREAM,0); setsockopt(T,SOL_SOCKET,SO_REUSEADDR,1); \
                     bind(T,pack_sockaddr_in(7012,INADDR_ANY)) or die; listen(T,5); \
                     open my $r, \">\", \"/tmp/listening\"; close $r; \
                     while (accept(C,T)) { open my $f, \">>\", \"/tmp/got\"; print $f \"x\\n\"; close $f; close C }",
                ]),
            );
        z.ready().expect("ready");
        z.boot().expect("boot");
        z
    };
    let mut x = zone("netbx", 5);
    let mut y = zone("netby", 6);
    for z in [&x, &y] {
        assert_eq!(zone_links(z), ["lo", "eth0"]);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !z.spec.root.join("tmp/listening").exists() {
            assert!(Instant::now() < deadline, "a zone never listened");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    // Each veth's host end is a port of the bridge while the zone runs.
    let ends: Vec<String> = [&x, &y]
        .iter()
        .map(|z| format!("vz{}", z.handle().zsched_pid))
        .collect();
    let o = Command::new("ip")
        .args(["-o", "link", "show", "master", &br])
        .output()
        .unwrap();
    let ports = String::from_utf8_lossy(&o.stdout).to_string();
    for e in &ends {
        assert!(ports.contains(&format!("{e}@")), "{e} not in {br}: {ports}");
    }
    // x → y, y → x, both → the peer, v4 and v6.
    assert_eq!(zone_connect(&x, &lan.addr4(6), 7012, 0).status, 0);
    assert_eq!(zone_connect(&y, &lan.addr4(5), 7012, 0).status, 0);
    assert_eq!(zone_connect(&x, &lan.addr4(1), 7011, 0).status, 0);
    assert_eq!(zone_connect(&y, &lan.addr4(1), 7011, 0).status, 0);
    wait_dad(&x);
    wait_dad(&y);
    assert_eq!(zone_connect(&x, &lan.addr6(1), 7011, 0).status, 0);
    let got = sink_lines(&sink, 3);
    assert_eq!(
        got,
        [
            format!("{} 0", lan.addr4(5)),
            format!("{} 0", lan.addr4(6)),
            format!("{} 0", lan.addr6(5)),
        ]
    );
    for (z, n) in [(&x, "x\n"), (&y, "x\n")] {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !std::fs::read_to_string(z.spec.root.join("tmp/got"))
            .unwrap_or_default()
            .starts_with(n)
        {
            assert!(Instant::now() < deadline, "a zone's listener saw nothing");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    // The peer reaches a zone at its address.
    let o = lan.peer_run(&[
        "bash",
        "-c",
        &format!("exec 3<>/dev/tcp/{}/7012", lan.addr4(5)),
    ]);
    assert!(o.status.success(), "{o:?}");
    x.halt();
    y.halt();
    let mut ours = lan.names();
    ours.extend(ends.iter().cloned());
    assert_network_back(&before, &ours);
}

/// The host's network is back as `before` (for the lines of `ours`): the
/// kernel removes a dead namespace's links from a work queue, moments
/// after its last process is gone, so this waits up to 5 s.
fn assert_network_back(before: &[String], ours: &[String]) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let d = network_diff(before, &host_network(), ours);
        if d.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the host's network changed:\n{}",
            d.join("\n")
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_missing_host_link_or_bridge_fails_ready_with_nothing_made() {
    let before = host_network();
    let missing = format!("zq{}", std::process::id() % 100_000);
    for (tag, params) in [
        (
            "netmiss",
            vec![("ip4.addr", l(&[&format!("{missing}|10.9.9.5/24")]))],
        ),
        (
            "netmissb",
            vec![("vnet", s("new")), ("vnet.bridge", s(&missing))],
        ),
        // An address with no interface at all.
        ("netnoif", vec![("ip4.addr", l(&["10.9.9.5/24"]))]),
    ] {
        let mut z = TestZone::sparse(tag);
        for (k, v) in params {
            z.set(k, v);
        }
        let e = z.ready().unwrap_err();
        assert_eq!(e.step, "net", "{e}");
        if tag == "netnoif" {
            assert!(
                e.message.contains("ip4.addr") && e.message.contains("no interface"),
                "{e}"
            );
        } else {
            assert!(e.message.contains(&missing), "{e}");
            assert_eq!(e.errno, Some(libc::ENODEV), "{e}");
        }
        let left = zones_e2e::run_dir_left(z.rt.run_dir());
        assert!(left.is_empty(), "{left:?}");
    }
    let after = host_network();
    let d = network_diff(
        &before,
        &after,
        &[missing.clone(), "10.9.9.".into(), "vz".into()],
    );
    assert!(d.is_empty(), "{}", d.join("\n"));
}

#[test]
fn two_live_zones_may_not_hold_one_address_and_the_engine_names_both() {
    let lan = Lan::new(false);
    let z = TestZone::sparse("netdup");
    let rt = tokio();
    rt.block_on(async {
        let engine = z.engine();
        let params = |suffix: &str, h: u8| {
            let mut p = Params::new();
            p.insert("name", Value::Str(format!("{}-{suffix}", z.spec.name)));
            p.insert("path", Value::Str(z.spec.root.display().to_string()));
            p.insert("brand", Value::Str("sparse".into()));
            p.insert(
                "ip4.addr",
                l(&[&format!("{}|{}/24", lan.host_if, lan.addr4(h))]),
            );
            p
        };
        let first = engine
            .create(&Caller::ROOT, params("one", 5))
            .await
            .expect("create one");
        let e = engine
            .create(&Caller::ROOT, params("two", 5))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(&format!("{}-two", z.spec.name))
                && e.contains(&format!("{}-one", z.spec.name))
                && e.contains(&lan.addr4(5)),
            "{e}"
        );
        // Another address is fine, and once the first is gone so is its.
        let third = engine
            .create(&Caller::ROOT, params("three", 6))
            .await
            .expect("create three");
        engine.halt(&Caller::ROOT, first).await.expect("halt");
        let again = engine
            .create(&Caller::ROOT, params("two", 5))
            .await
            .expect("create two after one is gone");
        for id in [third, again] {
            engine.halt(&Caller::ROOT, id).await.expect("halt");
        }
    });
}

#[test]
fn ten_mib_sent_from_a_zone_show_in_its_link_kstats_and_metrics_only() {
    const TEN_MIB: u64 = 10 * 1024 * 1024;
    let mut lan = Lan::new(false);
    let sink = lan.peer_sink(7021);
    let z = TestZone::sparse("netctr");
    let rt = tokio();
    rt.block_on(async {
        let engine = z.engine();
        engine.start_sampler();
        let make = |suffix: &str, h: u8, command: &str| {
            let mut p = Params::new();
            p.insert("name", Value::Str(format!("{}-{suffix}", z.spec.name)));
            p.insert("path", Value::Str(z.spec.root.display().to_string()));
            p.insert("brand", Value::Str("sparse".into()));
            p.insert(
                "ip4.addr",
                l(&[&format!("{}|{}/24", lan.host_if, lan.addr4(h))]),
            );
            p.insert("command", l(&["/bin/bash", "-c", command]));
            p
        };
        let quiet = engine
            .create(&Caller::ROOT, make("quiet", 6, "exec sleep 100000"))
            .await
            .expect("create quiet");
        engine.boot(&Caller::ROOT, quiet).await.expect("boot quiet");
        // The sender waits for the go file, so that a sample before the
        // transfer exists.
        let go = z.spec.root.join("tmp/go-netctr");
        let _ = std::fs::remove_file(&go);
        let sender = engine
            .create(
                &Caller::ROOT,
                make(
                    "send",
                    5,
                    &format!(
                        "while [ ! -e /tmp/go-netctr ]; do sleep 0.1; done; \
                         head -c {TEN_MIB} /dev/zero > /dev/tcp/{}/7021; exec sleep 100000",
                        lan.addr4(1)
                    ),
                ),
            )
            .await
            .expect("create sender");
        engine
            .boot(&Caller::ROOT, sender)
            .await
            .expect("boot sender");
        let link_of = |id| {
            let snap = engine.snapshot();
            let z = snap.zones.iter().find(|s| s.id == id).cloned().unwrap();
            z.kstat
                .links
                .iter()
                .find(|l| l.name == lan.host_if)
                .cloned()
        };
        // Wait for a first sample of both.
        let deadline = Instant::now() + Duration::from_secs(10);
        let (before, quiet_before) = loop {
            if let (Some(a), Some(b)) = (link_of(sender), link_of(quiet)) {
                break (a, b);
            }
            assert!(Instant::now() < deadline, "no link kstats sampled");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        std::fs::write(&go, "").unwrap();
        let got = sink_lines(&sink, 1);
        assert_eq!(got, [format!("{} {TEN_MIB}", lan.addr4(5))]);
        let deadline = Instant::now() + Duration::from_secs(10);
        let (after, at) = loop {
            let snap = engine.snapshot();
            let a = snap
                .zones
                .iter()
                .find(|s| s.id == sender)
                .and_then(|z| z.kstat.links.iter().find(|l| l.name == lan.host_if))
                .cloned()
                .unwrap();
            if a.obytes64 >= before.obytes64 + TEN_MIB {
                break (a, snap);
            }
            assert!(
                Instant::now() < deadline,
                "obytes64 {} → {}",
                before.obytes64,
                a.obytes64
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        assert!(after.opackets64 > before.opackets64 + 100, "{after:?}");
        // The acknowledgements came back: received bytes and packets grew.
        assert!(after.ipackets64 > before.ipackets64, "{after:?}");
        assert!(after.rbytes64 > before.rbytes64, "{after:?}");
        // ztop's NET column: the sample that saw the bytes go shows a rate.
        let rows = ztop::model::rows(&at);
        let row = rows
            .iter()
            .find(|r| r.id == Some(sender.0))
            .expect("the sender's row");
        assert!(row.net_tx > 0, "{row:?}");
        let (cell, _) = row.cell(ztop::model::Column::Net);
        assert_ne!(cell, "0/0", "{row:?}");
        // The quiet zone on the same host link saw none of it.
        let q = link_of(quiet).unwrap();
        assert!(
            q.obytes64 - quiet_before.obytes64 < TEN_MIB / 10
                && q.rbytes64 - quiet_before.rbytes64 < TEN_MIB / 10,
            "{quiet_before:?} → {q:?}"
        );
        // kstat, /metrics and zonefs show the same counters.
        let snap = engine.snapshot();
        let ks = zones_linux::kstat::format::kstats(&snap);
        let k = ks
            .iter()
            .find(|k| k.module == "link" && k.instance == sender.0 && k.name == lan.host_if)
            .expect("link kstat");
        assert_eq!(k.class, "net");
        assert!(k.stats.iter().any(|(n, v)| *n == "zonename"
            && *v == zones_linux::kstat::format::Value::Str(format!("{}-send", z.spec.name))));
        let text = zones_linux::kstat::metrics::encode(&snap);
        let series = format!(
            "zone_network_transmit_bytes_total{{zone=\"{}-send\",zoneid=\"{}\",interface=\"{}\"}} ",
            z.spec.name, sender.0, lan.host_if
        );
        let line = text
            .lines()
            .find(|l| l.starts_with(&series))
            .unwrap_or_else(|| panic!("{series} not in\n{text}"));
        let v: u64 = line[series.len()..].trim().parse().unwrap();
        assert!(v >= before.obytes64 + TEN_MIB, "{line}");
        assert!(text.contains("zone_network_receive_bytes_total{"), "{text}");
        let zs = snap.zones.iter().find(|s| s.id == sender).unwrap();
        let r = zonefs::render::zone(zs, snap.hrtime);
        let link_dir = r
            .nodes
            .iter()
            .find(|n| n.name == lan.host_if.as_str())
            .expect("kstat/link/IFNAME");
        let obytes = r
            .nodes
            .iter()
            .find(|n| n.parent == link_dir.idx && n.name == "obytes64")
            .unwrap();
        let shown: u64 = String::from_utf8_lossy(obytes.bytes().unwrap())
            .trim()
            .parse()
            .unwrap();
        assert!(shown >= before.obytes64 + TEN_MIB);
        for id in [sender, quiet] {
            engine.halt(&Caller::ROOT, id).await.expect("halt");
        }
    });
}

#[test]
fn the_demo_web_zone_serves_http_at_its_own_address_on_the_demos_bridge() {
    let before = host_network();
    let z = TestZone::sparse("netdemo");
    let conf = ztop::source::demo_config(&z.tmp.path().join("demo")).expect("demo config");
    let web = conf
        .jails
        .iter()
        .find(|j| j.name == "web")
        .expect("the demo has a web zone");
    let bridge = web.params.str("vnet.bridge").expect("web is on a bridge");
    let addr = zones_linux::runtime::netcfg::ZoneAddr::parse(&web.params.list("ip4.addr")[0])
        .unwrap()
        .addr;
    let made = ztop::source::demo_bridges(&conf).expect("demo bridges");
    assert_eq!(made, [bridge], "the demo's bridge was already there");
    struct Remove(String);
    impl Drop for Remove {
        fn drop(&mut self) {
            let _ = zones_linux::runtime::linux::vnet::remove_host_bridge(&self.0);
        }
    }
    let _bridge = Remove(bridge.to_string());
    let rt = tokio();
    let mut ends = Vec::new();
    rt.block_on(async {
        let engine = z.engine();
        let mut p = web.params.clone();
        p.insert("name", Value::Str(format!("{}-web", z.spec.name)));
        p.insert("path", Value::Str(z.spec.root.display().to_string()));
        let id = engine.create(&Caller::ROOT, p).await.expect("create web");
        engine.boot(&Caller::ROOT, id).await.expect("boot web");
        let zs = engine.snapshot();
        ends.push(format!(
            "vz{}",
            zs.zones.iter().find(|s| s.id == id).unwrap().zsched_pid
        ));
        // The host reaches the zone's http server at the zone's address.
        let deadline = Instant::now() + Duration::from_secs(15);
        let body = loop {
            let o = Command::new("curl")
                .args(["-sS", "--max-time", "2", &format!("http://{addr}/")])
                .output()
                .expect("curl");
            if o.status.success() {
                break String::from_utf8_lossy(&o.stdout).to_string();
            }
            assert!(
                Instant::now() < deadline,
                "no answer from http://{addr}/: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        assert_eq!(body, "hello from web.demo\n");
        engine.halt(&Caller::ROOT, id).await.expect("halt web");
    });
    zones_linux::runtime::linux::vnet::remove_host_bridge(bridge).expect("remove the bridge");
    let mut ours = vec![bridge.to_string(), addr.to_string()];
    ours.extend(ends);
    assert_network_back(&before, &ours);
}

#[test]
fn an_engine_that_adopts_a_running_zone_finds_its_network_as_it_was() {
    let mut lan = Lan::new(false);
    let sink = lan.peer_sink(7031);
    let z = sleeper(
        "netadopt",
        &[(
            "ip4.addr",
            l(&[&format!("{}|{}/24", lan.host_if, lan.addr4(5))]),
        )],
    );
    let links = zone_links(&z);
    let addrs = zone_addrs(&z);
    // What a new engine does after `kill -9` of the old one: a new runtime
    // on the same run directory and cgroup root adopts the zone by its
    // handle; nothing of the network is made again.
    let rt2 = z.new_runtime();
    let adopted = zones_linux::runtime::Runtime::adopt(&rt2, &z.spec, z.handle());
    assert!(
        matches!(adopted, zones_linux::runtime::Adopted::Alive { .. }),
        "{adopted:?}"
    );
    assert_eq!(zone_links(&z), links);
    assert_eq!(zone_addrs(&z), addrs);
    assert_eq!(zone_connect(&z, &lan.addr4(1), 7031, 0).status, 0);
    assert_eq!(sink_lines(&sink, 1), [format!("{} 0", lan.addr4(5))]);
}

#[test]
fn ip6_disable_leaves_a_zone_no_ipv6_address_at_all() {
    let mut lan = Lan::new(false);
    let sink = lan.peer_sink(7041);
    let z = sleeper(
        "netno6",
        &[
            ("ip6", s("disable")),
            (
                "ip4.addr",
                l(&[&format!("{}|{}/24", lan.host_if, lan.addr4(5))]),
            ),
        ],
    );
    let addrs = zone_addrs(&z);
    assert!(
        addrs.iter().all(|(_, a)| !a.contains(':')),
        "IPv6 addresses in an ip6 = disable zone: {addrs:?}"
    );
    assert!(addrs.contains(&(lan.host_if.clone(), format!("{}/24", lan.addr4(5)))));
    let o = z.run(&["/bin/cat", "/proc/sys/net/ipv6/conf/all/disable_ipv6"]);
    assert_eq!(o.stdout.trim(), "1", "{o:?}");
    // IPv4 works.
    assert_eq!(zone_connect(&z, &lan.addr4(1), 7041, 0).status, 0);
    assert_eq!(sink_lines(&sink, 1).len(), 1);
    // And ip4 = disable with an IPv4 address is refused, naming both.
    let mut bad = TestZone::sparse("netno4");
    bad.set("ip4", s("disable")).set(
        "ip4.addr",
        l(&[&format!("{}|{}/24", lan.host_if, lan.addr4(6))]),
    );
    let e = bad.ready().unwrap_err();
    assert!(
        e.message.contains("ip4.addr") && e.message.contains("ip4 = disable"),
        "{e}"
    );
}

#[test]
fn a_nested_zone_gets_its_links_on_its_parents() {
    let mut lan = Lan::new(false);
    let sink = lan.peer_sink(7051);
    let parent = sleeper(
        "netnp",
        &[(
            "ip4.addr",
            l(&[&format!("{}|{}/24", lan.host_if, lan.addr4(5))]),
        )],
    );
    let mut child = TestZone::with_root(
        "netnc",
        zones::zone::Brand::Sparse,
        Some(parent.spec.root.join("netnc")),
    );
    zones_linux::runtime::linux::install::sparse(&child.spec.root, "netnc").unwrap();
    child.spec.name = zones::zone::ZoneName::new(&format!("{}.netnc", parent.spec.name)).unwrap();
    child.spec.parent = Some(parent.handle().clone());
    // The parent's interface is named after the host link: the child's
    // "host link" is that interface of the parent's namespace.
    child
        .set(
            "ip4.addr",
            l(&[&format!("{}|{}/24", lan.host_if, lan.addr4(7))]),
        )
        .set("initname", s("/bin/sleep"))
        .set("bootargs", s("100000"));
    child.ready().expect("child ready");
    child.boot().expect("child boot");
    assert_eq!(zone_links(&child), ["lo", lan.host_if.as_str()]);
    assert_eq!(zone_connect(&child, &lan.addr4(1), 7051, 0).status, 0);
    assert_eq!(sink_lines(&sink, 1), [format!("{} 0", lan.addr4(7))]);
    // The parent still has exactly its own interface and address.
    assert_eq!(zone_links(&parent), ["lo", lan.host_if.as_str()]);
    child.halt();
}
