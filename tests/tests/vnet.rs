//! A zone's network (network.md).
//!
//! * The default: a network namespace of the zone's own, loopback only. A
//!   default zone cannot connect to a host loopback TCP listener nor to a
//!   host abstract Unix socket (the listener accepts nothing), its
//!   /proc/net/unix shows none of the host's sockets, and two default zones
//!   cannot reach each other's loopback listeners (the listener's marker is
//!   not written). `ip4 = inherit` shares the host's stack, and says so
//!   (`inherit` in zoneadm's IP column and zone_getattr `network`) and
//!   sees the host's interfaces. More models on LANs of their own: net.rs.
//! * `vnet = new` with `vnet.interface`: the runtime moves host interfaces
//!   into the zone's own network namespace before init runs, and an unknown
//!   interface fails ready with nothing moved and nothing left.

use std::io::ErrorKind;
use std::net::TcpListener;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixListener};
use std::process::Command;
use std::time::{Duration, Instant};
use zones::engine::Caller;
use zones::param::{Params, Value};
use zones_e2e::*;
use zones_tools::tool::zoneadm::{ListFlags, ZoneList, list};

/// A veth pair on the host, deleted on drop (if still there).
struct Veth(String, String);

impl Veth {
    fn new(tag: &str) -> Veth {
        let n = std::process::id() % 100_000;
        let v = Veth(format!("{tag}{n}a"), format!("{tag}{n}b"));
        let ok = Command::new("ip")
            .args(["link", "add", &v.0, "type", "veth", "peer", "name", &v.1])
            .status()
            .expect("ip link add");
        assert!(ok.success(), "ip link add {} failed", v.0);
        v
    }
}

impl Drop for Veth {
    fn drop(&mut self) {
        for i in [&self.0, &self.1] {
            let _ = Command::new("ip").args(["link", "del", i]).output();
        }
    }
}

fn on_host(iface: &str) -> bool {
    Command::new("ip")
        .args(["link", "show", iface])
        .output()
        .expect("ip link show")
        .status
        .success()
}

