//! A test's own LAN, on this machine only (network.md "Testing").
//!
//! A veth pair: one end (`host_if`) stays in the host's namespace and
//! stands for a host link (a shared-IP zone's macvlans are made on it);
//! the other sits in a network namespace of the test's own, `SUBNET.1/24`
//! and `fdSUBNET::1/64`, where a peer answers. With a bridge, `host_if` is
//! a port of it and `vnet.bridge` zones join it. Everything is removed on
//! drop, the peer's processes killed; nothing ever leaves the machine (the
//! namespace has no other link).

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

static N: AtomicU32 = AtomicU32::new(0);

pub struct Lan {
    /// The peer's namespace (`ip netns` name).
    pub ns: String,
    /// The host end of the pair: the "host link".
    pub host_if: String,
    /// The peer's end, in `ns`.
    pub peer_if: String,
    /// The bridge `host_if` is a port of, when asked for.
    pub bridge: Option<String>,
    /// `10.A.B`: the LAN is `10.A.B.0/24`, the peer `10.A.B.1`.
    pub v4: String,
    /// `fd00:A:B:`: the LAN is `fd00:A:B::/64`, the peer `fd00:A:B::1`.
    pub v6: String,
    pub dir: tempfile::TempDir,
    peers: Vec<Child>,
}

fn ip(args: &[&str]) {
    let o = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        o.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&o.stderr)
    );
}

impl Lan {
    /// A LAN; `bridge`: with a bridge on the host that `host_if` is in.
    pub fn new(bridge: bool) -> Lan {
        crate::require_root();
        let k = N.fetch_add(1, Ordering::SeqCst);
        let pid = std::process::id();
        let tag = format!("{}{k}", pid % 100_000);
        let a = 20 + (k % 200) as u8;
        let b = (pid % 250) as u8;
        let lan = Lan {
            ns: format!("zones-lan-{pid}-{k}"),
            host_if: format!("zl{tag}a"),
            peer_if: format!("zl{tag}b"),
            bridge: bridge.then(|| format!("zb{tag}")),
            v4: format!("10.{a}.{b}"),
            v6: format!("fd00:{a}:{b}:"),
            dir: tempfile::tempdir().expect("tempdir"),
            peers: Vec::new(),
        };
        ip(&["netns", "add", &lan.ns]);
        ip(&[
            "link",
            "add",
            &lan.host_if,
            "type",
            "veth",
            "peer",
            "name",
            &lan.peer_if,
            "netns",
            &lan.ns,
        ]);
        let n = |args: &[&str]| {
            let mut v = vec!["-n", lan.ns.as_str()];
            v.extend_from_slice(args);
            ip(&v);
        };
        n(&["link", "set", "lo", "up"]);
        n(&[
            "addr",
            "add",
            &format!("{}.1/24", lan.v4),
            "dev",
            &lan.peer_if,
        ]);
        // The peer is the test's: it needs no duplicate detection.
        n(&[
            "addr",
            "add",
            &format!("{}:1/64", lan.v6),
            "dev",
            &lan.peer_if,
            "nodad",
        ]);
        n(&["link", "set", &lan.peer_if, "up"]);
        // The host's ends carry no address of their own, not even an IPv6
        // link-local one: the host's address list stays as it was.
        ip(&["link", "set", &lan.host_if, "addrgenmode", "none"]);
        if let Some(br) = &lan.bridge {
            ip(&["link", "add", br, "type", "bridge"]);
            ip(&["link", "set", br, "addrgenmode", "none"]);
            ip(&["link", "set", br, "up"]);
            ip(&["link", "set", &lan.host_if, "master", br]);
        }
        ip(&["link", "set", &lan.host_if, "up"]);
        lan
    }

    /// `SUBNET.host`
    pub fn addr4(&self, host: u8) -> String {
        format!("{}.{host}", self.v4)
    }

    /// `fd..::host`
    pub fn addr6(&self, host: u8) -> String {
        format!("{}:{host:x}", self.v6)
    }

