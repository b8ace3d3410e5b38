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
    let mut h = Host::new(tag);
    let d = h.dir.path().display().to_string();
    h.write_conf(&format!(
        "{zone} {{\n  path = \"{d}/roots/{zone}\";\n  brand = sparse;\n  initname = \"/bin/sleep\";\n  bootargs = \"100000\";\n}}\n"
    ));
    h.halt_on_drop = vec![zone.into()];
    h.ok("zoneadm", &["-z", zone, "install"]);
    h.start_zoned();
    h.ok("zoneadm", &["-z", zone, "boot"]);
    h
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