#[test]
fn a_vnet_interface_is_in_the_zone_before_init_and_goes_with_its_namespace() {
    let veth = Veth::new("zv");
    let mut z = TestZone::sparse("vnet");
    z.set("vnet", Value::Str("new".into()))
        .set("vnet.interface", Value::List(vec![veth.0.clone()]))
        // init records what it saw at its start.
        .set(
            "command",
            Value::List(vec![
                "/bin/sh".into(),
                "-c".into(),
                "cat /proc/net/dev > /tmp/at-init; exec sleep 1000".into(),
            ]),
        );
    z.ready().expect("ready");
    assert!(!on_host(&veth.0), "{} is still on the host", veth.0);
    z.boot().expect("boot");
    let o = z.run(&["/bin/cat", "/proc/net/dev"]);
    assert_eq!(o.status, 0, "{o:?}");
    assert!(o.stdout.contains(&format!("{}:", veth.0)), "{}", o.stdout);
    assert!(o.stdout.contains("lo:"), "{}", o.stdout);
    assert!(!o.stdout.contains(&format!("{}:", veth.1)), "{}", o.stdout);
    // Seen by init itself, not only later.
    let mut seen = String::new();
    for _ in 0..100 {
        seen = std::fs::read_to_string(z.spec.root.join("tmp/at-init")).unwrap_or_default();
        if !seen.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(seen.contains(&format!("{}:", veth.0)), "init saw {seen:?}");
    // lo is up in the zone.
    let o = z.run(&["/bin/cat", "/sys/class/net/lo/operstate"]);
    assert_ne!(o.stdout.trim(), "down", "{o:?}");
    assert!(
        on_host(&veth.1),
        "the host keeps the peer while the zone runs"
    );
    z.halt();
    // The namespace ended: a virtual interface is deleted with it (and its
    // peer with it), as `ip netns del` does.
    let mut gone = false;
    for _ in 0..100 {
        if !on_host(&veth.1) {
            gone = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(gone, "the veth pair outlived the zone's namespace");
}

#[test]
fn an_unknown_interface_fails_ready_naming_it_and_moves_nothing() {
    let veth = Veth::new("zw");
    let mut z = TestZone::sparse("vnetbad");
    let missing = format!("zx{}", std::process::id() % 100_000);
    z.set("vnet", Value::Str("new".into())).set(
        "vnet.interface",
        Value::List(vec![veth.0.clone(), missing.clone()]),
    );
    let e = z.ready().unwrap_err();
    assert_eq!(e.step, "vnet", "{e}");
    assert!(e.message.contains(&missing), "{e}");
    assert_eq!(e.errno, Some(libc::ENODEV), "{e}");
    assert!(on_host(&veth.0), "{} was moved by a failed ready", veth.0);
    for d in z.cgroup_roots() {
        let kids: Vec<_> = std::fs::read_dir(&d)
            .map(|rd| rd.flatten().filter(|e| e.path().is_dir()).collect())
            .unwrap_or_default();
        assert!(kids.is_empty(), "cgroups left: {kids:?}");
    }
    let left = zones_e2e::run_dir_left(z.rt.run_dir());
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn vnet_interface_without_vnet_new_is_refused() {
    let mut z = TestZone::sparse("vnetinh");
    z.set("vnet.interface", Value::List(vec!["lo".into()]));
    let e = z.ready().unwrap_err();
    assert!(e.message.contains("needs vnet = new"), "{e}");
}

// ---- the default: a network of the zone's own ---------------------------

/// What the host offers on its loopback: a TCP listener, an abstract Unix
/// socket and a path Unix socket, all non-blocking so that "nothing
/// connected" is an accept that would block.
struct HostServices {
    tcp: TcpListener,
    port: u16,
    abs: UnixListener,
    abs_name: String,
    _path: UnixListener,
    path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl HostServices {
    fn new() -> HostServices {
        let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
        tcp.set_nonblocking(true).unwrap();
        let port = tcp.local_addr().unwrap().port();
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let abs_name = format!("zones-netdef-{}-{n}", std::process::id());
        let abs =
            UnixListener::bind_addr(&SocketAddr::from_abstract_name(abs_name.as_bytes()).unwrap())
                .unwrap();
        abs.set_nonblocking(true).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("host-service.sock");
        let p = UnixListener::bind(&path).unwrap();
        HostServices {
            tcp,
            port,
            abs,
            abs_name,
            _path: p,
            path,
            _dir: dir,
        }
    }

    fn tcp_accepted(&self) -> bool {
        match self.tcp.accept() {
            Ok(_) => true,
            Err(e) if e.kind() == ErrorKind::WouldBlock => false,
            Err(e) => panic!("accept: {e}"),
        }
    }

    fn abs_accepted(&self) -> bool {
        match self.abs.accept() {
            Ok(_) => true,
            Err(e) if e.kind() == ErrorKind::WouldBlock => false,
            Err(e) => panic!("accept: {e}"),
        }
    }
}

/// Connect to 127.0.0.1:PORT from inside the zone (bash's /dev/tcp).
fn zone_tcp_connect(z: &TestZone, port: u16) -> Output {
    z.run(&[
        "/bin/bash",
        "-c",
        &format!("exec 3<>/dev/tcp/127.0.0.1/{port}"),
    ])
}

/// Connect to the abstract Unix socket NAME from inside the zone.
fn zone_abs_connect(z: &TestZone, name: &str) -> Output {
    z.run(&[
        "/usr/bin/perl",
        "-MSocket",
        "-e",
        &format!(
            "socket(S, PF_UNIX, SOCK_STREAM, 0) or exit 2; \
             connect(S, pack_sockaddr_un(\"\\0{name}\")) or exit 1; exit 0"
        ),
    ])
}

fn booted_sleeper(tag: &str, params: &[(&str, Value)]) -> TestZone {
    let mut z = TestZone::sparse(tag);
    z.set("initname", Value::Str("/bin/sleep".into()))
        .set("bootargs", Value::Str("1000".into()));
    for (k, v) in params {
        z.set(k, v.clone());
    }
    z.ready().expect("ready");
    z.boot().expect("boot");
    z
}

#[test]
fn a_default_zone_reaches_none_of_the_hosts_loopback_services() {
    let host = HostServices::new();
    let mut z = booted_sleeper("netdef", &[]);
    // The zone's own loopback is up.
    let o = z.run(&["/bin/cat", "/sys/class/net/lo/operstate"]);
    assert_eq!(o.status, 0, "{o:?}");
    assert_ne!(o.stdout.trim(), "down", "{o:?}");
    let o = z.run(&["/bin/cat", "/proc/net/dev"]);
    let ifaces = net_dev_names(&o.stdout);
    assert_eq!(ifaces, ["lo"], "{}", o.stdout);
    // TCP on the host's loopback.
    let o = zone_tcp_connect(&z, host.port);
    assert_ne!(
        o.status, 0,
        "connected to the host's 127.0.0.1:{}: {o:?}",
        host.port
    );
    assert!(!host.tcp_accepted(), "the host's listener accepted a zone");
    // The host's abstract Unix socket.
    let o = zone_abs_connect(&z, &host.abs_name);
    assert_eq!(o.status, 1, "{o:?}");
    assert!(
        !host.abs_accepted(),
        "the host's abstract socket accepted a zone"
    );
    // /proc/net/unix shows the zone's sockets only.
    let o = z.run(&["/bin/cat", "/proc/net/unix"]);
    assert_eq!(o.status, 0, "{o:?}");
    assert!(!o.stdout.contains(&host.abs_name), "{}", o.stdout);
    assert!(
        !o.stdout.contains(&*host.path.to_string_lossy()),
        "{}",
        o.stdout
    );
    z.halt();
}

#[test]
fn an_inherit_zone_shares_the_hosts_network_and_says_so() {
    let host = HostServices::new();
    let mut z = booted_sleeper("netinh", &[("ip4", Value::Str("inherit".into()))]);
    // It sees the host's interfaces (eth0 and the rest), not lo alone.
    let names = |dev: &str| -> Vec<String> {
        let mut v = net_dev_names(dev);
        v.sort();
        v
    };
    // The host is read before and after the zone, so that a link counted
    // as stable existed all through the zone's read.
    let host_ifs = names(&std::fs::read_to_string("/proc/net/dev").unwrap());
    let o = z.run(&["/bin/cat", "/proc/net/dev"]);
    assert_eq!(o.status, 0, "{o:?}");
    let seen = names(&o.stdout);
    assert!(seen.len() > 1, "{seen:?}");
    // Other tests make and remove links meanwhile: the host's stable ones
    // (those of the host at both reads) are what must be seen.
    let again = names(&std::fs::read_to_string("/proc/net/dev").unwrap());
    for n in host_ifs.iter().filter(|n| again.contains(n)) {
        assert!(seen.contains(n), "{n} missing from the zone's {seen:?}");
    }
    let o = zone_tcp_connect(&z, host.port);
    assert_eq!(o.status, 0, "{o:?}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !host.tcp_accepted() {
        assert!(
            Instant::now() < deadline,
            "the host never saw the zone connect"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let o = zone_abs_connect(&z, &host.abs_name);
    assert_eq!(o.status, 0, "{o:?}");
    let o = z.run(&["/bin/cat", "/proc/net/unix"]);
    assert!(o.stdout.contains(&host.abs_name), "{}", o.stdout);
    z.halt();
}

/// The zone's listeners (TCP 127.0.0.1:PORT and the abstract socket
/// NAME) append a line to /tmp/got for every connection they accept.
fn listener_script(port: u16, name: &str) -> String {
    format!(
        r#"use Socket;
my $log = sub {{ open my $f, ">>", "/tmp/got"; print $f "$_[0]\n"; close $f }};
socket(T, PF_INET, SOCK_STREAM, 0) or die "socket: $!";
setsockopt(T, SOL_SOCKET, SO_REUSEADDR, 1);
bind(T, pack_sockaddr_in({port}, inet_aton("127.0.0.1"))) or die "bind: $!";
listen(T, 16) or die "listen: $!";
socket(U, PF_UNIX, SOCK_STREAM, 0) or die "socket: $!";
bind(U, pack_sockaddr_un("\0{name}")) or die "bind: $!";
listen(U, 16) or die "listen: $!";
open my $r, ">", "/tmp/listening"; close $r;
if (fork) {{ while (accept(C, T)) {{ $log->("tcp"); close C }} }}
else {{ while (accept(C, U)) {{ $log->("unix"); close C }} }}
"#
    )
}

#[test]
fn two_default_zones_cannot_reach_each_others_loopback() {
    let port = 20000 + (std::process::id() % 20000) as u16;
    let name = format!("zones-peer-{}", std::process::id());
    let mut a = TestZone::sparse("netpa");
    a.set(
        "command",
        Value::List(vec![
            "/usr/bin/perl".into(),
            "-e".into(),
            listener_script(port, &name),
        ]),
    );
    a.ready().expect("ready a");
    a.boot().expect("boot a");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !a.spec.root.join("tmp/listening").exists() {
        assert!(Instant::now() < deadline, "zone a never listened");
        std::thread::sleep(Duration::from_millis(20));
    }
    let got =
        |z: &TestZone| std::fs::read_to_string(z.spec.root.join("tmp/got")).unwrap_or_default();
    // Zone a reaches its own listeners: they work.
    assert_eq!(zone_tcp_connect(&a, port).status, 0);
    assert_eq!(zone_abs_connect(&a, &name).status, 0);
    let deadline = Instant::now() + Duration::from_secs(5);
    while got(&a).lines().count() < 2 {
        assert!(
            Instant::now() < deadline,
            "a's listeners logged {:?}",
            got(&a)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut b = booted_sleeper("netpb", &[]);
    let o = zone_tcp_connect(&b, port);
    assert_ne!(
        o.status, 0,
        "zone b reached zone a's 127.0.0.1:{port}: {o:?}"
    );
    let o = zone_abs_connect(&b, &name);
    assert_eq!(
        o.status, 1,
        "zone b reached zone a's abstract socket: {o:?}"
    );
    // Nor does the host reach them (a's loopback is a's alone).
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err() || {
            // Something of the host's own may listen on that port: then it is
            // not a's, whose log must not grow.
            std::thread::sleep(Duration::from_millis(200));
            got(&a).lines().count() == 2
        }
    );
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(got(&a).lines().count(), 2, "a's log: {:?}", got(&a));
    b.halt();
    a.halt();
}

#[test]
fn zoneadm_and_getattr_show_the_network_each_zone_gets() {
    let z = TestZone::sparse("netshow");
    let rt = tokio();
    rt.block_on(async {
        let engine = z.engine();
        let mut ids = Vec::new();
        for (suffix, extra) in [("own", None), ("inh", Some("inherit"))] {
            let mut p = Params::new();
            p.insert("name", Value::Str(format!("{}-{suffix}", z.spec.name)));
            p.insert("path", Value::Str(z.spec.root.display().to_string()));
            p.insert("brand", Value::Str("sparse".into()));
            if let Some(v) = extra {
                p.insert("ip4", Value::Str(v.into()));
            }
            ids.push(engine.create(&Caller::ROOT, p).await.expect("create"));
        }
        let text = list(
            &ZoneList::of(&engine.snapshot()),
            ListFlags {
                installed: true,
                verbose: true,
                ..Default::default()
            },
        );
        let ip_of = |suffix: &str| {
            text.lines()
                .find(|l| l.contains(&format!("{}-{suffix}", z.spec.name)))
                .and_then(|l| l.split_whitespace().last())
                .unwrap_or_default()
                .to_string()
        };
        assert_eq!(ip_of("own"), "shared", "{text}");
        assert_eq!(ip_of("inh"), "inherit", "{text}");
        assert_eq!(
            engine.getattr(&Caller::ROOT, ids[1], "network").unwrap(),
            Value::Str("inherit".into())
        );
        // And the kernel agrees: the inherit zone's zsched is in the
        // host's network namespace, the other one is not.
        let host_ns = std::fs::read_link("/proc/self/ns/net").unwrap();
        for (id, shares) in [(ids[0], false), (ids[1], true)] {
            let pid = engine
                .snapshot()
                .zones
                .iter()
                .find(|s| s.id == id)
                .unwrap()
                .zsched_pid;
            let ns = std::fs::read_link(format!("/proc/{pid}/ns/net")).unwrap();
            assert_eq!(ns == host_ns, shares, "zone {id}");
        }
        for id in ids {
            engine.halt(&Caller::ROOT, id).await.expect("halt");
        }
    });
}

fn net_ns(pid: u32) -> std::path::PathBuf {
    std::fs::read_link(format!("/proc/{pid}/ns/net")).unwrap()
}

#[test]
fn a_nested_zone_that_inherits_gets_its_parents_network_not_the_hosts() {
    let parent = booted_sleeper("netpar", &[]);
    let host = net_ns(std::process::id());
    let pns = net_ns(parent.handle().zsched_pid);
    assert_ne!(pns, host);
    for (tag, inherit) in [("netchi", true), ("netcho", false)] {
        let mut child = TestZone::with_root(
            tag,
            zones::zone::Brand::Sparse,
            Some(parent.spec.root.join(tag)),
        );
        zones_linux::runtime::linux::install::sparse(&child.spec.root, tag).unwrap();
        child.spec.name =
            zones::zone::ZoneName::new(&format!("{}.{tag}", parent.spec.name)).unwrap();
        child.spec.parent = Some(parent.handle().clone());
        if inherit {
            child.set("ip4", Value::Str("inherit".into()));
        }
        child.ready().expect("child ready");
        let cns = net_ns(child.handle().zsched_pid);
        assert_ne!(cns, host, "{tag}: a nested zone got the host's network");
        assert_eq!(cns == pns, inherit, "{tag}");
        child.halt();
    }
}
