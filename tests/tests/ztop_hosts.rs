//! `ztop -H` across two hosts (issue 19 item 4), for real: an sshd on
//! 127.0.0.1 (a free port, a throwaway host key, a throwaway client key,
//! its own authorized_keys and known_hosts in a temporary directory) and
//! two zoned instances — two state directories, two sockets, two relative
//! cgroup roots — standing for two hosts, each running a zone. ztop runs in
//! tmux with `-H root@127.0.0.1:SOCK_A -H root@127.0.0.1:SOCK_B`, and the
//! test checks on the screen that:
//!
//! * one table shows both hosts' zones, each with its HOST;
//! * a halt typed in ztop on the second host's zone reaches that zoned
//!   only (its zone halted, the first host's zone still running);
//! * stopping the second zoned marks that host unreachable while the first
//!   host's zones still show, and restarting it brings it back by itself.
//!
//! A second test gives the second host's zoned a jail.conf naming a zone,
//! `charlie`, installed but not booted, that the first host's file does
//! not have, and checks that:
//!
//! * ztop lists charlie as a configured zone of the second host only;
//! * a caller that is not root (uid 65534, this test binary run again as
//!   that user) asking that zoned to boot charlie by name is refused with
//!   EPERM and nothing is booted;
//! * `b` typed in ztop on charlie boots it on the second host from that
//!   host's jail.conf (ztop read none: the request names the zone and the
//!   zoned resolves it) — its own zoneadm shows it running — and the first
//!   host is untouched.
//!
//! sshd listens on 127.0.0.1 only and is killed at the end, also when the
//! test fails (guards); the hosts halt their zones and stop their zoned.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use zones_e2e::{Host, bin, require_root};

const PATIENCE: Duration = Duration::from_secs(45);

/// sshd, killed on drop.
struct Sshd {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("sshd's log:\n{}", self.log());
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn keygen(path: &Path) {
    let ok = Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "ztop-hosts-test",
            "-f",
        ])
        .arg(path)
        .status()
        .expect("ssh-keygen (apt-get install openssh-client)")
        .success();
    assert!(ok, "ssh-keygen {}", path.display());
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().unwrap().port()
}

impl Sshd {
    fn start() -> Sshd {
        let sshd = Path::new("/usr/sbin/sshd");
        assert!(
            sshd.is_file(),
            "sshd is required (apt-get install openssh-server)"
        );
        let dir = tempfile::Builder::new()
            .prefix("ztop-hosts-ssh-")
            .tempdir()
            .expect("tempdir");
        let d = dir.path().to_path_buf();
        let d = d.as_path();
        keygen(&d.join("host_key"));
        keygen(&d.join("client_key"));
        std::fs::copy(d.join("client_key.pub"), d.join("authorized_keys")).unwrap();
        // sshd's privilege separation directory (the package makes it at boot)
        std::fs::create_dir_all("/run/sshd").unwrap();
        let port = free_port();
        let conf = format!(
            "ListenAddress 127.0.0.1:{port}\n\
             HostKey {d}/host_key\n\
             PidFile none\n\
             AuthorizedKeysFile {d}/authorized_keys\n\
             StrictModes no\n\
             PubkeyAuthentication yes\n\
             PasswordAuthentication no\n\
             KbdInteractiveAuthentication no\n\
             PermitRootLogin prohibit-password\n\
             UsePAM no\n\
             AllowTcpForwarding local\n\
             AllowStreamLocalForwarding local\n\
             X11Forwarding no\n\
             LogLevel VERBOSE\n",
            d = d.display()
        );
        std::fs::write(d.join("sshd_config"), conf).unwrap();
        let log = std::fs::File::create(d.join("sshd.log")).unwrap();
        let child = Command::new(sshd)
            .arg("-f")
            .arg(d.join("sshd_config"))
            .args(["-D", "-e"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn sshd");
        let mut s = Sshd { child, port, dir };
        let t0 = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(st)) = s.child.try_wait() {
                panic!("sshd exited ({st}): {}", s.log());
            }
            assert!(t0.elapsed() < PATIENCE, "sshd does not listen: {}", s.log());
            std::thread::sleep(Duration::from_millis(50));
        }
        // the host key ztop's ssh must find, and nothing else
        let pubkey = std::fs::read_to_string(d.join("host_key.pub")).unwrap();
        std::fs::write(
            d.join("known_hosts"),
            format!("[127.0.0.1]:{port} {pubkey}"),
        )
        .unwrap();
        s.assert_loopback_only();
        s
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }

    /// No listening socket of sshd's on anything but 127.0.0.1.
    fn assert_loopback_only(&self) {
        let pid = self.child.id();
        let inodes: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
            .unwrap()
            .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
            .filter_map(|l| {
                let l = l.to_string_lossy().into_owned();
                Some(
                    l.strip_prefix("socket:[")?
                        .trim_end_matches(']')
                        .to_string(),
                )
            })
            .collect();
        assert!(!inodes.is_empty(), "sshd has no socket");
        for table in ["tcp", "tcp6"] {
            let text = std::fs::read_to_string(format!("/proc/{pid}/net/{table}")).unwrap();
            for line in text.lines().skip(1) {
                let f: Vec<&str> = line.split_whitespace().collect();
                // local address, state 0A = LISTEN, inode
                if f.len() > 9 && f[3] == "0A" && inodes.iter().any(|i| i == f[9]) {
                    assert_eq!(
                        f[1].split(':').next(),
                        Some("0100007F"),
                        "sshd listens beyond 127.0.0.1: {line}"
                    );
                }
            }
        }
    }

    /// ztop's ssh options: this sshd, this key, these known hosts only.
    fn ztop_options(&self) -> String {
        let d = self.dir.path().display();
        [
            format!("Port={}", self.port),
            format!("IdentityFile={d}/client_key"),
            "IdentitiesOnly=yes".into(),
            format!("UserKnownHostsFile={d}/known_hosts"),
            "GlobalKnownHostsFile=/dev/null".into(),
            "StrictHostKeyChecking=yes".into(),
            "ConnectTimeout=10".into(),
        ]
        .iter()
        .map(|o| format!(" --ssh-option {o}"))
        .collect()
    }
}

/// A tmux session, killed (with ztop and its ssh children) on drop.
struct Session(String);

impl Drop for Session {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.0])
            .status();
    }
}

impl Session {
    fn start(name: &str, cmd: &str) -> Session {
        let ok = Command::new("tmux")
            .args(["-V"])
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(ok, "tmux is required for this test (apt-get install tmux)");
        let s = Session(name.into());
        let cmd = format!("{cmd}; echo EXITED:$?; sleep 600");
        let ok = Command::new("tmux")
            .args([
                "new-session",
                "-d",
                "-s",
                name,
                "-x",
                "140",
                "-y",
                "40",
                &cmd,
            ])
            .status()
            .expect("tmux new-session")
            .success();
        assert!(ok, "tmux new-session");
        s
    }

    fn capture(&self) -> String {
        let o = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.0])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// A key by tmux's name (`Enter`, `Escape`).
    fn named(&self, k: &str) {
        let ok = Command::new("tmux")
            .args(["send-keys", "-t", &self.0, k])
            .status()
            .unwrap()
            .success();
        assert!(ok);
        std::thread::sleep(Duration::from_millis(300));
    }

    fn keys(&self, k: &str) {
        let ok = Command::new("tmux")
            .args(["send-keys", "-t", &self.0, "-l", k])
            .status()
            .unwrap()
            .success();
        assert!(ok);
        std::thread::sleep(Duration::from_millis(300));
    }

    /// Wait until the pane satisfies `ok`; the pane then.
    fn wait(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let t0 = Instant::now();
        loop {
            let p = self.capture();
            if ok(&p) {
                return p;
            }
            assert!(
                t0.elapsed() < PATIENCE,
                "the pane never showed {what}; it shows:\n{p}"
            );
            std::thread::sleep(Duration::from_millis(150));
        }
    }
}

/// The table row of `zone` on `host` (HOST, ID, NAME, STATUS…).
fn row<'a>(pane: &'a str, host: &str, zone: &str) -> Option<&'a str> {
    pane.lines().take_while(|l| !l.starts_with('┌')).find(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        f.len() > 3 && f[0] == host && f[2] == zone
    })
}

fn status(pane: &str, host: &str, zone: &str) -> Option<String> {
    row(pane, host, zone).map(|l| l.split_whitespace().nth(3).unwrap_or("").to_string())
}

/// The header line of `host`.
fn host_line<'a>(pane: &'a str, host: &str) -> Option<&'a str> {
    pane.lines()
        .take(6)
        .find(|l| l.split_whitespace().next() == Some(host))
}

/// A private host with one zone that sleeps, installed, under zoned, booted.
fn host(tag: &str, zone: &str) -> Host {
    host_with(tag, zone, &[])
}