    /// A command run in the peer's namespace.
    pub fn peer_command(&self, argv: &[&str]) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.ns]).args(argv);
        c
    }

    /// Run in the peer's namespace; its exit status.
    pub fn peer_run(&self, argv: &[&str]) -> std::process::Output {
        self.peer_command(argv).output().expect("ip netns exec")
    }

    /// A TCP server in the peer's namespace on `port` (IPv4 and IPv6): for
    /// every connection it reads to the end and appends "ADDR BYTES" to
    /// the file it returns. Waits until it listens.
    pub fn peer_sink(&mut self, port: u16) -> std::path::PathBuf {
        let log = self.dir.path().join(format!("sink-{port}"));
        let ready = self.dir.path().join(format!("sink-{port}.ready"));
        let script = format!(
            r#"use Socket qw(:all);
socket(S, AF_INET6, SOCK_STREAM, 0) or die "socket: $!";
setsockopt(S, SOL_SOCKET, SO_REUSEADDR, 1);
setsockopt(S, IPPROTO_IPV6, IPV6_V6ONLY, 0);
bind(S, pack_sockaddr_in6({port}, IN6ADDR_ANY)) or die "bind: $!";
listen(S, 64) or die "listen: $!";
open my $r, ">", "{ready}"; close $r;
while (my $a = accept(C, S)) {{
  my ($p, $ip) = unpack_sockaddr_in6($a);
  my $t = inet_ntop(AF_INET6, $ip); $t =~ s/^::ffff://;
  my ($n, $buf) = (0, "");
  while (my $k = sysread(C, $buf, 1 << 16)) {{ $n += $k }}
  open my $f, ">>", "{log}"; print $f "$t $n\n"; close $f; close C;
}}"#,
            log = log.display(),
            ready = ready.display()
        );
        let child = self
            .peer_command(&["perl", "-e", &script])
            .stdin(Stdio::null())
            .spawn()
            .expect("peer sink");
        self.peers.push(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !ready.exists() {
            assert!(Instant::now() < deadline, "the peer's sink never listened");
            std::thread::sleep(Duration::from_millis(20));
        }
        log
    }

    /// Every name and prefix this LAN put on the host, for diffs.
    pub fn names(&self) -> Vec<String> {
        let mut v = vec![
            self.host_if.clone(),
            self.peer_if.clone(),
            format!("{}.", self.v4),
            self.v6.clone(),
        ];
        v.extend(self.bridge.clone());
        v
    }
}

impl Drop for Lan {
    fn drop(&mut self) {
        for c in &mut self.peers {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).output();
        let _ = Command::new("ip")
            .args(["link", "del", &self.host_if])
            .output();
        if let Some(br) = &self.bridge {
            let _ = Command::new("ip").args(["link", "del", br]).output();
        }
    }
}

/// The host's network as `ip` shows it: links (names), addresses, routes
/// (both families) and neighbour entries, one line each.
pub fn host_network() -> Vec<String> {
    let mut v = Vec::new();
    for args in [
        &["-o", "link", "show"][..],
        &["-o", "addr", "show"][..],
        &["route", "show", "table", "all"][..],
        &["-6", "route", "show", "table", "all"][..],
        &["neigh", "show"][..],
    ] {
        let o = Command::new("ip").args(args).output().expect("ip");
        for l in String::from_utf8_lossy(&o.stdout).lines() {
            let l = if args[1] == "link" {
                // Only the name: flags and counters move on their own.
                l.split(':').nth(1).unwrap_or(l).trim().to_string()
            } else {
                l.trim().to_string()
            };
            v.push(format!("{} | {l}", args.join(" ")));
        }
    }
    v
}

/// Lines of `after` not in `before` and lines of `before` not in `after`
/// that mention one of `ours` (other tests on the machine make and remove
/// their own links meanwhile: those are not this test's to judge).
pub fn network_diff(before: &[String], after: &[String], ours: &[String]) -> Vec<String> {
    let mine = |l: &String| ours.iter().any(|o| l.contains(o.as_str()));
    let mut d: Vec<String> = after
        .iter()
        .filter(|l| !before.contains(l) && mine(l))
        .map(|l| format!("+ {l}"))
        .collect();
    d.extend(
        before
            .iter()
            .filter(|l| !after.contains(l) && mine(l))
            .map(|l| format!("- {l}")),
    );
    d
}
