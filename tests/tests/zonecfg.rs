//! zonecfg end to end (issue 18): a configuration typed at zonecfg's
//! prompt in tmux (with completion by Tab), exported, deleted, imported
//! again with `-f`, gives the same `export` bytes; the zone it describes
//! installs (sparse), boots, and `zoneadm list -v` shows it running.
//!
//! Everything is private: the host's jail.conf only includes its own
//! jail.conf.d (where zonecfg writes), a state directory, a relative
//! cgroup root, a tmux server on its own socket; the guards halt the
//! zone and kill the tmux server also when the test fails.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use zones_e2e::{Host, bin};

/// A tmux server of the test's own, killed when dropped.
struct Tmux {
    socket: PathBuf,
    session: String,
    /// `zonecfg:ZONE`, how every prompt starts.
    prompt_prefix: String,
}

impl Tmux {
    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.arg("-S").arg(&self.socket);
        c
    }

    fn start(socket: PathBuf, zone: &str, env: &[(&str, String)], program: &[String]) -> Tmux {
        let t = Tmux {
            socket,
            session: "zonecfg".into(),
            prompt_prefix: format!("zonecfg:{zone}"),
        };
        let mut c = t.cmd();
        c.args([
            "new-session",
            "-d",
            "-x",
            "160",
            "-y",
            "50",
            "-s",
            &t.session,
        ]);
        for (k, v) in env {
            c.arg("-e").arg(format!("{k}={v}"));
        }
        c.args(program);
        let st = c.status().expect("run tmux (apt-get install tmux)");
        assert!(st.success(), "tmux new-session failed");
        t
    }

    fn screen(&self) -> String {
        let o = self
            .cmd()
            .args(["capture-pane", "-p", "-t", &self.session])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// Type `text` (literally), then the keys `keys` (`Tab`, `Enter`).
    fn send(&self, text: &str, keys: &[&str]) {
        if !text.is_empty() {
            let st = self
                .cmd()
                .args(["send-keys", "-t", &self.session, "-l", text])
                .status()
                .unwrap();
            assert!(st.success());
        }
        for k in keys {
            let st = self
                .cmd()
                .args(["send-keys", "-t", &self.session, k])
                .status()
                .unwrap();
            assert!(st.success());
        }
    }

    /// Wait until the screen's last non-empty line is `want`.
    fn wait_last_line(&self, want: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let s = self.screen();
            let last = s.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("");
            if last.trim_end() == want.trim_end() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the screen never ended with {want:?}:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    /// How many of zonecfg's prompts the whole pane (history too) shows:
    /// each command answered adds one.
    fn prompts(&self) -> usize {
        let o = self
            .cmd()
            .args(["capture-pane", "-p", "-S", "-", "-t", &self.session])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter_map(|l| l.strip_prefix(&self.prompt_prefix))
            .filter(|rest| {
                rest.starts_with('>')
                    || rest
                        .split(' ')
                        .next()
                        .is_some_and(|w| w.starts_with(':') && w.ends_with('>'))
            })
            .count()
    }

    /// Type a command, press Enter, wait until zonecfg has answered it
    /// (a new prompt, `prompt`): nothing is typed ahead of the editor.
    fn line(&self, text: &str, prompt: &str) {
        let before = self.prompts();
        self.send(text, &["Enter"]);
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.prompts() <= before {
            assert!(
                Instant::now() < deadline,
                "no prompt after {text:?}:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(30));
        }
        self.wait_last_line(prompt);
    }

    fn alive(&self) -> bool {
        self.cmd()
            .args(["has-session", "-t", &self.session])
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self
            .cmd()
            .arg("kill-server")
            .stderr(std::process::Stdio::null())
            .status();
        let _ = std::fs::remove_file(&self.socket);
    }
}

fn zonecfg(h: &Host, conf_dir: &Path, args: &[&str]) -> std::process::Output {
    let mut c = Command::new(bin("zonecfg"));
    h.env(&mut c);
    c.env("ZONES_CONF_DIR", conf_dir)
        .stdin(std::process::Stdio::null())
        .args(args);
    c.output().expect("run zonecfg")
}

fn ok(o: std::process::Output, what: &str) -> String {
    assert!(
        o.status.success(),
        "{what}: exit {:?}: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).expect("utf-8")
}

#[test]
fn typed_in_tmux_exported_reimported_byte_identical_and_boots() {
    let mut h = Host::new("zonecfg");
    let d = h.dir.path().to_path_buf();
    let conf_dir = d.join("jail.conf.d");
    std::fs::create_dir_all(&conf_dir).unwrap();
    h.write_conf(".include \"jail.conf.d/*.conf\";\n");
    let zone = format!("zc{}", std::process::id());
    h.halt_on_drop = vec![zone.clone()];
    let zonepath = d.join("roots").join(&zone);
    let zp = zonepath.display().to_string();

    // Typed at the prompt, in a terminal.
    let env = [
        ("ZONES_CONF_DIR", conf_dir.display().to_string()),
        ("ZONES_STATE_DIR", d.join("state").display().to_string()),
        ("ZONES_CGROUP_ROOT", h.cgroup_root.clone()),
        ("ZONED_SOCKET", h.socket().display().to_string()),
        ("ZONES_CONFIG", h.conf().display().to_string()),
        ("TERM", "xterm".to_string()),
    ];
    let tmux = Tmux::start(
        d.join("tmux.sock"),
        &zone,
        &env,
        &[
            bin("zonecfg").display().to_string(),
            "-z".into(),
            zone.clone(),
        ],
    );
    let top = format!("zonecfg:{zone}>");
    tmux.wait_last_line(&top);
    tmux.line("info", &top);
    assert!(
        tmux.screen()
            .contains(&format!("zonecfg:{zone}: No such zone configured")),
        "{}",
        tmux.screen()
    );
    tmux.line("create -t SYSsparse", &top);
    tmux.line(&format!("set zonepath={zp}"), &top);
    tmux.line("set bootargs=100000", &top);
    // Completion: `add capped-m<Tab>` is `add capped-memory `.
    tmux.send("add capped-m", &["Tab"]);
    tmux.wait_last_line(&format!("{top} add capped-memory"));
    tmux.line("", &format!("zonecfg:{zone}:capped-memory>"));
    let cm = format!("zonecfg:{zone}:capped-memory>");
    tmux.line("set physical=256M", &cm);
    tmux.line("end", &top);
    tmux.line("add rctl", &format!("zonecfg:{zone}:rctl>"));
    let rc = format!("zonecfg:{zone}:rctl>");
    tmux.line("set name=zone.max-processes", &rc);
    tmux.line("add value (priv=privileged,limit=200,action=deny)", &rc);
    tmux.line("end", &top);
    tmux.line("add attr", &format!("zonecfg:{zone}:attr>"));
    let at = format!("zonecfg:{zone}:attr>");
    tmux.line("set name=initname", &at);
    tmux.line("set type=string", &at);
    tmux.line("set value=/bin/sleep", &at);
    tmux.line("end", &top);
    // A property with no Linux meaning is named by verify, and removed.
    tmux.line("set pool=pool_default", &top);
    tmux.send("veri", &["Tab"]);
    tmux.wait_last_line(&format!("{top} verify"));
    tmux.line("", &top);
    assert!(
        tmux.screen()
            .contains("pool pool_default: has no Linux meaning"),
        "verify names pool:\n{}",
        tmux.screen()
    );
    tmux.line("clear pool", &top);
    tmux.line("verify", &top);
    tmux.line("commit", &top);
    tmux.send("exit", &["Enter"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while tmux.alive() {
        assert!(Instant::now() < deadline, "zonecfg did not exit");
        std::thread::sleep(Duration::from_millis(30));
    }
    let file = conf_dir.join(format!("{zone}.conf"));
    let text = std::fs::read_to_string(&file).expect("commit wrote the zone's file");
    assert!(
        text.contains("capped-memory.physical = \"256M\";")
            && text.contains("zone.max-processes = \"200\";")
            && text.contains("initname = \"/bin/sleep\";")
            && !text.contains("pool"),
        "{text}"
    );

    // Export, delete, import, export: the same bytes.
    let first = ok(zonecfg(&h, &conf_dir, &["-z", &zone, "export"]), "export");
    assert!(first.starts_with("create -b\n"), "{first}");
    let saved = d.join("export.cfg");
    std::fs::write(&saved, &first).unwrap();
    ok(
        zonecfg(&h, &conf_dir, &["-z", &zone, "delete -F"]),
        "delete -F",
    );
    assert!(!file.exists(), "delete removed the file");
    let o = zonecfg(&h, &conf_dir, &["-z", &zone, "info"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .starts_with(&format!("zonecfg:{zone}: No such zone configured")),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    ok(
        zonecfg(
            &h,
            &conf_dir,
            &["-z", &zone, "-f", &saved.display().to_string()],
        ),
        "zonecfg -f",
    );
    let second = ok(zonecfg(&h, &conf_dir, &["-z", &zone, "export"]), "export");
    assert_eq!(first, second, "export after re-import differs");

    // Another create without -F is refused as illumos refuses it.
    let o = zonecfg(&h, &conf_dir, &["-z", &zone, "create"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        format!("zonecfg:{zone}: Zone {zone} already exists; use create -F\n")
    );

    // The zone it describes installs, boots and runs.
    h.ok("zoneadm", &["-z", &zone, "install"]);
    h.ok("zoneadm", &["-z", &zone, "boot"]);
    let list = h.ok("zoneadm", &["list", "-v"]);
    let row = list
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some(zone.as_str()))
        .unwrap_or_else(|| panic!("{zone} not in zoneadm list -v:\n{list}"));
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cols[2], "running", "{row}");
    assert_eq!(cols[3], zp, "{row}");
    assert_eq!(cols[4], "sparse", "{row}");
    // The rctl typed at the prompt is the zone's: jls shows it.
    let params = h.ok("jls", &["-j", &zone, "-n"]);
    assert!(
        params.contains("zone.max-processes=200"),
        "jls -n: {params}"
    );
    h.ok("zoneadm", &["-z", &zone, "halt"]);
    let list = h.ok("zoneadm", &["list"]);
    assert!(!list.lines().any(|l| l == zone), "{list}");
    // An installed zone is not deleted (illumos: only a configured one).
    let o = zonecfg(&h, &conf_dir, &["-z", &zone, "delete -F"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("is installed"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(file.exists());
    h.ok("zoneadm", &["-z", &zone, "uninstall", "-F"]);
    ok(
        zonecfg(&h, &conf_dir, &["-z", &zone, "delete -F"]),
        "delete -F",
    );
    assert!(!file.exists());
}

/// The command line as illumos' zonecfg answers it: usage errors exit 2
/// with the `usage:` block; a failing command in a file names its line,
/// exits 1 and commits nothing; a zone configured in jail.conf itself is
/// not written a second time by zonecfg.
#[test]
fn command_line_usage_files_and_zones_configured_elsewhere() {
    let h = Host::new("zonecfgcli");
    let d = h.dir.path().to_path_buf();
    let conf_dir = d.join("jail.conf.d");
    std::fs::create_dir_all(&conf_dir).unwrap();
    h.write_conf(&format!(
        "handmade {{ path = \"{}/handmade\"; }}\n.include \"jail.conf.d/*.conf\";\n",
        d.display()
    ));

    let o = zonecfg(&h, &conf_dir, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        format!(
            "zonecfg: no zone specified\n{}\n",
            zones_tools::tool::zonecfg::USAGE
        )
    );
    let o = zonecfg(&h, &conf_dir, &["-q", "-z", "a"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).starts_with("zonecfg: illegal option -- q\nusage:"));
    let o = zonecfg(&h, &conf_dir, &["--help"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("usage:"));
    ok(zonecfg(&h, &conf_dir, &["--version"]), "--version");

    // A file: the second line fails; nothing is committed.
    let cmds = d.join("cmds");
    std::fs::write(
        &cmds,
        "create -b; set zonepath=/z/f\nset brand=lx\ncommit\n",
    )
    .unwrap();
    let o = zonecfg(
        &h,
        &conf_dir,
        &["-z", "f", "-f", &cmds.display().to_string()],
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        format!(
            "On line 2 of {}:\nzonecfg:f: brand lx: invalid value (must be sparse or whole)\n",
            cmds.display()
        )
    );
    assert!(!conf_dir.join("f.conf").exists());
    // Without a terminal, standard input is a command file; the end of
    // it commits.
    let mut c = Command::new(bin("zonecfg"));
    h.env(&mut c);
    c.env("ZONES_CONF_DIR", &conf_dir)
        .args(["-z", "f"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    {
        use std::io::Write;
        let mut i = child.stdin.take().unwrap();
        i.write_all(b"create -t SYSsparse\nset zonepath=/z/f\n")
            .unwrap();
    }
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // zoneadm sees the zone zonecfg wrote, through jail.conf's include.
    let list = h.ok("zoneadm", &["list", "-cp"]);
    assert!(
        list.lines().any(|l| l.starts_with("-:f:configured:/z/f:")),
        "{list}"
    );

    // A zone of jail.conf itself is not zonecfg's to write.
    let o = zonecfg(&h, &conf_dir, &["-z", "handmade", "create"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        err,
        format!(
            "zonecfg:handmade: Zone handmade is configured in {} line 1, not by zonecfg: change it there\n",
            h.conf().display()
        )
    );
    assert!(!conf_dir.join("handmade.conf").exists());
}