/// A jail.conf block for a sparse zone of `h` whose init sleeps.
fn block(h: &Host, zone: &str) -> String {
    let d = h.dir.path().display();
    format!(
        "{zone} {{\n  path = \"{d}/roots/{zone}\";\n  brand = sparse;\n  initname = \"/bin/sleep\";\n  bootargs = \"100000\";\n}}\n"
    )
}

/// [`host`], whose jail.conf also names `spare` zones, installed and
/// not booted.
fn host_with(tag: &str, zone: &str, spare: &[&str]) -> Host {
    let mut h = Host::new(tag);
    let mut conf = block(&h, zone);
    for z in spare {
        conf.push_str(&block(&h, z));
    }
    h.write_conf(&conf);
    h.halt_on_drop = std::iter::once(zone)
        .chain(spare.iter().copied())
        .map(String::from)
        .collect();
    h.ok("zoneadm", &["-z", zone, "install"]);
    for z in spare {
        h.ok("zoneadm", &["-z", z, "install"]);
    }
    h.start_zoned();
    h.ok("zoneadm", &["-z", zone, "boot"]);
    h
}

/// `zone`'s line in `zoneadm list -cp` of `h`, if it has one.
fn listed(h: &Host, zone: &str) -> Option<String> {
    let out = h.ok("zoneadm", &["list", "-cp"]);
    out.lines()
        .find(|l| l.split(':').nth(1) == Some(zone))
        .map(str::to_string)
}

fn running(h: &Host, zone: &str) -> bool {
    let out = h.ok("zoneadm", &["list", "-cp"]);
    out.lines().any(|l| {
        let f: Vec<&str> = l.split(':').collect();
        f.len() > 2 && f[1] == zone && f[2] == "running"
    })
}

#[test]
fn ztop_shows_and_administers_two_hosts_through_ssh() {
    require_root();
    let sshd = Sshd::start();
    let a = host("zh-a", "alpha");
    let mut b = host("zh-b", "bravo");
    assert!(running(&a, "alpha") && running(&b, "bravo"));

    let ui = sshd.dir.path().join("ztop.toml");
    std::fs::write(&ui, "").unwrap();
    let cmd = format!(
        "NO_COLOR=1 ZTOP_SSH='ssh -F /dev/null' {ztop} --ui-config {ui} -d 0.5 \
         -H root@127.0.0.1:{sa} -H root@127.0.0.1:{sb}{opts}",
        ztop = bin("ztop").display(),
        ui = ui.display(),
        sa = a.socket().display(),
        sb = b.socket().display(),
        opts = sshd.ztop_options(),
    );
    let name = format!("ztop-hosts-{}", std::process::id());
    let s = Session::start(&name, &cmd);
    let (ha, hb) = ("127.0.0.1", "127.0.0.1#2");

    // one table, both hosts' zones, each with its host; a line a host
    let pane = s.wait("both hosts' zones running", |p| {
        status(p, ha, "alpha").as_deref() == Some("running")
            && status(p, hb, "bravo").as_deref() == Some("running")
    });
    assert!(
        host_line(&pane, ha).is_some_and(|l| l.contains("connected")),
        "{pane}"
    );
    assert!(
        host_line(&pane, hb).is_some_and(|l| l.contains("connected")),
        "{pane}"
    );
    assert!(row(&pane, ha, "global").is_some() && row(&pane, hb, "global").is_some());
    assert!(
        row(&pane, ha, "bravo").is_none() && row(&pane, hb, "alpha").is_none(),
        "each zone on its own host only:\n{pane}"
    );

    // batch mode covers both hosts: JSON with a host a line and a host a row
    let mut c = Command::new(bin("ztop"));
    c.env("ZTOP_SSH", "ssh -F /dev/null")
        .env("COLUMNS", "200")
        .args(["--ui-config"])
        .arg(&ui)
        .args(["-b", "-n", "1", "--json", "-H"])
        .arg(format!("root@127.0.0.1:{}", a.socket().display()))
        .arg("-H")
        .arg(format!("root@127.0.0.1:{}", b.socket().display()))
        .args(sshd.ztop_options().split_whitespace())
        .stdin(Stdio::null());
    let o = c.output().expect("ztop -b");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON line");
    let hosts: Vec<(&str, &str)> = v["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["host"].as_str().unwrap(), h["state"].as_str().unwrap()))
        .collect();
    assert_eq!(hosts, [(ha, "connected"), (hb, "connected")], "{v}");
    let zones = v["zones"].as_array().unwrap();
    let has = |host: &str, zone: &str| {
        zones
            .iter()
            .any(|z| z["host"] == host && z["name"] == zone && z["status"] == "running")
    };
    assert!(
        has(ha, "alpha") && has(hb, "bravo") && !has(ha, "bravo"),
        "{v}"
    );

    // halt the second host's zone from ztop: the last row, h, y
    s.keys("G");
    s.keys("h");
    s.wait("the confirmation", |p| p.contains("bravo"));
    s.keys("y");
    s.wait("the halt's result", |p| {
        p.contains(&format!("{hb}/bravo: halted"))
    });
    s.wait("bravo no longer running", |p| {
        status(p, hb, "bravo").is_some_and(|st| st != "running")
    });
    assert!(!running(&b, "bravo"), "the halt reached the second zoned");
    assert!(
        running(&a, "alpha"),
        "the first host's zone was not touched"
    );
    let pane = s.capture();
    assert_eq!(
        status(&pane, ha, "alpha").as_deref(),
        Some("running"),
        "{pane}"
    );

    // the second zoned goes away: unreachable, the first host still shows
    b.stop_zoned();
    let pane = s.wait("the second host unreachable", |p| {
        host_line(p, hb).is_some_and(|l| l.contains("unreachable"))
    });
    assert_eq!(
        status(&pane, ha, "alpha").as_deref(),
        Some("running"),
        "{pane}"
    );
    assert!(
        host_line(&pane, ha).is_some_and(|l| l.contains("connected")),
        "{pane}"
    );
    assert!(row(&pane, hb, "global").is_none(), "{pane}");

    // it comes back by itself; a zone booted there shows again
    b.start_zoned();
    b.ok("zoneadm", &["-z", "bravo", "boot"]);
    s.wait("the second host back with bravo running", |p| {
        host_line(p, hb).is_some_and(|l| l.contains("connected"))
            && status(p, hb, "bravo").as_deref() == Some("running")
    });
    assert!(running(&a, "alpha"));

    // q ends ztop cleanly, and its ssh children with it
    s.keys("q");
    s.wait("ztop's exit", |p| p.contains("EXITED:0"));
    assert!(
        no_ssh_for(&a.socket()) && no_ssh_for(&b.socket()),
        "ztop left an ssh forwarding a socket behind"
    );
    drop(s);
    drop(sshd);
}

/// No ssh process forwards to `sock` any more.
fn no_ssh_for(sock: &Path) -> bool {
    let want = sock.display().to_string();
    let t0 = Instant::now();
    loop {
        let found = std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(|e| e.ok())
            .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
            .any(|c| {
                let args: Vec<String> = c
                    .split(|b| *b == 0)
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect();
                args.first().is_some_and(|p| p.ends_with("ssh"))
                    && args.iter().any(|a| a.ends_with(&format!(":{want}")))
            });
        if !found {
            return true;
        }
        if t0.elapsed() > Duration::from_secs(5) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The user whose by-name boot zoned must refuse (the API's "Who may do
/// what"): the same uid 65534 the escape tests use.
const NOBODY: u32 = 65534;

/// Run this test binary again as uid 65534 to ask the zoned on `sock` to
/// boot `zone` by name; what it answered (`ok ID` or `errno N: TEXT`).
fn boot_by_name_as_nobody(sock: &Path, zone: &str) -> String {
    use std::os::unix::process::CommandExt;
    let o = Command::new(std::env::current_exe().expect("the test binary"))
        .args([
            "--exact",
            "boot_by_name_as_the_caller",
            "--ignored",
            "--nocapture",
        ])
        .env("ZTOP_HOSTS_SOCKET", sock)
        .env("ZTOP_HOSTS_ZONE", zone)
        .uid(NOBODY)
        .gid(NOBODY)
        .stdin(Stdio::null())
        .output()
        .expect("run the test binary as uid 65534");
    let out = String::from_utf8_lossy(&o.stdout);
    out.lines()
        .find_map(|l| l.strip_prefix("ANSWER:"))
        .unwrap_or_else(|| {
            panic!(
                "no answer from the helper ({}): {out}{}",
                o.status,
                String::from_utf8_lossy(&o.stderr)
            )
        })
        .to_string()
}

/// Not a test of its own: [`boot_by_name_as_nobody`] runs it as uid
/// 65534. It asks the zoned on $ZTOP_HOSTS_SOCKET to boot
/// $ZTOP_HOSTS_ZONE by name and prints the answer.
#[test]
#[ignore = "run by ztop_boots_a_configured_zone_on_its_own_host as uid 65534"]
fn boot_by_name_as_the_caller() {
    use zones::api::ZoneApi;
    let sock = std::env::var_os("ZTOP_HOSTS_SOCKET").expect("$ZTOP_HOSTS_SOCKET");
    let zone = std::env::var("ZTOP_HOSTS_ZONE").expect("$ZTOP_HOSTS_ZONE");
    let rt = zones_e2e::tokio();
    let r = rt.block_on(async {
        let c = zones::api::Client::connect(Path::new(&sock))
            .await
            .expect("connect to zoned");
        // the caller is zoned's to know (SO_PEERCRED), not ours to say
        c.boot_named(
            &zones::engine::Caller::ROOT,
            &zone,
            &zones::engine::BootFrom::BOOT,
        )
        .await
    });
    match r {
        Ok(id) => println!("ANSWER:ok {id}"),
        Err(e) => println!("ANSWER:errno {}: {e}", e.errno()),
    }
}

#[test]
fn ztop_boots_a_configured_zone_on_its_own_host() {
    require_root();
    let sshd = Sshd::start();
    let a = host("zb-a", "alpha");
    let b = host_with("zb-b", "bravo", &["charlie"]);
    assert!(running(&a, "alpha") && running(&b, "bravo"));
    assert!(
        listed(&a, "charlie").is_none(),
        "only the second host configures charlie"
    );
    let before = listed(&b, "charlie").expect("charlie configured on the second host");
    assert!(before.contains(":installed:"), "{before}");

    // A caller that is not root may not boot it by name: EPERM, nothing
    // booted. (uid 65534 must reach the socket: the host's directory
    // becomes traversable, the socket is 0666.)
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(b.dir.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    }
    let said = boot_by_name_as_nobody(&b.socket(), "charlie");
    assert!(
        said.starts_with(&format!("errno {}:", libc::EPERM)),
        "uid {NOBODY}'s boot by name: {said}"
    );
    assert_eq!(listed(&b, "charlie").as_deref(), Some(before.as_str()));

    let ui = sshd.dir.path().join("ztop.toml");
    std::fs::write(&ui, "").unwrap();
    // ztop reads no jail.conf naming charlie: not A's, and $ZONES_CONFIG
    // points at nothing (only an embedded engine would read it).
    let cmd = format!(
        "NO_COLOR=1 ZONES_CONFIG=/nonexistent/jail.conf ZTOP_SSH='ssh -F /dev/null' {ztop} \
         --ui-config {ui} -d 0.5 -H root@127.0.0.1:{sa} -H root@127.0.0.1:{sb}{opts}",
        ztop = bin("ztop").display(),
        ui = ui.display(),
        sa = a.socket().display(),
        sb = b.socket().display(),
        opts = sshd.ztop_options(),
    );
    let name = format!("ztop-boot-{}", std::process::id());
    let s = Session::start(&name, &cmd);
    let (ha, hb) = ("127.0.0.1", "127.0.0.1#2");

    // charlie is the second host's configured zone (id -), and only its
    let pane = s.wait("charlie configured on the second host", |p| {
        status(p, hb, "charlie").as_deref() == Some("installed")
            && status(p, ha, "alpha").as_deref() == Some("running")
    });
    assert!(
        row(&pane, hb, "charlie").is_some_and(|l| l.split_whitespace().nth(1) == Some("-")),
        "{pane}"
    );
    assert!(row(&pane, ha, "charlie").is_none(), "{pane}");

    // select it (filter, then the last row) and boot it: b
    s.keys("/charlie");
    s.named("Enter");
    s.keys("G");
    s.keys("b");
    let pane = s.wait("the boot's result", |p| {
        p.contains(&format!("{hb}/charlie: booted in"))
            || p.contains(&format!("{hb}/charlie: boot failed"))
    });
    assert!(
        pane.contains(&format!("{hb}/charlie: booted in")),
        "ztop's b on the second host's charlie:\n{pane}"
    );
    s.wait("charlie running on the second host", |p| {
        status(p, hb, "charlie").as_deref() == Some("running")
    });
    // the second host's own zoneadm sees it; the first host has no charlie
    assert!(running(&b, "charlie"), "charlie runs on the second host");
    assert!(
        listed(&a, "charlie").is_none(),
        "the first host got no charlie"
    );
    assert!(running(&a, "alpha") && running(&b, "bravo"));

    s.keys("q");
    s.wait("ztop's exit", |p| p.contains("EXITED:0"));
    drop(s);
    drop(sshd);
}
